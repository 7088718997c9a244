/* The XenAPI datamodel as xenbox implements it: the one declaration of
 * classes, fields, enums and messages.  Names, types and defaults follow
 * XAPI's datamodel; records are complete (every field, always).
 *
 * Field: { name, type, qualifier, default, flags, inverse }
 *   RW        settable by clients (set_<f>, add_to_/remove_from_ for maps
 *             and sets)
 *   RO_CREATE given to <class>.create, read-only afterwards
 *   RO        maintained by xenbox
 * Types are XAPI's notation; enums are named by their enum table entry.
 */
#include "api/dm.h"
#include "api/handlers.h"

/* The tables leave the members filled in by dm_init() out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define F(n, t, q, d) { .name = n, .type = t, .qual = q, .def = d }
#define FV(n, t, q, d) { .name = n, .type = t, .qual = q, .def = d, .flags = DM_F_VOLATILE }
#define INV(n, t, inv) { .name = n, .type = t, .qual = DM_RO, .flags = DM_F_VOLATILE, .inverse = inv }
#define END { .name = NULL }
#define RW DM_RW
#define RC DM_RO_CREATE
#define RO DM_RO
#define SMAP "(string -> string) map"
#define P(t, n) { t, n, NULL }
#define PD(t, n, d) { t, n, d }
#define PEND { NULL, NULL, NULL }
#define M(n, r, ps, f, fl) { .name = n, .result = r, .params = ps, .fn = f, .flags = fl }
#define MEND { .name = NULL }

/* ---- enums ---- */

static struct dm_enum e_vm_power_state = { "vm_power_state", "Halted Paused Running Suspended" };
static struct dm_enum e_vm_operations = { "vm_operations",
	"snapshot clone copy create_template revert checkpoint snapshot_with_quiesce "
	"provision start start_on pause unpause clean_shutdown clean_reboot "
	"hard_shutdown power_state_reset hard_reboot suspend csvm resume resume_on "
	"pool_migrate migrate_send get_boot_record send_sysrq send_trigger "
	"query_services shutdown call_plugin changing_memory_live "
	"awaiting_memory_live changing_dynamic_range changing_static_range "
	"changing_memory_limits changing_shadow_memory changing_shadow_memory_live "
	"changing_VCPUs changing_VCPUs_live changing_NVRAM assert_operation_valid "
	"data_source_op update_allowed_operations make_into_template import export "
	"metadata_export reverting destroy create_vtpm" };
static struct dm_enum e_on_normal_exit = { "on_normal_exit", "destroy restart" };
static struct dm_enum e_on_crash = { "on_crash_behaviour",
	"destroy coredump_and_destroy restart coredump_and_restart preserve rename_restart" };
static struct dm_enum e_on_softreboot = { "on_softreboot_behavior",
	"soft_reboot destroy restart preserve" };
static struct dm_enum e_domain_type = { "domain_type", "hvm pv pv_in_pvh pvh unspecified" };
static struct dm_enum e_task_status = { "task_status_type",
	"pending success failure cancelling cancelled" };
static struct dm_enum e_task_ops = { "task_allowed_operations", "cancel destroy" };
static struct dm_enum e_host_ops = { "host_allowed_operations",
	"provision evacuate shutdown reboot power_on vm_start vm_resume vm_migrate "
	"apply_updates enable" };
static struct dm_enum e_host_display = { "host_display", "enabled disable_on_reboot disabled enable_on_reboot" };
static struct dm_enum e_pool_ops = { "pool_allowed_operations",
	"ha_enable ha_disable cluster_create designate_new_master configure_repositories "
	"sync_updates sync_bundle get_updates apply_updates tls_verification_enable "
	"cert_refresh exchange_certificates_on_join exchange_ca_certificates_on_join copy_primary_host_certs" };
static struct dm_enum e_vbd_mode = { "vbd_mode", "RO RW" };
static struct dm_enum e_vbd_type = { "vbd_type", "CD Disk Floppy" };
static struct dm_enum e_vbd_ops = { "vbd_operations",
	"attach eject insert plug unplug unplug_force pause unpause" };
static struct dm_enum e_vif_ops = { "vif_operations", "attach plug unplug" };
static struct dm_enum e_vif_locking = { "vif_locking_mode", "network_default locked unlocked disabled" };
static struct dm_enum e_ipv4_cfg = { "vif_ipv4_configuration_mode", "None Static" };
static struct dm_enum e_ipv6_cfg = { "vif_ipv6_configuration_mode", "None Static" };
static struct dm_enum e_vdi_type = { "vdi_type",
	"system user ephemeral suspend crashdump ha_statefile metadata redo_log rrd "
	"pvs_cache cbt_metadata" };
static struct dm_enum e_vdi_ops = { "vdi_operations",
	"clone copy resize resize_online snapshot mirror destroy forget update "
	"force_unlock generate_config enable_cbt disable_cbt data_destroy "
	"list_changed_blocks set_on_boot blocked" };
static struct dm_enum e_on_boot = { "on_boot", "reset persist" };
static struct dm_enum e_sr_ops = { "storage_operations",
	"scan destroy forget plug unplug update vdi_create vdi_introduce vdi_destroy "
	"vdi_resize vdi_clone vdi_snapshot vdi_mirror vdi_enable_cbt vdi_disable_cbt "
	"vdi_data_destroy vdi_list_changed_blocks vdi_set_on_boot pbd_create pbd_destroy" };
static struct dm_enum e_net_ops = { "network_operations", "attaching" };
static struct dm_enum e_net_locking = { "network_default_locking_mode", "unlocked disabled" };
static struct dm_enum e_ip_cfg = { "ip_configuration_mode", "None DHCP Static" };
static struct dm_enum e_ipv6_mode = { "ipv6_configuration_mode", "None DHCP Static Autoconf" };
static struct dm_enum e_addr_type = { "primary_address_type", "IPv4 IPv6" };
static struct dm_enum e_igmp = { "pif_igmp_status", "enabled disabled unknown" };
static struct dm_enum e_console_proto = { "console_protocol", "vt100 rfb rdp" };
static struct dm_enum e_msg_cls = { "cls", "VM Host SR Pool VMPP VMSS PVS_proxy VDI Certificate" };
static struct dm_enum e_tristate = { "tristate_type", "yes no unspecified" };
static struct dm_enum e_update_guidances = { "update_guidances",
	"reboot_host reboot_host_on_livepatch_failure reboot_host_on_kernel_livepatch_failure "
	"reboot_host_on_xen_livepatch_failure restart_toolstack restart_device_model restart_vm" };
static struct dm_enum e_latest_synced = { "latest_synced_updates_applied_state", "yes no unknown" };

