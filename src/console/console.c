/* Guest consoles over /console: see console.h and docs/CONSOLES.md.
 *
 * One `struct con` per VM being watched: its terminal (fed with the
 * console log at the first viewer, then with every piece of output) and
 * its viewers.  A viewer is a connection the server handed over after its
 * 101 or 200: RFB (over WebSocket frames or raw after CONNECT) or, for a
 * vt100 console, the raw byte stream both ways.  Every buffer is bounded:
 * an RFB viewer gets rows rendered only when its output has drained; a raw
 * viewer that falls RAW_OUT_MAX behind loses output (as a serial line
 * overruns), never the guest's time nor the other viewers'. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/host.h"
#include "console/console.h"
#include "console/rfb.h"
#include "console/term.h"
#include "http/http.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pool/ws.h"
#include "server/loop.h"
#include "server/tls.h"
#include "vmm/backend.h"

#define MAX_VIEWERS 8           /* per console and kind, as vncterm */
#define IN_MAX (64 * 1024)      /* a viewer's unread input */
#define RAW_OUT_MAX (256 * 1024)
#define WS_FRAME_MAX 16384

struct target {                 /* console_open's choice, for console_adopt */
	char vm[DM_REF_LEN];
	int raw, ws;
};

struct con;

struct viewer {
	struct viewer *next;
	struct con *con;
	int fd, mask, wants_write, ws, raw, closing;
	size_t wlen;                    /* a TLS write to repeat: its length */
	struct tls_conn *tls;
	struct ws_dec dec;
	struct buf in, msg, out, rfb_out;
	struct rfb rfb;
	char peer[64];
};

struct con {
	struct con *next;
	char vm[DM_REF_LEN];
	char name[64];
	struct term term;
	struct viewer *viewers;
};

static struct con *cons;

static void on_io(int fd, int events, void *opaque);
static void pump(struct viewer *v);

/* ---- the route ---- */

static struct obj *resolve(const char *query, struct arena *a, int *raw)
{
	struct dm_class *kv = dm_class_find("VM"), *kc = dm_class_find("console");
	const char *uuid = http_query_get(a, query, "uuid"), *ref = http_query_get(a, query, "ref");
	struct obj *o = NULL, *vm;

	if (uuid && !(o = dm_obj_by_uuid(kv, uuid)))
		o = dm_obj_by_uuid(kc, uuid);
	else if (!uuid && ref && !(o = dm_obj_by_ref_cls(kv, ref)))
		o = dm_obj_by_ref_cls(kc, ref);
	if (!o)
		return NULL;
	*raw = 0;
	if (o->cls == kc) {
		*raw = !strcmp(dm_get_enum(o, FLD(console, protocol)), "vt100");
		vm = dm_obj_by_ref_cls(kv, dm_get_str(o, FLD(console, VM)));
	} else {
		vm = o;         /* a VM: its rfb console */
	}
	return vm;
}

static int refuse(struct buf *resp, int status, const char *why)
{
	http_write_head(resp, status, "text/plain", strlen(why) + 1, 0, NULL);
	buf_addf(resp, "%s\n", why);
	return 0;
}

static struct con *con_find(const char *vmref)
{
	for (struct con *c = cons; c; c = c->next)
		if (!strcmp(c->vm, vmref))
			return c;
	return NULL;
}

static int count(const struct con *c, int raw)
{
	int n = 0;

	for (const struct viewer *v = c ? c->viewers : NULL; v; v = v->next)
		n += v->raw == raw;
	return n;
}

