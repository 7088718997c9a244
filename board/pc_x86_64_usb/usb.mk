# The USB stick image (issue 6): configs/pc_x86_64_usb_defconfig, then
# `make` leaves $(IMAGES_DIR)/xenbox-usb.img.  docs/USB_IMAGE.md is the
# operator's manual; docs/ARCHITECTURE.md ("Board and root filesystem")
# the map.
#
#   $(USB_PARTS)/vmlinux.zst   dom0's kernel, for Xen to unpack
#   $(USB_PARTS)/rootfs.sqfs   the read-only root: busybox, xenbox,
#                              xenstored, xenconsoled, the xenstore client,
#                              mkfs.xfs (package/xfsprogs),
#                              hw-modules + root-modules + net-modules,
#                              the drivers' firmware (package/firmware),
#                              rootfs/usb/root/
#   $(USB_PARTS)/initrd.img    busybox, loop + squashfs (initrd-modules),
#                              rootfs/usb/initrd/init and rootfs.sqfs
#   $(USB_IMG)                 BIOS (SYSLINUX) + UEFI (GRUB) image:
#                              mkimage.sh
#   make usb-size              each part against the budgets (also in `make size`)
#   make run [UEFI=1]          boot it under QEMU as a USB stick (support/run.sh,
#                              then usb-run: run-qemu.sh)
#   make usb-check             the system tests (tests/usb)
#   make bench-boot            QEMU start -> first XenAPI answer, and sizes
#
# Passwords: USB_PASSWORD (default: random, made once per output dir and
# kept in $(USB_IMG:.img=.password)) goes into xenbox.conf as both hashes.

ifeq ($(CONFIG_XB_BOARD_PC_X86_64_USB),y)

USB_BOARD := $(TOPDIR)/board/pc_x86_64_usb
USB_BUILD := $(BUILD_DIR)/usb
USB_PARTS := $(IMAGES_DIR)/usb
USB_IMG   := $(IMAGES_DIR)/xenbox-usb.img
USB_PWFILE := $(IMAGES_DIR)/xenbox-usb.password

# Xen's and dom0's command lines, for both boot loaders.
USB_XEN_ARGS  ?= console=com1,vga com1=115200,8n1 dom0_mem=512M,max:512M
USB_DOM0_ARGS ?= console=hvc0 quiet cryptomgr.notests

# Kernel modules: Debian signs them; the image strips the signatures
# (package/linux/unsign-modules.sh says why: ~1 s of the boot under TCG).
# USB_MODULE_SIGNATURES=keep keeps them.
USB_MODULE_SIGNATURES ?= strip
USB_UNSIGN = $(if $(filter keep,$(USB_MODULE_SIGNATURES)),true,$(TOPDIR)/package/linux/unsign-modules.sh)
# ... and their BPF type information (.BTF: package/linux/strip-btf.sh),
# 0.75 MB of the compressed root; kept with the signatures (objcopy would
# break them).
USB_STRIP_BTF = $(if $(filter keep,$(USB_MODULE_SIGNATURES)),true,$(TOPDIR)/package/linux/strip-btf.sh)

USB_INITRD_OVERLAY := $(shell find $(TOPDIR)/rootfs/usb/initrd -type f 2>/dev/null)
USB_ROOT_OVERLAY   := $(shell find $(TOPDIR)/rootfs/usb/root -type f 2>/dev/null)

# Module sets, each checked (modules.sh) against those loaded before it:
# initrd (loop, squashfs), then hw (drivers by PCI alias), then root.
$(IMAGES_DIR)/modules/hw/load-order: $(LINUX_DIR)/.stamp_extracted $(TOPDIR)/package/linux/modules.sh \
		$(USB_BOARD)/hw-modules $(IMAGES_DIR)/modules/initrd/load-order
	$(Q)$(TOPDIR)/package/linux/modules.sh $(USB_BOARD)/hw-modules \
		$(LINUX_DIR)/root/lib/modules/$$(cat $(LINUX_DIR)/kernel-release) $(@D) \
		$(IMAGES_DIR)/modules/initrd/load-order
	@echo "  IMAGE   $(@D) ($$(wc -l <$@) modules, $$(cat $(@D)/*.ko | wc -c) bytes)"

