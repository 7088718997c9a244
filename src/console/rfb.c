/* One RFB viewer: see rfb.h. */
#include <string.h>

#include "console/font.h"
#include "console/rfb.h"

enum { S_VERSION, S_SECTYPE, S_INIT, S_NORMAL };

#define ENC_RAW 0
#define ENC_DESKTOP_SIZE (-223)

static void be16(struct buf *b, unsigned v)
{
	unsigned char p[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	buf_add(b, p, 2);
}

static void be32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };

	buf_add(b, p, 4);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void set_format(struct rfb *v, int bpp, int be, const unsigned max[3],
		       const unsigned shift[3])
{
	int n = bpp / 8;

	v->next_bpp = (uint8_t)bpp;
	for (int i = 0; i < 16; i++) {
		uint32_t px = 0;

		for (int c = 0; c < 3; c++) {
			uint32_t lvl = term_palette[i] >> (16 - 8 * c) & 255;

			px |= (lvl * max[c] + 127) / 255 << shift[c];
		}
		for (int k = 0; k < n; k++)
			v->next_pix[i][be ? n - 1 - k : k] = (uint8_t)(px >> (8 * k));
	}
}

static void rfb_fail(struct rfb *v, const char *why)
{
	v->err = why;
}

void rfb_init(struct rfb *v, const struct term *t, struct buf *out)
{
	static const unsigned max[3] = { 255, 255, 255 }, shift[3] = { 16, 8, 0 };

	memset(v, 0, sizeof(*v));
	set_format(v, 32, 0, max, shift);
	v->w = t->cols;
	v->h = t->rows;
	buf_adds(out, "RFB 003.008\n");
}

static void server_init(struct rfb *v, struct buf *out, const char *name)
{
	static const unsigned char fmt[16] = { 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0 };
	size_t n = strlen(name);

	be16(out, (unsigned)(v->w * FONT_W));
	be16(out, (unsigned)(v->h * FONT_H));
	buf_add(out, fmt, sizeof(fmt));
	be32(out, (uint32_t)n);
	buf_add(out, name, n);
	v->state = S_NORMAL;
}

static void utf8(rfb_key_fn *key, void *opaque, uint32_t cp)
{
	static const uint8_t lead[5] = { 0, 0, 0xc0, 0xe0, 0xf0 };
	size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	char s[4];

	for (size_t i = n; i-- > 1; cp >>= 6)
		s[i] = (char)(0x80 | (cp & 0x3f));
	s[0] = (char)(lead[n] | cp);
	key(opaque, s, n);
}

/* X keysyms to what a VT100/xterm (Linux console) sends. */
static void keysym(struct rfb *v, int down, uint32_t k, rfb_key_fn *key, void *opaque)
{
	/* keysyms 0xffXX: the low byte, then the bytes sent */
	static const struct { uint8_t sym; char seq[6]; } special[] = {
		{ 0x08, "\x7f" }, { 0x09, "\t" }, { 0x0d, "\r" }, { 0x8d, "\r" },
		{ 0x1b, "\x1b" }, { 0xff, "\x1b[3~" }, { 0x63, "\x1b[2~" },
		{ 0x50, "\x1b[1~" }, { 0x57, "\x1b[4~" }, { 0x55, "\x1b[5~" },
		{ 0x56, "\x1b[6~" }, { 0x51, "\x1b[D" }, { 0x52, "\x1b[A" },
		{ 0x53, "\x1b[C" }, { 0x54, "\x1b[B" },
		{ 0xbe, "\x1bOP" }, { 0xbf, "\x1bOQ" }, { 0xc0, "\x1bOR" },
		{ 0xc1, "\x1bOS" }, { 0xc2, "\x1b[15~" }, { 0xc3, "\x1b[17~" },
		{ 0xc4, "\x1b[18~" }, { 0xc5, "\x1b[19~" }, { 0xc6, "\x1b[20~" },
		{ 0xc7, "\x1b[21~" }, { 0xc8, "\x1b[23~" }, { 0xc9, "\x1b[24~" },
	};

	if (k == 0xffe3 || k == 0xffe4) {
		v->ctrl = (uint8_t)down;
		return;
	}
	if (k == 0xffe9 || k == 0xffea || k == 0xffe7 || k == 0xffe8) {
		v->alt = (uint8_t)down;
		return;
	}
	if (!down)
		return;
	if (v->alt && k < 0x100)
		key(opaque, "\x1b", 1);
	if (k >= 0x20 && k < 0x7f) {
		char c = (char)k;

		if (v->ctrl && k >= 0x40)
			c = (char)(k & 0x1f);
		else if (v->ctrl && (k == ' ' || k == '2'))
			c = 0;
		key(opaque, &c, 1);
		return;
	}
	if (k >= 0xa0 && k < 0x100) {
		utf8(key, opaque, k);
		return;
	}
	if (k >= 0x1000100 && k <= 0x110ffff) {
		utf8(key, opaque, k - 0x1000000);
		return;
	}
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (k >> 8 == 0xff && special[i].sym == (k & 0xff)) {
			key(opaque, special[i].seq, strlen(special[i].seq));
			return;
		}
}

