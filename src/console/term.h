/* A VT100/ANSI terminal emulator for guest consoles (docs/CONSOLES.md):
 * what Linux's console, GRUB and the BSDs print on a serial line, turned
 * into a grid of cells.  Pure: bytes in, cells out; no I/O, no font, no
 * RFB.  The bytes are the guest's, so anything goes: every sequence is
 * bounded (parameters, string lengths), unknown ones are skipped, bad
 * UTF-8 becomes U+FFFD.
 *
 * Understood: C0 (BS HT LF VT FF CR SO SI CAN SUB ESC); ESC 7 8 D E M c
 * ( ) # = >, OSC and DCS strings (skipped); CSI @ A B C D E F G H I J K
 * L M P S T X Z a b d e f g h l m n r s t u ` with `?` modes 6 (origin),
 * 7 (autowrap), 25 (cursor), 1049/47/1047 (the alternate screen is the
 * same screen, cleared); SGR 0 1 2 4 5 7 8 21-29 30-37 38;5;n
 * 39 40-47 48;5;n 49 90-97 100-107 (256 colours beyond the first 16 and
 * 38;2 RGB are skipped); DEC special graphics (ESC ( 0, SO)
 * as Unicode box drawing; UTF-8.  CSI 8;rows;cols t resizes.
 *
 * Changes are tracked per row with a generation counter: a viewer keeps
 * the generation it last drew and redraws the rows whose generation is
 * newer (term_row_gen), so any number of viewers follow one terminal at
 * their own pace with one integer each. */
#ifndef XB_CONSOLE_TERM_H
#define XB_CONSOLE_TERM_H

#include <stddef.h>
#include <stdint.h>

#define TERM_COLS 80
#define TERM_ROWS 25
#define TERM_MAX_COLS 160
#define TERM_MAX_ROWS 64
#define TERM_NPARAM 16

/* Attributes in term_cell.attr */
#define TERM_A_UNDERLINE 1
#define TERM_A_BLINK     2

/* One character cell: a Unicode code point (BMP), its colours as indexes
 * into the 16-colour palette (term_palette), after bold and reverse video
 * were applied. */
struct term_cell {
	uint16_t ch;
	uint8_t fg : 4, bg : 4;
	uint8_t attr;
};

struct term {
	int cols, rows;
	struct term_cell *cells;        /* rows * cols */
	uint32_t *row_gen;              /* per row: the generation of its last change */
	uint32_t gen;                   /* the newest generation */
	int x, y;                       /* cursor: column, row */
	int wrap_next;                  /* a character at the last column: wrap before the next */
	int top, bot;                   /* scrolling region, rows [top, bot] */
	int cursor_on, autowrap, origin, insert;
	/* the pen: SGR's colours as set (before bold and reverse), its
	 * attributes, the charsets G0/G1 ('B' ASCII, '0' DEC graphics) and
	 * which is GL; saved and restored whole with the cursor */
	struct term_pen {
		uint8_t fg, bg, bold, reverse, underline, blink, concealed, gl, g[2];
	} pen;
	struct {
		int x, y;
		struct term_pen pen;
	} saved;
	/* the parser */
	uint8_t state, priv, nparam, inter;
	int param[TERM_NPARAM];
	uint32_t u8cp;                  /* UTF-8: the code point so far */
	uint8_t u8need, u8min;          /* bytes still owed; for overlong checks */
	uint16_t strlen_;               /* OSC/DCS bytes skipped so far */
};

/* An 80x25 terminal (0, or -ENOMEM).  Every row has a generation. */
int term_init(struct term *t, int cols, int rows);
void term_free(struct term *t);
/* Clear and home, as ESC c. */
void term_reset(struct term *t);
/* Feed the guest's bytes.  O(n) plus the scrolls. */
void term_feed(struct term *t, const void *data, size_t n);
/* New size (clamped to 1..TERM_MAX_*): contents kept at the top left,
 * cursor clamped, scrolling region reset; every row changes.  0 or
 * -ENOMEM (then unchanged). */
int term_resize(struct term *t, int cols, int rows);

static inline const struct term_cell *term_cell(const struct term *t, int x, int y)
{
	return &t->cells[y * t->cols + x];
}

/* The palette: 16 colours as 0xRRGGBB (VGA's). */
extern const uint32_t term_palette[16];

/* The text of row y, UTF-8, trailing blanks dropped, into out (size >= 4
 * * cols + 1).  For tests and logs. */
size_t term_row_text(const struct term *t, int y, char *out, size_t size);

#endif
