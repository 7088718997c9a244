/* Join tokens (pool/token.c) and the guard of internal classes
 * (DM_C_INTERNAL): every class flagged internal is refused by every path
 * of the API, walked over the whole datamodel, so a new internal class or
 * a new path cannot leak one unnoticed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/util.h"
#include "pool/token.h"
#include "rpc/json.h"
#include "vmm/backend.h"

static struct vmm *vmm;
static char session[DM_REF_LEN];

static int setup(void **state)
{
	char err[256];
	struct obj *s;

	(void)state;
	log_level = LOG_ERR;            /* a thousand tokens are made below */
	if (dm_init(err, sizeof(err)) ||
	    vmm_open("sim", "mem=8G,shutdown_delay=0", &vmm, err, sizeof(err)) ||
	    api_host_init(vmm, "unit", err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	api_auth_init("/nonexistent", NULL);
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
	vmm = NULL;
	return 0;
}

/* ---- calling the dispatcher ---- */

struct res {
	struct arena a;
	struct buf out;
	struct call c;
	int done;
};

static void done(struct call *c)
{
	((struct res *)((char *)c - offsetof(struct res, c)))->done = 1;
}

static struct xv *S(struct arena *a, const char *s)
{
	return xv_str(a, s, strlen(s));
}

/* method with params (session first where the method takes one); the
 * output (JSON) and the error are in r */
static void run(struct res *r, const char *method, struct xv *const *params, size_t n)
{
	struct xv *arr;
	struct emit *e = malloc(sizeof(*e));

	memset(r, 0, sizeof(*r));
	arena_init(&r->a, 0);
	buf_init(&r->out);
	arr = xv_new(&r->a, XV_ARRAY);
	arr->u.a = arena_alloc(&r->a, sizeof(struct xv *) * (n + 1));
	for (size_t i = 0; i < n; i++)
		arr->u.a[i] = params[i];
	arr->len = n;
	json_emit_init(e, &r->out);
	r->c.a = &r->a;
	r->c.e = e;
	r->c.out = &r->out;
	r->c.method = method;
	r->c.params = arr;
	r->c.peer = "unit";
	r->c.complete = done;
	api_dispatch(&r->c);
	if (!r->done) {         /* a call that waits: not expected here */
		api_events_cancel(&r->c);
		fail_msg("%s waits", method);
	}
	buf_add(&r->out, "", 1);        /* NUL-terminated (len counts it) */
}

static void res_free(struct res *r)
{
	free(r->c.e);
	buf_free(&r->out);
	arena_free(&r->a);
}

static const char *out(struct res *r)
{
	return r->out.data ? r->out.data : "";
}

static void assert_err(struct res *r, const char *code)
{
	if (!r->c.nerr || strcmp(r->c.err[0], code))
		fail_msg("%s: expected %s, got %s (%s)", r->c.method, code,
			 r->c.nerr ? r->c.err[0] : "success", out(r));
}

/* one call with string params, session first */
static void call1(struct res *r, const char *method, const char *a1, const char *a2,
		  const char *a3)
{
	struct arena tmp;
	struct xv *p[4];
	size_t n = 0;

	arena_init(&tmp, 0);
	p[n++] = S(&tmp, session);
	if (a1)
		p[n++] = S(&tmp, a1);
	if (a2)
		p[n++] = S(&tmp, a2);
	if (a3)
		p[n++] = S(&tmp, a3);
	run(r, method, p, n);
	arena_free(&tmp);
}

/* ---- tokens ---- */

static void make(int64_t uses, int64_t ttl, char tok[TOKEN_LEN + 1])
{
	const char *field, *why;

	assert_int_equal(token_create(uses, ttl, "l", now_wall(), tok, &field, &why), 0);
}

static struct obj *tok_obj(const char *tok)
{
	for (struct obj *o = dm_class_find("pool_token")->first; o; o = o->next)
		if (!strncmp(dm_get_str(o, OF(o, pool_token, token_id)), tok + 5, 16))
			return o;
	return NULL;
}

static void test_token_format(void **state)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1], h[65];
	struct obj *o;

	(void)state;
	make(1, 60, a);
	make(1, 60, b);
	assert_int_equal(strlen(a), 86);
	assert_memory_equal(a, "xbt1-", 5);
	assert_int_equal(a[21], '-');
	for (int i = 5; i < 86; i++)
		if (i != 21)
			assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
	/* stored: the id and SHA-256 of the secret's hex text, never the secret */
	o = tok_obj(a);
	assert_non_null(o);
	assert_memory_equal(dm_get_str(o, OF(o, pool_token, token_id)), a + 5, 16);
	{
		unsigned char d[32];

		sha256(a + 22, 64, d);
		for (int i = 0; i < 32; i++)
			sprintf(h + 2 * i, "%02x", d[i]);
	}
	assert_string_equal(dm_get_str(o, OF(o, pool_token, hash)), h);
	for (int i = 0; i < o->cls->nfields; i++)
		if (o->cls->fields[i].t->kind == DM_STRING && dm_fv(o, i)->u.s)
			assert_null(strstr(dm_fv(o, i)->u.s, a + 22));
	assert_int_equal(dm_fv(o, OF(o, pool_token, uses_left))->u.i, 1);
	assert_int_equal(dm_fv(o, OF(o, pool_token, expires))->u.i -
			 dm_fv(o, OF(o, pool_token, created))->u.i, 60);
}

