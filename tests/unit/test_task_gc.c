/* Task collection (api/task.c), XAPI's rules with the clock in hand:
 * finished tasks go 65 min after finishing, pending ones 24 h after they
 * were made, and beyond 200 the oldest finished go, never a pending one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "dm_fixture.h"

#define NOW 2000000000LL


static struct obj *task(const char *status, int64_t created, int64_t finished)
{
	struct dm_class *k = dm_class_find("task");
	struct obj *t = dm_obj_new(k, NULL, NULL);

	dm_set_enum(t, OF(t, task, status), status);
	dm_set_int(t, OF(t, task, created), created);
	dm_set_int(t, OF(t, task, finished), finished);
	return t;
}

static int alive(const char *ref)
{
	return dm_obj_by_ref_cls(dm_class_find("task"), ref) != NULL;
}

static void test_ages(void **state)
{
	char done_young[DM_REF_LEN], done_old[DM_REF_LEN], failed_old[DM_REF_LEN];
	char pending_young[DM_REF_LEN], pending_old[DM_REF_LEN];

	(void)state;
	strcpy(done_young, task("success", NOW - 4000, NOW - 3800)->ref);
	strcpy(done_old, task("success", NOW - 4000, NOW - 3901)->ref);
	strcpy(failed_old, task("cancelled", NOW - 90000, NOW - 90000)->ref);
	strcpy(pending_young, task("pending", NOW - 86000, 0)->ref);
	strcpy(pending_old, task("pending", NOW - 86401, 0)->ref);
	api_tasks_gc(NOW);
	assert_true(alive(done_young));
	assert_false(alive(done_old));
	assert_false(alive(failed_old));
	assert_true(alive(pending_young));
	assert_false(alive(pending_old));
	assert_int_equal(dm_class_find("task")->count, 2);
}

static void test_cap_takes_the_oldest_finished(void **state)
{
	char first_pending[DM_REF_LEN], oldest[DM_REF_LEN], newest[DM_REF_LEN];
	struct dm_class *k = dm_class_find("task");

	(void)state;
	strcpy(first_pending, task("pending", NOW - 10, 0)->ref);
	/* 250 finished, made in order, finished in reverse: the first made is
	 * the last finished */
	for (int i = 0; i < 250; i++) {
		struct obj *t = task(i % 2 ? "failure" : "success", NOW - 1000 + i, NOW - i);

		if (i == 0)
			strcpy(newest, t->ref);
		if (i == 249)
			strcpy(oldest, t->ref);
	}
	for (int i = 0; i < 60; i++)
		task("pending", NOW, 0);
	api_tasks_gc(NOW);
	assert_int_equal(k->count, 200);
	assert_true(alive(first_pending));
	assert_true(alive(newest));
	assert_false(alive(oldest));
	/* pending tasks alone beyond the cap: none goes */
	for (int i = 0; i < 200; i++)
		task("pending", NOW, 0);
	api_tasks_gc(NOW);
	assert_int_equal(k->count, 261);
	assert_true(alive(first_pending));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ages, dm_setup, dm_teardown),
		cmocka_unit_test_setup_teardown(test_cap_takes_the_oldest_finished, dm_setup, dm_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
