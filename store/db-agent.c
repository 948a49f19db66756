/*
 * db-agent: profiles, settings, contacts and connections, and the
 * transactions the agent relies on: an incoming message stored together
 * with the connection's advanced agent state (one commit, before the
 * relay is acked), sends reserved then recorded, delivery receipts.
 *
 * Per-connection bookkeeping (agent state blob, send/receive sequence
 * numbers, hashes of the last messages each way) lives in conn_local:
 * it belongs to the device that runs the connection and is never an op.
 */
#include "store-int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Write a register field through a FIELD_SET op. */
static int
field_set(struct store *st, const uint8_t *profile, const uint8_t *target,
    int kind, const char *field, const void *val, size_t len, int null)
{
	struct buf b;
	int rc;

	if (len > STORE_BLOB_MAX)
		return NOID_ERR_TOOBIG;
	buf_init(&b);
	reg_body(&b, kind, field, val, len, null);
	rc = op_local(st, profile,
	    kind == REG_SETTING ? STORE_OP_SETTING_SET : STORE_OP_FIELD_SET,
	    target, b.data, b.len, kind, field);
	buf_free(&b);
	return rc;
}

int
store_profile_set(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *field, const char *value)
{
	if (strcmp(field, "name") != 0 && strcmp(field, "status") != 0)
		return NOID_ERR_INVAL;
	return field_set(st, profile, profile, REG_PROFILE, field, value,
	    value != NULL ? strlen(value) : 0, value == NULL);
}

int
store_profiles_list(struct store *st, struct store_profile **out, size_t *n)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT p.id, l.device_id, p.name, p.status FROM profiles p"
	    " JOIN local_devices l ON l.profile_id = p.id ORDER BY p.name, "
	    "p.id");
	struct store_profile *p;
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		p = &(*out)[(*n)++];
		db_col_id(s, 0, p->id);
		db_col_id(s, 1, p->device);
		p->name = db_col_strdup(s, 2);
		p->status = db_col_strdup(s, 3);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_profiles_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err(st, rc);
	}
	return 0;
}

void
store_profiles_free(struct store_profile *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].status);
	}
	free(p);
}

int
store_setting_set(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *key, const char *value)
{
	if (key == NULL || key[0] == '\0' || strlen(key) > 255)
		return NOID_ERR_INVAL;
	return field_set(st, profile, profile, REG_SETTING, key, value,
	    value != NULL ? strlen(value) : 0, value == NULL);
}

int
store_setting_get(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *key, char **value)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT v FROM settings"
	    " WHERE profile_id = ? AND k = ?");
	int rc;

	*value = NULL;
	db_bind_id(s, 1, profile);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*value = db_col_strdup(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0
	    : rc == SQLITE_DONE ? NOID_ERR_NOENT
	                        : db_err(st, rc);
}

/* NOID_ERR_NOENT unless id is a live row of table (contacts|connections). */
static int
row_live(struct store *st, const char *sql, const uint8_t *profile,
    const uint8_t *id)
{
	sqlite3_stmt *s = db_prep(st, sql);
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0
	    : rc == SQLITE_DONE ? NOID_ERR_NOENT
	                        : db_err(st, rc);
}

static const char contact_live_sql[] =
    "SELECT 1 FROM contacts WHERE"
    " profile_id = ? AND id = ? AND deleted = 0";
static const char conn_live_sql[] =
    "SELECT 1 FROM connections WHERE"
    " profile_id = ? AND id = ? AND deleted = 0";

int
store_contact_add(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *alias, uint8_t id[STORE_ID_LEN])
{
	size_t len = alias != NULL ? strlen(alias) : 0;

	if (len > STORE_TEXT_MAX)
		return NOID_ERR_TOOBIG;
	id_random(id);
	return op_local(st, profile, STORE_OP_CONTACT_ADD, id,
	    (const uint8_t *)alias, len, 0, NULL);
}

