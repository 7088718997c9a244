/* TLS for the HTTPS listener and the pool channel (mbedTLS 3.6).  The only
 * file that includes mbedTLS headers.
 *
 * The certificate and key live together in <state>/xapi-ssl.pem (XAPI's
 * file name), made on first start: ECDSA P-256, self-signed, CN = the host
 * name, twenty years.  Its SHA-256 fingerprint is logged so an operator can
 * pin it.  TLS 1.3 is preferred, 1.2 allowed.  Connections are
 * non-blocking: reads and writes report "want read/write" and the event
 * loop retries.
 *
 * Pools (CONFIG_XB_POOL, docs/POOL.md 2.2): a client that sends the server
 * name POOL_SNI gets <state>/pool-master.pem instead, must speak TLS 1.3
 * and is asked for a certificate (optional, not checked against any CA:
 * the pool code looks its SHA-256 up).  Nobody else is ever asked for one.
 * The client side (a member dialling its master) presents
 * <state>/pool-member.pem and pins the master's certificate by SHA-256.
 */
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#include "lib/buf.h"
#include "lib/certfp.h"
#include "lib/log.h"
#include "lib/util.h"

#define POOL_SNI "xenbox-pool.invalid"

/* A certificate with its key, and (for a client) the configuration that
 * presents them. */
struct ident {
	mbedtls_x509_crt cert;
	mbedtls_pk_context key;
};

struct tls_client {
	mbedtls_ssl_config conf;
	struct ident id;
};

struct tls_conn {
	mbedtls_ssl_context ssl;        /* first: the SNI callback casts */
	int fd;
	struct tls_client *cli;         /* NULL: a server connection */
	unsigned char peer[32];         /* SHA-256 of the peer's certificate */
	unsigned char pin[32];          /* client: the server's, expected */
	unsigned char has_peer, pool, done, tofu;      /* tofu: a client without a pin */
};

static mbedtls_ssl_config conf;
static struct ident srv;
#ifdef CONFIG_XB_POOL
static struct ident pool_id;
#endif
static int ready;

static int rng(void *ctx, unsigned char *out, size_t n)
{
	return mbedtls_psa_get_random(ctx, out, n);
}

static int net_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t r = write(*(int *)ctx, buf, len);

	if (r >= 0)
		return (int)r;
	return errno == EAGAIN || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_WRITE
						 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int net_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t r = read(*(int *)ctx, buf, len);

	if (r >= 0)
		return (int)r;
	return errno == EAGAIN || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ
						 : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* MBEDTLS_ERROR_C is compiled out for size: codes only (mbedtls's
 * programs/util/strerror, or its headers, name them). */
static void errstr(int rc, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: mbedTLS error -0x%04x", what, (unsigned)-rc);
}

/* 0, or -1 with errno (a short write that cannot go on is ENOSPC). */
static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (!r)
				errno = ENOSPC;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Make a key and a self-signed certificate; write both as PEM to
 * dir/path: through path.tmp and a rename, so that path is whole or
 * absent (after a full disk, a power cut). */
