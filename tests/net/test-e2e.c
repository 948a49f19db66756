/*
 * Tests for net/e2e-kdf.c, net/e2e-pad.c and net/e2e-kex.c: HKDF against
 * RFC 5869, strict padding, the key agreement on both sides (including a
 * man in the middle and a re-key), and the security code.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "e2e.h"

/* Decode a hex literal into out; the length must match. */
static void
unhex(const char *s, uint8_t *out, size_t len)
{
	cr_assert_eq(strlen(s), 2 * len);
	cr_assert_eq(hex_decode(s, out, len), 0);
}

Test(e2e_kdf, hkdf_rfc5869_case1)
{
	uint8_t ikm[22], salt[13], info[10], want[42], okm[42];
	size_t i;

	memset(ikm, 0x0b, sizeof ikm);
	for (i = 0; i < sizeof salt; i++)
		salt[i] = (uint8_t)i;
	for (i = 0; i < sizeof info; i++)
		info[i] = (uint8_t)(0xf0 + i);
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	      "34007208d5b887185865",
	    want, sizeof want);
	cr_assert_eq(e2e_hkdf(salt, sizeof salt, ikm, sizeof ikm, info,
	                 sizeof info, okm, sizeof okm),
	    0);
	cr_assert(memcmp(okm, want, sizeof want) == 0);
}

Test(e2e_kdf, hkdf_rfc5869_case3_no_salt_no_info)
{
	uint8_t ikm[22], want[42], okm[42];

	memset(ikm, 0x0b, sizeof ikm);
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	      "9d201395faa4b61a96c8",
	    want, sizeof want);
	cr_assert_eq(
	    e2e_hkdf(NULL, 0, ikm, sizeof ikm, NULL, 0, okm, sizeof okm), 0);
	cr_assert(memcmp(okm, want, sizeof want) == 0);
}

Test(e2e_kdf, hkdf_refuses_too_long_output)
{
	static uint8_t okm[255 * 32 + 1];

	cr_assert_eq(e2e_hkdf(NULL, 0, okm, 1, NULL, 0, okm, sizeof okm),
	    NOID_ERR_INVAL);
}

Test(e2e_pad, round_trip_at_every_edge)
{
	static const size_t lens[] = {0, 1, 100, E2E_MAX_PAYLOAD};
	static uint8_t in[E2E_PAD], out[E2E_PAD];
	const uint8_t *p;
	size_t i, plen;

	randombytes_buf(in, sizeof in);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		memset(out, 0xee, sizeof out);
		cr_assert_eq(e2e_pad(in, lens[i], out, E2E_PAD), 0);
		cr_assert_eq(e2e_unpad(out, E2E_PAD, E2E_PAD, &p, &plen), 0);
		cr_assert_eq(plen, lens[i]);
		cr_assert(memcmp(p, in, plen) == 0);
	}
}

Test(e2e_pad, bad_input_is_refused)
{
	uint8_t buf[64], in[64] = {0};
	const uint8_t *p;
	size_t plen;

	cr_assert_eq(e2e_pad(in, 63, buf, sizeof buf), NOID_ERR_TOOBIG);
	cr_assert_eq(e2e_pad(in, 0, buf, 1), NOID_ERR_INVAL);
	cr_assert_eq(e2e_pad(in, 0, buf, 70000), NOID_ERR_INVAL);
	cr_assert_eq(e2e_pad(in, 62, buf, sizeof buf), 0);

	cr_assert_eq(e2e_pad(in, 5, buf, sizeof buf), 0);
	/* Wrong size, short and long. */
	cr_assert_eq(e2e_unpad(buf, 63, 64, &p, &plen), NOID_ERR_INVAL);
	cr_assert_eq(e2e_unpad(buf, 64, 65, &p, &plen), NOID_ERR_INVAL);
	cr_assert_eq(e2e_unpad(buf, 1, 1, &p, &plen), NOID_ERR_INVAL);
	/* Length prefix one past the end, and far past it. */
	be16_put(buf, 63);
	cr_assert_eq(e2e_unpad(buf, 64, 64, &p, &plen), NOID_ERR_PROTO);
	be16_put(buf, 0xffff);
	cr_assert_eq(e2e_unpad(buf, 64, 64, &p, &plen), NOID_ERR_PROTO);
	/* Exactly full is fine. */
	be16_put(buf, 62);
	cr_assert_eq(e2e_unpad(buf, 64, 64, &p, &plen), 0);
	cr_assert_eq(plen, 62);
	/* A non-zero byte in the padding. */
	cr_assert_eq(e2e_pad(in, 5, buf, sizeof buf), 0);
	buf[63] = 1;
	cr_assert_eq(e2e_unpad(buf, 64, 64, &p, &plen), NOID_ERR_PROTO);
}

