/*
 * Tests for net/transport: handshakes over a socketpair in both roles,
 * blocks both ways, refusals, wrong keys, tampering, trickled bytes, the
 * bounded output queue and the idle memory footprint.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <sodium.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base.h"
#include "noise.h"
#include "transport.h"

struct side {
	struct transport *t;
	int hs_done;
	int blocks;
	int error;
	uint8_t last[NOID_BLOCK_PLAIN];
};

static uint8_t relay_priv[32], relay_pub[32];

static void
keys(void)
{
	noise_keypair(relay_priv, relay_pub);
}

/* Read everything one side has, recording events. */
static void
side_read(struct side *s)
{
	enum transport_event ev;
	const uint8_t *block;
	int error;

	if (s->t == NULL || s->error != 0)
		return;
	for (;;) {
		error = transport_on_readable(s->t, &ev, &block);
		if (error != 0) {
			s->error = error;
			return;
		}
		if (ev == TRANSPORT_EV_NONE)
			return;
		if (ev == TRANSPORT_EV_HANDSHAKE)
			s->hs_done = 1;
		if (ev == TRANSPORT_EV_BLOCK) {
			s->blocks++;
			memcpy(s->last, block, NOID_BLOCK_PLAIN);
		}
	}
}

/* Drive both sides with poll until nothing moves for a while. */
static void
pump(struct side *a, struct side *b)
{
	struct side *sides[2] = {a, b};
	struct pollfd pfd[2];
	int i, n, rounds;

	for (rounds = 0; rounds < 200; rounds++) {
		for (i = 0; i < 2; i++) {
			pfd[i].fd = -1;
			pfd[i].events = POLLIN;
			if (sides[i]->t == NULL || sides[i]->error != 0)
				continue;
			pfd[i].fd = transport_fd(sides[i]->t);
			if (transport_wants_write(sides[i]->t))
				pfd[i].events |= POLLOUT;
		}
		n = poll(pfd, 2, 200);
		cr_assert_geq(n, 0);
		if (n == 0)
			return;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0)
				continue;
			if (pfd[i].revents & POLLOUT) {
				int error = transport_on_writable(sides[i]->t);
				if (error != 0)
					sides[i]->error = error;
			}
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				side_read(sides[i]);
		}
	}
}

static void
pair_new(struct side *c, struct side *s, const uint8_t *pin, uint16_t cmin,
    uint16_t cmax, uint16_t smin, uint16_t smax)
{
	int sv[2];

	memset(c, 0, sizeof *c);
	memset(s, 0, sizeof *s);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c->t = transport_new_client(sv[0], pin, cmin, cmax);
	s->t = transport_new_server(sv[1], relay_priv, relay_pub, smin, smax);
}

Test(transport, handshake_and_blocks, .init = keys)
{
	uint8_t block[NOID_BLOCK_PLAIN], check[32];
	struct side c, s;
	int i;

	pair_new(&c, &s, relay_pub, 1, 3, 1, 2);
	pump(&c, &s);
	cr_assert_eq(c.error, 0, "%s", noid_strerror(c.error));
	cr_assert_eq(s.error, 0);
	cr_assert(c.hs_done && s.hs_done);
	cr_assert(transport_established(c.t));
	cr_assert_eq(transport_version(c.t), 2);
	cr_assert_eq(transport_version(s.t), 2);
	cr_assert(memcmp(transport_session_id(c.t), transport_session_id(s.t),
	              32) == 0);
	/* The client got the public half of the server's session secret. */
	crypto_scalarmult_base(check, transport_session_auth_secret(s.t));
	cr_assert(memcmp(check, transport_session_auth_pub(c.t), 32) == 0);
	cr_assert_null(transport_session_auth_pub(s.t));
	cr_assert_null(transport_session_auth_secret(c.t));

	for (i = 0; i < 3; i++) {
		randombytes_buf(block, sizeof block);
		cr_assert_eq(transport_queue_block(c.t, block), 0);
		pump(&c, &s);
		cr_assert_eq(s.blocks, i + 1);
		cr_assert(memcmp(s.last, block, sizeof block) == 0);
		block[0] ^= 0xff;
		cr_assert_eq(transport_queue_block(s.t, block), 0);
		pump(&c, &s);
		cr_assert_eq(c.blocks, i + 1);
		cr_assert(memcmp(c.last, block, sizeof block) == 0);
	}
	transport_free(c.t);
	transport_free(s.t);
}

