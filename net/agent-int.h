/*
 * noid — agent internals shared by net/agent-*.c (not for the UI).
 *
 * agent-msg.c: the byte formats of the agent layer (PROTOCOL.md, agent
 * section): the per-queue box around everything an agent sends through
 * a relay queue, the connection handshake messages (REQUEST on the
 * inviter's queue, CONFIRM on the joiner's) and the agent messages that
 * travel inside the double ratchet.  Pure functions, no I/O.
 */
#ifndef NOID_AGENT_INT_H
#define NOID_AGENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "e2e.h"

#define AGENT_VERSION 1
/* Every SEND body is exactly this long (the relay's NOID_MSG_MAX). */
#define AGENT_BODY 16000
/* Per-queue box: version, nonce, Poly1305 tag, then the padded inner. */
#define AGENT_BOX_NONCE 24
#define AGENT_BOX_MAC 16
#define AGENT_BOX_PAD (AGENT_BODY - 1 - AGENT_BOX_NONCE - AGENT_BOX_MAC)
#define AGENT_INNER_MAX (AGENT_BOX_PAD - E2E_PAD_PREFIX)
#define AGENT_ADDR_MAX 400 /* relay address text */
#define AGENT_KEY_LEN 32

/* What is inside a per-queue box (first byte of the inner bytes). */
enum agent_inner_kind {
	AGENT_INNER_REQUEST = 1, /* box key from the link key */
	AGENT_INNER_CONFIRM = 2, /* box key from the link key */
	AGENT_INNER_RATCHET = 3, /* box key from the queue's DH */
	AGENT_INNER_RESYNC = 4, /* lost state: a fresh offer (queue key) */
	AGENT_INNER_RESYNC_ACK = 5 /* its answer (queue key) */
};

/*
 * Keys derived from a link key: the box keys of the REQUEST and the
 * CONFIRM, and the ctx that binds the key agreement to this invitation
 * (so only holders of the link can complete it).
 */
struct agent_link_keys {
	uint8_t request[AGENT_KEY_LEN];
	uint8_t confirm[AGENT_KEY_LEN];
	uint8_t ctx[AGENT_KEY_LEN];
};
void agent_link_keys(
    const uint8_t link_key[AGENT_INVITE_KEY_LEN], struct agent_link_keys *k);

/*
 * The auth key pair the inviter signs with on the joiner's queue, from
 * the link key: the joiner secures its queue with it before it sends
 * the request, so the inviter's first messages are already signed.
 */
void agent_link_reply_auth(const uint8_t link_key[AGENT_INVITE_KEY_LEN],
    uint8_t priv[32], uint8_t pub[32]);

/* The ctx of a resync agreement: bound to the queue key it uses. */
void agent_resync_ctx(const uint8_t queue_key[AGENT_KEY_LEN], uint8_t ctx[32]);

/*
 * A re-key through a new link (PROTOCOL.md §11.6): ctx (prefix of
 * the agreement's ctx, before the old ratchet's ad) and the key of the
 * MAC over the offer, both from the link key.
 */
void agent_rekey_link_keys(const uint8_t link_key[AGENT_INVITE_KEY_LEN],
    uint8_t ctx[32], uint8_t mac_key[32]);

/* The per-queue box key for a queue: DH of one side's private box key
 * with the other side's public one (crypto_box_beforenm). */
int agent_queue_key(uint8_t key[AGENT_KEY_LEN], const uint8_t peer_pub[32],
    const uint8_t own_priv[32]);

/* Box inner (len <= AGENT_INNER_MAX) into out[AGENT_BODY]. */
int agent_box_seal(const uint8_t key[AGENT_KEY_LEN], const uint8_t *inner,
    size_t len, uint8_t out[AGENT_BODY]);
/* Open a SEND body; *inner borrows work[AGENT_BOX_PAD]. */
int agent_box_open(const uint8_t key[AGENT_KEY_LEN], const uint8_t *body,
    size_t len, uint8_t work[AGENT_BOX_PAD], const uint8_t **inner,
    size_t *ilen);

/* A queue someone sends to: its relay and its sender id. */
struct agent_qaddr {
	char relay[AGENT_ADDR_MAX + 1];
	uint8_t sid[AGENT_QUEUE_ID_LEN];
};

/* Joiner -> inviter, on the inviter's queue. */
struct agent_request {
	uint8_t offer[E2E_OFFER_SIZE];
	struct agent_qaddr reply; /* the joiner's queue */
	uint8_t reply_box[32]; /* joiner's box key as its recipient */
	uint8_t send_box[32]; /* joiner's box key as sender to us */
	uint8_t send_auth[32]; /* joiner's auth key: KEY our queue */
	char name[AGENT_NAME_MAX + 1];
	char status[AGENT_STATUS_MAX + 1];
};

/* Inviter -> joiner, on the joiner's queue. */
struct agent_confirm {
	uint8_t answer[E2E_ANSWER_SIZE];
	uint8_t recv_box[32]; /* inviter's box key as recipient (its queue) */
	uint8_t send_box[32]; /* inviter's box key as sender (joiner's) */
	uint8_t send_auth[32]; /* inviter's auth key: KEY the joiner's queue */
};

