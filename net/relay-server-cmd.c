/*
 * relay-server-cmd: the relay's commands (net/PROTOCOL.md §4).
 *
 * Authorization: the command carries auth_pub and a MAC keyed by
 * X25519(session auth secret, auth_pub) bound to the session id.  The
 * derived key is cached per connection so the hot path costs one keyed
 * BLAKE2b.  A missing queue is checked against a dummy hash after the
 * same DH and MAC work, and answers the same ERR AUTH as a wrong key.
 */
#include "relay-server-int.h"

#include <sodium.h>
#include <string.h>

/* Reply with an ERR code echoing tx's corr_id and entity. */
static void
reply_err(struct relay_server *s, struct rs_conn *c, const struct proto_tx *cmd,
    uint8_t code)
{
	struct proto_tx tx;

	memset(&tx, 0, sizeof tx);
	tx.corr_id = cmd->have_corr_id ? cmd->corr_id : 0;
	if (cmd->entity_len == NOID_ID_LEN) {
		tx.entity_len = NOID_ID_LEN;
		memcpy(tx.entity, cmd->entity, NOID_ID_LEN);
	}
	tx.tag = PROTO_ERR;
	tx.u.err.code = code;
	rs_conn_reply(s, c, &tx, false);
}

/* Reply with a bare tag (OK, PONG) echoing corr_id and entity;
 * durable: it reports a change (rs_conn_reply). */
static void
reply_tag(struct relay_server *s, struct rs_conn *c, const struct proto_tx *cmd,
    uint8_t tag, bool durable)
{
	struct proto_tx tx;

	memset(&tx, 0, sizeof tx);
	tx.corr_id = cmd->corr_id;
	tx.entity_len = cmd->entity_len;
	memcpy(tx.entity, cmd->entity, cmd->entity_len);
	tx.tag = tag;
	rs_conn_reply(s, c, &tx, durable);
}

/*
 * Send a pushed (corr_id 0) bare notice, END or QCONT.  It goes behind
 * c's held replies, not ahead like MSG: a QCONT that overtook its ERR
 * QUOTA would leave the sender waiting for good.
 */
static void
push_tag(struct relay_server *s, struct rs_conn *c, const uint8_t *entity,
    uint8_t tag)
{
	struct proto_tx tx;

	memset(&tx, 0, sizeof tx);
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, entity, NOID_ID_LEN);
	tx.tag = tag;
	rs_conn_reply(s, c, &tx, false);
}

/* The authenticator key for auth_pub on c, from the cache or derived. */
static int
auth_key(struct rs_conn *c, const uint8_t *auth_pub, uint8_t k[32])
{
	struct rs_kcache *e;
	size_t i;
	int rc;

	for (i = 0; i < c->nkc; i++) {
		if (memcmp(c->kc[i].pub, auth_pub, NOID_KEY_LEN) == 0) {
			memcpy(k, c->kc[i].k, 32);
			return 0;
		}
	}
	rs_conn_kd_spend(c);
	rc = proto_auth_key(k, transport_session_auth_secret(c->t), auth_pub,
	    transport_session_id(c->t));
	if (rc != 0)
		return rc;
	if (c->nkc == c->kc_cap && c->kc_cap < RS_KCACHE_MAX) {
		size_t ncap = c->kc_cap == 0 ? 2 : (size_t)c->kc_cap * 2;
		struct rs_kcache *n = xcalloc(ncap, sizeof *n);

		if (c->kc != NULL) {
			memcpy(n, c->kc, c->nkc * sizeof *n);
			sodium_memzero(c->kc, c->kc_cap * sizeof *c->kc);
			free(c->kc);
		}
		c->kc = n;
		c->kc_cap = (uint8_t)ncap;
	}
	if (c->nkc < c->kc_cap)
		e = &c->kc[c->nkc++];
	else {
		/* Full: replace round-robin. */
		e = &c->kc[c->kc_next];
		c->kc_next = (uint8_t)((c->kc_next + 1) % c->kc_cap);
	}
	memcpy(e->pub, auth_pub, NOID_KEY_LEN);
	memcpy(e->k, k, 32);
	return 0;
}

