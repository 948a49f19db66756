/*
 * The mouse in the TUI (issue 5: "mouse optional (select conversation,
 * scroll)"): A is connected to Bob and to Carol, each conversation
 * seeded through the store API (no TUI on the data dir).  With
 * `mouse = yes` in A's config the client turns mouse reporting on (tmux
 * records the pane's mouse mode), a click on Carol's row in the list
 * opens her conversation and a wheel-up in the chat pane brings older
 * messages into view.  With the default `mouse = no` reporting stays
 * off and the same click changes nothing.
 *
 * A detached tmux session has no client to take real mouse input from,
 * so the test types the xterm SGR (1006) reports a terminal would send
 * straight into the pane: "ESC [ < b ; x ; y M" (press) and "m"
 * (release), x and y 1-based.
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

#define BOB_HISTORY 80
#define BOB_OLDEST "BOB-OLDEST-MESSAGE"
#define BOB_NEWEST "BOB-NEWEST-MESSAGE"
#define CAROL_TEXT "CAROL-ONLY-MESSAGE"

static struct tmuxfix *tf;
static struct testrelay *relay;
static char *dir_a, *dir_b, *dir_c;

/* A connected to Bob and Carol through the TUIs; A's TUI then quits. */
static void
setup(void)
{
	tmuxfix_env();
	relay = testrelay_start(NULL);
	cr_assert_not_null(relay, "noid-relay did not start");
	tf = tmuxfix_start();
	cr_assert_not_null(tf, "no tmux server");
	dir_a = tmuxfix_new_user(tf, "a", "Alice", testrelay_address(relay));
	cr_assert_not_null(dir_a, "could not make user Alice");
	dir_b = tmuxfix_new_user(tf, "b", "Bob", testrelay_address(relay));
	cr_assert_not_null(dir_b, "could not make user Bob");
	dir_c = tmuxfix_new_user(tf, "c", "Carol", testrelay_address(relay));
	cr_assert_not_null(dir_c, "could not make user Carol");
	cr_assert_eq(tmuxfix_tui(tf, "B", dir_b, 100, 30), 0);
	cr_assert_eq(tmuxfix_tui(tf, "C", dir_c, 100, 30), 0);
	/* A fresh TUI for each: a stale "connected with" would pass. */
	cr_assert_eq(tmuxfix_tui(tf, "A0", dir_a, 100, 30), 0);
	cr_assert_eq(tmuxfix_connect(tf, "A0", dir_a, "B", NULL), 0);
	cr_assert_eq(tmuxfix_quit(tf, "A0"), 0);
	cr_assert_eq(tmuxfix_tui(tf, "A1", dir_a, 100, 30), 0);
	cr_assert_eq(tmuxfix_connect(tf, "A1", dir_a, "C", NULL), 0);
	cr_assert_eq(tmuxfix_quit(tf, "A1"), 0);
}

static void
teardown(void)
{
	tmuxfix_free(tf);
	testrelay_free(relay);
	free(dir_a);
	free(dir_b);
	free(dir_c);
}

TestSuite(tmux_mouse, .init = setup, .fini = teardown, .timeout = 300);

/* Add one incoming message from the contact whose alias has name. */
static void
seed_one(struct store *st, const uint8_t *profile, struct store_contact *c,
    size_t nc, const char *name, uint64_t ts, const char *text)
{
	struct store_conn *cn = NULL;
	size_t i, ncn = 0;
	uint8_t id[STORE_ID_LEN];

	for (i = 0; i < nc && strstr(c[i].alias, name) == NULL; i++)
		;
	cr_assert_lt(i, nc, "A has no contact named %s", name);
	cr_assert_eq(store_conns_list(st, profile, c[i].id, &cn, &ncn), 0);
	cr_assert_geq(ncn, 1);
	cr_assert_eq(store_msg_add(st, profile, cn[0].id, STORE_DIR_IN, ts,
	                 text, strlen(text), id),
	    0);
	store_conns_free(cn, ncn);
}

