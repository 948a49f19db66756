/*
 * e2e-kdf: HKDF-SHA256 (RFC 5869) on libsodium's HMAC-SHA256, which
 * libsodium 1.0.18 lacks as a primitive.  Used by the key agreement
 * (over the concatenated DH outputs) and by the ratchet's root KDF.
 */
#include "e2e.h"

#include <sodium.h>
#include <string.h>

/* Extract a pseudo-random key from ikm, then expand it into out. */
int
e2e_hkdf(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
    const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	static const uint8_t zero[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	uint8_t prk[crypto_auth_hmacsha256_BYTES];
	uint8_t t[crypto_auth_hmacsha256_BYTES];
	size_t done = 0, n;
	uint8_t ctr = 0;

	if (outlen > 255 * sizeof t)
		return NOID_ERR_INVAL;
	if (salt == NULL || saltlen == 0) {
		salt = zero;
		saltlen = sizeof zero;
	}
	crypto_auth_hmacsha256_init(&st, salt, saltlen);
	crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&st, prk);

	while (done < outlen) {
		crypto_auth_hmacsha256_init(&st, prk, sizeof prk);
		if (ctr != 0)
			crypto_auth_hmacsha256_update(&st, t, sizeof t);
		crypto_auth_hmacsha256_update(&st, info, infolen);
		ctr++;
		crypto_auth_hmacsha256_update(&st, &ctr, 1);
		crypto_auth_hmacsha256_final(&st, t);
		n = outlen - done < sizeof t ? outlen - done : sizeof t;
		memcpy(out + done, t, n);
		done += n;
	}
	sodium_memzero(&st, sizeof st);
	sodium_memzero(prk, sizeof prk);
	sodium_memzero(t, sizeof t);
	return NOID_OK;
}
