/* The simulated hypervisor ("sim" backend): deterministic, with fault
 * injection, so the whole VM lifecycle runs on any machine.
 *
 * Model
 *   Domain 0 always exists (running, dom0_mem, 1 vcpu).  Domids count up
 *   from 1 and are not reused until they wrap.  A created domain is paused;
 *   the first unpause "boots" it (console: "sim: NAME booted").  Each guest
 *   has a behaviour: cooperative guests honour shutdown requests
 *   shutdown_delay ms after them (console: "sim: NAME powering off" /
 *   "rebooting" / "halting", then state SHUTDOWN with reason POWEROFF,
 *   REBOOT or POWEROFF), balloon to memory targets and hotplug vcpus;
 *   uncooperative guests accept requests and ignore them.  A guest's clock
 *   stops while it is paused: a request falls due only while it runs.
 *   Free memory = mem - the sum of every domain's mem_actual (shut down
 *   domains keep theirs until destroyed); creating needs mem_target free.
 *
 * Clock
 *   clock=real (default): CLOCK_MONOTONIC in ms.  The event fd is an epoll
 *   fd over an eventfd (pending events) and a timerfd armed for the next
 *   due shutdown, so an ordinary poll loop drives it.
 *   clock=manual: time stands still except for sim_advance() (or the spec
 *   "advance=MS"); whatever falls due is processed inside that call and
 *   makes the event fd readable.  Tests use this: identical calls give
 *   identical counters.
 *   CPU time, pCPU idle/busy, VIF and VBD counters are integrals of the
 *   running time with fixed per-(domid, vcpu/device) rates.
 *
 * Persistence
 *   state=DIR (a directory, not a file) keeps the domain table in DIR/domains (text, rewritten via
 *   DIR/domains.tmp + rename on every change and at close; DIR is created
 *   if missing and locked with flock on DIR/lock).  Reopening adopts the
 *   domains like a Xen host that outlived its toolstack; in manual mode
 *   the clock is restored too.  Without state= the table lives in memory.
 *   A corrupt file fails vmm_open with "DIR/domains:LINE: what".
 *   DIR/boot_id is the simulated host's boot id (vmm_boot_id): made when
 *   missing, so a test simulates a power cut by killing the toolstack and
 *   removing DIR/domains and DIR/boot_id.  vmm_host_power removes every
 *   guest and makes a new boot id.
 *
 * Options (vmm_open opts; items separated by commas or blanks)
 *   state=DIR  clock=real|manual  dom0_mem=SIZE (1G)      open only
 *   mem=SIZE (8G)  cpus=N (4)  shutdown_delay=MS (1000)
 *   console_max=SIZE (16K)  check_paths=0|1 (0: stat kernel, ramdisk and
 *   disks at create)   plus any fault spec below.
 *   SIZE is a number with an optional K, M, G or T suffix (powers of 2).
 *
 * Fault specs (opts, or sim_inject at run time; same separators)
 *   fail=OP[:N]   the Nth call of OP from now fails with -EIO (N=1: the
 *                 next).  OP: create pause unpause destroy shutdown memory
 *                 vcpus list info stats console host persist (a state-file
 *                 write: a create whose write fails is undone; any other
 *                 change stays and is written with the next one).
 *   nomem[=0|1]   creates fail with -ENOMEM as if the host were full.
 *   guest=UUID:cooperative[:MS] | guest=UUID:uncooperative
 *                 behaviour of that guest, now and when (re)created.
 *   crash=DOMID | poweroff=DOMID | reboot=DOMID | watchdog=DOMID
 *                 the guest shuts itself down now with that reason.
 *   stop=UUID:REASON:MS
 *                 MS ms after each boot (first unpause of a domain) the
 *                 guest with that uuid shuts itself down with REASON
 *                 (poweroff reboot crash watchdog; none: never again).
 *                 Console: "sim: NAME crashed" ... as for crash= etc.
 *   create_delay=MS  every create takes MS ms longer (a real sleep, not
 *                 holding the backend's lock), like a build on Xen.
 *   crash_window=MS (120000)  reboot_window=MS (120000)  reboot_delay=MS
 *                 (15000)  the restart policy the API layer applies to
 *                 guests that stop by themselves (backend.h,
 *                 vmm_restart_policy); 0 turns a rule off.
 *   advance=MS    manual clock only: sim_advance(MS).
 *   mem=SIZE  cpus=N  shutdown_delay=MS  console_max=SIZE  check_paths=0|1
 *   create_delay=MS  crash_window=MS  reboot_window=MS  reboot_delay=MS
 */
#ifndef XB_VMM_SIM_H
#define XB_VMM_SIM_H

#include <stdint.h>

#include "vmm/backend.h"

/* Applies a fault spec.  0, -EINVAL (bad spec), -ENOENT (no such domain),
 * -EBUSY (domain not running), -EOPNOTSUPP (v is not a sim handle). */
int sim_inject(struct vmm *v, const char *spec);
/* The same, with a message on failure. */
int sim_inject_err(struct vmm *v, const char *spec, char *err, size_t errlen);
/* Manual clock: moves time on and processes what falls due.  -EINVAL
 * with clock=real. */
int sim_advance(struct vmm *v, uint64_t ms);
/* The simulation's current time in ms (virtual or monotonic). */
uint64_t sim_now_ms(struct vmm *v);

#endif
