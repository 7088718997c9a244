/* rpc/value.c: constructors, lookup, equality, datetimes, doubles,
 * emit_value and the codecs' child stack. */
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

#include "rpc/codec.h"
#include "rpc/emit.h"
#include "rpc/value.h"

static struct arena A;

static int setup(void **state)
{
	arena_init(&A, 0);
	return 0;
}

static int teardown(void **state)
{
	arena_free(&A);
	return 0;
}

static void test_type_names(void **state)
{
	assert_string_equal(xv_type_name(XV_NIL), "nil");
	assert_string_equal(xv_type_name(XV_STRING), "string");
	assert_string_equal(xv_type_name(XV_INT), "int");
	assert_string_equal(xv_type_name(XV_BOOL), "boolean");
	assert_string_equal(xv_type_name(XV_DOUBLE), "double");
	assert_string_equal(xv_type_name(XV_DATETIME), "dateTime.iso8601");
	assert_string_equal(xv_type_name(XV_ARRAY), "array");
	assert_string_equal(xv_type_name(XV_STRUCT), "struct");
	assert_string_equal(xv_type_name((enum xv_type)99), "unknown");
}

static void test_new_and_str(void **state)
{
	struct xv *v = xv_new(&A, XV_BOOL), *s;

	assert_non_null(v);
	assert_int_equal(v->type, XV_BOOL);
	assert_int_equal(v->len, 0);
	s = xv_str(&A, "a\0b", 3);
	assert_non_null(s);
	assert_int_equal(s->type, XV_STRING);
	assert_int_equal(s->len, 3);
	assert_memory_equal(s->u.s, "a\0b", 4);        /* NUL-terminated */
	s = xv_str(&A, NULL, 0);
	assert_non_null(s);
	assert_string_equal(s->u.s, "");
}

static void test_arena_limit(void **state)
{
	struct arena small;
	struct xv *v;

	arena_init(&small, 64);
	v = xv_new(&small, XV_NIL);
	assert_non_null(v);
	assert_null(xv_str(&small, "0123456789abcdef0123456789abcdef", 32));
	arena_free(&small);
	arena_init(&small, 16);
	assert_null(xv_new(&small, XV_NIL));    /* a node takes 32 > 16 */
	arena_free(&small);
	arena_init(&small, 16);
	assert_null(xv_str(&small, "x", 1));    /* not even the node */
	arena_free(&small);
	arena_init(&small, 48);                 /* node fits, copy does not */
	assert_null(xv_str(&small, "0123456789abcdef0123456789abcdef", 32));
	arena_free(&small);
}

static struct xv *mkint(int64_t i)
{
	struct xv *v = xv_new(&A, XV_INT);

	v->u.i = i;
	return v;
}

static struct xv *mkstruct2(const char *n1, struct xv *v1, const char *n2,
			    struct xv *v2)
{
	struct xv *st = xv_new(&A, XV_STRUCT);

	st->u.m = arena_alloc(&A, 2 * sizeof(struct xv_member));
	st->u.m[0].name = n1;
	st->u.m[0].v = v1;
	st->u.m[1].name = n2;
	st->u.m[1].v = v2;
	st->len = 2;
	return st;
}

static void test_get(void **state)
{
	struct xv *st = mkstruct2("a", mkint(1), "b", mkint(2));

	assert_int_equal(xv_get(st, "a")->u.i, 1);
	assert_int_equal(xv_get(st, "b")->u.i, 2);
	assert_null(xv_get(st, "c"));
	assert_null(xv_get(st, NULL));
	assert_null(xv_get(NULL, "a"));
	assert_null(xv_get(mkint(1), "a"));
	/* a hand-built struct with a NULL name: skipped, not dereferenced */
	st = mkstruct2(NULL, mkint(1), "b", mkint(2));
	assert_int_equal(xv_get(st, "b")->u.i, 2);
	assert_null(xv_get(st, ""));
	/* first of duplicate names wins */
	st = mkstruct2("a", mkint(1), "a", mkint(2));
	assert_int_equal(xv_get(st, "a")->u.i, 1);
}

