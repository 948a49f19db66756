/*
 * noid — store internals shared by store/db-*.c and store/op-*.c.
 *
 * Not for other folders: the agent and the TUI use store.h.  All SQL
 * lives in store/; prepared statements are cached per store keyed by
 * the address of their (static) SQL text.
 */
#ifndef NOID_STORE_INT_H
#define NOID_STORE_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "store.h"

#define STORE_STMT_CACHE 96
#define OP_SIG_LEN 64
#define OP_HEAD_LEN (1 + 16 + 16 + 8 + 8 + 2 + 16 + 16 + 8 + 4)
#define OP_BODY_MAX (STORE_BLOB_MAX + 1024)

struct stmt_slot {
	const char *sql;
	sqlite3_stmt *stmt;
};

/* This device's key for one profile, cached in secret memory. */
struct dev_key {
	uint8_t profile[STORE_ID_LEN];
	uint8_t device[STORE_ID_LEN];
	uint8_t *sk; /* secret_alloc, 64 bytes */
};

struct store {
	sqlite3 *db;
	char *dir;
	int lockfd;
	int flags;
	int txdepth;
	int tx_lost; /* SQLite rolled the transaction back by itself */
	int version;
	char *vfs_name; /* NULL when plain */
	uint64_t hlc; /* hybrid logical clock: ms << 16 | counter */
	struct dev_key key;
	struct stmt_slot cache[STORE_STMT_CACHE];
	size_t ncache;
};

/* An op; body is borrowed from whoever decoded or built it. */
struct op {
	uint8_t profile[STORE_ID_LEN];
	uint8_t author[STORE_ID_LEN];
	uint64_t seq;
	uint64_t hlc;
	uint16_t type;
	uint8_t target[STORE_ID_LEN];
	uint8_t sup_author[STORE_ID_LEN]; /* zeros when sup_seq == 0 */
	uint64_t sup_seq;
	const uint8_t *body;
	size_t body_len;
	uint8_t sig[OP_SIG_LEN];
};

/* Register kinds: what a FIELD_SET / SETTING_SET / edit targets. */
enum reg_kind {
	REG_PROFILE = 1,
	REG_CONTACT = 2,
	REG_CONN = 3,
	REG_MSG = 4,
	REG_SETTING = 5,
	REG_STATUS = 6, /* outgoing message status (max) */
	REG_READ = 7 /* read marker (max) */
};

/* db-open.c */
sqlite3_stmt *db_prep(struct store *st, const char *sql);
int db_err(struct store *st, int rc);
int db_exec(struct store *st, const char *sql);
int db_step_done(struct store *st, sqlite3_stmt *s);
int db_begin(struct store *st);
int db_commit(struct store *st);
void db_rollback(struct store *st);
/* Finish a call: commit on rc == 0, else roll back; returns rc. */
int db_end(struct store *st, int rc);
void db_bind_id(sqlite3_stmt *s, int i, const uint8_t *id);
void db_bind_blob(sqlite3_stmt *s, int i, const void *p, size_t len);
void db_bind_text(sqlite3_stmt *s, int i, const char *p, size_t len);
void db_col_id(sqlite3_stmt *s, int i, uint8_t out[STORE_ID_LEN]);
char *db_col_strdup(sqlite3_stmt *s, int i);
uint8_t *db_col_blobdup(sqlite3_stmt *s, int i, size_t *len);
int db_open_file(
    const char *path, const char *vfs_name, int create, sqlite3 **out);

/* db-schema.c */
int schema_read_version(sqlite3 *db, int *version);
int schema_migrate(sqlite3 *db, int target);
int schema_latest(void);
int schema_fixture(sqlite3 *db, int version);

/* op-log.c */
void op_encode(const struct op *op, struct buf *b, int with_sig);
int op_decode(const uint8_t *p, size_t len, struct op *op);
int op_local(struct store *st, const uint8_t profile[STORE_ID_LEN],
    uint16_t type, const uint8_t target[STORE_ID_LEN], const uint8_t *body,
    size_t body_len, int sup_kind, const char *sup_field);
int op_insert(struct store *st, const struct op *op);
int op_key_load(struct store *st, const uint8_t profile[STORE_ID_LEN]);
uint64_t hlc_tick(struct store *st);
void hlc_observe(struct store *st, uint64_t remote);
int hlc_save(struct store *st);
void id_random(uint8_t id[STORE_ID_LEN]);

/* op-project.c */
int project_op(struct store *st, const struct op *op);
int project_rebuild(struct store *st, const uint8_t profile[STORE_ID_LEN]);
void reg_body(struct buf *b, int kind, const char *field, const void *val,
    size_t len, int null);
void msg_body(struct buf *b, const uint8_t conv[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], int dir, uint64_t ts, uint64_t seq,
    const uint8_t *hash, const char *text, size_t len);
int text_has_nul(const void *text, size_t len);

/* db-agent.c */
int conn_contact(struct store *st, const uint8_t profile[STORE_ID_LEN],
    const uint8_t conn[STORE_ID_LEN], uint8_t contact[STORE_ID_LEN]);

#endif
