/*
 * Tests for net/relay-client against a real noid-relay (tests/lib
 * testrelay): queue life cycle, pushes, GET, END to the old subscriber,
 * a wrong relay key, the event-driven face with several requests in
 * flight, pending messages surviving a crash of the relay, and a
 * delivery window.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "relay-client.h"
#include "testrelay.h"
#include "transport.h"

#define T_MS 5000

/* Pushed transmissions collected by the push callback. */
struct pushes {
	int n;
	struct relay_reply r[8];
};

static void
on_push(struct relay_client *c, const struct proto_tx *tx, void *arg)
{
	struct pushes *p = arg;

	(void)c;
	cr_assert_lt(p->n, 8);
	relay_reply_copy(&p->r[p->n++], tx);
}

/* Wait until p has n pushes. */
static void
wait_pushes(struct relay_client *c, struct pushes *p, int n)
{
	uint64_t deadline = clock_mono_ms() + T_MS;

	while (p->n < n && clock_mono_ms() < deadline) {
		int error = relay_client_poll(c, T_MS);

		cr_assert(error == 0 || error == NOID_ERR_TIMEOUT, "%s",
		    noid_strerror(error));
	}
	cr_assert_geq(p->n, n, "waited for %d pushes, got %d", n, p->n);
}

static struct testrelay *relay;

static void
setup(void)
{
	relay = testrelay_start(NULL);
	cr_assert_not_null(relay, "noid-relay did not start");
}

static void
teardown(void)
{
	testrelay_free(relay);
}

static struct relay_client *
connect_to(const struct relay_addr *a, struct pushes *p)
{
	struct relay_client *c;
	int error;

	error = relay_client_connect_blocking(a, T_MS, on_push, p, &c);
	cr_assert_eq(error, 0, "connect: %s", noid_strerror(error));
	cr_assert(relay_client_established(c));
	return c;
}

Test(relay_client, ping, .init = setup, .fini = teardown)
{
	struct pushes p = {0};
	struct relay_client *c = connect_to(testrelay_addr(relay), &p);

	cr_assert_eq(relay_client_ping(c, T_MS), 0);
	cr_assert_eq(relay_client_pending(c), 0);
	relay_client_free(c);
}

