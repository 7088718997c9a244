/* The XenAPI call: what a transport hands to the dispatcher.
 *
 * The server decodes a request into method + params (rpc/value.h), fills a
 * struct call and calls api_dispatch().  The result value is emitted into
 * c->out through c->e (XML-RPC or JSON, the API does not care), or a
 * failure is left in c->err.  Completion is signalled by c->complete(c),
 * either before api_dispatch returns or later (event.from waits).
 *
 * One convention for handlers (the HANDLER()s of api/handlers.h, which
 * dispatch.c's run_custom calls, and the generated accessors), and for the
 * create/destroy hooks (<class>_on_create/_on_destroy):
 *
 *   return 0   success: the result is in *res (of the message's result
 *              type; the dispatcher emits and frees it), or, for a DM_M_RAW
 *              message, already emitted into c->e.  c->nerr stays 0.
 *   return -1  failure, always just after api_fail() or a helper that calls
 *              it (api_obj(): HANDLE_INVALID), so c->err holds the
 *              ErrorDescription.  Whatever was emitted is dropped.  -1 with
 *              nothing recorded is a bug; the caller gets INTERNAL_ERROR
 *              "unknown failure".  A hook's -1 stops the create (the new
 *              object is deleted) or the destroy.
 *   return 1   the call waits (event.from/next, a VM job in the worker, a
 *              clean shutdown waiting for the guest): the handler keeps c
 *              and later completes it exactly once -- emits the result or
 *              calls api_fail(), then c->complete(c).  What it needs then
 *              is copied into c->a; a connection that goes away first is
 *              dropped by api_cancel() (the operation
 *              goes on, nobody is answered).
 *   args       belong to the dispatcher, which frees each by its declared
 *              type after the handler returns: read them, never keep, free,
 *              move or overwrite them.
 *   Async.*    runs the same handler on an inner call with its own arena
 *              and output: 0 or -1 finish the task at once, 1 when the call
 *              completes.  Success is a claim: a handler that cannot do
 *              what was asked fails rather than returning 0.
 */
#ifndef XB_API_H
#define XB_API_H

#include <stdint.h>

#include "api/dm.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "rpc/emit.h"
#include "rpc/value.h"

#define API_MAX_ERR 8

struct call {
	struct arena *a;                /* per request; freed by the server */
	struct emit *e;                 /* writes into out */
	struct buf *out;
	const char *method;
	const struct xv *params;        /* XV_ARRAY */
	struct obj *session;
	int local_root;                 /* Unix socket, peer uid 0 */
	const char *peer;               /* client address (rate limiting) */
	const char *err[API_MAX_ERR];   /* ErrorDescription; nerr 0 = success */
	int nerr;
	void (*complete)(struct call *c);
	void *conn;                     /* the transport's handle */
	const char *task;               /* Async.*: the task's ref, else NULL */
	/* a waiting event.from / event.next */
	struct call *wait_next;
	int64_t deadline_ms;
	int waiting;
	struct dm_val *wait_args;
};

/* Dispatch c->method with c->params.  Always ends in c->complete(c), now or
 * later (then it returns 1). */
int api_dispatch(struct call *c);

/* The pool's forwarding (docs/POOL.md 5.1), set by the daemon so that the
 * API knows no pool: route runs before every message (after the session
 * and parameter count were checked; for Async.* on the inner call, msg
 * without the prefix: "start" of VM.start) and returns 0 to run it here
 * (another host's objects refused), 2 to run it here although it names
 * one (host.destroy: the master's business), -1 after api_fail(), or 1
 * when it sent the call elsewhere: then it completes c later, as a
 * waiting handler does.  cancel forgets c (its
 * caller went away; see api_cancel). */
void api_set_route_hook(int (*route)(struct call *c, const struct dm_class *k, const char *msg),
			void (*cancel)(struct call *c));
/* A waiting call's caller went away (a connection closed, a pool channel
 * dropped): every kind of wait forgets c (events, VM jobs, logins, calls
 * forwarded); the operations go on, nobody is answered.  The one place
 * that knows them all. */
void api_cancel(struct call *c);

/* Record a XenAPI failure: code then parameters, NULL-terminated.  The
 * strings are copied into the call's arena.  Returns -1 for `return
 * api_fail(...)` in handlers. */
