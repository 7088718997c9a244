/* Base64 (RFC 4648 section 4, padded), encoding only: the WebSocket
 * handshake's key and accept, and later HTTP Basic credentials.  (The
 * XML-RPC reader has its own decoder for <base64>.) */
#ifndef XB_BASE64_H
#define XB_BASE64_H

#include <stddef.h>

/* The 64 characters, in order (and a NUL). */
extern const char base64_chars[65];

/* Characters base64_encode writes for n bytes, without the NUL. */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Encode in[0..n) at out (BASE64_LEN(n) + 1 bytes, NUL-terminated);
 * returns BASE64_LEN(n).  O(n). */
size_t base64_encode(char *out, const void *in, size_t n);

#endif
