/* perfmon alarms (src/stats/perfmon.c) on the real datamodel: known
 * values in, ALARM messages out at exactly the trigger period, once per
 * episode; unknown values change nothing. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dm_fixture.h"
#include "stats/perfmon.h"
#include "stats/rrd.h"

static int teardown(void **state)
{
	(void)state;
	perfmon_dispose();
	return dm_teardown(state);
}

static struct obj *object(const char *cls, const char *perfmon)
{
	struct obj *o = dm_obj_new(dm_class_find(cls), NULL, NULL);

	dm_map_put_str(dm_fw(o, dm_field_find(o->cls, "other_config")->idx), "perfmon", perfmon);
	return o;
}

static const char *uuid_of(const struct obj *o)
{
	return dm_get_str(o, o->cls->f_uuid);
}

static size_t nmessages(void)
{
	return dm_class_find("message")->count;
}

static const char *last_field(const char *f)
{
	struct obj *m = dm_class_find("message")->last;

	int i = dm_field_find(m->cls, f)->idx;

	return f[0] == 'c' ? dm_get_enum(m, i) : dm_get_str(m, i);
}

/* one update of every DS to v at t, then the check */
static void step(struct rrd *r, struct obj *o, const char *cls, double t, double v)
{
	for (unsigned i = 0; i < rrd_nds(r); i++)
		assert_int_equal(rrd_set(r, i, v), 0);
	assert_int_equal(rrd_update(r, t), 0);
	perfmon_check(o, strcmp(cls, "VM") ? OF(o, host, other_config) : OF(o, VM, other_config),
		      cls, uuid_of(o), r, t);
}

static void test_episodes(void **state)
{
	static const struct rrd_ds_def ds[] = { { "memory", RRD_GAUGE, NAN, NAN, true } };
	struct obj *vm = object("VM", "<config><variable><name value=\"memory\"/>"
				"<alarm_trigger_level value=\"100\"/>"
				"<alarm_trigger_period value=\"15\"/></variable></config>");
	struct rrd *r = rrd_new(1000, ds, 1, false);
	size_t n0 = nmessages();

	(void)state;
	step(r, vm, "VM", 1005, 50);
	step(r, vm, "VM", 1010, 200);   /* beyond since 1005 */
	step(r, vm, "VM", 1015, 200);
	assert_int_equal(nmessages(), n0);
	step(r, vm, "VM", 1020, 200);   /* 15 s */
	assert_int_equal(nmessages(), n0 + 1);
	assert_string_equal(last_field("name"), "ALARM");
	assert_string_equal(last_field("cls"), "VM");
	assert_string_equal(last_field("obj_uuid"), uuid_of(vm));
	assert_string_equal(last_field("body"), "value: 200.000000\nconfig:\n"
			    "<variable><name value=\"memory\"/><alarm_trigger_level value=\"100\"/>"
			    "<alarm_trigger_period value=\"15\"/></variable>");
	for (double t = 1025; t < 1100; t += 5)
		step(r, vm, "VM", t, 200);
	step(r, vm, "VM", 1100, NAN);   /* unknown: the episode goes on */
	step(r, vm, "VM", 1105, 200);
	assert_int_equal(nmessages(), n0 + 1);
	step(r, vm, "VM", 1110, 100);   /* not beyond: over */
	step(r, vm, "VM", 1115, 300);
	step(r, vm, "VM", 1120, 300);
	assert_int_equal(nmessages(), n0 + 1);
	step(r, vm, "VM", 1125, 300);
	assert_int_equal(nmessages(), n0 + 2);
	assert_true(!strncmp(last_field("body"), "value: 300.000000\n", 18));
	rrd_free(r);
}

static void test_host_memory_free_low_default_period(void **state)
{
	static const struct rrd_ds_def ds[] = {
		{ "cpu0", RRD_GAUGE, 0, 1, false },
		{ "memory_free_kib", RRD_GAUGE, 0, NAN, true },
	};
	struct obj *h = object("host", "<config><variable><name value=\"memory_free_kib\"/>"
			       "<alarm_trigger_level value=\"0.5\"/>"
			       "<alarm_priority value=\"1\"/></variable></config>");
	struct rrd *r = rrd_new(1000, ds, 2, false);
	size_t n0 = nmessages();

	(void)state;
	/* 0.25 < 0.5: below, and low is memory_free_kib's default sense */
	for (double t = 1005; t < 1060; t += 5)
		step(r, h, "Host", t, 0.25);
	assert_int_equal(nmessages(), n0);
	step(r, h, "Host", 1060, 0.25);  /* 60 s, the default period */
	assert_int_equal(nmessages(), n0 + 1);
	assert_string_equal(last_field("cls"), "Host");
	assert_int_equal(dm_fv(dm_class_find("message")->last, FLD(message, priority))->u.i, 1);
	rrd_free(r);
}

