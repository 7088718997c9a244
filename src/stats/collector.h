/* The stats collector: samples the host and its domains every 5 s into
 * RRDs (rrd.h) and answers GET /rrd_updates (rrd_xport.h).  Runs in the
 * daemon's loop thread only; see docs/STATS.md. */
#ifndef XB_STATS_COLLECTOR_H
#define XB_STATS_COLLECTOR_H

#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"

struct vmm;

/* After api_host_init (needs this host's uuid).  The host RRD starts now;
 * the first sample is taken 5 s later. */
void stats_init(struct vmm *v);
void stats_dispose(void);       /* idempotent */

/* From the loop's before_sleep: samples when due.  Returns the ms until
 * the next sample.  O(domains * vcpus) when it samples, else O(1). */
int64_t stats_tick(int64_t now);

/* GET /rrd_updates?session_id=&start=&interval=&cf=&host=&vm_uuid=&json
 * (query raw, accept the Accept header or NULL).  Appends the body to out
 * and sets *ctype on 200; else returns the HTTP status to answer: 401
 * (missing or unknown session, as XAPI), 400 (bad start, interval or cf),
 * 500 (nothing to export, or no archive of that CF, as xcp-rrdd). */
int stats_rrd_updates(struct arena *a, const char *query, const char *accept,
		      struct buf *out, const char **ctype);

#endif
