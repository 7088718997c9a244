/* HTTP/1.1 connections: accept, read, parse, route, reply in order.
 *
 * Requests on a connection are handled one at a time in arrival order
 * (pipelining keeps its order); a call that waits (event.from, a clean
 * shutdown) holds the requests behind it.  Replies are queued, and only
 * written after the store has committed what they acknowledge: see
 * server_before_sleep().
 *
 * Backpressure, per connection: a connection whose client has more than
 * CONN_OUT_HIGH bytes of replies unread starts no new request (its reply
 * could be megabytes: VM.get_all_records) until they are below
 * CONN_OUT_LOW.  Over all connections, while more than OUT_HIGH bytes wait,
 * only connections with nothing unread start requests (down to OUT_LOW), so
 * the memory stays bounded and a client that reads nothing holds up only
 * itself, never the readers.
 *
 * Every byte for a client goes through queue_out(), which counts it in
 * out_queued; the bytes are written by flush() only, after the store
 * committed (server_flush_output), never straight from an event.
 *
 * A reply whose call changed the datamodel (dm_gen moved while it ran) is
 * "held" until the store has saved every change made since the call
 * began (the daemon's saved_since, store_saved_since); the replies behind
 * it on its connection wait with it, in order.  Other replies go out, so
 * reads are answered while the disk fails (docs/DAEMON.md).  Positions
 * are counts of bytes queued and written on the connection, whichever of
 * out and more holds them.
 *
 * Limits: 300 KiB bodies (as XAPI: larger gets 500 and a close), request
 * heads per http_default_limits, a head must arrive within HEAD_TIMEOUT_MS,
 * a reply that makes no progress for SEND_TIMEOUT_MS closes the connection,
 * idle keep-alive connections close after IDLE_TIMEOUT_MS.  Connections:
 * SERVER_MAX_CONNS over TCP, SERVER_MAX_PER_PEER from one address (TLS
 * connections whose ClientHello names the pool apart: peek_hello) and
 * SERVER_MAX_UNIX on the Unix socket, each its own budget; at a limit the
 * longest idle connection that may go makes room (evictable()), and when
 * none may, the new one is refused.  accept() out of descriptors
 * (EMFILE) also makes room so, or pauses the listeners for
 * ACCEPT_PAUSE_MS instead of spinning on them.  See docs/DAEMON.md.
 *
 * Fairness: a TLS handshake step (an ECDSA signature, an ECDHE: ~6 ms of
 * a slow core each) is the costliest work anyone can ask of the loop
 * unauthenticated, and a reply waits for the end of its loop iteration.
 * So an iteration does at most HS_STEPS handshake reads; a connection
 * beyond them is left as it is (epoll is level-triggered: it is reported
 * again in the next iteration), and a storm of handshakes delays an
 * established client by a few steps, not by every handshake that is ready.
 */
#include "server/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "api/api.h"
#include "api/host.h"
#include "http/http.h"
#include "lib/log.h"
#include "lib/util.h"
#include "rpc/json.h"
#include "rpc/xmlrpc.h"
#include "server/loop.h"
#ifdef CONFIG_XB_STATS
#include "stats/collector.h"
#endif
#ifdef CONFIG_XB_TLS
#include "server/tls.h"
#endif

#define MAX_BODY (300 * 1024)
#define REQ_ARENA_LIMIT (8u << 20)
#define HEAD_TIMEOUT_MS 60000
#define IDLE_TIMEOUT_MS 300000
#define READ_CHUNK 16384
#define OUT_HIGH (16u << 20)
#define OUT_LOW (4u << 20)
#define CONN_OUT_HIGH (4u << 20)
#define CONN_OUT_LOW (1u << 20)
#define SEND_TIMEOUT_MS 60000
#define ACCEPT_PAUSE_MS 1000
#define HS_STEPS 2              /* TLS handshake reads per loop iteration */

/* The system calls of a connection; tests/fuzz/fuzz_conn.c includes this
 * file with its own (short reads and writes, EAGAIN, EMFILE). */
#ifndef XB_CONN_SYSCALLS
#define sys_read read
#define sys_write write
#define sys_accept4 accept4
#define sys_close close
#define sys_peek(fd, b, n) recv((fd), (b), (n), MSG_PEEK)
#endif

struct conn {
	int fd;
	int local_root;
	int unix_sock;                  /* on the Unix socket: its own budget */
	int mask;                       /* what the loop watches */
	struct tls_conn *tls;           /* NULL: plain */
	int tls_wants_write;            /* the handshake waits to write */
	size_t tls_wlen;                /* a TLS write to finish: its length */
	int wblocked;                   /* the last write would block */
	unsigned served;                /* requests routed */
	char peer[64];
	struct buf in, out;
	size_t out_off;                 /* bytes of out already written */
	struct buf more;                /* replies queued while a TLS write of
					 * out waits: out must not move */
	struct arena a;
	struct call *busy;              /* a call waiting to complete */
	struct buf call_out;
	struct emit e;
	int keep_alive, closing, in_process, json, list_methods;
	int upgrade;                    /* a 101 queued: the pool takes it once written */
	void *console;                  /* a 101 or 200 queued: the console's once written */
	int hello_known;                /* the ClientHello was peeked at */
	int pool_hs;                    /* ... and names the pool: counted apart */
	int stalled;                    /* waits for the reply queue to drain */
	int plain_net;                  /* plain HTTP from beyond loopback */
	int continued;                  /* "100 Continue" sent for this request */
	struct rpc_call rc;
	int64_t since;                  /* first byte of the pending request */
	int64_t active;                 /* last byte read */
	int64_t out_since;              /* last write progress, or output queued */
	uint64_t queued, written;       /* bytes ever queued, written */
	uint64_t held_at;               /* held replies begin at this queued */
	uint64_t held_gen;              /* ... and wait for changes after this */
	int held;
	uint64_t call_gen;              /* dm_gen when the current call began */
	struct conn *next, *prev;
};

