/* The multi-call plumbing both binaries share (applet.h): the applet is
 * chosen by the name the binary was called by (a symlink such as
 * /usr/bin/xe) or, for `xenbox` and `xenbox-io`, by the first argument.
 * The applet table is the "xb_applets" linker section of the binary. */
#include <stdio.h>
#include <string.h>

#include "applet.h"

extern const struct xb_applet __start_xb_applets[] __attribute__((weak));
extern const struct xb_applet __stop_xb_applets[] __attribute__((weak));

#ifndef XB_VERSION
#define XB_VERSION "0.0"
#endif

static const struct xb_applet *find_applet(const char *name)
{
	const struct xb_applet *a;

	for (a = __start_xb_applets; a < __stop_xb_applets; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static int usage(const struct xb_multicall *mc, FILE *f)
{
	const struct xb_applet *a;

	fprintf(f, "%s " XB_VERSION ": %s\n"
		"usage: %s APPLET [ARGS...]   (or call a symlink named APPLET)\n\n"
		"Applets in this build:\n", mc->prog, mc->about, mc->prog);
	for (a = __start_xb_applets; a < __stop_xb_applets; a++)
		fprintf(f, "  %-10s %s\n", a->name, a->help);
	if (mc->more)
		fprintf(f, "\n%s\n", mc->more);
	return f == stdout ? 0 : 1;
}

char **applet_argv;

int applet_main(const struct xb_multicall *mc, int argc, char **argv)
{
	const char *name = argc > 0 ? argv[0] : mc->prog;
	const char *slash = strrchr(name, '/');
	const struct xb_applet *a;

	applet_argv = argv;
	if (slash)
		name = slash + 1;
	if (strcmp(name, mc->prog) != 0 && (a = find_applet(name)))
		return a->main(argc, argv);
	if (argc < 2)
		return usage(mc, stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(mc, stdout);
	if (!strcmp(argv[1], "--version")) {
		printf("%s " XB_VERSION "\n", mc->prog);
		return 0;
	}
	a = find_applet(argv[1]);
	if (a)
		return a->main(argc - 1, argv + 1);
	if (mc->missing && argv[1][0] != '-')
		return mc->missing(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown applet '%s' (try %s --help)\n", mc->prog, argv[1],
		mc->prog);
	return 127;
}
