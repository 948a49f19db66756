/*
 * Tests for net/agent-msg.c: the per-queue box (fixed size, wrong key
 * and any flipped bit refused), the handshake messages and every agent
 * message type round-trip, truncated or extended encodings are refused,
 * and the integrity check classifies numbers and chain links.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "agent-int.h"

Test(agent_msg, box_roundtrip_fixed_size)
{
	uint8_t key[32], other[32], body[AGENT_BODY], work[AGENT_BOX_PAD];
	const uint8_t *inner;
	size_t ilen, sizes[] = {1, 100, AGENT_INNER_MAX}, i;
	uint8_t *msg = xmalloc(AGENT_INNER_MAX);

	randombytes_buf(key, sizeof key);
	randombytes_buf(other, sizeof other);
	randombytes_buf(msg, AGENT_INNER_MAX);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		cr_assert_eq(agent_box_seal(key, msg, sizes[i], body), 0);
		cr_assert_eq(
		    agent_box_open(key, body, sizeof body, work, &inner, &ilen),
		    0);
		cr_assert_eq(ilen, sizes[i]);
		cr_assert_arr_eq(inner, msg, ilen);
		cr_assert_eq(agent_box_open(
		                 other, body, sizeof body, work, &inner, &ilen),
		    NOID_ERR_CRYPTO);
	}
	cr_assert_eq(agent_box_seal(key, msg, AGENT_INNER_MAX + 1, body),
	    NOID_ERR_TOOBIG);
	/* A flipped bit anywhere past the version byte is refused. */
	cr_assert_eq(agent_box_seal(key, msg, 10, body), 0);
	for (i = 1; i < AGENT_BODY; i += 997) {
		body[i] ^= 0x10;
		cr_assert_neq(
		    agent_box_open(key, body, sizeof body, work, &inner, &ilen),
		    0, "flip at %zu", i);
		body[i] ^= 0x10;
	}
	body[0] = 2;
	cr_assert_eq(
	    agent_box_open(key, body, sizeof body, work, &inner, &ilen),
	    NOID_ERR_VERSION);
	cr_assert_eq(
	    agent_box_open(key, body, sizeof body - 1, work, &inner, &ilen),
	    NOID_ERR_PROTO);
	free(msg);
}

Test(agent_msg, link_keys_distinct_and_stable)
{
	uint8_t lk[AGENT_INVITE_KEY_LEN] = {1};
	struct agent_link_keys a, b;

	agent_link_keys(lk, &a);
	agent_link_keys(lk, &b);
	cr_assert_arr_eq(&a, &b, sizeof a);
	cr_assert_arr_neq(a.request, a.confirm, 32);
	cr_assert_arr_neq(a.request, a.ctx, 32);
	lk[0] = 2;
	agent_link_keys(lk, &b);
	cr_assert_arr_neq(a.request, b.request, 32);
}

/* Every strict prefix and a one-byte extension must fail to decode. */
static void
check_prefixes(const struct buf *b, int (*dec)(const uint8_t *, size_t, void *),
    void *scratch)
{
	uint8_t *ext = xmalloc(b->len + 1);
	size_t i;

	for (i = 0; i < b->len; i++)
		cr_assert_neq(dec(b->data, i, scratch), 0, "prefix %zu", i);
	memcpy(ext, b->data, b->len);
	ext[b->len] = 0;
	cr_assert_neq(dec(ext, b->len + 1, scratch), 0, "extended");
	free(ext);
}

static int
dec_request(const uint8_t *p, size_t len, void *out)
{
	return agent_request_decode(p, len, out);
}

static int
dec_confirm(const uint8_t *p, size_t len, void *out)
{
	return agent_confirm_decode(p, len, out);
}

static int
dec_msg(const uint8_t *p, size_t len, void *out)
{
	return agent_msg_decode(p, len, out);
}

Test(agent_msg, request_confirm_roundtrip)
{
	struct agent_request r, r2;
	struct agent_confirm c, c2;
	struct buf b;

	memset(&r, 0, sizeof r);
	randombytes_buf(r.offer, sizeof r.offer);
	snprintf(r.reply.relay, sizeof r.reply.relay,
	    "noid://AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@[::1]:5223");
	randombytes_buf(r.reply.sid, sizeof r.reply.sid);
	randombytes_buf(r.reply_box, 32);
	randombytes_buf(r.send_box, 32);
	randombytes_buf(r.send_auth, 32);
	snprintf(r.name, sizeof r.name, "Bob \xe2\x9c\x93");
	buf_init(&b);
	agent_request_encode(&r, &b);
	cr_assert_eq(agent_request_decode(b.data, b.len, &r2), 0);
	cr_assert_arr_eq(&r, &r2, sizeof r);
	check_prefixes(&b, dec_request, &r2);
	/* An empty name is refused. */
	r.name[0] = '\0';
	buf_reset(&b);
	agent_request_encode(&r, &b);
	cr_assert_eq(agent_request_decode(b.data, b.len, &r2), NOID_ERR_PROTO);

	memset(&c, 0, sizeof c);
	randombytes_buf(&c, sizeof c);
	buf_reset(&b);
	agent_confirm_encode(&c, &b);
	cr_assert_eq(agent_confirm_decode(b.data, b.len, &c2), 0);
	cr_assert_arr_eq(&c, &c2, sizeof c);
	check_prefixes(&b, dec_confirm, &c2);
	/* A REQUEST is not a CONFIRM. */
	b.data[0] = AGENT_INNER_REQUEST;
	cr_assert_eq(agent_confirm_decode(b.data, b.len, &c2), NOID_ERR_PROTO);
	buf_free(&b);
}

