/*
 * noid — agent-hs: invitations and the connection handshake
 * (PROTOCOL.md §11.4) over real relays.
 *
 * invite and join create their first queue over a short blocking relay
 * connection of their own (they must return the link / need the reply
 * queue's sender id before anything can be sent); everything after
 * runs in the poll loop.  The joiner secures its reply queue before it
 * sends the request, with a key both sides derive from the link key,
 * so the inviter's first messages are signed and no SEND ever races a
 * KEY.  The inviter secures its queue with the first request's key
 * before it shows the request: a second use of the link gets ERR AUTH.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "agent-core.h"

/* The canonical text of a relay address (sessions are keyed by it). */
static int
canon_relay(const char *in, char out[AGENT_ADDR_MAX + 1])
{
	struct relay_addr addr;
	char *s;

	if (addr_parse(in, &addr, NULL) != 0)
		return NOID_ERR_INVAL;
	s = addr_format(&addr);
	snprintf(out, AGENT_ADDR_MAX + 1, "%s", s);
	free(s);
	return strlen(out) < AGENT_ADDR_MAX ? 0 : NOID_ERR_TOOBIG;
}

/* An invitation naming a queue (sid) on the relay at addr. */
void
agent_invite_fill(struct agent_invite *inv, const struct relay_addr *addr,
    const uint8_t sid[AGENT_QUEUE_ID_LEN])
{
	memset(inv, 0, sizeof *inv);
	memcpy(inv->relay_key, addr->key, AGENT_RELAY_KEY_LEN);
	snprintf(inv->host, sizeof inv->host, "%s", addr->host);
	inv->port = addr->port;
	memcpy(inv->sid, sid, AGENT_QUEUE_ID_LEN);
}

/* The canonical text of the relay an invitation names. */
void
agent_invite_relay(const struct agent_invite *inv, char out[AGENT_ADDR_MAX + 1])
{
	struct relay_addr ia;
	char *text;

	memset(&ia, 0, sizeof ia);
	memcpy(ia.key, inv->relay_key, 32);
	snprintf(ia.host, sizeof ia.host, "%s", inv->host);
	ia.port = inv->port;
	ia.ipv6 = strchr(inv->host, ':') != NULL;
	text = addr_format(&ia);
	snprintf(out, AGENT_ADDR_MAX + 1, "%s", text);
	free(text);
}

/* The next relay of the configuration (round robin). */
static const struct agent_relay *
pick_relay(struct agent *a)
{
	return &a->relays[a->next_relay++ % a->nrelays];
}

/* Record a new connection: placeholder contact, connection, state. */
static int
conn_create(struct agent *a, struct agent_c *c, const char *alias)
{
	int rc;

	if ((rc = store_tx_begin(a->st)) != 0)
		return rc;
	if ((rc = store_contact_add(a->st, a->profile, alias, c->contact)) !=
	        0 ||
	    (rc = store_conn_add(a->st, a->profile, c->contact, c->trust, NULL,
	         0, c->id)) != 0) {
		store_tx_rollback(a->st);
		return rc;
	}
	if ((rc = agent_persist(a, c)) != 0) {
		store_tx_rollback(a->st);
		return rc;
	}
	/* A failed commit has closed its level already. */
	if ((rc = store_tx_commit(a->st)) != 0)
		return rc;
	c->next = a->conns;
	a->conns = c;
	agent_kick(a, c);
	return 0;
}

/* Make a one-time invitation. */
int
agent_invite(
    struct agent *a, int trust, char **link, uint8_t conn[AGENT_ID_LEN])
{
	const struct agent_relay *r;
	struct relay_queue_keys k;
	struct relay_queue q;
	struct relay_addr addr;
	struct agent_invite inv;
	struct agent_c *c = NULL;
	int rc;

