# busybox: the static musl userland of the dom0 and guest initramfs.
# Configured by busybox's own kconfig (it ships it): `allnoconfig`, then
# the symbols of package/busybox/busybox.config set, then `oldconfig`
# (busybox's allnoconfig ignores KCONFIG_ALLCONFIG); built with the
# project's target flags.  Not part of `all`: the board targets
# (board/board.mk: dom0-initramfs, guest-initramfs) pull it in.
include $(TOPDIR)/package/pkg-utils.mk

BUSYBOX_VERSION := $(call xb-upstream,busybox)
BUSYBOX_SOURCE  := $(call dl-file,busybox)
BUSYBOX_DIR     := $(BUILD_DIR)/busybox-$(BUSYBOX_VERSION)
BUSYBOX_CONFIG  := $(TOPDIR)/package/busybox/busybox.config

# musl-gcc sees only musl's headers; ip, insmod and friends need the
# kernel's (package/pkg-utils.mk: LINUX_INC).
BUSYBOX_LINUX_INC := $(LINUX_INC)

# busybox's Makefile takes CFLAGS from the environment and appends its own
# (-Os, sections, gc); on the command line they would replace its own.
# HOSTCC builds kconfig and the generators.  SOURCE_DATE_EPOCH (exported
# by the top Makefile) pins the build timestamp.
BUSYBOX_ENV := $(PKG_ENV) CFLAGS="$(PKG_TARGET_CFLAGS) -isystem $(BUSYBOX_LINUX_INC)" \
	LDFLAGS= KCONFIG_NOTIMESTAMP=1 KBUILD_VERBOSE=0
BUSYBOX_MAKE_OPTS := CC="$(TARGET_CC)" HOSTCC="$(HOST_CC)" SKIP_STRIP=y

$(BUSYBOX_DIR)/.stamp_extracted: $(BUSYBOX_SOURCE)
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

# Every line of our file must survive kconfig: a typo or an unmet
# dependency would otherwise drop an applet silently.
$(BUSYBOX_DIR)/.stamp_configured: $(BUSYBOX_DIR)/.stamp_extracted $(BUSYBOX_CONFIG) | $(LINUX_INC)/.stamp
	@echo "  CONFIG  busybox $(BUSYBOX_VERSION)"
	$(Q)grep -v '^#' $(BUSYBOX_CONFIG) | grep . >$(@D)/xb-fragment.config
	$(Q)$(BUSYBOX_ENV) $(MAKE) -s -C $(@D) $(BUSYBOX_MAKE_OPTS) allnoconfig \
		>$(@D)/config.out 2>&1 || { tail -40 $(@D)/config.out; exit 1; }
	$(Q)awk -F= 'NR == FNR { want[$$1] = $$0; next } \
		{ k = $$1; if (k ~ /^# CONFIG_/) { k = $$0; sub(/^# /, "", k); sub(/ is not set$$/, "", k) } } \
		k in want { print want[k]; done[k] = 1; next } { print } \
		END { for (k in want) if (!(k in done)) print want[k] }' \
		$(@D)/xb-fragment.config $(@D)/.config >$(@D)/.config.new
	$(Q)mv $(@D)/.config.new $(@D)/.config
	$(Q)yes '' | $(BUSYBOX_ENV) $(MAKE) -s -C $(@D) $(BUSYBOX_MAKE_OPTS) oldconfig \
		>>$(@D)/config.out 2>&1 || { tail -40 $(@D)/config.out; exit 1; }
	$(Q)while read -r l; do \
		grep -qxF "$$l" $(@D)/.config || { echo "busybox: '$$l' from $(BUSYBOX_CONFIG) is not in the result (unknown symbol or unmet dependency)" >&2; exit 1; }; \
	done <$(@D)/xb-fragment.config
	$(Q)touch $@

$(BUSYBOX_DIR)/.stamp_built: $(BUSYBOX_DIR)/.stamp_configured
	@echo "  BUILD   busybox $(BUSYBOX_VERSION)"
	$(Q)$(BUSYBOX_ENV) $(MAKE) -C $(@D) $(BUSYBOX_MAKE_OPTS) busybox busybox.links \
		>$(@D)/build.out 2>&1 || { tail -40 $(@D)/build.out; exit 1; }
	$(Q)file $(@D)/busybox | grep -q 'statically linked' || \
		{ echo "busybox: not a static binary" >&2; file $(@D)/busybox; exit 1; }
	$(Q)touch $@

$(IMAGES_DIR)/busybox/busybox: $(BUSYBOX_DIR)/.stamp_built
	$(Q)mkdir -p $(@D)
	$(Q)strip --strip-all -R .comment -R .note -o $@ $(BUSYBOX_DIR)/busybox
	$(Q)cp $(BUSYBOX_DIR)/busybox.links $(@D)/busybox.links
	@echo "  IMAGE   $@ ($$(stat -c %s $@) bytes, $$(wc -l <$(@D)/busybox.links) applets)"

busybox: $(IMAGES_DIR)/busybox/busybox
.PHONY: busybox

# The applet list installed next to it: one /path/applet per line.
BUSYBOX_BIN   := $(IMAGES_DIR)/busybox/busybox
BUSYBOX_LINKS := $(IMAGES_DIR)/busybox/busybox.links
