/*
 * Store benchmark (make bench): the same workload on the encrypted store
 * and on plain SQLite, each figure beside its target (issue 3).
 *
 * Fairness: both sides are the same store code with the same schema,
 * pragmas and exclusive locking; "plain" only leaves out the encrypting
 * VFS (STORE_PLAIN).  100,000 messages of 300 bytes in 10 conversations
 * go in through the op log (signed ops, projections, FTS) in batches of
 * 1,000 per transaction; the insert rate is the median batch.  Then,
 * RUNS times each, median reported: open the store and read the newest
 * 200 messages of one conversation, warm (files in the OS page cache)
 * and cold (the database evicted with posix_fadvise DONTNEED before each
 * open: what a first start after boot sees, less the disk's seek time
 * when the device has its own cache); and full-text queries.  The KDF
 * runs with the minimum Argon2id parameters; the target is for opening
 * with the KDF excluded, so the median cost of unlocking the key file
 * alone (key_unlock: Argon2id, unwrap, secret memory) is measured too
 * and taken off the encrypted figure, which is also shown whole.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "key.h"
#include "store.h"

#define NMSG 100000
#define BATCH 1000
#define NBATCH (NMSG / BATCH)
#define NCONV 10
#define MSG_LEN 300
#define PAGE 200
#define RUNS 9

/* One side of the comparison. */
struct side {
	const char *name;
	int plain;
	char dir[32];
	uint8_t profile[STORE_ID_LEN];
	uint8_t contact[NCONV][STORE_ID_LEN];
	double batch_s[NBATCH];
	double warm_ms[RUNS], cold_ms[RUNS], unlock_ms[RUNS];
	double rare_ms[RUNS], common_ms[RUNS];
	size_t rare_hits, common_hits;
};

static const char *const words[] = {"apple", "river", "stone", "cloud", "tiger",
    "lemon", "piano", "forest", "rocket", "candle", "mirror", "garden",
    "silver", "thunder", "violet", "window"};

