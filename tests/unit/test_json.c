/* rpc/json.c: strict RFC 8259 parser, Yojson-style emitter, JSON-RPC
 * request decoding and v1/v2 response framing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/json.h"
#include "../fuzz/roundtrip.h"

static struct arena A;
static struct buf B;
static const char *E;

static int setup(void **state)
{
	arena_init(&A, 0);
	buf_init(&B);
	E = NULL;
	return 0;
}

static int teardown(void **state)
{
	arena_free(&A);
	buf_free(&B);
	return 0;
}

static struct xv *ok_n(const char *s, size_t n)
{
	struct xv *v = (struct xv *)1;

	if (json_parse(&A, s, n, &v, &E) != 0)
		fail_msg("'%.*s' refused: %s", (int)n, s, E);
	assert_non_null(v);
	return v;
}

static struct xv *ok(const char *s)
{
	return ok_n(s, strlen(s));
}

static void bad_n(const char *s, size_t n, const char *what, long at)
{
	struct xv *v = (struct xv *)1;
	char want[64];

	E = NULL;
	if (json_parse(&A, s, n, &v, &E) == 0)
		fail_msg("accepted: '%.*s'", (int)n, s);
	assert_null(v);
	assert_non_null(E);
	if (!strstr(E, what))
		fail_msg("'%.*s': error '%s' lacks '%s'", (int)n, s, E, what);
	if (at >= 0) {
		snprintf(want, sizeof(want), "at byte %ld:", at);
		if (!strstr(E, want))
			fail_msg("'%.*s': error '%s' is not %s", (int)n, s, E, want);
	}
}

static void bad(const char *s, const char *what, long at)
{
	bad_n(s, strlen(s), what, at);
}

static void assert_str(const struct xv *v, const char *s, size_t n)
{
	assert_non_null(v);
	assert_int_equal(v->type, XV_STRING);
	assert_int_equal(v->len, n);
	assert_memory_equal(v->u.s, s, n);
	assert_int_equal(v->u.s[n], 0);
}

/* ---------------------------------------------------------------------
 * Parser */

static void test_literals(void **state)
{
	struct xv *v = ok("true");

	assert_int_equal(v->type, XV_BOOL);
	assert_int_equal(v->u.b, 1);
	v = ok(" false ");
	assert_int_equal(v->type, XV_BOOL);
	assert_int_equal(v->u.b, 0);
	assert_int_equal(ok("\t\r\nnull\n")->type, XV_NIL);
	bad("tru", "unexpected character", 0);
	bad("nul", "unexpected character", 0);
	bad("fals", "unexpected character", 0);
	bad("True", "unexpected character", 0);
	bad("NaN", "unexpected character", 0);
	bad("Infinity", "unexpected character", 0);
	bad("undefined", "unexpected character", 0);
	bad("'x'", "unexpected character", 0);
	bad("truex", "junk after the value", 4);
	bad("", "unexpected end of input", 0);
	bad("   ", "unexpected end of input", 3);
	bad_n(NULL, 0, "unexpected end of input", 0);
	bad("\xef\xbb\xbf{}", "unexpected character", 0);      /* no BOM */
	bad("\f1", "unexpected character", 0);          /* not JSON space */
}

