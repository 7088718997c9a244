/* What the daemon calls of the pool (docs/POOL.md): the master's side
 * (pool/master.c: the /pool/ws route, members' channels, liveness) and the
 * member's (pool/member.c: joining and keeping the channel to the master). */
#ifndef XB_POOL_H
#define XB_POOL_H

#include <stdint.h>

struct config_pool;
struct http_req;
struct tls_conn;
struct buf;

/* Set the server's hooks; the master's side serves every daemon (any
 * host can become a master when a member dials it).  relay_domain:
 * pool_relay_domain (NULL: none; docs/POOL.md 7). */
void pool_master_init(int dead_after, int metrics_interval, const char *relay_domain);
int64_t pool_master_tick(int64_t now);
void pool_master_dispose(void);

/* Compare xenbox.conf with pool_link (3.4) and start joining or
 * connecting, or leave.  cfg is kept (the daemon's). */
void pool_member_start(const struct config_pool *cfg, const char *state_dir);
int64_t pool_member_tick(int64_t now);
/* For pool.get_channel_status: the member's state, master and last
 * error into the map (nothing when this host has no pool_master). */
struct dm_val;
void pool_member_status(struct dm_val *map);
void pool_member_dispose(void);
/* On a member, in before_sleep after the store commit: send the answers
 * to the master's calls that may go (docs/POOL.md 5.3; pool/forward.c). */
void pool_forward_release(int (*saved_since)(uint64_t gen));

/* The mirror (pool/mirror.c, docs/POOL.md 4).  Before the store's commit:
 * a member's xbpool.sync of this iteration; ms until its next metrics
 * tick, or -1.  After the commit: the master's answers to syncs whose
 * changes are saved (saved: the store's store_saved_since). */
int64_t pool_mirror_tick(int64_t now);
void pool_mirror_flush(int (*saved)(uint64_t gen));
/* For store_set_owners, before store_load: an owner's host ref, and back
 * (-1: an owner this host does not know). */
const char *pool_owner_name(unsigned owner);
int pool_owner_number(const char *name);

/* The Upgrade's checks (2.3), for tests: what the master answers (101, or
 * a status with the ErrorDescription in resp). */
int pool_upgrade(struct tls_conn *t, const struct http_req *req, int pw, const char *peer,
		 struct buf *resp);

/* The delay before attempt k + 1 after k failed ones (2.5), with u in
 * [0, 1): min(300, 2^k) s times 0.5 + 0.5u; k 0: after a connection that
 * was up long: 0.5 + 9.5u s.  In ms. */
int64_t pool_backoff_ms(int k, double u);

#endif
