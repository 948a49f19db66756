/*
 * noid — agent-relay: the agent's relay sessions.
 *
 * One relay_client per relay address, shared by every queue on it,
 * opened on first use and reopened after a failure with exponential
 * backoff (the poll timeout wakes the loop; nothing sleeps).  Requests
 * carry a small context naming the connection by id, so a reply that
 * arrives after the connection was deleted, or after the session was
 * replaced, is dropped.  When a session comes up every connection is
 * kicked: subscriptions, sends and rotations resume from saved state.
 */
#include <sodium.h>
#include <string.h>

#include "agent-core.h"

/* A request's context (data copied after it). */
struct agent_req {
	struct agent_session *s;
	unsigned gen;
	int has_conn;
	uint8_t conn[AGENT_ID_LEN];
	agent_reply_fn fn;
	size_t dlen;
	uint8_t data[];
};

/* A transmission for tag on entity (NULL: none). */
void
agent_tx_init(struct proto_tx *tx, uint8_t tag, const uint8_t *entity)
{
	memset(tx, 0, sizeof *tx);
	tx->tag = tag;
	if (entity != NULL) {
		tx->entity_len = NOID_ID_LEN;
		memcpy(tx->entity, entity, NOID_ID_LEN);
	}
}

/* The reply to one of our requests. */
static void
req_reply(
    struct relay_client *rc, int err, const struct proto_tx *tx, void *arg)
{
	struct agent_req *r = arg;
	struct agent_session *s = r->s;
	struct agent *a = s->a;
	struct agent_c *c = NULL;

	(void)rc;
	if (r->has_conn)
		c = agent_find(a, r->conn);
	if (r->fn != NULL && (!r->has_conn || c != NULL))
		r->fn(a, c, err, tx, r->data);
	sodium_memzero(r->data, r->dlen);
	free(r);
}

/*
 * Send a command on s for connection c (NULL: none); fn gets the reply
 * with a copy of data.  Fails (and nothing is sent) when the session
 * is down or its output is full: the next kick tries again.
 */
int
agent_request(struct agent *a, struct agent_session *s, const struct agent_c *c,
    struct proto_tx *tx, const struct relay_keypair *auth, agent_reply_fn fn,
    const void *data, size_t dlen)
{
	struct agent_req *r;
	int rc;

	(void)a;
	if (s->rc == NULL || !s->up)
		return NOID_ERR_STATE;
	r = xcalloc(1, sizeof *r + dlen);
	r->s = s;
	r->gen = s->gen;
	if (c != NULL) {
		r->has_conn = 1;
		memcpy(r->conn, c->id, AGENT_ID_LEN);
	}
	r->fn = fn;
	r->dlen = dlen;
	if (dlen > 0)
		memcpy(r->data, data, dlen);
	rc = relay_client_request(s->rc, tx, auth, req_reply, r, NULL);
	if (rc != 0) {
		sodium_memzero(r->data, dlen);
		free(r);
	}
	return rc;
}

/* Which queue of c has this recipient id (NULL: none). */
static struct agent_rq *
rq_by_rid(struct agent_c *c, const uint8_t *rid)
{
	struct agent_rq *qs[3] = {&c->rq, &c->rq_old, &c->rq_next};
	size_t i;

	for (i = 0; i < 3; i++)
		if (qs[i]->present &&
		    memcmp(qs[i]->q.rid, rid, NOID_ID_LEN) == 0)
			return qs[i];
	return NULL;
}

/* The queue (and its connection) with this recipient id. */
struct agent_rq *
agent_find_rq(
    struct agent *a, const uint8_t rid[NOID_ID_LEN], struct agent_c **cp)
{
	struct agent_rq *q;
	struct agent_c *c;

	for (c = a->conns; c != NULL; c = c->next) {
		if ((q = rq_by_rid(c, rid)) != NULL) {
			*cp = c;
			return q;
		}
	}
	*cp = NULL;
	return NULL;
}

/* A pushed MSG, END or QCONT. */
static void
sess_push(struct relay_client *rc, const struct proto_tx *tx, void *arg)
{
	struct agent_session *s = arg;
	struct agent *a = s->a;
	struct agent_c *c;
	struct agent_rq *q;

	(void)rc;
	switch (tx->tag) {
	case PROTO_MSG:
		agent_on_msg(a, s, tx);
		break;
	case PROTO_END:
		/* Another client took the queue (another device): do not
		 * fight over it; say so. */
		if ((q = agent_find_rq(a, tx->entity, &c)) != NULL) {
			q->sub = 3;
			agent_event_error(a, c, NOID_ERR_LOCKED,
			    "another client subscribed to this queue");
		}
		break;
	case PROTO_QCONT:
		agent_on_qcont(a, s, tx->entity);
		break;
	default:
		break;
	}
}

/* The session for an address text, created (and dialled) on first use. */
struct agent_session *
agent_session_get(struct agent *a, const char *text)
{
	struct agent_session *s;
	struct relay_addr addr;

	for (s = a->sessions; s != NULL; s = s->next)
		if (strcmp(s->text, text) == 0)
			return s;
	if (addr_parse(text, &addr, NULL) != 0)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->a = a;
	snprintf(s->text, sizeof s->text, "%s", text);
	s->addr = addr;
	s->next = a->sessions;
	a->sessions = s;
	agent_session_timers(s, clock_mono_ms());
	return s;
}