struct dm_enum *const dm_enums[] = {
	&e_vm_power_state, &e_vm_operations, &e_on_normal_exit, &e_on_crash,
	&e_on_softreboot, &e_domain_type, &e_task_status, &e_task_ops,
	&e_host_ops, &e_host_display, &e_pool_ops, &e_vbd_mode, &e_vbd_type,
	&e_vbd_ops, &e_vif_ops, &e_vif_locking, &e_ipv4_cfg, &e_ipv6_cfg,
	&e_vdi_type, &e_vdi_ops, &e_on_boot, &e_sr_ops, &e_net_ops,
	&e_net_locking, &e_ip_cfg, &e_ipv6_mode, &e_addr_type, &e_igmp,
	&e_console_proto, &e_msg_cls, &e_tristate, &e_update_guidances,
	&e_latest_synced, NULL,
};

/* ---- session ---- */

static struct dm_field session_fields[] = {
	F("uuid", "string", RO, NULL),
	F("this_host", "host ref", RO, NULL),
	F("this_user", "user ref", RO, NULL),
	FV("last_active", "datetime", RO, NULL),
	F("pool", "bool", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	F("is_local_superuser", "bool", RO, NULL),
	F("subject", "subject ref", RO, NULL),
	F("validation_time", "datetime", RO, NULL),
	F("auth_user_sid", "string", RO, NULL),
	F("auth_user_name", "string", RO, NULL),
	F("rbac_permissions", "string set", RO, NULL),
	INV("tasks", "task ref set", "task.session"),
	F("parent", "session ref", RO, NULL),
	F("originator", "string", RO, NULL),
	F("client_certificate", "bool", RO, NULL),
	END
};

static const struct dm_param p_login[] = {
	P("string", "uname"), P("string", "pwd"),
	PD("string", "version", "1.1"), PD("string", "originator", ""), PEND
};
static const struct dm_param p_none[] = { PEND };
static const struct dm_param p_change_password[] = {
	P("string", "old_pwd"), P("string", "new_pwd"), PEND
};

static struct dm_msg session_msgs[] = {
	M("login_with_password", "session ref", p_login, api_session_login, DM_M_NO_SESSION),
	M("logout", "void", p_none, api_session_logout, 0),
	M("local_logout", "void", p_none, api_session_logout, 0),
	M("get_all_subject_identifiers", "string set", p_none, api_session_subjects, 0),
	M("change_password", "void", p_change_password, api_session_change_password, 0),
	MEND
};

static struct dm_class c_session = {
	"session", 0, session_fields, session_msgs, NULL, NULL,
};

/* ---- pool ---- */

static struct dm_field pool_fields[] = {
	F("uuid", "string", RO, NULL),
	F("name_label", "string", RW, NULL),
	F("name_description", "string", RW, NULL),
	F("master", "host ref", RO, NULL),
	F("default_SR", "SR ref", RW, NULL),
	F("suspend_image_SR", "SR ref", RW, NULL),
	F("crash_dump_SR", "SR ref", RW, NULL),
	F("other_config", SMAP, RW, NULL),
	F("ha_enabled", "bool", RO, NULL),
	F("ha_configuration", SMAP, RO, NULL),
	F("ha_statefiles", "string set", RO, NULL),
	F("ha_host_failures_to_tolerate", "int", RO, NULL),
	F("ha_plan_exists_for", "int", RO, NULL),
	F("ha_allow_overcommit", "bool", RW, NULL),
	F("ha_overcommitted", "bool", RO, NULL),
	F("blobs", "(string -> blob ref) map", RO, NULL),
	F("tags", "string set", RW, NULL),
	F("gui_config", SMAP, RW, NULL),
	F("health_check_config", SMAP, RW, NULL),
	F("wlb_url", "string", RO, NULL),
	F("wlb_username", "string", RO, NULL),
	F("wlb_enabled", "bool", RW, NULL),
	F("wlb_verify_cert", "bool", RW, NULL),
	F("redo_log_enabled", "bool", RO, NULL),
	F("redo_log_vdi", "VDI ref", RO, NULL),
	F("vswitch_controller", "string", RO, NULL),
	F("restrictions", SMAP, RO, NULL),
	F("metadata_VDIs", "VDI ref set", RO, NULL),
	F("ha_cluster_stack", "string", RO, "xhad"),
	F("allowed_operations", "pool_allowed_operations set", RO, NULL),
	F("current_operations", "(string -> pool_allowed_operations) map", RO, NULL),
	F("guest_agent_config", SMAP, RO, NULL),
	F("cpu_info", SMAP, RO, NULL),
	F("policy_no_vendor_device", "bool", RW, NULL),
	F("live_patching_disabled", "bool", RW, NULL),
	F("igmp_snooping_enabled", "bool", RO, NULL),
	F("uefi_certificates", "string", RO, NULL),
	F("is_psr_pending", "bool", RW, NULL),
	F("tls_verification_enabled", "bool", RO, NULL),
	F("repositories", "Repository ref set", RO, NULL),
	F("client_certificate_auth_enabled", "bool", RO, NULL),
	F("client_certificate_auth_name", "string", RO, NULL),
	F("repository_proxy_url", "string", RO, NULL),
	F("repository_proxy_username", "string", RO, NULL),
	F("repository_proxy_password", "secret ref", RO, NULL),
	F("migration_compression", "bool", RW, NULL),
	F("coordinator_bias", "bool", RW, "true"),
	F("telemetry_uuid", "secret ref", RO, NULL),
	F("telemetry_frequency", "string", RO, "weekly"),
	F("telemetry_next_collection", "datetime", RO, NULL),
	F("last_update_sync", "datetime", RO, NULL),
	F("update_sync_frequency", "string", RO, "weekly"),
	F("update_sync_day", "int", RO, NULL),
	F("update_sync_enabled", "bool", RO, NULL),
	F("recommendations", SMAP, RO, NULL),
	END
};

#ifdef CONFIG_XB_POOL
/* xenbox extensions (docs/POOL.md 3.2): root sessions only */
static const struct dm_param p_token_create[] = {
	PD("int", "uses", "1"), PD("int", "ttl_seconds", "86400"), PD("string", "label", ""), PEND
};
static const struct dm_param p_token_id[] = { P("string", "id"), PEND };
static const struct dm_param p_eject[] = { P("host ref", "host"), PEND };
/* XAPI's pool.join and join_force; join_pinned adds the master's pool
 * fingerprint (3.6) */
static const struct dm_param p_join[] = {
	P("string", "master_address"), P("string", "master_username"),
	P("string", "master_password"), PEND
};
static const struct dm_param p_join_pinned[] = {
	P("string", "master_address"), P("string", "master_fingerprint"),
	P("string", "master_username"), P("string", "master_password"), PEND
};
/* a member's host uuid (or, with the mirror, its host ref) */
static const struct dm_param p_member[] = { P("string", "host"), PEND };

static struct dm_msg pool_msgs[] = {
	M("eject", "void", p_eject, api_pool_eject, DM_M_ASYNC),       /* pool/forward.c */
	M("create_join_token", "string", p_token_create, api_pool_create_join_token, 0),
	M("get_join_tokens", "(string -> string) map set", p_none, api_pool_get_join_tokens, 0),
	M("revoke_join_token", "void", p_token_id, api_pool_revoke_join_token, 0),
	M("get_channel_status", "(string -> string) map", p_none, api_pool_get_channel_status, 0),
	M("join", "void", p_join, api_pool_join, 0),
	M("join_force", "void", p_join, api_pool_join, 0),
	M("join_pinned", "void", p_join_pinned, api_pool_join_pinned, 0),
	M("revoke_member", "void", p_member, api_pool_revoke_member, 0),
	MEND
};
#define POOL_MSGS pool_msgs
#else
#define POOL_MSGS NULL
#endif

static struct dm_class c_pool = { "pool", 0, pool_fields, POOL_MSGS, NULL, NULL };

#ifdef CONFIG_XB_POOL
/* ---- the pool's internal state (DM_C_INTERNAL: never on the API) ---- */

/* A join token (pool/token.c): the secret itself is never stored */
static struct dm_field pool_token_fields[] = {
	F("uuid", "string", RO, NULL),
	F("token_id", "string", RO, NULL),      /* 16 hex: logs name it */
	F("hash", "string", RO, NULL),          /* SHA-256(secret), hex */
	F("label", "string", RO, NULL),
	F("uses_left", "int", RO, "1"),
	F("expires", "datetime", RO, NULL),
	F("revoked", "bool", RO, NULL),
	F("created", "datetime", RO, NULL),
	F("used_by", "string set", RO, NULL),   /* host uuids */
	END
};
static struct dm_class c_pool_token = {
	"pool_token", DM_C_INTERNAL, pool_token_fields, NULL, NULL, NULL,
};

/* On the master, one per member (3.3); filled from stage 3b on */
static struct dm_field pool_member_fields[] = {
	F("uuid", "string", RO, NULL),
	F("host", "host ref", RO, NULL),
	F("host_uuid", "string", RO, NULL),
	F("cert_sha256", "string", RO, NULL),
	F("state", "string", RO, "active"),     /* active | revoked */
	F("joined", "datetime", RO, NULL),
	F("joined_by", "string", RO, NULL),     /* token:<id> | password | api */
	FV("last_seen", "datetime", RO, NULL),
	FV("peer", "string", RO, NULL),
	END
};
static struct dm_class c_pool_member = {
	"pool_member", DM_C_INTERNAL, pool_member_fields, NULL, NULL, NULL,
};

/* On a member, its membership (3.3); filled from stage 3b on */
static struct dm_field pool_link_fields[] = {
	F("uuid", "string", RO, NULL),
	F("master", "string", RO, NULL),        /* HOST[:PORT] */
	F("fingerprint", "string", RO, NULL),
	F("pool_uuid", "string", RO, NULL),
	F("pool_ref", "string", RO, NULL),
	F("master_host_ref", "string", RO, NULL),
	F("state", "string", RO, "joined"),     /* joined | ejected */
	F("conf_digest", "string", RO, NULL),
	F("joined", "datetime", RO, NULL),
	F("via", "string", RO, NULL),           /* "api": pool.join, else xenbox.conf */
	END
};
static struct dm_class c_pool_link = {
	"pool_link", DM_C_INTERNAL, pool_link_fields, NULL, NULL, NULL,
};
#define POOL_CLASSES &c_pool_token, &c_pool_member, &c_pool_link,
#else
#define POOL_CLASSES
#endif

/* ---- host ---- */

static struct dm_field host_fields[] = {
	F("uuid", "string", RO, NULL),
	F("name_label", "string", RW, NULL),
	F("name_description", "string", RW, NULL),
	F("memory_overhead", "int", RO, NULL),
	F("allowed_operations", "host_allowed_operations set", RO, NULL),
	F("current_operations", "(string -> host_allowed_operations) map", RO, NULL),
	F("API_version_major", "int", RO, "2"),
	F("API_version_minor", "int", RO, "21"),
	F("API_version_vendor", "string", RO, "XenSource"),
	F("API_version_vendor_implementation", SMAP, RO, NULL),
	F("enabled", "bool", RO, "true"),
	F("software_version", SMAP, RO, NULL),
	F("other_config", SMAP, RW, NULL),
	F("capabilities", "string set", RO, NULL),
	F("cpu_configuration", SMAP, RO, NULL),
	F("sched_policy", "string", RO, "credit"),
	F("supported_bootloaders", "string set", RO, NULL),
	INV("resident_VMs", "VM ref set", "VM.resident_on"),
	F("logging", SMAP, RW, NULL),
	INV("PIFs", "PIF ref set", "PIF.host"),
	F("suspend_image_sr", "SR ref", RW, NULL),
	F("crash_dump_sr", "SR ref", RW, NULL),
	F("crashdumps", "host_crashdump ref set", RO, NULL),
	F("patches", "host_patch ref set", RO, NULL),
	F("updates", "pool_update ref set", RO, NULL),
	INV("PBDs", "PBD ref set", "PBD.host"),
	INV("host_CPUs", "host_cpu ref set", "host_cpu.host"),
	F("cpu_info", SMAP, RO, NULL),
	F("hostname", "string", RO, NULL),
	F("address", "string", RO, NULL),
	F("metrics", "host_metrics ref", RO, NULL),
	F("license_params", SMAP, RO, NULL),
	F("ha_statefiles", "string set", RO, NULL),
	F("ha_network_peers", "string set", RO, NULL),
	F("blobs", "(string -> blob ref) map", RO, NULL),
	F("tags", "string set", RW, NULL),
	F("external_auth_type", "string", RO, NULL),
	F("external_auth_service_name", "string", RO, NULL),
	F("external_auth_configuration", SMAP, RO, NULL),
	F("edition", "string", RO, "xenbox"),
	F("license_server", SMAP, RW, NULL),
	F("bios_strings", SMAP, RO, NULL),
	F("power_on_mode", "string", RO, NULL),
	F("power_on_config", SMAP, RO, NULL),
	F("local_cache_sr", "SR ref", RO, NULL),
	F("chipset_info", SMAP, RO, NULL),
	F("PCIs", "PCI ref set", RO, NULL),
	F("PGPUs", "PGPU ref set", RO, NULL),
	F("PUSBs", "PUSB ref set", RO, NULL),
	F("ssl_legacy", "bool", RO, NULL),
	F("guest_VCPUs_params", SMAP, RW, NULL),
	F("display", "host_display", RW, "enabled"),
	F("virtual_hardware_platform_versions", "int set", RO, NULL),
	F("control_domain", "VM ref", RO, NULL),
	F("updates_requiring_reboot", "pool_update ref set", RO, NULL),
	F("features", "Feature ref set", RO, NULL),
	F("iscsi_iqn", "string", RO, NULL),
	F("multipathing", "bool", RO, NULL),
	F("uefi_certificates", "string", RO, NULL),
	F("certificates", "Certificate ref set", RO, NULL),
	F("editions", "string set", RO, NULL),
	F("pending_guidances", "update_guidances set", RO, NULL),
	F("tls_verification_enabled", "bool", RO, NULL),
	F("last_software_update", "datetime", RO, NULL),
	/* the policy in force: xenbox.conf's https_only at start, then
	 * host.set_https_only (not persisted: the file decides at start) */
	FV("https_only", "bool", RO, "true"),
	F("latest_synced_updates_applied", "latest_synced_updates_applied_state", RO, "unknown"),
	F("numa_affinity_policy", "string", RO, "default_policy"),
	F("pending_guidances_recommended", "update_guidances set", RO, NULL),
	F("pending_guidances_full", "update_guidances set", RO, NULL),
	F("last_update_hash", "string", RO, NULL),
	/* the boot that auto power-on last ran for (vmm_boot_id), and
	 * host.disable's auto_enable=false until the next host.enable */
	{ .name = "boot_id", .type = "string", .qual = DM_RO, .flags = DM_F_HIDDEN },
	{ .name = "stay_disabled", .type = "bool", .qual = DM_RO, .flags = DM_F_HIDDEN },
	END
};

static const struct dm_param p_host[] = { P("host ref", "host"), PEND };
static const struct dm_param p_host_bool[] = { P("host ref", "self"), P("bool", "value"), PEND };
static const struct dm_param p_host_name[] = { P("host ref", "host"), P("string", "hostname"), PEND };
static const struct dm_param p_host_disable[] = {
	P("host ref", "host"), PD("bool", "auto_enable", "true"), PEND
};
static const struct dm_param p_host_evacuate[] = {
	P("host ref", "host"), PD("network ref", "network", "OpaqueRef:NULL"),
	PD("int", "evacuate_batch_size", "0"), PEND
};

static struct dm_msg host_msgs[] = {
	M("get_servertime", "datetime", p_host, api_host_get_servertime, 0),
	M("get_server_localtime", NULL, p_host, api_host_get_server_localtime, DM_M_RAW),
	M("get_server_certificate", "string", p_host, api_host_get_server_certificate, 0),
	M("set_https_only", "void", p_host_bool, api_host_set_https_only, 0),
	M("set_hostname_live", "void", p_host_name, api_host_set_hostname_live, 0),
	M("disable", "void", p_host_disable, api_host_disable, DM_M_ASYNC),
	M("enable", "void", p_host, api_host_enable, DM_M_ASYNC),
	M("shutdown", "void", p_host, api_host_shutdown, DM_M_ASYNC),
	M("reboot", "void", p_host, api_host_reboot, DM_M_ASYNC),
	M("restart_agent", "void", p_host, api_host_restart_agent, DM_M_ASYNC),
	M("evacuate", "void", p_host_evacuate, api_host_evacuate, DM_M_ASYNC),
	M("get_log", "string", p_host, api_host_get_log, 0),
#ifdef CONFIG_XB_POOL
	M("destroy", "void", p_host, api_host_destroy, DM_M_ASYNC),    /* pool/forward.c */
#endif
	MEND
};

static struct dm_class c_host = { "host", DM_C_MIRROR, host_fields, host_msgs, NULL, NULL };

static struct dm_field host_metrics_fields[] = {
	F("uuid", "string", RO, NULL),
	FV("memory_total", "int", RO, NULL),
	FV("memory_free", "int", RO, NULL),
	FV("live", "bool", RO, NULL),
	FV("last_updated", "datetime", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	END
};
static struct dm_class c_host_metrics = { "host_metrics", DM_C_MIRROR | DM_C_METRICS, host_metrics_fields, NULL, NULL, NULL };

static struct dm_field host_cpu_fields[] = {
	F("uuid", "string", RO, NULL),
	F("host", "host ref", RO, NULL),
	F("number", "int", RO, NULL),
	F("vendor", "string", RO, NULL),
	F("speed", "int", RO, NULL),
	F("modelname", "string", RO, NULL),
	F("family", "int", RO, NULL),
	F("model", "int", RO, NULL),
	F("stepping", "string", RO, NULL),
	F("flags", "string", RO, NULL),
	F("features", "string", RO, NULL),
	FV("utilisation", "float", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	END
};
static struct dm_class c_host_cpu = { "host_cpu", DM_C_MIRROR | DM_C_METRICS, host_cpu_fields, NULL, NULL, NULL };

/* ---- VM ---- */

static struct dm_field vm_fields[] = {
	F("uuid", "string", RO, NULL),
	F("allowed_operations", "vm_operations set", RO, NULL),
	FV("current_operations", "(string -> vm_operations) map", RO, NULL),
	F("name_label", "string", RW, NULL),
	F("name_description", "string", RW, NULL),
	F("power_state", "vm_power_state", RO, "Halted"),
	F("user_version", "int", RW, "1"),
	F("is_a_template", "bool", RW, NULL),
	F("is_default_template", "bool", RO, NULL),
	F("suspend_VDI", "VDI ref", RO, NULL),
	F("resident_on", "host ref", RO, NULL),
	F("scheduled_to_be_resident_on", "host ref", RO, NULL),
	F("affinity", "host ref", RW, NULL),
	F("memory_overhead", "int", RO, NULL),
	F("memory_target", "int", RO, NULL),
	F("memory_static_max", "int", RW, "268435456"),
	F("memory_dynamic_max", "int", RW, "268435456"),
	F("memory_dynamic_min", "int", RW, "268435456"),
	F("memory_static_min", "int", RW, "268435456"),
	F("VCPUs_params", SMAP, RW, NULL),
	F("VCPUs_max", "int", RW, "1"),
	F("VCPUs_at_startup", "int", RW, "1"),
	F("actions_after_softreboot", "on_softreboot_behavior", RW, "soft_reboot"),
	F("actions_after_shutdown", "on_normal_exit", RW, "destroy"),
	F("actions_after_reboot", "on_normal_exit", RW, "restart"),
	F("actions_after_crash", "on_crash_behaviour", RW, "restart"),
	INV("consoles", "console ref set", "console.VM"),
	INV("VIFs", "VIF ref set", "VIF.VM"),
	INV("VBDs", "VBD ref set", "VBD.VM"),
	F("VUSBs", "VUSB ref set", RO, NULL),
	F("crash_dumps", "crashdump ref set", RO, NULL),
	F("VTPMs", "VTPM ref set", RO, NULL),
	F("PV_bootloader", "string", RW, NULL),
	F("PV_kernel", "string", RW, NULL),
	F("PV_ramdisk", "string", RW, NULL),
	F("PV_args", "string", RW, NULL),
	F("PV_bootloader_args", "string", RW, NULL),
	F("PV_legacy_args", "string", RW, NULL),
	F("HVM_boot_policy", "string", RW, NULL),
	F("HVM_boot_params", SMAP, RW, NULL),
	F("HVM_shadow_multiplier", "float", RW, "1.0"),
	F("platform", SMAP, RW, NULL),
	F("PCI_bus", "string", RW, NULL),
	F("other_config", SMAP, RW, NULL),
	F("domid", "int", RO, "-1"),
	F("domarch", "string", RO, NULL),
	F("last_boot_CPU_flags", SMAP, RO, NULL),
	F("is_control_domain", "bool", RO, NULL),
	F("metrics", "VM_metrics ref", RO, NULL),
	F("guest_metrics", "VM_guest_metrics ref", RO, NULL),
	F("last_booted_record", "string", RO, NULL),
	F("recommendations", "string", RW, NULL),
	F("xenstore_data", SMAP, RW, NULL),
	F("ha_always_run", "bool", RO, NULL),
	F("ha_restart_priority", "string", RO, NULL),
	F("is_a_snapshot", "bool", RO, NULL),
	F("snapshot_of", "VM ref", RO, NULL),
	INV("snapshots", "VM ref set", "VM.snapshot_of"),
	F("snapshot_time", "datetime", RO, NULL),
	F("transportable_snapshot_id", "string", RO, NULL),
	F("blobs", "(string -> blob ref) map", RO, NULL),
	F("tags", "string set", RW, NULL),
	F("blocked_operations", "(vm_operations -> string) map", RW, NULL),
	F("snapshot_info", SMAP, RO, NULL),
	F("snapshot_metadata", "string", RO, NULL),
	F("parent", "VM ref", RO, NULL),
	INV("children", "VM ref set", "VM.parent"),
	F("bios_strings", SMAP, RO, NULL),
	F("protection_policy", "VMPP ref", RO, NULL),
	F("is_snapshot_from_vmpp", "bool", RO, NULL),
	F("snapshot_schedule", "VMSS ref", RO, NULL),
	F("is_vmss_snapshot", "bool", RO, NULL),
	F("appliance", "VM_appliance ref", RO, NULL),
	F("start_delay", "int", RW, NULL),     /* auto power-on (api/vm.c) */
	F("shutdown_delay", "int", RW, NULL),
	F("order", "int", RW, NULL),
	F("VGPUs", "VGPU ref set", RO, NULL),
	F("attached_PCIs", "PCI ref set", RO, NULL),
	F("suspend_SR", "SR ref", RW, NULL),
	F("version", "int", RO, NULL),
	F("generation_id", "string", RO, NULL),
	F("hardware_platform_version", "int", RO, NULL),
	F("has_vendor_device", "bool", RO, NULL),
	F("requires_reboot", "bool", RO, NULL),
	F("reference_label", "string", RO, NULL),
	F("domain_type", "domain_type", RW, "pv"),
	F("NVRAM", SMAP, RO, NULL),
	F("pending_guidances", "update_guidances set", RO, NULL),
	F("pending_guidances_recommended", "update_guidances set", RO, NULL),
	F("pending_guidances_full", "update_guidances set", RO, NULL),
	END
};

static const struct dm_param p_vm[] = { P("VM ref", "vm"), PEND };
static const struct dm_param p_vm_start[] = {
	P("VM ref", "vm"), PD("bool", "start_paused", "false"), PD("bool", "force", "false"), PEND
};
static const struct dm_param p_vm_start_on[] = {
	P("VM ref", "vm"), P("host ref", "host"), PD("bool", "start_paused", "false"),
	PD("bool", "force", "false"), PEND
};

/* vm_copy.c (docs/STORAGE.md 4.2) */
static const struct dm_param p_vm_clone[] = { P("VM ref", "vm"), P("string", "new_name"), PEND };
static const struct dm_param p_vm_copy[] = {
	P("VM ref", "vm"), P("string", "new_name"), P("SR ref", "sr"), PEND
};
static const struct dm_param p_vm_snapshot[] = {
	P("VM ref", "vm"), P("string", "new_name"), PD("VDI ref set", "ignore_vdis", "()"), PEND
};
static const struct dm_param p_vm_revert[] = { P("VM ref", "snapshot"), PEND };
static const struct dm_param p_vm_mem_limits[] = {
	P("VM ref", "self"), P("int", "static_min"), P("int", "static_max"),
	P("int", "dynamic_min"), P("int", "dynamic_max"), PEND
};
static const struct dm_param p_vm_vcpus_live[] = { P("VM ref", "self"), P("int", "nvcpu"), PEND };

static struct dm_msg vm_msgs[] = {
	M("clone", "VM ref", p_vm_clone, api_vm_clone, DM_M_ASYNC),
	M("copy", "VM ref", p_vm_copy, api_vm_copy, DM_M_ASYNC),
	M("snapshot", "VM ref", p_vm_snapshot, api_vm_snapshot, DM_M_ASYNC),
	M("revert", "void", p_vm_revert, api_vm_revert, DM_M_ASYNC),
	M("provision", "void", p_vm, api_vm_provision, DM_M_ASYNC),
	M("get_allowed_VBD_devices", "string set", p_vm, api_vm_allowed_vbd_devices, 0),
	M("get_allowed_VIF_devices", "string set", p_vm, api_vm_allowed_vif_devices, 0),
	M("set_memory_limits", "void", p_vm_mem_limits, api_vm_set_memory_limits, DM_M_ASYNC),
	M("set_VCPUs_number_live", "void", p_vm_vcpus_live, api_vm_set_vcpus_live, DM_M_ASYNC),
	M("start", "void", p_vm_start, api_vm_start, DM_M_ASYNC),
	M("start_on", "void", p_vm_start_on, api_vm_start_on, DM_M_ASYNC),
	M("clean_shutdown", "void", p_vm, api_vm_clean_shutdown, DM_M_ASYNC),
	M("hard_shutdown", "void", p_vm, api_vm_hard_shutdown, DM_M_ASYNC),
	M("shutdown", "void", p_vm, api_vm_shutdown, DM_M_ASYNC),
	M("clean_reboot", "void", p_vm, api_vm_clean_reboot, DM_M_ASYNC),
	M("hard_reboot", "void", p_vm, api_vm_hard_reboot, DM_M_ASYNC),
	M("pause", "void", p_vm, api_vm_pause, DM_M_ASYNC),
	M("unpause", "void", p_vm, api_vm_unpause, DM_M_ASYNC),
	M("power_state_reset", "void", p_vm, api_vm_power_state_reset, DM_M_ASYNC),
	MEND
};

static struct dm_class c_vm = {
	"VM", DM_C_CREATE | DM_C_DESTROY | DM_C_MIRROR, vm_fields, vm_msgs, api_vm_on_create, api_vm_on_destroy,
};

static struct dm_field vm_metrics_fields[] = {
	F("uuid", "string", RO, NULL),
	FV("memory_actual", "int", RO, NULL),
	FV("VCPUs_number", "int", RO, NULL),
	FV("VCPUs_utilisation", "(int -> float) map", RO, NULL),
	FV("VCPUs_CPU", "(int -> int) map", RO, NULL),
	FV("VCPUs_params", SMAP, RO, NULL),
	FV("VCPUs_flags", "(int -> string set) map", RO, NULL),
	F("state", "string set", RO, NULL),
	F("start_time", "datetime", RO, NULL),
	F("install_time", "datetime", RO, NULL),
	FV("last_updated", "datetime", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	F("hvm", "bool", RO, NULL),
	F("nested_virt", "bool", RO, NULL),
	F("nomigrate", "bool", RO, NULL),
	F("current_domain_type", "domain_type", RO, "unspecified"),
	END
};
static struct dm_class c_vm_metrics = { "VM_metrics", DM_C_MIRROR | DM_C_METRICS, vm_metrics_fields, NULL, NULL, NULL };

static struct dm_field vm_guest_metrics_fields[] = {
	F("uuid", "string", RO, NULL),
	F("os_version", SMAP, RO, NULL),
	F("netbios_name", SMAP, RO, NULL),
	F("PV_drivers_version", SMAP, RO, NULL),
	F("PV_drivers_up_to_date", "bool", RO, NULL),
	F("memory", SMAP, RO, NULL),
	F("disks", SMAP, RO, NULL),
	F("networks", SMAP, RO, NULL),
	F("other", SMAP, RO, NULL),
	F("last_updated", "datetime", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	F("live", "bool", RO, NULL),
	F("can_use_hotplug_vbd", "tristate_type", RO, "unspecified"),
	F("can_use_hotplug_vif", "tristate_type", RO, "unspecified"),
	F("PV_drivers_detected", "bool", RO, NULL),
	END
};
static struct dm_class c_vm_guest_metrics = { "VM_guest_metrics", DM_C_MIRROR | DM_C_METRICS, vm_guest_metrics_fields, NULL, NULL, NULL };

/* ---- console ---- */

static struct dm_field console_fields[] = {
	F("uuid", "string", RO, NULL),
	F("protocol", "console_protocol", RO, "vt100"),
	F("location", "string", RO, NULL),
	F("VM", "VM ref", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	END
};
static struct dm_class c_console = { "console", DM_C_MIRROR, console_fields, NULL, NULL, NULL };

/* ---- network and devices ---- */

static struct dm_field network_fields[] = {
	F("uuid", "string", RO, NULL),
	F("name_label", "string", RW, NULL),
	F("name_description", "string", RW, NULL),
	F("allowed_operations", "network_operations set", RO, NULL),
	F("current_operations", "(string -> network_operations) map", RO, NULL),
	INV("VIFs", "VIF ref set", "VIF.network"),
	INV("PIFs", "PIF ref set", "PIF.network"),
	F("MTU", "int", RW, "1500"),
	F("other_config", SMAP, RW, NULL),
	F("bridge", "string", RC, NULL),
	F("managed", "bool", RC, "true"),
	F("blobs", "(string -> blob ref) map", RO, NULL),
	F("tags", "string set", RW, NULL),
	F("default_locking_mode", "network_default_locking_mode", RO, "unlocked"),
	F("assigned_ips", "(VIF ref -> string) map", RO, NULL),
	F("purpose", "string set", RO, NULL),
	END
};
static struct dm_class c_network = {
	"network", DM_C_CREATE | DM_C_DESTROY | DM_C_MIRROR, network_fields, NULL, api_network_on_create, NULL,
};

static struct dm_field pif_fields[] = {
	F("uuid", "string", RO, NULL),
	F("device", "string", RO, NULL),
	F("network", "network ref", RO, NULL),
	F("host", "host ref", RO, NULL),
	F("MAC", "string", RO, NULL),
	F("MTU", "int", RO, "1500"),
	F("VLAN", "int", RO, "-1"),
	F("metrics", "PIF_metrics ref", RO, NULL),
	F("physical", "bool", RO, "true"),
	F("currently_attached", "bool", RO, "true"),
	F("ip_configuration_mode", "ip_configuration_mode", RO, "None"),
	F("IP", "string", RO, NULL),
	F("netmask", "string", RO, NULL),
	F("gateway", "string", RO, NULL),
	F("DNS", "string", RO, NULL),
	F("bond_slave_of", "Bond ref", RO, NULL),
	F("bond_master_of", "Bond ref set", RO, NULL),
	F("VLAN_master_of", "VLAN ref", RO, NULL),
	F("VLAN_slave_of", "VLAN ref set", RO, NULL),
	F("management", "bool", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	F("disallow_unplug", "bool", RW, NULL),
	F("tunnel_access_PIF_of", "tunnel ref set", RO, NULL),
	F("tunnel_transport_PIF_of", "tunnel ref set", RO, NULL),
	F("ipv6_configuration_mode", "ipv6_configuration_mode", RO, "None"),
	F("IPv6", "string set", RO, NULL),
	F("ipv6_gateway", "string", RO, NULL),
	F("primary_address_type", "primary_address_type", RO, "IPv4"),
	F("managed", "bool", RO, "true"),
	F("properties", SMAP, RO, NULL),
	F("capabilities", "string set", RO, NULL),
	F("igmp_snooping_status", "pif_igmp_status", RO, "unknown"),
	F("sriov_physical_PIF_of", "network_sriov ref set", RO, NULL),
	F("sriov_logical_PIF_of", "network_sriov ref set", RO, NULL),
	F("PCI", "PCI ref", RO, NULL),
	END
};
static struct dm_class c_pif = { "PIF", DM_C_MIRROR, pif_fields, NULL, NULL, NULL };

static struct dm_field vif_fields[] = {
	F("uuid", "string", RO, NULL),
	F("allowed_operations", "vif_operations set", RO, NULL),
	F("current_operations", "(string -> vif_operations) map", RO, NULL),
	F("device", "string", RC, NULL),
	F("network", "network ref", RC, NULL),
	F("VM", "VM ref", RC, NULL),
	F("MAC", "string", RC, NULL),
	F("MTU", "int", RC, "1500"),
	F("other_config", SMAP, RW, NULL),
	F("currently_attached", "bool", RO, NULL),
	F("status_code", "int", RO, NULL),
	F("status_detail", "string", RO, NULL),
	F("runtime_properties", SMAP, RO, NULL),
	F("qos_algorithm_type", "string", RW, NULL),
	F("qos_algorithm_params", SMAP, RW, NULL),
	F("qos_supported_algorithms", "string set", RO, NULL),
	F("metrics", "VIF_metrics ref", RO, NULL),
	F("MAC_autogenerated", "bool", RO, NULL),
	F("locking_mode", "vif_locking_mode", RW, "network_default"),
	F("ipv4_allowed", "string set", RW, NULL),
	F("ipv6_allowed", "string set", RW, NULL),
	F("ipv4_configuration_mode", "vif_ipv4_configuration_mode", RO, "None"),
	F("ipv4_addresses", "string set", RO, NULL),
	F("ipv4_gateway", "string", RO, NULL),
	F("ipv6_configuration_mode", "vif_ipv6_configuration_mode", RO, "None"),
	F("ipv6_addresses", "string set", RO, NULL),
	F("ipv6_gateway", "string", RO, NULL),
	F("PCI", "PCI ref", RO, NULL),
	END
};
static struct dm_class c_vif = {
	"VIF", DM_C_CREATE | DM_C_DESTROY | DM_C_MIRROR, vif_fields, NULL, api_vif_on_create, NULL,
};

/* ---- storage ---- */

static struct dm_field sr_fields[] = {
	F("uuid", "string", RO, NULL),
	F("name_label", "string", RW, NULL),
	F("name_description", "string", RW, NULL),
	F("allowed_operations", "storage_operations set", RO, NULL),
	F("current_operations", "(string -> storage_operations) map", RO, NULL),
	INV("VDIs", "VDI ref set", "VDI.SR"),
	INV("PBDs", "PBD ref set", "PBD.SR"),
	/* volatile: recomputed, never written to the stick (STORAGE.md 2.7) */
	FV("virtual_allocation", "int", RO, NULL),
	FV("physical_utilisation", "int", RO, NULL),
	FV("physical_size", "int", RO, NULL),
	F("type", "string", RO, NULL),
	F("content_type", "string", RO, NULL),
	F("shared", "bool", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	F("tags", "string set", RW, NULL),
	F("sm_config", SMAP, RO, NULL),
	F("blobs", "(string -> blob ref) map", RO, NULL),
	F("local_cache_enabled", "bool", RO, NULL),
	F("introduced_by", "DR_task ref", RO, NULL),
	F("clustered", "bool", RO, NULL),
	F("is_tools_sr", "bool", RO, NULL),
	END
};
static const struct dm_param p_sr[] = { P("SR ref", "sr"), PEND };
static struct dm_msg sr_msgs[] = {
	M("get_supported_types", "string set", p_none, api_sr_get_supported_types, 0),
	M("scan", "void", p_sr, api_sr_scan, DM_M_ASYNC),
	M("forget", "void", p_sr, api_sr_forget, DM_M_ASYNC),
	MEND
};
static struct dm_class c_sr = { "SR", DM_C_MIRROR, sr_fields, sr_msgs, NULL, NULL };

static struct dm_field vdi_fields[] = {
	F("uuid", "string", RO, NULL),
	F("name_label", "string", RW, NULL),
	F("name_description", "string", RW, NULL),
	F("allowed_operations", "vdi_operations set", RO, NULL),
	/* volatile: an operation a crash cut short holds no VDI forever */
	FV("current_operations", "(string -> vdi_operations) map", RO, NULL),
	F("SR", "SR ref", RC, NULL),
	INV("VBDs", "VBD ref set", "VBD.VDI"),
	F("crash_dumps", "crashdump ref set", RO, NULL),
	F("virtual_size", "int", RC, NULL),
	F("physical_utilisation", "int", RO, NULL),
	F("type", "vdi_type", RC, "user"),
	F("sharable", "bool", RC, NULL),
	F("read_only", "bool", RC, NULL),
	F("other_config", SMAP, RW, NULL),
	F("storage_lock", "bool", RO, NULL),
	F("location", "string", RO, NULL),
	F("managed", "bool", RO, "true"),
	F("missing", "bool", RO, NULL),
	F("parent", "VDI ref", RO, NULL),
	F("xenstore_data", SMAP, RC, NULL),
	F("sm_config", SMAP, RC, NULL),
	F("is_a_snapshot", "bool", RO, NULL),
	F("snapshot_of", "VDI ref", RO, NULL),
	INV("snapshots", "VDI ref set", "VDI.snapshot_of"),
	F("snapshot_time", "datetime", RO, NULL),
	F("tags", "string set", RW, NULL),
	F("allow_caching", "bool", RO, NULL),
	F("on_boot", "on_boot", RO, "persist"),
	F("metadata_of_pool", "pool ref", RO, NULL),
	F("metadata_latest", "bool", RO, NULL),
	F("is_tools_iso", "bool", RO, NULL),
	F("cbt_enabled", "bool", RO, NULL),
	END
};
/* vdi_ops.c (docs/STORAGE.md 4.1) */
static const struct dm_param p_vdi_clone[] = {
	P("VDI ref", "vdi"), PD(SMAP, "driver_params", "{}"), PEND
};
static const struct dm_param p_vdi_copy[] = {
	P("VDI ref", "vdi"), P("SR ref", "sr"), PD("VDI ref", "base_vdi", "OpaqueRef:NULL"),
	PD("VDI ref", "into_vdi", "OpaqueRef:NULL"), PEND
};
static const struct dm_param p_vdi_resize[] = { P("VDI ref", "vdi"), P("int", "size"), PEND };

static struct dm_msg vdi_msgs[] = {
	M("clone", "VDI ref", p_vdi_clone, api_vdi_clone, DM_M_ASYNC),
	M("snapshot", "VDI ref", p_vdi_clone, api_vdi_snapshot, DM_M_ASYNC),
	M("copy", "VDI ref", p_vdi_copy, api_vdi_copy, DM_M_ASYNC),
	M("resize", "void", p_vdi_resize, api_vdi_resize, DM_M_ASYNC),
	MEND
};
static struct dm_class c_vdi = {
	"VDI", DM_C_CREATE | DM_C_DESTROY | DM_C_MIRROR, vdi_fields, vdi_msgs, api_vdi_on_create, api_vdi_on_destroy,
};

static struct dm_field vbd_fields[] = {
	F("uuid", "string", RO, NULL),
	F("allowed_operations", "vbd_operations set", RO, NULL),
	F("current_operations", "(string -> vbd_operations) map", RO, NULL),
	F("VM", "VM ref", RC, NULL),
	F("VDI", "VDI ref", RC, NULL),
	F("device", "string", RO, NULL),
	F("userdevice", "string", RW, NULL),
	F("bootable", "bool", RW, NULL),
	F("mode", "vbd_mode", RW, "RW"),
	F("type", "vbd_type", RW, "Disk"),
	F("unpluggable", "bool", RW, "true"),
	F("storage_lock", "bool", RO, NULL),
	F("empty", "bool", RC, NULL),
	F("other_config", SMAP, RW, NULL),
	F("currently_attached", "bool", RO, NULL),
	F("status_code", "int", RO, NULL),
	F("status_detail", "string", RO, NULL),
	F("runtime_properties", SMAP, RO, NULL),
	F("qos_algorithm_type", "string", RW, NULL),
	F("qos_algorithm_params", SMAP, RW, NULL),
	F("qos_supported_algorithms", "string set", RO, NULL),
	F("metrics", "VBD_metrics ref", RO, NULL),
	END
};
static struct dm_class c_vbd = {
	"VBD", DM_C_CREATE | DM_C_DESTROY | DM_C_MIRROR, vbd_fields, NULL, api_vbd_on_create, NULL,
};

static struct dm_field pbd_fields[] = {
	F("uuid", "string", RO, NULL),
	F("host", "host ref", RC, NULL),
	F("SR", "SR ref", RC, NULL),
	F("device_config", SMAP, RC, NULL),
	F("currently_attached", "bool", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	END
};
static const struct dm_param p_pbd[] = { P("PBD ref", "self"), PEND };
static struct dm_msg pbd_msgs[] = {
	M("plug", "void", p_pbd, api_pbd_plug, DM_M_ASYNC),
	M("unplug", "void", p_pbd, api_pbd_unplug, DM_M_ASYNC),
	MEND
};
static struct dm_class c_pbd = {
	"PBD", DM_C_CREATE | DM_C_DESTROY | DM_C_MIRROR, pbd_fields, pbd_msgs, NULL, api_pbd_on_destroy,
};

/* ---- tasks, messages, roles, users ---- */

static struct dm_field task_fields[] = {
	F("uuid", "string", RO, NULL),
	F("name_label", "string", RO, NULL),
	F("name_description", "string", RO, NULL),
	F("allowed_operations", "task_allowed_operations set", RO, NULL),
	F("current_operations", "(string -> task_allowed_operations) map", RO, NULL),
	F("created", "datetime", RO, NULL),
	F("finished", "datetime", RO, NULL),
	F("status", "task_status_type", RO, "pending"),
	F("resident_on", "host ref", RO, NULL),
	F("progress", "float", RO, NULL),
	F("type", "string", RO, NULL),
	F("result", "string", RO, NULL),
	F("error_info", "string set", RO, NULL),
	F("other_config", SMAP, RW, NULL),
	F("subtask_of", "task ref", RO, NULL),
	F("subtasks", "task ref set", RO, NULL),
	F("backtrace", "string", RO, NULL),
	{ .name = "session", .type = "session ref", .qual = DM_RO, .flags = DM_F_HIDDEN },
	END
};

static const struct dm_param p_task[] = { P("task ref", "task"), PEND };
static const struct dm_param p_task_create[] = {
	P("string", "label"), PD("string", "description", ""), PEND
};

static struct dm_msg task_msgs[] = {
	M("create", "task ref", p_task_create, api_task_create, 0),
	M("cancel", "void", p_task, api_task_cancel, DM_M_ASYNC),
	M("destroy", "void", p_task, api_task_destroy, 0),
	MEND
};
static struct dm_class c_task = { "task", DM_C_VOLATILE, task_fields, task_msgs, NULL, NULL };

static struct dm_field message_fields[] = {
	F("uuid", "string", RO, NULL),
	F("name", "string", RO, NULL),
	F("priority", "int", RO, NULL),
	F("cls", "cls", RO, "Host"),
	F("obj_uuid", "string", RO, NULL),
	F("timestamp", "datetime", RO, NULL),
	F("body", "string", RO, NULL),
	END
};
static const struct dm_param p_message_create[] = {
	P("string", "name"), P("int", "priority"), P("cls", "cls"),
	P("string", "obj_uuid"), P("string", "body"), PEND
};
static const struct dm_param p_message_get[] = {
	P("cls", "cls"), P("string", "obj_uuid"), P("datetime", "since"), PEND
};
static const struct dm_param p_since[] = { P("datetime", "since"), PEND };

static struct dm_msg message_msgs[] = {
	M("create", "message ref", p_message_create, api_message_create_h, 0),
	M("get", NULL, p_message_get, api_message_get, DM_M_RAW),
	M("get_since", NULL, p_since, api_message_get_since, DM_M_RAW),
	MEND
};
static struct dm_class c_message = { "message", DM_C_DESTROY | DM_C_MIRROR, message_fields, message_msgs, NULL, NULL };

static struct dm_field role_fields[] = {
	F("uuid", "string", RO, NULL),
	F("name_label", "string", RO, NULL),
	F("name_description", "string", RO, NULL),
	F("subroles", "role ref set", RO, NULL),
	F("is_internal", "bool", RO, NULL),
	END
};
static struct dm_class c_role = { "role", DM_C_VOLATILE, role_fields, NULL, NULL, NULL };

static struct dm_field user_fields[] = {
	F("uuid", "string", RO, NULL),
	F("short_name", "string", RC, NULL),
	F("fullname", "string", RW, NULL),
	F("other_config", SMAP, RW, NULL),
	END
};
static struct dm_class c_user = { "user", 0, user_fields, NULL, NULL, NULL };

/* event and system carry messages only (no objects) */
static const struct dm_param p_event_from[] = {
	P("string set", "classes"), P("string", "token"), P("float", "timeout"), PEND
};
static const struct dm_param p_event_reg[] = { P("string set", "classes"), PEND };
static const struct dm_param p_event_inject[] = { P("string", "class"), P("string", "ref"), PEND };

static struct dm_msg event_msgs[] = {
	M("from", NULL, p_event_from, api_event_from, DM_M_RAW),
	M("inject", "string", p_event_inject, api_event_inject, 0),
	M("register", "void", p_event_reg, api_event_register, 0),
	M("unregister", "void", p_event_reg, api_event_unregister, 0),
	M("next", NULL, p_none, api_event_next, DM_M_RAW),
	M("get_current_id", "int", p_none, api_event_get_current_id, 0),
	MEND
};
static struct dm_field no_fields[] = { END };
static struct dm_class c_event = { "event", DM_C_VOLATILE | DM_C_NO_UUID | DM_C_NO_OBJECTS,
	no_fields, event_msgs, NULL, NULL };

struct dm_class *const dm_classes[] = {
	/* the pool's classes first: the store loads in this order, and a
	 * mirrored object's owner is found through them (docs/POOL.md 4.1) */
	POOL_CLASSES &c_session, &c_pool, &c_host, &c_host_metrics, &c_host_cpu, &c_vm,
	&c_vm_metrics, &c_vm_guest_metrics, &c_console, &c_network, &c_pif,
	&c_vif, &c_sr, &c_vdi, &c_vbd, &c_pbd, &c_task, &c_message, &c_role,
	&c_user, &c_event,
};
const size_t dm_nclasses = sizeof(dm_classes) / sizeof(dm_classes[0]);
