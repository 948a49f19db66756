/*
 * noid — agent-conn: one connection's end-to-end state, without I/O.
 *
 * The handshake of PROTOCOL.md (agent §4), the ratchet messages of §5
 * and the in-band re-key of §6 as pure state transitions: callers give
 * received bodies and get bodies to send, so the same code runs under
 * the poll-loop driver and in tests that pass bodies by hand.  State is
 * in secret memory; every change happens only after the incoming body
 * authenticated and decoded, so a failing call leaves the state as it
 * was.  The sequence numbers and hash chain kept here are the agent's
 * own view; the driver mirrors them in the store's message rows.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "agent-int.h"

#define CONN_BLOB_VERSION 2
#define CONN_LINK_CTX (32 + E2E_AD_SIZE)

struct agent_conn {
	int role;
	int ready; /* HELLO received */
	int have_req;
	int have_keys; /* send_key and recv_key set */
	int cur_used; /* the current ratchet decrypted something */
	int resyncing; /* offer is a resync's, not a re-key's */
	int offer_link; /* offer is a REKEY_LINK's (join_key) */
	int inv_set; /* a re-key link of ours waits for its offer */
	int join_set; /* we use the peer's re-key link */
	int inv_trust, join_trust; /* how each link travelled */
	uint64_t inv_expires; /* wall clock ms */
	uint8_t inv_key[AGENT_INVITE_KEY_LEN], join_key[AGENT_INVITE_KEY_LEN];
	uint8_t link_key[AGENT_INVITE_KEY_LEN];
	uint8_t recv_priv[32], recv_pub[32]; /* our box key, our queue */
	uint8_t send_priv[32], send_pub[32]; /* our box key, their queue */
	uint8_t recv_key[32], send_key[32];
	uint64_t send_seq, recv_seq;
	uint8_t send_hash[AGENT_HASH_LEN], recv_hash[AGENT_HASH_LEN];
	struct agent_request req;
	struct e2e_offer *offer; /* joiner before CONFIRM; re-key pending */
	struct e2e_ratchet *ratchet;
	struct e2e_ratchet *old; /* receive-only, after a re-key */
};

/* A connection with fresh box keys. */
static struct agent_conn *
conn_alloc(int role)
{
	struct agent_conn *c = secret_alloc(sizeof *c);

	memset(c, 0, sizeof *c);
	c->role = role;
	crypto_box_keypair(c->recv_pub, c->recv_priv);
	crypto_box_keypair(c->send_pub, c->send_priv);
	return c;
}

/* Free a connection's state; NULL is a no-op. */
void
agent_conn_free(struct agent_conn *c)
{
	if (c == NULL)
		return;
	e2e_offer_free(c->offer);
	e2e_ratchet_free(c->ratchet);
	e2e_ratchet_free(c->old);
	secret_free(c);
}

/* Release what a receive result holds. */
void
agent_recv_clear(struct agent_recv *r)
{
	buf_free_secret(&r->plain);
	free(r->reply);
	sodium_memzero(r, sizeof *r);
}

/* Inviter side of a new invitation. */
struct agent_conn *
agent_conn_new_inviter(const uint8_t link_key[AGENT_INVITE_KEY_LEN])
{
	struct agent_conn *c = conn_alloc(AGENT_ROLE_INVITER);

	memcpy(c->link_key, link_key, AGENT_INVITE_KEY_LEN);
	return c;
}

/* Joiner: state and REQUEST body for an invitation. */
int
agent_conn_join(const struct agent_invite *inv, const struct agent_qaddr *reply,
    const uint8_t send_auth[32], const char *name, const char *status,
    struct agent_conn **out, uint8_t body[AGENT_BODY])
{
	struct agent_link_keys lk;
	struct agent_request *r;
	struct agent_conn *c;
	struct buf b;
	int rc;

	*out = NULL;
	if (name == NULL || *name == '\0' || strlen(name) > AGENT_NAME_MAX ||
	    (status != NULL && strlen(status) > AGENT_STATUS_MAX))
		return NOID_ERR_INVAL;
	c = conn_alloc(AGENT_ROLE_JOINER);
	memcpy(c->link_key, inv->key, AGENT_INVITE_KEY_LEN);
	r = &c->req;
	if ((rc = e2e_offer_new(&c->offer, r->offer)) != 0)
		goto out;
	r->reply = *reply;
	memcpy(r->reply_box, c->recv_pub, 32);
	memcpy(r->send_box, c->send_pub, 32);
	memcpy(r->send_auth, send_auth, 32);
	snprintf(r->name, sizeof r->name, "%s", name);
	snprintf(r->status, sizeof r->status, "%s", status ? status : "");
	buf_init(&b);
	agent_request_encode(r, &b);
	agent_link_keys(c->link_key, &lk);
	rc = agent_box_seal(lk.request, b.data, b.len, body);
	buf_free_secret(&b);
	sodium_memzero(&lk, sizeof lk);
out:
	if (rc != 0)
		agent_conn_free(c);
	else
		*out = c;
	return rc;
}

