/*
 * noid-relay operations with real processes: the idle timeout, the
 * aggregate counters (SIGUSR1 and --stats), no logging of addresses or
 * queue and message ids, an IPv6 listener, the default data dir and the
 * example config in contrib/.
 *
 * The relay is spawned here rather than through testrelay: these tests
 * need the whole of stdout and stderr, their own environment (HOME,
 * XDG_DATA_HOME), no --data-dir, and other listen addresses.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "relay-client.h"
#include "relayfix.h"

#define T_MS 5000
#define RELAY_BIN NOID_BUILD_DIR "/noid-relay"
#define ARGS_MAX 24
/* Where tests run as root: the relay's default dir is then /var/lib,
 * so the default-dir test runs it as this user instead. */
#define NOBODY 65534

/* One relay process; stdout and stderr go to files (one pair a start). */
struct ops_relay {
	char dir[64]; /* temp root */
	char *data; /* data dir, or NULL: the relay picks its default */
	const char *argv[ARGS_MAX];
	/* HOME and XDG_DATA_HOME (NULL: unset) when home is not NULL. */
	const char *home;
	const char *xdg;
	uid_t uid; /* run as (0: as we are) */
	int starts;
	pid_t pid;
	char out[128], err[128]; /* this start's files */
	char line[512]; /* first stdout line */
	struct relay_addr addr;
};

/* Read a whole file as a string (caller frees); "" when missing. */
static char *
slurp(const char *path)
{
	uint8_t *data;
	size_t len;
	char *s;

	if (file_read_all(path, 1 << 22, &data, &len) != 0)
		return xstrdup("");
	s = xmalloc(len + 1);
	memcpy(s, data, len);
	s[len] = '\0';
	free(data);
	return s;
}

/* Make the temp root and its data dir path; no process yet. */
static void
ops_init(struct ops_relay *r, bool data_dir)
{
	memset(r, 0, sizeof *r);
	snprintf(r->dir, sizeof r->dir, "/tmp/noid-relay-ops-XXXXXX");
	cr_assert_not_null(mkdtemp(r->dir));
	if (data_dir)
		r->data = path_join(r->dir, "data");
}

/* Fork and exec the relay with extra arguments. */
static void
ops_spawn(struct ops_relay *r, const char *const *extra)
{
	size_t n = 0;
	int fo, fe;

	r->argv[n++] = RELAY_BIN;
	if (r->data != NULL) {
		r->argv[n++] = "--data-dir";
		r->argv[n++] = r->data;
	}
	for (; extra != NULL && *extra != NULL; extra++) {
		cr_assert_lt(n, ARGS_MAX - 1);
		r->argv[n++] = *extra;
	}
	r->argv[n] = NULL;
	r->starts++;
	snprintf(r->out, sizeof r->out, "%s/out.%d", r->dir, r->starts);
	snprintf(r->err, sizeof r->err, "%s/err.%d", r->dir, r->starts);
	fo = open(r->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	fe = open(r->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert(fo >= 0 && fe >= 0);
	if (r->uid != 0)
		cr_assert_eq(
		    fchown(fo, r->uid, r->uid) | fchown(fe, r->uid, r->uid), 0);
	fflush(NULL);
	cr_assert_geq(r->pid = fork(), 0);
	if (r->pid == 0) {
		dup2(fo, STDOUT_FILENO);
		dup2(fe, STDERR_FILENO);
		if (r->home != NULL)
			setenv("HOME", r->home, 1);
		if (r->home != NULL && r->xdg != NULL)
			setenv("XDG_DATA_HOME", r->xdg, 1);
		else if (r->home != NULL)
			unsetenv("XDG_DATA_HOME");
		if (r->uid != 0 &&
		    (setgroups(0, NULL) != 0 || setgid(r->uid) != 0 ||
		        setuid(r->uid) != 0))
			_exit(126);
		execv(r->argv[0], (char *const *)r->argv);
		_exit(127);
	}
	close(fo);
	close(fe);
}

/* Wait for the first stdout line (the address); false if the relay
 * died or said nothing in time. */
static bool
ops_wait_address(struct ops_relay *r)
{
	uint64_t end = clock_mono_ms() + 10000;
	struct timespec ts = {0, 10 * 1000 * 1000};
	const char *why = NULL;
	char *text, *nl;
	int status;

	while (clock_mono_ms() < end) {
		text = slurp(r->out);
		if ((nl = strchr(text, '\n')) != NULL) {
			*nl = '\0';
			snprintf(r->line, sizeof r->line, "%s", text);
			free(text);
			return addr_parse(r->line, &r->addr, &why) == 0;
		}
		free(text);
		if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
			r->pid = 0;
			break;
		}
		nanosleep(&ts, NULL);
	}
	text = slurp(r->err);
	fprintf(stderr, "--- noid-relay stderr:\n%s---\n", text);
	free(text);
	return false;
}

/* Start and wait for the address. */
static void
ops_start(struct ops_relay *r, const char *const *extra)
{
	ops_spawn(r, extra);
	cr_assert(ops_wait_address(r), "noid-relay did not print its address");
}

/* Send sig and wait; the wait status. */
static int
ops_stop(struct ops_relay *r, int sig)
{
	int status = -1;

	if (r->pid <= 0)
		return -1;
	kill(r->pid, sig);
	while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
		;
	r->pid = 0;
	return status;
}

/* Stop (SIGTERM) and expect exit 0, showing stderr otherwise. */
static void
ops_stop_clean(struct ops_relay *r)
{
	int status = ops_stop(r, SIGTERM);
	char *text;

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		text = slurp(r->err);
		fprintf(stderr, "--- noid-relay stderr:\n%s---\n", text);
		free(text);
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "noid-relay did not exit 0 (status %#x)", status);
}

