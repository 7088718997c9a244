/* Handlers of the messages declared in api/model.c.  Each returns 0 with
 * *res filled (per the message's result type), or -1 after api_fail(). */
#ifndef XB_HANDLERS_H
#define XB_HANDLERS_H

#include "api/api.h"
#include "api/dm.h"

#define HANDLER(name) int name(struct call *c, struct dm_val *args, struct dm_val *res)

HANDLER(api_session_login);
HANDLER(api_session_logout);
HANDLER(api_session_subjects);
HANDLER(api_session_change_password);
HANDLER(api_host_get_servertime);
HANDLER(api_host_get_server_localtime);
HANDLER(api_host_get_server_certificate);
HANDLER(api_host_set_https_only);
HANDLER(api_host_set_hostname_live);
HANDLER(api_host_disable);               /* api/host_ops.c */
HANDLER(api_host_enable);
HANDLER(api_host_shutdown);
HANDLER(api_host_reboot);
HANDLER(api_host_restart_agent);
HANDLER(api_host_evacuate);
HANDLER(api_host_get_log);
HANDLER(api_vm_start);
HANDLER(api_vm_start_on);
HANDLER(api_vm_clean_shutdown);
HANDLER(api_vm_hard_shutdown);
HANDLER(api_vm_clean_reboot);
HANDLER(api_vm_shutdown);
HANDLER(api_vm_hard_reboot);
HANDLER(api_vm_pause);
HANDLER(api_vm_unpause);
HANDLER(api_vm_power_state_reset);
HANDLER(api_vm_clone);                   /* vm_copy.c */
HANDLER(api_vm_copy);
HANDLER(api_vm_snapshot);
HANDLER(api_vm_revert);
HANDLER(api_vm_provision);
HANDLER(api_vm_allowed_vbd_devices);
HANDLER(api_vm_allowed_vif_devices);
HANDLER(api_vm_set_memory_limits);
HANDLER(api_vm_set_vcpus_live);
HANDLER(api_vdi_clone);                  /* vdi_ops.c */
HANDLER(api_vdi_snapshot);
HANDLER(api_vdi_copy);
HANDLER(api_vdi_resize);
HANDLER(api_sr_get_supported_types);  /* api/storage.c */
HANDLER(api_sr_scan);
HANDLER(api_sr_forget);
HANDLER(api_pbd_plug);
HANDLER(api_pbd_unplug);
int api_pbd_on_destroy(struct call *c, struct obj *pbd);
HANDLER(api_task_create);
HANDLER(api_task_cancel);
HANDLER(api_task_destroy);
HANDLER(api_event_from);
HANDLER(api_event_inject);
HANDLER(api_event_register);
HANDLER(api_event_unregister);
HANDLER(api_event_next);
HANDLER(api_event_get_current_id);
HANDLER(api_message_create_h);
HANDLER(api_message_get);
HANDLER(api_message_get_since);
HANDLER(api_pool_create_join_token);    /* pool/token.c */
HANDLER(api_pool_get_join_tokens);
HANDLER(api_pool_revoke_join_token);
HANDLER(api_pool_get_channel_status);    /* pool/master.c */
HANDLER(api_pool_eject);                 /* pool/forward.c */
HANDLER(api_host_destroy);
HANDLER(api_pool_revoke_member);
HANDLER(api_pool_join);                  /* pool/member.c; join_force too */
HANDLER(api_pool_join_pinned);

int api_vm_on_create(struct call *c, struct obj *o);
int api_vm_on_destroy(struct call *c, struct obj *o);
int api_network_on_create(struct call *c, struct obj *o);
int api_vif_on_create(struct call *c, struct obj *o);
int api_vdi_on_create(struct call *c, struct obj *o);
int api_vdi_on_destroy(struct call *c, struct obj *o);
int api_vbd_on_create(struct call *c, struct obj *o);
int api_vif_new_mac(struct obj *vif);

/* vm.c for vm_copy.c: the operations' check (0, or -1 after XAPI's
 * failure; c NULL: only asks), current_operations {id: op} (op NULL:
 * none), and a VM's records once its domain is gone */
int api_vm_op_check(struct call *c, struct obj *vm, const char *op);
void api_vm_set_op(struct obj *vm, const char *op, const char *id);
void api_vm_halted(struct obj *vm);
/* vm_copy.c: whether a copy job holds vm (its domain events wait) */
int api_vm_copy_busy(const char *vmref);
void api_vm_templates_init(uint64_t host_memory);
/* vdi_ops.c: copy-on-write file jobs in the worker's slow lane */
struct fjob;
struct fjob;
/* done(c, f, rc, err), loop thread: c NULL when the caller went away;
 * rc a negative errno; it emits the result and returns 0, or -1 after
 * api_fail (when c).  ctx is free()d with the job. */
struct fjob *api_fjob_new(int (*done)(struct call *c, struct fjob *f, int rc, const char *err),
			  void *ctx);
void *api_fjob_ctx(struct fjob *f);
/* One file: src's data into .tmp/ beside dst, renamed over dst by
 * api_fjob_fail when all went well (a revert: dst is the target's file) */
void api_fjob_add(struct fjob *f, const char *src, const char *dst);
/* A new VDI file copied from vdi: its new uuid into uuid */
void api_fjob_add_vdi(struct fjob *f, struct obj *vdi, const char *sr, char uuid[37]);
void api_vdi_path(char *buf, size_t n, struct obj *vdi, const char *sr, const char *uuid);
/* domid > 0: destroyed first (destroy), else paused around the copies */
void api_fjob_domain(struct fjob *f, int64_t domid, int destroy);
int api_fjob_destroyed(struct fjob *f);         /* in done(): it was */
/* 1: the call completes later; 0 / -1: it ran at once (no worker) */
int api_fjob_submit(struct call *c, struct fjob *f);
/* In done(): rc's failure, else the files renamed into place; 0 or -1 */
int api_fjob_fail(struct call *c, struct fjob *f, int rc, const char *err);
void api_fjob_cancel(struct call *c);
/* A new VDI record with vdi's fields, in sr (NULL: vdi's), at path;
 * snap: a snapshot of vdi */
struct obj *api_vdi_dup(struct obj *vdi, const char *uuid, const char *sr, const char *path,
			int snap);

#endif
