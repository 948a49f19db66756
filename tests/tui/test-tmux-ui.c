/*
 * The full-screen client driven through tmux for what test-tmux-chat
 * does not reach (issue 5, points 1, 2, 3, 8, 9, 10): the first run
 * with no data dir (password prompt, or none with its "weaker" warning,
 * display name, main screen, the config file written with defaults,
 * the embedded relay); the help screen listing every slash command of
 * the table; notifications (bell, OSC 9/777, tmux's bell flag) for a
 * message in a conversation that is not open, none after /mute and
 * none for the open one; unread counts in the list and the "unread in
 * other profiles" mark; /profile switching, each profile showing only
 * its own conversations; the "terminal too small" screen at 10x4 and
 * the recovery after it.
 *
 * The raw bytes noid writes to its terminal come from tmux's
 * pipe-pane, so BEL and OSC sequences are seen exactly as a terminal
 * gets them.  Every data dir lives in the tmux fixture's temp dir; the
 * fini stops the embedded relays those dirs started (relay.state holds
 * the pid; the relay outlives the client by design) before the fixture
 * removes the dir.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base.h"
#include "cmd.h"
#include "testrelay.h"
#include "tmuxfix.h"

#define DIRS_MAX 4

static struct tmuxfix *tf;
static struct testrelay *relay;
static char *dirs[DIRS_MAX];
static size_t ndirs;

static void
ui_setup(void)
{
	tf = NULL;
	relay = NULL;
	ndirs = 0;
	unsetenv("NOID_PASSWORD");
	unsetenv("NOID_NAME");
	unsetenv("NOID_HOME");
	unsetenv("TMUX");
}

/* SIGTERM the embedded relay a data dir started, if any. */
static void
ui_stop_embedded(const char *dir)
{
	char *path = path_join(dir, "relay.state");
	uint8_t *st = NULL;
	size_t len;
	long pid;

	if (file_read_all(path, 4096, &st, &len) == 0) {
		st = xrealloc(st, len + 1);
		st[len] = 0;
		if (sscanf((char *)st, "%ld", &pid) == 1 && pid > 1)
			kill((pid_t)pid, SIGTERM);
	}
	free(st);
	free(path);
}

static void
ui_teardown(void)
{
	size_t i;

	for (i = 0; i < ndirs; i++) {
		ui_stop_embedded(dirs[i]);
		free(dirs[i]);
	}
	ndirs = 0;
	tmuxfix_free(tf);
	tf = NULL;
	testrelay_free(relay);
	relay = NULL;
}

TestSuite(tmux_ui, .init = ui_setup, .fini = ui_teardown, .timeout = 240);

/* The tmux fixture (and the relay when with_relay). */
static void
ui_start(int with_relay)
{
	if (with_relay) {
		/* Users made by the CLI: NOID_PASSWORD, the fast KDF. */
		tmuxfix_env();
		relay = testrelay_start(NULL);
		cr_assert_not_null(relay, "noid-relay did not start");
	}
	tf = tmuxfix_start();
	cr_assert_not_null(tf, "no tmux server");
}

/* A data dir path inside the fixture's temp dir (not created). */
static const char *
ui_dir(const char *name)
{
	cr_assert_lt(ndirs, DIRS_MAX);
	xasprintf(&dirs[ndirs], "%s/%s", tmuxfix_dir(tf), name);
	return dirs[ndirs++];
}

/* A user: data dir, profile name, the suite's relay. */
static const char *
ui_user(const char *dirname, const char *name)
{
	const char *d = ui_dir(dirname);

	cr_assert_eq(tmuxfix_user(d, name, testrelay_address(relay)), 0,
	    "can't make user %s", name);
	return d;
}

/* Run the CLI on dir (words NULL-terminated); must exit 0; stdout
 * returned (caller frees). */
