/* TLS glue (server/tls.c): the rest of the daemon never sees mbedTLS. */
#ifndef XB_TLS_H
#define XB_TLS_H

#include <stddef.h>
#include <sys/types.h>

#define TLS_WANT_READ  (-2)
#define TLS_WANT_WRITE (-3)
#define TLS_ERROR      (-4)

struct tls_conn;

/* Load <state>/xapi-ssl.pem, or make it; fp gets the certificate's SHA-256
 * fingerprint as "AB:CD:...".  Idempotent. */
int tls_server_init(const char *state_dir, const char *cn, char *fp, size_t fplen,
		    char *err, size_t errlen);
void tls_server_free(void);             /* idempotent; wipes the key */

struct tls_conn *tls_conn_new(int fd);
void tls_conn_free(struct tls_conn *t); /* NULL is fine */
/* > 0 bytes, 0 closed, or TLS_WANT_READ / TLS_WANT_WRITE / TLS_ERROR.
 * The handshake happens inside the first calls. */
ssize_t tls_read(struct tls_conn *t, void *buf, size_t n);
ssize_t tls_write(struct tls_conn *t, const void *buf, size_t n);
size_t tls_pending(struct tls_conn *t); /* decrypted bytes buffered */
int tls_handshaking(struct tls_conn *t);  /* the handshake is not over */

#endif
