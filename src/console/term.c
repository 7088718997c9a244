/* The terminal emulator: see term.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "console/term.h"

enum { S_GROUND, S_ESC, S_CSI, S_STR, S_STR_ESC, S_CHARSET, S_HASH };

#define STR_MAX 4096            /* an OSC or DCS string longer than this ends */
#define PARAM_MAX 9999

const uint32_t term_palette[16] = {
	0x000000, 0xaa0000, 0x00aa00, 0xaa5500, 0x0000aa, 0xaa00aa, 0x00aaaa, 0xaaaaaa,
	0x555555, 0xff5555, 0x55ff55, 0xffff55, 0x5555ff, 0xff55ff, 0x55ffff, 0xffffff,
};

/* DEC special graphics, 0x5f..0x7e */
static const uint16_t dec_graphics[32] = {
	0x00a0, 0x25c6, 0x2592, 0x2409, 0x240c, 0x240d, 0x240a, 0x00b0,
	0x00b1, 0x2424, 0x240b, 0x2518, 0x2510, 0x250c, 0x2514, 0x253c,
	0x23ba, 0x23bb, 0x2500, 0x23bc, 0x23bd, 0x251c, 0x2524, 0x2534,
	0x252c, 0x2502, 0x2264, 0x2265, 0x03c0, 0x2260, 0x00a3, 0x00b7,
};

static void save_cursor(struct term *t);

static void touch(struct term *t, int y)
{
	t->row_gen[y] = ++t->gen;
}

static void touch_all(struct term *t)
{
	t->gen++;
	for (int y = 0; y < t->rows; y++)
		t->row_gen[y] = t->gen;
}

static struct term_cell blank(const struct term *t)
{
	struct term_cell c = { ' ', 7, 0, 0 };

	c.fg = t->pen.reverse ? t->pen.bg : t->pen.fg;
	c.bg = t->pen.reverse ? t->pen.fg : t->pen.bg;
	return c;
}

static void clear_cells(struct term *t, int y, int x0, int x1)
{
	struct term_cell b = blank(t);

	for (int x = x0; x < x1; x++)
		t->cells[y * t->cols + x] = b;
	touch(t, y);
}

/* Rows [top, bot] move up by n (n < 0: down), the rows let in cleared. */
static void scroll(struct term *t, int top, int bot, int n)
{
	int h = bot - top + 1, c = t->cols;

	if (n > h)
		n = h;
	if (n < -h)
		n = -h;
	if (n > 0) {
		memmove(&t->cells[top * c], &t->cells[(top + n) * c],
			sizeof(*t->cells) * (size_t)((h - n) * c));
		for (int y = bot - n + 1; y <= bot; y++)
			clear_cells(t, y, 0, c);
	} else if (n < 0) {
		n = -n;
		memmove(&t->cells[(top + n) * c], &t->cells[top * c],
			sizeof(*t->cells) * (size_t)((h - n) * c));
		for (int y = top; y < top + n; y++)
			clear_cells(t, y, 0, c);
	}
	t->gen++;
	for (int y = top; y <= bot; y++)
		t->row_gen[y] = t->gen;
}

static void move_to(struct term *t, int x, int y)
{
	int lo = t->origin ? t->top : 0, hi = t->origin ? t->bot : t->rows - 1;

	if (t->origin)
		y += t->top;
	touch(t, t->y);
	t->x = x < 0 ? 0 : x >= t->cols ? t->cols - 1 : x;
	t->y = y < lo ? lo : y > hi ? hi : y;
	t->wrap_next = 0;
	touch(t, t->y);
}

/* Relative moves stop at the scrolling region when inside it. */
static void move_rel(struct term *t, int dx, int dy)
{
	int y = t->y + dy, lo = 0, hi = t->rows - 1;

	if (t->y >= t->top && t->y <= t->bot) {
		lo = t->top;
		hi = t->bot;
	}
	y = y < lo ? lo : y > hi ? hi : y;
	touch(t, t->y);
	t->x += dx;
	t->x = t->x < 0 ? 0 : t->x >= t->cols ? t->cols - 1 : t->x;
	t->y = y;
	t->wrap_next = 0;
	touch(t, t->y);
}

