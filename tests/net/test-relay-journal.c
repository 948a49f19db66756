/*
 * Tests for net/relay-journal.c and net/relay-queue.c: replay, torn
 * tails, compaction, locking, quota and ack rules.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "proto.h"
#include "relay-journal.h"
#include "relay-queue.h"

static char dir[64];

static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/noid-journal-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void
teardown(void)
{
	char *cmd;

	xasprintf(&cmd, "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(cmd);
}

TestSuite(relay_journal, .init = setup, .fini = teardown);

static const uint8_t h1[32] = {1}, h2[32] = {2}, key[32] = {3};

/* Open a fresh set and journal on dir. */
static struct relay_journal *
open_j(struct relay_queues **qs, uint64_t compact_min,
    struct relay_journal_info *info)
{
	struct relay_journal *j;

	*qs = relay_queue_set_new(8, 3600 * 1000);
	cr_assert_eq(
	    relay_journal_open(dir, false, compact_min, *qs, &j, info), 0);
	return j;
}

/* The journal's size on disk. */
static off_t
jsize(void)
{
	struct stat st;
	char *p = path_join(dir, "journal");

	cr_assert_eq(stat(p, &st), 0);
	free(p);
	return st.st_size;
}

Test(relay_journal, replay_restores_queues_keys_and_messages)
{
	struct relay_queues *qs;
	struct relay_journal *j;
	struct relay_journal_info info;
	struct relay_queue *q, *q2;
	struct relay_msg *m;
	uint8_t rid[24], sid[24], gone[24], first_id[24];

	j = open_j(&qs, 1ull << 40, &info);
	q = relay_queue_create(qs, h1, key);
	relay_journal_queue_new(j, q);
	relay_queue_secure(q, h2);
	relay_journal_queue_key(j, q);
	cr_assert_eq(
	    relay_queue_msg_add(qs, q, NULL, clock_wall_ms(), 1, "one", 3, &m),
	    0);
	memcpy(first_id, m->id, 24);
	relay_journal_msg_add(j, q, m);
	cr_assert_eq(
	    relay_queue_msg_add(qs, q, NULL, clock_wall_ms(), 0, "two", 3, &m),
	    0);
	relay_journal_msg_add(j, q, m);
	cr_assert_eq(relay_queue_msg_ack(qs, q, first_id), 0);
	relay_journal_msg_del(j, q, first_id);
	memcpy(rid, q->rid, 24);
	memcpy(sid, q->sid, 24);
	q2 = relay_queue_create(qs, h1, key);
	memcpy(gone, q2->rid, 24);
	relay_journal_queue_new(j, q2);
	relay_journal_queue_del(j, q2);
	relay_queue_delete(qs, q2);
	cr_assert_eq(relay_journal_close(j), 0);
	relay_queue_set_free(qs);

	j = open_j(&qs, 1ull << 40, &info);
	cr_assert_eq(info.queues, 1);
	cr_assert_eq(info.messages, 1);
	cr_assert_eq(info.dropped_bytes, 0);
	q = relay_queue_find_rid(qs, rid);
	cr_assert_not_null(q);
	cr_assert_eq(relay_queue_find_sid(qs, sid), q);
	cr_assert_null(relay_queue_find_rid(qs, gone));
	cr_assert(q->flags & RELAY_Q_SECURED);
	cr_assert_eq(memcmp(q->sndr_hash, h2, 32), 0);
	cr_assert_eq(memcmp(q->box_key, key, 32), 0);
	m = relay_queue_msg_head(qs, q, clock_wall_ms(), NULL, NULL);
	cr_assert_not_null(m);
	cr_assert_eq(m->len, 3);
	cr_assert_eq(memcmp(m->body, "two", 3), 0);
	relay_journal_close(j);
	relay_queue_set_free(qs);
}

