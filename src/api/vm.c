/* VM lifecycle: XenAPI VMs mapped onto backend domains by uuid.
 *
 * Power states and allowed_operations follow XAPI's table.  Clean shutdown
 * and reboot only ask the guest; the call waits (without blocking the loop)
 * for the domain's SHUTDOWN event or fails with VM_SHUTDOWN_TIMEOUT.
 * Shutdowns the guest does on its own arrive through the backend's events
 * and apply actions_after_shutdown / _reboot / _crash.
 *
 * Domain builds and destroys are slow on Xen (seconds), so they run as
 * jobs in the worker thread (lib/worker.h): the handler checks, copies
 * what the backend needs into a self-contained job, marks the VM's
 * current_operations and returns "pending"; the job's done() runs in the
 * loop thread, updates the datamodel and completes the call (or its
 * task).  While an operation is in flight, conflicting calls fail with
 * OTHER_OPERATION_IN_PROGRESS and the VM's domain events are ignored (the
 * job reconciles when done).  Only the loop thread touches the datamodel.
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
#include "vmm/backend.h"

int api_clean_timeout_s = 120;

#define VMF(o, name) dm_field_idx((o)->cls, name)

static int is_state(struct obj *vm, const char *s)
{
	return !strcmp(dm_get_enum(vm, VMF(vm, "power_state")), s);
}

static void lower(char *out, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[i] = 0;
}

static int bad_power_state(struct call *c, struct obj *vm, const char *expected)
{
	char exp[16], act[16];

	lower(exp, sizeof(exp), expected);
	lower(act, sizeof(act), dm_get_enum(vm, VMF(vm, "power_state")));
	return api_fail(c, "VM_BAD_POWER_STATE", vm->ref, exp, act, NULL);
}

/* allowed_operations from the power state (XAPI's xapi_vm_lifecycle) */
static void update_allowed(struct obj *vm)
{
	static const char *const halted[] = {
		"start", "start_on", "clone", "copy", "export", "destroy", "provision",
		"changing_dynamic_range", "changing_static_range", "changing_memory_limits",
		"changing_VCPUs", "make_into_template", NULL };
	static const char *const running[] = {
		"clean_shutdown", "clean_reboot", "hard_shutdown", "hard_reboot", "pause",
		"shutdown", "changing_dynamic_range", "power_state_reset", NULL };
	static const char *const paused[] = {
		"unpause", "hard_shutdown", "hard_reboot", "power_state_reset", NULL };
	static const char *const suspended[] = { "hard_shutdown", "power_state_reset", NULL };
	static const char *const none[] = { NULL };
	const char *const *ops;
	const struct dm_type *t = vm->cls->fields[VMF(vm, "allowed_operations")].t;
	struct dm_val set = { 0 };
	const char *ps = dm_get_enum(vm, VMF(vm, "power_state"));

	if (vm->f[VMF(vm, "is_control_domain")].u.i || vm->f[VMF(vm, "is_a_template")].u.i ||
	    dm_list_len(&vm->f[VMF(vm, "current_operations")]))
		ops = none;
	else if (!strcmp(ps, "Halted"))
		ops = halted;
	else if (!strcmp(ps, "Running"))
		ops = running;
	else if (!strcmp(ps, "Paused"))
		ops = paused;
	else
		ops = suspended;
	for (; *ops; ops++) {
		struct dm_val e = { .u.i = dm_enum_index(t->elem->en, *ops, strlen(*ops)) };

		dm_list_push(NULL, &set, &e);
	}
	dm_set(vm, VMF(vm, "allowed_operations"), &set);
	dm_val_free(t, &set);
}

static struct obj *metrics_of(struct obj *vm)
{
	struct dm_class *km = dm_class_find("VM_metrics");
	struct obj *m = dm_obj_by_ref_cls(km, dm_get_str(vm, VMF(vm, "metrics")));

	if (!m) {
		m = dm_obj_new(km, NULL, NULL);
		dm_set_str(vm, VMF(vm, "metrics"), m->ref);
	}
	return m;
}

