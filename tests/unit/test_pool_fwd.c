/* Forwarding (pool/forward.c, docs/POOL.md 5): the rules of 5.1 over
 * objects a member owns; on the master, a call going down a channel (a
 * socketpair here) as JSON-RPC with the member's session, its answer
 * converted by the message's result type for XML-RPC and JSON callers,
 * errors unchanged, HOST_OFFLINE / CANNOT_CONTACT_HOST (offline, no
 * channel, channel dropped while waiting, the 3600 s timeout), a caller
 * that went away, Async.* tasks resident on the member; on the member, a
 * call from the master run by its dispatcher and answered only once its
 * changes are saved.  Two daemons on loopback: the integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <math.h>
#include <signal.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "pool/chan.h"
#include "pool/forward.h"
#include "pool/master.h"
#include "pool/pool.h"
#include "pool/ws.h"
#include "rpc/json.h"
#include "rpc/xmlrpc.h"
#include "server/loop.h"
#include "vmm/backend.h"

#define MHOST_UUID "6f1c0d2e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"
#define M2HOST_UUID "7f1c0d2e-1b2a-4c3d-8e9f-0a1b2c3d4e5f"
#define SESS "OpaqueRef:11111111-2222-4333-8444-555555555555"

static struct vmm *vmm;
static char session[DM_REF_LEN];
/* the member's objects as the mirror holds them (owner 1) */
static struct obj *mhost, *mvm, *msr, *mmsg, *lvm;
static struct mem *mx;
static int peer_fd = -1;                /* the member's end of the channel */

static void t_raw(struct chan *ch) { (void)ch; }
static int t_msg(struct chan *ch, char *s, size_t n) { (void)ch; (void)s; (void)n; return 0; }
static void t_closed(struct chan *ch, const char *why)
{
	(void)why;
	if (mx->ch == ch)
		mx->ch = NULL;
	fwd_gone(ch);
}
static const struct chan_ops t_ops = { t_raw, t_msg, t_closed };

static struct obj *mk(const char *cls, unsigned owner)
{
	struct obj *o = dm_obj_new(dm_class_find(cls), NULL, NULL);

	o->owner = owner;
	return o;
}