static void test_token_checks(void **state)
{
	char t[TOKEN_LEN + 1], bad[TOKEN_LEN + 1], why[64];
	struct obj *o;

	(void)state;
	make(2, 3600, t);
	assert_true(token_check(t, why, sizeof(why)));
	assert_string_equal(why, "");
	/* a wrong secret is "unknown": the state is told only to its holder */
	strcpy(bad, t);
	bad[85] = bad[85] == '0' ? '1' : '0';
	assert_false(token_check(bad, why, sizeof(why)));
	assert_string_equal(why, "unknown");
	strcpy(bad, t);
	bad[6] = bad[6] == '0' ? '1' : '0';       /* another id */
	assert_false(token_check(bad, why, sizeof(why)));
	assert_string_equal(why, "unknown");
	assert_false(token_check("xbt1-short", why, sizeof(why)));
	assert_string_equal(why, "unknown");
	assert_false(token_check("", why, sizeof(why)));
	strcpy(bad, t);
	bad[30] = 'G';
	assert_false(token_check(bad, why, sizeof(why)));

	/* uses: each spend takes one and names the host */
	assert_int_equal(token_spend(t, "host-a", why, sizeof(why)), 0);
	assert_int_equal(token_spend(t, "host-b", why, sizeof(why)), 0);
	assert_int_equal(token_spend(t, "host-c", why, sizeof(why)), -1);
	assert_false(token_check(t, why, sizeof(why)));
	{
		char want[40];

		snprintf(want, sizeof(want), "%.16s: used up", t + 5);
		assert_string_equal(why, want);
	}
	o = tok_obj(t);
	assert_int_equal(dm_fv(o, OF(o, pool_token, uses_left))->u.i, 0);
	assert_int_equal(dm_list_len(dm_fv(o, OF(o, pool_token, used_by))), 2);
	assert_string_equal(dm_fv(o, OF(o, pool_token, used_by))->u.l->v[1].u.s, "host-b");

	/* expired */
	make(5, 3600, t);
	o = tok_obj(t);
	dm_set_int(o, OF(o, pool_token, expires), now_wall() - 1);
	assert_false(token_check(t, why, sizeof(why)));
	assert_non_null(strstr(why, ": expired"));
	assert_memory_equal(why, t + 5, 16);
	assert_null(strstr(why, t + 22));

	/* revoked (over the API), and revoked wins over the rest */
	make(5, 3600, t);
	{
		struct res r;
		char id[17];

		snprintf(id, sizeof(id), "%.16s", t + 5);
		call1(&r, "pool.revoke_join_token", id, NULL, NULL);
		assert_int_equal(r.c.nerr, 0);
		res_free(&r);
		/* unknown id; the whole token's secret is never echoed */
		call1(&r, "pool.revoke_join_token", "0000000000000000", NULL, NULL);
		assert_err(&r, "UUID_INVALID");
		res_free(&r);
		memcpy(bad, "xbt1-ffffffffffffffff", 21);
		memcpy(bad + 21, t + 21, 65);
		call1(&r, "pool.revoke_join_token", bad, NULL, NULL);
		assert_err(&r, "UUID_INVALID");
		assert_null(strstr(r.c.err[2], t + 22));
		res_free(&r);
	}
	o = tok_obj(t);
	dm_set_int(o, OF(o, pool_token, expires), now_wall() - 1);
	assert_false(token_check(t, why, sizeof(why)));
	assert_non_null(strstr(why, ": revoked"));
}

