/* Host operations as XAPI's (xapi_host.ml, xapi_host_helpers.ml):
 * host.disable/enable, shutdown, reboot, restart_agent, evacuate, get_log;
 * host.allowed_operations from the same checks as the calls; and what a
 * start of the daemon is: a boot of the host (its boot id, vmm_boot_id,
 * differs from the one stored: auto power-on runs, the host is enabled
 * again) or a restart of the daemon alone (guests adopted, nothing
 * started, enabled as it was).  docs/OPERATIONS.md is the manual.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/log.h"
#include "lib/util.h"
#include "vmm/backend.h"

void (*api_exit_hook)(int restart);
const char *api_boot_log;

/* What the host does once the call has answered: nothing, power off,
 * reboot, restart the daemon; then "gone" (waiting for init to stop us). */
enum { D_NONE, D_RESTART, D_SHUTDOWN, D_REBOOT, D_GONE };
static struct {
	int what;
	int64_t at;
	const char *op;         /* what OTHER_OPERATION_IN_PROGRESS names */
} down;

#define H(fld) (*dm_fv(api_this_host, FLD(host, fld)))
#define FAIL(c, ...) ((c) ? api_fail((c), __VA_ARGS__, NULL) : -1)

/* A line in the log and, stamped, in the persistent boot log. */
static void boot_log_line(const char *what, int hard, const char *next)
{
	char line[160];
	int k = (int)log_stamp(line), n, fd;

	memcpy(line + k, " xenbox: ", 9);
	k += 9;
	n = k + snprintf(line + k, sizeof(line) - (size_t)k, "host.%s: every guest is down "
			 "(%d shut down hard); %s\n", what, hard, next);
	log_info("%.*s", n - k - 1, line + k);
	fd = api_boot_log ? open(api_boot_log, O_WRONLY | O_APPEND | O_CLOEXEC) : -1;
	if (fd >= 0) {
		(void)!write(fd, line, (size_t)n);
		close(fd);
	}
}

/* XAPI's valid_operations for the ops xenbox has: 0, or -1 after the
 * failure (c NULL: only asks). */
static int host_op_check(struct call *c, const char *op)
{
	const struct dm_val *cur = &H(current_operations);

	if (*op == 'e' && op[1] == 'n')         /* enable: XAPI's, until the reboot */
		return down.what > D_RESTART ?
		       FAIL(c, "HOST_DISABLED_UNTIL_REBOOT", api_this_host->ref) : 0;
	if (down.what)
		return FAIL(c, "OTHER_OPERATION_IN_PROGRESS", "host", api_this_host->ref,
			    down.op, dm_list_len(cur) ? cur->u.l->v[0].u.s : "");
	if (*op == 'e') {                       /* evacuate */
		/* no migration (yet): every resident guest stays here */
		const struct dm_val *r = &H(resident_VMs);

		for (size_t i = 0; i < dm_list_len(r); i++)
			if (strcmp(r->u.l->v[i].u.s, H(control_domain).u.s))
				return FAIL(c, "NO_HOSTS_AVAILABLE", r->u.l->v[i].u.s);
		return 0;
	}
	/* shutdown, reboot */
	if (H(enabled).u.i)
		return c ? api_fail(c, "HOST_NOT_DISABLED", NULL) : -1;
	return vmm_can_power(api_vmm) ? 0 :
	       FAIL(c, "OPERATION_NOT_ALLOWED", "the backend has no power control");
}

/* allowed_operations: what host_op_check lets through now (XAPI lists
 * provision, vm_* too: xenbox lists only what its calls do). */
static void host_refresh_allowed(void)
{
	static const char *const ops[] = { "evacuate", "shutdown", "reboot", "enable" };
	static uint64_t seen;
	const struct dm_type *t;
	struct dm_val set = { 0 };

	if (!api_this_host || dm_gen == seen)
		return;
	t = api_this_host->cls->fields[FLD(host, allowed_operations)].t;
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		struct dm_val e;

		if (host_op_check(NULL, ops[i]))
			continue;
		e.u.i = dm_enum_index(t->elem->en, ops[i], strlen(ops[i]));
		dm_list_push(NULL, &set, &e);
	}
	dm_set(api_this_host, FLD(host, allowed_operations), &set);
	dm_val_free(t, &set);
	seen = dm_gen;
}

/* (another pool host's is refused by the dispatcher: its owner's) */
#define this_host(c, ref) api_obj(c, "host", ref)

static void set_enabled(int on, int stay_off)
{
	dm_set_int(api_this_host, FLD(host, enabled), on);
	dm_set_int(api_this_host, FLD(host, stay_disabled), stay_off);
}