static struct conn *conns;
static int ntcp, nunix;
static struct listener {
	int fd;
	int unix_sock;
	int tls;
} listeners[8];
static int nlisteners;
static int64_t paused_until;            /* accept() ran out of descriptors */
static int want_flush;
static size_t out_queued;               /* reply bytes not yet written */
static int nheld;                       /* connections with held replies */
static int any_stalled;
static int hs_steps;                    /* this iteration's (HS_STEPS) */

static void conn_close(struct conn *c);
static void conn_drop(struct conn *c, int keep_fd);
#if defined(CONFIG_XB_TLS) && defined(CONFIG_XB_POOL)
static void peek_hello(struct conn *c);
#endif
static void process(struct conn *c);
#ifdef CONFIG_XB_POOL
int (*server_pool_upgrade)(struct tls_conn *t, const struct http_req *req, int pw,
			   const char *peer, struct buf *resp);
void (*server_pool_adopt)(int fd, struct tls_conn *t, const char *peer, struct buf *in);
int (*server_pool_relay)(struct arena *a, const struct http_req *req, struct call *c,
			 struct relay_res *r);
#endif
#ifdef CONFIG_XB_CONSOLE
#define CONSOLE_OF(c) ((c)->console)    /* an HTTP/1.0 CONNECT stays open */
int (*server_console_open)(const struct http_req *req, struct buf *resp, void **arg);
void (*server_console_adopt)(int fd, struct tls_conn *t, const char *peer, struct buf *in,
			     void *arg);
#endif
#ifndef CONSOLE_OF
#define CONSOLE_OF(c) 0
#endif
static void on_io(int fd, int events, void *opaque);

/* ---- replies ---- */

static size_t unwritten(const struct conn *c)
{
	return c->out.len - c->out_off + c->more.len;
}

/* What flush() may write now: the unwritten bytes before held replies. */
static size_t writable(const struct conn *c)
{
	return c->held ? (size_t)(c->held_at - c->written) : unwritten(c);
}

/* The one writer of a connection's output: a head (status 100: the bare
 * interim "100 Continue"; 0: none, the parts are the whole response) and
 * the body parts, counted in out_queued. */
static void queue_out(struct conn *c, int status, const char *ctype, const char *extra,
		      const struct iovec *v, int nv)
{
	/* after a TLS write said "again", mbedTLS wants the same (pointer,
	 * length) again: c->out must not move, later bytes go to c->more */
	struct buf *b = c->tls_wlen || c->more.len ? &c->more : &c->out;
	size_t before = b->len, len = 0;

	for (int i = 0; i < nv; i++)
		len += v[i].iov_len;
	if (!unwritten(c))
		c->out_since = now_ms();
	if (status == 100)
		buf_adds(b, "HTTP/1.1 100 Continue\r\n\r\n");
	else if (status)
		http_write_head(b, status, ctype, len, c->keep_alive && !c->closing, extra);
	buf_reserve(b, len);
	for (int i = 0; i < nv; i++)
		buf_add(b, v[i].iov_base, v[i].iov_len);
	out_queued += b->len - before;
	c->queued += b->len - before;
	want_flush = 1;
}

static void reply(struct conn *c, int status, const char *ctype, const char *body,
		  size_t len, const char *extra)
{
	struct iovec v = { (void *)body, len };

	queue_out(c, status, ctype, extra, &v, 1);
}

static void reply_status(struct conn *c, int status, int close_after)
{
	char body[160];
	int n = xsnprintf(body, sizeof(body), "<html><body><h1>HTTP %d %s</h1></body></html>",
			  status, http_reason(status));

	if (close_after)
		c->closing = 1;
	reply(c, status, "text/html", body, n < 0 ? 0 : (size_t)n, NULL);
}

#define CORS "Access-Control-Allow-Origin: *\r\n"

/* Buffers larger than this are freed once used, so an idle connection
 * does not keep the memory of its largest reply. */
#define KEEP_BUF (64 * 1024)

static void trim_buf(struct buf *b)
{
	if (!b->len && b->cap > KEEP_BUF)
		buf_free(b);
}

/* The XenAPI envelope around the emitted value (or the failure).  The
 * value is copied once, from the call's buffer into the connection's
 * output, behind the HTTP head and the envelope's prefix. */
static void finish_call(struct call *call)
{
	struct conn *c = call->conn;
	struct buf pre = BUF_INIT, post = BUF_INIT;
	const struct buf *val = call->out;
	int with_value = !call->nerr;

	if (c->json) {
		if (call->nerr) {
			jsonrpc_error(&pre, &c->rc, call->err, (size_t)call->nerr);
		} else {
			jsonrpc_result_begin(&pre, &c->rc);
			jsonrpc_result_end(&post, &c->rc);
		}
	} else {
		xmlrpc_response_begin(&pre);
		if (c->list_methods && !call->nerr) {
			/* system.listMethods is answered unwrapped, as XAPI does */
		} else if (!call->nerr) {
			buf_adds(&pre, "<value><struct><member><name>Status</name><value>Success"
				 "</value></member><member><name>Value</name>");
			buf_adds(&post, "</member></struct></value>");
		} else {
			buf_adds(&pre, "<value><struct><member><name>Status</name><value>Failure"
				 "</value></member><member><name>ErrorDescription</name>"
				 "<value><array><data>");
			for (int i = 0; i < call->nerr; i++) {
				buf_adds(&pre, "<value>");
				xml_escape(&pre, call->err[i], strlen(call->err[i]));
				buf_adds(&pre, "</value>");
			}
			buf_adds(&pre, "</data></array></value></member></struct></value>");
		}
		xmlrpc_response_end(&post);
	}
	if (dm_gen != c->call_gen && !c->held) {
		/* the call changed something: its reply waits for the store */
		c->held = 1;
		c->held_at = c->queued;
		c->held_gen = c->call_gen;
		nheld++;
	}
	{
		struct iovec v[3] = { { pre.data, pre.len },
				      { with_value ? val->data : NULL, with_value ? val->len : 0 },
				      { post.data, post.len } };

		queue_out(c, 200, c->json ? "application/json" : "text/xml", CORS, v, 3);
	}
	buf_free(&pre);
	buf_free(&post);
	c->busy = NULL;
	arena_free(&c->a);
	buf_reset(&c->call_out);
	trim_buf(&c->call_out);
	if (!c->in_process)
		process(c);
}

