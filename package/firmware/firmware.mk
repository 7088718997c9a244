# Firmware files for the USB image's NIC drivers: Debian's non-free-firmware
# packages (firmware-misc-nonfree for tg3's tigon/, firmware-bnx2,
# firmware-bnx2x, firmware-realtek for r8169's rtl_nic/), pinned in
# package/sources.lock (fw-*) and unpacked with dpkg-deb.  Only the files
# the shipped drivers request are copied into the image: select.sh reads
# each module's modinfo firmware= lines (docs/HARDWARE.md).  Not part of
# `all`: the USB image (board/pc_x86_64_usb/usb.mk) pulls it in.
include $(TOPDIR)/package/pkg-utils.mk

FIRMWARE_DEBS    := fw-misc fw-bnx2 fw-bnx2x fw-realtek
FIRMWARE_VERSION := $(call dl-version,fw-misc)
FIRMWARE_DIR     := $(BUILD_DIR)/firmware-$(FIRMWARE_VERSION)

$(FIRMWARE_DIR)/.stamp_extracted: $(foreach d,$(FIRMWARE_DEBS),$(call dl-file,$(d)))
	@echo "  DPKG-X  firmware ($(FIRMWARE_DEBS))"
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/root
	$(Q)for d in $^; do dpkg-deb -x $$d $(@D)/root || exit 1; done
	$(Q)touch $@
