/*
 * noid — relay-client: talking to one relay.
 *
 * Two faces over the same object:
 *
 * - event-driven, for a poll loop (the agent): relay_client_open(), then
 *   poll relay_client_fd() for relay_client_events() and call
 *   relay_client_on_readable()/on_writable(); relay_client_request()
 *   sends a command and calls back with its reply (matched by corr_id);
 *   pushed MSG/END/QCONT go to the push callback;
 *   relay_client_timeout_ms()/relay_client_on_timer() send the idle PING.
 *
 * - blocking, for the CLI and tests: relay_client_connect_blocking() and
 *   relay_client_call() wait with poll() and a deadline (no sleeps); the
 *   relay_client_<command>() helpers wrap one command each.
 *
 * Key material for queues comes from relay_queue_keys_new(); the
 * relay->recipient layer is opened with relay_msg_open() and the shared
 * key from the queue's IDS.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_RELAY_CLIENT_H
#define NOID_RELAY_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "proto.h"

/* An X25519 key pair (keep it in secret memory or wipe it). */
struct relay_keypair {
	uint8_t priv[32];
	uint8_t pub[32];
};

/* The three key pairs one queue needs. */
struct relay_queue_keys {
	struct relay_keypair rcpt_auth; /* recipient commands */
	struct relay_keypair rcpt_dh; /* relay->recipient layer */
	struct relay_keypair sender_auth; /* SEND once secured */
};

/* A created queue as the recipient knows it. */
struct relay_queue {
	uint8_t rid[NOID_ID_LEN];
	uint8_t sid[NOID_ID_LEN];
	uint8_t relay_dh_pub[NOID_KEY_LEN];
	uint8_t shared[32]; /* relay->recipient layer key */
};

/*
 * A reply or pushed transmission with its own copy of the variable
 * bytes: tx's borrowed pointers point into buf.
 */
struct relay_reply {
	struct proto_tx tx;
	uint8_t buf[NOID_MSG_ENC_MAX];
};

/* An opened MSG. */
struct relay_msg {
	uint8_t msg_id[NOID_ID_LEN];
	uint64_t ts_ms;
	uint8_t flags;
	const uint8_t *body; /* points into plain */
	size_t body_len;
	uint8_t plain[NOID_MSG_ENC_MAX];
};

struct relay_client;

/*
 * A pushed MSG/END/QCONT (corr_id 0).  tx and what it borrows are valid
 * during the call only.
 */
typedef void (*relay_client_push_cb)(
    struct relay_client *c, const struct proto_tx *tx, void *arg);

/*
 * The reply to a request: error is 0 (tx is IDS, OK, PONG or MSG) or a
 * negative noid_err (tx is the ERR, or NULL when the connection died).
 */
typedef void (*relay_client_reply_cb)(
    struct relay_client *c, int error, const struct proto_tx *tx, void *arg);

/* Fresh key pairs for a queue. */
void relay_queue_keys_new(struct relay_queue_keys *k);

/* One fresh key pair. */
void relay_keypair_new(struct relay_keypair *kp);

/*
 * Start connecting (DNS lookup, non-blocking TCP connect, msg1 queued).
 * push (may be NULL) gets pushed transmissions.  Caller frees with
 * relay_client_free().
 */
int relay_client_open(const struct relay_addr *a, relay_client_push_cb push,
    void *arg, struct relay_client **out);

/* The socket to poll, and the events to poll it for. */
int relay_client_fd(const struct relay_client *c);
short relay_client_events(const struct relay_client *c);

/*
 * Handle readiness.  Replies and pushes are dispatched from here.  A
 * negative result means the connection is dead (every pending request
 * was called back with that error); free it.
 */
int relay_client_on_readable(struct relay_client *c);
int relay_client_on_writable(struct relay_client *c);

/* Non-zero once the handshake finished. */
int relay_client_established(const struct relay_client *c);

/* The sticky error that killed the connection, or 0. */
int relay_client_error(const struct relay_client *c);

/* The relay's address this client was opened with. */
const struct relay_addr *relay_client_addr(const struct relay_client *c);

