/*
 * e2e-ratchet: the Double Ratchet with header encryption, after the
 * Signal spec (RatchetEncryptHE / RatchetDecryptHE), with the changes a
 * relay-borne messenger needs:
 *
 * - XChaCha20-Poly1305 with random 24-byte nonces for header and body;
 *   KDF_RK is HKDF-SHA256 (salt = root key, info "noid e2e v1 ratchet",
 *   96 bytes -> root, chain, next header key); KDF_CK is HMAC-SHA256
 *   (message key = HMAC(ck, 0x01), next chain key = HMAC(ck, 0x02)).
 * - Transactional decrypt.  The spec mutates the state before it knows
 *   the message is authentic.  Here every step runs on r->work, a copy
 *   of the small fixed state; the keys a gap skips go to a pending list;
 *   only when the body tag verifies and the padding is sound are the
 *   copy and the pending keys committed.  Committing cannot fail, so any
 *   error leaves the ratchet (and its serialization) byte-identical.
 * - Every count is checked before any loop: n = 0xFFFFFFFF is refused
 *   at once (no key is derived), a gap over E2E_MAX_SKIP is refused, and
 *   a number below the chain's position is a replay.  At most
 *   E2E_MAX_SKIPPED skipped keys are kept, oldest dropped first.
 * - Message keys and scratch copies are wiped after use; all state is in
 *   secret_alloc memory.
 *
 * - The DH ratchet step on receiving is split: the receiving half (one
 *   DH) runs in decrypt; the sending half (a new key pair and a DH) is
 *   left pending until the first encrypt or e2e_ratchet_prepare(), so a
 *   message can be shown before that work is done.  Nothing the peer
 *   can send needs it sooner (its next step answers our new key), and
 *   a step that arrives while one is pending finishes it first, so the
 *   keys are exactly those of the eager order.
 *
 * Skipped keys are a flat array, oldest first; entries of one chain are
 * contiguous (a chain only gains entries while it is current, or once
 * when the peer's ratchet moves on), so trying each distinct header key
 * once is a linear scan.
 */
#include "e2e.h"

#include <sodium.h>
#include <string.h>

#define BLOB_VERSION 1
/* A state with a pending sending half (PEND_SEND): older code, which
 * would call it corrupt, says "newer version" instead. */
#define BLOB_VERSION_PEND 2
#define BLOB_SUM_SIZE 16
#define BLOB_FIXED (1 + 1 + 10 * E2E_KEY_SIZE + 4 * 4)
#define BLOB_ENTRY (2 * E2E_KEY_SIZE + 4)

#define OFF_HNONCE 1
#define OFF_HEADER (OFF_HNONCE + E2E_NONCE_SIZE)
#define OFF_BNONCE (OFF_HEADER + E2E_HEADER_SIZE + E2E_TAG_SIZE)
#define OFF_BODY (OFF_BNONCE + E2E_NONCE_SIZE)

_Static_assert(
    OFF_BODY + E2E_PAD + E2E_TAG_SIZE == E2E_MSG_SIZE, "message layout");
_Static_assert(
    E2E_MAX_SKIPPED >= 2 * E2E_MAX_SKIP, "one commit may add two gaps");

/* Which optional fields of the state are set. */
#define HAVE_DHR 0x01
#define HAVE_CKS 0x02
#define HAVE_CKR 0x04
#define HAVE_HKS 0x08
#define HAVE_HKR 0x10
#define HAVE_ALL 0x1f
#define PEND_SEND 0x20 /* the sending half of a DH step is still to do */

static const char label_ratchet[] = "noid e2e v1 ratchet";

