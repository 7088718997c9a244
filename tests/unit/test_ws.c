/* pool/ws.c (RFC 6455 framing and handshake), lib/sha1.c, lib/base64.c:
 * the RFC's own examples (section 1.3's accept, section 5.7's frames),
 * FIPS 180 and RFC 4648 vectors, the length forms at their edges, partial
 * input, fragmentation with control frames between fragments, UTF-8 across
 * fragments, and every refusal with the close code it asks for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/base64.h"
#include "lib/sha1.h"
#include "pool/ws.h"

static const unsigned char RFC_MASK[4] = { 0x37, 0xfa, 0x21, 0x3d };

static void check_sha1(const void *msg, size_t n, const char *want)
{
	unsigned char d[20];
	char h[41];

	sha1(msg, n, d);
	for (int i = 0; i < 20; i++)
		sprintf(h + 2 * i, "%02x", d[i]);
	assert_string_equal(h, want);
}

static void test_sha1_vectors(void **state)
{
	static const size_t edges[] = { 55, 56, 63, 64, 65 };
	static const char *edge_sums[] = {      /* from Python's hashlib */
		"c1c8bbdc22796e28c0e15163d20899b65621d65a",
		"c2db330f6083854c99d4b5bfb6e8f29f201be699",
		"03f09f5b158a7a8cdad920bddc29b81c18a551f5",
		"0098ba824b5c16427bd7a1122a5a442a25ec644d",
		"11655326c708d70319be2610e8a57d9a5b959d3b",
	};
	char *a = malloc(1000000);

	(void)state;
	/* FIPS 180 examples */
	check_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	check_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
		   "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	memset(a, 'a', 1000000);
	check_sha1(a, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	/* around the padding's edges: 55 bytes leave room for the length in
	 * the last block, 56 do not */
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_sha1(a, edges[i], edge_sums[i]);
	free(a);
}

static void check_b64(const char *in, const char *want)
{
	char out[64];

	memset(out, 'x', sizeof(out));
	assert_int_equal(base64_encode(out, in, strlen(in)), strlen(want));
	assert_int_equal(BASE64_LEN(strlen(in)), strlen(want));
	assert_string_equal(out, want);
}

static void test_base64_rfc4648(void **state)
{
	(void)state;
	check_b64("", "");
	check_b64("f", "Zg==");
	check_b64("fo", "Zm8=");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg==");
	check_b64("fooba", "Zm9vYmE=");
	check_b64("foobar", "Zm9vYmFy");
	check_b64("\xff\xfe\xfd", "//79");
}

/* RFC 6455 section 1.3 */
static void test_accept_rfc_example(void **state)
{
	char acc[WS_ACCEPT_LEN + 1];

	(void)state;
	ws_accept("dGhlIHNhbXBsZSBub25jZQ==", acc);
	assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* shorter keys hash as they are; longer ones are no key */
	ws_accept("", acc);
	assert_int_equal(strlen(acc), WS_ACCEPT_LEN);
	ws_accept("dGhlIHNhbXBsZSBub25jZQ==x", acc);
	assert_string_equal(acc, "");
}

/* Decode a whole buffer that must hold exactly one frame. */
static int dec1(struct ws_dec *d, const void *bytes, size_t n, struct ws_frame *f,
		unsigned char *copy)
{
	size_t fl = 12345;
	int rc;

	memcpy(copy, bytes, n);
	rc = ws_decode(d, copy, n, f, &fl);
	if (rc == WS_FRAME)
		assert_int_equal(fl, n);
	return rc;
}

/* RFC 6455 section 5.7, both directions: decoding each example, and our
 * encoder writing exactly its bytes. */
