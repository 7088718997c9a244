# xenbox-io (docs/STORAGE.md 5.1): its entry, the control channel, the
# applet plumbing and the lib/ files every applet uses.  The applets that
# are not the daemon add themselves (xb-applet-srcs) and what they link
# (xb-io-srcs) in their own build.mk.
xb-io-srcs-$(CONFIG_XB_IO) += io/main.c io/ctl.c applet.c lib/buf.c lib/arena.c lib/util.c
# `xenbox-io disk-probe` (docs/STORAGE.md 2.3): the classifier is lib's.
xb-io-srcs-$(CONFIG_XB_IO) += io/disk.c lib/diskprobe.c
