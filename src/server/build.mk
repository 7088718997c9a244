xb-srcs-$(CONFIG_XB_DAEMON) += server/loop.c server/conn.c server/config.c server/daemon.c \
	server/https_only.c server/netinfo.c
xb-srcs-$(CONFIG_XB_TLS) += server/tls.c