static char *
ui_cli(const char *dir, ...)
{
	const char *argv[24];
	struct tmuxfix_result r;
	size_t n = 0;
	va_list ap;
	char *out;

	argv[n++] = TMUXFIX_NOID;
	argv[n++] = "--data-dir";
	argv[n++] = dir;
	va_start(ap, dir);
	while (n < 23 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(tmuxfix_run(argv, NULL, 0, TMUXFIX_WAIT_MS, &r), 0);
	cr_assert_eq(r.code, 0, "noid %s: exit %d: %s", argv[3], r.code, r.err);
	out = r.out;
	r.out = NULL;
	tmuxfix_result_free(&r);
	return out;
}

/* a invites (--text, on profile pa or the default), b connects, a
 * accepts the request named b_name, b takes the answer in. */
static void
ui_connect(const char *a, const char *pa, const char *b, const char *b_name)
{
	char *out, *link;

	out = pa ? ui_cli(a, "--profile", pa, "invite", "--text", NULL)
	         : ui_cli(a, "invite", "--text", NULL);
	link = xstrdup(out);
	link[strcspn(link, "\n")] = '\0';
	free(out);
	free(ui_cli(b, "connect", link, NULL));
	free(pa ? ui_cli(a, "--profile", pa, "accept", b_name, NULL)
	        : ui_cli(a, "accept", b_name, NULL));
	out = ui_cli(b, "contacts", NULL);
	cr_assert_not_null(strstr(out, "connected"), "%s", out);
	free(out);
	free(link);
}

/* Wait for needle on session's screen; the screen (caller frees). */
static char *
ui_wait(const char *session, const char *needle)
{
	char *s = tmuxfix_wait(tf, session, needle, TMUXFIX_WAIT_MS);

	cr_assert_not_null(s, "%s: never showed '%s'", session, needle);
	return s;
}

/* Type a line and Enter. */
static void
ui_line(const char *session, const char *text)
{
	cr_assert_eq(tmuxfix_type(tf, session, text), 0);
	cr_assert_eq(tmuxfix_keys(tf, session, "Enter", NULL), 0);
}

/* Whether path exists. */
static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* ---- first run ---------------------------------------------------- */

/* Start the TUI on a data dir that does not exist, no password in the
 * environment: the first-run dialogue. */
static void
ui_first_run_start(const char *session, const char *dir)
{
	const char *env[] = {"NOID_TEST_FAST_KDF=1", NULL};
	const char *argv[] = {TMUXFIX_NOID, "--data-dir", dir, NULL};
	char *s;

	cr_assert(!exists(dir));
	cr_assert_eq(tmuxfix_new(tf, session, 100, 30, env, argv), 0);
	s = ui_wait(session, "New password:");
	cr_expect_not_null(strstr(s, "Welcome to noid"), "%s", s);
	cr_expect_not_null(strstr(s, dir), "the data dir is not named:\n%s", s);
	cr_expect_not_null(strstr(s, "weaker"),
	    "no-password is not plainly marked weaker:\n%s", s);
	free(s);
}

/* Answer the display-name prompt; the main screen shows name. */
static void
ui_first_run_name(const char *session, const char *name)
{
	char *s, *status;

	free(ui_wait(session, "display name"));
	ui_line(session, name);
	s = ui_wait(session, "F1 help");
	status = tmuxfix_row(s, -2);
	cr_assert_not_null(status);
	cr_expect_not_null(strstr(status, name),
	    "the status bar does not show the profile '%s': '%s'\n%s", name,
	    status, s);
	free(status);
	free(s);
}

/* The config file the first run writes, with its defaults. */
static void
ui_check_config(const char *dir)
{
	static const char *const keys[] = {"notify-bell = yes",
	    "notify-osc = yes", "show-list = yes", "mouse = no",
	    "colour = yes"};
	char *path = path_join(dir, "config");
	uint8_t *data = NULL;
	struct stat sb;
	size_t len, i;

	cr_assert_eq(file_read_all(path, 1 << 16, &data, &len), 0,
	    "no config file %s after the first run", path);
	data = xrealloc(data, len + 1);
	data[len] = 0;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		cr_expect_not_null(strstr((char *)data, keys[i]),
		    "config lacks the default '%s':\n%s", keys[i], data);
	cr_expect_not_null(strstr((char *)data, "color."),
	    "config does not document the colours");
	cr_assert_eq(stat(path, &sb), 0);
	cr_expect_eq(sb.st_mode & 077, 0, "config mode %o", sb.st_mode);
	free(data);
	free(path);
}

Test(tmux_ui, first_run_with_a_password_then_name_then_main_screen)
{
	const char *dir, *argv[] = {TMUXFIX_NOID, NULL, NULL, "profiles", NULL};
	struct tmuxfix_result r;
	char *s;

	ui_start(0);
	dir = ui_dir("fresh");
	ui_first_run_start("A", dir);
	ui_line("A", "correct horse");
	free(ui_wait("A", "Repeat it:"));
	ui_line("A", "correct horse");
	ui_first_run_name("A", "Zoe");
	s = tmuxfix_capture(tf, "A", 0);
	cr_expect_null(strstr(s, "No password"),
	    "a password was given, yet the screen says none:\n%s", s);
	free(s);
	ui_check_config(dir);
	/* No relay configured: the embedded one runs, and says so. */
	s = ui_wait("A", "/1 embedded");
	free(s);
	/* /devices lists the profile's one device: this one. */
	ui_line("A", "/devices");
	s = ui_wait("A", "(this device)");
	cr_expect_not_null(strstr(s, "this device only"), "%s", s);
	free(s);
	cr_assert_eq(tmuxfix_keys(tf, "A", "Escape", NULL), 0);
	cr_expect(exists(dirs[0]), "no data dir");
	cr_assert_eq(tmuxfix_quit(tf, "A"), 0);

	/* The password really protects the store. */
	argv[1] = "--data-dir";
	argv[2] = dir;
	setenv("NOID_TEST_FAST_KDF", "1", 1);
	setenv("NOID_PASSWORD", "wrong one", 1);
	cr_assert_eq(tmuxfix_run(argv, NULL, 0, TMUXFIX_WAIT_MS, &r), 0);
	cr_expect_neq(r.code, 0, "a wrong password opened it: %s", r.out);
	tmuxfix_result_free(&r);
	setenv("NOID_PASSWORD", "correct horse", 1);
	cr_assert_eq(tmuxfix_run(argv, NULL, 0, TMUXFIX_WAIT_MS, &r), 0);
	cr_expect_eq(
	    r.code, 0, "the password set at first run fails: %s", r.err);
	cr_expect_not_null(strstr(r.out, "Zoe"), "%s", r.out);
	tmuxfix_result_free(&r);
}

Test(tmux_ui, first_run_without_a_password_is_marked_weaker)
{
	const char *dir;
	char *s;

	ui_start(0);
	dir = ui_dir("fresh");
	ui_first_run_start("A", dir);
	cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
	free(ui_wait("A", "Repeat it:"));
	cr_assert_eq(tmuxfix_keys(tf, "A", "Enter", NULL), 0);
	s = ui_wait("A", "No password");
	cr_expect_not_null(strstr(s, "only as safe as this disk"), "%s", s);
	free(s);
	ui_first_run_name("A", "Nopw");
	ui_check_config(dir);
	free(ui_wait("A", "/1 embedded"));
}

Test(tmux_ui, first_run_passwords_that_differ_are_refused)
{
	const char *dir;
	int status = -1, alive;
	uint64_t deadline;
	struct timespec ts = {0, 50 * 1000 * 1000};
	char *err;

	ui_start(0);
	dir = ui_dir("fresh");
	ui_first_run_start("A", dir);
	ui_line("A", "one password");
	free(ui_wait("A", "Repeat it:"));
	ui_line("A", "another one");
	deadline = clock_mono_ms() + TMUXFIX_WAIT_MS;
	while ((alive = tmuxfix_alive(tf, "A", &status)) == 1 &&
	    clock_mono_ms() < deadline)
		nanosleep(&ts, NULL);
	cr_assert_eq(alive, 0, "noid went on after two different passwords");
	cr_expect_neq(status, 0);
	err = tmuxfix_stderr(tf, "A");
	cr_expect_not_null(strstr(err, "differ"), "stderr: %s", err);
	free(err);
	cr_expect(!exists(dir), "a data dir was made without a password");
}

/* ---- help ----------------------------------------------------------- */

/* Every "/name" of the command table that is not yet in seen and is
 * on screen: mark it. */
static void
ui_help_mark(const char *screen, int *seen)
{
	char word[64];
	size_t i, n;
	const char *p;

	for (i = 0; i < cmd_count(); i++) {
		snprintf(word, sizeof word, "/%s", cmd_get(i)->name);
		n = strlen(word);
		for (p = screen; (p = strstr(p, word)) != NULL; p += n)
			if (p[n] < 'a' || p[n] > 'z')
				seen[i] = 1;
	}
}

/* The commands of the table missing from seen, as text (caller frees),
 * NULL when none. */
static char *
ui_help_missing(const int *seen)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < cmd_count(); i++)
		if (!seen[i]) {
			buf_put(&b, " /", 2);
			buf_put(&b, cmd_get(i)->name, strlen(cmd_get(i)->name));
		}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	buf_put_u8(&b, 0);
	return (char *)b.data;
}

