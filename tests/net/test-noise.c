/*
 * Tests for net/noise: the published Noise_NK_25519_ChaChaPoly_SHA256
 * vector (shared/vectors/noise-nk-25519-chachapoly-sha256.json, copied
 * here byte for byte) in both roles, and handshakes that must fail.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "base.h"
#include "noise.h"

static const char *v_prologue = "4a6f686e2047616c74";
static const char *v_init_e =
    "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
static const char *v_rs =
    "31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62";
static const char *v_resp_s =
    "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
static const char *v_resp_e =
    "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
static const char *v_hash =
    "2efa38a9c7c93ac98f3a097af25c2f58b9e7673787717bc27e98827118c2c1a5";

static const struct {
	const char *payload;
	const char *ciphertext;
} v_msgs[] = {
    {"4c756477696720766f6e204d69736573",
        "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79"
        "448134d00711fdb390a0d178fa008f6d47d2891e5ea18ae136c3b4c23ac384"
        "efb0"},
    {"4d757272617920526f746862617264",
        "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f1448088"
        "438ea16e3701bc0d77744f117bee22451c9afa7f4cdbbcff00c04a8ee0913c"
        "88"},
    {"462e20412e20486179656b",
        "a62de29ce27cb80245d440d986ed816c156e9d757d7008df2198b0"},
    {"4361726c204d656e676572",
        "174a35f11c689f4530d7208618e0564ae12f2f50ba8eb4df5382ff"},
    {"4a65616e2d426170746973746520536179",
        "337e475ebb8eae60f91974c4e455a5af38d1d8628d1803b160d60442874b0a"
        "1777"},
    {"457567656e2042f6686d20766f6e2042617765726b",
        "047e80e060b7bb08b53c5a23dfe9920cae135b9d1dc6302fc4750030627237"
        "00366346ac9d"},
};

/* Decode hex into out, returning the length. */
static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	cr_assert_leq(n, cap);
	cr_assert_eq(hex_decode(s, out, n), 0);
	return n;
}

/* Both sides, set up from the vector. */
struct pair {
	struct noise_hs *init;
	struct noise_hs *resp;
	uint8_t s_priv[32], s_pub[32];
};

static void
pair_setup(struct pair *p)
{
	uint8_t prologue[64], e[32], rs[32];
	size_t plen;

	plen = unhex(v_prologue, prologue, sizeof prologue);
	unhex(v_rs, rs, sizeof rs);
	unhex(v_resp_s, p->s_priv, sizeof p->s_priv);
	crypto_scalarmult_base(p->s_pub, p->s_priv);
	cr_assert(memcmp(p->s_pub, rs, 32) == 0, "vector static key pair");
	p->init = noise_hs_new_initiator(prologue, plen, rs);
	p->resp = noise_hs_new_responder(prologue, plen, p->s_priv, p->s_pub);
	unhex(v_init_e, e, sizeof e);
	cr_assert_eq(noise_hs_set_ephemeral(p->init, e), 0);
	unhex(v_resp_e, e, sizeof e);
	cr_assert_eq(noise_hs_set_ephemeral(p->resp, e), 0);
}

static void
pair_free(struct pair *p)
{
	noise_hs_free(p->init);
	noise_hs_free(p->resp);
}

/* One handshake message from writer to reader, checked against vector i. */
static void
hs_step(struct noise_hs *w, struct noise_hs *r, size_t i)
{
	uint8_t pt[128], ct[256], want[256], got[128];
	size_t ptlen, wantlen, n, glen;

	ptlen = unhex(v_msgs[i].payload, pt, sizeof pt);
	wantlen = unhex(v_msgs[i].ciphertext, want, sizeof want);
	cr_assert_eq(noise_hs_msg_len(w, ptlen), wantlen);
	cr_assert_eq(noise_hs_write(w, pt, ptlen, ct, sizeof ct, &n), 0);
	cr_assert_eq(n, wantlen);
	cr_assert(memcmp(ct, want, n) == 0, "handshake message %zu", i);
	cr_assert_eq(noise_hs_read(r, ct, n, got, sizeof got, &glen), 0);
	cr_assert_eq(glen, ptlen);
	cr_assert(memcmp(got, pt, ptlen) == 0);
}

