/*
 * Tests for net/e2e-ratchet.c: conversations with many DH steps, any
 * delivery order within the skip bounds, replays, tampering (state must
 * stay byte-identical), crafted headers at the number limits, the
 * skipped-key caps, save/load, and no (key, nonce) reuse when sending.
 *
 * Crafted headers follow the wire layout documented in e2e.h.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define OFF_HNONCE 1
#define OFF_HEADER 25
#define OFF_BNONCE 81
#define OFF_BODY 105

/* The secrets a test pair was started from (what a kex would give). */
struct keys {
	uint8_t sk[E2E_KEY_SIZE], hka[E2E_KEY_SIZE], nhkb[E2E_KEY_SIZE];
	uint8_t ad[E2E_AD_SIZE], bpriv[E2E_KEY_SIZE], bpub[E2E_KEY_SIZE];
};

/* A deterministic generator for orders and choices (splitmix64). */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A uniform number below n. */
static size_t
rng_below(uint64_t *s, size_t n)
{
	return (size_t)(rng_next(s) % n);
}

/* Start an initiator a and a responder b from fresh random secrets. */
static void
pair_new(struct keys *k, struct e2e_ratchet **a, struct e2e_ratchet **b)
{
	randombytes_buf(k, sizeof *k);
	crypto_scalarmult_base(k->bpub, k->bpriv);
	cr_assert_eq(e2e_ratchet_init_initiator(
	                 k->sk, k->hka, k->nhkb, k->ad, k->bpub, a),
	    0);
	cr_assert_eq(e2e_ratchet_init_responder(
	                 k->sk, k->hka, k->nhkb, k->ad, k->bpriv, b),
	    0);
}

/* The payload for message tag: the tag, then bytes derived from it. */
static size_t
payload_for(uint32_t tag, uint8_t *p)
{
	size_t len = 4 + tag % 300, i;

	be32_put(p, tag);
	for (i = 4; i < len; i++)
		p[i] = (uint8_t)(tag * 31 + i);
	return len;
}

/* Encrypt message tag from r into a fresh buffer *out. */
static void
msg_make(struct e2e_ratchet *r, uint32_t tag, struct buf *out)
{
	uint8_t p[400];
	size_t len = payload_for(tag, p);

	buf_init(out);
	cr_assert_eq(e2e_ratchet_encrypt(r, NULL, 0, p, len, out), 0);
	cr_assert_eq(out->len, E2E_MSG_SIZE);
}

/* Decrypt ct; on success check the payload matches its tag. */
static int
msg_open(struct e2e_ratchet *r, const struct buf *ct, uint32_t *tag)
{
	uint8_t want[400];
	struct buf pt;
	int error;

	buf_init(&pt);
	error = e2e_ratchet_decrypt(r, NULL, 0, ct->data, ct->len, &pt);
	if (error == 0) {
		cr_assert_geq(pt.len, 4);
		*tag = be32_get(pt.data);
		cr_assert_eq(pt.len, payload_for(*tag, want));
		cr_assert(memcmp(pt.data, want, pt.len) == 0);
	} else
		cr_assert_eq(pt.len, 0);
	buf_free(&pt);
	return error;
}

/* Send tag from one side and expect the other to open it. */
static void
msg_pass(struct e2e_ratchet *from, struct e2e_ratchet *to, uint32_t tag)
{
	struct buf ct;
	uint32_t got = 0;

	msg_make(from, tag, &ct);
	cr_assert_eq(msg_open(to, &ct, &got), 0);
	cr_assert_eq(got, tag);
	buf_free(&ct);
}

/* The serialized state, into b (reset first). */
static void
snap(const struct e2e_ratchet *r, struct buf *b)
{
	buf_reset(b);
	e2e_ratchet_save(r, b);
}

/* Assert decrypting ct fails and leaves r byte-identical. */
static void
assert_refused(struct e2e_ratchet *r, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t ctlen, int want)
{
	struct buf before, after, pt;
	int error;

	buf_init(&before);
	buf_init(&after);
	buf_init(&pt);
	snap(r, &before);
	error = e2e_ratchet_decrypt(r, ad, adlen, ct, ctlen, &pt);
	cr_assert_neq(error, 0);
	if (want != 0)
		cr_assert_eq(error, want, "got %s, want %s",
		    noid_errname(error), noid_errname(want));
	cr_assert_eq(pt.len, 0);
	snap(r, &after);
	cr_assert_eq(before.len, after.len);
	cr_assert(memcmp(before.data, after.data, before.len) == 0);
	buf_free_secret(&before);
	buf_free_secret(&after);
	buf_free(&pt);
}

