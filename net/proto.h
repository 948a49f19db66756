/*
 * noid — proto: the relay protocol codec (net/PROTOCOL.md §3–§5).
 *
 * A block's plaintext (NOID_BLOCK_PLAIN bytes) carries transmissions,
 * each a u16 length then that many bytes; a zero length or the block's
 * end stops the sequence and the rest is zero padding.  A transmission:
 *
 *	auth_kind(u8) [auth_pub(32) mac(32)] corr_id(u64) entity_len(u8)
 *	entity(0|24) tag(u8) fields
 *
 * Decoding is strict: every length is checked before use, missing and
 * extra bytes are errors, entity and authenticator presence must match
 * the tag.  Decoded variable-length fields borrow the input bytes.
 *
 * The authenticator: k = HKDF-SHA256(X25519(auth_priv, session_auth_pub)
 * or X25519(session_auth_priv, auth_pub), salt = session id, info =
 * "noid relay auth v1"); mac = BLAKE2b-256 keyed with k over
 * session_id || bytes from corr_id to the end, less a SEND's body (its
 * length is covered; the Noise transport authenticates the rest).
 * proto_auth_key() derives k once so a relay can cache it per
 * (connection, auth_pub).
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_PROTO_H
#define NOID_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Protocol versions this code speaks. */
#define NOID_PROTO_VERSION_MIN 1
#define NOID_PROTO_VERSION_MAX 1

/* Sizes on the wire. */
#define NOID_BLOCK 16384 /* one encrypted frame */
#define NOID_BLOCK_PLAIN (NOID_BLOCK - 16) /* its plaintext */
#define NOID_TX_MAX (NOID_BLOCK_PLAIN - 2) /* one transmission */
#define NOID_MSG_MAX 16000 /* SEND body */
#define NOID_ID_LEN 24 /* rid, sid, msg_id */
#define NOID_KEY_LEN 32 /* X25519 public keys */
#define NOID_MAC_LEN 32
#define NOID_SESSION_ID_LEN 32
#define NOID_ACCESS_KEY_MAX 64
#define NOID_WINDOW_MAX 16 /* unacked MSGs per subscription (SUB) */
#define NOID_AUTH_INFO "noid relay auth v1"
/* Relay->recipient layer: ts_ms(8) flags(1) body, crypto_box MAC(16). */
#define NOID_MSG_PLAIN_HDR 9
#define NOID_MSG_BOX_MAC 16
#define NOID_MSG_ENC_MIN (NOID_MSG_BOX_MAC + NOID_MSG_PLAIN_HDR + 1)
#define NOID_MSG_ENC_MAX (NOID_MSG_BOX_MAC + NOID_MSG_PLAIN_HDR + NOID_MSG_MAX)
/* Quota defaults (the relay's config may change them). */
#define NOID_QUOTA_DEFAULT 128
#define NOID_TTL_DEFAULT_S (21 * 24 * 3600)

/* SEND flags. */
#define PROTO_SEND_NOTIFY 0x01

enum proto_auth_kind { PROTO_AUTH_NONE = 0, PROTO_AUTH_MAC = 1 };

/* Command (< 0x80) and response (>= 0x80) tags. */
enum proto_tag {
	PROTO_NEW = 0x01,
	PROTO_KEY = 0x02,
	PROTO_SEND = 0x03,
	PROTO_SUB = 0x04,
	PROTO_ACK = 0x05,
	PROTO_GET = 0x06,
	PROTO_OFF = 0x07,
	PROTO_DEL = 0x08,
	PROTO_PING = 0x09,
	/* 0x20-0x2f reserved for forwarding, 0x30-0x3f for lease cells. */
	PROTO_RESERVED_FWD_FIRST = 0x20,
	PROTO_RESERVED_FWD_LAST = 0x2f,
	PROTO_RESERVED_LEASE_FIRST = 0x30,
	PROTO_RESERVED_LEASE_LAST = 0x3f,
	PROTO_IDS = 0x81,
	PROTO_OK = 0x82,
	PROTO_ERR = 0x83,
	PROTO_MSG = 0x84,
	PROTO_END = 0x85,
	PROTO_PONG = 0x86,
	PROTO_QCONT = 0x87
};