struct core {
	uint8_t dhs_priv[E2E_KEY_SIZE];
	uint8_t dhs_pub[E2E_KEY_SIZE];
	uint8_t dhr[E2E_KEY_SIZE];
	uint8_t rk[E2E_KEY_SIZE];
	uint8_t cks[E2E_KEY_SIZE];
	uint8_t ckr[E2E_KEY_SIZE];
	uint8_t hks[E2E_KEY_SIZE];
	uint8_t hkr[E2E_KEY_SIZE];
	uint8_t nhks[E2E_KEY_SIZE];
	uint8_t nhkr[E2E_KEY_SIZE];
	uint8_t ad[E2E_AD_SIZE];
	uint32_t ns, nr, pn;
	uint32_t flags;
};

struct skipped {
	uint8_t hk[E2E_KEY_SIZE];
	uint8_t mk[E2E_KEY_SIZE];
	uint32_t n;
};

struct e2e_ratchet {
	struct core cur;
	struct core work; /* decrypt's scratch copy; zero between calls */
	uint8_t mk[E2E_KEY_SIZE]; /* the message key in use; zero between */
	struct skipped *sk; /* secret memory, oldest first; NULL if none */
	size_t nsk;
};

static e2e_send_observer send_observer;
static void *send_observer_arg;

/* Set (or clear, with NULL) the test hook that sees every send key. */
void
e2e_set_send_observer(e2e_send_observer cb, void *arg)
{
	send_observer = cb;
	send_observer_arg = arg;
}

/* Report one (key, nonce) to the observer, if any. */
static void
ratchet_observe(const uint8_t *key, const uint8_t *nonce)
{
	if (send_observer != NULL)
		send_observer(key, nonce, send_observer_arg);
}

/* KDF_RK: from the root key and a DH output, new root, chain, header. */
static void
ratchet_kdf_rk(
    uint8_t rk[E2E_KEY_SIZE], const uint8_t *dh, uint8_t *ck, uint8_t *nhk)
{
	uint8_t okm[3 * E2E_KEY_SIZE];

	e2e_hkdf(rk, E2E_KEY_SIZE, dh, E2E_KEY_SIZE,
	    (const uint8_t *)label_ratchet, sizeof label_ratchet - 1, okm,
	    sizeof okm);
	memcpy(rk, okm, E2E_KEY_SIZE);
	memcpy(ck, okm + E2E_KEY_SIZE, E2E_KEY_SIZE);
	memcpy(nhk, okm + 2 * E2E_KEY_SIZE, E2E_KEY_SIZE);
	sodium_memzero(okm, sizeof okm);
}

/* KDF_CK: the next message key, and the chain key moves one step. */
static void
ratchet_kdf_ck(uint8_t ck[E2E_KEY_SIZE], uint8_t mk[E2E_KEY_SIZE])
{
	static const uint8_t one = 0x01, two = 0x02;

	crypto_auth_hmacsha256(mk, &one, 1, ck);
	crypto_auth_hmacsha256(ck, &two, 1, ck);
}

/* The DH ratchet's half step: DH with the peer and KDF_RK. */
static int
ratchet_dh_step(struct core *c, uint8_t *ck, uint8_t *nhk)
{
	uint8_t dh[E2E_KEY_SIZE];

	if (crypto_scalarmult(dh, c->dhs_priv, c->dhr) != 0)
		return NOID_ERR_CRYPTO;
	ratchet_kdf_rk(c->rk, dh, ck, nhk);
	sodium_memzero(dh, sizeof dh);
	return NOID_OK;
}

/* Make a fresh sending key pair. */
static void
ratchet_keypair(struct core *c)
{
	randombytes_buf(c->dhs_priv, sizeof c->dhs_priv);
	crypto_scalarmult_base(c->dhs_pub, c->dhs_priv);
}

/* The pending sending half of a DH step: new key pair, new chain. */
static int
ratchet_send_half(struct core *c)
{
	int error;

	if ((c->flags & PEND_SEND) == 0)
		return NOID_OK;
	ratchet_keypair(c);
	if ((error = ratchet_dh_step(c, c->cks, c->nhks)) != 0)
		return error;
	c->flags = (c->flags & ~(uint32_t)PEND_SEND) | HAVE_CKS;
	return NOID_OK;
}

