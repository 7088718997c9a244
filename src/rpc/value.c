/* Decoded RPC values: constructors, lookup, equality, datetimes, and the
 * codec-neutral re-emitter. */
#include "rpc/value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/codec.h"
#include "rpc/emit.h"

const char *xv_type_name(enum xv_type t)
{
	switch (t) {
	case XV_NIL:		return "nil";
	case XV_STRING:		return "string";
	case XV_INT:		return "int";
	case XV_BOOL:		return "boolean";
	case XV_DOUBLE:		return "double";
	case XV_DATETIME:	return "dateTime.iso8601";
	case XV_ARRAY:		return "array";
	case XV_STRUCT:		return "struct";
	}
	return "unknown";
}

const struct xv *xv_get(const struct xv *st, const char *name)
{
	size_t i;

	if (!st || st->type != XV_STRUCT || !name)
		return NULL;
	for (i = 0; i < st->len; i++)
		if (st->u.m[i].name && strcmp(st->u.m[i].name, name) == 0)
			return st->u.m[i].v;
	return NULL;
}

struct xv *xv_new(struct arena *a, enum xv_type t)
{
	struct xv *v = arena_alloc(a, sizeof(*v));

	if (v)
		v->type = t;
	return v;
}

struct xv *xv_str(struct arena *a, const char *s, size_t n)
{
	struct xv *v = xv_new(a, XV_STRING);
	char *p;

	if (!v)
		return NULL;
	p = arena_strndup(a, s, n);
	if (!p)
		return NULL;
	v->len = n;
	v->u.s = p;
	return v;
}

