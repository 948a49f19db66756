/*
 * Tests for the op log: signatures, dedupe, gaps, version vectors, and
 * above all convergence — three devices make concurrent changes (edits
 * of the same message and field, delete against edit, read markers,
 * a device removed while it keeps writing), then the union of their
 * ops is applied to fresh stores in many random causal orders, with
 * duplicates thrown in: every order must give the same tables.  And
 * trust: no member can re-key another device, nobody but the founder
 * can write a profile's genesis.
 */
#include "store-test.h"

/* A message id from a page of the conversation, by text. */
static void
find_msg(struct store *st, const uint8_t *profile, const uint8_t *conv,
    const char *text, uint8_t out[STORE_ID_LEN])
{
	struct store_msg *m;
	size_t i, n;
	int found = 0;

	cr_assert_eq(store_msgs_page(st, profile, conv, NULL, 100, &m, &n), 0);
	for (i = 0; i < n; i++)
		if (strcmp(m[i].text, text) == 0) {
			memcpy(out, m[i].id, STORE_ID_LEN);
			found = 1;
		}
	store_msgs_free(m, n);
	cr_assert(found, "no message '%s'", text);
}

/*
 * Build the three-device history; returns the union of all ops (from
 * A after full exchange plus C's late ops) and A's final digest.
 */
struct world {
	struct dev a, b, c;
	uint8_t profile[STORE_ID_LEN];
	uint8_t contact[STORE_ID_LEN];
	uint8_t conn[STORE_ID_LEN];
	struct oplist all;
};

static void
world_build(struct world *w)
{
	uint8_t m1[STORE_ID_LEN], m2[STORE_ID_LEN], m3[STORE_ID_LEN], x[16];
	uint8_t carol[STORE_ID_LEN];
	struct store_vv none = {0};
	size_t i;

	memset(w, 0, sizeof *w);
	dev_open(&w->a);
	dev_open(&w->b);
	dev_open(&w->c);
	cr_assert_eq(
	    store_profile_create(w->a.st, "alice", "a", w->profile), 0);
	dev_link(w->a.st, w->profile, &w->b, "b");
	dev_link(w->a.st, w->profile, &w->c, "c");
	cr_assert_eq(
	    store_contact_add(w->a.st, w->profile, "bob", w->contact), 0);
	cr_assert_eq(store_conn_add(w->a.st, w->profile, w->contact,
	                 STORE_TRUST_QR, (const uint8_t *)"q", 1, w->conn),
	    0);
	cr_assert_eq(store_msg_add(w->a.st, w->profile, w->conn, STORE_DIR_IN,
	                 100, "m1", 2, m1),
	    0);
	cr_assert_eq(store_msg_add(w->a.st, w->profile, w->conn, STORE_DIR_IN,
	                 200, "m2", 2, m2),
	    0);
	cr_assert_eq(store_msg_add(w->a.st, w->profile, w->conn, STORE_DIR_OUT,
	                 300, "m3", 2, m3),
	    0);
	sync_once(w->a.st, w->b.st, w->profile);
	sync_once(w->a.st, w->c.st, w->profile);

	/* Concurrent work on all three. */
	cr_assert_eq(store_msg_edit(w->a.st, w->profile, m1, "m1 by a", 7), 0);
	cr_assert_eq(store_msg_edit(w->b.st, w->profile, m1, "m1 by b", 7), 0);
	cr_assert_eq(store_msg_edit(w->a.st, w->profile, m2, "m2 by a", 7), 0);
	cr_assert_eq(store_msg_delete(w->b.st, w->profile, m2), 0);
	cr_assert_eq(
	    store_contact_set_alias(w->a.st, w->profile, w->contact, "Bob A"),
	    0);
	cr_assert_eq(
	    store_contact_set_alias(w->b.st, w->profile, w->contact, "Bob B"),
	    0);
	cr_assert_eq(store_read_mark(w->a.st, w->profile, w->contact, m3), 0);
	cr_assert_eq(store_read_mark(w->b.st, w->profile, w->contact, m1), 0);
	cr_assert_eq(store_setting_set(w->a.st, w->profile, "k", "va"), 0);
	cr_assert_eq(store_setting_set(w->b.st, w->profile, "k", "vb"), 0);
	cr_assert_eq(
	    store_profile_set(w->b.st, w->profile, "status", "busy"), 0);
	cr_assert_eq(store_contact_add(w->b.st, w->profile, "carol", carol), 0);
	cr_assert_eq(store_msg_add(w->b.st, w->profile, w->conn, STORE_DIR_OUT,
	                 250, "from b", 6, x),
	    0);
	cr_assert_eq(store_msg_add(w->c.st, w->profile, w->conn, STORE_DIR_IN,
	                 260, "from c early", 12, x),
	    0);
	cr_assert_eq(store_msg_edit(w->c.st, w->profile, m1, "m1 by c", 7), 0);
	/* A hears C's early ops, then removes C; C keeps writing. */
	sync_once(w->c.st, w->a.st, w->profile);
	cr_assert_eq(store_device_remove(w->a.st, w->profile, w->c.id), 0);
	cr_assert_eq(store_msg_add(w->c.st, w->profile, w->conn, STORE_DIR_IN,
	                 270, "from c late", 11, x),
	    0);
	cr_assert_eq(store_profile_set(w->c.st, w->profile, "name", "evil"), 0);
	/* Edit after delete, on B itself, must fail; on the wire it loses. */
	cr_assert_eq(
	    store_msg_edit(w->b.st, w->profile, m2, "x", 1), NOID_ERR_NOENT);

	/* Union of everything: A and B exchange, then C's whole log. */
	sync_once(w->a.st, w->b.st, w->profile);
	sync_once(w->b.st, w->a.st, w->profile);
	cr_assert_eq(
	    store_ops_since(w->a.st, w->profile, &none, op_collect, &w->all),
	    0);
	{
		struct oplist cl = {0};
		cr_assert_eq(store_ops_since(
		                 w->c.st, w->profile, &none, op_collect, &cl),
		    0);
		for (i = 0; i < cl.n; i++)
			op_collect(cl.op[i], cl.len[i], &w->all);
		oplist_free(&cl);
	}
}

