/* The master's side of the pool channel (docs/POOL.md 2.3, 3.4, 8): the
 * Upgrade at /pool/ws, pool_member records, xbpool.hello, liveness. */
#include "pool/pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "http/http.h"
#include "lib/certfp.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pool/chan.h"
#include "pool/forward.h"
#include "pool/master.h"
#include "pool/mirror.h"
#include "pool/relay.h"
#include "pool/token.h"
#include "rpc/json.h"
#include "server/server.h"
#include "server/tls.h"

static struct mem *mems;
static struct mem **slots;              /* slots[k - 1]: owner k */
static unsigned nslots;
static int dead_ms;
static int64_t next_check;

static struct obj *member_by(int fld, const char *v)
{
	for (struct obj *o = dm_class_find("pool_member")->first; o; o = o->next)
		if (!strcmp(dm_get_str(o, fld), v))
			return o;
	return NULL;
}

static const char *mstr(const struct obj *m, int fld)
{
	return dm_get_str(m, fld);
}


/* A refusal: status, Connection: close, {"ErrorDescription":[code, p...]} */
static int refuse(struct buf *resp, int status, const char *peer, const char *code,
		  const char *p1, const char *p2)
{
	struct buf b = BUF_INIT;
	struct emit e;

	json_emit_init(&e, &b);
	emit_struct_begin(&e);
	emit_member(&e, "ErrorDescription");
	emit_array_begin(&e);
	emit_str(&e, code);
	if (p1)
		emit_str(&e, p1);
	if (p2)
		emit_str(&e, p2);
	emit_array_end(&e);
	emit_struct_end(&e);
	http_write_head(resp, status, "application/json", b.len, 0, NULL);
	buf_add(resp, b.data, b.len);
	buf_free(&b);
	log_warn("XENBOX-POOL refused %s: %d %s %s %s", peer, status, code,
		 p1 ? p1 : "", p2 ? p2 : "");
	return 0;
}

int pool_upgrade(struct tls_conn *t, const struct http_req *req, int pw, const char *peer,
		 struct buf *resp)
{
	struct ws_hs h = { req->upgrade, req->connection, req->ws_key, req->ws_version,
			   req->ws_protocol, NULL, req->ws_extensions };
	const char *why, *host = req->xenbox_host, *by = "password";
	const char *tok = req->authorization;
	unsigned char cert[32];
	char fp[96], w[64], by_tok[32];
	struct obj *m;
	int r = ws_check_request(&h, POOL_PROTO, &why);

	if (r == WS_HS_BAD || !host || !dm_uuid_valid(host) || req->minor < 1)
		return refuse(resp, 400, peer, "JOINING_HOST_SERVICE_FAILED", why, NULL);
	if (r)
		return refuse(resp, 426, peer, "POOL_PROTOCOL_MISMATCH",
			      req->ws_protocol ? req->ws_protocol : "", POOL_PROTO);
	if (!t || !tls_is_pool(t) || !tls_peer_sha256(t, cert))
		return refuse(resp, 403, peer, "POOL_CHANNEL_REQUIRES_TLS13", NULL, NULL);
	certfp_format(cert, fp, sizeof(fp));
	if ((m = member_by(FLD(pool_member, cert_sha256), fp))) {
		/* known: its certificate is its credential (a rejoin after a
		 * crash between the two commits comes this way too) */
		if (strcmp(mstr(m, FLD(pool_member, state)), "active"))
			return refuse(resp, 403, peer, "POOL_MEMBER_REVOKED",
				      mstr(m, FLD(pool_member, host_uuid)), NULL);
	} else {
		if (member_by(FLD(pool_member, host_uuid), host) ||
		    !strcmp(host, dm_get_str(api_this_host, api_this_host->cls->f_uuid)))
			return refuse(resp, 409, peer, "POOL_HOST_UUID_IN_USE", host, NULL);
		if (tok && !strncasecmp(tok, "Bearer ", 7)) {
			tok += 7;
			if (token_spend(tok, host, w, sizeof(w)))
				return refuse(resp, 403, peer, "SESSION_AUTHENTICATION_FAILED",
					      "token", w);
			snprintf(by_tok, sizeof(by_tok), "token:%.16s", tok + 5);
			by = by_tok;
		} else if (pw == 2) {   /* 9.3: as logins, per address */
			return refuse(resp, 429, peer, "SESSION_AUTHENTICATION_FAILED", "root",
				      "too many failed logins");
		} else if (pw == 0) {
			return refuse(resp, 403, peer, "SESSION_AUTHENTICATION_FAILED", "root",
				      "wrong password");
		} else if (pw < 0) {
			return refuse(resp, 401, peer, "HOST_UNKNOWN_TO_MASTER", host, NULL);
		}
		m = dm_obj_new(dm_class_find("pool_member"), NULL, NULL);
		dm_set_str(m, FLD(pool_member, host_uuid), host);
		dm_set_str(m, FLD(pool_member, cert_sha256), fp);
		dm_set_str(m, FLD(pool_member, joined_by), by);
		dm_set_int(m, FLD(pool_member, joined), now_wall());
		master_mem_of(dm_get_str(m, m->cls->f_uuid));  /* every member has its entry */
		log_info("XENBOX-POOL host %s joined from %s by %s (certificate %.11s...)", host,
			 peer, by, fp);
	}
	dm_set_str(m, FLD(pool_member, peer), peer);
	ws_response_add(resp, req->ws_key, POOL_PROTO);
	return 1;
}

