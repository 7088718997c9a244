/* WebSocket framing and handshake (RFC 6455); see ws.h. */
#include "pool/ws.h"

#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "lib/base64.h"
#include "lib/sha1.h"

/* UTF-8 well-formedness as a small state machine, so that a text message
 * split anywhere (even inside a character) is checked as it arrives.
 * s[0]: continuation bytes still owed; s[1]..s[2]: the range the next one
 * must be in (narrower after E0, ED, F0, F4: no overlongs, no surrogates,
 * nothing above U+10FFFF).  0 while well-formed so far, -1 once not. O(n). */
static int utf8_feed(unsigned char s[3], const unsigned char *p, size_t n)
{
	unsigned need = s[0], lo = s[1], hi = s[2], c;

	while (n--) {
		c = *p++;
		if (need) {
			if (c < lo || c > hi)
				return -1;
			need--, lo = 0x80, hi = 0xbf;
		} else if (c >= 0x80) {
			if (c < 0xc2 || c > 0xf4)
				return -1;
			need = 1 + (c >= 0xe0) + (c >= 0xf0);
			lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
			hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
		}
	}
	s[0] = (unsigned char)need, s[1] = (unsigned char)lo, s[2] = (unsigned char)hi;
	return 0;
}

void ws_dec_init(struct ws_dec *d, int server, size_t max_msg)
{
	memset(d, 0, sizeof(*d));
	d->server = !!server;
	d->max_msg = max_msg ? max_msg : WS_MAX_MSG;
}

/* Codes a peer may send (RFC 6455 7.4.1 and 7.4.2, with IANA's 1012..1014);
 * 1005, 1006 and 1015 are for reporting only, never for the wire. */
static int close_code_ok(unsigned c)
{
	return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
	       (c >= 3000 && c <= 4999);
}

int ws_decode(struct ws_dec *d, unsigned char *data, size_t len,
	      struct ws_frame *f, size_t *frame_len)
{
	unsigned char *p = data, *pl, u8[3] = { 0 };
	unsigned op, fin, masked, n7, code = WS_CLOSE_PROTOCOL;
	const char *why;
	size_t hl, i;
	uint64_t plen = 0;

	*frame_len = 0;
	if (d->fail)
		return WS_ERROR;
	if (len < 2)
		return WS_NEED_MORE;
	fin = p[0] >> 7;
	op = p[0] & 15;
	masked = p[1] >> 7;
	n7 = p[1] & 127;
	why = "frame after close";
	if (d->closed)
		goto bad;
	why = "reserved bits set";
	if (p[0] & 0x70)
		goto bad;
	why = "reserved opcode";
	if ((op & 7) > WS_BIN)
		goto bad;
	if (op & 8) {
		why = "fragmented control frame";
		if (!fin)
			goto bad;
		why = "control frame over 125 bytes";
		if (n7 > WS_MAX_CONTROL)
			goto bad;
	} else if (op == WS_CONT ? !d->msg_op : d->msg_op) {
		why = op ? "new message inside a fragmented one"
			 : "continuation outside a message";
		goto bad;
	}
	why = masked ? "masked frame from the server" : "unmasked frame from a client";
	if (masked != d->server)
		goto bad;
	hl = 2 + (n7 == 126 ? 2 : n7 == 127 ? 8 : 0) + 4 * masked;
	if (len < hl)
		return WS_NEED_MORE;
	if (n7 < 126) {
		plen = n7;
	} else {
		for (i = 2; i < hl - 4 * masked; i++)
			plen = plen << 8 | p[i];
		/* RFC 6455 5.2: the shortest form, and the top bit clear */
		why = "length not in its shortest form";
		if (plen < 126 || (n7 == 127 && plen <= 0xffff) || plen >> 63)
			goto bad;
	}
	code = WS_CLOSE_TOO_BIG;
	why = "message too big";
	if (!(op & 8) && plen > d->max_msg - (op ? 0 : d->msg_len))
		goto bad;
	*frame_len = hl + (size_t)plen;
	if (len - hl < plen)
		return WS_NEED_MORE;

