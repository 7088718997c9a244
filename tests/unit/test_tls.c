/* The TLS glue (server/tls.c).
 *
 * The HTTPS certificate file: made on first start; a file that could not
 * be written whole (disk full, a file size limit) is not left behind
 * half-written, where every later start would fail on it.
 *
 * The pool channel (docs/POOL.md 2.2), both sides of the glue back to back
 * over a socketpair: the member's client pins the master's pool
 * certificate, presents its own, speaks TLS 1.3 only; the master serves
 * its pool certificate to the pool's server name only, over TLS 1.3 only,
 * and asks nobody else for a certificate.  The peers the glue cannot play
 * (a TLS 1.2 server, clients of other kinds) are mbedTLS made here. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <mbedtls/psa_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "lib/certfp.h"
#include "server/tls.h"

static char dir[] = "/tmp/xenbox-test-tls-XXXXXX";
static char pem[sizeof(dir) + 32];

/* In a child limited to `limit` bytes per file: the init's result. */
static int init_limited(rlim_t limit)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (!pid) {
		struct rlimit rl = { limit, limit };
		char fp[128], err[256];
		int rc;

		signal(SIGXFSZ, SIG_IGN);       /* a short write, then EFBIG */
		setrlimit(RLIMIT_FSIZE, &rl);
		rc = tls_server_init(dir, "test", fp, sizeof(fp), err, sizeof(err));
		tls_server_free();
		_exit(rc ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_certificate_short_write(void **state)
{
	struct stat st;
	char fp[128], err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pem, sizeof(pem), "%s/xapi-ssl.pem", dir);
	/* 200 bytes: the key and certificate (~800) do not fit */
	assert_int_equal(init_limited(200), 1);
	assert_int_equal(stat(pem, &st), -1);   /* nothing half-written is kept */
#ifdef CONFIG_XB_POOL
	{
		char pool[sizeof(dir) + 32];

		snprintf(pool, sizeof(pool), "%s/pool-master.pem", dir);
		assert_int_equal(stat(pool, &st), -1);
		/* the pool's certificate, the second file, alike */
		assert_int_equal(tls_server_init(dir, "test", fp, sizeof(fp), err, sizeof(err)), 0);
		tls_server_free();
		assert_int_equal(unlink(pool), 0);
		assert_int_equal(init_limited(200), 1);
		assert_int_equal(stat(pem, &st), 0);    /* the HTTPS one is kept */
		assert_int_equal(stat(pool, &st), -1);
	}
#endif
	/* the next start makes a whole one */
	assert_int_equal(tls_server_init(dir, "test", fp, sizeof(fp), err, sizeof(err)), 0);
	assert_int_equal(stat(pem, &st), 0);
	assert_true(st.st_size > 400);
	assert_int_equal(st.st_mode & 0777, 0600);
	tls_server_free();
	/* and it is kept */
	assert_int_equal(tls_server_init(dir, "test", fp, sizeof(fp), err, sizeof(err)), 0);
	tls_server_free();
	unlink(pem);
#ifdef CONFIG_XB_POOL
	{
		char pool[sizeof(dir) + 32];

		snprintf(pool, sizeof(pool), "%s/pool-master.pem", dir);
		assert_int_equal(stat(pool, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		unlink(pool);
	}
#endif
	rmdir(dir);
}

#ifdef CONFIG_XB_POOL
static char mdir[] = "/tmp/xenbox-test-tls-master-XXXXXX";  /* the master's state */
static char cdir[] = "/tmp/xenbox-test-tls-member-XXXXXX";  /* the member's */
static unsigned char pool_pin[32], https_pin[32];

static void unhex(const char *fp, unsigned char out[32])
{
	for (int i = 0; i < 32; i++)
		assert_int_equal(sscanf(fp + 3 * i, "%2hhx", &out[i]), 1);
}

/* d/file, NUL-terminated (mbedTLS here has no file I/O: MBEDTLS_FS_IO). */
static size_t slurp(const char *d, const char *file, unsigned char *buf, size_t n)
{
	char path[200];
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", d, file);
	assert_non_null(f = fopen(path, "r"));
	len = fread(buf, 1, n - 1, f);
	fclose(f);
	buf[len] = 0;
	return len + 1;
}

static void file_sha256(const char *d, const char *file, unsigned char out[32])
{
	unsigned char text[8192];
	size_t n = slurp(d, file, text, sizeof(text));
	mbedtls_x509_crt crt;

	mbedtls_x509_crt_init(&crt);
	assert_int_equal(mbedtls_x509_crt_parse(&crt, text, n), 0);
	mbedtls_sha256(crt.raw.p, crt.raw.len, out, 0);
	mbedtls_x509_crt_free(&crt);
}

static int pool_setup(void **state)
{
	char fp[100], fp2[100], err[256], path[200];
	unsigned char h[32];

	(void)state;
	assert_non_null(mkdtemp(mdir));
	assert_non_null(mkdtemp(cdir));
	assert_int_equal(tls_server_init(mdir, "master", fp, sizeof(fp), err, sizeof(err)), 0);
	unhex(fp, https_pin);
	/* `xenbox pool fingerprint`'s reading (no TLS) gives mbedTLS's hash */
	snprintf(path, sizeof(path), "%s/pool-master.pem", mdir);
	assert_int_equal(certfp_file(path, fp2, sizeof(fp2), err, sizeof(err)), 0);
	assert_int_equal(strlen(fp2), 95);
	unhex(fp2, pool_pin);
	/* the fingerprints are the files' certificates' */
	file_sha256(mdir, "pool-master.pem", h);
	assert_memory_equal(h, pool_pin, 32);
	file_sha256(mdir, "xapi-ssl.pem", h);
	assert_memory_equal(h, https_pin, 32);
	assert_memory_not_equal(pool_pin, https_pin, 32);  /* its own certificate */
	return 0;
}

static int pool_teardown(void **state)
{
	char cmd[200];

	(void)state;
	tls_server_free();
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", mdir, cdir);
	return system(cmd);
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

/* Both handshakes, stepped in turn until neither can go on: the first
 * side's result, the other's in *other. */
static int pump(struct tls_conn *a, struct tls_conn *b, int *other)
{
	int ra = TLS_WANT_READ, rb = TLS_WANT_READ;

	/* until neither waits (a side whose peer failed waits for good) */
	for (int i = 0; i < 200; i++) {
		int wa = ra == TLS_WANT_READ || ra == TLS_WANT_WRITE;
		int wb = rb == TLS_WANT_READ || rb == TLS_WANT_WRITE;

		if (!wa && !wb)
			break;
		if (wa)
			ra = tls_handshake(a);
		if (wb)
			rb = tls_handshake(b);
	}
	*other = rb;
	return ra;
}

static void test_pool_pin_match(void **state)
{
	unsigned char h[32], want[32];
	char err[256], buf[16];
	struct stat st;
	struct tls_conn *s, *c;
	int sv[2], rs;

	(void)state;
	pair(sv);
	s = tls_conn_new(sv[0]);
	c = tls_client_new(sv[1], cdir, "6f1c0d2e-member", pool_pin, err, sizeof(err));
	assert_non_null(s);
	assert_non_null(c);
	assert_int_equal(pump(c, s, &rs), 0);
	assert_int_equal(rs, 0);
	/* the member: the master's pool certificate, as pinned */
	assert_true(tls_peer_sha256(c, h));
	assert_memory_equal(h, pool_pin, 32);
	/* the master: a pool connection, with the member's certificate */
	assert_true(tls_is_pool(s));
	assert_true(tls_peer_sha256(s, h));
	file_sha256(cdir, "pool-member.pem", want);
	assert_memory_equal(h, want, 32);
	/* made on the way, private */
	{
		char path[200];

		snprintf(path, sizeof(path), "%s/pool-member.pem", cdir);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	/* data both ways */
	assert_int_equal(tls_write(c, "ping", 4), 4);
	assert_int_equal(tls_read(s, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(tls_write(s, "pong", 4), 4);
	assert_int_equal(tls_read(c, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	tls_conn_free(c);
	tls_conn_free(s);
	close(sv[0]);
	close(sv[1]);

	/* the member's certificate is kept: the same hash next time */
	pair(sv);
	s = tls_conn_new(sv[0]);
	c = tls_client_new(sv[1], cdir, "6f1c0d2e-member", pool_pin, err, sizeof(err));
	assert_int_equal(pump(c, s, &rs), 0);
	assert_true(tls_peer_sha256(s, h));
	assert_memory_equal(h, want, 32);
	tls_conn_free(c);
	tls_conn_free(s);
	close(sv[0]);
	close(sv[1]);
}

static void test_pool_pin_mismatch(void **state)
{
	unsigned char pin[32], h[32];
	char err[256];
	struct tls_conn *s, *c;
	int sv[2], rs;

	(void)state;
	memcpy(pin, pool_pin, 32);
	pin[31] ^= 1;
	pair(sv);
	s = tls_conn_new(sv[0]);
	c = tls_client_new(sv[1], cdir, "6f1c0d2e-member", pin, err, sizeof(err));
	assert_int_equal(pump(c, s, &rs), TLS_ERROR);
	/* what was presented, for "presented X, pinned Y" */
	assert_true(tls_peer_sha256(c, h));
	assert_memory_equal(h, pool_pin, 32);
	/* nothing goes through, and the handshake stopped at the master's
	 * certificate: the member's never went to it */
	assert_int_equal(tls_write(c, "secret", 6), TLS_ERROR);
	assert_int_not_equal(rs, 0);
	assert_false(tls_peer_sha256(s, h));
	tls_conn_free(c);
	tls_conn_free(s);
	close(sv[0]);
	close(sv[1]);

	/* pinning the HTTPS certificate is no good either: never served to the pool */
	pair(sv);
	s = tls_conn_new(sv[0]);
	c = tls_client_new(sv[1], cdir, "6f1c0d2e-member", https_pin, err, sizeof(err));
	assert_int_equal(pump(c, s, &rs), TLS_ERROR);
	assert_true(tls_peer_sha256(c, h));
	assert_memory_equal(h, pool_pin, 32);
	tls_conn_free(c);
	tls_conn_free(s);
	close(sv[0]);
	close(sv[1]);
}

/* A plain mbedTLS peer: a client (sni may be NULL) or a server, its
 * versions, with the master's pool identity when it must present one. */
struct peer {
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_x509_crt crt;
	mbedtls_pk_context key;
	int fd;
};

static int p_send(void *ctx, const unsigned char *b, size_t n)
{
	ssize_t r = write(*(int *)ctx, b, n);

	return r >= 0 ? (int)r : MBEDTLS_ERR_SSL_WANT_WRITE;
}

static int p_recv(void *ctx, unsigned char *b, size_t n)
{
	ssize_t r = read(*(int *)ctx, b, n);

	return r >= 0 ? (int)r : MBEDTLS_ERR_SSL_WANT_READ;
}

static void peer_init(struct peer *p, int fd, int endpoint, mbedtls_ssl_protocol_version maxv,
		      const char *sni)
{
	unsigned char text[8192];
	size_t n = slurp(mdir, "pool-master.pem", text, sizeof(text));

	mbedtls_ssl_config_init(&p->conf);
	mbedtls_ssl_init(&p->ssl);
	mbedtls_x509_crt_init(&p->crt);
	mbedtls_pk_init(&p->key);
	p->fd = fd;
	assert_int_equal(mbedtls_x509_crt_parse(&p->crt, text, n), 0);
	assert_int_equal(mbedtls_pk_parse_key(&p->key, text, n, NULL, 0, mbedtls_psa_get_random,
					      MBEDTLS_PSA_RANDOM_STATE), 0);
	assert_int_equal(mbedtls_ssl_config_defaults(&p->conf, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
						     MBEDTLS_SSL_PRESET_DEFAULT), 0);
	mbedtls_ssl_conf_rng(&p->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
	mbedtls_ssl_conf_authmode(&p->conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_min_tls_version(&p->conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_max_tls_version(&p->conf, maxv);
	assert_int_equal(mbedtls_ssl_conf_own_cert(&p->conf, &p->crt, &p->key), 0);
	assert_int_equal(mbedtls_ssl_setup(&p->ssl, &p->conf), 0);
	if (sni)
		assert_int_equal(mbedtls_ssl_set_hostname(&p->ssl, sni), 0);
	mbedtls_ssl_set_bio(&p->ssl, &p->fd, p_send, p_recv, NULL);
}

static void peer_free(struct peer *p)
{
	mbedtls_ssl_free(&p->ssl);
	mbedtls_ssl_config_free(&p->conf);
	mbedtls_x509_crt_free(&p->crt);
	mbedtls_pk_free(&p->key);
	close(p->fd);
}

/* The glue's side against a plain peer: its result, the peer's in *pr. */
static int pump_peer(struct tls_conn *t, struct peer *p, int *pr)
{
	int rt = TLS_WANT_READ, rp = MBEDTLS_ERR_SSL_WANT_READ;

	for (int i = 0; i < 200; i++) {
		int wt = rt == TLS_WANT_READ || rt == TLS_WANT_WRITE;
		int wp = rp == MBEDTLS_ERR_SSL_WANT_READ || rp == MBEDTLS_ERR_SSL_WANT_WRITE;

		if (!wt && !wp)
			break;
		if (wt)
			rt = tls_handshake(t);
		if (wp)
			rp = mbedtls_ssl_handshake(&p->ssl);
	}
	*pr = rp;
	return rt;
}

/* The member refuses a master that offers only TLS 1.2, even with the
 * pinned certificate. */
static void test_pool_client_refuses_tls12_server(void **state)
{
	struct peer p;
	struct tls_conn *c;
	char err[256];
	int sv[2], pr;

	(void)state;
	pair(sv);
	peer_init(&p, sv[0], MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_VERSION_TLS1_2, NULL);
	c = tls_client_new(sv[1], cdir, "6f1c0d2e-member", pool_pin, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(pump_peer(c, &p, &pr), TLS_ERROR);
	assert_int_not_equal(pr, 0);
	tls_conn_free(c);
	peer_free(&p);
	close(sv[1]);

	/* the same server with 1.3: accepted (the refusal was the version's) */
	pair(sv);
	peer_init(&p, sv[0], MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_VERSION_TLS1_3, NULL);
	c = tls_client_new(sv[1], cdir, "6f1c0d2e-member", pool_pin, err, sizeof(err));
	assert_int_equal(pump_peer(c, &p, &pr), 0);
	assert_int_equal(pr, 0);
	tls_conn_free(c);
	peer_free(&p);
	close(sv[1]);
}

/* Clients other than a member, against the master's server glue: what
 * certificate they get, whether they are asked for one. */
static void server_with(mbedtls_ssl_protocol_version maxv, const char *sni, int want,
			const unsigned char *want_cert, int want_pool)
{
	unsigned char h[32];
	const mbedtls_x509_crt *got;
	struct peer p;
	struct tls_conn *s;
	int sv[2], pr;

	pair(sv);
	s = tls_conn_new(sv[0]);
	peer_init(&p, sv[1], MBEDTLS_SSL_IS_CLIENT, maxv, sni);
	assert_int_equal(pump_peer(s, &p, &pr), want);
	if (!want) {
		assert_int_equal(pr, 0);
		got = mbedtls_ssl_get_peer_cert(&p.ssl);
		assert_non_null(got);
		mbedtls_sha256(got->raw.p, got->raw.len, h, 0);
		assert_memory_equal(h, want_cert, 32);
		assert_int_equal(tls_is_pool(s), want_pool);
		/* a certificate was asked for (and this client has one) only
		 * on the pool's name */
		assert_int_equal(tls_peer_sha256(s, h), want_pool);
		if (want_pool)
			assert_memory_equal(h, pool_pin, 32);   /* p presents pool-master.pem */
	} else {
		assert_int_not_equal(pr, 0);
		assert_false(tls_is_pool(s));
	}
	tls_conn_free(s);
	peer_free(&p);
	close(sv[0]);
}

/* The first bytes a client sends (its ClientHello), read off the pair. */
static size_t hello_of(const char *sni, mbedtls_ssl_protocol_version maxv, unsigned char *b,
		       size_t n)
{
	struct peer p;
	int sv[2];
	ssize_t r;

	pair(sv);
	peer_init(&p, sv[1], MBEDTLS_SSL_IS_CLIENT, maxv, sni);
	assert_int_equal(mbedtls_ssl_handshake(&p.ssl), MBEDTLS_ERR_SSL_WANT_READ);
	r = read(sv[0], b, n);
	assert_true(r > 0);
	peer_free(&p);
	close(sv[0]);
	return (size_t)r;
}

/* conn.c counts pool handshakes apart by a peek at the ClientHello: the
 * pool's name is seen in any case, others are not the pool, a hello cut
 * short asks for more, garbage is not the pool. */
static void test_pool_hello_peek(void **state)
{
	unsigned char b[4096];
	size_t n;

	(void)state;
	n = hello_of("xenbox-pool.invalid", MBEDTLS_SSL_VERSION_TLS1_3, b, sizeof(b));
	assert_int_equal(tls_hello_is_pool(b, n), 1);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(tls_hello_is_pool(b, k), -1);
	n = hello_of("XENBOX-POOL.invalid", MBEDTLS_SSL_VERSION_TLS1_3, b, sizeof(b));
	assert_int_equal(tls_hello_is_pool(b, n), 1);
	n = hello_of("xenbox-pool.invalid.example", MBEDTLS_SSL_VERSION_TLS1_3, b, sizeof(b));
	assert_int_equal(tls_hello_is_pool(b, n), 0);
	n = hello_of("host.example", MBEDTLS_SSL_VERSION_TLS1_2, b, sizeof(b));
	assert_int_equal(tls_hello_is_pool(b, n), 0);
	n = hello_of(NULL, MBEDTLS_SSL_VERSION_TLS1_3, b, sizeof(b));
	assert_int_equal(tls_hello_is_pool(b, n), 0);
	assert_int_equal(tls_hello_is_pool((const unsigned char *)"GET / HTTP/1.1\r\n", 16), 0);
	/* every byte of a pool hello changed, one at a time: an answer, and
	 * no read past the end (ASan) */
	n = hello_of("xenbox-pool.invalid", MBEDTLS_SSL_VERSION_TLS1_3, b, sizeof(b));
	for (size_t k = 0; k < n; k++) {
		unsigned char *h = malloc(n);

		assert_non_null(h);
		memcpy(h, b, n);
		h[k] ^= 0xff;
		assert_true(tls_hello_is_pool(h, n) >= -1);
		free(h);
	}
}

static void test_pool_server_names_and_versions(void **state)
{
	(void)state;
	/* no server name, another name: the HTTPS certificate, no request */
	server_with(MBEDTLS_SSL_VERSION_TLS1_3, NULL, 0, https_pin, 0);
	server_with(MBEDTLS_SSL_VERSION_TLS1_3, "xenbox.example", 0, https_pin, 0);
	server_with(MBEDTLS_SSL_VERSION_TLS1_2, NULL, 0, https_pin, 0);
	server_with(MBEDTLS_SSL_VERSION_TLS1_2, "xenbox.example", 0, https_pin, 0);
	/* the pool's name: its certificate over 1.3 (any case), refused over 1.2 */
	server_with(MBEDTLS_SSL_VERSION_TLS1_3, "xenbox-pool.invalid", 0, pool_pin, 1);
	server_with(MBEDTLS_SSL_VERSION_TLS1_3, "XENBOX-POOL.invalid", 0, pool_pin, 1);
	server_with(MBEDTLS_SSL_VERSION_TLS1_2, "xenbox-pool.invalid", TLS_ERROR, NULL, 0);
}

/* The fingerprint of a state directory without pool-master.pem: an error,
 * and nothing is made (only the daemon makes it). */
static void test_pool_fingerprint_needs_the_file(void **state)
{
	char fp[100], err[256], path[200];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/pool-master.pem", cdir);
	assert_int_equal(certfp_file(path, fp, sizeof(fp), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pool-master.pem"));
	assert_int_equal(stat(path, &st), -1);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certificate_short_write),
	};
#ifdef CONFIG_XB_POOL
	const struct CMUnitTest pool[] = {
		cmocka_unit_test(test_pool_pin_match),
		cmocka_unit_test(test_pool_pin_mismatch),
		cmocka_unit_test(test_pool_client_refuses_tls12_server),
		cmocka_unit_test(test_pool_server_names_and_versions),
		cmocka_unit_test(test_pool_hello_peek),
		cmocka_unit_test(test_pool_fingerprint_needs_the_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL) +
	       cmocka_run_group_tests(pool, pool_setup, pool_teardown);
#else
	return cmocka_run_group_tests(tests, NULL, NULL);
#endif
}
