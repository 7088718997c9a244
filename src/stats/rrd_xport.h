/* rrd_updates: rows of several RRDs in rrdtool's xport layout (XML) or
 * XAPI's JSON, as xcp-rrd's Rrd_updates.export writes them.
 *
 * XML:  <?xml version="1.0" encoding="UTF-8"?><xport><meta><start>S</start>
 *       <step>P</step><end>E</end><rows>N</rows><columns>C</columns>
 *       <legend><entry>AVERAGE:host:<uuid>:cpu0</entry>...</legend></meta>
 *       <data><row><t>T</t><v>0.5000</v>...</row>...</data></xport>
 * JSON: {"meta":{"start":S,"step":P,"end":E,"rows":N,"columns":C,
 *       "legend":[...]},"data":[{"t":T,"values":[0.5,...]}]}
 * Rows run newest first.  Values: NaN, Infinity, -Infinity, or "%.4f"
 * (xcp-rrd's f_to_s; JSON numbers, NaN bare as JSON5 and Python accept).
 */
#ifndef XB_STATS_RRD_XPORT_H
#define XB_STATS_RRD_XPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "stats/rrd.h"

struct rrd_xport_src {
	const char *prefix;     /* "host:<uuid>:" or "vm:<uuid>:" */
	const struct rrd *rrd;
};

/* Append the rows newer than start (seconds since the epoch) with at
 * least interval seconds per row: for each RRD, the first archive of cf
 * (all CFs when all_cf) with pdp_cnt >= interval / step that still holds
 * start, else the coarsest one (xcp-rrd's find_best_rras).  Archives that
 * differ in shape from the first RRD's are left out.  The rows' times come
 * from the first RRD's last update (the collector updates all together).
 * 0, or -ENOENT when there is no source or no archive of that CF (LAST).
 * O(rows * columns). */
int rrd_xport(struct buf *out, const struct rrd_xport_src *src, unsigned n,
	      int64_t start, int64_t interval, enum rrd_cf cf, bool all_cf,
	      bool json);

/* A value as XAPI writes RRD numbers: NaN, Infinity, -Infinity, 0.0, or
 * four decimals.  rrd_updates and the RRD dump share it. */
void rrd_xport_num(struct buf *out, double v);

#endif
