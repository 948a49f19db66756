/*
 * Bad input and faults at store level: wrong, empty, missing and very
 * long passwords, a file that is not a database, a flipped byte in a
 * page (each a clear error, files unchanged); kill -9 of a writer at
 * random points (every reopen passes the checks and keeps every op the
 * writer saw committed); and the canary: distinctive strings never
 * reach the disk in any file of the data dir.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "store-test.h"

/* Hash the key file and the database together. */
static void
hash_dir(const char *dir, uint8_t out[64])
{
	test_file_hash(dir, "noid.db", out);
	test_file_hash(dir, "key", out + 32);
}

/* open must fail with want, changing no byte. */
static void
open_fails(const char *dir, const char *pw, int flags, int want)
{
	uint8_t before[64], after[64];
	struct store *st = NULL;

	hash_dir(dir, before);
	cr_assert_eq(store_open(dir, pw, flags, &st), want, "want %s",
	    noid_errname(want));
	cr_assert_null(st);
	hash_dir(dir, after);
	cr_assert_eq(memcmp(before, after, 64), 0);
}

Test(fault, bad_passwords_change_nothing)
{
	struct fixture f;
	char *longpw = xcalloc(1, STORE_PASSWORD_MAX + 2);
	struct store *st;
	int yes = -1;

	memset(longpw, 'p', STORE_PASSWORD_MAX + 1);
	fixture_open(&f, 0);
	store_close(f.st);
	open_fails(f.dir, "wrong", STORE_FAST_KDF, NOID_ERR_PASSWORD);
	open_fails(f.dir, "", STORE_FAST_KDF, NOID_ERR_PASSWORD);
	open_fails(f.dir, NULL, STORE_FAST_KDF, NOID_ERR_PASSWORD);
	open_fails(f.dir, longpw, STORE_FAST_KDF, NOID_ERR_TOOBIG);
	/* An encrypted store read as plain SQLite is no database. */
	open_fails(f.dir, NULL, STORE_PLAIN, NOID_ERR_CORRUPT);
	cr_assert_eq(store_has_password(f.dir, &yes), 0);
	cr_assert_eq(yes, 1);

	/* Changing the password re-wraps; the old one stops working. */
	cr_assert_eq(store_open(f.dir, TEST_PW, STORE_FAST_KDF, &st), 0);
	cr_assert_eq(
	    store_change_password(st, "wrong", "new pw"), NOID_ERR_PASSWORD);
	cr_assert_eq(store_change_password(st, TEST_PW, ""), NOID_ERR_INVAL);
	cr_assert_eq(store_change_password(st, TEST_PW, "new pw"), 0);
	store_close(st);
	open_fails(f.dir, TEST_PW, STORE_FAST_KDF, NOID_ERR_PASSWORD);
	cr_assert_eq(store_open(f.dir, "new pw", STORE_FAST_KDF, &st), 0);
	cr_assert_eq(store_check(st), 0);
	cr_assert_eq(store_change_password(st, "new pw", NULL), 0);
	store_close(st);
	cr_assert_eq(store_has_password(f.dir, &yes), 0);
	cr_assert_eq(yes, 0);
	cr_assert_eq(store_open(f.dir, NULL, STORE_FAST_KDF, &st), 0);
	f.st = st;
	free(longpw);
	fixture_close(&f);

	/* Creating with "" is refused outright. */
	char *dir = test_dir();
	cr_assert_eq(store_open(dir, "", TEST_FLAGS, &st), NOID_ERR_INVAL);
	test_dir_remove(dir);
}

Test(fault, non_database_file_is_refused_unchanged)
{
	struct fixture f;
	char *path;
	static const char junk[] = "this is not a database, just some text\n";

	fixture_open(&f, 0);
	store_close(f.st);
	f.st = NULL;
	path = path_join(f.dir, "noid.db");
	cr_assert_eq(file_write_atomic(path, junk, sizeof junk, 0600), 0);
	open_fails(f.dir, TEST_PW, STORE_FAST_KDF, NOID_ERR_CORRUPT);
	free(path);
	fixture_close(&f);
}

