#include "server/loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/util.h"

struct watch {
	loop_fn *fn;
	void *opaque;
	int mask;
};

static int epfd = -1;
static struct watch *watches;   /* indexed by fd: O(1) dispatch */
static int nwatches;
static volatile int *stop_flag;
static sigset_t sleep_mask;             /* the mask while in epoll_pwait */
static int have_sleep_mask;

static void on_stop_signal(int sig)
{
	(void)sig;
	if (stop_flag)
		*stop_flag = 1;
}

int loop_stop_on_signals(volatile int *stop)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	stop_flag = stop;
	if (sigprocmask(SIG_BLOCK, &s, &sleep_mask) ||
	    sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -1;
	sigdelset(&sleep_mask, SIGTERM);
	sigdelset(&sleep_mask, SIGINT);
	have_sleep_mask = 1;
	return 0;
}

int loop_init(void)
{
	if (epfd >= 0)
		return 0;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -1 : 0;
}

void loop_dispose(void)
{
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
	free(watches);
	watches = NULL;
	nwatches = 0;
}

int loop_watch(int fd, int mask, loop_fn *fn, void *opaque)
{
	struct epoll_event ev = { 0 };
	int op, r;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (fd >= nwatches) {
		int n = nwatches ? nwatches : 64;

		while (n <= fd)
			n *= 2;
		watches = xrealloc(watches, (size_t)n * sizeof(*watches));
		for (int i = nwatches; i < n; i++)
			watches[i].mask = 0;
		nwatches = n;
	}
	if (!mask) {
		loop_unwatch(fd);
		return 0;
	}
	op = watches[fd].mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	ev.events = (mask & LOOP_READ ? EPOLLIN : 0) | (mask & LOOP_WRITE ? EPOLLOUT : 0);
	ev.data.fd = fd;
	r = epoll_ctl(epfd, op, fd, &ev);
	if (r < 0)
		return -1;
	watches[fd].fn = fn;
	watches[fd].opaque = opaque;
	watches[fd].mask = mask;
	return 0;
}

void loop_unwatch(int fd)
{
	if (fd < 0 || fd >= nwatches || !watches[fd].mask)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	watches[fd].mask = 0;
}

void loop_run(int64_t (*before_sleep)(void), volatile int *stop)
{
	struct epoll_event evs[64];

	while (!*stop) {
		int64_t ms = before_sleep ? before_sleep() : -1;
		/* the stop signals are let in only while waiting: one that came
		 * after the check of *stop is pending and ends the wait at once */
		int n = epoll_pwait(epfd, evs, 64, ms > 1000000 ? 1000000 : (int)ms,
				    have_sleep_mask ? &sleep_mask : NULL);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd, m = 0;

			if (fd >= nwatches || !watches[fd].mask)
				continue;       /* closed by an earlier callback */
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				m |= LOOP_READ;
			if (evs[i].events & (EPOLLOUT | EPOLLERR))
				m |= LOOP_WRITE;
			watches[fd].fn(fd, m & (watches[fd].mask | LOOP_READ), watches[fd].opaque);
		}
	}
}
