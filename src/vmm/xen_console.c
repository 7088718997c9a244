/* Guest consoles for the Xen backend.
 *
 * xenconsoled maps each guest's console ring and gives it a pty, whose
 * slave path it writes to /local/domain/N/console/tty.  We watch that
 * node (token "T" on the watch handle), open the slave non-blocking and
 * read it from the event loop into a bounded per-domain ring (oldest
 * bytes dropped); console_read drains the ring.  xenconsoled keeps the
 * slave open itself and sets it raw, so our open and close never disturb
 * it.  Only one reader can share a pty sensibly: `xl console` on the same
 * guest would steal output from us. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <termios.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/xen_priv.h"

/* ---- the ring ---- */

static void ring_put(struct xen_ring *r, const char *p, size_t n)
{
	size_t tail, chunk;

	if (n >= sizeof(r->data)) {     /* keep the newest only */
		p += n - sizeof(r->data);
		n = sizeof(r->data);
	}
	if (r->len + n > sizeof(r->data)) {
		size_t drop = r->len + n - sizeof(r->data);

		r->head = (r->head + drop) % sizeof(r->data);
		r->len -= drop;
	}
	while (n) {
		tail = (r->head + r->len) % sizeof(r->data);
		chunk = sizeof(r->data) - tail;
		if (chunk > n)
			chunk = n;
		memcpy(r->data + tail, p, chunk);
		r->len += chunk;
		p += chunk;
		n -= chunk;
	}
}

static size_t ring_get(struct xen_ring *r, char *p, size_t n)
{
	size_t got = 0, chunk;

	while (n && r->len) {
		chunk = sizeof(r->data) - r->head;
		if (chunk > r->len)
			chunk = r->len;
		if (chunk > n)
			chunk = n;
		memcpy(p, r->data + r->head, chunk);
		r->head = (r->head + chunk) % sizeof(r->data);
		r->len -= chunk;
		p += chunk;
		n -= chunk;
		got += chunk;
	}
	return got;
}

/* ---- the pty ---- */

void xen_console_close_locked(struct xen *x, struct xen_dom *d)
{
	if (d->tty_fd < 0)
		return;
	epoll_ctl(x->epfd, EPOLL_CTL_DEL, d->tty_fd, NULL);
	close(d->tty_fd);
	d->tty_fd = -1;
	d->tty_path[0] = 0;
}

void xen_console_watch(struct xen *x, uint32_t domid, bool on)
{
	char path[XEN_PATH_MAX];
	struct xen_dom *d;
	bool ok;

	snprintf(path, sizeof(path), "/local/domain/%u/console/tty", domid);
	ok = on ? xs_watch(x->xsw, path, XEN_TOKEN_TTY) :
	     xs_unwatch(x->xsw, path, XEN_TOKEN_TTY);
	if (!ok && on)
		log_warn("xen: watching %s: %s", path, strerror(errno));
	pthread_mutex_lock(&x->lock);
	d = xen_dom_find_locked(x, domid);
	if (d)
		d->tty_watched = on && ok;
	pthread_mutex_unlock(&x->lock);
}

