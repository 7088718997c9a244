xb-srcs-$(CONFIG_XB_PASSWD) += tools/passwd.c
