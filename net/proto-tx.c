/*
 * proto-tx: encoding and strict decoding of one transmission.  What each
 * tag requires (entity, authenticator, fields) is in one table so the
 * encoder, the decoder and the relay agree.
 */
#include "proto.h"

#include <string.h>

#include "base.h"

/* Authenticator rule of a tag. */
enum proto_auth_rule {
	PROTO_AUTH_FORBIDDEN,
	PROTO_AUTH_REQUIRED,
	PROTO_AUTH_OPTIONAL
};

/* Entity rule: none, an id, or either (OK/ERR echo the command's). */
#define PROTO_ENT_NONE 0
#define PROTO_ENT_ID NOID_ID_LEN
#define PROTO_ENT_ANY (-1)

struct proto_tag_info {
	uint8_t tag;
	const char *name;
	int entity;
	enum proto_auth_rule auth;
};

static const struct proto_tag_info proto_tags[] = {
    {PROTO_NEW, "NEW", PROTO_ENT_NONE, PROTO_AUTH_REQUIRED},
    {PROTO_KEY, "KEY", PROTO_ENT_ID, PROTO_AUTH_REQUIRED},
    {PROTO_SEND, "SEND", PROTO_ENT_ID, PROTO_AUTH_OPTIONAL},
    {PROTO_SUB, "SUB", PROTO_ENT_ID, PROTO_AUTH_REQUIRED},
    {PROTO_ACK, "ACK", PROTO_ENT_ID, PROTO_AUTH_REQUIRED},
    {PROTO_GET, "GET", PROTO_ENT_ID, PROTO_AUTH_REQUIRED},
    {PROTO_OFF, "OFF", PROTO_ENT_ID, PROTO_AUTH_REQUIRED},
    {PROTO_DEL, "DEL", PROTO_ENT_ID, PROTO_AUTH_REQUIRED},
    {PROTO_PING, "PING", PROTO_ENT_NONE, PROTO_AUTH_FORBIDDEN},
    {PROTO_IDS, "IDS", PROTO_ENT_NONE, PROTO_AUTH_FORBIDDEN},
    {PROTO_OK, "OK", PROTO_ENT_ANY, PROTO_AUTH_FORBIDDEN},
    {PROTO_ERR, "ERR", PROTO_ENT_ANY, PROTO_AUTH_FORBIDDEN},
    {PROTO_MSG, "MSG", PROTO_ENT_ID, PROTO_AUTH_FORBIDDEN},
    {PROTO_END, "END", PROTO_ENT_ID, PROTO_AUTH_FORBIDDEN},
    {PROTO_PONG, "PONG", PROTO_ENT_NONE, PROTO_AUTH_FORBIDDEN},
    {PROTO_QCONT, "QCONT", PROTO_ENT_ID, PROTO_AUTH_FORBIDDEN},
};

static const char *proto_err_names[] = {"?", "AUTH", "CMD", "NO_MSG", "QUOTA",
    "LARGE", "BLOCKED", "INTERNAL", "LIMIT", "SESSION"};

/* The table row of a tag, or NULL. */
static const struct proto_tag_info *
proto_tag_find(uint8_t tag)
{
	size_t i;

	for (i = 0; i < sizeof proto_tags / sizeof proto_tags[0]; i++) {
		if (proto_tags[i].tag == tag)
			return &proto_tags[i];
	}
	return NULL;
}

/* Entity rule of a tag. */
int
proto_tag_entity(uint8_t tag)
{
	const struct proto_tag_info *ti = proto_tag_find(tag);

	return ti == NULL ? -2 : ti->entity;
}

/* Tag name. */
const char *
proto_tag_name(uint8_t tag)
{
	const struct proto_tag_info *ti = proto_tag_find(tag);

	return ti == NULL ? "?" : ti->name;
}

/* ERR code name. */
const char *
proto_err_name(uint8_t code)
{
	if (code >= sizeof proto_err_names / sizeof proto_err_names[0])
		return "?";
	return proto_err_names[code];
}

