/* The XenAPI datamodel: declared once (src/api/model.c), used everywhere.
 *
 * Classes, fields (type, qualifier, default), enums and messages are plain
 * tables.  From them the dispatcher derives the accessor messages
 * (get_record, get_<field>, set_<field>, add_to_/remove_from_, get_all...),
 * the store derives its SQL schema, the event code its classes and
 * system.listMethods its list.  Field types are written as XAPI's
 * documentation writes them ("VBD ref set", "(string -> string) map",
 * "vm_power_state") and parsed once at start-up.
 *
 * Objects live in memory: one hash of refs, one of uuids, and a list per
 * class in creation order.  Every change bumps the global generation, which
 * events and the store's dirty tracking follow.
 */
#ifndef XB_DM_H
#define XB_DM_H

#include <stddef.h>
#include <stdint.h>

#include "dm_fields.h"     /* FLD(cls, field): generated from model.c */

/* Naming a field in code: never by string at run time.
 *   OF(o, VM, power_state)  where the object o is at hand: the index of
 *                           VM.power_state; in the host (test) build it
 *                           also aborts with file:line unless o is a VM,
 *                           so the ASan tests catch a right name on the
 *                           wrong class; in the target build it is just
 *                           the constant.
 *   FLD(VM, power_state)    where only the class is known (a loop over
 *                           dm_class_find("VM")'s objects, a table).
 * Both fail the build on a name the class does not have.  Names from the
 * wire (get_<field>, where-expressions, the store's columns) go through
 * dm_field_find(), which returns NULL. */
#ifdef XB_HOST_BUILD
struct obj;
int dm_of_check(const struct obj *o, const char *cls, int idx, const char *file, int line);
#define OF(o, cls, name) dm_of_check((o), #cls, FLD(cls, name), __FILE__, __LINE__)
#else
#define OF(o, cls, name) FLD(cls, name)
#endif

/* ---- types ---- */

enum dm_kind {
	DM_STRING, DM_INT, DM_FLOAT, DM_BOOL, DM_DATETIME, DM_ENUM, DM_REF,
	DM_SET, DM_MAP,
};

struct dm_enum {
	const char *name;
	const char *values;             /* space separated, as on the wire */
	/* filled at init */
	const char **v;
	int n;
};

struct dm_class;

struct dm_type {
	enum dm_kind kind;
	const struct dm_type *elem;     /* SET element, MAP value */
	const struct dm_type *key;      /* MAP key */
	const struct dm_enum *en;       /* ENUM */
	const char *cls;                /* REF: class name */
};

/* A value.  Its type is always known from context (field or parameter).
 * Strings and refs are interned strings (dm_str below); sets are lists of
 * values; maps are lists of 2n values, key then value, in insertion order. */
struct dm_list;
struct dm_val {
	union {
		char *s;                /* STRING, REF */
		int64_t i;              /* INT, DATETIME (epoch s), ENUM index, BOOL */
		double d;               /* FLOAT */
		struct dm_list *l;      /* SET, MAP (NULL = empty) */
		struct dm_val *v;       /* a sparse object's slots (dm.c) */
	} u;
};

/* Interned strings: one refcounted, immutable copy per distinct text, so
 * the thousand "running" or a VM's ref held by its VBDs' VM fields, its
 * own set and the object cost one allocation (docs/POOL.md 11.3).  ""
 * and "OpaqueRef:NULL" are static and never allocated.  Every string in
 * a dm_val (STRING, REF) and every obj->ref is one: make it with dm_str,
 * share it with dm_str_ref, drop it with dm_str_put (dm_val_free does);
 * never free() or write one (the test build aborts on a dm_str_put of a
 * string that is not one). */
char *dm_str(const char *s);
char *dm_strn(const char *s, size_t n);
char *dm_str_ref(const char *s);        /* s is a dm_str: one more reference */
void dm_str_put(const char *s);         /* NULL is fine */
size_t dm_str_count(void);              /* distinct strings held (tests) */

struct dm_list {
	uint32_t n, cap;                /* n values (a map holds n/2 pairs) */
	struct dm_val v[];
};

/* ---- classes ---- */

enum dm_qual {
	DM_RO,          /* DynamicRO: set by the server only */
	DM_RO_CREATE,   /* StaticRO: given to create, read-only after */
	DM_RW,          /* settable: set_<field>, add_to_/remove_from_ */
};

/* field flags */
#define DM_F_VOLATILE   0x01    /* not persisted (derived or runtime) */
#define DM_F_HIDDEN     0x02    /* not in records (internal state) */

/* Laid out to pack: the model declares some 470 of these, so every byte
 * here is ~0.5 KiB of binary (8 pointers first, then the small members). */
struct dm_field {
	const char *name;
	const char *type;               /* type spec */
	union {
		const char *def;        /* default literal, NULL = type's zero */
		struct dm_val dv;       /* after dm_init: its value (sparse objects) */
	};
	const char *inverse;            /* "VBD.VM": this set lists the VBDs
					 * whose VM field points here */
	/* filled at init */
	const struct dm_type *t;
	struct dm_class *inv_cls;       /* on a ref field that a set mirrors */
	short idx;
	short inv_idx;
	unsigned char qual;             /* enum dm_qual */
	unsigned char flags;
};

