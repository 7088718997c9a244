/* libFuzzer target: the WebSocket codec (pool/ws.c).
 *
 * 1. The input as a byte stream to the decoder, in both roles, with the
 *    default and a small message limit: decoded whole, then again as it
 *    would arrive in pieces, which must give the same frames and the same
 *    end; NEED_MORE must change nothing; every frame must satisfy RFC
 *    6455's rules, and every completed text message and close reason must
 *    be UTF-8 by an independent check (rpc/codec.h's decoder).
 * 2. The input as a script of messages (text or binary, fragmented, with
 *    pings between fragments, then a close), encoded by our encoder in
 *    one role and decoded in the other: the messages must come back
 *    byte for byte, or the decoder must refuse exactly the text that is
 *    not UTF-8 (1007), the message over the limit (1009) or the invalid
 *    close code (1002).
 * 3. The input as handshake header values: the server's check and the
 *    client's check of the server's answer agree.
 * 4. The input as the text of a message: refused exactly when it is not
 *    UTF-8 by the independent check. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool/ws.h"
#include "rpc/codec.h"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int utf8_ok(const unsigned char *p, size_t n)
{
	const unsigned char *end = p + n;
	uint32_t cp;
	size_t k;

	while (p < end) {
		if (!(k = utf8_decode(p, end, &cp)))
			return 0;
		p += k;
	}
	return 1;
}

/* a's first n bytes are b's (either may be NULL when n is 0) */
static int same(const void *a, const void *b, size_t n)
{
	return n == 0 || !memcmp(a, b, n);
}

/* RFC 6455 7.4 and IANA's registry: what a peer may put in a close frame */
static int code_ok(unsigned c)
{
	return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
	       (c >= 3000 && c <= 4999);
}

/* What one decoding run saw, to compare runs. */
struct trace {
	struct buf ev;          /* op, fin, len and payload of every frame */
	int end;                /* WS_NEED_MORE or WS_ERROR */
	unsigned fail;
};

/* Check one decoded frame against the rules and the message so far. */
static void check_frame(const struct ws_dec *d, const struct ws_frame *f,
			struct buf *msg)
{
	if (f->op >= WS_CLOSE) {
		CHECK(f->op <= WS_PONG && f->fin && f->len <= WS_MAX_CONTROL);
		if (f->op == WS_CLOSE) {
			CHECK(d->closed);
			if (f->len == 0) {
				CHECK(f->close_code == WS_CLOSE_NO_CODE && f->reason_len == 0);
			} else {
				CHECK(f->len >= 2 && code_ok(f->close_code));
				CHECK(f->reason_len == f->len - 2);
				CHECK(utf8_ok((const unsigned char *)f->reason, f->reason_len));
			}
		}
		return;
	}
	CHECK(f->op <= WS_BIN);
	CHECK(f->msg_op == WS_TEXT || f->msg_op == WS_BIN);
	CHECK(f->op == WS_CONT || f->op == f->msg_op);
	if (f->op != WS_CONT)
		CHECK(msg->len == 0);
	buf_add(msg, f->payload, f->len);
	CHECK(msg->len <= d->max_msg);
	if (f->fin) {
		if (f->msg_op == WS_TEXT)
			CHECK(utf8_ok((unsigned char *)msg->data, msg->len));
		CHECK(d->msg_op == 0);
		buf_reset(msg);
	} else {
		CHECK(d->msg_op == f->msg_op);
	}
}

/* Decode s[0..n) (a private copy) with bytes arriving step at a time
 * (step 0: all at once). */
