/* Guest console logs: a bounded ring per VM, filled from the backend's
 * console reader (vmm_console_read on each CONSOLE event) and read over
 * HTTP as GET /console_log.  XAPI has no call for this; see docs/API.md.
 *
 * The rings live in memory only: console output changes all the time and
 * the state sits on USB flash, which is written sparingly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/host.h"
#include "lib/buf.h"
#include "lib/util.h"
#include "vmm/backend.h"

#define LOG_MAX (64 * 1024)

struct con_log {
	struct con_log *next;
	char vm[DM_REF_LEN];
	size_t head, len;               /* oldest byte at data[head] */
	char data[LOG_MAX];
};
static struct con_log *logs;
void (*api_console_tap)(const char *vmref, const char *p, size_t n);

static struct con_log *find(const char *vmref)
{
	for (struct con_log *l = logs; l; l = l->next)
		if (!strcmp(l->vm, vmref))
			return l;
	return NULL;
}

static void put(struct con_log *l, const char *p, size_t n)
{
	if (n >= LOG_MAX) {             /* only the newest fits */
		p += n - LOG_MAX;
		n = LOG_MAX;
	}
	while (n) {
		size_t tail = (l->head + l->len) % LOG_MAX;
		size_t chunk = LOG_MAX - tail < n ? LOG_MAX - tail : n;

		memcpy(l->data + tail, p, chunk);
		if (l->len + chunk > LOG_MAX) {
			l->head = (l->head + l->len + chunk - LOG_MAX) % LOG_MAX;
			l->len = LOG_MAX;
		} else {
			l->len += chunk;
		}
		p += chunk;
		n -= chunk;
	}
}

void api_console_log_read(const char *vmref, uint32_t domid)
{
	struct con_log *l = find(vmref);
	char tmp[4096];
	ssize_t n;

	while ((n = vmm_console_read(api_vmm, domid, tmp, sizeof(tmp))) > 0) {
		if (!l) {
			l = xcalloc(1, sizeof(*l));
			snprintf(l->vm, sizeof(l->vm), "%s", vmref);
			l->next = logs;
			logs = l;
		}
		put(l, tmp, (size_t)n);
		if (api_console_tap)
			api_console_tap(vmref, tmp, (size_t)n);
	}
}

void api_console_log_forget(const char *vmref)
{
	for (struct con_log **pp = &logs; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->vm, vmref)) {
			struct con_log *l = *pp;

			*pp = l->next;
			free(l);
			return;
		}
}

void api_console_log_dispose(void)
{
	struct con_log *l;

	while ((l = logs)) {
		logs = l->next;
		free(l);
	}
}

void api_console_log_copy(const char *vmref, struct buf *b)
{
	struct con_log *l = find(vmref);

	if (l && l->len) {
		size_t first = LOG_MAX - l->head < l->len ? LOG_MAX - l->head : l->len;

		buf_add(b, l->data + l->head, first);
		buf_add(b, l->data, l->len - first);
	}
}

int api_console_log_get(int authed, const char *ref, const char *uuid, struct buf *b)
{
	struct dm_class *k = dm_class_find("VM");
	struct obj *vm;

	if (!authed)
		return 401;
	if (ref)
		vm = dm_obj_by_ref_cls(k, ref);
	else if (uuid)
		vm = dm_obj_by_uuid(k, uuid);
	else
		return 400;
	if (!vm)
		return 404;
	api_console_log_copy(vm->ref, b);
	return 200;
}
