/*
 * noid — agent-msg: the byte formats of the agent layer.
 *
 * Everything an agent puts in a relay queue is one AGENT_BODY-byte SEND
 * body, a per-queue box:
 *
 *   version(1) nonce(24) crypto_secretbox(key, pad(inner, AGENT_BOX_PAD))
 *
 * with inner = kind(1) payload.  The key is derived from the link key
 * for the two handshake messages and from a per-queue X25519 agreement
 * for everything else, so two queues of one connection never share
 * ciphertext, and every body has the same size.  Ratchet payloads are
 * agent messages (version, type, fields), padded again by the ratchet.
 * Decoders are strict: every field is length-checked, text must be
 * valid-looking (no NUL), nothing may trail.
 */
#include <sodium.h>
#include <string.h>

#include "agent-int.h"

static const char label_request[] = "noid agent v1 request";
static const char label_confirm[] = "noid agent v1 confirm";
static const char label_ctx[] = "noid agent v1 invitation";
static const char label_reply_auth[] = "noid agent v1 reply auth";
static const char label_resync[] = "noid agent v1 resync";
static const char label_rekey_ctx[] = "noid agent v1 rekey link";
static const char label_rekey_mac[] = "noid agent v1 rekey mac";

/* Derive the handshake keys from a link key. */
void
agent_link_keys(
    const uint8_t link_key[AGENT_INVITE_KEY_LEN], struct agent_link_keys *k)
{
	e2e_hkdf(NULL, 0, link_key, AGENT_INVITE_KEY_LEN,
	    (const uint8_t *)label_request, sizeof label_request - 1,
	    k->request, sizeof k->request);
	e2e_hkdf(NULL, 0, link_key, AGENT_INVITE_KEY_LEN,
	    (const uint8_t *)label_confirm, sizeof label_confirm - 1,
	    k->confirm, sizeof k->confirm);
	e2e_hkdf(NULL, 0, link_key, AGENT_INVITE_KEY_LEN,
	    (const uint8_t *)label_ctx, sizeof label_ctx - 1, k->ctx,
	    sizeof k->ctx);
}

/* The auth key pair the inviter uses on the joiner's queue. */
void
agent_link_reply_auth(const uint8_t link_key[AGENT_INVITE_KEY_LEN],
    uint8_t priv[32], uint8_t pub[32])
{
	e2e_hkdf(NULL, 0, link_key, AGENT_INVITE_KEY_LEN,
	    (const uint8_t *)label_reply_auth, sizeof label_reply_auth - 1,
	    priv, 32);
	crypto_scalarmult_base(pub, priv);
}

/* The ctx binding a resync agreement to the queue key it travels on. */
void
agent_resync_ctx(const uint8_t queue_key[AGENT_KEY_LEN], uint8_t ctx[32])
{
	e2e_hkdf(NULL, 0, queue_key, AGENT_KEY_LEN,
	    (const uint8_t *)label_resync, sizeof label_resync - 1, ctx, 32);
}

/* Per-queue box key from one side's private and the other's public. */
int
agent_queue_key(uint8_t key[AGENT_KEY_LEN], const uint8_t peer_pub[32],
    const uint8_t own_priv[32])
{
	if (crypto_box_beforenm(key, peer_pub, own_priv) != 0)
		return NOID_ERR_CRYPTO;
	return 0;
}

/* Seal inner into one fixed-size SEND body. */
int
agent_box_seal(const uint8_t key[AGENT_KEY_LEN], const uint8_t *inner,
    size_t len, uint8_t out[AGENT_BODY])
{
	uint8_t *padded;
	int rc;

	if (len > AGENT_INNER_MAX)
		return NOID_ERR_TOOBIG;
	padded = xmalloc(AGENT_BOX_PAD);
	if ((rc = e2e_pad(inner, len, padded, AGENT_BOX_PAD)) != 0)
		goto out;
	out[0] = AGENT_VERSION;
	randombytes_buf(out + 1, AGENT_BOX_NONCE);
	crypto_secretbox_easy(
	    out + 1 + AGENT_BOX_NONCE, padded, AGENT_BOX_PAD, out + 1, key);
out:
	sodium_memzero(padded, AGENT_BOX_PAD);
	free(padded);
	return rc;
}