/* Seal a ratchet message (inner kind RATCHET) with the send key. */
static int
conn_seal_ratchet(struct agent_conn *c, struct e2e_ratchet *r,
    const struct buf *plain, uint8_t body[AGENT_BODY])
{
	struct buf inner;
	int rc;

	buf_init(&inner);
	buf_put_u8(&inner, AGENT_INNER_RATCHET);
	if ((rc = e2e_ratchet_encrypt(
	         r, NULL, 0, plain->data, plain->len, &inner)) == 0)
		rc = agent_box_seal(c->send_key, inner.data, inner.len, body);
	buf_free(&inner);
	return rc;
}

/* Encrypt one agent message to the peer. */
/* Finish a DH step a receive left pending (e2e_ratchet_prepare). */
int
agent_conn_prepare(struct agent_conn *c)
{
	return c->ratchet != NULL ? e2e_ratchet_prepare(c->ratchet) : 0;
}

int
agent_conn_seal(struct agent_conn *c, struct agent_msg *m,
    uint8_t body[AGENT_BODY], uint8_t hash[AGENT_HASH_LEN])
{
	struct e2e_ratchet *r;
	struct buf plain;
	uint8_t h[AGENT_HASH_LEN];
	int rc;

	if (c->ratchet == NULL || !c->have_keys)
		return NOID_ERR_STATE;
	r = c->ratchet;
	if (m->type == AGENT_MSG_TEXT) {
		m->seq = c->send_seq + 1;
		memcpy(m->prev_hash, c->send_hash, AGENT_HASH_LEN);
	}
	buf_init(&plain);
	agent_msg_encode(m, &plain);
	agent_msg_hash(plain.data, plain.len, h);
	/* After a re-key the offer's side may not send on the new ratchet
	 * before the peer's first message in it: the old one serves. */
	rc = conn_seal_ratchet(c, r, &plain, body);
	if (rc == NOID_ERR_STATE && c->old != NULL)
		rc = conn_seal_ratchet(c, c->old, &plain, body);
	buf_free_secret(&plain);
	if (rc != 0)
		return rc;
	if (m->type == AGENT_MSG_TEXT) {
		c->send_seq = m->seq;
		memcpy(c->send_hash, h, AGENT_HASH_LEN);
	}
	if (hash != NULL)
		memcpy(hash, h, AGENT_HASH_LEN);
	return 0;
}

/* Inviter: accept the request; CONFIRM and HELLO for the joiner. */
int
agent_conn_accept(struct agent_conn *c, const uint8_t send_auth[32],
    const char *name, const char *status, uint8_t confirm[AGENT_BODY],
    uint8_t hello[AGENT_BODY])
{
	struct agent_link_keys lk;
	struct agent_confirm cf;
	struct e2e_kex *kex = NULL;
	struct agent_msg m;
	struct buf b;
	int rc;

	if (c->role != AGENT_ROLE_INVITER || !c->have_req || c->ratchet)
		return NOID_ERR_STATE;
	if (name == NULL || *name == '\0' || strlen(name) > AGENT_NAME_MAX ||
	    (status != NULL && strlen(status) > AGENT_STATUS_MAX))
		return NOID_ERR_INVAL;
	agent_link_keys(c->link_key, &lk);
	memset(&cf, 0, sizeof cf);
	buf_init(&b);
	if ((rc = e2e_kex_answer(
	         c->req.offer, lk.ctx, sizeof lk.ctx, cf.answer, &kex)) != 0 ||
	    (rc = e2e_kex_ratchet(kex, &c->ratchet)) != 0)
		goto out;
	if ((rc = agent_queue_key(
	         c->send_key, c->req.reply_box, c->send_priv)) != 0 ||
	    (rc = agent_queue_key(
	         c->recv_key, c->req.send_box, c->recv_priv)) != 0)
		goto out;
	c->have_keys = 1;
	memcpy(cf.recv_box, c->recv_pub, 32);
	memcpy(cf.send_box, c->send_pub, 32);
	memcpy(cf.send_auth, send_auth, 32);
	agent_confirm_encode(&cf, &b);
	if ((rc = agent_box_seal(lk.confirm, b.data, b.len, confirm)) != 0)
		goto out;
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_HELLO;
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.status, sizeof m.status, "%s", status ? status : "");
	rc = agent_conn_seal(c, &m, hello, NULL);
