/* The simulated hypervisor: the vmm_ops, open and close, and the hooks of
 * sim.h (which says what is simulated).  sim_model.c holds the model,
 * sim_spec.c parses options and fault specs, sim_state.c reads and writes
 * the state file. */
#include "vmm/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vmm/sim_priv.h"

#define MiB (1024 * 1024ULL)

/* ---- op plumbing ---- */

static int injected_locked(struct sim *s, enum sim_op op,
			   char *err, size_t errlen)
{
	if (!s->fail_in[op] || --s->fail_in[op] > 0)
		return 0;
	return vmm_seterr(err, errlen, -EIO, "sim: injected failure of %s",
			  sim_op_name(op));
}

/* Locks, brings the clock up to date and applies fail=OP. */
static int op_begin(struct sim *s, enum sim_op op, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	sim_sync_locked(s);
	rc = injected_locked(s, op, err, errlen);
	if (rc)
		pthread_mutex_unlock(&s->lock);
	return rc;
}

static int op_end(struct sim *s, int rc)
{
	sim_run_due_locked(s);      /* e.g. a request overdue while paused */
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Finds any domain, dom0 included. */
static int find_dom_locked(struct sim *s, uint32_t domid, struct sim_dom **out,
			   char *err, size_t errlen)
{
	*out = sim_find_locked(s, domid);
	if (!*out)
		return vmm_seterr(err, errlen, -ENOENT, "no domain %u", domid);
	return 0;
}

/* Finds a domain other than dom0 for an op named what. */
static int find_domu_locked(struct sim *s, uint32_t domid, const char *what,
			    struct sim_dom **out, char *err, size_t errlen)
{
	int rc = find_dom_locked(s, domid, out, err, errlen);

	if (rc)
		return rc;
	if (domid == 0)
		return vmm_seterr(err, errlen, -EPERM,
				  "cannot %s domain 0", what);
	return 0;
}

static int require_alive(const struct sim_dom *d, char *err, size_t errlen)
{
	if (d->state == VMM_STATE_SHUTDOWN || d->state == VMM_STATE_DYING)
		return vmm_seterr(err, errlen, -EBUSY,
				  "domain %u is %s (%s)", d->domid,
				  vmm_state_name(d->state),
				  vmm_reason_name(d->reason));
	return 0;
}

/* ---- host ---- */

static int sim_host_info(struct vmm *v, struct vmm_host_info *out,
			 char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	int rc;

	rc = op_begin(s, SIM_OP_HOST, err, errlen);
	if (rc)
		return rc;
	memset(out, 0, sizeof(*out));
	out->nr_cpus = s->nr_cpus;
	out->total_memory = s->mem_total;
	out->free_memory = sim_free_memory_locked(s);
	out->cpu_khz = 2000000;
	snprintf(out->version, sizeof(out->version), "4.17.0-sim");
	snprintf(out->capabilities, sizeof(out->capabilities),
		 "xen-3.0-x86_64 hvm-3.0-x86_64");
	return op_end(s, 0);
}

static int sim_pcpu_times(struct vmm *v, struct vmm_pcpu_time *out,
			  unsigned max, unsigned *nr, char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	unsigned p;
	int rc;

	rc = op_begin(s, SIM_OP_HOST, err, errlen);
	if (rc)
		return rc;
	for (p = 0; p < s->nr_cpus && p < max; p++) {
		out[p].busy_ns = s->pcpu_busy_ns[p];
		out[p].idle_ns = s->pcpu_idle_ns[p];
	}
	*nr = s->nr_cpus;
	return op_end(s, 0);
}

/* ---- create ---- */

static int check_path(const char *what, const char *path,
		      char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return vmm_seterr(err, errlen, -errno, "%s %s: %s", what, path,
				  strerror(errno));
	return 0;
}

static int check_paths(const struct vmm_domain_config *cfg,
		       char *err, size_t errlen)
{
	size_t i;
	int rc;

	rc = check_path("kernel", cfg->kernel, err, errlen);
	if (!rc && cfg->ramdisk && *cfg->ramdisk)
		rc = check_path("ramdisk", cfg->ramdisk, err, errlen);
	for (i = 0; !rc && i < cfg->nr_disks; i++)
		rc = check_path("disk", cfg->disks[i].path, err, errlen);
	return rc;
}

static int alloc_domid_locked(struct sim *s, uint32_t *domid)
{
	uint32_t id = s->next_domid;
	unsigned tries;

	for (tries = 0; tries < SIM_DOMID_MAX; tries++) {
		if (id < 1 || id > SIM_DOMID_MAX)
			id = 1;
		if (!sim_find_locked(s, id)) {
			*domid = id;
			s->next_domid = id + 1;
			return 0;
		}
		id++;
	}
	return -ENOSPC;
}

static const struct sim_guest *guest_of_locked(struct sim *s, const char *uuid)
{
	size_t i;

	for (i = 0; i < s->nr_guests; i++)
		if (!strcasecmp(s->guests[i].uuid, uuid))
			return &s->guests[i];
	return NULL;
}

static void dom_from_config(struct sim *s, struct sim_dom *d,
			    const struct vmm_domain_config *cfg)
{
	const struct sim_guest *g = guest_of_locked(s, cfg->uuid);
	size_t i;

	snprintf(d->uuid, sizeof(d->uuid), "%s", cfg->uuid);
	snprintf(d->name, sizeof(d->name), "%s", cfg->name);
	d->type = cfg->type;
	d->state = VMM_STATE_PAUSED;
	d->reason = VMM_REASON_NONE;
	d->cooperative = g ? g->cooperative : true;
	d->delay_ms = g ? g->delay_ms : s->delay_ms;
	d->mem_max = cfg->mem_static_max;
	d->mem_target = d->mem_actual = cfg->mem_target;
	d->vcpus_max = cfg->vcpus_max;
	d->vcpus_online = cfg->vcpus_online;
	d->nr_vifs = cfg->nr_nics;
	for (i = 0; i < cfg->nr_nics; i++)
		d->vif_devid[i] = cfg->nics[i].devid;
	d->nr_vbds = cfg->nr_disks;
	for (i = 0; i < cfg->nr_disks; i++)
		snprintf(d->vbd_vdev[i], VMM_VDEV_MAX, "%s", cfg->disks[i].vdev);
}

static int sim_create(struct vmm *v, const struct vmm_domain_config *cfg,
		      uint32_t *domid, char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d = NULL, *other;
	uint32_t saved_next;
	uint64_t avail;
	uint64_t slow;
	int rc;

	/* create_delay: the build takes time, as on Xen, without the lock */
	pthread_mutex_lock(&s->lock);
	slow = s->create_ms;
	pthread_mutex_unlock(&s->lock);
	if (slow) {
		struct timespec ts = { (time_t)(slow / 1000), (long)(slow % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	rc = op_begin(s, SIM_OP_CREATE, err, errlen);
	if (rc)
		return rc;
	rc = vmm_config_check(cfg, err, errlen);
	if (rc)
		goto out;
	other = sim_find_uuid_locked(s, cfg->uuid);
	if (other) {
		rc = vmm_seterr(err, errlen, -EEXIST,
				"a domain with uuid %s exists already (domid %u)",
				cfg->uuid, other->domid);
		goto out;
	}
	if (s->check_paths) {
		rc = check_paths(cfg, err, errlen);
		if (rc)
			goto out;
	}
	avail = s->nomem ? 0 : sim_free_memory_locked(s);
	if (cfg->mem_target > avail) {
		rc = vmm_seterr(err, errlen, -ENOMEM,
				"not enough free memory for domain %s: it needs"
				" %llu MiB, the host has %llu MiB free",
				cfg->name,
				(unsigned long long)((cfg->mem_target + MiB - 1) / MiB),
				(unsigned long long)(avail / MiB));
		goto out;
	}
	saved_next = s->next_domid;
	d = sim_dom_new();
	rc = alloc_domid_locked(s, &d->domid);
	if (rc) {
		vmm_seterr(err, errlen, rc, "no free domid");
		goto out;
	}
	dom_from_config(s, d, cfg);
	sim_insert_locked(s, d);
	sim_queue_event_locked(s, VMM_EVENT_APPEARED, d);
	rc = sim_persist_locked(s, err, errlen);
	if (rc) {
		/* Undo: a failed create must leave nothing behind. */
		if (--s->nr_ev == 0)
			sim_drain(s->evfd);
		sim_remove_locked(s, d);
		s->next_domid = saved_next;
		goto out;
	}
	*domid = d->domid;
	d = NULL;
out:
	sim_dom_free(d);
	return op_end(s, rc);
}

/* ---- lifecycle ---- */

static int sim_pause(struct vmm *v, uint32_t domid, char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	int rc;

	rc = op_begin(s, SIM_OP_PAUSE, err, errlen);
	if (rc)
		return rc;
	rc = find_domu_locked(s, domid, "pause", &d, err, errlen);
	if (!rc)
		rc = require_alive(d, err, errlen);
	if (rc || d->state == VMM_STATE_PAUSED)
		goto out;
	d->state = VMM_STATE_PAUSED;
	sim_queue_event_locked(s, VMM_EVENT_CHANGED, d);
	sim_persist_locked(s, NULL, 0);
out:
	return op_end(s, rc);
}

static int sim_unpause(struct vmm *v, uint32_t domid, char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	int rc;

	rc = op_begin(s, SIM_OP_UNPAUSE, err, errlen);
	if (rc)
		return rc;
	rc = find_domu_locked(s, domid, "unpause", &d, err, errlen);
	if (!rc)
		rc = require_alive(d, err, errlen);
	if (rc || d->state == VMM_STATE_RUNNING)
		goto out;
	d->state = VMM_STATE_RUNNING;
	sim_queue_event_locked(s, VMM_EVENT_CHANGED, d);
	if (!d->booted) {
		const struct sim_guest *g = guest_of_locked(s, d->uuid);

		d->booted = true;
		sim_console_add_locked(s, d, "sim: %s booted", d->name);
		if (g && g->stop != VMM_REASON_NONE) {
			d->self_stop = g->stop;
			d->self_due = s->now_ms + g->stop_ms;
		}
	}
	sim_persist_locked(s, NULL, 0);
out:
	return op_end(s, rc);
}

static int sim_destroy(struct vmm *v, uint32_t domid, char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	int rc;

	rc = op_begin(s, SIM_OP_DESTROY, err, errlen);
	if (rc)
		return rc;
	rc = find_domu_locked(s, domid, "destroy", &d, err, errlen);
	if (rc)
		goto out;
	sim_remove_locked(s, d);
	sim_queue_event_locked(s, VMM_EVENT_DIED, d);
	sim_dom_free(d);
	sim_persist_locked(s, NULL, 0);
out:
	return op_end(s, rc);
}

static int sim_shutdown(struct vmm *v, uint32_t domid,
			enum vmm_shutdown_request req, char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	int rc;

	rc = op_begin(s, SIM_OP_SHUTDOWN, err, errlen);
	if (rc)
		return rc;
	rc = find_domu_locked(s, domid, "shut down", &d, err, errlen);
	if (!rc)
		rc = require_alive(d, err, errlen);
	if (rc)
		goto out;
	if (req != VMM_REQ_POWEROFF && req != VMM_REQ_REBOOT &&
	    req != VMM_REQ_HALT) {
		rc = vmm_seterr(err, errlen, -EINVAL,
				"bad shutdown request %d", (int)req);
		goto out;
	}
	d->pending = req;
	d->due_ms = s->now_ms + d->delay_ms;
	sim_persist_locked(s, NULL, 0);
out:
	return op_end(s, rc);
}

static int sim_set_memory_target(struct vmm *v, uint32_t domid, uint64_t bytes,
				 char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	uint64_t avail;
	int rc;

	rc = op_begin(s, SIM_OP_MEMORY, err, errlen);
	if (rc)
		return rc;
	rc = find_dom_locked(s, domid, &d, err, errlen);
	if (rc)
		goto out;
	if (!bytes || bytes > d->mem_max) {
		rc = vmm_seterr(err, errlen, -EINVAL,
				"memory target %llu is not in 1..%llu (static max)",
				(unsigned long long)bytes,
				(unsigned long long)d->mem_max);
		goto out;
	}
	d->mem_target = bytes;
	/* A cooperative guest balloons, up to what the host has free. */
	if (d->cooperative && d->state != VMM_STATE_SHUTDOWN) {
		if (bytes <= d->mem_actual) {
			d->mem_actual = bytes;
		} else {
			avail = sim_free_memory_locked(s);
			d->mem_actual += bytes - d->mem_actual < avail ?
					 bytes - d->mem_actual : avail;
		}
	}
	sim_persist_locked(s, NULL, 0);
out:
	return op_end(s, rc);
}

static int sim_set_vcpus(struct vmm *v, uint32_t domid, unsigned online,
			 char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	int rc;

	rc = op_begin(s, SIM_OP_VCPUS, err, errlen);
	if (rc)
		return rc;
	rc = find_dom_locked(s, domid, &d, err, errlen);
	if (rc)
		goto out;
	if (online < 1 || online > d->vcpus_max) {
		rc = vmm_seterr(err, errlen, -EINVAL,
				"vcpus online %u is not in 1..%u", online,
				d->vcpus_max);
		goto out;
	}
	if (d->cooperative && d->state != VMM_STATE_SHUTDOWN)
		d->vcpus_online = online;
	sim_persist_locked(s, NULL, 0);
out:
	return op_end(s, rc);
}

/* ---- reading ---- */

static int sim_list(struct vmm *v, struct vmm_domain_info **out, size_t *nr,
		    char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	size_t i;
	int rc;

	*out = NULL;
	*nr = 0;
	rc = op_begin(s, SIM_OP_LIST, err, errlen);
	if (rc)
		return rc;
	*out = calloc(s->nr_doms, sizeof(**out));
	if (!*out) {
		rc = vmm_seterr(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < s->nr_doms; i++)
		sim_fill_info(s->doms[i], &(*out)[i]);
	*nr = s->nr_doms;
out:
	return op_end(s, rc);
}

static int sim_info(struct vmm *v, uint32_t domid, struct vmm_domain_info *out,
		    char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	int rc;

	rc = op_begin(s, SIM_OP_INFO, err, errlen);
	if (rc)
		return rc;
	d = sim_find_locked(s, domid);
	if (d)
		sim_fill_info(d, out);
	else
		rc = vmm_seterr(err, errlen, -ENOENT, "no domain %u", domid);
	return op_end(s, rc);
}

static int sim_stats(struct vmm *v, uint32_t domid,
		     struct vmm_domain_stats *out, char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	int rc;

	rc = op_begin(s, SIM_OP_STATS, err, errlen);
	if (rc)
		return rc;
	d = sim_find_locked(s, domid);
	if (d)
		sim_fill_stats(d, out);
	else
		rc = vmm_seterr(err, errlen, -ENOENT, "no domain %u", domid);
	return op_end(s, rc);
}

static ssize_t sim_console_read(struct vmm *v, uint32_t domid, char *buf,
				size_t len)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	ssize_t n = 0;
	int rc;

	rc = op_begin(s, SIM_OP_CONSOLE, NULL, 0);
	if (rc)
		return rc;
	d = sim_find_locked(s, domid);
	if (!d) {
		rc = -ENOENT;
		goto out;
	}
	n = (ssize_t)(len < d->console.len ? len : d->console.len);
	if (n) {
		memcpy(buf, d->console.data, (size_t)n);
		buf_consume(&d->console, (size_t)n);
	}
out:
	op_end(s, 0);
	return rc ? rc : n;
}

/* ---- events ---- */

static int sim_event_fd(struct vmm *v)
{
	return to_sim(v)->epfd;
}

static int sim_handle_events(struct vmm *v, vmm_event_cb *cb, void *opaque)
{
	struct sim *s = to_sim(v);
	struct vmm_event *q;
	size_t i, n;

	pthread_mutex_lock(&s->lock);
	sim_drain(s->evfd);
	sim_drain(s->tfd);
	sim_sync_locked(s);
	q = s->evq;
	n = s->nr_ev;
	s->evq = NULL;
	s->nr_ev = s->cap_ev = 0;
	for (i = 0; i < s->nr_doms; i++)
		s->doms[i]->console_queued = false;
	pthread_mutex_unlock(&s->lock);

	for (i = 0; i < n; i++)
		cb(opaque, &q[i]);
	free(q);
	return (int)n;
}

/* ---- open and close ---- */

static void sim_close(struct vmm *v)
{
	struct sim *s = to_sim(v);
	size_t i;

	if (s->opened) {
		/* Keep the clock and counters for the next open. */
		pthread_mutex_lock(&s->lock);
		sim_sync_locked(s);
		sim_persist_locked(s, NULL, 0);
		pthread_mutex_unlock(&s->lock);
	}
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->tfd >= 0)
		close(s->tfd);
	if (s->evfd >= 0)
		close(s->evfd);
	if (s->epfd >= 0)
		close(s->epfd);
	for (i = 0; i < s->nr_doms; i++)
		sim_dom_free(s->doms[i]);
	free(s->doms);
	free(s->evq);
	free(s->guests);
	free(s->state_dir);
	free(s->state_path);
	free(s->state_tmp);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int open_fds(struct sim *s, char *err, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->epfd < 0 || s->evfd < 0)
		goto fail;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &ev) < 0)
		goto fail;
	if (!s->real_clock)
		return 0;
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tfd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->tfd, &ev) < 0)
		goto fail;
	return 0;