static void set_devices_attached(struct obj *vm, int attached)
{
	static const char *const sets[] = { "VBDs", "VIFs" };

	for (size_t s = 0; s < 2; s++) {
		struct dm_val *l = &vm->f[VMF(vm, sets[s])];

		for (size_t i = 0; i < dm_list_len(l); i++) {
			struct obj *d = dm_obj_by_ref(l->u.l->v[i].u.s);

			if (d)
				dm_set_int(d, VMF(d, "currently_attached"), attached);
		}
	}
}

static void remove_consoles(struct obj *vm)
{
	struct dm_val *l = &vm->f[VMF(vm, "consoles")];

	while (dm_list_len(l)) {
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

	dm_set_enum(vm, VMF(vm, "power_state"), paused ? "Paused" : "Running");
	dm_set_int(vm, VMF(vm, "domid"), domid);
	dm_set_str(vm, VMF(vm, "resident_on"), api_this_host->ref);
	dm_set_int(m, VMF(m, "start_time"), start_time);
	dm_set_int(m, VMF(m, "VCPUs_number"), vm->f[VMF(vm, "VCPUs_at_startup")].u.i);
	dm_set_int(m, VMF(m, "memory_actual"), vm->f[VMF(vm, "memory_dynamic_max")].u.i);
	dm_set_enum(m, VMF(m, "current_domain_type"), dm_get_enum(vm, VMF(vm, "domain_type")));
	dm_set(m, VMF(m, "state"), &st);
	dm_set_int(vm, VMF(vm, "memory_target"), vm->f[VMF(vm, "memory_dynamic_max")].u.i);
	set_devices_attached(vm, 1);
	if (!dm_list_len(&vm->f[VMF(vm, "consoles")])) {
		char loc[128];

		con = dm_obj_new(dm_class_find("console"), NULL, NULL);
		snprintf(loc, sizeof(loc), "/console?ref=%s", con->ref);
		dm_set_str(con, VMF(con, "location"), loc);
		dm_set_str(con, VMF(con, "VM"), vm->ref);
	}
	update_allowed(vm);
}

static void mark_halted(struct obj *vm)
{
	struct obj *m = metrics_of(vm);

	dm_set_enum(vm, VMF(vm, "power_state"), "Halted");
	dm_set_int(vm, VMF(vm, "domid"), -1);
	dm_set_str(vm, VMF(vm, "resident_on"), "OpaqueRef:NULL");
	dm_set_int(m, VMF(m, "memory_actual"), 0);
	dm_set_int(m, VMF(m, "VCPUs_number"), 0);
	set_devices_attached(vm, 0);
	remove_consoles(vm);
	update_allowed(vm);
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
	return backend_fail_mem(c, (uint64_t)vm->f[VMF(vm, "memory_static_max")].u.i, rc, msg);
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
	struct dm_val *pl = &vm->f[VMF(vm, "platform")];
	const char *dt = dm_get_enum(vm, VMF(vm, "domain_type"));
	char vdev[VMM_VDEV_MAX];

	if (strcmp(dt, "pv") && strcmp(dt, "pvh"))
		return c ? api_fail(c, "OPERATION_NOT_ALLOWED",
				    "xenbox starts PV and PVH guests only (domain_type pv or pvh)", NULL) : -1;
	if (!*dm_get_str(vm, VMF(vm, "PV_kernel")))
		return c ? api_fail(c, "OPERATION_NOT_ALLOWED", "PV_kernel is not set", NULL) : -1;
	cfg->uuid = keep(j, dm_get_str(vm, vm->cls->f_uuid));
	cfg->name = keep(j, dm_get_str(vm, vm->cls->f_name_label));
	cfg->type = strcmp(dt, "pvh") ? VMM_TYPE_PV : VMM_TYPE_PVH;
	cfg->mem_static_max = (uint64_t)vm->f[VMF(vm, "memory_static_max")].u.i;
	cfg->mem_dynamic_min = (uint64_t)vm->f[VMF(vm, "memory_dynamic_min")].u.i;
	cfg->mem_dynamic_max = (uint64_t)vm->f[VMF(vm, "memory_dynamic_max")].u.i;
	cfg->mem_target = cfg->mem_dynamic_max;
	cfg->vcpus_max = (unsigned)vm->f[VMF(vm, "VCPUs_max")].u.i;
	cfg->vcpus_online = (unsigned)vm->f[VMF(vm, "VCPUs_at_startup")].u.i;
	cfg->kernel = keep(j, dm_get_str(vm, VMF(vm, "PV_kernel")));
	cfg->ramdisk = keep(j, dm_get_str(vm, VMF(vm, "PV_ramdisk")));
	cfg->cmdline = keep(j, dm_get_str(vm, VMF(vm, "PV_args")));
	for (size_t i = 0; i + 1 < dm_list_len(pl) && cfg->nr_platform < ARRAY_SIZE(j->plat); i += 2) {
		j->plat[cfg->nr_platform].key = keep(j, pl->u.l->v[i].u.s);
		j->plat[cfg->nr_platform++].value = keep(j, pl->u.l->v[i + 1].u.s);
	}
	cfg->platform = j->plat;
	{
		struct dm_val *l = &vm->f[VMF(vm, "VBDs")];

		for (size_t i = 0; i < dm_list_len(l) && cfg->nr_disks < VMM_MAX_DEVS; i++) {
			struct obj *vbd = dm_obj_by_ref(l->u.l->v[i].u.s), *vdi;
			struct vmm_disk *d = &j->disks[cfg->nr_disks];

			if (!vbd || vbd->f[VMF(vbd, "empty")].u.i)
				continue;
			vdi = dm_obj_by_ref_cls(dm_class_find("VDI"), dm_get_str(vbd, VMF(vbd, "VDI")));
			if (!vdi)
				return c ? api_fail(c, "HANDLE_INVALID", "VDI",
						    dm_get_str(vbd, VMF(vbd, "VDI")), NULL) : -1;
			d->path = keep(j, dm_get_str(vdi, VMF(vdi, "location")));
			d->vdev = keep(j, vdev_of(dm_get_str(vbd, VMF(vbd, "userdevice")),
						  vdev, sizeof(vdev)));
			d->readonly = !strcmp(dm_get_enum(vbd, VMF(vbd, "mode")), "RO");
			cfg->nr_disks++;
		}
		cfg->disks = j->disks;
	}
	{
		struct dm_val *l = &vm->f[VMF(vm, "VIFs")];

		for (size_t i = 0; i < dm_list_len(l) && cfg->nr_nics < VMM_MAX_DEVS; i++) {
			struct obj *vif = dm_obj_by_ref(l->u.l->v[i].u.s), *net;
			struct vmm_nic *n = &j->nics[cfg->nr_nics];

			if (!vif)
				continue;
			net = dm_obj_by_ref_cls(dm_class_find("network"),
						dm_get_str(vif, VMF(vif, "network")));
			n->mac = keep(j, dm_get_str(vif, VMF(vif, "MAC")));
			n->bridge = keep(j, net ? dm_get_str(net, VMF(net, "bridge")) : "xenbr0");
			n->devid = (uint32_t)atoi(dm_get_str(vif, VMF(vif, "device")));
			cfg->nr_nics++;
		}
		cfg->nics = j->nics;
	}
	return 0;
}

/* Worker thread: destroy, then build and start, as asked. */
static void job_run(struct job *jb)
{
	struct vm_job *j = (struct vm_job *)jb;
	char e2[VMM_ERR_MAX];

	if (j->destroy) {
		j->rc = vmm_destroy(api_vmm, j->domid, j->err, sizeof(j->err));
		if (j->rc == -ENOENT)
			j->rc = 0;      /* gone already: what we wanted */
		if (j->rc)
			return;
		j->destroyed = 1;
		worker_progress(jb, j->create ? 0.2 : 1.0);
	}
	if (!j->create)
		return;
	/* the build has begun: a daemon told to stop now waits for it */
	worker_progress(jb, j->destroyed ? 0.3 : 0.1);
	j->rc = vmm_create(api_vmm, &j->cfg, &j->domid, j->err, sizeof(j->err));
	if (j->rc)
		return;
	worker_progress(jb, 0.9);
	if (!j->paused && (j->rc = vmm_unpause(api_vmm, j->domid, j->err, sizeof(j->err)))) {
		vmm_destroy(api_vmm, j->domid, e2, sizeof(e2));
		return;
	}
	j->created = 1;
}

static void job_progress(struct job *jb, double p)
{
	struct vm_job *j = (struct vm_job *)jb;
	struct obj *t = *j->task ? dm_obj_by_ref_cls(dm_class_find("task"), j->task) : NULL;

	if (t)
		dm_set_float(t, dm_field_idx(t->cls, "progress"), p);
}

static void set_current_op(struct obj *vm, const char *op, const char *task);
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
	if (jb->cancelled)
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
	int rc;

	j->c = c;
	if (c && c->task)
		snprintf(j->task, sizeof(j->task), "%s", c->task);
	set_current_op(vm, op, *j->task ? j->task : NULL);
	j->next = active;
	active = j;
	worker_submit(&j->job);
	if (!j->job.inline_run)
		return 1;
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
	int64_t domid = vm->f[VMF(vm, "domid")].u.i;
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

static struct obj *vm_arg(struct call *c, const char *ref)
{
	struct obj *vm = api_obj(c, "VM", ref);

	if (!vm)
		return NULL;
	if (vm->f[VMF(vm, "is_control_domain")].u.i) {
		api_fail(c, "OPERATION_NOT_ALLOWED", "This operation is not allowed on the control domain", NULL);
		return NULL;
	}
	if (dm_list_len(&vm->f[VMF(vm, "current_operations")])) {
		struct dm_list *l = vm->f[VMF(vm, "current_operations")].u.l;
		const struct dm_type *t = vm->cls->fields[VMF(vm, "current_operations")].t;

		api_fail(c, "OTHER_OPERATION_IN_PROGRESS", "VM", vm->ref,
			 t->elem->en->v[l->v[1].u.i], l->v[0].u.s, NULL);
		return NULL;
	}
	return vm;
}

HANDLER(api_vm_start)
{
	struct obj *vm = vm_arg(c, args[0].u.s);

	if (!vm)
		return -1;
	if (vm->f[VMF(vm, "is_a_template")].u.i)
		return api_fail(c, "VM_IS_TEMPLATE", vm->ref, "start", NULL);
	if (!is_state(vm, "Halted"))
		return bad_power_state(c, vm, "Halted");
	return start_job(c, vm, (int)args[1].u.i, -1, "start");
}

HANDLER(api_vm_start_on)
{
	if (!api_obj(c, "host", args[1].u.s))
		return -1;
	if (strcmp(args[1].u.s, api_this_host->ref))
		return api_fail(c, "OPERATION_NOT_ALLOWED", "start_on: only this host", NULL);
	args[1] = args[2];
	args[2] = args[3];
	return api_vm_start(c, args, res);
}

HANDLER(api_vm_hard_shutdown)
{
	struct obj *vm = vm_arg(c, args[0].u.s);

	if (!vm)
		return -1;
	if (is_state(vm, "Halted"))
		return bad_power_state(c, vm, "Running");
	return destroy_job(c, vm, "hard_shutdown");
}

HANDLER(api_vm_power_state_reset)
{
	struct obj *vm = api_obj(c, "VM", args[0].u.s);

	if (!vm)
		return -1;
	if (job_of(vm->ref))
		return vm_arg(c, args[0].u.s) ? 0 : -1;  /* OTHER_OPERATION_IN_PROGRESS */
	mark_halted(vm);
	return 0;
}

HANDLER(api_vm_hard_reboot)
{
	struct obj *vm = vm_arg(c, args[0].u.s);

	if (!vm)
		return -1;
	if (!is_state(vm, "Running") && !is_state(vm, "Paused"))
		return bad_power_state(c, vm, "Running");
	return start_job(c, vm, 0, vm->f[VMF(vm, "domid")].u.i, "hard_reboot");
}

/* Pause or unpause: from one power state to the other (fast: in the loop). */
static int pause_op(struct call *c, const char *ref, int pause)
{
	struct obj *vm = vm_arg(c, ref);
	const char *from = pause ? "Running" : "Paused";
	char e[VMM_ERR_MAX];
	uint32_t domid;
	int rc;

	if (!vm)
		return -1;
	if (!is_state(vm, from))
		return bad_power_state(c, vm, from);
	domid = (uint32_t)vm->f[VMF(vm, "domid")].u.i;
	rc = pause ? vmm_pause(api_vmm, domid, e, sizeof(e))
		   : vmm_unpause(api_vmm, domid, e, sizeof(e));
	if (rc)
		return backend_fail(c, vm, rc, e);
	dm_set_enum(vm, VMF(vm, "power_state"), pause ? "Paused" : "Running");
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

struct pending {
	struct pending *next;
	struct call *c;                 /* NULL once the caller went away */
	char vm[DM_REF_LEN];
	int reboot;
	int64_t deadline;
};
static struct pending *pendings;

/* current_operations: {task: op} (XAPI keys it by the task running it), or
 * nothing when op is NULL. */
static void set_current_op(struct obj *vm, const char *op, const char *task)
{
	const struct dm_field *f = &vm->cls->fields[VMF(vm, "current_operations")];
	struct dm_val m = { 0 };

	if (op) {
		char id[DM_REF_LEN];
		struct dm_val k, v;

		if (task)
			snprintf(id, sizeof(id), "%s", task);
		else
			dm_new_ref(id);
		k.u.s = xstrdup(id);
		v.u.i = dm_enum_index(f->t->elem->en, op, strlen(op));
		dm_list_push(NULL, &m, &k);
		dm_list_push(NULL, &m, &v);
	}
	dm_set(vm, f->idx, &m);
	dm_val_free(f->t, &m);
	update_allowed(vm);
}

static int clean_op(struct call *c, const char *ref, int reboot)
{
	struct obj *vm = vm_arg(c, ref);
	struct pending *p;
	char e[VMM_ERR_MAX];
	int rc;

	if (!vm)
		return -1;
	if (!is_state(vm, "Running"))
		return bad_power_state(c, vm, "Running");
	rc = vmm_shutdown(api_vmm, (uint32_t)vm->f[VMF(vm, "domid")].u.i,
			  reboot ? VMM_REQ_REBOOT : VMM_REQ_POWEROFF, e, sizeof(e));
	if (rc)
		return backend_fail(c, vm, rc, e);
	p = xcalloc(1, sizeof(*p));
	p->c = c;
	snprintf(p->vm, sizeof(p->vm), "%s", vm->ref);
	p->reboot = reboot;
	p->deadline = now_ms() + (int64_t)api_clean_timeout_s * 1000;
	p->next = pendings;
	pendings = p;
	set_current_op(vm, reboot ? "clean_reboot" : "clean_shutdown", c->task);
	return 1;       /* completes on the domain's shutdown event */
}

HANDLER(api_vm_clean_shutdown)
{
	return clean_op(c, args[0].u.s, 0);
}

HANDLER(api_vm_clean_reboot)
{
	return clean_op(c, args[0].u.s, 1);
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

/* The guest did not shut down in time: the call fails, the VM runs on. */
static void pending_timed_out(struct pending *p, struct obj *vm)
{
	if (vm)
		set_current_op(vm, NULL, NULL);
	if (p->c) {
		char secs[16];

		snprintf(secs, sizeof(secs), "%d", api_clean_timeout_s);
		api_fail(p->c, "VM_SHUTDOWN_TIMEOUT", p->vm, secs, NULL);
		p->c->complete(p->c);
	}
	free(p);
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

int64_t api_vm_tick(int64_t now)
{
	int64_t next = -1;
	struct pending *p, *n;

	for (p = pendings; p; p = n) {
		n = p->next;
		if (now >= p->deadline) {
			struct obj *vm = dm_obj_by_ref(p->vm);

			take_pending(p->vm);
			pending_timed_out(p, vm);
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

/* A domain stopped: what the caller asked for, or what the VM says to do.
 * Either way the old domain is destroyed (and a new one built) in the
 * worker; a caller waiting for a clean shutdown/reboot is answered then. */
static void on_shutdown(struct obj *vm, enum vmm_shutdown_reason reason)
{
	struct pending *p = take_pending(vm->ref);
	struct call *c = p ? p->c : NULL;
	int64_t domid = vm->f[VMF(vm, "domid")].u.i;
	const char *action, *op;
	int want_restart, rc;

	if (p) {
		want_restart = p->reboot;
		op = p->reboot ? "clean_reboot" : "clean_shutdown";
		free(p);
		set_current_op(vm, NULL, NULL);
	} else {
		switch (reason) {
		case VMM_REASON_REBOOT:
			action = dm_get_enum(vm, VMF(vm, "actions_after_reboot"));
			break;
		case VMM_REASON_CRASH:
		case VMM_REASON_WATCHDOG:
			action = dm_get_enum(vm, VMF(vm, "actions_after_crash"));
			break;
		default:
			action = dm_get_enum(vm, VMF(vm, "actions_after_shutdown"));
			break;
		}
		if (!strcmp(action, "preserve")) {
			/* as XAPI (preserve maps to xenopsd's Pause): the dead
			 * domain stays for inspection, the VM shows Paused */
			log_info("vm: %s shut down by itself (%s): preserved", vm->ref,
				 vmm_reason_name(reason));
			dm_set_enum(vm, VMF(vm, "power_state"), "Paused");
			update_allowed(vm);
			return;
		}
		/* coredump_and_* and rename_restart: no core dumps here */
		want_restart = strstr(action, "restart") != NULL;
		op = want_restart ? "hard_reboot" : "hard_shutdown";
		log_info("vm: %s shut down by itself (%s): %s", vm->ref,
			 vmm_reason_name(reason), action);
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
	if (!vm || vm->f[VMF(vm, "is_control_domain")].u.i)
		return;
	if (ev->type == VMM_EVENT_CONSOLE) {
		api_console_log_read(vm->ref, ev->domid);
		return;
	}
	if (vm->f[VMF(vm, "domid")].u.i != (int64_t)ev->domid)
		return;         /* an old incarnation */
	if (job_of(vm->ref))
		return;         /* ours, in flight: its done() reconciles */
	switch (ev->type) {
	case VMM_EVENT_CHANGED:
		if (ev->state == VMM_STATE_SHUTDOWN)
			on_shutdown(vm, ev->reason);
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
 * waits for clean shutdowns are left; their callers get no answer. */
void api_vm_dispose(void)
{
	struct pending *p;

	while ((p = pendings)) {
		pendings = p->next;
		free(p);
	}
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

		if (vm->f[VMF(vm, "is_control_domain")].u.i)
			continue;
		/* operations in flight died with the last daemon */
		if (dm_list_len(&vm->f[VMF(vm, "current_operations")]))
			set_current_op(vm, NULL, NULL);
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
		if (vm->f[VMF(vm, "domid")].u.i != (int64_t)d->domid ||
		    strcmp(dm_get_str(vm, VMF(vm, "resident_on")), api_this_host->ref) ||
		    !is_state(vm, d->state == VMM_STATE_PAUSED ? "Paused" : "Running")) {
			log_info("vm: adopting %s as domain %u", vm->ref, d->domid);
			mark_running(vm, d->domid, d->state == VMM_STATE_PAUSED,
				     metrics_of(vm)->f[VMF(metrics_of(vm), "start_time")].u.i);
		}
		/* else the record is right already: nothing to write */
		if (d->state == VMM_STATE_SHUTDOWN)
			on_shutdown(vm, d->reason);
	}
	free(doms);
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

	if (vm->f[VMF(vm, "is_control_domain")].u.i)
		return api_fail(c, "OPERATION_NOT_ALLOWED", "cannot destroy the control domain", NULL);
	if (!is_state(vm, "Halted"))
		return bad_power_state(c, vm, "Halted");
	if (!vm_arg(c, vm->ref))
		return -1;      /* e.g. a start in flight */
	/* as XAPI: the VM's VBDs and VIFs go with it (its VDIs stay) */
	{
		static const char *const sets[] = { "VBDs", "VIFs" };

		for (size_t s = 0; s < 2; s++) {
			struct dm_val *l = &vm->f[VMF(vm, sets[s])];

			while (dm_list_len(l)) {
				struct obj *d = dm_obj_by_ref(l->u.l->v[0].u.s);

				if (!d)
					break;
				dm_obj_delete(d);       /* updates the inverse set */
			}
		}
	}
	api_console_log_forget(vm->ref);
	m = dm_obj_by_ref_cls(dm_class_find("VM_metrics"), dm_get_str(vm, VMF(vm, "metrics")));
	if (m)
		dm_obj_delete(m);
	return 0;
}
