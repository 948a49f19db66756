/*
 * noid — store: a page-encrypting SQLite VFS (DESIGN §7).
 *
 * A shim over the system's default VFS.  Every byte SQLite writes to disk
 * is sealed with XChaCha20-Poly1305 (fresh random 24-byte nonce per write,
 * 16-byte tag); the associated data binds a format byte, the file kind and
 * the unit's index, so a unit moved to another place fails to open.
 *
 * Layout per file kind (what is protected):
 *
 *  - Main database: each page P is stored in place.  Bytes [0, P-40) are
 *    ciphertext (page 1 too, header included, so "SQLite format 3" never
 *    reaches the disk); the page's 40 reserved bytes hold nonce || tag.
 *    SQLite learns the page size from the decrypted header; the VFS finds
 *    it on open by trying each power of two for page 1.  SQLite sees zeros
 *    in the reserved bytes.  New databases get the reserve through
 *    SQLITE_FCNTL_RESERVE_BYTES (vfs_enc_open); a page 1 without it is
 *    refused, so the VFS can never overwrite b-tree bytes.
 *  - WAL: remapped, not in place, because SQLite's frame checksums cover
 *    the whole page including its reserved bytes.  On disk: the 32-byte
 *    WAL header sealed into 72 bytes, then each frame (24-byte frame
 *    header + page) sealed as one unit into 24+P+40 bytes.  Salts,
 *    checksums, page numbers and page content are all ciphertext; the
 *    file size reveals the frame count.  A frame that fails to open while
 *    SQLite scans the log (recovery) reads as zeros, which SQLite treats
 *    as the end of the log (as it does a torn write); the fault is still
 *    recorded.  Read for page content, it is an error.
 *  - Anything else (rollback, statement and super journals, temp and
 *    transient databases, sorter files): 4096-byte blocks, each sealed
 *    with a 4-byte length (the file's logical size lives in the last
 *    block) into 4140 bytes; partial writes read-modify-write a block.
 *  - The -shm wal-index passes through unencrypted: it holds no page
 *    content, but does hold page numbers, salts and SQLite's 64-bit
 *    running checksum of the latest frame (computed over plaintext).
 *    Open with VFS_ENC_EXCLUSIVE (the store always does: one process
 *    owns a data dir) and SQLite keeps the wal-index in heap memory:
 *    no -shm file exists at all.
 *
 * Detected: a changed byte, a unit moved to another index or file kind, a
 * page cut short, the wrong key.  Reads fail with SQLITE_IOERR_DATA and the
 * fault (kind and page/frame/block number) is kept for vfs_enc_last_error.
 * Not detected: replacing a unit with an older version of the same unit
 * (rollback of one page, or of the whole file), units copied between two
 * files encrypted with the same key, and an all-zero page or block, which
 * reads as zeros because SQLite itself leaves holes (size hints, sparse
 * growth); SQLite's b-tree checks catch most zeroed pages, not all.
 * Rollback journals read-modify-write their last block, so a power cut
 * during a journal write can damage an already synced record; noid runs
 * the database in WAL mode, where no rollback journal is written.
 *
 * One thread: the VFS keeps per-VFS fault state without locks.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_VFS_H
#define NOID_VFS_H

#include <stdint.h>

#include <sqlite3.h>

/* Bytes of each database page the VFS uses: 24-byte nonce, 16-byte tag. */
#define VFS_ENC_RESERVE 40

/* Length of the data key. */
#define VFS_ENC_KEY_LEN 32

/* The file kinds a fault can name. */
enum vfs_enc_kind {
	VFS_ENC_DB = 1, /* main database page (index = page number) */
	VFS_ENC_WAL_HDR = 2, /* WAL header (index 0) */
	VFS_ENC_WAL = 3, /* WAL frame (index = frame number from 0) */
	VFS_ENC_OTHER = 4 /* journal or temp file block (index = block) */
};

/* The last integrity failure a VFS saw. */
struct vfs_enc_fault {
	int err; /* 0, NOID_ERR_CORRUPT, or NOID_ERR_CRYPTO (page 1) */
	int kind; /* enum vfs_enc_kind */
	uint64_t index; /* page, frame or block number */
};

