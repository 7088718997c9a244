# Applets besides the daemon: in xenbox-io with CONFIG_XB_IO, else in xenbox.
xb-applet-srcs-$(CONFIG_XB_PASSWD) += tools/passwd.c
xb-io-srcs-$(CONFIG_XB_PASSWD) += api/auth.c lib/sha256.c
xb-applet-target-srcs-$(CONFIG_XB_GROWFS) += tools/growfs.c
