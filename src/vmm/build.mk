# Hypervisor backends (backend.h).  The Xen backend links libxenctrl,
# libxenguest and libxenstore, so it is target only.
xb-srcs-$(CONFIG_XB_DAEMON) += vmm/backend.c
xb-srcs-$(CONFIG_XB_BACKEND_NONE) += vmm/none.c
xb-srcs-$(CONFIG_XB_BACKEND_SIM) += vmm/sim.c vmm/sim_model.c \
	vmm/sim_spec.c vmm/sim_state.c
xb-target-srcs-$(CONFIG_XB_BACKEND_XEN) += vmm/xen.c vmm/xen_events.c \
	vmm/xen_build.c vmm/xen_acpi.c vmm/xen_devices.c vmm/xen_console.c \
	vmm/xen_xs.c
