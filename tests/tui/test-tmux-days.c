/*
 * Day separators in the chat pane (issue 5, point 2): A's store gets
 * messages on two different days (through the store API, no TUI on the
 * data dir); A's TUI shows a separator row with each day's date, the
 * second one between the last message of the first day and the first
 * of the second, and none between two messages of the same day.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base.h"
#include "store.h"
#include "testrelay.h"
#include "tmuxfix.h"

static struct tmuxfix *tf;
static struct testrelay *relay;
static char *dir_a, *dir_b;

/* A and B connected through their TUIs; A's TUI then quits. */
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
}

static void
teardown(void)
{
	tmuxfix_free(tf);
	testrelay_free(relay);
	free(dir_a);
	free(dir_b);
}

TestSuite(tmux_days, .init = setup, .fini = teardown, .timeout = 300);

/* Local noon of day (1..31) in March 2026, in ms. */
static uint64_t
noon(int day)
{
	struct tm tm = {.tm_year = 126,
	    .tm_mon = 2,
	    .tm_mday = day,
	    .tm_hour = 12,
	    .tm_isdst = -1};

	return (uint64_t)mktime(&tm) * 1000;
}

/* The separator the screen should show for the day of ts_ms. */
static void
day_row(uint64_t ts_ms, char *out, size_t len)
{
	time_t t = (time_t)(ts_ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, len, "── %a %d %b %Y ──", &tm);
}

/* Add the messages (text, time) to A's one conversation. */
static void
seed(const char *const *texts, const uint64_t *ts, size_t n)
{
	struct store *st = NULL;
	struct store_profile *p = NULL;
	struct store_conn *cn = NULL;
	struct store_contact *c = NULL;
	size_t np = 0, nc = 0, ncn = 0, i;
	uint8_t id[STORE_ID_LEN];

	cr_assert_eq(
	    store_open(dir_a, TMUXFIX_PASSWORD, STORE_FAST_KDF, &st), 0);
	cr_assert_eq(store_profiles_list(st, &p, &np), 0);
	cr_assert_eq(np, 1);
	cr_assert_eq(store_contacts_list(st, p[0].id, &c, &nc), 0);
	cr_assert_eq(nc, 1);
	cr_assert_eq(store_conns_list(st, p[0].id, c[0].id, &cn, &ncn), 0);
	cr_assert_geq(ncn, 1);
	for (i = 0; i < n; i++)
		cr_assert_eq(store_msg_add(st, p[0].id, cn[0].id, STORE_DIR_IN,
		                 ts[i], texts[i], strlen(texts[i]), id),
		    0);
	store_conns_free(cn, ncn);
	store_contacts_free(c, nc);
	store_profiles_free(p, np);
	store_close(st);
}

/* The first row of screen containing needle; -1 if none.  (Chat rows
 * are "HH:MM name: text"; the list shows the last text bare.) */
static int
row_of(const char *screen, const char *needle)
{
	char *row;
	int y, found = -1;

	for (y = 0; found < 0 && (row = tmuxfix_row(screen, y)) != NULL; y++) {
		if (strstr(row, needle) != NULL)
			found = y;
		free(row);
	}
	return found;
}

Test(tmux_days, a_separator_with_the_date_between_two_days)
{
	const char *texts[] = {
	    "DAY-ONE-MORNING", "DAY-ONE-EVENING", "DAY-TWO-MESSAGE"};
	uint64_t ts[] = {
	    noon(10) - 3 * 3600000ull, noon(10) + 6 * 3600000ull, noon(11)};
	char sep1[64], sep2[64], *s;
	int morning, evening, second, y1, y2;

	seed(texts, ts, 3);
	day_row(ts[0], sep1, sizeof sep1);
	day_row(ts[2], sep2, sizeof sep2);
	cr_assert_str_neq(sep1, sep2);

	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 100, 30), 0);
	s = tmuxfix_wait(tf, "A", "Bob: DAY-TWO-MESSAGE", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "A does not show the seeded history");
	morning = row_of(s, "Bob: DAY-ONE-MORNING");
	evening = row_of(s, "Bob: DAY-ONE-EVENING");
	second = row_of(s, "Bob: DAY-TWO-MESSAGE");
	y1 = row_of(s, sep1);
	y2 = row_of(s, sep2);
	cr_expect(morning >= 0 && evening > morning && second > evening,
	    "the messages are not in order:\n%s", s);
	cr_expect(y2 > evening && y2 < second,
	    "no '%s' between the two days:\n%s", sep2, s);
	cr_expect(y1 >= 0 && y1 < morning, "no '%s' above the first day:\n%s",
	    sep1, s);
	cr_expect_eq(evening, morning + 1,
	    "something between two messages of one day:\n%s", s);
	free(s);
}
