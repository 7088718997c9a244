/* Round-robin databases: rrdtool's update and consolidation (see rrd.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/util.h"
#include "stats/rrd.h"
#include "stats/rrd_priv.h"

const struct rrd_layout rrd_layout[RRD_NR_LAYOUT] = {
	{ 1, 120 }, { 12, 120 }, { 720, 168 }, { 17280, 366 },
};

static int64_t floor_to(double t, int64_t step)
{
	return (int64_t)floor(t / (double)step) * step;
}

static void cdp_reset(const struct rra *a, struct cdp *c)
{
	(void)a;
	c->val = NAN;
	c->nknown = 0;
	c->nunkn = 0;
}

/* Add n PDPs of value v to a row in preparation.  O(1). */
static void cdp_add(const struct rra *a, struct cdp *c, double v, unsigned n)
{
	if (!n)
		return;
	if (isnan(v)) {
		c->nunkn += n;
		return;
	}
	c->nknown += n;
	switch (a->info.cf) {
	case RRD_CF_AVERAGE:
		c->val = isnan(c->val) ? v * n : c->val + v * n;
		break;
	case RRD_CF_MIN:
		if (isnan(c->val) || v < c->val)
			c->val = v;
		break;
	case RRD_CF_MAX:
	case RRD_CF_LAST:
		if (isnan(c->val) || v > c->val)
			c->val = v;
		break;
	}
}

static double cdp_value(const struct rra *a, const struct cdp *c)
{
	if (!c->nknown || c->nunkn > a->info.xff * a->info.pdp_cnt)
		return NAN;
	if (a->info.cf == RRD_CF_AVERAGE)
		return c->val / c->nknown;
	return c->val;
}

static void ring_put(struct rra *a, const struct ds *d, unsigned i, double v)
{
	if (d->wide)
		a->ring[i].d[a->cur] = v;
	else
		a->ring[i].f[a->cur] = (float)v;
}

void rrd_free(struct rrd *r)
{
	if (!r)
		return;
	for (unsigned k = 0; k < r->nrra; k++) {
		struct rra *a = &r->rra[k];

		for (unsigned i = 0; a->ring && i < r->nds; i++)
			free(r->ds[i].wide ? (void *)a->ring[i].d : (void *)a->ring[i].f);
		free(a->ring);
		free(a->cdp);
	}
	free(r->ds);
	free(r);
}

struct rrd *rrd_new(double t0, const struct rrd_ds_def *def, unsigned nds,
		    bool min_max)
{
	struct rrd *r;
	int64_t step0;

	if (!nds || !(t0 >= 0 && t0 < RRD_TIME_MAX))
		return NULL;
	for (unsigned i = 0; i < nds; i++)
		if (!def[i].name || !*def[i].name ||
		    strlen(def[i].name) >= RRD_DS_NAME_MAX)
			return NULL;
	r = xcalloc(1, sizeof(*r));
	r->last_update = t0;
	r->nds = nds;
	r->ds = xcalloc(nds, sizeof(*r->ds));
	step0 = floor_to(t0, RRD_STEP);
	for (unsigned i = 0; i < nds; i++) {
		struct ds *d = &r->ds[i];

		strcpy(d->name, def[i].name);
		d->type = def[i].type;
		d->min = def[i].min;
		d->max = def[i].max;
		d->wide = def[i].wide;
		/* rrdtool: the part of the first step before t0 is unknown */
		d->unkn_sec = t0 - (double)step0;
	}
	r->nrra = (min_max ? 3 : 1) * RRD_NR_LAYOUT;
	for (unsigned k = 0; k < r->nrra; k++) {
		struct rra *a = &r->rra[k];
		int64_t span;

		a->info.cf = (enum rrd_cf)(k / RRD_NR_LAYOUT);
		a->info.pdp_cnt = rrd_layout[k % RRD_NR_LAYOUT].pdp_cnt;
		a->info.rows = rrd_layout[k % RRD_NR_LAYOUT].rows;
		a->info.xff = a->info.cf == RRD_CF_AVERAGE ? 0.5 : 1.0;
		a->ring = xcalloc(nds, sizeof(*a->ring));
		a->cdp = xcalloc(nds, sizeof(*a->cdp));
		span = (int64_t)a->info.pdp_cnt * RRD_STEP;
		for (unsigned i = 0; i < nds; i++) {
			unsigned n = a->info.rows;

			if (r->ds[i].wide) {
				a->ring[i].d = xcalloc(n, sizeof(double));
				for (unsigned j = 0; j < n; j++)
					a->ring[i].d[j] = NAN;
			} else {
				a->ring[i].f = xcalloc(n, sizeof(float));
				for (unsigned j = 0; j < n; j++)
					a->ring[i].f[j] = NAN;
			}
			cdp_reset(a, &a->cdp[i]);
			/* PDPs of this row before creation are unknown */
			a->cdp[i].nunkn = (unsigned)((step0 - floor_to(t0, span)) / RRD_STEP);
		}
	}
	return r;
}

