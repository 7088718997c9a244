/* The mirror (docs/POOL.md 4).
 *
 * Member: after the hello it sends its own objects of the mirrored classes
 * (DM_C_MIRROR) as whole records in xbpool.sync calls, built once per loop
 * iteration before the store's commit: a full snapshot when the master has
 * no cursor for this daemon's life (epoch), else what changed after the
 * last sync (gen_modified) and the tombstones since; metrics objects wait
 * for the metrics interval unless a non-volatile field changed (their
 * dirty bit, seen before the commit clears it, makes them urgent).  At most
 * 4 calls unanswered.
 *
 * Master: applies a member's records to objects that member owns (owner =
 * its slot), with the checks of 4.3, and answers after its commit.  A full
 * snapshot marks what it applies (seen) and deletes the member's objects
 * left unmarked at its last call.
 */
#include "pool/mirror.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/host.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pool/chan.h"
#include "pool/master.h"
#include "pool/pool.h"
#include "pool/relay.h"
#include "rpc/json.h"

#define WINDOW 4                        /* syncs unanswered at most */
#define CHUNK (960u << 10)              /* a call ends past this: < 1 MiB */
#define QUOTA 50000                     /* objects a member owns here */

static int metrics_s = 60;              /* the master's, told in the hello */

/* "OpaqueRef:" and a uuid: what dm_new_ref makes, 46 bytes */
static int ref_ok(const char *r)
{
	return !strncmp(r, "OpaqueRef:", 10) && dm_uuid_valid(r + 10);
}

static const char *str(const struct xv *p, const char *k)
{
	const struct xv *v = xv_get(p, k);

	return v && v->type == XV_STRING ? v->u.s : "";
}

static int64_t num(const struct xv *p, const char *k)
{
	const struct xv *v = xv_get(p, k);

	return v && (v->type == XV_INT || v->type == XV_BOOL) ? v->type == XV_INT ? v->u.i : v->u.b
							       : 0;
}

static void kv_i(struct emit *e, const char *k, int64_t v)
{
	emit_member(e, k);
	emit_i64(e, v);
}

/* The field of k named n: records come in field order, so the one after
 * the last found is tried first (O(1) then, else O(fields)). */
static const struct dm_field *field(const struct dm_class *k, const char *n, int *next)
{
	const struct dm_field *f = *next < k->nfields && !strcmp(k->fields[*next].name, n)
					   ? &k->fields[*next] : dm_field_find(k, n);

	if (f)
		*next = f->idx + 1;
	return f;
}

/* rec's fields into o (owned by another host): the known ones, converted by
 * their type (dm_set ignores equal values); not the uuid, nor the inverse
 * sets, which this datamodel derives itself, nor a ref to an object of a
 * host but o's owner, unless a host (4.3 check 4): then 1 (the rest is
 * applied), else 0. */
static int fill(struct obj *o, const struct xv *rec)
{
	const struct dm_class *k = o->cls;
	int next = 0, bad = 0;
	const struct obj *t;

	for (size_t i = 0; i < rec->len; i++) {
		const struct dm_field *f = field(k, rec->u.m[i].name, &next);
		const struct xv *x = rec->u.m[i].v;
		struct dm_val v;

		if (!f || f->idx == k->f_uuid || f->inverse || (f->flags & DM_F_HIDDEN))
			continue;
		if (f->t->kind == DM_REF && x->type == XV_STRING && (t = dm_obj_by_ref(x->u.s)) &&
		    t->owner != o->owner && strcmp(t->cls->name, "host")) {
			bad = 1;
			continue;
		}
		if (api_val_from_wire(f->t, x, &v))
			continue;
		dm_set(o, f->idx, &v);
		dm_val_free(f->t, &v);
	}
	return bad;
}

/* A new object of owner n from ref and rec's uuid, or NULL (a bad ref, a
 * uuid missing or in use: 4.3 check 3). */
static struct obj *make(struct dm_class *k, const char *ref, const struct xv *rec, unsigned n)
{
	const char *u = str(rec, "uuid");

	if (!ref_ok(ref) || !dm_uuid_valid(u) || dm_obj_by_uuid(k, u))
		return NULL;
	return dm_obj_new_owned(k, ref, u, n);
}

/* ---- owners, for the store ---- */

static struct obj *link_obj(void)
{
	return dm_class_find("pool_link")->first;
}

static struct obj *member_obj(const struct mem *x)
{
	return dm_obj_by_uuid(dm_class_find("pool_member"), x->uuid);
}

