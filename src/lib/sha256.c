#include "lib/sha256.h"

#include <string.h>

#include "lib/util.h"

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
	e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) +
			      ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) +
			      ((a & b) ^ (a & c) ^ (b & c));

		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
	s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

void sha256_init(struct sha256 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->n = 0;
}

void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	s->len += n;
	while (n) {
		size_t k = 64 - s->n < n ? 64 - s->n : n;

		memcpy(s->buf + s->n, p, k);
		s->n += k;
		p += k;
		n -= k;
		if (s->n == 64) {
			block(s, s->buf);
			s->n = 0;
		}
	}
}

void sha256_final(struct sha256 *s, unsigned char out[32])
{
	uint64_t bits = s->len * 8;
	unsigned char pad = 0x80, zero = 0, len[8];

	sha256_update(s, &pad, 1);
	while (s->n != 56)
		sha256_update(s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, len, 8);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
	secure_zero(s, sizeof(*s));
}

void sha256(const void *p, size_t n, unsigned char out[32])
{
	struct sha256 s;

	sha256_init(&s);
	sha256_update(&s, p, n);
	sha256_final(&s, out);
}

struct hmac {
	struct sha256 inner, outer;
};

static void hmac_init(struct hmac *h, const void *key, size_t klen)
{
	unsigned char k[64] = { 0 }, pad[64];

	if (klen > 64)
		sha256(key, klen, k);
	else
		memcpy(k, key, klen);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&h->inner);
	sha256_update(&h->inner, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&h->outer);
	sha256_update(&h->outer, pad, 64);
	secure_zero(k, sizeof(k));
	secure_zero(pad, sizeof(pad));
}

static void hmac_final(struct hmac *h, unsigned char out[32])
{
	unsigned char ih[32];

	sha256_final(&h->inner, ih);
	sha256_update(&h->outer, ih, 32);
	sha256_final(&h->outer, out);
	secure_zero(ih, sizeof(ih));
}

void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
		 unsigned char out[32])
{
	struct hmac h;

	hmac_init(&h, key, klen);
	sha256_update(&h.inner, msg, mlen);
	hmac_final(&h, out);
}

/* O(iter * outlen / 32) SHA-256 blocks; the keyed pads are hashed once and
 * the two states copied per iteration. */
void pbkdf2_sha256(const void *pwd, size_t plen, const void *salt, size_t slen,
		   uint32_t iter, unsigned char *out, size_t outlen)
{
	struct hmac base, h;
	unsigned char u[32], t[32], ctr[4];

	hmac_init(&base, pwd, plen);
	for (uint32_t blk = 1; outlen; blk++) {
		size_t k = outlen < 32 ? outlen : 32;

		ctr[0] = (unsigned char)(blk >> 24);
		ctr[1] = (unsigned char)(blk >> 16);
		ctr[2] = (unsigned char)(blk >> 8);
		ctr[3] = (unsigned char)blk;
		h = base;
		sha256_update(&h.inner, salt, slen);
		sha256_update(&h.inner, ctr, 4);
		hmac_final(&h, u);
		memcpy(t, u, 32);
		for (uint32_t i = 1; i < iter; i++) {
			h = base;
			sha256_update(&h.inner, u, 32);
			hmac_final(&h, u);
			for (int j = 0; j < 32; j++)
				t[j] ^= u[j];
		}
		memcpy(out, t, k);
		out += k;
		outlen -= k;
	}
	secure_zero(&base, sizeof(base));
	secure_zero(&h, sizeof(h));
	secure_zero(u, sizeof(u));
	secure_zero(t, sizeof(t));
}
