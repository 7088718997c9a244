/* xenbox: multi-call entry point.
 *
 * The applet is chosen by the name the binary was called by (a symlink such
 * as /usr/bin/xe) or, for `xenbox`, by the first argument.  The applet table
 * is the "xb_applets" linker section (see applet.h).
 */
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

static int usage(FILE *f)
{
	const struct xb_applet *a;

	fprintf(f, "xenbox " XB_VERSION ": a small XenAPI toolstack for Xen hosts\n"
		"usage: xenbox APPLET [ARGS...]   (or call a symlink named APPLET)\n\n"
		"Applets in this build:\n");
	for (a = __start_xb_applets; a < __stop_xb_applets; a++)
		fprintf(f, "  %-10s %s\n", a->name, a->help);
	return f == stdout ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *name = argc > 0 ? argv[0] : "xenbox";
	const char *slash = strrchr(name, '/');
	const struct xb_applet *a;

	if (slash)
		name = slash + 1;
	if (strcmp(name, "xenbox") != 0 && (a = find_applet(name)))
		return a->main(argc, argv);
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return usage(stdout);
	if (!strcmp(argv[1], "--version")) {
		puts("xenbox " XB_VERSION);
		return 0;
	}
	a = find_applet(argv[1]);
	if (!a) {
		fprintf(stderr, "xenbox: unknown applet '%s' (try xenbox --help)\n",
			argv[1]);
		return 127;
	}
	return a->main(argc - 1, argv + 1);
}
