/* RRDs (src/stats/rrd.c): synthetic loads in, consolidated rows out, with
 * the values worked out by hand from rrdtool's rules (see rrd.h); and the
 * rrd_updates output (rrd_xport.c) against fixed text. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "stats/rrd.h"
#include "stats/rrd_xport.h"

/* RRA indexes: AVERAGE 0..3, MIN 4..7, MAX 8..11 */
enum { A5S, A1M, A1H, A1D, MIN5S, MIN1M, MIN1H, MIN1D, MAX5S, MAX1M };

static const struct rrd_ds_def gauge1[] = {
	{ "g", RRD_GAUGE, NAN, NAN, false },
};

static void feed(struct rrd *r, double t, double v)
{
	assert_int_equal(rrd_set(r, 0, v), 0);
	assert_int_equal(rrd_update(r, t), 0);
}

static void skip_update(struct rrd *r, double t)
{
	assert_int_equal(rrd_update(r, t), 0);  /* nothing staged: unknown */
}

/* float32 rows: 1e-6 relative is well inside their 24-bit mantissa */
static void near(double got, double want, int line)
{
	if (!(fabs(got - want) <= 1e-6 * (fabs(want) + 1)))
		fail_msg("line %d: got %.9g, want %.9g", line, got, want);
}
#define assert_near(a, b) near((a), (b), __LINE__)

static void test_layout(void **state)
{
	struct rrd *r = rrd_new(1000, gauge1, 1, true);
	static const unsigned pdp[] = { 1, 12, 720, 17280 }, rows[] = { 120, 120, 168, 366 };

	(void)state;
	assert_non_null(r);
	assert_int_equal(rrd_nrra(r), 12);
	for (unsigned k = 0; k < 12; k++) {
		const struct rrd_rra_info *a = rrd_rra_info(r, k);

		assert_int_equal(a->cf, k / 4);
		assert_int_equal(a->pdp_cnt, pdp[k % 4]);
		assert_int_equal(a->rows, rows[k % 4]);
		assert_true(a->xff == (k < 4 ? 0.5 : 1.0));
		assert_true(isnan(rrd_row(r, k, 0, 0)));
	}
	rrd_free(r);
	r = rrd_new(1000, gauge1, 1, false);
	assert_int_equal(rrd_nrra(r), 4);
	assert_int_equal(rrd_ds_find(r, "g"), 0);
	assert_int_equal(rrd_ds_find(r, "h"), -1);
	assert_int_equal(rrd_set_u64(r, 0, 1), -EINVAL);        /* gauge */
	assert_int_equal(rrd_set(r, 1, 1), -EINVAL);
	rrd_free(r);
	assert_null(rrd_new(1000, gauge1, 0, false));
	rrd_free(NULL);
}

/* Updates off the step boundaries: each PDP is the time-weighted mean of
 * the rates over its 5 s. */
static void test_average_within_step(void **state)
{
	struct rrd *r = rrd_new(1000, gauge1, 1, false);

	(void)state;
	feed(r, 1002, 1);       /* 1000..1002 at 1 */
	feed(r, 1005, 4);       /* 1002..1005 at 4: (2 + 12) / 5 = 2.8 */
	feed(r, 1007, 10);      /* 1005..1007 at 10 */
	feed(r, 1013, 2);       /* 1007..1013 at 2: (20 + 6) / 5 = 5.2 */
	feed(r, 1015, 0);       /* 1013..1015 at 0: 6 / 5 = 1.2 */
	assert_int_equal(rrd_rra_last_time(r, A5S), 1015);
	assert_near(rrd_row(r, A5S, 0, 0), 1.2);
	assert_near(rrd_row(r, A5S, 1, 0), 5.2);
	assert_near(rrd_row(r, A5S, 2, 0), 2.8);
	assert_true(isnan(rrd_row(r, A5S, 3, 0)));
	/* an update spanning several steps gives them all its rate */
	feed(r, 1031, 3);       /* 1015..1031 at 3: 1020, 1025, 1030 = 3 */
	assert_int_equal(rrd_rra_last_time(r, A5S), 1030);
	for (unsigned i = 0; i < 3; i++)
		assert_near(rrd_row(r, A5S, i, 0), 3);
	assert_near(rrd_row(r, A5S, 3, 0), 1.2);
	/* fractional times */
	feed(r, 1032.5, 1);     /* 1030..1032.5: 3 * 1 + 1 * 1.5 */
	feed(r, 1035, 7);       /* ... + 7 * 2.5 = 4.5 + 1.5 + 17.5 = 22 / 5 */
	assert_near(rrd_row(r, A5S, 0, 0), 4.4);
	rrd_free(r);
}