/* Bob: a long history, newest last; Carol: one older message. */
static void
seed(void)
{
	struct store *st = NULL;
	struct store_profile *p = NULL;
	struct store_contact *c = NULL;
	size_t np = 0, nc = 0, i;
	uint64_t now = (uint64_t)time(NULL) * 1000 - 3600000ull;
	char text[64];

	cr_assert_eq(
	    store_open(dir_a, TMUXFIX_PASSWORD, STORE_FAST_KDF, &st), 0);
	cr_assert_eq(store_profiles_list(st, &p, &np), 0);
	cr_assert_eq(np, 1);
	cr_assert_eq(store_contacts_list(st, p[0].id, &c, &nc), 0);
	cr_assert_eq(nc, 2);
	seed_one(st, p[0].id, c, nc, "Carol", now - 2 * BOB_HISTORY * 60000ull,
	    CAROL_TEXT);
	for (i = 0; i < BOB_HISTORY; i++) {
		if (i == 0)
			snprintf(text, sizeof text, "%s", BOB_OLDEST);
		else if (i == BOB_HISTORY - 1)
			snprintf(text, sizeof text, "%s", BOB_NEWEST);
		else
			snprintf(text, sizeof text, "bob history %03zu", i);
		seed_one(st, p[0].id, c, nc, "Bob",
		    now - (BOB_HISTORY - i) * 60000ull, text);
	}
	store_contacts_free(c, nc);
	store_profiles_free(p, np);
	store_close(st);
}

/* Set `mouse = VALUE` in A's config (written by the TUI on first run):
 * every line but the old mouse line, then ours. */
static void
set_mouse(const char *value)
{
	char *path;
	uint8_t *data = NULL;
	const char *s, *e, *nl;
	size_t len;
	struct buf b;
	int had = 0;

	xasprintf(&path, "%s/config", dir_a);
	cr_assert_eq(file_read_all(path, 65536, &data, &len), 0,
	    "no config at %s", path);
	buf_init(&b);
	for (s = (const char *)data, e = s + len; s < e; s = nl + 1) {
		nl = memchr(s, '\n', (size_t)(e - s));
		if (nl == NULL)
			nl = e;
		if ((size_t)(nl - s) >= 7 && strncmp(s, "mouse =", 7) == 0)
			had = 1;
		else
			buf_put(&b, s, (size_t)(nl - s));
		buf_put_u8(&b, '\n');
		if (nl == e)
			break;
	}
	cr_assert(had, "no 'mouse =' line in the default config");
	buf_put(&b, "mouse = ", 8);
	buf_put(&b, value, strlen(value));
	buf_put_u8(&b, '\n');
	cr_assert_eq(file_write_atomic(path, b.data, b.len, 0600), 0);
	free(b.data);
	free(data);
	free(path);
}

/* tmux's idea of whether the pane's program asked for mouse reports. */
static int
pane_mouse(const char *session)
{
	char *sock;
	const char *argv[] = {"tmux", "-S", NULL, "display-message", "-p", "-t",
	    session, "#{mouse_any_flag}#{mouse_sgr_flag}", NULL};
	struct tmuxfix_result r;
	int on;

	xasprintf(&sock, "%s/tmux.sock", tmuxfix_dir(tf));
	argv[2] = sock;
	cr_assert_eq(tmuxfix_run(argv, NULL, 0, 10000, &r), 0);
	cr_assert_eq(r.code, 0, "tmux display-message: %s", r.err);
	on = strncmp(r.out, "11", 2) == 0;
	tmuxfix_result_free(&r);
	free(sock);
	return on;
}

/* The first row of screen containing needle, its column in *x; -1. */
static int
row_of(const char *screen, const char *needle, int *x)
{
	char *row, *hit;
	int y, found = -1;

	for (y = 0; found < 0 && (row = tmuxfix_row(screen, y)) != NULL; y++) {
		if ((hit = strstr(row, needle)) != NULL) {
			found = y;
			if (x != NULL)
				*x = (int)(hit - row);
		}
		free(row);
	}
	return found;
}

/* Type one SGR mouse report (button b at 0-based x, y; press or not). */
static void
mouse_report(const char *session, int b, int x, int y, int press)
{
	char seq[64];

	snprintf(seq, sizeof seq, "\033[<%d;%d;%d%c", b, x + 1, y + 1,
	    press ? 'M' : 'm');
	cr_assert_eq(tmuxfix_type(tf, session, seq), 0);
}