static void decode_run(const uint8_t *s, size_t n, int server, size_t max_msg,
		       size_t step, struct trace *t)
{
	unsigned char *p = malloc(n ? n : 1), *orig = malloc(n ? n : 1);
	struct buf msg = BUF_INIT;
	struct ws_dec d, before;
	struct ws_frame f;
	size_t at = 0, avail = step ? 0 : n, fl;
	int rc;

	memcpy(p, s, n);
	memcpy(orig, s, n);
	ws_dec_init(&d, server, max_msg);
	for (;;) {
		before = d;
		rc = ws_decode(&d, p + at, avail - at, &f, &fl);
		if (rc == WS_FRAME) {
			CHECK(fl >= 2 && fl <= avail - at);
			CHECK(f.payload >= p + at && f.payload + f.len == p + at + fl);
			check_frame(&d, &f, &msg);
			buf_add(&t->ev, &f.op, sizeof(f.op));
			buf_add(&t->ev, &f.fin, sizeof(f.fin));
			buf_add(&t->ev, &f.len, sizeof(f.len));
			buf_add(&t->ev, f.payload, f.len);
			at += fl;
			continue;
		}
		if (rc == WS_ERROR) {
			CHECK(d.fail == WS_CLOSE_PROTOCOL || d.fail == WS_CLOSE_BAD_DATA ||
			      d.fail == WS_CLOSE_TOO_BIG);
			CHECK(d.err != NULL);
			CHECK(ws_decode(&d, p + at, avail - at, &f, &fl) == WS_ERROR);
			break;
		}
		CHECK(rc == WS_NEED_MORE);
		CHECK(!memcmp(&before, &d, sizeof(d)));
		CHECK(same(p + at, orig + at, avail - at));
		CHECK(fl == 0 || fl > avail - at);
		if (avail == n)
			break;
		avail = avail + step < n ? avail + step : n;
	}
	t->end = rc;
	t->fail = rc == WS_ERROR ? d.fail : 0;
	buf_free(&msg);
	free(p);
	free(orig);
}

static void decode_both_ways(const uint8_t *s, size_t n, int server, size_t max_msg,
			     size_t step)
{
	struct trace a = { BUF_INIT, 0, 0 }, b = { BUF_INIT, 0, 0 };

	decode_run(s, n, server, max_msg, 0, &a);
	decode_run(s, n, server, max_msg, step, &b);
	CHECK(a.end == b.end && a.fail == b.fail);
	CHECK(a.ev.len == b.ev.len && same(a.ev.data, b.ev.data, a.ev.len));
	buf_free(&a.ev);
	buf_free(&b.ev);
}

/* A cursor over the fuzz input for the script of part 2. */
struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* Encode messages from the script as a client (server = 1: we decode as
 * the server) or as the server, decode them and compare. */
