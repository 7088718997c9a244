/* Base64 (RFC 4648 section 4, padded): decoding for the XML-RPC reader
 * (<base64>) and HTTP Basic credentials, encoding for the WebSocket
 * handshake's key and accept (pool/ws.c). */
#ifndef XB_BASE64_H
#define XB_BASE64_H

#include <stddef.h>

/* Padded base64 s[0..n) into out, which has room for n / 4 * 3 bytes;
 * spaces, tabs, CR and LF are ignored.  The length decoded, or -1 when s
 * is not base64 (a symbol outside the alphabet, misplaced '=', a last
 * quantum short of 4 symbols).  Writes no terminating NUL.  O(n). */
long b64_decode(const char *s, size_t n, char *out);

/* The 64 characters, in order (and a NUL). */
extern const char base64_chars[65];

/* Characters base64_encode writes for n bytes, without the NUL. */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Encode in[0..n) at out (BASE64_LEN(n) + 1 bytes, NUL-terminated);
 * returns BASE64_LEN(n).  O(n). */
size_t base64_encode(char *out, const void *in, size_t n);

#endif
