/*
 * noid — store: the client's encrypted database (DESIGN §6–7).
 *
 * One data directory holds one store: DIR/key (the wrapped data key),
 * DIR/noid.db (+ -wal; every page encrypted) and DIR/lock (an flock
 * plus the holder's pid), each mode 0600 in a 0700 DIR.  One process
 * per data dir: the database is opened with exclusive locking, so
 * SQLite keeps the WAL index in memory and never writes a -shm file.
 *
 * Everything the user sees is a projection of a per-profile op log.
 * Each mutation below appends a signed op (author device, per-device seq,
 * hybrid logical clock, type, target, body, Ed25519 signature) and
 * projects it in one transaction; ops from other devices go through
 * store_op_apply_remote().  Merge rules: messages a growing set, fields
 * last-writer-wins by (HLC, author, seq) — an op that supersedes another
 * is stamped past it, so the order is the same on every replica —,
 * tombstones win over edits, read markers only move forward, device
 * removal wins.
 * Agent state (ratchets, queue keys) is a per-connection opaque blob
 * that stays on this device; the store does not look inside it.
 *
 * The caller disables core dumps (process_no_core()) before store_open:
 * the data key and device signing keys are in this process's memory.
 *
 * All ids are STORE_ID_LEN random bytes.  Functions return 0 or a
 * negative enum noid_err.  Not thread-safe: one thread per store.
 */
#ifndef NOID_STORE_H
#define NOID_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_ID_LEN 16
#define STORE_HASH_LEN 32
#define STORE_PASSWORD_MAX 4096 /* longer passwords: NOID_ERR_TOOBIG */
#define STORE_TEXT_MAX (64 * 1024) /* message text, field values */
#define STORE_BLOB_MAX (1024 * 1024) /* agent state, connection info */

struct store;

/* store_open flags. */
#define STORE_CREATE 0x1 /* create DIR (0700), key and db if missing */
/*
 * Tests only: cheap Argon2 parameters, and a cheap key file is not
 * re-wrapped at the default cost on open (store/key.h).  The product
 * passes it only under the client's test switch NOID_TEST_FAST_KDF=1.
 */
#define STORE_FAST_KDF 0x2
#define STORE_PLAIN 0x4 /* tests/benchmarks only: no page encryption */

/*
 * Open (or with STORE_CREATE, create) the store in dir.  password NULL
 * means a store without password (weaker: relies on disk encryption);
 * "" is refused.  Errors: NOID_ERR_NOENT (no store, no STORE_CREATE),
 * NOID_ERR_LOCKED (another process: see store_lock_holder),
 * NOID_ERR_PASSWORD, NOID_ERR_TOOBIG (password over STORE_PASSWORD_MAX),
 * NOID_ERR_CORRUPT (not a noid database / tampered), NOID_ERR_VERSION
 * (written by a newer noid; nothing is changed).  *out: store_close.
 */
int store_open(
    const char *dir, const char *password, int flags, struct store **out);

/* Close and free; NULL is a no-op.  Rolls back an open transaction. */
void store_close(struct store *st);

/* The pid written in DIR/lock by the process holding it (0 if none). */
int store_lock_holder(const char *dir, long *pid);

/*
 * Re-wrap the data key under a new password (NULL: none) at the default
 * KDF cost; the database is untouched.  NOID_ERR_PASSWORD if old_pw is
 * wrong.
 */
int store_change_password(
    struct store *st, const char *old_pw, const char *new_pw);
/* The same; flags STORE_FAST_KDF (tests only): cheap Argon2 parameters. */
int store_change_password_flags(
    struct store *st, const char *old_pw, const char *new_pw, int flags);

/* Whether the store in dir has a password. */
int store_has_password(const char *dir, int *yes);

