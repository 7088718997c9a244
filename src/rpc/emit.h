/* Streaming encoder interface shared by XML-RPC and JSON.
 *
 * Responses are written straight into an output buffer as the API walks its
 * records: no intermediate tree, no second pass.  Each codec provides an
 * emit_ops; callers use the inline helpers below and never care which wire
 * format they are producing.  Nesting depth is bounded by EMIT_MAX_DEPTH
 * (deeper calls set e->error and write nothing further).
 */
#ifndef XB_EMIT_H
#define XB_EMIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "rpc/value.h"

#define EMIT_MAX_DEPTH 64

struct emit;

struct emit_ops {
	void (*nil)(struct emit *e);
	void (*str)(struct emit *e, const char *s, size_t n);
	/* int64: a decimal string in XML-RPC, a number in JSON */
	void (*i64)(struct emit *e, int64_t v);
	/* int32: <i4> in XML-RPC (only event.from's valid_ref_counts) */
	void (*i32)(struct emit *e, int32_t v);
	void (*boolean)(struct emit *e, int v);
	void (*dbl)(struct emit *e, double v);
	/* t: seconds since the epoch, UTC; written as 20240101T12:00:00Z */
	void (*datetime)(struct emit *e, int64_t t);
	void (*array_begin)(struct emit *e);
	void (*array_end)(struct emit *e);
	void (*struct_begin)(struct emit *e);
	/* a member's name; its value is the next thing emitted */
	void (*member)(struct emit *e, const char *name, size_t n);
	void (*struct_end)(struct emit *e);
	/* a datetime as decoded text, written verbatim (XAPI re-sends a
	 * DateTime's string unchanged).  Optional: emit_value falls back to
	 * datetime (when the text parses) or str when this is NULL. */
	void (*datetime_str)(struct emit *e, const char *s, size_t n);
};

struct emit {
	const struct emit_ops *ops;
	struct buf *out;
	int depth;
	int error;                              /* depth exceeded */
	/* codec state: JSON uses it for commas (1 = next item is first) */
	unsigned char first[EMIT_MAX_DEPTH + 1];
};

static inline void emit_nil(struct emit *e) { e->ops->nil(e); }
static inline void emit_strn(struct emit *e, const char *s, size_t n) { e->ops->str(e, s, n); }
/* Forced inline so that strlen of a literal folds to a constant. */
static inline __attribute__((always_inline)) void emit_str(struct emit *e, const char *s) { e->ops->str(e, s ? s : "", s ? strlen(s) : 0); }
static inline void emit_i64(struct emit *e, int64_t v) { e->ops->i64(e, v); }
static inline void emit_i32(struct emit *e, int32_t v) { e->ops->i32(e, v); }
static inline void emit_bool(struct emit *e, int v) { e->ops->boolean(e, v); }
static inline void emit_double(struct emit *e, double v) { e->ops->dbl(e, v); }
static inline void emit_datetime(struct emit *e, int64_t t) { e->ops->datetime(e, t); }
static inline void emit_array_begin(struct emit *e) { e->ops->array_begin(e); }
static inline void emit_array_end(struct emit *e) { e->ops->array_end(e); }
static inline void emit_struct_begin(struct emit *e) { e->ops->struct_begin(e); }
static inline __attribute__((always_inline)) void emit_member(struct emit *e, const char *name) { e->ops->member(e, name, strlen(name)); }
static inline void emit_struct_end(struct emit *e) { e->ops->struct_end(e); }
static inline void emit_membern(struct emit *e, const char *name, size_t n) { e->ops->member(e, name, n); }

/* Re-emit a decoded tree (any codec to any codec).  Stops early once
 * e->error is set, so its recursion is bounded by EMIT_MAX_DEPTH. */
void emit_value(struct emit *e, const struct xv *v);

#endif
