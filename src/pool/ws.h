/* WebSocket (RFC 6455): frames in and out, and the HTTP Upgrade handshake's
 * pieces, for the pool channel (docs/POOL.md section 2).  Pure functions
 * over buffers: no sockets, no TLS, no JSON, no HTTP parsing (the caller
 * hands in the header values its HTTP parser found).  No extensions
 * (permessage-deflate is never offered nor accepted).
 *
 * Decoding is incremental and bounded: ws_decode takes whatever bytes have
 * arrived, says NEED_MORE until a whole frame is there (checking its head
 * as soon as the head is in, so an oversized or malformed frame is refused
 * before its payload arrives), and checks every rule of RFC 6455 section 5
 * that a receiver must: masking by role, reserved bits and opcodes,
 * control frames (short, unfragmented, allowed between the fragments of a
 * message), the order of fragments, the message size limit over all the
 * fragments, UTF-8 in text messages across fragment boundaries, and the
 * close frame's code and reason.  Any violation is final: the decoder
 * keeps answering WS_ERROR with the close code to send.  Reassembly is the
 * caller's: append each data frame's payload; the message ends at fin. */
#ifndef XB_WS_H
#define XB_WS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum ws_op {
	WS_CONT = 0x0, WS_TEXT = 0x1, WS_BIN = 0x2,
	WS_CLOSE = 0x8, WS_PING = 0x9, WS_PONG = 0xa,
};

/* Close codes (RFC 6455 section 7.4.1); docs/POOL.md 2.4 adds 4001..4008. */
enum {
	WS_CLOSE_NORMAL = 1000, WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002, WS_CLOSE_NO_CODE = 1005,
	WS_CLOSE_BAD_DATA = 1007, WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
};

#define WS_MAX_MSG (16u << 20)  /* a message, all fragments: docs/POOL.md 2.4 */
#define WS_MAX_CONTROL 125      /* payload of a ping, pong or close */
#define WS_MAX_HEAD 14          /* 2 + 8 (length) + 4 (mask) */

enum { WS_ERROR = -1, WS_NEED_MORE = 0, WS_FRAME = 1 };

struct ws_dec {
	unsigned char server;   /* we are the server: frames must be masked */
	unsigned char msg_op;   /* WS_TEXT/WS_BIN while a fragmented message is open */
	unsigned char closed;   /* a close frame came: nothing may follow */
	unsigned char u8[3];    /* UTF-8 check across fragments: bytes owed, range */
	uint16_t fail;          /* after WS_ERROR: the close code to send */
	const char *err;        /* after WS_ERROR: what was wrong, for the log */
	size_t max_msg;         /* limit of a message; beyond: WS_CLOSE_TOO_BIG */
	size_t msg_len;         /* bytes of the open message so far */
};

struct ws_frame {
	int op;                 /* this frame's opcode (WS_CONT for fragments) */
	int msg_op;             /* data frames: the message's WS_TEXT or WS_BIN */
	int fin;                /* data frames: the message ends here */
	unsigned char *payload; /* inside the caller's data, unmasked in place */
	size_t len;
	/* WS_CLOSE frames: the code (WS_CLOSE_NO_CODE when the frame had
	 * none) and the reason, checked UTF-8, not NUL-terminated */
	unsigned close_code;
	const char *reason;
	size_t reason_len;
};

/* server: 1 on the master's side (frames come masked from the member).
 * max_msg 0 means WS_MAX_MSG. */
void ws_dec_init(struct ws_dec *d, int server, size_t max_msg);

/* Decode one frame at the start of data[0..len).
 * WS_FRAME: *frame_len bytes were the frame (drop them before the next
 *   call); *f describes it; its payload was unmasked in place.
 * WS_NEED_MORE: call again with the same bytes and more; *frame_len is
 *   the whole frame's size once its head is in (to reserve), else 0.
 *   Nothing was changed, in d or in data.
 * WS_ERROR: d->fail is the close code to send (1002, 1007 or 1009) and
 *   d->err says why; every later call fails the same way.
 * O(payload) for the unmasking and the UTF-8 check. */
int ws_decode(struct ws_dec *d, unsigned char *data, size_t len,
	      struct ws_frame *f, size_t *frame_len);

/* Write a frame's head at h (WS_MAX_HEAD bytes); returns its length.  With
 * a mask key (client frames) the key is written too, and the payload must
 * then be masked with ws_mask; without (NULL), server frames. */
size_t ws_head(unsigned char *h, int op, int fin, uint64_t len,
	       const unsigned char *mask);

/* XOR p[0..n) with the key, p being at offset off of the payload. O(n). */
void ws_mask(unsigned char *p, size_t n, const unsigned char mask[4], size_t off);

/* Append a whole frame: head and payload, masked when mask is not NULL. */
void ws_frame_add(struct buf *out, int op, int fin, const void *p, size_t n,
		  const unsigned char *mask);

/* Append a close frame with code (0: none, then no reason either) and a
 * reason (valid UTF-8; cut at a character boundary to fit 125 bytes). */
void ws_close_add(struct buf *out, unsigned code, const char *reason,
		  const unsigned char *mask);

/* A fresh masking key (getrandom): 0, or -1 with errno. */
int ws_mask_new(unsigned char mask[4]);

/* The handshake (RFC 6455 section 4). */
#define WS_KEY_LEN 24           /* base64 of 16 bytes */
#define WS_ACCEPT_LEN 28        /* base64 of a SHA-1 */

/* The header values that matter to the handshake, NULL when absent, as
 * the caller's HTTP parser found them (whitespace around them trimmed). */
struct ws_hs {
	const char *upgrade, *connection, *key, *version, *protocol, *accept,
		*extensions;
};

/* Client: a new Sec-WebSocket-Key from 16 random bytes (getrandom);
 * 0, or -1 with errno. */
int ws_key_new(char key[WS_KEY_LEN + 1]);

/* base64(SHA-1(key + RFC 6455's GUID)): the server's Sec-WebSocket-Accept.
 * Keys are at most WS_KEY_LEN characters (ws_check_request refuses any
 * other); for a longer one, out is "". */
void ws_accept(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* Client: append the Upgrade request head for path on host, offering one
 * subprotocol, with the extra header lines (each ending "\r\n"; NULL for
 * none), and the blank line. */
void ws_request_add(struct buf *out, const char *host, const char *path,
		    const char *key, const char *protocol, const char *extra);

/* Server: can this Upgrade request (a GET over HTTP/1.1: the caller's to
 * check) have subprotocol protocol?  WS_HS_OK, or what is wrong, with a
 * phrase for the log in *why:
 *   WS_HS_BAD       400: Upgrade, Connection or the key missing or wrong,
 *                   or an extension asked for
 *   WS_HS_VERSION   426, answered with "Sec-WebSocket-Version: 13"
 *   WS_HS_PROTOCOL  protocol not among those offered (426 in POOL.md 2.3) */
enum { WS_HS_OK = 0, WS_HS_BAD = -1, WS_HS_VERSION = -2, WS_HS_PROTOCOL = -3 };
int ws_check_request(const struct ws_hs *h, const char *protocol,
		     const char **why);

/* Server: append the 101 response head accepting key with protocol (NULL:
 * no Sec-WebSocket-Protocol, for a client that offered none). */
void ws_response_add(struct buf *out, const char *key, const char *protocol);

/* Client: did the server accept (status 101, Upgrade, Connection, the
 * right Accept for our key, exactly our subprotocol, no extension)?
 * 0, or -1 with a phrase for the log in *why. */
int ws_check_response(int status, const struct ws_hs *h, const char *key,
		      const char *protocol, const char **why);

#endif
