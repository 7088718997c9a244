/* The stats collector (see collector.h and docs/STATS.md).
 *
 * Host RRD: cpu0..cpuN-1 and cpu_avg (busy fraction of each physical CPU
 * over the last interval, from pcpu_times deltas), memory_total_kib,
 * memory_free_kib (host_info), loadavg (/proc/loadavg of this domain),
 * xapi_memory_usage_kib (xenbox's own resident memory), pif_<dev>_rx/_tx
 * (bytes/s of the physical NICs found at start-up, /proc/net/dev).
 * One VM RRD per VM (by uuid, dom0 included): cpu0..cpuN-1 (vcpu time
 * delta / wall time; unknown while offline), memory and memory_target
 * (bytes), vif_<devid>_rx/_tx and vbd_<vdev>_read/_write (bytes/s, from
 * the backend's counters).
 *
 * A VM's RRD outlives its domain for as long as the VM object exists, so
 * a restarted VM continues its history; a domain whose data sources differ
 * (vcpus_max, devices) starts a new one.  Every RRD is saved to
 * <state_dir>/stats.rrd in one write per save interval and at clean
 * shutdown, and loaded at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/dm.h"
#include "api/host.h"
#include "http/http.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/util.h"
#include "stats/collector.h"
#include "stats/perfmon.h"
#include "stats/rrd.h"
#include "stats/rrd_xport.h"
#include "vmm/backend.h"

#define SAMPLE_MS (RRD_STEP * 1000)
#define MAX_PIFS 8
#define MAX_DEFS (VMM_MAX_PCPUS + 6 + 2 * MAX_PIFS)
#define FILE_MAGIC "XBRRD\0\1\0"

struct vm_rrd {
	char uuid[VMM_UUID_LEN + 1];
	uint32_t domid;
	bool active;            /* its domain was there at the last sample */
	bool seen;              /* ... and at this one */
	bool have_last;
	uint64_t last_vcpu[VMM_MAX_VCPUS];
	struct rrd *rrd;
	struct vm_rrd *next;
};

static struct {
	struct vmm *vmm;
	char host_uuid[VMM_UUID_LEN + 1];
	struct rrd *host;
	unsigned ncpus, npifs;
	char pifs[MAX_PIFS][16];
	struct vmm_pcpu_time *last_pcpu;
	bool have_pcpu;
	struct vm_rrd *vms;
	double last_t;
	int64_t next_ms, save_ms, next_save_ms;
	unsigned behind;        /* samples in a row older than the host RRD */
	bool unsaved;
} st;

/* ---- data source lists (loop thread only: one static scratch list) ---- */

static struct rrd_ds_def defs[MAX_DEFS];
static char def_names[MAX_DEFS][RRD_DS_NAME_MAX];
static unsigned ndefs;

static void def(enum rrd_ds_type type, double min, double max, bool wide,
		const char *fmt, ...)
{
	va_list ap;

	if (ndefs == MAX_DEFS)
		return;
	va_start(ap, fmt);
	vsnprintf(def_names[ndefs], RRD_DS_NAME_MAX, fmt, ap);
	va_end(ap);
	defs[ndefs] = (struct rrd_ds_def){ def_names[ndefs], type, min, max, wide };
	ndefs++;
}

static bool defs_match(const struct rrd *r)
{
	if (!r || rrd_nds(r) != ndefs)
		return false;
	for (unsigned i = 0; i < ndefs; i++)
		if (strcmp(rrd_ds_name(r, i), defs[i].name))
			return false;
	return true;
}

/* XAPI: pool other_config:create_min_max_in_new_VM_RRDs=true */
static bool want_min_max(void)
{
	const char *v = api_pool ? perfmon_other_config(api_pool,
				OF(api_pool, pool, other_config), "create_min_max_in_new_VM_RRDs") : NULL;

	return v && !strcasecmp(v, "true");
}

