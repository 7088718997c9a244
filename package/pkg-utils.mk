# Shared helpers for package/*/*.mk (each recipe includes this file).
#
# A recipe builds in stamped steps inside $(BUILD_DIR)/<name>-<version>/
# (host flavours in $(HOST_DIR)/build/<name>-<version>/):
#   .stamp_extracted  .stamp_configured  .stamp_built  .stamp_installed
# and then appends its staged archives to XB_TARGET_LIBS (link order: a
# library before the libraries it uses) and its install stamp to
# XB_TARGET_DEPS.  Host flavours do the same with XB_HOST_LIBS/XB_HOST_DEPS.

ifndef XB_PKG_UTILS_INCLUDED
XB_PKG_UTILS_INCLUDED := y

# Upstream version of a locked package: the Debian version without epoch
# and Debian revision ("1:1.3.dfsg+really1.3.1-1" -> "1.3.dfsg+really1.3.1").
xb-upstream = $(shell awk '$$1=="$(1)"{v=$$2; sub(/^[0-9]+:/,"",v); sub(/-[^-]*$$/,"",v); print v}' $(LOCK))

# $(call xb-extract,TARBALL,DIR): a fresh DIR with the tarball's top-level
# directory stripped.  Owners and modes from the tarball are not kept.
define xb-extract
	@echo "  EXTRACT $(notdir $(1))"
	$(Q)rm -rf $(2) && mkdir -p $(2)
	$(Q)tar -xf $(1) -C $(2) --strip-components=1 --no-same-owner --no-same-permissions
endef

# Flags for third-party code.  Target: the project's (static musl, -Os,
# sections, prefix map).  Host: glibc, optimised and with debug info but no
# sanitizers (the tests that link them are sanitized; the libraries need not
# be), same prefix map.
PKG_TARGET_CFLAGS := $(TARGET_CFLAGS)
PKG_HOST_CFLAGS := -O2 -g -fno-omit-frame-pointer -D_GNU_SOURCE $(PREFIX_MAP)

# Environment for sub-makes of third-party build systems: they must not see
# our command-line variables (O=, V=) nor srctree, which Xen's and other
# Kbuild-like makefiles give meanings of their own.  Use it as
# "$(PKG_ENV) $(MAKE) ..." ($(MAKE) must stay literal for the jobserver).
PKG_ENV = env -u O -u V -u srctree MAKEFLAGS='$(filter-out O=% V=%,$(MAKEFLAGS))'

# Deterministic archive from a sorted object list: $(call xb-ar,ARCHIVE,OBJS)
define xb-ar
	$(Q)mkdir -p $(dir $(1)) && rm -f $(1)
	$(Q)ar rcsD $(1) $(sort $(2))
endef

# musl-gcc sees only musl's headers; netlink, Xen's privcmd and busybox's
# ip and insmod need the kernel's.  One directory of symlinks to the host's
# kernel headers only (not glibc's), for every target build that needs
# them: order-only prerequisite $(LINUX_INC)/.stamp, then -isystem $(LINUX_INC).
LINUX_INC  := $(STAGING_DIR)/include-linux
LINUX_HDRS := linux:/usr/include/linux asm-generic:/usr/include/asm-generic \
	asm:/usr/include/x86_64-linux-gnu/asm mtd:/usr/include/mtd
$(LINUX_INC)/.stamp:
	$(Q)for l in $(LINUX_HDRS); do \
		[ -d $${l#*:} ] || { echo "kernel headers: $${l#*:} missing (apt-get install linux-libc-dev)" >&2; exit 1; }; \
		mkdir -p $(@D) && ln -sfn $${l#*:} $(@D)/$${l%%:*}; done
	$(Q)touch $@

# The sysroot mkfs.xfs is built against (package/xfsprogs): liburcu, inih
# and our libuuid subset, kept out of staging since xenbox links none.
XFS_SYSROOT := $(BUILD_DIR)/xfsprogs-sysroot

# A locked file that is not in DL_DIR: explain instead of "no rule".
$(DL_DIR)/%:
	@echo "error: $@ is missing; run 'make source' first (it downloads" >&2
	@echo "       everything in package/sources.lock into $(DL_DIR))" >&2
	@exit 1

endif
