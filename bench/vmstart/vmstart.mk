# The VM-start benchmark's images (bench/vmstart/README.md).
#
#   make bench-vmstart-images   the system images, plus
#       $(IMAGES_DIR)/xl-overlay.cpio.gz         Debian's xl (package/xl) and
#                                                bench/vmstart/rootfs/
#       $(IMAGES_DIR)/dom0-xl-initramfs.cpio.gz  dom0-initramfs.cpio.gz with
#                                                the overlay appended (Linux
#                                                unpacks concatenated archives)
#   make bench-vmstart          builds them and runs bench/vmstart/run.sh
#                               (BENCH_ARGS: its arguments)
#
# The test dom0 (dom0-initramfs.cpio.gz) is not changed.

BENCH_XL_OVERLAY   := $(IMAGES_DIR)/xl-overlay.cpio.gz
BENCH_XL_INITRAMFS := $(IMAGES_DIR)/dom0-xl-initramfs.cpio.gz
BENCH_XL_ROOTFS    := $(shell find $(TOPDIR)/bench/vmstart/rootfs -type f 2>/dev/null)

$(BENCH_XL_OVERLAY): $(XL_DIR)/.stamp_staged $(BENCH_XL_ROOTFS) $(TOPDIR)/bench/vmstart/vmstart.mk
	@echo "  ROOTFS  xl overlay"
	$(Q)rm -rf $(SYS_DIR)/xl-overlay && mkdir -p $(SYS_DIR)/xl-overlay
	$(Q)cp -a $(XL_STAGE)/. $(TOPDIR)/bench/vmstart/rootfs/. $(SYS_DIR)/xl-overlay/
	$(call sys-cpio,$(SYS_DIR)/xl-overlay,$@)

$(BENCH_XL_INITRAMFS): $(SYS_DOM0_CPIO) $(BENCH_XL_OVERLAY)
	$(Q)cat $^ >$@.tmp && mv $@.tmp $@
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes)"

bench-vmstart-images: system-images $(BENCH_XL_INITRAMFS)

bench-vmstart: bench-vmstart-images
	$(Q)XB_SYSTEM_IMAGES=$(IMAGES_DIR) $(TOPDIR)/bench/vmstart/run.sh $(BENCH_ARGS)

.PHONY: bench-vmstart-images bench-vmstart