static void line_feed(struct term *t)
{
	touch(t, t->y);
	if (t->y == t->bot)
		scroll(t, t->top, t->bot, 1);
	else if (t->y < t->rows - 1)
		t->y++;
	t->wrap_next = 0;
	touch(t, t->y);
}

static void reverse_index(struct term *t)
{
	touch(t, t->y);
	if (t->y == t->top)
		scroll(t, t->top, t->bot, -1);
	else if (t->y > 0)
		t->y--;
	t->wrap_next = 0;
	touch(t, t->y);
}

static void sgr_reset(struct term *t)
{
	t->pen.fg = 7;
	t->pen.bg = 0;
	t->pen.bold = t->pen.reverse = t->pen.underline = t->pen.blink = t->pen.concealed = 0;
}

int term_init(struct term *t, int cols, int rows)
{
	memset(t, 0, sizeof(*t));
	return term_resize(t, cols, rows);
}

void term_free(struct term *t)
{
	free(t->cells);
	free(t->row_gen);
	t->cells = NULL;
	t->row_gen = NULL;
}

void term_reset(struct term *t)
{
	sgr_reset(t);
	t->x = t->y = t->wrap_next = 0;
	t->top = 0;
	t->bot = t->rows - 1;
	t->cursor_on = t->autowrap = 1;
	t->origin = t->insert = 0;
	t->pen.g[0] = t->pen.g[1] = 'B';
	t->pen.gl = 0;
	t->state = S_GROUND;
	t->u8need = 0;
	save_cursor(t);
	for (int y = 0; y < t->rows; y++)
		clear_cells(t, y, 0, t->cols);
	touch_all(t);
}

int term_resize(struct term *t, int cols, int rows)
{
	struct term_cell *cells;
	uint32_t *gen;
	int fresh = !t->cells;

	cols = cols < 1 ? 1 : cols > TERM_MAX_COLS ? TERM_MAX_COLS : cols;
	rows = rows < 1 ? 1 : rows > TERM_MAX_ROWS ? TERM_MAX_ROWS : rows;
	cells = malloc(sizeof(*cells) * (size_t)(cols * rows));
	gen = malloc(sizeof(*gen) * (size_t)rows);
	if (!cells || !gen) {
		free(cells);
		free(gen);
		return -ENOMEM;
	}
	for (int y = 0; y < rows; y++)
		for (int x = 0; x < cols; x++)
			cells[y * cols + x] = y < t->rows && x < t->cols ? *term_cell(t, x, y)
				: (struct term_cell){ ' ', 7, 0, 0 };
	term_free(t);
	t->cells = cells;
	t->row_gen = gen;
	t->cols = cols;
	t->rows = rows;
	if (fresh) {
		term_reset(t);
		return 0;
	}
	t->x = t->x >= cols ? cols - 1 : t->x;
	t->y = t->y >= rows ? rows - 1 : t->y;
	t->wrap_next = 0;
	t->top = 0;
	t->bot = rows - 1;
	touch_all(t);
	return 0;
}

static void put_char(struct term *t, uint32_t cp)
{
	struct term_cell *c;
	uint8_t fg, bg;

	if (t->pen.g[t->pen.gl] == '0' && cp >= 0x5f && cp <= 0x7e)
		cp = dec_graphics[cp - 0x5f];
	if (cp > 0xffff)
		cp = 0xfffd;
	if (t->wrap_next) {
		if (t->autowrap) {
			t->x = 0;
			line_feed(t);
		}
		t->wrap_next = 0;
	}
	if (t->insert && t->x < t->cols - 1) {
		c = &t->cells[t->y * t->cols + t->x];
		memmove(c + 1, c, sizeof(*c) * (size_t)(t->cols - t->x - 1));
	}
	fg = t->pen.fg;
	if (t->pen.bold && fg < 8)
		fg += 8;
	bg = t->pen.bg;
	c = &t->cells[t->y * t->cols + t->x];
	c->ch = t->pen.concealed ? ' ' : (uint16_t)cp;
	c->fg = t->pen.reverse ? bg : fg;
	c->bg = t->pen.reverse ? fg : bg;
	c->attr = (t->pen.underline ? TERM_A_UNDERLINE : 0) | (t->pen.blink ? TERM_A_BLINK : 0);
	touch(t, t->y);
	if (t->x == t->cols - 1)
		t->wrap_next = 1;
	else
		t->x++;
}