static void test_rfc_examples(void **state)
{
	static const unsigned char hello[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const unsigned char hello_masked[] = {
		0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const unsigned char hel[] = { 0x01, 0x03, 0x48, 0x65, 0x6c };
	static const unsigned char lo[] = { 0x80, 0x02, 0x6c, 0x6f };
	static const unsigned char ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const unsigned char pong_masked[] = {
		0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	unsigned char copy[65536 + 20], h[WS_MAX_HEAD];
	struct ws_dec cli, srv;
	struct ws_frame f;
	struct buf b = BUF_INIT;

	(void)state;
	ws_dec_init(&cli, 0, 0);
	ws_dec_init(&srv, 1, 0);
	assert_int_equal(dec1(&cli, hello, sizeof(hello), &f, copy), WS_FRAME);
	assert_int_equal(f.op, WS_TEXT);
	assert_int_equal(f.msg_op, WS_TEXT);
	assert_true(f.fin);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.payload, "Hello", 5);
	assert_int_equal(dec1(&srv, hello_masked, sizeof(hello_masked), &f, copy), WS_FRAME);
	assert_int_equal(f.op, WS_TEXT);
	assert_memory_equal(f.payload, "Hello", 5);

	assert_int_equal(dec1(&cli, hel, sizeof(hel), &f, copy), WS_FRAME);
	assert_int_equal(f.op, WS_TEXT);
	assert_false(f.fin);
	assert_memory_equal(f.payload, "Hel", 3);
	assert_int_equal(dec1(&cli, lo, sizeof(lo), &f, copy), WS_FRAME);
	assert_int_equal(f.op, WS_CONT);
	assert_int_equal(f.msg_op, WS_TEXT);
	assert_true(f.fin);
	assert_memory_equal(f.payload, "lo", 2);

	assert_int_equal(dec1(&cli, ping, sizeof(ping), &f, copy), WS_FRAME);
	assert_int_equal(f.op, WS_PING);
	assert_memory_equal(f.payload, "Hello", 5);
	assert_int_equal(dec1(&srv, pong_masked, sizeof(pong_masked), &f, copy), WS_FRAME);
	assert_int_equal(f.op, WS_PONG);
	assert_memory_equal(f.payload, "Hello", 5);

	/* the encoder writes the same bytes */
	ws_frame_add(&b, WS_TEXT, 1, "Hello", 5, NULL);
	assert_int_equal(b.len, sizeof(hello));
	assert_memory_equal(b.data, hello, sizeof(hello));
	buf_reset(&b);
	ws_frame_add(&b, WS_TEXT, 1, "Hello", 5, RFC_MASK);
	assert_memory_equal(b.data, hello_masked, sizeof(hello_masked));
	buf_reset(&b);
	ws_frame_add(&b, WS_TEXT, 0, "Hel", 3, NULL);
	ws_frame_add(&b, WS_CONT, 1, "lo", 2, NULL);
	assert_int_equal(b.len, sizeof(hel) + sizeof(lo));
	assert_memory_equal(b.data, hel, sizeof(hel));
	assert_memory_equal(b.data + sizeof(hel), lo, sizeof(lo));
	buf_reset(&b);
	ws_frame_add(&b, WS_PONG, 1, "Hello", 5, RFC_MASK);
	assert_memory_equal(b.data, pong_masked, sizeof(pong_masked));
	buf_free(&b);

	/* 256 bytes and 64 KiB of binary, unmasked: the 16- and 64-bit forms */
	assert_int_equal(ws_head(h, WS_BIN, 1, 256, NULL), 4);
	assert_memory_equal(h, "\x82\x7e\x01\x00", 4);
	assert_int_equal(ws_head(h, WS_BIN, 1, 65536, NULL), 10);
	assert_memory_equal(h, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	memcpy(copy, h, 10);
	memset(copy + 10, 0xa5, 65536);
	assert_int_equal(dec1(&cli, copy, 10 + 65536, &f, copy), WS_FRAME);
	assert_int_equal(f.op, WS_BIN);
	assert_int_equal(f.len, 65536);
	assert_ptr_equal(f.payload, copy + 10);
}

/* Lengths at the edges of each form, both roles, and the head's size. */
static void test_lengths_round_trip(void **state)
{
	static const size_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536, 70000 };
	static const size_t heads[] = { 2, 2, 2, 4, 4, 4, 10, 10 };
	unsigned char mask[4];
	struct ws_dec d;
	struct ws_frame f;
	struct buf b = BUF_INIT;
	unsigned char *pl = malloc(70000);
	size_t fl;

	(void)state;
	for (size_t i = 0; i < 70000; i++)
		pl[i] = (unsigned char)(i * 7 + 3);
	for (int server = 0; server < 2; server++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			assert_int_equal(ws_mask_new(mask), 0);
			buf_reset(&b);
			/* a server decodes masked client frames */
			ws_frame_add(&b, WS_BIN, 1, pl, lens[i], server ? mask : NULL);
			assert_int_equal(b.len, heads[i] + (server ? 4 : 0) + lens[i]);
			if (server && lens[i] >= 4)
				assert_memory_not_equal(b.data + b.len - lens[i], pl, lens[i]);
			ws_dec_init(&d, server, 0);
			assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl),
					 WS_FRAME);
			assert_int_equal(fl, b.len);
			assert_int_equal(f.len, lens[i]);
			if (lens[i])
				assert_memory_equal(f.payload, pl, lens[i]);
		}
	}
	buf_free(&b);
	free(pl);
}

