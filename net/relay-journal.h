/*
 * relay-journal: the relay's durable state, an append-only file.
 *
 * Every change to the queue set is a record: u32 length, u64 checksum,
 * then a type byte and its fields.  Records are buffered during one
 * event-loop pass and written as one batch (one write) at its end.
 * Batches are made durable by an fdatasync that runs asynchronously
 * (Linux AIO, signalled on an eventfd) while the loop goes on; one is
 * in flight at a time and covers every batch written before it
 * started (pipelined group commit).  The server holds each answer that
 * reports a change until the batch holding it is durable.  Recovery replays
 * the file into a queue set and truncates a torn tail; damage before
 * the end stops the start unless salvaged.  When
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
	uint64_t dropped_bytes; /* torn tail cut off */
	uint64_t damage_at; /* first damaged record's offset, 0: none */
	uint64_t resume_at; /* where intact records start again after it */
	uint64_t skipped_bytes; /* salvage: damaged bytes left out */
	char moved_to[64]; /* salvage: the damaged file's name in DIR */
};

/*
 * Open (or create) DIR/journal, lock the directory against a second
 * relay (NOID_ERR_LOCKED), replay the file into qs (which must be
 * empty), and compact it when worthwhile.  fsync false skips the
 * fdatasync calls.  compact_min: smallest file size worth compacting.
 *
 * A bad record at the end (one whose end reaches the end of the file,
 * or with nothing intact after it) is a tail torn by a crash: it is cut
 * off (info->dropped_bytes).  A bad record with intact records after it
 * is damage: NOID_ERR_CORRUPT with info->damage_at and resume_at set,
 * and the file is left as it is (see relay_journal_salvage).
 */
int relay_journal_open(const char *dir, bool fsync, uint64_t compact_min,
    struct relay_queues *qs, struct relay_journal **out,
    struct relay_journal_info *info);

/*
 * relay_journal_open that gets past damage: every intact record is
 * kept, skipping each damaged stretch to the next intact record
 * (info->skipped_bytes); the damaged file stays as DIR/info->moved_to
 * and the journal is rewritten from what was kept.  Without damage it
 * is relay_journal_open.
 */
int relay_journal_salvage(const char *dir, bool fsync, uint64_t compact_min,
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

/* Write the buffered records as the next batch (no sync). */
int relay_journal_write(struct relay_journal *j);

/*
 * The batch that will hold every record buffered so far (the last one
 * written when nothing is buffered).  Batches are numbered from 1.
 */
uint64_t relay_journal_batch(const struct relay_journal *j);

/* The last batch known to be on disk (every earlier one is too). */
uint64_t relay_journal_durable(const struct relay_journal *j);

/*
 * Start an fdatasync of every batch written, unless one is in flight
 * (call again once it ends).  Where async syncs are unsupported it runs
 * inline and relay_journal_durable moves on before this returns.
 */
int relay_journal_sync(struct relay_journal *j);

/* The fd that becomes readable when an async sync ends (-1: syncs
 * are inline); then call relay_journal_on_event. */
int relay_journal_event_fd(const struct relay_journal *j);

/* Note the end of the async sync, if it has ended.  NOID_ERR_IO when
 * it failed: nothing written since the last success is durable. */
int relay_journal_on_event(struct relay_journal *j);

/* Write the buffered records and wait until everything written is
 * durable (blocking). */
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