struct mem *master_mem_of(const char *uuid)
{
	struct mem *x;

	for (x = mems; x; x = x->next)
		if (!strcmp(x->uuid, uuid))
			return x;
	x = xcalloc(1, sizeof(*x));
	snprintf(x->uuid, sizeof(x->uuid), "%s", uuid);
	slots = xrealloc(slots, (nslots + 1) * sizeof(*slots));
	slots[nslots++] = x;
	x->slot = nslots;
	x->next = mems;
	mems = x;
	return x;
}

struct mem *master_mem(unsigned slot)
{
	return slot && slot <= nslots ? slots[slot - 1] : NULL;
}

static struct obj *mem_obj(const struct mem *x)
{
	return dm_obj_by_uuid(dm_class_find("pool_member"), x->uuid);
}

/* HOST_OFFLINE / HOST_ONLINE (8) */
static void set_live(struct mem *x, int live, const char *why)
{
	struct obj *m = mem_obj(x);
	const char *hu = m ? mstr(m, FLD(pool_member, host_uuid)) : "";
	char body[160];

	if (x->live == live)
		return;
	x->live = live;
	mirror_live(x, live);
	snprintf(body, sizeof(body), "%s: %s", hu, why);
	api_message_create(live ? "HOST_ONLINE" : "HOST_OFFLINE", live ? 4 : 3, "Host", hu, body);
	log_warn("XENBOX-POOL member %s %s: %s", hu, live ? "online" : "offline", why);
}

static void reply(struct chan *ch, const struct rpc_call *rc, const char *code, struct buf *res)
{
	struct buf b = BUF_INIT;
	const char *desc[] = { code, rc->method };

	if (code) {
		jsonrpc_error(&b, rc, desc, 2);
	} else {
		jsonrpc_result_begin(&b, rc);
		buf_add(&b, res->data, res->len);
		jsonrpc_result_end(&b, rc);
	}
	chan_send(ch, &b);
	buf_free(&b);
}

/* xbpool.goodbye (3.7, 8): "leaving" (pool_master removed from its
 * stick): the member is gone, as after an eject, and its channel closed
 * 1000; anything else (its daemon stopping): offline at once.  1: ch
 * may be gone. */
static int goodbye(struct chan *ch, struct mem *x, const struct rpc_call *rc)
{
	const struct xv *p = rc->params->len ? xv_get(rc->params->u.a[0], "reason") : NULL;
	struct obj *o = mem_obj(x);

	if (!p || p->type != XV_STRING || strcmp(p->u.s, "leaving")) {
		set_live(x, 0, "stopped cleanly");
		return 0;
	}
	log_warn("XENBOX-POOL member %s left the pool", mstr(o, FLD(pool_member, host_uuid)));
	fwd_forget(x, 0, NULL); /* as after an eject: its mirror goes, closed 1000 */
	return 1;
}

