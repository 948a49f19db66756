/*
 * relayfix: wire-level test client for noid-relay.  Relay processes come
 * from testrelay (one spawner for every test); relayfix talks to them
 * through a transport that sits on a socketpair: it copies the bytes to
 * and from the TCP socket, so a test can also take the encrypted frames
 * and mangle them on the wire.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_RELAYFIX_H
#define NOID_RELAYFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base.h"
#include "proto.h"
#include "testrelay.h"
#include "transport.h"

/* A relay process: a testrelay plus what tests read from it. */
struct rf_relay {
	struct testrelay *tr;
	pid_t pid; /* 0 while stopped */
	char dir[64]; /* data dir (kept across restarts) */
	uint8_t pub[32];
	uint16_t port; /* kept across restarts */
	char addr[160];
};

/*
 * Start a relay (r zeroed) with extra arguments (NULL-terminated, may
 * be NULL), or start a stopped one again on the same data dir and port
 * (extra ignored).  0 or an error.
 */
int rf_relay_start(struct rf_relay *r, const char *const *extra);

/* Send sig and wait for the relay; returns its wait status. */
int rf_relay_stop(struct rf_relay *r, int sig);

/*
 * Stop with SIGTERM if running and remove its temp dir.  Returns the
 * relay's exit status (0 after a clean stop; non-zero for a leak under
 * ASan, whose report is copied to stderr).
 */
int rf_relay_cleanup(struct rf_relay *r);

/* A connection: transport on a socketpair, proxied to TCP. */
struct rf_conn {
	struct transport *t;
	int sp; /* our end of the socketpair */
	int tcp;
	uint8_t block[NOID_BLOCK_PLAIN]; /* last block received */
	struct proto_block_iter it;
	bool have_block;
	uint64_t next_corr;
	/* Pushes that arrived while rf_recv_corr waited for a reply (the
	 * relay may push before it replies): u16 len | transmission. */
	struct buf stash;
	size_t stash_off;
	uint8_t cur[NOID_TX_MAX]; /* the stashed push rf_recv returned */
	const uint8_t *last; /* raw bytes of the last one off the wire */
	size_t last_len;
};

/* A client auth or DH key pair. */
struct rf_key {
	uint8_t priv[32];
	uint8_t pub[32];
};

/* A queue as its creator sees it. */
struct rf_queue {
	uint8_t rid[NOID_ID_LEN];
	uint8_t sid[NOID_ID_LEN];
	struct rf_key rkey; /* recipient auth */
	struct rf_key dh; /* recipient DH for the relay layer */
	uint8_t shared[32]; /* relay->recipient box key */
	struct rf_key skey; /* sender auth (after KEY) */
};

/*
 * X25519 public keys a relay must refuse in NEW and KEY: the low-order
 * points (also in their non-canonical encodings p and p + 1), one
 * encoding at or past p = 2^255 - 19 and one with the top bit set.
 */
#define RF_BAD_KEYS 9
extern const uint8_t rf_bad_keys[RF_BAD_KEYS][32];

/* Raw TCP connection to 127.0.0.1:port (blocking), or -1. */
int rf_tcp_connect(uint16_t port);

/* Connect and handshake with the relay key pub (any key, for tests). */
int rf_connect_key(uint16_t port, const uint8_t *pub, struct rf_conn **out);
int rf_connect(const struct rf_relay *r, struct rf_conn **out);
void rf_close(struct rf_conn *c);

/* Canonical X25519 key pair for auth or DH. */
void rf_keygen(struct rf_key *k);

/*
 * Encode tx (signed by key when not NULL) into one block and send it.
 * tx->corr_id 0 gets the next corr id.
 */
int rf_send(struct rf_conn *c, struct proto_tx *tx, const struct rf_key *key);

/* Encrypt a prepared block plaintext and return its frame (no send). */
int rf_seal_block(
    struct rf_conn *c, const uint8_t *plain, uint8_t frame[NOID_BLOCK]);

/* Encode tx for c's session (signed by key when not NULL). */
int rf_encode(struct rf_conn *c, struct proto_tx *tx, const struct rf_key *key,
    uint8_t *out, size_t cap, size_t *len);

/* Seal a whole block plaintext and send it. */
int rf_send_plain(struct rf_conn *c, const uint8_t *plain);

/* A valid handshake msg1 for a relay key (fresh ephemeral key). */
int rf_msg1(const uint8_t *pub, uint8_t out[TRANSPORT_HS_MSG]);

/* Write raw bytes to the relay. */
int rf_write_raw(struct rf_conn *c, const void *p, size_t len);

/*
 * Next transmission from the relay within timeout_ms.  Borrowed fields
 * of tx stay valid until the next call.  NOID_ERR_TIMEOUT, or
 * NOID_ERR_CLOSED when the relay closed.
 */
int rf_recv(struct rf_conn *c, struct proto_tx *tx, int timeout_ms);

/* Receive until a transmission with this corr_id: other replies are
 * dropped, pushes (corr_id 0) kept for the next rf_recv. */
int rf_recv_corr(
    struct rf_conn *c, uint64_t corr, struct proto_tx *tx, int timeout_ms);

/* True when the relay closed the connection within timeout_ms. */
bool rf_wait_closed(struct rf_conn *c, int timeout_ms);

/* Command helpers: send and wait for the answer (its tag, or <0). */
int rf_cmd(struct rf_conn *c, uint8_t tag, const uint8_t *entity,
    const struct rf_key *key, struct proto_tx *reply);
int rf_new_queue(struct rf_conn *c, const char *access_key, struct rf_queue *q);
int rf_secure(struct rf_conn *c, struct rf_queue *q);
/* Fill tx as a SEND of body to q (corr_id 0: rf_send assigns one). */
void rf_send_init(struct proto_tx *tx, const struct rf_queue *q,
    const void *body, size_t len);
int rf_send_msg(struct rf_conn *c, const struct rf_queue *q, bool secured,
    const void *body, size_t len, struct proto_tx *reply);
int rf_ack(struct rf_conn *c, const struct rf_queue *q, const uint8_t *msg_id,
    struct proto_tx *reply);

/* Open a MSG into body (cap >= NOID_MSG_MAX); returns its length or <0. */
int rf_open_msg(const struct rf_queue *q, const struct proto_tx *msg,
    uint8_t *body, size_t cap);

#endif
