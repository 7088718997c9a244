/* Sessions and authentication.
 *
 * One user, root, as on a standalone XAPI host.  Its password is stored as
 *   pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>
 * in <state>/passwd (written by `xenbox passwd`) or given in the config.
 * Passwords are never logged.  Failed logins are limited per client
 * address; the hash is checked off the loop thread, boundedly (below).
 * The GET routes' Basic credentials take the same check.  Sessions are
 * persisted, as XAPI's, so remote clients survive a daemon restart;
 * last_active is not (a call writes nothing).  Sessions of the local
 * superuser over the Unix socket (xe, the console: one per command) are
 * never written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/host.h"
#include "api/handlers.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/util.h"
#include "lib/worker.h"

#define SESSION_IDLE_S (24 * 3600)      /* XAPI: GC after 24 h idle */
#define SESSION_CAP 500                 /* XAPI: per originator */
#define FAIL_WINDOW_MS 60000
#define FAIL_MAX 5                      /* failures per window per address */

static char root_hash[256];             /* the stored hash, or "" */
static char passwd_path[512];           /* where session.change_password writes it */
static int hash_from_config;
/* A fast check for repeated logins: HMAC of the last good password under a
 * random per-process key (so PBKDF2's cost is paid once per password). */
static unsigned char fast_key[32], fast_mac[32];
static int fast_valid;

int api_auth_init(const char *state_dir, const char *hash_override)
{
	char path[512];
	FILE *f;

	root_hash[0] = 0;
	fast_valid = 0;
	xsnprintf(passwd_path, sizeof(passwd_path), "%s/passwd", state_dir);
	hash_from_config = hash_override && *hash_override;
	if (getrandom(fast_key, sizeof(fast_key), 0) != (ssize_t)sizeof(fast_key))
		return -1;
	if (hash_override && *hash_override) {
		if (xsnprintf(root_hash, sizeof(root_hash), "%s", hash_override) < 0)
			log_err("auth: root_password_hash is too long; ignored");
		return 0;
	}
	xsnprintf(path, sizeof(path), "%s/passwd", state_dir);       /* "": not found */
	f = fopen(path, "r");
	if (!f) {
		log_warn("auth: no root password set (%s); only local root logins over "
			 "the Unix socket work. Set one with `xenbox passwd`.", path);
		return 0;
	}
	if (!fgets(root_hash, sizeof(root_hash), f))
		root_hash[0] = 0;
	fclose(f);
	root_hash[strcspn(root_hash, "\r\n")] = 0;
	return 0;
}

/* ---- rate limiting: a small table of recent failures per address ---- */

static struct fail {
	char peer[64];
	int64_t since;
	int count;
	int inflight;                   /* its checks queued or running */
} fails[64];

/* O(table) per call.  A slot with checks in flight is never reused. */
static struct fail *fail_slot(const char *peer, int create)
{
	struct fail *oldest = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(fails); i++) {
		if (!strcmp(fails[i].peer, peer))
			return &fails[i];
		if (!fails[i].inflight && (!oldest || fails[i].since < oldest->since))
			oldest = &fails[i];
	}
	if (!create)
		return NULL;
	oldest = oldest ? oldest : &fails[0];   /* not reached: HASH_MAX < 64 */
	snprintf(oldest->peer, sizeof(oldest->peer), "%s", peer);
	oldest->since = now_ms();
	oldest->count = oldest->inflight = 0;
	return oldest;
}

/* ---- password checks: PBKDF2 in the worker's CPU lane ----
 *
 * A check costs one PBKDF2 (AUTH_DEFAULT_ITER rounds, ~0.2 s on a slow
 * core), so it never runs in the loop thread: a job in the worker's CPU
 * lane (one thread, nice 10) hashes, and its done() answers the call.  At
 * most HASH_MAX checks are queued or running; beyond that a login fails at
 * once ("in progress"), and an address's checks in flight count against
 * its FAIL_MAX.  A password that passed once is recognised without a hash
 * by its HMAC under a per-process random key (fast_mac), compared in
 * constant time.  Figures: docs/DAEMON.md. */

