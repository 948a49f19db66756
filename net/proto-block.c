/*
 * proto-block: packing transmissions into a block's plaintext and
 * iterating them back out.  Each is a u16 length then its bytes; a zero
 * length or the block's end stops the sequence, and everything after it
 * must be zero so a block carries nothing but its transmissions.
 */
#include "proto.h"

#include <string.h>

#include "base.h"

/* Empty block. */
void
proto_block_init(struct proto_block *b)
{
	b->used = 0;
}

/* Room for one more transmission's bytes. */
size_t
proto_block_room(const struct proto_block *b)
{
	if (b->used + 2 > NOID_BLOCK_PLAIN)
		return 0;
	return NOID_BLOCK_PLAIN - b->used - 2;
}

/* Append encoded bytes. */
int
proto_block_add(struct proto_block *b, const uint8_t *tx, size_t len)
{
	if (len == 0 || len > NOID_TX_MAX)
		return NOID_ERR_INVAL;
	if (len > proto_block_room(b))
		return NOID_ERR_TOOBIG;
	be16_put(b->data + b->used, (uint16_t)len);
	memcpy(b->data + b->used + 2, tx, len);
	b->used += 2 + len;
	return 0;
}

/* Encode in place. */
int
proto_block_add_tx(struct proto_block *b, const struct proto_tx *tx,
    const struct proto_signer *s)
{
	size_t room = proto_block_room(b), len;
	int error;

	if (proto_tx_size(tx, s != NULL) > room)
		return NOID_ERR_TOOBIG;
	error = proto_tx_encode(tx, s, b->data + b->used + 2, room, &len);
	if (error != 0)
		return error;
	be16_put(b->data + b->used, (uint16_t)len);
	b->used += 2 + len;
	return 0;
}

/* Zero the padding. */
void
proto_block_finish(struct proto_block *b)
{
	memset(b->data + b->used, 0, NOID_BLOCK_PLAIN - b->used);
}

/* Start iterating. */
void
proto_block_iter_init(struct proto_block_iter *it, const uint8_t *data)
{
	it->data = data;
	it->off = 0;
	it->done = 0;
}

/*
 * Is everything from off to the end zero?  Every byte equals the first
 * and the first is zero: one memcmp, which libc runs with vector
 * compares (a byte loop was ~2% of the relay's profile).  Padding is
 * not secret, so an early exit is fine.
 */
static int
proto_block_zero_from(const uint8_t *data, size_t off)
{
	if (off >= NOID_BLOCK_PLAIN)
		return 1;
	return data[off] == 0 &&
	    memcmp(data + off, data + off + 1, NOID_BLOCK_PLAIN - off - 1) == 0;
}

/* Next transmission. */
int
proto_block_next(struct proto_block_iter *it, const uint8_t **tx, size_t *len)
{
	size_t n;

	if (it->done)
		return NOID_ERR_NOENT;
	if (it->off + 2 > NOID_BLOCK_PLAIN ||
	    (n = be16_get(it->data + it->off)) == 0) {
		it->done = 1;
		return proto_block_zero_from(it->data, it->off)
		    ? NOID_ERR_NOENT
		    : NOID_ERR_PROTO;
	}
	if (n > NOID_TX_MAX || n > NOID_BLOCK_PLAIN - it->off - 2) {
		it->done = 1;
		return NOID_ERR_PROTO;
	}
	*tx = it->data + it->off + 2;
	*len = n;
	it->off += 2 + n;
	return 0;
}
