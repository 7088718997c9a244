xb-srcs-$(CONFIG_XB_DAEMON) += api/dm.c api/model.c api/dispatch.c api/session.c api/auth.c \
	api/task.c api/event.c api/host.c api/host_ops.c api/vm.c api/devices.c api/device_ops.c api/message.c \
	api/console_log.c api/where.c api/vdi_ops.c api/vm_copy.c api/storage.c