#define HASH_MAX 8

struct pw_job {
	struct job job;
	struct pw_job *next;            /* in flight (loop thread) */
	struct call *c;                 /* NULL once the caller went away */
	const char *orig;               /* a login's originator (c's arena), else NULL */
	char peer[64];
	char *pwd;                      /* heap; zeroed before it is freed */
	char *newpwd;                   /* session.change_password's, else NULL */
	char newhash[sizeof(root_hash)];        /* its hash, "" if making it failed */
	unsigned char mac[32];          /* HMAC of pwd under fast_key */
	char hash[sizeof(root_hash)];
	int rc;                         /* auth_hash_check's */
	int result;                     /* inline runs: check_start's */
};
static struct pw_job *checking;
static int nchecking;

static void pw_run(struct job *jb)
{
	struct pw_job *j = (struct pw_job *)jb;

	/* no stored hash: a change by the local superuser, nothing to check */
	j->rc = j->hash[0] ? auth_hash_check(j->hash, j->pwd) : 0;
	if (!j->rc && j->newpwd &&
	    auth_hash_make(j->newpwd, AUTH_DEFAULT_ITER, j->newhash, sizeof(j->newhash)))
		j->newhash[0] = 0;
}

/* session.change_password's end: the new hash in use and in the state
 * directory's passwd (written whole or not at all).  0, or -1 after
 * api_fail. */
static int password_set(struct call *c, const char *hash)
{
	char tmp[600];
	FILE *f;
	int ok;

	if (!hash[0])
		return c ? api_fail(c, "INTERNAL_ERROR", "the new password could not be hashed", NULL) : -1;
	xsnprintf(tmp, sizeof(tmp), "%s.new", passwd_path);
	f = fopen(tmp, "w");
	ok = f && fprintf(f, "%s\n", hash) > 0;
	ok = f && !fflush(f) && !fsync(fileno(f)) && ok;
	if ((f && fclose(f)) || !ok || chmod(tmp, 0600) || rename(tmp, passwd_path)) {
		log_err("auth: %s: %s; root's password unchanged", passwd_path, strerror(errno));
		unlink(tmp);
		return c ? api_fail(c, "INTERNAL_ERROR", passwd_path, strerror(errno), NULL) : -1;
	}
	xsnprintf(root_hash, sizeof(root_hash), "%s", hash);
	fast_valid = 0;
	log_info("auth: root's password changed (%s)", passwd_path);
	if (hash_from_config)
		log_warn("auth: xenbox.conf's root_password_hash is still read first at the next start");
	return 0;
}

/* The outcome of a check for peer: 0 good, else -1 after api_fail on c
 * (if any).  A failure counts against the address, a success clears it. */
static int check_end(struct call *c, const char *peer, int bad, const char *uname)
{
	struct fail *fl = fail_slot(peer, bad);

	if (!bad) {
		if (fl)
			fl->count = 0;
		return 0;
	}
	if (!fl->count)
		fl->since = now_ms();
	fl->count++;
	log_warn("auth: failed login for '%.32s' from %s", uname, peer);
	return c ? api_fail(c, "SESSION_AUTHENTICATION_FAILED", uname,
			    "Authentication failure", NULL) : -1;
}

static const char *session_new(struct call *c, const char *orig);

