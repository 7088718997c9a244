/* What a decoded tree should look like after a trip through an emitter
 * and back through the matching parser.  Shared by the fuzz targets and
 * the unit tests (included, not linked: header-only, static functions).
 *
 * XML-RPC in XAPI's style is lossy on purpose:
 *   - int64 goes out as a string (<value>42</value>), so INT -> STRING;
 *   - control characters other than \t \n \r are dropped (XML 1.0 cannot
 *     carry them), and the reader normalises CR and CR LF to LF;
 *   - text that is not well-formed UTF-8 of XML Chars (only reachable
 *     through <base64>) cannot be read back at all.
 * JSON keeps everything except DATETIME, which goes out as a string.
 */
#ifndef XB_TEST_ROUNDTRIP_H
#define XB_TEST_ROUNDTRIP_H

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rpc/value.h"

/* Would the XML reader accept these bytes as text (after escaping)? */
static inline int rt_xml_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		uint32_t c = *p;
		size_t k, i;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 2, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 3, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 4, c &= 0x07;
		else
			return 0;
		if ((size_t)(end - p) < k)
			return 0;
		for (i = 1; i < k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (k == 4 && (c < 0x10000 || c > 0x10ffff)) ||
		    c == 0xfffe || c == 0xffff)
			return 0;
		p += k;
	}
	return 1;
}

static inline int rt_tree_xml_clean(const struct xv *v)
{
	size_t i;

	if (!v)
		return 1;
	switch (v->type) {
	case XV_STRING:
	case XV_DATETIME:
		return rt_xml_clean(v->u.s, v->len);
	case XV_ARRAY:
		for (i = 0; i < v->len; i++)
			if (!rt_tree_xml_clean(v->u.a[i]))
				return 0;
		return 1;
	case XV_STRUCT:
		for (i = 0; i < v->len; i++)
			if (!rt_xml_clean(v->u.m[i].name,
					  strlen(v->u.m[i].name)) ||
			    !rt_tree_xml_clean(v->u.m[i].v))
				return 0;
		return 1;
	default:
		return 1;
	}
}

static inline int rt_xml_dropped(unsigned char c)
{
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

/* Is b (read back) what the XML emitter makes of a (s, n)?  The emitter
 * drops first; the reader then turns CR LF and CR into LF. */
static inline int rt_xml_text_eq(const char *a, size_t an, const char *b,
				 size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an) {
		unsigned char c = (unsigned char)a[i++];

		if (rt_xml_dropped(c))
			continue;
		if (c == '\r') {
			while (i < an && rt_xml_dropped((unsigned char)a[i]))
				i++;
			if (i < an && a[i] == '\n')
				i++;
			c = '\n';
		}
		if (j >= bn || (unsigned char)b[j++] != c)
			return 0;
	}
	return j == bn;
}

static inline int rt_xml_equal(const struct xv *a, const struct xv *b)
{
	size_t i;

	if (!a || !b)
		return a == b;
	if (a->type == XV_INT) {
		char tmp[24];
		int n = snprintf(tmp, sizeof(tmp), "%" PRId64, a->u.i);

		return b->type == XV_STRING && b->len == (size_t)n &&
		       memcmp(tmp, b->u.s, (size_t)n) == 0;
	}
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case XV_STRING:
	case XV_DATETIME:
		return rt_xml_text_eq(a->u.s, a->len, b->u.s, b->len);
	case XV_ARRAY:
		if (a->len != b->len)
			return 0;
		for (i = 0; i < a->len; i++)
			if (!rt_xml_equal(a->u.a[i], b->u.a[i]))
				return 0;
		return 1;
	case XV_STRUCT:
		if (a->len != b->len)
			return 0;
		for (i = 0; i < a->len; i++)
			if (!rt_xml_text_eq(a->u.m[i].name,
					    strlen(a->u.m[i].name),
					    b->u.m[i].name,
					    strlen(b->u.m[i].name)) ||
			    !rt_xml_equal(a->u.m[i].v, b->u.m[i].v))
				return 0;
		return 1;
	default:
		return xv_equal(a, b);
	}
}

/* Is b what a JSON trip makes of a?  (DATETIME -> STRING.) */
static inline int rt_json_equal(const struct xv *a, const struct xv *b)
{
	size_t i;

	if (!a || !b)
		return a == b;
	if (a->type == XV_DATETIME)
		return b->type == XV_STRING && a->len == b->len &&
		       memcmp(a->u.s, b->u.s, a->len) == 0;
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case XV_ARRAY:
		if (a->len != b->len)
			return 0;
		for (i = 0; i < a->len; i++)
			if (!rt_json_equal(a->u.a[i], b->u.a[i]))
				return 0;
		return 1;
	case XV_STRUCT:
		if (a->len != b->len)
			return 0;
		for (i = 0; i < a->len; i++)
			if (strcmp(a->u.m[i].name, b->u.m[i].name) != 0 ||
			    !rt_json_equal(a->u.m[i].v, b->u.m[i].v))
				return 0;
		return 1;
	default:
		return xv_equal(a, b);
	}
}

/* Would the strict JSON reader take every string of the tree back?  (It
 * validates UTF-8; XML <base64> can decode to anything.) */
static inline int rt_utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		uint32_t c = *p;
		size_t k, i;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 2, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 3, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 4, c &= 0x07;
		else
			return 0;
		if ((size_t)(end - p) < k)
			return 0;
		for (i = 1; i < k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i] & 0x3f);
		}
		if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
		    (k == 4 && (c < 0x10000 || c > 0x10ffff)))
			return 0;
		p += k;
	}
	return 1;
}

static inline int rt_tree_json_ok(const struct xv *v)
{
	size_t i;

	if (!v)
		return 1;
	switch (v->type) {
	case XV_STRING:
	case XV_DATETIME:
		return rt_utf8_ok(v->u.s, v->len);
	case XV_DOUBLE:
		return isfinite(v->u.d);        /* NaN/Infinity: not JSON */
	case XV_ARRAY:
		for (i = 0; i < v->len; i++)
			if (!rt_tree_json_ok(v->u.a[i]))
				return 0;
		return 1;
	case XV_STRUCT:
		for (i = 0; i < v->len; i++)
			if (!rt_utf8_ok(v->u.m[i].name,
					strlen(v->u.m[i].name)) ||
			    !rt_tree_json_ok(v->u.m[i].v))
				return 0;
		return 1;
	default:
		return 1;
	}
}

#endif
