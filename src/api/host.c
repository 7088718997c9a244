/* This host's own objects: pool, host, host_metrics, host_cpus, the
 * control domain, roles, the local SR and the management network.
 * Created on first start, adopted (and refreshed) from the store after.
 * A host that runs no guests (backend none: empty capabilities) gets no
 * SR and no network: it has nothing to store or connect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/log.h"
#include "lib/util.h"
#include "vmm/backend.h"

struct obj *api_this_host, *api_pool;
struct vmm *api_vmm;
int api_runs_guests;
char *api_state_dir;
char *api_sr_dir;
int (*api_https_only_hook)(int on, char *err, size_t errlen);

/* This host's objects only: on a pool's master the members' are there too
 * (owner != 0, docs/POOL.md 4.1), on a member the master's host. */
static struct obj *first_of(const char *cls)
{
	struct obj *o = dm_class_find(cls)->first;

	while (o && o->owner)
		o = o->next;
	return o;
}

/* the first object of class cls whose string field f is value: O(objects);
 * FIND_BY(SR, type, "file") names class and field once */
#define FIND_BY(cls, f, value) find_by(#cls, FLD(cls, f), value)
static struct obj *find_by(const char *cls, int f, const char *value)
{
	struct dm_class *k = dm_class_find(cls);

	for (struct obj *o = k->first; o; o = o->next)
		if (!o->owner && !strcmp(dm_get_str(o, f), value))
			return o;
	return NULL;
}

static void set_map(struct obj *o, int f, const char *const *kv)
{
	struct dm_val m = { 0 };

	for (; kv[0]; kv += 2)
		dm_map_put_str(&m, kv[0], kv[1]);
	dm_set(o, f, &m);
	dm_val_free(o->cls->fields[f].t, &m);
}

static void set_strset(struct obj *o, int f, const char *const *v)
{
	struct dm_val s = { 0 };

	for (; *v; v++) {
		struct dm_val e = { .u.s = dm_str(*v) };

		dm_list_push(NULL, &s, &e);
	}
	dm_set(o, f, &s);
	dm_val_free(o->cls->fields[f].t, &s);
}

#define S(o, cls, f, v) dm_set_str(o, OF(o, cls, f), v)
#define I(o, cls, f, v) dm_set_int(o, OF(o, cls, f), v)

static void refresh_host(struct obj *h, const struct vmm_host_info *hi, const char *hostname)
{
	char cpus[16], khz[32];
	const char *sw[] = {
		"product_brand", "xenbox", "product_version", XB_VERSION,
		"platform_name", "XCP", "platform_version", "3.4.0",
		"xapi", "24.0", "xen", hi->version, "hostname", hostname,
		"date", "", NULL,
	};
	const char *caps[] = { *hi->capabilities ? hi->capabilities : NULL, NULL };

	snprintf(cpus, sizeof(cpus), "%u", hi->nr_cpus);
	snprintf(khz, sizeof(khz), "%llu", (unsigned long long)(hi->cpu_khz / 1000));
	{
		const char *ci[] = { "cpu_count", cpus, "socket_count", "1", "speed", khz,
				     "vendor", "", "modelname", "", NULL };

		set_map(h, OF(h, host, cpu_info), ci);
	}
	set_map(h, OF(h, host, software_version), sw);
	set_strset(h, OF(h, host, capabilities), caps);
	S(h, host, hostname, hostname);
}

static struct obj *ensure(const char *cls, struct obj *existing)
{
	return existing ? existing : dm_obj_new(dm_class_find(cls), NULL, NULL);
}

