/* xenbox: the daemon's multi-call binary (applet.c chooses the applet).
 *
 * With CONFIG_XB_IO the applets that are not the daemon (`passwd`,
 * `growfs`, `pool`) live in the helper binary xenbox-io (docs/STORAGE.md
 * 5.1 and 8.2); `xenbox APPLET` for an applet not here execs xenbox-io
 * with the same arguments, so every command keeps its name.  xenbox-io is
 * looked for next to this binary (/proc/self/exe), then in PATH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "applet.h"

#ifdef CONFIG_XB_IO
#define IO_NAME "xenbox-io"

/* argv[0] is the applet's name, argv[-1] xenbox's own argv[0] slot */
static int run_io(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + sizeof(IO_NAME)];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	int err = ENOENT;

	(void)argc;
	argv[-1] = (char *)IO_NAME;
	fflush(NULL);
	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash) {
			slash[1] = 0;
			snprintf(path, sizeof(path), "%s" IO_NAME, self);
			execv(path, argv - 1);
			err = errno;
		}
	}
	if (err == ENOENT) {
		execvp(IO_NAME, argv - 1);
		err = errno;
	}
	if (err == ENOENT) {
		fprintf(stderr, "xenbox: no applet '%s' in xenbox, and no " IO_NAME
			" to run it (looked next to %s and in PATH)\n", argv[0],
			n > 0 ? self : "this binary");
		return 127;
	}
	fprintf(stderr, "xenbox: cannot run " IO_NAME " for '%s': %s\n", argv[0],
		strerror(err));
	return 126;
}
#endif

static const struct xb_multicall xenbox = {
	.prog = "xenbox",
	.about = "a small XenAPI toolstack for Xen hosts",
#ifdef CONFIG_XB_IO
	.more = "Other applets (passwd, pool, ...) run " IO_NAME " with the same arguments\n"
		"(xenbox-io --help lists them).",
	.missing = run_io,
#endif
};

int main(int argc, char **argv)
{
	return applet_main(&xenbox, argc, argv);
}
