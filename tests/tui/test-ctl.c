/*
 * Tests for tui/ctl-* (the control socket) and tui/app-loop.c (the poll
 * loop it runs in): wire format round trips and every malformed input,
 * a real server and client over a UNIX socket in a temp dir, and the
 * loop's timers and signal self-pipe.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"

static char *
test_tmpdir(void)
{
	char tmpl[] = "/tmp/noid-ctl-XXXXXX";
	char *d = mkdtemp(tmpl);

	cr_assert_not_null(d);
	return xstrdup(d);
}

static void
test_rmdir(char *dir)
{
	char *cmd;

	xasprintf(&cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

Test(ctl_proto, request_round_trip_keeps_args_profile_and_binary_stdin)
{
	char *argv[] = {"send", "alice", "hé 世界"};
	const uint8_t in[] = {'a', 0, 'b', 0xff};
	struct ctl_request req = {.argc = 3,
	    .argv = argv,
	    .profile = "work",
	    .in = (uint8_t *)in,
	    .inlen = sizeof in,
	    .has_in = 1};
	struct ctl_request out;
	struct buf b;

	buf_init(&b);
	ctl_request_encode(&b, &req);
	cr_assert_eq(be32_get(b.data), b.len - 4);
	cr_assert_eq(ctl_request_decode(b.data + 4, b.len - 4, &out), 0);
	cr_assert_eq(out.argc, 3);
	cr_assert_str_eq(out.argv[2], "hé 世界");
	cr_assert_null(out.argv[3]);
	cr_assert_str_eq(out.profile, "work");
	cr_assert_eq(out.has_in, 1);
	cr_assert_eq(out.inlen, sizeof in);
	cr_assert_eq(memcmp(out.in, in, sizeof in), 0);
	ctl_request_clear(&out);
	buf_free(&b);
}

Test(ctl_proto, every_truncation_and_trailing_byte_is_refused)
{
	char *argv[] = {"read", "bob"};
	struct ctl_request req = {.argc = 2, .argv = argv};
	struct ctl_request out;
	struct buf b;
	size_t i;

	buf_init(&b);
	ctl_request_encode(&b, &req);
	for (i = 0; i < b.len - 4; i++)
		cr_assert_neq(ctl_request_decode(b.data + 4, i, &out), 0,
		    "truncated at %zu accepted", i);
	buf_put_u8(&b, 0);
	cr_assert_neq(ctl_request_decode(b.data + 4, b.len - 4, &out), 0);
	buf_free(&b);
}

Test(ctl_proto, bad_version_nul_in_arg_no_args_and_huge_argc_are_refused)
{
	char *argv[] = {"send", "x"};
	struct ctl_request req = {.argc = 2, .argv = argv};
	struct ctl_request out;
	struct buf b;
	size_t argc_at;

	buf_init(&b);
	ctl_request_encode(&b, &req);
	b.data[4] = CTL_VERSION + 1;
	cr_assert_eq(
	    ctl_request_decode(b.data + 4, b.len - 4, &out), NOID_ERR_INVAL);
	b.data[4] = CTL_VERSION;
	/* "x" is the last byte of the last argument, before the stdin flag. */
	b.data[b.len - 2] = '\0';
	cr_assert_eq(
	    ctl_request_decode(b.data + 4, b.len - 4, &out), NOID_ERR_INVAL);
	argc_at = 4 + 2;
	be32_put(b.data + argc_at, CTL_ARGS_MAX + 1);
	cr_assert_neq(ctl_request_decode(b.data + 4, b.len - 4, &out), 0);
	buf_reset(&b);
	req.argc = 0;
	ctl_request_encode(&b, &req);
	cr_assert_eq(
	    ctl_request_decode(b.data + 4, b.len - 4, &out), NOID_ERR_INVAL);
	buf_free(&b);
}

Test(ctl_proto, frames_parse_only_when_complete_and_check_type_and_size)
{
	struct buf b;
	const uint8_t *body;
	size_t len, used;
	int type;
	uint8_t bad[5] = {9, 0, 0, 0, 0};

	buf_init(&b);
	ctl_frame_put(&b, CTL_FRAME_OUT, "hello", 5);
	cr_assert_eq(
	    ctl_frame_get(b.data, b.len - 1, &type, &body, &len, &used), 0);
	cr_assert_eq(
	    ctl_frame_get(b.data, b.len, &type, &body, &len, &used), 1);
	cr_assert_eq(type, CTL_FRAME_OUT);
	cr_assert_eq(len, 5);
	cr_assert_eq(used, b.len);
	cr_assert_eq(
	    ctl_frame_get(bad, 5, &type, &body, &len, &used), NOID_ERR_INVAL);
	bad[0] = CTL_FRAME_ERR;
	be32_put(bad + 1, CTL_FRAME_MAX + 1);
	cr_assert_eq(
	    ctl_frame_get(bad, 5, &type, &body, &len, &used), NOID_ERR_TOOBIG);
	bad[0] = CTL_FRAME_EXIT;
	be32_put(bad + 1, 3);
	cr_assert_eq(
	    ctl_frame_get(bad, 5, &type, &body, &len, &used), NOID_ERR_INVAL);
	buf_free(&b);
}

/* Server side of the round trip: echo argv, report stdin, exit argc. */
static void
test_exec(void *arg, struct ctl_request *req, struct cli_ctx *ctx)
{
	int i;

	(void)arg;
	for (i = 0; i < req->argc; i++) {
		ctx->write(ctx, 1, req->argv[i], strlen(req->argv[i]));
		ctx->write(ctx, 1, "\n", 1);
	}
	ctx->write(ctx, 2, "stdin:", 6);
	if (req->has_in)
		ctx->write(ctx, 2, req->in, req->inlen);
	ctx->done(ctx, req->argc);
}

