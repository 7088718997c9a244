/* xs-watch-test: does a xenstore watch wake an event loop through the
 * static libxenstore we ship?  (Trap 1 in docs/BUILDING.md, package xen:
 * Xen builds libxenstore.a without -DUSE_PTHREAD, and then the fd of
 * xs_fileno() only signals events that some other call happened to read;
 * an event loop that polls it waits forever.)
 *
 * Runs in dom0 (tests/system), linked like xenbox: static musl,
 * staging/lib/libxenstore.a.  Handle A watches PATH and polls
 * xs_fileno(A); handle B, a second connection, writes PATH.  Nothing reads
 * A's socket but libxenstore's own reader thread, so POLLIN proves it runs.
 *
 *   xs-watch-test [PATH]     prints XS-WATCH-OK, exit 0; or XS-WATCH-FAIL
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

static int fail(const char *what)
{
	printf("XS-WATCH-FAIL %s\n", what);
	return 1;
}

/* Wait for one event on A's fd and check it names PATH and TOKEN. */
static int expect_event(struct xs_handle *a, const char *path,
			const char *token, const char *what)
{
	struct pollfd p = { .fd = xs_fileno(a), .events = POLLIN };
	char **v;
	int ok;

	if (poll(&p, 1, 5000) != 1) {
		printf("XS-WATCH-FAIL no POLLIN on xs_fileno() within 5 s after %s"
		       " (libxenstore without its reader thread?)\n", what);
		return 1;
	}
	/* What an event loop does after POLLIN: take it without blocking. */
	v = xs_check_watch(a);
	if (!v)
		return fail("POLLIN but xs_check_watch() has no event");
	ok = !strcmp(v[XS_WATCH_PATH], path) && !strcmp(v[XS_WATCH_TOKEN], token);
	printf("xs-watch-test: %s: event path=%s token=%s\n", what,
	       v[XS_WATCH_PATH], v[XS_WATCH_TOKEN]);
	free(v);
	return ok ? 0 : fail("event for the wrong path or token");
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/xenbox-test/watch";
	const char *token = "xenbox-token";
	struct xs_handle *a, *b;

	setvbuf(stdout, NULL, _IONBF, 0);
	a = xs_open(0);
	b = xs_open(0);
	if (!a || !b)
		return fail("xs_open (is xenstored running?)");
	if (!xs_write(b, XBT_NULL, path, "0", 1))
		return fail("xs_write (initial)");
	/* The fd first, then the watch: an event is due at once on
	 * registration. */
	(void)xs_fileno(a);
	if (!xs_watch(a, path, token))
		return fail("xs_watch");
	if (expect_event(a, path, token, "registration"))
		return 1;
	/* Only B touches the socket now. */
	if (!xs_write(b, XBT_NULL, path, "1", 1))
		return fail("xs_write (second connection)");
	if (expect_event(a, path, token, "a write by another connection"))
		return 1;
	xs_unwatch(a, path, token);
	xs_rm(b, XBT_NULL, path);
	xs_close(a);
	xs_close(b);
	printf("XS-WATCH-OK\n");
	return 0;
}
