/*
 * noid — store: the encrypting VFS's reads and writes, per file layout.
 *
 * Everything on disk is a sequence of sealed units: plaintext || nonce ||
 * tag (see vfs.h for the three layouts).  A unit is read whole, checked
 * and opened in the file's scratch buffer, and the requested slice copied
 * out; a write covering a whole unit seals it directly, a partial write
 * reads, opens, patches and reseals.  SQLite writes a WAL frame as two
 * calls (24-byte header, then the page), so the header is held back until
 * its page arrives and the frame is sealed once.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base.h"
#include "vfs.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AD_LEN 10
#define FORMAT 1

#define WAL_HDR 32
#define WAL_HDR_PHYS (WAL_HDR + VFS_ENC_RESERVE)
#define WAL_FHDR 24

#define BLK 4096
#define BLK_PLAIN (4 + BLK)
#define BLK_PHYS (BLK_PLAIN + VFS_ENC_RESERVE)

#define PGSZ_MIN 512
#define PGSZ_MAX 65536
#define PGSZ_USUAL 4096 /* SQLite's default page size */

/* What reading one unit found. */
enum unit_state {
	UNIT_OK, /* opened: plaintext in the buffer */
	UNIT_ABSENT, /* wholly past the end of the file */
	UNIT_ZERO, /* all zero on disk (a hole): reads as zeros */
	UNIT_BAD /* cut short, tampered, moved or wrong key */
};

_Static_assert(NONCE_LEN + TAG_LEN == VFS_ENC_RESERVE, "reserve");

/* Build the associated data: format, file kind, unit index. */
static void
io_ad(uint8_t ad[AD_LEN], int kind, uint64_t index)
{
	ad[0] = FORMAT;
	ad[1] = (uint8_t)kind;
	be64_put(ad + 2, index);
}

/*
 * Whether n (> 0) bytes are all zero.  Not constant-time on purpose: it
 * looks at ciphertext, which exits at the first byte.
 */
