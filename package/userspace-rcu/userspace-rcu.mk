# liburcu (userspace-rcu): static, for mkfs.xfs only (package/xfsprogs).
# Installed into xfsprogs' own sysroot, not into staging: xenbox does not
# link it.
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_XFSPROGS),y)

URCU_VERSION := $(call xb-upstream,userspace-rcu)
URCU_SOURCE  := $(call dl-file,userspace-rcu)
URCU_DIR     := $(BUILD_DIR)/userspace-rcu-$(URCU_VERSION)

$(URCU_DIR)/.stamp_extracted: $(URCU_SOURCE) $(TOPDIR)/package/userspace-rcu/userspace-rcu.mk
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

$(URCU_DIR)/.stamp_configured: $(URCU_DIR)/.stamp_extracted
	@echo "  CONFIG  userspace-rcu $(URCU_VERSION)"
	$(Q)cd $(@D) && CC="$(TARGET_CC)" CFLAGS="$(PKG_TARGET_CFLAGS)" AR_FLAGS=crD \
		./configure --host=x86_64-linux-musl --build=x86_64-linux-gnu \
		--prefix=$(XFS_SYSROOT) --disable-shared --enable-static \
		--disable-dependency-tracking >config.out 2>&1 || { tail -30 config.out; exit 1; }
	$(Q)touch $@

# Only the default flavour (liburcu, memory barriers or membarrier at run
# time), the one xfsprogs links (-lurcu).
$(URCU_DIR)/.stamp_built: $(URCU_DIR)/.stamp_configured
	@echo "  BUILD   liburcu $(URCU_VERSION)"
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/src liburcu.la AR_FLAGS=crD >/dev/null
	$(Q)touch $@

$(URCU_DIR)/.stamp_installed: $(URCU_DIR)/.stamp_built
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/include install >/dev/null
	$(Q)install -D -m 0644 $(@D)/src/.libs/liburcu.a $(XFS_SYSROOT)/lib/liburcu.a
	$(Q)touch $@

userspace-rcu: $(URCU_DIR)/.stamp_installed
.PHONY: userspace-rcu

endif