/* The owner's host ref: a member's on the master, the master's on a
 * member ("?" for none: it names no host, so such rows are not loaded). */
const char *pool_owner_name(unsigned owner)
{
	struct mem *x = master_mem(owner);
	struct obj *o = x ? member_obj(x) : NULL, *l = link_obj();

	if (o)
		return dm_get_str(o, FLD(pool_member, host));
	return l ? dm_get_str(l, FLD(pool_link, master_host_ref)) : "?";
}

/* A member's objects load after its host (the store loads host before
 * the other mirrored classes): O(1) through the host's owner, O(members)
 * for the host itself. */
int pool_owner_number(const char *name)
{
	struct obj *h = dm_obj_by_ref(name), *l = link_obj();

	if (h && h->owner)
		return (int)h->owner;
	if (l && !strcmp(name, dm_get_str(l, FLD(pool_link, master_host_ref))))
		return 1;
	for (struct obj *o = dm_class_find("pool_member")->first; o; o = o->next)
		if (!strcmp(name, dm_get_str(o, FLD(pool_member, host))))
			return (int)master_mem_of(dm_get_str(o, o->cls->f_uuid))->slot;
	return -1;
}

/* ================= the member ================= */

static struct {
	struct chan *ch;                /* hello answered: sending */
	char epoch[37];                 /* a uuid per daemon start */
	char session[DM_REF_LEN];
	uint64_t from, mfrom, marked;   /* sent up to; metrics; dirty bits seen */
	int64_t next_tick;
	int out, full;
} s;

void mirror_hello(struct emit *e)
{
	struct obj *ss = dm_obj_new(dm_class_find("session"), NULL, NULL);

	if (!*s.epoch)
		dm_new_uuid(s.epoch);
	/* the master's forwarded calls run as the local superuser (5.2) */
	ss->transient = 1;
	dm_set_int(ss, OF(ss, session, is_local_superuser), 1);
	dm_set_str(ss, OF(ss, session, auth_user_name), "root");
	dm_set_str(ss, OF(ss, session, originator), "xenbox-pool");
	snprintf(s.session, sizeof(s.session), "%s", ss->ref);
	chan_kv(e, "host", api_this_host->ref);
	chan_kv(e, "epoch", s.epoch);
	chan_kv(e, "session", ss->ref);
}

/* The master's object {"ref", "record"} as an owner-1 copy of class cls. */
static struct obj *copy(const struct xv *v, const char *cls)
{
	struct dm_class *k = dm_class_find(cls);
	const struct xv *rec = xv_get(v, "record");
	const char *ref = str(v, "ref");
	struct obj *o = dm_obj_by_ref(ref);

	if (!rec || rec->type != XV_STRUCT || (o ? o->owner != 1 || o->cls != k
					       : !(o = make(k, ref, rec, 1))))
		return NULL;
	DM_FOREIGN(1);
	fill(o, rec);
	DM_FOREIGN(0);
	return o;
}

const char *mirror_welcome(struct chan *ch, const struct xv *res, struct obj *l)
{
	const struct xv *since = xv_get(res, "since");
	struct obj *p = copy(xv_get(res, "pool"), "pool"), *h = copy(xv_get(res, "master"), "host");
	int64_t mi = num(res, "metrics_interval");

	if (!p || !h)
		return NULL;
	dm_set_str(l, FLD(pool_link, pool_uuid), dm_get_str(p, p->cls->f_uuid));
	dm_set_str(l, FLD(pool_link, pool_ref), p->ref);
	dm_set_str(l, FLD(pool_link, master_host_ref), h->ref);
	if (api_pool != p) {            /* XAPI's members have their master's pool */
		if (!api_pool->owner)
			dm_obj_delete(api_pool);
		api_pool = p;
	}
	s.full = !since || strcmp(str(since, "epoch"), s.epoch);
	s.from = s.mfrom = s.full ? 0 : (uint64_t)num(since, "gen");
	metrics_s = mi >= 0 && mi <= 3600 ? (int)mi : 60;
	s.next_tick = s.out = 0;        /* the first sync brings metrics too */
	s.marked = dm_gen;
	s.ch = ch;
	return dm_get_str(p, p->cls->f_name_label);
}

uint64_t mirror_sent(void)
{
	return s.ch ? s.from : 0;
}

void mirror_synced(void)
{
	if (s.out)
		s.out--;
}

