/*
 * noid — noise: Noise_NK_25519_ChaChaPoly_SHA256 (Noise spec rev 34) on
 * libsodium.  Only the NK pattern is implemented, in both roles:
 *
 *	<- s
 *	...
 *	-> e, es
 *	<- e, ee
 *
 * A handshake state (struct noise_hs) lives in secret_alloc memory and is
 * wiped on free.  After the two messages noise_hs_split() hands out the
 * two transport cipher states.  Those are small (a key and a counter)
 * plain heap objects, wiped on free: a relay keeps thousands of them and
 * a guarded sodium_malloc region costs two resident pages and three
 * mappings each.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_NOISE_H
#define NOID_NOISE_H

#include <stddef.h>
#include <stdint.h>

#define NOISE_KEY_LEN 32 /* X25519 keys, cipher keys, hashes */
#define NOISE_HASH_LEN 32 /* handshake hash (the session id) */
#define NOISE_TAG_LEN 16 /* ChaChaPoly authentication tag */
/* Largest Noise message (spec §3). */
#define NOISE_MSG_MAX 65535

enum noise_role { NOISE_INITIATOR, NOISE_RESPONDER };

struct noise_hs;
struct noise_cipher;

/* A fresh X25519 key pair from the CSPRNG. */
void noise_keypair(uint8_t priv[NOISE_KEY_LEN], uint8_t pub[NOISE_KEY_LEN]);

/* X25519; NOID_ERR_CRYPTO when the result is all zero (low-order key). */
int noise_dh(uint8_t out[NOISE_KEY_LEN], const uint8_t priv[NOISE_KEY_LEN],
    const uint8_t pub[NOISE_KEY_LEN]);

/* HMAC-SHA256(key, a || b); b may be empty. */
void noise_hmac(uint8_t out[NOISE_HASH_LEN], const uint8_t *key, size_t keylen,
    const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * Start an NK handshake as initiator, knowing the responder's static
 * public key rs.  The prologue is mixed into the hash; both sides must
 * use the same one.  Caller frees with noise_hs_free().
 */
struct noise_hs *noise_hs_new_initiator(
    const void *prologue, size_t prologue_len, const uint8_t rs[NOISE_KEY_LEN]);

/* Start an NK handshake as responder with static key pair (s_priv, s_pub). */
struct noise_hs *noise_hs_new_responder(const void *prologue,
    size_t prologue_len, const uint8_t s_priv[NOISE_KEY_LEN],
    const uint8_t s_pub[NOISE_KEY_LEN]);

/*
 * Tests only: use this ephemeral private key instead of a random one.
 * Must be called before the message that sends "e".
 */
int noise_hs_set_ephemeral(
    struct noise_hs *hs, const uint8_t e_priv[NOISE_KEY_LEN]);

/* Length of the next handshake message carrying a payload of len bytes. */
size_t noise_hs_msg_len(const struct noise_hs *hs, size_t payload_len);

/*
 * Write our next handshake message with payload into out (cap bytes;
 * noise_hs_msg_len() of them are needed).  NOID_ERR_STATE when it is
 * not our turn.
 */
int noise_hs_write(struct noise_hs *hs, const void *payload, size_t payload_len,
    uint8_t *out, size_t cap, size_t *outlen);

/*
 * Read the peer's next handshake message; its payload goes to payload
 * (cap bytes).  NOID_ERR_CRYPTO when authentication fails (wrong key,
 * tampering); the state is then unusable and must be freed.
 */
int noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t len,
    uint8_t *payload, size_t cap, size_t *payload_len);

/* Non-zero once both messages went through. */
int noise_hs_done(const struct noise_hs *hs);

/* The handshake hash h (valid once done; the session id). */
const uint8_t *noise_hs_hash(const struct noise_hs *hs);

/*
 * Split a finished handshake into our sending and receiving cipher
 * states (caller frees both with noise_cipher_free()).
 */
int noise_hs_split(struct noise_hs *hs, struct noise_cipher **send,
    struct noise_cipher **recv);

/* Wipe and free a handshake state; NULL is a no-op. */
void noise_hs_free(struct noise_hs *hs);

/*
 * Encrypt len bytes of pt with ad into out (len + NOISE_TAG_LEN bytes;
 * out may equal pt).  NOID_ERR_LIMIT when the nonce is exhausted.
 */
int noise_cipher_encrypt(struct noise_cipher *c, const void *ad, size_t ad_len,
    const uint8_t *pt, size_t len, uint8_t *out);

/*
 * Decrypt len bytes of ct into out (len - NOISE_TAG_LEN bytes; out may
 * equal ct).  NOID_ERR_CRYPTO on a bad tag; the nonce then stays put.
 */
int noise_cipher_decrypt(struct noise_cipher *c, const void *ad, size_t ad_len,
    const uint8_t *ct, size_t len, uint8_t *out);

/* The next nonce this cipher state will use. */
uint64_t noise_cipher_nonce(const struct noise_cipher *c);

/* Bytes one cipher state occupies (memory accounting). */
size_t noise_cipher_sizeof(void);

/* Wipe and free a cipher state; NULL is a no-op. */
void noise_cipher_free(struct noise_cipher *c);

#endif
