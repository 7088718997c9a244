/* The member's side (docs/POOL.md 2.5, 3.4, 3.5, 3.7): xenbox.conf against
 * pool_link, then one channel to the master kept up: resolve (a name:
 * lib/resolve.c, on the loop), connect (non-blocking), TLS with the pin, the Upgrade (with the
 * credential only while not joined), xbpool.hello; pings every
 * dead_after/3; on any failure a backoff with jitter.  Every change of
 * state is one XENBOX-POOL line (the USB image copies them to the
 * console); secrets never, a token by its id only. */
#include "pool/pool.h"

#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api.h"
#include "api/host.h"
#include "http/http.h"
#include "lib/base64.h"
#include "lib/log.h"
#include "lib/resolve.h"
#include "lib/util.h"
#include "pool/chan.h"
#include "rpc/json.h"
#include "server/config.h"
#include "server/loop.h"
#include "server/tls.h"

enum { IDLE, RESOLVING, CONNECTING, TLS, UPGRADING, HELLO, ONLINE, BACKOFF };
static const char *const st_name[] = {
	"idle", "resolving", "connecting", "tls", "upgrading", "hello", "online", "backoff",
};

static struct {
	const struct config_pool *cfg;
	const char *state_dir;
	int state, fails, fd;
	struct chan *ch;
	struct resolve rs;              /* the master's address: rs.addr */
	unsigned char pin[32];
	char key[WS_KEY_LEN + 1];
	int64_t deadline, up_since, next_ping, dead_ms;
	char last[400];                 /* the last error line, for repeats */
	int64_t last_at;
} m;                                    /* fd: open while CONNECTING, rs.fd
					 * while RESOLVING */

int64_t pool_backoff_ms(int k, double u)
{
	if (k <= 0)
		return (int64_t)((0.5 + 9.5 * u) * 1000);
	return (int64_t)((k > 8 ? 300 : 1 << k) * (0.5 + 0.5 * u) * 1000);
}

static struct obj *link_obj(void)
{
	return dm_class_find("pool_link")->first;
}