static void test_equal(void **state)
{
	struct xv *d1 = xv_new(&A, XV_DOUBLE), *d2 = xv_new(&A, XV_DOUBLE);
	struct xv *b1 = xv_new(&A, XV_BOOL), *b2 = xv_new(&A, XV_BOOL);
	struct xv *a1 = xv_new(&A, XV_ARRAY), *a2 = xv_new(&A, XV_ARRAY);
	struct xv *dt = xv_new(&A, XV_DATETIME), *items[2];

	assert_true(xv_equal(NULL, NULL));
	assert_false(xv_equal(mkint(1), NULL));
	assert_false(xv_equal(NULL, mkint(1)));
	assert_true(xv_equal(mkint(5), mkint(5)));
	assert_false(xv_equal(mkint(5), mkint(6)));
	assert_true(xv_equal(xv_new(&A, XV_NIL), xv_new(&A, XV_NIL)));
	assert_false(xv_equal(xv_new(&A, XV_NIL), mkint(0)));
	b1->u.b = 1;
	b2->u.b = 7;
	assert_true(xv_equal(b1, b2));          /* both true */
	b2->u.b = 0;
	assert_false(xv_equal(b1, b2));
	d1->u.d = 1.5;
	d2->u.d = 1.5;
	assert_true(xv_equal(d1, d2));
	d2->u.d = NAN;
	assert_false(xv_equal(d1, d2));
	assert_false(xv_equal(d2, d1));
	d1->u.d = NAN;
	assert_true(xv_equal(d1, d2));
	assert_true(xv_equal(xv_str(&A, "ab", 2), xv_str(&A, "ab", 2)));
	assert_false(xv_equal(xv_str(&A, "ab", 2), xv_str(&A, "ac", 2)));
	assert_false(xv_equal(xv_str(&A, "ab", 2), xv_str(&A, "a", 1)));
	assert_true(xv_equal(xv_str(&A, "", 0), xv_str(&A, "", 0)));
	dt->u.s = "x";
	dt->len = 1;
	assert_false(xv_equal(dt, xv_str(&A, "x", 1)));   /* type differs */
	items[0] = mkint(1);
	items[1] = mkint(2);
	a1->u.a = items;
	a1->len = 2;
	a2->u.a = arena_alloc(&A, 2 * sizeof(struct xv *));
	a2->u.a[0] = mkint(1);
	a2->u.a[1] = mkint(2);
	a2->len = 2;
	assert_true(xv_equal(a1, a2));
	a2->u.a[1] = mkint(3);
	assert_false(xv_equal(a1, a2));
	a2->len = 1;
	assert_false(xv_equal(a1, a2));
	assert_true(xv_equal(mkstruct2("a", mkint(1), "b", mkint(2)),
			     mkstruct2("a", mkint(1), "b", mkint(2))));
	assert_false(xv_equal(mkstruct2("a", mkint(1), "b", mkint(2)),
			      mkstruct2("a", mkint(1), "c", mkint(2))));
	assert_false(xv_equal(mkstruct2("a", mkint(1), "b", mkint(2)),
			      mkstruct2("a", mkint(1), "b", mkint(3))));
	a1->type = XV_STRUCT;
	a1->len = 0;
	a2->type = XV_STRUCT;
	a2->len = 1;
	a2->u.m = mkstruct2("a", mkint(1), "b", mkint(2))->u.m;
	assert_false(xv_equal(a1, a2));
	/* unknown types never compare equal */
	a1->type = a2->type = (enum xv_type)99;
	assert_false(xv_equal(a1, a2));
	assert_true(xv_equal(a1, a1));          /* same pointer */
}

