/*
 * Tests for op-log holes a review found by running scenarios: remote
 * message text holding a NUL byte, a supersedes naming an author but
 * no seq (a signature no later peer can check), a device removal that
 * reaches a fresh replica before the device's own DEVICE_ADD, and a
 * member shielding itself from removal by putting a delete op's
 * tombstone on its own device id; deletes and status ops whose order
 * changed the tables; an archive whose signing key is not its
 * device's; and a register whose value hung on arrival order when a
 * supersedes beat a newer clock (a fast clock, a supersedes loop).
 * Forged ops are signed with a rogue member's key the test
 * holds, as a stolen device would sign them.
 */
#include <sqlite3.h>

#include "store-int.h"
#include "store-test.h"

/* Ship what `to` lacks from `from`, each op expected to give want. */
static void
sync_expect(
    struct store *from, struct store *to, const uint8_t *profile, int want)
{
	struct store_vv vv;
	struct oplist l = {0};
	size_t i;

	cr_assert_eq(store_version_vector(to, profile, &vv), 0);
	cr_assert_eq(store_ops_since(from, profile, &vv, op_collect, &l), 0);
	cr_assert_gt(l.n, 0);
	for (i = 0; i < l.n; i++)
		cr_assert_eq(
		    store_op_apply_remote(to, l.op[i], l.len[i]), want);
	store_vv_free(&vv);
	oplist_free(&l);
}

