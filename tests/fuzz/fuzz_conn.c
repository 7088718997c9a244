/* libFuzzer target: the connection layer (server/conn.c) itself.
 *
 * conn.c is included here with its system calls (read, write, accept4,
 * close), the loop's watch table, TLS and the API replaced by models the
 * input drives: clients connect to the plain, TLS and Unix listeners from
 * a few addresses, send requests (pipelined, with Expect: 100-continue,
 * long CORS heads, garbage, oversized bodies, HTTP/1.0) that arrive in
 * pieces, read slowly or not at all (short writes, EAGAIN), close early or
 * fail; calls answer at once, fail, or wait; time passes; accept() runs
 * out of descriptors; loop_watch fails.  Small connection limits make
 * eviction and refusal happen.
 *
 * After every step: out_queued is the sum of the bytes not yet written;
 * the connection counts match the list and the limits; a connection with
 * output waits for the flush or is watched for writes; a TLS handshake
 * that waits to write is watched for writes.  Inside the models: a TLS
 * write that said "again" is retried with the same (pointer, length), as
 * mbedTLS requires; a descriptor is closed once and never while watched;
 * accept() that failed for descriptors leaves the listener unwatched
 * unless a connection made room.  The client side parses every byte the
 * server wrote: responses well-formed, in request order, nothing after a
 * "Connection: close", the CORS header echoed whole; the reply of a call
 * that changed the datamodel ("w" calls) is not received while the store
 * model fails to save that change (server_flush_output's saved_since).
 * At the end, with
 * the faults lifted: every request on a connection still open has its
 * reply (nothing stalls), and after server_shutdown every descriptor is
 * closed (and ASan finds no leak). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>

#include "lib/buf.h"

#define SERVER_MAX_CONNS 6
#define SERVER_MAX_PER_PEER 4
#define SERVER_MAX_UNIX 3

#define XB_CONN_SYSCALLS
#define sys_read fz_read
#define sys_write fz_write
#define sys_accept4 fz_accept4
#define sys_close fz_close
#define sys_peek fz_peek
#define now_ms fz_now_ms
static ssize_t fz_read(int fd, void *buf, size_t n);
static ssize_t fz_write(int fd, const void *buf, size_t n);
static int fz_accept4(int fd, struct sockaddr *sa, socklen_t *sl, int flags);
static int fz_close(int fd);
static ssize_t fz_peek(int fd, void *buf, size_t n);
static int64_t fz_now_ms(void);

#include "../../src/server/conn.c"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the input ---- */

static const uint8_t *inp;
static size_t inlen;

static unsigned get8(void)
{
	if (!inlen)
		return 0;
	inlen--;
	return *inp++;
}

static unsigned get16(void)
{
	return get8() | get8() << 8;
}

/* ---- the model: sockets, time, the loop's table ---- */

#define NSOCK 48
#define FD_BASE 1000
#define NLIST 3                 /* plain, TLS, Unix */
#define QMAX 64

enum kind { K_PAGE, K_ID, K_OPTIONS, K_ANY, K_BAD, K_PAGE_CLOSE };

struct expect {
	enum kind kind;
	char tag[16];           /* K_ID: the method, in the reply */
	char *hdr;              /* K_OPTIONS: the header to echo */
};

struct fsock {
	int used, open;
	int listener;           /* listeners: 1 */
	int tls, unix_sock, peer;
	/* the loop's table */
	int mask;
	loop_fn *fn;
	void *opaque;
	/* client -> server */
	struct buf outbox;      /* sent, not yet arrived */
	struct buf to_server;   /* arrived, not yet read */
	size_t rcap;            /* bytes per read; 0: any */
	int fresh;              /* TLS: arrived since the last read */
	int eof, rerr, werr, faulted;
	/* server -> client */
	size_t wcap;            /* bytes the socket takes before EAGAIN */
	struct buf got;
	size_t got_off;
	int hs_write;           /* TLS: the handshake waits to write */
	struct buf rec;         /* TLS: a record that waits to be written */
	size_t rec_off, rec_n;
	const void *rec_ptr;
	/* the client's expectations, in request order */
	struct expect q[QMAX];
	int qh, qt;
	int closed_by_reply;    /* a final reply said close */
	int continued;          /* a 100 Continue came for the next reply */
	int refused;
	unsigned nextid;
};

