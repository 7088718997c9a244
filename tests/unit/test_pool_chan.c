/* The pool channel's pure parts (pool/master.c, pool/member.c): the
 * reconnect delays' bounds (docs/POOL.md 2.5) and the master's Upgrade
 * checks (2.3) before any credential is looked at.  The joins themselves,
 * with TLS and two daemons: tests/integration/test_pool_chan.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "pool/chan.h"
#include "pool/pool.h"
#include "server/loop.h"
#include "server/tls.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_backoff_bounds(void **state)
{
	(void)state;
	/* after a connection that was up long: 0.5 to 10 s */
	assert_int_equal(pool_backoff_ms(0, 0.0), 500);
	assert_true(pool_backoff_ms(0, 0.999999) <= 10000);
	assert_true(pool_backoff_ms(0, 0.999999) > 9990);
	/* after failed attempt k: min(300, 2^k) s times 0.5 .. 1 */
	for (int k = 1; k < 40; k++) {
		int64_t cap = (k >= 9 ? 300 : 1 << k) * 1000;

		assert_int_equal(pool_backoff_ms(k, 0.0), cap / 2);
		assert_true(pool_backoff_ms(k, 0.999999) < cap);
		assert_true(pool_backoff_ms(k, 0.999999) >= cap - 1);
		assert_true(pool_backoff_ms(k, 0.5) >= pool_backoff_ms(k - 1 ? k - 1 : 1, 0.5) ||
			    k == 1);
	}
	assert_int_equal(pool_backoff_ms(1, 0.0), 1000);
	assert_int_equal(pool_backoff_ms(2, 0.0), 2000);
	assert_int_equal(pool_backoff_ms(9, 0.0), 150000);
	assert_int_equal(pool_backoff_ms(1000, 0.0), 150000);
}

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define UUID "6f1c0d2e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"

/* The master's answer to a request head (without TLS: the connection
 * has no pool certificate); status in *status, the body in resp. */
static int upgrade(const char *head, struct buf *resp, int *status)
{
	struct arena a;
	struct http_req req;
	size_t hl;
	int st = 0, r;

	arena_init(&a, 1 << 16);
	assert_int_equal(http_parse_request(&a, head, strlen(head), NULL, &req, &hl, &st),
			 HTTP_PARSE_DONE);
	buf_reset(resp);
	r = pool_upgrade(NULL, &req, -1, "127.0.0.1", resp);
	buf_addc(resp, 0);
	*status = atoi(resp->data + 9);
	arena_free(&a);
	return r;
}

static void test_upgrade_checks(void **state)
{
	struct buf b = BUF_INIT;
	int st;
	static const struct {
		const char *head;
		int status;
		const char *body;
	} cases[] = {
		/* well-formed, but not over the pool's TLS 1.3 */
		{ "GET /pool/ws HTTP/1.1\r\nHost: m\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n"
		  "Xenbox-Host: " UUID "\r\n\r\n",
		  403, "{\"ErrorDescription\":[\"POOL_CHANNEL_REQUIRES_TLS13\"]}" },
		/* no Xenbox-Host */
		{ "GET /pool/ws HTTP/1.1\r\nHost: m\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n\r\n",
		  400, "[\"JOINING_HOST_SERVICE_FAILED\"" },
		/* a bad host uuid */
		{ "GET /pool/ws HTTP/1.1\r\nHost: m\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n"
		  "Xenbox-Host: ../etc\r\n\r\n",
		  400, "[\"JOINING_HOST_SERVICE_FAILED\"" },
		/* no Upgrade */
		{ "GET /pool/ws HTTP/1.1\r\nHost: m\r\nConnection: Upgrade\r\n"
		  "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n"
		  "Sec-WebSocket-Protocol: xenbox-pool.1\r\nXenbox-Host: " UUID "\r\n\r\n",
		  400, "[\"JOINING_HOST_SERVICE_FAILED\",\"no Upgrade: websocket\"]" },
		/* an extension asked for */
		{ "GET /pool/ws HTTP/1.1\r\nHost: m\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n"
		  "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		  "Xenbox-Host: " UUID "\r\n\r\n",
		  400, "[\"JOINING_HOST_SERVICE_FAILED\"" },
		/* another subprotocol */
		{ "GET /pool/ws HTTP/1.1\r\nHost: m\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xenbox-pool.2\r\n"
		  "Xenbox-Host: " UUID "\r\n\r\n",
		  426, "[\"POOL_PROTOCOL_MISMATCH\",\"xenbox-pool.2\",\"xenbox-pool.1\"]" },
		/* another WebSocket version */
		{ "GET /pool/ws HTTP/1.1\r\nHost: m\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		  "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n"
		  "Xenbox-Host: " UUID "\r\n\r\n",
		  426, "[\"POOL_PROTOCOL_MISMATCH\"" },
		/* HTTP/1.0 */
		{ "GET /pool/ws HTTP/1.0\r\nHost: m\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xenbox-pool.1\r\n"
		  "Xenbox-Host: " UUID "\r\n\r\n",
		  400, "[\"JOINING_HOST_SERVICE_FAILED\"" },
	};

	(void)state;
	log_level = LOG_ERR;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(upgrade(cases[i].head, &b, &st), 0);
		assert_int_equal(st, cases[i].status);
		/* a refusal closes, says JSON, and names its error */
		assert_non_null(strstr(b.data, "\r\nConnection: close\r\n"));
		assert_non_null(strstr(b.data, "Content-Type: application/json"));
		if (!strstr(b.data, cases[i].body))
			fail_msg("case %zu: %s", i, b.data);
	}
	buf_free(&b);
}

