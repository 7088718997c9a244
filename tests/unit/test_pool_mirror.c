/* The mirror's apply on the master (pool/mirror.c, docs/POOL.md 4.3): each
 * check of a member's xbpool.sync (class, ownership, the member's one host,
 * uuid, ref fields, quota), fields by their wire conversion (unknown ones
 * ignored, inverse sets derived here), deletions, the full snapshot's
 * marks, the cursor; the builder's coalescing decision (mirror_due); and
 * what the dispatcher does with another host's objects (writes refused,
 * allowed_operations [] while the owner is down).  Two members, slots 1
 * and 2, on a datamodel with this host's own objects (sim backend). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/host.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "pool/master.h"
#include "pool/mirror.h"
#include "rpc/json.h"
#include "vmm/backend.h"

#define H1 "OpaqueRef:11111111-1111-4111-8111-111111111111"
#define HU1 "11111111-1111-4111-8111-1111111111aa"
#define H2 "OpaqueRef:22222222-2222-4222-8222-222222222222"
#define VM1 "OpaqueRef:11111111-1111-4111-8111-000000000001"
#define VM2 "OpaqueRef:11111111-1111-4111-8111-000000000002"
#define VM3 "OpaqueRef:11111111-1111-4111-8111-000000000003"
#define VDI2 "OpaqueRef:22222222-2222-4222-8222-000000000001"
#define EP "9b2d4c1e-0f6a-4781-8000-000000000001"

static struct vmm *vmm;
static struct mem x1 = { .slot = 1, .up = 1 }, x2 = { .slot = 2 };
static char session[DM_REF_LEN];

static struct obj *member(const char *host, const char *host_uuid)
{
	struct obj *m = dm_obj_new(dm_class_find("pool_member"), NULL, NULL);

	dm_set_str(m, OF(m, pool_member, host), host);
	dm_set_str(m, OF(m, pool_member, host_uuid), host_uuid);
	return m;
}

static int setup(void **state)
{
	char err[256];
	struct obj *s;

	(void)state;
	log_level = LOG_ERR;
	if (dm_init(err, sizeof(err)) ||
	    vmm_open("sim", "mem=8G,shutdown_delay=0", &vmm, err, sizeof(err)) ||
	    api_host_init(vmm, "unit", err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	snprintf(x1.uuid, sizeof(x1.uuid), "%s", dm_get_str(member(H1, HU1), FLD(pool_member, uuid)));
	snprintf(x2.uuid, sizeof(x2.uuid), "%s",
		 dm_get_str(member(H2, "22222222-2222-4222-8222-2222222222aa"),
			    FLD(pool_member, uuid)));
	s = dm_obj_new(dm_class_find("session"), NULL, NULL);
	s->transient = 1;
	dm_set_int(s, OF(s, session, is_local_superuser), 1);
	dm_set_str(s, OF(s, session, auth_user_name), "root");
	strcpy(session, s->ref);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dm_dispose();
	vmm_close(vmm);
	return 0;
}

/* ---- a sync from a member ---- */

struct res {
	struct arena a;
	struct xv *v;           /* the result: {"rejected": [...], "gen": N} */
};

/* JSON written with ' for " */
static struct xv *parse(struct arena *a, const char *text)
{
	char *t = arena_strdup(a, text);
	struct xv *v;
	const char *err;

	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	if (json_parse(a, t, strlen(t), &v, &err))
		fail_msg("bad test JSON: %s: %s", err, t);
	return v;
}

static void sync(struct res *r, struct mem *x, const char *params)
{
	struct buf b = BUF_INIT;
	struct emit e;
	const char *err;

	arena_init(&r->a, 0);
	json_emit_init(&e, &b);
	mirror_apply(x, parse(&r->a, params), &e);
	if (json_parse(&r->a, b.data, b.len, &r->v, &err))
		fail_msg("result: %s: %s", err, b.data);
	buf_free(&b);
}

