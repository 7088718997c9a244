/* Process-wide API state set up by the daemon. */
#ifndef XB_API_HOST_H
#define XB_API_HOST_H

#include <stdint.h>

struct vmm;
struct obj;

extern struct vmm *api_vmm;
extern char *api_state_dir;
extern char *api_sr_dir;
extern int api_clean_timeout_s;         /* clean_shutdown/reboot wait */

/* VM lifecycle (api/vm.c) */
void api_vm_handle_domain_events(void);
int64_t api_vm_tick(int64_t now);
void api_vm_cancel(struct call *c);
/* Match running domains to VMs after a (re)start: adopt, never stop. */
void api_vm_adopt(void);

#endif