Test(relay_client, queue_life_cycle, .init = setup, .fini = teardown)
{
	static struct relay_reply got;
	static struct relay_msg m;
	struct relay_queue_keys k;
	struct relay_queue q;
	struct pushes p = {0};
	struct relay_client *rc, *sc;

	rc = connect_to(testrelay_addr(relay), &p);
	sc = connect_to(testrelay_addr(relay), NULL);
	relay_queue_keys_new(&k);
	cr_assert_eq(relay_client_create_queue(rc, &k, NULL, T_MS, &q), 0);
	cr_assert(memcmp(q.rid, q.sid, NOID_ID_LEN) != 0);

	/* Unsecured: anyone with the sid may send. */
	cr_assert_eq(relay_client_send(sc, NULL, q.sid, 0, "one", 3, T_MS), 0);
	cr_assert_eq(relay_client_subscribe(rc, &k.rcpt_auth, q.rid, T_MS), 0);
	wait_pushes(rc, &p, 1);
	cr_assert_eq(p.r[0].tx.tag, PROTO_MSG);
	cr_assert(memcmp(p.r[0].tx.entity, q.rid, NOID_ID_LEN) == 0);
	cr_assert_eq(relay_msg_open(&p.r[0].tx, q.shared, &m), 0);
	cr_assert_eq(m.body_len, 3);
	cr_assert(memcmp(m.body, "one", 3) == 0);
	cr_assert_gt(m.ts_ms, 0);

	/* Secure it: the unsigned sender is now refused. */
	cr_assert_eq(relay_client_secure(
	                 rc, &k.rcpt_auth, q.rid, k.sender_auth.pub, T_MS),
	    0);
	cr_assert_eq(relay_client_send(sc, NULL, q.sid, 0, "two", 3, T_MS),
	    NOID_ERR_AUTH);
	cr_assert_eq(relay_client_send(sc, &k.sender_auth, q.sid,
	                 PROTO_SEND_NOTIFY, "two", 3, T_MS),
	    0);
	/* A wrong ack id deletes nothing; the right one brings the next. */
	{
		uint8_t wrong[NOID_ID_LEN] = {0};

		cr_assert_eq(
		    relay_client_ack(rc, &k.rcpt_auth, q.rid, wrong, T_MS),
		    NOID_ERR_NOENT);
	}
	cr_assert_eq(
	    relay_client_ack(rc, &k.rcpt_auth, q.rid, m.msg_id, T_MS), 0);
	wait_pushes(rc, &p, 2);
	cr_assert_eq(relay_msg_open(&p.r[1].tx, q.shared, &m), 0);
	cr_assert(memcmp(m.body, "two", 3) == 0);
	cr_assert_eq(m.flags, PROTO_SEND_NOTIFY);
	/* GET returns the same (unacked) message. */
	cr_assert_eq(relay_client_get(rc, &k.rcpt_auth, q.rid, T_MS, &got), 0);
	cr_assert(memcmp(got.tx.u.msg.msg_id, m.msg_id, NOID_ID_LEN) == 0);
	cr_assert_eq(
	    relay_client_ack(rc, &k.rcpt_auth, q.rid, m.msg_id, T_MS), 0);
	cr_assert_eq(relay_client_get(rc, &k.rcpt_auth, q.rid, T_MS, &got),
	    NOID_ERR_NOENT);

	/* Another recipient key, the sid as rid: both just AUTH. */
	cr_assert_eq(relay_client_subscribe(rc, &k.sender_auth, q.rid, T_MS),
	    NOID_ERR_AUTH);
	cr_assert_eq(relay_client_subscribe(rc, &k.rcpt_auth, q.sid, T_MS),
	    NOID_ERR_AUTH);
	/* Suspend, then delete. */
	cr_assert_eq(relay_client_suspend(rc, &k.rcpt_auth, q.rid, T_MS), 0);
	cr_assert_eq(
	    relay_client_send(sc, &k.sender_auth, q.sid, 0, "x", 1, T_MS),
	    NOID_ERR_AUTH);
	cr_assert_eq(relay_client_delete(rc, &k.rcpt_auth, q.rid, T_MS), 0);
	cr_assert_eq(relay_client_subscribe(rc, &k.rcpt_auth, q.rid, T_MS),
	    NOID_ERR_AUTH);
	relay_client_free(rc);
	relay_client_free(sc);
}

Test(
    relay_client, second_subscriber_ends_first, .init = setup, .fini = teardown)
{
	struct relay_queue_keys k;
	struct relay_queue q;
	struct pushes p1 = {0}, p2 = {0};
	struct relay_client *a, *b;

	a = connect_to(testrelay_addr(relay), &p1);
	b = connect_to(testrelay_addr(relay), &p2);
	relay_queue_keys_new(&k);
	cr_assert_eq(relay_client_create_queue(a, &k, NULL, T_MS, &q), 0);
	cr_assert_eq(relay_client_subscribe(a, &k.rcpt_auth, q.rid, T_MS), 0);
	cr_assert_eq(relay_client_subscribe(b, &k.rcpt_auth, q.rid, T_MS), 0);
	wait_pushes(a, &p1, 1);
	cr_assert_eq(p1.r[0].tx.tag, PROTO_END);
	cr_assert(memcmp(p1.r[0].tx.entity, q.rid, NOID_ID_LEN) == 0);
	cr_assert_eq(p2.n, 0);
	relay_client_free(a);
	relay_client_free(b);
}

