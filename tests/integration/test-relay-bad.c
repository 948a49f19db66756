/*
 * noid-relay against bad input.  Each test sends one kind of bad input,
 * checks the clear error it gets, and then checks the relay still
 * serves another client (create, send, get).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "relayfix.h"

static struct rf_relay relay;

static void
start(const char *const *extra)
{
	memset(&relay, 0, sizeof relay);
	cr_assert_eq(rf_relay_start(&relay, extra), 0, "relay did not start");
}

static void
setup(void)
{
	static const char *const extra[] = {"--handshake-timeout", "1",
	    "--quota", "4", "--password", "sesame", NULL};

	start(extra);
}

static void
teardown(void)
{
	cr_assert_eq(rf_relay_cleanup(&relay), 0, "relay did not stop cleanly");
}

TestSuite(relay_bad, .init = setup, .fini = teardown, .timeout = 120);

/* Another client can still create a queue, send and get. */
static void
check_alive(void)
{
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	uint8_t body[16];

	cr_assert_eq(rf_connect(&relay, &c), 0, "relay no longer accepts");
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	cr_assert_eq(rf_send_msg(c, &q, false, "alive", 5, &r), PROTO_OK);
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_MSG);
	cr_assert_eq(rf_open_msg(&q, &r, body, sizeof body), 5);
	rf_close(c);
}

/* Expect the next transmission to be ERR code (corr_id when nonzero). */
static void
expect_err(struct rf_conn *c, uint8_t code, uint64_t corr)
{
	struct proto_tx r;

	cr_assert_eq(rf_recv(c, &r, 5000), 0, "no answer");
	cr_assert_eq(r.tag, PROTO_ERR, "tag %#x", r.tag);
	cr_assert_eq(
	    r.u.err.code, code, "ERR %u, wanted %u", r.u.err.code, code);
	if (corr != 0)
		cr_assert_eq(r.corr_id, corr);
}

/* Put raw transmission bytes into a block and send it. */
static void
send_raw_tx(struct rf_conn *c, const uint8_t *tx, size_t len)
{
	struct proto_block b;

	proto_block_init(&b);
	cr_assert_eq(proto_block_add(&b, tx, len), 0);
	proto_block_finish(&b);
	cr_assert_eq(rf_send_plain(c, b.data), 0);
}

Test(relay_bad, truncated_handshake_at_every_offset)
{
	uint8_t msg1[TRANSPORT_HS_MSG];
	size_t off;
	int fd;

	cr_assert_eq(rf_msg1(relay.pub, msg1), 0);
	for (off = 0; off < sizeof msg1; off++) {
		cr_assert_geq(fd = rf_tcp_connect(relay.port), 0);
		cr_assert_eq(write(fd, msg1, off), (ssize_t)off);
		close(fd);
	}
	check_alive();
}

Test(relay_bad, truncated_block_at_every_offset)
{
	struct proto_block b;
	uint8_t frame[NOID_BLOCK];
	struct rf_conn *c;
	size_t off;

	proto_block_init(&b);
	proto_block_finish(&b);
	/* Every offset would be 16384 handshakes; every 7th byte plus both
	 * ends covers each position within the length fields and tags. */
	for (off = 0; off < NOID_BLOCK;
	     off += off < 64 || off > NOID_BLOCK - 64 ? 1 : 7) {
		cr_assert_eq(rf_connect(&relay, &c), 0, "offset %zu", off);
		cr_assert_eq(rf_seal_block(c, b.data, frame), 0);
		cr_assert_eq(rf_write_raw(c, frame, off), 0);
		rf_close(c);
	}
	check_alive();
}

