/*
 * noid — addr: relay addresses.
 *
 *	noid://<base64url(relay static X25519 key), 43 chars>@host[:port]
 *
 * host is a DNS name, a dotted IPv4 address or a bracketed IPv6 literal;
 * the port defaults to 5223.  The parser is strict and says what is
 * wrong in a sentence a user can act on.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_ADDR_H
#define NOID_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_SCHEME "noid://"
#define ADDR_DEFAULT_PORT 5223
#define ADDR_KEY_CHARS 43
#define ADDR_HOST_MAX 253
/* "ABCD-EFGH-IJKL-MNOP" and its NUL. */
#define ADDR_FP_SIZE 20

struct relay_addr {
	uint8_t key[32];
	char host[ADDR_HOST_MAX + 1]; /* IPv6 without brackets */
	uint16_t port;
	int ipv6;
};

/*
 * Parse s into a.  On error returns NOID_ERR_INVAL and, when why is not
 * NULL, points *why at a static sentence saying what is wrong.
 */
int addr_parse(const char *s, struct relay_addr *a, const char **why);

/* The canonical text form, port always included (caller frees). */
char *addr_format(const struct relay_addr *a);

/* "host:port" or "[v6]:port" for messages (caller frees). */
char *addr_format_endpoint(const struct relay_addr *a);

/* A short fingerprint of a relay key for display and comparison. */
void addr_fingerprint(const uint8_t key[32], char out[ADDR_FP_SIZE]);

#endif
