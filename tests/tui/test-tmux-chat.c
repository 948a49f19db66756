/*
 * The full-screen client driven through tmux as two people would use it
 * (issue 5, DESIGN §9): separate data dirs on one machine sharing one
 * real noid-relay.  A shows an invitation; the QR code on the screen,
 * decoded by a real decoder (tests/tools/qr-from-screen, zbar), must be
 * exactly the link text the same screen offers for copying.  B connects
 * with that link from its TUI, A accepts in its TUI, and both chat both
 * ways — a CJK line, emoji with modifiers, variation selectors and ZWJ
 * sequences, and a 10 KB multi-line bracketed paste that must arrive as
 * ONE message, whole.  The other side shows each message; the sender's
 * side shows the delivered mark (✓✓) on it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "testrelay.h"
#include "tmux-pair.h"
#include "tmuxfix.h"

#define PASTE_LEN (10 * 1024)

TestSuite(tmux_chat, .init = pair_setup, .fini = pair_teardown, .timeout = 300);

/* The QR code on session's screen, decoded (caller frees, one line). */
static char *
decode_qr(const char *session)
{
	char *out = tmuxfix_decode_qr(tf, session);

	cr_assert_not_null(out, "no QR code decodes on %s's screen", session);
	return out;
}

/* What a delivered-mark wait looks for: the row that ends msg's text. */
struct mark {
	const char *tail; /* the message's last few characters */
};

/* Whether some row holding m->tail also carries "✓✓" after it. */
static int
has_delivered(const char *screen, void *arg)
{
	const struct mark *m = arg;
	const char *p = screen, *e, *hit;

	for (; *p; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		hit = memmem(p, (size_t)(e - p), m->tail, strlen(m->tail));
		if (hit != NULL &&
		    memmem(hit, (size_t)(e - hit), "✓✓", strlen("✓✓")) != NULL)
			return 1;
	}
	return 0;
}

/* from types line and sends it; to shows it; from marks it delivered. */
static void
say(const char *from, const char *to, const char *line)
{
	struct mark m = {line};
	char *s;

	cr_assert_eq(tmuxfix_type(tf, from, line), 0);
	cr_assert_eq(tmuxfix_keys(tf, from, "Enter", NULL), 0);
	s = tmuxfix_wait(tf, to, line, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "%s never showed '%s'", to, line);
	free(s);
	s = tmuxfix_wait_for(
	    tf, from, has_delivered, &m, "✓✓ on the line", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "%s: no delivered mark on '%s'", from, line);
	/* A stale queued mark left beside the delivered one is garbage:
	 * the screen and the terminal disagree about widths. */
	if (s != NULL)
		cr_expect_null(strstr(s, " …"),
		    "%s: a stray '…' is left on the screen:\n%s", from, s);
	free(s);
}

/* Either outcome of `/accept NAME`. */
static int
accepted_or_refused(const char *screen, void *arg)
{
	(void)arg;
	return strstr(screen, "connected with") != NULL ||
	    strstr(screen, "no request") != NULL;
}

/* Ten kilobytes of numbered lines, starting and ending with markers. */
static char *
paste_text(void)
{
	struct buf b;
	char line[128];
	int i;

	buf_init(&b);
	buf_put(&b, "PASTE-BEGIN", 11);
	for (i = 0; b.len < PASTE_LEN - 64; i++) {
		snprintf(line, sizeof line,
		    "\nline %04d of the pasted text, ünïcödé and 漢字 too", i);
		buf_put(&b, line, strlen(line));
	}
	while (b.len < PASTE_LEN - 10)
		buf_put_u8(&b, '.');
	buf_put(&b, "PASTE-END", 9);
	buf_put_u8(&b, 0);
	return (char *)b.data;
}

