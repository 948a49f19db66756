/*
 * db-open: opening a data dir (lock, key, database, schema), the
 * statement cache, transactions and the consistency check.
 *
 * The lock is an flock on DIR/lock held for the life of the store; the
 * file holds the owner's pid so a refused second process can name it.
 * A stale file from a killed process is harmless: flock died with it.
 * The schema version is read before anything is written, so a database
 * from a newer noid is left byte-for-byte as it was.
 */
#include "store-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "key.h"
#include "vfs.h"

#define DB_NAME "noid.db"
#define LOCK_NAME "lock"
#define KEY_NAME "key"

/*
 * On IOERR, FULL or NOMEM SQLite may roll back the whole transaction by
 * itself, under our open levels.  Statements would then run (and
 * commit) one by one, saving half of what a level meant as one step.
 * So once that is seen, every later write is held in a transaction the
 * outermost level rolls back, and every level fails.
 */
static void
db_check_lost(struct store *st)
{
	if (st->txdepth == 0 || st->tx_lost || !sqlite3_get_autocommit(st->db))
		return;
	st->tx_lost = 1;
	(void)sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
}

/* Close one level of a lost transaction; the last one drops the hold. */
static void
db_lost_level(struct store *st)
{
	/* The cached device key may belong to a profile just undone. */
	secret_free(st->key.sk);
	memset(&st->key, 0, sizeof st->key);
	if (--st->txdepth == 0) {
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->tx_lost = 0;
	}
}

/* Map an SQLite result code to a noid error. */
int
db_err(struct store *st, int rc)
{
	if (st != NULL && rc != SQLITE_OK && rc != SQLITE_DONE &&
	    rc != SQLITE_ROW)
		db_check_lost(st);
	/* The encrypting VFS reports a page that fails to open this way. */
	if (rc == SQLITE_IOERR_DATA)
		return NOID_ERR_CORRUPT;
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return NOID_ERR_CORRUPT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return NOID_ERR_LOCKED;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		return NOID_ERR_IO;
	case SQLITE_CONSTRAINT:
	case SQLITE_TOOBIG:
	case SQLITE_MISMATCH:
		return NOID_ERR_INVAL;
	default:
		return NOID_ERR_INTERNAL;
	}
}

/* A cached prepared statement for static SQL, reset and unbound. */
sqlite3_stmt *
db_prep(struct store *st, const char *sql)
{
	struct stmt_slot *slot;
	size_t i;

	db_check_lost(st);
	for (i = 0; i < st->ncache; i++) {
		slot = &st->cache[i];
		if (slot->sql == sql) {
			sqlite3_reset(slot->stmt);
			sqlite3_clear_bindings(slot->stmt);
			return slot->stmt;
		}
	}
	if (st->ncache == STORE_STMT_CACHE)
		fatalx("store: statement cache full");
	slot = &st->cache[st->ncache];
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	        &slot->stmt, NULL) != SQLITE_OK)
		fatalx("store: bad SQL: %s: %s", sqlite3_errmsg(st->db), sql);
	slot->sql = sql;
	st->ncache++;
	return slot->stmt;
}

/* Run SQL without results. */
int
db_exec(struct store *st, const char *sql)
{
	return db_err(st, sqlite3_exec(st->db, sql, NULL, NULL, NULL));
}

/* Step a statement that returns no rows, then reset it. */
int
db_step_done(struct store *st, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc);
}

/*
 * Run one transaction-control statement, prepared once: every store
 * call opens and closes a level, and parsing the SQL each time showed
 * in the per-message cost.
 */
static int
db_tx_sql(struct store *st, const char *sql)
{
	return db_step_done(st, db_prep(st, sql));
}