Test(relay_bad, wrong_block_size)
{
	struct proto_tx tx, r;
	uint8_t frame[NOID_BLOCK], junk[100];
	struct rf_conn *c;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_cmd(c, PROTO_PING, NULL, NULL, &r), PROTO_PONG);
	/* 100 stray bytes shift the framing: the next frame cannot
	 * decrypt. */
	memset(junk, 0xa5, sizeof junk);
	cr_assert_eq(rf_write_raw(c, junk, sizeof junk), 0);
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_PING;
	{
		struct proto_block b;
		size_t len;

		proto_block_init(&b);
		cr_assert_eq(
		    rf_encode(c, &tx, NULL, b.data + 2, NOID_TX_MAX, &len), 0);
		be16_put(b.data, (uint16_t)len);
		b.used = 2 + len;
		proto_block_finish(&b);
		cr_assert_eq(rf_seal_block(c, b.data, frame), 0);
	}
	cr_assert_eq(rf_write_raw(c, frame, sizeof frame), 0);
	expect_err(c, PROTO_E_SESSION, 0);
	cr_assert(rf_wait_closed(c, 5000), "relay kept the connection");
	rf_close(c);
	check_alive();
}

Test(relay_bad, length_past_the_block_end)
{
	struct proto_block b;
	struct rf_conn *c;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	memset(&b, 0, sizeof b);
	be16_put(b.data, NOID_BLOCK_PLAIN); /* 2 + this > the block */
	cr_assert_eq(rf_send_plain(c, b.data), 0);
	expect_err(c, PROTO_E_SESSION, 0);
	cr_assert(rf_wait_closed(c, 5000));
	rf_close(c);
	check_alive();
}

/* A good SEND, then a bad length in the same block: the SEND's OK
 * (held for the journal) and then ERR SESSION both arrive. */
Test(relay_bad, ok_earned_before_a_bad_block_still_arrives)
{
	struct proto_block b;
	struct proto_tx tx, r;
	struct rf_conn *c;
	struct rf_queue q;
	size_t len;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	proto_block_init(&b);
	rf_send_init(&tx, &q, "hello", 5);
	cr_assert_eq(rf_encode(c, &tx, NULL, b.data + 2, NOID_TX_MAX, &len), 0);
	be16_put(b.data, (uint16_t)len);
	b.used = 2 + len;
	proto_block_finish(&b);
	be16_put(b.data + b.used, NOID_BLOCK_PLAIN); /* past the end */
	cr_assert_eq(rf_send_plain(c, b.data), 0);
	cr_assert_eq(rf_recv(c, &r, 5000), 0, "no answer");
	cr_assert_eq(r.tag, PROTO_OK, "tag %#x, wanted the SEND's OK", r.tag);
	cr_assert_eq(r.corr_id, tx.corr_id);
	expect_err(c, PROTO_E_SESSION, 0);
	cr_assert(rf_wait_closed(c, 5000));
	rf_close(c);
	check_alive();
}

/*
 * SENDs signed with ever new keys (no credentials needed) each cost the
 * relay a DH: past a burst of 512 a connection is read at 256 such
 * commands a second, so 1,024 take at least 2 s (here: over 1.5 s) while
 * everyone else is served at once.  Every one still gets its answer.
 */
Test(relay_bad, key_derivations_are_rate_limited_per_connection)
{
	enum { N = 1024 };
	uint8_t raw[NOID_TX_MAX];
	struct proto_block b;
	struct proto_tx tx, r;
	struct rf_conn *c;
	struct rf_queue q;
	struct rf_key k;
	uint64_t t0, took;
	size_t len;
	int i = 0, errs = 0;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	memset(&q, 0, sizeof q);
	while (i < N) {
		proto_block_init(&b);
		for (; i < N; i++) {
			randombytes_buf(q.sid, sizeof q.sid);
			rf_keygen(&k);
			rf_send_init(&tx, &q, "x", 1);
			cr_assert_eq(
			    rf_encode(c, &tx, &k, raw, sizeof raw, &len), 0);
			if (proto_block_add(&b, raw, len) != 0)
				break;
		}
		proto_block_finish(&b);
		cr_assert_eq(rf_send_plain(c, b.data), 0);
	}
	t0 = clock_mono_ms();
	while (errs < N && rf_recv(c, &r, 10000) == 0)
		errs += r.tag == PROTO_ERR && r.u.err.code == PROTO_E_AUTH;
	took = clock_mono_ms() - t0;
	cr_assert_eq(errs, N, "%d of %d answered", errs, N);
	cr_assert_geq(took, 1500, "1,024 DHs took only %llu ms",
	    (unsigned long long)took);
	rf_close(c);
	check_alive();
}

