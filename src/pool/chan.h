/* One pool channel (docs/POOL.md 2.4), either side: a socket with its TLS,
 * on the daemon's loop, non-blocking.  Before the Upgrade the bytes read
 * go to on_raw (the member reads the master's HTTP answer there); after
 * chan_ws_start they are WebSocket frames: pings answered, pongs noted,
 * messages reassembled and handed to on_msg as text.  Output is written
 * as the socket takes it.  Knows no JSON-RPC method and no datamodel. */
#ifndef XB_POOL_CHAN_H
#define XB_POOL_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "pool/ws.h"

#define POOL_PROTO "xenbox-pool.1"

struct tls_conn;
struct chan;

struct chan_ops {
	/* client: the handshake is over (first call, in empty), or bytes
	 * came before chan_ws_start: consume what was used */
	void (*raw)(struct chan *ch);
	/* a message (NUL-terminated); -1 when the handler freed ch */
	int (*msg)(struct chan *ch, char *s, size_t n);
	/* the channel is gone (why: for the log); ch is freed after */
	void (*closed)(struct chan *ch, const char *why);
};

struct chan {
	int fd;
	struct tls_conn *tls;
	const struct chan_ops *ops;
	void *owner;
	int server, ws, hs_done, closing, mask, wants_write;
	int busy, dead;                 /* freed while frames are handled: kept till then */
	size_t wlen;                    /* a TLS write to repeat: its length */
	struct buf in, out, msg;
	struct ws_dec dec;
	int64_t last_rx;                /* now_ms of the last frame (or byte) */
	unsigned ids;                   /* our JSON-RPC ids: s1.. / m1.. */
	char peer[64];
	char why[72];                   /* chan_close's reason, for closed() */
};

/* Take fd (connected, non-blocking) and t (may be NULL: plain, for tests);
 * NULL, with both closed, when the loop cannot watch it. */
struct chan *chan_new(int fd, struct tls_conn *t, int server, const struct chan_ops *ops,
		      void *owner, const char *peer);
/* From now on frames; bytes already in ch->in are decoded at once. */
void chan_ws_start(struct chan *ch);
/* Queue bytes, and write what the socket takes. */
void chan_write(struct chan *ch, const void *p, size_t n);
/* One text message (masked on the client side). */
void chan_send(struct chan *ch, const struct buf *json);
void chan_ping(struct chan *ch);
/* Send a close frame (code 0: none), then close once written (or at
 * once when nothing can be written); closed() is called. */
void chan_close(struct chan *ch, unsigned code, const char *reason);
/* Close now: closed(why), then free.  ch is gone after (inside msg(), once
 * the frames at hand are handled: a handler whose answer fails to write
 * may go on and return 0; a second call does nothing; writes to a closed
 * channel are dropped). */
void chan_free(struct chan *ch, const char *why);

/* JSON-RPC 2.0 helpers: {"jsonrpc":"2.0","method":M,"params":[ ...
 * the caller emits the parameters into e ... chan_call_end sends with the
 * next id ("s<N>" from the member, "m<N>" from the master). */
struct emit;
void chan_call_begin(struct chan *ch, struct buf *b, struct emit *e, const char *method);
void chan_call_end(struct chan *ch, struct buf *b);
/* A struct member with a string value. */
void chan_kv(struct emit *e, const char *k, const char *v);

#endif
