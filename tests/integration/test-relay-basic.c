/*
 * noid-relay end to end with real processes on 127.0.0.1: queues,
 * sending, subscribing, acking, restarts with pending messages.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relayfix.h"

static struct rf_relay relay;

static void
setup(void)
{
	memset(&relay, 0, sizeof relay);
	cr_assert_eq(rf_relay_start(&relay, NULL), 0, "relay did not start");
}

static void
teardown(void)
{
	cr_assert_eq(rf_relay_cleanup(&relay), 0, "relay did not stop cleanly");
}

TestSuite(relay_basic, .init = setup, .fini = teardown, .timeout = 60);

/* Receive the next MSG for q, check and return its id and body. */
static void
expect_msg(
    struct rf_conn *c, const struct rf_queue *q, const char *want, uint8_t *id)
{
	struct proto_tx tx;
	uint8_t body[NOID_MSG_MAX];
	int n;

	do
		cr_assert_eq(rf_recv(c, &tx, 5000), 0, "no MSG arrived");
	while (tx.tag != PROTO_MSG);
	cr_assert_eq(memcmp(tx.entity, q->rid, NOID_ID_LEN), 0);
	n = rf_open_msg(q, &tx, body, sizeof body);
	cr_assert_eq(n, (int)strlen(want), "body length %d", n);
	cr_assert_eq(memcmp(body, want, (size_t)n), 0);
	memcpy(id, tx.u.msg.msg_id, NOID_ID_LEN);
}

/* Stop the relay with sig, start it again: q has nothing pending. */
static void
expect_empty_after_restart(const struct rf_queue *q, int sig)
{
	struct rf_conn *c;
	struct proto_tx r;

	rf_relay_stop(&relay, sig);
	cr_assert_eq(rf_relay_start(&relay, NULL), 0);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_cmd(c, PROTO_GET, q->rid, &q->rkey, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_NO_MSG);
	rf_close(c);
}

Test(relay_basic, address_is_stable_across_restarts)
{
	uint8_t pub[32];

	memcpy(pub, relay.pub, 32);
	cr_assert_eq(WIFSIGNALED(rf_relay_stop(&relay, SIGTERM)), 0);
	cr_assert_eq(rf_relay_start(&relay, NULL), 0);
	cr_assert_eq(memcmp(pub, relay.pub, 32), 0, "relay key changed");
}

