/*
 * Tests for store/vfs-*: the page-encrypting SQLite VFS.  Round trips in
 * WAL mode with checkpoints and FTS5, the canary scan of every file on
 * disk, and tampering: flipped bytes, swapped and truncated pages, WAL
 * frames, the wrong key.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"
#include "storefix.h"
#include "vfs.h"

#define VFS "noid-test-enc"

static char dir[64];
static char dbpath[128];

/* A fresh directory and a registered VFS with a random key. */
static void
setup(void)
{
	uint8_t key[32];

	cr_assert_eq(sodium_init() >= 0, 1);
	sf_dir_make(dir, sizeof dir, "noid-vfs");
	snprintf(dbpath, sizeof dbpath, "%s/store.db", dir);
	randombytes_buf(key, sizeof key);
	cr_assert_eq(vfs_enc_register(VFS, key), 0);
}

/* Remove the directory and the VFS. */
static void
teardown(void)
{
	sf_dir_remove(dir);
	vfs_enc_unregister(VFS);
}

TestSuite(vfs, .init = setup, .fini = teardown);

/* Run SQL and return its result code (extended). */
static int
exec_rc(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Open through the VFS with the pragmas the store uses. */
static sqlite3 *
open_db(const char *path, int create)
{
	sqlite3 *db;

	cr_assert_eq(vfs_enc_open(path, VFS, create, &db), 0);
	sf_exec_ok(db,
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA secure_delete=ON; PRAGMA temp_store=MEMORY");
	return db;
}

static const char *canaries[] = {
    "CanaryAliceSmith-7f3a",
    "zebra-quartz-message-0xBEEF",
    "ratchet-secret-canary-5521",
};

/* Fill a database with canary rows, an FTS5 index and overflow pages. */
static void
fill_canaries(sqlite3 *db)
{
	char sql[4096];
	uint8_t w[128];
	sqlite3_stmt *st;
	size_t i, k, n;
	int j, be;

	sf_exec_ok(db,
	    "CREATE TABLE contact(id INTEGER PRIMARY KEY, name TEXT);"
	    "CREATE TABLE msg(id INTEGER PRIMARY KEY, body);"
	    "CREATE VIRTUAL TABLE msg_fts USING fts5(body);"
	    "CREATE INDEX msg_body ON msg(body)");
	sf_exec_ok(db, "BEGIN");
	for (i = 0; i < sizeof canaries / sizeof canaries[0]; i++) {
		snprintf(sql, sizeof sql,
		    "INSERT INTO contact(name) VALUES('%s');", canaries[i]);
		sf_exec_ok(db, sql);
		for (j = 0; j < 50; j++) {
			snprintf(sql, sizeof sql,
			    "INSERT INTO msg(body) VALUES('%d %s');"
			    "INSERT INTO msg_fts(body) VALUES('%s %d');",
			    j, canaries[i], canaries[i], j);
			sf_exec_ok(db, sql);
		}
		/* A long value spills to overflow pages. */
		snprintf(sql, sizeof sql,
		    "INSERT INTO msg(body) VALUES('%s' || "
		    "replace(hex(zeroblob(3000)), '00', '%s'))",
		    canaries[i], canaries[i]);
		sf_exec_ok(db, sql);
	}
	/* The UTF-16 forms, as the bytes a UTF-16 database would hold. */
	cr_assert_eq(sqlite3_prepare_v2(
	                 db, "INSERT INTO msg(body) VALUES(?)", -1, &st, NULL),
	    SQLITE_OK);
	for (i = 0; i < sizeof canaries / sizeof canaries[0]; i++) {
		n = strlen(canaries[i]);
		for (be = 0; be < 2; be++) {
			for (k = 0; k < n; k++) {
				w[2 * k + be] = (uint8_t)canaries[i][k];
				w[2 * k + !be] = 0;
			}
			cr_assert_eq(sqlite3_bind_blob(st, 1, w, (int)(2 * n),
			                 SQLITE_TRANSIENT),
			    SQLITE_OK);
			cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
			sqlite3_reset(st);
		}
	}
	sqlite3_finalize(st);
	sf_exec_ok(db, "COMMIT");
}

/* Whether needle occurs in any file of the directory; names the file. */
static int
scan_dir(const uint8_t *needle, size_t nlen, char *where, size_t wlen)
{
	struct dirent *de;
	char path[512];
	uint8_t *data;
	size_t len;
	int hit = 0;
	DIR *d;

	cr_assert_not_null(d = opendir(dir));
	while (!hit && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (file_read_all(path, 1 << 30, &data, &len) != 0)
			continue;
		if (len >= nlen && memmem(data, len, needle, nlen) != NULL) {
			hit = 1;
			snprintf(where, wlen, "%s", de->d_name);
		}
		free(data);
	}
	closedir(d);
	return hit;
}

/* Scan for every canary in UTF-8, UTF-16LE and UTF-16BE, and the magic. */
static void
assert_no_canary(const char *when)
{
	uint8_t w[256];
	char where[256];
	size_t i, k, n;
	const char *magic = "SQLite format 3";

	cr_assert_eq(scan_dir((const uint8_t *)magic, strlen(magic), where,
	                 sizeof where),
	    0, "%s: SQLite magic in %s", when, where);
	for (i = 0; i < sizeof canaries / sizeof canaries[0]; i++) {
		n = strlen(canaries[i]);
		cr_assert_eq(scan_dir((const uint8_t *)canaries[i], n, where,
		                 sizeof where),
		    0, "%s: '%s' (UTF-8) in %s", when, canaries[i], where);
		for (k = 0; k < n; k++) {
			w[2 * k] = (uint8_t)canaries[i][k];
			w[2 * k + 1] = 0;
		}
		cr_assert_eq(scan_dir(w, 2 * n, where, sizeof where), 0,
		    "%s: '%s' (UTF-16LE) in %s", when, canaries[i], where);
		for (k = 0; k < n; k++) {
			w[2 * k] = 0;
			w[2 * k + 1] = (uint8_t)canaries[i][k];
		}
		cr_assert_eq(scan_dir(w, 2 * n, where, sizeof where), 0,
		    "%s: '%s' (UTF-16BE) in %s", when, canaries[i], where);
	}
}

/* The scan must be able to fail: a plain database shows the canaries. */
Test(vfs, canary_scan_finds_plaintext)
{
	char where[256];
	sqlite3 *db;

	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	fill_canaries(db);
	sqlite3_close(db);
	cr_assert_eq(scan_dir((const uint8_t *)canaries[0], strlen(canaries[0]),
	                 where, sizeof where),
	    1);
	cr_assert_eq(scan_dir((const uint8_t *)"SQLite format 3", 15, where,
	                 sizeof where),
	    1);
}

Test(vfs, canary_absent_from_every_file)
{
	sqlite3 *db = open_db(dbpath, 1);
	char sql[256];

	sf_exec_ok(db, "PRAGMA wal_autocheckpoint=0");
	fill_canaries(db);
	/* The WAL now holds everything: scan while it is live. */
	assert_no_canary("live WAL");
	cr_assert_eq(sf_query_int(db,
	                 "SELECT count(*) FROM msg_fts WHERE "
	                 "msg_fts MATCH 'CanaryAliceSmith'"),
	    50);
	sqlite3_close_v2(db);
	assert_no_canary("after close");

	db = open_db(dbpath, 0);
	sf_exec_ok(db,
	    "DELETE FROM msg; DELETE FROM contact;"
	    "DELETE FROM msg_fts;"
	    "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_no_canary("after delete and checkpoint");
	snprintf(sql, sizeof sql, "VACUUM");
	sf_exec_ok(db, sql);
	sqlite3_close_v2(db);
	assert_no_canary("after vacuum and close");
}

/* Rollback journals (kept on disk by PERSIST) are encrypted too. */
Test(vfs, canary_absent_from_persisted_journal)
{
	char journal[160];
	struct stat sb;
	sqlite3 *db;

	cr_assert_eq(vfs_enc_open(dbpath, VFS, 1, &db), 0);
	sf_exec_ok(db, "PRAGMA journal_mode=PERSIST");
	fill_canaries(db);
	sf_exec_ok(db, "UPDATE msg SET body = 'x' || body");
	sf_exec_ok(db, "DELETE FROM contact");
	snprintf(journal, sizeof journal, "%s-journal", dbpath);
	cr_assert_eq(stat(journal, &sb), 0);
	cr_assert_gt(sb.st_size, 4096);
	assert_no_canary("persisted journal");
	sqlite3_close_v2(db);
}

/* A rollback through the encrypted journal restores the old rows. */
Test(vfs, rollback_journal_restores)
{
	sqlite3 *db;

	cr_assert_eq(vfs_enc_open(dbpath, VFS, 1, &db), 0);
	sf_exec_ok(db, "PRAGMA journal_mode=DELETE; PRAGMA cache_size=2");
	sf_exec_ok(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	sf_exec_ok(db,
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 "
	    "FROM c WHERE x<2000) INSERT INTO t SELECT x, "
	    "hex(randomblob(100)) FROM c");
	int64_t before = sf_query_int(db, "SELECT sum(length(b)) FROM t");
	sf_exec_ok(db,
	    "BEGIN; UPDATE t SET b = 'y'; DELETE FROM t WHERE a>10;"
	    "ROLLBACK");
	cr_assert_eq(sf_query_int(db, "SELECT count(*) FROM t"), 2000);
	cr_assert_eq(sf_query_int(db, "SELECT sum(length(b)) FROM t"), before);
	char res[256];
	cr_assert_eq(sf_integrity(db, res, sizeof res), SQLITE_OK);
	cr_assert_str_eq(res, "ok");
	sqlite3_close_v2(db);
}

Test(vfs, round_trip_wal_checkpoint_fts5)
{
	sqlite3 *db = open_db(dbpath, 1);
	char res[256];

	sf_exec_ok(db,
	    "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);"
	    "CREATE VIRTUAL TABLE f USING fts5(b)");
	sf_exec_ok(db,
	    "BEGIN; WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
	    "SELECT x+1 FROM c WHERE x<3000) INSERT INTO t SELECT x, "
	    "'word' || (x % 7) || ' ' || hex(randomblob(150)) FROM c;"
	    "INSERT INTO f SELECT b FROM t; COMMIT");
	sf_exec_ok(db, "PRAGMA wal_checkpoint(PASSIVE)");
	sf_exec_ok(db, "UPDATE t SET b = b || ' tail' WHERE a % 3 = 0");
	sf_exec_ok(db, "DELETE FROM t WHERE a % 10 = 0");
	sf_exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	sf_exec_ok(db, "INSERT INTO t(b) VALUES('after checkpoint')");
	cr_assert_eq(sf_query_int(db,
	                 "SELECT count(*) FROM f WHERE f MATCH "
	                 "'word3'"),
	    429);
	sqlite3_close_v2(db);

	db = open_db(dbpath, 0);
	cr_assert_eq(sf_query_int(db, "SELECT count(*) FROM t"), 2701);
	cr_assert_eq(sf_query_int(db,
	                 "SELECT count(*) FROM t WHERE b LIKE "
	                 "'% tail'"),
	    900);
	cr_assert_eq(sf_query_int(db,
	                 "SELECT count(*) FROM f WHERE f MATCH "
	                 "'word3'"),
	    429);
	cr_assert_eq(sf_integrity(db, res, sizeof res), SQLITE_OK);
	cr_assert_str_eq(res, "ok");
	/* Temp files on disk (sorter, temp tables) go through the VFS too:
	 * a 2-page temp cache forces the temp database out to a file. */
	sf_exec_ok(db,
	    "PRAGMA temp_store=FILE; PRAGMA cache_size=5;"
	    "PRAGMA temp.cache_size=2");
	sf_exec_ok(db,
	    "CREATE TEMP TABLE tt AS SELECT * FROM t ORDER BY b;"
	    "CREATE TEMP TABLE t3 AS SELECT a, b FROM tt ORDER BY "
	    "random()");
	cr_assert_eq(sf_query_int(db,
	                 "SELECT count(*) FROM t3 JOIN t USING(a) "
	                 "WHERE t3.b = t.b"),
	    2701);
	sqlite3_close_v2(db);
}

/* Write a database of several tables and close it (no WAL left). */
static int
make_db(void)
{
	sqlite3 *db = open_db(dbpath, 1);
	int pages;

	sf_exec_ok(db,
	    "CREATE TABLE t1(a INTEGER PRIMARY KEY, b TEXT);"
	    "CREATE TABLE t2(a INTEGER PRIMARY KEY, b TEXT)");
	sf_exec_ok(db,
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 "
	    "FROM c WHERE x<200) INSERT INTO t1 SELECT x, "
	    "hex(randomblob(100)) FROM c");
	sf_exec_ok(db,
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 "
	    "FROM c WHERE x<200) INSERT INTO t2 SELECT x, "
	    "hex(randomblob(100)) FROM c");
	pages = (int)sf_query_int(db, "PRAGMA page_count");
	sqlite3_close_v2(db);
	return pages;
}

/* Read a file's bytes; caller frees. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	uint8_t *data;

	cr_assert_eq(file_read_all(path, 1 << 30, &data, len), 0);
	return data;
}

static void
spit(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Open, run integrity_check; 0 if it passed, else the failure. */
static int
check_db(char *res, size_t reslen)
{
	sqlite3 *db;
	int rc;

	rc = vfs_enc_open(dbpath, VFS, 0, &db);
	if (rc != 0)
		return rc;
	rc = sf_integrity(db, res, reslen);
	sqlite3_close_v2(db);
	if (rc == SQLITE_OK && strcmp(res, "ok") != 0)
		rc = SQLITE_CORRUPT;
	return rc;
}

Test(vfs, flipped_byte_in_any_page_is_named)
{
	int pages = make_db(), p;
	uint8_t *orig, *copy;
	uint32_t pgno;
	char res[256];
	size_t len;

	orig = slurp(dbpath, &len);
	cr_assert_eq(len, (size_t)pages * 4096);
	copy = xmalloc(len);
	for (p = 1; p <= pages; p++) {
		size_t off = (size_t)(p - 1) * 4096 + randombytes_uniform(4096);

		memcpy(copy, orig, len);
		copy[off] ^= (uint8_t)(1 + randombytes_uniform(255));
		spit(dbpath, copy, len);
		vfs_enc_clear_error(VFS);
		cr_assert_neq(check_db(res, sizeof res), 0, "page %d", p);
		cr_assert_neq(vfs_enc_last_error(VFS, &pgno), 0);
		cr_assert_eq(
		    pgno, (uint32_t)p, "flipped page %d, named %u", p, pgno);
	}
	spit(dbpath, orig, len);
	vfs_enc_clear_error(VFS);
	cr_assert_eq(check_db(res, sizeof res), 0);
	cr_assert_eq(vfs_enc_last_error(VFS, &pgno), 0);
	free(orig);
	free(copy);
}

/* A damaged page of one table leaves the other table readable. */
Test(vfs, other_pages_still_readable)
{
	uint8_t *data;
	uint32_t pgno;
	sqlite3 *db;
	size_t len;
	int64_t leaf;

	make_db();
	cr_assert_eq(vfs_enc_open(dbpath, VFS, 0, &db), 0);
	leaf = sf_query_int(db,
	    "SELECT max(pageno) FROM dbstat WHERE name='t2' "
	    "AND pagetype='leaf'");
	sqlite3_close_v2(db);
	data = slurp(dbpath, &len);
	data[(leaf - 1) * 4096 + 100] ^= 0x01;
	spit(dbpath, data, len);
	free(data);

	cr_assert_eq(vfs_enc_open(dbpath, VFS, 0, &db), 0);
	cr_assert_eq(sf_query_int(db, "SELECT count(*) FROM t1"), 200);
	cr_assert_eq(
	    sf_query_int(db, "SELECT count(*) FROM t2 WHERE a < 5"), 4);
	cr_assert_eq(
	    exec_rc(db, "SELECT sum(length(b)) FROM t2"), SQLITE_IOERR_DATA);
	cr_assert_eq(vfs_enc_last_error(VFS, &pgno), NOID_ERR_CORRUPT);
	cr_assert_eq(pgno, (uint32_t)leaf);
	sqlite3_close_v2(db);
}

Test(vfs, swapped_pages_are_detected)
{
	uint8_t *data, tmp[4096];
	uint32_t pgno;
	char res[256];
	size_t len;

	make_db();
	data = slurp(dbpath, &len);
	memcpy(tmp, data + 4096, 4096);
	memcpy(data + 4096, data + 2 * 4096, 4096);
	memcpy(data + 2 * 4096, tmp, 4096);
	spit(dbpath, data, len);
	cr_assert_neq(check_db(res, sizeof res), 0);
	cr_assert_eq(vfs_enc_last_error(VFS, &pgno), NOID_ERR_CORRUPT);
	cr_assert(pgno == 2 || pgno == 3, "named %u", pgno);

	/* A copy of page 1 over page 4: valid ciphertext, wrong place. */
	memcpy(data + 2 * 4096, data + 4096, 4096);
	memcpy(data + 4096, tmp, 4096);
	memcpy(data + 3 * 4096, data, 4096);
	spit(dbpath, data, len);
	vfs_enc_clear_error(VFS);
	cr_assert_neq(check_db(res, sizeof res), 0);
	cr_assert_eq(vfs_enc_last_error(VFS, &pgno), NOID_ERR_CORRUPT);
	cr_assert_eq(pgno, 4);
	free(data);
}

Test(vfs, truncated_file_is_detected)
{
	int pages = make_db();
	uint32_t pgno;
	char res[256];

	/* Cut inside the last page: that page fails to open. */
	cr_assert_eq(truncate(dbpath, (off_t)pages * 4096 - 1000), 0);
	cr_assert_neq(check_db(res, sizeof res), 0);
	cr_assert_eq(vfs_enc_last_error(VFS, &pgno), NOID_ERR_CORRUPT);
	cr_assert_eq(pgno, (uint32_t)pages);

	/* Cut at a page boundary: SQLite sees fewer pages than the header
	 * says. */
	cr_assert_eq(truncate(dbpath, (off_t)(pages - 2) * 4096), 0);
	cr_assert_neq(check_db(res, sizeof res), 0);
}

/* Hash a file's contents. */
static void
hash_file(const char *path, uint8_t out[32])
{
	uint8_t *data;
	size_t len;

	data = slurp(path, &len);
	crypto_generichash(out, 32, data, len, NULL, 0);
	free(data);
}

Test(vfs, wrong_key_is_a_clear_error_and_changes_nothing)
{
	uint8_t key[32], h1[32], h2[32];
	uint32_t pgno;
	sqlite3 *db;
	char wal[160];

	make_db();
	hash_file(dbpath, h1);
	randombytes_buf(key, sizeof key);
	cr_assert_eq(vfs_enc_register("noid-test-other", key), 0);
	cr_assert_eq(
	    vfs_enc_open(dbpath, "noid-test-other", 0, &db), NOID_ERR_CRYPTO);
	cr_assert_null(db);
	cr_assert_eq(
	    vfs_enc_last_error("noid-test-other", &pgno), NOID_ERR_CRYPTO);
	cr_assert_eq(pgno, 1);
	cr_assert_eq(vfs_enc_unregister("noid-test-other"), 0);
	hash_file(dbpath, h2);
	cr_assert_eq(memcmp(h1, h2, 32), 0);
	snprintf(wal, sizeof wal, "%s-wal", dbpath);
	cr_assert_neq(access(wal, F_OK), 0);
}

Test(vfs, non_database_files_are_refused)
{
	uint8_t junk[8192];
	sqlite3 *db;
	int fd;

	/* Random bytes: page 1 never opens. */
	randombytes_buf(junk, sizeof junk);
	cr_assert_geq(fd = open(dbpath, O_CREAT | O_WRONLY, 0600), 0);
	cr_assert_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	close(fd);
	cr_assert_eq(vfs_enc_open(dbpath, VFS, 0, &db), NOID_ERR_CRYPTO);

	/* A plain SQLite database is not ours either. */
	unlink(dbpath);
	cr_assert_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
	sf_exec_ok(db, "CREATE TABLE t(a)");
	sqlite3_close(db);
	cr_assert_eq(vfs_enc_open(dbpath, VFS, 0, &db), NOID_ERR_CRYPTO);

	/* Missing file without create. */
	unlink(dbpath);
	cr_assert_eq(vfs_enc_open(dbpath, VFS, 0, &db), NOID_ERR_NOENT);
	cr_assert_eq(
	    vfs_enc_open(dbpath, "no-such-vfs", 1, &db), NOID_ERR_INVAL);
}

/* Without the reserve, the VFS would overwrite b-tree bytes: refused. */
Test(vfs, database_without_reserve_is_refused)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open_v2(dbpath, &db,
	                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, VFS),
	    SQLITE_OK);
	cr_assert_neq(exec_rc(db, "CREATE TABLE t(a)"), SQLITE_OK);
	sqlite3_close_v2(db);
}

Test(vfs, register_and_unregister_rules)
{
	uint8_t key[32] = {0};
	sqlite3 *db;

	cr_assert_eq(vfs_enc_register(VFS, key), NOID_ERR_EXISTS);
	cr_assert_eq(vfs_enc_register("unix", key), NOID_ERR_EXISTS);
	cr_assert_eq(vfs_enc_register("", key), NOID_ERR_INVAL);
	cr_assert_eq(vfs_enc_unregister("unix"), NOID_ERR_NOENT);
	db = open_db(dbpath, 1);
	cr_assert_eq(vfs_enc_unregister(VFS), NOID_ERR_STATE);
	sqlite3_close_v2(db);
	cr_assert_eq(vfs_enc_unregister(VFS), 0);
	cr_assert_eq(vfs_enc_unregister(VFS), NOID_ERR_NOENT);
	cr_assert_eq(vfs_enc_register(VFS, key), 0);
}

/* Leave committed frames in the WAL on close. */
static sqlite3 *
open_keep_wal(void)
{
	sqlite3 *db = open_db(dbpath, 1);

	cr_assert_eq(
	    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL),
	    SQLITE_OK);
	sf_exec_ok(db, "PRAGMA wal_autocheckpoint=0");
	return db;
}

/* A damaged WAL frame ends the log there; nothing after it is used. */
Test(vfs, tampered_wal_frame_ends_the_log)
{
	char wal[160], res[256];
	struct vfs_enc_fault fault;
	uint8_t *data;
	sqlite3 *db;
	size_t len, frame = 24 + 4096 + 40, nframes;

	db = open_keep_wal();
	sf_exec_ok(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	sf_exec_ok(db, "INSERT INTO t VALUES(1, 'one')");
	sf_exec_ok(db, "INSERT INTO t VALUES(2, 'two')");
	sf_exec_ok(db, "INSERT INTO t VALUES(3, 'three')");
	sqlite3_close_v2(db);
	snprintf(wal, sizeof wal, "%s-wal", dbpath);
	data = slurp(wal, &len);
	cr_assert_eq((len - 72) % frame, 0);
	nframes = (len - 72) / frame;
	cr_assert_geq(nframes, 3);
	/* The last frame holds the last insert's commit. */
	data[72 + (nframes - 1) * frame + 500] ^= 0x80;
	spit(wal, data, len);
	free(data);

	vfs_enc_clear_error(VFS);
	db = open_db(dbpath, 0);
	cr_assert_eq(sf_query_int(db, "SELECT count(*) FROM t"), 2);
	cr_assert_eq(sf_integrity(db, res, sizeof res), SQLITE_OK);
	cr_assert_str_eq(res, "ok");
	cr_assert_eq(vfs_enc_last_fault(VFS, &fault), 0);
	cr_assert_eq(fault.err, NOID_ERR_CORRUPT);
	cr_assert_eq(fault.kind, VFS_ENC_WAL);
	cr_assert_eq(fault.index, nframes - 1);
	sqlite3_close_v2(db);
}

/* A frame damaged while SQLite trusts it (index built) is an error. */
Test(vfs, tampered_wal_frame_under_live_index_is_an_error)
{
	struct vfs_enc_fault fault;
	char wal[160];
	uint8_t *data;
	sqlite3 *db, *db2;
	size_t len, frame = 24 + 4096 + 40;

	db = open_keep_wal();
	sf_exec_ok(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	sf_exec_ok(db, "INSERT INTO t VALUES(1, 'one')");
	snprintf(wal, sizeof wal, "%s-wal", dbpath);
	data = slurp(wal, &len);
	for (size_t f = 0; f < (len - 72) / frame; f++)
		data[72 + f * frame + 30] ^= 0x01;
	spit(wal, data, len);
	free(data);
	/* A second connection shares the index and must read the frames. */
	cr_assert_eq(vfs_enc_open(dbpath, VFS, 0, &db2), NOID_ERR_CORRUPT);
	cr_assert_null(db2);
	cr_assert_eq(vfs_enc_last_fault(VFS, &fault), 0);
	cr_assert_eq(fault.kind, VFS_ENC_WAL);
	/* The first connection's cache is stale too: it must not use them. */
	cr_assert_eq(exec_rc(db,
	                 "PRAGMA cache_size=0; PRAGMA shrink_memory;"
	                 "SELECT * FROM t"),
	    SQLITE_IOERR_DATA);
	sqlite3_close_v2(db);
}

/* Page sizes other than the default are found on open. */
Test(vfs, other_page_sizes)
{
	static const int sizes[] = {1024, 8192, 65536};
	char res[256];
	sqlite3 *db;
	size_t i;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char sql[64];

		unlink(dbpath);
		cr_assert_eq(vfs_enc_open(dbpath, VFS, 1, &db), 0);
		snprintf(sql, sizeof sql, "PRAGMA page_size=%d", sizes[i]);
		sf_exec_ok(db, sql);
		sf_exec_ok(db, "PRAGMA journal_mode=WAL");
		sf_exec_ok(db,
		    "CREATE TABLE t(a); INSERT INTO t "
		    "VALUES(randomblob(20000))");
		sqlite3_close_v2(db);
		db = open_db(dbpath, 0);
		cr_assert_eq(sf_query_int(db, "PRAGMA page_size"), sizes[i]);
		cr_assert_eq(
		    sf_query_int(db, "SELECT length(a) FROM t"), 20000);
		cr_assert_eq(sf_integrity(db, res, sizeof res), SQLITE_OK);
		cr_assert_str_eq(res, "ok");
		sqlite3_close_v2(db);
	}
}

/* A crash mid-transaction leaves a hot encrypted journal; the next open
 * plays it back. */
Test(vfs, hot_journal_is_played_back)
{
	uint8_t h1[32], h2[32];
	int64_t before;
	char res[256];
	sqlite3 *db;
	pid_t pid;
	int status;

	cr_assert_eq(vfs_enc_open(dbpath, VFS, 1, &db), 0);
	sf_exec_ok(db, "PRAGMA journal_mode=DELETE");
	sf_exec_ok(db, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
	sf_exec_ok(db,
	    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 "
	    "FROM c WHERE x<3000) INSERT INTO t SELECT x, "
	    "hex(randomblob(100)) FROM c");
	before = sf_query_int(db, "SELECT sum(length(b)) FROM t");
	sqlite3_close_v2(db);
	hash_file(dbpath, h1);
	if ((pid = fork()) == 0) {
		/* A tiny cache makes SQLite write pages before COMMIT. */
		if (vfs_enc_open(dbpath, VFS, 0, &db) != 0 ||
		    sqlite3_exec(db,
		        "PRAGMA journal_mode=DELETE; PRAGMA cache_size=2;"
		        "BEGIN; UPDATE t SET b = 'gone'; DELETE FROM t "
		        "WHERE a > 100",
		        NULL, NULL, NULL) != SQLITE_OK)
			_exit(2);
		_exit(0); /* no COMMIT, no close: a crash */
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(WIFEXITED(status) && WEXITSTATUS(status) == 0, 1);
	snprintf(res, sizeof res, "%s-journal", dbpath);
	cr_assert_eq(access(res, F_OK), 0, "no hot journal left");
	hash_file(dbpath, h2);
	cr_assert_neq(memcmp(h1, h2, 32), 0, "the crash wrote no page");

	db = open_db(dbpath, 0);
	cr_assert_eq(sf_query_int(db, "SELECT count(*) FROM t"), 3000);
	cr_assert_eq(sf_query_int(db, "SELECT sum(length(b)) FROM t"), before);
	cr_assert_eq(sf_integrity(db, res, sizeof res), SQLITE_OK);
	cr_assert_str_eq(res, "ok");
	sqlite3_close_v2(db);
}
