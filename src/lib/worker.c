/* The worker threads: a queue in per lane, one queue out, an eventfd to
 * wake the loop. */
#include "lib/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct lane {
	pthread_t thread;
	pthread_cond_t wake;
	struct job *todo, **todo_tail, *current;        /* todo: FIFO via its tail */
} lanes[WORKER_LANES];
static int nthreads, stopping, efd = -1;        /* nthreads: lanes started */
static struct job *finished, **finished_tail = &finished;

static void kick(void)
{
	uint64_t one = 1;
	ssize_t r = write(efd, &one, sizeof(one));

	(void)r;        /* a full counter is readable anyway */
}

static void *main_fn(void *arg)
{
	struct lane *l = arg;
	struct job *j;

	/* CPU work (password hashes) yields to the loop thread and to the
	 * builds: 10 nicer than they are (Linux's nice value is per thread,
	 * who 0: this one), relative, so that a daemon started niced (a
	 * supervisor's nice 10) still ranks its hashes below its builds. */
	if (l == &lanes[WORKER_CPU]) {
		errno = 0;
		int base = getpriority(PRIO_PROCESS, 0);        /* -1 is a value */

		if (!errno)
			(void)setpriority(PRIO_PROCESS, 0, base + 10 > 19 ? 19 : base + 10);
	}
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!l->todo && !stopping)
			pthread_cond_wait(&l->wake, &lock);
		if (!l->todo)
			break;
		j = l->todo;
		l->todo = j->next;
		if (!l->todo)
			l->todo_tail = &l->todo;
		l->current = j;
		pthread_mutex_unlock(&lock);
		j->run(j);
		pthread_mutex_lock(&lock);
		l->current = NULL;
		j->next = NULL;
		*finished_tail = j;
		finished_tail = &j->next;
		kick();
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int worker_start(void)
{
	int r = 0;

	if (nthreads)
		return 0;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return -errno;
	stopping = 0;
	while (nthreads < WORKER_LANES) {
		struct lane *l = &lanes[nthreads];

		l->todo = NULL;
		l->todo_tail = &l->todo;
		pthread_cond_init(&l->wake, NULL);
		r = pthread_create(&l->thread, NULL, main_fn, l);
		if (r)
			break;
		nthreads++;
	}
	if (r && nthreads) {
		worker_stop();          /* the lanes that started */
	} else if (r) {
		close(efd);
		efd = -1;
	}
	return -r;
}

int worker_fd(void)
{
	return nthreads ? efd : -1;
}

void worker_submit(struct job *j)
{
	struct lane *l = &lanes[j->lane];

	j->next = NULL;
	j->cancelled = j->cancel_asked = 0;
	j->progress_now = j->progress_seen = 0;
	if (!nthreads) {
		j->inline_run = 1;
		j->run(j);
		j->done(j);
		return;
	}
	j->inline_run = 0;
	pthread_mutex_lock(&lock);
	*l->todo_tail = j;
	l->todo_tail = &j->next;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&lock);
}

void worker_progress(struct job *j, double p)
{
	if (j->inline_run)
		return;
	pthread_mutex_lock(&lock);
	j->progress_now = p;
	kick();
	pthread_mutex_unlock(&lock);
}

int worker_cancel(struct job *j)
{
	struct lane *l = &lanes[j->lane];
	int rc = -1;

	if (!nthreads)
		return -1;
	pthread_mutex_lock(&lock);
	if (j == l->current) {
		j->cancel_asked = 1;
		rc = 0;
	}
	/* O(jobs queued in j's lane) */
	for (struct job **pp = &l->todo; rc < 0 && *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			if (l->todo_tail == &j->next)
				l->todo_tail = pp;
			j->next = NULL;
			j->cancelled = 1;
			rc = 1;
			break;
		}
	pthread_mutex_unlock(&lock);
	return rc;
}

int worker_cancelled(struct job *j)
{
	int r;

	if (j->inline_run)
		return 0;
	pthread_mutex_lock(&lock);
	r = j->cancel_asked;
	pthread_mutex_unlock(&lock);
	return r;
}

void worker_handle(void)
{
	struct job *done, *j, *cur[WORKER_LANES];
	double p[WORKER_LANES];
	uint64_t n;
	ssize_t r;

	if (efd < 0)
		return;
	r = read(efd, &n, sizeof(n));
	(void)r;
	pthread_mutex_lock(&lock);
	done = finished;
	finished = NULL;
	finished_tail = &finished;
	for (int i = 0; i < WORKER_LANES; i++) {
		cur[i] = lanes[i].current;
		p[i] = cur[i] ? cur[i]->progress_now : 0;
	}
	pthread_mutex_unlock(&lock);
	/* cur[] stay valid: only this thread frees jobs, in done() */
	for (int i = 0; i < WORKER_LANES; i++)
		if (cur[i] && cur[i]->progress && p[i] != cur[i]->progress_seen) {
			cur[i]->progress_seen = p[i];
			cur[i]->progress(cur[i], p[i]);
		}
	while ((j = done)) {
		done = j->next;
		j->done(j);
	}
}

void worker_stop(void)
{
	struct job *j;

	if (!nthreads)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	/* queued jobs come back cancelled, after the ones running */
	for (int i = 0; i < WORKER_LANES; i++) {
		struct lane *l = &lanes[i];

		while ((j = l->todo)) {
			l->todo = j->next;
			j->cancelled = 1;
			j->next = NULL;
			*finished_tail = j;
			finished_tail = &j->next;
		}
		l->todo_tail = &l->todo;
		pthread_cond_signal(&l->wake);
	}
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < nthreads; i++)
		pthread_join(lanes[i].thread, NULL);
	nthreads = 0;
	worker_handle();
	close(efd);
	efd = -1;
}