/* Byte by byte: NEED_MORE (touching nothing) until the last byte; the
 * frame's size is known once its head is in. */
static void test_partial_input(void **state)
{
	struct ws_dec d, before;
	struct ws_frame f;
	struct buf b = BUF_INIT, orig = BUF_INIT;
	char text[300];
	size_t fl, n;

	(void)state;
	memset(text, 'x', sizeof(text));
	ws_frame_add(&b, WS_TEXT, 1, text, sizeof(text), RFC_MASK);
	buf_add(&orig, b.data, b.len);
	ws_dec_init(&d, 1, 0);
	for (n = 0; n < b.len; n++) {
		before = d;
		assert_int_equal(ws_decode(&d, (unsigned char *)b.data, n, &f, &fl),
				 WS_NEED_MORE);
		assert_int_equal(fl, n < 8 ? 0 : b.len);        /* 2 + 2 + 4 head */
		assert_memory_equal(&before, &d, sizeof(d));
		assert_memory_equal(b.data, orig.data, b.len);  /* still masked */
	}
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, n, &f, &fl), WS_FRAME);
	assert_int_equal(f.len, sizeof(text));
	assert_memory_equal(f.payload, text, sizeof(text));
	buf_free(&b);
	buf_free(&orig);
}

/* Several frames in one buffer, a ping and a pong between the fragments of
 * a text message whose UTF-8 is cut inside a character. */
static void test_fragments_and_control(void **state)
{
	static const char euro[] = "\xe2\x82\xac";      /* U+20AC */
	struct ws_dec d;
	struct ws_frame f;
	struct buf b = BUF_INIT, msg = BUF_INIT;
	size_t fl, at = 0;
	int ops[6], n = 0;

	(void)state;
	ws_frame_add(&b, WS_TEXT, 0, "1 ", 2, RFC_MASK);
	ws_frame_add(&b, WS_CONT, 0, euro, 1, RFC_MASK);
	ws_frame_add(&b, WS_PING, 1, "t", 1, RFC_MASK);
	ws_frame_add(&b, WS_CONT, 0, euro + 1, 2, RFC_MASK);
	ws_frame_add(&b, WS_PONG, 1, NULL, 0, RFC_MASK);
	ws_frame_add(&b, WS_CONT, 1, "", 0, RFC_MASK);
	ws_dec_init(&d, 1, 0);
	while (at < b.len) {
		assert_int_equal(ws_decode(&d, (unsigned char *)b.data + at, b.len - at,
					   &f, &fl), WS_FRAME);
		ops[n++] = f.op;
		if (f.op <= WS_BIN) {
			assert_int_equal(f.msg_op, WS_TEXT);
			buf_add(&msg, f.payload, f.len);
			assert_int_equal(f.fin, n == 6);
		} else {
			assert_int_equal(f.msg_op, 0);
			assert_true(f.fin);
		}
		at += fl;
	}
	assert_int_equal(n, 6);
	assert_int_equal(ops[0], WS_TEXT);
	assert_int_equal(ops[2], WS_PING);
	assert_int_equal(ops[4], WS_PONG);
	assert_int_equal(ops[5], WS_CONT);
	assert_int_equal(msg.len, 5);
	assert_memory_equal(msg.data, "1 \xe2\x82\xac", 5);
	/* and the next message starts afresh */
	buf_reset(&b);
	ws_frame_add(&b, WS_BIN, 1, "\xff", 1, RFC_MASK);
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl), WS_FRAME);
	assert_int_equal(f.msg_op, WS_BIN);
	buf_free(&b);
	buf_free(&msg);
}

