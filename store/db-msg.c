/*
 * db-msg: messages — adding, editing, deleting (each an op), reading a
 * conversation newest-first in pages, read markers and full-text search.
 *
 * Paging walks the covering messages_page index (profile, conv, ts, id
 * and every column shown, schema v3) with a row-value cursor, so the
 * newest screenful of a 100k-message history is one short walk over a
 * few adjacent pages: no sort, no lookups into the table.
 */
#include "store-int.h"

#include <stdlib.h>
#include <string.h>

/* The columns msg_fill reads, in order. */
#define MSG_COLS                                                               \
	"m.id, m.conv, m.conn, m.dir, m.ts, m.seq, m.hash, m.text,"            \
	" m.edited, m.deleted, m.status"

/* Fill a store_msg from a row of MSG_COLS. */
static void
msg_fill(sqlite3_stmt *s, struct store_msg *m)
{
	const unsigned char *text;

	memset(m, 0, sizeof *m);
	db_col_id(s, 0, m->id);
	db_col_id(s, 1, m->conv);
	db_col_id(s, 2, m->conn);
	m->dir = sqlite3_column_int(s, 3);
	m->ts_ms = (uint64_t)sqlite3_column_int64(s, 4);
	m->seq = (uint64_t)sqlite3_column_int64(s, 5);
	if (sqlite3_column_bytes(s, 6) == STORE_HASH_LEN)
		memcpy(m->hash, sqlite3_column_blob(s, 6), STORE_HASH_LEN);
	/* All text_len bytes and the terminator SQLite adds: readers and
	 * store_msg_clear trust text_len, so a NUL inside (a row written
	 * before NULs were refused) must not shorten the copy. */
	if ((text = sqlite3_column_text(s, 7)) != NULL) {
		m->text_len = (size_t)sqlite3_column_bytes(s, 7);
		m->text = xmemdup(text, m->text_len + 1);
	} else
		m->text = xstrdup("");
	m->edited = sqlite3_column_int(s, 8);
	m->deleted = sqlite3_column_int(s, 9);
	m->status = sqlite3_column_int(s, 10);
}

/* Collect every row of a MSG_COLS query (caller: store_msgs_free). */
static int
msg_collect(
    struct store *st, sqlite3_stmt *s, struct store_msg **out, size_t *n)
{
	int rc;

	*out = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		msg_fill(s, &(*out)[(*n)++]);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_msgs_free(*out, *n);
		*out = NULL;
		*n = 0;
		return db_err(st, rc);
	}
	return 0;
}

int
store_msg_add(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], int dir, uint64_t ts_ms, const char *text,
    size_t len, uint8_t id[STORE_ID_LEN])
{
	uint8_t conv[STORE_ID_LEN];
	struct buf b;
	int rc;

	if (len > STORE_TEXT_MAX)
		return NOID_ERR_TOOBIG;
	if (text_has_nul(text, len))
		return NOID_ERR_INVAL;
	if (dir != STORE_DIR_IN && dir != STORE_DIR_OUT)
		return NOID_ERR_INVAL;
	if ((rc = conn_contact(st, profile, conn, conv)) != 0)
		return rc;
	id_random(id);
	buf_init(&b);
	msg_body(&b, conv, conn, dir, ts_ms != 0 ? ts_ms : clock_wall_ms(), 0,
	    NULL, text, len);
	rc =
	    op_local(st, profile, STORE_OP_MSG_ADD, id, b.data, b.len, 0, NULL);
	buf_free_secret(&b);
	return rc;
}

/* NOID_ERR_NOENT unless msg is a live message of profile. */
static int
msg_live(struct store *st, const uint8_t *profile, const uint8_t *msg)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT deleted FROM messages"
	    " WHERE profile_id = ? AND id = ?");
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, msg);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW ? (sqlite3_column_int(s, 0) ? NOID_ERR_NOENT : 0)
	    : rc == SQLITE_DONE ? NOID_ERR_NOENT
	                        : db_err(st, rc);
	sqlite3_reset(s);
	return rc;
}