/* Kill if running, remove the temp root; a no-op once done. */
static void
ops_free(struct ops_relay *r)
{
	if (r->pid > 0)
		ops_stop(r, SIGKILL);
	if (r->dir[0] != '\0')
		testrelay_rmtree(r->dir);
	free(r->data);
	memset(r, 0, sizeof *r);
}

/* Wait until the current stderr holds n lines that start with prefix;
 * returns the n-th (caller frees) or NULL. */
static char *
ops_wait_line(struct ops_relay *r, const char *prefix, int n)
{
	uint64_t end = clock_mono_ms() + T_MS;
	struct timespec ts = {0, 10 * 1000 * 1000};
	char *text, *p, *nl, *line;
	int seen;

	while (clock_mono_ms() < end) {
		text = slurp(r->err);
		seen = 0;
		for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
			if (strncmp(p, prefix, strlen(prefix)) != 0 ||
			    ++seen != n)
				continue;
			line = xmalloc((size_t)(nl - p) + 1);
			memcpy(line, p, (size_t)(nl - p));
			line[nl - p] = '\0';
			free(text);
			return line;
		}
		free(text);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The value of " key=N" in a stats line; fails the test when absent. */
static unsigned long long
stat_of(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, " %s=", key);
	p = strstr(line, pat);
	cr_assert_not_null(p, "no %s in '%s'", key, line);
	return strtoull(p + strlen(pat), NULL, 10);
}

/* Connect over IPv4 with the wire-level fixture. */
static struct rf_conn *
ops_connect(const struct ops_relay *r)
{
	struct rf_conn *c;

	cr_assert_eq(rf_connect_key(r->addr.port, r->addr.key, &c), 0,
	    "cannot connect to the relay");
	return c;
}

/* Receive the next MSG (skipping other pushes); copies its id. */
static void
expect_msg(struct rf_conn *c, const struct rf_queue *q, const char *want,
    uint8_t id[NOID_ID_LEN])
{
	struct proto_tx tx;
	uint8_t body[NOID_MSG_MAX];
	int n;

	do
		cr_assert_eq(rf_recv(c, &tx, T_MS), 0, "no MSG arrived");
	while (tx.tag != PROTO_MSG);
	cr_assert_eq(memcmp(tx.entity, q->rid, NOID_ID_LEN), 0);
	n = rf_open_msg(q, &tx, body, sizeof body);
	cr_assert_eq(n, (int)strlen(want));
	cr_assert_eq(memcmp(body, want, (size_t)n), 0);
	memcpy(id, tx.u.msg.msg_id, NOID_ID_LEN);
}

