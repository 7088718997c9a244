/* VM clone, copy, snapshot, revert and provision, the allowed device
 * lists, set_memory_limits, set_VCPUs_number_live and the built-in
 * templates (docs/STORAGE.md 4.2, 7.3).
 *
 * XAPI's semantics (xapi_vm_clone.ml, xapi_vm_snapshot.ml, xapi_vm.ml) on
 * files that share blocks: the disks are copied by a file job of
 * vdi_ops.c in the worker (FICLONE, or a sparse copy), and the records
 * are written in the loop thread when the files are in place, so a
 * failure leaves neither files nor records.  While it runs the VM's
 * current_operations holds the operation and the other operations on it
 * refuse.  A revert of a VM that runs destroys its domain in the same job
 * first; a snapshot of a running VM with several disks pauses it across
 * the copies, so the disks agree (crash-consistent, as XAPI's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/util.h"
#include "vmm/backend.h"

#define FAIL(c, ...) ((c) ? api_fail((c), __VA_ARGS__, NULL) : -1)

enum { K_CLONE, K_COPY, K_SNAP, K_REVERT };
static const char *const kind_op[] = { "clone", "copy", "snapshot", "revert" };

struct vm_ctx {
	int kind;
	char vm[DM_REF_LEN];            /* the source (a revert's: the snapshot) */
	char target[DM_REF_LEN];        /* a revert's VM */
	char sr[DM_REF_LEN];            /* a copy's SR ("": each VDI's own) */
	char name[256];
	char power[12];                 /* a snapshot's power-state-at-snapshot */
	unsigned n;
	struct {
		char vbd[DM_REF_LEN];   /* of the source */
		char uuid[37];          /* a new VDI's ("": none) */
		char to[DM_REF_LEN];    /* a revert's target VDI ("": none) */
	} d[VMM_MAX_DEVS];
};

static struct obj *ref_of(const char *cls, const char *ref)
{
	return dm_obj_by_ref_cls(dm_class_find(cls), ref);
}

/* o's map field without key (val NULL) or with key = val */
static void map_edit(struct obj *o, int field, const char *key, const char *val)
{
	const struct dm_type *t = o->cls->fields[field].t;
	struct dm_val m = { 0 };
	struct dm_list *l = dm_fv(o, field)->u.l;

	for (size_t i = 0; l && i + 1 < l->n; i += 2)
		if (strcmp(l->v[i].u.s, key))
			dm_map_put_str(&m, l->v[i].u.s, l->v[i + 1].u.s);
	if (val)
		dm_map_put_str(&m, key, val);
	dm_set(o, field, &m);
	dm_val_free(t, &m);
}

/* Every field of from onto to but the inverse sets, uuid and skip[] */
static void copy_fields(struct obj *to, const struct obj *from, const short *skip, size_t ns)
{
	for (int i = 0; i < from->cls->nfields; i++) {
		size_t j = 0;

		while (j < ns && skip[j] != i)
			j++;
		if (j == ns && !from->cls->fields[i].inverse && i != from->cls->f_uuid)
			dm_set(to, i, dm_fv(from, i));
	}
}

/* XAPI's extended_do_not_copy and what is the running domain's */
static const short vm_skip[] = {
	FLD(VM, name_label), FLD(VM, allowed_operations), FLD(VM, current_operations),
	FLD(VM, power_state), FLD(VM, is_a_snapshot), FLD(VM, is_a_template),
	FLD(VM, is_default_template), FLD(VM, snapshot_of), FLD(VM, snapshot_time),
	FLD(VM, transportable_snapshot_id), FLD(VM, snapshot_info), FLD(VM, snapshot_metadata),
	FLD(VM, suspend_VDI), FLD(VM, parent), FLD(VM, metrics), FLD(VM, guest_metrics),
	FLD(VM, resident_on), FLD(VM, scheduled_to_be_resident_on), FLD(VM, domid),
	FLD(VM, is_control_domain), FLD(VM, memory_target), FLD(VM, generation_id),
	/* a revert keeps these; a new VM copies them afterwards */
	FLD(VM, tags), FLD(VM, affinity),
};
static const short vbd_skip[] = {
	FLD(VBD, allowed_operations), FLD(VBD, current_operations), FLD(VBD, VM), FLD(VBD, VDI),
	FLD(VBD, currently_attached), FLD(VBD, status_code), FLD(VBD, status_detail),
	FLD(VBD, metrics),
};
static const short vif_skip[] = {
	FLD(VIF, allowed_operations), FLD(VIF, current_operations), FLD(VIF, VM),
	FLD(VIF, currently_attached), FLD(VIF, status_code), FLD(VIF, status_detail),
	FLD(VIF, metrics),
};

