/*
 * relay-journal: append-only records with group commit, replay with
 * torn-tail truncation, and snapshot compaction.
 *
 * File: "NOIDJRN1", then records.  A record is u32 len | u64 sum |
 * payload[len], payload = type u8 and fields (big-endian).  The sum is a
 * fast non-cryptographic hash: it only has to catch a write torn by a
 * crash or a damaged sector, and it must keep up with full-size
 * messages at the relay's rate.
 */
#include "base.h"
#include "proto.h"
#include "relay-journal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define J_MAGIC "NOIDJRN1"
#define J_MAGIC_LEN 8
#define J_HDR 12
#define J_RECORD_MAX (64 + RELAY_ID_LEN * 2 + 65535)
#define J_CHUNK (1024 * 1024)
/* Disk space reserved ahead of the end, so appends skip block
 * allocation (measured: about half the write cost). */
#define J_PREALLOC (8 * 1024 * 1024)

enum { R_QUEUE = 1, R_KEY = 2, R_OFF = 3, R_DEL = 4, R_MSG = 5, R_ACK = 6 };

/* Payload sizes, also used to estimate the live data. */
#define R_QUEUE_LEN                                                            \
	(1 + 2 * RELAY_ID_LEN + 2 * RELAY_HASH_LEN + RELAY_KEY_LEN + 1)
#define R_MSG_FIXED (1 + 2 * RELAY_ID_LEN + 8 + 1 + 2)

struct relay_journal {
	int fd;
	int lock_fd;
	char *path;
	char *tmp_path;
	bool fsync;
	uint64_t compact_min;
	uint64_t size; /* bytes on disk */
	uint64_t reserved; /* space allocated up to here (may pass size) */
	struct buf pending;

	/* Batches: each relay_journal_write is one, numbered from 1. */
	uint64_t written; /* last batch in the file */
	uint64_t durable; /* last batch known to be on disk */
	uint64_t syncing; /* batch whose fdatasync is in flight, 0: none */
	aio_context_t aio; /* 0: fdatasync inline */
	int efd; /* signalled when the async fdatasync ends */
	struct iocb cb;
	/* A write or fdatasync failed: what the file holds is unknown, so
	 * nothing more is written or synced (the relay stops; a restart
	 * replays what is really there). */
	bool failed;
};

static const uint64_t K1 = 0x9e3779b97f4a7c15ull;
static const uint64_t K2 = 0xc2b2ae3d27d4eb4full;

/* Load 8 bytes little-endian. */
static uint64_t
le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

/* Mix one word into a lane. */
static uint64_t
mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * K1;
	return h ^ (h >> 31);
}

/* Checksum of a record payload, bound to its length. */
static uint64_t
journal_sum(const uint8_t *p, size_t len)
{
	uint64_t h[4] = {K2, K2 ^ 1, K2 ^ 2, K2 ^ 3}, r = len * K2, t = 0;
	size_t i;

	for (; len >= 32; p += 32, len -= 32)
		for (i = 0; i < 4; i++)
			h[i] = mix(h[i], le64(p + 8 * i));
	for (; len >= 8; p += 8, len -= 8)
		h[0] = mix(h[0], le64(p));
	for (i = 0; i < len; i++)
		t |= (uint64_t)p[i] << (8 * i);
	r = mix(r, t);
	for (i = 0; i < 4; i++)
		r = mix(r, h[i]) * K2;
	return r ^ (r >> 29);
}

/* Start a record: reserve the header, return its offset in b. */
static size_t
rec_begin(struct buf *b, uint8_t type)
{
	size_t off = b->len;

	buf_append_space(b, J_HDR);
	buf_put_u8(b, type);
	return off;
}

/* Finish a record begun at off: fill in length and checksum. */
static void
rec_end(struct buf *b, size_t off)
{
	size_t len = b->len - off - J_HDR;

	be32_put(b->data + off, (uint32_t)len);
	be64_put(b->data + off + 4, journal_sum(b->data + off + J_HDR, len));
}

