/* message objects: XenAPI alerts (perfmon ALARMs and anything a client
 * creates), read by Xen Orchestra through message.get_since.  Persisted
 * like any object; the oldest go beyond MAX_MESSAGES. */
#include <string.h>

#include "api/api.h"
#include "api/handlers.h"
#include "lib/util.h"
#include "rpc/emit.h"

#define MAX_MESSAGES 10000

struct obj *api_message_create(const char *name, int64_t priority, const char *cls,
			       const char *obj_uuid, const char *body)
{
	struct dm_class *k = dm_class_find("message");
	struct obj *m;

	/* the oldest of this host's own: a pool master's members trim theirs
	 * (docs/POOL.md 4.2); O(messages) while over */
	for (struct obj *o = k->first, *n; o && k->count >= MAX_MESSAGES; o = n) {
		n = o->next;
		if (!o->owner)
			dm_obj_delete(o);
	}
	m = dm_obj_new(k, NULL, NULL);
	dm_set_str(m, OF(m, message, name), name);
	dm_set_int(m, OF(m, message, priority), priority);
	dm_set_enum(m, OF(m, message, cls), cls);
	dm_set_str(m, OF(m, message, obj_uuid), obj_uuid);
	dm_set_int(m, OF(m, message, timestamp), now_wall());
	dm_set_str(m, OF(m, message, body), body);
	return m;
}

HANDLER(api_message_create_h)
{
	struct dm_class *k = dm_class_find("message");
	const char *cls = k->fields[FLD(message, cls)].t->en->v[args[2].u.i];
	struct dm_class *target = api_class_find(cls, 1);

	/* XAPI checks that the object exists, for the classes it knows */
	if (target && !dm_obj_by_uuid(target, args[3].u.s))
		return api_fail(c, "UUID_INVALID", cls, args[3].u.s, NULL);
	res->u.s = dm_str(api_message_create(args[0].u.s, args[1].u.i, cls,
					      args[3].u.s, args[4].u.s)->ref);
	return 0;
}

/* map of ref -> record, newer than since (and of cls/obj_uuid): O(messages) */
static void emit_since(struct call *c, int64_t since, int cls, const char *uuid)
{
	struct dm_class *k = dm_class_find("message");
	int ft = FLD(message, timestamp), fc = FLD(message, cls);
	int fu = FLD(message, obj_uuid);

	emit_struct_begin(c->e);
	for (struct obj *m = k->first; m; m = m->next) {
		if (dm_fv(m, ft)->u.i <= since)
			continue;
		if (uuid && (dm_fv(m, fc)->u.i != cls || strcmp(dm_fv(m, fu)->u.s, uuid)))
			continue;
		emit_member(c->e, m->ref);
		api_emit_record(c->e, m);
	}
	emit_struct_end(c->e);
}

HANDLER(api_message_get_since)
{
	(void)res;
	emit_since(c, args[0].u.i, 0, NULL);
	return 0;
}

HANDLER(api_message_get)
{
	(void)res;
	emit_since(c, args[2].u.i, (int)args[0].u.i, args[1].u.s);
	return 0;
}
