/* libFuzzer target: HTTP heads.
 *
 * The input as a request head (default and tiny limits) and as a
 * response head.  A parsed request is written back from its fields, read
 * again and compared; every proper prefix of it must ask for more data
 * and allocate nothing; the query string and the percent-decoder are
 * exercised on what came in.  Basic credentials, from the Authorization
 * header and from the raw input, are checked (no control characters, no
 * ':' in the user) and encoded again, which must decode the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const char *x, const char *y)
{
	return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

static void header(struct buf *b, const char *name, const char *v)
{
	if (v)
		buf_addf(b, "%s: %s\r\n", name, v);
}

/* Write r back as a head and check it reads the same.  (The copy may
 * be a little longer than the original: it gets roomier limits.) */
static void rewrite(struct arena *a, const struct http_req *r)
{
	static const struct http_limits roomy = { 1 << 20, 1 << 20, 100, 1 << 20 };
	struct buf b = BUF_INIT;
	struct http_req r2;
	size_t hl;
	int st;

	buf_addf(&b, "%s %s HTTP/1.%d\r\n", r->method_str, r->target, r->minor);
	header(&b, "Host", r->host);
	header(&b, "Content-Type", r->content_type);
	header(&b, "Accept", r->accept);
	header(&b, "Cookie", r->cookie);
	header(&b, "Authorization", r->authorization);
	header(&b, "Origin", r->origin);
	header(&b, "User-Agent", r->user_agent);
	header(&b, "Access-Control-Request-Headers", r->ac_request_headers);
	if (r->content_length >= 0)
		buf_addf(&b, "Content-Length: %lld\r\n", (long long)r->content_length);
	if (r->expect_continue)
		buf_adds(&b, "Expect: 100-continue\r\n");
	buf_adds(&b, r->keep_alive ? "Connection: keep-alive\r\n"
				   : "Connection: close\r\n");
	buf_adds(&b, "\r\n");
	st = 0;
	CHECK(http_parse_request(a, b.data, b.len, &roomy, &r2, &hl, &st) ==
	      HTTP_PARSE_DONE);
	CHECK(hl == b.len);
	CHECK(r2.method == r->method && same(r2.method_str, r->method_str));
	CHECK(same(r2.target, r->target) && same(r2.path, r->path));
	CHECK(same(r2.query, r->query) && r2.minor == r->minor);
	CHECK(r2.content_length == r->content_length);
	CHECK(r2.keep_alive == r->keep_alive);
	CHECK(r2.expect_continue == r->expect_continue);
	CHECK(same(r2.host, r->host) && same(r2.content_type, r->content_type));
	CHECK(same(r2.accept, r->accept) && same(r2.cookie, r->cookie));
	CHECK(same(r2.authorization, r->authorization));
	CHECK(same(r2.origin, r->origin) && same(r2.user_agent, r->user_agent));
	CHECK(same(r2.ac_request_headers, r->ac_request_headers));
	buf_free(&b);
}

static void prefixes(struct arena *a, const char *s, size_t head_len)
{
	struct http_req r;
	size_t i, hl, step = head_len > 512 ? head_len / 256 : 1;
	int st;

	for (i = 0; i < head_len; i += step) {
		size_t used = a->used;

		st = 0;
		CHECK(http_parse_request(a, s, i, NULL, &r, &hl, &st) == HTTP_NEED_MORE);
		CHECK(a->used == used);
	}
	CHECK(http_parse_request(a, s, head_len - 1, NULL, &r, &hl, &st) == HTTP_NEED_MORE);
}

static void query(struct arena *a, const struct http_req *r)
{
	static const char *keys[] = { "session_id", "task_id", "json", "ref", "" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = http_query_get(a, r->query, keys[i]);

		if (v)
			CHECK(strlen(v) <= strlen(r->query));
	}
	http_pct_decode(a, r->query, strlen(r->query), 1);
}

static void b64(struct buf *b, const char *s, size_t n)
{
	static const char sym[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(unsigned char)s[i] << 16;

		v |= i + 1 < n ? (uint32_t)(unsigned char)s[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)s[i + 2] : 0;
		buf_addc(b, sym[v >> 18 & 63]);
		buf_addc(b, sym[v >> 12 & 63]);
		buf_addc(b, i + 1 < n ? sym[v >> 6 & 63] : '=');
		buf_addc(b, i + 2 < n ? sym[v & 63] : '=');
	}
}

static void credentials(const char *value)
{
	const char *u = NULL, *p = NULL, *u2, *p2;
	struct buf b = BUF_INIT, up = BUF_INIT;
	struct arena ca, *a = &ca;
	int rc;

	arena_init(&ca, 0);
	rc = http_basic_auth(a, value, &u, &p);
	CHECK(rc >= -1 && rc <= 1);
	if (rc) {
		CHECK(!u && !p);
		arena_free(&ca);
		return;
	}
	CHECK(u && p && !strchr(u, ':'));
	for (const char *q = u; *q; q++)
		CHECK((unsigned char)*q >= 0x20 && *q != 0x7f);
	for (const char *q = p; *q; q++)
		CHECK((unsigned char)*q >= 0x20 && *q != 0x7f);
	buf_addf(&up, "%s:%s", u, p);
	buf_adds(&b, "Basic ");
	b64(&b, up.data, up.len);
	buf_addc(&b, 0);
	CHECK(http_basic_auth(a, b.data, &u2, &p2) == 0);
	CHECK(!strcmp(u, u2) && !strcmp(p, p2));
	buf_free(&b);
	buf_free(&up);
	arena_free(&ca);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct http_limits tiny = { 200, 40, 4, 30 };
	const char *s = (const char *)data;
	struct http_resp resp;
	struct http_req r;
	struct arena a;
	size_t hl = 0;
	int rc, st = 0;

	arena_init(&a, 64u << 10);
	rc = http_parse_request(&a, s, size, NULL, &r, &hl, &st);
	if (rc == HTTP_PARSE_DONE) {
		CHECK(hl > 0 && hl <= size && st == 0);
		CHECK(r.method_str && r.target && r.path && r.query);
		CHECK(r.minor >= 0 && r.minor <= 9);
		CHECK(r.content_length >= -1);
		rewrite(&a, &r);
		prefixes(&a, s, hl);
		query(&a, &r);
		credentials(r.authorization);
	} else if (rc == HTTP_PARSE_ERROR) {
		CHECK(st == 400 || st == 411 || st == 413 || st == 414 ||
		      st == 431 || st == 501 || st == 505);
	} else {
		CHECK(rc == HTTP_NEED_MORE && size <= 8192);
	}
	rc = http_parse_request(&a, s, size, &tiny, &r, &hl, &st);
	if (rc == HTTP_PARSE_DONE)
		CHECK(hl <= 200);
	if (http_parse_response(&a, s, size, &resp, &hl) == HTTP_PARSE_DONE) {
		CHECK(hl <= size && resp.status >= 100 && resp.status <= 999);
		CHECK(resp.content_length >= -1);
	}
	http_pct_decode(&a, s, size, size & 1);
	if (size && memchr(s, 0, size) == NULL) {
		char *z = malloc(size + 7);

		memcpy(z, "Basic ", 6);
		memcpy(z + 6, s, size);
		z[size + 6] = 0;
		http_query_get(&a, z + 6, "a");
		credentials(z + 6);
		credentials(z);
		free(z);
	}
	arena_free(&a);
	return 0;
}