/* Do a pending sending half now (see e2e.h); 1 when there was one. */
int
e2e_ratchet_prepare(struct e2e_ratchet *r)
{
	if ((r->cur.flags & PEND_SEND) == 0)
		return 0;
	return ratchet_send_half(&r->cur) == NOID_OK ? 1 : 0;
}

/* Allocate an empty ratchet bound to an agreement's ad. */
static struct e2e_ratchet *
ratchet_new(const uint8_t ad[E2E_AD_SIZE])
{
	struct e2e_ratchet *r = secret_alloc(sizeof *r);

	memcpy(r->cur.ad, ad, E2E_AD_SIZE);
	return r;
}

/* Start as the side that knows the peer's ratchet key (sends first). */
int
e2e_ratchet_init_initiator(const uint8_t sk[E2E_KEY_SIZE],
    const uint8_t hka[E2E_KEY_SIZE], const uint8_t nhkb[E2E_KEY_SIZE],
    const uint8_t ad[E2E_AD_SIZE], const uint8_t peer_pub[E2E_KEY_SIZE],
    struct e2e_ratchet **out)
{
	struct e2e_ratchet *r = ratchet_new(ad);
	struct core *c = &r->cur;

	ratchet_keypair(c);
	memcpy(c->dhr, peer_pub, E2E_KEY_SIZE);
	memcpy(c->rk, sk, E2E_KEY_SIZE);
	if (ratchet_dh_step(c, c->cks, c->nhks) != 0) {
		e2e_ratchet_free(r);
		return NOID_ERR_CRYPTO;
	}
	memcpy(c->hks, hka, E2E_KEY_SIZE);
	memcpy(c->nhkr, nhkb, E2E_KEY_SIZE);
	c->flags = HAVE_DHR | HAVE_CKS | HAVE_HKS;
	*out = r;
	return NOID_OK;
}

/* Start as the side whose ratchet key the peer knows (receives first). */
int
e2e_ratchet_init_responder(const uint8_t sk[E2E_KEY_SIZE],
    const uint8_t hka[E2E_KEY_SIZE], const uint8_t nhkb[E2E_KEY_SIZE],
    const uint8_t ad[E2E_AD_SIZE], const uint8_t own_priv[E2E_KEY_SIZE],
    struct e2e_ratchet **out)
{
	struct e2e_ratchet *r = ratchet_new(ad);
	struct core *c = &r->cur;

	memcpy(c->dhs_priv, own_priv, E2E_KEY_SIZE);
	crypto_scalarmult_base(c->dhs_pub, c->dhs_priv);
	memcpy(c->rk, sk, E2E_KEY_SIZE);
	memcpy(c->nhks, nhkb, E2E_KEY_SIZE);
	memcpy(c->nhkr, hka, E2E_KEY_SIZE);
	*out = r;
	return NOID_OK;
}

/* Wipe and free a ratchet. */
void
e2e_ratchet_free(struct e2e_ratchet *r)
{
	if (r == NULL)
		return;
	secret_free(r->sk);
	secret_free(r);
}

/* The agreement's ad. */
const uint8_t *
e2e_ratchet_ad(const struct e2e_ratchet *r)
{
	return r->cur.ad;
}

/* The security code of the agreement behind this ratchet. */
void
e2e_ratchet_code(const struct e2e_ratchet *r, struct e2e_code *c)
{
	e2e_code_from_ad(r->cur.ad, c);
}

/* Number of skipped message keys kept. */
size_t
e2e_ratchet_skipped(const struct e2e_ratchet *r)
{
	return r->nsk;
}

/* The header's associated data: version and the agreement's ad. */
static void
ratchet_header_ad(const struct core *c, uint8_t had[1 + E2E_AD_SIZE])
{
	had[0] = E2E_VERSION;
	memcpy(had + 1, c->ad, E2E_AD_SIZE);
}

