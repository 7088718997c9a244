/* SHA-1 (FIPS 180-4), for the WebSocket handshake only: RFC 6455 fixes
 * Sec-WebSocket-Accept as base64(SHA-1(key + GUID)).  SHA-1 is broken for
 * collisions; nothing here relies on it for security.  Use sha256.h for
 * anything else.  One call over one buffer: the only caller hashes 60
 * bytes, and a streaming interface would cost twice the code. */
#ifndef XB_SHA1_H
#define XB_SHA1_H

#include <stddef.h>

/* SHA-1 of p[0..n) into out.  O(n). */
void sha1(const void *p, size_t n, unsigned char out[20]);

#endif