Test(relay_bad, inconsistent_length_fields)
{
	struct proto_tx tx;
	uint8_t raw[NOID_TX_MAX];
	struct rf_conn *c;
	struct rf_queue q;
	size_t len;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	/* SEND whose body length claims more than the transmission has. */
	rf_send_init(&tx, &q, "abc", 3);
	cr_assert_eq(rf_encode(c, &tx, NULL, raw, sizeof raw, &len), 0);
	be16_put(raw + len - 5, 400);
	send_raw_tx(c, raw, len);
	expect_err(c, PROTO_E_CMD, tx.corr_id);
	/* Entity length neither 0 nor 24. */
	tx.corr_id = 0;
	cr_assert_eq(rf_encode(c, &tx, NULL, raw, sizeof raw, &len), 0);
	raw[1 + 8] = 23;
	send_raw_tx(c, raw, len);
	expect_err(c, PROTO_E_CMD, tx.corr_id);
	/* An oversize body is well formed but too large. */
	{
		static uint8_t big[NOID_MSG_MAX + 1];
		size_t off = 0;

		raw[off++] = PROTO_AUTH_NONE;
		be64_put(raw + off, 777);
		off += 8;
		raw[off++] = NOID_ID_LEN;
		memcpy(raw + off, q.sid, NOID_ID_LEN);
		off += NOID_ID_LEN;
		raw[off++] = PROTO_SEND;
		raw[off++] = 0;
		be16_put(raw + off, sizeof big);
		off += 2;
		memcpy(raw + off, big, sizeof big);
		off += sizeof big;
		send_raw_tx(c, raw, off);
		expect_err(c, PROTO_E_LARGE, 777);
	}
	rf_close(c);
	check_alive();
}

Test(relay_bad, unknown_and_reserved_commands)
{
	static const uint8_t tags[] = {0x00, 0x0a, 0x20, 0x2f, 0x30, 0x3f, 0x7f,
	    PROTO_OK, PROTO_MSG, 0xff};
	struct proto_tx r;
	struct rf_conn *c;
	uint8_t raw[16];
	size_t i;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	for (i = 0; i < sizeof tags; i++) {
		raw[0] = PROTO_AUTH_NONE;
		be64_put(raw + 1, 1000 + i);
		raw[9] = 0;
		raw[10] = tags[i];
		send_raw_tx(c, raw, 11);
		expect_err(c, PROTO_E_CMD, 1000 + i);
	}
	cr_assert_eq(rf_cmd(c, PROTO_PING, NULL, NULL, &r), PROTO_PONG);
	rf_close(c);
	check_alive();
}

