/*
 * transport: the relay connection state machine (PROTOCOL.md §2).
 *
 *	client: queue msg1 -> read msg2 -> OPEN
 *	server: read msg1 -> queue msg2 -> OPEN (or CLOSING when refusing)
 *
 * Frames have fixed sizes (TRANSPORT_HS_MSG during the handshake, then
 * NOID_BLOCK), so reading never needs a length prefix: the receive
 * buffer is exactly one frame, allocated at the first byte and freed
 * once the frame has been handed over.  Output is a short list of whole
 * frames; a partial write keeps its offset.
 */
#include "transport.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base.h"
#include "noise.h"

enum transport_state {
	TRANSPORT_WAIT_MSG1, /* server: waiting for the client's msg1 */
	TRANSPORT_WAIT_MSG2, /* client: msg1 queued, waiting for msg2 */
	TRANSPORT_OPEN, /* blocks flow both ways */
	TRANSPORT_CLOSING, /* server refused: flush msg2, then close */
	TRANSPORT_FAILED /* client: the relay key is unusable */
};

/* One queued output frame. */
struct transport_out {
	struct transport_out *next;
	size_t len;
	size_t off;
	uint8_t data[];
};

struct transport {
	int fd;
	int server;
	enum transport_state state;
	enum transport_status refuse;
	struct noise_hs *hs;
	struct noise_cipher *send;
	struct noise_cipher *recv;
	uint16_t vmin;
	uint16_t vmax;
	uint16_t version;
	uint8_t session_id[NOID_SESSION_ID_LEN];
	/* Server: the session auth secret; client: the relay's public. */
	uint8_t auth_key[NOID_KEY_LEN];
	uint8_t *rbuf;
	size_t rlen;
	size_t rbuf_size;
	int rbuf_handed;
	struct transport_out *out_head;
	struct transport_out *out_tail;
	size_t out_count;
	size_t out_max;
	int corked; /* queue output, write none (transport_set_cork) */
	uint64_t last_rx_ms;
};

/* Common constructor. */
static struct transport *
transport_new(int fd, int server, uint16_t vmin, uint16_t vmax)
{
	struct transport *t;

	(void)fd_set_nonblock(fd);
	t = xcalloc(1, sizeof *t);
	t->fd = fd;
	t->server = server;
	t->vmin = vmin;
	t->vmax = vmax;
	t->out_max = TRANSPORT_OUT_MAX_DEFAULT;
	t->last_rx_ms = clock_mono_ms();
	return t;
}

/* Queue a frame (copied).  The caller checked the bound if it matters. */
static uint8_t *
transport_out_push(struct transport *t, size_t len)
{
	struct transport_out *o;

	o = xmalloc(sizeof *o + len);
	o->next = NULL;
	o->len = len;
	o->off = 0;
	if (t->out_tail != NULL)
		t->out_tail->next = o;
	else
		t->out_head = o;
	t->out_tail = o;
	t->out_count++;
	return o->data;
}

/* Drop the head frame once written. */
static void
transport_out_pop(struct transport *t)
{
	struct transport_out *o = t->out_head;

	t->out_head = o->next;
	if (t->out_head == NULL)
		t->out_tail = NULL;
	t->out_count--;
	free(o);
}

/* Write as much as the socket takes. */
static int
transport_flush(struct transport *t)
{
	struct transport_out *o;
	ssize_t n;

	if (t->state == TRANSPORT_FAILED)
		return NOID_ERR_KEY;
	if (t->corked)
		return 0;
	while ((o = t->out_head) != NULL) {
		n = send(
		    t->fd, o->data + o->off, o->len - o->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOTCONN)
				return 0;
			if (errno == EPIPE || errno == ECONNRESET)
				return NOID_ERR_CLOSED;
			return NOID_ERR_IO;
		}
		o->off += (size_t)n;
		if (o->off == o->len)
			transport_out_pop(t);
	}
	if (t->state == TRANSPORT_CLOSING)
		return NOID_ERR_CLOSED;
	return 0;
}

