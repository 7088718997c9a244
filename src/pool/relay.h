/* The stats relay (docs/POOL.md 7): GETs for a member that clients cannot
 * reach go to the master, named <member's host uuid>.<pool_relay_domain>
 * in the Host: header, and down the member's channel as xbpool.http_get;
 * the member answers with its own local GET's status, type and body.  The
 * master also publishes its members' host.address and console locations
 * by that name (7.2, 7.4). */
#ifndef XB_POOL_RELAY_H
#define XB_POOL_RELAY_H

#include <stddef.h>

struct call;
struct chan;
struct obj;
struct rpc_call;
struct xv;

/* A body larger than this is not relayed: the member answers 502 with a
 * text saying so.  Its JSON escaping must fit the channel's 16 MiB
 * message (WS_MAX_MSG), checked too. */
#define RELAY_MAX_BODY (8u << 20)
/* A relayed GET unanswered after this fails 503, as one whose channel
 * closed (the channel's liveness, pool_dead_after, is the real detector). */
#define RELAY_TIMEOUT_MS (60 * 1000)

/* Host: (a port, a trailing dot, any case) under domain (lower case, no
 * trailing dot): -1 not under it; else 0, with the first label in uuid
 * (lower case) when that is a uuid, else uuid "".  Pure. */
int relay_host(const char *host, const char *domain, char uuid[37]);
/* query without its session_id and task_id parameters, into out (at
 * least strlen(query) + 1 bytes).  Pure. */
void relay_query(const char *query, char *out);

/* The master: keep domain (pool_relay_domain; NULL or "": none) and set
 * the server's relay hook. */
void relay_master_init(const char *domain);
/* The mirror applied o, of member slot (fresh: new here): a host's
 * address and a console's location as 7.2 and 7.4 publish them. */
void relay_publish(struct obj *o, int fresh);
/* A relayed GET's answer (v NULL: none came) into c's relay_res. */
void relay_answer(struct call *c, const struct xv *v);

/* The member: answer the master's xbpool.http_get at once. */
void relay_serve(struct chan *ch, const struct rpc_call *rc);

#endif
