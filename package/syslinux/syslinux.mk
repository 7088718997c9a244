# SYSLINUX, the USB image's BIOS boot loader: Debian's binary packages
# (syslinux: the mtools-based installer and mbr.bin; syslinux-common: the
# COM32 modules), pinned in package/sources.lock and unpacked with
# dpkg-deb.  The installer is a host program (glibc, needs mtools) run from
# the unpacked tree; nothing is installed on the machine.
#
#   $(SYSLINUX_DIR)/root/usr/bin/syslinux            installer (writes ldlinux.sys)
#   $(SYSLINUX_DIR)/root/usr/lib/SYSLINUX/mbr.bin    the MBR boot code
#   $(SYSLINUX_BIOS)/{ldlinux,libcom32,mboot}.c32    what the stick needs
#
# Not part of `all`: the USB image (board/pc_x86_64_usb/usb.mk) pulls it in.
include $(TOPDIR)/package/pkg-utils.mk

SYSLINUX_VERSION := $(call xb-upstream,syslinux)
SYSLINUX_DIR     := $(BUILD_DIR)/syslinux-$(SYSLINUX_VERSION)
SYSLINUX_BIOS    := $(SYSLINUX_DIR)/root/usr/lib/syslinux/modules/bios
SYSLINUX_DEBS    := $(call dl-file,syslinux) $(call dl-file,syslinux-common)

$(SYSLINUX_DIR)/.stamp_extracted: $(SYSLINUX_DEBS)
	@echo "  DPKG-X  syslinux $(SYSLINUX_VERSION)"
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/root
	$(Q)for d in $^; do dpkg-deb -x $$d $(@D)/root || exit 1; done
	$(Q)for f in usr/bin/syslinux usr/lib/SYSLINUX/mbr.bin $(addprefix usr/lib/syslinux/modules/bios/,ldlinux.c32 libcom32.c32 mboot.c32); do \
		[ -f $(@D)/root/$$f ] || { echo "syslinux: $$f is not in the packages" >&2; exit 1; }; done
	$(Q)touch $@

syslinux: $(SYSLINUX_DIR)/.stamp_extracted
.PHONY: syslinux