static int p(const struct term *t, int i, int def)
{
	return i < t->nparam && t->param[i] ? t->param[i] : def;
}

static void sgr(struct term *t)
{
	if (!t->nparam)
		t->nparam = 1, t->param[0] = 0;
	for (int i = 0; i < t->nparam; i++) {
		int v = t->param[i];

		if (v == 0)
			sgr_reset(t);
		else if (v == 1)
			t->pen.bold = 1;
		else if (v == 4 || v == 21)
			t->pen.underline = 1;
		else if (v == 5)
			t->pen.blink = 1;
		else if (v == 7)
			t->pen.reverse = 1;
		else if (v == 8)
			t->pen.concealed = 1;
		else if (v == 22 || v == 2)
			t->pen.bold = 0;
		else if (v == 24)
			t->pen.underline = 0;
		else if (v == 25)
			t->pen.blink = 0;
		else if (v == 27)
			t->pen.reverse = 0;
		else if (v == 28)
			t->pen.concealed = 0;
		else if (v >= 30 && v <= 37)
			t->pen.fg = (uint8_t)(v - 30);
		else if (v == 39)
			t->pen.fg = 7;
		else if (v >= 40 && v <= 47)
			t->pen.bg = (uint8_t)(v - 40);
		else if (v == 49)
			t->pen.bg = 0;
		else if (v >= 90 && v <= 97)
			t->pen.fg = (uint8_t)(v - 90 + 8);
		else if (v >= 100 && v <= 107)
			t->pen.bg = (uint8_t)(v - 100 + 8);
		else if (v == 38 || v == 48) {
			/* 38;5;n: the 16 colours; more (and 38;2;r;g;b) are
			 * not drawn, their parameters skipped */
			if (i + 2 < t->nparam && t->param[i + 1] == 5 && t->param[i + 2] < 16) {
				if (v == 38)
					t->pen.fg = (uint8_t)t->param[i + 2];
				else
					t->pen.bg = (uint8_t)t->param[i + 2];
			}
			i += i + 1 < t->nparam && t->param[i + 1] == 2 ? 4 : 2;
		}
	}
}

static void set_mode(struct term *t, int on)
{
	for (int i = 0; i < t->nparam; i++) {
		int v = t->param[i];

		if (!t->priv) {
			if (v == 4)
				t->insert = on;
			continue;
		}
		if (v == 6) {
			t->origin = on;
			move_to(t, 0, 0);
		} else if (v == 7) {
			t->autowrap = on;
		} else if (v == 25) {
			t->cursor_on = on;
			touch(t, t->y);
		} else if (v == 47 || v == 1047 || v == 1049) {
			/* one screen: entering or leaving the alternate one clears it */
			for (int y = 0; y < t->rows; y++)
				clear_cells(t, y, 0, t->cols);
		}
	}
}

static void save_cursor(struct term *t)
{
	t->saved.x = t->x;
	t->saved.y = t->y;
	t->saved.pen = t->pen;
}

static void restore_cursor(struct term *t)
{
	touch(t, t->y);
	t->x = t->saved.x < t->cols ? t->saved.x : t->cols - 1;
	t->y = t->saved.y < t->rows ? t->saved.y : t->rows - 1;
	t->pen = t->saved.pen;
	t->wrap_next = 0;
	touch(t, t->y);
}