/* why ref was rejected, NULL if it was not */
static const char *why(struct res *r, const char *ref)
{
	const struct xv *l = xv_get(r->v, "rejected");

	for (size_t i = 0; l && i < l->len; i++)
		if (!strcmp(xv_get(l->u.a[i], "ref")->u.s, ref))
			return xv_get(l->u.a[i], "why")->u.s;
	return NULL;
}

static size_t nrejected(struct res *r)
{
	return xv_get(r->v, "rejected")->len;
}

#define OBJ(cls, ref, rec) "{'class':'" cls "','ref':'" ref "','record':{" rec "}}"
#define VMREC(uuid, name) "'uuid':'" uuid "','name_label':'" name "'"

static struct obj *vm(const char *ref)
{
	return dm_obj_by_ref_cls(dm_class_find("VM"), ref);
}

static const char *label(const char *ref)
{
	struct obj *o = dm_obj_by_ref(ref);

	return o ? dm_get_str(o, o->cls->f_name_label) : "(none)";
}

/* The member's host and a VM: made with owner 1, known fields set by type,
 * unknown ones and inverse sets ignored; applied twice, nothing changes */
static void test_apply_creates_and_updates(void **state)
{
	struct res r;
	struct obj *h, *v;
	uint64_t g;
	const char *p = "{'objects':["
		OBJ("host", H1, "'uuid':'" HU1 "','name_label':'edge-17','no_such_field':1,"
		    "'resident_VMs':['OpaqueRef:x']")
		"," OBJ("VM", VM1, VMREC("11111111-1111-4111-8111-0000000000a1", "web") ","
			"'resident_on':'" H1 "','power_state':'Running','VCPUs_max':'4',"
			"'memory_target':1234,'VBDs':['" VM2 "'],'affinity':'OpaqueRef:NULL'")
		"],'epoch':'" EP "','complete':7}";

	(void)state;
	sync(&r, &x1, p);
	assert_int_equal(nrejected(&r), 0);
	h = dm_obj_by_ref(H1);
	v = vm(VM1);
	assert_non_null(h);
	assert_non_null(v);
	assert_int_equal(h->owner, 1);
	assert_int_equal(v->owner, 1);
	assert_string_equal(dm_get_str(h, OF(h, host, name_label)), "edge-17");
	assert_string_equal(dm_get_enum(v, OF(v, VM, power_state)), "Running");
	assert_int_equal(dm_fv(v, OF(v, VM, VCPUs_max))->u.i, 4);          /* "4" as an int */
	assert_int_equal(dm_fv(v, OF(v, VM, memory_target))->u.i, 1234);
	/* inverse sets: derived here, not taken from the record */
	assert_int_equal(dm_list_len(dm_fv(v, OF(v, VM, VBDs))), 0);
	assert_int_equal(dm_list_len(dm_fv(h, OF(h, host, resident_VMs))), 1);
	assert_string_equal(dm_fv(h, OF(h, host, resident_VMs))->u.l->v[0].u.s, VM1);
	/* no cursor before a full snapshot of this epoch */
	assert_int_equal(xv_get(r.v, "gen")->u.i, 0);
	arena_free(&r.a);
	g = dm_gen;
	sync(&r, &x1, p);
	assert_int_equal(nrejected(&r), 0);
	assert_int_equal(dm_gen, g);            /* equal values: no change at all */
	arena_free(&r.a);
}

