/* <class>.get_all_where / get_all_records_where: XAPI's filter expressions
 * (its database's db_filter grammar), parsed and matched against objects.
 *
 *   expr := expr and expr | expr or expr | not expr | ( expr )
 *         | true | false | val = val
 *   val  := "literal" | field "name"
 *
 * "and" and "or" bind equally, left to right; "not" takes everything after
 * it up to the closing parenthesis (or the end): `not A and B` is
 * `not (A and B)`, as XAPI's parser has it.  Literals are double-quoted,
 * without escapes.  A field compares as XAPI's database stores it: text,
 * bools "true"/"false", sets ('a' 'b'), maps (('k' 'v')); database names
 * (name__label) and record names (name_label) both work, "_ref" is the ref.
 */
#ifndef XB_API_WHERE_H
#define XB_API_WHERE_H

#include <stddef.h>

struct arena;
struct buf;
struct call;
struct dm_class;
struct obj;
struct where;

#define WHERE_MAX_DEPTH 64      /* nested parentheses and nots */

/* Parse s into *out (in a).  0, or -1 with *why and the byte offset *at. */
int where_parse(struct arena *a, const char *s, struct where **out,
		const char **why, size_t *at);
/* Resolve w's field names in class k.  0, or -1 with *bad the unknown name. */
int where_bind(struct where *w, const struct dm_class *k, const char **bad);
/* Does o match?  l and r are scratch for field values as text. */
int where_match(const struct where *w, const struct obj *o, struct buf *l, struct buf *r);

/* The two messages: refs (records == 0) or ref -> record.  Errors:
 * INVALID_VALUE [expr, why], as XAPI's for an expression it cannot use. */
int api_where_run(struct call *c, struct dm_class *k, int records);

#endif