static int on_msg(struct chan *ch, char *s, size_t n)
{
	struct mem *x = ch->owner;
	struct arena a;
	struct rpc_call rc;
	const char *err;
	struct buf res = BUF_INIT;
	struct emit e;
	int gone = 0;

	x->last_seen = ch->last_rx;
	arena_init(&a, 1u << 26);       /* a sync's tree: a few times its 1 MiB */
	if (jsonrpc_parse_call(&a, s, n, &rc, &err)) {
		struct xv *v;

		/* answers to our calls (forwarded ones, pool/forward.c) */
		if (!json_parse(&a, s, n, &v, &err))
			fwd_answer(ch, v);
		arena_free(&a);
		return 0;
	}
	json_emit_init(&e, &res);
	if (!strcmp(rc.method, "xbpool.sync")) {
		mirror_sync(x, &rc);            /* answered after the commit */
	} else if (!strcmp(rc.method, "xbpool.goodbye") && mem_obj(x)) {
		buf_add(&res, "\"\"", 2);
		reply(ch, &rc, NULL, &res);
		gone = -goodbye(ch, x, &rc);
	} else if (strcmp(rc.method, "xbpool.hello")) {
		reply(ch, &rc, "MESSAGE_METHOD_UNKNOWN", NULL);
	} else if (!mirror_hello_reply(x, rc.params, &e, dead_ms / 1000)) {
		/* the session the forwarded calls run in (5.2) */
		const struct xv *p = rc.params->len ? xv_get(rc.params->u.a[0], "session") : NULL;

		snprintf(x->session, sizeof(x->session), "%s",
			 p && p->type == XV_STRING ? p->u.s : "");
		reply(ch, &rc, NULL, &res);
		/* live from its hello on: calls can be forwarded (8) */
		set_live(x, 1, "connected");    /* logs it when it was offline */
		mirror_live(x, 1);              /* after a master restart: live again */
	} else {
		log_warn("XENBOX-POOL member %s: hello of another host", x->uuid);
		chan_close(ch, 1008, "not this member's host");
		gone = -1;              /* ch may be freed */
	}
	buf_free(&res);
	arena_free(&a);
	return gone;
}

static void on_closed(struct chan *ch, const char *why)
{
	struct mem *x = ch->owner;

	(void)why;              /* liveness tells, after dead_after */
	if (x->ch == ch)
		x->ch = NULL;
	fwd_gone(ch);           /* its forwarded calls fail */
}

static void on_raw(struct chan *ch)
{
	buf_reset(&ch->in);     /* the Upgrade is over: never called */
}

static const struct chan_ops ops = { on_raw, on_msg, on_closed };

static void adopt(int fd, struct tls_conn *t, const char *peer, struct buf *in)
{
	unsigned char cert[32];
	char fp[96];
	struct obj *m;
	struct mem *x;
	struct chan *ch;

	tls_peer_sha256(t, cert);
	certfp_format(cert, fp, sizeof(fp));
	m = member_by(FLD(pool_member, cert_sha256), fp);
	if (!m || strcmp(mstr(m, FLD(pool_member, state)), "active")) {    /* revoked meanwhile */
		tls_conn_free(t);
		close(fd);
		return;
	}
	x = master_mem_of(dm_get_str(m, m->cls->f_uuid));
	if (x->ch)              /* the newest wins (3.4) */
		chan_close(x->ch, 4001, "replaced by a newer connection");
	/* no call goes down the new channel before its hello gave the
	 * session the member made for it (the old one is gone with the old
	 * channel; a member drops calls that come before its hello's answer) */
	*x->session = 0;
	if (!(ch = chan_new(fd, t, 1, &ops, x, peer)))
		return;
	x->ch = ch;
	x->last_seen = now_ms();
	buf_add(&ch->in, in->data, in->len);
	chan_ws_start(ch);
}

