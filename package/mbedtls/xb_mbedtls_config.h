/*
 * xenbox's mbedTLS 3.6 configuration: the whole of it (this file replaces
 * mbedtls/mbedtls_config.h in the staged headers, so users of the library
 * need no -D of their own).
 *
 * What xenbox needs:
 *  - an HTTPS server and a pool client, TLS 1.3 and TLS 1.2;
 *  - ECDHE with X25519 or P-256, ECDSA P-256 certificates (our own is
 *    self-signed, generated at first start: x509write_crt, pk_write, PEM);
 *  - AES-128-GCM and ChaCha20-Poly1305, SHA-256;
 *  - PBKDF2-HMAC-SHA256 for password hashes;
 *  - with XB_MBEDTLS_RSA (Kconfig XB_PACKAGE_MBEDTLS_RSA, written above this
 *    comment by package/mbedtls/mbedtls.mk): peers with RSA certificates.
 *  - with XB_MBEDTLS_SNI (Kconfig XB_POOL, written alike): server name
 *    indication both ways; the pool channel is chosen by its server name
 *    (docs/POOL.md 2.2).
 *
 * Randomness: PSA with an external RNG, implemented with getrandom() in
 * package/mbedtls/xb_mbedtls_rng.c (built into libmbedcrypto.a).  No
 * ENTROPY_C/CTR_DRBG_C: for the legacy APIs that take f_rng/p_rng (ssl_conf_rng,
 * pk_sign, x509write_crt_pem, ...) pass mbedtls_psa_get_random and
 * MBEDTLS_PSA_RANDOM_STATE from <mbedtls/psa_util.h>.
 *
 * Callers must call psa_crypto_init() once before the first handshake or
 * key operation: every TLS 1.3 handshake fails without it.
 */
#ifndef XB_MBEDTLS_CONFIG_H
#define XB_MBEDTLS_CONFIG_H

/* ---- Platform ---------------------------------------------------------- */
#define MBEDTLS_HAVE_ASM                /* x86-64 bignum multiply */
#define MBEDTLS_HAVE_TIME               /* certificate validity, ticket age */
#define MBEDTLS_HAVE_TIME_DATE
#define MBEDTLS_NO_PLATFORM_ENTROPY     /* no /dev/random: see the RNG note */
#define MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG
#define MBEDTLS_THREADING_C             /* more than one thread may use TLS */
#define MBEDTLS_THREADING_PTHREAD
#define MBEDTLS_DEPRECATED_REMOVED

/* ---- Symmetric crypto ---------------------------------------------------- */
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C                 /* runtime-detected AES-NI/PCLMUL */
#define MBEDTLS_AES_FEWER_TABLES        /* 2 KiB of tables instead of 8 KiB */
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C
#define MBEDTLS_CIPHER_C

/* ---- Hashes and derivation ----------------------------------------------- */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA224_C                /* comes with the SHA-256 code */
#define MBEDTLS_SHA256_C
#define MBEDTLS_HKDF_C                  /* TLS 1.3 key schedule (via PSA) */
#define MBEDTLS_PKCS5_C                 /* PBKDF2-HMAC-SHA256 */

/* ---- Public key -------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED /* clients' first key share: no
                                             HelloRetryRequest round trip */
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C

#if defined(XB_MBEDTLS_RSA)
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15
#define MBEDTLS_PKCS1_V21               /* RSA-PSS: TLS 1.3 CertificateVerify */
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#endif

/* ---- PSA (TLS 1.3 needs it; legacy config drives its PSA_WANT_*) -------- */
#define MBEDTLS_PSA_CRYPTO_C

/* ---- X.509 ------------------------------------------------------------- */
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C
#define MBEDTLS_X509_REMOVE_INFO        /* no *_info() text and no OID
                                           descriptions: we print none */

/* ---- TLS ----------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_SSL_PROTO_TLS1_3
#define MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
#define MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* required by TLS 1.3 */
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
#if defined(XB_MBEDTLS_SNI)
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#endif

/* Records: receive full 16 KiB records, send at most 4031 B ones: with
 * the header (13), IV (16) and tag (16) the output buffer is 4,076 B, the
 * most musl's allocator fits in a 4,080 B slot (4,096 gave 4,141 B and
 * 4,032 gave 4,077 B: 4.59 instead of 4.00 KiB each, measured).  A pool
 * master holds one per member channel (docs/POOL.md 11.3).  mbedTLS 3.6
 * cannot shrink the input buffer after the handshake: its
 * VARIABLE_BUFFER_LENGTH follows max_fragment_length, which TLS 1.3 does
 * not negotiate, and record_size_limit only limits what it sends. */
#define MBEDTLS_SSL_IN_CONTENT_LEN      16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN     4031

/* Only the suites we mean to offer, in order of preference. */
#if defined(XB_MBEDTLS_RSA)
#define XB_MBEDTLS_RSA_SUITES \
	, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 \
	, MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
#else
#define XB_MBEDTLS_RSA_SUITES
#endif
#define MBEDTLS_SSL_CIPHERSUITES \
	MBEDTLS_TLS1_3_AES_128_GCM_SHA256, \
	MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256, \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 \
	XB_MBEDTLS_RSA_SUITES

#endif /* XB_MBEDTLS_CONFIG_H */
