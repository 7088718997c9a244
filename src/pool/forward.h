/* Forwarding (docs/POOL.md 5), both sides.  On the master, a call on an
 * object a member owns goes down that member's channel as the same XenAPI
 * call (params[0] the member's channel session) and is answered as if
 * local, errors included; on the member, such calls run through its own
 * dispatcher, and each reply goes only after the changes its call made
 * (5.3). */
#ifndef XB_POOL_FORWARD_H
#define XB_POOL_FORWARD_H

#include <stddef.h>
#include <stdint.h>

struct call;
struct chan;
struct dm_class;
struct obj;
struct xv;

/* 5.1's table: for <class k>.<msg> (Async. stripped) with c's params, the
 * object whose owner runs the call (*to; NULL: here).  0, 1 to run it
 * here although it names a member's object (host.destroy), or -1 after
 * api_fail() (VM.start_on naming another host than the VM's). */
int fwd_route(struct call *c, const struct dm_class *k, const char *msg, struct obj **to);

/* ---- the master ---- */

/* Member slot's host (its ref is in its pool_member), or NULL.  O(1). */
struct obj *fwd_host(unsigned slot);

/* Set the API's route hook (every daemon: any host can have members). */
void fwd_master_init(void);
/* A response on ch (a member's channel) to one of our "m<n>" calls. */
void fwd_answer(struct chan *ch, const struct xv *v);
/* Send the call framed in b (chan_call_begin on x->ch; b is freed) and
 * have c wait for its answer, ms at most: converted by m's result type
 * (NULL: a string), or with FWD_HTTP by relay_answer (a relayed GET,
 * pool/relay.c).  A write that fails closes the channel: c fails then. */
struct mem;
struct buf;
struct dm_msg;
#define FWD_HTTP ((const struct dm_msg *)1)
void fwd_wait(struct call *c, struct mem *x, struct buf *b, int64_t ms, const struct dm_msg *m);
/* ch is gone: its waiting calls fail (CANNOT_CONTACT_HOST). */
void fwd_gone(struct chan *ch);
/* Calls unanswered for 3600 s fail (CANNOT_CONTACT_HOST).  O(waiting). */
void fwd_tick(int64_t now);
/* The master forgets member x (3.7): its mirror (every object it owns:
 * O(objects)) and its pool_member record, or with revoke that record
 * barred (if it comes back it is refused: host.destroy; pool.revoke_member
 * should call this too) and its channel closed 4003.  Silently offline:
 * no HOST_OFFLINE for a host that left.  why: the master's console line
 * "member UUID <why>" (NULL: none, the caller said it). */
struct mem;
void fwd_forget(struct mem *x, int revoke, const char *why);
/* Daemon exit: forget the waiting calls (their connections go next). */
void fwd_dispose(void);

/* ---- the member ---- */

/* A message from the master on ch: a call runs (0), anything else is
 * not ours (-1). */
int fwd_run(struct chan *ch, const char *s, size_t n);
/* pool_forward_release (pool.h) with the generation the mirror's syncs
 * sent cover (for tests). */
void fwd_release(int (*saved_since)(uint64_t gen), uint64_t sent);
/* The channel is gone: answers not sent are dropped, running calls go on
 * unanswered (the channel's session is the mirror's: pool/mirror.c). */
void fwd_closed(void);

#endif
