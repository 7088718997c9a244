/* HTTP/1.1 connections: accept, read, parse, route, reply in order.
 *
 * Requests on a connection are handled one at a time in arrival order
 * (pipelining keeps its order); a call that waits (event.from, a clean
 * shutdown) holds the requests behind it.  Replies are queued, and only
 * written after the store has committed what they acknowledge: see
 * server_before_sleep().
 *
 * Backpressure: while more than OUT_HIGH bytes of replies wait to be
 * written, no new request is started (its reply could be megabytes:
 * VM.get_all_records); work resumes when the queue is below OUT_LOW.
 *
 * Limits: 300 KiB bodies (as XAPI: larger gets 500 and a close), request
 * heads per http_default_limits, SERVER_MAX_CONNS connections (the
 * listeners pause beyond), a head must arrive within HEAD_TIMEOUT_MS and
 * idle keep-alive connections close after IDLE_TIMEOUT_MS.
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

struct conn {
	int fd;
	int local_root;
	struct tls_conn *tls;           /* NULL: plain */
	int tls_wants_write;            /* the handshake waits to write */
	char peer[64];
	struct buf in, out;
	size_t out_off;                 /* bytes of out already written */
	struct arena a;
	struct call *busy;              /* a call waiting to complete */
	struct buf call_out;
	struct emit e;
	int keep_alive, closing, in_process, json, list_methods;
	int stalled;                    /* waits for the reply queue to drain */
	int plain_net;                  /* plain HTTP from beyond loopback */
	struct rpc_call rc;
	int64_t since;                  /* first byte of the pending request */
	int64_t active;
	struct conn *next, *prev;
};

static struct conn *conns;
static int nconns;
static struct listener {
	int fd;
	int unix_sock;
	int tls;
} listeners[8];
static int nlisteners, paused;
static int want_flush;
static size_t out_queued;               /* reply bytes not yet written */
static int any_stalled;

static void conn_close(struct conn *c);
static void process(struct conn *c);
static void on_io(int fd, int events, void *opaque);

/* ---- replies ---- */

static void reply(struct conn *c, int status, const char *ctype, const char *body,
		  size_t len, const char *extra)
{
	size_t before = c->out.len;

	http_write_head(&c->out, status, ctype, len, c->keep_alive && !c->closing, extra);
	buf_add(&c->out, body, len);
	out_queued += c->out.len - before;
	want_flush = 1;
}