static void host_defs(void)
{
	ndefs = 0;
	for (unsigned i = 0; i < st.ncpus; i++)
		def(RRD_GAUGE, 0, 1, false, "cpu%u", i);
	def(RRD_GAUGE, 0, 1, false, "cpu_avg");
	def(RRD_GAUGE, 0, NAN, true, "memory_total_kib");
	def(RRD_GAUGE, 0, NAN, true, "memory_free_kib");
	def(RRD_GAUGE, 0, NAN, false, "loadavg");
	def(RRD_GAUGE, 0, NAN, false, "xapi_memory_usage_kib");
	for (unsigned i = 0; i < st.npifs; i++) {
		def(RRD_COUNTER, 0, NAN, false, "pif_%s_rx", st.pifs[i]);
		def(RRD_COUNTER, 0, NAN, false, "pif_%s_tx", st.pifs[i]);
	}
}

static void vm_defs(unsigned nvcpus, const struct vmm_domain_stats *ds)
{
	ndefs = 0;
	for (unsigned i = 0; i < nvcpus; i++)
		def(RRD_GAUGE, 0, NAN, false, "cpu%u", i);
	def(RRD_GAUGE, 0, NAN, true, "memory");
	def(RRD_GAUGE, 0, NAN, true, "memory_target");
	for (unsigned i = 0; i < ds->nr_vifs; i++) {
		def(RRD_COUNTER, 0, NAN, false, "vif_%u_rx", ds->vifs[i].devid);
		def(RRD_COUNTER, 0, NAN, false, "vif_%u_tx", ds->vifs[i].devid);
	}
	for (unsigned i = 0; i < ds->nr_vbds; i++) {
		def(RRD_COUNTER, 0, NAN, false, "vbd_%s_read", ds->vbds[i].vdev);
		def(RRD_COUNTER, 0, NAN, false, "vbd_%s_write", ds->vbds[i].vdev);
	}
}

/* ---- host readings ---- */

/* Physical NICs: /sys/class/net/<dev>/device exists.  O(NICs). */
static void find_pifs(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[256], path[64];

	st.npifs = 0;
	while (f && fgets(line, sizeof(line), f) && st.npifs < MAX_PIFS) {
		char *c = strchr(line, ':'), *n = line;

		if (!c)
			continue;
		*c = 0;
		while (*n == ' ')
			n++;
		if (!*n || strlen(n) >= sizeof(st.pifs[0]))
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%.15s/device", n);
		if (access(path, F_OK))
			continue;
		strcpy(st.pifs[st.npifs++], n);
	}
	if (f)
		fclose(f);
}

/* rx and tx bytes of dev (/proc/net/dev); -1 when absent */
static int pif_bytes(const char *dev, uint64_t *rx, uint64_t *tx)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[256];
	int rc = -1;

	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *n = line;
		unsigned long long v[9];

		if (!c)
			continue;
		*c = 0;
		while (*n == ' ')
			n++;
		if (strcmp(n, dev))
			continue;
		if (sscanf(c + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
			*rx = v[0];
			*tx = v[8];
			rc = 0;
		}
		break;
	}
	if (f)
		fclose(f);
	return rc;
}

/* first number after key in a /proc file, or NaN */
static double proc_num(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	char line[256];
	double v = NAN;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key))) {
			if (sscanf(line + strlen(key), "%lf", &v) != 1)
				v = NAN;
			break;
		}
	if (f)
		fclose(f);
	return v;
}

/* ---- datamodel updates (volatile fields: events, no store write) ---- */

static struct obj *vm_obj(const char *uuid)
{
	return dm_obj_by_uuid(dm_class_find("VM"), uuid);
}

