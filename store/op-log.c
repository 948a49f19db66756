/*
 * op-log: the per-profile op log, the truth the tables are made from.
 *
 * An op is (profile, author device, seq, hybrid logical clock, type,
 * target, supersedes, body), signed with the author's Ed25519 key.  The
 * wire encoding below is what sync ships and what the signature covers
 * (after a context string).  Local ops are created, signed, appended
 * and projected in one transaction; remote ops are checked (known
 * author, not removed, next seq, signature) before the same projection.
 * Per author, seqs are contiguous from 1, so a version vector is one
 * number per device.  Trust: a device id is a hash of its signing key
 * and a profile id a hash of its founder's, so a member cannot re-key
 * another device and nobody else can write a profile's genesis, in
 * whatever order ops arrive.
 */
#include "store-int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define OP_VERSION 1
#define OP_SIG_CONTEXT "noid op v1"
#define DEVICE_ID_CONTEXT "noid device id v1"
#define PROFILE_ID_CONTEXT "noid profile id v1"
/* A peer's clock may run ahead by this much before we stop following. */
#define HLC_MAX_AHEAD_MS (10 * 60 * 1000)

void
id_random(uint8_t id[STORE_ID_LEN])
{
	randombytes_buf(id, STORE_ID_LEN);
}

/* The id a public key commits to: BLAKE2b-128 of a context and the key. */
static void
id_of_key(const char *ctx, const uint8_t pk[32], uint8_t id[STORE_ID_LEN])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, STORE_ID_LEN);
	crypto_generichash_update(&h, (const uint8_t *)ctx, strlen(ctx));
	crypto_generichash_update(&h, pk, 32);
	crypto_generichash_final(&h, id, STORE_ID_LEN);
}

void
store_device_id(const uint8_t pk[32], uint8_t id[STORE_ID_LEN])
{
	id_of_key(DEVICE_ID_CONTEXT, pk, id);
}

/* The wire encoding; with_sig 0 gives the bytes the signature covers. */
void
op_encode(const struct op *op, struct buf *b, int with_sig)
{
	buf_put_u8(b, OP_VERSION);
	buf_put(b, op->profile, STORE_ID_LEN);
	buf_put(b, op->author, STORE_ID_LEN);
	buf_put_u64(b, op->seq);
	buf_put_u64(b, op->hlc);
	buf_put_u16(b, op->type);
	buf_put(b, op->target, STORE_ID_LEN);
	buf_put(b, op->sup_author, STORE_ID_LEN);
	buf_put_u64(b, op->sup_seq);
	buf_put_u32(b, (uint32_t)op->body_len);
	buf_put(b, op->body, op->body_len);
	if (with_sig)
		buf_put(b, op->sig, OP_SIG_LEN);
}

/* Decode an op; body points into p. */
int
op_decode(const uint8_t *p, size_t len, struct op *op)
{
	struct reader r;
	uint32_t blen = 0;
	uint8_t v = 0;

	memset(op, 0, sizeof *op);
	reader_init(&r, p, len);
	reader_u8(&r, &v);
	reader_bytes(&r, op->profile, STORE_ID_LEN);
	reader_bytes(&r, op->author, STORE_ID_LEN);
	reader_u64(&r, &op->seq);
	reader_u64(&r, &op->hlc);
	reader_u16(&r, &op->type);
	reader_bytes(&r, op->target, STORE_ID_LEN);
	reader_bytes(&r, op->sup_author, STORE_ID_LEN);
	reader_u64(&r, &op->sup_seq);
	reader_u32(&r, &blen);
	if (r.err || v != OP_VERSION)
		return v != OP_VERSION && !r.err ? NOID_ERR_VERSION
		                                 : NOID_ERR_INVAL;
	if (blen > OP_BODY_MAX)
		return NOID_ERR_TOOBIG;
	reader_ref(&r, &op->body, blen);
	op->body_len = blen;
	reader_bytes(&r, op->sig, OP_SIG_LEN);
	if (reader_done(&r) != 0 || op->seq == 0)
		return NOID_ERR_INVAL;
	/* The log keeps no author for "no supersedes": one named here
	 * would be lost, and the stored op no longer match its signature
	 * at every peer it is passed on to. */
	if (op->sup_seq == 0 && !sodium_is_zero(op->sup_author, STORE_ID_LEN))
		return NOID_ERR_INVAL;
	return 0;
}