/* Append a full queue record to b. */
static void
put_queue(struct buf *b, const struct relay_queue *q)
{
	size_t off = rec_begin(b, R_QUEUE);

	buf_put(b, q->rid, RELAY_ID_LEN);
	buf_put(b, q->sid, RELAY_ID_LEN);
	buf_put(b, q->rcpt_hash, RELAY_HASH_LEN);
	buf_put(b, q->box_key, RELAY_KEY_LEN);
	buf_put_u8(b, q->flags);
	buf_put(b, q->sndr_hash, RELAY_HASH_LEN);
	rec_end(b, off);
}

/* Append a message record to b. */
static void
put_msg(struct buf *b, const struct relay_queue *q, const struct relay_msg *m)
{
	size_t off = rec_begin(b, R_MSG);

	buf_put(b, q->rid, RELAY_ID_LEN);
	buf_put(b, m->id, RELAY_ID_LEN);
	buf_put_u64(b, m->ts_ms);
	buf_put_u8(b, m->flags);
	buf_put_long(b, m->body, m->len);
	rec_end(b, off);
}

void
relay_journal_queue_new(struct relay_journal *j, const struct relay_queue *q)
{
	put_queue(&j->pending, q);
}

void
relay_journal_queue_key(struct relay_journal *j, const struct relay_queue *q)
{
	size_t off = rec_begin(&j->pending, R_KEY);

	buf_put(&j->pending, q->rid, RELAY_ID_LEN);
	buf_put(&j->pending, q->sndr_hash, RELAY_HASH_LEN);
	rec_end(&j->pending, off);
}

/* A record that names only the queue. */
static void
put_rid_only(struct relay_journal *j, uint8_t type, const struct relay_queue *q)
{
	size_t off = rec_begin(&j->pending, type);

	buf_put(&j->pending, q->rid, RELAY_ID_LEN);
	rec_end(&j->pending, off);
}

void
relay_journal_queue_off(struct relay_journal *j, const struct relay_queue *q)
{
	put_rid_only(j, R_OFF, q);
}

void
relay_journal_queue_del(struct relay_journal *j, const struct relay_queue *q)
{
	put_rid_only(j, R_DEL, q);
}

void
relay_journal_msg_add(struct relay_journal *j, const struct relay_queue *q,
    const struct relay_msg *m)
{
	put_msg(&j->pending, q, m);
}

void
relay_journal_msg_del(
    struct relay_journal *j, const struct relay_queue *q, const uint8_t *msg_id)
{
	size_t off = rec_begin(&j->pending, R_ACK);

	buf_put(&j->pending, q->rid, RELAY_ID_LEN);
	buf_put(&j->pending, msg_id, RELAY_ID_LEN);
	rec_end(&j->pending, off);
}

/* Write all of p to fd. */
static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NOID_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reserve disk space past the end (the file size stays the records'
 * end, so replay is unchanged).  Best effort: without fallocate the
 * writes are just slower.
 */
static void
reserve(struct relay_journal *j, uint64_t end)
{
	if (end <= j->reserved)
		return;
	end += J_PREALLOC;
	if (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, (off_t)j->size,
	        (off_t)(end - j->size)) == 0)
		j->reserved = end;
	else
		j->reserved = UINT64_MAX; /* unsupported or full: stop trying */
}

/* Write the buffered records as the next batch, without a sync. */
int
relay_journal_write(struct relay_journal *j)
{
	int rc;

	if (j->failed)
		return NOID_ERR_IO;
	if (j->pending.len == 0)
		return 0;
	reserve(j, j->size + j->pending.len);
	if ((rc = write_all(j->fd, j->pending.data, j->pending.len)) != 0) {
		/* Cut what part of the batch got in: a torn tail, not
		 * damage in the middle, if anything is written later. */
		j->failed = true;
		if (ftruncate(j->fd, (off_t)j->size) == 0)
			(void)lseek(j->fd, (off_t)j->size, SEEK_SET);
		return rc;
	}
	j->size += j->pending.len;
	j->written++;
	buf_reset(&j->pending);
	/* Keep a burst's buffer, but not a huge one forever. */
	if (j->pending.cap > 4 * J_CHUNK) {
		buf_free(&j->pending);
		buf_init(&j->pending);
	}
	if (!j->fsync)
		j->durable = j->written;
	return 0;
}

