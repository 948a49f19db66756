/*
 * Tests for store/db-archive.c: a profile exported and imported into
 * another data dir comes back whole (same projection digest, same agent
 * state); wrong password, damaged, truncated or cancelled imports fail
 * clearly and change nothing.
 */
#include "store-test.h"

struct progress {
	uint64_t calls, last, total;
	int cancel_at;
};

static int
on_progress(uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;

	cr_assert_gt(done, p->last, "progress goes forward");
	cr_assert_leq(done, total);
	p->last = done;
	p->total = total;
	p->calls++;
	return p->cancel_at != 0 && done >= (uint64_t)p->cancel_at;
}

/* A populated source store and its archive path. */
struct arc_fixture {
	struct fixture f;
	char *path;
	uint8_t digest[32];
};

static void
arc_setup(struct arc_fixture *a)
{
	struct store_incoming in = {.id = {5},
	    .ts_ms = 50,
	    .seq = 1,
	    .text = "incoming",
	    .text_len = 8};
	uint8_t id[STORE_ID_LEN], prev[STORE_HASH_LEN];
	char text[32];
	uint64_t seq;
	int i;

	fixture_open(&a->f, 0);
	for (i = 0; i < 40; i++) {
		snprintf(text, sizeof text, "archived %d", i);
		cr_assert_eq(store_msg_add(a->f.st, a->f.profile, a->f.conn,
		                 STORE_DIR_IN, 100 + (uint64_t)i, text,
		                 strlen(text), id),
		    0);
	}
	cr_assert_eq(store_msg_edit(a->f.st, a->f.profile, id, "edited", 6), 0);
	cr_assert_eq(store_msg_incoming(a->f.st, a->f.profile, a->f.conn, &in,
	                 (const uint8_t *)"ratchet", 7, NULL),
	    0);
	cr_assert_eq(store_send_reserve(a->f.st, a->f.profile, a->f.conn, "out",
	                 3, id, &seq, prev),
	    0);
	cr_assert_eq(store_setting_set(a->f.st, a->f.profile, "k", "v"), 0);
	cr_assert_eq(
	    store_projection_digest(a->f.st, a->f.profile, a->digest), 0);
	a->path = path_join(a->f.dir, "backup.noid");
}

static void
arc_teardown(struct arc_fixture *a)
{
	free(a->path);
	fixture_close(&a->f);
}

Test(archive, export_then_import_restores_everything)
{
	struct arc_fixture a;
	struct progress pe = {0}, pi = {0};
	uint8_t got[32], profile[STORE_ID_LEN], *blob;
	struct store_conn c;
	struct store_hit *h;
	char *dir2 = test_dir();
	struct store *st2;
	size_t len, n;

	arc_setup(&a);
	cr_assert_eq(store_export(a.f.st, a.f.profile, a.path, "archive pw",
	                 STORE_FAST_KDF, on_progress, &pe),
	    0);
	cr_assert_eq(pe.last, pe.total);
	cr_assert_gt(pe.total, 40);
	cr_assert_eq(store_open(dir2, TEST_PW, TEST_FLAGS, &st2), 0);
	cr_assert_eq(
	    store_import(st2, a.path, "archive pw", on_progress, &pi, profile),
	    0);
	cr_assert_eq(pi.last, pe.total);
	cr_assert(memcmp(profile, a.f.profile, STORE_ID_LEN) == 0);
	cr_assert_eq(store_projection_digest(st2, profile, got), 0);
	cr_assert_eq(memcmp(got, a.digest, 32), 0);
	cr_assert_eq(
	    store_conn_state_get(st2, profile, a.f.conn, &blob, &len), 0);
	cr_assert(len == 7 && memcmp(blob, "ratchet", 7) == 0);
	free(blob);
	cr_assert_eq(store_conn_get(st2, profile, a.f.conn, &c), 0);
	cr_assert_eq(c.send_seq, 1);
	cr_assert_eq(c.recv_seq, 1);
	store_conn_clear(&c);
	cr_assert_eq(
	    store_search(st2, profile, NULL, "archived", 100, &h, &n), 0);
	cr_assert_eq(n, 39); /* one was edited */
	free(h);
	/* The imported device can keep writing as itself. */
	cr_assert_eq(store_setting_set(st2, profile, "k", "after"), 0);
	cr_assert_eq(store_check(st2), 0);
	/* Twice: the profile is already here. */
	cr_assert_eq(store_import(st2, a.path, "archive pw", NULL, NULL, NULL),
	    NOID_ERR_EXISTS);
	store_close(st2);
	test_dir_remove(dir2);
	arc_teardown(&a);
}

