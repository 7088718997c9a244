/* RRDs to and from bytes: the compact image the collector keeps on flash,
 * and the XML dump that GET /host_rrd and /vm_rrd serve (see rrd.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "stats/rrd.h"
#include "stats/rrd_priv.h"
#include "stats/rrd_xport.h"

/* ---- the image: native byte order, fixed-width fields ---- */

struct img_ds {
	char name[RRD_DS_NAME_MAX];
	uint8_t type, wide, last_known, pad[5];
	double min, max;
	uint64_t last_c;
	double pdp_val, unkn_sec;
};

struct img_cdp {
	double val;
	uint32_t nknown, nunkn;
};

struct img_rra {
	uint32_t cf, pdp_cnt, rows, cur;
	double xff;
};

struct img_head {
	uint32_t nds, nrra;
	double last_update;
};

static size_t ring_bytes(const struct rrd *r, unsigned i, unsigned rows)
{
	return rows * (r->ds[i].wide ? sizeof(double) : sizeof(float));
}

void rrd_save(const struct rrd *r, struct buf *out)
{
	struct img_head h = { r->nds, r->nrra, r->last_update };

	buf_add(out, &h, sizeof(h));
	for (unsigned i = 0; i < r->nds; i++) {
		const struct ds *d = &r->ds[i];
		struct img_ds x;

		memset(&x, 0, sizeof(x));
		memcpy(x.name, d->name, sizeof(x.name));
		x.type = (uint8_t)d->type;
		x.wide = d->wide;
		x.last_known = d->last_known;
		x.min = d->min;
		x.max = d->max;
		x.last_c = d->last_c;
		x.pdp_val = d->pdp_val;
		x.unkn_sec = d->unkn_sec;
		buf_add(out, &x, sizeof(x));
	}
	for (unsigned k = 0; k < r->nrra; k++) {
		const struct rra *a = &r->rra[k];
		struct img_rra x = { a->info.cf, a->info.pdp_cnt, a->info.rows, a->cur,
				     a->info.xff };

		buf_add(out, &x, sizeof(x));
		for (unsigned i = 0; i < r->nds; i++) {
			struct img_cdp c = { a->cdp[i].val, a->cdp[i].nknown, a->cdp[i].nunkn };

			buf_add(out, &c, sizeof(c));
			buf_add(out, r->ds[i].wide ? (const void *)a->ring[i].d
				: (const void *)a->ring[i].f, ring_bytes(r, i, a->info.rows));
		}
	}
}

static int take(const uint8_t **p, const uint8_t *end, void *dst, size_t n)
{
	if ((size_t)(end - *p) < n)
		return -1;
	memcpy(dst, *p, n);
	*p += n;
	return 0;
}

struct rrd *rrd_load(const uint8_t **p, const uint8_t *end)
{
	struct img_head h;
	struct rrd_ds_def *defs = NULL;
	struct img_ds *xd = NULL;
	struct rrd *r = NULL;

