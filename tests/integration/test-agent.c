/*
 * The agent end to end through real noid-relay processes on 127.0.0.1:
 * invitations, the handshake, single use, expiry, trust, messages with
 * receipts, profile updates, restarts, delete.
 */
#include "test-agent-fix.h"

static struct testrelay *relay;
static struct peer A, B, C;

static void
setup(void)
{
	relay = testrelay_start(NULL);
	cr_assert_not_null(relay, "relay did not start");
	peer_new(&A, "alice", testrelay_address(relay), NULL);
	peer_new(&B, "bob", testrelay_address(relay), NULL);
	memset(&C, 0, sizeof C);
}

static void
teardown(void)
{
	peer_free(&A);
	peer_free(&B);
	peer_free(&C);
	testrelay_free(relay);
}

TestSuite(agent, .init = setup, .fini = teardown, .timeout = 120);

Test(agent, connect_shows_claimed_name_then_profiles)
{
	struct want w = {&A, AGENT_EV_REQUEST, 1, NULL, 0, 0};
	struct agent_conn_info ia, ib;
	const struct pev *e;
	uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];
	char *link = NULL;

	cr_assert_eq(agent_invite(A.a, AGENT_TRUST_QR, &link, ca), 0);
	cr_assert_eq(strncmp(link, AGENT_INVITE_PREFIX, 5), 0);
	cr_assert_leq(strlen(link), AGENT_INVITE_MAX);
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), 0);
	cr_assert_eq(ia.state, AGENT_CONN_INVITED);
	cr_assert_gt(ia.expires_ms, 0);
	agent_conn_info_clear(&ia);
	cr_assert_eq(agent_join(B.a, link, AGENT_TRUST_TEXT, cb), 0);
	cr_assert_eq(agent_conn_info(B.a, cb, &ib), 0);
	cr_assert_eq(ib.state, AGENT_CONN_JOINING);
	agent_conn_info_clear(&ib);
	pump2(&A, &B, want_events, &w, 20000);
	e = peer_last(&A, AGENT_EV_REQUEST, ca);
	cr_assert_not_null(e);
	cr_assert_str_eq(e->text, "bob", "claimed name");
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), 0);
	cr_assert_eq(ia.state, AGENT_CONN_REQUESTED);
	cr_assert_str_eq(ia.name, "bob");
	agent_conn_info_clear(&ia);
	/* Not connected before accept. */
	cr_assert_eq(peer_count(&B, AGENT_EV_CONNECTED, NULL), 0);
	cr_assert_eq(agent_send(A.a, ca, "x", 1, ia.conn), NOID_ERR_STATE);
	cr_assert_eq(agent_accept(A.a, ca), 0);
	w = (struct want){&A, AGENT_EV_CONNECTED, 1, &B, AGENT_EV_CONNECTED, 1};
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_str_eq(peer_last(&A, AGENT_EV_CONNECTED, ca)->text, "bob");
	cr_assert_str_eq(peer_last(&B, AGENT_EV_CONNECTED, cb)->text, "alice");
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), 0);
	cr_assert_eq(agent_conn_info(B.a, cb, &ib), 0);
	cr_assert_eq(ia.state, AGENT_CONN_READY);
	cr_assert_eq(ib.state, AGENT_CONN_READY);
	cr_assert_eq(ia.incoming, 1);
	cr_assert_eq(ib.incoming, 0);
	cr_assert_eq(ia.trust, AGENT_TRUST_QR, "inviter: shown as QR");
	cr_assert_eq(ib.trust, AGENT_TRUST_TEXT, "joiner: link as text");
	cr_assert_eq(ia.expires_ms, 0);
	agent_conn_info_clear(&ia);
	agent_conn_info_clear(&ib);
	free(link);
}

