/*
 * Resize torture (issue 5, DESIGN §8): the TUI goes through 200 random
 * sizes from 10x4 to 300x100 as fast as tmux can resize it, while its
 * contact sends a message every few tens of milliseconds from the CLI
 * (through the contact's own running TUI, over its control socket).
 * Then, settled at 100x30, the screen must be consistent:
 *
 *  - the same process is alive (no crash, no restart);
 *  - the capture is exactly 30 rows; the status bar (profile name and
 *    "F1 help") is the second last row, the input line the last, still
 *    holding what was typed before the torture;
 *  - a message sent after the torture shows above the status bar,
 *    exactly once, and the newest tick is on screen;
 *  - the list/chat separator stands in one column on every pane row;
 *  - a full repaint (Ctrl-L) changes nothing: what the terminal shows
 *    is what the program thinks it shows (no stray garbage);
 *  - below the minimum size the screen says it is too small.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "base.h"
#include "testrelay.h"
#include "tmuxfix.h"

#define SIZES 200
#define TYPED "typed-before-resizing"

static struct tmuxfix *tf;
static struct testrelay *relay;
static char *dir_a, *dir_b;
static pid_t sender;
static int sender_stop = -1;

static void
setup(void)
{
	tmuxfix_env();
	setlocale(LC_ALL, "C.UTF-8");
	relay = testrelay_start(NULL);
	cr_assert_not_null(relay, "noid-relay did not start");
	tf = tmuxfix_start();
	cr_assert_not_null(tf, "no tmux server");
	xasprintf(&dir_a, "%s/a", tmuxfix_dir(tf));
	xasprintf(&dir_b, "%s/b", tmuxfix_dir(tf));
	cr_assert_eq(tmuxfix_user(dir_a, "Alice", testrelay_address(relay)), 0);
	cr_assert_eq(tmuxfix_user(dir_b, "Bob", testrelay_address(relay)), 0);
}

/* Ask the sender to stop and wait for it: how many it sent, or -1
 * when a send failed. */
static int
sender_end(void)
{
	uint8_t *text = NULL;
	size_t len;
	char *path;
	int st = 0, n = -1;

	if (sender <= 0)
		return -1;
	close(sender_stop);
	sender_stop = -1;
	while (waitpid(sender, &st, 0) < 0)
		;
	sender = 0;
	xasprintf(&path, "%s/sent", tmuxfix_dir(tf));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    file_read_all(path, 64, &text, &len) == 0) {
		text = xrealloc(text, len + 1);
		text[len] = 0;
		n = atoi((char *)text);
	}
	free(text);
	free(path);
	return n;
}

static void
teardown(void)
{
	sender_end();
	tmuxfix_free(tf);
	testrelay_free(relay);
	free(dir_a);
	free(dir_b);
}

TestSuite(tmux_resize, .init = setup, .fini = teardown, .timeout = 300);

/*
 * Fork a process that sends "tick N" from B to A until its pipe closes,
 * then writes how many it sent to <dir>/sent; exit 1 if a send failed.
 */
static void
sender_start(void)
{
	struct timespec ts = {0, 30 * 1000000L};
	struct tmuxfix_result r;
	struct pollfd pf;
	char text[32], *path;
	int pfd[2], i;

	cr_assert_eq(pipe2(pfd, O_CLOEXEC), 0);
	fflush(NULL);
	sender = fork();
	cr_assert_geq(sender, 0);
	if (sender == 0) {
		close(pfd[1]);
		pf.fd = pfd[0];
		pf.events = POLLIN;
		for (i = 0; poll(&pf, 1, 0) == 0; i++) {
			snprintf(text, sizeof text, "tick %d", i);
			if (tmuxfix_noid(
			        &r, dir_b, "send", "Alice", text, NULL) != 0 ||
			    r.code != 0) {
				fprintf(stderr, "send failed: %s\n",
				    r.err ? r.err : "");
				_exit(1);
			}
			tmuxfix_result_free(&r);
			nanosleep(&ts, NULL);
		}
		snprintf(text, sizeof text, "%d", i);
		xasprintf(&path, "%s/sent", tmuxfix_dir(tf));
		_exit(file_write_atomic(path, text, strlen(text), 0600) != 0);
	}
	close(pfd[0]);
	sender_stop = pfd[1];
}

/* The display column where the first of chars starts on row, or -1. */
static int
column_of(const char *row, const char *const *chars)
{
	mbstate_t mb;
	size_t off = 0, len = strlen(row), n, k;
	wchar_t wc;
	int col = 0, w;

	memset(&mb, 0, sizeof mb);
	while (off < len) {
		for (k = 0; chars[k] != NULL; k++)
			if (strncmp(row + off, chars[k], strlen(chars[k])) == 0)
				return col;
		n = mbrtowc(&wc, row + off, len - off, &mb);
		if (n == 0 || n > len - off)
			return -1;
		w = wcwidth(wc);
		col += w > 0 ? w : 0;
		off += n;
	}
	return -1;
}

/* Occurrences of needle in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)) != NULL; s += strlen(needle))
		n++;
	return n;
}

/* The screen once it stopped changing for a second (caller frees). */
static char *
settle(const char *session)
{
	struct timespec ts = {0, 100 * 1000000L};
	uint64_t deadline = clock_mono_ms() + TMUXFIX_WAIT_MS;
	char *s = NULL, *prev = NULL;
	int same = 0;

	while (same < 10 && clock_mono_ms() < deadline) {
		nanosleep(&ts, NULL);
		s = tmuxfix_capture(tf, session, 0);
		cr_assert_not_null(s);
		same = prev != NULL && strcmp(s, prev) == 0 ? same + 1 : 0;
		free(prev);
		prev = s;
	}
	fprintf(stderr, "settled screen:\n%s----\n", prev);
	return prev;
}