static void vm_metrics_update(struct obj *vm, const struct vmm_domain_info *di,
			      const struct rrd *r, unsigned nvcpus)
{
	struct obj *m = dm_obj_by_ref_cls(dm_class_find("VM_metrics"),
					  dm_get_str(vm, OF(vm, VM, metrics)));
	struct dm_val map = { 0 };
	int f;

	if (!m)
		return;
	f = OF(m, VM_metrics, VCPUs_utilisation);
	for (unsigned i = 0; i < nvcpus; i++) {
		struct dm_val k = { .u.i = i }, v = { .u.d = rrd_row(r, 0, 0, i) };

		if (isnan(v.u.d))
			v.u.d = 0;
		dm_list_push(NULL, &map, &k);
		dm_list_push(NULL, &map, &v);
	}
	dm_set(m, f, &map);
	dm_val_free(m->cls->fields[f].t, &map);
	dm_set_int(m, OF(m, VM_metrics, memory_actual), (int64_t)di->mem_actual);
	dm_set_int(m, OF(m, VM_metrics, last_updated), now_wall());
}

/* ---- sampling ---- */

static struct rrd *rrd_fresh(double t)
{
	return rrd_new(t, defs, ndefs, want_min_max());
}

static void sample_host(double t)
{
	struct vmm_pcpu_time *now = xcalloc(st.ncpus, sizeof(*now));
	struct vmm_host_info hi;
	char err[VMM_ERR_MAX];
	unsigned nr = 0, known = 0, base = st.ncpus;
	double sum = 0;

	if (!vmm_pcpu_times(st.vmm, now, st.ncpus, &nr, err, sizeof(err))) {
		if (nr > st.ncpus)
			nr = st.ncpus;
		for (unsigned i = 0; st.have_pcpu && i < nr; i++) {
			uint64_t b = now[i].busy_ns - st.last_pcpu[i].busy_ns;
			uint64_t d = b + now[i].idle_ns - st.last_pcpu[i].idle_ns;

			if (now[i].busy_ns < st.last_pcpu[i].busy_ns ||
			    now[i].idle_ns < st.last_pcpu[i].idle_ns || !d)
				continue;
			rrd_set(st.host, i, (double)b / (double)d);
			sum += (double)b / (double)d;
			known++;
		}
		if (known)
			rrd_set(st.host, base, sum / known);
		memcpy(st.last_pcpu, now, nr * sizeof(*now));
		st.have_pcpu = true;
	} else {
		log_debug("stats: pcpu times: %s", err);
		st.have_pcpu = false;
	}
	if (!vmm_host_info(st.vmm, &hi, err, sizeof(err))) {
		struct obj *hm = api_this_host ? dm_obj_by_ref_cls(dm_class_find("host_metrics"),
			dm_get_str(api_this_host, OF(api_this_host, host, metrics))) : NULL;

		rrd_set(st.host, base + 1, (double)(hi.total_memory / 1024));
		rrd_set(st.host, base + 2, (double)(hi.free_memory / 1024));
		if (hm) {
			dm_set_int(hm, OF(hm, host_metrics, memory_total), (int64_t)hi.total_memory);
			dm_set_int(hm, OF(hm, host_metrics, memory_free), (int64_t)hi.free_memory);
			dm_set_int(hm, OF(hm, host_metrics, last_updated), now_wall());
		}
	}
	rrd_set(st.host, base + 3, proc_num("/proc/loadavg", ""));
	rrd_set(st.host, base + 4, proc_num("/proc/self/status", "VmRSS:"));
	for (unsigned i = 0; i < st.npifs; i++) {
		uint64_t rx, tx;

		if (!pif_bytes(st.pifs[i], &rx, &tx)) {
			rrd_set_u64(st.host, base + 5 + 2 * i, rx);
			rrd_set_u64(st.host, base + 6 + 2 * i, tx);
		}
	}
	if (rrd_update(st.host, t)) {
		st.behind++;    /* the clock is behind the RRDs (see sample) */
	} else {
		st.behind = 0;
		if (api_this_host)
			perfmon_check(api_this_host, OF(api_this_host, host, other_config), "Host", st.host_uuid, st.host, t);
	}
	free(now);
}

