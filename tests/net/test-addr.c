/*
 * Tests for net/addr: every accepted form round-trips to the canonical
 * text; every malformed form is refused with its own sentence.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "base.h"

static char key43[ADDR_KEY_CHARS + 1];
static uint8_t key[32];

static void
setup(void)
{
	char *k;

	cr_assert_geq(sodium_init(), 0);
	randombytes_buf(key, sizeof key);
	key[0] |= 1;
	k = b64url_encode(key, sizeof key);
	cr_assert_eq(strlen(k), ADDR_KEY_CHARS);
	memcpy(key43, k, sizeof key43);
	free(k);
}

/* Parse "noid://KEY@<rest>" and return the error sentence or NULL. */
static const char *
try(const char *rest, struct relay_addr *a)
{
	const char *why = NULL;
	char *s;
	int error;

	xasprintf(&s, "noid://%s@%s", key43, rest);
	error = addr_parse(s, a, &why);
	free(s);
	if (error == 0)
		return NULL;
	cr_assert_eq(error, NOID_ERR_INVAL);
	cr_assert_not_null(why);
	return why;
}

Test(addr, accepted_forms_round_trip, .init = setup)
{
	static const struct {
		const char *in, *host, *canon;
		unsigned port;
		int v6;
	} ok[] = {
	    {"relay.example.org", "relay.example.org", "relay.example.org:5223",
	        5223, 0},
	    {"relay.example.org:443", "relay.example.org",
	        "relay.example.org:443", 443, 0},
	    {"127.0.0.1:1", "127.0.0.1", "127.0.0.1:1", 1, 0},
	    {"10.0.0.1", "10.0.0.1", "10.0.0.1:5223", 5223, 0},
	    {"[::1]:65535", "::1", "[::1]:65535", 65535, 1},
	    {"[2001:db8::7]", "2001:db8::7", "[2001:db8::7]:5223", 5223, 1},
	    {"localhost", "localhost", "localhost:5223", 5223, 0},
	    {"a-b.c9", "a-b.c9", "a-b.c9:5223", 5223, 0},
	};
	struct relay_addr a, b;
	char *text, *want, *ep;
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cr_assert_null(
		    try(ok[i].in, &a), "%s: %s", ok[i].in, try(ok[i].in, &a));
		cr_assert_str_eq(a.host, ok[i].host);
		cr_assert_eq(a.port, ok[i].port);
		cr_assert_eq(a.ipv6, ok[i].v6);
		cr_assert(memcmp(a.key, key, 32) == 0);
		text = addr_format(&a);
		xasprintf(&want, "noid://%s@%s", key43, ok[i].canon);
		cr_assert_str_eq(text, want);
		ep = addr_format_endpoint(&a);
		cr_assert_str_eq(ep, ok[i].canon);
		cr_assert_eq(addr_parse(text, &b, NULL), 0);
		cr_assert(memcmp(&a, &b, sizeof a) == 0);
		free(text);
		free(want);
		free(ep);
	}
}

Test(addr, malformed_endpoints, .init = setup)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
	    {"", "host after '@' is missing"},
	    {":5223", "host after '@' is missing"},
	    {"host:", "port after ':' is missing"},
	    {"host:0", "between 1 and 65535"},
	    {"host:65536", "between 1 and 65535"},
	    {"host:05223", "between 1 and 65535"},
	    {"host:123456", "between 1 and 65535"},
	    {"host:+1", "must be a number"},
	    {"host:52x", "must be a number"},
	    {"host:5223/", "must be a number"},
	    {"host:5223 ", "must be a number"},
	    {"::1", "in brackets"},
	    {"::1:5223", "in brackets"},
	    {"[::1", "closed with ']'"},
	    {"[]:1", "IPv6 address is empty"},
	    {"[::g]:1", "not a valid IPv6"},
	    {"[127.0.0.1]", "not a valid IPv6"},
	    {"[::1]x", "only ':port'"},
	    {"1.2.3.999", "not a valid IPv4"},
	    {"1.2.3", "not a valid IPv4"},
	    {"ho st", "letters, digits"},
	    {"-host", "letters, digits"},
	    {"host-", "letters, digits"},
	    {"a..b", "letters, digits"},
	    {"host.", "letters, digits"},
	    {"h_st", "letters, digits"},
	    {"h\xc3\xa9", "letters, digits"},
	};
	struct relay_addr a;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = try(bad[i].in, &a);
		cr_assert_not_null(why, "accepted '%s'", bad[i].in);
		cr_assert(strstr(why, bad[i].why) != NULL, "'%s' gave '%s'",
		    bad[i].in, why);
	}
}