	*link = NULL;
	if (trust != AGENT_TRUST_QR && trust != AGENT_TRUST_TEXT)
		return NOID_ERR_INVAL;
	r = pick_relay(a);
	if (addr_parse(r->address, &addr, NULL) != 0)
		return NOID_ERR_INVAL;
	if ((rc = agent_blocking_new(a, r, NULL, &k, &q)) != 0)
		goto out;
	agent_invite_fill(&inv, &addr, q.sid);
	randombytes_buf(inv.key, sizeof inv.key);
	if ((rc = agent_invite_format(&inv, link)) != 0)
		goto out;
	c = agent_c_new();
	c->state = AGENT_CONN_INVITED;
	c->trust = c->trust_base = trust;
	c->incoming = 1;
	c->expires_ms = clock_wall_ms() + a->invite_ttl_ms;
	c->rq.present = 1;
	if ((rc = canon_relay(r->address, c->rq.relay)) != 0)
		goto out;
	c->rq.q = q;
	c->rq.auth = k.rcpt_auth;
	c->core = agent_conn_new_inviter(inv.key);
	if ((rc = conn_create(a, c, "invitation")) != 0)
		goto out;
	memcpy(conn, c->id, AGENT_ID_LEN);
	c = NULL;
out:
	if (rc != 0) {
		free(*link);
		*link = NULL;
	}
	agent_c_free(c);
	sodium_memzero(&inv, sizeof inv);
	sodium_memzero(&k, sizeof k);
	return rc;
}

/* Use someone's invitation. */
int
agent_join(
    struct agent *a, const char *link, int trust, uint8_t conn[AGENT_ID_LEN])
{
	const struct agent_relay *r;
	struct relay_queue_keys k;
	struct relay_queue q;
	struct agent_invite inv;
	struct agent_qaddr reply;
	struct agent_sq to;
	struct agent_c *c = NULL;
	uint8_t rpriv[32], rpub[32], *body = NULL;
	int rc;

	if (trust != AGENT_TRUST_QR && trust != AGENT_TRUST_TEXT)
		return NOID_ERR_INVAL;
	if ((rc = agent_invite_parse(link, strlen(link), &inv, NULL)) != 0)
		return rc;
	c = agent_c_new();
	agent_invite_relay(&inv, c->sq.relay);
	agent_link_reply_auth(inv.key, rpriv, rpub);
	r = pick_relay(a);
	memset(&reply, 0, sizeof reply);
	if ((rc = canon_relay(r->address, reply.relay)) != 0 ||
	    (rc = agent_blocking_new(a, r, rpub, &k, &q)) != 0)
		goto out;
	memcpy(reply.sid, q.sid, NOID_ID_LEN);
	c->sq.present = 1;
	memcpy(c->sq.sid, inv.sid, NOID_ID_LEN);
	c->sq.auth_set = 1;
	relay_keypair_new(&c->sq.auth);
	body = xmalloc(AGENT_BODY);
	if ((rc = agent_conn_join(&inv, &reply, c->sq.auth.pub, a->name,
	         a->status, &c->core, body)) != 0)
		goto out;
	c->state = AGENT_CONN_JOINING;
	c->trust = c->trust_base = trust;
	c->expires_ms = clock_wall_ms() + a->invite_ttl_ms;
	c->rq.present = 1;
	memcpy(c->rq.relay, reply.relay, sizeof c->rq.relay);
	c->rq.q = q;
	c->rq.auth = k.rcpt_auth;
	/* The queue is not secured yet: the request goes unsigned. */
	to = c->sq;
	to.auth_set = 0;
	agent_out_push(c, AGENT_OUT_REQUEST, &to, body, NULL, NULL);
	if ((rc = conn_create(a, c, "connecting")) != 0)
		goto out;
	memcpy(conn, c->id, AGENT_ID_LEN);
	c = NULL;
out:
	agent_c_free(c);
	free(body);
	sodium_memzero(&inv, sizeof inv);
	sodium_memzero(&k, sizeof k);
	sodium_memzero(rpriv, sizeof rpriv);
	return rc;
}

/* Accept a request: CONFIRM and our HELLO go to the joiner's queue. */
int
agent_accept(struct agent *a, const uint8_t conn[AGENT_ID_LEN])
{
	const struct agent_request *req;
	struct agent_c *c = agent_find(a, conn);
	struct agent_sq sq;
	uint8_t *confirm, *hello;
	int rc;

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (c->state != AGENT_CONN_REQUESTED ||
	    (req = agent_conn_request(c->core)) == NULL)
		return NOID_ERR_STATE;
	memset(&sq, 0, sizeof sq);
	if ((rc = canon_relay(req->reply.relay, sq.relay)) != 0)
		return rc;
	sq.present = 1;
	memcpy(sq.sid, req->reply.sid, NOID_ID_LEN);
	sq.auth_set = 1;
	agent_conn_reply_auth(c->core, sq.auth.priv, sq.auth.pub);
	confirm = xmalloc(2 * AGENT_BODY);
	hello = confirm + AGENT_BODY;
	rc = agent_conn_accept(
	    c->core, sq.auth.pub, a->name, a->status, confirm, hello);
	if (rc == 0) {
		c->sq = sq;
		agent_out_push(c, AGENT_OUT_CONFIRM, &sq, confirm, NULL, NULL);
		agent_out_push(c, AGENT_MSG_HELLO, &sq, hello, NULL, NULL);
		c->state = AGENT_CONN_ACCEPTING;
		if ((rc = agent_persist(a, c)) == 0)
			agent_kick(a, c);
	}
	sodium_memzero(&sq, sizeof sq);
	free(confirm);
	return rc;
}

