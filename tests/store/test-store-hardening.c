/*
 * Store hardening that the other store tests take for granted: the
 * connection settings of DESIGN §7 (WAL, synchronous=FULL,
 * secure_delete, exclusive locking so no -shm file) read back from the
 * store's own connection, and process_no_core() in a child process.
 *
 * store.h hands out no sqlite3 handle, and the encrypted database file
 * cannot be read by a second connection (its header is encrypted too),
 * so the per-connection pragmas are read through store-int.h.  The
 * file-level fact (the header says WAL) is checked on a STORE_PLAIN
 * store, whose header is readable.
 */
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "store-int.h"
#include "store-test.h"

/* One pragma's value as text (caller frees). */
static char *
pragma_text(struct store *st, const char *name)
{
	sqlite3_stmt *s;
	char sql[64], *v;

	snprintf(sql, sizeof sql, "PRAGMA %s", name);
	cr_assert_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(st->db));
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW, "%s gave no row", sql);
	v = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return v;
}

/* Fail unless pragma name reads want. */
static void
expect_pragma(struct store *st, const char *name, const char *want)
{
	char *v = pragma_text(st, name);

	cr_assert_str_eq(v, want, "PRAGMA %s is %s, want %s", name, v, want);
	free(v);
}

/* Every setting DESIGN §7 asks of an open store. */
static void
expect_hardened(struct store *st)
{
	expect_pragma(st, "journal_mode", "wal");
	expect_pragma(st, "synchronous", "2"); /* FULL */
	expect_pragma(st, "secure_delete", "1");
	expect_pragma(st, "locking_mode", "exclusive");
	expect_pragma(st, "temp_store", "2"); /* MEMORY */
	expect_pragma(st, "foreign_keys", "1");
}

/* A few writes, so the WAL has frames. */
static void
add_messages(struct fixture *f, int n)
{
	uint8_t id[STORE_ID_LEN];
	char text[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(text, sizeof text, "message %d", i);
		cr_assert_eq(store_msg_add(f->st, f->profile, f->conn,
		                 STORE_DIR_OUT, 0, text, strlen(text), id),
		    0);
	}
}

Test(store_hardening, pragmas_on_a_new_and_a_reopened_store)
{
	struct fixture f;

	fixture_open(&f, 0);
	expect_hardened(f.st);
	add_messages(&f, 5);
	store_close(f.st);
	/* Per-connection settings: set again on every open. */
	cr_assert_eq(store_open(f.dir, TEST_PW, STORE_FAST_KDF, &f.st), 0);
	expect_hardened(f.st);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

Test(store_hardening, pragmas_without_password_and_plain)
{
	char *dir = test_dir(), *dir2 = test_dir();
	struct store *st;

	cr_assert_eq(store_open(dir, NULL, TEST_FLAGS, &st), 0);
	expect_hardened(st);
	store_close(st);
	cr_assert_eq(store_open(dir2, NULL, TEST_FLAGS | STORE_PLAIN, &st), 0);
	expect_hardened(st);
	store_close(st);
	test_dir_remove(dir);
	test_dir_remove(dir2);
}

Test(store_hardening, wal_in_use_and_never_a_shm_file)
{
	struct fixture f;

	fixture_open(&f, 0);
	add_messages(&f, 50);
	cr_assert(test_file_exists(f.dir, "noid.db-wal"), "no WAL file");
	cr_assert_not(test_file_exists(f.dir, "noid.db-shm"), "a -shm file");
	cr_assert_not(
	    test_file_exists(f.dir, "noid.db-journal"), "a rollback journal");
	cr_assert_eq(store_check(f.st), 0);
	store_close(f.st);
	f.st = NULL;
	cr_assert_not(test_file_exists(f.dir, "noid.db-shm"), "a -shm file");
	fixture_close(&f);
}

/* The first 100 bytes of dir/noid.db. */
static void
read_header(const char *dir, uint8_t hdr[100])
{
	char *path = path_join(dir, "noid.db");
	uint8_t *data;
	size_t len;

	cr_assert_eq(file_read_all(path, 1 << 26, &data, &len), 0);
	cr_assert_geq(len, 100, "noid.db is %zu bytes", len);
	memcpy(hdr, data, 100);
	free(data);
	free(path);
}

Test(store_hardening, header_records_wal_and_is_encrypted_otherwise)
{
	struct fixture f;
	uint8_t hdr[100];

	/* Plain: the header is SQLite's, with read and write version 2
	 * (WAL) at bytes 18 and 19. */
	fixture_open(&f, STORE_PLAIN);
	add_messages(&f, 3);
	store_close(f.st);
	f.st = NULL;
	read_header(f.dir, hdr);
	cr_assert_eq(memcmp(hdr, "SQLite format 3", 16), 0);
	cr_assert_eq(hdr[18], 2, "write version %u", hdr[18]);
	cr_assert_eq(hdr[19], 2, "read version %u", hdr[19]);
	fixture_close(&f);

	/* Encrypted: nothing of the header shows, so no outside reader
	 * can check the mode (hence store-int.h above). */
	fixture_open(&f, 0);
	add_messages(&f, 3);
	store_close(f.st);
	f.st = NULL;
	read_header(f.dir, hdr);
	cr_assert_neq(memcmp(hdr, "SQLite format 3", 16), 0);
	fixture_close(&f);
}

/* Child exit codes for process_no_core_disables_dumps. */
enum {
	NC_OK = 0,
	NC_RLIMIT = 10,
	NC_SOFT,
	NC_HARD,
	NC_DUMPABLE,
};

/* In a child: make dumps possible, call process_no_core, report. */
static int
no_core_child(void)
{
	struct rlimit rl;

	/* Start from "dumps allowed" so the check can fail. */
	if (getrlimit(RLIMIT_CORE, &rl) != 0)
		return NC_RLIMIT;
	rl.rlim_cur = rl.rlim_max;
	if (geteuid() == 0)
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);

	process_no_core();
	if (getrlimit(RLIMIT_CORE, &rl) != 0)
		return NC_RLIMIT;
	if (rl.rlim_cur != 0)
		return NC_SOFT;
	if (rl.rlim_max != 0)
		return NC_HARD;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return NC_DUMPABLE;
	return NC_OK;
}

