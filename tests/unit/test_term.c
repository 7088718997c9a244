/* console/term.c (the guest console's terminal emulator) and console/rfb.c
 * (one RFB viewer over buffers): the screen after known sequences (text,
 * wrap, cursor moves, erase, scrolling regions, insert and delete, SGR,
 * UTF-8 and the DEC graphics GRUB and curses draw frames with, strings
 * skipped, resizes), the per-row generations viewers follow, hostile
 * parameters; and the RFB side: the handshakes, the pixels of a glyph,
 * keys as VT100 sequences, updates only when asked and bounded, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "console/font.h"
#include "console/rfb.h"
#include "console/term.h"

static struct term T;

static int setup(void **state)
{
	(void)state;
	return term_init(&T, TERM_COLS, TERM_ROWS);
}

static int teardown(void **state)
{
	(void)state;
	term_free(&T);
	return 0;
}

static void feed(const char *s)
{
	term_feed(&T, s, strlen(s));
}

static const char *row(int y)
{
	static char out[4 * TERM_MAX_COLS + 1];

	term_row_text(&T, y, out, sizeof(out));
	return out;
}

static void test_text_crlf_and_wrap(void **state)
{
	(void)state;
	feed("hello\r\nworld\n!");
	assert_string_equal(row(0), "hello");
	assert_string_equal(row(1), "world");
	assert_string_equal(row(2), "     !");     /* LF alone keeps the column */
	feed("\x1b[H\x1b[2J");
	for (int i = 0; i < 80; i++)
		feed("x");
	/* at the last column the cursor waits: no wrap until the next character */
	assert_int_equal(T.x, 79);
	assert_int_equal(T.y, 0);
	feed("y");
	assert_int_equal(T.y, 1);
	assert_string_equal(row(1), "y");
	/* autowrap off: the last column is overwritten */
	feed("\x1b[?7l\x1b[3;1H");
	for (int i = 0; i < 85; i++)
		feed(i < 84 ? "a" : "Z");
	assert_int_equal(T.y, 2);
	assert_int_equal(term_cell(&T, 79, 2)->ch, 'Z');
	/* tabs, backspace */
	feed("\x1b[?7h\x1b[5;1Ha\tb\bc");
	assert_string_equal(row(4), "a       c");
}

static void test_cursor_moves(void **state)
{
	(void)state;
	feed("\x1b[5;10HX");
	assert_int_equal(term_cell(&T, 9, 4)->ch, 'X');
	feed("\x1b[2AY");               /* up 2 from (10,4) */
	assert_int_equal(term_cell(&T, 10, 2)->ch, 'Y');
	feed("\x1b[3B\x1b[4DZ");       /* from (11,2) */
	assert_int_equal(term_cell(&T, 7, 5)->ch, 'Z');
	feed("\x1b[99;999H");           /* clamped */
	assert_int_equal(T.x, 79);
	assert_int_equal(T.y, 24);
	feed("\x1b[99999999999999999A"); /* huge parameter: clamped, no overflow */
	assert_int_equal(T.y, 0);
	feed("\x1b[7G!\x1b[10d?");       /* column 7, then row 10 */
	assert_int_equal(term_cell(&T, 6, 0)->ch, '!');
	assert_int_equal(term_cell(&T, 7, 9)->ch, '?');
	feed("\x1b[1;1Hab\x1b[s\x1b[10;10H\x1b[uc");   /* save, restore */
	assert_string_equal(row(0), "abc   !");
	feed("\x1b" "7\x1b[20;20H\x1b" "8d");
	assert_string_equal(row(0), "abcd  !");
	feed("\x1b[?25l");
	assert_int_equal(T.cursor_on, 0);
}

static void test_erase(void **state)
{
	(void)state;
	feed("0123456789\r\nabcdefghij\r\nABCDEFGHIJ");
	feed("\x1b[1;5H\x1b[K");        /* to the end of the line */
	assert_string_equal(row(0), "0123");
	feed("\x1b[2;5H\x1b[1K");       /* to the cursor, included */
	assert_string_equal(row(1), "     fghij");
	feed("\x1b[3;3H\x1b[3X");       /* 3 characters */
	assert_string_equal(row(2), "AB   FGHIJ");
	feed("\x1b[2;1H\x1b[J");        /* below */
	assert_string_equal(row(0), "0123");
	assert_string_equal(row(1), "");
	assert_string_equal(row(2), "");
	feed("\x1b[2J");
	assert_string_equal(row(0), "");
	/* erased cells take the background colour set */
	feed("\x1b[44m\x1b[2K");
	assert_int_equal(term_cell(&T, 40, T.y)->bg, 4);
}

