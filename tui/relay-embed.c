/*
 * relay-embed: the private relay a client runs when none is configured.
 *
 * DESIGN §1: a fresh install chats at once, between profiles or between
 * users of one host, through a noid-relay on 127.0.0.1 whose data lives
 * in DIR/relay.  Its address must not change between runs (contacts'
 * queues are on it), so the port the first start picked is kept in
 * DIR/relay.state with the pid; a relay still running from an earlier
 * process (e.g. one killed with -9) is reused instead of started twice.
 * The relay outlives the client that started it: it holds the queues
 * contacts write to while noid is not running (messages wait there, as
 * on any relay), and the next run reuses it.  The pid in relay.state
 * stops it.
 * The relay prints its address as its first line on stdout; we read
 * that one line (bounded wait: the child could be broken) and keep the
 * pipe open so later output never hits a closed pipe.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RELAY_EMBED_WAIT_MS 10000
#define RELAY_EMBED_STATE "relay.state"

struct relay_embed {
	pid_t pid;
	int owned;
	int out_fd;
	char *address;
	char *state_path;
};

/* The noid-relay binary: NOID_RELAY, beside noid, else PATH. */
char *
relay_embed_find_binary(void)
{
	char self[PATH_MAX], *slash, *cand, *path, *p, *save = NULL;
	const char *env;
	ssize_t n;

	if ((env = getenv("NOID_RELAY")) != NULL && access(env, X_OK) == 0)
		return xstrdup(env);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			cand = path_join(self, "noid-relay");
			if (access(cand, X_OK) == 0)
				return cand;
			free(cand);
		}
	}
	if ((env = getenv("PATH")) == NULL)
		return NULL;
	path = xstrdup(env);
	for (p = strtok_r(path, ":", &save); p != NULL;
	     p = strtok_r(NULL, ":", &save)) {
		cand = path_join(*p ? p : ".", "noid-relay");
		if (access(cand, X_OK) == 0) {
			free(path);
			return cand;
		}
		free(cand);
	}
	free(path);
	return NULL;
}

/* The port at the end of a noid:// address, or 0. */
static unsigned
relay_embed_port(const char *address)
{
	const char *colon = strrchr(address, ':');
	char *end;
	unsigned long port;

	if (colon == NULL)
		return 0;
	port = strtoul(colon + 1, &end, 10);
	if (end == colon + 1 || port > 65535)
		return 0;
	return (unsigned)port;
}

/* Read DIR/relay.state: "pid address". */
static int
relay_embed_state_read(const char *path, long *pid, char **address)
{
	uint8_t *data;
	size_t len;
	char addr[512];
	int rc;

	*address = NULL;
	if ((rc = file_read_all(path, 4096, &data, &len)) != 0)
		return rc;
	if (sscanf((char *)data, "%ld %511s", pid, addr) != 2)
		rc = NOID_ERR_CORRUPT;
	else
		*address = xstrdup(addr);
	free(data);
	return rc;
}

/* Whether pid is alive and is a noid-relay. */
static int
relay_embed_alive(long pid)
{
	char link[64], exe[PATH_MAX];
	ssize_t n;

	if (pid <= 0 || kill((pid_t)pid, 0) != 0)
		return 0;
	snprintf(link, sizeof link, "/proc/%ld/exe", pid);
	if ((n = readlink(link, exe, sizeof exe - 1)) <= 0)
		return 0;
	exe[n] = '\0';
	/* " (deleted)" after a rebuild still names the relay. */
	return strstr(exe, "noid-relay") != NULL;
}

/* Wait (bounded) for the relay's first stdout line. */
static int
relay_embed_read_address(int fd, char **address)
{
	struct buf b;
	struct pollfd pfd;
	uint64_t deadline = clock_mono_ms() + RELAY_EMBED_WAIT_MS, now;
	char *nl;
	ssize_t n;
	int rc = NOID_ERR_TIMEOUT;

	buf_init(&b);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((now = clock_mono_ms()) < deadline) {
		if (poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;
		buf_reserve(&b, 512);
		n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = NOID_ERR_CLOSED;
			break;
		}
		b.len += (size_t)n;
		b.data[b.len] = '\0';
		if ((nl = strchr((char *)b.data, '\n')) == NULL) {
			if (b.len > 4096) {
				rc = NOID_ERR_PROTO;
				break;
			}
			continue;
		}
		*nl = '\0';
		if (strncmp((char *)b.data, "noid://", 7) != 0) {
			rc = NOID_ERR_PROTO;
			break;
		}
		*address = xstrdup((char *)b.data);
		rc = 0;
		break;
	}
	buf_free(&b);
	return rc;
}

