/* Hypervisor backends: domains, nothing else.
 *
 * A backend knows no XML, HTTP or database.  It builds, starts, stops and
 * watches domains; the API layer maps XenAPI VMs onto them by uuid.  Three
 * backends exist: "xen" (libxenctrl, libxenguest, libxenstore; target
 * build only), "sim" (a deterministic simulation, see sim.h) and "none"
 * (no hypervisor: no domains, none can be made; none.c).
 *
 * Conventions
 *   - Every op returns 0 or a negative errno value and, on failure, writes
 *     a one-line message to err (err may be NULL; errlen VMM_ERR_MAX is
 *     plenty).  Codes the API layer can rely on:
 *       -ENOENT  no such domain          -EINVAL  bad argument or config
 *       -ENOMEM  not enough host memory  -EEXIST  uuid already running
 *       -EPERM   not allowed on domain 0 -EBUSY   wrong domain state
 *       -EIO     the hypervisor (or an injected fault) said no
 *   - Memory is in bytes, times in nanoseconds, domids are uint32_t.
 *   - Strings in configs are borrowed for the duration of the call only.
 *
 * Threads
 *   Domains outlive the toolstack: closing a handle never touches them.
 *   Unless stated otherwise an op may be called from any thread at any
 *   time, concurrently with other ops on the same handle (the API layer
 *   runs create/shutdown/destroy in worker threads while the event loop
 *   lists and reads consoles).  Backends serialise internally; an op never
 *   calls back into the caller.  Exceptions:
 *     vmm_open/vmm_close   not concurrent with anything on that handle
 *     event_fd             any thread; the fd is fixed for the handle's life
 *     handle_events        one thread at a time (the event loop); the
 *                          callback runs in that thread with no backend
 *                          lock held, so it may call any op.
 *
 * How it maps onto Xen (for the xen backend, written separately)
 *   create        xc_domain_create(xen_domctl_createdomain: handle=uuid,
 *                 CDF_hvm|CDF_hap for PVH, max_vcpus), setmaxmem, the
 *                 xc_dom_* builder (kernel, ramdisk, cmdline), xenstore
 *                 /local/domain/N and /vm/<uuid>, console ring for
 *                 xenconsoled, vbd/vif front/backend nodes; left paused.
 *   shutdown      writes control/shutdown; the guest acts (or not).
 *   set_memory_target  memory/target in xenstore (the guest balloons).
 *   set_vcpus     cpu/N/availability in xenstore.
 *   event_fd      the xenstore watch fd (@introduceDomain,
 *                 @releaseDomain), possibly behind an epoll fd that also
 *                 holds console ptys; handle_events diffs domain lists.
 *   console_read, console_write  the pty xenconsoled gives each guest.
 */
#ifndef XB_VMM_BACKEND_H
#define XB_VMM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VMM_UUID_LEN    36      /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
#define VMM_NAME_MAX    128     /* domain name, including the NUL */
#define VMM_VDEV_MAX    16      /* "xvda", including the NUL */
#define VMM_VERSION_MAX 64
#define VMM_CAPS_MAX    256
#define VMM_MAX_VCPUS   128
#define VMM_MAX_DEVS    16      /* VIFs, and VBDs, per domain */
#define VMM_MAX_PCPUS   256
#define VMM_ERR_MAX     256     /* a good size for err buffers */

enum vmm_domain_type {
	VMM_TYPE_PV,
	VMM_TYPE_PVH,
};

enum vmm_state {
	VMM_STATE_RUNNING,      /* runnable or on a CPU */
	VMM_STATE_BLOCKED,      /* running but idle (Xen only) */
	VMM_STATE_PAUSED,
	VMM_STATE_SHUTDOWN,     /* stopped; see reason; still holds memory */
	VMM_STATE_DYING,        /* being torn down (Xen only) */
};

enum vmm_shutdown_reason {
	VMM_REASON_NONE,        /* not shut down */
	VMM_REASON_POWEROFF,
	VMM_REASON_REBOOT,
	VMM_REASON_SUSPEND,
	VMM_REASON_CRASH,
	VMM_REASON_WATCHDOG,
	VMM_REASON_SOFT_RESET,
};

