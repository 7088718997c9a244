xb-srcs-$(CONFIG_XB_DAEMON) += store/store.c
# test-only fault injection: empty unless XB_HOST_BUILD
xb-srcs-$(CONFIG_XB_DAEMON) += store/store_fault.c