static struct fsock socks[NSOCK];
static int nsocks, nopen, fd_limit;
static int pending[NLIST], pending_peer[NLIST][NSOCK], pending_head[NLIST];
static int accept_err, watch_fail, tls_new_fail;
static int64_t fake_now;
static int last_accept_errno, accepts;
static struct call *deferred[QMAX];
static int ndeferred;
/* a call in progress is cancelled only when its client went away, a
 * timeout may have struck, the loop failed, or at shutdown */
static int may_cancel;
/* the datamodel's generation and the store: while failing, changes after
 * fail_gen are not saved */
uint64_t dm_gen = 1;
static int store_failing;
static uint64_t fail_gen, unsaved_newest;

static int fz_saved_since(uint64_t gen)
{
	return !store_failing || unsaved_newest <= gen;
}

static struct fsock *S(int fd)
{
	CHECK(fd >= FD_BASE && fd < FD_BASE + nsocks);
	return &socks[fd - FD_BASE];
}

static int64_t fz_now_ms(void)
{
	return fake_now;
}

int loop_watch(int fd, int mask, loop_fn *fn, void *opaque)
{
	struct fsock *s = S(fd);

	CHECK(s->open);
	if (!mask) {
		loop_unwatch(fd);
		return 0;
	}
	if (watch_fail) {
		watch_fail--;
		errno = ENOMEM;
		return -1;
	}
	s->mask = mask;
	s->fn = fn;
	s->opaque = opaque;
	return 0;
}

void loop_unwatch(int fd)
{
	S(fd)->mask = 0;
}

static ssize_t fz_read(int fd, void *buf, size_t n)
{
	struct fsock *s = S(fd);

	CHECK(s->open && !s->listener);
	s->fresh = 0;
	if (s->rerr) {
		errno = ECONNRESET;
		return -1;
	}
	if (!s->to_server.len) {
		if (s->eof)
			return 0;
		errno = EAGAIN;
		return -1;
	}
	if (n > s->to_server.len)
		n = s->to_server.len;
	if (s->rcap && n > s->rcap)
		n = s->rcap;
	memcpy(buf, s->to_server.data, n);
	buf_consume(&s->to_server, n);
	return (ssize_t)n;
}

/* recv(MSG_PEEK): what arrived, left where it is */
static ssize_t fz_peek(int fd, void *buf, size_t n)
{
	struct fsock *s = S(fd);

	CHECK(s->open && !s->listener);
	if (s->rerr) {
		errno = ECONNRESET;
		return -1;
	}
	if (!s->to_server.len) {
		if (s->eof)
			return 0;
		errno = EAGAIN;
		return -1;
	}
	if (n > s->to_server.len)
		n = s->to_server.len;
	memcpy(buf, s->to_server.data, n);
	return (ssize_t)n;
}

static size_t push(struct fsock *s, const void *buf, size_t n)
{
	if (n > s->wcap)
		n = s->wcap;
	buf_add(&s->got, buf, n);
	s->wcap -= n;
	return n;
}

static ssize_t fz_write(int fd, const void *buf, size_t n)
{
	struct fsock *s = S(fd);

	CHECK(s->open && !s->listener && !s->tls);
	if (s->werr) {
		errno = EPIPE;
		return -1;
	}
	if (!s->wcap) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)push(s, buf, n);
}

