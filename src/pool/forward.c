/* Forwarding (docs/POOL.md 5; pool/forward.h): the rules of 5.1, the
 * master's waiting calls and the conversion of their answers, the
 * member's side that runs them. */
#include "pool/forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pool/chan.h"
#include "pool/master.h"
#include "pool/member.h"
#include "pool/mirror.h"
#include "pool/pool.h"
#include "pool/relay.h"
#include "rpc/json.h"

#define FWD_TIMEOUT_MS (3600 * 1000)    /* XO's call timeout (5.4) */
#define EJECT ((const struct dm_msg *)2)

/* ---- 5.1: where a call runs ---- */

enum { HERE, SELF, FIELD, GEN = 4, MINE = 8 };

/* First match wins.  cls or msg "": any; a msg ending in '_' is a prefix.
 * GEN: only the derived accessors (host.get_servertime is a message of
 * its own and runs on the host's owner).  SELF: the owner of the object
 * params[1] names; FIELD: of the one the record's field names.  MINE:
 * here, although it names another host's object. */
static const struct rule {
	char cls[8], msg[8], field[9];
	unsigned char how;
} rules[] = {
	{ "session", "", "", HERE },
	{ "event", "", "", HERE },
	{ "task", "", "", HERE },
	{ "pool", "eject", "", SELF },
	{ "pool", "", "", HERE },
	{ "message", "create", "", HERE },
	{ "host", "destroy", "", HERE | MINE }, /* the master forgets an offline member */
	{ "VDI", "create", "SR", FIELD },
	{ "VBD", "create", "VM", FIELD },
	{ "VIF", "create", "VM", FIELD },
	{ "VM", "create", "affinity", FIELD },
	{ "", "create", "", HERE },
	{ "", "get_", "", HERE | GEN },         /* get_*, get_all*, get_by_*, get_record */
	{ "", "", "", SELF },                   /* set_, add_, remove_, destroy, the rest */
};

static int match(const char *pat, const char *s)
{
	size_t n = strlen(pat);

	return !n || (pat[n - 1] == '_' ? !strncmp(pat, s, n) : !strcmp(pat, s));
}

static struct obj *named(const struct xv *x)
{
	return x && x->type == XV_STRING ? dm_obj_by_ref(x->u.s) : NULL;
}

/* The member's host (mirrored: its ref is in pool_member), or NULL.  O(1). */
struct obj *fwd_host(unsigned slot)
{
	struct mem *x = master_mem(slot);
	struct obj *m = x ? dm_obj_by_uuid(dm_class_find("pool_member"), x->uuid) : NULL;

	return m ? dm_obj_by_ref(dm_get_str(m, FLD(pool_member, host))) : NULL;
}

static const char *ref_of(const struct obj *o)
{
	return o ? o->ref : "OpaqueRef:NULL";
}

int fwd_route(struct call *c, const struct dm_class *k, const char *msg, struct obj **to)
{
	const struct rule *r = rules;
	const struct xv *p = c->params;
	struct obj *o = NULL, *h;

	while (!match(r->cls, k->name) || !match(r->msg, msg) ||
	       ((r->how & GEN) && dm_msg_find(k, msg)))
		r++;
	if (r->how == SELF && p->len > 1)
		o = named(p->u.a[1]);
	else if (r->how == FIELD && p->len > 1)
		o = named(xv_get(p->u.a[1], r->field));
	*to = o && o->owner ? o : NULL;
	if (r->how & MINE)
		return 1;
	if (*to && !strcmp(k->name, "VM") && !strcmp(msg, "start_on") &&
	    (!(h = named(p->len > 2 ? p->u.a[2] : NULL)) || h->owner != o->owner)) {
		/* VM hand-over is stage 11 */
		char why[160];

		h = fwd_host(o->owner);
		snprintf(why, sizeof(why),
			 "VM %s lives on host %s; moving VMs between hosts is not supported yet",
			 dm_get_str(o, o->cls->f_uuid), h ? dm_get_str(h, h->cls->f_uuid) : "?");
		return api_fail(c, "OPERATION_NOT_ALLOWED", why, NULL);
	}
	return 0;
}

/* ---- the master: waiting calls ---- */