static int joined(void)
{
	struct obj *l = link_obj();

	return l && !strcmp(dm_get_str(l, FLD(pool_link, state)), "joined");
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The name lookup's or the connect's socket, closed */
static void stop_connecting(void)
{
	if (m.state == CONNECTING) {
		loop_unwatch(m.fd);
		close(m.fd);
	} else if (m.state == RESOLVING) {
		loop_unwatch(m.rs.fd);
		resolve_cancel(&m.rs);
	}
}

static void set_state(int s)
{
	m.state = s;
}

/* Close what is open and wait (2.5); the reason goes on the console,
 * again only every 30 minutes when unchanged. */
static void fail(const char *fmt, ...)
{
	char why[400];
	int64_t now = now_ms(), d;
	va_list ap;
	unsigned u;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (getrandom(&u, sizeof(u), 0) != sizeof(u))
		u = (unsigned)now;
	if (m.up_since && now - m.up_since >= m.dead_ms)
		m.fails = 0;    /* was up long: the spread first retry */
	else
		m.fails++;
	d = pool_backoff_ms(m.fails, u / 4294967296.0);
	m.up_since = 0;
	if (strcmp(why, m.last) || now - m.last_at > 1800000) {
		log_warn("XENBOX-POOL error: %s; retry in %lld s; guests and local changes carry on",
			 why, (long long)(d + 999) / 1000);
		snprintf(m.last, sizeof(m.last), "%s", why);
		m.last_at = now;
	}
	if (m.ch) {
		struct chan *ch = m.ch;

		m.ch = NULL;
		chan_free(ch, why);
	}
	stop_connecting();
	m.deadline = now + d;
	set_state(BACKOFF);
}

/* ---- the channel's callbacks ---- */

static void hello(void)
{
	struct buf b = BUF_INIT;
	struct emit e;

	chan_call_begin(m.ch, &b, &e, "xbpool.hello");
	emit_struct_begin(&e);
	chan_kv(&e, "host_uuid", dm_get_str(api_this_host, api_this_host->cls->f_uuid));
	chan_kv(&e, "hostname", dm_get_str(api_this_host, FLD(host, hostname)));
	chan_kv(&e, "version", XB_VERSION);
	emit_struct_end(&e);
	chan_call_end(m.ch, &b);
	buf_free(&b);
	set_state(HELLO);
	m.deadline = now_ms() + 30000;
}

/* The master's answer to the Upgrade: 101, or a refusal whose body
 * names it (2.3). */
static void on_raw(struct chan *ch)
{
	struct arena a;
	struct http_resp r;
	struct ws_hs h;
	const char *why;
	size_t head;
	int rc;

	if (m.state == TLS) {   /* the handshake is over, the pin matched */
		struct buf extra = BUF_INIT, req = BUF_INIT;
		const struct config_pool *c = m.cfg;

		buf_addf(&extra, "Xenbox-Host: %s\r\n",
			 dm_get_str(api_this_host, api_this_host->cls->f_uuid));
		if (!joined() && c->token) {
			buf_addf(&extra, "Authorization: Bearer %s\r\n", c->token);
		} else if (!joined()) {
			char up[512], b64[700];
			int n = snprintf(up, sizeof(up), "%s:%s", c->username, c->password);

			base64_encode(b64, up, n < 0 ? 0 : (size_t)n < sizeof(up) ? (size_t)n : 0);
			buf_addf(&extra, "Authorization: Basic %s\r\n", b64);
			secure_zero(up, sizeof(up));
			secure_zero(b64, sizeof(b64));
		}
		if (ws_key_new(m.key)) {
			fail("no random numbers");
			return;
		}
		ws_request_add(&req, c->master, "/pool/ws", m.key, POOL_PROTO, extra.data);
		secure_zero(extra.data, extra.len);
		buf_free(&extra);
		set_state(UPGRADING);
		chan_write(ch, req.data, req.len);
		secure_zero(req.data, req.len);
		buf_free(&req);
		return;
	}
	arena_init(&a, 64 * 1024);
	rc = http_parse_response(&a, ch->in.data, ch->in.len, &r, &head);
	if (rc == HTTP_NEED_MORE && ch->in.len < 16384)
		goto out;
	if (rc != HTTP_PARSE_DONE) {
		fail("%s: not a xenbox pool master (a bad answer to the Upgrade)", m.cfg->master);
		goto out;
	}
	if (r.status == 101) {
		h = (struct ws_hs){ r.upgrade, r.connection, NULL, NULL, r.ws_protocol, r.ws_accept,
				    r.ws_extensions };
		if (ws_check_response(101, &h, m.key, POOL_PROTO, &why)) {
			fail("%s: bad Upgrade answer: %s", m.cfg->master, why);
			goto out;
		}
		buf_consume(&ch->in, head);
		if (!joined()) {        /* 3.4 step 5 */
			struct obj *l = link_obj();

			if (!l)
				l = dm_obj_new(dm_class_find("pool_link"), NULL, NULL);
			dm_set_str(l, FLD(pool_link, master), m.cfg->master);
			dm_set_str(l, FLD(pool_link, fingerprint), m.cfg->fingerprint);
			dm_set_str(l, FLD(pool_link, state), "joined");
			dm_set_int(l, FLD(pool_link, joined), now_wall());
			api_slave_of = m.cfg->master_host;
		}
		hello();
		if (m.ch)       /* not failed on the way */
			chan_ws_start(ch);
		goto out;
	}
	/* a refusal: its body, up to its length */
	if (r.content_length < 0 || r.content_length > 4096 ||
	    ch->in.len < head + (size_t)r.content_length) {
		if (r.content_length >= 0 && r.content_length <= 4096)
			goto out;
		r.content_length = 0;
	}
	/* {"ErrorDescription":["CODE","p"]} as "CODE p": the JSON's
	 * punctuation dropped, anything unprintable as '?' (for the console) */
	{
		char t[200], *o = t;
		const char *p = ch->in.data + head, *e = p + r.content_length;

		for (; p < e && o < t + sizeof(t) - 1; p++)
			if (!strchr("{}[]\"", *p))
				*o++ = *p == ',' ? ' ' : *p < 32 || *p > 126 ? '?' : *p;
		*o = 0;
		o = strncmp(t, "ErrorDescription:", 17) ? t : t + 17;
		fail("the master refused: %d %s", r.status, o);
	}
out:
	arena_free(&a);
}

static int on_msg(struct chan *ch, char *s, size_t n)
{
	struct arena a;
	struct xv *v;
	const struct xv *res, *x;
	const char *err;
	struct obj *l = link_obj();
	int first;

	(void)ch;
	arena_init(&a, 1u << 20);
	if (json_parse(&a, s, n, &v, &err) || xv_get(v, "method")) {
		/* calls from the master come with the mirror (stage 4) */
		arena_free(&a);
		return 0;
	}
	if (m.state == HELLO && l && (res = xv_get(v, "result")) && res->type == XV_STRUCT) {
		static const char *const keys[] = { "pool_uuid", "pool_ref", "master_host_ref" };
		static const unsigned char flds[] = { FLD(pool_link, pool_uuid),
			FLD(pool_link, pool_ref), FLD(pool_link, master_host_ref) };

		first = !*dm_get_str(l, FLD(pool_link, pool_uuid));
		for (int i = 0; i < 3; i++)
			if ((x = xv_get(res, keys[i])) && x->type == XV_STRING)
				dm_set_str(l, flds[i], x->u.s);
		if ((x = xv_get(res, "dead_after")) && x->type == XV_INT && x->u.i >= 3)
			m.dead_ms = x->u.i * 1000;
		x = xv_get(res, "pool_name");
		set_state(ONLINE);
		m.up_since = now_ms();
		m.next_ping = m.up_since + m.dead_ms / 3;
		m.last[0] = 0;
		if (first)
			log_warn("XENBOX-POOL joined pool \"%s\" (%s) as %s; remove the pool_token or "
				 "pool_password line from xenbox.conf: it is no longer needed",
				 x && x->type == XV_STRING ? x->u.s : "",
				 dm_get_str(l, FLD(pool_link, pool_uuid)),
				 dm_get_str(api_this_host, FLD(host, hostname)));
		else
			log_warn("XENBOX-POOL connected to the master %s", m.cfg->master);
	} else if (m.state == HELLO) {
		arena_free(&a);
		fail("%s: the master did not accept the hello", m.cfg->master);
		return -1;
	}
	arena_free(&a);
	return 0;
}

static void on_closed(struct chan *ch, const char *why)
{
	unsigned char h[32];
	char got[96];

	if (m.ch != ch)
		return;
	m.ch = NULL;
	if (m.state == TLS && tls_peer_sha256(ch->tls, h) && memcmp(h, m.pin, 32)) {
		tls_fingerprint(h, got, sizeof(got));
		fail("%s presented pool certificate %s, xenbox.conf pins %s (not the HTTPS one: "
		     "the master logs \"pool_fingerprint =\"); not connected", m.cfg->master, got,
		     m.cfg->fingerprint);
	} else if (m.state == ONLINE) {
		fail("lost the master %s: %s", m.cfg->master, why);
	} else {
		fail("%s: %s (while %s)", m.cfg->master, why, st_name[m.state]);
	}
}

static const struct chan_ops ops = { on_raw, on_msg, on_closed };

/* ---- resolving, connecting ---- */

static void on_connect(int fd, int events, void *opaque);

static void connect_to(void)
{
	int r;

	m.fd = socket(m.rs.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m.fd < 0) {
		fail("socket: %s", strerror(errno));
		return;
	}
	set_state(CONNECTING);
	r = connect(m.fd, (struct sockaddr *)&m.rs.addr, m.rs.addrlen);
	if (r && errno != EINPROGRESS) {
		fail("cannot reach %s: %s", m.cfg->master, strerror(errno));
		return;
	}
	if (loop_watch(m.fd, LOOP_WRITE, on_connect, NULL)) {
		fail("epoll: %s", strerror(errno));
		return;
	}
	m.deadline = now_ms() + 10000;
}

static void on_connect(int fd, int events, void *opaque)
{
	int e = 0, one = 1;
	socklen_t el = sizeof(e);
	char err[200];
	struct tls_conn *t;

	(void)events;
	(void)opaque;
	loop_unwatch(fd);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) || e) {
		fail("cannot reach %s: %s", m.cfg->master, strerror(e ? e : errno));
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t = tls_client_new(fd, m.state_dir, dm_get_str(api_this_host, api_this_host->cls->f_uuid),
			   m.pin, err, sizeof(err));
	if (!t) {
		fail("TLS: %s", err);
		return;
	}
	set_state(TLS);         /* the channel owns fd now */
	m.deadline = now_ms() + 20000;
	if (!(m.ch = chan_new(fd, t, 0, &ops, NULL, m.cfg->master))) {
		fail("epoll: %s", strerror(errno));
		return;
	}
}