static void csi(struct term *t, unsigned char f)
{
	int n = p(t, 0, 1), c = t->cols;
	struct term_cell *row = &t->cells[t->y * c];

	if (t->inter)
		return;         /* CSI with intermediates (DECSCUSR, ...): none we do */
	if (t->priv && f != 'h' && f != 'l')
		return;
	switch (f) {
	case '@':               /* insert blanks */
		n = n > c - t->x ? c - t->x : n;
		memmove(row + t->x + n, row + t->x, sizeof(*row) * (size_t)(c - t->x - n));
		clear_cells(t, t->y, t->x, t->x + n);
		break;
	case 'A': move_rel(t, 0, -n); break;
	case 'B': case 'e': move_rel(t, 0, n); break;
	case 'C': case 'a': move_rel(t, n, 0); break;
	case 'D': move_rel(t, -n, 0); break;
	case 'E': move_rel(t, -t->x, n); break;
	case 'F': move_rel(t, -t->x, -n); break;
	case 'G': case '`': move_to(t, n - 1, t->origin ? t->y - t->top : t->y); break;
	case 'H': case 'f': move_to(t, p(t, 1, 1) - 1, n - 1); break;
	case 'd': move_to(t, t->x, n - 1); break;
	case 'I':
		while (n-- > 0 && t->x < c - 1)
			move_rel(t, 8 - (t->x & 7), 0);
		break;
	case 'J': {
		int m = p(t, 0, 0);

		if (m == 0) {
			clear_cells(t, t->y, t->x, c);
			for (int y = t->y + 1; y < t->rows; y++)
				clear_cells(t, y, 0, c);
		} else if (m == 1) {
			for (int y = 0; y < t->y; y++)
				clear_cells(t, y, 0, c);
			clear_cells(t, t->y, 0, t->x + 1);
		} else if (m == 2 || m == 3) {
			for (int y = 0; y < t->rows; y++)
				clear_cells(t, y, 0, c);
		}
		break;
	}
	case 'K': {
		int m = p(t, 0, 0);

		if (m == 0)
			clear_cells(t, t->y, t->x, c);
		else if (m == 1)
			clear_cells(t, t->y, 0, t->x + 1);
		else if (m == 2)
			clear_cells(t, t->y, 0, c);
		break;
	}
	case 'L':
		if (t->y >= t->top && t->y <= t->bot)
			scroll(t, t->y, t->bot, -n);
		break;
	case 'M':
		if (t->y >= t->top && t->y <= t->bot)
			scroll(t, t->y, t->bot, n);
		break;
	case 'P':
		n = n > c - t->x ? c - t->x : n;
		memmove(row + t->x, row + t->x + n, sizeof(*row) * (size_t)(c - t->x - n));
		clear_cells(t, t->y, c - n, c);
		break;
	case 'X':
		clear_cells(t, t->y, t->x, t->x + n > c ? c : t->x + n);
		break;
	case 'S': scroll(t, t->top, t->bot, n); break;
	case 'T': scroll(t, t->top, t->bot, -n); break;
	case 'h': set_mode(t, 1); break;
	case 'l': set_mode(t, 0); break;
	case 'm': sgr(t); break;
	case 'r': {
		int top = p(t, 0, 1) - 1, bot = p(t, 1, t->rows) - 1;

		if (bot >= t->rows)
			bot = t->rows - 1;
		if (top < bot) {
			t->top = top;
			t->bot = bot;
			move_to(t, 0, 0);
		}
		break;
	}
	case 's': save_cursor(t); break;
	case 'u': restore_cursor(t); break;
	case 't':
		if (p(t, 0, 0) == 8)
			term_resize(t, p(t, 2, t->cols), p(t, 1, t->rows));
		break;
	default:
		break;  /* b, g, n, Z, c...: nothing to draw */
	}
}

static void esc(struct term *t, unsigned char b)
{
	t->state = S_GROUND;
	switch (b) {
	case '[':
		t->state = S_CSI;
		t->nparam = 0;
		t->priv = 0;
		t->inter = 0;
		memset(t->param, 0, sizeof(t->param));
		break;
	case ']': case 'P': case '_': case '^': case 'X':
		t->state = S_STR;
		t->strlen_ = 0;
		break;
	case '(': case ')':
		t->state = S_CHARSET;
		t->inter = b;
		break;
	case '#': t->state = S_HASH; break;
	case '7': save_cursor(t); break;
	case '8': restore_cursor(t); break;
	case 'D': line_feed(t); break;
	case 'E': t->x = 0; line_feed(t); break;
	case 'M': reverse_index(t); break;
	case 'c': term_reset(t); break;
	default: break;         /* = > and the rest */
	}
}

static void control(struct term *t, unsigned char b)
{
	switch (b) {
	case '\b':
		if (t->x > 0)
			move_rel(t, -1, 0);
		else
			t->wrap_next = 0;
		break;
	case '\t':
		if (t->x < t->cols - 1)
			move_rel(t, 8 - (t->x & 7), 0);
		break;
	case '\n': case '\v': case '\f': line_feed(t); break;
	case '\r':
		touch(t, t->y);
		t->x = 0;
		t->wrap_next = 0;
		break;
	case 0x0e: t->pen.gl = 1; break;
	case 0x0f: t->pen.gl = 0; break;
	case 0x18: case 0x1a: t->state = S_GROUND; break;
	case 0x1b: t->state = S_ESC; break;
	default: break;         /* NUL, BEL, ... */
	}
}