	if (take(p, end, &h, sizeof(h)) || !h.nds || h.nds > RRD_MAX_DS ||
	    (h.nrra != RRD_NR_LAYOUT && h.nrra != 3 * RRD_NR_LAYOUT))
		goto bad;
	defs = xcalloc(h.nds, sizeof(*defs));
	xd = xcalloc(h.nds, sizeof(*xd));
	for (unsigned i = 0; i < h.nds; i++) {
		if (take(p, end, &xd[i], sizeof(xd[i])) || xd[i].type > RRD_COUNTER ||
		    !memchr(xd[i].name, 0, sizeof(xd[i].name)))
			goto bad;
		defs[i] = (struct rrd_ds_def){ xd[i].name, xd[i].type, xd[i].min,
					       xd[i].max, xd[i].wide };
	}
	r = rrd_new(h.last_update, defs, h.nds, h.nrra > RRD_NR_LAYOUT);
	if (!r)
		goto bad;
	for (unsigned i = 0; i < h.nds; i++) {
		struct ds *d = &r->ds[i];

		d->last_known = xd[i].last_known;
		d->last_c = xd[i].last_c;
		d->pdp_val = xd[i].pdp_val;
		d->unkn_sec = xd[i].unkn_sec;
	}
	for (unsigned k = 0; k < r->nrra; k++) {
		struct rra *a = &r->rra[k];
		struct img_rra x;

		if (take(p, end, &x, sizeof(x)) || x.cf != a->info.cf ||
		    x.pdp_cnt != a->info.pdp_cnt || x.rows != a->info.rows ||
		    x.cur >= x.rows)
			goto bad;
		a->cur = x.cur;
		for (unsigned i = 0; i < r->nds; i++) {
			struct img_cdp c;

			if (take(p, end, &c, sizeof(c)) ||
			    take(p, end, r->ds[i].wide ? (void *)a->ring[i].d
				 : (void *)a->ring[i].f, ring_bytes(r, i, x.rows)))
				goto bad;
			a->cdp[i] = (struct cdp){ c.val, c.nknown, c.nunkn };
		}
	}
	free(defs);
	free(xd);
	return r;
bad:
	rrd_free(r);
	free(defs);
	free(xd);
	return NULL;
}

/* ---- the XML dump (xcp-rrd's Rrd.xml_to_output layout) ---- */

static void num(struct buf *out, const char *tag, double v)
{
	buf_addf(out, "<%s>", tag);
	rrd_xport_num(out, v);
	buf_addf(out, "</%s>", tag);
}

void rrd_dump_xml(const struct rrd *r, struct buf *out)
{
	static const char *const types[] = { "GAUGE", "DERIVE", "COUNTER" };

	buf_addf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rrd><version>0003</version>"
		 "<step>%d</step><lastupdate>%.0f</lastupdate>", RRD_STEP,
		 floor(r->last_update));
	for (unsigned i = 0; i < r->nds; i++) {
		const struct ds *d = &r->ds[i];

		/* our names are [a-z0-9_.-]: no escaping needed */
		buf_addf(out, "<ds><name>%s</name><type>%s</type>"
			 "<minimal_heartbeat>%d.0000</minimal_heartbeat>",
			 d->name, types[d->type], RRD_HEARTBEAT);
		num(out, "min", isnan(d->min) ? -INFINITY : d->min);
		num(out, "max", isnan(d->max) ? INFINITY : d->max);
		num(out, "last_ds", d->type == RRD_GAUGE ? 0.0 : (double)d->last_c);
		num(out, "value", d->pdp_val);
		buf_addf(out, "<unknown_sec>%.0f</unknown_sec></ds>", floor(d->unkn_sec));
	}
	for (unsigned k = 0; k < r->nrra; k++) {
		const struct rra *a = &r->rra[k];

		buf_addf(out, "<rra><cf>%s</cf><pdp_per_row>%u</pdp_per_row><params>",
			 rrd_cf_name(a->info.cf), a->info.pdp_cnt);
		num(out, "xff", a->info.xff);
		buf_adds(out, "</params><cdp_prep>");
		for (unsigned i = 0; i < r->nds; i++) {
			buf_adds(out, "<ds>");
			num(out, "primary_value", 0.0);
			num(out, "secondary_value", 0.0);
			num(out, "value", a->cdp[i].val);
			buf_addf(out, "<unknown_datapoints>%u</unknown_datapoints></ds>",
				 a->cdp[i].nunkn);
		}
		buf_adds(out, "</cdp_prep><database>");
		/* oldest row first, as rrdtool dump */
		for (unsigned age = a->info.rows; age-- > 0;) {
			buf_adds(out, "<row>");
			for (unsigned i = 0; i < r->nds; i++)
				num(out, "v", rrd_row(r, k, age, i));
			buf_adds(out, "</row>");
		}
		buf_adds(out, "</database></rra>");
	}
	buf_adds(out, "</rrd>");
}
