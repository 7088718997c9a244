/* The master's table of members (pool/master.c), for the pool's own files
 * (the mirror, forwarding, the relay): one entry per pool_member seen
 * since the daemon started, numbered from 1 in the order seen.  That
 * number is the `owner` of the member's mirrored objects (struct obj,
 * docs/POOL.md 4.1); it lives in memory only (the store keeps the
 * member's host ref instead). */
#ifndef XB_POOL_MASTER_H
#define XB_POOL_MASTER_H

#include <stdint.h>

struct chan;

struct mem {
	struct mem *next;
	char uuid[37];                  /* of its pool_member */
	unsigned slot;                  /* its owner number, 1.. */
	struct chan *ch;                /* NULL while not connected */
	int64_t last_seen;              /* now_ms of its last frame */
	int live;
	/* the mirror (pool/mirror.c, docs/POOL.md 4.3) */
	int up;                         /* its host_metrics.live (8) */
	int snap;                       /* a full snapshot is being applied */
	unsigned nobj;                  /* objects it owns here (the quota):
					 * counted at each full snapshot */
	uint64_t since;                 /* applied up to this gen of epoch */
	char epoch[37];                 /* "": no cursor, a full snapshot next */
	char session[48];               /* its channel session, from the hello */
};

/* The member of owner number slot, or NULL (0, or none such).  O(1). */
struct mem *master_mem(unsigned slot);
/* The entry of the pool_member of that uuid, made if new.  O(members). */
struct mem *master_mem_of(const char *uuid);

#endif