/* Open help with keys (F1) or "/help"; page down through it; the
 * commands never shown (caller frees) or NULL. */
static char *
ui_help_read(const char *session, int by_key, const char *page_key)
{
	int *seen = xcalloc(cmd_count(), sizeof *seen);
	char *s, *missing;
	int i;

	if (by_key)
		cr_assert_eq(tmuxfix_keys(tf, session, "F1", NULL), 0);
	else
		ui_line(session, "/help");
	s = ui_wait(session, "/invite");
	ui_help_mark(s, seen);
	free(s);
	for (i = 0; i < 12 && (missing = ui_help_missing(seen)) != NULL; i++) {
		free(missing);
		cr_assert_eq(tmuxfix_keys(tf, session, page_key, NULL), 0);
		/* No way to know the redraw happened: the next capture
		 * may be the same page, so allow more rounds than pages. */
		s = tmuxfix_capture(tf, session, 0);
		cr_assert_not_null(s);
		ui_help_mark(s, seen);
		free(s);
	}
	missing = ui_help_missing(seen);
	cr_assert_eq(tmuxfix_keys(tf, session, "Escape", NULL), 0);
	free(seen);
	return missing;
}

Test(tmux_ui, help_lists_every_slash_command_of_the_table)
{
	const char *dir;
	char *missing;

	ui_start(1);
	dir = ui_user("a", "Alice");
	cr_assert_gt(cmd_count(), 10);
	/* Tall enough for the whole list: F1. */
	cr_assert_eq(tmuxfix_tui(tf, "A", dir, 120, 80), 0);
	missing = ui_help_read("A", 1, "PageDown");
	cr_expect_null(missing, "F1 help lacks:%s", missing);
	free(missing);
	/* /help, on a screen where it needs paging (PageDown). */
	cr_assert_eq(tmuxfix_resize(tf, "A", 80, 24), 0);
	missing = ui_help_read("A", 0, "PageDown");
	cr_expect_null(missing,
	    "/help paged with PageDown at 80x24 never shows:%s", missing);
	free(missing);
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
}

