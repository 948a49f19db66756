/*
 * noid — e2e: the end-to-end crypto core the agent builds on.
 *
 * Pure crypto on libsodium: no I/O, no store, no sockets.  Four files:
 *
 *   e2e-kex.c      key agreement (X3DH-style, every key one-time) and the
 *                  security code both sides compare;
 *   e2e-ratchet.c  the Double Ratchet with header encryption (Signal spec,
 *                  "Double Ratchet with header encryption"), transactional
 *                  decrypt, bounded skipped keys, save/load;
 *   e2e-pad.c      fixed-size padding used by every layer.
 *   e2e-kdf.c      HKDF-SHA256 (RFC 5869) and the chain KDFs.
 *
 * Flow.  The inviter makes an offer (two X25519 public keys) and puts it
 * in the invitation.  The joiner answers it (two keys of its own) and
 * gets a struct e2e_kex; the inviter finishes with the answer and gets
 * the same secrets.  e2e_kex_ratchet() turns either side's result into a
 * ratchet: the joiner's can send at once (its first header carries its
 * ratchet key), the inviter's can send once it has decrypted one message.
 * Re-key is the same exchange again (in-band inside the old ratchet, or
 * through a new invitation) and yields a new ratchet and a new code.
 *
 * Every ratchet message is exactly E2E_MSG_SIZE bytes:
 *
 *   0    u8   E2E_VERSION
 *   1    24   header nonce
 *   25   56   header: XChaCha20-Poly1305(HK, dh[32] pn[u32be] n[u32be])
 *             ad = version || kex ad
 *   81   24   body nonce
 *   105  E2E_PAD+16  body: XChaCha20-Poly1305(MK, pad(plaintext))
 *             ad = kex ad || bytes 0..80 above || caller ad
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_E2E_H
#define NOID_E2E_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"

#define E2E_VERSION 1
#define E2E_KEY_SIZE 32 /* X25519 keys, chain/root/header keys */
#define E2E_NONCE_SIZE 24 /* XChaCha20-Poly1305 */
#define E2E_TAG_SIZE 16
#define E2E_AD_SIZE 32 /* hash of both sides' public keys */

/* An offer (in the invitation) and an answer are two public keys each. */
#define E2E_OFFER_SIZE (2 * E2E_KEY_SIZE)
#define E2E_ANSWER_SIZE (2 * E2E_KEY_SIZE)

/*
 * Sizes.  A relay message body is E2E_RELAY_BODY bytes; the agent's
 * per-queue box (nonce, tag, its own pad prefix, version) must fit in
 * E2E_QUEUE_RESERVE around the ratchet message.  The ratchet pads every
 * plaintext to E2E_PAD bytes (2-byte length prefix + payload + zeros), so
 * the most a caller can send in one message is E2E_MAX_PAYLOAD.
 */
#define E2E_RELAY_BODY 16000
#define E2E_QUEUE_RESERVE 128
#define E2E_HEADER_SIZE (E2E_KEY_SIZE + 4 + 4)
#define E2E_OVERHEAD                                                           \
	(1 + E2E_NONCE_SIZE + E2E_HEADER_SIZE + E2E_TAG_SIZE +                 \
	    E2E_NONCE_SIZE + E2E_TAG_SIZE)
#define E2E_MSG_SIZE (E2E_RELAY_BODY - E2E_QUEUE_RESERVE) /* 15872 */
#define E2E_PAD (E2E_MSG_SIZE - E2E_OVERHEAD) /* 15751 */
#define E2E_PAD_PREFIX 2
#define E2E_MAX_PAYLOAD (E2E_PAD - E2E_PAD_PREFIX) /* 15749 */

/*
 * Skipped message keys: at most E2E_MAX_SKIP may be skipped in one gap
 * of one chain, and at most E2E_MAX_SKIPPED are kept in total (the
 * oldest is dropped first).
 */
#define E2E_MAX_SKIP 512
#define E2E_MAX_SKIPPED 2048

/* ---- padding (e2e-pad.c) ---- */

