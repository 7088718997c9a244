/* The Xen backend: domains on a real hypervisor through libxenctrl,
 * libxenguest and libxenstore (no libxl).  This file holds open/close,
 * the host queries, the lifecycle ops other than create, and list, info
 * and stats; xen_priv.h says where the rest lives.  docs/XEN_BACKEND.md
 * describes what it does on the host. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/xen_priv.h"

#define PRIVCMD "/dev/xen/privcmd"
#define GETINFO_BATCH 256

/* ---- libxc's messages ---- */

static __thread char liberr[VMM_ERR_MAX];
static __thread bool liberr_first;      /* keep the first error, not the last */

const char *xen_liberr(void)
{
	return liberr;
}

void xen_clear_liberr(void)
{
	liberr[0] = 0;
}

void xen_liberr_keep_first(bool on)
{
	liberr_first = on;
}

/* Errors and warnings go to our log; the last error of each thread (or
 * the first, see xen_liberr_keep_first) is kept for the op's own message.
 * The rest only with -v. */
static void logger_vmessage(xentoollog_logger *l, xentoollog_level level,
			    int errnoval, const char *context,
			    const char *fmt, va_list ap)
{
	char msg[VMM_ERR_MAX];
	size_t n;

	if (level < XTL_WARN && log_level < LOG_DEBUG)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (errnoval > 0 && n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnoval));
	if (level >= XTL_ERROR) {
		if (!liberr_first || !liberr[0])
			snprintf(liberr, sizeof(liberr), "%s", msg);
		log_warn("xen: %s: %s", context ? context : "xc", msg);
	} else if (level == XTL_WARN) {
		log_warn("xen: %s: %s", context ? context : "xc", msg);
	} else {
		log_debug("xen: %s: %s", context ? context : "xc", msg);
	}
}

static void logger_destroy(xentoollog_logger *l)
{
}

/* ---- helpers ---- */