int
store_contact_set_alias(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN], const char *alias)
{
	int rc;

	if ((rc = row_live(st, contact_live_sql, profile, contact)) != 0)
		return rc;
	return field_set(st, profile, contact, REG_CONTACT, "alias", alias,
	    alias != NULL ? strlen(alias) : 0, alias == NULL);
}

int
store_contact_delete(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN])
{
	int rc;

	if ((rc = row_live(st, contact_live_sql, profile, contact)) != 0)
		return rc;
	return op_local(
	    st, profile, STORE_OP_CONTACT_DELETE, contact, NULL, 0, 0, NULL);
}

int
store_contacts_list(struct store *st, const uint8_t profile[STORE_ID_LEN],
    struct store_contact **out, size_t *n)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT id, alias FROM contacts WHERE"
	    " profile_id = ? AND deleted = 0"
	    " ORDER BY alias, id");
	struct store_contact *c;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	db_bind_id(s, 1, profile);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		c = &(*out)[(*n)++];
		db_col_id(s, 0, c->id);
		c->alias = db_col_strdup(s, 1);
		c->unread = 0;
	}
	sqlite3_reset(s);
	rc = rc == SQLITE_DONE ? 0 : db_err(st, rc);
	for (i = 0; rc == 0 && i < *n; i++)
		rc = store_unread_count(
		    st, profile, (*out)[i].id, &(*out)[i].unread);
	if (rc != 0) {
		store_contacts_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void
store_contacts_free(struct store_contact *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i].alias);
	free(c);
}

/* The contact a live connection belongs to. */
int
conn_contact(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], uint8_t contact[STORE_ID_LEN])
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT contact_id FROM connections"
	    " WHERE profile_id = ? AND id = ?"
	    " AND deleted = 0");
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conn);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		db_col_id(s, 0, contact);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0
	    : rc == SQLITE_DONE ? NOID_ERR_NOENT
	                        : db_err(st, rc);
}

static int
trust_valid(int trust)
{
	return trust >= STORE_TRUST_TEXT && trust <= STORE_TRUST_VERIFIED;
}

int
store_conn_add(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN], int trust, const uint8_t *info,
    size_t info_len, uint8_t id[STORE_ID_LEN])
{
	struct buf b;
	int rc;

	if (!trust_valid(trust))
		return NOID_ERR_INVAL;
	if (info_len > STORE_BLOB_MAX)
		return NOID_ERR_TOOBIG;
	if ((rc = row_live(st, contact_live_sql, profile, contact)) != 0)
		return rc;
	id_random(id);
	buf_init(&b);
	buf_put(&b, contact, STORE_ID_LEN);
	buf_put_u8(&b, (uint8_t)trust);
	buf_put(&b, info, info_len);
	rc = op_local(
	    st, profile, STORE_OP_CONN_ADD, id, b.data, b.len, 0, NULL);
	buf_free_secret(&b);
	return rc;
}

int
store_conn_set_trust(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], int trust)
{
	uint8_t v = (uint8_t)trust;
	int rc;

	if (!trust_valid(trust))
		return NOID_ERR_INVAL;
	if ((rc = row_live(st, conn_live_sql, profile, conn)) != 0)
		return rc;
	return field_set(st, profile, conn, REG_CONN, "trust", &v, 1, 0);
}

int
store_conn_set_info(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const uint8_t *info, size_t info_len)
{
	int rc;

	if ((rc = row_live(st, conn_live_sql, profile, conn)) != 0)
		return rc;
	return field_set(
	    st, profile, conn, REG_CONN, "info", info, info_len, 0);
}

int
store_conn_delete(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN])
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = row_live(st, conn_live_sql, profile, conn)) != 0)
		return rc;
	if ((rc = db_begin(st)) != 0)
		return rc;
	rc =
	    op_local(st, profile, STORE_OP_CONN_DELETE, conn, NULL, 0, 0, NULL);
	if (rc == 0) {
		/* The ratchet goes with it (secure_delete wipes the pages). */
		s = db_prep(st,
		    "DELETE FROM conn_local WHERE profile_id = ?"
		    " AND id = ?");
		db_bind_id(s, 1, profile);
		db_bind_id(s, 2, conn);
		rc = db_step_done(st, s);
	}
	return db_end(st, rc);
}

