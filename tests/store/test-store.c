/*
 * Tests for the store's public API as the agent and the TUI use it:
 * the data dir and its lock, profiles, contacts, connections and agent
 * state, incoming messages, sends and receipts, paging, search, read
 * markers, settings and transactions.
 */
#include <sys/stat.h>

#include "store-test.h"

Test(store, creates_private_dir_and_lock_naming_holder)
{
	char *dir = test_dir(), *sub = path_join(dir, "a/b");
	struct store *st, *st2 = NULL;
	struct stat sb;
	long pid = 0;

	cr_assert_eq(
	    store_open(sub, TEST_PW, STORE_FAST_KDF, &st), NOID_ERR_NOENT);
	cr_assert_eq(store_open(sub, TEST_PW, TEST_FLAGS, &st), 0);
	cr_assert_eq(stat(sub, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0700);
	cr_assert_eq(
	    store_open(sub, TEST_PW, TEST_FLAGS, &st2), NOID_ERR_LOCKED);
	cr_assert_null(st2);
	cr_assert_eq(store_lock_holder(sub, &pid), 0);
	cr_assert_eq(pid, (long)getpid());
	store_close(st);
	cr_assert_eq(store_open(sub, TEST_PW, STORE_FAST_KDF, &st2), 0);
	cr_assert_eq(store_check(st2), 0);
	cr_assert_eq(store_schema_version(st2), store_schema_latest());
	store_close(st2);
	free(sub);
	test_dir_remove(dir);
}

Test(store, profiles_fields_and_settings)
{
	struct fixture f;
	struct store_profile *p;
	uint8_t id2[STORE_ID_LEN];
	size_t n;
	char *v;

	fixture_open(&f, 0);
	cr_assert_eq(store_profile_create(f.st, "work", "laptop", id2), 0);
	cr_assert_eq(store_profile_set(f.st, f.profile, "status", "away"), 0);
	cr_assert_eq(store_profile_set(f.st, f.profile, "name", "Alice"), 0);
	cr_assert_eq(
	    store_profile_set(f.st, f.profile, "nope", "x"), NOID_ERR_INVAL);
	cr_assert_eq(store_profiles_list(f.st, &p, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(p[0].name, "Alice");
	cr_assert_str_eq(p[0].status, "away");
	cr_assert_str_eq(p[1].name, "work");
	store_profiles_free(p, n);

	cr_assert_eq(
	    store_setting_get(f.st, f.profile, "theme", &v), NOID_ERR_NOENT);
	cr_assert_eq(store_setting_set(f.st, f.profile, "theme", "dark"), 0);
	cr_assert_eq(store_setting_set(f.st, f.profile, "theme", "light"), 0);
	cr_assert_eq(store_setting_get(f.st, f.profile, "theme", &v), 0);
	cr_assert_str_eq(v, "light");
	free(v);
	cr_assert_eq(store_setting_set(f.st, f.profile, "theme", NULL), 0);
	cr_assert_eq(
	    store_setting_get(f.st, f.profile, "theme", &v), NOID_ERR_NOENT);
	/* Settings are per profile. */
	cr_assert_eq(store_setting_set(f.st, id2, "theme", "x"), 0);
	cr_assert_eq(
	    store_setting_get(f.st, f.profile, "theme", &v), NOID_ERR_NOENT);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

Test(store, contacts_and_connections)
{
	struct fixture f;
	struct store_contact *c;
	struct store_conn conn, *cl;
	uint8_t carol[STORE_ID_LEN], bogus[STORE_ID_LEN] = {9}, *blob;
	size_t n, len;

	fixture_open(&f, 0);
	cr_assert_eq(store_contact_add(f.st, f.profile, "carol", carol), 0);
	cr_assert_eq(
	    store_contact_set_alias(f.st, f.profile, f.contact, "Bobby"), 0);
	cr_assert_eq(store_contacts_list(f.st, f.profile, &c, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(c[0].alias, "Bobby");
	cr_assert_str_eq(c[1].alias, "carol");
	store_contacts_free(c, n);

	cr_assert_eq(store_conn_get(f.st, f.profile, f.conn, &conn), 0);
	cr_assert_eq(conn.trust, STORE_TRUST_QR);
	cr_assert_eq(conn.info_len, 5);
	cr_assert(memcmp(conn.info, "queue", 5) == 0);
	store_conn_clear(&conn);
	cr_assert_eq(
	    store_conn_set_trust(f.st, f.profile, f.conn, STORE_TRUST_VERIFIED),
	    0);
	cr_assert_eq(
	    store_conn_set_trust(f.st, f.profile, f.conn, 7), NOID_ERR_INVAL);
	cr_assert_eq(store_conn_set_info(
	                 f.st, f.profile, f.conn, (const uint8_t *)"q2", 2),
	    0);
	cr_assert_eq(store_conns_list(f.st, f.profile, f.contact, &cl, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(cl[0].trust, STORE_TRUST_VERIFIED);
	cr_assert_eq(cl[0].info_len, 2);
	store_conns_free(cl, n);

	cr_assert_eq(store_conn_state_get(f.st, f.profile, f.conn, &blob, &len),
	    NOID_ERR_NOENT);
	cr_assert_eq(store_conn_state_put(f.st, f.profile, f.conn,
	                 (const uint8_t *)"ratchet1", 8),
	    0);
	cr_assert_eq(store_conn_state_put(
	                 f.st, f.profile, bogus, (const uint8_t *)"x", 1),
	    NOID_ERR_NOENT);
	cr_assert_eq(
	    store_conn_state_get(f.st, f.profile, f.conn, &blob, &len), 0);
	cr_assert_eq(len, 8);
	cr_assert(memcmp(blob, "ratchet1", 8) == 0);
	free(blob);

	cr_assert_eq(store_conn_delete(f.st, f.profile, f.conn), 0);
	cr_assert_eq(
	    store_conn_get(f.st, f.profile, f.conn, &conn), NOID_ERR_NOENT);
	cr_assert_eq(store_conn_state_get(f.st, f.profile, f.conn, &blob, &len),
	    NOID_ERR_NOENT);
	cr_assert_eq(store_contact_delete(f.st, f.profile, carol), 0);
	cr_assert_eq(
	    store_contact_delete(f.st, f.profile, carol), NOID_ERR_NOENT);
	cr_assert_eq(store_contacts_list(f.st, f.profile, &c, &n), 0);
	cr_assert_eq(n, 1);
	store_contacts_free(c, n);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

Test(store, incoming_message_and_state_in_one_commit)
{
	struct fixture f;
	struct store_incoming in = {.id = {1},
	    .ts_ms = 1000,
	    .seq = 1,
	    .hash = {0xaa},
	    .text = "hello alice",
	    .text_len = 11};
	struct store_msg *m;
	struct store_conn c;
	uint8_t *blob;
	size_t n, len;
	int dup = -1;

	fixture_open(&f, 0);
	cr_assert_eq(store_msg_incoming(f.st, f.profile, f.conn, &in,
	                 (const uint8_t *)"state-1", 7, &dup),
	    0);
	cr_assert_eq(dup, 0);
	/* The same message again: not stored twice, state still saved. */
	cr_assert_eq(store_msg_incoming(f.st, f.profile, f.conn, &in,
	                 (const uint8_t *)"state-2", 7, &dup),
	    0);
	cr_assert_eq(dup, 1);
	cr_assert_eq(
	    store_conn_state_get(f.st, f.profile, f.conn, &blob, &len), 0);
	cr_assert(len == 7 && memcmp(blob, "state-2", 7) == 0);
	free(blob);
	cr_assert_eq(
	    store_msgs_page(f.st, f.profile, f.contact, NULL, 10, &m, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(m[0].text, "hello alice");
	cr_assert_eq(m[0].dir, STORE_DIR_IN);
	cr_assert_eq(m[0].seq, 1);
	cr_assert_eq(m[0].hash[0], 0xaa);
	store_msgs_free(m, n);
	cr_assert_eq(store_conn_get(f.st, f.profile, f.conn, &c), 0);
	cr_assert_eq(c.recv_seq, 1);
	cr_assert_eq(c.recv_hash[0], 0xaa);
	store_conn_clear(&c);

	/* A failing call inside the agent's transaction undoes only itself;
	 * rolling the transaction back undoes the rest. */
	in.id[0] = 2;
	in.seq = 2;
	cr_assert_eq(store_tx_begin(f.st), 0);
	cr_assert_eq(store_msg_incoming(f.st, f.profile, f.conn, &in,
	                 (const uint8_t *)"state-3", 7, NULL),
	    0);
	store_tx_rollback(f.st);
	cr_assert_eq(
	    store_msgs_page(f.st, f.profile, f.contact, NULL, 10, &m, &n), 0);
	cr_assert_eq(n, 1);
	store_msgs_free(m, n);
	cr_assert_eq(
	    store_conn_state_get(f.st, f.profile, f.conn, &blob, &len), 0);
	cr_assert(len == 7 && memcmp(blob, "state-2", 7) == 0);
	free(blob);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

Test(store, incoming_messages_list_in_the_order_received)
{
	/* Three sealed in the same millisecond, one under a clock stepped
	 * back, one later: the listing must not fall back on the ids. */
	static const uint64_t sent[] = {1000, 1000, 1000, 900, 5000};
	static const uint64_t kept[] = {1000, 1001, 1002, 1003, 5000};
	struct store_incoming in = {.text = "m", .text_len = 1};
	struct fixture f;
	struct store_msg *m;
	size_t n, i;

	fixture_open(&f, 0);
	for (i = 0; i < 5; i++) {
		in.id[0] = (uint8_t)(i + 1);
		in.seq = i + 1;
		in.ts_ms = sent[i];
		cr_assert_eq(store_msg_incoming(f.st, f.profile, f.conn, &in,
		                 (const uint8_t *)"s", 1, NULL),
		    0);
	}
	cr_assert_eq(
	    store_msgs_page(f.st, f.profile, f.contact, NULL, 10, &m, &n), 0);
	cr_assert_eq(n, 5);
	for (i = 0; i < n; i++) {
		/* Newest first. */
		cr_assert_eq(m[i].seq, 5 - i, "row %zu has seq %llu", i,
		    (unsigned long long)m[i].seq);
		cr_assert_eq(m[i].ts_ms, kept[4 - i]);
	}
	store_msgs_free(m, n);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

Test(store, send_reserve_record_receipt)
{
	struct fixture f;
	uint8_t id1[STORE_ID_LEN], id2[STORE_ID_LEN], prev[STORE_HASH_LEN];
	uint8_t h1[STORE_HASH_LEN] = {1}, h2[STORE_HASH_LEN] = {2};
	static const uint8_t zero[STORE_HASH_LEN];
	struct store_msg *q, m;
	uint64_t seq;
	size_t n;

	fixture_open(&f, 0);
	cr_assert_eq(store_send_reserve(
	                 f.st, f.profile, f.conn, "one", 3, id1, &seq, prev),
	    0);
	cr_assert_eq(seq, 1);
	cr_assert(memcmp(prev, zero, sizeof zero) == 0);
	cr_assert_eq(store_outbox_queued(f.st, f.profile, &q, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert(memcmp(q[0].id, id1, STORE_ID_LEN) == 0);
	cr_assert_eq(q[0].status, STORE_STATUS_QUEUED);
	store_msgs_free(q, n);

	cr_assert_eq(store_send_record(
	                 f.st, f.profile, id1, h1, (const uint8_t *)"s1", 2),
	    0);
	cr_assert_eq(store_send_record(
	                 f.st, f.profile, id1, h1, (const uint8_t *)"s1", 2),
	    NOID_ERR_STATE);
	cr_assert_eq(store_send_reserve(
	                 f.st, f.profile, f.conn, "two", 3, id2, &seq, prev),
	    0);
	cr_assert_eq(seq, 2);
	cr_assert(memcmp(prev, h1, sizeof h1) == 0);
	cr_assert_eq(store_outbox_queued(f.st, f.profile, &q, &n), 0);
	cr_assert_eq(n, 1);
	store_msgs_free(q, n);

	cr_assert_eq(
	    store_receipt(f.st, f.profile, f.conn, h2), NOID_ERR_NOENT);
	cr_assert_eq(store_receipt(f.st, f.profile, f.conn, h1), 0);
	cr_assert_eq(store_receipt(f.st, f.profile, f.conn, h1), 0);
	cr_assert_eq(store_msg_get(f.st, f.profile, id1, &m), 0);
	cr_assert_eq(m.status, STORE_STATUS_DELIVERED);
	cr_assert_eq(m.dir, STORE_DIR_OUT);
	cr_assert_str_eq(m.text, "one");
	store_msg_clear(&m);
	cr_assert_eq(store_msg_get(f.st, f.profile, id2, &m), 0);
	cr_assert_eq(m.status, STORE_STATUS_QUEUED);
	store_msg_clear(&m);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

Test(store, paging_newest_first_then_backwards)
{
	struct fixture f;
	uint8_t ids[57][STORE_ID_LEN], before[STORE_ID_LEN];
	struct store_msg *m;
	char text[32];
	size_t i, n, seen = 0;
	int first = 1;

	fixture_open(&f, 0);
	cr_assert_eq(store_tx_begin(f.st), 0);
	for (i = 0; i < 57; i++) {
		snprintf(text, sizeof text, "message %zu", i);
		cr_assert_eq(store_msg_add(f.st, f.profile, f.conn,
		                 i % 2 ? STORE_DIR_IN : STORE_DIR_OUT, 1000 + i,
		                 text, strlen(text), ids[i]),
		    0);
	}
	cr_assert_eq(store_tx_commit(f.st), 0);
	for (;;) {
		cr_assert_eq(store_msgs_page(f.st, f.profile, f.contact,
		                 first ? NULL : before, 10, &m, &n),
		    0);
		first = 0;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			cr_assert(
			    memcmp(m[i].id, ids[56 - seen], STORE_ID_LEN) == 0,
			    "page order at %zu", seen);
			seen++;
		}
		memcpy(before, m[n - 1].id, STORE_ID_LEN);
		store_msgs_free(m, n);
	}
	cr_assert_eq(seen, 57);
	fixture_close(&f);
}

Test(store, search_edit_delete_and_read_markers)
{
	struct fixture f;
	uint8_t c2[STORE_ID_LEN], conn2[STORE_ID_LEN], a[STORE_ID_LEN],
	    b[STORE_ID_LEN], c[STORE_ID_LEN];
	struct store_hit *h;
	struct store_msg m;
	uint64_t unread;
	size_t n;

	fixture_open(&f, 0);
	cr_assert_eq(store_contact_add(f.st, f.profile, "carol", c2), 0);
	cr_assert_eq(store_conn_add(
	                 f.st, f.profile, c2, STORE_TRUST_TEXT, NULL, 0, conn2),
	    0);
	cr_assert_eq(store_msg_add(f.st, f.profile, f.conn, STORE_DIR_IN, 10,
	                 "the purple elephant", 19, a),
	    0);
	cr_assert_eq(store_msg_add(f.st, f.profile, f.conn, STORE_DIR_IN, 20,
	                 "grüße aus Köln", strlen("grüße aus Köln"), b),
	    0);
	cr_assert_eq(store_msg_add(f.st, f.profile, conn2, STORE_DIR_IN, 30,
	                 "a purple-ish hat", 16, c),
	    0);

	cr_assert_eq(
	    store_search(f.st, f.profile, NULL, "purple", 10, &h, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert(memcmp(h[0].msg, c, STORE_ID_LEN) == 0); /* newest first */
	cr_assert(memcmp(h[0].conv, c2, STORE_ID_LEN) == 0);
	free(h);
	cr_assert_eq(
	    store_search(f.st, f.profile, f.contact, "purple", 10, &h, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert(memcmp(h[0].msg, a, STORE_ID_LEN) == 0);
	free(h);
	cr_assert_eq(
	    store_search(f.st, f.profile, NULL, "koln", 10, &h, &n), 0);
	cr_assert_eq(n, 1);
	free(h);
	cr_assert_eq(
	    store_search(f.st, f.profile, NULL, "eleph*", 10, &h, &n), 0);
	cr_assert_eq(n, 1);
	free(h);
	/* Syntax characters are just text. */
	cr_assert_eq(
	    store_search(f.st, f.profile, NULL, "\"AND (", 10, &h, &n), 0);
	cr_assert_eq(n, 0);
	free(h);
	cr_assert_eq(store_search(f.st, f.profile, NULL, "  ", 10, &h, &n),
	    NOID_ERR_INVAL);

	cr_assert_eq(
	    store_msg_edit(f.st, f.profile, a, "the green elephant", 18), 0);
	cr_assert_eq(store_msg_get(f.st, f.profile, a, &m), 0);
	cr_assert_str_eq(m.text, "the green elephant");
	cr_assert_eq(m.edited, 1);
	store_msg_clear(&m);
	cr_assert_eq(
	    store_search(f.st, f.profile, f.contact, "purple", 10, &h, &n), 0);
	cr_assert_eq(n, 0);
	free(h);
	cr_assert_eq(store_msg_delete(f.st, f.profile, a), 0);
	cr_assert_eq(
	    store_msg_edit(f.st, f.profile, a, "x", 1), NOID_ERR_NOENT);
	cr_assert_eq(store_msg_get(f.st, f.profile, a, &m), 0);
	cr_assert_eq(m.deleted, 1);
	cr_assert_str_eq(m.text, "");
	store_msg_clear(&m);
	cr_assert_eq(
	    store_search(f.st, f.profile, NULL, "elephant", 10, &h, &n), 0);
	cr_assert_eq(n, 0);
	free(h);

	/* Read markers: unread counts incoming after the marker only. */
	cr_assert_eq(
	    store_unread_count(f.st, f.profile, f.contact, &unread), 0);
	cr_assert_eq(unread, 1); /* a is deleted, b is unread */
	cr_assert_eq(store_read_mark(f.st, f.profile, f.contact, b), 0);
	cr_assert_eq(
	    store_unread_count(f.st, f.profile, f.contact, &unread), 0);
	cr_assert_eq(unread, 0);
	cr_assert_eq(store_read_mark(f.st, f.profile, f.contact, c),
	    NOID_ERR_NOENT); /* c is in another conversation */
	cr_assert_eq(store_unread_count(f.st, f.profile, c2, &unread), 0);
	cr_assert_eq(unread, 1);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

Test(store, deleting_a_contact_removes_its_conversation)
{
	struct fixture f;
	uint8_t a[STORE_ID_LEN];
	struct store_msg *m;
	struct store_hit *h;
	size_t n;

	fixture_open(&f, 0);
	cr_assert_eq(store_msg_add(f.st, f.profile, f.conn, STORE_DIR_OUT, 0,
	                 "secret plans", 12, a),
	    0);
	cr_assert_eq(store_contact_delete(f.st, f.profile, f.contact), 0);
	cr_assert_eq(
	    store_msgs_page(f.st, f.profile, f.contact, NULL, 10, &m, &n), 0);
	cr_assert_eq(n, 0);
	free(m);
	cr_assert_eq(
	    store_search(f.st, f.profile, NULL, "plans", 10, &h, &n), 0);
	cr_assert_eq(n, 0);
	free(h);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

Test(store, bad_arguments_are_refused)
{
	struct fixture f;
	uint8_t id[STORE_ID_LEN], bogus[STORE_ID_LEN] = {7};
	char *big = xcalloc(1, STORE_TEXT_MAX + 2);

	memset(big, 'x', STORE_TEXT_MAX + 1);
	fixture_open(&f, 0);
	cr_assert_eq(store_msg_add(f.st, f.profile, f.conn, STORE_DIR_IN, 0,
	                 big, STORE_TEXT_MAX + 1, id),
	    NOID_ERR_TOOBIG);
	cr_assert_eq(
	    store_msg_add(f.st, f.profile, bogus, STORE_DIR_IN, 0, "x", 1, id),
	    NOID_ERR_NOENT);
	cr_assert_eq(store_msg_add(f.st, f.profile, f.conn, 9, 0, "x", 1, id),
	    NOID_ERR_INVAL);
	cr_assert_eq(store_contact_add(f.st, bogus, "x", id), NOID_ERR_NOENT);
	cr_assert_eq(
	    store_conn_add(f.st, f.profile, bogus, STORE_TRUST_QR, NULL, 0, id),
	    NOID_ERR_NOENT);
	cr_assert_eq(store_tx_commit(f.st), NOID_ERR_STATE);
	cr_assert_eq(store_check(f.st), 0);
	free(big);
	fixture_close(&f);
}

/*
 * Text is NUL-terminated for every reader, so a NUL inside it is
 * refused by each way in, and nothing is recorded.
 */
Test(store, message_text_with_a_nul_is_refused)
{
	static const char nul_text[] = "a\0bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	struct fixture f;
	struct store_msg m, *q;
	uint8_t id[STORE_ID_LEN], msg[STORE_ID_LEN], prev[STORE_HASH_LEN];
	uint64_t seq;
	size_t n;

	fixture_open(&f, 0);
	cr_assert_eq(store_msg_add(f.st, f.profile, f.conn, STORE_DIR_IN, 0,
	                 nul_text, sizeof nul_text - 1, id),
	    NOID_ERR_INVAL);
	cr_assert_eq(store_send_reserve(f.st, f.profile, f.conn, nul_text,
	                 sizeof nul_text - 1, id, &seq, prev),
	    NOID_ERR_INVAL);
	cr_assert_eq(store_outbox_queued(f.st, f.profile, &q, &n), 0);
	cr_assert_eq(n, 0);
	store_msgs_free(q, n);
	cr_assert_eq(
	    store_msgs_page(f.st, f.profile, f.contact, NULL, 10, &q, &n), 0);
	cr_assert_eq(n, 0);
	store_msgs_free(q, n);

	cr_assert_eq(store_msg_add(f.st, f.profile, f.conn, STORE_DIR_IN, 0,
	                 "hello", 5, msg),
	    0);
	cr_assert_eq(
	    store_msg_edit(f.st, f.profile, msg, nul_text, sizeof nul_text - 1),
	    NOID_ERR_INVAL);
	cr_assert_eq(store_msg_get(f.st, f.profile, msg, &m), 0);
	cr_assert_str_eq(m.text, "hello");
	cr_assert_eq(m.text_len, 5);
	cr_assert_eq(m.edited, 0);
	store_msg_clear(&m);
	cr_assert_eq(store_check(f.st), 0);
	fixture_close(&f);
}

/*
 * A store made with the test-only cheap KDF keeps it while tests open
 * it, and is re-wrapped at the default cost by the first real open.
 */
Test(store, cheap_key_file_is_strengthened_by_a_real_open)
{
	struct fixture f;
	uint8_t *data;
	size_t len;
	char *key;

	fixture_open(&f, 0);
	store_close(f.st);
	key = path_join(f.dir, "key");
	cr_assert_eq(store_open(f.dir, TEST_PW, STORE_FAST_KDF, &f.st), 0);
	store_close(f.st);
	cr_assert_eq(file_read_all(key, 1024, &data, &len), 0);
	cr_assert_eq(be64_get(data + 20), crypto_pwhash_MEMLIMIT_MIN);
	free(data);
	cr_assert_eq(store_open(f.dir, TEST_PW, 0, &f.st), 0);
	cr_assert_eq(file_read_all(key, 1024, &data, &len), 0);
	cr_assert_eq(be64_get(data + 12), 3);
	cr_assert_eq(be64_get(data + 20), 64ULL << 20);
	free(data);
	free(key);
	fixture_close(&f);
}

/* Unread counts are exact up to STORE_UNREAD_MAX, then stop one past. */
Test(store, unread_counts_stop_past_the_cap)
{
	struct fixture f;
	uint8_t id[STORE_ID_LEN], mid[STORE_ID_LEN];
	uint64_t unread;
	int i;

	fixture_open(&f, 0);
	cr_assert_eq(store_tx_begin(f.st), 0);
	for (i = 0; i < STORE_UNREAD_MAX + 20; i++) {
		cr_assert_eq(store_msg_add(f.st, f.profile, f.conn,
		                 STORE_DIR_IN, 100 + (uint64_t)i, "x", 1, id),
		    0);
		if (i == 29)
			memcpy(mid, id, STORE_ID_LEN);
	}
	cr_assert_eq(store_tx_commit(f.st), 0);
	cr_assert_eq(
	    store_unread_count(f.st, f.profile, f.contact, &unread), 0);
	cr_assert_eq(unread, STORE_UNREAD_MAX + 1);
	/* Read up to the 30th: the rest, exactly. */
	cr_assert_eq(store_read_mark(f.st, f.profile, f.contact, mid), 0);
	cr_assert_eq(
	    store_unread_count(f.st, f.profile, f.contact, &unread), 0);
	cr_assert_eq(unread, STORE_UNREAD_MAX + 20 - 30);
	/* Up to the newest: none. */
	cr_assert_eq(store_read_mark(f.st, f.profile, f.contact, id), 0);
	cr_assert_eq(
	    store_unread_count(f.st, f.profile, f.contact, &unread), 0);
	cr_assert_eq(unread, 0);
	fixture_close(&f);
}
