/*
 * op-project: turning ops into table rows, so that the tables depend
 * only on the set of ops held, not on the order they arrived in.
 *
 * Creating ops (CONTACT_ADD, CONN_ADD, MSG_ADD) insert a row with the
 * base values from their body.  Later changes are registers: one row
 * per (target, kind, field) holding the winning op and its value.
 * Fields are last-writer-wins by (HLC, author, seq) alone, a superseding
 * op being stamped past what it replaces; read markers and message
 * status keep the maximum; a device removal keeps the lowest cutoff.  A
 * register may arrive before its row: the creating op re-applies the
 * target's registers (a device's add, its removal).  Tombstones win:
 * a delete op tombstones the id it names, whatever row that is; once a
 * contact, connection or message has one, its registers are dropped
 * and later writes ignored (device, profile, setting and message status
 * registers never heed one).  Removing a device voids its ops past the
 * cutoff; if some had been projected, the profile is rebuilt from the
 * log, and every op's void flag with it: an op stands only if its
 * author is a live member under the membership the rebuild replays,
 * so the members a voided op added lose their ops too, and the devices
 * a voided op removed get theirs back.
 */
#include "store-int.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Register comparison rules. */
enum reg_rule { RULE_LWW, RULE_MAX, RULE_MIN };

#define REG_DEVICE 8
#define REG_REMOVE 9

/* Rebuild passes before a removal cycle that never settles is cut. */
#define REBUILD_PASSES_MAX 16

enum bind { BIND_TEXT, BIND_BLOB, BIND_U8 };

/* How a register's value lands in its table (?1 value, ?2/?3 ids). */
struct field_map {
	int kind;
	const char *field;
	enum bind bind;
	const char *sql;
};

static const struct field_map field_maps[] = {
    {REG_PROFILE, "name", BIND_TEXT,
        "UPDATE profiles SET name = ?1 WHERE id = ?2 AND id = ?3"},
    {REG_PROFILE, "status", BIND_TEXT,
        "UPDATE profiles SET status = ?1 WHERE id = ?2 AND id = ?3"},
    {REG_CONTACT, "alias", BIND_TEXT,
        "UPDATE contacts SET alias = ?1 WHERE profile_id = ?2"
        " AND id = ?3"},
    {REG_CONN, "trust", BIND_U8,
        "UPDATE connections SET trust = ?1 WHERE profile_id = ?2"
        " AND id = ?3"},
    {REG_CONN, "info", BIND_BLOB,
        "UPDATE connections SET info = ?1 WHERE profile_id = ?2"
        " AND id = ?3"},
    {REG_MSG, "text", BIND_TEXT,
        "UPDATE messages SET text = ?1, edited = 1 WHERE profile_id = ?2"
        " AND id = ?3"},
};

static int project_register(struct store *st, const uint8_t *profile,
    const uint8_t *target, int kind, const char *field, const uint8_t *val,
    size_t len, int null);

static int
reg_rule(int kind)
{
	if (kind == REG_STATUS || kind == REG_READ)
		return RULE_MAX;
	return kind == REG_REMOVE ? RULE_MIN : RULE_LWW;
}

/* FIELD_SET body: kind, field name, null flag, value. */
void
reg_body(struct buf *b, int kind, const char *field, const void *val,
    size_t len, int null)
{
	buf_put_u8(b, (uint8_t)kind);
	buf_put_short(b, field, strlen(field));
	buf_put_u8(b, null ? 1 : 0);
	if (!null)
		buf_put(b, val, len);
}

/*
 * The registers a tombstone governs: those of the contacts, connections
 * and messages delete ops are for.  Device, removal, profile and
 * setting registers are keyed by ids a delete op may name too (a stolen
 * device tombstoning its own id to make its removal a no-op), so no
 * tombstone ever drops or blocks them.  Nor a message's status: a
 * deleted message keeps its outbox row, and the row must reach the
 * highest status whether the delete came before the status or after.
 */
static const int tomb_kinds[] = {REG_CONTACT, REG_CONN, REG_MSG, REG_READ};

/* Do tombstones govern registers of this kind? */
static int
tomb_governs(int kind)
{
	size_t i;

	for (i = 0; i < sizeof tomb_kinds / sizeof tomb_kinds[0]; i++)
		if (tomb_kinds[i] == kind)
			return 1;
	return 0;
}

/* Does target have a tombstone? */
static int
tombstoned(struct store *st, const uint8_t *profile, const uint8_t *target)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT 1 FROM tombstones"
	    " WHERE profile_id = ? AND target = ?");
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, target);
	rc = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_reset(s);
	return rc;
}