/* A member whose key the test holds, as a thief would hold it. */
struct rogue {
	uint8_t id[STORE_ID_LEN];
	uint8_t pk[32];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

static void
rogue_make(struct rogue *r)
{
	crypto_sign_keypair(r->pk, r->sk);
	store_device_id(r->pk, r->id);
}

/* What a forged op says besides its author. */
struct forge {
	uint64_t seq;
	uint64_t hlc; /* 0: now */
	uint16_t type;
	const uint8_t *target;
	const uint8_t *sup_author; /* NULL: zeros */
	uint64_t sup_seq;
	const void *body;
	size_t body_len;
};

/* An op signed by r in the op-log wire format (caller frees b). */
static void
forge_op(struct buf *b, const uint8_t *profile, const struct rogue *r,
    const struct forge *f)
{
	static const uint8_t zero[STORE_ID_LEN];
	uint8_t sig[crypto_sign_BYTES];

	buf_init(b);
	buf_put(b, "noid op v1", 10);
	buf_put_u8(b, 1);
	buf_put(b, profile, STORE_ID_LEN);
	buf_put(b, r->id, STORE_ID_LEN);
	buf_put_u64(b, f->seq);
	buf_put_u64(b, f->hlc != 0 ? f->hlc : clock_wall_ms() << 16);
	buf_put_u16(b, f->type);
	buf_put(b, f->target, STORE_ID_LEN);
	buf_put(b, f->sup_author != NULL ? f->sup_author : zero, STORE_ID_LEN);
	buf_put_u64(b, f->sup_seq);
	buf_put_u32(b, (uint32_t)f->body_len);
	buf_put(b, f->body, f->body_len);
	crypto_sign_detached(sig, NULL, b->data, b->len, r->sk);
	buf_put(b, sig, sizeof sig);
	buf_consume(b, 10);
}

/* Forge an op and apply it to st; returns what the store said. */
static int
forge_apply(struct store *st, const uint8_t *profile, const struct rogue *r,
    const struct forge *f)
{
	struct buf b;
	int rc;

	forge_op(&b, profile, r, f);
	rc = store_op_apply_remote(st, b.data, b.len);
	buf_free(&b);
	return rc;
}
/* A SETTING_SET body: register kind, field, not null, value. */
static void
setting_body(struct buf *b, const char *k, const char *v)
{
	buf_init(b);
	buf_put_u8(b, REG_SETTING);
	buf_put_short(b, k, strlen(k));
	buf_put_u8(b, 0);
	buf_put(b, v, strlen(v));
}

/* The seq a store holds from device (0: none). */
static uint64_t
held_seq(struct store *st, const uint8_t *profile, const uint8_t *device)
{
	struct store_vv vv;
	uint64_t seq = 0;
	size_t i;

	cr_assert_eq(store_version_vector(st, profile, &vv), 0);
	for (i = 0; i < vv.n; i++)
		if (memcmp(vv.e[i].device, device, STORE_ID_LEN) == 0)
			seq = vv.e[i].seq;
	store_vv_free(&vv);
	return seq;
}
/* Whether a store lists device as removed (asserting it is listed). */
static int
dev_removed(struct store *st, const uint8_t *profile, const uint8_t *id)
{
	struct store_device *d;
	size_t i, n;
	int removed = -1;

	cr_assert_eq(store_devices_list(st, profile, &d, &n), 0);
	for (i = 0; i < n; i++)
		if (memcmp(d[i].id, id, STORE_ID_LEN) == 0)
			removed = d[i].removed;
	store_devices_free(d, n);
	cr_assert_neq(removed, -1, "device not listed");
	return removed;
}

/* Fail unless two stores' projections of profile are the same. */
static void
expect_same_tables(struct store *a, struct store *b, const uint8_t *profile)
{
	uint8_t da[32], db[32];

	cr_assert_eq(store_projection_digest(a, profile, da), 0);
	cr_assert_eq(store_projection_digest(b, profile, db), 0);
	cr_assert_eq(memcmp(da, db, 32), 0, "projections differ");
}

/* A MSG_ADD body by the layout of msg_body() in op-project.c. */
static void
msg_add_body(struct buf *b, const uint8_t *conv, const uint8_t *conn,
    const void *text, size_t len)
{
	static const uint8_t hash[STORE_HASH_LEN];

	buf_init(b);
	buf_put(b, conv, STORE_ID_LEN);
	buf_put(b, conn, STORE_ID_LEN);
	buf_put_u8(b, STORE_DIR_IN);
	buf_put_u64(b, 1000);
	buf_put_u64(b, 0);
	buf_put(b, hash, sizeof hash);
	buf_put(b, text, len);
}

/* How many messages a conversation lists. */
static size_t
msg_count(struct store *st, const uint8_t *profile, const uint8_t *conv)
{
	struct store_msg *m;
	size_t n;

	cr_assert_eq(store_msgs_page(st, profile, conv, NULL, 100, &m, &n), 0);
	store_msgs_free(m, n);
	return n;
}

Test(review, remote_message_text_with_a_nul_is_refused)
{
	static const char nul_text[] = "a\0bbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	struct dev a, o;
	struct rogue r;
	struct forge f = {0};
	struct buf body;
	struct store_msg m;
	uint8_t profile[STORE_ID_LEN], contact[STORE_ID_LEN];
	uint8_t conn[STORE_ID_LEN], msg[STORE_ID_LEN], id[STORE_ID_LEN];
	uint8_t pk[32];

	dev_open(&a);
	dev_open(&o);
	rogue_make(&r);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	cr_assert_eq(store_device_add(a.st, profile, r.id, r.pk, "r"), 0);
	cr_assert_eq(store_contact_add(a.st, profile, "bob", contact), 0);
	cr_assert_eq(store_conn_add(a.st, profile, contact, STORE_TRUST_QR,
	                 (const uint8_t *)"q", 1, conn),
	    0);
	cr_assert_eq(
	    store_msg_add(a.st, profile, conn, STORE_DIR_IN, 10, "hi", 2, msg),
	    0);

	/* A MSG_ADD whose text holds a NUL: refused, nothing lands. */
	randombytes_buf(id, sizeof id);
	msg_add_body(&body, contact, conn, nul_text, sizeof nul_text - 1);
	f.seq = 1;
	f.type = STORE_OP_MSG_ADD;
	f.target = id;
	f.body = body.data;
	f.body_len = body.len;
	cr_assert_eq(forge_apply(a.st, profile, &r, &f), NOID_ERR_INVAL);
	buf_free(&body);
	cr_assert_eq(store_msg_get(a.st, profile, id, &m), NOID_ERR_NOENT);
	cr_assert_eq(msg_count(a.st, profile, contact), 1);

	/* An edit putting a NUL into a message: refused too. */
	f.type = STORE_OP_MSG_EDIT;
	f.target = msg;
	f.body = nul_text;
	f.body_len = sizeof nul_text - 1;
	cr_assert_eq(forge_apply(a.st, profile, &r, &f), NOID_ERR_INVAL);
	cr_assert_eq(store_msg_get(a.st, profile, msg, &m), 0);
	cr_assert_eq(m.text_len, 2);
	cr_assert_str_eq(m.text, "hi");
	cr_assert_eq(m.edited, 0);
	store_msg_clear(&m);
	cr_assert_eq(held_seq(a.st, profile, r.id), 0);

	/* The same edit without the NUL applies: only the NUL was wrong. */
	f.body = "a";
	f.body_len = 1;
	cr_assert_eq(forge_apply(a.st, profile, &r, &f), 0);
	cr_assert_eq(store_msg_get(a.st, profile, msg, &m), 0);
	cr_assert_str_eq(m.text, "a");
	store_msg_clear(&m);
	cr_assert_eq(held_seq(a.st, profile, r.id), 1);
	cr_assert_eq(store_profile_join(o.st, profile, id, pk), 0);
	sync_once(a.st, o.st, profile);
	expect_same_tables(a.st, o.st, profile);
	dev_close(&a);
	dev_close(&o);
}

/*
 * A row whose text holds a NUL (written before NULs were refused) reads
 * back as text_len bytes plus a terminator, so clearing it and every
 * reader that trusts text_len stay inside the allocation.
 */
Test(review, a_stored_text_with_a_nul_reads_back_whole)
{
	struct fixture f;
	struct store_msg m, *page;
	uint8_t msg[STORE_ID_LEN];
	size_t n;

	fixture_open(&f, STORE_PLAIN);
	cr_assert_eq(store_msg_add(f.st, f.profile, f.conn, STORE_DIR_IN, 10,
	                 "placeholder text", 16, msg),
	    0);
	cr_assert_eq(
	    sqlite3_exec(f.st->db,
	        "UPDATE messages SET text ="
	        " CAST(X'610062626262626262626262626262626262' AS TEXT)",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	cr_assert_eq(store_msg_get(f.st, f.profile, msg, &m), 0);
	cr_assert_eq(m.text_len, 18);
	cr_assert_eq(memcmp(m.text, "a\0bbbbbbbbbbbbbbbb", 18), 0);
	cr_assert_eq(m.text[18], '\0');
	store_msg_clear(&m);
	cr_assert_eq(
	    store_msgs_page(f.st, f.profile, f.contact, NULL, 10, &page, &n),
	    0);
	cr_assert_eq(n, 1);
	cr_assert_eq(page[0].text_len, 18);
	cr_assert_eq(memcmp(page[0].text, "a\0bbbbbbbbbbbbbbbb", 18), 0);
	store_msgs_free(page, n);
	fixture_close(&f);
}

/*
 * A supersedes naming an author but seq 0 used to be signed, accepted
 * and stored as "no supersedes": re-encoded from the log it no longer
 * matched its signature, so every later peer refused it and with it
 * all the author's later ops.  It is malformed: refused on arrival.
 */
Test(review, an_empty_supersedes_must_name_no_author)
{
	struct dev a, o;
	struct rogue r;
	struct forge f = {0};
	struct buf body;
	uint8_t profile[STORE_ID_LEN], sup[STORE_ID_LEN], id[STORE_ID_LEN];
	uint8_t pk[32];
	char *v;

	dev_open(&a);
	dev_open(&o);
	rogue_make(&r);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	cr_assert_eq(store_device_add(a.st, profile, r.id, r.pk, "r"), 0);
	setting_body(&body, "k", "v");
	memset(sup, 0xaa, sizeof sup);
	f.seq = 1;
	f.type = STORE_OP_SETTING_SET;
	f.target = profile;
	f.sup_author = sup;
	f.sup_seq = 0;
	f.body = body.data;
	f.body_len = body.len;
	cr_assert_eq(forge_apply(a.st, profile, &r, &f), NOID_ERR_INVAL);
	cr_assert_eq(held_seq(a.st, profile, r.id), 0);
	cr_assert_eq(store_setting_get(a.st, profile, "k", &v), NOID_ERR_NOENT);

	/* With no author named it is a plain write, and it travels. */
	f.sup_author = NULL;
	cr_assert_eq(forge_apply(a.st, profile, &r, &f), 0);
	buf_free(&body);
	cr_assert_eq(store_setting_set(a.st, profile, "k", "v2"), 0);
	cr_assert_eq(store_profile_join(o.st, profile, id, pk), 0);
	sync_once(a.st, o.st, profile);
	expect_same_tables(a.st, o.st, profile);
	cr_assert_eq(store_setting_get(o.st, profile, "k", &v), 0);
	cr_assert_str_eq(v, "v2");
	free(v);
	dev_close(&a);
	dev_close(&o);
}

/*
 * B adds C, A removes C.  store_ops_since ships each author's ops as
 * one run, A's first, so a fresh replica sees the removal before C's
 * DEVICE_ADD: the removal must still hold there, in its tables and in
 * what it accepts from C.
 */
Test(review, a_removal_that_arrives_before_the_add_holds)
{
	struct dev a, b, c, o;
	struct store_vv none = {0};
	struct oplist l = {0};
	uint8_t profile[STORE_ID_LEN], first[STORE_ID_LEN];
	size_t i, pass;

	dev_open(&a);
	dev_open(&b);
	dev_open(&c);
	dev_open(&o);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	dev_link(a.st, profile, &b, "b");
	sync_once(a.st, b.st, profile);
	dev_link(b.st, profile, &c, "c");
	sync_once(b.st, a.st, profile);
	sync_once(a.st, c.st, profile);
	cr_assert_eq(store_device_remove(a.st, profile, c.id), 0);
	cr_assert_eq(dev_removed(a.st, profile, c.id), 1);

	/* Replay A's whole run, then the rest: removal before the add. */
	cr_assert_eq(store_ops_since(a.st, profile, &none, op_collect, &l), 0);
	memcpy(first, l.op[0] + 1 + STORE_ID_LEN, STORE_ID_LEN);
	cr_assert_eq(store_profile_join(o.st, profile, o.id, o.pk), 0);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < l.n; i++)
			if ((memcmp(l.op[i] + 1 + STORE_ID_LEN, first,
			         STORE_ID_LEN) == 0) == (pass == 0))
				cr_assert_eq(store_op_apply_remote(
				                 o.st, l.op[i], l.len[i]),
				    0, "op %zu", i);
	oplist_free(&l);
	cr_assert_eq(dev_removed(o.st, profile, c.id), 1);
	expect_same_tables(a.st, o.st, profile);

	/* What C writes now is refused by both. */
	cr_assert_eq(store_setting_set(c.st, profile, "k", "from c"), 0);
	sync_expect(c.st, o.st, profile, NOID_ERR_BLOCKED);
	sync_expect(c.st, a.st, profile, NOID_ERR_BLOCKED);
	expect_same_tables(a.st, o.st, profile);
	cr_assert_eq(store_check(o.st), 0);
	dev_close(&a);
	dev_close(&b);
	dev_close(&c);
	dev_close(&o);
}

/*
 * A stolen member puts a delete op's tombstone on its own device id
 * (and on the profile id), hoping to make its removal, and writes to
 * the profile's registers, no-ops.  For each kind of delete op: the
 * removal still lands, later ops are refused, settings keep their
 * rules, and a fresh replica agrees.
 */
Test(review, a_delete_op_cannot_shield_a_device_from_removal)
{
	static const uint16_t deletes[] = {
	    STORE_OP_MSG_DELETE, STORE_OP_CONN_DELETE, STORE_OP_CONTACT_DELETE};
	struct dev a, o;
	struct rogue r;
	struct forge f = {0};
	struct buf body;
	uint8_t profile[STORE_ID_LEN];
	size_t i;
	char *v;

	for (i = 0; i < sizeof deletes / sizeof deletes[0]; i++) {
		dev_open(&a);
		dev_open(&o);
		rogue_make(&r);
		cr_assert_eq(
		    store_profile_create(a.st, "alice", "a", profile), 0);
		cr_assert_eq(
		    store_device_add(a.st, profile, r.id, r.pk, "r"), 0);
		cr_assert_eq(store_setting_set(a.st, profile, "k", "new"), 0);

		memset(&f, 0, sizeof f);
		f.type = deletes[i];
		f.seq = 1;
		f.target = r.id;
		cr_assert_eq(forge_apply(a.st, profile, &r, &f), 0);
		f.seq = 2;
		f.target = profile;
		cr_assert_eq(forge_apply(a.st, profile, &r, &f), 0);
		/* A backdated write may not beat a newer one. */
		setting_body(&body, "k", "old");
		f.seq = 3;
		f.hlc = 1;
		f.type = STORE_OP_SETTING_SET;
		f.body = body.data;
		f.body_len = body.len;
		cr_assert_eq(forge_apply(a.st, profile, &r, &f), 0);

		cr_assert_eq(store_device_remove(a.st, profile, r.id), 0);
		cr_assert_eq(dev_removed(a.st, profile, r.id), 1, "op type %u",
		    deletes[i]);
		f.seq = 4;
		f.hlc = 0;
		cr_assert_eq(
		    forge_apply(a.st, profile, &r, &f), NOID_ERR_BLOCKED);
		buf_free(&body);
		cr_assert_eq(store_setting_get(a.st, profile, "k", &v), 0);
		cr_assert_str_eq(v, "new", "op type %u", deletes[i]);
		free(v);

		cr_assert_eq(store_profile_join(o.st, profile, o.id, o.pk), 0);
		sync_once(a.st, o.st, profile);
		cr_assert_eq(dev_removed(o.st, profile, r.id), 1);
		expect_same_tables(a.st, o.st, profile);
		cr_assert_eq(store_check(a.st), 0);
		dev_close(&a);
		dev_close(&o);
	}
}

/* Overwrite this store's signing key for profile, and drop the cache. */
static void
sk_replace(struct fixture *f, const uint8_t *sk)
{
	sqlite3_stmt *s;

	cr_assert_eq(sqlite3_prepare_v2(f->st->db,
	                 "UPDATE local_devices SET sign_sk = ?"
	                 " WHERE profile_id = ?",
	                 -1, &s, NULL),
	    SQLITE_OK);
	sqlite3_bind_blob(s, 1, sk, crypto_sign_SECRETKEYBYTES, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, f->profile, STORE_ID_LEN, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(s), SQLITE_DONE);
	cr_assert_eq(sqlite3_changes(f->st->db), 1);
	sqlite3_finalize(s);
	store_close(f->st);
	cr_assert_eq(store_open(f->dir, TEST_PW, STORE_FAST_KDF, &f->st), 0);
}

/* Import path into a new store: what it said, and profiles it holds. */
static int
import_fresh(const char *path, size_t *nprofiles)
{
	struct store *st;
	struct store_profile *p;
	char *dir = test_dir();
	int rc;

	cr_assert_eq(store_open(dir, TEST_PW, TEST_FLAGS, &st), 0);
	rc = store_import(st, path, "archive pw", NULL, NULL, NULL);
	cr_assert_eq(store_profiles_list(st, &p, nprofiles), 0);
	store_profiles_free(p, *nprofiles);
	store_close(st);
	test_dir_remove(dir);
	return rc;
}

/*
 * An archive's META names this device and carries its signing key: a
 * key that is not the one the device id commits to would make every op
 * the imported store signs unverifiable, so the import is refused.
 */
Test(review, an_archive_whose_key_is_not_its_devices_is_refused)
{
	struct fixture f;
	struct rogue r;
	char *good, *bad;
	size_t n;

	fixture_open(&f, 0);
	good = path_join(f.dir, "good.arc");
	bad = path_join(f.dir, "bad.arc");
	cr_assert_eq(store_export(f.st, f.profile, good, "archive pw",
	                 STORE_FAST_KDF, NULL, NULL),
	    0);
	rogue_make(&r);
	sk_replace(&f, r.sk);
	cr_assert_eq(store_export(f.st, f.profile, bad, "archive pw",
	                 STORE_FAST_KDF, NULL, NULL),
	    0);
	cr_assert_eq(import_fresh(bad, &n), NOID_ERR_CORRUPT);
	cr_assert_eq(n, 0);
	cr_assert_eq(import_fresh(good, &n), 0);
	cr_assert_eq(n, 1);
	free(good);
	free(bad);
	fixture_close(&f);
}

/*
 * Tombstones are keyed by id alone, so a delete op may name an id of
 * another kind (a MSG_DELETE naming a contact).  Whatever it names, a
 * replica that got it before the row was made and one that got it
 * after must agree.
 */
Test(review, a_delete_op_naming_another_kind_converges)
{
	static const uint16_t deletes[] = {
	    STORE_OP_MSG_DELETE, STORE_OP_CONN_DELETE, STORE_OP_CONTACT_DELETE};
	struct dev a, o1, o2;
	struct rogue r;
	struct forge f = {0};
	struct oplist early = {0}, all = {0};
	struct buf del;
	uint8_t profile[STORE_ID_LEN], ids[3][STORE_ID_LEN];
	size_t i, d, k;

	for (d = 0; d < 3; d++)
		for (k = 0; k < 3; k++) {
			dev_open(&a);
			dev_open(&o1);
			dev_open(&o2);
			rogue_make(&r);
			cr_assert_eq(
			    store_profile_create(a.st, "alice", "a", profile),
			    0);
			cr_assert_eq(
			    store_device_add(a.st, profile, r.id, r.pk, "r"),
			    0);
			cr_assert_eq(store_ops_since(a.st, profile, NULL,
			                 op_collect, &early),
			    0);
			cr_assert_eq(
			    store_contact_add(a.st, profile, "bob", ids[0]), 0);
			cr_assert_eq(store_conn_add(a.st, profile, ids[0],
			                 STORE_TRUST_QR, (const uint8_t *)"q",
			                 1, ids[1]),
			    0);
			cr_assert_eq(store_msg_add(a.st, profile, ids[1],
			                 STORE_DIR_IN, 10, "hi", 2, ids[2]),
			    0);
			cr_assert_eq(store_ops_since(
			                 a.st, profile, NULL, op_collect, &all),
			    0);
			f.seq = 1;
			f.type = deletes[d];
			f.target = ids[k];
			forge_op(&del, profile, &r, &f);

			cr_assert_eq(
			    store_profile_join(o1.st, profile, o1.id, o1.pk),
			    0);
			cr_assert_eq(
			    store_profile_join(o2.st, profile, o2.id, o2.pk),
			    0);
			for (i = 0; i < all.n; i++)
				cr_assert_eq(store_op_apply_remote(
				                 o1.st, all.op[i], all.len[i]),
				    0);
			cr_assert_eq(
			    store_op_apply_remote(o1.st, del.data, del.len), 0);
			for (i = 0; i < all.n; i++) {
				if (i == early.n)
					cr_assert_eq(
					    store_op_apply_remote(
					        o2.st, del.data, del.len),
					    0);
				cr_assert_eq(store_op_apply_remote(
				                 o2.st, all.op[i], all.len[i]),
				    0);
			}
			buf_free(&del);
			expect_same_tables(o1.st, o2.st, profile);
			cr_assert_eq(store_check(o2.st), 0);
			oplist_free(&early);
			oplist_free(&all);
			dev_close(&a);
			dev_close(&o1);
			dev_close(&o2);
		}
}

/*
 * A sent message's status keeps its highest value whether the message
 * was deleted before or after the status ops arrived.
 */
Test(review, a_status_and_a_delete_converge_in_either_order)
{
	struct dev a, o1, o2;
	struct rogue r;
	struct forge f = {0};
	struct oplist early = {0}, all = {0};
	struct buf del;
	uint8_t profile[STORE_ID_LEN], contact[STORE_ID_LEN];
	uint8_t conn[STORE_ID_LEN], msg[STORE_ID_LEN], hash[STORE_HASH_LEN];
	uint64_t seq;
	size_t i;

	dev_open(&a);
	dev_open(&o1);
	dev_open(&o2);
	rogue_make(&r);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	cr_assert_eq(store_device_add(a.st, profile, r.id, r.pk, "r"), 0);
	cr_assert_eq(store_contact_add(a.st, profile, "bob", contact), 0);
	cr_assert_eq(store_conn_add(a.st, profile, contact, STORE_TRUST_QR,
	                 (const uint8_t *)"q", 1, conn),
	    0);
	cr_assert_eq(
	    store_send_reserve(a.st, profile, conn, "hi", 2, msg, &seq, hash),
	    0);
	cr_assert_eq(
	    store_ops_since(a.st, profile, NULL, op_collect, &early), 0);
	memset(hash, 7, sizeof hash);
	cr_assert_eq(store_send_record(
	                 a.st, profile, msg, hash, (const uint8_t *)"s", 1),
	    0);
	cr_assert_eq(store_receipt(a.st, profile, conn, hash), 0);
	cr_assert_eq(store_ops_since(a.st, profile, NULL, op_collect, &all), 0);
	cr_assert_gt(all.n, early.n);
	f.seq = 1;
	f.type = STORE_OP_MSG_DELETE;
	f.target = msg;
	forge_op(&del, profile, &r, &f);

	cr_assert_eq(store_profile_join(o1.st, profile, o1.id, o1.pk), 0);
	cr_assert_eq(store_profile_join(o2.st, profile, o2.id, o2.pk), 0);
	for (i = 0; i < all.n; i++)
		cr_assert_eq(
		    store_op_apply_remote(o1.st, all.op[i], all.len[i]), 0);
	cr_assert_eq(store_op_apply_remote(o1.st, del.data, del.len), 0);
	for (i = 0; i < all.n; i++) {
		if (i == early.n)
			cr_assert_eq(
			    store_op_apply_remote(o2.st, del.data, del.len), 0);
		cr_assert_eq(
		    store_op_apply_remote(o2.st, all.op[i], all.len[i]), 0);
	}
	buf_free(&del);
	expect_same_tables(o1.st, o2.st, profile);
	oplist_free(&early);
	oplist_free(&all);
	dev_close(&a);
	dev_close(&o1);
	dev_close(&o2);
}

/* A forged SETTING_SET of k to v at hlc, naming (sup_author, sup_seq). */
static void
forge_setting(struct buf *b, const uint8_t *profile, const struct rogue *r,
    uint64_t hlc, const char *v, const uint8_t *sup_author, uint64_t sup_seq)
{
	struct forge f = {0};
	struct buf body;

	setting_body(&body, "k", v);
	f.seq = 1;
	f.hlc = hlc;
	f.type = STORE_OP_SETTING_SET;
	f.target = profile;
	f.sup_author = sup_author;
	f.sup_seq = sup_seq;
	f.body = body.data;
	f.body_len = body.len;
	forge_op(b, profile, r, &f);
	buf_free(&body);
}

/* Apply every op of l, then each of the n ops in ops, to st. */
static void
apply_in_order(struct store *st, const struct oplist *l,
    const struct buf *const *ops, size_t n)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		cr_assert_eq(store_op_apply_remote(st, l->op[i], l->len[i]), 0);
	for (i = 0; i < n; i++)
		cr_assert_eq(
		    store_op_apply_remote(st, ops[i]->data, ops[i]->len), 0,
		    "op %zu", i);
}

/* Fail unless a store's setting k reads want. */
static void
expect_setting(struct store *st, const uint8_t *profile, const char *want)
{
	char *v;

	cr_assert_eq(store_setting_get(st, profile, "k", &v), 0);
	cr_assert_str_eq(v, want);
	free(v);
}

/* The clock stamp of a wall time minutes from now. */
static uint64_t
hlc_in_minutes(int64_t minutes)
{
	return (uint64_t)((int64_t)clock_wall_ms() + minutes * 60 * 1000) << 16;
}

/*
 * Finding 6: A's clock runs an hour fast and A writes X; B sees X (its
 * own clock capped ten minutes ahead) and writes Y over it; C, offline,
 * writes W twenty minutes on.  When "a supersedes beats a newer clock",
 * a replica that gets A, B, C ends on W and one that gets A, C, B on Y.
 * Y is stamped past what it replaced, so both orders agree, on Y.
 */
Test(review, a_write_over_a_fast_clock_converges_in_any_order)
{
	struct dev b, o1, o2;
	struct rogue ra, rc;
	struct oplist base = {0}, l = {0};
	struct store_vv vv;
	struct buf x, w, y;
	uint8_t profile[STORE_ID_LEN];

	dev_open(&b);
	dev_open(&o1);
	dev_open(&o2);
	rogue_make(&ra);
	rogue_make(&rc);
	cr_assert_eq(store_profile_create(b.st, "alice", "b", profile), 0);
	cr_assert_eq(store_device_add(b.st, profile, ra.id, ra.pk, "a"), 0);
	cr_assert_eq(store_device_add(b.st, profile, rc.id, rc.pk, "c"), 0);
	cr_assert_eq(
	    store_ops_since(b.st, profile, NULL, op_collect, &base), 0);
	forge_setting(&x, profile, &ra, hlc_in_minutes(60), "x", NULL, 0);
	forge_setting(&w, profile, &rc, hlc_in_minutes(20), "w", NULL, 0);

	/* B hears X and writes Y over it. */
	cr_assert_eq(store_op_apply_remote(b.st, x.data, x.len), 0);
	cr_assert_eq(store_setting_set(b.st, profile, "k", "y"), 0);
	expect_setting(b.st, profile, "y");

	/* o1 gets A, C, then B's Y: what it lacks from B is Y alone. */
	cr_assert_eq(store_profile_join(o1.st, profile, o1.id, o1.pk), 0);
	apply_in_order(o1.st, &base, (const struct buf *[]){&x, &w}, 2);
	expect_setting(o1.st, profile, "x");
	cr_assert_eq(store_version_vector(o1.st, profile, &vv), 0);
	cr_assert_eq(store_ops_since(b.st, profile, &vv, op_collect, &l), 0);
	store_vv_free(&vv);
	cr_assert_eq(l.n, 1);
	buf_init(&y);
	buf_put(&y, l.op[0], l.len[0]);
	oplist_free(&l);
	cr_assert_eq(store_op_apply_remote(o1.st, y.data, y.len), 0);

	/* o2 gets A, B, C. */
	cr_assert_eq(store_profile_join(o2.st, profile, o2.id, o2.pk), 0);
	apply_in_order(o2.st, &base, (const struct buf *[]){&x, &y, &w}, 3);

	/* And B itself hears W last. */
	cr_assert_eq(store_op_apply_remote(b.st, w.data, w.len), 0);
	expect_same_tables(o1.st, o2.st, profile);
	expect_same_tables(b.st, o1.st, profile);
	expect_setting(o1.st, profile, "y");
	expect_setting(o2.st, profile, "y");
	cr_assert_eq(store_check(o2.st), 0);
	buf_free(&x);
	buf_free(&w);
	buf_free(&y);
	oplist_free(&base);
	dev_close(&b);
	dev_close(&o1);
	dev_close(&o2);
}

/*
 * Ops signed before the fix may carry a supersedes with a clock no
 * newer than what they replace, or two may name each other (a crafted
 * loop).  Registers order by (hlc, author) alone, so such a supersedes
 * changes nothing: the later stamp wins in either order.
 */
Test(review, a_supersedes_does_not_beat_a_newer_clock)
{
	struct dev a, o1, o2;
	struct rogue r1, r2;
	struct oplist base = {0};
	struct buf p, q;
	uint8_t profile[STORE_ID_LEN];
	uint64_t now = hlc_in_minutes(0);
	size_t loop;

	for (loop = 0; loop < 2; loop++) {
		dev_open(&a);
		dev_open(&o1);
		dev_open(&o2);
		rogue_make(&r1);
		rogue_make(&r2);
		cr_assert_eq(
		    store_profile_create(a.st, "alice", "a", profile), 0);
		cr_assert_eq(
		    store_device_add(a.st, profile, r1.id, r1.pk, "1"), 0);
		cr_assert_eq(
		    store_device_add(a.st, profile, r2.id, r2.pk, "2"), 0);
		cr_assert_eq(
		    store_ops_since(a.st, profile, NULL, op_collect, &base), 0);
		/* q replaces p at an older stamp; in the loop p names q too. */
		forge_setting(
		    &p, profile, &r1, now + 2, "p", loop ? r2.id : NULL, loop);
		forge_setting(&q, profile, &r2, now + 1, "q", r1.id, 1);

		cr_assert_eq(
		    store_profile_join(o1.st, profile, o1.id, o1.pk), 0);
		cr_assert_eq(
		    store_profile_join(o2.st, profile, o2.id, o2.pk), 0);
		apply_in_order(o1.st, &base, (const struct buf *[]){&p, &q}, 2);
		apply_in_order(o2.st, &base, (const struct buf *[]){&q, &p}, 2);
		expect_same_tables(o1.st, o2.st, profile);
		expect_setting(o1.st, profile, "p");
		expect_setting(o2.st, profile, "p");
		buf_free(&p);
		buf_free(&q);
		oplist_free(&base);
		dev_close(&a);
		dev_close(&o1);
		dev_close(&o2);
	}
}

/* The setting k as st shows it (NULL: none; caller frees). */
static char *
setting_of(struct store *st, const uint8_t *profile)
{
	char *v = NULL;
	int rc = store_setting_get(st, profile, "k", &v);

	cr_assert(rc == 0 || rc == NOID_ERR_NOENT);
	return rc == 0 ? v : NULL;
}

/*
 * A removes X; X, not knowing yet, adds Z, and Z writes.  R held Z's
 * op when the removal came: voiding X's ops past its cutoff voids Z's
 * membership, so Z's op is void too.  R and a fresh replica agree, R
 * no longer offers Z's op, and what Z writes next is refused.
 */
Test(review, a_member_added_past_a_cutoff_is_voided_with_it)
{
	struct dev a, x, z, r, o;
	struct store_vv vv;
	struct oplist l = {0};
	uint8_t profile[STORE_ID_LEN];
	size_t i;
	char *v;

	dev_open(&a);
	dev_open(&x);
	dev_open(&z);
	dev_open(&r);
	dev_open(&o);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	dev_link(a.st, profile, &x, "x");
	dev_link(a.st, profile, &r, "r");
	sync_once(a.st, x.st, profile);
	sync_once(a.st, r.st, profile);
	cr_assert_eq(store_device_remove(a.st, profile, x.id), 0);

	dev_link(x.st, profile, &z, "z");
	sync_once(x.st, z.st, profile);
	cr_assert_eq(store_setting_set(z.st, profile, "k", "from z"), 0);
	sync_once(z.st, r.st, profile);
	v = setting_of(r.st, profile);
	cr_assert_str_eq(v, "from z");
	free(v);
	cr_assert_eq(held_seq(r.st, profile, z.id), 1);

	sync_once(a.st, r.st, profile);
	cr_assert_eq(dev_removed(r.st, profile, x.id), 1);
	cr_assert_null(setting_of(r.st, profile));
	cr_assert_eq(held_seq(r.st, profile, z.id), 0);
	cr_assert_eq(store_check(r.st), 0);

	cr_assert_eq(store_profile_join(o.st, profile, o.id, o.pk), 0);
	sync_once(r.st, o.st, profile);
	cr_assert_null(setting_of(o.st, profile));
	expect_same_tables(r.st, o.st, profile);
	sync_once(a.st, o.st, profile);
	expect_same_tables(a.st, r.st, profile);
	expect_same_tables(r.st, o.st, profile);

	/* Z is no member: X's add of it and its writes are refused. */
	cr_assert_eq(store_setting_set(z.st, profile, "k", "again"), 0);
	cr_assert_eq(store_version_vector(o.st, profile, &vv), 0);
	cr_assert_eq(store_ops_since(z.st, profile, &vv, op_collect, &l), 0);
	store_vv_free(&vv);
	cr_assert_eq(l.n, 3);
	for (i = 0; i < l.n; i++)
		cr_assert_eq(store_op_apply_remote(o.st, l.op[i], l.len[i]),
		    memcmp(l.op[i] + 1 + STORE_ID_LEN, x.id, STORE_ID_LEN) == 0
		        ? NOID_ERR_BLOCKED
		        : NOID_ERR_STATE,
		    "op %zu", i);
	oplist_free(&l);
	cr_assert_null(setting_of(o.st, profile));
	dev_close(&a);
	dev_close(&x);
	dev_close(&z);
	dev_close(&r);
	dev_close(&o);
}

/*
 * A removes X; X, not knowing yet, removes Y, whose op past that
 * cutoff R already held and then voided.  Once A's removal of X
 * reaches R, X's removal of Y is void: Y is a member again there, its
 * op comes back, and R agrees with A and with a fresh replica.
 */
Test(review, a_voided_removal_gives_back_the_ops_it_voided)
{
	struct dev a, x, y, r, o;
	uint8_t profile[STORE_ID_LEN];
	char *v;

	dev_open(&a);
	dev_open(&x);
	dev_open(&y);
	dev_open(&r);
	dev_open(&o);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	dev_link(a.st, profile, &x, "x");
	dev_link(a.st, profile, &y, "y");
	dev_link(a.st, profile, &r, "r");
	sync_once(a.st, x.st, profile);
	sync_once(a.st, y.st, profile);
	sync_once(a.st, r.st, profile);
	cr_assert_eq(store_device_remove(a.st, profile, x.id), 0);

	cr_assert_eq(store_setting_set(y.st, profile, "k", "from y"), 0);
	cr_assert_eq(store_device_remove(x.st, profile, y.id), 0);
	sync_once(y.st, r.st, profile);
	sync_once(x.st, r.st, profile);
	cr_assert_eq(dev_removed(r.st, profile, y.id), 1);
	cr_assert_null(setting_of(r.st, profile));
	cr_assert_eq(held_seq(r.st, profile, y.id), 0);

	sync_once(a.st, r.st, profile);
	cr_assert_eq(dev_removed(r.st, profile, x.id), 1);
	cr_assert_eq(dev_removed(r.st, profile, y.id), 0);
	v = setting_of(r.st, profile);
	cr_assert_str_eq(v, "from y");
	free(v);
	cr_assert_eq(held_seq(r.st, profile, y.id), 1);
	cr_assert_eq(store_check(r.st), 0);

	/* A refuses X's late removal; it takes Y's op like R. */
	sync_expect(x.st, a.st, profile, NOID_ERR_BLOCKED);
	sync_once(y.st, a.st, profile);
	expect_same_tables(a.st, r.st, profile);
	cr_assert_eq(store_profile_join(o.st, profile, o.id, o.pk), 0);
	sync_once(r.st, o.st, profile);
	expect_same_tables(r.st, o.st, profile);

	/* Y still writes, and R takes it. */
	cr_assert_eq(store_setting_set(y.st, profile, "k", "later"), 0);
	sync_once(y.st, r.st, profile);
	v = setting_of(r.st, profile);
	cr_assert_str_eq(v, "later");
	free(v);
	dev_close(&a);
	dev_close(&x);
	dev_close(&y);
	dev_close(&r);
	dev_close(&o);
}
