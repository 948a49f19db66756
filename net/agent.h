/*
 * noid — agent: end-to-end connections between two people (DESIGN §5).
 *
 * The agent turns relay queues into duplex, end-to-end encrypted
 * connections: one-time invitations, the connection handshake, the
 * double ratchet, per-connection sequence numbers and hash chain,
 * delivery receipts, queue rotation, re-keying and security codes.  It
 * is what the TUI and the CLI use; they never speak to a relay for a
 * contact themselves.  net/PROTOCOL.md (agent section) is the spec.
 *
 * One struct agent serves one profile of one open store.  It has no
 * threads: the caller adds agent_pollfds() to its poll() set, calls
 * agent_on_ready() with the results, and bounds its wait with
 * agent_timeout_ms().  agent_run() does all three for programs (CLI,
 * tests) without a loop of their own.  Commands return at once; their
 * results and everything the network brings arrive as events through
 * one callback, called from inside agent_on_ready()/agent_run() (and
 * never re-entered: a callback may issue commands).
 *
 * Ids are store ids (AGENT_ID_LEN bytes): a connection is a store
 * connection whose agent state is kept in the store's per-connection
 * blob; a contact and its conversation are the store's.  An invitation
 * we made, and a request we sent, are connections too (state "invited"
 * / "joining"); the contact row then holds a placeholder or the name
 * the other side claims, until the handshake completes.
 *
 * Delivery: a received message and the advanced ratchet are committed
 * in one store transaction before the relay is acked (at least once,
 * stored once).  All one agent_on_ready() pass writes is one
 * transaction; its events are delivered before the commit (the caller
 * sees the new rows through the same store handle), and nothing the
 * commit covers leaves for a relay before it is durable.  So if the
 * process dies between an event and the commit, the relay delivers the
 * message again and its event comes again after the restart (the store
 * still holds it once).  Call agent functions outside any store
 * transaction of the caller's own.  Messages are queued in the store's outbox and sent in
 * order; a message is "sent" once the relay accepted it and "delivered"
 * when the contact's receipt (carrying the message hash) comes back.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_AGENT_H
#define NOID_AGENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

#define AGENT_ID_LEN 16 /* = STORE_ID_LEN */
#define AGENT_HASH_LEN 32 /* message hash carried by receipts */
#define AGENT_NAME_MAX 64 /* display name, bytes of UTF-8 */
#define AGENT_STATUS_MAX 160 /* profile status line, bytes of UTF-8 */
#define AGENT_TEXT_MAX 15000 /* one message's text, bytes of UTF-8 */

/* Default lifetime of an unused invitation. */
#define AGENT_INVITE_TTL_MS (7ULL * 24 * 3600 * 1000)
/* Default interval between scheduled queue rotations. */
#define AGENT_ROTATE_MS (7ULL * 24 * 3600 * 1000)

struct store;
struct agent;

/* How an invitation travelled (DESIGN §5): the same values as the store's. */
enum agent_trust {
	AGENT_TRUST_TEXT = 1, /* link text copied over another channel */
	AGENT_TRUST_QR = 2, /* shown as a QR code on a screen */
	AGENT_TRUST_VERIFIED = 3 /* security code compared in person */
};

/* Where a connection is in its life (agent_conn_info). */
enum agent_conn_state {
	AGENT_CONN_INVITED = 1, /* our invitation, unused */
	AGENT_CONN_REQUESTED = 2, /* someone used it: accept or reject */
	AGENT_CONN_JOINING = 3, /* we used theirs, waiting for them */
	AGENT_CONN_ACCEPTING = 4, /* accepted, handshake finishing */
	AGENT_CONN_READY = 5, /* connected */
	AGENT_CONN_CLOSED = 6 /* deleted, expired or rejected */
};

/* Events (struct agent_event.type). */
enum agent_event_type {
	/* Our invitation was used: ev.name/status are what the other
	 * side CLAIMS to be (show it so).  agent_accept or agent_reject. */
	AGENT_EV_REQUEST = 1,
	/* Handshake done: ev.name/status are the contact's profile. */
	AGENT_EV_CONNECTED,
	/* A message: ev.msg, ev.text/text_len, ev.ts_ms, ev.seq. */
	AGENT_EV_MESSAGE,
	/* Our message ev.msg left: the relay accepted it. */
	AGENT_EV_SENT,
	/* Our message ev.msg was received by the contact (receipt). */
	AGENT_EV_DELIVERED,
	/* The contact changed its profile: ev.name/status. */
	AGENT_EV_PROFILE,
	/* The hash chain or numbering broke: ev.integrity says how; for
	 * gaps ev.seq..ev.seq_to are the missing numbers.  Duplicates
	 * are dropped silently and never reported. */
	AGENT_EV_INTEGRITY,
	/* Keys changed: ev.security says why (re-key, resync, verified);
	 * the security code is new unless verified. */
	AGENT_EV_SECURITY,
	/* A queue rotation finished (ev.conn). */
	AGENT_EV_ROTATED,
	/* The connection is gone (deleted by either side, rejected or
	 * expired): ev.err says why when it was not our doing. */
	AGENT_EV_CLOSED,
	/* Something failed: ev.err, ev.detail; ev.conn zero when not
	 * about one connection (e.g. a relay unreachable). */
	AGENT_EV_ERROR
};

