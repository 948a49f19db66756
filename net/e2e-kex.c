/*
 * e2e-kex: the key agreement that starts a connection (or re-keys it)
 * and the security code both people compare.
 *
 * X3DH-style, with every key one-time (noid has no identity keys): the
 * inviter I makes two X25519 key pairs, Ik (agreement) and Ir (also its
 * first ratchet key, like Signal's signed prekey), and puts both public
 * keys in the invitation.  The joiner J makes Jk and Je and sends them
 * back.  Both compute
 *
 *   ad     = SHA-256("noid e2e v1 transcript" || u32be(ctxlen) || ctx ||
 *                    Ik || Ir || Jk || Je)
 *   dh     = DH(Jk, Ir) || DH(Je, Ik) || DH(Je, Ir)
 *   secret = HKDF-SHA256(salt = ad, ikm = dh, info = "noid e2e v1 x3dh")
 *            -> root key | hka | nhkb (32 bytes each)
 *
 * Three DHs pair each of the joiner's keys with the inviter's, so the
 * secret needs at least one private key from each side that is not a
 * reused one; the transcript hash as salt binds every public key, the
 * purpose (ctx) and the version into every derived key.  The joiner is
 * the ratchet initiator (it knows Ir, the responder's ratchet key), so
 * its first message can travel with its answer.  An all-zero DH (a
 * low-order point) and reflected or repeated keys are refused.
 *
 * The security code is SHA-512("noid e2e v1 security code" || ad) cut
 * into 12 five-byte chunks, each read as a 40-bit number mod 100000:
 * 60 digits, as Signal's safety numbers.  A man in the middle leaves the
 * two sides with different transcripts, so different codes.
 */
#include "e2e.h"

#include <ctype.h>
#include <sodium.h>
#include <string.h>

#define OFFER_BLOB_VERSION 1
#define OFFER_BLOB_SIZE (1 + 2 * E2E_KEY_SIZE)

static const char label_transcript[] = "noid e2e v1 transcript";
static const char label_x3dh[] = "noid e2e v1 x3dh";
static const char label_code[] = "noid e2e v1 security code";

struct e2e_offer {
	uint8_t k_priv[E2E_KEY_SIZE];
	uint8_t k_pub[E2E_KEY_SIZE];
	uint8_t r_priv[E2E_KEY_SIZE];
	uint8_t r_pub[E2E_KEY_SIZE];
};

struct e2e_kex {
	int initiator; /* the joiner: starts the ratchet */
	uint8_t root[E2E_KEY_SIZE];
	uint8_t hka[E2E_KEY_SIZE];
	uint8_t nhkb[E2E_KEY_SIZE];
	uint8_t ad[E2E_AD_SIZE];
	/* Initiator: the inviter's ratchet public key; else our private. */
	uint8_t ratchet[E2E_KEY_SIZE];
};

/* Make a fresh X25519 key pair. */
static void
kex_keypair(uint8_t priv[E2E_KEY_SIZE], uint8_t pub[E2E_KEY_SIZE])
{
	randombytes_buf(priv, E2E_KEY_SIZE);
	crypto_scalarmult_base(pub, priv);
}

/* Make a one-time offer for an invitation. */
int
e2e_offer_new(struct e2e_offer **out, uint8_t pub[E2E_OFFER_SIZE])
{
	struct e2e_offer *o = secret_alloc(sizeof *o);

	kex_keypair(o->k_priv, o->k_pub);
	kex_keypair(o->r_priv, o->r_pub);
	e2e_offer_public(o, pub);
	*out = o;
	return NOID_OK;
}

/* Copy out the public half of an offer. */
void
e2e_offer_public(const struct e2e_offer *o, uint8_t pub[E2E_OFFER_SIZE])
{
	memcpy(pub, o->k_pub, E2E_KEY_SIZE);
	memcpy(pub + E2E_KEY_SIZE, o->r_pub, E2E_KEY_SIZE);
}

/* Serialize an offer: a version byte and both private keys. */
void
e2e_offer_save(const struct e2e_offer *o, struct buf *out)
{
	buf_put_u8(out, OFFER_BLOB_VERSION);
	buf_put(out, o->k_priv, E2E_KEY_SIZE);
	buf_put(out, o->r_priv, E2E_KEY_SIZE);
}

