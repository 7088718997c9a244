/* Tasks: what Async.<class>.<message> returns.  The result is stored as
 * XAPI stores it: the XML-RPC encoding of the value, as a string.
 *
 * Collection follows XAPI's database GC (db_gc_util.ml timeout_tasks),
 * every 30 s and whenever a task is made beyond the cap: finished tasks go
 * 65 min after finishing, pending ones 24 h after they were made, and
 * beyond 200 tasks the oldest finished go (pending ones never go for
 * room).  Tasks are not persisted, as in XAPI: a restart forgets them.
 */
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "lib/util.h"

#define TASK_MAX 200                    /* XAPI's max_tasks */
#define TASK_DONE_KEEP_S 3900           /* completed_task_timeout */
#define TASK_PENDING_KEEP_S 86400       /* pending_task_timeout */
#define TASK_GC_MS 30000                /* db_GC_TIMER */

#define TF(name) dm_field_idx(k, name)

struct obj *api_task_new(struct call *c, const char *name);
void api_task_finish(struct obj *task, struct call *err, const char *xml_result);

static int is_pending(struct obj *t)
{
	const char *st = dm_get_enum(t, dm_field_idx(t->cls, "status"));

	return !strcmp(st, "pending") || !strcmp(st, "cancelling");
}

/* O(tasks), and O(tasks) more per finished task beyond max (one at a
 * time: a new task makes room for itself at once, so that is one). */
static void gc(int64_t now, size_t max)
{
	struct dm_class *k = dm_class_find("task");
	int fc = TF("created"), ff = TF("finished");
	size_t pending = 0, done = 0;
	struct obj *t, *next, *oldest;

	for (t = k->first; t; t = next) {
		next = t->next;
		if (is_pending(t) ? now - t->f[fc].u.i > TASK_PENDING_KEEP_S
				  : now - t->f[ff].u.i > TASK_DONE_KEEP_S) {
			dm_obj_delete(t);
			continue;
		}
		if (is_pending(t))
			pending++;
		else
			done++;
	}
	while (pending + done > max && done) {
		oldest = NULL;
		for (t = k->first; t; t = t->next)
			if (!is_pending(t) && (!oldest || t->f[ff].u.i < oldest->f[ff].u.i))
				oldest = t;
		dm_obj_delete(oldest);
		done--;
	}
}

void api_tasks_gc(int64_t now)
{
	gc(now, TASK_MAX);
}

int64_t api_tasks_tick(int64_t now_ms)
{
	static int64_t next;

	if (now_ms >= next) {
		api_tasks_gc(now_wall());
		next = now_ms + TASK_GC_MS;
	}
	return next - now_ms;
}

struct obj *api_task_new(struct call *c, const char *name)
{
	struct dm_class *k = dm_class_find("task");
	struct obj *t;
	struct dm_val ops = { 0 }, e;

	if (k->count >= TASK_MAX)
		gc(now_wall(), TASK_MAX - 1);
	t = dm_obj_new(k, NULL, NULL);

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