/* AGENT_EV_INTEGRITY kinds (as SimpleX's checkMsgIntegrity). */
enum agent_integrity {
	AGENT_INTEGRITY_SKIPPED = 1, /* numbers ev.seq..ev.seq_to missing */
	AGENT_INTEGRITY_BAD_HASH = 2, /* previous-message hash differs */
	AGENT_INTEGRITY_BAD_ID = 3 /* a number lower than the last seen */
};

/* AGENT_EV_SECURITY kinds. */
enum agent_security {
	AGENT_SECURITY_REKEYED = 1, /* a fresh key agreement completed */
	AGENT_SECURITY_RESYNC = 2, /* ratchet state lost on one side and
					re-agreed: verify the code again */
	AGENT_SECURITY_VERIFIED = 3, /* security code confirmed */
	AGENT_SECURITY_DECRYPT = 4 /* messages that no key opens arrive */
};

/*
 * One event.  Every pointer borrows memory valid only during the
 * callback; copy what you keep.  Fields not listed for a type are zero.
 */
struct agent_event {
	enum agent_event_type type;
	uint8_t conn[AGENT_ID_LEN];
	uint8_t contact[AGENT_ID_LEN];
	uint8_t msg[AGENT_ID_LEN];
	const char *name;
	const char *status;
	const char *text;
	size_t text_len;
	uint64_t ts_ms;
	uint64_t seq;
	uint64_t seq_to;
	int integrity; /* enum agent_integrity */
	int security; /* enum agent_security */
	int err; /* enum noid_err */
	const char *detail;
};

typedef void (*agent_event_cb)(const struct agent_event *ev, void *arg);

/* A relay the agent may create queues on. */
struct agent_relay {
	const char *address; /* noid://KEY@host:port */
	const char *access_key; /* NULL: the relay needs none */
};

/* agent_open options; zero fields take the defaults. */
struct agent_config {
	/* Relays for our receiving queues (at least one); one is picked
	 * per queue.  Relays of contacts' queues come from them. */
	const struct agent_relay *relays;
	size_t nrelays;
	uint64_t invite_ttl_ms; /* 0: AGENT_INVITE_TTL_MS */
	uint64_t rotate_ms; /* 0: AGENT_ROTATE_MS; UINT64_MAX: never */
	int no_receipts; /* do not send delivery receipts */
	/* Keep a session to each of these relays from the start, not
	 * only once a queue uses it: a long-running client (TUI, daemon)
	 * can then say whether its relays are reachable.  One-shot
	 * commands leave it off so an unreachable relay never delays
	 * them. */
	int dial_own;
	agent_event_cb cb;
	void *cb_arg;
};

/*
 * Open the agent for profile of st (both borrowed: they must outlive
 * the agent).  Loads every connection's state, resubscribes its
 * queues (lazily, as the poll loop runs) and resumes unfinished
 * sends, rotations and handshakes.  *out: agent_close.
 */
int agent_open(struct store *st, const uint8_t profile[AGENT_ID_LEN],
    const struct agent_config *cfg, struct agent **out);

/* Close relay connections and free; NULL is a no-op.  Nothing is lost:
 * unsent messages stay queued in the store. */
void agent_close(struct agent *a);

/* ---- the poll loop ------------------------------------------------- */

/*
 * Fill fds[0..max) with the descriptors and events the agent waits on;
 * returns how many it needs (call again with more room when that is
 * over max).
 */
size_t agent_pollfds(struct agent *a, struct pollfd *fds, size_t max);

/*
 * Handle what poll() reported for the fds agent_pollfds() gave (n of
 * them, revents filled), and any timer that is due.  Events are
 * delivered from here, inside the pass's store transaction: a callback
 * that writes to the store joins it.  Fails only on a store error (the
 * agent is then unusable: close it).
 */
int agent_on_ready(struct agent *a, const struct pollfd *fds, size_t n);