void agent_request_encode(const struct agent_request *r, struct buf *out);
int agent_request_decode(const uint8_t *p, size_t len, struct agent_request *r);
void agent_confirm_encode(const struct agent_confirm *c, struct buf *out);
int agent_confirm_decode(const uint8_t *p, size_t len, struct agent_confirm *c);

/* Agent messages inside the ratchet (first byte after the version). */
enum agent_msg_type {
	AGENT_MSG_HELLO = 1, /* profile; first message each way */
	AGENT_MSG_PROFILE = 2, /* profile update */
	AGENT_MSG_TEXT = 3, /* a user message */
	AGENT_MSG_RCVD = 4, /* delivery receipt */
	AGENT_MSG_QADD = 5, /* recipient: here is my new queue */
	AGENT_MSG_QKEY = 6, /* sender: my keys for it */
	AGENT_MSG_QUSE = 7, /* recipient: secured, switch to it */
	AGENT_MSG_QEND = 8, /* sender: last message on the old queue */
	AGENT_MSG_REKEY = 9, /* a new agreement's offer */
	AGENT_MSG_REKEYED = 10, /* its answer (old ratchet) */
	AGENT_MSG_DELETE = 11, /* the connection is deleted */
	AGENT_MSG_REKEY_LINK = 12, /* an offer bound to a re-key link */
	AGENT_MSG_REKEY_NO = 13 /* that link was used, expired or wrong */
};

/* One decoded agent message; which fields are set depends on type. */
struct agent_msg {
	int type;
	/* HELLO, PROFILE */
	char name[AGENT_NAME_MAX + 1];
	char status[AGENT_STATUS_MAX + 1];
	/* TEXT */
	uint64_t seq;
	uint8_t prev_hash[AGENT_HASH_LEN];
	uint8_t id[AGENT_ID_LEN];
	uint64_t ts_ms;
	const char *text; /* borrows the decoded bytes */
	size_t text_len;
	/* RCVD (hash, and the TEXT's id); REKEY_LINK (the offer's MAC) */
	uint8_t hash[AGENT_HASH_LEN];
	/* QADD (addr, box), QKEY (addr.sid, box, auth), QUSE/QEND (sid) */
	struct agent_qaddr q;
	uint8_t box[32];
	uint8_t auth[32];
	/* REKEY, REKEY_LINK (offer), REKEYED (answer) */
	uint8_t kex[E2E_OFFER_SIZE];
};

/* Encode m (only its type's fields) into out (appends). */
void agent_msg_encode(const struct agent_msg *m, struct buf *out);
/* Decode strictly; TEXT's text borrows p. */
int agent_msg_decode(const uint8_t *p, size_t len, struct agent_msg *m);
/* The hash of an encoded message (what receipts and the chain carry). */
void agent_msg_hash(const uint8_t *p, size_t len, uint8_t hash[AGENT_HASH_LEN]);

/*
 * Integrity of a received TEXT against the last one seen (last_seq 0:
 * none yet).  Returns 0 when in order, else an enum agent_integrity;
 * from and to give the missing range for SKIPPED.
 */
int agent_integrity_check(uint64_t last_seq,
    const uint8_t last_hash[AGENT_HASH_LEN], uint64_t seq,
    const uint8_t prev_hash[AGENT_HASH_LEN], uint64_t *from, uint64_t *to);

/*
 * agent-conn.c: one connection's end-to-end state, without I/O (the
 * driver moves the bodies and runs the relay commands it is told).
 * Every function that changes the state leaves it unchanged on error.
 */
enum agent_conn_role { AGENT_ROLE_INVITER = 1, AGENT_ROLE_JOINER = 2 };

struct agent_conn;

/* What one received body was (agent_conn_receive). */
struct agent_recv {
	int kind; /* enum agent_inner_kind */
	int duplicate; /* a ratchet duplicate: ack and drop */
	struct agent_request req; /* REQUEST */
	struct agent_confirm conf; /* CONFIRM */
	struct agent_msg msg; /* RATCHET: the agent message */
	uint8_t hash[AGENT_HASH_LEN]; /* RATCHET: its hash */
	int integrity; /* TEXT: 0 or enum agent_integrity */
	uint64_t gap_from, gap_to;
	int rekeyed; /* a re-key completed with this one */
	int rekey_trust; /* ... through a link that came this way, else 0 */
	int rekey_refused; /* REKEY_NO: our link offer was dropped */
	int resync; /* RESYNC answered / RESYNC_ACK finished: new ratchet */
	uint8_t *reply; /* RESYNC: the RESYNC_ACK body to send (owned) */
	struct buf plain; /* owns msg's borrowed bytes */
};
void agent_recv_clear(struct agent_recv *r);

/* Inviter: a new connection for an invitation with this link key. */
struct agent_conn *agent_conn_new_inviter(
    const uint8_t link_key[AGENT_INVITE_KEY_LEN]);