/* The bytes an op signature covers (caller frees b). */
static void
op_signed_bytes(const struct op *op, struct buf *b)
{
	buf_init(b);
	buf_put(b, OP_SIG_CONTEXT, sizeof OP_SIG_CONTEXT - 1);
	op_encode(op, b, 0);
}

/* Advance the clock for a local event and return the new stamp. */
uint64_t
hlc_tick(struct store *st)
{
	uint64_t now = clock_wall_ms() << 16;

	st->hlc = now > st->hlc ? now : st->hlc + 1;
	return st->hlc;
}

/* Move past a remote stamp, but never far past our own wall clock. */
void
hlc_observe(struct store *st, uint64_t remote)
{
	uint64_t cap = (clock_wall_ms() + HLC_MAX_AHEAD_MS) << 16;

	if (remote > cap)
		remote = cap;
	if (remote > st->hlc)
		st->hlc = remote;
}

/* Persist the clock (inside the caller's transaction). */
int
hlc_save(struct store *st)
{
	sqlite3_stmt *s =
	    db_prep(st, "INSERT OR REPLACE INTO meta(k, v) VALUES ('hlc', ?)");

	sqlite3_bind_int64(s, 1, (sqlite3_int64)st->hlc);
	return db_step_done(st, s);
}

/* Load this device's key for profile into st->key. */
int
op_key_load(struct store *st, const uint8_t profile[STORE_ID_LEN])
{
	sqlite3_stmt *s;
	int rc;

	if (st->key.sk != NULL &&
	    memcmp(st->key.profile, profile, STORE_ID_LEN) == 0)
		return 0;
	secret_free(st->key.sk);
	memset(&st->key, 0, sizeof st->key);
	s = db_prep(st,
	    "SELECT device_id, sign_sk FROM local_devices"
	    " WHERE profile_id = ?");
	db_bind_id(s, 1, profile);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		rc = rc == SQLITE_DONE ? NOID_ERR_NOENT : db_err(st, rc);
		sqlite3_reset(s);
		return rc;
	}
	if (sqlite3_column_bytes(s, 1) != crypto_sign_SECRETKEYBYTES) {
		sqlite3_reset(s);
		return NOID_ERR_CORRUPT;
	}
	st->key.sk = secret_alloc(crypto_sign_SECRETKEYBYTES);
	memcpy(
	    st->key.sk, sqlite3_column_blob(s, 1), crypto_sign_SECRETKEYBYTES);
	db_col_id(s, 0, st->key.device);
	memcpy(st->key.profile, profile, STORE_ID_LEN);
	sqlite3_reset(s);
	return 0;
}

/* Highest seq held from author (0 if none). */
static int
op_last_seq(struct store *st, const uint8_t *profile, const uint8_t *author,
    uint64_t *seq)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT max(seq) FROM ops"
	    " WHERE profile_id = ? AND author = ?");
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, author);
	rc = sqlite3_step(s);
	*seq = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : db_err(st, rc);
}

/* Append an op row (no projection). */
int
op_insert(struct store *st, const struct op *op)
{
	sqlite3_stmt *s = db_prep(st,
	    "INSERT INTO ops(profile_id, author, seq, hlc, type, target,"
	    " sup_author, sup_seq, body, sig) VALUES (?,?,?,?,?,?,?,?,?,?)");

	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->author);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)op->seq);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)op->hlc);
	sqlite3_bind_int(s, 5, op->type);
	db_bind_id(s, 6, op->target);
	if (op->sup_seq != 0)
		db_bind_id(s, 7, op->sup_author);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)op->sup_seq);
	db_bind_blob(s, 9, op->body, op->body_len);
	sqlite3_bind_blob(s, 10, op->sig, OP_SIG_LEN, SQLITE_STATIC);
	return db_step_done(st, s);
}

/*
 * The author's public key and standing.  A profile with no devices yet
 * accepts only its genesis: a self-signed first DEVICE_ADD whose key is
 * the one the profile id commits to (store_profile_create), so whoever
 * sends ops first cannot make itself the founder.
 */