Test(e2e_pad, sizes_fit_the_relay_body)
{
	cr_assert_eq(E2E_MSG_SIZE + E2E_QUEUE_RESERVE, E2E_RELAY_BODY);
	cr_assert_eq(E2E_PAD + E2E_OVERHEAD, E2E_MSG_SIZE);
	cr_assert_eq(E2E_MAX_PAYLOAD, E2E_PAD - 2);
}

/* One agreement, both sides, optionally with a context. */
struct pair {
	struct e2e_kex *inviter, *joiner;
	struct e2e_ratchet *ri, *rj;
};

/* Run the agreement and start both ratchets. */
static void
pair_agree(struct pair *p, const uint8_t *ctx, size_t ctxlen)
{
	uint8_t offer[E2E_OFFER_SIZE], answer[E2E_ANSWER_SIZE];
	struct e2e_offer *o;

	cr_assert_eq(e2e_offer_new(&o, offer), 0);
	cr_assert_eq(e2e_kex_answer(offer, ctx, ctxlen, answer, &p->joiner), 0);
	cr_assert_eq(e2e_kex_finish(o, answer, ctx, ctxlen, &p->inviter), 0);
	e2e_offer_free(o);
	cr_assert_eq(e2e_kex_ratchet(p->inviter, &p->ri), 0);
	cr_assert_eq(e2e_kex_ratchet(p->joiner, &p->rj), 0);
}

/* Free both sides. */
static void
pair_free(struct pair *p)
{
	e2e_kex_free(p->inviter);
	e2e_kex_free(p->joiner);
	e2e_ratchet_free(p->ri);
	e2e_ratchet_free(p->rj);
}

/* Send text from one ratchet to the other; 0 when it arrived intact. */
static int
pair_send(struct e2e_ratchet *from, struct e2e_ratchet *to, const char *text)
{
	struct buf ct, pt;
	int error;

	buf_init(&ct);
	buf_init(&pt);
	cr_assert_eq(e2e_ratchet_encrypt(from, NULL, 0, (const uint8_t *)text,
	                 strlen(text), &ct),
	    0);
	cr_assert_eq(ct.len, E2E_MSG_SIZE);
	error = e2e_ratchet_decrypt(to, NULL, 0, ct.data, ct.len, &pt);
	if (error == 0 &&
	    (pt.len != strlen(text) || memcmp(pt.data, text, pt.len) != 0))
		error = NOID_ERR_INTERNAL;
	buf_free(&ct);
	buf_free(&pt);
	return error;
}

Test(e2e_kex, both_sides_agree_and_codes_match)
{
	struct e2e_code ci, cj;
	struct pair p;
	uint8_t pub[E2E_OFFER_SIZE];
	struct buf ct;

	pair_agree(&p, NULL, 0);
	cr_assert(memcmp(e2e_ratchet_ad(p.ri), e2e_ratchet_ad(p.rj),
	              E2E_AD_SIZE) == 0);
	e2e_ratchet_code(p.ri, &ci);
	e2e_ratchet_code(p.rj, &cj);
	cr_assert_str_eq(ci.digits, cj.digits);
	cr_assert_str_eq(ci.text, cj.text);
	cr_assert_str_eq(ci.qr, cj.qr);

	/* The inviter cannot send before it has heard from the joiner. */
	buf_init(&ct);
	cr_assert_eq(
	    e2e_ratchet_encrypt(p.ri, NULL, 0, pub, 1, &ct), NOID_ERR_STATE);
	cr_assert_eq(ct.len, 0);
	cr_assert_eq(pair_send(p.rj, p.ri, "hello from the joiner"), 0);
	cr_assert_eq(pair_send(p.ri, p.rj, "hello back"), 0);
	cr_assert_eq(pair_send(p.rj, p.ri, "and again"), 0);
	pair_free(&p);
}

Test(e2e_kex, code_format)
{
	struct e2e_code c;
	struct pair p;
	size_t i;

	pair_agree(&p, NULL, 0);
	e2e_ratchet_code(p.ri, &c);
	cr_assert_eq(strlen(c.digits), 60);
	cr_assert_eq(strlen(c.text), 71);
	for (i = 0; i < 71; i++)
		cr_assert(i % 6 == 5 ? c.text[i] == ' '
		                     : c.text[i] >= '0' && c.text[i] <= '9');
	cr_assert_eq(strncmp(c.qr, "NOID:CODE:1:", 12), 0);
	cr_assert_str_eq(c.qr + 12, c.digits);
	for (i = 0; c.qr[i] != '\0'; i++)
		cr_assert(
		    strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:",
		        c.qr[i]) != NULL);
	pair_free(&p);
}

