/*
 * relay-client-call: the blocking face for the CLI and tests.  Each
 * wait is a poll() on the one socket with the time left to a deadline,
 * so nothing sleeps and a dead relay costs at most the timeout.
 */
#include "relay-client.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

/* Where a blocking call's reply lands. */
struct relay_call {
	int done;
	int error;
	struct relay_reply *reply;
};

/* Time left to deadline, for poll(). */
static int
relay_call_left(uint64_t deadline)
{
	uint64_t now = clock_mono_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/* One poll round with up to timeout_ms; handles what arrives. */
static int
relay_client_step(struct relay_client *c, int timeout_ms)
{
	struct pollfd pfd;
	int n, error;

	pfd.fd = relay_client_fd(c);
	pfd.events = relay_client_events(c);
	pfd.revents = 0;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return NOID_ERR_IO;
	if (n == 0)
		return NOID_ERR_TIMEOUT;
	if (pfd.revents & POLLOUT) {
		if ((error = relay_client_on_writable(c)) != 0)
			return error;
	}
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
		return relay_client_on_readable(c);
	return 0;
}

/* Wait for traffic once. */
int
relay_client_poll(struct relay_client *c, int timeout_ms)
{
	if (relay_client_error(c) != 0)
		return relay_client_error(c);
	return relay_client_step(c, timeout_ms);
}

/* Connect and wait for the handshake. */
int
relay_client_connect_blocking(const struct relay_addr *a, int timeout_ms,
    relay_client_push_cb push, void *arg, struct relay_client **out)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	struct relay_client *c;
	int error;

	*out = NULL;
	if ((error = relay_client_open(a, push, arg, &c)) != 0)
		return error;
	while (!relay_client_established(c)) {
		error = relay_client_step(c, relay_call_left(deadline));
		if (error != 0) {
			relay_client_free(c);
			return error;
		}
	}
	*out = c;
	return 0;
}

/* Reply callback of a blocking call. */
static void
relay_call_done(
    struct relay_client *c, int error, const struct proto_tx *tx, void *arg)
{
	struct relay_call *call = arg;

	(void)c;
	call->done = 1;
	call->error = error;
	if (tx != NULL && call->reply != NULL)
		relay_reply_copy(call->reply, tx);
}

/* Send and wait for the reply. */
int
relay_client_call(struct relay_client *c, const struct proto_tx *tx,
    const struct relay_keypair *auth, int timeout_ms, struct relay_reply *reply)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	struct relay_call call = {0, 0, reply};
	int error;

	error = relay_client_request(c, tx, auth, relay_call_done, &call, NULL);
	if (error != 0)
		return error;
	while (!call.done) {
		error = relay_client_step(c, relay_call_left(deadline));
		if (error != 0 && !call.done)
			return error;
	}
	return call.error;
}

/* A transmission for tag on entity (NULL: none). */
static void
relay_tx_init(struct proto_tx *tx, uint8_t tag, const uint8_t *entity)
{
	memset(tx, 0, sizeof *tx);
	tx->tag = tag;
	if (entity != NULL) {
		tx->entity_len = NOID_ID_LEN;
		memcpy(tx->entity, entity, NOID_ID_LEN);
	}
}

/* NEW. */
int
relay_client_create_queue(struct relay_client *c,
    const struct relay_queue_keys *k, const char *access_key, int timeout_ms,
    struct relay_queue *q)
{
	struct relay_reply *r;
	struct proto_tx tx;
	int error;

	relay_tx_init(&tx, PROTO_NEW, NULL);
	memcpy(tx.u.create.dh_pub, k->rcpt_dh.pub, NOID_KEY_LEN);
	if (access_key != NULL) {
		tx.u.create.access_key = (const uint8_t *)access_key;
		tx.u.create.access_key_len = strlen(access_key);
	}
	r = xmalloc(sizeof *r);
	error = relay_client_call(c, &tx, &k->rcpt_auth, timeout_ms, r);
	if (error != 0)
		goto out;
	if (r->tx.tag != PROTO_IDS) {
		error = NOID_ERR_PROTO;
		goto out;
	}
	memcpy(q->rid, r->tx.u.ids.rid, NOID_ID_LEN);
	memcpy(q->sid, r->tx.u.ids.sid, NOID_ID_LEN);
	memcpy(q->relay_dh_pub, r->tx.u.ids.relay_dh_pub, NOID_KEY_LEN);
	error = proto_msg_shared(q->shared, q->relay_dh_pub, k->rcpt_dh.priv);
out:
	free(r);
	return error;
}

