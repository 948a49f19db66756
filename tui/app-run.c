/*
 * app-run: how a command gets run.
 *
 * One-shot (a shell typed `noid send ...` and nobody holds the data
 * dir): open the store, pick the profile, and for network commands run
 * the agent until idle before (take in what waits) and after (what the
 * command queued has left).  Instance (a TUI or `noid daemon` holds the
 * dir): the command arrives over the control socket and runs on the
 * already open engine, its output framed back.  Either way the same
 * handler from cli-table.c runs.
 */
#include "client.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP_NET_TIMEOUT_MS 20000

/* Write to our own fds (one-shot commands). */
static void
app_run_write(struct cli_ctx *ctx, int fd, const void *p, size_t len)
{
	const uint8_t *q = p;
	ssize_t n;

	(void)ctx;
	while (len > 0) {
		n = write(fd, q, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		q += n;
		len -= (size_t)n;
	}
}

/* A one-shot command finished: stop a running agent_run. */
static void
app_run_done(struct cli_ctx *ctx, int code)
{
	(void)code;
	if (ctx->app != NULL && ctx->app->agent != NULL)
		agent_stop(ctx->app->agent);
}

/* Read all of stdin, up to max bytes. */
static int
app_read_stdin(uint8_t **out, size_t *len, size_t max)
{
	struct buf b;
	ssize_t n;

	buf_init(&b);
	for (;;) {
		buf_reserve(&b, 65536);
		n = read(0, b.data + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_free(&b);
			return NOID_ERR_IO;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > max) {
			buf_free(&b);
			return NOID_ERR_TOOBIG;
		}
	}
	*out = b.data;
	*len = b.len;
	return 0;
}

/* Print why the store did not open, and the exit code for it. */
static int
app_open_error(const char *dir, int rc)
{
	long pid = 0;

	switch (rc) {
	case NOID_ERR_NOENT:
		fprintf(stderr,
		    "noid: no noid data in %s: run 'noid init' "
		    "first\n",
		    dir);
		return EXIT_USER;
	case NOID_ERR_PASSWORD:
		fprintf(stderr, "noid: wrong password for %s\n", dir);
		return EXIT_USER;
	case NOID_ERR_LOCKED:
		store_lock_holder(dir, &pid);
		if (ctl_instance_alive(dir)) {
			/* Only commands that never go through it get here. */
			fprintf(stderr,
			    "noid: noid is running on %s (process %ld); "
			    "this command needs it stopped first\n",
			    dir, pid);
			return EXIT_USER;
		}
		fprintf(stderr,
		    "noid: %s is in use by process %ld, which does "
		    "not answer on its control socket; stop it or "
		    "wait for it to exit\n",
		    dir, pid);
		return EXIT_LOCKED;
	default:
		fprintf(stderr, "noid: can't open %s: %s\n", dir,
		    noid_strerror(rc));
		return EXIT_USER;
	}
}

/*
 * Open the store of g->dir into app, asking for the password when the
 * store has one.  0, or the exit code after printing why not.
 */
int
app_open(struct app *app, const struct app_globals *g)
{
	char *pw = NULL;
	int yes = 0, rc;

	rc = store_has_password(g->dir, &yes);
	if (rc == NOID_ERR_NOENT || (rc == 0 && access(g->dir, F_OK) != 0))
		return app_open_error(g->dir, NOID_ERR_NOENT);
	if (rc != 0)
		return app_open_error(g->dir, rc);
	if (yes) {
		rc = cli_password(g->password_file, "Password: ", &pw);
		if (rc == NOID_ERR_NOENT && g->password_file != NULL) {
			fprintf(stderr,
			    "noid: can't read the password file "
			    "%s\n",
			    g->password_file);
			return EXIT_USER;
		}
		if (rc == NOID_ERR_NOENT) {
			fprintf(stderr,
			    "noid: %s needs its password: set "
			    "NOID_PASSWORD or use --password-file\n",
			    g->dir);
			return EXIT_USER;
		}
		if (rc != 0)
			return app_open_error(g->dir, rc);
	}
	rc = app_open_store(app, pw, 0);
	secret_free(pw);
	return rc != 0 ? app_open_error(g->dir, rc) : 0;
}

/* Pick the profile for a command; 0 or the exit code after a message. */
static int
app_run_profile(struct app *app, const struct app_globals *g, int needed)
{
	int rc = app_profile_select(app, g->profile);

	if (rc == NOID_ERR_NOENT && g->profile != NULL) {
		fprintf(stderr,
		    "noid: no profile named '%s' (see 'noid "
		    "profiles')\n",
		    g->profile);
		return EXIT_USER;
	}
	if (rc == NOID_ERR_NOENT && !needed)
		return 0;
	if (rc == NOID_ERR_NOENT) {
		fprintf(stderr,
		    "noid: no profile yet: create one with 'noid "
		    "profiles add NAME'\n");
		return EXIT_USER;
	}
	if (rc != 0) {
		fprintf(stderr, "noid: %s\n", noid_strerror(rc));
		return EXIT_USER;
	}
	return 0;
}

/* Run the agent until idle; say so when the network is not there. */
static void
app_run_idle(struct app *app)
{
	if (app_agent_settle(app, APP_NET_TIMEOUT_MS) == NOID_ERR_TIMEOUT)
		fprintf(stderr,
		    "noid: warning: the relays did not answer in "
		    "time; what is queued goes next time noid "
		    "runs\n");
}

/* Run a parsed command here, on a freshly opened engine. */
static int
app_run_local(const struct app_globals *g, struct cli_ctx *ctx)
{
	const struct cli_cmd *cmd = ctx->cmd;
	struct app *app = app_new(g->dir);
	int code;

	ctx->app = app;
	app->globals = g;
	if (cmd->flags & CLI_NO_STORE) {
		cli_run(ctx);
		goto out;
	}
	if ((code = app_open(app, g)) != 0)
		goto fail;
	if ((code = app_run_profile(app, g, !(cmd->flags & CLI_NO_PROFILE))))
		goto fail;
	if ((cmd->flags & CLI_NET) && app->has_profile) {
		if ((code = app_agent_start(app)) != 0) {
			fprintf(stderr, "noid: can't start the network: %s%s\n",
			    noid_strerror(code),
			    app->relay_err ? " (the embedded noid-relay did "
			                     "not start; is it installed?)"
			                   : "");
			code = EXIT_USER;
			goto fail;
		}
		app_run_idle(app);
	}
	cli_run(ctx);
	while (!ctx->finished && app->agent != NULL)
		agent_run(app->agent, -1, 0);
	if ((cmd->flags & CLI_NET) && app->agent != NULL)
		app_run_idle(app);
out:
	code = ctx->finished ? ctx->code : EXIT_USER;
fail:
	app_free(app);
	return code;
}

/* `noid COMMAND ...`: parse, hand to a running instance, or run here. */
int
app_run_command(const struct app_globals *g, int argc, char **argv)
{
	const struct cli_cmd *cmd;
	struct cli_ctx ctx;
	struct ctl_request req;
	uint8_t *in = NULL;
	size_t inlen = 0;
	char *cause = NULL;
	int rc, code;

	memset(&ctx, 0, sizeof ctx);
	rc = cli_parse(argc, argv, &ctx, &cmd, &cause);
	if (rc == 1) {
		if (cmd != NULL)
			cli_help(stdout, cmd);
		else
			cli_usage(stdout);
		code = 0;
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr, "noid: %s\n", cause);
		code = EXIT_USAGE;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((cmd->flags & CLI_STDIN) && ctx.argc == cmd->min_args) {
		if ((rc = app_read_stdin(&in, &inlen, CTL_REQUEST_MAX / 2)) !=
		    0) {
			fprintf(stderr, "noid: can't read stdin: %s\n",
			    noid_strerror(rc));
			code = EXIT_USER;
			goto out;
		}
		ctx.in = in;
		ctx.inlen = inlen;
		ctx.has_in = 1;
	}
	if (!(cmd->flags & CLI_LOCAL)) {
		memset(&req, 0, sizeof req);
		req.argc = argc;
		req.argv = argv;
		req.profile = (char *)g->profile;
		req.in = in;
		req.inlen = inlen;
		req.has_in = ctx.has_in;
		if (ctl_client_run(g->dir, &req, &code) == 0)
			goto out;
	}
	ctx.write = app_run_write;
	ctx.done = app_run_done;
	ctx.err_tty = isatty(STDERR_FILENO);
	code = app_run_local(g, &ctx);
out:
	free(ctx.argv);
	free(cause);
	free(in);
	return code;
}

/* ---- instance side: commands from the control socket -------------------- */

/* Run a request that came over the control socket. */
static void
app_ctl_exec(void *arg, struct ctl_request *req, struct cli_ctx *ctx)
{
	struct app *app = arg;
	const struct cli_cmd *cmd;
	char *cause = NULL;
	int rc;

	ctx->app = app;
	rc = cli_parse(req->argc, req->argv, ctx, &cmd, &cause);
	if (rc != 0) {
		if (rc == 1)
			cli_finish(ctx, 0);
		else {
			cli_fail(ctx, "%s", cause);
			cli_finish(ctx, EXIT_USAGE);
		}
		goto out;
	}
	if (cmd->flags & CLI_LOCAL) {
		cli_finish(ctx,
		    cli_fail(ctx,
		        "'%s' can't run while noid is "
		        "running on %s (stop it first)",
		        cmd->name, app->dir));
		goto out;
	}
	if (req->profile != NULL &&
	    (!app->has_profile ||
	        strcmp(req->profile, app->profile_name) != 0)) {
		cli_finish(ctx,
		    cli_fail(ctx,
		        "the running noid is on profile "
		        "'%s'; switch it to '%s' first",
		        app->profile_name ? app->profile_name : "",
		        req->profile));
		goto out;
	}
	if (!app->has_profile && !(cmd->flags & CLI_NO_PROFILE)) {
		cli_finish(ctx,
		    cli_fail(ctx,
		        "no profile yet: create one with "
		        "'noid profiles add NAME'"));
		goto out;
	}
	ctx->in = req->in;
	ctx->inlen = req->inlen;
	ctx->has_in = req->has_in;
	cli_run(ctx);
out:
	free(cause);
}

/* The agents (current profile's and the others') as a loop source. */
static size_t
app_src_fill(void *arg, struct pollfd *fds, size_t max)
{
	return app_agents_pollfds(arg, fds, max);
}

static void
app_src_ready(void *arg, const struct pollfd *fds, size_t n)
{
	app_agents_on_ready(arg, fds, n);
}

static int
app_src_timeout(void *arg)
{
	return app_agents_timeout_ms(arg);
}

/* SIGINT/SIGTERM/SIGHUP: leave the loop. */
static void
app_on_quit(int sig, void *arg)
{
	struct app *app = arg;

	(void)sig;
	app->quit = 1;
}

/*
 * Become an instance: the loop, the control socket, the agent in the
 * loop.  The store is open and a profile may be selected.
 */
int
app_instance_start(struct app *app)
{
	int rc;

	app->loop = app_loop_new();
	app_loop_source_set(
	    app->loop, app_src_fill, app_src_ready, app_src_timeout, app);
	signal(SIGPIPE, SIG_IGN);
	app_loop_signal_set(app->loop, SIGTERM, app_on_quit, app);
	app_loop_signal_set(app->loop, SIGHUP, app_on_quit, app);
	if ((rc = ctl_server_start(
	         app->loop, app->dir, app_ctl_exec, app, &app->ctl)) != 0)
		return rc;
	if (app->has_profile)
		return app_agent_start(app);
	return 0;
}

/* `noid daemon`: an instance without a screen. */
int
cli_exec_daemon(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	int rc;

	if ((rc = app_instance_start(app)) != 0)
		return cli_fail(ctx, "can't start: %s", noid_strerror(rc));
	app_loop_signal_set(app->loop, SIGINT, app_on_quit, app);
	cli_printf(ctx, "noid daemon on %s (pid %ld), profile '%s'\n", app->dir,
	    (long)getpid(), app->profile_name);
	rc = app_loop_run(app->loop, &app->quit);
	return rc == 0 ? 0 : cli_fail(ctx, "%s", noid_strerror(rc));
}