/* 300 messages in one commit, then close (checkpoints into noid.db). */
static void
fill_and_close(struct fixture *f)
{
	uint8_t id[STORE_ID_LEN];
	char text[64];
	int i;

	cr_assert_eq(store_tx_begin(f->st), 0);
	for (i = 0; i < 300; i++) {
		snprintf(text, sizeof text, "filler message number %d", i);
		cr_assert_eq(store_msg_add(f->st, f->profile, f->conn,
		                 STORE_DIR_IN, 0, text, strlen(text), id),
		    0);
	}
	cr_assert_eq(store_tx_commit(f->st), 0);
	store_close(f->st);
	f->st = NULL;
}

/* XOR one byte of dir/noid.db at off with mask. */
static void
flip_byte(const char *dir, off_t off, uint8_t mask)
{
	char *path = path_join(dir, "noid.db");
	int fd = open(path, O_RDWR);
	uint8_t b;

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &b, 1, off), 1);
	b ^= mask;
	cr_assert_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
	free(path);
}

Test(fault, flipped_byte_in_a_page_is_detected_and_named)
{
	struct fixture f;
	struct store *st;
	uint32_t pgno = 0;
	int rc;

	fixture_open(&f, 0);
	fill_and_close(&f);
	flip_byte(f.dir, 4096 * 5 + 700, 0x10);
	rc = store_open(f.dir, TEST_PW, STORE_FAST_KDF, &st);
	if (rc == 0) {
		rc = store_check(st);
		cr_assert_eq(rc, NOID_ERR_CORRUPT);
		cr_assert_eq(store_corruption(st, &pgno), NOID_ERR_CORRUPT);
		cr_assert_eq(pgno, 6);
		store_close(st);
	} else
		cr_assert_eq(rc, NOID_ERR_CORRUPT);
	fixture_close(&f);
}

/* Find needle in every file of dir; returns the number of hits. */
static int
scan_dir(const char *dir, const void *needle, size_t nlen)
{
	static const char *const names[] = {
	    "noid.db", "noid.db-wal", "noid.db-shm", "key", "lock"};
	uint8_t *data;
	size_t i, len, off;
	int hits = 0;
	char *path;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		path = path_join(dir, names[i]);
		if (file_read_all(path, 1 << 28, &data, &len) == 0) {
			for (off = 0; off + nlen <= len; off++)
				hits += memcmp(data + off, needle, nlen) == 0;
			free(data);
		}
		free(path);
	}
	return hits;
}

/* Search for s in UTF-8, UTF-16LE and UTF-16BE (ASCII strings). */
static int
scan_all_forms(const char *dir, const char *s)
{
	size_t i, n = strlen(s);
	uint8_t *le = xcalloc(2, n), *be = xcalloc(2, n);
	int hits;

	for (i = 0; i < n; i++) {
		le[2 * i] = (uint8_t)s[i];
		be[2 * i + 1] = (uint8_t)s[i];
	}
	hits = scan_dir(dir, s, n) + scan_dir(dir, le, 2 * n) +
	    scan_dir(dir, be, 2 * n);
	free(le);
	free(be);
	return hits;
}

static const char *const canaries[] = {"CanaryProfileQx7", "CanaryContactZp4",
    "CanaryMessageWv9", "SQLite format 3"};

static void
assert_no_canary(const char *dir, const char *when)
{
	size_t i;

	for (i = 0; i < sizeof canaries / sizeof canaries[0]; i++)
		cr_assert_eq(scan_all_forms(dir, canaries[i]), 0, "%s found %s",
		    canaries[i], when);
}

