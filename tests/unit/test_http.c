/* http/http.c: request/response head parsing, limits and status codes,
 * pipelining, head writing, query strings and percent-decoding, Basic
 * credentials and the base64 they are in (lib/base64.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "lib/base64.h"

static struct arena A;
static struct buf B;
static struct http_req R;
static size_t HL;
static int ST;

static int setup(void **state)
{
	arena_init(&A, 0);
	buf_init(&B);
	return 0;
}

static int teardown(void **state)
{
	arena_free(&A);
	buf_free(&B);
	return 0;
}

static int req_lim(const char *s, const struct http_limits *lim)
{
	HL = 0;
	ST = 0;
	return http_parse_request(&A, s, strlen(s), lim, &R, &HL, &ST);
}

static void ok(const char *s)
{
	int rc = req_lim(s, &http_default_limits);

	if (rc != HTTP_PARSE_DONE)
		fail_msg("'%s': rc %d status %d", s, rc, ST);
}

static void status_lim(const char *s, const struct http_limits *lim, int want)
{
	int rc = req_lim(s, lim);

	if (rc != HTTP_PARSE_ERROR || ST != want)
		fail_msg("'%s': rc %d status %d, want error %d", s, rc, ST, want);
}

static void status(const char *s, int want)
{
	status_lim(s, &http_default_limits, want);
}

static const char post[] =
	"POST /RPC2 HTTP/1.1\r\n"
	"Host: xenbox.local:80\r\n"
	"User-Agent: xmlrpclib.py/1.0.1 (by www.pythonware.com)\r\n"
	"Accept-Encoding: gzip\r\n"
	"Content-Type: text/xml\r\n"
	"Content-Length: 11\r\n"
	"\r\n"
	"<methodCall";

static void test_simple_post(void **state)
{
	ok(post);
	assert_int_equal(HL, strlen(post) - 11);
	assert_int_equal(R.method, HTTP_POST);
	assert_string_equal(R.method_str, "POST");
	assert_string_equal(R.target, "/RPC2");
	assert_string_equal(R.path, "/RPC2");
	assert_string_equal(R.query, "");
	assert_int_equal(R.minor, 1);
	assert_true(R.content_length == 11);
	assert_int_equal(R.keep_alive, 1);
	assert_int_equal(R.expect_continue, 0);
	assert_string_equal(R.host, "xenbox.local:80");
	assert_string_equal(R.user_agent, "xmlrpclib.py/1.0.1 (by www.pythonware.com)");
	assert_string_equal(R.content_type, "text/xml");
	assert_null(R.accept);
	assert_null(R.cookie);
	assert_null(R.authorization);
	assert_null(R.origin);
	assert_null(R.ac_request_headers);
}

static void test_headers(void **state)
{
	ok("OPTIONS /jsonrpc HTTP/1.1\n"
	   "hOsT:h\n"
	   "ACCEPT: \t application/json \t\n"
	   "cookie: a=b; c=d\n"
	   "Cookie: second=ignored\n"
	   "authorization: Basic cm9vdDpwdw==\n"
	   "Origin: https://xo.example\n"
	   "Access-Control-Request-Headers: content-type\n"
	   "X-Unknown: whatever \x80\xff obs-text\n"
	   "Empty:\n"
	   "content-type:application/json\n"
	   "\n");
	assert_int_equal(R.method, HTTP_OPTIONS);
	assert_string_equal(R.host, "h");
	assert_string_equal(R.accept, "application/json");
	assert_string_equal(R.cookie, "a=b; c=d");
	assert_string_equal(R.authorization, "Basic cm9vdDpwdw==");
	assert_string_equal(R.origin, "https://xo.example");
	assert_string_equal(R.ac_request_headers, "content-type");
	assert_string_equal(R.content_type, "application/json");
	assert_true(R.content_length == -1);
}

static void test_methods(void **state)
{
	static const struct { const char *m; enum http_method e; } tab[] = {
		{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST },
		{ "PUT", HTTP_PUT }, { "OPTIONS", HTTP_OPTIONS },
		{ "DELETE", HTTP_DELETE }, { "CONNECT", HTTP_CONNECT },
		{ "PATCH", HTTP_OTHER }, { "get", HTTP_OTHER },
		{ "X-CUSTOM!", HTTP_OTHER },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", HTTP_OTHER },     /* 32 */
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\n\r\n", tab[i].m);
		ok(buf);
		assert_int_equal(R.method, tab[i].e);
		assert_string_equal(R.method_str, tab[i].m);
	}
	status("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA / HTTP/1.1\r\n\r\n", 400);
	status("G(T / HTTP/1.1\r\n\r\n", 400);
	status("GE\x01T / HTTP/1.1\r\n\r\n", 400);
}

