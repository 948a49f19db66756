/*
 * proto-auth: the command authenticator and the relay->recipient layer.
 *
 * The authenticator is keyed BLAKE2b-256 (a PRF, hence a MAC) under a
 * key both ends derive from one X25519 between the command's auth key
 * and the relay's per-session auth key, salted with the session id: it
 * proves possession of the auth key to this relay in this session only
 * (no replay into another session) and, unlike a signature, convinces
 * nobody else (deniable).  It covers the transmission but not a SEND's
 * body: the Noise transport already authenticates every byte of the
 * frame within the session, so hashing 16 KB again on both ends bought
 * nothing (PROTOCOL.md §5.1).
 */
#include "proto.h"

#include <sodium.h>
#include <string.h>

#include "base.h"
#include "noise.h"

/* k = HKDF-SHA256(ikm = DH, salt = session id, info) per RFC 5869. */
int
proto_auth_key(uint8_t k[32], const uint8_t my_priv[32],
    const uint8_t their_pub[32], const uint8_t session_id[32])
{
	static const uint8_t info[] = NOID_AUTH_INFO "\x01";
	uint8_t dh[32], prk[32];
	int error;

	if ((error = noise_dh(dh, my_priv, their_pub)) != 0) {
		/* Defined output: the relay MACs with k anyway so a bad
		 * key costs what a good one does. */
		sodium_memzero(k, 32);
		return error;
	}
	noise_hmac(
	    prk, session_id, NOID_SESSION_ID_LEN, dh, sizeof dh, NULL, 0);
	/* T(1) = HMAC(PRK, info || 0x01); one block is all we need. */
	noise_hmac(k, prk, sizeof prk, info, sizeof info - 1, NULL, 0);
	sodium_memzero(dh, sizeof dh);
	sodium_memzero(prk, sizeof prk);
	return 0;
}

/* Below p = 2^255 - 19, so the top bit is clear too. */
int
proto_key_canonical(const uint8_t pub[NOID_KEY_LEN])
{
	size_t i;

	if (pub[31] != 0x7f)
		return pub[31] < 0x7f;
	for (i = 30; i > 0; i--)
		if (pub[i] != 0xff)
			return 1;
	return pub[0] < 0xed;
}

/* Canonical and of large order (one X25519 with a fixed scalar: a
 * low-order point gives the all-zero result libsodium refuses). */
int
proto_key_check(const uint8_t pub[NOID_KEY_LEN])
{
	static const uint8_t scalar[32] = {1};
	uint8_t out[32];
	int bad;

	if (!proto_key_canonical(pub))
		return NOID_ERR_PROTO;
	bad = crypto_scalarmult(out, scalar, pub) != 0;
	sodium_memzero(out, sizeof out);
	return bad ? NOID_ERR_PROTO : 0;
}

/* Fill a signer. */
int
proto_signer_init(struct proto_signer *s, const uint8_t auth_priv[32],
    const uint8_t auth_pub[32], const uint8_t session_auth_pub[32],
    const uint8_t session_id[32])
{
	memcpy(s->auth_pub, auth_pub, NOID_KEY_LEN);
	memcpy(s->session_id, session_id, NOID_SESSION_ID_LEN);
	return proto_auth_key(s->k, auth_priv, session_auth_pub, session_id);
}

/* The MAC: keyed BLAKE2b-256 over session_id || signed bytes. */
void
proto_auth_mac(uint8_t mac[NOID_MAC_LEN], const uint8_t k[32],
    const uint8_t session_id[32], const uint8_t *signed_part, size_t len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, k, 32, NOID_MAC_LEN);
	crypto_generichash_update(&st, session_id, NOID_SESSION_ID_LEN);
	crypto_generichash_update(&st, signed_part, len);
	crypto_generichash_final(&st, mac, NOID_MAC_LEN);
	sodium_memzero(&st, sizeof st);
}

/* Verify in constant time. */
int
proto_auth_verify(const struct proto_tx *tx, const uint8_t k[32],
    const uint8_t session_id[32])
{
	uint8_t mac[NOID_MAC_LEN];
	int bad;

	proto_auth_mac(mac, k, session_id, tx->signed_part, tx->signed_len);
	bad = ct_memcmp(mac, tx->mac, NOID_MAC_LEN) != 0 ||
	    tx->auth_kind != PROTO_AUTH_MAC;
	sodium_memzero(mac, sizeof mac);
	return bad ? NOID_ERR_AUTH : 0;
}

/* BLAKE2b-256 of a public key. */
void
proto_key_hash(uint8_t out[32], const uint8_t pub[NOID_KEY_LEN])
{
	crypto_generichash(out, 32, pub, NOID_KEY_LEN, NULL, 0);
}

/* crypto_box shared key. */
int
proto_msg_shared(
    uint8_t shared[32], const uint8_t peer_pub[32], const uint8_t my_priv[32])
{
	if (crypto_box_beforenm(shared, peer_pub, my_priv) != 0) {
		sodium_memzero(shared, 32);
		return NOID_ERR_CRYPTO;
	}
	return 0;
}

/* Seal ts_ms || flags || body under the queue's shared key. */
int
proto_msg_seal(uint8_t *enc, size_t cap, size_t *enc_len,
    const uint8_t msg_id[NOID_ID_LEN], const uint8_t shared[32], uint64_t ts_ms,
    uint8_t flags, const uint8_t *body, size_t body_len)
{
	uint8_t *plain = enc + NOID_MSG_BOX_MAC;
	size_t plain_len = NOID_MSG_PLAIN_HDR + body_len;

	if (body_len == 0 || body_len > NOID_MSG_MAX)
		return NOID_ERR_TOOBIG;
	if (cap < NOID_MSG_BOX_MAC + plain_len)
		return NOID_ERR_TOOBIG;
	/* Build the plaintext in place; secretbox allows the overlap. */
	memmove(plain + NOID_MSG_PLAIN_HDR, body, body_len);
	be64_put(plain, ts_ms);
	plain[8] = flags;
	crypto_box_easy_afternm(enc, plain, plain_len, msg_id, shared);
	*enc_len = NOID_MSG_BOX_MAC + plain_len;
	return 0;
}

/* Open a MSG. */
int
proto_msg_open(uint8_t *plain, size_t cap, const uint8_t *enc, size_t enc_len,
    const uint8_t msg_id[NOID_ID_LEN], const uint8_t shared[32],
    uint64_t *ts_ms, uint8_t *flags, const uint8_t **body, size_t *body_len)
{
	size_t plain_len;

	if (enc_len < NOID_MSG_ENC_MIN || enc_len > NOID_MSG_ENC_MAX)
		return NOID_ERR_PROTO;
	plain_len = enc_len - NOID_MSG_BOX_MAC;
	if (cap < plain_len)
		return NOID_ERR_TOOBIG;
	if (crypto_box_open_easy_afternm(plain, enc, enc_len, msg_id, shared) !=
	    0)
		return NOID_ERR_CRYPTO;
	*ts_ms = be64_get(plain);
	*flags = plain[8];
	*body = plain + NOID_MSG_PLAIN_HDR;
	*body_len = plain_len - NOID_MSG_PLAIN_HDR;
	return 0;
}
