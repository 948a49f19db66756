/*
 * noise: the Noise NK handshake and transport cipher states, following
 * the Noise Protocol Framework rev 34 §5 (CipherState, SymmetricState,
 * HandshakeState) with DH = X25519, cipher = ChaChaPoly (IETF, nonce = 4
 * zero bytes || 64-bit little-endian counter) and hash = SHA-256 with
 * HMAC/HKDF as in §4.3.  Checked against the published NK vector in
 * tests/net/test-noise.c.
 */
#include "noise.h"

#include <sodium.h>
#include <string.h>

#include "base.h"

static const char noise_protocol_name[] = "Noise_NK_25519_ChaChaPoly_SHA256";

struct noise_cipher {
	uint8_t k[NOISE_KEY_LEN];
	uint64_t n;
	int has_k;
};

/* Which message comes next; NK has exactly two. */
enum noise_step {
	NOISE_STEP_MSG1,
	NOISE_STEP_MSG2,
	NOISE_STEP_DONE,
	NOISE_STEP_FAILED
};

struct noise_hs {
	enum noise_role role;
	enum noise_step step;
	struct noise_cipher cs;
	uint8_t ck[NOISE_HASH_LEN];
	uint8_t h[NOISE_HASH_LEN];
	uint8_t s_priv[NOISE_KEY_LEN];
	uint8_t s_pub[NOISE_KEY_LEN];
	uint8_t e_priv[NOISE_KEY_LEN];
	uint8_t e_pub[NOISE_KEY_LEN];
	uint8_t rs[NOISE_KEY_LEN];
	uint8_t re[NOISE_KEY_LEN];
	int e_set;
};

/* Generate a key pair from the CSPRNG. */
void
noise_keypair(uint8_t priv[NOISE_KEY_LEN], uint8_t pub[NOISE_KEY_LEN])
{
	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	randombytes_buf(priv, NOISE_KEY_LEN);
	crypto_scalarmult_base(pub, priv);
}

/* X25519, refusing an all-zero result. */
int
noise_dh(uint8_t out[NOISE_KEY_LEN], const uint8_t priv[NOISE_KEY_LEN],
    const uint8_t pub[NOISE_KEY_LEN])
{
	if (crypto_scalarmult(out, priv, pub) != 0) {
		sodium_memzero(out, NOISE_KEY_LEN);
		return NOID_ERR_CRYPTO;
	}
	return 0;
}

/* HMAC-SHA256(key, a || b). */
void
noise_hmac(uint8_t out[NOISE_HASH_LEN], const uint8_t *key, size_t keylen,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	if (alen != 0)
		crypto_auth_hmacsha256_update(&st, a, alen);
	if (blen != 0)
		crypto_auth_hmacsha256_update(&st, b, blen);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* HKDF(ck, ikm) with two outputs, as Noise §4.3 defines it. */
static void
noise_hkdf2(const uint8_t ck[NOISE_HASH_LEN], const uint8_t *ikm,
    size_t ikm_len, uint8_t o1[NOISE_HASH_LEN], uint8_t o2[NOISE_HASH_LEN])
{
	uint8_t temp[NOISE_HASH_LEN], one = 0x01, two = 0x02;
	uint8_t t1[NOISE_HASH_LEN];

	noise_hmac(temp, ck, NOISE_HASH_LEN, ikm, ikm_len, NULL, 0);
	noise_hmac(t1, temp, NOISE_HASH_LEN, &one, 1, NULL, 0);
	noise_hmac(o2, temp, NOISE_HASH_LEN, t1, sizeof t1, &two, 1);
	memcpy(o1, t1, sizeof t1);
	sodium_memzero(temp, sizeof temp);
	sodium_memzero(t1, sizeof t1);
}

/* The 12-byte ChaChaPoly nonce: 4 zero bytes then n little-endian. */
static void
noise_nonce(uint8_t out[12], uint64_t n)
{
	int i;

	memset(out, 0, 4);
	for (i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(n >> (8 * i));
}

/* EncryptWithAd; out may equal pt. */
int
noise_cipher_encrypt(struct noise_cipher *c, const void *ad, size_t ad_len,
    const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	/* 2^64-1 is reserved (spec §5.1); the connection must end first. */
	if (c->n == UINT64_MAX)
		return NOID_ERR_LIMIT;
	noise_nonce(nonce, c->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(
	    out, NULL, pt, len, ad, ad_len, NULL, nonce, c->k);
	c->n++;
	return 0;
}

/* DecryptWithAd; out may equal ct.  The nonce advances only on success. */
int
noise_cipher_decrypt(struct noise_cipher *c, const void *ad, size_t ad_len,
    const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	if (len < NOISE_TAG_LEN)
		return NOID_ERR_CRYPTO;
	if (c->n == UINT64_MAX)
		return NOID_ERR_LIMIT;
	noise_nonce(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
	        out, NULL, NULL, ct, len, ad, ad_len, nonce, c->k) != 0)
		return NOID_ERR_CRYPTO;
	c->n++;
	return 0;
}

/* The next nonce. */
uint64_t
noise_cipher_nonce(const struct noise_cipher *c)
{
	return c->n;
}

/* Size of a cipher state. */
size_t
noise_cipher_sizeof(void)
{
	return sizeof(struct noise_cipher);
}

/* Wipe and free. */
void
noise_cipher_free(struct noise_cipher *c)
{
	if (c == NULL)
		return;
	sodium_memzero(c, sizeof *c);
	free(c);
}

/* MixHash: h = SHA256(h || data). */
static void
noise_mix_hash(struct noise_hs *hs, const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, hs->h, sizeof hs->h);
	if (len != 0)
		crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, hs->h);
}