static void test_scroll_region_and_lines(void **state)
{
	(void)state;
	for (int i = 0; i < 6; i++) {
		char b[16];

		snprintf(b, sizeof(b), "%sline%d", i ? "\r\n" : "", i);
		feed(b);
	}
	feed("\x1b[2;4r");              /* rows 2..4; homes the cursor */
	assert_int_equal(T.y, 0);
	feed("\x1b[4;1H\nnew");         /* LF at the region's bottom scrolls it */
	assert_string_equal(row(0), "line0");
	assert_string_equal(row(1), "line2");
	assert_string_equal(row(2), "line3");
	assert_string_equal(row(3), "new");
	assert_string_equal(row(4), "line4");  /* outside: untouched */
	feed("\x1b[2;1H\x1bM");          /* reverse index at the top: down */
	assert_string_equal(row(1), "");
	assert_string_equal(row(2), "line2");
	assert_string_equal(row(3), "line3");
	feed("\x1b[r\x1b[1;1H\x1b[2L"); /* whole screen; insert 2 lines */
	assert_string_equal(row(0), "");
	assert_string_equal(row(2), "line0");
	feed("\x1b[M");                 /* delete 1 */
	assert_string_equal(row(1), "line0");
	feed("\x1b[2;1H\x1b[2@");       /* insert 2 blanks, delete 1 char */
	assert_string_equal(row(1), "  line0");
	feed("\x1b[P");
	assert_string_equal(row(1), " line0");
	feed("\x1b[25;1H\r\nlast");     /* LF on the last row scrolls the screen */
	assert_string_equal(row(24), "last");
}

static void test_sgr(void **state)
{
	(void)state;
	feed("a\x1b[31mb\x1b[1;32mc\x1b[0;7md\x1b[0m\x1b[94;41me\x1b[38;5;3mf"
	     "\x1b[38;2;1;2;3;4mg\x1b[0;4mh\x1b[0m\x1b[8mi\x1b[0m");
	assert_int_equal(term_cell(&T, 0, 0)->fg, 7);
	assert_int_equal(term_cell(&T, 0, 0)->bg, 0);
	assert_int_equal(term_cell(&T, 1, 0)->fg, 1);
	assert_int_equal(term_cell(&T, 2, 0)->fg, 10);          /* bold green: bright */
	assert_int_equal(term_cell(&T, 3, 0)->fg, 0);           /* reverse */
	assert_int_equal(term_cell(&T, 3, 0)->bg, 7);
	assert_int_equal(term_cell(&T, 4, 0)->fg, 12);
	assert_int_equal(term_cell(&T, 4, 0)->bg, 1);
	assert_int_equal(term_cell(&T, 5, 0)->fg, 3);           /* 38;5;3 */
	/* 38;2;r;g;b is skipped with its parameters: the 4 after it applies */
	assert_int_equal(term_cell(&T, 6, 0)->fg, 3);
	assert_true(term_cell(&T, 6, 0)->attr & TERM_A_UNDERLINE);
	assert_true(term_cell(&T, 7, 0)->attr & TERM_A_UNDERLINE);
	assert_int_equal(term_cell(&T, 8, 0)->ch, ' ');         /* concealed */
	assert_int_equal(term_palette[1], 0xaa0000);
}

static void test_utf8_and_line_drawing(void **state)
{
	(void)state;
	/* GRUB's menu frame in UTF-8 */
	feed("\xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90\r\n\xe2\x94\x82 \xe2\x94\x82\r\n"
	     "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x98\r\n");
	assert_string_equal(row(0), "┌─┐");
	assert_string_equal(row(1), "│ │");
	assert_string_equal(row(2), "└─┘");
	/* curses and BSD: the DEC special graphics, by ESC ( 0 and by SO */
	feed("\x1b(0lqk\x1b(B x\x1b)0\x0eqx\x0fq\r\n");
	assert_string_equal(row(3), "┌─┐ x─│q");
	/* bad UTF-8: U+FFFD, then what follows as itself */
	feed("\xff" "a\xc3" "b\xc0\xaf" "c\xed\xa0\x80" "d\xf0\x9f\x98\x80" "e\r\n");
	assert_string_equal(row(4), "\xef\xbf\xbd" "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd"
			    "d\xef\xbf\xbd" "e");
	assert_int_equal(term_cell(&T, 1, 2)->ch, 0x2500);
	/* Latin-1 in UTF-8 */
	feed("\xc2\xb0\r\n");
	assert_int_equal(term_cell(&T, 0, 5)->ch, 0xb0);
}

