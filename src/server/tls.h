/* TLS glue (server/tls.c): the rest of the daemon never sees mbedTLS. */
#ifndef XB_TLS_H
#define XB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TLS_WANT_READ  (-2)
#define TLS_WANT_WRITE (-3)
#define TLS_ERROR      (-4)

struct tls_conn;

/* Load <state>/xapi-ssl.pem, or make it; fp gets the certificate's SHA-256
 * fingerprint as "AB:CD:...".  With CONFIG_XB_POOL also <state>/pool-master.pem
 * (made alike), served to clients that send the pool's server name, and its
 * fingerprint logged ("pool: this master's pool_fingerprint = ...").
 * Idempotent. */
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

/* Drive the handshake alone: 0 once it is over (for a client: and the
 * server's certificate matched the pin), else TLS_WANT_READ/WRITE or
 * TLS_ERROR.  tls_read/tls_write do it too. */
int tls_handshake(struct tls_conn *t);

/* SHA-256 of the certificate the peer presented; false if it presented
 * none (or was never asked: only pool connections are).  Recorded as it
 * arrives, so a client whose pin did not match can say what it got; a
 * server reads it once data came, i.e. the handshake succeeded. */
bool tls_peer_sha256(struct tls_conn *t, unsigned char out[32]);

/* A client of the API (xe's -s HOST, src/xe/) on fd (connected): TLS 1.2
 * or 1.3, server name host, any server certificate (XAPI's xe checks
 * none either); tls_peer_sha256 gives the one it got.  The handshake runs
 * in tls_handshake (or the first read or write).  NULL with err. */
struct tls_conn *tls_client_any(int fd, const char *host, char *err, size_t errlen);

#ifdef CONFIG_XB_POOL
/* The server used the pool's certificate: the client sent the pool's
 * server name, and TLS 1.3 was negotiated (a pool name over 1.2 is
 * refused in the handshake). */
bool tls_is_pool(struct tls_conn *t);

/* The start of a TLS connection's first bytes (b, n: what a MSG_PEEK
 * got): 1 if it is a ClientHello that names the pool's server name, 0 if
 * it is anything else, -1 if more bytes are needed to tell.  For the
 * connection limits (server/conn.c): pool handshakes are counted apart
 * before mbedTLS reads anything.  Parses no further than the SNI. */
int tls_hello_is_pool(const unsigned char *b, size_t n);

/* A member's connection to its master on fd (connected; non-blocking or
 * not): TLS 1.3 only, the pool's server name, presents
 * <state_dir>/pool-member.pem (made when absent, CN = cn, mode 0600),
 * accepts the server only if its certificate's SHA-256 is pin; pin NULL:
 * any certificate (trust on first use, pool.join: the caller reads it with
 * tls_peer_sha256 and pins it from then on).  The handshake runs in
 * tls_handshake (or the first read or write). */
struct tls_conn *tls_client_new(int fd, const char *state_dir, const char *cn,
				const unsigned char pin[32], char *err, size_t errlen);
#endif

#endif