int rrd_set(struct rrd *r, unsigned i, double v)
{
	if (i >= r->nds || r->ds[i].type != RRD_GAUGE)
		return -EINVAL;
	r->ds[i].in_known = !isnan(v);
	r->ds[i].in_g = v;
	return 0;
}

int rrd_set_u64(struct rrd *r, unsigned i, uint64_t v)
{
	if (i >= r->nds || r->ds[i].type == RRD_GAUGE)
		return -EINVAL;
	r->ds[i].in_known = true;
	r->ds[i].in_c = v;
	return 0;
}

/* This update's contribution of DS d: rate * interval, or NaN.  Moves the
 * counter reading into last_c.  O(1). */
static double ds_pdp_new(struct ds *d, double interval)
{
	double v = NAN, rate;

	switch (d->type) {
	case RRD_GAUGE:
		if (d->in_known)
			v = d->in_g * interval;
		break;
	case RRD_DERIVE:
		if (d->in_known && d->last_known)
			v = (double)(int64_t)(d->in_c - d->last_c);
		break;
	case RRD_COUNTER:
		/* down: reset or wrap, unknown rather than a spike */
		if (d->in_known && d->last_known && d->in_c >= d->last_c)
			v = (double)(d->in_c - d->last_c);
		break;
	}
	if (d->type != RRD_GAUGE) {
		d->last_known = d->in_known;
		d->last_c = d->in_c;
	}
	d->in_known = false;
	if (interval > RRD_HEARTBEAT)
		return NAN;
	rate = v / interval;
	if (!isnan(rate) && ((!isnan(d->min) && rate < d->min) ||
			     (!isnan(d->max) && rate > d->max)))
		return NAN;
	return v;
}

/* elapsed PDPs ended, the first of them starting at PDP number proc_pdp;
 * each DS's value is ds->pdp.  O(nds * RRAs + nds * rows written). */
static void consolidate(struct rrd *r, int64_t proc_pdp, int64_t elapsed)
{
	for (unsigned k = 0; k < r->nrra; k++) {
		struct rra *a = &r->rra[k];
		int64_t n = a->info.pdp_cnt;
		int64_t start_off = n - proc_pdp % n;   /* PDPs to end the row */
		int64_t full, rest, put;

		if (elapsed < start_off) {
			for (unsigned i = 0; i < r->nds; i++)
				cdp_add(a, &a->cdp[i], r->ds[i].pdp, (unsigned)elapsed);
			continue;
		}
		full = (elapsed - start_off) / n;
		rest = (elapsed - start_off) % n;
		a->cur = (a->cur + 1) % a->info.rows;
		for (unsigned i = 0; i < r->nds; i++) {
			cdp_add(a, &a->cdp[i], r->ds[i].pdp, (unsigned)start_off);
			ring_put(a, &r->ds[i], i, cdp_value(a, &a->cdp[i]));
		}
		/* whole rows of the same PDP; only the last `rows` survive */
		put = full < a->info.rows ? full : a->info.rows;
		if (full > put)
			a->cur = (unsigned)((a->cur + (full - put)) % a->info.rows);
		for (int64_t j = 0; j < put; j++) {
			a->cur = (a->cur + 1) % a->info.rows;
			for (unsigned i = 0; i < r->nds; i++) {
				struct cdp c;

				cdp_reset(a, &c);
				cdp_add(a, &c, r->ds[i].pdp, (unsigned)n);
				ring_put(a, &r->ds[i], i, cdp_value(a, &c));
			}
		}
		for (unsigned i = 0; i < r->nds; i++) {
			cdp_reset(a, &a->cdp[i]);
			cdp_add(a, &a->cdp[i], r->ds[i].pdp, (unsigned)rest);
		}
	}
}

