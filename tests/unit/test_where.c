/* The filter expressions of get_all_where / get_all_records_where
 * (api/where.c): XAPI's grammar, its precedence, fields as its database
 * stores them, and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/dm.h"
#include "api/where.h"
#include "lib/arena.h"
#include "lib/buf.h"

static struct obj *vm;

static int setup(void **state)
{
	char err[256];

	(void)state;
	if (dm_init(err, sizeof(err)))
		return -1;
	vm = dm_obj_new(dm_class_find("VM"), NULL, NULL);
	dm_set_str(vm, OF(vm, VM, name_label), "web 1");
	dm_set_int(vm, OF(vm, VM, memory_static_max), 268435456);
	{
		struct dm_val m = { 0 };

		dm_map_put_str(&m, "k", "v");
		dm_map_put_str(&m, "it's", "a\\b");
		dm_set(vm, OF(vm, VM, other_config), &m);
		dm_val_free(dm_type_parse("(string -> string) map"), &m);
	}
	{
		struct dm_val s = { 0 }, e = { .u.s = dm_str("blue") };

		dm_list_push(NULL, &s, &e);
		e.u.s = dm_str("x'y");
		dm_list_push(NULL, &s, &e);
		dm_set(vm, OF(vm, VM, tags), &s);
		dm_val_free(dm_type_parse("string set"), &s);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dm_dispose();
	return 0;
}

/* 1 match, 0 no match, -1 parse error, -2 unknown field */
static int eval_on(const char *expr, const struct obj *o)
{
	struct arena a;
	struct where *w;
	struct buf l = BUF_INIT, r = BUF_INIT;
	const char *why, *bad;
	size_t at;
	int rc;

	arena_init(&a, 0);
	if (where_parse(&a, expr, &w, &why, &at)) {
		assert_non_null(why);
		rc = -1;
	} else if (where_bind(w, o->cls, &bad)) {
		rc = -2;
	} else {
		rc = where_match(w, o, &l, &r);
	}
	buf_free(&l);
	buf_free(&r);
	arena_free(&a);
	return rc;
}

static int eval(const char *expr)
{
	return eval_on(expr, vm);
}

static void test_syntax(void **state)
{
	(void)state;
	assert_int_equal(eval("true"), 1);
	assert_int_equal(eval("false"), 0);
	assert_int_equal(eval("\"a\" = \"a\""), 1);
	assert_int_equal(eval("\"a\"=\"b\""), 0);
	assert_int_equal(eval("( true )"), 1);
	assert_int_equal(eval("not true"), 0);
	assert_int_equal(eval(" \t\nfalse or\ttrue\n"), 1);
	/* keywords need no separator, as XAPI's lexer (longest match) */
	assert_int_equal(eval("field\"name_label\"=\"web 1\""), 1);
	assert_int_equal(eval("notfield \"name_label\"=\"web 1\""), 0);
	assert_int_equal(eval("(true)and(false)"), 0);
	/* a literal keeps every byte but the quote: spaces, newlines, parens */
	assert_int_equal(eval("\"(and or\n)\" = \"(and or\n)\""), 1);
	assert_int_equal(eval("\"\" = \"\""), 1);
}

static void test_precedence_is_xapis(void **state)
{
	(void)state;
	/* and/or: one level, left to right */
	assert_int_equal(eval("true or true and false"), 0);    /* (t or t) and f */
	assert_int_equal(eval("false and false or true"), 1);   /* (f and f) or t */
	assert_int_equal(eval("true or (true and false)"), 1);
	/* not: everything after it */
	assert_int_equal(eval("not false and false"), 1);       /* not (f and f) */
	assert_int_equal(eval("(not false) and false"), 0);
	assert_int_equal(eval("true and not false or true"), 0);  /* t and not (f or t) */
	assert_int_equal(eval("not not true"), 1);
	assert_int_equal(eval("(not true) or true"), 1);
	assert_int_equal(eval("not (true) or true"), 0);        /* not ((t) or t) */
}

static void test_fields_as_xapis_database_has_them(void **state)
{
	char buf[128];

	(void)state;
	/* database names (namespace__field) and record names */
	assert_int_equal(eval("field \"name__label\" = \"web 1\""), 1);
	assert_int_equal(eval("field \"name_label\" = \"web 1\""), 1);
	assert_int_equal(eval("field \"memory__static_max\" = \"268435456\""), 1);
	assert_int_equal(eval("field \"is_a_template\" = \"false\""), 1);
	assert_int_equal(eval("field \"is_a_template\"=\"false\" and "
			      "field \"is_control_domain\"=\"false\""), 1);
	assert_int_equal(eval("field \"is_a_template\" = \"False\""), 0);  /* exact text */
	assert_int_equal(eval("field \"power_state\" = \"Halted\""), 1);
	assert_int_equal(eval("field \"resident_on\" = \"OpaqueRef:NULL\""), 1);
	assert_int_equal(eval("field \"HVM_shadow_multiplier\" = \"1\""), 1);
	assert_int_equal(eval("field \"VBDs\" = \"()\""), 1);
	/* sets and maps: SExpr, ' and \ escaped */
	assert_int_equal(eval("field \"tags\" = \"('blue' 'x\\'y')\""), 1);
	assert_int_equal(eval("field \"other_config\" = \"(('k' 'v') ('it\\'s' 'a\\\\b'))\""), 1);
	/* the ref, the uuid, a field against a field */
	snprintf(buf, sizeof(buf), "field \"_ref\" = \"%s\"", vm->ref);
	assert_int_equal(eval(buf), 1);
	snprintf(buf, sizeof(buf), "\"%s\" = field \"uuid\"", dm_get_str(vm, vm->cls->f_uuid));
	assert_int_equal(eval(buf), 1);
	assert_int_equal(eval("field \"uuid\" = field \"uuid\""), 1);
	assert_int_equal(eval("field \"uuid\" = field \"name_label\""), 0);
	/* unknown fields are an error, even where they would not be read */
	assert_int_equal(eval("field \"nope\" = \"x\""), -2);
	assert_int_equal(eval("true or field \"nope\" = \"x\""), -2);
	assert_int_equal(eval("field \"name___label\" = \"x\""), -2);
	assert_int_equal(eval("field \"\" = \"x\""), -2);
	/* hidden (internal) fields are not there for clients */
	{
		struct obj *t = dm_obj_new(dm_class_find("task"), NULL, NULL);

		assert_int_equal(eval_on("field \"session\" = \"OpaqueRef:NULL\"", t), -2);
		assert_int_equal(eval_on("field \"status\" = \"pending\"", t), 1);
		dm_obj_delete(t);
	}
}