static void reply_status(struct conn *c, int status, int close_after)
{
	char body[160];
	int n = snprintf(body, sizeof(body),
			 "<html><body><h1>HTTP %d %s</h1></body></html>", status,
			 http_reason(status));

	if (close_after)
		c->closing = 1;
	reply(c, status, "text/html", body, (size_t)n, NULL);
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
	{
		size_t len = pre.len + (with_value ? val->len : 0) + post.len;

		size_t before = c->out.len;

		http_write_head(&c->out, 200, c->json ? "application/json" : "text/xml", len,
				c->keep_alive && !c->closing, CORS);
		buf_reserve(&c->out, len);
		buf_add(&c->out, pre.data, pre.len);
		if (with_value)
			buf_add(&c->out, val->data, val->len);
		buf_add(&c->out, post.data, post.len);
		out_queued += c->out.len - before;
		want_flush = 1;
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

/* Answers, or returns 401 without answering. */
static int get_route(struct conn *c, const struct http_req *req, int authed)
{
	if (!strcmp(req->path, "/")) {
		static const char page[] = "<html><body>xenbox " XB_VERSION
					   ": XenAPI on POST / and /jsonrpc</body></html>";

		reply(c, 200, "text/html", page, sizeof(page) - 1, NULL);
		return 0;
	}
	if (!strcmp(req->path, "/console_log")) {
		struct buf b = BUF_INIT;
		int status = api_console_log_get(authed, http_query_get(&c->a, req->query, "ref"),
						 http_query_get(&c->a, req->query, "uuid"), &b);

		if (status == 200)
			reply(c, 200, "text/plain; charset=utf-8", b.data ? b.data : "", b.len, CORS);
		else if (status != 401)
			reply_status(c, status, 0);
		buf_free(&b);
		return status == 401 ? 401 : 0;
	}
#ifdef CONFIG_XB_STATS
	{
		struct buf b = BUF_INIT;
		const char *ctype = NULL;
		int status = stats_http(&c->a, req->path, req->query, req->accept, authed, &b, &ctype);

		if (status == 200)
			reply(c, 200, ctype, b.data, b.len, CORS);
		else if (status > 0 && status != 401)
			reply_status(c, status, 0);
		buf_free(&b);
		if (status >= 0)
			return status == 401 ? 401 : 0;
	}
#endif
	reply_status(c, 403, 0);
	return 0;
}

static void get_checked(struct call *call)
{
	struct get_call *g = (struct get_call *)call;
	struct conn *c = call->conn;

	if (call->nerr || get_route(c, &g->req, 1) == 401)
		reply_401(c, g->req.path);
	c->busy = NULL;
	arena_free(&c->a);
	if (!c->in_process)
		process(c);
}

static void run_get(struct conn *c, const struct http_req *req)
{
	const char *sid = http_query_get(&c->a, req->query, "session_id"), *user, *pass;
	struct get_call *g;
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
	g = arena_alloc(&c->a, sizeof(*g));
	if (!g) {
		reply_status(c, 500, 0);
		return;
	}
	g->req = *req;
	g->call.a = &c->a;
	g->call.peer = c->peer;
	g->call.complete = get_checked;
	g->call.conn = c;
	c->busy = &g->call;
	api_http_basic(&g->call, user, pass);
}

static void route(struct conn *c, const struct http_req *req, const char *body, size_t len)
{
	if (req->method == HTTP_OPTIONS) {
		char extra[512];

		snprintf(extra, sizeof(extra),
			 CORS "Access-Control-Allow-Methods: POST, OPTIONS\r\n"
			 "Access-Control-Allow-Headers: %s\r\n",
			 req->ac_request_headers ? req->ac_request_headers : "content-type");
		reply(c, 200, "text/plain", "", 0, extra);
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
		run_get(c, req);
		return;
	}
	reply_status(c, 403, 0);
}

/* Handle every complete request in c->in, in order, until one waits. */
static void process(struct conn *c)
{
	c->in_process = 1;
	while (!c->busy && !c->closing && c->in.len) {
		if (out_queued > OUT_HIGH) {
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
			if (req.expect_continue && c->in.len == head) {
				buf_adds(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
				want_flush = 1;
			}
			arena_free(&c->a);
			break;
		}
		route(c, &req, c->in.data + head, (size_t)req.content_length);
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
			loop_watch(c->fd, LOOP_READ | LOOP_WRITE, on_io, c);
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
	return io_map(c, read(c->fd, buf, n));
}

static ssize_t io_write(struct conn *c, const void *buf, size_t n)
{
#ifdef CONFIG_XB_TLS
	if (c->tls)
		return io_map(c, tls_write(c->tls, buf, n));
#endif
	return io_map(c, write(c->fd, buf, n));
}

static int io_pending(struct conn *c)
{
#ifdef CONFIG_XB_TLS
	return c->tls && tls_pending(c->tls) > 0;
#else
	return 0;
#endif
}

static void on_io(int fd, int events, void *opaque)
{
	struct conn *c = opaque;

	if ((events & LOOP_WRITE) && c->tls_wants_write) {
		/* a TLS handshake that waited to write goes on via read */
		c->tls_wants_write = 0;
		events |= LOOP_READ;
	}
	if (events & LOOP_WRITE) {
		/* an offset, not a memmove per partial write: large replies
		 * would make that quadratic */
		while (c->out_off < c->out.len) {
			ssize_t r = io_write(c, c->out.data + c->out_off, c->out.len - c->out_off);

			if (r == IO_AGAIN)
				break;
			if (r <= 0) {
				conn_close(c);
				return;
			}
			c->out_off += (size_t)r;
			out_queued -= (size_t)r;
		}
		if (c->out_off == c->out.len) {
			buf_reset(&c->out);
			c->out_off = 0;
			trim_buf(&c->out);
		}
		if (!c->out.len) {
			if (c->closing) {
				conn_close(c);
				return;
			}
			loop_watch(fd, LOOP_READ, on_io, c);
		} else {
			loop_watch(fd, LOOP_READ | LOOP_WRITE, on_io, c);
		}
	}
	if (events & LOOP_READ) {
		char tmp[READ_CHUNK];
		ssize_t r;

		do {
			r = io_read(c, tmp, sizeof(tmp));
			if (r == IO_AGAIN)
				return;
			if (r <= 0) {
				conn_close(c);
				return;
			}
			if (!c->in.len)
				c->since = now_ms();
			c->active = now_ms();
			buf_add(&c->in, tmp, (size_t)r);
		} while (io_pending(c) && c->in.len < 4 * (MAX_BODY + 64 * 1024));
		if (!c->busy)
			process(c);
		if (c->in.len > 4 * (MAX_BODY + 64 * 1024)) {
			conn_close(c);  /* a client pipelining without reading */
			return;
		}
	}
}

static void conn_close(struct conn *c)
{
	if (c->busy) {
		api_events_cancel(c->busy);
		api_vm_cancel(c->busy);
		api_session_cancel(c->busy);
		c->busy = NULL;
	}
	out_queued -= c->out.len - c->out_off;
	loop_unwatch(c->fd);
#ifdef CONFIG_XB_TLS
	tls_conn_free(c->tls);
#endif
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->call_out);
	arena_free(&c->a);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	nconns--;
	if (paused && nconns < SERVER_MAX_CONNS) {
		paused = 0;
		for (int i = 0; i < nlisteners; i++)
			loop_watch(listeners[i].fd, LOOP_READ, server_on_accept, &listeners[i]);
	}
}

void server_on_accept(int fd, int events, void *opaque)
{
	struct listener *l = opaque;

	(void)events;
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (cfd < 0)
			return;
		c = xcalloc(1, sizeof(*c));
		c->fd = cfd;
		c->active = now_ms();
		if (l->unix_sock) {
			struct ucred cr;
			socklen_t cl = sizeof(cr);

			snprintf(c->peer, sizeof(c->peer), "unix");
			if (!getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) && cr.uid == 0)
				c->local_root = 1;
		} else {
			int one = 1;
			char addr[INET6_ADDRSTRLEN] = "?";

			setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (ss.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
			else if (ss.ss_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
			snprintf(c->peer, sizeof(c->peer), "%s", addr);
			c->plain_net = !l->tls && !addr_is_loopback(addr);
		}
#ifdef CONFIG_XB_TLS
		if (l->tls && !(c->tls = tls_conn_new(cfd))) {
			close(cfd);
			free(c);
			continue;
		}
#endif
		c->next = conns;
		if (conns)
			conns->prev = c;
		conns = c;
		nconns++;
		loop_watch(cfd, LOOP_READ, on_io, c);
		if (nconns >= SERVER_MAX_CONNS) {
			paused = 1;
			for (int i = 0; i < nlisteners; i++)
				loop_unwatch(listeners[i].fd);
			return;
		}
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
	loop_watch(fd, LOOP_READ, server_on_accept, &listeners[nlisteners++]);
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
	loop_watch(fd, LOOP_READ, server_on_accept, &listeners[nlisteners++]);
	return 0;
}

/* Timeouts: O(connections) per call. */
int64_t server_tick(int64_t now)
{
	struct conn *c, *n;

	for (c = conns; c; c = n) {
		n = c->next;
		if (c->busy)
			continue;
		if (c->since && now - c->since > HEAD_TIMEOUT_MS && !c->closing) {
			c->keep_alive = 0;
			buf_reset(&c->in);
			reply_status(c, 408, 1);
		} else if (!c->in.len && !c->out.len && now - c->active > IDLE_TIMEOUT_MS) {
			conn_close(c);
		}
	}
	return conns ? 1000 : -1;
}

/* Start the requests that waited for the reply queue: O(connections). */
static void resume_stalled(void)
{
	struct conn *c, *n;

	if (!any_stalled || out_queued > OUT_LOW)
		return;
	any_stalled = 0;
	for (c = conns; c; c = n) {
		n = c->next;
		if (c->stalled) {
			c->stalled = 0;
			if (!c->busy)
				process(c);     /* may stall again, or close c */
		}
	}
}

/* Write queued replies (after the store committed). */
void server_flush_output(void)
{
	struct conn *c, *n;

	resume_stalled();
	if (!want_flush)
		return;
	want_flush = 0;
	for (c = conns; c; c = n) {
		n = c->next;
		if (c->out.len)
			on_io(c->fd, LOOP_WRITE, c);   /* may close c */
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
		if (i < nlisteners && !paused)
			loop_watch(l->fd, LOOP_READ, server_on_accept, l);
	}
	for (c = conns; net && c; c = n) {
		n = c->next;
		if (!c->plain_net)
			continue;
		if (c->in_process || c->out.len)
			c->closing = 1;         /* after the reply it is making */
		else
			conn_close(c);          /* a waiting call is cancelled */
	}
}

void server_shutdown(void)
{
	while (conns)
		conn_close(conns);
	for (int i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
	nlisteners = 0;
}
