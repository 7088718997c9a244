/* VDI clone, snapshot, copy and resize (docs/STORAGE.md 4.1), and the
 * file jobs that VM clone, copy, snapshot and revert (vm_copy.c) share.
 *
 * A VDI is a sparse raw file.  A copy of one is made in the worker's slow
 * lane (a FICLONE of a file with many extents takes time): FICLONE where
 * the filesystem shares blocks (XFS reflink=1: nothing copied), else a
 * sparse copy (SEEK_DATA/SEEK_HOLE, copy_file_range of the data: holes
 * stay holes).  Into the SR's .tmp/ first; the loop thread renames the
 * file into place when it writes the records (api_fjob_fail), so a
 * crash never leaves a half-made file under a VDI's name, and a failure
 * or a cancel leaves nothing.  The job runs no datamodel code: it gets
 * paths, and the domain to destroy (a revert) or pause (a snapshot of a
 * running VM with several disks) first.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/util.h"
#include "lib/worker.h"
#include "vmm/backend.h"

#define FAIL(c, ...) ((c) ? api_fail((c), __VA_ARGS__, NULL) : -1)
#define FJ_MAX (VMM_MAX_DEVS + 1)

struct fjob {
	struct job job;
	struct fjob *next;              /* active jobs (loop thread) */
	struct call *c;                 /* the waiting call, or NULL */
	char task[DM_REF_LEN];
	int (*done)(struct call *c, struct fjob *f, int rc, const char *err);
	void *ctx;
	struct { char *src, *tmp, *dst; } p[FJ_MAX];
	unsigned n;
	int64_t domid;                  /* > 0: destroy it first, or pause around */
	int destroy;
	int rc, result;
	char err[VMM_ERR_MAX];
};
static struct fjob *fjobs;