/* A PDP is unknown when more than half of its step is unknown. */
static void test_pdp_unknown_half(void **state)
{
	struct rrd *r = rrd_new(1000, gauge1, 1, false);

	(void)state;
	skip_update(r, 1002);   /* 2 s unknown */
	feed(r, 1005, 4);       /* 4 * 3 / (5 - 2) = 4 */
	assert_near(rrd_row(r, A5S, 0, 0), 4);
	skip_update(r, 1008);   /* 3 s unknown > 2.5 */
	feed(r, 1010, 4);
	assert_true(isnan(rrd_row(r, A5S, 0, 0)));
	feed(r, 1015, NAN);     /* NaN is unknown too */
	assert_true(isnan(rrd_row(r, A5S, 0, 0)));
	feed(r, 1020, 1);
	assert_near(rrd_row(r, A5S, 0, 0), 1);
	/* created mid-step: the part before creation is unknown */
	rrd_free(r);
	r = rrd_new(1003, gauge1, 1, false);    /* 3 s unknown */
	feed(r, 1005, 1);
	assert_true(isnan(rrd_row(r, A5S, 0, 0)));
	rrd_free(r);
	r = rrd_new(1002, gauge1, 1, false);    /* 2 s unknown */
	feed(r, 1005, 1);
	assert_near(rrd_row(r, A5S, 0, 0), 1);
	rrd_free(r);
}

/* Rows roll over into the coarser archives: a 1-min row is the mean of
 * the 12 5-s rows it covers, an hour of 720 PDPs, a day of 17280. */
static void test_rollover(void **state)
{
	const double day = 86400 * 20000.0;     /* aligned on every archive */
	struct rrd *r = rrd_new(day, gauge1, 1, true);
	double sum = 0;

	(void)state;
	for (unsigned i = 1; i <= 12; i++)
		feed(r, day + 5 * i, i);
	assert_int_equal(rrd_rra_last_time(r, A1M), (int64_t)day + 60);
	for (unsigned i = 0; i < 12; i++)
		sum += rrd_row(r, A5S, i, 0);
	assert_near(sum / 12, 6.5);
	assert_near(rrd_row(r, A1M, 0, 0), 6.5);
	assert_near(rrd_row(r, MIN1M, 0, 0), 1);
	assert_near(rrd_row(r, MAX1M, 0, 0), 12);
	assert_true(isnan(rrd_row(r, A1M, 1, 0)));
	assert_true(isnan(rrd_row(r, A1H, 0, 0)));
	/* the rest of the hour: minutes of 1..12 again, mean 6.5 */
	for (unsigned i = 13; i <= 720; i++)
		feed(r, day + 5 * i, (i - 1) % 12 + 1);
	assert_near(rrd_row(r, A1M, 59, 0), 6.5);
	assert_near(rrd_row(r, A1H, 0, 0), 6.5);
	assert_near(rrd_row(r, MIN1H, 0, 0), 1);
	assert_true(isnan(rrd_row(r, A1D, 0, 0)));
	/* the rest of the day at 2: (6.5 + 23 * 2) / 24 */
	for (unsigned i = 721; i <= 17280; i++)
		feed(r, day + 5 * i, 2);
	assert_int_equal(rrd_rra_last_time(r, A1D), (int64_t)day + 86400);
	assert_near(rrd_row(r, A1H, 0, 0), 2);
	assert_near(rrd_row(r, A1D, 0, 0), (6.5 + 23 * 2) / 24);
	assert_near(rrd_row(r, MIN1D, 0, 0), 1);
	/* 5-s ring: 120 rows, the oldest gone */
	assert_near(rrd_row(r, A5S, 119, 0), 2);
	assert_true(isnan(rrd_row(r, A5S, 120, 0)));
	rrd_free(r);
}