Test(relay_basic, create_secure_send_subscribe_ack)
{
	struct rf_conn *rc_, *sc;
	struct rf_queue q;
	struct proto_tx r;
	uint8_t id[NOID_ID_LEN], id2[NOID_ID_LEN];

	cr_assert_eq(rf_connect(&relay, &rc_), 0);
	cr_assert_eq(rf_connect(&relay, &sc), 0);
	cr_assert_eq(rf_new_queue(rc_, NULL, &q), 0);
	cr_assert_neq(memcmp(q.rid, q.sid, NOID_ID_LEN), 0);
	/* Unsecured: an unsigned SEND is accepted. */
	cr_assert_eq(rf_send_msg(sc, &q, false, "hello", 5, &r), PROTO_OK);
	cr_assert_eq(rf_secure(rc_, &q), 0);
	/* Secured: unsigned is refused, signed accepted. */
	cr_assert_eq(rf_send_msg(sc, &q, false, "nope", 4, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_AUTH);
	cr_assert_eq(rf_send_msg(sc, &q, true, "second", 6, &r), PROTO_OK);

	cr_assert_eq(rf_cmd(rc_, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	expect_msg(rc_, &q, "hello", id);
	/* One at a time: the second comes after the ack. */
	cr_assert_eq(rf_ack(rc_, &q, id, &r), PROTO_OK);
	expect_msg(rc_, &q, "second", id2);
	/* The old id again deletes nothing. */
	cr_assert_eq(rf_ack(rc_, &q, id, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_NO_MSG);
	cr_assert_eq(rf_ack(rc_, &q, id2, &r), PROTO_OK);
	cr_assert_eq(rf_cmd(rc_, PROTO_GET, q.rid, &q.rkey, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_NO_MSG);
	rf_close(rc_);
	rf_close(sc);
}

Test(relay_basic, ping_get_off_del)
{
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	uint8_t body[64];

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_cmd(c, PROTO_PING, NULL, NULL, &r), PROTO_PONG);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	cr_assert_eq(rf_send_msg(c, &q, false, "x1", 2, &r), PROTO_OK);
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_MSG);
	cr_assert_eq(rf_open_msg(&q, &r, body, sizeof body), 2);
	cr_assert_eq(rf_cmd(c, PROTO_OFF, q.rid, &q.rkey, &r), PROTO_OK);
	/* Suspended: senders refused, pending still readable. */
	cr_assert_eq(rf_send_msg(c, &q, false, "x2", 2, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_AUTH);
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_MSG);
	cr_assert_eq(rf_cmd(c, PROTO_DEL, q.rid, &q.rkey, &r), PROTO_OK);
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_AUTH);
	rf_close(c);
}

Test(relay_basic, second_subscriber_ends_the_first)
{
	struct rf_conn *a, *b;
	struct rf_queue q;
	struct proto_tx r;

	cr_assert_eq(rf_connect(&relay, &a), 0);
	cr_assert_eq(rf_connect(&relay, &b), 0);
	cr_assert_eq(rf_new_queue(a, NULL, &q), 0);
	cr_assert_eq(rf_cmd(a, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	cr_assert_eq(rf_cmd(b, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	cr_assert_eq(rf_recv(a, &r, 5000), 0);
	cr_assert_eq(r.tag, PROTO_END);
	cr_assert_eq(memcmp(r.entity, q.rid, NOID_ID_LEN), 0);
	cr_assert_eq(r.corr_id, 0);
	rf_close(a);
	rf_close(b);
}

/* Send n messages, restart with sig, check each arrives exactly once. */
static void
restart_with_pending(int sig)
{
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	char body[32];
	uint8_t id[NOID_ID_LEN];
	int i, n = 20;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	cr_assert_eq(rf_secure(c, &q), 0);
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof body, "message %d", i);
		cr_assert_eq(
		    rf_send_msg(c, &q, true, body, strlen(body), &r), PROTO_OK);
	}
	rf_close(c);
	rf_relay_stop(&relay, sig);
	cr_assert_eq(rf_relay_start(&relay, NULL), 0);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof body, "message %d", i);
		expect_msg(c, &q, body, id);
		cr_assert_eq(rf_ack(c, &q, id, &r), PROTO_OK);
	}
	/* Nothing more: exactly once. */
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_NO_MSG);
	rf_close(c);

	/* Acks are durable too: after another restart nothing returns. */
	expect_empty_after_restart(&q, sig);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	/* The sender key survived too. */
	cr_assert_eq(rf_send_msg(c, &q, false, "u", 1, &r), PROTO_ERR);
	cr_assert_eq(rf_send_msg(c, &q, true, "s", 1, &r), PROTO_OK);
	rf_close(c);
}

Test(relay_basic, restart_sigkill_delivers_pending_exactly_once)
{
	restart_with_pending(SIGKILL);
}

Test(relay_basic, restart_sigterm_delivers_pending_exactly_once)
{
	restart_with_pending(SIGTERM);
}

/* Note an OK for the send with corr id first + k; 1 when new. */
static int
record_ok(const struct proto_tx *r, uint64_t first, bool *okd, int n)
{
	int k = (int)(r->corr_id - first);

	if (r->tag != PROTO_OK || k < 0 || k >= n || okd[k])
		return 0;
	okd[k] = true;
	return 1;
}

Test(relay_basic, kill9_during_a_stream_of_sends)
{
	enum { N = 300 };
	static bool okd[N], seen[N];
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx tx, r;
	uint8_t body[NOID_MSG_MAX];
	uint64_t first;
	char text[32];
	int i, n, k, sent = 0, nok = 0;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	first = c->next_corr;
	/* Pipeline sends; the relay dies in the middle of the stream. */
	for (i = 0; i < N; i++) {
		memset(&tx, 0, sizeof tx);
		tx.tag = PROTO_SEND;
		tx.entity_len = NOID_ID_LEN;
		memcpy(tx.entity, q.sid, NOID_ID_LEN);
		n = snprintf(text, sizeof text, "m%d", i);
		tx.u.send.body = (const uint8_t *)text;
		tx.u.send.body_len = (size_t)n;
		if (rf_send(c, &tx, NULL) != 0)
			break;
		sent++;
		if (i == N / 2)
			rf_relay_stop(&relay, SIGKILL);
		/* Read an answer now and then, as a real sender would. */
		if (i % 10 == 9 && i < N / 2 && rf_recv(c, &r, 2000) == 0)
			nok += record_ok(&r, first, okd, N);
	}
	while (rf_recv(c, &r, 2000) == 0)
		nok += record_ok(&r, first, okd, N);
	rf_close(c);
	cr_assert_gt(nok, 0, "nothing was OK'd before the kill");
	cr_assert_gt(sent, N / 2);

	cr_assert_eq(rf_relay_start(&relay, NULL), 0);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	for (;;) {
		do
			n = rf_recv(c, &r, 1000);
		while (n == 0 && r.tag != PROTO_MSG);
		if (n != 0)
			break;
		n = rf_open_msg(&q, &r, body, sizeof body - 1);
		cr_assert_gt(n, 1);
		body[n] = '\0';
		k = atoi((char *)body + 1);
		cr_assert(k >= 0 && k < N);
		cr_assert(!seen[k], "message %d delivered twice", k);
		seen[k] = true;
		cr_assert_eq(rf_ack(c, &q, r.u.msg.msg_id, &r), PROTO_OK);
	}
	for (i = 0; i < N; i++)
		if (okd[i])
			cr_assert(seen[i], "OK'd message %d lost", i);
	rf_close(c);
}

Test(relay_basic, two_relays_restart_with_pending)
{
	struct rf_relay second;
	struct rf_conn *a, *b;
	struct rf_queue qa, qb;
	struct proto_tx r;
	uint8_t body[64];

	memset(&second, 0, sizeof second);
	cr_assert_eq(rf_relay_start(&second, NULL), 0);
	cr_assert_neq(memcmp(second.pub, relay.pub, 32), 0);
	/* Alice's queue on the first relay, Bob's on the second; each
	 * sends to the other's. */
	cr_assert_eq(rf_connect(&relay, &a), 0);
	cr_assert_eq(rf_connect(&second, &b), 0);
	cr_assert_eq(rf_new_queue(a, NULL, &qa), 0);
	cr_assert_eq(rf_new_queue(b, NULL, &qb), 0);
	cr_assert_eq(rf_secure(a, &qa), 0);
	cr_assert_eq(rf_secure(b, &qb), 0);
	rf_close(a);
	rf_close(b);
	cr_assert_eq(rf_connect(&second, &a), 0);
	cr_assert_eq(rf_connect(&relay, &b), 0);
	cr_assert_eq(rf_send_msg(a, &qb, true, "to bob", 6, &r), PROTO_OK);
	cr_assert_eq(rf_send_msg(b, &qa, true, "to alice", 8, &r), PROTO_OK);
	rf_close(a);
	rf_close(b);
	rf_relay_stop(&relay, SIGKILL);
	rf_relay_stop(&second, SIGTERM);
	cr_assert_eq(rf_relay_start(&relay, NULL), 0);
	cr_assert_eq(rf_relay_start(&second, NULL), 0);
	cr_assert_eq(rf_connect(&relay, &a), 0);
	cr_assert_eq(rf_connect(&second, &b), 0);
	cr_assert_eq(rf_cmd(a, PROTO_GET, qa.rid, &qa.rkey, &r), PROTO_MSG);
	cr_assert_eq(rf_open_msg(&qa, &r, body, sizeof body), 8);
	cr_assert_eq(memcmp(body, "to alice", 8), 0);
	cr_assert_eq(rf_ack(a, &qa, r.u.msg.msg_id, &r), PROTO_OK);
	cr_assert_eq(rf_cmd(b, PROTO_GET, qb.rid, &qb.rkey, &r), PROTO_MSG);
	cr_assert_eq(rf_open_msg(&qb, &r, body, sizeof body), 6);
	cr_assert_eq(rf_ack(b, &qb, r.u.msg.msg_id, &r), PROTO_OK);
	rf_close(a);
	rf_close(b);
	rf_relay_cleanup(&second);
}

Test(relay_basic, qr_code_decodes_to_the_printed_address)
{
	char *cmd, line[256], *out = NULL;
	FILE *f;

	/* The decoder ships in tests/tools, so a clean clone has it. */
	xasprintf(&cmd,
	    "t='%s/tests/tools/qr-from-screen'; "
	    "d=$(mktemp -d) && timeout 2 '%s/noid-relay' --data-dir \"$d\" "
	    "--listen 127.0.0.1:0 --qr > \"$d/out\" 2>/dev/null; "
	    "head -1 \"$d/out\"; tail -n +2 \"$d/out\" | \"$t\"; "
	    "rm -rf \"$d\"",
	    NOID_SRC_DIR, NOID_BUILD_DIR);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	cr_assert_not_null(fgets(line, sizeof line, f), "no address line");
	out = xstrdup(line);
	cr_assert_not_null(fgets(line, sizeof line, f), "QR did not decode");
	pclose(f);
	cr_assert_eq(strncmp(out, "noid://", 7), 0);
	cr_assert_str_eq(line, out);
	free(out);
	free(cmd);
}

/*
 * The push to a subscriber leaves before the group fsync, the SEND's OK
 * only after it: on a connection subscribed to its own queue the MSG
 * comes first.  An ACK of that message, whose add may not be synced
 * yet, still deletes it, and after a kill -9 it is not delivered again.
 */
Test(relay_basic, push_precedes_the_durable_ok)
{
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx tx, r;
	uint8_t id[NOID_ID_LEN];

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	cr_assert_eq(rf_secure(c, &q), 0);
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	rf_send_init(&tx, &q, "early", 5);
	cr_assert_eq(rf_send(c, &tx, &q.skey), 0);
	cr_assert_eq(rf_recv(c, &r, 5000), 0);
	cr_assert_eq(r.tag, PROTO_MSG, "got %s first", proto_tag_name(r.tag));
	cr_assert_eq(r.corr_id, 0);
	memcpy(id, r.u.msg.msg_id, NOID_ID_LEN);
	cr_assert_eq(rf_recv(c, &r, 5000), 0);
	cr_assert_eq(r.tag, PROTO_OK);
	cr_assert_eq(r.corr_id, tx.corr_id);
	cr_assert_eq(rf_ack(c, &q, id, &r), PROTO_OK);
	rf_close(c);
	expect_empty_after_restart(&q, SIGKILL);
}

/* SUB q on c with a delivery window; returns the reply's tag. */
static int
sub_window(struct rf_conn *c, const struct rf_queue *q, uint8_t window)
{
	struct proto_tx tx, r;

	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_SUB;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q->rid, NOID_ID_LEN);
	tx.u.sub.window = window;
	cr_assert_eq(rf_send(c, &tx, &q->rkey), 0);
	cr_assert_eq(rf_recv_corr(c, tx.corr_id, &r, 5000), 0);
	return r.tag;
}

