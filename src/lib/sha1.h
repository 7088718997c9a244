/* SHA-1 (FIPS 180-4), for the WebSocket handshake only: RFC 6455 fixes
 * Sec-WebSocket-Accept as base64(SHA-1(key + GUID)).  SHA-1 is broken for
 * collisions; nothing here relies on it for security.  Use sha256.h for
 * anything else. */
#ifndef XB_SHA1_H
#define XB_SHA1_H

#include <stddef.h>
#include <stdint.h>

struct sha1 {
	uint32_t h[5];
	uint64_t len;
	unsigned char buf[64];
	size_t n;
};

void sha1_init(struct sha1 *s);
void sha1_update(struct sha1 *s, const void *p, size_t n);
void sha1_final(struct sha1 *s, unsigned char out[20]);

#endif