/* The relay of the running test, stopped and removed by teardown even
 * when an assertion ends the test early. */
static struct ops_relay relay;

static void
teardown(void)
{
	ops_free(&relay);
}

TestSuite(relay_ops, .fini = teardown, .timeout = 90);

Test(relay_ops, silent_connection_closed_after_idle_timeout_pinging_one_kept)
{
	const char *args[] = {"--listen", "127.0.0.1:0", "--idle-timeout", "2",
	    "--no-fsync", NULL};
	struct ops_relay *r = &relay;
	struct rf_conn *silent, *pinger;
	struct proto_tx reply;
	uint64_t end;
	char *line;
	bool closed = false;

	ops_init(r, true);
	ops_start(r, args);
	silent = ops_connect(r);
	pinger = ops_connect(r);
	/* The pinger is never quiet for long; the silent one must go. */
	end = clock_mono_ms() + 30000;
	while (!closed && clock_mono_ms() < end) {
		cr_assert_eq(rf_cmd(pinger, PROTO_PING, NULL, NULL, &reply),
		    PROTO_PONG, "the pinging connection was closed");
		closed = rf_wait_closed(silent, 300);
	}
	cr_assert(closed, "the silent connection was never closed");
	/* Another full idle period: pings keep it open. */
	end = clock_mono_ms() + 3000;
	while (clock_mono_ms() < end) {
		cr_assert_eq(rf_cmd(pinger, PROTO_PING, NULL, NULL, &reply),
		    PROTO_PONG, "the pinging connection was closed");
		cr_assert_not(rf_wait_closed(pinger, 300));
	}
	/* The relay counts it: one open, one dropped. */
	kill(r->pid, SIGUSR1);
	line = ops_wait_line(r, "noid-relay: stats ", 1);
	cr_assert_not_null(line, "SIGUSR1 printed no stats");
	cr_assert_eq(stat_of(line, "conns"), 1, "%s", line);
	cr_assert_eq(stat_of(line, "conns_total"), 2, "%s", line);
	cr_assert_eq(stat_of(line, "dropped"), 1, "%s", line);
	free(line);
	/* And then the pinger, silent in its turn, goes too. */
	cr_assert(rf_wait_closed(pinger, 15000),
	    "the pinger was not closed once silent");
	rf_close(silent);
	rf_close(pinger);
	ops_stop_clean(r);
}

/* Two queues, three messages sent, received and acked. */
struct session {
	struct rf_queue q[2];
	uint8_t msg_id[3][NOID_ID_LEN];
};

static void
run_session(struct rf_conn *rcpt, struct rf_conn *snd, struct session *s)
{
	struct proto_tx reply;
	int i;

	for (i = 0; i < 2; i++)
		cr_assert_eq(rf_new_queue(rcpt, NULL, &s->q[i]), 0);
	cr_assert_eq(rf_secure(rcpt, &s->q[1]), 0);
	cr_assert_eq(
	    rf_send_msg(snd, &s->q[0], false, "one", 3, &reply), PROTO_OK);
	cr_assert_eq(
	    rf_send_msg(snd, &s->q[0], false, "two", 3, &reply), PROTO_OK);
	cr_assert_eq(
	    rf_send_msg(snd, &s->q[1], true, "three", 5, &reply), PROTO_OK);
	cr_assert_eq(
	    rf_cmd(rcpt, PROTO_SUB, s->q[0].rid, &s->q[0].rkey, &reply),
	    PROTO_OK);
	expect_msg(rcpt, &s->q[0], "one", s->msg_id[0]);
	cr_assert_eq(rf_ack(rcpt, &s->q[0], s->msg_id[0], &reply), PROTO_OK);
	expect_msg(rcpt, &s->q[0], "two", s->msg_id[1]);
	cr_assert_eq(rf_ack(rcpt, &s->q[0], s->msg_id[1], &reply), PROTO_OK);
	cr_assert_eq(
	    rf_cmd(rcpt, PROTO_SUB, s->q[1].rid, &s->q[1].rkey, &reply),
	    PROTO_OK);
	expect_msg(rcpt, &s->q[1], "three", s->msg_id[2]);
	cr_assert_eq(rf_ack(rcpt, &s->q[1], s->msg_id[2], &reply), PROTO_OK);
}