/*
 * Check tx's authenticator against want_hash (NULL: the queue is absent,
 * so check against a dummy and fail).  Same work either way.
 */
static bool
authorized(struct relay_server *s, struct rs_conn *c, const struct proto_tx *tx,
    const uint8_t *want_hash)
{
	uint8_t k[32], h[32];
	int bad = 0;

	if (tx->auth_kind != PROTO_AUTH_MAC)
		return false;
	if (auth_key(c, tx->auth_pub, k) != 0)
		bad = 1;
	proto_key_hash(h, tx->auth_pub);
	bad |= ct_memcmp(
	           h, want_hash != NULL ? want_hash : s->dummy_hash, 32) != 0;
	bad |= proto_auth_verify(tx, k, transport_session_id(c->t)) != 0;
	bad |= want_hash == NULL;
	sodium_memzero(k, sizeof k);
	return bad == 0;
}

/* Expiry callback: journal the deletion. */
void
rs_cmd_expired(void *ctx, struct relay_queue *q, const struct relay_msg *m)
{
	struct relay_server *s = ctx;

	relay_journal_msg_del(s->j, q, m->id);
	s->st.msgs_expired++;
}

/* The head of q after lazy expiry. */
static struct relay_msg *
head(struct relay_server *s, struct relay_queue *q)
{
	return relay_queue_msg_head(
	    s->qs, q, clock_wall_ms(), rs_cmd_expired, s);
}

static void quota_resume(struct relay_server *s, struct relay_queue *q);

/* What a stored message costs beside its body (its heap node and its
 * journal record), counted against max_stored so tiny messages cannot
 * hold many times the limit. */
#define RS_MSG_COST 128

/* Queue a MSG for m of q on c with corr_id. */
static void
send_msg(struct relay_server *s, struct rs_conn *c, struct relay_queue *q,
    const struct relay_msg *m, uint64_t corr_id)
{
	struct proto_tx tx;
	size_t enc_len;

	memset(&tx, 0, sizeof tx);
	tx.corr_id = corr_id;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q->rid, NOID_ID_LEN);
	tx.tag = PROTO_MSG;
	memcpy(tx.u.msg.msg_id, m->id, NOID_ID_LEN);
	if (proto_msg_seal(s->scratch, sizeof s->scratch, &enc_len, m->id,
	        q->box_key, m->ts_ms, m->flags, m->body, m->len) != 0)
		fatalx("relay: cannot seal a stored message");
	tx.u.msg.enc = s->scratch;
	tx.u.msg.enc_len = enc_len;
	if (corr_id == 0)
		rs_conn_push(s, c, &tx);
	else
		rs_conn_reply(s, c, &tx, false);
	s->st.msgs_out++;
}

/* Push q's next messages, in order, until its subscriber's window of
 * unacked ones is full. */
void
rs_cmd_push(struct relay_server *s, struct relay_queue *q)
{
	struct rs_conn *c = q->sub;
	struct relay_msg *m;

	/* Whatever made room (an ACK, expiry), waiting senders hear it. */
	quota_resume(s, q);
	if (c == NULL)
		return;
	if (q->push_owed) {
		q->push_owed = 0;
		c->nowed--;
	}
	if (head(s, q) == NULL)
		return;
	while (q->ndeliv < q->window && (m = relay_queue_msg_next(q)) != NULL) {
		if (rs_conn_backlogged(c)) {
			q->push_owed = 1;
			c->nowed++;
			return;
		}
		q->ndeliv++;
		send_msg(s, c, q, m, 0);
	}
}

void
rs_cmd_push_owed(struct relay_server *s, struct rs_conn *c)
{
	struct relay_queue *q, *next;

	for (q = c->subs; q != NULL && c->nowed > 0; q = next) {
		next = q->sub_next;
		if (rs_conn_backlogged(c))
			return;
		if (q->push_owed)
			rs_cmd_push(s, q);
	}
}

