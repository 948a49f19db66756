/*
 * The client end to end through its command line: two users, each with
 * a data dir, on a real noid-relay (127.0.0.1, port 0).  Every network
 * command of CLI.md against the real agent, and its errors: invalid
 * and used links, unknown contacts, wrong codes, rejected requests.
 */
#include "test-client-fix.h"

/* The lines of out that contain s. */
static int
count_lines(const char *out, const char *s)
{
	int n = 0;
	const char *p = out;

	while ((p = strstr(p, s)) != NULL) {
		n++;
		p += strlen(s);
	}
	return n;
}

Test(client, chat_both_ways_with_cjk_emoji_and_delivery_marks, .timeout = 120)
{
	struct pair p;
	struct run r;

	pair_connect(&p);
	r = noid(p.b, "pw", NULL, "send", "alice", "hello", "世界", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", "stdin 🎉👩‍👩‍👧 é\n", "send", "bob",
	    NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "read", "bob", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "bob> hello 世界\n"), "%s", r.out);
	/* Sent (the relay took it), not yet delivered: bob has not run. */
	cr_assert_not_null(
	    strstr(r.out, "me> stdin 🎉👩‍👩‍👧 é  ✓\n"), "%s",
	    r.out);
	run_free(&r);
	r = noid(p.b, "pw", NULL, "read", "--json", NULL);
	cr_assert_not_null(
	    strstr(r.out, "\"dir\":\"in\",\"ts\":"), "%s", r.out);
	cr_assert_not_null(
	    strstr(r.out, "\"text\":\"stdin 🎉👩‍👩‍👧 é\"}"),
	    "%s", r.out);
	/* Alice ran since: her message to bob shows its receipt. */
	cr_assert_not_null(strstr(r.out, "\"status\":\"delivered\""));
	run_free(&r);
	/* Bob's receipt reaches alice: delivered. */
	r = noid(p.a, "pw", NULL, "read", "bob", NULL);
	cr_assert_not_null(
	    strstr(r.out, "me> stdin 🎉👩‍👩‍👧 é  ✓✓\n"),
	    "%s", r.out);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "search", "世界", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_eq(count_lines(r.out, "hello 世界"), 1, "%s", r.out);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "search", "nowhere", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "no message matches"));
	run_free(&r);
	pair_free(&p);
}

Test(client, unknown_contacts_and_bad_messages_are_clear_errors, .timeout = 120)
{
	struct pair p;
	struct run r;
	char *big = xmalloc(16001);

	pair_connect(&p);
	r = noid(p.a, "pw", NULL, "send", "carol", "hi", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "no connected contact 'carol'"));
	run_free(&r);
	r = noid(p.a, "pw", NULL, "read", "carol", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "carol"));
	run_free(&r);
	r = noid(p.a, "pw", NULL, "verify", "carol", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "rekey", "carol", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "rotate", "carol", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	r = noid(p.a, "pw", "", "send", "bob", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "nothing to send"));
	run_free(&r);
	memset(big, 'x', 16000);
	big[16000] = '\0';
	r = noid(p.a, "pw", big, "send", "bob", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "limit"));
	run_free(&r);
	r = noid(p.a, "pw", "\xff\xfe bad\n", "send", "bob", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "UTF-8"));
	run_free(&r);
	free(big);
	pair_free(&p);
}

Test(client, verify_codes_match_and_confirming_marks_verified, .timeout = 120)
{
	struct pair p;
	struct run r;
	char *ca, *cb;

	pair_connect(&p);
	r = noid(p.a, "pw", NULL, "verify", "bob", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	ca = first_line(r.out);
	run_free(&r);
	r = noid(p.b, "pw", NULL, "verify", "alice", NULL);
	cb = first_line(r.out);
	run_free(&r);
	cr_assert_str_eq(ca, cb);
	/* 60 digits in groups of five. */
	cr_assert_eq(strlen(ca), 60 + 11);
	r = noid(p.a, "pw", NULL, "verify", "bob", "12345", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "60 digits"));
	run_free(&r);
	cb[0] = cb[0] == '9' ? '0' : (char)(cb[0] + 1);
	r = noid(p.a, "pw", NULL, "verify", "bob", cb, NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "the codes differ"));
	run_free(&r);
	r = noid(p.a, "pw", NULL, "contacts", NULL);
	cr_assert_not_null(strstr(r.out, "bob\ttext\tconnected"), "%s", r.out);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "verify", "bob", ca, NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "contacts", NULL);
	cr_assert_not_null(
	    strstr(r.out, "bob\tverified\tconnected"), "%s", r.out);
	run_free(&r);
	free(ca);
	free(cb);
	pair_free(&p);
}