$(IMAGES_DIR)/modules/root/load-order: $(LINUX_DIR)/.stamp_extracted $(TOPDIR)/package/linux/modules.sh \
		$(USB_BOARD)/root-modules $(IMAGES_DIR)/modules/initrd/load-order \
		$(IMAGES_DIR)/modules/hw/load-order
	$(Q)cat $(IMAGES_DIR)/modules/initrd/load-order $(IMAGES_DIR)/modules/hw/load-order \
		>$(IMAGES_DIR)/modules/root.base
	$(Q)$(TOPDIR)/package/linux/modules.sh $(USB_BOARD)/root-modules \
		$(LINUX_DIR)/root/lib/modules/$$(cat $(LINUX_DIR)/kernel-release) $(@D) \
		$(IMAGES_DIR)/modules/root.base
	@echo "  IMAGE   $(@D) ($$(wc -l <$@) modules, $$(cat $(@D)/*.ko | wc -c) bytes)"

# net: the bond and VLAN modules, loaded only when xenbox.conf asks.
$(IMAGES_DIR)/modules/net/load-order: $(LINUX_DIR)/.stamp_extracted $(TOPDIR)/package/linux/modules.sh \
		$(USB_BOARD)/net-modules $(IMAGES_DIR)/modules/root/load-order
	$(Q)cat $(IMAGES_DIR)/modules/initrd/load-order $(IMAGES_DIR)/modules/hw/load-order \
		$(IMAGES_DIR)/modules/root/load-order >$(IMAGES_DIR)/modules/net.base
	$(Q)$(TOPDIR)/package/linux/modules.sh $(USB_BOARD)/net-modules \
		$(LINUX_DIR)/root/lib/modules/$$(cat $(LINUX_DIR)/kernel-release) $(@D) \
		$(IMAGES_DIR)/modules/net.base
	@echo "  IMAGE   $(@D) ($$(wc -l <$@) modules, $$(cat $(@D)/*.ko | wc -c) bytes)"

# The firmware the hardware drivers request (package/firmware): the files
# their modinfo names, less firmware-skip, from the pinned packages.
USB_FIRMWARE := $(IMAGES_DIR)/firmware
$(USB_FIRMWARE)/manifest: $(FIRMWARE_DIR)/.stamp_extracted $(IMAGES_DIR)/modules/hw/load-order \
		$(TOPDIR)/package/firmware/select.sh $(USB_BOARD)/firmware-skip
	$(Q)$(TOPDIR)/package/firmware/select.sh $(IMAGES_DIR)/modules/hw $(FIRMWARE_DIR)/root \
		$(USB_BOARD)/firmware-skip $(@D)
	@echo "  IMAGE   $(@D) ($$(wc -l <$@) files, $$(awk '{s += $$3} END {print s}' $@) bytes)"

# dom0's kernel: the bzImage's payload (package/linux), stripped of its
# symbol table (kallsyms is inside), compressed with zstd, with its size
# appended (le32, as the kernel's own build does): Xen unpacks it.  Not
# gzip: SYSLINUX's mboot.c32 inflates gzip'd modules itself, slowly
# (~2.5 s for this one under TCG), while it reads the stick at ~50 MB/s;
# Xen unzstds the 65 MB in ~1 s.  zstd -19 is also 1.5 MiB smaller than
# gzip -9 (and 0.9 MiB larger than XZ, which Xen unpacks in ~2.5 s).
$(USB_PARTS)/vmlinux.zst: $(IMAGES_DIR)/vmlinux
	$(Q)mkdir -p $(@D) $(USB_BUILD)
	$(Q)strip --strip-all -o $(USB_BUILD)/vmlinux $<
	$(Q)zstd -q -19 -T0 -f -o $@.tmp $(USB_BUILD)/vmlinux
	$(Q)python3 -c 'import os, struct, sys; sys.stdout.buffer.write(struct.pack("<I", os.path.getsize(sys.argv[1])))' \
		$(USB_BUILD)/vmlinux >>$@.tmp
	$(Q)rm -f $(USB_BUILD)/vmlinux && mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

