/*
 * relay-server-int: what relay-server.c (the loop, connections, I/O) and
 * relay-server-cmd.c (the commands) share.  Not for anyone else.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_RELAY_SERVER_INT_H
#define NOID_RELAY_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base.h"
#include "proto.h"
#include "relay-server.h"
#include "transport.h"

/* Cached authenticator keys per connection, grown up to this many. */
#define RS_KCACHE_MAX 64

struct rs_kcache {
	uint8_t pub[NOID_KEY_LEN];
	uint8_t k[32];
};

/* Replies held in rs_conn.held up to end until batch is durable. */
struct rs_hold {
	size_t end;
	uint64_t batch;
};

/* Intrusive doubly linked list. */
struct rs_link {
	struct rs_link *prev, *next;
};

enum rs_conn_state {
	RS_HANDSHAKE, /* on the handshake timeline */
	RS_OPEN, /* on the idle timeline */
	RS_CLOSING /* flush what is queued, then close */
};

struct rs_conn {
	struct transport *t;
	int fd;
	uint32_t serial;
	enum rs_conn_state state;
	uint32_t events; /* epoll interest now */
	uint64_t deadline_base; /* ms: accept time or last frame */
	struct rs_link timeline;
	struct rs_link dirty; /* output added this pass */
	struct rs_link ready; /* input left unread this pass */
	struct rs_link waiting; /* has replies held for the journal */
	bool refused;
	bool paused; /* not reading: too much output pending */

	struct buf out; /* u16 len | transmission, free to go now */
	struct buf held; /* replies that wait for the journal */
	struct rs_hold *hold; /* where held's batches end, oldest first */
	size_t nhold, hold_cap;
	struct rs_kcache *kc; /* lazily allocated */
	uint8_t nkc, kc_cap, kc_next;

	/* Authenticator keys derived on a cache miss cost a DH each: a
	 * budget refilled at RS_KD_RATE a second; once overspent the
	 * relay stops reading c until the debt is paid (throttled). */
	int32_t kd_tokens;
	uint64_t kd_at; /* ms of the last refill */
	uint64_t throttle_until; /* ms */
	bool throttled;
	struct rs_link throttle; /* on the server's throttled list */

	struct relay_queue *subs; /* queues this connection subscribes */
	size_t nowed; /* of them, with a push waiting (push_owed) */
	uint64_t nnew; /* queues this connection created */
	size_t buffered; /* out + held + transport, as last counted */
};

struct relay_server {
	const struct relay_config *cfg;
	const uint8_t *priv, *pub;
	struct relay_queues *qs;
	struct relay_journal *j;

	int ep;
	int sigpipe[2];
	int lfd[RELAY_LISTEN_MAX];
	size_t nlisten;
	bool listen_paused; /* out of fds: stop accepting for a while */

	struct rs_conn **byfd; /* connections by fd */
	size_t byfd_len;
	uint32_t next_serial;
	size_t nconns, nrefused;
	size_t buffered; /* sum of the connections' buffered */

	struct rs_link hs_line; /* handshaking, oldest first */
	struct rs_link idle_line; /* open, least recently active first */
	struct rs_link dirty;
	struct rs_link ready;
	struct rs_link closing;
	struct rs_link waiting; /* connections with held replies */
	struct rs_link throttled; /* connections not read for a while */
	int jfd; /* the journal's sync event fd, -1: none */

	uint64_t next_sweep_ms; /* wall clock: expire messages */
	bool stop;
	bool failed;

	struct relay_server_stats st;
	uint8_t dummy_hash[32]; /* compared against when a queue is absent */
	uint8_t scratch[NOID_BLOCK_PLAIN];
	struct proto_block blk;
};

/* List helpers. */
void rs_list_init(struct rs_link *l);
bool rs_list_empty(const struct rs_link *l);
bool rs_list_linked(const struct rs_link *n);
void rs_list_add_tail(struct rs_link *l, struct rs_link *n);
void rs_list_del(struct rs_link *n);

/*
 * Queue a reply on c.  A durable reply (one that reports a change: IDS,
 * OK to KEY, SEND, ACK, OFF, DEL) waits until every journal record made
 * so far is on disk; nothing is said OK before it is durable.  Any
 * other reply waits only behind c's earlier replies (they keep order).
 */
void rs_conn_reply(struct relay_server *s, struct rs_conn *c,
    const struct proto_tx *tx, bool durable);

/* Queue a push (MSG, END, QCONT with corr_id 0) on c: it may leave
 * before the commit. */
void rs_conn_push(
    struct relay_server *s, struct rs_conn *c, const struct proto_tx *tx);

/* Mark c for closing once its output is written. */
void rs_conn_close_later(struct relay_server *s, struct rs_conn *c);

/* Find a live connection from a quota-waiter token. */
struct rs_conn *rs_conn_from_token(struct relay_server *s, uint64_t token);
uint64_t rs_conn_token(const struct rs_conn *c);

/* Run every transmission of one received block. */
void rs_cmd_block(
    struct relay_server *s, struct rs_conn *c, const uint8_t *block);

/* Answer ERR SESSION and close c after it is written. */
void rs_cmd_session_error(struct relay_server *s, struct rs_conn *c);

/* Forget c's subscriptions (it is closing). */
void rs_cmd_conn_gone(struct relay_server *s, struct rs_conn *c);

/* Expiry callback for relay_queue_msg_head (journals the deletion). */
void rs_cmd_expired(
    void *ctx, struct relay_queue *q, const struct relay_msg *m);

/*
 * Push q's next messages to its subscriber while its window has room
 * and the subscriber is reading: past RS_PAUSE_BYTES of unsent output
 * the push is owed (q->push_owed) and made by rs_cmd_push_owed once
 * the output drains, so subscribing to many full queues at once costs
 * bounded memory instead of a drop for a slow reader.
 */
void rs_cmd_push(struct relay_server *s, struct relay_queue *q);

/* Make the pushes c is owed while its output stays under the mark. */
void rs_cmd_push_owed(struct relay_server *s, struct rs_conn *c);

/* Whether c has RS_PAUSE_BYTES or more of output not yet packed. */
bool rs_conn_backlogged(const struct rs_conn *c);

/* Charge c one authenticator key derivation (see kd_tokens). */
void rs_conn_kd_spend(struct rs_conn *c);

#endif