/* 300 bytes of words; one message in 1,000 carries a rare word. */
static void
make_text(char *out, unsigned i)
{
	size_t len = 0, w;
	unsigned r = i * 2654435761u;

	if (i % 1000 == 0)
		len += (size_t)snprintf(out, MSG_LEN, "zeppelin ");
	while (len < MSG_LEN - 10) {
		r = r * 1103515245u + 12345u;
		w = (r >> 16) % (sizeof words / sizeof words[0]);
		len +=
		    (size_t)snprintf(out + len, MSG_LEN - len, "%s ", words[w]);
	}
	memset(out + len, '.', MSG_LEN - len);
	out[MSG_LEN] = '\0';
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
check(int rc, const char *what)
{
	if (rc != 0)
		fatalx("bench-store: %s: %s", what, noid_strerror(rc));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n figures (sorts them). */
static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
ms_since(uint64_t t0)
{
	return (double)(clock_mono_us() - t0) / 1e3;
}

static struct store *
side_open(struct side *s, int flags)
{
	struct store *st;

	check(store_open(s->dir, s->plain ? NULL : "bench password",
	          flags | STORE_FAST_KDF | (s->plain ? STORE_PLAIN : 0), &st),
	    "open");
	return st;
}

/* Create the store and insert NMSG messages, timing each batch. */
static void
side_fill(struct side *s)
{
	uint8_t conn[NCONV][STORE_ID_LEN], id[STORE_ID_LEN];
	char text[MSG_LEN + 1];
	struct store *st;
	uint64_t t0 = 0;
	unsigned i;

	snprintf(s->dir, sizeof s->dir, "/tmp/noid-bench-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		fatalx("mkdtemp");
	st = side_open(s, STORE_CREATE);
	check(store_profile_create(st, "bench", "d", s->profile), "profile");
	for (i = 0; i < NCONV; i++) {
		check(store_contact_add(st, s->profile, "c", s->contact[i]),
		    "contact");
		check(store_conn_add(st, s->profile, s->contact[i],
		          STORE_TRUST_QR, NULL, 0, conn[i]),
		    "conn");
	}
	for (i = 0; i < NMSG; i++) {
		if (i % BATCH == 0) {
			t0 = clock_mono_us();
			check(store_tx_begin(st), "begin");
		}
		make_text(text, i);
		check(store_msg_add(st, s->profile, conn[i % NCONV],
		          i % 2 ? STORE_DIR_IN : STORE_DIR_OUT, 1000000 + i,
		          text, MSG_LEN, id),
		    "insert");
		if (i % BATCH == BATCH - 1) {
			check(store_tx_commit(st), "commit");
			s->batch_s[i / BATCH] = ms_since(t0) / 1e3;
		}
	}
	store_close(st);
}

/* Drop the database file from the OS page cache. */
static void
evict(struct side *s)
{
	char *path = path_join(s->dir, "noid.db");
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fdatasync(fd) != 0 ||
	    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
		fatalx("evict %s", path);
	close(fd);
	free(path);
}

/* Open + newest PAGE of one conversation + close; ms to the last row. */
static double
open_and_page(struct side *s)
{
	struct store_msg *m;
	struct store *st;
	uint64_t t0 = clock_mono_us();
	double ms;
	size_t n;

	st = side_open(s, 0);
	check(
	    store_msgs_page(st, s->profile, s->contact[3], NULL, PAGE, &m, &n),
	    "page");
	ms = ms_since(t0);
	if (n != PAGE)
		check(NOID_ERR_INTERNAL, "newest 200");
	store_msgs_free(m, n);
	store_close(st);
	return ms;
}

/* Unlock the key file alone: what the KDF part of opening costs. */
static double
unlock(struct side *s)
{
	char *path = path_join(s->dir, "key");
	uint8_t *key;
	uint64_t t0 = clock_mono_us();
	double ms;

	check(key_unlock_flags(path, "bench password", 1, &key), "unlock");
	ms = ms_since(t0);
	secret_free(key);
	free(path);
	return ms;
}

/* One search; ms, hits in *n. */
static double
search(struct store *st, struct side *s, const char *q, size_t *n)
{
	struct store_hit *h;
	uint64_t t0 = clock_mono_us();
	double ms;

	check(store_search(st, s->profile, NULL, q, 50, &h, n), "search");
	ms = ms_since(t0);
	free(h);
	return ms;
}

static void
side_measure(struct side *s)
{
	struct store *st;
	int r;

	if (!s->plain)
		for (r = 0; r < RUNS; r++)
			s->unlock_ms[r] = unlock(s);
	open_and_page(s); /* warms the file cache */
	for (r = 0; r < RUNS; r++)
		s->warm_ms[r] = open_and_page(s);
	for (r = 0; r < RUNS; r++) {
		evict(s);
		s->cold_ms[r] = open_and_page(s);
	}
	st = side_open(s, 0);
	for (r = 0; r < RUNS; r++) {
		s->rare_ms[r] = search(st, s, "zeppelin", &s->rare_hits);
		s->common_ms[r] =
		    search(st, s, "thunder violet", &s->common_hits);
	}
	store_close(st);
}

/* One line: encrypted and plain figures, their ratio, the target. */
static void
row(const char *what, const char *unit, double enc, double plain,
    const char *target, int ok)
{
	printf("  %-34s %9.2f %-5s %9.2f %-5s %5.2f  %-22s %s\n", what, enc,
	    unit, plain, unit, enc / plain, target,
	    ok < 0 ? "" : (ok ? "ok" : "MISSED"));
}

int
main(void)
{
	struct side enc = {.name = "encrypted"},
	            plain = {.name = "plain", .plain = 1};
	double er, pr, ek, ew, pw, ec, pc;

	side_fill(&plain);
	side_fill(&enc);
	side_measure(&plain);
	side_measure(&enc);

	printf("store: %d msgs x %d B in %d conversations via the op log;"
	       " same schema (v%d)\n  and code both sides, plain = no"
	       " encrypting VFS; medians of %d runs (insert:\n  of %d"
	       " batches of %d); cold = db evicted from the OS page cache"
	       " per run\n",
	    NMSG, MSG_LEN, NCONV, store_schema_latest(), RUNS, NBATCH, BATCH);
	printf("  %-34s %15s %15s %5s  %-22s\n", "", "encrypted", "plain",
	    "ratio", "target");
	er = BATCH / median(enc.batch_s, NBATCH);
	pr = BATCH / median(plain.batch_s, NBATCH);
	row("insert rate", "msg/s", er, pr, "ratio >= 0.50", er / pr >= 0.5);
	ek = median(enc.unlock_ms, RUNS);
	ew = median(enc.warm_ms, RUNS);
	pw = median(plain.warm_ms, RUNS);
	row("open + newest 200, warm, no KDF", "ms", ew - ek, pw,
	    "<= 2.00x and < 20 ms", ew - ek <= 2 * pw && ew - ek < 20);
	ec = median(enc.cold_ms, RUNS);
	pc = median(plain.cold_ms, RUNS);
	row("open + newest 200, cold, no KDF", "ms", ec - ek, pc,
	    "<= 2.00x and < 20 ms", ec - ek <= 2 * pc && ec - ek < 20);
	row("  the same warm, with the fast KDF", "ms", ew, pw, "", -1);
	row("  the same cold, with the fast KDF", "ms", ec, pc, "", -1);
	row("FTS rare word (100 hits, limit 50)", "ms",
	    median(enc.rare_ms, RUNS), median(plain.rare_ms, RUNS), "(none)",
	    -1);
	row("FTS two common words (limit 50)", "ms",
	    median(enc.common_ms, RUNS), median(plain.common_ms, RUNS),
	    "(none)", -1);
	if (enc.rare_hits != 50 || enc.common_hits != 50 ||
	    plain.rare_hits != 50 || plain.common_hits != 50)
		fatalx("bench-store: searches found too little");
	nftw(enc.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	nftw(plain.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
