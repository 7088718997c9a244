/* rrd_updates output (see rrd_xport.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "stats/rrd_xport.h"

#define MAX_PICK (3 * RRD_NR_LAYOUT)

static int64_t floor_to(int64_t t, int64_t step)
{
	int64_t q = t / step;

	if (t % step && t < 0)
		q--;
	return q * step;
}

/* xcp-rrd find_best_rras: the RRAs (indexes into pick) to export from r.
 * Returns how many, 0 when none of that CF.  O(RRAs). */
static unsigned find_best(const struct rrd *r, int64_t pdp_interval,
			  enum rrd_cf cf, bool all_cf, int64_t start,
			  unsigned *pick)
{
	int64_t last_pdp = floor_to((int64_t)floor(rrd_last_update(r)), RRD_STEP);
	const struct rrd_rra_info *ok = NULL, *last = NULL;
	unsigned n = 0;

	for (unsigned k = 0; k < rrd_nrra(r); k++) {
		const struct rrd_rra_info *a = rrd_rra_info(r, k);
		int64_t oldest = last_pdp - (int64_t)RRD_STEP * a->rows * a->pdp_cnt;

		if (!all_cf && a->cf != cf)
			continue;
		last = a;
		if (!ok && a->pdp_cnt >= pdp_interval && start > oldest)
			ok = a;
	}
	if (!ok)
		ok = last;      /* the coarsest: RRAs are in increasing span */
	if (!ok)
		return 0;
	for (unsigned k = 0; k < rrd_nrra(r); k++) {
		const struct rrd_rra_info *a = rrd_rra_info(r, k);

		if ((all_cf || a->cf == cf) && a->pdp_cnt == ok->pdp_cnt &&
		    a->rows == ok->rows)
			pick[n++] = k;
	}
	return n;
}

void rrd_xport_num(struct buf *out, double v)
{
	if (isnan(v))
		buf_adds(out, "NaN");
	else if (isinf(v))
		buf_adds(out, v > 0 ? "Infinity" : "-Infinity");
	else if (v == 0)
		buf_adds(out, "0.0");
	else
		buf_addf(out, "%.4f", v);
}

/* XML text; JSON strings need only '"' and '\\' escaped for our names. */
static void add_text(struct buf *out, const char *s, bool json)
{
	for (; *s; s++) {
		if (json && (*s == '"' || *s == '\\'))
			buf_addc(out, '\\');
		if (!json && *s == '&')
			buf_adds(out, "&amp;");
		else if (!json && *s == '<')
			buf_adds(out, "&lt;");
		else if (!json && *s == '>')
			buf_adds(out, "&gt;");
		else if ((unsigned char)*s >= 0x20)
			buf_addc(out, *s);
	}
}

int rrd_xport(struct buf *out, const struct rrd_xport_src *src, unsigned n,
	      int64_t start, int64_t interval, enum rrd_cf cf, bool all_cf,
	      bool json)
{
	unsigned (*pick)[MAX_PICK] = NULL, *npick = NULL, cols = 0, nrows = 0;
	const struct rrd_rra_info *first = NULL;
	int64_t step, last_cdp, first_cdp;
	int rc = -ENOENT;

	if (!n)
		goto out;
	/* any start is fine; keep the arithmetic below far from overflow */
	if (start > ((int64_t)1 << 62))
		start = (int64_t)1 << 62;
	if (start < -((int64_t)1 << 62))
		start = -((int64_t)1 << 62);
	if (interval > ((int64_t)1 << 62))
		interval = (int64_t)1 << 62;
	if (interval < -((int64_t)1 << 62))
		interval = -((int64_t)1 << 62);
	pick = xcalloc(n, sizeof(*pick));
	npick = xcalloc(n, sizeof(*npick));
	for (unsigned s = 0; s < n; s++) {
		npick[s] = find_best(src[s].rrd, interval / RRD_STEP, cf, all_cf,
				     start, pick[s]);
		if (!first && npick[s])
			first = rrd_rra_info(src[s].rrd, pick[s][0]);
	}
	if (!first)
		goto out;
	/* keep the archives shaped like the first one */
	for (unsigned s = 0; s < n; s++) {
		unsigned m = 0;

		for (unsigned j = 0; j < npick[s]; j++) {
			const struct rrd_rra_info *a = rrd_rra_info(src[s].rrd, pick[s][j]);

			if (a->pdp_cnt == first->pdp_cnt && a->rows == first->rows)
				pick[s][m++] = pick[s][j];
		}
		npick[s] = m;
		cols += m * rrd_nds(src[s].rrd);
	}
	step = (int64_t)first->pdp_cnt * RRD_STEP;
	last_cdp = floor_to((int64_t)floor(rrd_last_update(src[0].rrd)), step);
	first_cdp = floor_to(start, step) + step;
	while (nrows < first->rows && last_cdp - (int64_t)nrows * step >= start)
		nrows++;

	if (json)
		buf_addf(out, "{\"meta\":{\"start\":%lld,\"step\":%lld,\"end\":%lld,"
			 "\"rows\":%u,\"columns\":%u,\"legend\":[",
			 (long long)first_cdp, (long long)step, (long long)last_cdp,
			 nrows, cols);
	else
		buf_addf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><xport><meta>"
			 "<start>%lld</start><step>%lld</step><end>%lld</end>"
			 "<rows>%u</rows><columns>%u</columns><legend>",
			 (long long)first_cdp, (long long)step, (long long)last_cdp,
			 nrows, cols);
	/* legend: per source, per archive (CF), per DS: O(columns) */
	for (unsigned s = 0, c = 0; s < n; s++)
		for (unsigned j = 0; j < npick[s]; j++)
			for (unsigned i = 0; i < rrd_nds(src[s].rrd); i++, c++) {
				const struct rrd_rra_info *a = rrd_rra_info(src[s].rrd, pick[s][j]);

				buf_adds(out, json ? (c ? ",\"" : "\"") : "<entry>");
				add_text(out, rrd_cf_name(a->cf), json);
				buf_addc(out, ':');
				add_text(out, src[s].prefix, json);
				add_text(out, rrd_ds_name(src[s].rrd, i), json);
				buf_adds(out, json ? "\"" : "</entry>");
			}
	buf_adds(out, json ? "]},\"data\":[" : "</legend></meta><data>");
	/* rows, newest first: O(rows * columns) */
	for (unsigned row = 0; row < nrows; row++) {
		int64_t t = last_cdp - (int64_t)row * step;
		unsigned c = 0;

		if (json)
			buf_addf(out, "%s{\"t\":%lld,\"values\":[", row ? "," : "",
				 (long long)t);
		else
			buf_addf(out, "<row><t>%lld</t>", (long long)t);
		for (unsigned s = 0; s < n; s++)
			for (unsigned j = 0; j < npick[s]; j++)
				for (unsigned i = 0; i < rrd_nds(src[s].rrd); i++, c++) {
					if (json && c)
						buf_addc(out, ',');
					if (!json)
						buf_adds(out, "<v>");
					rrd_xport_num(out, rrd_row(src[s].rrd, pick[s][j], row, i));
					if (!json)
						buf_adds(out, "</v>");
				}
		buf_adds(out, json ? "]}" : "</row>");
	}
	buf_adds(out, json ? "]}" : "</data></xport>");
	rc = 0;
out:
	free(pick);
	free(npick);
	return rc;
}