Test(e2e_kex, code_check)
{
	struct e2e_code c;
	struct pair p;
	char s[80];

	pair_agree(&p, NULL, 0);
	e2e_ratchet_code(p.ri, &c);
	cr_assert_eq(e2e_code_check(&c, c.digits), 0);
	cr_assert_eq(e2e_code_check(&c, c.text), 0);
	cr_assert_eq(e2e_code_check(&c, c.qr), 0);
	snprintf(s, sizeof s, "%s", c.text);
	s[3] = s[3] == '9' ? '0' : (char)(s[3] + 1);
	cr_assert_eq(e2e_code_check(&c, s), NOID_ERR_AUTH);
	cr_assert_eq(e2e_code_check(&c, "12345"), NOID_ERR_INVAL);
	cr_assert_eq(e2e_code_check(&c, ""), NOID_ERR_INVAL);
	snprintf(s, sizeof s, "%sx", c.digits);
	cr_assert_eq(e2e_code_check(&c, s), NOID_ERR_INVAL);
	snprintf(s, sizeof s, "%s1", c.digits);
	cr_assert_eq(e2e_code_check(&c, s), NOID_ERR_INVAL);
	pair_free(&p);
}

Test(e2e_kex, man_in_the_middle_gets_different_codes)
{
	uint8_t offer[E2E_OFFER_SIZE], moffer[E2E_OFFER_SIZE];
	uint8_t answer[E2E_ANSWER_SIZE], manswer[E2E_ANSWER_SIZE];
	struct e2e_offer *o, *mo;
	struct e2e_kex *ki, *kj, *mi, *mj;
	struct e2e_code ci, cj;
	struct e2e_ratchet *r;

	/* Mallory swaps the invitation and answers the real one herself. */
	cr_assert_eq(e2e_offer_new(&o, offer), 0);
	cr_assert_eq(e2e_offer_new(&mo, moffer), 0);
	cr_assert_eq(e2e_kex_answer(moffer, NULL, 0, answer, &kj), 0);
	cr_assert_eq(e2e_kex_finish(mo, answer, NULL, 0, &mj), 0);
	cr_assert_eq(e2e_kex_answer(offer, NULL, 0, manswer, &mi), 0);
	cr_assert_eq(e2e_kex_finish(o, manswer, NULL, 0, &ki), 0);
	cr_assert_eq(e2e_kex_ratchet(ki, &r), 0);
	e2e_ratchet_code(r, &ci);
	e2e_ratchet_free(r);
	cr_assert_eq(e2e_kex_ratchet(kj, &r), 0);
	e2e_ratchet_code(r, &cj);
	e2e_ratchet_free(r);
	cr_assert_str_neq(ci.digits, cj.digits);
	cr_assert_eq(e2e_code_check(&ci, cj.qr), NOID_ERR_AUTH);
	e2e_offer_free(o);
	e2e_offer_free(mo);
	e2e_kex_free(ki);
	e2e_kex_free(kj);
	e2e_kex_free(mi);
	e2e_kex_free(mj);
}

Test(e2e_kex, context_must_match)
{
	uint8_t offer[E2E_OFFER_SIZE], answer[E2E_ANSWER_SIZE];
	struct e2e_ratchet *ri, *rj;
	struct e2e_kex *ki, *kj;
	struct e2e_offer *o;

	cr_assert_eq(e2e_offer_new(&o, offer), 0);
	cr_assert_eq(
	    e2e_kex_answer(offer, (const uint8_t *)"a", 1, answer, &kj), 0);
	cr_assert_eq(
	    e2e_kex_finish(o, answer, (const uint8_t *)"b", 1, &ki), 0);
	cr_assert_eq(e2e_kex_ratchet(ki, &ri), 0);
	cr_assert_eq(e2e_kex_ratchet(kj, &rj), 0);
	cr_assert(
	    memcmp(e2e_ratchet_ad(ri), e2e_ratchet_ad(rj), E2E_AD_SIZE) != 0);
	cr_assert_eq(pair_send(rj, ri, "x"), NOID_ERR_CRYPTO);
	e2e_ratchet_free(ri);
	e2e_ratchet_free(rj);
	e2e_kex_free(ki);
	e2e_kex_free(kj);
	e2e_offer_free(o);
}