Test(fault, canary_strings_never_reach_the_disk)
{
	char *dir = test_dir();
	struct store *st;
	uint8_t profile[STORE_ID_LEN], contact[STORE_ID_LEN],
	    conn[STORE_ID_LEN], ids[20][STORE_ID_LEN];
	char text[64];
	int i;

	cr_assert_eq(store_open(dir, TEST_PW, TEST_FLAGS, &st), 0);
	cr_assert_eq(store_profile_create(st, canaries[0], "d", profile), 0);
	cr_assert_eq(store_contact_add(st, profile, canaries[1], contact), 0);
	cr_assert_eq(store_conn_add(st, profile, contact, STORE_TRUST_QR,
	                 (const uint8_t *)canaries[1], 16, conn),
	    0);
	for (i = 0; i < 20; i++) {
		snprintf(text, sizeof text, "%s %d", canaries[2], i);
		cr_assert_eq(store_msg_add(st, profile, conn, STORE_DIR_IN, 0,
		                 text, strlen(text), ids[i]),
		    0);
	}
	assert_no_canary(dir, "while open (WAL)");
	cr_assert(test_file_exists(dir, "noid.db-wal"));
	cr_assert_not(test_file_exists(dir, "noid.db-shm"), "a -shm file");
	store_close(st);
	assert_no_canary(dir, "after close");
	cr_assert_not(test_file_exists(dir, "noid.db-shm"));
	cr_assert_eq(store_open(dir, TEST_PW, STORE_FAST_KDF, &st), 0);
	for (i = 0; i < 20; i++)
		cr_assert_eq(store_msg_delete(st, profile, ids[i]), 0);
	store_close(st);
	assert_no_canary(dir, "after delete and checkpoint");
	test_dir_remove(dir);
}

Test(fault, scanner_finds_plain_text_in_a_plain_store)
{
	char *dir = test_dir();
	struct store *st;
	uint8_t profile[STORE_ID_LEN];

	cr_assert_eq(store_open(dir, NULL, TEST_FLAGS | STORE_PLAIN, &st), 0);
	cr_assert_eq(store_profile_create(st, canaries[0], "d", profile), 0);
	store_close(st);
	cr_assert_gt(scan_all_forms(dir, canaries[0]), 0);
	cr_assert_gt(scan_all_forms(dir, canaries[3]), 0);
	test_dir_remove(dir);
}

/* The writer: ops until killed, reporting each committed message. */
static void
writer(const char *dir, int fd, int round)
{
	struct store *st;
	struct store_profile *p;
	struct store_incoming in = {.seq = 1};
	uint8_t id[STORE_ID_LEN], contact[STORE_ID_LEN], conn[STORE_ID_LEN];
	char text[64];
	size_t n;
	int i, j, rc;

	if (store_open(dir, TEST_PW, TEST_FLAGS, &st) != 0)
		_exit(2);
	if (store_profiles_list(st, &p, &n) != 0 || n != 1)
		_exit(3);
	contact[0] = 0;
	if (store_contact_add(st, p[0].id, "c", contact) != 0 ||
	    store_conn_add(
	        st, p[0].id, contact, STORE_TRUST_QR, NULL, 0, conn) != 0)
		_exit(4);
	for (i = 0;; i++) {
		int batch = i % 4 == 0 ? 5 : 1;

		rc = store_tx_begin(st);
		for (j = 0; j < batch && rc == 0; j++) {
			snprintf(
			    text, sizeof text, "r%d m%d", round, i * 10 + j);
			memcpy(in.id, &i, sizeof i);
			in.id[8] = (uint8_t)j;
			in.text = text;
			in.text_len = strlen(text);
			rc = j % 2
			    ? store_msg_add(st, p[0].id, conn, STORE_DIR_OUT, 0,
			          text, strlen(text), id)
			    : store_msg_incoming(st, p[0].id, conn, &in,
			          (const uint8_t *)text, in.text_len, NULL);
		}
		if (rc != 0 || store_tx_commit(st) != 0)
			_exit(5);
		for (j = 0; j < batch; j++) {
			int v = i * 10 + j;
			if (write(fd, &v, sizeof v) != sizeof v)
				_exit(6);
		}
	}
}