/* ERR code to noid_err. */
int
proto_err_to_noid(uint8_t code)
{
	switch (code) {
	case PROTO_E_AUTH:
		return NOID_ERR_AUTH;
	case PROTO_E_CMD:
		return NOID_ERR_PROTO;
	case PROTO_E_NO_MSG:
		return NOID_ERR_NOENT;
	case PROTO_E_QUOTA:
		return NOID_ERR_QUOTA;
	case PROTO_E_LARGE:
		return NOID_ERR_TOOBIG;
	case PROTO_E_BLOCKED:
		return NOID_ERR_BLOCKED;
	case PROTO_E_LIMIT:
		return NOID_ERR_LIMIT;
	case PROTO_E_SESSION:
		return NOID_ERR_PROTO;
	default:
		return NOID_ERR_INTERNAL;
	}
}

/* Size of the fields after the tag. */
static size_t
proto_fields_size(const struct proto_tx *tx)
{
	switch (tx->tag) {
	case PROTO_NEW:
		return NOID_KEY_LEN + 1 + tx->u.create.access_key_len;
	case PROTO_KEY:
		return NOID_KEY_LEN;
	case PROTO_SUB:
		return 1;
	case PROTO_SEND:
		return 1 + 2 + tx->u.send.body_len;
	case PROTO_ACK:
		return NOID_ID_LEN;
	case PROTO_IDS:
		return 2 * NOID_ID_LEN + NOID_KEY_LEN;
	case PROTO_ERR:
		return 1;
	case PROTO_MSG:
		return NOID_ID_LEN + 2 + tx->u.msg.enc_len;
	default:
		return 0;
	}
}

/* Encoded size. */
size_t
proto_tx_size(const struct proto_tx *tx, int signed_)
{
	return 1 + (signed_ ? NOID_KEY_LEN + NOID_MAC_LEN : 0) + 8 + 1 +
	    tx->entity_len + 1 + proto_fields_size(tx);
}

/*
 * Bytes at the end of tx that the MAC does not cover: a SEND's body
 * (its last field; its length stays covered).  The Noise transport
 * authenticates them within the session (PROTOCOL.md §5.1).
 */
static size_t
proto_unsigned_len(const struct proto_tx *tx)
{
	return tx->tag == PROTO_SEND ? tx->u.send.body_len : 0;
}

/* Variable-length fields within their limits? */
static int
proto_fields_check(const struct proto_tx *tx)
{
	if (tx->tag == PROTO_NEW &&
	    tx->u.create.access_key_len > NOID_ACCESS_KEY_MAX)
		return NOID_ERR_TOOBIG;
	if (tx->tag == PROTO_SEND && tx->u.send.body_len > NOID_MSG_MAX)
		return NOID_ERR_TOOBIG;
	if (tx->tag == PROTO_MSG && tx->u.msg.enc_len > NOID_MSG_ENC_MAX)
		return NOID_ERR_TOOBIG;
	return 0;
}

/* Write the fields after the tag. */
static void
proto_fields_put(const struct proto_tx *tx, uint8_t *p)
{
	switch (tx->tag) {
	case PROTO_NEW:
		memcpy(p, tx->u.create.dh_pub, NOID_KEY_LEN);
		p[NOID_KEY_LEN] = (uint8_t)tx->u.create.access_key_len;
		if (tx->u.create.access_key_len != 0)
			memcpy(p + NOID_KEY_LEN + 1, tx->u.create.access_key,
			    tx->u.create.access_key_len);
		break;
	case PROTO_KEY:
		memcpy(p, tx->u.key.sender_pub, NOID_KEY_LEN);
		break;
	case PROTO_SUB:
		/* 0 in the struct is the default window, 1. */
		p[0] = tx->u.sub.window != 0 ? tx->u.sub.window : 1;
		break;
	case PROTO_SEND:
		p[0] = tx->u.send.flags;
		be16_put(p + 1, (uint16_t)tx->u.send.body_len);
		if (tx->u.send.body_len != 0)
			memcpy(p + 3, tx->u.send.body, tx->u.send.body_len);
		break;
	case PROTO_ACK:
		memcpy(p, tx->u.ack.msg_id, NOID_ID_LEN);
		break;
	case PROTO_IDS:
		memcpy(p, tx->u.ids.rid, NOID_ID_LEN);
		memcpy(p + NOID_ID_LEN, tx->u.ids.sid, NOID_ID_LEN);
		memcpy(
		    p + 2 * NOID_ID_LEN, tx->u.ids.relay_dh_pub, NOID_KEY_LEN);
		break;
	case PROTO_ERR:
		p[0] = tx->u.err.code;
		break;
	case PROTO_MSG:
		memcpy(p, tx->u.msg.msg_id, NOID_ID_LEN);
		be16_put(p + NOID_ID_LEN, (uint16_t)tx->u.msg.enc_len);
		if (tx->u.msg.enc_len != 0)
			memcpy(p + NOID_ID_LEN + 2, tx->u.msg.enc,
			    tx->u.msg.enc_len);
		break;
	default:
		break;
	}
}

