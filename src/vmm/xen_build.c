/* create and teardown for the Xen backend: the sequence libxl follows for
 * a PV or PVH guest booted from a kernel (+ ramdisk), without libxl.
 *
 *   1. checks: config, files, uuid not running, host memory
 *   2. XEN_DOMCTL_createdomain (handle = uuid; PVH: hvm|hap + LAPIC)
 *   3. vcpus, maxmem, memory map limit (PV), TSC mode, xenstore and
 *      console event channels, HVM params and paging pool (PVH), CPUID
 *   4. libxenguest: kernel, ramdisk, parse, memory, (PVH: ACPI tables and
 *      e820), build, boot, grant table seeded for xenstored/xenconsoled
 *   5. the xenstore tree (one transaction), then xs_introduce_domain
 *   6. devices (xen_devices.c); the record; left paused.
 * Any failure tears down what exists.  Slow (seconds): worker threads. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <xen/hvm/params.h>

#include "lib/log.h"
#include "vmm/xen_priv.h"

#define EVTCHN_PORTS 1023       /* libxl's default max_evtchn_port */
#define MAXMEM_SLACK_KIB 1024   /* libxl's LIBXL_MAXMEM_CONSTANT */
#define CONSOLE_LIMIT 1048576   /* libxl's LIBXL_XENCONSOLE_LIMIT */
#define ACPI_INFO_ADDR 0xfc000000ULL
#define LAPIC_ADDR 0xfee00000ULL

struct build {
	struct xen *x;
	const struct vmm_domain_config *cfg;
	char *err;
	size_t errlen;
	xen_domain_handle_t handle;
	char uuid[VMM_UUID_LEN + 1];    /* lowercase */
	uint32_t domid;
	bool created;
	bool pvh, hap, acpi;
	unsigned tsc_mode;      /* 0 default, 1 always emulate, 2 native */
	uint64_t target_kib, max_kib;
	uint32_t store_port, console_port;
	uint64_t store_mfn, console_mfn;
	int loop_fd[VMM_MAX_DEVS];
	unsigned nr_loops;
};

/* "%s: <what libxc said>" or, when it said nothing, strerror(errno). */
static int fail_lib(struct build *b, int rc, const char *what)
{
	int e = errno;

	return vmm_seterr(b->err, b->errlen, rc, "%s: %s", what,
			  *xen_liberr() ? xen_liberr() : strerror(e));
}

/* ---- 1. checks ---- */

static int parse_platform(struct build *b)
{
	static const char *const tsc[] = { "default", "always_emulate",
					   "native" };
	const struct vmm_kv *kv;
	size_t i;
	unsigned m;

	b->acpi = true;
	for (i = 0; i < b->cfg->nr_platform; i++) {
		kv = &b->cfg->platform[i];
		if (!kv->key || !kv->value)
			continue;
		if (!strcmp(kv->key, "tsc_mode")) {
			for (m = 0; m < 3; m++)
				if (!strcmp(kv->value, tsc[m]) ||
				    (kv->value[0] == (char)('0' + m) &&
				     !kv->value[1]))
					break;
			if (m == 3)
				return vmm_seterr(b->err, b->errlen, -EINVAL,
						  "platform tsc_mode '%s': use"
						  " default, always_emulate or"
						  " native", kv->value);
			b->tsc_mode = m;
		} else if (!strcmp(kv->key, "acpi")) {
			b->acpi = strcmp(kv->value, "0") &&
				  strcmp(kv->value, "false");
		}
	}
	return 0;
}

static int check_file(struct build *b, const char *what, const char *path)
{
	if (access(path, R_OK))
		return vmm_seterr(b->err, b->errlen, -errno, "%s %s: %s", what,
				  path, strerror(errno));
	return 0;
}

