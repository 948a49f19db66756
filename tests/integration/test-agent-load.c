/*
 * The agent under traffic, through real noid-relay processes: 1,000
 * messages each way with random pauses through one relay and through
 * two (one per direction), queue rotation while messages flow both
 * ways, scheduled rotation, re-key and security codes, verification,
 * resync after lost state.
 */
#include <sys/stat.h>

#include "test-agent-fix.h"

static struct testrelay *r1, *r2;
static struct peer A, B;
static uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];

static void
setup(void)
{
	r1 = testrelay_start(NULL);
	cr_assert_not_null(r1, "relay did not start");
	r2 = NULL;
	memset(&A, 0, sizeof A);
	memset(&B, 0, sizeof B);
}

static void
teardown(void)
{
	peer_free(&A);
	peer_free(&B);
	testrelay_free(r1);
	testrelay_free(r2);
}

TestSuite(agent_load, .init = setup, .fini = teardown, .timeout = 600);

/* Condition: the deadline passed (a pause with both agents running). */
static int
until(void *arg)
{
	return clock_mono_ms() >= *(uint64_t *)arg;
}

/* Queue text "<prefix><i>" from p on conn. */
static void
send_one(struct peer *p, const uint8_t *conn, char prefix, size_t i)
{
	uint8_t id[AGENT_ID_LEN];
	char text[32];
	int rc;

	snprintf(text, sizeof text, "%c%zu", prefix, i);
	rc = agent_send(p->a, conn, text, strlen(text), id);
	cr_assert_eq(rc, 0, "send: %s", noid_errname(rc));
}

/* Every MESSAGE p saw is "<prefix>0".."<prefix>n-1", once, in order. */
static void
check_in_order(const struct peer *p, char prefix, size_t n)
{
	char text[32];
	size_t i, k = 0;

	for (i = 0; i < p->nev; i++) {
		if (p->ev[i].type != AGENT_EV_MESSAGE)
			continue;
		snprintf(text, sizeof text, "%c%zu", prefix, k);
		cr_assert_str_eq(
		    p->ev[i].text, text, "%s: message %zu", p->name, k);
		cr_assert_eq(p->ev[i].seq, k + 1);
		k++;
	}
	cr_assert_eq(k, n, "%s got %zu of %zu", p->name, k, n);
	cr_assert_eq(peer_count(p, AGENT_EV_INTEGRITY, NULL), 0);
}

/* Condition: both saw n messages. */
static int
both_got(void *arg)
{
	size_t n = *(size_t *)arg;

	return peer_count(&A, AGENT_EV_MESSAGE, NULL) >= n &&
	    peer_count(&B, AGENT_EV_MESSAGE, NULL) >= n;
}

/*
 * Send n messages each way in random bursts with random pauses;
 * rotate_every > 0 starts a rotation of A's or B's queue (in turn)
 * every that many bursts.
 */
static void
traffic(size_t n, size_t rotate_every)
{
	size_t sa = 0, sb = 0, burst, i, bursts = 0;
	uint64_t t;

	while (sa < n || sb < n) {
		burst = 1 + randombytes_uniform(40);
		for (i = 0; i < burst && sa < n; i++)
			send_one(&A, ca, 'a', sa++);
		burst = 1 + randombytes_uniform(40);
		for (i = 0; i < burst && sb < n; i++)
			send_one(&B, cb, 'b', sb++);
		if (rotate_every && ++bursts % rotate_every == 0)
			(void)agent_rotate(
			    (bursts / rotate_every) & 1 ? B.a : A.a,
			    (bursts / rotate_every) & 1 ? cb : ca);
		t = clock_mono_ms() + randombytes_uniform(30);
		pump2(&A, &B, until, &t, 60000);
	}
	pump2(&A, &B, both_got, &n, 300000);
	check_in_order(&B, 'a', n);
	check_in_order(&A, 'b', n);
}

Test(agent_load, thousand_each_way_one_relay)
{
	peer_new(&A, "alice", testrelay_address(r1), NULL);
	peer_new(&B, "bob", testrelay_address(r1), NULL);
	connect_pair(&A, &B, ca, cb);
	traffic(1000, 0);
}

Test(agent_load, thousand_each_way_two_relays)
{
	r2 = testrelay_start(NULL);
	cr_assert_not_null(r2);
	/* A receives on r1, B on r2: each direction uses its own relay. */
	peer_new(&A, "alice", testrelay_address(r1), NULL);
	peer_new(&B, "bob", testrelay_address(r2), NULL);
	connect_pair(&A, &B, ca, cb);
	traffic(1000, 0);
}