static int
op_author(struct store *st, const struct op *op, uint8_t pk[32])
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT pk, removed, cutoff FROM devices"
	    " WHERE profile_id = ? AND id = ?");
	uint8_t id[STORE_ID_LEN];
	int rc, removed;
	uint64_t cutoff;

	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->author);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(s, 0) != 32) {
			sqlite3_reset(s);
			return NOID_ERR_CORRUPT;
		}
		memcpy(pk, sqlite3_column_blob(s, 0), 32);
		removed = sqlite3_column_int(s, 1);
		cutoff = (uint64_t)sqlite3_column_int64(s, 2);
		sqlite3_reset(s);
		return removed && op->seq > cutoff ? NOID_ERR_BLOCKED : 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_err(st, rc);
	s = db_prep(st, "SELECT count(*) FROM devices WHERE profile_id = ?");
	db_bind_id(s, 1, op->profile);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW && sqlite3_column_int64(s, 0) == 0;
	sqlite3_reset(s);
	if (!rc || op->type != STORE_OP_DEVICE_ADD || op->seq != 1 ||
	    memcmp(op->target, op->author, STORE_ID_LEN) != 0 ||
	    op->body_len < 32)
		return NOID_ERR_STATE;
	id_of_key(PROFILE_ID_CONTEXT, op->body, id);
	if (memcmp(id, op->profile, STORE_ID_LEN) != 0)
		return NOID_ERR_AUTH;
	memcpy(pk, op->body, 32);
	return 0;
}

/*
 * A DEVICE_ADD must name the device id its key commits to
 * (store_device_id), so a device's key never changes: every add of one
 * id carries the same key whatever the order ops arrive in, and no
 * member can point another device's id at a key of its own.
 * NOID_ERR_EXISTS: the device is here with another key.
 */
static int
op_check_device_add(struct store *st, const struct op *op)
{
	sqlite3_stmt *s;
	uint8_t id[STORE_ID_LEN];
	int rc;

	if (op->type != STORE_OP_DEVICE_ADD)
		return 0;
	if (op->body_len < 32)
		return NOID_ERR_INVAL;
	s = db_prep(
	    st, "SELECT pk FROM devices WHERE profile_id = ? AND id = ?");
	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW &&
	    (sqlite3_column_bytes(s, 0) != 32 ||
	        memcmp(sqlite3_column_blob(s, 0), op->body, 32) != 0))
		rc = NOID_ERR_EXISTS;
	else
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(st, rc);
	sqlite3_reset(s);
	if (rc != 0)
		return rc;
	store_device_id(op->body, id);
	return memcmp(id, op->target, STORE_ID_LEN) == 0 ? 0 : NOID_ERR_INVAL;
}

/*
 * Name the op that currently wins a register as the one op replaces,
 * and stamp op past it: registers order by (hlc, author, seq), so a
 * write made over a value from a fast clock must carry a later stamp
 * to win everywhere, whatever order replicas get the ops in.  Our own
 * clock stays where hlc_tick left it, so a stamp far ahead lifts this
 * one register, not every later op of ours.
 */
static void
op_supersedes(struct store *st, struct op *op, int kind, const char *field)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT author, seq, hlc FROM registers"
	    " WHERE profile_id = ? AND target = ?"
	    " AND kind = ? AND field = ?");
	uint64_t hlc;

	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	sqlite3_bind_int(s, 3, kind);
	sqlite3_bind_text(s, 4, field, -1, SQLITE_STATIC);
	/* Seqs start at 1; a 0 would sign an author op_decode refuses. */
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 1) > 0) {
		db_col_id(s, 0, op->sup_author);
		op->sup_seq = (uint64_t)sqlite3_column_int64(s, 1);
		hlc = (uint64_t)sqlite3_column_int64(s, 2);
		/* At the very top the author decides, as for any tie. */
		if (hlc >= op->hlc)
			op->hlc = hlc < UINT64_MAX ? hlc + 1 : hlc;
	}
	sqlite3_reset(s);
}

/*
 * Create, sign, append and project a local op in one transaction.
 * sup_kind/sup_field name the register the op replaces (0: none).
 */