fail:
	return vmm_seterr(err, errlen, -errno, "sim: event fds: %s",
			  strerror(errno));
}

static int open_state_dir(struct sim *s, char *err, size_t errlen)
{
	char *lock_path = NULL;
	int rc = 0;

	if (mkdir(s->state_dir, 0700) < 0 && errno != EEXIST) {
		rc = vmm_seterr(err, errlen, -errno, "sim: creating %s: %s",
				s->state_dir, strerror(errno));
		goto out;
	}
	if (asprintf(&lock_path, "%s/lock", s->state_dir) < 0 ||
	    asprintf(&s->state_path, "%s/domains", s->state_dir) < 0 ||
	    asprintf(&s->state_tmp, "%s/domains.tmp", s->state_dir) < 0)
		abort();
	s->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		rc = vmm_seterr(err, errlen, -errno, "sim: %s: %s", lock_path,
				strerror(errno));
		goto out;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = vmm_seterr(err, errlen, -EBUSY,
				"sim: %s is in use by another sim handle",
				s->state_dir);
		close(s->lock_fd);
		s->lock_fd = -1;
		goto out;
	}
out:
	free(lock_path);
	return rc;
}

/* DIR/name read into buf (flags O_RDONLY; "" when missing) or buf
 * written to it. */
static void sim_file(struct sim *s, const char *name, char *buf, size_t len, int flags)
{
	char path[4096];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", s->state_dir, name);
	fd = open(path, flags | O_CLOEXEC, 0600);
	if (fd >= 0)
		n = flags ? write(fd, buf, strlen(buf)) : read(fd, buf, len - 1);
	if (!flags)
		buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
}