/* Begin a transaction, or a savepoint inside one. */
int
db_begin(struct store *st)
{
	int rc;

	db_check_lost(st);
	if (st->tx_lost)
		return NOID_ERR_IO;
	rc = db_tx_sql(
	    st, st->txdepth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT sp");
	if (rc == 0)
		st->txdepth++;
	return rc;
}

/* Commit the innermost level. */
int
db_commit(struct store *st)
{
	int rc;

	if (st->txdepth == 0)
		return NOID_ERR_STATE;
	db_check_lost(st);
	if (st->tx_lost) {
		db_lost_level(st);
		return NOID_ERR_IO;
	}
	rc = db_tx_sql(st, st->txdepth == 1 ? "COMMIT" : "RELEASE sp");
	if (rc != 0) {
		db_rollback(st);
		return rc;
	}
	st->txdepth--;
	return 0;
}

/* Undo the innermost level. */
void
db_rollback(struct store *st)
{
	if (st->txdepth == 0)
		return;
	db_check_lost(st);
	if (st->tx_lost)
		db_lost_level(st);
	else {
		if (st->txdepth == 1)
			(void)db_tx_sql(st, "ROLLBACK");
		else if (db_tx_sql(st, "ROLLBACK TO sp") == 0)
			(void)db_tx_sql(st, "RELEASE sp");
		if (st->tx_lost)
			db_lost_level(st);
		else
			st->txdepth--;
	}
	/* The cached device key may belong to a profile just undone. */
	secret_free(st->key.sk);
	memset(&st->key, 0, sizeof st->key);
}

/* Commit on success, roll back on failure; returns rc. */
int
db_end(struct store *st, int rc)
{
	if (rc == 0)
		return db_commit(st);
	db_rollback(st);
	return rc;
}

void
db_bind_id(sqlite3_stmt *s, int i, const uint8_t *id)
{
	sqlite3_bind_blob(s, i, id, STORE_ID_LEN, SQLITE_STATIC);
}

void
db_bind_blob(sqlite3_stmt *s, int i, const void *p, size_t len)
{
	/* A zero-length blob must stay a blob, not NULL. */
	if (p == NULL || len == 0)
		sqlite3_bind_zeroblob(s, i, 0);
	else
		sqlite3_bind_blob64(s, i, p, len, SQLITE_STATIC);
}

void
db_bind_text(sqlite3_stmt *s, int i, const char *p, size_t len)
{
	if (p == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text64(s, i, p, len, SQLITE_STATIC, SQLITE_UTF8);
}

/* Copy an id column (zeros if it is not an id). */
void
db_col_id(sqlite3_stmt *s, int i, uint8_t out[STORE_ID_LEN])
{
	const void *p = sqlite3_column_blob(s, i);

	if (p != NULL && sqlite3_column_bytes(s, i) == STORE_ID_LEN)
		memcpy(out, p, STORE_ID_LEN);
	else
		memset(out, 0, STORE_ID_LEN);
}

/* A text column as a new string, NULL for SQL NULL (caller frees). */
char *
db_col_strdup(sqlite3_stmt *s, int i)
{
	const unsigned char *p = sqlite3_column_text(s, i);

	return p == NULL ? NULL : xstrdup((const char *)p);
}

/* A blob column as new memory (caller frees). */
uint8_t *
db_col_blobdup(sqlite3_stmt *s, int i, size_t *len)
{
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);

	*len = (size_t)n;
	return xmemdup(p == NULL ? "" : p, n > 0 ? (size_t)n : 1);
}

/*
 * Make an empty database file with mode 0600 (SQLite would use 0644
 * less the umask); its WAL and journals copy the database file's mode.
 */
static int
db_create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno == EEXIST ? 0 : NOID_ERR_IO;
	close(fd);
	return 0;
}

/*
 * Open the database file, through the encrypting VFS when named (a page
 * 1 that does not decrypt is damage: the key file already proved the
 * password).  Exclusive locking, set before the first read: one process
 * owns a data dir, and the WAL index then lives in heap memory, so no
 * -shm file (page numbers, a checksum over plaintext) reaches the disk.
 */
int
db_open_file(const char *path, const char *vfs_name, int create, sqlite3 **out)
{
	int oflags =
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	int rc;

	*out = NULL;
	if (create && (rc = db_create_private(path)) != 0)
		return rc;
	if (vfs_name != NULL) {
		rc = vfs_enc_open(path, vfs_name, VFS_ENC_EXCLUSIVE, out);
		return rc == NOID_ERR_CRYPTO ? NOID_ERR_CORRUPT : rc;
	}
	rc = sqlite3_open_v2(path, out, oflags, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(
		    *out, "PRAGMA locking_mode=EXCLUSIVE", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(*out);
		*out = NULL;
		return db_err(NULL, rc);
	}
	return 0;
}

/* Take DIR/lock, or say who holds it. */
static int
lock_take(const char *dir, int *fdp)
{
	char *path = path_join(dir, LOCK_NAME), pid[32];
	int fd, n, rc = 0;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return errno == ENOENT ? NOID_ERR_NOENT : NOID_ERR_IO;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? NOID_ERR_LOCKED : NOID_ERR_IO;
		close(fd);
		return rc;
	}
	/* Write, then cut: no truncate to zero and regrow on every open. */
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (pwrite(fd, pid, (size_t)n, 0) != n || ftruncate(fd, n) != 0) {
		close(fd);
		return NOID_ERR_IO;
	}
	*fdp = fd;
	return 0;
}

int
store_lock_holder(const char *dir, long *pid)
{
	char *path = path_join(dir, LOCK_NAME);
	uint8_t *data = NULL;
	size_t len;
	int rc;

	*pid = 0;
	rc = file_read_all(path, 64, &data, &len);
	free(path);
	if (rc == NOID_ERR_NOENT)
		return 0;
	if (rc != 0)
		return rc;
	*pid = strtol((const char *)data, NULL, 10);
	free(data);
	return 0;
}