Test(relay_client, wrong_relay_key, .init = setup, .fini = teardown)
{
	struct relay_addr a = *testrelay_addr(relay);
	struct relay_client *c;

	a.key[3] ^= 0x10;
	cr_assert_eq(relay_client_connect_blocking(&a, T_MS, NULL, NULL, &c),
	    NOID_ERR_KEY);
	cr_assert_null(c);
}

Test(relay_client, connection_refused)
{
	struct relay_addr a;
	struct relay_client *c;
	int error;

	/* Port 1 on loopback: nobody listens there. */
	memset(&a, 0, sizeof a);
	randombytes_buf(a.key, sizeof a.key);
	strcpy(a.host, "127.0.0.1");
	a.port = 1;
	error = relay_client_connect_blocking(&a, T_MS, NULL, NULL, &c);
	cr_assert(error == NOID_ERR_IO || error == NOID_ERR_CLOSED, "%s",
	    noid_strerror(error));
}

/* Reply bookkeeping for the event-driven test. */
struct replies {
	int n;
	int errors[16];
	uint8_t tags[16];
};

static void
on_reply(
    struct relay_client *c, int error, const struct proto_tx *tx, void *arg)
{
	struct replies *r = arg;

	(void)c;
	r->errors[r->n] = error;
	r->tags[r->n] = tx != NULL ? tx->tag : 0;
	r->n++;
}

Test(relay_client, event_driven_requests_share_the_loop, .init = setup,
    .fini = teardown)
{
	struct relay_queue_keys k;
	struct replies got = {0};
	struct relay_client *c;
	struct proto_tx tx;
	struct pollfd pfd;
	uint64_t corr[4], deadline;
	int i, error;

	error = relay_client_open(testrelay_addr(relay), NULL, NULL, &c);
	cr_assert_eq(error, 0);
	cr_assert_eq(relay_client_timeout_ms(c), -1);
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_PING;
	cr_assert_eq(relay_client_request(c, &tx, NULL, on_reply, &got, NULL),
	    NOID_ERR_STATE);
	deadline = clock_mono_ms() + T_MS;
	while (!relay_client_established(c) && clock_mono_ms() < deadline) {
		pfd.fd = relay_client_fd(c);
		pfd.events = relay_client_events(c);
		cr_assert_geq(poll(&pfd, 1, T_MS), 0);
		if (pfd.revents & POLLOUT)
			cr_assert_eq(relay_client_on_writable(c), 0);
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
			cr_assert_eq(relay_client_on_readable(c), 0);
	}
	cr_assert(relay_client_established(c));
	cr_assert_gt(relay_client_timeout_ms(c), 0);
	/* Three PINGs and a SUB on a queue that does not exist, all in
	 * flight together. */
	relay_queue_keys_new(&k);
	for (i = 0; i < 3; i++)
		cr_assert_eq(relay_client_request(
		                 c, &tx, NULL, on_reply, &got, &corr[i]),
		    0);
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_SUB;
	tx.entity_len = NOID_ID_LEN;
	cr_assert_eq(relay_client_request(
	                 c, &tx, &k.rcpt_auth, on_reply, &got, &corr[3]),
	    0);
	cr_assert_eq(relay_client_pending(c), 4);
	cr_assert(corr[0] != corr[1] && corr[1] != corr[2]);
	deadline = clock_mono_ms() + T_MS;
	while (got.n < 4 && clock_mono_ms() < deadline)
		cr_assert(relay_client_poll(c, T_MS) == 0 ||
		    relay_client_error(c) == 0);
	cr_assert_eq(got.n, 4);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(got.errors[i], 0);
		cr_assert_eq(got.tags[i], PROTO_PONG);
	}
	cr_assert_eq(got.errors[3], NOID_ERR_AUTH);
	cr_assert_eq(got.tags[3], PROTO_ERR);
	cr_assert_eq(relay_client_pending(c), 0);
	/* A request still pending at free is told. */
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_PING;
	cr_assert_eq(
	    relay_client_request(c, &tx, NULL, on_reply, &got, NULL), 0);
	relay_client_free(c);
	cr_assert_eq(got.n, 5);
	cr_assert_eq(got.errors[4], NOID_ERR_CLOSED);
}