/*
 * Pad len bytes into out[size]: a 2-byte big-endian length, the bytes,
 * zeros.  NOID_ERR_TOOBIG when len > size - 2 (or size > 65537).
 */
int e2e_pad(const uint8_t *p, size_t len, uint8_t *out, size_t size);

/*
 * Strictly undo e2e_pad: len must equal size, the length must fit, and
 * every padding byte must be zero.  *payload borrows from p.
 */
int e2e_unpad(const uint8_t *p, size_t len, size_t size,
    const uint8_t **payload, size_t *plen);

/* ---- KDFs (e2e-kdf.c) ---- */

/*
 * HKDF-SHA256 (RFC 5869): extract with salt (NULL/0 = 32 zero bytes)
 * then expand to outlen bytes (at most 255 * 32).
 */
int e2e_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
    size_t ikmlen, const uint8_t *info, size_t infolen, uint8_t *out,
    size_t outlen);

/* ---- key agreement and security code (e2e-kex.c) ---- */

/* The inviter's private half of an offer (secret memory; opaque). */
struct e2e_offer;
/* The result of one agreement, on either side (secret memory; opaque). */
struct e2e_kex;

/* Inviter: make a one-time offer; pub gets what goes in the invitation. */
int e2e_offer_new(struct e2e_offer **out, uint8_t pub[E2E_OFFER_SIZE]);
/* The offer's public half again (to show a pending invitation). */
void e2e_offer_public(const struct e2e_offer *o, uint8_t pub[E2E_OFFER_SIZE]);
/* Serialize an offer (holds private keys: free out with buf_free_secret). */
void e2e_offer_save(const struct e2e_offer *o, struct buf *out);
/* Parse a saved offer; NOID_ERR_CORRUPT or NOID_ERR_VERSION if bad. */
int e2e_offer_load(const uint8_t *p, size_t len, struct e2e_offer **out);
/* Wipe and free an offer; NULL is a no-op. */
void e2e_offer_free(struct e2e_offer *o);

/*
 * Joiner: answer the offer from an invitation.  answer gets what goes
 * back to the inviter; *out the agreement (caller frees).  ctx binds the
 * agreement to its purpose: empty for an invitation, the old ratchet's
 * ad (e2e_ratchet_ad) for an in-band re-key.  Both sides must pass the
 * same ctx.
 */
int e2e_kex_answer(const uint8_t offer[E2E_OFFER_SIZE], const uint8_t *ctx,
    size_t ctxlen, uint8_t answer[E2E_ANSWER_SIZE], struct e2e_kex **out);
/* Inviter: finish the agreement with the joiner's answer. */
int e2e_kex_finish(const struct e2e_offer *o,
    const uint8_t answer[E2E_ANSWER_SIZE], const uint8_t *ctx, size_t ctxlen,
    struct e2e_kex **out);
/* Wipe and free an agreement; NULL is a no-op. */
void e2e_kex_free(struct e2e_kex *k);

/*
 * The security code: 60 digits derived from the agreement's transcript
 * (both sides' public keys and ctx), identical on both sides.
 */
#define E2E_CODE_DIGITS 60
#define E2E_CODE_GROUPS 12
#define E2E_CODE_QR_PREFIX "NOID:CODE:1:"
struct e2e_code {
	char digits[E2E_CODE_DIGITS + 1]; /* "0123456789..." */
	char text[E2E_CODE_DIGITS + E2E_CODE_GROUPS]; /* "01234 56789 ..." */
	/* QR payload (alphanumeric set): E2E_CODE_QR_PREFIX + digits. */
	char qr[sizeof E2E_CODE_QR_PREFIX + E2E_CODE_DIGITS];
};

/* Render the code for an agreement's ad. */
void e2e_code_from_ad(const uint8_t ad[E2E_AD_SIZE], struct e2e_code *c);
/*
 * Compare what the user typed or scanned (the QR payload, or the 60
 * digits with any spaces) with a code in constant time; 0 when equal,
 * NOID_ERR_AUTH when not, NOID_ERR_INVAL when it is not a code at all.
 */
int e2e_code_check(const struct e2e_code *c, const char *input);

/* ---- double ratchet (e2e-ratchet.c) ---- */