/* Length of the client message at p[0..n), 0 if more bytes are needed,
 * -1 for a type we do not know. */
static long msg_len(struct rfb *v, const unsigned char *p, size_t n)
{
	switch (p[0]) {
	case 0: return 20;
	case 2: return n < 4 ? 0 : 4 + 4 * ((long)p[2] << 8 | p[3]);
	case 3: return 10;
	case 4: return 8;
	case 5: return 6;
	case 6: return 8;
	default:
		rfb_fail(v, "unknown RFB message type");
		return -1;
	}
}

static int message(struct rfb *v, const unsigned char *p, rfb_key_fn *key, void *opaque)
{
	switch (p[0]) {
	case 0: {               /* SetPixelFormat */
		unsigned bpp = p[4], max[3], shift[3];

		if (!p[7] || (bpp != 8 && bpp != 16 && bpp != 32)) {
			rfb_fail(v, "pixel format not supported (true colour, 8, 16 or 32 bpp)");
			return -1;
		}
		for (int c = 0; c < 3; c++) {
			max[c] = (unsigned)p[8 + 2 * c] << 8 | p[9 + 2 * c];
			shift[c] = p[14 + c];
			if (shift[c] >= bpp || max[c] > 255) {
				rfb_fail(v, "pixel format not supported (shift or maximum)");
				return -1;
			}
		}
		/* from the next update on (one being written keeps its format) */
		set_format(v, (int)bpp, p[6], max, shift);
		v->want = 2;    /* what the viewer has is in the old format */
		break;
	}
	case 2: {               /* SetEncodings */
		unsigned n = (unsigned)p[2] << 8 | p[3];

		v->desktop_size = 0;
		for (unsigned i = 0; i < n; i++)
			if ((int32_t)get32(p + 4 + 4 * i) == ENC_DESKTOP_SIZE)
				v->desktop_size = 1;
		break;
	}
	case 3:                 /* FramebufferUpdateRequest: the whole screen, always */
		if (!p[1] || v->want < 1)
			v->want = p[1] ? 1 : 2;
		if (!p[1])
			v->want = 2;
		break;
	case 4:
		keysym(v, p[1], get32(p + 4), key, opaque);
		break;
	case 5:                 /* PointerEvent: a text console has no mouse */
		break;
	case 6:                 /* ClientCutText: skipped */
		v->cut_skip = get32(p + 4);
		if (v->cut_skip > RFB_CUT_MAX) {
			rfb_fail(v, "ClientCutText too long");
			return -1;
		}
		break;
	}
	return 0;
}

int rfb_input(struct rfb *v, struct buf *in, struct buf *out, const struct term *t,
	      const char *name, rfb_key_fn *key, void *opaque)
{
	const unsigned char *p = (const unsigned char *)in->data;
	size_t n = in->len, used = 0;
	int rc = 0;

	while (used < n && !rc) {
		const unsigned char *m = p + used;
		size_t left = n - used;

		if (v->cut_skip) {
			size_t k = left < v->cut_skip ? left : v->cut_skip;

			v->cut_skip -= (uint32_t)k;
			used += k;
			continue;
		}
		if (v->state == S_VERSION) {
			if (left < 12)
				break;
			if (memcmp(m, "RFB 003.", 8) || m[11] != '\n' || m[8] < '0' || m[8] > '9' ||
			    m[9] < '0' || m[9] > '9' || m[10] < '0' || m[10] > '9') {
				rfb_fail(v, "not an RFB ProtocolVersion");
				rc = -1;
				break;
			}
			int minor = (m[8] - '0') * 100 + (m[9] - '0') * 10 + (m[10] - '0');

			/* 3.3 and 3.7 as asked; 3.8 and anything newer (3.889) as 3.8 */
			v->minor = (uint8_t)(minor >= 8 ? 8 : minor == 7 ? 7 : 3);
			used += 12;
			if (v->minor == 3) {
				be32(out, 1);           /* security None */
				v->state = S_INIT;
			} else {
				buf_add(out, "\x01\x01", 2);
				v->state = S_SECTYPE;
			}
			continue;
		}
		if (v->state == S_SECTYPE) {
			used++;
			if (m[0] != 1) {
				if (v->minor == 8) {
					static const char why[] = "only security type None (1)";

					be32(out, 1);
					be32(out, sizeof(why) - 1);
					buf_add(out, why, sizeof(why) - 1);
				}
				rfb_fail(v, "security type not offered");
				rc = -1;
				break;
			}
			if (v->minor == 8)
				be32(out, 0);
			v->state = S_INIT;
			continue;
		}
		if (v->state == S_INIT) {
			used++;         /* shared-flag: every viewer shares */
			server_init(v, out, name);
			continue;
		}
		long len = msg_len(v, m, left);

		if (len < 0) {
			rc = -1;
			break;
		}
		if (!len || (size_t)len > left)
			break;
		rc = message(v, m, key, opaque);
		used += (size_t)len;
	}
	buf_consume(in, used);
	(void)t;
	return rc;
}

