/* The member's side (docs/POOL.md 2.5, 3.4, 3.5, 3.7): xenbox.conf against
 * pool_link, then one channel to the master kept up: resolve (a name:
 * lib/resolve.c, on the loop), connect (non-blocking), TLS with the pin, the Upgrade (with the
 * credential only while not joined), xbpool.hello; pings every
 * dead_after/3; on any failure a backoff with jitter.  Every change of
 * state is one XENBOX-POOL line (the USB image copies them to the
 * console); secrets never, a token by its id only.  pool.join (3.6) makes
 * one attempt of the same join; pool_master removed from xenbox.conf, one
 * attempt at a goodbye (3.7). */
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
#include "api/handlers.h"
#include "api/host.h"
#include "http/http.h"
#include "lib/base64.h"
#include "lib/certfp.h"
#include "lib/log.h"
#include "lib/resolve.h"
#include "lib/sha256.h"
#include "lib/util.h"
#include "pool/chan.h"
#include "pool/forward.h"
#include "pool/member.h"
#include "pool/mirror.h"
#include "pool/token.h"
#include "rpc/json.h"
#include "server/config.h"
#include "server/loop.h"
#include "server/server.h"
#include "server/tls.h"

enum { IDLE, RESOLVING, CONNECTING, TLS, UPGRADING, HELLO, ONLINE, BACKOFF };
static const char *const st_name[] = {
	"idle", "resolving", "connecting", "tls", "upgrading", "hello", "online", "backoff",
};

static struct {
	const struct config_pool *cfg;  /* in use: dcfg or own */
	const struct config_pool *dcfg; /* the daemon's, xenbox.conf */
	const char *state_dir;
	int state, fails, fd;
	struct chan *ch;
	struct resolve rs;              /* the master's address: rs.addr */
	unsigned char pin[32];
	char key[WS_KEY_LEN + 1];
	int64_t deadline, up_since, next_ping, dead_ms;
	char last[400];                 /* the last error line, for repeats */
	int64_t last_at;
	struct call *call;              /* pool.join's, answered when it ends */
	int once;                       /* pool.join: one attempt, no retries */
	int leaving;                    /* the goodbye (3.7), then standalone */
	int tofu;                       /* no pin yet: pool.join's first use */
	int64_t bye_by;                 /* leaving: told by then or not at all */
} m;                                    /* fd: open while CONNECTING, rs.fd
					 * while RESOLVING */

int64_t pool_backoff_ms(int k, double u)
{
	if (k <= 0)
		return (int64_t)((0.5 + 9.5 * u) * 1000);
	return (int64_t)((k > 8 ? 300 : 1 << k) * (0.5 + 0.5 * u) * 1000);
}

/* The configuration of pool.join's attempt, of a membership it made
 * (pool_link.via "api"), or of the goodbye, in place of xenbox.conf's:
 * its strings in own_s (the credential zeroed after the attempt) */
static struct config_pool own;
static struct {
	char master[264], fp[96];
	char sec[2][256];               /* the username, the password or token */
} own_s;

