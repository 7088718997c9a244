/* libFuzzer target: a member's xbpool.sync applied on the master
 * (pool/mirror.c, docs/POOL.md 4.3), on a datamodel with this host's own
 * objects and another member's VM.  Any crash, sanitizer report or leak is
 * a bug, and so is an apply that touches what the member does not own:
 * this host's objects or the other member's, an object of a class that is
 * not mirrored, an index that lost an object.
 *
 * So that inputs reach past the checks, strings that are exactly "H", "T",
 * "L" or "D" become the member's host ref, the other member's VM, this
 * host and this host's control domain.  The model is rebuilt for every
 * input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "pool/chan.h"
#include "pool/master.h"
#include "pool/mirror.h"
#include "pool/relay.h"
#include "rpc/json.h"
#include "vmm/backend.h"

#include "pool_stub.h"

/* the channel and the member table (pool/chan.c, pool/master.c) are not
 * linked: the apply needs only these */
void chan_kv(struct emit *e, const char *k, const char *v)
{
	emit_member(e, k);
	emit_str(e, v);
}

void chan_call_begin(struct chan *ch, struct buf *b, struct emit *e, const char *method)
{
	(void)ch, (void)b, (void)e, (void)method;
	abort();
}

void chan_call_end(struct chan *ch, struct buf *b)
{
	(void)ch, (void)b;
	abort();
}

void chan_send(struct chan *ch, const struct buf *json)
{
	(void)ch, (void)json;
	abort();
}

struct mem *master_mem(unsigned slot)
{
	(void)slot;
	return NULL;
}

struct mem *master_mem_of(const char *uuid)
{
	(void)uuid;
	abort();
}

/* pool/relay.c's addresses need the member table: left as applied */
void relay_publish(struct obj *o, int fresh)
{
	(void)o, (void)fresh;
}

#define H1 "OpaqueRef:11111111-1111-4111-8111-111111111111"

static struct vmm *vmm;
static struct mem x1, x2;
static char theirs[DM_REF_LEN], dom0[DM_REF_LEN];

static void reset(void)
{
	char err[256];
	struct obj *o;

	dm_dispose();
	vmm_close(vmm);
	if (dm_init(err, sizeof(err)) ||
	    vmm_open("sim", "mem=8G,shutdown_delay=0", &vmm, err, sizeof(err)) ||
	    api_host_init(vmm, "fuzz", err, sizeof(err))) {
		fprintf(stderr, "fuzz_mirror: %s\n", err);
		abort();
	}
	memset(&x1, 0, sizeof(x1));
	memset(&x2, 0, sizeof(x2));
	x1.slot = 1;
	x1.up = 1;
	x2.slot = 2;
	o = dm_obj_new(dm_class_find("pool_member"), NULL, NULL);
	dm_set_str(o, OF(o, pool_member, host), H1);
	snprintf(x1.uuid, sizeof(x1.uuid), "%s", dm_get_str(o, o->cls->f_uuid));
	o = dm_obj_new(dm_class_find("VM"), NULL, NULL);
	dm_set_str(o, OF(o, VM, name_label), "theirs");
	o->owner = 2;
	snprintf(theirs, sizeof(theirs), "%s", o->ref);
	snprintf(dom0, sizeof(dom0), "%s",
		 dm_get_str(api_this_host, OF(api_this_host, host, control_domain)));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	api_state_dir = strdup("/tmp");
	return 0;
}

static void substitute(struct xv *x)
{
	if (x->type == XV_STRING && x->len == 1) {
		switch (x->u.s[0]) {
		case 'H': x->u.s = H1; break;
		case 'T': x->u.s = theirs; break;
		case 'L': x->u.s = api_this_host->ref; break;
		case 'D': x->u.s = dom0; break;
		default: return;
		}
		x->len = strlen(x->u.s);
	} else if (x->type == XV_ARRAY) {
		for (size_t i = 0; i < x->len; i++)
			substitute(x->u.a[i]);
	} else if (x->type == XV_STRUCT) {
		for (size_t i = 0; i < x->len; i++)
			substitute(x->u.m[i].v);
	}
}

/* Everything not the member's is as it was: same count of objects of
 * owner 0 and 2, none of them modified; the member's are mirrored ones;
 * every object is found by its ref and uuid. */
static void check(uint64_t gen0, size_t others)
{
	size_t n = 0;

	for (size_t ci = 0; ci < dm_nclasses; ci++)
		for (struct obj *o = dm_classes[ci]->first; o; o = o->next) {
			if (dm_obj_by_ref(o->ref) != o ||
			    (o->cls->f_uuid >= 0 &&
			     dm_obj_by_uuid(o->cls, dm_get_str(o, o->cls->f_uuid)) != o))
				abort();
			if (o->owner == 1) {
				if (!(o->cls->flags & DM_C_MIRROR))
					abort();
				continue;
			}
			if (!strcmp(o->cls->name, "message"))
				continue;       /* POOL_SYNC_REJECTED, made by the apply */
			n++;
			/* a host's inverse sets may list the member's objects
			 * (a VM resident on it): the only change allowed */
			if (o->gen_modified > gen0 && strcmp(o->cls->name, "host"))
				abort();
		}
	if (n != others)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;
	struct xv *v;
	const char *err;
	struct buf out = BUF_INIT;
	struct emit e;
	size_t others = 0;
	uint64_t gen0;

	reset();
	for (size_t ci = 0; ci < dm_nclasses; ci++)
		for (struct obj *o = dm_classes[ci]->first; o; o = o->next)
			others += strcmp(o->cls->name, "message") != 0;
	gen0 = dm_gen;
	arena_init(&a, 1u << 24);
	if (!json_parse(&a, (const char *)data, size, &v, &err)) {
		substitute(v);
		json_emit_init(&e, &out);
		mirror_apply(&x1, v, &e);
		/* twice: a repeat, and a full snapshot's second call */
		buf_reset(&out);
		json_emit_init(&e, &out);
		mirror_apply(&x1, v, &e);
		check(gen0, others);
		/* and what the API then says of everything */
		for (size_t ci = 0; ci < dm_nclasses; ci++)
			for (struct obj *o = dm_classes[ci]->first; o; o = o->next) {
				buf_reset(&out);
				json_emit_init(&e, &out);
				api_emit_record(&e, o);
			}
	}
	buf_free(&out);
	arena_free(&a);
	return 0;
}
