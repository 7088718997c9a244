/* Build smoke test for the staged mbedTLS: a one-shot TLS server.
 *
 * Makes an ECDSA P-256 key and a self-signed certificate at run time
 * (pk_write, x509write_crt, PEM), listens on 127.0.0.1 (port printed on
 * stdout), serves N connections: handshake, send one line, close_notify.
 * Prints "OK <version> <ciphersuite>" per connection.
 * usage: tls_smoke N
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <psa/crypto.h>

#define DIE(what, rc) do { fprintf(stderr, "%s: -0x%04x\n", what, (unsigned)-(rc)); exit(1); } while (0)

static int sock_send(void *ctx, const unsigned char *b, size_t n)
{
	ssize_t r = send(*(int *)ctx, b, n, MSG_NOSIGNAL);
	return r < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)r;
}

static int sock_recv(void *ctx, unsigned char *b, size_t n)
{
	ssize_t r = recv(*(int *)ctx, b, n, 0);
	return r < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : (int)r;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1, rc, i, lfd, one = 1;
	unsigned char pem[4096];
	mbedtls_pk_context key;
	mbedtls_x509write_cert w;
	mbedtls_x509_crt crt;
	mbedtls_ssl_config conf;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	unsigned char serial[] = { 1 };

	if (psa_crypto_init() != PSA_SUCCESS)
		DIE("psa_crypto_init", 1);

	/* Key and self-signed certificate. */
	mbedtls_pk_init(&key);
	if ((rc = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) ||
	    (rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
				      mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE)))
		DIE("key", rc);
	if ((rc = mbedtls_pk_write_key_pem(&key, pem, sizeof(pem))))
		DIE("pk_write_key_pem", rc);
	mbedtls_x509write_crt_init(&w);
	mbedtls_x509write_crt_set_subject_key(&w, &key);
	mbedtls_x509write_crt_set_issuer_key(&w, &key);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	if ((rc = mbedtls_x509write_crt_set_subject_name(&w, "CN=xenbox-smoke")) ||
	    (rc = mbedtls_x509write_crt_set_issuer_name(&w, "CN=xenbox-smoke")) ||
	    (rc = mbedtls_x509write_crt_set_serial_raw(&w, serial, sizeof(serial))) ||
	    (rc = mbedtls_x509write_crt_set_validity(&w, "20250101000000", "20350101000000")) ||
	    (rc = mbedtls_x509write_crt_pem(&w, pem, sizeof(pem),
					    mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE)))
		DIE("x509write_crt", rc);
	mbedtls_x509_crt_init(&crt);
	if ((rc = mbedtls_x509_crt_parse(&crt, pem, strlen((char *)pem) + 1)))
		DIE("x509_crt_parse", rc);

	mbedtls_ssl_config_init(&conf);
	if ((rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
					      MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT)))
		DIE("config_defaults", rc);
	mbedtls_ssl_conf_rng(&conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
	if ((rc = mbedtls_ssl_conf_own_cert(&conf, &crt, &key)))
		DIE("own_cert", rc);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (void *)&sa, sizeof(sa)) || listen(lfd, 4) ||
	    getsockname(lfd, (void *)&sa, &sl))
		DIE("socket", 1);
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);

	for (i = 0; i < n; i++) {
		mbedtls_ssl_context ssl;
		int fd = accept(lfd, NULL, NULL);
		static const unsigned char msg[] = "hello from xenbox mbedtls\n";

		if (fd < 0)
			DIE("accept", 1);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		mbedtls_ssl_init(&ssl);
		if ((rc = mbedtls_ssl_setup(&ssl, &conf)))
			DIE("ssl_setup", rc);
		mbedtls_ssl_set_bio(&ssl, &fd, sock_send, sock_recv, NULL);
		if ((rc = mbedtls_ssl_handshake(&ssl)))
			DIE("handshake", rc);
		if ((rc = mbedtls_ssl_write(&ssl, msg, sizeof(msg) - 1)) < 0)
			DIE("write", rc);
		printf("OK %s %s\n", mbedtls_ssl_get_version(&ssl),
		       mbedtls_ssl_get_ciphersuite(&ssl));
		fflush(stdout);
		mbedtls_ssl_close_notify(&ssl);
		mbedtls_ssl_free(&ssl);
		close(fd);
	}
	return 0;
}
