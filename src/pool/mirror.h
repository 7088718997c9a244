/* The mirror (docs/POOL.md 4), for the pool's own files: on a member the
 * hello's cursor and the xbpool.sync builder (pool/member.c calls it), on
 * the master the hello's answer and the apply (pool/master.c), on both
 * the owners' names the store keeps (pool.h) and the liveness overlays. */
#ifndef XB_POOL_MIRROR_H
#define XB_POOL_MIRROR_H

#include <stdint.h>

struct chan;
struct emit;
struct mem;
struct obj;
struct rpc_call;
struct xv;

/* ---- the member ---- */

/* The hello's own members (4.3): host, epoch and a channel session
 * (made now, deleted by mirror_offline). */
void mirror_hello(struct emit *e);
/* The hello's answer res: the owner-1 copies of the pool and the master's
 * host (the pool copy replaces this host's own pool), pool_link's refs,
 * the cursor; from now on the builder sends on ch.  The pool's name, or
 * NULL when res is not a good answer. */
const char *mirror_welcome(struct chan *ch, const struct xv *res, struct obj *link);
/* An answer to a sync came (flow control: 4 unanswered at most). */
void mirror_synced(void);
/* The generation the syncs sent so far cover (0: not sending): a reply to
 * the master's call may go once this covers the call's changes (5.3). */
uint64_t mirror_sent(void);
/* The channel is gone: nothing more is sent; the session goes. */
void mirror_offline(void);
/* This host left its pool: the master's copies go, a pool of its own
 * comes back (3.7).  O(objects). */
void mirror_forget(void);
/* Whether the builder sends o now: every object in a full snapshot;
 * else one changed after from, but a metrics object (DM_C_METRICS) only
 * when urgent or, at a metrics tick, changed after mfrom. */
int mirror_due(const struct obj *o, int full, int tick, uint64_t from, uint64_t mfrom);

/* ---- the master ---- */

void mirror_master_init(int metrics_interval);
/* xbpool.hello from x: 0 with the answer emitted into e, or -1 when its
 * host does not match its pool_member (the caller closes 1008). */
int mirror_hello_reply(struct mem *x, const struct xv *params, struct emit *e, int dead_after);
/* xbpool.sync from x: applied now; its answer (the result of rc) goes out
 * after the store has committed (pool_mirror_flush). */
void mirror_sync(struct mem *x, const struct rpc_call *rc);
/* The sync's apply, for tests: its result {"gen", "rejected"} into e. */
void mirror_apply(struct mem *x, const struct xv *p, struct emit *e);
/* x's host_metrics.live (8); going either way touches its objects, whose
 * allowed_operations read [] while it is down.  O(objects). */
void mirror_live(struct mem *x, int up);

#endif
