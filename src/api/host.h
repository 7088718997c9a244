/* Process-wide API state set up by the daemon. */
#ifndef XB_API_HOST_H
#define XB_API_HOST_H

#include <stddef.h>
#include <stdint.h>

struct vmm;
struct obj;

extern struct vmm *api_vmm;
/* 0 on a host whose backend runs no guests (none): VM.start and the like
 * fail with NO_HOSTS_AVAILABLE and allowed_operations never offers them. */
extern int api_runs_guests;
extern char *api_state_dir;
extern char *api_sr_dir;
extern int api_clean_timeout_s;         /* clean_shutdown/reboot wait */
/* host.set_https_only's effect, set by the daemon: close or open the plain
 * HTTP listener.  0, or -1 with err (the policy then stays as it was). */
extern int (*api_https_only_hook)(int on, char *err, size_t errlen);
/* On a pool member (pool/member.c), the master's host as xenbox.conf
 * names it: logins over TCP answer HOST_IS_SLAVE [it] (docs/POOL.md 6).
 * NULL on a standalone host or a master. */
extern const char *api_slave_of;

/* Host operations (api/host_ops.c).  The daemon sets api_exit_hook: stop
 * the loop, then exit (restart 0) or exec itself again (1, for
 * host.restart_agent); api_boot_log is the persistent boot log that
 * host.get_log returns (--boot-log; NULL: none). */
extern void (*api_exit_hook)(int restart);
extern const char *api_boot_log;
/* After api_vm_adopt(): a boot of the host (its boot id is not the one
 * stored) enables the host again (unless disabled with auto_enable false)
 * and starts the auto_poweron VMs; a restart of the daemon does nothing. */
void api_host_start(void);
/* Once per loop iteration: host.allowed_operations, and the host going
 * down or restarting the daemon.  The ms until it wants to run, or -1. */
int64_t api_host_tick(int64_t now);

/* The management interface as the OS shows it (server/netinfo.c probes
 * it; the API is told).  Strings, "" when unknown or absent. */
struct api_netinfo {
	char mac[18];
	char ip[16], netmask[16], gateway[16];  /* IPv4 */
	char address[46];       /* what host.address says: ip, else a global IPv6 */
	char dns[256];          /* nameservers, comma separated (PIF.DNS) */
	const char *mode;       /* ip_configuration_mode: None, DHCP, Static */
	int mtu;
};
/* host.address and the management PIF's MAC, MTU, IP, netmask, gateway,
 * DNS, ip_configuration_mode; only what differs changes (and makes events). */
void api_host_netinfo(const struct api_netinfo *ni);

/* VM lifecycle (api/vm.c) */
void api_vm_handle_domain_events(void);
int64_t api_vm_tick(int64_t now);
void api_vm_cancel(struct call *c);
/* task.cancel: stop the operation running under that task (0), or -1 if
 * none does. */
int api_vm_task_cancel(const char *task);
/* Match running domains to VMs after a (re)start: adopt, never stop. */
void api_vm_adopt(void);
/* After a host boot: start the VMs marked other_config:auto_poweron
 * (when the pool is), one at a time by `order`, each start_delay s after
 * the previous started; a failure is an AUTO_POWERON_FAILED message. */
void api_vm_auto_poweron(void);
/* The host goes down: ask every running guest of this host to shut down
 * (hard after the clean timeout; others at once), once each; returns how
 * many are not Halted yet.  Ends auto power-on. */
int api_vm_stop_all(void);
extern int api_vm_hard_stops;   /* of those, shut down hard after the timeout */
/* After worker_stop(), before dm_dispose(): frees what still waits. */
void api_vm_dispose(void);

/* Storage (api/storage.c, docs/STORAGE.md 2): xenbox.conf's storage
 * ("state", "none", "auto" or a device path) and storage_format = force;
 * root: "" or a fake tree for /sys, /dev and /run (tests).  start: after
 * the worker, plug the PBDs that were plugged, then the rules. */
extern const char *api_storage, *api_storage_root;
extern int api_storage_force;
void api_storage_start(void);
void api_storage_cancel(struct call *c);
int api_sr_attached(struct obj *sr);
/* The SR's directory (file: device_config:path; xfs: its mount point). */
const char *api_sr_path(struct obj *sr, char *buf, size_t len);
/* statfs and the VDIs' sizes (but gone's: a VDI being destroyed) into the
 * SR's volatile fields, if plugged. */
void api_sr_refresh(struct obj *sr, struct obj *gone);
/* VM.start: vdi's SR plugged, else VM_REQUIRES_SR [vm, sr] (c may be NULL). */
int api_sr_usable(struct call *c, struct obj *vm, struct obj *vdi);

/* Guest console logs (api/console_log.c): the newest 64 KiB of each VM's
 * console output, in memory only (kept across reboots and halts, gone
 * with VM.destroy or a daemon restart). */
void api_console_log_read(const char *vmref, uint32_t domid);
void api_console_log_forget(const char *vmref);
void api_console_log_dispose(void);
/* GET /console_log?ref=VM (or &uuid=U): the HTTP status (401 unless
 * authed: the server checked the credentials); on 200 b holds the log
 * (bytes as the guest wrote them). */
struct buf;
int api_console_log_get(int authed, const char *ref, const char *uuid, struct buf *b);
/* The whole log of vmref into b (oldest first); nothing when none. */
void api_console_log_copy(const char *vmref, struct buf *b);
/* Told each piece of a VM's console output as it is read, and (p NULL)
 * when the VM stops and its consoles go: the console viewers' terminals
 * (src/console, set by the daemon).  NULL: nobody. */
extern void (*api_console_tap)(const char *vmref, const char *p, size_t n);

#endif