static int fz_accept4(int fd, struct sockaddr *sa, socklen_t *sl, int flags)
{
	struct fsock *s = S(fd), *c;
	int l = fd - FD_BASE;

	(void)flags;
	CHECK(s->open && s->listener && s->mask);
	if (accept_err) {
		errno = last_accept_errno = accept_err;
		accept_err = 0;
		return -1;
	}
	/* as the kernel: the descriptor first, then the client */
	if (nopen >= fd_limit || nsocks == NSOCK) {
		errno = last_accept_errno = EMFILE;
		return -1;
	}
	if (!pending[l]) {
		errno = last_accept_errno = EAGAIN;
		return -1;
	}
	last_accept_errno = 0;
	accepts++;
	c = &socks[nsocks];
	memset(c, 0, sizeof(*c));
	c->used = c->open = 1;
	c->tls = l == 1;
	c->unix_sock = l == 2;
	c->peer = pending_peer[l][pending_head[l]++ % NSOCK];
	pending[l]--;
	nopen++;
	if (c->unix_sock) {
		sa->sa_family = AF_UNIX;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)sa;

		CHECK(*sl >= sizeof(*a));
		memset(a, 0, sizeof(*a));
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(0x7f000001 + (uint32_t)c->peer);
	}
	return FD_BASE + nsocks++;
}

static int fz_close(int fd)
{
	struct fsock *s = S(fd);

	CHECK(s->open);                 /* closed once */
	CHECK(!s->mask);                /* and not while the loop watches it */
	s->open = 0;
	nopen--;
	return 0;
}

/* ---- TLS as mbedTLS behaves (no encryption: the bytes pass as they are) ---- */
#ifdef CONFIG_XB_TLS

struct tls_conn {
	int fd;
};

struct tls_conn *tls_conn_new(int fd)
{
	struct tls_conn *t;

