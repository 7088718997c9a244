/* The stats collector: samples the host and its domains every 5 s into
 * RRDs (rrd.h) and answers GET /rrd_updates (rrd_xport.h).  Runs in the
 * daemon's loop thread only; see docs/STATS.md. */
#ifndef XB_STATS_COLLECTOR_H
#define XB_STATS_COLLECTOR_H

#include <stdint.h>

#include "lib/arena.h"
#include "lib/buf.h"

struct vmm;

/* After api_host_init (needs this host's uuid).  Loads the RRDs saved in
 * <api_state_dir>/stats.rrd; the first sample is taken 5 s later.  They
 * are saved every save_interval_s (0: only by stats_save). */
void stats_init(struct vmm *v, int save_interval_s);
void stats_dispose(void);       /* idempotent */

/* From the loop's before_sleep: samples when due.  Returns the ms until
 * the next sample.  O(domains * vcpus) when it samples, else O(1). */
int64_t stats_tick(int64_t now);

/* Every RRD to <state_dir>/stats.rrd in one write: a temporary file,
 * fsync, rename, fsync of the directory.  0, or -1 (reported).  At clean
 * shutdown, before stats_dispose. */
int stats_save(void);

/* GET path?query (raw; accept: the Accept header or NULL):
 *   /rrd_updates?start=&interval=&cf=&host=&vm_uuid=&json
 *   /host_rrd, /vm_rrd?uuid=  (RRD dump XML)
 *   /metrics  (Prometheus text format)
 *   /sr_rrd  (no SR data sources yet: 404)
 * -1 when path is none of these.  Else appends the body to out and sets
 * *ctype on 200, or returns the HTTP status to answer: 401 unless authed
 * (the server checked the session or Basic credentials, as XAPI), 400
 * (bad start, interval or cf), 404 (no such RRD), 500 (nothing to export,
 * or no archive of that CF, as xcp-rrdd). */
int stats_http(struct arena *a, const char *path, const char *query,
	       const char *accept, int authed, struct buf *out, const char **ctype);

#endif
