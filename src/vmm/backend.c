/* Backend registry, vmm_open/vmm_close, and the checks and names every
 * backend shares. */
#include "vmm/backend.h"

#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef CONFIG_XB_BACKEND_SIM
extern const struct vmm_backend vmm_backend_sim;
#endif
#ifdef CONFIG_XB_BACKEND_NONE
extern const struct vmm_backend vmm_backend_none;
#endif
#if defined(CONFIG_XB_BACKEND_XEN) && !defined(XB_HOST_BUILD)
/* Weak until vmm/xen.c exists, so the target links before it does. */
extern const struct vmm_backend vmm_backend_xen __attribute__((weak));
#endif

static const struct vmm_backend *find_backend(const char *name)
{
	const struct vmm_backend *b = NULL;

#if defined(CONFIG_XB_BACKEND_XEN) && !defined(XB_HOST_BUILD)
	if (!strcmp(name, "xen") && &vmm_backend_xen)
		b = &vmm_backend_xen;
#endif
#ifdef CONFIG_XB_BACKEND_SIM
	if (!strcmp(name, "sim"))
		b = &vmm_backend_sim;
#endif
#ifdef CONFIG_XB_BACKEND_NONE
	if (!strcmp(name, "none"))
		b = &vmm_backend_none;
#endif
	return b;
}

bool vmm_backend_available(const char *name)
{
	return name && find_backend(name);
}

const char *vmm_probe(const char *privcmd_path)
{
	if (access(privcmd_path, F_OK) == 0)
		return "xen";
	if (vmm_backend_available("none"))
		return "none";
	if (vmm_backend_available("sim"))
		return "sim";
	return "xen";
}

const char *vmm_probe_default(void)
{
	return vmm_probe("/dev/xen/privcmd");
}

int vmm_open(const char *name, const char *opts, struct vmm **out,
	     char *err, size_t errlen)
{
	const struct vmm_backend *b;
	int rc;

	*out = NULL;
	if (!name)
		name = vmm_probe_default();
	b = find_backend(name);
	if (!b)
		return vmm_seterr(err, errlen, -ENOENT,
				  "hypervisor backend '%s' is not in this build",
				  name);
	rc = b->open(opts ? opts : "", out, err, errlen);
	if (rc)
		*out = NULL;
	return rc;
}

void vmm_close(struct vmm *v)
{
	if (v)
		v->ops->close(v);
}

int vmm_seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- the host's boots and power ---- */

int vmm_boot_id(struct vmm *v, char *buf, size_t len)
{
	ssize_t n = -1;
	int fd;

	if (v->ops->boot_id)
		return v->ops->boot_id(v, buf, len);
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, len - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return n > 0 ? 0 : -EIO;
}

int vmm_host_power(struct vmm *v, int reboot, char *err, size_t errlen)
{
	if (!v->ops->host_power)
		return -EOPNOTSUPP;     /* callers ask vmm_can_power first */
	return v->ops->host_power(v, reboot, err, errlen);
}

/* dom0's init is busybox's (the USB and system images): SIGTERM reboots,
 * SIGUSR2 powers off, after its shutdown scripts stopped us. */
int vmm_power_command(struct vmm *v, int reboot, char *err, size_t errlen)
{
	(void)v;
	if (kill(1, reboot ? SIGTERM : SIGUSR2) < 0)
		return vmm_seterr(err, errlen, -errno, "init: %s", strerror(errno));
	return 0;
}

/* ---- names ---- */

static const char *const state_names[] = {
	[VMM_STATE_RUNNING] = "running",
	[VMM_STATE_BLOCKED] = "blocked",
	[VMM_STATE_PAUSED] = "paused",
	[VMM_STATE_SHUTDOWN] = "shutdown",
	[VMM_STATE_DYING] = "dying",
};

static const char *const reason_names[] = {
	[VMM_REASON_NONE] = "none",
	[VMM_REASON_POWEROFF] = "poweroff",
	[VMM_REASON_REBOOT] = "reboot",
	[VMM_REASON_SUSPEND] = "suspend",
	[VMM_REASON_CRASH] = "crash",
	[VMM_REASON_WATCHDOG] = "watchdog",
	[VMM_REASON_SOFT_RESET] = "soft_reset",
};

static const char *const request_names[] = {
	[VMM_REQ_POWEROFF] = "poweroff",
	[VMM_REQ_REBOOT] = "reboot",
	[VMM_REQ_HALT] = "halt",
};

static const char *const type_names[] = {
	[VMM_TYPE_PV] = "pv",
	[VMM_TYPE_PVH] = "pvh",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned i)
{
	return i < n && names[i] ? names[i] : "unknown";
}

static int parse_name(const char *const *names, size_t n, const char *s,
		      unsigned *out)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s)) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

const char *vmm_state_name(enum vmm_state s)
{
	return name_of(state_names, ARRAY_SIZE(state_names), s);
}

const char *vmm_reason_name(enum vmm_shutdown_reason r)
{
	return name_of(reason_names, ARRAY_SIZE(reason_names), r);
}

const char *vmm_request_name(enum vmm_shutdown_request r)
{
	return name_of(request_names, ARRAY_SIZE(request_names), r);
}

const char *vmm_type_name(enum vmm_domain_type t)
{
	return name_of(type_names, ARRAY_SIZE(type_names), t);
}

int vmm_state_parse(const char *s, enum vmm_state *out)
{
	unsigned i;
	int rc = parse_name(state_names, ARRAY_SIZE(state_names), s, &i);

	if (!rc)
		*out = i;
	return rc;
}