struct pend {
	struct pend *next;
	struct call *c;                 /* NULL: its client went away */
	struct chan *ch;
	unsigned id;                    /* "m<id>" on ch */
	unsigned slot;
	int eject;                      /* pool.eject: done, the master forgets it */
	int http;                       /* a relayed GET (pool/relay.c) */
	int64_t deadline;
	const struct dm_msg *m;         /* NULL: a derived accessor */
};
static struct pend *pends;

static struct pend *take(struct pend *p)
{
	struct pend **pp = &pends;

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	return p;
}

/* The answer into c (5.2 step 4): a result converted by the message's
 * result type, so that the client gets its own wire's style; an error as
 * the member gave it. */
static void convert(struct call *c, const struct dm_msg *m, const struct xv *v)
{
	const struct xv *res = xv_get(v, "result"), *err = xv_get(v, "error"), *d;
	const struct dm_type *t = m ? m->rt : NULL;
	struct dm_val dv;

	if (err && err->type == XV_STRUCT) {
		const struct xv *code = xv_get(err, "message");

		d = xv_get(err, "data");
		c->nerr = 0;
		c->err[c->nerr++] = arena_strdup(c->a, code && code->type == XV_STRING ? code->u.s
								       : "INTERNAL_ERROR");
		for (size_t i = 0; d && d->type == XV_ARRAY && i < d->len && c->nerr < API_MAX_ERR;
		     i++)
			c->err[c->nerr++] = arena_strdup(c->a, d->u.a[i]->type == XV_STRING
							 ? d->u.a[i]->u.s : "");
	} else if (res && t && !api_val_from_wire(t, res, &dv)) {
		api_emit_val(c->e, t, &dv);
		dm_val_free(t, &dv);
	} else if (res && !t && res->type == XV_STRING) {
		/* void, a ref (create), or a DM_M_RAW message's text (the one
		 * such forwarded, host.get_server_localtime, is a string) */
		emit_strn(c->e, res->u.s, res->len);
	} else {
		api_fail(c, "INTERNAL_ERROR", "a bad answer from the member", NULL);
	}
}

/* Finish p's call (unless its client went away) with v's answer, or with
 * code [the member's host].  p is freed.  Not inlined: two callers, and
 * the conversion is most of it. */
static __attribute__((noinline)) void finish(struct pend *p, const struct xv *v, const char *code)
{
	struct call *c = take(p)->c;

	if (p->eject && v && xv_get(v, "result") && master_mem(p->slot))
		fwd_forget(master_mem(p->slot), 0, "ejected");     /* 3.7 */
	if (c && p->http)
		relay_answer(c, v);
	else if (c && v)
		convert(c, p->m, v);
	else if (c)
		api_fail(c, code, ref_of(fwd_host(p->slot)), NULL);
	free(p);
	if (c)
		c->complete(c);
}

void fwd_answer(struct chan *ch, const struct xv *v)
{
	const struct xv *id = xv_get(v, "id");
	char *end;
	unsigned long n;
	struct pend *p;

	if (!id || id->type != XV_STRING || id->u.s[0] != 'm')
		return;
	n = strtoul(id->u.s + 1, &end, 10);
	for (p = pends; p; p = p->next)
		if (p->ch == ch && p->id == n && !*end) {
			finish(p, v, NULL);
			return;
		}
}

/* Fail the calls waiting on ch, or (ch NULL) those past their deadline.
 * O(waiting): finishing one may start or finish others, so each finish
 * starts over from the head. */
static void fail(struct chan *ch, int64_t now)
{
	struct pend *p = pends;

	while (p)
		if (ch ? p->ch == ch : now >= p->deadline) {
			finish(p, NULL, "CANNOT_CONTACT_HOST");
			p = pends;
		} else {
			p = p->next;
		}
}

void fwd_gone(struct chan *ch)
{
	fail(ch, 0);
}

void fwd_tick(int64_t now)
{
	fail(NULL, now);
}

static void cancel(struct call *c)
{
	for (struct pend *p = pends; p; p = p->next)
		if (p->c == c)
			p->c = NULL;    /* the member's answer is dropped */
	member_cancel(c);       /* or it was this host's pool.join */
}

