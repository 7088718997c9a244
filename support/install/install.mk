# `make install` and `make deb`: the static binary as a management-only
# pool master on a server without Xen (docs/POOL.md section 10,
# docs/BUILDING.md).  Nothing is downloaded.
#
#   make install [DESTDIR=DIR] [PREFIX=/usr/local]
#     $(PREFIX)/sbin/xenbox                      the shipped static binary
#     $(PREFIX)/sbin/xenbox-io                   its helper (CONFIG_XB_IO): the
#                                                applets passwd, pool, ...
#     $(PREFIX)/bin/xe                           a link to it: xe (docs/XE.md), with
#     $(PREFIX)/share/bash-completion/completions/xe   its bash completion
#     $(PREFIX)/lib/systemd/system/xenbox.service  ExecStart names that path
#     /etc/xenbox/xenbox.conf                    an example; never overwritten
#     $(PREFIX)/share/doc/xenbox/                README, DAEMON, POOL, LICENSE
#   make deb
#     $(O)/images/xenbox_<VERSION>_amd64.deb     (dpkg-deb --root-owner-group)

PREFIX ?= /usr/local
INSTALL_SRC := $(TOPDIR)/support/install
INSTALL_DOCS := $(TOPDIR)/README.md $(TOPDIR)/docs/DAEMON.md $(TOPDIR)/docs/POOL.md \
	$(TOPDIR)/LICENSE
DEB_FILE := $(IMAGES_DIR)/xenbox_$(XB_VERSION)_amd64.deb

# install-to DESTDIR PREFIX
define install-to
	install -d -m 0755 $(1)$(2)/sbin $(1)$(2)/lib/systemd/system \
		$(1)/etc/xenbox $(1)$(2)/share/doc/xenbox
	install -m 0755 $(IMAGES_DIR)/xenbox $(1)$(2)/sbin/xenbox
	$(if $(XBIO_IMAGE),install -m 0755 $(XBIO_IMAGE) $(1)$(2)/sbin/xenbox-io)
	$(if $(CONFIG_XB_XE),install -d -m 0755 $(1)$(2)/bin $(1)$(2)/share/bash-completion/completions && \
		ln -sfn ../sbin/xenbox-io $(1)$(2)/bin/xe && \
		install -m 0644 $(TOPDIR)/src/xe/xe-completion.bash $(1)$(2)/share/bash-completion/completions/xe)
	sed 's|@SBINDIR@|$(2)/sbin|' $(INSTALL_SRC)/xenbox.service >$(1)$(2)/lib/systemd/system/xenbox.service
	chmod 0644 $(1)$(2)/lib/systemd/system/xenbox.service
	test -e $(1)/etc/xenbox/xenbox.conf || \
		install -m 0644 $(INSTALL_SRC)/xenbox.conf $(1)/etc/xenbox/xenbox.conf
	install -m 0644 $(INSTALL_DOCS) $(1)$(2)/share/doc/xenbox/
endef

install: $(IMAGES_DIR)/xenbox $(XBIO_IMAGE)
	$(Q)$(call install-to,$(DESTDIR),$(PREFIX))
	@echo "installed in $(DESTDIR)$(PREFIX) (and $(DESTDIR)/etc/xenbox)"

deb: $(DEB_FILE)

$(DEB_FILE): $(IMAGES_DIR)/xenbox $(XBIO_IMAGE) $(INSTALL_SRC)/mkdeb.sh $(INSTALL_SRC)/xenbox.service \
		$(INSTALL_SRC)/xenbox.conf $(INSTALL_SRC)/postinst $(INSTALL_SRC)/prerm \
		$(INSTALL_SRC)/postrm $(INSTALL_DOCS) $(TOPDIR)/VERSION
	$(Q)rm -rf $(O)/deb
	$(Q)$(call install-to,$(O)/deb/root,/usr)
	$(Q)$(INSTALL_SRC)/mkdeb.sh $(O)/deb/root $(XB_VERSION) $@
	@echo "$@"

.PHONY: install deb