/* The body's associated data: ad, version, header nonce, header, caller's. */
static void
ratchet_body_ad(const struct core *c, const uint8_t *msg, const uint8_t *ad,
    size_t adlen, struct buf *b)
{
	buf_put(b, c->ad, E2E_AD_SIZE);
	buf_put(b, msg, OFF_BNONCE);
	if (adlen != 0)
		buf_put(b, ad, adlen);
}

/* Encrypt one message (see e2e.h). */
int
e2e_ratchet_encrypt(struct e2e_ratchet *r, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t ptlen, struct buf *out)
{
	struct core *c = &r->cur;
	uint8_t hdr[E2E_HEADER_SIZE], had[1 + E2E_AD_SIZE];
	uint8_t *mk = r->mk, *msg;
	struct buf bad;
	int error;

	if ((error = ratchet_send_half(c)) != 0)
		return error;
	if ((c->flags & HAVE_CKS) == 0)
		return NOID_ERR_STATE;
	if (ptlen > E2E_MAX_PAYLOAD)
		return NOID_ERR_TOOBIG;
	/* The peer refuses n = 0xFFFFFFFF; re-key long before. */
	if (c->ns == UINT32_MAX)
		return NOID_ERR_LIMIT;

	msg = buf_append_space(out, E2E_MSG_SIZE);
	msg[0] = E2E_VERSION;
	memcpy(hdr, c->dhs_pub, E2E_KEY_SIZE);
	be32_put(hdr + E2E_KEY_SIZE, c->pn);
	be32_put(hdr + E2E_KEY_SIZE + 4, c->ns);
	ratchet_header_ad(c, had);
	randombytes_buf(msg + OFF_HNONCE, E2E_NONCE_SIZE);
	crypto_aead_xchacha20poly1305_ietf_encrypt(msg + OFF_HEADER, NULL, hdr,
	    sizeof hdr, had, sizeof had, NULL, msg + OFF_HNONCE, c->hks);
	ratchet_observe(c->hks, msg + OFF_HNONCE);

	ratchet_kdf_ck(c->cks, mk);
	randombytes_buf(msg + OFF_BNONCE, E2E_NONCE_SIZE);
	e2e_pad(pt, ptlen, msg + OFF_BODY, E2E_PAD);
	buf_init(&bad);
	ratchet_body_ad(c, msg, ad, adlen, &bad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(msg + OFF_BODY, NULL,
	    msg + OFF_BODY, E2E_PAD, bad.data, bad.len, NULL, msg + OFF_BNONCE,
	    mk);
	ratchet_observe(mk, msg + OFF_BNONCE);
	c->ns++;
	buf_free(&bad);
	sodium_memzero(mk, E2E_KEY_SIZE);
	return NOID_OK;
}

/* Open an encrypted header with hk; 0 and the header in hdr if it opens. */
static int
ratchet_header_open(const struct core *c, const uint8_t *msg,
    const uint8_t hk[E2E_KEY_SIZE], uint8_t hdr[E2E_HEADER_SIZE])
{
	uint8_t had[1 + E2E_AD_SIZE];

	ratchet_header_ad(c, had);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(hdr, NULL, NULL,
	        msg + OFF_HEADER, E2E_HEADER_SIZE + E2E_TAG_SIZE, had,
	        sizeof had, msg + OFF_HNONCE, hk) != 0)
		return NOID_ERR_CRYPTO;
	return NOID_OK;
}

/*
 * Open the body with mk and append the unpadded payload to pt; pt is
 * untouched (but for capacity) on failure.
 */