void mirror_offline(void)
{
	struct obj *o = dm_obj_by_ref(s.session);

	if (o)
		dm_obj_delete(o);
	s.session[0] = 0;
	s.ch = NULL;
}

void mirror_forget(void)
{
	int had = api_pool && api_pool->owner;

	DM_FOREIGN(1);
	for (size_t ci = 0; ci < dm_nclasses; ci++)
		for (struct obj *o = dm_classes[ci]->first, *n; o; o = n) {
			n = o->next;
			if (o->owner)
				dm_obj_delete(o);
		}
	DM_FOREIGN(0);
	if (had) {
		api_pool = dm_obj_new(dm_class_find("pool"), NULL, NULL);
		dm_set_str(api_pool, OF(api_pool, pool, master), api_this_host->ref);
	}
}

int mirror_due(const struct obj *o, int full, int tick, uint64_t from, uint64_t mfrom)
{
	if (full)
		return 1;
	if (o->cls->flags & DM_C_METRICS)
		return o->urgent || (tick && o->gen_modified > mfrom);
	return o->gen_modified > from;
}

static struct {
	uint64_t to, complete;
	int full;
} cur;                                  /* the sync being built */

/* o as {"class", "ref", "record"} after sep (class names and refs need
 * no JSON escapes: the records go through the emitter) */
static void put_obj(struct buf *b, const char *sep, const struct obj *o)
{
	struct emit e;

	buf_addf(b, "%s{\"class\":\"%s\",\"ref\":\"%s\",\"record\":", sep, o->cls->name, o->ref);
	json_emit_init(&e, b);
	api_emit_record(&e, o);
	buf_addc(b, '}');
}

static void sync_begin(struct buf *b)
{
	struct emit e;

	chan_call_begin(s.ch, b, &e, "xbpool.sync");
	buf_addf(b, "{\"epoch\":\"%s\",\"to\":%llu,\"complete\":%llu,\"full\":%s,\"objects\":[",
		 s.epoch, (unsigned long long)cur.to, (unsigned long long)cur.complete,
		 cur.full ? "true" : "false");
}

/* End the call and send it; 0, or -1 when the channel went (write error) */
static int sync_end(struct buf *b, int last)
{
	buf_addf(b, "],\"last\":%s}", last ? "true" : "false");
	s.out++;
	chan_call_end(s.ch, b);
	return s.ch ? 0 : -1;
}

/* One iteration's sync (4.3).  O(owned objects of the mirrored classes)
 * when anything changed. */
static void build(int64_t now)
{
	int tick = now >= s.next_tick, lost, n = 0;
	const struct dm_tomb *t;
	size_t nt = dm_tombs_since(s.from, &t, &lost);
	struct buf b = BUF_INIT;

	if (lost)
		s.full = 1;             /* deletions forgotten: everything */
	if (s.full)
		tick = 1, nt = 0;
	if (!s.full && dm_gen == s.from && !tick)
		return;
	cur.full = s.full;
	cur.to = dm_gen;
	cur.complete = tick ? cur.to : s.mfrom;
	sync_begin(&b);
	for (size_t ci = 0; ci < dm_nclasses; ci++) {
		const struct dm_class *k = dm_classes[ci];

		if (!(k->flags & DM_C_MIRROR))
			continue;
		for (struct obj *o = k->first; o; o = o->next) {
			if (o->owner || !mirror_due(o, s.full, tick, s.from, s.mfrom))
				continue;
			o->urgent = 0;
			if (b.len > CHUNK) {
				if (sync_end(&b, 0))
					goto out;
				sync_begin(&b);
				n = 0;
			}
			put_obj(&b, n++ ? "," : "", o);
		}
	}
	buf_adds(&b, "],\"deleted\":[");
	for (size_t i = 0; i < nt; i++) {
		if (!(t[i].cls->flags & DM_C_MIRROR))
			continue;
		buf_addf(&b, "%s{\"class\":\"%s\",\"ref\":\"%s\"}", b.data[b.len - 1] == '[' ? "" : ",",
			 t[i].cls->name, t[i].ref);
		n++;
	}
	if ((n || s.full) && sync_end(&b, 1))
		goto out;
	s.from = cur.to;
	s.full = 0;
	if (tick) {
		s.mfrom = cur.to;
		s.next_tick = now + metrics_s * 1000;
	}
out:
	buf_free(&b);
}