/* A new boot id (the wall clock in ns), saved in DIR/boot_id. */
static void new_boot_locked(struct sim *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(s->boot_id, sizeof(s->boot_id), "%llx",
		 (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec);
	if (!s->state_dir)
		return;
	sim_file(s, "boot_id", s->boot_id, 0, O_WRONLY | O_CREAT | O_TRUNC);
}

static int sim_boot_id(struct vmm *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", to_sim(v)->boot_id);
	return 0;
}

/* The simulated host goes down (reboot or not, the same here): every
 * guest is gone, the next open is a new boot. */
static int sim_host_power(struct vmm *v, int reboot, char *err, size_t errlen)
{
	struct sim *s = to_sim(v);
	int rc;

	rc = op_begin(s, SIM_OP_HOST, err, errlen);
	if (rc)
		return rc;
	while (s->nr_doms > 1) {
		struct sim_dom *d = s->doms[s->nr_doms - 1];

		sim_remove_locked(s, d);
		sim_dom_free(d);
	}
	(void)reboot;
	new_boot_locked(s);
	rc = sim_persist_locked(s, err, errlen);
	return op_end(s, rc ? rc : 1);
}

static int sim_open(const char *opts, struct vmm **out, char *err,
		    size_t errlen)
{
	struct sim *s;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->vmm.ops = &sim_ops;
	s->vmm.restart = VMM_RESTART_DEFAULT;
	pthread_mutex_init(&s->lock, NULL);
	s->lock_fd = s->epfd = s->evfd = s->tfd = -1;
	s->real_clock = true;
	s->mem_total = 8192 * MiB;
	s->dom0_mem = 1024 * MiB;
	s->nr_cpus = 4;
	s->delay_ms = 1000;
	s->console_max = 16384;
	s->next_domid = 1;

	pthread_mutex_lock(&s->lock);
	rc = sim_spec_apply_locked(s, opts, SIM_SPEC_OPEN_CONFIG, err, errlen);
	if (rc)
		goto out;
	if (s->dom0_mem > s->mem_total) {
		rc = vmm_seterr(err, errlen, -EINVAL,
				"sim: dom0_mem is larger than mem");
		goto out;
	}
	rc = open_fds(s, err, errlen);
	if (rc)
		goto out;
	s->now_ms = s->settled_ms = s->real_clock ? sim_mono_ms() : 0;
	if (s->state_dir) {
		rc = open_state_dir(s, err, errlen);
		if (rc)
			goto out;
		rc = sim_state_load(s, err, errlen);
		if (rc == -ENOENT)
			rc = 0;
		if (rc)
			goto out;
	}
	if (!sim_find_locked(s, 0))
		sim_insert_locked(s, sim_dom0_new(s));
	if (s->state_dir)
		sim_file(s, "boot_id", s->boot_id, sizeof(s->boot_id), O_RDONLY);
	if (!*s->boot_id)       /* no DIR, or its first open: a boot */
		new_boot_locked(s);

	rc = sim_spec_apply_locked(s, opts, SIM_SPEC_OPEN_ACTIONS, err, errlen);
	if (rc)
		goto out;
	sim_sync_locked(s);
	rc = sim_persist_locked(s, err, errlen);
	s->opened = !rc;
out:
	pthread_mutex_unlock(&s->lock);
	if (rc) {
		sim_close(&s->vmm);
		return rc;
	}
	*out = &s->vmm;
	return 0;
}

/* The simulated guest echoes what is typed, as a terminal's line
 * discipline would (CR as CR LF), while it runs. */
static ssize_t sim_console_write(struct vmm *v, uint32_t domid, const char *buf,
				 size_t len)
{
	struct sim *s = to_sim(v);
	struct sim_dom *d;
	int rc;

	rc = op_begin(s, SIM_OP_CONSOLE, NULL, 0);
	if (rc)
		return rc;
	d = sim_find_locked(s, domid);
	if (!d) {
		rc = -ENOENT;
		goto out;
	}
	if (d->state != VMM_STATE_RUNNING && d->state != VMM_STATE_BLOCKED) {
		len = 0;        /* a paused or stopped guest reads nothing */
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\r')
			buf_adds(&d->console, "\r\n");
		else
			buf_addc(&d->console, buf[i]);
	if (len)
		sim_console_added_locked(s, d);
out:
	op_end(s, 0);
	return rc ? rc : (ssize_t)len;
}

const struct vmm_ops sim_ops = {
	.name = "sim",
	.close = sim_close,
	.host_info = sim_host_info,
	.pcpu_times = sim_pcpu_times,
	.create = sim_create,
	.pause = sim_pause,
	.unpause = sim_unpause,
	.destroy = sim_destroy,
	.shutdown = sim_shutdown,
	.set_memory_target = sim_set_memory_target,
	.set_vcpus = sim_set_vcpus,
	.list = sim_list,
	.info = sim_info,
	.stats = sim_stats,
	.event_fd = sim_event_fd,
	.handle_events = sim_handle_events,
	.console_read = sim_console_read,
	.console_write = sim_console_write,
	.boot_id = sim_boot_id,
	.host_power = sim_host_power,
};

const struct vmm_backend vmm_backend_sim = {
	.name = "sim",
	.open = sim_open,
};

/* ---- test and debug hooks (sim.h) ---- */

int sim_inject_err(struct vmm *v, const char *spec, char *err, size_t errlen)
{
	struct sim *s;
	int rc;

	if (!v || v->ops != &sim_ops)
		return vmm_seterr(err, errlen, -EOPNOTSUPP,
				  "not a sim backend handle");
	s = to_sim(v);
	pthread_mutex_lock(&s->lock);
	sim_sync_locked(s);
	rc = sim_spec_apply_locked(s, spec, SIM_SPEC_RUNTIME, err, errlen);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int sim_inject(struct vmm *v, const char *spec)
{
	return sim_inject_err(v, spec, NULL, 0);
}

int sim_advance(struct vmm *v, uint64_t ms)
{
	struct sim *s;
	int rc;

	if (!v || v->ops != &sim_ops)
		return -EOPNOTSUPP;
	s = to_sim(v);
	pthread_mutex_lock(&s->lock);
	rc = sim_advance_locked(s, ms);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

uint64_t sim_now_ms(struct vmm *v)
{
	struct sim *s;
	uint64_t now;

	if (!v || v->ops != &sim_ops)
		return 0;
	s = to_sim(v);
	pthread_mutex_lock(&s->lock);
	sim_sync_locked(s);
	now = s->now_ms;
	pthread_mutex_unlock(&s->lock);
	return now;
}
