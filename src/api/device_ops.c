/* allowed_operations of the storage and device classes (SR, VDI, VBD,
 * VIF), declared once, one table per class, as VM's are (vm.c): the call
 * runs the entry's check, and allowed_operations lists an operation only
 * while that same check passes and its message is answered, so the two
 * cannot disagree.  XAPI's rules (xapi_sr_operations.ml, xapi_vdi.ml,
 * xapi_vbd_helpers.ml, xapi_vif_helpers.ml), cut to what xenbox does:
 *
 *   SR   vdi_create, vdi_destroy, vdi_clone, vdi_snapshot, vdi_resize,
 *        scan, unplug: its PBD attached (SR_NO_PBDS); plug, forget: not
 *        attached (forget: SR_HAS_PBD; plug and unplug are PBD's calls:
 *        api/storage.c).  update, destroy, ...: no message yet.
 *   VDI  destroy: while no VBD refers to it (VDI_IN_USE [vdi, op]: xenbox
 *        does not destroy a VDI's VBDs with it as XAPI does).  clone, copy:
 *        always (vdi_ops.c); snapshot: not sharable (VDI_IS_SHARABLE);
 *        resize: while no VBD of it is attached.  None while another
 *        operation runs on it (current_operations, OTHER_OPERATION_IN_PROGRESS).
 *        resize_online, forget, update, ...: no message yet.
 *   VBD  plug, unplug, unplug_force, eject, insert, pause, unpause: no
 *        message yet; attach is VM.start's, not a call of its own.
 *   VIF  plug, unplug: no message yet; attach as VBD's.
 * So VBDs and VIFs list nothing: add entries here as the calls come.
 */
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/util.h"

#define FAIL(c, ...) ((c) ? api_fail((c), __VA_ARGS__, NULL) : -1)

struct dev_op {
	const char *op;                 /* in the class's operations enum */
	const char *cls, *msg;          /* the call that does it */
	int (*check)(struct call *c, struct obj *o);  /* c NULL: only asks */
};

static int sr_attached(struct call *c, struct obj *sr)
{
	if (api_sr_attached(sr))
		return 0;
	return FAIL(c, "SR_NO_PBDS", sr->ref);
}

static int sr_detached(struct call *c, struct obj *sr)
{
	if (!api_sr_attached(sr))
		return 0;
	return FAIL(c, "SR_HAS_PBD", sr->ref);
}

static int vdi_any(struct call *c, struct obj *vdi)
{
	return 0;
}

static int vdi_unshared(struct call *c, struct obj *vdi)
{
	if (!dm_fv(vdi, OF(vdi, VDI, sharable))->u.i)
		return 0;
	return FAIL(c, "VDI_IS_SHARABLE", vdi->ref);
}

static int vdi_detached(struct call *c, struct obj *vdi)
{
	const struct dm_val *l = dm_fv(vdi, OF(vdi, VDI, VBDs));

	for (size_t i = 0; i < dm_list_len(l); i++) {
		struct obj *vbd = dm_obj_by_ref(l->u.l->v[i].u.s);

		if (vbd && dm_fv(vbd, OF(vbd, VBD, currently_attached))->u.i)
			return FAIL(c, "VDI_IN_USE", vdi->ref, "resize");
	}
	return 0;
}

static int vdi_unused(struct call *c, struct obj *vdi)
{
	if (!dm_list_len(dm_fv(vdi, OF(vdi, VDI, VBDs))))
		return 0;
	return FAIL(c, "VDI_IN_USE", vdi->ref, "destroy");
}

static const struct dev_op sr_ops[] = {
	{ "vdi_create", "VDI", "create", sr_attached },
	{ "vdi_destroy", "VDI", "destroy", sr_attached },
	{ "vdi_clone", "VDI", "clone", sr_attached },
	{ "vdi_snapshot", "VDI", "snapshot", sr_attached },
	{ "vdi_resize", "VDI", "resize", sr_attached },
	{ "scan", "SR", "scan", sr_attached },
	{ "forget", "SR", "forget", sr_detached },
	{ "plug", "PBD", "plug", sr_detached },
	{ "unplug", "PBD", "unplug", sr_attached },
};
static const struct dev_op vdi_ops[] = {
	{ "destroy", "VDI", "destroy", vdi_unused },
	{ "clone", "VDI", "clone", vdi_any },
	{ "copy", "VDI", "copy", vdi_any },
	{ "snapshot", "VDI", "snapshot", vdi_unshared },
	{ "resize", "VDI", "resize", vdi_detached },
};

