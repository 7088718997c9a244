/* Round-robin databases in xcp-rrdd's layout (XA rrdd_shared.ml).
 *
 * One struct rrd per object (the host, each running VM): a fixed set of
 * data sources (DS) sampled together, and for each consolidation function
 * (CF) four archives (RRA):
 *
 *     rows x PDPs per row     resolution   span
 *     120  x 1                5 s          10 min
 *     120  x 12               1 min        2 h
 *     168  x 720              1 h          1 week
 *     366  x 17280            1 day        1 year
 *
 * AVERAGE always (xff 0.5); MIN and MAX (xff 1.0) when asked at creation.
 *
 * Semantics are rrdtool's (rrd_update.c), which xcp-rrd follows:
 *   - an update at time t carries one reading per DS (unset: unknown);
 *   - GAUGE readings are rates already; DERIVE and COUNTER readings are
 *     cumulative and become (reading - previous) / (t - t_previous).
 *     DERIVE deltas are signed (a negative rate is kept unless below the
 *     DS min); a COUNTER that goes down was reset or wrapped: the interval
 *     is unknown (NaN), never a spike (rrdtool would add 2^32 or 2^64);
 *   - a rate outside [min, max] is unknown; so is every interval longer
 *     than the heartbeat (300 s);
 *   - a primary data point (PDP) is the time-weighted mean of the rates
 *     over its step [k*5, (k+1)*5); it is unknown when more than half of
 *     the step is unknown; when an update spans several steps they all get
 *     the same PDP;
 *   - a row (CDP) of an RRA with n PDPs per row consolidates n PDPs
 *     aligned on multiples of n*step (UTC): AVERAGE of the known ones, MIN,
 *     MAX; unknown (NaN) when more than xff*n PDPs are unknown.  The PDPs
 *     of a row that began before the RRD was created count as unknown.
 *
 * Storage: rows are float32 (7 significant digits) unless the DS is
 * created `wide` (then double): use wide for values that must stay exact
 * above 2^24, e.g. memory in KiB beyond 16 GiB.  The running sums (PDP and
 * CDP preparation) are double, and counters are kept as uint64 so that
 * nanosecond CPU times stay exact.  No I/O here.
 */
#ifndef XB_STATS_RRD_H
#define XB_STATS_RRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define RRD_STEP        5       /* seconds per PDP */
#define RRD_HEARTBEAT   300     /* seconds */
#define RRD_DS_NAME_MAX 64      /* including the NUL */
#define RRD_NR_LAYOUT   4       /* RRAs per CF */
#define RRD_MAX_DS      1024    /* per RRD, for loading */
#define RRD_TIME_MAX    1e11    /* times are in [0, this): year 5138 */

enum rrd_ds_type {
	RRD_GAUGE,
	RRD_DERIVE,
	RRD_COUNTER,
};

enum rrd_cf {
	RRD_CF_AVERAGE,
	RRD_CF_MIN,
	RRD_CF_MAX,
	RRD_CF_LAST,            /* parsed for requests; no archive has it */
};

struct rrd_ds_def {
	const char *name;       /* "cpu0", "memory_free_kib" */
	enum rrd_ds_type type;
	double min, max;        /* NaN: no bound */
	bool wide;              /* double storage (see above) */
};

struct rrd;

/* A new RRD whose last update is t0 (seconds since the epoch, UTC; may
 * have a fraction): every row is NaN.  NULL when a DS name is empty or
 * too long, nds is 0, or t0 is outside [0, RRD_TIME_MAX).  O(nds * 774 per CF) memory: about 3 KiB per DS
 * for AVERAGE, 9 KiB with MIN and MAX. */
struct rrd *rrd_new(double t0, const struct rrd_ds_def *ds, unsigned nds,
		    bool min_max);
void rrd_free(struct rrd *r);   /* NULL is fine */

/* Stage a reading of DS i for the next rrd_update: rrd_set for a GAUGE
 * (NaN: unknown), rrd_set_u64 for a DERIVE or COUNTER.  The wrong kind,
 * or i out of range, is -EINVAL.  Unset DSs are unknown. */
int rrd_set(struct rrd *r, unsigned i, double v);
int rrd_set_u64(struct rrd *r, unsigned i, uint64_t v);

/* Consume the staged readings at time t.  -ERANGE (and nothing changes,
 * the readings stay staged) when t is not after the last update or not
 * before RRD_TIME_MAX: time going backwards is the caller's problem
 * (rrdtool refuses it too).
 * O(nds * RRAs) plus O(nds * rows written) after a long gap. */
int rrd_update(struct rrd *r, double t);

/* The next counter readings start afresh (a new domain of the same VM):
 * the interval up to them is unknown.  O(nds). */
void rrd_forget_counters(struct rrd *r);

/* ---- reading ---- */

unsigned rrd_nds(const struct rrd *r);
const char *rrd_ds_name(const struct rrd *r, unsigned i);
int rrd_ds_find(const struct rrd *r, const char *name);  /* index or -1 */
double rrd_last_update(const struct rrd *r);

struct rrd_rra_info {
	enum rrd_cf cf;
	unsigned pdp_cnt;       /* PDPs per row */
	unsigned rows;
	double xff;
};
/* RRAs by CF (AVERAGE, then MIN, then MAX), each CF in increasing
 * resolution order as in the table above. */
unsigned rrd_nrra(const struct rrd *r);
const struct rrd_rra_info *rrd_rra_info(const struct rrd *r, unsigned rra);
/* Row age (0 = newest complete row) of DS i in an RRA; NaN when unknown
 * or older than the archive.  The newest row covers the interval ending
 * at rrd_rra_last_time.  O(1). */
double rrd_row(const struct rrd *r, unsigned rra, unsigned age, unsigned i);
int64_t rrd_rra_last_time(const struct rrd *r, unsigned rra);

const char *rrd_cf_name(enum rrd_cf cf);         /* "AVERAGE" ... */
int rrd_cf_parse(const char *s, enum rrd_cf *out); /* 0 or -EINVAL */

/* ---- bytes (rrd_file.c) ---- */

/* Append an image of r: every field that rrd_update and the readers use,
 * in the host's byte order (the file never leaves this host).  About
 * 4 bytes per float32 row, 8 per wide row.  O(nds * rows). */
void rrd_save(const struct rrd *r, struct buf *out);
/* Read one image at *p (advanced past it); NULL when it is truncated or
 * inconsistent (the caller then drops the rest). */
struct rrd *rrd_load(const uint8_t **p, const uint8_t *end);
/* Append the whole RRD as rrdtool/xcp-rrd dump XML (GET /host_rrd):
 * <rrd><version>0003</version><step>5</step><lastupdate>..</lastupdate>
 * <ds>..</ds>... <rra><cf>..</cf><pdp_per_row>..</pdp_per_row><params>
 * <xff>..</xff></params><cdp_prep>..</cdp_prep><database><row><v>..</v>
 * </row>...</database></rra>...</rrd>, rows oldest first. */
void rrd_dump_xml(const struct rrd *r, struct buf *out);

#endif
