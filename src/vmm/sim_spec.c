/* sim backend: options and fault specs (grammar in sim.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/sim_priv.h"

static const char *const op_names[SIM_OP_MAX] = {
	[SIM_OP_CREATE] = "create",
	[SIM_OP_PAUSE] = "pause",
	[SIM_OP_UNPAUSE] = "unpause",
	[SIM_OP_DESTROY] = "destroy",
	[SIM_OP_SHUTDOWN] = "shutdown",
	[SIM_OP_MEMORY] = "memory",
	[SIM_OP_VCPUS] = "vcpus",
	[SIM_OP_LIST] = "list",
	[SIM_OP_INFO] = "info",
	[SIM_OP_STATS] = "stats",
	[SIM_OP_CONSOLE] = "console",
	[SIM_OP_HOST] = "host",
	[SIM_OP_PERSIST] = "persist",
};

const char *sim_op_name(enum sim_op op)
{
	return op < SIM_OP_MAX ? op_names[op] : "?";
}

int sim_parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int sim_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (!s || !strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "on"))
		*out = true;
	else if (!strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

/* ---- the items ---- */

enum when {
	OPEN_ONLY,      /* configuration fixed at open */
	SETTING,        /* open (before the state file is read) or run time */
	ACTION,         /* open (after the state file is read) or run time */
};

struct item {
	const char *key;
	enum when when;
	int (*apply)(struct sim *s, const char *key, const char *val,
		     char *err, size_t errlen);
};