void xen_kick(struct xen *x)
{
	uint64_t one = 1;

	if (write(x->kickfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("xen: waking the event loop: %s", strerror(errno));
}

int xen_getinfo(struct xen *x, uint32_t domid, xc_domaininfo_t *out)
{
	int r;

	if (domid >= DOMID_FIRST_RESERVED)
		return -ENOENT;
	r = xc_domain_getinfolist(x->xch, domid, 1, out);
	if (r < 0)
		return -EIO;
	if (r == 0 || out->domain != domid)
		return -ENOENT;
	return 0;
}

void xen_uuid_fmt(const xen_domain_handle_t h, char out[VMM_UUID_LEN + 1])
{
	snprintf(out, VMM_UUID_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9],
		 h[10], h[11], h[12], h[13], h[14], h[15]);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int xen_uuid_parse(const char *s, xen_domain_handle_t out)
{
	unsigned i = 0;
	int hi, lo;

	if (!vmm_uuid_valid(s))
		return -EINVAL;
	for (; *s; s++) {
		if (*s == '-')
			continue;
		hi = hexval(s[0]);
		lo = hexval(s[1]);
		out[i++] = (uint8_t)(hi << 4 | lo);
		s++;
	}
	return 0;
}

enum vmm_state xen_state_of(const xc_domaininfo_t *di,
			    enum vmm_shutdown_reason *reason)
{
	static const enum vmm_shutdown_reason reasons[] = {
		[SHUTDOWN_poweroff] = VMM_REASON_POWEROFF,
		[SHUTDOWN_reboot] = VMM_REASON_REBOOT,
		[SHUTDOWN_suspend] = VMM_REASON_SUSPEND,
		[SHUTDOWN_crash] = VMM_REASON_CRASH,
		[SHUTDOWN_watchdog] = VMM_REASON_WATCHDOG,
		[SHUTDOWN_soft_reset] = VMM_REASON_SOFT_RESET,
	};
	unsigned code;

	*reason = VMM_REASON_NONE;
	if (di->flags & XEN_DOMINF_dying)
		return VMM_STATE_DYING;
	if (di->flags & XEN_DOMINF_shutdown) {
		code = (di->flags >> XEN_DOMINF_shutdownshift) &
		       XEN_DOMINF_shutdownmask;
		*reason = code < sizeof(reasons) / sizeof(reasons[0]) ?
			  reasons[code] : VMM_REASON_CRASH;
		return VMM_STATE_SHUTDOWN;
	}
	if (di->flags & XEN_DOMINF_paused)
		return VMM_STATE_PAUSED;
	if (di->flags & XEN_DOMINF_blocked)
		return VMM_STATE_BLOCKED;
	return VMM_STATE_RUNNING;       /* running, or runnable */
}

static int domu_info(struct xen *x, uint32_t domid, const char *what,
		     xc_domaininfo_t *di, char *err, size_t errlen)
{
	int rc;

	if (domid == 0)
		return vmm_seterr(err, errlen, -EPERM, "cannot %s domain 0",
				  what);
	rc = xen_getinfo(x, domid, di);
	if (rc == -ENOENT)
		return vmm_seterr(err, errlen, rc, "no domain %u", domid);
	if (rc)
		return vmm_seterr(err, errlen, rc, "domain %u: getinfo: %s",
				  domid, strerror(errno));
	return 0;
}

static int require_alive(const xc_domaininfo_t *di, char *err, size_t errlen)
{
	enum vmm_shutdown_reason reason;
	enum vmm_state st = xen_state_of(di, &reason);

	if (st == VMM_STATE_SHUTDOWN || st == VMM_STATE_DYING)
		return vmm_seterr(err, errlen, -EBUSY, "domain %u is %s (%s)",
				  di->domain, vmm_state_name(st),
				  vmm_reason_name(reason));
	return 0;
}

/* ---- host ---- */

static int xen_host_info(struct vmm *v, struct vmm_host_info *out,
			 char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	xc_physinfo_t pi = { 0 };
	xen_extraversion_t extra = { 0 };
	xen_capabilities_info_t caps = { 0 };
	int ver;

	memset(out, 0, sizeof(*out));
	if (xc_physinfo(x->xch, &pi))
		return vmm_seterr(err, errlen, -EIO, "physinfo: %s",
				  strerror(errno));
	ver = xc_version(x->xch, XENVER_version, NULL);
	if (ver < 0 || xc_version(x->xch, XENVER_extraversion, &extra) < 0 ||
	    xc_version(x->xch, XENVER_capabilities, &caps) < 0)
		return vmm_seterr(err, errlen, -EIO, "xen_version: %s",
				  strerror(errno));
	out->nr_cpus = pi.nr_cpus;
	out->total_memory = pi.total_pages * XC_PAGE_SIZE;
	/* Dirty pages are allocatable: Xen scrubs them on the way out. */
	out->free_memory = (pi.free_pages + pi.scrub_pages) * XC_PAGE_SIZE;
	out->cpu_khz = pi.cpu_khz;
	extra[sizeof(extra) - 1] = 0;
	caps[sizeof(caps) - 1] = 0;
	snprintf(out->version, sizeof(out->version), "%d.%d%s", ver >> 16,
		 ver & 0xffff, extra);
	snprintf(out->capabilities, sizeof(out->capabilities), "%.*s",
		 (int)sizeof(out->capabilities) - 1, caps);
	return 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Xen counts idle time per CPU since its boot; busy is the rest of the
 * elapsed time.  Dom0's clock started a little after Xen's, so elapsed
 * time is dom0's monotonic clock plus an offset taken on the first call
 * (the largest idle time then); callers only use deltas. */
static int xen_pcpu_times(struct vmm *v, struct vmm_pcpu_time *out,
			  unsigned max, unsigned *nr, char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	xc_cpuinfo_t *ci;
	uint64_t now, top = 0;
	int n = 0, i;

	ci = calloc(VMM_MAX_PCPUS, sizeof(*ci));
	if (!ci)
		return vmm_seterr(err, errlen, -ENOMEM, "out of memory");
	if (xc_getcpuinfo(x->xch, VMM_MAX_PCPUS, ci, &n) < 0) {
		free(ci);
		return vmm_seterr(err, errlen, -EIO, "getcpuinfo: %s",
				  strerror(errno));
	}
	now = mono_ns();
	pthread_mutex_lock(&x->lock);
	if (!x->have_pcpu_offset) {
		for (i = 0; i < n; i++)
			if (ci[i].idletime > top)
				top = ci[i].idletime;
		x->pcpu_offset_ns = top > now ? top - now : 0;
		x->have_pcpu_offset = true;
	}
	now += x->pcpu_offset_ns;
	pthread_mutex_unlock(&x->lock);
	for (i = 0; i < n && (unsigned)i < max; i++) {
		out[i].idle_ns = ci[i].idletime;
		out[i].busy_ns = now > ci[i].idletime ? now - ci[i].idletime : 0;
	}
	*nr = (unsigned)n;
	free(ci);
	return 0;
}

/* ---- lifecycle ---- */

static int xen_pause(struct vmm *v, uint32_t domid, char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	xc_domaininfo_t di;
	int rc;

	rc = domu_info(x, domid, "pause", &di, err, errlen);
	if (!rc)
		rc = require_alive(&di, err, errlen);
	if (rc || (di.flags & XEN_DOMINF_paused))
		return rc;
	if (xc_domain_pause(x->xch, domid))
		return vmm_seterr(err, errlen, -EIO, "pausing domain %u: %s",
				  domid, strerror(errno));
	xen_kick(x);
	return 0;
}

/* Xen counts pauses by the toolstack; ours do not nest, so unpause
 * until the domain runs (bounded, in case of a stubborn pauser). */
static int xen_unpause(struct vmm *v, uint32_t domid, char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	xc_domaininfo_t di;
	unsigned tries;
	int rc;

	rc = domu_info(x, domid, "unpause", &di, err, errlen);
	if (!rc)
		rc = require_alive(&di, err, errlen);
	for (tries = 0; !rc && (di.flags & XEN_DOMINF_paused) && tries < 16;
	     tries++) {
		if (xc_domain_unpause(x->xch, domid))
			return vmm_seterr(err, errlen, -EIO,
					  "unpausing domain %u: %s", domid,
					  strerror(errno));
		rc = xen_getinfo(x, domid, &di);
		if (rc)
			rc = vmm_seterr(err, errlen, rc, "domain %u: %s", domid,
					rc == -ENOENT ? "vanished" :
					"getinfo failed");
	}
	xen_kick(x);
	return rc;
}

static int xen_destroy(struct vmm *v, uint32_t domid, char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	xc_domaininfo_t di;
	int rc;

	rc = domu_info(x, domid, "destroy", &di, err, errlen);
	if (rc)
		return rc;
	rc = xen_teardown(x, domid, 10000, err, errlen);
	xen_kick(x);
	return rc;
}

static int xen_shutdown(struct vmm *v, uint32_t domid,
			enum vmm_shutdown_request req, char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	char path[XEN_PATH_MAX];
	xc_domaininfo_t di;
	int rc;

	if (req != VMM_REQ_POWEROFF && req != VMM_REQ_REBOOT &&
	    req != VMM_REQ_HALT)
		return vmm_seterr(err, errlen, -EINVAL,
				  "bad shutdown request %d", (int)req);
	rc = domu_info(x, domid, "shut down", &di, err, errlen);
	if (!rc)
		rc = require_alive(&di, err, errlen);
	if (rc)
		return rc;
	/* The names are the ones Linux's drivers/xen/manage.c knows. */
	snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
	if (!xen_xs_printf(x->xsh, XBT_NULL, path, "%s", vmm_request_name(req)))
		return vmm_seterr(err, errlen, -EIO, "writing %s: %s", path,
				  strerror(errno));
	return 0;
}

static uint64_t static_max_kib(struct xen *x, const xc_domaininfo_t *di)
{
	struct xen_dom *d;
	uint64_t kib = 0;

	pthread_mutex_lock(&x->lock);
	d = xen_dom_find_locked(x, di->domain);
	if (d && !memcmp(d->handle, di->handle, sizeof(d->handle)))
		kib = d->static_max_kib;
	pthread_mutex_unlock(&x->lock);
	return kib ? kib : di->max_pages * (XC_PAGE_SIZE / KiB);
}

static int xen_set_memory_target(struct vmm *v, uint32_t domid,
				 uint64_t bytes, char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	char path[XEN_PATH_MAX];
	xc_domaininfo_t di;
	struct xen_dom *d;
	uint64_t kib = bytes / KiB, max;
	int rc;

	rc = xen_getinfo(x, domid, &di);
	if (rc)
		return vmm_seterr(err, errlen, rc, "no domain %u", domid);
	max = static_max_kib(x, &di);
	if (!kib || kib > max)
		return vmm_seterr(err, errlen, -EINVAL,
				  "memory target %" PRIu64 " is not in 1..%"
				  PRIu64 " (static max)", bytes, max * KiB);
	/* Let the guest balloon up to the target (1 MiB for magic pages,
	 * as libxl). */
	if (domid && kib + 1024 > di.max_pages * (XC_PAGE_SIZE / KiB) &&
	    xc_domain_setmaxmem(x->xch, domid, kib + 1024))
		return vmm_seterr(err, errlen, -EIO, "setmaxmem: %s",
				  strerror(errno));
	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
	if (!xen_xs_printf(x->xsh, XBT_NULL, path, "%" PRIu64, kib))
		return vmm_seterr(err, errlen, -EIO, "writing %s: %s", path,
				  strerror(errno));
	pthread_mutex_lock(&x->lock);
	d = xen_dom_find_locked(x, domid);
	if (d && !memcmp(d->handle, di.handle, sizeof(d->handle)))
		d->target_kib = kib;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

struct vcpus_arg {
	uint32_t domid;
	unsigned max, online;
};

static bool write_vcpus(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct vcpus_arg *a = arg;
	char path[XEN_PATH_MAX];
	unsigned i;

	for (i = 0; i < a->max; i++) {
		snprintf(path, sizeof(path),
			 "/local/domain/%u/cpu/%u/availability", a->domid, i);
		if (!xen_xs_printf(xs, t, path, "%s",
				   i < a->online ? "online" : "offline"))
			return false;
	}
	return true;
}

static int xen_set_vcpus(struct vmm *v, uint32_t domid, unsigned online,
			 char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	struct vcpus_arg a = { .domid = domid, .online = online };
	xc_domaininfo_t di;
	int rc;

	rc = xen_getinfo(x, domid, &di);
	if (rc)
		return vmm_seterr(err, errlen, rc, "no domain %u", domid);
	a.max = di.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 :
		di.max_vcpu_id + 1;
	if (online < 1 || online > a.max)
		return vmm_seterr(err, errlen, -EINVAL,
				  "vcpus online %u is not in 1..%u", online,
				  a.max);
	rc = xen_xs_transact(x->xsh, write_vcpus, &a);
	if (rc)
		return vmm_seterr(err, errlen, -EIO,
				  "writing cpu availability of domain %u: %s",
				  domid, strerror(-rc));
	return 0;
}

/* ---- reading ---- */

int xen_getinfo_all(struct xen *x, xc_domaininfo_t **out, size_t *nr)
{
	xc_domaininfo_t *all = NULL, *p;
	size_t n = 0, cap = 0;
	uint32_t next = 0;
	int r;

	for (;;) {
		if (cap - n < GETINFO_BATCH) {
			cap += GETINFO_BATCH;
			p = realloc(all, cap * sizeof(*all));
			if (!p) {
				free(all);
				return -ENOMEM;
			}
			all = p;
		}
		r = xc_domain_getinfolist(x->xch, next, GETINFO_BATCH, all + n);
		if (r < 0) {
			free(all);
			return -EIO;
		}
		n += (size_t)r;
		if (r < GETINFO_BATCH)
			break;
		next = all[n - 1].domain + 1;
	}
	*out = all;
	*nr = n;
	return 0;
}

static void fill_info(struct xen *x, const xc_domaininfo_t *di,
		      struct vmm_domain_info *out)
{
	uint64_t total = di->max_pages * XC_PAGE_SIZE;
	struct xen_dom *d;

	memset(out, 0, sizeof(*out));
	out->domid = di->domain;
	xen_uuid_fmt(di->handle, out->uuid);
	out->type = (di->flags & XEN_DOMINF_hvm_guest) ? VMM_TYPE_PVH :
		    VMM_TYPE_PV;
	out->state = xen_state_of(di, &out->reason);
	out->mem_actual = di->tot_pages * XC_PAGE_SIZE;
	out->mem_target = out->mem_actual;
	/* a dom0 without a dom0_mem max may have "no limit" */
	out->mem_max = total >> 44 ? out->mem_actual : total;
	out->vcpus_max = di->max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 :
			 di->max_vcpu_id + 1;
	out->vcpus_online = di->nr_online_vcpus;
	out->cpu_time_ns = di->cpu_time;
	d = xen_dom_find_locked(x, di->domain);
	if (!d || memcmp(d->handle, di->handle, sizeof(d->handle)))
		return;
	snprintf(out->name, sizeof(out->name), "%s", d->name);
	if (d->target_kib)
		out->mem_target = d->target_kib * KiB;
	if (d->static_max_kib)
		out->mem_max = d->static_max_kib * KiB;
}

static int xen_list(struct vmm *v, struct vmm_domain_info **out, size_t *nr,
		    char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	xc_domaininfo_t *di = NULL;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	*nr = 0;
	rc = xen_getinfo_all(x, &di, &n);
	if (rc)
		return vmm_seterr(err, errlen, rc, "listing domains: %s",
				  strerror(-rc));
	xen_dom_refresh(x, di, n);
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out) {
		free(di);
		return vmm_seterr(err, errlen, -ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < n; i++)
		fill_info(x, &di[i], &(*out)[i]);
	pthread_mutex_unlock(&x->lock);
	*nr = n;
	free(di);
	return 0;
}

static int xen_info(struct vmm *v, uint32_t domid, struct vmm_domain_info *out,
		    char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	xc_domaininfo_t di;
	int rc;

	rc = xen_getinfo(x, domid, &di);
	if (rc)
		return vmm_seterr(err, errlen, rc, "no domain %u", domid);
	xen_dom_refresh(x, &di, 1);
	pthread_mutex_lock(&x->lock);
	fill_info(x, &di, out);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

/* O(vcpus) hypercalls plus O(devices) sysfs reads. */
static int xen_stats(struct vmm *v, uint32_t domid,
		     struct vmm_domain_stats *out, char *err, size_t errlen)
{
	struct xen *x = to_xen(v);
	xc_domaininfo_t di;
	xc_vcpuinfo_t vi;
	unsigned i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = xen_getinfo(x, domid, &di);
	if (rc)
		return vmm_seterr(err, errlen, rc, "no domain %u", domid);
	out->domid = domid;
	out->cpu_time_ns = di.cpu_time;
	out->nr_vcpus = di.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 :
			di.max_vcpu_id + 1;
	if (out->nr_vcpus > VMM_MAX_VCPUS)
		out->nr_vcpus = VMM_MAX_VCPUS;
	for (i = 0; i < out->nr_vcpus; i++) {
		if (xc_vcpu_getinfo(x->xch, domid, i, &vi))
			continue;       /* not yet initialised */
		out->vcpu_time_ns[i] = vi.cpu_time;
		out->vcpu_online[i] = vi.online;
	}
	xen_devices_stats(x, domid, out);
	return 0;
}

/* ---- open and close ---- */

static void xen_close(struct vmm *v)
{
	struct xen *x = to_xen(v);
	size_t i;

	xen_events_close(x);
	for (i = 0; i < x->nr_doms; i++)
		xen_dom_free(x->doms[i]);
	for (i = 0; i < x->nr_graves; i++)
		xen_dom_free(x->graves[i]);
	free(x->doms);
	free(x->graves);
	if (x->xsw)
		xs_close(x->xsw);
	if (x->xsh)
		xs_close(x->xsh);
	if (x->xch)
		xc_interface_close(x->xch);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

/* libxenstore falls back to /dev/xen/xenbus when the socket is absent;
 * in dom0 that device answers nothing until xenstored runs, so a request
 * would hang.  Say so instead. */
static int check_xenstored(char *err, size_t errlen)
{
	const char *path = xs_daemon_socket();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r, e;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vmm_seterr(err, errlen, -errno, "socket: %s",
				  strerror(errno));
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (r)
		return vmm_seterr(err, errlen, -e,
				  "xenstored is not running (%s: %s)", path,
				  strerror(e));
	return 0;
}

static uint32_t read_domid(struct xen *x, const char *path)
{
	uint64_t v;

	return xen_xs_read_u64(x->xsh, path, &v) && v < DOMID_FIRST_RESERVED ?
	       (uint32_t)v : 0;
}

/* opts: "xenbus" allows a xenstore reached through /dev/xen/xenbus only
 * (xenstored in a stub domain). */
static int parse_opts(const char *opts, bool *xenbus, char *err, size_t errlen)
{
	char buf[128], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", opts);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "xenbus"))
			*xenbus = true;
		else
			return vmm_seterr(err, errlen, -EINVAL,
					  "xen: unknown option '%s'", tok);
	}
	return 0;
}

static int open_handles(struct xen *x, bool xenbus, char *err, size_t errlen)
{
	xc_physinfo_t pi = { 0 };
	int rc;

	if (access(PRIVCMD, F_OK))
		return vmm_seterr(err, errlen, -errno,
				  "%s: %s (not a Xen dom0, or xen-privcmd is"
				  " not loaded)", PRIVCMD, strerror(errno));
	x->xch = xc_interface_open(&x->logger, &x->logger, 0);
	if (!x->xch)
		return vmm_seterr(err, errlen, -EIO,
				  "cannot open the hypervisor interface: %s",
				  *xen_liberr() ? xen_liberr() : strerror(errno));
	if (!xenbus) {
		rc = check_xenstored(err, errlen);
		if (rc)
			return rc;
	}
	x->xsh = xs_open(0);
	x->xsw = x->xsh ? xs_open(0) : NULL;
	if (!x->xsw)
		return vmm_seterr(err, errlen, -errno ? -errno : -EIO,
				  "cannot connect to xenstore: %s",
				  strerror(errno));
	if (xc_physinfo(x->xch, &pi))
		return vmm_seterr(err, errlen, -EIO, "physinfo: %s",
				  strerror(errno));
	x->physcaps = pi.capabilities;
	x->grant_version = (pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v2) ? 2 :
			   (pi.capabilities & XEN_SYSCTL_PHYSCAP_gnttab_v1) ? 1 : 0;
	x->store_domid = read_domid(x, "/tool/xenstored/domid");
	x->console_domid = read_domid(x, "/tool/xenconsoled/domid");
	return 0;
}

static int xen_open(const char *opts, struct vmm **out, char *err,
		    size_t errlen)
{
	struct xen *x;
	bool xenbus = false;
	int rc;

	*out = NULL;
	rc = parse_opts(opts, &xenbus, err, errlen);
	if (rc)
		return rc;
	x = calloc(1, sizeof(*x));
	if (!x)
		return vmm_seterr(err, errlen, -ENOMEM, "out of memory");
	x->vmm.ops = &xen_ops;
	x->vmm.restart = VMM_RESTART_DEFAULT;
	x->logger.vmessage = logger_vmessage;
	x->logger.destroy = logger_destroy;
	x->epfd = x->kickfd = -1;
	pthread_mutex_init(&x->lock, NULL);
	xen_clear_liberr();
	rc = open_handles(x, xenbus, err, errlen);
	if (!rc)
		rc = xen_events_open(x, err, errlen);
	if (rc) {
		xen_close(&x->vmm);
		return rc;
	}
	*out = &x->vmm;
	return 0;
}

const struct vmm_ops xen_ops = {
	.name = "xen",
	.close = xen_close,
	.host_info = xen_host_info,
	.pcpu_times = xen_pcpu_times,
	.create = xen_create,
	.pause = xen_pause,
	.unpause = xen_unpause,
	.destroy = xen_destroy,
	.shutdown = xen_shutdown,
	.set_memory_target = xen_set_memory_target,
	.set_vcpus = xen_set_vcpus,
	.list = xen_list,
	.info = xen_info,
	.stats = xen_stats,
	.event_fd = xen_event_fd,
	.handle_events = xen_handle_events,
	.console_read = xen_console_read,
	.console_write = xen_console_write,
	.host_power = vmm_power_command,
};

const struct vmm_backend vmm_backend_xen = {
	.name = "xen",
	.open = xen_open,
};