/* ERR codes. */
enum proto_err {
	PROTO_E_AUTH = 1, /* wrong key, missing queue, missing auth */
	PROTO_E_CMD = 2, /* unknown, malformed, wrong entity */
	PROTO_E_NO_MSG = 3, /* nothing to get / wrong ack id */
	PROTO_E_QUOTA = 4, /* queue full: wait for QCONT */
	PROTO_E_LARGE = 5, /* body too large */
	PROTO_E_BLOCKED = 6, /* wrong access key */
	PROTO_E_INTERNAL = 7, /* relay failure (e.g. journal) */
	PROTO_E_LIMIT = 8, /* relay limit */
	PROTO_E_SESSION = 9 /* malformed block: the relay closes */
};

/* Which direction a decoder accepts. */
enum proto_dir {
	PROTO_DIR_CMD, /* client -> relay: tags < 0x80 */
	PROTO_DIR_RESP /* relay -> client: tags >= 0x80 */
};

/*
 * One transmission, decoded or to encode.  Fixed-size fields are
 * copied; body, access key and enc borrow the caller's bytes.
 */
struct proto_tx {
	uint8_t auth_kind;
	uint8_t auth_pub[NOID_KEY_LEN];
	uint8_t mac[NOID_MAC_LEN];
	uint64_t corr_id;
	uint8_t entity_len; /* 0 or NOID_ID_LEN */
	uint8_t entity[NOID_ID_LEN];
	uint8_t tag;
	union {
		struct {
			uint8_t dh_pub[NOID_KEY_LEN];
			const uint8_t *access_key;
			size_t access_key_len;
		} create; /* NEW */
		struct {
			uint8_t sender_pub[NOID_KEY_LEN];
		} key; /* KEY */
		struct {
			/* 1..NOID_WINDOW_MAX; 0 encodes as 1 */
			uint8_t window;
		} sub; /* SUB */
		struct {
			uint8_t flags;
			const uint8_t *body;
			size_t body_len;
		} send; /* SEND */
		struct {
			uint8_t msg_id[NOID_ID_LEN];
		} ack; /* ACK */
		struct {
			uint8_t rid[NOID_ID_LEN];
			uint8_t sid[NOID_ID_LEN];
			uint8_t relay_dh_pub[NOID_KEY_LEN];
		} ids; /* IDS */
		struct {
			uint8_t code;
		} err; /* ERR */
		struct {
			uint8_t msg_id[NOID_ID_LEN];
			const uint8_t *enc;
			size_t enc_len;
		} msg; /* MSG */
	} u;
	/* Decoded only: the bytes the MAC covers (corr_id to the end,
	 * less a SEND's body). */
	const uint8_t *signed_part;
	size_t signed_len;
	/* Decoded only: non-zero once corr_id was read (for ERR replies). */
	int have_corr_id;
};

/* What signs a command: the auth key's public half and the derived k. */
struct proto_signer {
	uint8_t auth_pub[NOID_KEY_LEN];
	uint8_t k[32];
	uint8_t session_id[NOID_SESSION_ID_LEN];
};

/* A block's plaintext being filled (caller allocates; no invariants
 * beyond used <= NOID_BLOCK_PLAIN). */
struct proto_block {
	uint8_t data[NOID_BLOCK_PLAIN];
	size_t used;
};

/* Iterates the transmissions of a received block. */
struct proto_block_iter {
	const uint8_t *data;
	size_t off;
	int done;
};

/* Entity a tag needs: 0 (none) or NOID_ID_LEN; -1 for "either" (OK/ERR),
 * -2 for an unknown tag. */
int proto_tag_entity(uint8_t tag);

/* Name of a tag ("SEND"), or "?" for unknown. */
const char *proto_tag_name(uint8_t tag);

/* Name of an ERR code ("QUOTA"), or "?". */
const char *proto_err_name(uint8_t code);

/* The noid_err a relay ERR code means to a client. */
int proto_err_to_noid(uint8_t code);

/* Encoded size of tx (with an authenticator when signed). */
size_t proto_tx_size(const struct proto_tx *tx, int signed_);

/*
 * Encode tx into out (cap bytes), signed by s (NULL: auth_kind none).
 * NOID_ERR_TOOBIG when out is too small or a field is over its limit,
 * NOID_ERR_INVAL for a bad entity length.
 */
int proto_tx_encode(const struct proto_tx *tx, const struct proto_signer *s,
    uint8_t *out, size_t cap, size_t *outlen);

