/*
 * db-schema: the numbered migrations (PRAGMA user_version).
 *
 * steps[n - 1] takes a database from version n - 1 to n.  Steps are
 * never edited once released: a new version appends a step, and the
 * tests build a database at every old version (with that version's
 * sample data, fixtures[] below) and upgrade it.
 *
 * Tables fall in three groups.  The op log (ops) is the truth.  The
 * projections (profiles, devices, contacts, connections, messages,
 * outbox, read_markers, settings, plus the registers and tombstones
 * that make them order-independent) are a pure function of the op set.
 * Local state (meta, local_devices, conn_local) is this device's own
 * and never synced: the clock, device signing keys, agent state.
 */
#include "store-int.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const steps[] = {
    /* 1: base tables. */
    "CREATE TABLE meta(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;"
    "CREATE TABLE profiles(id BLOB PRIMARY KEY, name TEXT, status TEXT);"
    "CREATE TABLE local_devices(profile_id BLOB PRIMARY KEY"
    "  REFERENCES profiles(id) ON DELETE CASCADE,"
    "  device_id BLOB NOT NULL, sign_sk BLOB NOT NULL);"
    "CREATE TABLE ops(n INTEGER PRIMARY KEY, profile_id BLOB NOT NULL"
    "  REFERENCES profiles(id) ON DELETE CASCADE,"
    "  author BLOB NOT NULL, seq INTEGER NOT NULL, hlc INTEGER NOT NULL,"
    "  type INTEGER NOT NULL, target BLOB NOT NULL, sup_author BLOB,"
    "  sup_seq INTEGER NOT NULL DEFAULT 0, body BLOB NOT NULL,"
    "  sig BLOB NOT NULL, void INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE(profile_id, author, seq));"
    "CREATE INDEX ops_target ON ops(profile_id, target);"
    "CREATE TABLE devices(profile_id BLOB NOT NULL REFERENCES profiles(id)"
    "  ON DELETE CASCADE, id BLOB NOT NULL, pk BLOB NOT NULL, name TEXT,"
    "  removed INTEGER NOT NULL DEFAULT 0, cutoff INTEGER,"
    "  PRIMARY KEY(profile_id, id)) WITHOUT ROWID;"
    "CREATE TABLE registers(profile_id BLOB NOT NULL, target BLOB NOT NULL,"
    "  kind INTEGER NOT NULL, field TEXT NOT NULL, hlc INTEGER NOT NULL,"
    "  author BLOB NOT NULL, seq INTEGER NOT NULL, value BLOB,"
    "  PRIMARY KEY(profile_id, target, kind, field)) WITHOUT ROWID;"
    "CREATE TABLE tombstones(profile_id BLOB NOT NULL, target BLOB NOT NULL,"
    "  PRIMARY KEY(profile_id, target)) WITHOUT ROWID;"
    "CREATE TABLE contacts(profile_id BLOB NOT NULL REFERENCES profiles(id)"
    "  ON DELETE CASCADE, id BLOB NOT NULL, alias TEXT,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(profile_id, id)) WITHOUT ROWID;"
    "CREATE TABLE connections(profile_id BLOB NOT NULL"
    "  REFERENCES profiles(id) ON DELETE CASCADE, id BLOB NOT NULL,"
    "  contact_id BLOB NOT NULL, trust INTEGER NOT NULL, info BLOB,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY(profile_id, id)) WITHOUT ROWID;"
    "CREATE TABLE conn_local(profile_id BLOB NOT NULL"
    "  REFERENCES profiles(id) ON DELETE CASCADE, id BLOB NOT NULL,"
    "  state BLOB, send_seq INTEGER NOT NULL DEFAULT 0,"
    "  recv_seq INTEGER NOT NULL DEFAULT 0, send_hash BLOB, recv_hash BLOB,"
    "  PRIMARY KEY(profile_id, id)) WITHOUT ROWID;"
    "CREATE TABLE messages(n INTEGER PRIMARY KEY, profile_id BLOB NOT NULL"
    "  REFERENCES profiles(id) ON DELETE CASCADE, id BLOB NOT NULL,"
    "  conv BLOB NOT NULL, conn BLOB NOT NULL, author BLOB NOT NULL,"
    "  dir INTEGER NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  hash BLOB, text TEXT NOT NULL, edited INTEGER NOT NULL DEFAULT 0,"
    "  deleted INTEGER NOT NULL DEFAULT 0, UNIQUE(profile_id, id));"
    "CREATE INDEX messages_conv ON messages(profile_id, conv, ts, id);"
    "CREATE TABLE outbox(profile_id BLOB NOT NULL REFERENCES profiles(id)"
    "  ON DELETE CASCADE, msg_id BLOB NOT NULL, conn BLOB NOT NULL,"
    "  status INTEGER NOT NULL, hash BLOB,"
    "  PRIMARY KEY(profile_id, msg_id)) WITHOUT ROWID;"
    "CREATE INDEX outbox_hash ON outbox(profile_id, hash);"
    "CREATE TABLE read_markers(profile_id BLOB NOT NULL"
    "  REFERENCES profiles(id) ON DELETE CASCADE, conv BLOB NOT NULL,"
    "  ts INTEGER NOT NULL, msg_id BLOB NOT NULL,"
    "  PRIMARY KEY(profile_id, conv)) WITHOUT ROWID;"
    "CREATE TABLE settings(profile_id BLOB NOT NULL REFERENCES profiles(id)"
    "  ON DELETE CASCADE, k TEXT NOT NULL, v TEXT,"
    "  PRIMARY KEY(profile_id, k)) WITHOUT ROWID;",

    /* 2: full-text search over message text, kept by triggers. */
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text,"
    "  content='messages', content_rowid='n',"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN"
    "  INSERT INTO messages_fts(rowid, text) VALUES (new.n, new.text);"
    " END;"
    "CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, text)"
    "  VALUES ('delete', old.n, old.text);"
    " END;"
    "CREATE TRIGGER messages_au AFTER UPDATE OF text ON messages BEGIN"
    "  INSERT INTO messages_fts(messages_fts, rowid, text)"
    "  VALUES ('delete', old.n, old.text);"
    "  INSERT INTO messages_fts(rowid, text) VALUES (new.n, new.text);"
    " END;"
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');"
    "CREATE INDEX outbox_status ON outbox(profile_id, status);",

    /*
     * 3: a conversation's messages clustered for reading.  The status of
     * an outgoing message is copied into its row (triggers keep it), and
     * a covering index keyed (profile, conv, ts, id) holds every column
     * a page of messages shows, so the newest 200 of one conversation
     * sit on a few adjacent pages instead of ~200 scattered table and
     * outbox pages (each a decryption).
     */
    "ALTER TABLE messages ADD COLUMN status INTEGER NOT NULL DEFAULT 0;"
    "UPDATE messages SET status = o.status FROM outbox o"
    "  WHERE o.profile_id = messages.profile_id AND o.msg_id = messages.id;"
    "CREATE TRIGGER outbox_ai AFTER INSERT ON outbox BEGIN"
    "  UPDATE messages SET status = new.status"
    "  WHERE profile_id = new.profile_id AND id = new.msg_id;"
    " END;"
    "CREATE TRIGGER outbox_au AFTER UPDATE OF status ON outbox BEGIN"
    "  UPDATE messages SET status = new.status"
    "  WHERE profile_id = new.profile_id AND id = new.msg_id;"
    " END;"
    "CREATE INDEX messages_page ON messages(profile_id, conv, ts, id,"
    "  conn, dir, seq, hash, text, edited, deleted, status);"
    "DROP INDEX messages_conv;",
};