Test(agent_msg, every_type_roundtrips)
{
	static const int types[] = {AGENT_MSG_HELLO, AGENT_MSG_PROFILE,
	    AGENT_MSG_TEXT, AGENT_MSG_RCVD, AGENT_MSG_QADD, AGENT_MSG_QKEY,
	    AGENT_MSG_QUSE, AGENT_MSG_QEND, AGENT_MSG_REKEY, AGENT_MSG_REKEYED,
	    AGENT_MSG_DELETE};
	struct agent_msg m, m2;
	struct buf b, b2;
	size_t i;

	buf_init(&b);
	buf_init(&b2);
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		memset(&m, 0, sizeof m);
		m.type = types[i];
		snprintf(m.name, sizeof m.name, "Alice");
		snprintf(m.status, sizeof m.status, "away");
		m.seq = 42;
		m.ts_ms = 1700000000000ULL;
		randombytes_buf(m.prev_hash, sizeof m.prev_hash);
		randombytes_buf(m.id, sizeof m.id);
		m.text = "hello, world";
		m.text_len = strlen(m.text);
		randombytes_buf(m.hash, sizeof m.hash);
		snprintf(m.q.relay, sizeof m.q.relay, "noid://K@relay:1");
		randombytes_buf(m.q.sid, sizeof m.q.sid);
		randombytes_buf(m.box, sizeof m.box);
		randombytes_buf(m.auth, sizeof m.auth);
		randombytes_buf(m.kex, sizeof m.kex);
		buf_reset(&b);
		agent_msg_encode(&m, &b);
		cr_assert_eq(
		    agent_msg_decode(b.data, b.len, &m2), 0, "type %d", m.type);
		cr_assert_eq(m2.type, m.type);
		/* Re-encoding the decoded message gives the same bytes. */
		buf_reset(&b2);
		agent_msg_encode(&m2, &b2);
		cr_assert_eq(b2.len, b.len);
		cr_assert_arr_eq(b2.data, b.data, b.len);
		check_prefixes(&b, dec_msg, &m2);
	}
	/* Unknown type, unknown version. */
	b.data[1] = 0x7f;
	cr_assert_eq(agent_msg_decode(b.data, b.len, &m2), NOID_ERR_PROTO);
	b.data[0] = 9;
	cr_assert_eq(agent_msg_decode(b.data, b.len, &m2), NOID_ERR_VERSION);
	buf_free(&b);
	buf_free(&b2);
}

Test(agent_msg, text_limits)
{
	struct agent_msg m, m2;
	struct buf b;
	char *big = xmalloc(AGENT_TEXT_MAX + 1);

	memset(big, 'x', AGENT_TEXT_MAX + 1);
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_TEXT;
	m.seq = 1;
	m.text = big;
	m.text_len = AGENT_TEXT_MAX;
	buf_init(&b);
	agent_msg_encode(&m, &b);
	cr_assert_leq(b.len, E2E_MAX_PAYLOAD,
	    "max text must fit a ratchet "
	    "message");
	cr_assert_eq(agent_msg_decode(b.data, b.len, &m2), 0);
	buf_reset(&b);
	m.text_len = AGENT_TEXT_MAX + 1;
	agent_msg_encode(&m, &b);
	cr_assert_eq(agent_msg_decode(b.data, b.len, &m2), NOID_ERR_PROTO);
	/* seq 0 is never valid; a NUL inside text is refused. */
	buf_reset(&b);
	m.text_len = 3;
	m.seq = 0;
	agent_msg_encode(&m, &b);
	cr_assert_eq(agent_msg_decode(b.data, b.len, &m2), NOID_ERR_PROTO);
	buf_reset(&b);
	m.seq = 1;
	m.text = "a\0b";
	agent_msg_encode(&m, &b);
	cr_assert_eq(agent_msg_decode(b.data, b.len, &m2), NOID_ERR_PROTO);
	buf_free(&b);
	free(big);
}

Test(agent_msg, integrity)
{
	uint8_t h1[32], h2[32];
	uint64_t from, to;

	randombytes_buf(h1, sizeof h1);
	randombytes_buf(h2, sizeof h2);
	cr_assert_eq(agent_integrity_check(0, h1, 1, h1, &from, &to), 0);
	cr_assert_eq(agent_integrity_check(5, h1, 6, h1, &from, &to), 0);
	cr_assert_eq(agent_integrity_check(5, h1, 6, h2, &from, &to),
	    AGENT_INTEGRITY_BAD_HASH);
	cr_assert_eq(agent_integrity_check(5, h1, 9, h2, &from, &to),
	    AGENT_INTEGRITY_SKIPPED);
	cr_assert_eq(from, 6);
	cr_assert_eq(to, 8);
	cr_assert_eq(agent_integrity_check(5, h1, 5, h1, &from, &to),
	    AGENT_INTEGRITY_BAD_ID);
	cr_assert_eq(agent_integrity_check(5, h1, 2, h1, &from, &to),
	    AGENT_INTEGRITY_BAD_ID);
	cr_assert_eq(agent_integrity_check(
	                 UINT64_MAX - 1, h1, UINT64_MAX, h1, &from, &to),
	    0);
}
