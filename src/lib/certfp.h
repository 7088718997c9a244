/* Certificate fingerprints as xenbox prints and pins them: the SHA-256 of
 * the certificate's DER bytes, upper-case hex pairs joined by ':' (as
 * `openssl x509 -fingerprint -sha256` prints it).  The TLS glue hashes
 * the certificates it parses; `xenbox pool fingerprint` (in xenbox-io,
 * which has no TLS) reads a PEM file here. */
#ifndef XB_CERTFP_H
#define XB_CERTFP_H

#include <stddef.h>

#define CERTFP_LEN 96                   /* 32 pairs, 31 colons, the NUL */

/* h as "AB:CD:..." into fp (CERTFP_LEN bytes for all of it). */
void certfp_format(const unsigned char h[32], char *fp, size_t fplen);

/* The fingerprint of the first certificate (-----BEGIN CERTIFICATE-----)
 * in the PEM file path, into fp.  0, or -1 with err.  What else the file
 * holds (a private key) is read too, and wiped after. */
int certfp_file(const char *path, char *fp, size_t fplen, char *err, size_t errlen);

#endif