/* The counters a finished session leaves. */
static void
expect_session_stats(const char *line)
{
	cr_assert_eq(stat_of(line, "conns_total"), 2, "%s", line);
	cr_assert_eq(stat_of(line, "refused"), 0, "%s", line);
	cr_assert_eq(stat_of(line, "queues"), 2, "%s", line);
	cr_assert_eq(stat_of(line, "pending"), 0, "%s", line);
	cr_assert_eq(stat_of(line, "msgs_in"), 3, "%s", line);
	cr_assert_eq(stat_of(line, "msgs_out"), 3, "%s", line);
	cr_assert_eq(stat_of(line, "acked"), 3, "%s", line);
	cr_assert_eq(stat_of(line, "expired"), 0, "%s", line);
}

Test(relay_ops, sigusr1_and_stats_print_what_the_session_did)
{
	const char *args[] = {
	    "--listen", "127.0.0.1:0", "--stats", "--no-fsync", NULL};
	struct ops_relay *r = &relay;
	struct rf_conn *rcpt, *snd;
	struct session s;
	char *line;

	ops_init(r, true);
	ops_start(r, args);
	/* Before anything: all zero. */
	kill(r->pid, SIGUSR1);
	line = ops_wait_line(r, "noid-relay: stats ", 1);
	cr_assert_not_null(line, "SIGUSR1 printed no stats");
	cr_assert_eq(stat_of(line, "conns_total"), 0, "%s", line);
	cr_assert_eq(stat_of(line, "queues"), 0, "%s", line);
	cr_assert_eq(stat_of(line, "msgs_in"), 0, "%s", line);
	free(line);

	rcpt = ops_connect(r);
	snd = ops_connect(r);
	run_session(rcpt, snd, &s);
	kill(r->pid, SIGUSR1);
	line = ops_wait_line(r, "noid-relay: stats ", 2);
	cr_assert_not_null(line, "the second SIGUSR1 printed no stats");
	expect_session_stats(line);
	cr_assert_eq(stat_of(line, "conns"), 2, "%s", line);
	cr_assert_eq(stat_of(line, "dropped"), 0, "%s", line);
	free(line);
	/* SIGUSR1 does not stop it. */
	cr_assert_eq(waitpid(r->pid, NULL, WNOHANG), 0);

	rf_close(rcpt);
	rf_close(snd);
	ops_stop_clean(r);
	/* --stats: the same counters once more at exit. */
	line = ops_wait_line(r, "noid-relay: stats ", 3);
	cr_assert_not_null(line, "--stats printed nothing at exit");
	expect_session_stats(line);
	free(line);
}

Test(relay_ops, clients_that_hang_up_are_not_counted_as_dropped)
{
	const char *args[] = {"--listen", "127.0.0.1:0", "--no-fsync", NULL};
	struct ops_relay *r = &relay;
	struct rf_conn *c[2];
	struct proto_tx reply;
	char line[512], *got;
	int i, n;

	ops_init(r, true);
	ops_start(r, args);
	for (i = 0; i < 2; i++) {
		c[i] = ops_connect(r);
		cr_assert_eq(
		    rf_cmd(c[i], PROTO_PING, NULL, NULL, &reply), PROTO_PONG);
		rf_close(c[i]);
	}
	/* Ask until the relay has seen both go. */
	for (n = 1; n <= 50; n++) {
		kill(r->pid, SIGUSR1);
		got = ops_wait_line(r, "noid-relay: stats ", n);
		cr_assert_not_null(got, "SIGUSR1 printed no stats");
		snprintf(line, sizeof line, "%s", got);
		free(got);
		if (stat_of(line, "conns") == 0)
			break;
		nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
	}
	cr_assert_eq(stat_of(line, "conns"), 0, "%s", line);
	cr_assert_eq(stat_of(line, "conns_total"), 2, "%s", line);
	/* relay-server.h: dropped counts slow readers, timeouts and bad
	 * frames, not a client that said goodbye. */
	cr_assert_eq(stat_of(line, "dropped"), 0, "%s", line);
	ops_stop_clean(r);
}