#define NSTEPS ((int)(sizeof steps / sizeof steps[0]))

/*
 * Sample data as an old version wrote it: a profile "sample v%d" with
 * its device, a contact, a connection, an incoming message and a sent
 * one, each with its op so the upgraded database passes store_check.
 * fixture_msgs[i] is how versions from fixture_from[i] on stored the
 * messages.
 */
static const char fixture_common[] =
    "INSERT INTO profiles VALUES (x'00000000000000000000000000000001',"
    "  'sample v%d', NULL);"
    "INSERT INTO local_devices VALUES (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000d1', zeroblob(64));"
    "INSERT INTO ops(profile_id, author, seq, hlc, type, target, body, sig)"
    " VALUES"
    " (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000d1', 1, 65536, 1,"
    "  x'000000000000000000000000000000d1', zeroblob(32), zeroblob(64)),"
    " (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000d1', 2, 131072, 3,"
    "  x'00000000000000000000000000000001', x'', zeroblob(64)),"
    " (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000d1', 3, 196608, 4,"
    "  x'000000000000000000000000000000c1', x'', zeroblob(64)),"
    " (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000d1', 4, 262144, 6,"
    "  x'000000000000000000000000000000a1', x'', zeroblob(64)),"
    " (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000d1', 5, 327680, 8,"
    "  x'000000000000000000000000000000e1', x'', zeroblob(64)),"
    " (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000d1', 6, 393216, 8,"
    "  x'000000000000000000000000000000e2', x'', zeroblob(64));"
    "INSERT INTO devices VALUES (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000d1', zeroblob(32), 'old', 0, NULL);"
    "INSERT INTO registers VALUES (x'00000000000000000000000000000001',"
    "  x'00000000000000000000000000000001', 1, 'name', 131072,"
    "  x'000000000000000000000000000000d1', 2, 'sample v%d');"
    "INSERT INTO contacts VALUES (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000c1', 'old friend', 0);"
    "INSERT INTO connections VALUES (x'00000000000000000000000000000001',"
    "  x'000000000000000000000000000000a1',"
    "  x'000000000000000000000000000000c1', 2, NULL, 0);";