out:
	if (rc != 0) {
		e2e_ratchet_free(c->ratchet);
		c->ratchet = NULL;
		c->have_keys = 0;
	}
	e2e_kex_free(kex);
	buf_free_secret(&b);
	sodium_memzero(&lk, sizeof lk);
	sodium_memzero(&cf, sizeof cf);
	return rc;
}

/* Joiner: a CONFIRM arrived: finish the agreement. */
static int
conn_on_confirm(struct agent_conn *c, const uint8_t *inner, size_t ilen,
    struct agent_recv *out)
{
	struct agent_link_keys lk;
	struct e2e_kex *kex = NULL;
	struct e2e_ratchet *r = NULL;
	uint8_t sk[32], rk[32];
	int rc;

	if ((rc = agent_confirm_decode(inner, ilen, &out->conf)) != 0)
		return rc;
	agent_link_keys(c->link_key, &lk);
	if ((rc = e2e_kex_finish(c->offer, out->conf.answer, lk.ctx,
	         sizeof lk.ctx, &kex)) != 0 ||
	    (rc = e2e_kex_ratchet(kex, &r)) != 0 ||
	    (rc = agent_queue_key(sk, out->conf.recv_box, c->send_priv)) != 0 ||
	    (rc = agent_queue_key(rk, out->conf.send_box, c->recv_priv)) != 0)
		goto out;
	c->ratchet = r;
	r = NULL;
	memcpy(c->send_key, sk, 32);
	memcpy(c->recv_key, rk, 32);
	c->have_keys = 1;
	e2e_offer_free(c->offer);
	c->offer = NULL;
out:
	e2e_ratchet_free(r);
	e2e_kex_free(kex);
	sodium_memzero(&lk, sizeof lk);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(rk, sizeof rk);
	return rc;
}

/* Decrypt a ratchet message with the current or the old ratchet. */
static int
conn_decrypt(struct agent_conn *c, const uint8_t *ct, size_t len,
    struct buf *pt, int *used_old)
{
	int rc;

	*used_old = 0;
	rc = e2e_ratchet_decrypt(c->ratchet, NULL, 0, ct, len, pt);
	if ((rc == NOID_ERR_CRYPTO || rc == NOID_ERR_DUPLICATE) &&
	    c->old != NULL) {
		int rc2 = e2e_ratchet_decrypt(c->old, NULL, 0, ct, len, pt);

		if (rc2 == 0 || rc2 == NOID_ERR_DUPLICATE) {
			*used_old = 1;
			rc = rc2;
		}
	}
	return rc;
}

/* Drop a pending re-key offer (and the link it was bound to). */
static void
conn_drop_offer(struct agent_conn *c)
{
	e2e_offer_free(c->offer);
	c->offer = NULL;
	c->resyncing = 0;
	if (c->offer_link) {
		c->join_set = 0;
		sodium_memzero(c->join_key, sizeof c->join_key);
	}
	c->offer_link = 0;
}

/*
 * The ctx of a re-key through a link (link ctx, then the current
 * ratchet's ad: bound to this connection) and the MAC of its offer.
 */
static void
conn_link_ctx(const struct agent_conn *c,
    const uint8_t key[AGENT_INVITE_KEY_LEN],
    const uint8_t offer[E2E_OFFER_SIZE], uint8_t ctx[CONN_LINK_CTX],
    uint8_t mac[AGENT_HASH_LEN])
{
	crypto_auth_hmacsha256_state st;
	uint8_t mk[32];

	agent_rekey_link_keys(key, ctx, mk);
	memcpy(ctx + 32, e2e_ratchet_ad(c->ratchet), E2E_AD_SIZE);
	crypto_auth_hmacsha256_init(&st, mk, sizeof mk);
	crypto_auth_hmacsha256_update(&st, offer, E2E_OFFER_SIZE);
	crypto_auth_hmacsha256_update(&st, ctx, CONN_LINK_CTX);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(mk, sizeof mk);
}