/* xff: AVERAGE rows need at least half their PDPs known; MIN/MAX one. */
static void test_xff(void **state)
{
	const double t0 = 60 * 1000.0;
	struct rrd *r = rrd_new(t0, gauge1, 1, true);
	unsigned i;

	(void)state;
	/* 6 unknown of 12: still known (6 > 6 is false) */
	for (i = 1; i <= 12; i++)
		if (i <= 6)
			skip_update(r, t0 + 5 * i);
		else
			feed(r, t0 + 5 * i, i);
	assert_near(rrd_row(r, A1M, 0, 0), (7 + 8 + 9 + 10 + 11 + 12) / 6.0);
	/* 7 unknown: NaN; MIN and MAX still see the 5 known */
	for (; i <= 24; i++)
		if (i <= 19)
			skip_update(r, t0 + 5 * i);
		else
			feed(r, t0 + 5 * i, i);
	assert_true(isnan(rrd_row(r, A1M, 0, 0)));
	assert_near(rrd_row(r, MIN1M, 0, 0), 20);
	assert_near(rrd_row(r, MAX1M, 0, 0), 24);
	/* 11 unknown: MIN/MAX keep the one; 12: NaN everywhere */
	for (; i <= 36; i++)
		if (i <= 35)
			skip_update(r, t0 + 5 * i);
		else
			feed(r, t0 + 5 * i, 5);
	assert_near(rrd_row(r, MAX1M, 0, 0), 5);
	for (; i <= 48; i++)
		skip_update(r, t0 + 5 * i);
	assert_true(isnan(rrd_row(r, MAX1M, 0, 0)));
	assert_true(isnan(rrd_row(r, MIN1M, 0, 0)));
	assert_true(isnan(rrd_row(r, A1M, 0, 0)));
	rrd_free(r);
	/* created 40 s into a minute: 8 unknown PDPs before creation */
	r = rrd_new(t0 + 40, gauge1, 1, true);
	for (i = 1; i <= 4; i++)
		feed(r, t0 + 40 + 5 * i, i);
	assert_int_equal(rrd_rra_last_time(r, A1M), (int64_t)t0 + 60);
	assert_true(isnan(rrd_row(r, A1M, 0, 0)));
	assert_near(rrd_row(r, MAX1M, 0, 0), 4);
	rrd_free(r);
}

static void test_counters(void **state)
{
	static const struct rrd_ds_def defs[] = {
		{ "c", RRD_COUNTER, NAN, NAN, false },
		{ "d", RRD_DERIVE, NAN, NAN, false },
		{ "d0", RRD_DERIVE, 0, NAN, false },
		{ "ns", RRD_COUNTER, NAN, NAN, true },
	};
	const uint64_t big = (uint64_t)1 << 60;
	struct rrd *r = rrd_new(1000, defs, 4, false);
	const uint64_t in[] = { 100, 600, 50, 550 };

	(void)state;
	assert_int_equal(rrd_set(r, 0, 1), -EINVAL);    /* not a gauge */
	for (unsigned k = 0; k < 4; k++) {
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(rrd_set_u64(r, i, in[k]), 0);
		assert_int_equal(rrd_set_u64(r, 3, big + k * 5000000000ull), 0);
		assert_int_equal(rrd_update(r, 1005 + 5 * k), 0);
	}
	/* age 3: first reading, no rate yet */
	for (unsigned i = 0; i < 4; i++)
		assert_true(isnan(rrd_row(r, A5S, 3, i)));
	/* age 2: +500 in 5 s */
	assert_near(rrd_row(r, A5S, 2, 0), 100);
	assert_near(rrd_row(r, A5S, 2, 1), 100);
	assert_near(rrd_row(r, A5S, 2, 2), 100);
	/* age 1: 600 -> 50, a reset: NaN, no spike; signed DERIVE is -110 */
	assert_true(isnan(rrd_row(r, A5S, 1, 0)));
	assert_near(rrd_row(r, A5S, 1, 1), -110);
	assert_true(isnan(rrd_row(r, A5S, 1, 2)));
	/* age 0: counting again */
	assert_near(rrd_row(r, A5S, 0, 0), 100);
	assert_near(rrd_row(r, A5S, 0, 2), 100);
	/* 2^60 + k * 5e9 ns: exactly 1e9 ns/s, beyond double's 2^53 */
	assert_true(rrd_row(r, A5S, 0, 3) == 1e9);
	assert_true(rrd_row(r, A5S, 2, 3) == 1e9);
	/* a missed reading makes the next delta unknown too */
	assert_int_equal(rrd_update(r, 1025), 0);
	assert_int_equal(rrd_set_u64(r, 0, 1050), 0);
	assert_int_equal(rrd_update(r, 1030), 0);
	assert_true(isnan(rrd_row(r, A5S, 0, 0)));
	rrd_free(r);
}

