/*
 * Tests for net/agent-conn.c without relays: bodies are passed through
 * in-memory FIFO queues (a relay queue is FIFO).  The handshake, single
 * use, wrong link key, 1,000 messages each way with random interleaving
 * and crashes (state reloaded from the last commit, uncommitted
 * receives redelivered), integrity gaps, re-key with matching codes,
 * and no (key, nonce) pair ever used twice across all of it.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "agent-int.h"

#define FIFO_MAX 4096

struct fifo {
	uint8_t *body[FIFO_MAX];
	size_t head, tail;
};

static void
fifo_push(struct fifo *f, const uint8_t body[AGENT_BODY])
{
	cr_assert_lt(f->tail, FIFO_MAX);
	f->body[f->tail++] = xmemdup(body, AGENT_BODY);
}

static void
fifo_free(struct fifo *f)
{
	size_t i;

	for (i = 0; i < f->tail; i++)
		free(f->body[i]);
}

/* One side: live state plus its last committed blob. */
struct side {
	struct agent_conn *c;
	struct buf saved;
	struct fifo in;
	uint64_t seen; /* TEXT messages shown */
	uint64_t sent; /* TEXT messages sent */
	int integrity; /* last integrity report */
};

static void
side_commit(struct side *s)
{
	buf_reset(&s->saved);
	agent_conn_save(s->c, &s->saved);
}

static void
side_crash(struct side *s)
{
	agent_conn_free(s->c);
	cr_assert_eq(agent_conn_load(s->saved.data, s->saved.len, &s->c), 0);
}

/* Key/nonce log from the ratchet's send observer. */
static uint8_t (*kn_log)[E2E_KEY_SIZE + E2E_NONCE_SIZE];
static size_t kn_n, kn_cap;

static void
kn_observe(const uint8_t key[E2E_KEY_SIZE], const uint8_t nonce[E2E_NONCE_SIZE],
    void *arg)
{
	(void)arg;
	if (kn_n == kn_cap) {
		kn_cap = kn_cap ? kn_cap * 2 : 1024;
		kn_log = xreallocarray(kn_log, kn_cap, sizeof *kn_log);
	}
	memcpy(kn_log[kn_n], key, E2E_KEY_SIZE);
	memcpy(kn_log[kn_n] + E2E_KEY_SIZE, nonce, E2E_NONCE_SIZE);
	kn_n++;
}

static int
kn_cmp(const void *a, const void *b)
{
	return memcmp(a, b, E2E_KEY_SIZE + E2E_NONCE_SIZE);
}

/* Handshake between two fresh sides; returns the invitation. */
static void
connect_pair(struct side *inv, struct side *joi, struct agent_invite *link)
{
	uint8_t body[AGENT_BODY], confirm[AGENT_BODY], hello[AGENT_BODY];
	uint8_t auth[32];
	struct agent_qaddr reply;
	struct agent_recv rv;
	struct agent_msg m;
	struct e2e_code c1, c2;

	memset(link, 0, sizeof *link);
	randombytes_buf(link->key, sizeof link->key);
	inv->c = agent_conn_new_inviter(link->key);
	memset(&reply, 0, sizeof reply);
	snprintf(reply.relay, sizeof reply.relay, "noid://K@127.0.0.1:1");
	randombytes_buf(reply.sid, sizeof reply.sid);
	randombytes_buf(auth, sizeof auth);
	cr_assert_eq(
	    agent_conn_join(link, &reply, auth, "Bob", "hi", &joi->c, body), 0);
	cr_assert_eq(agent_conn_receive(inv->c, body, AGENT_BODY, &rv), 0);
	cr_assert_eq(rv.kind, AGENT_INNER_REQUEST);
	cr_assert_str_eq(rv.req.name, "Bob");
	cr_assert_arr_eq(rv.req.send_auth, auth, 32);
	cr_assert_arr_eq(rv.req.reply.sid, reply.sid, 24);
	agent_recv_clear(&rv);
	cr_assert_eq(
	    agent_conn_accept(inv->c, auth, "Alice", NULL, confirm, hello), 0);
	cr_assert_eq(agent_conn_receive(joi->c, confirm, AGENT_BODY, &rv), 0);
	cr_assert_eq(rv.kind, AGENT_INNER_CONFIRM);
	agent_recv_clear(&rv);
	cr_assert_eq(agent_conn_receive(joi->c, hello, AGENT_BODY, &rv), 0);
	cr_assert_eq(rv.msg.type, AGENT_MSG_HELLO);
	cr_assert_str_eq(rv.msg.name, "Alice");
	agent_recv_clear(&rv);
	cr_assert(agent_conn_ready(joi->c));
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_HELLO;
	snprintf(m.name, sizeof m.name, "Bob");
	cr_assert_eq(agent_conn_seal(joi->c, &m, body, NULL), 0);
	cr_assert_eq(agent_conn_receive(inv->c, body, AGENT_BODY, &rv), 0);
	cr_assert_eq(rv.msg.type, AGENT_MSG_HELLO);
	agent_recv_clear(&rv);
	cr_assert(agent_conn_ready(inv->c));
	cr_assert_eq(agent_conn_code(inv->c, &c1), 0);
	cr_assert_eq(agent_conn_code(joi->c, &c2), 0);
	cr_assert_str_eq(c1.digits, c2.digits);
	buf_init(&inv->saved);
	buf_init(&joi->saved);
	side_commit(inv);
	side_commit(joi);
}