static void test_token_gc_and_bound(void **state)
{
	char t[TOKEN_LEN + 1], u[TOKEN_LEN + 1], why[64];
	const char *field, *msg;
	struct dm_class *k = dm_class_find("pool_token");
	int64_t now = now_wall();
	size_t before;

	(void)state;
	token_gc(now, 1);               /* start from usable tokens only */
	before = k->count;
	make(1, 3600, t);
	make(1, 3600, u);
	/* expired a minute ago: kept (listed as expired) ... */
	dm_set_int(tok_obj(t), OF(tok_obj(t), pool_token, expires), now - 60);
	token_gc(now, 0);
	assert_non_null(tok_obj(t));
	/* ... until a day after its expiry */
	dm_set_int(tok_obj(t), OF(tok_obj(t), pool_token, expires),
		   now - TOKEN_KEEP_AFTER_EXPIRY - 1);
	token_gc(now, 0);
	assert_null(tok_obj(t));
	assert_non_null(tok_obj(u));
	assert_int_equal(k->count, before + 1);

	/* the table is bounded: unusable ones make room, usable ones never */
	while (k->count < TOKEN_MAX_STORED)
		make(1, 3600, t);
	assert_int_equal(token_spend(t, "h", why, sizeof(why)), 0);       /* used up */
	assert_int_equal(token_create(1, 60, "", now, t, &field, &msg), 0);
	assert_int_equal(k->count, TOKEN_MAX_STORED);
	assert_int_equal(token_create(1, 60, "", now, t, &field, &msg), -1);
	assert_null(field);
	assert_non_null(strstr(msg, "too many"));
	token_gc(now + TOKEN_MAX_TTL + TOKEN_KEEP_AFTER_EXPIRY + 10, 0);
	assert_int_equal(k->count, 0);
}

static void test_token_api(void **state)
{
	struct res r;
	struct obj *s;

	(void)state;
	/* defaults: one use, 24 h */
	call1(&r, "pool.create_join_token", NULL, NULL, NULL);
	assert_int_equal(r.c.nerr, 0);
	{
		char tok[TOKEN_LEN + 1];
		struct obj *o;

		assert_int_equal(strlen(out(&r)), TOKEN_LEN + 2);      /* JSON quotes */
		memcpy(tok, out(&r) + 1, TOKEN_LEN);
		tok[TOKEN_LEN] = 0;
		o = tok_obj(tok);
		assert_non_null(o);
		assert_int_equal(dm_fv(o, OF(o, pool_token, uses_left))->u.i, 1);
		assert_int_equal(dm_fv(o, OF(o, pool_token, expires))->u.i -
				 dm_fv(o, OF(o, pool_token, created))->u.i, 86400);
		res_free(&r);

		/* the list: never the hash or the secret */
		call1(&r, "pool.get_join_tokens", NULL, NULL, NULL);
		assert_int_equal(r.c.nerr, 0);
		assert_non_null(strstr(out(&r), dm_get_str(o, OF(o, pool_token, token_id))));
		assert_null(strstr(out(&r), dm_get_str(o, OF(o, pool_token, hash))));
		assert_null(strstr(out(&r), tok + 22));
		assert_null(strstr(out(&r), "hash"));
		assert_non_null(strstr(out(&r), "\"state\":\"valid\""));
		res_free(&r);
	}
	/* bad input: XAPI-style errors */
	call1(&r, "pool.create_join_token", "0", "60", "x");
	assert_err(&r, "INVALID_VALUE");
	assert_string_equal(r.c.err[1], "uses");
	res_free(&r);
	call1(&r, "pool.create_join_token", "10001", "60", "x");
	assert_err(&r, "INVALID_VALUE");
	res_free(&r);
	call1(&r, "pool.create_join_token", "1", "2592001", "x");
	assert_err(&r, "INVALID_VALUE");
	assert_string_equal(r.c.err[1], "ttl_seconds");
	res_free(&r);
	call1(&r, "pool.create_join_token", "1", "-5", "x");
	assert_err(&r, "INVALID_VALUE");
	res_free(&r);
	call1(&r, "pool.create_join_token", "one", "60", "x");
	assert_err(&r, "FIELD_TYPE_ERROR");
	res_free(&r);
	{
		char big[300];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		call1(&r, "pool.create_join_token", "1", "60", big);
		assert_err(&r, "INVALID_VALUE");
		assert_string_equal(r.c.err[1], "label");
		res_free(&r);
	}
	call1(&r, "pool.create_join_token", "1", "2592000", "month");
	assert_int_equal(r.c.nerr, 0);
	res_free(&r);

	/* a session that is not root's is refused, by every token call */
	s = dm_obj_by_ref(session);
	dm_set_int(s, OF(s, session, is_local_superuser), 0);
	call1(&r, "pool.create_join_token", NULL, NULL, NULL);
	assert_err(&r, "RBAC_PERMISSION_DENIED");
	res_free(&r);
	call1(&r, "pool.get_join_tokens", NULL, NULL, NULL);
	assert_err(&r, "RBAC_PERMISSION_DENIED");
	res_free(&r);
	call1(&r, "pool.revoke_join_token", "0000000000000000", NULL, NULL);
	assert_err(&r, "RBAC_PERMISSION_DENIED");
	res_free(&r);
	dm_set_int(s, OF(s, session, is_local_superuser), 1);
	dm_set_str(s, OF(s, session, auth_user_name), "someone");
	call1(&r, "pool.get_join_tokens", NULL, NULL, NULL);
	assert_err(&r, "RBAC_PERMISSION_DENIED");
	res_free(&r);
	dm_set_str(s, OF(s, session, auth_user_name), "root");
}