#define FIXTURE_MSG(id, dir, ts, text)                                         \
	"(x'00000000000000000000000000000001',"                                \
	" x'000000000000000000000000000000" id "',"                            \
	" x'000000000000000000000000000000c1',"                                \
	" x'000000000000000000000000000000a1',"                                \
	" x'000000000000000000000000000000d1', " dir ", " ts ", 1, '" text "'"

#define FIXTURE_OUTBOX                                                         \
	"INSERT INTO outbox VALUES (x'00000000000000000000000000000001',"      \
	"  x'000000000000000000000000000000e2',"                               \
	"  x'000000000000000000000000000000a1', 2, zeroblob(32));"

static const int fixture_from[] = {1, 3};
static const char *const fixture_msgs[] = {
    "INSERT INTO messages(profile_id, id, conv, conn, author, dir, ts, seq,"
    "  text) VALUES " FIXTURE_MSG(
        "e1", "1", "1000", "sample message") ")," FIXTURE_MSG("e2", "2", "2000",
        "old reply") ");" FIXTURE_OUTBOX,
    "INSERT INTO messages(profile_id, id, conv, conn, author, dir, ts, seq,"
    "  text, status) VALUES " FIXTURE_MSG(
        "e1", "1", "1000", "sample message") ", 0)," FIXTURE_MSG("e2", "2",
        "2000", "old reply") ", 2);" FIXTURE_OUTBOX,
};

int
schema_latest(void)
{
	return NSTEPS;
}

/* Read PRAGMA user_version (this reads the header: a first check). */
int
schema_read_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = sqlite3_prepare_v2(
	         db, "PRAGMA user_version", -1, &s, NULL)) != SQLITE_OK)
		return db_err(NULL, rc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = 0;
	} else
		rc = db_err(NULL, rc);
	sqlite3_finalize(s);
	if (rc == 0 && *version < 0)
		rc = NOID_ERR_CORRUPT;
	return rc;
}

/* Run one SQL script inside a transaction with the new version. */
static int
schema_step(sqlite3 *db, const char *sql, int version)
{
	char *set;
	int rc;

	xasprintf(&set, "PRAGMA user_version = %d", version);
	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, set, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	free(set);
	return db_err(NULL, rc);
}

/* Upgrade to target, one committed step per version. */
int
schema_migrate(sqlite3 *db, int target)
{
	int rc, v;

	if (target < 1 || target > NSTEPS)
		return NOID_ERR_INVAL;
	if ((rc = schema_read_version(db, &v)) != 0)
		return rc;
	if (v > NSTEPS)
		return NOID_ERR_VERSION;
	for (; v < target; v++)
		if ((rc = schema_step(db, steps[v], v + 1)) != 0)
			return rc;
	return 0;
}

/* Insert the sample data of a database at version (for tests). */
int
schema_fixture(sqlite3 *db, int version)
{
	char *sql;
	size_t i, pick = 0;
	int rc;

	for (i = 0; i < sizeof fixture_msgs / sizeof fixture_msgs[0]; i++)
		if (fixture_from[i] <= version)
			pick = i;
	xasprintf(&sql, fixture_common, version, version);
	rc = db_err(NULL, sqlite3_exec(db, sql, NULL, NULL, NULL));
	free(sql);
	if (rc != 0)
		return rc;
	return db_err(
	    NULL, sqlite3_exec(db, fixture_msgs[pick], NULL, NULL, NULL));
}

int
store_test_create_at(const char *dir, int version)
{
	sqlite3 *db = NULL;
	char *path;
	int rc;

	if (version < 1 || version > NSTEPS + 1)
		return NOID_ERR_INVAL;
	if (dir_make_private(dir) != 0)
		return NOID_ERR_IO;
	path = path_join(dir, "noid.db");
	rc = db_open_file(path, NULL, 1, &db);
	free(path);
	if (rc != 0)
		return rc;
	rc = db_err(NULL,
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL));
	if (rc == 0)
		rc = schema_migrate(db, version > NSTEPS ? NSTEPS : version);
	if (rc == 0)
		rc = schema_fixture(db, version);
	/* One past the latest: a database from a newer noid. */
	if (rc == 0 && version > NSTEPS)
		rc = schema_step(db, "CREATE TABLE future(x)", version);
	sqlite3_close(db);
	return rc;
}
