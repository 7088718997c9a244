/* Password hashes (auth.h): PBKDF2-HMAC-SHA256, stored as
 *   pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>
 * The daemon's logins (session.c) check them; `xenbox passwd` (in
 * xenbox-io with CONFIG_XB_IO) makes them: this file links alone, with
 * lib/ only. */
#include "api/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lib/sha256.h"
#include "lib/util.h"

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int unhex(const char *s, size_t n, unsigned char *out, size_t max)
{
	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int h = hexval(s[2 * i]), l = hexval(s[2 * i + 1]);

		if (h < 0 || l < 0)
			return -1;
		out[i] = (unsigned char)(h << 4 | l);
	}
	return (int)(n / 2);
}

int auth_hash_check(const char *stored, const char *pwd)
{
	unsigned char salt[64], want[64], got[64];
	const char *p, *s1, *s2;
	unsigned long iter;
	int slen, hlen, diff = 0;
	char *end;

	if (strncmp(stored, "pbkdf2-sha256$", 14))
		return -1;
	p = stored + 14;
	iter = strtoul(p, &end, 10);
	if (*end != '$' || iter < 1 || iter > 100000000)
		return -1;
	s1 = end + 1;
	s2 = strchr(s1, '$');
	if (!s2)
		return -1;
	slen = unhex(s1, (size_t)(s2 - s1), salt, sizeof(salt));
	hlen = unhex(s2 + 1, strcspn(s2 + 1, "\r\n"), want, sizeof(want));
	if (slen < 8 || hlen < 16)
		return -1;
	pbkdf2_sha256(pwd, strlen(pwd), salt, (size_t)slen, (uint32_t)iter, got, (size_t)hlen);
	for (int i = 0; i < hlen; i++)
		diff |= got[i] ^ want[i];
	secure_zero(got, sizeof(got));
	return diff ? 1 : 0;
}

int auth_hash_make(const char *pwd, uint32_t iter, char *out, size_t outlen)
{
	unsigned char salt[16], hash[32];
	int n;

	n = snprintf(NULL, 0, "pbkdf2-sha256$%u$", iter);
	if (n < 0 || (size_t)n + 2 * sizeof(salt) + 1 + 2 * sizeof(hash) >= outlen)
		return -1;      /* would not fit: never hand out a truncated hash */
	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -1;
	pbkdf2_sha256(pwd, strlen(pwd), salt, sizeof(salt), iter, hash, sizeof(hash));
	n = snprintf(out, outlen, "pbkdf2-sha256$%u$", iter);
	for (size_t i = 0; i < sizeof(salt); i++)
		n += snprintf(out + n, outlen - (size_t)n, "%02x", salt[i]);
	n += snprintf(out + n, outlen - (size_t)n, "$");
	for (size_t i = 0; i < sizeof(hash); i++)
		n += snprintf(out + n, outlen - (size_t)n, "%02x", hash[i]);
	secure_zero(hash, sizeof(hash));
	return 0;
}
