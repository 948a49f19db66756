/*
 * storefix: SQL and temp-directory helpers for the VFS tests.
 */
#include "storefix.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void
sf_exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, err ? err : "?");
	sqlite3_free(err);
}

int64_t
sf_query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	cr_assert_eq(
	    sqlite3_step(st), SQLITE_ROW, "%s: %s", sql, sqlite3_errmsg(db));
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
sf_integrity(sqlite3 *db, char *out, size_t outlen)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out, outlen, "%s", sqlite3_column_text(st, 0));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

void
sf_dir_make(char *dir, size_t dirlen, const char *prefix)
{
	cr_assert_lt(
	    (size_t)snprintf(dir, dirlen, "/tmp/%s-XXXXXX", prefix), dirlen);
	cr_assert_not_null(mkdtemp(dir));
}

void
sf_dir_remove(const char *dir)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}
