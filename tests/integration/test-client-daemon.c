/*
 * `noid daemon` and the control socket: with an instance running on a
 * data dir, other `noid` commands go through its socket (mode 0600)
 * instead of opening the database; `read --follow` streams what the
 * running agent takes in; commands that must own the data dir say that
 * noid is running; SIGTERM stops it and removes the socket.
 */
#include <sys/stat.h>

#include "test-client-fix.h"

/* Start a daemon on dir; wait until its socket answers. */
static pid_t
daemon_start(const char *dir, char **log)
{
	char *sock = path_join(dir, "noid.sock");
	pid_t pid;

	*log = path_join(dir, "../daemon.log");
	pid = noid_spawn(dir, "pw", *log, "daemon", NULL);
	cr_assert(
	    file_wait_for(*log, "noid daemon on"), "daemon did not start");
	cr_assert_eq(access(sock, F_OK), 0);
	free(sock);
	return pid;
}

/* Stop it the way a service manager would. */
static void
daemon_stop(pid_t pid)
{
	int status;

	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

Test(daemon, commands_go_through_the_socket_and_follow_streams, .timeout = 120)
{
	struct pair p;
	struct run r;
	struct stat sb;
	char *log, *sock, *flog;
	pid_t d, f;
	int status;

	pair_connect(&p);
	d = daemon_start(p.a, &log);
	sock = path_join(p.a, "noid.sock");
	cr_assert_eq(stat(sock, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	/* The database is the daemon's: this only works through it. */
	r = noid(p.a, "pw", NULL, "contacts", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "bob\ttext\tconnected"), "%s", r.out);
	run_free(&r);
	flog = path_join(p.a, "../follow.log");
	f = noid_spawn(p.a, "pw", flog, "read", "bob", "--follow", NULL);
	r = noid(p.b, "pw", NULL, "send", "alice", "live 世界", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	cr_assert(file_wait_for(flog, "bob> live 世界"), "follow saw nothing");
	/* Sending through the daemon, with the text on stdin. */
	r = noid(p.a, "pw", "via the socket\n", "send", "bob", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(p.b, "pw", NULL, "read", "alice", NULL);
	cr_assert_not_null(strstr(r.out, "alice> via the socket"), "%s", r.out);
	run_free(&r);
	/* Errors come back with their exit code. */
	r = noid(p.a, "pw", NULL, "send", "nobody", "x", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "nobody"));
	run_free(&r);
	/* Owning the data dir is not possible while it runs: said so. */
	r = noid(p.a, "pw", NULL, "passwd", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "noid is running"), "%s", r.err);
	run_free(&r);
	r = noid(p.a, "pw", NULL, "daemon", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "noid is running"), "%s", r.err);
	run_free(&r);
	/* The follower ends when the instance does. */
	daemon_stop(d);
	cr_assert_eq(waitpid(f, &status, 0), f);
	cr_assert_neq(access(sock, F_OK), 0, "socket left behind");
	/* Afterwards one-shot commands open the store again. */
	r = noid(p.a, "pw", NULL, "contacts", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	free(flog);
	free(sock);
	free(log);
	pair_free(&p);
}

Test(daemon, a_holder_that_does_not_answer_exits_3, .timeout = 60)
{
	char *d = tmp_init_named("alice"), *log, *sock;
	struct run r;
	pid_t pid;

	pid = daemon_start(d, &log);
	/* Stopped, it holds the lock but can't answer. */
	cr_assert_eq(kill(pid, SIGSTOP), 0);
	sock = path_join(d, "noid.sock");
	cr_assert_eq(unlink(sock), 0);
	r = noid(d, "pw", NULL, "contacts", NULL);
	cr_assert_eq(r.code, 3, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "does not answer"), "%s", r.err);
	run_free(&r);
	cr_assert_eq(kill(pid, SIGCONT), 0);
	daemon_stop(pid);
	free(sock);
	free(log);
	tmp_free(d);
}