static void run_rpc(struct conn *c, const char *body, size_t len, int json)
{
	struct call *call = arena_alloc(&c->a, sizeof(*call));
	const char *err = NULL;
	int r;

	c->json = json;
	memset(&c->rc, 0, sizeof(c->rc));
	r = json ? jsonrpc_parse_call(&c->a, body, len, &c->rc, &err)
		 : xmlrpc_parse_call(&c->a, body, len, &c->rc, &err);
	if (r || !call) {
		log_debug("server: bad %s request from %s: %s", json ? "JSON-RPC" : "XML-RPC",
			  c->peer, err ? err : "out of memory");
		arena_free(&c->a);
		reply_status(c, 500, 0);
		return;
	}
	c->list_methods = !strcmp(c->rc.method, "system.listMethods");
	buf_reset(&c->call_out);
	if (json)
		json_emit_init(&c->e, &c->call_out);
	else
		xmlrpc_emit_init(&c->e, &c->call_out);
	call->a = &c->a;
	call->e = &c->e;
	call->out = &c->call_out;
	call->method = c->rc.method;
	call->params = c->rc.params;
	call->local_root = c->local_root;
	call->peer = c->peer;
	call->complete = finish_call;
	call->conn = c;
	c->busy = call;
	c->call_gen = dm_gen;
	api_dispatch(call);
}

/* ---- GET handlers: credentials as XAPI's ----
 * ?session_id= if given, else Authorization: Basic (root's password: the
 * hash may answer later, so the request waits as a call, c->busy); the
 * Unix socket's root needs neither.  Each handler answers 401 for a known
 * path without credentials, so an unknown path stays 403 and costs no
 * hash.  The realm is XAPI's handler name (get_rrd_updates, ...). */

struct get_call {
	struct call call;
	struct http_req req;            /* its strings live in c->a */
};

static void reply_401(struct conn *c, const char *path)
{
	static const char body[] = "<html><body><h1>HTTP 401 Unauthorised</h1></body></html>";
	char extra[80];

	snprintf(extra, sizeof(extra), "WWW-Authenticate: Basic realm=\"get_%.32s\"\r\n", path + 1);
	reply(c, 401, "text/html", body, sizeof(body) - 1, extra);
}

/* After an answer with credentials: ?task_id= completes (api/task.c) */
static void get_done(struct conn *c, const struct http_req *req, int status)
{
	if (status != 401)
		api_task_http_done(http_query_get(&c->a, req->query, "task_id"), status);
}

/* The GET routes but "/": a status (-1: none such; 401: credentials
 * wanted), the body into b. */
static int local_get(struct arena *a, const char *path, const char *query, const char *accept,
		     int authed, struct buf *b, const char **ctype)
{
	if (!strcmp(path, "/console_log")) {
		*ctype = "text/plain; charset=utf-8";
		return api_console_log_get(authed, http_query_get(a, query, "ref"),
					   http_query_get(a, query, "uuid"), b);
	}
#ifdef CONFIG_XB_STATS
	return stats_http(a, path, query, accept, authed, b, ctype);
#else
	(void)accept;
	return -1;
#endif
}

#ifdef CONFIG_XB_POOL
int server_get_local(struct arena *a, const char *path, const char *query, const char *accept,
		     struct buf *b, const char **ctype)
{
	return local_get(a, path, query, accept, 1, b, ctype);
}

/* ---- GETs relayed to another host of the pool (docs/POOL.md 7.3) ---- */

struct relay_call {
	struct call call;               /* call.conn: &res */
	struct relay_res res;           /* res.conn: the connection */
	struct http_req req;
};

static void relay_reply(struct conn *c, struct relay_call *g, int status)
{
	if (status == 200 || g->res.body.len)
		reply(c, status, *g->res.ctype ? g->res.ctype : "text/plain",
		      g->res.body.data ? g->res.body.data : "", g->res.body.len, CORS);
	else
		reply_status(c, status, 0);
	buf_free(&g->res.body);
	get_done(c, &g->req, status);
}

static void relay_done(struct call *call)
{
	struct relay_call *g = (struct relay_call *)call;
	struct conn *c = g->res.conn;

	c->busy = NULL;
	relay_reply(c, g, g->res.status);
	arena_free(&c->a);
	if (!c->in_process)
		process(c);
}

/* Waits as a call (c->busy) until the member answers. */
static int relay(struct conn *c, const struct http_req *req, int authed)
{
	struct relay_call *g;
	int r, in = c->in_process;

	if (!authed)
		return 401;
	if (!(g = arena_alloc(&c->a, sizeof(*g)))) {
		reply_status(c, 500, 0);
		return 0;
	}
	memset(g, 0, sizeof(*g));
	g->req = *req;
	g->call.a = &c->a;
	g->call.peer = c->peer;
	g->call.complete = relay_done;
	g->call.conn = &g->res;
	g->res.conn = c;
	c->busy = &g->call;
	c->in_process = 1;      /* an answer at once (a failed write) must not
				 * start the next request under our caller */
	r = server_pool_relay(&c->a, req, &g->call, &g->res);
	c->in_process = in;
	if (r != 1) {
		c->busy = NULL;
		relay_reply(c, g, r);
	}
	return 0;
}
#endif

