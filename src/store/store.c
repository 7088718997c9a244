/* Persistence: the datamodel in SQLite.  With store_fault.c (tests
 * only), the only file that includes sqlite3.h.
 *
 * Schema: one table per persistent class, named as the class, with a
 * column "ref" and one column per persistent field; sets and maps are JSON
 * text.  Tables and missing columns are created at open, so a newer
 * datamodel upgrades the file in place; unknown columns are ignored.
 *
 * Writes: the daemon calls store_flush() once per event-loop iteration,
 * before any reply of that iteration is sent.  All changes of the
 * iteration go into one transaction, so a burst of calls is one commit,
 * and a reply is only sent once what it acknowledges is durable.  An idle
 * host writes nothing.
 *
 * Failures (a full disk, an I/O error, the file locked by another
 * process): the transaction is rolled back and everything stays marked
 * for the next try; nothing is marked clean before COMMIT succeeded.
 * Tries back off (RETRY_MIN_MS doubling to RETRY_MAX_MS); the first
 * failure of an episode is logged as an error, the others at debug level,
 * the recovery once.  Meanwhile store_saved_since() tells the server
 * which replies must wait (docs/DAEMON.md).
 *
 * Durability: WAL journal, synchronous=FULL (the WAL is fsynced at each
 * commit), so neither kill -9 nor a power cut loses an acknowledged change.
 * WAL appends sequentially, which suits flash better than a rollback
 * journal's rewrite-in-place; checkpoints run at 256 pages or at close.
 */
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "api/api.h"
#include "api/dm.h"
#include "lib/arena.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/util.h"
#include "rpc/json.h"
#include "store/store_fault.h"

#define BUSY_TIMEOUT_MS 200         /* the loop waits this long for a lock */
#define RETRY_MIN_MS 250
#define RETRY_MAX_MS 5000

static sqlite3 *db;
static int dirty;               /* changes since the last commit */
static unsigned long commits;
static struct {
	int failing;            /* the last try failed */
	unsigned tries;         /* failed tries in this episode */
	int64_t next_ms;        /* no try before this (now_ms clock) */
	int64_t backoff_ms;
	uint64_t newest;        /* generation of the newest unsaved change */
} fail;

void store_mark_dirty(void)
{
	dirty = 1;
}

unsigned long store_commits(void)
{
	return commits;
}

static const char *(*owner_name)(unsigned owner);
static int (*owner_number)(const char *name);

void store_set_owners(const char *(*name)(unsigned owner), int (*number)(const char *name))
{
	owner_name = name;
	owner_number = number;
}

static int persisted(const struct dm_class *k)
{
	return !(k->flags & (DM_C_VOLATILE | DM_C_NO_OBJECTS));
}

static int field_persisted(const struct dm_field *f)
{
	return !(f->flags & DM_F_VOLATILE);
}