Test(agent, invitation_works_once)
{
	struct want w = {&A, AGENT_EV_REQUEST, 1, NULL, 0, 0};
	struct peer *ps[3] = {&A, &B, &C};
	const struct pev *e;
	uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN], cc[AGENT_ID_LEN];
	char *link = NULL;

	peer_new(&C, "carol", testrelay_address(relay), NULL);
	cr_assert_eq(agent_invite(A.a, AGENT_TRUST_QR, &link, ca), 0);
	cr_assert_eq(agent_join(B.a, link, AGENT_TRUST_QR, cb), 0);
	pump(ps, 3, want_events, &w, 20000);
	/* The queue is secured now: a second use is refused by the relay. */
	cr_assert_eq(agent_join(C.a, link, AGENT_TRUST_QR, cc), 0);
	w = (struct want){&C, AGENT_EV_CLOSED, 1, NULL, 0, 0};
	pump(ps, 3, want_events, &w, 20000);
	e = peer_last(&C, AGENT_EV_CLOSED, cc);
	cr_assert_not_null(e);
	cr_assert_eq(e->err, NOID_ERR_EXPIRED);
	cr_assert_eq(peer_count(&A, AGENT_EV_REQUEST, NULL), 1);
	cr_assert_eq(agent_accept(A.a, ca), 0);
	w = (struct want){&A, AGENT_EV_CONNECTED, 1, &B, AGENT_EV_CONNECTED, 1};
	pump(ps, 3, want_events, &w, 20000);
	free(link);
}

Test(agent, bad_links_are_refused)
{
	uint8_t cb[AGENT_ID_LEN];

	cr_assert_eq(
	    agent_join(B.a, "NOID:", AGENT_TRUST_QR, cb), NOID_ERR_INVAL);
	cr_assert_eq(
	    agent_join(B.a, "http://x", AGENT_TRUST_QR, cb), NOID_ERR_INVAL);
	cr_assert_eq(agent_join(B.a, "NOID:AAAA", 7, cb), NOID_ERR_INVAL);
}

Test(agent, unused_invitation_expires)
{
	struct want w = {&A, AGENT_EV_CLOSED, 1, NULL, 0, 0};
	uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];
	struct agent_conn_info ia;
	char *link = NULL;

	peer_stop(&A);
	A.cfg.invite_ttl_ms = 300;
	peer_start(&A);
	cr_assert_eq(agent_invite(A.a, AGENT_TRUST_TEXT, &link, ca), 0);
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_eq(peer_last(&A, AGENT_EV_CLOSED, ca)->err, NOID_ERR_EXPIRED);
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), NOID_ERR_NOENT);
	/* Its queue is gone: joining it fails. */
	cr_assert_eq(agent_join(B.a, link, AGENT_TRUST_QR, cb), 0);
	w = (struct want){&B, AGENT_EV_CLOSED, 1, NULL, 0, 0};
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_eq(peer_last(&B, AGENT_EV_CLOSED, cb)->err, NOID_ERR_EXPIRED);
	free(link);
}

Test(agent, reject_closes_the_request)
{
	struct want w = {&A, AGENT_EV_REQUEST, 1, NULL, 0, 0};
	uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];
	struct agent_conn_info ia;
	char *link = NULL;

	cr_assert_eq(agent_invite(A.a, AGENT_TRUST_QR, &link, ca), 0);
	cr_assert_eq(agent_join(B.a, link, AGENT_TRUST_QR, cb), 0);
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_eq(agent_reject(A.a, ca), 0);
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), NOID_ERR_NOENT);
	cr_assert_eq(agent_accept(A.a, ca), NOID_ERR_NOENT);
	free(link);
}

/* Condition: both peers saw n MESSAGE and n DELIVERED events. */
struct msgs {
	struct peer *a, *b;
	size_t n;
};

static int
msgs_done(void *arg)
{
	struct msgs *m = arg;

	return peer_count(m->a, AGENT_EV_MESSAGE, NULL) >= m->n &&
	    peer_count(m->b, AGENT_EV_MESSAGE, NULL) >= m->n &&
	    peer_count(m->a, AGENT_EV_DELIVERED, NULL) >= m->n &&
	    peer_count(m->b, AGENT_EV_DELIVERED, NULL) >= m->n;
}

