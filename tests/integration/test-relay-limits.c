/*
 * noid-relay's global limits (PROTOCOL.md §8): queues on the relay,
 * queues per connection, bytes of messages held and bytes buffered for
 * connections.  Past each the command is answered ERR LIMIT and the
 * relay keeps serving; once back under, the same command works.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "relayfix.h"

static struct rf_relay relay;

static void
start(const char *const *extra)
{
	memset(&relay, 0, sizeof relay);
	cr_assert_eq(rf_relay_start(&relay, extra), 0, "relay did not start");
}

static void
teardown(void)
{
	cr_assert_eq(rf_relay_cleanup(&relay), 0, "relay did not stop cleanly");
}

TestSuite(relay_limits, .fini = teardown, .timeout = 60);

/* rf_new_queue's answer for ERR code. */
#define NEW_ERR(code) (-1000 - (code))

Test(relay_limits, queues_per_connection)
{
	static const char *const extra[] = {"--max-queues-per-conn", "3", NULL};
	struct rf_conn *a, *b;
	struct rf_queue q;
	int i;

	start(extra);
	cr_assert_eq(rf_connect(&relay, &a), 0);
	for (i = 0; i < 3; i++)
		cr_assert_eq(rf_new_queue(a, NULL, &q), 0);
	cr_assert_eq(rf_new_queue(a, NULL, &q), NEW_ERR(PROTO_E_LIMIT));
	/* Another connection has its own allowance. */
	cr_assert_eq(rf_connect(&relay, &b), 0);
	cr_assert_eq(rf_new_queue(b, NULL, &q), 0);
	rf_close(a);
	rf_close(b);
}

Test(relay_limits, queues_on_the_relay)
{
	static const char *const extra[] = {"--max-queues", "4", NULL};
	struct rf_conn *a, *b;
	struct rf_queue q[4], extra_q;
	struct proto_tx r;
	int i;

	start(extra);
	cr_assert_eq(rf_connect(&relay, &a), 0);
	cr_assert_eq(rf_connect(&relay, &b), 0);
	for (i = 0; i < 4; i++)
		cr_assert_eq(rf_new_queue(i % 2 ? a : b, NULL, &q[i]), 0);
	cr_assert_eq(rf_new_queue(a, NULL, &extra_q), NEW_ERR(PROTO_E_LIMIT));
	cr_assert_eq(rf_new_queue(b, NULL, &extra_q), NEW_ERR(PROTO_E_LIMIT));
	/* Deleting one makes room. */
	cr_assert_eq(rf_cmd(b, PROTO_DEL, q[0].rid, &q[0].rkey, &r), PROTO_OK);
	cr_assert_eq(rf_new_queue(a, NULL, &extra_q), 0);
	rf_close(a);
	rf_close(b);
}

Test(relay_limits, bytes_of_messages_held)
{
	static const char *const extra[] = {"--max-stored", "1048576", NULL};
	static uint8_t body[NOID_MSG_MAX];
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	int i, tag;

	start(extra);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	memset(body, 'b', sizeof body);
	/* 65 x 16000 bytes fit in 1 MiB, the 66th does not. */
	for (i = 0; i < 65; i++)
		cr_assert_eq(rf_send_msg(c, &q, false, body, sizeof body, &r),
		    PROTO_OK, "send %d", i);
	tag = rf_send_msg(c, &q, false, body, sizeof body, &r);
	cr_assert_eq(tag, PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_LIMIT);
	/* A small one still fits; after an ACK a big one does again. */
	cr_assert_eq(rf_send_msg(c, &q, false, body, 100, &r), PROTO_OK);
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_MSG);
	cr_assert_eq(rf_ack(c, &q, r.u.msg.msg_id, &r), PROTO_OK);
	cr_assert_eq(
	    rf_send_msg(c, &q, false, body, sizeof body, &r), PROTO_OK);
	rf_close(c);
}

/* Tiny messages count their overhead too: 1-byte bodies cannot hold
 * a thousand times the limit in heap and journal. */
Test(relay_limits, tiny_messages_count_their_overhead)
{
	static const char *const extra[] = {
	    "--max-stored", "1048576", "--no-fsync", NULL};
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	int tag = PROTO_OK, oks = 0, i;

	start(extra);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	/* 100 queues x 128 (the quota) = 12,800 one-byte messages. */
	for (i = 0; i < 100 && tag == PROTO_OK; i++) {
		cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
		while (
		    (tag = rf_send_msg(c, &q, false, "x", 1, &r)) == PROTO_OK)
			oks++;
		cr_assert_eq(tag, PROTO_ERR);
		if (r.u.err.code == PROTO_E_QUOTA)
			tag = PROTO_OK; /* this queue is full: the next */
	}
	cr_assert_eq(r.u.err.code, PROTO_E_LIMIT, "no limit after %d", oks);
	cr_assert_leq(oks, 1048576 / 129, "%d tiny messages held", oks);
	rf_close(c);
}

