/*
 * noid — agent-invite: the one-time invitation link (PROTOCOL.md, agent).
 *
 * A link must fit a QR code of version 5 at level L (154 alphanumeric
 * characters) so an 80x24 terminal can show it beside a title, and stay
 * in the QR alphanumeric set (upper-case letters, digits, ":/.-").  So
 * it carries only what the joiner cannot get any other way: the
 * inviter's relay (Noise key, host, port), the sender id of the
 * inviter's queue and a 16-byte link key.  Everything else (keys, the
 * profile) is exchanged through the queue, encrypted under keys derived
 * from the link key.
 *
 *   link  = "NOID:" B32(bin) [ "/" hostname ]
 *   bin   = hdr(1) relay_key(32) sid(24) link_key(16) [port(2)] [ip(4|16)]
 *   hdr   = version(4 bits, 1) | 0 | port-present(1 bit) | host kind(2)
 *
 * Host kinds: 0 IPv4 (4 bytes in bin), 1 IPv6 (16 bytes), 2 DNS name
 * (after the slash, upper case).  The port is left out when it is the
 * default 5223.  Parsing is strict: one canonical text per invitation.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "agent.h"

#define INVITE_VERSION 1
#define INVITE_DEFAULT_PORT 5223
#define HOST_IPV4 0
#define HOST_IPV6 1
#define HOST_NAME 2
#define HDR_PORT 0x04
#define HDR_KIND 0x03
#define HDR_RESERVED 0x08
#define BIN_FIXED                                                              \
	(1 + AGENT_RELAY_KEY_LEN + AGENT_QUEUE_ID_LEN + AGENT_INVITE_KEY_LEN)
#define BIN_MAX (BIN_FIXED + 2 + 16)

/* Whether s (len bytes) is a DNS host name we can put in a link. */
static int
host_name_ok(const char *s, size_t len)
{
	size_t i, label = 0;
	int digits_only = 1;

	if (len == 0 || len > AGENT_HOST_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			digits_only = 1;
			continue;
		}
		if (!isascii((unsigned char)c) ||
		    !(isalnum((unsigned char)c) || c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (!isdigit((unsigned char)c))
			digits_only = 0;
		if (++label > 63)
			return 0;
	}
	/* No empty last label, no trailing hyphen, and a last label of
	 * digits only would read as a (short-form) IPv4 address. */
	if (label == 0 || s[len - 1] == '-' || digits_only)
		return 0;
	return 1;
}

/* Encode an invitation as link text (caller frees *out). */
int
agent_invite_format(const struct agent_invite *inv, char **out)
{
	uint8_t bin[BIN_MAX], ip[16];
	size_t n = 0, hostlen = strlen(inv->host), i;
	int kind;
	char *b32, *link;

	*out = NULL;
	if (inet_pton(AF_INET, inv->host, ip) == 1)
		kind = HOST_IPV4;
	else if (inet_pton(AF_INET6, inv->host, ip) == 1)
		kind = HOST_IPV6;
	else if (host_name_ok(inv->host, hostlen))
		kind = HOST_NAME;
	else
		return NOID_ERR_INVAL;
	if (inv->port == 0)
		return NOID_ERR_INVAL;

	bin[n++] = (uint8_t)(INVITE_VERSION << 4 |
	    (inv->port != INVITE_DEFAULT_PORT ? HDR_PORT : 0) | kind);
	memcpy(bin + n, inv->relay_key, AGENT_RELAY_KEY_LEN);
	n += AGENT_RELAY_KEY_LEN;
	memcpy(bin + n, inv->sid, AGENT_QUEUE_ID_LEN);
	n += AGENT_QUEUE_ID_LEN;
	memcpy(bin + n, inv->key, AGENT_INVITE_KEY_LEN);
	n += AGENT_INVITE_KEY_LEN;
	if (inv->port != INVITE_DEFAULT_PORT) {
		be16_put(bin + n, inv->port);
		n += 2;
	}
	if (kind == HOST_IPV4) {
		memcpy(bin + n, ip, 4);
		n += 4;
	} else if (kind == HOST_IPV6) {
		memcpy(bin + n, ip, 16);
		n += 16;
	}

	b32 = base32_encode(bin, n);
	sodium_memzero(bin, sizeof bin);
	if (kind == HOST_NAME)
		xasprintf(&link, AGENT_INVITE_PREFIX "%s/%s", b32, inv->host);
	else
		xasprintf(&link, AGENT_INVITE_PREFIX "%s", b32);
	sodium_memzero(b32, strlen(b32));
	free(b32);
	for (i = 0; link[i] != '\0'; i++)
		link[i] = (char)toupper((unsigned char)link[i]);
	if (strlen(link) > AGENT_INVITE_MAX) {
		sodium_memzero(link, strlen(link));
		free(link);
		return NOID_ERR_TOOBIG;
	}
	*out = link;
	return 0;
}

/* Fail a parse with a reason. */
static int
invite_fail(const char **why, const char *reason, int err)
{
	if (why != NULL)
		*why = reason;
	return err;
}

/* Parse link text strictly into *out. */
int
agent_invite_parse(
    const char *text, size_t len, struct agent_invite *out, const char **why)
{
	const size_t plen = sizeof AGENT_INVITE_PREFIX - 1;
	uint8_t bin[BIN_MAX + 1];
	const char *slash, *host = NULL;
	size_t b32len, hostlen = 0, n, want, i, off;
	int kind, hasport, rc;

	memset(out, 0, sizeof *out);
	while (len > 0 && isspace((unsigned char)text[0])) {
		text++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	if (len == 0)
		return invite_fail(why, "the link is empty", NOID_ERR_INVAL);
	if (len > AGENT_INVITE_MAX)
		return invite_fail(why, "the link is too long", NOID_ERR_INVAL);
	if (memchr(text, '\0', len) != NULL)
		return invite_fail(
		    why, "the link contains a NUL byte", NOID_ERR_INVAL);
	if (len < plen || strncasecmp(text, AGENT_INVITE_PREFIX, plen) != 0)
		return invite_fail(why,
		    "not a noid invitation (it must start "
		    "with NOID:)",
		    NOID_ERR_INVAL);
	text += plen;
	len -= plen;

	slash = memchr(text, '/', len);
	b32len = slash != NULL ? (size_t)(slash - text) : len;
	if (slash != NULL) {
		host = slash + 1;
		hostlen = len - b32len - 1;
	}
	if (b32len == 0)
		return invite_fail(
		    why, "the link has no key material", NOID_ERR_INVAL);
	rc = base32_decode(text, b32len, bin, sizeof bin, &n);
	if (rc != 0)
		return invite_fail(why,
		    "the link is damaged (bad character "
		    "or length)",
		    NOID_ERR_INVAL);
	if (n < 1)
		return invite_fail(
		    why, "the link is truncated", NOID_ERR_INVAL);
	if ((bin[0] >> 4) > INVITE_VERSION) {
		rc = invite_fail(why,
		    "the link was made by a newer noid: "
		    "upgrade to use it",
		    NOID_ERR_VERSION);
		goto out;
	}
	if ((bin[0] >> 4) != INVITE_VERSION || (bin[0] & HDR_RESERVED) ||
	    (bin[0] & HDR_KIND) > HOST_NAME) {
		rc = invite_fail(
		    why, "the link has an unknown format", NOID_ERR_INVAL);
		goto out;
	}
	kind = bin[0] & HDR_KIND;
	hasport = (bin[0] & HDR_PORT) != 0;
	want = BIN_FIXED + (hasport ? 2 : 0) +
	    (kind == HOST_IPV4          ? 4
	            : kind == HOST_IPV6 ? 16
	                                : 0);
	if (n != want) {
		rc = invite_fail(why,
		    n < want ? "the link is truncated"
		             : "the link has extra data",
		    NOID_ERR_INVAL);
		goto out;
	}
	if ((kind == HOST_NAME) != (slash != NULL)) {
		rc = invite_fail(why,
		    kind == HOST_NAME ? "the link lacks the relay host name"
		                      : "the link has a stray '/' part",
		    NOID_ERR_INVAL);
		goto out;
	}

	off = 1;
	memcpy(out->relay_key, bin + off, AGENT_RELAY_KEY_LEN);
	off += AGENT_RELAY_KEY_LEN;
	memcpy(out->sid, bin + off, AGENT_QUEUE_ID_LEN);
	off += AGENT_QUEUE_ID_LEN;
	memcpy(out->key, bin + off, AGENT_INVITE_KEY_LEN);
	off += AGENT_INVITE_KEY_LEN;
	out->port = INVITE_DEFAULT_PORT;
	if (hasport) {
		out->port = be16_get(bin + off);
		off += 2;
		if (out->port == 0 || out->port == INVITE_DEFAULT_PORT) {
			rc = invite_fail(
			    why, "the link has a bad port", NOID_ERR_INVAL);
			goto out;
		}
	}
	if (kind == HOST_IPV4)
		inet_ntop(AF_INET, bin + off, out->host, sizeof out->host);
	else if (kind == HOST_IPV6)
		inet_ntop(AF_INET6, bin + off, out->host, sizeof out->host);
	else {
		if (!host_name_ok(host, hostlen)) {
			rc = invite_fail(why,
			    "the link has a bad relay host "
			    "name",
			    NOID_ERR_INVAL);
			goto out;
		}
		for (i = 0; i < hostlen; i++)
			out->host[i] = (char)tolower((unsigned char)host[i]);
		out->host[hostlen] = '\0';
	}
	rc = 0;
out:
	sodium_memzero(bin, sizeof bin);
	if (rc != 0)
		sodium_memzero(out, sizeof *out);
	return rc;
}