static void test_strings_skipped(void **state)
{
	(void)state;
	feed("\x1b]0;a title\x07" "ab\x1b]2;other\x1b\\c\x1bPq#0;1;2\x1b\\d");
	assert_string_equal(row(0), "abcd");
	feed("\x1b[?1049h");            /* the alternate screen: cleared */
	assert_string_equal(row(0), "");
	/* an unterminated string ends after its bound */
	feed("\x1b]");
	for (int i = 0; i < 5000; i++)
		feed("x");
	feed("ok");
	assert_true(strstr(row(T.y), "ok") != NULL);
	/* CAN aborts a sequence; ESC c resets */
	feed("\x1b[31\x18" "m\x1b" "c");
	assert_string_equal(row(0), "");
	assert_int_equal(T.pen.fg, 7);
}

static void test_resize_and_generations(void **state)
{
	uint32_t g;

	(void)state;
	feed("keep\x1b[25;80H");
	g = T.gen;
	feed("\x1b[1;1Hz");
	assert_true((int32_t)(T.row_gen[0] - g) > 0);
	for (int y = 1; y < 24; y++)
		assert_false((int32_t)(T.row_gen[y] - g) > 0);
	assert_true((int32_t)(T.row_gen[24] - g) > 0);  /* the cursor left it */
	feed("\x1b[8;30;100t");
	assert_int_equal(T.rows, 30);
	assert_int_equal(T.cols, 100);
	assert_string_equal(row(0), "zeep");
	assert_int_equal(term_resize(&T, 100000, 0), 0);
	assert_int_equal(T.cols, TERM_MAX_COLS);
	assert_int_equal(T.rows, 1);
	assert_true(T.x < T.cols && T.y < T.rows);
	feed("\x1b[20;20Hstill fine\r\n\n\n");
	assert_int_equal(term_resize(&T, TERM_COLS, TERM_ROWS), 0);
}

static void test_font(void **state)
{
	static const uint8_t A[FONT_H] = { 0, 0, 0, 0, 0x18, 0x24, 0x24, 0x42, 0x42, 0x7e,
					   0x42, 0x42, 0x42, 0x42, 0, 0 };
	uint8_t g[FONT_H], h[FONT_H];

	(void)state;
	font_glyph('A', g);
	assert_memory_equal(g, A, FONT_H);              /* Unifont's */
	font_glyph(0x2588, g);                          /* full block */
	for (int r = 0; r < FONT_H; r++)
		assert_int_equal(g[r], 0xff);
	font_glyph(0x2500, g);                          /* light horizontal */
	for (int r = 0; r < FONT_H; r++)
		assert_int_equal(g[r], r == 7 ? 0xff : 0);
	font_glyph(0x4e00, g);                          /* not in the font */
	font_glyph(0xfffd, h);
	assert_memory_equal(g, h, FONT_H);
	font_glyph(' ', g);
	for (int r = 0; r < FONT_H; r++)
		assert_int_equal(g[r], 0);
}

/* ---- RFB ---- */

static char keys[64];
static size_t nkeys;

static void on_key(void *opaque, const char *p, size_t n)
{
	(void)opaque;
	memcpy(keys + nkeys, p, n);
	nkeys += n;
}

static int input(struct rfb *v, struct buf *out, const void *p, size_t n)
{
	struct buf in = BUF_INIT;
	int rc;

	buf_add(&in, p, n);
	rc = rfb_input(v, &in, out, &T, "vm1", on_key, NULL);
	if (!rc)
		assert_int_equal(in.len, 0);    /* whole messages: all taken */
	buf_free(&in);
	return rc;
}