/* One transport message, checked against vector i. */
static void
tr_step(struct noise_cipher *w, struct noise_cipher *r, size_t i)
{
	uint8_t pt[128], ct[256], want[256], got[128];
	size_t ptlen, wantlen;

	ptlen = unhex(v_msgs[i].payload, pt, sizeof pt);
	wantlen = unhex(v_msgs[i].ciphertext, want, sizeof want);
	cr_assert_eq(wantlen, ptlen + NOISE_TAG_LEN);
	cr_assert_eq(noise_cipher_encrypt(w, NULL, 0, pt, ptlen, ct), 0);
	cr_assert(memcmp(ct, want, wantlen) == 0, "transport message %zu", i);
	cr_assert_eq(noise_cipher_decrypt(r, NULL, 0, ct, wantlen, got), 0);
	cr_assert(memcmp(got, pt, ptlen) == 0);
}

Test(noise, vector_nk_both_roles)
{
	struct noise_cipher *is, *ir, *rsnd, *rrcv;
	struct pair p;
	uint8_t h[32];
	size_t i;

	pair_setup(&p);
	hs_step(p.init, p.resp, 0);
	cr_assert(!noise_hs_done(p.init));
	hs_step(p.resp, p.init, 1);
	cr_assert(noise_hs_done(p.init));
	cr_assert(noise_hs_done(p.resp));
	unhex(v_hash, h, sizeof h);
	cr_assert(memcmp(noise_hs_hash(p.init), h, 32) == 0);
	cr_assert(memcmp(noise_hs_hash(p.resp), h, 32) == 0);
	cr_assert_eq(noise_hs_split(p.init, &is, &ir), 0);
	cr_assert_eq(noise_hs_split(p.resp, &rsnd, &rrcv), 0);
	for (i = 2; i < sizeof v_msgs / sizeof v_msgs[0]; i++) {
		if (i % 2 == 0)
			tr_step(is, rrcv, i);
		else
			tr_step(rsnd, ir, i);
	}
	cr_assert_eq(noise_cipher_nonce(is), 2);
	noise_cipher_free(is);
	noise_cipher_free(ir);
	noise_cipher_free(rsnd);
	noise_cipher_free(rrcv);
	pair_free(&p);
}

/* Run msg1 and msg2 with byte `flip` of message `which` flipped. */
static int
handshake_with_flip(int which, size_t flip)
{
	uint8_t m[128], pl[64];
	struct pair p;
	size_t n, pn;
	int error;

	pair_setup(&p);
	cr_assert_eq(noise_hs_write(p.init, "hi", 2, m, sizeof m, &n), 0);
	if (which == 1)
		m[flip % n] ^= 0x01;
	error = noise_hs_read(p.resp, m, n, pl, sizeof pl, &pn);
	if (error != 0)
		goto out;
	cr_assert_eq(noise_hs_write(p.resp, "yo", 2, m, sizeof m, &n), 0);
	if (which == 2)
		m[flip % n] ^= 0x80;
	error = noise_hs_read(p.init, m, n, pl, sizeof pl, &pn);
out:
	pair_free(&p);
	return error;
}

Test(noise, tampered_messages_fail)
{
	size_t i;

	cr_assert_eq(handshake_with_flip(0, 0), 0);
	/* Every byte of both messages is covered (e via the hash/DH). */
	for (i = 0; i < 32 + 2 + 16; i++) {
		cr_assert_eq(handshake_with_flip(1, i), NOID_ERR_CRYPTO,
		    "msg1 byte %zu", i);
		cr_assert_eq(handshake_with_flip(2, i), NOID_ERR_CRYPTO,
		    "msg2 byte %zu", i);
	}
}

Test(noise, wrong_responder_key_fails)
{
	uint8_t priv[32], pub[32], other_priv[32], other_pub[32];
	uint8_t m[128], pl[64];
	struct noise_hs *init, *resp;
	size_t n, pn;

	noise_keypair(priv, pub);
	noise_keypair(other_priv, other_pub);
	init = noise_hs_new_initiator("p", 1, other_pub);
	resp = noise_hs_new_responder("p", 1, priv, pub);
	cr_assert_eq(noise_hs_write(init, "x", 1, m, sizeof m, &n), 0);
	cr_assert_eq(
	    noise_hs_read(resp, m, n, pl, sizeof pl, &pn), NOID_ERR_CRYPTO);
	/* A failed state refuses to go on. */
	cr_assert_eq(
	    noise_hs_write(resp, "y", 1, m, sizeof m, &n), NOID_ERR_STATE);
	noise_hs_free(init);
	noise_hs_free(resp);
}

