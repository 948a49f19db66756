/*
 * tmuxfix: a private tmux server for TUI tests, and a program runner.
 *
 * Every tmux command is a fresh `tmux -S SOCK -f CONF ...` process run
 * through tmuxfix_run(), so there is no client state to keep in sync.
 * Commands run in a pane through `sh -c 'exec env ... 2>>ERR'`, with
 * every word single-quoted.  The watchdog (see tmuxfix.h) is forked
 * before anything is started and only reads a pipe: it needs no state
 * of ours beyond the socket and dir paths.
 */
#include "tmuxfix.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "base.h"
#include "store.h"

#define TMUXFIX_CMD_MS 10000
/* How long tmux may take to reap a pane's process. */
#define TMUXFIX_REAP_MS 2000
#define TMUXFIX_POLL_MS 50
#define TMUXFIX_ARGS_MAX 64

struct tmuxfix {
	char dir[64];
	char sock[96];
	char conf[96];
	pid_t watchdog;
	int wd_fd; /* our end of the watchdog's pipe */
};

/* Remove one entry (nftw callback, depth first). */
static int
tmuxfix_rm_one(
    const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Kill the server quietly (the watchdog's job, also used on failure). */
static void
tmuxfix_kill_server(const char *sock, const char *conf)
{
	pid_t pid = fork();
	int st, fd;

	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("tmux", "tmux", "-S", sock, "-f", conf, "kill-server",
		    (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
}

/* Whether pid is gone (or a zombie nobody reaps yet). */
static int
tmuxfix_gone(pid_t pid)
{
	char path[64], *p;
	uint8_t *stat = NULL;
	size_t len;
	int gone;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (file_read_all(path, 4096, &stat, &len) != 0)
		return 1;
	stat = xrealloc(stat, len + 1);
	stat[len] = 0;
	p = strrchr((char *)stat, ')');
	gone = p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X';
	free(stat);
	return gone;
}

/* The watchdog: wait for the test to go away, then clean up: kill the
 * server, wait for the panes' processes (they may still write into the
 * dir as they exit), remove the dir. */
static void
tmuxfix_watchdog(struct tmuxfix *t, int fd)
{
	const char *argv[] = {"tmux", "-S", t->sock, "-f", t->conf,
	    "list-panes", "-a", "-F", "#{pane_pid}", NULL};
	struct timespec ts = {0, TMUXFIX_POLL_MS * 1000000L};
	pid_t pids[64];
	size_t n = 0, i;
	struct tmuxfix_result r;
	uint64_t deadline;
	char *p, *end;
	long v;
	int c;

	/* Hold nothing of the test's open but our pipe. */
	for (c = 3; c < 1024; c++)
		if (c != fd)
			close(c);
	/* Don't take the test's signals (Ctrl-C in a terminal) first. */
	setpgid(0, 0);
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	if (tmuxfix_run(argv, NULL, 0, TMUXFIX_CMD_MS, &r) == 0) {
		for (p = r.out; n < 64 && (v = strtol(p, &end, 10)) > 0;
		     p = end)
			pids[n++] = (pid_t)v;
		tmuxfix_result_free(&r);
	}
	tmuxfix_kill_server(t->sock, t->conf);
	deadline = clock_mono_ms() + TMUXFIX_CMD_MS;
	for (i = 0; i < n; i++) {
		while (!tmuxfix_gone(pids[i]) && clock_mono_ms() < deadline)
			nanosleep(&ts, NULL);
		if (!tmuxfix_gone(pids[i]))
			kill(pids[i], SIGKILL);
	}
	for (c = 0; c < 5; c++) {
		if (nftw(t->dir, tmuxfix_rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0)
			break;
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

struct tmuxfix *
tmuxfix_start(void)
{
	static const char conf[] = "set -g status off\n"
	                           "set -g remain-on-exit on\n"
	                           "set -g history-limit 100\n"
	                           "set -g escape-time 0\n"
	                           "set -g default-terminal xterm-256color\n";
	struct tmuxfix *t = xcalloc(1, sizeof *t);
	int pfd[2];

	snprintf(t->dir, sizeof t->dir, "/tmp/noid-tmux-XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		fprintf(stderr, "tmuxfix: mkdtemp: %s\n", strerror(errno));
		free(t);
		return NULL;
	}
	snprintf(t->sock, sizeof t->sock, "%s/tmux.sock", t->dir);
	snprintf(t->conf, sizeof t->conf, "%s/tmux.conf", t->dir);
	if (file_write_atomic(t->conf, conf, sizeof conf - 1, 0600) != 0 ||
	    pipe2(pfd, O_CLOEXEC) != 0) {
		fprintf(stderr, "tmuxfix: can't set up %s\n", t->dir);
		nftw(t->dir, tmuxfix_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(t);
		return NULL;
	}
	fflush(NULL);
	t->watchdog = fork();
	if (t->watchdog == 0) {
		close(pfd[1]);
		tmuxfix_watchdog(t, pfd[0]);
	}
	close(pfd[0]);
	t->wd_fd = pfd[1];
	if (t->watchdog < 0) {
		close(t->wd_fd);
		nftw(t->dir, tmuxfix_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(t);
		return NULL;
	}
	return t;
}

void
tmuxfix_free(struct tmuxfix *t)
{
	int st;

	if (t == NULL)
		return;
	close(t->wd_fd);
	while (waitpid(t->watchdog, &st, 0) < 0 && errno == EINTR)
		;
	free(t);
}

const char *
tmuxfix_dir(const struct tmuxfix *t)
{
	return t->dir;
}

/* Read what is ready on fd into b; 0 at EOF, 1 while open. */
static int
tmuxfix_drain(int fd, struct buf *b)
{
	ssize_t n = read(fd, buf_append_space(b, 4096), 4096);

	if (n < 0) {
		b->len -= 4096;
		return errno == EINTR || errno == EAGAIN;
	}
	b->len -= 4096 - (size_t)n;
	return n > 0;
}

int
tmuxfix_run(const char *const *argv, const char *in, size_t len, int ms,
    struct tmuxfix_result *r)
{
	int out[2], err[2], inp[2], st, open_n = 2;
	struct pollfd pf[3];
	struct buf bo, be;
	size_t off = 0;
	uint64_t deadline = clock_mono_ms() + (uint64_t)ms, now;
	pid_t pid;
	ssize_t n;

	memset(r, 0, sizeof *r);
	if (pipe2(out, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(err, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pipe2(inp, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == 0) {
		dup2(inp[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *)argv);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(inp[0]);
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		close(inp[1]);
		close(out[0]);
		close(err[0]);
		return -1;
	}
	fd_set_nonblock(inp[1]);
	if (in == NULL || len == 0) {
		close(inp[1]);
		inp[1] = -1;
	}
	buf_init(&bo);
	buf_init(&be);
	pf[0].fd = out[0];
	pf[1].fd = err[0];
	while (open_n > 0 || inp[1] >= 0) {
		pf[0].events = pf[1].events = POLLIN;
		pf[2].fd = inp[1];
		pf[2].events = POLLOUT;
		now = clock_mono_ms();
		if (now >= deadline)
			break;
		if (poll(pf, 3, (int)(deadline - now)) < 0 && errno != EINTR)
			break;
		if (pf[0].fd >= 0 && pf[0].revents &&
		    !tmuxfix_drain(out[0], &bo))
			pf[0].fd = -1, open_n--;
		if (pf[1].fd >= 0 && pf[1].revents &&
		    !tmuxfix_drain(err[0], &be))
			pf[1].fd = -1, open_n--;
		if (inp[1] >= 0 && pf[2].revents) {
			n = write(inp[1], in + off, len - off);
			if (n > 0)
				off += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
			    off == len) {
				close(inp[1]);
				inp[1] = -1;
			}
		}
	}
	if (inp[1] >= 0)
		close(inp[1]);
	close(out[0]);
	close(err[0]);
	r->code = -1;
	if (open_n > 0) {
		/* Timed out (or poll failed): don't let it linger. */
		kill(pid, SIGKILL);
		fprintf(stderr, "tmuxfix: '%s' killed after %d ms\n",
		    argv[1] ? argv[1] : argv[0], ms);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (open_n == 0)
		r->code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	buf_put_u8(&bo, 0);
	buf_put_u8(&be, 0);
	r->out = (char *)bo.data;
	r->err = (char *)be.data;
	return 0;
}

void
tmuxfix_result_free(struct tmuxfix_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int
tmuxfix_noid(struct tmuxfix_result *r, const char *dir, ...)
{
	const char *argv[TMUXFIX_ARGS_MAX];
	va_list ap;
	size_t n = 0;
	const char *a;

	argv[n++] = TMUXFIX_NOID;
	argv[n++] = "--data-dir";
	argv[n++] = dir;
	va_start(ap, dir);
	while (
	    (a = va_arg(ap, const char *)) != NULL && n < TMUXFIX_ARGS_MAX - 1)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return tmuxfix_run(argv, NULL, 0, TMUXFIX_WAIT_MS, r);
}

/* Run one tmux command (argv after the socket options); stdout in *out
 * (caller frees) when out is not NULL.  0 or -1 (its stderr printed). */
static int
tmuxfix_tmux(struct tmuxfix *t, const char *const *args, const char *in,
    size_t len, char **out)
{
	const char *argv[TMUXFIX_ARGS_MAX];
	struct tmuxfix_result r;
	size_t n = 0;
	int rc;

	argv[n++] = "tmux";
	argv[n++] = "-S";
	argv[n++] = t->sock;
	argv[n++] = "-f";
	argv[n++] = t->conf;
	while (*args != NULL && n < TMUXFIX_ARGS_MAX - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	if (tmuxfix_run(argv, in, len, TMUXFIX_CMD_MS, &r) != 0)
		return -1;
	rc = r.code == 0 ? 0 : -1;
	if (rc != 0)
		fprintf(stderr, "tmuxfix: tmux %s: exit %d: %s", argv[5],
		    r.code, r.err);
	if (out != NULL && rc == 0) {
		*out = r.out;
		r.out = NULL;
	}
	tmuxfix_result_free(&r);
	return rc;
}

/* Append s single-quoted for sh. */
static void
tmuxfix_quote(struct buf *b, const char *s)
{
	buf_put_u8(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_put(b, "'\\''", 4);
		else
			buf_put_u8(b, (uint8_t)*s);
	}
	buf_put(b, "' ", 2);
}

int
tmuxfix_new(struct tmuxfix *t, const char *name, int cols, int rows,
    const char *const *env, const char *const *argv)
{
	char x[16], y[16], *err;
	const char *args[16];
	struct buf cmd;
	int rc;

	buf_init(&cmd);
	buf_put(&cmd, "exec env ", 9);
	tmuxfix_quote(&cmd, "TERM=xterm-256color");
	tmuxfix_quote(&cmd, "LANG=C.UTF-8");
	tmuxfix_quote(&cmd, "LC_ALL=C.UTF-8");
	for (; env != NULL && *env != NULL; env++)
		tmuxfix_quote(&cmd, *env);
	for (; *argv != NULL; argv++)
		tmuxfix_quote(&cmd, *argv);
	xasprintf(&err, "%s/%s.err", t->dir, name);
	buf_put(&cmd, "2>>", 3);
	tmuxfix_quote(&cmd, err);
	buf_put_u8(&cmd, 0);
	free(err);
	snprintf(x, sizeof x, "%d", cols);
	snprintf(y, sizeof y, "%d", rows);
	args[0] = "new-session";
	args[1] = "-d";
	args[2] = "-s";
	args[3] = name;
	args[4] = "-x";
	args[5] = x;
	args[6] = "-y";
	args[7] = y;
	args[8] = (const char *)cmd.data;
	args[9] = NULL;
	rc = tmuxfix_tmux(t, args, NULL, 0, NULL);
	buf_free(&cmd);
	return rc;
}

/* "=name:" — exact session name, its current window and pane. */
static const char *
tmuxfix_target(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "=%s:", name);
	return out;
}

int
tmuxfix_keys(struct tmuxfix *t, const char *name, ...)
{
	const char *args[TMUXFIX_ARGS_MAX], *k;
	char tg[80];
	size_t n = 0;
	va_list ap;

	args[n++] = "send-keys";
	args[n++] = "-t";
	args[n++] = tmuxfix_target(name, tg, sizeof tg);
	va_start(ap, name);
	while (
	    (k = va_arg(ap, const char *)) != NULL && n < TMUXFIX_ARGS_MAX - 1)
		args[n++] = k;
	va_end(ap);
	args[n] = NULL;
	return tmuxfix_tmux(t, args, NULL, 0, NULL);
}

int
tmuxfix_type(struct tmuxfix *t, const char *name, const char *text)
{
	char tg[80];
	const char *args[] = {"send-keys", "-l", "-t",
	    tmuxfix_target(name, tg, sizeof tg), "--", text, NULL};

	return tmuxfix_tmux(t, args, NULL, 0, NULL);
}

int
tmuxfix_paste(struct tmuxfix *t, const char *name, const char *text, size_t len)
{
	char tg[80];
	const char *load[] = {"load-buffer", "-b", "tmuxfix", "-", NULL};
	const char *paste[] = {"paste-buffer", "-p", "-d", "-b", "tmuxfix",
	    "-t", tmuxfix_target(name, tg, sizeof tg), NULL};

	if (tmuxfix_tmux(t, load, text, len, NULL) != 0)
		return -1;
	return tmuxfix_tmux(t, paste, NULL, 0, NULL);
}

int
tmuxfix_resize(struct tmuxfix *t, const char *name, int cols, int rows)
{
	char tg[80], x[16], y[16];
	const char *args[] = {"resize-window", "-t",
	    tmuxfix_target(name, tg, sizeof tg), "-x", x, "-y", y, NULL};

	snprintf(x, sizeof x, "%d", cols);
	snprintf(y, sizeof y, "%d", rows);
	return tmuxfix_tmux(t, args, NULL, 0, NULL);
}

char *
tmuxfix_capture(struct tmuxfix *t, const char *name, int flags)
{
	const char *args[8];
	char tg[80], *out = NULL;
	size_t n = 0;

	args[n++] = "capture-pane";
	args[n++] = "-p";
	if (flags & TMUXFIX_ESC)
		args[n++] = "-e";
	if (flags & TMUXFIX_TRAIL)
		args[n++] = "-N";
	args[n++] = "-t";
	args[n++] = tmuxfix_target(name, tg, sizeof tg);
	args[n] = NULL;
	if (tmuxfix_tmux(t, args, NULL, 0, &out) != 0)
		return NULL;
	return out;
}

/* The needle predicate of tmuxfix_wait. */
static int
tmuxfix_has(const char *screen, void *arg)
{
	return strstr(screen, arg) != NULL;
}

char *
tmuxfix_wait_for(struct tmuxfix *t, const char *name, tmuxfix_pred pred,
    void *arg, const char *what, int ms)
{
	uint64_t deadline = clock_mono_ms() + (uint64_t)ms;
	struct timespec ts = {0, TMUXFIX_POLL_MS * 1000000L};
	char *s = NULL, *err;
	int status;

	for (;;) {
		free(s);
		s = tmuxfix_capture(t, name, 0);
		if (s != NULL && pred(s, arg))
			return s;
		if (clock_mono_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr,
	    "tmuxfix: %s: no '%s' after %d ms; the screen:\n"
	    "----\n%s----\n",
	    name, what, ms, s ? s : "(no capture)\n");
	if (tmuxfix_alive(t, name, &status) == 0) {
		err = tmuxfix_stderr(t, name);
		fprintf(stderr, "the process exited (status %d); stderr:\n%s\n",
		    status, err);
		free(err);
	}
	free(s);
	return NULL;
}

char *
tmuxfix_wait(struct tmuxfix *t, const char *name, const char *needle, int ms)
{
	return tmuxfix_wait_for(
	    t, name, tmuxfix_has, (void *)needle, needle, ms);
}

/* One pane variable via display-message (caller frees); NULL on error. */
static char *
tmuxfix_format(struct tmuxfix *t, const char *name, const char *fmt)
{
	char tg[80], *out = NULL;
	const char *args[] = {"display-message", "-p", "-t",
	    tmuxfix_target(name, tg, sizeof tg), fmt, NULL};

	if (tmuxfix_tmux(t, args, NULL, 0, &out) != 0)
		return NULL;
	return out;
}

pid_t
tmuxfix_pid(struct tmuxfix *t, const char *name)
{
	char *s = tmuxfix_format(t, name, "#{pane_pid}");
	pid_t pid = s ? (pid_t)strtol(s, NULL, 10) : 0;

	free(s);
	return pid;
}

int
tmuxfix_alive(struct tmuxfix *t, const char *name, int *status)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	uint64_t deadline = clock_mono_ms() + TMUXFIX_REAP_MS;
	char *s;
	int dead, st, rc;

	/*
	 * tmux marks the pane dead when its pty closes, and fills in the
	 * status only once it reaped the process: wait for that (a
	 * process killed by a signal never gets one: -1).
	 */
	for (;;) {
		s = tmuxfix_format(t, name, "#{pane_dead} #{pane_dead_status}");
		if (s == NULL)
			return -1;
		st = -1;
		rc = sscanf(s, "%d %d", &dead, &st);
		free(s);
		if (rc < 1)
			return -1;
		if (!dead || rc == 2 || clock_mono_ms() >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	if (dead && status != NULL)
		*status = st;
	return !dead;
}

char *
tmuxfix_row(const char *screen, int y)
{
	int rows = tmuxfix_rows(screen), i;
	const char *p = screen, *e;
	char *s;

	if (y < 0)
		y += rows;
	if (y < 0 || y >= rows)
		return NULL;
	for (i = 0; i < y; i++)
		p = strchr(p, '\n') + 1;
	e = strchr(p, '\n');
	if (e == NULL)
		e = p + strlen(p);
	s = xmalloc((size_t)(e - p) + 1);
	memcpy(s, p, (size_t)(e - p));
	s[e - p] = '\0';
	return s;
}

int
tmuxfix_rows(const char *screen)
{
	size_t len = strlen(screen), i;
	int n = 0;

	for (i = 0; i < len; i++)
		n += screen[i] == '\n';
	/* A last row without its newline still counts. */
	if (len > 0 && screen[len - 1] != '\n')
		n++;
	return n;
}

char *
tmuxfix_stderr(struct tmuxfix *t, const char *name)
{
	uint8_t *text = NULL;
	size_t len = 0;
	char *path, *s;

	xasprintf(&path, "%s/%s.err", t->dir, name);
	if (file_read_all(path, 1 << 20, &text, &len) != 0)
		len = 0;
	free(path);
	s = xmalloc(len + 1);
	if (len)
		memcpy(s, text, len);
	s[len] = '\0';
	free(text);
	return s;
}

void
tmuxfix_env(void)
{
	setenv("NOID_PASSWORD", TMUXFIX_PASSWORD, 1);
	setenv("NOID_TEST_FAST_KDF", "1", 1);
	unsetenv("NOID_HOME");
	unsetenv("TMUX");
}

/* Run a CLI command that must succeed; print why not. */
static int
tmuxfix_noid_ok(struct tmuxfix_result *r, const char *what)
{
	if (r->code == 0)
		return 0;
	fprintf(stderr, "tmuxfix: noid %s: exit %d\nstdout: %s\nstderr: %s\n",
	    what, r->code, r->out ? r->out : "", r->err ? r->err : "");
	return -1;
}

int
tmuxfix_user(const char *dir, const char *name, const char *relay)
{
	struct tmuxfix_result r;
	int rc;

	if (tmuxfix_noid(&r, dir, "init", "--name", name, NULL) != 0)
		return -1;
	rc = tmuxfix_noid_ok(&r, "init");
	tmuxfix_result_free(&r);
	if (rc != 0 || relay == NULL)
		return rc;
	if (tmuxfix_noid(&r, dir, "relays", "add", relay, NULL) != 0)
		return -1;
	rc = tmuxfix_noid_ok(&r, "relays add");
	tmuxfix_result_free(&r);
	return rc;
}

int
tmuxfix_tui(
    struct tmuxfix *t, const char *name, const char *dir, int cols, int rows)
{
	const char *env[] = {
	    "NOID_PASSWORD=" TMUXFIX_PASSWORD, "NOID_TEST_FAST_KDF=1", NULL};
	const char *argv[] = {TMUXFIX_NOID, "--data-dir", dir, NULL};
	char *s;

	if (tmuxfix_new(t, name, cols, rows, env, argv) != 0)
		return -1;
	s = tmuxfix_wait(t, name, "F1 help", TMUXFIX_WAIT_MS);
	free(s);
	return s != NULL ? 0 : -1;
}

char *
tmuxfix_invite_link(const char *screen)
{
	const char *p = strstr(screen, "\nLink"), *e;
	struct buf b;

	if (p == NULL)
		return NULL;
	/* Skip the "Link ...:" row itself. */
	if ((p = strchr(p + 1, '\n')) == NULL)
		return NULL;
	buf_init(&b);
	for (p++; *p != '\0' && *p != '\n'; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		for (; p < e; p++)
			if (*p != ' ')
				buf_put_u8(&b, (uint8_t)*p);
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	buf_put_u8(&b, 0);
	return (char *)b.data;
}

char *
tmuxfix_bar_row(const char *screen)
{
	char *row;
	int y;

	for (y = 0; (row = tmuxfix_row(screen, y)) != NULL; y++) {
		if (strstr(row, "F1 help") != NULL)
			return row;
		free(row);
	}
	return NULL;
}

/* Whether the status bar contains arg. */
static int
bar_has(const char *screen, void *arg)
{
	char *row = tmuxfix_bar_row(screen);
	int yes = row != NULL && strstr(row, arg) != NULL;

	free(row);
	return yes;
}

char *
tmuxfix_wait_bar(struct tmuxfix *t, const char *name, const char *what, int ms)
{
	char *s, *row;

	if ((s = tmuxfix_wait_for(t, name, bar_has, (void *)what, what, ms)) ==
	    NULL)
		return NULL;
	row = tmuxfix_bar_row(s);
	free(s);
	return row;
}

/* Whether the screen shows a whole invitation link that parses (a
 * redraw caught half way shows a cut link or QR blocks in it). */
static int
link_shown(const char *screen, void *arg)
{
	struct agent_invite inv;
	char *l = tmuxfix_invite_link(screen);
	int ok = l != NULL && agent_invite_parse(l, strlen(l), &inv, NULL) == 0;

	(void)arg;
	free(l);
	return ok;
}

char *
tmuxfix_wait_link(struct tmuxfix *t, const char *name, int ms)
{
	return tmuxfix_wait_for(
	    t, name, link_shown, NULL, "a whole invitation link", ms);
}

int
tmuxfix_connect(struct tmuxfix *t, const char *a, const char *dir_a,
    const char *b, char **link)
{
	struct tmuxfix_result r;
	char *s = NULL, *l = NULL, *cmd = NULL, id[64] = "";
	int rc = -1;

	if (tmuxfix_keys(t, a, "F2", NULL) != 0 ||
	    (s = tmuxfix_wait(t, a, "Invitation", TMUXFIX_WAIT_MS)) == NULL)
		goto out;
	free(s);
	if (tmuxfix_keys(t, a, "t", NULL) != 0 ||
	    (s = tmuxfix_wait_link(t, a, TMUXFIX_WAIT_MS)) == NULL)
		goto out;
	if ((l = tmuxfix_invite_link(s)) == NULL) {
		fprintf(stderr, "tmuxfix: no link text on:\n%s", s);
		goto out;
	}
	free(s);
	s = NULL;
	tmuxfix_keys(t, a, "Escape", NULL);
	xasprintf(&cmd, "/connect %s", l);
	if (tmuxfix_type(t, b, cmd) != 0 ||
	    tmuxfix_keys(t, b, "Enter", NULL) != 0 ||
	    (s = tmuxfix_wait(t, a, "asks to connect", TMUXFIX_WAIT_MS)) ==
	        NULL)
		goto out;
	free(s);
	s = NULL;
	if (tmuxfix_noid(&r, dir_a, "requests", NULL) != 0)
		goto out;
	if (tmuxfix_noid_ok(&r, "requests") != 0 ||
	    sscanf(r.out, "%63s", id) != 1) {
		tmuxfix_result_free(&r);
		goto out;
	}
	tmuxfix_result_free(&r);
	free(cmd);
	xasprintf(&cmd, "/accept %s", id);
	if (tmuxfix_type(t, a, cmd) != 0 ||
	    tmuxfix_keys(t, a, "Enter", NULL) != 0 ||
	    (s = tmuxfix_wait(t, a, "connected with", TMUXFIX_WAIT_MS)) == NULL)
		goto out;
	free(s);
	if ((s = tmuxfix_wait(t, b, "connected with", TMUXFIX_WAIT_MS)) == NULL)
		goto out;
	rc = 0;
	if (link != NULL) {
		*link = l;
		l = NULL;
	}
out:
	free(s);
	free(l);
	free(cmd);
	return rc;
}

int
tmuxfix_quit(struct tmuxfix *t, const char *name)
{
	uint64_t deadline = clock_mono_ms() + TMUXFIX_WAIT_MS;
	struct timespec ts = {0, TMUXFIX_POLL_MS * 1000000L};
	int alive;

	if (tmuxfix_type(t, name, "/quit") != 0 ||
	    tmuxfix_keys(t, name, "Enter", NULL) != 0)
		return -1;
	while ((alive = tmuxfix_alive(t, name, NULL)) == 1) {
		if (clock_mono_ms() >= deadline) {
			fprintf(stderr, "tmuxfix: %s did not quit\n", name);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return alive == 0 ? 0 : -1;
}

int
tmuxfix_history(const char *dir, size_t n)
{
	struct store *st = NULL;
	struct store_profile *p = NULL;
	struct store_contact *c = NULL;
	struct store_conn *cn = NULL;
	size_t np = 0, nc = 0, ncn = 0, i;
	uint8_t id[STORE_ID_LEN];
	uint64_t t0 =
	    (uint64_t)time(NULL) * 1000 - 3600 * 1000ull - (uint64_t)n * 60000;
	char text[64];
	const char *s;
	int rc;

	process_no_core();
	if ((rc = store_open(dir, TMUXFIX_PASSWORD, STORE_FAST_KDF, &st)) != 0)
		goto out;
	if ((rc = store_profiles_list(st, &p, &np)) != 0 ||
	    (rc = np == 1 ? 0 : NOID_ERR_INVAL) != 0)
		goto out;
	if ((rc = store_contacts_list(st, p[0].id, &c, &nc)) != 0 ||
	    (rc = nc == 1 ? 0 : NOID_ERR_INVAL) != 0)
		goto out;
	if ((rc = store_conns_list(st, p[0].id, c[0].id, &cn, &ncn)) != 0 ||
	    (rc = ncn >= 1 ? 0 : NOID_ERR_INVAL) != 0)
		goto out;
	if ((rc = store_tx_begin(st)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		s = text;
		if (i == 0)
			s = TMUXFIX_HIST_FIRST;
		else if (i == n - 1)
			s = TMUXFIX_HIST_LAST;
		else if (i == n / 3)
			s = "the " TMUXFIX_HIST_NEEDLE " is here";
		else
			snprintf(text, sizeof text, "history message %06zu", i);
		rc = store_msg_add(st, p[0].id, cn[0].id, STORE_DIR_IN,
		    t0 + i * 60000, s, strlen(s), id);
		if (rc != 0) {
			store_tx_rollback(st);
			goto out;
		}
	}
	rc = store_tx_commit(st);
out:
	if (rc != 0)
		fprintf(stderr,
		    "tmuxfix: history in %s: %s (%zu profiles, "
		    "%zu contacts, %zu connections)\n",
		    dir, noid_strerror(rc), np, nc, ncn);
	store_conns_free(cn, ncn);
	store_contacts_free(c, nc);
	store_profiles_free(p, np);
	store_close(st);
	return rc == 0 ? 0 : -1;
}

char *
tmuxfix_new_user(
    struct tmuxfix *t, const char *sub, const char *name, const char *relay)
{
	char *dir;

	xasprintf(&dir, "%s/%s", tmuxfix_dir(t), sub);
	if (tmuxfix_user(dir, name, relay) != 0) {
		free(dir);
		return NULL;
	}
	return dir;
}

char *
tmuxfix_decode_qr(struct tmuxfix *t, const char *session)
{
	const char *argv[] = {NOID_SRC_DIR "/tests/tools/qr-from-screen", NULL};
	struct tmuxfix_result r;
	char *screen = NULL, *nl, *out = NULL;
	int tries;

	/* A capture can catch a redraw half way (the status bar changing
	 * as a relay connects): take a fresh one until the code reads. */
	for (tries = 0; out == NULL && tries < 10; tries++) {
		free(screen);
		if ((screen = tmuxfix_capture(
		         t, session, TMUXFIX_ESC | TMUXFIX_TRAIL)) == NULL)
			return NULL;
		if (tmuxfix_run(argv, screen, strlen(screen), 30000, &r) != 0)
			break;
		if (r.code == 0) {
			if ((nl = strchr(r.out, '\n')) != NULL)
				*nl = '\0';
			out = r.out;
			r.out = NULL;
		} else if (tries == 9)
			fprintf(stderr,
			    "tmuxfix: no QR code decodes on %s:\n%s\n%s\n",
			    session, screen, r.err != NULL ? r.err : "");
		tmuxfix_result_free(&r);
	}
	free(screen);
	return out;
}