static struct obj *copy_vbd(struct obj *vbd, struct obj *vm, const char *vdi)
{
	struct obj *n = dm_obj_new(dm_class_find("VBD"), NULL, NULL);

	copy_fields(n, vbd, vbd_skip, ARRAY_SIZE(vbd_skip));
	dm_set_str(n, OF(n, VBD, VM), vm->ref);
	dm_set_str(n, OF(n, VBD, VDI), vdi);
	return n;
}

/* vm's VIFs onto n: the same MACs (a snapshot's, a revert's), or new */
static void copy_vifs(struct obj *n, struct obj *vm, int same_mac)
{
	const struct dm_val *l = dm_fv(vm, OF(vm, VM, VIFs));

	for (size_t i = 0; i < dm_list_len(l); i++) {
		struct obj *vif = dm_obj_by_ref(l->u.l->v[i].u.s), *v;

		if (!vif)
			continue;
		v = dm_obj_new(dm_class_find("VIF"), NULL, NULL);
		copy_fields(v, vif, vif_skip, ARRAY_SIZE(vif_skip));
		dm_set_str(v, OF(v, VIF, VM), n->ref);
		if (!same_mac)
			api_vif_new_mac(v);
	}
}

static void delete_set(struct obj *vm, int field, const char *keep_vdi_of)
{
	const struct dm_val *l = dm_fv(vm, field);

	for (size_t i = 0; i < dm_list_len(l);) {
		struct obj *d = dm_obj_by_ref(l->u.l->v[i].u.s);

		if (d && keep_vdi_of && strstr(keep_vdi_of, dm_get_str(d, OF(d, VBD, VDI))))
			i++;
		else if (d)
			dm_obj_delete(d);       /* updates the set */
		else
			i++;
	}
}