int api_fail(struct call *c, const char *code, ...) __attribute__((sentinel));
int api_failf_internal(struct call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether <class>.<name> is answered (a message of its own or a derived
 * accessor, create, destroy). */
int api_msg_exists(const struct dm_class *k, const char *name);

/* A class by the name a client gave (exact case, or any with any_case);
 * NULL for an unknown or internal (DM_C_INTERNAL) class. */
struct dm_class *api_class_find(const char *name, int any_case);

/* The object named by ref if it is of class cls, else HANDLE_INVALID. */
struct obj *api_obj(struct call *c, const char *cls, const char *ref);

/* A wire value as a datamodel value of type t (heap; dm_val_free it).
 * 0, or -1 when x does not fit t. */
int api_val_from_wire(const struct dm_type *t, const struct xv *x, struct dm_val *v);

/* Emitting values and records. */
void api_emit_val(struct emit *e, const struct dm_type *t, const struct dm_val *v);
void api_emit_record(struct emit *e, const struct obj *o);
/* Objects another host owns (owner != 0, docs/POOL.md 4): the pool sets
 * this hook; 0 when owner n is offline, and its objects' allowed_operations
 * are then written [] (nothing stored).  Writes to such objects, and
 * operations on them, are refused (OPERATION_NOT_ALLOWED) by the
 * dispatcher: they belong to their owner. */
extern int (*api_owner_up)(unsigned n);

/* Events (api/event.c): wake waiting event.from calls after changes. */
void api_events_changed(void);
/* Called by the server's loop: expire timed-out waits; returns the ms until
 * the next deadline or -1. */
int64_t api_events_tick(int64_t now);
void api_events_cancel(struct call *c);   /* connection went away */
/* A session ends (logout, GC): its legacy event registration goes, and
 * its waiting event.from/next calls fail with SESSION_INVALID. */
void api_events_session_gone(const char *session);

/* Daemon exit: free the inner calls of Async.* requests still waiting. */
void api_async_dispose(void);

/* Tasks (api/task.c): collected as XAPI's GC does (now in seconds); the
 * tick runs that every 30 s and returns the ms until the next run.  An
 * operation marks its task cancellable while it can stop. */
void api_tasks_gc(int64_t now);
int64_t api_tasks_tick(int64_t now_ms);
void api_task_set_cancellable(const char *ref, int yes);
/* A GET route answered status (200 or an error) in the client's task ref
 * (?task_id=; may be NULL): it completes, as XAPI's HTTP handlers do. */
void api_task_http_done(const char *ref, int status);

/* SR, VDI, VBD and VIF operations (api/device_ops.c): whether op may run on
 * o now (0, or -1 after XAPI's failure; c NULL: only asks), and, once per
 * loop iteration, the allowed_operations of those changed since. */
int api_dev_op_check(struct call *c, struct obj *o, const char *op);
void api_dev_ops_refresh(void);

/* Subsystem start-up (api/host.c): create or adopt this host's objects. */
struct vmm;
/* A message object (api/message.c): cls is a "cls" enum name ("VM",
 * "Host", ...).  The oldest are deleted beyond 10000. */
struct obj *api_message_create(const char *name, int64_t priority, const char *cls,
			       const char *obj_uuid, const char *body);
int api_host_init(struct vmm *vmm, const char *hostname, char *err, size_t errlen);
extern struct obj *api_this_host, *api_pool;

/* Auth and sessions (api/session.c) */
int api_auth_init(const char *state_dir, const char *hash_override);
/* Drop sessions idle for 24 h; with originator, cap that originator's. */
void api_session_gc(const char *originator);
/* A login or a Basic check of c waits for its password hash: forget c
 * (its connection went away; the check still counts). */
void api_session_cancel(struct call *c);
/* How the reason of a SESSION_AUTHENTICATION_FAILED begins when no
 * password was checked: the address's failed logins, or the checks in
 * flight, over their limits.  /pool/ws answers it 429 (docs/POOL.md 2.3). */
#define API_AUTH_LIMITED "Too many "
/* HTTP handlers' credentials (server/conn.c).  ?session_id=: 1 if ref is
 * a session (a use: its last_active is now), else 0.  Basic user:pass:
 * root's password, checked as a login's (address limits, the cache, the
 * hash off the loop); ends in c->complete(c), now or later (returns 1),
 * with c->nerr 0 when good, else SESSION_AUTHENTICATION_FAILED. */
int api_session_use(const char *ref);
/* 0 when c is root's (a root login, or the local superuser on the Unix
 * socket), else -1 after RBAC_PERMISSION_DENIED [perm, why].  Every
 * session is root's today; the check is the rule for xenbox's privileged
 * extensions (pool.*_join_token) when other users come. */
int api_require_root(struct call *c, const char *perm);
int api_http_basic(struct call *c, const char *user, const char *pass);

#endif