/*
 * Transactions.  Every call below is atomic on its own; wrap several in
 * store_tx_begin/commit to make them one commit (and much faster for
 * bulk work).  Nested begin/commit pairs are allowed.  A failing call
 * inside a transaction undoes only itself, unless SQLite dropped the
 * whole transaction (I/O error, disk full): then every level fails and
 * nothing more is written until the outermost one is closed.  A failed
 * commit has closed its level (do not roll it back too).
 * store_tx_depth: how many levels are open (0: outside any).
 */
int store_tx_begin(struct store *st);
int store_tx_commit(struct store *st);
void store_tx_rollback(struct store *st);
int store_tx_depth(const struct store *st);

/* PRAGMA integrity_check, FTS check and the op-log invariants. */
int store_check(struct store *st);

/*
 * After a NOID_ERR_CORRUPT: the damaged database page (*pgno; 0 when
 * the damage is in the WAL or a journal).  0 when nothing was seen.
 */
int store_corruption(struct store *st, uint32_t *pgno);

/* Schema version of the open store; the version this build writes. */
int store_schema_version(struct store *st);
int store_schema_latest(void);

/* ---- profiles and devices ---------------------------------------- */

struct store_profile {
	uint8_t id[STORE_ID_LEN];
	uint8_t device[STORE_ID_LEN]; /* this device's id in the profile */
	char *name;
	char *status;
};

/*
 * Create a profile with this device as its first (founding) device.
 * The profile id commits to the founder's key: a device that joins the
 * profile accepts no other device's genesis op.
 */
int store_profile_create(struct store *st, const char *name,
    const char *device_name, uint8_t id[STORE_ID_LEN]);

/*
 * Prepare to join a profile another device will add us to (linking):
 * makes this device's keys for it.  pk gets the Ed25519 public key the
 * linking device puts in its DEVICE_ADD op, device its id
 * (store_device_id(pk)).  profile must come from the linking device over
 * the confirmed link: it pins the founding device's key, and a genesis
 * op signed by any other key is refused (NOID_ERR_AUTH).
 */
int store_profile_join(struct store *st, const uint8_t profile[STORE_ID_LEN],
    uint8_t device[STORE_ID_LEN], uint8_t pk[32]);

/* All profiles this device has (caller: store_profiles_free). */
int store_profiles_list(
    struct store *st, struct store_profile **out, size_t *n);
void store_profiles_free(struct store_profile *p, size_t n);

/*
 * Forget a profile on this device: its history, contacts, connection
 * state and keys, in one commit (no op: other devices keep theirs).
 * Close its agent first.  NOID_ERR_NOENT when there is no such profile.
 */
int store_profile_delete(struct store *st, const uint8_t profile[STORE_ID_LEN]);

/* Set a profile field: "name" or "status".  value NULL clears it. */
int store_profile_set(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *field, const char *value);

struct store_device {
	uint8_t id[STORE_ID_LEN];
	uint8_t pk[32];
	char *name;
	int removed;
	uint64_t seq; /* ops held from it */
};

/*
 * The id a device's Ed25519 public key commits to.  A device id never
 * names another key, so a member cannot take over another device's id.
 */
void store_device_id(const uint8_t pk[32], uint8_t id[STORE_ID_LEN]);

/*
 * Add a device (its id and Ed25519 public key) to a profile, or rename
 * it (same key).  NOID_ERR_INVAL if device is not store_device_id(pk);
 * NOID_ERR_EXISTS if the device is there with another key: keys never
 * change.  Ops from other devices are held to the same rules.
 */
int store_device_add(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t device[STORE_ID_LEN], const uint8_t pk[32], const char *name);

/* Remove a device; its ops after what we hold now are refused. */
int store_device_remove(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t device[STORE_ID_LEN]);

/* The profile's device list (caller: store_devices_free). */
int store_devices_list(struct store *st, const uint8_t profile[STORE_ID_LEN],
    struct store_device **out, size_t *n);
void store_devices_free(struct store_device *d, size_t n);

/* Synced per-profile settings (last writer wins); value NULL clears. */
int store_setting_set(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *key, const char *value);
/* *value: caller frees; NOID_ERR_NOENT if unset. */
int store_setting_get(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *key, char **value);