int xv_equal(const struct xv *x, const struct xv *y)
{
	size_t i;

	if (x == y)
		return 1;
	if (!x || !y || x->type != y->type)
		return 0;
	switch (x->type) {
	case XV_NIL:
		return 1;
	case XV_INT:
		return x->u.i == y->u.i;
	case XV_BOOL:
		return !x->u.b == !y->u.b;
	case XV_DOUBLE:
		if (isnan(x->u.d) || isnan(y->u.d))
			return isnan(x->u.d) && isnan(y->u.d);
		return x->u.d == y->u.d;
	case XV_STRING:
	case XV_DATETIME:
		return x->len == y->len &&
		       (x->len == 0 || memcmp(x->u.s, y->u.s, x->len) == 0);
	case XV_ARRAY:
		if (x->len != y->len)
			return 0;
		for (i = 0; i < x->len; i++)
			if (!xv_equal(x->u.a[i], y->u.a[i]))
				return 0;
		return 1;
	case XV_STRUCT:
		if (x->len != y->len)
			return 0;
		for (i = 0; i < x->len; i++)
			if (strcmp(x->u.m[i].name, y->u.m[i].name) != 0 ||
			    !xv_equal(x->u.m[i].v, y->u.m[i].v))
				return 0;
		return 1;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Datetimes.  Civil-calendar arithmetic on the proleptic Gregorian
 * calendar in 400-year eras (146097 days), so it is exact for any int64
 * day count we can be handed and needs no libc time zone machinery. */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days since 1970-01-01 of y-m-d (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = floor_div(y, 400);
	yoe = y - era * 400;                            /* 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;    /* 0..146096 */
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static char *put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

size_t xv_datetime_format(char *buf, int64_t t)
{
	int64_t secs = t % 86400, days = t / 86400, y;
	uint64_t uy;
	char tmp[24], *p = buf, *q = tmp + sizeof(tmp);
	int m, d, digits = 0;

	if (secs < 0) {         /* floor, without overflowing at INT64_MIN */
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0)
		*p++ = '-';
	uy = y < 0 ? (uint64_t)0 - (uint64_t)y : (uint64_t)y;
	do {
		*--q = (char)('0' + uy % 10);
		digits++;
	} while ((uy /= 10));
	for (; digits < 4; digits++)
		*--q = '0';
	memcpy(p, q, (size_t)(tmp + sizeof(tmp) - q));
	p += tmp + sizeof(tmp) - q;
	p = put2(p, m);
	p = put2(p, d);
	*p++ = 'T';
	p = put2(p, (int)(secs / 3600));
	*p++ = ':';
	p = put2(p, (int)(secs / 60 % 60));
	*p++ = ':';
	p = put2(p, (int)(secs % 60));
	*p++ = 'Z';
	*p = 0;
	return (size_t)(p - buf);
}

/* n decimal digits at s[*i], advancing *i; -1 if not all digits. */
static int digits(const char *s, size_t len, size_t *i, int n)
{
	int v = 0;

	if (len - *i < (size_t)n)
		return -1;
	for (; n; n--, (*i)++) {
		if (s[*i] < '0' || s[*i] > '9')
			return -1;
		v = v * 10 + (s[*i] - '0');
	}
	return v;
}

static int days_in_month(int64_t y, int m)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

/* The optional ':' or '-' separator: must be used consistently. */
static int sep(const char *s, size_t n, size_t *i, char c, int *use)
{
	int here = *i < n && s[*i] == c;

	if (*use < 0)
		*use = here;
	if (here != *use)
		return -1;
	*i += (size_t)here;
	return 0;
}

int xv_datetime_parse(const char *s, size_t n, int64_t *t)
{
	size_t i = 0;
	int y, mo, d, h, mi, sec, dash = -1, colon = -1, zcolon = -1;
	int64_t off = 0;

	if ((y = digits(s, n, &i, 4)) < 0 || sep(s, n, &i, '-', &dash) ||
	    (mo = digits(s, n, &i, 2)) < 0 || sep(s, n, &i, '-', &dash) ||
	    (d = digits(s, n, &i, 2)) < 0)
		return -1;
	if (i >= n || s[i++] != 'T')
		return -1;
	if ((h = digits(s, n, &i, 2)) < 0 || sep(s, n, &i, ':', &colon) ||
	    (mi = digits(s, n, &i, 2)) < 0 || sep(s, n, &i, ':', &colon) ||
	    (sec = digits(s, n, &i, 2)) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 60)
		return -1;
	if (i < n && (s[i] == '.' || s[i] == ',')) {
		size_t start = ++i;

		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return -1;
	}
	if (i < n && s[i] == 'Z') {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int sign = s[i++] == '-' ? -1 : 1, oh, om;

		if ((oh = digits(s, n, &i, 2)) < 0 ||
		    sep(s, n, &i, ':', &zcolon) ||
		    (om = digits(s, n, &i, 2)) < 0 || oh > 23 || om > 59)
			return -1;
		off = sign * (int64_t)(oh * 3600 + om * 60);
	}
	if (i != n)
		return -1;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return 0;
}

/* ---------------------------------------------------------------------
 * Re-emitter.  Recursion depth is bounded: once the emitter's own depth
 * limit trips it sets e->error and we stop descending. */

static void emit_datetime_value(struct emit *e, const struct xv *v)
{
	const char *s = v->u.s ? v->u.s : "";
	size_t n = v->u.s ? v->len : 0;
	int64_t t;

	if (e->ops->datetime_str)
		e->ops->datetime_str(e, s, n);
	else if (xv_datetime_parse(s, n, &t) == 0)
		emit_datetime(e, t);
	else
		emit_strn(e, s, n);
}

void emit_value(struct emit *e, const struct xv *v)
{
	size_t i;

	if (e->error)
		return;
	if (!v) {
		emit_nil(e);
		return;
	}
	switch (v->type) {
	case XV_NIL:
		emit_nil(e);
		break;
	case XV_STRING:
		emit_strn(e, v->u.s ? v->u.s : "", v->u.s ? v->len : 0);
		break;
	case XV_INT:
		emit_i64(e, v->u.i);
		break;
	case XV_BOOL:
		emit_bool(e, v->u.b);
		break;
	case XV_DOUBLE:
		emit_double(e, v->u.d);
		break;
	case XV_DATETIME:
		emit_datetime_value(e, v);
		break;
	case XV_ARRAY:
		emit_array_begin(e);
		for (i = 0; i < v->len && !e->error; i++)
			emit_value(e, v->u.a[i]);
		emit_array_end(e);
		break;
	case XV_STRUCT:
		emit_struct_begin(e);
		for (i = 0; i < v->len && !e->error; i++) {
			const char *name = v->u.m[i].name ? v->u.m[i].name : "";

			emit_membern(e, name, strlen(name));
			emit_value(e, v->u.m[i].v);
		}
		emit_struct_end(e);
		break;
	}
}

/* ---------------------------------------------------------------------
 * Doubles.  Integral values below 2^53 take a printf-free path (they are
 * the common case: sizes, counters, timeouts like 60.0); everything else
 * is snprintf + strtod, O(1) but slowish, which is fine for the few
 * doubles in a record. */

size_t xv_double_format(char *buf, double d)
{
	int n;

	if (isnan(d))
		return (size_t)(memcpy(buf, "nan", 4), 3);
	if (isinf(d))
		return d > 0 ? (memcpy(buf, "inf", 4), 3)
			     : (memcpy(buf, "-inf", 5), 4);
	if (fabs(d) < 1e15 && d == (double)(int64_t)d) {
		char tmp[24], *q = tmp + sizeof(tmp), *p = buf;
		int64_t i = (int64_t)d;
		uint64_t u = i < 0 ? (uint64_t)-i : (uint64_t)i;

		if (signbit(d))
			*p++ = '-';
		do
			*--q = (char)('0' + u % 10);
		while ((u /= 10));
		memcpy(p, q, (size_t)(tmp + sizeof(tmp) - q));
		p += tmp + sizeof(tmp) - q;
		*p = 0;
		return (size_t)(p - buf);
	}
	n = snprintf(buf, XV_DOUBLE_MAX, "%.16g", d);
	if (strtod(buf, NULL) != d)
		n = snprintf(buf, XV_DOUBLE_MAX, "%.17g", d);
	return (size_t)n;
}

/* ---------------------------------------------------------------------
 * The parsers' child stack (rpc/codec.h).  Doubling growth: amortised
 * O(1) per push. */

int cstack_push(struct cstack *s, void *p)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = p;
	return 0;
}

void cstack_free(struct cstack *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
