/* VM lifecycle: XenAPI VMs mapped onto backend domains by uuid.
 *
 * Which operation is possible when is declared once, in vm_ops[] (XAPI's
 * power-state table, xapi_vm_lifecycle.ml): every handler checks its
 * operation with api_vm_op_check(), and allowed_operations is api_vm_op_check() asked
 * for each operation, so the two cannot disagree; an operation whose
 * message this build does not answer is never listed.
 *
 * Clean shutdown and reboot only ask the guest; the call waits (without
 * blocking the loop) for the domain's SHUTDOWN event or fails with
 * VM_SHUTDOWN_TIMEOUT (VM.shutdown then shuts it down hard, as XAPI).
 * hard_shutdown and hard_reboot cancel such a wait (its caller gets
 * TASK_CANCELLED).  Shutdowns the guest does on its own arrive through the
 * backend's events and apply actions_after_shutdown / _reboot / _crash,
 * with xenopsd's brakes on a guest that keeps stopping (api_vmm->restart):
 * a crash soon after a start is not restarted, a restart soon after a
 * start waits a while.
 *
 * Domain builds and destroys are slow on Xen (seconds), so they run as
 * jobs in the worker thread (lib/worker.h): the handler checks, copies
 * what the backend needs into a self-contained job, marks the VM's
 * current_operations and returns "pending"; the job's done() runs in the
 * loop thread, updates the datamodel and completes the call (or its
 * task).  A job's task can cancel it while it is queued, or while it
 * builds (the new domain is then destroyed).  While an operation is in
 * flight, conflicting calls fail with OTHER_OPERATION_IN_PROGRESS and the
 * VM's domain events are ignored (the job reconciles when done).  Only the
 * loop thread touches the datamodel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/worker.h"
#include "rpc/xmlrpc.h"
#include "vmm/backend.h"

int api_clean_timeout_s = 120;
int api_vm_hard_stops;

#define FAIL(c, ...) ((c) ? api_fail((c), __VA_ARGS__, NULL) : -1)

static int is_state(struct obj *vm, const char *s)
{
	return !strcmp(dm_get_enum(vm, OF(vm, VM, power_state)), s);
}

/* ---- what waits in the loop: a guest asked to stop, a delayed restart ---- */

enum wait_kind { W_CLEAN_SHUTDOWN, W_CLEAN_REBOOT, W_SHUTDOWN, W_RESTART_DELAY };
static const char *const wait_op[] = { "clean_shutdown", "clean_reboot", "shutdown", "hard_reboot" };

struct pending {
	struct pending *next;
	struct call *c;                 /* NULL: none, or the caller went away */
	char vm[DM_REF_LEN];
	char id[DM_REF_LEN];            /* its current_operations key (its task) */
	enum wait_kind kind;
	int64_t deadline;
};
static struct pending *pendings;

static struct pending *pending_of(const char *vmref)
{
	for (struct pending *p = pendings; p; p = p->next)
		if (!strcmp(p->vm, vmref))
			return p;
	return NULL;
}

static struct pending *take_pending(const char *vmref)
{
	for (struct pending **pp = &pendings; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->vm, vmref)) {
			struct pending *p = *pp;

			*pp = p->next;
			return p;
		}
	return NULL;
}

/* ---- auto power-on's queue (below) ---- */

/* One start at a time through VM.start's own path (checks, job, errors),
 * on a call of our own; the queue is the marked VMs by `order`. */
static struct {
	char (*refs)[DM_REF_LEN];
	size_t n, next;
	int on;                         /* a queue to go through */
	int busy;                       /* a start in flight */
	int64_t at;                     /* when the next may start */
	struct call c;
	struct arena a;
	struct buf out;
	struct emit e;
} ap;

/* ---- operations: possible now? ---- */

enum { ST_H = 1, ST_P = 2, ST_R = 4, ST_S = 8, /* power states */
       TMPL = 16,       /* also on templates */
       BUILD = 32,      /* builds a domain: the VM must be one xenbox can build */
       SNAP = 64,       /* also on snapshots (XAPI's check_snapshot) */
       ONLY = 128,      /* only on templates (with SNAP: only on snapshots) */
       NEW = 256 };     /* a new guest on this host: not while it is disabled */

/* XAPI's table, cut to what xenbox does (destroy: Halted only).  An entry
 * whose message is not answered (api_msg_exists) is never listed: add
 * operations here as they are implemented (export has no message: it is
 * an HTTP handler; give it a test of its own when it comes). */
static const struct vm_op {
	const char *op, *msg;           /* msg NULL: the operation's name */
	unsigned short flags;
} vm_ops[] = {
	{ "clone", NULL, ST_H | TMPL | SNAP },                  /* vm_copy.c */
	{ "copy", NULL, ST_H | TMPL | SNAP },
	{ "snapshot", NULL, ST_H | ST_P | ST_R | ST_S },
	{ "revert", NULL, ST_H | TMPL | SNAP | ONLY },
	{ "provision", NULL, ST_H | TMPL | ONLY },
	{ "start", NULL, ST_H | BUILD | NEW },
	{ "start_on", NULL, ST_H | BUILD | NEW },
	{ "destroy", NULL, ST_H | TMPL | SNAP },
	{ "make_into_template", "set_is_a_template", ST_H },
	{ "changing_VCPUs", "set_VCPUs_max", ST_H | TMPL },
	{ "changing_dynamic_range", "set_memory_dynamic_range", ST_H | ST_R | TMPL },
	{ "changing_static_range", "set_memory_static_range", ST_H | TMPL },
	{ "changing_memory_limits", "set_memory_limits", ST_H | TMPL },
	{ "changing_VCPUs_live", "set_VCPUs_number_live", ST_R },
	{ "clean_shutdown", NULL, ST_R },
	{ "clean_reboot", NULL, ST_R | BUILD },
	{ "shutdown", NULL, ST_P | ST_R | ST_S },
	{ "hard_shutdown", NULL, ST_P | ST_R | ST_S },
	{ "hard_reboot", NULL, ST_P | ST_R | BUILD },
	{ "pause", NULL, ST_R },
	{ "unpause", NULL, ST_P },
	{ "power_state_reset", NULL, ST_H | ST_S },     /* more: see its handler */
};

static const struct vm_op *vm_op(const char *op)
{
	for (size_t i = 0; i < ARRAY_SIZE(vm_ops); i++)
		if (!strcmp(vm_ops[i].op, op))
			return &vm_ops[i];
	return NULL;
}

/* Why xenbox cannot build a domain for vm, or NULL. */
static const char *cannot_build(struct obj *vm)
{
	const char *dt = dm_get_enum(vm, OF(vm, VM, domain_type));

	if (strcmp(dt, "pv") && strcmp(dt, "pvh"))
		return "xenbox starts PV and PVH guests only (domain_type pv or pvh)";
	if (!*dm_get_str(vm, OF(vm, VM, PV_kernel)))
		return "PV_kernel is not set";
	return NULL;
}

static int state_bit(struct obj *vm)
{
	return 1 << dm_fv(vm, OF(vm, VM, power_state))->u.i;   /* Halted Paused Running Suspended */
}

/* Whether op may run on vm now: 0, or -1 after the failure XAPI gives
 * (c NULL: no failure recorded; that is how allowed_operations asks).
 * hard_shutdown and hard_reboot may preempt a wait (their handlers cancel
 * it); nothing else runs beside an operation in flight. */
