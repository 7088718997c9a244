/* Events: event.from (tokens are generations), event.inject, and the
 * legacy event.register/next/unregister.
 *
 * A token is "%020llu,%020llu": the global generation after the reply,
 * and this daemon's life (a random number drawn at its first token).
 * Generations start again with each daemon and deletions are not kept
 * across a restart, so a token of another life (XO keeps its token
 * through a reconnect) names no point of this one: EVENTS_LOST, and the
 * client resyncs, rather than miss the changes below its old generation
 * or a deletion made before the restart.
 * event.from scans every subscribed class for objects modified after the
 * token: O(objects) per call, fine for a host's few thousand objects.
 * Calls with nothing to report wait (the connection holds its reply) until
 * a change or their timeout; waiters are woken from api_events_tick(), once
 * per loop iteration, so a burst of changes is one batch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "lib/util.h"

static struct call *waiters;
static int dirty;

void api_events_changed(void)
{
	dirty = 1;
}

struct sub {
	struct dm_class *cls;   /* NULL: every class */
	const char *ref;        /* NULL: every object */
};

static int parse_subs(struct call *c, const struct dm_val *classes, struct sub **out, size_t *n)
{
	size_t len = dm_list_len(classes);
	struct sub *s = arena_alloc(c->a, sizeof(*s) * (len + 1));

	if (!s)
		return api_fail(c, "INTERNAL_ERROR", "out of memory", NULL);
	for (size_t i = 0; i < len; i++) {
		const char *name = classes->u.l->v[i].u.s;
		const char *slash = strchr(name, '/');
		char cname[64];
		size_t cl = slash ? (size_t)(slash - name) : strlen(name);

		if (cl == 1 && name[0] == '*') {
			s[i].cls = NULL;
			s[i].ref = NULL;
			continue;
		}
		if (cl >= sizeof(cname))
			return api_fail(c, "EVENT_SUBSCRIPTION_PARSE_FAILURE", name, NULL);
		memcpy(cname, name, cl);
		cname[cl] = 0;
		s[i].cls = api_class_find(cname, 1);
		if (!s[i].cls || (s[i].cls->flags & DM_C_NO_OBJECTS))
			return api_fail(c, "EVENT_SUBSCRIPTION_PARSE_FAILURE", name, NULL);
		s[i].ref = slash ? arena_strdup(c->a, slash + 1) : NULL;
	}
	*out = s;
	*n = len;
	return 0;
}

static int subscribed(const struct sub *s, size_t n, const struct dm_class *k, const char *ref)
{
	if (k->flags & DM_C_INTERNAL)
		return 0;       /* not even for "*" */
	for (size_t i = 0; i < n; i++)
		if ((!s[i].cls || s[i].cls == k) && (!s[i].ref || !strcmp(s[i].ref, ref)))
			return 1;
	return 0;
}