/* Expect the frames in b to end in WS_ERROR with code; returns d->err. */
static const char *expect_error(struct buf *b, int server, size_t max_msg, unsigned code)
{
	static struct ws_dec d;
	struct ws_frame f;
	size_t fl, at = 0;
	int rc;

	ws_dec_init(&d, server, max_msg);
	while ((rc = ws_decode(&d, (unsigned char *)b->data + at, b->len - at, &f, &fl)) ==
	       WS_FRAME)
		at += fl;
	assert_int_equal(rc, WS_ERROR);
	assert_int_equal(d.fail, code);
	assert_non_null(d.err);
	/* final: it says so again, even for good input */
	assert_int_equal(ws_decode(&d, (unsigned char *)"\x89\x00", 2, &f, &fl), WS_ERROR);
	assert_int_equal(d.fail, code);
	return d.err;
}

/* raw bytes as a client frame would have them (mask bit and a zero key) */
static void raw(struct buf *b, const char *bytes, size_t n)
{
	buf_reset(b);
	buf_add(b, bytes, n);
}

static void test_protocol_errors(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	/* reserved bits (no extension was negotiated) */
	raw(&b, "\xc1\x80\0\0\0\0", 6);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "reserved bits set");
	raw(&b, "\x91\x80\0\0\0\0", 6);
	expect_error(&b, 1, 0, 1002);
	/* reserved opcodes, data and control */
	raw(&b, "\x83\x80\0\0\0\0", 6);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "reserved opcode");
	raw(&b, "\x8b\x80\0\0\0\0", 6);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "reserved opcode");
	/* control frames: fragmented, or longer than 125 */
	raw(&b, "\x09\x80\0\0\0\0", 6);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "fragmented control frame");
	raw(&b, "\x89\xfe\x00\x7e", 4);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "control frame over 125 bytes");
	/* fragments out of order */
	raw(&b, "\x80\x80\0\0\0\0", 6);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "continuation outside a message");
	raw(&b, "\x01\x80\0\0\0\0\x81\x80\0\0\0\0", 12);
	assert_string_equal(expect_error(&b, 1, 0, 1002),
			    "new message inside a fragmented one");
	raw(&b, "\x02\x80\0\0\0\0\x82\x80\0\0\0\0", 12);
	expect_error(&b, 1, 0, 1002);
	/* masking by role (RFC 6455 5.1) */
	raw(&b, "\x81\x00", 2);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "unmasked frame from a client");
	raw(&b, "\x81\x80\0\0\0\0", 6);
	assert_string_equal(expect_error(&b, 0, 0, 1002), "masked frame from the server");
	/* lengths not in their shortest form, or with the top bit set */
	raw(&b, "\x82\x7e\x00\x05", 4);
	assert_string_equal(expect_error(&b, 0, 0, 1002), "length not in its shortest form");
	raw(&b, "\x82\x7f\0\0\0\0\0\0\xff\xff", 10);
	expect_error(&b, 0, 0, 1002);
	raw(&b, "\x82\x7f\x80\0\0\0\0\0\0\x01", 10);
	expect_error(&b, 0, 0, 1002);
	/* a frame after the close */
	raw(&b, "\x88\x80\0\0\0\0\x89\x80\0\0\0\0", 12);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "frame after close");
	buf_free(&b);
}

/* The message limit counts all fragments and refuses at the head, before
 * the payload has arrived. */