/* No update for longer than the heartbeat: the whole gap is unknown. */
static void test_heartbeat(void **state)
{
	struct rrd *r = rrd_new(1000, gauge1, 1, false);

	(void)state;
	feed(r, 1005, 1);
	feed(r, 1305, 2);       /* 300 s: still known */
	assert_near(rrd_row(r, A5S, 0, 0), 2);
	assert_near(rrd_row(r, A5S, 59, 0), 2);
	assert_near(rrd_row(r, A5S, 60, 0), 1);
	feed(r, 1610, 3);       /* 305 s: unknown */
	for (unsigned i = 0; i < 61; i++)
		assert_true(isnan(rrd_row(r, A5S, i, 0)));
	assert_near(rrd_row(r, A5S, 61, 0), 2);
	feed(r, 1615, 3);
	assert_near(rrd_row(r, A5S, 0, 0), 3);
	/* a gap of days: the rings hold NaN, nothing crashes */
	feed(r, 1615 + 3 * 86400, 1);
	for (unsigned k = 0; k < 4; k++)
		assert_true(isnan(rrd_row(r, k, 0, 0)));
	rrd_free(r);
}

static void test_time_backwards(void **state)
{
	struct rrd *r = rrd_new(1000, gauge1, 1, false);

	(void)state;
	feed(r, 1005, 1);
	assert_int_equal(rrd_set(r, 0, 9), 0);
	assert_int_equal(rrd_update(r, 1004), -ERANGE);
	assert_int_equal(rrd_update(r, 1005), -ERANGE);
	assert_int_equal(rrd_update(r, NAN), -ERANGE);
	assert_int_equal(rrd_update(r, RRD_TIME_MAX), -ERANGE);
	assert_int_equal(rrd_update(r, INFINITY), -ERANGE);
	assert_null(rrd_new(-1, gauge1, 1, false));
	assert_null(rrd_new(RRD_TIME_MAX, gauge1, 1, false));
	assert_true(rrd_last_update(r) == 1005);
	assert_near(rrd_row(r, A5S, 0, 0), 1);
	assert_int_equal(rrd_update(r, 1010), 0);       /* the 9 is still staged */
	assert_near(rrd_row(r, A5S, 0, 0), 9);
	rrd_free(r);
}

/* ---- rrd_updates ---- */

#define UUID "0f7a3f4c-1111-2222-3333-444455556666"

static struct rrd *xport_rrd(bool min_max)
{
	static const struct rrd_ds_def defs[] = {
		{ "cpu0", RRD_GAUGE, NAN, NAN, false },
		{ "memory_free_kib", RRD_GAUGE, NAN, NAN, true },
	};
	struct rrd *r = rrd_new(1000, defs, 2, min_max);
	const double cpu[] = { 0.5, 0.25, 1 }, mem[] = { 0, 2048, 123456789 };

	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(rrd_set(r, 0, cpu[i]), 0);
		assert_int_equal(rrd_set(r, 1, mem[i]), 0);
		assert_int_equal(rrd_update(r, 1005 + 5 * i), 0);
	}
	return r;
}

