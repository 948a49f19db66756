/*
 * relay-client: the event-driven core.  Commands go into one pending
 * output block that is handed to the transport as soon as it has room,
 * so commands issued together share a block when the socket is busy.
 * Replies are matched to requests by corr_id (a counter: the relay sees
 * it only inside the encrypted session); corr_id 0 is a push.
 */
#include "relay-client.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base.h"
#include "noise.h"
#include "transport.h"

struct relay_client_req {
	struct relay_client_req *next;
	uint64_t corr_id;
	relay_client_reply_cb cb;
	void *arg;
};

struct relay_client {
	struct relay_addr addr;
	struct transport *t;
	relay_client_push_cb push;
	void *push_arg;
	struct relay_client_req *reqs;
	size_t npending;
	uint64_t next_corr;
	struct proto_block *out;
	uint64_t last_tx_ms;
	int corked; /* requests pack into blocks, none written */
	int error;
	/* Authenticator keys derived on this session (secret memory): one
	 * DH per key and session, not one per request. */
	struct proto_signer *signers;
	size_t nsigners, next_signer;
};

#define RC_SIGNERS 16

/* One fresh key pair. */
void
relay_keypair_new(struct relay_keypair *kp)
{
	noise_keypair(kp->priv, kp->pub);
}

/* Three fresh key pairs. */
void
relay_queue_keys_new(struct relay_queue_keys *k)
{
	relay_keypair_new(&k->rcpt_auth);
	relay_keypair_new(&k->rcpt_dh);
	relay_keypair_new(&k->sender_auth);
}

/* Start a non-blocking connect to the first address that takes it. */
static int
relay_client_dial(const struct relay_addr *a, int *fdp)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int fd = -1, error = NOID_ERR_IO;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(port, sizeof port, "%u", (unsigned)a->port);
	if (getaddrinfo(a->host, port, &hints, &res) != 0)
		return NOID_ERR_NOENT;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			error = 0;
			break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	*fdp = fd;
	return error;
}

/* Open. */
int
relay_client_open(const struct relay_addr *a, relay_client_push_cb push,
    void *arg, struct relay_client **out)
{
	struct relay_client *c;
	int fd, error;

	*out = NULL;
	if ((error = relay_client_dial(a, &fd)) != 0)
		return error;
	c = xcalloc(1, sizeof *c);
	c->addr = *a;
	c->push = push;
	c->push_arg = arg;
	c->t = transport_new_client(
	    fd, a->key, NOID_PROTO_VERSION_MIN, NOID_PROTO_VERSION_MAX);
	c->last_tx_ms = clock_mono_ms();
	*out = c;
	return 0;
}

/* The fd. */
int
relay_client_fd(const struct relay_client *c)
{
	return transport_fd(c->t);
}

/* Poll events wanted. */
short
relay_client_events(const struct relay_client *c)
{
	return POLLIN | (transport_wants_write(c->t) ? POLLOUT : 0);
}

/* Established? */
int
relay_client_established(const struct relay_client *c)
{
	return c->error == 0 && transport_established(c->t);
}

/* Sticky error. */
int
relay_client_error(const struct relay_client *c)
{
	return c->error;
}

/* Address. */
const struct relay_addr *
relay_client_addr(const struct relay_client *c)
{
	return &c->addr;
}

/* Pending count. */
size_t
relay_client_pending(const struct relay_client *c)
{
	return c->npending;
}

/* The connection is dead: tell every pending request. */
static int
relay_client_fail(struct relay_client *c, int error)
{
	struct relay_client_req *r;

	if (c->error == 0)
		c->error = error;
	while ((r = c->reqs) != NULL) {
		c->reqs = r->next;
		c->npending--;
		if (r->cb != NULL)
			r->cb(c, c->error, NULL, r->arg);
		free(r);
	}
	return c->error;
}

/* Hand the pending block to the transport if it has room. */
static int
relay_client_hand(struct relay_client *c)
{
	int error;

	if (c->out == NULL || c->out->used == 0 ||
	    !transport_established(c->t) || !transport_can_queue(c->t, 1))
		return 0;
	proto_block_finish(c->out);
	error = transport_queue_block(c->t, c->out->data);
	free(c->out);
	c->out = NULL;
	if (error != 0)
		return relay_client_fail(c, error);
	c->last_tx_ms = clock_mono_ms();
	return 0;
}

/* hand, unless corked: then requests keep packing into the block. */
static int
relay_client_flush(struct relay_client *c)
{
	return c->corked ? 0 : relay_client_hand(c);
}