/* The answer to our re-key offer: switch to the new ratchet. */
static int
conn_on_rekeyed(
    struct agent_conn *c, const struct agent_msg *m, struct agent_recv *out)
{
	uint8_t ctx[CONN_LINK_CTX], mac[AGENT_HASH_LEN], pub[E2E_OFFER_SIZE];
	const uint8_t *x = e2e_ratchet_ad(c->ratchet);
	size_t xlen = E2E_AD_SIZE;
	struct e2e_kex *kex = NULL;
	struct e2e_ratchet *r = NULL;
	int rc;

	if (c->offer_link) {
		e2e_offer_public(c->offer, pub);
		conn_link_ctx(c, c->join_key, pub, ctx, mac);
		x = ctx;
		xlen = sizeof ctx;
	}
	if ((rc = e2e_kex_finish(c->offer, m->kex, x, xlen, &kex)) != 0 ||
	    (rc = e2e_kex_ratchet(kex, &r)) != 0)
		goto out;
	e2e_ratchet_free(c->old);
	c->old = c->ratchet;
	c->ratchet = r;
	c->cur_used = 0;
	out->rekeyed = 1;
	out->rekey_trust = c->offer_link ? c->join_trust : 0;
	conn_drop_offer(c);
out:
	e2e_kex_free(kex);
	sodium_memzero(ctx, sizeof ctx);
	return rc;
}

/* A ratchet message arrived. */
static int
conn_on_ratchet(struct agent_conn *c, const uint8_t *inner, size_t ilen,
    struct agent_recv *out)
{
	struct agent_msg *m = &out->msg;
	int rc, used_old;

	if (c->ratchet == NULL)
		return NOID_ERR_STATE;
	rc = conn_decrypt(c, inner + 1, ilen - 1, &out->plain, &used_old);
	if (rc == NOID_ERR_DUPLICATE) {
		out->duplicate = 1;
		return 0;
	}
	if (rc != 0)
		return rc;
	/* The ratchet advanced: from here the message counts even if its
	 * content is bad (the caller reports it and acks). */
	if ((rc = agent_msg_decode(out->plain.data, out->plain.len, m)) != 0)
		return rc;
	agent_msg_hash(out->plain.data, out->plain.len, out->hash);
	if (!used_old && c->old != NULL) {
		/* The peer uses the new ratchet: the old one is done. */
		e2e_ratchet_free(c->old);
		c->old = NULL;
	}
	if (!used_old)
		c->cur_used = 1;
	switch (m->type) {
	case AGENT_MSG_HELLO:
		c->ready = 1;
		break;
	case AGENT_MSG_TEXT:
		out->integrity =
		    agent_integrity_check(c->recv_seq, c->recv_hash, m->seq,
		        m->prev_hash, &out->gap_from, &out->gap_to);
		if (m->seq > c->recv_seq)
			c->recv_seq = m->seq;
		memcpy(c->recv_hash, out->hash, AGENT_HASH_LEN);
		break;
	case AGENT_MSG_REKEYED:
		if (c->offer == NULL || c->resyncing)
			return NOID_ERR_PROTO;
		rc = conn_on_rekeyed(c, m, out);
		break;
	case AGENT_MSG_REKEY_NO:
		/* Our link offer will never be answered: let it go. */
		if (c->offer_link) {
			conn_drop_offer(c);
			out->rekey_refused = 1;
		}
		break;
	default:
		break;
	}
	return rc;
}

/* Replace the ratchet with a fresh one (resync): nothing old is kept. */
static void
conn_new_ratchet(struct agent_conn *c, struct e2e_ratchet *r)
{
	e2e_ratchet_free(c->old);
	e2e_ratchet_free(c->ratchet);
	c->old = NULL;
	c->ratchet = r;
	c->cur_used = 0;
	c->ready = 1;
	e2e_offer_free(c->offer);
	c->offer = NULL;
	c->resyncing = 0;
}

/*
 * A RESYNC (answer it: new ratchet, reply gets the RESYNC_ACK) or a
 * RESYNC_ACK (finish our offer).  The queue box key authenticates
 * both: only the two ends of the connection hold it.
 */
static int
conn_on_resync(struct agent_conn *c, const uint8_t *inner, size_t ilen,
    struct agent_recv *out)
{
	struct e2e_kex *kex = NULL;
	struct e2e_ratchet *r = NULL;
	uint8_t ctx[32], ans[1 + E2E_ANSWER_SIZE];
	int rc;