static int
ratchet_body_open(const struct core *c, const uint8_t *msg, const uint8_t *ad,
    size_t adlen, const uint8_t mk[E2E_KEY_SIZE], struct buf *pt)
{
	const uint8_t *payload;
	struct buf bad;
	uint8_t *p;
	size_t plen, keep = 0;
	int error;

	buf_init(&bad);
	ratchet_body_ad(c, msg, ad, adlen, &bad);
	buf_reserve(pt, E2E_PAD);
	p = pt->data + pt->len;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(p, NULL, NULL,
	        msg + OFF_BODY, E2E_PAD + E2E_TAG_SIZE, bad.data, bad.len,
	        msg + OFF_BNONCE, mk) != 0) {
		error = NOID_ERR_CRYPTO;
		goto out;
	}
	if ((error = e2e_unpad(p, E2E_PAD, E2E_PAD, &payload, &plen)) != 0)
		goto out;
	memmove(p, payload, plen);
	keep = plen;
	pt->len += plen;
out:
	sodium_memzero(p + keep, E2E_PAD - keep);
	buf_free(&bad);
	return error;
}

/*
 * Try the kept skipped keys.  0 when one decrypted the message;
 * NOID_ERR_NOENT when none applies (*seen set if a kept header key
 * opened the header); any other error is final.
 */
static int
ratchet_try_skipped(struct e2e_ratchet *r, const uint8_t *msg,
    const uint8_t *ad, size_t adlen, struct buf *pt, int *seen)
{
	uint8_t hdr[E2E_HEADER_SIZE];
	uint32_t n;
	size_t i, j;
	int error;

	for (i = 0; i < r->nsk; i++) {
		if (i != 0 &&
		    sodium_memcmp(r->sk[i].hk, r->sk[i - 1].hk, E2E_KEY_SIZE) ==
		        0)
			continue;
		if (ratchet_header_open(&r->cur, msg, r->sk[i].hk, hdr) != 0)
			continue;
		*seen = 1;
		n = be32_get(hdr + E2E_KEY_SIZE + 4);
		for (j = i; j < r->nsk; j++) {
			if (sodium_memcmp(
			        r->sk[j].hk, r->sk[i].hk, E2E_KEY_SIZE) != 0)
				break;
			if (r->sk[j].n != n)
				continue;
			error = ratchet_body_open(
			    &r->cur, msg, ad, adlen, r->sk[j].mk, pt);
			if (error != 0)
				return error;
			sodium_memzero(&r->sk[j], sizeof r->sk[j]);
			memmove(&r->sk[j], &r->sk[j + 1],
			    (r->nsk - j - 1) * sizeof r->sk[0]);
			r->nsk--;
			sodium_memzero(&r->sk[r->nsk], sizeof r->sk[0]);
			if (r->nsk == 0) {
				secret_free(r->sk);
				r->sk = NULL;
			}
			return NOID_OK;
		}
	}
	return NOID_ERR_NOENT;
}

/* Derive count skipped keys of c's receiving chain into pend. */
static void
ratchet_skip(struct core *c, uint32_t count, struct skipped *pend)
{
	uint32_t i;

	for (i = 0; i < count; i++) {
		memcpy(pend[i].hk, c->hkr, E2E_KEY_SIZE);
		pend[i].n = c->nr++;
		ratchet_kdf_ck(c->ckr, pend[i].mk);
	}
}

/* Commit: keep the pending skipped keys, dropping the oldest over cap. */
static void
ratchet_keep(struct e2e_ratchet *r, const struct skipped *pend, size_t npend)
{
	size_t total = r->nsk + npend, drop = 0;
	struct skipped *sk;

	if (npend == 0)
		return;
	if (total > E2E_MAX_SKIPPED)
		drop = total - E2E_MAX_SKIPPED;
	sk = secret_alloc((total - drop) * sizeof *sk);
	if (r->nsk > drop)
		memcpy(sk, r->sk + drop, (r->nsk - drop) * sizeof *sk);
	memcpy(sk + (r->nsk - drop), pend, npend * sizeof *sk);
	secret_free(r->sk);
	r->sk = sk;
	r->nsk = total - drop;
}

/*
 * Check a header against the work state before anything is derived,
 * and count the keys to skip: nold in the current receiving chain, nnew
 * in the next (after a DH step).
 */