static int make_cert(const char *dir, const char *path, const char *cn, char *err,
		     size_t errlen)
{
	mbedtls_x509write_cert crt;
	mbedtls_pk_context pk;
	unsigned char serial[16], pem[4096];
	char subject[300], tmp[620];
	int rc, fd = -1;
	size_t klen;

	mbedtls_x509write_crt_init(&crt);
	mbedtls_pk_init(&pk);
	rc = mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (!rc)
		rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), rng,
					 MBEDTLS_PSA_RANDOM_STATE);
	if (rc) {
		errstr(rc, err, errlen, "key generation");
		goto out;
	}
	rng(MBEDTLS_PSA_RANDOM_STATE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	if (xsnprintf(subject, sizeof(subject), "CN=%s", cn) < 0 ||
	    xsnprintf(tmp, sizeof(tmp), "%s.tmp", path) < 0) {
		snprintf(err, errlen, "certificate: host name or path too long");
		rc = -1;
		goto out;
	}
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &pk);
	mbedtls_x509write_crt_set_issuer_key(&crt, &pk);
	if ((rc = mbedtls_x509write_crt_set_subject_name(&crt, subject)) ||
	    (rc = mbedtls_x509write_crt_set_issuer_name(&crt, subject)) ||
	    (rc = mbedtls_x509write_crt_set_serial_raw(&crt, serial, sizeof(serial))) ||
	    (rc = mbedtls_x509write_crt_set_validity(&crt, "20250101000000", "20451231235959")) ||
	    (rc = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1))) {
		errstr(rc, err, errlen, "certificate");
		goto out;
	}
	rc = mbedtls_pk_write_key_pem(&pk, pem, sizeof(pem));
	if (rc) {
		errstr(rc, err, errlen, "key PEM");
		goto out;
	}
	klen = strlen((char *)pem);
	rc = mbedtls_x509write_crt_pem(&crt, pem + klen, sizeof(pem) - klen, rng,
				       MBEDTLS_PSA_RANDOM_STATE);
	if (rc) {
		errstr(rc, err, errlen, "certificate PEM");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	rc = fd < 0 || write_all(fd, pem, strlen((char *)pem)) || fsync(fd) < 0 ? -1 : 0;
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	fd = -1;
	if (rc || rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		rc = -1;
		unlink(tmp);
		goto out;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);  /* the rename, on disk */
	if (fd >= 0)
		fsync(fd);
	log_info("tls: made a self-signed certificate for %s in %s", cn, path);
out:
	if (fd >= 0)
		close(fd);
	secure_zero(pem, sizeof(pem));
	mbedtls_pk_free(&pk);
	mbedtls_x509write_crt_free(&crt);
	return rc ? -1 : 0;
}

static int read_pem(const char *path, struct buf *b, char *err, size_t errlen)
{
	char tmp[1024];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((r = read(fd, tmp, sizeof(tmp))) > 0 && b->len < 65536)
		buf_add(b, tmp, (size_t)r);
	secure_zero(tmp, sizeof(tmp));
	close(fd);
	if (r < 0 || !b->len) {
		snprintf(err, errlen, "%s: cannot read", path);
		return -1;
	}
	return 0;
}

/* dir/file into id, made first (CN = cn) when absent and cn is given. */
static int load_ident(struct ident *id, const char *dir, const char *file, const char *cn,
		      char *err, size_t errlen)
{
	char path[600];
	struct buf pem = BUF_INIT;
	int rc = -1;

	mbedtls_x509_crt_init(&id->cert);
	mbedtls_pk_init(&id->key);
	if (psa_crypto_init() != PSA_SUCCESS) {
		snprintf(err, errlen, "psa_crypto_init failed");
		return -1;
	}
	if (xsnprintf(path, sizeof(path), "%s/%s", dir, file) < 0) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (cn && access(path, F_OK) && make_cert(dir, path, cn, err, errlen))
		return -1;
	if (read_pem(path, &pem, err, errlen))
		goto out;
	if ((rc = mbedtls_x509_crt_parse(&id->cert, (unsigned char *)pem.data, pem.len + 1)) ||
	    (rc = mbedtls_pk_parse_key(&id->key, (unsigned char *)pem.data, pem.len + 1, NULL, 0,
				       rng, MBEDTLS_PSA_RANDOM_STATE)))
		errstr(rc, err, errlen, path);
out:
	if (pem.data)
		secure_zero(pem.data, pem.len);
	buf_free(&pem);
	return rc ? -1 : 0;
}

static void free_ident(struct ident *id)
{
	mbedtls_x509_crt_free(&id->cert);
	mbedtls_pk_free(&id->key);      /* wipes the key */
}

static void ident_fingerprint(struct ident *id, char *fp, size_t fplen)
{
	unsigned char h[32];

	mbedtls_sha256(id->cert.raw.p, id->cert.raw.len, h, 0);
	certfp_format(h, fp, fplen);
}

