/*
 * relayfix: wire-level client connections for tests (relay processes
 * come from testrelay).
 */
#include "relayfix.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define FF8 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
#define FF30 FF8, FF8, FF8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff

const uint8_t rf_bad_keys[RF_BAD_KEYS][32] = {
    {0}, /* 0 */
    {1}, /* 1 */
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa,
        0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd,
        0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00}, /* order 8 */
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55,
        0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86,
        0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57}, /* order 8 */
    {0xec, FF30, 0x7f}, /* p - 1 */
    {0xed, FF30, 0x7f}, /* p, i.e. 0 */
    {0xee, FF30, 0x7f}, /* p + 1, i.e. 1 */
    {0xef, FF30, 0x7f}, /* p + 2: 2, not canonical */
    {9, [31] = 0x80}, /* the base point with the top bit set */
};

/* Read exactly n bytes from fd within timeout_ms; 0, TIMEOUT or CLOSED. */
static int
read_full(int fd, uint8_t *p, size_t n, int timeout_ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms, now;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t r;

	while (n > 0) {
		now = clock_mono_ms();
		if (now >= end)
			return NOID_ERR_TIMEOUT;
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		r = read(fd, p, n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return NOID_ERR_CLOSED;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Write all of p to fd (fd may be non-blocking). */
static int
write_full(int fd, const uint8_t *p, size_t n)
{
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			(void)poll(&pfd, 1, 1000);
			continue;
		}
		if (w <= 0)
			return NOID_ERR_CLOSED;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy what tests read off the testrelay into r. */
static void
rf_relay_fill(struct rf_relay *r)
{
	const struct relay_addr *a = testrelay_addr(r->tr);

	r->pid = testrelay_pid(r->tr);
	snprintf(r->dir, sizeof r->dir, "%s", testrelay_data_dir(r->tr));
	memcpy(r->pub, a->key, sizeof r->pub);
	r->port = a->port;
	snprintf(r->addr, sizeof r->addr, "%s", testrelay_address(r->tr));
}

/* Start a relay, or start the stopped one again. */
int
rf_relay_start(struct rf_relay *r, const char *const *extra)
{
	int rc;

	if (r->tr == NULL) {
		if ((r->tr = testrelay_start(extra)) == NULL)
			return NOID_ERR_IO;
	} else if ((rc = testrelay_restart(r->tr)) != 0)
		return rc;
	rf_relay_fill(r);
	return 0;
}

/* Send sig and wait for the relay. */
int
rf_relay_stop(struct rf_relay *r, int sig)
{
	if (r->tr == NULL || r->pid <= 0)
		return -1;
	r->pid = 0;
	return testrelay_stop(r->tr, sig);
}

/* Stop gracefully if running, remove the temp dir; the exit status. */
int
rf_relay_cleanup(struct rf_relay *r)
{
	char *log;
	uint8_t *text;
	size_t len;
	int status = 0;

	if (r->tr == NULL)
		return 0;
	if (r->pid > 0) {
		status = rf_relay_stop(r, SIGTERM);
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	/* Show what the relay said (ASan reports) when it failed. */
	log = path_join(testrelay_dir(r->tr), "relay.log");
	if (status != 0 && file_read_all(log, 1 << 20, &text, &len) == 0) {
		fprintf(stderr, "%.*s", (int)len, (const char *)text);
		free(text);
	}
	free(log);
	testrelay_free(r->tr);
	r->tr = NULL;
	return status;
}

/* Raw TCP connection to 127.0.0.1:port. */
int
rf_tcp_connect(uint16_t port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

/* Move what the transport wrote from the socketpair to TCP. */
static int
pump_up(struct rf_conn *c, size_t n)
{
	uint8_t buf[NOID_BLOCK];
	int rc;

	while (transport_wants_write(c->t))
		if ((rc = transport_on_writable(c->t)) != 0)
			return rc;
	if ((rc = read_full(c->sp, buf, n, 5000)) != 0)
		return rc;
	return write_full(c->tcp, buf, n);
}

/* Connect and handshake with the relay key pub. */
int
rf_connect_key(uint16_t port, const uint8_t *pub, struct rf_conn **out)
{
	struct rf_conn *c = xcalloc(1, sizeof *c);
	enum transport_event ev = TRANSPORT_EV_NONE;
	uint8_t msg2[TRANSPORT_HS_MSG];
	const uint8_t *blk;
	int sp[2], rc;

	*out = NULL;
	c->next_corr = 1;
	c->tcp = rf_tcp_connect(port);
	if (c->tcp < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		rc = NOID_ERR_IO;
		goto fail;
	}
	c->sp = sp[1];
	c->t = transport_new_client(
	    sp[0], pub, NOID_PROTO_VERSION_MIN, NOID_PROTO_VERSION_MAX);
	if ((rc = pump_up(c, TRANSPORT_HS_MSG)) != 0)
		goto fail;
	rc = read_full(c->tcp, msg2, sizeof msg2, 5000);
	if (rc == NOID_ERR_CLOSED)
		shutdown(c->sp, SHUT_WR);
	else if (rc != 0)
		goto fail;
	else if ((rc = write_full(c->sp, msg2, sizeof msg2)) != 0)
		goto fail;
	while ((rc = transport_on_readable(c->t, &ev, &blk)) == 0 &&
	    ev == TRANSPORT_EV_NONE) {
		struct pollfd p = {.fd = transport_fd(c->t), .events = POLLIN};

		if (poll(&p, 1, 5000) <= 0) {
			rc = NOID_ERR_TIMEOUT;
			break;
		}
	}
	if (rc == 0 && ev != TRANSPORT_EV_HANDSHAKE)
		rc = NOID_ERR_PROTO;
	if (rc != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	rf_close(c);
	return rc;
}

int
rf_connect(const struct rf_relay *r, struct rf_conn **out)
{
	return rf_connect_key(r->port, r->pub, out);
}

void
rf_close(struct rf_conn *c)
{
	if (c == NULL)
		return;
	transport_free(c->t);
	buf_free(&c->stash);
	if (c->sp > 0)
		close(c->sp);
	if (c->tcp >= 0)
		close(c->tcp);
	free(c);
}

/* Canonical X25519 key pair. */
void
rf_keygen(struct rf_key *k)
{
	randombytes_buf(k->priv, 32);
	crypto_scalarmult_base(k->pub, k->priv);
}

/* Encrypt a prepared block plaintext and return its frame. */
int
rf_seal_block(
    struct rf_conn *c, const uint8_t *plain, uint8_t frame[NOID_BLOCK])
{
	int rc;

	if ((rc = transport_queue_block(c->t, plain)) != 0)
		return rc;
	while (transport_wants_write(c->t))
		if ((rc = transport_on_writable(c->t)) != 0)
			return rc;
	return read_full(c->sp, frame, NOID_BLOCK, 5000);
}

/* Write raw bytes to the relay. */
int
rf_write_raw(struct rf_conn *c, const void *p, size_t len)
{
	return write_full(c->tcp, p, len);
}

/* Encode tx for c's session. */
int
rf_encode(struct rf_conn *c, struct proto_tx *tx, const struct rf_key *key,
    uint8_t *out, size_t cap, size_t *len)
{
	struct proto_signer s;
	int rc;

	if (tx->corr_id == 0)
		tx->corr_id = c->next_corr++;
	if (key != NULL &&
	    (rc = proto_signer_init(&s, key->priv, key->pub,
	         transport_session_auth_pub(c->t),
	         transport_session_id(c->t))) != 0)
		return rc;
	rc = proto_tx_encode(tx, key != NULL ? &s : NULL, out, cap, len);
	sodium_memzero(&s, sizeof s);
	return rc;
}

/* Seal a whole block plaintext and send it. */
int
rf_send_plain(struct rf_conn *c, const uint8_t *plain)
{
	uint8_t frame[NOID_BLOCK];
	int rc;

	if ((rc = rf_seal_block(c, plain, frame)) != 0)
		return rc;
	return rf_write_raw(c, frame, sizeof frame);
}

/* Encode tx into one block and send it. */
int
rf_send(struct rf_conn *c, struct proto_tx *tx, const struct rf_key *key)
{
	struct proto_block b;
	size_t len;
	int rc;

	proto_block_init(&b);
	if ((rc = rf_encode(c, tx, key, b.data + 2, NOID_TX_MAX, &len)) != 0)
		return rc;
	be16_put(b.data, (uint16_t)len);
	b.used = 2 + len;
	proto_block_finish(&b);
	return rf_send_plain(c, b.data);
}

/* A valid handshake msg1 for a relay key. */
int
rf_msg1(const uint8_t *pub, uint8_t out[TRANSPORT_HS_MSG])
{
	struct transport *t;
	int sp[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
		return NOID_ERR_IO;
	t = transport_new_client(
	    sp[0], pub, NOID_PROTO_VERSION_MIN, NOID_PROTO_VERSION_MAX);
	while (transport_wants_write(t) && transport_on_writable(t) == 0)
		;
	rc = read_full(sp[1], out, TRANSPORT_HS_MSG, 5000);
	transport_free(t);
	close(sp[1]);
	return rc;
}

static int rf_recv_wire(struct rf_conn *c, struct proto_tx *tx, int timeout_ms);

/* Next transmission from the relay: stashed pushes first. */
int
rf_recv(struct rf_conn *c, struct proto_tx *tx, int timeout_ms)
{
	size_t len;

	if (c->stash_off < c->stash.len) {
		len = be16_get(c->stash.data + c->stash_off);
		memcpy(c->cur, c->stash.data + c->stash_off + 2, len);
		c->stash_off += 2 + len;
		if (c->stash_off == c->stash.len) {
			buf_reset(&c->stash);
			c->stash_off = 0;
		}
		memset(tx, 0, sizeof *tx);
		return proto_tx_decode(c->cur, len, PROTO_DIR_RESP, tx);
	}
	return rf_recv_wire(c, tx, timeout_ms);
}

/* Next transmission off the wire (not the stash). */
static int
rf_recv_wire(struct rf_conn *c, struct proto_tx *tx, int timeout_ms)
{
	enum transport_event ev;
	uint8_t frame[NOID_BLOCK];
	const uint8_t *p;
	size_t len;
	int rc;

	for (;;) {
		if (c->have_block) {
			rc = proto_block_next(&c->it, &p, &len);
			if (rc == 0) {
				memset(tx, 0, sizeof *tx);
				rc =
				    proto_tx_decode(p, len, PROTO_DIR_RESP, tx);
				c->last = p;
				c->last_len = len;
				return rc;
			}
			c->have_block = false;
			if (rc != NOID_ERR_NOENT)
				return rc;
		}
		if ((rc = read_full(c->tcp, frame, sizeof frame, timeout_ms)) !=
		    0)
			return rc;
		if ((rc = write_full(c->sp, frame, sizeof frame)) != 0)
			return rc;
		do {
			struct pollfd pf = {
			    .fd = transport_fd(c->t), .events = POLLIN};

			(void)poll(&pf, 1, 1000);
			rc = transport_on_readable(c->t, &ev, &p);
		} while (rc == 0 && ev == TRANSPORT_EV_NONE);
		if (rc != 0)
			return rc;
		memcpy(c->block, p, sizeof c->block);
		proto_block_iter_init(&c->it, c->block);
		c->have_block = true;
	}
}

/* Receive until a transmission with this corr_id. */
int
rf_recv_corr(
    struct rf_conn *c, uint64_t corr, struct proto_tx *tx, int timeout_ms)
{
	int rc;

	if (corr == 0)
		return rf_recv(c, tx, timeout_ms);
	while ((rc = rf_recv_wire(c, tx, timeout_ms)) == 0) {
		if (tx->corr_id == corr)
			return 0;
		if (tx->corr_id == 0) {
			be16_put(buf_append_space(&c->stash, 2),
			    (uint16_t)c->last_len);
			buf_put(&c->stash, c->last, c->last_len);
		}
	}
	return rc;
}

/* True when the relay closed the connection within timeout_ms. */
bool
rf_wait_closed(struct rf_conn *c, int timeout_ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)timeout_ms, now;
	struct pollfd pfd = {.fd = c->tcp, .events = POLLIN};
	uint8_t buf[4096];
	ssize_t n;

	while ((now = clock_mono_ms()) < end) {
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		n = read(c->tcp, buf, sizeof buf);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
	}
	return false;
}

/* Send a command and wait for its answer. */
int
rf_cmd(struct rf_conn *c, uint8_t tag, const uint8_t *entity,
    const struct rf_key *key, struct proto_tx *reply)
{
	struct proto_tx tx;
	int rc;

	memset(&tx, 0, sizeof tx);
	tx.tag = tag;
	if (entity != NULL) {
		tx.entity_len = NOID_ID_LEN;
		memcpy(tx.entity, entity, NOID_ID_LEN);
	}
	if ((rc = rf_send(c, &tx, key)) != 0)
		return rc;
	if ((rc = rf_recv_corr(c, tx.corr_id, reply, 5000)) != 0)
		return rc;
	return reply->tag;
}

/* Create a queue. */
int
rf_new_queue(struct rf_conn *c, const char *access_key, struct rf_queue *q)
{
	struct proto_tx tx, r;
	uint8_t relay_dh[32];
	int rc;

	memset(q, 0, sizeof *q);
	rf_keygen(&q->rkey);
	rf_keygen(&q->dh);
	rf_keygen(&q->skey);
	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_NEW;
	memcpy(tx.u.create.dh_pub, q->dh.pub, 32);
	tx.u.create.access_key = (const uint8_t *)access_key;
	tx.u.create.access_key_len =
	    access_key != NULL ? strlen(access_key) : 0;
	if ((rc = rf_send(c, &tx, &q->rkey)) != 0)
		return rc;
	if ((rc = rf_recv_corr(c, tx.corr_id, &r, 5000)) != 0)
		return rc;
	if (r.tag != PROTO_IDS)
		return r.tag == PROTO_ERR ? -1000 - r.u.err.code
		                          : NOID_ERR_PROTO;
	memcpy(q->rid, r.u.ids.rid, NOID_ID_LEN);
	memcpy(q->sid, r.u.ids.sid, NOID_ID_LEN);
	memcpy(relay_dh, r.u.ids.relay_dh_pub, 32);
	proto_msg_shared(q->shared, relay_dh, q->dh.priv);
	return 0;
}

/* Secure a queue with its sender key. */
int
rf_secure(struct rf_conn *c, struct rf_queue *q)
{
	struct proto_tx tx, r;
	int rc;

	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_KEY;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q->rid, NOID_ID_LEN);
	memcpy(tx.u.key.sender_pub, q->skey.pub, 32);
	if ((rc = rf_send(c, &tx, &q->rkey)) != 0)
		return rc;
	if ((rc = rf_recv_corr(c, tx.corr_id, &r, 5000)) != 0)
		return rc;
	return r.tag == PROTO_OK ? 0 : NOID_ERR_PROTO;
}

/* Fill tx as a SEND. */
void
rf_send_init(
    struct proto_tx *tx, const struct rf_queue *q, const void *body, size_t len)
{
	memset(tx, 0, sizeof *tx);
	tx->tag = PROTO_SEND;
	tx->entity_len = NOID_ID_LEN;
	memcpy(tx->entity, q->sid, NOID_ID_LEN);
	tx->u.send.body = body;
	tx->u.send.body_len = len;
}

/* Send a message to q. */
int
rf_send_msg(struct rf_conn *c, const struct rf_queue *q, bool secured,
    const void *body, size_t len, struct proto_tx *reply)
{
	struct proto_tx tx;
	int rc;

	rf_send_init(&tx, q, body, len);
	if ((rc = rf_send(c, &tx, secured ? &q->skey : NULL)) != 0)
		return rc;
	if ((rc = rf_recv_corr(c, tx.corr_id, reply, 5000)) != 0)
		return rc;
	return reply->tag;
}

/* Ack a message. */
int
rf_ack(struct rf_conn *c, const struct rf_queue *q, const uint8_t *msg_id,
    struct proto_tx *reply)
{
	struct proto_tx tx;
	int rc;

	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_ACK;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, q->rid, NOID_ID_LEN);
	memcpy(tx.u.ack.msg_id, msg_id, NOID_ID_LEN);
	if ((rc = rf_send(c, &tx, &q->rkey)) != 0)
		return rc;
	if ((rc = rf_recv_corr(c, tx.corr_id, reply, 5000)) != 0)
		return rc;
	return reply->tag;
}

/* Open a MSG. */
int
rf_open_msg(const struct rf_queue *q, const struct proto_tx *msg, uint8_t *body,
    size_t cap)
{
	uint8_t plain[NOID_MSG_ENC_MAX];
	const uint8_t *b;
	uint64_t ts;
	uint8_t flags;
	size_t len;
	int rc;

	rc = proto_msg_open(plain, sizeof plain, msg->u.msg.enc,
	    msg->u.msg.enc_len, msg->u.msg.msg_id, q->shared, &ts, &flags, &b,
	    &len);
	if (rc != 0)
		return rc;
	if (len > cap)
		return NOID_ERR_TOOBIG;
	memcpy(body, b, len);
	return (int)len;
}