/* Each check rejects that object alone; the rest applies */
static void test_apply_checks(void **state)
{
	struct res r;
	struct obj *other, *mine;
	char p[4096];
	size_t msgs = dm_class_find("message")->count;
	unsigned quota;

	(void)state;
	other = dm_obj_new(dm_class_find("VDI"), VDI2, NULL);
	dm_set_str(other, OF(other, VDI, name_label), "theirs");
	other->owner = 2;
	mine = vm(VM1);
	assert_non_null(mine);
	snprintf(p, sizeof(p), "{'objects':["
		 /* 1: classes not mirrored */
		 OBJ("session", "OpaqueRef:11111111-1111-4111-8111-00000000000a", "'uuid':'11111111-1111-4111-8111-0000000000aa'")
		 "," OBJ("pool", "OpaqueRef:11111111-1111-4111-8111-00000000000b", "'uuid':'11111111-1111-4111-8111-0000000000ab'")
		 "," OBJ("pool_member", "OpaqueRef:11111111-1111-4111-8111-00000000000c", "'uuid':'11111111-1111-4111-8111-0000000000ac'")
		 "," OBJ("no_such_class", "OpaqueRef:11111111-1111-4111-8111-00000000000d", "")
		 /* 2: objects of another host: a member's, this host's own */
		 "," OBJ("VDI", VDI2, "'name_label':'mine now'")
		 ",{'class':'host','ref':'%s','record':{'name_label':'taken'}}"
		 ",{'class':'VM','ref':'%s','record':{'name_label':'taken'}}"
		 /* the member's one host: its hello's */
		 "," OBJ("host", "OpaqueRef:11111111-1111-4111-8111-00000000000e", "'uuid':'11111111-1111-4111-8111-0000000000ae'")
		 /* 3: a uuid in use, refs that are no refs */
		 ",{'class':'VM','ref':'" VM2 "','record':{'uuid':'%s'}}"
		 "," OBJ("VM", "OpaqueRef:NULL", VMREC("11111111-1111-4111-8111-0000000000af", "n"))
		 "," OBJ("VM", "not a ref", VMREC("11111111-1111-4111-8111-0000000000b0", "n"))
		 "," OBJ("VM", VM3, "'name_label':'no uuid'")
		 /* 4: a ref field to another member's object: that field is not
		  * applied; to a host, to nothing yet: fine */
		 "," OBJ("VBD", "OpaqueRef:11111111-1111-4111-8111-000000000010", "'uuid':'11111111-1111-4111-8111-0000000000b1','VM':'" VM1 "','VDI':'" VDI2 "','userdevice':'1'")
		 "," OBJ("VM", "OpaqueRef:11111111-1111-4111-8111-000000000011", VMREC("11111111-1111-4111-8111-0000000000b2", "placed") ",'affinity':'%s','suspend_SR':'OpaqueRef:11111111-1111-4111-8111-0000000000ff'")
		 "],'epoch':'" EP "'}",
		 api_this_host->ref, dm_get_str(api_this_host, OF(api_this_host, host, control_domain)),
		 dm_get_str(mine, OF(mine, VM, uuid)), api_this_host->ref);
	sync(&r, &x1, p);
	assert_string_equal(why(&r, "OpaqueRef:11111111-1111-4111-8111-00000000000a"), "class not mirrored");
	assert_string_equal(why(&r, "OpaqueRef:11111111-1111-4111-8111-00000000000b"), "class not mirrored");
	assert_string_equal(why(&r, "OpaqueRef:11111111-1111-4111-8111-00000000000c"), "class not mirrored");
	assert_string_equal(why(&r, "OpaqueRef:11111111-1111-4111-8111-00000000000d"), "class not mirrored");
	assert_string_equal(why(&r, VDI2), "another host's ref");
	assert_string_equal(label(VDI2), "theirs");
	assert_string_equal(why(&r, api_this_host->ref), "another host's ref");
	assert_string_equal(label(api_this_host->ref), "unit");
	assert_non_null(why(&r, dm_get_str(api_this_host, OF(api_this_host, host, control_domain))));
	assert_string_equal(why(&r, "OpaqueRef:11111111-1111-4111-8111-00000000000e"), "not its host");
	assert_null(dm_obj_by_ref("OpaqueRef:11111111-1111-4111-8111-00000000000e"));
	assert_string_equal(why(&r, VM2), "bad ref or uuid");
	assert_null(vm(VM2));
	assert_string_equal(why(&r, "OpaqueRef:NULL"), "bad ref or uuid");
	assert_string_equal(why(&r, "not a ref"), "bad ref or uuid");
	assert_string_equal(why(&r, VM3), "bad ref or uuid");
	{
		struct obj *vbd = dm_obj_by_ref("OpaqueRef:11111111-1111-4111-8111-000000000010");
		struct obj *pl = vm("OpaqueRef:11111111-1111-4111-8111-000000000011");

		assert_string_equal(why(&r, "OpaqueRef:11111111-1111-4111-8111-000000000010"),
				    "a ref to another host's object");
		assert_non_null(vbd);
		assert_string_equal(dm_get_str(vbd, OF(vbd, VBD, VDI)), "OpaqueRef:NULL");
		assert_string_equal(dm_get_str(vbd, OF(vbd, VBD, VM)), VM1);
		assert_string_equal(dm_get_str(vbd, OF(vbd, VBD, userdevice)), "1");
		assert_int_equal(dm_list_len(dm_fv(other, OF(other, VDI, VBDs))), 0);
		assert_null(why(&r, "OpaqueRef:11111111-1111-4111-8111-000000000011"));
		assert_string_equal(dm_get_str(pl, OF(pl, VM, affinity)), api_this_host->ref);
	}
	assert_int_equal(nrejected(&r), 13);
	/* one message for the sync, naming the first reason */
	assert_int_equal(dm_class_find("message")->count, msgs + 1);
	arena_free(&r.a);

	/* the quota: no new object past it, updates still apply */
	quota = x1.nobj;
	x1.nobj = 50000;
	sync(&r, &x1, "{'objects':[" OBJ("VM", VM2, VMREC("11111111-1111-4111-8111-0000000000c2", "over"))
		 "," OBJ("VM", VM1, "'name_label':'still'") "]}");
	assert_string_equal(why(&r, VM2), "quota");
	assert_null(vm(VM2));
	assert_string_equal(label(VM1), "still");
	x1.nobj = quota;
	arena_free(&r.a);
}

