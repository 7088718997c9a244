/* Test-only fault injection for the store: the host (ASan) build only;
 * the shipped binary compiles this file to nothing.
 *
 * XENBOX_STORE_FAULT=FILE wraps SQLite's default VFS.  Before each write
 * and each sync of the database and its WAL, FILE is read (one open and
 * read per call: fine for tests):
 *   "write"  writes fail (SQLITE_IOERR_WRITE, as EIO)
 *   "fsync"  syncs fail (SQLITE_IOERR_FSYNC)
 * anything else, or no FILE, passes through.  Tests create and remove
 * FILE while the daemon runs (tests/integration/test_store_durability.py).
 */
#include "store/store_fault.h"

#ifdef XB_HOST_BUILD
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "lib/log.h"

enum { FAULT_NONE, FAULT_WRITE, FAULT_FSYNC };

struct ffile {
	sqlite3_file base;
	sqlite3_file *real;     /* follows this struct in the same block */
};

static const char *ctl;
static sqlite3_vfs *orig;
static sqlite3_vfs fvfs;
static sqlite3_io_methods fio;

static int fault(void)
{
	char b[16] = "";
	int fd = open(ctl, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return FAULT_NONE;
	if (read(fd, b, sizeof(b) - 1) < 0)
		b[0] = 0;
	close(fd);
	return !strncmp(b, "write", 5) ? FAULT_WRITE : !strncmp(b, "fsync", 5) ? FAULT_FSYNC
									   : FAULT_NONE;
}

#define REAL(f) (((struct ffile *)(f))->real)
#define M(f) (REAL(f)->pMethods)

static int f_close(sqlite3_file *f)
{
	return M(f)->xClose(REAL(f));
}

static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off)
{
	return M(f)->xRead(REAL(f), b, n, off);
}

static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
	if (fault() == FAULT_WRITE)
		return SQLITE_IOERR_WRITE;
	return M(f)->xWrite(REAL(f), b, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return M(f)->xTruncate(REAL(f), size);
}

static int f_sync(sqlite3_file *f, int flags)
{
	if (fault() == FAULT_FSYNC)
		return SQLITE_IOERR_FSYNC;
	return M(f)->xSync(REAL(f), flags);
}

static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return M(f)->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int l)
{
	return M(f)->xLock(REAL(f), l);
}

static int f_unlock(sqlite3_file *f, int l)
{
	return M(f)->xUnlock(REAL(f), l);
}

static int f_reserved(sqlite3_file *f, int *out)
{
	return M(f)->xCheckReservedLock(REAL(f), out);
}

static int f_fcntl(sqlite3_file *f, int op, void *arg)
{
	return M(f)->xFileControl(REAL(f), op, arg);
}

static int f_sector(sqlite3_file *f)
{
	return M(f)->xSectorSize(REAL(f));
}

static int f_devchar(sqlite3_file *f)
{
	return M(f)->xDeviceCharacteristics(REAL(f));
}

static int f_shmmap(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **p)
{
	return M(f)->xShmMap(REAL(f), pg, pgsz, extend, p);
}

static int f_shmlock(sqlite3_file *f, int off, int n, int flags)
{
	return M(f)->xShmLock(REAL(f), off, n, flags);
}

static void f_shmbarrier(sqlite3_file *f)
{
	M(f)->xShmBarrier(REAL(f));
}

static int f_shmunmap(sqlite3_file *f, int del)
{
	return M(f)->xShmUnmap(REAL(f), del);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
	return M(f)->xFetch(REAL(f), off, n, p);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return M(f)->xUnfetch(REAL(f), off, p);
}

static int f_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
		  int *out_flags)
{
	struct ffile *f = (struct ffile *)file;
	int rc;

	(void)vfs;
	f->real = (sqlite3_file *)(f + 1);
	rc = orig->xOpen(orig, name, f->real, flags, out_flags);
	/* the unix VFS's methods are version 3 (WAL's shared memory, mmap) */
	f->base.pMethods = rc == SQLITE_OK && f->real->pMethods ? &fio : NULL;
	return rc;
}

static int f_delete(sqlite3_vfs *v, const char *n, int sync)
{
	(void)v;
	return orig->xDelete(orig, n, sync);
}

static int f_access(sqlite3_vfs *v, const char *n, int flags, int *out)
{
	(void)v;
	return orig->xAccess(orig, n, flags, out);
}

static int f_fullpath(sqlite3_vfs *v, const char *n, int len, char *out)
{
	(void)v;
	return orig->xFullPathname(orig, n, len, out);
}

static int f_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return orig->xRandomness(orig, n, out);
}

static int f_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return orig->xSleep(orig, us);
}

static int f_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return orig->xCurrentTime(orig, out);
}

static int f_lasterr(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return orig->xGetLastError(orig, n, out);
}

static int f_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return orig->xCurrentTimeInt64(orig, out);
}

void store_fault_init(void)
{
	if (orig || !(ctl = getenv("XENBOX_STORE_FAULT")) || !*ctl ||
	    !(orig = sqlite3_vfs_find(NULL)))
		return;
	fio = (sqlite3_io_methods){
		3, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock, f_unlock,
		f_reserved, f_fcntl, f_sector, f_devchar, f_shmmap, f_shmlock, f_shmbarrier,
		f_shmunmap, f_fetch, f_unfetch,
	};
	fvfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct ffile) + orig->szOsFile,
		.mxPathname = orig->mxPathname,
		.zName = "xenbox-fault",
		.xOpen = f_open,
		.xDelete = f_delete,
		.xAccess = f_access,
		.xFullPathname = f_fullpath,
		.xRandomness = f_random,
		.xSleep = f_sleep,
		.xCurrentTime = f_time,
		.xGetLastError = f_lasterr,
		.xCurrentTimeInt64 = f_time64,
	};
	sqlite3_vfs_register(&fvfs, 1);
	log_warn("store: fault injection from %s (a test build)", ctl);
}
#endif
