# System images: real Xen + a Linux dom0 with our own userland, for QEMU
# (tests/system) and later the USB image.  docs/SYSTEM_TESTS.md.
#
#   make dom0-initramfs     $(IMAGES_DIR)/dom0-initramfs.cpio.gz
#   make guest-initramfs    $(IMAGES_DIR)/guest-initramfs.cpio.gz
#   make system-images      the above + xen, vmlinux (all QEMU needs)
#   make system-check       system-images, then pytest tests/system
#
# The dom0 initramfs holds busybox (package/busybox), xenbox, xenstored,
# xenconsoled, the xenstore client, the modules listed in
# board/<board>/dom0-modules (package/linux), the overlay rootfs/dom0/
# (our /init, /etc) and the test guest (its kernel, the same as dom0's, and
# its initramfs) under /usr/share/xenbox/guest/.  Archives are made without
# root (cpio -R 0:0, no device nodes: /init mounts devtmpfs) and are
# reproducible (sorted, mtimes at SOURCE_DATE_EPOCH, gzip -n).
#
# None of this is in `all`.

XB_BOARD_NAME := $(patsubst "%",%,$(CONFIG_XB_BOARD))
BOARD_DIR     := $(TOPDIR)/board/$(XB_BOARD_NAME)
SYS_DIR       := $(BUILD_DIR)/system

SYS_DOM0_CPIO  := $(IMAGES_DIR)/dom0-initramfs.cpio.gz
SYS_GUEST_CPIO := $(IMAGES_DIR)/guest-initramfs.cpio.gz

# Put the test guest into the dom0 initramfs (8 MB: its kernel).
SYS_DOM0_GUEST ?= y
# Which images of the kernel go with it, from $(IMAGES_DIR): vmlinuz (the
# XZ bzImage, as distributions ship kernels) and/or vmlinux.gz (gzip'd
# ELF; libxenguest builds the domain from it somewhat faster under TCG,
# for +11 MB of initramfs).
SYS_GUEST_KERNELS ?= vmlinuz

# ---- Xen tools ------------------------------------------------------------
# xenstored, xenconsoled and the xenstore client come from package/xen;
# /init writes dom0's entries with the client.
ifeq ($(CONFIG_XB_PACKAGE_XEN_DAEMONS),y)
# tests/system/xs_watch_test.c: a watch through the static libxenstore.
$(SYS_DIR)/xs-watch-test: $(TOPDIR)/tests/system/xs_watch_test.c $(XEN_DIR)/.stamp_installed
	@mkdir -p $(@D)
	@echo "  CC      tests/system/xs_watch_test.c"
	$(Q)$(TARGET_CC) $(TARGET_CFLAGS) -Wall -I$(STAGING_DIR)/include $(XB_TARGET_INCLUDES) \
		$(TARGET_LDFLAGS) -s -o $@ $< $(STAGING_DIR)/lib/libxenstore.a \
		$(STAGING_DIR)/lib/libxentoolcore.a -lpthread

SYS_XEN_TOOLS := $(IMAGES_DIR)/xenbox $(XBIO_IMAGE) $(IMAGES_DIR)/xen-tools/xenstored \
	$(IMAGES_DIR)/xen-tools/xenconsoled $(XEN_XENSTORE_CLIENT) \
	$(SYS_DIR)/xs-watch-test
else
SYS_XEN_TOOLS := sys-no-xen-daemons
sys-no-xen-daemons:
	@echo "error: the dom0 initramfs needs xenstored and xenconsoled:" >&2
	@echo "       enable the Xen backend and CONFIG_XB_PACKAGE_XEN_DAEMONS" >&2
	@exit 1
.PHONY: sys-no-xen-daemons
endif

