/*
 * noid — store: registering the encrypting VFS and opening through it.
 *
 * The sqlite3_vfs and sqlite3_io_methods tables: file-content methods go
 * to vfs-io.c, everything else (locks, shared memory, paths, time) passes
 * straight to the wrapped default VFS.  The methods table is version 2 on
 * purpose: without xFetch SQLite never memory-maps the database, so every
 * page goes through xRead and is checked.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base.h"
#include "vfs.h"

/* Largest sealed unit: a WAL frame of the largest page. */
#define VFS_BUF (24 + 65536 + VFS_ENC_RESERVE)

static int vfs_xopen(sqlite3_vfs *, const char *, sqlite3_file *, int, int *);

/* The real file behind ours. */
static sqlite3_file *
vfs_real(sqlite3_file *file)
{
	return ((struct vfs_file *)file)->real;
}

void
vfs_fault(struct vfs_enc *v, int err, int kind, uint64_t index)
{
	v->fault.err = err;
	v->fault.kind = kind;
	v->fault.index = index;
}

/* Find a registered encrypting VFS by name; NULL if none. */
static struct vfs_enc *
vfs_find(const char *name)
{
	sqlite3_vfs *vfs;

	if (name == NULL || sqlite3_initialize() != SQLITE_OK)
		return NULL;
	vfs = sqlite3_vfs_find(name);
	if (vfs == NULL || vfs->xOpen != vfs_xopen)
		return NULL;
	return (struct vfs_enc *)vfs;
}

/* sqlite3_io_methods: close the real file, wipe the scratch buffer. */
static int
vfs_xclose(sqlite3_file *file)
{
	struct vfs_file *f = (struct vfs_file *)file;
	int rc, rc2;

	rc = vfs_io_flush(f);
	rc2 = f->real->pMethods->xClose(f->real);
	sodium_memzero(f->buf, f->bufsz);
	free(f->buf);
	f->buf = NULL;
	f->vfs->nopen--;
	return rc != SQLITE_OK ? rc : rc2;
}

static int
vfs_xread(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	return vfs_io_read((struct vfs_file *)file, out, amt, off);
}

static int
vfs_xwrite(sqlite3_file *file, const void *in, int amt, sqlite3_int64 off)
{
	return vfs_io_write((struct vfs_file *)file, in, amt, off);
}

static int
vfs_xtruncate(sqlite3_file *file, sqlite3_int64 size)
{
	return vfs_io_truncate((struct vfs_file *)file, size);
}

static int
vfs_xsync(sqlite3_file *file, int flags)
{
	int rc;

	if ((rc = vfs_io_flush((struct vfs_file *)file)) != SQLITE_OK)
		return rc;
	return vfs_real(file)->pMethods->xSync(vfs_real(file), flags);
}

static int
vfs_xfilesize(sqlite3_file *file, sqlite3_int64 *size)
{
	return vfs_io_size((struct vfs_file *)file, size);
}

static int
vfs_xlock(sqlite3_file *file, int lock)
{
	return vfs_real(file)->pMethods->xLock(vfs_real(file), lock);
}

static int
vfs_xunlock(sqlite3_file *file, int lock)
{
	return vfs_real(file)->pMethods->xUnlock(vfs_real(file), lock);
}

static int
vfs_xcheckreservedlock(sqlite3_file *file, int *out)
{
	return vfs_real(file)->pMethods->xCheckReservedLock(
	    vfs_real(file), out);
}

/*
 * File controls pass through, except size and chunk hints on remapped
 * files, whose physical sizes differ from what SQLite asks for.
 */
