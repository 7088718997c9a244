/* The HTTP side of the daemon (server/conn.c). */
#ifndef XB_SERVER_H
#define XB_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* Connections (docs/DAEMON.md): beyond a limit the longest idle one that
 * may go makes room, else the new one is refused.  (tests/fuzz/fuzz_conn.c
 * sets small ones.) */
#ifndef SERVER_MAX_CONNS
#define SERVER_MAX_CONNS 800            /* over TCP, as XAPI */
#define SERVER_MAX_PER_PEER 64          /* from one address */
#define SERVER_MAX_UNIX 64              /* on the Unix socket, apart */
#endif

/* tls: serve HTTPS (tls_server_init first) */
int server_listen_tcp(const char *addr_port, int tls, char *err, size_t errlen);
int server_listen_unix(const char *path, char *err, size_t errlen);
void server_on_accept(int fd, int events, void *opaque);
int64_t server_tick(int64_t now);
/* Write the queued replies; a reply whose call changed the datamodel
 * only once saved_since(the generation its call began at) says every
 * change since is on disk (store_saved_since). */
void server_flush_output(int (*saved_since)(uint64_t gen));
void server_shutdown(void);
/* Close the plain TCP listeners; with net, also the plain connections from
 * beyond loopback (idle ones now, the others after their current reply). */
void server_close_plain(int net);

#ifdef CONFIG_XB_POOL
/* The pool's route (docs/POOL.md 2.3), hooks set by the daemon so that
 * conn.c knows no pool.  GET /pool/ws goes to server_pool_upgrade with the
 * connection's TLS (NULL: plain) and pw: 1 or 0 when an Authorization:
 * Basic password was checked (good, bad), 2 when it was not for the
 * address's failed logins (API_AUTH_LIMITED), -1 when none came.  It appends
 * the whole response to resp and returns 1 for a 101: once that is
 * written (after the store committed what the hook changed), the socket,
 * its TLS and the bytes already read leave the server for
 * server_pool_adopt, which owns them from then on. */
struct http_req;
struct tls_conn;
struct buf;
extern int (*server_pool_upgrade)(struct tls_conn *t, const struct http_req *req, int pw,
				  const char *peer, struct buf *resp);
extern void (*server_pool_adopt)(int fd, struct tls_conn *t, const char *peer,
				 struct buf *in);

/* The stats relay (docs/POOL.md 7.3): a GET for another host of the pool.
 * server_pool_relay(a, req, NULL, NULL) says whether req is one: -1 no
 * (served here), 0 yes (credentials first), or a status to answer now
 * (403: a path not relayed).  Then, credentials checked, with c (its
 * complete() and conn set) and r: 1 when c waits (completed later with r
 * filled), or the status to answer now with r's text.  Answers are read
 * from r; the body is the server's to free. */
struct arena;
struct call;
struct relay_res {
	void *conn;                     /* the server's */
	int status;
	char ctype[64];
	struct buf body;
};
extern int (*server_pool_relay)(struct arena *a, const struct http_req *req, struct call *c,
				struct relay_res *r);
/* A GET answered here as if local and authenticated (the member's side of
 * the relay): /console_log, the stats routes.  The status (-1: no such
 * route), the body in b and its type in *ctype. */
int server_get_local(struct arena *a, const char *path, const char *query, const char *accept,
		     struct buf *b, const char **ctype);
#endif

#ifdef CONFIG_XB_CONSOLE
/* The guest console (src/console, docs/CONSOLES.md), hooks set by the
 * daemon: CONNECT /console, and GET /console with Upgrade: websocket,
 * once the credentials were checked (session_id from the Cookie or the
 * query, Basic, the Unix socket's root), go to server_console_open: it
 * appends the whole response to resp and returns 1 when the connection
 * is the console's once that is written: then server_console_adopt gets
 * the socket, its TLS, the bytes already read and *arg (malloc'd; freed
 * here if the connection closes first). */
struct http_req;
struct tls_conn;
struct buf;
extern int (*server_console_open)(const struct http_req *req, struct buf *resp, void **arg);
extern void (*server_console_adopt)(int fd, struct tls_conn *t, const char *peer,
				    struct buf *in, void *arg);
#endif

/* server/https_only.c.  127.0.0.0/8, ::1 or ::ffff:127.x (as inet_ntop
 * writes them). */
int addr_is_loopback(const char *addr);
/* Open the plain listener http ("" none) as the policy allows, set
 * host.https_only, and take host.set_https_only's hook. */
int https_only_init(const char *http, int on, char *err, size_t errlen);
void https_only_dispose(void);

/* server/netinfo.c: host.address and the management PIF from the
 * interface ifname (else the default route's, else loopback), kept up to
 * date from the loop; network: xenbox.conf's ("dhcp", "static"). */
void netinfo_start(const char *ifname, const char *network);
void netinfo_stop(void);

#endif