/* Batch number that covers every record buffered so far. */
uint64_t
relay_journal_batch(const struct relay_journal *j)
{
	return j->written + (j->pending.len > 0);
}

/* Last batch known to be on disk. */
uint64_t
relay_journal_durable(const struct relay_journal *j)
{
	return j->durable;
}

/* The eventfd that signals the end of an async sync, -1 if none. */
int
relay_journal_event_fd(const struct relay_journal *j)
{
	return j->aio != 0 ? j->efd : -1;
}

/* Stop using async syncs (unsupported here): fdatasync inline. */
static void
aio_off(struct relay_journal *j)
{
	if (j->aio != 0)
		(void)syscall(SYS_io_destroy, j->aio);
	j->aio = 0;
}

/* Start an fdatasync of everything written, unless one is in flight.
 * Inline (and done on return) without async support. */
int
relay_journal_sync(struct relay_journal *j)
{
	struct iocb *cbs[1] = {&j->cb};
	uint64_t target = j->written;

	if (j->failed)
		return NOID_ERR_IO;
	if (j->syncing != 0 || j->durable == target)
		return 0;
	if (j->aio != 0) {
		memset(&j->cb, 0, sizeof j->cb);
		j->cb.aio_fildes = (uint32_t)j->fd;
		j->cb.aio_lio_opcode = IOCB_CMD_FDSYNC;
		j->cb.aio_flags = IOCB_FLAG_RESFD;
		j->cb.aio_resfd = (uint32_t)j->efd;
		if (syscall(SYS_io_submit, j->aio, 1L, cbs) == 1) {
			j->syncing = target;
			return 0;
		}
		/* EINVAL: this file system cannot sync asynchronously. */
		aio_off(j);
	}
	if (fdatasync(j->fd) != 0) {
		j->failed = true;
		return NOID_ERR_IO;
	}
	j->durable = target;
	return 0;
}

/* Collect the async sync's result; block for it when wait. */
static int
sync_reap(struct relay_journal *j, bool wait)
{
	struct io_event ev;
	struct timespec zero = {0, 0};
	uint64_t n, target;
	long got;

	if (j->efd >= 0)
		(void)!read(j->efd, &n, sizeof n); /* level-triggered: drain */
	if (j->syncing == 0)
		return 0;
	do
		got = syscall(
		    SYS_io_getevents, j->aio, 1L, 1L, &ev, wait ? NULL : &zero);
	while (got < 0 && errno == EINTR);
	if (got < 0) {
		j->syncing = 0;
		j->failed = true;
		return NOID_ERR_IO;
	}
	if (got == 0)
		return 0;
	target = j->syncing;
	j->syncing = 0;
	if (ev.res != 0) {
		/* Never retry a failed fdatasync: the kernel may have
		 * dropped the dirty pages it could not write. */
		j->failed = true;
		return NOID_ERR_IO;
	}
	j->durable = target;
	return 0;
}

/* The event fd fired: note a finished sync. */
int
relay_journal_on_event(struct relay_journal *j)
{
	return sync_reap(j, false);
}

/* Write the buffered records and make everything written durable. */
int
relay_journal_commit(struct relay_journal *j)
{
	int rc;

	if ((rc = relay_journal_write(j)) != 0 ||
	    (rc = sync_reap(j, true)) != 0)
		return rc;
	if (j->durable == j->written)
		return 0;
	if (fdatasync(j->fd) != 0) {
		j->failed = true;
		return NOID_ERR_IO;
	}
	j->durable = j->written;
	return 0;
}

/* Apply one record payload to qs; NOID_ERR_CORRUPT when malformed or
 * impossible (nothing the relay could have written), qs untouched. */