static int
vfs_xfilecontrol(sqlite3_file *file, int op, void *arg)
{
	struct vfs_file *f = (struct vfs_file *)file;

	if (f->layout != VFS_LAYOUT_DB &&
	    (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_CHUNK_SIZE))
		return SQLITE_OK;
	if (op == SQLITE_FCNTL_MMAP_SIZE) {
		/* Never map the file: pages must come through xRead. */
		*(sqlite3_int64 *)arg = 0;
		return SQLITE_OK;
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
vfs_xsectorsize(sqlite3_file *file)
{
	return vfs_real(file)->pMethods->xSectorSize(vfs_real(file));
}

static int
vfs_xdevicecharacteristics(sqlite3_file *file)
{
	return vfs_real(file)->pMethods->xDeviceCharacteristics(vfs_real(file));
}

static int
vfs_xshmmap(
    sqlite3_file *file, int pg, int pgsz, int extend, void volatile **pp)
{
	return vfs_real(file)->pMethods->xShmMap(
	    vfs_real(file), pg, pgsz, extend, pp);
}

static int
vfs_xshmlock(sqlite3_file *file, int offset, int n, int flags)
{
	return vfs_real(file)->pMethods->xShmLock(
	    vfs_real(file), offset, n, flags);
}

static void
vfs_xshmbarrier(sqlite3_file *file)
{
	vfs_real(file)->pMethods->xShmBarrier(vfs_real(file));
}

static int
vfs_xshmunmap(sqlite3_file *file, int del)
{
	return vfs_real(file)->pMethods->xShmUnmap(vfs_real(file), del);
}

static const sqlite3_io_methods vfs_io_methods = {
    .iVersion = 2,
    .xClose = vfs_xclose,
    .xRead = vfs_xread,
    .xWrite = vfs_xwrite,
    .xTruncate = vfs_xtruncate,
    .xSync = vfs_xsync,
    .xFileSize = vfs_xfilesize,
    .xLock = vfs_xlock,
    .xUnlock = vfs_xunlock,
    .xCheckReservedLock = vfs_xcheckreservedlock,
    .xFileControl = vfs_xfilecontrol,
    .xSectorSize = vfs_xsectorsize,
    .xDeviceCharacteristics = vfs_xdevicecharacteristics,
    .xShmMap = vfs_xshmmap,
    .xShmLock = vfs_xshmlock,
    .xShmBarrier = vfs_xshmbarrier,
    .xShmUnmap = vfs_xshmunmap,
};

/* Offset of the real file inside ours, kept 8-byte aligned. */
static size_t
vfs_real_offset(void)
{
	return (sizeof(struct vfs_file) + 7) & ~(size_t)7;
}

/* sqlite3_vfs: open the real file and pick the layout from the flags. */
static int
vfs_xopen(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
    int *outflags)
{
	struct vfs_enc *v = (struct vfs_enc *)vfs;
	struct vfs_file *f = (struct vfs_file *)file;
	int rc;

	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)((uint8_t *)file + vfs_real_offset());
	f->real->pMethods = NULL;
	rc = v->orig->xOpen(v->orig, name, f->real, flags, outflags);
	if (rc != SQLITE_OK) {
		if (f->real->pMethods != NULL)
			f->real->pMethods->xClose(f->real);
		return rc;
	}
	f->vfs = v;
	if (flags & SQLITE_OPEN_MAIN_DB)
		f->layout = VFS_LAYOUT_DB;
	else if (flags & SQLITE_OPEN_WAL)
		f->layout = VFS_LAYOUT_WAL;
	else
		f->layout = VFS_LAYOUT_BLOCK;
	f->size = -1;
	f->bufsz = VFS_BUF;
	f->buf = xmalloc(f->bufsz);
	f->base.pMethods = &vfs_io_methods;
	v->nopen++;
	return SQLITE_OK;
}

static int
vfs_xdelete(sqlite3_vfs *vfs, const char *name, int syncdir)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xDelete(o, name, syncdir);
}

static int
vfs_xaccess(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xAccess(o, name, flags, out);
}

static int
vfs_xfullpathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xFullPathname(o, name, n, out);
}

static void *
vfs_xdlopen(sqlite3_vfs *vfs, const char *name)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xDlOpen(o, name);
}

static void
vfs_xdlerror(sqlite3_vfs *vfs, int n, char *msg)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	o->xDlError(o, n, msg);
}

static void (*vfs_xdlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xDlSym(o, h, sym);
}

static void
vfs_xdlclose(sqlite3_vfs *vfs, void *h)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	o->xDlClose(o, h);
}

static int
vfs_xrandomness(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xRandomness(o, n, out);
}

static int
vfs_xsleep(sqlite3_vfs *vfs, int us)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xSleep(o, us);
}

static int
vfs_xcurrenttime(sqlite3_vfs *vfs, double *out)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xCurrentTime(o, out);
}

static int
vfs_xgetlasterror(sqlite3_vfs *vfs, int n, char *out)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	return o->xGetLastError(o, n, out);
}

static int
vfs_xcurrenttimeint64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	sqlite3_vfs *o = ((struct vfs_enc *)vfs)->orig;

	if (o->iVersion < 2 || o->xCurrentTimeInt64 == NULL) {
		double d;
		int rc = o->xCurrentTime(o, &d);

		*out = (sqlite3_int64)(d * 86400000.0);
		return rc;
	}
	return o->xCurrentTimeInt64(o, out);
}