/* Compare two register values (NULL lowest), as bytes. */
static int
val_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n > 0 ? memcmp(a, b, n) : 0;

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/*
 * Store op's write to a register if it wins; *won says whether it did.
 * Last-writer-wins orders ops by (hlc, author, seq), a total order, so
 * the winner never depends on arrival order.  A supersedes is not
 * heeded: op_local stamps a superseding op past what it replaces, and
 * ops signed before it did may name an op with a newer stamp (or two
 * may name each other); letting those win made replicas disagree, so
 * every replica just orders them by clock like any other write.  A
 * repeat loses, so applying an op twice changes nothing.
 */
static int
reg_write(struct store *st, const struct op *op, int kind, const char *field,
    const uint8_t *val, size_t len, int null, int *won)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT hlc, author, seq, value FROM registers WHERE"
	    " profile_id = ? AND target = ? AND kind = ? AND field = ?");
	uint8_t cur_author[STORE_ID_LEN];
	uint64_t cur_hlc, cur_seq;
	int rc, c, rule = reg_rule(kind);

	*won = 0;
	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	sqlite3_bind_int(s, 3, kind);
	sqlite3_bind_text(s, 4, field, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		cur_hlc = (uint64_t)sqlite3_column_int64(s, 0);
		db_col_id(s, 1, cur_author);
		cur_seq = (uint64_t)sqlite3_column_int64(s, 2);
		if (rule != RULE_LWW) {
			c = val_cmp(val, null ? 0 : len,
			    sqlite3_column_blob(s, 3),
			    (size_t)sqlite3_column_bytes(s, 3));
			*won = rule == RULE_MAX ? c > 0 : c < 0;
		} else {
			c = memcmp(op->author, cur_author, STORE_ID_LEN);
			*won = cur_hlc != op->hlc ? op->hlc > cur_hlc
			    : c != 0              ? c > 0
			                          : op->seq > cur_seq;
		}
		sqlite3_reset(s);
	} else {
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return db_err(st, rc);
		*won = 1;
	}
	if (!*won)
		return 0;
	s = db_prep(st,
	    "INSERT OR REPLACE INTO registers(profile_id, target,"
	    " kind, field, hlc, author, seq, value)"
	    " VALUES (?,?,?,?,?,?,?,?)");
	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	sqlite3_bind_int(s, 3, kind);
	sqlite3_bind_text(s, 4, field, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)op->hlc);
	db_bind_id(s, 6, op->author);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)op->seq);
	if (!null)
		db_bind_blob(s, 8, val, len);
	return db_step_done(st, s);
}

/* Write a register and, if the op won, project the value. */
static int
reg_apply(struct store *st, const struct op *op, int kind, const char *field,
    const uint8_t *val, size_t len, int null)
{
	int rc, won;

	if (tomb_governs(kind) && tombstoned(st, op->profile, op->target))
		return 0;
	if ((rc = reg_write(st, op, kind, field, val, len, null, &won)) != 0)
		return rc;
	if (!won)
		return 0;
	return project_register(
	    st, op->profile, op->target, kind, field, val, len, null);
}

/*
 * A removal that leaves live ops of the device past its cutoff starts a
 * rebuild, which works out every op's void flag again: voiding them may
 * void the members they added and undo the removals they made.
 */
static int
device_void(struct store *st, const uint8_t *profile, const uint8_t *device,
    uint64_t cutoff)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT 1 FROM ops WHERE profile_id = ? AND author = ?"
	    " AND seq > ? AND void = 0 LIMIT 1");
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, device);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)cutoff);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return db_err(st, rc);
	return project_rebuild(st, profile);
}

/*
 * A device's removal may come before its DEVICE_ADD (another author's
 * op, shipped in another run): it waits in its register, and the add
 * that makes the row puts it there.
 */
static int
device_removal_reapply(
    struct store *st, const uint8_t *profile, const uint8_t *device)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT value FROM registers WHERE profile_id = ?"
	    " AND target = ? AND kind = ? AND field = 'cutoff'");
	uint8_t cutoff[8];
	int rc, found = 0;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, device);
	sqlite3_bind_int(s, 3, REG_REMOVE);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(s, 0) == sizeof cutoff) {
		memcpy(cutoff, sqlite3_column_blob(s, 0), sizeof cutoff);
		found = 1;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, rc);
	if (!found)
		return 0;
	return project_register(st, profile, device, REG_REMOVE, "cutoff",
	    cutoff, sizeof cutoff, 0);
}

