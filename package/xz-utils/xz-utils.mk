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

# A change to this file builds liblzma anew from a fresh tree.
$(XZ_DIR)/.stamp_extracted: $(XZ_SOURCE) $(TOPDIR)/package/xz-utils/xz-utils.mk
	$(call xb-extract,$<,$(@D))
	$(Q)touch $@

$(XZ_DIR)/.stamp_configured: $(XZ_DIR)/.stamp_extracted
	@echo "  CONFIG  xz-utils $(XZ_VERSION) (liblzma)"
	$(Q)cd $(@D) && CC="$(TARGET_CC)" CFLAGS="$(PKG_TARGET_CFLAGS) $(PKG_LTO_CFLAGS)" \
		AR=ar AR_FLAGS=crD ./configure $(XZ_CONF_OPTS) >config.out 2>&1 \
		|| { tail -30 config.out; exit 1; }
	$(Q)touch $@

# The integrity checks' tables, 16 KiB of constants, are left out of the
# archive (docs/BUILDING.md):
#  - CRC-32 is zlib's (package/zlib makes its tables at run time):
#    xb_lzma_crc32.c replaces crc32_fast.o, whose tables and CLMUL code
#    would be a second CRC-32;
#  - CRC-64 is liblzma's own crc64_small.c (a 2 KiB table made by a
#    constructor, byte at a time) instead of crc64_fast.o: x86 kernels are
#    packed with CRC-32, CRC-64 is only for .xz files made by hand.
# The rest of the decoder stays the fast one (--enable-small would slow it).
XZ_LIB := $(XZ_DIR)/xb-lib/liblzma.a
XZ_ZLIB_STAMP := $(BUILD_DIR)/zlib-$(call xb-upstream,zlib)/.stamp_installed

$(XZ_DIR)/.stamp_built: $(XZ_DIR)/.stamp_configured $(TOPDIR)/package/xz-utils/xb_lzma_crc32.c | $(XZ_ZLIB_STAMP)
	@echo "  BUILD   liblzma $(XZ_VERSION)"
	$(Q)$(PKG_ENV) $(MAKE) -s -C $(@D)/src/liblzma liblzma.la liblzma_la-crc64_small.lo \
		AR_FLAGS=crD >/dev/null
	$(Q)$(TARGET_CC) $(PKG_TARGET_CFLAGS) $(PKG_LTO_CFLAGS) -Wall -Werror \
		-I$(@D)/src/liblzma/api -I$(STAGING_DIR)/include \
		-c -o $(@D)/src/liblzma/xb_lzma_crc32.o $(TOPDIR)/package/xz-utils/xb_lzma_crc32.c
	$(Q)rm -rf $(@D)/xb-lib && mkdir -p $(@D)/xb-lib && cd $(@D)/xb-lib && \
		ar x $(@D)/src/liblzma/.libs/liblzma.a && \
		rm liblzma_la-crc32_fast.o liblzma_la-crc64_fast.o && \
		cp $(@D)/src/liblzma/xb_lzma_crc32.o $(@D)/src/liblzma/liblzma_la-crc64_small.o . && \
		ar rcsD $(XZ_LIB) $$(ls *.o | LC_ALL=C sort) && rm -f *.o
	$(Q)touch $@

$(XZ_DIR)/.stamp_installed: $(XZ_DIR)/.stamp_built
	$(Q)install -D -m 0644 $(@D)/src/liblzma/api/lzma.h $(STAGING_DIR)/include/lzma.h
	$(Q)mkdir -p $(STAGING_DIR)/include/lzma
	$(Q)install -m 0644 $(@D)/src/liblzma/api/lzma/*.h \
		$(STAGING_DIR)/include/lzma/
	$(Q)install -D -m 0644 $(XZ_LIB) $(STAGING_DIR)/lib/liblzma.a
	$(Q)touch $@

xz-utils: $(XZ_DIR)/.stamp_installed
.PHONY: xz-utils

XB_TARGET_LIBS += $(STAGING_DIR)/lib/liblzma.a
XB_TARGET_DEPS += $(XZ_DIR)/.stamp_installed

endif
