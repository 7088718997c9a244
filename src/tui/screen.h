/* The console's screen (docs/SERIAL_CONSOLE.md): what the program wants shown,
 * as a grid of cells, and what the terminal shows; scr_flush() writes the
 * VT100 bytes that turn the one into the other, only where they differ,
 * with the cheapest cursor moves it knows (at 9600 baud a full screen is
 * two seconds, one changed figure a few milliseconds).  Pure: no terminal,
 * no I/O, the bytes go into a buffer. */
#ifndef XB_TUI_SCREEN_H
#define XB_TUI_SCREEN_H

#include <stddef.h>

#include "lib/buf.h"

#define SCR_ROWS 24
#define SCR_COLS 80

enum { SCR_NORMAL = 0, SCR_REVERSE = 1 };

struct scr_cell {
	char ch;                        /* printable ASCII */
	unsigned char attr;             /* SCR_NORMAL or SCR_REVERSE */
};

struct scr {
	struct scr_cell want[SCR_ROWS][SCR_COLS];
	struct scr_cell have[SCR_ROWS][SCR_COLS];
	int known;                      /* 0: the terminal's content is unknown */
	int row, col;                   /* the terminal's cursor; -1: unknown */
	int attr;                       /* the terminal's attribute; -1: unknown */
	int cur_row, cur_col;           /* where the cursor should rest */
};

void scr_init(struct scr *s);           /* the terminal unknown: the next flush repaints */
void scr_invalidate(struct scr *s);     /* the same, after something else wrote on it */
void scr_clear(struct scr *s);          /* the wanted screen blank */
/* Text at (row, col), clipped at the edge; bytes outside 0x20..0x7e as '?'.
 * Returns the column after the text. */
int scr_put(struct scr *s, int row, int col, int attr, const char *text);
int scr_printf(struct scr *s, int row, int col, int attr, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void scr_fill(struct scr *s, int row, int col, int n, int attr, char ch);
void scr_cursor(struct scr *s, int row, int col);
/* Append to out what makes the terminal show the wanted screen; returns
 * the number of bytes appended (0 when nothing changed). */
size_t scr_flush(struct scr *s, struct buf *out);

/* Keys from the terminal: printable ASCII as itself, these above 0xff.
 * scr_key() takes the bytes read so far; it returns the key and sets *used,
 * or returns 0 when an escape sequence is still incomplete (then, after a
 * pause, a lone ESC is KEY_ESC: call it with final = 1). */
enum {
	KEY_UP = 0x100, KEY_DOWN, KEY_LEFT, KEY_RIGHT, KEY_HOME, KEY_END,
	KEY_PGUP, KEY_PGDN, KEY_ESC, KEY_ENTER, KEY_BACKSPACE, KEY_F5,
	KEY_UNKNOWN,
};
int scr_key(const unsigned char *p, size_t n, int final, size_t *used);

#endif