Test(relay_bad, missing_and_extra_fields)
{
	struct proto_tx tx;
	uint8_t raw[NOID_TX_MAX];
	struct rf_conn *c;
	struct rf_queue q;
	size_t len;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	/* PING with a trailing byte. */
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_PING;
	cr_assert_eq(rf_encode(c, &tx, NULL, raw, sizeof raw, &len), 0);
	raw[len++] = 0;
	send_raw_tx(c, raw, len);
	expect_err(c, PROTO_E_CMD, tx.corr_id);
	/* ACK without its message id. */
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_ACK;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q.rid, NOID_ID_LEN);
	cr_assert_eq(rf_encode(c, &tx, &q.rkey, raw, sizeof raw, &len), 0);
	send_raw_tx(c, raw, len - NOID_ID_LEN);
	expect_err(c, PROTO_E_CMD, tx.corr_id);
	/* SUB with a window of 0 and one past the maximum. */
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_SUB;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q.rid, NOID_ID_LEN);
	cr_assert_eq(rf_encode(c, &tx, &q.rkey, raw, sizeof raw, &len), 0);
	raw[len - 1] = 0;
	send_raw_tx(c, raw, len);
	expect_err(c, PROTO_E_CMD, tx.corr_id);
	raw[len - 1] = NOID_WINDOW_MAX + 1;
	send_raw_tx(c, raw, len);
	expect_err(c, PROTO_E_CMD, tx.corr_id);
	/* SUB without its window. */
	send_raw_tx(c, raw, len - 1);
	expect_err(c, PROTO_E_CMD, tx.corr_id);
	/* SUB without its entity. */
	raw[0] = PROTO_AUTH_NONE;
	be64_put(raw + 1, 4242);
	raw[9] = 0;
	raw[10] = PROTO_SUB;
	send_raw_tx(c, raw, 11);
	expect_err(c, PROTO_E_CMD, 4242);
	rf_close(c);
	check_alive();
}

Test(relay_bad, low_order_or_non_canonical_keys_in_new_and_key)
{
	struct proto_tx tx, r;
	struct rf_conn *c;
	struct rf_queue q;
	struct rf_key k;
	size_t i;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	rf_keygen(&k);
	for (i = 0; i < RF_BAD_KEYS; i++) {
		/* As the recipient's DH key the relay would box to all
		 * zeros; as the sender key it would block SEND for good. */
		memset(&tx, 0, sizeof tx);
		tx.tag = PROTO_NEW;
		memcpy(tx.u.create.dh_pub, rf_bad_keys[i], 32);
		tx.u.create.access_key = (const uint8_t *)"sesame";
		tx.u.create.access_key_len = 6;
		cr_assert_eq(rf_send(c, &tx, &k), 0);
		cr_assert_eq(rf_recv_corr(c, tx.corr_id, &r, 5000), 0);
		cr_assert_eq(r.tag, PROTO_ERR, "NEW with bad key %zu: %s", i,
		    proto_tag_name(r.tag));
		cr_assert_eq(r.u.err.code, PROTO_E_CMD);

		memset(&tx, 0, sizeof tx);
		tx.tag = PROTO_KEY;
		tx.entity_len = NOID_ID_LEN;
		memcpy(tx.entity, q.rid, NOID_ID_LEN);
		memcpy(tx.u.key.sender_pub, rf_bad_keys[i], 32);
		cr_assert_eq(rf_send(c, &tx, &q.rkey), 0);
		cr_assert_eq(rf_recv_corr(c, tx.corr_id, &r, 5000), 0);
		cr_assert_eq(r.tag, PROTO_ERR, "KEY with bad key %zu: %s", i,
		    proto_tag_name(r.tag));
		cr_assert_eq(r.u.err.code, PROTO_E_CMD);
	}
	/* None of it secured the queue: a good key still can. */
	cr_assert_eq(rf_secure(c, &q), 0);
	cr_assert_eq(rf_send_msg(c, &q, true, "hi", 2, &r), PROTO_OK);
	rf_close(c);
	check_alive();
}

Test(relay_bad, corr_id_zero_is_reserved_for_pushes)
{
	struct proto_tx tx, r;
	uint8_t raw[NOID_TX_MAX];
	struct rf_conn *c;
	size_t len;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_PING;
	cr_assert_eq(proto_tx_encode(&tx, NULL, raw, sizeof raw, &len), 0);
	send_raw_tx(c, raw, len);
	cr_assert_eq(rf_recv(c, &r, 5000), 0, "no answer");
	cr_assert_eq(r.tag, PROTO_ERR, "got %s", proto_tag_name(r.tag));
	cr_assert_eq(r.u.err.code, PROTO_E_CMD);
	cr_assert_eq(r.corr_id, 0);
	cr_assert_eq(r.entity_len, 0);
	/* The connection stays usable. */
	cr_assert_eq(rf_cmd(c, PROTO_PING, NULL, NULL, &r), PROTO_PONG);
	rf_close(c);
	check_alive();
}