/* Put one register value into its table. */
static int
project_register(struct store *st, const uint8_t *profile,
    const uint8_t *target, int kind, const char *field, const uint8_t *val,
    size_t len, int null)
{
	const struct field_map *m;
	sqlite3_stmt *s;
	size_t i;
	int rc;

	switch (kind) {
	case REG_SETTING:
		s = db_prep(st,
		    null ? "DELETE FROM settings WHERE profile_id = ?2 AND k = "
		           "?3"
		         : "INSERT OR REPLACE INTO settings(profile_id, k, v)"
		           " VALUES (?2, ?3, ?1)");
		if (!null)
			db_bind_text(s, 1, (const char *)val, len);
		db_bind_id(s, 2, profile);
		sqlite3_bind_text(s, 3, field, -1, SQLITE_STATIC);
		return db_step_done(st, s);
	case REG_STATUS:
		if (len != 1 + STORE_HASH_LEN)
			return NOID_ERR_INVAL;
		s = db_prep(st,
		    "UPDATE outbox SET status = ?, hash = ?"
		    " WHERE profile_id = ? AND msg_id = ?");
		sqlite3_bind_int(s, 1, val[0]);
		sqlite3_bind_blob(s, 2, val + 1, STORE_HASH_LEN, SQLITE_STATIC);
		db_bind_id(s, 3, profile);
		db_bind_id(s, 4, target);
		return db_step_done(st, s);
	case REG_READ:
		if (len != 8 + STORE_ID_LEN)
			return NOID_ERR_INVAL;
		s = db_prep(st,
		    "INSERT OR REPLACE INTO read_markers(profile_id,"
		    " conv, ts, msg_id) VALUES (?, ?, ?, ?)");
		db_bind_id(s, 1, profile);
		db_bind_id(s, 2, target);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)be64_get(val));
		db_bind_id(s, 4, val + 8);
		return db_step_done(st, s);
	case REG_DEVICE:
		/* Only the name follows the register: a key never changes. */
		if (len < 32)
			return NOID_ERR_INVAL;
		s = db_prep(st,
		    "INSERT INTO devices(profile_id, id, pk, name)"
		    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE"
		    " SET name = ?4");
		db_bind_id(s, 1, profile);
		db_bind_id(s, 2, target);
		sqlite3_bind_blob(s, 3, val, 32, SQLITE_STATIC);
		db_bind_text(s, 4, (const char *)val + 32, len - 32);
		if ((rc = db_step_done(st, s)) != 0)
			return rc;
		return device_removal_reapply(st, profile, target);
	case REG_REMOVE:
		if (len != 8)
			return NOID_ERR_INVAL;
		s = db_prep(st,
		    "UPDATE devices SET removed = 1, cutoff = ?"
		    " WHERE profile_id = ? AND id = ?");
		sqlite3_bind_int64(s, 1, (sqlite3_int64)be64_get(val));
		db_bind_id(s, 2, profile);
		db_bind_id(s, 3, target);
		return db_step_done(st, s);
	}
	for (i = 0; i < sizeof field_maps / sizeof field_maps[0]; i++) {
		m = &field_maps[i];
		if (m->kind != kind || strcmp(m->field, field) != 0)
			continue;
		s = db_prep(st, m->sql);
		if (null || (m->bind == BIND_U8 && len != 1))
			sqlite3_bind_null(s, 1);
		else if (m->bind == BIND_U8)
			sqlite3_bind_int(s, 1, val[0]);
		else if (m->bind == BIND_TEXT)
			db_bind_text(s, 1, (const char *)val, len);
		else
			db_bind_blob(s, 1, val, len);
		db_bind_id(s, 2, profile);
		db_bind_id(s, 3, target);
		return db_step_done(st, s);
	}
	return NOID_ERR_INVAL;
}

