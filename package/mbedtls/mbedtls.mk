# mbedTLS 3.6: our own configuration (xb_mbedtls_config.h), library/*.c
# compiled by us into the usual three archives, target and host flavours.
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_MBEDTLS),y)

MBEDTLS_VERSION  := $(call xb-upstream,mbedtls)
MBEDTLS_SOURCE   := $(call dl-file,mbedtls)
MBEDTLS_DIR      := $(BUILD_DIR)/mbedtls-$(MBEDTLS_VERSION)
MBEDTLS_HOST_DIR := $(HOST_DIR)/build/mbedtls-$(MBEDTLS_VERSION)
MBEDTLS_PKGDIR   := $(TOPDIR)/package/mbedtls

# The installed mbedtls/mbedtls_config.h is our header with the Kconfig
# choices written above it; it is rewritten only when its text changes.
MBEDTLS_CONFIG := $(BUILD_DIR)/mbedtls_config.h
# (printf would get a literal "\#" from one written inside $(if): the hash
# comes from a variable.)
MBEDTLS_HASH := \#
MBEDTLS_CONFIG_TEXT := /* generated from package/mbedtls/xb_mbedtls_config.h */\n$(if \
	$(filter y,$(CONFIG_XB_PACKAGE_MBEDTLS_RSA)),$(MBEDTLS_HASH)define XB_MBEDTLS_RSA 1\n)$(if \
	$(filter y,$(CONFIG_XB_POOL)),$(MBEDTLS_HASH)define XB_MBEDTLS_SNI 1\n)

$(MBEDTLS_CONFIG): $(MBEDTLS_PKGDIR)/xb_mbedtls_config.h FORCE
	$(Q)mkdir -p $(@D)
	$(Q){ printf '$(MBEDTLS_CONFIG_TEXT)'; cat $<; } >$@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# Which library/*.c goes into which archive (as upstream splits them).
MBEDTLS_X509_SRCS := x509*.c pkcs7.c
MBEDTLS_TLS_SRCS  := ssl_*.c debug.c mps_*.c net_sockets.c

$(MBEDTLS_DIR)/.stamp_extracted: $(MBEDTLS_SOURCE)
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

$(MBEDTLS_DIR)/.stamp_configured: $(MBEDTLS_DIR)/.stamp_extracted $(MBEDTLS_CONFIG)
	$(Q)cp $(MBEDTLS_CONFIG) $(@D)/include/mbedtls/mbedtls_config.h
	$(Q)rm -rf $(@D)/xb-obj $(MBEDTLS_HOST_DIR)
	$(Q)touch $@

# $(call mbedtls-archives,CC,CFLAGS,OBJDIR,LIBDIR)
# (The leading + keeps the jobserver: $(MAKE) is not literal in the recipe.)
define mbedtls-archives
	+$(Q)$(PKG_ENV) $(MAKE) --no-print-directory -f $(TOPDIR)/package/archive.make CC="$(1)" \
		CFLAGS="$(2) -I$(MBEDTLS_DIR)/include" SRCDIR=$(MBEDTLS_DIR)/library \
		SRCS='*.c' EXCLUDE='$(MBEDTLS_X509_SRCS) $(MBEDTLS_TLS_SRCS)' \
		EXTRA=$(MBEDTLS_PKGDIR)/xb_mbedtls_rng.c \
		OBJDIR=$(3) ARCHIVE=$(4)/libmbedcrypto.a
	+$(Q)$(PKG_ENV) $(MAKE) --no-print-directory -f $(TOPDIR)/package/archive.make CC="$(1)" \
		CFLAGS="$(2) -I$(MBEDTLS_DIR)/include" SRCDIR=$(MBEDTLS_DIR)/library \
		SRCS='$(MBEDTLS_X509_SRCS)' OBJDIR=$(3) ARCHIVE=$(4)/libmbedx509.a
	+$(Q)$(PKG_ENV) $(MAKE) --no-print-directory -f $(TOPDIR)/package/archive.make CC="$(1)" \
		CFLAGS="$(2) -I$(MBEDTLS_DIR)/include" SRCDIR=$(MBEDTLS_DIR)/library \
		SRCS='$(MBEDTLS_TLS_SRCS)' OBJDIR=$(3) ARCHIVE=$(4)/libmbedtls.a
endef

# Target flavour.
$(MBEDTLS_DIR)/.stamp_built: $(MBEDTLS_DIR)/.stamp_configured $(MBEDTLS_PKGDIR)/xb_mbedtls_rng.c
	@echo "  BUILD   mbedtls $(MBEDTLS_VERSION)"
	$(call mbedtls-archives,$(TARGET_CC),$(PKG_TARGET_CFLAGS) $(PKG_LTO_CFLAGS),$(@D)/xb-obj,$(@D)/xb-lib)
	$(Q)touch $@

$(MBEDTLS_DIR)/.stamp_installed: $(MBEDTLS_DIR)/.stamp_built
	$(Q)mkdir -p $(STAGING_DIR)/include $(STAGING_DIR)/lib
	$(Q)rm -rf $(STAGING_DIR)/include/mbedtls $(STAGING_DIR)/include/psa
	$(Q)cp -R $(MBEDTLS_DIR)/include/mbedtls $(MBEDTLS_DIR)/include/psa $(STAGING_DIR)/include/
	$(Q)cp $(MBEDTLS_DIR)/xb-lib/*.a $(STAGING_DIR)/lib/
	$(Q)touch $@

# Host flavour, for the unit tests: the same configuration and sources.
$(MBEDTLS_HOST_DIR)/.stamp_installed: $(MBEDTLS_DIR)/.stamp_configured $(MBEDTLS_PKGDIR)/xb_mbedtls_rng.c
	@echo "  BUILD   mbedtls $(MBEDTLS_VERSION) (host)"
	$(call mbedtls-archives,$(HOST_CC),$(PKG_HOST_CFLAGS),$(MBEDTLS_HOST_DIR)/obj,$(MBEDTLS_HOST_DIR)/lib)
	$(Q)mkdir -p $(HOST_DIR)/include $(HOST_DIR)/lib
	$(Q)rm -rf $(HOST_DIR)/include/mbedtls $(HOST_DIR)/include/psa
	$(Q)cp -R $(MBEDTLS_DIR)/include/mbedtls $(MBEDTLS_DIR)/include/psa $(HOST_DIR)/include/
	$(Q)cp $(MBEDTLS_HOST_DIR)/lib/*.a $(HOST_DIR)/lib/
	$(Q)touch $@

mbedtls: $(MBEDTLS_DIR)/.stamp_installed $(MBEDTLS_HOST_DIR)/.stamp_installed
.PHONY: mbedtls

# Link order: TLS uses X.509 uses crypto.
MBEDTLS_LIBS := libmbedtls.a libmbedx509.a libmbedcrypto.a
XB_TARGET_LIBS += $(addprefix $(STAGING_DIR)/lib/,$(MBEDTLS_LIBS))
XB_TARGET_DEPS += $(MBEDTLS_DIR)/.stamp_installed
XB_HOST_LIBS   += $(addprefix $(HOST_DIR)/lib/,$(MBEDTLS_LIBS))
XB_HOST_DEPS   += $(MBEDTLS_HOST_DIR)/.stamp_installed

endif