int
op_local(struct store *st, const uint8_t profile[STORE_ID_LEN], uint16_t type,
    const uint8_t target[STORE_ID_LEN], const uint8_t *body, size_t body_len,
    int sup_kind, const char *sup_field)
{
	struct op op;
	struct buf b;
	uint8_t pk[32];
	uint64_t last;
	int rc;

	if (body_len > OP_BODY_MAX)
		return NOID_ERR_TOOBIG;
	if ((rc = op_key_load(st, profile)) != 0)
		return rc;
	memset(&op, 0, sizeof op);
	memcpy(op.profile, profile, STORE_ID_LEN);
	memcpy(op.author, st->key.device, STORE_ID_LEN);
	memcpy(op.target, target, STORE_ID_LEN);
	op.type = type;
	op.body = body;
	op.body_len = body_len;
	if ((rc = db_begin(st)) != 0)
		return rc;
	if ((rc = op_last_seq(st, profile, op.author, &last)) != 0)
		goto out;
	op.seq = last + 1;
	/* We must be a live member (or be writing the genesis). */
	if ((rc = op_author(st, &op, pk)) != 0)
		goto out;
	if ((rc = op_check_device_add(st, &op)) != 0)
		goto out;
	op.hlc = hlc_tick(st);
	if (sup_kind != 0)
		op_supersedes(st, &op, sup_kind, sup_field);
	op_signed_bytes(&op, &b);
	crypto_sign_detached(op.sig, NULL, b.data, b.len, st->key.sk);
	buf_free(&b);
	if ((rc = op_insert(st, &op)) != 0)
		goto out;
	if ((rc = project_op(st, &op)) != 0)
		goto out;
	rc = hlc_save(st);
out:
	return db_end(st, rc);
}

/* Is profile here? */
static int
profile_exists(struct store *st, const uint8_t profile[STORE_ID_LEN])
{
	sqlite3_stmt *s = db_prep(st, "SELECT 1 FROM profiles WHERE id = ?");
	int rc;

	db_bind_id(s, 1, profile);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0
	    : rc == SQLITE_DONE ? NOID_ERR_NOENT
	                        : db_err(st, rc);
}

int
store_op_apply_remote(struct store *st, const uint8_t *p, size_t len)
{
	struct op op;
	struct buf b;
	uint8_t pk[32];
	uint64_t last;
	int rc;

	if ((rc = op_decode(p, len, &op)) != 0)
		return rc;
	if ((rc = db_begin(st)) != 0)
		return rc;
	if ((rc = profile_exists(st, op.profile)) != 0)
		goto out;
	if ((rc = op_last_seq(st, op.profile, op.author, &last)) != 0)
		goto out;
	if (op.seq <= last) {
		rc = NOID_ERR_DUPLICATE;
		goto out;
	}
	if ((rc = op_author(st, &op, pk)) != 0)
		goto out;
	if (op.seq != last + 1) {
		rc = NOID_ERR_STATE;
		goto out;
	}
	op_signed_bytes(&op, &b);
	rc = crypto_sign_verify_detached(op.sig, b.data, b.len, pk);
	buf_free(&b);
	if (rc != 0) {
		rc = NOID_ERR_CRYPTO;
		goto out;
	}
	if ((rc = op_check_device_add(st, &op)) != 0)
		goto out;
	if ((rc = op_insert(st, &op)) != 0)
		goto out;
	if ((rc = project_op(st, &op)) != 0)
		goto out;
	hlc_observe(st, op.hlc);
	rc = hlc_save(st);
out:
	return db_end(st, rc);
}

int
store_version_vector(
    struct store *st, const uint8_t profile[STORE_ID_LEN], struct store_vv *vv)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT author, max(seq) FROM ops WHERE profile_id = ?"
	    " AND void = 0 GROUP BY author ORDER BY author");
	int rc;

	vv->e = NULL;
	vv->n = 0;
	db_bind_id(s, 1, profile);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		vv->e = xreallocarray(vv->e, vv->n + 1, sizeof *vv->e);
		db_col_id(s, 0, vv->e[vv->n].device);
		vv->e[vv->n].seq = (uint64_t)sqlite3_column_int64(s, 1);
		vv->n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_vv_free(vv);
		return db_err(st, rc);
	}
	return 0;
}

void
store_vv_free(struct store_vv *vv)
{
	free(vv->e);
	vv->e = NULL;
	vv->n = 0;
}

/* What the peer holds from device (0 if it does not know it). */
static uint64_t
vv_get(const struct store_vv *vv, const uint8_t *device)
{
	size_t i;

	for (i = 0; vv != NULL && i < vv->n; i++)
		if (memcmp(vv->e[i].device, device, STORE_ID_LEN) == 0)
			return vv->e[i].seq;
	return 0;
}