/* A left click on the list row that names Carol. */
static void
click_carol(const char *screen)
{
	int x = 0, y;

	y = row_of(screen, "Carol", &x);
	cr_assert_geq(y, 0, "Carol is not in the list:\n%s", screen);
	mouse_report("A", 0, x + 1, y, 1);
	mouse_report("A", 0, x + 1, y, 0);
}

/* Carol's conversation is open: the status bar names her, the chat
 * pane shows her message and none of Bob's.  (The list shows each
 * conversation's last text bare; chat rows are "HH:MM name: text".) */
static int
carol_open(const char *screen, void *arg)
{
	(void)arg;
	return strstr(screen, "→ Carol") != NULL &&
	    strstr(screen, "Carol: " CAROL_TEXT) != NULL &&
	    strstr(screen, "Bob: ") == NULL;
}

/* Scrolled up: the newest message left the screen. */
static int
scrolled_up(const char *screen, void *arg)
{
	(void)arg;
	return strstr(screen, "Bob: " BOB_NEWEST) == NULL &&
	    strstr(screen, "Bob: bob history") != NULL;
}

Test(tmux_mouse, click_opens_a_conversation_and_wheel_scrolls)
{
	char *s;
	int y;

	seed();
	set_mouse("yes");
	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 100, 20), 0);
	s = tmuxfix_wait(tf, "A", "Bob: " BOB_NEWEST, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "A does not open on Bob's conversation");
	cr_expect_not_null(strstr(s, "→ Bob"));
	cr_expect_null(strstr(s, CAROL_TEXT));
	cr_expect_eq(pane_mouse("A"), 1,
	    "mouse = yes, but the client did not turn SGR mouse reports on");

	/* The wheel, over the chat pane: older messages come into view. */
	y = row_of(s, "Bob: " BOB_NEWEST, NULL);
	mouse_report("A", 64, 60, y, 1);
	free(s);
	s = tmuxfix_wait_for(
	    tf, "A", scrolled_up, NULL, "wheel-up scrolled", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "a wheel-up did not scroll the chat");
	free(s);
	/* Down again: the newest message is back. */
	mouse_report("A", 65, 60, y, 1);
	s = tmuxfix_wait(tf, "A", "Bob: " BOB_NEWEST, TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "a wheel-down did not scroll back");

	/* A click on Carol in the list opens her conversation. */
	cr_assert_not_null(s);
	click_carol(s);
	free(s);
	s = tmuxfix_wait_for(
	    tf, "A", carol_open, NULL, "Carol's conversation", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "clicking Carol did not open her conversation");
	if (s != NULL)
		cr_expect_null(strstr(s, "0;"),
		    "a mouse report leaked into the screen:\n%s", s);
	free(s);
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
}

Test(tmux_mouse, mouse_off_by_default_and_a_click_changes_nothing)
{
	char *s;

	seed();
	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 100, 20), 0);
	s = tmuxfix_wait(tf, "A", "Bob: " BOB_NEWEST, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s, "A does not open on Bob's conversation");
	cr_expect_not_null(strstr(s, "→ Bob"));
	cr_expect_eq(pane_mouse("A"), 0,
	    "mouse = no, but the client turned mouse reports on");
	click_carol(s);
	free(s);
	/* Something after the click, so the click has been read. */
	cr_assert_eq(tmuxfix_type(tf, "A", "AFTER-CLICK"), 0);
	s = tmuxfix_wait(tf, "A", "AFTER-CLICK", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	cr_expect(strstr(s, "→ Bob") != NULL &&
	        strstr(s, "Bob: " BOB_NEWEST) != NULL &&
	        strstr(s, "Carol: ") == NULL,
	    "a click with mouse = no changed the conversation:\n%s", s);
	cr_expect(strstr(s, "[<") == NULL && strstr(s, ";M") == NULL &&
	        strstr(s, "Mm") == NULL,
	    "the mouse report was typed into the input line:\n%s", s);
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
	free(s);
}