static const struct dev_class {
	const char *cls;
	int field, cur;                 /* its allowed_ and current_operations */
	const struct dev_op *ops;
	unsigned n;
} classes[] = {
	{ "SR", FLD(SR, allowed_operations), FLD(SR, current_operations), sr_ops, ARRAY_SIZE(sr_ops) },
	{ "VDI", FLD(VDI, allowed_operations), FLD(VDI, current_operations), vdi_ops,
	  ARRAY_SIZE(vdi_ops) },
};

static const struct dev_class *class_of(const struct obj *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		if (!strcmp(o->cls->name, classes[i].cls))
			return &classes[i];
	return NULL;
}

/* The entry's check, once no other operation runs on o */
static int check(struct call *c, struct obj *o, const struct dev_class *d, const struct dev_op *p)
{
	const struct dm_val *cur = dm_fv(o, d->cur);

	if (dm_list_len(cur)) {
		const struct dm_type *t = o->cls->fields[d->cur].t;

		return FAIL(c, "OTHER_OPERATION_IN_PROGRESS", o->cls->name, o->ref,
			    t->elem->en->v[cur->u.l->v[1].u.i], cur->u.l->v[0].u.s);
	}
	return p->check(c, o);
}

int api_dev_op_check(struct call *c, struct obj *o, const char *op)
{
	const struct dev_class *d = class_of(o);

	for (unsigned i = 0; d && i < d->n; i++)
		if (!strcmp(d->ops[i].op, op))
			return check(c, o, d, &d->ops[i]);
	return FAIL(c, "INTERNAL_ERROR", "unknown operation");
}

/* O(operations); answered: bit i, ops[i]'s message exists */
static void update(struct obj *o, const struct dev_class *d, unsigned answered)
{
	const struct dm_type *t = o->cls->fields[d->field].t;
	struct dm_val set = { 0 };

	for (unsigned i = 0; i < d->n; i++) {
		const struct dev_op *p = &d->ops[i];
		struct dm_val e;

		if (!(answered & (1u << i)) || check(NULL, o, d, p))
			continue;
		e.u.i = dm_enum_index(t->elem->en, p->op, strlen(p->op));
		dm_list_push(NULL, &set, &e);
	}
	dm_set(o, d->field, &set);
	dm_val_free(t, &set);
}

/* Once per loop iteration: the objects changed since the last look (a VBD
 * made or gone changes its VDI's VBDs; one attached or detached, its VDI's
 * resize).  O(objects of these classes and VBDs) when anything changed;
 * whether each message exists is looked up once. */
void api_dev_ops_refresh(void)
{
	static unsigned answered[ARRAY_SIZE(classes)];
	static uint64_t seen;
	static int looked;

	if (dm_gen == seen)
		return;
	if (dm_gen < seen)
		seen = 0;       /* a new datamodel */
	for (size_t i = 0; !looked && i < ARRAY_SIZE(classes); i++)
		for (unsigned j = 0; j < classes[i].n; j++)
			if (api_msg_exists(dm_class_find(classes[i].ops[j].cls), classes[i].ops[j].msg))
				answered[i] |= 1u << j;
	looked = 1;
	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		for (struct obj *o = dm_class_find(classes[i].cls)->first; o; o = o->next)
			if (o->gen_modified > seen && !o->owner)        /* the owner's */
				update(o, &classes[i], answered[i]);
	/* a VDI's resize follows its VBDs' currently_attached */
	for (struct obj *o = dm_class_find("VBD")->first; o; o = o->next) {
		struct obj *vdi = o->gen_modified > seen ?
			dm_obj_by_ref_cls(dm_class_find("VDI"), dm_get_str(o, OF(o, VBD, VDI))) : NULL;

		if (vdi && !vdi->owner)
			update(vdi, &classes[1], answered[1]);
	}
	seen = dm_gen;
}