int
store_msg_edit(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t msg[STORE_ID_LEN], const char *text, size_t len)
{
	int rc;

	if (len > STORE_TEXT_MAX)
		return NOID_ERR_TOOBIG;
	if (text_has_nul(text, len))
		return NOID_ERR_INVAL;
	if ((rc = msg_live(st, profile, msg)) != 0)
		return rc;
	return op_local(st, profile, STORE_OP_MSG_EDIT, msg,
	    (const uint8_t *)text, len, REG_MSG, "text");
}

int
store_msg_delete(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t msg[STORE_ID_LEN])
{
	int rc;

	if ((rc = msg_live(st, profile, msg)) != 0)
		return rc;
	return op_local(
	    st, profile, STORE_OP_MSG_DELETE, msg, NULL, 0, 0, NULL);
}

int
store_msg_get(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t msg[STORE_ID_LEN], struct store_msg *out)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT " MSG_COLS " FROM messages m"
	    " WHERE m.profile_id = ? AND m.id = ?");
	int rc;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, msg);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		msg_fill(s, out);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0
	    : rc == SQLITE_DONE ? NOID_ERR_NOENT
	                        : db_err(st, rc);
}

void
store_msg_clear(struct store_msg *m)
{
	if (m->text != NULL) {
		memset(m->text, 0, m->text_len);
		free(m->text);
	}
	memset(m, 0, sizeof *m);
}

void
store_msgs_free(struct store_msg *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_msg_clear(&m[i]);
	free(m);
}

int
store_msgs_page(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conv[STORE_ID_LEN], const uint8_t *before, size_t limit,
    struct store_msg **out, size_t *n)
{
	sqlite3_stmt *s;

	if (before == NULL)
		s = db_prep(st,
		    "SELECT " MSG_COLS " FROM messages m"
		    " WHERE m.profile_id = ?1 AND m.conv = ?2"
		    " ORDER BY m.ts DESC, m.id DESC LIMIT ?3");
	else
		s = db_prep(st,
		    "SELECT " MSG_COLS " FROM messages m"
		    " WHERE m.profile_id = ?1 AND m.conv = ?2"
		    " AND (m.ts, m.id) < (SELECT ts, id FROM"
		    " messages WHERE profile_id = ?1 AND id = ?4)"
		    " ORDER BY m.ts DESC, m.id DESC LIMIT ?3");
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conv);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
	if (before != NULL)
		db_bind_id(s, 4, before);
	return msg_collect(st, s, out, n);
}

int
store_outbox_queued(struct store *st, const uint8_t profile[STORE_ID_LEN],
    struct store_msg **out, size_t *n)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT " MSG_COLS " FROM outbox b JOIN messages m ON"
	    " m.profile_id = b.profile_id AND m.id = b.msg_id"
	    " WHERE b.profile_id = ? AND b.status = 1 AND m.deleted = 0"
	    " ORDER BY m.ts, m.id");

	db_bind_id(s, 1, profile);
	return msg_collect(st, s, out, n);
}

int
store_read_mark(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conv[STORE_ID_LEN], const uint8_t msg[STORE_ID_LEN])
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT m.ts, (SELECT (r.ts, r.msg_id) >= (m.ts, m.id) FROM"
	    " read_markers r WHERE r.profile_id = m.profile_id"
	    " AND r.conv = m.conv) FROM messages m WHERE m.profile_id = ?"
	    " AND m.id = ? AND m.conv = ?");
	uint8_t body[8 + STORE_ID_LEN];
	int rc, behind;

	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, msg);
	db_bind_id(s, 3, conv);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? NOID_ERR_NOENT : db_err(st, rc);
	}
	be64_put(body, (uint64_t)sqlite3_column_int64(s, 0));
	behind = sqlite3_column_int(s, 1);
	sqlite3_reset(s);
	/* Markers only move forward: an older one is not worth an op. */
	if (behind)
		return 0;
	memcpy(body + 8, msg, STORE_ID_LEN);
	return op_local(
	    st, profile, STORE_OP_READ_MARK, conv, body, sizeof body, 0, NULL);
}