/* The columns conn_fill reads. */
#define CONN_COLS                                                              \
	"c.id, c.contact_id, c.trust, c.info, coalesce(l.send_seq, 0),"        \
	" coalesce(l.recv_seq, 0), l.send_hash, l.recv_hash FROM"              \
	" connections c LEFT JOIN conn_local l ON l.profile_id ="              \
	" c.profile_id AND l.id = c.id"

static void
conn_fill(sqlite3_stmt *s, struct store_conn *c)
{
	memset(c, 0, sizeof *c);
	db_col_id(s, 0, c->id);
	db_col_id(s, 1, c->contact);
	c->trust = sqlite3_column_int(s, 2);
	c->info = db_col_blobdup(s, 3, &c->info_len);
	c->send_seq = (uint64_t)sqlite3_column_int64(s, 4);
	c->recv_seq = (uint64_t)sqlite3_column_int64(s, 5);
	if (sqlite3_column_bytes(s, 6) == STORE_HASH_LEN)
		memcpy(c->send_hash, sqlite3_column_blob(s, 6), STORE_HASH_LEN);
	if (sqlite3_column_bytes(s, 7) == STORE_HASH_LEN)
		memcpy(c->recv_hash, sqlite3_column_blob(s, 7), STORE_HASH_LEN);
}

int
store_conn_get(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], struct store_conn *out)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT " CONN_COLS " WHERE"
	    " c.profile_id = ? AND c.id = ?"
	    " AND c.deleted = 0");
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conn);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		conn_fill(s, out);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0
	    : rc == SQLITE_DONE ? NOID_ERR_NOENT
	                        : db_err(st, rc);
}

void
store_conn_clear(struct store_conn *c)
{
	if (c->info != NULL)
		sodium_memzero(c->info, c->info_len);
	free(c->info);
	memset(c, 0, sizeof *c);
}

int
store_conns_list(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN], struct store_conn **out, size_t *n)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT " CONN_COLS " WHERE"
	    " c.profile_id = ? AND c.contact_id = ?"
	    " AND c.deleted = 0 ORDER BY c.id");
	int rc;

	*out = NULL;
	*n = 0;
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, contact);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		conn_fill(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_conns_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err(st, rc);
	}
	return 0;
}

void
store_conns_free(struct store_conn *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_conn_clear(&c[i]);
	free(c);
}

int
store_conn_state_get(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], uint8_t **blob, size_t *len)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT state FROM conn_local WHERE"
	    " profile_id = ? AND id = ?"
	    " AND state IS NOT NULL");
	int rc;

	*blob = NULL;
	*len = 0;
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conn);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*blob = db_col_blobdup(s, 0, len);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0
	    : rc == SQLITE_DONE ? NOID_ERR_NOENT
	                        : db_err(st, rc);
}

/* Replace a connection's agent state. */
static const char state_put_sql[] =
    "INSERT INTO conn_local(profile_id, id, state) VALUES (?1, ?2, ?3)"
    " ON CONFLICT DO UPDATE SET state = ?3";

int
store_conn_state_put(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const uint8_t *blob, size_t len)
{
	sqlite3_stmt *s;
	int rc;

	if (len > STORE_BLOB_MAX)
		return NOID_ERR_TOOBIG;
	if ((rc = row_live(st, conn_live_sql, profile, conn)) != 0)
		return rc;
	s = db_prep(st, state_put_sql);
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conn);
	db_bind_blob(s, 3, blob, len);
	return db_step_done(st, s);
}