/* What shutdown() asks the guest for (xenstore control/shutdown). */
enum vmm_shutdown_request {
	VMM_REQ_POWEROFF,
	VMM_REQ_REBOOT,
	VMM_REQ_HALT,
};

/* ---- host ---- */

struct vmm_host_info {
	unsigned nr_cpus;
	uint64_t total_memory;
	uint64_t free_memory;
	uint64_t cpu_khz;
	char version[VMM_VERSION_MAX];          /* "4.17.7" */
	char capabilities[VMM_CAPS_MAX];        /* "xen-3.0-x86_64 hvm-3.0-x86_64" */
};

/* Cumulative per physical CPU; callers work with deltas. */
struct vmm_pcpu_time {
	uint64_t idle_ns;
	uint64_t busy_ns;
};

/* ---- domain configuration (create) ---- */

struct vmm_kv {
	const char *key;
	const char *value;
};

struct vmm_disk {
	const char *path;       /* raw image file or block device in dom0 */
	const char *vdev;       /* "xvda" */
	bool readonly;
};

struct vmm_nic {
	const char *mac;        /* "00:16:3e:xx:xx:xx" */
	const char *bridge;     /* dom0 bridge, e.g. "xenbr0" */
	uint32_t devid;
};

struct vmm_domain_config {
	const char *uuid;
	const char *name;
	enum vmm_domain_type type;
	/* 0 < dynamic_min <= target <= dynamic_max <= static_max */
	uint64_t mem_static_max;
	uint64_t mem_dynamic_min;
	uint64_t mem_dynamic_max;
	uint64_t mem_target;
	unsigned vcpus_max;     /* 1..VMM_MAX_VCPUS */
	unsigned vcpus_online;  /* at startup, 1..vcpus_max */
	const char *kernel;
	const char *ramdisk;    /* NULL or "" for none */
	const char *cmdline;    /* NULL for empty */
	const struct vmm_kv *platform;  /* e.g. tsc_mode=native */
	size_t nr_platform;
	const struct vmm_disk *disks;
	size_t nr_disks;        /* <= VMM_MAX_DEVS */
	const struct vmm_nic *nics;
	size_t nr_nics;         /* <= VMM_MAX_DEVS */
};

/* ---- domain state and counters ---- */

/* Cheap to get for every domain (one hypercall for the whole list). */
struct vmm_domain_info {
	uint32_t domid;
	char uuid[VMM_UUID_LEN + 1];
	char name[VMM_NAME_MAX];
	enum vmm_domain_type type;
	enum vmm_state state;
	enum vmm_shutdown_reason reason;        /* when state == SHUTDOWN */
	uint64_t mem_actual;    /* allocated now */
	uint64_t mem_target;    /* balloon target */
	uint64_t mem_max;       /* static max */
	unsigned vcpus_max;
	unsigned vcpus_online;
	uint64_t cpu_time_ns;   /* all vcpus, since creation */
};

struct vmm_vif_stats {
	uint32_t devid;
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_packets, tx_packets;
};

struct vmm_vbd_stats {
	char vdev[VMM_VDEV_MAX];
	uint64_t rd_bytes, wr_bytes;
	uint64_t rd_reqs, wr_reqs;
};

/* Dearer (per-vcpu hypercalls, sysfs reads): ask per domain when sampling. */
struct vmm_domain_stats {
	uint32_t domid;
	uint64_t cpu_time_ns;
	unsigned nr_vcpus;                      /* = vcpus_max */
	uint64_t vcpu_time_ns[VMM_MAX_VCPUS];
	bool vcpu_online[VMM_MAX_VCPUS];
	unsigned nr_vifs;                       /* 0 when not available */
	struct vmm_vif_stats vifs[VMM_MAX_DEVS];
	unsigned nr_vbds;
	struct vmm_vbd_stats vbds[VMM_MAX_DEVS];
};

/* ---- change notification ---- */

enum vmm_event_type {
	VMM_EVENT_APPEARED,     /* a new domain (created, by us or anyone) */
	VMM_EVENT_CHANGED,      /* state changed: at least every shutdown */
	VMM_EVENT_DIED,         /* gone (destroyed or vanished) */
	VMM_EVENT_CONSOLE,      /* new console output: call console_read */
};