static void test_too_big(void **state)
{
	struct ws_dec d;
	struct ws_frame f;
	struct buf b = BUF_INIT;
	unsigned char h[WS_MAX_HEAD];
	char x[101];
	size_t fl;

	(void)state;
	memset(x, 'x', sizeof(x));
	ws_dec_init(&d, 0, 100);
	ws_frame_add(&b, WS_TEXT, 1, x, 100, NULL);     /* exactly the limit */
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl), WS_FRAME);
	buf_reset(&b);
	ws_frame_add(&b, WS_TEXT, 1, x, 101, NULL);
	assert_string_equal(expect_error(&b, 0, 100, 1009), "message too big");
	/* only the head of a 16 MiB + 1 frame: refused already */
	ws_dec_init(&d, 1, 0);
	fl = ws_head(h, WS_BIN, 1, WS_MAX_MSG + 1ull, RFC_MASK);
	assert_int_equal(ws_decode(&d, h, fl, &f, &fl), WS_ERROR);
	assert_int_equal(d.fail, 1009);
	/* 2^63 - 1 and more */
	raw(&b, "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10);
	expect_error(&b, 0, 0, 1009);
	/* fragments: 60 + 40 fit, 60 + 41 do not */
	buf_reset(&b);
	ws_frame_add(&b, WS_TEXT, 0, x, 60, NULL);
	ws_frame_add(&b, WS_PING, 1, x, 100, NULL);     /* control frames do not count */
	ws_frame_add(&b, WS_CONT, 1, x, 40, NULL);
	ws_frame_add(&b, WS_TEXT, 0, x, 60, NULL);      /* a new message: from 0 again */
	ws_frame_add(&b, WS_CONT, 0, x, 41, NULL);
	expect_error(&b, 0, 100, 1009);
	buf_free(&b);
}

static void expect_text(const char *s, size_t n, int ok)
{
	struct buf b = BUF_INIT;
	struct ws_dec d;
	struct ws_frame f;
	size_t fl, at = 0, i;

	/* whole, then split after every byte (fragments cut characters) */
	ws_frame_add(&b, WS_TEXT, 1, s, n, NULL);
	if (ok) {
		ws_dec_init(&d, 0, 0);
		assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl),
				 WS_FRAME);
	} else {
		assert_string_equal(expect_error(&b, 0, 0, 1007), "text not UTF-8");
	}
	buf_reset(&b);
	for (i = 0; i < n; i++)
		ws_frame_add(&b, i ? WS_CONT : WS_TEXT, i == n - 1, s + i, 1, NULL);
	if (!ok) {
		expect_error(&b, 0, 0, 1007);
	} else {
		ws_dec_init(&d, 0, 0);
		while (at < b.len) {
			assert_int_equal(ws_decode(&d, (unsigned char *)b.data + at,
						   b.len - at, &f, &fl), WS_FRAME);
			at += fl;
		}
	}
	/* binary messages are not checked */
	buf_reset(&b);
	ws_frame_add(&b, WS_BIN, 1, s, n, NULL);
	ws_dec_init(&d, 0, 0);
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl), WS_FRAME);
	buf_free(&b);
}