static void test_xport_xml(void **state)
{
	struct rrd *r = xport_rrd(false);
	struct rrd_xport_src src = { "host:" UUID ":", r };
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(rrd_xport(&b, &src, 1, 1004, 5, RRD_CF_AVERAGE, false, false), 0);
	assert_string_equal(b.data,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?><xport><meta>"
		"<start>1005</start><step>5</step><end>1015</end><rows>3</rows>"
		"<columns>2</columns><legend>"
		"<entry>AVERAGE:host:" UUID ":cpu0</entry>"
		"<entry>AVERAGE:host:" UUID ":memory_free_kib</entry>"
		"</legend></meta><data>"
		"<row><t>1015</t><v>1.0000</v><v>123456789.0000</v></row>"
		"<row><t>1010</t><v>0.2500</v><v>2048.0000</v></row>"
		"<row><t>1005</t><v>0.5000</v><v>0.0</v></row>"
		"</data></xport>");
	/* a minute's resolution: rows at 960 and 900 (never filled: NaN);
	 * meta start is the CDP after start, as in xcp-rrd */
	buf_reset(&b);
	assert_int_equal(rrd_xport(&b, &src, 1, 900, 60, RRD_CF_AVERAGE, false, false), 0);
	assert_non_null(strstr(b.data, "<start>960</start><step>60</step><end>960</end><rows>2</rows>"));
	assert_non_null(strstr(b.data, "<row><t>960</t><v>NaN</v><v>NaN</v></row>"
				       "<row><t>900</t><v>NaN</v><v>NaN</v></row></data>"));
	/* nothing newer than start */
	buf_reset(&b);
	assert_int_equal(rrd_xport(&b, &src, 1, 1016, 5, RRD_CF_AVERAGE, false, false), 0);
	assert_non_null(strstr(b.data, "<rows>0</rows>"));
	assert_non_null(strstr(b.data, "<data></data>"));
	/* no such archive */
	buf_reset(&b);
	assert_int_equal(rrd_xport(&b, &src, 1, 1004, 5, RRD_CF_MAX, false, false), -ENOENT);
	assert_int_equal(rrd_xport(&b, &src, 1, 1004, 5, RRD_CF_LAST, false, false), -ENOENT);
	assert_int_equal(rrd_xport(&b, &src, 0, 1004, 5, RRD_CF_AVERAGE, false, false), -ENOENT);
	buf_free(&b);
	rrd_free(r);
}

static void test_xport_json(void **state)
{
	struct rrd *h = xport_rrd(true), *v = xport_rrd(false);
	struct rrd_xport_src src[] = {
		{ "host:" UUID ":", h },
		{ "vm:" UUID ":", v },
	};
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(rrd_xport(&b, src, 2, 1009, 5, RRD_CF_AVERAGE, false, true), 0);
	assert_string_equal(b.data,
		"{\"meta\":{\"start\":1010,\"step\":5,\"end\":1015,\"rows\":2,"
		"\"columns\":4,\"legend\":["
		"\"AVERAGE:host:" UUID ":cpu0\","
		"\"AVERAGE:host:" UUID ":memory_free_kib\","
		"\"AVERAGE:vm:" UUID ":cpu0\","
		"\"AVERAGE:vm:" UUID ":memory_free_kib\"]},"
		"\"data\":["
		"{\"t\":1015,\"values\":[1.0000,123456789.0000,1.0000,123456789.0000]},"
		"{\"t\":1010,\"values\":[0.2500,2048.0000,0.2500,2048.0000]}]}");
	/* no cf: every CF of the first source's shape */
	buf_reset(&b);
	assert_int_equal(rrd_xport(&b, src, 1, 1009, 5, RRD_CF_AVERAGE, true, true), 0);
	assert_non_null(strstr(b.data, "\"columns\":6,"));
	assert_non_null(strstr(b.data, "\"MIN:host:" UUID ":cpu0\""));
	assert_non_null(strstr(b.data, "{\"t\":1015,\"values\":[1.0000,123456789.0000,"
				       "1.0000,123456789.0000,1.0000,123456789.0000]}"));
	/* start older than the 5-s ring: the 1-min archive */
	buf_reset(&b);
	assert_int_equal(rrd_xport(&b, src, 1, 0, 5, RRD_CF_AVERAGE, false, true), 0);
	assert_non_null(strstr(b.data, "\"step\":60,"));
	assert_non_null(strstr(b.data, "\"rows\":17,"));        /* 960 .. 0 */
	buf_free(&b);
	rrd_free(h);
	rrd_free(v);
}

/* Two RRDs hold the same rows, bit for bit (NaN equals NaN). */
static void same_rows(const struct rrd *a, const struct rrd *b)
{
	assert_int_equal(rrd_nrra(a), rrd_nrra(b));
	assert_int_equal(rrd_nds(a), rrd_nds(b));
	assert_true(rrd_last_update(a) == rrd_last_update(b));
	for (unsigned k = 0; k < rrd_nrra(a); k++)
		for (unsigned age = 0; age < rrd_rra_info(a, k)->rows; age++)
			for (unsigned i = 0; i < rrd_nds(a); i++) {
				double x = rrd_row(a, k, age, i), y = rrd_row(b, k, age, i);

				if (!(x == y || (isnan(x) && isnan(y))))
					fail_msg("rra %u age %u ds %u: %g != %g", k, age, i, x, y);
			}
}

