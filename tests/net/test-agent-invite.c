/*
 * Tests for net/agent-invite.c: invitation links round-trip, stay in the
 * QR alphanumeric set, fit a version-5 QR code at level L (checked with
 * libqrencode itself) for real relay addresses, and every malformed link
 * is refused with a reason.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <qrencode.h>
#include <sodium.h>
#include <string.h>

#include "agent.h"

/* A random invitation for host:port. */
static void
make_invite(struct agent_invite *inv, const char *host, uint16_t port)
{
	memset(inv, 0, sizeof *inv);
	randombytes_buf(inv->relay_key, sizeof inv->relay_key);
	randombytes_buf(inv->sid, sizeof inv->sid);
	randombytes_buf(inv->key, sizeof inv->key);
	snprintf(inv->host, sizeof inv->host, "%s", host);
	inv->port = port;
}

/* The QR version libqrencode picks for text (0 when it does not fit). */
static int
qr_version(const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int v;

	if (qr == NULL)
		return 0;
	v = qr->version;
	QRcode_free(qr);
	return v;
}

/* Whether every character is in the QR alphanumeric set we allow. */
static int
alnum_set(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		        strchr(":/.-", *s) != NULL))
			return 0;
	return 1;
}

/* Format, check size and alphabet, parse back, compare. */
static void
check_roundtrip(const char *host, uint16_t port, const char *expect_host)
{
	struct agent_invite inv, back;
	const char *why = NULL;
	char *link = NULL;

	make_invite(&inv, host, port);
	cr_assert_eq(agent_invite_format(&inv, &link), 0, "format %s", host);
	cr_assert(alnum_set(link), "not alphanumeric: %s", link);
	cr_assert_leq(strlen(link), AGENT_INVITE_MAX);
	cr_assert(qr_version(link) >= 1 && qr_version(link) <= 5,
	    "QR version %d for %s", qr_version(link), link);
	cr_assert_eq(agent_invite_parse(link, strlen(link), &back, &why), 0,
	    "parse %s: %s", link, why);
	cr_assert_str_eq(back.host, expect_host);
	cr_assert_eq(back.port, port);
	cr_assert_arr_eq(back.relay_key, inv.relay_key, sizeof inv.relay_key);
	cr_assert_arr_eq(back.sid, inv.sid, sizeof inv.sid);
	cr_assert_arr_eq(back.key, inv.key, sizeof inv.key);
	free(link);
}

Test(agent_invite, ipv4)
{
	check_roundtrip("127.0.0.1", 5223, "127.0.0.1");
	check_roundtrip("203.0.113.77", 443, "203.0.113.77");
	check_roundtrip("255.255.255.255", 65535, "255.255.255.255");
}

Test(agent_invite, ipv6)
{
	check_roundtrip("::1", 5223, "::1");
	check_roundtrip("2001:db8:85a3::8a2e:370:7334", 65535,
	    "2001:db8:85a3::8a2e:370:7334");
	check_roundtrip("fe80:1:2:3:4:5:6:7", 40001, "fe80:1:2:3:4:5:6:7");
}

Test(agent_invite, host_names)
{
	check_roundtrip("localhost", 5223, "localhost");
	check_roundtrip("relay.example.org", 5223, "relay.example.org");
	check_roundtrip("Relay-1.Example.ORG", 443, "relay-1.example.org");
	check_roundtrip("smp4.simplex.im", 5223, "smp4.simplex.im");
	/* The longest names that fit: 31 with the default port, 28 with
	 * another (PROTOCOL.md). */
	check_roundtrip("abcdefghij.abcdefghij.abcdefghi", 5223,
	    "abcdefghij.abcdefghij.abcdefghi");
	check_roundtrip("abcdefghij.abcdefghij.abcdef", 8443,
	    "abcdefghij.abcdefghij.abcdef");
}

Test(agent_invite, host_too_long_for_qr)
{
	struct agent_invite inv;
	char *link = (char *)"unchanged";

	make_invite(&inv, "abcdefghij.abcdefghij.abcdefghij", 5223);
	cr_assert_eq(agent_invite_format(&inv, &link), NOID_ERR_TOOBIG);
	cr_assert_null(link);
	make_invite(&inv, "abcdefghij.abcdefghij.abcdefg", 8443);
	cr_assert_eq(agent_invite_format(&inv, &link), NOID_ERR_TOOBIG);
}

Test(agent_invite, bad_hosts_refused)
{
	static const char *bad[] = {"", "-a.b", "a-.b", "a..b", ".a", "a.",
	    "under_score.org", "1.2.3", "host.123", "a b", "[::1]",
	    "\xc3\xa9.org",
	    ("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
	     "abcdefghijabcdefghij.org")};
	struct agent_invite inv;
	char *link = NULL;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		make_invite(&inv, bad[i], 5223);
		cr_assert_eq(agent_invite_format(&inv, &link), NOID_ERR_INVAL,
		    "accepted host '%s'", bad[i]);
	}
	make_invite(&inv, "127.0.0.1", 0);
	cr_assert_eq(agent_invite_format(&inv, &link), NOID_ERR_INVAL);
}