	if (ilen != 1 + E2E_OFFER_SIZE)
		return NOID_ERR_PROTO;
	if (out->kind == AGENT_INNER_RESYNC) {
		/* It came on our queue: the peer's send key is our recv key. */
		agent_resync_ctx(c->recv_key, ctx);
		ans[0] = AGENT_INNER_RESYNC_ACK;
		if ((rc = e2e_kex_answer(
		         inner + 1, ctx, sizeof ctx, ans + 1, &kex)) != 0 ||
		    (rc = e2e_kex_ratchet(kex, &r)) != 0)
			goto out;
		out->reply = xmalloc(AGENT_BODY);
		if ((rc = agent_box_seal(
		         c->send_key, ans, sizeof ans, out->reply)) != 0)
			goto out;
	} else {
		if (c->offer == NULL || !c->resyncing)
			return NOID_ERR_PROTO;
		agent_resync_ctx(c->send_key, ctx);
		if ((rc = e2e_kex_finish(
		         c->offer, inner + 1, ctx, sizeof ctx, &kex)) != 0 ||
		    (rc = e2e_kex_ratchet(kex, &r)) != 0)
			goto out;
	}
	conn_new_ratchet(c, r);
	r = NULL;
	out->resync = 1;
out:
	e2e_ratchet_free(r);
	e2e_kex_free(kex);
	sodium_memzero(ctx, sizeof ctx);
	return rc;
}

/* Handle one body from our receiving queue. */
int
agent_conn_receive(struct agent_conn *c, const uint8_t *body, size_t len,
    struct agent_recv *out)
{
	uint8_t *work = xmalloc(AGENT_BOX_PAD);
	struct agent_link_keys lk;
	const uint8_t *inner;
	size_t ilen;
	int rc;

	memset(out, 0, sizeof *out);
	buf_init(&out->plain);
	agent_link_keys(c->link_key, &lk);
	if (c->have_keys)
		rc =
		    agent_box_open(c->recv_key, body, len, work, &inner, &ilen);
	else if (c->role == AGENT_ROLE_INVITER)
		rc = agent_box_open(lk.request, body, len, work, &inner, &ilen);
	else
		rc = agent_box_open(lk.confirm, body, len, work, &inner, &ilen);
	if (rc != 0)
		goto out;
	out->kind = inner[0];
	if (out->kind == AGENT_INNER_REQUEST && !c->have_keys &&
	    c->role == AGENT_ROLE_INVITER) {
		if ((rc = agent_request_decode(inner, ilen, &out->req)) != 0)
			goto out;
		if (c->have_req) {
			rc = NOID_ERR_EXPIRED; /* a second use */
			goto out;
		}
		c->req = out->req;
		c->have_req = 1;
	} else if (out->kind == AGENT_INNER_CONFIRM && !c->have_keys &&
	    c->role == AGENT_ROLE_JOINER)
		rc = conn_on_confirm(c, inner, ilen, out);
	else if (out->kind == AGENT_INNER_RATCHET && c->have_keys)
		rc = conn_on_ratchet(c, inner, ilen, out);
	else if ((out->kind == AGENT_INNER_RESYNC ||
	             out->kind == AGENT_INNER_RESYNC_ACK) &&
	    c->have_keys && c->ratchet != NULL)
		rc = conn_on_resync(c, inner, ilen, out);
	else
		rc = NOID_ERR_PROTO;
out:
	sodium_memzero(work, AGENT_BOX_PAD);
	free(work);
	sodium_memzero(&lk, sizeof lk);
	return rc;
}

/* Start an in-band re-key. */
int
agent_conn_rekey(struct agent_conn *c, uint8_t body[AGENT_BODY])
{
	struct e2e_offer *o;
	struct agent_msg m;
	int rc;

	if (!c->ready || c->offer != NULL)
		return NOID_ERR_STATE;
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_REKEY;
	if ((rc = e2e_offer_new(&o, m.kex)) != 0)
		return rc;
	if ((rc = agent_conn_seal(c, &m, body, NULL)) != 0) {
		e2e_offer_free(o);
		return rc;
	}
	c->offer = o;
	return 0;
}

/*
 * Two re-keys crossed: whether our pending offer beats the peer's.
 * Both sides compare the same two public offers, so exactly one of
 * them answers and both end on the same ratchet (the lower offer wins).
 */