/* Server transport. */
struct transport *
transport_new_server(int fd, const uint8_t static_priv[32],
    const uint8_t static_pub[32], uint16_t vmin, uint16_t vmax)
{
	struct transport *t;

	t = transport_new(fd, 1, vmin, vmax);
	t->state = TRANSPORT_WAIT_MSG1;
	t->hs = noise_hs_new_responder(TRANSPORT_PROLOGUE,
	    sizeof TRANSPORT_PROLOGUE - 1, static_priv, static_pub);
	return t;
}

/* Refuse the handshake with a status. */
void
transport_refuse(struct transport *t, enum transport_status status)
{
	t->refuse = status;
}

/* Client transport: queue msg1 now. */
struct transport *
transport_new_client(
    int fd, const uint8_t relay_pub[32], uint16_t vmin, uint16_t vmax)
{
	uint8_t payload[TRANSPORT_HS_PAYLOAD] = {0}, msg1[TRANSPORT_HS_MSG];
	struct transport *t;
	size_t n;

	t = transport_new(fd, 0, vmin, vmax);
	t->state = TRANSPORT_WAIT_MSG2;
	t->hs = noise_hs_new_initiator(
	    TRANSPORT_PROLOGUE, sizeof TRANSPORT_PROLOGUE - 1, relay_pub);
	memcpy(payload, TRANSPORT_MAGIC, 4);
	be16_put(payload + 4, vmin);
	be16_put(payload + 6, vmax);
	/* Only a low-order relay key makes this fail: report it as the
	 * key's fault at the first event rather than abort. */
	if (noise_hs_write(
	        t->hs, payload, sizeof payload, msg1, sizeof msg1, &n) != 0) {
		t->state = TRANSPORT_FAILED;
		return t;
	}
	memcpy(transport_out_push(t, TRANSPORT_HS_MSG), msg1, n);
	return t;
}

/* Handshake done: keep the ciphers and the session id, drop hs. */
static int
transport_finish(struct transport *t)
{
	int error;

	if ((error = noise_hs_split(t->hs, &t->send, &t->recv)) != 0)
		return error;
	memcpy(t->session_id, noise_hs_hash(t->hs), NOID_SESSION_ID_LEN);
	noise_hs_free(t->hs);
	t->hs = NULL;
	t->state = TRANSPORT_OPEN;
	return 0;
}

/* Server: msg1 read; answer with msg2. */
static int
transport_server_msg1(struct transport *t, enum transport_event *ev)
{
	uint8_t in[TRANSPORT_HS_PAYLOAD], out[TRANSPORT_HS_PAYLOAD] = {0};
	uint8_t auth_pub[NOID_KEY_LEN];
	uint16_t cmin, cmax, v = 0;
	enum transport_status status = t->refuse;
	size_t n;
	int error;

	error =
	    noise_hs_read(t->hs, t->rbuf, TRANSPORT_HS_MSG, in, sizeof in, &n);
	if (error != 0)
		return error;
	if (n != TRANSPORT_HS_PAYLOAD || memcmp(in, TRANSPORT_MAGIC, 4) != 0)
		return NOID_ERR_PROTO;
	cmin = be16_get(in + 4);
	cmax = be16_get(in + 6);
	/* The highest version both ranges contain. */
	v = cmax < t->vmax ? cmax : t->vmax;
	if (status == TRANSPORT_STATUS_OK &&
	    (cmin > cmax || v < cmin || v < t->vmin))
		status = TRANSPORT_STATUS_VERSION;
	out[0] = (uint8_t)status;
	if (status == TRANSPORT_STATUS_OK) {
		t->version = v;
		be16_put(out + 1, v);
		noise_keypair(t->auth_key, auth_pub);
		memcpy(out + 5, auth_pub, NOID_KEY_LEN);
	} else
		be16_put(out + 1, t->vmax);
	be16_put(out + 3, NOID_BLOCK);
	error = noise_hs_write(t->hs, out, sizeof out,
	    transport_out_push(t, TRANSPORT_HS_MSG), TRANSPORT_HS_MSG, &n);
	if (error != 0)
		return error;
	if (status != TRANSPORT_STATUS_OK) {
		t->state = TRANSPORT_CLOSING;
		noise_hs_free(t->hs);
		t->hs = NULL;
		return transport_flush(t);
	}
	if ((error = transport_finish(t)) != 0)
		return error;
	*ev = TRANSPORT_EV_HANDSHAKE;
	return transport_flush(t);
}