Test(store_hardening, process_no_core_disables_dumps)
{
	int status;
	pid_t pid;

	fflush(NULL);
	cr_assert_geq(pid = fork(), 0);
	if (pid == 0)
		_exit(no_core_child());
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child died: status %#x", status);
	cr_assert_neq(WEXITSTATUS(status), NC_RLIMIT, "getrlimit failed");
	cr_assert_neq(WEXITSTATUS(status), NC_SOFT, "soft RLIMIT_CORE not 0");
	cr_assert_neq(WEXITSTATUS(status), NC_HARD, "hard RLIMIT_CORE not 0");
	cr_assert_neq(WEXITSTATUS(status), NC_DUMPABLE, "still dumpable");
	cr_assert_eq(WEXITSTATUS(status), NC_OK);
}

/* How many live contacts the fixture's profile has. */
static size_t
contacts(struct fixture *f)
{
	struct store_contact *c = NULL;
	size_t n = 0;

	cr_assert_eq(store_contacts_list(f->st, f->profile, &c, &n), 0);
	store_contacts_free(c, n);
	return n;
}

/*
 * SQLite may roll a whole transaction back by itself (on IOERR, FULL,
 * NOMEM).  Simulated here under two open levels: nothing written after
 * that may commit on its own, every level fails, and the store works
 * again once the outermost one is closed.
 */
Test(store_hardening, a_transaction_sqlite_dropped_commits_nothing)
{
	struct fixture f;
	uint8_t id[STORE_ID_LEN];
	size_t before;

	fixture_open(&f, 0);
	before = contacts(&f);
	cr_assert_eq(store_tx_begin(f.st), 0);
	cr_assert_eq(store_tx_begin(f.st), 0);
	cr_assert_eq(
	    store_contact_add(f.st, f.profile, "in the lost tx", id), 0);
	cr_assert_eq(
	    sqlite3_exec(f.st->db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_neq(store_contact_add(f.st, f.profile, "after it", id), 0);
	cr_assert_eq(store_tx_commit(f.st), NOID_ERR_IO);
	cr_assert_eq(store_tx_commit(f.st), NOID_ERR_IO);
	cr_assert_eq(contacts(&f), before, "a write after the loss committed");
	cr_assert_eq(store_contact_add(f.st, f.profile, "later", id), 0);
	cr_assert_eq(contacts(&f), before + 1);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}
