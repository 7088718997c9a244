/* Bump allocator for per-request data: many small allocations, one free.
 * A request's decoded values, strings and scratch all live in its arena and
 * go away together, so a parse error halfway through leaks nothing. */
#ifndef XB_ARENA_H
#define XB_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used;        /* bytes handed out (for limits and tests) */
	size_t limit;       /* 0 = unlimited; beyond it arena_alloc fails */
};

void arena_init(struct arena *a, size_t limit);
void arena_free(struct arena *a);    /* idempotent; a can be reused */
/* Returns NULL only when the limit would be exceeded. Memory is zeroed. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);

#endif