static void pw_done(struct job *jb)
{
	struct pw_job *j = (struct pw_job *)jb;
	struct fail *fl = fail_slot(j->peer, 0);
	struct call *c = j->c;
	int rc;

	for (struct pw_job **pp = &checking; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	nchecking--;
	if (fl && fl->inflight)
		fl->inflight--;
	if (jb->cancelled) {
		rc = c ? api_fail(c, "INTERNAL_ERROR", "the daemon is stopping", NULL) : -1;
	} else {
		if (j->rc < 0)
			log_err("auth: the stored root password hash is malformed");
		if (!j->rc && !j->newpwd) {
			memcpy(fast_mac, j->mac, sizeof(fast_mac));
			fast_valid = 1;
		}
		rc = check_end(c, j->peer, j->rc != 0, "root");
		if (!rc && j->newpwd)
			rc = password_set(c, j->newhash);
	}
	secure_zero(j->pwd, strlen(j->pwd));
	free(j->pwd);
	if (j->newpwd) {
		secure_zero(j->newpwd, strlen(j->newpwd));
		secure_zero(j->newhash, sizeof(j->newhash));
		free(j->newpwd);
	}
	if (jb->inline_run) {
		j->result = rc;
		return;         /* check_start answers and frees */
	}
	if (c) {
		if (!rc && j->orig)
			emit_str(c->e, session_new(c, j->orig));
		else if (!rc && j->newpwd)
			emit_str(c->e, "");
		c->complete(c);
	}
	free(j);
}

/* Check uname/pwd for c.  0: good; -1 after api_fail; 1: a job checks
 * and answers c later (orig: a login's originator, else an HTTP check).
 * With newpwd (session.change_password), the job then hashes newpwd and
 * password_set() stores it; the local superuser (or anyone while no
 * password is set) changes it without the old one, as over XAPI's socket. */
static int check_start(struct call *c, const char *uname, const char *pwd, const char *orig,
		       const char *newpwd)
{
	const char *peer = c->peer ? c->peer : "";
	struct fail *fl = fail_slot(peer, 0);
	unsigned char mac[32] = { 0 };
	struct pw_job *j;
	int diff = 0, rc, trusted = newpwd && (c->local_root || !root_hash[0]);

	if (c->local_root && !strcmp(uname, "root") && !newpwd)
		return 0;
	if (!trusted) {
		if (fl && now_ms() - fl->since > FAIL_WINDOW_MS)
			fl->count = 0;
		if (fl && fl->count + fl->inflight >= FAIL_MAX && !c->local_root)
			return api_fail(c, "SESSION_AUTHENTICATION_FAILED", uname, API_AUTH_LIMITED
					"failed logins from this address; try again later", NULL);
		if (strcmp(uname, "root") || c->local_root || !root_hash[0])
			return check_end(c, peer, 1, uname);
		hmac_sha256(fast_key, sizeof(fast_key), pwd, strlen(pwd), mac);
		for (int i = 0; i < 32; i++)
			diff |= mac[i] ^ fast_mac[i];
		if (fast_valid && !diff && !newpwd)
			return check_end(c, peer, 0, uname);
		trusted = fast_valid && !diff;
	}
	if (nchecking >= HASH_MAX)
		return api_fail(c, "SESSION_AUTHENTICATION_FAILED", uname,
				API_AUTH_LIMITED "logins in progress; try again later", NULL);
	j = xcalloc(1, sizeof(*j));
	j->job.lane = WORKER_CPU;
	j->job.run = pw_run;
	j->job.done = pw_done;
	j->c = c;
	j->orig = orig ? arena_strdup(c->a, orig) : NULL;
	snprintf(j->peer, sizeof(j->peer), "%s", peer);
	j->pwd = xstrdup(pwd);
	j->newpwd = newpwd ? xstrdup(newpwd) : NULL;
	memcpy(j->mac, mac, sizeof(mac));
	if (!trusted)
		memcpy(j->hash, root_hash, sizeof(root_hash));
	fl = fl ? fl : fail_slot(peer, 1);
	fl->inflight++;
	nchecking++;
	j->next = checking;
	checking = j;
	worker_submit(&j->job);
	if (!j->job.inline_run)
		return 1;
	rc = j->result;
	free(j);
	return rc;
}

void api_session_cancel(struct call *c)
{
	for (struct pw_job *j = checking; j; j = j->next)
		if (j->c == c)
			j->c = NULL;    /* the check goes on: its outcome still counts */
}

int api_http_basic(struct call *c, const char *user, const char *pass)
{
	if (check_start(c, user, pass, NULL, NULL) == 1)
		return 1;
	c->complete(c);
	return 0;
}

int api_session_use(const char *ref)
{
	struct obj *s = ref ? dm_obj_by_ref_cls(dm_class_find("session"), ref) : NULL;

	/* a use, as a call is (no event, no write): a scraper's session does
	 * not expire while it scrapes */
	if (s)
		dm_fw(s, OF(s, session, last_active))->u.i = now_wall();
	return s != NULL;
}

/* ---- sessions ---- */

static void session_end(struct obj *s)
{
	api_events_session_gone(s->ref);
	dm_obj_delete(s);
}

void api_session_gc(const char *originator)
{
	struct dm_class *k = dm_class_find("session");
	int f_last = FLD(session, last_active), f_orig = FLD(session, originator);
	int64_t now = now_wall();
	struct obj *o, *next, *oldest = NULL;
	size_t same = 0;

	/* O(sessions) per login */
	for (o = k->first; o; o = next) {
		next = o->next;
		if (!dm_fv(o, f_last)->u.i)
			dm_fw(o, f_last)->u.i = now;         /* loaded: a restart counts as use */
		if (now - dm_fv(o, f_last)->u.i > SESSION_IDLE_S) {
			session_end(o);
			continue;
		}
		if (originator && !strcmp(dm_get_str(o, f_orig), originator)) {
			same++;
			if (!oldest || dm_fv(o, f_last)->u.i < dm_fv(oldest, f_last)->u.i)
				oldest = o;
		}
	}
	if (same >= SESSION_CAP && oldest)
		session_end(oldest);
}

static const char *session_new(struct call *c, const char *orig)
{
	struct dm_class *k = dm_class_find("session");
	struct obj *s;

	api_session_gc(orig);
	s = dm_obj_new(k, NULL, NULL);
	s->transient = c->local_root;
	dm_set_str(s, OF(s, session, this_host), api_this_host ? api_this_host->ref : "OpaqueRef:NULL");
	dm_set_int(s, OF(s, session, last_active), now_wall());
	dm_set_int(s, OF(s, session, validation_time), now_wall());
	dm_set_str(s, OF(s, session, originator), orig);
	dm_set_int(s, OF(s, session, is_local_superuser), 1);
	dm_set_str(s, OF(s, session, auth_user_name), "root");
	return s->ref;
}

const char *api_slave_of;

HANDLER(api_session_login)
{
	int rc;

	/* as XAPI, before the password: clients go to the master; the Unix
	 * socket keeps working for the console and xe */
	if (api_slave_of && c->peer && strcmp(c->peer, "unix"))
		return api_fail(c, "HOST_IS_SLAVE", api_slave_of, NULL);
	rc = check_start(c, args[0].u.s, args[1].u.s, args[3].u.s, NULL);

	if (!rc)
		res->u.s = dm_str(session_new(c, args[3].u.s));
	return rc;
}

int api_require_root(struct call *c, const char *perm)
{
	const struct obj *s = c->session;

	if (c->local_root || (s && dm_fv(s, OF(s, session, is_local_superuser))->u.i &&
			      !strcmp(dm_get_str(s, OF(s, session, auth_user_name)), "root")))
		return 0;
	return api_fail(c, "RBAC_PERMISSION_DENIED", perm, "root sessions only", NULL);
}

/* XAPI's session.change_password(old_pwd, new_pwd), root sessions only:
 * the old password is checked (PBKDF2 in the worker's CPU lane, counted
 * as a login's), except for the local superuser; the new one is hashed
 * there too and stored (password_set).  Logins with it work at once. */
HANDLER(api_session_change_password)
{
	if (api_require_root(c, "session.change_password"))
		return -1;
	if (!*args[1].u.s)
		return api_fail(c, "CHANGE_PASSWORD_REJECTED", "the new password is empty", NULL);
	return check_start(c, "root", args[0].u.s, NULL, args[1].u.s);
}

HANDLER(api_session_logout)
{
	session_end(c->session);
	c->session = NULL;
	return 0;
}

HANDLER(api_session_subjects)
{
	res->u.l = NULL;        /* no external authentication */
	return 0;
}
