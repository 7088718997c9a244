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
HANDLER(api_host_get_servertime);
HANDLER(api_host_get_server_localtime);
HANDLER(api_host_get_server_certificate);
HANDLER(api_host_set_https_only);
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

#endif