/* Parse a saved offer and recompute its public keys. */
int
e2e_offer_load(const uint8_t *p, size_t len, struct e2e_offer **out)
{
	struct e2e_offer *o;

	if (len != OFFER_BLOB_SIZE)
		return NOID_ERR_CORRUPT;
	if (p[0] != OFFER_BLOB_VERSION)
		return NOID_ERR_VERSION;
	o = secret_alloc(sizeof *o);
	memcpy(o->k_priv, p + 1, E2E_KEY_SIZE);
	memcpy(o->r_priv, p + 1 + E2E_KEY_SIZE, E2E_KEY_SIZE);
	if (crypto_scalarmult_base(o->k_pub, o->k_priv) != 0 ||
	    crypto_scalarmult_base(o->r_pub, o->r_priv) != 0 ||
	    sodium_memcmp(o->k_pub, o->r_pub, E2E_KEY_SIZE) == 0) {
		secret_free(o);
		return NOID_ERR_CORRUPT;
	}
	*out = o;
	return NOID_OK;
}

/* Wipe and free an offer. */
void
e2e_offer_free(struct e2e_offer *o)
{
	secret_free(o);
}

/* Wipe and free an agreement. */
void
e2e_kex_free(struct e2e_kex *k)
{
	secret_free(k);
}

/* Refuse key sets where a key repeats (reflection or a lazy peer). */
static int
kex_check_keys(
    const uint8_t *ik, const uint8_t *ir, const uint8_t *jk, const uint8_t *je)
{
	const uint8_t *keys[4] = {ik, ir, jk, je};
	int i, j;

	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			if (sodium_memcmp(keys[i], keys[j], E2E_KEY_SIZE) == 0)
				return NOID_ERR_PROTO;
	return NOID_OK;
}

/* Hash the transcript into the agreement's ad. */
static void
kex_transcript(const uint8_t *ctx, size_t ctxlen, const uint8_t *ik,
    const uint8_t *ir, const uint8_t *jk, const uint8_t *je,
    uint8_t ad[E2E_AD_SIZE])
{
	crypto_hash_sha256_state st;
	uint8_t n[4];

	be32_put(n, (uint32_t)ctxlen);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)label_transcript,
	    sizeof label_transcript - 1);
	crypto_hash_sha256_update(&st, n, sizeof n);
	crypto_hash_sha256_update(&st, ctx, ctxlen);
	crypto_hash_sha256_update(&st, ik, E2E_KEY_SIZE);
	crypto_hash_sha256_update(&st, ir, E2E_KEY_SIZE);
	crypto_hash_sha256_update(&st, jk, E2E_KEY_SIZE);
	crypto_hash_sha256_update(&st, je, E2E_KEY_SIZE);
	crypto_hash_sha256_final(&st, ad);
}

/*
 * Derive the agreement from the three DH outputs in dh (96 bytes) and
 * the ad; fills k's secrets.
 */
static void
kex_derive(const uint8_t *dh, struct e2e_kex *k)
{
	uint8_t okm[3 * E2E_KEY_SIZE];

	e2e_hkdf(k->ad, sizeof k->ad, dh, 3 * E2E_KEY_SIZE,
	    (const uint8_t *)label_x3dh, sizeof label_x3dh - 1, okm,
	    sizeof okm);
	memcpy(k->root, okm, E2E_KEY_SIZE);
	memcpy(k->hka, okm + E2E_KEY_SIZE, E2E_KEY_SIZE);
	memcpy(k->nhkb, okm + 2 * E2E_KEY_SIZE, E2E_KEY_SIZE);
	sodium_memzero(okm, sizeof okm);
}

/* Joiner side: answer an offer and derive the agreement. */
int
e2e_kex_answer(const uint8_t offer[E2E_OFFER_SIZE], const uint8_t *ctx,
    size_t ctxlen, uint8_t answer[E2E_ANSWER_SIZE], struct e2e_kex **out)
{
	const uint8_t *ik = offer, *ir = offer + E2E_KEY_SIZE;
	struct {
		uint8_t jk_priv[E2E_KEY_SIZE];
		uint8_t je_priv[E2E_KEY_SIZE];
		uint8_t dh[3 * E2E_KEY_SIZE];
	} *s = secret_alloc(sizeof *s);
	struct e2e_kex *k = NULL;
	uint8_t jk[E2E_KEY_SIZE], je[E2E_KEY_SIZE];
	int error;

	if (ctxlen > UINT32_MAX) {
		error = NOID_ERR_TOOBIG;
		goto out;
	}
	kex_keypair(s->jk_priv, jk);
	kex_keypair(s->je_priv, je);
	if ((error = kex_check_keys(ik, ir, jk, je)) != 0)
		goto out;
	if (crypto_scalarmult(s->dh, s->jk_priv, ir) != 0 ||
	    crypto_scalarmult(s->dh + E2E_KEY_SIZE, s->je_priv, ik) != 0 ||
	    crypto_scalarmult(s->dh + 2 * E2E_KEY_SIZE, s->je_priv, ir) != 0) {
		error = NOID_ERR_CRYPTO;
		goto out;
	}
	k = secret_alloc(sizeof *k);
	k->initiator = 1;
	kex_transcript(ctx, ctxlen, ik, ir, jk, je, k->ad);
	kex_derive(s->dh, k);
	memcpy(k->ratchet, ir, E2E_KEY_SIZE);
	memcpy(answer, jk, E2E_KEY_SIZE);
	memcpy(answer + E2E_KEY_SIZE, je, E2E_KEY_SIZE);
	*out = k;
	error = NOID_OK;
out:
	secret_free(s);
	return error;
}