/* A viewer through the 3.8 handshake and ServerInit. */
static void handshake(struct rfb *v, struct buf *out)
{
	buf_reset(out);
	rfb_init(v, &T, out);
	assert_int_equal(out->len, 12);
	assert_memory_equal(out->data, "RFB 003.008\n", 12);
	buf_reset(out);
	assert_int_equal(input(v, out, "RFB 003.008\n", 12), 0);
	assert_memory_equal(out->data, "\x01\x01", 2);
	buf_reset(out);
	assert_int_equal(input(v, out, "\x01", 1), 0);
	assert_memory_equal(out->data, "\0\0\0\0", 4);
	buf_reset(out);
	assert_int_equal(input(v, out, "\x01", 1), 0);
	assert_int_equal(out->len, 24 + 3);
	assert_memory_equal(out->data, "\x02\x80\x01\x90", 4);        /* 640x400 */
	assert_memory_equal(out->data + 24, "vm1", 3);
	buf_reset(out);
}

/* Everything pending, as a viewer that reads at once: each call renders
 * at most about RFB_OUT_HIGH; the caller's buffer is drained between. */
static void drain(struct rfb *v, struct buf *all)
{
	struct buf out = BUF_INIT;
	int more;

	do {
		more = rfb_pump(v, &T, &out);
		assert_true(out.len <= RFB_OUT_HIGH + 640 * 16 * 4 + 12 + 4);
		buf_add(all, out.data, out.len);
		buf_reset(&out);
	} while (more);
	buf_free(&out);
}

static void test_rfb_glyph_pixels(void **state)
{
	static const unsigned char req[10] = { 3, 0, 0, 0, 0, 0, 2, 0x80, 1, 0x90 };
	struct rfb v;
	struct buf out = BUF_INIT;
	uint8_t g[FONT_H], gb[FONT_H];
	const unsigned char *px;

	(void)state;
	font_glyph('A', g);
	font_glyph('B', gb);
	feed("\x1b[?25lA\x1b[31mB");
	handshake(&v, &out);
	assert_int_equal(rfb_pump(&v, &T, &out), 0);
	assert_int_equal(out.len, 0);           /* nothing asked: nothing sent */
	assert_int_equal(input(&v, &out, req, sizeof(req)), 0);
	drain(&v, &out);
	/* a header, then 25 rows of 640x16 Raw at 32 bpp */
	assert_int_equal(out.len, 4 + 25 * (12 + 640 * 16 * 4));
	assert_memory_equal(out.data, "\0\0\0\x19", 4);
	px = (const unsigned char *)out.data + 4 + 12;
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 8; x++) {
			const unsigned char *p = px + (y * 640 + x) * 4;
			uint32_t v32 = p[0] | p[1] << 8 | p[2] << 16;

			assert_int_equal(v32, g[y] & (0x80 >> x) ? 0xaaaaaa : 0);
			p += 8 * 4;     /* 'B' in red */
			v32 = p[0] | p[1] << 8 | p[2] << 16;
			assert_int_equal(v32, gb[y] & (0x80 >> x) ? 0xaa0000 : 0);
		}
	/* incremental: only the changed row, once there is one */
	buf_reset(&out);
	assert_int_equal(input(&v, &out, (const unsigned char[]){ 3, 1, 0, 0, 0, 0, 2, 0x80, 1, 0x90 },
			       10), 0);
	rfb_pump(&v, &T, &out);
	assert_int_equal(out.len, 0);
	feed("\x1b[3;1Hx");     /* row 2 and, the cursor left it, row 0 */
	drain(&v, &out);
	assert_int_equal(out.len, 4 + 2 * (12 + 640 * 16 * 4));
	assert_memory_equal(out.data, "\0\0\0\x02", 4);
	assert_memory_equal(out.data + 4, "\0\0\0\0", 4);              /* y = 0 */
	assert_memory_equal(out.data + 4 + 12 + 640 * 16 * 4, "\0\0\0\x20", 4); /* y = 32 */
	/* 16 bpp big endian, R 5 bits at 11, G 6 at 5, B 5 at 0 */
	buf_reset(&out);
	assert_int_equal(input(&v, &out, (const unsigned char[]){ 0, 0, 0, 0, 16, 16, 1, 1,
			       0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0 }, 20), 0);
	assert_int_equal(input(&v, &out, (const unsigned char[]){ 3, 1, 0, 0, 0, 0, 2, 0x80, 1, 0x90 },
			       10), 0);
	drain(&v, &out);
	assert_int_equal(out.len, 4 + 25 * (12 + 640 * 16 * 2));
	/* a format change while an update is being written: that update ends
	 * in the format it began in, the next one is in the new format */
	buf_reset(&out);
	assert_int_equal(input(&v, &out, (const unsigned char[]){ 3, 0, 0, 0, 0, 0, 2, 0x80, 1, 0x90 },
			       10), 0);
	assert_int_equal(rfb_pump(&v, &T, &out), 1);            /* part of it */
	assert_int_equal(input(&v, &out, (const unsigned char[]){ 0, 0, 0, 0, 32, 24, 0, 1,
			       0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0 }, 20), 0);
	drain(&v, &out);
	assert_int_equal(out.len, 4 + 25 * (12 + 640 * 16 * 2));
	buf_reset(&out);
	drain(&v, &out);                                        /* the redraw it asked for */
	assert_int_equal(out.len, 4 + 25 * (12 + 640 * 16 * 4));
	buf_free(&out);
}