/* How many of st's messages wait in the outbox; *out gets the first's text. */
static size_t
queued(struct store *st, const uint8_t *profile, char out[16])
{
	struct store_msg *m;
	size_t n;

	cr_assert_eq(store_outbox_queued(st, profile, &m, &n), 0);
	out[0] = '\0';
	if (n > 0)
		snprintf(out, 16, "%.*s", (int)m[0].text_len, m[0].text);
	store_msgs_free(m, n);
	return n;
}

/* Sent and bulk-loaded outgoing history is not sent again after an
 * import; only what was never sent still waits. */
Test(archive, imported_sent_history_is_not_queued_again)
{
	struct arc_fixture a;
	uint8_t id[STORE_ID_LEN], prev[STORE_HASH_LEN], hash[STORE_HASH_LEN];
	uint8_t profile[STORE_ID_LEN];
	char *dir2 = test_dir(), text[16];
	struct store *st2;
	struct store_msg m;
	uint64_t seq;

	arc_setup(&a);
	cr_assert_eq(store_send_reserve(a.f.st, a.f.profile, a.f.conn, "went",
	                 4, id, &seq, prev),
	    0);
	memset(hash, 7, sizeof hash);
	cr_assert_eq(
	    store_send_record(a.f.st, a.f.profile, id, hash, NULL, 0), 0);
	cr_assert_eq(store_msg_add(a.f.st, a.f.profile, a.f.conn, STORE_DIR_OUT,
	                 1000, "old sent", 8, id),
	    0);
	cr_assert_eq(store_msg_get(a.f.st, a.f.profile, id, &m), 0);
	cr_assert_eq(m.dir, STORE_DIR_OUT);
	cr_assert_eq(m.status, STORE_STATUS_NONE);
	store_msg_clear(&m);
	/* The fixture's reserved, never sent "out" is the only one. */
	cr_assert_eq(queued(a.f.st, a.f.profile, text), 1);
	cr_assert_str_eq(text, "out");
	cr_assert_eq(store_export(a.f.st, a.f.profile, a.path, "archive pw",
	                 STORE_FAST_KDF, NULL, NULL),
	    0);
	cr_assert_eq(store_open(dir2, TEST_PW, TEST_FLAGS, &st2), 0);
	cr_assert_eq(
	    store_import(st2, a.path, "archive pw", NULL, NULL, profile), 0);
	cr_assert_eq(queued(st2, profile, text), 1);
	cr_assert_str_eq(text, "out");
	store_close(st2);
	test_dir_remove(dir2);
	arc_teardown(&a);
}

/* Import must fail with want and leave the target without profiles. */
static void
import_fails(const char *path, const char *pw, int want, int cancel_at)
{
	char *dir2 = test_dir();
	struct store *st2;
	struct store_profile *p;
	struct progress pr = {.cancel_at = cancel_at};
	size_t n;

	cr_assert_eq(store_open(dir2, TEST_PW, TEST_FLAGS, &st2), 0);
	cr_assert_eq(store_import(st2, path, pw, on_progress, &pr, NULL), want);
	cr_assert_eq(store_profiles_list(st2, &p, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_check(st2), 0);
	store_close(st2);
	test_dir_remove(dir2);
}

/* Rewrite the archive with a change made by edit. */
static void
rewrite(const char *path, size_t keep, long flip)
{
	uint8_t *data;
	size_t len;

	cr_assert_eq(file_read_all(path, 1 << 26, &data, &len), 0);
	if (flip >= 0)
		data[flip] ^= 0x40;
	cr_assert_eq(
	    file_write_atomic(path, data, keep < len ? keep : len, 0600), 0);
	free(data);
}

Test(archive, bad_archives_and_passwords_change_nothing)
{
	struct arc_fixture a;
	uint8_t *data;
	size_t len;

	arc_setup(&a);
	cr_assert_eq(store_export(a.f.st, a.f.profile, a.path, "archive pw",
	                 STORE_FAST_KDF, NULL, NULL),
	    0);
	cr_assert_eq(file_read_all(a.path, 1 << 26, &data, &len), 0);
	free(data);
	import_fails(a.path, "wrong pw", NOID_ERR_PASSWORD, 0);
	import_fails(a.path, "", NOID_ERR_PASSWORD, 0);
	import_fails(a.path, "archive pw", NOID_ERR_STATE, 10); /* cancel */
	rewrite(a.path, len, (long)len / 2);
	import_fails(a.path, "archive pw", NOID_ERR_CORRUPT, 0);
	rewrite(a.path, len, (long)len / 2); /* flip it back */
	rewrite(a.path, len - 30, -1); /* no FINAL record */
	import_fails(a.path, "archive pw", NOID_ERR_CORRUPT, 0);
	rewrite(a.path, 20, -1);
	import_fails(a.path, "archive pw", NOID_ERR_CORRUPT, 0);
	import_fails("/nonexistent/x", "archive pw", NOID_ERR_NOENT, 0);
	arc_teardown(&a);
}