static int
ratchet_check_header(const struct core *w, int step, const uint8_t *dh,
    uint32_t pn, uint32_t n, uint32_t *nold, uint32_t *nnew)
{
	*nold = *nnew = 0;
	if (n == UINT32_MAX)
		return NOID_ERR_PROTO;
	if (!step) {
		if (sodium_memcmp(dh, w->dhr, E2E_KEY_SIZE) != 0)
			return NOID_ERR_PROTO;
		if (n < w->nr)
			return NOID_ERR_DUPLICATE;
		if (n - w->nr > E2E_MAX_SKIP)
			return NOID_ERR_TOOBIG;
		*nold = n - w->nr;
		return NOID_OK;
	}
	if ((w->flags & HAVE_DHR) &&
	    sodium_memcmp(dh, w->dhr, E2E_KEY_SIZE) == 0)
		return NOID_ERR_PROTO;
	if (w->flags & HAVE_CKR) {
		if (pn < w->nr)
			return NOID_ERR_PROTO;
		if (pn - w->nr > E2E_MAX_SKIP)
			return NOID_ERR_TOOBIG;
		*nold = pn - w->nr;
	} else if (pn > E2E_MAX_SKIP)
		return NOID_ERR_TOOBIG;
	if (n > E2E_MAX_SKIP)
		return NOID_ERR_TOOBIG;
	*nnew = n;
	return NOID_OK;
}

/*
 * The DH ratchet step on receiving a new ratchet key (DHRatchetHE),
 * its sending half left pending.
 */
static int
ratchet_dh_ratchet(struct core *w, const uint8_t *dh)
{
	int error;

	/* A step before we sent in the last one: finish that one first. */
	if ((error = ratchet_send_half(w)) != 0)
		return error;
	w->pn = w->ns;
	w->ns = 0;
	w->nr = 0;
	memcpy(w->dhr, dh, E2E_KEY_SIZE);
	memcpy(w->hks, w->nhks, E2E_KEY_SIZE);
	memcpy(w->hkr, w->nhkr, E2E_KEY_SIZE);
	if ((error = ratchet_dh_step(w, w->ckr, w->nhkr)) != 0)
		return error;
	sodium_memzero(w->cks, sizeof w->cks);
	w->flags = (w->flags | HAVE_ALL | PEND_SEND) & ~(uint32_t)HAVE_CKS;
	return NOID_OK;
}

/* Decrypt one message, transactionally (see e2e.h). */
int
e2e_ratchet_decrypt(struct e2e_ratchet *r, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t ctlen, struct buf *pt)
{
	struct core *w = &r->work;
	struct skipped *pend = NULL;
	uint8_t hdr[E2E_HEADER_SIZE], *mk = r->mk;
	uint32_t pn, n, nold, nnew;
	int error, step, seen = 0;

	if (ctlen != E2E_MSG_SIZE)
		return NOID_ERR_INVAL;
	if (ct[0] != E2E_VERSION)
		return NOID_ERR_VERSION;
	error = ratchet_try_skipped(r, ct, ad, adlen, pt, &seen);
	if (error != NOID_ERR_NOENT)
		return error;

	*w = r->cur;
	if ((w->flags & HAVE_HKR) &&
	    ratchet_header_open(w, ct, w->hkr, hdr) == 0)
		step = 0;
	else if (ratchet_header_open(w, ct, w->nhkr, hdr) == 0)
		step = 1;
	else {
		error = seen ? NOID_ERR_DUPLICATE : NOID_ERR_CRYPTO;
		goto out;
	}
	pn = be32_get(hdr + E2E_KEY_SIZE);
	n = be32_get(hdr + E2E_KEY_SIZE + 4);
	if ((error = ratchet_check_header(w, step, hdr, pn, n, &nold, &nnew)) !=
	    0)
		goto out;

	if (nold + nnew != 0)
		pend = secret_alloc(((size_t)nold + nnew) * sizeof *pend);
	ratchet_skip(w, nold, pend);
	if (step) {
		if ((error = ratchet_dh_ratchet(w, hdr)) != 0)
			goto out;
		ratchet_skip(w, nnew, pend + nold);
	}
	ratchet_kdf_ck(w->ckr, mk);
	w->nr++;
	if ((error = ratchet_body_open(w, ct, ad, adlen, mk, pt)) != 0)
		goto out;

	r->cur = *w;
	ratchet_keep(r, pend, (size_t)nold + nnew);
out:
	sodium_memzero(w, sizeof *w);
	sodium_memzero(mk, E2E_KEY_SIZE);
	sodium_memzero(hdr, sizeof hdr);
	secret_free(pend);
	return error;
}

