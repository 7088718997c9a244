/* perfmon alarms (see perfmon.h).
 *
 * Variables (XAPI perfmon's names): cpu_usage (VM: mean of its cpuN;
 * host: cpu_avg), network_usage (sum of vif_* or pif_* bytes/s),
 * disk_usage (sum of vbd_* bytes/s), memory_free_kib (sense low by
 * default), or the name of any data source of the RRD.  Elements:
 * alarm_trigger_level (required), alarm_trigger_sense (high|low),
 * alarm_trigger_period (s, default 60), alarm_priority (default 5).
 * Values are the newest 5 s ones; an unknown value changes nothing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/log.h"
#include "lib/util.h"
#include "stats/perfmon.h"

struct alarm {
	char uuid[40];
	char name[48];
	double since;           /* the value has been beyond since; 0: not */
	bool fired, warned;
	struct alarm *next;
};

static struct alarm *alarms;

const char *perfmon_other_config(struct obj *o, int field, const char *key)
{
	const struct dm_val *v = dm_map_get(o->cls->fields[field].t, dm_fv(o, field), key);

	return v ? v->u.s : NULL;
}

static struct alarm *alarm_get(const char *uuid, const char *name)
{
	struct alarm *a;

	for (a = alarms; a; a = a->next)
		if (!strcmp(a->uuid, uuid) && !strcmp(a->name, name))
			return a;
	a = xcalloc(1, sizeof(*a));
	snprintf(a->uuid, sizeof(a->uuid), "%s", uuid);
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->next = alarms;
	alarms = a;
	return a;
}

void perfmon_forget(const char *uuid)
{
	for (struct alarm **pp = &alarms; *pp;) {
		struct alarm *a = *pp;

		if (strcmp(a->uuid, uuid)) {
			pp = &a->next;
			continue;
		}
		*pp = a->next;
		free(a);
	}
}

void perfmon_dispose(void)
{
	while (alarms) {
		struct alarm *n = alarms->next;

		free(alarms);
		alarms = n;
	}
}

/* <tag value="X"/> inside var, copied to out; NULL when absent */
static const char *attr(const char *var, const char *tag, char *out, size_t n)
{
	char pat[64];
	const char *p, *q;

	snprintf(pat, sizeof(pat), "<%s ", tag);
	p = strstr(var, pat);
	if (!p || !(p = strstr(p, "value=\"")))
		return NULL;
	p += 7;
	q = strchr(p, '"');
	if (!q || (size_t)(q - p) >= n)
		return NULL;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = 0;
	return out;
}

static bool prefixed(const char *s, const char *pre, const char *suf)
{
	size_t a = strlen(pre), b = strlen(s), c = strlen(suf);

	return b > a + c && !strncmp(s, pre, a) && !strcmp(s + b - c, suf);
}

/* The variable's current value from r, or NaN.  O(DSs). */
static double value_of(const char *name, bool vm, const struct rrd *r)
{
	double sum = 0;
	unsigned n = 0;
	int i;

	if (!strcmp(name, "cpu_usage") && !vm)
		name = "cpu_avg";
	else if (!strcmp(name, "memory_free_kib") && vm)
		name = "memory_internal_free";
	for (unsigned k = 0; k < rrd_nds(r); k++) {
		const char *ds = rrd_ds_name(r, k);
		bool in;

		if (!strcmp(name, "cpu_usage"))
			in = !strncmp(ds, "cpu", 3) && ds[3] >= '0' && ds[3] <= '9';
		else if (!strcmp(name, "network_usage"))
			in = prefixed(ds, vm ? "vif_" : "pif_", "_rx") ||
			     prefixed(ds, vm ? "vif_" : "pif_", "_tx");
		else if (!strcmp(name, "disk_usage"))
			in = prefixed(ds, "vbd_", "_read") || prefixed(ds, "vbd_", "_write");
		else
			continue;
		if (in) {
			double v = rrd_row(r, 0, 0, k);

			if (isnan(v))
				return NAN;
			sum += v;
			n++;
		}
	}
	if (n)
		return !strcmp(name, "cpu_usage") ? sum / n : sum;
	i = rrd_ds_find(r, name);
	return i < 0 ? NAN : rrd_row(r, 0, 0, (unsigned)i);
}

static void check_var(const char *cls, const char *uuid,
		      const struct rrd *r, double t, const char *var)
{
	char name[48], level[32], buf[32], *end;
	double lvl, period = 60, v;
	int prio = 5;
	bool high;
	struct alarm *a;

	if (!attr(var, "name", name, sizeof(name)))
		return;
	a = alarm_get(uuid, name);
	/* the configuration is free text (other_config): a level or period
	 * that is not a finite number makes the variable invalid */
	if (!attr(var, "alarm_trigger_level", level, sizeof(level)) ||
	    (lvl = strtod(level, &end), end == level || *end || !isfinite(lvl)) ||
	    (attr(var, "alarm_trigger_period", buf, sizeof(buf)) &&
	     (period = strtod(buf, &end), end == buf || *end || !isfinite(period)))) {
		if (!a->warned)
			log_warn("perfmon: %s %s: variable %s has no valid alarm_trigger_level"
				 " or period", cls, uuid, name);
		a->warned = true;
		return;
	}
	high = strcmp(name, "memory_free_kib");
	if (attr(var, "alarm_trigger_sense", buf, sizeof(buf)))
		high = strcmp(buf, "low");
	if (attr(var, "alarm_priority", buf, sizeof(buf)))
		prio = atoi(buf);
	v = value_of(name, !strcmp(cls, "VM"), r);
	if (isnan(v))
		return;
	if (high ? !(v > lvl) : !(v < lvl)) {
		a->since = 0;           /* the episode is over */
		a->fired = false;
		return;
	}
	if (!a->since)
		a->since = t - RRD_STEP;        /* the value covers the last step */
	if (a->fired || t - a->since < period)
		return;
	a->fired = true;
	{
		struct buf body = BUF_INIT;

		buf_addf(&body, "value: %f\nconfig:\n%s", v, var);
		buf_addc(&body, 0);
		api_message_create("ALARM", prio, cls, uuid, body.data);
		log_info("perfmon: %s %s: %s %g beyond %g for %.0f s: ALARM", cls, uuid,
			 name, v, lvl, period);
		buf_free(&body);
	}
}

void perfmon_check(struct obj *o, int field, const char *cls, const char *uuid,
		   const struct rrd *r, double t)
{
	const char *cfg = perfmon_other_config(o, field, "perfmon"), *p, *q;

	if (!cfg)
		return;
	/* O(config): each <variable>...</variable> on its own */
	for (p = strstr(cfg, "<variable"); p; p = strstr(q, "<variable")) {
		char *var;

		q = strstr(p, "</variable>");
		if (!q)
			break;
		q += 11;
		var = xstrndup(p, (size_t)(q - p));
		check_var(cls, uuid, r, t, var);
		free(var);
	}
}