static void test_utf8(void **state)
{
	(void)state;
	expect_text("plain", 5, 1);
	expect_text("\xc2\x80\xdf\xbf", 4, 1);                  /* U+0080, U+07FF */
	expect_text("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf", 12, 1);
	expect_text("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8, 1);  /* U+10000, U+10FFFF */
	expect_text("\xc0\x80", 2, 0);                          /* overlong NUL */
	expect_text("\xc1\xbf", 2, 0);
	expect_text("\xe0\x9f\xbf", 3, 0);                      /* overlong, 3 bytes */
	expect_text("\xf0\x8f\xbf\xbf", 4, 0);                  /* overlong, 4 bytes */
	expect_text("\xed\xa0\x80", 3, 0);                      /* surrogate */
	expect_text("\xf4\x90\x80\x80", 4, 0);                  /* above U+10FFFF */
	expect_text("\xf5\x80\x80\x80", 4, 0);
	expect_text("\x80", 1, 0);                              /* lone continuation */
	expect_text("\xe2\x28\xa1", 3, 0);                      /* broken sequence */
	expect_text("\xe2\x82", 2, 0);                          /* cut at the end */
	expect_text("\xff", 1, 0);
}

static void test_close_frames(void **state)
{
	static const unsigned good[] = { 1000, 1001, 1002, 1003, 1007, 1011, 1012,
					 1014, 3000, 4001, 4999 };
	static const unsigned bad[] = { 1, 999, 1004, 1005, 1006, 1015, 1016, 2999,
					5000, 65535 };
	struct ws_dec d;
	struct ws_frame f;
	struct buf b = BUF_INIT;
	char reason[141];
	size_t fl, i;

	(void)state;
	/* no payload: no code */
	ws_close_add(&b, 0, "ignored", RFC_MASK);
	assert_int_equal(b.len, 6);
	ws_dec_init(&d, 1, 0);
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl), WS_FRAME);
	assert_int_equal(f.op, WS_CLOSE);
	assert_int_equal(f.close_code, WS_CLOSE_NO_CODE);
	assert_int_equal(f.reason_len, 0);
	/* nothing may follow a close */
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl), WS_ERROR);
	assert_int_equal(d.fail, 1002);

	/* a code and a reason */
	buf_reset(&b);
	ws_close_add(&b, 4008, "heartbeat timeout", NULL);
	assert_memory_equal(b.data, "\x88\x13\x0f\xa8heartbeat timeout", 21);
	ws_dec_init(&d, 0, 0);
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl), WS_FRAME);
	assert_int_equal(f.close_code, 4008);
	assert_int_equal(f.reason_len, 17);
	assert_memory_equal(f.reason, "heartbeat timeout", 17);

	/* a reason too long is cut to fit 125, at a character boundary */
	for (i = 0; i < 140; i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);      /* U+00E9 */
	reason[140] = 0;
	buf_reset(&b);
	ws_close_add(&b, 1000, reason, NULL);
	ws_dec_init(&d, 0, 0);
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl), WS_FRAME);
	assert_int_equal(f.len, 124);
	assert_int_equal(f.reason_len, 122);
	buf_reset(&b);
	memset(reason, 'r', 123);                       /* 123 bytes: fit */
	reason[123] = 0;
	ws_close_add(&b, 1000, reason, NULL);
	assert_int_equal(b.len, 2 + 125);
	buf_reset(&b);
	ws_close_add(&b, 1000, NULL, NULL);             /* a code, no reason */
	assert_memory_equal(b.data, "\x88\x02\x03\xe8", 4);
	assert_int_equal(b.len, 4);

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		buf_reset(&b);
		ws_close_add(&b, good[i], "", RFC_MASK);
		ws_dec_init(&d, 1, 0);
		assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl),
				 WS_FRAME);
		assert_int_equal(f.close_code, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		ws_close_add(&b, bad[i], "", RFC_MASK);
		assert_string_equal(expect_error(&b, 1, 0, 1002), "invalid close code");
	}
	raw(&b, "\x88\x82\0\0\0\0\0\0", 8);             /* code 0 */
	assert_string_equal(expect_error(&b, 1, 0, 1002), "invalid close code");
	/* a payload of one byte; a reason that is not UTF-8 */
	raw(&b, "\x88\x81\0\0\0\0\x03", 7);
	assert_string_equal(expect_error(&b, 1, 0, 1002), "close frame of 1 byte");
	buf_reset(&b);
	ws_frame_add(&b, WS_CLOSE, 1, "\x03\xe8\xe2\x82", 4, RFC_MASK);
	assert_string_equal(expect_error(&b, 1, 0, 1007), "close reason not UTF-8");
	/* a close between fragments is allowed (and ends the stream) */
	buf_reset(&b);
	ws_frame_add(&b, WS_TEXT, 0, "a", 1, NULL);
	ws_close_add(&b, 1001, "bye", NULL);
	ws_dec_init(&d, 0, 0);
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data, b.len, &f, &fl), WS_FRAME);
	assert_int_equal(ws_decode(&d, (unsigned char *)b.data + fl, b.len - fl, &f, &fl),
			 WS_FRAME);
	assert_int_equal(f.close_code, 1001);
	buf_free(&b);
}

