/* A blocking JSON-RPC client over a Unix socket (see client.h). */
#include "pool/client.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http/http.h"
#include "lib/buf.h"
#include "rpc/emit.h"
#include "rpc/json.h"
#ifdef CONFIG_XB_XE
#include "server/tls.h"
#endif

#define REPLY_MAX (64 << 20)

static int fail(struct xb_client *cl, const char *fmt, const char *a)
{
	snprintf(cl->err, sizeof(cl->err), fmt, a);
	return -1;
}

/* The socket's bytes, through TLS when xbc_open_tls made one (blocking:
 * TLS's "want" answers only mean "again"). */
static ssize_t io_send(struct xb_client *cl, const char *p, size_t n)
{
#ifdef CONFIG_XB_XE
	if (cl->tls) {
		ssize_t r;

		while ((r = tls_write(cl->tls, p, n)) == TLS_WANT_READ || r == TLS_WANT_WRITE)
			;
		if (r < 0)
			errno = EPROTO;
		return r;
	}
#endif
	return send(cl->fd, p, n, MSG_NOSIGNAL);
}

static ssize_t io_recv(struct xb_client *cl, char *p, size_t n)
{
#ifdef CONFIG_XB_XE
	if (cl->tls) {
		ssize_t r;

		while ((r = tls_read(cl->tls, p, n)) == TLS_WANT_READ || r == TLS_WANT_WRITE)
			;
		if (r < 0)
			errno = EPROTO;
		return r;
	}
#endif
	return recv(cl->fd, p, n, 0);
}