Test(relay_journal, torn_tail_is_cut_at_every_offset)
{
	struct relay_queues *qs;
	struct relay_journal *j;
	struct relay_journal_info info;
	struct relay_queue *q;
	struct relay_msg *m;
	off_t full, good, cut;
	char *p = path_join(dir, "journal");

	j = open_j(&qs, 1ull << 40, &info);
	q = relay_queue_create(qs, h1, key);
	relay_journal_queue_new(j, q);
	cr_assert_eq(relay_journal_commit(j), 0);
	good = jsize();
	cr_assert_eq(relay_queue_msg_add(qs, q, NULL, clock_wall_ms(), 0,
	                 "torn message", 12, &m),
	    0);
	relay_journal_msg_add(j, q, m);
	relay_journal_close(j);
	relay_queue_set_free(qs);
	full = jsize();

	/* Any cut inside the last record loses only that record. */
	for (cut = full - 1; cut >= good; cut--) {
		cr_assert_eq(truncate(p, cut), 0);
		j = open_j(&qs, 1ull << 40, &info);
		cr_assert_eq(info.queues, 1, "cut at %ld", (long)cut);
		cr_assert_eq(info.messages, 0);
		cr_assert_eq(info.dropped_bytes, (uint64_t)(cut - good));
		cr_assert_eq(jsize(), good);
		relay_journal_close(j);
		relay_queue_set_free(qs);
	}
	free(p);
}

Test(relay_journal, damaged_record_stops_replay_there)
{
	struct relay_queues *qs;
	struct relay_journal *j;
	struct relay_journal_info info;
	struct relay_queue *q;
	struct relay_msg *m;
	char *p = path_join(dir, "journal");
	off_t good;
	int fd;
	uint8_t byte;

	j = open_j(&qs, 1ull << 40, &info);
	q = relay_queue_create(qs, h1, key);
	relay_journal_queue_new(j, q);
	cr_assert_eq(relay_journal_commit(j), 0);
	good = jsize();
	cr_assert_eq(relay_queue_msg_add(
	                 qs, q, NULL, clock_wall_ms(), 0, "flip me", 7, &m),
	    0);
	relay_journal_msg_add(j, q, m);
	relay_journal_close(j);
	relay_queue_set_free(qs);

	/* Flip one body bit: the checksum catches it. */
	fd = open(p, O_RDWR);
	cr_assert_eq(pread(fd, &byte, 1, jsize() - 2), 1);
	byte ^= 0x10;
	cr_assert_eq(pwrite(fd, &byte, 1, jsize() - 2), 1);
	close(fd);
	j = open_j(&qs, 1ull << 40, &info);
	cr_assert_eq(info.messages, 0);
	cr_assert_eq(jsize(), good);
	relay_journal_close(j);
	relay_queue_set_free(qs);
	free(p);
}

/* Journal a queue and three messages, one commit each; offs[i] is
 * where record i starts (0: the queue) and offs[4] the end. */
static void
write_three(off_t offs[5])
{
	struct relay_queues *qs;
	struct relay_journal *j;
	struct relay_journal_info info;
	struct relay_queue *q;
	struct relay_msg *m;
	int i;

	j = open_j(&qs, 1ull << 40, &info);
	offs[0] = jsize();
	q = relay_queue_create(qs, h1, key);
	relay_journal_queue_new(j, q);
	cr_assert_eq(relay_journal_commit(j), 0);
	for (i = 1; i <= 3; i++) {
		offs[i] = jsize();
		cr_assert_eq(relay_queue_msg_add(qs, q, NULL, clock_wall_ms(),
		                 0, "message", 7, &m),
		    0);
		relay_journal_msg_add(j, q, m);
		cr_assert_eq(relay_journal_commit(j), 0);
	}
	offs[4] = jsize();
	relay_journal_close(j);
	relay_queue_set_free(qs);
}