# ---- Helpers ---------------------------------------------------------------
# $(call sys-busybox,ROOT): busybox and its applet links (relative, so the
# tree is right wherever it is unpacked; never `busybox --install` here).
define sys-busybox
	$(Q)mkdir -p $(1)/bin $(1)/sbin $(1)/usr/bin $(1)/usr/sbin
	$(Q)cp $(BUSYBOX_BIN) $(1)/bin/busybox
	$(Q)while read -r l; do \
		case $$l in \
		/bin/*) t=busybox ;; \
		/sbin/*) t=../bin/busybox ;; \
		/usr/bin/*|/usr/sbin/*) t=../../bin/busybox ;; \
		*) echo "busybox: unexpected link $$l" >&2; exit 1 ;; \
		esac; \
		ln -sfn $$t $(1)$$l; \
	done <$(BUSYBOX_LINKS)
endef

# $(call sys-modules,ROOT,SET): the modules of a set, flat, with load-order.
define sys-modules
	$(Q)mkdir -p $(1)/lib/modules
	$(Q)cp $(IMAGES_DIR)/modules/$(2)/*.ko $(IMAGES_DIR)/modules/$(2)/load-order $(1)/lib/modules/
endef

# $(call sys-cpio,ROOT,OUT): a reproducible gzip'd newc archive, no root.
define sys-cpio
	$(Q)find $(1) -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} +
	$(Q)cd $(1) && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | \
		cpio -o -H newc -R 0:0 --reproducible --quiet | gzip -9n >$(2).tmp
	$(Q)mv $(2).tmp $(2)
	@echo "  IMAGE   $(2) ($$(stat -c %s $(2)) bytes)"
endef

SYS_DOM0_OVERLAY  := $(shell find $(TOPDIR)/rootfs/dom0 -type f 2>/dev/null)
SYS_GUEST_OVERLAY := $(shell find $(TOPDIR)/rootfs/guest -type f 2>/dev/null)

# ---- The test guest ----------------------------------------------------------
$(SYS_GUEST_CPIO): $(BUSYBOX_BIN) $(IMAGES_DIR)/modules/guest/load-order \
		$(SYS_GUEST_OVERLAY) $(TOPDIR)/board/board.mk
	@echo "  ROOTFS  guest"
	$(Q)rm -rf $(SYS_DIR)/guest && mkdir -p $(SYS_DIR)/guest
	$(call sys-busybox,$(SYS_DIR)/guest)
	$(call sys-modules,$(SYS_DIR)/guest,guest)
	$(Q)mkdir -p $(addprefix $(SYS_DIR)/guest/,dev proc sys tmp)
	$(Q)cp -a $(TOPDIR)/rootfs/guest/. $(SYS_DIR)/guest/
	$(call sys-cpio,$(SYS_DIR)/guest,$@)

# ---- dom0 ----------------------------------------------------------------------
SYS_DOM0_DEPS := $(BUSYBOX_BIN) $(IMAGES_DIR)/modules/dom0/load-order $(SYS_XEN_TOOLS) \
	$(SYS_DOM0_OVERLAY) $(TOPDIR)/board/board.mk $(XE_INSTALL_DEPS) \
	$(if $(filter y,$(SYS_DOM0_GUEST)),$(SYS_GUEST_CPIO) $(addprefix $(IMAGES_DIR)/,$(SYS_GUEST_KERNELS)))

$(SYS_DOM0_CPIO): $(SYS_DOM0_DEPS)
	@echo "  ROOTFS  dom0"
	$(Q)rm -rf $(SYS_DIR)/dom0 && mkdir -p $(SYS_DIR)/dom0
	$(call sys-busybox,$(SYS_DIR)/dom0)
	$(call sys-modules,$(SYS_DIR)/dom0,dom0)
	$(Q)mkdir -p $(addprefix $(SYS_DIR)/dom0/,dev proc sys run tmp var root \
		usr/lib/xenbox/tests usr/share/xenbox)
	$(Q)cp $(IMAGES_DIR)/xenbox $(SYS_DIR)/dom0/usr/sbin/xenbox
	$(if $(XBIO_IMAGE),$(Q)cp $(XBIO_IMAGE) $(SYS_DIR)/dom0/usr/sbin/xenbox-io)
	$(if $(CONFIG_XB_XE),$(call xe-install,$(SYS_DIR)/dom0))
	$(Q)cp $(IMAGES_DIR)/xen-tools/xenstored $(IMAGES_DIR)/xen-tools/xenconsoled \
		$(SYS_DIR)/dom0/usr/sbin/
	$(Q)cp $(XEN_XENSTORE_CLIENT) $(SYS_DIR)/dom0/usr/bin/xenstore
	$(Q)for c in $(XEN_XENSTORE_COMMANDS); do ln -sfn xenstore $(SYS_DIR)/dom0/usr/bin/xenstore-$$c; done
	$(Q)cp $(SYS_DIR)/xs-watch-test $(SYS_DIR)/dom0/usr/lib/xenbox/tests/
ifeq ($(SYS_DOM0_GUEST),y)
	$(Q)mkdir -p $(SYS_DIR)/dom0/usr/share/xenbox/guest
	$(Q)cp $(addprefix $(IMAGES_DIR)/,$(SYS_GUEST_KERNELS)) $(SYS_DIR)/dom0/usr/share/xenbox/guest/
	$(Q)cp $(SYS_GUEST_CPIO) $(SYS_DIR)/dom0/usr/share/xenbox/guest/initramfs.cpio.gz
endif
	$(Q)cp -a $(TOPDIR)/rootfs/dom0/. $(SYS_DIR)/dom0/
	$(call sys-cpio,$(SYS_DIR)/dom0,$@)

dom0-initramfs: $(SYS_DOM0_CPIO)
guest-initramfs: $(SYS_GUEST_CPIO)
system-images: $(IMAGES_DIR)/xen $(IMAGES_DIR)/vmlinux $(SYS_DOM0_CPIO)

# QEMU and cpio come from support/deps.sh.  SYSTEM_TESTS_ARGS: extra
# pytest arguments (e.g. -k boot, -x, -s).
system-check: system-images
	$(Q)XB_SYSTEM_IMAGES=$(IMAGES_DIR) python3 -m pytest --version >/dev/null 2>&1 \
		&& py=python3 || py=/usr/bin/python3; \
	cd $(TOPDIR) && XB_SYSTEM_IMAGES=$(IMAGES_DIR) $$py -m pytest -q -m system \
		tests/system $(SYSTEM_TESTS_ARGS)

.PHONY: dom0-initramfs guest-initramfs system-images system-check