Test(relay_ops, no_stats_at_exit_without_the_flag)
{
	const char *args[] = {"--listen", "127.0.0.1:0", "--no-fsync", NULL};
	struct ops_relay *r = &relay;
	char *text;

	ops_init(r, true);
	ops_start(r, args);
	ops_stop_clean(r);
	text = slurp(r->err);
	cr_assert_null(strstr(text, "stats"), "stderr: %s", text);
	free(text);
}

/* Fail if text holds needle. */
static void
expect_absent(const char *what, const char *text, const char *needle)
{
	cr_assert_null(
	    strstr(text, needle), "%s holds '%s':\n%s", what, needle, text);
}

/* Fail if text holds id in any usual encoding (or a prefix of one). */
static void
expect_no_id(const char *what, const char *text, const uint8_t *id)
{
	char *enc[5], *p;
	size_t i;

	enc[0] = hex_encode(id, NOID_ID_LEN);
	enc[1] = xstrdup(enc[0]);
	for (p = enc[1]; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	enc[2] = b64url_encode(id, NOID_ID_LEN);
	enc[3] = xstrdup(enc[2]); /* standard base64 */
	for (p = enc[3]; *p != '\0'; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	enc[4] = base32_encode(id, NOID_ID_LEN);
	for (i = 0; i < 5; i++) {
		enc[i][8] = '\0'; /* a truncated id is still an id */
		expect_absent(what, text, enc[i]);
		free(enc[i]);
	}
}

/* Fail if any file in dir holds needle, or is named like a log. */
static void
expect_no_logs_in(const char *dir, const char *needle)
{
	static const char *const known[] = {
	    "relay.key", "noid-relay.conf", "journal", "lock"};
	struct dirent *e;
	DIR *d = opendir(dir);
	char *path, *text;
	size_t i;

	cr_assert_not_null(d, "cannot list %s", dir);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		for (i = 0; i < sizeof known / sizeof known[0]; i++)
			if (strcmp(e->d_name, known[i]) == 0)
				break;
		cr_assert_lt(i, sizeof known / sizeof known[0],
		    "unexpected file in the data dir: %s", e->d_name);
		path = path_join(dir, e->d_name);
		text = slurp(path);
		cr_assert_null(
		    strstr(text, needle), "%s holds '%s'", path, needle);
		free(text);
		free(path);
	}
	closedir(d);
}

Test(relay_ops, no_addresses_or_ids_in_the_output_or_the_data_dir)
{
	const char *args[] = {
	    "--listen", "127.0.0.1:0", "--stats", "--no-fsync", NULL};
	struct ops_relay *r = &relay;
	struct rf_conn *rcpt, *snd;
	struct rf_key stranger;
	struct proto_tx reply;
	struct session s;
	char *out, *err, *rest, *p, *nl;
	int fd, i;

	ops_init(r, true);
	ops_start(r, args);
	rcpt = ops_connect(r);
	snd = ops_connect(r);
	run_session(rcpt, snd, &s);
	/* Error paths too: a wrong key, and a connection that sends junk
	 * instead of a handshake. */
	rf_keygen(&stranger);
	cr_assert_eq(
	    rf_cmd(snd, PROTO_GET, s.q[0].rid, &stranger, &reply), PROTO_ERR);
	cr_assert_eq(reply.u.err.code, PROTO_E_AUTH);
	fd = rf_tcp_connect(r->addr.port);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "GET / HTTP/1.0\r\n\r\n", 18), 18);
	kill(r->pid, SIGUSR1);
	free(ops_wait_line(r, "noid-relay: stats ", 1));
	close(fd);
	rf_close(rcpt);
	rf_close(snd);
	ops_stop_clean(r);

	out = slurp(r->out);
	err = slurp(r->err);
	/* stdout: the address line, and nothing else. */
	nl = strchr(out, '\n');
	cr_assert_not_null(nl);
	cr_assert_eq(strncmp(out, r->line, (size_t)(nl - out)), 0);
	rest = nl + 1;
	cr_assert_str_empty(rest, "stdout after the address: %s", rest);
	expect_absent("stderr", err, "127.0.0.1");
	for (i = 0; i < 2; i++) {
		expect_no_id("stdout", out, s.q[i].rid);
		expect_no_id("stdout", out, s.q[i].sid);
		expect_no_id("stderr", err, s.q[i].rid);
		expect_no_id("stderr", err, s.q[i].sid);
	}
	for (i = 0; i < 3; i++) {
		expect_no_id("stdout", out, s.msg_id[i]);
		expect_no_id("stderr", err, s.msg_id[i]);
	}
	expect_absent("stderr", err, "three");
	/* stderr: only the start line and the counters. */
	for (p = err; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		cr_assert(
		    strncmp(p, "noid-relay: new relay key created;", 34) == 0 ||
		        strncmp(p, "noid-relay: stats ", 18) == 0,
		    "unexpected stderr line: %s", p);
	}
	cr_assert_str_empty(p, "unterminated stderr: %s", p);
	free(out);
	free(err);
	expect_no_logs_in(r->data, "127.0.0.1");
}

