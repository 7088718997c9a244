/* Guest consoles over /console (docs/CONSOLES.md; CONFIG_XB_CONSOLE): the
 * route's checks, the viewers' connections (RFB over a WebSocket or after
 * CONNECT; the raw text stream of `vt100` consoles after CONNECT), one
 * terminal per watched VM fed from the guest's console output, keys to
 * the guest.  conn.c knows none of it: daemon.c sets server.h's hooks to
 * these. */
#ifndef XB_CONSOLE_H
#define XB_CONSOLE_H

#include <stddef.h>

struct http_req;
struct tls_conn;
struct buf;

/* An authenticated CONNECT or WebSocket GET on /console: the whole
 * response into resp; 1 when the connection is the console's once that is
 * written (console_adopt then gets it with *arg, plain malloc'd memory
 * the caller frees if the connection closes first), 0 for a refusal. */
int console_open(const struct http_req *req, struct buf *resp, void **arg);
void console_adopt(int fd, struct tls_conn *t, const char *peer, struct buf *in, void *arg);

/* The guest's output (api_console_log_read's tap); p NULL: the VM
 * stopped, its viewers are closed. */
void console_output(const char *vmref, const char *p, size_t n);

void console_dispose(void);

#endif
