# Guest consoles (docs/CONSOLES.md): the route, the RFB server, the
# terminal emulator and the font; WebSocket framing is the pool's ws.c.
xb-srcs-$(CONFIG_XB_CONSOLE) += console/console.c console/rfb.c console/term.c console/font.c \
	pool/ws.c lib/sha1.c

# The font: 8x16 glyphs from GRUB's unicode.pf2 (GNU Unifont) in the
# pinned grub-common package, chosen and packed by support/gen-font.py.
ifeq ($(CONFIG_XB_CONSOLE),y)
xb-gen-hdrs-y += $(O)/gen/console_font.h
XB_FONT_DEB := $(call dl-file,grub-common)
$(O)/gen/console_font.h: $(XB_FONT_DEB) $(TOPDIR)/support/gen-font.py
	@mkdir -p $(dir $@)
	@echo "  GEN     $(notdir $@)"
	$(Q)rm -rf $@.d && mkdir -p $@.d && dpkg-deb --fsys-tarfile $< | \
		tar -x -C $@.d ./usr/share/grub/unicode.pf2
	$(Q)python3 $(TOPDIR)/support/gen-font.py $@.d/usr/share/grub/unicode.pf2 >$@.tmp && \
		mv $@.tmp $@ && rm -rf $@.d
endif