/* Milliseconds until the agent's next timer (-1: none). */
int agent_timeout_ms(struct agent *a);

/* How many of the profile's own relays (agent_config.relays) have a
 * live, handshaken connection now: *up of *total.  Without dial_own a
 * relay no queue uses yet is never dialled, so it counts as not
 * connected. */
void agent_relays_connected(struct agent *a, size_t *up, size_t *total);

/*
 * Run the loop on its own for up to timeout_ms (-1: until agent_stop).
 * With AGENT_RUN_IDLE it returns as soon as the agent is idle: every
 * queued command and message sent, and every queue checked empty.
 * NOID_ERR_TIMEOUT when the time ran out first.
 */
#define AGENT_RUN_IDLE 0x1
int agent_run(struct agent *a, int timeout_ms, int flags);

/* Make agent_run return (from a callback). */
void agent_stop(struct agent *a);

/* ---- commands ------------------------------------------------------ */

/*
 * Make a one-time invitation.  trust is how it will travel
 * (AGENT_TRUST_QR or AGENT_TRUST_TEXT).  *link gets the text (caller
 * frees; upper case, QR alphanumeric set); conn the new connection.
 */
int agent_invite(
    struct agent *a, int trust, char **link, uint8_t conn[AGENT_ID_LEN]);

/*
 * The unused invitation conn (ours) is being shown as link text: its
 * trust drops to AGENT_TRUST_TEXT, the link stays valid and the same.
 * NOID_ERR_STATE once it was used, NOID_ERR_NOENT for no such one.
 */
int agent_invite_shared(struct agent *a, const uint8_t conn[AGENT_ID_LEN]);

/*
 * Use someone's invitation link: creates our reply queue and sends the
 * request carrying our profile.  trust: how the link reached us.
 * Errors: NOID_ERR_INVAL (malformed link: agent_invite_check says why),
 * NOID_ERR_EXPIRED (already used or expired; may also come later as
 * AGENT_EV_CLOSED).
 */
int agent_join(
    struct agent *a, const char *link, int trust, uint8_t conn[AGENT_ID_LEN]);

/* Accept or reject a request (state AGENT_CONN_REQUESTED). */
int agent_accept(struct agent *a, const uint8_t conn[AGENT_ID_LEN]);
int agent_reject(struct agent *a, const uint8_t conn[AGENT_ID_LEN]);

/*
 * Queue a message (text_len <= AGENT_TEXT_MAX bytes of UTF-8) to a
 * connected contact; msg gets its store id.  Delivery is reported by
 * AGENT_EV_SENT then AGENT_EV_DELIVERED.
 */
int agent_send(struct agent *a, const uint8_t conn[AGENT_ID_LEN],
    const char *text, size_t text_len, uint8_t msg[AGENT_ID_LEN]);

/* Rotate the connection's receiving queue now (AGENT_EV_ROTATED). */
int agent_rotate(struct agent *a, const uint8_t conn[AGENT_ID_LEN]);

/*
 * Run a fresh key agreement inside the connection; both sides get
 * AGENT_EV_SECURITY (REKEYED) and a new security code.
 */
int agent_rekey(struct agent *a, const uint8_t conn[AGENT_ID_LEN]);

/*
 * Re-key through a new out-of-band link (DESIGN §5): rekey_invite makes
 * a one-time link bound to this connection (*link: caller frees; same
 * format as an invitation; trust: how it will travel; expires like an
 * invitation, and a newer one replaces it).  The contact gives it to
 * rekey_join on its side (trust: how it arrived): NOID_ERR_INVAL for a
 * malformed link, NOID_ERR_NOENT when it is not this connection's.
 * Both sides then get AGENT_EV_SECURITY (REKEYED), a new code, and the
 * trust of that link.  A link used twice or late, or an offer that did
 * not come from it, is refused with AGENT_EV_ERROR on the link's side.
 */
int agent_rekey_invite(
    struct agent *a, const uint8_t conn[AGENT_ID_LEN], int trust, char **link);
int agent_rekey_join(struct agent *a, const uint8_t conn[AGENT_ID_LEN],
    const char *link, int trust);

/* The security code, as digits and as a QR payload. */
#define AGENT_CODE_DIGITS 60
struct agent_code {
	char digits[AGENT_CODE_DIGITS + 1]; /* "0123..." */
	char text[AGENT_CODE_DIGITS + 12 + 1]; /* "01234 56789 ..." */
	char qr[12 + AGENT_CODE_DIGITS + 1]; /* "NOID:CODE:1:0123..." */
};
int agent_code(
    struct agent *a, const uint8_t conn[AGENT_ID_LEN], struct agent_code *code);

