/* The event loop (server/loop.c): a stop signal that arrives while the
 * loop is busy (in before_sleep, after it checked the flag) still stops
 * it at once, instead of waiting for the next event or timer. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/loop.h"

static volatile int stop;
static int calls;

static void on_alarm(int sig)
{
	(void)sig;
	/* the loop missed the signal: fail instead of hanging */
	static const char msg[] = "test_loop: the stop signal was lost\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

/* The signal arrives "between the check of stop and the wait": here, in
 * before_sleep, which then asks to sleep until an event (none comes). */
static int64_t term_during_before_sleep(void)
{
	calls++;
	if (calls == 1)
		kill(getpid(), SIGTERM);
	return -1;
}

static void test_stop_signal_in_before_sleep(void **state)
{
	(void)state;
	signal(SIGALRM, on_alarm);
	assert_int_equal(loop_init(), 0);
	assert_int_equal(loop_stop_on_signals(&stop), 0);
	alarm(10);
	loop_run(term_during_before_sleep, &stop);
	alarm(0);
	assert_int_equal(stop, 1);
	assert_int_equal(calls, 1);
	loop_dispose();
}

/* A failed registration is reported (the caller handles it). */
static void test_watch_failure_reported(void **state)
{
	(void)state;
	assert_int_equal(loop_init(), 0);
	/* a regular file cannot be watched by epoll */
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(loop_watch(fileno(f), LOOP_READ, NULL, NULL), -1);
	assert_int_equal(loop_watch(-1, LOOP_READ, NULL, NULL), -1);
	fclose(f);
	loop_dispose();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_signal_in_before_sleep),
		cmocka_unit_test(test_watch_failure_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