static struct vm_rrd *vm_find(const char *uuid)
{
	for (struct vm_rrd *v = st.vms; v; v = v->next)
		if (!strcmp(v->uuid, uuid))
			return v;
	return NULL;
}

static struct vm_rrd *vm_add(const char *uuid, struct rrd *r)
{
	struct vm_rrd *v = xcalloc(1, sizeof(*v));

	snprintf(v->uuid, sizeof(v->uuid), "%s", uuid);
	v->rrd = r;
	v->next = st.vms;
	st.vms = v;
	return v;
}

/* One domain: O(vcpus + devices) */
static void sample_vm(const struct vmm_domain_info *di, double t, double dt,
		      struct vmm_domain_stats *ds)
{
	struct vm_rrd *v = vm_find(di->uuid);
	char err[VMM_ERR_MAX];
	unsigned n, nvcpus = di->vcpus_max ? di->vcpus_max : 1, k;
	struct obj *vm;
	bool stats_ok;

	if (nvcpus > VMM_MAX_VCPUS)
		nvcpus = VMM_MAX_VCPUS;
	if (!v)
		v = vm_add(di->uuid, NULL);
	stats_ok = !vmm_stats(st.vmm, di->domid, ds, err, sizeof(err));
	if (!stats_ok) {
		log_debug("stats: domain %u: %s", di->domid, err);
		memset(ds, 0, sizeof(*ds));
	}
	vm_defs(nvcpus, ds);
	/* without device counters this time, keep the RRD we have */
	if ((stats_ok || !v->rrd) && !defs_match(v->rrd)) {
		if (v->rrd)
			log_info("stats: VM %s: data sources changed; new RRD", v->uuid);
		rrd_free(v->rrd);
		/* starts now: readings from the next sample on */
		v->rrd = rrd_fresh(t);
		v->seen = true;
		v->domid = di->domid;
		if (stats_ok)
			memcpy(v->last_vcpu, ds->vcpu_time_ns, sizeof(v->last_vcpu));
		v->have_last = stats_ok;
		return;
	}
	if (!v->active || v->domid != di->domid) {
		/* a new domain of the same VM */
		v->have_last = false;
		rrd_forget_counters(v->rrd);
	}
	v->seen = true;
	v->domid = di->domid;
	rrd_set(v->rrd, nvcpus, (double)di->mem_actual);
	rrd_set(v->rrd, nvcpus + 1, (double)di->mem_target);
	if (stats_ok) {
		n = ds->nr_vcpus < nvcpus ? ds->nr_vcpus : nvcpus;
		for (unsigned i = 0; v->have_last && i < n; i++)
			if (ds->vcpu_online[i] && ds->vcpu_time_ns[i] >= v->last_vcpu[i])
				rrd_set(v->rrd, i, (double)(ds->vcpu_time_ns[i] - v->last_vcpu[i]) /
					(dt * 1e9));
		for (unsigned i = 0; i < n; i++)
			v->last_vcpu[i] = ds->vcpu_time_ns[i];
		k = nvcpus + 2;
		for (unsigned i = 0; i < ds->nr_vifs; i++, k += 2) {
			rrd_set_u64(v->rrd, k, ds->vifs[i].rx_bytes);
			rrd_set_u64(v->rrd, k + 1, ds->vifs[i].tx_bytes);
		}
		for (unsigned i = 0; i < ds->nr_vbds; i++, k += 2) {
			rrd_set_u64(v->rrd, k, ds->vbds[i].rd_bytes);
			rrd_set_u64(v->rrd, k + 1, ds->vbds[i].wr_bytes);
		}
	}
	v->have_last = stats_ok;
	if (rrd_update(v->rrd, t))
		return;
	vm = vm_obj(v->uuid);
	if (vm) {
		vm_metrics_update(vm, di, v->rrd, nvcpus);
		perfmon_check(vm, OF(vm, VM, other_config), "VM", v->uuid, v->rrd, t);
	}
}