struct vmm_event {
	enum vmm_event_type type;
	uint32_t domid;
	char uuid[VMM_UUID_LEN + 1];
	enum vmm_state state;           /* after the change; DIED: DYING */
	enum vmm_shutdown_reason reason;
};

/* Events are hints to act on idempotently: a caller may also see events
 * for changes it made itself (e.g. DIED after its own destroy). */
typedef void vmm_event_cb(void *opaque, const struct vmm_event *ev);

/* ---- the vtable ---- */

struct vmm;

/* Every op is mandatory.  See the wrappers below for what each does. */
struct vmm_ops {
	const char *name;
	void (*close)(struct vmm *v);

	int (*host_info)(struct vmm *v, struct vmm_host_info *out,
			 char *err, size_t errlen);
	int (*pcpu_times)(struct vmm *v, struct vmm_pcpu_time *out,
			  unsigned max, unsigned *nr, char *err, size_t errlen);

	int (*create)(struct vmm *v, const struct vmm_domain_config *cfg,
		      uint32_t *domid, char *err, size_t errlen);
	int (*pause)(struct vmm *v, uint32_t domid, char *err, size_t errlen);
	int (*unpause)(struct vmm *v, uint32_t domid, char *err, size_t errlen);
	int (*destroy)(struct vmm *v, uint32_t domid, char *err, size_t errlen);
	int (*shutdown)(struct vmm *v, uint32_t domid,
			enum vmm_shutdown_request req, char *err, size_t errlen);
	int (*set_memory_target)(struct vmm *v, uint32_t domid, uint64_t bytes,
				 char *err, size_t errlen);
	int (*set_vcpus)(struct vmm *v, uint32_t domid, unsigned online,
			 char *err, size_t errlen);

	int (*list)(struct vmm *v, struct vmm_domain_info **out, size_t *nr,
		    char *err, size_t errlen);
	int (*info)(struct vmm *v, uint32_t domid, struct vmm_domain_info *out,
		    char *err, size_t errlen);
	int (*stats)(struct vmm *v, uint32_t domid,
		     struct vmm_domain_stats *out, char *err, size_t errlen);

	int (*event_fd)(struct vmm *v);
	int (*handle_events)(struct vmm *v, vmm_event_cb *cb, void *opaque);

	ssize_t (*console_read)(struct vmm *v, uint32_t domid, char *buf,
				size_t len);
	ssize_t (*console_write)(struct vmm *v, uint32_t domid, const char *buf,
				 size_t len);

	/* Optional (NULL: see the wrappers vmm_boot_id, vmm_host_power). */
	int (*boot_id)(struct vmm *v, char *buf, size_t len);
	int (*host_power)(struct vmm *v, int reboot, char *err, size_t errlen);
};

/* What the toolstack does with a guest that keeps stopping by itself
 * (xenopsd's rule): a crash within crash_window_ms of its start is not
 * restarted; a restart within reboot_window_ms of the start waits
 * reboot_delay_ms first.  Backends set VMM_RESTART_DEFAULT at open (the
 * sim's options may change it). */
struct vmm_restart_policy {
	uint32_t crash_window_ms, reboot_window_ms, reboot_delay_ms;
};
#define VMM_RESTART_DEFAULT ((struct vmm_restart_policy){ 120000, 120000, 15000 })

/* Backends embed this as the first member of their own handle. */
struct vmm {
	const struct vmm_ops *ops;
	struct vmm_restart_policy restart;
};

/* ---- opening ---- */

/* name: "xen", "sim" or "none" (NULL: vmm_probe_default()).  opts: backend
 * specific, "key=value" items separated by commas (NULL or "" for none).
 * On failure returns a negative errno, *out = NULL and err says why. */
int vmm_open(const char *name, const char *opts, struct vmm **out,
	     char *err, size_t errlen);
/* Idempotent on NULL.  Leaves every domain as it is. */
void vmm_close(struct vmm *v);