/* Re-apply every register of a target (after its row appeared). */
static int
reg_refresh(struct store *st, const uint8_t *profile, const uint8_t *target)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT kind, field, value FROM registers"
	    " WHERE profile_id = ? AND target = ?");
	struct buf field, val;
	int rc, null, kind;

	buf_init(&field);
	buf_init(&val);
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, target);
	/* Project from copies: projection reuses cached statements. */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		kind = sqlite3_column_int(s, 0);
		buf_reset(&field);
		buf_put(&field, sqlite3_column_text(s, 1),
		    (size_t)sqlite3_column_bytes(s, 1));
		buf_put_u8(&field, 0);
		null = sqlite3_column_type(s, 2) == SQLITE_NULL;
		buf_reset(&val);
		buf_put(&val, sqlite3_column_blob(s, 2),
		    (size_t)sqlite3_column_bytes(s, 2));
		buf_put_u8(&val, 0);
		if ((rc = project_register(st, profile, target, kind,
		         (const char *)field.data, val.data, val.len - 1,
		         null)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(st, rc);
out:
	sqlite3_reset(s);
	buf_free(&field);
	buf_free(&val);
	return rc;
}

/* Fields each target kind accepts in FIELD_SET. */
static int
field_allowed(int kind, const char *field)
{
	size_t i;

	if (kind == REG_MSG)
		return 0; /* edits are MSG_EDIT */
	for (i = 0; i < sizeof field_maps / sizeof field_maps[0]; i++)
		if (field_maps[i].kind == kind &&
		    strcmp(field_maps[i].field, field) == 0)
			return 1;
	return 0;
}

/* FIELD_SET and SETTING_SET: kind, field, null flag, value. */
static int
project_field(struct store *st, const struct op *op)
{
	struct reader r;
	const uint8_t *f, *val;
	char field[256];
	size_t flen;
	uint8_t kind = 0, null = 0;

	reader_init(&r, op->body, op->body_len);
	reader_u8(&r, &kind);
	reader_short(&r, &f, &flen);
	reader_u8(&r, &null);
	if (r.err || null > 1 || (null && reader_left(&r) != 0) ||
	    memchr(f, 0, flen) != NULL)
		return NOID_ERR_INVAL;
	memcpy(field, f, flen);
	field[flen] = '\0';
	val = op->body + r.off;
	if (op->type == STORE_OP_SETTING_SET ? kind != REG_SETTING
	                                     : !field_allowed(kind, field))
		return NOID_ERR_INVAL;
	return reg_apply(st, op, kind, field, val, reader_left(&r), null);
}

/* Put a tombstone on target. */
static int
tombstone_add(struct store *st, const struct op *op)
{
	sqlite3_stmt *s = db_prep(st,
	    "INSERT OR IGNORE INTO tombstones"
	    "(profile_id, target) VALUES (?, ?)");
	size_t i;
	int rc;

	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	if ((rc = db_step_done(st, s)) != 0)
		return rc;
	for (i = 0; i < sizeof tomb_kinds / sizeof tomb_kinds[0]; i++) {
		s = db_prep(st,
		    "DELETE FROM registers WHERE profile_id = ?"
		    " AND target = ? AND kind = ?");
		db_bind_id(s, 1, op->profile);
		db_bind_id(s, 2, op->target);
		sqlite3_bind_int(s, 3, tomb_kinds[i]);
		if ((rc = db_step_done(st, s)) != 0)
			return rc;
	}
	return 0;
}

/* Run one statement binding (profile, target). */
static int
exec_pt(struct store *st, const char *sql, const struct op *op)
{
	sqlite3_stmt *s = db_prep(st, sql);

	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	return db_step_done(st, s);
}

/*
 * CONTACT_DELETE, CONN_DELETE and MSG_DELETE.  Tombstones are keyed by
 * id alone and the creating ops heed one whatever op left it, so every
 * delete does to rows made already what its tombstone does to rows
 * made later, for each kind of row: whether a delete comes before or
 * after the row it names (even one of another kind), replicas agree.
 * A deleted contact takes its conversation with it.
 */
static int
project_delete(struct store *st, const struct op *op)
{
	static const char *const sql[] = {
	    "UPDATE contacts SET alias = NULL, deleted = 1"
	    " WHERE profile_id = ?1 AND id = ?2",
	    "DELETE FROM outbox WHERE profile_id = ?1 AND msg_id IN"
	    " (SELECT id FROM messages WHERE profile_id = ?1 AND conv = ?2)",
	    "DELETE FROM messages WHERE profile_id = ?1 AND conv = ?2",
	    "DELETE FROM read_markers WHERE profile_id = ?1 AND conv = ?2",
	    "UPDATE connections SET info = NULL, deleted = 1"
	    " WHERE profile_id = ?1 AND id = ?2",
	    "UPDATE messages SET text = '', edited = 0, deleted = 1"
	    " WHERE profile_id = ?1 AND id = ?2",
	};
	size_t i;
	int rc;

	if ((rc = tombstone_add(st, op)) != 0)
		return rc;
	for (i = 0; i < sizeof sql / sizeof sql[0]; i++)
		if ((rc = exec_pt(st, sql[i], op)) != 0)
			return rc;
	return 0;
}

/* CONTACT_ADD: the body is the first alias. */
static int
project_contact_add(struct store *st, const struct op *op)
{
	sqlite3_stmt *s;
	int rc;

	s = db_prep(st,
	    "INSERT OR IGNORE INTO contacts(profile_id, id, alias,"
	    " deleted) VALUES (?, ?, ?, 0)");
	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	db_bind_text(s, 3, (const char *)op->body, op->body_len);
	if ((rc = db_step_done(st, s)) != 0)
		return rc;
	if (tombstoned(st, op->profile, op->target))
		return exec_pt(st,
		    "UPDATE contacts SET alias = NULL,"
		    " deleted = 1 WHERE profile_id = ?1"
		    " AND id = ?2",
		    op);
	return reg_refresh(st, op->profile, op->target);
}

/* CONN_ADD: contact id, trust, info. */
static int
project_conn_add(struct store *st, const struct op *op)
{
	sqlite3_stmt *s;
	int rc;

	if (op->body_len < STORE_ID_LEN + 1)
		return NOID_ERR_INVAL;
	s = db_prep(st,
	    "INSERT OR IGNORE INTO connections(profile_id, id,"
	    " contact_id, trust, info) VALUES (?, ?, ?, ?, ?)");
	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	db_bind_id(s, 3, op->body);
	sqlite3_bind_int(s, 4, op->body[STORE_ID_LEN]);
	db_bind_blob(
	    s, 5, op->body + STORE_ID_LEN + 1, op->body_len - STORE_ID_LEN - 1);
	if ((rc = db_step_done(st, s)) != 0)
		return rc;
	if (tombstoned(st, op->profile, op->target))
		return exec_pt(st,
		    "UPDATE connections SET info = NULL,"
		    " deleted = 1 WHERE profile_id = ?1"
		    " AND id = ?2",
		    op);
	return reg_refresh(st, op->profile, op->target);
}

/*
 * Message text is handed out NUL-terminated and read as text_len bytes:
 * an op carrying a NUL inside is malformed, whoever signed it.
 */
int
text_has_nul(const void *text, size_t len)
{
	return len > 0 && memchr(text, 0, len) != NULL;
}

/* MSG_ADD body layout, shared with the writers in db-msg.c. */
void
msg_body(struct buf *b, const uint8_t conv[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], int dir, uint64_t ts, uint64_t seq,
    const uint8_t *hash, const char *text, size_t len)
{
	static const uint8_t zero[STORE_HASH_LEN];

	buf_put(b, conv, STORE_ID_LEN);
	buf_put(b, conn, STORE_ID_LEN);
	buf_put_u8(b, (uint8_t)dir);
	buf_put_u64(b, ts);
	buf_put_u64(b, seq);
	buf_put(b, hash != NULL ? hash : zero, STORE_HASH_LEN);
	buf_put(b, text, len);
}

/* MSG_ADD: a message row (and an outbox row for a reserved send). */
static int
project_msg_add(struct store *st, const struct op *op)
{
	const uint8_t *p = op->body;
	const size_t head = 2 * STORE_ID_LEN + 1 + 8 + 8 + STORE_HASH_LEN;
	sqlite3_stmt *s;
	int rc, dir;

	if (op->body_len < head)
		return NOID_ERR_INVAL;
	dir = p[2 * STORE_ID_LEN];
	if ((dir != STORE_DIR_IN && dir != STORE_DIR_OUT) ||
	    text_has_nul(p + head, op->body_len - head))
		return NOID_ERR_INVAL;
	/* The conversation (contact) was deleted: the message goes too. */
	if (tombstoned(st, op->profile, p))
		return 0;
	s = db_prep(st,
	    "INSERT OR IGNORE INTO messages(profile_id, id, conv,"
	    " conn, author, dir, ts, seq, hash, text)"
	    " VALUES (?,?,?,?,?,?,?,?,?,?)");
	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->target);
	db_bind_id(s, 3, p);
	db_bind_id(s, 4, p + STORE_ID_LEN);
	db_bind_id(s, 5, op->author);
	sqlite3_bind_int(s, 6, dir);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)be64_get(p + 33));
	sqlite3_bind_int64(s, 8, (sqlite3_int64)be64_get(p + 41));
	sqlite3_bind_blob(s, 9, p + 49, STORE_HASH_LEN, SQLITE_STATIC);
	db_bind_text(s, 10, (const char *)p + head, op->body_len - head);
	if ((rc = db_step_done(st, s)) != 0)
		return rc;
	/* Only a reserved send (seq from the connection, store_send_reserve)
	 * waits to be sent; an outgoing message store_msg_add recorded
	 * (seq 0: imported or bulk-loaded history) was sent elsewhere, and an
	 * outbox row would make the agent send it again. */
	if (dir == STORE_DIR_OUT && be64_get(p + 41) != 0) {
		s = db_prep(st,
		    "INSERT OR IGNORE INTO outbox(profile_id,"
		    " msg_id, conn, status) VALUES (?, ?, ?, ?)");
		db_bind_id(s, 1, op->profile);
		db_bind_id(s, 2, op->target);
		db_bind_id(s, 3, p + STORE_ID_LEN);
		sqlite3_bind_int(s, 4, STORE_STATUS_QUEUED);
		if ((rc = db_step_done(st, s)) != 0)
			return rc;
	}
	if (tombstoned(st, op->profile, op->target))
		return exec_pt(st,
		    "UPDATE messages SET text = '', edited = 0,"
		    " deleted = 1 WHERE profile_id = ?1"
		    " AND id = ?2",
		    op);
	return reg_refresh(st, op->profile, op->target);
}