static void test_request_line_errors(void **state)
{
	status("GET / HTTP/2.0\r\n\r\n", 505);
	status("GET / HTTP/0.9\r\n\r\n", 505);
	status("GET / HTTP/1\r\n\r\n", 400);
	status("GET / HTTP/1.10\r\n\r\n", 400);
	status("GET / http/1.1\r\n\r\n", 400);
	status("GET / HTTP/1.x\r\n\r\n", 400);
	status("GET / HTTP/x.1\r\n\r\n", 400);
	status("GET / HTTP/1.1 \r\n\r\n", 400);
	status("GET  / HTTP/1.1\r\n\r\n", 400);
	status("GET /  HTTP/1.1\r\n\r\n", 400);
	status(" GET / HTTP/1.1\r\n\r\n", 400);
	status("GET /\r\n\r\n", 400);
	status("GET\r\n\r\n", 400);
	status("GET /a\x01 HTTP/1.1\r\n\r\n", 400);
	status("GET /a\x7f HTTP/1.1\r\n\r\n", 400);
	status("GET /a\rb HTTP/1.1\r\n\r\n", 400);
	status("GET /%zz HTTP/1.1\r\n\r\n", 400);
	status("GET /a%00b HTTP/1.1\r\n\r\n", 400);
	status("GET /%4 HTTP/1.1\r\n\r\n", 400);
}

static void test_targets(void **state)
{
	ok("GET /a%20b/c%2F+d?x=1&y=%41+ HTTP/1.1\r\n\r\n");
	assert_string_equal(R.target, "/a%20b/c%2F+d?x=1&y=%41+");
	assert_string_equal(R.path, "/a b/c/+d");
	assert_string_equal(R.query, "x=1&y=%41+");
	ok("GET /json? HTTP/1.1\r\n\r\n");
	assert_string_equal(R.path, "/json");
	assert_string_equal(R.query, "");
	ok("GET http://host:80/p%41th?q HTTP/1.1\r\n\r\n");
	assert_string_equal(R.path, "/pAth");
	assert_string_equal(R.query, "q");
	ok("GET HTTPS://host HTTP/1.1\r\n\r\n");
	assert_string_equal(R.path, "/");
	assert_string_equal(R.query, "");
	ok("GET https://host?session_id=x HTTP/1.1\r\n\r\n");
	assert_string_equal(R.path, "/");
	assert_string_equal(R.query, "session_id=x");
	ok("OPTIONS * HTTP/1.1\r\n\r\n");
	assert_string_equal(R.path, "*");
	ok("CONNECT /console?ref=OpaqueRef:1&session_id=2 HTTP/1.0\r\n\r\n");
	assert_int_equal(R.method, HTTP_CONNECT);
	assert_string_equal(R.path, "/console");
	assert_string_equal(R.query, "ref=OpaqueRef:1&session_id=2");
	ok("GET /\xc3\xa9 HTTP/1.1\r\n\r\n");    /* raw UTF-8: tolerated */
	assert_string_equal(R.path, "/\xc3\xa9");
}