Test(tmux_chat, invite_connect_accept_and_chat_both_ways)
{
	struct tmuxfix_result r;
	struct mark m = {"PASTE-END"};
	char *qr, *s, *link, *cmd, *text;
	char id[64] = "";

	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 100, 40), 0);
	cr_assert_eq(tmuxfix_tui(tf, "B", dir_b, 100, 40), 0);

	/* A: the invitation screen, its QR code and its link text. */
	cr_assert_eq(tmuxfix_keys(tf, "A", "F2", NULL), 0);
	s = tmuxfix_wait(tf, "A", "Invitation", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	free(s);
	qr = decode_qr("A");
	cr_assert_eq(tmuxfix_keys(tf, "A", "t", NULL), 0);
	s = tmuxfix_wait_link(tf, "A", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	link = tmuxfix_invite_link(s);
	cr_assert_not_null(link, "no link text on the screen:\n%s", s);
	free(s);
	cr_assert_str_eq(qr, link, "the QR code is not the link text");
	/* Still the same code once the text is shown beside it. */
	s = decode_qr("A");
	cr_expect_str_eq(s, link);
	free(s);
	cr_assert_eq(tmuxfix_keys(tf, "A", "Escape", NULL), 0);

	/* B: connect with the link. */
	xasprintf(&cmd, "/connect %s", link);
	cr_assert_eq(tmuxfix_type(tf, "B", cmd), 0);
	cr_assert_eq(tmuxfix_keys(tf, "B", "Enter", NULL), 0);
	free(cmd);
	s = tmuxfix_wait(tf, "A", "asks to connect", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "A never saw B's request");
	cr_expect_not_null(strstr(s, "Bob"), "the request does not say who");
	free(s);

	/* A: accept by the name the screen shows. */
	cr_assert_eq(tmuxfix_type(tf, "A", "/accept Bob"), 0);
	cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
	s = tmuxfix_wait_for(tf, "A", accepted_or_refused, NULL,
	    "accepted or refused", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	cr_expect_null(strstr(s, "no request"),
	    "'/accept Bob' refused though the screen names Bob:\n%s", s);
	if (strstr(s, "connected with") == NULL) {
		/* Go on by the request's id so later checks still run. */
		cr_assert_eq(tmuxfix_noid(&r, dir_a, "requests", NULL), 0);
		cr_assert_eq(r.code, 0, "%s", r.err);
		cr_assert_eq(sscanf(r.out, "%63s", id), 1);
		tmuxfix_result_free(&r);
		xasprintf(&cmd, "/accept %s", id);
		cr_assert_eq(tmuxfix_type(tf, "A", cmd), 0);
		cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
		free(cmd);
		free(s);
		s = tmuxfix_wait(tf, "A", "connected with", TMUXFIX_WAIT_MS);
		cr_assert_not_null(s);
	}
	free(s);
	s = tmuxfix_wait(tf, "B", "connected with", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "B never learnt it was accepted");
	free(s);

	/* Both ways, plain, CJK and emoji. */
	say("A", "B", "hello Bob, this is Alice");
	say("B", "A", "hi Alice, Bob here");
	say("A", "B", "你好，世界。日本語のテキスト、한국어 문장");
	say("B", "A", "漢字もOK 👍🏽 ok");
	say("A", "B",
	    "thumbs 👍🏽 heart ❤️ family 👨‍👩‍👧 end");
	say("B", "A", "back ❤️ 👨‍👩‍👧 👍🏽 done");

	/* A 10 KB multi-line paste is one message, not one per line. */
	text = paste_text();
	cr_assert_eq(tmuxfix_paste(tf, "A", text, strlen(text)), 0);
	s = tmuxfix_wait(tf, "A", "PASTE-END", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "the paste never showed in A's input line");
	free(s);
	s = tmuxfix_capture(tf, "B", 0);
	cr_expect_null(strstr(s, "PASTE-BEGIN"),
	    "a line of the paste was sent before Enter:\n%s", s);
	free(s);
	cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
	s = tmuxfix_wait(tf, "B", "PASTE-END", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "B never showed the pasted message");
	free(s);
	s = tmuxfix_wait_for(
	    tf, "A", has_delivered, &m, "✓✓ after the paste", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "the paste was never marked delivered");
	free(s);

	/* What B received is the whole text, once. */
	cr_assert_eq(
	    tmuxfix_noid(&r, dir_b, "read", "Alice", "--limit", "50", NULL), 0);
	cr_assert_eq(r.code, 0, "noid read: %s", r.err);
	cr_expect_not_null(strstr(r.out, text), "the paste arrived altered");
	s = strstr(r.out, "PASTE-BEGIN");
	cr_expect(s != NULL && strstr(s + 1, "PASTE-BEGIN") == NULL,
	    "the paste arrived as more than one message");
	cr_expect_not_null(strstr(r.out,
	    "thumbs 👍🏽 heart ❤️ family 👨‍👩‍👧 end"));
	tmuxfix_result_free(&r);

	/* And both are still running. */
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
	cr_expect_eq(tmuxfix_alive(tf, "B", NULL), 1);
	free(text);
	free(link);
	free(qr);
}

Test(tmux_chat, invitation_qr_fits_80x24_and_decodes)
{
	char *s, *qr, *link;

	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 80, 24), 0);
	cr_assert_eq(tmuxfix_keys(tf, "A", "F2", NULL), 0);
	s = tmuxfix_wait(tf, "A", "Invitation", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	free(s);
	qr = decode_qr("A");
	cr_assert_eq(tmuxfix_keys(tf, "A", "t", NULL), 0);
	s = tmuxfix_wait_link(tf, "A", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	link = tmuxfix_invite_link(s);
	cr_assert_not_null(link, "no link text on the screen:\n%s", s);
	cr_expect_str_eq(qr, link);
	free(s);
	free(link);
	free(qr);
}

Test(tmux_chat, bad_link_is_refused_with_a_message)
{
	char *s;

	cr_assert_eq(tmuxfix_tui(tf, "B", dir_b, 100, 30), 0);
	cr_assert_eq(tmuxfix_type(tf, "B", "/connect NOID:NOTALINK"), 0);
	cr_assert_eq(tmuxfix_keys(tf, "B", "Enter", NULL), 0);
	s = tmuxfix_wait(tf, "B", "invalid invitation link", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "no clear message for a bad link");
	cr_expect(s == NULL || strstr(s, "request sent") == NULL,
	    "a bad link was accepted");
	free(s);
	cr_expect_eq(tmuxfix_alive(tf, "B", NULL), 1);
}