static int check_config(struct build *b)
{
	const struct vmm_domain_config *cfg = b->cfg;
	size_t i;
	int rc;

	rc = vmm_config_check(cfg, b->err, b->errlen);
	if (!rc)
		rc = parse_platform(b);
	if (rc)
		return rc;
	xen_uuid_parse(cfg->uuid, b->handle);
	xen_uuid_fmt(b->handle, b->uuid);
	b->pvh = cfg->type == VMM_TYPE_PVH;
	b->hap = b->x->physcaps & XEN_SYSCTL_PHYSCAP_hap;
	if (b->pvh && !(b->x->physcaps & XEN_SYSCTL_PHYSCAP_hvm))
		return vmm_seterr(b->err, b->errlen, -EINVAL,
				  "this host cannot run PVH guests (Xen reports"
				  " no HVM support)");
	if (!b->pvh && !(b->x->physcaps & XEN_SYSCTL_PHYSCAP_pv))
		return vmm_seterr(b->err, b->errlen, -EINVAL,
				  "this Xen cannot run PV guests");
	b->target_kib = cfg->mem_target / KiB;
	/* PVH guests get all their memory at once (no populate-on-demand
	 * without a device model) and that is their static max: Linux sizes
	 * its balloon from memory/static-max.  PV guests may balloon up to
	 * static max. */
	b->max_kib = b->pvh ? b->target_kib : cfg->mem_static_max / KiB;
	rc = check_file(b, "kernel", cfg->kernel);
	if (!rc && cfg->ramdisk && *cfg->ramdisk)
		rc = check_file(b, "ramdisk", cfg->ramdisk);
	for (i = 0; !rc && i < cfg->nr_disks; i++) {
		rc = check_file(b, "disk", cfg->disks[i].path);
		if (!rc && xen_vdev_number(cfg->disks[i].vdev) < 0)
			rc = vmm_seterr(b->err, b->errlen, -EINVAL,
					"disk %s: xenbox knows xvd*, sd* and hd*"
					" names only", cfg->disks[i].vdev);
	}
	return rc;
}

/* O(domains) */
static int check_unique(struct build *b)
{
	xc_domaininfo_t *di = NULL;
	size_t n = 0, i;
	int rc;

	rc = xen_getinfo_all(b->x, &di, &n);
	if (rc)
		return vmm_seterr(b->err, b->errlen, rc, "listing domains: %s",
				  strerror(-rc));
	for (i = 0; i < n; i++)
		if (!memcmp(di[i].handle, b->handle, sizeof(b->handle)) &&
		    !(di[i].flags & XEN_DOMINF_dying)) {
			rc = vmm_seterr(b->err, b->errlen, -EEXIST,
					"a domain with uuid %s exists already"
					" (domid %u)", b->uuid, di[i].domain);
			break;
		}
	free(di);
	return rc;
}

/* libxl's paging pool for a HVM-container guest: 1 MiB per vcpu plus a
 * page per MiB of RAM for the p2m (and another for shadow without HAP). */
static uint64_t paging_pool_kib(const struct build *b)
{
	return 4 * (256ULL * b->cfg->vcpus_max +
		    (1 + !b->hap) * (b->max_kib / 1024));
}

static int check_memory(struct build *b)
{
	xc_physinfo_t pi = { 0 };
	uint64_t need = b->target_kib + MAXMEM_SLACK_KIB, have;

	if (b->pvh)
		need += paging_pool_kib(b);
	if (xc_physinfo(b->x->xch, &pi))
		return vmm_seterr(b->err, b->errlen, -EIO, "physinfo: %s",
				  strerror(errno));
	have = (pi.free_pages + pi.scrub_pages) * (XC_PAGE_SIZE / KiB);
	if (need > have)
		return vmm_seterr(b->err, b->errlen, -ENOMEM,
				  "not enough free memory for domain %s: it"
				  " needs %" PRIu64 " MiB, the host has %" PRIu64
				  " MiB free", b->cfg->name, (need + 1023) / 1024,
				  have / 1024);
	return 0;
}

/* ---- 2, 3. the domain ---- */