Test(addr, long_host_names, .init = setup)
{
	char label[70], host[300];
	struct relay_addr a;
	size_t i;

	memset(label, 'a', 63);
	label[63] = '\0';
	cr_assert_null(try(label, &a));
	memset(label, 'a', 64);
	label[64] = '\0';
	cr_assert_not_null(try(label, &a));
	/* 4 x 63 + 3 dots = 255 > 253. */
	host[0] = '\0';
	for (i = 0; i < 4; i++) {
		label[63] = '\0';
		strcat(host, label);
		if (i < 3)
			strcat(host, ".");
	}
	cr_assert_str_eq(try(host, &a), "the host name is too long");
}

Test(addr, malformed_prefix_and_key, .init = setup)
{
	struct relay_addr a;
	const char *why;
	char s[200], bad[ADDR_KEY_CHARS + 1];

	cr_assert_eq(addr_parse("", &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "empty"));
	cr_assert_eq(addr_parse("smp://x@h", &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "starts with noid://"));
	cr_assert_eq(addr_parse("NOID://x@h", &a, &why), NOID_ERR_INVAL);
	cr_assert_eq(addr_parse("noid://", &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "needs '@'"));
	cr_assert_eq(addr_parse("noid://@host", &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "missing"));
	snprintf(s, sizeof s, "noid://%s@h@h", key43);
	cr_assert_eq(addr_parse(s, &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "only one '@'"));
	/* Too short, too long, padded, bad alphabet. */
	snprintf(s, sizeof s, "noid://%.42s@h", key43);
	cr_assert_eq(addr_parse(s, &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "exactly 43"));
	snprintf(s, sizeof s, "noid://%sA@h", key43);
	cr_assert_eq(addr_parse(s, &a, &why), NOID_ERR_INVAL);
	snprintf(s, sizeof s, "noid://%.42s=@h", key43);
	cr_assert_eq(addr_parse(s, &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "outside base64url"));
	snprintf(s, sizeof s, "noid://%.42s+@h", key43);
	cr_assert_eq(addr_parse(s, &a, &why), NOID_ERR_INVAL);
	/* Non-zero leftover bits in the last character. */
	memcpy(bad, key43, sizeof bad);
	bad[42] = bad[42] == 'B' ? 'C' : 'B';
	snprintf(s, sizeof s, "noid://%s@h", bad);
	cr_assert_eq(addr_parse(s, &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "not valid base64url"));
	/* The all-zero key. */
	memset(bad, 'A', ADDR_KEY_CHARS);
	bad[ADDR_KEY_CHARS] = '\0';
	snprintf(s, sizeof s, "noid://%s@h", bad);
	cr_assert_eq(addr_parse(s, &a, &why), NOID_ERR_INVAL);
	cr_assert(strstr(why, "all zero"));
	/* A low-order point (u = 1). */
	{
		uint8_t low[32] = {1};
		char *k = b64url_encode(low, sizeof low);

		snprintf(s, sizeof s, "noid://%s@h", k);
		free(k);
		cr_assert_eq(addr_parse(s, &a, &why), NOID_ERR_INVAL);
		cr_assert(strstr(why, "not a usable"), "%s", why);
	}
}

Test(addr, fingerprint_is_short_and_stable, .init = setup)
{
	char fp1[ADDR_FP_SIZE], fp2[ADDR_FP_SIZE];

	addr_fingerprint(key, fp1);
	cr_assert_eq(strlen(fp1), 19);
	cr_assert_eq(fp1[4], '-');
	addr_fingerprint(key, fp2);
	cr_assert_str_eq(fp1, fp2);
	key[5] ^= 1;
	addr_fingerprint(key, fp2);
	cr_assert_str_neq(fp1, fp2);
}