/* Answers, or returns 401 without answering. */
static int get_route(struct conn *c, const struct http_req *req, int authed)
{
	struct buf b = BUF_INIT;
	const char *ctype = "text/plain";
	int status;

	if (!strcmp(req->path, "/")) {
		static const char page[] = "<html><body>xenbox " XB_VERSION
					   ": XenAPI on POST / and /jsonrpc</body></html>";

		reply(c, 200, "text/html", page, sizeof(page) - 1, NULL);
		return 0;
	}
#ifdef CONFIG_XB_POOL
	if (server_pool_relay && (status = server_pool_relay(&c->a, req, NULL, NULL)) >= 0) {
		if (!status)
			return relay(c, req, authed);
		reply_status(c, status, 0);
		return 0;
	}
#endif
	status = local_get(&c->a, req->path, req->query, req->accept, authed, &b, &ctype);
	if (status == 200)
		reply(c, 200, ctype, b.data ? b.data : "", b.len, CORS);
	else if (status > 0 && status != 401)
		reply_status(c, status, 0);
	buf_free(&b);
	if (status < 0) {
		reply_status(c, 403, 0);
		return 0;
	}
	get_done(c, req, status);
	return status == 401 ? 401 : 0;
}

static void get_checked(struct call *call)
{
	struct get_call *g = (struct get_call *)call;
	struct conn *c = call->conn;

	c->busy = NULL;
	if (call->nerr || get_route(c, &g->req, 1) == 401)
		reply_401(c, g->req.path);
	if (c->busy)
		return;         /* a relayed GET waits (its arena with it) */
	arena_free(&c->a);
	if (!c->in_process)
		process(c);
}

/* Checks Basic credentials in the worker (api_http_basic); complete gets
 * the request back as a struct get_call.  -1 when out of memory. */
static int basic_check(struct conn *c, const struct http_req *req, const char *user,
		       const char *pass, void (*complete)(struct call *))
{
	struct get_call *g = arena_alloc(&c->a, sizeof(*g));

	if (!g)
		return -1;
	g->req = *req;
	g->call.a = &c->a;
	g->call.peer = c->peer;
	g->call.complete = complete;
	g->call.conn = c;
	c->busy = &g->call;
	api_http_basic(&g->call, user, pass);
	return 0;
}

static void run_get(struct conn *c, const struct http_req *req)
{
	const char *sid = http_query_get(&c->a, req->query, "session_id"), *user, *pass;
	int r;

	if (get_route(c, req, c->local_root || api_session_use(sid)) != 401)
		return;
	r = sid ? 1 : http_basic_auth(&c->a, req->authorization, &user, &pass);
	if (r < 0) {
		reply_status(c, 400, 0);
		return;
	}
	if (r) {
		reply_401(c, req->path);
		return;
	}
	if (basic_check(c, req, user, pass, get_checked))
		reply_status(c, 500, 0);
}

#ifdef CONFIG_XB_POOL
/* GET /pool/ws: the pool's hook decides; its 101 is held like a reply
 * whose call changed the datamodel (the new pool_member record). */
static void pool_ws_answer(struct conn *c, const struct http_req *req, int pw)
{
	struct buf r = BUF_INIT;
	struct iovec v;

	c->call_gen = dm_gen;
	c->upgrade = server_pool_upgrade(c->tls, req, pw, c->peer, &r) == 1;
	if (dm_gen != c->call_gen && !c->held) {
		c->held = 1;
		c->held_at = c->queued;
		c->held_gen = c->call_gen;
		nheld++;
	}
	if (!c->upgrade)
		c->closing = 1;
	v.iov_base = r.data;
	v.iov_len = r.len;
	queue_out(c, 0, NULL, NULL, &v, 1);
	buf_free(&r);
}

static void pool_ws_checked(struct call *call)
{
	struct get_call *g = (struct get_call *)call;
	struct conn *c = call->conn;

	/* 2: refused unchecked, the address over its failed-login limit */
	pool_ws_answer(c, &g->req, !call->nerr ? 1 : call->nerr > 2 && !strncmp(call->err[2],
		       API_AUTH_LIMITED, sizeof(API_AUTH_LIMITED) - 1) ? 2 : 0);
	c->busy = NULL;
	arena_free(&c->a);
}

static void pool_ws(struct conn *c, const struct http_req *req)
{
	const char *user, *pass;
	int r = http_basic_auth(&c->a, req->authorization, &user, &pass);

	if (r || basic_check(c, req, user, pass, pool_ws_checked))
		pool_ws_answer(c, req, r < 0 ? 0 : -1);
}
#endif

#ifdef CONFIG_XB_CONSOLE
/* /console (docs/CONSOLES.md): credentials as the GET routes', the
 * session also from the Cookie (XenCenter, Xen Orchestra). */
static void console_answer(struct conn *c, const struct http_req *req, int authed)
{
	struct buf r = BUF_INIT;
	struct iovec v;

	if (!authed) {
		reply_401(c, req->path);
		return;
	}
	if (server_console_open(req, &r, &c->console) != 1)
		c->closing = 1;
	v.iov_base = r.data;
	v.iov_len = r.len;
	queue_out(c, 0, NULL, NULL, &v, 1);
	buf_free(&r);
}

static void console_checked(struct call *call)
{
	struct get_call *g = (struct get_call *)call;
	struct conn *c = call->conn;

	c->busy = NULL;
	console_answer(c, &g->req, !call->nerr);
	arena_free(&c->a);
	if (!c->in_process)
		process(c);
}

