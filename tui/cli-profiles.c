/*
 * cli-profiles: the data dir and its profiles — init, profiles, passwd,
 * export, import, help.
 */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long `profiles rm` waits for relays to pass on the goodbyes. */
#define CLI_PROFILE_RM_WAIT_MS 10000

/* This machine's name, for the device record of a new profile. */
static void
cli_device_name(char *buf, size_t len)
{
	if (gethostname(buf, len) != 0 || buf[0] == '\0')
		snprintf(buf, len, "this device");
	buf[len - 1] = '\0';
}

/* Create profile name on the open store; its id in id. */
int
cli_profile_create(struct app *app, const char *name, uint8_t id[STORE_ID_LEN])
{
	char host[256];

	cli_device_name(host, sizeof host);
	return store_profile_create(app->st, name, host, id);
}

/* `noid init`. */
int
cli_exec_init(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	const struct app_globals *g = app->globals;
	const char *name = cli_opt(ctx, "name");
	uint8_t id[STORE_ID_LEN];
	char *pw = NULL;
	int yes, rc, code = EXIT_USER;

	if (store_has_password(app->dir, &yes) == 0 &&
	    access(app->dir, F_OK) == 0)
		return cli_fail(ctx,
		    "%s already holds noid data (see 'noid "
		    "profiles')",
		    app->dir);
	if (name == NULL)
		name = "me";
	if (*name == '\0' || strlen(name) > AGENT_NAME_MAX)
		return cli_fail(
		    ctx, "a display name has 1 to %d bytes", AGENT_NAME_MAX);
	if (cli_opt(ctx, "no-password") == NULL) {
		if (g->password_file != NULL || getenv("NOID_PASSWORD"))
			rc = cli_password(g->password_file, "", &pw);
		else
			rc = cli_password_new("NOID_PASSWORD", &pw);
		if (rc == NOID_ERR_NOENT)
			return cli_fail(ctx,
			    "no password given: set "
			    "NOID_PASSWORD, use --password-file, "
			    "or --no-password (weaker)");
		if (rc == NOID_ERR_AUTH)
			return cli_fail(ctx, "the two passwords differ");
		if (rc != 0)
			return cli_fail(ctx, "%s", noid_strerror(rc));
		if (*pw == '\0') {
			secret_free(pw);
			return cli_fail(ctx,
			    "empty password: give one, or "
			    "choose --no-password (weaker)");
		}
	}
	if ((rc = dir_make_private(app->dir)) != 0 ||
	    (rc = app_open_store(app, pw, 1)) != 0) {
		cli_fail(
		    ctx, "can't create %s: %s", app->dir, noid_strerror(rc));
		goto out;
	}
	if ((rc = cli_profile_create(app, name, id)) != 0) {
		cli_fail(
		    ctx, "can't create the profile: %s", noid_strerror(rc));
		goto out;
	}
	app_profile_switch(app, id);
	cli_printf(ctx, "created %s with profile '%s'\n", app->dir, name);
	if (pw == NULL)
		cli_printf(ctx,
		    "warning: no password — anyone who can read "
		    "this disk can read your messages\n");
	code = 0;
out:
	secret_free(pw);
	return code;
}

/* Total unread messages of a profile. */
static uint64_t
cli_profile_unread(struct app *app, const uint8_t id[STORE_ID_LEN])
{
	struct store_contact *cs = NULL;
	size_t n = 0, i;
	uint64_t total = 0;

	if (store_contacts_list(app->st, id, &cs, &n) != 0)
		return 0;
	for (i = 0; i < n; i++)
		total += cs[i].unread;
	store_contacts_free(cs, n);
	return total;
}

/* `noid profiles`. */
int
cli_exec_profiles(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct store_profile *ps = NULL;
	size_t n = 0, i;
	uint64_t unread;
	int rc, cur;

	if ((rc = store_profiles_list(app->st, &ps, &n)) != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	for (i = 0; i < n; i++) {
		cur = app->has_profile &&
		    memcmp(ps[i].id, app->profile, STORE_ID_LEN) == 0;
		unread = cli_profile_unread(app, ps[i].id);
		cli_printf(ctx, "%c %s", cur ? '*' : ' ', ps[i].name);
		if (unread > 0)
			cli_printf(
			    ctx, "  (%llu unread)", (unsigned long long)unread);
		cli_printf(ctx, "\n");
	}
	store_profiles_free(ps, n);
	return 0;
}

/* Find a profile by name; NOID_ERR_NOENT when none. */
int
cli_profile_find(struct app *app, const char *name, uint8_t id[STORE_ID_LEN])
{
	struct store_profile *ps = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = store_profiles_list(app->st, &ps, &n)) != 0)
		return rc;
	rc = NOID_ERR_NOENT;
	for (i = 0; i < n; i++) {
		if (ps[i].name != NULL && strcmp(ps[i].name, name) == 0) {
			memcpy(id, ps[i].id, STORE_ID_LEN);
			rc = 0;
		}
	}
	store_profiles_free(ps, n);
	return rc;
}

