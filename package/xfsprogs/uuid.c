/*
 * The libuuid calls mkfs.xfs makes, for its static build (package/xfsprogs,
 * docs/STORAGE.md 2.2), instead of util-linux's libuuid.
 *
 * uuid_generate makes a random (version 4, RFC 4122 variant) uuid from
 * getrandom(2); mkfs.xfs makes one per filesystem.  Without entropy (a
 * getrandom that fails, which the kernel only does before its pool is
 * ready with GRND_NONBLOCK, not used here) it aborts rather than write a
 * predictable uuid.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <uuid/uuid.h>

void uuid_clear(uuid_t uu)
{
	memset(uu, 0, sizeof(uuid_t));
}

int uuid_compare(const uuid_t uu1, const uuid_t uu2)
{
	return memcmp(uu1, uu2, sizeof(uuid_t));
}

void uuid_copy(uuid_t dst, const uuid_t src)
{
	memcpy(dst, src, sizeof(uuid_t));
}

void uuid_generate(uuid_t out)
{
	size_t got = 0;

	while (got < sizeof(uuid_t)) {
		ssize_t r = getrandom(out + got, sizeof(uuid_t) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			abort();
		}
		got += (size_t)r;
	}
	out[6] = (unsigned char)((out[6] & 0x0f) | 0x40);	/* version 4 */
	out[8] = (unsigned char)((out[8] & 0x3f) | 0x80);	/* RFC 4122 */
}

int uuid_is_null(const uuid_t uu)
{
	for (size_t i = 0; i < sizeof(uuid_t); i++)
		if (uu[i])
			return 0;
	return 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 36 characters, dashes at 8, 13, 18 and 23, hex digits elsewhere; 0 or -1. */
int uuid_parse(const char *in, uuid_t uu)
{
	uuid_t tmp;
	size_t n = 0;

	if (strlen(in) != UUID_STR_LEN - 1)
		return -1;
	for (size_t i = 0; i < UUID_STR_LEN - 1; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (in[i] != '-')
				return -1;
			continue;
		}
		hi = hexval(in[i]);
		lo = hexval(in[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		tmp[n++] = (unsigned char)(hi << 4 | lo);
		i++;
	}
	memcpy(uu, tmp, sizeof(uuid_t));
	return 0;
}

void uuid_unparse(const uuid_t uu, char *out)
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	for (size_t i = 0; i < sizeof(uuid_t); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uu[i] >> 4];
		*p++ = hex[uu[i] & 0x0f];
	}
	*p = '\0';
}