/* Connection settings every open store runs with (DESIGN §7). */
static int
db_configure(struct store *st)
{
	static const char *const pragmas[] = {
	    "PRAGMA journal_mode=WAL",
	    "PRAGMA synchronous=FULL",
	    "PRAGMA secure_delete=ON",
	    "PRAGMA temp_store=MEMORY",
	    "PRAGMA foreign_keys=ON",
	    /* Every page read from disk costs a decryption: cache more. */
	    "PRAGMA cache_size=-32768",
	};
	size_t i;
	int rc;

	sqlite3_busy_timeout(st->db, 0);
	for (i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++)
		if ((rc = db_exec(st, pragmas[i])) != 0)
			return rc;
	return 0;
}

/* Restore the persisted hybrid logical clock. */
static int
hlc_load(struct store *st)
{
	sqlite3_stmt *s = db_prep(st, "SELECT v FROM meta WHERE k = 'hlc'");
	int rc;

	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		st->hlc = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(st, rc);
}

/* Check a password argument before anything touches the disk. */
static int
password_check(const char *password, int creating)
{
	if (password == NULL)
		return 0;
	if (strlen(password) > STORE_PASSWORD_MAX)
		return NOID_ERR_TOOBIG;
	if (password[0] == '\0')
		return creating ? NOID_ERR_INVAL : NOID_ERR_PASSWORD;
	return 0;
}

/*
 * Unlock (or on creation make) the key file and register this store's
 * encrypting VFS under a name of its own.
 */
static int
store_unlock(struct store *st, const char *password, int creating)
{
	static unsigned long serial;
	char *path = path_join(st->dir, KEY_NAME);
	uint8_t *key = NULL;
	struct stat sb;
	int rc;

	if (creating && stat(path, &sb) != 0)
		rc = key_create(
		    path, password, st->flags & STORE_FAST_KDF, &key);
	else
		rc = key_unlock_flags(
		    path, password, st->flags & STORE_FAST_KDF, &key);
	free(path);
	if (rc != 0)
		return rc;
	xasprintf(&st->vfs_name, "noid-enc-%ld-%lu", (long)getpid(), ++serial);
	rc = vfs_enc_register(st->vfs_name, key);
	secret_free(key);
	if (rc != 0) {
		free(st->vfs_name);
		st->vfs_name = NULL;
	}
	return rc;
}

/* Open the database and bring its schema up to date. */
static int
store_open_db(struct store *st, int creating)
{
	char *path = path_join(st->dir, DB_NAME);
	int rc, version;

	rc = db_open_file(path, st->vfs_name, creating, &st->db);
	free(path);
	if (rc != 0)
		return rc;
	/* Read first: a newer or foreign file must stay untouched. */
	if ((rc = schema_read_version(st->db, &version)) != 0)
		return rc;
	if (version > schema_latest())
		return NOID_ERR_VERSION;
	if ((rc = db_configure(st)) != 0)
		return rc;
	if ((rc = schema_migrate(st->db, schema_latest())) != 0)
		return rc;
	st->version = schema_latest();
	return hlc_load(st);
}

