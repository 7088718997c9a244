/* sim backend: the model.  The domain table, the clock and the counters
 * it drives, events and console output, and what guests do on their own.
 * The ops in sim.c call in here with s->lock held. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vmm/sim_priv.h"

#define DOM0_UUID "00000000-0000-0000-0000-000000000000"

/* ---- rates: fixed per domid and vcpu/device, so runs repeat ---- */

static uint32_t mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* Percent of its time a running, online vcpu spends on a pCPU. */
static unsigned vcpu_pct(uint32_t domid, unsigned vcpu)
{
	if (domid == 0)
		return 3 + vcpu % 4;
	return 5 + mix(domid * 131 + vcpu * 17) % 45;
}

static uint64_t vcpu_ns(const struct sim_dom *d, unsigned vcpu)
{
	return d->vcpu_ms[vcpu] * 10000 * vcpu_pct(d->domid, vcpu);
}

static uint64_t dom_cpu_ns(const struct sim_dom *d)
{
	uint64_t t = 0;
	unsigned i;

	for (i = 0; i < d->vcpus_max; i++)
		t += vcpu_ns(d, i);
	return t;
}

static uint32_t name_hash(const char *p)
{
	uint32_t h = 2166136261U;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619U;
	return h;
}

/* Bytes per running ms for device dev, direction salt. */
static uint64_t dev_rate(uint32_t domid, uint32_t dev, uint32_t salt)
{
	return 1 + mix(domid * 7919 + dev * 104729 + salt) % 64;
}

/* ---- clock ---- */

uint64_t sim_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Integrates the counters up to time t. */
static void settle_locked(struct sim *s, uint64_t t)
{
	unsigned load[VMM_MAX_PCPUS] = { 0 };
	uint64_t dt, busy;
	size_t i;
	unsigned v, p;

	if (t <= s->settled_ms)
		return;
	dt = t - s->settled_ms;
	for (i = 0; i < s->nr_doms; i++) {
		struct sim_dom *d = s->doms[i];

		if (d->state != VMM_STATE_RUNNING)
			continue;
		d->run_ms += dt;
		for (v = 0; v < d->vcpus_online; v++) {
			d->vcpu_ms[v] += dt;
			load[(d->domid + v) % s->nr_cpus] += vcpu_pct(d->domid, v);
		}
	}
	for (p = 0; p < s->nr_cpus; p++) {
		busy = dt * 10000 * (load[p] > 100 ? 100 : load[p]);
		s->pcpu_busy_ns[p] += busy;
		s->pcpu_idle_ns[p] += dt * 1000000 - busy;
	}
	s->settled_ms = t;
}

/* A request a cooperative, running guest will act on. */
static bool acts_on_request(const struct sim_dom *d)
{
	return d->pending != SIM_NO_REQ && d->cooperative &&
	       d->state == VMM_STATE_RUNNING;
}

/* A running guest due to stop itself (stop=). */
static bool stops_itself(const struct sim_dom *d)
{
	return d->self_stop != VMM_REASON_NONE && d->state == VMM_STATE_RUNNING;
}

/* When d acts next (a request or stop=), or 0: never. */
static uint64_t next_due(const struct sim_dom *d)
{
	uint64_t due = 0;

	if (acts_on_request(d))
		due = d->due_ms ? d->due_ms : 1;
	if (stops_itself(d) && (!due || d->self_due < due))
		due = d->self_due ? d->self_due : 1;
	return due;
}

static void arm_timer_locked(struct sim *s)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	uint64_t due = 0;
	size_t i;

	if (s->tfd < 0)
		return;
	for (i = 0; i < s->nr_doms; i++) {
		struct sim_dom *d = s->doms[i];

		if (next_due(d) && (!due || next_due(d) < due))
			due = next_due(d);
	}
	if (due) {
		its.it_value.tv_sec = due / 1000;
		its.it_value.tv_nsec = (long)(due % 1000) * 1000000;
	}
	timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- events and console ---- */

