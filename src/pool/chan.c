/* A pool channel on the daemon's loop (pool/chan.h). */
#include "pool/chan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "rpc/json.h"
#include "server/loop.h"
#include "server/tls.h"

#define CHUNK 16384

static void on_io(int fd, int events, void *opaque);

/* > 0 bytes, 0 closed, -1 again, -2 error */
static ssize_t io(struct chan *ch, void *p, size_t n, int wr)
{
	ssize_t r;

	if (ch->tls) {
		r = wr ? tls_write(ch->tls, p, n) : tls_read(ch->tls, p, n);
		if (r == TLS_WANT_WRITE)
			ch->wants_write = 1;
		return r >= 0 ? r : r == TLS_WANT_READ || r == TLS_WANT_WRITE ? -1 : -2;
	}
	r = wr ? write(ch->fd, p, n) : read(ch->fd, p, n);
	return r >= 0 ? r : errno == EAGAIN || errno == EINTR ? -1 : -2;
}

static int watch(struct chan *ch)
{
	int mask = LOOP_READ | (ch->out.len || ch->wants_write ? LOOP_WRITE : 0);

	if (mask == ch->mask)
		return 0;
	ch->mask = mask;
	return loop_watch(ch->fd, mask, on_io, ch);
}

struct chan *chan_new(int fd, struct tls_conn *t, int server, const struct chan_ops *ops,
		      void *owner, const char *peer)
{
	struct chan *ch = xcalloc(1, sizeof(*ch));

	ch->fd = fd;
	ch->tls = t;
	ch->server = ch->hs_done = server;
	ch->ops = ops;
	ch->owner = owner;
	ch->last_rx = now_ms();
	snprintf(ch->peer, sizeof(ch->peer), "%s", peer);
	ch->wants_write = !server;      /* a client's ClientHello goes first */
	if (watch(ch)) {
		log_warn("pool: %s: %s", peer, strerror(errno));
		tls_conn_free(t);
		close(fd);
		free(ch);
		return NULL;
	}
	return ch;
}

static void release(struct chan *ch)
{
	buf_free(&ch->in);
	buf_free(&ch->out);
	buf_free(&ch->msg);
	free(ch);
}

void chan_free(struct chan *ch, const char *why)
{
	if (ch->dead)
		return;
	ch->dead = 1;
	ch->ops->closed(ch, why);
	loop_unwatch(ch->fd);
	tls_conn_free(ch->tls);
	close(ch->fd);
	if (!ch->busy)          /* else frames() does, at its end */
		release(ch);
}

/* Write what the socket takes.  A TLS write that said "again" is repeated
 * with the same length (mbedTLS then only flushes its record).  0, or -1
 * when ch was freed. */
static int flush(struct chan *ch)
{
	while (ch->out.len) {
		size_t n = ch->wlen ? ch->wlen : ch->out.len;
		ssize_t r = io(ch, ch->out.data, n, 1);

		if (r == -1) {
			ch->wlen = n;
			break;
		}
		if (r <= 0) {
			chan_free(ch, "write failed");
			return -1;
		}
		ch->wlen = 0;
		buf_consume(&ch->out, (size_t)r);
	}
	if (!ch->out.len)       /* idle: no buffer kept (a sync's may be MiBs) */
		buf_free(&ch->out);
	if (!ch->out.len && ch->closing) {
		chan_free(ch, ch->why);
		return -1;
	}
	if (watch(ch)) {
		chan_free(ch, strerror(errno));
		return -1;
	}
	return 0;
}

void chan_write(struct chan *ch, const void *p, size_t n)
{
	if (ch->dead)
		return;         /* its descriptor may be another's by now */
	buf_add(&ch->out, p, n);
	if (ch->hs_done && !ch->wants_write)
		flush(ch);      /* may free ch: callers return after */
	else
		watch(ch);
}

static void frame(struct chan *ch, int op, const void *p, size_t n)
{
	unsigned char mask[4];

	if (ch->dead)
		return;
	if (!ch->server && ws_mask_new(mask)) {
		chan_free(ch, "no random numbers");
		return;
	}
	ws_frame_add(&ch->out, op, 1, p, n, ch->server ? NULL : mask);
	chan_write(ch, "", 0);
}

void chan_send(struct chan *ch, const struct buf *json)
{
	frame(ch, WS_TEXT, json->data, json->len);
}

void chan_ping(struct chan *ch)
{
	frame(ch, WS_PING, "", 0);
}

