/* The inside of struct rrd, for rrd.c and rrd_file.c (saving, loading
 * and dumping); everyone else uses rrd.h. */
#ifndef XB_STATS_RRD_PRIV_H
#define XB_STATS_RRD_PRIV_H

#include "stats/rrd.h"

struct rrd_layout {
	unsigned pdp_cnt, rows;
};
extern const struct rrd_layout rrd_layout[RRD_NR_LAYOUT];

struct ds {
	char name[RRD_DS_NAME_MAX];
	enum rrd_ds_type type;
	double min, max;
	bool wide;
	/* staged reading */
	bool in_known;
	double in_g;
	uint64_t in_c;
	/* previous counter reading */
	bool last_known;
	uint64_t last_c;
	/* PDP preparation: rate * seconds so far in this step, and the
	 * unknown seconds of this step */
	double pdp_val;
	double unkn_sec;
	double pdp_new;         /* this update's contribution (scratch) */
	double pdp;             /* the PDP just completed (scratch) */
};

struct cdp {
	double val;             /* sum (AVERAGE) or extreme; NaN: none yet */
	unsigned nknown, nunkn;
};

union ring {
	float *f;
	double *d;
};

struct rra {
	struct rrd_rra_info info;
	unsigned cur;           /* index of the newest row */
	union ring *ring;       /* per DS, rows entries */
	struct cdp *cdp;        /* per DS */
};

struct rrd {
	double last_update;
	unsigned nds, nrra;
	struct ds *ds;
	struct rra rra[3 * RRD_NR_LAYOUT];
};

#endif
