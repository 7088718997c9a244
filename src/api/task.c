/* Tasks: what Async.<class>.<message> returns.  The result is stored as
 * XAPI stores it: the XML-RPC encoding of the value, as a string. */
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "lib/util.h"

struct obj *api_task_new(struct call *c, const char *name);
void api_task_finish(struct obj *task, struct call *err, const char *xml_result);

struct obj *api_task_new(struct call *c, const char *name)
{
	struct dm_class *k = dm_class_find("task");
	struct obj *t = dm_obj_new(k, NULL, NULL);
	struct dm_val ops = { 0 }, e;

	dm_set_str(t, dm_field_idx(k, "name_label"), name);
	dm_set_int(t, dm_field_idx(k, "created"), now_wall());
	dm_set_str(t, dm_field_idx(k, "resident_on"),
		   api_this_host ? api_this_host->ref : "OpaqueRef:NULL");
	dm_set_str(t, dm_field_idx(k, "type"), "<none/>");
	if (c->session)
		dm_set_str(t, dm_field_idx(k, "session"), c->session->ref);
	e.u.i = 0;      /* cancel */
	dm_list_push(NULL, &ops, &e);
	dm_set(t, dm_field_idx(k, "allowed_operations"), &ops);
	dm_val_free(k->fields[dm_field_idx(k, "allowed_operations")].t, &ops);
	return t;
}

void api_task_finish(struct obj *t, struct call *err, const char *xml_result)
{
	const struct dm_class *k = t->cls;
	struct dm_val none = { 0 };

	dm_set_int(t, dm_field_idx(k, "finished"), now_wall());
	dm_set_float(t, dm_field_idx(k, "progress"), 1.0);
	dm_set(t, dm_field_idx(k, "allowed_operations"), &none);
	if (err) {
		struct dm_val info = { 0 };
		const struct dm_type *st = k->fields[dm_field_idx(k, "error_info")].t;

		for (int i = 0; i < err->nerr; i++) {
			struct dm_val e = { .u.s = xstrdup(err->err[i]) };

			dm_list_push(NULL, &info, &e);
		}
		dm_set(t, dm_field_idx(k, "error_info"), &info);
		dm_val_free(st, &info);
		dm_set_enum(t, dm_field_idx(k, "status"), "failure");
	} else {
		dm_set_str(t, dm_field_idx(k, "result"), xml_result);
		dm_set_enum(t, dm_field_idx(k, "status"), "success");
	}
}

/* A client's own task (XO wraps HTTP transfers in one): pending until the
 * client destroys it. */
HANDLER(api_task_create)
{
	struct obj *t = api_task_new(c, args[0].u.s);

	dm_set_str(t, dm_field_idx(t->cls, "name_description"), args[1].u.s);
	res->u.s = xstrdup(t->ref);
	return 0;
}

HANDLER(api_task_cancel)
{
	struct obj *t = api_obj(c, "task", args[0].u.s);

	if (!t)
		return -1;
	/* Every task so far completes before its ref is returned, so there is
	 * nothing left to cancel: XAPI also accepts cancelling a finished task. */
	return 0;
}

HANDLER(api_task_destroy)
{
	struct obj *t = api_obj(c, "task", args[0].u.s);

	if (!t)
		return -1;
	dm_obj_delete(t);
	return 0;
}