Test(fault, kill_9_at_random_points, .timeout = 600)
{
	struct fixture f;
	int round, fds[2], v, status;
	pid_t pid;
	struct store_hit *h;
	size_t n, committed = 0;
	char text[64];

	fixture_open(&f, 0);
	store_close(f.st);
	f.st = NULL;
	srand((unsigned)time(NULL));
	for (round = 0; round < 200; round++) {
		cr_assert_eq(pipe(fds), 0);
		pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			close(fds[0]);
			writer(f.dir, fds[1], round);
		}
		close(fds[1]);
		usleep((useconds_t)(rand() % 30000));
		kill(pid, SIGKILL);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFSIGNALED(status), "writer exited %d early",
		    WEXITSTATUS(status));
		cr_assert_eq(store_open(f.dir, TEST_PW, STORE_FAST_KDF, &f.st),
		    0, "reopen after round %d", round);
		cr_assert_eq(
		    store_check(f.st), 0, "check after round %d", round);
		/* Every message the writer saw committed is there. */
		while (read(fds[0], &v, sizeof v) == sizeof v) {
			snprintf(text, sizeof text, "\"r%d m%d\"", round, v);
			cr_assert_eq(store_search(f.st, f.profile, NULL, text,
			                 2, &h, &n),
			    0);
			cr_assert_eq(n, 1, "lost %s", text);
			free(h);
			committed++;
		}
		close(fds[0]);
		store_close(f.st);
		f.st = NULL;
	}
	cr_assert_gt(committed, 0);
	fixture_close(&f);
}

/* The permission bits of dir/name. */
static unsigned
file_mode(const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	struct stat sb;

	cr_assert_eq(stat(path, &sb), 0, "%s", name);
	free(path);
	return (unsigned)(sb.st_mode & 07777);
}

Test(fault, files_are_private_even_with_a_lax_umask)
{
	char *dir = test_dir(), *sub = path_join(dir, "data");
	static const char *const names[] = {
	    "noid.db", "noid.db-wal", "key", "lock"};
	struct store *st;
	uint8_t profile[STORE_ID_LEN];
	size_t i;

	umask(022);
	cr_assert_eq(store_open(sub, TEST_PW, TEST_FLAGS, &st), 0);
	cr_assert_eq(store_profile_create(st, "p", "d", profile), 0);
	cr_assert_eq(file_mode(dir, "data"), 0700u);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		cr_assert_eq(file_mode(sub, names[i]), 0600u, "%s is %o",
		    names[i], file_mode(sub, names[i]));
	cr_assert_not(test_file_exists(sub, "noid.db-shm"));
	store_close(st);
	/* A plain store (tests, benchmarks) is private too. */
	test_dir_remove(sub);
	sub = path_join(dir, "plain");
	cr_assert_eq(store_open(sub, NULL, TEST_FLAGS | STORE_PLAIN, &st), 0);
	cr_assert_eq(store_profile_create(st, "p", "d", profile), 0);
	cr_assert_eq(file_mode(sub, "noid.db"), 0600u);
	cr_assert_eq(file_mode(sub, "noid.db-wal"), 0600u);
	cr_assert_not(test_file_exists(sub, "noid.db-shm"));
	store_close(st);
	test_dir_remove(sub);
	test_dir_remove(dir);
}