/*
 * Joiner: a new connection from a parsed invitation; reply is our
 * queue, send_auth the public auth key the inviter will KEY its queue
 * with.  body gets the REQUEST to SEND to inv->sid.
 */
int agent_conn_join(const struct agent_invite *inv,
    const struct agent_qaddr *reply, const uint8_t send_auth[32],
    const char *name, const char *status, struct agent_conn **out,
    uint8_t body[AGENT_BODY]);

/*
 * Handle one body from our receiving queue.  Inviter before accept:
 * REQUEST; joiner before confirm: CONFIRM; then ratchet messages.
 */
int agent_conn_receive(struct agent_conn *c, const uint8_t *body, size_t len,
    struct agent_recv *out);

/*
 * Inviter: accept the request received: confirm gets the CONFIRM body,
 * hello the first ratchet message (our profile), both for the joiner's
 * queue; send_auth is our public auth key for KEY on it.
 */
int agent_conn_accept(struct agent_conn *c, const uint8_t send_auth[32],
    const char *name, const char *status, uint8_t confirm[AGENT_BODY],
    uint8_t hello[AGENT_BODY]);

/* Finish a DH step a receive left pending; 1 when the state changed. */
int agent_conn_prepare(struct agent_conn *c);

/*
 * Encrypt one agent message for the peer; body gets the SEND body,
 * hash (may be NULL) the message hash.  For TEXT, m->seq and
 * m->prev_hash are filled from the state (and advanced).
 */
int agent_conn_seal(struct agent_conn *c, struct agent_msg *m,
    uint8_t body[AGENT_BODY], uint8_t hash[AGENT_HASH_LEN]);

/* Start an in-band re-key: body gets the REKEY message. */
int agent_conn_rekey(struct agent_conn *c, uint8_t body[AGENT_BODY]);

/*
 * After receiving a REKEY (recv->msg.type), the answer that must be
 * sent next: body gets the REKEYED message (old ratchet); the new
 * ratchet is used from then on.  NOID_ERR_EXISTS when our own pending
 * offer wins a crossing re-key (the lower offer wins): send nothing,
 * the peer answers ours.
 */
int agent_conn_rekey_answer(
    struct agent_conn *c, const struct agent_msg *m, uint8_t body[AGENT_BODY]);

/*
 * Re-key through a new out-of-band link.  The link's owner makes a
 * one-time key (link_new: key gets it for the link text, replacing an
 * older one; trust is how the link will travel, expires_ms its wall
 * clock end).  The peer gives the key from the link (link_join), then
 * seals REKEY_LINK (link_offer): an offer with a MAC under the link
 * key.  The owner answers it with link_answer (REKEYED, as for REKEY;
 * *trust gets the link's): NOID_ERR_EXPIRED when no link is pending or
 * it expired, NOID_ERR_AUTH when the MAC is wrong, NOID_ERR_EXISTS as
 * for rekey_answer.  Both ctx include the link key, so only the link's
 * holders can complete the agreement.
 */
void agent_conn_rekey_link_new(struct agent_conn *c, int trust,
    uint64_t expires_ms, uint8_t key[AGENT_INVITE_KEY_LEN]);
int agent_conn_rekey_link_join(
    struct agent_conn *c, const uint8_t key[AGENT_INVITE_KEY_LEN], int trust);
int agent_conn_rekey_link_offer(struct agent_conn *c, uint8_t body[AGENT_BODY]);
int agent_conn_rekey_link_answer(struct agent_conn *c,
    const struct agent_msg *m, uint64_t now_ms, uint8_t body[AGENT_BODY],
    int *trust);

/*
 * Resync after lost state: body gets a RESYNC (a fresh offer, boxed
 * with the queue key, outside the ratchet).  The peer answers with a
 * RESYNC_ACK (agent_recv.reply) and both start a new ratchet.
 */
int agent_conn_resync(struct agent_conn *c, uint8_t body[AGENT_BODY]);

/* Inviter: the request received (NULL before one came). */
const struct agent_request *agent_conn_request(const struct agent_conn *c);
/* The auth key pair for the joiner's queue (from the link key). */
void agent_conn_reply_auth(
    const struct agent_conn *c, uint8_t priv[32], uint8_t pub[32]);
/* Replace a queue box key (rotation switched queues). */
void agent_conn_set_send_key(struct agent_conn *c, const uint8_t key[32]);
void agent_conn_set_recv_key(struct agent_conn *c, const uint8_t key[32]);
/* Whether a re-key or resync offer is waiting for its answer. */
int agent_conn_offer_pending(const struct agent_conn *c);

/* Whether the handshake is complete. */
int agent_conn_ready(const struct agent_conn *c);
/* The security code of the current agreement (NOID_ERR_STATE if none). */
int agent_conn_code(const struct agent_conn *c, struct e2e_code *code);

/* Serialize (holds keys: buf_free_secret) and load. */
void agent_conn_save(const struct agent_conn *c, struct buf *out);
int agent_conn_load(const uint8_t *p, size_t len, struct agent_conn **out);
void agent_conn_free(struct agent_conn *c);

#endif