/*
 * Compare the code the contact shows (digits, spaces allowed, or the
 * scanned QR payload) with ours; equal: the connection becomes
 * AGENT_TRUST_VERIFIED.  NOID_ERR_AUTH when it differs.
 */
int agent_verify(
    struct agent *a, const uint8_t conn[AGENT_ID_LEN], const char *input);

/* Delete a connection: tell the contact, delete our queues, forget. */
int agent_delete(struct agent *a, const uint8_t conn[AGENT_ID_LEN]);

/*
 * Set our display name and status (NULL status: none) for this
 * profile; pushed to every connected contact inside the ratchet.
 */
int agent_set_profile(struct agent *a, const char *name, const char *status);

/* ---- state for the UI ------------------------------------------------ */

struct agent_conn_info {
	uint8_t conn[AGENT_ID_LEN];
	uint8_t contact[AGENT_ID_LEN];
	int state; /* enum agent_conn_state */
	int trust; /* enum agent_trust */
	int incoming; /* 1: they used our invitation */
	char *name; /* contact's profile (claimed while REQUESTED) */
	char *status; /* may be NULL */
	uint64_t expires_ms; /* invitations: wall-clock expiry, else 0 */
	uint64_t rotated_ms; /* when our receiving queue last changed */
};

/* One connection's info (agent_conn_info_clear frees the strings). */
int agent_conn_info(struct agent *a, const uint8_t conn[AGENT_ID_LEN],
    struct agent_conn_info *out);
void agent_conn_info_clear(struct agent_conn_info *ci);

/* All connections of the profile (agent_conns_free). */
int agent_conns(struct agent *a, struct agent_conn_info **out, size_t *n);
void agent_conns_free(struct agent_conn_info *ci, size_t n);

/* ---- test hook ------------------------------------------------------ */

/*
 * Steps of receiving and sending where crash tests kill the process
 * (kill -9 from the hook).  Product code never sets a hook.
 */
enum agent_step {
	AGENT_STEP_RECV_BEFORE_COMMIT = 1, /* decrypted, not yet stored */
	AGENT_STEP_RECV_AFTER_COMMIT, /* stored, relay not yet acked */
	AGENT_STEP_RECV_AFTER_ACK, /* ACK handed to the relay client */
	AGENT_STEP_SEND_BEFORE_COMMIT, /* sealed, state not yet saved */
	AGENT_STEP_SEND_AFTER_COMMIT, /* saved, not yet sent */
	AGENT_STEP_SEND_AFTER_SEND /* SEND handed to the relay client */
};
typedef void (*agent_step_hook)(int step, void *arg);
void agent_set_step_hook(agent_step_hook cb, void *arg);

/* ---- invitation links (agent-invite.c; pure, no I/O) ------------------ */

/*
 * What a link carries: the inviter's relay (its Noise key, host, port),
 * the sender id of the inviter's queue, and a one-time link key that
 * encrypts and authenticates the request and the answer (PROTOCOL.md).
 */
#define AGENT_INVITE_KEY_LEN 16
#define AGENT_QUEUE_ID_LEN 24
#define AGENT_RELAY_KEY_LEN 32
#define AGENT_HOST_MAX 253
#define AGENT_INVITE_PREFIX "NOID:"
/* Longest link text: keeps the QR code at version <= 5, level L. */
#define AGENT_INVITE_MAX 154

struct agent_invite {
	uint8_t relay_key[AGENT_RELAY_KEY_LEN];
	char host[AGENT_HOST_MAX + 1]; /* "1.2.3.4", "::1" or a name */
	uint16_t port;
	uint8_t sid[AGENT_QUEUE_ID_LEN];
	uint8_t key[AGENT_INVITE_KEY_LEN];
};

/*
 * Encode an invitation as link text (caller frees *out).  NOID_ERR_INVAL
 * for a host that is not an IPv4/IPv6 literal or a DNS name;
 * NOID_ERR_TOOBIG when the link would not fit AGENT_INVITE_MAX (a host
 * name too long for the QR budget: use a shorter name or an address).
 */
int agent_invite_format(const struct agent_invite *inv, char **out);

/*
 * Parse link text strictly (case-insensitive; surrounding white space
 * allowed).  On error *why (may be NULL) gets a sentence saying what
 * is wrong; the return is NOID_ERR_INVAL or NOID_ERR_VERSION (made by a
 * newer noid).
 */
int agent_invite_parse(
    const char *text, size_t len, struct agent_invite *out, const char **why);

#endif