/* Open a SEND body with key; *inner borrows work. */
int
agent_box_open(const uint8_t key[AGENT_KEY_LEN], const uint8_t *body,
    size_t len, uint8_t work[AGENT_BOX_PAD], const uint8_t **inner,
    size_t *ilen)
{
	if (len != AGENT_BODY)
		return NOID_ERR_PROTO;
	if (body[0] != AGENT_VERSION)
		return NOID_ERR_VERSION;
	if (crypto_secretbox_open_easy(work, body + 1 + AGENT_BOX_NONCE,
	        AGENT_BODY - 1 - AGENT_BOX_NONCE, body + 1, key) != 0)
		return NOID_ERR_CRYPTO;
	if (e2e_unpad(work, AGENT_BOX_PAD, AGENT_BOX_PAD, inner, ilen) != 0 ||
	    *ilen == 0)
		return NOID_ERR_PROTO;
	return 0;
}

/* Put a NUL-terminated string as a short string. */
static void
put_text(struct buf *b, const char *s)
{
	buf_put_short(b, s, strlen(s));
}

/* Read a short string into dst[cap] (NUL-terminated; no NUL inside). */
static int
get_text(struct reader *r, char *dst, size_t cap)
{
	const uint8_t *p;
	size_t len;

	if (reader_short(r, &p, &len) != 0)
		return NOID_ERR_PROTO;
	if (len >= cap || memchr(p, '\0', len) != NULL)
		return NOID_ERR_PROTO;
	memcpy(dst, p, len);
	dst[len] = '\0';
	return 0;
}

/* Put a queue address (relay text as a long string, then the sid). */
static void
put_qaddr(struct buf *b, const struct agent_qaddr *q)
{
	buf_put_long(b, q->relay, strlen(q->relay));
	buf_put(b, q->sid, sizeof q->sid);
}

/* Read a queue address. */
static int
get_qaddr(struct reader *r, struct agent_qaddr *q)
{
	const uint8_t *p;
	size_t len;

	if (reader_long(r, &p, &len) != 0 || len == 0 || len > AGENT_ADDR_MAX ||
	    memchr(p, '\0', len) != NULL)
		return NOID_ERR_PROTO;
	memcpy(q->relay, p, len);
	q->relay[len] = '\0';
	return reader_bytes(r, q->sid, sizeof q->sid) != 0 ? NOID_ERR_PROTO : 0;
}

/* Encode a REQUEST inner (kind byte included). */
void
agent_request_encode(const struct agent_request *r, struct buf *out)
{
	buf_put_u8(out, AGENT_INNER_REQUEST);
	buf_put(out, r->offer, sizeof r->offer);
	put_qaddr(out, &r->reply);
	buf_put(out, r->reply_box, 32);
	buf_put(out, r->send_box, 32);
	buf_put(out, r->send_auth, 32);
	put_text(out, r->name);
	put_text(out, r->status);
}

/* Decode a REQUEST inner strictly. */
int
agent_request_decode(const uint8_t *p, size_t len, struct agent_request *r)
{
	struct reader rd;
	uint8_t kind = 0;

	memset(r, 0, sizeof *r);
	reader_init(&rd, p, len);
	reader_u8(&rd, &kind);
	reader_bytes(&rd, r->offer, sizeof r->offer);
	if (kind != AGENT_INNER_REQUEST || get_qaddr(&rd, &r->reply) != 0)
		return NOID_ERR_PROTO;
	reader_bytes(&rd, r->reply_box, 32);
	reader_bytes(&rd, r->send_box, 32);
	reader_bytes(&rd, r->send_auth, 32);
	if (get_text(&rd, r->name, sizeof r->name) != 0 ||
	    get_text(&rd, r->status, sizeof r->status) != 0 ||
	    reader_done(&rd) != 0 || r->name[0] == '\0')
		return NOID_ERR_PROTO;
	return 0;
}