/* Reject a request (or withdraw an unused invitation). */
int
agent_reject(struct agent *a, const uint8_t conn[AGENT_ID_LEN])
{
	struct agent_c *c = agent_find(a, conn);

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (c->state != AGENT_CONN_REQUESTED && c->state != AGENT_CONN_INVITED)
		return NOID_ERR_STATE;
	agent_forget(a, c, 0);
	return a->fatal;
}

/* KEY of our invitation queue answered: show the request. */
static void
on_key(struct agent *a, struct agent_c *c, int err, const struct proto_tx *tx,
    void *data)
{
	struct agent_evq *e;

	(void)tx;
	(void)data;
	c->key_busy = 0;
	if (err == NOID_ERR_AUTH) {
		/* Secured with another key: someone else used the link. */
		agent_forget(a, c, NOID_ERR_EXPIRED);
		return;
	}
	if (err != 0 || !c->need_key)
		return;
	c->need_key = 0;
	c->state = AGENT_CONN_REQUESTED;
	if (agent_persist(a, c) != 0)
		return;
	e = agent_event_new(a, AGENT_EV_REQUEST, c);
	e->name = xstrdup(c->name);
	e->status = xstrdup(c->status);
}

/* The handshake's relay work: secure our invitation queue. */
void
agent_kick_hs(struct agent *a, struct agent_c *c)
{
	struct agent_session *s;
	struct proto_tx tx;

	if (!c->need_key || c->key_busy || !c->rq.present ||
	    (s = agent_session_get(a, c->rq.relay)) == NULL || !s->up)
		return;
	agent_tx_init(&tx, PROTO_KEY, c->rq.q.rid);
	memcpy(tx.u.key.sender_pub, c->key_pub, 32);
	if (agent_request(a, s, c, &tx, &c->rq.auth, on_key, NULL, 0) == 0)
		c->key_busy = 1;
}

/* Expire an unused invitation or an unanswered request; returns the
 * milliseconds until this connection's expiry (-1: none). */
int
agent_hs_timers(struct agent *a, struct agent_c *c, uint64_t wall)
{
	if ((c->state != AGENT_CONN_INVITED &&
	        c->state != AGENT_CONN_JOINING) ||
	    c->expires_ms == 0)
		return -1;
	if (wall < c->expires_ms)
		return c->expires_ms - wall > INT32_MAX
		    ? INT32_MAX
		    : (int)(c->expires_ms - wall);
	agent_forget(a, c, NOID_ERR_EXPIRED);
	return 0;
}

/*
 * Forget a connection: delete its queues (best effort), its store rows
 * (and the placeholder contact of one that never connected), then say
 * CLOSED.  c is freed.
 */
void
agent_forget(struct agent *a, struct agent_c *c, int err)
{
	struct agent_c **pp;
	struct agent_evq *e;
	int rc;

	agent_queue_delete(a, &c->rq);
	agent_queue_delete(a, &c->rq_next);
	agent_queue_delete(a, &c->rq_old);
	if ((rc = store_tx_begin(a->st)) == 0) {
		rc = store_conn_delete(a->st, a->profile, c->id);
		if (rc == 0 && c->state != AGENT_CONN_READY)
			rc =
			    store_contact_delete(a->st, a->profile, c->contact);
		if (rc == 0)
			rc = store_tx_commit(a->st);
		else
			store_tx_rollback(a->st);
	}
	if (rc != 0 && rc != NOID_ERR_NOENT)
		agent_fatal(a, rc);
	e = agent_event_new(a, AGENT_EV_CLOSED, c);
	e->ev.err = err;
	for (pp = &a->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	agent_c_free(c);
}