Test(relay_bad, recipient_command_with_sender_id)
{
	struct proto_tx r1, r2;
	struct rf_conn *c;
	struct rf_queue q;
	uint8_t missing[NOID_ID_LEN];

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.sid, &q.rkey, &r1), PROTO_ERR);
	cr_assert_eq(r1.u.err.code, PROTO_E_AUTH);
	/* The same answer as for a queue that does not exist. */
	randombytes_buf(missing, sizeof missing);
	cr_assert_eq(rf_cmd(c, PROTO_SUB, missing, &q.rkey, &r2), PROTO_ERR);
	cr_assert_eq(r2.u.err.code, r1.u.err.code);
	/* The sender id as recipient did not subscribe anything. */
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r1), PROTO_ERR);
	cr_assert_eq(r1.u.err.code, PROTO_E_NO_MSG);
	rf_close(c);
	check_alive();
}

Test(relay_bad, wrong_or_missing_authenticator)
{
	struct proto_tx tx, r;
	struct rf_conn *c;
	struct rf_queue q;
	struct rf_key other;
	uint8_t raw[NOID_TX_MAX];
	size_t len;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	/* Missing. */
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.rid, NULL, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_AUTH);
	/* Another key. */
	rf_keygen(&other);
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.rid, &other, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_AUTH);
	/* The right key, a flipped MAC bit. */
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_SUB;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q.rid, NOID_ID_LEN);
	cr_assert_eq(rf_encode(c, &tx, &q.rkey, raw, sizeof raw, &len), 0);
	raw[1 + 32 + 5] ^= 1;
	send_raw_tx(c, raw, len);
	expect_err(c, PROTO_E_AUTH, tx.corr_id);
	/* And the right one works. */
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	rf_close(c);
	check_alive();
}

Test(relay_bad, command_replayed_from_another_session)
{
	struct proto_tx tx, r;
	struct rf_conn *a, *b;
	struct rf_queue q;
	uint8_t raw[NOID_TX_MAX];
	size_t len;

	cr_assert_eq(rf_connect(&relay, &a), 0);
	cr_assert_eq(rf_connect(&relay, &b), 0);
	cr_assert_eq(rf_new_queue(a, "sesame", &q), 0);
	cr_assert_eq(rf_send_msg(a, &q, false, "m", 1, &r), PROTO_OK);
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_GET;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q.rid, NOID_ID_LEN);
	cr_assert_eq(rf_encode(a, &tx, &q.rkey, raw, sizeof raw, &len), 0);
	/* Valid in session a... */
	send_raw_tx(a, raw, len);
	cr_assert_eq(rf_recv_corr(a, tx.corr_id, &r, 5000), 0);
	cr_assert_eq(r.tag, PROTO_MSG);
	/* ...refused in session b. */
	send_raw_tx(b, raw, len);
	expect_err(b, PROTO_E_AUTH, tx.corr_id);
	rf_close(a);
	rf_close(b);
	check_alive();
}

Test(relay_bad, wrong_relay_key_aborts_the_handshake)
{
	struct rf_conn *c = NULL;
	uint8_t wrong[32];

	memcpy(wrong, relay.pub, 32);
	wrong[3] ^= 0x40;
	cr_assert_eq(rf_connect_key(relay.port, wrong, &c), NOID_ERR_KEY);
	cr_assert_null(c);
	check_alive();
}