Test(agent, messages_with_receipts)
{
	uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN], id[AGENT_ID_LEN];
	uint8_t sent[5][AGENT_ID_LEN];
	struct msgs m = {&A, &B, 5};
	struct store_msg sm;
	char text[32];
	size_t i, k;

	connect_pair(&A, &B, ca, cb);
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof text, "a%zu", i);
		cr_assert_eq(
		    agent_send(A.a, ca, text, strlen(text), sent[i]), 0);
		snprintf(text, sizeof text, "b%zu", i);
		cr_assert_eq(agent_send(B.a, cb, text, strlen(text), id), 0);
	}
	pump2(&A, &B, msgs_done, &m, 30000);
	for (i = 0, k = 0; i < B.nev; i++) {
		if (B.ev[i].type != AGENT_EV_MESSAGE)
			continue;
		snprintf(text, sizeof text, "a%zu", k);
		cr_assert_str_eq(B.ev[i].text, text);
		cr_assert_eq(B.ev[i].seq, k + 1);
		/* The event's id is the store's. */
		cr_assert_eq(
		    store_msg_get(B.st, B.profile, B.ev[i].msg, &sm), 0);
		cr_assert_str_eq(sm.text, text);
		store_msg_clear(&sm);
		k++;
	}
	cr_assert_eq(k, 5);
	cr_assert_eq(peer_count(&A, AGENT_EV_SENT, ca), 5);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(store_msg_get(A.st, A.profile, sent[i], &sm), 0);
		cr_assert_eq(sm.status, STORE_STATUS_DELIVERED);
		store_msg_clear(&sm);
	}
	cr_assert_eq(peer_count(&A, AGENT_EV_INTEGRITY, NULL), 0);
	cr_assert_eq(agent_send(A.a, ca, "", 0, id), NOID_ERR_INVAL);
}

Test(agent, profile_updates_are_pushed)
{
	struct want w = {&B, AGENT_EV_PROFILE, 1, NULL, 0, 0};
	uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];
	struct agent_conn_info ib;

	connect_pair(&A, &B, ca, cb);
	cr_assert_eq(agent_set_profile(A.a, "alice2", "away"), 0);
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_str_eq(peer_last(&B, AGENT_EV_PROFILE, cb)->text, "alice2");
	cr_assert_eq(agent_conn_info(B.a, cb, &ib), 0);
	cr_assert_str_eq(ib.name, "alice2");
	cr_assert_str_eq(ib.status, "away");
	agent_conn_info_clear(&ib);
	cr_assert_eq(agent_set_profile(A.a, "", NULL), NOID_ERR_INVAL);
}

Test(agent, restart_resumes_queued_messages)
{
	uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN], id[AGENT_ID_LEN];
	struct want w = {&B, AGENT_EV_MESSAGE, 20, NULL, 0, 0};
	char text[32];
	size_t i;

	connect_pair(&A, &B, ca, cb);
	peer_stop(&B);
	for (i = 0; i < 20; i++) {
		snprintf(text, sizeof text, "m%zu", i);
		cr_assert_eq(agent_send(A.a, ca, text, strlen(text), id), 0);
	}
	/* A restarts with the texts still queued; B comes back later. */
	peer_stop(&A);
	peer_start(&A);
	peer_start(&B);
	pump2(&A, &B, want_events, &w, 30000);
	for (i = 0; i < B.nev; i++)
		if (B.ev[i].type == AGENT_EV_MESSAGE)
			cr_assert_eq(B.ev[i].seq,
			    strtoull(B.ev[i].text + 1, NULL, 10) + 1);
	cr_assert_eq(peer_count(&B, AGENT_EV_MESSAGE, NULL), 20);
}

Test(agent, delete_tells_the_contact)
{
	struct want w = {&B, AGENT_EV_CLOSED, 1, &A, AGENT_EV_CLOSED, 1};
	uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];
	struct agent_conn_info ib;

	connect_pair(&A, &B, ca, cb);
	cr_assert_eq(agent_delete(A.a, ca), 0);
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_eq(peer_last(&B, AGENT_EV_CLOSED, cb)->err, NOID_ERR_CLOSED);
	cr_assert_eq(peer_last(&A, AGENT_EV_CLOSED, ca)->err, 0);
	cr_assert_eq(agent_conn_info(B.a, cb, &ib), NOID_ERR_NOENT);
}