/* ---- notifications, unread counts ---------------------------------- */

/* Run a tmux command (words NULL-terminated) on the fixture's server:
 * its socket and config are in its dir (see tmuxfix.c); must succeed;
 * stdout (caller frees). */
static char *
ui_tmux(const char *first, ...)
{
	const char *argv[16];
	char *sock, *conf, *out;
	struct tmuxfix_result r;
	size_t n = 0;
	va_list ap;

	xasprintf(&sock, "%s/tmux.sock", tmuxfix_dir(tf));
	xasprintf(&conf, "%s/tmux.conf", tmuxfix_dir(tf));
	argv[n++] = "tmux";
	argv[n++] = "-S";
	argv[n++] = sock;
	argv[n++] = "-f";
	argv[n++] = conf;
	argv[n++] = first;
	va_start(ap, first);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(tmuxfix_run(argv, NULL, 0, TMUXFIX_WAIT_MS, &r), 0);
	cr_assert_eq(r.code, 0, "tmux %s: %s", first, r.err);
	out = r.out;
	r.out = NULL;
	tmuxfix_result_free(&r);
	free(sock);
	free(conf);
	return out;
}

/* What session's process has written to its terminal so far (raw,
 * pipe-pane into <dir>/<session>.raw); *len set. */
static char *
ui_raw(const char *session, size_t *len)
{
	char *path;
	uint8_t *data = NULL;

	xasprintf(&path, "%s/%s.raw", tmuxfix_dir(tf), session);
	if (file_read_all(path, 64 << 20, &data, len) != 0) {
		data = NULL;
		*len = 0;
	}
	free(path);
	data = xrealloc(data, *len + 1);
	data[*len] = 0;
	return (char *)data;
}