static int open_tty(const char *path)
{
	struct termios t;
	int fd;

	if (strncmp(path, "/dev/", 5))
		return -EINVAL;         /* only device nodes, whatever is written */
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!isatty(fd)) {
		close(fd);
		return -ENOTTY;
	}
	/* xenconsoled made it raw; no echo back to the guest, whatever. */
	if (!tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

/* console/tty changed (or the watch was set): (re)open the pty. */
void xen_console_tty_changed(struct xen *x, uint32_t domid)
{
	char path[XEN_PATH_MAX], tty[64] = "";
	struct epoll_event ev = { .events = EPOLLIN };
	struct xen_dom *d;
	int fd = -1;

	snprintf(path, sizeof(path), "/local/domain/%u/console/tty", domid);
	if (!xen_xs_read(x->xsh, path, tty, sizeof(tty)))
		tty[0] = 0;
	pthread_mutex_lock(&x->lock);
	d = xen_dom_find_locked(x, domid);
	if (!d || (d->tty_fd >= 0 && !strcmp(d->tty_path, tty))) {
		pthread_mutex_unlock(&x->lock);
		return;
	}
	xen_console_close_locked(x, d);
	pthread_mutex_unlock(&x->lock);
	if (!*tty)
		return;
	fd = open_tty(tty);
	if (fd < 0) {
		log_warn("xen: console of domain %u (%s): %s", domid, tty,
			 strerror(-fd));
		return;
	}
	/* Records leave x->doms in this thread only: d is still there. */
	pthread_mutex_lock(&x->lock);
	ev.data.u64 = (uint64_t)XEN_TAG_TTY << 32 | domid;
	if (epoll_ctl(x->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		log_warn("xen: console of domain %u: epoll: %s", domid,
			 strerror(errno));
		close(fd);
	} else {
		d->tty_fd = fd;
		snprintf(d->tty_path, sizeof(d->tty_path), "%s", tty);
	}
	pthread_mutex_unlock(&x->lock);
}

/* Reads what the pty has (non-blocking, so under the lock), but no more
 * than the ring has room for (at least a chunk, dropping the oldest): a
 * reader that drains on every CONSOLE event loses nothing; the rest waits
 * in the pty and xenconsoled for the next round.  A hung up pty (EIO:
 * xenconsoled let go of the domain) is closed. */
void xen_console_flush_locked(struct xen *x, struct xen_dom *d)
{
	size_t room = sizeof(d->console.data) - d->console.len;
	char buf[4096];
	ssize_t r;

	if (room < sizeof(buf))
		room = sizeof(buf);
	while (d->tty_fd >= 0 && room) {
		r = read(d->tty_fd, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (r > 0) {
			ring_put(&d->console, buf, (size_t)r);
			d->console_pending = true;
			room -= (size_t)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		xen_console_close_locked(x, d);
	}
}

void xen_console_readable(struct xen *x, uint32_t domid)
{
	struct xen_dom *d;

	pthread_mutex_lock(&x->lock);
	d = xen_dom_find_locked(x, domid);
	if (d)
		xen_console_flush_locked(x, d);
	pthread_mutex_unlock(&x->lock);
}

ssize_t xen_console_read(struct vmm *v, uint32_t domid, char *buf, size_t len)
{
	struct xen *x = to_xen(v);
	xc_domaininfo_t di;
	struct xen_dom *d;
	size_t i;
	ssize_t n = -ENOENT;

	pthread_mutex_lock(&x->lock);
	d = xen_dom_find_locked(x, domid);
	for (i = 0; !d && i < x->nr_graves; i++)
		if (x->graves[i]->domid == domid)
			d = x->graves[i];
	if (d)
		n = (ssize_t)ring_get(&d->console, buf, len);
	pthread_mutex_unlock(&x->lock);
	if (!d && !xen_getinfo(x, domid, &di))
		n = 0;          /* exists, never listed yet: nothing read */
	return n;
}

/* Keys for the guest: into the pty, non-blocking (a full pty takes fewer
 * or none: the caller drops the rest, as a serial line would). */
ssize_t xen_console_write(struct vmm *v, uint32_t domid, const char *buf, size_t len)
{
	struct xen *x = to_xen(v);
	struct xen_dom *d;
	ssize_t n = -ENOENT, r;

	pthread_mutex_lock(&x->lock);
	d = xen_dom_find_locked(x, domid);
	if (d) {
		n = 0;
		while (d->tty_fd >= 0 && (size_t)n < len) {
			r = write(d->tty_fd, buf + n, len - (size_t)n);
			if (r > 0)
				n += r;
			else if (r < 0 && errno == EINTR)
				continue;
			else
				break;
		}
	}
	pthread_mutex_unlock(&x->lock);
	return n;
}