static void byte(struct term *t, unsigned char b)
{
	/* UTF-8 in the ground state */
	if (t->u8need) {
		if ((b & 0xc0) == 0x80) {
			t->u8cp = t->u8cp << 6 | (b & 0x3f);
			if (--t->u8need)
				return;
			if (t->u8cp < (uint32_t)1 << t->u8min || t->u8cp > 0x10ffff ||
			    (t->u8cp >= 0xd800 && t->u8cp < 0xe000))
				t->u8cp = 0xfffd;
			put_char(t, t->u8cp);
			return;
		}
		t->u8need = 0;
		put_char(t, 0xfffd);    /* then b on its own */
	}
	if (b < 0x20 || b == 0x7f) {
		if (b == 0x18 || b == 0x1a || b == 0x1b || t->state == S_GROUND ||
		    t->state == S_CSI || t->state == S_ESC)
			if (b != 0x7f)
				control(t, b);
		if (t->state == S_STR && b == 0x07)
			t->state = S_GROUND;
		return;
	}
	switch (t->state) {
	case S_GROUND:
		if (b < 0x80)
			put_char(t, b);
		else if ((b & 0xe0) == 0xc0)
			t->u8need = 1, t->u8cp = b & 0x1f, t->u8min = 7;
		else if ((b & 0xf0) == 0xe0)
			t->u8need = 2, t->u8cp = b & 0x0f, t->u8min = 11;
		else if ((b & 0xf8) == 0xf0)
			t->u8need = 3, t->u8cp = b & 0x07, t->u8min = 16;
		else
			put_char(t, 0xfffd);
		break;
	case S_ESC:
		esc(t, b);
		break;
	case S_CSI:
		if (b >= '0' && b <= '9') {
			if (!t->nparam)
				t->nparam = 1;
			int *v = &t->param[t->nparam - 1];

			*v = *v * 10 + (b - '0');
			if (*v > PARAM_MAX)
				*v = PARAM_MAX;
		} else if (b == ';' || b == ':') {
			if (!t->nparam)
				t->nparam = 1;
			if (t->nparam < TERM_NPARAM)
				t->param[t->nparam++] = 0;
		} else if (b >= '<' && b <= '?') {
			t->priv = b;
		} else if (b >= 0x20 && b <= 0x2f) {
			t->inter = b;
		} else if (b >= 0x40 && b <= 0x7e) {
			t->state = S_GROUND;
			csi(t, b);
		} else {
			t->state = S_GROUND;
		}
		break;
	case S_STR:
		if (b == 0x9c || ++t->strlen_ > STR_MAX)
			t->state = S_GROUND;
		break;
	case S_CHARSET:
		t->pen.g[t->inter == ')'] = b == '0' ? '0' : 'B';
		t->inter = 0;
		t->state = S_GROUND;
		break;
	case S_HASH:
		t->state = S_GROUND;
		break;
	}
}

void term_feed(struct term *t, const void *data, size_t n)
{
	const unsigned char *s = data;

	for (size_t i = 0; i < n; i++) {
		/* ESC \ (ST) ends a string; any ESC inside one does, as xterm */
		if (t->state == S_STR && s[i] == 0x1b) {
			t->state = S_STR_ESC;
			continue;
		}
		if (t->state == S_STR_ESC) {
			t->state = S_GROUND;
			if (s[i] == '\\')
				continue;
			t->state = S_ESC;
		}
		byte(t, s[i]);
	}
}

size_t term_row_text(const struct term *t, int y, char *out, size_t size)
{
	size_t n = 0, end = 0;

	for (int x = 0; x < t->cols && n + 4 < size; x++) {
		uint32_t c = term_cell(t, x, y)->ch;

		if (c < 0x80) {
			out[n++] = (char)c;
		} else if (c < 0x800) {
			out[n++] = (char)(0xc0 | c >> 6);
			out[n++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[n++] = (char)(0xe0 | c >> 12);
			out[n++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[n++] = (char)(0x80 | (c & 0x3f));
		}
		if (c != ' ')
			end = n;
	}
	if (size)
		out[end] = 0;
	return end;
}