void sim_drain(int fd)
{
	uint64_t n;
	ssize_t r;

	if (fd >= 0)
		do
			r = read(fd, &n, sizeof(n));
		while (r < 0 && errno == EINTR);
}

void sim_queue_event_locked(struct sim *s, enum vmm_event_type type,
			       const struct sim_dom *d)
{
	struct vmm_event *ev;
	uint64_t one = 1;
	ssize_t r;

	if (s->nr_ev == s->cap_ev) {
		s->cap_ev = s->cap_ev ? 2 * s->cap_ev : 16;
		s->evq = realloc(s->evq, s->cap_ev * sizeof(*s->evq));
		if (!s->evq)
			abort();
	}
	ev = &s->evq[s->nr_ev++];
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->domid = d->domid;
	memcpy(ev->uuid, d->uuid, sizeof(ev->uuid));
	ev->state = type == VMM_EVENT_DIED ? VMM_STATE_DYING : d->state;
	ev->reason = d->reason;
	if (s->nr_ev == 1) {
		r = write(s->evfd, &one, sizeof(one));
		(void)r;        /* EAGAIN: the counter is already non-zero */
	}
}

void sim_console_add_locked(struct sim *s, struct sim_dom *d,
			       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&d->console, fmt, ap);
	va_end(ap);
	buf_addc(&d->console, '\n');
	sim_console_added_locked(s, d);
}

void sim_console_added_locked(struct sim *s, struct sim_dom *d)
{
	if (d->console.len > s->console_max)
		buf_consume(&d->console, d->console.len - s->console_max);
	if (!d->console_queued) {
		d->console_queued = true;
		sim_queue_event_locked(s, VMM_EVENT_CONSOLE, d);
	}
}

int sim_persist_locked(struct sim *s, char *err, size_t errlen)
{
	if (!s->state_path)
		return 0;
	if (s->fail_in[SIM_OP_PERSIST] && --s->fail_in[SIM_OP_PERSIST] == 0)
		return vmm_seterr(err, errlen, -EIO,
				  "sim: injected failure writing %s",
				  s->state_path);
	return sim_state_save(s, err, errlen);
}

/* ---- domains ---- */

struct sim_dom *sim_dom_new(void)
{
	struct sim_dom *d = calloc(1, sizeof(*d));

	if (!d)
		abort();
	d->pending = SIM_NO_REQ;
	d->cooperative = true;
	buf_init(&d->console);
	return d;
}

void sim_dom_free(struct sim_dom *d)
{
	if (!d)
		return;
	buf_free(&d->console);
	free(d);
}

struct sim_dom *sim_find_locked(struct sim *s, uint32_t domid)
{
	size_t i;

	for (i = 0; i < s->nr_doms; i++)
		if (s->doms[i]->domid == domid)
			return s->doms[i];
	return NULL;
}

struct sim_dom *sim_find_uuid_locked(struct sim *s, const char *uuid)
{
	size_t i;

	for (i = 0; i < s->nr_doms; i++)
		if (!strcasecmp(s->doms[i]->uuid, uuid))
			return s->doms[i];
	return NULL;
}

/* Keeps s->doms sorted by domid.  -EEXIST if the domid is taken. */
int sim_insert_locked(struct sim *s, struct sim_dom *d)
{
	size_t i;

	if (sim_find_locked(s, d->domid))
		return -EEXIST;
	if (s->nr_doms == s->cap_doms) {
		s->cap_doms = s->cap_doms ? 2 * s->cap_doms : 8;
		s->doms = realloc(s->doms, s->cap_doms * sizeof(*s->doms));
		if (!s->doms)
			abort();
	}
	for (i = s->nr_doms; i > 0 && s->doms[i - 1]->domid > d->domid; i--)
		s->doms[i] = s->doms[i - 1];
	s->doms[i] = d;
	s->nr_doms++;
	return 0;
}