static int
apply(struct relay_queues *qs, const uint8_t *p, size_t len, uint64_t now_ms,
    uint64_t ttl_ms)
{
	struct reader r;
	struct relay_queue *q;
	const uint8_t *rid, *sid, *rh, *key, *sh, *id, *body;
	uint8_t type, flags;
	uint64_t ts;
	size_t blen;

	reader_init(&r, p, len);
	reader_u8(&r, &type);
	reader_ref(&r, &rid, RELAY_ID_LEN);
	if (r.err != 0)
		return NOID_ERR_CORRUPT;
	q = relay_queue_find_rid(qs, rid);
	switch (type) {
	case R_QUEUE:
		reader_ref(&r, &sid, RELAY_ID_LEN);
		reader_ref(&r, &rh, RELAY_HASH_LEN);
		reader_ref(&r, &key, RELAY_KEY_LEN);
		reader_u8(&r, &flags);
		reader_ref(&r, &sh, RELAY_HASH_LEN);
		if (reader_done(&r) != 0 ||
		    (flags & ~(RELAY_Q_SECURED | RELAY_Q_SUSPENDED)) != 0)
			return NOID_ERR_CORRUPT;
		if (q != NULL)
			return NOID_ERR_CORRUPT;
		return relay_queue_insert(qs, rid, sid, rh, key, flags,
		           (flags & RELAY_Q_SECURED) ? sh : NULL, NULL) == 0
		    ? 0
		    : NOID_ERR_CORRUPT;
	case R_KEY:
		reader_ref(&r, &sh, RELAY_HASH_LEN);
		if (reader_done(&r) != 0)
			return NOID_ERR_CORRUPT;
		if (q != NULL)
			relay_queue_secure(q, sh);
		return 0;
	case R_OFF:
	case R_DEL:
		if (reader_done(&r) != 0)
			return NOID_ERR_CORRUPT;
		if (q != NULL && type == R_OFF)
			relay_queue_suspend(q);
		else if (q != NULL)
			relay_queue_delete(qs, q);
		return 0;
	case R_MSG:
		reader_ref(&r, &id, RELAY_ID_LEN);
		reader_u64(&r, &ts);
		reader_u8(&r, &flags);
		reader_long(&r, &body, &blen);
		/* Only what SEND accepts: anything else would make the relay
		 * fail to seal it later. */
		if (reader_done(&r) != 0 || blen == 0 || blen > NOID_MSG_MAX ||
		    (flags & ~PROTO_SEND_NOTIFY) != 0)
			return NOID_ERR_CORRUPT;
		if (q != NULL && ts + ttl_ms > now_ms)
			relay_queue_msg_add(
			    qs, q, id, ts, flags, body, blen, NULL);
		return 0;
	case R_ACK:
		reader_ref(&r, &id, RELAY_ID_LEN);
		if (reader_done(&r) != 0)
			return NOID_ERR_CORRUPT;
		if (q != NULL)
			(void)relay_queue_msg_del(qs, q, id);
		return 0;
	default:
		return NOID_ERR_CORRUPT;
	}
}

/*
 * Does a payload of len bytes fit its type (the type's fixed length, or
 * for a message the body length it carries)?  Only the avail bytes
 * present are looked at: what a torn write cut off counts as fitting.
 */
static bool
rec_shape_ok(const uint8_t *p, uint64_t avail, uint32_t len)
{
	if (avail < 1)
		return true;
	switch (p[0]) {
	case R_QUEUE:
		return len == R_QUEUE_LEN;
	case R_KEY:
		return len == 1 + RELAY_ID_LEN + RELAY_HASH_LEN;
	case R_OFF:
	case R_DEL:
		return len == 1 + RELAY_ID_LEN;
	case R_ACK:
		return len == 1 + 2 * RELAY_ID_LEN;
	case R_MSG:
		if (len < R_MSG_FIXED)
			return false;
		return avail < R_MSG_FIXED ||
		    be16_get(p + R_MSG_FIXED - 2) == len - R_MSG_FIXED;
	default:
		return false;
	}
}

