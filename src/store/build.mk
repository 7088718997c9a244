xb-srcs-$(CONFIG_XB_DAEMON) += store/store.c