/* Wait until the raw output after off holds needle; the raw text. */
static char *
ui_raw_wait(const char *session, size_t off, const char *needle, size_t *len)
{
	uint64_t deadline = clock_mono_ms() + TMUXFIX_WAIT_MS;
	struct timespec ts = {0, 50 * 1000 * 1000};
	char *raw;

	for (;;) {
		raw = ui_raw(session, len);
		if (*len >= off &&
		    memmem(raw + off, *len - off, needle, strlen(needle)) !=
		        NULL)
			return raw;
		free(raw);
		cr_assert_lt(clock_mono_ms(), deadline,
		    "%s never wrote '%s' to its terminal", session, needle);
		nanosleep(&ts, NULL);
	}
}

/* BEL characters in raw[off, len) that do not end an OSC sequence. */
static int
ui_bells(const char *raw, size_t off, size_t len)
{
	int in_osc = 0, n = 0;
	size_t i;

	for (i = off; i < len; i++) {
		if (raw[i] == '\033' && i + 1 < len && raw[i + 1] == ']') {
			in_osc = 1;
			i++;
		} else if (raw[i] == '\007') {
			if (!in_osc)
				n++;
			in_osc = 0;
		} else if (raw[i] == '\033' && in_osc && i + 1 < len &&
		    raw[i + 1] == '\\')
			in_osc = 0;
	}
	return n;
}

/* Whether raw[off, len) holds s. */
static int
ui_raw_has(const char *raw, size_t off, size_t len, const char *s)
{
	return len > off && memmem(raw + off, len - off, s, strlen(s)) != NULL;
}

/* Wait until the status bar shows the conversation with name open. */
static void
ui_wait_open(const char *session, const char *name)
{
	char needle[64], *s;

	snprintf(needle, sizeof needle, "→ %s ", name);
	s = ui_wait(session, needle);
	free(s);
}