/* Close every descriptor from fd up (in the child, before exec). */
static void
relay_embed_close_from(int fd)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (close_range((unsigned)fd, ~0u, 0) == 0)
		return;
	for (; fd < (max > 0 ? max : 1024); fd++)
		close(fd);
}

/* Fork and exec the relay; stdout into a pipe, stderr to a log. */
static int
relay_embed_spawn(
    const char *bin, const char *dir, unsigned port, struct relay_embed *re)
{
	char *rdir = path_join(dir, "relay"),
	     *log = path_join(dir, "relay.log");
	char listen[64];
	int p[2], logfd, rc = NOID_ERR_IO;
	pid_t pid;

	snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
	if (pipe(p) != 0)
		goto out;
	fd_set_cloexec(p[0]);
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		goto out;
	}
	if (pid == 0) {
		/* Its own session: a ^C meant for us must not stop it.  It
		 * outlives us, so a write to the pipe we close must not
		 * kill it (an ignored signal stays ignored across exec). */
		setsid();
		signal(SIGPIPE, SIG_IGN);
		dup2(p[1], 1);
		logfd =
		    open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (logfd >= 0)
			dup2(logfd, 2);
		logfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (logfd >= 0)
			dup2(logfd, 0);
		/* It outlives us: it must not hold our other descriptors
		 * (a caller's pipes would never see end of file). */
		relay_embed_close_from(3);
		execl(bin, "noid-relay", "--data-dir", rdir, "--listen", listen,
		    (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	re->pid = pid;
	re->out_fd = p[0];
	re->owned = 1;
	if ((rc = relay_embed_read_address(p[0], &re->address)) != 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		close(p[0]);
		re->pid = 0;
		re->out_fd = -1;
	}
out:
	free(rdir);
	free(log);
	return rc;
}

/* Start or reuse the embedded relay of dir. */
int
relay_embed_start(const char *dir, struct relay_embed **out)
{
	struct relay_embed *re = xcalloc(1, sizeof *re);
	char *old = NULL, *bin = NULL, *state = NULL;
	unsigned port = 0;
	long pid = 0;
	int rc;

	*out = NULL;
	re->out_fd = -1;
	re->state_path = path_join(dir, RELAY_EMBED_STATE);
	if (relay_embed_state_read(re->state_path, &pid, &old) == 0) {
		if (relay_embed_alive(pid)) {
			re->pid = (pid_t)pid;
			re->address = old;
			old = NULL;
			*out = re;
			re = NULL;
			rc = 0;
			goto out;
		}
		port = relay_embed_port(old);
	}
	if ((bin = relay_embed_find_binary()) == NULL) {
		rc = NOID_ERR_NOENT;
		goto out;
	}
	rc = relay_embed_spawn(bin, dir, port, re);
	/* The old port was taken by something else: take a new one. */
	if (rc != 0 && port != 0)
		rc = relay_embed_spawn(bin, dir, 0, re);
	if (rc != 0)
		goto out;
	xasprintf(&state, "%ld %s\n", (long)re->pid, re->address);
	if ((rc = file_write_atomic(
	         re->state_path, state, strlen(state), 0600)) != 0)
		goto out;
	*out = re;
	re = NULL;
out:
	relay_embed_stop(re);
	free(old);
	free(bin);
	free(state);
	return rc;
}

/* The address recorded by the last start, if any. */
char *
relay_embed_saved_address(const char *dir)
{
	char *path = path_join(dir, RELAY_EMBED_STATE), *addr = NULL;
	long pid;

	if (relay_embed_state_read(path, &pid, &addr) != 0)
		addr = NULL;
	free(path);
	return addr;
}

/* The relay's address. */
const char *
relay_embed_address(const struct relay_embed *re)
{
	return re->address;
}

/* Whether we started it. */
int
relay_embed_owned(const struct relay_embed *re)
{
	return re->owned;
}

/* Leave the relay running for the next run, and free. */
void
relay_embed_release(struct relay_embed *re)
{
	if (re != NULL)
		re->owned = 0;
	relay_embed_stop(re);
}

/* Stop the relay if ours, and free. */
void
relay_embed_stop(struct relay_embed *re)
{
	if (re == NULL)
		return;
	if (re->owned && re->pid > 0) {
		kill(re->pid, SIGTERM);
		waitpid(re->pid, NULL, 0);
		/* Keep the port for next time; only the pid is stale. */
	}
	if (re->out_fd >= 0)
		close(re->out_fd);
	free(re->address);
	free(re->state_path);
	free(re);
}
