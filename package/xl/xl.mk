# Debian's xl, for the VM-start benchmark only (bench/vmstart): the binary
# of xen-utils-4.17 and the shared objects it loads, from the bookworm .debs
# pinned in package/sources.lock as xl-* (support/pin-debs.sh re-pins them):
#   xen-utils-4.17 libxenmisc4.17 libxen{call,devicemodel,evtchn,
#   foreignmemory,gnttab,hypfs,toolcore,toollog}1 libxenstore4 libyajl2
#   libc6 libgcc-s1 liblzma5 libuuid1 libzstd1 zlib1g
# Unpacked with dpkg-deb (no root); package/xl/stage.sh keeps xl and the
# NEEDED closure of it plus glibc's loader under opt/xl/ of
#
#   $(XL_STAGE)     a tree for an initramfs overlay (bench/vmstart/vmstart.mk)
#
# Never part of `all` nor of the test dom0.  The xen packages should have
# the hypervisor's version (libxenctrl speaks its domctl interface): a
# difference is reported.
include $(TOPDIR)/package/pkg-utils.mk

XL_VERSION := $(call dl-version,xl-xen-utils)
XL_DIR     := $(BUILD_DIR)/xl-$(XL_VERSION)
XL_STAGE   := $(XL_DIR)/stage
# Every xl-* line of the lock, as its file in dl/ (one awk for them all).
XL_DEBS := $(shell awk '!/^\#/ && $$1 ~ /^xl-/ { n = split($$4, a, "/"); f = a[n]; \
	gsub(/%2[bB]/, "+", f); gsub(/%7[eE]/, "~", f); print "$(DL_DIR)/" $$1 "/" f }' $(LOCK))

$(XL_DIR)/.stamp_staged: $(XL_DEBS) $(TOPDIR)/package/xl/stage.sh
	@echo "  DPKG-X  xl: $(words $(XL_DEBS)) .debs"
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/root
	$(Q)for d in $(XL_DEBS); do dpkg-deb -x $$d $(@D)/root || exit 1; done
	$(Q)[ "$(XL_VERSION)" = "$(call dl-version,xen-hypervisor)" ] || \
		echo "  WARNING xl $(XL_VERSION) and xen-hypervisor $(call dl-version,xen-hypervisor) differ (package/sources.lock)"
	$(Q)$(TOPDIR)/package/xl/stage.sh $(@D)/root $(XL_STAGE)
	$(Q)rm -rf $(@D)/root
	$(Q)touch $@

xl-stage: $(XL_DIR)/.stamp_staged
.PHONY: xl-stage