static void
side_free(struct side *s)
{
	agent_conn_free(s->c);
	buf_free_secret(&s->saved);
	fifo_free(&s->in);
}

Test(agent_conn, handshake_single_use_and_wrong_key)
{
	struct side a = {0}, b = {0};
	struct agent_invite link, other;
	struct agent_qaddr reply;
	struct agent_conn *c2, *c3;
	struct agent_recv rv;
	uint8_t body[AGENT_BODY], auth[32] = {0};

	connect_pair(&a, &b, &link);
	/* A second use of the same link is refused by the inviter. */
	memset(&reply, 0, sizeof reply);
	snprintf(reply.relay, sizeof reply.relay, "noid://K@h:1");
	cr_assert_eq(
	    agent_conn_join(&link, &reply, auth, "Eve", NULL, &c2, body), 0);
	cr_assert_neq(agent_conn_receive(a.c, body, AGENT_BODY, &rv), 0);
	agent_recv_clear(&rv);
	/* A fresh invitation answered with another link key fails. */
	c3 = agent_conn_new_inviter(link.key);
	other = link;
	other.key[0] ^= 1;
	agent_conn_free(c2);
	cr_assert_eq(
	    agent_conn_join(&other, &reply, auth, "Eve", NULL, &c2, body), 0);
	cr_assert_eq(
	    agent_conn_receive(c3, body, AGENT_BODY, &rv), NOID_ERR_CRYPTO);
	agent_recv_clear(&rv);
	/* Bad profile input. */
	cr_assert_eq(agent_conn_join(&link, &reply, auth, "", NULL, &c2, body),
	    NOID_ERR_INVAL);
	agent_conn_free(c2);
	agent_conn_free(c3);
	side_free(&a);
	side_free(&b);
}

/* Send one TEXT from s to peer (commit before it leaves). */
static void
send_text(struct side *s, struct side *peer)
{
	uint8_t body[AGENT_BODY], id[AGENT_ID_LEN];
	char text[64];
	struct agent_msg m;

	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_TEXT;
	snprintf(
	    text, sizeof text, "message %llu", (unsigned long long)s->sent + 1);
	m.text = text;
	m.text_len = strlen(text);
	randombytes_buf(id, sizeof id);
	memcpy(m.id, id, sizeof id);
	cr_assert_eq(agent_conn_seal(s->c, &m, body, NULL), 0);
	side_commit(s);
	s->sent++;
	fifo_push(&peer->in, body);
}