Test(e2e_kex, rekey_in_band_gives_a_new_ratchet_and_code)
{
	struct e2e_code before, after1, after2;
	uint8_t ctx[E2E_AD_SIZE];
	struct pair p, q;

	pair_agree(&p, NULL, 0);
	cr_assert_eq(pair_send(p.rj, p.ri, "one"), 0);
	e2e_ratchet_code(p.ri, &before);
	/* Either side may offer; the old ad binds the new agreement. */
	memcpy(ctx, e2e_ratchet_ad(p.ri), sizeof ctx);
	pair_agree(&q, ctx, sizeof ctx);
	e2e_ratchet_code(q.ri, &after1);
	e2e_ratchet_code(q.rj, &after2);
	cr_assert_str_eq(after1.digits, after2.digits);
	cr_assert_str_neq(before.digits, after1.digits);
	cr_assert_eq(pair_send(q.rj, q.ri, "after re-key"), 0);
	cr_assert_eq(pair_send(q.ri, q.rj, "both ways"), 0);
	/* The old ratchet does not open the new one's messages. */
	cr_assert_eq(pair_send(q.rj, p.ri, "cross"), NOID_ERR_CRYPTO);
	pair_free(&p);
	pair_free(&q);
}

Test(e2e_kex, offer_save_load_round_trip)
{
	uint8_t offer[E2E_OFFER_SIZE], again[E2E_OFFER_SIZE];
	uint8_t answer[E2E_ANSWER_SIZE];
	struct e2e_offer *o, *l;
	struct e2e_kex *ki, *kj;
	struct e2e_ratchet *ri, *rj;
	struct buf b;

	cr_assert_eq(e2e_offer_new(&o, offer), 0);
	buf_init(&b);
	e2e_offer_save(o, &b);
	e2e_offer_free(o);
	cr_assert_eq(e2e_offer_load(b.data, b.len, &l), 0);
	e2e_offer_public(l, again);
	cr_assert(memcmp(offer, again, sizeof offer) == 0);
	cr_assert_eq(e2e_kex_answer(offer, NULL, 0, answer, &kj), 0);
	cr_assert_eq(e2e_kex_finish(l, answer, NULL, 0, &ki), 0);
	cr_assert_eq(e2e_kex_ratchet(ki, &ri), 0);
	cr_assert_eq(e2e_kex_ratchet(kj, &rj), 0);
	cr_assert_eq(pair_send(rj, ri, "via a saved offer"), 0);

	cr_assert_eq(e2e_offer_load(b.data, b.len - 1, &o), NOID_ERR_CORRUPT);
	buf_put_u8(&b, 0);
	cr_assert_eq(e2e_offer_load(b.data, b.len, &o), NOID_ERR_CORRUPT);
	b.len--;
	b.data[0] = 2;
	cr_assert_eq(e2e_offer_load(b.data, b.len, &o), NOID_ERR_VERSION);
	/* Both keys the same is not an offer we made. */
	b.data[0] = 1;
	memcpy(b.data + 33, b.data + 1, 32);
	cr_assert_eq(e2e_offer_load(b.data, b.len, &o), NOID_ERR_CORRUPT);

	buf_free_secret(&b);
	e2e_offer_free(l);
	e2e_kex_free(ki);
	e2e_kex_free(kj);
	e2e_ratchet_free(ri);
	e2e_ratchet_free(rj);
}

Test(e2e_kex, bad_keys_are_refused)
{
	uint8_t offer[E2E_OFFER_SIZE], answer[E2E_ANSWER_SIZE];
	uint8_t bad[E2E_OFFER_SIZE];
	struct e2e_offer *o;
	struct e2e_kex *k;

	cr_assert_eq(e2e_offer_new(&o, offer), 0);
	/* A low-order (all-zero) key makes an all-zero DH. */
	memcpy(bad, offer, sizeof bad);
	memset(bad + E2E_KEY_SIZE, 0, E2E_KEY_SIZE);
	cr_assert_eq(e2e_kex_answer(bad, NULL, 0, answer, &k), NOID_ERR_CRYPTO);
	memset(bad, 0, E2E_KEY_SIZE);
	memcpy(bad + E2E_KEY_SIZE, offer, E2E_KEY_SIZE);
	cr_assert_eq(e2e_kex_answer(bad, NULL, 0, answer, &k), NOID_ERR_CRYPTO);
	/* The same key twice. */
	memcpy(bad, offer, E2E_KEY_SIZE);
	memcpy(bad + E2E_KEY_SIZE, offer, E2E_KEY_SIZE);
	cr_assert_eq(e2e_kex_answer(bad, NULL, 0, answer, &k), NOID_ERR_PROTO);
	/* An answer that reflects the offer, or holds a zero key. */
	cr_assert_eq(e2e_kex_finish(o, offer, NULL, 0, &k), NOID_ERR_PROTO);
	cr_assert_eq(e2e_kex_answer(offer, NULL, 0, answer, &k), 0);
	e2e_kex_free(k);
	memset(answer + E2E_KEY_SIZE, 0, E2E_KEY_SIZE);
	cr_assert_eq(e2e_kex_finish(o, answer, NULL, 0, &k), NOID_ERR_CRYPTO);
	e2e_offer_free(o);
}