Test(relay_client, pending_messages_survive_a_crash, .init = setup,
    .fini = teardown)
{
	struct relay_queue_keys k;
	struct relay_queue q;
	struct pushes p = {0};
	struct relay_client *c;
	static struct relay_msg m;
	int i;

	c = connect_to(testrelay_addr(relay), NULL);
	relay_queue_keys_new(&k);
	cr_assert_eq(relay_client_create_queue(c, &k, NULL, T_MS, &q), 0);
	for (i = 0; i < 3; i++) {
		char body[16];

		snprintf(body, sizeof body, "msg %d", i);
		cr_assert_eq(relay_client_send(
		                 c, NULL, q.sid, 0, body, strlen(body), T_MS),
		    0);
	}
	relay_client_free(c);
	testrelay_stop(relay, SIGKILL);
	cr_assert_eq(testrelay_restart(relay), 0);
	c = connect_to(testrelay_addr(relay), &p);
	cr_assert_eq(relay_client_subscribe(c, &k.rcpt_auth, q.rid, T_MS), 0);
	for (i = 0; i < 3; i++) {
		char want[16];

		wait_pushes(c, &p, i + 1);
		cr_assert_eq(relay_msg_open(&p.r[i].tx, q.shared, &m), 0);
		snprintf(want, sizeof want, "msg %d", i);
		cr_assert_eq(m.body_len, strlen(want));
		cr_assert(memcmp(m.body, want, m.body_len) == 0);
		cr_assert_eq(
		    relay_client_ack(c, &k.rcpt_auth, q.rid, m.msg_id, T_MS),
		    0);
	}
	/* Exactly once: the queue is empty now and nothing else came. */
	{
		static struct relay_reply r;

		cr_assert_eq(relay_client_get(c, &k.rcpt_auth, q.rid, T_MS, &r),
		    NOID_ERR_NOENT);
	}
	cr_assert_eq(p.n, 3);
	relay_client_free(c);
}

/* Push i of p opened: its body must be want; returns its msg id. */
static const uint8_t *
push_body(
    struct pushes *p, int i, const struct relay_queue *q, const char *want)
{
	static struct relay_msg m;

	cr_assert_eq(p->r[i].tx.tag, PROTO_MSG);
	cr_assert_eq(relay_msg_open(&p->r[i].tx, q->shared, &m), 0);
	cr_assert_eq(m.body_len, strlen(want), "push %d", i);
	cr_assert(memcmp(m.body, want, m.body_len) == 0, "push %d", i);
	return p->r[i].tx.u.msg.msg_id;
}