static int
conn_offer_wins(const struct agent_conn *c,
    const uint8_t theirs[E2E_OFFER_SIZE], int theirs_link)
{
	uint8_t ours[E2E_OFFER_SIZE];

	if (c->offer == NULL || c->resyncing)
		return 0;
	/* A re-key through a link was asked for out of band: it wins. */
	if (c->offer_link != theirs_link)
		return c->offer_link;
	e2e_offer_public(c->offer, ours);
	return memcmp(ours, theirs, E2E_OFFER_SIZE) < 0;
}

/* Answer offer with ctx: REKEYED in the old ratchet, then switch. */
static int
conn_answer(struct agent_conn *c, const uint8_t offer[E2E_OFFER_SIZE],
    const uint8_t *ctx, size_t ctxlen, uint8_t body[AGENT_BODY])
{
	struct e2e_kex *kex = NULL;
	struct e2e_ratchet *r = NULL;
	struct agent_msg ans;
	int rc;

	memset(&ans, 0, sizeof ans);
	ans.type = AGENT_MSG_REKEYED;
	if ((rc = e2e_kex_answer(offer, ctx, ctxlen, ans.kex, &kex)) != 0 ||
	    (rc = e2e_kex_ratchet(kex, &r)) != 0 ||
	    (rc = agent_conn_seal(c, &ans, body, NULL)) != 0)
		goto out;
	e2e_ratchet_free(c->old);
	c->old = c->ratchet;
	c->ratchet = r;
	r = NULL;
	c->cur_used = 0;
	/* Both sides re-keyed at once and ours lost the tie-break. */
	conn_drop_offer(c);
out:
	e2e_ratchet_free(r);
	e2e_kex_free(kex);
	return rc;
}

/* Answer a received REKEY; switch to the new ratchet. */
int
agent_conn_rekey_answer(
    struct agent_conn *c, const struct agent_msg *m, uint8_t body[AGENT_BODY])
{
	if (m->type != AGENT_MSG_REKEY || c->ratchet == NULL)
		return NOID_ERR_STATE;
	if (conn_offer_wins(c, m->kex, 0))
		return NOID_ERR_EXISTS;
	return conn_answer(
	    c, m->kex, e2e_ratchet_ad(c->ratchet), E2E_AD_SIZE, body);
}

/* Owner: a new one-time re-key link key (replaces an older one). */
void
agent_conn_rekey_link_new(struct agent_conn *c, int trust, uint64_t expires_ms,
    uint8_t key[AGENT_INVITE_KEY_LEN])
{
	randombytes_buf(c->inv_key, sizeof c->inv_key);
	memcpy(key, c->inv_key, sizeof c->inv_key);
	c->inv_set = 1;
	c->inv_trust = trust;
	c->inv_expires = expires_ms;
}

/* Peer: remember the key of the owner's link until the offer is sealed. */
int
agent_conn_rekey_link_join(
    struct agent_conn *c, const uint8_t key[AGENT_INVITE_KEY_LEN], int trust)
{
	if (!c->ready || c->ratchet == NULL || c->offer != NULL)
		return NOID_ERR_STATE;
	memcpy(c->join_key, key, sizeof c->join_key);
	c->join_set = 1;
	c->join_trust = trust;
	return 0;
}

/* Peer: seal the REKEY_LINK offer for the link joined. */
int
agent_conn_rekey_link_offer(struct agent_conn *c, uint8_t body[AGENT_BODY])
{
	uint8_t ctx[CONN_LINK_CTX];
	struct e2e_offer *o;
	struct agent_msg m;
	int rc;

	if (!c->ready || c->offer != NULL || !c->join_set)
		return NOID_ERR_STATE;
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_REKEY_LINK;
	if ((rc = e2e_offer_new(&o, m.kex)) != 0)
		return rc;
	conn_link_ctx(c, c->join_key, m.kex, ctx, m.hash);
	sodium_memzero(ctx, sizeof ctx);
	if ((rc = agent_conn_seal(c, &m, body, NULL)) != 0) {
		e2e_offer_free(o);
		return rc;
	}
	c->offer = o;
	c->offer_link = 1;
	return 0;
}

