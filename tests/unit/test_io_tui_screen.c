/* tui/screen.c, the console's screen (docs/SERIAL_CONSOLE.md): whatever the
 * edits, the bytes scr_flush() writes make a VT100 (the small model below:
 * the sequences a VT100 understands and screen.c may use) show exactly the
 * wanted cells; nothing changed costs nothing; one changed cell costs a
 * few bytes; a shortened line is erased with EL; keys decode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tui/screen.h"

/* ---- a VT100 (80x24, autowrap with the pending-wrap state) ---- */
struct term {
	struct scr_cell g[SCR_ROWS][SCR_COLS];
	int r, c, attr, wrap;
};

static void term_init(struct term *t)
{
	for (int r = 0; r < SCR_ROWS; r++)
		for (int c = 0; c < SCR_COLS; c++)
			t->g[r][c] = (struct scr_cell){ '#', 0 };      /* garbage */
	t->r = 5, t->c = 7, t->attr = 1, t->wrap = 0;
}

static void term_feed(struct term *t, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == 0x1b) {
			int a[2] = { 0, 0 }, na = 0;

			assert_true(i + 1 < n && p[i + 1] == '[');
			i += 2;
			for (; i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == ';'); i++) {
				if (p[i] == ';')
					na++;
				else
					a[na] = a[na] * 10 + (p[i] - '0');
			}
			assert_true(i < n);
			t->wrap = 0;
			switch (p[i]) {
			case 'H':
				t->r = (a[0] ? a[0] : 1) - 1;
				t->c = (a[1] ? a[1] : 1) - 1;
				break;
			case 'C':
				t->c += a[0] ? a[0] : 1;
				if (t->c >= SCR_COLS)
					t->c = SCR_COLS - 1;
				break;
			case 'm':
				assert_true(a[0] == 0 || a[0] == 7);
				t->attr = a[0] == 7;
				break;
			case 'K':
				assert_int_equal(a[0], 0);
				for (int c = t->c; c < SCR_COLS; c++)
					t->g[t->r][c] = (struct scr_cell){ ' ', (unsigned char)t->attr };
				break;
			case 'J':
				assert_int_equal(a[0], 2);
				for (int r = 0; r < SCR_ROWS; r++)
					for (int c = 0; c < SCR_COLS; c++)
						t->g[r][c] = (struct scr_cell){ ' ', (unsigned char)t->attr };
				break;
			default:
				fail_msg("unexpected sequence ending %c", p[i]);
			}
		} else if (ch == '\r') {
			t->c = 0, t->wrap = 0;
		} else if (ch == '\n') {
			assert_true(t->r < SCR_ROWS - 1);       /* never scrolls */
			t->r++, t->wrap = 0;
		} else {
			assert_true(ch >= 0x20 && ch < 0x7f);
			if (t->wrap) {
				assert_true(t->r < SCR_ROWS - 1);
				t->r++, t->c = 0, t->wrap = 0;
			}
			t->g[t->r][t->c] = (struct scr_cell){ (char)ch, (unsigned char)t->attr };
			if (t->c == SCR_COLS - 1)
				t->wrap = 1;
			else
				t->c++;
		}
	}
}

static void assert_shows(struct term *t, struct scr *s)
{
	for (int r = 0; r < SCR_ROWS; r++)
		for (int c = 0; c < SCR_COLS; c++)
			if (t->g[r][c].ch != s->want[r][c].ch || t->g[r][c].attr != s->want[r][c].attr)
				fail_msg("cell %d,%d: shown '%c'/%d, wanted '%c'/%d", r, c, t->g[r][c].ch,
					 t->g[r][c].attr, s->want[r][c].ch, s->want[r][c].attr);
	assert_int_equal(t->r, s->cur_row);
	assert_int_equal(t->c, s->cur_col);
}

static size_t flush(struct term *t, struct scr *s)
{
	struct buf b = BUF_INIT;
	size_t n = scr_flush(s, &b);

	assert_int_equal(n, b.len);
	term_feed(t, b.data, b.len);
	buf_free(&b);
	assert_shows(t, s);
	return n;
}

static struct scr s;
static struct term t;

static void test_first_paint_then_nothing(void **state)
{
	(void)state;
	scr_init(&s);
	term_init(&t);
	scr_put(&s, 0, 0, SCR_REVERSE, " xenbox console ");
	scr_put(&s, 3, 2, SCR_NORMAL, "1. Status");
	scr_put(&s, 23, 70, SCR_NORMAL, "0123456789ABCDEF");     /* clipped, last cell */
	assert_int_equal(s.want[23][79].ch, '9');
	scr_cursor(&s, 3, 2);
	assert_true(flush(&t, &s) > 0);
	assert_int_equal(flush(&t, &s), 0);
	/* the same text drawn again is no change */
	scr_clear(&s);
	scr_put(&s, 0, 0, SCR_REVERSE, " xenbox console ");
	scr_put(&s, 3, 2, SCR_NORMAL, "1. Status");
	scr_put(&s, 23, 70, SCR_NORMAL, "0123456789");
	assert_int_equal(flush(&t, &s), 0);
}