struct call;

struct dm_param {
	const char *type;
	const char *name;
	const char *def;                /* default literal: parameter optional */
};

/* message flags */
#define DM_M_NO_SESSION 0x01    /* called without a session (login) */
#define DM_M_ASYNC      0x02    /* also reachable as Async.<class>.<name> */
#define DM_M_RAW        0x04    /* handler emits its own result */

struct dm_msg {
	const char *name;
	const char *result;             /* type spec, "void", or NULL for RAW */
	const struct dm_param *params;  /* { NULL } terminated, after session */
	int (*fn)(struct call *c, struct dm_val *args, struct dm_val *res);
	/* filled at init */
	const struct dm_type *rt;
	const struct dm_type **pt;
	unsigned char flags;
	unsigned char nparams, nrequired;
};

/* class flags */
#define DM_C_CREATE     0x01    /* generated <class>.create(record) */
#define DM_C_DESTROY    0x02    /* generated <class>.destroy(ref) */
#define DM_C_VOLATILE   0x04    /* objects are never persisted */
#define DM_C_NO_UUID    0x08
#define DM_C_NO_OBJECTS 0x10    /* messages only: event */
/* Persisted like any other class but never reachable over the API: no
 * accessors, not in system.listMethods, event.from/register ("*"
 * included), valid_ref_counts, and a ref of one of its objects is refused
 * as an argument of any call (api_class_find, api_val_from_wire).  For the
 * pool's own state (docs/POOL.md 3.2, 3.3). */
#define DM_C_INTERNAL   0x20
/* A member's objects of these classes are mirrored on its pool's master
 * (docs/POOL.md 4.2); of those, DM_C_METRICS ones whose change touched
 * volatile fields only wait for the metrics interval (4.3). */
#define DM_C_MIRROR     0x40
#define DM_C_METRICS    0x80

struct obj;

struct dm_class {
	const char *name;               /* as on the wire: "VM", "host_metrics" */
	unsigned flags;
	struct dm_field *fields;        /* { NULL } terminated */
	struct dm_msg *msgs;            /* { NULL } terminated, may be NULL */
	/* hooks, may be NULL: a create/destroy/set may veto with an API error */
	int (*on_create)(struct call *c, struct obj *o);
	int (*on_destroy)(struct call *c, struct obj *o);
	/* filled at init */
	char *lname;                    /* lower case, for events */
	int nfields;
	int f_uuid, f_name_label;       /* field index or -1 */
	struct obj *first, *last;       /* creation order */
	size_t count;
};

/* ---- objects ---- */

#define DM_REF_LEN 47                   /* "OpaqueRef:" + uuid + NUL */

struct obj {
	const struct dm_class *cls;
	const char *ref;                /* a dm_str, shared with refs to o */
	uint64_t gen_created, gen_modified;
	struct obj *next, *prev;        /* class list */
	struct obj *hnext_ref, *hnext_uuid;
	unsigned dirty : 1;             /* changed since the store's last flush:
					 * on the dirty list (dm_dirty_all) */
	unsigned transient : 1;         /* never persisted (local sessions) */
	/* the pool's mirror (docs/POOL.md 4.1): 0 is this daemon; on a
	 * master 1.. are member slots (pool/master.h), on a member 1 is the
	 * master.  seen: applied in the running full snapshot (4.3); urgent:
	 * a metrics object with a non-volatile change to send at once. */
	unsigned owner : 16;
	unsigned seen : 1;
	unsigned urgent : 1;
	/* sparse (docs/POOL.md 11.3): an object of a DM_C_MIRROR class that
	 * another host owns holds only the fields that differ from their
	 * default: f_[0..w) a bitmap of them (w = 64-bit words for nfields),
	 * f_[w] their values in field order (NULL when none). */
	unsigned sparse : 1;
	/* wall-clock second of gen_modified (events' timestamps); in memory
	 * only: after a restart, the time the object was loaded.  Fills the
	 * padding before f[], so it costs no memory. */
	uint32_t mtime;
	/* The values: never indexed outside dm.c (an object may be sparse);
	 * read a field with dm_fv(), write it with dm_set() or, in place,
	 * through dm_fw(). */
	struct dm_val f_[];
};

/* Field i of o for reading: its value, or for a sparse object without it
 * the field's default (shared: never written).  Valid until o's next
 * write. */
const struct dm_val *dm_fv(const struct obj *o, int i);
/* Field i of o for writing in place (a set's elements, a timestamp); a
 * sparse object gets a slot for it.  Valid until o's next write; call
 * dm_touch or the like as a dm_set would. */
struct dm_val *dm_fw(struct obj *o, int i);

/* The model's tables (src/api/model.c). */
extern struct dm_class *const dm_classes[];
extern struct dm_enum *const dm_enums[];
extern const size_t dm_nclasses;