/* DEVICE_REMOVE: removal wins, the lowest cutoff holds. */
static int
project_device_remove(struct store *st, const struct op *op, int rebuilding)
{
	uint64_t cutoff;
	int rc;

	if (op->body_len != 8)
		return NOID_ERR_INVAL;
	if ((rc = reg_apply(st, op, REG_REMOVE, "cutoff", op->body, 8, 0)) != 0)
		return rc;
	cutoff = be64_get(op->body);
	return rebuilding ? 0
	                  : device_void(st, op->profile, op->target, cutoff);
}

/* Project an op, rebuilding inside a rebuild is not needed. */
static int
project_one(struct store *st, const struct op *op, int rebuilding)
{
	switch (op->type) {
	case STORE_OP_DEVICE_ADD:
		return reg_apply(
		    st, op, REG_DEVICE, "add", op->body, op->body_len, 0);
	case STORE_OP_DEVICE_REMOVE:
		return project_device_remove(st, op, rebuilding);
	case STORE_OP_FIELD_SET:
	case STORE_OP_SETTING_SET:
		return project_field(st, op);
	case STORE_OP_CONTACT_ADD:
		return project_contact_add(st, op);
	case STORE_OP_CONTACT_DELETE:
	case STORE_OP_CONN_DELETE:
	case STORE_OP_MSG_DELETE:
		return project_delete(st, op);
	case STORE_OP_CONN_ADD:
		return project_conn_add(st, op);
	case STORE_OP_MSG_ADD:
		return project_msg_add(st, op);
	case STORE_OP_MSG_EDIT:
		if (text_has_nul(op->body, op->body_len))
			return NOID_ERR_INVAL;
		return reg_apply(
		    st, op, REG_MSG, "text", op->body, op->body_len, 0);
	case STORE_OP_MSG_STATUS:
		if (op->body_len != 1 + STORE_HASH_LEN ||
		    op->body[0] > STORE_STATUS_DELIVERED)
			return NOID_ERR_INVAL;
		return reg_apply(
		    st, op, REG_STATUS, "status", op->body, op->body_len, 0);
	case STORE_OP_READ_MARK:
		if (op->body_len != 8 + STORE_ID_LEN)
			return NOID_ERR_INVAL;
		return reg_apply(
		    st, op, REG_READ, "read", op->body, op->body_len, 0);
	default:
		return NOID_ERR_INVAL;
	}
}