/* Close and free a session (agent_close). */
void
agent_session_free(struct agent_session *s)
{
	struct relay_client *rc = s->rc;

	s->rc = NULL;
	s->up = 0;
	relay_client_free(rc);
	free(s);
}

/* Forget every in-memory flag tied to s's connection. */
static void
sess_reset_conns(struct agent *a, struct agent_session *s)
{
	struct agent_rq *qs[3];
	struct agent_c *c;
	size_t i;

	for (c = a->conns; c != NULL; c = c->next) {
		qs[0] = &c->rq;
		qs[1] = &c->rq_next;
		qs[2] = &c->rq_old;
		for (i = 0; i < 3; i++) {
			if (!qs[i]->present || strcmp(qs[i]->relay, s->text))
				continue;
			qs[i]->sub = 0;
			qs[i]->ack_owed = qs[i]->ack_busy = 0;
			qs[i]->del_busy = 0;
		}
		/* QCONT is per relay connection: a new one must retry. */
		if (c->out != NULL && strcmp(c->out->to.relay, s->text) == 0)
			c->quota = 0;
	}
}

/* The session failed: drop it, retry later with backoff. */
void
agent_session_down(struct agent_session *s, int err)
{
	struct relay_client *rc = s->rc;
	struct agent *a = s->a;
	int was_up = s->up;

	s->rc = NULL;
	s->up = 0;
	s->ping = 0;
	sess_reset_conns(a, s);
	/* Pending requests are called back now, with the session down. */
	relay_client_free(rc);
	sess_reset_conns(a, s);
	s->backoff = s->backoff == 0 ? AGENT_BACKOFF_MIN_MS : s->backoff * 2;
	if (s->backoff > AGENT_BACKOFF_MAX_MS)
		s->backoff = AGENT_BACKOFF_MAX_MS;
	s->retry_at = clock_mono_ms() + s->backoff;
	if (was_up)
		agent_event_error(a, NULL, err, s->text);
	a->barrier_wait = 0;
	a->barrier_at = 0;
}

/* Connect when due, notice the handshake, send the idle PING. */
void
agent_session_timers(struct agent_session *s, uint64_t now)
{
	int rc;

	if (s->rc == NULL) {
		if (now < s->retry_at)
			return;
		rc = relay_client_open(&s->addr, sess_push, s, &s->rc);
		if (rc != 0) {
			s->rc = NULL;
			s->backoff = s->backoff == 0 ? AGENT_BACKOFF_MIN_MS
			                             : s->backoff * 2;
			if (s->backoff > AGENT_BACKOFF_MAX_MS)
				s->backoff = AGENT_BACKOFF_MAX_MS;
			s->retry_at = now + s->backoff;
			return;
		}
		s->gen++;
		/* Opened inside a loop pass: held like the others. */
		if (s->a->batch)
			(void)relay_client_set_cork(s->rc, 1);
		return;
	}
	if (!s->up && relay_client_established(s->rc)) {
		s->up = 1;
		s->backoff = 0;
		sess_reset_conns(s->a, s);
	}
	if (s->up && relay_client_timeout_ms(s->rc) == 0 &&
	    relay_client_on_timer(s->rc) < 0)
		agent_session_down(s, relay_client_error(s->rc));
}

/* Milliseconds until s needs the loop (-1: nothing). */
int
agent_session_timeout(struct agent_session *s, uint64_t now)
{
	if (s->rc == NULL)
		return s->retry_at <= now ? 0 : (int)(s->retry_at - now);
	if (!s->up)
		return relay_client_established(s->rc) ? 0 : -1;
	return relay_client_timeout_ms(s->rc);
}

/* SUB answered. */
static void
on_sub(struct agent *a, struct agent_c *c, int err, const struct proto_tx *tx,
    void *data)
{
	struct agent_rq *q = rq_by_rid(c, data);

	(void)tx;
	if (q == NULL)
		return;
	if (err == 0)
		q->sub = q->sub == 1 ? 2 : q->sub;
	else if (err == NOID_ERR_AUTH) {
		q->sub = 3;
		agent_event_error(
		    a, c, err, "our queue is gone from its relay");
	} else
		q->sub = 0;
	agent_kick(a, c);
}

/* ACK answered (NO_MSG: an old id; nothing to do either way). */
static void
on_ack(struct agent *a, struct agent_c *c, int err, const struct proto_tx *tx,
    void *data)
{
	struct agent_rq *q = rq_by_rid(c, data);

	(void)err;
	(void)tx;
	if (q != NULL)
		q->ack_busy = 0;
	agent_kick(a, c);
}

/* DEL of a replaced queue answered. */
static void
on_del_old(struct agent *a, struct agent_c *c, int err,
    const struct proto_tx *tx, void *data)
{
	(void)tx;
	if (!c->rq_old.present ||
	    memcmp(c->rq_old.q.rid, data, NOID_ID_LEN) != 0)
		return;
	c->rq_old.del_busy = 0;
	if (err == 0 || err == NOID_ERR_AUTH) {
		sodium_memzero(&c->rq_old, sizeof c->rq_old);
		agent_persist(a, c);
	}
}