/* The peer's certificate chain, each one from the top (depth 0 is the
 * leaf, last).  No CA is configured: the leaf's hash is what counts.  A
 * client passes only its pin (the flags it clears are "not trusted" and
 * the name mismatch with POOL_SNI); on a mismatch it stops the handshake
 * here, with an alert, rather than let OPTIONAL carry on to send its own
 * certificate and Finished to whoever that is (tls_handshake checks the
 * flags again).  A server (authmode OPTIONAL) records the hash; the
 * handshake goes on to prove that the peer holds the key. */
static int on_verify(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
	struct tls_conn *t = ctx;

	if (depth)
		return 0;
	mbedtls_sha256(crt->raw.p, crt->raw.len, t->peer, 0);
	t->has_peer = 1;
	if (t->cli) {
		*flags = 0;
		if (memcmp(t->peer, t->pin, 32) && !t->tofu) {
			*flags = MBEDTLS_X509_BADCERT_NOT_TRUSTED;
			return MBEDTLS_ERR_X509_FATAL_ERROR;
		}
	} else if (log_level >= LOG_DEBUG) {
		char fp[100];

		certfp_format(t->peer, fp, sizeof(fp));
		log_debug("pool: peer certificate sha256=%s", fp);
	}
	return 0;
}

#ifdef CONFIG_XB_POOL
/* Server name indication: only POOL_SNI changes anything, and only over
 * TLS 1.3 (the version is known by now: the ClientHello chose the 1.2 or
 * the 1.3 parser); a pool name over 1.2 ends the handshake. */
static int on_sni(void *ctx, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
	struct tls_conn *t = (struct tls_conn *)ssl;

	(void)ctx;
	if (len != sizeof(POOL_SNI) - 1 || strncasecmp((const char *)name, POOL_SNI, len))
		return 0;
	if (mbedtls_ssl_get_version_number(ssl) != MBEDTLS_SSL_VERSION_TLS1_3)
		return -1;
	t->pool = 1;
	mbedtls_ssl_set_hs_authmode(ssl, MBEDTLS_SSL_VERIFY_OPTIONAL);
	return mbedtls_ssl_set_hs_own_cert(ssl, &pool_id.cert, &pool_id.key);
}
#endif

int tls_server_init(const char *state_dir, const char *cn, char *fp, size_t fplen,
		    char *err, size_t errlen)
{
	int rc;

	if (ready)
		return 0;
	mbedtls_ssl_config_init(&conf);
	if (load_ident(&srv, state_dir, "xapi-ssl.pem", cn, err, errlen))
		goto fail;
#ifdef CONFIG_XB_POOL
	if (load_ident(&pool_id, state_dir, "pool-master.pem", cn, err, errlen))
		goto fail;
#endif
	if ((rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
					      MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT)) ||
	    (rc = mbedtls_ssl_conf_own_cert(&conf, &srv.cert, &srv.key))) {
		errstr(rc, err, errlen, "TLS configuration");
		goto fail;
	}
	mbedtls_ssl_conf_rng(&conf, rng, MBEDTLS_PSA_RANDOM_STATE);
	mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_3);
#ifdef CONFIG_XB_POOL
	{
		char pfp[100];

		mbedtls_ssl_conf_sni(&conf, on_sni, NULL);
		ident_fingerprint(&pool_id, pfp, sizeof(pfp));
		log_info("pool: this master's pool_fingerprint = %s", pfp);
	}
#endif
	ident_fingerprint(&srv, fp, fplen);
	ready = 1;
	return 0;
fail:
	tls_server_free();
	return -1;
}

void tls_server_free(void)
{
	mbedtls_ssl_config_free(&conf);
	free_ident(&srv);
#ifdef CONFIG_XB_POOL
	free_ident(&pool_id);
#endif
	ready = 0;
}