static void test_numbers(void **state)
{
	static const struct { const char *s; int64_t i; } ints[] = {
		{ "0", 0 }, { "-0", 0 }, { "42", 42 }, { "-7", -7 },
		{ "9223372036854775807", INT64_MAX },
		{ "-9223372036854775808", INT64_MIN },
	};
	static const struct { const char *s; double d; } dbls[] = {
		{ "1.5", 1.5 }, { "-0.0", -0.0 }, { "1e2", 100.0 },
		{ "1E+2", 100.0 }, { "1e-2", 0.01 }, { "60.1", 60.1 },
		{ "9223372036854775808", 9223372036854775808.0 },
		{ "-9223372036854775809", -9223372036854775809.0 },
		{ "123456789012345678901234567890", 1.2345678901234568e29 },
		{ "1.0", 1.0 }, { "0.30000000000000004", 0.30000000000000004 },
		{ "4.9406564584124654e-324", 5e-324 }, { "1e-400", 0.0 },
		{ "1.7976931348623157e308", DBL_MAX },
		{ "0.000000000000000000000000000000000000000000000000000000000000000000000001", 1e-72 },
	};
	static const char *syntax[] = {
		"01", "-01", "1.", ".5", "+1", "1e", "1e+", "-", "--1", "0x1",
		"1.e3", "- 1", "1 .5", "00",
	};
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		struct xv *v = ok(ints[i].s);

		assert_int_equal(v->type, XV_INT);
		assert_true(v->u.i == ints[i].i);
	}
	for (i = 0; i < sizeof(dbls) / sizeof(dbls[0]); i++) {
		struct xv *v = ok(dbls[i].s);

		assert_int_equal(v->type, XV_DOUBLE);
		if (v->u.d != dbls[i].d)
			fail_msg("%s -> %.17g", dbls[i].s, v->u.d);
	}
	assert_true(signbit(ok("-0.0")->u.d));
	for (i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
		struct xv *v;

		if (json_parse(&A, syntax[i], strlen(syntax[i]), &v, &E) == 0)
			fail_msg("accepted '%s'", syntax[i]);
		assert_null(v);
	}
	bad("1e400", "number out of range", 0);
	bad("[-1e400]", "number out of range", 1);
	bad("1e", "bad number", 2);
	bad("-", "bad number", 1);
	bad("-a", "bad number", 1);
	bad("1.x", "bad number", 2);
	bad("01", "junk after the value", 1);
}