/* ---- contacts and connections ------------------------------------ */

struct store_contact {
	uint8_t id[STORE_ID_LEN];
	char *alias;
	uint64_t unread;
};

int store_contact_add(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *alias, uint8_t id[STORE_ID_LEN]);
int store_contact_set_alias(struct store *st,
    const uint8_t profile[STORE_ID_LEN], const uint8_t contact[STORE_ID_LEN],
    const char *alias);
/* Tombstone: the contact and its conversation are gone for good. */
int store_contact_delete(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN]);
/* Live contacts by alias (caller: store_contacts_free). */
int store_contacts_list(struct store *st, const uint8_t profile[STORE_ID_LEN],
    struct store_contact **out, size_t *n);
void store_contacts_free(struct store_contact *c, size_t n);

/* How an invitation travelled (DESIGN §5), lowest to highest. */
enum store_trust {
	STORE_TRUST_TEXT = 1, /* link text copied over another channel */
	STORE_TRUST_QR = 2, /* shown as QR on a screen */
	STORE_TRUST_VERIFIED = 3 /* security code compared in person */
};

struct store_conn {
	uint8_t id[STORE_ID_LEN];
	uint8_t contact[STORE_ID_LEN];
	int trust;
	uint8_t *info; /* synced connection metadata (queue credentials) */
	size_t info_len;
	/* Local bookkeeping (this device only), for the agent. */
	uint64_t send_seq; /* last number given to a send */
	uint64_t recv_seq; /* last number received */
	uint8_t send_hash[STORE_HASH_LEN]; /* hash of our last sent message */
	uint8_t recv_hash[STORE_HASH_LEN]; /* hash of the last received */
};

/* A connection to a contact; info is opaque to the store (synced). */
int store_conn_add(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN], int trust, const uint8_t *info,
    size_t info_len, uint8_t id[STORE_ID_LEN]);
int store_conn_set_trust(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], int trust);
int store_conn_set_info(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const uint8_t *info, size_t info_len);
int store_conn_delete(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN]);
/* One connection (free with store_conn_clear). */
int store_conn_get(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], struct store_conn *out);
void store_conn_clear(struct store_conn *c);
/* Live connections of a contact (caller: store_conns_free). */
int store_conns_list(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN], struct store_conn **out, size_t *n);
void store_conns_free(struct store_conn *c, size_t n);

/* Agent state blob of a connection (*blob: caller frees; NOENT if none). */
int store_conn_state_get(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], uint8_t **blob, size_t *len);
/* Replace the agent state blob (local, never synced). */
int store_conn_state_put(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const uint8_t *blob, size_t len);

/* ---- messages ------------------------------------------------------ */

enum store_dir { STORE_DIR_IN = 1, STORE_DIR_OUT = 2 };

/* Outgoing message status: only moves forward. */
enum store_status {
	STORE_STATUS_NONE = 0, /* incoming messages */
	STORE_STATUS_QUEUED = 1,
	STORE_STATUS_SENT = 2,
	STORE_STATUS_DELIVERED = 3
};

struct store_msg {
	uint8_t id[STORE_ID_LEN];
	uint8_t conv[STORE_ID_LEN]; /* the contact id */
	uint8_t conn[STORE_ID_LEN];
	int dir;
	int status;
	int edited;
	int deleted; /* tombstone: text is empty */
	uint64_t ts_ms; /* sender's time (out: ours) */
	uint64_t seq; /* per-connection sequence number */
	uint8_t hash[STORE_HASH_LEN];
	char *text; /* NUL-terminated UTF-8 */
	size_t text_len;
};

/*
 * An incoming message, decrypted: recorded with the connection's new
 * agent state in ONE commit, so the agent acks the relay only after
 * this returns 0.  id is the sender's message id (duplicates: the state
 * is still saved, the message is not stored twice, *dup is set).
 * Updates the connection's recv_seq/recv_hash.  The message is stored
 * at ts_ms or 1 ms after the connection's last incoming one, whichever
 * is later, so a connection's messages list in the order received.
 */