int
project_op(struct store *st, const struct op *op)
{
	return project_one(st, op, 0);
}

/* Removed devices and their cutoffs, as a rebuild pass left them. */
struct cuts {
	uint8_t (*device)[STORE_ID_LEN];
	uint64_t *cutoff;
	size_t n;
};

/* Each op's verdict from the last rebuild pass, by log position. */
struct verdicts {
	int64_t *n;
	uint8_t *live;
	size_t len;
};

/* Free c's lists and leave it empty. */
static void
cuts_free(struct cuts *c)
{
	free(c->device);
	free(c->cutoff);
	memset(c, 0, sizeof *c);
}

/* Read the removed devices of the rebuilt tables into c (freed first). */
static int
cuts_read(struct store *st, const uint8_t *profile, struct cuts *c)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT id, cutoff FROM devices WHERE profile_id = ?"
	    " AND removed = 1 ORDER BY id");
	int rc;

	cuts_free(c);
	db_bind_id(s, 1, profile);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		c->device =
		    xreallocarray(c->device, c->n + 1, sizeof *c->device);
		c->cutoff =
		    xreallocarray(c->cutoff, c->n + 1, sizeof *c->cutoff);
		db_col_id(s, 0, c->device[c->n]);
		c->cutoff[c->n] = (uint64_t)sqlite3_column_int64(s, 1);
		c->n++;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc);
}

/* Do a and b hold the same removals? */
static int
cuts_equal(const struct cuts *a, const struct cuts *b)
{
	return a->n == b->n &&
	    (a->n == 0 ||
	        (memcmp(a->device, b->device, a->n * sizeof *a->device) == 0 &&
	            memcmp(a->cutoff, b->cutoff, a->n * sizeof *a->cutoff) ==
	                0));
}