static const char *cookie_session(struct arena *a, const char *cookie)
{
	for (const char *p = cookie; p && *p; p += strspn(p, "; ")) {
		size_t n = strcspn(p, ";");

		if (!strncmp(p, "session_id=", 11)) {
			char *s = arena_alloc(a, n - 10);

			if (s) {
				memcpy(s, p + 11, n - 11);
				s[n - 11] = 0;
			}
			return s;
		}
		p += n;
	}
	return NULL;
}

static void console_route(struct conn *c, const struct http_req *req)
{
	const char *sid = cookie_session(&c->a, req->cookie), *user, *pass;
	int r;

	if (!sid)
		sid = http_query_get(&c->a, req->query, "session_id");
	if (c->local_root || api_session_use(sid)) {
		console_answer(c, req, 1);
		return;
	}
	r = sid ? 1 : http_basic_auth(&c->a, req->authorization, &user, &pass);
	if (r < 0)
		reply_status(c, 400, 0);
	else if (r || basic_check(c, req, user, pass, console_checked))
		console_answer(c, req, 0);
}
#endif

static void route(struct conn *c, const struct http_req *req, const char *body, size_t len)
{
#ifdef CONFIG_XB_CONSOLE
	if (server_console_open && !strcmp(req->path, "/console") &&
	    (req->method == HTTP_CONNECT || (req->method == HTTP_GET && req->upgrade))) {
		console_route(c, req);
		return;
	}
#endif
	if (req->method == HTTP_OPTIONS) {
		struct buf extra = BUF_INIT;    /* the echoed header is up to a line (1 KiB) */

		buf_addf(&extra, CORS "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
			 "Access-Control-Allow-Headers: %s\r\n",
			 req->ac_request_headers ? req->ac_request_headers : "content-type");
		reply(c, 200, "text/plain", "", 0, extra.data);
		buf_free(&extra);
		return;
	}
	if (req->method == HTTP_POST) {
		/* longest prefix: /jsonrpc, else XML-RPC for every path (/, /RPC2,
		 * Xen Orchestra's /xmlrpc) */
		if (!strncmp(req->path, "/jsonrpc", 8)) {
#ifdef CONFIG_XB_JSONRPC
			run_rpc(c, body, len, 1);
#else
			reply_status(c, 403, 0);
#endif
			return;
		}
		run_rpc(c, body, len, 0);
		return;
	}
	if (req->method == HTTP_GET) {
#ifdef CONFIG_XB_POOL
		if (server_pool_upgrade && !strcmp(req->path, "/pool/ws")) {
			pool_ws(c, req);
			return;
		}
#endif
		run_get(c, req);
		return;
	}
	reply_status(c, 403, 0);
}

/* Handle every complete request in c->in, in order, until one waits. */
static void process(struct conn *c)
{
	c->in_process = 1;
	while (!c->busy && !c->closing && !c->upgrade && !c->console && c->in.len) {
		if (unwritten(c) > CONN_OUT_HIGH || (out_queued > OUT_HIGH && unwritten(c))) {
			c->stalled = any_stalled = 1;
			break;
		}
		struct http_req req;
		size_t head = 0;
		int status = 0, r;

		arena_init(&c->a, REQ_ARENA_LIMIT);
		r = http_parse_request(&c->a, c->in.data, c->in.len, &http_default_limits,
				       &req, &head, &status);
		if (r == HTTP_NEED_MORE) {
			arena_free(&c->a);
			break;
		}
		if (r == HTTP_PARSE_ERROR) {
			arena_free(&c->a);
			c->keep_alive = 0;
			reply_status(c, status ? status : 400, 1);
			break;
		}
		c->keep_alive = req.keep_alive;
		if (req.content_length > MAX_BODY) {
			/* refused before reading, as XAPI: 500 and close */
			arena_free(&c->a);
			c->keep_alive = 0;
			reply_status(c, 500, 1);
			break;
		}
		if (req.content_length < 0)
			req.content_length = 0;
		if (c->in.len < head + (size_t)req.content_length) {
			if (req.expect_continue && c->in.len == head && !c->continued) {
				queue_out(c, 100, NULL, NULL, NULL, 0);
				c->continued = 1;
			}
			arena_free(&c->a);
			break;
		}
		c->served++;
		c->continued = 0;
		route(c, &req, c->in.data + head, (size_t)req.content_length);
		if (!c->keep_alive && !CONSOLE_OF(c))
			c->closing = 1;         /* as the reply says: "close" */
		buf_consume(&c->in, head + (size_t)req.content_length);
		c->since = c->in.len ? now_ms() : 0;
		if (!c->busy)
			arena_free(&c->a);
	}
	c->in_process = 0;
}

/* > 0 bytes, 0 closed, IO_AGAIN, IO_ERROR */
#define IO_AGAIN (-1)
#define IO_ERROR (-2)

static ssize_t io_map(struct conn *c, ssize_t r)
{
#ifdef CONFIG_XB_TLS
	if (c->tls) {
		if (r == TLS_WANT_WRITE) {
			c->tls_wants_write = 1;
			return IO_AGAIN;
		}
		return r == TLS_WANT_READ ? IO_AGAIN : r < 0 ? IO_ERROR : r;
	}
#endif
	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? IO_AGAIN : IO_ERROR;
	return r;
}

static ssize_t io_read(struct conn *c, void *buf, size_t n)
{
#ifdef CONFIG_XB_TLS
	if (c->tls)
		return io_map(c, tls_read(c->tls, buf, n));
#endif
	return io_map(c, sys_read(c->fd, buf, n));
}

static ssize_t io_write(struct conn *c, const void *buf, size_t n)
{
#ifdef CONFIG_XB_TLS
	if (c->tls)
		return io_map(c, tls_write(c->tls, buf, n));
#endif
	return io_map(c, sys_write(c->fd, buf, n));
}

static int io_pending(struct conn *c)
{
#ifdef CONFIG_XB_TLS
	return c->tls && tls_pending(c->tls) > 0;
#else
	return 0;
#endif
}

