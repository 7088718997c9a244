/* lib/worker.c: the lanes run side by side (a blocked build does not hold
 * a password hash back, nor the reverse); done() comes back in the
 * caller's thread through worker_fd(); the CPU lane runs at nice >= 10;
 * without a started worker, jobs run inline. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/resource.h>

#include "lib/worker.h"

static sem_t started;
static pthread_t main_thread;

struct tjob {
	struct job job;
	int block;              /* wait for release in run() */
	sem_t release;
	int ran, done, nice;
	pthread_t run_thread;
};

static void t_run(struct job *j)
{
	struct tjob *t = (struct tjob *)j;

	t->run_thread = pthread_self();
	t->nice = getpriority(PRIO_PROCESS, 0);
	if (t->block) {
		sem_post(&started);
		sem_wait(&t->release);
	}
	t->ran = 1;
}

static void t_done(struct job *j)
{
	struct tjob *t = (struct tjob *)j;

	assert_true(pthread_equal(pthread_self(), main_thread));
	t->done = 1;
}

/* Handle the worker's fd until *flag (at most ~10 s: then the test fails). */
static void wait_done(int *flag)
{
	for (int i = 0; i < 100 && !*flag; i++) {
		struct pollfd p = { .fd = worker_fd(), .events = POLLIN };

		if (poll(&p, 1, 100) > 0)
			worker_handle();
	}
	assert_true(*flag);
}

static void test_lanes_are_independent(void **state)
{
	struct tjob build = { .job = { .lane = WORKER_SLOW, .run = t_run, .done = t_done }, .block = 1 };
	struct tjob hash = { .job = { .lane = WORKER_CPU, .run = t_run, .done = t_done }, .block = 0 };
	struct tjob hash2 = { .job = { .lane = WORKER_CPU, .run = t_run, .done = t_done }, .block = 1 };
	struct tjob build2 = { .job = { .lane = WORKER_SLOW, .run = t_run, .done = t_done }, .block = 0 };

	(void)state;
	sem_init(&build.release, 0, 0);
	sem_init(&hash2.release, 0, 0);
	assert_int_equal(worker_start(), 0);
	assert_true(worker_fd() >= 0);
	/* a build that blocks: a hash submitted after it is done */
	worker_submit(&build.job);
	sem_wait(&started);
	worker_submit(&hash.job);
	wait_done(&hash.done);
	assert_false(build.done);
	assert_false(pthread_equal(hash.run_thread, build.run_thread));
	/* 10 nicer than the builds, relative (the tests may run niced, as
	 * check.sh's fresh-root suite does: nice 10), at most 19 */
	assert_int_equal(hash.nice, build.nice + 10 > 19 ? 19 : build.nice + 10);
	if (build.nice < 19)
		assert_true(build.nice < hash.nice);
	/* and the reverse: a hash that blocks does not hold a build */
	worker_submit(&hash2.job);
	sem_wait(&started);
	sem_post(&build.release);
	wait_done(&build.done);
	worker_submit(&build2.job);
	wait_done(&build2.done);
	assert_false(hash2.done);
	sem_post(&hash2.release);
	wait_done(&hash2.done);
	worker_stop();
	assert_int_equal(worker_fd(), -1);
}

static void test_inline_without_a_worker(void **state)
{
	struct tjob j = { .job = { .lane = WORKER_CPU, .run = t_run, .done = t_done } };

	(void)state;
	worker_submit(&j.job);
	assert_true(j.job.inline_run);
	assert_true(j.ran && j.done);
	assert_true(pthread_equal(j.run_thread, pthread_self()));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lanes_are_independent),
		cmocka_unit_test(test_inline_without_a_worker),
	};

	main_thread = pthread_self();
	sem_init(&started, 0, 0);
	return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}