/* RRDs of VMs that no longer exist go; those of halted VMs stay. */
static void sweep_vms(void)
{
	for (struct vm_rrd **pp = &st.vms; *pp;) {
		struct vm_rrd *v = *pp;

		if (v->active || vm_obj(v->uuid)) {
			pp = &v->next;
			continue;
		}
		*pp = v->next;
		perfmon_forget(v->uuid);
		rrd_free(v->rrd);
		free(v);
	}
}

static void drop_vms(void)
{
	while (st.vms) {
		struct vm_rrd *n = st.vms->next;

		rrd_free(st.vms->rrd);
		free(st.vms);
		st.vms = n;
	}
}

/* O(domains * (vcpus + devices)) */
static void sample(void)
{
	double t = now_wall_f(), dt = t - st.last_t;
	struct vmm_domain_info *doms = NULL;
	struct vmm_domain_stats *ds;
	char err[VMM_ERR_MAX];
	size_t nd = 0;

	if (!(dt > 0)) {
		if (dt >= -RRD_HEARTBEAT) {
			log_debug("stats: the clock went back %.3f s; sample skipped", -dt);
			return;
		}
		/* a big step back: start afresh rather than wait for it */
		log_warn("stats: the clock went back %.0f s; history dropped", -dt);
		drop_vms();
		rrd_free(st.host);
		host_defs();
		st.host = rrd_fresh(t);
		st.have_pcpu = false;
		st.last_t = t;
		return;
	}
	st.unsaved = true;
	sample_host(t);
	/* RRDs loaded from a file newer than the clock (a host without RTC
	 * before NTP): wait up to an hour for the clock, then start afresh */
	if (st.behind >= 3600 / RRD_STEP) {
		log_warn("stats: the clock stayed behind the saved RRDs for an hour; "
			 "history dropped");
		drop_vms();
		rrd_free(st.host);
		host_defs();
		st.host = rrd_fresh(t);
		st.behind = 0;
	}
	if (vmm_list(st.vmm, &doms, &nd, err, sizeof(err))) {
		log_debug("stats: domain list: %s", err);
		st.last_t = t;
		return;
	}
	for (struct vm_rrd *v = st.vms; v; v = v->next)
		v->seen = false;
	ds = xmalloc(sizeof(*ds));
	for (size_t i = 0; i < nd; i++) {
		/* dom0's RRD is its VM object's (host.control_domain), as XAPI */
		struct obj *dom0 = doms[i].domid || !api_this_host ? NULL :
			dm_obj_by_ref(dm_get_str(api_this_host,
				OF(api_this_host, host, control_domain)));

		if (dom0)
			snprintf(doms[i].uuid, sizeof(doms[i].uuid), "%s",
				 dm_get_str(dom0, dom0->cls->f_uuid));
	}
	for (size_t i = 0; i < nd; i++)
		if (doms[i].state != VMM_STATE_DYING && doms[i].state != VMM_STATE_SHUTDOWN)
			sample_vm(&doms[i], t, dt, ds);
	free(ds);
	free(doms);
	for (struct vm_rrd *v = st.vms; v; v = v->next)
		v->active = v->seen;
	sweep_vms();
	st.last_t = t;
}

/* ---- the file: magic, then per RRD a kind byte (0 host, 1 VM), the
 * uuid and the image (rrd_save), then 0xff and the SHA-256 of all the
 * bytes before it ---- */

static void file_path(char *p, size_t n, const char *suffix)
{
	/* too long: "", which open() refuses (reported) */
	xsnprintf(p, n, "%s/stats.rrd%s", api_state_dir ? api_state_dir : ".", suffix);
}

