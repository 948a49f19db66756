/*
 * testrelay: spawn, read the address of, stop and restart a real
 * noid-relay.  The relay's stdout pipe stays open (drained at stop) so
 * a relay that prints more later never dies of SIGPIPE.
 */
#include "testrelay.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"

#define TESTRELAY_ARGS_MAX 32

struct testrelay {
	char dir[64];
	char *data_dir;
	char *log;
	char *listen;
	const char *argv[TESTRELAY_ARGS_MAX];
	pid_t pid;
	int out_fd;
	char line[512];
	struct relay_addr addr;
};

/* Remove one entry (nftw callback, depth first). */
static int
testrelay_rm_one(
    const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a tree. */
int
testrelay_rmtree(const char *dir)
{
	if (nftw(dir, testrelay_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return NOID_ERR_IO;
	return 0;
}

/* Print the relay's log to our stderr (when it failed to start). */
static void
testrelay_dump_log(const struct testrelay *r)
{
	uint8_t *text;
	size_t len;

	if (file_read_all(r->log, 1 << 16, &text, &len) == 0) {
		fprintf(stderr, "--- noid-relay log:\n%.*s---\n", (int)len,
		    (const char *)text);
		free(text);
	}
}

/* Fork and exec the relay with stdout to a pipe. */
static int
testrelay_spawn(struct testrelay *r)
{
	int pfd[2], logfd;

	if (pipe(pfd) != 0)
		return NOID_ERR_IO;
	logfd = open(r->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return NOID_ERR_IO;
	}
	fflush(NULL);
	if ((r->pid = fork()) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		close(logfd);
		return NOID_ERR_IO;
	}
	if (r->pid == 0) {
		/* A test that dies (assertion, timeout) must not leak relays. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(pfd[1], STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		execv(r->argv[0], (char *const *)r->argv);
		fprintf(stderr, "exec %s: %s\n", r->argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	close(logfd);
	r->out_fd = pfd[0];
	(void)fd_set_nonblock(r->out_fd);
	return 0;
}

/* Read the first stdout line (the address) within the timeout. */
static int
testrelay_read_address(struct testrelay *r)
{
	uint64_t deadline = clock_mono_ms() + TESTRELAY_START_TIMEOUT_MS;
	struct pollfd pfd = {.fd = r->out_fd, .events = POLLIN};
	size_t len = 0;
	const char *why = NULL;
	char *nl;
	ssize_t n;
	uint64_t now;

	for (;;) {
		now = clock_mono_ms();
		if (now >= deadline)
			return NOID_ERR_TIMEOUT;
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return NOID_ERR_IO;
		n = read(r->out_fd, r->line + len, sizeof r->line - 1 - len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return NOID_ERR_CLOSED;
		len += (size_t)n;
		r->line[len] = '\0';
		if ((nl = strchr(r->line, '\n')) != NULL) {
			*nl = '\0';
			break;
		}
		if (len == sizeof r->line - 1)
			return NOID_ERR_PROTO;
	}
	if (addr_parse(r->line, &r->addr, &why) != 0) {
		fprintf(stderr, "testrelay: bad address line '%s': %s\n",
		    r->line, why);
		return NOID_ERR_PROTO;
	}
	return 0;
}

/* Spawn and wait for the address; on failure stop it and show the log. */
static int
testrelay_launch(struct testrelay *r)
{
	int error;

	if ((error = testrelay_spawn(r)) != 0)
		return error;
	if ((error = testrelay_read_address(r)) != 0) {
		testrelay_stop(r, SIGKILL);
		testrelay_dump_log(r);
	}
	return error;
}

/* Start. */
struct testrelay *
testrelay_start(const char *const *extra)
{
	struct testrelay *r;
	size_t n = 0;

	r = xcalloc(1, sizeof *r);
	r->out_fd = -1;
	snprintf(r->dir, sizeof r->dir, "/tmp/noid-testrelay-XXXXXX");
	if (mkdtemp(r->dir) == NULL) {
		free(r);
		return NULL;
	}
	r->data_dir = path_join(r->dir, "data");
	r->log = path_join(r->dir, "relay.log");
	r->listen = xstrdup("127.0.0.1:0");
	r->argv[n++] = NOID_BUILD_DIR "/noid-relay";
	r->argv[n++] = "--data-dir";
	r->argv[n++] = r->data_dir;
	r->argv[n++] = "--listen";
	r->argv[n++] = r->listen;
	while (extra != NULL && *extra != NULL && n < TESTRELAY_ARGS_MAX - 1)
		r->argv[n++] = *extra++;
	r->argv[n] = NULL;
	if (testrelay_launch(r) != 0) {
		testrelay_free(r);
		return NULL;
	}
	return r;
}

/* Stop. */
int
testrelay_stop(struct testrelay *r, int sig)
{
	char junk[4096];
	int status = 0;

	if (r->pid > 0) {
		kill(r->pid, sig);
		while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
			;
		r->pid = 0;
	}
	if (r->out_fd >= 0) {
		while (read(r->out_fd, junk, sizeof junk) > 0)
			;
		close(r->out_fd);
		r->out_fd = -1;
	}
	return status;
}

/* Restart on the same data dir and port. */
int
testrelay_restart(struct testrelay *r)
{
	char *listen;

	if (r->pid > 0)
		return NOID_ERR_STATE;
	/* The argv slot points at r->listen: replace it in place. */
	xasprintf(&listen, "127.0.0.1:%u", (unsigned)r->addr.port);
	free(r->listen);
	r->listen = listen;
	r->argv[4] = r->listen;
	return testrelay_launch(r);
}

/* Accessors. */
const char *
testrelay_address(const struct testrelay *r)
{
	return r->line;
}

const struct relay_addr *
testrelay_addr(const struct testrelay *r)
{
	return &r->addr;
}

const char *
testrelay_dir(const struct testrelay *r)
{
	return r->dir;
}

const char *
testrelay_data_dir(const struct testrelay *r)
{
	return r->data_dir;
}

pid_t
testrelay_pid(const struct testrelay *r)
{
	return r->pid;
}

/* Kill, clean up, free. */
void
testrelay_free(struct testrelay *r)
{
	if (r == NULL)
		return;
	testrelay_stop(r, SIGKILL);
	testrelay_rmtree(r->dir);
	free(r->data_dir);
	free(r->log);
	free(r->listen);
	free(r);
}
