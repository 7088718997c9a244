/* Growable byte buffer.  Appends are amortised O(1); the data stays
 * NUL-terminated so it can be handed to string functions.  Allocation
 * failure aborts: the daemon's memory is bounded by its request limits, and
 * a half-written response is worse than a restart under supervision. */
#ifndef XB_BUF_H
#define XB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_free(struct buf *b);           /* idempotent */
void buf_reset(struct buf *b);          /* len = 0, keeps the memory */
void buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
void buf_add_i64(struct buf *b, int64_t v);
/* Drop the first n bytes (O(len - n) move). */
void buf_consume(struct buf *b, size_t n);
/* Hand the data to the caller (who frees it); b is left empty. */
char *buf_steal(struct buf *b);

#endif