/* MixKey: ck, k = HKDF(ck, ikm); n = 0. */
static void
noise_mix_key(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	noise_hkdf2(hs->ck, ikm, len, hs->ck, hs->cs.k);
	hs->cs.n = 0;
	hs->cs.has_k = 1;
}

/* MixKey(DH(priv, pub)). */
static int
noise_mix_dh(struct noise_hs *hs, const uint8_t *priv, const uint8_t *pub)
{
	uint8_t dh[NOISE_KEY_LEN];
	int error;

	if ((error = noise_dh(dh, priv, pub)) != 0)
		return error;
	noise_mix_key(hs, dh, sizeof dh);
	sodium_memzero(dh, sizeof dh);
	return 0;
}

/* EncryptAndHash into out (len + tag bytes once a key is set). */
static int
noise_encrypt_and_hash(struct noise_hs *hs, const uint8_t *pt, size_t len,
    uint8_t *out, size_t *outlen)
{
	int error;

	if (!hs->cs.has_k) {
		if (len != 0)
			memmove(out, pt, len);
		*outlen = len;
	} else {
		error = noise_cipher_encrypt(
		    &hs->cs, hs->h, sizeof hs->h, pt, len, out);
		if (error != 0)
			return error;
		*outlen = len + NOISE_TAG_LEN;
	}
	noise_mix_hash(hs, out, *outlen);
	return 0;
}

/* DecryptAndHash into out. */
static int
noise_decrypt_and_hash(struct noise_hs *hs, const uint8_t *ct, size_t len,
    uint8_t *out, size_t *outlen)
{
	uint8_t h[NOISE_HASH_LEN];
	int error;

	/* The hash covers the ciphertext, which out may overwrite. */
	memcpy(h, hs->h, sizeof h);
	noise_mix_hash(hs, ct, len);
	if (!hs->cs.has_k) {
		if (len != 0)
			memmove(out, ct, len);
		*outlen = len;
		return 0;
	}
	error = noise_cipher_decrypt(&hs->cs, h, sizeof h, ct, len, out);
	if (error != 0)
		return error;
	*outlen = len - NOISE_TAG_LEN;
	return 0;
}

/* InitializeSymmetric + prologue + the NK pre-message (<- s). */
static struct noise_hs *
noise_hs_init(enum noise_role role, const void *prologue, size_t prologue_len,
    const uint8_t rs_or_s[NOISE_KEY_LEN])
{
	struct noise_hs *hs;

	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	hs = secret_alloc(sizeof *hs);
	hs->role = role;
	hs->step = NOISE_STEP_MSG1;
	/* The name is exactly HASHLEN bytes, so h = name (no hashing). */
	memcpy(hs->h, noise_protocol_name, NOISE_HASH_LEN);
	memcpy(hs->ck, hs->h, NOISE_HASH_LEN);
	noise_mix_hash(hs, prologue, prologue_len);
	noise_mix_hash(hs, rs_or_s, NOISE_KEY_LEN);
	return hs;
}

/* Start as initiator. */
struct noise_hs *
noise_hs_new_initiator(
    const void *prologue, size_t prologue_len, const uint8_t rs[NOISE_KEY_LEN])
{
	struct noise_hs *hs;

	hs = noise_hs_init(NOISE_INITIATOR, prologue, prologue_len, rs);
	memcpy(hs->rs, rs, NOISE_KEY_LEN);
	return hs;
}

/* Start as responder. */
struct noise_hs *
noise_hs_new_responder(const void *prologue, size_t prologue_len,
    const uint8_t s_priv[NOISE_KEY_LEN], const uint8_t s_pub[NOISE_KEY_LEN])
{
	struct noise_hs *hs;

	hs = noise_hs_init(NOISE_RESPONDER, prologue, prologue_len, s_pub);
	memcpy(hs->s_priv, s_priv, NOISE_KEY_LEN);
	memcpy(hs->s_pub, s_pub, NOISE_KEY_LEN);
	return hs;
}

/* Fix the ephemeral key (tests). */
int
noise_hs_set_ephemeral(struct noise_hs *hs, const uint8_t e_priv[NOISE_KEY_LEN])
{
	if (hs->e_set)
		return NOID_ERR_STATE;
	memcpy(hs->e_priv, e_priv, NOISE_KEY_LEN);
	crypto_scalarmult_base(hs->e_pub, hs->e_priv);
	hs->e_set = 1;
	return 0;
}