/*
 * A window of 4 over 6 messages: 4 arrive unacked, acking the second
 * (out of order) lets the fifth in; after a kill -9 and restart a new
 * SUB delivers every unacked one again, oldest first, exactly once.
 */
Test(relay_basic, window_redelivers_unacked_in_order_after_restart)
{
	static const char *const want[] = {"w0", "w2", "w3", "w4", "w5"};
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	uint8_t id[NOID_ID_LEN];
	char body[16];
	int i;

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	cr_assert_eq(rf_secure(c, &q), 0);
	for (i = 0; i < 6; i++) {
		snprintf(body, sizeof body, "w%d", i);
		cr_assert_eq(
		    rf_send_msg(c, &q, true, body, strlen(body), &r), PROTO_OK);
	}
	cr_assert_eq(sub_window(c, &q, 4), PROTO_OK);
	expect_msg(c, &q, "w0", id);
	expect_msg(c, &q, "w1", id);
	cr_assert_eq(rf_ack(c, &q, id, &r), PROTO_OK);
	expect_msg(c, &q, "w2", id);
	expect_msg(c, &q, "w3", id);
	expect_msg(c, &q, "w4", id);
	/* The window is full again: a PONG comes before any w5. */
	cr_assert_eq(rf_cmd(c, PROTO_PING, NULL, NULL, &r), PROTO_PONG);
	cr_assert_eq(rf_recv(c, &r, 0), NOID_ERR_TIMEOUT);
	rf_close(c);
	rf_relay_stop(&relay, SIGKILL);
	cr_assert_eq(rf_relay_start(&relay, NULL), 0);
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(sub_window(c, &q, 8), PROTO_OK);
	for (i = 0; i < 5; i++) {
		expect_msg(c, &q, want[i], id);
		cr_assert_eq(rf_ack(c, &q, id, &r), PROTO_OK);
	}
	cr_assert_eq(rf_cmd(c, PROTO_GET, q.rid, &q.rkey, &r), PROTO_ERR);
	cr_assert_eq(r.u.err.code, PROTO_E_NO_MSG);
	rf_close(c);
	expect_empty_after_restart(&q, SIGKILL);
}