/* Deliver the next body to s; maybe crash before the commit. */
static void
deliver(struct side *s, int crash)
{
	struct agent_recv rv;
	char want[64];

	cr_assert_eq(
	    agent_conn_receive(s->c, s->in.body[s->in.head], AGENT_BODY, &rv),
	    0);
	if (crash) {
		agent_recv_clear(&rv);
		side_crash(s); /* not committed: the relay redelivers */
		return;
	}
	if (!rv.duplicate && rv.msg.type == AGENT_MSG_TEXT) {
		s->seen++;
		snprintf(want, sizeof want, "message %llu",
		    (unsigned long long)s->seen);
		cr_assert_eq(rv.msg.seq, s->seen);
		cr_assert_eq(rv.msg.text_len, strlen(want));
		cr_assert_arr_eq(rv.msg.text, want, strlen(want));
		s->integrity = rv.integrity;
		cr_assert_eq(rv.integrity, 0);
	}
	agent_recv_clear(&rv);
	side_commit(s);
	s->in.head++;
}

Test(agent_conn, thousand_each_way_with_crashes_no_key_reuse)
{
	struct side a = {0}, b = {0};
	struct agent_invite link;
	size_t i;
	uint32_t rnd;

	kn_n = 0;
	e2e_set_send_observer(kn_observe, NULL);
	connect_pair(&a, &b, &link);
	while (a.sent < 1000 || b.sent < 1000 || a.in.head < a.in.tail ||
	    b.in.head < b.in.tail) {
		rnd = randombytes_uniform(100);
		if (rnd < 25 && a.sent < 1000)
			send_text(&a, &b);
		else if (rnd < 50 && b.sent < 1000)
			send_text(&b, &a);
		else if (rnd < 72 && a.in.head < a.in.tail)
			deliver(&a, randombytes_uniform(20) == 0);
		else if (rnd < 94 && b.in.head < b.in.tail)
			deliver(&b, randombytes_uniform(20) == 0);
		else if (rnd < 97) {
			/* A relay redelivers what was already taken in. */
			if (a.in.head > 0) {
				a.in.head--;
				deliver(&a, 0);
			}
		} else {
			side_crash(randombytes_uniform(2) ? &a : &b);
		}
	}
	cr_assert_eq(a.seen, 1000);
	cr_assert_eq(b.seen, 1000);
	e2e_set_send_observer(NULL, NULL);
	cr_assert_gt(kn_n, 4000);
	qsort(kn_log, kn_n, sizeof *kn_log, kn_cmp);
	for (i = 1; i < kn_n; i++)
		cr_assert_neq(kn_cmp(kn_log[i - 1], kn_log[i]), 0,
		    "(key, nonce) used twice");
	free(kn_log);
	kn_log = NULL;
	kn_cap = 0;
	side_free(&a);
	side_free(&b);
}

Test(agent_conn, gap_is_reported)
{
	struct side a = {0}, b = {0};
	struct agent_invite link;
	struct agent_recv rv;

	connect_pair(&a, &b, &link);
	send_text(&a, &b);
	send_text(&a, &b);
	send_text(&a, &b);
	deliver(&b, 0);
	b.in.head++; /* message 2 lost */
	cr_assert_eq(
	    agent_conn_receive(b.c, b.in.body[b.in.head], AGENT_BODY, &rv), 0);
	cr_assert_eq(rv.integrity, AGENT_INTEGRITY_SKIPPED);
	cr_assert_eq(rv.gap_from, 2);
	cr_assert_eq(rv.gap_to, 2);
	agent_recv_clear(&rv);
	side_free(&a);
	side_free(&b);
}

/* Both sides show one code, not the one from before. */
static void
codes_match_and_changed(
    const struct side *a, const struct side *b, const struct e2e_code *before)
{
	struct e2e_code ca, cb;

	cr_assert_eq(agent_conn_code(a->c, &ca), 0);
	cr_assert_eq(agent_conn_code(b->c, &cb), 0);
	cr_assert_str_eq(ca.digits, cb.digits);
	cr_assert_str_neq(ca.digits, before->digits);
}