/*
 * Serialize the state: version (1; 2 when a sending half is pending),
 * flags, the ten keys (dhs private, dhr,
 * rk, cks, ckr, hks, hkr, nhks, nhkr, ad; absent ones zero), ns, nr, pn,
 * the skipped count and entries (hk, n, mk) oldest first, then a
 * 16-byte BLAKE2b checksum of all that.
 */
void
e2e_ratchet_save(const struct e2e_ratchet *r, struct buf *out)
{
	const struct core *c = &r->cur;
	size_t start = out->len, i;
	uint8_t *sum;

	buf_put_u8(
	    out, (c->flags & PEND_SEND) ? BLOB_VERSION_PEND : BLOB_VERSION);
	buf_put_u8(out, (uint8_t)c->flags);
	buf_put(out, c->dhs_priv, E2E_KEY_SIZE);
	buf_put(out, c->dhr, E2E_KEY_SIZE);
	buf_put(out, c->rk, E2E_KEY_SIZE);
	buf_put(out, c->cks, E2E_KEY_SIZE);
	buf_put(out, c->ckr, E2E_KEY_SIZE);
	buf_put(out, c->hks, E2E_KEY_SIZE);
	buf_put(out, c->hkr, E2E_KEY_SIZE);
	buf_put(out, c->nhks, E2E_KEY_SIZE);
	buf_put(out, c->nhkr, E2E_KEY_SIZE);
	buf_put(out, c->ad, E2E_AD_SIZE);
	buf_put_u32(out, c->ns);
	buf_put_u32(out, c->nr);
	buf_put_u32(out, c->pn);
	buf_put_u32(out, (uint32_t)r->nsk);
	for (i = 0; i < r->nsk; i++) {
		buf_put(out, r->sk[i].hk, E2E_KEY_SIZE);
		buf_put_u32(out, r->sk[i].n);
		buf_put(out, r->sk[i].mk, E2E_KEY_SIZE);
	}
	sum = buf_append_space(out, BLOB_SUM_SIZE);
	crypto_generichash(sum, BLOB_SUM_SIZE, out->data + start,
	    out->len - start - BLOB_SUM_SIZE, NULL, 0);
}

/* True when a field the flags say is absent is all zero, as saved. */
static int
ratchet_absent_zero(const struct core *c, uint32_t flag, const uint8_t *key)
{
	return (c->flags & flag) != 0 || sodium_is_zero(key, E2E_KEY_SIZE);
}

/* Check the flag invariants of a loaded state. */
static int
ratchet_check_flags(const struct core *c)
{
	uint32_t f = c->flags;

	if ((f & ~(uint32_t)(HAVE_ALL | PEND_SEND)) != 0)
		return NOID_ERR_CORRUPT;
	/* Pending: a received step (peer key, header key), no chain. */
	if ((f & PEND_SEND) &&
	    ((f & (HAVE_DHR | HAVE_HKS)) != (HAVE_DHR | HAVE_HKS) ||
	        (f & HAVE_CKS)))
		return NOID_ERR_CORRUPT;
	if ((f & HAVE_CKS) && !(f & HAVE_HKS))
		return NOID_ERR_CORRUPT;
	if ((f & HAVE_CKR) &&
	    (f & (HAVE_HKR | HAVE_DHR)) != (HAVE_HKR | HAVE_DHR))
		return NOID_ERR_CORRUPT;
	if (!ratchet_absent_zero(c, HAVE_DHR, c->dhr) ||
	    !ratchet_absent_zero(c, HAVE_CKS, c->cks) ||
	    !ratchet_absent_zero(c, HAVE_CKR, c->ckr) ||
	    !ratchet_absent_zero(c, HAVE_HKS, c->hks) ||
	    !ratchet_absent_zero(c, HAVE_HKR, c->hkr))
		return NOID_ERR_CORRUPT;
	return NOID_OK;
}

