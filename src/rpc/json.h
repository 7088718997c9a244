/* JSON codec (RFC 8259) and JSON-RPC v1/v2 framing as XAPI speaks them.
 * Numbers: integral and within int64 -> XV_INT, else XV_DOUBLE.  Strings
 * are unescaped to UTF-8 (\uXXXX incl. surrogate pairs); invalid UTF-8 or
 * lone surrogates are errors.  Knows nothing of XenAPI or HTTP.
 *
 * The emitter writes what XAPI's Yojson writes: no whitespace; ", \ and
 * control characters (and DEL) escaped as \" \\ \b \f \n \r \t or
 * \u00xx; other bytes, UTF-8 included, as they are; int64 and int32 as
 * numbers; doubles as "%.16g" (or "%.17g"), with ".0" added to integral
 * ones; NaN, Infinity and -Infinity for the non-finite (Yojson's default,
 * not RFC 8259: our own reader refuses them); datetimes as strings. */
#ifndef XB_JSON_H
#define XB_JSON_H

#include <stddef.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "rpc/emit.h"
#include "rpc/value.h"
#include "rpc/xmlrpc.h"         /* struct rpc_call */

#define JSON_MAX_DEPTH 64

/* Parse one JSON text (trailing whitespace allowed, nothing else).
 * "Integral" is lexical: 5 is XV_INT, 5.0 and 5e0 are XV_DOUBLE (as in
 * XAPI's Yojson), so values keep their type through a round trip.
 * Numbers overflowing a double, object keys containing U+0000 and a BOM
 * are errors.  *err as for xmlrpc_parse_call ("invalid JSON at byte N:
 * ..."), in a per-thread buffer. */
int json_parse(struct arena *a, const char *s, size_t len, struct xv **out,
	       const char **err);

void json_emit_init(struct emit *e, struct buf *out);

/* Decode a JSON-RPC request object: "method" (string), "params" (array;
 * absent means []), "id" (required, not null), "jsonrpc":"2.0" sets
 * jsonrpc_v2.  -1 with *err on anything else.  Like XAPI: the id must be
 * an integer or a string, and a v2 request may pass params as null ([])
 * or as an object (one struct argument).  On failure out->jsonrpc_v2 and
 * out->id are still set when the request got that far, so the error
 * reply can be framed to match. */
int jsonrpc_parse_call(struct arena *a, const char *body, size_t len,
		       struct rpc_call *out, const char **err);

/* Success: result_begin, emit one value, result_end.
 *   v1: {"result":V,"error":null,"id":ID}
 *   v2: {"jsonrpc":"2.0","result":V,"id":ID}                     */
void jsonrpc_result_begin(struct buf *out, const struct rpc_call *c);
void jsonrpc_result_end(struct buf *out, const struct rpc_call *c);
/* XenAPI failure [code, params...] (NULL strings are written as ""; with
 * n == 0 the v2 message is ""; a NULL c->id is written as null):
 *   v1: {"result":null,"error":[CODE,P...],"id":ID}
 *   v2: {"jsonrpc":"2.0","error":{"code":1,"message":CODE,"data":[P...]},"id":ID} */
void jsonrpc_error(struct buf *out, const struct rpc_call *c,
		   const char *const *desc, size_t n);

/* The items of a call's params re-encoded for another daemon (the pool's
 * forwarding, docs/POOL.md 5.2): p0 in place of params[0], then
 * params[1..] as they were decoded (from XML-RPC or JSON).  -1 when JSON
 * cannot carry them: a NaN or infinite double (our reader refuses what
 * this emitter writes for those) or nesting beyond e's depth.  O(tree). */
int json_emit_params(struct emit *e, const char *p0, const struct xv *params);

#endif