Test(agent_conn, rekey_codes_match_and_change)
{
	struct side a = {0}, b = {0};
	struct agent_invite link;
	struct e2e_code before;
	uint8_t body[AGENT_BODY];
	struct agent_recv rv;
	int i;

	connect_pair(&a, &b, &link);
	cr_assert_eq(agent_conn_code(a.c, &before), 0);
	cr_assert_eq(agent_conn_rekey(a.c, body), 0);
	cr_assert_eq(agent_conn_rekey(a.c, body), NOID_ERR_STATE,
	    "one re-key at a time");
	fifo_push(&b.in, body);
	/* Traffic in flight both ways across the switch. */
	send_text(&a, &b);
	send_text(&b, &a);
	cr_assert_eq(
	    agent_conn_receive(b.c, b.in.body[b.in.head++], AGENT_BODY, &rv),
	    0);
	cr_assert_eq(rv.msg.type, AGENT_MSG_REKEY);
	cr_assert_eq(agent_conn_rekey_answer(b.c, &rv.msg, body), 0);
	agent_recv_clear(&rv);
	fifo_push(&a.in, body);
	side_commit(&b);
	deliver(&b, 0); /* a's text sent in the old ratchet */
	send_text(&b, &a); /* b now sends in the new one */
	deliver(&a, 0); /* b's old-ratchet text */
	cr_assert_eq(
	    agent_conn_receive(a.c, a.in.body[a.in.head++], AGENT_BODY, &rv),
	    0);
	cr_assert(rv.rekeyed);
	agent_recv_clear(&rv);
	side_commit(&a);
	for (i = 0; i < 5; i++) {
		send_text(&a, &b);
		send_text(&b, &a);
	}
	while (a.in.head < a.in.tail)
		deliver(&a, 0);
	while (b.in.head < b.in.tail)
		deliver(&b, 0);
	cr_assert_eq(a.seen, 7);
	cr_assert_eq(b.seen, 6);
	codes_match_and_changed(&a, &b, &before);
	side_free(&a);
	side_free(&b);
}

/* s receives the peer's REKEY body and answers it if it must. */
static int
take_rekey(struct side *s, const uint8_t *rekey, struct side *peer)
{
	uint8_t ans[AGENT_BODY];
	struct agent_recv rv;
	int rc;

	cr_assert_eq(agent_conn_receive(s->c, rekey, AGENT_BODY, &rv), 0);
	cr_assert_eq(rv.msg.type, AGENT_MSG_REKEY);
	rc = agent_conn_rekey_answer(s->c, &rv.msg, ans);
	agent_recv_clear(&rv);
	if (rc == 0)
		fifo_push(&peer->in, ans);
	return rc;
}

/*
 * Both sides start a re-key before either sees the other's REKEY: the
 * lower offer wins, so exactly one side answers and both end on the
 * same new ratchet (review finding: each used to answer the other).
 */
Test(agent_conn, crossing_rekeys_agree)
{
	struct side a = {0}, b = {0};
	struct agent_invite link;
	struct e2e_code before;
	uint8_t ra[AGENT_BODY], rb[AGENT_BODY];
	struct agent_recv rv;
	struct side *win, *lose;
	int rca, rcb, i;

	connect_pair(&a, &b, &link);
	cr_assert_eq(agent_conn_code(a.c, &before), 0);
	cr_assert_eq(agent_conn_rekey(a.c, ra), 0);
	cr_assert_eq(agent_conn_rekey(b.c, rb), 0);
	rcb = take_rekey(&b, ra, &a);
	rca = take_rekey(&a, rb, &b);
	cr_assert((rca == 0 && rcb == NOID_ERR_EXISTS) ||
	        (rcb == 0 && rca == NOID_ERR_EXISTS),
	    "exactly one side answers (a %d, b %d)", rca, rcb);
	win = rca == 0 ? &b : &a;
	lose = rca == 0 ? &a : &b;
	cr_assert(agent_conn_offer_pending(win->c));
	cr_assert_not(agent_conn_offer_pending(lose->c));
	cr_assert_eq(agent_conn_receive(
	                 win->c, win->in.body[win->in.head++], AGENT_BODY, &rv),
	    0);
	cr_assert(rv.rekeyed);
	agent_recv_clear(&rv);
	cr_assert_not(agent_conn_offer_pending(win->c));
	codes_match_and_changed(&a, &b, &before);
	side_commit(&a);
	side_commit(&b);
	for (i = 0; i < 5; i++) {
		send_text(&a, &b);
		send_text(&b, &a);
		deliver(&a, 0);
		deliver(&b, 0);
	}
	cr_assert_eq(a.seen, 5);
	cr_assert_eq(b.seen, 5);
	side_free(&a);
	side_free(&b);
}