static int make_domain(struct build *b)
{
	struct xen_domctl_createdomain c = {
		.max_vcpus = b->cfg->vcpus_max,
		.max_evtchn_port = EVTCHN_PORTS,
		.max_grant_frames = -1,         /* Xen's defaults */
		.max_maptrack_frames = -1,
		.grant_opts = XEN_DOMCTL_GRANT_version(b->x->grant_version),
	};
	uint32_t domid = 0;             /* 0: Xen picks */

	memcpy(c.handle, b->handle, sizeof(c.handle));
	if (b->pvh) {
		c.flags = XEN_DOMCTL_CDF_hvm | (b->hap ? XEN_DOMCTL_CDF_hap : 0);
		c.arch.emulation_flags = XEN_X86_EMU_LAPIC;
	}
	if (xc_domain_create(b->x->xch, &domid, &c))
		return fail_lib(b, errno == ENOMEM ? -ENOMEM : -EIO,
				"creating the domain");
	b->domid = domid;
	b->created = true;
	return 0;
}

static int alloc_evtchns(struct build *b)
{
	xc_evtchn_port_or_error_t p;

	p = xc_evtchn_alloc_unbound(b->x->xch, b->domid, b->x->store_domid);
	if (p < 0)
		return fail_lib(b, -EIO, "xenstore event channel");
	b->store_port = (uint32_t)p;
	p = xc_evtchn_alloc_unbound(b->x->xch, b->domid, b->x->console_domid);
	if (p < 0)
		return fail_lib(b, -EIO, "console event channel");
	b->console_port = (uint32_t)p;
	return 0;
}

static int setup_domain(struct build *b)
{
	xc_interface *xch = b->x->xch;
	uint32_t domid = b->domid;
	int r;

	if (xc_domain_max_vcpus(xch, domid, b->cfg->vcpus_max))
		return fail_lib(b, -EIO, "setting max vcpus");
	if (xc_domain_setmaxmem(xch, domid, b->max_kib + MAXMEM_SLACK_KIB))
		return fail_lib(b, -EIO, "setting max memory");
	/* A PV guest's memory map covers static max: it can balloon up. */
	if (!b->pvh && xc_domain_set_memmap_limit(xch, domid, b->max_kib))
		return fail_lib(b, -EIO, "setting the memory map limit");
	if (xc_domain_set_tsc_info(xch, domid, b->tsc_mode, 0, 0, 0))
		return fail_lib(b, -EIO, "setting the TSC mode");
	if (alloc_evtchns(b))
		return -EIO;
	if (b->pvh) {
		if (xc_hvm_param_set(xch, domid, HVM_PARAM_TIMER_MODE,
				     HVMPTM_no_delay_for_missed_ticks))
			return fail_lib(b, -EIO, "setting the timer mode");
		if (xc_set_paging_mempool_size(xch, domid,
					       paging_pool_kib(b) * KiB))
			return fail_lib(b, errno == ENOMEM ? -ENOMEM : -EIO,
					"sizing the paging pool");
	}
	/* libxl's CPUID defaults: PAE on, invariant TSC when emulated. */
	r = xc_cpuid_apply_policy(xch, domid, false, NULL, 0, true,
				  b->tsc_mode == 1, false, NULL, NULL);
	if (r) {
		errno = -r;
		return fail_lib(b, -EIO, "applying the CPUID policy");
	}
	return 0;
}

/* ---- 4. the image ---- */

/* PVH: RAM below the MMIO hole that holds the LAPIC, ACPI tables and
 * special pages, the rest above 4 GiB (as libxl without device model). */
