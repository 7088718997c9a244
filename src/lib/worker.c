/* The worker thread: a queue in, a queue out, an eventfd to wake the loop. */
#include "lib/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static int running, stopping, efd = -1;
static struct job *todo, *finished, *current;   /* todo, finished: FIFO via tails */
static struct job **todo_tail = &todo, **finished_tail = &finished;

static void kick(void)
{
	uint64_t one = 1;
	ssize_t r = write(efd, &one, sizeof(one));

	(void)r;        /* a full counter is readable anyway */
}

static void *main_fn(void *arg)
{
	struct job *j;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!todo && !stopping)
			pthread_cond_wait(&wake, &lock);
		if (!todo)
			break;
		j = todo;
		todo = j->next;
		if (!todo)
			todo_tail = &todo;
		current = j;
		pthread_mutex_unlock(&lock);
		j->run(j);
		pthread_mutex_lock(&lock);
		current = NULL;
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
	int r;

	if (running)
		return 0;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return -errno;
	stopping = 0;
	r = pthread_create(&thread, NULL, main_fn, NULL);
	if (r) {
		close(efd);
		efd = -1;
		return -r;
	}
	running = 1;
	return 0;
}

int worker_fd(void)
{
	return running ? efd : -1;
}

void worker_submit(struct job *j)
{
	j->next = NULL;
	j->cancelled = j->cancel_asked = 0;
	j->progress_now = j->progress_seen = 0;
	if (!running) {
		j->inline_run = 1;
		j->run(j);
		j->done(j);
		return;
	}
	j->inline_run = 0;
	pthread_mutex_lock(&lock);
	*todo_tail = j;
	todo_tail = &j->next;
	pthread_cond_signal(&wake);
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
	int rc = -1;

	if (!running)
		return -1;
	pthread_mutex_lock(&lock);
	if (j == current) {
		j->cancel_asked = 1;
		rc = 0;
	}
	/* O(queued jobs) */
	for (struct job **pp = &todo; rc < 0 && *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			if (todo_tail == &j->next)
				todo_tail = pp;
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
	struct job *done, *j, *cur;
	uint64_t n;
	double p = 0;
	ssize_t r;

	if (efd < 0)
		return;
	r = read(efd, &n, sizeof(n));
	(void)r;
	pthread_mutex_lock(&lock);
	done = finished;
	finished = NULL;
	finished_tail = &finished;
	cur = current;
	if (cur)
		p = cur->progress_now;
	pthread_mutex_unlock(&lock);
	/* cur stays valid: only this thread frees jobs, in done() */
	if (cur && cur->progress && p != cur->progress_seen) {
		cur->progress_seen = p;
		cur->progress(cur, p);
	}
	while ((j = done)) {
		done = j->next;
		j->done(j);
	}
}

void worker_stop(void)
{
	struct job *j;

	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	/* queued jobs come back cancelled, after the one running */
	while ((j = todo)) {
		todo = j->next;
		j->cancelled = 1;
		j->next = NULL;
		*finished_tail = j;
		finished_tail = &j->next;
	}
	todo_tail = &todo;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = 0;
	worker_handle();
	close(efd);
	efd = -1;
}