/*
 * Encode.  The encoder does not enforce the tag's entity or auth rules
 * (tests use it to build commands a relay must refuse); it does keep
 * every length within the format.
 */
int
proto_tx_encode(const struct proto_tx *tx, const struct proto_signer *s,
    uint8_t *out, size_t cap, size_t *outlen)
{
	size_t size, off = 0, signed_off;
	int error;

	if (tx->entity_len != 0 && tx->entity_len != NOID_ID_LEN)
		return NOID_ERR_INVAL;
	if ((error = proto_fields_check(tx)) != 0)
		return error;
	size = proto_tx_size(tx, s != NULL);
	if (size > cap || size > NOID_TX_MAX)
		return NOID_ERR_TOOBIG;
	out[off++] = s != NULL ? PROTO_AUTH_MAC : PROTO_AUTH_NONE;
	if (s != NULL) {
		memcpy(out + off, s->auth_pub, NOID_KEY_LEN);
		off += NOID_KEY_LEN + NOID_MAC_LEN;
	}
	signed_off = off;
	be64_put(out + off, tx->corr_id);
	off += 8;
	out[off++] = tx->entity_len;
	memcpy(out + off, tx->entity, tx->entity_len);
	off += tx->entity_len;
	out[off++] = tx->tag;
	proto_fields_put(tx, out + off);
	if (s != NULL)
		proto_auth_mac(out + 1 + NOID_KEY_LEN, s->k, s->session_id,
		    out + signed_off,
		    size - signed_off - proto_unsigned_len(tx));
	*outlen = size;
	return 0;
}

/* Read the fields of tx->tag. */
static int
proto_fields_get(struct reader *r, struct proto_tx *tx)
{
	uint8_t flags;

	switch (tx->tag) {
	case PROTO_NEW:
		reader_bytes(r, tx->u.create.dh_pub, NOID_KEY_LEN);
		reader_short(
		    r, &tx->u.create.access_key, &tx->u.create.access_key_len);
		if (r->err == 0 &&
		    tx->u.create.access_key_len > NOID_ACCESS_KEY_MAX)
			return NOID_ERR_PROTO;
		/* A low-order key would make the relay->recipient key
		 * all zero. */
		if (r->err == 0 && proto_key_check(tx->u.create.dh_pub) != 0)
			return NOID_ERR_PROTO;
		break;
	case PROTO_KEY:
		reader_bytes(r, tx->u.key.sender_pub, NOID_KEY_LEN);
		/* It becomes the auth key of every SEND: one that no SEND
		 * could carry or derive a key from would block the queue. */
		if (r->err == 0 && proto_key_check(tx->u.key.sender_pub) != 0)
			return NOID_ERR_PROTO;
		break;
	case PROTO_SUB:
		reader_u8(r, &tx->u.sub.window);
		if (r->err == 0 &&
		    (tx->u.sub.window == 0 ||
		        tx->u.sub.window > NOID_WINDOW_MAX))
			return NOID_ERR_PROTO;
		break;
	case PROTO_SEND:
		reader_u8(r, &flags);
		reader_long(r, &tx->u.send.body, &tx->u.send.body_len);
		tx->u.send.flags = flags;
		if (r->err != 0)
			break;
		if ((flags & ~PROTO_SEND_NOTIFY) != 0 ||
		    tx->u.send.body_len == 0)
			return NOID_ERR_PROTO;
		/* Too large is its own error (ERR LARGE), once well formed. */
		if (reader_done(r) == 0 && tx->u.send.body_len > NOID_MSG_MAX)
			return NOID_ERR_TOOBIG;
		break;
	case PROTO_ACK:
		reader_bytes(r, tx->u.ack.msg_id, NOID_ID_LEN);
		break;
	case PROTO_IDS:
		reader_bytes(r, tx->u.ids.rid, NOID_ID_LEN);
		reader_bytes(r, tx->u.ids.sid, NOID_ID_LEN);
		reader_bytes(r, tx->u.ids.relay_dh_pub, NOID_KEY_LEN);
		break;
	case PROTO_ERR:
		reader_u8(r, &tx->u.err.code);
		if (r->err == 0 &&
		    (tx->u.err.code < PROTO_E_AUTH ||
		        tx->u.err.code > PROTO_E_SESSION))
			return NOID_ERR_PROTO;
		break;
	case PROTO_MSG:
		reader_bytes(r, tx->u.msg.msg_id, NOID_ID_LEN);
		reader_long(r, &tx->u.msg.enc, &tx->u.msg.enc_len);
		if (r->err == 0 &&
		    (tx->u.msg.enc_len < NOID_MSG_ENC_MIN ||
		        tx->u.msg.enc_len > NOID_MSG_ENC_MAX))
			return NOID_ERR_PROTO;
		break;
	default:
		break;
	}
	return reader_done(r) == 0 ? 0 : NOID_ERR_PROTO;
}

