/*
 * noid — agent-rekey: fresh key agreements on an existing connection
 * (PROTOCOL.md §11.6).
 *
 * In band: REKEY inside the ratchet, answered by REKEYED.  Through a
 * new out-of-band link: the owner makes a one-time link naming its
 * receiving queue (so it is bound to this connection) with a fresh
 * link key; the peer who got it sends REKEY_LINK inside the ratchet,
 * an offer with a MAC under that key, and the agreement's ctx holds
 * the key too: only someone who saw the link can complete it, so a
 * ratchet state stolen earlier does not let anyone into the new one.
 * Its trust is how the link travelled.  Lost state: RESYNC outside
 * the ratchet.  Every way ends in AGENT_EV_SECURITY on both sides.
 */
#include <sodium.h>
#include <string.h>

#include "agent-core.h"

/* Keys changed: a security event; trust becomes the new link's (trust
 * not 0) or, for a verified connection, drops to its base. */
int
agent_keys_changed(struct agent *a, struct agent_c *c, int why, int trust)
{
	struct agent_evq *e = agent_event_new(a, AGENT_EV_SECURITY, c);

	e->ev.security = why;
	if (trust != 0)
		c->trust_base = trust;
	else if (c->trust != AGENT_TRUST_VERIFIED)
		return 0;
	c->trust = c->trust_base;
	return store_conn_set_trust(a->st, a->profile, c->id, c->trust);
}

/* A REKEY or REKEY_LINK from the contact: answer it (or not: ours won). */
int
agent_rekey_on_msg(
    struct agent *a, struct agent_c *c, const struct agent_msg *m)
{
	uint8_t *body = xmalloc(AGENT_BODY);
	struct agent_msg no;
	int rc, trust = 0;

	if (m->type == AGENT_MSG_REKEY)
		rc = agent_conn_rekey_answer(c->core, m, body);
	else
		rc = agent_conn_rekey_link_answer(
		    c->core, m, clock_wall_ms(), body, &trust);
	if (rc == 0) {
		agent_out_push(c, AGENT_MSG_REKEYED, &c->sq, body, NULL, NULL);
		rc = agent_keys_changed(a, c, AGENT_SECURITY_REKEYED, trust);
	} else if (rc == NOID_ERR_EXISTS) {
		rc = 0; /* ours won the crossing: they answer it */
	} else if (rc == NOID_ERR_EXPIRED || rc == NOID_ERR_AUTH) {
		agent_event_error(a, c, rc,
		    rc == NOID_ERR_AUTH
		        ? "a re-key did not come from our link"
		        : "a re-key link was used twice or late");
		/* Tell the contact, whose offer would wait for ever. */
		memset(&no, 0, sizeof no);
		no.type = AGENT_MSG_REKEY_NO;
		agent_ctl_push(c, &no);
		rc = 0;
	}
	free(body);
	return rc;
}

/*
 * Re-key.  Normally in-band (REKEY inside the ratchet).  When messages
 * from the contact stopped decrypting (our state was lost or rolled
 * back) the ratchet cannot carry it: then a RESYNC outside the ratchet,
 * under the queue key, and both sides see a security event.
 */
int
agent_rekey(struct agent *a, const uint8_t conn[AGENT_ID_LEN])
{
	struct agent_c *c = agent_find(a, conn);
	struct agent_msg m;
	uint8_t *body;
	int rc;

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (c->state != AGENT_CONN_READY || c->deleting ||
	    agent_conn_offer_pending(c->core))
		return NOID_ERR_STATE;
	if (c->decrypt_fail > 0) {
		body = xmalloc(AGENT_BODY);
		rc = agent_conn_resync(c->core, body);
		if (rc == 0)
			agent_out_push(
			    c, AGENT_OUT_RESYNC, &c->sq, body, NULL, NULL);
		free(body);
		if (rc != 0)
			return rc;
	} else {
		memset(&m, 0, sizeof m);
		m.type = AGENT_MSG_REKEY;
		agent_ctl_push(c, &m);
	}
	if ((rc = agent_persist(a, c)) != 0)
		return rc;
	agent_kick(a, c);
	return 0;
}

/* A one-time link to re-key this connection through another channel. */
int
agent_rekey_invite(
    struct agent *a, const uint8_t conn[AGENT_ID_LEN], int trust, char **link)
{
	struct agent_c *c = agent_find(a, conn);
	struct agent_invite inv;
	struct relay_addr addr;
	int rc;

	*link = NULL;
	if (c == NULL)
		return NOID_ERR_NOENT;
	if (trust != AGENT_TRUST_QR && trust != AGENT_TRUST_TEXT)
		return NOID_ERR_INVAL;
	if (c->state != AGENT_CONN_READY || c->deleting || !c->rq.present)
		return NOID_ERR_STATE;
	if (addr_parse(c->rq.relay, &addr, NULL) != 0)
		return NOID_ERR_CORRUPT;
	agent_invite_fill(&inv, &addr, c->rq.q.sid);
	agent_conn_rekey_link_new(
	    c->core, trust, clock_wall_ms() + a->invite_ttl_ms, inv.key);
	if ((rc = agent_invite_format(&inv, link)) == 0 &&
	    (rc = agent_persist(a, c)) != 0) {
		free(*link);
		*link = NULL;
	}
	sodium_memzero(&inv, sizeof inv);
	return rc;
}

/* Use the contact's re-key link: REKEY_LINK goes in the ratchet. */
int
agent_rekey_join(struct agent *a, const uint8_t conn[AGENT_ID_LEN],
    const char *link, int trust)
{
	struct agent_c *c = agent_find(a, conn);
	struct agent_invite inv;
	struct agent_msg m;
	char relay[AGENT_ADDR_MAX + 1];
	int rc;

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (trust != AGENT_TRUST_QR && trust != AGENT_TRUST_TEXT)
		return NOID_ERR_INVAL;
	if ((rc = agent_invite_parse(link, strlen(link), &inv, NULL)) != 0)
		return rc;
	if (c->state != AGENT_CONN_READY || c->deleting ||
	    agent_conn_offer_pending(c->core)) {
		rc = NOID_ERR_STATE;
		goto out;
	}
	/* It must name the queue we send this contact's messages to. */
	agent_invite_relay(&inv, relay);
	if (!c->sq.present || strcmp(relay, c->sq.relay) != 0 ||
	    memcmp(inv.sid, c->sq.sid, AGENT_QUEUE_ID_LEN) != 0) {
		rc = NOID_ERR_NOENT;
		goto out;
	}
	if ((rc = agent_conn_rekey_link_join(c->core, inv.key, trust)) != 0)
		goto out;
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_REKEY_LINK;
	agent_ctl_push(c, &m);
	if ((rc = agent_persist(a, c)) != 0)
		goto out;
	agent_kick(a, c);
out:
	sodium_memzero(&inv, sizeof inv);
	return rc;
}