Test(relay_client, delivery_window, .init = setup, .fini = teardown)
{
	struct relay_queue_keys k;
	struct relay_queue q;
	struct pushes p = {0};
	struct relay_client *rc, *sc;
	uint8_t acked[NOID_ID_LEN];
	char body[16];
	int i;

	rc = connect_to(testrelay_addr(relay), &p);
	sc = connect_to(testrelay_addr(relay), NULL);
	relay_queue_keys_new(&k);
	cr_assert_eq(relay_client_create_queue(rc, &k, NULL, T_MS, &q), 0);
	cr_assert_eq(relay_client_subscribe_window(
	                 rc, &k.rcpt_auth, q.rid, NOID_WINDOW_MAX + 1, T_MS),
	    NOID_ERR_PROTO);
	cr_assert_eq(
	    relay_client_subscribe_window(rc, &k.rcpt_auth, q.rid, 3, T_MS), 0);
	for (i = 0; i < 5; i++) {
		snprintf(body, sizeof body, "m%d", i);
		cr_assert_eq(relay_client_send(
		                 sc, NULL, q.sid, 0, body, strlen(body), T_MS),
		    0);
	}
	/* Three in order, unacked; the PONG comes behind any fourth. */
	wait_pushes(rc, &p, 3);
	cr_assert_eq(relay_client_ping(rc, T_MS), 0);
	cr_assert_eq(p.n, 3);
	push_body(&p, 0, &q, "m0");
	memcpy(acked, push_body(&p, 1, &q, "m1"), NOID_ID_LEN);
	push_body(&p, 2, &q, "m2");
	/* Any delivered one may be acked; that frees a slot for m3. */
	cr_assert_eq(relay_client_ack(rc, &k.rcpt_auth, q.rid, acked, T_MS), 0);
	wait_pushes(rc, &p, 4);
	push_body(&p, 3, &q, "m3");
	/* Acked already: nothing deleted, nothing pushed. */
	cr_assert_eq(relay_client_ack(rc, &k.rcpt_auth, q.rid, acked, T_MS),
	    NOID_ERR_NOENT);
	cr_assert_eq(relay_client_ping(rc, T_MS), 0);
	cr_assert_eq(p.n, 4);
	/* A new SUB starts again from the oldest unacked: m0 m2 m3 m4. */
	p.n = 0;
	cr_assert_eq(
	    relay_client_subscribe_window(rc, &k.rcpt_auth, q.rid, 8, T_MS), 0);
	wait_pushes(rc, &p, 4);
	push_body(&p, 0, &q, "m0");
	push_body(&p, 1, &q, "m2");
	push_body(&p, 2, &q, "m3");
	push_body(&p, 3, &q, "m4");
	for (i = 0; i < 4; i++)
		cr_assert_eq(relay_client_ack(rc, &k.rcpt_auth, q.rid,
		                 p.r[i].tx.u.msg.msg_id, T_MS),
		    0);
	cr_assert_eq(relay_client_ping(rc, T_MS), 0);
	cr_assert_eq(p.n, 4);
	relay_client_free(rc);
	relay_client_free(sc);
}

/*
 * Corked, full-size SENDs fill the transport's queue and the pending
 * block; uncorked, every one of them goes and is answered (none is
 * left behind in the block with nothing asking to write).
 */
Test(
    relay_client, uncork_sends_everything_held, .init = setup, .fini = teardown)
{
	static uint8_t body[NOID_MSG_MAX];
	struct relay_queue_keys k;
	struct relay_queue q;
	struct replies got = {0};
	struct relay_client *rc, *sc;
	struct proto_tx tx;
	uint64_t deadline;
	int n = 0, error = 0;

	rc = connect_to(testrelay_addr(relay), NULL);
	sc = connect_to(testrelay_addr(relay), NULL);
	relay_queue_keys_new(&k);
	cr_assert_eq(relay_client_create_queue(rc, &k, NULL, T_MS, &q), 0);
	cr_assert_eq(relay_client_set_cork(sc, 1), 0);
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_SEND;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q.sid, NOID_ID_LEN);
	tx.u.send.body = body;
	tx.u.send.body_len = sizeof body;
	while (error == 0 && n < 16) {
		error =
		    relay_client_request(sc, &tx, NULL, on_reply, &got, NULL);
		n += error == 0;
	}
	cr_assert_eq(error, NOID_ERR_AGAIN, "%s", noid_strerror(error));
	cr_assert_gt(n, TRANSPORT_OUT_MAX_DEFAULT, "the block held one more");
	cr_assert_eq(relay_client_events(sc) & POLLOUT, 0);
	cr_assert_eq(relay_client_set_cork(sc, 0), 0);
	deadline = clock_mono_ms() + T_MS;
	while (got.n < n && clock_mono_ms() < deadline)
		cr_assert(relay_client_poll(sc, 1000) == 0 ||
		    relay_client_error(sc) == 0);
	cr_assert_eq(got.n, n, "%d of %d answered", got.n, n);
	cr_assert_eq(got.errors[n - 1], 0);
	relay_client_free(rc);
	relay_client_free(sc);
}