	if (tls_new_fail) {
		tls_new_fail = 0;
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->fd = fd;
	S(fd)->hs_write = 1;    /* the handshake's first flight */
	return t;
}

void tls_conn_free(struct tls_conn *t)
{
	free(t);
}

ssize_t tls_read(struct tls_conn *t, void *buf, size_t n)
{
	struct fsock *s = S(t->fd);
	ssize_t r;

	if (s->hs_write) {
		if (!s->wcap)
			return TLS_WANT_WRITE;
		s->hs_write = 0;
	}
	r = fz_read(t->fd, buf, n);
	if (r < 0)
		return errno == EAGAIN ? TLS_WANT_READ : TLS_ERROR;
	return r;
}

/* A record of at most 4096 bytes is made from the first call; until it
 * is out, every call must pass the same (pointer, length), and then gets
 * the record's length. */
ssize_t tls_write(struct tls_conn *t, const void *buf, size_t n)
{
	struct fsock *s = S(t->fd);
	size_t len;

	if (s->werr)
		return TLS_ERROR;
	if (s->rec.len) {
		CHECK(buf == s->rec_ptr && n == s->rec_n);
	} else {
		if (s->hs_write)
			return TLS_WANT_READ;   /* the handshake first */
		buf_add(&s->rec, buf, n < 4096 ? n : 4096);
		s->rec_off = 0;
		s->rec_ptr = buf;
		s->rec_n = n;
	}
	s->rec_off += push(s, s->rec.data + s->rec_off, s->rec.len - s->rec_off);
	if (s->rec_off < s->rec.len)
		return TLS_WANT_WRITE;
	len = s->rec.len;
	buf_reset(&s->rec);
	return (ssize_t)len;
}

#ifdef CONFIG_XB_POOL
/* The model's pool hello: a first byte of 'P' (tls.c's parser has its
 * own unit test); a connection that sends nothing yet is not known. */
int tls_hello_is_pool(const unsigned char *b, size_t n)
{
	return !n ? -1 : b[0] == 'P';
}
#endif

/* the model's handshake is its first flight */
int tls_handshaking(struct tls_conn *t)
{
	return S(t->fd)->hs_write;
}

size_t tls_pending(struct tls_conn *t)
{
	/* what arrived and was not read is inside mbedTLS: the socket
	 * says nothing more about it */
	return S(t->fd)->to_server.len;
}
#endif

/* ---- the API ---- */

int api_dispatch(struct call *c)
{
	const char *m = c->method;

	if (m[0] == 'd' && ndeferred < QMAX) {
		emit_str(c->e, m);      /* answered later */
		deferred[ndeferred++] = c;
		return 1;
	}
	if (m[0] == 'e') {
		c->err[0] = "ERR";
		c->err[1] = arena_strdup(c->a, m);
		c->nerr = 2;
	} else if (m[0] == 'w') {
		char r[48];

		/* a change: its generation in the reply, after the tag */
		if (store_failing)
			unsaved_newest = dm_gen + 1;
		snprintf(r, sizeof(r), "%s g%llu", m, (unsigned long long)++dm_gen);
		emit_str(c->e, r);
	} else if (m[0] == 'b') {
		size_t n = (size_t)atoi(m + 1) * 7919 % 70000;
		char *big = xmalloc(n + 1);

		memset(big, 'x', n);
		memcpy(big, m, strlen(m));      /* the tag first */
		big[strlen(m)] = ' ';
		emit_strn(c->e, big, n > strlen(m) ? n : 0);
		if (n <= strlen(m))
			emit_str(c->e, m);
		free(big);
	} else {
		emit_str(c->e, m);
	}
	c->complete(c);
	return 0;
}

static void forget(struct call *c)
{
	for (int i = 0; i < ndeferred; i++)
		if (deferred[i] == c) {
			deferred[i] = deferred[--ndeferred];
			return;
		}
}

void api_events_cancel(struct call *c)
{
	struct conn *conn = c->conn;

	CHECK(may_cancel || S(conn->fd)->faulted);
	forget(c);
}

void api_vm_cancel(struct call *c)
{
	forget(c);
}

void api_session_cancel(struct call *c)
{
	forget(c);
}

void api_cancel(struct call *c)
{
	api_events_cancel(c);
	api_vm_cancel(c);
	api_session_cancel(c);
}

/* GET credentials: no session is valid; Basic credentials fail at once. */
int api_session_use(const char *ref)
{
	(void)ref;
	return 0;
}

int api_http_basic(struct call *c, const char *user, const char *pass)
{
	(void)user;
	(void)pass;
	c->err[0] = "SESSION_AUTHENTICATION_FAILED";
	c->nerr = 1;
	c->complete(c);
	return 0;
}

int addr_is_loopback(const char *a)
{
	return !strncmp(a, "127.", 4) || !strcmp(a, "::1");
}

int api_console_log_get(int authed, const char *ref, const char *uuid, struct buf *b)
{
	(void)authed;
	(void)ref;
	(void)uuid;
	(void)b;
	return 404;
}

/* a GET route's ?task_id=: only after an answer, never a 401 */
void api_task_http_done(const char *ref, int status)
{
	(void)ref;
	CHECK(status != 401);
}

#ifdef CONFIG_XB_STATS
int stats_http(struct arena *a, const char *path, const char *query, const char *accept,
	       int authed, struct buf *out, const char **ctype)
{
	(void)authed;
	(void)a;
	(void)path;
	(void)query;
	(void)accept;
	(void)out;
	(void)ctype;
	return -1;
}
#endif

/* ---- the client's side ---- */

static void expect(struct fsock *s, enum kind k, const char *tag, const char *hdr)
{
	struct expect *e;

	CHECK(s->qt - s->qh < QMAX);
	e = &s->q[s->qt++ % QMAX];
	e->kind = k;
	snprintf(e->tag, sizeof(e->tag), "%s", tag ? tag : "");
	e->hdr = hdr ? xstrdup(hdr) : NULL;
}

static int has_tag(const char *body, size_t len, const char *tag)
{
	size_t n = strlen(tag);

	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(body + i, tag, n) && (i + n == len || body[i + n] < '0' || body[i + n] > '9'))
			return 1;
	return 0;
}