static void test_vm_cpu_usage_mean_and_bad_config(void **state)
{
	static const struct rrd_ds_def ds[] = {
		{ "cpu0", RRD_GAUGE, 0, NAN, false },
		{ "cpu1", RRD_GAUGE, 0, NAN, false },
		{ "memory", RRD_GAUGE, 0, NAN, true },
	};
	struct obj *vm = object("VM", "<config><variable><name value=\"cpu_usage\"/>"
				"<alarm_trigger_level value=\"0.3\"/>"
				"<alarm_trigger_period value=\"5\"/></variable>"
				"<variable><name value=\"memory\"/></variable>"
				"<variable><name value=\"disk_usage\"/>"
				"<alarm_trigger_level value=\"x\"/></variable></config>");
	struct rrd *r = rrd_new(1000, ds, 3, false);
	size_t n0 = nmessages();

	(void)state;
	assert_int_equal(rrd_set(r, 0, 0.2), 0);
	assert_int_equal(rrd_set(r, 1, 0.6), 0);
	assert_int_equal(rrd_update(r, 1005), 0);
	perfmon_check(vm, OF(vm, VM, other_config), "VM", uuid_of(vm), r, 1005);
	/* the mean, 0.4, is beyond 0.3 for one step = the period */
	assert_int_equal(nmessages(), n0 + 1);
	assert_true(!strncmp(last_field("body"), "value: 0.400000\n", 16));
	/* mean 0.25: below the level */
	assert_int_equal(rrd_set(r, 0, 0.2), 0);
	assert_int_equal(rrd_set(r, 1, 0.3), 0);
	assert_int_equal(rrd_update(r, 1010), 0);
	perfmon_check(vm, OF(vm, VM, other_config), "VM", uuid_of(vm), r, 1010);
	assert_int_equal(nmessages(), n0 + 1);
	rrd_free(r);
}

/* Levels and periods that are not finite numbers (other_config is free
 * text from the wire) make the variable invalid: no alarm, not one at
 * every step or never. */
static void test_nonfinite_config_ignored(void **state)
{
	static const struct rrd_ds_def ds[] = { { "memory", RRD_GAUGE, NAN, NAN, true } };
	static const char *const vars[] = {
		"<alarm_trigger_level value=\"nan\"/><alarm_trigger_sense value=\"low\"/>",
		"<alarm_trigger_level value=\"-inf\"/><alarm_trigger_period value=\"5\"/>",
		"<alarm_trigger_level value=\"-1e999\"/><alarm_trigger_period value=\"5\"/>",
		"<alarm_trigger_level value=\"100\"/><alarm_trigger_period value=\"nan\"/>",
		"<alarm_trigger_level value=\"100\"/><alarm_trigger_period value=\"-inf\"/>",
		"<alarm_trigger_level value=\"100\"/><alarm_trigger_period value=\"x\"/>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		char cfg[512];
		struct obj *vm;
		struct rrd *r = rrd_new(1000, ds, 1, false);
		size_t n0 = nmessages();

		snprintf(cfg, sizeof(cfg), "<config><variable><name value=\"memory\"/>%s"
			 "</variable></config>", vars[i]);
		vm = object("VM", cfg);
		for (int k = 1; k <= 20; k++)
			step(r, vm, "VM", 1000 + 5 * k, 200);
		if (nmessages() != n0)
			fail_msg("an alarm from %s", vars[i]);
		rrd_free(r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_episodes),
		cmocka_unit_test(test_host_memory_free_low_default_period),
		cmocka_unit_test(test_vm_cpu_usage_mean_and_bad_config),
		cmocka_unit_test(test_nonfinite_config_ignored),
	};

	return cmocka_run_group_tests(tests, dm_setup, teardown);
}
