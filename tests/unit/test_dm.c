/* The datamodel engine (api/dm.c) with the real model (api/model.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define DM_FIELDS_TABLE
#include "api/dm.h"
#include "dm_fixture.h"


#define CLS(name) dm_class_find(name)

static void test_type_specs(void **state)
{
	const struct dm_type *t;

	(void)state;
	t = dm_type_parse("(string -> string) map");
	assert_non_null(t);
	assert_int_equal(t->kind, DM_MAP);
	assert_int_equal(t->key->kind, DM_STRING);
	assert_int_equal(t->elem->kind, DM_STRING);
	assert_ptr_equal(t, dm_type_parse("(string -> string) map"));   /* cached */
	t = dm_type_parse("VBD ref set");
	assert_int_equal(t->kind, DM_SET);
	assert_int_equal(t->elem->kind, DM_REF);
	assert_string_equal(t->elem->cls, "VBD");
	t = dm_type_parse("(int -> string set) map");
	assert_int_equal(t->elem->kind, DM_SET);
	assert_int_equal(t->key->kind, DM_INT);
	t = dm_type_parse("vm_power_state");
	assert_int_equal(t->kind, DM_ENUM);
	assert_int_equal(t->en->n, 4);
	assert_string_equal(t->en->v[2], "Running");
	assert_null(dm_type_parse("nonsense"));
	assert_null(dm_type_parse("(string string) map"));
	assert_null(dm_type_parse("nonsense set"));
	assert_null(dm_type_parse("(nonsense -> int) map"));
}

static void test_literals(void **state)
{
	struct dm_val v;

	(void)state;
	assert_int_equal(dm_val_from_literal(dm_type_parse("bool"), "maybe", &v), -1);
	assert_int_equal(dm_val_from_literal(dm_type_parse("int"), "12x", &v), -1);
	assert_int_equal(dm_val_from_literal(dm_type_parse("int"), "-12", &v), 0);
	assert_int_equal(v.u.i, -12);
	assert_int_equal(dm_val_from_literal(dm_type_parse("float"), "1.5", &v), 0);
	assert_true(v.u.d == 1.5);
	assert_int_equal(dm_val_from_literal(dm_type_parse("vm_power_state"), "Exploded", &v), -1);
	assert_int_equal(dm_val_from_literal(dm_type_parse("string set"), "x", &v), -1);
	assert_int_equal(dm_val_from_literal(dm_type_parse("VM ref"), NULL, &v), 0);
	assert_string_equal(v.u.s, "OpaqueRef:NULL");
	dm_val_free(dm_type_parse("VM ref"), &v);
}

static void test_defaults_and_records(void **state)
{
	struct obj *vm;

	(void)state;
	vm = dm_obj_new(CLS("VM"), NULL, NULL);
	assert_string_equal(dm_get_enum(vm, OF(vm, VM, power_state)), "Halted");
	assert_int_equal(dm_fv(vm, OF(vm, VM, domid))->u.i, -1);
	assert_int_equal(dm_fv(vm, OF(vm, VM, user_version))->u.i, 1);
	assert_true(dm_fv(vm, OF(vm, VM, HVM_shadow_multiplier))->u.d == 1.0);
	assert_string_equal(dm_get_str(vm, OF(vm, VM, resident_on)), "OpaqueRef:NULL");
	assert_int_equal(dm_list_len(dm_fv(vm, OF(vm, VM, VBDs))), 0);
	assert_true(dm_uuid_valid(dm_get_str(vm, vm->cls->f_uuid)));
	assert_memory_equal(vm->ref, "OpaqueRef:", 10);
	assert_ptr_equal(dm_obj_by_ref(vm->ref), vm);
	assert_ptr_equal(dm_obj_by_uuid(CLS("VM"), dm_get_str(vm, vm->cls->f_uuid)), vm);
	assert_null(dm_obj_by_uuid(CLS("host"), dm_get_str(vm, vm->cls->f_uuid)));
	assert_null(dm_obj_by_ref_cls(CLS("host"), vm->ref));
	dm_obj_delete(vm);
}

