/*
 * Crash test for store/vfs-*: a child writes transactions through the
 * encrypting VFS (WAL, synchronous=FULL) and reports each commit on a
 * pipe; the parent kills it with SIGKILL at a random point, reopens,
 * and checks integrity_check, the FTS5 index, and that every reported
 * commit is there.  200 rounds.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"
#include "storefix.h"
#include "vfs.h"

#define VFS "noid-crash-enc"
#define ROUNDS 200

static char dir[64];
static char dbpath[128];

/* Run SQL in the child; any failure ends it with status 2. */
static void
child_exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		_exit(2);
}

/*
 * The child: transactions of 1-4 rows (value length a function of the
 * key, so the parent can check it), an FTS5 row each, a commit counter,
 * deletes of old rows whose key is a multiple of 7, and checkpoints now
 * and then.  After each COMMIT returns, the last key goes down the pipe.
 */
static void __attribute__((noreturn)) child(int fd)
{
	char sql[512];
	sqlite3_stmt *st;
	int64_t next, k;
	sqlite3 *db;
	int i, n;

	if (vfs_enc_open(dbpath, VFS, 0, &db) != 0)
		_exit(2);
	child_exec(db,
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "PRAGMA secure_delete=ON; PRAGMA temp_store=MEMORY");
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(k), 0) + 1 FROM t", -1,
	        &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		_exit(2);
	next = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	for (;;) {
		child_exec(db, "BEGIN");
		n = 1 + (int)randombytes_uniform(4);
		for (i = 0; i < n; i++, next++) {
			snprintf(sql, sizeof sql,
			    "INSERT INTO t VALUES(%lld, substr(replace("
			    "hex(zeroblob(1200)), '00', '%lld.'), 1, "
			    "50 + %lld * 37 %% 1000));"
			    "INSERT INTO f(rowid, body) VALUES(%lld, "
			    "'word%lld common');",
			    (long long)next, (long long)next, (long long)next,
			    (long long)next, (long long)(next % 13));
			child_exec(db, sql);
		}
		child_exec(db, "UPDATE counter SET n = n + 1");
		if (next % 5 == 0) {
			snprintf(sql, sizeof sql,
			    "DELETE FROM t WHERE k %% 7 = 0 AND k < %lld;"
			    "DELETE FROM f WHERE rowid %% 7 = 0 AND rowid < "
			    "%lld",
			    (long long)next - 100, (long long)next - 100);
			child_exec(db, sql);
		}
		child_exec(db, "COMMIT");
		k = next - 1;
		if (write(fd, &k, sizeof k) != sizeof k)
			_exit(3);
		if (randombytes_uniform(20) == 0)
			child_exec(db, "PRAGMA wal_checkpoint(PASSIVE)");
	}
}

/* Reopen after a crash and check everything reported is there. */
static void
verify(int round, int64_t reported, int64_t commits, int64_t rounds)
{
	char sql[256], res[64];
	sqlite3 *db;
	int64_t n;

	cr_assert_eq(vfs_enc_open(dbpath, VFS, 0, &db), 0, "round %d", round);
	cr_assert_eq(sf_integrity(db, res, sizeof res), SQLITE_OK);
	cr_assert_str_eq(res, "ok", "round %d", round);
	cr_assert_eq(sqlite3_exec(db,
	                 "INSERT INTO f(f, rank) VALUES('integrity-check', 0)",
	                 NULL, NULL, NULL),
	    SQLITE_OK, "round %d: fts: %s", round, sqlite3_errmsg(db));
	/* Every key up to the last reported one (multiples of 7 may be
	 * deleted). */
	snprintf(sql, sizeof sql,
	    "SELECT count(*) FROM t WHERE k <= %lld AND k %% 7 != 0",
	    (long long)reported);
	cr_assert_eq(sf_query_int(db, sql), reported - reported / 7,
	    "round %d: rows lost", round);
	cr_assert_eq(sf_query_int(db,
	                 "SELECT count(*) FROM t WHERE length(v) != "
	                 "50 + k * 37 % 1000"),
	    0, "round %d: a row changed", round);
	/* Each round may commit at most one transaction it did not report. */
	n = sf_query_int(db, "SELECT n FROM counter");
	cr_assert(n >= commits && n <= commits + rounds,
	    "round %d: %lld commits, %lld reported", round, (long long)n,
	    (long long)commits);
	sqlite3_close_v2(db);
}

Test(vfs_crash, kill9_loop_keeps_every_commit, .timeout = 120)
{
	int64_t reported = 0, commits = 0, k;
	uint8_t key[32];
	int round, status, fds[2], want, got;
	sqlite3 *db;
	pid_t pid;
	ssize_t r;

	cr_assert_eq(sodium_init() >= 0, 1);
	sf_dir_make(dir, sizeof dir, "noid-crash");
	snprintf(dbpath, sizeof dbpath, "%s/store.db", dir);
	randombytes_buf(key, sizeof key);
	cr_assert_eq(vfs_enc_register(VFS, key), 0);
	cr_assert_eq(vfs_enc_open(dbpath, VFS, 1, &db), 0);
	cr_assert_eq(sqlite3_exec(db,
	                 "PRAGMA journal_mode=WAL;"
	                 "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT);"
	                 "CREATE VIRTUAL TABLE f USING fts5(body);"
	                 "CREATE TABLE counter(n INTEGER);"
	                 "INSERT INTO counter VALUES(0)",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close_v2(db);

	for (round = 0; round < ROUNDS; round++) {
		cr_assert_eq(pipe(fds), 0);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			child(fds[1]);
		}
		cr_assert_gt(pid, 0);
		close(fds[1]);
		/* Let it commit a few times, then kill it mid-flight. */
		want = (int)randombytes_uniform(6);
		for (got = 0; got < want; got++) {
			r = read(fds[0], &k, sizeof k);
			if (r != sizeof k)
				break;
			reported = k;
			commits++;
		}
		usleep(randombytes_uniform(3000));
		kill(pid, SIGKILL);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "round %d: child exited on its own (status %d)", round,
		    status);
		while (read(fds[0], &k, sizeof k) == sizeof k) {
			reported = k;
			commits++;
		}
		close(fds[0]);
		verify(round, reported, commits, round + 1);
	}
	cr_assert_gt(reported, ROUNDS);
	cr_assert_eq(vfs_enc_unregister(VFS), 0);
	sf_dir_remove(dir);
}
