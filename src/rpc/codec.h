/* Internals shared by the XML-RPC and JSON codecs (not a public API):
 * inline buffer appends for the emitters' hot path, UTF-8 decoding and
 * the child stack the parsers collect array items and members on. */
#ifndef XB_RPC_CODEC_H
#define XB_RPC_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/arena.h"
#include "lib/buf.h"

/* Append n bytes; keeps buf's NUL terminator.  O(n), amortised.  Forced
 * inline: with a constant n (CPUT) the copy becomes a few moves, which
 * matters at -Os where it would otherwise be an out-of-line call. */
static inline __attribute__((always_inline)) void cput(struct buf *b, const void *s, size_t n)
{
	if (b->cap - b->len <= n)
		buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
}

#define CPUT(b, lit) cput((b), lit, sizeof(lit) - 1)

static inline __attribute__((always_inline)) void cputc(struct buf *b, char c)
{
	if (b->cap - b->len <= 1)
		buf_reserve(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = 0;
}

/* Eight bytes at a time (SWAR): the escapers skip runs of plain bytes a
 * word per step.  Each test is exact for the word as a whole: nonzero iff
 * some byte qualifies (a borrow can only spoil bytes above one that
 * does).  Loads go through memcpy, so alignment does not matter. */
#define SWAR_ONES 0x0101010101010101ull
#define SWAR_HIGH 0x8080808080808080ull

static inline uint64_t swar_load(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/* Some byte of w is zero. */
static inline uint64_t swar_zero(uint64_t w)
{
	return (w - SWAR_ONES) & ~w & SWAR_HIGH;
}

/* Some byte of w is below n (n <= 0x80). */
static inline uint64_t swar_below(uint64_t w, unsigned n)
{
	return (w - SWAR_ONES * n) & ~w & SWAR_HIGH;
}

/* Decimal int64 into tmp (>= 21 bytes), returns the start; *n its length. */
static inline char *cfmt_i64(char *tmp, size_t size, int64_t v, size_t *n)
{
	char *p = tmp + size;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	*n = (size_t)(tmp + size - p);
	return p;
}

/* One UTF-8 sequence at p (< end): its length, with the code point in
 * *cp, or 0 if it is malformed, overlong, a surrogate, above U+10FFFF or
 * truncated by end.  O(1). */
static inline size_t utf8_decode(const unsigned char *p,
				 const unsigned char *end, uint32_t *cp)
{
	uint32_t c = p[0];
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return n;
}

/* Encode cp (<= 0x10FFFF, not a surrogate) at out; returns the length. */
static inline size_t utf8_encode(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Children of the arrays/structs being parsed, innermost last: a parser
 * pushes each item (two slots per member: name, value), then moves the
 * top n slots into an exact-size arena array.  One malloc'd vector per
 * parse, its size bounded by the number of values in the input. */
struct cstack {
	void **v;
	size_t n, cap;
};

int cstack_push(struct cstack *s, void *p);
void cstack_free(struct cstack *s);

#endif