static void pvh_layout(struct build *b, struct xc_dom_image *dom)
{
	uint64_t mem = b->max_kib * KiB, start, mmio_start;

	start = (uint64_t)(X86_HVM_END_SPECIAL_REGION -
			   X86_HVM_NR_SPECIAL_PAGES) << XC_PAGE_SHIFT;
	if (start > LAPIC_ADDR)
		start = LAPIC_ADDR;
	if (start > ACPI_INFO_ADDR)
		start = ACPI_INFO_ADDR;
	dom->mmio_size = (1ULL << 32) - start;
	mmio_start = (1ULL << 32) - dom->mmio_size;
	dom->target_pages = b->target_kib / (XC_PAGE_SIZE / KiB);
	dom->lowmem_end = mem > mmio_start ? mmio_start : mem;
	dom->highmem_end = mem > mmio_start ? (1ULL << 32) + mem - mmio_start : 0;
	dom->mmio_start = mmio_start;
	dom->vga_hole_size = 0;
	dom->device_model = false;
}

static int load_files(struct build *b, struct xc_dom_image *dom)
{
	const char *rd = b->cfg->ramdisk;

	if (xc_dom_kernel_file(dom, b->cfg->kernel))
		return fail_lib(b, -EINVAL, "loading the kernel");
	if (rd && *rd && xc_dom_module_file(dom, rd, NULL))
		return fail_lib(b, -EINVAL, "loading the ramdisk");
	return 0;
}

/* The builder steps in libxl's order; stops at the first failure. */
static int run_builder(struct build *b, struct xc_dom_image *dom)
{
	xc_interface *xch = b->x->xch;
	unsigned mem_mb = (unsigned)(b->max_kib / 1024);
	int r;

	if (xc_dom_boot_xen_init(dom, xch, b->domid))
		return fail_lib(b, -EIO, "xc_dom_boot_xen_init");
	/* A loader that fails says why ("LZMA-compressed (.lzma) kernels are
	 * not supported", a corrupt XZ payload); the next ones try, and then
	 * "no loader found": the first error is the one to report. */
	xen_clear_liberr();
	xen_liberr_keep_first(true);
	r = xc_dom_parse_image(dom);
	xen_liberr_keep_first(false);
	if (r)
		return fail_lib(b, -EINVAL, "kernel image");
	/* PV: the guest starts with its target and balloons from there. */
	if (!b->pvh)
		mem_mb = (unsigned)(b->target_kib / 1024);
	if (xc_dom_mem_init(dom, mem_mb))
		return fail_lib(b, -ENOMEM, "xc_dom_mem_init");
	if (xc_dom_boot_mem_init(dom))
		return fail_lib(b, errno == ENOMEM ? -ENOMEM : -EIO,
				"allocating guest memory");
	if (b->pvh && b->acpi &&
	    xen_acpi_build(dom, b->cfg->vcpus_max))
		return fail_lib(b, -EIO, "ACPI tables");
	if (b->pvh && xen_pvh_memmap(dom, b->domid))
		return fail_lib(b, -EIO, "setting the memory map");
	if (xc_dom_build_image(dom))
		return fail_lib(b, -EIO, "xc_dom_build_image");
	if (xc_dom_boot_image(dom))
		return fail_lib(b, -EIO, "xc_dom_boot_image");
	if (xc_dom_gnttab_init(dom))
		return fail_lib(b, -EIO, "xc_dom_gnttab_init");
	return 0;
}

static int build_image(struct build *b)
{
	const struct vmm_domain_config *cfg = b->cfg;
	struct xc_dom_image *dom;
	int rc;

	dom = xc_dom_allocate(b->x->xch, cfg->cmdline ? cfg->cmdline : "",
			      NULL);
	if (!dom)
		return fail_lib(b, -ENOMEM, "xc_dom_allocate");
	dom->container_type = b->pvh ? XC_DOM_HVM_CONTAINER :
			      XC_DOM_PV_CONTAINER;
	dom->console_evtchn = b->console_port;
	dom->console_domid = b->x->console_domid;
	dom->xenstore_evtchn = b->store_port;
	dom->xenstore_domid = b->x->store_domid;
	dom->max_vcpus = cfg->vcpus_max;
	if (b->pvh)
		pvh_layout(b, dom);
	rc = load_files(b, dom);
	if (!rc)
		rc = run_builder(b, dom);
	if (!rc) {
		/* PV rings are named by machine frame, PVH ones by gfn. */
		b->store_mfn = xc_dom_translated(dom) ? dom->xenstore_pfn :
			       xc_dom_p2m(dom, dom->xenstore_pfn);
		b->console_mfn = xc_dom_translated(dom) ? dom->console_pfn :
				 xc_dom_p2m(dom, dom->console_pfn);
	}
	xc_dom_release(dom);
	return rc;
}