/* Detach q from its subscriber's list. */
static void
unsubscribe(struct relay_queue *q)
{
	struct rs_conn *c = q->sub;

	if (c == NULL)
		return;
	if (q->sub_prev != NULL)
		q->sub_prev->sub_next = q->sub_next;
	else
		c->subs = q->sub_next;
	if (q->sub_next != NULL)
		q->sub_next->sub_prev = q->sub_prev;
	if (q->push_owed) {
		q->push_owed = 0;
		c->nowed--;
	}
	q->sub = NULL;
	q->sub_prev = q->sub_next = NULL;
	q->window = q->ndeliv = 0;
}

/* Forget c's subscriptions. */
void
rs_cmd_conn_gone(struct relay_server *s, struct rs_conn *c)
{
	(void)s;
	while (c->subs != NULL)
		unsubscribe(c->subs);
}

/* Tell the senders that got QUOTA that q has room again. */
static void
quota_resume(struct relay_server *s, struct relay_queue *q)
{
	struct rs_conn *w;
	size_t i;

	if (q->nmsg >= relay_queue_quota(s->qs) / 2)
		return;
	for (i = 0; i < RELAY_QWAIT; i++) {
		if (q->qwait[i] == 0)
			continue;
		if ((w = rs_conn_from_token(s, q->qwait[i])) != NULL)
			push_tag(s, w, q->sid, PROTO_QCONT);
		q->qwait[i] = 0;
	}
}

/* Remember that c got QUOTA on q. */
static void
quota_wait(struct relay_queue *q, struct rs_conn *c)
{
	uint64_t tok = rs_conn_token(c);
	size_t i;

	for (i = 0; i < RELAY_QWAIT; i++)
		if (q->qwait[i] == tok)
			return;
	for (i = 0; i < RELAY_QWAIT; i++) {
		if (q->qwait[i] == 0) {
			q->qwait[i] = tok;
			return;
		}
	}
	/* Several senders at once: the newest replaces the last slot. */
	q->qwait[RELAY_QWAIT - 1] = tok;
}

/* NEW: create a queue. */
static void
cmd_new(struct relay_server *s, struct rs_conn *c, const struct proto_tx *tx)
{
	const char *want = s->cfg->access_key;
	uint8_t rh[32], box[32], dh_priv[32], dh_pub[32], a[32], b[32];
	struct relay_queue *q;
	struct proto_tx r;
	uint8_t k[32];
	int bad;

	/* The new key must sign its own NEW (proves possession, binds
	 * the session); then the access key, compared in constant time
	 * through hashes so its length does not leak. */
	bad = auth_key(c, tx->auth_pub, k) != 0;
	bad |= proto_auth_verify(tx, k, transport_session_id(c->t)) != 0;
	sodium_memzero(k, sizeof k);
	if (bad) {
		reply_err(s, c, tx, PROTO_E_AUTH);
		return;
	}
	if (want != NULL) {
		crypto_generichash(
		    a, sizeof a, (const uint8_t *)want, strlen(want), NULL, 0);
		crypto_generichash(b, sizeof b, tx->u.create.access_key,
		    tx->u.create.access_key_len, NULL, 0);
		if (sodium_memcmp(a, b, sizeof a) != 0) {
			reply_err(s, c, tx, PROTO_E_BLOCKED);
			return;
		}
	}
	if (relay_queue_count(s->qs) >= s->cfg->max_queues ||
	    c->nnew >= s->cfg->max_queues_per_conn) {
		reply_err(s, c, tx, PROTO_E_LIMIT);
		return;
	}
	crypto_box_keypair(dh_pub, dh_priv);
	bad = proto_msg_shared(box, tx->u.create.dh_pub, dh_priv) != 0;
	sodium_memzero(dh_priv, sizeof dh_priv);
	if (bad) {
		/* The decoder refuses low-order keys; never store a queue
		 * whose box key is all zero anyway. */
		reply_err(s, c, tx, PROTO_E_CMD);
		return;
	}
	proto_key_hash(rh, tx->auth_pub);
	q = relay_queue_create(s->qs, rh, box);
	c->nnew++;
	sodium_memzero(box, sizeof box);
	relay_journal_queue_new(s->j, q);

	memset(&r, 0, sizeof r);
	r.corr_id = tx->corr_id;
	r.tag = PROTO_IDS;
	memcpy(r.u.ids.rid, q->rid, NOID_ID_LEN);
	memcpy(r.u.ids.sid, q->sid, NOID_ID_LEN);
	memcpy(r.u.ids.relay_dh_pub, dh_pub, NOID_KEY_LEN);
	rs_conn_reply(s, c, &r, true);
}