/* Expected texts checked with Python's datetime (utcfromtimestamp). */
static void test_datetime_format(void **state)
{
	static const struct { int64_t t; const char *s; } tab[] = {
		{ 0, "19700101T00:00:00Z" },
		{ 1704110400, "20240101T12:00:00Z" },
		{ -1, "19691231T23:59:59Z" },
		{ 951782400, "20000229T00:00:00Z" },
		{ 951868799, "20000229T23:59:59Z" },
		{ 1709208000, "20240229T12:00:00Z" },
		{ 4102444800, "21000101T00:00:00Z" },
		{ 253402300799, "99991231T23:59:59Z" },
		{ -62135596800, "00010101T00:00:00Z" },
		{ 253402300800, "100000101T00:00:00Z" },
		{ -62167219200, "00000101T00:00:00Z" },
		{ -62167219201, "-00011231T23:59:59Z" },
	};
	char buf[XV_DATETIME_MAX];
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		assert_int_equal(xv_datetime_format(buf, tab[i].t),
				 strlen(tab[i].s));
		assert_string_equal(buf, tab[i].s);
	}
	assert_int_equal(xv_datetime_format(buf, 0), XV_DATETIME_LEN);
	/* the extremes fit the buffer */
	assert_true(xv_datetime_format(buf, INT64_MAX) < XV_DATETIME_MAX);
	assert_true(xv_datetime_format(buf, INT64_MIN) < XV_DATETIME_MAX);
}

static void parse_ok(const char *s, int64_t want)
{
	int64_t t = 12345;

	if (xv_datetime_parse(s, strlen(s), &t) != 0)
		fail_msg("datetime '%s' refused", s);
	if (t != want)
		fail_msg("datetime '%s': %lld, want %lld", s, (long long)t,
			 (long long)want);
}

static void parse_bad(const char *s)
{
	int64_t t;

	if (xv_datetime_parse(s, strlen(s), &t) == 0)
		fail_msg("datetime '%s' accepted", s);
}

static void test_datetime_parse(void **state)
{
	parse_ok("20240101T12:00:00Z", 1704110400);
	parse_ok("20240101T12:00:00", 1704110400);
	parse_ok("2024-01-01T12:00:00Z", 1704110400);
	parse_ok("20240101T120000Z", 1704110400);
	parse_ok("20240101T12:00:00.123Z", 1704110400);
	parse_ok("20240101T12:00:00,5", 1704110400);
	parse_ok("20240101T12:00:00+05:30", 1704090600);
	parse_ok("20240101T12:00:00+0530", 1704090600);
	parse_ok("20240101T12:00:00-01:00", 1704110400 + 3600);
	parse_ok("20240229T23:59:59Z", 1709251199);
	parse_ok("20000229T00:00:00Z", 951782400);
	parse_ok("19691231T23:59:59Z", -1);
	parse_ok("00010101T00:00:00Z", -62135596800);
	parse_ok("20240101T23:59:60Z", 1704153600);  /* leap second */
	parse_bad("");
	parse_bad("2024");
	parse_bad("20240101");
	parse_bad("20240101 12:00:00Z");
	parse_bad("20241301T12:00:00Z");
	parse_bad("20240001T12:00:00Z");
	parse_bad("20240100T12:00:00Z");
	parse_bad("20230229T12:00:00Z");
	parse_bad("19000229T12:00:00Z");
	parse_bad("20240431T12:00:00Z");
	parse_bad("20240101T24:00:00Z");
	parse_bad("20240101T12:60:00Z");
	parse_bad("20240101T12:00:61Z");
	parse_bad("2024-0101T12:00:00Z");       /* mixed separators */
	parse_bad("20240101T12:0000Z");
	parse_bad("20240101T12:00:00.Z");
	parse_bad("20240101T12:00:00ZZ");
	parse_bad("20240101T12:00:00+5");
	parse_bad("20240101T12:00:00+24:00");
	parse_bad("20240101T12:00:00+05:60");
	parse_bad("20240101T12:00:00+05:3");
	parse_bad("2024010aT12:00:00Z");
	parse_bad("20240101T1a:00:00Z");
}

static void test_datetime_round_trip(void **state)
{
	char buf[XV_DATETIME_MAX];
	int64_t t, back;

	/* every ~17 days from year 0 to 9999, and odd seconds */
	for (t = -62167219200; t < 253402300800; t += 1474560 + 7) {
		size_t n = xv_datetime_format(buf, t);

		assert_int_equal(xv_datetime_parse(buf, n, &back), 0);
		assert_true(back == t);
	}
}

