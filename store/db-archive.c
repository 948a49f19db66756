/*
 * db-archive: a whole profile as one password-encrypted file, for
 * backups and for moving to another machine.
 *
 * Layout: a clear header (magic, Argon2id salt and limits, secretstream
 * header), then secretstream messages, each preceded by its u32 length
 * and authenticated together with the header: META (record count, ids,
 * this device's signing key), every op in applicable order, CONN (agent
 * state and bookkeeping per connection), END with the FINAL tag, so a
 * truncated file is detected.  Import replays the ops through the
 * remote-apply path (signatures checked) inside one transaction: any
 * error leaves the store as it was.
 */
#include "store-int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#define ARC_MAGIC "NOIDARC1"
#define ARC_HEAD_LEN                                                           \
	(8 + crypto_pwhash_SALTBYTES + 8 + 8 +                                 \
	    crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define ARC_REC_MAX (OP_BODY_MAX + OP_HEAD_LEN + OP_SIG_LEN + 256)
#define ARC_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

enum arc_rec { REC_META = 1, REC_OP = 2, REC_CONN = 3, REC_END = 4 };

struct arc {
	FILE *f;
	crypto_secretstream_xchacha20poly1305_state ss;
	uint8_t head[ARC_HEAD_LEN];
	struct buf ct;
	uint64_t done, total;
	store_progress_cb cb;
	void *arg;
};

/* Derive the archive key from password and the header's parameters. */
static int
arc_key(const char *password, const uint8_t *salt, uint64_t ops, uint64_t mem,
    uint8_t key[32])
{
	if (password == NULL || password[0] == '\0')
		return NOID_ERR_INVAL;
	if (strlen(password) > STORE_PASSWORD_MAX)
		return NOID_ERR_TOOBIG;
	/* Refuse parameters meant to exhaust us. */
	if (ops < crypto_pwhash_OPSLIMIT_MIN ||
	    ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
	    mem < crypto_pwhash_MEMLIMIT_MIN ||
	    mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
		return NOID_ERR_CORRUPT;
	if (crypto_pwhash(key, 32, password, strlen(password), salt, ops,
	        (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return NOID_ERR_INTERNAL;
	return 0;
}

/* Encrypt and write one record; END carries the FINAL tag. */
static int
arc_put(struct arc *a, int type, const void *p, size_t len)
{
	uint8_t *pt = secret_alloc(len + 1), lenb[4];
	int rc = 0;

	pt[0] = (uint8_t)type;
	if (len > 0)
		memcpy(pt + 1, p, len);
	buf_reset(&a->ct);
	buf_reserve(&a->ct, len + 1 + ARC_ABYTES);
	crypto_secretstream_xchacha20poly1305_push(&a->ss, a->ct.data, NULL, pt,
	    len + 1, a->head, sizeof a->head,
	    type == REC_END ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
	                    : 0);
	secret_free(pt);
	be32_put(lenb, (uint32_t)(len + 1 + ARC_ABYTES));
	if (fwrite(lenb, 1, 4, a->f) != 4 ||
	    fwrite(a->ct.data, 1, len + 1 + ARC_ABYTES, a->f) !=
	        len + 1 + ARC_ABYTES)
		rc = NOID_ERR_IO;
	if (rc == 0 && type != REC_META && type != REC_END) {
		a->done++;
		if (a->cb != NULL && a->cb(a->done, a->total, a->arg) != 0)
			rc = NOID_ERR_STATE;
	}
	return rc;
}

static int
arc_put_op(const uint8_t *op, size_t len, void *arg)
{
	return arc_put(arg, REC_OP, op, len);
}

/* One count(*) bound to the profile. */
static int
arc_count(
    struct store *st, const char *sql, const uint8_t *profile, uint64_t *n)
{
	sqlite3_stmt *s = db_prep(st, sql);
	int rc;

	db_bind_id(s, 1, profile);
	rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : db_err(st, rc);
}

/* META: total records, profile, device id and signing key. */
static int
arc_put_meta(struct store *st, struct arc *a, const uint8_t *profile)
{
	uint8_t *meta;
	size_t len = 8 + 2 * STORE_ID_LEN + crypto_sign_SECRETKEYBYTES;
	int rc;

	if ((rc = op_key_load(st, profile)) != 0)
		return rc;
	meta = secret_alloc(len);
	be64_put(meta, a->total);
	memcpy(meta + 8, profile, STORE_ID_LEN);
	memcpy(meta + 8 + STORE_ID_LEN, st->key.device, STORE_ID_LEN);
	memcpy(meta + 8 + 2 * STORE_ID_LEN, st->key.sk,
	    crypto_sign_SECRETKEYBYTES);
	rc = arc_put(a, REC_META, meta, len);
	secret_free(meta);
	return rc;
}

/* CONN records: the local bookkeeping of every connection. */
static int
arc_put_conns(struct store *st, struct arc *a, const uint8_t *profile)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT id, send_seq, recv_seq,"
	    " send_hash, recv_hash, state"
	    " FROM conn_local WHERE profile_id = ?");
	static const uint8_t zero[STORE_HASH_LEN];
	struct buf b;
	int rc, i;

	buf_init(&b);
	db_bind_id(s, 1, profile);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		buf_reset(&b);
		buf_put(&b, sqlite3_column_blob(s, 0), STORE_ID_LEN);
		buf_put_u64(&b, (uint64_t)sqlite3_column_int64(s, 1));
		buf_put_u64(&b, (uint64_t)sqlite3_column_int64(s, 2));
		for (i = 3; i <= 4; i++)
			buf_put(&b,
			    sqlite3_column_bytes(s, i) == STORE_HASH_LEN
			        ? sqlite3_column_blob(s, i)
			        : zero,
			    STORE_HASH_LEN);
		buf_put_u8(&b, sqlite3_column_type(s, 5) != SQLITE_NULL);
		buf_put(&b, sqlite3_column_blob(s, 5),
		    (size_t)sqlite3_column_bytes(s, 5));
		if ((rc = arc_put(a, REC_CONN, b.data, b.len)) != 0)
			break;
	}
	rc = rc == SQLITE_DONE ? 0 : rc < 0 ? rc : db_err(st, rc);
	sqlite3_reset(s);
	buf_free_secret(&b);
	return rc;
}

int
store_export(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *path, const char *password, int flags, store_progress_cb cb,
    void *arg)
{
	struct arc a;
	uint8_t key[32];
	uint64_t ops = (flags & STORE_FAST_KDF)
	    ? crypto_pwhash_OPSLIMIT_MIN
	    : crypto_pwhash_OPSLIMIT_INTERACTIVE;
	uint64_t mem = (flags & STORE_FAST_KDF)
	    ? crypto_pwhash_MEMLIMIT_MIN
	    : crypto_pwhash_MEMLIMIT_INTERACTIVE;
	uint64_t nops, nconns;
	char *tmp;
	int rc, began = 0;

	memset(&a, 0, sizeof a);
	buf_init(&a.ct);
	a.cb = cb;
	a.arg = arg;
	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	/* One transaction: the archive is one consistent snapshot. */
	if ((rc = db_begin(st)) != 0)
		goto out;
	began = 1;
	if ((rc = arc_count(st,
	         "SELECT count(*) FROM ops WHERE"
	         " profile_id = ? AND void = 0",
	         profile, &nops)) != 0 ||
	    (rc = arc_count(st,
	         "SELECT count(*) FROM conn_local WHERE"
	         " profile_id = ?",
	         profile, &nconns)) != 0)
		goto out;
	a.total = nops + nconns;
	memcpy(a.head, ARC_MAGIC, 8);
	randombytes_buf(a.head + 8, crypto_pwhash_SALTBYTES);
	be64_put(a.head + 8 + crypto_pwhash_SALTBYTES, ops);
	be64_put(a.head + 16 + crypto_pwhash_SALTBYTES, mem);
	if ((rc = arc_key(password, a.head + 8, ops, mem, key)) != 0)
		goto out;
	crypto_secretstream_xchacha20poly1305_init_push(&a.ss,
	    a.head + ARC_HEAD_LEN -
	        crypto_secretstream_xchacha20poly1305_HEADERBYTES,
	    key);
	sodium_memzero(key, sizeof key);
	if ((a.f = fopen(tmp, "wxe")) == NULL) {
		rc = NOID_ERR_IO;
		goto out;
	}
	if (fwrite(a.head, 1, sizeof a.head, a.f) != sizeof a.head) {
		rc = NOID_ERR_IO;
		goto out;
	}
	if ((rc = arc_put_meta(st, &a, profile)) != 0 ||
	    (rc = store_ops_since(st, profile, NULL, arc_put_op, &a)) != 0 ||
	    (rc = arc_put_conns(st, &a, profile)) != 0 ||
	    (rc = arc_put(&a, REC_END, NULL, 0)) != 0)
		goto out;
	if (fflush(a.f) != 0 || fsync(fileno(a.f)) != 0)
		rc = NOID_ERR_IO;
	if (fclose(a.f) != 0 && rc == 0)
		rc = NOID_ERR_IO;
	a.f = NULL;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = NOID_ERR_IO;
	if (rc == 0)
		rc = fsync_dir_of(path);
out:
	if (began)
		db_rollback(st); /* read only: nothing to keep */
	if (a.f != NULL)
		fclose(a.f);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	buf_free(&a.ct);
	sodium_memzero(&a.ss, sizeof a.ss);
	return rc;
}

/*
 * Read and decrypt one record into *pt (secret memory, caller frees).
 * bad: the error for a record that does not authenticate.
 */
static int
arc_get(struct arc *a, uint8_t **pt, size_t *len, uint8_t *tag, int bad)
{
	uint8_t lenb[4];
	uint32_t clen;

	*pt = NULL;
	if (fread(lenb, 1, 4, a->f) != 4)
		return NOID_ERR_CORRUPT;
	clen = be32_get(lenb);
	if (clen <= ARC_ABYTES || clen > ARC_REC_MAX)
		return NOID_ERR_CORRUPT;
	buf_reset(&a->ct);
	buf_reserve(&a->ct, clen);
	if (fread(a->ct.data, 1, clen, a->f) != clen)
		return NOID_ERR_CORRUPT;
	*pt = secret_alloc(clen - ARC_ABYTES);
	if (crypto_secretstream_xchacha20poly1305_pull(&a->ss, *pt, NULL, tag,
	        a->ct.data, clen, a->head, sizeof a->head) != 0) {
		secret_free(*pt);
		*pt = NULL;
		return bad;
	}
	*len = clen - ARC_ABYTES;
	return 0;
}

/*
 * Is sk a whole Ed25519 key (seed, then its public key) whose public
 * key the device id commits to?  Any other key would sign ops no peer
 * takes as that device's.
 */
static int
arc_key_is_devices(const uint8_t *sk, const uint8_t *device)
{
	uint8_t *seed = secret_alloc(crypto_sign_SEEDBYTES);
	uint8_t *kp = secret_alloc(crypto_sign_SECRETKEYBYTES);
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], id[STORE_ID_LEN];
	int ok;

	crypto_sign_ed25519_sk_to_seed(seed, sk);
	crypto_sign_seed_keypair(pk, kp, seed);
	store_device_id(pk, id);
	ok = sodium_memcmp(kp, sk, crypto_sign_SECRETKEYBYTES) == 0 &&
	    memcmp(id, device, STORE_ID_LEN) == 0;
	secret_free(seed);
	secret_free(kp);
	return ok;
}

/* Restore this device's identity for the profile. */
static int
arc_meta(struct store *st, struct arc *a, const uint8_t *p, size_t len,
    uint8_t profile[STORE_ID_LEN])
{
	sqlite3_stmt *s;
	int rc;

	if (len != 1 + 8 + 2 * STORE_ID_LEN + crypto_sign_SECRETKEYBYTES ||
	    p[0] != REC_META)
		return NOID_ERR_CORRUPT;
	if (!arc_key_is_devices(p + 9 + 2 * STORE_ID_LEN, p + 9 + STORE_ID_LEN))
		return NOID_ERR_CORRUPT;
	a->total = be64_get(p + 1);
	memcpy(profile, p + 9, STORE_ID_LEN);
	s = db_prep(st, "INSERT INTO profiles(id) VALUES (?)");
	db_bind_id(s, 1, profile);
	if ((rc = db_step_done(st, s)) != 0)
		return rc == NOID_ERR_INVAL ? NOID_ERR_EXISTS : rc;
	s = db_prep(st,
	    "INSERT INTO local_devices(profile_id, device_id,"
	    " sign_sk) VALUES (?, ?, ?)");
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, p + 9 + STORE_ID_LEN);
	sqlite3_bind_blob(s, 3, p + 9 + 2 * STORE_ID_LEN,
	    crypto_sign_SECRETKEYBYTES, SQLITE_STATIC);
	return db_step_done(st, s);
}