/* The API's route hook (5.1 to 5.5). */
static int route(struct call *c, const struct dm_class *k, const char *msg)
{
	struct obj *o, *t;
	struct mem *x;
	struct buf b = BUF_INIT;
	struct emit e;
	const char *href, *name = c->method + (strncmp(c->method, "Async.", 6) ? 0 : 6);
	int r;

	if (!master_mem(1))
		return 0;       /* no members: the common case */
	if ((r = fwd_route(c, k, msg, &o)))
		return r < 0 ? -1 : 2;
	if (!o)
		return 0;
	x = master_mem(o->owner);
	href = ref_of(fwd_host(o->owner));
	/* x->up: its host_metrics.live (XAPI's check_live) */
	if (!x || !x->up || !x->ch || x->ch->closing || !*x->session)
		return api_fail(c, x && x->up ? "CANNOT_CONTACT_HOST" : "HOST_OFFLINE", href, NULL);
	chan_call_begin(x->ch, &b, &e, name);
	if (json_emit_params(&e, x->session, c->params)) {
		buf_free(&b);
		return api_fail(c, "FIELD_TYPE_ERROR", "params", NULL);
	}
	/* Async.*: the task is the master's, resident on the member (5.5) */
	if (c->task && (t = dm_obj_by_ref_cls(dm_class_find("task"), c->task)))
		dm_set_str(t, FLD(task, resident_on), href);
	fwd_wait(c, x, &b, FWD_TIMEOUT_MS, !strcmp(name, "pool.eject") ? EJECT : dm_msg_find(k, msg));
	return 1;
}

void fwd_wait(struct call *c, struct mem *x, struct buf *b, int64_t ms, const struct dm_msg *m)
{
	struct pend *p = xcalloc(1, sizeof(*p));

	p->c = c;
	p->ch = x->ch;
	p->id = x->ch->ids + 1;
	p->slot = x->slot;
	p->http = m == FWD_HTTP;
	p->eject = m == EJECT;
	p->m = p->http || p->eject ? NULL : m;
	p->deadline = now_ms() + ms;
	p->next = pends;
	pends = p;
	/* last: a failed write closes the channel, which fails p at once */
	chan_call_end(x->ch, b);
	buf_free(b);
}

/* ---- leaving (3.7) ---- */

void fwd_forget(struct mem *x, int revoke, const char *why)
{
	struct obj *pm = dm_obj_by_uuid(dm_class_find("pool_member"), x->uuid), *o, *next;

	if (why)        /* NULL: the caller said it (a goodbye's "left the pool") */
		log_warn("XENBOX-POOL member %s %s",
			 pm ? dm_get_str(pm, FLD(pool_member, host_uuid)) : "", why);
	DM_FOREIGN(1);
	for (size_t i = 0; i < dm_nclasses; i++)
		for (o = dm_classes[i]->first; o; o = next) {
			next = o->next;
			if (o->owner == x->slot)
				dm_obj_delete(o);
		}
	DM_FOREIGN(0);
	if (pm && revoke)
		dm_set_str(pm, FLD(pool_member, state), "revoked");
	else if (pm)
		dm_obj_delete(pm);
	x->live = x->up = 0;
	*x->session = 0;
	if (x->ch)
		chan_close(x->ch, revoke ? 4003 : 1000, revoke ? "revoked" : "ejected");
}

static void mcall_done(struct call *c);

/* pool.eject(host): on the master, a member's host went to that member
 * (5.1); here it is this host.  On a member, the master's call: it
 * becomes standalone, guests untouched, and closes the channel once its
 * answer is written. */
HANDLER(api_pool_eject)
{
	struct obj *h = api_obj(c, "host", args[0].u.s);

	(void)res;
	if (!h)
		return -1;
	if (h != api_this_host || c->complete != mcall_done || !member_eject())
		return api_fail(c, "OPERATION_NOT_ALLOWED", "not a pool member", NULL);
	return 0;
}

/* host.destroy(host), XAPI's call for a dead host (3.7): the master
 * forgets the offline member and bars its certificate. */
HANDLER(api_host_destroy)
{
	struct obj *h = api_obj(c, "host", args[0].u.s);
	struct mem *x;

	(void)res;
	if (!h)
		return -1;
	if (h == api_this_host)
		return api_fail(c, "HOST_CANNOT_DESTROY_SELF", h->ref, NULL);
	if (!(x = master_mem(h->owner)))
		return api_fail(c, "OPERATION_NOT_ALLOWED", "not a pool member", NULL);
	if (x->up)
		return api_fail(c, "HOST_IS_LIVE", h->ref, NULL);
	fwd_forget(x, 1, "destroyed");
	return 0;
}