/* XOR one byte of the journal at off. */
static void
flip(off_t off, uint8_t mask)
{
	char *p = path_join(dir, "journal");
	uint8_t byte;
	int fd = open(p, O_RDWR);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &byte, 1, off), 1);
	byte ^= mask;
	cr_assert_eq(pwrite(fd, &byte, 1, off), 1);
	close(fd);
	free(p);
}

Test(relay_journal, damage_in_the_middle_refuses_to_start)
{
	struct relay_queues *qs = relay_queue_set_new(8, 3600 * 1000);
	struct relay_journal *j = NULL;
	struct relay_journal_info info;
	off_t offs[5];

	/* A bit flipped in the second message's body: the third message
	 * (acknowledged with OK once) must not be cut off silently. */
	write_three(offs);
	flip(offs[3] - 2, 0x10);
	cr_assert_eq(relay_journal_open(dir, false, 1ull << 40, qs, &j, &info),
	    NOID_ERR_CORRUPT);
	cr_assert_null(j);
	cr_assert_eq(info.damage_at, (uint64_t)offs[2]);
	cr_assert_eq(info.resume_at, (uint64_t)offs[3]);
	cr_assert_eq(jsize(), offs[4], "the damaged journal was changed");
	relay_queue_set_free(qs);
}

/* Salvage after damage: the two intact messages are kept, the damaged
 * file is kept aside, and the rewritten journal opens cleanly. */
static void
salvage_keeps_the_rest(off_t offs[5], uint64_t skipped)
{
	struct relay_queues *qs = relay_queue_set_new(8, 3600 * 1000);
	struct relay_journal *j = NULL;
	struct relay_journal_info info;
	struct stat st;
	char *aside;

	cr_assert_eq(
	    relay_journal_salvage(dir, false, 1ull << 40, qs, &j, &info), 0);
	cr_assert_eq(info.queues, 1);
	cr_assert_eq(info.messages, 2);
	cr_assert_eq(info.damage_at, (uint64_t)offs[2]);
	cr_assert_eq(info.skipped_bytes, skipped);
	aside = path_join(dir, info.moved_to);
	cr_assert_eq(stat(aside, &st), 0, "no %s", info.moved_to);
	cr_assert_eq(st.st_size, offs[4]);
	free(aside);
	relay_journal_close(j);
	relay_queue_set_free(qs);

	/* The rewritten journal is sound; salvaging it changes nothing. */
	j = open_j(&qs, 1ull << 40, &info);
	cr_assert_eq(info.messages, 2);
	cr_assert_eq(info.damage_at, 0);
	relay_journal_close(j);
	relay_queue_set_free(qs);
	qs = relay_queue_set_new(8, 3600 * 1000);
	cr_assert_eq(
	    relay_journal_salvage(dir, false, 1ull << 40, qs, &j, &info), 0);
	cr_assert_eq(info.messages, 2);
	cr_assert_eq(info.damage_at, 0);
	cr_assert_str_empty(info.moved_to);
	relay_journal_close(j);
	relay_queue_set_free(qs);
}

Test(relay_journal, salvage_resumes_after_a_damaged_body)
{
	off_t offs[5];

	write_three(offs);
	flip(offs[3] - 2, 0x10);
	salvage_keeps_the_rest(offs, (uint64_t)(offs[3] - offs[2]));
}

Test(relay_journal, salvage_resyncs_after_a_damaged_length)
{
	off_t offs[5];

	/* The length field itself is hit: the next record has to be
	 * found by scanning. */
	write_three(offs);
	flip(offs[2] + 2, 0x40);
	salvage_keeps_the_rest(offs, (uint64_t)(offs[3] - offs[2]));
}