static void test_strings(void **state)
{
	assert_str(ok("\"\""), "", 0);
	assert_str(ok("\"abc\""), "abc", 3);
	assert_str(ok("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), "\" \\ / \b \f \n \r \t", 15);
	assert_str(ok("\"\\u0041\\u00e9\\u263A\\uFFFF\""),
		   "A\xc3\xa9\xe2\x98\xba\xef\xbf\xbf", 9);
	assert_str(ok("\"\\ud83d\\ude00\""), "\xf0\x9f\x98\x80", 4);
	assert_str(ok("\"\\uDBFF\\uDFFF\""), "\xf4\x8f\xbf\xbf", 4);
	assert_str(ok("\"a\\u0000b\""), "a\0b", 3);
	assert_str(ok("\"\xf0\x9f\x98\x80 \xc3\xa9 \x7f\""), "\xf0\x9f\x98\x80 \xc3\xa9 \x7f", 9);
	assert_str(ok("\"x\\\"\""), "x\"", 2);
	bad("\"abc", "unterminated string", 4);
	bad("\"abc\\\"", "unterminated string", 6);
	bad("\"\\x\"", "bad escape", 1);
	bad("\"\\", "bad escape", 1);
	bad("\"\\u12\"", "bad escape", 1);
	bad("\"\\u12g4\"", "bad escape", 1);
	bad("\"\\U0041\"", "bad escape", 1);
	bad("\"\\ud800\"", "unpaired surrogate", 1);
	bad("\"\\ud800x\"", "unpaired surrogate", 1);
	bad("\"\\ud800\\u0041\"", "unpaired surrogate", 1);
	bad("\"\\ud800\\ud800\"", "unpaired surrogate", 1);
	bad("\"\\ud800\\", "unpaired surrogate", 1);
	bad("\"\\ud800\\uzzzz\"", "unpaired surrogate", 1);
	bad("\"\\ud800\\n\\u0000\"", "unpaired surrogate", 1);
	bad("\"\\ud800\\\\udc00\"", "unpaired surrogate", 1);
	bad("\"\\udc00\"", "unpaired surrogate", 1);
	bad("\"a\x01\"", "control character in string", 2);
	bad("\"\t\"", "control character in string", 1);
	bad("\"\n\"", "control character in string", 1);
	bad_n("\"a\0\"", 4, "control character in string", 2);
	bad("\"\xff\"", "invalid UTF-8", 1);
	bad("\"\xc0\xaf\"", "invalid UTF-8", 1);
	bad("\"\xe0\x80\xaf\"", "invalid UTF-8", 1);
	bad("\"\xed\xa0\x80\"", "invalid UTF-8", 1);
	bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8", 1);
	bad("\"\xf8\x88\x80\x80\x80\"", "invalid UTF-8", 1);
	bad("\"\xe2\x82\"", "invalid UTF-8", 1);
	bad("\"x\xc3", "invalid UTF-8", 2);
	bad("\"\x80\"", "invalid UTF-8", 1);
}

static void test_arrays_objects(void **state)
{
	struct xv *v = ok(" [ 1 , \"a\" , [ ] , { } , [null] ] ");

	assert_int_equal(v->type, XV_ARRAY);
	assert_int_equal(v->len, 5);
	assert_int_equal(v->u.a[0]->u.i, 1);
	assert_str(v->u.a[1], "a", 1);
	assert_int_equal(v->u.a[2]->type, XV_ARRAY);
	assert_int_equal(v->u.a[2]->len, 0);
	assert_int_equal(v->u.a[3]->type, XV_STRUCT);
	assert_int_equal(v->u.a[3]->len, 0);
	assert_int_equal(v->u.a[4]->u.a[0]->type, XV_NIL);
	v = ok("{\"a\":1,\"b\":{\"c\":[true]},\"a\":2,\"\":3,\"\\u00e9\":4}");
	assert_int_equal(v->type, XV_STRUCT);
	assert_int_equal(v->len, 5);
	assert_string_equal(v->u.m[0].name, "a");
	assert_int_equal(xv_get(v, "a")->u.i, 1);      /* duplicates kept */
	assert_int_equal(v->u.m[2].v->u.i, 2);
	assert_int_equal(xv_get(v, "")->u.i, 3);
	assert_int_equal(xv_get(v, "\xc3\xa9")->u.i, 4);
	assert_int_equal(xv_get(xv_get(v, "b"), "c")->u.a[0]->u.b, 1);
	bad("[1,]", "unexpected character", 3);
	bad("[1 2]", "expected ',' or ']'", 3);
	bad("[,1]", "unexpected character", 1);
	bad("[1", "unexpected end of input", 2);
	bad("[", "unexpected end of input", 1);
	bad("{\"a\"}", "expected ':'", 4);
	bad("{\"a\":}", "unexpected character", 5);
	bad("{a:1}", "expected a string key", 1);
	bad("{\"a\":1,}", "expected a string key", 7);
	bad("{\"a\":1 \"b\":2}", "expected ',' or '}'", 7);
	bad("{\"a\":1", "unexpected end of input", 6);
	bad("{", "expected a string key", 1);
	bad("{1:2}", "expected a string key", 1);
	bad("{\"a\\u0000\":1}", "U+0000 in an object key", 1);
	bad("]", "unexpected character", 0);
	bad("[1]]", "junk after the value", 3);
	bad("{} {}", "junk after the value", 3);
}

static char *nested(const char *open, const char *close, int depth)
{
	size_t n = (strlen(open) + strlen(close)) * (size_t)depth + 2;
	char *s = arena_alloc(&A, n), *p = s;
	int i;

	for (i = 0; i < depth; i++)
		p += sprintf(p, "%s", open);
	*p++ = '1';
	for (i = 0; i < depth; i++)
		p += sprintf(p, "%s", close);
	return s;
}

static void test_depth(void **state)
{
	struct xv *v = ok(nested("[", "]", JSON_MAX_DEPTH));
	int i;

	for (i = 0; i < JSON_MAX_DEPTH; i++)
		v = v->u.a[0];
	assert_int_equal(v->u.i, 1);
	ok(nested("{\"k\":", "}", JSON_MAX_DEPTH));
	bad(nested("[", "]", JSON_MAX_DEPTH + 1), "nesting deeper than 64", JSON_MAX_DEPTH);
	bad(nested("{\"k\":", "}", JSON_MAX_DEPTH + 1), "nesting deeper than 64", -1);
	bad(nested("[", "", 100000), "nesting deeper than 64", JSON_MAX_DEPTH);
}

static const char sample[] =
	"{\"jsonrpc\":\"2.0\",\"method\":\"VM.get_record\",\"params\":"
	"[\"OpaqueRef:5e1f\",{\"a\":[1,-2.5,true,false,null,\"\\u00e9\\n\"]}],"
	"\"id\":0}";

static void test_arena_limits(void **state)
{
	size_t need, lim;
	struct arena small;
	struct xv *v;
	int ok_seen = 0;

	arena_init(&small, 0);
	assert_int_equal(json_parse(&small, sample, strlen(sample), &v, &E), 0);
	need = small.used;
	arena_free(&small);
	for (lim = 1; lim <= need; lim++) {
		arena_init(&small, lim);
		E = NULL;
		if (json_parse(&small, sample, strlen(sample), &v, &E) == 0) {
			ok_seen = 1;
			assert_true(lim == need);
		} else {
			assert_null(v);
			if (!strstr(E, "exceeds its memory limit"))
				fail_msg("limit %zu: %s", lim, E);
		}
		assert_true(small.used <= lim);
		arena_free(&small);
	}
	assert_true(ok_seen);
	/* long numbers and escaped strings take arena too */
	arena_init(&small, 40);
	assert_int_equal(json_parse(&small, "0.000000000000000000000000000000000000000000000000000000000000000000001", 71, &v, &E), -1);
	assert_non_null(strstr(E, "exceeds its memory limit"));
	arena_free(&small);
	arena_init(&small, 40);
	assert_int_equal(json_parse(&small, "\"\\n0123456789abcdef0123456789abcdef0123456789\"", 48, &v, &E), -1);
	assert_non_null(strstr(E, "exceeds its memory limit"));
	arena_free(&small);
}

static void test_truncation(void **state)
{
	size_t len = strlen(sample), cut;
	struct xv *v;

	for (cut = 0; cut < len; cut++) {
		E = NULL;
		if (json_parse(&A, sample, cut, &v, &E) == 0)
			fail_msg("prefix of %zu bytes accepted", cut);
		assert_non_null(strstr(E, "at byte "));
	}
	assert_int_equal(json_parse(&A, sample, len, &v, &E), 0);
}

/* ---------------------------------------------------------------------
 * Emitter */

static void emit_init(struct emit *e)
{
	buf_reset(&B);
	json_emit_init(e, &B);
}

#define EXPECT(lit) do { \
	if (B.len != sizeof(lit) - 1 || memcmp(B.data, lit, sizeof(lit))) \
		fail_msg("got '%s' want '%s'", B.data, lit); \
} while (0)