static int exec(const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* The table's column names into cols, each NUL-terminated: one PRAGMA
 * per table (one per field made the start-up quadratic: ~1.9 s of the
 * daemon's start in a PV dom0 under TCG). */
static void table_columns(const char *table, struct buf *cols)
{
	sqlite3_stmt *st;
	char sql[256];

	buf_reset(cols);
	snprintf(sql, sizeof(sql), "PRAGMA table_info(\"%s\")", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (name)
			buf_add(cols, name, strlen(name) + 1);
	}
	sqlite3_finalize(st);
}

static int has_column(const struct buf *cols, const char *col)
{
	for (size_t i = 0; i < cols->len; i += strlen(cols->data + i) + 1)
		if (!strcmp(cols->data + i, col))
			return 1;
	return 0;
}

/* The persisted part of the datamodel as a number (FNV-1a of the class
 * and field names), kept in PRAGMA user_version: a start whose datamodel
 * is the one the file was made with skips the schema check, which parses
 * a statement and a table_info per class (~0.15 s in a PV dom0 under
 * TCG).  Never 0, SQLite's value for a new file. */
static int schema_id(void)
{
	uint32_t h = 2166136261u ^ 1;   /* ^ 1: every table has xb_owner */

	for (size_t ci = 0; ci < dm_nclasses; ci++) {
		const struct dm_class *k = dm_classes[ci];

		if (!persisted(k))
			continue;
		for (const char *c = k->name; *c; c++)
			h = (h ^ (unsigned char)*c) * 16777619u;
		for (int i = 0; i < k->nfields; i++) {
			if (!field_persisted(&k->fields[i]))
				continue;
			h = (h ^ ',') * 16777619u;
			for (const char *c = k->fields[i].name; *c; c++)
				h = (h ^ (unsigned char)*c) * 16777619u;
		}
		h = (h ^ ';') * 16777619u;
	}
	h &= 0x7fffffff;
	return h ? (int)h : 1;
}

static int user_version(void)
{
	sqlite3_stmt *st;
	int v = 0;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* One transaction: a first start creates every table with one commit
 * (one fsync of the WAL) instead of one each.  Columns a newer datamodel
 * adds are added; none is ever dropped. */
static int create_schema(char *err, size_t errlen)
{
	struct buf sql = BUF_INIT, cols = BUF_INIT;
	int rc, id = schema_id();

	if (user_version() == id)
		return 0;
	rc = exec("BEGIN", err, errlen);
	for (size_t ci = 0; ci < dm_nclasses && !rc; ci++) {
		const struct dm_class *k = dm_classes[ci];

		if (!persisted(k))
			continue;
		buf_reset(&sql);
		buf_addf(&sql, "CREATE TABLE IF NOT EXISTS \"%s\" (ref TEXT PRIMARY KEY, xb_owner",
			 k->name);
		for (int i = 0; i < k->nfields; i++)
			if (field_persisted(&k->fields[i]))
				buf_addf(&sql, ", \"%s\"", k->fields[i].name);
		buf_adds(&sql, ")");
		rc = exec(sql.data, err, errlen);
		if (!rc)
			table_columns(k->name, &cols);
		if (!rc && !has_column(&cols, "xb_owner")) {
			buf_reset(&sql);
			buf_addf(&sql, "ALTER TABLE \"%s\" ADD COLUMN xb_owner", k->name);
			rc = exec(sql.data, err, errlen);
		}
		for (int i = 0; i < k->nfields && !rc; i++) {
			if (!field_persisted(&k->fields[i]) || has_column(&cols, k->fields[i].name))
				continue;
			buf_reset(&sql);
			buf_addf(&sql, "ALTER TABLE \"%s\" ADD COLUMN \"%s\"", k->name,
				 k->fields[i].name);
			rc = exec(sql.data, err, errlen);
		}
	}
	if (!rc) {
		buf_reset(&sql);
		buf_addf(&sql, "PRAGMA user_version=%d", id);
		rc = exec(sql.data, err, errlen);
	}
	if (!rc)
		rc = exec("COMMIT", err, errlen);
	else
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	buf_free(&cols);
	buf_free(&sql);
	return rc;
}

int store_open(const char *path, char *err, size_t errlen)
{
	int rc;

	if (db)
		return 0;
#ifdef XB_HOST_BUILD
	store_fault_init();     /* tests only: XENBOX_STORE_FAULT (store_fault.c) */
#endif
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		db = NULL;
		return -1;
	}
	/* short: the loop waits for a lock only another process holds (the
	 * sqlite3 shell), and a failed try is tried again later */
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (exec("PRAGMA journal_mode=WAL", err, errlen) ||
	    exec("PRAGMA synchronous=FULL", err, errlen) ||
	    exec("PRAGMA wal_autocheckpoint=256", err, errlen) ||
	    create_schema(err, errlen)) {
		store_close();
		return -1;
	}
	return 0;
}

void store_close(void)
{
	if (!db)
		return;
	sqlite3_close(db);
	db = NULL;
}

/* ---- values to and from columns ---- */

static void bind_value(sqlite3_stmt *st, int col, const struct dm_field *f,
		       const struct dm_val *v, struct buf *tmp)
{
	switch (f->t->kind) {
	case DM_STRING:
	case DM_REF:
		sqlite3_bind_text(st, col, v->u.s ? v->u.s : "", -1, SQLITE_STATIC);
		break;
	case DM_FLOAT:
		sqlite3_bind_double(st, col, v->u.d);
		break;
	case DM_ENUM:
		sqlite3_bind_text(st, col, f->t->en->v[v->u.i], -1, SQLITE_STATIC);
		break;
	case DM_SET:
	case DM_MAP: {
		struct emit e;

		buf_reset(tmp);
		json_emit_init(&e, tmp);
		api_emit_val(&e, f->t, v);
		sqlite3_bind_text(st, col, tmp->data, (int)tmp->len, SQLITE_TRANSIENT);
		break;
	}
	default:
		sqlite3_bind_int64(st, col, v->u.i);
		break;
	}
}

/* Column to value; -1 when it does not parse (the field keeps its
 * default and the load goes on). */
static int column_value(sqlite3_stmt *st, int col, const struct dm_field *f,
			struct dm_val *v, struct arena *a)
{
	const char *s = (const char *)sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return -1;
	memset(v, 0, sizeof(*v));
	switch (f->t->kind) {
	case DM_STRING:
	case DM_REF:
		v->u.s = dm_strn(s ? s : "", (size_t)n);
		return 0;
	case DM_FLOAT:
		v->u.d = sqlite3_column_double(st, col);
		return 0;
	case DM_ENUM:
		v->u.i = dm_enum_index(f->t->en, s ? s : "", (size_t)n);
		return v->u.i < 0 ? -1 : 0;
	case DM_SET:
	case DM_MAP: {
		struct xv *x;
		const char *msg;

		if (json_parse(a, s ? s : "", (size_t)n, &x, &msg))
			return -1;
		return api_val_from_wire(f->t, x, v);
	}
	default:
		v->u.i = sqlite3_column_int64(st, col);
		return 0;
	}
}

static int load_class(struct dm_class *k, char *err, size_t errlen)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	int cols[256], ncols = 0, rc = 0, r;
	struct arena a;

	arena_init(&a, 0);
	buf_adds(&sql, "SELECT ref, xb_owner");
	for (int i = 0; i < k->nfields && ncols < 256; i++)
		if (field_persisted(&k->fields[i])) {
			buf_addf(&sql, ", \"%s\"", k->fields[i].name);
			cols[ncols++] = i;
		}
	buf_addf(&sql, " FROM \"%s\" ORDER BY rowid", k->name);
	if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql.data, sqlite3_errmsg(db));
		rc = -1;
		goto out;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(st, 0);
		const char *own = (const char *)sqlite3_column_text(st, 1);
		int owner = own && owner_number ? owner_number(own) : 0;
		struct obj *o;

		if (owner < 0) {
			log_warn("store: %s %s: unknown owner %s", k->name, ref, own);
			continue;
		}
		/* another host's: sparse if mirrored (dm.h), written as its mirror */
		o = dm_obj_new_owned(k, ref, "00000000-0000-0000-0000-000000000000",
				     (unsigned)owner);
		DM_FOREIGN(1);
		for (int c = 0; c < ncols; c++) {
			const struct dm_field *f = &k->fields[cols[c]];
			struct dm_val v;

			if (f->idx == k->f_uuid)
				continue;
			if (column_value(st, c + 2, f, &v, &a)) {
				log_warn("store: %s %s: bad value in column %s; using its default",
					 k->name, ref, f->name);
				continue;
			}
			dm_set(o, f->idx, &v);
			dm_val_free(f->t, &v);
		}
		if (k->f_uuid >= 0) {
			int c;

			for (c = 0; c < ncols && cols[c] != k->f_uuid; c++)
				;
			dm_obj_set_uuid(o, (const char *)sqlite3_column_text(st, c + 2));
		}
		DM_FOREIGN(0);
		arena_free(&a);
	}
	if (r != SQLITE_DONE) {
		/* a read error part way: starting with part of the objects
		 * would later look like deletions */
		snprintf(err, errlen, "reading %s: %s", k->name, sqlite3_errmsg(db));
		rc = -1;
	}
