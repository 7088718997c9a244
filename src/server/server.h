/* The HTTP side of the daemon (server/conn.c). */
#ifndef XB_SERVER_H
#define XB_SERVER_H

#include <stddef.h>
#include <stdint.h>

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