/* Remove and return the request with corr_id, or NULL. */
static struct relay_client_req *
relay_client_take(struct relay_client *c, uint64_t corr_id)
{
	struct relay_client_req **pp, *r;

	for (pp = &c->reqs; (r = *pp) != NULL; pp = &r->next) {
		if (r->corr_id == corr_id) {
			*pp = r->next;
			c->npending--;
			return r;
		}
	}
	return NULL;
}

/* One received transmission. */
static int
relay_client_dispatch(struct relay_client *c, const struct proto_tx *tx)
{
	struct relay_client_req *r;
	int error = 0;

	if (tx->corr_id == 0) {
		if (tx->tag == PROTO_ERR)
			return relay_client_fail(
			    c, proto_err_to_noid(tx->u.err.code));
		if (tx->tag != PROTO_MSG && tx->tag != PROTO_END &&
		    tx->tag != PROTO_QCONT)
			return relay_client_fail(c, NOID_ERR_PROTO);
		if (c->push != NULL)
			c->push(c, tx, c->push_arg);
		return 0;
	}
	if ((r = relay_client_take(c, tx->corr_id)) == NULL)
		return relay_client_fail(c, NOID_ERR_PROTO);
	if (tx->tag == PROTO_ERR)
		error = proto_err_to_noid(tx->u.err.code);
	if (r->cb != NULL)
		r->cb(c, error, tx, r->arg);
	free(r);
	return 0;
}

/* Every transmission of a received block. */
static int
relay_client_block(struct relay_client *c, const uint8_t *block)
{
	struct proto_block_iter it;
	struct proto_tx tx;
	const uint8_t *p;
	size_t len;
	int error;

	proto_block_iter_init(&it, block);
	while ((error = proto_block_next(&it, &p, &len)) == 0) {
		if (proto_tx_decode(p, len, PROTO_DIR_RESP, &tx) != 0)
			return relay_client_fail(c, NOID_ERR_PROTO);
		if ((error = relay_client_dispatch(c, &tx)) != 0)
			return error;
	}
	if (error != NOID_ERR_NOENT)
		return relay_client_fail(c, NOID_ERR_PROTO);
	return 0;
}

/* Readable. */
int
relay_client_on_readable(struct relay_client *c)
{
	enum transport_event ev;
	const uint8_t *block;
	int error;

	if (c->error != 0)
		return c->error;
	for (;;) {
		error = transport_on_readable(c->t, &ev, &block);
		if (error != 0)
			return relay_client_fail(c, error);
		if (ev == TRANSPORT_EV_NONE)
			return 0;
		if (ev == TRANSPORT_EV_HANDSHAKE)
			error = relay_client_flush(c);
		else
			error = relay_client_block(c, block);
		if (error != 0)
			return error;
	}
}

/* Writable. */
int
relay_client_on_writable(struct relay_client *c)
{
	int error;

	if (c->error != 0)
		return c->error;
	if ((error = transport_on_writable(c->t)) != 0)
		return relay_client_fail(c, error);
	return relay_client_flush(c);
}

/* Append tx to the pending block, flushing a full one first. */
static int
relay_client_append(struct relay_client *c, const struct proto_tx *tx,
    const struct proto_signer *s)
{
	int error;

	if (c->out == NULL) {
		c->out = xmalloc(sizeof *c->out);
		proto_block_init(c->out);
	}
	error = proto_block_add_tx(c->out, tx, s);
	if (error != NOID_ERR_TOOBIG || c->out->used == 0)
		return error;
	if ((error = relay_client_hand(c)) != 0)
		return error;
	if (c->out != NULL)
		return NOID_ERR_AGAIN;
	c->out = xmalloc(sizeof *c->out);
	proto_block_init(c->out);
	return proto_block_add_tx(c->out, tx, s);
}

/* The signer for auth on this session, from the cache or derived. */
static int
relay_client_signer(struct relay_client *c, const struct relay_keypair *auth,
    struct proto_signer *out)
{
	const uint8_t *sid = transport_session_id(c->t);
	size_t i;
	int error;

	for (i = 0; i < c->nsigners; i++) {
		if (memcmp(c->signers[i].auth_pub, auth->pub, NOID_KEY_LEN) ==
		        0 &&
		    memcmp(c->signers[i].session_id, sid,
		        NOID_SESSION_ID_LEN) == 0) {
			*out = c->signers[i];
			return 0;
		}
	}
	error = proto_signer_init(
	    out, auth->priv, auth->pub, transport_session_auth_pub(c->t), sid);
	if (error != 0)
		return error;
	if (c->signers == NULL)
		c->signers = secret_alloc(RC_SIGNERS * sizeof *c->signers);
	if (c->nsigners < RC_SIGNERS)
		i = c->nsigners++;
	else
		i = c->next_signer++ % RC_SIGNERS;
	c->signers[i] = *out;
	return 0;
}