/* `noid profiles add NAME`. */
int
cli_exec_profiles_add(struct cli_ctx *ctx)
{
	uint8_t id[STORE_ID_LEN];
	const char *name = ctx->argv[0];
	int rc;

	if (*name == '\0' || strlen(name) > AGENT_NAME_MAX)
		return cli_fail(
		    ctx, "a display name has 1 to %d bytes", AGENT_NAME_MAX);
	if (cli_profile_find(ctx->app, name, id) == 0)
		return cli_fail(ctx, "there is already a profile '%s'", name);
	if ((rc = cli_profile_create(ctx->app, name, id)) != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	cli_printf(ctx, "created profile '%s' (use it with --profile '%s')\n",
	    name, name);
	return 0;
}

/* `noid profiles rename OLD NEW`. */
int
cli_exec_profiles_rename(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	uint8_t id[STORE_ID_LEN], other[STORE_ID_LEN];
	int rc;

	if (cli_profile_find(app, ctx->argv[0], id) != 0)
		return cli_fail(ctx, "no profile named '%s'", ctx->argv[0]);
	if (*ctx->argv[1] == '\0' || strlen(ctx->argv[1]) > AGENT_NAME_MAX)
		return cli_fail(
		    ctx, "a display name has 1 to %d bytes", AGENT_NAME_MAX);
	if (cli_profile_find(app, ctx->argv[1], other) == 0)
		return cli_fail(
		    ctx, "there is already a profile '%s'", ctx->argv[1]);
	if ((rc = store_profile_set(app->st, id, "name", ctx->argv[1])) != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	/* Connected contacts learn the new name through the agent. */
	if (app->agent != NULL && app->has_profile &&
	    memcmp(app->profile, id, STORE_ID_LEN) == 0) {
		agent_set_profile(app->agent, ctx->argv[1], NULL);
		free(app->profile_name);
		app->profile_name = xstrdup(ctx->argv[1]);
	}
	return 0;
}

/* `noid profiles rm NAME`. */
int
cli_exec_profiles_rm(struct cli_ctx *ctx)
{
	uint8_t id[STORE_ID_LEN];

	int rc;

	if (cli_profile_find(ctx->app, ctx->argv[0], id) != 0)
		return cli_fail(ctx, "no profile named '%s'", ctx->argv[0]);
	if ((rc = app_profile_delete(ctx->app, id, CLI_PROFILE_RM_WAIT_MS)) !=
	    0)
		return cli_fail(ctx, "can't delete '%s': %s", ctx->argv[0],
		    noid_strerror(rc));
	cli_printf(ctx, "deleted profile '%s' and its history\n", ctx->argv[0]);
	return 0;
}

/* `noid passwd`: the store is open (app-run.c asked for the old one). */
int
cli_exec_passwd(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	char *new = NULL;
	int rc, code = EXIT_USER;

	if (cli_opt(ctx, "no-password") == NULL) {
		rc = cli_password_new("NOID_NEW_PASSWORD", &new);
		if (rc == NOID_ERR_AUTH) {
			cli_fail(ctx, "the two passwords differ");
			goto out;
		}
		if (rc != 0 || *new == '\0') {
			cli_fail(ctx,
			    "no new password given: set "
			    "NOID_NEW_PASSWORD, or --no-password "
			    "(weaker)");
			goto out;
		}
	}
	rc = store_change_password_flags(
	    app->st, app->password, new, app->store_flags & STORE_FAST_KDF);
	if (rc == NOID_ERR_PASSWORD)
		cli_fail(ctx, "wrong password for %s", app->dir);
	else if (rc != 0)
		cli_fail(ctx, "%s", noid_strerror(rc));
	else {
		cli_printf(ctx, "password changed%s\n",
		    new == NULL ? " (removed: weaker)" : "");
		code = 0;
	}
out:
	secret_free(new);
	return code;
}

/* The archive password: NOID_EXPORT_PASSWORD, else the store's. */
static const char *
cli_archive_password(struct app *app)
{
	const char *env = getenv("NOID_EXPORT_PASSWORD");

	return env != NULL && *env != '\0' ? env : app->password;
}

/* Progress of an export or import on the command's stderr. */
struct cli_progress {
	struct cli_ctx *ctx;
	const char *verb;
	int shown; /* last percentage shown, -1 none */
};

/*
 * Show done/total: redrawn in place at each new percent on a terminal,
 * one line per 10% otherwise so logs stay short.
 */
static int
cli_progress_show(uint64_t done, uint64_t total, void *arg)
{
	struct cli_progress *p = arg;
	int pct =
	    total == 0 ? 100 : (int)(done >= total ? 100 : done * 100 / total);
	int step = p->ctx->err_tty ? 1 : 10;
	char *line;
	int n;

	if (p->shown >= 0 && pct / step == p->shown / step)
		return 0;
	p->shown = pct;
	n = xasprintf(&line, "%s%s: %llu/%llu records (%d%%)%s",
	    p->ctx->err_tty ? "\r" : "", p->verb, (unsigned long long)done,
	    (unsigned long long)total, pct, p->ctx->err_tty ? "" : "\n");
	p->ctx->write(p->ctx, 2, line, (size_t)n);
	free(line);
	return 0;
}

/* End the in-place progress line on a terminal. */
static void
cli_progress_end(struct cli_progress *p)
{
	if (p->ctx->err_tty && p->shown >= 0)
		p->ctx->write(p->ctx, 2, "\n", 1);
}

/* `noid export FILE`. */
int
cli_exec_export(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	const char *pw = cli_archive_password(app);
	struct cli_progress prog = {ctx, "exporting", -1};
	int rc;

	if (pw == NULL)
		return cli_fail(ctx,
		    "this data dir has no password: set "
		    "NOID_EXPORT_PASSWORD for the archive");
	rc = store_export(app->st, app->profile, ctx->argv[0], pw,
	    app->store_flags, cli_progress_show, &prog);
	cli_progress_end(&prog);
	if (rc != 0)
		return cli_fail(ctx, "can't export to %s: %s", ctx->argv[0],
		    noid_strerror(rc));
	cli_printf(ctx,
	    "exported profile '%s' to %s\n"
	    "note: the file holds this profile's keys; once imported "
	    "elsewhere, stop using this copy (one copy sends and "
	    "receives)\n",
	    app->profile_name, ctx->argv[0]);
	return 0;
}

/* `noid import FILE`. */
int
cli_exec_import(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	const char *pw = cli_archive_password(app);
	struct cli_progress prog = {ctx, "importing", -1};
	uint8_t id[STORE_ID_LEN];
	int rc;

	if (pw == NULL)
		return cli_fail(ctx,
		    "set NOID_EXPORT_PASSWORD to the "
		    "archive's password");
	rc = store_import(
	    app->st, ctx->argv[0], pw, cli_progress_show, &prog, id);
	cli_progress_end(&prog);
	if (rc == NOID_ERR_PASSWORD)
		return cli_fail(ctx, "wrong password for %s", ctx->argv[0]);
	if (rc == NOID_ERR_EXISTS)
		return cli_fail(ctx, "that profile is already here");
	if (rc != 0)
		return cli_fail(ctx, "can't import %s: %s", ctx->argv[0],
		    noid_strerror(rc));
	cli_printf(ctx, "imported %s\n", ctx->argv[0]);
	return 0;
}

/* `noid help [COMMAND [SUB]] [--man]`. */
int
cli_exec_help(struct cli_ctx *ctx)
{
	struct cli_ctx sub;
	const struct cli_cmd *cmd = NULL;
	char *text = NULL, *cause = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	memset(&sub, 0, sizeof sub);
	if (cli_opt(ctx, "man") != NULL)
		cli_man(f);
	else if (ctx->argc == 0)
		cli_usage(f);
	else {
		cli_parse(ctx->argc, ctx->argv, &sub, &cmd, &cause);
		if (cmd == NULL) {
			fclose(f);
			free(text);
			free(sub.argv);
			free(cause);
			return cli_fail(ctx,
			    "no command '%s' (see noid --help)", ctx->argv[0]);
		}
		cli_help(f, cmd);
	}
	fclose(f);
	cli_write(ctx, text, len);
	free(text);
	free(sub.argv);
	free(cause);
	return 0;
}