/* Watch for reads always, for writes while a write would block (or a TLS
 * handshake waits to write).  0, or -1 when it failed and c is closed. */
static int conn_watch(struct conn *c)
{
	int mask = LOOP_READ | (c->wblocked || c->tls_wants_write ? LOOP_WRITE : 0);

	if (mask == c->mask)
		return 0;
	if (loop_watch(c->fd, mask, on_io, c)) {
		log_warn("server: %s: cannot watch the connection: %s", c->peer, strerror(errno));
		conn_close(c);
		return -1;
	}
	c->mask = mask;
	return 0;
}

/* Write what is queued, as far as the socket takes it: an offset, not a
 * memmove per partial write (large replies would make that quadratic).
 * 0, or -1 when c was closed. */
static int flush(struct conn *c)
{
	c->wblocked = 0;
	for (;;) {
		size_t n;
		ssize_t r;

		if (c->out_off == c->out.len) {
			struct buf t = c->out;

			buf_reset(&t);
			c->out = c->more;
			c->more = t;
			c->out_off = 0;
			trim_buf(&c->more);
			if (!c->out.len) {
				trim_buf(&c->out);
				break;
			}
		}
		/* a TLS write that said "again" is retried with the same
		 * (pointer, length), as mbedTLS requires; never past held
		 * replies (a TLS retry's length was within them already) */
		n = c->tls_wlen ? c->tls_wlen : c->out.len - c->out_off;
		if (n > writable(c))
			n = writable(c);
		if (!n)
			break;          /* the rest waits for the store */
		r = io_write(c, c->out.data + c->out_off, n);
		if (r == IO_AGAIN) {
			/* TLS may want to read first: then a read retries */
			c->wblocked = !c->tls || c->tls_wants_write;
			if (c->tls)
				c->tls_wlen = n;
			break;
		}
		if (r <= 0 || (size_t)r > n) {
			conn_close(c);
			return -1;
		}
		c->tls_wlen = 0;
		c->out_off += (size_t)r;
		c->written += (size_t)r;
		out_queued -= (size_t)r;
		c->out_since = now_ms();
	}
	if (!unwritten(c) && c->closing && !c->busy) {
		conn_close(c);
		return -1;
	}
#ifdef CONFIG_XB_CONSOLE
	if (!unwritten(c) && c->console && !c->busy) {
		void *arg = c->console;

		c->console = NULL;
		loop_unwatch(c->fd);
		server_console_adopt(c->fd, c->tls, c->peer, &c->in, arg);
		conn_drop(c, 1);
		return -1;
	}
#endif
#ifdef CONFIG_XB_POOL
	if (!unwritten(c) && c->upgrade && !c->busy) {
		loop_unwatch(c->fd);
		server_pool_adopt(c->fd, c->tls, c->peer, &c->in);
		conn_drop(c, 1);
		return -1;
	}
#endif
	return conn_watch(c);
}


static void on_io(int fd, int events, void *opaque)
{
	struct conn *c = opaque;
	char tmp[READ_CHUNK];
	ssize_t r;

	(void)fd;
#if defined(CONFIG_XB_TLS) && defined(CONFIG_XB_POOL)
	if (c->tls && !c->hello_known && (events & LOOP_READ))
		peek_hello(c);
#endif
#ifdef CONFIG_XB_TLS
	if (c->tls && ((events & LOOP_READ) || c->tls_wants_write) && tls_handshaking(c->tls) &&
	    hs_steps++ >= HS_STEPS)
		return;         /* the next iteration's turn; nothing changed */
#endif
	if ((events & LOOP_WRITE) && c->tls_wants_write) {
		/* a TLS handshake that waited to write goes on via read */
		c->tls_wants_write = 0;
		events |= LOOP_READ;
	}
	if ((events & LOOP_WRITE) && unwritten(c))
		want_flush = 1;         /* written after the next commit */
	if (!(events & LOOP_READ)) {
		conn_watch(c);
		return;
	}
	do {
		r = io_read(c, tmp, sizeof(tmp));
		if (r == IO_AGAIN)
			break;
		if (r <= 0) {
			conn_close(c);
			return;
		}
		if (!c->in.len)
			c->since = now_ms();
		c->active = now_ms();
		buf_add(&c->in, tmp, (size_t)r);
	} while (io_pending(c) && c->in.len < 4 * (MAX_BODY + 64 * 1024));
	if (c->tls && unwritten(c))
		want_flush = 1;         /* a TLS write may have waited for this */
	if (!c->busy)
		process(c);
	if (c->in.len > 4 * (MAX_BODY + 64 * 1024)) {
		conn_close(c);  /* a client pipelining without reading */
		return;
	}
	conn_watch(c);
}

static void conn_close(struct conn *c)
{
	conn_drop(c, 0);
}

/* Close c, or with keep_fd hand its socket and TLS on (they were taken). */
static void conn_drop(struct conn *c, int keep_fd)
{
	if (c->busy) {
		api_cancel(c->busy);
		c->busy = NULL;
	}
	out_queued -= unwritten(c);
	nheld -= c->held;
#ifdef CONFIG_XB_CONSOLE
	free(c->console);
#endif
	if (!keep_fd) {
		loop_unwatch(c->fd);
#ifdef CONFIG_XB_TLS
		tls_conn_free(c->tls);
#endif
		sys_close(c->fd);
	}
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->more);
	buf_free(&c->call_out);
	arena_free(&c->a);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->unix_sock)
		nunix--;
	else
		ntcp--;
	free(c);
}

/* ---- accepting, limits, eviction ---- */

/* A connection may be closed to make room when no call of it is in
 * progress and it is idle between requests, or has never had a request
 * answered (a fresh, slow or silent client). */
