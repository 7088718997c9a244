/* libFuzzer target: the JSON reader and writer, and JSON-RPC framing.
 *
 * Parse; on success write the tree back, read it again and require deep
 * equality, a byte fixpoint on the second trip, and survival of an
 * XML-RPC trip under roundtrip.h's relation.  As a JSON-RPC request: on
 * success frame a result and an error, and read both back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/json.h"
#include "rpc/xmlrpc.h"
#include "roundtrip.h"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void emit(struct buf *b, const struct xv *v)
{
	struct emit e;

	buf_reset(b);
	json_emit_init(&e, b);
	emit_value(&e, v);
	CHECK(!e.error);
}

static void xml_trip(struct arena *a, struct xv *v)
{
	struct buf b = BUF_INIT;
	struct emit e;
	struct rpc_call c;
	const char *err;

	xmlrpc_emit_init(&e, &b);
	xmlrpc_call_begin(&b, "m");
	xmlrpc_param_begin(&b);
	emit_value(&e, v);
	xmlrpc_param_end(&b);
	xmlrpc_call_end(&b);
	CHECK(!e.error);
	if (xmlrpc_parse_call(a, b.data, b.len, &c, &err) == 0) {
		CHECK(c.params->len == 1);
		CHECK(rt_xml_equal(v, c.params->u.a[0]));
	} else {
		CHECK(!rt_tree_xml_clean(v));   /* U+FFFE etc. */
	}
	buf_free(&b);
}

static void value_trip(struct arena *a, struct xv *v)
{
	struct buf b1 = BUF_INIT, b2 = BUF_INIT;
	struct xv *v2;
	const char *err;

	emit(&b1, v);
	CHECK(json_parse(a, b1.data, b1.len, &v2, &err) == 0);
	CHECK(xv_equal(v, v2));
	emit(&b2, v2);
	CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	xml_trip(a, v);
	buf_free(&b1);
	buf_free(&b2);
}

static void rpc_trip(struct arena *a, const struct rpc_call *c)
{
	const char *desc[2] = { "CODE", NULL };
	struct buf b = BUF_INIT;
	struct emit e;
	struct xv *v;
	const char *err;

	CHECK(c->method && strlen(c->method) < 1u << 30);
	CHECK(c->params && c->params->type == XV_ARRAY);
	CHECK(c->id && (c->id->type == XV_INT || c->id->type == XV_STRING));
	json_emit_init(&e, &b);
	jsonrpc_result_begin(&b, c);
	emit_value(&e, c->params);
	jsonrpc_result_end(&b, c);
	CHECK(!e.error);
	CHECK(json_parse(a, b.data, b.len, &v, &err) == 0);
	CHECK(xv_equal(xv_get(v, "result"), c->params));
	CHECK(xv_equal(xv_get(v, "id"), c->id));
	CHECK(c->jsonrpc_v2 ? xv_get(v, "jsonrpc") != NULL
			    : xv_get(xv_get(v, "error"), "x") == NULL &&
			      xv_get(v, "error")->type == XV_NIL);
	buf_reset(&b);
	desc[1] = c->method;
	jsonrpc_error(&b, c, desc, 2);
	CHECK(json_parse(a, b.data, b.len, &v, &err) == 0);
	CHECK(xv_equal(xv_get(v, "id"), c->id));
	if (c->jsonrpc_v2) {
		const struct xv *d = xv_get(xv_get(v, "error"), "data");

		CHECK(d && d->len == 1 && strcmp(d->u.a[0]->u.s, c->method) == 0);
	} else {
		const struct xv *d = xv_get(v, "error");

		CHECK(d && d->len == 2 && strcmp(d->u.a[1]->u.s, c->method) == 0);
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *err = NULL;
	struct rpc_call c;
	struct arena a;
	struct xv *v;

	arena_init(&a, 4u << 20);
	if (json_parse(&a, s, size, &v, &err) == 0)
		value_trip(&a, v);
	else
		CHECK(err && strstr(err, " at byte ") && v == NULL);
	err = NULL;
	if (jsonrpc_parse_call(&a, s, size, &c, &err) == 0)
		rpc_trip(&a, &c);
	else
		CHECK(err != NULL);
	arena_free(&a);

	arena_init(&a, 1024);
	if (json_parse(&a, s, size, &v, &err) != 0)
		CHECK(err && strstr(err, " at byte "));
	CHECK(a.used <= 1024);
	arena_free(&a);
	return 0;
}
