/* The store (src/store/store.c) on a real SQLite file, its disk failing
 * through the host build's fault hook (XENBOX_STORE_FAULT, store_fault.c):
 * nothing is marked saved before COMMIT, tries back off, and
 * store_saved_since() tells which replies may go out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/dm.h"
#include "store/store.h"

static char dir[] = "/tmp/xenbox-store-XXXXXX";
static char db[64], ctl[64];

static void set_fault(const char *what)
{
	FILE *f;

	if (!what) {
		unlink(ctl);
		return;
	}
	f = fopen(ctl, "w");
	assert_non_null(f);
	fputs(what, f);
	fclose(f);
}

static void open_all(void)
{
	char err[256];

	assert_int_equal(dm_init(err, sizeof(err)), 0);
	dm_set_change_hook(store_mark_dirty);
	if (store_open(db, err, sizeof(err)) || store_load(err, sizeof(err)))
		fail_msg("store: %s", err);
}

static void close_all(void)
{
	store_close();
	dm_dispose();
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(db, sizeof(db), "%s/xenbox.db", dir);
	snprintf(ctl, sizeof(ctl), "%s/fault", dir);
	setenv("XENBOX_STORE_FAULT", ctl, 1);
	open_all();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	close_all();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

static struct obj *new_vm(const char *name)
{
	struct obj *o = dm_obj_new(dm_class_find("VM"), NULL, NULL);

	dm_set_str(o, OF(o, VM, name_label), name);
	return o;
}

/* A failed write is kept for the next try, which waits for the back-off;
 * the reply of the call that made it waits until it is committed. */
static void test_failure_kept_and_retried(void **state)
{
	uint64_t g0 = dm_gen;
	unsigned long c0 = store_commits();
	char ref[DM_REF_LEN];

	(void)state;
	assert_int_equal(store_flush(1000), 0);
	set_fault("write");
	snprintf(ref, sizeof(ref), "%s", new_vm("kept")->ref);
	assert_int_equal(store_flush(1000), -1);
	assert_int_equal(store_saved_since(g0), 0);         /* the call's reply waits */
	assert_int_equal(store_saved_since(dm_gen), 1);     /* a later call's may go */
	assert_int_equal(store_retry_in(1000), 250);
	set_fault(NULL);
	/* before the back-off has passed there is no try, even with the disk back */
	assert_int_equal(store_flush(1100), -1);
	assert_int_equal(store_commits(), c0);
	assert_int_equal(store_retry_in(1100), 150);
	assert_int_equal(store_flush(1250), 0);
	assert_int_equal(store_commits(), c0 + 1);
	assert_int_equal(store_saved_since(g0), 1);
	assert_int_equal(store_retry_in(1250), -1);
	/* it is in the file */
	close_all();
	open_all();
	assert_non_null(dm_obj_by_ref_cls(dm_class_find("VM"), ref));
}

/* COMMIT failing (its fsync) keeps every change, made before the failure
 * or during it.  (BEGIN failing on a lock: tests/integration.) */
static void test_commit_failure_then_recovery(void **state)
{
	uint64_t g0 = dm_gen;
	struct obj *a, *b;
	char ra[DM_REF_LEN], rb[DM_REF_LEN];

	(void)state;
	a = new_vm("a");
	assert_int_equal(store_flush(0), 0);
	snprintf(ra, sizeof(ra), "%s", a->ref);
	set_fault("fsync");
	dm_set_str(a, OF(a, VM, name_label), "a2");
	b = new_vm("b");
	snprintf(rb, sizeof(rb), "%s", b->ref);
	assert_int_equal(store_flush(0), -1);
	assert_int_equal(store_flush(0), -1);   /* 0: tries regardless of back-off */
	assert_int_equal(store_saved_since(g0), 0);
	set_fault(NULL);
	assert_int_equal(store_flush(0), 0);
	close_all();
	open_all();
	a = dm_obj_by_ref_cls(dm_class_find("VM"), ra);
	assert_non_null(a);
	assert_string_equal(dm_get_str(a, OF(a, VM, name_label)), "a2");
	assert_non_null(dm_obj_by_ref_cls(dm_class_find("VM"), rb));
}

/* 250 ms, doubling, at most 5 s. */
static void test_backoff(void **state)
{
	static const int64_t want[] = { 250, 500, 1000, 2000, 4000, 5000, 5000 };
	int64_t now = 10000;

	(void)state;
	set_fault("write");
	new_vm("slow");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(store_flush(now), -1);
		assert_int_equal(store_retry_in(now), want[i]);
		now += want[i];
	}
	set_fault(NULL);
	assert_int_equal(store_flush(now), 0);
	/* a new episode starts again at 250 ms */
	set_fault("write");
	new_vm("again");
	assert_int_equal(store_flush(now), -1);
	assert_int_equal(store_retry_in(now), 250);
	set_fault(NULL);
	assert_int_equal(store_flush(0), 0);
}

/* While the store fails, a call that changed only what is never saved
 * (a local superuser's session, a task) does not wait for the failing
 * change of another call. */
static void test_unsaved_things_do_not_hold_others(void **state)
{
	struct obj *vm, *s;
	uint64_t g_vm, g_login;

	(void)state;
	vm = new_vm("x");
	assert_int_equal(store_flush(0), 0);
	set_fault("write");
	g_vm = dm_gen;
	dm_set_str(vm, OF(vm, VM, name_label), "y");
	assert_int_equal(store_flush(1000), -1);
	g_login = dm_gen;
	s = dm_obj_new(dm_class_find("session"), NULL, NULL);
	s->transient = 1;
	dm_set_str(s, OF(s, session, originator), "xe");
	dm_obj_new(dm_class_find("task"), NULL, NULL);
	assert_int_equal(store_flush(1001), -1);        /* back-off: no try */
	assert_int_equal(store_saved_since(g_vm), 0);
	assert_int_equal(store_saved_since(g_login), 1);
	set_fault(NULL);
	assert_int_equal(store_flush(0), 0);
	assert_int_equal(store_saved_since(g_vm), 1);
}