Test(relay_limits, bytes_buffered_for_connections)
{
	static const char *const extra[] = {
	    "--max-buffered", "1048576", "--out-limit", "8388608", NULL};
	static uint8_t body[NOID_MSG_MAX];
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx tx[100], r;
	struct proto_block b;
	uint8_t raw[NOID_TX_MAX];
	size_t len;
	int i, msgs = 0, limits = 0;

	start(extra);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	memset(body, 'g', sizeof body);
	cr_assert_eq(
	    rf_send_msg(c, &q, false, body, sizeof body, &r), PROTO_OK);
	/* One block of 100 GETs: 1.6 MB of MSG answers, all queued before
	 * anything can be written, past the 1 MiB cap. */
	proto_block_init(&b);
	for (i = 0; i < 100; i++) {
		memset(&tx[i], 0, sizeof tx[i]);
		tx[i].tag = PROTO_GET;
		tx[i].entity_len = NOID_ID_LEN;
		memcpy(tx[i].entity, q.rid, NOID_ID_LEN);
		cr_assert_eq(
		    rf_encode(c, &tx[i], &q.rkey, raw, sizeof raw, &len), 0);
		cr_assert_eq(proto_block_add(&b, raw, len), 0);
	}
	proto_block_finish(&b);
	cr_assert_eq(rf_send_plain(c, b.data), 0);
	for (i = 0; i < 100; i++) {
		cr_assert_eq(rf_recv_corr(c, tx[i].corr_id, &r, 5000), 0);
		if (r.tag == PROTO_MSG)
			msgs++;
		else if (r.tag == PROTO_ERR && r.u.err.code == PROTO_E_LIMIT)
			limits++;
	}
	cr_assert_eq(msgs + limits, 100);
	cr_assert_gt(msgs, 0);
	cr_assert_gt(limits, 0, "no ERR LIMIT past max_buffered");
	/* Read out, it is served again. */
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_MSG);
	rf_close(c);
}

/*
 * A client coming back to many queues that each hold a full-size
 * message subscribes to all of them in one block (as the agent does):
 * the pushes wait for it to read instead of overrunning the buffer
 * limit, so it gets every message and stays connected.
 */
Test(relay_limits, many_full_queues_subscribed_in_one_block, .timeout = 120)
{
	static const char *const extra[] = {"--no-fsync", NULL};
	enum { NQ = 100 };
	static struct rf_queue q[NQ];
	static uint8_t body[NOID_MSG_MAX];
	uint8_t raw[NOID_TX_MAX];
	struct rf_conn *c;
	struct proto_tx tx, r;
	struct proto_block b;
	size_t len;
	int i, msgs = 0, oks = 0;

	start(extra);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	memset(body, 'x', sizeof body);
	for (i = 0; i < NQ; i++) {
		cr_assert_eq(rf_new_queue(c, NULL, &q[i]), 0);
		cr_assert_eq(
		    rf_send_msg(c, &q[i], false, body, sizeof body, &r),
		    PROTO_OK);
	}
	rf_close(c);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	proto_block_init(&b);
	for (i = 0; i < NQ; i++) {
		memset(&tx, 0, sizeof tx);
		tx.tag = PROTO_SUB;
		tx.entity_len = NOID_ID_LEN;
		memcpy(tx.entity, q[i].rid, NOID_ID_LEN);
		tx.u.sub.window = 1;
		cr_assert_eq(
		    rf_encode(c, &tx, &q[i].rkey, raw, sizeof raw, &len), 0);
		cr_assert_eq(proto_block_add(&b, raw, len), 0);
	}
	proto_block_finish(&b);
	cr_assert_eq(rf_send_plain(c, b.data), 0);
	while (msgs < NQ && rf_recv(c, &r, 10000) == 0) {
		msgs += r.tag == PROTO_MSG;
		oks += r.tag == PROTO_OK;
	}
	cr_assert_eq(
	    msgs, NQ, "%d of %d messages before the relay stopped", msgs, NQ);
	cr_assert_eq(oks, NQ, "every SUB answered first");
	cr_assert_eq(rf_cmd(c, PROTO_PING, NULL, NULL, &r), PROTO_PONG,
	    "the connection did not stay up");
	rf_close(c);
}

/* A full queue drained by expiry (not by ACKs) still tells the sender
 * that got QUOTA: QCONT (PROTOCOL.md §4.1). */
Test(relay_limits, qcont_after_messages_expire)
{
	static const char *const extra[] = {
	    "--no-fsync", "--ttl", "2", "--quota", "2", NULL};
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	int rc;

	start(extra);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	cr_assert_eq(rf_send_msg(c, &q, false, "a", 1, &r), PROTO_OK);
	cr_assert_eq(rf_send_msg(c, &q, false, "b", 1, &r), PROTO_OK);
	cr_assert_eq(rf_send_msg(c, &q, false, "c", 1, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_QUOTA);
	/* Both expire after 2 s; the sweep runs every ttl/8. */
	do
		rc = rf_recv(c, &r, 8000);
	while (rc == 0 && r.tag != PROTO_QCONT);
	cr_assert_eq(rc, 0, "no QCONT after the messages expired");
	cr_assert(memcmp(r.entity, q.sid, NOID_ID_LEN) == 0);
	cr_assert_eq(rf_send_msg(c, &q, false, "d", 1, &r), PROTO_OK);
	rf_close(c);
}