static int evictable(const struct conn *c)
{
	return !c->busy && !c->closing && (!c->served || (!c->in.len && !unwritten(c)));
}

#if defined(CONFIG_XB_TLS) && defined(CONFIG_XB_POOL)
/* A TLS connection's ClientHello, peeked at before mbedTLS reads it: one
 * that names the pool leaves its address's budget (make_room), so the
 * members of a site behind one NAT address can all reconnect at once
 * after a master restart.  They still count against SERVER_MAX_CONNS and
 * stay evictable until served.  Looked at on the first read events and
 * when make_room counts the address's connections (a storm is accepted
 * in one go, before any is read); a hello larger than the buffer is not
 * the pool's. */
static void peek_hello(struct conn *c)
{
	unsigned char b[2048];
	ssize_t r = sys_peek(c->fd, b, sizeof(b));
	int p;

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	p = r > 0 ? tls_hello_is_pool(b, (size_t)r) : 0;
	if (p < 0 && (size_t)r < sizeof(b))
		return;
	c->hello_known = 1;
	c->pool_hs = p > 0;
}
#endif

/* The connection to close for room: among the evictable ones (of the Unix
 * socket or TCP, of one peer if peer is set), those never answered first,
 * then the longest idle.  NULL if none.  O(connections). */
static struct conn *victim(int unix_sock, const char *peer)
{
	struct conn *c, *best = NULL;

	for (c = conns; c; c = c->next) {
		if (c->unix_sock != unix_sock || (peer && (strcmp(c->peer, peer) || c->pool_hs)) ||
		    !evictable(c))
			continue;
		/* <=: the list is newest first, the oldest wins a tie */
		if (!best || (!c->served && best->served) ||
		    (!c->served == !best->served && c->active <= best->active))
			best = c;
	}
	return best;
}

/* Room for a new connection from peer: 0, or -1 when every connection in
 * its way has a call in progress or a request or reply under way.
 * O(connections). */
static int make_room(int unix_sock, const char *peer)
{
	struct conn *c, *v;
	int same = 0;

	if (unix_sock) {
		if (nunix < SERVER_MAX_UNIX)
			return 0;
	} else {
		for (c = conns; c; c = c->next) {
			if (c->unix_sock || strcmp(c->peer, peer))
				continue;
#if defined(CONFIG_XB_TLS) && defined(CONFIG_XB_POOL)
			/* a storm accepted in one go: its hellos not yet read */
			if (c->tls && !c->hello_known)
				peek_hello(c);
#endif
			same += !c->pool_hs;
		}
		if (same < SERVER_MAX_PER_PEER && ntcp < SERVER_MAX_CONNS)
			return 0;
		if (same < SERVER_MAX_PER_PEER)
			peer = NULL;    /* the cap: anyone's */
	}
	if (!(v = victim(unix_sock, peer)))
		return -1;
	log_debug("server: closing an idle connection of %s for one of %s", v->peer,
		  unix_sock ? "unix" : peer ? peer : "another address");
	conn_close(v);
	return 0;
}

/* 0, or -1 when a listener could not be watched again (logged). */
static int watch_listeners(int on)
{
	int rc = 0;

	for (int i = 0; i < nlisteners; i++) {
		if (!on) {
			loop_unwatch(listeners[i].fd);
		} else if (loop_watch(listeners[i].fd, LOOP_READ, server_on_accept, &listeners[i])) {
			log_err("server: cannot watch a listener: %s", strerror(errno));
			rc = -1;
		}
	}
	return rc;
}

/* accept() failed for want of descriptors or memory, and nothing could be
 * closed for room: the listeners stay readable, so stop watching them a
 * while instead of spinning on them (server_tick resumes). */
static void pause_listeners(int err)
{
	log_warn("server: accept: %s; not accepting for %d ms", strerror(err), ACCEPT_PAUSE_MS);
	paused_until = now_ms() + ACCEPT_PAUSE_MS;
	watch_listeners(0);
}

void server_on_accept(int fd, int events, void *opaque)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
				   "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct listener *l = opaque;
	int accepted = 0, evicted = 0;

	(void)events;
	while (!paused_until) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = sys_accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char peer[64] = "unix";
		struct conn *c;

		if (cfd < 0) {
			struct conn *v;

			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* accept() fails for want of a descriptor before it looks
			 * for a client: only the first call of an event knows
			 * one is there (the loop calls again while one is) */
			if (errno == EAGAIN || accepted)
				return;
			/* out of descriptors: an idle connection makes room (for the
			 * Unix socket, a TCP one too), one per event */
			if ((errno == EMFILE || errno == ENFILE) && !evicted &&
			    ((v = victim(l->unix_sock, NULL)) || (l->unix_sock && (v = victim(0, NULL))))) {
				log_debug("server: out of descriptors; closing an idle connection of %s",
					  v->peer);
				conn_close(v);
				evicted = 1;
				continue;
			}
			pause_listeners(errno);
			return;
		}
		if (!l->unix_sock) {
			char addr[INET6_ADDRSTRLEN] = "?";

			if (ss.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
			else if (ss.ss_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
			memcpy(peer, addr, sizeof(addr));
		}
		if (make_room(l->unix_sock, peer)) {
			log_debug("server: refusing a connection of %s: its connections are all busy",
				  peer);
			if (!l->tls)
				(void)!sys_write(cfd, busy, sizeof(busy) - 1);
			sys_close(cfd);
			continue;
		}
		accepted = 1;
		c = xcalloc(1, sizeof(*c));
		c->fd = cfd;
		c->active = now_ms();
		c->unix_sock = l->unix_sock;
		memcpy(c->peer, peer, sizeof(peer));
		if (l->unix_sock) {
			struct ucred cr;
			socklen_t cl = sizeof(cr);

			if (!getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) && cr.uid == 0)
				c->local_root = 1;
		} else {
			int one = 1;

			setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			c->plain_net = !l->tls && !addr_is_loopback(c->peer);
		}
#ifdef CONFIG_XB_TLS
		if (l->tls && !(c->tls = tls_conn_new(cfd))) {
			sys_close(cfd);
			free(c);
			continue;
		}
#endif
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		if (c->unix_sock)
			nunix++;
		else
			ntcp++;
		conn_watch(c);          /* may close c */
	}
}