/* Parse a saved state (see e2e.h). */
int
e2e_ratchet_load(const uint8_t *p, size_t len, struct e2e_ratchet **out)
{
	uint8_t sum[BLOB_SUM_SIZE], flags;
	struct e2e_ratchet *r = NULL;
	struct core *c;
	struct reader rd;
	uint32_t nsk, i;
	int error = NOID_ERR_CORRUPT;

	if (len < BLOB_FIXED + BLOB_SUM_SIZE)
		return NOID_ERR_CORRUPT;
	if (p[0] != BLOB_VERSION && p[0] != BLOB_VERSION_PEND)
		return NOID_ERR_VERSION;
	crypto_generichash(sum, sizeof sum, p, len - BLOB_SUM_SIZE, NULL, 0);
	if (sodium_memcmp(sum, p + len - BLOB_SUM_SIZE, sizeof sum) != 0)
		return NOID_ERR_CORRUPT;
	nsk = be32_get(p + BLOB_FIXED - 4);
	if (nsk > E2E_MAX_SKIPPED ||
	    len != BLOB_FIXED + (size_t)nsk * BLOB_ENTRY + BLOB_SUM_SIZE)
		return NOID_ERR_CORRUPT;

	r = secret_alloc(sizeof *r);
	c = &r->cur;
	reader_init(&rd, p + 1, len - 1 - BLOB_SUM_SIZE);
	reader_u8(&rd, &flags);
	c->flags = flags;
	reader_bytes(&rd, c->dhs_priv, E2E_KEY_SIZE);
	reader_bytes(&rd, c->dhr, E2E_KEY_SIZE);
	reader_bytes(&rd, c->rk, E2E_KEY_SIZE);
	reader_bytes(&rd, c->cks, E2E_KEY_SIZE);
	reader_bytes(&rd, c->ckr, E2E_KEY_SIZE);
	reader_bytes(&rd, c->hks, E2E_KEY_SIZE);
	reader_bytes(&rd, c->hkr, E2E_KEY_SIZE);
	reader_bytes(&rd, c->nhks, E2E_KEY_SIZE);
	reader_bytes(&rd, c->nhkr, E2E_KEY_SIZE);
	reader_bytes(&rd, c->ad, E2E_AD_SIZE);
	reader_u32(&rd, &c->ns);
	reader_u32(&rd, &c->nr);
	reader_u32(&rd, &c->pn);
	reader_u32(&rd, &nsk);
	if (nsk != 0)
		r->sk = secret_alloc(nsk * sizeof *r->sk);
	r->nsk = nsk;
	for (i = 0; i < nsk; i++) {
		reader_bytes(&rd, r->sk[i].hk, E2E_KEY_SIZE);
		reader_u32(&rd, &r->sk[i].n);
		reader_bytes(&rd, r->sk[i].mk, E2E_KEY_SIZE);
	}
	if (reader_done(&rd) != 0 || ratchet_check_flags(c) != 0 ||
	    ((c->flags & PEND_SEND) != 0) != (p[0] == BLOB_VERSION_PEND))
		goto out;
	crypto_scalarmult_base(c->dhs_pub, c->dhs_priv);
	*out = r;
	r = NULL;
	error = NOID_OK;
out:
	e2e_ratchet_free(r);
	return error;
}