static void test_inverse_relations(void **state)
{
	struct obj *a = dm_obj_new(CLS("VM"), NULL, NULL);
	struct obj *b = dm_obj_new(CLS("VM"), NULL, NULL);
	struct obj *vbd = dm_obj_new(CLS("VBD"), NULL, NULL);
	int vbds = OF(a, VM, VBDs);

	(void)state;
	dm_set_str(vbd, OF(vbd, VBD, VM), a->ref);
	assert_int_equal(dm_list_len(dm_fv(a, vbds)), 1);
	assert_string_equal(dm_fv(a, vbds)->u.l->v[0].u.s, vbd->ref);
	dm_set_str(vbd, OF(vbd, VBD, VM), b->ref);          /* moves */
	assert_int_equal(dm_list_len(dm_fv(a, vbds)), 0);
	assert_int_equal(dm_list_len(dm_fv(b, vbds)), 1);
	dm_obj_delete(vbd);
	assert_int_equal(dm_list_len(dm_fv(b, vbds)), 0);
	/* rebuilt from the forward refs, as after loading */
	vbd = dm_obj_new(CLS("VBD"), NULL, NULL);
	dm_set_str(vbd, OF(vbd, VBD, VM), a->ref);
	dm_rebuild_inverses();
	assert_int_equal(dm_list_len(dm_fv(a, vbds)), 1);
	assert_int_equal(dm_list_len(dm_fv(b, vbds)), 0);
	dm_obj_delete(a);               /* the VBD's ref now dangles, harmlessly */
	assert_null(dm_obj_by_ref(dm_get_str(vbd, OF(vbd, VBD, VM))));
	dm_obj_delete(vbd);
	dm_obj_delete(b);
}

static void test_generations_and_dirt(void **state)
{
	struct obj *vm = dm_obj_new(CLS("VM"), NULL, NULL);
	struct obj *m = dm_obj_new(CLS("VM_metrics"), NULL, NULL);
	uint64_t g;

	(void)state;
	assert_true(vm->dirty);
	dm_dirty_clear();
	assert_false(vm->dirty || m->dirty);
	g = vm->gen_modified;
	dm_set_str(vm, OF(vm, VM, name_label), "x");
	assert_true(vm->gen_modified > g && vm->dirty);
	dm_dirty_clear();
	g = vm->gen_modified;
	dm_set_str(vm, OF(vm, VM, name_label), "x");       /* no change: nothing */
	assert_int_equal(vm->gen_modified, g);
	assert_false(vm->dirty);
	dm_touch(vm);                                     /* events only */
	assert_true(vm->gen_modified > g);
	assert_false(vm->dirty);
	assert_false(m->dirty);
	dm_set_int(m, OF(m, VM_metrics, memory_actual), 42);        /* volatile field */
	assert_false(m->dirty);
	dm_set_int(m, OF(m, VM_metrics, start_time), 42);
	assert_true(m->dirty);
	dm_obj_delete(m);
	dm_obj_delete(vm);
}

static void test_tombstones(void **state)
{
	const struct dm_tomb *t;
	uint64_t g0 = dm_gen;
	int lost;
	size_t n;

	(void)state;
	dm_tombs_persisted();
	for (int i = 0; i < 1500; i++)
		dm_obj_delete(dm_obj_new(CLS("message"), NULL, NULL));
	n = dm_tombs_since(g0, &t, &lost);
	assert_int_equal(n, 1500);
	assert_false(lost);
	assert_false(t[0].persisted);
	dm_tombs_persisted();           /* trims to the newest 1024 */
	n = dm_tombs_since(g0, &t, &lost);
	assert_true(lost);
	assert_int_equal(n, 1024);
	n = dm_tombs_since(dm_gen - 1, &t, &lost);
	assert_false(lost);
	assert_int_equal(n, 1);
	assert_true(t[0].persisted);
	/* a transient object's tombstone never needs the store */
	{
		struct obj *s = dm_obj_new(CLS("session"), NULL, NULL);

		s->transient = 1;
		dm_obj_delete(s);
		n = dm_tombs_since(dm_gen - 1, &t, &lost);
		assert_int_equal(n, 1);
		assert_true(t[0].persisted);
	}
}

static void test_uuid_reindex_and_maps(void **state)
{
	struct obj *vm = dm_obj_new(CLS("VM"), NULL, "11111111-2222-3333-4444-555555555555");
	struct dm_val *oc;
	const struct dm_type *mt;

	(void)state;
	assert_ptr_equal(dm_obj_by_uuid(CLS("VM"), "11111111-2222-3333-4444-555555555555"), vm);
	dm_obj_set_uuid(vm, "aaaaaaaa-2222-3333-4444-555555555555");
	assert_null(dm_obj_by_uuid(CLS("VM"), "11111111-2222-3333-4444-555555555555"));
	assert_ptr_equal(dm_obj_by_uuid(CLS("VM"), "aaaaaaaa-2222-3333-4444-555555555555"), vm);
	oc = dm_fw(vm, OF(vm, VM, other_config));
	mt = vm->cls->fields[OF(vm, VM, other_config)].t;
	dm_map_put_str(oc, "k", "v1");
	dm_map_put_str(oc, "k", "v2");
	dm_map_put_str(oc, "j", "w");
	assert_int_equal(dm_list_len(oc), 4);
	assert_string_equal(dm_map_get(mt, oc, "k")->u.s, "v2");
	assert_null(dm_map_get(mt, oc, "nope"));
	dm_obj_delete(vm);
}