Test(transport, idle_connection_is_small, .init = keys)
{
	uint8_t block[NOID_BLOCK_PLAIN] = {0};
	struct side c, s;

	pair_new(&c, &s, relay_pub, 1, 1, 1, 1);
	pump(&c, &s);
	cr_assert(s.hs_done);
	cr_assert_eq(transport_queue_block(c.t, block), 0);
	pump(&c, &s);
	cr_assert_eq(s.blocks, 1);
	/* The handed-over block is released by the next read attempt. */
	side_read(&s);
	cr_assert_lt(transport_mem(s.t), 1024, "idle server holds %zu bytes",
	    transport_mem(s.t));
	cr_assert(!transport_wants_write(s.t));
	transport_free(c.t);
	transport_free(s.t);
}

Test(transport, wrong_relay_key, .init = keys)
{
	uint8_t other_priv[32], other_pub[32];
	struct side c, s;

	noise_keypair(other_priv, other_pub);
	pair_new(&c, &s, other_pub, 1, 1, 1, 1);
	pump(&c, &s);
	cr_assert_eq(s.error, NOID_ERR_CRYPTO);
	cr_assert(!c.hs_done);
	/* The server side is closed by its owner; the client then sees EOF. */
	transport_free(s.t);
	s.t = NULL;
	pump(&c, &s);
	cr_assert_eq(c.error, NOID_ERR_KEY, "%s", noid_strerror(c.error));
	transport_free(c.t);
}

Test(transport, version_mismatch, .init = keys)
{
	struct side c, s;

	pair_new(&c, &s, relay_pub, 3, 4, 1, 2);
	pump(&c, &s);
	cr_assert_eq(c.error, NOID_ERR_VERSION);
	cr_assert_eq(s.error, NOID_ERR_CLOSED);
	cr_assert(!s.hs_done);
	transport_free(c.t);
	transport_free(s.t);
}

Test(transport, relay_full, .init = keys)
{
	struct side c, s;

	pair_new(&c, &s, relay_pub, 1, 1, 1, 1);
	transport_refuse(s.t, TRANSPORT_STATUS_FULL);
	pump(&c, &s);
	cr_assert_eq(c.error, NOID_ERR_LIMIT);
	cr_assert_eq(s.error, NOID_ERR_CLOSED);
	transport_free(c.t);
	transport_free(s.t);
}

