/* The stats collector (see collector.h).
 *
 * Host RRD: cpu0..cpuN-1 and cpu_avg (busy fraction of each physical CPU
 * over the last interval, from pcpu_times deltas), memory_total_kib,
 * memory_free_kib (host_info), loadavg (/proc/loadavg of this domain).
 * One VM RRD per domain (by uuid, dom0 included): cpu0..cpuN-1 (vcpu time
 * delta / wall time; unknown while offline) and memory (bytes allocated,
 * as xcp-rrdd).  A VM RRD lives while its domain does: nothing is kept
 * on disk yet, and a domain that changes vcpus_max starts afresh.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/dm.h"
#include "http/http.h"
#include "lib/log.h"
#include "lib/util.h"
#include "stats/collector.h"
#include "stats/rrd.h"
#include "stats/rrd_xport.h"
#include "vmm/backend.h"

#define SAMPLE_MS (RRD_STEP * 1000)

struct vm_rrd {
	char uuid[VMM_UUID_LEN + 1];
	uint32_t domid;
	unsigned nvcpus;
	bool seen, have_last;
	uint64_t last_vcpu[VMM_MAX_VCPUS];
	struct rrd *rrd;
	struct vm_rrd *next;
};

static struct {
	struct vmm *vmm;
	char host_uuid[VMM_UUID_LEN + 1];
	struct rrd *host;
	unsigned ncpus;
	struct vmm_pcpu_time *last_pcpu;
	bool have_pcpu;
	struct vm_rrd *vms;
	double last_t;
	int64_t next_ms;
} st;

static struct rrd *host_rrd_new(double t0, unsigned ncpus)
{
	struct rrd_ds_def *defs = xcalloc(ncpus + 4, sizeof(*defs));
	char (*names)[16] = xcalloc(ncpus, sizeof(*names));
	struct rrd *r;

	for (unsigned i = 0; i < ncpus; i++) {
		snprintf(names[i], sizeof(names[i]), "cpu%u", i);
		defs[i] = (struct rrd_ds_def){ names[i], RRD_GAUGE, 0, 1, false };
	}
	defs[ncpus] = (struct rrd_ds_def){ "cpu_avg", RRD_GAUGE, 0, 1, false };
	defs[ncpus + 1] = (struct rrd_ds_def){ "memory_total_kib", RRD_GAUGE, 0, NAN, true };
	defs[ncpus + 2] = (struct rrd_ds_def){ "memory_free_kib", RRD_GAUGE, 0, NAN, true };
	defs[ncpus + 3] = (struct rrd_ds_def){ "loadavg", RRD_GAUGE, 0, NAN, false };
	r = rrd_new(t0, defs, ncpus + 4, false);
	free(names);
	free(defs);
	return r;
}

static struct rrd *vm_rrd_new(double t0, unsigned nvcpus)
{
	struct rrd_ds_def *defs = xcalloc(nvcpus + 1, sizeof(*defs));
	char (*names)[16] = xcalloc(nvcpus, sizeof(*names));
	struct rrd *r;

	for (unsigned i = 0; i < nvcpus; i++) {
		snprintf(names[i], sizeof(names[i]), "cpu%u", i);
		defs[i] = (struct rrd_ds_def){ names[i], RRD_GAUGE, 0, NAN, false };
	}
	defs[nvcpus] = (struct rrd_ds_def){ "memory", RRD_GAUGE, 0, NAN, true };
	r = rrd_new(t0, defs, nvcpus + 1, false);
	free(names);
	free(defs);
	return r;
}

void stats_init(struct vmm *v)
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
	st.last_pcpu = xcalloc(st.ncpus, sizeof(*st.last_pcpu));
	st.last_t = now_wall_f();
	st.host = host_rrd_new(st.last_t, st.ncpus);
	st.next_ms = now_ms() + SAMPLE_MS;
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

void stats_dispose(void)
{
	drop_vms();
	rrd_free(st.host);
	free(st.last_pcpu);
	memset(&st, 0, sizeof(st));
}

static double read_loadavg(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double v = NAN;

	if (f) {
		if (fscanf(f, "%lf", &v) != 1)
			v = NAN;
		fclose(f);
	}
	return v;
}

/* O(pcpus) */
static void sample_host(double t)
{
	struct vmm_pcpu_time *now = xcalloc(st.ncpus, sizeof(*now));
	struct vmm_host_info hi;
	char err[VMM_ERR_MAX];
	unsigned nr = 0, known = 0;
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
			rrd_set(st.host, st.ncpus, sum / known);
		memcpy(st.last_pcpu, now, nr * sizeof(*now));
		st.have_pcpu = true;
	} else {
		log_debug("stats: pcpu times: %s", err);
		st.have_pcpu = false;
	}
	if (!vmm_host_info(st.vmm, &hi, err, sizeof(err))) {
		rrd_set(st.host, st.ncpus + 1, (double)(hi.total_memory / 1024));
		rrd_set(st.host, st.ncpus + 2, (double)(hi.free_memory / 1024));
	}
	rrd_set(st.host, st.ncpus + 3, read_loadavg());
	rrd_update(st.host, t);
	free(now);
}