/* init: parse every type spec; 0 or -1 with a message naming the field */
int dm_init(char *err, size_t errlen);
void dm_dispose(void);          /* frees every object */

const struct dm_type *dm_type_parse(const char *spec);   /* cached */
const struct dm_enum *dm_enum_find(const char *name);
int dm_enum_index(const struct dm_enum *en, const char *s, size_t n);

struct dm_class *dm_class_find(const char *name);        /* exact case */
struct dm_class *dm_class_find_ci(const char *name);     /* any case */
const struct dm_field *dm_field_find(const struct dm_class *c, const char *name);
const struct dm_msg *dm_msg_find(const struct dm_class *c, const char *name);

/* values */
void dm_val_free(const struct dm_type *t, struct dm_val *v);
void dm_val_copy(const struct dm_type *t, struct dm_val *dst, const struct dm_val *src);
int dm_val_equal(const struct dm_type *t, const struct dm_val *a, const struct dm_val *b);
/* Parse a default literal ("", "0", "false", "{}", "()", an enum name, a
 * ref) into v.  -1 if it does not fit the type. */
int dm_val_from_literal(const struct dm_type *t, const char *lit, struct dm_val *v);
void dm_list_push(const struct dm_type *elem, struct dm_val *set, const struct dm_val *e);
size_t dm_list_len(const struct dm_val *v);
/* map helpers (string keys, the common case); get returns NULL if absent */
const struct dm_val *dm_map_get(const struct dm_type *mt, const struct dm_val *map, const char *key);
void dm_map_put_str(struct dm_val *map, const char *key, const char *val);

/* objects */
struct obj *dm_obj_new(struct dm_class *c, const char *ref, const char *uuid);
/* The same, owned by owner (0: this daemon): sparse if owner and the
 * class is DM_C_MIRROR. */
struct obj *dm_obj_new_owned(struct dm_class *c, const char *ref, const char *uuid,
			     unsigned owner);
void dm_obj_delete(struct obj *o);
struct obj *dm_obj_by_ref(const char *ref);
struct obj *dm_obj_by_ref_cls(const struct dm_class *c, const char *ref);
struct obj *dm_obj_by_uuid(const struct dm_class *c, const char *uuid);
/* Field setters: free the old value, take a copy, mark modified, keep the
 * inverse sets of DERIVED relations in step. */
void dm_set(struct obj *o, int field, const struct dm_val *v);
void dm_set_str(struct obj *o, int field, const char *s);
void dm_set_int(struct obj *o, int field, int64_t i);
void dm_set_float(struct obj *o, int field, double d);
void dm_set_enum(struct obj *o, int field, const char *name);
const char *dm_get_str(const struct obj *o, int field);
const char *dm_get_enum(const struct obj *o, int field);
/* In the test build, dm_set and dm_obj_delete abort on an object another
 * host owns (owner != 0) unless dm_foreign_ok: only the pool's mirror
 * writes those (docs/POOL.md 4.1), and a local code path that writes one
 * (a refresh over every VM) is a bug the integration tests then catch. */
#ifdef XB_HOST_BUILD
extern int dm_foreign_ok;
#define DM_FOREIGN(on) (dm_foreign_ok = (on))
#else
#define DM_FOREIGN(on) ((void)0)
#endif
/* Mark o modified now, for events only (nothing is written). */
void dm_touch(struct obj *o);
/* Replace o's uuid, keeping the index right (store loading). */
void dm_obj_set_uuid(struct obj *o, const char *uuid);
/* Fill inverse relation sets after loading from the store. */
void dm_rebuild_inverses(void);

/* generations and deletions, for events and the store */
extern uint64_t dm_gen;
struct dm_tomb {
	const struct dm_class *cls;
	char ref[DM_REF_LEN];
	uint64_t gen;
	int persisted;
	uint32_t time;                  /* wall-clock second of the deletion */
};
/* deletions newer than gen (oldest first); returns count; *lost set if
 * tombstones older than what is kept were asked for */
size_t dm_tombs_since(uint64_t gen, const struct dm_tomb **out, int *lost);
/* called after a store flush: tombstones no longer needed for the store */
void dm_tombs_persisted(void);
/* iteration over the tombstones not yet persisted */
size_t dm_tombs_all(const struct dm_tomb **out);

/* The objects whose dirty bit is set (changed since the store's last
 * flush), in the order they became dirty; an object deleted meanwhile has
 * left the list (its tombstone says it).  O(1) to mark, O(dirty) to walk:
 * a commit no longer walks every object.  dm_dirty_clear() clears every
 * bit and empties the list (after a commit, and at load). */
size_t dm_dirty_all(struct obj *const **out);
void dm_dirty_clear(void);

/* Listeners on change (events wake their waiters). */
void dm_set_change_hook(void (*fn)(void));

/* uuid and ref generation (getrandom) */
void dm_new_uuid(char out[37]);
void dm_new_ref(char out[DM_REF_LEN]);
int dm_uuid_valid(const char *s);

#endif