/* The name resolved (rc 0), failed (-1) or waited for (1: rs.fd, by
 * rs.deadline); IP literals and /etc/hosts answer at once (lib/resolve.h) */
static void on_dns(int fd, int events, void *opaque);

static void resolved(int rc)
{
	if (rc < 0) {
		fail("cannot resolve %s: %s", m.cfg->master_host, m.rs.err);
	} else if (!rc) {
		connect_to();
	} else {
		m.deadline = m.rs.deadline;
		if (loop_watch(m.rs.fd, LOOP_READ, on_dns, NULL))
			fail("epoll: %s", strerror(errno));
	}
}

/* a reply, or (from the tick) the try's deadline */
static void on_dns(int fd, int events, void *opaque)
{
	(void)fd;
	(void)events;
	(void)opaque;
	loop_unwatch(m.rs.fd);  /* the resolver may close it and open another */
	resolved(resolve_step(&m.rs, now_ms()));
}

static void attempt(void)
{
	set_state(RESOLVING);
	resolved(resolve_start(&m.rs, m.cfg->master_host, m.cfg->master_port, now_ms()));
}

/* ---- start, tick ---- */

static void leave(const char *why)
{
	struct obj *l = link_obj();
	char path[600];

	log_warn("XENBOX-POOL left pool %s: %s; this host is standalone, its guests untouched",
		 dm_get_str(l, FLD(pool_link, pool_uuid)), why);
	dm_obj_delete(l);
	api_slave_of = NULL;
	snprintf(path, sizeof(path), "%s/pool-member.pem", m.state_dir);
	unlink(path);
}