struct e2e_ratchet; /* opaque; secret memory */

/* Start the ratchet an agreement set up (either side; caller frees). */
int e2e_kex_ratchet(const struct e2e_kex *k, struct e2e_ratchet **out);

/*
 * The raw starts, in the Signal spec's terms (RatchetInitAliceHE and
 * RatchetInitBobHE): root key sk, header keys hka (initiator->responder
 * first chain) and nhkb (responder's first chain), the agreement's ad.
 * The initiator knows the responder's ratchet public key; the responder
 * holds its private key.  Tests and e2e_kex_ratchet use these.
 */
int e2e_ratchet_init_initiator(const uint8_t sk[E2E_KEY_SIZE],
    const uint8_t hka[E2E_KEY_SIZE], const uint8_t nhkb[E2E_KEY_SIZE],
    const uint8_t ad[E2E_AD_SIZE], const uint8_t peer_pub[E2E_KEY_SIZE],
    struct e2e_ratchet **out);
int e2e_ratchet_init_responder(const uint8_t sk[E2E_KEY_SIZE],
    const uint8_t hka[E2E_KEY_SIZE], const uint8_t nhkb[E2E_KEY_SIZE],
    const uint8_t ad[E2E_AD_SIZE], const uint8_t own_priv[E2E_KEY_SIZE],
    struct e2e_ratchet **out);

/*
 * Encrypt ptlen <= E2E_MAX_PAYLOAD bytes; appends exactly E2E_MSG_SIZE
 * bytes to out.  The caller's ad (may be empty) is authenticated, not
 * sent.  NOID_ERR_STATE when this side cannot send yet (a responder
 * before its first decrypt).  Save the ratchet before sending the
 * message so a crash never reuses a key.
 */
int e2e_ratchet_encrypt(struct e2e_ratchet *r, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t ptlen, struct buf *out);

/*
 * Decrypt one message, appending the payload to pt.  Transactional: on
 * any error the ratchet (and pt) are exactly as before.  Errors:
 * NOID_ERR_INVAL (wrong size), NOID_ERR_VERSION, NOID_ERR_CRYPTO (no key
 * opens header or body), NOID_ERR_DUPLICATE (already decrypted),
 * NOID_ERR_TOOBIG (gap over E2E_MAX_SKIP), NOID_ERR_PROTO (bad header).
 */
int e2e_ratchet_decrypt(struct e2e_ratchet *r, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t ctlen, struct buf *pt);

/*
 * Do now the sending half of a DH step that decrypt left pending (a
 * new key pair and one DH), so the next encrypt is quick.  Returns 1
 * when the state changed (save it), else 0.
 */
int e2e_ratchet_prepare(struct e2e_ratchet *r);

/* The agreement's ad (for e2e_code_from_ad and re-key ctx). */
const uint8_t *e2e_ratchet_ad(const struct e2e_ratchet *r);
/* The security code of the agreement this ratchet came from. */
void e2e_ratchet_code(const struct e2e_ratchet *r, struct e2e_code *c);
/* How many skipped message keys are kept. */
size_t e2e_ratchet_skipped(const struct e2e_ratchet *r);

/*
 * Serialize (versioned, checksummed; holds keys: free with
 * buf_free_secret) and parse.  Load rejects anything malformed with
 * NOID_ERR_CORRUPT, or NOID_ERR_VERSION for an unknown version.
 */
void e2e_ratchet_save(const struct e2e_ratchet *r, struct buf *out);
int e2e_ratchet_load(const uint8_t *p, size_t len, struct e2e_ratchet **out);
/* Wipe and free; NULL is a no-op. */
void e2e_ratchet_free(struct e2e_ratchet *r);

/*
 * Test hook: cb sees every (key, nonce) used to encrypt a header or a
 * body, so tests can assert no pair ever repeats.  NULL turns it off.
 */
typedef void (*e2e_send_observer)(const uint8_t key[E2E_KEY_SIZE],
    const uint8_t nonce[E2E_NONCE_SIZE], void *arg);
void e2e_set_send_observer(e2e_send_observer cb, void *arg);

#endif
