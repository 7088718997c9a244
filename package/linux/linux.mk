# The Linux kernel of dom0 and of the test guests: Debian's signed image
# package (linux-image-6.1.0-N-amd64), pinned in package/sources.lock and
# unpacked with dpkg-deb (no root).  The kernel has Xen PV (dom0 and
# guest) built in; everything else we need is a module.
#
#   $(IMAGES_DIR)/vmlinuz                     the kernel (bzImage, XZ payload)
#   $(IMAGES_DIR)/vmlinux                     its payload, an uncompressed ELF:
#                                             Xen builds dom0 from it ~2-3 s
#                                             faster under TCG (no XZ)
#   $(IMAGES_DIR)/vmlinux.gz                  the same, gzip'd: the test guest's
#                                             kernel (libxenguest inflates it
#                                             faster than it un-XZes vmlinuz)
#   $(IMAGES_DIR)/modules/<set>/*.ko          the modules a board lists in
#   $(IMAGES_DIR)/modules/<set>/load-order    board/<board>/<set>-modules,
#                                             uncompressed, in load order
#
# package/linux/modules.sh does the module selection and checks that each
# module's dependencies come before it in the list.  Not part of `all`:
# the system images (board/board.mk) pull these in.
include $(TOPDIR)/package/pkg-utils.mk

LINUX_VERSION := $(call dl-version,linux-image)
LINUX_DEB     := $(call dl-file,linux-image)
LINUX_DIR     := $(BUILD_DIR)/linux-image-$(LINUX_VERSION)

# Only boot/ and lib/modules/ are kept (the package also holds docs).
$(LINUX_DIR)/.stamp_extracted: $(LINUX_DEB)
	@echo "  DPKG-X  $(notdir $<)"
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/root
	$(Q)dpkg-deb -x $< $(@D)/root
	$(Q)rm -rf $(@D)/root/usr
	$(Q)set -- $(@D)/root/boot/vmlinuz-*; [ $$# -eq 1 ] && [ -f "$$1" ] || \
		{ echo "linux: expected one boot/vmlinuz-* in $(notdir $<)" >&2; exit 1; }
	$(Q)ls $(@D)/root/lib/modules >$(@D)/kernel-release
	$(Q)[ $$(wc -l <$(@D)/kernel-release) -eq 1 ] || \
		{ echo "linux: expected one lib/modules/<release> in $(notdir $<)" >&2; exit 1; }
	$(Q)touch $@

$(IMAGES_DIR)/vmlinuz: $(LINUX_DIR)/.stamp_extracted
	$(Q)mkdir -p $(@D)
	$(Q)cp $(LINUX_DIR)/root/boot/vmlinuz-* $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes, $$(cat $(LINUX_DIR)/kernel-release))"

# The XZ payload of the bzImage (what scripts/extract-vmlinux does); xz
# ignores the bzImage's trailer after the stream.
$(IMAGES_DIR)/vmlinux: $(IMAGES_DIR)/vmlinuz
	$(Q)off=$$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' $< | head -1 | cut -d: -f1); \
		[ -n "$$off" ] || { echo "linux: no XZ payload in $<" >&2; exit 1; }; \
		tail -c +$$((off + 1)) $< | xz -dc --single-stream >$@.tmp
	$(Q)head -c 4 $@.tmp | grep -q ELF || { echo "linux: the payload of $< is not an ELF" >&2; rm -f $@.tmp; exit 1; }
	$(Q)mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

$(IMAGES_DIR)/vmlinux.gz: $(IMAGES_DIR)/vmlinux
	$(Q)gzip -9n -c $< >$@.tmp && mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

# $(IMAGES_DIR)/modules/SET/load-order from board/<board>/SET-modules.
$(IMAGES_DIR)/modules/%/load-order: $(LINUX_DIR)/.stamp_extracted $(TOPDIR)/package/linux/modules.sh \
		$(TOPDIR)/board/$(patsubst "%",%,$(CONFIG_XB_BOARD))/%-modules
	$(Q)$(TOPDIR)/package/linux/modules.sh \
		$(TOPDIR)/board/$(patsubst "%",%,$(CONFIG_XB_BOARD))/$*-modules \
		$(LINUX_DIR)/root/lib/modules/$$(cat $(LINUX_DIR)/kernel-release) $(@D)
	@echo "  IMAGE   $(@D) ($$(wc -l <$@) modules, $$(cat $(@D)/*.ko | wc -c) bytes)"

linux: $(IMAGES_DIR)/vmlinuz $(IMAGES_DIR)/vmlinux
.PHONY: linux
