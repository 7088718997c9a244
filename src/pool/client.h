/* A XenAPI client over the daemon's Unix socket: JSON-RPC 2.0 on POST
 * /jsonrpc, one keep-alive connection, blocking.  As the local superuser
 * (the peer's uid is 0) the login needs no password.  For the `xenbox
 * pool` applet; small and general enough for a future `xe`. */
#ifndef XB_POOL_CLIENT_H
#define XB_POOL_CLIENT_H

#include <stddef.h>

#include "lib/arena.h"
#include "rpc/value.h"

struct xb_client {
	int fd;
	int id;
	struct arena a;                 /* replies; reset by each call */
	char session[64];
	char err[512];                  /* why the last call failed */
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

#endif
