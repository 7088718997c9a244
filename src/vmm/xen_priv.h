/* The Xen backend's internals, shared by src/vmm/xen*.c (and only them:
 * these are the only files that include Xen's headers).
 *
 *   xen.c          open/close, host, lifecycle ops, list/info/stats
 *   xen_events.c   the domain records, event_fd and handle_events
 *   xen_build.c    create: domctl, libxenguest builder, xenstore tree
 *   xen_acpi.c     the PVH guest's ACPI tables and memory map
 *   xen_devices.c  VBDs (loop devices, blkback), VIFs (netback, bridge)
 *   xen_console.c  guest consoles: the ptys xenconsoled makes
 *   xen_xs.c       xenstore helpers: writes, permissions, transactions
 *
 * Locking: x->lock guards x->doms and everything in the records.  No
 * hypercall or xenstore request is made with it held, except the few
 * non-blocking fd operations (epoll_ctl, read on a pty, close).
 */
#ifndef XB_VMM_XEN_PRIV_H
#define XB_VMM_XEN_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <xenctrl.h>
#include <xenguest.h>
#include <xenstore.h>

#include "vmm/backend.h"

#define XEN_CONSOLE_MAX (16 * 1024)     /* per-domain console buffer */
#define XEN_PATH_MAX    256             /* xenstore and sysfs paths */
#define KiB UINT64_C(1024)

/* epoll tags: the high 32 bits of epoll_event.data.u64, domid below */
enum xen_tag {
	XEN_TAG_KICK = 1,       /* eventfd: an op changed some domain */
	XEN_TAG_WATCH,          /* xs_fileno of the watch handle */
	XEN_TAG_TTY,            /* a guest console pty */
};

/* Watch tokens on the watch handle */
#define XEN_TOKEN_DOMAINS "D"   /* @introduceDomain, @releaseDomain */
#define XEN_TOKEN_TTY "T"       /* /local/domain/N/console/tty */

/* A bounded byte ring: output beyond max drops the oldest bytes. */
struct xen_ring {
	char data[XEN_CONSOLE_MAX];
	size_t head;            /* index of the oldest byte */
	size_t len;
};

/* What we know of one domain.  Created when a domain is first listed or
 * built; removed one handle_events after the domain is gone (so that the
 * last console output stays readable after DIED). */
struct xen_dom {
	uint32_t domid;
	xen_domain_handle_t handle;     /* with domid, the identity */
	bool ours;              /* built here: we own its devices */
	bool named;             /* name and memory read from xenstore */
	bool reported;          /* APPEARED sent (or existed at open) */
	bool dead;              /* DIED sent; freed on the next round */
	bool console_pending;   /* new output since the last round */
	bool tty_watched;
	uint64_t born;          /* x->gen when the record was made */
	enum vmm_domain_type type;
	enum vmm_state state;   /* as last reported */
	enum vmm_shutdown_reason reason;
	char name[VMM_NAME_MAX];
	uint64_t target_kib;    /* memory/target, 0 when unknown */
	uint64_t static_max_kib;        /* memory/static-max, 0 when unknown */
	/* devices we set up (ours only) */
	int loop_fd[VMM_MAX_DEVS];      /* held open until destroy */
	unsigned nr_loops;
	/* console */
	int tty_fd;
	char tty_path[64];
	struct xen_ring console;
};

struct xen {
	struct vmm vmm;                 /* first: to_xen() */
	xentoollog_logger logger;       /* forwards libxc's messages */
	xc_interface *xch;
	struct xs_handle *xsh;          /* requests, any thread */
	struct xs_handle *xsw;          /* watches, the event loop only */
	int epfd;
	int kickfd;
	uint32_t store_domid, console_domid;
	uint32_t physcaps;              /* XEN_SYSCTL_PHYSCAP_* */
	unsigned grant_version;
	pthread_mutex_t lock;
	struct xen_dom **doms;          /* live, by ascending domid */
	size_t nr_doms, cap_doms;
	struct xen_dom **graves;        /* DIED last round */
	size_t nr_graves, cap_graves;
	uint64_t gen;                   /* diffs started */
	bool watch_failed;
	bool have_pcpu_offset;
	uint64_t pcpu_offset_ns;        /* see xen_pcpu_times */
};

static inline struct xen *to_xen(struct vmm *v)
{
	return (struct xen *)v;
}

/* ---- xen.c ---- */

extern const struct vmm_ops xen_ops;
/* The last error libxenctrl/libxenguest logged in this thread ("" if
 * none since xen_clear_liberr). */
const char *xen_liberr(void);
void xen_clear_liberr(void);
/* While on, the first error since xen_clear_liberr is kept instead: where
 * libxc's later errors only follow from the first (its kernel loaders). */
void xen_liberr_keep_first(bool on);
/* Wakes handle_events: an op changed a domain's state. */
void xen_kick(struct xen *x);
/* Every domain, by ascending domid: O(domains / 256) hypercalls; *out
 * is malloc'ed.  0, -ENOMEM or -EIO. */