/* Re-key through a link: the MAC, one use, the trust, matching codes. */
Test(agent_conn, rekey_through_a_link)
{
	struct side a = {0}, b = {0};
	struct agent_invite link;
	struct e2e_code before;
	uint8_t key[AGENT_INVITE_KEY_LEN], bad[AGENT_INVITE_KEY_LEN];
	uint8_t offer[AGENT_BODY], body[AGENT_BODY];
	struct agent_recv rv;
	struct buf snap;
	int trust;

	connect_pair(&a, &b, &link);
	cr_assert_eq(agent_conn_code(a.c, &before), 0);
	agent_conn_rekey_link_new(a.c, AGENT_TRUST_TEXT, 1000, key);
	/* An offer under another link key is refused; nothing changes. */
	memcpy(bad, key, sizeof bad);
	bad[0] ^= 1;
	cr_assert_eq(agent_conn_rekey_link_join(b.c, bad, AGENT_TRUST_QR), 0);
	cr_assert_eq(agent_conn_rekey_link_offer(b.c, offer), 0);
	cr_assert_eq(agent_conn_receive(a.c, offer, AGENT_BODY, &rv), 0);
	cr_assert_eq(rv.msg.type, AGENT_MSG_REKEY_LINK);
	buf_init(&snap);
	agent_conn_save(a.c, &snap);
	cr_assert_eq(
	    agent_conn_rekey_link_answer(a.c, &rv.msg, 10, body, &trust),
	    NOID_ERR_AUTH);
	cr_assert_eq(
	    agent_conn_rekey_link_answer(a.c, &rv.msg, 1000, body, &trust),
	    NOID_ERR_EXPIRED, "expired");
	agent_recv_clear(&rv);
	side_commit(&a);
	cr_assert_eq(snap.len, a.saved.len);
	cr_assert_arr_eq(snap.data, a.saved.data, snap.len, "state untouched");
	buf_free_secret(&snap);
	/* The refusal lets b's offer go. */
	cr_assert(agent_conn_offer_pending(b.c));
	{
		struct agent_msg no = {.type = AGENT_MSG_REKEY_NO};

		cr_assert_eq(agent_conn_seal(a.c, &no, body, NULL), 0);
	}
	cr_assert_eq(agent_conn_receive(b.c, body, AGENT_BODY, &rv), 0);
	cr_assert(rv.rekey_refused);
	agent_recv_clear(&rv);
	cr_assert_not(agent_conn_offer_pending(b.c));
	/* The right key: both switch; trust of the link on each side. */
	cr_assert_eq(agent_conn_rekey_link_join(b.c, key, AGENT_TRUST_QR), 0);
	cr_assert_eq(agent_conn_rekey_link_offer(b.c, offer), 0);
	cr_assert_eq(agent_conn_receive(a.c, offer, AGENT_BODY, &rv), 0);
	cr_assert_eq(
	    agent_conn_rekey_link_answer(a.c, &rv.msg, 10, body, &trust), 0);
	cr_assert_eq(trust, AGENT_TRUST_TEXT);
	cr_assert_eq(
	    agent_conn_rekey_link_answer(a.c, &rv.msg, 10, offer, &trust),
	    NOID_ERR_EXPIRED, "one use");
	agent_recv_clear(&rv);
	cr_assert_eq(agent_conn_receive(b.c, body, AGENT_BODY, &rv), 0);
	cr_assert(rv.rekeyed);
	cr_assert_eq(rv.rekey_trust, AGENT_TRUST_QR);
	agent_recv_clear(&rv);
	codes_match_and_changed(&a, &b, &before);
	side_commit(&a);
	side_commit(&b);
	send_text(&a, &b);
	send_text(&b, &a);
	deliver(&a, 0);
	deliver(&b, 0);
	cr_assert_eq(a.seen + b.seen, 2);
	side_free(&a);
	side_free(&b);
}