/* Client: msg2 read. */
static int
transport_client_msg2(struct transport *t, enum transport_event *ev)
{
	uint8_t in[TRANSPORT_HS_PAYLOAD];
	uint16_t v;
	size_t n;

	/* Only the pinned relay key can produce a msg2 that decrypts. */
	if (noise_hs_read(
	        t->hs, t->rbuf, TRANSPORT_HS_MSG, in, sizeof in, &n) != 0)
		return NOID_ERR_KEY;
	if (n != TRANSPORT_HS_PAYLOAD)
		return NOID_ERR_PROTO;
	switch (in[0]) {
	case TRANSPORT_STATUS_OK:
		break;
	case TRANSPORT_STATUS_VERSION:
		return NOID_ERR_VERSION;
	case TRANSPORT_STATUS_FULL:
		return NOID_ERR_LIMIT;
	default:
		return NOID_ERR_PROTO;
	}
	v = be16_get(in + 1);
	if (v < t->vmin || v > t->vmax || be16_get(in + 3) != NOID_BLOCK)
		return NOID_ERR_PROTO;
	t->version = v;
	memcpy(t->auth_key, in + 5, NOID_KEY_LEN);
	*ev = TRANSPORT_EV_HANDSHAKE;
	return transport_finish(t);
}

/* Release the receive buffer. */
static void
transport_rbuf_free(struct transport *t)
{
	if (t->rbuf != NULL && t->rbuf_handed)
		sodium_memzero(t->rbuf, t->rbuf_size);
	free(t->rbuf);
	t->rbuf = NULL;
	t->rlen = 0;
	t->rbuf_size = 0;
	t->rbuf_handed = 0;
}

/* A read error or EOF, as the caller should see it. */
static int
transport_read_error(struct transport *t, ssize_t n)
{
	int closed = n == 0 || errno == ECONNRESET || errno == EPIPE;

	/* A relay that cannot decrypt msg1 (wrong key) just hangs up. */
	if (!t->server && t->state == TRANSPORT_WAIT_MSG2 && closed)
		return NOID_ERR_KEY;
	return closed ? NOID_ERR_CLOSED : NOID_ERR_IO;
}

/* Refusing: swallow what the client still sends so POLLIN cannot spin. */
static int
transport_discard(struct transport *t)
{
	uint8_t junk[512];
	ssize_t n;

	do
		n = read(t->fd, junk, sizeof junk);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	return n > 0 ? 0 : transport_read_error(t, n);
}

/* Read and process at most one frame. */
int
transport_on_readable(
    struct transport *t, enum transport_event *ev, const uint8_t **block)
{
	size_t need;
	ssize_t n;
	int error;

