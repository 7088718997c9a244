/* libFuzzer target: the guest console's terminal emulator (console/term.c)
 * and one RFB viewer (console/rfb.c), both parsing bytes from outside: the
 * guest's output, the viewer's messages.
 *
 * 1. The input as guest output, fed whole to one terminal and in pieces
 *    (sizes from the input) to another: the screens, cursors and modes
 *    must be the same; after every piece the cursor and the scrolling
 *    region are inside the screen.
 * 2. Then (inputs up to 4 KiB) every row drawn for a viewer that asked
 *    for everything at 8 bpp: the update's length is exactly its
 *    rectangles' (a 4-byte header, then 12 bytes and width x 16 pixels
 *    for each row), and no call renders far past its bound.
 * 3. The input as a viewer's bytes to rfb_input after a handshake: never
 *    reads beyond what it was given, consumes only whole messages, and a
 *    refusal says why. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/font.h"
#include "console/rfb.h"
#include "console/term.h"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sane(const struct term *t)
{
	CHECK(t->cols >= 1 && t->cols <= TERM_MAX_COLS);
	CHECK(t->rows >= 1 && t->rows <= TERM_MAX_ROWS);
	CHECK(t->x >= 0 && t->x < t->cols);
	CHECK(t->y >= 0 && t->y < t->rows);
	CHECK(t->top >= 0 && t->top < t->bot && t->bot < t->rows);
}

static void key(void *opaque, const char *p, size_t n)
{
	(void)opaque, (void)p;
	CHECK(n >= 1 && n <= 6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct term a, b;
	struct rfb v;
	struct buf out = BUF_INIT, in = BUF_INIT;
	size_t off = 0, step = size ? (size_t)data[0] % 7 + 1 : 1;
	int more, rows = 0;
	size_t total = 0;

	if (term_init(&a, TERM_COLS, TERM_ROWS) || term_init(&b, TERM_COLS, TERM_ROWS))
		abort();
	term_feed(&a, data, size);
	sane(&a);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		term_feed(&b, data + off, n);
		sane(&b);
		off += n;
		step = step * 3 % 11 + 1;
	}
	CHECK(a.cols == b.cols && a.rows == b.rows && a.x == b.x && a.y == b.y);
	CHECK(a.top == b.top && a.bot == b.bot && a.cursor_on == b.cursor_on);
	CHECK(!memcmp(a.cells, b.cells, sizeof(*a.cells) * (size_t)(a.cols * a.rows)));

	/* 2: a full update of what the terminal shows (for the shorter
	 * inputs: drawing 640x400 pixels per run would slow the search) */
	rfb_init(&v, &a, &out);
	/* 8 bpp (BGR233) keeps the runs fast; the other depths are the unit
	 * tests' */
	buf_add(&in, "RFB 003.008\n\x01\x01\0\0\0\0\x08\x08\0\x01\0\x07\0\x07\0\x03\0\x03\x06"
		"\0\0\0\x03\0\0\0\0\0\xff\xff\xff\xff", 44);
	CHECK(!rfb_input(&v, &in, &out, &a, "fuzz", key, NULL));
	CHECK(in.len == 0);
	buf_reset(&out);
	if (size > 4096)
		v.want = 0;     /* nothing asked: rfb_pump draws nothing */
	do {
		size_t before = out.len;

		more = rfb_pump(&v, &a, &out);
		CHECK(out.len - before <= RFB_OUT_HIGH + (size_t)(v.w * FONT_W * FONT_H * v.bpp / 8) + 16);
		total += out.len;
		buf_reset(&out);
		rows++;
	} while (more && rows < 1000);
	CHECK(!more);
	CHECK(v.bpp == 8);
	CHECK(size > 4096 ? total == 0 :
	      total == 4 + (size_t)v.h * (12 + (size_t)(v.w * FONT_W * FONT_H)));

	/* 3: the input as the viewer's messages */
	buf_add(&in, data, size);
	if (rfb_input(&v, &in, &out, &a, "fuzz", key, NULL))
		CHECK(v.err && *v.err);
	else
		CHECK(in.len < 4 + 4 * 65536);
	buf_free(&in);
	buf_free(&out);
	term_free(&a);
	term_free(&b);
	return 0;
}