Test(client, rekey_gives_both_a_new_code_and_rotate_keeps_the_chat,
    .timeout = 120)
{
	struct pair p;
	struct run r;
	char *before, *ca, *cb;

	pair_connect(&p);
	r = noid(p.a, "pw", NULL, "verify", "bob", NULL);
	before = first_line(r.out);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "rekey", "bob", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	/* Bob answers the key agreement, alice takes in the answer. */
	r = noid(p.b, "pw", NULL, "contacts", NULL);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "verify", "bob", NULL);
	ca = first_line(r.out);
	run_free(&r);
	r = noid(p.b, "pw", NULL, "verify", "alice", NULL);
	cb = first_line(r.out);
	run_free(&r);
	cr_assert_str_eq(ca, cb);
	cr_assert_str_neq(ca, before);
	r = noid(p.b, "pw", NULL, "rotate", "alice", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "contacts", NULL);
	run_free(&r);
	r = noid(p.b, "pw", NULL, "contacts", NULL);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "send", "bob", "after the rotation", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.b, "pw", NULL, "read", "alice", NULL);
	cr_assert_not_null(
	    strstr(r.out, "alice> after the rotation"), "%s", r.out);
	run_free(&r);
	free(before);
	free(ca);
	free(cb);
	pair_free(&p);
}

Test(client, links_invalid_used_and_rejected, .timeout = 120)
{
	struct pair p;
	struct run r;
	char *d = tmp_init_named("carol"), *link, *broken;

	pair_connect(&p);
	r = noid(
	    d, "pw", NULL, "relays", "add", testrelay_address(p.rel), NULL);
	run_free(&r);
	r = noid(d, "pw", NULL, "connect", "hello", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "invalid invitation link"));
	run_free(&r);
	r = noid(d, "pw", NULL, "connect", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "no invitation link"));
	run_free(&r);
	r = noid(p.a, "pw", NULL, "invite", "--text", NULL);
	link = first_line(r.out);
	run_free(&r);
	/* Cut short (a partial copy): refused before any network. */
	broken = xstrdup(link);
	broken[strlen(broken) - 10] = '\0';
	r = noid(d, "pw", NULL, "connect", broken, NULL);
	cr_assert_eq(r.code, 1, "%s", r.out);
	cr_assert_not_null(strstr(r.err, "invalid invitation link"));
	run_free(&r);
	/* Pasted lower case, with a line break in the middle: fine. */
	for (size_t i = 5; link[i] != '\0'; i++)
		link[i] = (char)(link[i] >= 'A' && link[i] <= 'Z'
		        ? link[i] - 'A' + 'a'
		        : link[i]);
	free(broken);
	xasprintf(&broken, "%.30s\n%s\n", link, link + 30);
	r = noid(d, "pw", broken, "connect", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "requests", NULL);
	cr_assert_not_null(strstr(r.out, "carol"), "%s", r.out);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "reject", "carol", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "requests", NULL);
	cr_assert_null(strstr(r.out, "carol"), "%s", r.out);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "accept", "carol", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "no request from 'carol'"));
	run_free(&r);
	r = noid(p.a, "pw", NULL, "contacts", NULL);
	cr_assert_null(strstr(r.out, "carol"), "%s", r.out);
	run_free(&r);
	free(broken);
	free(link);
	tmp_free(d);
	pair_free(&p);
}

Test(client, local_rename_survives_and_rm_tells_the_contact, .timeout = 120)
{
	struct pair p;
	struct run r;

	pair_connect(&p);
	r = noid(p.a, "pw", NULL, "contacts", "rename", "bob", "Robert", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "send", "robert", "to the new name", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	/* Bob renames his profile: alice's local name stays. */
	r = noid(p.b, "pw", NULL, "profiles", "rename", "bob", "bobby", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "contacts", NULL);
	cr_assert_not_null(strstr(r.out, "Robert\t"), "%s", r.out);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "contacts", "rm", "Robert", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "contacts", NULL);
	cr_assert_str_eq(r.out, "");
	run_free(&r);
	r = noid(p.b, "pw", NULL, "contacts", NULL);
	cr_assert_null(strstr(r.out, "connected"), "%s", r.out);
	run_free(&r);
	pair_free(&p);
}

Test(client, profiles_rm_tells_contacts_and_forgets_the_history, .timeout = 120)
{
	struct pair p;
	struct run r;

	pair_connect(&p);
	r = noid(p.a, "pw", NULL, "profiles", "add", "work", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "profiles", "rm", "nobody", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "profiles", "rm", "alice", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "profiles", NULL);
	cr_assert_str_eq(r.out, "* work\n");
	run_free(&r);
	r = noid(p.b, "pw", NULL, "contacts", NULL);
	cr_assert_null(strstr(r.out, "connected"), "%s", r.out);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "search", "anything", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	pair_free(&p);
}