/* Whether this machine can bind [::1]. */
static bool
have_ipv6_loopback(void)
{
	struct sockaddr_in6 sin6;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof sin6) == 0;
	close(fd);
	return ok;
}

struct pushes {
	int n;
	struct relay_reply r[4];
};

static void
on_push(struct relay_client *c, const struct proto_tx *tx, void *arg)
{
	struct pushes *p = arg;

	(void)c;
	if (p->n < 4)
		relay_reply_copy(&p->r[p->n++], tx);
}

Test(relay_ops, ipv6_listener_full_round_trip)
{
	const char *args[] = {"--listen", "[::1]:0", "--no-fsync", NULL};
	static struct relay_msg m;
	struct ops_relay *r = &relay;
	struct relay_queue_keys k;
	struct relay_queue q;
	struct pushes p = {0};
	struct relay_client *rc, *sc;
	uint64_t end;

	if (!have_ipv6_loopback())
		cr_skip_test("no IPv6 loopback on this machine");
	ops_init(r, true);
	ops_start(r, args);
	cr_assert(r->addr.ipv6, "address line: %s", r->line);
	cr_assert_str_eq(r->addr.host, "::1", "address line: %s", r->line);
	cr_assert_neq(r->addr.port, 0);
	cr_assert_not_null(strstr(r->line, "@[::1]:"), "%s", r->line);

	cr_assert_eq(
	    relay_client_connect_blocking(&r->addr, T_MS, on_push, &p, &rc), 0);
	cr_assert_eq(
	    relay_client_connect_blocking(&r->addr, T_MS, NULL, NULL, &sc), 0);
	relay_queue_keys_new(&k);
	cr_assert_eq(relay_client_create_queue(rc, &k, NULL, T_MS, &q), 0);
	cr_assert_eq(relay_client_secure(
	                 rc, &k.rcpt_auth, q.rid, k.sender_auth.pub, T_MS),
	    0);
	cr_assert_eq(
	    relay_client_send(sc, &k.sender_auth, q.sid, 0, "over v6", 7, T_MS),
	    0);
	cr_assert_eq(relay_client_subscribe(rc, &k.rcpt_auth, q.rid, T_MS), 0);
	end = clock_mono_ms() + T_MS;
	while (p.n < 1 && clock_mono_ms() < end) {
		int error = relay_client_poll(rc, T_MS);

		cr_assert(error == 0 || error == NOID_ERR_TIMEOUT, "%s",
		    noid_strerror(error));
	}
	cr_assert_eq(p.n, 1, "no MSG pushed over IPv6");
	cr_assert_eq(p.r[0].tx.tag, PROTO_MSG);
	cr_assert_eq(relay_msg_open(&p.r[0].tx, q.shared, &m), 0);
	cr_assert_eq(m.body_len, 7);
	cr_assert_eq(memcmp(m.body, "over v6", 7), 0);
	cr_assert_eq(
	    relay_client_ack(rc, &k.rcpt_auth, q.rid, m.msg_id, T_MS), 0);
	relay_client_free(rc);
	relay_client_free(sc);
	ops_stop_clean(r);
}