int64_t pool_mirror_tick(int64_t now)
{
	struct obj *ss;

	if (!s.ch)
		return -1;
	/* metrics with a non-volatile change go at once: their dirty bit
	 * says so until this iteration's commit clears it */
	if (s.marked != dm_gen) {
		for (size_t ci = 0; ci < dm_nclasses; ci++)
			if (dm_classes[ci]->flags & DM_C_METRICS)
				for (struct obj *o = dm_classes[ci]->first; o; o = o->next)
					if (!o->owner && o->dirty && o->gen_modified > s.marked)
						o->urgent = 1;
		s.marked = dm_gen;
	}
	if (s.out < WINDOW)
		build(now);
	/* the channel's session is in use while the channel is (not GC'd) */
	if ((ss = dm_obj_by_ref(s.session)))
		dm_fw(ss, OF(ss, session, last_active))->u.i = now_wall();
	return s.ch && s.next_tick > now ? s.next_tick - now : -1;
}

/* ================= the master ================= */

static struct held {
	struct held *next;
	struct mem *x;
	struct chan *ch;
	uint64_t gen;
	struct buf b;
} *held, **held_tail = &held;

/* 0 when owner n's host is down: its allowed_operations read [] */
static int owner_up(unsigned n)
{
	struct mem *x = master_mem(n);

	return !x || x->up;
}

void mirror_master_init(int metrics_interval)
{
	metrics_s = metrics_interval;
	api_owner_up = owner_up;
}

enum { UNMARK, SWEEP, TOUCH };

/* Over x's objects, O(objects): UNMARK them and count them; SWEEP (delete)
 * the unmarked, but its host, and unmark the rest; TOUCH them (events),
 * with the host_metrics.live of x->up. */
static void each(struct mem *x, int op)
{
	const struct dm_class *hk = dm_class_find("host"), *hm = dm_class_find("host_metrics");

	for (size_t ci = 0; ci < dm_nclasses; ci++)
		for (struct obj *o = dm_classes[ci]->first, *n; o; o = n) {
			n = o->next;
			if (o->owner != x->slot)
				continue;
			if (op == TOUCH) {
				if (o->cls == hm)
					dm_set_int(o, FLD(host_metrics, live), x->up);
				dm_touch(o);
			} else if (op == SWEEP && !o->seen && o->cls != hk) {
				dm_obj_delete(o);
				x->nobj--;
			} else {
				o->seen = 0;
				x->nobj += op == UNMARK;
			}
		}
}

void mirror_live(struct mem *x, int up)
{
	if (x->up != up) {
		x->up = up;
		DM_FOREIGN(1);
		each(x, TOUCH);
		DM_FOREIGN(0);
	}
}

int mirror_hello_reply(struct mem *x, const struct xv *params, struct emit *e, int dead_after)
{
	const struct xv *p = params->len ? params->u.a[0] : params;
	struct obj *m = member_obj(x), *h;
	const char *ref = str(p, "host"), *had = m ? dm_get_str(m, FLD(pool_member, host)) : "";
	struct buf *b = e->out;

	/* the host it says it is: its pool_member's, or, at its first hello,
	 * a host ref no other host has */
	if (!m || strcmp(str(p, "host_uuid"), dm_get_str(m, FLD(pool_member, host_uuid))) ||
	    !ref_ok(ref) || (ref_ok(had) ? strcmp(ref, had)
			      : (h = dm_obj_by_ref(ref)) && h->owner != x->slot))
		return -1;
	dm_set_str(m, FLD(pool_member, host), ref);
	if (strcmp(str(p, "epoch"), x->epoch))
		x->epoch[0] = 0;        /* another life of the member: no cursor */
	x->snap = 0;
	put_obj(b, "{\"pool\":", api_pool);
	put_obj(b, ",\"master\":", api_this_host);
	if (*x->epoch)
		buf_addf(b, ",\"since\":{\"epoch\":\"%s\",\"gen\":%llu}", x->epoch,
			 (unsigned long long)x->since);
	buf_addf(b, ",\"dead_after\":%d,\"metrics_interval\":%d}", dead_after, metrics_s);
	return 0;
}