/* Deletions: of the member's own objects only, never of its host */
static void test_deletions(void **state)
{
	struct res r;
	const char *dom0 = dm_get_str(api_this_host, OF(api_this_host, host, control_domain));

	(void)state;
	sync(&r, &x1, "{'objects':[" OBJ("VM", VM2, VMREC("11111111-1111-4111-8111-0000000000d2", "doomed")) "]}");
	assert_non_null(vm(VM2));
	arena_free(&r.a);
	{
		char p[1024];

		snprintf(p, sizeof(p), "{'objects':[],'deleted':[{'class':'VM','ref':'" VM2 "'},"
			 "{'class':'VDI','ref':'" VDI2 "'},{'class':'VM','ref':'%s'},"
			 "{'class':'host','ref':'" H1 "'},{'class':'VM','ref':'OpaqueRef:gone'}]}", dom0);
		sync(&r, &x1, p);
	}
	assert_null(vm(VM2));
	assert_non_null(dm_obj_by_ref(VDI2));
	assert_non_null(vm(dom0));
	assert_non_null(dm_obj_by_ref(H1));
	arena_free(&r.a);
}

/* A full snapshot deletes the member's objects it did not bring; an
 * interrupted one leaves marks that the next one clears first; another
 * member's snapshot in progress keeps its own marks. */