/* Update one bookkeeping pair (seq, hash) of a connection. */
static int
conn_mark(struct store *st, const uint8_t *profile, const uint8_t *conn,
    const char *sql, uint64_t seq, const uint8_t *hash)
{
	sqlite3_stmt *s = db_prep(st, sql);

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conn);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)seq);
	if (hash != NULL)
		sqlite3_bind_blob(s, 4, hash, STORE_HASH_LEN, SQLITE_STATIC);
	return db_step_done(st, s);
}

static const char recv_mark_sql[] =
    "INSERT INTO conn_local(profile_id, id, recv_seq, recv_hash)"
    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET recv_seq = ?3,"
    " recv_hash = ?4";
static const char send_seq_sql[] =
    "INSERT INTO conn_local(profile_id, id, send_seq) VALUES (?1, ?2, ?3)"
    " ON CONFLICT DO UPDATE SET send_seq = ?3";
static const char send_hash_sql[] =
    "UPDATE conn_local SET send_hash = ?4 WHERE profile_id = ?1 AND id = ?2";

/*
 * The time to store an incoming message under: the sender's, but after
 * every message already received on conn.  Listings order by (ts, id)
 * and id is random, so two messages sealed in the same millisecond (or
 * under a clock stepped back) would otherwise show in either order.
 */
static int
incoming_ts(struct store *st, const uint8_t *profile, const uint8_t *conv,
    const uint8_t *conn, uint64_t ts, uint64_t *out)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT ts FROM messages WHERE profile_id = ? AND conv = ?"
	    " AND conn = ? AND dir = ? ORDER BY ts DESC LIMIT 1");
	uint64_t last;
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conv);
	db_bind_id(s, 3, conn);
	sqlite3_bind_int(s, 4, STORE_DIR_IN);
	rc = sqlite3_step(s);
	*out = ts;
	if (rc == SQLITE_ROW) {
		last = (uint64_t)sqlite3_column_int64(s, 0);
		if (ts <= last && last < UINT64_MAX)
			*out = last + 1;
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(st, rc);
}

int
store_msg_incoming(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const struct store_incoming *in,
    const uint8_t *state, size_t state_len, int *dup)
{
	uint8_t conv[STORE_ID_LEN], id[STORE_ID_LEN];
	crypto_generichash_state h;
	sqlite3_stmt *s;
	struct buf b;
	uint64_t ts;
	int rc;

	if (dup != NULL)
		*dup = 0;
	if (in->text_len > STORE_TEXT_MAX || state_len > STORE_BLOB_MAX)
		return NOID_ERR_TOOBIG;
	/* Local id: the sender's id scoped to the connection. */
	crypto_generichash_init(&h, NULL, 0, STORE_ID_LEN);
	crypto_generichash_update(&h, conn, STORE_ID_LEN);
	crypto_generichash_update(&h, in->id, STORE_ID_LEN);
	crypto_generichash_final(&h, id, STORE_ID_LEN);
	buf_init(&b);
	if ((rc = db_begin(st)) != 0)
		return rc;
	if ((rc = conn_contact(st, profile, conn, conv)) != 0)
		goto out;
	s = db_prep(st,
	    "SELECT 1 FROM ops WHERE profile_id = ? AND target = ?"
	    " AND type = 8");
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW) {
		if (dup != NULL)
			*dup = 1;
	} else if (rc == SQLITE_DONE) {
		if ((rc = incoming_ts(
		         st, profile, conv, conn, in->ts_ms, &ts)) != 0)
			goto out;
		msg_body(&b, conv, conn, STORE_DIR_IN, ts, in->seq, in->hash,
		    in->text, in->text_len);
		if ((rc = op_local(st, profile, STORE_OP_MSG_ADD, id, b.data,
		         b.len, 0, NULL)) != 0)
			goto out;
		if ((rc = conn_mark(st, profile, conn, recv_mark_sql, in->seq,
		         in->hash)) != 0)
			goto out;
	} else {
		rc = db_err(st, rc);
		goto out;
	}
	rc = store_conn_state_put(st, profile, conn, state, state_len);