/* Expected texts checked with Python: '%.16g', else '%.17g'. */
static void test_double_format(void **state)
{
	static const struct { double d; const char *s; } tab[] = {
		{ 0.0, "0" }, { -0.0, "-0" }, { 1.0, "1" }, { -1.5, "-1.5" },
		{ 60.1, "60.1" }, { 0.1, "0.1" }, { 100.0, "100" },
		{ 819.56, "819.5599999999999" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 1e21, "1e+21" }, { 1e15, "1000000000000000" },
		{ 1e16, "1e+16" }, { 123456789012345.0, "123456789012345" },
		{ 5e-324, "4.940656458412465e-324" },
		{ DBL_MAX, "1.7976931348623157e+308" },
		{ 2.5e-05, "2.5e-05" }, { 1e-05, "1e-05" },
		{ 100000000000000.5, "100000000000000.5" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 0.000123, "0.000123" }, { -1e300, "-1e+300" },
		{ NAN, "nan" }, { INFINITY, "inf" }, { -INFINITY, "-inf" },
	};
	char buf[XV_DOUBLE_MAX];
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		size_t n = xv_double_format(buf, tab[i].d);

		assert_string_equal(buf, tab[i].s);
		assert_int_equal(n, strlen(tab[i].s));
	}
}

static void test_double_round_trip(void **state)
{
	char buf[XV_DOUBLE_MAX];
	uint64_t bits = 0x9e3779b97f4a7c15ull;
	int i;

	for (i = 0; i < 100000; i++) {
		double d;

		bits ^= bits << 13;
		bits ^= bits >> 7;
		bits ^= bits << 17;
		memcpy(&d, &bits, sizeof(d));
		if (!isfinite(d))
			continue;
		xv_double_format(buf, d);
		assert_true(strtod(buf, NULL) == d);
		assert_true(strlen(buf) <= 24);
	}
}

/* A recording emitter without datetime_str, to test emit_value alone. */
struct rec {
	struct emit e;
	char log[512];
};

static void rec_add(struct emit *e, const char *fmt, ...)
{
	struct rec *r = (struct rec *)e;
	size_t n = strlen(r->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->log + n, sizeof(r->log) - n, fmt, ap);
	va_end(ap);
}

static void r_nil(struct emit *e) { rec_add(e, "nil "); }
static void r_str(struct emit *e, const char *s, size_t n) { rec_add(e, "s:%.*s ", (int)n, s); }
static void r_i64(struct emit *e, int64_t v) { rec_add(e, "i:%lld ", (long long)v); }
static void r_i32(struct emit *e, int32_t v) { rec_add(e, "i4:%d ", v); }
static void r_bool(struct emit *e, int v) { rec_add(e, "b:%d ", v); }
static void r_dbl(struct emit *e, double v) { rec_add(e, "d:%g ", v); }
static void r_dt(struct emit *e, int64_t t) { rec_add(e, "t:%lld ", (long long)t); }
static void r_ab(struct emit *e)
{
	if (e->depth >= 2)
		e->error = 1;
	else
		e->depth++, rec_add(e, "[ ");
}
static void r_ae(struct emit *e) { e->depth--, rec_add(e, "] "); }
static void r_sb(struct emit *e) { e->depth++, rec_add(e, "{ "); }
static void r_m(struct emit *e, const char *n, size_t l) { rec_add(e, "%.*s= ", (int)l, n); }
static void r_se(struct emit *e) { e->depth--, rec_add(e, "} "); }

static const struct emit_ops rec_ops = {
	r_nil, r_str, r_i64, r_i32, r_bool, r_dbl, r_dt, r_ab, r_ae, r_sb,
	r_m, r_se, NULL,
};