static void
world_free(struct world *w)
{
	oplist_free(&w->all);
	dev_close(&w->a);
	dev_close(&w->b);
	dev_close(&w->c);
}

/*
 * Apply ops in a random causal order with random repeats.  refused: how
 * many ops (forgeries) must be turned down with EXISTS or INVAL.
 */
static void
apply_shuffled(
    struct store *st, const struct oplist *l, unsigned seed, size_t refused)
{
	size_t *order = xcalloc(l->n, sizeof *order), *pending;
	size_t i, j, t, npending, next, done = 0, nrefused = 0;
	int rc;

	srand(seed);
	for (i = 0; i < l->n; i++)
		order[i] = i;
	for (i = l->n; i > 1; i--) {
		j = (size_t)rand() % i;
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	pending = order;
	npending = l->n;
	cr_assert_eq(store_tx_begin(st), 0);
	while (npending > 0) {
		next = 0;
		for (i = 0; i < npending; i++) {
			rc = store_op_apply_remote(
			    st, l->op[pending[i]], l->len[pending[i]]);
			if (rc == NOID_ERR_STATE) {
				pending[next++] = pending[i];
				continue;
			}
			if (rc == NOID_ERR_EXISTS || rc == NOID_ERR_INVAL)
				nrefused++;
			/* C's late ops are refused once C's removal is in. */
			else
				cr_assert(rc == 0 || rc == NOID_ERR_DUPLICATE ||
				        rc == NOID_ERR_BLOCKED,
				    "rc %d", rc);
			done++;
			if (rand() % 4 == 0)
				cr_assert_eq(
				    store_op_apply_remote(st, l->op[pending[i]],
				        l->len[pending[i]]),
				    rc == 0 ? NOID_ERR_DUPLICATE : rc);
		}
		cr_assert_lt(next, npending, "no progress");
		npending = next;
	}
	cr_assert_eq(store_tx_commit(st), 0);
	cr_assert_eq(done, l->n);
	cr_assert_eq(nrefused, refused);
	free(order);
}

Test(op, random_causal_orders_and_repeats_converge)
{
	struct world w;
	uint8_t want[32], got[32], db[32];
	struct store_msg m;
	struct store_contact *c;
	uint8_t m1[STORE_ID_LEN];
	char *v;
	size_t n;
	unsigned seed;

	world_build(&w);
	cr_assert_eq(store_projection_digest(w.a.st, w.profile, want), 0);
	cr_assert_eq(store_projection_digest(w.b.st, w.profile, db), 0);
	/* A and B hold the same ops except C's late ones, voided on A. */
	cr_assert_eq(memcmp(want, db, 32), 0);
	cr_assert_eq(store_check(w.a.st), 0);

	for (seed = 1; seed <= 12; seed++) {
		struct dev o;
		uint8_t id[STORE_ID_LEN], pk[32];

		dev_open(&o);
		cr_assert_eq(store_profile_join(o.st, w.profile, id, pk), 0);
		apply_shuffled(o.st, &w.all, seed, 0);
		cr_assert_eq(store_projection_digest(o.st, w.profile, got), 0);
		cr_assert_eq(memcmp(want, got, 32), 0, "seed %u differs", seed);
		cr_assert_eq(store_check(o.st), 0);
		dev_close(&o);
	}

	/* And the merged state is the one the rules say. */
	find_msg(w.a.st, w.profile, w.contact, "m1 by c", m1);
	cr_assert_eq(store_msg_get(w.a.st, w.profile, m1, &m), 0);
	cr_assert_eq(m.edited, 1);
	store_msg_clear(&m);
	cr_assert_eq(store_contacts_list(w.a.st, w.profile, &c, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert(strcmp(c[0].alias, "Bob B") == 0 ||
	    strcmp(c[0].alias, "Bob A") == 0);
	store_contacts_free(c, n);
	cr_assert_eq(store_setting_get(w.a.st, w.profile, "k", &v), 0);
	/* Concurrent: either may win, but every device picks the same. */
	cr_assert(strcmp(v, "va") == 0 || strcmp(v, "vb") == 0);
	free(v);
	world_free(&w);
}

Test(op, removed_device_ops_are_voided_and_refused)
{
	struct world w;
	struct store_profile *p;
	struct store_msg *m;
	struct store_device *d;
	size_t i, n, nd;
	int late = 0;

	world_build(&w);
	/* C's late ops are refused by A; its name change never shows. */
	cr_assert_eq(store_profiles_list(w.a.st, &p, &n), 0);
	cr_assert_str_eq(p[0].name, "alice");
	store_profiles_free(p, n);
	cr_assert_eq(
	    store_msgs_page(w.a.st, w.profile, w.contact, NULL, 100, &m, &n),
	    0);
	for (i = 0; i < n; i++)
		late |= strcmp(m[i].text, "from c late") == 0;
	store_msgs_free(m, n);
	cr_assert_eq(late, 0);
	/* C has applied its removal (via A) and may write no more. */
	sync_once(w.a.st, w.c.st, w.profile);
	cr_assert_eq(
	    store_setting_set(w.c.st, w.profile, "k", "x"), NOID_ERR_BLOCKED);
	cr_assert_eq(store_devices_list(w.a.st, w.profile, &d, &nd), 0);
	cr_assert_eq(nd, 3);
	for (i = 0; i < nd; i++)
		cr_assert_eq(
		    d[i].removed, memcmp(d[i].id, w.c.id, STORE_ID_LEN) == 0);
	store_devices_free(d, nd);
	world_free(&w);
}

Test(op, tampered_unknown_and_gapped_ops_are_refused)
{
	struct dev a, b;
	uint8_t profile[STORE_ID_LEN], id[STORE_ID_LEN], pk[32], x[16];
	struct oplist l = {0};
	uint8_t *bad;
	size_t i;

	dev_open(&a);
	dev_open(&b);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	cr_assert_eq(store_contact_add(a.st, profile, "bob", x), 0);
	cr_assert_eq(store_contact_add(a.st, profile, "carol", x), 0);
	cr_assert_eq(store_ops_since(a.st, profile, NULL, op_collect, &l), 0);
	cr_assert_eq(l.n, 4);
	/* No profile here yet. */
	cr_assert_eq(
	    store_op_apply_remote(b.st, l.op[0], l.len[0]), NOID_ERR_NOENT);
	cr_assert_eq(store_profile_join(b.st, profile, id, pk), 0);
	/* Unknown author (its DEVICE_ADD not in yet), then a gap. */
	cr_assert_eq(
	    store_op_apply_remote(b.st, l.op[1], l.len[1]), NOID_ERR_STATE);
	cr_assert_eq(store_op_apply_remote(b.st, l.op[0], l.len[0]), 0);
	cr_assert_eq(
	    store_op_apply_remote(b.st, l.op[2], l.len[2]), NOID_ERR_STATE);
	/* Every single flipped byte is refused. */
	for (i = 0; i < l.len[1]; i++) {
		bad = xmemdup(l.op[1], l.len[1]);
		bad[i] ^= 0x01;
		cr_assert_neq(store_op_apply_remote(b.st, bad, l.len[1]), 0,
		    "flip at %zu accepted", i);
		free(bad);
	}
	/* Truncated and empty input. */
	for (i = 0; i < l.len[1]; i += 7)
		cr_assert_neq(store_op_apply_remote(b.st, l.op[1], i), 0);
	cr_assert_eq(store_op_apply_remote(b.st, l.op[1], l.len[1]), 0);
	cr_assert_eq(
	    store_op_apply_remote(b.st, l.op[1], l.len[1]), NOID_ERR_DUPLICATE);
	cr_assert_eq(store_op_apply_remote(b.st, l.op[2], l.len[2]), 0);
	cr_assert_eq(store_op_apply_remote(b.st, l.op[3], l.len[3]), 0);
	cr_assert_eq(store_check(b.st), 0);
	oplist_free(&l);
	dev_close(&a);
	dev_close(&b);
}

Test(op, version_vectors_ship_only_the_difference)
{
	struct dev a, b;
	uint8_t profile[STORE_ID_LEN], id[STORE_ID_LEN], pk[32], x[16];
	struct store_vv vv;
	struct oplist l = {0};
	int i;

	dev_open(&a);
	dev_open(&b);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	cr_assert_eq(store_profile_join(b.st, profile, id, pk), 0);
	for (i = 0; i < 20; i++)
		cr_assert_eq(store_contact_add(a.st, profile, "c", x), 0);
	sync_once(a.st, b.st, profile);
	cr_assert_eq(store_contact_add(a.st, profile, "new", x), 0);
	cr_assert_eq(store_version_vector(b.st, profile, &vv), 0);
	cr_assert_eq(vv.n, 1);
	cr_assert_eq(vv.e[0].seq, 22); /* add device, name, 20 contacts */
	cr_assert_eq(store_ops_since(a.st, profile, &vv, op_collect, &l), 0);
	cr_assert_eq(l.n, 1);
	store_vv_free(&vv);
	oplist_free(&l);
	dev_close(&a);
	dev_close(&b);
}

/* A key pair the test signs with, as a rogue or stranger device would. */
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

/* A signed DEVICE_ADD in the op-log wire format, added to l. */
static void
forge_device_add(struct oplist *l, const uint8_t *profile,
    const struct rogue *author, uint64_t seq, uint64_t hlc,
    const uint8_t *target, const uint8_t pk[32])
{
	struct buf b;
	uint8_t zero[STORE_ID_LEN] = {0}, sig[64];

	buf_init(&b);
	buf_put(&b, "noid op v1", 10);
	buf_put_u8(&b, 1);
	buf_put(&b, profile, STORE_ID_LEN);
	buf_put(&b, author->id, STORE_ID_LEN);
	buf_put_u64(&b, seq);
	buf_put_u64(&b, hlc);
	buf_put_u16(&b, STORE_OP_DEVICE_ADD);
	buf_put(&b, target, STORE_ID_LEN);
	buf_put(&b, zero, STORE_ID_LEN);
	buf_put_u64(&b, 0);
	buf_put_u32(&b, 32);
	buf_put(&b, pk, 32);
	crypto_sign_detached(sig, NULL, b.data, b.len, author->sk);
	buf_put(&b, sig, sizeof sig);
	op_collect(b.data + 10, b.len - 10, l);
	buf_free(&b);
}

/* The key a store holds for device id (asserting it is listed). */
static void
device_pk(
    struct store *st, const uint8_t *profile, const uint8_t *id, uint8_t pk[32])
{
	struct store_device *d;
	size_t i, n;
	int found = 0;

	cr_assert_eq(store_devices_list(st, profile, &d, &n), 0);
	for (i = 0; i < n; i++)
		if (memcmp(d[i].id, id, STORE_ID_LEN) == 0) {
			memcpy(pk, d[i].pk, 32);
			found = 1;
		}
	store_devices_free(d, n);
	cr_assert(found);
}

/*
 * A's profile with B and a rogue member R added by A; C has joined but
 * is not added yet; evil is a key nobody was given.
 */
struct trio {
	struct dev a, b, c;
	struct rogue r, evil;
	uint8_t profile[STORE_ID_LEN];
};

static void
trio_open(struct trio *t)
{
	dev_open(&t->a);
	dev_open(&t->b);
	dev_open(&t->c);
	rogue_make(&t->r);
	rogue_make(&t->evil);
	cr_assert_eq(
	    store_profile_create(t->a.st, "alice", "a", t->profile), 0);
	dev_link(t->a.st, t->profile, &t->b, "b");
	cr_assert_eq(
	    store_profile_join(t->c.st, t->profile, t->c.id, t->c.pk), 0);
	cr_assert_eq(
	    store_device_add(t->a.st, t->profile, t->r.id, t->r.pk, "r"), 0);
}

static void
trio_close(struct trio *t)
{
	dev_close(&t->a);
	dev_close(&t->b);
	dev_close(&t->c);
}

Test(op, a_member_cannot_replace_another_devices_key)
{
	struct trio t;
	struct oplist forged = {0};
	uint8_t pk[32], x[STORE_ID_LEN];

	trio_open(&t);
	cr_assert_eq(
	    store_device_add(t.a.st, t.profile, t.c.id, t.c.pk, "c"), 0);
	sync_once(t.a.st, t.c.st, t.profile);

	/* A member's own store refuses to re-key another device. */
	cr_assert_eq(
	    store_device_add(t.c.st, t.profile, t.b.id, t.evil.pk, "b"),
	    NOID_ERR_EXISTS);
	/* An id its key does not commit to is refused too. */
	randombytes_buf(x, sizeof x);
	cr_assert_eq(store_device_add(t.c.st, t.profile, x, t.evil.pk, "x"),
	    NOID_ERR_INVAL);
	/* Renaming with the same key is fine. */
	cr_assert_eq(
	    store_device_add(t.c.st, t.profile, t.b.id, t.b.pk, "bee"), 0);

	/* A rogue member's signed op, backdated to win any clock order. */
	forge_device_add(&forged, t.profile, &t.r, 1, 1, t.b.id, t.evil.pk);
	forge_device_add(&forged, t.profile, &t.r, 1, 1, x, t.evil.pk);
	cr_assert_eq(store_op_apply_remote(t.a.st, forged.op[0], forged.len[0]),
	    NOID_ERR_EXISTS);
	cr_assert_eq(store_op_apply_remote(t.a.st, forged.op[1], forged.len[1]),
	    NOID_ERR_INVAL);
	device_pk(t.a.st, t.profile, t.b.id, pk);
	cr_assert_eq(memcmp(pk, t.b.pk, 32), 0);

	/* B's own ops still verify on A. */
	sync_once(t.a.st, t.b.st, t.profile);
	cr_assert_eq(store_contact_add(t.b.st, t.profile, "from b", x), 0);
	sync_once(t.b.st, t.a.st, t.profile);
	cr_assert_eq(store_check(t.a.st), 0);
	oplist_free(&forged);
	trio_close(&t);
}

Test(op, only_the_founders_genesis_is_accepted)
{
	struct dev a, b;
	struct rogue s;
	struct oplist forged = {0};
	struct store_device *d;
	uint8_t profile[STORE_ID_LEN];
	size_t n;

	dev_open(&a);
	dev_open(&b);
	rogue_make(&s);
	cr_assert_eq(store_profile_create(a.st, "alice", "a", profile), 0);
	cr_assert_eq(store_profile_join(b.st, profile, b.id, b.pk), 0);
	/* A stranger's self-signed genesis reaches B first. */
	forge_device_add(&forged, profile, &s, 1, 1, s.id, s.pk);
	cr_assert_eq(store_op_apply_remote(b.st, forged.op[0], forged.len[0]),
	    NOID_ERR_AUTH);
	/* The founder's log applies; the stranger is nowhere. */
	sync_once(a.st, b.st, profile);
	cr_assert_eq(store_devices_list(b.st, profile, &d, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(memcmp(d[0].id, s.id, STORE_ID_LEN) != 0, 1);
	store_devices_free(d, n);
	cr_assert_eq(store_op_apply_remote(b.st, forged.op[0], forged.len[0]),
	    NOID_ERR_STATE);
	oplist_free(&forged);
	dev_close(&a);
	dev_close(&b);
}

/*
 * Two members add the same new device concurrently (names differ) while
 * a rogue member tries to re-key it and another device: in every
 * arrival order the forgeries are refused and the tables agree.
 */
Test(op, concurrent_device_adds_converge_and_forgeries_never_land)
{
	struct trio t;
	struct oplist all = {0};
	uint8_t want[32], got[32], pk[32];
	unsigned seed;

	trio_open(&t);
	sync_once(t.a.st, t.b.st, t.profile);
	cr_assert_eq(
	    store_device_add(t.a.st, t.profile, t.c.id, t.c.pk, "c by a"), 0);
	cr_assert_eq(
	    store_device_add(t.b.st, t.profile, t.c.id, t.c.pk, "c by b"), 0);
	sync_once(t.a.st, t.b.st, t.profile);
	sync_once(t.b.st, t.a.st, t.profile);
	cr_assert_eq(store_projection_digest(t.a.st, t.profile, want), 0);
	cr_assert_eq(store_projection_digest(t.b.st, t.profile, got), 0);
	cr_assert_eq(memcmp(want, got, 32), 0);

	cr_assert_eq(
	    store_ops_since(t.a.st, t.profile, NULL, op_collect, &all), 0);
	forge_device_add(&all, t.profile, &t.r, 1, 1, t.c.id, t.evil.pk);
	for (seed = 1; seed <= 12; seed++) {
		struct dev o;
		uint8_t id[STORE_ID_LEN], opk[32];

		dev_open(&o);
		cr_assert_eq(store_profile_join(o.st, t.profile, id, opk), 0);
		apply_shuffled(o.st, &all, seed, 1);
		cr_assert_eq(store_projection_digest(o.st, t.profile, got), 0);
		cr_assert_eq(memcmp(want, got, 32), 0, "seed %u differs", seed);
		device_pk(o.st, t.profile, t.c.id, pk);
		cr_assert_eq(memcmp(pk, t.c.pk, 32), 0);
		dev_close(&o);
	}
	oplist_free(&all);
	trio_close(&t);
}
