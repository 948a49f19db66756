/*
 * noid — agent-rotate: queue rotation, re-key and resync.
 *
 * Rotation of our receiving queue (PROTOCOL.md §11.6), R = us,
 * S = the contact:
 *
 *   R: NEW Q'; QADD {Q', box pub}          -> S (on S's queue)
 *   S: QKEY {sid', box pub, auth pub}      -> R (on the old queue)
 *   R: KEY Q'; QUSE {sid'}                 -> S
 *   S: QEND {sid'} (last on the old queue), then sends to Q' only
 *   R on QEND: SUB Q', DEL the old queue
 *
 * Every step is saved before its message is sealed, so a restart
 * resumes it; S switches between two of its own sends and R reads Q'
 * only after the old queue's last message, so nothing is lost, doubled
 * or reordered while traffic flows.  Both sides rotate independently.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "agent-core.h"

/* Start rotating c's receiving queue. */
int
agent_rotate_start(struct agent *a, struct agent_c *c)
{
	if (c->state != AGENT_CONN_READY || c->deleting ||
	    c->rot_r != AGENT_ROT_R_IDLE)
		return NOID_ERR_STATE;
	c->rot_r = AGENT_ROT_R_NEW;
	if (agent_persist(a, c) != 0)
		return a->fatal;
	agent_kick(a, c);
	return 0;
}

/* Rotate now (AGENT_EV_ROTATED when done). */
int
agent_rotate(struct agent *a, const uint8_t conn[AGENT_ID_LEN])
{
	struct agent_c *c = agent_find(a, conn);

	if (c == NULL)
		return NOID_ERR_NOENT;
	return agent_rotate_start(a, c);
}

/* NEW of the next queue answered. */
static void
on_new(struct agent *a, struct agent_c *c, int err, const struct proto_tx *tx,
    void *data)
{
	struct agent_msg m;

	c->new_busy = 0;
	if (c->rot_r != AGENT_ROT_R_NEW)
		return;
	if (tx == NULL)
		return; /* the session died: NEW again later */
	if (err != 0 || tx->tag != PROTO_IDS) {
		agent_event_error(a, c, err, "could not make a new queue");
		c->rot_r = AGENT_ROT_R_IDLE;
		c->rotated_ms = clock_wall_ms();
		agent_persist(a, c);
		return;
	}
	memset(&c->rq_next, 0, sizeof c->rq_next);
	c->rq_next.present = 1;
	snprintf(c->rq_next.relay, sizeof c->rq_next.relay, "%s",
	    (const char *)data);
	memcpy(c->rq_next.q.rid, tx->u.ids.rid, NOID_ID_LEN);
	memcpy(c->rq_next.q.sid, tx->u.ids.sid, NOID_ID_LEN);
	memcpy(c->rq_next.q.relay_dh_pub, tx->u.ids.relay_dh_pub, 32);
	if (proto_msg_shared(c->rq_next.q.shared, c->rq_next.q.relay_dh_pub,
	        c->new_keys.rcpt_dh.priv) != 0) {
		memset(&c->rq_next, 0, sizeof c->rq_next);
		return;
	}
	c->rq_next.auth = c->new_keys.rcpt_auth;
	sodium_memzero(&c->new_keys, sizeof c->new_keys);
	crypto_box_keypair(c->rot_box_pub, c->rot_box_priv);
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_QADD;
	snprintf(m.q.relay, sizeof m.q.relay, "%s", c->rq_next.relay);
	memcpy(m.q.sid, c->rq_next.q.sid, NOID_ID_LEN);
	memcpy(m.box, c->rot_box_pub, 32);
	agent_ctl_push(c, &m);
	c->rot_r = AGENT_ROT_R_ADDED;
	if (agent_persist(a, c) == 0)
		agent_kick(a, c);
}

/* KEY of the next queue answered: tell the sender to use it. */
static void
on_rot_key(struct agent *a, struct agent_c *c, int err,
    const struct proto_tx *tx, void *data)
{
	struct agent_msg m;

	(void)data;
	c->key_busy = 0;
	if (c->rot_r != AGENT_ROT_R_KEY || tx == NULL)
		return;
	if (err != 0) {
		agent_event_error(a, c, err, "could not secure the new queue");
		return;
	}
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_QUSE;
	memcpy(m.q.sid, c->rq_next.q.sid, NOID_ID_LEN);
	agent_ctl_push(c, &m);
	c->rot_r = AGENT_ROT_R_USED;
	if (agent_persist(a, c) == 0)
		agent_kick(a, c);
}