/* The channel's state (xenbox extension, root only): this host's as a
 * member (pool/member.c), and one "member:<host uuid>" entry per member
 * of this master: "connected|not connected, live|offline|revoked, joined
 * by ..., peer ..." (live: its host_metrics.live, false after this
 * daemon's start until it connects, POOL.md 8).  O(members): each has its entry in mems (made at start or at
 * its join), its record found by uuid. */
HANDLER(api_pool_get_channel_status)
{
	char k[48], v[160];
	struct obj *o;

	(void)args;
	if (api_require_root(c, "pool.get_channel_status"))
		return -1;
	res->u.l = NULL;
	pool_member_status(res);
	for (struct mem *x = mems; x; x = x->next) {
		if (!(o = mem_obj(x)))
			continue;       /* left */
		snprintf(k, sizeof(k), "member:%s", mstr(o, FLD(pool_member, host_uuid)));
		snprintf(v, sizeof(v), "%s, %s, joined by %s, peer %s",
			 x->ch ? "connected" : "not connected",
			 strcmp(mstr(o, FLD(pool_member, state)), "active") ? "revoked" :
			 x->up ? "live" : "offline", mstr(o, FLD(pool_member, joined_by)),
			 mstr(o, FLD(pool_member, peer)));
		dm_map_put_str(res, k, v);
	}
	return 0;
}

/* pool.revoke_member (3.7; xenbox extension, root only): the member's
 * certificate is refused from now on (403 POOL_MEMBER_REVOKED at its next
 * Upgrade), its live channel closed 4003.  O(members). */
HANDLER(api_pool_revoke_member)
{
	const char *h = args[0].u.s;
	struct obj *o;
	struct mem *x;

	if (api_require_root(c, "pool.revoke_member"))
		return -1;
	o = member_by(FLD(pool_member, host_uuid), h);
	if (!o && *h)
		o = member_by(FLD(pool_member, host), h);
	if (!o)
		return api_fail(c, "UUID_INVALID", "host", h, NULL);
	x = master_mem_of(dm_get_str(o, o->cls->f_uuid));
	fwd_forget(x, 1, "revoked"); /* its mirror goes; barred; closed 4003 */
	return 0;
}

void pool_master_init(int dead_after, int metrics_interval, const char *relay_domain)
{
	dead_ms = dead_after * 1000;
	relay_master_init(relay_domain);
	mirror_master_init(metrics_interval);
	server_pool_upgrade = pool_upgrade;
	server_pool_adopt = adopt;
	fwd_master_init();
	/* every member counts as seen at start: none is reported offline
	 * before dead_after has passed (8) */
	for (struct obj *o = dm_class_find("pool_member")->first; o; o = o->next) {
		struct mem *x = master_mem_of(dm_get_str(o, o->cls->f_uuid));

		x->last_seen = now_ms();
		x->live = 1;
	}
}

/* Once a second: members silent for dead_after are closed (4008) and
 * offline.  O(members). */
int64_t pool_master_tick(int64_t now)
{
	if (now < next_check)
		return next_check - now;
	next_check = now + 1000;
	fwd_tick(now);
	for (struct mem *x = mems; x; x = x->next) {
		if (x->ch && x->ch->last_rx > x->last_seen)
			x->last_seen = x->ch->last_rx;
		if (now - x->last_seen < dead_ms)
			continue;
		if (x->ch)
			chan_close(x->ch, 4008, "heartbeat timeout");
		if (x->live) {
			char why[64];

			snprintf(why, sizeof(why), "no contact for %d s", dead_ms / 1000);
			set_live(x, 0, why);
		}
	}
	return 1000;
}

void pool_master_dispose(void)
{
	struct mem *x;

	fwd_dispose();
	while ((x = mems)) {
		mems = x->next;
		if (x->ch) {
			struct chan *ch = x->ch;

			x->ch = NULL;
			ch->owner = x;
			chan_free(ch, "stopping");
		}
		free(x);
	}
	free(slots);
	slots = NULL;
	nslots = 0;
}
