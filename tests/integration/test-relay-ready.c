/*
 * noid-relay: a connection dropped while the event loop walks its list
 * of connections with unread input (net/relay-server.c, pass()).
 *
 * A and B both have more than one read burst waiting, so both land on
 * the ready list, A first.  A's next block holds ACKs whose pushes go
 * to B, the subscriber, and take B past out_limit: B is dropped while
 * it is the walk's next entry.  The relay must drop B and keep serving.
 * The relay is stopped (SIGSTOP) while the frames are written so both
 * connections' input is waiting when it runs again.
 */
#include <criterion/criterion.h>
#include <linux/sockios.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

#include "relayfix.h"

#define NQ 8 /* ACKs in A's last block: 8 x 16 KB passes out_limit */
#define BURST 8 /* RS_READ_BURST: blocks read per connection per pass */

/* Seal one block holding txs[0..n) (signed by keys[i]) into frame. */
static void
block_of(struct rf_conn *c, struct proto_tx *txs, const struct rf_key **keys,
    int n, uint8_t frame[NOID_BLOCK])
{
	struct proto_block b;
	uint8_t tmp[NOID_TX_MAX];
	size_t len;
	int i;

	proto_block_init(&b);
	for (i = 0; i < n; i++) {
		cr_assert_eq(
		    rf_encode(c, &txs[i], keys[i], tmp, sizeof tmp, &len), 0);
		cr_assert_eq(proto_block_add(&b, tmp, len), 0);
	}
	proto_block_finish(&b);
	cr_assert_eq(rf_seal_block(c, b.data, frame), 0);
}

/* Seal a block with one PING. */
static void
ping_block(struct rf_conn *c, uint8_t frame[NOID_BLOCK])
{
	const struct rf_key *nokey = NULL;
	struct proto_tx ping;

	memset(&ping, 0, sizeof ping);
	ping.tag = PROTO_PING;
	block_of(c, &ping, &nokey, 1, frame);
}

/*
 * Send n PINGs at once and read the PONGs: the relay's socket receive
 * buffer grows with the traffic (TCP autotuning) until it can hold
 * more than a read burst while the relay is stopped.
 */
static void
warm_up(struct rf_conn *c, int n)
{
	static uint8_t frame[NOID_BLOCK];
	struct proto_tx rep;
	int i;

	for (i = 0; i < n; i++) {
		ping_block(c, frame);
		cr_assert_eq(rf_write_raw(c, frame, sizeof frame), 0);
	}
	for (i = 0; i < n; i++) {
		cr_assert_eq(rf_recv(c, &rep, 5000), 0);
		cr_assert_eq(rep.tag, PROTO_PONG);
	}
}

/* Wait until process pid is stopped: kill() only asks for it. */
static void
wait_stopped(pid_t pid)
{
	char path[64], text[512], *p;
	FILE *f;
	size_t n;
	int i;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (i = 0; i < 5000; i++) {
		cr_assert_not_null(f = fopen(path, "r"));
		n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
		text[n] = '\0';
		if ((p = strrchr(text, ')')) != NULL && p[1] == ' ' &&
		    p[2] == 'T')
			return;
		usleep(1000);
	}
	cr_assert_fail("relay %d did not stop", (int)pid);
}

/* Wait until the kernel has delivered all of fd's output to the peer
 * (the relay is stopped: its socket buffer holds it). */
static void
wait_delivered(int fd)
{
	int i, n = -1;

	for (i = 0; i < 5000; i++) {
		cr_assert_eq(ioctl(fd, SIOCOUTQ, &n), 0);
		if (n == 0)
			return;
		usleep(1000);
	}
	cr_assert_fail("%d bytes never reached the stopped relay", n);
}

static struct rf_relay r;

static void
teardown(void)
{
	cr_assert_eq(rf_relay_cleanup(&r), 0, "relay crashed or leaked");
}

TestSuite(relay_ready, .fini = teardown, .timeout = 120);

Test(relay_ready, drop_of_the_next_ready_connection)
{
	static const char *const extra[] = {"--out-limit", "65536", NULL};
	static struct rf_queue q[NQ];
	static uint8_t body[NOID_MSG_MAX], ids[NQ][NOID_ID_LEN];
	static uint8_t fa[BURST + 1][NOID_BLOCK], fb[BURST][NOID_BLOCK];
	struct proto_tx txs[NQ], rep;
	const struct rf_key *keys[NQ];
	struct rf_conn *a, *b, *c;
	int i;

	memset(&r, 0, sizeof r);
	cr_assert_eq(rf_relay_start(&r, extra), 0);
	cr_assert_eq(rf_connect(&r, &a), 0);
	cr_assert_eq(rf_connect(&r, &b), 0);
	for (i = 0; i < 4; i++) {
		warm_up(a, 32);
		warm_up(b, 32);
	}
	memset(body, 'x', sizeof body);
	for (i = 0; i < NQ; i++) {
		cr_assert_eq(rf_new_queue(a, NULL, &q[i]), 0);
		cr_assert_eq(
		    rf_send_msg(a, &q[i], false, body, sizeof body, &rep),
		    PROTO_OK);
		cr_assert_eq(
		    rf_send_msg(a, &q[i], false, body, sizeof body, &rep),
		    PROTO_OK);
		cr_assert_eq(rf_cmd(a, PROTO_GET, q[i].rid, &q[i].rkey, &rep),
		    PROTO_MSG);
		memcpy(ids[i], rep.u.msg.msg_id, NOID_ID_LEN);
		cr_assert_eq(
		    rf_cmd(b, PROTO_SUB, q[i].rid, &q[i].rkey, &rep), PROTO_OK);
	}
	for (i = 0; i < BURST; i++) {
		ping_block(a, fa[i]);
		ping_block(b, fb[i]);
	}
	for (i = 0; i < NQ; i++) {
		memset(&txs[i], 0, sizeof txs[i]);
		txs[i].tag = PROTO_ACK;
		txs[i].entity_len = NOID_ID_LEN;
		memcpy(txs[i].entity, q[i].rid, NOID_ID_LEN);
		memcpy(txs[i].u.ack.msg_id, ids[i], NOID_ID_LEN);
		keys[i] = &q[i].rkey;
	}
	block_of(a, txs, keys, NQ, fa[BURST]);

	/* A's input becomes readable first, so it is read first. */
	cr_assert_eq(kill(r.pid, SIGSTOP), 0);
	wait_stopped(r.pid);
	cr_assert_eq(rf_write_raw(a, fa, sizeof fa), 0);
	wait_delivered(a->tcp);
	cr_assert_eq(rf_write_raw(b, fb, sizeof fb), 0);
	wait_delivered(b->tcp);
	cr_assert_eq(kill(r.pid, SIGCONT), 0);

	/* A gets its OKs, B is dropped as a slow reader, others are
	 * served. */
	cr_assert_eq(rf_recv_corr(a, txs[NQ - 1].corr_id, &rep, 10000), 0,
	    "no answer to A's last ACK");
	cr_assert_eq(rep.tag, PROTO_OK);
	cr_assert(rf_wait_closed(b, 10000), "B was not dropped");
	cr_assert_eq(rf_connect(&r, &c), 0, "relay no longer accepts");
	cr_assert_eq(rf_cmd(c, PROTO_PING, NULL, NULL, &rep), PROTO_PONG);
	rf_close(a);
	rf_close(b);
	rf_close(c);
}