/* A fingerprint fits the 96 bytes tls.h promises: all 32 pairs (the
 * last one was cut, so a member logged 31 of what a master presented). */
static void test_fingerprint_whole(void **state)
{
	unsigned char h[32];
	char fp[96];

	(void)state;
	for (int i = 0; i < 32; i++)
		h[i] = (unsigned char)(0xa0 + i);
	tls_fingerprint(h, fp, sizeof(fp));
	assert_int_equal(strlen(fp), 95);
	assert_string_equal(fp + 90, "BE:BF");
	tls_fingerprint(h, fp, 10);     /* short: whole pairs only, terminated */
	assert_string_equal(fp, "A0:A1:A2");
}

/* A channel whose peer went away while a message was being handled: the
 * handler's replies fail to write.  chan_send never frees the channel
 * under its caller (the handler and the frame decoder still use it); the
 * loop frees it once, after, with closed() called once. */
static int msgs, closes, iterations;
static struct chan *live;

static int reply_twice(struct chan *ch, char *s, size_t n)
{
	struct buf b = BUF_INIT;

	(void)s;
	(void)n;
	buf_adds(&b, "{\"jsonrpc\":\"2.0\",\"result\":\"\",\"id\":\"s1\"}");
	chan_send(ch, &b);
	chan_send(ch, &b);
	assert_ptr_equal(ch, live);     /* still ours: ASan knows if not */
	ch->last_rx = 0;
	buf_free(&b);
	msgs++;
	return 0;
}

static void closed(struct chan *ch, const char *why)
{
	(void)why;
	assert_ptr_equal(ch, live);
	closes++;
}

static void raw(struct chan *ch)
{
	(void)ch;
}

static volatile int stop;

static int64_t three(void)
{
	if (++iterations >= 3)
		stop = 1;
	return 50;
}

static void test_reply_to_a_gone_peer(void **state)
{
	static const struct chan_ops ops = { raw, reply_twice, closed };
	struct buf f = BUF_INIT;
	static const char msg[] = "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"id\":\"s1\"}";
	unsigned char mask[4] = { 1, 2, 3, 4 };
	int sv[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(loop_init(), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	live = chan_new(sv[0], NULL, 1, &ops, NULL, "peer");
	assert_non_null(live);
	chan_ws_start(live);
	/* a client's (masked) message, then the client is gone */
	ws_frame_add(&f, WS_TEXT, 1, msg, sizeof(msg) - 1, mask);
	assert_int_equal(write(sv[1], f.data, f.len), (ssize_t)f.len);
	close(sv[1]);
	buf_free(&f);
	loop_run(three, &stop);
	assert_int_equal(msgs, 1);
	assert_int_equal(closes, 1);
	loop_dispose();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_to_a_gone_peer),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_upgrade_checks),
		cmocka_unit_test(test_fingerprint_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