Test(agent_conn, load_refuses_garbage)
{
	struct side a = {0}, b = {0};
	struct agent_invite link;
	struct agent_conn *c;
	size_t i;

	connect_pair(&a, &b, &link);
	for (i = 0; i < a.saved.len; i += 7)
		cr_assert_neq(agent_conn_load(a.saved.data, i, &c), 0,
		    "prefix %zu loaded", i);
	a.saved.data[0] = 3;
	cr_assert_eq(
	    agent_conn_load(a.saved.data, a.saved.len, &c), NOID_ERR_VERSION);
	side_free(&a);
	side_free(&b);
}

Test(agent_conn, resync_replaces_a_lost_ratchet)
{
	struct side a = {0}, b = {0};
	struct agent_invite link;
	struct e2e_code ca, cb;
	struct buf old;
	uint8_t body[AGENT_BODY], bad[AGENT_BODY];
	struct agent_recv rv;
	int i;

	connect_pair(&a, &b, &link);
	side_commit(&a);
	buf_init(&old);
	buf_put(&old, a.saved.data, a.saved.len);
	for (i = 0; i < 3; i++) {
		send_text(&a, &b);
		deliver(&b, 0);
		send_text(&b, &a);
		deliver(&a, 0);
	}
	/* a goes back to an old state: b's next message no longer opens. */
	agent_conn_free(a.c);
	cr_assert_eq(agent_conn_load(old.data, old.len, &a.c), 0);
	send_text(&b, &a);
	cr_assert_eq(
	    agent_conn_receive(a.c, a.in.body[a.in.head++], AGENT_BODY, &rv),
	    NOID_ERR_CRYPTO);
	agent_recv_clear(&rv);
	cr_assert_eq(agent_conn_resync(a.c, body), 0);
	cr_assert(agent_conn_offer_pending(a.c));
	/* A tampered RESYNC is refused, state untouched. */
	memcpy(bad, body, AGENT_BODY);
	bad[100] ^= 1;
	cr_assert_neq(agent_conn_receive(b.c, bad, AGENT_BODY, &rv), 0);
	agent_recv_clear(&rv);
	cr_assert_eq(agent_conn_receive(b.c, body, AGENT_BODY, &rv), 0);
	cr_assert(rv.resync);
	cr_assert_not_null(rv.reply);
	memcpy(body, rv.reply, AGENT_BODY);
	agent_recv_clear(&rv);
	cr_assert_eq(agent_conn_receive(a.c, body, AGENT_BODY, &rv), 0);
	cr_assert(rv.resync);
	cr_assert_null(rv.reply);
	agent_recv_clear(&rv);
	cr_assert_eq(agent_conn_code(a.c, &ca), 0);
	cr_assert_eq(agent_conn_code(b.c, &cb), 0);
	cr_assert_str_eq(ca.digits, cb.digits);
	/* The answerer sends first in the new ratchet, then both ways; the
	 * numbering shows what was lost, never silently. */
	a.sent = 0;
	send_text(&b, &a);
	cr_assert_eq(
	    agent_conn_receive(a.c, a.in.body[a.in.tail - 1], AGENT_BODY, &rv),
	    0);
	cr_assert_eq(rv.msg.type, AGENT_MSG_TEXT);
	cr_assert_eq(rv.integrity, AGENT_INTEGRITY_SKIPPED);
	agent_recv_clear(&rv);
	send_text(&a, &b);
	cr_assert_eq(
	    agent_conn_receive(b.c, b.in.body[b.in.tail - 1], AGENT_BODY, &rv),
	    0);
	cr_assert_eq(rv.msg.type, AGENT_MSG_TEXT);
	cr_assert_eq(rv.integrity, AGENT_INTEGRITY_BAD_ID);
	agent_recv_clear(&rv);
	cr_assert_eq(agent_conn_offer_pending(a.c), 0);
	buf_free(&old);
	side_free(&a);
	side_free(&b);
}
