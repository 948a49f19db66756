/*
 * noid — agent driver internals shared by agent.c, agent-relay.c,
 * agent-state.c, agent-hs.c, agent-send.c, agent-recv.c,
 * agent-rotate.c and agent-rekey.c (not for the UI).
 *
 * The driver is a reconciler: each connection's persisted state says
 * what must still happen (a queue to subscribe, a KEY to run, sealed
 * bodies to send, control messages to seal, a queue to delete), and
 * agent_kick() issues the relay commands for whatever is not already
 * in flight.  In-flight flags live in memory only, so a reconnect or a
 * restart simply issues them again; every command is safe to repeat
 * (SUB, KEY with the same key, DEL) or deduplicated by the peer's
 * ratchet (a re-sent body).
 */
#ifndef NOID_AGENT_CORE_H
#define NOID_AGENT_CORE_H

#include <poll.h>

#include "agent-int.h"
#include "relay-client.h"
#include "store.h"

#define AGENT_CALL_MS 10000 /* blocking NEW/KEY in invite and join */
#define AGENT_BACKOFF_MIN_MS 200
#define AGENT_BACKOFF_MAX_MS 30000
#define AGENT_RETRY_MS 30000 /* QUOTA without QCONT; refused sends */
#define AGENT_DECRYPT_EVENT 1 /* failures before SECURITY DECRYPT */

/* Pseudo types of sealed bodies that are not ratchet messages. */
#define AGENT_OUT_REQUEST 100
#define AGENT_OUT_CONFIRM 101
#define AGENT_OUT_RESYNC 102
#define AGENT_OUT_RESYNC_ACK 103

/* One relay connection, shared by every queue on that relay. */
struct agent_session {
	struct agent_session *next;
	struct agent *a;
	char text[AGENT_ADDR_MAX + 1]; /* canonical address */
	struct relay_addr addr;
	struct relay_client *rc;
	int up; /* handshake done */
	unsigned gen; /* bumped per connection: stale replies ignored */
	uint64_t retry_at; /* monotonic ms of the next connect attempt */
	uint64_t backoff;
	int ping; /* idle barrier PING in flight */
};

/* A queue we receive on. */
struct agent_rq {
	int present;
	char relay[AGENT_ADDR_MAX + 1];
	struct relay_queue q;
	struct relay_keypair auth;
	/* memory only */
	int sub; /* 0 no, 1 in flight, 2 subscribed, 3 taken by another */
	int ack_owed, ack_busy;
	uint8_t ack_id[NOID_ID_LEN];
	int del_busy;
};

/* A queue we send to. */
struct agent_sq {
	int present;
	char relay[AGENT_ADDR_MAX + 1];
	uint8_t sid[NOID_ID_LEN];
	int auth_set; /* unsigned SEND (the request) when 0 */
	struct relay_keypair auth;
};

/* A sealed body waiting for the relay's OK (sent in order, one at a
 * time, so QUOTA never reorders a connection's messages). */
struct agent_out {
	struct agent_out *next;
	int type; /* AGENT_MSG_* or AGENT_OUT_* */
	int delivered; /* memory: its receipt came before the relay's OK */
	int has_msg;
	uint8_t msg[AGENT_ID_LEN]; /* TEXT: store id */
	uint8_t hash[AGENT_HASH_LEN];
	struct agent_sq to;
	uint8_t *body; /* AGENT_BODY bytes */
};

/* A control message not yet sealed (encoded agent message). */
struct agent_ctl {
	struct agent_ctl *next;
	struct buf enc;
};

/* A queued text from the store's outbox (memory only). */
struct agent_text {
	struct agent_text *next;
	uint8_t msg[AGENT_ID_LEN];
	char *text;
	size_t len;
};

/* Rotation of our receiving queue (R side). */
enum agent_rot_r {
	AGENT_ROT_R_IDLE = 0,
	AGENT_ROT_R_NEW, /* NEW owed */
	AGENT_ROT_R_ADDED, /* QADD queued; waiting for QKEY */
	AGENT_ROT_R_KEY, /* KEY owed on the new queue, then QUSE */
	AGENT_ROT_R_USED /* QUSE queued; waiting for QEND */
};

/* One connection (secret memory: holds keys). */
struct agent_c {
	struct agent_c *next;
	uint8_t id[AGENT_ID_LEN];
	uint8_t contact[AGENT_ID_LEN];
	int state; /* enum agent_conn_state */
	int trust, trust_base, incoming;
	int need_key; /* inviter: KEY our queue with key_pub, then REQUEST */
	int deleting; /* DELETE queued: forget the connection once it left */
	uint64_t expires_ms, rotated_ms;
	char name[AGENT_NAME_MAX + 1];
	char status[AGENT_STATUS_MAX + 1];
	uint8_t key_pub[32];
	struct agent_rq rq, rq_next, rq_old;
	int rot_r;
	uint8_t rot_box_priv[32], rot_box_pub[32], rot_recv_key[32];
	struct agent_sq sq, sq_next;
	int rot_s; /* QKEY queued: waiting for QUSE */
	uint8_t rot_send_key[32];
	struct agent_out *out;
	struct agent_ctl *ctl;
	struct agent_conn *core;
	/* memory only */
	struct agent_text *texts;
	int send_busy, quota, new_busy, key_busy;
	uint64_t send_retry_at;
	int decrypt_fail;
	int dirty; /* only a sent receipt changed the state: save later */
	struct relay_queue_keys new_keys;
};

