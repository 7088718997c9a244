/* What `xe` knows of the datamodel: one row per field it can show, in the
 * datamodel's order.  The rows themselves are generated at build time
 * from src/api/model.c by support/gen-xe-fields.c into xe_fields.h
 * (XEF_<class>__<field> names a row, so a misspelt field fails the build);
 * this header only says what a row holds. */
#ifndef XB_XE_MODEL_H
#define XB_XE_MODEL_H

#include <stddef.h>

enum xe_kind {
	XE_STRING, XE_INT, XE_FLOAT, XE_BOOL, XE_DATETIME, XE_ENUM, XE_REF,
	XE_SET, XE_MAP,
};

struct xe_field {
	const char *api;                /* the field on the wire: "power_state" */
	const char *xe;                 /* as xe shows it: "power-state" */
	unsigned char kind;             /* enum xe_kind */
	unsigned char elem;             /* a set's element kind */
	const char *ref;                /* XE_REF (or a set of refs): the class */
	unsigned char rw;               /* settable: "( RW)", "(MRW)", "(SRW)" */
	unsigned char derived;          /* the referenced object's name-label */
};

struct xe_class {
	const char *name;               /* as on the wire: "VM", "SR" */
	const struct xe_field *f;
	size_t n;
};

#endif