/* "xen" when /dev/xen/privcmd exists (even if this build lacks the Xen
 * backend: vmm_open then says so rather than simulating on a real host);
 * otherwise "none" when built in (a server without Xen runs no guests; a
 * simulation would claim it does), else "sim" when built in, else "xen". */
const char *vmm_probe_default(void);
/* The same with another privcmd path (tests). */
const char *vmm_probe(const char *privcmd_path);
/* Whether a backend of that name is in this build. */
bool vmm_backend_available(const char *name);

/* ---- the ops, as calls ---- */

static inline const char *vmm_name(const struct vmm *v)
{
	return v->ops->name;
}

/* Host totals; free_memory is what a new domain can get. */
static inline int vmm_host_info(struct vmm *v, struct vmm_host_info *out,
				char *err, size_t errlen)
{
	return v->ops->host_info(v, out, err, errlen);
}

/* Fills out[0 .. min(max, nr_cpus) - 1]; *nr = nr_cpus. */
static inline int vmm_pcpu_times(struct vmm *v, struct vmm_pcpu_time *out,
				 unsigned max, unsigned *nr,
				 char *err, size_t errlen)
{
	return v->ops->pcpu_times(v, out, max, nr, err, errlen);
}

/* Builds a domain and leaves it PAUSED (unpause starts it).  Synchronous
 * and slow on Xen (seconds): run it in a worker thread. */
static inline int vmm_create(struct vmm *v, const struct vmm_domain_config *cfg,
			     uint32_t *domid, char *err, size_t errlen)
{
	return v->ops->create(v, cfg, domid, err, errlen);
}

/* Pause and unpause do not nest: pausing a paused domain is a no-op. */
static inline int vmm_pause(struct vmm *v, uint32_t domid,
			    char *err, size_t errlen)
{
	return v->ops->pause(v, domid, err, errlen);
}

static inline int vmm_unpause(struct vmm *v, uint32_t domid,
			      char *err, size_t errlen)
{
	return v->ops->unpause(v, domid, err, errlen);
}

/* Hard: the domain goes away whatever its state, devices and all. */
static inline int vmm_destroy(struct vmm *v, uint32_t domid,
			      char *err, size_t errlen)
{
	return v->ops->destroy(v, domid, err, errlen);
}

/* Only asks the guest.  Success means the request was delivered, not
 * honoured: watch for a CHANGED event with state SHUTDOWN and time out
 * yourself.  A reboot ends as SHUTDOWN/REBOOT; recreating is the caller's
 * job.  HALT ends as SHUTDOWN/POWEROFF on Linux guests. */
static inline int vmm_shutdown(struct vmm *v, uint32_t domid,
			       enum vmm_shutdown_request req,
			       char *err, size_t errlen)
{
	return v->ops->shutdown(v, domid, req, err, errlen);
}

/* Balloon target, 0 < bytes <= static max; mem_actual follows if the
 * guest cooperates and the host has the memory. */
static inline int vmm_set_memory_target(struct vmm *v, uint32_t domid,
					uint64_t bytes, char *err, size_t errlen)
{
	return v->ops->set_memory_target(v, domid, bytes, err, errlen);
}

/* vcpus online, 1..vcpus_max; the guest hot(un)plugs if it cooperates. */
static inline int vmm_set_vcpus(struct vmm *v, uint32_t domid, unsigned online,
				char *err, size_t errlen)
{
	return v->ops->set_vcpus(v, domid, online, err, errlen);
}

/* All domains, dom0 included, by ascending domid.  *out is malloc'ed
 * (free() it); *nr is 0 only on failure, or with backend none (no
 * domains at all; *out NULL). */
static inline int vmm_list(struct vmm *v, struct vmm_domain_info **out,
			   size_t *nr, char *err, size_t errlen)
{
	return v->ops->list(v, out, nr, err, errlen);
}

static inline int vmm_info(struct vmm *v, uint32_t domid,
			   struct vmm_domain_info *out, char *err, size_t errlen)
{
	return v->ops->info(v, domid, out, err, errlen);
}

static inline int vmm_stats(struct vmm *v, uint32_t domid,
			    struct vmm_domain_stats *out, char *err, size_t errlen)
{
	return v->ops->stats(v, domid, out, err, errlen);
}