/* A queued event with owned strings. */
struct agent_evq {
	struct agent_evq *next;
	struct agent_event ev;
	char *name, *status, *text, *detail;
};

struct agent {
	struct store *st;
	uint8_t profile[AGENT_ID_LEN];
	struct agent_relay *relays;
	size_t nrelays, next_relay;
	uint64_t invite_ttl_ms, rotate_ms;
	int no_receipts;
	agent_event_cb cb;
	void *cb_arg;
	char name[AGENT_NAME_MAX + 1];
	char status[AGENT_STATUS_MAX + 1];
	struct agent_session *sessions;
	struct agent_c *conns;
	struct agent_evq *evq, **evq_tail;
	int delivering, stop, fatal;
	int batch; /* a loop pass's commit is open; sessions corked */
	int hold_sends; /* reading: seal nothing until events are out */
	uint64_t activity; /* bumped by every MSG: idle barrier */
	uint64_t barrier_at;
	int barrier_wait;
};

/* agent.c */
struct agent_c *agent_find(struct agent *a, const uint8_t id[AGENT_ID_LEN]);
struct agent_evq *agent_event_new(
    struct agent *a, int type, const struct agent_c *c);
void agent_event_error(
    struct agent *a, const struct agent_c *c, int err, const char *detail);
void agent_fatal(struct agent *a, int err);
void agent_step(int step);

/* agent-relay.c */
struct agent_session *agent_session_get(struct agent *a, const char *text);
void agent_session_free(struct agent_session *s);
void agent_session_down(struct agent_session *s, int err);
void agent_session_timers(struct agent_session *s, uint64_t now);
int agent_session_timeout(struct agent_session *s, uint64_t now);
typedef void (*agent_reply_fn)(struct agent *a, struct agent_c *c, int err,
    const struct proto_tx *tx, void *data);
int agent_request(struct agent *a, struct agent_session *s,
    const struct agent_c *c, struct proto_tx *tx,
    const struct relay_keypair *auth, agent_reply_fn fn, const void *data,
    size_t dlen);
void agent_tx_init(struct proto_tx *tx, uint8_t tag, const uint8_t *entity);
void agent_kick_recv(struct agent *a, struct agent_c *c);
struct agent_rq *agent_find_rq(
    struct agent *a, const uint8_t rid[NOID_ID_LEN], struct agent_c **cp);
void agent_queue_delete(struct agent *a, const struct agent_rq *q);
int agent_barrier(struct agent *a);
int agent_blocking_new(struct agent *a, const struct agent_relay *r,
    const uint8_t *key_pub, struct relay_queue_keys *k, struct relay_queue *q);

/* agent-state.c */
int agent_persist(struct agent *a, struct agent_c *c);
void agent_state_save(const struct agent_c *c, struct buf *out);
int agent_state_load(const uint8_t *p, size_t len, struct agent_c *c);
struct agent_c *agent_c_new(void);
void agent_c_free(struct agent_c *c);
void agent_ctl_push(struct agent_c *c, const struct agent_msg *m);
void agent_out_push(struct agent_c *c, int type, const struct agent_sq *to,
    const uint8_t *body, const uint8_t *msg, const uint8_t *hash);
void agent_out_pop(struct agent_c *c);

/* agent-hs.c */
void agent_invite_fill(struct agent_invite *inv, const struct relay_addr *addr,
    const uint8_t sid[AGENT_QUEUE_ID_LEN]);
void agent_invite_relay(
    const struct agent_invite *inv, char out[AGENT_ADDR_MAX + 1]);
void agent_forget(struct agent *a, struct agent_c *c, int err);
void agent_kick_hs(struct agent *a, struct agent_c *c);
int agent_hs_timers(struct agent *a, struct agent_c *c, uint64_t wall);

/* agent-send.c */
int agent_seal_next(struct agent *a, struct agent_c *c);
void agent_kick_send(struct agent *a, struct agent_c *c);
void agent_on_qcont(
    struct agent *a, struct agent_session *s, const uint8_t sid[NOID_ID_LEN]);
void agent_on_receipt(
    struct agent *a, struct agent_c *c, const uint8_t *hash, const uint8_t *id);

/* agent-rekey.c */
int agent_keys_changed(struct agent *a, struct agent_c *c, int why, int trust);
int agent_rekey_on_msg(
    struct agent *a, struct agent_c *c, const struct agent_msg *m);

/* agent-recv.c */
void agent_on_msg(
    struct agent *a, struct agent_session *s, const struct proto_tx *tx);

/* agent-rotate.c */
int agent_rotate_start(struct agent *a, struct agent_c *c);
void agent_kick_rotate(struct agent *a, struct agent_c *c);
int agent_rotate_on_msg(struct agent *a, struct agent_c *c,
    const struct agent_msg *m, struct agent_rq *from);
int agent_seal_hook(
    struct agent *a, struct agent_c *c, const struct agent_msg *m);

/* All work a connection has to do now. */
void agent_kick(struct agent *a, struct agent_c *c);

#endif