int xen_getinfo_all(struct xen *x, xc_domaininfo_t **out, size_t *nr);
/* Domain info with one hypercall: 0, -ENOENT, or -EIO. */
int xen_getinfo(struct xen *x, uint32_t domid, xc_domaininfo_t *out);
void xen_uuid_fmt(const xen_domain_handle_t h, char out[VMM_UUID_LEN + 1]);
int xen_uuid_parse(const char *s, xen_domain_handle_t out);
enum vmm_state xen_state_of(const xc_domaininfo_t *di,
			    enum vmm_shutdown_reason *reason);

/* ---- xen_events.c ---- */

/* Record lookup and insertion: O(log n) in the number of records. */
struct xen_dom *xen_dom_find_locked(struct xen *x, uint32_t domid);
struct xen_dom *xen_dom_add_locked(struct xen *x, uint32_t domid,
				   const xen_domain_handle_t handle);
void xen_dom_free(struct xen_dom *d);
/* Reads name and memory nodes for every listed domain whose record lacks
 * them (O(new domains) xenstore reads), creating records as needed. */
void xen_dom_refresh(struct xen *x, const xc_domaininfo_t *di, size_t n);
int xen_events_open(struct xen *x, char *err, size_t errlen);
void xen_events_close(struct xen *x);
int xen_event_fd(struct vmm *v);
int xen_handle_events(struct vmm *v, vmm_event_cb *cb, void *opaque);

/* ---- xen_build.c ---- */

int xen_create(struct vmm *v, const struct vmm_domain_config *cfg,
	       uint32_t *domid, char *err, size_t errlen);
/* Removes everything of domid from xenstore, destroys it (if it still
 * exists) and waits up to wait_ms for it to go.  Idempotent. */
int xen_teardown(struct xen *x, uint32_t domid, unsigned wait_ms,
		 char *err, size_t errlen);

/* ---- xen_acpi.c ---- */

/* PVH: ACPI tables as dom->acpi_modules (memory from dom's pool); call
 * after xc_dom_parse_image. */
int xen_acpi_build(struct xc_dom_image *dom, unsigned vcpus_max);
/* PVH: the guest's e820 (RAM, special pages, ACPI); after
 * xc_dom_boot_mem_init. */
int xen_pvh_memmap(struct xc_dom_image *dom, uint32_t domid);

/* ---- xen_devices.c ---- */

/* xvda -> 51712 (xenstore device number), or -EINVAL. */
int xen_vdev_number(const char *vdev);
/* Sets up a VBD: loop device (kept in d->loop_fd) and both xenstore
 * halves.  Blocking: worker threads only. */
int xen_vbd_add(struct xen *x, uint32_t domid, const struct vmm_disk *disk,
		int *loop_fd, char *err, size_t errlen);
/* Writes a VIF's nodes, waits for netback's vifN.M, bridges it, brings
 * it up and reports hotplug-status connected. */
int xen_vif_add(struct xen *x, uint32_t domid, const struct vmm_nic *nic,
		char *err, size_t errlen);
/* Removes every backend of domid from xenstore (blkback and netback let
 * go when their node vanishes).  O(devices) requests. */
void xen_devices_remove(struct xen *x, uint32_t domid);
void xen_devices_stats(struct xen *x, uint32_t domid,
		       struct vmm_domain_stats *out);

/* ---- xen_console.c ---- */

/* Watch handling and pty reading run in the event loop's thread. */
void xen_console_watch(struct xen *x, uint32_t domid, bool on);
void xen_console_tty_changed(struct xen *x, uint32_t domid);
void xen_console_readable(struct xen *x, uint32_t domid);
void xen_console_flush_locked(struct xen *x, struct xen_dom *d);
void xen_console_close_locked(struct xen *x, struct xen_dom *d);
ssize_t xen_console_read(struct vmm *v, uint32_t domid, char *buf,
			 size_t len);
ssize_t xen_console_write(struct vmm *v, uint32_t domid, const char *buf,
			  size_t len);

/* ---- xen_xs.c ---- */

struct xs_permissions;
/* Permissions as libxl sets them:
 *   ro: dom0 owns, domid reads      rw: domid owns          none: dom0 only */
enum xen_perm { XEN_PERM_RO, XEN_PERM_RW, XEN_PERM_NONE, XEN_PERM_FRONT };
bool xen_xs_mkdir(struct xs_handle *xs, xs_transaction_t t, const char *path,
		  uint32_t domid, enum xen_perm perm);
bool xen_xs_printf(struct xs_handle *xs, xs_transaction_t t, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* dir/name = printf(fmt, ...); false with errno set on failure. */
bool xen_xs_put(struct xs_handle *xs, xs_transaction_t t, const char *dir,
		const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* snprintf into buf; "" (which xenstore refuses) when it does not fit. */
const char *xen_pathf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Reads a node into buf (NUL-terminated, truncated); false if absent. */
bool xen_xs_read(struct xs_handle *xs, const char *path, char *buf,
		 size_t len);
bool xen_xs_read_u64(struct xs_handle *xs, const char *path, uint64_t *out);
/* Runs fn in a transaction, again while the commit says EAGAIN (at most
 * 16 times).  fn returns false (errno set) to abort. */
int xen_xs_transact(struct xs_handle *xs,
		    bool (*fn)(struct xs_handle *xs, xs_transaction_t t,
			       void *arg),
		    void *arg);

#endif