static void add_entry(struct buf *b, uint8_t kind, const char *uuid, const struct rrd *r)
{
	char u[VMM_UUID_LEN];

	memset(u, 0, sizeof(u));
	memcpy(u, uuid, strnlen(uuid, sizeof(u)));
	buf_add(b, &kind, 1);
	buf_add(b, u, sizeof(u));
	rrd_save(r, b);
}

int stats_save(void)
{
	char path[600], tmp[610];
	struct buf b = BUF_INIT;
	unsigned char sum[32];
	uint8_t end = 0xff;
	int fd = -1, rc = -1;
	size_t off = 0;

	if (!st.host)
		return 0;
	file_path(path, sizeof(path), "");
	file_path(tmp, sizeof(tmp), ".tmp");
	buf_add(&b, FILE_MAGIC, 8);
	add_entry(&b, 0, st.host_uuid, st.host);
	for (struct vm_rrd *v = st.vms; v; v = v->next)
		if (v->rrd)
			add_entry(&b, 1, v->uuid, v->rrd);
	buf_add(&b, &end, 1);
	sha256(b.data, b.len, sum);
	buf_add(&b, sum, sizeof(sum));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	while (off < b.len) {
		ssize_t r = write(fd, b.data + off, b.len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto out;
		off += (size_t)r;
	}
	rc = fsync(fd);
	if (close(fd) < 0)      /* the descriptor is gone either way */
		rc = -1;
	fd = -1;
	if (rc)
		goto out;
	rc = -1;
	if (rename(tmp, path) < 0)
		goto out;
	/* the rename itself reaches the disk with the directory; until it
	 * did, the RRDs are not saved (tried again next interval) */
	fd = open(api_state_dir ? api_state_dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		goto out;
	st.unsaved = false;
	rc = 0;
out:
	if (rc) {
		log_err("stats: saving %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return rc;
}

/* Restore what matches: the host RRD if its data sources are this host's,
 * every VM RRD whose VM still exists.  A damaged file is reported and
 * ignored (the next save replaces it).  O(file). */
static void load(double t)
{
	char path[600];
	struct buf b = BUF_INIT;
	unsigned char sum[32];
	const uint8_t *p, *end;
	FILE *f;
	char chunk[4096];
	size_t n;

	file_path(path, sizeof(path), "");
	f = fopen(path, "rb");
	if (!f) {
		if (errno != ENOENT)
			log_warn("stats: %s: %s", path, strerror(errno));
		return;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	if (b.len < 8 + 1 + 32 || memcmp(b.data, FILE_MAGIC, 8) ||
	    (sha256(b.data, b.len - 32, sum), memcmp(sum, b.data + b.len - 32, 32))) {
		log_err("stats: %s: not a stats file or damaged; history starts afresh", path);
		goto out;
	}
	p = (const uint8_t *)b.data + 8;
	end = (const uint8_t *)b.data + b.len - 33;
	while (p < end) {
		uint8_t kind = *p++;
		char uuid[VMM_UUID_LEN + 1] = { 0 };
		struct rrd *r;

		if (end - p < VMM_UUID_LEN)
			break;
		memcpy(uuid, p, VMM_UUID_LEN);
		p += VMM_UUID_LEN;
		r = rrd_load(&p, end);
		if (!r || kind > 1) {
			rrd_free(r);
			log_err("stats: %s: damaged entry; the rest is ignored", path);
			break;
		}
		if (kind == 0 && !strcmp(uuid, st.host_uuid) && defs_match(r)) {
			rrd_free(st.host);
			st.host = r;
		} else if (kind == 1 && vm_obj(uuid) && !vm_find(uuid)) {
			vm_add(uuid, r);
		} else {
			rrd_free(r);
		}
	}
out:
	buf_free(&b);
}

void stats_init(struct vmm *v, int save_interval_s)
{
	struct vmm_host_info hi;
	char err[VMM_ERR_MAX];

	stats_dispose();
	st.vmm = v;
	if (api_this_host && api_this_host->cls->f_uuid >= 0)
		snprintf(st.host_uuid, sizeof(st.host_uuid), "%s",
			 dm_get_str(api_this_host, api_this_host->cls->f_uuid));
	if (vmm_host_info(v, &hi, err, sizeof(err))) {
		log_warn("stats: host info: %s", err);
		hi.nr_cpus = 1;
	}
	st.ncpus = hi.nr_cpus ? hi.nr_cpus : 1;
	if (st.ncpus > VMM_MAX_PCPUS)
		st.ncpus = VMM_MAX_PCPUS;
	find_pifs();
	st.last_pcpu = xcalloc(st.ncpus, sizeof(*st.last_pcpu));
	st.last_t = now_wall_f();
	host_defs();
	st.host = rrd_fresh(st.last_t);
	load(st.last_t);
	st.next_ms = now_ms() + SAMPLE_MS;
	st.save_ms = (int64_t)save_interval_s * 1000;
	st.next_save_ms = st.save_ms ? now_ms() + st.save_ms : -1;
}

void stats_dispose(void)
{
	drop_vms();
	rrd_free(st.host);
	free(st.last_pcpu);
	perfmon_dispose();
	memset(&st, 0, sizeof(st));
}

int64_t stats_tick(int64_t now)
{
	int64_t next;

	if (!st.host)
		return -1;
	if (now >= st.next_ms) {
		sample();
		st.next_ms += SAMPLE_MS;
		if (st.next_ms <= now)
			st.next_ms = now + SAMPLE_MS;
	}
	next = st.next_ms;
	if (st.save_ms && now >= st.next_save_ms) {
		/* on failure (reported), try again next interval */
		if (st.unsaved)
			stats_save();
		st.next_save_ms = now + st.save_ms;
	}
	if (st.save_ms && st.next_save_ms < next)
		next = st.next_save_ms;
	return next - now;
}

/* ---- HTTP ---- */

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* GET /rrd_updates: O(VMs) to gather, then O(rows * columns) to write. */
static int rrd_updates(struct arena *a, const char *query, const char *accept,
		       struct buf *out, const char **ctype)
{
	const char *s, *vm_uuid = http_query_get(a, query, "vm_uuid");
	struct rrd_xport_src *src;
	enum rrd_cf cf = RRD_CF_AVERAGE;
	int64_t start, interval = 0;
	bool all_cf = true, json;
	unsigned n = 0, nvms = 0;

	if (parse_i64(http_query_get(a, query, "start"), &start))
		return 400;
	if (start < 0)
		start += now_wall();
	s = http_query_get(a, query, "interval");
	if (s && parse_i64(s, &interval))
		return 400;
	s = http_query_get(a, query, "cf");
	if (s) {
		if (rrd_cf_parse(s, &cf))
			return 400;
		all_cf = false;
	}
	json = http_query_get(a, query, "json") ||
	       (accept && strstr(accept, "application/json"));
	for (struct vm_rrd *v = st.vms; v; v = v->next)
		nvms++;
	src = arena_alloc(a, (nvms + 1) * sizeof(*src));
	if (!src)
		return 500;
	s = http_query_get(a, query, "host");
	if (s && !strcmp(s, "true")) {
		char *p = arena_alloc(a, VMM_UUID_LEN + 8);

		if (!p)
			return 500;
		snprintf(p, VMM_UUID_LEN + 8, "host:%s:", st.host_uuid);
		src[n++] = (struct rrd_xport_src){ p, st.host };
	}
	/* VMs running here, as XAPI (halted ones keep their RRD for later) */
	for (struct vm_rrd *v = st.vms; v; v = v->next) {
		char *p;

		if (!v->active || (vm_uuid && strcasecmp(vm_uuid, v->uuid)))
			continue;
		p = arena_alloc(a, VMM_UUID_LEN + 8);
		if (!p)
			return 500;
		snprintf(p, VMM_UUID_LEN + 8, "vm:%s:", v->uuid);
		src[n++] = (struct rrd_xport_src){ p, v->rrd };
	}
	if (rrd_xport(out, src, n, start, interval, cf, all_cf, json))
		return 500;
	*ctype = json ? "application/json" : "text/xml";
	return 200;
}

/* Prometheus text format 0.0.4: one family per data source name,
 * xenbox_host_<ds>{host="uuid"} and xenbox_vm_<ds>{vm="uuid"}, the newest
 * 5 s value.  O(VMs^2 * DSs) for the grouping (a family's samples must be
 * together); fine for the VMs one host runs. */
/* xenbox_<kind>_<ds>, [A-Za-z0-9_] only */
static void metric_name(struct buf *out, const char *kind, const char *ds)
{
	buf_addf(out, "xenbox_%s_", kind);
	for (const char *c = ds; *c; c++)
		buf_addc(out, (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
			 (*c >= 'A' && *c <= 'Z') ? *c : '_');
}

static void family(struct buf *out, const char *kind, const char *ds)
{
	buf_adds(out, "# TYPE ");
	metric_name(out, kind, ds);
	buf_adds(out, " gauge\n");
}

static void sample_line(struct buf *out, const char *kind, const char *uuid,
			const struct rrd *r, unsigned i)
{
	double v = rrd_row(r, 0, 0, i);

	metric_name(out, kind, rrd_ds_name(r, i));
	buf_addf(out, "{%s=\"%s\"} ", kind, uuid);
	if (isnan(v))
		buf_adds(out, "NaN\n");
	else
		buf_addf(out, "%.17g\n", v);
}

static void metrics(struct buf *out)
{
	for (unsigned i = 0; i < rrd_nds(st.host); i++) {
		family(out, "host", rrd_ds_name(st.host, i));
		sample_line(out, "host", st.host_uuid, st.host, i);
	}
	for (struct vm_rrd *v = st.vms; v; v = v->next) {
		if (!v->active)
			continue;
		for (unsigned i = 0; i < rrd_nds(v->rrd); i++) {
			const char *name = rrd_ds_name(v->rrd, i);
			bool seen = false;

			for (struct vm_rrd *w = st.vms; w != v && !seen; w = w->next)
				seen = w->active && rrd_ds_find(w->rrd, name) >= 0;
			if (seen)
				continue;
			family(out, "vm", name);
			for (struct vm_rrd *w = v; w; w = w->next) {
				int j = w->active ? rrd_ds_find(w->rrd, name) : -1;

				if (j >= 0)
					sample_line(out, "vm", w->uuid, w->rrd, (unsigned)j);
			}
		}
	}
}

int stats_http(struct arena *a, const char *path, const char *query,
	       const char *accept, int authed, struct buf *out, const char **ctype)
{
	bool updates = !strcmp(path, "/rrd_updates"), host = !strcmp(path, "/host_rrd");
	bool vm = !strcmp(path, "/vm_rrd"), prom = !strcmp(path, "/metrics");

	if (!updates && !host && !vm && !prom && strcmp(path, "/sr_rrd"))
		return -1;
	if (!authed)
		return 401;
	if (!st.host)
		return 500;
	if (updates)
		return rrd_updates(a, query, accept, out, ctype);
	*ctype = "text/xml";
	if (host) {
		rrd_dump_xml(st.host, out);
		return 200;
	}
	if (vm) {
		const char *uuid = http_query_get(a, query, "uuid");
		struct vm_rrd *v = uuid ? vm_find(uuid) : NULL;

		if (!v || !v->rrd)
			return 404;
		rrd_dump_xml(v->rrd, out);
		return 200;
	}
	if (prom) {
		metrics(out);
		*ctype = "text/plain; version=0.0.4";
		return 200;
	}
	return 404;     /* /sr_rrd: no SR data sources yet */
}
