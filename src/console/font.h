/* The console's built-in 8x16 font (docs/CONSOLES.md): the glyphs of the
 * code points a guest console prints, from GNU Unifont as GRUB ships it
 * (support/gen-font.py makes console_font.h at build time). */
#ifndef XB_CONSOLE_FONT_H
#define XB_CONSOLE_FONT_H

#include <stdint.h>

#define FONT_W 8
#define FONT_H 16

/* The 16 rows of cp's glyph into rows (bit 7: the leftmost pixel);
 * U+FFFD's for a code point the font lacks.  O(log n). */
void font_glyph(uint32_t cp, uint8_t rows[FONT_H]);

#endif