/* Encode a CONFIRM inner. */
void
agent_confirm_encode(const struct agent_confirm *c, struct buf *out)
{
	buf_put_u8(out, AGENT_INNER_CONFIRM);
	buf_put(out, c->answer, sizeof c->answer);
	buf_put(out, c->recv_box, 32);
	buf_put(out, c->send_box, 32);
	buf_put(out, c->send_auth, 32);
}

/* Decode a CONFIRM inner strictly. */
int
agent_confirm_decode(const uint8_t *p, size_t len, struct agent_confirm *c)
{
	struct reader rd;
	uint8_t kind = 0;

	memset(c, 0, sizeof *c);
	reader_init(&rd, p, len);
	reader_u8(&rd, &kind);
	reader_bytes(&rd, c->answer, sizeof c->answer);
	reader_bytes(&rd, c->recv_box, 32);
	reader_bytes(&rd, c->send_box, 32);
	reader_bytes(&rd, c->send_auth, 32);
	if (kind != AGENT_INNER_CONFIRM || reader_done(&rd) != 0)
		return NOID_ERR_PROTO;
	return 0;
}

/* The keys of a re-key through a link: ctx prefix and the offer's MAC key. */
void
agent_rekey_link_keys(const uint8_t link_key[AGENT_INVITE_KEY_LEN],
    uint8_t ctx[32], uint8_t mac_key[32])
{
	e2e_hkdf(NULL, 0, link_key, AGENT_INVITE_KEY_LEN,
	    (const uint8_t *)label_rekey_ctx, sizeof label_rekey_ctx - 1, ctx,
	    32);
	e2e_hkdf(NULL, 0, link_key, AGENT_INVITE_KEY_LEN,
	    (const uint8_t *)label_rekey_mac, sizeof label_rekey_mac - 1,
	    mac_key, 32);
}

/* Encode an agent message (version, type, the type's fields). */
void
agent_msg_encode(const struct agent_msg *m, struct buf *out)
{
	buf_put_u8(out, AGENT_VERSION);
	buf_put_u8(out, (uint8_t)m->type);
	switch (m->type) {
	case AGENT_MSG_HELLO:
	case AGENT_MSG_PROFILE:
		put_text(out, m->name);
		put_text(out, m->status);
		break;
	case AGENT_MSG_TEXT:
		buf_put_u64(out, m->seq);
		buf_put(out, m->prev_hash, AGENT_HASH_LEN);
		buf_put(out, m->id, AGENT_ID_LEN);
		buf_put_u64(out, m->ts_ms);
		buf_put_long(out, m->text, m->text_len);
		break;
	case AGENT_MSG_RCVD:
		buf_put(out, m->hash, AGENT_HASH_LEN);
		buf_put(out, m->id, AGENT_ID_LEN);
		break;
	case AGENT_MSG_QADD:
		put_qaddr(out, &m->q);
		buf_put(out, m->box, 32);
		break;
	case AGENT_MSG_QKEY:
		buf_put(out, m->q.sid, AGENT_QUEUE_ID_LEN);
		buf_put(out, m->box, 32);
		buf_put(out, m->auth, 32);
		break;
	case AGENT_MSG_QUSE:
	case AGENT_MSG_QEND:
		buf_put(out, m->q.sid, AGENT_QUEUE_ID_LEN);
		break;
	case AGENT_MSG_REKEY:
	case AGENT_MSG_REKEYED:
		buf_put(out, m->kex, sizeof m->kex);
		break;
	case AGENT_MSG_REKEY_LINK:
		buf_put(out, m->kex, sizeof m->kex);
		buf_put(out, m->hash, AGENT_HASH_LEN);
		break;
	case AGENT_MSG_DELETE:
	case AGENT_MSG_REKEY_NO:
		break;
	default:
		fatalx("agent_msg_encode: type %d", m->type);
	}
}

