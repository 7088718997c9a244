# liblzma from xz-utils: decoder only, no threads, static.  libxenguest
# uses it for XZ- and LZMA-compressed guest kernels (Debian's are XZ).
include $(TOPDIR)/package/pkg-utils.mk

ifeq ($(CONFIG_XB_PACKAGE_XZ),y)

XZ_VERSION := $(call xb-upstream,xz-utils)
XZ_SOURCE  := $(call dl-file,xz-utils)
XZ_DIR     := $(BUILD_DIR)/xz-utils-$(XZ_VERSION)

# Decoders: LZMA1 (legacy .lzma kernels), LZMA2 (.xz), and the x86 BCJ and
# delta filters that x86 kernels are packed with.
XZ_CONF_OPTS := --host=x86_64-linux-musl --build=x86_64-linux-gnu \
	--disable-shared --enable-static --disable-encoders \
	--enable-decoders=lzma1,lzma2,x86,delta --disable-microlzma \
	--disable-lzip-decoder --disable-threads --disable-xz --disable-xzdec \
	--disable-lzmadec --disable-lzmainfo --disable-lzma-links \
	--disable-scripts --disable-doc --disable-nls --disable-rpath \
	--disable-sandbox --disable-symbol-versions --disable-dependency-tracking

$(XZ_DIR)/.stamp_extracted: $(XZ_SOURCE)
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

$(XZ_DIR)/.stamp_configured: $(XZ_DIR)/.stamp_extracted
	@echo "  CONFIG  xz-utils $(XZ_VERSION) (liblzma)"
	$(Q)cd $(@D) && CC="$(TARGET_CC)" CFLAGS="$(PKG_TARGET_CFLAGS) $(PKG_LTO_CFLAGS)" \
		AR=ar AR_FLAGS=crD ./configure $(XZ_CONF_OPTS) >config.out 2>&1 \
		|| { tail -30 config.out; exit 1; }
	$(Q)touch $@

$(XZ_DIR)/.stamp_built: $(XZ_DIR)/.stamp_configured
	@echo "  BUILD   liblzma $(XZ_VERSION)"
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/src/liblzma liblzma.la AR_FLAGS=crD >/dev/null
	$(Q)touch $@

$(XZ_DIR)/.stamp_installed: $(XZ_DIR)/.stamp_built
	$(Q)install -D -m 0644 $(@D)/src/liblzma/api/lzma.h $(STAGING_DIR)/include/lzma.h
	$(Q)mkdir -p $(STAGING_DIR)/include/lzma
	$(Q)install -m 0644 $(@D)/src/liblzma/api/lzma/*.h \
		$(STAGING_DIR)/include/lzma/
	$(Q)install -D -m 0644 $(@D)/src/liblzma/.libs/liblzma.a $(STAGING_DIR)/lib/liblzma.a
	$(Q)touch $@

xz-utils: $(XZ_DIR)/.stamp_installed
.PHONY: xz-utils

XB_TARGET_LIBS += $(STAGING_DIR)/lib/liblzma.a
XB_TARGET_DEPS += $(XZ_DIR)/.stamp_installed

endif