static int setup(void **state)
{
	char err[256];
	struct obj *s, *pm;

	(void)state;
	log_level = LOG_ERR;
	if (dm_init(err, sizeof(err)) || loop_init() ||
	    vmm_open("sim", "mem=8G,shutdown_delay=0", &vmm, err, sizeof(err)) ||
	    api_host_init(vmm, "unit", err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	api_auth_init("/nonexistent", NULL);
	s = dm_obj_new(dm_class_find("session"), NULL, NULL);
	s->transient = 1;
	dm_set_int(s, OF(s, session, is_local_superuser), 1);
	dm_set_str(s, OF(s, session, auth_user_name), "root");
	strcpy(session, s->ref);
	pm = dm_obj_new(dm_class_find("pool_member"), NULL, NULL);
	dm_set_str(pm, FLD(pool_member, host_uuid), MHOST_UUID);
	pm = dm_obj_new(dm_class_find("pool_member"), NULL, NULL);
	dm_set_str(pm, FLD(pool_member, host_uuid), M2HOST_UUID);
	pool_master_init(60, 60, NULL);          /* slots 1 and 2; the route hook */
	mx = master_mem(1);
	mhost = dm_obj_new(dm_class_find("host"), NULL, MHOST_UUID);
	mhost->owner = 1;
	/* the mirror records the member's host at its first hello */
	dm_set_str(dm_obj_by_uuid(dm_class_find("pool_member"), mx->uuid),
		   FLD(pool_member, host), mhost->ref);
	mvm = mk("VM", 1);
	msr = mk("SR", 1);
	mmsg = mk("message", 1);
	lvm = mk("VM", 0);
	return mx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	pool_master_dispose();
	loop_dispose();
	dm_dispose();
	vmm_close(vmm);
	vmm = NULL;
	return 0;
}

/* ---- calls ---- */

struct res {
	struct arena a;
	struct buf out;
	struct emit e;
	struct call c;
	int done;
};

static void done(struct call *c)
{
	((struct res *)((char *)c - offsetof(struct res, c)))->done = 1;
}

static struct xv *S(struct arena *a, const char *s)
{
	return xv_str(a, s, strlen(s));
}

static struct xv *B(struct arena *a, int b)
{
	struct xv *x = xv_new(a, XV_BOOL);

	x->u.b = b;
	return x;
}

/* A struct {k: v} */
static struct xv *rec1(struct arena *a, const char *k, const char *v)
{
	struct xv *x = xv_new(a, XV_STRUCT);

	x->u.m = arena_alloc(a, sizeof(struct xv_member));
	x->u.m[0].name = k;
	x->u.m[0].v = S(a, v);
	x->len = 1;
	return x;
}

/* Start method with params (the session first is added) on the master,
 * for an XML-RPC (xml) or JSON caller; it may wait. */
static void start(struct res *r, int xml, const char *method, int n, ...)
{
	struct xv *arr;
	va_list ap;

	memset(r, 0, sizeof(*r));
	arena_init(&r->a, 0);
	buf_init(&r->out);
	arr = xv_new(&r->a, XV_ARRAY);
	arr->u.a = arena_alloc(&r->a, sizeof(struct xv *) * (size_t)(n + 1));
	arr->u.a[0] = S(&r->a, session);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		arr->u.a[i + 1] = va_arg(ap, struct xv *);
	va_end(ap);
	arr->len = (size_t)n + 1;
	if (xml)
		xmlrpc_emit_init(&r->e, &r->out);
	else
		json_emit_init(&r->e, &r->out);
	r->c.a = &r->a;
	r->c.e = &r->e;
	r->c.out = &r->out;
	r->c.method = method;
	r->c.params = arr;
	r->c.peer = "unit";
	r->c.complete = done;
	api_dispatch(&r->c);
}

static void res_free(struct res *r)
{
	if (!r->done)
		api_cancel(&r->c);
	buf_free(&r->out);
	arena_free(&r->a);
}

static const char *out(struct res *r)
{
	buf_addc(&r->out, 0);
	r->out.len--;
	return r->out.data;
}

static void assert_err(struct res *r, const char *code, const char *p1)
{
	assert_true(r->done);
	if (!r->c.nerr || strcmp(r->c.err[0], code))
		fail_msg("%s: expected %s, got %s", r->c.method, code,
			 r->c.nerr ? r->c.err[0] : "success");
	if (p1) {
		assert_true(r->c.nerr >= 2);
		assert_string_equal(r->c.err[1], p1);
	}
}

/* ---- the channel's other end ---- */

/* A channel to the member, live, with its session from the hello. */
static void connect_member(void)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	mx->ch = chan_new(sv[0], NULL, 1, &t_ops, mx, "member");
	assert_non_null(mx->ch);
	chan_ws_start(mx->ch);
	mx->up = 1;
	snprintf(mx->session, sizeof(mx->session), "%s", SESS);
	peer_fd = sv[1];
}

static void disconnect_member(void)
{
	if (mx->ch)
		chan_free(mx->ch, "test");
	if (peer_fd >= 0)
		close(peer_fd);
	peer_fd = -1;
}

/* The next text message fd has (a whole frame, as the sender writes
 * them), parsed into a; masked says who sent it (a member masks). */
static struct xv *next_msg(int fd, struct arena *a, int masked)
{
	static unsigned char buf[1 << 16];
	struct ws_dec d;
	struct ws_frame f;
	size_t used;
	ssize_t n = read(fd, buf, sizeof(buf));
	struct xv *v;
	const char *err;

	assert_true(n > 0);
	ws_dec_init(&d, masked, 0);
	assert_int_equal(ws_decode(&d, buf, (size_t)n, &f, &used), WS_FRAME);
	assert_int_equal(f.op, WS_TEXT);
	assert_int_equal(json_parse(a, (char *)f.payload, f.len, &v, &err), 0);
	return v;
}

static int nothing_to_read(int fd)
{
	char c;

	return read(fd, &c, 1) < 0;
}

static const char *str_of(const struct xv *v, const char *k)
{
	const struct xv *x = xv_get(v, k);

	assert_non_null(x);
	assert_int_equal(x->type, XV_STRING);
	return x->u.s;
}

/* The member's answer, as the master's on_msg hands it over. */
static void answer(const char *json)
{
	struct arena a;
	struct xv *v;
	const char *err;

	arena_init(&a, 0);
	assert_int_equal(json_parse(&a, json, strlen(json), &v, &err), 0);
	fwd_answer(mx->ch, v);
	arena_free(&a);
}

/* The member answers the call v with body ("result":... or "error":...) */
static void reply_to(const struct xv *v, const char *body)
{
	char b[512];

	snprintf(b, sizeof(b), "{\"jsonrpc\":\"2.0\",%s,\"id\":\"%s\"}", body, str_of(v, "id"));
	answer(b);
}


/* ---- 5.1: the rules ---- */

static struct obj *routed(const char *cls, const char *msg, int n, struct xv **p)
{
	struct arena a;
	struct call c = { 0 };
	struct xv *arr;
	struct obj *to = (struct obj *)1;
	int r;

	arena_init(&a, 0);
	arr = xv_new(&a, XV_ARRAY);
	arr->u.a = arena_alloc(&a, sizeof(struct xv *) * (size_t)(n + 1));
	arr->u.a[0] = S(&a, session);
	for (int i = 0; i < n; i++)
		arr->u.a[i + 1] = p[i];
	arr->len = (size_t)n + 1;
	c.a = &a;
	c.params = arr;
	r = fwd_route(&c, dm_class_find(cls), msg, &to);
	if (r)          /* -1 failed: 2; 1 here although another host's: 3 */
		to = (struct obj *)(uintptr_t)(r < 0 ? 2 : 3);
	arena_free(&a);
	return to;
}

static void test_route_rules(void **state)
{
	struct arena a;
	struct xv *vm, *lv, *h, *lh;

	(void)state;
	arena_init(&a, 0);
	vm = S(&a, mvm->ref);
	lv = S(&a, lvm->ref);
	h = S(&a, mhost->ref);
	lh = S(&a, api_this_host->ref);
	/* reads: from the mirror, here */
	assert_null(routed("VM", "get_record", 1, &vm));
	assert_null(routed("VM", "get_name_label", 1, &vm));
	assert_null(routed("VM", "get_all_records", 0, NULL));
	assert_null(routed("host", "get_name_label", 1, &h));
	/* writes and custom messages: the owner of the object */
	assert_ptr_equal(routed("VM", "set_name_label", 2, (struct xv *[]){ vm, S(&a, "x") }), mvm);
	assert_ptr_equal(routed("VM", "add_to_other_config", 3,
				(struct xv *[]){ vm, S(&a, "k"), S(&a, "v") }), mvm);
	assert_ptr_equal(routed("VM", "destroy", 1, &vm), mvm);
	assert_ptr_equal(routed("VM", "start", 3, (struct xv *[]){ vm, B(&a, 0), B(&a, 0) }), mvm);
	assert_ptr_equal(routed("VM", "clean_shutdown", 1, &vm), mvm);
	assert_ptr_equal(routed("host", "get_servertime", 1, &h), mhost);      /* custom get_ */
	assert_ptr_equal(routed("host", "get_server_certificate", 1, &h), mhost);
	assert_ptr_equal(routed("message", "destroy", 1, (struct xv *[]){ S(&a, mmsg->ref) }),
			 mmsg);
	/* the master's own objects stay here */
	assert_null(routed("VM", "start", 3, (struct xv *[]){ lv, B(&a, 0), B(&a, 0) }));
	assert_null(routed("host", "get_servertime", 1, &lh));
	/* creates: by the record's SR, VM, affinity */
	assert_ptr_equal(routed("VDI", "create", 1, (struct xv *[]){ rec1(&a, "SR", msr->ref) }),
			 msr);
	assert_ptr_equal(routed("VBD", "create", 1, (struct xv *[]){ rec1(&a, "VM", mvm->ref) }),
			 mvm);
	assert_ptr_equal(routed("VIF", "create", 1, (struct xv *[]){ rec1(&a, "VM", mvm->ref) }),
			 mvm);
	assert_ptr_equal(routed("VM", "create", 1,
				(struct xv *[]){ rec1(&a, "affinity", mhost->ref) }), mhost);
	assert_null(routed("VM", "create", 1,
			   (struct xv *[]){ rec1(&a, "affinity", api_this_host->ref) }));
	assert_null(routed("VM", "create", 1, (struct xv *[]){ rec1(&a, "name_label", "x") }));
	assert_null(routed("VDI", "create", 1, (struct xv *[]){ rec1(&a, "SR", "junk") }));
	/* the master's classes, whatever the parameters name */
	assert_ptr_equal(routed("pool", "eject", 1, &h), mhost);
	assert_null(routed("pool", "set_name_label", 2, (struct xv *[]){ h, S(&a, "x") }));
	assert_ptr_equal(routed("host", "destroy", 1, &h), (struct obj *)3);
	assert_null(routed("task", "cancel", 1, &vm));
	assert_null(routed("session", "logout", 0, NULL));
	assert_null(routed("event", "from", 3, (struct xv *[]){ vm, S(&a, ""), S(&a, "1") }));
	assert_null(routed("message", "create", 4,
			   (struct xv *[]){ S(&a, "n"), S(&a, "1"), S(&a, "VM"), vm }));
	/* start_on: only to the VM's own host (hand-over is stage 11) */
	assert_ptr_equal(routed("VM", "start_on", 4,
				(struct xv *[]){ vm, h, B(&a, 0), B(&a, 0) }), mvm);
	assert_ptr_equal(routed("VM", "start_on", 4,
				(struct xv *[]){ vm, lh, B(&a, 0), B(&a, 0) }), (struct obj *)2);
	arena_free(&a);
}

static void test_start_on_other_host_refused(void **state)
{
	struct res r;
	struct arena a;

	(void)state;
	connect_member();
	arena_init(&a, 0);
	start(&r, 0, "VM.start_on", 4, S(&a, mvm->ref), S(&a, api_this_host->ref), B(&a, 0),
	      B(&a, 0));
	assert_err(&r, "OPERATION_NOT_ALLOWED", NULL);
	assert_non_null(strstr(r.c.err[1], dm_get_str(mvm, mvm->cls->f_uuid)));
	assert_non_null(strstr(r.c.err[1], MHOST_UUID));
	assert_true(nothing_to_read(peer_fd));          /* nothing was sent */
	res_free(&r);
	arena_free(&a);
	disconnect_member();
}

/* ---- the master: forwarded calls ---- */

static void test_forward_and_answer(void **state)
{
	struct res r;
	struct arena a, m;
	struct xv *v;
	const struct xv *p;

	(void)state;
	connect_member();
	arena_init(&a, 0);
	arena_init(&m, 0);
	start(&r, 0, "VM.start", 2, S(&a, mvm->ref), B(&a, 1));
	assert_false(r.done);                           /* waits for the member */
	v = next_msg(peer_fd, &m, 0);
	assert_string_equal(str_of(v, "method"), "VM.start");
	assert_string_equal(str_of(v, "jsonrpc"), "2.0");
	p = xv_get(v, "params");
	assert_int_equal(p->len, 3);
	assert_string_equal(p->u.a[0]->u.s, SESS);      /* the member's session */
	assert_string_equal(p->u.a[1]->u.s, mvm->ref);
	assert_int_equal(p->u.a[2]->type, XV_BOOL);     /* as the client sent it */
	assert_true(p->u.a[2]->u.b);
	/* an answer to another id changes nothing */
	answer("{\"jsonrpc\":\"2.0\",\"result\":\"\",\"id\":\"m999\"}");
	assert_false(r.done);
	assert_string_equal(str_of(v, "id"), "m1");
	reply_to(v, "\"result\":\"\"");
	assert_true(r.done);
	assert_int_equal(r.c.nerr, 0);
	assert_string_equal(out(&r), "\"\"");
	res_free(&r);

	/* an error comes back as the member's, parameters and all */
	start(&r, 1, "VM.clean_shutdown", 1, S(&a, mvm->ref));
	assert_false(r.done);
	v = next_msg(peer_fd, &m, 0);
	assert_string_equal(str_of(v, "id"), "m2");
	answer("{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":\"VM_BAD_POWER_STATE\","
	       "\"data\":[\"OpaqueRef:x\",\"running\",\"halted\"]},\"id\":\"m2\"}");
	assert_err(&r, "VM_BAD_POWER_STATE", "OpaqueRef:x");
	assert_int_equal(r.c.nerr, 4);
	assert_string_equal(r.c.err[2], "running");
	assert_string_equal(r.c.err[3], "halted");
	res_free(&r);
	arena_free(&a);
	arena_free(&m);
	disconnect_member();
}

/* The result converted by the message's type, in the caller's wire style */
static void test_conversion(void **state)
{
	struct res r;
	struct arena a, m;

	(void)state;
	connect_member();
	arena_init(&a, 0);
	arena_init(&m, 0);
	/* datetime: an XML-RPC caller gets a dateTime.iso8601, a JSON one a string */
	start(&r, 1, "host.get_servertime", 1, S(&a, mhost->ref));
	reply_to(next_msg(peer_fd, &m, 0), "\"result\":\"20260101T10:20:30Z\"");
	assert_int_equal(r.c.nerr, 0);
	assert_non_null(strstr(out(&r), "<dateTime.iso8601>20260101T10:20:30Z</dateTime.iso8601>"));
	res_free(&r);
	start(&r, 0, "host.get_servertime", 1, S(&a, mhost->ref));
	reply_to(next_msg(peer_fd, &m, 0), "\"result\":\"20260101T10:20:30Z\"");
	assert_string_equal(out(&r), "\"20260101T10:20:30Z\"");
	res_free(&r);
	/* a result that does not fit the type is the member's fault, said so */
	start(&r, 0, "host.get_servertime", 1, S(&a, mhost->ref));
	reply_to(next_msg(peer_fd, &m, 0), "\"result\":[1]");
	assert_err(&r, "INTERNAL_ERROR", NULL);
	assert_int_equal(r.out.len, 0);
	res_free(&r);
	/* neither result nor error */
	start(&r, 0, "VM.set_name_label", 2, S(&a, mvm->ref), S(&a, "x"));
	reply_to(next_msg(peer_fd, &m, 0), "\"x\":0");
	assert_err(&r, "INTERNAL_ERROR", NULL);
	res_free(&r);
	/* a create answers the new ref */
	start(&r, 1, "VDI.create", 1, rec1(&a, "SR", msr->ref));
	reply_to(next_msg(peer_fd, &m, 0), "\"result\":\"OpaqueRef:new\"");
	assert_int_equal(r.c.nerr, 0);
	assert_non_null(strstr(out(&r), "OpaqueRef:new"));
	res_free(&r);
	arena_free(&a);
	arena_free(&m);
	disconnect_member();
}

/* A parameter JSON cannot carry is refused on the master, not sent */
static void test_unsendable_param(void **state)
{
	struct res r;
	struct arena a;
	struct xv *d;

	(void)state;
	connect_member();
	arena_init(&a, 0);
	d = xv_new(&a, XV_DOUBLE);
	d->u.d = NAN;
	start(&r, 0, "VM.add_to_other_config", 3, S(&a, mvm->ref), S(&a, "k"), d);
	assert_err(&r, "FIELD_TYPE_ERROR", NULL);
	assert_true(nothing_to_read(peer_fd));
	res_free(&r);
	arena_free(&a);
	disconnect_member();
}

/* 5.4 */
static void test_offline_and_unreachable(void **state)
{
	struct res r;
	struct arena a, m;

	(void)state;
	arena_init(&a, 0);
	arena_init(&m, 0);
	/* not live: HOST_OFFLINE [its host] at once */
	mx->up = 0;
	start(&r, 0, "VM.start", 2, S(&a, mvm->ref), B(&a, 0));
	assert_err(&r, "HOST_OFFLINE", mhost->ref);
	res_free(&r);
	/* live, but no channel right now */
	mx->up = 1;
	start(&r, 0, "VM.start", 2, S(&a, mvm->ref), B(&a, 0));
	assert_err(&r, "CANNOT_CONTACT_HOST", mhost->ref);
	res_free(&r);
	/* the channel drops while two calls wait */
	connect_member();
	{
		struct res r2;

		start(&r, 0, "VM.start", 2, S(&a, mvm->ref), B(&a, 0));
		start(&r2, 1, "VM.set_name_label", 2, S(&a, mvm->ref), S(&a, "y"));
		assert_false(r.done || r2.done);
		disconnect_member();
		assert_err(&r, "CANNOT_CONTACT_HOST", mhost->ref);
		assert_err(&r2, "CANNOT_CONTACT_HOST", mhost->ref);
		res_free(&r2);
	}
	res_free(&r);
	/* no answer for 3600 s */
	connect_member();
	start(&r, 0, "VM.start", 2, S(&a, mvm->ref), B(&a, 0));
	fwd_tick(now_ms() + 3599 * 1000);
	assert_false(r.done);
	fwd_tick(now_ms() + 3600 * 1000 + 1);
	assert_err(&r, "CANNOT_CONTACT_HOST", mhost->ref);
	res_free(&r);
	arena_free(&a);
	arena_free(&m);
	disconnect_member();
}

/* The caller goes away: the answer, when it comes, goes nowhere */
static void test_caller_gone(void **state)
{
	struct res *r = malloc(sizeof(*r));
	struct arena a, m;
	struct xv *v;
	char ans[128];

	(void)state;
	connect_member();
	arena_init(&a, 0);
	arena_init(&m, 0);
	start(r, 0, "VM.start", 2, S(&a, mvm->ref), B(&a, 0));
	v = next_msg(peer_fd, &m, 0);
	res_free(r);            /* cancels: the call is forgotten */
	free(r);                /* ASan: nothing may touch it now */
	snprintf(ans, sizeof(ans), "{\"jsonrpc\":\"2.0\",\"result\":\"\",\"id\":\"%s\"}",
		 str_of(v, "id"));
	answer(ans);
	arena_free(&a);
	arena_free(&m);
	disconnect_member();
}

/* 5.5: Async.* is the master's task, resident on the member's host */
static void test_async_task(void **state)
{
	struct res r;
	struct arena a, m;
	struct xv *v;
	struct obj *t;
	char ans[160];

	(void)state;
	connect_member();
	arena_init(&a, 0);
	arena_init(&m, 0);
	start(&r, 0, "Async.VM.start", 2, S(&a, mvm->ref), B(&a, 0));
	assert_true(r.done);            /* the task's ref, at once */
	assert_int_equal(r.c.nerr, 0);
	t = dm_obj_by_ref_cls(dm_class_find("task"), strtok((char *)out(&r) + 1, "\""));
	assert_non_null(t);
	assert_string_equal(dm_get_str(t, OF(t, task, resident_on)), mhost->ref);
	assert_string_equal(dm_get_enum(t, OF(t, task, status)), "pending");
	v = next_msg(peer_fd, &m, 0);
	assert_string_equal(str_of(v, "method"), "VM.start");   /* Async. stripped */
	snprintf(ans, sizeof(ans), "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":1,\"message\":"
		 "\"VM_BAD_POWER_STATE\",\"data\":[\"a\",\"b\",\"c\"]},\"id\":\"%s\"}",
		 str_of(v, "id"));
	answer(ans);
	assert_string_equal(dm_get_enum(t, OF(t, task, status)), "failure");
	res_free(&r);
	arena_free(&a);
	arena_free(&m);
	disconnect_member();
}

/* ---- the member: the master's calls ---- */

static int saved;
static int saved_since(uint64_t gen)
{
	(void)gen;
	return saved;
}

static void test_member_runs_calls(void **state)
{
	int sv[2];
	struct chan *ch;
	struct arena m;
	struct xv *v;
	const struct xv *e;
	char call[300];
	const char *sess;

	(void)state;
	arena_init(&m, 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ch = chan_new(sv[0], NULL, 1, &t_ops, mx, "master");
	sess = session;         /* the channel's (the mirror makes it in the hello) */
	/* a change: answered only once saved */
	snprintf(call, sizeof(call), "{\"jsonrpc\":\"2.0\",\"method\":\"VM.set_name_label\","
		 "\"params\":[\"%s\",\"%s\",\"renamed\"],\"id\":\"m7\"}", sess, lvm->ref);
	assert_int_equal(fwd_run(ch, call, strlen(call)), 0);
	assert_string_equal(dm_get_str(lvm, OF(lvm, VM, name_label)), "renamed");
	/* not saved yet; saved but the syncs sent do not cover it; both */
	saved = 0;
	fwd_release(saved_since, dm_gen);
	assert_true(nothing_to_read(sv[1]));
	saved = 1;
	fwd_release(saved_since, dm_gen - 1);
	assert_true(nothing_to_read(sv[1]));
	fwd_release(saved_since, dm_gen);
	v = next_msg(sv[1], &m, 0);
	assert_string_equal(str_of(v, "id"), "m7");
	assert_string_equal(str_of(v, "result"), "");
	/* an error, XenAPI's shape; a read goes at once */
	saved = 0;
	snprintf(call, sizeof(call), "{\"jsonrpc\":\"2.0\",\"method\":\"VM.start\","
		 "\"params\":[\"%s\",\"OpaqueRef:nope\",false,false],\"id\":\"m8\"}", sess);
	assert_int_equal(fwd_run(ch, call, strlen(call)), 0);
	fwd_release(saved_since, 0);
	v = next_msg(sv[1], &m, 0);
	assert_string_equal(str_of(v, "id"), "m8");
	e = xv_get(v, "error");
	assert_non_null(e);
	assert_string_equal(str_of(e, "message"), "HANDLE_INVALID");
	/* a response is not a call */
	assert_int_equal(fwd_run(ch, "{\"jsonrpc\":\"2.0\",\"result\":1,\"id\":\"s1\"}", 38), -1);
	/* a call still running when the channel goes is forgotten (ASan) */
	chan_free(ch, "test");
	fwd_closed();
	close(sv[1]);
	arena_free(&m);
}

/* A channel whose write fails while its own frames are handled (the pong
 * of a ping, an answer that completes a call that sends again) is closed
 * at once and freed only after: the frames behind are not read from
 * freed memory (ASan), and closed() runs once. */
static int closes;
static int c_msg(struct chan *ch, char *s, size_t n)
{
	struct buf b = BUF_INIT;

	(void)s;
	(void)n;
	buf_adds(&b, "{}");
	chan_send(ch, &b);      /* fails: the peer is gone */
	buf_free(&b);
	return 0;
}
static void c_closed(struct chan *ch, const char *why)
{
	(void)ch;
	(void)why;
	closes++;
}

static void test_chan_closed_while_handling(void **state)
{
	static const struct chan_ops ops[2] = { { t_raw, t_msg, c_closed },
						{ t_raw, c_msg, c_closed } };
	unsigned char mask[4] = { 1, 2, 3, 4 };

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < 2; i++) {
		int sv[2];
		struct chan *ch;

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
		close(sv[1]);
		ch = chan_new(sv[0], NULL, 1, &ops[i], NULL, "peer");
		assert_non_null(ch);
		/* i 0: a ping, whose pong fails; i 1: a message whose handler
		 * writes; then more frames behind */
		ws_frame_add(&ch->in, i ? WS_TEXT : WS_PING, 1, "{}", 2, mask);
		ws_frame_add(&ch->in, WS_TEXT, 1, "{}", 2, mask);
		ws_frame_add(&ch->in, WS_TEXT, 1, "{}", 2, mask);
		closes = 0;
		chan_ws_start(ch);      /* ch is gone after */
		assert_int_equal(closes, 1);
	}
}

/* 3.7 on the master: host.destroy of an offline member, pool.eject of a
 * live one (member 2: its own objects) */
static void test_destroy_and_eject(void **state)
{
	struct res r;
	struct arena a, m;
	struct mem *x2 = master_mem(2), *keep = mx;
	struct obj *h2, *vm2;
	char h2ref[DM_REF_LEN], vm2ref[DM_REF_LEN];

	(void)state;
	arena_init(&a, 0);
	arena_init(&m, 0);
	h2 = dm_obj_new(dm_class_find("host"), NULL, M2HOST_UUID);
	h2->owner = 2;
	dm_set_str(dm_obj_by_uuid(dm_class_find("pool_member"), x2->uuid), FLD(pool_member, host),
		   h2->ref);
	vm2 = mk("VM", 2);
	strcpy(h2ref, h2->ref);
	strcpy(vm2ref, vm2->ref);
	/* host.destroy runs on the master, never forwarded */
	start(&r, 0, "host.destroy", 1, S(&a, api_this_host->ref));
	assert_err(&r, "HOST_CANNOT_DESTROY_SELF", api_this_host->ref);
	res_free(&r);
	x2->up = 1;
	start(&r, 0, "host.destroy", 1, S(&a, h2ref));
	assert_err(&r, "HOST_IS_LIVE", h2ref);
	res_free(&r);
	/* pool.eject of member 2 goes to it; its answer makes the master forget it */
	mx = x2;
	connect_member();
	start(&r, 0, "pool.eject", 1, S(&a, h2ref));
	assert_false(r.done);
	reply_to(next_msg(peer_fd, &m, 0), "\"result\":\"\"");
	assert_true(r.done);
	assert_int_equal(r.c.nerr, 0);
	assert_null(dm_obj_by_ref(h2ref));              /* the mirror is gone */
	assert_null(dm_obj_by_ref(vm2ref));
	assert_null(dm_obj_by_uuid(dm_class_find("pool_member"), x2->uuid));
	assert_false(x2->up || x2->live);
	res_free(&r);
	disconnect_member();
	/* a member that refuses the eject stays */
	mx = keep;
	connect_member();
	start(&r, 0, "pool.eject", 1, S(&a, mhost->ref));
	reply_to(next_msg(peer_fd, &m, 0), "\"error\":{\"code\":1,\"message\":\"X\",\"data\":[]}");
	assert_err(&r, "X", NULL);
	assert_non_null(dm_obj_by_ref(mhost->ref));
	res_free(&r);
	disconnect_member();
	/* host.destroy of an offline member: mirror gone, certificate barred */
	mx->up = 0;
	start(&r, 1, "host.destroy", 1, S(&a, mhost->ref));
	assert_true(r.done);
	assert_int_equal(r.c.nerr, 0);
	res_free(&r);
	{
		struct obj *pm = dm_obj_by_uuid(dm_class_find("pool_member"), mx->uuid);

		assert_non_null(pm);
		assert_string_equal(dm_get_str(pm, FLD(pool_member, state)), "revoked");
		assert_null(dm_class_find("host")->first->next);        /* only the master's */
		for (struct obj *o = dm_class_find("VM")->first; o; o = o->next)
			assert_int_equal(o->owner, 0);
	}
	arena_free(&a);
	arena_free(&m);
}

/* The re-encoder: params[0] replaced, the rest as decoded */
static void test_json_emit_params(void **state)
{
	struct arena a;
	struct xv *p;
	struct buf b = BUF_INIT;
	struct emit e;
	const char *err;
	const char *xml = "<?xml version=\"1.0\"?><methodCall><methodName>VM.x</methodName>"
			  "<params><param><value>OpaqueRef:client</value></param>"
			  "<param><value><struct><member><name>a</name><value><i4>5</i4></value>"
			  "</member><member><name>t</name><value><dateTime.iso8601>"
			  "20260101T00:00:00Z</dateTime.iso8601></value></member></struct>"
			  "</value></param><param><value><double>1.5</double></value></param>"
			  "</params></methodCall>";
	struct rpc_call rc;

	(void)state;
	arena_init(&a, 0);
	assert_int_equal(xmlrpc_parse_call(&a, xml, strlen(xml), &rc, &err), 0);
	p = rc.params;
	json_emit_init(&e, &b);
	emit_array_begin(&e);
	assert_int_equal(json_emit_params(&e, "OpaqueRef:member", p), 0);
	emit_array_end(&e);
	buf_addc(&b, 0);
	assert_string_equal(b.data, "[\"OpaqueRef:member\",{\"a\":5,\"t\":\"20260101T00:00:00Z\"},1.5]");
	buf_free(&b);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_rules),
		cmocka_unit_test(test_start_on_other_host_refused),
		cmocka_unit_test(test_forward_and_answer),
		cmocka_unit_test(test_conversion),
		cmocka_unit_test(test_unsendable_param),
		cmocka_unit_test(test_offline_and_unreachable),
		cmocka_unit_test(test_caller_gone),
		cmocka_unit_test(test_async_task),
		cmocka_unit_test(test_member_runs_calls),
		cmocka_unit_test(test_json_emit_params),
		cmocka_unit_test(test_chan_closed_while_handling),
		cmocka_unit_test(test_destroy_and_eject),       /* last: it deletes */
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