static void round_trip(const uint8_t *s, size_t n, int server)
{
	struct in in = { s, n };
	struct buf wire = BUF_INIT, msgs = BUF_INIT, got = BUF_INIT, msg = BUF_INIT;
	unsigned char mask[4] = { 0 }, *mp;
	unsigned lim = take(&in);
	size_t max_msg = lim & 0x80 ? WS_MAX_MSG : 64 + lim * 32, at = 0, fl, nmsg = 0, i;
	size_t nbig = 0;
	int too_big = 0, bad_text = 0, rc;
	struct ws_dec d;
	struct ws_frame f;

	/* [limit] then messages: [type|fragments|len][len] and len bytes,
	 * while input lasts; or, once and only with limit's top three bits
	 * set (large messages are slow to fuzz), [type|fragments|0x70]
	 * [ignored][len] and a seed of 16 bytes repeated to a message of
	 * 65280..65790 bytes, across the 16- to 64-bit length forms */
	while (in.n && nmsg < 64 && wire.len < (256u << 10) && !too_big && !bad_text) {
		unsigned ctl = take(&in), op = ctl & 1 ? WS_BIN : WS_TEXT;
		unsigned frags = 1 + (ctl >> 1 & 7);
		size_t len = take(&in) * 8 + (ctl >> 4 & 7), done = 0;
		const uint8_t *body = in.p;
		uint8_t *big = NULL;

		if ((ctl & 0x70) == 0x70 && (lim & 0xe0) == 0xe0 && !nbig++) {
			size_t seed;

			len = 65280 + take(&in) * 2;    /* across 16- to 64-bit lengths */
			seed = in.n < 16 ? in.n : 16;
			big = malloc(len ? len : 1);
			for (i = 0; i < len; i++)
				big[i] = seed ? in.p[i % seed] ^ (uint8_t)(i >> 11) : (uint8_t)i;
			body = big;
			in.p += seed, in.n -= seed;
		} else {
			if (len > in.n)
				len = in.n;
			in.p += len, in.n -= len;
		}
		for (i = 0; i < frags; i++) {
			size_t k = i == frags - 1 ? len - done : (len - done) / 2;

			for (int j = 0; j < 4; j++)
				mask[j] = (len ? body[done % len] : 0) ^ (uint8_t)(i + j);
			ws_frame_add(&wire, i ? WS_CONT : (int)op, i == frags - 1,
				     body + done, k, server ? mask : NULL);
			if (ctl & 0x80 && i < frags - 1)
				ws_frame_add(&wire, WS_PING, 1, body, len < 125 ? len : 125,
					     server ? mask : NULL);
			done += k;
		}
		/* over the limit, or text not UTF-8, or both (then the first
		 * fragment that breaks either rule decides) */
		too_big = len > max_msg;
		bad_text = op == WS_TEXT && !utf8_ok(body, len);
		buf_add(&msgs, &len, sizeof(len));
		buf_add(&msgs, body, len);
		nmsg++;
		free(big);
	}
	/* then a close with a code and a reason from the input */
	{
		static const unsigned codes[] = { 0, 1000, 1001, 1002, 1003, 1007, 1008,
						  1009, 1011, 1014, 3000, 4001, 4008, 4999 };
		unsigned code = take(&in) << 8;
		char reason[200];
		size_t r;

		/* mostly a code a peer may send, sometimes any */
		code |= take(&in);
		if (!(code & 0x8000))
			code = codes[code % (sizeof(codes) / sizeof(codes[0]))];
		r = in.n < sizeof(reason) - 1 ? in.n : sizeof(reason) - 1;
		memcpy(reason, in.p, r);
		reason[r] = 0;
		ws_close_add(&wire, code, reason, server ? mask : NULL);
	}

	ws_dec_init(&d, server, max_msg);
	mp = (unsigned char *)wire.data;
	while ((rc = ws_decode(&d, mp + at, wire.len - at, &f, &fl)) == WS_FRAME) {
		at += fl;
		if (f.op == WS_PING || f.op == WS_CLOSE)
			continue;
		CHECK(f.op <= WS_BIN);
		buf_add(&msg, f.payload, f.len);
		if (f.fin) {
			buf_add(&got, &msg.len, sizeof(msg.len));
			buf_add(&got, msg.data, msg.len);
			buf_reset(&msg);
		}
	}
	if (too_big || bad_text) {
		/* refused at the bad message, and everything before came through */
		CHECK(rc == WS_ERROR);
		CHECK((d.fail == WS_CLOSE_TOO_BIG && too_big) ||
		      (d.fail == WS_CLOSE_BAD_DATA && bad_text));
		CHECK(got.len < msgs.len && same(got.data, msgs.data, got.len));
	} else {
		CHECK(got.len == msgs.len && same(got.data, msgs.data, got.len));
		if (rc == WS_ERROR) {
			/* only the close frame may be refused: its code or reason */
			CHECK(d.fail == WS_CLOSE_PROTOCOL || d.fail == WS_CLOSE_BAD_DATA);
		} else {
			CHECK(rc == WS_NEED_MORE && at == wire.len && d.closed);
			CHECK(f.op == WS_CLOSE);
		}
	}
	buf_free(&wire);
	buf_free(&msgs);
	buf_free(&got);
	buf_free(&msg);
}