/* SEND: append to the queue named by the sender id. */
static void
cmd_send(struct relay_server *s, struct rs_conn *c, const struct proto_tx *tx)
{
	struct relay_queue *q = relay_queue_find_sid(s->qs, tx->entity);
	struct relay_msg *m;
	bool ok;

	if (tx->u.send.body_len == 0 || tx->u.send.body_len > NOID_MSG_MAX) {
		reply_err(s, c, tx, PROTO_E_LARGE);
		return;
	}
	if (q != NULL && !(q->flags & RELAY_Q_SECURED) &&
	    tx->auth_kind == PROTO_AUTH_NONE)
		ok = true;
	else
		ok = authorized(s, c, tx,
		    q != NULL && (q->flags & RELAY_Q_SECURED) ? q->sndr_hash
		                                              : NULL);
	if (!ok || (q->flags & RELAY_Q_SUSPENDED)) {
		reply_err(s, c, tx, PROTO_E_AUTH);
		return;
	}
	(void)head(s, q); /* expire first: it may make room */
	if (relay_queue_full(s->qs, q)) {
		quota_wait(q, c);
		reply_err(s, c, tx, PROTO_E_QUOTA);
		return;
	}
	if (relay_queue_body_bytes(s->qs) +
	        relay_queue_msg_count(s->qs) * RS_MSG_COST +
	        tx->u.send.body_len + RS_MSG_COST >
	    s->cfg->max_stored) {
		reply_err(s, c, tx, PROTO_E_LIMIT);
		return;
	}
	if (relay_queue_msg_add(s->qs, q, NULL, clock_wall_ms(),
	        tx->u.send.flags, tx->u.send.body, tx->u.send.body_len,
	        &m) != 0) {
		reply_err(s, c, tx, PROTO_E_LARGE);
		return;
	}
	relay_journal_msg_add(s->j, q, m);
	s->st.msgs_in++;
	reply_tag(s, c, tx, PROTO_OK, true);
	rs_cmd_push(s, q);
}

/* Commands that name a queue by its recipient id. */
static void
cmd_recipient(
    struct relay_server *s, struct rs_conn *c, const struct proto_tx *tx)
{
	struct relay_queue *q = relay_queue_find_rid(s->qs, tx->entity);
	struct relay_msg *m;
	struct rs_conn *old;