void sim_remove_locked(struct sim *s, struct sim_dom *d)
{
	size_t i;

	for (i = 0; i < s->nr_doms; i++)
		if (s->doms[i] == d)
			break;
	if (i == s->nr_doms)
		return;
	memmove(&s->doms[i], &s->doms[i + 1],
		(s->nr_doms - i - 1) * sizeof(*s->doms));
	s->nr_doms--;
}

static uint64_t used_memory_locked(struct sim *s)
{
	uint64_t used = 0;
	size_t i;

	for (i = 0; i < s->nr_doms; i++)
		used += s->doms[i]->mem_actual;
	return used;
}

uint64_t sim_free_memory_locked(struct sim *s)
{
	uint64_t used = used_memory_locked(s);

	return used < s->mem_total ? s->mem_total - used : 0;
}

struct sim_dom *sim_dom0_new(struct sim *s)
{
	struct sim_dom *d = sim_dom_new();

	d->domid = 0;
	strcpy(d->uuid, DOM0_UUID);
	strcpy(d->name, "Domain-0");
	d->type = VMM_TYPE_PV;
	d->state = VMM_STATE_RUNNING;
	d->booted = true;
	d->delay_ms = s->delay_ms;
	d->mem_max = d->mem_target = d->mem_actual = s->dom0_mem;
	d->vcpus_max = d->vcpus_online = 1;
	return d;
}

/* ---- the guest's side ---- */

static void dom_shutdown_locked(struct sim *s, struct sim_dom *d,
				enum vmm_shutdown_reason why)
{
	d->state = VMM_STATE_SHUTDOWN;
	d->reason = why;
	d->pending = SIM_NO_REQ;
	d->self_stop = VMM_REASON_NONE;
	sim_queue_event_locked(s, VMM_EVENT_CHANGED, d);
	sim_persist_locked(s, NULL, 0);
}

/* The guest acts on its pending shutdown request. */
static void honour_request_locked(struct sim *s, struct sim_dom *d)
{
	switch (d->pending) {
	case VMM_REQ_REBOOT:
		sim_console_add_locked(s, d, "sim: %s rebooting", d->name);
		dom_shutdown_locked(s, d, VMM_REASON_REBOOT);
		break;
	case VMM_REQ_HALT:
		sim_console_add_locked(s, d, "sim: %s halting", d->name);
		dom_shutdown_locked(s, d, VMM_REASON_POWEROFF);
		break;
	default:
		sim_console_add_locked(s, d, "sim: %s powering off", d->name);
		dom_shutdown_locked(s, d, VMM_REASON_POWEROFF);
		break;
	}
}

static const char *self_stop_what(enum vmm_shutdown_reason r)
{
	switch (r) {
	case VMM_REASON_REBOOT: return "rebooting";
	case VMM_REASON_CRASH: return "crashed";
	case VMM_REASON_WATCHDOG: return "stopped by its watchdog";
	default: return "powering off";
	}
}

/* Processes whatever falls due up to s->now_ms, in time order (ties by
 * domid), integrating the counters on the way. */
void sim_run_due_locked(struct sim *s)
{
	struct sim_dom *next;
	size_t i;

	for (;;) {
		next = NULL;
		for (i = 0; i < s->nr_doms; i++) {
			struct sim_dom *d = s->doms[i];

			if (next_due(d) && next_due(d) <= s->now_ms &&
			    (!next || next_due(d) < next_due(next)))
				next = d;
		}
		if (!next)
			break;
		settle_locked(s, next_due(next));
		if (stops_itself(next) && next_due(next) == (next->self_due ? next->self_due : 1))
			sim_guest_shutdown_locked(s, next, next->self_stop,
						  self_stop_what(next->self_stop));
		else
			honour_request_locked(s, next);
	}
	settle_locked(s, s->now_ms);
	arm_timer_locked(s);
}