int
vfs_enc_register(const char *name, const uint8_t key[32])
{
	struct vfs_enc *v;
	sqlite3_vfs *orig;

	if (name == NULL || *name == '\0' || key == NULL)
		return NOID_ERR_INVAL;
	if (sodium_init() < 0 || sqlite3_initialize() != SQLITE_OK)
		return NOID_ERR_INTERNAL;
	if (sqlite3_vfs_find(name) != NULL)
		return NOID_ERR_EXISTS;
	if ((orig = sqlite3_vfs_find(NULL)) == NULL)
		return NOID_ERR_INTERNAL;
	v = xcalloc(1, sizeof *v);
	v->orig = orig;
	v->name = xstrdup(name);
	v->key = secret_alloc(VFS_ENC_KEY_LEN);
	memcpy(v->key, key, VFS_ENC_KEY_LEN);
	v->base.iVersion = 2;
	v->base.szOsFile = (int)(vfs_real_offset() + (size_t)orig->szOsFile);
	v->base.mxPathname = orig->mxPathname;
	v->base.zName = v->name;
	v->base.xOpen = vfs_xopen;
	v->base.xDelete = vfs_xdelete;
	v->base.xAccess = vfs_xaccess;
	v->base.xFullPathname = vfs_xfullpathname;
	v->base.xDlOpen = vfs_xdlopen;
	v->base.xDlError = vfs_xdlerror;
	v->base.xDlSym = vfs_xdlsym;
	v->base.xDlClose = vfs_xdlclose;
	v->base.xRandomness = vfs_xrandomness;
	v->base.xSleep = vfs_xsleep;
	v->base.xCurrentTime = vfs_xcurrenttime;
	v->base.xGetLastError = vfs_xgetlasterror;
	v->base.xCurrentTimeInt64 = vfs_xcurrenttimeint64;
	if (sqlite3_vfs_register(&v->base, 0) != SQLITE_OK) {
		secret_free(v->key);
		free(v->name);
		free(v);
		return NOID_ERR_INTERNAL;
	}
	return NOID_OK;
}

int
vfs_enc_unregister(const char *name)
{
	struct vfs_enc *v;

	if ((v = vfs_find(name)) == NULL)
		return NOID_ERR_NOENT;
	if (v->nopen > 0)
		return NOID_ERR_STATE;
	sqlite3_vfs_unregister(&v->base);
	secret_free(v->key);
	free(v->name);
	free(v);
	return NOID_OK;
}

int
vfs_enc_last_fault(const char *vfs_name, struct vfs_enc_fault *out)
{
	struct vfs_enc *v;

	memset(out, 0, sizeof *out);
	if ((v = vfs_find(vfs_name)) == NULL)
		return NOID_ERR_NOENT;
	*out = v->fault;
	return NOID_OK;
}

int
vfs_enc_last_error(const char *vfs_name, uint32_t *pgno)
{
	struct vfs_enc_fault fault;
	int rc;

	*pgno = 0;
	if ((rc = vfs_enc_last_fault(vfs_name, &fault)) != NOID_OK)
		return rc;
	if (fault.kind == VFS_ENC_DB && fault.index <= UINT32_MAX)
		*pgno = (uint32_t)fault.index;
	return fault.err;
}

void
vfs_enc_clear_error(const char *vfs_name)
{
	struct vfs_enc *v;

	if ((v = vfs_find(vfs_name)) != NULL)
		memset(&v->fault, 0, sizeof v->fault);
}

/* Map an SQLite result to enum noid_err, preferring a recorded fault. */
static int
vfs_map_error(struct vfs_enc *v, int rc)
{
	if (v->fault.err != 0 && v->fault.err != NOID_ERR_STATE)
		return v->fault.err;
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return NOID_ERR_CORRUPT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return NOID_ERR_LOCKED;
	case SQLITE_NOMEM:
		return NOID_ERR_INTERNAL;
	default:
		return NOID_ERR_IO;
	}
}

int
vfs_enc_open(const char *path, const char *vfs_name, int oflags, sqlite3 **out)
{
	struct vfs_enc *v;
	sqlite3 *db = NULL;
	int flags, rc, n = VFS_ENC_RESERVE;

	*out = NULL;
	if (path == NULL || (v = vfs_find(vfs_name)) == NULL)
		return NOID_ERR_INVAL;
	if (!(oflags & VFS_ENC_CREATE) && access(path, F_OK) != 0)
		return errno == ENOENT ? NOID_ERR_NOENT : NOID_ERR_IO;
	memset(&v->fault, 0, sizeof v->fault);
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE;
	if (oflags & VFS_ENC_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db, flags, vfs_name);
	if (rc != SQLITE_OK)
		goto out;
	/*
	 * Before the first access: a WAL opened in exclusive mode keeps its
	 * index in heap memory, so no -shm file is ever made.
	 */
	if ((oflags & VFS_ENC_EXCLUSIVE) &&
	    (rc = sqlite3_exec(db, "PRAGMA locking_mode=EXCLUSIVE", NULL, NULL,
	         NULL)) != SQLITE_OK)
		goto out;
	/* Before anything is written: new databases get the reserve. */
	rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &n);
	if (rc != SQLITE_OK)
		goto out;
	/* Read page 1 and the schema now, so a wrong key fails here. */
	rc = sqlite3_exec(
	    db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
out:
	if (rc != SQLITE_OK) {
		rc = vfs_map_error(v, rc);
		sqlite3_close_v2(db);
		return rc;
	}
	*out = db;
	return NOID_OK;
}