static void test_full_snapshot(void **state)
{
	struct res r;

	(void)state;
	sync(&r, &x1, "{'objects':[" OBJ("VM", VM2, VMREC("11111111-1111-4111-8111-0000000000e2", "b"))
		 "," OBJ("VM", VM3, VMREC("11111111-1111-4111-8111-0000000000e3", "c")) "]}");
	arena_free(&r.a);
	/* member 2 starts one (its VDI marked) */
	sync(&r, &x2, "{'full':true,'last':false,'objects':[" OBJ("VDI", VDI2, "'name_label':'theirs'") "]}");
	arena_free(&r.a);
	/* member 1: two calls; C not in either */
	sync(&r, &x1, "{'full':true,'last':false,'epoch':'" EP "','complete':40,'objects':["
		 OBJ("VM", VM1, "'name_label':'a'") "]}");
	assert_int_equal(xv_get(r.v, "gen")->u.i, 0);   /* not complete yet */
	arena_free(&r.a);
	sync(&r, &x1, "{'full':true,'last':true,'epoch':'" EP "','complete':40,'objects':["
		 OBJ("VM", VM2, "'name_label':'b'") "]}");
	assert_int_equal(xv_get(r.v, "gen")->u.i, 40);  /* the cursor */
	assert_string_equal(x1.epoch, EP);
	arena_free(&r.a);
	assert_non_null(vm(VM1));
	assert_non_null(vm(VM2));
	assert_null(vm(VM3));
	assert_non_null(dm_obj_by_ref(H1));     /* its host stays, listed or not */
	assert_null(dm_obj_by_ref("OpaqueRef:11111111-1111-4111-8111-000000000010"));
	/* member 2's mark survived member 1's sweep */
	sync(&r, &x2, "{'full':true,'last':true,'objects':[]}");
	assert_non_null(dm_obj_by_ref(VDI2));
	arena_free(&r.a);

	/* interrupted (a reconnect: the hello clears snap), then a new one */
	sync(&r, &x1, "{'full':true,'last':false,'objects':[" OBJ("VM", VM1, "'name_label':'a'") "]}");
	arena_free(&r.a);
	x1.snap = 0;
	sync(&r, &x1, "{'full':true,'last':true,'epoch':'" EP "','complete':50,'objects':["
		 OBJ("VM", VM2, "'name_label':'b','allowed_operations':['start']") "]}");
	assert_null(vm(VM1));                   /* its old mark did not save it */
	assert_non_null(vm(VM2));
	arena_free(&r.a);
	/* a delta of this epoch moves the cursor; of another, not */
	sync(&r, &x1, "{'epoch':'" EP "','complete':60,'objects':[]}");
	assert_int_equal(xv_get(r.v, "gen")->u.i, 60);
	arena_free(&r.a);
	sync(&r, &x1, "{'epoch':'00000000-0000-4000-8000-000000000000','complete':70,'objects':[]}");
	assert_int_equal(xv_get(r.v, "gen")->u.i, 60);
	arena_free(&r.a);
}

/* host_metrics.live is the master's view (8), whatever the member says;
 * the member's going down or up touches its objects and sets it */
static void test_live(void **state)
{
	struct res r;
	struct obj *hm;
	uint64_t g;

	(void)state;
	sync(&r, &x1, "{'objects':[" OBJ("host_metrics", "OpaqueRef:11111111-1111-4111-8111-000000000020",
					 "'uuid':'11111111-1111-4111-8111-0000000000f0','live':false") "]}");
	arena_free(&r.a);
	hm = dm_obj_by_ref("OpaqueRef:11111111-1111-4111-8111-000000000020");
	assert_int_equal(dm_fv(hm, OF(hm, host_metrics, live))->u.i, 1);
	g = vm(VM2)->gen_modified;
	mirror_live(&x1, 0);
	assert_int_equal(dm_fv(hm, OF(hm, host_metrics, live))->u.i, 0);
	assert_true(vm(VM2)->gen_modified > g);         /* events see the change */
	mirror_live(&x1, 1);
	assert_int_equal(dm_fv(hm, OF(hm, host_metrics, live))->u.i, 1);
}

/* What the builder sends (4.3): everything in a full snapshot; else what
 * changed after from; metrics only when urgent or, at a tick, changed
 * since the last tick. */
static void test_due(void **state)
{
	struct obj *v = dm_obj_new(dm_class_find("VM"), NULL, NULL);
	struct obj *m = dm_obj_new(dm_class_find("VM_metrics"), NULL, NULL);

	(void)state;
	v->gen_modified = m->gen_modified = 100;
	m->urgent = 0;
	assert_true(mirror_due(v, 1, 0, 200, 200));
	assert_true(mirror_due(m, 1, 0, 200, 200));
	assert_true(mirror_due(v, 0, 0, 99, 0));
	assert_false(mirror_due(v, 0, 0, 100, 0));
	assert_false(mirror_due(m, 0, 0, 99, 0));       /* held back */
	assert_true(mirror_due(m, 0, 1, 150, 99));      /* the tick */
	assert_false(mirror_due(m, 0, 1, 50, 100));     /* sent at the last tick */
	m->urgent = 1;                                  /* a non-volatile change */
	assert_true(mirror_due(m, 0, 0, 150, 150));
	dm_obj_delete(v);
	dm_obj_delete(m);
}

