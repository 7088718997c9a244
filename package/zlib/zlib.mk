# zlib: static, for Xen's libxenguest (gzip kernels and ramdisks).
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_ZLIB),y)

ZLIB_VERSION := $(call xb-upstream,zlib)
ZLIB_SOURCE  := $(call dl-file,zlib)
ZLIB_DIR     := $(BUILD_DIR)/zlib-$(ZLIB_VERSION)

# A change to this file (its flags) builds zlib anew from a fresh tree.
$(ZLIB_DIR)/.stamp_extracted: $(ZLIB_SOURCE) $(TOPDIR)/package/zlib/zlib.mk
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

# DYNAMIC_CRC_TABLE: the CRC-32 tables (9 KiB, 1 KiB of them plain and 8 KiB
# for the braided loop) are computed at the first crc32() into .bss instead
# of being stored in the binary; zlib makes them once, under C11 atomics.
ZLIB_CFLAGS := $(PKG_TARGET_CFLAGS) $(PKG_LTO_CFLAGS) -DDYNAMIC_CRC_TABLE

# zlib's configure is not autoconf: CC and CFLAGS come from the environment.
$(ZLIB_DIR)/.stamp_configured: $(ZLIB_DIR)/.stamp_extracted
	@echo "  CONFIG  zlib $(ZLIB_VERSION)"
	$(Q)cd $(@D) && CC="$(TARGET_CC)" CFLAGS="$(ZLIB_CFLAGS)" \
		AR=ar ARFLAGS=rcD ./configure --static --prefix=/usr >config.out 2>&1 \
		|| { cat config.out; exit 1; }
	$(Q)touch $@

$(ZLIB_DIR)/.stamp_built: $(ZLIB_DIR)/.stamp_configured
	@echo "  BUILD   zlib $(ZLIB_VERSION)"
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D) libz.a ARFLAGS=rcD
	$(Q)touch $@

$(ZLIB_DIR)/.stamp_installed: $(ZLIB_DIR)/.stamp_built
	$(Q)install -D -m 0644 $(@D)/zlib.h $(STAGING_DIR)/include/zlib.h
	$(Q)install -D -m 0644 $(@D)/zconf.h $(STAGING_DIR)/include/zconf.h
	$(Q)install -D -m 0644 $(@D)/libz.a $(STAGING_DIR)/lib/libz.a
	$(Q)touch $@

zlib: $(ZLIB_DIR)/.stamp_installed
.PHONY: zlib

# Xen's libraries use it: it goes after them (package/xen sorts first).
XB_TARGET_LIBS += $(STAGING_DIR)/lib/libz.a
XB_TARGET_DEPS += $(ZLIB_DIR)/.stamp_installed

endif
