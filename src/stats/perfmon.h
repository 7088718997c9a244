/* Alarms as XAPI's perfmon raises them: host and VM other_config:perfmon
 * holds <config><variable><name value="cpu_usage"/>
 * <alarm_trigger_level value="0.9"/>...</variable>...</config>; a value
 * beyond its level for alarm_trigger_period seconds creates one "ALARM"
 * message (and so an event), and no other until the value has come back
 * (see docs/STATS.md).  Loop thread only. */
#ifndef XB_STATS_PERFMON_H
#define XB_STATS_PERFMON_H

#include "api/dm.h"
#include "stats/rrd.h"

/* o's map field (its other_config: OF(o, VM, other_config)...)[key], or
 * NULL.  O(keys). */
const char *perfmon_other_config(struct obj *o, int field, const char *key);

/* After an update of r at time t, the RRD of o (a host or a VM; cls
 * "Host" or "VM" as message.cls; field its other_config, by constant).
 * O(variables * DSs). */
void perfmon_check(struct obj *o, int field, const char *cls, const char *uuid,
		   const struct rrd *r, double t);
void perfmon_forget(const char *uuid);  /* its object is gone */
void perfmon_dispose(void);             /* idempotent */

#endif