/* Changes that are never saved need no transaction: an idle host with
 * only metrics changing takes no lock and writes nothing. */
static void test_volatile_only_commits_nothing(void **state)
{
	unsigned long c0;

	(void)state;
	assert_int_equal(store_flush(0), 0);
	assert_int_equal(store_retry_in(0), -1);
	c0 = store_commits();
	set_fault("write");
	dm_obj_new(dm_class_find("task"), NULL, NULL);
	assert_int_equal(store_retry_in(0), 0);         /* a flush is due now */
	assert_int_equal(store_flush(0), 0);
	assert_int_equal(store_retry_in(0), -1);
	assert_int_equal(store_commits(), c0);
	set_fault(NULL);
}

/* Owners (docs/POOL.md 4.1): another host's object is written with its
 * owner's name in xb_owner and comes back with its owner number; one whose
 * owner is not known at load is not loaded; this host's stay owner 0. */
static const char *own_name(unsigned n)
{
	return n == 3 ? "OpaqueRef:owner-three" : n == 4 ? "OpaqueRef:owner-four" : "?";
}

static int own_number(const char *name)
{
	return !strcmp(name, "OpaqueRef:owner-three") ? 3 : -1;
}

static void test_owner_kept(void **state)
{
	struct obj *a = new_vm("theirs"), *b = new_vm("gone"), *c = new_vm("mine");
	char ra[DM_REF_LEN], rb[DM_REF_LEN], rc[DM_REF_LEN];

	(void)state;
	store_set_owners(own_name, own_number);
	a->owner = 3;
	b->owner = 4;
	snprintf(ra, sizeof(ra), "%s", a->ref);
	snprintf(rb, sizeof(rb), "%s", b->ref);
	snprintf(rc, sizeof(rc), "%s", c->ref);
	assert_int_equal(store_flush(0), 0);
	close_all();
	open_all();
	a = dm_obj_by_ref(ra);
	c = dm_obj_by_ref(rc);
	assert_non_null(a);
	assert_int_equal(a->owner, 3);
	assert_string_equal(dm_get_str(a, OF(a, VM, name_label)), "theirs");
	assert_null(dm_obj_by_ref(rb));         /* owner 4: unknown at load */
	assert_non_null(c);
	assert_int_equal(c->owner, 0);
	/* without the hooks, the column is read as nothing: all local */
	store_set_owners(NULL, NULL);
	close_all();
	open_all();
	assert_int_equal(dm_obj_by_ref(ra)->owner, 0);
	assert_non_null(dm_obj_by_ref(rb));
}

/* A ref deleted and made again before the commit (a member's object the
 * mirror dropped and got back, fwd_forget then a snapshot): the commit
 * applies the deletion first, so the new object is what is saved.  And an
 * object made and deleted between two commits is never saved. */
static void test_deleted_then_remade_before_commit(void **state)
{
	struct obj *a = new_vm("first"), *b;
	char ra[DM_REF_LEN], rb[DM_REF_LEN];

	(void)state;
	snprintf(ra, sizeof(ra), "%s", a->ref);
	assert_int_equal(store_flush(0), 0);
	dm_obj_delete(a);
	a = dm_obj_new(dm_class_find("VM"), ra, NULL);
	dm_set_str(a, OF(a, VM, name_label), "again");
	b = new_vm("brief");
	snprintf(rb, sizeof(rb), "%s", b->ref);
	dm_obj_delete(b);
	assert_int_equal(store_flush(0), 0);
	close_all();
	open_all();
	a = dm_obj_by_ref(ra);
	assert_non_null(a);
	assert_string_equal(dm_get_str(a, OF(a, VM, name_label)), "again");
	assert_null(dm_obj_by_ref(rb));
	/* and deleted, not made again: gone */
	dm_obj_delete(a);
	assert_int_equal(store_flush(0), 0);
	close_all();
	open_all();
	assert_null(dm_obj_by_ref(ra));
}

/* Many objects, few changed: only those are written (the dirty list), and
 * an object changed twice is written once. */
static void test_commit_writes_what_changed(void **state)
{
	struct obj *v[50];
	char r7[DM_REF_LEN];

	(void)state;
	for (int i = 0; i < 50; i++) {
		char name[16];

		snprintf(name, sizeof(name), "vm%d", i);
		v[i] = new_vm(name);
	}
	snprintf(r7, sizeof(r7), "%s", v[7]->ref);
	assert_int_equal(store_flush(0), 0);
	dm_set_str(v[7], OF(v[7], VM, name_label), "seven");
	dm_set_str(v[7], OF(v[7], VM, name_label), "seven again");
	assert_int_equal(store_flush(0), 0);
	close_all();
	open_all();
	v[7] = dm_obj_by_ref(r7);
	assert_non_null(v[7]);
	assert_string_equal(dm_get_str(v[7], OF(v[7], VM, name_label)), "seven again");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_kept_and_retried),
		cmocka_unit_test(test_owner_kept),
		cmocka_unit_test(test_commit_failure_then_recovery),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_unsaved_things_do_not_hold_others),
		cmocka_unit_test(test_volatile_only_commits_nothing),
		cmocka_unit_test(test_deleted_then_remade_before_commit),
		cmocka_unit_test(test_commit_writes_what_changed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