int server_listen_tcp(const char *spec, int tls, char *err, size_t errlen)
{
	char host[128];
	const char *colon = strrchr(spec, ':');
	struct sockaddr_in6 a6 = { 0 };
	struct sockaddr_in a4 = { 0 };
	int fd, one = 1, v6;
	long port;

	if (!colon || (size_t)(colon - spec) >= sizeof(host) || nlisteners >= 8) {
		snprintf(err, errlen, "'%s': expected ADDR:PORT", spec);
		return -1;
	}
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535) {
		snprintf(err, errlen, "'%s': bad port", spec);
		return -1;
	}
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = 0;
	}
	v6 = strchr(host, ':') != NULL;
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a6.sin6_addr) != 1)
			goto badaddr;
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) < 0)
			goto fail;
	} else {
		a4.sin_family = AF_INET;
		a4.sin_port = htons((uint16_t)port);
		if (!*host || !strcmp(host, "*"))
			a4.sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &a4.sin_addr) != 1)
			goto badaddr;
		if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)) < 0)
			goto fail;
	}
	if (listen(fd, 128) < 0)
		goto fail;
	listeners[nlisteners].fd = fd;
	listeners[nlisteners].unix_sock = 0;
	listeners[nlisteners].tls = tls;
	if (loop_watch(fd, LOOP_READ, server_on_accept, &listeners[nlisteners]))
		goto fail;
	nlisteners++;
	return 0;
badaddr:
	snprintf(err, errlen, "'%s': bad address", spec);
	close(fd);
	return -1;
fail:
	snprintf(err, errlen, "%s: %s", spec, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int server_listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path) || nlisteners >= 8) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	listeners[nlisteners].fd = fd;
	listeners[nlisteners].unix_sock = 1;
	listeners[nlisteners].tls = 0;
	if (loop_watch(fd, LOOP_READ, server_on_accept, &listeners[nlisteners])) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	nlisteners++;
	return 0;
}

/* Timeouts: O(connections) per call. */
int64_t server_tick(int64_t now)
{
	struct conn *c, *n;

	hs_steps = 0;           /* once per loop iteration (before_sleep) */
	if (paused_until && now >= paused_until) {
		paused_until = 0;
		if (watch_listeners(1))
			pause_listeners(errno);         /* try again later */
	}
	for (c = conns; c; c = n) {
		n = c->next;
		if (writable(c) && now - c->out_since > SEND_TIMEOUT_MS) {
			log_debug("server: %s reads no replies; closing", c->peer);
			conn_close(c);  /* the client reads nothing */
		} else if (c->busy) {
			continue;
		} else if (c->since && now - c->since > HEAD_TIMEOUT_MS && !c->closing) {
			c->keep_alive = 0;
			buf_reset(&c->in);
			reply_status(c, 408, 1);
		} else if (!c->in.len && !unwritten(c) && now - c->active > IDLE_TIMEOUT_MS) {
			conn_close(c);
		}
	}
	if (paused_until && (!conns || paused_until - now < 1000))
		return paused_until - now;
	return conns ? 1000 : -1;
}

/* Start the requests that waited for their client to read, or for the
 * reply queue to drain (the low marks: see the top of the file).
 * O(connections), each iteration while any waits. */
static void resume_stalled(void)
{
	struct conn *c, *n;

	if (!any_stalled)
		return;
	any_stalled = 0;
	for (c = conns; c; c = n) {
		n = c->next;
		if (!c->stalled)
			continue;
		if (unwritten(c) > CONN_OUT_LOW || (out_queued > OUT_LOW && unwritten(c))) {
			any_stalled = 1;
			continue;
		}
		c->stalled = 0;
		if (!c->busy)
			process(c);     /* may stall again */
	}
}

/* Write queued replies (after the store's commit); held ones once
 * saved_since(their call's generation).  O(connections). */
void server_flush_output(int (*saved_since)(uint64_t gen))
{
	struct conn *c, *n;

	resume_stalled();
	if (!want_flush && !nheld)
		return;
	want_flush = 0;
	for (c = conns; c; c = n) {
		n = c->next;
		if (c->held && saved_since(c->held_gen)) {
			c->held = 0;
			nheld--;
			c->out_since = now_ms();        /* the send timeout starts now */
		}
		if (writable(c))
			flush(c);       /* may close c */
	}
}

void server_close_plain(int net)
{
	struct conn *c, *n;

	for (int i = 0; i < nlisteners;) {
		struct listener *l = &listeners[i];

		if (l->tls || l->unix_sock) {
			i++;
			continue;
		}
		loop_unwatch(l->fd);
		close(l->fd);
		*l = listeners[--nlisteners];   /* the last one moves here */
		if (i < nlisteners && !paused_until)
			loop_watch(l->fd, LOOP_READ, server_on_accept, l);
	}
	for (c = conns; net && c; c = n) {
		n = c->next;
		if (!c->plain_net)
			continue;
		if (c->in_process || c->out.len || c->more.len)
			c->closing = 1;         /* after the reply it is making */
		else
			conn_close(c);          /* a waiting call is cancelled */
	}
}

void server_shutdown(void)
{
	while (conns)
		conn_close(conns);
	for (int i = 0; i < nlisteners; i++) {
		loop_unwatch(listeners[i].fd);
		sys_close(listeners[i].fd);
	}
	nlisteners = 0;
	paused_until = 0;
}
