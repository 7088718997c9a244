/* Domain records and change notification for the Xen backend.
 *
 * One epoll fd (event_fd) holds: an eventfd our own ops poke after
 * changing a domain, the fd of a xenstore handle used only for watches
 * (@introduceDomain, @releaseDomain, and each domain's console/tty), and
 * the guests' console ptys.  handle_events drains them all, then diffs
 * Xen's domain list against the states last reported (one hypercall per
 * 256 domains) and reports APPEARED, CHANGED and DIED; CONSOLE follows
 * for domains with new output.  Running and blocked count as one state
 * for CHANGED: a guest flips between them all the time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/xen_priv.h"

/* ---- records ---- */

/* Index of domid in x->doms, or of where it would go: O(log n). */
static size_t dom_index_locked(struct xen *x, uint32_t domid)
{
	size_t lo = 0, hi = x->nr_doms, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (x->doms[mid]->domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct xen_dom *xen_dom_find_locked(struct xen *x, uint32_t domid)
{
	size_t i = dom_index_locked(x, domid);

	return i < x->nr_doms && x->doms[i]->domid == domid ? x->doms[i] : NULL;
}

static struct xen_dom *dom_new(uint32_t domid, const xen_domain_handle_t h)
{
	struct xen_dom *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->domid = domid;
	memcpy(d->handle, h, sizeof(d->handle));
	d->tty_fd = -1;
	return d;
}

void xen_dom_free(struct xen_dom *d)
{
	unsigned i;

	if (!d)
		return;
	for (i = 0; i < d->nr_loops; i++)
		if (d->loop_fd[i] >= 0)
			close(d->loop_fd[i]);
	if (d->tty_fd >= 0)
		close(d->tty_fd);
	free(d);
}

static int grow(struct xen_dom ***v, size_t n, size_t *cap)
{
	struct xen_dom **p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	p = realloc(*v, c * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

/* Returns the record of (domid, handle), creating it; NULL when out of
 * memory or when domid has a record of another incarnation (the event
 * loop retires that one first).  O(n) for the insertion. */
struct xen_dom *xen_dom_add_locked(struct xen *x, uint32_t domid,
				   const xen_domain_handle_t handle)
{
	size_t i = dom_index_locked(x, domid);
	struct xen_dom *d;

	if (i < x->nr_doms && x->doms[i]->domid == domid)
		return memcmp(x->doms[i]->handle, handle,
			      sizeof(xen_domain_handle_t)) ? NULL : x->doms[i];
	if (grow(&x->doms, x->nr_doms, &x->cap_doms))
		return NULL;
	d = dom_new(domid, handle);
	if (!d)
		return NULL;
	d->born = x->gen;
	memmove(&x->doms[i + 1], &x->doms[i],
		(x->nr_doms - i) * sizeof(*x->doms));
	x->doms[i] = d;
	x->nr_doms++;
	return d;
}

/* Moves d from the live records to the graves: O(n). */
static void retire_locked(struct xen *x, struct xen_dom *d)
{
	size_t i = dom_index_locked(x, d->domid);

	if (i >= x->nr_doms || x->doms[i] != d)
		return;
	memmove(&x->doms[i], &x->doms[i + 1],
		(x->nr_doms - i - 1) * sizeof(*x->doms));
	x->nr_doms--;
	d->dead = true;
	/* its last words stay readable until the next round */
	xen_console_flush_locked(x, d);
	xen_console_close_locked(x, d);
	if (grow(&x->graves, x->nr_graves, &x->cap_graves)) {
		xen_console_close_locked(x, d);
		xen_dom_free(d);
		return;
	}
	x->graves[x->nr_graves++] = d;
}

/* What xenstore says of a domain, read without the lock. */
struct xs_facts {
	uint32_t domid;
	bool named;
	char name[VMM_NAME_MAX];
	uint64_t target_kib, static_max_kib;
};

static void read_facts(struct xen *x, struct xs_facts *f)
{
	char path[XEN_PATH_MAX];

	snprintf(path, sizeof(path), "/local/domain/%u/name", f->domid);
	f->named = xen_xs_read(x->xsh, path, f->name, sizeof(f->name));
	snprintf(path, sizeof(path), "/local/domain/%u/memory/target",
		 f->domid);
	if (!xen_xs_read_u64(x->xsh, path, &f->target_kib))
		f->target_kib = 0;
	snprintf(path, sizeof(path), "/local/domain/%u/memory/static-max",
		 f->domid);
	if (!xen_xs_read_u64(x->xsh, path, &f->static_max_kib))
		f->static_max_kib = 0;
}

void xen_dom_refresh(struct xen *x, const xc_domaininfo_t *di, size_t n)
{
	struct xs_facts *f;
	struct xen_dom *d;
	size_t i, nf = 0;

	f = calloc(n ? n : 1, sizeof(*f));
	if (!f)
		return;
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < n; i++) {
		d = xen_dom_add_locked(x, di[i].domain, di[i].handle);
		if (d && !d->named)
			f[nf++].domid = di[i].domain;
	}
	pthread_mutex_unlock(&x->lock);
	for (i = 0; i < nf; i++)
		read_facts(x, &f[i]);
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < nf; i++) {
		d = xen_dom_find_locked(x, f[i].domid);
		if (!d || d->named || !f[i].named)
			continue;
		d->named = true;
		snprintf(d->name, sizeof(d->name), "%s", f[i].name);
		d->target_kib = f[i].target_kib;
		d->static_max_kib = f[i].static_max_kib;
	}
	pthread_mutex_unlock(&x->lock);
	free(f);
}

/* ---- the diff ---- */

struct evq {
	struct vmm_event *ev;
	size_t n, cap;
};

static void push(struct evq *q, enum vmm_event_type type,
		 const struct xen_dom *d)
{
	struct vmm_event *p;

	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		p = realloc(q->ev, q->cap * sizeof(*p));
		if (!p) {
			q->cap = q->n;
			return;         /* events are hints: drop */
		}
		q->ev = p;
	}
	p = &q->ev[q->n++];
	memset(p, 0, sizeof(*p));
	p->type = type;
	p->domid = d->domid;
	xen_uuid_fmt(d->handle, p->uuid);
	p->state = d->state;
	p->reason = d->reason;
}

static int coarse(enum vmm_state s)
{
	return s == VMM_STATE_BLOCKED ? VMM_STATE_RUNNING : s;
}

/* Domids whose console watch must be added (born) or removed (died). */
struct watch_todo {
	uint32_t *born, *died;
	size_t nr_born, nr_died;
	struct xen_dom **reap;  /* ours and gone: xenstore to clean */
	size_t nr_reap;
};

/* One domain in Xen's list against its record.  O(log n). */
static void diff_one_locked(struct xen *x, const xc_domaininfo_t *di,
			    struct evq *q, struct watch_todo *w)
{
	enum vmm_shutdown_reason reason;
	enum vmm_state st = xen_state_of(di, &reason);
	struct xen_dom *d = xen_dom_find_locked(x, di->domain);

	if (d && memcmp(d->handle, di->handle, sizeof(d->handle))) {
		/* domid reused: the old incarnation is gone */
		d->state = VMM_STATE_DYING;
		push(q, VMM_EVENT_DIED, d);
		w->died[w->nr_died++] = d->domid;
		retire_locked(x, d);
		d = NULL;
	}
	if (!d)
		d = xen_dom_add_locked(x, di->domain, di->handle);
	if (!d)
		return;
	d->type = (di->flags & XEN_DOMINF_hvm_guest) ? VMM_TYPE_PVH :
		  VMM_TYPE_PV;
	if (!d->reported) {
		d->reported = true;
		d->state = st;
		d->reason = reason;
		push(q, VMM_EVENT_APPEARED, d);
		if (d->domid && !d->tty_watched)
			w->born[w->nr_born++] = d->domid;
		return;
	}
	if (coarse(st) != coarse(d->state) || reason != d->reason) {
		d->state = st;
		d->reason = reason;
		push(q, VMM_EVENT_CHANGED, d);
	}
	d->state = st;
}

/* Records whose domain is not in di[] (sorted like x->doms) died, unless
 * the record is younger than the list (a create in another thread may
 * have made it since: snap is x->gen from before the hypercall).  O(n). */
static void diff_gone_locked(struct xen *x, const xc_domaininfo_t *di,
			     size_t n, uint64_t snap, struct evq *q,
			     struct watch_todo *w)
{
	size_t i = 0, j = 0;
	struct xen_dom *d;

	while (i < x->nr_doms) {
		d = x->doms[i];
		while (j < n && di[j].domain < d->domid)
			j++;
		if ((j < n && di[j].domain == d->domid) || d->born >= snap) {
			i++;
			continue;
		}
		d->state = VMM_STATE_DYING;
		if (d->reported)
			push(q, VMM_EVENT_DIED, d);
		if (d->tty_watched)
			w->died[w->nr_died++] = d->domid;
		if (d->ours)
			w->reap[w->nr_reap++] = d;
		retire_locked(x, d);    /* x->doms[i] is the next one now */
	}
}

static void console_events_locked(struct xen *x, struct evq *q)
{
	size_t i;

	for (i = 0; i < x->nr_doms; i++)
		if (x->doms[i]->console_pending) {
			x->doms[i]->console_pending = false;
			push(q, VMM_EVENT_CONSOLE, x->doms[i]);
		}
	for (i = 0; i < x->nr_graves; i++)
		if (x->graves[i]->console_pending) {
			x->graves[i]->console_pending = false;
			push(q, VMM_EVENT_CONSOLE, x->graves[i]);
		}
}

/* Frees the records that died the round before: O(graves). */
static void bury_locked(struct xen *x)
{
	size_t i;

	for (i = 0; i < x->nr_graves; i++) {
		xen_console_close_locked(x, x->graves[i]);
		xen_dom_free(x->graves[i]);
	}
	x->nr_graves = 0;
}

/* A domain of ours went away without our destroy (another toolstack, or
 * a failed build): its xenstore nodes and loop devices are ours to
 * clean.  Its record sits in the graves; only this thread frees them. */
static void reap(struct xen *x, struct xen_dom *d)
{
	unsigned i;

	xen_teardown(x, d->domid, 0, NULL, 0);
	pthread_mutex_lock(&x->lock);
	for (i = 0; i < d->nr_loops; i++)
		if (d->loop_fd[i] >= 0)
			close(d->loop_fd[i]);
	d->nr_loops = 0;
	pthread_mutex_unlock(&x->lock);
}

static int diff(struct xen *x, struct evq *q, bool initial)
{
	struct watch_todo w = { 0 };
	xc_domaininfo_t *di = NULL;
	size_t n = 0, i;
	uint64_t snap;
	int rc;

	pthread_mutex_lock(&x->lock);
	snap = ++x->gen;
	pthread_mutex_unlock(&x->lock);
	rc = xen_getinfo_all(x, &di, &n);
	if (rc)
		return rc;
	xen_dom_refresh(x, di, n);
	w.born = calloc(n + 1, sizeof(*w.born));
	pthread_mutex_lock(&x->lock);
	w.died = calloc(x->nr_doms + n + 1, sizeof(*w.died));
	w.reap = calloc(x->nr_doms + 1, sizeof(*w.reap));
	if (!w.born || !w.died || !w.reap) {
		pthread_mutex_unlock(&x->lock);
		rc = -ENOMEM;
		goto out;
	}
	bury_locked(x);
	diff_gone_locked(x, di, n, snap, q, &w);
	for (i = 0; i < n; i++)
		diff_one_locked(x, &di[i], q, &w);
	console_events_locked(x, q);
	pthread_mutex_unlock(&x->lock);
	if (initial)
		q->n = 0;       /* nothing is reported for what existed */
	for (i = 0; i < w.nr_died; i++)
		xen_console_watch(x, w.died[i], false);
	for (i = 0; i < w.nr_reap; i++)
		reap(x, w.reap[i]);
	for (i = 0; i < w.nr_born; i++)
		xen_console_watch(x, w.born[i], true);
out:
	free(w.born);
	free(w.died);
	free(w.reap);
	free(di);
	return rc;
}

/* ---- the fds ---- */

static void drain_kick(struct xen *x)
{
	uint64_t v;

	while (read(x->kickfd, &v, sizeof(v)) > 0)
		;
}

/* Every fired watch: console/tty ones act at once.  Returns -EIO when
 * the xenstore connection is gone. */
static int drain_watches(struct xen *x)
{
	unsigned long domid;
	char **vec;

	while ((vec = xs_check_watch(x->xsw))) {
		if (!strcmp(vec[XS_WATCH_TOKEN], XEN_TOKEN_TTY) &&
		    sscanf(vec[XS_WATCH_PATH], "/local/domain/%lu/", &domid) == 1)
			xen_console_tty_changed(x, (uint32_t)domid);
		free(vec);
	}
	return errno == EAGAIN ? 0 : -EIO;
}

static int drain_fds(struct xen *x)
{
	struct epoll_event ev[32];
	int n, i, rc = 0;

	do {
		n = epoll_wait(x->epfd, ev, 32, 0);
		for (i = 0; i < n; i++) {
			switch (ev[i].data.u64 >> 32) {
			case XEN_TAG_KICK:
				drain_kick(x);
				break;
			case XEN_TAG_WATCH:
				if (drain_watches(x))
					rc = -EIO;
				break;
			case XEN_TAG_TTY:
				xen_console_readable(x,
					(uint32_t)(ev[i].data.u64 & 0xffffffff));
				break;
			}
		}
	} while (n == 32 && !rc);
	return rc;
}

int xen_event_fd(struct vmm *v)
{
	return to_xen(v)->epfd;
}

int xen_handle_events(struct vmm *v, vmm_event_cb *cb, void *opaque)
{
	struct xen *x = to_xen(v);
	struct evq q = { 0 };
	size_t i;
	int rc;

	rc = drain_fds(x);
	if (rc && !x->watch_failed) {
		/* xenstored went away: stop polling its fd (it would spin);
		 * our own ops still wake the loop. */
		log_err("xen: the xenstore watch connection failed; domain"
			" changes made by guests go unnoticed");
		epoll_ctl(x->epfd, EPOLL_CTL_DEL, xs_fileno(x->xsw), NULL);
		x->watch_failed = true;
	}
	rc = diff(x, &q, false);
	for (i = 0; i < q.n; i++)
		cb(opaque, &q.ev[i]);
	free(q.ev);
	return rc ? rc : (int)q.n;
}

static int epoll_add(struct xen *x, int fd, enum xen_tag tag)
{
	struct epoll_event ev = {
		.events = EPOLLIN,
		.data.u64 = (uint64_t)tag << 32,
	};

	return epoll_ctl(x->epfd, EPOLL_CTL_ADD, fd, &ev);
}

int xen_events_open(struct xen *x, char *err, size_t errlen)
{
	struct evq q = { 0 };
	int fd, rc;

	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	x->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (x->epfd < 0 || x->kickfd < 0 ||
	    epoll_add(x, x->kickfd, XEN_TAG_KICK))
		return vmm_seterr(err, errlen, -errno, "event fds: %s",
				  strerror(errno));
	/* The watch fd signals only with a threaded libxenstore (see
	 * package/xen/xen.mk, CFLAGS_xs.o=-DUSE_PTHREAD). */
	fd = xs_fileno(x->xsw);
	if (fd < 0 || epoll_add(x, fd, XEN_TAG_WATCH))
		return vmm_seterr(err, errlen, -errno ? -errno : -EIO,
				  "xenstore watch fd: %s", strerror(errno));
	if (!xs_watch(x->xsw, "@introduceDomain", XEN_TOKEN_DOMAINS) ||
	    !xs_watch(x->xsw, "@releaseDomain", XEN_TOKEN_DOMAINS))
		return vmm_seterr(err, errlen, -EIO, "xenstore watch: %s",
				  strerror(errno));
	rc = diff(x, &q, true);
	free(q.ev);
	if (rc)
		return vmm_seterr(err, errlen, rc, "listing domains: %s",
				  strerror(-rc));
	return 0;
}

void xen_events_close(struct xen *x)
{
	if (x->kickfd >= 0)
		close(x->kickfd);
	if (x->epfd >= 0)
		close(x->epfd);
	x->kickfd = x->epfd = -1;
}