int vmm_reason_parse(const char *s, enum vmm_shutdown_reason *out)
{
	unsigned i;
	int rc = parse_name(reason_names, ARRAY_SIZE(reason_names), s, &i);

	if (!rc)
		*out = i;
	return rc;
}

int vmm_request_parse(const char *s, enum vmm_shutdown_request *out)
{
	unsigned i;
	int rc = parse_name(request_names, ARRAY_SIZE(request_names), s, &i);

	if (!rc)
		*out = i;
	return rc;
}

int vmm_type_parse(const char *s, enum vmm_domain_type *out)
{
	unsigned i;
	int rc = parse_name(type_names, ARRAY_SIZE(type_names), s, &i);

	if (!rc)
		*out = i;
	return rc;
}

/* ---- checks ---- */

bool vmm_uuid_valid(const char *s)
{
	size_t i;

	if (!s || strlen(s) != VMM_UUID_LEN)
		return false;
	for (i = 0; i < VMM_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

bool vmm_mac_valid(const char *s)
{
	size_t i;
	int c;

	if (!s || strlen(s) != 17)
		return false;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	/* A multicast address (low bit of the first octet) is no NIC's. */
	c = (unsigned char)s[1];
	return !((isdigit(c) ? c - '0' : tolower(c) - 'a' + 10) & 1);
}

bool vmm_vdev_valid(const char *s)
{
	size_t i, n;

	if (!s)
		return false;
	n = strlen(s);
	if (n == 0 || n >= VMM_VDEV_MAX || !islower((unsigned char)s[0]))
		return false;
	for (i = 1; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int check_devices(const struct vmm_domain_config *cfg,
			 char *err, size_t errlen)
{
	size_t i, j;

	if (cfg->nr_disks > VMM_MAX_DEVS || cfg->nr_nics > VMM_MAX_DEVS)
		return vmm_seterr(err, errlen, -EINVAL,
				  "at most %d disks and %d NICs per domain",
				  VMM_MAX_DEVS, VMM_MAX_DEVS);
	if ((cfg->nr_disks && !cfg->disks) || (cfg->nr_nics && !cfg->nics))
		return vmm_seterr(err, errlen, -EINVAL, "device array missing");
	for (i = 0; i < cfg->nr_disks; i++) {
		const struct vmm_disk *d = &cfg->disks[i];

		if (!d->path || !*d->path)
			return vmm_seterr(err, errlen, -EINVAL,
					  "disk %zu has no backing path", i);
		if (!vmm_vdev_valid(d->vdev))
			return vmm_seterr(err, errlen, -EINVAL,
					  "disk %zu: bad device name '%s'", i,
					  d->vdev ? d->vdev : "");
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->disks[j].vdev, d->vdev))
				return vmm_seterr(err, errlen, -EINVAL,
						  "two disks are %s", d->vdev);
	}
	for (i = 0; i < cfg->nr_nics; i++) {
		const struct vmm_nic *n = &cfg->nics[i];

		if (!vmm_mac_valid(n->mac))
			return vmm_seterr(err, errlen, -EINVAL,
					  "NIC %u: bad MAC address '%s'",
					  n->devid, n->mac ? n->mac : "");
		if (!n->bridge || !*n->bridge)
			return vmm_seterr(err, errlen, -EINVAL,
					  "NIC %u has no bridge", n->devid);
		for (j = 0; j < i; j++)
			if (cfg->nics[j].devid == n->devid)
				return vmm_seterr(err, errlen, -EINVAL,
						  "two NICs have devid %u",
						  n->devid);
	}
	return 0;
}

int vmm_config_check(const struct vmm_domain_config *cfg,
		     char *err, size_t errlen)
{
	if (!vmm_uuid_valid(cfg->uuid))
		return vmm_seterr(err, errlen, -EINVAL, "bad domain uuid '%s'",
				  cfg->uuid ? cfg->uuid : "");
	if (!cfg->name || !*cfg->name || strlen(cfg->name) >= VMM_NAME_MAX)
		return vmm_seterr(err, errlen, -EINVAL,
				  "domain name must be 1..%d bytes",
				  VMM_NAME_MAX - 1);
	if (cfg->type != VMM_TYPE_PV && cfg->type != VMM_TYPE_PVH)
		return vmm_seterr(err, errlen, -EINVAL, "bad domain type %d",
				  (int)cfg->type);
	if (!cfg->mem_dynamic_min || cfg->mem_dynamic_min > cfg->mem_target ||
	    cfg->mem_target > cfg->mem_dynamic_max ||
	    cfg->mem_dynamic_max > cfg->mem_static_max)
		return vmm_seterr(err, errlen, -EINVAL,
				  "memory must satisfy 0 < dynamic_min <= target"
				  " <= dynamic_max <= static_max");
	if (cfg->vcpus_max < 1 || cfg->vcpus_max > VMM_MAX_VCPUS ||
	    cfg->vcpus_online < 1 || cfg->vcpus_online > cfg->vcpus_max)
		return vmm_seterr(err, errlen, -EINVAL,
				  "vcpus must satisfy 1 <= at_startup <= max <= %d",
				  VMM_MAX_VCPUS);
	if (!cfg->kernel || !*cfg->kernel)
		return vmm_seterr(err, errlen, -EINVAL, "no kernel given");
	if (cfg->nr_platform && !cfg->platform)
		return vmm_seterr(err, errlen, -EINVAL, "platform array missing");
	return check_devices(cfg, err, errlen);
}
