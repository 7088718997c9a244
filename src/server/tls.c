/* TLS for the HTTPS listener (mbedTLS 3.6).  The only file that includes
 * mbedTLS headers.
 *
 * The certificate and key live together in <state>/xapi-ssl.pem (XAPI's
 * file name), made on first start: ECDSA P-256, self-signed, CN = the host
 * name, ten years.  Its SHA-256 fingerprint is logged so an operator can
 * pin it.  TLS 1.3 is preferred, 1.2 allowed.  Connections are
 * non-blocking: reads and writes report "want read/write" and the event
 * loop retries.
 */
#include "server/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#include "lib/log.h"
#include "lib/util.h"

struct tls_conn {
	mbedtls_ssl_context ssl;
	int fd;
};

static mbedtls_ssl_config conf;
static mbedtls_x509_crt cert;
static mbedtls_pk_context key;
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

int tls_server_init(const char *state_dir, const char *cn, char *fp, size_t fplen,
		    char *err, size_t errlen)
{
	char path[600];
	unsigned char hash[32];
	struct buf pem = BUF_INIT;
	int rc;

	if (ready)
		return 0;
	if (psa_crypto_init() != PSA_SUCCESS) {
		snprintf(err, errlen, "psa_crypto_init failed");
		return -1;
	}
	if (xsnprintf(path, sizeof(path), "%s/xapi-ssl.pem", state_dir) < 0) {
		snprintf(err, errlen, "%s: path too long", state_dir);
		return -1;
	}
	if (access(path, F_OK) && make_cert(state_dir, path, cn, err, errlen))
		return -1;
	mbedtls_x509_crt_init(&cert);
	mbedtls_pk_init(&key);
	mbedtls_ssl_config_init(&conf);
	if (read_pem(path, &pem, err, errlen))
		goto fail;
	if ((rc = mbedtls_x509_crt_parse(&cert, (unsigned char *)pem.data, pem.len + 1))) {
		errstr(rc, err, errlen, path);
		goto fail;
	}
	if ((rc = mbedtls_pk_parse_key(&key, (unsigned char *)pem.data, pem.len + 1, NULL, 0,
				       rng, MBEDTLS_PSA_RANDOM_STATE))) {
		errstr(rc, err, errlen, path);
		goto fail;
	}
	secure_zero(pem.data, pem.len);
	buf_free(&pem);
	if ((rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
					      MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT)) ||
	    (rc = mbedtls_ssl_conf_own_cert(&conf, &cert, &key))) {
		errstr(rc, err, errlen, "TLS configuration");
		goto fail;
	}
	mbedtls_ssl_conf_rng(&conf, rng, MBEDTLS_PSA_RANDOM_STATE);
	mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_3);
	mbedtls_sha256(cert.raw.p, cert.raw.len, hash, 0);
	for (size_t i = 0, n = 0; i < sizeof(hash) && n + 4 < fplen; i++)
		n += (size_t)snprintf(fp + n, fplen - n, i ? ":%02X" : "%02X", hash[i]);
	ready = 1;
	return 0;
fail:
	if (pem.data)
		secure_zero(pem.data, pem.len);
	buf_free(&pem);
	tls_server_free();
	return -1;
}

void tls_server_free(void)
{
	mbedtls_ssl_config_free(&conf);
	mbedtls_x509_crt_free(&cert);
	mbedtls_pk_free(&key);          /* wipes the key */
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
	return t;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	mbedtls_ssl_free(&t->ssl);      /* wipes keys and buffers */
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

ssize_t tls_read(struct tls_conn *t, void *buf, size_t n)
{
	return map(mbedtls_ssl_read(&t->ssl, buf, n));
}

ssize_t tls_write(struct tls_conn *t, const void *buf, size_t n)
{
	return map(mbedtls_ssl_write(&t->ssl, buf, n));
}

size_t tls_pending(struct tls_conn *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl);
}

int tls_handshaking(struct tls_conn *t)
{
	return !mbedtls_ssl_is_handshake_over(&t->ssl);
}