int console_open(const struct http_req *req, struct buf *resp, void **arg)
{
	struct arena a;
	struct target *t;
	struct obj *vm;
	int raw = 0, ws = req->method == HTTP_GET;
	const char *state;

	arena_init(&a, 4096);
	vm = resolve(req->query, &a, &raw);
	arena_free(&a);
	if (!vm)
		return refuse(resp, 404, "no such VM or console (uuid= or ref=)");
	state = dm_get_enum(vm, FLD(VM, power_state));
	if (vm->owner)
		return refuse(resp, 500, "the VM runs on another host of the pool: its consoles "
			      "are not served through the master yet");
	if (strcmp(state, "Running") && strcmp(state, "Paused"))
		return refuse(resp, 500, "the VM is not running");
	if (dm_fv(vm, FLD(VM, is_control_domain))->u.i)
		return refuse(resp, 404, "no console of the control domain here");
	if (raw && ws)
		return refuse(resp, 400, "a vt100 console is a byte stream: CONNECT to it");
	if (count(con_find(vm->ref), raw) >= MAX_VIEWERS)
		return refuse(resp, 503, "Connection Limit Exceeded");
	if (ws) {
		struct ws_hs h = { req->upgrade, req->connection, req->ws_key, req->ws_version,
				   req->ws_protocol, NULL, NULL };
		const char *why, *proto = "binary";
		int r = ws_check_request(&h, proto, &why);

		if (r == WS_HS_PROTOCOL && !req->ws_protocol)
			proto = NULL, r = WS_HS_OK;     /* none offered: none named */
		if (r == WS_HS_VERSION) {
			http_write_head(resp, 426, NULL, 0, 0, "Sec-WebSocket-Version: 13\r\n");
			return 0;
		}
		if (r)
			return refuse(resp, 400, r == WS_HS_PROTOCOL ?
				      "subprotocol: only binary is spoken" : why);
		ws_response_add(resp, req->ws_key, proto);
	} else {
		buf_adds(resp, "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
			 "Cache-Control: no-cache, no-store\r\n\r\n");
	}
	t = xcalloc(1, sizeof(*t));
	snprintf(t->vm, sizeof(t->vm), "%s", vm->ref);
	t->raw = raw;
	t->ws = ws;
	*arg = t;
	return 1;
}

/* ---- consoles ---- */

