/*
 * addr: parsing and formatting relay addresses.  The key comes first
 * because it is what makes the address safe to use: a wrong host only
 * fails to connect, a wrong key is refused in the handshake.  Every
 * malformed form gets its own sentence so a user pasting an address
 * from a chat or a QR code knows what to fix.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"

/* Set *why and fail. */
static int
addr_fail(const char **why, const char *msg)
{
	if (why != NULL)
		*why = msg;
	return NOID_ERR_INVAL;
}

/* Is c in the base64url alphabet? */
static int
addr_b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Decode and check the key part (exactly ADDR_KEY_CHARS characters). */
static int
addr_parse_key(const char *s, size_t len, uint8_t key[32], const char **why)
{
	static const uint8_t one[32] = {1};
	uint8_t probe[32];
	char text[ADDR_KEY_CHARS + 1];
	size_t i, n;

	if (len == 0)
		return addr_fail(why, "the relay key before '@' is missing");
	if (len != ADDR_KEY_CHARS)
		return addr_fail(why,
		    "the relay key must be exactly 43 base64url characters");
	for (i = 0; i < len; i++) {
		if (!addr_b64url_char(s[i]))
			return addr_fail(why,
			    "the relay key has a character outside "
			    "base64url (A-Z a-z 0-9 - _)");
	}
	memcpy(text, s, len);
	text[len] = '\0';
	/* libsodium rejects non-zero leftover bits: one key, one text. */
	if (b64url_decode(text, key, 32, &n) != 0 || n != 32)
		return addr_fail(why, "the relay key is not valid base64url");
	if (sodium_is_zero(key, 32))
		return addr_fail(why, "the relay key is all zero");
	/* A low-order point gives an all-zero DH with every scalar. */
	if (crypto_scalarmult(probe, one, key) != 0)
		return addr_fail(
		    why, "the relay key is not a usable X25519 key");
	return 0;
}

/* A DNS name: labels of [A-Za-z0-9-], 1..63 long, no edge hyphens. */
static int
addr_valid_hostname(const char *h, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > ADDR_HOST_MAX || h[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = h[i];

		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return h[len - 1] != '-';
}

/* Only digits and dots: meant as IPv4, so it must be one. */
static int
addr_looks_ipv4(const char *h, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (h[i] != '.' && (h[i] < '0' || h[i] > '9'))
			return 0;
	}
	return 1;
}

/* Parse the port digits (1..65535, no sign, no leading zero). */
static int
addr_parse_port(const char *s, uint16_t *port, const char **why)
{
	unsigned long v = 0;
	size_t i, len = strlen(s);

	if (len == 0)
		return addr_fail(why, "the port after ':' is missing");
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return addr_fail(why,
			    "the port must be a number (nothing may follow "
			    "it)");
	}
	if (len > 5 || (s[0] == '0'))
		return addr_fail(why, "the port must be between 1 and 65535");
	for (i = 0; i < len; i++)
		v = v * 10 + (unsigned long)(s[i] - '0');
	if (v == 0 || v > 65535)
		return addr_fail(why, "the port must be between 1 and 65535");
	*port = (uint16_t)v;
	return 0;
}

/* Parse the host[:port] part after '@'. */
static int
addr_parse_endpoint(const char *s, struct relay_addr *a, const char **why)
{
	unsigned char tmp[16];
	const char *end, *rest;
	size_t len;

	if (*s == '\0')
		return addr_fail(why, "the host after '@' is missing");
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return addr_fail(
			    why, "an IPv6 address must be closed with ']'");
		len = (size_t)(end - s - 1);
		if (len == 0)
			return addr_fail(why, "the IPv6 address is empty");
		if (len >= sizeof a->host)
			return addr_fail(why, "not a valid IPv6 address");
		memcpy(a->host, s + 1, len);
		a->host[len] = '\0';
		if (inet_pton(AF_INET6, a->host, tmp) != 1)
			return addr_fail(why, "not a valid IPv6 address");
		a->ipv6 = 1;
		rest = end + 1;
		if (*rest != '\0' && *rest != ':')
			return addr_fail(
			    why, "only ':port' may follow an IPv6 address");
	} else {
		rest = strchr(s, ':');
		len = rest != NULL ? (size_t)(rest - s) : strlen(s);
		if (rest != NULL && strchr(rest + 1, ':') != NULL)
			return addr_fail(why,
			    "an IPv6 address must be written in brackets, "
			    "like [::1]:5223");
		if (len == 0)
			return addr_fail(why, "the host after '@' is missing");
		if (len > ADDR_HOST_MAX)
			return addr_fail(why, "the host name is too long");
		memcpy(a->host, s, len);
		a->host[len] = '\0';
		if (addr_looks_ipv4(a->host, len)) {
			if (inet_pton(AF_INET, a->host, tmp) != 1)
				return addr_fail(
				    why, "not a valid IPv4 address");
		} else if (!addr_valid_hostname(a->host, len))
			return addr_fail(why,
			    "the host name may hold only letters, digits, "
			    "'-' and '.'");
		if (rest == NULL)
			rest = s + len;
	}
	a->port = ADDR_DEFAULT_PORT;
	if (*rest == ':')
		return addr_parse_port(rest + 1, &a->port, why);
	return 0;
}

/* Parse an address. */
int
addr_parse(const char *s, struct relay_addr *a, const char **why)
{
	const char *at, *key;

	memset(a, 0, sizeof *a);
	if (s == NULL || *s == '\0')
		return addr_fail(why, "the relay address is empty");
	if (strncmp(s, ADDR_SCHEME, sizeof ADDR_SCHEME - 1) != 0)
		return addr_fail(why, "a relay address starts with noid://");
	key = s + sizeof ADDR_SCHEME - 1;
	if ((at = strchr(key, '@')) == NULL)
		return addr_fail(why,
		    "a relay address needs '@' between the key and the host");
	if (strchr(at + 1, '@') != NULL)
		return addr_fail(why, "a relay address has only one '@'");
	if (addr_parse_key(key, (size_t)(at - key), a->key, why) != 0)
		return NOID_ERR_INVAL;
	return addr_parse_endpoint(at + 1, a, why);
}

/* The endpoint text. */
char *
addr_format_endpoint(const struct relay_addr *a)
{
	char *out;

	if (a->ipv6)
		xasprintf(&out, "[%s]:%u", a->host, (unsigned)a->port);
	else
		xasprintf(&out, "%s:%u", a->host, (unsigned)a->port);
	return out;
}

/* Canonical text. */
char *
addr_format(const struct relay_addr *a)
{
	char *key, *ep, *out;

	key = b64url_encode(a->key, sizeof a->key);
	ep = addr_format_endpoint(a);
	xasprintf(&out, "%s%s@%s", ADDR_SCHEME, key, ep);
	free(key);
	free(ep);
	return out;
}

/* First 80 bits of BLAKE2b(key), base32, in groups of four. */
void
addr_fingerprint(const uint8_t key[32], char out[ADDR_FP_SIZE])
{
	uint8_t h[32];
	char *b32;
	size_t i, o = 0;

	crypto_generichash(h, sizeof h, key, 32, NULL, 0);
	b32 = base32_encode(h, 10);
	for (i = 0; i < 16; i++) {
		if (i != 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = b32[i];
	}
	out[o] = '\0';
	free(b32);
}