/*
 * Decode one transmission strictly.  NOID_ERR_PROTO when malformed or
 * unknown (tx->have_corr_id says whether corr_id is usable for the ERR
 * CMD reply; tx->tag is set once read), NOID_ERR_AUTH when the
 * authenticator is missing where required or present where not allowed.
 */
int proto_tx_decode(
    const uint8_t *p, size_t len, enum proto_dir dir, struct proto_tx *tx);

/* Start an empty block. */
void proto_block_init(struct proto_block *b);

/* Append an encoded transmission; NOID_ERR_TOOBIG when it does not fit. */
int proto_block_add(struct proto_block *b, const uint8_t *tx, size_t len);

/* Encode tx straight into the block; NOID_ERR_TOOBIG when no room. */
int proto_block_add_tx(struct proto_block *b, const struct proto_tx *tx,
    const struct proto_signer *s);

/* Bytes still free for one more transmission's payload (0 if none). */
size_t proto_block_room(const struct proto_block *b);

/* Zero the padding; the block is then ready for transport_queue_block. */
void proto_block_finish(struct proto_block *b);

/* Start iterating a received NOID_BLOCK_PLAIN-byte block. */
void proto_block_iter_init(struct proto_block_iter *it, const uint8_t *data);

/*
 * Next transmission: 0 with *tx and *len set; NOID_ERR_NOENT at the end;
 * NOID_ERR_PROTO when the block is malformed (a length past the end,
 * non-zero padding): answer ERR SESSION and close.
 */
int proto_block_next(
    struct proto_block_iter *it, const uint8_t **tx, size_t *len);

/*
 * k for the authenticator from our X25519 secret and their public key
 * (client: auth secret + session auth pub; relay: session auth secret +
 * carried auth pub).  NOID_ERR_CRYPTO on a low-order key, with k
 * zeroed.
 */
int proto_auth_key(uint8_t k[32], const uint8_t my_priv[32],
    const uint8_t their_pub[32], const uint8_t session_id[32]);

/*
 * Public keys on the wire.  Canonical: the one encoding of the value,
 * below 2^255 - 19 (so the top bit is clear); 1 or 0.  Check: canonical
 * and not of low order (a DH with it would be all zero); 0 or
 * NOID_ERR_PROTO.
 */
int proto_key_canonical(const uint8_t pub[NOID_KEY_LEN]);
int proto_key_check(const uint8_t pub[NOID_KEY_LEN]);

/* Fill a signer (derives k); wipe it with sodium_memzero after use. */
int proto_signer_init(struct proto_signer *s, const uint8_t auth_priv[32],
    const uint8_t auth_pub[32], const uint8_t session_auth_pub[32],
    const uint8_t session_id[32]);

/* mac = BLAKE2b-256(key = k, session_id || signed bytes). */
void proto_auth_mac(uint8_t mac[NOID_MAC_LEN], const uint8_t k[32],
    const uint8_t session_id[32], const uint8_t *signed_part, size_t len);

/* Check a decoded tx's MAC in constant time: 0 or NOID_ERR_AUTH. */
int proto_auth_verify(const struct proto_tx *tx, const uint8_t k[32],
    const uint8_t session_id[32]);

/* The stored hash of an auth public key (BLAKE2b-256). */
void proto_key_hash(uint8_t out[32], const uint8_t pub[NOID_KEY_LEN]);

/*
 * Relay->recipient layer.  shared = crypto_box_beforenm(peer pub, our
 * priv).  Seal: enc (cap >= NOID_MSG_ENC_MAX) gets body_len +
 * NOID_MSG_PLAIN_HDR + NOID_MSG_BOX_MAC bytes.
 */
int proto_msg_shared(
    uint8_t shared[32], const uint8_t peer_pub[32], const uint8_t my_priv[32]);
int proto_msg_seal(uint8_t *enc, size_t cap, size_t *enc_len,
    const uint8_t msg_id[NOID_ID_LEN], const uint8_t shared[32], uint64_t ts_ms,
    uint8_t flags, const uint8_t *body, size_t body_len);

/*
 * Open a MSG's enc: *body points into plain (cap >= enc_len).
 * NOID_ERR_CRYPTO when it does not authenticate.
 */
int proto_msg_open(uint8_t *plain, size_t cap, const uint8_t *enc,
    size_t enc_len, const uint8_t msg_id[NOID_ID_LEN], const uint8_t shared[32],
    uint64_t *ts_ms, uint8_t *flags, const uint8_t **body, size_t *body_len);

#endif