Test(noise, prologue_mismatch_fails)
{
	uint8_t priv[32], pub[32], m[128], pl[64];
	struct noise_hs *init, *resp;
	size_t n, pn;

	noise_keypair(priv, pub);
	init = noise_hs_new_initiator("noid relay v1", 13, pub);
	resp = noise_hs_new_responder("noid relay v2", 13, priv, pub);
	cr_assert_eq(noise_hs_write(init, "x", 1, m, sizeof m, &n), 0);
	cr_assert_eq(
	    noise_hs_read(resp, m, n, pl, sizeof pl, &pn), NOID_ERR_CRYPTO);
	noise_hs_free(init);
	noise_hs_free(resp);
}

Test(noise, low_order_ephemeral_rejected)
{
	uint8_t priv[32], pub[32], m[128], pl[64];
	struct noise_hs *resp;
	size_t pn;

	noise_keypair(priv, pub);
	resp = noise_hs_new_responder("p", 1, priv, pub);
	/* The all-zero point is of low order: the DH result is zero. */
	memset(m, 0, sizeof m);
	cr_assert_eq(noise_hs_read(resp, m, 32 + 16, pl, sizeof pl, &pn),
	    NOID_ERR_CRYPTO);
	noise_hs_free(resp);
}

Test(noise, out_of_turn_and_short_messages)
{
	uint8_t priv[32], pub[32], m[128], pl[64];
	struct noise_hs *init, *resp;
	struct noise_cipher *a, *b;
	size_t n, pn;

	noise_keypair(priv, pub);
	init = noise_hs_new_initiator("p", 1, pub);
	resp = noise_hs_new_responder("p", 1, priv, pub);
	cr_assert_eq(
	    noise_hs_write(resp, "x", 1, m, sizeof m, &n), NOID_ERR_STATE);
	cr_assert_eq(noise_hs_split(init, &a, &b), NOID_ERR_STATE);
	cr_assert_eq(
	    noise_hs_read(resp, m, 47, pl, sizeof pl, &pn), NOID_ERR_PROTO);
	cr_assert_eq(noise_hs_write(init, "x", 1, m, 10, &n), NOID_ERR_TOOBIG);
	noise_hs_free(init);
	noise_hs_free(resp);
}

Test(noise, transport_tamper_keeps_nonce)
{
	uint8_t priv[32], pub[32], m[128], pl[64], ct[64], out[64];
	struct noise_hs *init, *resp;
	struct noise_cipher *is, *ir, *rs, *rr;
	size_t n, pn;

	noise_keypair(priv, pub);
	init = noise_hs_new_initiator("p", 1, pub);
	resp = noise_hs_new_responder("p", 1, priv, pub);
	cr_assert_eq(noise_hs_write(init, NULL, 0, m, sizeof m, &n), 0);
	cr_assert_eq(noise_hs_read(resp, m, n, pl, sizeof pl, &pn), 0);
	cr_assert_eq(noise_hs_write(resp, NULL, 0, m, sizeof m, &n), 0);
	cr_assert_eq(noise_hs_read(init, m, n, pl, sizeof pl, &pn), 0);
	cr_assert(memcmp(noise_hs_hash(init), noise_hs_hash(resp), 32) == 0);
	cr_assert_eq(noise_hs_split(init, &is, &ir), 0);
	cr_assert_eq(noise_hs_split(resp, &rs, &rr), 0);
	cr_assert_eq(
	    noise_cipher_encrypt(is, NULL, 0, (const uint8_t *)"hello", 5, ct),
	    0);
	ct[3] ^= 1;
	cr_assert_eq(
	    noise_cipher_decrypt(rr, NULL, 0, ct, 21, out), NOID_ERR_CRYPTO);
	cr_assert_eq(noise_cipher_nonce(rr), 0);
	ct[3] ^= 1;
	cr_assert_eq(noise_cipher_decrypt(rr, NULL, 0, ct, 21, out), 0);
	cr_assert(memcmp(out, "hello", 5) == 0);
	/* Replaying the same ciphertext fails: the nonce moved on. */
	cr_assert_eq(
	    noise_cipher_decrypt(rr, NULL, 0, ct, 21, out), NOID_ERR_CRYPTO);
	noise_cipher_free(is);
	noise_cipher_free(ir);
	noise_cipher_free(rs);
	noise_cipher_free(rr);
	noise_hs_free(init);
	noise_hs_free(resp);
}