/* Send a command. */
int
relay_client_request(struct relay_client *c, const struct proto_tx *tx,
    const struct relay_keypair *auth, relay_client_reply_cb cb, void *arg,
    uint64_t *corr_id)
{
	struct relay_client_req *r;
	struct proto_signer s;
	struct proto_tx copy;
	int error;

	if (c->error != 0)
		return c->error;
	if (!transport_established(c->t))
		return NOID_ERR_STATE;
	copy = *tx;
	copy.corr_id = ++c->next_corr;
	if (auth != NULL && (error = relay_client_signer(c, auth, &s)) != 0)
		goto out;
	if ((error = relay_client_append(c, &copy, auth ? &s : NULL)) != 0)
		goto out;
	/* Flush before the request is registered: if the connection dies
	 * here the caller gets the error and keeps arg; cb is never run
	 * for it (no reply can come before we return). */
	if ((error = relay_client_flush(c)) != 0)
		goto out;
	r = xcalloc(1, sizeof *r);
	r->corr_id = copy.corr_id;
	r->cb = cb;
	r->arg = arg;
	r->next = c->reqs;
	c->reqs = r;
	c->npending++;
	if (corr_id != NULL)
		*corr_id = copy.corr_id;
out:
	sodium_memzero(&s, sizeof s);
	return error;
}

/* Hold requests back, or send what was held. */
int
relay_client_set_cork(struct relay_client *c, int on)
{
	int error;

	if (c->error != 0)
		return c->error;
	c->corked = on;
	if (on)
		return transport_set_cork(c->t, 1);
	/* Write the held blocks first: a full queue would otherwise leave
	 * the last block in c->out with nothing asking for POLLOUT. */
	if ((error = transport_set_cork(c->t, 0)) != 0)
		return relay_client_fail(c, error);
	return relay_client_hand(c);
}

/* Time until the idle PING. */
int
relay_client_timeout_ms(const struct relay_client *c)
{
	uint64_t now = clock_mono_ms(), due;

	if (!relay_client_established(c))
		return -1;
	due = c->last_tx_ms + TRANSPORT_PING_INTERVAL_MS;
	return due <= now ? 0 : (int)(due - now);
}

/* PING when idle. */
int
relay_client_on_timer(struct relay_client *c)
{
	struct proto_tx ping;

	if (relay_client_timeout_ms(c) != 0)
		return c->error;
	memset(&ping, 0, sizeof ping);
	ping.tag = PROTO_PING;
	return relay_client_request(c, &ping, NULL, NULL, NULL, NULL);
}

/* Close and free. */
void
relay_client_free(struct relay_client *c)
{
	if (c == NULL)
		return;
	relay_client_fail(c, NOID_ERR_CLOSED);
	transport_free(c->t);
	free(c->out);
	secret_free(c->signers);
	free(c);
}

/* Open a MSG. */
int
relay_msg_open(
    const struct proto_tx *msg, const uint8_t shared[32], struct relay_msg *out)
{
	if (msg->tag != PROTO_MSG)
		return NOID_ERR_INVAL;
	memcpy(out->msg_id, msg->u.msg.msg_id, NOID_ID_LEN);
	return proto_msg_open(out->plain, sizeof out->plain, msg->u.msg.enc,
	    msg->u.msg.enc_len, msg->u.msg.msg_id, shared, &out->ts_ms,
	    &out->flags, &out->body, &out->body_len);
}

/* Deep copy of a transmission. */
void
relay_reply_copy(struct relay_reply *r, const struct proto_tx *tx)
{
	r->tx = *tx;
	r->tx.signed_part = NULL;
	r->tx.signed_len = 0;
	switch (tx->tag) {
	case PROTO_NEW:
		if (tx->u.create.access_key_len != 0)
			memcpy(r->buf, tx->u.create.access_key,
			    tx->u.create.access_key_len);
		r->tx.u.create.access_key = r->buf;
		break;
	case PROTO_SEND:
		memcpy(r->buf, tx->u.send.body, tx->u.send.body_len);
		r->tx.u.send.body = r->buf;
		break;
	case PROTO_MSG:
		memcpy(r->buf, tx->u.msg.enc, tx->u.msg.enc_len);
		r->tx.u.msg.enc = r->buf;
		break;
	default:
		break;
	}
}