/* Loop thread: the files are there; the records follow them. */
static int vm_done(struct call *c, struct fjob *f, int rc, const char *err)
{
	struct vm_ctx *x = api_fjob_ctx(f);
	struct obj *vm = ref_of("VM", x->vm), *t = *x->target ? ref_of("VM", x->target) : NULL, *n;
	char path[700], uuid[37], kept[(DM_REF_LEN + 1) * VMM_MAX_DEVS + 1] = "";

	if (vm)
		api_vm_set_op(vm, NULL, NULL);
	if (t) {
		api_vm_set_op(t, NULL, NULL);
		if (api_fjob_destroyed(f))
			api_vm_halted(t);
	}
	if (api_fjob_fail(c, f, rc, err))
		return -1;
	if (!vm || (x->kind == K_REVERT && !t))
		return FAIL(c, "HANDLE_INVALID", "VM", t || !*x->target ? x->vm : x->target);
	if (x->kind == K_REVERT) {
		n = t;
		copy_fields(n, vm, vm_skip, ARRAY_SIZE(vm_skip));
		dm_set_str(n, OF(n, VM, parent), vm->ref);
		for (unsigned i = 0; i < x->n; i++)
			if (*x->d[i].to) {
				strcat(kept, x->d[i].to);
				strcat(kept, " ");
			}
		delete_set(n, FLD(VM, VBDs), kept);
		delete_set(n, FLD(VM, VIFs), NULL);
	} else {
		n = dm_obj_new(dm_class_find("VM"), NULL, NULL);
		copy_fields(n, vm, vm_skip, ARRAY_SIZE(vm_skip));
		dm_set(n, OF(n, VM, tags), dm_fv(vm, OF(vm, VM, tags)));
		dm_set(n, OF(n, VM, affinity), dm_fv(vm, OF(vm, VM, affinity)));
		dm_set_str(n, OF(n, VM, name_label), x->name);
		dm_new_uuid(uuid);
		dm_set_str(n, OF(n, VM, generation_id), uuid);
		api_vm_on_create(NULL, n);     /* its metrics */
	}
	if (x->kind == K_SNAP) {
		dm_set_int(n, OF(n, VM, is_a_snapshot), 1);
		dm_set_int(n, OF(n, VM, is_a_template), 1);
		dm_set_str(n, OF(n, VM, snapshot_of), vm->ref);
		dm_set_int(n, OF(n, VM, snapshot_time), now_wall());
		map_edit(n, FLD(VM, snapshot_info), "power-state-at-snapshot", x->power);
		map_edit(n, FLD(VM, snapshot_info), "disk-snapshot-type", "crash_consistent");
		dm_set(n, OF(n, VM, parent), dm_fv(vm, OF(vm, VM, parent)));
		dm_set_str(vm, OF(vm, VM, parent), n->ref);
	} else if (x->kind != K_REVERT) {
		dm_set(n, OF(n, VM, is_a_template), dm_fv(vm, OF(vm, VM, is_a_template)));
		map_edit(n, FLD(VM, other_config), "default_template", NULL);
		if (dm_fv(vm, OF(vm, VM, is_a_template))->u.i)
			map_edit(n, FLD(VM, other_config), "base_template_name",
				 dm_get_str(vm, OF(vm, VM, name_label)));
		dm_new_uuid(uuid);
		map_edit(n, FLD(VM, other_config), "mac_seed", uuid);
	}
	for (unsigned i = 0; i < x->n; i++) {
		struct obj *vbd = ref_of("VBD", x->d[i].vbd), *vdi;
		const char *to;

		if (!vbd)
			continue;
		vdi = ref_of("VDI", dm_get_str(vbd, OF(vbd, VBD, VDI)));
		to = dm_get_str(vbd, OF(vbd, VBD, VDI));        /* a CD's, shared */
		if (*x->d[i].uuid && vdi) {
			api_vdi_path(path, sizeof(path), vdi, x->sr, x->d[i].uuid);
			to = api_vdi_dup(vdi, x->d[i].uuid, *x->sr ? x->sr : NULL, path,
					 x->kind == K_SNAP)->ref;
		} else if (*x->d[i].to) {
			struct obj *tv = ref_of("VDI", x->d[i].to);

			if (tv && vdi)
				dm_set(tv, OF(tv, VDI, virtual_size), dm_fv(vdi, OF(vdi, VDI, virtual_size)));
			continue;       /* the VM's VBD of it stays */
		}
		vbd = copy_vbd(vbd, n, to);
		if (x->kind == K_CLONE || x->kind == K_COPY)
			map_edit(vbd, FLD(VBD, other_config), "owner", "true");
	}
	copy_vifs(n, vm, x->kind >= K_SNAP);
	if (c)
		emit_str(c->e, x->kind == K_REVERT ? "" : n->ref);
	return 0;
}

static int in_set(const struct dm_val *set, const char *ref)
{
	for (size_t i = 0; i < dm_list_len(set); i++)
		if (!strcmp(set->u.l->v[i].u.s, ref))
			return 1;
	return 0;
}

/* Plan and start a clone, copy or snapshot of vm (a revert: of the
 * snapshot vm onto t). */