/* ---- 5. xenstore ---- */

#define P(...) xen_pathf(path, sizeof(path), __VA_ARGS__)

static bool tree_domain(struct build *b, struct xs_handle *xs,
			xs_transaction_t t, const char *dom, const char *vm)
{
	static const char *const rw[] = {
		"control/shutdown", "control/feature-poweroff",
		"control/feature-reboot", "control/feature-suspend",
		"control/sysrq", "device/suspend/event-channel", "data",
		"drivers", "feature", "attr", "error",
	};
	static const char *const ro[] = { "cpu", "memory", "device", "control" };
	char path[XEN_PATH_MAX];
	uint32_t id = b->domid;
	unsigned i;
	bool ok = true;

	xs_rm(xs, t, dom);
	ok = ok && xen_xs_mkdir(xs, t, dom, id, XEN_PERM_RO);
	for (i = 0; ok && i < sizeof(ro) / sizeof(ro[0]); i++)
		ok = xen_xs_mkdir(xs, t, P("%s/%s", dom, ro[i]), id, XEN_PERM_RO);
	for (i = 0; ok && i < sizeof(rw) / sizeof(rw[0]); i++)
		ok = xen_xs_mkdir(xs, t, P("%s/%s", dom, rw[i]), id, XEN_PERM_RW);
	ok = ok && xen_xs_put(xs, t, dom, "vm", "%s", vm) &&
	     xen_xs_put(xs, t, dom, "name", "%s", b->cfg->name) &&
	     xen_xs_put(xs, t, dom, "domid", "%u", id) &&
	     xen_xs_put(xs, t, dom, "memory/static-max", "%" PRIu64,
			b->max_kib) &&
	     xen_xs_put(xs, t, dom, "memory/target", "%" PRIu64,
			b->target_kib) &&
	     xen_xs_put(xs, t, dom, "memory/videoram", "0") &&
	     xen_xs_put(xs, t, dom, "control/platform-feature-"
			"multiprocessor-suspend", "1") &&
	     xen_xs_put(xs, t, dom, "control/platform-feature-xs_reset_watches",
			"1") &&
	     xen_xs_put(xs, t, dom, "store/port", "%u", b->store_port) &&
	     xen_xs_put(xs, t, dom, "store/ring-ref", "%" PRIu64,
			b->store_mfn);
	for (i = 0; ok && i < b->cfg->vcpus_max; i++)
		ok = xen_xs_printf(xs, t, P("%s/cpu/%u/availability", dom, i),
				   "%s", i < b->cfg->vcpus_online ? "online" :
				   "offline");
	return ok;
}

/* Console 0: the frontend half is console/ (read-only to the guest),
 * the backend half for xenconsoled's domain. */