static void test_emit_value(void **state)
{
	struct rec r;
	struct xv *dt = xv_new(&A, XV_DATETIME), *bad = xv_new(&A, XV_DATETIME);
	struct xv *d = xv_new(&A, XV_DOUBLE), *b = xv_new(&A, XV_BOOL);
	struct xv *arr = xv_new(&A, XV_ARRAY), *s0 = xv_new(&A, XV_STRING);
	struct xv *dt0 = xv_new(&A, XV_DATETIME);

	dt->u.s = "20240101T12:00:00Z";
	dt->len = strlen(dt->u.s);
	bad->u.s = "yesterday";
	bad->len = 9;
	d->u.d = 2.5;
	b->u.b = 1;
	arr->u.a = arena_alloc(&A, 9 * sizeof(struct xv *));
	arr->u.a[0] = dt;
	arr->u.a[1] = bad;
	arr->u.a[2] = d;
	arr->u.a[3] = b;
	arr->u.a[4] = NULL;                     /* NULL emits nil */
	arr->u.a[5] = xv_new(&A, XV_NIL);
	arr->u.a[6] = mkstruct2("k", mkint(-3), NULL, xv_str(&A, "v", 1));
	arr->u.a[7] = s0;                       /* NULL s: "" */
	arr->u.a[8] = dt0;                      /* NULL s: "" (unparsable) */
	arr->len = 9;
	memset(&r, 0, sizeof(r));
	r.e.ops = &rec_ops;
	emit_value(&r.e, arr);
	assert_string_equal(r.log,
		"[ t:1704110400 s:yesterday d:2.5 b:1 nil nil "
		"{ k= i:-3 = s:v } s: s: ] ");
	assert_int_equal(r.e.error, 0);
	assert_int_equal(r.e.depth, 0);
}

static void test_emit_value_stops_on_error(void **state)
{
	struct rec r;
	struct xv *outer = xv_new(&A, XV_ARRAY), *mid = xv_new(&A, XV_ARRAY),
		  *inner = xv_new(&A, XV_ARRAY);

	/* three levels: the recorder's limit of two trips at the third */
	inner->u.a = arena_alloc(&A, sizeof(struct xv *));
	inner->u.a[0] = mkint(1);
	inner->len = 1;
	mid->u.a = arena_alloc(&A, 2 * sizeof(struct xv *));
	mid->u.a[0] = inner;
	mid->u.a[1] = mkint(2);
	mid->len = 2;
	outer->u.a = arena_alloc(&A, 2 * sizeof(struct xv *));
	outer->u.a[0] = mid;
	outer->u.a[1] = mkint(3);
	outer->len = 2;
	memset(&r, 0, sizeof(r));
	r.e.ops = &rec_ops;
	emit_value(&r.e, outer);
	assert_int_equal(r.e.error, 1);
	/* nothing after the failure point was visited by emit_value */
	assert_null(strstr(r.log, "i:1"));
	assert_null(strstr(r.log, "i:2"));
	assert_null(strstr(r.log, "i:3"));
	/* and once in error, emit_value does nothing at all */
	r.log[0] = 0;
	emit_value(&r.e, mkint(4));
	assert_string_equal(r.log, "");
}

static void test_cstack(void **state)
{
	struct cstack s = { NULL, 0, 0 };
	uintptr_t i;

	for (i = 0; i < 1000; i++)
		assert_int_equal(cstack_push(&s, (void *)(i + 1)), 0);
	assert_int_equal(s.n, 1000);
	assert_true(s.cap >= 1000);
	for (i = 0; i < 1000; i++)
		assert_true(s.v[i] == (void *)(i + 1));
	cstack_free(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	cstack_free(&s);                        /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_new_and_str),
		cmocka_unit_test(test_arena_limit),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_datetime_format),
		cmocka_unit_test(test_datetime_parse),
		cmocka_unit_test(test_datetime_round_trip),
		cmocka_unit_test(test_double_format),
		cmocka_unit_test(test_double_round_trip),
		cmocka_unit_test(test_emit_value),
		cmocka_unit_test(test_emit_value_stops_on_error),
		cmocka_unit_test(test_cstack),
	};

	return cmocka_run_group_tests_name("value", tests, setup, teardown);
}