/* ---- the guard of internal classes ---- */

/* whether type t names class k anywhere (refs, sets, maps) */
static int type_names(const struct dm_type *t, const struct dm_class *k)
{
	if (!t)
		return 0;
	if (t->kind == DM_REF)
		return !strcmp(t->cls, k->name);
	return type_names(t->elem, k) || type_names(t->key, k);
}

/* a wire value of type t that converts (the zero of the type) */
static struct xv *zero(struct arena *a, const struct dm_type *t)
{
	switch (t->kind) {
	case DM_INT: return S(a, "0");
	case DM_FLOAT: return S(a, "0");
	case DM_BOOL: return S(a, "false");
	case DM_DATETIME: return S(a, "19700101T00:00:00Z");
	case DM_ENUM: return S(a, t->en->v[0]);
	case DM_REF: return S(a, "OpaqueRef:NULL");
	case DM_SET: return xv_new(a, XV_ARRAY);
	case DM_MAP: return xv_new(a, XV_STRUCT);
	default: return S(a, "");
	}
}

static struct xv *set_of(struct arena *a, struct xv *e)
{
	struct xv *s = xv_new(a, XV_ARRAY);

	s->u.a = arena_alloc(a, sizeof(*s->u.a));
	s->u.a[0] = e;
	s->len = 1;
	return s;
}

/* every call must fail, with code when given; the ref must not come back */
static void refused(const char *method, struct xv *const *p, size_t n, const char *code,
		    const char *ref)
{
	struct res r;

	run(&r, method, p, n);
	if (code)
		assert_err(&r, code);
	else if (!r.c.nerr)
		fail_msg("%s succeeded with an internal ref (%s)", method, out(&r));
	assert_null(strstr(out(&r), ref));
	res_free(&r);
}