/* One object of x's sync: NULL, or why it is rejected (4.3's checks). */
static const char *apply_obj(struct mem *x, const struct xv *it, int full)
{
	struct dm_class *k = dm_class_find(str(it, "class"));
	const struct xv *rec = xv_get(it, "record");
	const char *ref = str(it, "ref");
	struct obj *o = dm_obj_by_ref(ref), *m;
	int fresh = !o;

	if (!k || !(k->flags & DM_C_MIRROR) || !rec || rec->type != XV_STRUCT)
		return "class not mirrored";
	if (o && (o->owner != x->slot || o->cls != k))
		return "another host's ref";
	if (!strcmp(k->name, "host") && (!(m = member_obj(x)) ||
					  strcmp(ref, dm_get_str(m, FLD(pool_member, host)))))
		return "not its host";
	if (!o) {
		if (x->nobj >= QUOTA)
			return "quota";
		if (!(o = make(k, ref, rec, x->slot)))
			return "bad ref or uuid";
		x->nobj++;
	}
	o->seen |= full & 1;
	full = fill(o, rec);
	if (!strcmp(k->name, "host_metrics"))
		dm_set_int(o, FLD(host_metrics, live), x->up);      /* the master's (8) */
	else if (!strcmp(k->name, "host") || !strcmp(k->name, "console"))
		relay_publish(o, fresh);                        /* 7.2, 7.4 */
	return full ? "a ref to another host's object" : NULL;
}

void mirror_apply(struct mem *x, const struct xv *p, struct emit *e)
{
	const struct xv *objs = xv_get(p, "objects"), *del = xv_get(p, "deleted");
	const char *why, *first = NULL, *ep = str(p, "epoch");
	int full = num(p, "full") != 0, last = num(p, "last") != 0;
	unsigned bad = 0;

	DM_FOREIGN(1);
	if (full && !x->snap) {         /* marks of an interrupted one go */
		x->nobj = 0;            /* and its count (a master restart's first) */
		each(x, UNMARK);
		x->snap = 1;
	}
	emit_struct_begin(e);
	emit_member(e, "rejected");
	emit_array_begin(e);
	for (size_t i = 0; objs && objs->type == XV_ARRAY && i < objs->len; i++)
		if ((why = apply_obj(x, objs->u.a[i], full))) {
			emit_struct_begin(e);
			chan_kv(e, "ref", str(objs->u.a[i], "ref"));
			chan_kv(e, "why", why);
			emit_struct_end(e);
			if (!bad++)
				first = why;
		}
	emit_array_end(e);
	/* deletions of its own objects (not of its host) */
	for (size_t i = 0; del && del->type == XV_ARRAY && i < del->len; i++) {
		struct obj *o = dm_obj_by_ref(str(del->u.a[i], "ref"));

		if (o && o->owner == x->slot && strcmp(o->cls->name, "host")) {
			dm_obj_delete(o);
			x->nobj--;
		}
	}
	if (full && last) {             /* what it no longer has */
		each(x, SWEEP);
		x->snap = 0;
		snprintf(x->epoch, sizeof(x->epoch), "%s", dm_uuid_valid(ep) ? ep : "");
	}
	DM_FOREIGN(0);
	if (!strcmp(ep, x->epoch) && (!full || last))
		x->since = (uint64_t)num(p, "complete");
	kv_i(e, "gen", (int64_t)x->since);
	emit_struct_end(e);
	if (bad) {
		struct obj *m = member_obj(x);

		log_warn("XENBOX-POOL member %s: %u objects rejected: %s", x->uuid, bad, first);
		api_message_create("POOL_SYNC_REJECTED", 3, "Host",
				   m ? dm_get_str(m, FLD(pool_member, host_uuid)) : "", first);
	}
}

void mirror_sync(struct mem *x, const struct rpc_call *rc)
{
	struct held *h = xcalloc(1, sizeof(*h));
	struct emit e;

	h->x = x;
	h->ch = x->ch;
	h->gen = dm_gen;
	jsonrpc_result_begin(&h->b, rc);
	json_emit_init(&e, &h->b);
	mirror_apply(x, rc->params->len ? rc->params->u.a[0] : rc->params, &e);
	jsonrpc_result_end(&h->b, rc);
	*held_tail = h;
	held_tail = &h->next;
}

/* After the commit: the answers whose changes are saved, in order (to a
 * channel since replaced: dropped).  saved NULL: drop them all (exit). */
void pool_mirror_flush(int (*saved)(uint64_t gen))
{
	struct held *h;

	while ((h = held) && (!saved || saved(h->gen))) {
		if (!(held = h->next))
			held_tail = &held;
		if (saved && h->x->ch && h->x->ch == h->ch)
			chan_send(h->ch, &h->b);
		buf_free(&h->b);
		free(h);
	}
}