Test(relay_bad, handshake_never_finished_times_out)
{
	struct rf_conn probe;
	int fd;

	cr_assert_geq(fd = rf_tcp_connect(relay.port), 0);
	/* Relay started with --handshake-timeout 1. */
	memset(&probe, 0, sizeof probe);
	probe.tcp = fd;
	cr_assert(rf_wait_closed(&probe, 10000), "relay never closed it");
	close(fd);
	check_alive();
}

Test(relay_bad, slow_connections_trickling_bytes)
{
	enum { N = 1000 };
	static int fds[N];
	uint8_t msg1[TRANSPORT_HS_MSG];
	struct rlimit rl;
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	uint8_t id[NOID_ID_LEN];
	int i, round;

	/* Enough descriptors for us and the relay (it inherits them). */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	rf_relay_cleanup(&relay);
	start(NULL);
	cr_assert_eq(rf_msg1(relay.pub, msg1), 0);
	for (i = 0; i < N; i++)
		cr_assert_geq(
		    fds[i] = rf_tcp_connect(relay.port), 0, "connection %d", i);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < N; i++)
			(void)!write(fds[i], msg1 + round, 1);
		cr_assert_eq(rf_send_msg(c, &q, false, "tick", 4, &r), PROTO_OK,
		    "round %d", round);
		do
			cr_assert_eq(rf_recv(c, &r, 5000), 0);
		while (r.tag != PROTO_MSG);
		memcpy(id, r.u.msg.msg_id, NOID_ID_LEN);
		cr_assert_eq(rf_ack(c, &q, id, &r), PROTO_OK);
	}
	for (i = 0; i < N; i++)
		close(fds[i]);
	rf_close(c);
	check_alive();
}