#define BAD(fmt, ...) \
	vmm_seterr(err, errlen, -EINVAL, "sim: %s=%s: " fmt, key, \
		   val ? val : "", ##__VA_ARGS__)

static int set_state(struct sim *s, const char *key, const char *val,
		     char *err, size_t errlen)
{
	if (!val || !*val)
		return BAD("a directory is needed");
	free(s->state_dir);
	s->state_dir = strdup(val);
	if (!s->state_dir)
		abort();
	return 0;
}

static int set_clock(struct sim *s, const char *key, const char *val,
		     char *err, size_t errlen)
{
	if (val && !strcmp(val, "real"))
		s->real_clock = true;
	else if (val && !strcmp(val, "manual"))
		s->real_clock = false;
	else
		return BAD("expected real or manual");
	return 0;
}

static int set_size(struct sim *s, const char *key, const char *val,
		    char *err, size_t errlen)
{
	uint64_t v;

	if (sim_parse_size(val, &v) || !v)
		return BAD("expected a size such as 512M or 8G");
	if (!strcmp(key, "mem"))
		s->mem_total = v;
	else if (!strcmp(key, "dom0_mem"))
		s->dom0_mem = v;
	else
		s->console_max = v;
	return 0;
}

static int set_cpus(struct sim *s, const char *key, const char *val,
		    char *err, size_t errlen)
{
	uint64_t v;

	if (sim_parse_u64(val, &v) || v < 1 || v > VMM_MAX_PCPUS)
		return BAD("expected 1..%d", VMM_MAX_PCPUS);
	s->nr_cpus = (unsigned)v;
	return 0;
}

static int set_delay(struct sim *s, const char *key, const char *val,
		     char *err, size_t errlen)
{
	if (sim_parse_u64(val, &s->delay_ms))
		return BAD("expected milliseconds");
	return 0;
}

static int set_check_paths(struct sim *s, const char *key, const char *val,
			   char *err, size_t errlen)
{
	if (parse_bool(val, &s->check_paths))
		return BAD("expected 0 or 1");
	return 0;
}

static int set_nomem(struct sim *s, const char *key, const char *val,
		     char *err, size_t errlen)
{
	if (parse_bool(val, &s->nomem))
		return BAD("expected 0 or 1");
	return 0;
}

/* fail=OP[:N] */
static int set_fail(struct sim *s, const char *key, const char *val,
		    char *err, size_t errlen)
{
	const char *colon = val ? strchr(val, ':') : NULL;
	size_t len = colon ? (size_t)(colon - val) : (val ? strlen(val) : 0);
	uint64_t n = 1;
	unsigned op;

	for (op = 0; op < SIM_OP_MAX; op++)
		if (strlen(op_names[op]) == len && !strncmp(op_names[op], val, len))
			break;
	if (op == SIM_OP_MAX)
		return BAD("unknown operation (create pause unpause destroy"
			   " shutdown memory vcpus list info stats console host"
			   " persist)");
	if (colon && (sim_parse_u64(colon + 1, &n) || n > 1000000))
		return BAD("expected OP:N with N a count");
	s->fail_in[op] = (unsigned)n;
	return 0;
}

/* The guest= / stop= record for uuid, made with the defaults if new. */
static struct sim_guest *guest_entry(struct sim *s, const char *uuid)
{
	struct sim_guest *g;
	size_t i;

	for (i = 0; i < s->nr_guests; i++)
		if (!strcasecmp(s->guests[i].uuid, uuid))
			return &s->guests[i];
	s->guests = realloc(s->guests, (s->nr_guests + 1) * sizeof(*s->guests));
	if (!s->guests)
		abort();
	g = &s->guests[s->nr_guests++];
	memset(g, 0, sizeof(*g));
	memcpy(g->uuid, uuid, sizeof(g->uuid));
	g->cooperative = true;
	g->delay_ms = s->delay_ms;
	g->stop = VMM_REASON_NONE;
	return g;
}

/* UUID: at the start of val, followed by ':'; 0 or -EINVAL */
static int uuid_prefix(const char *val, char uuid[VMM_UUID_LEN + 1])
{
	if (!val || strlen(val) <= VMM_UUID_LEN || val[VMM_UUID_LEN] != ':')
		return -EINVAL;
	memcpy(uuid, val, VMM_UUID_LEN);
	uuid[VMM_UUID_LEN] = 0;
	return vmm_uuid_valid(uuid) ? 0 : -EINVAL;
}

/* guest=UUID:cooperative[:MS] | guest=UUID:uncooperative */
static int set_guest(struct sim *s, const char *key, const char *val,
		     char *err, size_t errlen)
{
	char uuid[VMM_UUID_LEN + 1];
	const char *mode, *colon;
	struct sim_guest *g;
	bool coop;
	uint64_t delay = s->delay_ms;
	size_t i;

	if (uuid_prefix(val, uuid))
		return BAD("expected UUID:cooperative[:MS] or UUID:uncooperative");
	mode = val + VMM_UUID_LEN + 1;
	colon = strchr(mode, ':');
	if (!strcmp(mode, "uncooperative")) {
		coop = false;
	} else if (!strncmp(mode, "cooperative", 11) &&
		   (!mode[11] || (colon == mode + 11 &&
				  !sim_parse_u64(colon + 1, &delay)))) {
		coop = true;
	} else {
		return BAD("expected UUID:cooperative[:MS] or UUID:uncooperative");
	}
	g = guest_entry(s, uuid);
	g->cooperative = coop;
	g->delay_ms = delay;

	for (i = 0; i < s->nr_doms; i++)
		if (!strcasecmp(s->doms[i]->uuid, uuid))
			sim_set_behaviour_locked(s, s->doms[i], coop, delay);
	return 0;
}

/* stop=UUID:REASON:MS: MS ms of running after each boot, the guest stops
 * itself (REASON poweroff, reboot, crash, watchdog; none: never). */
static int set_stop(struct sim *s, const char *key, const char *val,
		    char *err, size_t errlen)
{
	char uuid[VMM_UUID_LEN + 1], why[16];
	const char *colon;
	enum vmm_shutdown_reason r;
	uint64_t ms;
	size_t n;

	if (uuid_prefix(val, uuid))
		return BAD("expected UUID:REASON:MS");
	val += VMM_UUID_LEN + 1;
	colon = strchr(val, ':');
	n = colon ? (size_t)(colon - val) : 0;
	if (!colon || n >= sizeof(why) || sim_parse_u64(colon + 1, &ms))
		return BAD("expected UUID:REASON:MS");
	memcpy(why, val, n);
	why[n] = 0;
	if (vmm_reason_parse(why, &r) || r == VMM_REASON_SUSPEND ||
	    r == VMM_REASON_SOFT_RESET)
		return BAD("REASON: poweroff, reboot, crash, watchdog or none");
	{
		struct sim_guest *g = guest_entry(s, uuid);

		g->stop = r;
		g->stop_ms = ms;
	}
	return 0;
}

static int set_create_delay(struct sim *s, const char *key, const char *val,
			    char *err, size_t errlen)
{
	if (sim_parse_u64(val, &s->create_ms))
		return BAD("expected milliseconds");
	return 0;
}

/* crash_window= reboot_window= reboot_delay= MS: the restart policy. */
static int set_restart(struct sim *s, const char *key, const char *val,
		       char *err, size_t errlen)
{
	struct vmm_restart_policy *r = &s->vmm.restart;
	uint32_t *f = key[0] == 'c' ? &r->crash_window_ms :
		      key[7] == 'w' ? &r->reboot_window_ms : &r->reboot_delay_ms;
	uint64_t ms;

	if (sim_parse_u64(val, &ms) || ms > UINT32_MAX)
		return BAD("expected milliseconds");
	*f = (uint32_t)ms;
	return 0;
}

/* crash= poweroff= reboot= watchdog= DOMID: the guest stops itself. */
static int guest_stops(struct sim *s, const char *key, const char *val,
		       char *err, size_t errlen)
{
	static const struct {
		const char *key, *what;
		enum vmm_shutdown_reason why;
	} kinds[] = {
		{ "crash", "crashed", VMM_REASON_CRASH },
		{ "poweroff", "powering off", VMM_REASON_POWEROFF },
		{ "reboot", "rebooting", VMM_REASON_REBOOT },
		{ "watchdog", "stopped by its watchdog", VMM_REASON_WATCHDOG },
	};
	struct sim_dom *d;
	uint64_t domid;
	size_t k;
	int rc;

	for (k = 0; strcmp(kinds[k].key, key); k++)
		;
	if (sim_parse_u64(val, &domid) || domid > SIM_DOMID_MAX)
		return BAD("expected a domid");
	d = sim_find_locked(s, (uint32_t)domid);
	if (!d)
		return vmm_seterr(err, errlen, -ENOENT, "sim: %s=%s: no domain %s",
				  key, val, val);
	rc = sim_guest_shutdown_locked(s, d, kinds[k].why, kinds[k].what);
	if (rc == -EPERM)
		return vmm_seterr(err, errlen, rc,
				  "sim: %s=%s: domain 0 cannot stop", key, val);
	if (rc)
		return vmm_seterr(err, errlen, rc, "sim: %s=%s: domain is %s",
				  key, val, vmm_state_name(d->state));
	return 0;
}

static int advance(struct sim *s, const char *key, const char *val,
		   char *err, size_t errlen)
{
	uint64_t ms;

	if (sim_parse_u64(val, &ms))
		return BAD("expected milliseconds");
	if (sim_advance_locked(s, ms))
		return BAD("only with clock=manual");
	return 0;
}

static const struct item items[] = {
	{ "state", OPEN_ONLY, set_state },
	{ "clock", OPEN_ONLY, set_clock },
	{ "dom0_mem", OPEN_ONLY, set_size },
	{ "mem", SETTING, set_size },
	{ "cpus", SETTING, set_cpus },
	{ "shutdown_delay", SETTING, set_delay },
	{ "console_max", SETTING, set_size },
	{ "check_paths", SETTING, set_check_paths },
	{ "nomem", SETTING, set_nomem },
	{ "fail", SETTING, set_fail },
	{ "create_delay", SETTING, set_create_delay },
	{ "crash_window", SETTING, set_restart },
	{ "reboot_window", SETTING, set_restart },
	{ "reboot_delay", SETTING, set_restart },
	{ "guest", ACTION, set_guest },
	{ "stop", ACTION, set_stop },
	{ "crash", ACTION, guest_stops },
	{ "poweroff", ACTION, guest_stops },
	{ "reboot", ACTION, guest_stops },
	{ "watchdog", ACTION, guest_stops },
	{ "advance", ACTION, advance },
};

static int apply_one(struct sim *s, char *tok, enum sim_spec_phase phase,
		     char *err, size_t errlen)
{
	char *val = strchr(tok, '=');
	const struct item *it;
	size_t i;

	if (val)
		*val++ = 0;
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		if (!strcmp(items[i].key, tok))
			break;
	if (i == sizeof(items) / sizeof(items[0]))
		return vmm_seterr(err, errlen, -EINVAL,
				  "sim: unknown option '%s'", tok);
	it = &items[i];
	switch (phase) {
	case SIM_SPEC_OPEN_CONFIG:
		if (it->when == ACTION)
			return 0;
		break;
	case SIM_SPEC_OPEN_ACTIONS:
		if (it->when != ACTION)
			return 0;
		break;
	case SIM_SPEC_RUNTIME:
		if (it->when == OPEN_ONLY)
			return vmm_seterr(err, errlen, -EINVAL,
					  "sim: '%s' can only be given at open",
					  tok);
		break;
	}
	return it->apply(s, tok, val, err, errlen);
}

int sim_spec_apply_locked(struct sim *s, const char *spec,
			  enum sim_spec_phase phase, char *err, size_t errlen)
{
	char *copy, *tok, *save = NULL;
	int rc = 0;

	if (!spec)
		return 0;
	copy = strdup(spec);
	if (!copy)
		abort();
	for (tok = strtok_r(copy, ", \t\n", &save); tok && !rc;
	     tok = strtok_r(NULL, ", \t\n", &save))
		rc = apply_one(s, tok, phase, err, errlen);
	free(copy);
	return rc;
}