/* own for master (HOST[:PORT]) and fp ("": none yet), in use.  0 or -1. */
static int own_set(const char *master, const char *fp)
{
	free(own.master_host);
	own.master_host = NULL;
	if (strlen(master) >= sizeof(own_s.master) ||
	    config_hostport(master, &own.master_host, &own.master_port))
		return -1;
	strcpy(own_s.master, master);
	snprintf(own_s.fp, sizeof(own_s.fp), "%s", fp);
	own.master = own_s.master;
	own.fingerprint = own_s.fp;
	own.join = 1;
	m.cfg = &own;
	return 0;
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

/* Out of the pool, guests and devices untouched: the master's copies go
 * and a pool of its own is back (mirror_forget), logins are served here
 * again, and the member's certificate goes (a later join makes anew). */
static void standalone(void)
{
	char path[600];

	mirror_forget();
	api_slave_of = NULL;
	snprintf(path, sizeof(path), "%s/pool-member.pem", m.state_dir);
	unlink(path);
}

static void leave(const char *why)
{
	struct obj *l = link_obj();

	log_warn("XENBOX-POOL left pool %s: %s; this host is standalone, its guests untouched",
		 dm_get_str(l, FLD(pool_link, pool_uuid)), why);
	dm_obj_delete(l);
	standalone();
}

/* The one attempt of pool.join or of the goodbye is over: why NULL, it
 * succeeded.  pool.join's call is answered (if its client is still
 * there); when it failed, the host is standalone again (the membership
 * written at the 101 taken back) and xenbox.conf's settings apply.
 * Leaving, the host is standalone either way (3.7). */
static void ended(const char *why)
{
	struct call *c = m.call;

	if (m.leaving) {
		m.leaving = 0;
		m.state = IDLE;
		m.cfg = m.dcfg;
		leave(why ? "pool_master was removed from xenbox.conf; the master was not told" :
		      "pool_master was removed from xenbox.conf; the master was told");
		return;
	}
	m.call = NULL;
	m.once = 0;
	secure_zero(own_s.sec, sizeof(own_s.sec));
	if (why) {
		if (c && !c->nerr)
			api_fail(c, m.state <= CONNECTING ? "JOINING_HOST_CONNECTION_FAILED" :
				 "JOINING_HOST_SERVICE_FAILED", NULL);
		if (link_obj())
			dm_obj_delete(link_obj());
		mirror_forget();        /* the master's copies, if the hello came */
		api_slave_of = NULL;
		m.state = IDLE;
		m.cfg = m.dcfg;
	} else if (c) {
		emit_str(c->e, "");     /* void */
	}
	if (c)
		c->complete(c);
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
	if (m.ch) {
		struct chan *ch = m.ch;

		m.ch = NULL;
		chan_free(ch, why);
	}
	mirror_offline();
	stop_connecting();
	if (m.once || m.leaving) {      /* one attempt */
		log_warn("XENBOX-POOL error: %s", why);
		snprintf(m.last, sizeof(m.last), "%s", why);
		ended(why);
		return;
	}
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
	mirror_hello(&e);
	emit_struct_end(&e);
	chan_call_end(m.ch, &b);
	buf_free(&b);
	set_state(HELLO);
	m.deadline = now_ms() + 30000;
}

/* xbpool.goodbye (2.4): "leaving" (3.7) or "shutdown" (8) */
static void goodbye(const char *reason)
{
	struct buf b = BUF_INIT;
	struct emit e;

	chan_call_begin(m.ch, &b, &e, "xbpool.goodbye");
	emit_struct_begin(&e);
	chan_kv(&e, "reason", reason);
	emit_struct_end(&e);
	chan_call_end(m.ch, &b);
	buf_free(&b);
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

		if (m.tofu) {   /* pool.join: this certificate, pinned from now on */
			char fp[96];

			tls_peer_sha256(ch->tls, m.pin);
			certfp_format(m.pin, fp, sizeof(fp));
			log_warn("XENBOX-POOL %s presented pool certificate %s: trusted on first use "
				 "(pool.join)", c->master, fp);
			strcpy(own_s.fp, fp);
			m.tofu = 0;
		}
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
			dm_set_str(l, FLD(pool_link, via), m.once ? "api" : "");
			dm_set_int(l, FLD(pool_link, joined), now_wall());
			api_slave_of = m.cfg->master_host;
		}
		if (m.leaving) {
			goodbye("leaving");
			set_state(HELLO);
		} else {
			hello();
		}
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
	/* {"ErrorDescription":["CODE", params...]}: pool.join's failure,
	 * and for the console "CODE p1 p2" (anything unprintable as '?') */
	{
		char t[200] = "";
		struct xv *v;
		const struct xv *d = NULL;
		size_t o = 0;

		if (!json_parse(&a, ch->in.data + head, (size_t)r.content_length, &v, &why))
			d = xv_get(v, "ErrorDescription");
		for (size_t i = 0; d && d->type == XV_ARRAY && i < d->len; i++) {
			if (d->u.a[i]->type != XV_STRING)
				continue;
			if (o < sizeof(t))
				o += (size_t)snprintf(t + o, sizeof(t) - o, " %s", d->u.a[i]->u.s);
			if (m.call && m.call->nerr < API_MAX_ERR)
				m.call->err[m.call->nerr++] = arena_strdup(m.call->a, d->u.a[i]->u.s);
		}
		for (char *p = t; *p; p++)
			if ((unsigned char)*p < 32 || (unsigned char)*p > 126)
				*p = '?';
		/* refusals the operator must fix on the master: retried at the
		 * cap (2.3) */
		if (r.status == 401 || r.status == 409 || r.status == 426 || strstr(t, "REVOKED"))
			m.fails = 8;
		fail("the master refused: %d%s", r.status, t);
	}
out:
	arena_free(&a);
}