static int copy_op(struct call *c, int kind, const char *ref, const char *name, const char *sr,
		   const struct dm_val *ignore)
{
	struct obj *vm = api_obj(c, "VM", ref), *t = NULL;
	const struct dm_val *l;
	struct vm_ctx *x;
	struct fjob *f;
	char id[DM_REF_LEN];
	int disks = 0;

	if (!vm || api_vm_op_check(c, vm, kind_op[kind]))
		return -1;
	if (sr && *sr && strcmp(sr, "OpaqueRef:NULL")) {
		struct obj *s = api_obj(c, "SR", sr);

		if (!s || api_dev_op_check(c, s, "vdi_create"))
			return -1;
	}
	if (kind == K_REVERT) {
		t = ref_of("VM", dm_get_str(vm, OF(vm, VM, snapshot_of)));
		if (dm_list_len(dm_fv(t, OF(t, VM, current_operations))))
			return api_fail(c, "OTHER_OPERATION_IN_PROGRESS", "VM", t->ref, NULL);
	}
	x = xcalloc(1, sizeof(*x));
	x->kind = kind;
	snprintf(x->vm, sizeof(x->vm), "%s", vm->ref);
	snprintf(x->target, sizeof(x->target), "%s", t ? t->ref : "");
	snprintf(x->sr, sizeof(x->sr), "%s", sr && strcmp(sr, "OpaqueRef:NULL") ? sr : "");
	snprintf(x->name, sizeof(x->name), "%s", name ? name : "");
	snprintf(x->power, sizeof(x->power), "%s", dm_get_enum(vm, OF(vm, VM, power_state)));
	f = api_fjob_new(vm_done, x);
	l = dm_fv(vm, OF(vm, VM, VBDs));
	for (size_t i = 0; i < dm_list_len(l) && x->n < VMM_MAX_DEVS; i++) {
		struct obj *vbd = dm_obj_by_ref(l->u.l->v[i].u.s), *vdi, *to;

		if (!vbd)
			continue;
		vdi = ref_of("VDI", dm_get_str(vbd, OF(vbd, VBD, VDI)));
		if (vdi && ignore && in_set(ignore, vdi->ref))
			continue;
		snprintf(x->d[x->n].vbd, DM_REF_LEN, "%s", vbd->ref);
		if (vdi && !dm_fv(vbd, OF(vbd, VBD, empty))->u.i &&
		    !strcmp(dm_get_enum(vbd, OF(vbd, VBD, type)), "Disk")) {
			to = kind == K_REVERT ? ref_of("VDI", dm_get_str(vdi, OF(vdi, VDI, snapshot_of))) : NULL;
			if (to) {
				snprintf(x->d[x->n].to, DM_REF_LEN, "%s", to->ref);
				api_fjob_add(f, dm_get_str(vdi, OF(vdi, VDI, location)),
					     dm_get_str(to, OF(to, VDI, location)));
			} else {
				api_fjob_add_vdi(f, vdi, x->sr, x->d[x->n].uuid);
			}
			disks++;
		}
		x->n++;
	}
	if (c->task)
		snprintf(id, sizeof(id), "%s", c->task);
	else
		dm_new_ref(id);
	if (t && dm_fv(t, OF(t, VM, domid))->u.i > 0) {
		api_fjob_domain(f, dm_fv(t, OF(t, VM, domid))->u.i, 1);
	} else if (kind == K_SNAP && disks > 1 && !strcmp(x->power, "Running")) {
		api_fjob_domain(f, dm_fv(vm, OF(vm, VM, domid))->u.i, 0);
	}
	api_vm_set_op(vm, kind_op[kind], id);
	if (t)
		api_vm_set_op(t, "reverting", id);
	return api_fjob_submit(c, f);
}

HANDLER(api_vm_clone)
{
	return copy_op(c, K_CLONE, args[0].u.s, args[1].u.s, NULL, NULL);
}

HANDLER(api_vm_copy)
{
	return copy_op(c, K_COPY, args[0].u.s, args[1].u.s, args[2].u.s, NULL);
}

HANDLER(api_vm_snapshot)
{
	return copy_op(c, K_SNAP, args[0].u.s, args[1].u.s, NULL, &args[2]);
}

HANDLER(api_vm_revert)
{
	return copy_op(c, K_REVERT, args[0].u.s, NULL, NULL, NULL);
}

