/*
 * Store benchmark (make bench): the same workload on the encrypted
 * store and on plain SQLite with the same schema, each figure beside
 * its floor.  100,000 messages of 300 bytes go in through the op log
 * (signed ops, projections, FTS) in batches of 1,000 per transaction;
 * then the store is reopened and the newest 200 messages of one
 * conversation read; then full-text queries over all of it.  The KDF
 * runs with the fast parameters, so opening measures the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

#include "base.h"
#include "store.h"

#define NMSG 100000
#define BATCH 1000
#define NCONV 10
#define MSG_LEN 300

struct result {
	double insert_s, open_ms, page_ms, search_ms;
	size_t hits;
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
	if (rc != 0) {
		fprintf(
		    stderr, "bench-store: %s: %s\n", what, noid_strerror(rc));
		exit(1);
	}
}

static void
run(int plain, struct result *r)
{
	char tmpl[] = "/tmp/noid-bench-XXXXXX", text[MSG_LEN + 1];
	int flags = STORE_FAST_KDF | (plain ? STORE_PLAIN : 0);
	uint8_t profile[STORE_ID_LEN], contact[NCONV][STORE_ID_LEN],
	    conn[NCONV][STORE_ID_LEN], id[STORE_ID_LEN];
	struct store_msg *m;
	struct store_hit *h;
	struct store *st;
	uint64_t t0;
	size_t n;
	unsigned i;
	int q;

	if (mkdtemp(tmpl) == NULL)
		exit(1);
	check(store_open(tmpl, plain ? NULL : "bench password",
	          flags | STORE_CREATE, &st),
	    "create");
	check(store_profile_create(st, "bench", "d", profile), "profile");
	for (i = 0; i < NCONV; i++) {
		check(
		    store_contact_add(st, profile, "c", contact[i]), "contact");
		check(store_conn_add(st, profile, contact[i], STORE_TRUST_QR,
		          NULL, 0, conn[i]),
		    "conn");
	}
	t0 = clock_mono_us();
	for (i = 0; i < NMSG; i++) {
		if (i % BATCH == 0)
			check(store_tx_begin(st), "begin");
		make_text(text, i);
		check(store_msg_add(st, profile, conn[i % NCONV],
		          i % 2 ? STORE_DIR_IN : STORE_DIR_OUT, 1000000 + i,
		          text, MSG_LEN, id),
		    "insert");
		if (i % BATCH == BATCH - 1)
			check(store_tx_commit(st), "commit");
	}
	r->insert_s = (double)(clock_mono_us() - t0) / 1e6;
	store_close(st);

	t0 = clock_mono_us();
	check(store_open(tmpl, plain ? NULL : "bench password", flags, &st),
	    "open");
	r->open_ms = (double)(clock_mono_us() - t0) / 1e3;
	check(store_msgs_page(st, profile, contact[3], NULL, 200, &m, &n),
	    "page");
	r->page_ms = (double)(clock_mono_us() - t0) / 1e3 - r->open_ms;
	if (n != 200)
		check(NOID_ERR_INTERNAL, "newest 200");
	store_msgs_free(m, n);

	t0 = clock_mono_us();
	for (q = 0; q < 10; q++) {
		check(store_search(st, profile, NULL,
		          q % 2 ? "zeppelin" : "thunder violet", 50, &h, &n),
		    "search");
		r->hits = n;
		free(h);
	}
	r->search_ms = (double)(clock_mono_us() - t0) / 1e3 / 10;
	store_close(st);
	nftw(tmpl, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	struct result enc, plain;
	double enc_rate, plain_rate;

	run(1, &plain);
	run(0, &enc);
	enc_rate = NMSG / enc.insert_s;
	plain_rate = NMSG / plain.insert_s;
	printf("store insert %d msgs x %d B via op log, batches of %d:\n", NMSG,
	    MSG_LEN, BATCH);
	printf("  encrypted %8.0f msg/s   plain %8.0f msg/s   ratio %.2f"
	       "   (floor 0.50)\n",
	    enc_rate, plain_rate, enc_rate / plain_rate);
	printf("store open + newest 200 of one conversation (%dk msgs):\n",
	    NMSG / 1000);
	printf("  encrypted %8.2f ms      plain %8.2f ms      ratio %.2f"
	       "   (floor <= 2.00 and < 20 ms)\n",
	    enc.open_ms + enc.page_ms, plain.open_ms + plain.page_ms,
	    (enc.open_ms + enc.page_ms) / (plain.open_ms + plain.page_ms));
	printf("  (open %.2f + read %.2f ms; plain %.2f + %.2f ms)\n",
	    enc.open_ms, enc.page_ms, plain.open_ms, plain.page_ms);
	printf("store FTS query over %dk msgs (limit 50):\n", NMSG / 1000);
	printf("  encrypted %8.2f ms      plain %8.2f ms\n", enc.search_ms,
	    plain.search_ms);
	return 0;
}