struct tls_conn *tls_conn_new(int fd)
{
	struct tls_conn *t = xcalloc(1, sizeof(*t));

	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, &conf)) {
		mbedtls_ssl_free(&t->ssl);
		free(t);
		return NULL;
	}
	t->fd = fd;
	mbedtls_ssl_set_bio(&t->ssl, &t->fd, net_send, net_recv, NULL);
	mbedtls_ssl_set_verify(&t->ssl, on_verify, t);  /* runs for the pool only */
	return t;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	mbedtls_ssl_free(&t->ssl);      /* wipes keys and buffers */
	if (t->cli) {
		mbedtls_ssl_config_free(&t->cli->conf);
		free_ident(&t->cli->id);
		free(t->cli);
	}
	free(t);
}

static ssize_t map(int rc)
{
	if (rc >= 0)
		return rc;
	if (rc == MBEDTLS_ERR_SSL_WANT_READ)
		return TLS_WANT_READ;
	if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_WRITE;
	if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET ||
	    rc == MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS)
		return TLS_WANT_READ;
	if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	return TLS_ERROR;
}

int tls_handshake(struct tls_conn *t)
{
	ssize_t r;

	if (t->done)
		return 0;
	r = map(mbedtls_ssl_handshake(&t->ssl));
	if (r)
		return (int)r;
	/* a client's pin: the verify callback's verdict (docs/POOL.md 2.2) */
	if (t->cli && mbedtls_ssl_get_verify_result(&t->ssl))
		return TLS_ERROR;
	t->done = 1;
	return 0;
}

/* A client reads and writes only once its pin has been checked. */
ssize_t tls_read(struct tls_conn *t, void *buf, size_t n)
{
	int r = t->cli ? tls_handshake(t) : 0;

	return r ? r : map(mbedtls_ssl_read(&t->ssl, buf, n));
}

ssize_t tls_write(struct tls_conn *t, const void *buf, size_t n)
{
	int r = t->cli ? tls_handshake(t) : 0;

	return r ? r : map(mbedtls_ssl_write(&t->ssl, buf, n));
}

bool tls_peer_sha256(struct tls_conn *t, unsigned char out[32])
{
	if (t->has_peer)
		memcpy(out, t->peer, 32);
	return t->has_peer;
}

#ifdef CONFIG_XB_POOL
/* Big-endian length of k bytes at b[*o], which must be within n; -1 if not. */
static long be(const unsigned char *b, size_t n, size_t *o, int k)
{
	long v = 0;

	if (*o + (size_t)k > n)
		return -1;
	for (int i = 0; i < k; i++)
		v = v << 8 | b[(*o)++];
	return v;
}

int tls_hello_is_pool(const unsigned char *b, size_t n)
{
	size_t o = 0, end;
	long l;

	/* record: handshake (22), version, length; then ClientHello (1) */
	if (n < 6)
		return -1;
	if (b[0] != 22 || b[5] != 1)
		return 0;
	o = 3;
	l = be(b, n, &o, 2);
	end = 5 + (size_t)l;    /* only the first record: a hello in one */
	if (end > n)
		return -1;
	o = 9 + 2 + 32;         /* handshake head, client version, random */
	if ((l = be(b, end, &o, 1)) < 0 || (o += (size_t)l) > end ||     /* session id */
	    (l = be(b, end, &o, 2)) < 0 || (o += (size_t)l) > end ||     /* cipher suites */
	    (l = be(b, end, &o, 1)) < 0 || (o += (size_t)l) > end ||     /* compression */
	    (l = be(b, end, &o, 2)) < 0)                                 /* extensions */
		return 0;
	if (o + (size_t)l < end)
		end = o + (size_t)l;
	while (o + 4 <= end) {
		long type = be(b, end, &o, 2), len = be(b, end, &o, 2);
		size_t x = o;

		if (len < 0 || o + (size_t)len > end)
			return 0;
		o += (size_t)len;
		if (type != 0)
			continue;
		/* server_name: list length, name type 0 (host_name), length */
		if (be(b, o, &x, 2) < 0 || be(b, o, &x, 1) != 0 || (l = be(b, o, &x, 2)) < 0 ||
		    x + (size_t)l > o)
			return 0;
		return (size_t)l == sizeof(POOL_SNI) - 1 &&
		       !strncasecmp((const char *)b + x, POOL_SNI, (size_t)l);
	}
	return 0;
}

