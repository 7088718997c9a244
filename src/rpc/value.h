/* Decoded RPC values: the tree the XML-RPC and JSON decoders produce.
 *
 * Everything lives in the request's arena (lib/arena.h).  Strings are
 * NUL-terminated and may contain NULs only when len says so.  The codecs
 * know no datamodel: an XML-RPC <value>42</value> is a STRING, <i4>42</i4>
 * an INT; the API layer converts according to the parameter's type. */
#ifndef XB_VALUE_H
#define XB_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"

enum xv_type {
	XV_NIL,         /* <nil/>, JSON null */
	XV_STRING,      /* <string>, untyped <value>, JSON string */
	XV_INT,         /* <i4>, <int>, <i8>; JSON integral number */
	XV_BOOL,
	XV_DOUBLE,
	XV_DATETIME,    /* <dateTime.iso8601>: s holds the text as sent */
	XV_ARRAY,
	XV_STRUCT,
};

struct xv;

struct xv_member {
	const char *name;
	struct xv *v;
};

struct xv {
	enum xv_type type;
	size_t len;                     /* bytes of s; items of a; members of m */
	union {
		const char *s;
		int64_t i;
		int b;
		double d;
		struct xv **a;
		struct xv_member *m;
	} u;
};

const char *xv_type_name(enum xv_type t);
/* Struct member by name, NULL if absent or st is not a struct.  O(members). */
const struct xv *xv_get(const struct xv *st, const char *name);

/* Both return NULL when the arena's limit is reached.  xv_str copies s
 * (n bytes, NULs allowed) and NUL-terminates the copy.  O(n). */
struct xv *xv_new(struct arena *a, enum xv_type t);
struct xv *xv_str(struct arena *a, const char *s, size_t n);

/* Deep equality: same types, lengths, bytes, member names and order.
 * Doubles compare by value, except that NaN equals NaN.  O(tree). */
int xv_equal(const struct xv *x, const struct xv *y);

/* XAPI's datetime text, "20240101T12:00:00Z": XV_DATETIME_LEN bytes for
 * years 0..9999 (other years get more digits and a sign if negative).
 * Writes a NUL-terminated string into buf, returns its length. */
#define XV_DATETIME_LEN 18
#define XV_DATETIME_MAX 32              /* buffer size for any int64 */
size_t xv_datetime_format(char *buf, int64_t t);

/* d the way XAPI writes floats: "%.16g", or "%.17g" when 16 significant
 * digits would not read back as the same double, so the text always
 * round-trips; "nan", "inf" and "-inf" for the non-finite (OCaml's
 * %.16g).  buf needs XV_DOUBLE_MAX bytes; returns the length. */
#define XV_DOUBLE_MAX 32
size_t xv_double_format(char *buf, double d);

/* Parse the text of a <dateTime.iso8601> into seconds since the epoch:
 * YYYYMMDD or YYYY-MM-DD, 'T', HH:MM:SS or HHMMSS, an optional fraction
 * (ignored), then 'Z', +HH:MM / +HHMM / -..., or nothing (taken as UTC,
 * as XAPI does).  0 on success, -1 on anything else.  O(n). */
int xv_datetime_parse(const char *s, size_t n, int64_t *t);

#endif