Test(fault, change_password_rewraps_only)
{
	char *dir = test_dir(), *keypath = path_join(dir, "key");
	uint8_t profile[STORE_ID_LEN], db0[32], db1[32], key0[32], key1[32],
	    *raw = NULL;
	struct store_profile *p;
	struct store *st;
	size_t n, len;

	cr_assert_eq(store_open(dir, NULL, TEST_FLAGS, &st), 0);
	cr_assert_eq(store_profile_create(st, "before", "d", profile), 0);
	store_close(st);
	test_file_hash(dir, "noid.db", db0);
	test_file_hash(dir, "key", key0);

	/* No password to one: the fast flag holds even without one before. */
	cr_assert_eq(store_open(dir, NULL, STORE_FAST_KDF, &st), 0);
	cr_assert_eq(
	    store_change_password_flags(st, NULL, "fresh pw", STORE_FAST_KDF),
	    0);
	store_close(st);
	test_file_hash(dir, "noid.db", db1);
	test_file_hash(dir, "key", key1);
	cr_assert_eq(memcmp(db0, db1, 32), 0, "the database changed");
	cr_assert_neq(memcmp(key0, key1, 32), 0, "the key file did not");
	cr_assert_not(test_file_exists(dir, "noid.db-wal"));
	/* The new wrap uses the minimum Argon2 cost (opslimit at 12). */
	cr_assert_eq(file_read_all(keypath, 4096, &raw, &len), 0);
	cr_assert_eq(len, 116);
	cr_assert_eq(be64_get(raw + 12), crypto_pwhash_OPSLIMIT_MIN);
	cr_assert_eq(be64_get(raw + 20), crypto_pwhash_MEMLIMIT_MIN);
	free(raw);

	open_fails(dir, NULL, STORE_FAST_KDF, NOID_ERR_PASSWORD);
	cr_assert_eq(store_open(dir, "fresh pw", STORE_FAST_KDF, &st), 0);
	cr_assert_eq(store_profiles_list(st, &p, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(p[0].name, "before");
	store_profiles_free(p, n);
	store_close(st);
	free(keypath);
	test_dir_remove(dir);
}

Test(fault, longest_password_works_one_more_is_refused)
{
	char *dir = test_dir(), *pw = xcalloc(1, STORE_PASSWORD_MAX + 2);
	uint8_t profile[STORE_ID_LEN];
	struct store *st;

	memset(pw, 'x', STORE_PASSWORD_MAX);
	pw[17] = 'y';
	cr_assert_eq(store_open(dir, pw, TEST_FLAGS, &st), 0);
	cr_assert_eq(store_profile_create(st, "p", "d", profile), 0);
	store_close(st);
	cr_assert_eq(store_open(dir, pw, STORE_FAST_KDF, &st), 0);
	store_close(st);
	/* One byte off, or one byte more: refused, nothing changed. */
	pw[17] = 'x';
	open_fails(dir, pw, STORE_FAST_KDF, NOID_ERR_PASSWORD);
	pw[17] = 'y';
	pw[STORE_PASSWORD_MAX] = 'x';
	open_fails(dir, pw, STORE_FAST_KDF, NOID_ERR_TOOBIG);
	free(pw);
	test_dir_remove(dir);
}

Test(fault, damage_late_in_the_file_leaves_early_tables_readable)
{
	struct fixture f;
	struct store_profile *p;
	struct store_conn c;
	struct store *st;
	struct stat sb;
	uint32_t pgno = 0;
	char *path;
	size_t n;

	fixture_open(&f, 0);
	fill_and_close(&f);
	/* Flip a byte in the last page: message data, written last. */
	path = path_join(f.dir, "noid.db");
	cr_assert_eq(stat(path, &sb), 0);
	free(path);
	flip_byte(f.dir, sb.st_size - 4096 + 100, 0x01);
	cr_assert_eq(store_open(f.dir, TEST_PW, STORE_FAST_KDF, &st), 0);
	cr_assert_eq(store_check(st), NOID_ERR_CORRUPT);
	cr_assert_eq(store_corruption(st, &pgno), NOID_ERR_CORRUPT);
	cr_assert_eq(pgno, (uint32_t)(sb.st_size / 4096));
	/* What lives elsewhere still reads. */
	cr_assert_eq(store_profiles_list(st, &p, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(p[0].name, "alice");
	store_profiles_free(p, n);
	cr_assert_eq(store_conn_get(st, f.profile, f.conn, &c), 0);
	cr_assert_eq(c.info_len, 5);
	store_conn_clear(&c);
	store_close(st);
	fixture_close(&f);
}
