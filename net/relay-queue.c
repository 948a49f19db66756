/*
 * relay-queue: two chained hash tables over the same queues (by rid and
 * by sid) and a FIFO of messages per queue.  Tables double when their
 * load passes one; ids are random so SipHash with a process key is only
 * there to keep bucket choice independent of what a client sends.
 */
#include "base.h"
#include "relay-queue.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct relay_queues {
	struct relay_queue **rtab, **stab;
	size_t nbuckets; /* power of two */
	size_t count;
	size_t nmsg;
	uint64_t body_bytes;
	unsigned quota;
	uint64_t ttl_ms;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
};

/* Bucket of an id. */
static size_t
bucket(const struct relay_queues *qs, const uint8_t *id)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, id, RELAY_ID_LEN, qs->hkey);
	memcpy(&v, h, sizeof v);
	return (size_t)v & (qs->nbuckets - 1);
}

/* A new empty set. */
struct relay_queues *
relay_queue_set_new(unsigned quota, uint64_t ttl_ms)
{
	struct relay_queues *qs = xcalloc(1, sizeof *qs);

	qs->nbuckets = 1024;
	qs->rtab = xcalloc(qs->nbuckets, sizeof *qs->rtab);
	qs->stab = xcalloc(qs->nbuckets, sizeof *qs->stab);
	qs->quota = quota;
	qs->ttl_ms = ttl_ms;
	randombytes_buf(qs->hkey, sizeof qs->hkey);
	return qs;
}