static void test_emit_scalars(void **state)
{
	static const struct { double d; const char *s; } dbl[] = {
		{ 1.0, "1.0" }, { -0.0, "-0.0" }, { 0.5, "0.5" }, { 60.1, "60.1" },
		{ 1e22, "1e+22" }, { 1e15, "1000000000000000.0" }, { 1e16, "1e+16" },
		{ 819.56, "819.5599999999999" }, { 5e-324, "4.940656458412465e-324" },
		{ -3.0, "-3.0" }, { NAN, "NaN" }, { INFINITY, "Infinity" },
		{ -INFINITY, "-Infinity" },
	};
	struct emit e;
	size_t i;

	emit_init(&e);
	emit_str(&e, "a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f\xc3\xa9 ");
	EXPECT("\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\xc3\xa9 \"");
	emit_init(&e);
	emit_strn(&e, "a\0b", 3);
	EXPECT("\"a\\u0000b\"");
	emit_init(&e);
	emit_str(&e, NULL);
	EXPECT("\"\"");
	emit_init(&e);
	emit_strn(&e, "\xff\xfe", 2);           /* bytes go out as they are */
	EXPECT("\"\xff\xfe\"");
	emit_init(&e);
	emit_i64(&e, INT64_MIN);
	EXPECT("-9223372036854775808");
	emit_init(&e);
	emit_i64(&e, 4294967296);
	EXPECT("4294967296");
	emit_init(&e);
	emit_i32(&e, -5);
	EXPECT("-5");
	emit_init(&e);
	emit_bool(&e, 3);
	EXPECT("true");
	emit_init(&e);
	emit_bool(&e, 0);
	EXPECT("false");
	emit_init(&e);
	emit_nil(&e);
	EXPECT("null");
	emit_init(&e);
	emit_datetime(&e, 1704110400);
	EXPECT("\"20240101T12:00:00Z\"");
	emit_init(&e);
	e.ops->datetime_str(&e, "2024\n", 5);
	EXPECT("\"2024\\n\"");
	for (i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++) {
		emit_init(&e);
		emit_double(&e, dbl[i].d);
		if (strcmp(B.data, dbl[i].s))
			fail_msg("%.17g -> %s, want %s", dbl[i].d, B.data, dbl[i].s);
	}
}