/* The screen holds the final message and the tick last sent. */
struct settled {
	char last[32];
};

static int
is_settled(const char *screen, void *arg)
{
	const struct settled *w = arg;

	return strstr(screen, "FINAL-MARK") != NULL &&
	    strstr(screen, w->last) != NULL;
}

Test(tmux_resize, two_hundred_random_sizes_while_messages_arrive)
{
	static const char *const sep[] = {"│", "x", NULL};
	struct tmuxfix_result r;
	struct timespec ts = {0, 100 * 1000000L};
	struct settled w;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	char *s, *s2, *row;
	int i, cols, rows, sent, alive, status = 0, sep_col, same;
	pid_t pid;

	cr_assert_eq(tmuxfix_tui(tf, "A", dir_a, 100, 30), 0);
	cr_assert_eq(tmuxfix_tui(tf, "B", dir_b, 100, 30), 0);
	cr_assert_eq(tmuxfix_connect(tf, "A", dir_a, "B", NULL), 0);
	pid = tmuxfix_pid(tf, "A");
	cr_assert_gt(pid, 0);
	cr_assert_eq(tmuxfix_type(tf, "A", TYPED), 0);
	s = tmuxfix_wait(tf, "A", TYPED, TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	free(s);

	/* Too small says so (and does not crash). */
	cr_assert_eq(tmuxfix_resize(tf, "A", 19, 4), 0);
	s = tmuxfix_wait(tf, "A", "too small", TMUXFIX_WAIT_MS);
	cr_expect_not_null(s, "no 'too small' screen at 19x4");
	free(s);

	sender_start();
	fprintf(stderr, "resize seed %u\n", seed);
	srand(seed);
	for (i = 0; i < SIZES; i++) {
		cols = 10 + rand() % (300 - 10 + 1);
		rows = 4 + rand() % (100 - 4 + 1);
		cr_assert_eq(tmuxfix_resize(tf, "A", cols, rows), 0,
		    "resize %d to %dx%d failed", i, cols, rows);
		if (i % 20 == 19) {
			alive = tmuxfix_alive(tf, "A", &status);
			cr_assert_eq(alive, 1,
			    "noid died at %dx%d (size %d, status %d): %s", cols,
			    rows, i, status, tmuxfix_stderr(tf, "A"));
		}
	}
	cr_assert_eq(tmuxfix_resize(tf, "A", 100, 30), 0);
	sent = sender_end();
	cr_assert_gt(sent, 0, "the sender failed or sent nothing");
	cr_assert_eq(
	    tmuxfix_noid(&r, dir_b, "send", "Alice", "FINAL-MARK", NULL), 0);
	cr_assert_eq(r.code, 0, "%s", r.err);
	tmuxfix_result_free(&r);

	/* The newest tick (sent - 1 when fewer than 254) and the mark. */
	snprintf(w.last, sizeof w.last, "tick %d", sent - 1);
	s = tmuxfix_wait_for(tf, "A", is_settled, &w,
	    "FINAL-MARK and the last tick", TMUXFIX_WAIT_MS);
	cr_assert_not_null(s);
	free(s);
	s = settle("A");
	cr_assert_eq(tmuxfix_alive(tf, "A", NULL), 1);
	cr_expect_eq(tmuxfix_pid(tf, "A"), pid, "noid was restarted");

	cr_expect_eq(tmuxfix_rows(s), 30, "the screen is not 30 rows:\n%s", s);
	row = tmuxfix_row(s, -2);
	cr_expect(row != NULL && strstr(row, "Alice") != NULL &&
	        strstr(row, "F1 help") != NULL,
	    "no status bar on the second last row:\n%s", s);
	free(row);
	row = tmuxfix_row(s, -1);
	cr_expect(row != NULL && strcmp(row, TYPED) == 0,
	    "the input line lost '" TYPED "': '%s'", row ? row : "");
	free(row);
	cr_expect_eq(count(s, "FINAL-MARK"), 1, "FINAL-MARK not once:\n%s", s);
	cr_expect_null(strstr(s, "too small"));
	row = tmuxfix_row(s, 0);
	sep_col = column_of(row, sep);
	free(row);
	cr_expect_gt(sep_col, 0, "no list/chat separator:\n%s", s);
	for (i = 0; sep_col > 0 && i < 28; i++) {
		row = tmuxfix_row(s, i);
		cr_expect_eq(column_of(row, sep), sep_col,
		    "row %d: separator moved:\n%s", i, s);
		free(row);
	}

	/* A full repaint shows nothing new. */
	cr_assert_eq(tmuxfix_keys(tf, "A", "C-l", NULL), 0);
	for (i = 0, same = 1; same && i < 10; i++) {
		nanosleep(&ts, NULL);
		s2 = tmuxfix_capture(tf, "A", 0);
		cr_assert_not_null(s2);
		same = strcmp(s, s2) == 0;
		if (!same)
			cr_expect_str_eq(s2, s,
			    "Ctrl-L changed the screen from\n%s----\nto\n%s", s,
			    s2);
		free(s2);
	}
	free(s);
	s = tmuxfix_stderr(tf, "A");
	cr_expect_null(strstr(s, "runtime error"), "%s", s);
	cr_expect_null(strstr(s, "Sanitizer"), "%s", s);
	free(s);
}
