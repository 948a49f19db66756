/*
 * A 100,000-message history in the TUI (issue 5, DESIGN §10): written
 * straight into A's store through the store API (one transaction), then
 * A's TUI opens on it and shows the newest message; PageUp leaves it;
 * Alt-g (the help screen's "oldest message") reaches the very first
 * message; /search finds a message from a third of the way back, and
 * choosing the result jumps the chat pane to it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "testrelay.h"
#include "tmuxfix.h"

#define HISTORY 100000

static struct tmuxfix *tf;
static struct testrelay *relay;
static char *dir_a, *dir_b;

/* A and B connected through their TUIs, then A's store filled. */
static void
setup(void)
{
	tmuxfix_env();
	relay = testrelay_start(NULL);
	cr_assert_not_null(relay, "noid-relay did not start");
	tf = tmuxfix_start();
	cr_assert_not_null(tf, "no tmux server");
	xasprintf(&dir_a, "%s/a", tmuxfix_dir(tf));
	xasprintf(&dir_b, "%s/b", tmuxfix_dir(tf));
	cr_assert_eq(tmuxfix_user(dir_a, "Alice", testrelay_address(relay)), 0);
	cr_assert_eq(tmuxfix_user(dir_b, "Bob", testrelay_address(relay)), 0);
	cr_assert_eq(tmuxfix_tui(tf, "A0", dir_a, 100, 30), 0);
	cr_assert_eq(tmuxfix_tui(tf, "B", dir_b, 100, 30), 0);
	cr_assert_eq(tmuxfix_connect(tf, "A0", dir_a, "B", NULL), 0);
	cr_assert_eq(tmuxfix_quit(tf, "A0"), 0);
	cr_assert_eq(tmuxfix_history(dir_a, HISTORY), 0);
}

static void
teardown(void)
{
	tmuxfix_free(tf);
	testrelay_free(relay);
	free(dir_a);
	free(dir_b);
}

TestSuite(tmux_history, .init = setup, .fini = teardown, .timeout = 300);

/* Scrolled up from the end: history on screen, the newest gone. */
static int
scrolled_up(const char *screen, void *arg)
{
	(void)arg;
	return strstr(screen, "history message 0999") != NULL &&
	    strstr(screen, TMUXFIX_HIST_LAST) == NULL;
}

Test(tmux_history, scroll_to_the_top_of_100k_messages)
{
	char *s;

	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 100, 30), 0);
	s = tmuxfix_wait(tf, "A", TMUXFIX_HIST_LAST, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "the newest message is not on the first screen");
	cr_expect_null(strstr(s, TMUXFIX_HIST_FIRST));
	free(s);

	/* One page up: the newest message leaves the screen.  (Waiting
	 * for an older message's text raced: the first screen already
	 * shows "history message 0999..".) */
	cr_assert_eq(tmuxfix_keys(tf, "A", "PageUp", NULL), 0);
	s = tmuxfix_wait_for(
	    tf, "A", scrolled_up, NULL, "PageUp scrolled", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "PageUp did not scroll");
	free(s);

	/* The top: the first message, and nothing older to show. */
	cr_assert_eq(tmuxfix_keys(tf, "A", "M-g", NULL), 0);
	s = tmuxfix_wait(tf, "A", TMUXFIX_HIST_FIRST, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "Alt-g never reached the first message");
	cr_expect_not_null(strstr(s, "history message 000001"));
	free(s);
	/* PageUp at the top stays at the top. */
	cr_assert_eq(tmuxfix_keys(tf, "A", "PageUp", NULL), 0);
	s = tmuxfix_wait(tf, "A", TMUXFIX_HIST_FIRST, TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "PageUp scrolled past the first message");
	free(s);

	/* And back to the newest. */
	cr_assert_eq(tmuxfix_keys(tf, "A", "M-G", NULL), 0);
	s = tmuxfix_wait(tf, "A", TMUXFIX_HIST_LAST, TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "Alt-G did not come back to the newest");
	free(s);
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
}

/* A search result screen: the overlay, not the typed command. */
static int
has_result(const char *screen, void *arg)
{
	(void)arg;
	return strstr(screen, "the " TMUXFIX_HIST_NEEDLE " is here") != NULL;
}

/* The chat pane around the needle: its neighbours are on screen. */
static int
jumped(const char *screen, void *arg)
{
	(void)arg;
	return has_result(screen, NULL) &&
	    strstr(screen, "history message 033332") != NULL &&
	    strstr(screen, "history message 033334") != NULL;
}

Test(tmux_history, search_finds_and_jumps)
{
	char *s;

	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 100, 30), 0);
	s = tmuxfix_wait(tf, "A", TMUXFIX_HIST_LAST, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	free(s);
	cr_assert_eq(tmuxfix_type(tf, "A", "/search " TMUXFIX_HIST_NEEDLE), 0);
	cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
	s = tmuxfix_wait_for(
	    tf, "A", has_result, NULL, "the search result", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "/search did not find the message");
	free(s);

	/* Choosing the result shows it in its conversation. */
	cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
	s = tmuxfix_wait_for(tf, "A", jumped, NULL,
	    "the found message between its neighbours", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "no way to jump to a search result");
	free(s);

	/* A word that is nowhere: said so, not a crash. */
	cr_assert_eq(tmuxfix_keys(tf, "A", "Escape", NULL), 0);
	cr_assert_eq(tmuxfix_type(tf, "A", "/search nowherezzz"), 0);
	cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
	s = tmuxfix_wait(tf, "A", "Search", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s);
	free(s);
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
}
