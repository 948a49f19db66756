/*
 * relay-queue: the relay's queues and their pending messages, in memory.
 *
 * A queue is found by either of its two unlinkable random ids: the
 * recipient id (rid) or the sender id (sid).  The set keeps two hash
 * tables (SipHash with a per-process random key, so lookups cost the
 * same whatever ids a client sends).  Messages are a FIFO per queue;
 * the subscriber holds a window of delivered, unacked messages at the
 * head, and any of those (or the head) can be acknowledged.  Nothing here does
 * I/O: relay-journal makes every change durable, the server wires the
 * two together.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_RELAY_QUEUE_H
#define NOID_RELAY_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RELAY_ID_LEN 24
#define RELAY_HASH_LEN 32
#define RELAY_KEY_LEN 32
#define RELAY_QWAIT 2

/* Queue flags (persisted). */
#define RELAY_Q_SECURED 0x01
#define RELAY_Q_SUSPENDED 0x02

struct relay_msg {
	struct relay_msg *next;
	uint8_t id[RELAY_ID_LEN];
	uint64_t ts_ms; /* wall clock when accepted */
	uint8_t flags;
	uint16_t len;
	uint8_t body[];
};

/*
 * One queue.  The set owns it; fields are read-only outside
 * relay-queue.c except the subscription links (sub, sub_prev, sub_next),
 * the window, push_owed and the quota waiters, which the server
 * manages; ndeliv
 * the server raises as it pushes, relay-queue lowers as messages go.
 */
struct relay_queue {
	uint8_t rid[RELAY_ID_LEN];
	uint8_t sid[RELAY_ID_LEN];
	uint8_t rcpt_hash[RELAY_HASH_LEN];
	uint8_t sndr_hash[RELAY_HASH_LEN]; /* valid when SECURED */
	uint8_t box_key[RELAY_KEY_LEN]; /* relay->recipient layer */
	uint8_t flags;
	uint8_t window; /* subscriber's window (SUB), 0: none */
	uint8_t ndeliv; /* messages at the head pushed, acks awaited */
	uint8_t push_owed; /* a push waits for the subscriber to read */
	uint32_t nmsg;
	struct relay_msg *head, *tail;

	void *sub; /* subscribed connection (server's) */
	struct relay_queue *sub_prev, *sub_next;
	uint64_t qwait[RELAY_QWAIT]; /* connections told QUOTA, 0 = none */

	struct relay_queue *rnext, *snext; /* hash chains */
};

struct relay_queues;

/* Called for each message dropped by expiry, before it is freed. */
typedef void (*relay_expire_cb)(
    void *ctx, struct relay_queue *q, const struct relay_msg *m);

/* A new empty set; quota = messages per queue, ttl_ms = message life. */
struct relay_queues *relay_queue_set_new(unsigned quota, uint64_t ttl_ms);

/* Free the set, every queue and message (keys wiped). NULL is a no-op. */
void relay_queue_set_free(struct relay_queues *qs);

/* Counters for stats and the journal's compaction decision. */
size_t relay_queue_count(const struct relay_queues *qs);
size_t relay_queue_msg_count(const struct relay_queues *qs);
uint64_t relay_queue_body_bytes(const struct relay_queues *qs);
unsigned relay_queue_quota(const struct relay_queues *qs);
uint64_t relay_queue_ttl_ms(const struct relay_queues *qs);

/* Look a queue up by recipient or sender id; NULL when absent. */
struct relay_queue *relay_queue_find_rid(
    struct relay_queues *qs, const uint8_t *rid);
struct relay_queue *relay_queue_find_sid(
    struct relay_queues *qs, const uint8_t *sid);

/* Create a queue with fresh random ids. */
struct relay_queue *relay_queue_create(
    struct relay_queues *qs, const uint8_t *rcpt_hash, const uint8_t *box_key);

/*
 * Insert a queue with known ids (journal replay).  sndr_hash may be
 * NULL.  NOID_ERR_EXISTS when either id is taken.
 */
int relay_queue_insert(struct relay_queues *qs, const uint8_t *rid,
    const uint8_t *sid, const uint8_t *rcpt_hash, const uint8_t *box_key,
    uint8_t flags, const uint8_t *sndr_hash, struct relay_queue **out);

/* Secure the queue with the sender's key hash. */
void relay_queue_secure(struct relay_queue *q, const uint8_t *sndr_hash);

/* Suspend: senders are refused, pending messages stay readable. */
void relay_queue_suspend(struct relay_queue *q);

/*
 * Delete a queue and its messages.  The caller has detached any
 * subscriber first.
 */
void relay_queue_delete(struct relay_queues *qs, struct relay_queue *q);

/* True when the queue holds its quota of messages. */
bool relay_queue_full(
    const struct relay_queues *qs, const struct relay_queue *q);

/*
 * Append a message (no quota check: replay must restore everything the
 * relay once accepted).  id NULL draws a fresh random id.
 * NOID_ERR_TOOBIG past 65535 bytes.
 */
int relay_queue_msg_add(struct relay_queues *qs, struct relay_queue *q,
    const uint8_t *id, uint64_t ts_ms, uint8_t flags, const void *body,
    size_t len, struct relay_msg **out);

/*
 * Drop expired messages from the head (calling cb for each), then return
 * the head, or NULL when the queue is empty.
 */
struct relay_msg *relay_queue_msg_head(struct relay_queues *qs,
    struct relay_queue *q, uint64_t now_ms, relay_expire_cb cb, void *ctx);

/*
 * The first message not yet pushed (past the ndeliv at the head), or
 * NULL.  Costs ndeliv steps.
 */
struct relay_msg *relay_queue_msg_next(struct relay_queue *q);

/*
 * Delete the message with this id if it is one of the ndeliv delivered
 * ones (or the head, which GET hands out); NOID_ERR_NOENT otherwise,
 * deleting nothing.
 */
int relay_queue_msg_ack(
    struct relay_queues *qs, struct relay_queue *q, const uint8_t *id);

/* Delete the message with this id wherever it is (journal replay). */
int relay_queue_msg_del(
    struct relay_queues *qs, struct relay_queue *q, const uint8_t *id);

/* Call fn for every queue (safe against deleting the current one). */
void relay_queue_foreach(struct relay_queues *qs,
    void (*fn)(void *ctx, struct relay_queue *q), void *ctx);

/* Drop every expired message of every queue; returns how many. */
size_t relay_queue_expire_all(
    struct relay_queues *qs, uint64_t now_ms, relay_expire_cb cb, void *ctx);

#endif