static bool tree_console(struct build *b, struct xs_handle *xs,
			 xs_transaction_t t, const char *dom)
{
	char back[XEN_PATH_MAX], front[XEN_PATH_MAX];
	uint32_t id = b->domid;

	snprintf(front, sizeof(front), "%s/console", dom);
	snprintf(back, sizeof(back), "/local/domain/%u/backend/console/%u/0",
		 b->x->console_domid, id);
	xs_rm(xs, t, back);
	return xen_xs_mkdir(xs, t, front, id, XEN_PERM_RO) &&
	       xen_xs_put(xs, t, front, "backend", "%s", back) &&
	       xen_xs_put(xs, t, front, "backend-id", "%u",
			  b->x->console_domid) &&
	       xen_xs_put(xs, t, front, "limit", "%d", CONSOLE_LIMIT) &&
	       xen_xs_put(xs, t, front, "type", "xenconsoled") &&
	       xen_xs_put(xs, t, front, "output", "pty") &&
	       xen_xs_put(xs, t, front, "tty", "%s", "") &&
	       xen_xs_put(xs, t, front, "port", "%u",
			  b->console_port) &&
	       xen_xs_put(xs, t, front, "ring-ref", "%" PRIu64,
			  b->console_mfn) &&
	       xen_xs_mkdir(xs, t, back, id, XEN_PERM_RO) &&
	       xen_xs_put(xs, t, back, "frontend", "%s", front) &&
	       xen_xs_put(xs, t, back, "frontend-id", "%u", id) &&
	       xen_xs_put(xs, t, back, "online", "1") &&
	       xen_xs_put(xs, t, back, "state", "1") &&
	       xen_xs_put(xs, t, back, "protocol", "vt100");
}

static bool tree_vm(struct build *b, struct xs_handle *xs, xs_transaction_t t,
		    const char *vm)
{
	const struct vmm_domain_config *cfg = b->cfg;
	struct timeval tv;
	bool ok;

	gettimeofday(&tv, NULL);
	xs_rm(xs, t, vm);
	ok = xen_xs_mkdir(xs, t, vm, b->domid, XEN_PERM_RO) &&
	     xen_xs_put(xs, t, vm, "uuid", "%s", b->uuid) &&
	     xen_xs_put(xs, t, vm, "name", "%s", cfg->name) &&
	     xen_xs_put(xs, t, vm, "start_time", "%lld.%02d",
			(long long)tv.tv_sec, (int)(tv.tv_usec / 10000));
	if (ok && !b->pvh)
		ok = xen_xs_put(xs, t, vm, "image/ostype", "linux") &&
		     xen_xs_put(xs, t, vm, "image/kernel", "%s",
				cfg->kernel);
	if (ok && !b->pvh && cfg->ramdisk && *cfg->ramdisk)
		ok = xen_xs_put(xs, t, vm, "image/ramdisk", "%s",
				cfg->ramdisk);
	if (ok && !b->pvh && cfg->cmdline && *cfg->cmdline)
		ok = xen_xs_put(xs, t, vm, "image/cmdline", "%s",
				cfg->cmdline);
	return ok;
}

#undef P

static bool write_tree(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	struct build *b = arg;
	char dom[64], vm[64];

	snprintf(dom, sizeof(dom), "/local/domain/%u", b->domid);
	snprintf(vm, sizeof(vm), "/vm/%s", b->uuid);
	return tree_domain(b, xs, t, dom, vm) && tree_console(b, xs, t, dom) &&
	       tree_vm(b, xs, t, vm);
}

static int publish(struct build *b)
{
	int rc;

	rc = xen_xs_transact(b->x->xsh, write_tree, b);
	if (rc)
		return vmm_seterr(b->err, b->errlen, -EIO,
				  "writing the xenstore tree of domain %u: %s",
				  b->domid, strerror(-rc));
	if (!xs_introduce_domain(b->x->xsh, b->domid, b->store_mfn,
				 b->store_port))
		return vmm_seterr(b->err, b->errlen, -EIO,
				  "introducing domain %u to xenstored: %s",
				  b->domid, strerror(errno));
	return 0;
}

/* ---- 6. devices and the record ---- */

static int add_devices(struct build *b)
{
	const struct vmm_domain_config *cfg = b->cfg;
	size_t i;
	int rc = 0;

	for (i = 0; !rc && i < cfg->nr_disks; i++) {
		rc = xen_vbd_add(b->x, b->domid, &cfg->disks[i],
				 &b->loop_fd[b->nr_loops], b->err, b->errlen);
		if (!rc && b->loop_fd[b->nr_loops] >= 0)
			b->nr_loops++;
	}
	for (i = 0; !rc && i < cfg->nr_nics; i++)
		rc = xen_vif_add(b->x, b->domid, &cfg->nics[i], b->err,
				 b->errlen);
	return rc;
}