Test(relay_journal, impossible_records_are_damage)
{
	static uint8_t big[NOID_MSG_MAX + 1];
	static const struct {
		size_t len;
		uint8_t flags;
	} bad[] = {{0, 0}, {NOID_MSG_MAX + 1, 0}, {5, 0x80}};
	struct relay_queues *qs;
	struct relay_journal *j;
	struct relay_journal_info info;
	struct relay_queue *q;
	struct relay_msg *m;
	uint8_t rid[RELAY_ID_LEN];
	off_t good;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* Records SEND could never have made, with good checksums
		 * (relay_queue_msg_add takes up to 65535 bytes). */
		teardown();
		setup();
		j = open_j(&qs, 1ull << 40, &info);
		q = relay_queue_create(qs, h1, key);
		relay_journal_queue_new(j, q);
		cr_assert_eq(relay_journal_commit(j), 0);
		good = jsize();
		memcpy(rid, q->rid, sizeof rid);
		cr_assert_eq(relay_queue_msg_add(qs, q, NULL, clock_wall_ms(),
		                 bad[i].flags, big, bad[i].len, &m),
		    0);
		relay_journal_msg_add(j, q, m);
		relay_journal_close(j);
		relay_queue_set_free(qs);

		/* At the end: cut off like a torn tail. */
		j = open_j(&qs, 1ull << 40, &info);
		cr_assert_eq(info.messages, 0, "case %zu was replayed", i);
		cr_assert_eq(jsize(), good);
		/* Before an intact record: damage, refused. */
		cr_assert_not_null(q = relay_queue_find_rid(qs, rid));
		cr_assert_eq(relay_queue_msg_add(qs, q, NULL, clock_wall_ms(),
		                 bad[i].flags, big, bad[i].len, &m),
		    0);
		relay_journal_msg_add(j, q, m);
		cr_assert_eq(relay_queue_msg_add(
		                 qs, q, NULL, clock_wall_ms(), 0, "ok", 2, &m),
		    0);
		relay_journal_msg_add(j, q, m);
		relay_journal_close(j);
		relay_queue_set_free(qs);
		qs = relay_queue_set_new(8, 3600 * 1000);
		j = NULL;
		cr_assert_eq(
		    relay_journal_open(dir, false, 1ull << 40, qs, &j, &info),
		    NOID_ERR_CORRUPT, "case %zu", i);
		cr_assert_eq(info.damage_at, (uint64_t)good);
		relay_queue_set_free(qs);
	}
}

Test(relay_journal, compaction_keeps_live_data_only)
{
	struct relay_queues *qs;
	struct relay_journal *j;
	struct relay_journal_info info;
	struct relay_queue *q;
	struct relay_msg *m;
	uint8_t body[1000] = {7}, rid[24];
	off_t before;
	int i;

	j = open_j(&qs, 64 * 1024, &info);
	q = relay_queue_create(qs, h1, key);
	memcpy(rid, q->rid, 24);
	relay_journal_queue_new(j, q);
	for (i = 0; i < 200; i++) {
		cr_assert_eq(relay_queue_msg_add(qs, q, NULL, clock_wall_ms(),
		                 0, body, sizeof body, &m),
		    0);
		relay_journal_msg_add(j, q, m);
		if (i < 199) {
			uint8_t id[24];

			memcpy(id, m->id, 24);
			cr_assert_eq(relay_queue_msg_ack(qs, q, id), 0);
			relay_journal_msg_del(j, q, id);
		}
	}
	cr_assert_eq(relay_journal_commit(j), 0);
	before = jsize();
	cr_assert_gt(before, 200 * 1000);
	cr_assert_eq(relay_journal_maybe_compact(j, qs), 0);
	cr_assert_lt(jsize(), 2000, "journal still %ld bytes", (long)jsize());
	/* Appending after compaction goes to the new file. */
	relay_queue_secure(q, h2);
	relay_journal_queue_key(j, q);
	relay_journal_close(j);
	relay_queue_set_free(qs);

	j = open_j(&qs, 64 * 1024, &info);
	cr_assert_eq(info.messages, 1);
	q = relay_queue_find_rid(qs, rid);
	cr_assert_not_null(q);
	cr_assert(q->flags & RELAY_Q_SECURED);
	relay_journal_close(j);
	relay_queue_set_free(qs);
}

