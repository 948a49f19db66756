/*
 * The contact screen driven through tmux (issue 5, point 5): after two
 * users connect, /contact on A shows the trust level, the security code
 * as digit groups and as a QR code — decoded by a real decoder
 * (tests/tools/qr-from-screen) it must be "NOID:CODE:1:" and the same
 * digits.  /verify with the digits B's screen shows marks B verified on
 * A (the ✓ trust mark in the list); /rekey shows a security event on
 * both sides and changes the code; /rotate says so and messages still
 * flow both ways.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "testrelay.h"
#include "tmux-pair.h"
#include "tmuxfix.h"

#define CODE_DIGITS 60

TestSuite(
    tmux_contact, .init = pair_setup, .fini = pair_teardown, .timeout = 300);

/* The QR code on session's screen, decoded (caller frees, one line). */
static char *
decode_qr(const char *session)
{
	char *out = tmuxfix_decode_qr(tf, session);

	cr_assert_not_null(out, "no QR code decodes on %s's screen", session);
	return out;
}

/*
 * The security code on a screen: the first run of groups of five digits
 * separated by spaces (or a wrap), 60 digits in all, into out.  0, or -1
 * when the screen shows no such code.
 */
static int
screen_code(const char *screen, char out[CODE_DIGITS + 1])
{
	const char *p, *q;
	size_t n, run;

	for (p = screen; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) ||
		    (p > screen && isdigit((unsigned char)p[-1])))
			continue;
		n = run = 0;
		for (q = p; *q != '\0' && n < CODE_DIGITS; q++) {
			if (isdigit((unsigned char)*q)) {
				out[n++] = *q;
				run++;
			} else if ((*q == ' ' || *q == '\n') && run == 5)
				run = 0;
			else if (*q != ' ' || run != 0)
				break;
		}
		if (n == CODE_DIGITS && run == 5) {
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Type a line into session and press Enter. */
static void
line(const char *session, const char *text)
{
	cr_assert_eq(tmuxfix_type(tf, session, text), 0);
	cr_assert_eq(tmuxfix_keys(tf, session, "Enter", NULL), 0);
}

/* Open /contact on session; its code into code, the screen returned. */
static char *
contact_screen(const char *session, char code[CODE_DIGITS + 1])
{
	char *s;

	line(session, "/contact");
	s = tmuxfix_wait(tf, session, "Security code", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "%s: no contact screen", session);
	cr_assert_eq(screen_code(s, code), 0,
	    "%s: no security code in groups of five digits:\n%s", session, s);
	return s;
}

/* Whether the screen no longer shows the contact screen. */
static int
closed(const char *screen, void *arg)
{
	(void)arg;
	return strstr(screen, "Security code") == NULL;
}

/* Close session's contact screen with Escape, and see it go. */
static void
close_contact(const char *session)
{
	char *s;

	cr_assert_eq(tmuxfix_keys(tf, session, "Escape", NULL), 0);
	s = tmuxfix_wait_for(
	    tf, session, closed, NULL, "no contact screen", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "%s: Escape left the contact screen", session);
	free(s);
}

/* Whether a list row shows "✓ " then the name in arg. */
static int
verified_mark(const char *screen, void *arg)
{
	char *want;
	int yes;

	xasprintf(&want, "✓ %s", (const char *)arg);
	yes = strstr(screen, want) != NULL;
	free(want);
	return yes;
}

/* from sends text; to shows it. */
static void
say(const char *from, const char *to, const char *text)
{
	char *s;

	line(from, text);
	s = tmuxfix_wait(tf, to, text, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "%s never showed '%s'", to, text);
	free(s);
}

Test(tmux_contact, trust_code_verify_rekey_rotate)
{
	char code_a[CODE_DIGITS + 1], code_b[CODE_DIGITS + 1];
	char code_new[CODE_DIGITS + 1], *s, *qr, *cmd;

	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 120, 40), 0);
	cr_assert_eq(tmuxfix_tui(tf, "B", dir_b, 120, 40), 0);
	cr_assert_eq(tmuxfix_connect(tf, "A", dir_a, "B", NULL), 0);

	/* A: trust level, the code in digits and as a QR code. */
	s = contact_screen("A", code_a);
	cr_expect_not_null(strstr(s, "Trust:"), "no trust level:\n%s", s);
	cr_expect_not_null(strstr(s, "invitation sent as text"),
	    "the link went as text, the screen says otherwise:\n%s", s);
	free(s);
	qr = decode_qr("A");
	xasprintf(&cmd, "NOID:CODE:1:%s", code_a);
	cr_expect_str_eq(qr, cmd, "the QR code is not the digits shown");
	free(cmd);
	free(qr);
	close_contact("A");

	/* B shows the same code; A verifies with what B's screen shows. */
	free(contact_screen("B", code_b));
	cr_expect_str_eq(code_a, code_b, "the two sides show different codes");
	close_contact("B");
	xasprintf(&cmd, "/verify %s", code_b);
	line("A", cmd);
	free(cmd);
	s = tmuxfix_wait_for(
	    tf, "A", verified_mark, "Bob", "✓ Bob", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "Bob is not marked verified on A");
	free(s);

	/* A wrong code (one digit off) is refused and verifies nothing. */
	code_b[CODE_DIGITS - 1] = code_b[CODE_DIGITS - 1] == '0' ? '1' : '0';
	xasprintf(&cmd, "/verify %s", code_b);
	line("B", cmd);
	free(cmd);
	s = tmuxfix_wait(tf, "B", "the codes differ", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "B took a wrong code without a word");
	cr_expect(s == NULL || !verified_mark(s, "Alice"),
	    "a wrong code verified Alice on B:\n%s", s);
	free(s);

	/* /rekey: a security event on both sides, and a new code. */
	line("A", "/rekey");
	s = tmuxfix_wait(tf, "A", "new keys agreed", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "A shows no re-key event");
	free(s);
	s = tmuxfix_wait(tf, "B", "new keys agreed", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "B shows no re-key event");
	free(s);
	free(contact_screen("A", code_new));
	cr_expect_str_neq(code_new, code_a, "the code did not change");
	close_contact("A");
	free(contact_screen("B", code_b));
	cr_expect_str_eq(code_new, code_b, "after re-keying the codes differ");
	close_contact("B");

	/* /rotate: a note, then messages still flow both ways. */
	line("A", "/rotate");
	s = tmuxfix_wait(tf, "A", "queue rotation", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "no note after /rotate");
	free(s);
	say("A", "B", "after rotation from Alice");
	say("B", "A", "after rotation from Bob");
}
