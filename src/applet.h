/* Applets of the multi-call binary.
 *
 * Each applet registers itself where it is defined:
 *
 *     XB_APPLET(xe, xe_main, "xe-style command-line client");
 *
 * The macro drops a descriptor into the "xb_applets" linker section; main()
 * walks that section, so no central list needs editing.  An applet whose
 * file is compiled out by Kconfig simply is not there.
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

#endif
