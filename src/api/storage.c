/* SRs on the host's own disks (docs/STORAGE.md 2): the xenbox.conf rules
 * (storage, storage_format) at start, plugging and unplugging PBDs, the SR
 * and PBD calls, the volatile utilisation fields and the XENBOX-STORAGE
 * console lines.
 *
 * Two SR types: `file` (a directory, device_config:path: today's <state>/sr
 * and tests) and `xfs` (a whole disk xenbox formats or adopts,
 * device_config:device, mounted at ROOT/run/sr/<uuid>).  What reads or
 * writes a disk runs in the helper (`xenbox disk-probe`, `xenbox
 * disk-format`: io/disk.c, through /proc/self/exe so that xenbox's exec
 * finds xenbox-io); mount(2), the SR's own files and statfs run here, in a
 * worker job (WORKER_SLOW), which never touches the datamodel: it copies in
 * what it needs and its done() writes the records.  ROOT is "" (the real
 * /sys, /dev, /run) unless the test-only --storage-root names a fake tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.h"
#include "api/handlers.h"
#include "api/host.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/worker.h"

#define TAG "XENBOX-STORAGE "

const char *api_storage = "state";
int api_storage_force;
const char *api_storage_root = "";

enum { SJ_SETUP, SJ_PLUG };

struct sr_job {
	struct job job;
	struct sr_job *next;            /* running (loop thread) */
	struct call *c;                 /* PBD.plug's caller, or NULL */
	int kind, rc, formatted, vdis;
	char pbd[DM_REF_LEN];           /* PLUG */
	char uuid[37];                  /* PLUG, SETUP's new uuid; out: the SR's */
	char host[37];                  /* this host's uuid, for xenbox-sr.conf */
	char want[256];                 /* the device asked for */
	char dev[300];                  /* out: /dev/disk/by-id/NAME or /dev/NAME */
	uint64_t size, used;
	char msg[600];                  /* after TAG, or the failure */
};
static struct sr_job *running;

/* ---- helpers ---- */

static struct obj *pbd_of(struct obj *sr)
{
	const struct dm_val *l = dm_fv(sr, OF(sr, SR, PBDs));

	return dm_list_len(l) ? dm_obj_by_ref(l->u.l->v[0].u.s) : NULL;
}

static const char *map_str(struct obj *o, int f, const char *key)
{
	const struct dm_val *v = dm_map_get(o->cls->fields[f].t, dm_fv(o, f), key);

	return v ? v->u.s : "";
}

static int is_xfs(struct obj *sr)
{
	return !strcmp(dm_get_str(sr, OF(sr, SR, type)), "xfs");
}

int api_sr_attached(struct obj *sr)
{
	struct obj *pbd = pbd_of(sr);

	return pbd && dm_fv(pbd, OF(pbd, PBD, currently_attached))->u.i;
}

/* The SR's directory: device_config:path (file), ROOT/run/sr/<uuid> (xfs). */
const char *api_sr_path(struct obj *sr, char *buf, size_t len)
{
	struct obj *pbd = pbd_of(sr);

	if (!is_xfs(sr))
		xsnprintf(buf, len, "%s", pbd ? map_str(pbd, OF(pbd, PBD, device_config), "path") : "");
	else
		xsnprintf(buf, len, "%s/run/sr/%s", api_storage_root, dm_get_str(sr, sr->cls->f_uuid));
	return buf;
}

/* VM.start: every disk's SR plugged (XAPI's VM_REQUIRES_SR). */
int api_sr_usable(struct call *c, struct obj *vm, struct obj *vdi)
{
	struct obj *sr = dm_obj_by_ref(dm_get_str(vdi, OF(vdi, VDI, SR)));

	if (!sr || api_sr_attached(sr))
		return 0;
	return c ? api_fail(c, "VM_REQUIRES_SR", vm->ref, sr->ref, NULL) : -1;
}

static void set_map(struct obj *o, int f, const char *k, const char *v)
{
	struct dm_val m = { 0 };

	dm_val_copy(o->cls->fields[f].t, &m, dm_fv(o, f));
	dm_map_put_str(&m, k, v);
	dm_set(o, f, &m);
	dm_val_free(o->cls->fields[f].t, &m);
}