# mkfs.xfs (package/xfsprogs) for the SR on the host's disk, in /usr/sbin;
# its kernel module, xfs (and libcrc32c), is in hw-modules: loaded by the
# kernel's request for fs-xfs at the first XFS mount, which the root's
# modules.alias must therefore resolve (checked below).
USB_MKFS_XFS := $(if $(filter y,$(CONFIG_XB_PACKAGE_XFSPROGS)),$(XFSPROGS_MKFS))

# ---- the squashfs root ---------------------------------------------------------
# Writable paths are symlinks into /run (tmpfs), made by rcS.  mksquashfs
# takes its timestamps from SOURCE_DATE_EPOCH (exported by the Makefile).
# The modules of hw and root in /lib/modules/<release>/, flat, with
# modules.dep and modules.alias (package/linux/depmod.sh) for modprobe,
# and root-modules, the list rcS loads.
$(USB_PARTS)/rootfs.sqfs: $(BUSYBOX_BIN) $(IMAGES_DIR)/modules/root/load-order \
		$(IMAGES_DIR)/modules/hw/load-order $(IMAGES_DIR)/modules/net/load-order \
		$(USB_FIRMWARE)/manifest $(TOPDIR)/package/linux/depmod.sh \
		$(TOPDIR)/package/linux/unsign-modules.sh $(TOPDIR)/package/linux/strip-btf.sh $(SYS_XEN_TOOLS) \
		$(USB_ROOT_OVERLAY) $(USB_BOARD)/usb.mk $(USB_MKFS_XFS) $(XE_INSTALL_DEPS)
	@echo "  ROOTFS  usb root"
	$(Q)rm -rf $(USB_BUILD)/root && mkdir -p $(USB_BUILD)/root $(@D)
	$(call sys-busybox,$(USB_BUILD)/root)
	$(Q)m=$(USB_BUILD)/root/lib/modules/$$(cat $(LINUX_DIR)/kernel-release) && mkdir -p $$m && \
		cp $(IMAGES_DIR)/modules/hw/*.ko $(IMAGES_DIR)/modules/root/*.ko \
			$(IMAGES_DIR)/modules/net/*.ko $$m/ && \
		cp $(IMAGES_DIR)/modules/root/load-order $$m/root-modules && \
		$(USB_UNSIGN) $$m/*.ko && $(USB_STRIP_BTF) $$m/*.ko && $(TOPDIR)/package/linux/depmod.sh $$m && \
		{ [ -z "$(USB_MKFS_XFS)" ] || grep -qx 'alias fs-xfs xfs' $$m/modules.alias || \
		{ echo "usb: no fs-xfs alias in modules.alias: an XFS mount would not load xfs" >&2; exit 1; }; }
	$(Q)cp -a $(USB_FIRMWARE)/lib $(USB_FIRMWARE)/usr $(USB_BUILD)/root/
	$(Q)mkdir -p $(addprefix $(USB_BUILD)/root/,boot dev proc sys run tmp var state etc root)
	$(Q)cp $(IMAGES_DIR)/xenbox $(USB_BUILD)/root/usr/sbin/xenbox
	$(if $(XBIO_IMAGE),$(Q)cp $(XBIO_IMAGE) $(USB_BUILD)/root/usr/sbin/xenbox-io)
	$(Q)cp $(IMAGES_DIR)/xen-tools/xenstored $(IMAGES_DIR)/xen-tools/xenconsoled \
		$(USB_BUILD)/root/usr/sbin/
	$(if $(CONFIG_XB_XE),$(call xe-install,$(USB_BUILD)/root))
	$(Q)cp $(IMAGES_DIR)/xen-tools/xenstore $(USB_BUILD)/root/usr/bin/xenstore
	$(Q)[ -z "$(USB_MKFS_XFS)" ] || cp $(USB_MKFS_XFS) $(USB_BUILD)/root/usr/sbin/mkfs.xfs
	$(Q)for c in $(XEN_XENSTORE_COMMANDS); do ln -sfn xenstore $(USB_BUILD)/root/usr/bin/xenstore-$$c; done
	$(Q)[ -x $(USB_BUILD)/root/usr/bin/xenstore-write ] || { echo "usb: no xenstore-write in the root" >&2; exit 1; }
	$(Q)cp -a $(TOPDIR)/rootfs/usb/root/. $(USB_BUILD)/root/
	$(Q)for f in shadow hostname hosts resolv.conf issue; do ln -sfn ../run/$$f $(USB_BUILD)/root/etc/$$f; done
	$(Q)find $(USB_BUILD)/root -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} +
	$(Q)rm -f $@.tmp && mksquashfs $(USB_BUILD)/root $@.tmp -all-root -comp zstd -Xcompression-level 19 -b 256K \
		-noappend -no-progress -quiet >/dev/null
	$(Q)mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

# ---- the initramfs ---------------------------------------------------------------
# busybox, loop and squashfs, rootfs/usb/initrd/init, and the root itself
# (/rootfs.sqfs): the boot loader reads it all into RAM at once, and the
# root is mounted before the stick's USB stack is even loaded.  Not
# compressed: the squashfs is, and mboot.c32 would inflate the rest more
# slowly than it reads it.
$(USB_PARTS)/initrd.img: $(BUSYBOX_BIN) $(IMAGES_DIR)/modules/initrd/load-order \
		$(USB_PARTS)/rootfs.sqfs $(USB_INITRD_OVERLAY) $(USB_BOARD)/usb.mk
	@echo "  ROOTFS  usb initramfs"
	$(Q)rm -rf $(USB_BUILD)/initrd && mkdir -p $(USB_BUILD)/initrd $(@D)
	$(call sys-busybox,$(USB_BUILD)/initrd)
	$(call sys-modules,$(USB_BUILD)/initrd,initrd)
	$(Q)$(USB_UNSIGN) $(USB_BUILD)/initrd/lib/modules/*.ko
	$(Q)$(USB_STRIP_BTF) $(USB_BUILD)/initrd/lib/modules/*.ko
	$(Q)mkdir -p $(addprefix $(USB_BUILD)/initrd/,dev proc sys newroot)
	$(Q)cp -a $(TOPDIR)/rootfs/usb/initrd/. $(USB_BUILD)/initrd/
	$(Q)cp $(USB_PARTS)/rootfs.sqfs $(USB_BUILD)/initrd/rootfs.sqfs
	$(Q)find $(USB_BUILD)/initrd -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} +
	$(Q)cd $(USB_BUILD)/initrd && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | \
		cpio -o -H newc -R 0:0 --reproducible --quiet >$@.tmp
	$(Q)mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

# ---- the boot partition's files and the image -------------------------------------
# Made once (random) unless USB_PASSWORD is given; rewritten only when
# that differs, so an unchanged password rebuilds nothing.
ifneq ($(USB_PASSWORD),)
$(USB_PWFILE): FORCE
endif
$(USB_PWFILE):
	$(Q)mkdir -p $(@D)
	$(Q)umask 077 && { [ -n "$(USB_PASSWORD)" ] && echo "$(USB_PASSWORD)" || \
		head -c 12 /dev/urandom | base64 | tr -d '/+=' | cut -c1-12; } >$@.tmp
	$(Q)if [ -f $@ ] && cmp -s $@ $@.tmp; then rm $@.tmp; else mv $@.tmp $@; fi

$(USB_BUILD)/xenbox.conf: $(TOPDIR)/rootfs/usb/xenbox.conf $(USB_PWFILE) $(IMAGES_DIR)/xenbox $(XBIO_IMAGE)
	$(Q)mkdir -p $(@D)
	$(Q)api=$$($(IMAGES_DIR)/xenbox passwd --print <$(USB_PWFILE)) && \
		con=$$(openssl passwd -6 -stdin <$(USB_PWFILE)) && \
		sed -e "s|@ROOT_PASSWORD_HASH@|$$api|" -e "s|@CONSOLE_PASSWORD_HASH@|$$con|" $< >$@.tmp
	$(Q)mv $@.tmp $@

USB_FAT_FILES := $(USB_BUILD)/xenbox.conf $(USB_PARTS)/initrd.img \
	$(IMAGES_DIR)/xen.gz $(USB_PARTS)/vmlinux.zst $(SYSLINUX_DIR)/.stamp_extracted \
	$(USB_BOARD)/syslinux.cfg $(GRUB_EFI) $(USB_BOARD)/grub.cfg $(USB_BOARD)/mkimage.sh \
	$(USB_BOARD)/usb.mk

$(USB_IMG): $(USB_FAT_FILES)
	@echo "  FAT     boot partition"
	$(Q)f=$(USB_BUILD)/fat && rm -rf $$f/xenbox $$f/syslinux $$f/EFI && \
		mkdir -p $$f/xenbox $$f/syslinux $$f/EFI/BOOT
	$(Q)cp $(IMAGES_DIR)/xen.gz $(USB_PARTS)/vmlinux.zst $(USB_PARTS)/initrd.img \
		$(USB_BUILD)/fat/xenbox/
	$(Q)cp $(USB_BUILD)/xenbox.conf $(USB_BUILD)/fat/xenbox.conf
	$(Q)cp $(addprefix $(SYSLINUX_BIOS)/,ldlinux.c32 libcom32.c32 mboot.c32) $(USB_BUILD)/fat/syslinux/
	$(Q)sed -e 's|@XEN_ARGS@|$(USB_XEN_ARGS)|' -e 's|@DOM0_ARGS@|$(USB_DOM0_ARGS)|' \
		$(USB_BOARD)/syslinux.cfg >$(USB_BUILD)/fat/syslinux/syslinux.cfg
	$(Q)cp $(GRUB_EFI) $(USB_BUILD)/fat/EFI/BOOT/BOOTX64.EFI
	$(Q)sed -e 's|@XEN_ARGS@|$(USB_XEN_ARGS)|' -e 's|@DOM0_ARGS@|$(USB_DOM0_ARGS)|' \
		$(USB_BOARD)/grub.cfg >$(USB_BUILD)/fat/EFI/BOOT/grub.cfg
	$(Q)find $(USB_BUILD)/fat -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} +
	$(Q)$(USB_BOARD)/mkimage.sh $@ $(USB_BUILD)/fat $(SYSLINUX_DIR)/root

usb-image: $(USB_IMG)
all: $(USB_IMG)

# ---- sizes, QEMU, tests, benchmark -------------------------------------------------
usb-size: $(USB_IMG)
	$(Q)XB_MKFS_XFS=$(USB_MKFS_XFS) $(USB_BOARD)/size.sh $(USB_BUILD)/fat $(USB_IMG) $(IMAGES_DIR)/modules
size: usb-size

# `make run` (support/run.sh) configures and builds, then comes here.
usb-run: $(USB_IMG) $(OVMF_FD)
	$(Q)XB_USB_IMG=$(USB_IMG) XB_USB_PWFILE=$(USB_PWFILE) XB_OVMF=$(OVMF_FD) \
		UEFI=$(UEFI) $(USB_BOARD)/run-qemu.sh

# The pool test (tests/usb/test_pool_xen.py) puts the system tests' guest
# (board/board.mk) on a member's state partition: it is not on the stick.
usb-check: $(USB_IMG) $(OVMF_FD) $(SYS_GUEST_CPIO) $(IMAGES_DIR)/vmlinuz
	$(Q)python3 -m pytest --version >/dev/null 2>&1 && py=python3 || py=/usr/bin/python3; \
	cd $(TOPDIR) && XB_USB_IMG=$(USB_IMG) XB_OVMF=$(OVMF_FD) XB_XENBOX=$(IMAGES_DIR)/xenbox \
		$$py -m pytest -q -m system tests/usb $(USB_TESTS_ARGS)

bench-boot: $(USB_IMG) $(OVMF_FD)
	$(Q)XB_USB_IMG=$(USB_IMG) XB_OVMF=$(OVMF_FD) $(TOPDIR)/bench/boot/run.sh \
		$(USB_BUILD)/fat $(IMAGES_DIR)/modules

.PHONY: usb-image usb-size usb-run usb-check bench-boot

endif
