/*
 * Relays change without a restart (issue 5, point 6): in a running TUI
 * on relay R1, `/relays add R2 KEY` adds a second relay that wants an
 * access key; `/relays` lists it, `/relays test` reaches it, `/relays
 * trust` marks it trusted, all while the status bar counts the agent's
 * connected relays ("relays 2/2": the agent reopened on the new list
 * and got past R2's key).  With R1 removed, a new invitation's queue is
 * on R2 (the agent takes invitation queues from its current relays);
 * removing R2 brings the count back down.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "base.h"
#include "testrelay.h"
#include "tmuxfix.h"

#define KEY "relay-access-key"

static struct tmuxfix *tf;
static struct testrelay *r1, *r2;
static char *dir_a, *dir_b;

/* User A on R1; R2 wants an access key. */
static void
setup(void)
{
	static const char *const extra[] = {"--password", KEY, NULL};

	tmuxfix_env();
	r1 = testrelay_start(NULL);
	cr_assert_not_null(r1, "noid-relay R1 did not start");
	r2 = testrelay_start(extra);
	cr_assert_not_null(r2, "noid-relay R2 did not start");
	tf = tmuxfix_start();
	cr_assert_not_null(tf, "no tmux server");
	dir_a = tmuxfix_new_user(tf, "a", "Alice", testrelay_address(r1));
	cr_assert_not_null(dir_a, "could not make user Alice");
	dir_b = tmuxfix_new_user(tf, "b", "Bob", testrelay_address(r1));
	cr_assert_not_null(dir_b, "could not make user Bob");
}

static void
teardown(void)
{
	tmuxfix_free(tf);
	testrelay_free(r1);
	testrelay_free(r2);
	free(dir_a);
	free(dir_b);
}

TestSuite(tmux_relays, .init = setup, .fini = teardown, .timeout = 300);

/* Wait until A's status bar shows what. */
static void
bar_wait(const char *what)
{
	char *row = tmuxfix_wait_bar(tf, "A", what, TMUXFIX_WAIT_MS);

	cr_assert_not_null(row, "A's status bar never showed '%s'", what);
	free(row);
}

/* Type a command into A, wait for the screen to show want; returns
 * that screen (caller frees). */
static char *
command(const char *line, const char *want)
{
	char *s;

	cr_assert_eq(tmuxfix_type(tf, "A", line), 0);
	cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
	s = tmuxfix_wait(tf, "A", want, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "'%s' never showed '%s'", line, want);
	return s;
}

/* Whether the screen no longer shows arg. */
static int
screen_lacks(const char *screen, void *arg)
{
	return strstr(screen, arg) == NULL;
}

/* Close an overlay (titled title) and wait for it to go. */
static void
close_overlay(const char *title)
{
	char *s;

	cr_assert_eq(tmuxfix_keys(tf, "A", "Escape", NULL), 0);
	s = tmuxfix_wait_for(
	    tf, "A", screen_lacks, (void *)title, title, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "the %s overlay did not close", title);
	free(s);
}

/* A's /relays overlay (caller frees). */
static char *
relays_list(const char *want)
{
	char *s = command("/relays", want);

	close_overlay("Relays");
	return s;
}

/* Whether the screen's line naming addr also says what. */
static int
line_has(const char *screen, const char *addr, const char *what)
{
	const char *p = strstr(screen, addr);
	char *row;
	int yes;

	if (p == NULL)
		return 0;
	row = xstrdup(p);
	row[strcspn(row, "\n")] = '\0';
	yes = strstr(row, what) != NULL;
	free(row);
	return yes;
}

/* A new invitation from F2: the relay its queue is on. */
static void
invite_relay(struct agent_invite *inv)
{
	const char *why = NULL;
	char *s, *link;

	cr_assert_eq(tmuxfix_keys(tf, "A", "F2", NULL), 0);
	s = tmuxfix_wait(tf, "A", "Invitation", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	free(s);
	cr_assert_eq(tmuxfix_keys(tf, "A", "t", NULL), 0);
	s = tmuxfix_wait_link(tf, "A", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	link = tmuxfix_invite_link(s);
	cr_assert_not_null(link, "no link text on the screen:\n%s", s);
	free(s);
	cr_assert_eq(agent_invite_parse(link, strlen(link), inv, &why), 0,
	    "bad link %s: %s", link, why ? why : "");
	free(link);
	close_overlay("Invitation");
}

/* Whether inv's queue is on relay r. */
static int
invite_on(const struct agent_invite *inv, const struct testrelay *r)
{
	const struct relay_addr *ra = testrelay_addr(r);

	return inv->port == ra->port &&
	    memcmp(inv->relay_key, ra->key, sizeof ra->key) == 0;
}

/* Run a /relays change and close its overlay once it says done. */
static void
relays_change(const char *fmt, const char *arg, const char *done)
{
	char *line, *s;

	xasprintf(&line, fmt, arg);
	s = command(line, done);
	free(line);
	free(s);
	close_overlay("Relays");
}

Test(tmux_relays, add_test_trust_rm_apply_without_restart)
{
	const char *a1 = testrelay_address(r1), *a2 = testrelay_address(r2);
	struct agent_invite inv1, inv2;
	char *s;

	/* A session on R1: A and B connected through it. */
	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 160, 40), 0);
	cr_assert_eq(tmuxfix_tui(tf, "B", dir_b, 160, 40), 0);
	cr_assert_eq(tmuxfix_connect(tf, "A", dir_a, "B", NULL), 0);
	bar_wait("relays 1/1");

	/* Add R2 with its access key: the running agent dials it. */
	relays_change("/relays add %s " KEY, a2, "added");
	bar_wait("relays 2/2");
	s = relays_list("access key");
	cr_expect(line_has(s, a2, "(access key)"), "R2 not listed:\n%s", s);
	cr_expect(!line_has(s, a2, "trusted"), "R2 trusted early:\n%s", s);
	cr_expect_not_null(strstr(s, a1), "R1 not listed:\n%s", s);
	free(s);

	/* Test: both reachable. */
	s = command("/relays test", "relay test done");
	cr_expect(line_has(s, a1, " ms)") && line_has(s, a2, " ms)"),
	    "not both reachable:\n%s", s);
	cr_expect_null(strstr(s, "FAIL"), "a relay failed:\n%s", s);
	free(s);
	close_overlay("Relays");

	/* New invitations take turns over the current relays: one of the
	 * next two is on R2, and the agent, past R2's key, is up on both. */
	invite_relay(&inv1);
	invite_relay(&inv2);
	cr_expect(invite_on(&inv1, r2) || invite_on(&inv2, r2),
	    "no invitation on the added relay");
	cr_expect(invite_on(&inv1, r1) || invite_on(&inv2, r1),
	    "no invitation on R1");
	bar_wait("relays 2/2");

	/* Trust R2: listed trusted, its access key kept (still up). */
	relays_change("/relays trust %s", a2, "added");
	s = relays_list("trusted");
	cr_expect(line_has(s, a2, "trusted"), "R2 not trusted:\n%s", s);
	cr_expect(line_has(s, a2, "(access key)"), "key lost:\n%s", s);
	free(s);
	invite_relay(&inv1);
	invite_relay(&inv2);
	cr_expect(invite_on(&inv1, r2) || invite_on(&inv2, r2),
	    "no invitation on R2 once trusted");
	bar_wait("relays 2/2");

	/* Remove R2: the count follows, the list drops it. */
	relays_change("/relays rm %s", a2, "removed");
	bar_wait("relays 1/1");
	s = relays_list(a1);
	cr_expect_null(strstr(s, a2), "R2 still listed:\n%s", s);
	free(s);
}