struct store_incoming {
	uint8_t id[STORE_ID_LEN];
	uint64_t ts_ms; /* the sender's clock */
	uint64_t seq;
	uint8_t hash[STORE_HASH_LEN];
	const char *text;
	size_t text_len;
};
int store_msg_incoming(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const struct store_incoming *in,
    const uint8_t *state, size_t state_len, int *dup);

/*
 * Reserve a send: records the message (status queued) and gives it the
 * connection's next sequence number; *prev_hash is the hash of our
 * previous sent message (zeros at first).  One commit.
 */
int store_send_reserve(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const char *text, size_t len,
    uint8_t id[STORE_ID_LEN], uint64_t *seq, uint8_t prev_hash[STORE_HASH_LEN]);

/*
 * Record that a reserved message left: status sent, its hash (what the
 * delivery receipt will carry) and the new agent state, in one commit.
 */
int store_send_record(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t msg[STORE_ID_LEN], const uint8_t hash[STORE_HASH_LEN],
    const uint8_t *state, size_t state_len);

/* A delivery receipt: the message with this hash becomes delivered. */
int store_receipt(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], const uint8_t hash[STORE_HASH_LEN]);

/* Queued (reserved, not yet sent) messages, oldest first. */
int store_outbox_queued(struct store *st, const uint8_t profile[STORE_ID_LEN],
    struct store_msg **out, size_t *n);

/*
 * Add a message without agent bookkeeping (imports, notes to self,
 * bulk loads inside a transaction).  ts_ms 0: now.  An outgoing one is
 * history: no outbox entry, never sent (status NONE); messages to send
 * go through store_send_reserve.  Text holding a NUL byte is refused
 * (NOID_ERR_INVAL) here, in store_msg_edit and in ops from other
 * devices.
 */
int store_msg_add(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], int dir, uint64_t ts_ms, const char *text,
    size_t len, uint8_t id[STORE_ID_LEN]);
int store_msg_edit(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t msg[STORE_ID_LEN], const char *text, size_t len);
/* Tombstone: the text is wiped (secure_delete) and edits lose. */
int store_msg_delete(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t msg[STORE_ID_LEN]);
/* One message (free with store_msg_clear). */
int store_msg_get(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t msg[STORE_ID_LEN], struct store_msg *out);
void store_msg_clear(struct store_msg *m);

/*
 * Up to limit messages of a conversation, newest first, strictly older
 * than msg `before` (NULL: from the newest).  Page backwards by passing
 * the last id returned.  Caller: store_msgs_free.
 */
int store_msgs_page(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conv[STORE_ID_LEN], const uint8_t *before, size_t limit,
    struct store_msg **out, size_t *n);
void store_msgs_free(struct store_msg *m, size_t n);

/* Everything up to and including msg is read (only moves forward). */
int store_read_mark(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conv[STORE_ID_LEN], const uint8_t msg[STORE_ID_LEN]);
/*
 * Incoming messages after the read marker, counted up to
 * STORE_UNREAD_MAX + 1 (more shows as "999+"): counting 100,000 unread
 * rows on every model reload cost the first paint ~80 ms.
 */
#define STORE_UNREAD_MAX 999
int store_unread_count(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conv[STORE_ID_LEN], uint64_t *n);

/* A search result: where to jump. */
struct store_hit {
	uint8_t conv[STORE_ID_LEN];
	uint8_t msg[STORE_ID_LEN];
	uint64_t ts_ms;
};

/*
 * Full-text search (FTS5 syntax in query; plain words work), newest
 * first, in one conversation (conv) or all (conv NULL).  Caller frees
 * *out.
 */
int store_search(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t *conv, const char *query, size_t limit,
    struct store_hit **out, size_t *n);

