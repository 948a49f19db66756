/*
 * noid — agent-send: sealing and sending, in order, exactly once.
 *
 * A connection sends one body at a time.  The next message (control
 * messages first, then the oldest queued text) is sealed only when the
 * previous one was accepted, and the sealed body is saved with the
 * advanced ratchet in one store commit BEFORE it is handed to the
 * relay: a crash re-sends the same bytes (the peer's ratchet drops a
 * copy it already has), never a new encryption under a used key.  The
 * relay's OK makes the text "sent" in the store, again in one commit
 * with the state.  ERR QUOTA parks the connection until the relay's
 * QCONT (or a retry timer, since QCONT is lost with the session);
 * sending one at a time means a QUOTA can never reorder messages.
 */
#include <sodium.h>
#include <string.h>

#include "agent-core.h"

/* Seal the first control message; 1 when it cannot go yet. */
static int
seal_ctl(struct agent *a, struct agent_c *c, uint8_t *body)
{
	struct agent_ctl *k = c->ctl;
	struct agent_sq to;
	struct agent_msg m;
	uint8_t hash[AGENT_HASH_LEN];
	int rc;

	if (agent_msg_decode(k->enc.data, k->enc.len, &m) != 0)
		rc = NOID_ERR_CORRUPT;
	else if (m.type == AGENT_MSG_REKEY)
		rc = agent_conn_rekey(c->core, body);
	else if (m.type == AGENT_MSG_REKEY_LINK)
		rc = agent_conn_rekey_link_offer(c->core, body);
	else
		rc = agent_conn_seal(c->core, &m, body, hash);
	if (rc == NOID_ERR_STATE && m.type != AGENT_MSG_REKEY &&
	    m.type != AGENT_MSG_REKEY_LINK)
		return 1; /* the ratchet cannot send yet: wait */
	c->ctl = k->next;
	buf_free_secret(&k->enc);
	free(k);
	if (rc != 0) {
		agent_event_error(a, c, rc, "a control message was dropped");
		return 0;
	}
	to = c->sq;
	/* QEND is the last message on the old queue: switch after it. */
	agent_seal_hook(a, c, &m);
	agent_out_push(c, m.type, &to, body, NULL, hash);
	sodium_memzero(&to, sizeof to);
	return 0;
}

/* Seal the oldest queued text. */
static void
seal_text(struct agent *a, struct agent_c *c, uint8_t *body)
{
	struct agent_text *t = c->texts;
	struct agent_msg m;
	uint8_t hash[AGENT_HASH_LEN];
	int rc;

	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_TEXT;
	memcpy(m.id, t->msg, AGENT_ID_LEN);
	m.ts_ms = clock_wall_ms();
	m.text = t->text;
	m.text_len = t->len;
	rc = agent_conn_seal(c->core, &m, body, hash);
	if (rc == NOID_ERR_STATE)
		return;
	c->texts = t->next;
	if (rc == 0)
		agent_out_push(c, AGENT_MSG_TEXT, &c->sq, body, t->msg, hash);
	else
		agent_event_error(a, c, rc, "a message could not be sealed");
	free(t->text);
	free(t);
}

/* Seal the next body into c->out if it is empty; 1 when one was. */
int
agent_seal_next(struct agent *a, struct agent_c *c)
{
	uint8_t *body;

	if (c->out != NULL || c->core == NULL || !c->sq.present)
		return 0;
	if (c->ctl == NULL &&
	    (c->texts == NULL || c->state != AGENT_CONN_READY || c->deleting))
		return 0;
	body = xmalloc(AGENT_BODY);
	while (c->out == NULL && c->ctl != NULL)
		if (seal_ctl(a, c, body) != 0)
			break;
	if (c->out == NULL && c->ctl == NULL && c->texts != NULL &&
	    c->state == AGENT_CONN_READY && !c->deleting)
		seal_text(a, c, body);
	free(body);
	if (c->out != NULL)
		agent_step(AGENT_STEP_SEND_BEFORE_COMMIT);
	return c->out != NULL;
}