/* Owner: answer a REKEY_LINK made with our pending link. */
int
agent_conn_rekey_link_answer(struct agent_conn *c, const struct agent_msg *m,
    uint64_t now_ms, uint8_t body[AGENT_BODY], int *trust)
{
	uint8_t ctx[CONN_LINK_CTX], mac[AGENT_HASH_LEN];
	int rc;

	*trust = 0;
	if (m->type != AGENT_MSG_REKEY_LINK || c->ratchet == NULL)
		return NOID_ERR_STATE;
	if (!c->inv_set || now_ms >= c->inv_expires)
		return NOID_ERR_EXPIRED;
	conn_link_ctx(c, c->inv_key, m->kex, ctx, mac);
	if (crypto_verify_32(mac, m->hash) != 0)
		rc = NOID_ERR_AUTH;
	else if (conn_offer_wins(c, m->kex, 1))
		rc = NOID_ERR_EXISTS;
	else
		rc = conn_answer(c, m->kex, ctx, sizeof ctx, body);
	if (rc == 0) {
		*trust = c->inv_trust;
		c->inv_set = 0;
		sodium_memzero(c->inv_key, sizeof c->inv_key);
	}
	sodium_memzero(ctx, sizeof ctx);
	return rc;
}

/* Offer a resync outside the ratchet (our state was lost). */
int
agent_conn_resync(struct agent_conn *c, uint8_t body[AGENT_BODY])
{
	struct e2e_offer *o;
	uint8_t inner[1 + E2E_OFFER_SIZE];
	int rc;

	if (!c->have_keys || c->ratchet == NULL)
		return NOID_ERR_STATE;
	inner[0] = AGENT_INNER_RESYNC;
	if ((rc = e2e_offer_new(&o, inner + 1)) != 0)
		return rc;
	if ((rc = agent_box_seal(c->send_key, inner, sizeof inner, body)) !=
	    0) {
		e2e_offer_free(o);
		return rc;
	}
	e2e_offer_free(c->offer);
	c->offer = o;
	c->resyncing = 1;
	return 0;
}

/* The request an inviter received. */
const struct agent_request *
agent_conn_request(const struct agent_conn *c)
{
	return c->have_req ? &c->req : NULL;
}

/* The inviter's auth key pair for the joiner's queue. */
void
agent_conn_reply_auth(
    const struct agent_conn *c, uint8_t priv[32], uint8_t pub[32])
{
	agent_link_reply_auth(c->link_key, priv, pub);
}

/* New box key for the queue we send to. */
void
agent_conn_set_send_key(struct agent_conn *c, const uint8_t key[32])
{
	memcpy(c->send_key, key, 32);
}

/* New box key for the queue we receive on. */
void
agent_conn_set_recv_key(struct agent_conn *c, const uint8_t key[32])
{
	memcpy(c->recv_key, key, 32);
}

/* Whether an offer waits for its answer. */
int
agent_conn_offer_pending(const struct agent_conn *c)
{
	return c->offer != NULL && c->have_keys;
}

/* Whether the handshake finished. */
int
agent_conn_ready(const struct agent_conn *c)
{
	return c->ready && c->ratchet != NULL;
}

/* The current security code. */
int
agent_conn_code(const struct agent_conn *c, struct e2e_code *code)
{
	if (c->ratchet == NULL)
		return NOID_ERR_STATE;
	e2e_ratchet_code(c->ratchet, code);
	return 0;
}

/* Put an optional blob with a u32 length (0 = absent). */
static void
put_blob(struct buf *out, const struct buf *b)
{
	buf_put_u32(out, (uint32_t)b->len);
	buf_put(out, b->data, b->len);
}

/* Serialize a connection. */
void
agent_conn_save(const struct agent_conn *c, struct buf *out)
{
	struct buf b;

	buf_put_u8(out, CONN_BLOB_VERSION);
	buf_put_u8(out, (uint8_t)c->role);
	buf_put_u8(out,
	    (uint8_t)(c->ready | c->have_req << 1 | c->have_keys << 2 |
	        c->cur_used << 3 | c->resyncing << 4 | c->offer_link << 5 |
	        c->inv_set << 6 | c->join_set << 7));
	buf_put(out, c->link_key, sizeof c->link_key);
	buf_put(out, c->recv_priv, 32);
	buf_put(out, c->send_priv, 32);
	buf_put(out, c->recv_key, 32);
	buf_put(out, c->send_key, 32);
	buf_put_u64(out, c->send_seq);
	buf_put_u64(out, c->recv_seq);
	buf_put(out, c->send_hash, AGENT_HASH_LEN);
	buf_put(out, c->recv_hash, AGENT_HASH_LEN);
	buf_init(&b);
	if (c->have_req)
		agent_request_encode(&c->req, &b);
	put_blob(out, &b);
	buf_reset(&b);
	if (c->offer != NULL)
		e2e_offer_save(c->offer, &b);
	put_blob(out, &b);
	buf_free_secret(&b);
	buf_init(&b);
	if (c->ratchet != NULL)
		e2e_ratchet_save(c->ratchet, &b);
	put_blob(out, &b);
	buf_free_secret(&b);
	buf_init(&b);
	if (c->old != NULL)
		e2e_ratchet_save(c->old, &b);
	put_blob(out, &b);
	buf_free_secret(&b);
	buf_put(out, c->inv_key, sizeof c->inv_key);
	buf_put_u8(out, (uint8_t)c->inv_trust);
	buf_put_u64(out, c->inv_expires);
	buf_put(out, c->join_key, sizeof c->join_key);
	buf_put_u8(out, (uint8_t)c->join_trust);
}

