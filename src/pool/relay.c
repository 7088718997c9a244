/* The stats relay (docs/POOL.md 7; pool/relay.h): the master's route by
 * Host:, its xbpool.http_get down a member's channel and the answer back
 * to the client; the member's side; the addresses the master publishes
 * for its members. */
#include "pool/relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "http/http.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pool/chan.h"
#include "pool/forward.h"
#include "pool/master.h"
#include "rpc/codec.h"
#include "rpc/json.h"
#include "server/server.h"

/* ---- pure ---- */

static int uuid_like(const char *s)
{
	for (int i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
		    : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int relay_host(const char *host, const char *domain, char uuid[37])
{
	size_t n, d = domain ? strlen(domain) : 0;

	if (!host || !d)
		return -1;
	n = strcspn(host, ":");
	if (n && host[n - 1] == '.')
		n--;
	if (n < d + 2 || host[n - d - 1] != '.' || strncasecmp(host + n - d, domain, d))
		return -1;
	n -= d + 1;
	*uuid = 0;
	if (n == 36) {
		for (int i = 0; i < 36; i++)
			uuid[i] = (char)(host[i] >= 'A' && host[i] <= 'F' ? host[i] + 32 : host[i]);
		uuid[36] = 0;
		if (!uuid_like(uuid))
			*uuid = 0;
	}
	return 0;
}

void relay_query(const char *query, char *out)
{
	char *o = out;

	while (*query) {
		size_t n = strcspn(query, "&");

		if (n && strncmp(query, "session_id=", 11) && strncmp(query, "task_id=", 8)) {
			if (o != out)
				*o++ = '&';
			memcpy(o, query, n);
			o += n;
		}
		query += n + (query[n] == '&');
	}
	*o = 0;
}

/* ---- the master ---- */

static char *domain;            /* NULL: no relay */
#define NAME_UNREACHABLE "POOL_MEMBER_STATS_UNREACHABLE"
static const char *const paths[] = {
	"/rrd_updates", "/host_rrd", "/vm_rrd", "/metrics", "/console_log",
};

static int relayed_path(const char *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (!strcmp(p, paths[i]))
			return 1;
	return 0;
}

/* The member's host that req names, or NULL with *who the name asked
 * for: by Host: under the domain (-1 when it is not), else the owner of
 * /vm_rrd's VM (a member's VM asked of the master by its own name, as
 * XAPI would redirect it to the VM's host). */
static int target(struct arena *a, const struct http_req *req, struct obj **h, char who[40])
{
	struct obj *o;
	const char *u;

	*h = NULL;
	if (relay_host(req->host, domain, who) == 0) {
		if (*who)
			*h = dm_obj_by_uuid(dm_class_find("host"), who);
		if (*h == api_this_host)
			return -1;      /* this host, by its relay name */
		return relayed_path(req->path) ? 0 : 403;
	}
	if (!strcmp(req->path, "/vm_rrd") && (u = http_query_get(a, req->query, "uuid")) &&
	    (o = dm_obj_by_uuid(dm_class_find("VM"), u)) && o->owner) {
		*h = fwd_host(o->owner);
		snprintf(who, 40, "%s", *h ? dm_get_str(*h, (*h)->cls->f_uuid) : "?");
		return 0;
	}
	return -1;
}

static int text(struct relay_res *r, int status, const char *fmt, const char *arg)
{
	buf_addf(&r->body, fmt, arg);
	snprintf(r->ctype, sizeof(r->ctype), "text/plain");
	return status;
}

static int relay_get(struct arena *a, const struct http_req *req, struct call *c,
		     struct relay_res *r)
{
	struct obj *h;
	struct mem *x;
	struct buf b = BUF_INIT;
	struct emit e;
	char who[40], *q;
	int st = target(a, req, &h, who);

	if (st || !c)
		return st;
	if (!h || !h->owner || !(x = master_mem(h->owner)))
		return text(r, 404, "no host %s in this pool\n", *who ? who : "of that name");
	if (!x->up || !x->ch || x->ch->closing || !*x->session)
		return text(r, 503, "host %s is not connected to the master\n", who);
	if (!(q = arena_alloc(a, strlen(req->query) + 1)))
		return 500;
	relay_query(req->query, q);
	chan_call_begin(x->ch, &b, &e, "xbpool.http_get");
	emit_str(&e, x->session);
	emit_str(&e, req->path);
	emit_str(&e, q);
	emit_str(&e, req->accept ? req->accept : "");
	fwd_wait(c, x, &b, RELAY_TIMEOUT_MS, FWD_HTTP);
	return 1;
}

void relay_answer(struct call *c, const struct xv *v)
{
	struct relay_res *r = c->conn;
	const struct xv *res = v ? xv_get(v, "result") : NULL;
	const struct xv *st = xv_get(res, "status"), *ty = xv_get(res, "type"),
			*body = xv_get(res, "body");

	if (!v) {
		r->status = text(r, 503, "%s", "the host did not answer: its connection to the "
				 "master closed, or it took longer than 60 s\n");
		return;
	}
	if (!st || st->type != XV_INT || st->u.i < 200 || st->u.i > 599 || !ty ||
	    ty->type != XV_STRING || !body || body->type != XV_STRING) {
		r->status = text(r, 502, "%s", "a bad answer from the host\n");
		return;
	}
	r->status = (int)st->u.i;
	/* a header's value: printable ASCII only */
	for (size_t i = 0; i < ty->len && i + 1 < sizeof(r->ctype); i++)
		r->ctype[i] = ty->u.s[i] >= ' ' && ty->u.s[i] < 127 ? ty->u.s[i] : ' ';
	buf_add(&r->body, body->u.s, body->len);
}

void relay_master_init(const char *d)
{
	free(domain);
	domain = NULL;
	if (d && *d) {
		domain = xstrdup(d);
		size_t n;

		for (char *p = domain; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		n = strlen(domain);

		if (domain[n - 1] == '.')
			domain[n - 1] = 0;
	}
	server_pool_relay = relay_get;
}

/* 7.5: one message for the pool, not one per member (1000 of them at
 * 1000 members): made at the first member without a relay name, its body
 * and time updated at the next ones; one warning per daemon life.
 * O(hosts + messages) per new member. */
static void unreachable(void)
{
	static char ref[DM_REF_LEN];
	static int warned;
	const struct dm_class *mk = dm_class_find("message");
	struct obj *m = dm_obj_by_ref_cls(mk, ref);
	size_t n = 0;
	char body[200];

	for (const struct obj *h = dm_class_find("host")->first; h; h = h->next)
		n += h->owner != 0;
	for (struct obj *o = mk->first; o && !m; o = o->next)
		if (!o->owner && !strcmp(dm_get_str(o, FLD(message, name)), NAME_UNREACHABLE))
			m = o;  /* an earlier life's */
	snprintf(body, sizeof(body), "Clients reach the stats of the pool's %zu member%s only "
		 "through the master, which has no pool_relay_domain: set it (docs/POOL.md 7.2)",
		 n, n == 1 ? "" : "s");
	if (!warned++)
		log_warn("XENBOX-POOL no pool_relay_domain, so clients that cannot reach the "
			 "members see no stats of them (one %s message says so)", NAME_UNREACHABLE);
	if (!m)
		m = api_message_create(NAME_UNREACHABLE, 3, "Pool",
				       dm_get_str(api_pool, api_pool->cls->f_uuid), body);
	else if (strcmp(body, dm_get_str(m, FLD(message, body)))) {
		dm_set_str(m, FLD(message, body), body);
		dm_set_int(m, FLD(message, timestamp), now_wall());
	}
	snprintf(ref, sizeof(ref), "%s", m->ref);
}

void relay_publish(struct obj *o, int fresh)
{
	struct obj *h = fwd_host(o->owner);
	const char *u = h ? dm_get_str(h, h->cls->f_uuid) : NULL;
	char name[160];

	if (!u)
		return;
	if (o->cls == dm_class_find("host")) {
		if (domain) {
			snprintf(name, sizeof(name), "%s.%s", u, domain);
			dm_set_str(o, FLD(host, address), name);
			return;
		}
		/* 7.2's fallback: never the member's own (private) address */
		dm_set_str(o, FLD(host, address), dm_get_str(api_this_host, FLD(host, address)));
		if (fresh)
			unreachable();
	} else if (domain && o->cls == dm_class_find("console")) {
		const char *loc = dm_get_str(o, FLD(console, location)), *p = strstr(loc, "://");

		/* "/console?ref=..." (or a URL): its host part is the relay name */
		p = p ? p + 3 + strcspn(p + 3, "/") : loc;
		snprintf(name, sizeof(name), "https://%s.%s%s", u, domain, p);
		if (strcmp(name, loc))
			dm_set_str(o, FLD(console, location), name);
	}
}

/* ---- the member ---- */

static const char *param(const struct rpc_call *rc, size_t i)
{
	const struct xv *p = rc->params;

	return p->type == XV_ARRAY && i < p->len && p->u.a[i]->type == XV_STRING
		? p->u.a[i]->u.s : "";
}

/* b's invalid UTF-8 bytes become '?' (JSON carries text; only a guest's
 * /console_log has such bytes).  O(n). */
static void utf8_clean(struct buf *b)
{
	unsigned char *p = (unsigned char *)b->data, *end = p + b->len;
	uint32_t cp;
	size_t n;

	while (p && p < end)
		if ((n = utf8_decode(p, end, &cp)))
			p += n;
		else
			*p++ = '?';
}

static void answer(const struct rpc_call *rc, int status, const char *type,
		   const struct buf *body, struct buf *out)
{
	struct emit e;

	buf_reset(out);
	jsonrpc_result_begin(out, rc);
	json_emit_init(&e, out);
	emit_struct_begin(&e);
	emit_member(&e, "status");
	emit_i64(&e, status);
	chan_kv(&e, "type", type);
	emit_member(&e, "body");
	emit_strn(&e, body->data ? body->data : "", body->len);
	emit_struct_end(&e);
	jsonrpc_result_end(out, rc);
}

void relay_serve(struct chan *ch, const struct rpc_call *rc)
{
	struct arena a;
	struct buf body = BUF_INIT, out = BUF_INIT;
	const char *path = param(rc, 1), *type = "text/plain";
	int status = -1;

	/* params: the channel's session (the channel is trusted, as for
	 * forwarded calls), path, query, Accept */
	arena_init(&a, 8u << 20);
	if (relayed_path(path))
		status = server_get_local(&a, path, param(rc, 2), param(rc, 3), &body, &type);
	if (status < 0)
		status = 404;
	if (body.len <= RELAY_MAX_BODY) {
		utf8_clean(&body);
		answer(rc, status, type, &body, &out);
	}
	if (body.len > RELAY_MAX_BODY || out.len > WS_MAX_MSG - 1024) {
		buf_reset(&body);
		buf_addf(&body, "the answer to %s is larger than the relay's limit (8 MiB)\n", path);
		answer(rc, 502, "text/plain", &body, &out);
	}
	chan_send(ch, &out);
	buf_free(&body);
	buf_free(&out);
	arena_free(&a);
}
