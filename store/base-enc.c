/*
 * base-enc: text encodings of bytes.  Base32 (RFC 4648, upper case, no
 * padding) keeps invitation links inside the QR alphanumeric set; hex
 * for logs and tests; base64url for keys in config files.
 */
#include "base.h"

#include <sodium.h>
#include <string.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Characters needed to base32-encode len bytes without padding. */
size_t
base32_encoded_len(size_t len)
{
	return (len * 8 + 4) / 5;
}

/* Encode bytes as base32 (caller frees). */
char *
base32_encode(const void *p, size_t len)
{
	const uint8_t *in = p;
	size_t n = base32_encoded_len(len), i, o = 0;
	char *out = xmalloc(n + 1);
	uint32_t acc = 0;
	int bits = 0;

	for (i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return out;
}

/* Value of one base32 character, or -1. */
static int
b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Decode base32 text; strict about alphabet and trailing bits. */
int
base32_decode(
    const char *s, size_t slen, uint8_t *out, size_t outcap, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < slen; i++) {
		if ((v = b32_value(s[i])) < 0)
			return NOID_ERR_INVAL;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= outcap)
				return NOID_ERR_TOOBIG;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* Leftover bits must be zero and fewer than 5 (canonical form). */
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
		return NOID_ERR_INVAL;
	*outlen = o;
	return 0;
}

/* Encode bytes as lower-case hex (caller frees). */
char *
hex_encode(const void *p, size_t len)
{
	char *out = xmalloc(len * 2 + 1);

	sodium_bin2hex(out, len * 2 + 1, p, len);
	return out;
}

/* Decode exactly outlen bytes of hex. */
int
hex_decode(const char *s, uint8_t *out, size_t outlen)
{
	size_t got = 0;
	const char *end = NULL;

	if (strlen(s) != outlen * 2)
		return NOID_ERR_INVAL;
	if (sodium_hex2bin(out, outlen, s, strlen(s), NULL, &got, &end) != 0 ||
	    got != outlen || *end != '\0')
		return NOID_ERR_INVAL;
	return 0;
}

/* Encode bytes as base64url without padding (caller frees). */
char *
b64url_encode(const void *p, size_t len)
{
	size_t n = sodium_base64_encoded_len(
	    len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = xmalloc(n);

	sodium_bin2base64(
	    out, n, p, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

/* Decode base64url without padding. */
int
b64url_decode(const char *s, uint8_t *out, size_t outcap, size_t *outlen)
{
	const char *end = NULL;

	if (sodium_base642bin(out, outcap, s, strlen(s), NULL, outlen, &end,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    *end != '\0')
		return NOID_ERR_INVAL;
	return 0;
}
