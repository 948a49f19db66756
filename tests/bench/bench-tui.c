/*
 * bench-tui: the client's screen budgets (issue 5, DESIGN §10).
 *
 * Setup: two users on a real noid-relay, connected through their TUIs
 * in tmux (tmuxfix), then 100,000 messages written into A's store.
 * Then A's TUI runs on a pty of our own (forkpty, 100x30), so timing
 * is read straight from the bytes it writes:
 *
 *  - first paint: from fork to the newest message's text in the output,
 *    median of 5 starts; beside it the store's own open + first page
 *    (store_open, profiles, contacts, 100 newest messages) in this same
 *    process.  Both use the fast test KDF (NOID_TEST_FAST_KDF=1), so the
 *    password step is ~1 ms of either figure; the store's KDF-only time
 *    (store_open alone) is shown too.
 *  - key press to screen update while B sends a message every 50 ms:
 *    write one character to the pty, time until it is echoed; it is then
 *    erased so the input line stays short.  Median, p99, max of 200.
 *  - idle CPU of the TUI (utime + stime from /proc/PID/stat) over
 *    NOID_BENCH_IDLE_SECONDS (default 60) with nothing happening.
 *
 * Targets: first paint <= 100 ms, idle CPU <= 0.1 %.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "store.h"
#include "testrelay.h"
#include "tmuxfix.h"

#define HISTORY 100000
#define STARTS 5
#define KEYS 200
#define PAINT_TARGET_MS 100.0
#define IDLE_TARGET_PCT 0.1

static struct tmuxfix *tf;
static struct testrelay *relay;
static char *dir_a, *dir_b;

/* Microseconds on the monotonic clock. */
static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values. */
static double
quantile(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static void
die(const char *what)
{
	fprintf(stderr, "bench-tui: %s\n", what);
	tmuxfix_free(tf);
	testrelay_free(relay);
	exit(1);
}

/* A TUI on a pty of ours. */
struct tui {
	pid_t pid;
	int fd;
	struct buf out; /* everything it wrote since the last reset */
};

static void
tui_start(struct tui *t)
{
	struct winsize ws = {.ws_row = 30, .ws_col = 100};

	buf_init(&t->out);
	fflush(NULL);
	t->pid = forkpty(&t->fd, NULL, NULL, &ws);
	if (t->pid < 0)
		die("forkpty failed");
	if (t->pid == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		execl(TMUXFIX_NOID, "noid", "--data-dir", dir_a, (char *)NULL);
		_exit(127);
	}
}

/* Read what the TUI wrote for up to ms; 1 when needle (if any) shows in
 * what was read since the last reset. */
static int
tui_read(struct tui *t, const char *needle, int ms)
{
	double end = now_us() + ms * 1e3, left;
	struct pollfd pf = {.fd = t->fd, .events = POLLIN};
	ssize_t n;

	for (;;) {
		if (needle != NULL &&
		    memmem(t->out.data, t->out.len, needle, strlen(needle)))
			return 1;
		left = end - now_us();
		if (left <= 0)
			return 0;
		if (poll(&pf, 1, (int)(left / 1e3) + 1) <= 0)
			continue;
		n = read(t->fd, buf_append_space(&t->out, 4096), 4096);
		t->out.len -= 4096 - (n > 0 ? (size_t)n : 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return 0; /* EIO: the TUI is gone */
	}
}

static void
tui_stop(struct tui *t)
{
	double end = now_us() + TMUXFIX_WAIT_MS * 1e3;
	int st;

	kill(t->pid, SIGTERM);
	while (waitpid(t->pid, &st, WNOHANG) == 0) {
		if (now_us() > end) {
			fprintf(stderr, "bench-tui: noid ignored SIGTERM\n");
			kill(t->pid, SIGKILL);
		}
		tui_read(t, NULL, 50);
	}
	close(t->fd);
	buf_free(&t->out);
}

/* utime + stime of pid in seconds. */
static double
cpu_seconds(pid_t pid)
{
	char path[64], *p;
	uint8_t *text = NULL;
	size_t len;
	unsigned long ut = 0, stime = 0;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (file_read_all(path, 4096, &text, &len) != 0)
		die("can't read /proc/PID/stat");
	text = xrealloc(text, len + 1);
	text[len] = 0;
	p = strrchr((char *)text, ')');
	/* After ") ": state is field 3; utime, stime are fields 14, 15. */
	if (p == NULL ||
	    sscanf(p + 2,
	        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	        "%lu %lu",
	        &ut, &stime) != 2)
		die("can't parse /proc/PID/stat");
	free(text);
	return (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* The store's own first screen: open, profile, contact, 100 newest. */
static void
store_first_page(double *open_ms, double *all_ms)
{
	struct store *st = NULL;
	struct store_profile *p = NULL;
	struct store_contact *c = NULL;
	struct store_msg *m = NULL;
	size_t np = 0, nc = 0, nm = 0;
	double t0 = now_us(), t1;

	if (store_open(dir_a, TMUXFIX_PASSWORD, STORE_FAST_KDF, &st) != 0)
		die("store_open failed");
	t1 = now_us();
	if (store_profiles_list(st, &p, &np) != 0 || np < 1 ||
	    store_contacts_list(st, p[0].id, &c, &nc) != 0 || nc < 1 ||
	    store_msgs_page(st, p[0].id, c[0].id, NULL, 100, &m, &nm) != 0 ||
	    nm != 100)
		die("the store's first page failed");
	*all_ms = (now_us() - t0) / 1e3;
	*open_ms = (t1 - t0) / 1e3;
	store_msgs_free(m, nm);
	store_contacts_free(c, nc);
	store_profiles_free(p, np);
	store_close(st);
}

/* B sends "tick N" every 50 ms until the pipe closes. */
static pid_t
sender_start(int *stop)
{
	struct timespec ts = {0, 50 * 1000000L};
	struct tmuxfix_result r;
	struct pollfd pf;
	char text[32];
	int pfd[2], i;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		die("pipe");
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(pfd[1]);
		pf.fd = pfd[0];
		pf.events = POLLIN;
		for (i = 0; poll(&pf, 1, 0) == 0; i++) {
			snprintf(text, sizeof text, "tick %d", i);
			if (tmuxfix_noid(
			        &r, dir_b, "send", "Alice", text, NULL) == 0)
				tmuxfix_result_free(&r);
			nanosleep(&ts, NULL);
		}
		_exit(0);
	}
	close(pfd[0]);
	*stop = pfd[1];
	return pid;
}

int
main(void)
{
	static const char keys[] = "#%^&+";
	double paint[STARTS], sopen[STARTS], sall[STARTS], lat[KEYS];
	double t0, c0, c1, secs, pct;
	const char *env = getenv("NOID_BENCH_IDLE_SECONDS");
	int idle = env != NULL ? atoi(env) : 60, stop, st, i, misses = 0;
	struct tui t;
	char k[2] = {0, 0};
	pid_t sender;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tmuxfix_env();
	process_no_core();
	if ((relay = testrelay_start(NULL)) == NULL ||
	    (tf = tmuxfix_start()) == NULL)
		die("no relay or no tmux");
	xasprintf(&dir_a, "%s/a", tmuxfix_dir(tf));
	xasprintf(&dir_b, "%s/b", tmuxfix_dir(tf));
	if (tmuxfix_user(dir_a, "Alice", testrelay_address(relay)) != 0 ||
	    tmuxfix_user(dir_b, "Bob", testrelay_address(relay)) != 0 ||
	    tmuxfix_tui(tf, "A", dir_a, 100, 30) != 0 ||
	    tmuxfix_tui(tf, "B", dir_b, 100, 30) != 0 ||
	    tmuxfix_connect(tf, "A", dir_a, "B", NULL) != 0 ||
	    tmuxfix_quit(tf, "A") != 0)
		die("setup: two connected users failed");
	t0 = now_us();
	if (tmuxfix_history(dir_a, HISTORY) != 0)
		die("setup: the history failed");
	printf("tui: %d-message history written in %.1f s; fast test KDF "
	       "(NOID_TEST_FAST_KDF=1) in every figure\n",
	    HISTORY, (now_us() - t0) / 1e6);

	/* First paint, beside the store's own first page. */
	for (i = 0; i < STARTS; i++) {
		store_first_page(&sopen[i], &sall[i]);
		t0 = now_us();
		tui_start(&t);
		if (!tui_read(&t, TMUXFIX_HIST_LAST, TMUXFIX_WAIT_MS))
			die("the TUI never painted the newest message");
		paint[i] = (now_us() - t0) / 1e3;
		if (i < STARTS - 1)
			tui_stop(&t);
	}
	qsort(paint, STARTS, sizeof *paint, cmp_double);
	qsort(sopen, STARTS, sizeof *sopen, cmp_double);
	qsort(sall, STARTS, sizeof *sall, cmp_double);
	printf("  %-44s %8.1f ms   target <= %.0f ms  %s\n",
	    "first paint, 100k history (median of 5)", paint[STARTS / 2],
	    PAINT_TARGET_MS,
	    paint[STARTS / 2] <= PAINT_TARGET_MS ? "ok" : "OVER");
	printf("  %-44s %8.1f ms   (store_open alone %.1f ms)\n",
	    "  store's own open + first 100 messages", sall[STARTS / 2],
	    sopen[STARTS / 2]);

	/* Key press to screen update while messages arrive. */
	tui_read(&t, NULL, 500);
	sender = sender_start(&stop);
	tui_read(&t, NULL, 500);
	for (i = 0; i < KEYS; i++) {
		k[0] = keys[i % (sizeof keys - 1)];
		buf_reset(&t.out);
		t0 = now_us();
		if (write(t.fd, k, 1) != 1)
			die("write to the pty failed");
		if (!tui_read(&t, k, 5000)) {
			misses++;
			lat[i] = 5000 * 1e3;
		} else
			lat[i] = now_us() - t0;
		if (write(t.fd, "\x7f", 1) != 1)
			die("write to the pty failed");
		tui_read(&t, NULL, 20);
	}
	close(stop);
	while (waitpid(sender, &st, 0) < 0 && errno == EINTR)
		;
	qsort(lat, KEYS, sizeof *lat, cmp_double);
	printf("  %-44s %8.2f ms   p99 %.2f ms, max %.2f ms%s\n",
	    "key press -> echo, messages arriving (median)",
	    quantile(lat, KEYS, 0.5) / 1e3, quantile(lat, KEYS, 0.99) / 1e3,
	    lat[KEYS - 1] / 1e3, misses ? " (some keys never echoed!)" : "");

	/* Idle CPU. */
	tui_read(&t, NULL, 2000);
	c0 = cpu_seconds(t.pid);
	t0 = now_us();
	tui_read(&t, NULL, idle * 1000);
	c1 = cpu_seconds(t.pid);
	secs = (now_us() - t0) / 1e6;
	pct = 100.0 * (c1 - c0) / secs;
	printf("  %-44s %8.3f %%    target <= %.1f %%  %s  (%.0f ms CPU in "
	       "%.0f s; tick %ld ms)\n",
	    "idle CPU", pct, IDLE_TARGET_PCT,
	    pct <= IDLE_TARGET_PCT ? "ok" : "OVER", (c1 - c0) * 1e3, secs,
	    1000 / sysconf(_SC_CLK_TCK));
	tui_stop(&t);
	tmuxfix_free(tf);
	testrelay_free(relay);
	free(dir_a);
	free(dir_b);
	return 0;
}
