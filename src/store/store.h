/* The datamodel's persistence (SQLite); see store.c for the write policy. */
#ifndef XB_STORE_H
#define XB_STORE_H

#include <stddef.h>
#include <stdint.h>

int store_open(const char *path, char *err, size_t errlen);
void store_close(void);                 /* idempotent */
/* Owners (docs/POOL.md 4.1): an object another host owns (owner != 0) is
 * written with that host's name (owner_name, never NULL) in the column
 * xb_owner, NULL for this host's; at load owner_number maps it back (-1:
 * the row is not loaded).  Set before store_load, by the pool's code; the
 * store knows no pool.  Without them every object is this host's. */
void store_set_owners(const char *(*owner_name)(unsigned owner),
		      int (*owner_number)(const char *name));
/* Load every persistent object into the datamodel (after dm_init). */
int store_load(char *err, size_t errlen);
/* Something changed (the datamodel's change hook). */
void store_mark_dirty(void);
/* Write what changed in one transaction.  0: everything is saved (or
 * there was nothing to save); -1: changes wait, still marked, for a later
 * try.  now: the loop's clock (now_ms); after a failure, calls before the
 * back-off has passed do not try (0: try regardless, as at exit).  The
 * first failure of an episode is logged, and the recovery. */
int store_flush(int64_t now);
/* ms until store_flush() should run again: -1 nothing waits; 0 changes
 * made since the last flush (a reply released after the commit started
 * a call); else the back-off of a failed flush. */
int64_t store_retry_in(int64_t now);
/* 1 when no change made after datamodel generation gen waits to be
 * saved: a reply that acknowledges changes made after gen may go out.
 * O(1); valid after store_flush(). */
int store_saved_since(uint64_t gen);
unsigned long store_commits(void);      /* for tests and benchmarks */

#endif