/* A message of the master's that this member cannot use: one line naming
 * what was wrong (detail: printable ASCII, cut), at most one a minute (a
 * master gone wrong must not fill the console); the next says how many
 * more there were. */
static void bad_msg(const char *what, const char *detail)
{
	static int64_t next;
	static unsigned quiet;
	int64_t now = now_ms();
	char d[81], more[48] = "";
	size_t i;

	if (now < next) {
		quiet++;
		return;
	}
	for (i = 0; detail[i] && i + 1 < sizeof(d); i++)
		d[i] = detail[i] >= ' ' && detail[i] < 127 ? detail[i] : '?';
	d[i] = 0;
	if (quiet)
		snprintf(more, sizeof(more), ", as were %u more in the minute before", quiet);
	log_warn("XENBOX-POOL the master sent %s%s%s; ignored%s", what, *d ? ": " : "", d, more);
	quiet = 0;
	next = now + 60000;
}

static int on_msg(struct chan *ch, char *s, size_t n)
{
	struct arena a;
	struct xv *v;
	const struct xv *res, *x;
	const char *err, *name;
	struct obj *l = link_obj();
	int first = l && !*dm_get_str(l, FLD(pool_link, pool_uuid)), notjson;

	if (m.state == ONLINE && !fwd_run(ch, s, n))
		return 0;       /* a call from the master (pool/forward.c) */
	arena_init(&a, 1u << 20);
	if ((notjson = json_parse(&a, s, n, &v, &err)) || xv_get(v, "method")) {
		if (notjson)
			bad_msg("a message that is not JSON", err);
		else
			bad_msg(m.state == ONLINE ? "a call that is not a JSON-RPC call"
				: "a call before it answered the hello", "");
		arena_free(&a);
		return 0;
	}
	if (m.leaving) {        /* the goodbye's answer */
		m.ch = NULL;
		chan_free(ch, "left the pool");
		ended(xv_get(v, "result") ? NULL : "it refused the goodbye");
		arena_free(&a);
		return -1;
	}
	if (m.state == ONLINE) {
		const struct xv *e = xv_get(v, "error"), *em = xv_get(e, "message");

		if (!xv_get(v, "result"))
			bad_msg(e ? "an error for a sync" : "an answer with no result",
				em && em->type == XV_STRING ? em->u.s : "");
		mirror_synced();        /* the only calls we make then */
		/* pool.join is answered once the master has taken the first
		 * sync (the snapshot, or its first part): it shows the host */
		if (m.once)
			ended(NULL);
	} else if (m.state == HELLO && l && (res = xv_get(v, "result")) &&
		   (name = mirror_welcome(ch, res, l))) {
		if ((x = xv_get(res, "dead_after")) && x->type == XV_INT && x->u.i >= 3)
			m.dead_ms = x->u.i * 1000;
		set_state(ONLINE);
		m.up_since = now_ms();
		m.next_ping = m.up_since + m.dead_ms / 3;
		m.last[0] = 0;
		if (first)      /* an unnamed pool by its master, as XAPI's clients do */
			log_warn("XENBOX-POOL joined pool %s%s%s (%s) as %s%s", *name ? "\"" :
				 "of master ", *name ? name : m.cfg->master, *name ? "\"" : "",
				 dm_get_str(l, FLD(pool_link, pool_uuid)),
				 dm_get_str(api_this_host, FLD(host, hostname)), m.once ? "" :
				 "; remove the pool_token or pool_password line from xenbox.conf: "
				 "it is no longer needed");
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

	fwd_closed();           /* the master's calls' answers go */
	if (m.ch != ch)
		return;
	m.ch = NULL;
	if (m.state == IDLE)    /* stopping */
		return;
	if (m.state == TLS && !m.tofu && tls_peer_sha256(ch->tls, h) && memcmp(h, m.pin, 32)) {
		certfp_format(h, got, sizeof(got));
		if (m.call)
			api_fail(m.call, "POOL_FINGERPRINT_MISMATCH", got, m.cfg->fingerprint, NULL);
		fail("%s presented pool certificate %s, %s pins %s (not the HTTPS one: "
		     "the master logs \"pool_fingerprint =\"); not connected", m.cfg->master, got,
		     m.once ? "pool.join_pinned" : "xenbox.conf", m.cfg->fingerprint);
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
			   m.tofu ? NULL : m.pin, err, sizeof(err));
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

/* The pin, HOST_IS_SLAVE's answer, the console line, the first attempt */
static void begin(void)
{
	const struct config_pool *c = m.cfg;
	const char *p = c->fingerprint;
	int i = 0;

	m.tofu = !*p;
	for (; i < 32 && *p; p += 3)    /* "AB:CD:...", as config.c writes it */
		m.pin[i++] = (unsigned char)strtoul(p, NULL, 16);
	if (joined() && !m.leaving)
		api_slave_of = c->master_host;
	if (joined())
		log_warn("XENBOX-POOL %s the master %s", m.leaving ? "saying goodbye to" :
			 "connecting to", c->master);
	else
		log_warn("XENBOX-POOL joining %s with %s %.*s (pinned %.11s%s)", c->master,
			 c->token ? "token" : "the password of", c->token ? 16 : 20,
			 c->token ? c->token + 5 : c->username, c->fingerprint,
			 m.tofu ? "when it answers" : "...");
	attempt();
}

void member_cancel(struct call *c)
{
	if (m.call == c)
		m.call = NULL;  /* its client went away: the attempt goes on */
}

/* The digest of the pool_* keys an eject happened under (3.7) */
static void conf_digest(const struct config_pool *c, char out[96])
{
	char s[1200];
	unsigned char d[32];
	int n = snprintf(s, sizeof(s), "%s\n%s\n%s\n%s\n%s", c->master, c->fingerprint,
			 c->token ? c->token : "", c->username ? c->username : "",
			 c->password ? c->password : "");

	sha256(s, n < 0 ? 0 : (size_t)n < sizeof(s) ? (size_t)n : sizeof(s) - 1, d);
	secure_zero(s, sizeof(s));
	certfp_format(d, out, 96);
}

static void ejected_line(const struct obj *l)
{
	log_warn("XENBOX-POOL ejected from pool %s; standalone, guests untouched (new pool_* "
		 "lines join again)", dm_get_str(l, FLD(pool_link, pool_uuid)));
}

int member_eject(void)
{
	struct obj *l = link_obj();
	char dg[96];

	if (!joined() || !m.cfg)
		return 0;
	conf_digest(m.cfg, dg);
	dm_set_str(l, FLD(pool_link, state), "ejected");
	dm_set_str(l, FLD(pool_link, conf_digest), dg);
	standalone();
	ejected_line(l);
	return 1;
}

void member_ejected_close(void)
{
	struct chan *ch = m.ch;

	m.ch = NULL;
	set_state(IDLE);
	mirror_offline();       /* no more syncs; the channel's session goes */
	if (ch)
		chan_close(ch, 1000, "ejected");
}

void pool_member_start(const struct config_pool *c, const char *state_dir)
{
	struct obj *l = link_obj();
	int api = l && !strcmp(dm_get_str(l, FLD(pool_link, via)), "api");
	int ejected = l && !strcmp(dm_get_str(l, FLD(pool_link, state)), "ejected");

	m.cfg = m.dcfg = c;
	m.state_dir = state_dir;
	m.dead_ms = c->dead_after * 1000;
	if (ejected && !c->join) {      /* ejected, and the lines gone too */
		dm_obj_delete(l);
		return;
	}
	if (l && !c->join && (api || !c->master)) {
		/* no pool_master: a member by pool.join stays one (its link is
		 * all there is); one by xenbox.conf says goodbye (3.7: within
		 * 10 s) and is standalone either way */
		if (own_set(dm_get_str(l, FLD(pool_link, master)),
			    dm_get_str(l, FLD(pool_link, fingerprint))))
			return;
		m.leaving = !api;
		m.bye_by = now_ms() + 10000;
	} else if (!c->join) {
		return;
	} else if (ejected) {
		char dg[96];

		conf_digest(c, dg);
		if (!strcmp(dg, dm_get_str(l, FLD(pool_link, conf_digest)))) {
			ejected_line(l);
			return;
		}
		dm_obj_delete(l);       /* new lines: a new join */
	} else if (l && strcmp(dm_get_str(l, FLD(pool_link, fingerprint)), c->fingerprint)) {
		leave("xenbox.conf names another master (pool_fingerprint)");
	}
	if (!joined() && !c->token && (!c->username || !c->password)) {
		log_err("XENBOX-POOL error: pool_master %s: needs pool_token (or pool_username and "
			"pool_password) to join; not joining", c->master);
		return;
	}
	begin();
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
	if (m.leaving && m.deadline > m.bye_by)
		m.deadline = m.bye_by;  /* the goodbye's 10 s bound every step */
	if (now < m.deadline)
		return m.deadline - now;
	if (m.leaving && now >= m.bye_by)
		fail("no answer in 10 s");
	else if (m.state == BACKOFF)
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

/* The daemon stops: nobody is answered; an online member says goodbye
 * (8: offline at once on the master), written now or not at all. */
void pool_member_dispose(void)
{
	struct chan *ch;
	int online = m.state == ONLINE;

	m.call = NULL;
	stop_connecting();
	m.state = IDLE;
	if (m.ch && online)
		goodbye("shutdown");
	if ((ch = m.ch)) {
		m.ch = NULL;
		chan_free(ch, "stopping");
	}
	mirror_offline();
	api_slave_of = NULL;
	free(own.master_host);
	own.master_host = NULL;
}

/* ---- pool.join (3.6) ---- */

/* pool.join and join_force (the same: xenbox has no version check for
 * force to lift; the subprotocol stays required) trust the master's
 * certificate on first use (fp NULL); join_pinned pins it.  One attempt of
 * xenbox.conf's join, answered when it ends (ended).  A master_password
 * in a join token's form is one (XO's form has no field for it). */
static int join(struct call *c, const char *addr, const char *fp, const char *user,
		const char *pass)
{
	struct obj *l = link_obj();
	char f[96] = "", t[80];

	if (api_require_root(c, "pool.join"))
		return -1;
	if (l && !strcmp(dm_get_str(l, FLD(pool_link, state)), "ejected")) {
		dm_obj_delete(l);       /* ejected before: free to join again */
		l = NULL;
	}
	if (l) {
		snprintf(t, sizeof(t), "already a member of pool %s",
			 dm_get_str(l, FLD(pool_link, pool_uuid)));
		return api_fail(c, "OPERATION_NOT_ALLOWED", t, NULL);
	}
	if (m.state != IDLE)
		return api_fail(c, "OPERATION_NOT_ALLOWED", "joining already", NULL);
	if (dm_class_find("pool_member")->first)
		return api_fail(c, "JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS", NULL);
	if (fp && config_fingerprint(fp, f))
		return api_fail(c, "INVALID_VALUE", "master_fingerprint", fp, NULL);
	if (own_set(addr, f))
		return api_fail(c, "INVALID_VALUE", "master_address", addr, NULL);
	snprintf(own_s.sec[0], sizeof(own_s.sec[0]), "%s", user);
	snprintf(own_s.sec[1], sizeof(own_s.sec[1]), "%s", pass);
	own.username = own_s.sec[0];
	own.password = own_s.sec[1];
	own.token = strlen(pass) == TOKEN_LEN && !strncmp(pass, TOKEN_PREFIX, 5) ? own.password :
		    NULL;
	m.call = c;
	m.once = 1;
	m.fails = 0;
	begin();
	return 1;
}

HANDLER(api_pool_join)
{
	(void)res;
	return join(c, args[0].u.s, NULL, args[1].u.s, args[2].u.s);
}

HANDLER(api_pool_join_pinned)
{
	(void)res;
	return join(c, args[0].u.s, args[1].u.s, args[2].u.s, args[3].u.s);
}