int rrd_update(struct rrd *r, double t)
{
	double interval = t - r->last_update;
	int64_t proc, occu;

	if (!(interval > 0) || !(t < RRD_TIME_MAX))
		return -ERANGE;
	proc = floor_to(r->last_update, RRD_STEP);
	occu = floor_to(t, RRD_STEP);
	for (unsigned i = 0; i < r->nds; i++)
		r->ds[i].pdp_new = ds_pdp_new(&r->ds[i], interval);
	if (occu <= proc) {
		/* still inside the same step */
		for (unsigned i = 0; i < r->nds; i++) {
			struct ds *d = &r->ds[i];

			if (isnan(d->pdp_new))
				d->unkn_sec += interval;
			else
				d->pdp_val += d->pdp_new;
		}
		goto out;
	}
	{
		double pre = (double)occu - r->last_update;
		double post = t - (double)occu;

		for (unsigned i = 0; i < r->nds; i++) {
			struct ds *d = &r->ds[i];

			if (isnan(d->pdp_new))
				d->unkn_sec += pre;
			else
				d->pdp_val += d->pdp_new / interval * pre;
			if (interval > RRD_HEARTBEAT || RRD_STEP / 2.0 < d->unkn_sec)
				d->pdp = NAN;
			else
				d->pdp = d->pdp_val / ((double)(occu - proc) - d->unkn_sec);
			if (isnan(d->pdp_new)) {
				d->unkn_sec = floor(post);
				d->pdp_val = 0;
			} else {
				d->unkn_sec = 0;
				d->pdp_val = d->pdp_new / interval * post;
			}
		}
		consolidate(r, proc / RRD_STEP, (occu - proc) / RRD_STEP);
	}
out:
	r->last_update = t;
	return 0;
}

void rrd_forget_counters(struct rrd *r)
{
	for (unsigned i = 0; i < r->nds; i++)
		r->ds[i].last_known = false;
}

unsigned rrd_nds(const struct rrd *r)
{
	return r->nds;
}

const char *rrd_ds_name(const struct rrd *r, unsigned i)
{
	return i < r->nds ? r->ds[i].name : NULL;
}

int rrd_ds_find(const struct rrd *r, const char *name)
{
	for (unsigned i = 0; i < r->nds; i++)
		if (!strcmp(r->ds[i].name, name))
			return (int)i;
	return -1;
}

double rrd_last_update(const struct rrd *r)
{
	return r->last_update;
}

unsigned rrd_nrra(const struct rrd *r)
{
	return r->nrra;
}

const struct rrd_rra_info *rrd_rra_info(const struct rrd *r, unsigned rra)
{
	return rra < r->nrra ? &r->rra[rra].info : NULL;
}

double rrd_row(const struct rrd *r, unsigned rra, unsigned age, unsigned i)
{
	const struct rra *a;
	unsigned j;

	if (rra >= r->nrra || i >= r->nds)
		return NAN;
	a = &r->rra[rra];
	if (age >= a->info.rows)
		return NAN;
	j = (a->cur + a->info.rows - age) % a->info.rows;
	return r->ds[i].wide ? a->ring[i].d[j] : (double)a->ring[i].f[j];
}

int64_t rrd_rra_last_time(const struct rrd *r, unsigned rra)
{
	if (rra >= r->nrra)
		return 0;
	return floor_to(r->last_update, (int64_t)r->rra[rra].info.pdp_cnt * RRD_STEP);
}

static const char *const cf_names[] = { "AVERAGE", "MIN", "MAX", "LAST" };

const char *rrd_cf_name(enum rrd_cf cf)
{
	return (unsigned)cf < 4 ? cf_names[cf] : "?";
}

int rrd_cf_parse(const char *s, enum rrd_cf *out)
{
	for (unsigned i = 0; i < 4; i++)
		if (!strcasecmp(s, cf_names[i])) {
			*out = (enum rrd_cf)i;
			return 0;
		}
	return -EINVAL;
}