	/* the whole frame is here: from now on d and data change */
	pl = p + hl;
	f->op = (int)op;
	f->fin = (int)fin;
	f->payload = pl;
	f->len = (size_t)plen;
	f->msg_op = 0;
	if (masked)
		ws_mask(pl, f->len, pl - 4, 0);
	if (op == WS_CLOSE) {
		d->closed = 1;
		f->close_code = WS_CLOSE_NO_CODE;
		f->reason = (const char *)pl;
		f->reason_len = 0;
		code = WS_CLOSE_PROTOCOL;
		why = "close frame of 1 byte";
		if (plen == 1)
			goto bad;
		if (plen) {
			f->close_code = (unsigned)pl[0] << 8 | pl[1];
			f->reason += 2;
			f->reason_len = f->len - 2;
			why = "invalid close code";
			if (!close_code_ok(f->close_code))
				goto bad;
			code = WS_CLOSE_BAD_DATA;
			why = "close reason not UTF-8";
			if (utf8_feed(u8, pl + 2, f->len - 2) || u8[0])
				goto bad;
		}
	}
	if (op & 8)
		return WS_FRAME;
	if (op) {
		d->msg_op = (unsigned char)op;
		d->msg_len = 0;
		memset(d->u8, 0, sizeof(d->u8));
	}
	f->msg_op = d->msg_op;
	code = WS_CLOSE_BAD_DATA;
	why = "text not UTF-8";
	if (d->msg_op == WS_TEXT &&
	    (utf8_feed(d->u8, pl, f->len) || (fin && d->u8[0])))
		goto bad;
	d->msg_len += f->len;
	if (fin)
		d->msg_op = 0;
	return WS_FRAME;
bad:
	d->fail = (uint16_t)code;
	d->err = why;
	return WS_ERROR;
}

size_t ws_head(unsigned char *h, int op, int fin, uint64_t len,
	       const unsigned char *mask)
{
	size_t n = 2, k = len < 126 ? 0 : len <= 0xffff ? 2 : 8;

	h[0] = (unsigned char)((fin ? 0x80 : 0) | (op & 15));
	h[1] = (unsigned char)(k == 2 ? 126 : k ? 127 : len);
	while (k--)
		h[n++] = (unsigned char)(len >> (8 * k));
	if (mask) {
		h[1] |= 0x80;
		memcpy(h + n, mask, 4);
		n += 4;
	}
	return n;
}

void ws_mask(unsigned char *p, size_t n, const unsigned char mask[4], size_t off)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] ^= mask[(off + i) & 3];
}

void ws_frame_add(struct buf *out, int op, int fin, const void *p, size_t n,
		  const unsigned char *mask)
{
	unsigned char h[WS_MAX_HEAD];
	size_t at;

	buf_add(out, h, ws_head(h, op, fin, n, mask));
	at = out->len;
	buf_add(out, p, n);
	if (mask)
		ws_mask((unsigned char *)out->data + at, n, mask, 0);
}

void ws_close_add(struct buf *out, unsigned code, const char *reason,
		  const unsigned char *mask)
{
	unsigned char pl[WS_MAX_CONTROL];
	size_t n = 0, r;

	if (code) {
		pl[0] = (unsigned char)(code >> 8);
		pl[1] = (unsigned char)code;
		if (!reason)
			reason = "";
		r = strlen(reason);
		if (r > WS_MAX_CONTROL - 2) {
			r = WS_MAX_CONTROL - 2;
			while (r && ((unsigned char)reason[r] & 0xc0) == 0x80)
				r--;
		}
		memcpy(pl + 2, reason, r);
		n = 2 + r;
	}
	ws_frame_add(out, WS_CLOSE, 1, pl, n, mask);
}

static int random_bytes(void *p, size_t n)
{
	return getrandom(p, n, 0) == (ssize_t)n ? 0 : -1;
}

int ws_mask_new(unsigned char mask[4])
{
	return random_bytes(mask, 4);
}

/* The handshake */