/* Whether a revert or a snapshot holds vm's domain (vm.c ignores its
 * events meanwhile). */
int api_vm_copy_busy(const char *vmref)
{
	struct obj *vm = ref_of("VM", vmref);
	const struct dm_val *cur = vm ? dm_fv(vm, OF(vm, VM, current_operations)) : NULL;
	const char *op;

	if (!dm_list_len(cur))
		return 0;
	op = vm->cls->fields[OF(vm, VM, current_operations)].t->elem->en->v[cur->u.l->v[1].u.i];
	return !strcmp(op, "reverting") || !strcmp(op, "snapshot");
}

/* ---- provision: other_config:disks ---- */

struct pdisk {
	char device[4], sr[40], type[16];
	int64_t size;
	int bootable;
};

/* attribute name="value" of the element [e, end) into out */
static int attr(const char *e, const char *end, const char *name, char *out, size_t n)
{
	size_t ln = strlen(name);

	for (const char *p = e + 1; p + ln + 2 < end; p++)
		if (p[-1] == ' ' && !strncmp(p, name, ln) && p[ln] == '=' && p[ln + 1] == '"') {
			const char *v = p + ln + 2, *q = memchr(v, '"', (size_t)(end - v));

			if (!q || (size_t)(q - v) >= n)
				return -1;
			memcpy(out, v, (size_t)(q - v));
			out[q - v] = 0;
			return 0;
		}
	*out = 0;
	return 0;
}

/* XAPI's <provision><disk device size sr bootable type/>...</provision>;
 * -1 on anything else */
static int scan_disks(const char *s, struct pdisk *d, unsigned *nd)
{
	const char *p = strstr(s, "<provision>"), *e;
	char size[24], boot[8], *end;

	*nd = 0;
	if (!p || !strstr(p, "</provision>"))
		return -1;
	for (p += 11; (p = strstr(p, "<disk ")) && *nd < VMM_MAX_DEVS; p = e) {
		struct pdisk *k = &d[*nd];

		e = strstr(p, "/>");
		if (!e || attr(p, e, "device", k->device, sizeof(k->device)) ||
		    attr(p, e, "size", size, sizeof(size)) || attr(p, e, "sr", k->sr, sizeof(k->sr)) ||
		    attr(p, e, "bootable", boot, sizeof(boot)) ||
		    attr(p, e, "type", k->type, sizeof(k->type)))
			return -1;
		k->size = strtoll(size, &end, 10);
		k->bootable = !strcmp(boot, "true");
		if (*end || !*size || k->size <= 0 || !*k->device || strspn(k->device, "0123456789") !=
		    strlen(k->device) || atoi(k->device) >= VMM_MAX_DEVS ||
		    dm_enum_index(dm_enum_find("vdi_type"), k->type, strlen(k->type)) < 0)
			return -1;
		(*nd)++;
	}
	return 0;
}