/* This daemon's life, in every token; below 2^63 (XAPI's %020Ld). */
static uint64_t life(void)
{
	static uint64_t id;

	if (!id && getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		id = (uint64_t)now_wall() << 20 ^ (uint64_t)getpid();
	id &= INT64_MAX;
	return id ? id : (id = 1);
}

/* 0 with *gen, or -1 when t is no token; *other: of another life.  A
 * bare generation (event.get_current_id's) is taken as this life's, as
 * before lives were in tokens. */
static int parse_token(const char *t, uint64_t *gen, int *other)
{
	char *end;

	*gen = 0;
	*other = 0;
	if (!*t)
		return 0;
	*gen = strtoull(t, &end, 10);
	if (end == t || (*end && *end != ','))
		return -1;
	if (*end == ',') {
		*other = strtoull(end + 1, &end, 10) != life();
		if (*end)
			return -1;
	}
	return 0;
}

static void token(char *tok, size_t len, uint64_t gen)
{
	snprintf(tok, len, "%020" PRIu64 ",%020" PRIu64, gen, life());
}

static void emit_token(struct emit *e, uint64_t gen)
{
	char tok[48];

	token(tok, sizeof(tok), gen);
	emit_str(e, tok);
}

/* timestamp: the second of the change, as XAPI's event.next writes it
 * (OCaml's string_of_float of Unix.time: "1724300000.").  XAPI's
 * event.from sends "0.0"; xenbox tells the time in both. */
static void emit_event(struct emit *e, const char *op, const struct dm_class *k,
		       const char *ref, const struct obj *o, uint64_t gen, uint32_t t)
{
	char id[24], ts[16];

	snprintf(id, sizeof(id), "%" PRIu64, gen);
	snprintf(ts, sizeof(ts), "%" PRIu32 ".", t);
	emit_struct_begin(e);
	emit_member(e, "id");
	emit_str(e, id);
	emit_member(e, "timestamp");
	emit_str(e, ts);
	emit_member(e, "class");
	emit_str(e, k->lname);
	emit_member(e, "operation");
	emit_str(e, op);
	emit_member(e, "ref");
	emit_str(e, ref);
	if (o) {
		emit_member(e, "snapshot");
		api_emit_record(e, o);
	}
	emit_struct_end(e);
}

/* Count (emit == NULL) or emit the events after gen: adds, mods, dels. */
static size_t collect(struct emit *e, const struct sub *s, size_t ns, uint64_t gen)
{
	const struct dm_tomb *t;
	size_t n = 0, nt;
	int lost;

	for (int pass = 0; pass < 2; pass++)
		for (size_t ci = 0; ci < dm_nclasses; ci++) {
			const struct dm_class *k = dm_classes[ci];

			for (struct obj *o = k->first; o; o = o->next) {
				int add = o->gen_created > gen;

				if (o->gen_modified <= gen || add != (pass == 0) ||
				    !subscribed(s, ns, k, o->ref))
					continue;
				n++;
				if (e)
					emit_event(e, add ? "add" : "mod", k, o->ref, o, o->gen_modified,
						   o->mtime);
			}
		}
	nt = dm_tombs_since(gen, &t, &lost);
	for (size_t i = 0; i < nt; i++) {
		/* an object created and deleted since gen was never seen: skip */
		if (!subscribed(s, ns, t[i].cls, t[i].ref))
			continue;
		n++;
		if (e)
			emit_event(e, "del", t[i].cls, t[i].ref, NULL, t[i].gen, t[i].time);
	}
	return n;
}

static void emit_from_result(struct emit *e, const struct sub *s, size_t ns, uint64_t gen)
{
	emit_struct_begin(e);
	emit_member(e, "events");
	emit_array_begin(e);
	collect(e, s, ns, gen);
	emit_array_end(e);
	emit_member(e, "valid_ref_counts");
	emit_struct_begin(e);
	for (size_t ci = 0; ci < dm_nclasses; ci++) {
		if (dm_classes[ci]->flags & (DM_C_NO_OBJECTS | DM_C_INTERNAL))
			continue;
		emit_member(e, dm_classes[ci]->lname);
		emit_i32(e, (int32_t)dm_classes[ci]->count);
	}
	emit_struct_end(e);
	emit_member(e, "token");
	emit_token(e, dm_gen);
	emit_struct_end(e);
}

struct wait_state {
	struct sub *s;
	size_t ns;
	uint64_t gen;
	int legacy;             /* event.next: reply is the events array */
};

static void reply(struct call *c, struct wait_state *w)
{
	if (w->legacy) {
		emit_array_begin(c->e);
		collect(c->e, w->s, w->ns, w->gen);
		emit_array_end(c->e);
	} else {
		emit_from_result(c->e, w->s, w->ns, w->gen);
	}
}

static void unlink_waiter(struct call *c)
{
	for (struct call **p = &waiters; *p; p = &(*p)->wait_next)
		if (*p == c) {
			*p = c->wait_next;
			break;
		}
	c->waiting = 0;
}

void api_events_cancel(struct call *c)
{
	if (c->waiting)
		unlink_waiter(c);
}

int64_t api_events_tick(int64_t now)
{
	int64_t next = -1;
	int woke = dirty;
	struct call *c, *n;

	dirty = 0;
	for (c = waiters; c; c = n) {
		struct wait_state *w = (struct wait_state *)c->wait_args;

		n = c->wait_next;
		if ((woke && collect(NULL, w->s, w->ns, w->gen)) || now >= c->deadline_ms) {
			unlink_waiter(c);
			/* XAPI answers an empty batch at the timeout */
			reply(c, w);
			c->complete(c);
			continue;
		}
		if (next < 0 || c->deadline_ms - now < next)
			next = c->deadline_ms - now;
	}
	return next;
}

static int wait_or_reply(struct call *c, struct wait_state *w, double timeout)
{
	/* NaN never gets here (the parameter conversion refuses it); if it
	 * did, it would answer at once rather than reach the int conversion */
	if (collect(NULL, w->s, w->ns, w->gen) || !(timeout > 0)) {
		reply(c, w);
		return 0;
	}
	if (timeout > 3600)
		timeout = 3600;         /* also keeps timeout * 1000 in int64 */
	c->wait_args = (struct dm_val *)w;
	c->deadline_ms = now_ms() + (int64_t)(timeout * 1000);
	c->waiting = 1;
	c->wait_next = waiters;
	waiters = c;
	return 1;
}

HANDLER(api_event_from)
{
	struct wait_state *w = arena_alloc(c->a, sizeof(*w));
	int lost, other;
	const struct dm_tomb *t;
	double timeout = args[2].u.d;

	if (!w)
		return api_fail(c, "INTERNAL_ERROR", "out of memory", NULL);
	if (parse_subs(c, &args[0], &w->s, &w->ns))
		return -1;
	if (parse_token(args[1].u.s, &w->gen, &other))
		return api_fail(c, "EVENT_FROM_TOKEN_PARSE_FAILURE", args[1].u.s, NULL);
	dm_tombs_since(w->gen, &t, &lost);
	if ((lost && *args[1].u.s) || other)
		return api_fail(c, "EVENTS_LOST", NULL);
	return wait_or_reply(c, w, timeout);
}

HANDLER(api_event_inject)
{
	struct dm_class *k = api_class_find(args[0].u.s, 1);
	struct obj *o = k ? dm_obj_by_ref_cls(k, args[1].u.s) : NULL;
	char tok[48];

	if (!o)
		return api_fail(c, "HANDLE_INVALID", args[0].u.s, args[1].u.s, NULL);
	dm_touch(o);
	token(tok, sizeof(tok), o->gen_modified - 1);
	res->u.s = dm_str(tok);
	return 0;
}

HANDLER(api_event_get_current_id)
{
	res->u.i = (int64_t)dm_gen;
	return 0;
}

/* ---- legacy registration, per session ---- */

static struct reg {
	char session[DM_REF_LEN];
	char **classes;
	size_t n;
	uint64_t gen;
	struct reg *next;
} *regs;

static struct reg *reg_find(const char *session)
{
	for (struct reg *r = regs; r; r = r->next)
		if (!strcmp(r->session, session))
			return r;
	return NULL;
}

HANDLER(api_event_register)
{
	struct reg *r = reg_find(c->session->ref);
	size_t n = dm_list_len(&args[0]);

	if (!r) {
		r = xcalloc(1, sizeof(*r));
		snprintf(r->session, sizeof(r->session), "%s", c->session->ref);
		r->gen = dm_gen;
		r->next = regs;
		regs = r;
	}
	for (size_t i = 0; i < r->n; i++)
		free(r->classes[i]);
	free(r->classes);
	r->classes = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r->classes[i] = xstrdup(args[0].u.l->v[i].u.s);
	r->n = n;
	return 0;
}

static void reg_drop(const char *session)
{
	for (struct reg **p = &regs; *p; p = &(*p)->next)
		if (!strcmp((*p)->session, session)) {
			struct reg *r = *p;

			*p = r->next;
			for (size_t i = 0; i < r->n; i++)
				free(r->classes[i]);
			free(r->classes);
			free(r);
			break;
		}
}

HANDLER(api_event_unregister)
{
	reg_drop(c->session->ref);
	return 0;
}

/* As XAPI (Xapi_event.on_session_deleted): the registration goes with the
 * session, and its waiting calls are answered SESSION_INVALID.  O(waiters
 * + registrations). */
void api_events_session_gone(const char *session)
{
	struct call *c, *n;

	reg_drop(session);
	for (c = waiters; c; c = n) {
		n = c->wait_next;
		if (!c->session || strcmp(c->session->ref, session))
			continue;
		unlink_waiter(c);
		api_fail(c, "SESSION_INVALID", session, NULL);
		c->session = NULL;
		c->complete(c);
	}
}

HANDLER(api_event_next)
{
	struct reg *r = reg_find(c->session->ref);
	struct wait_state *w;
	struct dm_val set = { 0 };
	int rc;

	if (!r)
		return api_fail(c, "SESSION_NOT_REGISTERED", c->session->ref, NULL);
	w = arena_alloc(c->a, sizeof(*w));
	if (!w)
		return api_fail(c, "INTERNAL_ERROR", "out of memory", NULL);
	for (size_t i = 0; i < r->n; i++) {
		struct dm_val e = { .u.s = r->classes[i] };

		dm_list_push(NULL, &set, &e);
	}
	rc = parse_subs(c, &set, &w->s, &w->ns);
	free(set.u.l);          /* the strings belong to r */
	if (rc)
		return -1;
	w->gen = r->gen;
	w->legacy = 1;
	r->gen = dm_gen;        /* what this call reports is consumed */
	return wait_or_reply(c, w, 30.0);
}