static void con_free(struct con *c)
{
	for (struct con **pp = &cons; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	term_free(&c->term);
	free(c);
}

static struct con *con_get(const char *vmref)
{
	struct con *c = con_find(vmref);
	struct obj *vm;
	struct buf log = BUF_INIT;

	if (c)
		return c;
	vm = dm_obj_by_ref_cls(dm_class_find("VM"), vmref);
	if (!vm)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	if (term_init(&c->term, TERM_COLS, TERM_ROWS)) {
		free(c);
		return NULL;
	}
	snprintf(c->vm, sizeof(c->vm), "%s", vmref);
	snprintf(c->name, sizeof(c->name), "%s", dm_get_str(vm, FLD(VM, name_label)));
	api_console_log_copy(vmref, &log);      /* the screen as the log left it */
	term_feed(&c->term, log.data, log.len);
	buf_free(&log);
	c->next = cons;
	cons = c;
	return c;
}

/* ---- viewers ---- */

static void viewer_free(struct viewer *v, const char *why)
{
	struct con *c = v->con;

	log_info("console: %s: viewer of %s left: %s", v->peer, c->name, why);
	for (struct viewer **pp = &c->viewers; *pp; pp = &(*pp)->next)
		if (*pp == v) {
			*pp = v->next;
			break;
		}
	loop_unwatch(v->fd);
	tls_conn_free(v->tls);
	close(v->fd);
	buf_free(&v->in);
	buf_free(&v->msg);
	buf_free(&v->out);
	buf_free(&v->rfb_out);
	free(v);
	if (!c->viewers)
		con_free(c);
}

static int watch(struct viewer *v)
{
	int mask = (v->closing ? 0 : LOOP_READ) | (v->out.len || v->wants_write ? LOOP_WRITE : 0);

	if (mask == v->mask)
		return 0;
	v->mask = mask;
	return loop_watch(v->fd, mask, on_io, v);
}

/* > 0 bytes, 0 closed, -1 again, -2 error */
static ssize_t io(struct viewer *v, void *p, size_t n, int wr)
{
	ssize_t r;

	if (v->tls) {
		r = wr ? tls_write(v->tls, p, n) : tls_read(v->tls, p, n);
		if (r == TLS_WANT_WRITE)
			v->wants_write = 1;
		return r >= 0 ? r : r == TLS_WANT_READ || r == TLS_WANT_WRITE ? -1 : -2;
	}
	r = wr ? write(v->fd, p, n) : read(v->fd, p, n);
	return r >= 0 ? r : errno == EAGAIN || errno == EINTR ? -1 : -2;
}

/* Write what the socket takes; then, drained, render more.  0, or -1 when
 * v was freed. */
static int flush(struct viewer *v)
{
	for (;;) {
		while (v->out.len) {
			size_t n = v->wlen ? v->wlen : v->out.len;
			ssize_t r = io(v, v->out.data, n, 1);

			if (r == -1) {
				v->wlen = n;
				goto wait;
			}
			if (r <= 0) {
				viewer_free(v, "write failed");
				return -1;
			}
			v->wlen = 0;
			buf_consume(&v->out, (size_t)r);
		}
		if (v->closing) {
			viewer_free(v, "closed");
			return -1;
		}
		if (!v->raw) {
			if (!v->rfb_out.len)
				rfb_pump(&v->rfb, &v->con->term, &v->rfb_out);
			if (!v->rfb_out.len)
				break;
			if (v->ws)
				for (size_t off = 0; off < v->rfb_out.len; off += WS_FRAME_MAX) {
					size_t k = v->rfb_out.len - off;

					ws_frame_add(&v->out, WS_BIN, 1, v->rfb_out.data + off,
						     k < WS_FRAME_MAX ? k : WS_FRAME_MAX, NULL);
				}
			else
				buf_add(&v->out, v->rfb_out.data, v->rfb_out.len);
			buf_reset(&v->rfb_out);
			continue;
		}
		break;
	}
	if (!v->out.len)
		buf_free(&v->out);      /* idle: no buffer kept */
wait:
	if (watch(v)) {
		viewer_free(v, strerror(errno));
		return -1;
	}
	return 0;
}

static void pump(struct viewer *v)
{
	if (!v->out.len && !v->wants_write)
		flush(v);
}

static void fail(struct viewer *v, unsigned code, const char *why)
{
	log_warn("console: %s: %s", v->peer, why);
	if (v->ws)
		ws_close_add(&v->out, code, why, NULL);
	buf_reset(&v->rfb_out);
	v->closing = 1;
	flush(v);               /* may free v */
}

static void type_keys(void *opaque, const char *p, size_t n)
{
	struct viewer *v = opaque;
	struct obj *vm = dm_obj_by_ref_cls(dm_class_find("VM"), v->con->vm);

	if (vm && dm_fv(vm, FLD(VM, domid))->u.i > 0)
		vmm_console_write(api_vmm, (uint32_t)dm_fv(vm, FLD(VM, domid))->u.i, p, n);
}

/* The payload bytes (after WebSocket framing, if any) are in v->msg. */
static int payload(struct viewer *v)
{
	if (v->raw) {
		type_keys(v, v->msg.data, v->msg.len);
		buf_reset(&v->msg);
		return 0;
	}
	if (rfb_input(&v->rfb, &v->msg, &v->rfb_out, &v->con->term, v->con->name, type_keys, v)) {
		fail(v, WS_CLOSE_PROTOCOL, v->rfb.err);
		return -1;
	}
	if (v->msg.len > IN_MAX) {
		fail(v, WS_CLOSE_TOO_BIG, "too much input");
		return -1;
	}
	return 0;
}

/* The socket's bytes in v->in: frames or a stream. */
static void input(struct viewer *v)
{
	if (!v->ws) {
		buf_add(&v->msg, v->in.data, v->in.len);
		buf_reset(&v->in);
		if (!payload(v))
			pump(v);
		return;
	}
	for (;;) {
		struct ws_frame f;
		size_t len;
		int r = ws_decode(&v->dec, (unsigned char *)v->in.data, v->in.len, &f, &len);

		if (r == WS_NEED_MORE)
			break;
		if (r == WS_ERROR) {
			fail(v, v->dec.fail, v->dec.err);
			return;
		}
		if (f.op == WS_PING) {
			ws_frame_add(&v->out, WS_PONG, 1, f.payload, f.len, NULL);
		} else if (f.op == WS_CLOSE) {
			ws_close_add(&v->out, WS_CLOSE_NORMAL, "", NULL);
			buf_reset(&v->rfb_out);
			v->closing = 1;
			buf_consume(&v->in, len);
			break;
		} else if (f.op != WS_PONG) {
			buf_add(&v->msg, f.payload, f.len);
		}
		buf_consume(&v->in, len);
		if (payload(v))
			return;
	}
	if (v->out.len || v->closing)
		flush(v);
	else
		pump(v);
}

static void on_io(int fd, int events, void *opaque)
{
	struct viewer *v = opaque;
	char tmp[16384];
	ssize_t r;

	(void)fd;
	v->wants_write = 0;
	if ((events & LOOP_WRITE) && flush(v))
		return;
	if (v->closing)
		return;
	for (;;) {
		r = io(v, tmp, sizeof(tmp), 0);
		if (r == -1)
			break;
		if (r <= 0) {
			viewer_free(v, r ? "read failed" : "connection closed");
			return;
		}
		buf_add(&v->in, tmp, (size_t)r);
		if (v->in.len > IN_MAX + WS_MAX_HEAD) {
			fail(v, WS_CLOSE_TOO_BIG, "too much input");
			return;
		}
		if (!v->tls || !tls_pending(v->tls))
			break;
	}
	input(v);
}

void console_adopt(int fd, struct tls_conn *t, const char *peer, struct buf *in, void *arg)
{
	struct target *tg = arg;
	struct con *c = con_get(tg->vm);
	struct viewer *v;

	if (!c) {
		tls_conn_free(t);
		close(fd);
		free(tg);
		return;
	}
	v = xcalloc(1, sizeof(*v));
	v->fd = fd;
	v->tls = t;
	v->con = c;
	v->raw = tg->raw;
	v->ws = tg->ws;
	free(tg);
	snprintf(v->peer, sizeof(v->peer), "%s", peer);
	ws_dec_init(&v->dec, 1, IN_MAX);
	v->next = c->viewers;
	c->viewers = v;
	log_info("console: %s: %s viewer of %s", peer, v->raw ? "vt100" : v->ws ? "RFB (WebSocket)"
		 : "RFB", c->name);
	if (!v->raw)
		rfb_init(&v->rfb, &c->term, &v->rfb_out);
	buf_add(&v->in, in->data, in->len);
	if (v->tls && tls_pending(v->tls))
		on_io(fd, LOOP_READ, v);        /* what TLS already decrypted, then input() */
	else if (v->in.len)
		input(v);
	else
		flush(v);
}

void console_output(const char *vmref, const char *p, size_t n)
{
	struct con *c = con_find(vmref);
	struct viewer *v, *next;

	if (!c)
		return;
	if (!p) {               /* the VM stopped: its viewers go */
		for (v = c->viewers; v; v = next) {
			next = v->next;
			if (v->ws)
				ws_close_add(&v->out, WS_CLOSE_GOING_AWAY, "the VM stopped", NULL);
			buf_reset(&v->rfb_out);
			v->closing = 1;
			flush(v);       /* may free v, and c with the last one */
		}
		return;
	}
	term_feed(&c->term, p, n);
	for (v = c->viewers; v; v = next) {
		next = v->next;
		if (v->raw) {
			if (v->out.len + n > RAW_OUT_MAX)
				continue;       /* it is behind: this output is lost to it */
			buf_add(&v->out, p, n);
			if (!v->wants_write)
				flush(v);
			continue;
		}
		pump(v);
	}
}

void console_dispose(void)
{
	while (cons)            /* each has a viewer; the last one frees it */
		viewer_free(cons->viewers, "shutting down");
}