/* Row y of cells, FONT_H lines of v->w cells: the term's cells where it
 * has them, black beyond; the cursor in reverse video. */
static void render_row(struct rfb *v, const struct term *t, int y, struct buf *out)
{
	size_t n = v->bpp / 8, len = (size_t)v->w * FONT_W * FONT_H * n;
	uint8_t g[TERM_MAX_COLS][FONT_H], col[TERM_MAX_COLS][2];
	unsigned char *d;

	be16(out, 0);
	be16(out, (unsigned)(y * FONT_H));
	be16(out, (unsigned)(v->w * FONT_W));
	be16(out, FONT_H);
	be32(out, ENC_RAW);
	for (int x = 0; x < v->w; x++) {
		struct term_cell c = { ' ', 0, 0, 0 };

		if (x < t->cols && y < t->rows)
			c = *term_cell(t, x, y);
		font_glyph(c.ch, g[x]);
		if (c.attr & TERM_A_UNDERLINE)
			g[x][FONT_H - 2] = 0xff;
		if (t->cursor_on && x == t->x && y == t->y)
			for (int r = 0; r < FONT_H; r++)
				g[x][r] = (uint8_t)~g[x][r];
		col[x][0] = c.bg;
		col[x][1] = c.fg;
	}
	buf_reserve(out, len);
	d = (unsigned char *)out->data + out->len;
	for (int line = 0; line < FONT_H; line++)
		for (int x = 0; x < v->w; x++)
			for (int i = 0; i < FONT_W; i++, d += n)
				memcpy(d, v->pix[col[x][!!(g[x][line] & (0x80 >> i))]], n);
	out->len += len;
	out->data[out->len] = 0;        /* as buf_add leaves it */
}

int rfb_pump(struct rfb *v, const struct term *t, struct buf *out)
{
	if (v->state != S_NORMAL)
		return 0;
	if (!v->pending) {
		v->bpp = v->next_bpp;
		memcpy(v->pix, v->next_pix, sizeof(v->pix));
	}
	if (!v->pending && v->want) {
		int full = v->want == 2, nrects = 0, resize = 0;

		if ((t->cols != v->w || t->rows != v->h) && v->desktop_size) {
			v->w = t->cols;
			v->h = t->rows;
			full = resize = 1;
		}
		for (int y = 0; y < v->h; y++) {
			v->rows[y] = full || y >= t->rows || (int32_t)(t->row_gen[y] - v->seen) > 0;
			nrects += v->rows[y];
		}
		if (!nrects)
			return 0;       /* nothing new: the request waits */
		buf_add(out, "\0\0", 2);
		be16(out, (unsigned)(nrects + resize));
		if (resize) {
			be16(out, 0);
			be16(out, 0);
			be16(out, (unsigned)(v->w * FONT_W));
			be16(out, (unsigned)(v->h * FONT_H));
			be32(out, (uint32_t)ENC_DESKTOP_SIZE);
		}
		v->want = 0;
		v->seen = t->gen;
		v->pending = nrects;
		v->next_row = 0;
	}
	while (v->pending && out->len < RFB_OUT_HIGH) {
		while (!v->rows[v->next_row])
			v->next_row++;
		render_row(v, t, v->next_row++, out);
		v->pending--;
	}
	return v->pending > 0;
}
