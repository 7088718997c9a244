/* The member's side (pool/member.c), for the pool's own files. */
#ifndef XB_POOL_MEMBER_H
#define XB_POOL_MEMBER_H

/* pool.eject from the master (docs/POOL.md 3.7): this host becomes
 * standalone, guests and devices untouched; its pool_link stays as
 * "ejected" with the digest of the pool_* keys, so that the same
 * xenbox.conf does not join again.  0 when this host is no member. */
int member_eject(void);
/* After the eject's answer was queued: close the channel (1000) behind it
 * and stay idle. */
void member_ejected_close(void);
/* c's client went away: if it was pool.join's, the attempt goes on
 * unanswered (called through api_cancel, pool/forward.c). */
struct call;
void member_cancel(struct call *c);

#endif
