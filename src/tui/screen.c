/* The console's screen: wanted cells against shown cells (screen.h). */
#include "tui/screen.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct scr_cell blank = { ' ', SCR_NORMAL };

static void blank_grid(struct scr_cell g[SCR_ROWS][SCR_COLS])
{
	for (int r = 0; r < SCR_ROWS; r++)
		for (int c = 0; c < SCR_COLS; c++)
			g[r][c] = blank;
}

void scr_init(struct scr *s)
{
	memset(s, 0, sizeof(*s));
	blank_grid(s->want);
	scr_invalidate(s);
}

void scr_invalidate(struct scr *s)
{
	s->known = 0;
	s->row = s->col = -1;
	s->attr = -1;
}

void scr_clear(struct scr *s)
{
	blank_grid(s->want);
}

int scr_put(struct scr *s, int row, int col, int attr, const char *text)
{
	if (row < 0 || row >= SCR_ROWS)
		return col;
	for (; *text && col < SCR_COLS; text++, col++) {
		unsigned char ch = (unsigned char)*text;

		if (col < 0)
			continue;
		s->want[row][col].ch = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
		s->want[row][col].attr = (unsigned char)attr;
	}
	return col;
}

int scr_printf(struct scr *s, int row, int col, int attr, const char *fmt, ...)
{
	char line[SCR_COLS * 4];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return scr_put(s, row, col, attr, line);
}

void scr_fill(struct scr *s, int row, int col, int n, int attr, char ch)
{
	if (row < 0 || row >= SCR_ROWS)
		return;
	for (; n > 0 && col < SCR_COLS; n--, col++)
		if (col >= 0)
			s->want[row][col] = (struct scr_cell){ ch, (unsigned char)attr };
}

void scr_cursor(struct scr *s, int row, int col)
{
	s->cur_row = row < 0 ? 0 : row >= SCR_ROWS ? SCR_ROWS - 1 : row;
	s->cur_col = col < 0 ? 0 : col >= SCR_COLS ? SCR_COLS - 1 : col;
}

static int same(struct scr_cell a, struct scr_cell b)
{
	return a.ch == b.ch && a.attr == b.attr;
}

static int digits(int n)
{
	return n >= 10 ? 2 : 1;
}

static void set_attr(struct scr *s, struct buf *out, int attr)
{
	if (s->attr == attr)
		return;
	buf_adds(out, attr == SCR_REVERSE ? "\033[7m" : "\033[m");
	s->attr = attr;
}

/* Move the terminal's cursor to (r, c) the cheapest way this knows:
 * rewrite the cells in between (when they are shown as wanted and in the
 * current attribute), CR, CR LF, a forward move, or an absolute one. */
static void move_to(struct scr *s, struct buf *out, int r, int c)
{
	int cup = 4 + digits(r + 1) + digits(c + 1) - (c == 0 ? 2 : 0);
	int best = cup, how = 0, from = 0, k;

	if (s->row == r && s->col == c)
		return;
	if (s->row == r && s->col >= 0 && s->col < c) {
		int gap = c - s->col, ok = gap <= 8;

		for (k = s->col; ok && k < c; k++)
			ok = same(s->have[r][k], s->want[r][k]) && s->have[r][k].attr == s->attr;
		if (ok && gap < best)
			best = gap, how = 1, from = s->col;
		if (3 + digits(gap) - (gap == 1) < best)
			best = 3 + digits(gap) - (gap == 1), how = 2;
	}
	if (s->row == r || (s->row == r - 1 && s->col >= 0)) {
		int lf = s->row == r - 1, ok = c <= 8;

		for (k = 0; ok && k < c; k++)
			ok = same(s->have[r][k], s->want[r][k]) && s->have[r][k].attr == s->attr;
		if (ok && 1 + lf + c < best)
			best = 1 + lf + c, how = 3 + lf;
	}
	switch (how) {
	case 1:
		for (k = from; k < c; k++)
			buf_addc(out, s->have[r][k].ch);
		break;
	case 2:
		if (c - s->col == 1)
			buf_adds(out, "\033[C");
		else
			buf_addf(out, "\033[%dC", c - s->col);
		break;
	case 3:
	case 4:
		buf_adds(out, how == 4 ? "\r\n" : "\r");
		for (k = 0; k < c; k++)
			buf_addc(out, s->have[r][k].ch);
		break;
	default:
		if (r == 0 && c == 0)
			buf_adds(out, "\033[H");
		else if (c == 0)
			buf_addf(out, "\033[%dH", r + 1);
		else
			buf_addf(out, "\033[%d;%dH", r + 1, c + 1);
	}
	s->row = r;
	s->col = c;
}