void chan_close(struct chan *ch, unsigned code, const char *reason)
{
	unsigned char mask[4] = { 0, 0, 0, 0 };

	if (ch->closing || ch->dead)
		return;
	ch->closing = 1;
	snprintf(ch->why, sizeof(ch->why), "%s", reason ? reason : "closed");
	if (ch->ws) {
		ws_mask_new(mask);
		ws_close_add(&ch->out, code, reason, ch->server ? NULL : mask);
	}
	if (!ch->hs_done)
		chan_free(ch, reason);
	else
		flush(ch);
}

/* Decode the frames in ch->in.  0, or -1 when ch is gone or closing (not
 * to be touched).  ch is kept while they are handled (busy): a free on the
 * way (a pong or a handler's answer that fails to write) takes effect at
 * the end. */
static int frames(struct chan *ch)
{
	struct ws_frame f;
	size_t used;
	int r, rc = 0;

	ch->busy = 1;
	while (!rc && !ch->dead && ch->ws && ch->in.len) {
		r = ws_decode(&ch->dec, (unsigned char *)ch->in.data, ch->in.len, &f, &used);
		if (r == WS_NEED_MORE)
			break;
		rc = -1;
		if (r == WS_ERROR) {
			log_warn("pool: %s: %s", ch->peer, ch->dec.err);
			chan_close(ch, ch->dec.fail, ch->dec.err);
			break;
		}
		ch->last_rx = now_ms();
		if (f.op == WS_CLOSE) {
			char why[140];

			snprintf(why, sizeof(why), "closed by the peer: %u %.*s", f.close_code,
				 (int)f.reason_len, f.reason);
			ch->in.len = 0;
			if (ch->closing)
				chan_free(ch, why);
			else    /* echo the code (RFC 6455 5.5.1), then close */
				chan_close(ch, f.close_code == WS_CLOSE_NO_CODE ? 0 : f.close_code,
					   why);
			break;
		}
		rc = 0;
		if (f.op == WS_PING) {
			frame(ch, WS_PONG, f.payload, f.len);
		} else if (f.op != WS_PONG) {
			buf_add(&ch->msg, f.payload, f.len);
			if (f.fin) {
				buf_addc(&ch->msg, 0);
				buf_consume(&ch->in, used);
				rc = ch->ops->msg(ch, ch->msg.data, ch->msg.len - 1);
				buf_free(&ch->msg);
				continue;
			}
		}
		buf_consume(&ch->in, used);
	}
	ch->busy = 0;
	if (ch->dead) {
		release(ch);
		return -1;
	}
	if (!ch->in.len)        /* idle: freed whole, not kept at its peak */
		buf_free(&ch->in);
	return rc;
}

static void on_io(int fd, int events, void *opaque)
{
	struct chan *ch = opaque;
	char tmp[CHUNK];
	ssize_t r;

	(void)fd;
	ch->wants_write = 0;
	if (!ch->hs_done) {
		r = tls_handshake(ch->tls);
		if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
			ch->wants_write = r == TLS_WANT_WRITE;
			watch(ch);
			return;
		}
		if (r) {
			chan_free(ch, "TLS handshake failed");
			return;
		}
		ch->hs_done = 1;
		ch->ops->raw(ch);
		return;
	}
	if ((events & LOOP_WRITE) && ch->out.len && flush(ch))
		return;
	for (;;) {
		r = io(ch, tmp, sizeof(tmp), 0);
		if (r == -1)
			break;
		if (r <= 0) {
			chan_free(ch, *ch->why ? ch->why : r ? "read failed" : "connection closed");
			return;
		}
		buf_add(&ch->in, tmp, (size_t)r);
		if (ch->ws && ch->in.len > WS_MAX_MSG + 64 * 1024) {
			chan_close(ch, WS_CLOSE_TOO_BIG, "too much");
			return;
		}
		if (!ch->tls || !tls_pending(ch->tls))
			break;
	}
	if (ch->ws)
		chan_ws_start(ch);
	else if (ch->in.len && !ch->closing)
		ch->ops->raw(ch);
	else
		watch(ch);
}

void chan_ws_start(struct chan *ch)
{
	if (!ch->ws) {
		ch->ws = 1;
		ws_dec_init(&ch->dec, ch->server, 0);
	}
	if (!frames(ch))
		watch(ch);
}

void chan_call_begin(struct chan *ch, struct buf *b, struct emit *e, const char *method)
{
	(void)ch;
	buf_reset(b);
	buf_addf(b, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":", method);
	json_emit_init(e, b);
	emit_array_begin(e);
}

void chan_call_end(struct chan *ch, struct buf *b)
{
	buf_addf(b, "],\"id\":\"%c%u\"}", ch->server ? 'm' : 's', ++ch->ids);
	chan_send(ch, b);
}

void chan_kv(struct emit *e, const char *k, const char *v)
{
	emit_member(e, k);
	emit_str(e, v);
}