/* A command whose answer must carry tag want. */
static int
relay_client_expect(struct relay_client *c, const struct proto_tx *tx,
    const struct relay_keypair *auth, int timeout_ms, uint8_t want)
{
	struct relay_reply *r = xmalloc(sizeof *r);
	int error;

	error = relay_client_call(c, tx, auth, timeout_ms, r);
	if (error == 0 && r->tx.tag != want)
		error = NOID_ERR_PROTO;
	free(r);
	return error;
}

/* KEY. */
int
relay_client_secure(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    const uint8_t sender_pub[NOID_KEY_LEN], int timeout_ms)
{
	struct proto_tx tx;

	relay_tx_init(&tx, PROTO_KEY, rid);
	memcpy(tx.u.key.sender_pub, sender_pub, NOID_KEY_LEN);
	return relay_client_expect(c, &tx, rcpt_auth, timeout_ms, PROTO_OK);
}

/* SEND. */
int
relay_client_send(struct relay_client *c,
    const struct relay_keypair *sender_auth, const uint8_t sid[NOID_ID_LEN],
    uint8_t flags, const void *body, size_t len, int timeout_ms)
{
	struct proto_tx tx;

	relay_tx_init(&tx, PROTO_SEND, sid);
	tx.u.send.flags = flags;
	tx.u.send.body = body;
	tx.u.send.body_len = len;
	return relay_client_expect(c, &tx, sender_auth, timeout_ms, PROTO_OK);
}

/* A recipient command with no fields. */
static int
relay_client_rcpt(struct relay_client *c, uint8_t tag,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    int timeout_ms)
{
	struct proto_tx tx;

	relay_tx_init(&tx, tag, rid);
	return relay_client_expect(c, &tx, rcpt_auth, timeout_ms, PROTO_OK);
}

/* SUB with window 1. */
int
relay_client_subscribe(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    int timeout_ms)
{
	return relay_client_rcpt(c, PROTO_SUB, rcpt_auth, rid, timeout_ms);
}

/* SUB with a delivery window. */
int
relay_client_subscribe_window(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    uint8_t window, int timeout_ms)
{
	struct proto_tx tx;

	relay_tx_init(&tx, PROTO_SUB, rid);
	tx.u.sub.window = window;
	return relay_client_expect(c, &tx, rcpt_auth, timeout_ms, PROTO_OK);
}

/* OFF. */
int
relay_client_suspend(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    int timeout_ms)
{
	return relay_client_rcpt(c, PROTO_OFF, rcpt_auth, rid, timeout_ms);
}

/* DEL. */
int
relay_client_delete(struct relay_client *c,
    const struct relay_keypair *rcpt_auth, const uint8_t rid[NOID_ID_LEN],
    int timeout_ms)
{
	return relay_client_rcpt(c, PROTO_DEL, rcpt_auth, rid, timeout_ms);
}

/* ACK. */
int
relay_client_ack(struct relay_client *c, const struct relay_keypair *rcpt_auth,
    const uint8_t rid[NOID_ID_LEN], const uint8_t msg_id[NOID_ID_LEN],
    int timeout_ms)
{
	struct proto_tx tx;

	relay_tx_init(&tx, PROTO_ACK, rid);
	memcpy(tx.u.ack.msg_id, msg_id, NOID_ID_LEN);
	return relay_client_expect(c, &tx, rcpt_auth, timeout_ms, PROTO_OK);
}

/* GET: the MSG lands in *reply. */
int
relay_client_get(struct relay_client *c, const struct relay_keypair *rcpt_auth,
    const uint8_t rid[NOID_ID_LEN], int timeout_ms, struct relay_reply *reply)
{
	struct proto_tx tx;
	int error;

	relay_tx_init(&tx, PROTO_GET, rid);
	error = relay_client_call(c, &tx, rcpt_auth, timeout_ms, reply);
	if (error == 0 && reply->tx.tag != PROTO_MSG)
		error = NOID_ERR_PROTO;
	return error;
}

/* PING. */
int
relay_client_ping(struct relay_client *c, int timeout_ms)
{
	struct proto_tx tx;

	relay_tx_init(&tx, PROTO_PING, NULL);
	return relay_client_expect(c, &tx, NULL, timeout_ms, PROTO_PONG);
}