/* A CONN record: id, seqs, hashes, has-state flag, state. */
static int
arc_conn(struct store *st, const uint8_t *profile, const uint8_t *p, size_t len)
{
	const size_t head = STORE_ID_LEN + 16 + 2 * STORE_HASH_LEN + 1;
	sqlite3_stmt *s;

	if (len < head || p[head - 1] > 1)
		return NOID_ERR_CORRUPT;
	s = db_prep(st,
	    "INSERT INTO conn_local(profile_id, id, send_seq,"
	    " recv_seq, send_hash, recv_hash, state)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)");
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, p);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)be64_get(p + STORE_ID_LEN));
	sqlite3_bind_int64(s, 4, (sqlite3_int64)be64_get(p + STORE_ID_LEN + 8));
	sqlite3_bind_blob(s, 5, p + 32, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, p + 64, STORE_HASH_LEN, SQLITE_STATIC);
	if (p[head - 1])
		db_bind_blob(s, 7, p + head, len - head);
	return db_step_done(st, s) == 0 ? 0 : NOID_ERR_CORRUPT;
}

/* Every record after META, up to the FINAL-tagged END. */
static int
arc_records(struct store *st, struct arc *a, const uint8_t *profile)
{
	uint8_t *pt, tag;
	size_t len;
	int rc;

	for (;;) {
		if ((rc = arc_get(a, &pt, &len, &tag, NOID_ERR_CORRUPT)) != 0)
			return rc;
		if (pt[0] == REC_END) {
			secret_free(pt);
			if (len != 1 ||
			    tag !=
			        crypto_secretstream_xchacha20poly1305_TAG_FINAL ||
			    fgetc(a->f) != EOF)
				return NOID_ERR_CORRUPT;
			return 0;
		}
		if (tag != 0)
			rc = NOID_ERR_CORRUPT;
		else if (pt[0] == REC_OP)
			rc = store_op_apply_remote(st, pt + 1, len - 1) == 0
			    ? 0
			    : NOID_ERR_CORRUPT;
		else if (pt[0] == REC_CONN)
			rc = arc_conn(st, profile, pt + 1, len - 1);
		else
			rc = NOID_ERR_CORRUPT;
		secret_free(pt);
		if (rc != 0)
			return rc;
		a->done++;
		if (a->cb != NULL && a->cb(a->done, a->total, a->arg) != 0)
			return NOID_ERR_STATE;
	}
}