HANDLER(api_vm_provision)
{
	struct obj *vm = api_obj(c, "VM", args[0].u.s), *made[VMM_MAX_DEVS][2];
	const struct dm_val *disks;
	struct pdisk d[VMM_MAX_DEVS];
	unsigned nd = 0, i;

	if (!vm || api_vm_op_check(c, vm, "provision"))
		return -1;
	disks = dm_map_get(vm->cls->fields[OF(vm, VM, other_config)].t,
			   dm_fv(vm, OF(vm, VM, other_config)), "disks");
	if (disks && scan_disks(disks->u.s, d, &nd))
		return api_fail(c, "INVALID_VALUE", "other_config:disks", disks->u.s, NULL);
	for (i = 0; i < nd; i++) {
		struct obj *sr = *d[i].sr ? dm_obj_by_uuid(dm_class_find("SR"), d[i].sr) :
			ref_of("SR", dm_get_str(api_pool, OF(api_pool, pool, default_SR)));
		struct obj *vdi = dm_obj_new(dm_class_find("VDI"), NULL, NULL), *vbd;

		dm_set_str(vdi, OF(vdi, VDI, name_label), dm_get_str(vm, OF(vm, VM, name_label)));
		dm_set_str(vdi, OF(vdi, VDI, name_description), "Created by template provisioner");
		dm_set_str(vdi, OF(vdi, VDI, SR), sr ? sr->ref : "");
		dm_set_int(vdi, OF(vdi, VDI, virtual_size), d[i].size);
		dm_set_enum(vdi, OF(vdi, VDI, type), d[i].type);
		if (!sr ? api_fail(c, "UUID_INVALID", "SR", d[i].sr, NULL) : api_vdi_on_create(c, vdi)) {
			dm_obj_delete(vdi);
			while (i--) {       /* nothing made stays */
				unlink(dm_get_str(made[i][0], OF(made[i][0], VDI, location)));
				dm_obj_delete(made[i][1]);
				dm_obj_delete(made[i][0]);
			}
			return -1;
		}
		vbd = dm_obj_new(dm_class_find("VBD"), NULL, NULL);
		made[i][0] = vdi;
		made[i][1] = vbd;
		dm_set_str(vbd, OF(vbd, VBD, VM), vm->ref);
		dm_set_str(vbd, OF(vbd, VBD, VDI), vdi->ref);
		dm_set_str(vbd, OF(vbd, VBD, userdevice), d[i].device);
		dm_set_str(vbd, OF(vbd, VBD, device), d[i].device);
		dm_set_int(vbd, OF(vbd, VBD, bootable), d[i].bootable);
		dm_set_int(vbd, OF(vbd, VBD, unpluggable), !!strcmp(d[i].type, "system"));
	}
	dm_set_int(vm, OF(vm, VM, is_a_template), 0);
	map_edit(vm, FLD(VM, other_config), "disks", NULL);
	map_edit(vm, FLD(VM, other_config), "postinstall", NULL);
	return 0;
}

/* ---- devices, memory, vCPUs ---- */

/* "0".."15" minus those vm's devices of set use (XAPI allows 0-254 VBDs:
 * the backend has 16) */
static int allowed_devices(struct call *c, const char *ref, int set, int field,
			   struct dm_val *res)
{
	struct obj *vm = api_obj(c, "VM", ref);
	char used[VMM_MAX_DEVS] = { 0 }, s[12];

	if (!vm)
		return -1;
	for (size_t i = 0; i < dm_list_len(dm_fv(vm, set)); i++) {
		struct obj *d = dm_obj_by_ref(dm_fv(vm, set)->u.l->v[i].u.s);
		const char *u = d ? dm_get_str(d, field) : "";

		if (*u && strspn(u, "0123456789") == strlen(u) && atoi(u) < VMM_MAX_DEVS)
			used[atoi(u)] = 1;
	}
	for (int i = 0; i < VMM_MAX_DEVS; i++)
		if (!used[i]) {
			struct dm_val e;

			snprintf(s, sizeof(s), "%d", i);
			e.u.s = dm_str(s);
			dm_list_push(NULL, res, &e);
		}
	return 0;
}

HANDLER(api_vm_allowed_vbd_devices)
{
	return allowed_devices(c, args[0].u.s, FLD(VM, VBDs), FLD(VBD, userdevice), res);
}

HANDLER(api_vm_allowed_vif_devices)
{
	return allowed_devices(c, args[0].u.s, FLD(VM, VIFs), FLD(VIF, device), res);
}

HANDLER(api_vm_set_memory_limits)
{
	struct obj *vm = api_obj(c, "VM", args[0].u.s);
	static const short f[] = {
		FLD(VM, memory_static_min), FLD(VM, memory_static_max),
		FLD(VM, memory_dynamic_min), FLD(VM, memory_dynamic_max),
	};

	if (!vm || api_vm_op_check(c, vm, "changing_memory_limits"))
		return -1;
	if (!(args[1].u.i <= args[3].u.i && args[3].u.i <= args[4].u.i &&
	      args[4].u.i <= args[2].u.i && args[1].u.i >= 0))
		return api_fail(c, "MEMORY_CONSTRAINT_VIOLATION",
				"static_min <= dynamic_min <= dynamic_max <= static_max", NULL);
	for (int i = 0; i < 4; i++)
		dm_set_int(vm, f[i], args[i + 1].u.i);
	return 0;
}

