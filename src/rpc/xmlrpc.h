/* XML-RPC codec: methodCall/methodResponse decoding into rpc/value.h trees,
 * and an emitter (rpc/emit.h) writing XAPI's style: untagged strings
 * (<value>text</value>), int64 as strings, no whitespace between elements.
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
 * arena's limit or XMLRPC_MAX_DEPTH is exceeded. */
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

/* Append s with &, <, > (and in attributes ", ') escaped. */
void xml_escape(struct buf *out, const char *s, size_t n);

#endif