/* Word-at-a-time skipping against a byte-by-byte reference: every byte
 * value at every position of a 24-byte string, at unaligned starts. */
static void ref_string(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i;

	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '"': buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\b': buf_adds(b, "\\b"); break;
		case '\f': buf_adds(b, "\\f"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		default:
			if (s[i] < 0x20 || s[i] == 0x7f)
				buf_addf(b, "\\u%04x", s[i]);
			else
				buf_addc(b, (char)s[i]);
		}
	}
	buf_addc(b, '"');
}

static void test_escape_every_byte(void **state)
{
	struct buf want = BUF_INIT;
	unsigned char s[32];
	struct emit e;
	unsigned c;
	size_t pos, off;

	for (c = 0; c < 256; c++) {
		for (off = 0; off < 3; off++) {
			for (pos = 0; pos < 24; pos++) {
				memset(s, 'a' + (int)off, sizeof(s));
				s[off + pos] = (unsigned char)c;
				s[off + 23 - pos] = (unsigned char)(c ^ 0x5c);
				emit_init(&e);
				emit_strn(&e, (const char *)s + off, 24);
				buf_reset(&want);
				ref_string(&want, s + off, 24);
				if (B.len != want.len || memcmp(B.data, want.data, B.len))
					fail_msg("byte %02x at %zu: '%s' want '%s'", c, pos,
						 B.data, want.data);
			}
		}
	}
	buf_free(&want);
}

static void test_emit_containers(void **state)
{
	struct emit e;

	emit_init(&e);
	emit_array_begin(&e);
	emit_array_end(&e);
	EXPECT("[]");
	emit_init(&e);
	emit_struct_begin(&e);
	emit_struct_end(&e);
	EXPECT("{}");
	emit_init(&e);
	emit_struct_begin(&e);
	emit_member(&e, "a\"");
	emit_array_begin(&e);
	emit_i64(&e, 1);
	emit_str(&e, "x");
	emit_struct_begin(&e);
	emit_member(&e, "k");
	emit_nil(&e);
	emit_member(&e, "l");
	emit_array_begin(&e);
	emit_array_end(&e);
	emit_struct_end(&e);
	emit_array_begin(&e);
	emit_array_end(&e);
	emit_array_end(&e);
	emit_member(&e, "b");
	emit_bool(&e, 1);
	emit_member(&e, "c");
	emit_struct_begin(&e);
	emit_struct_end(&e);
	emit_struct_end(&e);
	EXPECT("{\"a\\\"\":[1,\"x\",{\"k\":null,\"l\":[]},[]],\"b\":true,\"c\":{}}");
	assert_int_equal(e.depth, 0);
	assert_int_equal(e.error, 0);
}