/* Inviter side: finish the agreement with the joiner's answer. */
int
e2e_kex_finish(const struct e2e_offer *o, const uint8_t answer[E2E_ANSWER_SIZE],
    const uint8_t *ctx, size_t ctxlen, struct e2e_kex **out)
{
	const uint8_t *jk = answer, *je = answer + E2E_KEY_SIZE;
	uint8_t *dh = secret_alloc(3 * E2E_KEY_SIZE);
	struct e2e_kex *k;
	int error;

	if (ctxlen > UINT32_MAX) {
		error = NOID_ERR_TOOBIG;
		goto out;
	}
	if ((error = kex_check_keys(o->k_pub, o->r_pub, jk, je)) != 0)
		goto out;
	if (crypto_scalarmult(dh, o->r_priv, jk) != 0 ||
	    crypto_scalarmult(dh + E2E_KEY_SIZE, o->k_priv, je) != 0 ||
	    crypto_scalarmult(dh + 2 * E2E_KEY_SIZE, o->r_priv, je) != 0) {
		error = NOID_ERR_CRYPTO;
		goto out;
	}
	k = secret_alloc(sizeof *k);
	k->initiator = 0;
	kex_transcript(ctx, ctxlen, o->k_pub, o->r_pub, jk, je, k->ad);
	kex_derive(dh, k);
	memcpy(k->ratchet, o->r_priv, E2E_KEY_SIZE);
	*out = k;
	error = NOID_OK;
out:
	secret_free(dh);
	return error;
}

/* Start the ratchet this agreement set up. */
int
e2e_kex_ratchet(const struct e2e_kex *k, struct e2e_ratchet **out)
{
	if (k->initiator)
		return e2e_ratchet_init_initiator(
		    k->root, k->hka, k->nhkb, k->ad, k->ratchet, out);
	return e2e_ratchet_init_responder(
	    k->root, k->hka, k->nhkb, k->ad, k->ratchet, out);
}

/* Render the 60-digit security code of an agreement's ad. */
void
e2e_code_from_ad(const uint8_t ad[E2E_AD_SIZE], struct e2e_code *c)
{
	crypto_hash_sha512_state st;
	uint8_t h[crypto_hash_sha512_BYTES];
	char *t = c->text;
	uint64_t v;
	int i, j;

	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(
	    &st, (const uint8_t *)label_code, sizeof label_code - 1);
	crypto_hash_sha512_update(&st, ad, E2E_AD_SIZE);
	crypto_hash_sha512_final(&st, h);
	for (i = 0; i < E2E_CODE_GROUPS; i++) {
		v = 0;
		for (j = 0; j < 5; j++)
			v = (v << 8) | h[i * 5 + j];
		v %= 100000;
		for (j = 4; j >= 0; j--) {
			c->digits[i * 5 + j] = (char)('0' + v % 10);
			v /= 10;
		}
		if (i != 0)
			*t++ = ' ';
		memcpy(t, c->digits + i * 5, 5);
		t += 5;
	}
	c->digits[E2E_CODE_DIGITS] = '\0';
	*t = '\0';
	memcpy(c->qr, E2E_CODE_QR_PREFIX, sizeof E2E_CODE_QR_PREFIX - 1);
	memcpy(c->qr + sizeof E2E_CODE_QR_PREFIX - 1, c->digits,
	    E2E_CODE_DIGITS + 1);
}

/* Compare a typed or scanned code with ours in constant time. */
int
e2e_code_check(const struct e2e_code *c, const char *input)
{
	char got[E2E_CODE_DIGITS];
	size_t n = 0;
	const char *s = input;

	if (strncmp(s, E2E_CODE_QR_PREFIX, sizeof E2E_CODE_QR_PREFIX - 1) == 0)
		s += sizeof E2E_CODE_QR_PREFIX - 1;
	for (; *s != '\0'; s++) {
		if (*s == ' ')
			continue;
		if (!isdigit((unsigned char)*s) || n == sizeof got)
			return NOID_ERR_INVAL;
		got[n++] = *s;
	}
	if (n != sizeof got)
		return NOID_ERR_INVAL;
	if (sodium_memcmp(got, c->digits, sizeof got) != 0)
		return NOID_ERR_AUTH;
	return NOID_OK;
}