Test(agent_load, rotation_while_messages_flow)
{
	peer_new(&A, "alice", testrelay_address(r1), NULL);
	peer_new(&B, "bob", testrelay_address(r1), NULL);
	connect_pair(&A, &B, ca, cb);
	traffic(400, 2);
	cr_assert_geq(peer_count(&A, AGENT_EV_ROTATED, ca), 1);
	cr_assert_geq(peer_count(&B, AGENT_EV_ROTATED, cb), 1);
	cr_assert_eq(peer_count(&A, AGENT_EV_ERROR, NULL), 0);
	cr_assert_eq(peer_count(&B, AGENT_EV_ERROR, NULL), 0);
}

Test(agent_load, rotation_onto_another_relay_on_schedule)
{
	struct want w = {&A, AGENT_EV_ROTATED, 2, NULL, 0, 0};
	struct agent_conn_info ia;
	uint64_t before;

	r2 = testrelay_start(NULL);
	cr_assert_not_null(r2);
	peer_new(&A, "alice", testrelay_address(r1), testrelay_address(r2));
	peer_stop(&A);
	A.cfg.rotate_ms = 300;
	peer_start(&A);
	peer_new(&B, "bob", testrelay_address(r1), NULL);
	connect_pair(&A, &B, ca, cb);
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), 0);
	before = ia.rotated_ms;
	agent_conn_info_clear(&ia);
	pump2(&A, &B, want_events, &w, 30000);
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), 0);
	cr_assert_gt(ia.rotated_ms, before);
	agent_conn_info_clear(&ia);
	/* No rotation of B's queue was asked for. */
	cr_assert_eq(peer_count(&B, AGENT_EV_ROTATED, NULL), 0);
	traffic(50, 0);
}

/* Condition: both saw n SECURITY events. */
static int
both_security(void *arg)
{
	size_t n = *(size_t *)arg;

	return peer_count(&A, AGENT_EV_SECURITY, NULL) >= n &&
	    peer_count(&B, AGENT_EV_SECURITY, NULL) >= n;
}

/* Both saw SECURITY REKEYED; their new codes match and differ from old. */
static void
check_rekeyed(const struct agent_code *old)
{
	struct agent_code a1, b1;
	size_t one = 1;

	pump2(&A, &B, both_security, &one, 30000);
	cr_assert_eq(peer_last(&A, AGENT_EV_SECURITY, ca)->security,
	    AGENT_SECURITY_REKEYED);
	cr_assert_eq(peer_last(&B, AGENT_EV_SECURITY, cb)->security,
	    AGENT_SECURITY_REKEYED);
	cr_assert_eq(agent_code(A.a, ca, &a1), 0);
	cr_assert_eq(agent_code(B.a, cb, &b1), 0);
	cr_assert_str_eq(a1.digits, b1.digits, "codes match after re-key");
	cr_assert_str_neq(a1.digits, old->digits, "the code changed");
}

Test(agent_load, rekey_changes_codes_on_both_sides)
{
	struct agent_code a0, b0;

	peer_new(&A, "alice", testrelay_address(r1), NULL);
	peer_new(&B, "bob", testrelay_address(r1), NULL);
	connect_pair(&A, &B, ca, cb);
	cr_assert_eq(agent_code(A.a, ca, &a0), 0);
	cr_assert_eq(agent_code(B.a, cb, &b0), 0);
	cr_assert_str_eq(a0.digits, b0.digits);
	cr_assert_eq(strlen(a0.digits), AGENT_CODE_DIGITS);
	cr_assert_str_eq(a0.qr + strlen("NOID:CODE:1:"), a0.digits);
	cr_assert_eq(agent_rekey(A.a, ca), 0);
	check_rekeyed(&a0);
	traffic(100, 0);
}

/* Both start a re-key before either REKEY arrived: one agreement wins. */
Test(agent_load, crossing_rekeys_end_on_one_agreement)
{
	struct agent_code a0;

	peer_new(&A, "alice", testrelay_address(r1), NULL);
	peer_new(&B, "bob", testrelay_address(r1), NULL);
	connect_pair(&A, &B, ca, cb);
	cr_assert_eq(agent_code(A.a, ca, &a0), 0);
	/* No loop pass in between: both REKEYs are sealed and in flight. */
	cr_assert_eq(agent_rekey(A.a, ca), 0);
	cr_assert_eq(agent_rekey(B.a, cb), 0);
	check_rekeyed(&a0);
	traffic(50, 0);
	cr_assert_eq(peer_count(&A, AGENT_EV_SECURITY, ca), 1);
	cr_assert_eq(peer_count(&B, AGENT_EV_SECURITY, cb), 1);
	cr_assert_eq(peer_count(&A, AGENT_EV_ERROR, NULL), 0);
	cr_assert_eq(peer_count(&B, AGENT_EV_ERROR, NULL), 0);
}