int
store_import(struct store *st, const char *path, const char *password,
    store_progress_cb cb, void *arg, uint8_t profile[STORE_ID_LEN])
{
	struct arc a;
	uint8_t key[32], id[STORE_ID_LEN], *pt = NULL, tag;
	size_t len;
	int rc;

	memset(&a, 0, sizeof a);
	buf_init(&a.ct);
	a.cb = cb;
	a.arg = arg;
	if ((a.f = fopen(path, "rbe")) == NULL)
		return errno == ENOENT ? NOID_ERR_NOENT : NOID_ERR_IO;
	if (fread(a.head, 1, sizeof a.head, a.f) != sizeof a.head ||
	    memcmp(a.head, ARC_MAGIC, 8) != 0) {
		rc = NOID_ERR_CORRUPT;
		goto out;
	}
	if ((rc = arc_key(password, a.head + 8,
	         be64_get(a.head + 8 + crypto_pwhash_SALTBYTES),
	         be64_get(a.head + 16 + crypto_pwhash_SALTBYTES), key)) != 0) {
		rc = rc == NOID_ERR_INVAL ? NOID_ERR_PASSWORD : rc;
		goto out;
	}
	rc = crypto_secretstream_xchacha20poly1305_init_pull(&a.ss,
	    a.head + ARC_HEAD_LEN -
	        crypto_secretstream_xchacha20poly1305_HEADERBYTES,
	    key);
	sodium_memzero(key, sizeof key);
	if (rc != 0) {
		rc = NOID_ERR_CORRUPT;
		goto out;
	}
	/* The first record failing means the key is wrong. */
	if ((rc = arc_get(&a, &pt, &len, &tag, NOID_ERR_PASSWORD)) != 0)
		goto out;
	if ((rc = db_begin(st)) != 0)
		goto out;
	rc = arc_meta(st, &a, pt, len, id);
	if (rc == 0)
		rc = arc_records(st, &a, id);
	if ((rc = db_end(st, rc)) == 0 && profile != NULL)
		memcpy(profile, id, STORE_ID_LEN);
out:
	secret_free(pt);
	fclose(a.f);
	buf_free(&a.ct);
	sodium_memzero(&a.ss, sizeof a.ss);
	return rc;
}