int api_host_init(struct vmm *vmm, const char *hostname, char *err, size_t errlen)
{
	struct vmm_host_info hi;
	struct obj *h, *hm, *pool, *dom0, *m, *sr, *pbd, *net, *pif;
	char e[VMM_ERR_MAX], path[600];
	int rc;

	api_vmm = vmm;
	rc = vmm_host_info(vmm, &hi, e, sizeof(e));
	if (rc) {
		snprintf(err, errlen, "host info: %s", e);
		return -1;
	}
	api_runs_guests = hi.capabilities[0] != 0;
	h = ensure("host", first_of("host"));
	api_this_host = h;
	S(h, host, name_label, *dm_get_str(h, OF(h, host, name_label)) ? dm_get_str(h, OF(h, host, name_label)) : hostname);
	refresh_host(h, &hi, hostname);

	hm = ensure("host_metrics", first_of("host_metrics"));
	I(hm, host_metrics, memory_total, (int64_t)hi.total_memory);
	I(hm, host_metrics, memory_free, (int64_t)hi.free_memory);
	I(hm, host_metrics, live, 1);
	I(hm, host_metrics, last_updated, now_wall());
	S(h, host, metrics, hm->ref);

	/* a member's is its master's (owner 1: docs/POOL.md 4.4) */
	pool = ensure("pool", dm_class_find("pool")->first);
	api_pool = pool;
	if (!pool->owner)
		S(pool, pool, master, h->ref);

	/* one host_cpu per physical CPU */
	{
		struct dm_class *kc = dm_class_find("host_cpu");
		unsigned n = 0;

		for (struct obj *o = kc->first; o; o = o->next)
			n += !o->owner;
		for (; n < hi.nr_cpus; n++) {
			struct obj *cpu = dm_obj_new(kc, NULL, NULL);

			S(cpu, host_cpu, host, h->ref);
			I(cpu, host_cpu, number, n);
			I(cpu, host_cpu, speed, (int64_t)(hi.cpu_khz / 1000));
		}
	}

	/* the control domain */
	dom0 = NULL;
	{
		struct dm_class *kv = dm_class_find("VM");
		int f = FLD(VM, is_control_domain);

		for (struct obj *o = kv->first; o; o = o->next)
			if (dm_fv(o, f)->u.i && !o->owner)
				dom0 = o;
	}
	if (!dom0) {
		dom0 = dm_obj_new(dm_class_find("VM"), NULL, NULL);
		I(dom0, VM, is_control_domain, 1);
		S(dom0, VM, name_label, "Control domain on host: ");
		m = dm_obj_new(dm_class_find("VM_metrics"), NULL, NULL);
		S(dom0, VM, metrics, m->ref);
	}
	{
		char label[300];

		snprintf(label, sizeof(label), "Control domain on host: %s", hostname);
		S(dom0, VM, name_label, label);
	}
	dm_set_enum(dom0, OF(dom0, VM, power_state), "Running");
	I(dom0, VM, domid, 0);
	S(dom0, VM, resident_on, h->ref);
	dm_set_enum(dom0, OF(dom0, VM, domain_type), "pv");
	S(h, host, control_domain, dom0->ref);

	/* roles: XAPI's built-in ones, so RBAC-aware clients find them */
	if (!first_of("role")) {
		static const char *const roles[] = {
			"pool-admin", "pool-operator", "vm-power-admin", "vm-admin",
			"vm-operator", "read-only", NULL,
		};
		for (const char *const *r = roles; *r; r++) {
			struct obj *o = dm_obj_new(dm_class_find("role"), NULL, NULL);

			S(o, role, name_label, *r);
		}
	}

	if (api_runs_guests)
		api_vm_templates_init(hi.total_memory);         /* vm_copy.c */

	/* the local file SR: raw images in <state>/sr */
	sr = FIND_BY(SR, type, "file");
	if (!sr && api_runs_guests && !strcmp(api_storage, "state")) {
		sr = dm_obj_new(dm_class_find("SR"), NULL, NULL);
		S(sr, SR, name_label, "Local storage");
		S(sr, SR, type, "file");
		S(sr, SR, content_type, "user");
		pbd = dm_obj_new(dm_class_find("PBD"), NULL, NULL);
		S(pbd, PBD, host, h->ref);
		S(pbd, PBD, SR, sr->ref);
		I(pbd, PBD, currently_attached, 1);
		S(pool, pool, default_SR, sr->ref);
	}
	if (xsnprintf(path, sizeof(path), "%s/sr", api_state_dir) < 0) {
		snprintf(err, errlen, "%s: path too long", api_state_dir);
		return -1;
	}
	{
		const char *dc[] = { "path", path, NULL };

		pbd = sr ? FIND_BY(PBD, SR, sr->ref) : NULL;
		if (pbd)
			set_map(pbd, OF(pbd, PBD, device_config), dc);
	}
	free(api_sr_dir);               /* idempotent: a re-init replaces it */
	api_sr_dir = xstrdup(path);

	/* the management network and its bridge */
	net = FIND_BY(network, bridge, "xenbr0");
	if (!net && api_runs_guests) {
		net = dm_obj_new(dm_class_find("network"), NULL, NULL);
		S(net, network, name_label, "Pool-wide network associated with eth0");
		S(net, network, bridge, "xenbr0");
		pif = dm_obj_new(dm_class_find("PIF"), NULL, NULL);
		S(pif, PIF, device, "eth0");
		S(pif, PIF, network, net->ref);
		S(pif, PIF, host, h->ref);
		I(pif, PIF, management, 1);
	}
	return 0;
}