Test(tmux_ui, bell_and_osc_for_another_conversation_not_after_mute)
{
	const char *a, *b, *c;
	char *raw, *flag, *pipe_cmd, *s;
	size_t len, off;

	ui_start(1);
	a = ui_user("a", "Alice");
	b = ui_user("b", "Bob");
	c = ui_user("c", "Carol");
	ui_connect(a, NULL, b, "Bob");
	ui_connect(a, NULL, c, "Carol");
	cr_assert_eq(tmuxfix_tui(tf, "A", a, 100, 30), 0);
	free(ui_tmux(
	    "set-option", "-w", "-t", "=A:", "monitor-bell", "on", NULL));
	xasprintf(&pipe_cmd, "cat >> '%s/A.raw'", tmuxfix_dir(tf));
	free(ui_tmux("pipe-pane", "-o", "-t", "=A:", pipe_cmd, NULL));
	free(pipe_cmd);

	/* Open Carol's conversation (the list is Bob, Carol). */
	free(ui_wait("A", "Carol"));
	cr_assert_eq(tmuxfix_keys(tf, "A", "M-2", NULL), 0);
	ui_wait_open("A", "Carol");
	flag = ui_tmux(
	    "display-message", "-p", "-t", "=A:", "#{window_bell_flag}", NULL);
	cr_assert_str_eq(flag, "0\n", "a bell before any message");
	free(flag);

	/* Bob writes: not the open conversation, so bell and OSC. */
	raw = ui_raw("A", &off);
	free(raw);
	free(ui_cli(b, "send", "Alice", "first ping from bob", NULL));
	s = ui_wait("A", "Bob (1)");
	free(s);
	raw = ui_raw_wait("A", off, "message from Bob", &len);
	cr_expect_gt(ui_bells(raw, off, len), 0, "no BEL for Bob's message");
	cr_expect(
	    ui_raw_has(raw, off, len, "\033]9;noid: message from Bob\007"),
	    "no OSC 9 notification");
	cr_expect(ui_raw_has(raw, off, len,
	              "\033]777;notify;noid;message from Bob\007"),
	    "no OSC 777 notification");
	free(raw);
	flag = ui_tmux(
	    "display-message", "-p", "-t", "=A:", "#{window_bell_flag}", NULL);
	cr_expect_str_eq(flag, "1\n", "tmux did not flag the window's bell");
	free(flag);

	/* Carol writes in the open conversation: shown, no bell. */
	raw = ui_raw("A", &off);
	free(raw);
	free(ui_cli(c, "send", "Alice", "carol in the open chat", NULL));
	free(ui_wait("A", "carol in the open chat"));
	raw = ui_raw_wait("A", off, "open chat", &len);
	cr_expect_eq(ui_bells(raw, off, len), 0,
	    "a bell for the conversation that is open");
	cr_expect(!ui_raw_has(raw, off, len, "message from Carol"),
	    "an OSC notification for the open conversation");
	free(raw);

	/* Open Bob's: its unread count goes; mute it; back to Carol. */
	cr_assert_eq(tmuxfix_keys(tf, "A", "M-1", NULL), 0);
	ui_wait_open("A", "Bob");
	s = tmuxfix_wait(tf, "A", "first ping from bob", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s);
	free(s);
	ui_line("A", "/mute");
	s = ui_wait("A", "Bob ∅");
	free(s);
	s = tmuxfix_capture(tf, "A", 0);
	cr_expect_null(strstr(s, "Bob (1)"),
	    "Bob's unread count stays after reading:\n%s", s);
	free(s);
	cr_assert_eq(tmuxfix_keys(tf, "A", "M-2", NULL), 0);
	ui_wait_open("A", "Carol");

	/* Bob writes again: counted, but muted, so silent. */
	raw = ui_raw("A", &off);
	free(raw);
	free(ui_cli(b, "send", "Alice", "second ping muted", NULL));
	free(ui_wait("A", "Bob (1) ∅ second ping"));
	raw = ui_raw_wait("A", off, "second ping", &len);
	cr_expect_eq(ui_bells(raw, off, len), 0, "a bell after /mute");
	cr_expect(!ui_raw_has(raw, off, len, "message from Bob"),
	    "an OSC notification after /mute");
	free(raw);
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
}

/* ---- profiles --------------------------------------------------------- */

/* Whether name is on the screen above the status bar (the list and
 * the chat; the status bar's note may name anyone). */
static int
ui_list_has(const char *screen, const char *name)
{
	int rows = tmuxfix_rows(screen), y, found = 0;
	char *row;

	for (y = 0; y < rows - 2 && !found; y++) {
		row = tmuxfix_row(screen, y);
		found = row != NULL && strstr(row, name) != NULL;
		free(row);
	}
	return found;
}