/*
 * Length of the intact record at off: header within the file, a length
 * its type allows, the whole record present and its checksum right.
 * 0 when not.  Cheap checks first: the resync scan calls it at every
 * offset.
 */
static size_t
rec_at(const uint8_t *map, uint64_t size, uint64_t off)
{
	const uint8_t *p = map + off + J_HDR;
	uint32_t len;

	if (size - off < J_HDR)
		return 0;
	len = be32_get(map + off);
	if (len == 0 || len > J_RECORD_MAX || size - off - J_HDR < len ||
	    !rec_shape_ok(p, len, len) ||
	    journal_sum(p, len) != be64_get(map + off + 4))
		return 0;
	return J_HDR + len;
}

/*
 * Is the bad record at off a tail torn by a crash: a header cut short,
 * or a sound header (length and type agree) whose record ends at or
 * past the end of the file?
 */
static bool
torn_tail(const uint8_t *map, uint64_t size, uint64_t off)
{
	uint32_t len;

	if (size - off < J_HDR)
		return true;
	len = be32_get(map + off);
	return len != 0 && len <= J_RECORD_MAX && size - off - J_HDR <= len &&
	    rec_shape_ok(map + off + J_HDR, size - off - J_HDR, len);
}

/*
 * Where intact records start again after a bad one at off: right after
 * it when its length field still leads to an intact record, else the
 * first offset that holds one.  size when none does.
 */
static uint64_t
resync(const uint8_t *map, uint64_t size, uint64_t off)
{
	uint64_t next;

	if (size - off >= J_HDR) {
		next = off + J_HDR + be32_get(map + off);
		if (next < size && rec_at(map, size, next) != 0)
			return next;
	}
	for (next = off + 1; next < size; next++)
		if (rec_at(map, size, next) != 0)
			return next;
	return size;
}

/*
 * Replay map (the whole file) into qs; *good gets the end of the last
 * record kept.  A bad record (torn, damaged, or impossible to apply)
 * that torn_tail recognises, or after which no intact record follows,
 * is a tail torn by a crash: replay stops there.
 * One with intact records after it is damage: NOID_ERR_CORRUPT with
 * info->damage_at and resume_at set, or with salvage, skip to the next
 * intact record and go on.
 */
static int
replay(const uint8_t *map, uint64_t size, struct relay_queues *qs,
    uint64_t ttl_ms, bool salvage, struct relay_journal_info *info,
    uint64_t *good)
{
	uint64_t off = J_MAGIC_LEN, now = clock_wall_ms(), next;
	size_t n;

	while (off < size) {
		n = rec_at(map, size, off);
		if (n != 0 &&
		    apply(qs, map + off + J_HDR, n - J_HDR, now, ttl_ms) == 0) {
			off += n;
			continue;
		}
		if (torn_tail(map, size, off) ||
		    (next = resync(map, size, off)) == size)
			break; /* cut off below */
		if (info->damage_at == 0) {
			info->damage_at = off;
			info->resume_at = next;
		}
		if (!salvage)
			return NOID_ERR_CORRUPT;
		info->skipped_bytes += next - off;
		off = next;
	}
	*good = off;
	return 0;
}

/* Map the file and replay it (see replay). */
static int
replay_file(int fd, uint64_t size, struct relay_queues *qs, bool salvage,
    struct relay_journal_info *info, uint64_t *good)
{
	void *map;
	int rc;

	map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return NOID_ERR_IO;
	(void)madvise(map, (size_t)size, MADV_SEQUENTIAL);
	rc = replay(map, size, qs, relay_queue_ttl_ms(qs), salvage, info, good);
	munmap(map, (size_t)size);
	return rc;
}

/*
 * Keep the damaged file as journal.corrupt.<seconds> next to it before
 * a salvage rewrites the journal.
 */
static int
keep_damaged(
    struct relay_journal *j, const char *dir, struct relay_journal_info *info)
{
	char *aside;
	int rc = 0;

