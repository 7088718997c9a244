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
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/certfp.h"
#include "lib/log.h"
#include "pool/chan.h"
#include "pool/pool.h"
#include "server/loop.h"
#include "server/tls.h"

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
	certfp_format(h, fp, sizeof(fp));
	assert_int_equal(strlen(fp), 95);
	assert_string_equal(fp + 90, "BE:BF");
	certfp_format(h, fp, 10);     /* short: whole pairs only, terminated */
	assert_string_equal(fp, "A0:A1:A2");
}

/* A handler that answers a message while the peer is gone: the write
 * fails and the channel is closed inside the handler, which returns as
 * if nothing happened (the master's hello answer does); the channel must
 * outlive the handler, then go (ASan: no use after free, no leak). */
static int closed_calls;

static int answer(struct chan *ch, char *s, size_t n)
{
	struct buf b = BUF_INIT;

	(void)s;
	(void)n;
	buf_adds(&b, "{\"result\":\"\"}");
	chan_send(ch, &b);
	buf_free(&b);
	return 0;
}

static void closed(struct chan *ch, const char *why)
{
	(void)ch;
	(void)why;
	closed_calls++;
}

static void test_closed_inside_a_handler(void **state)
{
	static const struct chan_ops ops = { NULL, answer, closed };
	unsigned char mask[4] = { 1, 2, 3, 4 };
	struct chan *ch;
	int sv[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(loop_init(), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ch = chan_new(sv[0], NULL, 1, &ops, NULL, "test");
	assert_non_null(ch);
	/* two messages from a client that then went away */
	ws_frame_add(&ch->in, WS_TEXT, 1, "{}", 2, mask);
	ws_frame_add(&ch->in, WS_TEXT, 1, "{}", 2, mask);
	close(sv[1]);
	chan_ws_start(ch);
	assert_int_equal(closed_calls, 1);
	/* a ping: its pong fails the same way, before a message */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ch = chan_new(sv[0], NULL, 1, &ops, NULL, "test");
	ws_frame_add(&ch->in, WS_PING, 1, "1", 1, mask);
	ws_frame_add(&ch->in, WS_TEXT, 1, "{}", 2, mask);
	close(sv[1]);
	chan_ws_start(ch);
	assert_int_equal(closed_calls, 2);
	loop_dispose();
}

/* An idle channel keeps no buffer: a member's first sync can be MiBs,
 * and a master holds a thousand channels (docs/POOL.md 11.3).  A half
 * frame stays until its rest comes. */
static int answered;

static int answer_big(struct chan *ch, char *s, size_t n)
{
	struct buf b = BUF_INIT;

	(void)s;
	(void)n;
	answered++;
	buf_adds(&b, "{\"result\":\"");
	for (int i = 0; i < 2000; i++)
		buf_adds(&b, "0123456789");
	buf_adds(&b, "\"}");
	chan_send(ch, &b);
	buf_free(&b);
	return 0;
}

static void test_idle_buffers_freed(void **state)
{
	static const struct chan_ops ops = { NULL, answer_big, closed };
	unsigned char mask[4] = { 1, 2, 3, 4 }, rx[65536];
	struct buf half = BUF_INIT;
	struct chan *ch;
	int sv[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(loop_init(), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ch = chan_new(sv[0], NULL, 1, &ops, NULL, "test");
	assert_non_null(ch);
	/* a fragmented message, then a whole one */
	ws_frame_add(&ch->in, WS_TEXT, 0, "[1,", 3, mask);
	ws_frame_add(&ch->in, WS_CONT, 1, "2]", 2, mask);
	ws_frame_add(&ch->in, WS_TEXT, 1, "{}", 2, mask);
	chan_ws_start(ch);
	assert_int_equal(answered, 2);
	/* both answers (40 KB) fit the socket: nothing left to write */
	assert_int_equal(ch->out.len, 0);
	assert_null(ch->in.data);
	assert_null(ch->out.data);
	assert_null(ch->msg.data);
	assert_true(read(sv[1], rx, sizeof(rx)) > 20000);
	/* half a frame is kept for its rest */
	ws_frame_add(&half, WS_TEXT, 1, "{}", 2, mask);
	buf_add(&ch->in, half.data, 3);
	chan_ws_start(ch);
	assert_int_equal(answered, 2);
	assert_int_equal(ch->in.len, 3);
	buf_add(&ch->in, half.data + 3, half.len - 3);
	chan_ws_start(ch);
	assert_int_equal(answered, 3);
	assert_null(ch->in.data);
	buf_free(&half);
	chan_free(ch, "done");
	close(sv[1]);
	loop_dispose();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_upgrade_checks),
		cmocka_unit_test(test_fingerprint_whole),
		cmocka_unit_test(test_closed_inside_a_handler),
		cmocka_unit_test(test_idle_buffers_freed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