static void test_emit_depth(void **state)
{
	struct emit e;
	size_t len;
	int i;

	emit_init(&e);
	for (i = 0; i < EMIT_MAX_DEPTH; i++)
		emit_array_begin(&e);
	assert_int_equal(e.error, 0);
	len = B.len;
	assert_int_equal(len, EMIT_MAX_DEPTH);
	emit_array_begin(&e);
	assert_int_equal(e.error, 1);
	emit_str(&e, "x");
	emit_nil(&e);
	emit_i64(&e, 1);
	emit_i32(&e, 1);
	emit_bool(&e, 1);
	emit_double(&e, 1);
	emit_datetime(&e, 1);
	emit_member(&e, "m");
	emit_struct_begin(&e);
	emit_struct_end(&e);
	emit_array_end(&e);
	assert_int_equal(B.len, len);
	emit_init(&e);
	emit_struct_end(&e);
	assert_int_equal(e.error, 1);
	assert_int_equal(B.len, 0);
	emit_init(&e);
	emit_array_end(&e);
	assert_int_equal(e.error, 1);
	assert_int_equal(B.len, 0);
}

static void round_trip(const char *s)
{
	struct xv *v1 = ok(s), *v2;
	struct emit e;
	char *first;

	emit_init(&e);
	emit_value(&e, v1);
	assert_int_equal(e.error, 0);
	first = arena_strdup(&A, B.data);
	v2 = ok_n(B.data, B.len);
	if (!xv_equal(v1, v2))
		fail_msg("'%s' -> '%s' differs", s, B.data);
	emit_init(&e);
	emit_value(&e, v2);
	assert_string_equal(B.data, first);     /* emission is a fixpoint */
}

static void test_round_trips(void **state)
{
	static const char *docs[] = {
		sample, "[1.0,1e22,-0.0,5e-324,1.7976931348623157e308,0.1,1e-7]",
		"\"\\u0000\\u001f\\u007f\\ud83d\\ude00\\\\\\\"\"",
		"{\"\":{\"\":[[],{}]}}", "[9223372036854775807,-9223372036854775808,"
		"9223372036854775808]", "[true,false,null]",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		round_trip(docs[i]);
	/* and exactly the canonical bytes for a compact input */
	{
		struct emit e;

		emit_init(&e);
		emit_value(&e, ok(sample));
		EXPECT("{\"jsonrpc\":\"2.0\",\"method\":\"VM.get_record\",\"params\":"
		       "[\"OpaqueRef:5e1f\",{\"a\":[1,-2.5,true,false,null,\"\xc3\xa9\\n\"]}],"
		       "\"id\":0}");
	}
}

/* ---------------------------------------------------------------------
 * JSON-RPC */

static struct rpc_call call_ok(const char *s)
{
	struct rpc_call c;

	if (jsonrpc_parse_call(&A, s, strlen(s), &c, &E) != 0)
		fail_msg("'%s' refused: %s", s, E);
	return c;
}

static void call_bad(const char *s, const char *what)
{
	struct rpc_call c;

	E = NULL;
	if (jsonrpc_parse_call(&A, s, strlen(s), &c, &E) == 0)
		fail_msg("accepted '%s'", s);
	assert_non_null(E);
	if (!strstr(E, what))
		fail_msg("'%s': error '%s' lacks '%s'", s, E, what);
}

static void test_jsonrpc_parse(void **state)
{
	struct rpc_call c = call_ok(sample);

	assert_string_equal(c.method, "VM.get_record");
	assert_int_equal(c.jsonrpc_v2, 1);
	assert_int_equal(c.id->type, XV_INT);
	assert_int_equal(c.id->u.i, 0);
	assert_int_equal(c.params->len, 2);
	assert_str(c.params->u.a[0], "OpaqueRef:5e1f", 14);
	c = call_ok("{\"method\":\"session.logout\",\"params\":[\"s\"],\"id\":\"abc\"}");
	assert_int_equal(c.jsonrpc_v2, 0);
	assert_int_equal(c.id->type, XV_STRING);
	assert_string_equal(c.id->u.s, "abc");
	assert_int_equal(c.params->len, 1);
	c = call_ok("{\"id\":7,\"method\":\"pool.get_all\"}");
	assert_int_equal(c.params->type, XV_ARRAY);
	assert_int_equal(c.params->len, 0);
	c = call_ok("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"m\",\"params\":null}");
	assert_int_equal(c.params->len, 0);
	c = call_ok("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"m\",\"params\":{\"a\":1}}");
	assert_int_equal(c.params->len, 1);
	assert_int_equal(xv_get(c.params->u.a[0], "a")->u.i, 1);
	/* extra members are ignored */
	c = call_ok("{\"id\":1,\"method\":\"m\",\"params\":[],\"x\":{}}");
	assert_string_equal(c.method, "m");

	call_bad("[1]", "not an object");
	call_bad("\"x\"", "not an object");
	call_bad("{\"id\":1}", "\"method\" must be a string");
	call_bad("{\"id\":1,\"method\":1}", "\"method\" must be a string");
	call_bad("{\"id\":1,\"method\":\"a\\u0000b\"}", "\"method\" must be a string");
	call_bad("{\"id\":1,\"method\":\"m\",\"params\":{}}", "\"params\" must be an array");
	call_bad("{\"id\":1,\"method\":\"m\",\"params\":null}", "\"params\" must be an array");
	call_bad("{\"id\":1,\"method\":\"m\",\"params\":\"x\"}", "\"params\" must be an array");
	call_bad("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":3}",
		 "\"params\" must be an array");
	call_bad("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"m\"}", "\"jsonrpc\" must be \"2.0\"");
	call_bad("{\"jsonrpc\":2.0,\"id\":1,\"method\":\"m\"}", "\"jsonrpc\" must be \"2.0\"");
	call_bad("{\"jsonrpc\":\"2.00\",\"id\":1,\"method\":\"m\"}", "\"jsonrpc\" must be \"2.0\"");
	call_bad("{\"method\":\"m\",\"params\":[]}", "\"id\" is required");
	call_bad("{\"method\":\"m\",\"params\":[],\"id\":null}", "\"id\" is required");
	call_bad("{\"method\":\"m\",\"params\":[],\"id\":true}", "\"id\" must be a number or a string");
	call_bad("{\"method\":\"m\",\"params\":[],\"id\":1.5}", "\"id\" must be a number or a string");
	call_bad("{\"method\":\"m\",\"params\":[],\"id\":[1]}", "\"id\" must be a number or a string");
	call_bad("{\"method\":\"m\",", "invalid JSON at byte 14");
	call_bad("", "invalid JSON at byte 0");
}

