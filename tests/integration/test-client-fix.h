/*
 * noid tests — the `noid` binary driven as a script would drive it,
 * shared by tests/tui/test-cli.c and tests/integration/test-client-*.c.
 *
 * noid_run() runs build/noid with --data-dir, NOID_PASSWORD, the fast
 * test KDF and stdin from a string, in its own session (no terminal to
 * prompt on), and returns its exit code, stdout and stderr.
 * noid_spawn() starts one in the background (daemon, read --follow)
 * with its output going to a file.  A "pair" is two users with their
 * own data dirs on one real noid-relay, connected through the CLI.
 * Header-only (static functions): each test file is its own binary.
 */
#ifndef NOID_TEST_CLIENT_FIX_H
#define NOID_TEST_CLIENT_FIX_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "testrelay.h"

#define NOID_ARGS_MAX 32

struct run {
	int code;
	char *out;
	char *err;
};

static inline void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* Read all of fd. */
static inline char *
slurp(int fd)
{
	struct buf b;
	ssize_t n;

	buf_init(&b);
	for (;;) {
		buf_reserve(&b, 4096);
		n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n <= 0)
			break;
		b.len += (size_t)n;
	}
	b.data[b.len] = '\0';
	return (char *)b.data;
}

/* Build argv: noid [--data-dir dir] words...; returns argc. */
static inline int
noid_argv(char **argv, const char *dir, va_list ap)
{
	const char *a;
	int argc = 0;

	argv[argc++] = "noid";
	if (dir != NULL) {
		argv[argc++] = "--data-dir";
		argv[argc++] = (char *)dir;
	}
	while (
	    (a = va_arg(ap, const char *)) != NULL && argc < NOID_ARGS_MAX - 1)
		argv[argc++] = (char *)a;
	argv[argc] = NULL;
	return argc;
}

/* In the child: the environment a script would give noid. */
static inline void
noid_child_env(const char *pw)
{
	setsid();
	setenv("NOID_TEST_FAST_KDF", "1", 1);
	unsetenv("NOID_HOME");
	if (pw != NULL)
		setenv("NOID_PASSWORD", pw, 1);
	else
		unsetenv("NOID_PASSWORD");
}

/*
 * Run noid with dir as --data-dir (NULL: none), password in
 * NOID_PASSWORD (NULL: unset), stdin from in (NULL: empty).  Words end
 * at NULL.
 */
static inline struct run
noid(const char *dir, const char *pw, const char *in, ...)
{
	char *argv[NOID_ARGS_MAX], *bin = path_join(NOID_BUILD_DIR, "noid");
	int po[2], pe[2], pi[2], status;
	struct run r;
	va_list ap;
	pid_t pid;

	va_start(ap, in);
	noid_argv(argv, dir, ap);
	va_end(ap);
	cr_assert_eq(pipe(po), 0);
	cr_assert_eq(pipe(pe), 0);
	cr_assert_eq(pipe(pi), 0);
	if ((pid = fork()) == 0) {
		noid_child_env(pw);
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(pi[0]);
		close(pi[1]);
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		execv(bin, argv);
		_exit(127);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	if (in != NULL && write(pi[1], in, strlen(in)) < 0)
		cr_assert_fail("stdin");
	close(pi[1]);
	r.out = slurp(po[0]);
	r.err = slurp(pe[0]);
	close(po[0]);
	close(pe[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "noid crashed: %s", r.err);
	r.code = WEXITSTATUS(status);
	free(bin);
	return r;
}

/* Start noid in the background, stdout and stderr to outpath. */
static inline pid_t
noid_spawn(const char *dir, const char *pw, const char *outpath, ...)
{
	char *argv[NOID_ARGS_MAX], *bin = path_join(NOID_BUILD_DIR, "noid");
	va_list ap;
	pid_t pid;
	int fd;

	va_start(ap, outpath);
	noid_argv(argv, dir, ap);
	va_end(ap);
	if ((pid = fork()) == 0) {
		noid_child_env(pw);
		fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		execv(bin, argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	free(bin);
	return pid;
}

/* Wait (up to 20 s) until file path contains s; 1 when it does. */
static inline int
file_wait_for(const char *path, const char *s)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	uint8_t *data;
	size_t len;
	int i, found;

	for (i = 0; i < 1000; i++) {
		data = NULL;
		found = file_read_all(path, 1 << 20, &data, &len) == 0 &&
		    strstr((char *)data, s) != NULL;
		free(data);
		if (found)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* A fresh data dir path under a fresh temp dir (caller: tmp_free). */
static inline char *
tmp_data(void)
{
	char tmpl[] = "/tmp/noid-cli-XXXXXX";

	cr_assert_not_null(mkdtemp(tmpl));
	return path_join(tmpl, "data");
}

/* Stop a data dir's embedded relay, if one was started. */
static inline void
tmp_stop_embedded(const char *data)
{
	char *path = path_join(data, "relay.state");
	uint8_t *st = NULL;
	size_t len;
	long pid;

	if (file_read_all(path, 4096, &st, &len) == 0 &&
	    sscanf((char *)st, "%ld", &pid) == 1 && pid > 0)
		kill((pid_t)pid, SIGTERM);
	free(st);
	free(path);
}

/* Remove the temp dir holding data. */
static inline void
tmp_free(char *data)
{
	char *parent = xstrdup(data);

	tmp_stop_embedded(data);
	*strrchr(parent, '/') = '\0';
	cr_assert_eq(testrelay_rmtree(parent), 0);
	free(parent);
	free(data);
}

/* A data dir with one profile name, password "pw". */
static inline char *
tmp_init_named(const char *name)
{
	char *d = tmp_data();
	struct run r = noid(d, "pw", NULL, "init", "--name", name, NULL);

	cr_assert_eq(r.code, 0, "init: %s", r.err);
	run_free(&r);
	return d;
}

/* Two users on one relay, connected: a (alice) invited, b (bob) joined. */
struct pair {
	struct testrelay *rel;
	char *a, *b;
};

/* The first line of s (caller frees). */
static inline char *
first_line(const char *s)
{
	char *l = xstrdup(s);

	l[strcspn(l, "\n")] = '\0';
	return l;
}

static inline void
pair_connect(struct pair *p)
{
	struct run r;
	char *link;

	p->rel = testrelay_start(NULL);
	cr_assert_not_null(p->rel);
	p->a = tmp_init_named("alice");
	p->b = tmp_init_named("bob");
	r = noid(
	    p->a, "pw", NULL, "relays", "add", testrelay_address(p->rel), NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(
	    p->b, "pw", NULL, "relays", "add", testrelay_address(p->rel), NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p->a, "pw", NULL, "invite", "--text", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	link = first_line(r.out);
	run_free(&r);
	r = noid(p->b, "pw", NULL, "connect", link, NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p->a, "pw", NULL, "accept", "bob", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	/* Bob takes in the answer: both are connected. */
	r = noid(p->b, "pw", NULL, "contacts", NULL);
	cr_assert_not_null(
	    strstr(r.out, "alice\ttext\tconnected"), "%s", r.out);
	run_free(&r);
	free(link);
}

static inline void
pair_free(struct pair *p)
{
	tmp_free(p->a);
	tmp_free(p->b);
	testrelay_free(p->rel);
}

#endif