HANDLER(api_vm_set_vcpus_live)
{
	struct obj *vm = api_obj(c, "VM", args[0].u.s), *m;
	char e[VMM_ERR_MAX], n[24];

	if (!vm || api_vm_op_check(c, vm, "changing_VCPUs_live"))
		return -1;
	if (args[1].u.i < 1 || args[1].u.i > dm_fv(vm, OF(vm, VM, VCPUs_max))->u.i) {
		snprintf(n, sizeof(n), "%lld", (long long)args[1].u.i);
		return api_fail(c, "INVALID_VALUE", "nvcpu", n, NULL);
	}
	if (vmm_set_vcpus(api_vmm, (uint32_t)dm_fv(vm, OF(vm, VM, domid))->u.i, (unsigned)args[1].u.i,
			  e, sizeof(e)))
		return api_fail(c, "INTERNAL_ERROR", e, NULL);
	m = ref_of("VM_metrics", dm_get_str(vm, OF(vm, VM, metrics)));
	if (m)
		dm_set_int(m, OF(m, VM_metrics, VCPUs_number), args[1].u.i);
	return 0;
}

/* ---- the built-in templates (7.3) ---- */

void api_vm_templates_init(uint64_t host_memory)
{
	static const char *const dt[] = { "pvh", "pv" };
	struct dm_class *k = dm_class_find("VM");
	char rec[400];

	for (struct obj *o = k->first; o; o = o->next)
		if (dm_fv(o, OF(o, VM, is_default_template))->u.i && !o->owner)
			return;
	snprintf(rec, sizeof(rec),
		 "<restrictions><restriction field=\"memory-static-max\" max=\"%llu\"/>"
		 "<restriction field=\"vcpus-max\" max=\"16\"/>"
		 "<restriction property=\"number-of-vbds\" max=\"16\"/>"
		 "<restriction property=\"number-of-vifs\" max=\"16\"/></restrictions>",
		 (unsigned long long)host_memory);
	for (int i = 0; i < 2; i++) {
		struct obj *t = dm_obj_new(k, NULL, NULL);
		char name[64];

		snprintf(name, sizeof(name), "Generic Linux %s (boot from disk)", i ? "PV" : "PVH");
		dm_set_str(t, OF(t, VM, name_label), name);
		dm_set_str(t, OF(t, VM, name_description), i ?
			   "GRUB boots the Linux of its disk, PV: gzip or xz kernels only" :
			   "GRUB boots the Linux of its disk, PVH: Debian 10+, Ubuntu 20.04+");
		dm_set_int(t, OF(t, VM, is_a_template), 1);
		dm_set_int(t, OF(t, VM, is_default_template), 1);
		dm_set_enum(t, OF(t, VM, domain_type), dt[i]);
		dm_set_str(t, OF(t, VM, PV_bootloader), "pygrub");
		dm_set_int(t, OF(t, VM, memory_static_max), 1 << 30);
		dm_set_int(t, OF(t, VM, memory_dynamic_max), 1 << 30);
		dm_set_int(t, OF(t, VM, memory_dynamic_min), 1 << 30);
		dm_set_int(t, OF(t, VM, memory_static_min), 1 << 29);
		dm_set_str(t, OF(t, VM, recommendations), rec);
		map_edit(t, FLD(VM, other_config), "default_template", "true");
		map_edit(t, FLD(VM, other_config), "linux_template", "true");
		map_edit(t, FLD(VM, other_config), "disks",
			 "<provision><disk device=\"0\" size=\"10737418240\" sr=\"\" "
			 "bootable=\"true\" type=\"system\"/></provision>");
		api_vm_on_create(NULL, t);
	}
}