/* One author's missing run, and where it starts in our log. */
struct run {
	uint8_t author[STORE_ID_LEN];
	uint64_t from; /* first seq to send */
	int64_t n; /* local position of that op */
};

static int
run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/* Send one author's ops from seq `from` on. */
static int
ops_send_run(struct store *st, const uint8_t *profile, const struct run *run,
    store_op_cb cb, void *arg)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT seq, hlc, type, target, sup_author, sup_seq, body, sig"
	    " FROM ops WHERE profile_id = ? AND author = ? AND seq >= ?"
	    " AND void = 0 ORDER BY seq");
	struct op op;
	struct buf b;
	int rc;

	buf_init(&b);
	memset(&op, 0, sizeof op);
	memcpy(op.profile, profile, STORE_ID_LEN);
	memcpy(op.author, run->author, STORE_ID_LEN);
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, run->author);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)run->from);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		op.seq = (uint64_t)sqlite3_column_int64(s, 0);
		op.hlc = (uint64_t)sqlite3_column_int64(s, 1);
		op.type = (uint16_t)sqlite3_column_int(s, 2);
		db_col_id(s, 3, op.target);
		db_col_id(s, 4, op.sup_author);
		op.sup_seq = (uint64_t)sqlite3_column_int64(s, 5);
		op.body = sqlite3_column_blob(s, 6);
		op.body_len = (size_t)sqlite3_column_bytes(s, 6);
		if (sqlite3_column_bytes(s, 7) != OP_SIG_LEN) {
			rc = NOID_ERR_CORRUPT;
			goto out;
		}
		memcpy(op.sig, sqlite3_column_blob(s, 7), OP_SIG_LEN);
		buf_reset(&b);
		op_encode(&op, &b, 1);
		if ((rc = cb(b.data, b.len, arg)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(st, rc);
out:
	sqlite3_reset(s);
	buf_free(&b);
	return rc;
}

/*
 * Runs go out in the order their first op arrived here, so a device's
 * DEVICE_ADD (by another author) always precedes that device's ops.
 */
int
store_ops_since(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const struct store_vv *peer, store_op_cb cb, void *arg)
{
	struct store_vv mine;
	struct run *runs = NULL;
	sqlite3_stmt *s;
	size_t i, nruns = 0;
	uint64_t from;
	int rc;

	if ((rc = store_version_vector(st, profile, &mine)) != 0)
		return rc;
	s = db_prep(st,
	    "SELECT n FROM ops WHERE profile_id = ? AND author = ?"
	    " AND seq = ?");
	for (i = 0; i < mine.n; i++) {
		from = vv_get(peer, mine.e[i].device) + 1;
		if (from > mine.e[i].seq)
			continue;
		runs = xreallocarray(runs, nruns + 1, sizeof *runs);
		memcpy(runs[nruns].author, mine.e[i].device, STORE_ID_LEN);
		runs[nruns].from = from;
		db_bind_id(s, 1, profile);
		db_bind_id(s, 2, mine.e[i].device);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)from);
		runs[nruns].n = sqlite3_step(s) == SQLITE_ROW
		    ? sqlite3_column_int64(s, 0)
		    : INT64_MAX;
		sqlite3_reset(s);
		nruns++;
	}
	/* qsort may not be handed the NULL of an empty list. */
	if (nruns > 1)
		qsort(runs, nruns, sizeof *runs, run_cmp);
	for (i = 0; i < nruns && rc == 0; i++)
		rc = ops_send_run(st, profile, &runs[i], cb, arg);
	free(runs);
	store_vv_free(&mine);
	return rc;
}

/* ---- profiles and devices ---- */

/*
 * Make this device's keys for a profile (inside a transaction); its id
 * is the one its key commits to.  profile NULL: a new profile, whose id
 * commits to the same key (it is the founder), written to new_profile.
 */
