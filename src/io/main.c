/* xenbox-io: the helper binary (docs/STORAGE.md 5.1).  Multi-call like
 * xenbox (applet.c): the applets that are not the daemon, and later the
 * transfers the daemon spawns with a control socket on fd 3 (io/ctl.h).
 * It never sees the network's listeners or the database; TLS only as
 * `xe -s HOST`'s client (src/xe/, the TLS glue linked in for it). */
#include "applet.h"

static const struct xb_multicall xenbox_io = {
	.prog = "xenbox-io",
	.about = "xenbox's helper: applets besides the daemon, disk transfers",
	.more = "`xenbox APPLET` runs these too.",
};

int main(int argc, char **argv)
{
	return applet_main(&xenbox_io, argc, argv);
}