	snprintf(info->moved_to, sizeof info->moved_to, "journal.corrupt.%llu",
	    (unsigned long long)(clock_wall_ms() / 1000));
	aside = path_join(dir, info->moved_to);
	if (link(j->path, aside) != 0 || fsync_dir_of(aside) != 0)
		rc = errno == EEXIST ? NOID_ERR_EXISTS : NOID_ERR_IO;
	free(aside);
	return rc;
}

/* Open (or create) the journal and replay it; see relay_journal_open
 * and relay_journal_salvage. */
static int
journal_open(const char *dir, bool fsync, uint64_t compact_min, bool salvage,
    struct relay_queues *qs, struct relay_journal **out,
    struct relay_journal_info *info)
{
	struct relay_journal *j = xcalloc(1, sizeof *j);
	char magic[J_MAGIC_LEN], *lock_path = path_join(dir, "lock");
	struct stat st;
	uint64_t good;
	ssize_t n;
	int rc = 0;

	memset(info, 0, sizeof *info);
	j->fd = j->lock_fd = -1;
	j->fsync = fsync;
	j->compact_min = compact_min;
	j->path = path_join(dir, "journal");
	j->tmp_path = path_join(dir, "journal.tmp");
	j->efd = -1;
	buf_init(&j->pending);

	j->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lock_fd < 0) {
		rc = NOID_ERR_IO;
		goto out;
	}
	if (flock(j->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? NOID_ERR_LOCKED : NOID_ERR_IO;
		goto out;
	}
	(void)unlink(j->tmp_path);
	j->fd = open(j->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->fd < 0 || fstat(j->fd, &st) != 0) {
		rc = NOID_ERR_IO;
		goto out;
	}
	if (st.st_size < J_MAGIC_LEN) {
		/* New (or never got past its first write). */
		if (ftruncate(j->fd, 0) != 0 ||
		    write_all(j->fd, (const uint8_t *)J_MAGIC, J_MAGIC_LEN) !=
		        0 ||
		    fdatasync(j->fd) != 0 || fsync_dir_of(j->path) != 0) {
			rc = NOID_ERR_IO;
			goto out;
		}
		j->size = J_MAGIC_LEN;
		goto done;
	}
	n = pread(j->fd, magic, J_MAGIC_LEN, 0);
	if (n != J_MAGIC_LEN || memcmp(magic, J_MAGIC, J_MAGIC_LEN) != 0) {
		rc = NOID_ERR_CORRUPT;
		goto out;
	}
	if ((rc = replay_file(
	         j->fd, (uint64_t)st.st_size, qs, salvage, info, &good)) != 0)
		goto out;
	if (info->damage_at != 0) {
		/* Salvaged: keep the damaged file, write what was kept as
		 * a fresh journal. */
		j->size = good;
		if ((rc = keep_damaged(j, dir, info)) != 0 ||
		    (rc = relay_journal_compact(j, qs)) != 0)
			goto out;
		goto done;
	}
	if (good < (uint64_t)st.st_size) {
		info->dropped_bytes = (uint64_t)st.st_size - good;
		if (ftruncate(j->fd, (off_t)good) != 0 ||
		    fdatasync(j->fd) != 0) {
			rc = NOID_ERR_IO;
			goto out;
		}
	}
	j->size = good;
done:
	if (lseek(j->fd, 0, SEEK_END) < 0) {
		rc = NOID_ERR_IO;
		goto out;
	}
	info->queues = relay_queue_count(qs);
	info->messages = relay_queue_msg_count(qs);
	rc = relay_journal_maybe_compact(j, qs);
	/* Async fdatasync (Linux AIO, 4.18+), so the loop never waits on
	 * the disk; without it syncs run inline. */
	if (rc == 0 && fsync &&
	    (j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) >= 0 &&
	    syscall(SYS_io_setup, 1L, &j->aio) != 0)
		j->aio = 0;
out:
	free(lock_path);
	if (rc != 0) {
		relay_journal_close(j);
		j = NULL;
	}
	*out = j;
	return rc;
}

