/*
 * relay-server: noid-relay's event loop.  One thread, one epoll set:
 * listeners, a self-pipe for signals, and every client connection.
 *
 * Each pass reads what is ready, runs the commands (changing the queue
 * set and buffering journal records), then commits the journal with one
 * fdatasync (group commit) and only then writes the answers, so nothing
 * is said OK before it is durable.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_RELAY_SERVER_H
#define NOID_RELAY_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "relay-config.h"
#include "relay-journal.h"
#include "relay-queue.h"

struct relay_server;

/* Aggregate counters: nothing about who or which queue. */
struct relay_server_stats {
	uint64_t conns_now;
	uint64_t conns_total;
	uint64_t conns_refused; /* told "server full" or dropped */
	uint64_t conns_dropped; /* slow readers, timeouts, bad frames */
	uint64_t conns_throttled; /* times reading paused: too many DHs */
	uint64_t queues;
	uint64_t msgs_pending;
	uint64_t msgs_in;
	uint64_t msgs_out;
	uint64_t msgs_acked;
	uint64_t msgs_expired;
};

/*
 * Bind the configured listeners.  The key pair, queue set and journal
 * are borrowed and must outlive the server.  On failure *why says
 * which address (static or owned by nobody: a sentence to print).
 */
int relay_server_new(const struct relay_config *cfg, const uint8_t *priv,
    const uint8_t *pub, struct relay_queues *qs, struct relay_journal *j,
    struct relay_server **out, char **why);

/* Listener count and the i-th bound address ("127.0.0.1", port). */
size_t relay_server_nlisten(const struct relay_server *s);
int relay_server_listen_addr(const struct relay_server *s, size_t i, char *host,
    size_t hostlen, uint16_t *port);

/*
 * Run until SIGTERM or SIGINT (installs the handlers; SIGUSR1 prints the
 * counters to stderr).  Returns 0 after a graceful stop, NOID_ERR_IO
 * when the journal could not be written (answers not sent).
 */
int relay_server_run(struct relay_server *s);

/* Current counters. */
void relay_server_stats(struct relay_server *s, struct relay_server_stats *st);

/* Print the counters as one line to stderr. */
void relay_server_print_stats(struct relay_server *s);

/* Close every connection and listener; NULL is a no-op. */
void relay_server_free(struct relay_server *s);

#endif