/* The SR's allowed_operations follow (device_ops.c looks at the SRs
 * changed). */
static void attach(struct obj *pbd, int on)
{
	struct obj *sr = dm_obj_by_ref(dm_get_str(pbd, OF(pbd, PBD, SR)));

	dm_set_int(pbd, OF(pbd, PBD, currently_attached), on);
	if (sr)
		dm_touch(sr);
}

/* physical_size and _utilisation (statfs), virtual_allocation (the VDIs'
 * sizes): volatile fields, never written to the stick (2.7). */
static void utilisation(struct obj *sr, uint64_t size, uint64_t used, struct obj *gone)
{
	const struct dm_val *l = dm_fv(sr, OF(sr, SR, VDIs));
	int64_t alloc = 0;

	for (size_t i = 0; i < dm_list_len(l); i++) {
		struct obj *v = dm_obj_by_ref(l->u.l->v[i].u.s);

		if (v && v != gone)
			alloc += dm_fv(v, OF(v, VDI, virtual_size))->u.i;
	}
	dm_set_int(sr, OF(sr, SR, physical_size), (int64_t)size);
	dm_set_int(sr, OF(sr, SR, physical_utilisation), (int64_t)used);
	dm_set_int(sr, OF(sr, SR, virtual_allocation), alloc);
}

static int fs_usage(const char *dir, uint64_t *size, uint64_t *used)
{
	struct statvfs s;

	if (statvfs(dir, &s))
		return -1;
	*size = (uint64_t)s.f_blocks * s.f_frsize;
	*used = (uint64_t)(s.f_blocks - s.f_bfree) * s.f_frsize;
	return 0;
}

void api_sr_refresh(struct obj *sr, struct obj *gone)
{
	char dir[PATH_MAX];
	uint64_t size = 0, used = 0;

	if (sr && api_sr_attached(sr)) {
		fs_usage(api_sr_path(sr, dir, sizeof(dir)), &size, &used);
		utilisation(sr, size, used, gone);
	}
}

/* ".tmp/" emptied: images half made when the daemon stopped (2.5). */
static void clean_tmp(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	xsnprintf(path, sizeof(path), "%s/.tmp", dir);
	mkdir(path, 0700);
	d = opendir(path);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.' && xsnprintf(path, sizeof(path), "%s/.tmp/%s", dir, de->d_name) >= 0)
			unlink(path);
	if (d)
		closedir(d);
}

/* "<uuid>.img": the uuid part, else NULL */
static const char *img_uuid(const char *name, char uuid[37])
{
	size_t n = strlen(name);

	if (n != 40 || strcmp(name + 36, ".img"))
		return NULL;
	memcpy(uuid, name, 36);
	uuid[36] = 0;
	return dm_uuid_valid(uuid) ? uuid : NULL;
}

/* ---- the worker's side ---- */