/* ---- the dispatcher and another host's objects ---- */

static int up;

static int owner_up(unsigned n)
{
	(void)n;
	return up;
}

struct call_res {
	struct arena a;
	struct buf out;
	struct call c;
	struct emit e;
};

static void done(struct call *c)
{
	(void)c;
}

static void call(struct call_res *r, const char *method, const char *params)
{
	memset(r, 0, sizeof(*r));
	arena_init(&r->a, 0);
	json_emit_init(&r->e, &r->out);
	r->c.a = &r->a;
	r->c.e = &r->e;
	r->c.out = &r->out;
	r->c.method = method;
	r->c.params = parse(&r->a, params);
	r->c.peer = "unix";
	r->c.local_root = 1;
	r->c.complete = done;
	api_dispatch(&r->c);
	buf_addc(&r->out, 0);
}

static void call_free(struct call_res *r)
{
	buf_free(&r->out);
	arena_free(&r->a);
}

static void test_dispatch(void **state)
{
	struct call_res r;
	char p[512];
	static const char *const refused[] = {
		"VM.set_name_label", "['%s','" VM2 "','x']",
		"VM.add_to_other_config", "['%s','" VM2 "','k','v']",
		"VM.destroy", "['%s','" VM2 "']",
		"VM.start", "['%s','" VM2 "',false,false]",
		"host.set_name_label", "['%s','" H1 "','x']",
		"VBD.create", "['%s',{'VM':'" VM2 "','VDI':'OpaqueRef:NULL','userdevice':'2',"
			"'bootable':false,'mode':'RW','type':'Disk','empty':true,'other_config':{}}]",
	};

	(void)state;
	api_owner_up = owner_up;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i += 2) {
		snprintf(p, sizeof(p), refused[i + 1], session);
		call(&r, refused[i], p);
		if (r.c.nerr != 2 || strcmp(r.c.err[0], "OPERATION_NOT_ALLOWED") ||
		    strcmp(r.c.err[1], "this object belongs to another host of the pool"))
			fail_msg("%s: %s", refused[i], r.c.nerr ? r.c.err[0] : "success");
		call_free(&r);
	}
	assert_string_equal(label(VM2), "b");
	/* Async.*: its task fails so (XAPI's Async errors are the task's) */
	snprintf(p, sizeof(p), "['%s','" VM2 "']", session);
	call(&r, "Async.VM.hard_shutdown", p);
	assert_int_equal(r.c.nerr, 0);
	{
		char ref[DM_REF_LEN];
		struct obj *t;

		snprintf(ref, sizeof(ref), "%.*s", (int)strlen(r.out.data) - 2, r.out.data + 1);
		t = dm_obj_by_ref_cls(dm_class_find("task"), ref);
		assert_non_null(t);
		assert_string_equal(dm_get_enum(t, OF(t, task, status)), "failure");
		assert_string_equal(dm_fv(t, OF(t, task, error_info))->u.l->v[0].u.s,
				    "OPERATION_NOT_ALLOWED");
	}
	call_free(&r);
	/* reads are answered; a create may name another host's host */
	snprintf(p, sizeof(p), "['%s','" VM2 "']", session);
	up = 1;
	call(&r, "VM.get_record", p);
	assert_int_equal(r.c.nerr, 0);
	assert_non_null(strstr(r.out.data, "\"allowed_operations\":[\"start\""));
	call_free(&r);
	up = 0;                 /* its owner offline: offers nothing */
	call(&r, "VM.get_record", p);
	assert_non_null(strstr(r.out.data, "\"allowed_operations\":[]"));
	call_free(&r);
	snprintf(p, sizeof(p), "['%s',{'name_label':'here','affinity':'" H1 "'}]", session);
	call(&r, "VM.create", p);
	assert_int_equal(r.c.nerr, 0);
	call_free(&r);
	api_owner_up = NULL;
}