/* RFC 6455 section 1.3's request, as a server sees it */
static struct ws_hs rfc_req(void)
{
	struct ws_hs h = {
		.upgrade = "websocket", .connection = "Upgrade",
		.key = "dGhlIHNhbXBsZSBub25jZQ==", .version = "13",
		.protocol = "chat, xenbox-pool.1",
	};
	return h;
}

static int check_req(struct ws_hs h, const char **why)
{
	return ws_check_request(&h, "xenbox-pool.1", why);
}

static void test_handshake_server(void **state)
{
	struct ws_hs h;
	const char *why;
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(check_req(rfc_req(), &why), WS_HS_OK);
	assert_null(why);
	h = rfc_req(), h.upgrade = "WebSocket";
	assert_int_equal(check_req(h, &why), WS_HS_OK);
	h = rfc_req(), h.connection = "keep-alive, upgrade";
	assert_int_equal(check_req(h, &why), WS_HS_OK);
	h = rfc_req(), h.protocol = "xenbox-pool.1";
	assert_int_equal(check_req(h, &why), WS_HS_OK);

	h = rfc_req(), h.upgrade = NULL;
	assert_int_equal(check_req(h, &why), WS_HS_BAD);
	assert_string_equal(why, "no Upgrade: websocket");
	h = rfc_req(), h.upgrade = "h2c";
	assert_int_equal(check_req(h, &why), WS_HS_BAD);
	h = rfc_req(), h.connection = "keep-alive";
	assert_int_equal(check_req(h, &why), WS_HS_BAD);
	assert_string_equal(why, "no Connection: Upgrade");
	h = rfc_req(), h.connection = NULL;
	assert_int_equal(check_req(h, &why), WS_HS_BAD);
	h = rfc_req(), h.extensions = "permessage-deflate";
	assert_int_equal(check_req(h, &why), WS_HS_BAD);
	assert_string_equal(why, "extensions are not supported");
	{
		static const char *keys[] = {
			NULL, "", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
			"dGhlIHNhbXBsZSBub25jZ===", "dGhlIHNhbXBsZSBub25jZR==",
			"dGhlIHNhbXBsZSBub25j*Q==", "dGhlIHNhbXBsZSBub25jZQAA",
		};

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			h = rfc_req(), h.key = keys[i];
			assert_int_equal(check_req(h, &why), WS_HS_BAD);
			assert_string_equal(why, "bad Sec-WebSocket-Key");
		}
	}
	h = rfc_req(), h.version = "8";
	assert_int_equal(check_req(h, &why), WS_HS_VERSION);
	h = rfc_req(), h.version = NULL;
	assert_int_equal(check_req(h, &why), WS_HS_VERSION);
	h = rfc_req(), h.version = "13, 8";
	assert_int_equal(check_req(h, &why), WS_HS_VERSION);
	h = rfc_req(), h.protocol = NULL;
	assert_int_equal(check_req(h, &why), WS_HS_PROTOCOL);
	assert_string_equal(why, "subprotocol not offered");
	h = rfc_req(), h.protocol = "xenbox-pool.10, xenbox-pool";
	assert_int_equal(check_req(h, &why), WS_HS_PROTOCOL);
	h = rfc_req(), h.protocol = "XENBOX-POOL.1";
	assert_int_equal(check_req(h, &why), WS_HS_PROTOCOL);

	ws_response_add(&b, "dGhlIHNhbXBsZSBub25jZQ==", "xenbox-pool.1");
	assert_string_equal(b.data,
			    "HTTP/1.1 101 Switching Protocols\r\n"
			    "Upgrade: websocket\r\n"
			    "Connection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			    "Sec-WebSocket-Protocol: xenbox-pool.1\r\n\r\n");
	buf_free(&b);
}

static struct ws_hs rfc_resp(void)
{
	struct ws_hs h = {
		.upgrade = "websocket", .connection = "Upgrade",
		.accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", .protocol = "xenbox-pool.1",
	};
	return h;
}