/* The record takes over the loop fds. */
static void record(struct build *b)
{
	struct xen *x = b->x;
	struct xen_dom *d;
	unsigned i;

	pthread_mutex_lock(&x->lock);
	d = xen_dom_add_locked(x, b->domid, b->handle);
	if (d) {
		d->ours = true;
		d->named = true;
		snprintf(d->name, sizeof(d->name), "%s", b->cfg->name);
		d->target_kib = b->target_kib;
		d->static_max_kib = b->max_kib;
		for (i = 0; i < b->nr_loops; i++)
			d->loop_fd[d->nr_loops++] = b->loop_fd[i];
		b->nr_loops = 0;
	}
	pthread_mutex_unlock(&x->lock);
}

static void dispose(struct build *b)
{
	unsigned i;

	for (i = 0; i < b->nr_loops; i++)
		close(b->loop_fd[i]);
	b->nr_loops = 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int xen_create(struct vmm *v, const struct vmm_domain_config *cfg,
	       uint32_t *domid, char *err, size_t errlen)
{
	struct build b = { .x = to_xen(v), .cfg = cfg, .err = err,
			   .errlen = errlen };
	uint64_t t0 = now_ms();
	int rc;

	xen_clear_liberr();
	rc = check_config(&b);
	if (!rc)
		rc = check_unique(&b);
	if (!rc)
		rc = check_memory(&b);
	if (!rc)
		rc = make_domain(&b);
	if (!rc)
		rc = setup_domain(&b);
	if (!rc)
		rc = build_image(&b);
	if (!rc)
		rc = publish(&b);
	if (!rc)
		rc = add_devices(&b);
	if (rc)
		goto out;
	record(&b);
	*domid = b.domid;
	log_info("xen: built %s domain %u (%s) in %" PRIu64 " ms",
		 b.pvh ? "PVH" : "PV", b.domid, cfg->name, now_ms() - t0);
out:
	if (rc && b.created)
		xen_teardown(b.x, b.domid, 0, NULL, 0);
	dispose(&b);
	xen_kick(b.x);
	return rc;
}

/* ---- teardown ---- */

int xen_teardown(struct xen *x, uint32_t domid, unsigned wait_ms,
		 char *err, size_t errlen)
{
	char path[XEN_PATH_MAX], vm[XEN_PATH_MAX] = "";
	xc_domaininfo_t di;
	struct xen_dom *d;
	unsigned i, waited;
	int rc = 0;

	/* Paused, the guest does not fight its devices going away. */
	xc_domain_pause(x->xch, domid);
	snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
	if (!xen_xs_read(x->xsh, path, vm, sizeof(vm)))
		vm[0] = 0;
	xen_devices_remove(x, domid);
	if (xc_domain_destroy(x->xch, domid) && errno != ESRCH)
		rc = vmm_seterr(err, errlen, -EIO, "destroying domain %u: %s",
				domid, strerror(errno));
	snprintf(path, sizeof(path), "/local/domain/%u/backend/console/%u",
		 x->console_domid, domid);
	xs_rm(x->xsh, XBT_NULL, path);
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(x->xsh, XBT_NULL, path);
	if (!strncmp(vm, "/vm/", 4) && !strchr(vm + 4, '/'))
		xs_rm(x->xsh, XBT_NULL, vm);
	/* A domain lingers as dying while backends unmap its pages. */
	for (waited = 0; !rc && waited < wait_ms; waited += 20) {
		if (xen_getinfo(x, domid, &di) == -ENOENT)
			break;
		usleep(20000);
	}
	pthread_mutex_lock(&x->lock);
	d = xen_dom_find_locked(x, domid);
	if (d) {
		for (i = 0; i < d->nr_loops; i++)
			close(d->loop_fd[i]);
		d->nr_loops = 0;
		d->ours = false;        /* nothing of it left to clean */
	}
	pthread_mutex_unlock(&x->lock);
	return rc;
}