/* vfork: the child only dups and execs (a worker thread's fork) */
__attribute__((noinline)) static pid_t spawn(char *const argv[], int out)
{
	pid_t pid = vfork();

	if (!pid) {
		dup2(out, 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

/* `xenbox ARGV...` (xenbox-io's applets) with its stdout into out (NUL
 * ended, at most len - 1 bytes kept): its exit status, -1 if it could not
 * run (err). */
static int run_io(char *const argv[], char *out, size_t len, char *err, size_t errlen)
{
	int p[2], st = -1;
	size_t n = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		xsnprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = spawn(argv, p[1]);
	close(p[1]);
	while (pid > 0 && n + 1 < len) {
		ssize_t k = read(p[0], out + n, len - 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	out[n] = 0;
	close(p[0]);
	if (pid < 0) {
		xsnprintf(err, errlen, "xenbox %s: %s", argv[1], strerror(errno));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

struct disk {
	char *name, *use, *content, *id;
	uint64_t bytes;
};

/* disk-probe's lines (NAME BYTES USE CONTENT BY-ID # text) into d[]. */
static size_t parse_probe(char *out, struct disk *d, size_t max)
{
	size_t n = 0;

	for (char *line = out, *next; line && *line && n < max; line = next) {
		char *f[5], *save = NULL;
		int k;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		*strchrnul(line, '#') = 0;
		for (k = 0; k < 5 && (f[k] = strtok_r(k ? NULL : line, " ", &save)); k++)
			;
		if (k < 5)
			continue;
		d[n] = (struct disk){ f[0], f[2], f[3], f[4], strtoull(f[1], NULL, 10) };
		n++;
	}
	return n;
}

/* The disk "want" names (/dev/disk/by-id/ID as disk-probe derives it,
 * or /dev/NAME), or NULL. */
static struct disk *find_disk(struct disk *d, size_t n, const char *want)
{
	const char *base = strrchr(want, '/');

	for (size_t i = 0; base && i < n; i++)
		if (!strcmp(d[i].name, base + 1) ||
		    (!strncmp(want, "/dev/disk/by-id/", 16) && !strcmp(d[i].id, want + 16)))
			return &d[i];
	return NULL;
}

static void dev_name(struct sr_job *j, const struct disk *d)
{
	if (strcmp(d->id, "-"))
		xsnprintf(j->dev, sizeof(j->dev), "/dev/disk/by-id/%s", d->id);
	else
		xsnprintf(j->dev, sizeof(j->dev), "/dev/%s", d->name);
}

/* Mount the disk at ROOT/run/sr/UUID (UUID "" : at .adopt, then read its
 * xenbox-sr.conf for the uuid and mount again at its place); check or
 * write xenbox-sr.conf; empty .tmp/; count the images; statfs. */
static int plug_disk(struct sr_job *j, const char *name, int fresh)
{
	char src[PATH_MAX], dir[PATH_MAX], conf[PATH_MAX + 20], line[128], got[37] = "";
	const unsigned long fl = MS_NOATIME | MS_NODEV | MS_NOSUID | MS_NOEXEC;
	struct stat st, up;
	struct dirent *de;
	FILE *f;
	DIR *d;

	xsnprintf(src, sizeof(src), "%s/dev/%s", api_storage_root, name);
	xsnprintf(dir, sizeof(dir), "%s/run/sr/%s", api_storage_root, *j->uuid ? j->uuid : ".adopt");
	mkdir_parents(dir, 0755, line, sizeof(line));
	mkdir(dir, 0700);
	/* still mounted (from before a daemon restart, or by a plug queued
	 * before this one): used as it is */
	xsnprintf(conf, sizeof(conf), "%s/run/sr", api_storage_root);
	if (stat(dir, &st) || stat(conf, &up) || st.st_dev == up.st_dev) {
		if (mount(src, dir, "xfs", fl, "")) {
			xsnprintf(j->msg, sizeof(j->msg), "mount %s: %s", j->dev, strerror(errno));
			return -1;
		}
	}
	xsnprintf(conf, sizeof(conf), "%s/xenbox-sr.conf", dir);
	if (fresh) {
		f = fopen(conf, "we");
		if (!f || fprintf(f, "sr_uuid = %s\nformat = 1\ncreated = %lld\nhost = %s\n",
				  j->uuid, (long long)now_wall(), j->host) < 0 || fclose(f)) {
			xsnprintf(j->msg, sizeof(j->msg), "%s: xenbox-sr.conf: write failed", j->dev);
			goto fail;
		}
	}
	f = fopen(conf, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "sr_uuid = %36s", got) == 1)
			break;
	if (f)
		fclose(f);
	if (!dm_uuid_valid(got)) {
		xsnprintf(j->msg, sizeof(j->msg), "%s: no sr_uuid in xenbox-sr.conf", j->dev);
		goto fail;
	}
	if (!*j->uuid) {                /* adopted: to its place */
		umount(dir);
		rmdir(dir);
		snprintf(j->uuid, sizeof(j->uuid), "%s", got);
		return plug_disk(j, name, 0);
	}
	if (strcmp(got, j->uuid)) {
		xsnprintf(j->msg, sizeof(j->msg), "%s carries SR %s, not %s",
			  j->dev, got, j->uuid);
		goto fail;
	}
	clean_tmp(dir);
	d = opendir(dir);
	while (d && (de = readdir(d)))
		j->vdis += img_uuid(de->d_name, got) != NULL;
	if (d)
		closedir(d);
	fs_usage(dir, &j->size, &j->used);
	return 0;
fail:
	umount(dir);
	rmdir(dir);
	return -1;
}

static void sr_job_run(struct job *jb)
{
	struct sr_job *j = (struct sr_job *)jb;
	static char out[64 * 1024];     /* one job at a time: the lane's */
	char err[300], *argv[6] = { "xenbox", "disk-probe", "--root", (char *)api_storage_root };
	struct disk d[64], *pick = NULL;
	int named = strcmp(j->want, "auto") != 0, blank = 0;
	char dev[PATH_MAX], *fa[5] = { "xenbox", "disk-format" };
	size_t n, k = *api_storage_root ? 4 : 2;

	if (named)
		argv[k++] = "--named";
	if (run_io(argv, out, sizeof(out), err, sizeof(err))) {
		xsnprintf(j->msg, sizeof(j->msg), "none: disk-probe %s", err);
		goto fail;
	}
	n = parse_probe(out, d, ARRAY_SIZE(d));
	if (named) {
		pick = find_disk(d, n, j->want);
		if (!pick) {
			xsnprintf(j->msg, sizeof(j->msg), "%s: no such disk", j->want);
			goto fail;
		}
		dev_name(j, pick);
		if (j->kind == SJ_PLUG) {
			if (strcmp(pick->content, "xenbox-sr")) {
				xsnprintf(j->msg, sizeof(j->msg), "%s: no xenbox SR (%s)", j->dev, pick->content);
				goto fail;
			}
		} else if (strcmp(pick->use, "candidate")) {
			xsnprintf(j->msg, sizeof(j->msg), "refused %s: %s", j->want, pick->use);
			goto fail;
		} else if (strcmp(pick->content, "xenbox-sr") && strcmp(pick->content, "blank") &&
			   !(api_storage_force && strncmp(pick->content, "unreadable", 10))) {
			xsnprintf(j->msg, sizeof(j->msg), "refused %s: has %s; to erase it write storage_format = force",
				  j->want, pick->content);
			goto fail;
		}
	} else {
		/* a disk with xenbox's SR first, else the largest blank one */
		char *p = j->msg;

		for (size_t i = 0; i < n; i++) {
			int sr = !strcmp(d[i].content, "xenbox-sr");

			if (strcmp(d[i].use, "candidate") || (!sr && strcmp(d[i].content, "blank")))
				continue;
			if (!pick || (sr && !blank) || (sr == blank && d[i].bytes > pick->bytes)) {
				pick = &d[i];
				blank = sr;     /* here: whether pick is an SR */
			}
		}
		if (!pick) {    /* "none: ... (sda: gpt; sdb: usb)" */
			p += snprintf(p, 64, "none: no blank internal disk");
			for (size_t i = 0; i < n && p < j->msg + sizeof(j->msg) - 80; i++)
				p += snprintf(p, 80, "%s%s: %s%s", i ? "; " : " (", d[i].name,
					      strcmp(d[i].use, "candidate") ? d[i].use : d[i].content,
					      i + 1 < n ? "" : ")");
			goto fail;
		}
		dev_name(j, pick);
	}
	if (j->kind == SJ_SETUP && strcmp(pick->content, "xenbox-sr")) {
		k = 2;
		if (strcmp(pick->content, "blank"))
			fa[k++] = "--force";
		fa[k] = dev;
		xsnprintf(dev, sizeof(dev), "%s/dev/%s", api_storage_root, pick->name);
		log_warn(TAG "formatting %s: %s", j->dev, pick->content);
		if (run_io(fa, err, 1, err, sizeof(err))) {     /* it says why on stderr */
			xsnprintf(j->msg, sizeof(j->msg), "%s: mkfs failed", j->dev);
			goto fail;
		}
		j->formatted = 1;
	} else if (j->kind == SJ_SETUP) {
		j->uuid[0] = 0;         /* adopted: its own */
	}
	if (plug_disk(j, pick->name, j->formatted))
		goto fail;
	return;
fail:
	j->rc = -1;
}

/* ---- the loop's side ---- */

static struct obj *new_obj(const char *cls, const char *uuid)
{
	return dm_obj_new(dm_class_find(cls), NULL, uuid);
}

static void sr_job_done(struct job *jb)
{
	struct sr_job *j = (struct sr_job *)jb;
	struct obj *sr = NULL, *pbd = NULL, *def;

	for (struct sr_job **pp = &running; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	if (jb->cancelled && !j->rc) {
		j->rc = -1;
		snprintf(j->msg, sizeof(j->msg), "the daemon is stopping");
	}
	if (j->kind == SJ_PLUG)
		pbd = dm_obj_by_ref(j->pbd);
	else if (!j->rc)
		sr = dm_obj_by_uuid(dm_class_find("SR"), j->uuid);
	if (pbd)
		sr = dm_obj_by_ref(dm_get_str(pbd, OF(pbd, PBD, SR)));
	if (j->rc) {
		if (j->kind == SJ_PLUG)
			log_warn(TAG "missing sr=%s %s: %s; not attached, VMs on it cannot start",
				 j->uuid, j->want, j->msg);
		else
			log_warn(TAG "%s", j->msg);
		if (j->c)
			api_fail(j->c, "SR_BACKEND_FAILURE", "plug", j->msg, NULL);
		goto out;
	}
	if (j->kind == SJ_PLUG && !sr)
		goto out;       /* forgotten while it was plugged */
	if (!sr) {
		sr = new_obj("SR", j->uuid);
		dm_set_str(sr, OF(sr, SR, name_label), "Local storage");
		dm_set_str(sr, OF(sr, SR, type), "xfs");
		dm_set_str(sr, OF(sr, SR, content_type), "user");
	}
	if (!pbd)
		pbd = pbd_of(sr);
	if (!pbd) {
		pbd = new_obj("PBD", NULL);
		dm_set_str(pbd, OF(pbd, PBD, host), api_this_host->ref);
		dm_set_str(pbd, OF(pbd, PBD, SR), sr->ref);
	}
	if (j->kind == SJ_SETUP) {
		set_map(pbd, OF(pbd, PBD, device_config), "device", j->dev);
		set_map(pbd, OF(pbd, PBD, other_config), "xenbox-storage", j->want);
		def = dm_obj_by_ref(dm_get_str(api_pool, OF(api_pool, pool, default_SR)));
		if (!def || !is_xfs(def))
			dm_set_str(api_pool, OF(api_pool, pool, default_SR), sr->ref);
	}
	set_map(pbd, OF(pbd, PBD, other_config), "xenbox-autoplug", "true");
	attach(pbd, 1);
	utilisation(sr, j->size, j->used, NULL);
	log_warn(TAG "%s sr=%s %s: %d VDIs, %.1f GB free",
		 j->kind == SJ_SETUP && !j->formatted ? "adopted" : "ready", j->uuid, j->dev,
		 j->vdis, (double)(j->size - j->used) / 1e9);
	if (j->c && !jb->inline_run)
		emit_str(j->c->e, "");
out:
	if (jb->inline_run)
		return;         /* submit() answers and frees */
	if (j->c)
		j->c->complete(j->c);
	free(j);
}

static struct sr_job *sr_job_new(int kind, const char *want)
{
	struct sr_job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	snprintf(j->host, sizeof(j->host), "%s", dm_get_str(api_this_host, api_this_host->cls->f_uuid));
	j->job.run = sr_job_run;
	j->job.done = sr_job_done;
	snprintf(j->want, sizeof(j->want), "%s", want);
	return j;
}

static int submit(struct call *c, struct sr_job *j)
{
	int rc;

	j->c = c;
	j->next = running;
	running = j;
	worker_submit(&j->job);
	if (!j->job.inline_run)
		return 1;
	rc = j->rc;
	free(j);
	return rc;
}

static int plug_pbd(struct call *c, struct obj *pbd)
{
	struct obj *sr = dm_obj_by_ref(dm_get_str(pbd, OF(pbd, PBD, SR)));
	struct sr_job *j;
	char dir[PATH_MAX];
	struct stat st;

	if (!sr || !is_xfs(sr)) {       /* file: the directory must be there */
		if (!sr || stat(api_sr_path(sr, dir, sizeof(dir)), &st) || !S_ISDIR(st.st_mode))
			return c ? api_fail(c, "SR_BACKEND_FAILURE", "plug", "no such directory", NULL) : -1;
		attach(pbd, 1);
		clean_tmp(dir);
		api_sr_refresh(sr, NULL);
		return 0;
	}
	j = sr_job_new(SJ_PLUG, map_str(pbd, OF(pbd, PBD, device_config), "device"));
	snprintf(j->pbd, sizeof(j->pbd), "%s", pbd->ref);
	snprintf(j->uuid, sizeof(j->uuid), "%s", dm_get_str(sr, sr->cls->f_uuid));
	return submit(c, j);
}

void api_storage_cancel(struct call *c)
{
	for (struct sr_job *j = running; j; j = j->next)
		if (j->c == c)
			j->c = NULL;
}

/* At start, after the worker: plug what was plugged, then xenbox.conf's
 * rules when no xfs SR came from that line yet (2.3, 2.4). */
void api_storage_start(void)
{
	struct dm_class *k = dm_class_find("PBD");
	int known = strcmp(api_storage, "auto") && strncmp(api_storage, "/", 1);

	for (struct obj *pbd = k->first; pbd; pbd = pbd->next) {
		struct obj *sr = dm_obj_by_ref(dm_get_str(pbd, OF(pbd, PBD, SR)));
		int dc = OF(pbd, PBD, device_config), oc = OF(pbd, PBD, other_config);

		if (pbd->owner || !sr)
			continue;
		if (!is_xfs(sr)) {      /* file: its directory made, its figures */
			char dir[PATH_MAX];

			mkdir(api_sr_path(sr, dir, sizeof(dir)), 0700);
			api_sr_refresh(sr, NULL);
			continue;
		}
		known |= !strcmp(map_str(pbd, oc, "xenbox-storage"), api_storage) ||
			 !strcmp(map_str(pbd, dc, "device"), api_storage);
		attach(pbd, 0);
		if (!strcmp(map_str(pbd, oc, "xenbox-autoplug"), "true"))
			plug_pbd(NULL, pbd);
	}
	if (!known && api_runs_guests) {
		struct sr_job *j = sr_job_new(SJ_SETUP, api_storage);

		dm_new_uuid(j->uuid);
		submit(NULL, j);
	}
}

/* ---- calls ---- */

static struct obj *pbd_arg(struct call *c, const char *ref, int attached)
{
	struct obj *pbd = api_obj(c, "PBD", ref);

	if (pbd && !dm_fv(pbd, OF(pbd, PBD, currently_attached))->u.i == !attached)
		return pbd;
	if (pbd)
		api_fail(c, attached ? "DEVICE_ALREADY_DETACHED" : "DEVICE_ALREADY_ATTACHED", ref, NULL);
	return NULL;
}

HANDLER(api_pbd_plug)
{
	struct obj *pbd = pbd_arg(c, args[0].u.s, 0);

	(void)res;
	return pbd ? plug_pbd(c, pbd) : -1;
}

HANDLER(api_pbd_unplug)
{
	struct obj *pbd = pbd_arg(c, args[0].u.s, 1), *sr;
	const struct dm_val *l;
	char dir[PATH_MAX];

	(void)res;
	if (!pbd)
		return -1;
	sr = dm_obj_by_ref(dm_get_str(pbd, OF(pbd, PBD, SR)));
	l = sr ? dm_fv(sr, OF(sr, SR, VDIs)) : NULL;
	for (size_t i = 0; l && i < dm_list_len(l); i++) {
		struct obj *vdi = dm_obj_by_ref(l->u.l->v[i].u.s);
		const struct dm_val *vbds = vdi ? dm_fv(vdi, OF(vdi, VDI, VBDs)) : NULL;

		for (size_t b = 0; vbds && b < dm_list_len(vbds); b++) {
			struct obj *vbd = dm_obj_by_ref(vbds->u.l->v[b].u.s);

			if (vbd && dm_fv(vbd, OF(vbd, VBD, currently_attached))->u.i)
				return api_fail(c, "VDI_IN_USE", vdi->ref, "unplug", NULL);
		}
	}
	if (sr && is_xfs(sr)) {
		api_sr_path(sr, dir, sizeof(dir));
		if (umount(dir) && errno != EINVAL && errno != ENOENT)
			return api_fail(c, "SR_BACKEND_FAILURE", "unplug", strerror(errno), dir, NULL);
		rmdir(dir);
	}
	set_map(pbd, OF(pbd, PBD, other_config), "xenbox-autoplug", "false");
	attach(pbd, 0);
	return 0;
}

int api_pbd_on_destroy(struct call *c, struct obj *pbd)
{
	if (dm_fv(pbd, OF(pbd, PBD, currently_attached))->u.i)
		return api_fail(c, "OPERATION_NOT_ALLOWED", "PBD attached", NULL);
	return 0;
}

HANDLER(api_sr_get_supported_types)
{
	static const char *const t[] = { "file", "xfs" };

	(void)c;
	(void)args;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct dm_val e = { .u.s = dm_str(t[i]) };

		dm_list_push(NULL, res, &e);
	}
	return 0;
}

static struct obj *sr_arg(struct call *c, const char *ref, const char *op)
{
	struct obj *sr = api_obj(c, "SR", ref);

	return sr && !api_dev_op_check(c, sr, op) ? sr : NULL;
}

/* Image files the database does not know become VDIs; VDIs whose file is
 * gone are forgotten (or marked missing while a VBD uses them); .tmp/
 * emptied; utilisation refreshed.  O(files + VDIs of the SR). */
HANDLER(api_sr_scan)
{
	struct obj *sr = sr_arg(c, args[0].u.s, "scan");
	struct dm_class *kv = dm_class_find("VDI");
	char dir[PATH_MAX], path[PATH_MAX + 48], uuid[37];
	const struct dm_val *l;
	struct dirent *de;
	struct stat st;
	DIR *d;

	(void)res;
	if (!sr)
		return -1;
	api_sr_path(sr, dir, sizeof(dir));
	d = opendir(dir);
	if (!d)
		return api_fail(c, "SR_BACKEND_FAILURE", "scan", strerror(errno), dir, NULL);
	clean_tmp(dir);
	while ((de = readdir(d))) {
		struct obj *v;

		if (!img_uuid(de->d_name, uuid) || dm_obj_by_uuid(kv, uuid))
			continue;
		xsnprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		v = dm_obj_new(kv, NULL, uuid);
		dm_set_str(v, OF(v, VDI, SR), sr->ref);
		dm_set_str(v, OF(v, VDI, name_label), de->d_name);
		dm_set_int(v, OF(v, VDI, virtual_size), st.st_size);
		dm_set_int(v, OF(v, VDI, physical_utilisation), (int64_t)st.st_blocks * 512);
		dm_set_str(v, OF(v, VDI, location), path);
	}
	closedir(d);
	l = dm_fv(sr, OF(sr, SR, VDIs));
	for (size_t i = dm_list_len(l); i-- > 0;) {
		struct obj *v = dm_obj_by_ref(l->u.l->v[i].u.s);

		if (!v || !stat(dm_get_str(v, OF(v, VDI, location)), &st))
			continue;
		if (dm_list_len(dm_fv(v, OF(v, VDI, VBDs))))
			dm_set_int(v, OF(v, VDI, missing), 1);
		else
			dm_obj_delete(v);
	}
	api_sr_refresh(sr, NULL);
	return 0;
}

/* The records go (SR, PBDs, VDIs), the disk is untouched. */
HANDLER(api_sr_forget)
{
	struct obj *sr = sr_arg(c, args[0].u.s, "forget"), *o;
	const struct dm_val *l;

	(void)res;
	if (!sr)
		return -1;
	for (int f = OF(sr, SR, VDIs);; f = OF(sr, SR, PBDs)) {
		l = dm_fv(sr, f);
		while (dm_list_len(l) && (o = dm_obj_by_ref(l->u.l->v[0].u.s)))
			dm_obj_delete(o);
		if (f == OF(sr, SR, PBDs))
			break;
	}
	if (!strcmp(dm_get_str(api_pool, OF(api_pool, pool, default_SR)), sr->ref))
		dm_set_str(api_pool, OF(api_pool, pool, default_SR), "OpaqueRef:NULL");
	dm_obj_delete(sr);
	return 0;
}