static void put_cell(struct scr *s, struct buf *out, int r, int c)
{
	move_to(s, out, r, c);
	set_attr(s, out, s->want[r][c].attr);
	buf_addc(out, s->want[r][c].ch);
	s->have[r][c] = s->want[r][c];
	/* after the last column a VT100 waits to wrap: position unknown */
	if (++s->col >= SCR_COLS)
		s->row = s->col = -1;
}

size_t scr_flush(struct scr *s, struct buf *out)
{
	size_t start = out->len;

	if (!s->known) {
		buf_adds(out, "\033[m\033[H\033[2J");
		blank_grid(s->have);
		s->known = 1;
		s->attr = SCR_NORMAL;
		s->row = s->col = 0;
	}
	for (int r = 0; r < SCR_ROWS; r++) {
		int tail = SCR_COLS, stale = 0, c;

		/* the wanted row ends in blanks from tail on; erasing them with
		 * EL beats writing spaces when enough shown cells are not blank */
		while (tail > 0 && same(s->want[r][tail - 1], blank))
			tail--;
		for (c = tail; c < SCR_COLS; c++)
			stale += !same(s->have[r][c], blank);
		for (c = 0; c < (stale > 3 ? tail : SCR_COLS); c++)
			if (!same(s->want[r][c], s->have[r][c]))
				put_cell(s, out, r, c);
		if (stale > 3) {
			move_to(s, out, r, tail);
			set_attr(s, out, SCR_NORMAL);
			buf_adds(out, "\033[K");
			for (c = tail; c < SCR_COLS; c++)
				s->have[r][c] = blank;
		}
	}
	move_to(s, out, s->cur_row, s->cur_col);
	return out->len - start;
}

/* ESC [ A..D, ESC O A..D (application mode), ESC [ n ~ (VT220 and Linux);
 * CR or LF is Enter (a serial terminal sends either), BS or DEL erases. */
int scr_key(const unsigned char *p, size_t n, int final, size_t *used)
{
	size_t i;

	if (!n)
		return 0;
	*used = 1;
	if (p[0] == '\r' || p[0] == '\n')
		return KEY_ENTER;
	if (p[0] == 0x7f || p[0] == 0x08)
		return KEY_BACKSPACE;
	if (p[0] != 0x1b)
		return p[0] >= 0x20 && p[0] < 0x7f ? p[0] : p[0] < 0x20 ? p[0] : KEY_UNKNOWN;
	if (n == 1)
		return final ? KEY_ESC : 0;
	if (p[1] != '[' && p[1] != 'O')
		return KEY_ESC;         /* ESC then another key: ESC alone */
	if (n == 2)
		return final ? (*used = 2, KEY_UNKNOWN) : 0;
	for (i = 2; i < n && i < 8; i++)
		if (p[i] >= 0x40 && p[i] <= 0x7e)
			break;
	if (i == n)
		return final || n >= 8 ? (*used = n, KEY_UNKNOWN) : 0;
	if (i >= 8) {
		*used = 8;
		return KEY_UNKNOWN;
	}
	*used = i + 1;
	switch (p[i]) {
	case 'A': return KEY_UP;
	case 'B': return KEY_DOWN;
	case 'C': return KEY_RIGHT;
	case 'D': return KEY_LEFT;
	case 'H': return KEY_HOME;
	case 'F': return KEY_END;
	case '~':
		switch (atoi((const char *)p + 2)) {
		case 1: case 7: return KEY_HOME;
		case 4: case 8: return KEY_END;
		case 5: return KEY_PGUP;
		case 6: return KEY_PGDN;
		case 15: return KEY_F5;
		}
	}
	return KEY_UNKNOWN;
}