static void test_rfb_keys(void **state)
{
	struct rfb v;
	struct buf out = BUF_INIT;
	static const struct { int down; uint32_t sym; } seq[] = {
		{ 1, 'a' }, { 0, 'a' }, { 1, 0xffe3 }, { 1, 'c' }, { 0, 0xffe3 },
		{ 1, 0xff52 }, { 1, 0xff0d }, { 1, 0xff08 }, { 1, 0xffbe }, { 1, 0xe9 },
		{ 1, 0x10020ac }, { 1, 0xffe9 }, { 1, 'x' }, { 0, 0xffe9 }, { 1, 0xffc2 },
	};

	(void)state;
	handshake(&v, &out);
	nkeys = 0;
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		unsigned char m[8] = { 4, (unsigned char)seq[i].down, 0, 0,
				       (unsigned char)(seq[i].sym >> 24), (unsigned char)(seq[i].sym >> 16),
				       (unsigned char)(seq[i].sym >> 8), (unsigned char)seq[i].sym };

		assert_int_equal(input(&v, &out, m, 8), 0);
	}
	keys[nkeys] = 0;
	assert_string_equal(keys, "a\x03\x1b[A\r\x7f\x1bOP\xc3\xa9\xe2\x82\xac\x1bx\x1b[15~");
	/* pointer events and cut text are taken and ignored, in pieces too */
	assert_int_equal(input(&v, &out, "\x05\x00\x00\x01\x00\x01\x06\0\0\0\0\0\0\x03" "abc", 17), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_rfb_versions_and_refusals(void **state)
{
	struct rfb v;
	struct buf out = BUF_INIT;

	(void)state;
	/* 3.3: the server names the security type */
	rfb_init(&v, &T, &out);
	buf_reset(&out);
	assert_int_equal(input(&v, &out, "RFB 003.003\n\x01", 13), 0);
	assert_memory_equal(out.data, "\0\0\0\x01", 4);
	assert_int_equal(out.len, 4 + 24 + 3);
	/* 3.7: no SecurityResult */
	rfb_init(&v, &T, &out);
	buf_reset(&out);
	assert_int_equal(input(&v, &out, "RFB 003.007\n\x01\x01", 14), 0);
	assert_memory_equal(out.data, "\x01\x01\x02\x80", 4);
	/* refusals, each with a reason */
	rfb_init(&v, &T, &out);
	assert_int_equal(input(&v, &out, "GET / HTTP/1.1\n", 15), -1);
	assert_non_null(v.err);
	rfb_init(&v, &T, &out);
	buf_reset(&out);
	assert_int_equal(input(&v, &out, "RFB 003.008\n\x02", 13), -1);
	assert_string_equal(v.err, "security type not offered");
	handshake(&v, &out);
	assert_int_equal(input(&v, &out, "\x63", 1), -1);
	assert_string_equal(v.err, "unknown RFB message type");
	handshake(&v, &out);
	assert_int_equal(input(&v, &out, (const unsigned char[]){ 0, 0, 0, 0, 8, 8, 0, 0,
			       0, 7, 0, 7, 0, 3, 0, 3, 6, 0, 0, 0 }, 20), -1);   /* colour map */
	handshake(&v, &out);
	assert_int_equal(input(&v, &out, "\x06\0\0\0\x7f\xff\xff\xff", 8), -1);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text_crlf_and_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scroll_region_and_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sgr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8_and_line_drawing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resize_and_generations, setup, teardown),
		cmocka_unit_test(test_font),
		cmocka_unit_test_setup_teardown(test_rfb_glyph_pixels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfb_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rfb_versions_and_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