static void feed3(struct rrd *r, double t, double g, uint64_t c)
{
	assert_int_equal(rrd_set(r, 0, g), 0);
	assert_int_equal(rrd_set(r, 1, g * 1e9), 0);
	assert_int_equal(rrd_set_u64(r, 2, c), 0);
	assert_int_equal(rrd_update(r, t), 0);
}

/* The saved image restores every row and the steps and rows in
 * preparation: the same updates after loading give the same rows. */
static void test_save_load(void **state)
{
	static const struct rrd_ds_def ds[] = {
		{ "g", RRD_GAUGE, 0, NAN, false },
		{ "wide", RRD_GAUGE, NAN, NAN, true },
		{ "c", RRD_COUNTER, 0, NAN, false },
	};
	struct rrd *r = rrd_new(1000, ds, 3, true), *l;
	struct buf b = BUF_INIT;
	const uint8_t *p, *end;
	uint64_t c = 1000;

	(void)state;
	/* 100 s of load, ending mid-step and mid-minute */
	for (double t = 1003; t < 1100; t += 5, c += 50 + (uint64_t)t % 7)
		feed3(r, t, (double)((unsigned)t % 11) / 10, c);
	rrd_save(r, &b);
	p = (const uint8_t *)b.data;
	end = p + b.len;
	l = rrd_load(&p, end);
	assert_non_null(l);
	assert_ptr_equal(p, end);
	assert_string_equal(rrd_ds_name(l, 1), "wide");
	same_rows(r, l);
	/* the steps and rows in preparation were restored too */
	for (double t = 1103; t < 1300; t += 5, c += 31) {
		feed3(r, t, 0.25, c);
		feed3(l, t, 0.25, c);
	}
	same_rows(r, l);
	assert_near(rrd_row(l, A5S, 0, 2), 31.0 / 5);
	assert_near(rrd_row(l, A5S, 0, 1), 0.25e9);
	rrd_free(l);

	/* truncated or inconsistent images are refused */
	for (size_t n = 0; n < b.len; n += b.len / 7 + 1) {
		p = (const uint8_t *)b.data;
		assert_null(rrd_load(&p, p + n));
	}
	p = (const uint8_t *)b.data;
	assert_null(rrd_load(&p, p + b.len - 1));
	((uint32_t *)b.data)[0] = 0;            /* no data sources */
	p = (const uint8_t *)b.data;
	assert_null(rrd_load(&p, end));
	buf_free(&b);
	rrd_free(r);
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (s = strstr(s, needle); s; s = strstr(s + 1, needle))
		n++;
	return n;
}

static void test_dump_xml(void **state)
{
	static const char head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rrd>"
		"<version>0003</version><step>5</step><lastupdate>1010"
		"</lastupdate><ds><name>g</name><type>GAUGE</type>"
		"<minimal_heartbeat>300.0000</minimal_heartbeat>"
		"<min>-Infinity</min><max>Infinity</max>";
	struct rrd *r = rrd_new(1000, gauge1, 1, false);
	struct buf b = BUF_INIT;

	(void)state;
	feed(r, 1005, 0.5);
	feed(r, 1010, 0.25);
	rrd_dump_xml(r, &b);
	buf_addc(&b, 0);
	assert_true(!strncmp(b.data, head, strlen(head)));
	assert_int_equal(count(b.data, "<rra>"), 4);
	assert_int_equal(count(b.data, "<row>"), 120 + 120 + 168 + 366);
	/* rows oldest first: the 5 s archive ends with 0.5, 0.25 */
	assert_non_null(strstr(b.data, "<row><v>0.5000</v></row><row><v>0.2500</v></row>"
			       "</database></rra><rra><cf>AVERAGE</cf><pdp_per_row>12"));
	assert_true(!strcmp(b.data + strlen(b.data) - 6, "</rrd>"));
	buf_free(&b);
	rrd_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_average_within_step),
		cmocka_unit_test(test_pdp_unknown_half),
		cmocka_unit_test(test_rollover),
		cmocka_unit_test(test_xff),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_heartbeat),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_xport_xml),
		cmocka_unit_test(test_xport_json),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_dump_xml),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