/* seal_next, and save at once what it sealed. */
static void
seal_save(struct agent *a, struct agent_c *c)
{
	if (agent_seal_next(a, c) && agent_persist(a, c) == 0)
		agent_step(AGENT_STEP_SEND_AFTER_COMMIT);
}

/*
 * Mark our message with this hash delivered.  store_receipt finds it by
 * hash but does not return its id; the receipt carries the id too, and
 * it names the event only when that message is ours, on this
 * connection, and now delivered.
 */
static void
delivered(
    struct agent *a, struct agent_c *c, const uint8_t *msg, const uint8_t *hash)
{
	struct agent_evq *e;
	struct store_msg m;
	int rc;

	rc = store_receipt(a->st, a->profile, c->id, hash);
	if (rc == NOID_ERR_NOENT)
		return;
	if (rc != 0) {
		agent_fatal(a, rc);
		return;
	}
	if (store_msg_get(a->st, a->profile, msg, &m) != 0)
		return;
	if (m.dir == STORE_DIR_OUT && m.status == STORE_STATUS_DELIVERED &&
	    memcmp(m.conn, c->id, AGENT_ID_LEN) == 0) {
		e = agent_event_new(a, AGENT_EV_DELIVERED, c);
		memcpy(e->ev.msg, msg, AGENT_ID_LEN);
	}
	store_msg_clear(&m);
}

/* A receipt: the contact has our message with this hash and id. */
void
agent_on_receipt(
    struct agent *a, struct agent_c *c, const uint8_t *hash, const uint8_t *id)
{
	struct agent_out *o;

	for (o = c->out; o != NULL; o = o->next) {
		if (o->has_msg && sodium_memcmp(o->hash, hash, 32) == 0) {
			/* Before the relay's OK reached us (two relays). */
			o->delivered = 1;
			return;
		}
	}
	delivered(a, c, id, hash);
}

/* The relay answered our SEND of c->out. */
static void
on_sent(struct agent *a, struct agent_c *c, int err, const struct proto_tx *tx,
    void *data)
{
	struct agent_out *o = c->out;
	struct agent_evq *e;
	uint8_t msg[AGENT_ID_LEN], hash[AGENT_HASH_LEN];
	struct buf b;
	int type, rc, was_delivered, sealed;

	(void)tx;
	(void)data;
	c->send_busy = 0;
	if (o == NULL)
		return;
	if (err == NOID_ERR_QUOTA) {
		c->quota = 1;
		c->send_retry_at = clock_mono_ms() + AGENT_RETRY_MS;
		return;
	}
	if (err == NOID_ERR_AUTH) {
		if (o->type == AGENT_OUT_REQUEST) {
			/* The link was used already, or it expired. */
			agent_forget(a, c, NOID_ERR_EXPIRED);
			return;
		}
		if (c->deleting) {
			agent_forget(a, c, 0);
			return;
		}
		agent_event_error(a, c, err, "the contact's queue refused");
		c->send_retry_at = clock_mono_ms() + AGENT_RETRY_MS;
		return;
	}
	if (tx == NULL)
		return; /* the session died: sent again on reconnect */
	type = o->type;
	if (err != 0)
		agent_event_error(a, c, err, "the relay refused a message");
	was_delivered = o->delivered;
	memcpy(msg, o->msg, AGENT_ID_LEN);
	memcpy(hash, o->hash, AGENT_HASH_LEN);
	agent_out_pop(c);
	c->send_retry_at = 0;
	/* The next body is sealed now and saved in the same commit. */
	sealed = type != AGENT_MSG_DELETE && agent_seal_next(a, c);
	if (err == 0 && type == AGENT_MSG_TEXT) {
		buf_init(&b);
		agent_state_save(c, &b);
		rc = store_send_record(
		    a->st, a->profile, msg, hash, b.data, b.len);
		buf_free_secret(&b);
		if (rc != 0 && rc != NOID_ERR_STATE) {
			agent_fatal(a, rc);
			return;
		}
		c->dirty = 0;
		if (rc == NOID_ERR_STATE && agent_persist(a, c) != 0)
			return;
		if (sealed)
			agent_step(AGENT_STEP_SEND_AFTER_COMMIT);
		e = agent_event_new(a, AGENT_EV_SENT, c);
		memcpy(e->ev.msg, msg, AGENT_ID_LEN);
		if (was_delivered)
			delivered(a, c, msg, hash);
	} else if (type == AGENT_MSG_RCVD && !sealed) {
		/* No commit of its own for a receipt that left: after a
		 * crash the same bytes go again and the contact's ratchet
		 * drops the copy.  The next commit of the state saves it. */
		c->dirty = 1;
	} else if (agent_persist(a, c) != 0)
		return;
	else if (sealed)
		agent_step(AGENT_STEP_SEND_AFTER_COMMIT);
	if (type == AGENT_MSG_DELETE && c->deleting) {
		agent_forget(a, c, 0);
		return;
	}
	agent_kick(a, c);
}

