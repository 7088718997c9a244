/* JSON codec (RFC 8259) and JSON-RPC v1/v2 framing as XAPI speaks them.
 * Numbers: integral and within int64 -> XV_INT, else XV_DOUBLE.  Strings
 * are unescaped to UTF-8 (\uXXXX incl. surrogate pairs); invalid UTF-8 or
 * lone surrogates are errors.  Knows nothing of XenAPI or HTTP. */
#ifndef XB_JSON_H
#define XB_JSON_H

#include <stddef.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "rpc/emit.h"
#include "rpc/value.h"
#include "rpc/xmlrpc.h"         /* struct rpc_call */

#define JSON_MAX_DEPTH 64

/* Parse one JSON text (trailing whitespace allowed, nothing else). */
int json_parse(struct arena *a, const char *s, size_t len, struct xv **out,
	       const char **err);

void json_emit_init(struct emit *e, struct buf *out);

/* Decode a JSON-RPC request object: "method" (string), "params" (array;
 * absent means []), "id" (required, not null), "jsonrpc":"2.0" sets
 * jsonrpc_v2.  -1 with *err on anything else. */
int jsonrpc_parse_call(struct arena *a, const char *body, size_t len,
		       struct rpc_call *out, const char **err);

/* Success: result_begin, emit one value, result_end.
 *   v1: {"result":V,"error":null,"id":ID}
 *   v2: {"jsonrpc":"2.0","result":V,"id":ID}                     */
void jsonrpc_result_begin(struct buf *out, const struct rpc_call *c);
void jsonrpc_result_end(struct buf *out, const struct rpc_call *c);
/* XenAPI failure [code, params...]:
 *   v1: {"result":null,"error":[CODE,P...],"id":ID}
 *   v2: {"jsonrpc":"2.0","error":{"code":1,"message":CODE,"data":[P...]},"id":ID} */
void jsonrpc_error(struct buf *out, const struct rpc_call *c,
		   const char *const *desc, size_t n);

#endif