out:
	sqlite3_finalize(st);
	buf_free(&sql);
	arena_free(&a);
	return rc;
}

int store_load(char *err, size_t errlen)
{
	for (size_t ci = 0; ci < dm_nclasses; ci++)
		if (persisted(dm_classes[ci]) && load_class(dm_classes[ci], err, errlen))
			return -1;
	dm_rebuild_inverses();
	dm_dirty_clear();
	dm_tombs_persisted();
	dirty = 0;
	memset(&fail, 0, sizeof(fail));
	return 0;
}

/* ---- writing ---- */

static int write_obj(struct obj *o, struct buf *sql, struct buf *tmp)
{
	const struct dm_class *k = o->cls;
	sqlite3_stmt *st;
	int col = 1, rc;

	/* O(fields); statements are prepared per write: simple, and a flush
	 * writes few objects */
	buf_reset(sql);
	buf_addf(sql, "INSERT OR REPLACE INTO \"%s\" (ref, xb_owner", k->name);
	for (int i = 0; i < k->nfields; i++)
		if (field_persisted(&k->fields[i]))
			buf_addf(sql, ", \"%s\"", k->fields[i].name);
	buf_adds(sql, ") VALUES (?, ?");
	for (int i = 0; i < k->nfields; i++)
		if (field_persisted(&k->fields[i]))
			buf_adds(sql, ", ?");
	buf_adds(sql, ")");
	if (sqlite3_prepare_v2(db, sql->data, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, col++, o->ref, -1, SQLITE_STATIC);
	if (o->owner && owner_name)
		sqlite3_bind_text(st, col, owner_name(o->owner), -1, SQLITE_TRANSIENT);
	col++;                  /* else NULL: this host's */
	for (int i = 0; i < k->nfields; i++)
		if (field_persisted(&k->fields[i]))
			bind_value(st, col++, &k->fields[i], dm_fv(o, i), tmp);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

static int delete_ref(const struct dm_class *k, const char *ref, struct buf *sql)
{
	sqlite3_stmt *st;
	int rc;

	buf_reset(sql);
	buf_addf(sql, "DELETE FROM \"%s\" WHERE ref = ?", k->name);
	if (sqlite3_prepare_v2(db, sql->data, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* The generation of the newest change not yet committed, 0 if none.
 * O(changed objects + tombstones). */
static uint64_t unsaved_newest(void)
{
	struct obj *const *d;
	const struct dm_tomb *t;
	uint64_t newest = 0;
	size_t nd = dm_dirty_all(&d), nt;

	for (size_t i = 0; i < nd; i++)
		if (!d[i]->transient && persisted(d[i]->cls) && d[i]->gen_modified > newest)
			newest = d[i]->gen_modified;
	nt = dm_tombs_all(&t);
	for (size_t i = 0; i < nt; i++)
		if (!t[i].persisted && persisted(t[i].cls) && t[i].gen > newest)
			newest = t[i].gen;
	return newest;
}

/* One transaction with every unsaved change; 0 once committed.  On an
 * error nothing is marked clean: it is all written again next time. */
static int write_changes(char *err, size_t errlen)
{
	struct buf sql = BUF_INIT, tmp = BUF_INIT;
	struct obj *const *d;
	const struct dm_tomb *t;
	size_t nt, nd;
	int rc;

	/* a failed COMMIT may leave its transaction open: BEGIN would fail */
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	/* IMMEDIATE: the write lock now, or a clear error now */
	rc = exec("BEGIN IMMEDIATE", err, errlen);
	if (rc)
		goto out;
	/* deletions first: a ref deleted and made again since the last
	 * commit is a tombstone and a dirty object, and the object is what
	 * must stay.  Then the changed objects (the dirty list: O(changed),
	 * not O(objects)). */
	nt = dm_tombs_all(&t);
	for (size_t i = 0; i < nt && !rc; i++)
		if (!t[i].persisted && persisted(t[i].cls))
			rc = delete_ref(t[i].cls, t[i].ref, &sql);
	nd = dm_dirty_all(&d);
	for (size_t i = 0; i < nd && !rc; i++)
		if (!d[i]->transient && persisted(d[i]->cls))
			rc = write_obj(d[i], &sql, &tmp);
	if (rc)
		snprintf(err, errlen, "writing: %s", sqlite3_errmsg(db));
	else
		rc = exec("COMMIT", err, errlen);
	if (rc) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	commits++;
	dm_dirty_clear();
	dm_tombs_persisted();
out:
	buf_free(&sql);
	buf_free(&tmp);
	return rc;
}

int store_flush(int64_t now)
{
	char err[512];

	if (!dirty || !db)
		return 0;
	if (fail.failing && now && now < fail.next_ms) {
		fail.newest = unsaved_newest();         /* what waits changed */
		return -1;
	}
	/* changes of volatile fields and local sessions only: no transaction */
	if (!unsaved_newest() || !write_changes(err, sizeof(err))) {
		dirty = 0;
		if (fail.failing)
			log_info("store: changes saved again, after %u failed tries", fail.tries);
		memset(&fail, 0, sizeof(fail));
		return 0;
	}
	if (!fail.failing) {
		log_err("store: cannot save changes: %s; replies that acknowledge them"
			" wait, retrying", err);
		fail.failing = 1;
		fail.backoff_ms = RETRY_MIN_MS;
	} else {
		log_debug("store: still cannot save changes (try %u): %s", fail.tries + 1, err);
		fail.backoff_ms = fail.backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS
								     : fail.backoff_ms * 2;
	}
	fail.tries++;
	fail.next_ms = (now ? now : now_ms()) + fail.backoff_ms;
	fail.newest = unsaved_newest();
	return -1;
}

int64_t store_retry_in(int64_t now)
{
	if (!dirty || !db)
		return -1;
	if (!fail.failing)
		return 0;       /* changed after this iteration's flush */
	return fail.next_ms > now ? fail.next_ms - now : 0;
}

int store_saved_since(uint64_t gen)
{
	return !db || !dirty || (fail.failing && fail.newest <= gen);
}