int
store_unread_count(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conv[STORE_ID_LEN], uint64_t *n)
{
	static const uint8_t none[STORE_ID_LEN];
	sqlite3_stmt *s = db_prep(st,
	    "SELECT ts, msg_id FROM read_markers"
	    " WHERE profile_id = ? AND conv = ?");
	sqlite3_int64 ts = -1;
	uint8_t after[STORE_ID_LEN];
	int rc;

	*n = 0;
	memcpy(after, none, sizeof after);
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conv);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ts = sqlite3_column_int64(s, 0);
		db_col_id(s, 1, after);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, rc);
	/* A range the (profile, conv, ts, id) index seeks to, and a limit:
	 * the OR with NOT EXISTS made SQLite scan the whole conversation. */
	s = db_prep(st,
	    "SELECT count(*) FROM (SELECT 1 FROM messages m"
	    " WHERE m.profile_id = ?1 AND m.conv = ?2"
	    " AND (m.ts, m.id) > (?3, ?4) AND m.dir = 1 AND m.deleted = 0"
	    " LIMIT ?5)");
	db_bind_id(s, 1, profile);
	db_bind_id(s, 2, conv);
	sqlite3_bind_int64(s, 3, ts);
	db_bind_id(s, 4, after);
	sqlite3_bind_int(s, 5, STORE_UNREAD_MAX + 1);
	rc = sqlite3_step(s);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : db_err(st, rc);
}

/*
 * Turn user words into an FTS5 query: each word quoted (so punctuation
 * is never syntax), all must match, a trailing * asks for a prefix.
 */
static char *
search_query(const char *q)
{
	struct buf b;
	const char *p = q, *w;
	size_t len;
	int prefix;

	buf_init(&b);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		w = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		len = (size_t)(p - w);
		prefix = len > 1 && w[len - 1] == '*';
		if (prefix)
			len--;
		if (len == 0)
			continue;
		if (b.len > 0)
			buf_put_u8(&b, ' ');
		buf_put_u8(&b, '"');
		for (; len > 0; w++, len--) {
			if (*w == '"')
				buf_put_u8(&b, '"');
			buf_put_u8(&b, (uint8_t)*w);
		}
		buf_put_u8(&b, '"');
		if (prefix)
			buf_put_u8(&b, '*');
	}
	buf_put_u8(&b, 0);
	return (char *)b.data;
}

int
store_search(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t *conv, const char *query, size_t limit,
    struct store_hit **out, size_t *n)
{
	sqlite3_stmt *s = db_prep(st,
	    "SELECT m.conv, m.id, m.ts FROM messages_fts f JOIN messages m"
	    " ON m.n = f.rowid WHERE messages_fts MATCH ?1"
	    " AND m.profile_id = ?2 AND (?3 IS NULL OR m.conv = ?3)"
	    " AND m.deleted = 0 ORDER BY m.ts DESC, m.id DESC LIMIT ?4");
	struct store_hit *h;
	char *q = search_query(query);
	int rc;

	*out = NULL;
	*n = 0;
	if (q[0] == '\0') {
		free(q);
		return NOID_ERR_INVAL;
	}
	sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
	db_bind_id(s, 2, profile);
	if (conv != NULL)
		db_bind_id(s, 3, conv);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		h = &(*out)[(*n)++];
		db_col_id(s, 0, h->conv);
		db_col_id(s, 1, h->msg);
		h->ts_ms = (uint64_t)sqlite3_column_int64(s, 2);
	}
	sqlite3_reset(s);
	free(q);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return db_err(st, rc);
	}
	return 0;
}
