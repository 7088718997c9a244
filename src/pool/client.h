/* A XenAPI client over the daemon's Unix socket: JSON-RPC 2.0 on POST
 * /jsonrpc, one keep-alive connection, blocking.  As the local superuser
 * (the peer's uid is 0) the login needs no password.  For the `xenbox
 * pool` applet, and `xe` (src/xe/), which also reaches a remote host over
 * TLS with a user and password (xbc_open_tls). */
#ifndef XB_POOL_CLIENT_H
#define XB_POOL_CLIENT_H

#include <stddef.h>

#include "lib/arena.h"
#include "rpc/value.h"

struct tls_conn;

struct xb_client {
	int fd;
	int id;
	struct arena a;                 /* replies; reset by each call */
	char session[64];
	char err[512];                  /* why the last call failed */
	struct tls_conn *tls;           /* xbc_open_tls's; NULL: a plain socket */
	/* the last call's XenAPI failure, [code, params...] (strings, in cl->a
	 * until the next call), or NULL: it failed on the way (or did not) */
	const struct xv *fault;
	int down;                       /* it failed on the way, not by the API */
};

/* Connect to path and log in as root.  0, or -1 with cl->err. */
int xbc_open(struct xb_client *cl, const char *path);
/* method(session, args...): the result (in cl->a, valid until the next
 * call), or NULL with cl->err: "CODE: param, param" for a XenAPI failure,
 * else what went wrong on the way. */
const struct xv *xbc_call(struct xb_client *cl, const char *method,
			  const struct xv *const *args, size_t nargs);
void xbc_close(struct xb_client *cl);       /* logs out; idempotent */
/* After a failed xbc_open or xbc_call: 1 if no answer came (the socket,
 * HTTP, a reply that is no JSON-RPC: the connection is no good any more),
 * 0 if the API answered with an error. */
int xbc_down(const struct xb_client *cl);

/* Connect to host:port over TLS (any certificate: server/tls.c's
 * tls_client_any; host a literal address or a name) and log in as user
 * with password.  0, or -1 with cl->err (and cl->fault for a refused
 * login).  xbc_call and xbc_close as above. */
int xbc_open_tls(struct xb_client *cl, const char *host, int port, const char *user,
		 const char *password);

/* One HTTP request on the connection (xe's transfers): method path (the
 * caller puts the session in the query), body of blen bytes.  0 with the
 * reply's body in *out (cl->a, until the next call) for a 200; else -1
 * with cl->err, and *status the reply's status (0: none came). */
int xbc_http(struct xb_client *cl, const char *method, const char *path, const char *body,
	     size_t blen, int *status, const char **out, size_t *outlen);

#endif