void sim_sync_locked(struct sim *s)
{
	uint64_t now;

	if (s->real_clock) {
		now = sim_mono_ms();
		if (now > s->now_ms)
			s->now_ms = now;
	}
	sim_run_due_locked(s);
}

int sim_advance_locked(struct sim *s, uint64_t ms)
{
	if (s->real_clock)
		return -EINVAL;
	s->now_ms += ms;
	sim_run_due_locked(s);
	return 0;
}

int sim_guest_shutdown_locked(struct sim *s, struct sim_dom *d,
			      enum vmm_shutdown_reason why, const char *what)
{
	if (d->domid == 0)
		return -EPERM;
	if (d->state != VMM_STATE_RUNNING && d->state != VMM_STATE_PAUSED)
		return -EBUSY;
	sim_console_add_locked(s, d, "sim: %s %s", d->name, what);
	dom_shutdown_locked(s, d, why);
	arm_timer_locked(s);
	return 0;
}

void sim_set_behaviour_locked(struct sim *s, struct sim_dom *d,
			      bool cooperative, uint64_t delay_ms)
{
	/* A request ignored so far is read afresh by a guest that now cares. */
	if (cooperative && !d->cooperative && d->pending != SIM_NO_REQ)
		d->due_ms = s->now_ms + delay_ms;
	d->cooperative = cooperative;
	d->delay_ms = delay_ms;
	sim_persist_locked(s, NULL, 0);
	sim_run_due_locked(s);
}

/* ---- reading ---- */

void sim_fill_info(const struct sim_dom *d, struct vmm_domain_info *out)
{
	memset(out, 0, sizeof(*out));
	out->domid = d->domid;
	memcpy(out->uuid, d->uuid, sizeof(out->uuid));
	memcpy(out->name, d->name, sizeof(out->name));
	out->type = d->type;
	out->state = d->state;
	out->reason = d->reason;
	out->mem_actual = d->mem_actual;
	out->mem_target = d->mem_target;
	out->mem_max = d->mem_max;
	out->vcpus_max = d->vcpus_max;
	out->vcpus_online = d->vcpus_online;
	out->cpu_time_ns = dom_cpu_ns(d);
}

void sim_fill_stats(const struct sim_dom *d, struct vmm_domain_stats *out)
{
	unsigned i;

	memset(out, 0, sizeof(*out));
	out->domid = d->domid;
	out->nr_vcpus = d->vcpus_max;
	for (i = 0; i < d->vcpus_max; i++) {
		out->vcpu_time_ns[i] = vcpu_ns(d, i);
		out->vcpu_online[i] = i < d->vcpus_online;
		out->cpu_time_ns += out->vcpu_time_ns[i];
	}
	out->nr_vifs = d->nr_vifs;
	for (i = 0; i < d->nr_vifs; i++) {
		struct vmm_vif_stats *f = &out->vifs[i];
		uint32_t dev = d->vif_devid[i];

		f->devid = dev;
		f->rx_bytes = d->run_ms * 64 * dev_rate(d->domid, dev, 1);
		f->tx_bytes = d->run_ms * 64 * dev_rate(d->domid, dev, 2);
		f->rx_packets = f->rx_bytes / 512;
		f->tx_packets = f->tx_bytes / 512;
	}
	out->nr_vbds = d->nr_vbds;
	for (i = 0; i < d->nr_vbds; i++) {
		struct vmm_vbd_stats *b = &out->vbds[i];
		uint32_t dev = name_hash(d->vbd_vdev[i]);

		memcpy(b->vdev, d->vbd_vdev[i], sizeof(b->vdev));
		b->rd_bytes = d->run_ms * 512 * dev_rate(d->domid, dev, 3);
		b->wr_bytes = d->run_ms * 512 * dev_rate(d->domid, dev, 4);
		b->rd_reqs = b->rd_bytes / 4096;
		b->wr_reqs = b->wr_bytes / 4096;
	}
}
