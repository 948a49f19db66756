/*
 * storefix: helpers for tests that drive SQLite directly (the
 * encrypting VFS tests): SQL that must succeed, one-integer queries,
 * integrity_check, and flat temp directories under /tmp.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_STOREFIX_H
#define NOID_STOREFIX_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* Run SQL that must succeed (criterion assertion otherwise). */
void sf_exec_ok(sqlite3 *db, const char *sql);

/* One integer from a query, asserting it returns a row. */
int64_t sf_query_int(sqlite3 *db, const char *sql);

/*
 * PRAGMA integrity_check's first row into out; returns SQLITE_OK or the
 * SQLite error the check ran into.
 */
int sf_integrity(sqlite3 *db, char *out, size_t outlen);

/* mkdtemp("/tmp/<prefix>-XXXXXX") into dir (dirlen bytes), asserting. */
void sf_dir_make(char *dir, size_t dirlen, const char *prefix);

/* Remove a flat directory: its files, then itself. */
void sf_dir_remove(const char *dir);

#endif
