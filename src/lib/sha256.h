/* SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and PBKDF2-HMAC-SHA256
 * (RFC 8018) for password hashing.  Our own small copy, so that password
 * checks need no TLS library; contexts are wiped by their _free. */
#ifndef XB_SHA256_H
#define XB_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);
void sha256(const void *p, size_t n, unsigned char out[32]);

void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		 unsigned char out[32]);
void pbkdf2_sha256(const void *pwd, size_t plen, const void *salt, size_t slen,
		   uint32_t iter, unsigned char *out, size_t outlen);

#endif
