/* libFuzzer target: XML-RPC calls through the whole API dispatcher on the
 * sim backend.  Any crash, sanitizer report or leak is a bug.
 *
 * So that inputs reach past the session check, string parameters that are
 * exactly "S", "V", "H" or "P" are replaced by a valid session, a VM, the
 * host and the pool.  The model is rebuilt for every input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "rpc/xmlrpc.h"
#include "vmm/backend.h"

#include "pool_stub.h"

static struct vmm *vmm;
static char session[DM_REF_LEN], vm[DM_REF_LEN];
static int completed;

static void done(struct call *c)
{
	(void)c;
	completed = 1;
}

static void reset(void)
{
	char err[256];
	struct dm_class *k;
	struct obj *o;

	dm_dispose();
	vmm_close(vmm);
	if (dm_init(err, sizeof(err)) ||
	    vmm_open("sim", "mem=8G,shutdown_delay=0", &vmm, err, sizeof(err)) ||
	    api_host_init(vmm, "fuzz", err, sizeof(err))) {
		fprintf(stderr, "fuzz_api: %s\n", err);
		abort();
	}
	k = dm_class_find("session");
	o = dm_obj_new(k, NULL, NULL);
	o->transient = 1;
	strcpy(session, o->ref);
	o = dm_obj_new(dm_class_find("VM"), NULL, NULL);
	dm_set_str(o, OF(o, VM, PV_kernel), "/k");
	api_vm_on_create(NULL, o);
	strcpy(vm, o->ref);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	api_state_dir = strdup("/tmp");
	api_auth_init("/nonexistent", NULL);
	return 0;
}

static void substitute(struct xv *params)
{
	for (size_t i = 0; i < params->len; i++) {
		struct xv *x = params->u.a[i];

		if (x->type != XV_STRING || x->len != 1)
			continue;
		switch (x->u.s[0]) {
		case 'S': x->u.s = session; x->len = strlen(session); break;
		case 'V': x->u.s = vm; x->len = strlen(vm); break;
		case 'H': x->u.s = api_this_host->ref; x->len = strlen(x->u.s); break;
		case 'P': x->u.s = api_pool->ref; x->len = strlen(x->u.s); break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct rpc_call rc;
	struct buf out = BUF_INIT;
	struct emit e;
	struct call c;
	const char *err;

	reset();
	arena_init(&a, 1 << 20);
	if (!xmlrpc_parse_call(&a, (const char *)data, size, &rc, &err)) {
		substitute(rc.params);
		memset(&c, 0, sizeof(c));
		xmlrpc_emit_init(&e, &out);
		c.a = &a;
		c.e = &e;
		c.out = &out;
		c.method = rc.method;
		c.params = rc.params;
		c.peer = "fuzz";
		c.complete = done;
		completed = 0;
		api_dispatch(&c);
		if (!completed) {       /* a call that waits: drop it */
			api_cancel(&c);
		}
		/* a success is a well-formed value, a failure has a code */
		if (completed && c.nerr == 0 && out.len == 0)
			abort();
		if (completed && c.nerr && (!c.err[0] || !*c.err[0]))
			abort();
	}
	buf_free(&out);
	arena_free(&a);
	return 0;
}
