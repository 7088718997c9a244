# OVMF, the UEFI firmware QEMU boots the USB image with (make run UEFI=1,
# tests/usb): Debian's ovmf package, pinned in package/sources.lock and
# unpacked with dpkg-deb.  A test tool, not part of the image.
#
#   $(OVMF_FD)    OVMF.fd, code and variables in one file (QEMU's -bios)
include $(TOPDIR)/package/pkg-utils.mk

OVMF_VERSION := $(call xb-upstream,ovmf)
OVMF_DIR     := $(HOST_DIR)/build/ovmf-$(OVMF_VERSION)
OVMF_FD      := $(HOST_DIR)/share/ovmf/OVMF.fd

$(OVMF_DIR)/.stamp_extracted: $(call dl-file,ovmf)
	@echo "  DPKG-X  $(notdir $<)"
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/root
	$(Q)dpkg-deb -x $< $(@D)/root
	$(Q)touch $@

$(OVMF_FD): $(OVMF_DIR)/.stamp_extracted
	$(Q)mkdir -p $(@D)
	$(Q)cp $(OVMF_DIR)/root/usr/share/ovmf/OVMF.fd $@

ovmf: $(OVMF_FD)
.PHONY: ovmf
