/* Build smoke test for the staged SQLite: the kinds of statements the store
 * runs (WAL, CREATE/ALTER TABLE, PRAGMA table_info, INSERT OR REPLACE in a
 * transaction, SELECT with LIKE, DELETE, and PRAGMA integrity_check, which
 * the USB image's power-loss test relies on).  Built for the target and the host;
 * both must print the same line.  usage: sqlite_smoke DBFILE
 */
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

static sqlite3 *db;

static void check(int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static sqlite3_int64 one(const char *sql, const char **text)
{
	sqlite3_stmt *st;
	sqlite3_int64 v;
	static char buf[64];

	check(sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
	if (sqlite3_step(st) != SQLITE_ROW)
		check(SQLITE_ERROR, sql);
	v = sqlite3_column_int64(st, 0);
	if (text) {
		snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(st, 0));
		*text = buf;
	}
	sqlite3_finalize(st);
	return v;
}

int main(int argc, char **argv)
{
	sqlite3_stmt *st;
	const char *mode, *integrity;
	int i, cols = 0;

	if (argc != 2)
		return 2;
	check(sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), "open");
	one("PRAGMA journal_mode=WAL", &mode);
	check(sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS \"vm\" (ref TEXT PRIMARY KEY, name TEXT)",
			   NULL, NULL, NULL), "create");
	check(sqlite3_exec(db, "ALTER TABLE \"vm\" ADD COLUMN \"mem\" INTEGER", NULL, NULL, NULL), "alter");
	check(sqlite3_prepare_v2(db, "PRAGMA table_info(\"vm\")", -1, &st, NULL), "table_info");
	while (sqlite3_step(st) == SQLITE_ROW)
		cols++;
	sqlite3_finalize(st);

	check(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
	check(sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO \"vm\" (ref, name, mem) VALUES (?, ?, ?)",
				 -1, &st, NULL), "insert");
	for (i = 0; i < 100; i++) {
		char ref[32], name[32];

		snprintf(ref, sizeof(ref), "OpaqueRef:%d", i % 60);
		snprintf(name, sizeof(name), "%s%d", i % 2 ? "x" : "y", i);
		sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i << 20);
		check(sqlite3_step(st), "step");
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
	check(sqlite3_exec(db, "DELETE FROM \"vm\" WHERE ref = 'OpaqueRef:7'", NULL, NULL, NULL), "delete");

	char mode_s[16];
	snprintf(mode_s, sizeof(mode_s), "%s", mode);     /* one() reuses its buffer */
	one("PRAGMA integrity_check", &integrity);
	printf("%s threadsafe=%d mode=%s cols=%d integrity=%s rows=%lld x=%lld sum=%lld\n",
	       sqlite3_libversion(), sqlite3_threadsafe(), mode_s, cols, integrity,
	       (long long)one("SELECT count(*) FROM \"vm\"", NULL),
	       (long long)one("SELECT count(*) FROM \"vm\" WHERE name LIKE 'X%'", NULL),
	       (long long)one("SELECT sum(mem) FROM \"vm\"", NULL));
	return sqlite3_close(db) != SQLITE_OK;
}