Test(tmux_ui, profiles_switch_show_their_own_conversations_and_other_unread)
{
	const char *a, *b, *c;
	char *s, *st, *out;

	ui_start(1);
	a = ui_user("a", "Alice");
	b = ui_user("b", "Bob");
	c = ui_user("c", "Carol");
	/* Alice's first profile knows Bob; her second, "Home", Carol. */
	ui_connect(a, NULL, b, "Bob");
	free(ui_cli(a, "profiles", "add", "Home", NULL));
	free(ui_cli(a, "--profile", "Home", "relays", "add",
	    testrelay_address(relay), NULL));
	ui_connect(a, "Home", c, "Carol");
	out = ui_cli(c, "contacts", NULL);
	cr_assert_not_null(strstr(out, "Home"), "%s", out);
	free(out);

	cr_assert_eq(tmuxfix_tui(tf, "A", a, 100, 30), 0);
	ui_line("A", "/profile Alice");
	s = ui_wait("A", "Bob");
	st = tmuxfix_row(s, -2);
	cr_assert_not_null(strstr(st, "Alice"), "status: %s", st);
	cr_expect(!ui_list_has(s, "Carol"),
	    "profile Alice shows Home's contact:\n%s", s);
	free(st);
	free(s);

	/* Carol writes to Home while Alice's profile is on screen. */
	free(ui_cli(c, "send", "Home", "for the home profile", NULL));
	s = tmuxfix_wait(tf, "A", "unread in other profiles", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s,
	    "a message arrived in profile Home, but Alice's screen shows "
	    "no 'unread in other profiles'");
	free(s);

	/* Home: only Carol, her message there (opened, so read); no
	 * mark, as Alice's profile has nothing unread. */
	ui_line("A", "/profile Home");
	s = ui_wait("A", "for the home profile");
	st = tmuxfix_row(s, -2);
	cr_expect_not_null(strstr(st, "Home"), "status: %s", st);
	cr_expect_null(strstr(st, "unread in other profiles"),
	    "Alice has nothing unread, yet: %s", st);
	cr_expect(!ui_list_has(s, "Bob"),
	    "profile Home shows Alice's contact:\n%s", s);
	free(st);
	free(s);

	/* Bob writes to Alice's profile while Home is on screen: the
	 * mark; back on Alice, Bob's message and no Carol. */
	free(ui_cli(b, "send", "Alice", "for the first profile", NULL));
	s = tmuxfix_wait(tf, "A", "unread in other profiles", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s,
	    "a message arrived in profile Alice, but Home's screen shows "
	    "no 'unread in other profiles'");
	free(s);
	ui_line("A", "/profile Alice");
	s = ui_wait("A", "for the first profile");
	cr_expect(!ui_list_has(s, "Carol"), "%s", s);
	free(s);
	ui_line("A", "/profile Nobody");
	free(ui_wait("A", "no profile named 'Nobody'"));
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
}

/* ---- too small ----------------------------------------------------------- */

/* Whether the screen says it is too small (words may wrap). */
static int
ui_says_too_small(const char *screen, void *arg)
{
	char *flat = xstrdup(screen), *w = flat;
	const char *p;
	int yes;

	(void)arg;
	for (p = screen; *p; p++)
		if (*p != ' ' && *p != '\n')
			*w++ = *p;
	*w = '\0';
	yes = strstr(flat, "toosmall") != NULL;
	free(flat);
	return yes;
}

Test(tmux_ui, too_small_at_10x4_and_recovers_when_enlarged)
{
	const char *a;
	char *s;

	ui_start(1);
	a = ui_user("a", "Alice");
	cr_assert_eq(tmuxfix_tui(tf, "A", a, 80, 24), 0);
	cr_assert_eq(tmuxfix_resize(tf, "A", 10, 4), 0);
	s = tmuxfix_wait_for(tf, "A", ui_says_too_small, NULL,
	    "too small (at 10x4)", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "10x4 does not say the terminal is too small");
	free(s);
	cr_assert_eq(tmuxfix_alive(tf, "A", NULL), 1, "noid died at 10x4");
	/* Typing while too small does not break anything. */
	cr_assert_eq(tmuxfix_type(tf, "A", "typed small"), 0);
	cr_assert_eq(tmuxfix_resize(tf, "A", 80, 24), 0);
	s = ui_wait("A", "F1 help");
	cr_expect(!ui_says_too_small(s, NULL),
	    "the too-small text stays after enlarging:\n%s", s);
	cr_expect_not_null(strstr(s, "typed small"),
	    "what was typed while small is lost:\n%s", s);
	cr_expect_eq(tmuxfix_rows(s), 24);
	free(s);
	/* Still works: a command runs. */
	ui_line("A", "/help");
	free(ui_wait("A", "/invite"));
	cr_expect_eq(tmuxfix_alive(tf, "A", NULL), 1);
}