/* Decode an agent message strictly. */
int
agent_msg_decode(const uint8_t *p, size_t len, struct agent_msg *m)
{
	struct reader rd;
	uint8_t ver = 0, type = 0;
	const uint8_t *text;
	int rc = 0;

	memset(m, 0, sizeof *m);
	reader_init(&rd, p, len);
	reader_u8(&rd, &ver);
	reader_u8(&rd, &type);
	if (rd.err != 0)
		return NOID_ERR_PROTO;
	if (ver != AGENT_VERSION)
		return NOID_ERR_VERSION;
	m->type = type;
	switch (type) {
	case AGENT_MSG_HELLO:
	case AGENT_MSG_PROFILE:
		if (get_text(&rd, m->name, sizeof m->name) != 0 ||
		    get_text(&rd, m->status, sizeof m->status) != 0 ||
		    m->name[0] == '\0')
			rc = NOID_ERR_PROTO;
		break;
	case AGENT_MSG_TEXT:
		reader_u64(&rd, &m->seq);
		reader_bytes(&rd, m->prev_hash, AGENT_HASH_LEN);
		reader_bytes(&rd, m->id, AGENT_ID_LEN);
		reader_u64(&rd, &m->ts_ms);
		if (reader_long(&rd, &text, &m->text_len) != 0 ||
		    m->text_len > AGENT_TEXT_MAX || m->seq == 0 ||
		    memchr(text, '\0', m->text_len) != NULL)
			rc = NOID_ERR_PROTO;
		else
			m->text = (const char *)text;
		break;
	case AGENT_MSG_RCVD:
		reader_bytes(&rd, m->hash, AGENT_HASH_LEN);
		reader_bytes(&rd, m->id, AGENT_ID_LEN);
		break;
	case AGENT_MSG_QADD:
		if (get_qaddr(&rd, &m->q) != 0)
			rc = NOID_ERR_PROTO;
		reader_bytes(&rd, m->box, 32);
		break;
	case AGENT_MSG_QKEY:
		reader_bytes(&rd, m->q.sid, AGENT_QUEUE_ID_LEN);
		reader_bytes(&rd, m->box, 32);
		reader_bytes(&rd, m->auth, 32);
		break;
	case AGENT_MSG_QUSE:
	case AGENT_MSG_QEND:
		reader_bytes(&rd, m->q.sid, AGENT_QUEUE_ID_LEN);
		break;
	case AGENT_MSG_REKEY:
	case AGENT_MSG_REKEYED:
		reader_bytes(&rd, m->kex, sizeof m->kex);
		break;
	case AGENT_MSG_REKEY_LINK:
		reader_bytes(&rd, m->kex, sizeof m->kex);
		reader_bytes(&rd, m->hash, AGENT_HASH_LEN);
		break;
	case AGENT_MSG_DELETE:
	case AGENT_MSG_REKEY_NO:
		break;
	default:
		rc = NOID_ERR_PROTO;
	}
	if (rc == 0 && reader_done(&rd) != 0)
		rc = NOID_ERR_PROTO;
	if (rc != 0)
		memset(m, 0, sizeof *m);
	return rc;
}

/* SHA-256 of an encoded agent message. */
void
agent_msg_hash(const uint8_t *p, size_t len, uint8_t hash[AGENT_HASH_LEN])
{
	crypto_hash_sha256(hash, p, len);
}

/* Check a received TEXT's number and chain link. */
int
agent_integrity_check(uint64_t last_seq,
    const uint8_t last_hash[AGENT_HASH_LEN], uint64_t seq,
    const uint8_t prev_hash[AGENT_HASH_LEN], uint64_t *from, uint64_t *to)
{
	*from = *to = 0;
	if (seq <= last_seq)
		return AGENT_INTEGRITY_BAD_ID;
	if (seq > last_seq + 1) {
		*from = last_seq + 1;
		*to = seq - 1;
		return AGENT_INTEGRITY_SKIPPED;
	}
	if (sodium_memcmp(last_hash, prev_hash, AGENT_HASH_LEN) != 0)
		return AGENT_INTEGRITY_BAD_HASH;
	return 0;
}