static void test_jsonrpc_parse_error_keeps_framing(void **state)
{
	static const char doc[] = "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"method\":5}";
	struct rpc_call c;

	/* what is known is kept, so the error can be framed as v2 with id */
	assert_int_equal(jsonrpc_parse_call(&A, doc, strlen(doc), &c, &E), -1);
	assert_int_equal(c.jsonrpc_v2, 1);
	assert_non_null(c.id);
	assert_string_equal(c.id->u.s, "q");
	assert_null(c.method);
}

static void test_jsonrpc_arena_limit(void **state)
{
	static const char v2[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"m\",\"params\":{\"a\":1}}";
	static const char v1[] = "{\"id\":1,\"method\":\"m\"}";
	struct arena small;
	struct rpc_call c;
	size_t need, lim;
	const char *docs[] = { v1, v2 };
	int i;

	for (i = 0; i < 2; i++) {
		arena_init(&small, 0);
		assert_int_equal(jsonrpc_parse_call(&small, docs[i], strlen(docs[i]), &c, &E), 0);
		need = small.used;
		arena_free(&small);
		for (lim = 1; lim < need; lim++) {
			arena_init(&small, lim);
			E = NULL;
			assert_int_equal(jsonrpc_parse_call(&small, docs[i], strlen(docs[i]), &c, &E), -1);
			assert_non_null(strstr(E, "exceeds its memory limit"));
			arena_free(&small);
		}
	}
}

static void test_jsonrpc_framing(void **state)
{
	static const char *const desc[] = { "SESSION_INVALID", "OpaqueRef:x\"" };
	struct rpc_call c = call_ok("{\"method\":\"m\",\"id\":1}");
	struct emit e;

	json_emit_init(&e, &B);
	buf_reset(&B);
	jsonrpc_result_begin(&B, &c);
	emit_str(&e, "OpaqueRef:1");
	jsonrpc_result_end(&B, &c);
	EXPECT("{\"result\":\"OpaqueRef:1\",\"error\":null,\"id\":1}");
	buf_reset(&B);
	jsonrpc_error(&B, &c, desc, 2);
	EXPECT("{\"result\":null,\"error\":[\"SESSION_INVALID\",\"OpaqueRef:x\\\"\"],\"id\":1}");
	buf_reset(&B);
	jsonrpc_error(&B, &c, desc, 0);
	EXPECT("{\"result\":null,\"error\":[],\"id\":1}");

	c = call_ok("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":\"a\\u00e9\"}");
	buf_reset(&B);
	jsonrpc_result_begin(&B, &c);
	emit_struct_begin(&e);
	emit_member(&e, "k");
	emit_i64(&e, 1);
	emit_struct_end(&e);
	jsonrpc_result_end(&B, &c);
	EXPECT("{\"jsonrpc\":\"2.0\",\"result\":{\"k\":1},\"id\":\"a\xc3\xa9\"}");
	buf_reset(&B);
	jsonrpc_error(&B, &c, desc, 2);
	EXPECT("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"SESSION_INVALID\","
	       "\"data\":[\"OpaqueRef:x\\\"\"]},\"id\":\"a\xc3\xa9\"}");
	buf_reset(&B);
	jsonrpc_error(&B, &c, desc, 1);
	EXPECT("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"SESSION_INVALID\","
	       "\"data\":[]},\"id\":\"a\xc3\xa9\"}");
	buf_reset(&B);
	jsonrpc_error(&B, &c, desc, 0);
	EXPECT("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"\","
	       "\"data\":[]},\"id\":\"a\xc3\xa9\"}");

	/* no id (the request could not be decoded): null */
	memset(&c, 0, sizeof(c));
	buf_reset(&B);
	jsonrpc_error(&B, &c, desc, 1);
	EXPECT("{\"result\":null,\"error\":[\"SESSION_INVALID\"],\"id\":null}");
	c.jsonrpc_v2 = 1;
	buf_reset(&B);
	jsonrpc_result_begin(&B, &c);
	emit_nil(&e);
	jsonrpc_result_end(&B, &c);
	EXPECT("{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":null}");
	/* NULL strings in a description are written as "" */
	{
		const char *const holes[] = { NULL, "p", NULL };

		c.jsonrpc_v2 = 0;
		buf_reset(&B);
		jsonrpc_error(&B, &c, holes, 3);
		EXPECT("{\"result\":null,\"error\":[\"\",\"p\",\"\"],\"id\":null}");
		c.jsonrpc_v2 = 1;
		buf_reset(&B);
		jsonrpc_error(&B, &c, holes, 3);
		EXPECT("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"\","
		       "\"data\":[\"p\",\"\"]},\"id\":null}");
	}
}

static void test_framed_output_parses(void **state)
{
	static const char *const desc[] = { "HANDLE_INVALID", "VM", "OpaqueRef:x" };
	struct rpc_call c = call_ok("{\"jsonrpc\":\"2.0\",\"method\":\"m\",\"id\":9}");
	struct xv *v;

	buf_reset(&B);
	jsonrpc_error(&B, &c, desc, 3);
	v = ok_n(B.data, B.len);
	assert_int_equal(xv_get(xv_get(v, "error"), "code")->u.i, 1);
	assert_string_equal(xv_get(xv_get(v, "error"), "message")->u.s, "HANDLE_INVALID");
	assert_int_equal(xv_get(xv_get(v, "error"), "data")->len, 2);
	assert_int_equal(xv_get(v, "id")->u.i, 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_literals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arrays_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arena_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_scalars, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escape_every_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_containers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emit_depth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonrpc_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonrpc_parse_error_keeps_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonrpc_arena_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jsonrpc_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_framed_output_parses, setup, teardown),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