/* Parse what the server wrote since the last look. */
static void client_parse(struct fsock *s)
{
	for (;;) {
		struct arena a;
		struct http_resp r;
		size_t hl = 0, blen;
		size_t avail = s->got.len - s->got_off;
		const char *p, *body;
		int rc;

		if (!avail)
			return;
		p = s->got.data + s->got_off;
		CHECK(!s->closed_by_reply);     /* nothing after "close" */
		arena_init(&a, 1 << 20);
		rc = http_parse_response(&a, p, avail, &r, &hl);
		CHECK(rc != HTTP_PARSE_ERROR);
		if (rc == HTTP_NEED_MORE) {
			arena_free(&a);
			return;
		}
		if (r.status == 100) {
			CHECK(!s->continued);   /* once per request */
			s->continued = 1;
			s->got_off += hl;
			arena_free(&a);
			continue;
		}
		CHECK(r.content_length >= 0);
		blen = (size_t)r.content_length;
		if (avail - hl < blen) {
			arena_free(&a);
			return;
		}
		body = p + hl;
		if (r.status == 408 || r.status == 503) {
			/* unasked: a head that took too long, a refusal */
			CHECK(!r.keep_alive);
			s->closed_by_reply = 1;
		} else {
			struct expect *e;

			CHECK(s->qh < s->qt);   /* a reply to a request sent */
			e = &s->q[s->qh++ % QMAX];
			s->continued = 0;
			switch (e->kind) {
			case K_PAGE:
			case K_PAGE_CLOSE:
				CHECK(r.status == 200 && has_tag(body, blen, "xenbox"));
				if (e->kind == K_PAGE_CLOSE)
					CHECK(!r.keep_alive);
				break;
			case K_ID:
				if (getenv("FZ_DEBUG"))
					fprintf(stderr, "reply to %s: %d %.*s\n", e->tag, r.status, (int)blen, body);
				CHECK(r.status == 200 && has_tag(body, blen, e->tag));
				if (e->tag[0] == 'w') {
					/* not acknowledged before it is saved */
					const char *g = memmem(body, blen, " g", 2);

					CHECK(g);
					CHECK(!store_failing || strtoull(g + 2, NULL, 10) <= fail_gen);
				}
				break;
			case K_OPTIONS: {
				struct buf want = BUF_INIT;
				char *head = xstrndup(p, hl);

				buf_addf(&want, "\r\nAccess-Control-Allow-Headers: %s\r\n", e->hdr);
				CHECK(r.status == 200 && strstr(head, want.data));
				buf_free(&want);
				free(head);
				break;
			}
			case K_ANY:
				CHECK(r.status >= 200);
				break;
			case K_BAD:
				CHECK(r.status >= 400 && !r.keep_alive);
				break;
			}
			free(e->hdr);
			e->hdr = NULL;
			if (!r.keep_alive)
				s->closed_by_reply = 1;
		}
		s->got_off += hl + blen;
		arena_free(&a);
	}
}