Test(relay_bad, full_queue_quota_then_resume)
{
	struct rf_conn *rc_, *sc;
	struct rf_queue q;
	struct proto_tx r;
	int i;

	cr_assert_eq(rf_connect(&relay, &rc_), 0);
	cr_assert_eq(rf_connect(&relay, &sc), 0);
	cr_assert_eq(rf_new_queue(rc_, "sesame", &q), 0);
	for (i = 0; i < 4; i++)
		cr_assert_eq(rf_send_msg(sc, &q, false, "f", 1, &r), PROTO_OK);
	cr_assert_eq(rf_send_msg(sc, &q, false, "f", 1, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_QUOTA);
	/* Drain below half (quota 4 -> resume under 2). */
	cr_assert_eq(rf_cmd(rc_, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	for (i = 0; i < 3; i++) {
		uint8_t id[NOID_ID_LEN];

		do
			cr_assert_eq(rf_recv(rc_, &r, 5000), 0);
		while (r.tag != PROTO_MSG);
		memcpy(id, r.u.msg.msg_id, NOID_ID_LEN);
		cr_assert_eq(rf_ack(rc_, &q, id, &r), PROTO_OK);
	}
	cr_assert_eq(rf_recv(sc, &r, 5000), 0, "no QCONT");
	cr_assert_eq(r.tag, PROTO_QCONT);
	cr_assert_eq(memcmp(r.entity, q.sid, NOID_ID_LEN), 0);
	cr_assert_eq(rf_send_msg(sc, &q, false, "g", 1, &r), PROTO_OK);
	rf_close(rc_);
	rf_close(sc);
	check_alive();
}

/*
 * The ERR QUOTA waits behind the OKs to the SENDs before it (they wait
 * for the journal); the QCONT that the recipient's ACKs cause meanwhile
 * must not overtake it, or the sender would wait for a QCONT forever.
 */
Test(relay_bad, qcont_never_overtakes_its_quota_error)
{
	struct rf_conn *rc_, *sc;
	struct rf_queue q;
	struct proto_tx tx, r;
	bool quota = false, qcont = false;
	int i, nok = 0;

	cr_assert_eq(rf_connect(&relay, &rc_), 0);
	cr_assert_eq(rf_connect(&relay, &sc), 0);
	cr_assert_eq(rf_new_queue(rc_, "sesame", &q), 0);
	cr_assert_eq(rf_cmd(rc_, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	for (i = 0; i < 5; i++) {
		rf_send_init(&tx, &q, "f", 1);
		cr_assert_eq(rf_send(sc, &tx, NULL), 0);
	}
	/* Drain below half at once: ACK each MSG without waiting. */
	for (i = 0; i < 3; i++) {
		do
			cr_assert_eq(rf_recv(rc_, &r, 5000), 0);
		while (r.tag != PROTO_MSG);
		memset(&tx, 0, sizeof tx);
		tx.tag = PROTO_ACK;
		tx.entity_len = NOID_ID_LEN;
		memcpy(tx.entity, q.rid, NOID_ID_LEN);
		memcpy(tx.u.ack.msg_id, r.u.msg.msg_id, NOID_ID_LEN);
		cr_assert_eq(rf_send(rc_, &tx, &q.rkey), 0);
	}
	while (!qcont) {
		cr_assert_eq(rf_recv(sc, &r, 5000), 0, "no QCONT");
		if (r.tag == PROTO_OK)
			nok++;
		else if (r.tag == PROTO_ERR) {
			cr_assert_eq(r.u.err.code, PROTO_E_QUOTA);
			quota = true;
		} else {
			cr_assert_eq(r.tag, PROTO_QCONT);
			cr_assert(quota, "QCONT came before its ERR QUOTA");
			qcont = true;
		}
	}
	cr_assert_eq(nok, 4);
	rf_close(rc_);
	rf_close(sc);
	check_alive();
}

Test(relay_bad, ack_for_the_wrong_message_id)
{
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	uint8_t wrong[NOID_ID_LEN], id[NOID_ID_LEN];

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	cr_assert_eq(rf_send_msg(c, &q, false, "keep", 4, &r), PROTO_OK);
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_MSG);
	memcpy(id, r.u.msg.msg_id, NOID_ID_LEN);
	randombytes_buf(wrong, sizeof wrong);
	cr_assert_eq(rf_ack(c, &q, wrong, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_NO_MSG);
	/* Nothing was deleted. */
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_MSG);
	cr_assert_eq(memcmp(r.u.msg.msg_id, id, NOID_ID_LEN), 0);
	rf_close(c);
	check_alive();
}

Test(relay_bad, wrong_or_missing_access_key)
{
	struct rf_conn *c;
	struct rf_queue q;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), -1000 - PROTO_E_BLOCKED);
	cr_assert_eq(rf_new_queue(c, "sesamE", &q), -1000 - PROTO_E_BLOCKED);
	cr_assert_eq(rf_new_queue(c, "sesame!", &q), -1000 - PROTO_E_BLOCKED);
	cr_assert_eq(rf_new_queue(c, "sesame", &q), 0);
	rf_close(c);
	check_alive();
}

Test(relay_bad, connection_limit_says_server_full)
{
	static const char *const extra[] = {"--max-conns", "2", NULL};
	struct rf_conn *a, *b, *c = NULL;

	rf_relay_cleanup(&relay);
	start(extra);
	cr_assert_eq(rf_connect(&relay, &a), 0);
	cr_assert_eq(rf_connect(&relay, &b), 0);
	cr_assert_eq(rf_connect(&relay, &c), NOID_ERR_LIMIT);
	rf_close(b);
	/* A slot is free again once b is gone. */
	{
		struct proto_tx r;

		cr_assert_eq(rf_cmd(a, PROTO_PING, NULL, NULL, &r), PROTO_PONG);
	}
	rf_close(a);
	{
		struct rf_conn *d = NULL;
		int i, rc = -1;

		for (i = 0; i < 50 && rc != 0; i++) {
			rc = rf_connect(&relay, &d);
			if (rc != 0)
				usleep(20000);
		}
		cr_assert_eq(rc, 0);
		rf_close(d);
	}
}