/* Both NK messages are e (32 bytes) plus an encrypted payload. */
size_t
noise_hs_msg_len(const struct noise_hs *hs, size_t payload_len)
{
	(void)hs;
	return NOISE_KEY_LEN + payload_len + NOISE_TAG_LEN;
}

/* Is it our turn to write? */
static int
noise_hs_our_turn(const struct noise_hs *hs)
{
	return (hs->role == NOISE_INITIATOR && hs->step == NOISE_STEP_MSG1) ||
	    (hs->role == NOISE_RESPONDER && hs->step == NOISE_STEP_MSG2);
}

/* After a message: move to the next step, or fail for good. */
static int
noise_hs_advance(struct noise_hs *hs, int error)
{
	if (error != 0)
		hs->step = NOISE_STEP_FAILED;
	else if (hs->step == NOISE_STEP_MSG1)
		hs->step = NOISE_STEP_MSG2;
	else
		hs->step = NOISE_STEP_DONE;
	return error;
}

/* Write msg1 (e, es) or msg2 (e, ee). */
int
noise_hs_write(struct noise_hs *hs, const void *payload, size_t payload_len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	const uint8_t *remote;
	size_t n;
	int error;

	if (!noise_hs_our_turn(hs))
		return NOID_ERR_STATE;
	if (payload_len > NOISE_MSG_MAX - NOISE_KEY_LEN - NOISE_TAG_LEN ||
	    cap < noise_hs_msg_len(hs, payload_len))
		return NOID_ERR_TOOBIG;
	if (!hs->e_set) {
		noise_keypair(hs->e_priv, hs->e_pub);
		hs->e_set = 1;
	}
	memcpy(out, hs->e_pub, NOISE_KEY_LEN);
	noise_mix_hash(hs, hs->e_pub, NOISE_KEY_LEN);
	/* es for the initiator, ee for the responder. */
	remote = hs->role == NOISE_INITIATOR ? hs->rs : hs->re;
	if ((error = noise_mix_dh(hs, hs->e_priv, remote)) != 0)
		goto out;
	error = noise_encrypt_and_hash(
	    hs, payload, payload_len, out + NOISE_KEY_LEN, &n);
	if (error != 0)
		goto out;
	*outlen = NOISE_KEY_LEN + n;
out:
	return noise_hs_advance(hs, error);
}

/* Read msg1 (e, es) as responder or msg2 (e, ee) as initiator. */
int
noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap, size_t *payload_len)
{
	const uint8_t *priv;
	int error;

	if (hs->step == NOISE_STEP_FAILED || hs->step == NOISE_STEP_DONE ||
	    noise_hs_our_turn(hs))
		return NOID_ERR_STATE;
	if (len < NOISE_KEY_LEN + NOISE_TAG_LEN || len > NOISE_MSG_MAX)
		return NOID_ERR_PROTO;
	if (cap < len - NOISE_KEY_LEN - NOISE_TAG_LEN)
		return NOID_ERR_TOOBIG;
	memcpy(hs->re, msg, NOISE_KEY_LEN);
	noise_mix_hash(hs, hs->re, NOISE_KEY_LEN);
	/* es (responder: s with their e) or ee (initiator: our e). */
	priv = hs->role == NOISE_RESPONDER ? hs->s_priv : hs->e_priv;
	if ((error = noise_mix_dh(hs, priv, hs->re)) != 0)
		goto out;
	error = noise_decrypt_and_hash(
	    hs, msg + NOISE_KEY_LEN, len - NOISE_KEY_LEN, payload, payload_len);
out:
	return noise_hs_advance(hs, error);
}

/* Finished? */
int
noise_hs_done(const struct noise_hs *hs)
{
	return hs->step == NOISE_STEP_DONE;
}

/* The handshake hash. */
const uint8_t *
noise_hs_hash(const struct noise_hs *hs)
{
	return hs->h;
}

/* Split: c1 carries initiator->responder, c2 the other way. */
int
noise_hs_split(
    struct noise_hs *hs, struct noise_cipher **send, struct noise_cipher **recv)
{
	struct noise_cipher *c1, *c2;

	if (hs->step != NOISE_STEP_DONE)
		return NOID_ERR_STATE;
	c1 = xcalloc(1, sizeof *c1);
	c2 = xcalloc(1, sizeof *c2);
	noise_hkdf2(hs->ck, NULL, 0, c1->k, c2->k);
	c1->has_k = c2->has_k = 1;
	if (hs->role == NOISE_INITIATOR) {
		*send = c1;
		*recv = c2;
	} else {
		*send = c2;
		*recv = c1;
	}
	return 0;
}

/* Wipe and free. */
void
noise_hs_free(struct noise_hs *hs)
{
	secret_free(hs);
}