int api_vm_op_check(struct call *c, struct obj *vm, const char *op)
{
	const struct vm_op *o = vm_op(op);
	const struct dm_type *pt = vm->cls->fields[OF(vm, VM, power_state)].t;
	const struct dm_type *bt = vm->cls->fields[OF(vm, VM, blocked_operations)].t;
	const struct dm_val *cur = dm_fv(vm, OF(vm, VM, current_operations));
	const struct dm_val *blocked;
	struct pending *p;
	char exp[48], act[16];
	size_t n = 0;

	if (!o)
		return FAIL(c, "INTERNAL_ERROR", "unknown VM operation");
	if (dm_fv(vm, OF(vm, VM, is_control_domain))->u.i)
		return FAIL(c, "OPERATION_NOT_ALLOWED",
			    "This operation is not allowed on the control domain");
	if (dm_list_len(cur)) {
		p = pending_of(vm->ref);
		if (!p || !(!strcmp(op, "hard_shutdown") ||
			    (!strcmp(op, "hard_reboot") && p->kind != W_RESTART_DELAY))) {
			const struct dm_type *t = vm->cls->fields[OF(vm, VM, current_operations)].t;

			return FAIL(c, "OTHER_OPERATION_IN_PROGRESS", "VM", vm->ref,
				    t->elem->en->v[cur->u.l->v[1].u.i], cur->u.l->v[0].u.s);
		}
	}
	blocked = dm_fv(vm, OF(vm, VM, blocked_operations));   /* {op: reason} */
	for (size_t i = 0; i + 1 < dm_list_len(blocked); i += 2)
		if (!strcmp(bt->key->en->v[blocked->u.l->v[i].u.i], op))
			return FAIL(c, "OPERATION_BLOCKED", vm->ref, blocked->u.l->v[i + 1].u.s);
	/* a snapshot only for SNAP operations, whatever is_a_template says
	 * (XO clears it); ONLY: revert on a snapshot of a VM still there,
	 * provision on a template that is not a snapshot */
	if (dm_fv(vm, OF(vm, VM, is_a_snapshot))->u.i ? !(o->flags & SNAP) ||
	    ((o->flags & ONLY) && !dm_obj_by_ref_cls(vm->cls, dm_get_str(vm, OF(vm, VM, snapshot_of)))) :
	    (o->flags & (SNAP | ONLY)) == (SNAP | ONLY))
		return FAIL(c, (o->flags & ONLY) ? "REVERT_ONLY_ALLOWED_ON_SNAPSHOT" : "VM_IS_SNAPSHOT",
			    vm->ref, op);
	if (dm_fv(vm, OF(vm, VM, is_a_template))->u.i ? !(o->flags & TMPL) ||
	    (dm_fv(vm, OF(vm, VM, is_default_template))->u.i && !strcmp(op, "destroy")) :
	    (o->flags & (SNAP | ONLY)) == ONLY)
		return FAIL(c, (o->flags & ONLY) ? "PROVISION_ONLY_ALLOWED_ON_TEMPLATE" : "VM_IS_TEMPLATE",
			    vm->ref, op);
	if (o->flags & state_bit(vm)) {
		const char *why = o->flags & BUILD ? cannot_build(vm) : NULL;

		/* XAPI's answer when no host can run the VM: this one cannot
		 * run any, and it is the only one (stage 11 places on members) */
		if (o->flags & BUILD && !api_runs_guests)
			return FAIL(c, "NO_HOSTS_AVAILABLE");
		/* XAPI: a disabled host takes no new guest (host.disable) */
		if (o->flags & NEW && !dm_fv(api_this_host, FLD(host, enabled))->u.i)
			return strcmp(op, "start") ? FAIL(c, "HOST_DISABLED", api_this_host->ref)
						   : FAIL(c, "NO_HOSTS_AVAILABLE");

		return why ? FAIL(c, "OPERATION_NOT_ALLOWED", why) : 0;
	}
	if (!c)
		return -1;
	/* VM_BAD_POWER_STATE [vm, expected, actual], lower case, XAPI's
	 * "a, b" for several */
	exp[0] = 0;
	for (int i = 0; i < pt->en->n; i++)
		if (o->flags & (1 << i)) {
			n += (size_t)snprintf(exp + n, sizeof(exp) - n, "%s%s", n ? ", " : "",
					      pt->en->v[i]);
			if (n >= sizeof(exp))
				n = sizeof(exp) - 1;
		}
	snprintf(act, sizeof(act), "%s", dm_get_enum(vm, OF(vm, VM, power_state)));
	for (char *s = exp; *s; s++)
		*s = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
	act[0] = (char)(act[0] >= 'A' && act[0] <= 'Z' ? act[0] + 32 : act[0]);
	return api_fail(c, "VM_BAD_POWER_STATE", vm->ref, exp, act, NULL);
}

/* The VM named by ref, if op may run on it now. */
static struct obj *vm_arg(struct call *c, const char *ref, const char *op)
{
	struct obj *vm = api_obj(c, "VM", ref);

	return vm && !api_vm_op_check(c, vm, op) ? vm : NULL;
}

/* allowed_operations: every operation api_vm_op_check() lets through now whose
 * message exists (looked up once: O(operations x messages)). */
static void update_allowed(struct obj *vm)
{
	static uint32_t answered;       /* bit i: vm_ops[i]'s message exists */
	static int looked;
	const struct dm_type *t = vm->cls->fields[OF(vm, VM, allowed_operations)].t;
	struct dm_val set = { 0 };

	for (size_t i = 0; !looked && i < ARRAY_SIZE(vm_ops); i++)
		if (api_msg_exists(vm->cls, vm_ops[i].msg ? vm_ops[i].msg : vm_ops[i].op))
			answered |= 1u << i;
	looked = 1;
	for (size_t i = 0; i < ARRAY_SIZE(vm_ops); i++) {
		const struct vm_op *o = &vm_ops[i];
		struct dm_val e;

		if (!(answered & (1u << i)) || api_vm_op_check(NULL, vm, o->op))
			continue;
		e.u.i = dm_enum_index(t->elem->en, o->op, strlen(o->op));
		dm_list_push(NULL, &set, &e);
	}
	dm_set(vm, OF(vm, VM, allowed_operations), &set);
	dm_val_free(t, &set);
}

/* Clients change what allowed_operations depends on through plain setters
 * too (is_a_template, blocked_operations): once per loop iteration, the
 * VMs changed since the last look are looked at again.  O(VMs) when
 * anything changed. */
static void refresh_allowed(void)
{
	static uint64_t seen;
	struct dm_class *k = dm_class_find("VM");
	int all;

	if (dm_gen == seen)
		return;
	if (dm_gen < seen)
		seen = 0;       /* a new datamodel */
	/* VM.start follows host.enabled: all when the host changed */
	all = api_this_host && api_this_host->gen_modified > seen;
	for (struct obj *vm = k->first; vm; vm = vm->next)
		if ((all || vm->gen_modified > seen) && !vm->owner)     /* another host's: its own */
			update_allowed(vm);
	seen = dm_gen;
}

static struct obj *metrics_of(struct obj *vm)
{
	struct dm_class *km = dm_class_find("VM_metrics");
	struct obj *m = dm_obj_by_ref_cls(km, dm_get_str(vm, OF(vm, VM, metrics)));