/* Is seq past a cutoff c holds for device? */
static int
cuts_block(const struct cuts *c, const uint8_t *device, uint64_t seq)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (memcmp(c->device[i], device, STORE_ID_LEN) == 0)
			return seq > c->cutoff[i];
	return 0;
}

/*
 * Would op_author accept op from the tables rebuilt so far: a member
 * not removed before it, or the genesis of a profile with no devices?
 * A removal that comes later in the log (known, from the last pass)
 * holds too.
 */
static int
author_live(
    struct store *st, const struct op *op, const struct cuts *known, int *live)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT removed, cutoff FROM devices"
	    " WHERE profile_id = ? AND id = ?");
	int rc;

	*live = 0;
	if (cuts_block(known, op->author, op->seq))
		return 0;
	db_bind_id(s, 1, op->profile);
	db_bind_id(s, 2, op->author);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*live = !sqlite3_column_int(s, 0) ||
		    op->seq <= (uint64_t)sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_ROW ? 0 : db_err(st, rc);
	if (op->type != STORE_OP_DEVICE_ADD || op->seq != 1 ||
	    memcmp(op->target, op->author, STORE_ID_LEN) != 0)
		return 0;
	s = db_prep(st, "SELECT count(*) FROM devices WHERE profile_id = ?");
	db_bind_id(s, 1, op->profile);
	rc = sqlite3_step(s);
	*live = rc == SQLITE_ROW && sqlite3_column_int64(s, 0) == 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : db_err(st, rc);
}

/* Empty a profile's projections. */
static int
rebuild_wipe(struct store *st, const uint8_t *profile)
{
	static const char *const wipe[] = {
	    "DELETE FROM devices WHERE profile_id = ?",
	    "DELETE FROM contacts WHERE profile_id = ?",
	    "DELETE FROM connections WHERE profile_id = ?",
	    "DELETE FROM outbox WHERE profile_id = ?",
	    "DELETE FROM messages WHERE profile_id = ?",
	    "DELETE FROM read_markers WHERE profile_id = ?",
	    "DELETE FROM settings WHERE profile_id = ?",
	    "DELETE FROM registers WHERE profile_id = ?",
	    "DELETE FROM tombstones WHERE profile_id = ?",
	    "UPDATE profiles SET name = NULL, status = NULL WHERE id = ?",
	};
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < sizeof wipe / sizeof wipe[0]; i++) {
		s = db_prep(st, wipe[i]);
		db_bind_id(s, 1, profile);
		if ((rc = db_step_done(st, s)) != 0)
			return rc;
	}
	return 0;
}

/*
 * One pass: replay every op, void or not, in log order, projecting
 * those whose author is live when they come (and not past a cutoff in
 * known); each op's verdict goes to v.
 */
static int
rebuild_pass(struct store *st, const uint8_t *profile, const struct cuts *known,
    struct verdicts *v)
{
	sqlite3_stmt *s = NULL;
	struct op op;
	int rc, step, live;