	if (!authorized(s, c, tx, q != NULL ? q->rcpt_hash : NULL)) {
		reply_err(s, c, tx, PROTO_E_AUTH);
		return;
	}
	switch (tx->tag) {
	case PROTO_KEY: {
		uint8_t sh[32];

		proto_key_hash(sh, tx->u.key.sender_pub);
		if (q->flags & RELAY_Q_SECURED) {
			/* Repeating the same KEY is harmless; another is not. */
			if (sodium_memcmp(sh, q->sndr_hash, 32) == 0)
				reply_tag(s, c, tx, PROTO_OK, true);
			else
				reply_err(s, c, tx, PROTO_E_AUTH);
			return;
		}
		relay_queue_secure(q, sh);
		relay_journal_queue_key(s->j, q);
		reply_tag(s, c, tx, PROTO_OK, true);
		return;
	}
	case PROTO_SUB:
		old = q->sub;
		if (old != c) {
			unsubscribe(q);
			if (old != NULL)
				push_tag(s, old, q->rid, PROTO_END);
			q->sub = c;
			q->sub_prev = NULL;
			q->sub_next = c->subs;
			if (c->subs != NULL)
				c->subs->sub_prev = q;
			c->subs = q;
		}
		/* A (re)subscriber gets every unacked message again,
		 * oldest first. */
		q->window = tx->u.sub.window;
		q->ndeliv = 0;
		reply_tag(s, c, tx, PROTO_OK, false);
		rs_cmd_push(s, q);
		return;
	case PROTO_ACK:
		if (relay_queue_msg_ack(s->qs, q, tx->u.ack.msg_id) != 0) {
			reply_err(s, c, tx, PROTO_E_NO_MSG);
			return;
		}
		relay_journal_msg_del(s->j, q, tx->u.ack.msg_id);
		s->st.msgs_acked++;
		reply_tag(s, c, tx, PROTO_OK, true);
		rs_cmd_push(s, q);
		return;
	case PROTO_GET:
		if ((m = head(s, q)) == NULL) {
			reply_err(s, c, tx, PROTO_E_NO_MSG);
			return;
		}
		send_msg(s, c, q, m, tx->corr_id);
		return;
	case PROTO_OFF:
		if (!(q->flags & RELAY_Q_SUSPENDED)) {
			relay_queue_suspend(q);
			relay_journal_queue_off(s->j, q);
		}
		reply_tag(s, c, tx, PROTO_OK, true);
		return;
	case PROTO_DEL:
		old = q->sub;
		unsubscribe(q);
		if (old != NULL && old != c)
			push_tag(s, old, q->rid, PROTO_END);
		relay_journal_queue_del(s->j, q);
		relay_queue_delete(s->qs, q);
		reply_tag(s, c, tx, PROTO_OK, true);
		return;
	default:
		reply_err(s, c, tx, PROTO_E_CMD);
	}
}

/* Run one decoded command. */
static void
cmd_one(struct relay_server *s, struct rs_conn *c, const struct proto_tx *tx)
{
	/* Past max_buffered every command but PING could add output
	 * (MSG replies and pushes): refuse until the clients read. */
	if (s->buffered >= s->cfg->max_buffered && tx->tag != PROTO_PING) {
		reply_err(s, c, tx, PROTO_E_LIMIT);
		return;
	}
	switch (tx->tag) {
	case PROTO_NEW:
		cmd_new(s, c, tx);
		break;
	case PROTO_SEND:
		cmd_send(s, c, tx);
		break;
	case PROTO_PING:
		reply_tag(s, c, tx, PROTO_PONG, false);
		break;
	case PROTO_KEY:
	case PROTO_SUB:
	case PROTO_ACK:
	case PROTO_GET:
	case PROTO_OFF:
	case PROTO_DEL:
		cmd_recipient(s, c, tx);
		break;
	default:
		/* Reserved ranges (forwarding, lease cells) and the rest. */
		reply_err(s, c, tx, PROTO_E_CMD);
	}
}

/* Run every transmission of one received block. */
void
rs_cmd_block(struct relay_server *s, struct rs_conn *c, const uint8_t *block)
{
	struct proto_block_iter it;
	struct proto_tx tx;
	const uint8_t *p;
	size_t len;
	int rc;

	proto_block_iter_init(&it, block);
	while ((rc = proto_block_next(&it, &p, &len)) == 0) {
		memset(&tx, 0, sizeof tx);
		rc = proto_tx_decode(p, len, PROTO_DIR_CMD, &tx);
		if (rc == NOID_ERR_AUTH) {
			tx.entity_len = 0;
			reply_err(s, c, &tx, PROTO_E_AUTH);
		} else if (rc == NOID_ERR_TOOBIG) {
			reply_err(s, c, &tx, PROTO_E_LARGE);
		} else if (rc != 0) {
			tx.entity_len = 0;
			reply_err(s, c, &tx, PROTO_E_CMD);
		} else
			cmd_one(s, c, &tx);
		if (c->state == RS_CLOSING)
			return;
	}
	if (rc != NOID_ERR_NOENT)
		rs_cmd_session_error(s, c);
}

/* Answer ERR SESSION and close c after it is written. */
void
rs_cmd_session_error(struct relay_server *s, struct rs_conn *c)
{
	struct proto_tx tx;

	memset(&tx, 0, sizeof tx);
	reply_err(s, c, &tx, PROTO_E_SESSION);
	rs_conn_close_later(s, c);
}