static int
local_device_make(struct store *st, const uint8_t *profile,
    uint8_t *new_profile, uint8_t device[STORE_ID_LEN], uint8_t pk[32])
{
	sqlite3_stmt *s;
	uint8_t *sk = secret_alloc(crypto_sign_SECRETKEYBYTES);
	int rc;

	crypto_sign_keypair(pk, sk);
	store_device_id(pk, device);
	if (profile == NULL) {
		id_of_key(PROFILE_ID_CONTEXT, pk, new_profile);
		profile = new_profile;
	}
	s = db_prep(st, "INSERT INTO profiles(id) VALUES (?)");
	db_bind_id(s, 1, profile);
	if ((rc = db_step_done(st, s)) != 0) {
		secret_free(sk);
		return rc == NOID_ERR_INVAL ? NOID_ERR_EXISTS : rc;
	}
	s = db_prep(st,
	    "INSERT INTO local_devices(profile_id, device_id,"
	    " sign_sk) VALUES (?, ?, ?)");
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, device);
	sqlite3_bind_blob(s, 3, sk, crypto_sign_SECRETKEYBYTES, SQLITE_STATIC);
	rc = db_step_done(st, s);
	secret_free(sk);
	return rc;
}

/* DEVICE_ADD body: public key, then the name. */
static int
device_add_op(struct store *st, const uint8_t *profile, const uint8_t *device,
    const uint8_t pk[32], const char *name)
{
	struct buf b;
	int rc;

	buf_init(&b);
	buf_put(&b, pk, 32);
	if (name != NULL)
		buf_put(&b, name, strlen(name));
	rc = op_local(
	    st, profile, STORE_OP_DEVICE_ADD, device, b.data, b.len, 0, NULL);
	buf_free(&b);
	return rc;
}

int
store_profile_create(struct store *st, const char *name,
    const char *device_name, uint8_t id[STORE_ID_LEN])
{
	uint8_t device[STORE_ID_LEN], pk[32];
	int rc;

	if (name == NULL || strlen(name) > STORE_TEXT_MAX)
		return NOID_ERR_INVAL;
	if ((rc = db_begin(st)) != 0)
		return rc;
	if ((rc = local_device_make(st, NULL, id, device, pk)) != 0)
		goto out;
	if ((rc = device_add_op(st, id, device, pk, device_name)) != 0)
		goto out;
	rc = store_profile_set(st, id, "name", name);
out:
	return db_end(st, rc);
}

int
store_profile_join(struct store *st, const uint8_t profile[STORE_ID_LEN],
    uint8_t device[STORE_ID_LEN], uint8_t pk[32])
{
	int rc;

	if ((rc = db_begin(st)) != 0)
		return rc;
	rc = local_device_make(st, profile, NULL, device, pk);
	return db_end(st, rc);
}

int
store_device_add(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t device[STORE_ID_LEN], const uint8_t pk[32], const char *name)
{
	return device_add_op(st, profile, device, pk, name);
}

int
store_device_remove(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t device[STORE_ID_LEN])
{
	uint8_t body[8];
	uint64_t last;
	int rc;

	if ((rc = db_begin(st)) != 0)
		return rc;
	if ((rc = op_last_seq(st, profile, device, &last)) == 0) {
		be64_put(body, last);
		rc = op_local(st, profile, STORE_OP_DEVICE_REMOVE, device, body,
		    sizeof body, 0, NULL);
	}
	return db_end(st, rc);
}

int
store_devices_list(struct store *st, const uint8_t profile[STORE_ID_LEN],
    struct store_device **out, size_t *n)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT d.id, d.pk, d.name, d.removed, (SELECT max(seq) FROM ops o"
	    " WHERE o.profile_id = d.profile_id AND o.author = d.id"
	    " AND o.void = 0) FROM devices d WHERE d.profile_id = ?"
	    " ORDER BY d.id");
	struct store_device *d;
	int rc;

	*out = NULL;
	*n = 0;
	db_bind_id(s, 1, profile);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		d = &(*out)[(*n)++];
		db_col_id(s, 0, d->id);
		memset(d->pk, 0, sizeof d->pk);
		if (sqlite3_column_bytes(s, 1) == 32)
			memcpy(d->pk, sqlite3_column_blob(s, 1), 32);
		d->name = db_col_strdup(s, 2);
		d->removed = sqlite3_column_int(s, 3);
		d->seq = (uint64_t)sqlite3_column_int64(s, 4);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_devices_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err(st, rc);
	}
	return 0;
}

void
store_devices_free(struct store_device *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(d[i].name);
	free(d);
}
