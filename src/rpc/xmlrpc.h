/* XML-RPC codec: methodCall/methodResponse decoding into rpc/value.h trees,
 * and an emitter (rpc/emit.h) writing XAPI's style: untagged strings
 * (<value>text</value>), int64 as strings, no whitespace between elements,
 * doubles as "%.16g" ("%.17g" if that would not round-trip; "nan", "inf",
 * "-inf" for the non-finite, as OCaml prints them), datetimes as
 * 20240101T12:00:00Z.  Control characters other than \t \n \r are
 * dropped from strings, as XAPI does; other bytes go out unchanged.
 * Knows nothing of XenAPI, HTTP, the datamodel or the hypervisor. */
#ifndef XB_XMLRPC_H
#define XB_XMLRPC_H

#include <stddef.h>

#include "lib/arena.h"
#include "lib/buf.h"
#include "rpc/emit.h"
#include "rpc/value.h"

#define XMLRPC_MAX_DEPTH 64     /* nesting of arrays/structs in a request */

struct rpc_call {
	const char *method;
	struct xv *params;      /* XV_ARRAY, possibly empty */
	const struct xv *id;    /* JSON-RPC only; NULL for XML-RPC */
	int jsonrpc_v2;         /* JSON-RPC only */
};

/* Decode a <methodCall>.  0 on success; -1 with *err a static message
 * ("not well-formed at byte 12: ...") on malformed input or when the
 * arena's limit or XMLRPC_MAX_DEPTH is exceeded ("too large at byte N:
 * request exceeds its memory limit").  The message lives in a per-thread
 * buffer until the thread's next parse.
 *
 * Accepted: UTF-8 only (an encoding declaration may say UTF-8 or ASCII),
 * optional BOM and XML declaration, comments, PIs, attributes (ignored),
 * CDATA, the five predefined entities and &#N;/&#xN; references to XML
 * Chars; DOCTYPE is refused.  Line ends read as \n.  As XAPI does:
 * <i4>, <int> and <i8> all take any int64; <params> may be absent;
 * <value/>, <array/> and <struct/> are empty.  Stricter than XAPI:
 * <boolean> is exactly 0 or 1, <double> is decimal (or nan, -nan, inf,
 * -inf, which our writer and OCaml's %g produce) and finite unless spelt
 * so, <base64> must be padded.  <base64> decodes to an XV_STRING of any
 * bytes; <dateTime.iso8601> is kept as sent (see xv_datetime_parse). */
int xmlrpc_parse_call(struct arena *a, const char *body, size_t len,
		      struct rpc_call *out, const char **err);

/* Decode a <methodResponse> (client side): *result is the single param's
 * value, or the fault struct with *is_fault = 1. */
int xmlrpc_parse_response(struct arena *a, const char *body, size_t len,
			  struct xv **result, int *is_fault, const char **err);

void xmlrpc_emit_init(struct emit *e, struct buf *out);

/* Response framing: begin, emit exactly one value, end. */
void xmlrpc_response_begin(struct buf *out);
void xmlrpc_response_end(struct buf *out);

/* Request framing (clients): call_begin, then per parameter param_begin,
 * one value, param_end; then call_end. */
void xmlrpc_call_begin(struct buf *out, const char *method);
void xmlrpc_param_begin(struct buf *out);
void xmlrpc_param_end(struct buf *out);
void xmlrpc_call_end(struct buf *out);

/* Append s with & < > " ' escaped (safe in text and attributes); C0
 * controls other than \t \n \r are dropped, as XML 1.0 cannot carry
 * them.  Values written through the emitter get XAPI's set: the same
 * without '.  O(n). */
void xml_escape(struct buf *out, const char *s, size_t n);

#endif