static int
io_is_zero(const uint8_t *p, size_t n)
{
	return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

/* Seal len bytes at p in place; nonce and tag go to the 40 bytes after. */
static void
io_seal(struct vfs_file *f, int kind, uint64_t index, uint8_t *p, size_t len)
{
	uint8_t ad[AD_LEN];
	uint8_t *nonce = p + len;

	io_ad(ad, kind, index);
	randombytes_buf(nonce, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt_detached(p,
	    nonce + NONCE_LEN, NULL, p, len, ad, sizeof ad, NULL, nonce,
	    f->vfs->key);
}

/* Open len bytes at p in place (nonce and tag after); 0 or -1. */
static int
io_unseal(struct vfs_file *f, int kind, uint64_t index, uint8_t *p, size_t len)
{
	uint8_t ad[AD_LEN];
	const uint8_t *nonce = p + len;

	io_ad(ad, kind, index);
	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(p, NULL, p,
	    len, nonce + NONCE_LEN, ad, sizeof ad, nonce, f->vfs->key);
}

/*
 * Read the unit of plain length len at physical offset phys into f->buf
 * and open it; *state says what was found.  Returns an SQLite code for
 * I/O failures only.
 */
static int
io_unit_get(struct vfs_file *f, int kind, uint64_t index, sqlite3_int64 phys,
    size_t len, enum unit_state *state)
{
	sqlite3_int64 fsize;
	size_t plen = len + VFS_ENC_RESERVE;
	int rc;

	rc = f->real->pMethods->xRead(f->real, f->buf, (int)plen, phys);
	if (rc == SQLITE_IOERR_SHORT_READ) {
		rc = f->real->pMethods->xFileSize(f->real, &fsize);
		if (rc != SQLITE_OK)
			return rc;
		*state = fsize <= phys ? UNIT_ABSENT : UNIT_BAD;
		if (*state == UNIT_ABSENT)
			memset(f->buf, 0, plen);
		return SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		return rc;
	if (io_is_zero(f->buf, plen)) {
		*state = UNIT_ZERO;
		return SQLITE_OK;
	}
	*state =
	    io_unseal(f, kind, index, f->buf, len) == 0 ? UNIT_OK : UNIT_BAD;
	return SQLITE_OK;
}

/* Seal f->buf (plain length len) and write it at phys. */
static int
io_unit_put(struct vfs_file *f, int kind, uint64_t index, sqlite3_int64 phys,
    size_t len)
{
	io_seal(f, kind, index, f->buf, len);
	return f->real->pMethods->xWrite(
	    f->real, f->buf, (int)(len + VFS_ENC_RESERVE), phys);
}

/* Whether v is a page size SQLite can use. */
static int
io_pgsz_ok(uint32_t v)
{
	return v >= PGSZ_MIN && v <= PGSZ_MAX && (v & (v - 1)) == 0;
}

/* Whether page 1 opens as a page of p bytes whose header agrees. */
static int
io_db_try(struct vfs_file *f, const uint8_t *raw, uint32_t p)
{
	uint32_t hdr;

	memcpy(f->buf, raw, p);
	if (io_unseal(f, VFS_ENC_DB, 1, f->buf, p - VFS_ENC_RESERVE) != 0)
		return 0;
	hdr = ((uint32_t)f->buf[16] << 8) | f->buf[17];
	return hdr == (p == PGSZ_MAX ? 1 : p);
}

/*
 * Learn a database's page size: the one power of two at which page 1
 * opens (and whose header agrees).  SQLite's default size is tried
 * first, from a read of just that much, so a usual open costs one
 * decryption; the others only if it fails.  Leaves pgsz 0 for an empty
 * or all-zero file; records a fault on page 1 if nothing opens.
 */
static int
io_db_probe(struct vfs_file *f)
{
	sqlite3_int64 fsize;
	uint8_t *raw = NULL;
	uint32_t p;
	size_t have;
	int rc;

	rc = f->real->pMethods->xFileSize(f->real, &fsize);
	if (rc != SQLITE_OK || fsize == 0)
		return rc;
	have = fsize < PGSZ_MAX ? (size_t)fsize : PGSZ_MAX;
	raw = xmalloc(have);
	if (have >= PGSZ_USUAL) {
		rc = f->real->pMethods->xRead(f->real, raw, PGSZ_USUAL, 0);
		if (rc != SQLITE_OK)
			goto out;
		if (io_db_try(f, raw, PGSZ_USUAL)) {
			f->pgsz = PGSZ_USUAL;
			goto out;
		}
	}
	rc = f->real->pMethods->xRead(f->real, raw, (int)have, 0);
	if (rc != SQLITE_OK)
		goto out;
	if (io_is_zero(raw, have))
		goto out;
	for (p = PGSZ_MIN; p <= have; p *= 2) {
		if (p != PGSZ_USUAL && io_db_try(f, raw, p)) {
			f->pgsz = p;
			goto out;
		}
	}
	vfs_fault(f->vfs, NOID_ERR_CRYPTO, VFS_ENC_DB, 1);
	rc = SQLITE_IOERR_DATA;
out:
	free(raw);
	return rc;
}

/* Read from the main database: page by page, reserve shown as zeros. */
static int
io_db_read(struct vfs_file *f, uint8_t *out, int amt, sqlite3_int64 off)
{
	enum unit_state st;
	int rc, shortread = 0;
	uint64_t pgno;
	size_t in, n;

	if (f->pgsz == 0) {
		if ((rc = io_db_probe(f)) != SQLITE_OK)
			return rc;
		if (f->pgsz == 0) {
			/* Empty or all zeros: SQLite sees no database. */
			rc = f->real->pMethods->xRead(f->real, out, amt, off);
			return rc;
		}
	}
	while (amt > 0) {
		pgno = (uint64_t)off / f->pgsz + 1;
		in = (uint64_t)off % f->pgsz;
		n = f->pgsz - in < (size_t)amt ? f->pgsz - in : (size_t)amt;
		rc = io_unit_get(f, VFS_ENC_DB, pgno,
		    (sqlite3_int64)(pgno - 1) * f->pgsz,
		    f->pgsz - VFS_ENC_RESERVE, &st);
		if (rc != SQLITE_OK)
			return rc;
		if (st == UNIT_BAD) {
			vfs_fault(f->vfs,
			    pgno == 1 ? NOID_ERR_CRYPTO : NOID_ERR_CORRUPT,
			    VFS_ENC_DB, pgno);
			return SQLITE_IOERR_DATA;
		}
		if (st == UNIT_ABSENT)
			shortread = 1;
		memset(f->buf + f->pgsz - VFS_ENC_RESERVE, 0, VFS_ENC_RESERVE);
		if (st != UNIT_OK)
			memset(f->buf, 0, f->pgsz);
		memcpy(out, f->buf + in, n);
		out += n;
		off += n;
		amt -= (int)n;
	}
	return shortread ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

/* Write whole pages of the main database; page 1 must carry the reserve. */
static int
io_db_write(struct vfs_file *f, const uint8_t *in, int amt, sqlite3_int64 off)
{
	int rc;

	if (off == 0) {
		if (!io_pgsz_ok((uint32_t)amt) || in[20] != VFS_ENC_RESERVE) {
			vfs_fault(f->vfs, NOID_ERR_STATE, VFS_ENC_DB, 1);
			return SQLITE_IOERR_WRITE;
		}
		f->pgsz = (uint32_t)amt;
	} else if (f->pgsz == 0 && (rc = io_db_probe(f)) != SQLITE_OK)
		return rc;
	if (f->pgsz == 0 || (uint32_t)amt != f->pgsz || off % f->pgsz != 0)
		return SQLITE_IOERR_WRITE;
	memcpy(f->buf, in, f->pgsz - VFS_ENC_RESERVE);
	return io_unit_put(f, VFS_ENC_DB, (uint64_t)off / f->pgsz + 1, off,
	    f->pgsz - VFS_ENC_RESERVE);
}

/* Plain and physical sizes of a WAL frame. */
static size_t
io_wal_frame(const struct vfs_file *f)
{
	return WAL_FHDR + f->pgsz;
}

static sqlite3_int64
io_wal_phys(const struct vfs_file *f, uint64_t frame)
{
	return WAL_HDR_PHYS +
	    (sqlite3_int64)frame *
	    (sqlite3_int64)(io_wal_frame(f) + VFS_ENC_RESERVE);
}

/* Take the page size from an opened WAL header in f->buf. */
static void
io_wal_learn(struct vfs_file *f)
{
	uint32_t v = be32_get(f->buf + 8);

	if (io_pgsz_ok(v))
		f->pgsz = v;
}

/* Learn the WAL's page size from its header on disk if not yet known. */
static int
io_wal_pgsz(struct vfs_file *f)
{
	enum unit_state st;
	int rc;

	if (f->pgsz != 0)
		return SQLITE_OK;
	rc = io_unit_get(f, VFS_ENC_WAL_HDR, 0, 0, WAL_HDR, &st);
	if (rc == SQLITE_OK && st == UNIT_OK)
		io_wal_learn(f);
	return rc;
}

/*
 * Patch n bytes at offset in of one WAL unit (header when hdr, else the
 * frame) and reseal it.  A unit that is missing or all zero starts as
 * zeros; one that does not open is an error, never patched.
 */
static int
io_wal_patch(struct vfs_file *f, int hdr, uint64_t frame, size_t in,
    const uint8_t *src, size_t n)
{
	int kind = hdr ? VFS_ENC_WAL_HDR : VFS_ENC_WAL;
	size_t len = hdr ? WAL_HDR : io_wal_frame(f);
	sqlite3_int64 phys = hdr ? 0 : io_wal_phys(f, frame);
	enum unit_state st = UNIT_ABSENT;
	int rc;

	if (in != 0 || n != len) {
		rc = io_unit_get(f, kind, frame, phys, len, &st);
		if (rc != SQLITE_OK)
			return rc;
		if (st == UNIT_BAD) {
			vfs_fault(f->vfs, NOID_ERR_CORRUPT, kind, frame);
			return SQLITE_IOERR_DATA;
		}
		if (st != UNIT_OK)
			memset(f->buf, 0, len);
	}
	memcpy(f->buf + in, src, n);
	if (hdr)
		io_wal_learn(f);
	return io_unit_put(f, kind, frame, phys, len);
}

int
vfs_io_flush(struct vfs_file *f)
{
	if (f->layout != VFS_LAYOUT_WAL || !f->pending)
		return SQLITE_OK;
	f->pending = 0;
	return io_wal_patch(
	    f, 0, f->pending_frame, 0, f->pending_hdr, WAL_FHDR);
}

/*
 * Read from the WAL.  A unit that does not open reads as zeros when the
 * read starts at the unit (SQLite scanning the log: zeros end the log)
 * and is an error when SQLite wants the page inside a frame it trusts.
 */
static int
io_wal_read(struct vfs_file *f, uint8_t *out, int amt, sqlite3_int64 off)
{
	enum unit_state st;
	int rc, hdr, kind, shortread = 0;
	uint64_t frame;
	size_t in, n, len;

	if ((rc = vfs_io_flush(f)) != SQLITE_OK)
		return rc;
	while (amt > 0) {
		hdr = off < WAL_HDR;
		if (!hdr && (rc = io_wal_pgsz(f)) != SQLITE_OK)
			return rc;
		if (!hdr && f->pgsz == 0) {
			/* No readable header: there are no frames either. */
			memset(out, 0, (size_t)amt);
			return SQLITE_IOERR_SHORT_READ;
		}
		kind = hdr ? VFS_ENC_WAL_HDR : VFS_ENC_WAL;
		len = hdr ? WAL_HDR : io_wal_frame(f);
		frame = hdr ? 0 : (uint64_t)(off - WAL_HDR) / len;
		in = hdr ? (size_t)off : (uint64_t)(off - WAL_HDR) % len;
		n = len - in < (size_t)amt ? len - in : (size_t)amt;
		rc = io_unit_get(
		    f, kind, frame, hdr ? 0 : io_wal_phys(f, frame), len, &st);
		if (rc != SQLITE_OK)
			return rc;
		if (st == UNIT_BAD) {
			vfs_fault(f->vfs, NOID_ERR_CORRUPT, kind, frame);
			if (in != 0)
				return SQLITE_IOERR_DATA;
		}
		if (st == UNIT_ABSENT)
			shortread = 1;
		if (st == UNIT_OK && hdr)
			io_wal_learn(f);
		if (st != UNIT_OK)
			memset(f->buf, 0, len);
		memcpy(out, f->buf + in, n);
		out += n;
		off += n;
		amt -= (int)n;
	}
	return shortread ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

/* Write to the WAL, holding a frame header back until its page comes. */
static int
io_wal_write(struct vfs_file *f, const uint8_t *src, int amt, sqlite3_int64 off)
{
	uint64_t frame;
	size_t in, n, len;
	int rc, hdr;

	if (off >= WAL_HDR && f->pgsz != 0) {
		len = io_wal_frame(f);
		frame = (uint64_t)(off - WAL_HDR) / len;
		in = (uint64_t)(off - WAL_HDR) % len;
		if (in == 0 && amt == WAL_FHDR) {
			if ((rc = vfs_io_flush(f)) != SQLITE_OK)
				return rc;
			memcpy(f->pending_hdr, src, WAL_FHDR);
			f->pending_frame = frame;
			f->pending = 1;
			return SQLITE_OK;
		}
		if (in == WAL_FHDR && (size_t)amt == f->pgsz && f->pending &&
		    f->pending_frame == frame) {
			f->pending = 0;
			memcpy(f->buf, f->pending_hdr, WAL_FHDR);
			memcpy(f->buf + WAL_FHDR, src, f->pgsz);
			return io_unit_put(
			    f, VFS_ENC_WAL, frame, io_wal_phys(f, frame), len);
		}
	}
	if ((rc = vfs_io_flush(f)) != SQLITE_OK)
		return rc;
	while (amt > 0) {
		hdr = off < WAL_HDR;
		if (!hdr && (rc = io_wal_pgsz(f)) != SQLITE_OK)
			return rc;
		if (!hdr && f->pgsz == 0)
			return SQLITE_IOERR_WRITE;
		len = hdr ? WAL_HDR : io_wal_frame(f);
		frame = hdr ? 0 : (uint64_t)(off - WAL_HDR) / len;
		in = hdr ? (size_t)off : (uint64_t)(off - WAL_HDR) % len;
		n = len - in < (size_t)amt ? len - in : (size_t)amt;
		if ((rc = io_wal_patch(f, hdr, frame, in, src, n)) != SQLITE_OK)
			return rc;
		src += n;
		off += n;
		amt -= (int)n;
	}
	return SQLITE_OK;
}

/* Logical WAL size: the header plus whole frames only. */
static int
io_wal_size(struct vfs_file *f, sqlite3_int64 *size)
{
	sqlite3_int64 phys;
	int rc;

	if ((rc = vfs_io_flush(f)) != SQLITE_OK)
		return rc;
	if ((rc = f->real->pMethods->xFileSize(f->real, &phys)) != SQLITE_OK)
		return rc;
	*size = 0;
	if (phys < WAL_HDR_PHYS)
		return SQLITE_OK;
	*size = WAL_HDR;
	if ((rc = io_wal_pgsz(f)) != SQLITE_OK || f->pgsz == 0)
		return rc;
	*size += (phys - WAL_HDR_PHYS) /
	    (sqlite3_int64)(io_wal_frame(f) + VFS_ENC_RESERVE) *
	    (sqlite3_int64)io_wal_frame(f);
	return SQLITE_OK;
}

/* Cut the WAL to a logical size, keeping whole units only. */
static int
io_wal_truncate(struct vfs_file *f, sqlite3_int64 size)
{
	sqlite3_int64 phys = 0;
	int rc;

	if ((rc = vfs_io_flush(f)) != SQLITE_OK)
		return rc;
	if (size >= WAL_HDR) {
		phys = WAL_HDR_PHYS;
		if ((rc = io_wal_pgsz(f)) != SQLITE_OK)
			return rc;
		if (f->pgsz != 0)
			phys = io_wal_phys(
			    f, (uint64_t)(size - WAL_HDR) / io_wal_frame(f));
	}
	return f->real->pMethods->xTruncate(f->real, phys);
}

/* Learn a block file's logical size from its last block. */
static int
io_blk_size(struct vfs_file *f, sqlite3_int64 *size)
{
	enum unit_state st;
	sqlite3_int64 phys;
	uint64_t n;
	uint32_t len;
	int rc;

	if (f->size >= 0) {
		*size = f->size;
		return SQLITE_OK;
	}
	if ((rc = f->real->pMethods->xFileSize(f->real, &phys)) != SQLITE_OK)
		return rc;
	n = (uint64_t)phys / BLK_PHYS;
	f->size = 0;
	if (n > 0) {
		rc = io_unit_get(f, VFS_ENC_OTHER, n - 1,
		    (sqlite3_int64)(n - 1) * BLK_PHYS, BLK_PLAIN, &st);
		if (rc != SQLITE_OK)
			return rc;
		len = st == UNIT_OK ? be32_get(f->buf) : 0;
		if (st == UNIT_BAD || len > BLK) {
			/* A torn last block: the file ends before it. */
			vfs_fault(
			    f->vfs, NOID_ERR_CORRUPT, VFS_ENC_OTHER, n - 1);
			len = 0;
		}
		f->size = (sqlite3_int64)(n - 1) * BLK + len;
	}
	*size = f->size;
	return SQLITE_OK;
}

/* Read a block file; past the logical end reads as zeros (short). */
static int
io_blk_read(struct vfs_file *f, uint8_t *out, int amt, sqlite3_int64 off)
{
	enum unit_state st;
	sqlite3_int64 size;
	uint64_t b;
	size_t in, n;
	int rc;

	if ((rc = io_blk_size(f, &size)) != SQLITE_OK)
		return rc;
	while (amt > 0) {
		if (off >= size) {
			memset(out, 0, (size_t)amt);
			return SQLITE_IOERR_SHORT_READ;
		}
		b = (uint64_t)off / BLK;
		in = (uint64_t)off % BLK;
		n = BLK - in < (size_t)amt ? BLK - in : (size_t)amt;
		if ((sqlite3_int64)n > size - off)
			n = (size_t)(size - off);
		rc = io_unit_get(f, VFS_ENC_OTHER, b,
		    (sqlite3_int64)b * BLK_PHYS, BLK_PLAIN, &st);
		if (rc != SQLITE_OK)
			return rc;
		if (st == UNIT_BAD) {
			vfs_fault(f->vfs, NOID_ERR_CORRUPT, VFS_ENC_OTHER, b);
			return SQLITE_IOERR_DATA;
		}
		if (st != UNIT_OK)
			memset(f->buf, 0, BLK_PLAIN);
		memcpy(out, f->buf + 4 + in, n);
		out += n;
		off += n;
		amt -= (int)n;
	}
	return SQLITE_OK;
}

/*
 * Patch n bytes at in of block b (n may be 0) and set its length field
 * for a file of logical size `size`; bytes past the length are zeroed so
 * that growing the file later exposes zeros.
 */
static int
io_blk_patch(struct vfs_file *f, uint64_t b, size_t in, const uint8_t *src,
    size_t n, sqlite3_int64 size)
{
	sqlite3_int64 phys = (sqlite3_int64)b * BLK_PHYS;
	sqlite3_int64 end = size - (sqlite3_int64)b * BLK;
	enum unit_state st = UNIT_ABSENT;
	uint32_t len = end > BLK ? BLK : (uint32_t)end;
	int rc;

	if (in != 0 || n != BLK) {
		rc = io_unit_get(f, VFS_ENC_OTHER, b, phys, BLK_PLAIN, &st);
		if (rc != SQLITE_OK)
			return rc;
		if (st == UNIT_BAD) {
			vfs_fault(f->vfs, NOID_ERR_CORRUPT, VFS_ENC_OTHER, b);
			return SQLITE_IOERR_DATA;
		}
		if (st != UNIT_OK)
			memset(f->buf, 0, BLK_PLAIN);
	}
	if (n > 0)
		memcpy(f->buf + 4 + in, src, n);
	memset(f->buf + 4 + len, 0, BLK - len);
	be32_put(f->buf, len);
	return io_unit_put(f, VFS_ENC_OTHER, b, phys, BLK_PLAIN);
}

/* Write a block file. */
static int
io_blk_write(struct vfs_file *f, const uint8_t *src, int amt, sqlite3_int64 off)
{
	sqlite3_int64 size, newsize;
	uint64_t b;
	size_t in, n;
	int rc;

	if ((rc = io_blk_size(f, &size)) != SQLITE_OK)
		return rc;
	newsize = off + amt > size ? off + amt : size;
	while (amt > 0) {
		b = (uint64_t)off / BLK;
		in = (uint64_t)off % BLK;
		n = BLK - in < (size_t)amt ? BLK - in : (size_t)amt;
		if ((rc = io_blk_patch(f, b, in, src, n, newsize)) != SQLITE_OK)
			return rc;
		src += n;
		off += n;
		amt -= (int)n;
	}
	f->size = newsize;
	return SQLITE_OK;
}

/* Set a block file's logical size. */
static int
io_blk_truncate(struct vfs_file *f, sqlite3_int64 size)
{
	static const uint8_t zero;
	sqlite3_int64 cur;
	uint64_t nblk;
	int rc;

	if ((rc = io_blk_size(f, &cur)) != SQLITE_OK)
		return rc;
	if (size == cur)
		return SQLITE_OK;
	if (size > cur)
		return io_blk_write(f, &zero, 1, size - 1);
	nblk = ((uint64_t)size + BLK - 1) / BLK;
	rc = f->real->pMethods->xTruncate(
	    f->real, (sqlite3_int64)nblk * BLK_PHYS);
	if (rc == SQLITE_OK && size % BLK != 0)
		rc = io_blk_patch(f, nblk - 1, 0, NULL, 0, size);
	f->size = rc == SQLITE_OK ? size : -1;
	return rc;
}

/* The database file's size and truncation need no mapping. */
static int
io_db_truncate(struct vfs_file *f, sqlite3_int64 size)
{
	return f->real->pMethods->xTruncate(f->real, size);
}

static int
io_db_size(struct vfs_file *f, sqlite3_int64 *size)
{
	return f->real->pMethods->xFileSize(f->real, size);
}

/* The content methods of one layout. */
struct io_layout {
	int (*read)(struct vfs_file *, uint8_t *, int, sqlite3_int64);
	int (*write)(struct vfs_file *, const uint8_t *, int, sqlite3_int64);
	int (*truncate)(struct vfs_file *, sqlite3_int64);
	int (*size)(struct vfs_file *, sqlite3_int64 *);
};

static const struct io_layout io_layouts[] = {
    [VFS_LAYOUT_DB] = {io_db_read, io_db_write, io_db_truncate, io_db_size},
    [VFS_LAYOUT_WAL] = {io_wal_read, io_wal_write, io_wal_truncate,
        io_wal_size},
    [VFS_LAYOUT_BLOCK] = {io_blk_read, io_blk_write, io_blk_truncate,
        io_blk_size},
};

int
vfs_io_read(struct vfs_file *f, void *out, int amt, sqlite3_int64 off)
{
	if (amt < 0 || off < 0)
		return SQLITE_IOERR_READ;
	return io_layouts[f->layout].read(f, out, amt, off);
}

int
vfs_io_write(struct vfs_file *f, const void *in, int amt, sqlite3_int64 off)
{
	if (amt < 0 || off < 0)
		return SQLITE_IOERR_WRITE;
	return io_layouts[f->layout].write(f, in, amt, off);
}

int
vfs_io_truncate(struct vfs_file *f, sqlite3_int64 size)
{
	if (size < 0)
		return SQLITE_IOERR_TRUNCATE;
	return io_layouts[f->layout].truncate(f, size);
}

int
vfs_io_size(struct vfs_file *f, sqlite3_int64 *size)
{
	return io_layouts[f->layout].size(f, size);
}
