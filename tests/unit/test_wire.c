/* Wire values to datamodel values (api_val_from_wire in api/dispatch.c):
 * what every parameter and field from a client goes through. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "dm_fixture.h"
#include "rpc/value.h"


static struct xv dbl(double d)
{
	return (struct xv){ .type = XV_DOUBLE, .u.d = d };
}

static struct xv str(const char *s)
{
	return (struct xv){ .type = XV_STRING, .len = strlen(s), .u.s = s };
}

static struct xv i64(int64_t i)
{
	return (struct xv){ .type = XV_INT, .u.i = i };
}

static void test_float_nonfinite_refused(void **state)
{
	const struct dm_type *t = dm_type_parse("float");
	static const char *const bad[] = {
		"nan", "NaN", "-nan", "nan(0x1)", "inf", "-inf", "Infinity", "-INFINITY",
		"1e309", "-1e400", "1e999999", "", "1.5x", "x",
	};
	struct dm_val v;
	struct xv x;

	(void)state;
	x = dbl(NAN);
	assert_int_equal(api_val_from_wire(t, &x, &v), -1);
	x = dbl(-NAN);
	assert_int_equal(api_val_from_wire(t, &x, &v), -1);
	x = dbl(INFINITY);
	assert_int_equal(api_val_from_wire(t, &x, &v), -1);
	x = dbl(-INFINITY);
	assert_int_equal(api_val_from_wire(t, &x, &v), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		x = str(bad[i]);
		if (api_val_from_wire(t, &x, &v) != -1)
			fail_msg("float from \"%s\" accepted as %g", bad[i], v.u.d);
	}
}

static void test_float_finite_accepted(void **state)
{
	const struct dm_type *t = dm_type_parse("float");
	struct dm_val v;
	struct xv x;

	(void)state;
	x = dbl(1.7976931348623157e308);
	assert_int_equal(api_val_from_wire(t, &x, &v), 0);
	assert_true(v.u.d == 1.7976931348623157e308);
	x = dbl(-4.9e-324);
	assert_int_equal(api_val_from_wire(t, &x, &v), 0);
	assert_true(v.u.d == -4.9e-324);
	x = str("2.5e3");
	assert_int_equal(api_val_from_wire(t, &x, &v), 0);
	assert_true(v.u.d == 2500.0);
	x = str("1e-400");              /* underflows to 0: finite */
	assert_int_equal(api_val_from_wire(t, &x, &v), 0);
	assert_true(v.u.d == 0.0);
	x = i64(INT64_MIN);
	assert_int_equal(api_val_from_wire(t, &x, &v), 0);
	assert_true(v.u.d == -9223372036854775808.0);
}

/* A non-finite float inside a map or set is refused as a whole, and what
 * was converted before it is freed (ASan's leak check). */
static void test_float_in_containers(void **state)
{
	const struct dm_type *mt = dm_type_parse("(string -> float) map");
	const struct dm_type *st = dm_type_parse("float set");
	struct xv one = dbl(1.0), bad = dbl(NAN), badstr = str("inf");
	struct xv_member mem[] = { { "a", &one }, { "b", &bad } };
	struct xv *items[] = { &one, &badstr };
	struct xv m = { .type = XV_STRUCT, .len = 2, .u.m = mem };
	struct xv s = { .type = XV_ARRAY, .len = 2, .u.a = items };
	struct dm_val v;

	(void)state;
	assert_non_null(mt);
	assert_non_null(st);
	assert_int_equal(api_val_from_wire(mt, &m, &v), -1);
	assert_int_equal(api_val_from_wire(st, &s, &v), -1);
	mem[1].v = &one;
	mem[1].name = "b";
	assert_int_equal(api_val_from_wire(mt, &m, &v), 0);
	assert_int_equal(dm_list_len(&v), 4);
	dm_val_free(mt, &v);
}

/* Integers: out of int64's range is refused, not clamped; a double is not
 * an int. */
static void test_int_range(void **state)
{
	const struct dm_type *t = dm_type_parse("int");
	struct dm_val v;
	struct xv x;

	(void)state;
	x = str("9223372036854775807");
	assert_int_equal(api_val_from_wire(t, &x, &v), 0);
	assert_true(v.u.i == INT64_MAX);
	x = str("-9223372036854775808");
	assert_int_equal(api_val_from_wire(t, &x, &v), 0);
	assert_true(v.u.i == INT64_MIN);
	x = str("9223372036854775808");
	assert_int_equal(api_val_from_wire(t, &x, &v), -1);
	x = str("-99999999999999999999");
	assert_int_equal(api_val_from_wire(t, &x, &v), -1);
	x = dbl(1e308);
	assert_int_equal(api_val_from_wire(t, &x, &v), -1);
	x = dbl(3.0);
	assert_int_equal(api_val_from_wire(t, &x, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_float_nonfinite_refused),
		cmocka_unit_test(test_float_finite_accepted),
		cmocka_unit_test(test_float_in_containers),
		cmocka_unit_test(test_int_range),
	};

	return cmocka_run_group_tests(tests, dm_setup, dm_teardown);
}