/* A member's objects are sparse here (docs/POOL.md 11.3): fields it did
 * not set read as their defaults, and what clients see of them, records
 * (get_record, get_all_records, event snapshots), is complete and equal
 * to a dense object's with the same values; refs and inverse sets
 * resolve. */
#define VM9 "OpaqueRef:11111111-1111-4111-8111-000000000009"
#define VBD9 "OpaqueRef:11111111-1111-4111-8111-000000000019"
#define VMU9 "11111111-1111-4111-8111-0000000000a9"

static char *record_of(const struct obj *o)
{
	struct buf b = BUF_INIT;
	struct emit e;

	json_emit_init(&e, &b);
	api_emit_record(&e, o);
	buf_addc(&b, 0);
	return b.data;
}

static void test_sparse_records(void **state)
{
	struct res r;
	struct call_res c;
	struct obj *v, *d, *h;
	const struct dm_class *k = dm_class_find("VM");
	char p[256], *rs, *rd;
	int vbds = FLD(VM, VBDs);

	(void)state;
	api_owner_up = owner_up;
	up = 1;
	sync(&r, &x1, "{'objects':["
	     OBJ("VM", VM9, VMREC(VMU9, "sparse") ",'resident_on':'" H1 "',"
		 "'power_state':'Running','VCPUs_max':4,'other_config':{'k':'v'},"
		 "'name_description':'','domid':-1")
	     "," OBJ("VBD", VBD9, "'uuid':'11111111-1111-4111-8111-0000000000b9','VM':'" VM9 "',"
		     "'userdevice':'0'")
	     "],'epoch':'" EP "','complete':7}");
	assert_int_equal(nrejected(&r), 0);
	arena_free(&r.a);
	v = vm(VM9);
	h = dm_obj_by_ref(H1);
	assert_non_null(v);
	assert_true(v->sparse);
	assert_true(h->sparse);
	assert_true(dm_obj_by_ref(VBD9)->sparse);
	/* what it did not send, or sent as the default, is not held */
	assert_ptr_equal(dm_fv(v, FLD(VM, domid)), &k->fields[FLD(VM, domid)].dv);
	assert_ptr_equal(dm_fv(v, FLD(VM, name_description)), &k->fields[FLD(VM, name_description)].dv);
	assert_int_equal(dm_fv(v, FLD(VM, user_version))->u.i, 1);
	assert_int_equal(dm_fv(v, FLD(VM, VCPUs_max))->u.i, 4);
	assert_string_equal(dm_get_enum(v, FLD(VM, power_state)), "Running");
	/* refs resolve both ways */
	assert_ptr_equal(dm_obj_by_ref(dm_get_str(v, FLD(VM, resident_on))), h);
	assert_int_equal(dm_list_len(dm_fv(v, vbds)), 1);
	assert_string_equal(dm_fv(v, vbds)->u.l->v[0].u.s, VBD9);
	assert_ptr_equal(dm_obj_by_uuid(k, VMU9), v);
	/* a dense VM of the same values has the same record */
	d = dm_obj_new(dm_class_find("VM"), NULL, NULL);
	for (int i = 0; i < k->nfields; i++)
		if (i != k->f_uuid)
			dm_set(d, i, dm_fv(v, i));
	dm_obj_set_uuid(d, VMU9);
	rs = record_of(v);
	rd = record_of(d);
	assert_string_equal(rs, rd);
	assert_non_null(strstr(rs, "\"other_config\":{\"k\":\"v\"}"));
	assert_non_null(strstr(rs, "\"user_version\":1,"));
	assert_non_null(strstr(rs, "\"VBDs\":[\"" VBD9 "\"]"));
	dm_obj_delete(d);
	/* clients' reads: get_record, and the event's snapshot, are it */
	snprintf(p, sizeof(p), "['%s','" VM9 "']", session);
	call(&c, "VM.get_record", p);
	assert_int_equal(c.c.nerr, 0);
	assert_string_equal(c.out.data, rs);
	call_free(&c);
	snprintf(p, sizeof(p), "['%s',['VM'],'',0.0]", session);
	call(&c, "event.from", p);
	assert_int_equal(c.c.nerr, 0);
	assert_non_null(strstr(c.out.data, rs));
	call_free(&c);
	free(rs);
	free(rd);
	/* a field set, then back to its default: its slot comes and goes */
	sync(&r, &x1, "{'objects':[" OBJ("VM", VM9, VMREC(VMU9, "sparse") ",'name_description':'d'")
	     "],'epoch':'" EP "','complete':8}");
	arena_free(&r.a);
	assert_string_equal(dm_get_str(v, FLD(VM, name_description)), "d");
	sync(&r, &x1, "{'objects':[" OBJ("VM", VM9, VMREC(VMU9, "sparse") ",'name_description':''")
	     "],'deleted':[{'class':'VBD','ref':'" VBD9 "'}],'epoch':'" EP "','complete':9}");
	arena_free(&r.a);
	assert_ptr_equal(dm_fv(v, FLD(VM, name_description)), &k->fields[FLD(VM, name_description)].dv);
	assert_ptr_equal(dm_fv(v, vbds), &k->fields[vbds].dv);       /* its VBD deleted */
	api_owner_up = NULL;
}

