/*
 * The status bar tells the truth (issue 5, point 2): the profile, how
 * many of the profile's relays are connected out of how many it has,
 * and the sync state (one device: multi-device sync is not built).
 * A new profile's bar says "relays 1/1" before any contact (the TUI
 * keeps a session to its relays); two users on one real noid-relay
 * connect through their TUIs; the bar says "relays 1/1"; when the
 * relay stops it says "relays 0/1", and
 * "relays 1/1" again once the relay is back.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "testrelay.h"
#include "tmux-pair.h"
#include "tmuxfix.h"

TestSuite(
    tmux_status, .init = pair_setup, .fini = pair_teardown, .timeout = 300);

/* Wait until A's status bar shows what; returns the bar (caller frees). */
static char *
bar_wait(const char *what)
{
	char *row = tmuxfix_wait_bar(tf, "A", what, TMUXFIX_WAIT_MS);

	cr_assert_not_null(row, "A's status bar never showed '%s'", what);
	return row;
}

Test(tmux_status, profile_relays_connected_and_sync_state)
{
	char *bar;

	/* A new profile with no contact yet: its relay is reachable and
	 * the bar says so (not "0/1", which reads as trouble). */
	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 120, 30), 0);
	free(bar_wait("relays 1/1"));
	cr_assert_eq(tmuxfix_tui(tf, "B", dir_b, 120, 30), 0);
	cr_assert_eq(tmuxfix_connect(tf, "A", dir_a, "B", NULL), 0);

	bar = bar_wait("relays 1/1");
	cr_expect_not_null(strstr(bar, "Alice"), "no profile: %s", bar);
	cr_expect_not_null(
	    strstr(bar, "this device only"), "no sync state: %s", bar);
	free(bar);

	/* The relay goes away: the bar says so without a key press. */
	testrelay_stop(relay, SIGTERM);
	free(bar_wait("relays 0/1"));

	/* And back: the agent redials on its own. */
	cr_assert_eq(testrelay_restart(relay), 0);
	free(bar_wait("relays 1/1"));

	/* Narrow: the short form, still cut to the width. */
	cr_assert_eq(tmuxfix_resize(tf, "A", 60, 20), 0);
	bar = bar_wait("1 device");
	cr_expect_null(strstr(bar, "this device only"), "%s", bar);
	free(bar);
}