/* Up to 7 NUL-separated strings (an empty one means absent). */
static void handshake(const uint8_t *s, size_t n)
{
	char *z = malloc(n + 1), *p, *v[7] = { 0 };
	const char *why, *why2;
	struct ws_hs h;
	struct buf b = BUF_INIT;
	char acc[WS_ACCEPT_LEN + 1];
	int i = 0, rc;

	memcpy(z, s, n);
	z[n] = 0;
	for (p = z; i < 7 && p <= z + n; p += strlen(p) + 1)
		v[i++] = *p ? p : NULL;
	h = (struct ws_hs){ v[0], v[1], v[2], v[3], v[4], v[5], v[6] };
	rc = ws_check_request(&h, "xenbox-pool.1", &why);
	CHECK(rc == WS_HS_OK ? why == NULL : why != NULL);
	CHECK(rc >= WS_HS_PROTOCOL && rc <= WS_HS_OK);
	if (v[2])
		ws_accept(v[2], acc);
	if (rc == WS_HS_OK) {
		/* the answer to an accepted request satisfies a client */
		CHECK(strlen(h.key) == WS_KEY_LEN);
		ws_response_add(&b, h.key, "xenbox-pool.1");
		ws_accept(h.key, acc);
		CHECK(strstr(b.data, acc) != NULL);
		h.accept = acc;
		h.protocol = "xenbox-pool.1";
		CHECK(ws_check_response(101, &h, v[2], "xenbox-pool.1", &why2) == 0);
	}
	if (v[2] && ws_check_response(n & 1 ? 101 : 200 + (int)n % 300, &h, v[2],
				      "xenbox-pool.1", &why2) == 0)
		CHECK(h.accept && h.protocol && !strcmp(h.protocol, "xenbox-pool.1"));
	buf_free(&b);
	free(z);
}

/* The text of one message cut in two fragments at a point the first byte
 * chooses: the decoder refuses it (1007) exactly when rpc/codec.h's
 * decoder finds it is not UTF-8. */
static void text_verdict(const uint8_t *s, size_t n)
{
	struct buf b = BUF_INIT;
	struct ws_dec d;
	struct ws_frame f;
	size_t cut = n ? s[0] % (n + 1) : 0, fl, at = 0;
	int rc;

	ws_frame_add(&b, WS_TEXT, 0, s, cut, NULL);
	ws_frame_add(&b, WS_CONT, 1, s + cut, n - cut, NULL);
	ws_dec_init(&d, 0, 0);
	while ((rc = ws_decode(&d, (unsigned char *)b.data + at, b.len - at, &f, &fl)) ==
	       WS_FRAME)
		at += fl;
	if (utf8_ok(s, n))
		CHECK(rc == WS_NEED_MORE && at == b.len);
	else
		CHECK(rc == WS_ERROR && d.fail == WS_CLOSE_BAD_DATA);
	buf_free(&b);
}

/* Random bytes are rarely UTF-8 up to the one sequence that matters, so
 * also build text from the input that is mostly well-formed: each byte
 * is an ASCII letter or a sequence whose lead and continuation bytes are
 * taken near the edges of the valid ranges (and now and then outside). */
static void edge_text(const uint8_t *s, size_t n)
{
	static const uint8_t leads[16] = { 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
					   0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xc0, 0xc1,
					   0xf5, 0x80 };
	static const uint8_t conts[8] = { 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0x7f, 0xc0 };
	uint8_t *t = malloc(4 * n + 1);
	size_t i = 0, k = 0, c;

	while (i < n) {
		uint8_t b = s[i++], lead;

		if (b < 0x60) {
			t[k++] = (uint8_t)('a' + b % 26);
			continue;
		}
		lead = leads[b & 15];
		t[k++] = lead;
		c = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : 1;
		while (c-- && i < n)
			t[k++] = conts[s[i++] & 7];
	}
	text_verdict(t, k);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step;

	if (size < 1)
		return 0;
	step = 1 + data[0] % 7 + size / 64;
	for (int server = 0; server < 2; server++) {
		decode_both_ways(data + 1, size - 1, server, 0, step);
		decode_both_ways(data + 1, size - 1, server, 200, step);
		round_trip(data + 1, size - 1, server);
	}
	if (size < 1024)
		handshake(data, size);
	text_verdict(data, size);
	edge_text(data, size);
	return 0;
}
