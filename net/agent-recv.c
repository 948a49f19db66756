/*
 * noid — agent-recv: one MSG from a relay, store-then-ack.
 *
 * The body is opened (relay layer, queue box, ratchet) in memory, every
 * effect (the message row, the advanced ratchet, a receipt owed, a
 * profile, a rotation step) is written in ONE store commit (nested in
 * the loop pass's, agent.c), and only then is the relay acked: the ACK
 * is issued here but held by the corked session until that commit.  A crash before the commit gets the same
 * MSG again and decrypts it again from the saved state; a crash after
 * it gets a ratchet duplicate, acked and dropped silently.  Events are
 * queued and delivered after the loop pass, never from in here.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "agent-core.h"

/* The store's id of an incoming message: the sender's id scoped to the
 * connection (as store_msg_incoming derives it). */
static void
local_id(const uint8_t conn[AGENT_ID_LEN], const uint8_t sender[AGENT_ID_LEN],
    uint8_t out[AGENT_ID_LEN])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, AGENT_ID_LEN);
	crypto_generichash_update(&h, conn, AGENT_ID_LEN);
	crypto_generichash_update(&h, sender, AGENT_ID_LEN);
	crypto_generichash_final(&h, out, AGENT_ID_LEN);
}

/* A profile arrived (HELLO or PROFILE): keep it and name the contact. */
static int
set_profile(struct agent *a, struct agent_c *c, const struct agent_msg *m)
{
	snprintf(c->name, sizeof c->name, "%s", m->name);
	snprintf(c->status, sizeof c->status, "%s", m->status);
	return store_contact_set_alias(a->st, a->profile, c->contact, m->name);
}

/*
 * A TEXT: store it with the state; events for the UI.  The receipt is
 * only queued: it is sealed after the pass delivered its events, so the
 * message shows first, and it is saved in the same commit (agent.c).
 */
static int
on_text(struct agent *a, struct agent_c *c, const struct agent_recv *r)
{
	const struct agent_msg *m = &r->msg;
	struct store_incoming in;
	struct agent_msg rc_msg;
	struct agent_evq *e;
	struct buf b;
	int rc, dup = 0;

	if (!a->no_receipts) {
		memset(&rc_msg, 0, sizeof rc_msg);
		rc_msg.type = AGENT_MSG_RCVD;
		memcpy(rc_msg.hash, r->hash, AGENT_HASH_LEN);
		memcpy(rc_msg.id, m->id, AGENT_ID_LEN);
		agent_ctl_push(c, &rc_msg);
	}
	memset(&in, 0, sizeof in);
	memcpy(in.id, m->id, AGENT_ID_LEN);
	in.ts_ms = m->ts_ms;
	in.seq = m->seq;
	memcpy(in.hash, r->hash, AGENT_HASH_LEN);
	in.text = m->text;
	in.text_len = m->text_len;
	buf_init(&b);
	agent_state_save(c, &b);
	rc = store_msg_incoming(
	    a->st, a->profile, c->id, &in, b.data, b.len, &dup);
	buf_free_secret(&b);
	if (rc != 0)
		return rc;
	c->dirty = 0;
	if (r->integrity != 0) {
		e = agent_event_new(a, AGENT_EV_INTEGRITY, c);
		e->ev.integrity = r->integrity;
		e->ev.seq = r->integrity == AGENT_INTEGRITY_SKIPPED
		    ? r->gap_from
		    : m->seq;
		e->ev.seq_to = r->integrity == AGENT_INTEGRITY_SKIPPED
		    ? r->gap_to
		    : m->seq;
	}
	if (dup)
		return 0;
	e = agent_event_new(a, AGENT_EV_MESSAGE, c);
	local_id(c->id, m->id, e->ev.msg);
	e->text = xmemdup(m->text, m->text_len);
	e->ev.text_len = m->text_len;
	e->ev.ts_ms = m->ts_ms;
	e->ev.seq = m->seq;
	return 0;
}

/* A ratchet message; *forget set when the contact deleted us. */
static int
on_ratchet(struct agent *a, struct agent_c *c, struct agent_rq *from,
    struct agent_recv *r, int *forget, int *saved)
{
	const struct agent_msg *m = &r->msg;
	struct agent_msg hello;
	struct agent_evq *e;
	int rc = 0;

	if (r->rekeyed &&
	    (rc = agent_keys_changed(
	         a, c, AGENT_SECURITY_REKEYED, r->rekey_trust)) != 0)
		return rc;
	if (r->rekey_refused)
		agent_event_error(a, c, NOID_ERR_EXPIRED,
		    "the contact refused our re-key link (used or expired)");
	switch (m->type) {
	case AGENT_MSG_HELLO:
	case AGENT_MSG_PROFILE:
		if ((rc = set_profile(a, c, m)) != 0)
			return rc;
		if (c->state == AGENT_CONN_READY) {
			e = agent_event_new(a, AGENT_EV_PROFILE, c);
			e->name = xstrdup(c->name);
			e->status = xstrdup(c->status);
			break;
		}
		if (m->type != AGENT_MSG_HELLO)
			break;
		if (!c->incoming) {
			/* Joiner: its ratchet can send now; answer HELLO. */
			memset(&hello, 0, sizeof hello);
			hello.type = AGENT_MSG_HELLO;
			snprintf(hello.name, sizeof hello.name, "%s", a->name);
			snprintf(
			    hello.status, sizeof hello.status, "%s", a->status);
			agent_ctl_push(c, &hello);
		}
		c->state = AGENT_CONN_READY;
		c->expires_ms = 0;
		c->rotated_ms = clock_wall_ms();
		e = agent_event_new(a, AGENT_EV_CONNECTED, c);
		e->name = xstrdup(c->name);
		e->status = xstrdup(c->status);
		break;
	case AGENT_MSG_TEXT:
		*saved = 1;
		return on_text(a, c, r);
	case AGENT_MSG_RCVD:
		agent_on_receipt(a, c, m->hash, m->id);
		break;
	case AGENT_MSG_QADD:
	case AGENT_MSG_QKEY:
	case AGENT_MSG_QUSE:
	case AGENT_MSG_QEND:
		return agent_rotate_on_msg(a, c, m, from);
	case AGENT_MSG_REKEY:
	case AGENT_MSG_REKEY_LINK:
		return agent_rekey_on_msg(a, c, m);
	case AGENT_MSG_DELETE:
		*forget = 1;
		break;
	default:
		break;
	}
	return rc;
}