Test(transport, tampered_block_fails, .init = keys)
{
	uint8_t frame[NOID_BLOCK];
	struct side c, s;
	int sv[2], i;
	ssize_t n;

	/* The client talks to a raw socket we forward by hand. */
	memset(&c, 0, sizeof c);
	memset(&s, 0, sizeof s);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c.t = transport_new_client(sv[0], relay_pub, 1, 1);
	int sv2[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
	s.t = transport_new_server(sv2[1], relay_priv, relay_pub, 1, 1);
	/* msg1: forward one byte at a time (a trickling client). */
	cr_assert_eq(transport_on_writable(c.t), 0);
	n = read(sv[1], frame, sizeof frame);
	cr_assert_eq(n, TRANSPORT_HS_MSG);
	for (i = 0; i < n; i++) {
		cr_assert_eq(write(sv2[0], frame + i, 1), 1);
		side_read(&s);
		cr_assert_eq(s.hs_done, i == n - 1);
	}
	cr_assert_eq(s.error, 0);
	n = read(sv2[0], frame, sizeof frame);
	cr_assert_eq(n, TRANSPORT_HS_MSG);
	cr_assert_eq(write(sv[1], frame, (size_t)n), n);
	side_read(&c);
	cr_assert(c.hs_done);
	/* One block with one flipped bit. */
	memset(frame, 7, NOID_BLOCK_PLAIN);
	cr_assert_eq(transport_queue_block(c.t, frame), 0);
	n = read(sv[1], frame, sizeof frame);
	cr_assert_eq(n, NOID_BLOCK);
	frame[100] ^= 4;
	cr_assert_eq(write(sv2[0], frame, (size_t)n), n);
	side_read(&s);
	cr_assert_eq(s.error, NOID_ERR_CRYPTO);
	close(sv[1]);
	close(sv2[0]);
	transport_free(c.t);
	transport_free(s.t);
}

Test(transport, truncated_handshake_closes, .init = keys)
{
	uint8_t junk[50] = {1};
	struct side s;
	int sv[2];

	memset(&s, 0, sizeof s);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s.t = transport_new_server(sv[1], relay_priv, relay_pub, 1, 1);
	cr_assert_eq(write(sv[0], junk, sizeof junk), (ssize_t)sizeof junk);
	side_read(&s);
	cr_assert_eq(s.error, 0);
	cr_assert(!s.hs_done);
	close(sv[0]);
	side_read(&s);
	cr_assert_eq(s.error, NOID_ERR_CLOSED);
	transport_free(s.t);
}

Test(transport, garbage_msg1_rejected, .init = keys)
{
	uint8_t junk[TRANSPORT_HS_MSG];
	struct side s;
	int sv[2];

	memset(&s, 0, sizeof s);
	randombytes_buf(junk, sizeof junk);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	s.t = transport_new_server(sv[1], relay_priv, relay_pub, 1, 1);
	cr_assert_eq(write(sv[0], junk, sizeof junk), (ssize_t)sizeof junk);
	side_read(&s);
	cr_assert_eq(s.error, NOID_ERR_CRYPTO);
	close(sv[0]);
	transport_free(s.t);
}

Test(transport, output_queue_is_bounded, .init = keys)
{
	uint8_t block[NOID_BLOCK_PLAIN] = {0};
	struct side c, s;
	int i, error = 0;

	pair_new(&c, &s, relay_pub, 1, 1, 1, 1);
	pump(&c, &s);
	cr_assert(s.hs_done);
	transport_set_out_max(s.t, 2);
	/* The client never reads: the socket buffer fills, then the queue. */
	for (i = 0; i < 1000 && error == 0; i++)
		error = transport_queue_block(s.t, block);
	cr_assert_eq(error, NOID_ERR_AGAIN);
	cr_assert(transport_wants_write(s.t));
	cr_assert(!transport_can_queue(s.t, 1));
	cr_assert_leq(transport_mem(s.t), 2 * (NOID_BLOCK + 64) + 1024);
	transport_free(c.t);
	transport_free(s.t);
}

Test(transport, blocks_before_handshake_refused, .init = keys)
{
	uint8_t block[NOID_BLOCK_PLAIN] = {0};
	struct side c, s;

	pair_new(&c, &s, relay_pub, 1, 1, 1, 1);
	cr_assert_eq(transport_queue_block(c.t, block), NOID_ERR_STATE);
	cr_assert_eq(transport_queue_block(s.t, block), NOID_ERR_STATE);
	transport_free(c.t);
	transport_free(s.t);
}

Test(transport, low_order_relay_key_fails_cleanly, .init = keys)
{
	uint8_t low[32] = {1};
	enum transport_event ev;
	const uint8_t *block;
	struct transport *t;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	t = transport_new_client(sv[0], low, 1, 1);
	cr_assert(transport_wants_write(t));
	cr_assert_eq(transport_on_writable(t), NOID_ERR_KEY);
	cr_assert_eq(transport_on_readable(t, &ev, &block), NOID_ERR_KEY);
	transport_free(t);
	close(sv[1]);
}

/* Corked, blocks queue but none reaches the socket; uncorked, all do. */
Test(transport, cork_holds_output, .init = keys)
{
	uint8_t block[NOID_BLOCK_PLAIN];
	struct side c, s;
	int i, n;

	pair_new(&c, &s, relay_pub, 1, 1, 1, 1);
	pump(&c, &s);
	cr_assert(c.hs_done && s.hs_done);
	cr_assert_eq(transport_set_cork(c.t, 1), 0);
	for (i = 0; i < 3; i++) {
		memset(block, i + 1, sizeof block);
		cr_assert_eq(transport_queue_block(c.t, block), 0);
	}
	cr_assert(!transport_wants_write(c.t));
	/* Nothing was written: the peer's socket has no byte to read. */
	cr_assert_eq(ioctl(transport_fd(s.t), FIONREAD, &n), 0);
	cr_assert_eq(n, 0);
	pump(&c, &s);
	cr_assert_eq(s.blocks, 0);
	cr_assert_eq(transport_set_cork(c.t, 0), 0);
	pump(&c, &s);
	cr_assert_eq(s.blocks, 3);
	cr_assert_eq(s.last[0], 3, "blocks arrive in order");
	transport_free(c.t);
	transport_free(s.t);
}