static void expect_error(const char *expr, size_t want_at)
{
	struct arena a;
	struct where *w;
	const char *why = NULL;
	size_t at = 0;

	arena_init(&a, 0);
	assert_int_equal(where_parse(&a, expr, &w, &why, &at), -1);
	assert_non_null(why);
	if (want_at != (size_t)-1 && at != want_at)
		fail_msg("'%s': error at %zu (%s), expected %zu", expr, at, why, want_at);
	arena_free(&a);
}

static void test_bad_expressions(void **state)
{
	(void)state;
	expect_error("", 0);
	expect_error("   ", 3);
	expect_error("field", 5);
	expect_error("field name_label = \"x\"", 6);
	expect_error("\"a\"", 3);
	expect_error("\"a\" =", 5);
	expect_error("= \"a\"", 0);
	expect_error("(true", 5);
	expect_error("true)", 4);
	expect_error("true true", 5);
	expect_error("true and", 8);
	expect_error("and true", 0);
	expect_error("not", 3);
	expect_error("tru", 0);
	expect_error("TRUE", 0);                    /* keywords are lower case */
	expect_error("field \"a\" == \"b\"", 11);
	expect_error("field \"a\" <> \"b\"", 10);   /* XAPI has only = */
	expect_error("field 'a' = 'b'", 6);
	expect_error("\"unterminated", 0);
	expect_error("true\r", 4);                  /* XAPI's blanks: space, tab, LF */
	expect_error("\"a\" = \"b\" = \"c\"", 10);
	expect_error("field \"a\" = field", 17);
	expect_error("()", 1);
}

static void test_nesting_is_bounded_chains_are_not(void **state)
{
	char *s = malloc(200000);
	size_t n = 0;

	(void)state;
	/* 64 levels parse; 65 are refused, not a deep recursion */
	for (int i = 0; i < WHERE_MAX_DEPTH; i++)
		s[n++] = '(';
	memcpy(s + n, "true", 4);
	n += 4;
	for (int i = 0; i < WHERE_MAX_DEPTH; i++)
		s[n++] = ')';
	s[n] = 0;
	assert_int_equal(eval(s), 1);
	n = 0;
	for (int i = 0; i <= WHERE_MAX_DEPTH; i++)
		s[n++] = '(';
	strcpy(s + n, "true");
	expect_error(s, WHERE_MAX_DEPTH);
	n = 0;
	for (int i = 0; i <= WHERE_MAX_DEPTH; i++) {
		memcpy(s + n, "not ", 4);
		n += 4;
	}
	strcpy(s + n, "true");
	expect_error(s, 4 * WHERE_MAX_DEPTH);
	/* a chain of 20000 terms: a loop, not recursion */
	n = 0;
	for (int i = 0; i < 20000; i++) {
		memcpy(s + n, "true and ", 9);
		n += 9;
	}
	strcpy(s + n, "false");
	assert_int_equal(eval(s), 0);
	memcpy(s + n, "true", 5);
	assert_int_equal(eval(s), 1);
	free(s);
}

/* Random input from the grammar's pieces and stray bytes: whatever it is,
 * parse answers (an expression or an error), bind and match never crash
 * (ASan and UBSan watch). */
static void test_random_input(void **state)
{
	static const char *const piece[] = {
		"true", "false", "(", ")", "not ", " and ", " or ", "=", "\"",
		"field ", "\"name__label\"", "\"web 1\"", "\"tags\"", "\"\"", " ",
		"\t", "\n", "x", "'", "\\", "fiel", "an", "\x01", "\xff",
	};
	char s[256];
	unsigned seed = 12345;
	int parsed = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t n = 0;
		int k = (int)((seed = seed * 1103515245 + 12345) >> 16) % 16;

		while (k-- > 0) {
			const char *p = piece[((seed = seed * 1103515245 + 12345) >> 16) %
					      (sizeof(piece) / sizeof(piece[0]))];

			if (n + strlen(p) >= sizeof(s))
				break;
			memcpy(s + n, p, strlen(p));
			n += strlen(p);
		}
		s[n] = 0;
		parsed += eval(s) >= 0;
	}
	assert_true(parsed > 100);      /* the generator reaches valid input */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_precedence_is_xapis),
		cmocka_unit_test(test_fields_as_xapis_database_has_them),
		cmocka_unit_test(test_bad_expressions),
		cmocka_unit_test(test_nesting_is_bounded_chains_are_not),
		cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