/* A message with a chosen header under hk and a random body. */
static void
craft(const struct keys *k, const uint8_t *hk, const uint8_t *dh, uint32_t pn,
    uint32_t n, struct buf *out)
{
	uint8_t hdr[E2E_HEADER_SIZE], had[1 + E2E_AD_SIZE], *m;

	buf_init(out);
	m = buf_append_space(out, E2E_MSG_SIZE);
	randombytes_buf(m, E2E_MSG_SIZE);
	m[0] = E2E_VERSION;
	memcpy(hdr, dh, E2E_KEY_SIZE);
	be32_put(hdr + 32, pn);
	be32_put(hdr + 36, n);
	had[0] = E2E_VERSION;
	memcpy(had + 1, k->ad, E2E_AD_SIZE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(m + OFF_HEADER, NULL, hdr,
	    sizeof hdr, had, sizeof had, NULL, m + OFF_HNONCE, hk);
}

/* The sender's ratchet key from a real message under header key hk. */
static void
header_dh(const struct keys *k, const uint8_t *hk, const struct buf *ct,
    uint8_t dh[E2E_KEY_SIZE])
{
	uint8_t hdr[E2E_HEADER_SIZE], had[1 + E2E_AD_SIZE];

	had[0] = E2E_VERSION;
	memcpy(had + 1, k->ad, E2E_AD_SIZE);
	cr_assert_eq(crypto_aead_xchacha20poly1305_ietf_decrypt(hdr, NULL, NULL,
	                 ct->data + OFF_HEADER, E2E_HEADER_SIZE + 16, had,
	                 sizeof had, ct->data + OFF_HNONCE, hk),
	    0);
	memcpy(dh, hdr, E2E_KEY_SIZE);
}

Test(e2e_ratchet, conversation_with_many_dh_steps)
{
	struct e2e_ratchet *a, *b;
	uint64_t s = 1;
	uint32_t tag = 0;
	struct keys k;
	int turn, i, n;

	pair_new(&k, &a, &b);
	for (turn = 0; turn < 300; turn++) {
		n = 1 + (int)rng_below(&s, 5);
		for (i = 0; i < n; i++)
			msg_pass(turn % 2 ? b : a, turn % 2 ? a : b, tag++);
	}
	cr_assert_eq(e2e_ratchet_skipped(a), 0);
	cr_assert_eq(e2e_ratchet_skipped(b), 0);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
}

Test(e2e_ratchet, size_and_version_checks)
{
	static uint8_t big[E2E_MAX_PAYLOAD + 1];
	struct e2e_ratchet *a, *b;
	struct buf ct, pt;
	struct keys k;

	pair_new(&k, &a, &b);
	buf_init(&ct);
	buf_init(&pt);
	cr_assert_eq(e2e_ratchet_encrypt(a, NULL, 0, big, sizeof big, &ct),
	    NOID_ERR_TOOBIG);
	cr_assert_eq(ct.len, 0);
	cr_assert_eq(
	    e2e_ratchet_encrypt(a, NULL, 0, big, E2E_MAX_PAYLOAD, &ct), 0);
	assert_refused(b, NULL, 0, ct.data, ct.len - 1, NOID_ERR_INVAL);
	buf_put_u8(&ct, 0);
	assert_refused(b, NULL, 0, ct.data, ct.len, NOID_ERR_INVAL);
	ct.len--;
	ct.data[0] = 2;
	assert_refused(b, NULL, 0, ct.data, ct.len, NOID_ERR_VERSION);
	ct.data[0] = E2E_VERSION;
	cr_assert_eq(e2e_ratchet_decrypt(b, NULL, 0, ct.data, ct.len, &pt), 0);
	cr_assert_eq(pt.len, E2E_MAX_PAYLOAD);
	buf_free(&ct);
	buf_free(&pt);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
}

/*
 * One permutation run: a sends count messages to b, split over one or
 * two of a's sending chains; b opens them in a random order.  Each must
 * open exactly once; afterwards every replay is refused and no skipped
 * key is left.
 */
static void
permutation_run(uint64_t seed, size_t count, int chains)
{
	struct e2e_ratchet *a, *b;
	struct buf *msgs, reply;
	size_t *order, i, j, t, split;
	uint8_t *seen;
	uint32_t tag;
	struct keys k;
	uint64_t s = seed;

	pair_new(&k, &a, &b);
	msgs = xcalloc(count, sizeof *msgs);
	order = xcalloc(count, sizeof *order);
	seen = xcalloc(count, 1);
	/* b must hear from a once before it can reply and move a's ratchet. */
	msg_pass(a, b, 1000000);
	msg_make(b, 2000000, &reply);
	split = chains == 2 ? rng_below(&s, count + 1) : count;
	for (i = 0; i < count; i++) {
		if (i == split) {
			cr_assert_eq(msg_open(a, &reply, &tag), 0);
			cr_assert_eq(tag, 2000000);
		}
		msg_make(a, (uint32_t)i, &msgs[i]);
		order[i] = i;
	}
	for (i = count; i > 1; i--) {
		j = rng_below(&s, i);
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (i = 0; i < count; i++) {
		cr_assert_eq(msg_open(b, &msgs[order[i]], &tag), 0,
		    "seed %llu: message %zu", (unsigned long long)seed,
		    order[i]);
		cr_assert_lt(tag, count);
		cr_assert_eq(seen[tag], 0);
		seen[tag] = 1;
	}
	cr_assert_eq(e2e_ratchet_skipped(b), 0);
	for (i = 0; i < count; i++)
		assert_refused(b, NULL, 0, msgs[i].data, msgs[i].len, 0);
	for (i = 0; i < count; i++)
		buf_free(&msgs[i]);
	buf_free(&reply);
	free(msgs);
	free(order);
	free(seen);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
}

Test(e2e_ratchet, any_order_within_max_skip_opens_each_once)
{
	uint64_t seed, s = 42;

	permutation_run(7, E2E_MAX_SKIP, 1);
	permutation_run(8, E2E_MAX_SKIP, 2);
	for (seed = 0; seed < 150; seed++)
		permutation_run(seed, 1 + rng_below(&s, E2E_MAX_SKIP / 4),
		    1 + (int)(seed % 2));
}

/*
 * Both sides send and receive in a random interleaving, with messages
 * delivered in random order; every message opens exactly once and both
 * ratchets end with no skipped keys.
 */
Test(e2e_ratchet, random_interleaving_both_ways)
{
	enum { MAXPEND = 48, OPS = 600 };
	struct e2e_ratchet *r[2];
	struct buf pend[2][MAXPEND];
	size_t npend[2], i;
	uint32_t tag, next = 0;
	uint64_t seed, s;
	struct keys k;
	int op, from, heard;

	for (seed = 100; seed < 110; seed++) {
		s = seed;
		pair_new(&k, &r[0], &r[1]);
		npend[0] = npend[1] = 0;
		heard = 0; /* b may send once it has opened something */
		for (op = 0; op < OPS || npend[0] + npend[1] != 0; op++) {
			from = (int)rng_below(&s, 2);
			if (op < OPS && rng_below(&s, 2) == 0 &&
			    npend[from] < MAXPEND && (from == 0 || heard)) {
				msg_make(r[from], next++,
				    &pend[from][npend[from]++]);
				continue;
			}
			if (npend[from] == 0)
				continue;
			i = rng_below(&s, npend[from]);
			cr_assert_eq(
			    msg_open(r[!from], &pend[from][i], &tag), 0);
			if (from == 0)
				heard = 1;
			buf_free(&pend[from][i]);
			pend[from][i] = pend[from][--npend[from]];
		}
		cr_assert_eq(e2e_ratchet_skipped(r[0]), 0);
		cr_assert_eq(e2e_ratchet_skipped(r[1]), 0);
		e2e_ratchet_free(r[0]);
		e2e_ratchet_free(r[1]);
	}
}

/* Flip bits of ct (all of the head, the tag end, a sample of the body). */
static void
flip_all(struct e2e_ratchet *r, struct buf *ct, const uint8_t *ad, size_t adlen)
{
	uint8_t *adc = xmemdup(ad, adlen);
	uint64_t s = 5;
	size_t bit, i;

	for (bit = 0; bit < 8 * (OFF_BODY + 32); bit++) {
		ct->data[bit / 8] ^= (uint8_t)(1 << bit % 8);
		assert_refused(r, ad, adlen, ct->data, ct->len, 0);
		ct->data[bit / 8] ^= (uint8_t)(1 << bit % 8);
	}
	for (i = 0; i < 400; i++) {
		bit = 8 * (OFF_BODY + 32) +
		    rng_below(&s, 8 * (E2E_MSG_SIZE - OFF_BODY - 32));
		if (i < 256)
			bit = 8 * (E2E_MSG_SIZE - 32) + i;
		ct->data[bit / 8] ^= (uint8_t)(1 << bit % 8);
		assert_refused(
		    r, ad, adlen, ct->data, ct->len, NOID_ERR_CRYPTO);
		ct->data[bit / 8] ^= (uint8_t)(1 << bit % 8);
	}
	for (bit = 0; bit < 8 * adlen; bit++) {
		adc[bit / 8] ^= (uint8_t)(1 << bit % 8);
		assert_refused(
		    r, adc, adlen, ct->data, ct->len, NOID_ERR_CRYPTO);
		adc[bit / 8] ^= (uint8_t)(1 << bit % 8);
	}
	assert_refused(r, NULL, 0, ct->data, ct->len, NOID_ERR_CRYPTO);
	free(adc);
}

/* Encrypt with caller ad. */
static void
msg_make_ad(
    struct e2e_ratchet *r, const uint8_t *ad, size_t adlen, struct buf *out)
{
	buf_init(out);
	cr_assert_eq(e2e_ratchet_encrypt(
	                 r, ad, adlen, (const uint8_t *)"tamper me", 9, out),
	    0);
}

/* Open with caller ad and expect the fixed text. */
static void
msg_open_ad(struct e2e_ratchet *r, const uint8_t *ad, size_t adlen,
    const struct buf *ct)
{
	struct buf pt;

	buf_init(&pt);
	cr_assert_eq(
	    e2e_ratchet_decrypt(r, ad, adlen, ct->data, ct->len, &pt), 0);
	cr_assert_eq(pt.len, 9);
	cr_assert(memcmp(pt.data, "tamper me", 9) == 0);
	buf_free(&pt);
}

Test(e2e_ratchet, any_flipped_bit_is_refused_state_unchanged)
{
	static const uint8_t ad[16] = "queue 7 seq 1234";
	struct e2e_ratchet *a, *b;
	struct buf m0, m1, m2, r0;
	struct keys k;

	pair_new(&k, &a, &b);
	/* m0: a DH step at b.  m2 first, so m1 comes from a skipped key. */
	msg_make_ad(a, ad, sizeof ad, &m0);
	msg_make_ad(a, ad, sizeof ad, &m1);
	msg_make_ad(a, ad, sizeof ad, &m2);
	flip_all(b, &m0, ad, sizeof ad);
	msg_open_ad(b, ad, sizeof ad, &m0);
	msg_open_ad(b, ad, sizeof ad, &m2);
	cr_assert_eq(e2e_ratchet_skipped(b), 1);
	flip_all(b, &m1, ad, sizeof ad);
	msg_open_ad(b, ad, sizeof ad, &m1);
	/* A reply: a DH step at a. */
	msg_make_ad(b, ad, sizeof ad, &r0);
	flip_all(a, &r0, ad, sizeof ad);
	msg_open_ad(a, ad, sizeof ad, &r0);
	buf_free(&m0);
	buf_free(&m1);
	buf_free(&m2);
	buf_free(&r0);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
}

Test(e2e_ratchet, crafted_numbers_at_the_limits)
{
	struct e2e_ratchet *a, *b;
	uint8_t dh[E2E_KEY_SIZE], other[E2E_KEY_SIZE], priv[E2E_KEY_SIZE];
	struct buf m, c;
	struct keys k;
	uint32_t tag;
	int i;

	pair_new(&k, &a, &b);
	randombytes_buf(priv, sizeof priv);
	crypto_scalarmult_base(other, priv);
	/* Fresh responder: hka is its next header key (a DH step). */
	craft(&k, k.hka, other, 0, UINT32_MAX, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_PROTO);
	buf_free(&c);
	craft(&k, k.hka, other, 0, E2E_MAX_SKIP + 1, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_TOOBIG);
	buf_free(&c);
	craft(&k, k.hka, other, E2E_MAX_SKIP + 1, 0, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_TOOBIG);
	buf_free(&c);
	/* Exactly at the bound is allowed: only the forged body fails. */
	craft(&k, k.hka, other, 0, E2E_MAX_SKIP, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_CRYPTO);
	buf_free(&c);

	/* In a running chain (hka is now b's receiving header key). */
	for (i = 0; i < 3; i++) {
		msg_make(a, (uint32_t)i, &m);
		if (i == 0)
			header_dh(&k, k.hka, &m, dh);
		cr_assert_eq(msg_open(b, &m, &tag), 0);
		buf_free(&m);
	}
	craft(&k, k.hka, dh, 0, UINT32_MAX, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_PROTO);
	buf_free(&c);
	craft(&k, k.hka, dh, 0, UINT32_MAX - 1, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_TOOBIG);
	buf_free(&c);
	craft(&k, k.hka, dh, 0, 3 + E2E_MAX_SKIP + 1, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_TOOBIG);
	buf_free(&c);
	craft(&k, k.hka, dh, 0, 3 + E2E_MAX_SKIP, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_CRYPTO);
	buf_free(&c);
	craft(&k, k.hka, dh, 0, 1, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_DUPLICATE);
	buf_free(&c);
	/* The chain's header key with another ratchet key. */
	craft(&k, k.hka, other, 0, 3, &c);
	assert_refused(b, NULL, 0, c.data, c.len, NOID_ERR_PROTO);
	buf_free(&c);
	/* Nothing above disturbed the real chain. */
	msg_pass(a, b, 3);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
}

/* The messages skipped_key_caps opens or tries; the rest are dropped. */
static int
caps_needed(size_t i, size_t per, size_t gaps)
{
	return i % per == per - 1 || i == 0 || i == per ||
	    i == E2E_MAX_SKIP - 1 || i == gaps * per - 2;
}

Test(e2e_ratchet, skipped_key_caps)
{
	enum { GAPS = 5, PER = E2E_MAX_SKIP + 1 };
	struct e2e_ratchet *a, *b;
	struct buf *m;
	struct keys k;
	uint32_t tag;
	size_t i;

	pair_new(&k, &a, &b);
	m = xcalloc(GAPS * PER, sizeof *m);
	for (i = 0; i < GAPS * PER; i++) {
		msg_make(a, (uint32_t)i, &m[i]);
		if (!caps_needed(i, PER, GAPS))
			buf_free(&m[i]);
	}
	/* One past the per-gap bound is refused... */
	assert_refused(b, NULL, 0, m[PER].data, m[PER].len, NOID_ERR_TOOBIG);
	/* ...the bound itself is fine, and the total is capped. */
	for (i = 1; i <= GAPS; i++) {
		cr_assert_eq(msg_open(b, &m[i * PER - 1], &tag), 0);
		cr_assert_eq(tag, i * PER - 1);
		cr_assert_eq(e2e_ratchet_skipped(b),
		    i * E2E_MAX_SKIP < E2E_MAX_SKIPPED ? i * E2E_MAX_SKIP
		                                       : E2E_MAX_SKIPPED);
	}
	/* The oldest were dropped; the newer ones still open. */
	assert_refused(b, NULL, 0, m[0].data, m[0].len, 0);
	assert_refused(
	    b, NULL, 0, m[E2E_MAX_SKIP - 1].data, m[E2E_MAX_SKIP - 1].len, 0);
	cr_assert_eq(msg_open(b, &m[PER], &tag), 0);
	cr_assert_eq(msg_open(b, &m[GAPS * PER - 2], &tag), 0);
	cr_assert_eq(e2e_ratchet_skipped(b), E2E_MAX_SKIPPED - 2);
	for (i = 0; i < GAPS * PER; i++)
		buf_free(&m[i]);
	free(m);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
}

/* Rewrite a blob's trailing checksum after a deliberate edit. */
static void
blob_resum(struct buf *b)
{
	crypto_generichash(
	    b->data + b->len - 16, 16, b->data, b->len - 16, NULL, 0);
}

Test(e2e_ratchet, save_load_round_trip_mid_conversation)
{
	struct e2e_ratchet *a, *b, *b2;
	struct buf s1, s2, m[6];
	struct keys k;
	uint32_t tag;
	int i;

	pair_new(&k, &a, &b);
	msg_pass(a, b, 0);
	msg_pass(b, a, 1);
	for (i = 0; i < 6; i++)
		msg_make(a, (uint32_t)(10 + i), &m[i]);
	cr_assert_eq(msg_open(b, &m[3], &tag), 0);
	cr_assert_eq(e2e_ratchet_skipped(b), 3);

	buf_init(&s1);
	buf_init(&s2);
	snap(b, &s1);
	cr_assert_eq(e2e_ratchet_load(s1.data, s1.len, &b2), 0);
	snap(b2, &s2);
	cr_assert_eq(s1.len, s2.len);
	cr_assert(memcmp(s1.data, s2.data, s1.len) == 0);
	cr_assert(memcmp(e2e_ratchet_ad(b2), k.ad, E2E_AD_SIZE) == 0);
	/* The copy carries on exactly as the original would. */
	for (i = 0; i < 6; i++)
		if (i != 3) {
			cr_assert_eq(msg_open(b2, &m[i], &tag), 0);
			cr_assert_eq(tag, 10 + (uint32_t)i);
		}
	msg_pass(b2, a, 20);
	msg_pass(a, b2, 21);
	for (i = 0; i < 6; i++)
		buf_free(&m[i]);
	buf_free_secret(&s1);
	buf_free_secret(&s2);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
	e2e_ratchet_free(b2);
}

/*
 * A receive leaves the new sending chain to the first encrypt (or to
 * prepare): the pending state saves and loads, prepare does it once,
 * and either way the peer reads what follows, also after more steps.
 */
Test(e2e_ratchet, sending_half_waits)
{
	struct e2e_ratchet *a, *b, *b2 = NULL;
	struct buf s, m, r;
	struct keys k;
	uint32_t tag, i;

	pair_new(&k, &a, &b);
	buf_init(&s);
	for (i = 0; i < 6; i++) {
		buf_init(&m);
		msg_make(a, i, &m);
		cr_assert_eq(msg_open(b, &m, &tag), 0);
		buf_free(&m);
		/* b owes the sending half of the step a just made. */
		buf_reset(&s);
		snap(b, &s);
		cr_assert_eq(s.data[1] & 0x22, 0x20, "flags %#x", s.data[1]);
		e2e_ratchet_free(b2);
		b2 = NULL;
		cr_assert_eq(e2e_ratchet_load(s.data, s.len, &b2), 0);
		if (i % 2 == 0) {
			cr_assert_eq(e2e_ratchet_prepare(b), 1);
			cr_assert_eq(e2e_ratchet_prepare(b), 0);
		}
		/* Prepared, lazily done, or loaded from the pending state:
		 * each reply opens at a. */
		buf_init(&r);
		msg_make(i % 3 == 1 ? b2 : b, 100 + i, &r);
		cr_assert_eq(msg_open(a, &r, &tag), 0);
		cr_assert_eq(tag, 100 + i);
		buf_free(&r);
		/* Done: saved as version 1 again, readable by older code. */
		snap(i % 3 == 1 ? b2 : b, &s);
		cr_assert_eq(s.data[0], 1);
		cr_assert_eq(s.data[1] & 0x22, 0x02);
		if (i % 3 == 1) {
			e2e_ratchet_free(b);
			b = b2;
			b2 = NULL;
		}
	}
	buf_free_secret(&s);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
	e2e_ratchet_free(b2);
}

Test(e2e_ratchet, load_rejects_bad_blobs)
{
	struct e2e_ratchet *a, *b, *x = NULL;
	struct buf s, t;
	struct keys k;
	uint32_t tag;
	size_t i;
	struct buf m[3];

	pair_new(&k, &a, &b);
	for (i = 0; i < 3; i++)
		msg_make(a, (uint32_t)i, &m[i]);
	cr_assert_eq(msg_open(b, &m[2], &tag), 0);
	buf_init(&s);
	buf_init(&t);
	snap(b, &s);
	for (i = 0; i < s.len; i++)
		cr_assert_neq(e2e_ratchet_load(s.data, i, &x), 0, "len %zu", i);
	buf_put(&t, s.data, s.len);
	buf_put_u8(&t, 0);
	cr_assert_neq(e2e_ratchet_load(t.data, t.len, &x), 0);
	for (i = 0; i < s.len * 8; i++) {
		s.data[i / 8] ^= (uint8_t)(1 << i % 8);
		cr_assert_neq(e2e_ratchet_load(s.data, s.len, &x), 0);
		s.data[i / 8] ^= (uint8_t)(1 << i % 8);
	}
	/* Well checksummed but malformed: version, flags, absent keys. */
	buf_reset(&t);
	buf_put(&t, s.data, s.len);
	t.data[0] = 3;
	blob_resum(&t);
	cr_assert_eq(e2e_ratchet_load(t.data, t.len, &x), NOID_ERR_VERSION);
	/* b's sending half is pending: version 2; 1 with the flag lies. */
	cr_assert_eq(s.data[0], 2);
	t.data[0] = 1;
	blob_resum(&t);
	cr_assert_eq(e2e_ratchet_load(t.data, t.len, &x), NOID_ERR_CORRUPT);
	t.data[0] = 2;
	t.data[1] |= 0x40;
	blob_resum(&t);
	cr_assert_eq(e2e_ratchet_load(t.data, t.len, &x), NOID_ERR_CORRUPT);
	/* b's sending half is pending (0x20): a chain key with it is wrong. */
	t.data[1] = (uint8_t)(t.data[1] & ~0x40) | 0x02;
	blob_resum(&t);
	cr_assert_eq(e2e_ratchet_load(t.data, t.len, &x), NOID_ERR_CORRUPT);
	t.data[1] &= (uint8_t)~0x02;
	t.data[1] &= (uint8_t)~0x04; /* "no receiving chain", key still there */
	blob_resum(&t);
	cr_assert_eq(e2e_ratchet_load(t.data, t.len, &x), NOID_ERR_CORRUPT);
	/* A skipped count that does not match the length, or is too big. */
	buf_reset(&t);
	buf_put(&t, s.data, s.len);
	be32_put(t.data + 334, 3);
	blob_resum(&t);
	cr_assert_eq(e2e_ratchet_load(t.data, t.len, &x), NOID_ERR_CORRUPT);
	buf_reset(&t);
	buf_put(&t, s.data, 334);
	buf_put_u32(&t, E2E_MAX_SKIPPED + 1);
	memset(buf_append_space(&t, (E2E_MAX_SKIPPED + 1) * 68 + 16), 0,
	    (E2E_MAX_SKIPPED + 1) * 68 + 16);
	blob_resum(&t);
	cr_assert_eq(e2e_ratchet_load(t.data, t.len, &x), NOID_ERR_CORRUPT);
	/* The untouched blob still loads. */
	cr_assert_eq(e2e_ratchet_load(s.data, s.len, &x), 0);
	cr_assert_eq(e2e_ratchet_skipped(x), 2);
	for (i = 0; i < 3; i++)
		buf_free(&m[i]);
	buf_free_secret(&s);
	buf_free_secret(&t);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
	e2e_ratchet_free(x);
}

/* Everything the send observer saw. */
struct seen {
	uint8_t (*pairs)[E2E_KEY_SIZE + E2E_NONCE_SIZE];
	size_t n, cap;
};

/* The observer: record one (key, nonce). */
static void
observe(const uint8_t key[E2E_KEY_SIZE], const uint8_t nonce[E2E_NONCE_SIZE],
    void *arg)
{
	struct seen *sn = arg;

	cr_assert_lt(sn->n, sn->cap);
	memcpy(sn->pairs[sn->n], key, E2E_KEY_SIZE);
	memcpy(sn->pairs[sn->n] + E2E_KEY_SIZE, nonce, E2E_NONCE_SIZE);
	sn->n++;
}

/* qsort order for recorded pairs. */
static int
pair_cmp(const void *x, const void *y)
{
	return memcmp(x, y, E2E_KEY_SIZE + E2E_NONCE_SIZE);
}

Test(e2e_ratchet, no_key_nonce_repeat_over_10000_messages)
{
	enum { MSGS = 10000 };
	struct e2e_ratchet *a, *b;
	struct seen sn = {0};
	struct keys k;
	uint32_t i;
	size_t j;

	sn.cap = 2 * MSGS;
	sn.pairs = xcalloc(sn.cap, sizeof *sn.pairs);
	pair_new(&k, &a, &b);
	e2e_set_send_observer(observe, &sn);
	for (i = 0; i < MSGS; i++)
		msg_pass(i / 50 % 2 ? b : a, i / 50 % 2 ? a : b, i);
	e2e_set_send_observer(NULL, NULL);
	/* One header and one body encryption per message. */
	cr_assert_eq(sn.n, 2 * MSGS);
	qsort(sn.pairs, sn.n, sizeof *sn.pairs, pair_cmp);
	for (j = 1; j < sn.n; j++)
		cr_assert_neq(pair_cmp(sn.pairs[j - 1], sn.pairs[j]), 0);
	free(sn.pairs);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
}