void api_host_netinfo(const struct api_netinfo *ni)
{
	struct obj *pif = NULL;
	struct dm_class *k = dm_class_find("PIF");
	int fm = FLD(PIF, management);

	if (!api_this_host)
		return;
	S(api_this_host, host, address, ni->address);
	for (struct obj *o = k->first; o && !pif; o = o->next)
		if (dm_fv(o, fm)->u.i && !strcmp(dm_get_str(o, OF(o, PIF, host)), api_this_host->ref))
			pif = o;
	if (!pif)
		return;
	S(pif, PIF, MAC, ni->mac);
	I(pif, PIF, MTU, ni->mtu);
	S(pif, PIF, IP, ni->ip);
	S(pif, PIF, netmask, ni->netmask);
	S(pif, PIF, gateway, ni->gateway);
	S(pif, PIF, DNS, ni->dns);
	dm_set_enum(pif, OF(pif, PIF, ip_configuration_mode), ni->mode);
}

HANDLER(api_host_get_servertime)
{
	if (!api_obj(c, "host", args[0].u.s))
		return -1;
	res->u.i = now_wall();
	return 0;
}

/* The wall clock in the daemon's zone (TZ, else /etc/localtime) with no
 * zone suffix, as XAPI's Date.localtime prints it: 20240101T14:00:00. */
HANDLER(api_host_get_server_localtime)
{
	time_t now = time(NULL);
	struct tm tm;
	char s[32];
	size_t n;

	(void)res;
	if (!api_obj(c, "host", args[0].u.s))
		return -1;
	n = strftime(s, sizeof(s), "%Y%m%dT%H:%M:%S", localtime_r(&now, &tm));
	if (c->e->ops->datetime_str)
		c->e->ops->datetime_str(c->e, s, n);
	else
		emit_strn(c->e, s, n);
	return 0;
}

/* XAPI's closes port 80 in the firewall; here the plain listener moves to
 * loopback (or back), through the daemon's hook. */
HANDLER(api_host_set_https_only)
{
	struct obj *h = api_obj(c, "host", args[0].u.s);
	char err[256];

	(void)res;
	if (!h)
		return -1;
	if (api_https_only_hook && api_https_only_hook(args[1].u.i != 0, err, sizeof(err)))
		return api_fail(c, "INTERNAL_ERROR", err, NULL);
	I(h, host, https_only, args[1].u.i != 0);
	return 0;
}

/* XAPI's host.set_hostname_live(host, hostname), root sessions, this
 * host: host.hostname now (a host name: letters, digits, '-', '.', at
 * most 63 bytes, else HOST_NAME_INVALID).  The OS's name and xenbox.conf
 * are the caller's (the console's Network screen sets both). */
HANDLER(api_host_set_hostname_live)
{
	struct obj *h = api_obj(c, "host", args[0].u.s);
	const char *n = args[1].u.s;
	size_t len = strlen(n);

	(void)res;
	if (!h || api_require_root(c, "host.set_hostname_live"))
		return -1;
	if (h != api_this_host)
		return api_fail(c, "OPERATION_NOT_ALLOWED", "host.set_hostname_live: another host", NULL);
	if (!len || len > 63 || strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789-.") != len || *n == '-' || *n == '.')
		return api_fail(c, "HOST_NAME_INVALID", "letters, digits, '-' and '.', at most 63", NULL);
	S(h, host, hostname, n);
	return 0;
}

HANDLER(api_host_get_server_certificate)
{
	char path[600];
	FILE *f;
	struct buf b = BUF_INIT;
	char tmp[1024];
	size_t n;

	if (!api_obj(c, "host", args[0].u.s))
		return -1;
	xsnprintf(path, sizeof(path), "%s/xapi-ssl.pem", api_state_dir);   /* "": none */
	f = fopen(path, "r");
	if (f) {
		while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
			buf_add(&b, tmp, n);
		fclose(f);
	}
	/* only the certificate part, never the key */
	{
		const char *start = b.data ? strstr(b.data, "-----BEGIN CERTIFICATE-----") : NULL;
		const char *end = start ? strstr(start, "-----END CERTIFICATE-----") : NULL;

		res->u.s = end ? dm_strn(start, (size_t)(end - start) + 25 + 1) : dm_str("");
	}
	buf_free(&b);
	return 0;
}