static void test_one_cell_is_cheap(void **state)
{
	(void)state;
	scr_init(&s);
	term_init(&t);
	for (int r = 0; r < SCR_ROWS; r++)
		scr_printf(&s, r, 0, SCR_NORMAL, "row %02d uptime 0:00:%02d and some text to fill", r, r);
	scr_cursor(&s, 23, 0);
	flush(&t, &s);
	scr_put(&s, 10, 20, SCR_NORMAL, "7");
	assert_true(flush(&t, &s) <= 14);       /* CUP, the cell, CUP back */
	/* a figure that grows by one digit at the end of a line */
	scr_put(&s, 12, 46, SCR_NORMAL, "X");
	assert_true(flush(&t, &s) <= 14);
	/* the cursor's row: a nearby cell by rewriting or a relative move */
	scr_cursor(&s, 5, 0);
	flush(&t, &s);
	scr_put(&s, 5, 3, SCR_NORMAL, "!");
	assert_true(flush(&t, &s) <= 6);
}

static void test_shortened_line_uses_el(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	scr_init(&s);
	term_init(&t);
	scr_put(&s, 4, 0, SCR_NORMAL, "a long line that will be replaced by a short one, really long");
	flush(&t, &s);
	scr_fill(&s, 4, 0, SCR_COLS, SCR_NORMAL, ' ');
	scr_put(&s, 4, 0, SCR_NORMAL, "short");
	scr_flush(&s, &b);
	term_feed(&t, b.data, b.len);
	assert_shows(&t, &s);
	assert_non_null(strstr(b.data, "\033[K"));
	assert_true(b.len < 30);
	buf_free(&b);
}

static void test_invalidate_repaints(void **state)
{
	(void)state;
	scr_init(&s);
	term_init(&t);
	scr_put(&s, 1, 1, SCR_NORMAL, "hello");
	flush(&t, &s);
	term_init(&t);          /* someone wrote over it */
	scr_invalidate(&s);
	flush(&t, &s);
}

/* edits at random (a fixed sequence): the terminal always shows the want */
static void test_random_edits(void **state)
{
	uint32_t x = 12345;
	size_t total = 0;

	(void)state;
	scr_init(&s);
	term_init(&t);
	for (int round = 0; round < 400; round++) {
		int edits = 1 + (x % 6);

		for (int e = 0; e < edits; e++) {
			char text[40];
			int len, r, c, attr;

			x = x * 1103515245u + 12345u;
			r = (int)((x >> 8) % SCR_ROWS);
			c = (int)((x >> 13) % SCR_COLS);
			len = (int)((x >> 20) % 39);
			attr = (x >> 30) & 1;
			for (int k = 0; k < len; k++)
				text[k] = (x >> (k % 24)) & 4 ? ' ' : (char)('a' + (k + round) % 26);
			text[len] = 0;
			if ((x >> 3) % 17 == 0)
				scr_clear(&s);
			else if ((x >> 3) % 17 == 1)
				scr_fill(&s, r, 0, SCR_COLS, SCR_NORMAL, ' ');
			else
				scr_put(&s, r, c, attr, text);
		}
		scr_cursor(&s, (int)(x % SCR_ROWS), (int)((x >> 7) % SCR_COLS));
		total += flush(&t, &s);
		if (round % 50 == 0) {
			assert_int_equal(flush(&t, &s), 0);
		}
	}
	assert_true(total > 0);
}

static void test_keys(void **state)
{
	size_t used;
	const unsigned char up[] = "\033[A", down[] = "\033OB", pgdn[] = "\033[6~", esc[] = "\033";

	(void)state;
	assert_int_equal(scr_key(up, 3, 0, &used), KEY_UP);
	assert_int_equal(used, 3);
	assert_int_equal(scr_key(down, 3, 0, &used), KEY_DOWN);
	assert_int_equal(scr_key(pgdn, 4, 0, &used), KEY_PGDN);
	assert_int_equal(used, 4);
	assert_int_equal(scr_key(up, 2, 0, &used), 0);          /* incomplete */
	assert_int_equal(scr_key(esc, 1, 0, &used), 0);
	assert_int_equal(scr_key(esc, 1, 1, &used), KEY_ESC);
	assert_int_equal(scr_key((const unsigned char *)"\r", 1, 0, &used), KEY_ENTER);
	assert_int_equal(scr_key((const unsigned char *)"\n", 1, 0, &used), KEY_ENTER);
	assert_int_equal(scr_key((const unsigned char *)"\x7f", 1, 0, &used), KEY_BACKSPACE);
	assert_int_equal(scr_key((const unsigned char *)"7", 1, 0, &used), '7');
	assert_int_equal(scr_key((const unsigned char *)"\033[99999999", 10, 0, &used), KEY_UNKNOWN);
	assert_int_equal(used, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_paint_then_nothing),
		cmocka_unit_test(test_one_cell_is_cheap),
		cmocka_unit_test(test_shortened_line_uses_el),
		cmocka_unit_test(test_invalidate_repaints),
		cmocka_unit_test(test_random_edits),
		cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
