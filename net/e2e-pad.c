/*
 * e2e-pad: fixed-size padding for every layer (DESIGN §5: "every layer
 * padded to fixed size").  A padded block is a 2-byte big-endian length,
 * the payload, then zeros.  Unpadding is strict (exact size, length in
 * range, zero padding) because SimpleX's 2022 audit found both a wrong
 * pad for long input and an unpad that failed badly on short input.
 */
#include "e2e.h"

#include <string.h>

/* Pad len bytes of p into exactly size bytes at out. */
int
e2e_pad(const uint8_t *p, size_t len, uint8_t *out, size_t size)
{
	if (size < E2E_PAD_PREFIX || size - E2E_PAD_PREFIX > UINT16_MAX)
		return NOID_ERR_INVAL;
	if (len > size - E2E_PAD_PREFIX)
		return NOID_ERR_TOOBIG;
	be16_put(out, (uint16_t)len);
	if (len != 0)
		memmove(out + E2E_PAD_PREFIX, p, len);
	memset(out + E2E_PAD_PREFIX + len, 0, size - E2E_PAD_PREFIX - len);
	return NOID_OK;
}

/* Check and strip the padding of one size-byte block. */
int
e2e_unpad(const uint8_t *p, size_t len, size_t size, const uint8_t **payload,
    size_t *plen)
{
	size_t n, i;
	uint8_t acc = 0;

	if (size < E2E_PAD_PREFIX || size - E2E_PAD_PREFIX > UINT16_MAX)
		return NOID_ERR_INVAL;
	if (len != size)
		return NOID_ERR_INVAL;
	n = be16_get(p);
	if (n > size - E2E_PAD_PREFIX)
		return NOID_ERR_PROTO;
	for (i = E2E_PAD_PREFIX + n; i < size; i++)
		acc |= p[i];
	if (acc != 0)
		return NOID_ERR_PROTO;
	*payload = p + E2E_PAD_PREFIX;
	*plen = n;
	return NOID_OK;
}
