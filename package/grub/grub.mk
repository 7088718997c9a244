# GRUB, the USB image's UEFI boot loader: Debian's binary packages
# (grub-common: grub-mkimage, a host program run from the unpacked tree;
# grub-efi-amd64-bin: the x86_64-efi modules), pinned in
# package/sources.lock and unpacked with dpkg-deb; nothing is installed on
# the machine.
#
#   $(GRUB_EFI)   a standalone GRUB EFI application: every module it needs
#                 built in (GRUB_EFI_MODULES), so the stick holds no GRUB
#                 module directory; it reads grub.cfg from its own folder
#                 (-p /EFI/BOOT) on the partition it was started from.
#                 What grub-mkstandalone makes, minus the memdisk of
#                 modules (and its need for libefiboot on the build host).
#
# Not part of `all`: the USB image (board/pc_x86_64_usb/usb.mk) pulls it in.
include $(TOPDIR)/package/pkg-utils.mk

GRUB_VERSION := $(call xb-upstream,grub-efi)
GRUB_DIR     := $(BUILD_DIR)/grub-$(GRUB_VERSION)
GRUB_DEBS    := $(call dl-file,grub-common) $(call dl-file,grub-efi)
GRUB_EFI     := $(IMAGES_DIR)/grub/BOOTX64.EFI

# Partition table and FAT; the config language; Xen by multiboot2 (gzio:
# xen.gz); GRUB's own serial console; efi_gop (a framebuffer for Xen, or
# GRUB complains about video modes).
GRUB_EFI_MODULES := part_msdos fat normal configfile test echo \
	multiboot2 gzio serial terminal efi_gop

$(GRUB_DIR)/.stamp_extracted: $(GRUB_DEBS)
	@echo "  DPKG-X  grub $(GRUB_VERSION)"
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/root
	$(Q)for d in $^; do dpkg-deb -x $$d $(@D)/root || exit 1; done
	$(Q)[ -x $(@D)/root/usr/bin/grub-mkimage ] && [ -d $(@D)/root/usr/lib/grub/x86_64-efi ] || \
		{ echo "grub: no grub-mkimage or x86_64-efi modules in the packages" >&2; exit 1; }
	$(Q)touch $@

$(GRUB_EFI): $(GRUB_DIR)/.stamp_extracted $(TOPDIR)/package/grub/grub.mk
	$(Q)mkdir -p $(@D)
	$(Q)$(GRUB_DIR)/root/usr/bin/grub-mkimage -d $(GRUB_DIR)/root/usr/lib/grub/x86_64-efi \
		-O x86_64-efi -p /EFI/BOOT -o $@.tmp $(GRUB_EFI_MODULES) || \
		{ echo "grub: grub-mkimage failed (support/deps.sh installs its libraries)" >&2; exit 1; }
	$(Q)mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

grub: $(GRUB_EFI)
.PHONY: grub