/* Readable (poll POLLIN) when handle_events has something to do. */
static inline int vmm_event_fd(struct vmm *v)
{
	return v->ops->event_fd(v);
}

/* Drains event_fd and calls cb once per pending event, in order.  Returns
 * the number of events delivered or a negative errno.  Nothing is reported
 * for domains that existed at open: list() after opening to adopt them. */
static inline int vmm_handle_events(struct vmm *v, vmm_event_cb *cb,
				    void *opaque)
{
	return v->ops->handle_events(v, cb, opaque);
}

/* Never blocks: copies up to len bytes of console output not read before
 * and returns how many (0: nothing new), or a negative errno (-ENOENT: no
 * such domain).  Output beyond the backend's buffer is dropped oldest
 * first, so read on every CONSOLE event. */
static inline ssize_t vmm_console_read(struct vmm *v, uint32_t domid,
				       char *buf, size_t len)
{
	return v->ops->console_read(v, domid, buf, len);
}

/* Type len bytes into the guest's console (keys from a console viewer).
 * Never blocks: returns how many were taken (0: the guest's input is
 * full, or it has no console yet; the rest is dropped by the caller), or
 * a negative errno (-ENOENT: no such domain). */
static inline ssize_t vmm_console_write(struct vmm *v, uint32_t domid,
					const char *buf, size_t len)
{
	return v->ops->console_write(v, domid, buf, len);
}
/* ---- the host's boots and power ---- */

#define VMM_BOOT_ID_MAX 40

/* An id that changes with every boot of the host and only then (dom0's
 * kernel boot_id, /proc/sys/kernel/random/boot_id; the sim's own, kept in
 * its state directory).  0, or a negative errno (buf then ""). */
int vmm_boot_id(struct vmm *v, char *buf, size_t len);

/* Power the host off (reboot 0) or reboot it (1), after the toolstack
 * stopped its guests.  0: asked (the system stops the toolstack as it goes
 * down: the xen backend asks init); 1: done, the
 * toolstack exits now (the sim: its guests are gone and its next open is a
 * new boot); -EOPNOTSUPP when the backend cannot (none), or another
 * negative errno. */
int vmm_host_power(struct vmm *v, int reboot, char *err, size_t errlen);
/* Whether vmm_host_power can work. */
static inline bool vmm_can_power(const struct vmm *v)
{
	return v->ops->host_power != NULL;
}
/* The xen backend's host_power: asks init (busybox's: SIGTERM reboots,
 * SIGUSR2 powers off; its shutdown scripts stop the daemon). */
int vmm_power_command(struct vmm *v, int reboot, char *err, size_t errlen);

/* ---- names, and helpers shared by the backends ---- */

const char *vmm_state_name(enum vmm_state s);           /* "running" ... */
const char *vmm_reason_name(enum vmm_shutdown_reason r); /* "none", "crash" ... */
const char *vmm_request_name(enum vmm_shutdown_request r);
const char *vmm_type_name(enum vmm_domain_type t);      /* "pv", "pvh" */
/* Inverses: 0 and *out set, or -EINVAL. */
int vmm_state_parse(const char *s, enum vmm_state *out);
int vmm_reason_parse(const char *s, enum vmm_shutdown_reason *out);
int vmm_request_parse(const char *s, enum vmm_shutdown_request *out);
int vmm_type_parse(const char *s, enum vmm_domain_type *out);

bool vmm_uuid_valid(const char *s);     /* lowercase or uppercase hex */
bool vmm_mac_valid(const char *s);
bool vmm_vdev_valid(const char *s);     /* [a-z]+[0-9a-z]*, fits VMM_VDEV_MAX */
/* Checks everything a backend can check without the hypervisor. */
int vmm_config_check(const struct vmm_domain_config *cfg,
		     char *err, size_t errlen);
/* snprintf into err when err is not NULL; returns rc (for `return`). */
int vmm_seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A backend: the registry in backend.c lists those built in. */
struct vmm_backend {
	const char *name;
	int (*open)(const char *opts, struct vmm **out, char *err, size_t errlen);
};

#endif