/* Without pool_relay_domain (docs/POOL.md 7.5) the members' stats reach
 * no client: one POOL_MEMBER_STATS_UNREACHABLE message for the pool says
 * so, updated as members appear, not one per member (1000 at 1000
 * members). */
#define H3 "OpaqueRef:33333333-3333-4333-8333-333333333333"
#define HU3 "33333333-3333-4333-8333-3333333333aa"
#define H4 "OpaqueRef:44444444-4444-4444-8444-444444444444"
#define HU4 "44444444-4444-4444-8444-4444444444aa"

static size_t unreachable(struct obj **last)
{
	size_t n = 0;

	for (struct obj *o = dm_class_find("message")->first; o; o = o->next)
		if (!strcmp(dm_get_str(o, FLD(message, name)), "POOL_MEMBER_STATS_UNREACHABLE"))
			n++, *last = o;
	return n;
}

static void test_unreachable_stats_one_message(void **state)
{
	struct res r;
	struct obj *m = NULL;
	struct mem *x3, *x4;

	(void)state;
	/* the member table as the master has it: x1, x2, then two more */
	master_mem_of(x1.uuid);
	master_mem_of(x2.uuid);
	x3 = master_mem_of(dm_get_str(member(H3, HU3), FLD(pool_member, uuid)));
	x4 = master_mem_of(dm_get_str(member(H4, HU4), FLD(pool_member, uuid)));
	x3->up = x4->up = 1;
	sync(&r, x3, "{'objects':[" OBJ("host", H3, "'uuid':'" HU3 "','name_label':'m3'")
	     "],'epoch':'" EP "','complete':1}");
	assert_int_equal(nrejected(&r), 0);
	arena_free(&r.a);
	assert_int_equal(unreachable(&m), 1);
	sync(&r, x4, "{'objects':[" OBJ("host", H4, "'uuid':'" HU4 "','name_label':'m4'")
	     "],'epoch':'" EP "','complete':1}");
	assert_int_equal(nrejected(&r), 0);
	arena_free(&r.a);
	/* again (a host record's update): nothing new either */
	sync(&r, x4, "{'objects':[" OBJ("host", H4, "'uuid':'" HU4 "','name_label':'m4b'")
	     "],'epoch':'" EP "','complete':2}");
	arena_free(&r.a);
	assert_int_equal(unreachable(&m), 1);
	assert_string_equal(dm_get_enum(m, FLD(message, cls)), "Pool");
	assert_string_equal(dm_get_str(m, FLD(message, obj_uuid)),
			    dm_get_str(api_pool, api_pool->cls->f_uuid));
	assert_non_null(strstr(dm_get_str(m, FLD(message, body)), "pool_relay_domain"));
	assert_int_equal(m->owner, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_creates_and_updates),
		cmocka_unit_test(test_apply_checks),
		cmocka_unit_test(test_deletions),
		cmocka_unit_test(test_full_snapshot),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_sparse_records),
		cmocka_unit_test(test_unreachable_stats_one_message),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
