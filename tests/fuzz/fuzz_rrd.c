/* libFuzzer target: the RRD image reader (stats/rrd_file.c).
 *
 * The file is checksummed, so only xenbox's own images reach rrd_load;
 * still, whatever it accepts must be usable: save it again and require a
 * byte fixpoint on the second trip, then update it across a step, a row
 * and a long gap, dump it as XML and export it, under ASan and UBSan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/rrd.h"
#include "stats/rrd_xport.h"

#define CHECK(c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *q;
	struct rrd *r = rrd_load(&p, data + size), *r2;
	struct buf a = BUF_INIT, b = BUF_INIT;
	double t;

	if (!r)
		return 0;
	CHECK(p <= data + size);
	rrd_save(r, &a);
	q = (const uint8_t *)a.data;
	r2 = rrd_load(&q, q + a.len);
	CHECK(r2 && q == (const uint8_t *)a.data + a.len);
	rrd_save(r2, &b);
	CHECK(a.len == b.len && !memcmp(a.data, b.data, a.len));
	rrd_free(r2);
	t = rrd_last_update(r);
	for (unsigned k = 0; k < 3; k++) {
		static const double dt[] = { 3, 60, 400000 };

		for (unsigned i = 0; i < rrd_nds(r); i++)
			if (rrd_set(r, i, 0.5))
				rrd_set_u64(r, i, (uint64_t)t * 1000);
		t += dt[k];
		rrd_update(r, t);
	}
	buf_reset(&a);
	rrd_dump_xml(r, &a);
	buf_reset(&a);
	{
		struct rrd_xport_src src = { "host:x:", r };

		rrd_xport(&a, &src, 1, (int64_t)t - 600, 5, RRD_CF_AVERAGE, true, true);
	}
	buf_free(&a);
	buf_free(&b);
	rrd_free(r);
	return 0;
}