/* Whether pid has exited and waits to be reaped (Linux /proc). */
static bool
is_zombie(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return true;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

/*
 * The disk refuses a journal write (here the file size limit, EFBIG):
 * the relay stops by itself at once, writing nothing more, instead of
 * hanging or appending the batch again after a torn one; started again
 * with room it needs no --salvage and delivers every message it said
 * OK to, once.
 */
Test(relay_basic, journal_write_failure_stops_and_restarts_clean)
{
	enum { N = 100 };
	static uint8_t body[NOID_MSG_MAX];
	static bool okd[N], seen[N];
	struct rlimit old, lim;
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx r;
	uint64_t deadline;
	int i, n, k, rc, nok = 0, status;

	rf_relay_stop(&relay, SIGTERM);
	/* Ignored signals stay ignored across exec: the relay gets EFBIG
	 * instead of dying of SIGXFSZ. */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 600 * 1024;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = rf_relay_start(&relay, NULL);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	cr_assert_eq(rc, 0);

	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_new_queue(c, NULL, &q), 0);
	memset(body, 'x', sizeof body);
	for (i = 0; i < N; i++) {
		snprintf((char *)body, 16, "m%d", i);
		if (rf_send_msg(c, &q, false, body, sizeof body, &r) !=
		    PROTO_OK)
			break;
		okd[i] = true;
		nok++;
	}
	rf_close(c);
	cr_assert_gt(nok, 0);
	cr_assert_lt(nok, N, "the size limit never bit");
	deadline = clock_mono_ms() + 10000;
	while (!is_zombie(relay.pid) && clock_mono_ms() < deadline)
		poll(NULL, 0, 20);
	cr_assert(is_zombie(relay.pid), "the relay hangs after the failure");
	status = rf_relay_stop(&relay, SIGKILL);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0,
	    "status %#x: not a failure exit", status);

	cr_assert_eq(rf_relay_start(&relay, NULL), 0, "restart refused");
	cr_assert_eq(rf_connect(&relay, &c), 0);
	cr_assert_eq(rf_cmd(c, PROTO_SUB, q.rid, &q.rkey, &r), PROTO_OK);
	for (;;) {
		do
			n = rf_recv(c, &r, 1000);
		while (n == 0 && r.tag != PROTO_MSG);
		if (n != 0)
			break;
		n = rf_open_msg(&q, &r, body, sizeof body);
		cr_assert_eq(n, (int)sizeof body);
		k = atoi((char *)body + 1);
		cr_assert(k >= 0 && k < N);
		cr_assert(!seen[k], "message %d delivered twice", k);
		seen[k] = true;
		cr_assert_eq(rf_ack(c, &q, r.u.msg.msg_id, &r), PROTO_OK);
	}
	for (i = 0; i < N; i++)
		if (okd[i])
			cr_assert(seen[i], "OK'd message %d lost", i);
	rf_close(c);
}
