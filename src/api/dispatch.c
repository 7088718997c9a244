/* XenAPI dispatch: method names to handlers, parameters from wire values to
 * datamodel values, results back out.  The accessor messages of every class
 * (get_record, get_<field>, set_<field>, ...) are derived here from the
 * datamodel tables; only the custom messages have handlers of their own.
 */
#include "api/api.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/handlers.h"
#include "api/host.h"
#include "api/where.h"
#include "lib/util.h"
#include "rpc/xmlrpc.h"

/* ---- failures ---- */

int api_fail(struct call *c, const char *code, ...)
{
	va_list ap;
	const char *p;

	c->nerr = 0;
	c->err[c->nerr++] = arena_strdup(c->a, code);
	va_start(ap, code);
	while ((p = va_arg(ap, const char *)) && c->nerr < API_MAX_ERR)
		c->err[c->nerr++] = arena_strdup(c->a, p);
	va_end(ap);
	return -1;
}

int api_failf_internal(struct call *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return api_fail(c, "INTERNAL_ERROR", msg, NULL);
}

struct obj *api_obj(struct call *c, const char *cls, const char *ref)
{
	struct dm_class *k = dm_class_find(cls);
	struct obj *o = k ? dm_obj_by_ref_cls(k, ref) : NULL;

	if (!o)
		api_fail(c, "HANDLE_INVALID", cls, ref ? ref : "", NULL);
	return o;
}

/* The wire's names of classes: internal classes (DM_C_INTERNAL) are not
 * there.  Every class name a client sends goes through here. */
struct dm_class *api_class_find(const char *name, int any_case)
{
	struct dm_class *k = any_case ? dm_class_find_ci(name) : dm_class_find(name);

	return k && !(k->flags & DM_C_INTERNAL) ? k : NULL;
}

/* A ref a client sends that names an internal object is as unknown as a
 * made-up one: refused where it is read (api_val_from_wire), so no handler
 * ever sees one.  O(1): the ref hash. */
static int ref_internal(const char *ref)
{
	struct obj *o = dm_obj_by_ref(ref);

	return o && (o->cls->flags & DM_C_INTERNAL);
}

/* ---- emitting ---- */

static void emit_key(struct emit *e, const struct dm_type *t, const struct dm_val *v)
{
	char tmp[32];

	switch (t->kind) {
	case DM_INT:
		snprintf(tmp, sizeof(tmp), "%lld", (long long)v->u.i);
		e->ops->member(e, tmp, strlen(tmp));
		break;
	case DM_ENUM:
		emit_member(e, t->en->v[v->u.i]);
		break;
	default:
		emit_member(e, v->u.s ? v->u.s : "");
		break;
	}
}

void api_emit_val(struct emit *e, const struct dm_type *t, const struct dm_val *v)
{
	switch (t->kind) {
	case DM_STRING:
	case DM_REF:
		emit_str(e, v->u.s);
		break;
	case DM_INT:
		emit_i64(e, v->u.i);
		break;
	case DM_FLOAT:
		emit_double(e, v->u.d);
		break;
	case DM_BOOL:
		emit_bool(e, v->u.i != 0);
		break;
	case DM_DATETIME:
		emit_datetime(e, v->u.i);
		break;
	case DM_ENUM:
		emit_str(e, t->en->v[v->u.i]);
		break;
	case DM_SET:
		emit_array_begin(e);
		for (size_t i = 0; i < dm_list_len(v); i++)
			api_emit_val(e, t->elem, &v->u.l->v[i]);
		emit_array_end(e);
		break;
	case DM_MAP:
		emit_struct_begin(e);
		for (size_t i = 0; i + 1 < dm_list_len(v); i += 2) {
			emit_key(e, t->key, &v->u.l->v[i]);
			api_emit_val(e, t->elem, &v->u.l->v[i + 1]);
		}
		emit_struct_end(e);
		break;
	}
}

int (*api_owner_up)(unsigned n);