int ws_key_new(char key[WS_KEY_LEN + 1])
{
	unsigned char b[16];

	if (random_bytes(b, sizeof(b)))
		return -1;
	base64_encode(key, b, sizeof(b));
	return 0;
}

void ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char b[WS_KEY_LEN + sizeof(guid)];
	unsigned char h[20];
	size_t n = strnlen(key, WS_KEY_LEN + 1);

	*out = 0;
	if (n > WS_KEY_LEN)
		return;
	memcpy(b, key, n);
	memcpy(b + n, guid, sizeof(guid) - 1);
	sha1(b, n + sizeof(guid) - 1, h);
	base64_encode(out, h, sizeof(h));
}

void ws_request_add(struct buf *out, const char *host, const char *path,
		    const char *key, const char *protocol, const char *extra)
{
	buf_addf(out, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n%s\r\n",
		 path, host, key, protocol, extra ? extra : "");
}

/* Is tok one of the comma-separated elements of list (RFC 9110 5.6.1:
 * optional whitespace around each, empty elements allowed)?  Compared
 * without case for the Upgrade and Connection tokens, exactly for
 * subprotocols.  O(length of list). */
static int has_token(const char *list, const char *tok, int icase)
{
	size_t n = strlen(tok);
	const char *p;

	for (p = list; p; p = strchr(p, ',')) {
		p += strspn(p, " \t,");
		/* the element ends at a comma or at the end (strchr finds
		 * the NUL too) */
		if (!(icase ? strncasecmp(p, tok, n) : strncmp(p, tok, n)) &&
		    strchr(",", p[n + strspn(p + n, " \t")]))
			return 1;
	}
	return 0;
}

/* A Sec-WebSocket-Key must be base64 of 16 bytes: 22 characters of the
 * alphabet, the last of them carrying 2 bits only, then "==". */
static int key_ok(const char *k)
{
	return k && strlen(k) == WS_KEY_LEN && strspn(k, base64_chars) == 22 &&
	       strchr("AQgw", k[21]) && !strcmp(k + 22, "==");
}

/* What both sides require of each other's head. */
static const char *upgrade_why(const struct ws_hs *h)
{
	if (!h->upgrade || !has_token(h->upgrade, "websocket", 1))
		return "no Upgrade: websocket";
	if (!h->connection || !has_token(h->connection, "upgrade", 1))
		return "no Connection: Upgrade";
	if (h->extensions)
		return "extensions are not supported";
	return NULL;
}

int ws_check_request(const struct ws_hs *h, const char *protocol,
		     const char **why)
{
	if ((*why = upgrade_why(h)))
		return WS_HS_BAD;
	if (!key_ok(h->key)) {
		*why = "bad Sec-WebSocket-Key";
		return WS_HS_BAD;
	}
	if (!h->version || strcmp(h->version, "13")) {
		*why = "Sec-WebSocket-Version is not 13";
		return WS_HS_VERSION;
	}
	if (!h->protocol || !has_token(h->protocol, protocol, 0)) {
		*why = "subprotocol not offered";
		return WS_HS_PROTOCOL;
	}
	*why = NULL;
	return WS_HS_OK;
}

void ws_response_add(struct buf *out, const char *key, const char *protocol)
{
	char acc[WS_ACCEPT_LEN + 1];

	ws_accept(key, acc);
	buf_addf(out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", acc);
	if (protocol)
		buf_addf(out, "Sec-WebSocket-Protocol: %s\r\n", protocol);
	buf_adds(out, "\r\n");
}

int ws_check_response(int status, const struct ws_hs *h, const char *key,
		      const char *protocol, const char **why)
{
	char acc[WS_ACCEPT_LEN + 1];

	if (status != 101) {
		*why = "status is not 101";
		return -1;
	}
	if ((*why = upgrade_why(h)))
		return -1;
	ws_accept(key, acc);
	if (!h->accept || !*acc || strcmp(h->accept, acc))
		*why = "wrong Sec-WebSocket-Accept";
	else if (!h->protocol || strcmp(h->protocol, protocol))
		*why = "the server chose no or another subprotocol";
	return *why ? -1 : 0;
}