	*ev = TRANSPORT_EV_NONE;
	*block = NULL;
	if (t->rbuf_handed)
		transport_rbuf_free(t);
	if (t->state == TRANSPORT_FAILED)
		return NOID_ERR_KEY;
	if (t->state == TRANSPORT_CLOSING)
		return transport_discard(t);
	need = t->state == TRANSPORT_OPEN ? NOID_BLOCK : TRANSPORT_HS_MSG;
	if (t->rbuf == NULL) {
		t->rbuf = xmalloc(need);
		t->rbuf_size = need;
	}
	do
		n = read(t->fd, t->rbuf + t->rlen, need - t->rlen);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		if (t->rlen == 0)
			transport_rbuf_free(t);
		return 0;
	}
	if (n <= 0)
		return transport_read_error(t, n);
	t->rlen += (size_t)n;
	if (t->rlen < need)
		return 0;
	t->last_rx_ms = clock_mono_ms();
	switch (t->state) {
	case TRANSPORT_WAIT_MSG1:
		error = transport_server_msg1(t, ev);
		break;
	case TRANSPORT_WAIT_MSG2:
		error = transport_client_msg2(t, ev);
		break;
	default:
		error = noise_cipher_decrypt(
		    t->recv, NULL, 0, t->rbuf, NOID_BLOCK, t->rbuf);
		if (error != 0)
			return error;
		*ev = TRANSPORT_EV_BLOCK;
		*block = t->rbuf;
		t->rbuf_handed = 1;
		return 0;
	}
	transport_rbuf_free(t);
	return error;
}

/* Flush. */
int
transport_on_writable(struct transport *t)
{
	return transport_flush(t);
}

/* Output pending? */
int
transport_wants_write(const struct transport *t)
{
	/* A failed client asks for POLLOUT so the loop sees the error. */
	return (t->out_head != NULL && !t->corked) ||
	    t->state == TRANSPORT_FAILED;
}

/* Hold output back, or write what was held. */
int
transport_set_cork(struct transport *t, int on)
{
	t->corked = on;
	return on ? 0 : transport_flush(t);
}

/* Room for n more blocks? */
int
transport_can_queue(const struct transport *t, size_t n)
{
	return t->out_count + n <= t->out_max;
}

/* Set the output bound. */
void
transport_set_out_max(struct transport *t, size_t max)
{
	t->out_max = max == 0 ? 1 : max;
}

/* Encrypt and queue one block. */
int
transport_queue_block(struct transport *t, const uint8_t *plain)
{
	uint8_t *frame;
	int error;

	if (t->state != TRANSPORT_OPEN)
		return NOID_ERR_STATE;
	if (!transport_can_queue(t, 1))
		return NOID_ERR_AGAIN;
	frame = transport_out_push(t, NOID_BLOCK);
	error = noise_cipher_encrypt(
	    t->send, NULL, 0, plain, NOID_BLOCK_PLAIN, frame);
	if (error != 0)
		return error;
	return transport_flush(t);
}

/* Established? */
int
transport_established(const struct transport *t)
{
	return t->state == TRANSPORT_OPEN;
}

/* The fd. */
int
transport_fd(const struct transport *t)
{
	return t->fd;
}

/* Negotiated version. */
uint16_t
transport_version(const struct transport *t)
{
	return t->version;
}

/* Session id. */
const uint8_t *
transport_session_id(const struct transport *t)
{
	return t->session_id;
}

/* Client: the relay's session auth public key. */
const uint8_t *
transport_session_auth_pub(const struct transport *t)
{
	return t->server ? NULL : t->auth_key;
}

/* Server: the session auth secret. */
const uint8_t *
transport_session_auth_secret(const struct transport *t)
{
	return t->server ? t->auth_key : NULL;
}

/* Last frame received. */
uint64_t
transport_last_rx_ms(const struct transport *t)
{
	return t->last_rx_ms;
}

/* Heap bytes held (malloc overhead aside). */
size_t
transport_mem(const struct transport *t)
{
	const struct transport_out *o;
	size_t n = sizeof *t + t->rbuf_size;

	if (t->send != NULL)
		n += 2 * noise_cipher_sizeof();
	for (o = t->out_head; o != NULL; o = o->next)
		n += sizeof *o + o->len;
	return n;
}

/* Close and free. */
void
transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	noise_hs_free(t->hs);
	noise_cipher_free(t->send);
	noise_cipher_free(t->recv);
	t->rbuf_handed = 1;
	transport_rbuf_free(t);
	while (t->out_head != NULL)
		transport_out_pop(t);
	sodium_memzero(t, sizeof *t);
	free(t);
}