bool tls_is_pool(struct tls_conn *t)
{
	return t->pool && mbedtls_ssl_is_handshake_over(&t->ssl) &&
	       mbedtls_ssl_get_version_number(&t->ssl) == MBEDTLS_SSL_VERSION_TLS1_3;
}

struct tls_conn *tls_client_new(int fd, const char *state_dir, const char *cn,
				const unsigned char pin[32], char *err, size_t errlen)
{
	struct tls_client *c = xcalloc(1, sizeof(*c));
	struct tls_conn *t = NULL;
	int rc;

	mbedtls_ssl_config_init(&c->conf);
	if (load_ident(&c->id, state_dir, "pool-member.pem", cn, err, errlen))
		goto fail;
	if ((rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					      MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT)) ||
	    (rc = mbedtls_ssl_conf_own_cert(&c->conf, &c->id.cert, &c->id.key))) {
		errstr(rc, err, errlen, "TLS client configuration");
		goto fail;
	}
	mbedtls_ssl_conf_rng(&c->conf, rng, MBEDTLS_PSA_RANDOM_STATE);
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_OPTIONAL); /* + the pin */
	mbedtls_ssl_conf_min_tls_version(&c->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_ssl_conf_max_tls_version(&c->conf, MBEDTLS_SSL_VERSION_TLS1_3);
	t = xcalloc(1, sizeof(*t));
	mbedtls_ssl_init(&t->ssl);
	t->cli = c;
	t->fd = fd;
	if (pin)
		memcpy(t->pin, pin, 32);
	t->tofu = !pin;
	if ((rc = mbedtls_ssl_setup(&t->ssl, &c->conf)) ||
	    (rc = mbedtls_ssl_set_hostname(&t->ssl, POOL_SNI))) {
		errstr(rc, err, errlen, "TLS client");
		tls_conn_free(t);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, &t->fd, net_send, net_recv, NULL);
	mbedtls_ssl_set_verify(&t->ssl, on_verify, t);
	return t;
fail:
	mbedtls_ssl_config_free(&c->conf);
	free_ident(&c->id);
	free(c);
	return NULL;
}
#endif

/* A plain API client (xe's -s): no certificate of its own, TLS 1.2 or
 * 1.3, any server certificate (as XAPI's xe: it records its hash, which
 * tls_peer_sha256 gives).  Blocking or not, as fd is. */
struct tls_conn *tls_client_any(int fd, const char *host, char *err, size_t errlen)
{
	struct tls_client *c = xcalloc(1, sizeof(*c));
	struct tls_conn *t;
	int rc;

	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->id.cert);
	mbedtls_pk_init(&c->id.key);
	t = xcalloc(1, sizeof(*t));
	mbedtls_ssl_init(&t->ssl);
	t->cli = c;
	t->fd = fd;
	t->tofu = 1;
	if (psa_crypto_init() != PSA_SUCCESS) {
		snprintf(err, errlen, "psa_crypto_init failed");
		goto fail;
	}
	if ((rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					      MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT))) {
		errstr(rc, err, errlen, "TLS client configuration");
		goto fail;
	}
	mbedtls_ssl_conf_rng(&c->conf, rng, MBEDTLS_PSA_RANDOM_STATE);
	mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_OPTIONAL); /* any: on_verify */
	if ((rc = mbedtls_ssl_setup(&t->ssl, &c->conf)) ||
	    (rc = mbedtls_ssl_set_hostname(&t->ssl, host))) {
		errstr(rc, err, errlen, "TLS client");
		goto fail;
	}
	mbedtls_ssl_set_bio(&t->ssl, &t->fd, net_send, net_recv, NULL);
	mbedtls_ssl_set_verify(&t->ssl, on_verify, t);
	return t;
fail:
	tls_conn_free(t);
	return NULL;
}

size_t tls_pending(struct tls_conn *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl);
}

int tls_handshaking(struct tls_conn *t)
{
	return !mbedtls_ssl_is_handshake_over(&t->ssl);
}
