# The Xen hypervisor: Debian's binary package (xen-hypervisor-4.17-amd64),
# pinned in package/sources.lock like every source and unpacked with
# dpkg-deb (no root).  Its version should match the tools source pinned
# as `xen` (libxenctrl speaks the hypervisor's domctl/sysctl interface);
# a mismatch is reported, not fatal, since the interface is the same
# across 4.17.x.
#
#   $(IMAGES_DIR)/xen      uncompressed ELF, for QEMU's multiboot loader
#   $(IMAGES_DIR)/xen.gz   as shipped, for boot loaders that gunzip
#
# Not part of `all`: the system images (board/board.mk) pull it in.
include $(TOPDIR)/package/pkg-utils.mk

XEN_HV_VERSION := $(call xb-upstream,xen-hypervisor)
XEN_HV_DEB     := $(call dl-file,xen-hypervisor)
XEN_HV_DIR     := $(BUILD_DIR)/xen-hypervisor-$(XEN_HV_VERSION)

$(XEN_HV_DIR)/.stamp_extracted: $(XEN_HV_DEB)
	@echo "  DPKG-X  $(notdir $<)"
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/root
	$(Q)dpkg-deb -x $< $(@D)/root
	$(Q)set -- $(@D)/root/boot/xen-*-amd64.gz; [ $$# -eq 1 ] && [ -f "$$1" ] || \
		{ echo "xen-hypervisor: expected one boot/xen-*-amd64.gz in $(notdir $<)" >&2; exit 1; }
	$(Q)[ "$(XEN_HV_VERSION)" = "$(call xb-upstream,xen)" ] || \
		echo "  WARNING xen-hypervisor $(XEN_HV_VERSION) and the xen tools source $(call xb-upstream,xen) differ (package/sources.lock)"
	$(Q)touch $@

$(IMAGES_DIR)/xen.gz: $(XEN_HV_DIR)/.stamp_extracted
	$(Q)mkdir -p $(@D)
	$(Q)cp $(XEN_HV_DIR)/root/boot/xen-*-amd64.gz $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

# QEMU's -kernel takes multiboot v1 only from an uncompressed ELF.
$(IMAGES_DIR)/xen: $(XEN_HV_DIR)/.stamp_extracted
	$(Q)mkdir -p $(@D)
	$(Q)gzip -dc $(XEN_HV_DIR)/root/boot/xen-*-amd64.gz >$@.tmp
	$(Q)head -c 4 $@.tmp | grep -q ELF || { echo "xen-hypervisor: not an ELF after gunzip" >&2; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

xen-hypervisor: $(IMAGES_DIR)/xen $(IMAGES_DIR)/xen.gz
.PHONY: xen-hypervisor