void api_emit_record(struct emit *e, const struct obj *o)
{
	const struct dm_class *k = o->cls;
	int down = o->owner && api_owner_up && !api_owner_up(o->owner);
	static const struct dm_val none;

	emit_struct_begin(e);
	for (int i = 0; i < k->nfields; i++) {
		if (k->fields[i].flags & DM_F_HIDDEN)
			continue;
		emit_member(e, k->fields[i].name);
		api_emit_val(e, k->fields[i].t, down && !strcmp(k->fields[i].name,
				"allowed_operations") ? &none : dm_fv(o, i));
	}
	emit_struct_end(e);
}

/* ---- wire values to datamodel values ---- */

static int parse_datetime(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int n = 0;

	/* 20240101T12:00:00Z, 2024-01-01T12:00:00Z, optional Z */
	if (sscanf(s, "%4d%2d%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 &&
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return -1;
	if (s[n] == 'Z')
		n++;
	if (s[n])
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static int parse_int(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno)
		return -1;      /* out of int64's range: refused, not clamped */
	*out = v;
	return 0;
}

/* Convert x to type t into v (heap values: the caller frees with
 * dm_val_free).  0, or -1 if x does not fit t. */
int api_val_from_wire(const struct dm_type *t, const struct xv *x, struct dm_val *v)
{
	memset(v, 0, sizeof(*v));
	switch (t->kind) {
	case DM_STRING:
	case DM_REF:
		if (x->type != XV_STRING || (t->kind == DM_REF && ref_internal(x->u.s)))
			return -1;
		v->u.s = dm_str(x->u.s);
		return 0;
	case DM_INT:
		if (x->type == XV_INT) {
			v->u.i = x->u.i;
			return 0;
		}
		return x->type == XV_STRING ? parse_int(x->u.s, &v->u.i) : -1;
	case DM_FLOAT:
		/* NaN and the infinities are refused: the codecs decode them
		 * (XAPI writes "nan"), but no parameter or field means them, and
		 * a handler turning one into an int is undefined behaviour */
		if (x->type == XV_DOUBLE)
			v->u.d = x->u.d;
		else if (x->type == XV_INT)
			v->u.d = (double)x->u.i;
		else if (x->type == XV_STRING && *x->u.s) {
			char *end;

			v->u.d = strtod(x->u.s, &end);
			if (*end)
				return -1;
		} else
			return -1;
		return isfinite(v->u.d) ? 0 : -1;
	case DM_BOOL:
		if (x->type == XV_BOOL)
			v->u.i = x->u.b != 0;
		else if (x->type == XV_STRING && !strcasecmp(x->u.s, "true"))
			v->u.i = 1;
		else if (x->type == XV_STRING && !strcasecmp(x->u.s, "false"))
			v->u.i = 0;
		else
			return -1;
		return 0;
	case DM_DATETIME:
		if (x->type != XV_DATETIME && x->type != XV_STRING)
			return -1;
		return parse_datetime(x->u.s, &v->u.i);
	case DM_ENUM: {
		int i;

		if (x->type != XV_STRING)
			return -1;
		i = dm_enum_index(t->en, x->u.s, x->len);
		/* XAPI matches enum names without regard to case */
		for (int k = 0; i < 0 && k < t->en->n; k++)
			if (!strcasecmp(t->en->v[k], x->u.s))
				i = k;
		v->u.i = i;
		return i < 0 ? -1 : 0;
	}
	case DM_SET:
		if (x->type != XV_ARRAY)
			return -1;
		for (size_t i = 0; i < x->len; i++) {
			struct dm_val e;

			if (api_val_from_wire(t->elem, x->u.a[i], &e)) {
				dm_val_free(t, v);
				return -1;
			}
			dm_list_push(t->elem, v, &e);
		}
		return 0;
	case DM_MAP:
		if (x->type != XV_STRUCT)
			return -1;
		for (size_t i = 0; i < x->len; i++) {
			struct xv key = { .type = XV_STRING, .len = strlen(x->u.m[i].name),
					  .u.s = x->u.m[i].name };
			struct dm_val k, e;

			if (api_val_from_wire(t->key, &key, &k)) {
				dm_val_free(t, v);
				return -1;
			}
			if (api_val_from_wire(t->elem, x->u.m[i].v, &e)) {
				dm_val_free(t->key, &k);
				dm_val_free(t, v);
				return -1;
			}
			dm_list_push(NULL, v, &k);
			dm_list_push(NULL, v, &e);
		}
		return 0;
	}
	return -1;
}

/* ---- generated messages ---- */

enum gen_kind {
	G_NONE, G_GET_ALL, G_GET_ALL_RECORDS, G_GET_RECORD, G_GET_BY_UUID,
	G_GET_BY_NAME_LABEL, G_GET_FIELD, G_SET_FIELD, G_ADD_TO, G_REMOVE_FROM,
	G_ADD, G_REMOVE, G_CREATE, G_DESTROY, G_GET_ALL_WHERE, G_GET_ALL_RECORDS_WHERE,
};

struct gen {
	enum gen_kind kind;
	const struct dm_field *f;
	int nparams;            /* after the session */
};

static struct gen gen_lookup(const struct dm_class *k, const char *name)
{
	struct gen g = { G_NONE, NULL, 0 };
	static const struct { const char *prefix; enum gen_kind kind; int n; } pre[] = {
		{ "get_", G_GET_FIELD, 1 }, { "set_", G_SET_FIELD, 2 },
		{ "add_to_", G_ADD_TO, 3 }, { "remove_from_", G_REMOVE_FROM, 2 },
		{ "add_", G_ADD, 2 }, { "remove_", G_REMOVE, 2 },
	};

	if (k->flags & DM_C_NO_OBJECTS)
		return g;
	if (!strcmp(name, "get_all"))
		return (struct gen){ G_GET_ALL, NULL, 0 };
	if (!strcmp(name, "get_all_records"))
		return (struct gen){ G_GET_ALL_RECORDS, NULL, 0 };
	if (!strcmp(name, "get_all_where"))
		return (struct gen){ G_GET_ALL_WHERE, NULL, 1 };
	if (!strcmp(name, "get_all_records_where"))
		return (struct gen){ G_GET_ALL_RECORDS_WHERE, NULL, 1 };
	if (!strcmp(name, "get_record"))
		return (struct gen){ G_GET_RECORD, NULL, 1 };
	if (!strcmp(name, "get_by_uuid") && k->f_uuid >= 0)
		return (struct gen){ G_GET_BY_UUID, NULL, 1 };
	if (!strcmp(name, "get_by_name_label") && k->f_name_label >= 0)
		return (struct gen){ G_GET_BY_NAME_LABEL, NULL, 1 };
	if (!strcmp(name, "create") && (k->flags & DM_C_CREATE))
		return (struct gen){ G_CREATE, NULL, 1 };
	if (!strcmp(name, "destroy") && (k->flags & DM_C_DESTROY))
		return (struct gen){ G_DESTROY, NULL, 1 };
	for (size_t i = 0; i < ARRAY_SIZE(pre); i++) {
		size_t n = strlen(pre[i].prefix);
		const struct dm_field *f;

		if (strncmp(name, pre[i].prefix, n))
			continue;
		f = dm_field_find(k, name + n);
		if (!f || (f->flags & DM_F_HIDDEN))
			continue;
		switch (pre[i].kind) {
		case G_GET_FIELD:
			break;
		case G_SET_FIELD:
			if (f->qual != DM_RW)
				continue;
			break;
		case G_ADD_TO:
		case G_REMOVE_FROM:
			if (f->qual != DM_RW || f->t->kind != DM_MAP)
				continue;
			break;
		default:
			if (f->qual != DM_RW || f->t->kind != DM_SET)
				continue;
			break;
		}
		g.kind = pre[i].kind;
		g.f = f;
		g.nparams = pre[i].kind == G_REMOVE_FROM ? 2 : pre[i].n;
		return g;
	}
	return g;
}

/* Whether <class>.<name> is a message this build answers, its own or
 * derived: what an allowed_operations entry may promise. */
int api_msg_exists(const struct dm_class *k, const char *name)
{
	return dm_msg_find(k, name) || gen_lookup(k, name).kind != G_NONE;
}

static int arg_str(struct call *c, int i, const char **out)
{
	const struct xv *x = c->params->u.a[i];

	if (x->type != XV_STRING)
		return api_fail(c, "FIELD_TYPE_ERROR", "", NULL);
	*out = x->u.s;
	return 0;
}

static int self_obj(struct call *c, struct dm_class *k, struct obj **o)
{
	const char *ref;

	if (arg_str(c, 1, &ref))
		return -1;
	/* k is never internal (dispatch), so neither is *o */
	*o = dm_obj_by_ref_cls(k, ref);
	if (!*o)
		return api_fail(c, "HANDLE_INVALID", k->name, ref, NULL);
	return 0;
}

static int create_from_record(struct call *c, struct dm_class *k, const struct xv *rec)
{
	struct obj *o;

	if (rec->type != XV_STRUCT)
		return api_fail(c, "FIELD_TYPE_ERROR", "args", NULL);
	/* validate every given field before creating anything */
	for (size_t i = 0; i < rec->len; i++) {
		const struct dm_field *f = dm_field_find(k, rec->u.m[i].name);
		struct dm_val v;

		if (!f || f->qual == DM_RO)
			continue;       /* XAPI ignores unknown and read-only keys */
		if (api_val_from_wire(f->t, rec->u.m[i].v, &v))
			return api_fail(c, "FIELD_TYPE_ERROR", f->name, NULL);
		dm_val_free(f->t, &v);
	}
	o = dm_obj_new(k, NULL, NULL);
	for (size_t i = 0; i < rec->len; i++) {
		const struct dm_field *f = dm_field_find(k, rec->u.m[i].name);
		struct dm_val v;

		if (!f || f->qual == DM_RO)
			continue;
		api_val_from_wire(f->t, rec->u.m[i].v, &v);
		dm_set(o, f->idx, &v);
		dm_val_free(f->t, &v);
	}
	if (k->on_create && k->on_create(c, o)) {
		dm_obj_delete(o);
		return -1;
	}
	emit_str(c->e, o->ref);
	return 0;
}

static int run_generated(struct call *c, struct dm_class *k, const struct gen *g)
{
	struct obj *o = NULL;
	struct dm_val v;
	const char *s;

	switch (g->kind) {
	case G_GET_ALL:
		emit_array_begin(c->e);
		for (o = k->first; o; o = o->next)
			emit_str(c->e, o->ref);
		emit_array_end(c->e);
		return 0;
	case G_GET_ALL_RECORDS:
		/* O(objects x fields): the biggest reply there is */
		emit_struct_begin(c->e);
		for (o = k->first; o; o = o->next) {
			emit_member(c->e, o->ref);
			api_emit_record(c->e, o);
		}
		emit_struct_end(c->e);
		return 0;
	case G_GET_ALL_WHERE:
	case G_GET_ALL_RECORDS_WHERE:
		return api_where_run(c, k, g->kind == G_GET_ALL_RECORDS_WHERE);
	case G_GET_RECORD:
		if (self_obj(c, k, &o))
			return -1;
		api_emit_record(c->e, o);
		return 0;
	case G_GET_BY_UUID:
		if (arg_str(c, 1, &s))
			return -1;
		o = dm_obj_by_uuid(k, s);
		if (!o)
			return api_fail(c, "UUID_INVALID", k->name, s, NULL);
		emit_str(c->e, o->ref);
		return 0;
	case G_GET_BY_NAME_LABEL:
		/* O(objects of the class) */
		if (arg_str(c, 1, &s))
			return -1;
		emit_array_begin(c->e);
		for (o = k->first; o; o = o->next)
			if (!strcmp(dm_get_str(o, k->f_name_label), s))
				emit_str(c->e, o->ref);
		emit_array_end(c->e);
		return 0;
	case G_GET_FIELD:
		if (self_obj(c, k, &o))
			return -1;
		api_emit_val(c->e, g->f->t, dm_fv(o, g->f->idx));
		return 0;
	case G_SET_FIELD:
		if (self_obj(c, k, &o))
			return -1;
		if (api_val_from_wire(g->f->t, c->params->u.a[2], &v))
			return api_fail(c, "FIELD_TYPE_ERROR", g->f->name, NULL);
		dm_set(o, g->f->idx, &v);
		dm_val_free(g->f->t, &v);
		emit_str(c->e, "");
		return 0;
	case G_ADD_TO:
	case G_REMOVE_FROM: {
		const struct dm_type *mt = g->f->t;
		struct dm_val key, val = { 0 }, nm;
		struct dm_list *l;
		struct xv keyx;

		if (self_obj(c, k, &o))
			return -1;
		keyx = *c->params->u.a[2];
		if (api_val_from_wire(mt->key, &keyx, &key))
			return api_fail(c, "FIELD_TYPE_ERROR", "key", NULL);
		if (g->kind == G_ADD_TO && api_val_from_wire(mt->elem, c->params->u.a[3], &val)) {
			dm_val_free(mt->key, &key);
			return api_fail(c, "FIELD_TYPE_ERROR", "value", NULL);
		}
		dm_val_copy(mt, &nm, dm_fv(o, g->f->idx));
		l = nm.u.l;
		for (size_t i = 0; l && i + 1 < l->n; i += 2) {
			if (!dm_val_equal(mt->key, &l->v[i], &key))
				continue;
			if (g->kind == G_ADD_TO) {
				dm_val_free(mt->key, &key);
				dm_val_free(mt->elem, &val);
				dm_val_free(mt, &nm);
				return api_fail(c, "MAP_DUPLICATE_KEY", k->name, g->f->name,
						o->cls->f_uuid >= 0 ? dm_get_str(o, o->cls->f_uuid) : o->ref,
						c->params->u.a[2]->u.s, NULL);
			}
			dm_val_free(mt->key, &l->v[i]);
			dm_val_free(mt->elem, &l->v[i + 1]);
			memmove(&l->v[i], &l->v[i + 2], (l->n - i - 2) * sizeof(l->v[0]));
			l->n -= 2;
			break;
		}
		if (g->kind == G_ADD_TO) {
			dm_list_push(NULL, &nm, &key);
			dm_list_push(NULL, &nm, &val);
		} else {
			dm_val_free(mt->key, &key);
		}
		dm_set(o, g->f->idx, &nm);
		dm_val_free(mt, &nm);
		emit_str(c->e, "");
		return 0;
	}
	case G_ADD:
	case G_REMOVE: {
		const struct dm_type *st = g->f->t;
		struct dm_val e, ns;
		struct dm_list *l;
		size_t i;

		if (self_obj(c, k, &o))
			return -1;
		if (api_val_from_wire(st->elem, c->params->u.a[2], &e))
			return api_fail(c, "FIELD_TYPE_ERROR", "value", NULL);
		dm_val_copy(st, &ns, dm_fv(o, g->f->idx));
		l = ns.u.l;
		for (i = 0; l && i < l->n; i++)
			if (dm_val_equal(st->elem, &l->v[i], &e))
				break;
		if (g->kind == G_ADD && !(l && i < l->n)) {
			dm_list_push(st->elem, &ns, &e);
		} else {
			if (g->kind == G_REMOVE && l && i < l->n) {
				dm_val_free(st->elem, &l->v[i]);
				memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
				l->n--;
			}
			dm_val_free(st->elem, &e);
		}
		dm_set(o, g->f->idx, &ns);
		dm_val_free(st, &ns);
		emit_str(c->e, "");
		return 0;
	}
	case G_CREATE:
		return create_from_record(c, k, c->params->u.a[1]);
	case G_DESTROY:
		if (self_obj(c, k, &o))
			return -1;
		if (k->on_destroy && k->on_destroy(c, o))
			return -1;
		dm_obj_delete(o);
		emit_str(c->e, "");
		return 0;
	case G_NONE:
		break;
	}
	return api_fail(c, "MESSAGE_METHOD_UNKNOWN", c->method, NULL);
}

/* ---- custom messages ---- */

static int run_custom(struct call *c, const struct dm_msg *m, int first)
{
	struct dm_val *args = arena_alloc(c->a, sizeof(*args) * (size_t)(m->nparams + 1));
	struct dm_val res = { 0 };
	int given = (int)c->params->len - first, rc;

	if (!args)
		return api_fail(c, "INTERNAL_ERROR", "out of memory", NULL);
	for (int i = 0; i < m->nparams; i++) {
		if (i < given) {
			if (api_val_from_wire(m->pt[i], c->params->u.a[first + i], &args[i])) {
				for (int j = 0; j < i; j++)
					dm_val_free(m->pt[j], &args[j]);
				return api_fail(c, "FIELD_TYPE_ERROR", m->params[i].name, NULL);
			}
		} else {
			dm_val_from_literal(m->pt[i], m->params[i].def, &args[i]);
		}
	}
	rc = m->fn(c, args, &res);
	if (!rc && !(m->flags & DM_M_RAW)) {
		if (m->rt)
			api_emit_val(c->e, m->rt, &res);
		else
			emit_str(c->e, "");
	}
	if (m->rt)
		dm_val_free(m->rt, &res);
	/* handlers that wait keep copies in the call's arena, never args */
	for (int i = 0; i < m->nparams; i++)
		dm_val_free(m->pt[i], &args[i]);
	return rc;
}

/* ---- routing (the pool's forwarding, docs/POOL.md 5.1) ---- */

static int (*route_hook)(struct call *c, const struct dm_class *k, const char *msg);
static void (*route_cancel)(struct call *c);

void api_set_route_hook(int (*route)(struct call *c, const struct dm_class *k, const char *msg),
			void (*cancel)(struct call *c))
{
	route_hook = route;
	route_cancel = cancel;
}

void api_cancel(struct call *c)
{
	api_events_cancel(c);
	api_vm_cancel(c);
	api_fjob_cancel(c);
	api_storage_cancel(c);
	api_session_cancel(c);
	if (route_cancel)
		route_cancel(c);
}

static int foreign(struct call *c, const struct dm_class *k, const struct dm_msg *m,
		   const struct gen *g);

/* Run a message where the hook sends it (then 1: it waits), or here,
 * where another host's objects are refused. */
static int run(struct call *c, struct dm_class *k, const struct dm_msg *m, const struct gen *g,
	       const char *msg, int first)
{
	int rc = route_hook ? route_hook(c, k, msg) : 0;

	if (rc == 1 || rc < 0 || (!rc && (rc = foreign(c, k, m, g))))
		return rc;
	return m ? run_custom(c, m, first) : run_generated(c, k, g);
}

/* ---- tasks for Async.* ---- */

struct obj *api_task_new(struct call *c, const char *name);
void api_task_finish(struct obj *task, struct call *c, const char *xml_result);

/* The inner call of an Async.* request: it outlives the request when the
 * operation completes later (a domain build in the worker, a clean
 * shutdown waiting for the guest), so it has its own arena and output. */
struct async_call {
	struct call c;
	struct async_call *next, **prev;
	struct arena a;
	struct buf out;
	struct emit e;
	char task[DM_REF_LEN];
};
static struct async_call *asyncs;

static void async_free(struct async_call *ac)
{
	if (ac->next)
		ac->next->prev = ac->prev;
	*ac->prev = ac->next;
	arena_free(&ac->a);
	buf_free(&ac->out);
	free(ac);
}

/* The task's result is the XML-RPC encoding of the value, as XAPI stores
 * it; a failure is its ErrorDescription. */
static void async_complete(struct call *sub)
{
	struct async_call *ac = (struct async_call *)sub;
	struct obj *task = dm_obj_by_ref_cls(dm_class_find("task"), ac->task);

	if (task)
		api_task_finish(task, sub->nerr ? sub : NULL, ac->out.data ? ac->out.data : "");
	async_free(ac);
}

static int run_async(struct call *c, struct dm_class *k, const char *name)
{
	struct obj *task = api_task_new(c, c->method);     /* "Async.VM.start", as XAPI */
	struct async_call *ac = xcalloc(1, sizeof(*ac));
	const struct dm_msg *m = dm_msg_find(k, name + strlen(k->name) + 1);
	struct gen g = gen_lookup(k, name + strlen(k->name) + 1);
	int rc;

	ac->next = asyncs;
	if (asyncs)
		asyncs->prev = &ac->next;
	ac->prev = &asyncs;
	asyncs = ac;
	arena_init(&ac->a, 0);
	buf_init(&ac->out);
	xmlrpc_emit_init(&ac->e, &ac->out);
	snprintf(ac->task, sizeof(ac->task), "%s", task->ref);
	ac->c = *c;
	ac->c.a = &ac->a;
	ac->c.e = &ac->e;
	ac->c.out = &ac->out;
	ac->c.nerr = 0;
	ac->c.conn = NULL;
	ac->c.task = ac->task;
	ac->c.complete = async_complete;
	emit_str(c->e, task->ref);      /* the reply does not wait */
	rc = run(&ac->c, k, m, &g, name + strlen(k->name) + 1, 1);
	if (rc == 1)
		return 0;               /* async_complete finishes the task */
	if (rc < 0 && !ac->c.nerr)
		api_fail(&ac->c, "INTERNAL_ERROR", "unknown failure", NULL);
	async_complete(&ac->c);
	return 0;
}

/* Daemon exit: inner calls still waiting are dropped; their tasks stay
 * pending in the database, as after a crash (XAPI fails them at start). */
void api_async_dispose(void)
{
	while (asyncs)
		async_free(asyncs);
}

/* ---- dispatch ---- */

static int count_mismatch(struct call *c, int expected, int received)
{
	char e[16], r[16];

	snprintf(e, sizeof(e), "%d", expected);
	snprintf(r, sizeof(r), "%d", received);
	return api_fail(c, "MESSAGE_PARAMETER_COUNT_MISMATCH", c->method, e, r, NULL);
}

int api_system_list_methods(struct call *c);

static int check_session(struct call *c)
{
	const char *ref;
	struct dm_class *sk = dm_class_find("session");

	if (c->params->len < 1 || c->params->u.a[0]->type != XV_STRING)
		return api_fail(c, "SESSION_INVALID", "", NULL);
	ref = c->params->u.a[0]->u.s;
	c->session = dm_obj_by_ref_cls(sk, ref);
	if (!c->session)
		return api_fail(c, "SESSION_INVALID", ref, NULL);
	dm_fw(c->session, OF(c->session, session, last_active))->u.i = now_wall();
	return 0;
}

/* x names an object another host owns (but a host, with hosts 1) */
static int owned(const struct xv *x, int hosts)
{
	const struct obj *o = x->type == XV_STRING ? dm_obj_by_ref(x->u.s) : NULL;

	return o && o->owner && !(hosts && !strcmp(o->cls->name, "host"));
}

/* A write to, or an operation on, an object another host owns: the owner
 * alone changes it (docs/POOL.md 4.1).  Generated setters and destroy,
 * custom messages but get_* whose first parameter is a ref, and a create
 * whose record points to such an object but a host (a VBD of another
 * host's VM).  O(1), a create O(fields^2). */
static int foreign(struct call *c, const struct dm_class *k, const struct dm_msg *m,
		   const struct gen *g)
{
	const struct xv *x = c->params->len > 1 ? c->params->u.a[1] : NULL;
	const struct dm_field *f;
	int bad = 0;

	if (!x)
		return 0;
	if (m)
		bad = m->nparams && m->pt[0]->kind == DM_REF && strncmp(m->name, "get_", 4) &&
		      owned(x, 0);
	else if (g->kind == G_CREATE)
		for (size_t i = 0; x->type == XV_STRUCT && i < x->len; i++)
			bad |= (f = dm_field_find(k, x->u.m[i].name)) && f->t->kind == DM_REF &&
			       owned(x->u.m[i].v, 1);
	else if (g->kind >= G_SET_FIELD && g->kind <= G_DESTROY)
		bad = owned(x, 0);
	return bad ? api_fail(c, "OPERATION_NOT_ALLOWED",
			      "this object belongs to another host of the pool", NULL) : 0;
}

static int dispatch(struct call *c)
{
	char cname[64];
	const char *name = c->method, *dot;
	int async = 0, first = 1, given;
	struct dm_class *k;
	const struct dm_msg *m;
	struct gen g = { G_NONE, NULL, 0 };

	if (!strcmp(name, "system.listMethods"))
		return api_system_list_methods(c);
	if (!strncmp(name, "Async.", 6)) {
		async = 1;
		name += 6;
	}
	dot = strchr(name, '.');
	if (!dot || (size_t)(dot - name) >= sizeof(cname))
		return api_fail(c, "MESSAGE_METHOD_UNKNOWN", c->method, NULL);
	memcpy(cname, name, (size_t)(dot - name));
	cname[dot - name] = 0;
	k = api_class_find(cname, 0);
	if (!k)
		return api_fail(c, "MESSAGE_METHOD_UNKNOWN", c->method, NULL);
	m = dm_msg_find(k, dot + 1);
	if (!m)
		g = gen_lookup(k, dot + 1);
	if ((!m && g.kind == G_NONE) ||
	    (async && !(m ? (m->flags & DM_M_ASYNC) : (g.kind == G_CREATE || g.kind == G_DESTROY))))
		return api_fail(c, "MESSAGE_METHOD_UNKNOWN", c->method, NULL);
	if (m && (m->flags & DM_M_NO_SESSION))
		first = 0;
	given = (int)c->params->len - first;
	if (m ? (given < m->nrequired || given > m->nparams) : given != g.nparams)
		return count_mismatch(c, m ? m->nrequired : g.nparams, given);
	if (first && check_session(c))
		return -1;
	if (async)
		return run_async(c, k, name);
	return run(c, k, m, &g, dot + 1, first);
}

int api_dispatch(struct call *c)
{
	size_t mark = c->out->len;
	int rc = dispatch(c);

	if (rc == 1)
		return 1;       /* waits; completes later */
	if (rc < 0) {
		c->out->len = mark;     /* drop a partly written value */
		if (c->out->data)
			c->out->data[mark] = 0;
		if (!c->nerr)
			api_fail(c, "INTERNAL_ERROR", "unknown failure", NULL);
	}
	c->complete(c);
	return 0;
}

/* ---- system.listMethods: every name the dispatcher answers ---- */

static void list_class(struct emit *e, const struct dm_class *k, struct buf *tmp)
{
#define NAME(...) do { buf_reset(tmp); buf_addf(tmp, __VA_ARGS__); \
		emit_strn(e, tmp->data, tmp->len); } while (0)
	for (const struct dm_msg *m = k->msgs; m && m->name; m++) {
		NAME("%s.%s", k->name, m->name);
		if (m->flags & DM_M_ASYNC)
			NAME("Async.%s.%s", k->name, m->name);
	}
	if (k->flags & DM_C_NO_OBJECTS)
		return;
	NAME("%s.get_all", k->name);
	NAME("%s.get_all_records", k->name);
	NAME("%s.get_all_where", k->name);
	NAME("%s.get_all_records_where", k->name);
	NAME("%s.get_record", k->name);
	if (k->f_uuid >= 0)
		NAME("%s.get_by_uuid", k->name);
	if (k->f_name_label >= 0)
		NAME("%s.get_by_name_label", k->name);
	if (k->flags & DM_C_CREATE) {
		NAME("%s.create", k->name);
		NAME("Async.%s.create", k->name);
	}
	if (k->flags & DM_C_DESTROY) {
		NAME("%s.destroy", k->name);
		NAME("Async.%s.destroy", k->name);
	}
	for (int i = 0; i < k->nfields; i++) {
		const struct dm_field *f = &k->fields[i];

		if (f->flags & DM_F_HIDDEN)
			continue;
		NAME("%s.get_%s", k->name, f->name);
		if (f->qual != DM_RW)
			continue;
		NAME("%s.set_%s", k->name, f->name);
		if (f->t->kind == DM_MAP) {
			NAME("%s.add_to_%s", k->name, f->name);
			NAME("%s.remove_from_%s", k->name, f->name);
		} else if (f->t->kind == DM_SET) {
			NAME("%s.add_%s", k->name, f->name);
			NAME("%s.remove_%s", k->name, f->name);
		}
	}
#undef NAME
}

int api_system_list_methods(struct call *c)
{
	struct buf tmp = BUF_INIT;

	emit_array_begin(c->e);
	emit_str(c->e, "system.listMethods");
	for (size_t i = 0; i < dm_nclasses; i++)
		if (!(dm_classes[i]->flags & DM_C_INTERNAL))
			list_class(c->e, dm_classes[i], &tmp);
	emit_array_end(c->e);
	buf_free(&tmp);
	return 0;
}