int
store_open(const char *dir, const char *password, int flags, struct store **out)
{
	struct store *st;
	struct stat sb;
	char *dbpath = NULL;
	int rc, creating = 0;

	*out = NULL;
	if (dir == NULL)
		return NOID_ERR_INVAL;
	if (stat(dir, &sb) != 0) {
		if (errno != ENOENT || !(flags & STORE_CREATE))
			return errno == ENOENT ? NOID_ERR_NOENT : NOID_ERR_IO;
		if (dir_make_private(dir) != 0)
			return NOID_ERR_IO;
	}
	dbpath = path_join(dir, DB_NAME);
	creating = stat(dbpath, &sb) != 0;
	free(dbpath);
	if (creating && !(flags & STORE_CREATE))
		return NOID_ERR_NOENT;
	if ((rc = password_check(password, creating)) != 0)
		return rc;

	st = xcalloc(1, sizeof *st);
	st->lockfd = -1;
	st->flags = flags;
	st->dir = xstrdup(dir);
	if ((rc = lock_take(dir, &st->lockfd)) != 0)
		goto out;
	if (!(flags & STORE_PLAIN) &&
	    (rc = store_unlock(st, password, creating)) != 0)
		goto out;
	if ((rc = store_open_db(st, creating)) != 0)
		goto out;
	*out = st;
	st = NULL;
out:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	while (st->txdepth > 0)
		db_rollback(st);
	for (i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	if (st->vfs_name != NULL)
		vfs_enc_unregister(st->vfs_name);
	secret_free(st->key.sk);
	if (st->lockfd >= 0)
		close(st->lockfd);
	free(st->vfs_name);
	free(st->dir);
	free(st);
}

int
store_change_password_flags(
    struct store *st, const char *old_pw, const char *new_pw, int flags)
{
	char *path;
	int rc;

	if (st->vfs_name == NULL)
		return NOID_ERR_STATE;
	if ((rc = password_check(new_pw, 1)) != 0)
		return rc;
	path = path_join(st->dir, KEY_NAME);
	rc = key_change_password(
	    path, old_pw, new_pw, (flags & STORE_FAST_KDF) != 0);
	free(path);
	return rc;
}

int
store_change_password(struct store *st, const char *old_pw, const char *new_pw)
{
	return store_change_password_flags(st, old_pw, new_pw, 0);
}

int
store_has_password(const char *dir, int *yes)
{
	char *path = path_join(dir, KEY_NAME);
	int rc = key_has_password(path, yes);

	free(path);
	return rc;
}

int
store_corruption(struct store *st, uint32_t *pgno)
{
	*pgno = 0;
	if (st->vfs_name == NULL)
		return 0;
	return vfs_enc_last_error(st->vfs_name, pgno);
}

int
store_tx_begin(struct store *st)
{
	return db_begin(st);
}

int
store_tx_commit(struct store *st)
{
	return db_commit(st);
}

void
store_tx_rollback(struct store *st)
{
	db_rollback(st);
}

int
store_tx_depth(const struct store *st)
{
	return st->txdepth;
}

int
store_schema_version(struct store *st)
{
	return st->version;
}

int
store_schema_latest(void)
{
	return schema_latest();
}

/*
 * The model's invariants, each a query counting violations: per-device
 * seqs run 1..n, every projection row has the op that made it, and a
 * message's copy of its outbox status agrees with the outbox.
 */
static const char *const invariants[] = {
    "SELECT count(*) FROM (SELECT min(seq) mi, max(seq) ma, count(*) c"
    " FROM ops GROUP BY profile_id, author) WHERE mi != 1 OR ma != c",
    "SELECT count(*) FROM devices d WHERE NOT EXISTS (SELECT 1 FROM ops o"
    " WHERE o.profile_id = d.profile_id AND o.target = d.id"
    " AND o.type = 1)",
    "SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM ops o"
    " WHERE o.profile_id = c.profile_id AND o.target = c.id"
    " AND o.type = 4)",
    "SELECT count(*) FROM connections c WHERE NOT EXISTS (SELECT 1 FROM"
    " ops o WHERE o.profile_id = c.profile_id AND o.target = c.id"
    " AND o.type = 6)",
    "SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM ops o"
    " WHERE o.profile_id = m.profile_id AND o.target = m.id"
    " AND o.type = 8)",
    "SELECT count(*) FROM outbox b WHERE NOT EXISTS (SELECT 1 FROM"
    " messages m WHERE m.profile_id = b.profile_id AND m.id = b.msg_id)",
    "SELECT count(*) FROM registers r WHERE NOT EXISTS (SELECT 1 FROM"
    " ops o WHERE o.profile_id = r.profile_id AND o.author = r.author"
    " AND o.seq = r.seq)",
    "SELECT count(*) FROM ops WHERE length(sig) != 64 OR length(author)"
    " != 16 OR length(target) != 16",
    "SELECT count(*) FROM messages m WHERE m.status != coalesce((SELECT"
    " o.status FROM outbox o WHERE o.profile_id = m.profile_id"
    " AND o.msg_id = m.id), 0)",
};

/* Run one counting query; a non-zero count is corruption. */
static int
check_count(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NOID_ERR_INTERNAL;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = sqlite3_column_int64(s, 0) == 0 ? 0 : NOID_ERR_CORRUPT;
	else
		rc = db_err(st, rc);
	sqlite3_finalize(s);
	return rc;
}

int
store_check(struct store *st)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *res;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(
	        st->db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
		return db_err(st, sqlite3_errcode(st->db));
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		res = sqlite3_column_text(s, 0);
		rc = res != NULL && strcmp((const char *)res, "ok") == 0
		    ? 0
		    : NOID_ERR_CORRUPT;
	} else
		rc = db_err(st, rc);
	sqlite3_finalize(s);
	if (rc != 0)
		return rc;
	if ((rc = check_count(st,
	         "SELECT count(*) FROM"
	         " pragma_foreign_key_check")) != 0)
		return rc;
	if (db_exec(st,
	        "INSERT INTO messages_fts(messages_fts)"
	        " VALUES('integrity-check')") != 0)
		return NOID_ERR_CORRUPT;
	for (i = 0; i < sizeof invariants / sizeof invariants[0]; i++)
		if ((rc = check_count(st, invariants[i])) != 0)
			return rc;
	return 0;
}
