/* libFuzzer target: the XML-RPC reader and writer.
 *
 * Any input, as a methodCall and as a methodResponse.  On success the
 * tree is written back (XAPI style), read again and compared under the
 * XML round-trip relation of roundtrip.h; a second trip must be a byte
 * fixpoint; and the tree must survive a JSON trip too.  On failure there
 * must be an error naming a byte offset. */
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

static void emit_call(struct buf *b, const struct rpc_call *c)
{
	struct emit e;
	size_t i;

	buf_reset(b);
	xmlrpc_emit_init(&e, b);
	xmlrpc_call_begin(b, c->method);
	for (i = 0; i < c->params->len; i++) {
		xmlrpc_param_begin(b);
		emit_value(&e, c->params->u.a[i]);
		xmlrpc_param_end(b);
	}
	xmlrpc_call_end(b);
	CHECK(!e.error);
}

/* The tree through JSON and back. */
static void json_trip(struct arena *a, const struct xv *v)
{
	struct buf b = BUF_INIT;
	struct emit e;
	struct xv *back;
	const char *err;

	if (!rt_tree_json_ok(v))
		return;
	json_emit_init(&e, &b);
	emit_value(&e, v);
	CHECK(!e.error);
	CHECK(json_parse(a, b.data, b.len, &back, &err) == 0);
	CHECK(rt_json_equal(v, back));
	buf_free(&b);
}

static void call_trip(struct arena *a, const struct rpc_call *c)
{
	struct buf b1 = BUF_INIT, b2 = BUF_INIT;
	struct rpc_call c2, c3;
	const char *err;
	int clean;

	CHECK(c->method && c->params && c->params->type == XV_ARRAY);
	CHECK(c->id == NULL && c->jsonrpc_v2 == 0);
	emit_call(&b1, c);
	clean = rt_tree_xml_clean(c->params);
	if (xmlrpc_parse_call(a, b1.data, b1.len, &c2, &err) != 0) {
		CHECK(!clean);          /* only <base64> can produce that */
		goto out;
	}
	CHECK(rt_xml_text_eq(c->method, strlen(c->method), c2.method,
			     strlen(c2.method)));
	CHECK(rt_xml_equal(c->params, c2.params));
	/* once through, the bytes are a fixpoint */
	emit_call(&b2, &c2);
	CHECK(xmlrpc_parse_call(a, b2.data, b2.len, &c3, &err) == 0);
	buf_reset(&b1);
	emit_call(&b1, &c3);
	CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
	json_trip(a, c->params);
out:
	buf_free(&b1);
	buf_free(&b2);
}

static void response_trip(struct arena *a, struct xv *r, int is_fault)
{
	struct buf b = BUF_INIT;
	struct emit e;
	struct xv *back;
	const char *err;
	int f;

	CHECK(r != NULL);
	if (is_fault)
		return;                 /* we never write faults */
	xmlrpc_emit_init(&e, &b);
	xmlrpc_response_begin(&b);
	emit_value(&e, r);
	xmlrpc_response_end(&b);
	CHECK(!e.error);
	if (xmlrpc_parse_response(a, b.data, b.len, &back, &f, &err) == 0) {
		CHECK(f == 0);
		CHECK(rt_xml_equal(r, back));
	} else {
		CHECK(!rt_tree_xml_clean(r));
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *err = NULL;
	struct rpc_call c;
	struct arena a;
	struct xv *r;
	int f;

	arena_init(&a, 4u << 20);
	if (xmlrpc_parse_call(&a, s, size, &c, &err) == 0)
		call_trip(&a, &c);
	else
		CHECK(err && strstr(err, " at byte "));
	arena_free(&a);

	/* and with a small arena: must fail cleanly or succeed */
	arena_init(&a, 2048);
	err = NULL;
	if (xmlrpc_parse_call(&a, s, size, &c, &err) != 0)
		CHECK(err && strstr(err, " at byte "));
	CHECK(a.used <= 2048);
	arena_free(&a);

	arena_init(&a, 4u << 20);
	err = NULL;
	if (xmlrpc_parse_response(&a, s, size, &r, &f, &err) == 0)
		response_trip(&a, r, f);
	else
		CHECK(err && strstr(err, " at byte ") && r == NULL);
	arena_free(&a);
	return 0;
}