/* One decrypted body: every effect, then one commit. */
static int
on_body(struct agent *a, struct agent_c *c, struct agent_rq *from,
    struct agent_recv *r, int *forget)
{
	const struct agent_request *req;
	int rc = 0, saved = 0;

	switch (r->kind) {
	case AGENT_INNER_REQUEST:
		if (c->state != AGENT_CONN_INVITED ||
		    (req = agent_conn_request(c->core)) == NULL)
			return 0;
		c->need_key = 1;
		memcpy(c->key_pub, req->send_auth, 32);
		snprintf(c->name, sizeof c->name, "%s", req->name);
		snprintf(c->status, sizeof c->status, "%s", req->status);
		break;
	case AGENT_INNER_CONFIRM:
		break;
	case AGENT_INNER_RESYNC:
	case AGENT_INNER_RESYNC_ACK:
		if (r->reply != NULL) {
			struct agent_msg p;

			agent_out_push(c, AGENT_OUT_RESYNC_ACK, &c->sq,
			    r->reply, NULL, NULL);
			/* Let the other side's new ratchet send at once. */
			memset(&p, 0, sizeof p);
			p.type = AGENT_MSG_PROFILE;
			snprintf(p.name, sizeof p.name, "%s", a->name);
			snprintf(p.status, sizeof p.status, "%s", a->status);
			agent_ctl_push(c, &p);
		}
		rc = agent_keys_changed(a, c, AGENT_SECURITY_RESYNC, 0);
		break;
	case AGENT_INNER_RATCHET:
		rc = on_ratchet(a, c, from, r, forget, &saved);
		break;
	default:
		return NOID_ERR_PROTO;
	}
	if (rc == 0 && !saved)
		rc = agent_persist(a, c);
	return rc;
}

/* A pushed MSG on one of our queues. */
void
agent_on_msg(
    struct agent *a, struct agent_session *s, const struct proto_tx *tx)
{
	struct relay_msg *rm = NULL;
	struct agent_recv r;
	struct agent_c *c;
	struct agent_rq *q = NULL;
	struct agent_evq *e;
	int rc, forget = 0;

	(void)s;
	a->activity++;
	q = agent_find_rq(a, tx->entity, &c);
	if (c == NULL || a->fatal)
		return;
	memset(&r, 0, sizeof r);
	rm = xmalloc(sizeof *rm);
	rc = relay_msg_open(tx, q->q.shared, rm);
	if (rc == 0 && c->core != NULL && !c->deleting)
		rc = agent_conn_receive(c->core, rm->body, rm->body_len, &r);
	else if (rc == 0)
		rc = NOID_ERR_STATE;
	if (rc == 0 && !r.duplicate) {
		c->decrypt_fail = 0;
		agent_step(AGENT_STEP_RECV_BEFORE_COMMIT);
		if ((rc = store_tx_begin(a->st)) == 0) {
			rc = on_body(a, c, q, &r, &forget);
			if (rc == 0)
				rc = store_tx_commit(a->st);
			else
				store_tx_rollback(a->st);
		}
		if (rc != 0) {
			/* The store failed: the state in memory is ahead of
			 * the saved one, so stop here (no ACK). */
			agent_fatal(a, rc);
			goto out;
		}
		agent_step(AGENT_STEP_RECV_AFTER_COMMIT);
	} else if (rc == NOID_ERR_CRYPTO) {
		if (++c->decrypt_fail == AGENT_DECRYPT_EVENT) {
			e = agent_event_new(a, AGENT_EV_SECURITY, c);
			e->ev.security = AGENT_SECURITY_DECRYPT;
		}
	} else if (rc != 0 && rc != NOID_ERR_EXPIRED && rc != NOID_ERR_STATE)
		agent_event_error(a, c, rc, "a message could not be read");
	/* Acked in every case: a body that fails now fails forever.  (A
	 * QEND just moved this queue to rq_old: look it up again.) */
	if ((q = agent_find_rq(a, tx->entity, &c)) == NULL)
		goto out;
	q->ack_owed = 1;
	memcpy(q->ack_id, tx->u.msg.msg_id, NOID_ID_LEN);
	agent_kick_recv(a, c);
	agent_step(AGENT_STEP_RECV_AFTER_ACK);
	if (forget)
		agent_forget(a, c, NOID_ERR_CLOSED);
	else
		agent_kick(a, c);
out:
	agent_recv_clear(&r);
	if (rm != NULL) {
		sodium_memzero(rm, sizeof *rm);
		free(rm);
	}
}