static void test_uuid_syntax(void **state)
{
	(void)state;
	assert_true(dm_uuid_valid("b7e524eb-02bb-5468-95bd-0ff7d77d7a66"));
	assert_true(dm_uuid_valid("B7E524EB-02BB-5468-95BD-0FF7D77D7A66"));
	assert_false(dm_uuid_valid("b7e524eb02bb-5468-95bd-0ff7d77d7a66-"));
	assert_false(dm_uuid_valid("b7e524eb-02bb-5468-95bd-0ff7d77d7a6"));
	assert_false(dm_uuid_valid("g7e524eb-02bb-5468-95bd-0ff7d77d7a66"));
	assert_false(dm_uuid_valid(""));
}

static void test_model_is_sound(void **state)
{
	(void)state;
	for (size_t i = 0; i < dm_nclasses; i++) {
		const struct dm_class *k = dm_classes[i];

		if (k->flags & DM_C_NO_OBJECTS)
			continue;
		assert_true(k->f_uuid >= 0);            /* every class has a uuid */
		for (int f = 0; f < k->nfields; f++) {
			assert_non_null(k->fields[f].t);
			for (int g = f + 1; g < k->nfields; g++)
				assert_string_not_equal(k->fields[f].name, k->fields[g].name);
		}
	}
	assert_non_null(dm_class_find_ci("vm"));
	assert_null(dm_class_find("vm"));
	assert_non_null(dm_msg_find(dm_class_find("VM"), "start"));
}

/* The generated constants (support/gen-fields.awk) name the same fields
 * as dm_init's numbering, every one of them, and only those. */
static void test_field_constants(void **state)
{
	size_t n = sizeof(dm_fields_table) / sizeof(dm_fields_table[0]), total = 0;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct dm_class *k = dm_class_find(dm_fields_table[i].cls);
		const struct dm_field *f;

		assert_non_null(k);
		f = dm_field_find(k, dm_fields_table[i].field);
		assert_non_null(f);
		assert_int_equal(f->idx, dm_fields_table[i].idx);
	}
	for (size_t i = 0; i < dm_nclasses; i++)
		total += (size_t)dm_classes[i]->nfields;
	assert_int_equal(total, n);
	assert_int_equal(FLD(VM, uuid), dm_class_find("VM")->f_uuid);
	assert_string_equal(dm_class_find("VM")->fields[FLD(VM, power_state)].name, "power_state");
}

/* OF(o, cls, field) is the constant on an object of cls; in this (host)
 * build, a right name on the wrong class aborts rather than reading
 * another field (VBD and VM both have a field 2, not the same one). */