/*
 * Register an encrypting VFS called name, wrapping the default VFS, with
 * a 32-byte data key (copied into secret memory).  NOID_ERR_EXISTS if a
 * VFS of that name is already registered.
 */
int vfs_enc_register(const char *name, const uint8_t key[32]);

/*
 * Unregister and wipe the key.  NOID_ERR_STATE while files opened through
 * it are still open; NOID_ERR_NOENT if there is no such encrypting VFS.
 */
int vfs_enc_unregister(const char *name);

/* vfs_enc_open flags. */
#define VFS_ENC_CREATE 0x1 /* create the database if missing */
#define VFS_ENC_EXCLUSIVE 0x2 /* locking_mode=EXCLUSIVE: no -shm file */

/*
 * Open (with VFS_ENC_CREATE, creating if missing) a database through the
 * named VFS and make sure new databases get the reserved bytes; reads
 * page 1 so that a wrong key fails here (NOID_ERR_CRYPTO).  With
 * VFS_ENC_EXCLUSIVE the connection holds the file's lock until closed
 * and a WAL keeps its index in heap memory (no -shm file).  Returns 0 or
 * enum noid_err; *out is an open sqlite3 handle the caller closes with
 * sqlite3_close_v2.  The caller sets journal_mode, synchronous,
 * secure_delete and temp_store.
 */
int vfs_enc_open(
    const char *path, const char *vfs_name, int flags, sqlite3 **out);

/*
 * The last detected corruption: returns 0 if none (since registration or
 * vfs_enc_clear_error), else NOID_ERR_CORRUPT, NOID_ERR_CRYPTO (page 1
 * does not open: wrong key or damaged header) or NOID_ERR_STATE (a page 1
 * without the reserve was refused: opened without vfs_enc_open).  *pgno is the database page
 * number, or 0 if the fault was in the WAL or a journal (see
 * vfs_enc_last_fault).  NOID_ERR_NOENT for an unknown VFS.
 */
int vfs_enc_last_error(const char *vfs_name, uint32_t *pgno);

/* The whole last fault (zeroed if none); 0 or NOID_ERR_NOENT. */
int vfs_enc_last_fault(const char *vfs_name, struct vfs_enc_fault *out);

/* Forget the last fault. */
void vfs_enc_clear_error(const char *vfs_name);

/*
 * Internal to store/vfs-*.c below this line.
 */

/* A registered encrypting VFS; base must come first. */
struct vfs_enc {
	sqlite3_vfs base;
	sqlite3_vfs *orig;
	uint8_t *key; /* secret_alloc'd, VFS_ENC_KEY_LEN */
	char *name;
	int nopen;
	struct vfs_enc_fault fault;
};

/* How a file's bytes are laid out (see the top of this file). */
enum vfs_layout { VFS_LAYOUT_DB, VFS_LAYOUT_WAL, VFS_LAYOUT_BLOCK };

/* One open file; base must come first, the wrapped file follows. */
struct vfs_file {
	sqlite3_file base;
	struct vfs_enc *vfs;
	sqlite3_file *real;
	enum vfs_layout layout;
	uint32_t pgsz; /* db and WAL: page size, 0 until known */
	int64_t size; /* block layout: logical size, -1 until known */
	int pending; /* WAL: a frame header waits for its page */
	uint64_t pending_frame;
	uint8_t pending_hdr[24];
	uint8_t *buf; /* scratch for one sealed unit (plaintext: wiped) */
	size_t bufsz;
};

/* Record a fault on the VFS. */
void vfs_fault(struct vfs_enc *v, int err, int kind, uint64_t index);

/* The file-kind specific I/O behind the sqlite3_io_methods (vfs-io.c). */
int vfs_io_read(struct vfs_file *f, void *out, int amt, sqlite3_int64 off);
int vfs_io_write(
    struct vfs_file *f, const void *in, int amt, sqlite3_int64 off);
int vfs_io_truncate(struct vfs_file *f, sqlite3_int64 size);
int vfs_io_size(struct vfs_file *f, sqlite3_int64 *size);
/* Write out a WAL frame header still waiting for its page. */
int vfs_io_flush(struct vfs_file *f);

#endif
