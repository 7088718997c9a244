#include "lib/base64.h"

#include <stdint.h>

static int digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long b64_decode(const char *s, size_t n, char *out)
{
	uint32_t acc = 0;
	size_t i, len = 0, k = 0, pad = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int d;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			if (k % 4 < 2 || ++pad > 2)
				return -1;
			k++;
			continue;
		}
		if (pad || (d = digit(c)) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)d;
		if (++k % 4 == 0) {
			out[len++] = (char)(acc >> 16);
			out[len++] = (char)(acc >> 8);
			out[len++] = (char)acc;
			acc = 0;
		}
	}
	if (k % 4)
		return -1;
	if (pad) {              /* the last quantum held 4 - pad symbols */
		acc <<= 6 * pad;
		out[len++] = (char)(acc >> 16);
		if (pad == 1)
			out[len++] = (char)(acc >> 8);
	}
	return (long)len;
}


const char base64_chars[65] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(char *out, const void *in, size_t n)
{
	const char *abc = base64_chars;
	const unsigned char *p = in;
	char *o = out;
	size_t i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = abc[v >> 18];
		*o++ = abc[(v >> 12) & 63];
		*o++ = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? abc[v & 63] : '=';
	}
	*o = 0;
	return (size_t)(o - out);
}