void fwd_master_init(void)
{
	api_set_route_hook(route, cancel);
}

void fwd_dispose(void)
{
	struct pend *p;

	while ((p = pends)) {
		pends = p->next;
		free(p);
	}
}

/* ---- the member: the master's calls ---- */

struct mcall {
	struct call c;
	struct mcall *next;
	struct arena a;
	struct buf out, reply;
	struct emit e;
	struct rpc_call rc;
	uint64_t gen0, gen1;            /* dm_gen when it began, completed */
	int done;
	int leave;                      /* pool.eject: close once answered */
};
static struct mcall *mcalls;            /* newest first */
static struct chan *mch;                /* the channel they came on */

static void mcall_free(struct mcall *mc)
{
	struct mcall **pp = &mcalls;

	while (*pp != mc)
		pp = &(*pp)->next;
	*pp = mc->next;
	arena_free(&mc->a);
	buf_free(&mc->out);
	buf_free(&mc->reply);
	free(mc);
}

/* The call completed: its JSON-RPC answer waits for fwd_release. */
static void mcall_done(struct call *c)
{
	struct mcall *mc = (struct mcall *)c;

	if (c->nerr) {
		jsonrpc_error(&mc->reply, &mc->rc, c->err, (size_t)c->nerr);
	} else {
		jsonrpc_result_begin(&mc->reply, &mc->rc);
		buf_add(&mc->reply, mc->out.data, mc->out.len);
		jsonrpc_result_end(&mc->reply, &mc->rc);
	}
	mc->gen1 = dm_gen;
	mc->done = 1;
	mc->leave = !c->nerr && !strcmp(c->method, "pool.eject");
}

int fwd_run(struct chan *ch, const char *s, size_t n)
{
	struct mcall *mc = xcalloc(1, sizeof(*mc));
	const char *err;

	arena_init(&mc->a, 16u << 20);
	if (jsonrpc_parse_call(&mc->a, s, n, &mc->rc, &err)) {
		arena_free(&mc->a);
		free(mc);
		return -1;
	}
	if (!strcmp(mc->rc.method, "xbpool.http_get")) {
		relay_serve(ch, &mc->rc);       /* a read: answered at once */
		arena_free(&mc->a);
		free(mc);
		return 0;
	}
	mch = ch;
	json_emit_init(&mc->e, &mc->out);
	mc->c.a = &mc->a;
	mc->c.e = &mc->e;
	mc->c.out = &mc->out;
	mc->c.method = mc->rc.method;
	mc->c.params = mc->rc.params;
	mc->c.peer = ch->peer;
	mc->c.complete = mcall_done;
	mc->c.conn = mc;
	mc->gen0 = dm_gen;
	mc->next = mcalls;
	mcalls = mc;
	log_debug("pool: %s from the master", mc->rc.method);
	api_dispatch(&mc->c);
	return 0;
}

/* Whether mc's answer may go now (5.3): it changed nothing, or every
 * change made since its call began is on disk (the daemon's rule) and the
 * syncs sent cover mc->gen1, the generation at which it completed (the
 * master applies them before it reads the answer: one ordered stream).
 * Flow control may hold syncs back; the answer then waits with them. */
static int may_answer(const struct mcall *mc, int (*saved_since)(uint64_t gen), uint64_t sent)
{
	return mc->gen1 == mc->gen0 || (saved_since(mc->gen0) && sent >= mc->gen1);
}

void pool_forward_release(int (*saved_since)(uint64_t gen))
{
	fwd_release(saved_since, mirror_sent());
}

void fwd_release(int (*saved_since)(uint64_t gen), uint64_t sent)
{
	struct mcall *mc = mcalls, *next;

	/* O(calls running); a send that fails closes the channel, which
	 * frees them all (fwd_closed): then stop */
	for (; mc && mch; mc = next) {
		next = mc->next;
		if (!mc->done || !may_answer(mc, saved_since, sent))
			continue;
		chan_send(mch, &mc->reply);
		if (mch && mc->leave) {
			member_ejected_close(); /* the rest go with the channel */
			break;
		}
		if (mch)
			mcall_free(mc);
	}
}

void fwd_closed(void)
{
	struct mcall *mc;

	mch = NULL;
	while ((mc = mcalls)) {
		if (!mc->done)
			api_cancel(&mc->c);     /* it goes on, nobody is answered */
		mcall_free(mc);
	}
}