static int send_all(struct xb_client *cl, const char *p, size_t n)
{
	while (n) {
		ssize_t r = io_send(cl, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Read one response into in; its body is in[*body..*body+*blen).  A
 * status other than 200 fails, the status in *status when asked. */
static int read_reply(struct xb_client *cl, struct buf *in, size_t *body, size_t *blen,
		      int *status)
{
	struct http_resp resp;
	size_t head = 0;
	int got_head = 0;

	for (;;) {
		char tmp[16384];
		ssize_t r;

		if (!got_head) {
			int p = http_parse_response(&cl->a, in->data ? in->data : "", in->len,
						    &resp, &head);

			if (p == HTTP_PARSE_ERROR)
				return fail(cl, "%s: a malformed HTTP reply", "daemon");
			if (p == HTTP_PARSE_DONE) {
				if (status)
					*status = resp.status;
				if (resp.status != 200) {
					snprintf(cl->err, sizeof(cl->err), "daemon: HTTP %d", resp.status);
					return -1;
				}
				if (resp.content_length < 0 || resp.content_length > REPLY_MAX)
					return fail(cl, "%s: a reply without a usable length", "daemon");
				got_head = 1;
			}
		}
		if (got_head && in->len - head >= (size_t)resp.content_length) {
			*body = head;
			*blen = (size_t)resp.content_length;
			return 0;
		}
		r = io_recv(cl, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fail(cl, "daemon: %s", r ? strerror(errno) : "closed the connection");
		buf_add(in, tmp, (size_t)r);
	}
}

static void err_desc(struct xb_client *cl, const struct xv *e)
{
	const struct xv *msg = xv_get(e, "message"), *data = xv_get(e, "data");
	size_t n;

	/* the fault as XAPI's: [code, params...], for those who print it */
	if (msg && msg->type == XV_STRING) {
		size_t np = data && data->type == XV_ARRAY ? data->len : 0;
		struct xv *f = arena_alloc(&cl->a, sizeof(*f));

		f->type = XV_ARRAY;
		f->len = np + 1;
		f->u.a = arena_alloc(&cl->a, (np + 1) * sizeof(f->u.a[0]));
		f->u.a[0] = (struct xv *)msg;
		for (size_t i = 0; i < np; i++)
			f->u.a[i + 1] = data->u.a[i];
		cl->fault = f;
	}
	n = (size_t)snprintf(cl->err, sizeof(cl->err), "%s",
			     msg && msg->type == XV_STRING ? msg->u.s : "an error");
	for (size_t i = 0; data && data->type == XV_ARRAY && i < data->len; i++) {
		const struct xv *p = data->u.a[i];

		if (n < sizeof(cl->err))
			n += (size_t)snprintf(cl->err + n, sizeof(cl->err) - n, "%s%s",
					      i ? ", " : ": ",
					      p->type == XV_STRING ? p->u.s : "?");
	}
}

static const struct xv *call(struct xb_client *cl, const char *method, int with_session,
			     const struct xv *const *args, size_t nargs)
{
	struct buf body = BUF_INIT, req = BUF_INIT, in = BUF_INIT;
	const struct xv *res = NULL, *v, *e;
	struct xv *root;
	struct emit em;
	size_t off, len;
	const char *perr;
	int refused = 0;

	json_emit_init(&em, &body);
	emit_struct_begin(&em);
	emit_member(&em, "jsonrpc");
	emit_str(&em, "2.0");
	emit_member(&em, "method");
	emit_str(&em, method);
	emit_member(&em, "params");
	emit_array_begin(&em);
	if (with_session)
		emit_str(&em, cl->session);
	for (size_t i = 0; i < nargs; i++)
		emit_value(&em, args[i]);
	emit_array_end(&em);
	emit_member(&em, "id");
	emit_i64(&em, ++cl->id);
	emit_struct_end(&em);
	buf_addf(&req, "POST /jsonrpc HTTP/1.1\r\nHost: localhost\r\n"
		 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", body.len);
	buf_add(&req, body.data, body.len);
	/* args may live in the arena: reset it only once they are written */
	arena_free(&cl->a);
	arena_init(&cl->a, 0);
	cl->fault = NULL;
	if (send_all(cl, req.data, req.len)) {
		fail(cl, "daemon: %s", strerror(errno));
		goto out;
	}
	if (read_reply(cl, &in, &off, &len, NULL))
		goto out;
	if (json_parse(&cl->a, in.data + off, len, &root, &perr)) {
		fail(cl, "daemon: %s", perr);
		goto out;
	}
	e = xv_get(root, "error");
	v = xv_get(root, "result");
	if (e && e->type != XV_NIL) {
		err_desc(cl, e);
		refused = 1;
	}
	else if (!v)
		fail(cl, "%s: a reply without a result", "daemon");
	else
		res = v;
out:
	cl->down = !res && !refused;
	buf_free(&body);
	buf_free(&req);
	buf_free(&in);
	return res;
}

int xbc_open(struct xb_client *cl, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xv user = { .type = XV_STRING, .len = 4, .u.s = "root" };
	struct xv pass = { .type = XV_STRING, .len = 0, .u.s = "" };
	const struct xv *args[2] = { &user, &pass }, *r;

	memset(cl, 0, sizeof(*cl));
	arena_init(&cl->a, 0);
	cl->fd = -1;
	cl->down = 1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(cl, "%s: path too long", path);
	strcpy(sa.sun_path, path);
	cl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(cl->err, sizeof(cl->err), "%s: %s (is the daemon running?)", path,
			 strerror(errno));
		cl->down = 1;
		return -1;
	}
	/* the local superuser: the daemon checks the peer's uid, not this */
	r = call(cl, "session.login_with_password", 0, args, 2);
	if (!r)
		return -1;
	if (r->type != XV_STRING || r->len >= sizeof(cl->session))
		return fail(cl, "%s: a login reply without a session", "daemon");
	memcpy(cl->session, r->u.s, r->len + 1);
	return 0;
}

void xbc_close(struct xb_client *cl)
{
	if (cl->fd >= 0) {
		if (*cl->session)
			call(cl, "session.logout", 1, NULL, 0);
		close(cl->fd);
	}
	cl->fd = -1;
#ifdef CONFIG_XB_XE
	tls_conn_free(cl->tls);
	cl->tls = NULL;
#endif
	arena_free(&cl->a);
}

#ifdef CONFIG_XB_XE
int xbc_http(struct xb_client *cl, const char *method, const char *path, const char *body,
	     size_t blen, int *status, const char **out, size_t *outlen)
{
	struct buf req = BUF_INIT, in = BUF_INIT;
	size_t off, len;
	int rc = -1;

	*status = 0;
	arena_free(&cl->a);
	arena_init(&cl->a, 0);
	cl->fault = NULL;
	buf_addf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n",
		 method, path, blen);
	if (send_all(cl, req.data, req.len) || (blen && send_all(cl, body, blen))) {
		/* a refusal may close the connection before the body is in:
		 * its answer, if any, says more than the broken pipe */
		snprintf(cl->err, sizeof(cl->err), "daemon: %s", strerror(errno));
	}
	if (read_reply(cl, &in, &off, &len, status))
		goto out;
	*out = arena_strndup(&cl->a, in.data + off, len);
	*outlen = len;
	rc = 0;
out:
	buf_free(&req);
	buf_free(&in);
	return rc;
}

int xbc_open_tls(struct xb_client *cl, const char *host, int port, const char *user,
		 const char *password)
{
	struct xv u = { .type = XV_STRING, .len = strlen(user), .u.s = (char *)user };
	struct xv p = { .type = XV_STRING, .len = strlen(password), .u.s = (char *)password };
	const struct xv *args[2] = { &u, &p }, *r;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL, *a;
	char ports[12];
	int rc;

	memset(cl, 0, sizeof(*cl));
	arena_init(&cl->a, 0);
	cl->fd = -1;
	snprintf(ports, sizeof(ports), "%d", port);
	rc = getaddrinfo(host, ports, &hints, &ai);
	if (rc) {
		snprintf(cl->err, sizeof(cl->err), "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (a = ai; a; a = a->ai_next) {
		cl->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (cl->fd < 0)
			continue;
		if (!connect(cl->fd, a->ai_addr, a->ai_addrlen))
			break;
		rc = errno;
		close(cl->fd);
		cl->fd = -1;
		errno = rc;
	}
	freeaddrinfo(ai);
	if (cl->fd < 0) {
		snprintf(cl->err, sizeof(cl->err), "%s:%d: %s", host, port, strerror(errno));
		return -1;
	}
	cl->tls = tls_client_any(cl->fd, host, cl->err, sizeof(cl->err));
	if (!cl->tls)
		return -1;
	if ((rc = tls_handshake(cl->tls)) != 0) {
		snprintf(cl->err, sizeof(cl->err), "%s:%d: the TLS handshake failed", host, port);
		return -1;
	}
	r = call(cl, "session.login_with_password", 0, args, 2);
	if (!r)
		return -1;
	if (r->type != XV_STRING || r->len >= sizeof(cl->session))
		return fail(cl, "%s: a login reply without a session", host);
	memcpy(cl->session, r->u.s, r->len + 1);
	return 0;
}
#endif

int xbc_down(const struct xb_client *cl)
{
	return cl->down;
}

const struct xv *xbc_call(struct xb_client *cl, const char *method,
			  const struct xv *const *args, size_t nargs)
{
	return call(cl, method, 1, args, nargs);
}