	if ((rc = rebuild_wipe(st, profile)) != 0)
		return rc;
	/* Its own statement: projection uses the cached ones. */
	if (sqlite3_prepare_v2(st->db,
	        "SELECT n, author, seq, hlc, type, target, sup_author,"
	        " sup_seq, body FROM ops WHERE profile_id = ? ORDER BY n",
	        -1, &s, NULL) != SQLITE_OK)
		return db_err(st, sqlite3_errcode(st->db));
	db_bind_id(s, 1, profile);
	memset(&op, 0, sizeof op);
	memcpy(op.profile, profile, STORE_ID_LEN);
	v->len = 0;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		db_col_id(s, 1, op.author);
		op.seq = (uint64_t)sqlite3_column_int64(s, 2);
		op.hlc = (uint64_t)sqlite3_column_int64(s, 3);
		op.type = (uint16_t)sqlite3_column_int(s, 4);
		db_col_id(s, 5, op.target);
		db_col_id(s, 6, op.sup_author);
		op.sup_seq = (uint64_t)sqlite3_column_int64(s, 7);
		op.body = sqlite3_column_blob(s, 8);
		op.body_len = (size_t)sqlite3_column_bytes(s, 8);
		if ((rc = author_live(st, &op, known, &live)) != 0)
			break;
		v->n = xreallocarray(v->n, v->len + 1, sizeof *v->n);
		v->live = xreallocarray(v->live, v->len + 1, sizeof *v->live);
		v->n[v->len] = sqlite3_column_int64(s, 0);
		v->live[v->len++] = (uint8_t)live;
		if (live && (rc = project_one(st, &op, 1)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_err(st, step);
	sqlite3_finalize(s);
	return rc;
}

/* Store each op's void flag as the last pass decided it. */
static int
verdicts_write(struct store *st, const struct verdicts *v)
{
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < v->len; i++) {
		s = db_prep(
		    st, "UPDATE ops SET void = ?1 WHERE n = ?2 AND void != ?1");
		sqlite3_bind_int(s, 1, !v->live[i]);
		sqlite3_bind_int64(s, 2, v->n[i]);
		if ((rc = db_step_done(st, s)) != 0)
			return rc;
	}
	return 0;
}

/*
 * Rebuild a profile's projections and every op's void flag from the
 * whole log.  Membership is worked out as the ops replay, with the
 * check op_author makes on arrival, so the ops of a device added by a
 * voided op are void, and a voided removal no longer voids anything.
 * A removal voids ops that came before it too: each pass starts from
 * the removals the last one ended with, until a pass ends where it
 * started (a chain of removals undoing removals takes a pass a link).
 * Should a cycle never settle, the last pass stands.
 */
int
project_rebuild(struct store *st, const uint8_t profile[STORE_ID_LEN])
{
	struct cuts known = {0}, found = {0}, t;
	struct verdicts v = {0};
	int rc, pass;

	for (pass = 0; pass < REBUILD_PASSES_MAX; pass++) {
		if ((rc = rebuild_pass(st, profile, &known, &v)) != 0 ||
		    (rc = cuts_read(st, profile, &found)) != 0)
			goto out;
		if (cuts_equal(&known, &found))
			break;
		t = known;
		known = found;
		found = t;
	}
	rc = verdicts_write(st, &v);
out:
	cuts_free(&known);
	cuts_free(&found);
	free(v.n);
	free(v.live);
	return rc;
}

/* Hash one column: type, length, bytes (integers as 8 bytes). */
static void
digest_col(crypto_generichash_state *h, sqlite3_stmt *s, int i)
{
	uint8_t tag[5], v[8];
	const void *p;
	uint32_t len;
	int type = sqlite3_column_type(s, i);

	if (type == SQLITE_INTEGER) {
		be64_put(v, (uint64_t)sqlite3_column_int64(s, i));
		p = v;
		len = sizeof v;
	} else {
		p = type == SQLITE_TEXT
		    ? (const void *)sqlite3_column_text(s, i)
		    : sqlite3_column_blob(s, i);
		len = (uint32_t)sqlite3_column_bytes(s, i);
	}
	tag[0] = (uint8_t)type;
	be32_put(tag + 1, len);
	crypto_generichash_update(h, tag, sizeof tag);
	if (len > 0)
		crypto_generichash_update(h, p, len);
}

/* Hash every column of every row a query returns. */
static int
digest_query(struct store *st, crypto_generichash_state *h, const char *sql,
    const uint8_t *profile)
{
	sqlite3_stmt *s = db_prep(st, sql);
	int rc, i;

	db_bind_id(s, 1, profile);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		for (i = 0; i < sqlite3_column_count(s); i++)
			digest_col(h, s, i);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc);
}

int
store_projection_digest(
    struct store *st, const uint8_t profile[STORE_ID_LEN], uint8_t out[32])
{
	/* Every visible projection column, in key order; no rowids. */
	static const char *const sql[] = {
	    "SELECT name, status FROM profiles WHERE id = ?",
	    "SELECT id, pk, name, removed, cutoff FROM devices"
	    " WHERE profile_id = ? ORDER BY id",
	    "SELECT id, alias, deleted FROM contacts WHERE profile_id = ?"
	    " ORDER BY id",
	    "SELECT id, contact_id, trust, info, deleted FROM connections"
	    " WHERE profile_id = ? ORDER BY id",
	    "SELECT id, conv, conn, author, dir, ts, seq, hash, text, edited,"
	    " deleted FROM messages WHERE profile_id = ? ORDER BY id",
	    "SELECT msg_id, conn, status, hash FROM outbox"
	    " WHERE profile_id = ? ORDER BY msg_id",
	    "SELECT conv, ts, msg_id FROM read_markers WHERE profile_id = ?"
	    " ORDER BY conv",
	    "SELECT k, v FROM settings WHERE profile_id = ? ORDER BY k",
	};
	crypto_generichash_state h;
	size_t i;
	int rc;

	crypto_generichash_init(&h, NULL, 0, 32);
	for (i = 0; i < sizeof sql / sizeof sql[0]; i++)
		if ((rc = digest_query(st, &h, sql[i], profile)) != 0)
			return rc;
	crypto_generichash_final(&h, out, 32);
	return 0;
}