/* ---- op log, for sync ---------------------------------------------- */

/* Op types (wire values: never renumber). */
enum store_op_type {
	STORE_OP_DEVICE_ADD = 1,
	STORE_OP_DEVICE_REMOVE = 2,
	STORE_OP_FIELD_SET = 3,
	STORE_OP_CONTACT_ADD = 4,
	STORE_OP_CONTACT_DELETE = 5,
	STORE_OP_CONN_ADD = 6,
	STORE_OP_CONN_DELETE = 7,
	STORE_OP_MSG_ADD = 8,
	STORE_OP_MSG_EDIT = 9,
	STORE_OP_MSG_DELETE = 10,
	STORE_OP_MSG_STATUS = 11,
	STORE_OP_READ_MARK = 12,
	STORE_OP_SETTING_SET = 13
};

/* A version vector: per author device, the ops held (1..seq). */
struct store_vv_entry {
	uint8_t device[STORE_ID_LEN];
	uint64_t seq;
};
struct store_vv {
	struct store_vv_entry *e;
	size_t n;
};

/* This store's version vector for a profile (store_vv_free). */
int store_version_vector(
    struct store *st, const uint8_t profile[STORE_ID_LEN], struct store_vv *vv);
void store_vv_free(struct store_vv *vv);

/*
 * Every op of the profile the peer (vv; NULL = nothing) lacks, in an
 * order the peer can apply, each as its signed wire encoding.  cb
 * returning non-zero stops and is returned.
 */
typedef int (*store_op_cb)(const uint8_t *op, size_t len, void *arg);
int store_ops_since(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const struct store_vv *vv, store_op_cb cb, void *arg);

/*
 * Apply one op from another device: verify, dedupe, project.
 * 0 applied; NOID_ERR_DUPLICATE already held; NOID_ERR_STATE not yet
 * applicable (unknown author or a gap: apply its predecessors first);
 * NOID_ERR_CRYPTO bad signature; NOID_ERR_BLOCKED author removed;
 * NOID_ERR_AUTH a genesis op by a key the profile id does not commit to;
 * NOID_ERR_EXISTS a DEVICE_ADD giving a known device another key;
 * NOID_ERR_INVAL malformed (a DEVICE_ADD whose id is not its key's).  The profile must exist here (created or
 * joined).
 */
int store_op_apply_remote(struct store *st, const uint8_t *op, size_t len);

/*
 * A digest of the profile's projection tables (canonical order, no
 * local-only columns): equal digests mean equal tables.
 */
int store_projection_digest(
    struct store *st, const uint8_t profile[STORE_ID_LEN], uint8_t out[32]);

/* ---- archive -------------------------------------------------------- */

/* Progress: done of total records; return non-zero to cancel. */
typedef int (*store_progress_cb)(uint64_t done, uint64_t total, void *arg);

/*
 * Export a whole profile (op log, this device's keys, connection
 * state) to path, encrypted under password (Argon2id → secretstream).
 * Moving a profile moves its ratchets: the old copy must not be used
 * to send or receive afterwards.
 */
int store_export(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const char *path, const char *password, int flags, store_progress_cb cb,
    void *arg);

/*
 * Import an archive into this store.  NOID_ERR_PASSWORD wrong password,
 * NOID_ERR_CORRUPT damaged/truncated, NOID_ERR_EXISTS profile already
 * here; on any error nothing is changed.  profile may be NULL.
 */
int store_import(struct store *st, const char *path, const char *password,
    store_progress_cb cb, void *arg, uint8_t profile[STORE_ID_LEN]);

/* ---- tests ------------------------------------------------------------ */

/*
 * Tests only: create a plain store in dir whose schema stops at version
 * (1 .. latest) with that version's sample data, so upgrades from every
 * old version can be tested; latest + 1 makes one "from a newer noid".  The sample profile has name "sample v<N>"
 * and one message "sample message".
 */
int store_test_create_at(const char *dir, int version);

#endif
