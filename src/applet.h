/* Applets of the multi-call binaries (xenbox and xenbox-io).
 *
 * Each applet registers itself where it is defined:
 *
 *     XB_APPLET(xe, xe_main, "xe-style command-line client");
 *
 * The macro drops a descriptor into the "xb_applets" linker section; the
 * binary's main() hands argv to applet_main() (applet.c), which walks that
 * section, so no central list needs editing.  An applet whose file is
 * compiled out by Kconfig, or built into the other binary, simply is not
 * there.
 */
#ifndef XB_APPLET_H
#define XB_APPLET_H

struct xb_applet {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
};

#define XB_APPLET(name_, fn_, help_)                                      \
	static const struct xb_applet xb_applet_##name_                   \
	__attribute__((used, retain, section("xb_applets"), aligned(8))) = \
		{ #name_, fn_, help_ }

/* The same for a name that is no C identifier ("disk-probe"). */
#define XB_APPLET_NAMED(id_, name_, fn_, help_)                          \
	static const struct xb_applet xb_applet_##id_                     \
	__attribute__((used, retain, section("xb_applets"), aligned(8))) = \
		{ name_, fn_, help_ }

/* What a binary says about itself and does with an applet it lacks. */
struct xb_multicall {
	const char *prog;               /* "xenbox" or "xenbox-io" */
	const char *about;              /* the --help headline after "PROG VERSION: " */
	const char *more;               /* a --help footnote, or NULL */
	/* argv[0] is the applet's name and argv[-1] the binary's own argv[0]
	 * slot, which it may overwrite (to exec another binary with the same
	 * arguments); returns only if it could not run the applet (an exit
	 * status).  NULL: an unknown applet is an error (127). */
	int (*missing)(int argc, char **argv);
};

/* The applet named by argv[0]'s base name (a symlink), else by argv[1]
 * ("PROG APPLET ARGS..."); --help and --version.  The exit status. */
int applet_main(const struct xb_multicall *mc, int argc, char **argv);
/* main()'s argv, as applet_main got it (to exec the same command again). */
extern char **applet_argv;

#endif