void api_host_start(void)
{
	char id[VMM_BOOT_ID_MAX];

	/* no boot id: a restart (never a second start) */
	if (vmm_boot_id(api_vmm, id, sizeof(id)) ||
	    !strcmp(id, dm_get_str(api_this_host, FLD(host, boot_id)))) {
		log_info("host: the daemon restarted (%s)", id);
		return;
	}
	log_info("host: booted (%s)", id);
	dm_set_str(api_this_host, FLD(host, boot_id), id);
	/* XAPI's host_auto_enable: enabled again unless disable said not;
	 * a disabled host starts nothing */
	set_enabled(!H(stay_disabled).u.i, H(stay_disabled).u.i);
	if (H(enabled).u.i)
		api_vm_auto_poweron();
}

int64_t api_host_tick(int64_t now)
{
	char e[VMM_ERR_MAX];
	int rc;

	host_refresh_allowed();
	if (!down.what || down.what == D_GONE)
		return -1;
	if (now < down.at)
		return down.at - now;
	if (down.what == D_RESTART) {
		down.what = D_NONE;
		api_exit_hook(1);
		return -1;
	}
	if (api_vm_stop_all())
		return 500;     /* guests still stopping: look again */
	/* in the persistent boot log too: why the host went down */
	boot_log_line(down.op, api_vm_hard_stops, down.what == D_REBOOT ? "rebooting" : "powering off");
	rc = vmm_host_power(api_vmm, down.what == D_REBOOT, e, sizeof(e));
	if (rc < 0) {
		log_err("host: %s", e);
		down.what = D_NONE;
		dm_set(api_this_host, FLD(host, current_operations), &(struct dm_val){ 0 });
		return -1;
	}
	down.what = D_GONE;
	if (rc == 1)
		api_exit_hook(0);
	return -1;
}

/* After the answer had time to leave: XAPI waits too (1 s, 10 s). */
static void go_down(struct call *c, int what, const char *op)
{
	char id[DM_REF_LEN];
	struct dm_val m = { 0 }, k, v;
	const struct dm_field *f = &api_this_host->cls->fields[FLD(host, current_operations)];

	if (c->task)
		snprintf(id, sizeof(id), "%s", c->task);
	else
		dm_new_ref(id);
	if (op) {
		k.u.s = dm_str(id);
		v.u.i = dm_enum_index(f->t->elem->en, op, strlen(op));
		dm_list_push(NULL, &m, &k);
		dm_list_push(NULL, &m, &v);
		dm_set(api_this_host, f->idx, &m);
		dm_val_free(f->t, &m);
	}
	down.op = op ? op : "restart_agent";
	down.what = what;
	down.at = now_ms() + 1000;
}

HANDLER(api_host_disable)
{
	(void)res;
	if (!this_host(c, args[0].u.s))
		return -1;
	if (H(enabled).u.i) {
		log_info("host: disabled%s", args[1].u.i ? "" : " until host.enable");
		set_enabled(0, !args[1].u.i);
	}
	return 0;
}

HANDLER(api_host_enable)
{
	(void)res;
	if (!this_host(c, args[0].u.s) || host_op_check(c, "enable"))
		return -1;
	set_enabled(1, 0);
	return 0;
}

static int power_op(struct call *c, const char *ref, int what, const char *op)
{
	if (!this_host(c, ref) || host_op_check(c, op))
		return -1;
	go_down(c, what, op);
	return 0;
}

HANDLER(api_host_shutdown)
{
	(void)res;
	return power_op(c, args[0].u.s, D_SHUTDOWN, "shutdown");
}

HANDLER(api_host_reboot)
{
	(void)res;
	return power_op(c, args[0].u.s, D_REBOOT, "reboot");
}

HANDLER(api_host_restart_agent)
{
	(void)res;
	if (!this_host(c, args[0].u.s))
		return -1;
	if (down.what)
		return host_op_check(c, "restart_agent");
	go_down(c, D_RESTART, NULL);
	return 0;
}

/* XAPI's evacuate migrates the resident guests to other enabled hosts;
 * xenbox cannot migrate yet, so a resident guest fails it as on a host
 * with no other: NO_HOSTS_AVAILABLE [vm]; none: done. */
HANDLER(api_host_evacuate)
{
	(void)res;
	if (!this_host(c, args[0].u.s) || host_op_check(c, "evacuate"))
		return -1;
	return 0;
}

/* XAPI answers NOT_IMPLEMENTED: here the persistent boot log (the
 * daemon's --boot-log) then the daemon's own recent lines. */
HANDLER(api_host_get_log)
{
	struct buf b = BUF_INIT;
	char tmp[4096];
	ssize_t n;
	int fd = api_boot_log ? open(api_boot_log, O_RDONLY | O_CLOEXEC) : -1;

	if (!this_host(c, args[0].u.s))
		return -1;
	if (fd >= 0) {
		while ((n = read(fd, tmp, sizeof(tmp))) > 0)
			buf_add(&b, tmp, (size_t)n);
		close(fd);
	}
	log_ring_copy(&b);
	res->u.s = dm_strn(b.data, b.len);
	buf_free(&b);
	return 0;
}