/* Send c's next body if nothing is in flight. */
void
agent_kick_send(struct agent *a, struct agent_c *c)
{
	struct agent_session *s;
	struct agent_out *o;
	struct proto_tx tx;
	uint64_t now;

	if (c->send_busy || a->fatal)
		return;
	now = clock_mono_ms();
	if (c->send_retry_at != 0 && now < c->send_retry_at)
		return;
	c->quota = 0;
	seal_save(a, c);
	if ((o = c->out) == NULL || a->fatal)
		return;
	if ((s = agent_session_get(a, o->to.relay)) == NULL || !s->up)
		return;
	agent_tx_init(&tx, PROTO_SEND, o->to.sid);
	tx.u.send.flags = o->type == AGENT_MSG_TEXT ? PROTO_SEND_NOTIFY : 0;
	tx.u.send.body = o->body;
	tx.u.send.body_len = AGENT_BODY;
	if (agent_request(a, s, c, &tx, o->to.auth_set ? &o->to.auth : NULL,
	        on_sent, NULL, 0) == 0) {
		c->send_busy = 1;
		agent_step(AGENT_STEP_SEND_AFTER_SEND);
	}
}

/* QCONT: the queue that said QUOTA has room again. */
void
agent_on_qcont(
    struct agent *a, struct agent_session *s, const uint8_t sid[NOID_ID_LEN])
{
	struct agent_c *c;

	for (c = a->conns; c != NULL; c = c->next) {
		if (c->out == NULL || !c->quota ||
		    strcmp(c->out->to.relay, s->text) != 0 ||
		    memcmp(c->out->to.sid, sid, NOID_ID_LEN) != 0)
			continue;
		c->quota = 0;
		c->send_retry_at = 0;
		agent_kick(a, c);
	}
}

/* Queue a text for a connected contact. */
int
agent_send(struct agent *a, const uint8_t conn[AGENT_ID_LEN], const char *text,
    size_t text_len, uint8_t msg[AGENT_ID_LEN])
{
	struct agent_c *c = agent_find(a, conn);
	struct agent_text *t, **pp;
	uint8_t prev[STORE_HASH_LEN];
	uint64_t seq;
	int rc, sealed;

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (c->state != AGENT_CONN_READY || c->deleting)
		return NOID_ERR_STATE;
	if (text_len > AGENT_TEXT_MAX)
		return NOID_ERR_TOOBIG;
	if (text_len == 0 || memchr(text, '\0', text_len) != NULL)
		return NOID_ERR_INVAL;
	if ((rc = store_tx_begin(a->st)) != 0)
		return rc;
	if ((rc = store_send_reserve(a->st, a->profile, conn, text, text_len,
	         msg, &seq, prev)) != 0) {
		store_tx_rollback(a->st);
		return rc;
	}
	t = xcalloc(1, sizeof *t);
	memcpy(t->msg, msg, AGENT_ID_LEN);
	t->text = xmemdup(text, text_len);
	t->len = text_len;
	for (pp = &c->texts; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = t;
	/* An idle connection seals it at once: one commit, not two. */
	sealed = agent_seal_next(a, c);
	if ((sealed && (rc = agent_persist(a, c)) != 0) ||
	    (rc = store_tx_commit(a->st)) != 0) {
		agent_fatal(a, rc);
		return rc;
	}
	if (sealed)
		agent_step(AGENT_STEP_SEND_AFTER_COMMIT);
	agent_kick(a, c);
	return 0;
}