/* Decode strictly. */
int
proto_tx_decode(
    const uint8_t *p, size_t len, enum proto_dir dir, struct proto_tx *tx)
{
	const struct proto_tag_info *ti;
	struct reader r;
	int error;

	memset(tx, 0, sizeof *tx);
	if (len > NOID_TX_MAX)
		return NOID_ERR_PROTO;
	reader_init(&r, p, len);
	if (reader_u8(&r, &tx->auth_kind) != 0 ||
	    tx->auth_kind > PROTO_AUTH_MAC)
		return NOID_ERR_PROTO;
	if (tx->auth_kind == PROTO_AUTH_MAC) {
		reader_bytes(&r, tx->auth_pub, NOID_KEY_LEN);
		reader_bytes(&r, tx->mac, NOID_MAC_LEN);
		/*
		 * X25519 ignores the top bit and reduces mod p, so only the
		 * canonical form is accepted: one key, one hash, one
		 * encoding.
		 */
		if (r.err == 0 && !proto_key_canonical(tx->auth_pub))
			return NOID_ERR_PROTO;
	}
	tx->signed_part = p + r.off;
	if (reader_u64(&r, &tx->corr_id) != 0)
		return NOID_ERR_PROTO;
	tx->have_corr_id = 1;
	/* corr_id 0 marks pushes; a client never uses it. */
	if (dir == PROTO_DIR_CMD && tx->corr_id == 0)
		return NOID_ERR_PROTO;
	tx->signed_len = len - (size_t)(tx->signed_part - p);
	if (reader_u8(&r, &tx->entity_len) != 0 ||
	    (tx->entity_len != 0 && tx->entity_len != NOID_ID_LEN))
		return NOID_ERR_PROTO;
	reader_bytes(&r, tx->entity, tx->entity_len);
	if (reader_u8(&r, &tx->tag) != 0)
		return NOID_ERR_PROTO;
	if ((dir == PROTO_DIR_CMD) != (tx->tag < 0x80))
		return NOID_ERR_PROTO;
	if ((ti = proto_tag_find(tx->tag)) == NULL)
		return NOID_ERR_PROTO;
	if (ti->entity != PROTO_ENT_ANY && ti->entity != tx->entity_len)
		return NOID_ERR_PROTO;
	if ((error = proto_fields_get(&r, tx)) != 0)
		return error;
	tx->signed_len -= proto_unsigned_len(tx);
	if ((ti->auth == PROTO_AUTH_REQUIRED &&
	        tx->auth_kind != PROTO_AUTH_MAC) ||
	    (ti->auth == PROTO_AUTH_FORBIDDEN &&
	        tx->auth_kind != PROTO_AUTH_NONE))
		return NOID_ERR_AUTH;
	return 0;
}