/* The relay work of a rotation in progress, and the schedule. */
void
agent_kick_rotate(struct agent *a, struct agent_c *c)
{
	const struct agent_relay *r;
	struct agent_session *s;
	struct relay_addr addr;
	struct proto_tx tx;
	char text[AGENT_ADDR_MAX + 1], *f;

	if (c->rot_r == AGENT_ROT_R_NEW && !c->new_busy) {
		r = &a->relays[a->next_relay % a->nrelays];
		if (addr_parse(r->address, &addr, NULL) != 0)
			return;
		f = addr_format(&addr);
		snprintf(text, sizeof text, "%s", f);
		free(f);
		if ((s = agent_session_get(a, text)) == NULL || !s->up)
			return;
		relay_queue_keys_new(&c->new_keys);
		agent_tx_init(&tx, PROTO_NEW, NULL);
		memcpy(tx.u.create.dh_pub, c->new_keys.rcpt_dh.pub, 32);
		if (r->access_key != NULL) {
			tx.u.create.access_key = (const uint8_t *)r->access_key;
			tx.u.create.access_key_len = strlen(r->access_key);
		}
		if (agent_request(a, s, c, &tx, &c->new_keys.rcpt_auth, on_new,
		        text, strlen(text) + 1) == 0) {
			c->new_busy = 1;
			a->next_relay++;
		}
	}
	if (c->rot_r == AGENT_ROT_R_KEY && !c->key_busy &&
	    (s = agent_session_get(a, c->rq_next.relay)) != NULL && s->up) {
		agent_tx_init(&tx, PROTO_KEY, c->rq_next.q.rid);
		memcpy(tx.u.key.sender_pub, c->key_pub, 32);
		if (agent_request(a, s, c, &tx, &c->rq_next.auth, on_rot_key,
		        NULL, 0) == 0)
			c->key_busy = 1;
	}
}

/* A rotation message from the contact (saved by the caller). */
int
agent_rotate_on_msg(struct agent *a, struct agent_c *c,
    const struct agent_msg *m, struct agent_rq *from)
{
	struct agent_msg out;
	struct relay_addr addr;
	uint8_t priv[32], pub[32];
	char *f;
	int rc = 0;

	memset(&out, 0, sizeof out);
	switch (m->type) {
	case AGENT_MSG_QADD: /* we send to the contact: new queue */
		if (addr_parse(m->q.relay, &addr, NULL) != 0)
			return 0;
		memset(&c->sq_next, 0, sizeof c->sq_next);
		c->sq_next.present = 1;
		f = addr_format(&addr);
		snprintf(c->sq_next.relay, sizeof c->sq_next.relay, "%s", f);
		free(f);
		memcpy(c->sq_next.sid, m->q.sid, NOID_ID_LEN);
		c->sq_next.auth_set = 1;
		relay_keypair_new(&c->sq_next.auth);
		crypto_box_keypair(pub, priv);
		if ((rc = agent_queue_key(c->rot_send_key, m->box, priv)) != 0)
			break;
		out.type = AGENT_MSG_QKEY;
		memcpy(out.q.sid, m->q.sid, NOID_ID_LEN);
		memcpy(out.box, pub, 32);
		memcpy(out.auth, c->sq_next.auth.pub, 32);
		agent_ctl_push(c, &out);
		c->rot_s = 1;
		break;
	case AGENT_MSG_QKEY: /* our new queue: the sender's keys */
		if (c->rot_r != AGENT_ROT_R_ADDED ||
		    memcmp(m->q.sid, c->rq_next.q.sid, NOID_ID_LEN) != 0)
			return 0;
		if ((rc = agent_queue_key(
		         c->rot_recv_key, m->box, c->rot_box_priv)) != 0)
			break;
		memcpy(c->key_pub, m->auth, 32);
		c->rot_r = AGENT_ROT_R_KEY;
		break;
	case AGENT_MSG_QUSE: /* switch after one last message */
		if (c->rot_s != 1 ||
		    memcmp(m->q.sid, c->sq_next.sid, NOID_ID_LEN) != 0)
			return 0;
		out.type = AGENT_MSG_QEND;
		memcpy(out.q.sid, m->q.sid, NOID_ID_LEN);
		agent_ctl_push(c, &out);
		c->rot_s = 2;
		break;
	case AGENT_MSG_QEND: /* the old queue is drained: read the new */
		if (c->rot_r != AGENT_ROT_R_USED || from != &c->rq ||
		    memcmp(m->q.sid, c->rq_next.q.sid, NOID_ID_LEN) != 0)
			return 0;
		c->rq_old = c->rq;
		c->rq = c->rq_next;
		c->rq.sub = 0;
		memset(&c->rq_next, 0, sizeof c->rq_next);
		agent_conn_set_recv_key(c->core, c->rot_recv_key);
		sodium_memzero(c->rot_recv_key, 32);
		sodium_memzero(c->rot_box_priv, 32);
		c->rot_r = AGENT_ROT_R_IDLE;
		c->rotated_ms = clock_wall_ms();
		agent_event_new(a, AGENT_EV_ROTATED, c);
		break;
	default:
		break;
	}
	sodium_memzero(priv, sizeof priv);
	if (rc != 0)
		agent_event_error(a, c, rc, "a queue rotation step failed");
	return agent_persist(a, c);
}

/* After sealing m: QEND was the last body for the old queue. */
int
agent_seal_hook(struct agent *a, struct agent_c *c, const struct agent_msg *m)
{
	(void)a;
	if (m->type != AGENT_MSG_QEND || c->rot_s != 2)
		return 0;
	c->sq = c->sq_next;
	memset(&c->sq_next, 0, sizeof c->sq_next);
	agent_conn_set_send_key(c->core, c->rot_send_key);
	sodium_memzero(c->rot_send_key, 32);
	c->rot_s = 0;
	return 0;
}
