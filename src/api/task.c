/* Tasks: what Async.<class>.<message> returns, and task.create's.
 *
 * The result is stored as XAPI stores it: the XML-RPC encoding of the
 * value, as a string.  A task lists `cancel` in allowed_operations only
 * while its operation can still be stopped (the operation says so:
 * api_task_set_cancellable); a cancelled task ends "cancelled" with
 * error_info [TASK_CANCELLED, task].
 *
 * Collection follows XAPI's database GC (db_gc_util.ml timeout_tasks),
 * every 30 s and whenever a task is made beyond the cap: finished tasks go
 * 65 min after finishing, pending ones 24 h after they were made, and
 * beyond 200 tasks the oldest finished go (pending ones never go for
 * room).  Tasks are not persisted, as in XAPI: a restart forgets them.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/util.h"

#define TASK_MAX 200                    /* XAPI's max_tasks */
#define TASK_DONE_KEEP_S 3900           /* completed_task_timeout */
#define TASK_PENDING_KEEP_S 86400       /* pending_task_timeout */
#define TASK_GC_MS 30000                /* db_GC_TIMER */

struct obj *api_task_new(struct call *c, const char *name);
void api_task_finish(struct obj *task, struct call *err, const char *xml_result);

static int is_pending(struct obj *t)
{
	const char *st = dm_get_enum(t, OF(t, task, status));

	return !strcmp(st, "pending") || !strcmp(st, "cancelling");
}

/* O(tasks), and O(tasks) more per finished task beyond max (one at a
 * time: a new task makes room for itself at once, so that is one). */
static void gc(int64_t now, size_t max)
{
	struct dm_class *k = dm_class_find("task");
	int fc = FLD(task, created), ff = FLD(task, finished);
	size_t pending = 0, done = 0;
	struct obj *t, *next, *oldest;

	for (t = k->first; t; t = next) {
		next = t->next;
		if (is_pending(t) ? now - dm_fv(t, fc)->u.i > TASK_PENDING_KEEP_S
				  : now - dm_fv(t, ff)->u.i > TASK_DONE_KEEP_S) {
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
			if (!is_pending(t) && (!oldest || dm_fv(t, ff)->u.i < dm_fv(oldest, ff)->u.i))
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

	if (k->count >= TASK_MAX)
		gc(now_wall(), TASK_MAX - 1);
	t = dm_obj_new(k, NULL, NULL);
	dm_set_str(t, OF(t, task, name_label), name);
	dm_set_int(t, OF(t, task, created), now_wall());
	dm_set_str(t, OF(t, task, resident_on), api_this_host ? api_this_host->ref : "OpaqueRef:NULL");
	dm_set_str(t, OF(t, task, type), "<none/>");
	if (c->session)
		dm_set_str(t, OF(t, task, session), c->session->ref);
	return t;
}

static void set_ops(struct obj *t, int field, const char *key, const char *op)
{
	const struct dm_field *f = &t->cls->fields[field];
	const struct dm_enum *en = f->t->elem->en;    /* set or map of the enum */
	struct dm_val v = { 0 }, e;

	if (key) {
		e.u.s = dm_str(key);
		dm_list_push(NULL, &v, &e);
	}
	if (op) {
		e.u.i = dm_enum_index(en, op, strlen(op));
		dm_list_push(NULL, &v, &e);
	}
	dm_set(t, f->idx, &v);
	dm_val_free(f->t, &v);
}

void api_task_set_cancellable(const char *ref, int yes)
{
	struct obj *t = dm_obj_by_ref_cls(dm_class_find("task"), ref);

	if (t && is_pending(t) && !dm_list_len(dm_fv(t, OF(t, task, current_operations))))
		set_ops(t, OF(t, task, allowed_operations), NULL, yes ? "cancel" : NULL);
}

void api_task_finish(struct obj *t, struct call *err, const char *xml_result)
{
	struct dm_class *k = (struct dm_class *)t->cls;

	dm_set_int(t, OF(t, task, finished), now_wall());
	dm_set_float(t, OF(t, task, progress), 1.0);
	set_ops(t, OF(t, task, allowed_operations), NULL, NULL);
	set_ops(t, OF(t, task, current_operations), NULL, NULL);
	if (err) {
		struct dm_val info = { 0 };
		const struct dm_type *st = k->fields[OF(t, task, error_info)].t;

		for (int i = 0; i < err->nerr; i++) {
			struct dm_val e = { .u.s = dm_str(err->err[i]) };

			dm_list_push(NULL, &info, &e);
		}
		dm_set(t, OF(t, task, error_info), &info);
		dm_val_free(st, &info);
		/* as XAPI (TaskHelper.failed): TASK_CANCELLED is a cancellation */
		dm_set_enum(t, OF(t, task, status),
			    strcmp(err->err[0], "TASK_CANCELLED") ? "failure" : "cancelled");
	} else {
		dm_set_str(t, OF(t, task, result), xml_result);
		dm_set_enum(t, OF(t, task, status), "success");
	}
}

/* A GET route's task: Xen Orchestra passes ?task_id= (a task.create of
 * its own) on /rrd_updates and the RRD dumps, and XAPI's HTTP handlers run
 * in that task and complete it: success with an empty result, or failure
 * with the error (an HTTP error, not an API one, is INTERNAL_ERROR as XAPI
 * reports a handler's exception).  A task not pending (finished, or
 * unknown) is left as it is.  O(1). */
void api_task_http_done(const char *ref, int status)
{
	struct obj *t = ref ? dm_obj_by_ref_cls(dm_class_find("task"), ref) : NULL;
	struct call c = { .nerr = 2, .err = { "INTERNAL_ERROR" } };
	char msg[24];

	if (!t || !is_pending(t))
		return;
	snprintf(msg, sizeof(msg), "HTTP %d", status);
	c.err[1] = msg;
	api_task_finish(t, status == 200 ? NULL : &c, "");
}

/* A client's own task (XO wraps HTTP transfers in one): pending until the
 * client destroys it; nothing here runs it, so nothing can cancel it. */
HANDLER(api_task_create)
{
	struct obj *t = api_task_new(c, args[0].u.s);

	dm_set_str(t, OF(t, task, name_description), args[1].u.s);
	res->u.s = dm_str(t->ref);
	return 0;
}

/* XAPI declares OPERATION_NOT_ALLOWED for task.cancel: a task that cannot
 * be cancelled (finished, asked already, or past the point where its
 * operation can stop) says so rather than pretending.  A cancel that is
 * accepted may still lose the race with the operation's end: the task
 * then completes normally (XAPI's documentation says as much). */
HANDLER(api_task_cancel)
{
	struct obj *t = api_obj(c, "task", args[0].u.s);
	const struct dm_val *ops;
	char id[DM_REF_LEN];

	if (!t)
		return -1;
	ops = dm_fv(t, OF(t, task, allowed_operations));
	if (!dm_list_len(ops) || ops->u.l->v[0].u.i != 0 /* cancel */)
		return api_fail(c, "OPERATION_NOT_ALLOWED", is_pending(t) ?
				"the task's operation cannot be cancelled now" :
				"the task has finished", NULL);
	/* as XAPI: current_operations holds the cancel until the task ends */
	dm_new_ref(id);
	set_ops(t, OF(t, task, allowed_operations), NULL, NULL);
	set_ops(t, OF(t, task, current_operations), id, "cancel");
	api_vm_task_cancel(t->ref);
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