static void guard_class(struct dm_class *k)
{
	static const char *gen[] = {
		"get_all", "get_all_records", "get_all_where", "get_all_records_where",
		"get_record", "get_by_uuid", "get_by_name_label", "create", "destroy",
	};
	struct obj *o = dm_obj_new(k, NULL, NULL);
	char ref[DM_REF_LEN], uuid[40], m[160];
	struct arena a;
	struct res r;

	strcpy(ref, o->ref);
	snprintf(uuid, sizeof(uuid), "%s", dm_get_str(o, k->f_uuid));
	arena_init(&a, 0);

	/* no accessor, generated or not, sync or Async */
	for (size_t i = 0; i < sizeof(gen) / sizeof(gen[0]); i++) {
		struct xv *p[] = { S(&a, session), S(&a, ref) };

		snprintf(m, sizeof(m), "%s.%s", k->name, gen[i]);
		refused(m, p, 2, "MESSAGE_METHOD_UNKNOWN", ref);
		refused(m, p, 1, "MESSAGE_METHOD_UNKNOWN", ref);
		snprintf(m, sizeof(m), "Async.%s.%s", k->name, gen[i]);
		refused(m, p, 2, "MESSAGE_METHOD_UNKNOWN", ref);
	}
	for (int i = 0; i < k->nfields; i++) {
		static const char *pre[] = { "get_", "set_", "add_to_", "remove_from_", "add_", "remove_" };

		for (size_t j = 0; j < 6; j++) {
			struct xv *p[] = { S(&a, session), S(&a, ref), S(&a, "x"), S(&a, "y") };

			snprintf(m, sizeof(m), "%s.%s%s", k->name, pre[j], k->fields[i].name);
			for (size_t n = 1; n <= 4; n++)
				refused(m, p, n, "MESSAGE_METHOD_UNKNOWN", ref);
		}
	}
	for (const struct dm_msg *mm = k->msgs; mm && mm->name; mm++)
		fail_msg("internal class %s has a message %s", k->name, mm->name);

	/* not listed */
	{
		struct xv *p[] = { NULL };

		run(&r, "system.listMethods", p, 0);
		assert_int_equal(r.c.nerr, 0);
		snprintf(m, sizeof(m), "\"%s.", k->name);
		assert_null(strstr(out(&r), m));
		snprintf(m, sizeof(m), "\"Async.%s.", k->name);
		assert_null(strstr(out(&r), m));
		res_free(&r);
	}

	/* events: not subscribable, in no class's list, not under "*" */
	{
		const char *forms[] = { k->name, k->lname, "%s/%s" };

		for (size_t i = 0; i < 3; i++) {
			char sub[128];
			struct xv *p[] = { S(&a, session), NULL, S(&a, ""), S(&a, "0") };

			snprintf(sub, sizeof(sub), forms[i], k->name, ref);
			p[1] = set_of(&a, S(&a, sub));
			refused("event.from", p, 4, "EVENT_SUBSCRIPTION_PARSE_FAILURE", ref);
			/* event.register keeps the names as XAPI does; event.next
			 * reads them, and refuses */
			run(&r, "event.register", p, 2);
			assert_int_equal(r.c.nerr, 0);
			res_free(&r);
			refused("event.next", p, 1, "EVENT_SUBSCRIPTION_PARSE_FAILURE", ref);
		}
	}
	{
		/* the legacy events under "*": a change of the internal object
		 * and one of the pool; only the pool's comes */
		struct xv *p[] = { S(&a, session), set_of(&a, S(&a, "*")) };

		run(&r, "event.register", p, 2);
		assert_int_equal(r.c.nerr, 0);
		res_free(&r);
		dm_touch(o);
		dm_touch(api_pool);
		run(&r, "event.next", p, 1);
		assert_int_equal(r.c.nerr, 0);
		assert_non_null(strstr(out(&r), api_pool->ref));
		assert_null(strstr(out(&r), ref));
		res_free(&r);
		run(&r, "event.unregister", p, 2);
		assert_int_equal(r.c.nerr, 0);
		res_free(&r);
	}
	{
		struct xv *p[] = { S(&a, session), set_of(&a, S(&a, "*")), S(&a, ""), S(&a, "0") };

		dm_touch(o);
		run(&r, "event.from", p, 4);
		assert_int_equal(r.c.nerr, 0);
		assert_null(strstr(out(&r), ref));
		snprintf(m, sizeof(m), "\"%s\"", k->lname);
		assert_null(strstr(out(&r), m));        /* valid_ref_counts, class */
		res_free(&r);
	}
	{
		struct xv *p[] = { S(&a, session), S(&a, k->name), S(&a, ref) };

		refused("event.inject", p, 3, "HANDLE_INVALID", ref);
		p[1] = S(&a, k->lname);
		refused("event.inject", p, 3, "HANDLE_INVALID", ref);
	}

	/* its ref as any ref argument of any call of every public class, and
	 * its uuid to every get_by_uuid */
	for (size_t ci = 0; ci < dm_nclasses; ci++) {
		struct dm_class *pk = dm_classes[ci];

		if (pk->flags & DM_C_INTERNAL)
			continue;
		for (int i = 0; i < pk->nfields; i++)
			if (type_names(pk->fields[i].t, k))
				fail_msg("%s.%s names internal class %s", pk->name,
					 pk->fields[i].name, k->name);
		for (const struct dm_msg *mm = pk->msgs; mm && mm->name; mm++) {
			struct xv *p[16];
			size_t first = (mm->flags & DM_M_NO_SESSION) ? 0 : 1;

			if (type_names(mm->rt, k))
				fail_msg("%s.%s returns internal class %s", pk->name, mm->name, k->name);
			if (first)
				p[0] = S(&a, session);
			for (int pi = 0; pi < mm->nparams; pi++) {
				if (type_names(mm->pt[pi], k))
					fail_msg("%s.%s takes internal class %s", pk->name, mm->name, k->name);
				if (mm->pt[pi]->kind != DM_REF && mm->pt[pi]->kind != DM_SET)
					continue;
				for (int q = 0; q < mm->nparams; q++)
					p[first + q] = zero(&a, mm->pt[q]);
				p[first + pi] = mm->pt[pi]->kind == DM_REF ? S(&a, ref) :
						mm->pt[pi]->elem->kind == DM_REF ? set_of(&a, S(&a, ref)) : NULL;
				if (!p[first + pi])
					continue;
				snprintf(m, sizeof(m), "%s.%s", pk->name, mm->name);
				refused(m, p, first + mm->nparams, "FIELD_TYPE_ERROR", ref);
			}
		}
		if (pk->flags & DM_C_NO_OBJECTS)
			continue;
		{
			struct xv *p[] = { S(&a, session), S(&a, ref), NULL };

			snprintf(m, sizeof(m), "%s.get_record", pk->name);
			refused(m, p, 2, "HANDLE_INVALID", ref);
			if (pk->flags & DM_C_DESTROY) {
				snprintf(m, sizeof(m), "%s.destroy", pk->name);
				refused(m, p, 2, "HANDLE_INVALID", ref);
			}
			if (pk->f_uuid >= 0) {
				p[1] = S(&a, uuid);
				snprintf(m, sizeof(m), "%s.get_by_uuid", pk->name);
				refused(m, p, 2, "UUID_INVALID", ref);
			}
		}
		for (int i = 0; i < pk->nfields; i++) {
			const struct dm_field *f = &pk->fields[i];
			struct xv *p[] = { S(&a, session), S(&a, ref), NULL };

			if (f->flags & DM_F_HIDDEN)
				continue;
			snprintf(m, sizeof(m), "%s.get_%s", pk->name, f->name);
			refused(m, p, 2, "HANDLE_INVALID", ref);
			/* a settable ref field of a real object given the internal ref */
			if (f->qual == DM_RW && f->t->kind == DM_REF && pk->first) {
				p[1] = S(&a, pk->first->ref);
				p[2] = S(&a, ref);
				snprintf(m, sizeof(m), "%s.set_%s", pk->name, f->name);
				refused(m, p, 3, "FIELD_TYPE_ERROR", ref);
			}
		}
		/* create with a ref field holding it */
		if (pk->flags & DM_C_CREATE)
			for (int i = 0; i < pk->nfields; i++) {
				const struct dm_field *f = &pk->fields[i];
				struct xv *rec = xv_new(&a, XV_STRUCT);
				struct xv *p[] = { S(&a, session), rec };

				if (f->qual == DM_RO || f->t->kind != DM_REF)
					continue;
				rec->u.m = arena_alloc(&a, sizeof(*rec->u.m));
				rec->u.m[0].name = f->name;
				rec->u.m[0].v = S(&a, ref);
				rec->len = 1;
				snprintf(m, sizeof(m), "%s.create", pk->name);
				refused(m, p, 2, "FIELD_TYPE_ERROR", ref);
			}
	}

	/* deleted: no "del" event under "*" either */
	{
		struct xv *p[] = { S(&a, session), set_of(&a, S(&a, "*")), S(&a, ""), S(&a, "0") };

		dm_obj_delete(o);
		run(&r, "event.from", p, 4);
		assert_int_equal(r.c.nerr, 0);
		assert_null(strstr(out(&r), ref));
		res_free(&r);
	}
	arena_free(&a);
}

static void test_internal_classes_unreachable(void **state)
{
	int n = 0;

	(void)state;
	for (size_t ci = 0; ci < dm_nclasses; ci++)
		if (dm_classes[ci]->flags & DM_C_INTERNAL) {
			guard_class(dm_classes[ci]);
			n++;
		}
	/* the pool's three, at least: a guard over nothing guards nothing */
	assert_true(n >= 3);
	assert_non_null(dm_class_find("pool_token"));
	assert_true(dm_class_find("pool_member")->flags & DM_C_INTERNAL);
	assert_true(dm_class_find("pool_link")->flags & DM_C_INTERNAL);
	/* persisted, and their volatile fields are volatile */
	assert_false(dm_class_find("pool_member")->flags & DM_C_VOLATILE);
	assert_true(dm_class_find("pool_member")->fields[FLD(pool_member, last_seen)].flags &
		    DM_F_VOLATILE);
	assert_true(dm_class_find("pool_member")->fields[FLD(pool_member, peer)].flags &
		    DM_F_VOLATILE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_format),
		cmocka_unit_test(test_token_checks),
		cmocka_unit_test(test_token_gc_and_bound),
		cmocka_unit_test(test_token_api),
		cmocka_unit_test(test_internal_classes_unreachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