/* Worker: dst made from src, sharing its blocks or holes kept. */
static int clone_file(struct fjob *f, const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	struct stat st;
	off_t pos = 0, d, h;

	if (in < 0 || fstat(in, &st) < 0)
		goto out;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		goto out;
	if (ioctl(out, FICLONE, in) < 0) {
		if (errno != EOPNOTSUPP && errno != EXDEV && errno != EINVAL && errno != ENOTTY)
			goto out;
		if (ftruncate(out, st.st_size) < 0)
			goto out;
		while (pos < st.st_size && (d = lseek(in, pos, SEEK_DATA)) >= 0) {
			if ((h = lseek(in, d, SEEK_HOLE)) < 0)
				goto out;
			while (d < h) {
				loff_t a = d, b = d;
				ssize_t r = copy_file_range(in, &a, out, &b, (size_t)(h - d), 0);

				if (r <= 0) {
					errno = r ? errno : EIO;
					goto out;
				}
				d += r;
			}
			pos = h;
			if (worker_cancelled(&f->job)) {
				errno = ECANCELED;
				goto out;
			}
		}
		if (pos < st.st_size && errno != ENXIO)
			goto out;
	}
	rc = fsync(out);
out:
	if (rc)
		snprintf(f->err, sizeof(f->err), "%s: %s", src, strerror(errno));
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static void fj_run(struct job *jb)
{
	struct fjob *f = (struct fjob *)jb;
	char e[VMM_ERR_MAX];
	int paused = 0;

	if (worker_cancelled(jb)) {
		f->rc = -ECANCELED;
		return;
	}
	if (f->domid > 0) {
		f->rc = f->destroy ? vmm_destroy(api_vmm, (uint32_t)f->domid, f->err, sizeof(f->err)) :
			vmm_pause(api_vmm, (uint32_t)f->domid, f->err, sizeof(f->err));
		if (f->rc == -ENOENT && f->destroy)
			f->rc = 0;
		if (f->rc)
			return;
		paused = !f->destroy;
		f->destroy *= 2;        /* done */
	}
	for (unsigned i = 0; i < f->n && !f->rc; i++) {
		char *slash = strrchr(f->p[i].tmp, '/');

		*slash = 0;
		mkdir(f->p[i].tmp, 0700);
		*slash = '/';
		if (clone_file(f, f->p[i].src, f->p[i].tmp))
			f->rc = errno == ECANCELED ? -ECANCELED : -EIO;
		worker_progress(jb, (i + 1.0) / f->n);
	}
	if (paused && vmm_unpause(api_vmm, (uint32_t)f->domid, e, sizeof(e)) && !f->rc) {
		f->rc = -EIO;
		snprintf(f->err, sizeof(f->err), "%s", e);
	}
}

static void fj_free(struct fjob *f)
{
	for (unsigned i = 0; i < f->n; i++) {
		if (f->p[i].tmp)
			unlink(f->p[i].tmp);    /* not committed */
		free(f->p[i].src);
		free(f->p[i].tmp);
		free(f->p[i].dst);
	}
	free(f->ctx);
	free(f);
}

static void fj_done(struct job *jb)
{
	struct fjob *f = (struct fjob *)jb;
	int rc;

	for (struct fjob **pp = &fjobs; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	if (jb->cancelled && !*f->err)
		snprintf(f->err, sizeof(f->err), "the daemon is stopping");
	rc = f->done(f->c, f, jb->cancelled && !f->rc ? -ECANCELED : f->rc, f->err);
	if (jb->inline_run) {
		f->result = rc;
		return;
	}
	if (f->c)
		f->c->complete(f->c);
	fj_free(f);
}

static void fj_progress(struct job *jb, double p)
{
	struct fjob *f = (struct fjob *)jb;
	struct obj *t = *f->task ? dm_obj_by_ref_cls(dm_class_find("task"), f->task) : NULL;

	if (t)
		dm_set_float(t, OF(t, task, progress), p);
}

struct fjob *api_fjob_new(int (*done)(struct call *, struct fjob *, int, const char *), void *ctx)
{
	struct fjob *f = xcalloc(1, sizeof(*f));

	f->job.run = fj_run;
	f->job.done = fj_done;
	f->job.progress = fj_progress;
	f->done = done;
	f->ctx = ctx;
	return f;
}

void *api_fjob_ctx(struct fjob *f)
{
	return f->ctx;
}

void api_fjob_add(struct fjob *f, const char *src, const char *dst)
{
	const char *base = strrchr(dst, '/');
	char tmp[700];

	if (f->n >= FJ_MAX)
		return;
	base = base ? base + 1 : dst;
	xsnprintf(tmp, sizeof(tmp), "%.*s.tmp/%s", (int)(base - dst), dst, base);
	f->p[f->n].src = xstrdup(src);
	f->p[f->n].tmp = xstrdup(tmp);
	f->p[f->n++].dst = xstrdup(dst);
}

int api_fjob_destroyed(struct fjob *f)
{
	return f->destroy == 2;
}

void api_fjob_domain(struct fjob *f, int64_t domid, int destroy)
{
	f->domid = domid;
	f->destroy = destroy;
}

/* 1 (the call completes later), or the done()'s 0 / -1 when the job ran
 * at once (no worker). */
int api_fjob_submit(struct call *c, struct fjob *f)
{
	int rc;

	f->c = c;
	if (c && c->task)
		snprintf(f->task, sizeof(f->task), "%s", c->task);
	f->next = fjobs;
	fjobs = f;
	worker_submit(&f->job);
	if (!f->job.inline_run)
		return 1;       /* not cancellable: a task.cancel waits for the end */
	rc = f->result;
	fj_free(f);
	return rc;
}

static int commit(struct fjob *f, char *err, size_t n)
{
	for (unsigned i = 0; i < f->n; i++) {
		if (rename(f->p[i].tmp, f->p[i].dst) < 0) {
			snprintf(err, n, "%s: %s", f->p[i].dst, strerror(errno));
			return -1;
		}
		free(f->p[i].tmp);
		f->p[i].tmp = NULL;
	}
	return 0;
}

/* The caller went away (api_cancel): the job goes on, nobody is told. */
void api_fjob_cancel(struct call *c)
{
	for (struct fjob *f = fjobs; f; f = f->next)
		if (f->c == c)
			f->c = NULL;
}

/* ---- records ---- */

/* Where a new copy of vdi named uuid lives: in the SR sr (a ref; NULL or
 * "": vdi's own), in that SR's directory (api_sr_path: the file SR's, or
 * an xfs SR's mount), else the file SR's. */
void api_vdi_path(char *buf, size_t n, struct obj *vdi, const char *sr, const char *uuid)
{
	struct obj *o = dm_obj_by_ref_cls(dm_class_find("SR"),
					  sr && *sr ? sr : dm_get_str(vdi, OF(vdi, VDI, SR)));
	char dir[600];

	xsnprintf(buf, n, "%s/%s.img", o ? api_sr_path(o, dir, sizeof(dir)) : api_sr_dir, uuid);
}

/* A new VDI record with vdi's fields (XAPI's clone copies these), at
 * path, in sr; a snapshot records what it is of. */
struct obj *api_vdi_dup(struct obj *vdi, const char *uuid, const char *sr, const char *path,
			int snap)
{
	static const short copied[] = {
		FLD(VDI, name_label), FLD(VDI, name_description), FLD(VDI, virtual_size),
		FLD(VDI, physical_utilisation), FLD(VDI, type), FLD(VDI, sharable),
		FLD(VDI, read_only), FLD(VDI, other_config), FLD(VDI, xenstore_data),
		FLD(VDI, sm_config), FLD(VDI, on_boot),
	};
	struct obj *n = dm_obj_new(dm_class_find("VDI"), NULL, uuid);

	for (size_t i = 0; i < ARRAY_SIZE(copied); i++)
		dm_set(n, copied[i], dm_fv(vdi, copied[i]));
	dm_set_str(n, OF(n, VDI, SR), sr ? sr : dm_get_str(vdi, OF(vdi, VDI, SR)));
	dm_set_str(n, OF(n, VDI, location), path);
	if (snap) {
		dm_set_int(n, OF(n, VDI, is_a_snapshot), 1);
		dm_set_str(n, OF(n, VDI, snapshot_of), vdi->ref);
		dm_set_int(n, OF(n, VDI, snapshot_time), now_wall());
	}
	return n;
}

/* A job's file for a new copy of vdi: its uuid into uuid. */
void api_fjob_add_vdi(struct fjob *f, struct obj *vdi, const char *sr, char uuid[37])
{
	char path[700];

	dm_new_uuid(uuid);
	api_vdi_path(path, sizeof(path), vdi, sr, uuid);
	api_fjob_add(f, dm_get_str(vdi, OF(vdi, VDI, location)), path);
}

/* The failure of a job's outcome rc (after the done() cleared its
 * operation): 0 when it went well. */
int api_fjob_fail(struct call *c, struct fjob *f, int rc, const char *err)
{
	char e[VMM_ERR_MAX];

	if (rc == -ECANCELED && !strcmp(err, "the daemon is stopping"))
		return FAIL(c, "INTERNAL_ERROR", err);
	if (rc)
		return FAIL(c, "SR_BACKEND_FAILURE", "copy", err, "");
	if (commit(f, e, sizeof(e)))
		return FAIL(c, "SR_BACKEND_FAILURE", "rename", e, "");
	return 0;
}

/* ---- VDI.clone, snapshot, copy ---- */

struct vdi_ctx {
	char vdi[DM_REF_LEN], sr[DM_REF_LEN], uuid[37];
	int snap;
};

static void set_op(struct obj *o, const char *op, const char *id)
{
	const struct dm_field *fl = &o->cls->fields[OF(o, VDI, current_operations)];
	struct dm_val m = { 0 };

	if (op) {
		struct dm_val k, v;

		k.u.s = dm_str(id);
		v.u.i = dm_enum_index(fl->t->elem->en, op, strlen(op));
		dm_list_push(NULL, &m, &k);
		dm_list_push(NULL, &m, &v);
	}
	dm_set(o, fl->idx, &m);
	dm_val_free(fl->t, &m);
}

static int vdi_done(struct call *c, struct fjob *f, int rc, const char *err)
{
	struct vdi_ctx *x = api_fjob_ctx(f);
	struct obj *vdi = dm_obj_by_ref_cls(dm_class_find("VDI"), x->vdi), *n;
	char path[700];

	if (vdi)
		set_op(vdi, NULL, NULL);
	if (api_fjob_fail(c, f, rc, err))
		return -1;
	if (!vdi)
		return FAIL(c, "HANDLE_INVALID", "VDI", x->vdi);
	api_vdi_path(path, sizeof(path), vdi, x->sr, x->uuid);
	n = api_vdi_dup(vdi, x->uuid, *x->sr ? x->sr : NULL, path, x->snap);
	if (c)
		emit_str(c->e, n->ref);
	return 0;
}

static int vdi_dup_op(struct call *c, const char *ref, const char *sr, const char *op)
{
	struct obj *vdi = api_obj(c, "VDI", ref);
	struct vdi_ctx *x;
	struct fjob *f;
	char id[DM_REF_LEN];

	if (!vdi || api_dev_op_check(c, vdi, op))
		return -1;
	x = xcalloc(1, sizeof(*x));
	snprintf(x->vdi, sizeof(x->vdi), "%s", vdi->ref);
	snprintf(x->sr, sizeof(x->sr), "%s", sr);
	x->snap = !strcmp(op, "snapshot");
	f = api_fjob_new(vdi_done, x);
	api_fjob_add_vdi(f, vdi, x->sr, x->uuid);
	if (c->task)
		snprintf(id, sizeof(id), "%s", c->task);
	else
		dm_new_ref(id);
	set_op(vdi, op, id);
	return api_fjob_submit(c, f);
}

HANDLER(api_vdi_clone)
{
	return vdi_dup_op(c, args[0].u.s, "", "clone");
}

HANDLER(api_vdi_snapshot)
{
	return vdi_dup_op(c, args[0].u.s, "", "snapshot");
}

/* base_vdi and into_vdi (XO's delta copies) are not done yet */
HANDLER(api_vdi_copy)
{
	struct obj *sr = api_obj(c, "SR", args[1].u.s);

	if (!sr || api_dev_op_check(c, sr, "vdi_create"))
		return -1;
	if (dm_obj_by_ref(args[2].u.s) || dm_obj_by_ref(args[3].u.s))
		return api_fail(c, "OPERATION_NOT_ALLOWED", "VDI.copy: base_vdi, into_vdi", NULL);
	return vdi_dup_op(c, args[0].u.s, sr->ref, "copy");
}

/* Only larger, only while no running VM has it (resize_online: later). */
HANDLER(api_vdi_resize)
{
	struct obj *vdi = api_obj(c, "VDI", args[0].u.s);
	int64_t size = args[1].u.i;
	const char *loc;

	if (!vdi || api_dev_op_check(c, vdi, "resize"))
		return -1;
	loc = dm_get_str(vdi, OF(vdi, VDI, location));
	size = (size + 511) & ~(int64_t)511;
	if (size < dm_fv(vdi, OF(vdi, VDI, virtual_size))->u.i)
		return api_fail(c, "SR_BACKEND_FAILURE_79", "", "VDI Invalid size", "", NULL);
	if (truncate(loc, size) < 0)
		return api_fail(c, "SR_BACKEND_FAILURE", "resize", strerror(errno), loc, NULL);
	dm_set_int(vdi, OF(vdi, VDI, virtual_size), size);
	return 0;
}