	if (!m) {
		m = dm_obj_new(km, NULL, NULL);
		dm_set_str(vm, OF(vm, VM, metrics), m->ref);
	}
	return m;
}

static void set_devices_attached(struct obj *vm, int attached)
{
	const struct dm_val *vbds = dm_fv(vm, OF(vm, VM, VBDs)), *vifs = dm_fv(vm, OF(vm, VM, VIFs));

	for (size_t i = 0; i < dm_list_len(vbds); i++) {
		struct obj *d = dm_obj_by_ref(vbds->u.l->v[i].u.s);

		if (d)
			dm_set_int(d, OF(d, VBD, currently_attached), attached);
	}
	for (size_t i = 0; i < dm_list_len(vifs); i++) {
		struct obj *d = dm_obj_by_ref(vifs->u.l->v[i].u.s);

		if (d)
			dm_set_int(d, OF(d, VIF, currently_attached), attached);
	}
}

static void remove_consoles(struct obj *vm)
{
	const struct dm_val *l;

	/* again after each deletion: a sparse VM's set may move */
	while (dm_list_len(l = dm_fv(vm, OF(vm, VM, consoles)))) {
		struct obj *con = dm_obj_by_ref(l->u.l->v[0].u.s);

		if (!con)
			break;
		dm_obj_delete(con);     /* updates the inverse set */
	}
}

/* Record that vm now runs as domid (start or adoption). */
static void mark_running(struct obj *vm, uint32_t domid, int paused, int64_t start_time)
{
	struct obj *m = metrics_of(vm);
	struct dm_val st = { 0 };
	struct obj *con;

	dm_set_enum(vm, OF(vm, VM, power_state), paused ? "Paused" : "Running");
	dm_set_int(vm, OF(vm, VM, domid), domid);
	dm_set_str(vm, OF(vm, VM, resident_on), api_this_host->ref);
	dm_set_int(m, OF(m, VM_metrics, start_time), start_time);
	dm_set_int(m, OF(m, VM_metrics, VCPUs_number), dm_fv(vm, OF(vm, VM, VCPUs_at_startup))->u.i);
	dm_set_int(m, OF(m, VM_metrics, memory_actual), dm_fv(vm, OF(vm, VM, memory_dynamic_max))->u.i);
	dm_set_enum(m, OF(m, VM_metrics, current_domain_type), dm_get_enum(vm, OF(vm, VM, domain_type)));
	dm_set(m, OF(m, VM_metrics, state), &st);
	dm_set_int(vm, OF(vm, VM, memory_target), dm_fv(vm, OF(vm, VM, memory_dynamic_max))->u.i);
	set_devices_attached(vm, 1);
#ifdef CONFIG_XB_CONSOLE
	/* as XAPI with vncterm: rfb first (XO Lite takes consoles[0]), then
	 * vt100, at https://<this host's address>/console?uuid=<console>
	 * (docs/CONSOLES.md); older ones (a vt100 alone) are replaced */
	if (dm_list_len(dm_fv(vm, OF(vm, VM, consoles))) != 2)
		remove_consoles(vm);
	if (!dm_list_len(dm_fv(vm, OF(vm, VM, consoles))))
		for (int i = 0; i < 2; i++) {
			const char *addr = dm_get_str(api_this_host, FLD(host, address));
			char loc[160];

			con = dm_obj_new(dm_class_find("console"), NULL, NULL);
			snprintf(loc, sizeof(loc), "%s%s/console?uuid=%s", *addr ? "https://" : "",
				 addr, dm_fv(con, con->cls->f_uuid)->u.s);
			dm_set_str(con, OF(con, console, location), loc);
			dm_set_enum(con, OF(con, console, protocol), i ? "vt100" : "rfb");
			dm_set_str(con, OF(con, console, VM), vm->ref);
		}
#else
	if (!dm_list_len(dm_fv(vm, OF(vm, VM, consoles)))) {
		char loc[128];

		con = dm_obj_new(dm_class_find("console"), NULL, NULL);
		snprintf(loc, sizeof(loc), "/console?ref=%s", con->ref);
		dm_set_str(con, OF(con, console, location), loc);
		dm_set_str(con, OF(con, console, VM), vm->ref);
	}
#endif
	update_allowed(vm);
}

static void mark_halted(struct obj *vm)
{
	struct obj *m = metrics_of(vm);

	dm_set_enum(vm, OF(vm, VM, power_state), "Halted");
	dm_set_int(vm, OF(vm, VM, domid), -1);
	dm_set_str(vm, OF(vm, VM, resident_on), "OpaqueRef:NULL");
	dm_set_int(m, OF(m, VM_metrics, memory_actual), 0);
	dm_set_int(m, OF(m, VM_metrics, VCPUs_number), 0);
	set_devices_attached(vm, 0);
	remove_consoles(vm);
	if (api_console_tap)
		api_console_tap(vm->ref, NULL, 0);
	update_allowed(vm);
}

void api_vm_halted(struct obj *vm)
{
	mark_halted(vm);
}

static int backend_fail_mem(struct call *c, uint64_t mem, int rc, const char *msg)
{
	char need[32], have[32];

	if (!c) {
		log_err("vm: %s", msg);
		return -1;
	}
	if (rc == -ENOMEM) {
		struct vmm_host_info hi;
		char e[VMM_ERR_MAX];

		snprintf(need, sizeof(need), "%llu", (unsigned long long)mem);
		snprintf(have, sizeof(have), "%llu",
			 vmm_host_info(api_vmm, &hi, e, sizeof(e)) ? 0ULL :
			 (unsigned long long)hi.free_memory);
		return api_fail(c, "HOST_NOT_ENOUGH_FREE_MEMORY", need, have, NULL);
	}
	return api_fail(c, "INTERNAL_ERROR", msg, NULL);
}

static int backend_fail(struct call *c, struct obj *vm, int rc, const char *msg)
{
	return backend_fail_mem(c, (uint64_t)dm_fv(vm, OF(vm, VM, memory_static_max))->u.i, rc, msg);
}

static const char *vdev_of(const char *userdevice, char *buf, size_t n)
{
	char *end;
	long d = strtol(userdevice, &end, 10);

	if (*userdevice && !*end && d >= 0 && d < 26) {
		snprintf(buf, n, "xvd%c", (char)('a' + d));
		return buf;
	}
	xsnprintf(buf, n, "%s", userdevice);   /* too long: "", refused as a vdev */
	return buf;
}

/* ---- jobs: domain builds and destroys in the worker thread ---- */

/* Everything the worker needs, copied: it never looks at the datamodel. */
struct vm_job {
	struct job job;
	struct vm_job *next;            /* active jobs (loop thread) */
	char vm[DM_REF_LEN];
	struct call *c;                 /* the waiting call, or NULL */
	char task[DM_REF_LEN];          /* its task ("": none) */
	int task_cancel;                /* the task asked it to stop */
	int destroy;                    /* destroy domid first */
	uint32_t domid;                 /* in: to destroy; out: created */
	int create, paused;
	struct arena a;                 /* the config's strings */
	struct vmm_domain_config cfg;
	struct vmm_disk disks[VMM_MAX_DEVS];
	struct vmm_nic nics[VMM_MAX_DEVS];
	struct vmm_kv plat[32];
	/* results, written by the worker */
	int rc;
	int destroyed, created;
	char err[VMM_ERR_MAX];
	int result;                     /* inline runs: the handler's return */
};
static struct vm_job *active;

