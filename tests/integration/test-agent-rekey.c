/*
 * Re-key through a new out-of-band link, through a real noid-relay:
 * the link is bound to the connection, both sides end on one new
 * agreement with the trust of how the link travelled and a security
 * event, messages flow, and a link used twice is refused on both sides
 * without blocking the next re-key.
 */
#include "test-agent-fix.h"

static struct testrelay *r1;
static struct peer A, B;
static uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];

static void
setup(void)
{
	r1 = testrelay_start(NULL);
	cr_assert_not_null(r1, "relay did not start");
	memset(&A, 0, sizeof A);
	memset(&B, 0, sizeof B);
	peer_new(&A, "alice", testrelay_address(r1), NULL);
	peer_new(&B, "bob", testrelay_address(r1), NULL);
	connect_pair(&A, &B, ca, cb);
}

static void
teardown(void)
{
	peer_free(&A);
	peer_free(&B);
	testrelay_free(r1);
}

TestSuite(agent_rekey, .init = setup, .fini = teardown, .timeout = 120);

/* Both sides show the same code; returns it in out. */
static void
same_code(struct agent_code *out)
{
	struct agent_code bc;

	cr_assert_eq(agent_code(A.a, ca, out), 0);
	cr_assert_eq(agent_code(B.a, cb, &bc), 0);
	cr_assert_str_eq(out->digits, bc.digits, "codes differ");
}

static int
trust_of(struct peer *p, const uint8_t *conn)
{
	struct agent_conn_info ci;
	int t;

	cr_assert_eq(agent_conn_info(p->a, conn, &ci), 0);
	t = ci.trust;
	agent_conn_info_clear(&ci);
	return t;
}

/* One text each way arrives. */
static void
messages_flow(void)
{
	uint8_t id[AGENT_ID_LEN];
	struct want w = {&A, AGENT_EV_MESSAGE, 0, &B, AGENT_EV_MESSAGE, 0};

	w.n = peer_count(&A, AGENT_EV_MESSAGE, NULL) + 1;
	w.n2 = peer_count(&B, AGENT_EV_MESSAGE, NULL) + 1;
	cr_assert_eq(agent_send(A.a, ca, "to bob", 6, id), 0);
	cr_assert_eq(agent_send(B.a, cb, "to alice", 8, id), 0);
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_str_eq(peer_last(&A, AGENT_EV_MESSAGE, ca)->text, "to alice");
	cr_assert_str_eq(peer_last(&B, AGENT_EV_MESSAGE, cb)->text, "to bob");
}

Test(agent_rekey, through_a_new_link)
{
	struct agent_code before, after, code;
	struct want w;
	char *link = NULL;

	same_code(&before);
	cr_assert_eq(agent_verify(A.a, ca, before.digits), 0);
	cr_assert_eq(agent_verify(B.a, cb, before.digits), 0);
	cr_assert_eq(agent_rekey_invite(A.a, ca, AGENT_TRUST_TEXT, &link), 0);
	cr_assert_eq(strncmp(link, AGENT_INVITE_PREFIX, 5), 0);
	cr_assert_leq(strlen(link), AGENT_INVITE_MAX);
	cr_assert_eq(agent_rekey_join(B.a, cb, "NOID:XX", AGENT_TRUST_TEXT),
	    NOID_ERR_INVAL);
	cr_assert_eq(agent_rekey_join(B.a, cb, link, 0), NOID_ERR_INVAL);
	/* Bound to the connection: it names alice's queue, not bob's. */
	cr_assert_eq(
	    agent_rekey_join(A.a, ca, link, AGENT_TRUST_TEXT), NOID_ERR_NOENT);
	cr_assert_eq(agent_rekey_join(B.a, cb, link, AGENT_TRUST_TEXT), 0);
	w = (struct want){&A, AGENT_EV_SECURITY, 2, &B, AGENT_EV_SECURITY, 2};
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_eq(peer_last(&A, AGENT_EV_SECURITY, ca)->security,
	    AGENT_SECURITY_REKEYED);
	cr_assert_eq(peer_last(&B, AGENT_EV_SECURITY, cb)->security,
	    AGENT_SECURITY_REKEYED);
	same_code(&after);
	cr_assert_str_neq(after.digits, before.digits, "a new agreement");
	/* Verified before; now the trust of the link (text, not QR). */
	cr_assert_eq(trust_of(&A, ca), AGENT_TRUST_TEXT);
	cr_assert_eq(trust_of(&B, cb), AGENT_TRUST_TEXT);
	messages_flow();

	/* The link works once: a second use is refused on both sides. */
	cr_assert_eq(agent_rekey_join(B.a, cb, link, AGENT_TRUST_QR), 0);
	w = (struct want){&A, AGENT_EV_ERROR, 1, &B, AGENT_EV_ERROR, 1};
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_eq(peer_last(&A, AGENT_EV_ERROR, ca)->err, NOID_ERR_EXPIRED);
	cr_assert_eq(peer_last(&B, AGENT_EV_ERROR, cb)->err, NOID_ERR_EXPIRED);
	same_code(&code);
	cr_assert_str_eq(code.digits, after.digits, "nothing changed");
	cr_assert_eq(trust_of(&B, cb), AGENT_TRUST_TEXT);
	/* The refused offer does not block the next re-key. */
	cr_assert_eq(agent_rekey(B.a, cb), 0);
	w = (struct want){&A, AGENT_EV_SECURITY, 3, &B, AGENT_EV_SECURITY, 3};
	pump2(&A, &B, want_events, &w, 20000);
	same_code(&code);
	cr_assert_str_neq(code.digits, after.digits);
	messages_flow();
	free(link);
}

/* A link re-key and an in-band re-key cross: the link's agreement wins. */
Test(agent_rekey, link_beats_a_crossing_rekey)
{
	struct agent_code before, after;
	struct want w;
	char *link = NULL;

	same_code(&before);
	cr_assert_eq(agent_rekey_invite(A.a, ca, AGENT_TRUST_QR, &link), 0);
	cr_assert_eq(agent_rekey_join(B.a, cb, link, AGENT_TRUST_QR), 0);
	cr_assert_eq(agent_rekey(A.a, ca), 0);
	w = (struct want){&A, AGENT_EV_SECURITY, 1, &B, AGENT_EV_SECURITY, 1};
	pump2(&A, &B, want_events, &w, 20000);
	same_code(&after);
	cr_assert_str_neq(after.digits, before.digits);
	messages_flow();
	cr_assert_eq(peer_count(&A, AGENT_EV_SECURITY, ca), 1);
	cr_assert_eq(peer_count(&B, AGENT_EV_SECURITY, cb), 1);
	cr_assert_eq(peer_count(&A, AGENT_EV_ERROR, NULL), 0);
	cr_assert_eq(peer_count(&B, AGENT_EV_ERROR, NULL), 0);
	free(link);
}