static struct vm_rrd *vm_find(const char *uuid)
{
	for (struct vm_rrd *v = st.vms; v; v = v->next)
		if (!strcmp(v->uuid, uuid))
			return v;
	return NULL;
}

/* One domain: O(vcpus) */
static void sample_vm(const struct vmm_domain_info *di, double t, double dt,
		      struct vmm_domain_stats *ds)
{
	struct vm_rrd *v = vm_find(di->uuid);
	char err[VMM_ERR_MAX];
	unsigned n, want = di->vcpus_max ? di->vcpus_max : 1;
	bool fresh;

	if (want > VMM_MAX_VCPUS)
		want = VMM_MAX_VCPUS;
	if (v && v->nvcpus != want) {
		rrd_free(v->rrd);
		v->rrd = NULL;
	}
	if (!v) {
		v = xcalloc(1, sizeof(*v));
		snprintf(v->uuid, sizeof(v->uuid), "%s", di->uuid);
		v->next = st.vms;
		st.vms = v;
	}
	v->seen = true;
	if (!v->rrd) {
		/* starts now: readings from the next sample on */
		v->nvcpus = want;
		v->rrd = vm_rrd_new(t, v->nvcpus);
		v->have_last = false;
	}
	if (v->domid != di->domid)
		v->have_last = false;   /* a new domain of the same VM */
	v->domid = di->domid;
	/* a new RRD starts at t: its first readings are the next sample's */
	fresh = rrd_last_update(v->rrd) >= t;
	if (!fresh)
		rrd_set(v->rrd, v->nvcpus, (double)di->mem_actual);
	if (vmm_stats(st.vmm, di->domid, ds, err, sizeof(err))) {
		/* vcpus unknown this time, but the rows stay in step */
		log_debug("stats: domain %u: %s", di->domid, err);
		v->have_last = false;
		goto update;
	}
	n = ds->nr_vcpus < v->nvcpus ? ds->nr_vcpus : v->nvcpus;
	for (unsigned i = 0; v->have_last && !fresh && i < n; i++)
		if (ds->vcpu_online[i] && ds->vcpu_time_ns[i] >= v->last_vcpu[i])
			rrd_set(v->rrd, i, (double)(ds->vcpu_time_ns[i] - v->last_vcpu[i]) /
				(dt * 1e9));
	for (unsigned i = 0; i < n; i++)
		v->last_vcpu[i] = ds->vcpu_time_ns[i];
	v->have_last = true;
update:
	if (!fresh)
		rrd_update(v->rrd, t);
}

/* O(domains * vcpus) */
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
		st.host = host_rrd_new(t, st.ncpus);
		st.have_pcpu = false;
		st.last_t = t;
		return;
	}
	sample_host(t);
	if (vmm_list(st.vmm, &doms, &nd, err, sizeof(err))) {
		log_debug("stats: domain list: %s", err);
		st.last_t = t;
		return;
	}
	for (struct vm_rrd *v = st.vms; v; v = v->next)
		v->seen = false;
	ds = xmalloc(sizeof(*ds));
	for (size_t i = 0; i < nd; i++)
		if (doms[i].state != VMM_STATE_DYING && doms[i].state != VMM_STATE_SHUTDOWN)
			sample_vm(&doms[i], t, dt, ds);
	free(ds);
	free(doms);
	/* drop the RRDs of domains gone */
	for (struct vm_rrd **pp = &st.vms; *pp;) {
		struct vm_rrd *v = *pp;

		if (v->seen) {
			pp = &v->next;
			continue;
		}
		*pp = v->next;
		rrd_free(v->rrd);
		free(v);
	}
	st.last_t = t;
}

int64_t stats_tick(int64_t now)
{
	if (!st.host)
		return -1;
	if (now >= st.next_ms) {
		sample();
		st.next_ms += SAMPLE_MS;
		if (st.next_ms <= now)
			st.next_ms = now + SAMPLE_MS;
	}
	return st.next_ms - now;
}

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

/* O(VMs) to gather, then O(rows * columns) to write. */
int stats_rrd_updates(struct arena *a, const char *query, const char *accept,
		      struct buf *out, const char **ctype)
{
	const char *sid = http_query_get(a, query, "session_id");
	const char *s, *vm_uuid = http_query_get(a, query, "vm_uuid");
	struct rrd_xport_src *src;
	enum rrd_cf cf = RRD_CF_AVERAGE;
	int64_t start, interval = 0;
	bool all_cf = true, json;
	unsigned n = 0, nvms = 0;
	int rc;

	if (!sid || !dm_obj_by_ref_cls(dm_class_find("session"), sid))
		return 401;
	if (!st.host)
		return 500;
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
	for (struct vm_rrd *v = st.vms; v; v = v->next) {
		char *p;

		if (vm_uuid && strcasecmp(vm_uuid, v->uuid))
			continue;
		p = arena_alloc(a, VMM_UUID_LEN + 8);
		if (!p)
			return 500;
		snprintf(p, VMM_UUID_LEN + 8, "vm:%s:", v->uuid);
		src[n++] = (struct rrd_xport_src){ p, v->rrd };
	}
	rc = rrd_xport(out, src, n, start, interval, cf, all_cf, json);
	if (rc)
		return 500;
	*ctype = json ? "application/json" : "text/xml";
	return 200;
}