int
relay_journal_open(const char *dir, bool fsync, uint64_t compact_min,
    struct relay_queues *qs, struct relay_journal **out,
    struct relay_journal_info *info)
{
	return journal_open(dir, fsync, compact_min, false, qs, out, info);
}

int
relay_journal_salvage(const char *dir, bool fsync, uint64_t compact_min,
    struct relay_queues *qs, struct relay_journal **out,
    struct relay_journal_info *info)
{
	return journal_open(dir, fsync, compact_min, true, qs, out, info);
}

/* Commit what is pending, then close and unlock. */
int
relay_journal_close(struct relay_journal *j)
{
	int rc = 0;

	if (j == NULL)
		return 0;
	if (j->fd >= 0) {
		/* After a failure: stop, as fast as possible, writing
		 * nothing more (see failed). */
		rc = j->failed ? NOID_ERR_IO : relay_journal_commit(j);
		close(j->fd);
	}
	aio_off(j);
	if (j->efd >= 0)
		close(j->efd);
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	buf_free(&j->pending);
	free(j->path);
	free(j->tmp_path);
	free(j);
	return rc;
}

/* Bytes the live data would take in a fresh snapshot. */
static uint64_t
live_bytes(struct relay_queues *qs)
{
	return J_MAGIC_LEN + relay_queue_count(qs) * (J_HDR + R_QUEUE_LEN) +
	    relay_queue_msg_count(qs) * (J_HDR + R_MSG_FIXED) +
	    relay_queue_body_bytes(qs);
}

/* Snapshot writer state for relay_queue_foreach. */
struct snap {
	int fd;
	int rc;
	uint64_t size;
	struct buf b;
};

/* Write one queue and its messages into the snapshot. */
static void
snap_queue(void *ctx, struct relay_queue *q)
{
	struct snap *s = ctx;
	const struct relay_msg *m;

	put_queue(&s->b, q);
	for (m = q->head; m != NULL; m = m->next) {
		put_msg(&s->b, q, m);
		if (s->b.len >= J_CHUNK) {
			if (s->rc == 0)
				s->rc = write_all(s->fd, s->b.data, s->b.len);
			s->size += s->b.len;
			buf_reset(&s->b);
		}
	}
}

/* Rewrite the journal as a snapshot of qs now. */
int
relay_journal_compact(struct relay_journal *j, struct relay_queues *qs)
{
	struct snap s;
	int rc;

	if ((rc = relay_journal_commit(j)) != 0)
		return rc;
	memset(&s, 0, sizeof s);
	buf_init(&s.b);
	s.fd =
	    open(j->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0) {
		rc = NOID_ERR_IO;
		goto out;
	}
	buf_put(&s.b, J_MAGIC, J_MAGIC_LEN);
	relay_queue_foreach(qs, snap_queue, &s);
	if (s.rc == 0)
		s.rc = write_all(s.fd, s.b.data, s.b.len);
	s.size += s.b.len;
	/* The rename must not be durable before the data it names. */
	if (s.rc != 0 || fdatasync(s.fd) != 0 ||
	    rename(j->tmp_path, j->path) != 0 || fsync_dir_of(j->path) != 0) {
		rc = NOID_ERR_IO;
		goto out;
	}
	close(j->fd);
	j->fd = s.fd;
	s.fd = -1;
	j->size = j->reserved = s.size;
out:
	if (s.fd >= 0) {
		close(s.fd);
		(void)unlink(j->tmp_path);
	}
	buf_free(&s.b);
	return rc;
}

/* Compact when the file is past twice the live data. */
int
relay_journal_maybe_compact(struct relay_journal *j, struct relay_queues *qs)
{
	if (j->size < j->compact_min || j->size <= 2 * live_bytes(qs))
		return 0;
	return relay_journal_compact(j, qs);
}

/* Current file size in bytes. */
uint64_t
relay_journal_size(const struct relay_journal *j)
{
	return j->size + j->pending.len;
}