/* Issue the ACK a queue owes. */
static void
kick_ack(struct agent *a, struct agent_c *c, struct agent_rq *q)
{
	struct agent_session *s;
	struct proto_tx tx;

	if (!q->present || !q->ack_owed || q->ack_busy)
		return;
	if ((s = agent_session_get(a, q->relay)) == NULL || !s->up)
		return;
	agent_tx_init(&tx, PROTO_ACK, q->q.rid);
	memcpy(tx.u.ack.msg_id, q->ack_id, NOID_ID_LEN);
	if (agent_request(
	        a, s, c, &tx, &q->auth, on_ack, q->q.rid, NOID_ID_LEN) == 0) {
		q->ack_owed = 0;
		q->ack_busy = 1;
	}
}

/* Subscribe, ack and delete what c's receiving queues need. */
void
agent_kick_recv(struct agent *a, struct agent_c *c)
{
	struct agent_session *s;
	struct proto_tx tx;

	kick_ack(a, c, &c->rq);
	kick_ack(a, c, &c->rq_old);
	if (c->rq.present && c->rq.sub == 0 &&
	    (s = agent_session_get(a, c->rq.relay)) != NULL && s->up) {
		agent_tx_init(&tx, PROTO_SUB, c->rq.q.rid);
		if (agent_request(a, s, c, &tx, &c->rq.auth, on_sub,
		        c->rq.q.rid, NOID_ID_LEN) == 0)
			c->rq.sub = 1;
	}
	if (c->rq_old.present && !c->rq_old.ack_owed && !c->rq_old.ack_busy &&
	    !c->rq_old.del_busy &&
	    (s = agent_session_get(a, c->rq_old.relay)) != NULL && s->up) {
		agent_tx_init(&tx, PROTO_DEL, c->rq_old.q.rid);
		if (agent_request(a, s, c, &tx, &c->rq_old.auth, on_del_old,
		        c->rq_old.q.rid, NOID_ID_LEN) == 0)
			c->rq_old.del_busy = 1;
	}
}

/* Delete a queue of a forgotten connection: best effort (a queue left
 * behind expires with its messages' TTL). */
void
agent_queue_delete(struct agent *a, const struct agent_rq *q)
{
	struct agent_session *s;
	struct proto_tx tx;

	if (!q->present || (s = agent_session_get(a, q->relay)) == NULL)
		return;
	agent_tx_init(&tx, PROTO_DEL, q->q.rid);
	(void)agent_request(a, s, NULL, &tx, &q->auth, NULL, NULL, 0);
}

/* A barrier PING came back. */
static void
on_pong(struct agent *a, struct agent_c *c, int err, const struct proto_tx *tx,
    void *data)
{
	struct agent_session *s;

	(void)c;
	(void)err;
	(void)tx;
	memcpy(&s, data, sizeof s);
	s->ping = 0;
	if (a->barrier_wait > 0)
		a->barrier_wait--;
}

/*
 * Whether every message the relays held for us when we last looked has
 * been seen: a relay answers in order, so once a PING sent after our
 * last command comes back with no MSG arriving meanwhile, nothing was
 * pending.  Returns 1 when so, else starts (or waits for) a round.
 */
int
agent_barrier(struct agent *a)
{
	struct agent_session *s;
	struct proto_tx tx;

	if (a->barrier_wait > 0)
		return 0;
	if (a->barrier_at == a->activity + 1)
		return 1;
	a->barrier_at = a->activity + 1;
	for (s = a->sessions; s != NULL; s = s->next) {
		if (!s->up)
			continue;
		agent_tx_init(&tx, PROTO_PING, NULL);
		if (agent_request(
		        a, s, NULL, &tx, NULL, on_pong, &s, sizeof s) == 0) {
			s->ping = 1;
			a->barrier_wait++;
		} else
			a->barrier_at = 0;
	}
	return 0;
}

/*
 * NEW (and, with key_pub, KEY) on relay r over a short blocking
 * connection of its own: invite and join need the queue's ids before
 * they can return.
 */
int
agent_blocking_new(struct agent *a, const struct agent_relay *r,
    const uint8_t *key_pub, struct relay_queue_keys *k, struct relay_queue *q)
{
	struct relay_client *rc = NULL;
	struct relay_addr addr;
	int err;

	(void)a;
	if (addr_parse(r->address, &addr, NULL) != 0)
		return NOID_ERR_INVAL;
	if ((err = relay_client_connect_blocking(
	         &addr, AGENT_CALL_MS, NULL, NULL, &rc)) != 0)
		return err;
	relay_queue_keys_new(k);
	err = relay_client_create_queue(rc, k, r->access_key, AGENT_CALL_MS, q);
	if (err == 0 && key_pub != NULL)
		err = relay_client_secure(
		    rc, &k->rcpt_auth, q->rid, key_pub, AGENT_CALL_MS);
	relay_client_free(rc);
	return err;
}
