xb-srcs-$(CONFIG_XB_PASSWD) += tools/passwd.c
xb-target-srcs-$(CONFIG_XB_GROWFS) += tools/growfs.c
