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

struct xv *xv_new(struct arena *a, enum xv_type t);
struct xv *xv_str(struct arena *a, const char *s, size_t n);

#endif