out:
	buf_free_secret(&b);
	return db_end(st, rc);
}

int
store_send_reserve(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const char *text, size_t len,
    uint8_t id[STORE_ID_LEN], uint64_t *seq, uint8_t prev_hash[STORE_HASH_LEN])
{
	uint8_t conv[STORE_ID_LEN];
	struct store_conn c;
	struct buf b;
	int rc;

	if (len > STORE_TEXT_MAX)
		return NOID_ERR_TOOBIG;
	buf_init(&b);
	if ((rc = db_begin(st)) != 0)
		return rc;
	if ((rc = conn_contact(st, profile, conn, conv)) != 0)
		goto out;
	if ((rc = store_conn_get(st, profile, conn, &c)) != 0)
		goto out;
	*seq = c.send_seq + 1;
	memcpy(prev_hash, c.send_hash, STORE_HASH_LEN);
	store_conn_clear(&c);
	id_random(id);
	msg_body(&b, conv, conn, STORE_DIR_OUT, clock_wall_ms(), *seq, NULL,
	    text, len);
	if ((rc = op_local(st, profile, STORE_OP_MSG_ADD, id, b.data, b.len, 0,
	         NULL)) != 0)
		goto out;
	rc = conn_mark(st, profile, conn, send_seq_sql, *seq, NULL);
out:
	buf_free_secret(&b);
	return db_end(st, rc);
}

/* Raise an outgoing message's status (an op; never lowers it). */
static int
status_set(struct store *st, const uint8_t *profile, const uint8_t *msg,
    int status, const uint8_t *hash)
{
	uint8_t body[1 + STORE_HASH_LEN];

	body[0] = (uint8_t)status;
	memcpy(body + 1, hash, STORE_HASH_LEN);
	return op_local(
	    st, profile, STORE_OP_MSG_STATUS, msg, body, sizeof body, 0, NULL);
}

int
store_send_record(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t msg[STORE_ID_LEN], const uint8_t hash[STORE_HASH_LEN],
    const uint8_t *state, size_t state_len)
{
	uint8_t conn[STORE_ID_LEN];
	sqlite3_stmt *s;
	int rc;

	if ((rc = db_begin(st)) != 0)
		return rc;
	s = db_prep(st,
	    "SELECT conn, status FROM outbox WHERE profile_id = ?"
	    " AND msg_id = ?");
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, msg);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		db_col_id(s, 0, conn);
		rc = sqlite3_column_int(s, 1) == STORE_STATUS_QUEUED
		    ? 0
		    : NOID_ERR_STATE;
	} else
		rc = rc == SQLITE_DONE ? NOID_ERR_NOENT : db_err(st, rc);
	sqlite3_reset(s);
	if (rc != 0)
		goto out;
	if ((rc = status_set(st, profile, msg, STORE_STATUS_SENT, hash)) != 0)
		goto out;
	if ((rc = conn_mark(st, profile, conn, send_hash_sql, 0, hash)) != 0)
		goto out;
	rc = store_conn_state_put(st, profile, conn, state, state_len);
out:
	return db_end(st, rc);
}

int
store_receipt(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const uint8_t hash[STORE_HASH_LEN])
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT msg_id, status FROM outbox"
	    " WHERE profile_id = ? AND hash = ?"
	    " AND conn = ?");
	uint8_t msg[STORE_ID_LEN];
	int rc, status = 0;

	db_bind_id(s, 1, profile);
	sqlite3_bind_blob(s, 2, hash, STORE_HASH_LEN, SQLITE_STATIC);
	db_bind_id(s, 3, conn);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		db_col_id(s, 0, msg);
		status = sqlite3_column_int(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? NOID_ERR_NOENT : db_err(st, rc);
	if (status >= STORE_STATUS_DELIVERED)
		return 0; /* a repeated receipt */
	return status_set(st, profile, msg, STORE_STATUS_DELIVERED, hash);
}