/* Borrow an optional u32-length blob. */
static int
get_blob(struct reader *r, const uint8_t **p, size_t *len)
{
	uint32_t n = 0;

	if (reader_u32(r, &n) != 0 || reader_ref(r, p, n) != 0)
		return NOID_ERR_CORRUPT;
	*len = n;
	return 0;
}

/* Parse a saved connection. */
int
agent_conn_load(const uint8_t *p, size_t len, struct agent_conn **out)
{
	struct agent_conn *c;
	struct reader r;
	const uint8_t *b;
	size_t blen;
	uint8_t ver = 0, role = 0, flags = 0;
	int rc = NOID_ERR_CORRUPT;

	*out = NULL;
	reader_init(&r, p, len);
	reader_u8(&r, &ver);
	reader_u8(&r, &role);
	reader_u8(&r, &flags);
	if (r.err != 0)
		return NOID_ERR_CORRUPT;
	/* Version 1 had no re-key links (flags 5..7, the tail). */
	if (ver != 1 && ver != CONN_BLOB_VERSION)
		return NOID_ERR_VERSION;
	if ((role != AGENT_ROLE_INVITER && role != AGENT_ROLE_JOINER) ||
	    (ver == 1 && flags > 31))
		return NOID_ERR_CORRUPT;
	c = conn_alloc(role);
	c->ready = flags & 1;
	c->have_req = (flags >> 1) & 1;
	c->have_keys = (flags >> 2) & 1;
	c->cur_used = (flags >> 3) & 1;
	c->resyncing = (flags >> 4) & 1;
	c->offer_link = (flags >> 5) & 1;
	c->inv_set = (flags >> 6) & 1;
	c->join_set = (flags >> 7) & 1;
	reader_bytes(&r, c->link_key, sizeof c->link_key);
	reader_bytes(&r, c->recv_priv, 32);
	reader_bytes(&r, c->send_priv, 32);
	reader_bytes(&r, c->recv_key, 32);
	reader_bytes(&r, c->send_key, 32);
	reader_u64(&r, &c->send_seq);
	reader_u64(&r, &c->recv_seq);
	reader_bytes(&r, c->send_hash, AGENT_HASH_LEN);
	reader_bytes(&r, c->recv_hash, AGENT_HASH_LEN);
	crypto_scalarmult_base(c->recv_pub, c->recv_priv);
	crypto_scalarmult_base(c->send_pub, c->send_priv);
	if (get_blob(&r, &b, &blen) != 0 || (blen > 0) != (c->have_req != 0) ||
	    (blen > 0 && agent_request_decode(b, blen, &c->req) != 0))
		goto out;
	if (get_blob(&r, &b, &blen) != 0 ||
	    (blen > 0 && e2e_offer_load(b, blen, &c->offer) != 0))
		goto out;
	if (get_blob(&r, &b, &blen) != 0 ||
	    (blen > 0 && e2e_ratchet_load(b, blen, &c->ratchet) != 0))
		goto out;
	if (get_blob(&r, &b, &blen) != 0 ||
	    (blen > 0 && e2e_ratchet_load(b, blen, &c->old) != 0))
		goto out;
	if (ver == CONN_BLOB_VERSION) {
		uint8_t it = 0, jt = 0;

		reader_bytes(&r, c->inv_key, sizeof c->inv_key);
		reader_u8(&r, &it);
		reader_u64(&r, &c->inv_expires);
		reader_bytes(&r, c->join_key, sizeof c->join_key);
		reader_u8(&r, &jt);
		c->inv_trust = it;
		c->join_trust = jt;
	}
	if (reader_done(&r) != 0 || (c->have_keys && c->ratchet == NULL) ||
	    (c->offer_link && (c->offer == NULL || !c->join_set)))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		agent_conn_free(c);
	else
		*out = c;
	return rc;
}