/* A request into the client's outbox; what the reply must be. */
static void send_request(struct fsock *s, unsigned tpl)
{
	struct buf b = BUF_INIT, body = BUF_INIT;
	char tag[16];
	unsigned id = ++s->nextid;
	static const char letters[] = "mwdeb";

	snprintf(tag, sizeof(tag), "%c%u", letters[get8() % 5], id);
	if (s->qt - s->qh >= QMAX)
		return;                 /* the model's limit */
	switch (tpl % 8) {
	case 0:
		buf_adds(&b, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
		expect(s, K_PAGE, NULL, NULL);
		break;
	case 1:
	case 2: {
		unsigned f = get8();
		int json = tpl % 8 == 2, ex = f & 1, cl = f & 2;

		if (json)
			buf_addf(&body, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":[],\"id\":%u}",
				 tag, id);
		else
			buf_addf(&body, "<?xml version='1.0'?><methodCall><methodName>%s"
				 "</methodName><params></params></methodCall>", tag);
		buf_addf(&b, "POST %s HTTP/1.1\r\nHost: x\r\n%s%sContent-Length: %zu\r\n\r\n",
			 json ? "/jsonrpc" : "/", ex ? "Expect: 100-continue\r\n" : "",
			 cl ? "Connection: close\r\n" : "", body.len);
		buf_add(&b, body.data, body.len);
		expect(s, K_ID, tag, NULL);
		break;
	}
	case 3: {
		size_t n = get16() % 960 + 1;  /* the line within 1 KiB */
		char *h = xmalloc(n + 1);

		for (size_t i = 0; i < n; i++)
			h[i] = i % 7 == 6 ? ',' : (char)('a' + (i + id) % 26);
		h[n] = 0;
		buf_addf(&b, "OPTIONS /jsonrpc HTTP/1.1\r\nHost: x\r\n"
			 "Access-Control-Request-Headers: %s\r\n\r\n", h);
		expect(s, K_OPTIONS, NULL, h);
		free(h);
		break;
	}
	case 4:
		buf_adds(&b, "BAD\x01 / HTTP/1.1\r\n\r\n");
		expect(s, K_BAD, NULL, NULL);
		break;
	case 5:
		buf_adds(&b, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 400000\r\n\r\n");
		expect(s, K_BAD, NULL, NULL);
		break;
	case 6:
		buf_adds(&b, "GET / HTTP/1.0\r\n\r\n");
		expect(s, K_PAGE_CLOSE, NULL, NULL);
		break;
	case 7:
		buf_adds(&b, "GET /console_log?session_id=x&ref=y HTTP/1.1\r\nHost: x\r\n\r\n");
		expect(s, K_ANY, NULL, NULL);
		break;
	}
	buf_add(&s->outbox, b.data, b.len);
	buf_free(&b);
	buf_free(&body);
}

static void deliver(struct fsock *s, size_t n)
{
	if (n > s->outbox.len)
		n = s->outbox.len;
	buf_add(&s->to_server, s->outbox.data, n);
	buf_consume(&s->outbox, n);
	if (n)
		s->fresh = 1;
}

/* ---- the loop, as loop_run (level-triggered) ---- */

static void iterate(void)
{
	int n = nsocks;

	for (int i = 0; i < n; i++) {
		struct fsock *s = &socks[i];
		int ev = 0;

		if (!s->open || !s->mask)
			continue;
		if (s->listener) {
			if (pending[i] || accept_err)
				ev = LOOP_READ;
		} else {
			if ((s->tls ? s->fresh : s->to_server.len > 0) || s->eof || s->rerr)
				ev |= LOOP_READ;
			if (s->wcap || s->werr)
				ev |= LOOP_WRITE;
		}
		ev &= s->mask | LOOP_READ;
		if (!ev)
			continue;
		if (s->listener) {
			int before = accepts;

			last_accept_errno = 0;
			s->fn(FD_BASE + i, ev, s->opaque);
			/* out of descriptors on the event's first accept: the
			 * listener must not stay watched (it would spin) */
			if (last_accept_errno == EMFILE && accepts == before)
				CHECK(!s->mask);
		} else {
			s->fn(FD_BASE + i, ev, s->opaque);
		}
	}
	server_tick(fake_now);
	server_flush_output(fz_saved_since);
}

/* ---- invariants ---- */

static void check_invariants(void)
{
	size_t queued = 0;
	int nt = 0, nu = 0, per_peer[8] = { 0 }, held = 0;

	for (struct conn *c = conns; c; c = c->next) {
		struct fsock *s = S(c->fd);

		CHECK(s->open && !s->listener);
		CHECK(c->out_off <= c->out.len);
		queued += unwritten(c);
		if (c->unix_sock) {
			nu++;
		} else {
			nt++;
			/* pool handshakes are counted apart (make_room) */
			per_peer[s->peer % 8] += !c->pool_hs;
		}
		CHECK(s->mask == c->mask);
		CHECK(s->mask & LOOP_READ);
		/* output either waits for the next flush or for the socket,
		 * or (held) for the store */
		if (writable(c))
			CHECK(want_flush || (s->mask & LOOP_WRITE));
		if (c->held) {
			CHECK(c->written <= c->held_at && c->held_at < c->queued);
			held++;
		}
		CHECK(c->queued - c->written == unwritten(c));
		if (c->tls_wants_write)
			CHECK(s->mask & LOOP_WRITE);
		if (s->rec.len)
			CHECK(c->tls_wlen == s->rec_n);
		if (c->more.len)
			CHECK(c->out.len > c->out_off);
	}
	CHECK(queued == out_queued);
	CHECK(held == nheld);
	CHECK(nt == ntcp && nu == nunix);
	CHECK(ntcp <= SERVER_MAX_CONNS && nunix <= SERVER_MAX_UNIX);
	for (int i = 0; i < 8; i++)
		CHECK(per_peer[i] <= SERVER_MAX_PER_PEER);
	for (int i = NLIST; i < nsocks; i++)
		if (socks[i].used) {
			client_parse(&socks[i]);
			if (!socks[i].open)
				CHECK(!socks[i].mask);
		}
}

/* ---- one input ---- */

static void setup(void)
{
	memset(socks, 0, sizeof(socks));
	nsocks = NLIST;
	nopen = NLIST;
	fd_limit = 1 << 30;
	memset(pending, 0, sizeof(pending));
	memset(pending_head, 0, sizeof(pending_head));
	accept_err = watch_fail = tls_new_fail = may_cancel = 0;
	fake_now = 1000000;
	ndeferred = 0;
	store_failing = 0;
	unsaved_newest = fail_gen = 0;
	for (int i = 0; i < NLIST; i++) {
		socks[i].used = socks[i].open = socks[i].listener = 1;
		listeners[i].fd = FD_BASE + i;
		listeners[i].tls = i == 1;
		listeners[i].unix_sock = i == 2;
		CHECK(!loop_watch(FD_BASE + i, LOOP_READ, server_on_accept, &listeners[i]));
	}
	nlisteners = NLIST;
}

static struct fsock *pick(void)
{
	int n = nsocks - NLIST;

	return n ? &socks[NLIST + get8() % n] : NULL;
}

static void complete_one(unsigned k)
{
	struct call *c;

	if (!ndeferred)
		return;
	k %= ndeferred;
	c = deferred[k];
	deferred[k] = deferred[--ndeferred];
	c->complete(c);
}

static void step(unsigned op)
{
	struct fsock *s;

	if (getenv("FZ_DEBUG"))
		fprintf(stderr, "op %u\n", op % 16);
	switch (op % 16) {
	case 0:
	case 1: {                       /* a client connects */
		int l = get8() % NLIST;

		if (pending[l] < NSOCK) {
			pending_peer[l][(pending_head[l] + pending[l]) % NSOCK] = get8() % 6;
			pending[l]++;
		}
		break;
	}
	case 2:
	case 3:
	case 4:                         /* a request into the outbox */
		if ((s = pick()))
			send_request(s, get8());
		break;
	case 5:                         /* some of it arrives */
		if ((s = pick()))
			deliver(s, get16() % 2048);
		break;
	case 6:                         /* up to the end of the next head */
		if ((s = pick()) && s->outbox.len) {
			char *e = memmem(s->outbox.data, s->outbox.len, "\r\n\r\n", 4);

			deliver(s, e ? (size_t)(e - s->outbox.data) + 4 : s->outbox.len);
		}
		break;
	case 7:                         /* the client reads some */
		if ((s = pick()))
			s->wcap += get16() % 8192;
		break;
	case 8:                         /* read sizes */
		if ((s = pick())) {
			s->rcap = get8();
			/* TLS: a record with no data for the reader (an
			 * alert, a ticket) wakes it all the same */
			s->fresh |= s->tls && (s->rcap & 1);
		}
		break;
	case 9:
	case 10:
		iterate();
		break;
	case 11:                        /* a waiting call completes */
		complete_one(get8());
		break;
	case 12:                        /* the client goes away */
		if ((s = pick())) {
			unsigned how = get8() % 3;

			s->eof |= how == 0;
			s->rerr |= how == 1;
			s->werr |= how == 2;
			s->faulted = 1;
		}
		break;
	case 13:                        /* time passes */
		fake_now += (int64_t)(get8() % 8) * (get8() % 2 ? 1000 : 60000);
		may_cancel |= fake_now - 1000000 >= SEND_TIMEOUT_MS;
		break;
	case 14: {                      /* the system's failures */
		unsigned f = get8() % 8;

		if (f == 0)
			accept_err = EMFILE;
		else if (f == 1)
			accept_err = ECONNABORTED;
		else if (f == 2)
			fd_limit = nopen + (int)(get8() % 4);
		else if (f == 3)
			fd_limit = 1 << 30;
		else if (f == 4)
			watch_fail = may_cancel = 1;
		else if (f == 5)
			tls_new_fail = 1;
		else if (f == 6 && !store_failing) {
			store_failing = 1;      /* the disk fails */
			fail_gen = dm_gen;
		} else if (f == 7) {
			store_failing = 0;      /* and comes back: all saved */
			unsaved_newest = 0;
		}
		break;
	}
	case 15:                        /* everything arrives at once */
		if ((s = pick()))
			deliver(s, s->outbox.len);
		break;
	}
}

/* Faults lifted, everything sent and read: every request on a connection
 * the server kept open is answered. */
static void drain(void)
{
	accept_err = watch_fail = tls_new_fail = 0;
	store_failing = 0;
	unsaved_newest = 0;
	fd_limit = 1 << 30;
	for (int round = 0; round < 40; round++) {
		for (int i = NLIST; i < nsocks; i++) {
			socks[i].wcap = 1 << 30;
			socks[i].rcap = 0;
			deliver(&socks[i], socks[i].outbox.len);
		}
		while (ndeferred)
			complete_one(0);
		iterate();
		check_invariants();
		if (round == 20)
			fake_now += ACCEPT_PAUSE_MS;   /* paused listeners resume */
	}
	for (int i = NLIST; i < nsocks; i++) {
		struct fsock *s = &socks[i];

		if (s->open && !s->faulted && !s->closed_by_reply) {
			if (getenv("FZ_DEBUG"))
				fprintf(stderr, "sock %d: tls %d unix %d q %d..%d got %zu [%.*s] to_server %zu\n",
					i, s->tls, s->unix_sock, s->qh, s->qt, s->got.len,
					(int)s->got.len, s->got.data ? s->got.data : "", s->to_server.len);
			CHECK(s->qh == s->qt);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;

	if (!init) {
		log_level = -1;         /* quiet */
		init = 1;
	}
	inp = data;
	inlen = size;
	setup();
	while (inlen) {
		step(get8());
		check_invariants();
	}
	drain();
	may_cancel = 1;
	server_shutdown();
	CHECK(nopen == 0);              /* every descriptor closed */
	CHECK(out_queued == 0 && !ntcp && !nunix);
	for (int i = 0; i < nsocks; i++) {
		struct fsock *s = &socks[i];

		for (int k = s->qh; k < s->qt; k++)
			free(s->q[k % QMAX].hdr);
		buf_free(&s->outbox);
		buf_free(&s->to_server);
		buf_free(&s->got);
		buf_free(&s->rec);
	}
	want_flush = any_stalled = 0;
	paused_until = 0;
	CHECK(nheld == 0);
	return 0;
}