Test(agent_load, verify_then_rekey_lowers_trust)
{
	struct agent_code ac, bc;
	struct agent_conn_info ia;
	struct store_conn sc;
	char wrong[AGENT_CODE_DIGITS + 1];
	size_t two = 2;

	peer_new(&A, "alice", testrelay_address(r1), NULL);
	peer_new(&B, "bob", testrelay_address(r1), NULL);
	connect_pair(&A, &B, ca, cb);
	cr_assert_eq(agent_code(A.a, ca, &ac), 0);
	cr_assert_eq(agent_code(B.a, cb, &bc), 0);
	snprintf(wrong, sizeof wrong, "%s", bc.digits);
	wrong[7] = wrong[7] == '0' ? '1' : '0';
	cr_assert_eq(agent_verify(A.a, ca, wrong), NOID_ERR_AUTH);
	cr_assert_eq(agent_verify(A.a, ca, "not a code"), NOID_ERR_INVAL);
	cr_assert_eq(agent_verify(A.a, ca, bc.text), 0, "spaced digits");
	cr_assert_eq(agent_verify(B.a, cb, ac.qr), 0, "scanned QR payload");
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), 0);
	cr_assert_eq(ia.trust, AGENT_TRUST_VERIFIED);
	agent_conn_info_clear(&ia);
	cr_assert_eq(store_conn_get(A.st, A.profile, ca, &sc), 0);
	cr_assert_eq(sc.trust, STORE_TRUST_VERIFIED, "stored");
	store_conn_clear(&sc);
	/* A new agreement must be verified again. */
	cr_assert_eq(agent_rekey(B.a, cb), 0);
	pump2(&A, &B, both_security, &two, 30000);
	cr_assert_eq(agent_conn_info(A.a, ca, &ia), 0);
	cr_assert_eq(ia.trust, AGENT_TRUST_QR);
	agent_conn_info_clear(&ia);
}

/* Copy a directory tree (cp -a). */
static void
copy_dir(const char *from, const char *to)
{
	char cmd[256];

	snprintf(
	    cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
	cr_assert_eq(system(cmd), 0);
}

Test(agent_load, resync_after_lost_state_is_shown_on_both_sides)
{
	struct want w = {&A, AGENT_EV_SECURITY, 1, NULL, 0, 0};
	struct agent_code ac, bc;
	char snap[80];
	size_t n, i;

	peer_new(&A, "alice", testrelay_address(r1), NULL);
	peer_new(&B, "bob", testrelay_address(r1), NULL);
	connect_pair(&A, &B, ca, cb);
	snprintf(snap, sizeof snap, "%s-snap", A.dir);
	peer_stop(&A);
	copy_dir(A.dir, snap);
	peer_start(&A);
	for (i = 0; i < 5; i++) {
		send_one(&A, ca, 'a', i);
		send_one(&B, cb, 'b', i);
	}
	n = 5;
	pump2(&A, &B, both_got, &n, 30000);
	/* A loses everything since the snapshot. */
	peer_stop(&A);
	copy_dir(snap, A.dir);
	testrelay_rmtree(snap);
	for (i = 0; i < A.nev; i++)
		free(A.ev[i].text);
	A.nev = 0;
	peer_start(&A);
	send_one(&B, cb, 'b', 5);
	pump2(&A, &B, want_events, &w, 30000);
	cr_assert_eq(peer_last(&A, AGENT_EV_SECURITY, ca)->security,
	    AGENT_SECURITY_DECRYPT, "A cannot read B any more");
	cr_assert_eq(peer_count(&A, AGENT_EV_MESSAGE, NULL), 0);
	cr_assert_eq(agent_rekey(A.a, ca), 0);
	w = (struct want){&A, AGENT_EV_SECURITY, 2, &B, AGENT_EV_SECURITY, 1};
	pump2(&A, &B, want_events, &w, 30000);
	cr_assert_eq(peer_last(&A, AGENT_EV_SECURITY, ca)->security,
	    AGENT_SECURITY_RESYNC);
	cr_assert_eq(peer_last(&B, AGENT_EV_SECURITY, cb)->security,
	    AGENT_SECURITY_RESYNC);
	cr_assert_eq(agent_code(A.a, ca, &ac), 0);
	cr_assert_eq(agent_code(B.a, cb, &bc), 0);
	cr_assert_str_eq(ac.digits, bc.digits);
	/* Messages flow again both ways. */
	send_one(&A, ca, 'x', 0);
	send_one(&B, cb, 'y', 0);
	w = (struct want){&A, AGENT_EV_MESSAGE, 1, &B, AGENT_EV_MESSAGE, 6};
	pump2(&A, &B, want_events, &w, 30000);
	cr_assert_str_eq(peer_last(&A, AGENT_EV_MESSAGE, ca)->text, "y0");
	cr_assert_str_eq(peer_last(&B, AGENT_EV_MESSAGE, cb)->text, "x0");
}