static void test_of_checks_class(void **state)
{
	struct obj *vm = dm_obj_new(CLS("VM"), NULL, NULL);
	struct obj *vbd = dm_obj_new(CLS("VBD"), NULL, NULL);
	int st = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(OF(vm, VM, power_state), FLD(VM, power_state));
	assert_int_equal(OF(vbd, VBD, VM), FLD(VBD, VM));
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int f = OF(vbd, VM, power_state);       /* wrong class: aborts */

		_exit(f == FLD(VM, power_state) ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	dm_obj_delete(vbd);
	dm_obj_delete(vm);
}

/* Values' strings are interned (docs/POOL.md 11.3): one copy per text,
 * shared by the object's ref, its inverse sets and equal field values;
 * "" and OpaqueRef:NULL are never allocated; the last reference frees. */
static void test_interned_strings(void **state)
{
	size_t n0 = dm_str_count();
	struct obj *vm, *vbd;
	char *a, *b, *ref;
	int st = 0;
	pid_t pid;

	(void)state;
	a = dm_str("running late");
	b = dm_strn("running late, again", 12);
	assert_ptr_equal(a, b);
	assert_int_equal(dm_str_count(), n0 + 1);
	dm_str_put(a);
	assert_int_equal(dm_str_count(), n0 + 1);
	dm_str_put(b);
	assert_int_equal(dm_str_count(), n0);
	/* the two constants: no allocation, puts are harmless */
	assert_ptr_equal(dm_str(""), dm_str(NULL));
	assert_ptr_equal(dm_str("OpaqueRef:NULL"), dm_strn("OpaqueRef:NULL!", 14));
	dm_str_put(dm_str(""));
	dm_str_put(dm_str("OpaqueRef:NULL"));
	assert_int_equal(dm_str_count(), n0);
	/* a new VBD: its empty strings and null refs cost nothing */
	vbd = dm_obj_new(CLS("VBD"), NULL, NULL);
	assert_int_equal(dm_str_count(), n0 + 2);       /* its ref and uuid */
	assert_string_equal(dm_get_str(vbd, OF(vbd, VBD, VM)), "OpaqueRef:NULL");
	/* its ref is shared by the VM's VBDs and its VM field by the VM's ref */
	vm = dm_obj_new(CLS("VM"), NULL, NULL);
	dm_set_str(vm, OF(vm, VM, name_label), "web");
	dm_set_str(vbd, OF(vbd, VBD, VM), vm->ref);
	assert_ptr_equal(dm_fv(vm, OF(vm, VM, VBDs))->u.l->v[0].u.s, vbd->ref);
	assert_ptr_equal(dm_get_str(vbd, OF(vbd, VBD, VM)), vm->ref);
	ref = dm_str_ref(vm->ref);
	dm_obj_delete(vbd);
	dm_obj_delete(vm);
	assert_string_equal(ref, ref);                  /* still ours (ASan) */
	dm_str_put(ref);
	assert_int_equal(dm_str_count(), n0);
	/* a string that is not one, put: the test build aborts */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		char *p = calloc(1, 64);

		strcpy(p + 36, "plain");   /* a header before it: zeros */
		dm_str_put(p + 36);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

/* Sparse objects (docs/POOL.md 11.3): another host's object of a mirrored
 * class holds only the fields that differ from their default; a field it
 * does not hold reads as the default (the class's shared one); a write
 * of another value adds its slot, of the default drops it; inverse sets
 * and lookups work as on a dense object. */
#define ABSENT(o, i) (dm_fv((o), (i)) == &(o)->cls->fields[(i)].dv)

/* a value of field f's type other than its default; 0 if none is made */
static int other_value(const struct dm_field *f, int i, struct dm_val *v, char *buf)
{
	const struct dm_val *d = &f->dv;

	switch (f->t->kind) {
	case DM_STRING:
		sprintf(buf, "v%d", i);
		v->u.s = buf;
		return 1;
	case DM_INT:
	case DM_DATETIME:
		v->u.i = d->u.i + 1000 + i;
		return 1;
	case DM_BOOL:
		v->u.i = !d->u.i;
		return 1;
	case DM_FLOAT:
		v->u.d = d->u.d + 0.5;
		return 1;
	default:
		return 0;
	}
}

static void test_sparse_objects(void **state)
{
	struct dm_class *k = CLS("VM");
	size_t n0 = dm_str_count();
	struct obj *s, *d, *vbd, *ses;
	int vbds = FLD(VM, VBDs), nset = 0;
	char buf[32];

	(void)state;
	assert_true(k->nfields > 64);   /* the bitmap spans two words */
	s = dm_obj_new_owned(k, NULL, NULL, 3);
	d = dm_obj_new(k, NULL, NULL);
	ses = dm_obj_new_owned(CLS("session"), NULL, NULL, 3);
	assert_true(s->sparse);
	assert_int_equal(s->owner, 3);
	assert_false(d->sparse);
	assert_false(ses->sparse);      /* not a mirrored class: dense */
	/* absent fields read as their defaults */
	assert_string_equal(dm_get_enum(s, OF(s, VM, power_state)), "Halted");
	assert_int_equal(dm_fv(s, OF(s, VM, domid))->u.i, -1);
	assert_int_equal(dm_fv(s, OF(s, VM, user_version))->u.i, 1);
	assert_true(dm_fv(s, OF(s, VM, HVM_shadow_multiplier))->u.d == 1.0);
	assert_string_equal(dm_get_str(s, OF(s, VM, resident_on)), "OpaqueRef:NULL");
	assert_string_equal(dm_get_str(s, OF(s, VM, name_label)), "");
	assert_int_equal(dm_list_len(dm_fv(s, vbds)), 0);
	assert_true(ABSENT(s, FLD(VM, domid)));
	/* the uuid is held and indexed */
	assert_false(ABSENT(s, k->f_uuid));
	assert_true(dm_uuid_valid(dm_get_str(s, k->f_uuid)));
	assert_ptr_equal(dm_obj_by_uuid(k, dm_get_str(s, k->f_uuid)), s);
	assert_ptr_equal(dm_obj_by_ref(s->ref), s);
	/* every settable scalar field to another value, on both: a slot each,
	 * read back in any order across the bitmap's words */
	DM_FOREIGN(1);
	for (int i = 0; i < k->nfields; i++) {
		const struct dm_field *f = &k->fields[i];
		struct dm_val v;

		if (i == k->f_uuid || !other_value(f, i, &v, buf))
			continue;
		dm_set(s, i, &v);
		dm_set(d, i, &v);
		assert_false(ABSENT(s, i));
		nset++;
	}
	assert_true(nset > 40);
	for (int i = 0; i < k->nfields; i++)
		assert_true(dm_val_equal(k->fields[i].t, dm_fv(s, i), dm_fv(d, i)) ||
			    i == k->f_uuid);
	/* every other one back to its default: its slot goes */
	for (int i = 0; i < k->nfields; i += 2) {
		if (i == k->f_uuid)
			continue;
		dm_set(s, i, &k->fields[i].dv);
		dm_set(d, i, &k->fields[i].dv);
		assert_true(ABSENT(s, i));
	}
	for (int i = 0; i < k->nfields; i++)
		if (i != k->f_uuid)
			assert_true(dm_val_equal(k->fields[i].t, dm_fv(s, i), dm_fv(d, i)));
	dm_set_enum(s, OF(s, VM, power_state), "Running");
	assert_string_equal(dm_get_enum(s, OF(s, VM, power_state)), "Running");
	dm_set_enum(s, OF(s, VM, power_state), "Halted");
	assert_true(ABSENT(s, FLD(VM, power_state)));
	/* inverse sets: a sparse VBD in a sparse VM's set, moved to a dense
	 * VM and back, deleted: the set's slot comes and goes */
	vbd = dm_obj_new_owned(CLS("VBD"), NULL, NULL, 3);
	assert_true(vbd->sparse);
	dm_set_str(vbd, OF(vbd, VBD, VM), s->ref);
	assert_int_equal(dm_list_len(dm_fv(s, vbds)), 1);
	assert_ptr_equal(dm_fv(s, vbds)->u.l->v[0].u.s, vbd->ref);
	assert_ptr_equal(dm_obj_by_ref(dm_get_str(vbd, OF(vbd, VBD, VM))), s);
	dm_set_str(vbd, OF(vbd, VBD, VM), d->ref);
	assert_true(ABSENT(s, vbds));
	assert_int_equal(dm_list_len(dm_fv(d, vbds)), 1);
	dm_set_str(vbd, OF(vbd, VBD, VM), s->ref);
	dm_rebuild_inverses();          /* as after loading */
	assert_int_equal(dm_list_len(dm_fv(s, vbds)), 1);
	assert_int_equal(dm_list_len(dm_fv(d, vbds)), 0);
	dm_obj_delete(vbd);
	assert_true(ABSENT(s, vbds));
	/* written in place: the slot is made from the default */
	dm_map_put_str(dm_fw(s, OF(s, VM, other_config)), "k", "v");
	assert_false(ABSENT(s, FLD(VM, other_config)));
	assert_string_equal(dm_map_get(dm_field_find(k, "other_config")->t,
				       dm_fv(s, FLD(VM, other_config)), "k")->u.s, "v");
	assert_int_equal(dm_list_len(&k->fields[FLD(VM, other_config)].dv), 0);
	/* a new uuid is re-indexed */
	dm_obj_set_uuid(s, "11111111-2222-4333-8444-555555555555");
	assert_ptr_equal(dm_obj_by_uuid(k, "11111111-2222-4333-8444-555555555555"), s);
	dm_obj_delete(s);
	dm_obj_delete(d);
	dm_obj_delete(ses);
	DM_FOREIGN(0);
	assert_int_equal(dm_str_count(), n0);   /* and ASan: nothing leaked */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_specs),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_defaults_and_records),
		cmocka_unit_test(test_inverse_relations),
		cmocka_unit_test(test_generations_and_dirt),
		cmocka_unit_test(test_tombstones),
		cmocka_unit_test(test_uuid_reindex_and_maps),
		cmocka_unit_test(test_uuid_syntax),
		cmocka_unit_test(test_model_is_sound),
		cmocka_unit_test(test_field_constants),
		cmocka_unit_test(test_of_checks_class),
		cmocka_unit_test(test_interned_strings),
		cmocka_unit_test(test_sparse_objects),
	};

	return cmocka_run_group_tests(tests, dm_setup, dm_teardown);
}
