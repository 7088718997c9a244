/* The HTTPS certificate file (server/tls.c): made on first start; a file
 * that could not be written whole (disk full, a file size limit) is not
 * left behind half-written, where every later start would fail on it. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "server/tls.h"

static char dir[] = "/tmp/xenbox-test-tls-XXXXXX";
static char pem[sizeof(dir) + 32];

/* In a child limited to `limit` bytes per file: the init's result. */
static int init_limited(rlim_t limit)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (!pid) {
		struct rlimit rl = { limit, limit };
		char fp[128], err[256];
		int rc;

		signal(SIGXFSZ, SIG_IGN);       /* a short write, then EFBIG */
		setrlimit(RLIMIT_FSIZE, &rl);
		rc = tls_server_init(dir, "test", fp, sizeof(fp), err, sizeof(err));
		tls_server_free();
		_exit(rc ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_certificate_short_write(void **state)
{
	struct stat st;
	char fp[128], err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(pem, sizeof(pem), "%s/xapi-ssl.pem", dir);
	/* 200 bytes: the key and certificate (~800) do not fit */
	assert_int_equal(init_limited(200), 1);
	assert_int_equal(stat(pem, &st), -1);   /* nothing half-written is kept */
	/* the next start makes a whole one */
	assert_int_equal(tls_server_init(dir, "test", fp, sizeof(fp), err, sizeof(err)), 0);
	assert_int_equal(stat(pem, &st), 0);
	assert_true(st.st_size > 400);
	assert_int_equal(st.st_mode & 0777, 0600);
	tls_server_free();
	/* and it is kept */
	assert_int_equal(tls_server_init(dir, "test", fp, sizeof(fp), err, sizeof(err)), 0);
	tls_server_free();
	unlink(pem);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certificate_short_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