static struct vm_job *job_of(const char *vmref)
{
	for (struct vm_job *j = active; j; j = j->next)
		if (!strcmp(j->vm, vmref))
			return j;
	return NULL;
}

static const char *keep(struct vm_job *j, const char *s)
{
	return s ? arena_strdup(&j->a, s) : NULL;
}

/* Fill j's domain config from vm; 0 or -1 after api_fail (c may be NULL:
 * then the reason is logged). */
static int job_config(struct call *c, struct vm_job *j, struct obj *vm)
{
	struct vmm_domain_config *cfg = &j->cfg;
	const struct dm_val *pl = dm_fv(vm, OF(vm, VM, platform));
	const char *dt = dm_get_enum(vm, OF(vm, VM, domain_type));
	const char *why = cannot_build(vm);
	char vdev[VMM_VDEV_MAX];

	if (why)
		return FAIL(c, "OPERATION_NOT_ALLOWED", why);
	cfg->uuid = keep(j, dm_get_str(vm, vm->cls->f_uuid));
	cfg->name = keep(j, dm_get_str(vm, vm->cls->f_name_label));
	cfg->type = strcmp(dt, "pvh") ? VMM_TYPE_PV : VMM_TYPE_PVH;
	cfg->mem_static_max = (uint64_t)dm_fv(vm, OF(vm, VM, memory_static_max))->u.i;
	cfg->mem_dynamic_min = (uint64_t)dm_fv(vm, OF(vm, VM, memory_dynamic_min))->u.i;
	cfg->mem_dynamic_max = (uint64_t)dm_fv(vm, OF(vm, VM, memory_dynamic_max))->u.i;
	cfg->mem_target = cfg->mem_dynamic_max;
	cfg->vcpus_max = (unsigned)dm_fv(vm, OF(vm, VM, VCPUs_max))->u.i;
	cfg->vcpus_online = (unsigned)dm_fv(vm, OF(vm, VM, VCPUs_at_startup))->u.i;
	cfg->kernel = keep(j, dm_get_str(vm, OF(vm, VM, PV_kernel)));
	cfg->ramdisk = keep(j, dm_get_str(vm, OF(vm, VM, PV_ramdisk)));
	cfg->cmdline = keep(j, dm_get_str(vm, OF(vm, VM, PV_args)));
	for (size_t i = 0; i + 1 < dm_list_len(pl) && cfg->nr_platform < ARRAY_SIZE(j->plat); i += 2) {
		j->plat[cfg->nr_platform].key = keep(j, pl->u.l->v[i].u.s);
		j->plat[cfg->nr_platform++].value = keep(j, pl->u.l->v[i + 1].u.s);
	}
	cfg->platform = j->plat;
	{
		const struct dm_val *l = dm_fv(vm, OF(vm, VM, VBDs));

		for (size_t i = 0; i < dm_list_len(l) && cfg->nr_disks < VMM_MAX_DEVS; i++) {
			struct obj *vbd = dm_obj_by_ref(l->u.l->v[i].u.s), *vdi;
			struct vmm_disk *d = &j->disks[cfg->nr_disks];

			if (!vbd || dm_fv(vbd, OF(vbd, VBD, empty))->u.i)
				continue;
			vdi = dm_obj_by_ref_cls(dm_class_find("VDI"), dm_get_str(vbd, OF(vbd, VBD, VDI)));
			if (!vdi)
				return c ? api_fail(c, "HANDLE_INVALID", "VDI",
						    dm_get_str(vbd, OF(vbd, VBD, VDI)), NULL) : -1;
			if (api_sr_usable(c, vm, vdi))
				return -1;
			d->path = keep(j, dm_get_str(vdi, OF(vdi, VDI, location)));
			d->vdev = keep(j, vdev_of(dm_get_str(vbd, OF(vbd, VBD, userdevice)),
						  vdev, sizeof(vdev)));
			d->readonly = !strcmp(dm_get_enum(vbd, OF(vbd, VBD, mode)), "RO");
			cfg->nr_disks++;
		}
		cfg->disks = j->disks;
	}
	{
		const struct dm_val *l = dm_fv(vm, OF(vm, VM, VIFs));

		for (size_t i = 0; i < dm_list_len(l) && cfg->nr_nics < VMM_MAX_DEVS; i++) {
			struct obj *vif = dm_obj_by_ref(l->u.l->v[i].u.s), *net;
			struct vmm_nic *n = &j->nics[cfg->nr_nics];

			if (!vif)
				continue;
			net = dm_obj_by_ref_cls(dm_class_find("network"),
						dm_get_str(vif, OF(vif, VIF, network)));
			n->mac = keep(j, dm_get_str(vif, OF(vif, VIF, MAC)));
			n->bridge = keep(j, net ? dm_get_str(net, OF(net, network, bridge)) : "xenbr0");
			n->devid = (uint32_t)atoi(dm_get_str(vif, OF(vif, VIF, device)));
			cfg->nr_nics++;
		}
		cfg->nics = j->nics;
	}
	return 0;
}

/* Worker thread: destroy, then build and start, as asked. */

/* Worker thread: destroy, then build and start, as asked.  A task's
 * cancel is honoured between the steps: before anything, after the old
 * domain is gone, and after the build (the new domain is destroyed). */
static void job_run(struct job *jb)
{
	struct vm_job *j = (struct vm_job *)jb;
	char e2[VMM_ERR_MAX];

	if (worker_cancelled(jb)) {
		j->rc = -ECANCELED;
		return;
	}
	if (j->destroy) {
		if (!j->create)
			worker_progress(jb, 0.1);       /* begun: past cancelling */
		j->rc = vmm_destroy(api_vmm, j->domid, j->err, sizeof(j->err));
		if (j->rc == -ENOENT)
			j->rc = 0;      /* gone already: what we wanted */
		if (j->rc)
			return;
		j->destroyed = 1;
		if (!j->create)
			return;
		worker_progress(jb, 0.2);
		if (worker_cancelled(jb)) {
			j->rc = -ECANCELED;
			return;
		}
	}
	/* the build has begun: a daemon told to stop now waits for it */
	worker_progress(jb, j->destroyed ? 0.3 : 0.1);
	j->rc = vmm_create(api_vmm, &j->cfg, &j->domid, j->err, sizeof(j->err));
	if (j->rc)
		return;
	if (worker_cancelled(jb)) {
		vmm_destroy(api_vmm, j->domid, e2, sizeof(e2));
		j->rc = -ECANCELED;
		return;
	}
	worker_progress(jb, 0.9);
	if (!j->paused && (j->rc = vmm_unpause(api_vmm, j->domid, j->err, sizeof(j->err)))) {
		vmm_destroy(api_vmm, j->domid, e2, sizeof(e2));
		return;
	}
	j->created = 1;
}

/* Loop thread: the task follows; past the last step that can stop (a
 * destroy begun, a domain built) it can no longer be cancelled. */
static void job_progress(struct job *jb, double p)
{
	struct vm_job *j = (struct vm_job *)jb;
	struct obj *t = *j->task ? dm_obj_by_ref_cls(dm_class_find("task"), j->task) : NULL;

	if (!t)
		return;
	dm_set_float(t, OF(t, task, progress), p);
	if (!j->create || p >= 0.9)
		api_task_set_cancellable(j->task, 0);
}

