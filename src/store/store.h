/* The datamodel's persistence (SQLite); see store.c for the write policy. */
#ifndef XB_STORE_H
#define XB_STORE_H

#include <stddef.h>

int store_open(const char *path, char *err, size_t errlen);
void store_close(void);                 /* idempotent */
/* Load every persistent object into the datamodel (after dm_init). */
int store_load(char *err, size_t errlen);
/* Something changed (the datamodel's change hook). */
void store_mark_dirty(void);
/* Write what changed in one transaction; 0 when nothing to do. */
int store_flush(void);
unsigned long store_commits(void);      /* for tests and benchmarks */

#endif