/*
 * Send a command.  tx holds tag, entity and fields (corr_id is
 * assigned here and returned in *corr_id if not NULL); auth (NULL for
 * none) signs it.  cb (may be NULL) gets the reply, or the error that
 * ends the connection first; after a non-zero return cb is never called
 * for this request.  NOID_ERR_STATE before the handshake,
 * NOID_ERR_AGAIN when output is full.
 */
int relay_client_request(struct relay_client *c, const struct proto_tx *tx,
    const struct relay_keypair *auth, relay_client_reply_cb cb, void *arg,
    uint64_t *corr_id);

/* Number of requests waiting for a reply. */
size_t relay_client_pending(const struct relay_client *c);

/*
 * Cork (on) or uncork the connection.  While corked, requests pack into
 * blocks and are encrypted but none is written; uncorking writes them.
 * The agent corks while a store commit is open.  0 or the sticky error.
 */
int relay_client_set_cork(struct relay_client *c, int on);

/*
 * Milliseconds until relay_client_on_timer() has something to do (the
 * idle PING), for the loop's poll timeout; -1 for none.
 */
int relay_client_timeout_ms(const struct relay_client *c);

/* Send the idle PING when due. */
int relay_client_on_timer(struct relay_client *c);

/* Close the connection and free (pending requests get NOID_ERR_CLOSED). */
void relay_client_free(struct relay_client *c);

/* Open a MSG's relay->recipient layer with the queue's shared key. */
int relay_msg_open(const struct proto_tx *msg, const uint8_t shared[32],
    struct relay_msg *out);

/* Copy a transmission so it outlives the block it came in. */
void relay_reply_copy(struct relay_reply *r, const struct proto_tx *tx);

/*
 * Blocking face.  Every call waits at most timeout_ms with poll();
 * NOID_ERR_TIMEOUT when the relay did not answer in time.
 */
int relay_client_connect_blocking(const struct relay_addr *a, int timeout_ms,
    relay_client_push_cb push, void *arg, struct relay_client **out);

/*
 * Send tx signed by auth (NULL: none) and wait for its reply, copied to
 * *reply (may be NULL).  Returns 0, the ERR's noid_err, or a connection
 * error.  Pushes arriving meanwhile go to the push callback.
 */
int relay_client_call(struct relay_client *c, const struct proto_tx *tx,
    const struct relay_keypair *auth, int timeout_ms,
    struct relay_reply *reply);

/* Wait up to timeout_ms for traffic and handle it; NOID_ERR_TIMEOUT if
 * nothing arrived. */
int relay_client_poll(struct relay_client *c, int timeout_ms);

/* NEW: create a queue with keys k (access_key may be NULL). */
int relay_client_create_queue(struct relay_client *c,
    const struct relay_queue_keys *k, const char *access_key, int timeout_ms,
    struct relay_queue *q);

/* KEY: secure queue rid with the sender's auth public key. */
int relay_client_secure(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    const uint8_t sender_pub[NOID_KEY_LEN], int timeout_ms);

/* SEND body to queue sid (sender_auth NULL before the queue is secured). */
int relay_client_send(struct relay_client *c,
    const struct relay_keypair *sender_auth, const uint8_t sid[NOID_ID_LEN],
    uint8_t flags, const void *body, size_t len, int timeout_ms);

/*
 * SUB, ACK, GET, OFF, DEL on queue rid with the recipient's auth key.
 * relay_client_subscribe() asks for one unacked MSG at a time;
 * relay_client_subscribe_window() for up to window (1..NOID_WINDOW_MAX)
 * in flight, pushed in order, each acked by its msg_id.
 */
int relay_client_subscribe_window(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    uint8_t window, int timeout_ms);
int relay_client_subscribe(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    int timeout_ms);
int relay_client_ack(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    const uint8_t msg_id[NOID_ID_LEN], int timeout_ms);
int relay_client_get(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    int timeout_ms, struct relay_reply *reply);
int relay_client_suspend(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    int timeout_ms);
int relay_client_delete(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    int timeout_ms);

/* PING; 0 when PONG came back. */
int relay_client_ping(struct relay_client *c, int timeout_ms);

#endif