/* current_operations: {id: op} (XAPI keys it by the task running it), or
 * nothing when op is NULL. */
static void set_current_op(struct obj *vm, const char *op, const char *id)
{
	const struct dm_field *f = &vm->cls->fields[OF(vm, VM, current_operations)];
	struct dm_val m = { 0 };

	if (op) {
		struct dm_val k, v;

		k.u.s = dm_str(id);
		v.u.i = dm_enum_index(f->t->elem->en, op, strlen(op));
		dm_list_push(NULL, &m, &k);
		dm_list_push(NULL, &m, &v);
	}
	dm_set(vm, f->idx, &m);
	dm_val_free(f->t, &m);
	update_allowed(vm);
}

void api_vm_set_op(struct obj *vm, const char *op, const char *id)
{
	set_current_op(vm, op, id);
}

/* The key of an operation: its task, or a ref of its own (sync calls). */
static const char *op_id(struct call *c, char id[DM_REF_LEN])
{
	if (c && c->task)
		snprintf(id, DM_REF_LEN, "%s", c->task);
	else
		dm_new_ref(id);
	return id;
}

static void on_shutdown(struct obj *vm, enum vmm_shutdown_reason reason);

/* Loop thread: record the outcome, then answer the caller. */
static void job_done(struct job *jb)
{
	struct vm_job *j = (struct vm_job *)jb;
	struct obj *vm = dm_obj_by_ref(j->vm);
	int rc = 0;

	for (struct vm_job **pp = &active; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	if (vm) {
		set_current_op(vm, NULL, NULL);
		if (j->destroyed)
			mark_halted(vm);
		if (j->created) {
			log_info("vm: started %s as domain %u", j->cfg.uuid, j->domid);
			mark_running(vm, j->domid, j->paused, now_wall());
		}
	}
	if (j->rc == -ECANCELED || (jb->cancelled && j->task_cancel))
		rc = j->c ? api_fail(j->c, "TASK_CANCELLED", j->task, NULL) : -1;
	else if (jb->cancelled)
		rc = j->c ? api_fail(j->c, "INTERNAL_ERROR", "the daemon is stopping", NULL) : -1;
	else if (j->rc)
		rc = backend_fail_mem(j->c, j->cfg.mem_static_max, j->rc, j->err);
	if (vm && j->created && !jb->inline_run) {
		/* events for the new domain that came before this done() were
		 * dropped as a stranger's: catch a guest that stopped at once */
		struct vmm_domain_info di;
		char e[VMM_ERR_MAX];

		if (!vmm_info(api_vmm, j->domid, &di, e, sizeof(e)) &&
		    di.state == VMM_STATE_SHUTDOWN)
			on_shutdown(vm, di.reason);
	}
	if (jb->inline_run) {
		j->result = rc;
		return;         /* the handler answers and frees */
	}
	if (j->c) {
		if (!rc)
			emit_str(j->c->e, "");
		j->c->complete(j->c);
	}
	arena_free(&j->a);
	free(j);
}

static struct vm_job *job_new(struct obj *vm)
{
	struct vm_job *j = xcalloc(1, sizeof(*j));

	arena_init(&j->a, 0);
	snprintf(j->vm, sizeof(j->vm), "%s", vm->ref);
	j->job.run = job_run;
	j->job.done = job_done;
	j->job.progress = job_progress;
	return j;
}

static void job_free(struct vm_job *j)
{
	arena_free(&j->a);
	free(j);
}

/* Hand j to the worker under operation op.  Returns what the handler
 * returns: 1 (the call completes later), or 0 / -1 when there is no
 * worker and the job ran at once. */
static int job_submit(struct call *c, struct obj *vm, struct vm_job *j, const char *op)
{
	char id[DM_REF_LEN];
	int rc;

	j->c = c;
	if (c && c->task)
		snprintf(j->task, sizeof(j->task), "%s", c->task);
	set_current_op(vm, op, op_id(c, id));
	j->next = active;
	active = j;
	worker_submit(&j->job);
	if (!j->job.inline_run) {
		if (*j->task)
			api_task_set_cancellable(j->task, 1);
		return 1;
	}
	rc = j->result;
	job_free(j);
	return rc;
}

/* Build the domain and start it (or leave it paused), destroying
 * old_domid first when >= 0. */
static int start_job(struct call *c, struct obj *vm, int paused, int64_t old_domid,
		     const char *op)
{
	struct vm_job *j = job_new(vm);

	if (job_config(c, j, vm)) {
		job_free(j);
		return -1;
	}
	j->create = 1;
	j->paused = paused;
	if (old_domid > 0) {
		j->destroy = 1;
		j->domid = (uint32_t)old_domid;
	}
	return job_submit(c, vm, j, op);
}

static int destroy_job(struct call *c, struct obj *vm, const char *op)
{
	int64_t domid = dm_fv(vm, OF(vm, VM, domid))->u.i;
	struct vm_job *j;

	if (domid <= 0) {
		mark_halted(vm);
		return 0;
	}
	j = job_new(vm);
	j->destroy = 1;
	j->domid = (uint32_t)domid;
	return job_submit(c, vm, j, op);
}

/* A wait ends without what it waited for: its caller, if any, gets the
 * failure (code, p2), the VM's operation is over. */
static void end_wait(struct pending *p, struct obj *vm, const char *code, const char *p2)
{
	if (vm)
		set_current_op(vm, NULL, NULL);
	if (p->c) {
		api_fail(p->c, code, p2 ? p->vm : p->id, p2, NULL);
		p->c->complete(p->c);
	}
	free(p);
}

/* hard_shutdown / hard_reboot: as XAPI, they cancel a clean shutdown or
 * reboot in wait (its caller gets TASK_CANCELLED) or a delayed restart. */
static void preempt(struct obj *vm)
{
	struct pending *p = take_pending(vm->ref);

	if (p) {
		log_info("vm: %s: %s cancelled by a hard one", vm->ref, wait_op[p->kind]);
		end_wait(p, vm, "TASK_CANCELLED", NULL);
	}
}

/* ---- the operations ---- */

static int start_op(struct call *c, const char *ref, int paused, const char *op)
{
	struct obj *vm = vm_arg(c, ref, op);

	return vm ? start_job(c, vm, paused, -1, op) : -1;
}

HANDLER(api_vm_start)
{
	return start_op(c, args[0].u.s, (int)args[1].u.i, "start");
}

HANDLER(api_vm_start_on)
{
	if (!api_obj(c, "host", args[1].u.s))
		return -1;
	if (strcmp(args[1].u.s, api_this_host->ref))
		return api_fail(c, "OPERATION_NOT_ALLOWED", "start_on: only this host", NULL);
	return start_op(c, args[0].u.s, (int)args[2].u.i, "start_on");
}

HANDLER(api_vm_hard_shutdown)
{
	struct obj *vm = vm_arg(c, args[0].u.s, "hard_shutdown");

	if (!vm)
		return -1;
	preempt(vm);
	return destroy_job(c, vm, "hard_shutdown");
}

HANDLER(api_vm_hard_reboot)
{
	struct obj *vm = vm_arg(c, args[0].u.s, "hard_reboot");

	if (!vm)
		return -1;
	preempt(vm);
	return start_job(c, vm, 0, dm_fv(vm, OF(vm, VM, domid))->u.i, "hard_reboot");
}

/* Halted in the database only.  As XAPI: refused (DOMAIN_EXISTS) while
 * the VM has a domain here, so a live domain is never forgotten; so it
 * is listed for Halted (and Suspended) only, where it always works. */
HANDLER(api_vm_power_state_reset)
{
	struct obj *vm = api_obj(c, "VM", args[0].u.s);
	int64_t domid;
	struct vmm_domain_info di;
	char e[VMM_ERR_MAX];

	if (!vm)
		return -1;
	domid = dm_fv(vm, OF(vm, VM, domid))->u.i;
	if (is_state(vm, "Running") || is_state(vm, "Paused")) {
		if (dm_fv(vm, OF(vm, VM, is_control_domain))->u.i ||
		    dm_list_len(dm_fv(vm, OF(vm, VM, current_operations))))
			return api_vm_op_check(c, vm, "power_state_reset");    /* says why not */
		if (domid > 0 && !vmm_info(api_vmm, (uint32_t)domid, &di, e, sizeof(e)))
			return api_fail(c, "DOMAIN_EXISTS", vm->ref, NULL);
	} else if (api_vm_op_check(c, vm, "power_state_reset")) {
		return -1;
	}
	mark_halted(vm);
	return 0;
}

/* Pause or unpause: from one power state to the other (fast: in the loop). */
static int pause_op(struct call *c, const char *ref, int pause)
{
	struct obj *vm = vm_arg(c, ref, pause ? "pause" : "unpause");
	char e[VMM_ERR_MAX];
	uint32_t domid;
	int rc;

	if (!vm)
		return -1;
	domid = (uint32_t)dm_fv(vm, OF(vm, VM, domid))->u.i;
	rc = pause ? vmm_pause(api_vmm, domid, e, sizeof(e))
		   : vmm_unpause(api_vmm, domid, e, sizeof(e));
	if (rc)
		return backend_fail(c, vm, rc, e);
	dm_set_enum(vm, OF(vm, VM, power_state), pause ? "Paused" : "Running");
	update_allowed(vm);
	return 0;
}

HANDLER(api_vm_pause)
{
	return pause_op(c, args[0].u.s, 1);
}

HANDLER(api_vm_unpause)
{
	return pause_op(c, args[0].u.s, 0);
}

/* ---- clean shutdown and reboot: ask, then wait for the guest ---- */

static struct pending *wait_add(struct obj *vm, struct call *c, enum wait_kind kind,
				int64_t deadline)
{
	struct pending *p = xcalloc(1, sizeof(*p));

	p->c = c;
	snprintf(p->vm, sizeof(p->vm), "%s", vm->ref);
	p->kind = kind;
	p->deadline = deadline;
	p->next = pendings;
	pendings = p;
	set_current_op(vm, wait_op[kind], op_id(c, p->id));
	return p;
}

static int clean_op(struct call *c, const char *ref, enum wait_kind kind)
{
	struct obj *vm = vm_arg(c, ref, wait_op[kind]);
	char e[VMM_ERR_MAX];
	int rc;

	if (!vm)
		return -1;
	/* VM.shutdown (XAPI): clean when running, hard otherwise or when the
	 * clean one fails */
	if (kind == W_SHUTDOWN && !is_state(vm, "Running"))
		return destroy_job(c, vm, "shutdown");
	rc = vmm_shutdown(api_vmm, (uint32_t)dm_fv(vm, OF(vm, VM, domid))->u.i,
			  kind == W_CLEAN_REBOOT ? VMM_REQ_REBOOT : VMM_REQ_POWEROFF, e, sizeof(e));
	if (rc && kind == W_SHUTDOWN)
		return destroy_job(c, vm, "shutdown");
	if (rc)
		return backend_fail(c, vm, rc, e);
	wait_add(vm, c, kind, now_ms() + (int64_t)api_clean_timeout_s * 1000);
	if (c->task)
		api_task_set_cancellable(c->task, 1);
	return 1;       /* completes on the domain's shutdown event */
}

HANDLER(api_vm_clean_shutdown)
{
	return clean_op(c, args[0].u.s, W_CLEAN_SHUTDOWN);
}

HANDLER(api_vm_clean_reboot)
{
	return clean_op(c, args[0].u.s, W_CLEAN_REBOOT);
}

HANDLER(api_vm_shutdown)
{
	return clean_op(c, args[0].u.s, W_SHUTDOWN);
}

static void restart_now(struct obj *vm);

/* A wait's time is up: a delayed restart happens; a guest that did not
 * shut down in time fails the call and runs on, unless it was VM.shutdown,
 * which then shuts it down hard. */
static void wait_expired(struct pending *p, struct obj *vm)
{
	char secs[16];
	int rc;

	if (vm && p->kind == W_RESTART_DELAY) {
		free(p);
		set_current_op(vm, NULL, NULL);
		restart_now(vm);
		return;
	}
	if (vm && p->kind == W_SHUTDOWN) {
		api_vm_hard_stops += !p->c;     /* the host's going down */
		set_current_op(vm, NULL, NULL);
		log_info("vm: %s did not shut down in %d s: shutting it down hard", p->vm,
			 api_clean_timeout_s);
		rc = destroy_job(p->c, vm, "shutdown");
		if (rc != 1 && p->c) {
			if (!rc)
				emit_str(p->c->e, "");
			p->c->complete(p->c);
		}
		free(p);
		return;
	}
	snprintf(secs, sizeof(secs), "%d", api_clean_timeout_s);
	end_wait(p, vm, "VM_SHUTDOWN_TIMEOUT", secs);
}

void api_vm_cancel(struct call *c)
{
	for (struct pending *p = pendings; p; p = p->next)
		if (p->c == c)
			p->c = NULL;    /* the operation goes on without a caller */
	for (struct vm_job *j = active; j; j = j->next)
		if (j->c == c)
			j->c = NULL;
}

int api_vm_task_cancel(const char *task)
{
	struct pending *p;

	for (struct vm_job *j = active; j; j = j->next)
		if (!strcmp(j->task, task)) {
			j->task_cancel = 1;
			if (worker_cancel(&j->job) == 1)
				job_done(&j->job);      /* it never ran */
			return 0;
		}
	for (p = pendings; p; p = p->next)
		if (p->kind != W_RESTART_DELAY && !strcmp(p->id, task)) {
			/* the guest was asked already and may still act on it */
			struct obj *vm = dm_obj_by_ref(p->vm);

			take_pending(p->vm);
			end_wait(p, vm, "TASK_CANCELLED", NULL);
			return 0;
		}
	return -1;
}

static int64_t ap_tick(int64_t now);

int64_t api_vm_tick(int64_t now)
{
	int64_t next = ap_tick(now);
	struct pending *p, *n;

	refresh_allowed();
	for (p = pendings; p; p = n) {
		n = p->next;
		if (now >= p->deadline) {
			take_pending(p->vm);
			wait_expired(p, dm_obj_by_ref(p->vm));
			continue;
		}
		if (next < 0 || p->deadline - now < next)
			next = p->deadline - now;
	}
	return next;
}

static struct obj *vm_by_uuid(const char *uuid)
{
	return dm_obj_by_uuid(dm_class_find("VM"), uuid);
}

/* Destroy the stopped domain and build a new one (no caller). */
static void restart_now(struct obj *vm)
{
	if (start_job(NULL, vm, 0, dm_fv(vm, OF(vm, VM, domid))->u.i, "hard_reboot") < 0) {
		/* the restart cannot even begin (e.g. PV_kernel unset since) */
		log_err("vm: %s: cannot restart it; destroying its domain", vm->ref);
		destroy_job(NULL, vm, "hard_shutdown");
	}
}

/* What to do with a guest that stopped by itself: its actions_after_*,
 * braked as xenopsd brakes them (VM_check_state): a crash within
 * crash_window of the start is not restarted (the VM halts, a VM_CRASHED
 * message says why), and a restart within reboot_window of the start
 * waits reboot_delay (hard_shutdown cancels it).  1 restart, 0 destroy,
 * -1 handled (preserved, or restart delayed). */
static int self_stop_policy(struct obj *vm, enum vmm_shutdown_reason reason)
{
	const struct vmm_restart_policy *rp = &api_vmm->restart;
	struct obj *m = metrics_of(vm);
	int64_t ran_ms = (now_wall() - dm_fv(m, OF(m, VM_metrics, start_time))->u.i) * 1000;
	int crash = reason == VMM_REASON_CRASH || reason == VMM_REASON_WATCHDOG;
	const char *action = dm_get_enum(vm, crash ? OF(vm, VM, actions_after_crash) :
			reason == VMM_REASON_REBOOT ? OF(vm, VM, actions_after_reboot) :
			OF(vm, VM, actions_after_shutdown));
	char body[160];

	if (!strcmp(action, "preserve")) {
		/* as XAPI (preserve maps to xenopsd's Pause): the dead domain
		 * stays for inspection, the VM shows Paused */
		log_info("vm: %s shut down by itself (%s): preserved", vm->ref,
			 vmm_reason_name(reason));
		dm_set_enum(vm, OF(vm, VM, power_state), "Paused");
		update_allowed(vm);
		return -1;
	}
	log_info("vm: %s shut down by itself (%s): %s", vm->ref, vmm_reason_name(reason), action);
	/* coredump_and_* and rename_restart: no core dumps here */
	if (!strstr(action, "restart"))
		return 0;
	if (crash && ran_ms < rp->crash_window_ms) {
		snprintf(body, sizeof(body), "The VM crashed %lld s after it started: not "
			 "restarted (a crash within %u s of a start is not)",
			 (long long)(ran_ms / 1000), rp->crash_window_ms / 1000);
		log_warn("vm: %s: %s", vm->ref, body);
		api_message_create("VM_CRASHED", 2, "VM", dm_get_str(vm, vm->cls->f_uuid), body);
		return 0;
	}
	if (ran_ms < rp->reboot_window_ms && rp->reboot_delay_ms) {
		log_warn("vm: %s restarts %lld s after its start: waiting %u ms first", vm->ref,
			 (long long)(ran_ms / 1000), rp->reboot_delay_ms);
		wait_add(vm, NULL, W_RESTART_DELAY, now_ms() + rp->reboot_delay_ms);
		return -1;
	}
	return 1;
}

/* A domain stopped: what the caller asked for, or what the VM says to do.
 * Either way the old domain is destroyed (and a new one built) in the
 * worker; a caller waiting for a clean shutdown/reboot is answered then. */
static void on_shutdown(struct obj *vm, enum vmm_shutdown_reason reason)
{
	struct pending *p = take_pending(vm->ref);
	struct call *c = NULL;
	int64_t domid = dm_fv(vm, OF(vm, VM, domid))->u.i;
	const char *op;
	int want_restart, rc;

	if (p && p->kind == W_RESTART_DELAY) {
		/* the stopped domain went away meanwhile: restart now */
		free(p);
		set_current_op(vm, NULL, NULL);
		restart_now(vm);
		return;
	}
	if (p) {
		c = p->c;
		want_restart = p->kind == W_CLEAN_REBOOT;
		op = wait_op[p->kind];
		free(p);
		set_current_op(vm, NULL, NULL);
	} else {
		want_restart = self_stop_policy(vm, reason);
		if (want_restart < 0)
			return;
		op = want_restart ? "hard_reboot" : "hard_shutdown";
	}
	if (want_restart)
		rc = start_job(c, vm, 0, domid, op);
	else
		rc = destroy_job(c, vm, op);
	if (rc == 1)
		return;
	if (rc < 0 && want_restart) {
		/* the restart cannot even begin (e.g. PV_kernel unset since) */
		if (!c)
			log_err("vm: %s: cannot restart it; destroying its domain", vm->ref);
		destroy_job(NULL, vm, "hard_shutdown");
	}
	if (!c)
		return;
	/* ran at once (no worker), or failed before starting */
	if (!rc)
		emit_str(c->e, "");
	c->complete(c);
}

static void domain_event(void *opaque, const struct vmm_event *ev)
{
	struct obj *vm = vm_by_uuid(ev->uuid);

	(void)opaque;
	if (!vm || dm_fv(vm, OF(vm, VM, is_control_domain))->u.i)
		return;
	if (ev->type == VMM_EVENT_CONSOLE) {
		api_console_log_read(vm->ref, ev->domid);
		return;
	}
	if (dm_fv(vm, OF(vm, VM, domid))->u.i != (int64_t)ev->domid)
		return;         /* an old incarnation */
	if (job_of(vm->ref) || api_vm_copy_busy(vm->ref))
		return;         /* ours, in flight: its done() reconciles */
	switch (ev->type) {
	case VMM_EVENT_CHANGED:
		if (ev->state == VMM_STATE_SHUTDOWN) {
			struct pending *p = pending_of(vm->ref);

			if (!p || p->kind != W_RESTART_DELAY)
				on_shutdown(vm, ev->reason);
		}
		break;
	case VMM_EVENT_DIED:
		if (!is_state(vm, "Halted"))
			on_shutdown(vm, VMM_REASON_POWEROFF);
		break;
	default:
		break;
	}
}

void api_vm_handle_domain_events(void)
{
	vmm_handle_events(api_vmm, domain_event, NULL);
}

/* Daemon exit: the worker is stopped (every job done), so only the
 * waits in the loop are left; their callers get no answer. */
void api_vm_dispose(void)
{
	struct pending *p;

	while ((p = pendings)) {
		pendings = p->next;
		free(p);
	}
	free(ap.refs);
	ap.refs = NULL;
}

void api_vm_adopt(void)
{
	struct dm_class *k = dm_class_find("VM");
	struct vmm_domain_info *doms = NULL;
	size_t n = 0;
	char e[VMM_ERR_MAX];

	if (vmm_list(api_vmm, &doms, &n, e, sizeof(e))) {
		log_err("vm: cannot list domains: %s", e);
		return;
	}
	/* O(VMs + domains) lookups through the uuid index */
	for (struct obj *vm = k->first; vm; vm = vm->next) {
		struct vmm_domain_info *d = NULL;

		if (vm->owner)
			continue;       /* another host's guest (a pool's mirror) */
		/* operations in flight died with the last daemon; what was
		 * allowed then was stored with them */
		set_current_op(vm, NULL, NULL);
		if (dm_fv(vm, OF(vm, VM, is_control_domain))->u.i)
			continue;
		for (size_t i = 0; i < n; i++)
			if (doms[i].domid && !strcasecmp(doms[i].uuid, dm_get_str(vm, k->f_uuid)))
				d = &doms[i];
		if (!d) {
			if (!is_state(vm, "Halted")) {
				log_info("vm: %s is gone; marking it Halted", vm->ref);
				mark_halted(vm);
			}
			continue;
		}
		if (dm_fv(vm, OF(vm, VM, domid))->u.i != (int64_t)d->domid ||
		    strcmp(dm_get_str(vm, OF(vm, VM, resident_on)), api_this_host->ref) ||
		    !is_state(vm, d->state == VMM_STATE_PAUSED ? "Paused" : "Running")) {
			log_info("vm: adopting %s as domain %u", vm->ref, d->domid);
			mark_running(vm, d->domid, d->state == VMM_STATE_PAUSED,
				     dm_fv(metrics_of(vm), FLD(VM_metrics, start_time))->u.i);
		}
		/* else the record is right already: nothing to write */
		if (d->state == VMM_STATE_SHUTDOWN)
			on_shutdown(vm, d->reason);
	}
	free(doms);
}

/* ---- auto power-on: after a host boot (api/host_ops.c decides) ---- */


static int marked(struct obj *o, int f)
{
	const struct dm_val *v = dm_map_get(o->cls->fields[f].t, dm_fv(o, f), "auto_poweron");

	return v && !strcmp(v->u.s, "true");
}

void api_vm_auto_poweron(void)
{
	struct dm_class *k = dm_class_find("VM");
	int fo = FLD(VM, order);

	if (!marked(api_pool, FLD(pool, other_config))) {
		log_info("vm: auto power-on: off for the pool");
		return;
	}
	for (struct obj *vm = k->first; vm; vm = vm->next) {
		size_t i;

		if (vm->owner || dm_fv(vm, FLD(VM, is_control_domain))->u.i ||
		    dm_fv(vm, FLD(VM, is_a_template))->u.i || dm_fv(vm, FLD(VM, is_a_snapshot))->u.i ||
		    !marked(vm, FLD(VM, other_config)) || !is_state(vm, "Halted"))
			continue;
		ap.refs = xrealloc(ap.refs, (ap.n + 1) * sizeof(*ap.refs));
		/* by order, ties as they come: an insertion sort */
		for (i = ap.n; i > 0; i--) {
			struct obj *p = dm_obj_by_ref(ap.refs[i - 1]);

			if (dm_fv(p, fo)->u.i <= dm_fv(vm, fo)->u.i)
				break;
			memcpy(ap.refs[i], ap.refs[i - 1], DM_REF_LEN);
		}
		snprintf(ap.refs[i], DM_REF_LEN, "%s", vm->ref);
		ap.n++;
	}
	log_info("vm: auto power-on: %zu VM(s) to start", ap.n);
	ap.on = ap.n > 0;
}

/* A start ended (c is &ap.c): a failure is a message, and the next VM
 * waits for this one's start_delay after a success only. */
static void ap_done(struct call *c)
{
	struct obj *vm = dm_obj_by_ref(ap.refs[ap.next - 1]);
	int64_t delay = 0;

	ap.busy = 0;
	if (vm && c->nerr) {
		char body[400];

		snprintf(body, sizeof(body), "auto_poweron: VM.start failed: %s %s %s", c->err[0],
			 c->nerr > 1 ? c->err[1] : "", c->nerr > 2 ? c->err[2] : "");
		log_warn("vm: %s: %s", vm->ref, body);
		api_message_create("AUTO_POWERON_FAILED", 2, "VM", dm_get_str(vm, vm->cls->f_uuid), body);
	} else if (vm) {
		log_info("vm: auto power-on: started %s", vm->ref);
		delay = dm_fv(vm, FLD(VM, start_delay))->u.i;
	}
	ap.at = now_ms() + (delay > 0 ? delay * 1000 : 0);
	arena_free(&ap.a);
	buf_free(&ap.out);
}

static int64_t ap_tick(int64_t now)
{
	while (ap.on && !ap.busy) {
		struct obj *vm;
		int rc;

		if (now < ap.at)
			return ap.at - now;
		if (ap.next == ap.n) {
			log_info("vm: auto power-on: done");
			free(ap.refs);
			memset(&ap, 0, sizeof(ap));
			break;
		}
		vm = dm_obj_by_ref(ap.refs[ap.next++]);
		if (!vm || !is_state(vm, "Halted"))
			continue;       /* destroyed, or started by someone since */
		memset(&ap.c, 0, sizeof(ap.c));
		arena_init(&ap.a, 0);
		buf_init(&ap.out);
		xmlrpc_emit_init(&ap.e, &ap.out);
		ap.c.a = &ap.a;
		ap.c.e = &ap.e;
		ap.c.out = &ap.out;
		ap.c.complete = ap_done;
		ap.busy = 1;
		rc = start_op(&ap.c, vm->ref, 0, "start");
		if (rc != 1)
			ap_done(&ap.c);
	}
	return -1;
}

/* ---- host.shutdown / host.reboot: this host's guests stop ---- */

int api_vm_stop_all(void)
{
	struct dm_class *k = dm_class_find("VM");
	char e[VMM_ERR_MAX];
	int left = 0;

	ap.next = ap.n;                 /* no more auto power-on */
	for (struct obj *vm = k->first; vm; vm = vm->next) {
		if (vm->owner || dm_fv(vm, FLD(VM, is_control_domain))->u.i || is_state(vm, "Halted"))
			continue;
		left++;
		if (dm_list_len(dm_fv(vm, FLD(VM, current_operations))))
			continue;       /* in flight, or asked already */
		/* as VM.shutdown: asked, then hard after the clean timeout */
		if (is_state(vm, "Running") &&
		    !vmm_shutdown(api_vmm, (uint32_t)dm_fv(vm, FLD(VM, domid))->u.i, VMM_REQ_POWEROFF,
				  e, sizeof(e))) {
			log_info("vm: %s: asked to shut down (host going down)", vm->ref);
			wait_add(vm, NULL, W_SHUTDOWN, now_ms() + (int64_t)api_clean_timeout_s * 1000);
		} else {
			api_vm_hard_stops++;
			destroy_job(NULL, vm, "hard_shutdown");
		}
	}
	return left;
}


/* ---- create/destroy hooks ---- */

int api_vm_on_create(struct call *c, struct obj *vm)
{
	metrics_of(vm);
	update_allowed(vm);
	return 0;
}

int api_vm_on_destroy(struct call *c, struct obj *vm)
{
	struct obj *m;

	if (api_vm_op_check(c, vm, "destroy"))
		return -1;      /* not halted, a start in flight, ... */
	/* as XAPI: the VM's VBDs and VIFs go with it (its VDIs stay) */
	{
		static const short sets[] = { FLD(VM, VBDs), FLD(VM, VIFs) };

		for (size_t s = 0; s < 2; s++) {
			const struct dm_val *l;

			while (dm_list_len(l = dm_fv(vm, sets[s]))) {
				struct obj *d = dm_obj_by_ref(l->u.l->v[0].u.s);

				if (!d)
					break;
				dm_obj_delete(d);       /* updates the inverse set */
			}
		}
	}
	api_console_log_forget(vm->ref);
	m = dm_obj_by_ref_cls(dm_class_find("VM_metrics"), dm_get_str(vm, OF(vm, VM, metrics)));
	if (m)
		dm_obj_delete(m);
	return 0;
}
