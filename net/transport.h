/*
 * noid — transport: one relay connection over a non-blocking socket.
 *
 * Runs the Noise NK handshake with the fixed-size messages of
 * net/PROTOCOL.md §2 (version-range negotiation, the relay's per-session
 * auth key in msg2), then moves fixed-size encrypted blocks
 * (NOID_BLOCK bytes on the wire, NOID_BLOCK_PLAIN bytes of plaintext).
 *
 * Driven by the caller's poll loop: call transport_on_readable() when
 * the fd is readable (repeatedly, until it reports TRANSPORT_EV_NONE),
 * transport_on_writable() when it is writable, and poll for POLLOUT only
 * while transport_wants_write().  Nothing here blocks or keeps timers:
 * transport_last_rx_ms() lets the loop enforce handshake and idle
 * timeouts.
 *
 * Memory: an idle established connection holds only this small struct
 * and its two cipher states.  The 16 KiB receive buffer exists only
 * while a block is partially read (or was just returned), and output
 * blocks only while queued; the output queue is bounded and
 * transport_queue_block() reports NOID_ERR_AGAIN when it is full, so one
 * slow reader never blocks the others (the relay decides when to drop).
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_TRANSPORT_H
#define NOID_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* The Noise prologue binding the protocol name and generation. */
#define TRANSPORT_PROLOGUE "noid relay v1"
/* Handshake messages: 32 (e) + 64 (payload) + 16 (tag). */
#define TRANSPORT_HS_PAYLOAD 64
#define TRANSPORT_HS_MSG 112
#define TRANSPORT_MAGIC "NOID"
/* Default bound on queued output blocks per connection. */
#define TRANSPORT_OUT_MAX_DEFAULT 8
/* Timeouts the loops enforce (PROTOCOL.md §2.5). */
#define TRANSPORT_HANDSHAKE_TIMEOUT_MS 10000
#define TRANSPORT_IDLE_TIMEOUT_MS (10 * 60 * 1000)
#define TRANSPORT_PING_INTERVAL_MS (2 * 60 * 1000)

/* msg2 status byte. */
enum transport_status {
	TRANSPORT_STATUS_OK = 0,
	TRANSPORT_STATUS_VERSION = 1, /* no common version */
	TRANSPORT_STATUS_FULL = 2 /* relay at its connection limit */
};

/* What one on_readable/on_writable call produced. */
enum transport_event {
	TRANSPORT_EV_NONE = 0, /* nothing more now: wait for poll */
	TRANSPORT_EV_HANDSHAKE = 1, /* handshake finished: ready for blocks */
	TRANSPORT_EV_BLOCK = 2 /* one block of plaintext received */
};

struct transport;

/*
 * Server side of a freshly accepted fd (made non-blocking here).  The
 * static key pair is borrowed and must outlive the handshake.  Versions
 * [vmin, vmax] are what this relay speaks.  The transport owns fd from
 * now on (transport_free closes it).
 */
struct transport *transport_new_server(int fd, const uint8_t static_priv[32],
    const uint8_t static_pub[32], uint16_t vmin, uint16_t vmax);

/*
 * Make a server transport answer the handshake with status (VERSION or
 * FULL) and close after msg2, instead of accepting.  Call before the
 * first on_readable.
 */
void transport_refuse(struct transport *t, enum transport_status status);

/*
 * Client side over a connected (or connecting) fd, pinned to the
 * relay's static public key.  msg1 is queued at once; poll for POLLOUT.
 * Takes ownership of fd.
 */
struct transport *transport_new_client(
    int fd, const uint8_t relay_pub[32], uint16_t vmin, uint16_t vmax);

/*
 * Read what the fd has.  Returns 0 with *ev set (NONE, HANDSHAKE or
 * BLOCK), or a negative error after which the caller frees the
 * transport: NOID_ERR_CLOSED (peer closed), NOID_ERR_KEY (client: the
 * relay dropped us during the handshake, i.e. wrong relay key),
 * NOID_ERR_VERSION / NOID_ERR_LIMIT (client: refused in msg2),
 * NOID_ERR_CRYPTO / NOID_ERR_PROTO (bad frame), NOID_ERR_IO.
 * With TRANSPORT_EV_BLOCK, *block points at NOID_BLOCK_PLAIN bytes of
 * plaintext valid until the next call on this transport.
 */
int transport_on_readable(
    struct transport *t, enum transport_event *ev, const uint8_t **block);

/*
 * Write queued output.  0 when all or part was written (see
 * transport_wants_write), negative on error.  A refusing server returns
 * NOID_ERR_CLOSED once its msg2 is out.
 */
int transport_on_writable(struct transport *t);

/* Non-zero while output is queued (poll for POLLOUT). */
int transport_wants_write(const struct transport *t);

/*
 * Encrypt and queue one block of NOID_BLOCK_PLAIN plaintext bytes, then
 * try to write.  NOID_ERR_AGAIN when the output queue is full (nothing
 * queued), NOID_ERR_STATE before the handshake is done.
 */
int transport_queue_block(struct transport *t, const uint8_t *plain);

/*
 * While corked, blocks are encrypted and queued but nothing is written
 * (and POLLOUT is not wanted); uncorking writes what the socket takes.
 * The agent corks while a store commit is open, so nothing that commit
 * covers leaves before it is durable.  Returns what a write returns.
 */
int transport_set_cork(struct transport *t, int on);

/* Room for n more blocks in the output queue? */
int transport_can_queue(const struct transport *t, size_t n);

/* Change the output queue bound (blocks; at least 1). */
void transport_set_out_max(struct transport *t, size_t max);

/* Non-zero once the handshake finished. */
int transport_established(const struct transport *t);

/* The socket. */
int transport_fd(const struct transport *t);

/* Negotiated protocol version (0 before the handshake). */
uint16_t transport_version(const struct transport *t);

/* Session id: the handshake hash (32 bytes; valid once established). */
const uint8_t *transport_session_id(const struct transport *t);

/* Client: the relay's per-session auth public key from msg2. */
const uint8_t *transport_session_auth_pub(const struct transport *t);

/* Server: the per-session auth secret key (32 bytes). */
const uint8_t *transport_session_auth_secret(const struct transport *t);

/* Monotonic ms of creation or the last complete frame received. */
uint64_t transport_last_rx_ms(const struct transport *t);

/* Heap bytes this transport holds right now (for the memory budget). */
size_t transport_mem(const struct transport *t);

/* Close the fd, wipe keys, free everything; NULL is a no-op. */
void transport_free(struct transport *t);

#endif
