/*
 * relay-journal: the relay's durable state, an append-only file.
 *
 * Every change to the queue set is a record: u32 length, u64 checksum,
 * then a type byte and its fields.  Records are buffered during one
 * event-loop pass and written with one fdatasync by relay_journal_commit
 * (group commit); the server answers only after that.  Recovery replays
 * the file into a queue set and truncates a torn or damaged tail.  When
 * the file grows past twice the live data it is rewritten as a snapshot
 * (new file, fsync, rename, fsync of the directory).
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_RELAY_JOURNAL_H
#define NOID_RELAY_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay-queue.h"

struct relay_journal;

/* What recovery found, for the start-up line. */
struct relay_journal_info {
	size_t queues;
	size_t messages;
	uint64_t dropped_bytes; /* torn or damaged tail cut off */
};

/*
 * Open (or create) DIR/journal, lock the directory against a second
 * relay (NOID_ERR_LOCKED), replay the file into qs (which must be
 * empty), and compact it when worthwhile.  fsync false skips the
 * fdatasync calls.  compact_min: smallest file size worth compacting.
 */
int relay_journal_open(const char *dir, bool fsync, uint64_t compact_min,
    struct relay_queues *qs, struct relay_journal **out,
    struct relay_journal_info *info);

/* Commit what is pending, then close and unlock. NULL is a no-op. */
int relay_journal_close(struct relay_journal *j);

/* Buffer one record for the next commit. */
void relay_journal_queue_new(
    struct relay_journal *j, const struct relay_queue *q);
void relay_journal_queue_key(
    struct relay_journal *j, const struct relay_queue *q);
void relay_journal_queue_off(
    struct relay_journal *j, const struct relay_queue *q);
void relay_journal_queue_del(
    struct relay_journal *j, const struct relay_queue *q);
void relay_journal_msg_add(struct relay_journal *j, const struct relay_queue *q,
    const struct relay_msg *m);
void relay_journal_msg_del(struct relay_journal *j, const struct relay_queue *q,
    const uint8_t *msg_id);

/* True when records wait for a commit. */
bool relay_journal_pending(const struct relay_journal *j);

/* Write the buffered records and fdatasync them. */
int relay_journal_commit(struct relay_journal *j);

/*
 * Rewrite the journal as a snapshot of qs if it has grown past twice
 * the live data (and past compact_min).  Commits first.
 */
int relay_journal_maybe_compact(
    struct relay_journal *j, struct relay_queues *qs);

/* Rewrite the journal as a snapshot of qs now. */
int relay_journal_compact(struct relay_journal *j, struct relay_queues *qs);

/* Current file size in bytes. */
uint64_t relay_journal_size(const struct relay_journal *j);

#endif