void pool_member_start(const struct config_pool *c, const char *state_dir)
{
	struct obj *l = link_obj();
	const char *p;
	char who[48] = "";
	int i = 0;

	m.cfg = c;
	m.state_dir = state_dir;
	m.dead_ms = c->dead_after * 1000;
	if (l && !c->master) {
		leave("pool_master was removed from xenbox.conf");
		return;
	}
	if (!c->join)
		return;
	if (l && strcmp(dm_get_str(l, FLD(pool_link, fingerprint)), c->fingerprint))
		leave("xenbox.conf names another master (pool_fingerprint)");
	if (!joined() && !c->token && (!c->username || !c->password)) {
		log_err("XENBOX-POOL error: pool_master %s: needs pool_token (or pool_username and "
			"pool_password) to join; not joining", c->master);
		return;
	}
	for (p = c->fingerprint; *p && i < 32; p += p[2] == ':' ? 3 : 2)
		m.pin[i++] = (unsigned char)strtoul((char[3]){ p[0], p[1], 0 }, NULL, 16);
	if (joined())
		api_slave_of = c->master_host;
	else if (c->token)
		snprintf(who, sizeof(who), " with token %.16s", c->token + 5);
	else
		snprintf(who, sizeof(who), " with the password of %.20s", c->username);
	log_warn("XENBOX-POOL %s %s%s (pinned %.11s...)",
		 joined() ? "connecting to the master" : "joining", c->master, who, c->fingerprint);
	attempt();
}

int64_t pool_member_tick(int64_t now)
{
	if (m.state == IDLE)
		return -1;
	if (m.state == ONLINE) {
		if (m.ch && now - m.ch->last_rx >= m.dead_ms) {
			fail("lost the master %s: heartbeat timeout", m.cfg->master);
		} else if (m.ch && now >= m.next_ping) {
			m.next_ping = now + m.dead_ms / 3;
			chan_ping(m.ch);
		}
		return m.next_ping - now;
	}
	if (now < m.deadline)
		return m.deadline - now;
	if (m.state == BACKOFF)
		attempt();
	else if (m.state == RESOLVING)
		on_dns(0, 0, NULL);
	else
		fail("%s: timed out (while %s)", m.cfg->master, st_name[m.state]);
	return 1000;
}

void pool_member_status(struct dm_val *map)
{
	if (!m.cfg || !m.cfg->join)
		return;
	dm_map_put_str(map, "state", st_name[m.state]);
	dm_map_put_str(map, "master", m.cfg->master);
	dm_map_put_str(map, "last_error", m.last);
}

void pool_member_dispose(void)
{
	struct chan *ch = m.ch;

	m.ch = NULL;
	stop_connecting();
	m.state = IDLE;
	if (ch)
		chan_free(ch, "stopping");
}
