/*
 * Tests for the op log: signatures, dedupe, gaps, version vectors, and
 * above all convergence — three devices make concurrent changes (edits
 * of the same message and field, delete against edit, read markers,
 * a device removed while it keeps writing), then the union of their
 * ops is applied to fresh stores in many random causal orders, with
 * duplicates thrown in: every order must give the same tables.
 */
#include "store-test.h"

struct oplist {
	uint8_t **op;
	size_t *len;
	size_t n;
};

static int
collect(const uint8_t *op, size_t len, void *arg)
{
	struct oplist *l = arg;

	l->op = xreallocarray(l->op, l->n + 1, sizeof *l->op);
	l->len = xreallocarray(l->len, l->n + 1, sizeof *l->len);
	l->op[l->n] = xmemdup(op, len);
	l->len[l->n] = len;
	l->n++;
	return 0;
}

static void
oplist_free(struct oplist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->op[i]);
	free(l->op);
	free(l->len);
	memset(l, 0, sizeof *l);
}

/* Ship what `to` lacks from `from`; every op must apply. */
static void
sync_once(struct store *from, struct store *to, const uint8_t *profile)
{
	struct store_vv vv;
	struct oplist l = {0};
	size_t i;

	cr_assert_eq(store_version_vector(to, profile, &vv), 0);
	cr_assert_eq(store_ops_since(from, profile, &vv, collect, &l), 0);
	for (i = 0; i < l.n; i++)
		cr_assert_eq(store_op_apply_remote(to, l.op[i], l.len[i]), 0,
		    "op %zu of %zu", i, l.n);
	store_vv_free(&vv);
	oplist_free(&l);
}

struct dev {
	char *dir;
	struct store *st;
	uint8_t id[STORE_ID_LEN];
	uint8_t pk[32];
};

static void
dev_open(struct dev *d)
{
	d->dir = test_dir();
	cr_assert_eq(
	    store_open(d->dir, TEST_PW, TEST_FLAGS | STORE_PLAIN, &d->st), 0);
}

static void
dev_close(struct dev *d)
{
	store_close(d->st);
	test_dir_remove(d->dir);
}

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
	cr_assert_eq(
	    store_profile_join(w->b.st, w->profile, w->b.id, w->b.pk), 0);
	cr_assert_eq(
	    store_profile_join(w->c.st, w->profile, w->c.id, w->c.pk), 0);
	cr_assert_eq(
	    store_device_add(w->a.st, w->profile, w->b.id, w->b.pk, "b"), 0);
	cr_assert_eq(
	    store_device_add(w->a.st, w->profile, w->c.id, w->c.pk, "c"), 0);
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
	    store_ops_since(w->a.st, w->profile, &none, collect, &w->all), 0);
	{
		struct oplist cl = {0};
		cr_assert_eq(
		    store_ops_since(w->c.st, w->profile, &none, collect, &cl),
		    0);
		for (i = 0; i < cl.n; i++)
			collect(cl.op[i], cl.len[i], &w->all);
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

/* Apply ops in a random causal order with random repeats. */
static void
apply_shuffled(struct store *st, const struct oplist *l, unsigned seed)
{
	size_t *order = xcalloc(l->n, sizeof *order), *pending;
	size_t i, j, t, npending, next, done = 0;
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
			/* C's late ops are refused once C's removal is in. */
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
		apply_shuffled(o.st, &w.all, seed);
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
	cr_assert_eq(store_ops_since(a.st, profile, NULL, collect, &l), 0);
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
	cr_assert_eq(store_ops_since(a.st, profile, &vv, collect, &l), 0);
	cr_assert_eq(l.n, 1);
	store_vv_free(&vv);
	oplist_free(&l);
	dev_close(&a);
	dev_close(&b);
}
