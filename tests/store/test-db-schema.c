/*
 * Tests for store/db-schema.c: a database written at every earlier
 * schema version (with that version's sample data) upgrades to the
 * latest, keeps its data and passes the checks; one from a newer noid
 * is refused and left byte-for-byte alone.
 */
#include "store-test.h"

Test(schema, upgrades_from_every_earlier_version)
{
	struct store_profile *p;
	struct store_msg *m, *m2;
	struct store_hit *h;
	struct store *st;
	uint8_t id[STORE_ID_LEN], x[STORE_ID_LEN], c1[STORE_ID_LEN];
	char want[32];
	size_t n;
	int v;

	cr_assert_geq(store_schema_latest(), 3);
	for (v = 1; v <= store_schema_latest(); v++) {
		char *dir = test_dir();

		cr_assert_eq(store_test_create_at(dir, v), 0);
		cr_assert_eq(
		    store_open(dir, NULL, STORE_PLAIN, &st), 0, "open v%d", v);
		cr_assert_eq(store_schema_version(st), store_schema_latest());
		cr_assert_eq(
		    store_check(st), 0, "check after upgrade from v%d", v);
		cr_assert_eq(store_profiles_list(st, &p, &n), 0);
		cr_assert_eq(n, 1);
		snprintf(want, sizeof want, "sample v%d", v);
		cr_assert_str_eq(p[0].name, want);
		/* Text written before FTS existed is searchable now. */
		cr_assert_eq(
		    store_search(st, p[0].id, NULL, "sample", 10, &h, &n), 0);
		cr_assert_eq(n, 1);
		free(h);
		/* Both messages, newest first, the sent one's status kept. */
		memset(c1, 0, sizeof c1);
		c1[STORE_ID_LEN - 1] = 0xc1;
		cr_assert_eq(
		    store_msgs_page(st, p[0].id, c1, NULL, 10, &m, &n), 0);
		cr_assert_eq(n, 2, "messages after upgrade from v%d", v);
		cr_assert_str_eq(m[0].text, "old reply");
		cr_assert_eq(m[0].dir, STORE_DIR_OUT);
		cr_assert_eq(m[0].status, STORE_STATUS_SENT, "v%d", v);
		cr_assert_str_eq(m[1].text, "sample message");
		cr_assert_eq(m[1].status, STORE_STATUS_NONE);
		cr_assert_eq(
		    store_msgs_page(st, p[0].id, c1, m[0].id, 10, &m2, &n), 0);
		cr_assert_eq(n, 1);
		cr_assert_str_eq(m2[0].text, "sample message");
		store_msgs_free(m2, n);
		store_msgs_free(m, 2);
		store_profiles_free(p, 1);
		/* And the upgraded database takes new work. */
		cr_assert_eq(store_profile_create(st, "new", "d", id), 0);
		cr_assert_eq(store_contact_add(st, id, "c", x), 0);
		cr_assert_eq(store_check(st), 0);
		store_close(st);
		/* Reopening an up-to-date database changes nothing. */
		cr_assert_eq(store_open(dir, NULL, STORE_PLAIN, &st), 0);
		store_close(st);
		test_dir_remove(dir);
	}
	cr_assert_eq(store_test_create_at("/tmp/x", 0), NOID_ERR_INVAL);
}

Test(schema, newer_version_is_refused_unchanged)
{
	char *dir = test_dir();
	uint8_t before[32], after[32];
	struct store *st = NULL;

	cr_assert_eq(store_test_create_at(dir, store_schema_latest() + 1), 0);
	test_file_hash(dir, "noid.db", before);
	cr_assert_eq(store_open(dir, NULL, STORE_PLAIN, &st), NOID_ERR_VERSION);
	cr_assert_null(st);
	test_file_hash(dir, "noid.db", after);
	cr_assert_eq(memcmp(before, after, 32), 0);
	test_dir_remove(dir);
}