Test(relay_journal, second_open_is_locked_out)
{
	struct relay_queues *qs, *qs2;
	struct relay_journal *j, *j2 = NULL;
	struct relay_journal_info info;

	j = open_j(&qs, 1ull << 40, &info);
	qs2 = relay_queue_set_new(8, 1000);
	cr_assert_eq(
	    relay_journal_open(dir, false, 1ull << 40, qs2, &j2, &info),
	    NOID_ERR_LOCKED);
	cr_assert_null(j2);
	relay_journal_close(j);
	relay_queue_set_free(qs);
	relay_queue_set_free(qs2);
}

Test(relay_journal, foreign_file_is_refused_not_overwritten)
{
	struct relay_queues *qs = relay_queue_set_new(8, 1000);
	struct relay_journal *j = NULL;
	struct relay_journal_info info;
	char *p = path_join(dir, "journal");

	cr_assert_eq(file_write_atomic(p, "SQLite format 3", 15, 0600), 0);
	cr_assert_eq(
	    relay_journal_open(dir, false, 0, qs, &j, &info), NOID_ERR_CORRUPT);
	cr_assert_eq(jsize(), 15);
	relay_queue_set_free(qs);
	free(p);
}

Test(relay_queue, ack_needs_the_head_id_and_expiry_drops_old)
{
	struct relay_queues *qs = relay_queue_set_new(3, 1000);
	struct relay_queue *q = relay_queue_create(qs, h1, key);
	struct relay_msg *m;
	uint8_t a[24], b[24];

	cr_assert_eq(relay_queue_msg_add(qs, q, NULL, 100, 0, "a", 1, &m), 0);
	memcpy(a, m->id, 24);
	cr_assert_eq(relay_queue_msg_add(qs, q, NULL, 5000, 0, "b", 1, &m), 0);
	memcpy(b, m->id, 24);
	cr_assert_eq(relay_queue_msg_ack(qs, q, b), NOID_ERR_NOENT);
	cr_assert_eq(relay_queue_msg_count(qs), 2);
	cr_assert(!relay_queue_full(qs, q));
	cr_assert_eq(
	    relay_queue_msg_add(qs, q, NULL, 5000, 0, "c", 1, NULL), 0);
	cr_assert(relay_queue_full(qs, q));
	/* At t=2000 the first (t=100, ttl 1000) has expired. */
	m = relay_queue_msg_head(qs, q, 2000, NULL, NULL);
	cr_assert_eq(memcmp(m->id, b, 24), 0);
	cr_assert_eq(relay_queue_msg_ack(qs, q, a), NOID_ERR_NOENT);
	cr_assert_eq(relay_queue_msg_ack(qs, q, b), 0);
	cr_assert_eq(relay_queue_msg_count(qs), 1);
	relay_queue_set_free(qs);
}

Test(relay_queue, many_queues_found_by_both_ids)
{
	struct relay_queues *qs = relay_queue_set_new(3, 1000);
	static struct relay_queue *q[5000];
	int i;

	for (i = 0; i < 5000; i++)
		q[i] = relay_queue_create(qs, h1, key);
	for (i = 0; i < 5000; i++) {
		cr_assert_eq(relay_queue_find_rid(qs, q[i]->rid), q[i]);
		cr_assert_eq(relay_queue_find_sid(qs, q[i]->sid), q[i]);
		cr_assert_null(relay_queue_find_rid(qs, q[i]->sid));
	}
	for (i = 0; i < 5000; i += 2)
		relay_queue_delete(qs, q[i]);
	cr_assert_eq(relay_queue_count(qs), 2500);
	cr_assert_eq(relay_queue_find_sid(qs, q[1]->sid), q[1]);
	relay_queue_set_free(qs);
}
