/* Base64 decoding (RFC 4648), shared by the XML-RPC decoder (<base64>)
 * and HTTP Basic credentials. */
#ifndef XB_BASE64_H
#define XB_BASE64_H

#include <stddef.h>

/* Padded base64 s[0..n) into out, which has room for n / 4 * 3 bytes;
 * spaces, tabs, CR and LF are ignored.  The length decoded, or -1 when s
 * is not base64 (a symbol outside the alphabet, misplaced '=', a last
 * quantum short of 4 symbols).  Writes no terminating NUL.  O(n). */
long b64_decode(const char *s, size_t n, char *out);

#endif