static void test_keep_alive(void **state)
{
	static const struct { const char *req; int ka; } tab[] = {
		{ "GET / HTTP/1.1\r\n\r\n", 1 },
		{ "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nConnection: te\r\nConnection: close\r\n\r\n", 0 },
		{ "GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", 1 },
		{ "GET / HTTP/1.0\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1 },
		{ "GET / HTTP/1.0\r\nConnection: Upgrade , Keep-Alive\r\n\r\n", 1 },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive,close\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nConnection: keepalive\r\n\r\n", 0 },
		{ "GET / HTTP/1.0\r\nConnection: ,,\r\n\r\n", 0 },
		{ "GET / HTTP/1.9\r\n\r\n", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		ok(tab[i].req);
		if (R.keep_alive != tab[i].ka)
			fail_msg("'%s': keep_alive %d", tab[i].req, R.keep_alive);
	}
}

static void test_content_length(void **state)
{
	ok("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	assert_true(R.content_length == 0);
	ok("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n");
	assert_true(R.content_length == 5);
	ok("POST / HTTP/1.1\r\nContent-Length: 5, 5,5\r\n\r\n");
	assert_true(R.content_length == 5);
	ok("PUT / HTTP/1.1\r\nContent-Length: 1125899906842624\r\n\r\n");   /* XO's 1 PiB */
	assert_true(R.content_length == 1125899906842624);
	ok("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n");
	assert_true(R.content_length == INT64_MAX);
	ok("POST / HTTP/1.1\r\nContent-Length: 007\r\n\r\n");
	assert_true(R.content_length == 7);
	status("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: ,5\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400);
	status("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", 413);
	status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413);
}

static void test_transfer_encoding(void **state)
{
	status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	status("POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n", 411);
	status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411);
	status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked ; ext=1\r\n\r\n", 411);
	status("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
	status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 501);
	status("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 501);
	status("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 501);
	status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
}

static void test_expect(void **state)
{
	ok("POST / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n");
	assert_int_equal(R.expect_continue, 1);
	ok("POST / HTTP/1.1\r\nExpect: 100-Continue\r\n\r\n");
	assert_int_equal(R.expect_continue, 1);
	ok("POST / HTTP/1.1\r\nExpect: something-else\r\n\r\n");
	assert_int_equal(R.expect_continue, 0);
	ok("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");  /* 1.0: ignored */
	assert_int_equal(R.expect_continue, 0);
}

static void test_field_errors(void **state)
{
	status("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400);         /* folding */
	status("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n", 400);
	status("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
	status("GET / HTTP/1.1\r\nHost\r\n\r\n", 400);
	status("GET / HTTP/1.1\r\n: v\r\n\r\n", 400);
	status("GET / HTTP/1.1\r\nX(A): v\r\n\r\n", 400);
	status("GET / HTTP/1.1\r\nX-A: a\x01" "b\r\n\r\n", 400);
	status("GET / HTTP/1.1\r\nX-A: a\x7f\r\n\r\n", 400);
	status("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400);        /* bare CR */
	status("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
	/* a NUL inside a value */
	{
		static const char nul[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
		int rc = http_parse_request(&A, nul, sizeof(nul) - 1, NULL, &R, &HL, &ST);

		assert_int_equal(rc, HTTP_PARSE_ERROR);
		assert_int_equal(ST, 400);
	}
}

static const struct http_limits tiny = {
	.max_head = 100, .max_line = 30, .max_headers = 3, .max_uri = 20,
};

/* for the head limit alone */
static const struct http_limits wide = {
	.max_head = 100, .max_line = 60, .max_headers = 3, .max_uri = 20,
};

static void test_limits(void **state)
{
	char buf[8192 + 64];

	/* the target */
	assert_int_equal(req_lim("GET /1234567890123456789 HTTP/1.1\r\n\r\n", &tiny),
			 HTTP_PARSE_DONE);                      /* exactly 20 */
	status_lim("GET /12345678901234567890 HTTP/1.1\r\n\r\n", &tiny, 414);
	status_lim("GET /12345678901234567890", &tiny, 414);    /* partial */
	assert_int_equal(req_lim("GET /1234567890123456789", &tiny), HTTP_NEED_MORE);
	status_lim("GET / HTTP/1.1xxx", &tiny, 400);   /* version too long */
	status_lim("GETGETGETGETGETGETGETGETGETGETGET", &tiny, 400);      /* method */
	assert_int_equal(req_lim("GETGETGETGETGETGETGETGETGETGETGE", &tiny), HTTP_NEED_MORE);
	/* a line */
	assert_int_equal(req_lim("GET / HTTP/1.1\r\nX: 456789012345678901234567890\r\n\r\n", &tiny),
			 HTTP_PARSE_DONE);                      /* exactly 30 */
	status_lim("GET / HTTP/1.1\r\nX: 4567890123456789012345678901\r\n\r\n", &tiny, 431);
	status_lim("GET / HTTP/1.1\r\nX: 4567890123456789012345678901", &tiny, 431);
	assert_int_equal(req_lim("GET / HTTP/1.1\r\nX: 456789012345678901234567890", &tiny),
			 HTTP_NEED_MORE);
	assert_int_equal(req_lim("GET / HTTP/1.1\r\nX: 456789012345678901234567890\r", &tiny),
			 HTTP_NEED_MORE);                       /* CR, LF to come */
	status_lim("GET / HTTP/1.1\r\nX: 4567890123456789012345678901\r", &tiny, 431);
	/* the count */
	assert_int_equal(req_lim("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &tiny),
			 HTTP_PARSE_DONE);
	status_lim("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", &tiny, 431);
	/* the whole head: 100 bytes pass, 101 do not, complete or not */
	assert_int_equal(req_lim("GET / HTTP/1.1\r\nA: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
				 "B: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n", &wide), HTTP_PARSE_DONE);
	assert_int_equal(HL, 100);
	status_lim("GET / HTTP/1.1\r\nA: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
		   "B: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n", &wide, 431);
	status_lim("GET / HTTP/1.1\r\nA: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
		   "B: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", &wide, 431);
	/* a body after the head does not count against it */
	assert_int_equal(req_lim("GET / HTTP/1.1\r\nContent-Length: 200\r\n\r\n"
				 "0123456789012345678901234567890123456789012345678901234567890123456789"
				 "0123456789012345678901234567890123456789012345678901234567890123456789",
				 &tiny), HTTP_PARSE_DONE);
	/* the defaults: 8 KiB, 1 KiB lines, 64 headers, 2 KiB targets */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	memcpy(buf + 4 + 2048, " HTTP/1.1\r\n\r\n", 14);
	ok(buf);
	assert_int_equal(strlen(R.target), 2048);
	buf[4 + 2048] = 'a';
	memcpy(buf + 4 + 2049, " HTTP/1.1\r\n\r\n", 14);
	status(buf, 414);
	assert_int_equal(http_parse_request(&A, buf, 4 + 2048, NULL, &R, &HL, &ST), HTTP_NEED_MORE);
	assert_int_equal(http_parse_request(&A, buf, 4 + 2049, NULL, &R, &HL, &ST), HTTP_PARSE_ERROR);
	assert_int_equal(ST, 414);
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
	memcpy(buf + 16 + 1024, "\r\n\r\n", 5);
	ok(buf);
	memcpy(buf + 16 + 1025, "\r\n\r\n", 5);
	status(buf, 431);
	{
		struct buf h = BUF_INIT;
		int i;

		buf_adds(&h, "GET / HTTP/1.1\r\n");
		for (i = 0; i < 64; i++)
			buf_addf(&h, "X%d: v\r\n", i);
		buf_adds(&h, "\r\n");
		ok(h.data);
		h.len -= 2;
		buf_adds(&h, "Y: v\r\n\r\n");
		status(h.data, 431);
		buf_reset(&h);
		buf_adds(&h, "GET / HTTP/1.1\r\n");
		for (i = 0; i < 25; i++)
			buf_addf(&h, "X%d: %0400d\r\n", i, 0);
		status(h.data, 431);                    /* > 8 KiB, partial */
		buf_adds(&h, "\r\n");
		status(h.data, 431);                    /* > 8 KiB, complete */
		buf_free(&h);
	}
	/* arena exhaustion while keeping strings: 431 */
	{
		struct arena small;

		arena_init(&small, 16);
		assert_int_equal(http_parse_request(&small, post, strlen(post), NULL, &R, &HL, &ST),
				 HTTP_PARSE_ERROR);
		assert_int_equal(ST, 431);
		arena_free(&small);
		arena_init(&small, 80);
		assert_int_equal(http_parse_request(&small, post, strlen(post), NULL, &R, &HL, &ST),
				 HTTP_PARSE_ERROR);
		assert_int_equal(ST, 431);
		arena_free(&small);
	}
}

/* Every split point of a valid head asks for more; the whole is done. */
static void test_need_more(void **state)
{
	static const char *heads[] = {
		post,
		"GET /x?y HTTP/1.0\nHost: h\nConnection: keep-alive\n\n",
		"\r\n\r\nPOST /json HTTP/1.1\r\nContent-Length: 2\r\n\r\n",
		"\n\r\n\nGET / HTTP/1.1\r\n\r\n",
	};
	size_t h, cut, end;

	for (h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		const char *s = heads[h];

		HL = 0;
		assert_int_equal(http_parse_request(&A, s, strlen(s), NULL, &R, &HL, &ST),
				 HTTP_PARSE_DONE);
		end = HL;
		for (cut = 0; cut < end; cut++) {
			size_t used = A.used;
			int rc = http_parse_request(&A, s, cut, NULL, &R, &HL, &ST);

			if (rc != HTTP_NEED_MORE)
				fail_msg("head %zu cut at %zu: rc %d status %d", h, cut, rc, ST);
			assert_int_equal(A.used, used);         /* nothing allocated */
		}
	}
}

static void test_pipelined(void **state)
{
	static const char two[] =
		"POST /RPC2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
		"\r\n"                                  /* stray CRLF, tolerated */
		"GET /second?a=b HTTP/1.1\nConnection: close\n\n"
		"POST /jsonrpc HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
	size_t off = 0;

	assert_int_equal(http_parse_request(&A, two, sizeof(two) - 1, NULL, &R, &HL, &ST),
			 HTTP_PARSE_DONE);
	assert_string_equal(R.path, "/RPC2");
	assert_true(R.content_length == 5);
	assert_memory_equal(two + HL, "hello", 5);
	off = HL + 5;
	assert_int_equal(http_parse_request(&A, two + off, sizeof(two) - 1 - off, NULL,
					    &R, &HL, &ST), HTTP_PARSE_DONE);
	assert_string_equal(R.path, "/second");
	assert_string_equal(R.query, "a=b");
	assert_int_equal(R.keep_alive, 0);
	assert_true(R.content_length == -1);
	off += HL;
	assert_int_equal(http_parse_request(&A, two + off, sizeof(two) - 1 - off, NULL,
					    &R, &HL, &ST), HTTP_PARSE_DONE);
	assert_string_equal(R.path, "/jsonrpc");
	assert_memory_equal(two + off + HL, "{}", 2);
	assert_int_equal(off + HL + 2, sizeof(two) - 1);
}

/* ---------------------------------------------------------------------
 * Responses */

static int resp(const char *s, struct http_resp *r)
{
	HL = 0;
	return http_parse_response(&A, s, strlen(s), r, &HL);
}

static void test_responses(void **state)
{
	static const char xapi[] =
		"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nCache-Control: no-cache, no-store\r\n"
		"content-length: 123\r\ncontent-type: text/xml\r\n"
		"Access-Control-Allow-Origin: *\r\n\r\n<?xml";
	static const char *bad[] = {
		"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 OK\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
		"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1\r\n\r\n", "ICY 200 OK\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
	};
	struct http_resp r;
	size_t i;

	assert_int_equal(resp(xapi, &r), HTTP_PARSE_DONE);
	assert_int_equal(HL, strlen(xapi) - 5);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.minor, 1);
	assert_true(r.content_length == 123);
	assert_int_equal(r.keep_alive, 1);
	assert_string_equal(r.content_type, "text/xml");
	assert_null(r.location);
	assert_int_equal(resp("HTTP/1.0 302 Found\nLocation: https://h/x\n"
			      "Content-Type: a\nContent-Type: b\n\n", &r), HTTP_PARSE_DONE);
	assert_int_equal(r.status, 302);
	assert_int_equal(r.minor, 0);
	assert_int_equal(r.keep_alive, 0);
	assert_true(r.content_length == -1);
	assert_string_equal(r.location, "https://h/x");
	assert_string_equal(r.content_type, "a");
	assert_int_equal(resp("HTTP/1.1 500\r\nConnection: close\r\n\r\n", &r), HTTP_PARSE_DONE);
	assert_int_equal(r.status, 500);
	assert_int_equal(r.keep_alive, 0);
	assert_int_equal(resp("HTTP/1.0 200 \r\nConnection: Keep-Alive\r\n\r\n", &r),
			 HTTP_PARSE_DONE);
	assert_int_equal(r.keep_alive, 1);
	assert_int_equal(resp("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", &r),
			 HTTP_PARSE_DONE);
	assert_int_equal(r.status, 100);
	assert_int_equal(HL, 25);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (resp(bad[i], &r) != HTTP_PARSE_ERROR)
			fail_msg("accepted '%s'", bad[i]);
	for (i = 0; i < strlen(xapi) - 5; i++)
		assert_int_equal(http_parse_response(&A, xapi, i, &r, &HL), HTTP_NEED_MORE);
	/* limits: the status line and the head */
	{
		char big[9000];

		size_t j;

		memset(big, 'a', sizeof(big));
		memcpy(big, "HTTP/1.1 200 ", 13);
		/* a status line of 1024 bytes is fine, 1025 is not */
		assert_int_equal(http_parse_response(&A, big, 1024, &r, &HL), HTTP_NEED_MORE);
		assert_int_equal(http_parse_response(&A, big, 1025, &r, &HL), HTTP_PARSE_ERROR);
		memcpy(big + 1024, "\r\n\r\n", 4);
		assert_int_equal(http_parse_response(&A, big, 1028, &r, &HL), HTTP_PARSE_DONE);
		assert_int_equal(r.status, 200);
		memcpy(big + 1024, "a\r\n\r\n", 5);
		assert_int_equal(http_parse_response(&A, big, 1029, &r, &HL), HTTP_PARSE_ERROR);
		/* a head beyond 8 KiB, complete or not */
		memcpy(big + 20, "\r\n", 2);
		for (j = 22; j + 10 < sizeof(big); j += 10)
			memcpy(big + j, "X: 12345\r\n", 10);
		assert_int_equal(http_parse_response(&A, big, 8200, &r, &HL), HTTP_PARSE_ERROR);
		memcpy(big + 8202, "\r\n", 2);
		assert_int_equal(http_parse_response(&A, big, 8204, &r, &HL), HTTP_PARSE_ERROR);
	}
	{
		struct arena small;

		arena_init(&small, 16);
		assert_int_equal(http_parse_response(&small, xapi, strlen(xapi), &r, &HL),
				 HTTP_PARSE_ERROR);
		arena_free(&small);
		static const char moved[] = "HTTP/1.1 302 Found\r\n"
					    "Location: /somewhere/far/away\r\n\r\n";

		arena_init(&small, 16);
		assert_int_equal(resp(moved, &r), HTTP_PARSE_DONE);
		assert_int_equal(http_parse_response(&small, moved, strlen(moved), &r, &HL),
				 HTTP_PARSE_ERROR);
		arena_free(&small);
	}
}

/* ---------------------------------------------------------------------
 * Writing */

#define EXPECT(lit) do { \
	if (B.len != sizeof(lit) - 1 || memcmp(B.data, lit, sizeof(lit))) \
		fail_msg("got '%s'", B.data); \
} while (0)

static void test_write_head(void **state)
{
	buf_reset(&B);
	http_write_head(&B, 200, "text/xml", 1234, 1, "Access-Control-Allow-Origin: *\r\n");
	EXPECT("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/xml\r\n"
	       "Connection: keep-alive\r\nAccess-Control-Allow-Origin: *\r\n\r\n");
	buf_reset(&B);
	http_write_head(&B, 500, "text/html", 0, 0, NULL);
	EXPECT("HTTP/1.1 500 Internal Error\r\nContent-Length: 0\r\nContent-Type: text/html\r\n"
	       "Connection: close\r\n\r\n");
	buf_reset(&B);
	http_write_head(&B, 204, NULL, 0, 1, "");
	EXPECT("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
	buf_reset(&B);
	http_write_head(&B, 42, NULL, 18446744073709551615ull, 0, NULL);
	EXPECT("HTTP/1.1 500 Internal Error\r\nContent-Length: 18446744073709551615\r\n"
	       "Connection: close\r\n\r\n");
	buf_reset(&B);
	http_write_head(&B, 1000, NULL, 1, 0, NULL);
	EXPECT("HTTP/1.1 500 Internal Error\r\nContent-Length: 1\r\nConnection: close\r\n\r\n");
	/* what we write, we read */
	buf_reset(&B);
	http_write_head(&B, 404, "application/json", 7, 1, "X-A: b\r\n");
	{
		struct http_resp r;

		assert_int_equal(http_parse_response(&A, B.data, B.len, &r, &HL), HTTP_PARSE_DONE);
		assert_int_equal(HL, B.len);
		assert_int_equal(r.status, 404);
		assert_true(r.content_length == 7);
		assert_string_equal(r.content_type, "application/json");
		assert_int_equal(r.keep_alive, 1);
	}
}

static void test_reasons(void **state)
{
	static const struct { int s; const char *r; } tab[] = {
		{ 100, "Continue" }, { 101, "Switching Protocols" }, { 200, "OK" },
		{ 201, "Created" }, { 204, "No Content" }, { 206, "Partial Content" },
		{ 301, "Moved Permanently" }, { 302, "Found" }, { 304, "Not Modified" },
		{ 400, "Bad Request" }, { 401, "Unauthorised" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 411, "Length Required" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 415, "Unsupported Media Type" }, { 417, "Expectation Failed" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Error" }, { 501, "Method not implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
		{ 299, "Unknown" }, { -1, "Unknown" },
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		assert_string_equal(http_reason(tab[i].s), tab[i].r);
}

/* ---------------------------------------------------------------------
 * URLs */

static void test_query_get(void **state)
{
	const char *q = "session_id=OpaqueRef%3Aabc&task_id=&json&a+b=c+d&x=1&x=2&%6Bey=%2B&bad=%zz&e=a=b";

	assert_string_equal(http_query_get(&A, q, "session_id"), "OpaqueRef:abc");
	assert_string_equal(http_query_get(&A, q, "task_id"), "");
	assert_string_equal(http_query_get(&A, q, "json"), "");
	assert_string_equal(http_query_get(&A, q, "a b"), "c d");
	assert_string_equal(http_query_get(&A, q, "x"), "1");
	assert_string_equal(http_query_get(&A, q, "key"), "+");
	assert_string_equal(http_query_get(&A, q, "e"), "a=b");
	assert_null(http_query_get(&A, q, "bad"));      /* bad escape */
	assert_null(http_query_get(&A, q, "missing"));
	assert_null(http_query_get(&A, q, "sess"));
	assert_null(http_query_get(&A, q, "session_id2"));
	assert_null(http_query_get(&A, q, "a+b"));      /* keys are decoded */
	assert_null(http_query_get(&A, "", "x"));
	assert_null(http_query_get(&A, NULL, "x"));
	assert_null(http_query_get(&A, "x=1", NULL));
	assert_string_equal(http_query_get(&A, "&&x=1&", "x"), "1");
	assert_string_equal(http_query_get(&A, "=v", ""), "v");
	assert_null(http_query_get(&A, "%=v&%00=w", "%"));
	assert_null(http_query_get(&A, "k=%00", "k"));
}

static void test_pct_decode(void **state)
{
	const char *s;

	s = http_pct_decode(&A, "a%20b+c%2b%2B%7e%C3%A9", 22, 1);
	assert_string_equal(s, "a b c++~\xc3\xa9");
	s = http_pct_decode(&A, "a%20b+c", 7, 0);
	assert_string_equal(s, "a b+c");
	s = http_pct_decode(&A, "abc", 2, 0);
	assert_string_equal(s, "ab");
	s = http_pct_decode(&A, "", 0, 0);
	assert_string_equal(s, "");
	assert_null(http_pct_decode(&A, "%", 1, 0));
	assert_null(http_pct_decode(&A, "%4", 2, 0));
	assert_null(http_pct_decode(&A, "%4g", 3, 0));
	assert_null(http_pct_decode(&A, "%g4", 3, 0));
	assert_null(http_pct_decode(&A, "%00", 3, 0));
	assert_null(http_pct_decode(&A, "a\0b", 3, 0));
	assert_null(http_pct_decode(&A, "%41%", 4, 0));
	{
		struct arena small;

		arena_init(&small, 8);
		assert_null(http_pct_decode(&small, "0123456789abcdef0123", 20, 0));
		arena_free(&small);
	}
}

static void test_base64(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(b64_decode("", 0, out), 0);
	assert_int_equal(b64_decode("cm9vdA==", 8, out), 4);
	assert_memory_equal(out, "root", 4);
	assert_int_equal(b64_decode("cm9vdDo=", 8, out), 5);
	assert_memory_equal(out, "root:", 5);
	assert_int_equal(b64_decode("cm9vdDpw", 8, out), 6);
	assert_memory_equal(out, "root:p", 6);
	assert_int_equal(b64_decode(" cm9v\r\ndA== ", 12, out), 4);       /* whitespace */
	assert_int_equal(b64_decode("+/+/", 4, out), 3);
	assert_memory_equal(out, "\xfb\xff\xbf", 3);
	assert_int_equal(b64_decode("AA\0A", 4, out), -1);                /* NUL symbol */
	assert_int_equal(b64_decode("cm9vdA", 6, out), -1);                 /* unpadded */
	assert_int_equal(b64_decode("cm9vdA=", 7, out), -1);
	assert_int_equal(b64_decode("cm9vd===", 8, out), -1);               /* 3 '=' */
	assert_int_equal(b64_decode("cm9v=A==", 8, out), -1);               /* '=' early */
	assert_int_equal(b64_decode("cm9vdA==cm9v", 12, out), -1);          /* data after '=' */
	assert_int_equal(b64_decode("cm9-dA==", 8, out), -1);               /* URL alphabet */
}

static void test_basic_auth(void **state)
{
	const char *u = "x", *p = "x";

	(void)state;
	assert_int_equal(http_basic_auth(&A, "Basic cm9vdDpwdw==", &u, &p), 0);
	assert_string_equal(u, "root");
	assert_string_equal(p, "pw");
	/* the scheme's case is free; spaces or tabs after it */
	assert_int_equal(http_basic_auth(&A, "bASIC \t cm9vdDpwdw==", &u, &p), 0);
	assert_string_equal(p, "pw");
	/* the password may hold ':' (split at the first), user or password may be empty */
	assert_int_equal(http_basic_auth(&A, "Basic cm9vdDphOmI6", &u, &p), 0);       /* root:a:b: */
	assert_string_equal(u, "root");
	assert_string_equal(p, "a:b:");
	assert_int_equal(http_basic_auth(&A, "Basic Og==", &u, &p), 0);               /* ":" */
	assert_string_equal(u, "");
	assert_string_equal(p, "");
	/* UTF-8 is fine */
	assert_int_equal(http_basic_auth(&A, "Basic cm9vdDrDqQ==", &u, &p), 0);
	assert_string_equal(p, "\xc3\xa9");
	/* other schemes, or none: 1, untouched outputs */
	u = p = NULL;
	assert_int_equal(http_basic_auth(&A, NULL, &u, &p), 1);
	assert_int_equal(http_basic_auth(&A, "Bearer abc", &u, &p), 1);
	assert_int_equal(http_basic_auth(&A, "Basicx cm9vdDpwdw==", &u, &p), 1);
	assert_int_equal(http_basic_auth(&A, "Digest username=\"root\"", &u, &p), 1);
	assert_int_equal(http_basic_auth(&A, "", &u, &p), 1);
	assert_null(u);
	assert_null(p);
	/* malformed Basic: -1 */
	assert_int_equal(http_basic_auth(&A, "Basic", &u, &p), -1);
	assert_int_equal(http_basic_auth(&A, "Basic ", &u, &p), -1);
	assert_int_equal(http_basic_auth(&A, "Basic !!!!", &u, &p), -1);
	assert_int_equal(http_basic_auth(&A, "Basic cm9vdDpwdw", &u, &p), -1);        /* unpadded */
	assert_int_equal(http_basic_auth(&A, "Basic cm9vdA==", &u, &p), -1);          /* no ':' */
	assert_int_equal(http_basic_auth(&A, "Basic cm9vdDpwAHg=", &u, &p), -1);      /* root:p\0x */
	assert_int_equal(http_basic_auth(&A, "Basic cm9vdDoBcA==", &u, &p), -1);      /* \x01 */
	assert_int_equal(http_basic_auth(&A, "Basic cm9vdDp/", &u, &p), -1);          /* DEL */
	assert_null(u);
	/* out of arena */
	{
		struct arena small;

		arena_init(&small, 4);
		assert_int_equal(http_basic_auth(&small, "Basic cm9vdDpwdw==", &u, &p), -1);
		arena_free(&small);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_simple_post, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_line_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_encoding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_field_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_need_more, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pct_decode, setup, teardown),
		cmocka_unit_test(test_base64),
		cmocka_unit_test_setup_teardown(test_basic_auth, setup, teardown),
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
