# inih: the INI parser mkfs.xfs reads its -c config files with; one file,
# ini.c, with its default options.  Static, into xfsprogs' sysroot
# (package/userspace-rcu), for mkfs.xfs only.
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_XFSPROGS),y)

INIH_VERSION := $(call xb-upstream,inih)
INIH_SOURCE  := $(call dl-file,inih)
INIH_DIR     := $(BUILD_DIR)/inih-$(INIH_VERSION)

$(INIH_DIR)/.stamp_extracted: $(INIH_SOURCE) $(TOPDIR)/package/inih/inih.mk
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

$(INIH_DIR)/.stamp_installed: $(INIH_DIR)/.stamp_extracted
	@echo "  BUILD   inih $(INIH_VERSION)"
	$(Q)$(TARGET_CC) $(PKG_TARGET_CFLAGS) -c -o $(@D)/ini.o $(@D)/ini.c
	$(call xb-ar,$(XFS_SYSROOT)/lib/libinih.a,$(@D)/ini.o)
	$(Q)install -D -m 0644 $(@D)/ini.h $(XFS_SYSROOT)/include/ini.h
	$(Q)touch $@

inih: $(INIH_DIR)/.stamp_installed
.PHONY: inih

endif
