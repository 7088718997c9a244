# `xe` (docs/XE.md): an applet of xenbox-io, a client of the API through
# pool/client.c, over TLS (the glue, server/tls.c, and mbedTLS linked
# into xenbox-io for -s HOST).
xb-io-srcs-$(CONFIG_XB_XE) += xe/xe.c pool/client.c http/http.c rpc/json.c \
	rpc/value.c server/tls.c lib/certfp.c lib/log.c lib/sha256.c lib/base64.c
xb-io-libs-$(CONFIG_XB_XE) += mbedtls
xb-gen-hdrs-$(CONFIG_XB_XE) += $(O)/gen/xe_fields.h

# The fields xe shows, generated from the datamodel (support/gen-xe-fields.c):
# a host tool linked with model.c's tables; the handlers those tables name
# are stubs made from `nm -u` (the tool reads the tables, calls nothing).
XE_GEN_DIR := $(HOST_DIR)/build/xe-gen
$(XE_GEN_DIR)/model.o: $(TOPDIR)/src/api/model.c $(AUTOHEADER) $(O)/gen/dm_fields.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  xe-gen model.c"
	$(Q)$(HOST_CC) -std=gnu11 -O0 -I$(TOPDIR)/src -I$(O)/gen -include $(AUTOHEADER) -c -o $@ $<
$(XE_GEN_DIR)/stubs.c: $(XE_GEN_DIR)/model.o
	$(Q)nm -u $< | awk '$$1 == "U" { print "void " $$2 "(void); void " $$2 "(void) {}" }' >$@.tmp
	$(Q)mv $@.tmp $@
$(XE_GEN_DIR)/gen-xe-fields: $(TOPDIR)/support/gen-xe-fields.c $(XE_GEN_DIR)/model.o $(XE_GEN_DIR)/stubs.c
	@echo "  HOSTLD  gen-xe-fields"
	$(Q)$(HOST_CC) -std=gnu11 -O0 -Wall -I$(TOPDIR)/src -I$(O)/gen -include $(AUTOHEADER) -o $@ \
		$< $(XE_GEN_DIR)/model.o $(XE_GEN_DIR)/stubs.c
$(O)/gen/xe_fields.h: $(XE_GEN_DIR)/gen-xe-fields
	@mkdir -p $(dir $@)
	@echo "  GEN     $(notdir $@)"
	$(Q)$< >$@.tmp && mv $@.tmp $@

# xe-install ROOT: the `xe` link to xenbox-io and the bash completion, in
# a root filesystem (the USB image's, the system tests' dom0).
XE_INSTALL_DEPS := $(if $(CONFIG_XB_XE),$(TOPDIR)/src/xe/xe-completion.bash)
define xe-install
	$(Q)mkdir -p $(1)/usr/bin $(1)/usr/share/bash-completion/completions && \
		ln -sfn ../sbin/xenbox-io $(1)/usr/bin/xe && \
		cp $(TOPDIR)/src/xe/xe-completion.bash $(1)/usr/share/bash-completion/completions/xe
endef