static int check_resp(int status, struct ws_hs h, const char **why)
{
	return ws_check_response(status, &h, "dGhlIHNhbXBsZSBub25jZQ==",
				 "xenbox-pool.1", why);
}

static void test_handshake_client(void **state)
{
	struct ws_hs h;
	const char *why;
	char key[WS_KEY_LEN + 1], key2[WS_KEY_LEN + 1], acc[WS_ACCEPT_LEN + 1];
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(check_resp(101, rfc_resp(), &why), 0);
	assert_null(why);
	assert_int_equal(check_resp(200, rfc_resp(), &why), -1);
	assert_string_equal(why, "status is not 101");
	assert_int_equal(check_resp(403, rfc_resp(), &why), -1);
	h = rfc_resp(), h.upgrade = NULL;
	assert_int_equal(check_resp(101, h, &why), -1);
	h = rfc_resp(), h.connection = "close";
	assert_int_equal(check_resp(101, h, &why), -1);
	h = rfc_resp(), h.accept = NULL;
	assert_int_equal(check_resp(101, h, &why), -1);
	assert_string_equal(why, "wrong Sec-WebSocket-Accept");
	h = rfc_resp(), h.accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo";
	assert_int_equal(check_resp(101, h, &why), -1);
	h = rfc_resp(), h.protocol = NULL;
	assert_int_equal(check_resp(101, h, &why), -1);
	assert_string_equal(why, "the server chose no or another subprotocol");
	h = rfc_resp(), h.protocol = "chat";
	assert_int_equal(check_resp(101, h, &why), -1);
	h = rfc_resp(), h.extensions = "permessage-deflate";
	assert_int_equal(check_resp(101, h, &why), -1);
	/* a key too long has no accept value, not even an empty one */
	h = rfc_resp(), h.accept = "";
	assert_int_equal(ws_check_response(101, &h, "dGhlIHNhbXBsZSBub25jZQ==x",
					   "xenbox-pool.1", &why), -1);

	/* a fresh key: well-formed (the server's check takes it), random */
	assert_int_equal(ws_key_new(key), 0);
	assert_int_equal(ws_key_new(key2), 0);
	assert_int_equal(strlen(key), WS_KEY_LEN);
	assert_string_not_equal(key, key2);
	h = rfc_req(), h.key = key;
	assert_int_equal(check_req(h, &why), WS_HS_OK);
	ws_request_add(&b, "203.0.113.5:443", "/pool/ws", key, "xenbox-pool.1",
		       "Xenbox-Host: 6f1c\r\n");
	{
		char want[512];

		snprintf(want, sizeof(want),
			 "GET /pool/ws HTTP/1.1\r\nHost: 203.0.113.5:443\r\n"
			 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
			 "Sec-WebSocket-Protocol: xenbox-pool.1\r\n"
			 "Xenbox-Host: 6f1c\r\n\r\n", key);
		assert_string_equal(b.data, want);
	}
	/* our server's answer to our client's key satisfies our client */
	ws_accept(key, acc);
	h = rfc_resp(), h.accept = acc;
	assert_int_equal(ws_check_response(101, &h, key, "xenbox-pool.1", &why), 0);
	assert_int_equal(ws_check_response(101, &h, key2, "xenbox-pool.1", &why), -1);
	buf_free(&b);
}

static void test_mask_keys(void **state)
{
	unsigned char k[8][4];
	int differ = 0;

	(void)state;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(ws_mask_new(k[i]), 0);
		if (i && memcmp(k[i], k[0], 4))
			differ = 1;
	}
	assert_true(differ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1_vectors),
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_accept_rfc_example),
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_lengths_round_trip),
		cmocka_unit_test(test_partial_input),
		cmocka_unit_test(test_fragments_and_control),
		cmocka_unit_test(test_protocol_errors),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_close_frames),
		cmocka_unit_test(test_handshake_server),
		cmocka_unit_test(test_handshake_client),
		cmocka_unit_test(test_mask_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