/* Free one message list. */
static void
free_msgs(struct relay_msg *m)
{
	struct relay_msg *next;

	for (; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
}

/* Free the set and everything in it. */
void
relay_queue_set_free(struct relay_queues *qs)
{
	struct relay_queue *q, *next;
	size_t i;

	if (qs == NULL)
		return;
	for (i = 0; i < qs->nbuckets; i++) {
		for (q = qs->rtab[i]; q != NULL; q = next) {
			next = q->rnext;
			free_msgs(q->head);
			sodium_memzero(q, sizeof *q);
			free(q);
		}
	}
	free(qs->rtab);
	free(qs->stab);
	sodium_memzero(qs, sizeof *qs);
	free(qs);
}

size_t
relay_queue_count(const struct relay_queues *qs)
{
	return qs->count;
}

size_t
relay_queue_msg_count(const struct relay_queues *qs)
{
	return qs->nmsg;
}

uint64_t
relay_queue_body_bytes(const struct relay_queues *qs)
{
	return qs->body_bytes;
}

unsigned
relay_queue_quota(const struct relay_queues *qs)
{
	return qs->quota;
}

uint64_t
relay_queue_ttl_ms(const struct relay_queues *qs)
{
	return qs->ttl_ms;
}

/* Look a queue up by recipient id. */
struct relay_queue *
relay_queue_find_rid(struct relay_queues *qs, const uint8_t *rid)
{
	struct relay_queue *q;

	for (q = qs->rtab[bucket(qs, rid)]; q != NULL; q = q->rnext)
		if (memcmp(q->rid, rid, RELAY_ID_LEN) == 0)
			return q;
	return NULL;
}

/* Look a queue up by sender id. */
struct relay_queue *
relay_queue_find_sid(struct relay_queues *qs, const uint8_t *sid)
{
	struct relay_queue *q;

	for (q = qs->stab[bucket(qs, sid)]; q != NULL; q = q->snext)
		if (memcmp(q->sid, sid, RELAY_ID_LEN) == 0)
			return q;
	return NULL;
}

/* Double both tables and rehash. */
static void
grow(struct relay_queues *qs)
{
	struct relay_queue **ortab = qs->rtab, *q, *next;
	size_t i, on = qs->nbuckets, b;

	qs->nbuckets = on * 2;
	qs->rtab = xcalloc(qs->nbuckets, sizeof *qs->rtab);
	free(qs->stab);
	qs->stab = xcalloc(qs->nbuckets, sizeof *qs->stab);
	for (i = 0; i < on; i++) {
		for (q = ortab[i]; q != NULL; q = next) {
			next = q->rnext;
			b = bucket(qs, q->rid);
			q->rnext = qs->rtab[b];
			qs->rtab[b] = q;
			b = bucket(qs, q->sid);
			q->snext = qs->stab[b];
			qs->stab[b] = q;
		}
	}
	free(ortab);
}

/* Link a filled-in queue into both tables. */
static void
link_queue(struct relay_queues *qs, struct relay_queue *q)
{
	size_t b;

	if (qs->count + 1 > qs->nbuckets)
		grow(qs);
	b = bucket(qs, q->rid);
	q->rnext = qs->rtab[b];
	qs->rtab[b] = q;
	b = bucket(qs, q->sid);
	q->snext = qs->stab[b];
	qs->stab[b] = q;
	qs->count++;
}

/* Create a queue with fresh random ids. */
struct relay_queue *
relay_queue_create(
    struct relay_queues *qs, const uint8_t *rcpt_hash, const uint8_t *box_key)
{
	struct relay_queue *q = xcalloc(1, sizeof *q);

	/* 192 random bits: a collision is practically impossible, but
	 * checking costs nothing and keeps the tables consistent. */
	do {
		randombytes_buf(q->rid, sizeof q->rid);
		randombytes_buf(q->sid, sizeof q->sid);
	} while (relay_queue_find_rid(qs, q->rid) != NULL ||
	    relay_queue_find_sid(qs, q->sid) != NULL ||
	    relay_queue_find_rid(qs, q->sid) != NULL ||
	    relay_queue_find_sid(qs, q->rid) != NULL);
	memcpy(q->rcpt_hash, rcpt_hash, RELAY_HASH_LEN);
	memcpy(q->box_key, box_key, RELAY_KEY_LEN);
	link_queue(qs, q);
	return q;
}

/* Insert a queue with known ids. */
int
relay_queue_insert(struct relay_queues *qs, const uint8_t *rid,
    const uint8_t *sid, const uint8_t *rcpt_hash, const uint8_t *box_key,
    uint8_t flags, const uint8_t *sndr_hash, struct relay_queue **out)
{
	struct relay_queue *q;

	if (relay_queue_find_rid(qs, rid) != NULL ||
	    relay_queue_find_sid(qs, sid) != NULL)
		return NOID_ERR_EXISTS;
	q = xcalloc(1, sizeof *q);
	memcpy(q->rid, rid, RELAY_ID_LEN);
	memcpy(q->sid, sid, RELAY_ID_LEN);
	memcpy(q->rcpt_hash, rcpt_hash, RELAY_HASH_LEN);
	memcpy(q->box_key, box_key, RELAY_KEY_LEN);
	q->flags = flags & (RELAY_Q_SECURED | RELAY_Q_SUSPENDED);
	if (sndr_hash != NULL)
		memcpy(q->sndr_hash, sndr_hash, RELAY_HASH_LEN);
	else
		q->flags &= ~RELAY_Q_SECURED;
	link_queue(qs, q);
	if (out != NULL)
		*out = q;
	return 0;
}

/* Secure the queue with the sender's key hash. */
void
relay_queue_secure(struct relay_queue *q, const uint8_t *sndr_hash)
{
	memcpy(q->sndr_hash, sndr_hash, RELAY_HASH_LEN);
	q->flags |= RELAY_Q_SECURED;
}

/* Suspend the queue. */
void
relay_queue_suspend(struct relay_queue *q)
{
	q->flags |= RELAY_Q_SUSPENDED;
}

/* Unlink q from a chain given the chain's head slot and link offset. */
static void
unlink_rid(struct relay_queues *qs, struct relay_queue *q)
{
	struct relay_queue **pp = &qs->rtab[bucket(qs, q->rid)];

	while (*pp != q)
		pp = &(*pp)->rnext;
	*pp = q->rnext;
}

static void
unlink_sid(struct relay_queues *qs, struct relay_queue *q)
{
	struct relay_queue **pp = &qs->stab[bucket(qs, q->sid)];

	while (*pp != q)
		pp = &(*pp)->snext;
	*pp = q->snext;
}

/* Delete a queue and its messages. */
void
relay_queue_delete(struct relay_queues *qs, struct relay_queue *q)
{
	struct relay_msg *m;

	unlink_rid(qs, q);
	unlink_sid(qs, q);
	for (m = q->head; m != NULL; m = m->next) {
		qs->nmsg--;
		qs->body_bytes -= m->len;
	}
	free_msgs(q->head);
	qs->count--;
	sodium_memzero(q, sizeof *q);
	free(q);
}

/* True when the queue holds its quota of messages. */
bool
relay_queue_full(const struct relay_queues *qs, const struct relay_queue *q)
{
	return q->nmsg >= qs->quota;
}

/* Append a message. */
int
relay_queue_msg_add(struct relay_queues *qs, struct relay_queue *q,
    const uint8_t *id, uint64_t ts_ms, uint8_t flags, const void *body,
    size_t len, struct relay_msg **out)
{
	struct relay_msg *m;

	if (len > UINT16_MAX)
		return NOID_ERR_TOOBIG;
	m = xmalloc(sizeof *m + len);
	m->next = NULL;
	if (id != NULL)
		memcpy(m->id, id, RELAY_ID_LEN);
	else
		randombytes_buf(m->id, RELAY_ID_LEN);
	m->ts_ms = ts_ms;
	m->flags = flags;
	m->len = (uint16_t)len;
	memcpy(m->body, body, len);
	if (q->tail != NULL)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->nmsg++;
	qs->nmsg++;
	qs->body_bytes += len;
	if (out != NULL)
		*out = m;
	return 0;
}

/* Unlink and free m, the pos-th message (*pp points at it, prev is
 * the one before or NULL), keeping the delivered count right. */
static void
unlink_msg(struct relay_queues *qs, struct relay_queue *q,
    struct relay_msg **pp, struct relay_msg *prev, size_t pos)
{
	struct relay_msg *m = *pp;

	*pp = m->next;
	if (q->tail == m)
		q->tail = prev;
	if (pos < q->ndeliv)
		q->ndeliv--;
	q->nmsg--;
	qs->nmsg--;
	qs->body_bytes -= m->len;
	free(m);
}

/* Unlink and free the head message. */
static void
drop_head(struct relay_queues *qs, struct relay_queue *q)
{
	unlink_msg(qs, q, &q->head, NULL, 0);
}

/* Drop expired head messages, then return the head. */
struct relay_msg *
relay_queue_msg_head(struct relay_queues *qs, struct relay_queue *q,
    uint64_t now_ms, relay_expire_cb cb, void *ctx)
{
	while (q->head != NULL && q->head->ts_ms + qs->ttl_ms <= now_ms) {
		if (cb != NULL)
			cb(ctx, q, q->head);
		drop_head(qs, q);
	}
	return q->head;
}

/* The first message not yet pushed. */
struct relay_msg *
relay_queue_msg_next(struct relay_queue *q)
{
	struct relay_msg *m = q->head;
	size_t i;

	for (i = 0; i < q->ndeliv && m != NULL; i++)
		m = m->next;
	return m;
}

/* Delete a delivered message (or the head) by id. */
int
relay_queue_msg_ack(
    struct relay_queues *qs, struct relay_queue *q, const uint8_t *id)
{
	struct relay_msg **pp = &q->head, *m, *prev = NULL;
	size_t pos, n = q->ndeliv != 0 ? q->ndeliv : 1;

	for (pos = 0; pos < n && (m = *pp) != NULL; pos++) {
		if (sodium_memcmp(m->id, id, RELAY_ID_LEN) == 0) {
			unlink_msg(qs, q, pp, prev, pos);
			return 0;
		}
		prev = m;
		pp = &m->next;
	}
	return NOID_ERR_NOENT;
}

/* Delete the message with this id wherever it is. */
int
relay_queue_msg_del(
    struct relay_queues *qs, struct relay_queue *q, const uint8_t *id)
{
	struct relay_msg **pp, *m, *prev = NULL;
	size_t pos = 0;

	for (pp = &q->head; (m = *pp) != NULL; prev = m, pp = &m->next) {
		if (memcmp(m->id, id, RELAY_ID_LEN) == 0) {
			unlink_msg(qs, q, pp, prev, pos);
			return 0;
		}
		pos++;
	}
	return NOID_ERR_NOENT;
}

/* Call fn for every queue. */
void
relay_queue_foreach(struct relay_queues *qs,
    void (*fn)(void *ctx, struct relay_queue *q), void *ctx)
{
	struct relay_queue *q, *next;
	size_t i;

	for (i = 0; i < qs->nbuckets; i++) {
		for (q = qs->rtab[i]; q != NULL; q = next) {
			next = q->rnext;
			fn(ctx, q);
		}
	}
}

/* Drop every expired message of every queue. */
size_t
relay_queue_expire_all(
    struct relay_queues *qs, uint64_t now_ms, relay_expire_cb cb, void *ctx)
{
	struct relay_queue *q;
	size_t i, before = qs->nmsg;

	for (i = 0; i < qs->nbuckets; i++)
		for (q = qs->rtab[i]; q != NULL; q = q->rnext)
			(void)relay_queue_msg_head(qs, q, now_ms, cb, ctx);
	return before - qs->nmsg;
}