static void
test_on_term(int sig, void *arg)
{
	(void)sig;
	*(int *)arg = 1;
}

/* Fork a process serving dir's control socket with test_exec. */
static pid_t
test_server(const char *dir)
{
	struct app_loop *loop;
	struct ctl_server *srv;
	int p[2], done = 0;
	char c;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {
		close(p[0]);
		loop = app_loop_new();
		app_loop_signal_set(loop, SIGTERM, test_on_term, &done);
		if (ctl_server_start(loop, dir, test_exec, NULL, &srv) != 0)
			_exit(2);
		if (write(p[1], "r", 1) != 1)
			_exit(3);
		app_loop_run(loop, &done);
		ctl_server_stop(srv);
		app_loop_free(loop);
		_exit(0);
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &c, 1), 1, "server did not start");
	close(p[0]);
	return pid;
}

/* Run a request with fds 1 and 2 sent to files; returns the exit code. */
static int
test_client(const char *dir, struct ctl_request *req, char **out, char **err)
{
	char *po = path_join(dir, "out"), *pe = path_join(dir, "err");
	int so = dup(1), se = dup(2), fo, fe, code = -1, rc;
	uint8_t *data;
	size_t len;

	fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = ctl_client_run(dir, req, &code);
	dup2(so, 1);
	dup2(se, 2);
	close(fo);
	close(fe);
	close(so);
	close(se);
	cr_assert_eq(rc, 0);
	cr_assert_eq(file_read_all(po, 1 << 20, &data, &len), 0);
	*out = (char *)data;
	cr_assert_eq(file_read_all(pe, 1 << 20, &data, &len), 0);
	*err = (char *)data;
	free(po);
	free(pe);
	return code;
}

Test(ctl, a_command_runs_in_the_serving_process_with_its_stdin)
{
	char *dir = test_tmpdir(), *out, *err, *sock;
	char *argv[] = {"send", "alice"};
	struct ctl_request req = {.argc = 2,
	    .argv = argv,
	    .in = (uint8_t *)"hello\n",
	    .inlen = 6,
	    .has_in = 1};
	struct stat sb;
	pid_t pid = test_server(dir);
	int status;

	sock = path_join(dir, CTL_SOCKET_NAME);
	cr_assert_eq(stat(sock, &sb), 0);
	cr_assert_eq(
	    sb.st_mode & 0777, 0600, "socket mode %o", sb.st_mode & 0777);
	cr_assert_eq(test_client(dir, &req, &out, &err), 2);
	cr_assert_str_eq(out, "send\nalice\n");
	cr_assert_str_eq(err, "stdin:hello\n");
	free(out);
	free(err);
	/* A second caller is served too (one request per connection). */
	req.has_in = 0;
	req.argc = 1;
	cr_assert_eq(test_client(dir, &req, &out, &err), 1);
	cr_assert_str_eq(out, "send\n");
	free(out);
	free(err);
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_neq(access(sock, F_OK), 0, "socket left behind");
	free(sock);
	test_rmdir(dir);
}

Test(ctl, no_instance_means_noent_and_the_command_runs_locally)
{
	char *dir = test_tmpdir(), *sock = path_join(dir, CTL_SOCKET_NAME);
	char *argv[] = {"contacts"};
	struct ctl_request req = {.argc = 1, .argv = argv};
	int code, fd;

	cr_assert_eq(ctl_client_run(dir, &req, &code), NOID_ERR_NOENT);
	/* A stale socket file from a killed instance: nobody listens. */
	fd = open(sock, O_WRONLY | O_CREAT, 0600);
	close(fd);
	cr_assert_eq(ctl_client_run(dir, &req, &code), NOID_ERR_NOENT);
	free(sock);
	test_rmdir(dir);
}

static void
test_timer(void *arg)
{
	int *order = arg;

	order[order[0]++ + 1] = 1;
}

static void
test_timer2(void *arg)
{
	int *order = arg;

	order[order[0]++ + 1] = 2;
}

Test(app_loop, timers_fire_in_deadline_order_and_cancelled_ones_never)
{
	struct app_loop *loop = app_loop_new();
	int order[8] = {0};
	uint64_t id;

	app_loop_timer_add(loop, 30, test_timer, order);
	app_loop_timer_add(loop, 1, test_timer2, order);
	id = app_loop_timer_add(loop, 5, test_timer, order);
	app_loop_timer_del(loop, id);
	while (order[0] < 2)
		cr_assert_eq(app_loop_once(loop), 0);
	cr_assert_eq(order[1], 2);
	cr_assert_eq(order[2], 1);
	app_loop_free(loop);
}

static void
test_on_usr1(int sig, void *arg)
{
	*(int *)arg = sig;
}

Test(app_loop, a_signal_arrives_as_a_callback_inside_the_loop)
{
	struct app_loop *loop = app_loop_new();
	int got = 0;

	cr_assert_eq(app_loop_signal_set(loop, SIGUSR1, test_on_usr1, &got), 0);
	kill(getpid(), SIGUSR1);
	/* The handler only wrote to the pipe; the callback runs here. */
	while (got == 0)
		cr_assert_eq(app_loop_once(loop), 0);
	cr_assert_eq(got, SIGUSR1);
	app_loop_free(loop);
}