Test(agent_invite, lenient_case_and_space)
{
	struct agent_invite inv, back;
	char *link, *lower;
	size_t i;

	make_invite(&inv, "relay.example.org", 5223);
	cr_assert_eq(agent_invite_format(&inv, &link), 0);
	xasprintf(&lower, "  \t%s\n", link);
	for (i = 0; lower[i] != '\0'; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	cr_assert_eq(agent_invite_parse(lower, strlen(lower), &back, NULL), 0);
	cr_assert_arr_eq(back.key, inv.key, sizeof inv.key);
	cr_assert_str_eq(back.host, "relay.example.org");
	free(lower);
	free(link);
}

/* Build a link from raw bin bytes (and an optional host part). */
static char *
raw_link(const uint8_t *bin, size_t n, const char *host)
{
	char *b32 = base32_encode(bin, n), *link;

	if (host != NULL)
		xasprintf(&link, "NOID:%s/%s", b32, host);
	else
		xasprintf(&link, "NOID:%s", b32);
	free(b32);
	return link;
}

/* Expect parse to fail with err and a reason. */
static void
expect_bad(const char *link, int err)
{
	struct agent_invite out;
	const char *why = NULL;

	cr_assert_eq(agent_invite_parse(link, strlen(link), &out, &why), err,
	    "link '%s' not refused as expected", link);
	cr_assert_not_null(why);
	cr_assert_gt(strlen(why), 5);
	cr_assert_eq(out.port, 0, "output not wiped");
}

Test(agent_invite, malformed_refused)
{
	uint8_t bin[96];
	char *link, *good, *cut;
	struct agent_invite inv;
	size_t n = 1 + 32 + 24 + 16;

	randombytes_buf(bin, sizeof bin);
	expect_bad("", NOID_ERR_INVAL);
	expect_bad("   ", NOID_ERR_INVAL);
	expect_bad("noid", NOID_ERR_INVAL);
	expect_bad("NOID:", NOID_ERR_INVAL);
	expect_bad("http://example.org", NOID_ERR_INVAL);
	expect_bad("NOID:AAAA!AAA", NOID_ERR_INVAL);
	expect_bad("NOID:AAAA1AAA", NOID_ERR_INVAL); /* 1 is not base32 */

	/* IPv4 kind, no port: 73 + 4 bytes. */
	bin[0] = 0x10;
	link = raw_link(bin, n + 4, NULL);
	good = link;
	cr_assert_eq(agent_invite_parse(good, strlen(good), &inv, NULL), 0);
	/* Truncated by one character and by one byte. */
	cut = xstrdup(good);
	cut[strlen(cut) - 1] = '\0';
	expect_bad(cut, NOID_ERR_INVAL);
	free(cut);
	link = raw_link(bin, n + 3, NULL);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	/* One byte too many. */
	link = raw_link(bin, n + 5, NULL);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	/* A stray host part on an IPv4 link. */
	xasprintf(&link, "%s/EXAMPLE.ORG", good);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	/* Too long overall. */
	xasprintf(&link, "%s%s", good, good);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	/* A NUL inside. */
	{
		struct agent_invite o;
		const char *why = NULL;
		char withnul[200];
		size_t l = strlen(good);

		memcpy(withnul, good, l);
		withnul[10] = '\0';
		cr_assert_eq(
		    agent_invite_parse(withnul, l, &o, &why), NOID_ERR_INVAL);
	}
	free(good);

	/* Newer version, version 0, reserved bit, kind 3. */
	bin[0] = 0x20;
	link = raw_link(bin, n + 4, NULL);
	expect_bad(link, NOID_ERR_VERSION);
	free(link);
	bin[0] = 0x00;
	link = raw_link(bin, n + 4, NULL);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	bin[0] = 0x18;
	link = raw_link(bin, n + 4, NULL);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	bin[0] = 0x13;
	link = raw_link(bin, n, "EXAMPLE.ORG");
	expect_bad(link, NOID_ERR_INVAL);
	free(link);

	/* Explicit port equal to the default, or zero: not canonical. */
	bin[0] = 0x14;
	be16_put(bin + n, 5223);
	link = raw_link(bin, n + 2 + 4, NULL);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	be16_put(bin + n, 0);
	link = raw_link(bin, n + 2 + 4, NULL);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);

	/* Host name kind: missing host, empty host, bad host. */
	bin[0] = 0x12;
	link = raw_link(bin, n, NULL);
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	link = raw_link(bin, n, "");
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	link = raw_link(bin, n, "BAD_HOST.ORG");
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	link = raw_link(bin, n, "A/B");
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	link = raw_link(bin, n, "10.0.0.1");
	expect_bad(link, NOID_ERR_INVAL);
	free(link);
	link = raw_link(bin, n, "RELAY.EXAMPLE.ORG");
	cr_assert_eq(agent_invite_parse(link, strlen(link), &inv, NULL), 0);
	free(link);
}

Test(agent_invite, every_bit_flip_changes_or_fails)
{
	struct agent_invite inv, back;
	char *link;
	size_t i, len;
	const char *b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

	make_invite(&inv, "2001:db8::1", 9000);
	cr_assert_eq(agent_invite_format(&inv, &link), 0);
	len = strlen(link);
	/* Changing any one character never yields the same invitation. */
	for (i = 5; i < len; i++) {
		char saved = link[i];
		const char *p = strchr(b32, saved);

		cr_assert_not_null(p);
		link[i] = b32[(p - b32 + 1) % 32];
		if (agent_invite_parse(link, len, &back, NULL) == 0)
			cr_assert(memcmp(&back, &inv, sizeof inv) != 0);
		link[i] = saved;
	}
	free(link);
}