/* Mode bits of path (fails when missing). */
static mode_t
mode_of(const char *path)
{
	struct stat sb;

	cr_assert_eq(stat(path, &sb), 0, "%s is missing", path);
	return sb.st_mode & 07777;
}

Test(relay_ops, default_data_dir_follows_xdg_then_home)
{
	struct ops_relay *r = &relay;
	char *home, *xdg, *dir, *key, *conf, *first, *again;
	char listen[64];
	const char *args[] = {"--listen", "127.0.0.1:0", "--no-fsync", NULL};
	const char *args2[] = {"--listen", listen, "--no-fsync", NULL};

	ops_init(r, false);
	home = path_join(r->dir, "home");
	xdg = path_join(r->dir, "xdg");
	/* As root the default is /var/lib/noid-relay: run as nobody. */
	if (geteuid() == 0) {
		r->uid = NOBODY;
		cr_assert_eq(chown(r->dir, NOBODY, NOBODY), 0);
	}
	cr_assert_eq(mkdir(home, 0700), 0);
	if (r->uid != 0)
		cr_assert_eq(chown(home, NOBODY, NOBODY), 0);
	r->home = home;
	r->xdg = xdg;
	ops_start(r, args);
	dir = path_join(xdg, "noid-relay");
	key = path_join(dir, "relay.key");
	conf = path_join(dir, "noid-relay.conf");
	cr_assert_eq(mode_of(dir), 0700);
	cr_assert_eq(mode_of(key), 0600);
	cr_assert_eq(mode_of(conf) & 0077, 0, "config readable by others");
	first = xstrdup(r->line);
	ops_stop_clean(r);
	/* Nothing went to HOME while XDG_DATA_HOME was set. */
	again = path_join(home, ".local");
	cr_assert_neq(access(again, F_OK), 0, "%s was created", again);
	free(again);

	/* Same dir, same port: the very same address. */
	snprintf(listen, sizeof listen, "127.0.0.1:%u", r->addr.port);
	ops_start(r, args2);
	cr_assert_str_eq(r->line, first);
	ops_stop_clean(r);

	/* Without XDG_DATA_HOME: HOME/.local/share, a new key. */
	r->xdg = NULL;
	ops_start(r, args);
	again = path_join(home, ".local/share/noid-relay/relay.key");
	cr_assert_eq(mode_of(again), 0600);
	cr_assert_neq(strcmp(r->line, first), 0);
	ops_stop_clean(r);
	free(again);
	free(first);
	free(dir);
	free(key);
	free(conf);
	free(home);
	free(xdg);
}

Test(relay_ops, contrib_example_config_loads_and_applies)
{
	const char *args[] = {"--config",
	    NOID_SRC_DIR "/contrib/noid-relay.conf", "--listen", "127.0.0.1:0",
	    "--no-fsync", NULL};
	struct ops_relay *r = &relay;
	struct rf_conn *c;
	struct rf_queue q;
	struct proto_tx reply;

	ops_init(r, true);
	ops_start(r, args);
	/* public_host from the file names the relay. */
	cr_assert_str_eq(r->addr.host, "relay.example.org", "%s", r->line);
	c = ops_connect(r);
	cr_assert_eq(rf_cmd(c, PROTO_PING, NULL, NULL, &reply), PROTO_PONG);
	/* access_key from the file guards NEW. */
	cr_assert_eq(rf_new_queue(c, NULL, &q), -1000 - PROTO_E_BLOCKED);
	cr_assert_eq(rf_new_queue(c, "wrong", &q), -1000 - PROTO_E_BLOCKED);
	cr_assert_eq(rf_new_queue(c, "change-me-to-something-long", &q), 0);
	rf_close(c);
	ops_stop_clean(r);
}
