/*
 * cli-parse: turn a command line into a table entry and its arguments,
 * and give a running command its output channel.
 *
 * Options follow the command words: `--name VALUE`, `--name=VALUE`, or
 * a flag; `--` ends them; `--help` anywhere asks for the command's help.
 * A command's output never goes to stdio directly: it goes through the
 * context, which either writes to this process's fds (one-shot) or
 * frames it back over the control socket (a running instance).
 */
#include "client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Find the entry for name (and sub, when the table has one). */
static const struct cli_cmd *
cli_find(const char *name, const char *sub)
{
	const struct cli_cmd *plain = NULL;
	size_t i;

	for (i = 0; i < cli_ncmds; i++) {
		if (strcmp(cli_cmds[i].name, name) != 0)
			continue;
		if (cli_cmds[i].sub == NULL)
			plain = &cli_cmds[i];
		else if (sub != NULL && strcmp(cli_cmds[i].sub, sub) == 0)
			return &cli_cmds[i];
	}
	return plain;
}

/* Whether name is a command with subcommands and sub is not one. */
static int
cli_sub_unknown(const char *name, const char *sub)
{
	size_t i;
	int has_subs = 0;

	for (i = 0; i < cli_ncmds; i++) {
		if (strcmp(cli_cmds[i].name, name) != 0 ||
		    cli_cmds[i].sub == NULL)
			continue;
		has_subs = 1;
		if (strcmp(cli_cmds[i].sub, sub) == 0)
			return 0;
	}
	return has_subs;
}

/* Index of option name in cmd, or -1. */
static int
cli_opt_index(const struct cli_cmd *cmd, const char *name, size_t len)
{
	int i;

	for (i = 0; i < CLI_OPTS_MAX && cmd->opts[i].name != NULL; i++)
		if (strlen(cmd->opts[i].name) == len &&
		    strncmp(cmd->opts[i].name, name, len) == 0)
			return i;
	return -1;
}

/* Parse argv (command words first) into ctx. */
int
cli_parse(int argc, char **argv, struct cli_ctx *ctx,
    const struct cli_cmd **cmdp, char **cause)
{
	const struct cli_cmd *cmd;
	const char *a, *eq;
	int i, k, words, nopts = 1, help = 0;
	size_t len;

	*cmdp = NULL;
	*cause = NULL;
	if (argc < 1) {
		xasprintf(cause, "no command given");
		return EXIT_USAGE;
	}
	cmd = cli_find(argv[0], argc > 1 ? argv[1] : NULL);
	if (cmd == NULL) {
		xasprintf(
		    cause, "unknown command '%s' (see noid --help)", argv[0]);
		return EXIT_USAGE;
	}
	*cmdp = cmd;
	words = cmd->sub != NULL ? 2 : 1;
	ctx->cmd = cmd;
	ctx->argc = 0;
	ctx->argv = xcalloc((size_t)argc + 1, sizeof *ctx->argv);
	memset(ctx->opt, 0, sizeof ctx->opt);
	for (i = words; i < argc; i++) {
		a = argv[i];
		if (!nopts || a[0] != '-' || a[1] == '\0') {
			ctx->argv[ctx->argc++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			nopts = 0;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help = 1;
			continue;
		}
		if (a[1] != '-') {
			xasprintf(cause, "unknown option '%s' for '%s'", a,
			    cmd->name);
			return EXIT_USAGE;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq != NULL ? (size_t)(eq - a) : strlen(a);
		if ((k = cli_opt_index(cmd, a, len)) < 0) {
			xasprintf(cause, "unknown option '%s' for '%s'",
			    argv[i], cmd->name);
			return EXIT_USAGE;
		}
		if (cmd->opts[k].arg == NULL) {
			if (eq != NULL) {
				xasprintf(cause, "--%s takes no value",
				    cmd->opts[k].name);
				return EXIT_USAGE;
			}
			ctx->opt[k] = "";
		} else if (eq != NULL)
			ctx->opt[k] = eq + 1;
		else if (i + 1 < argc)
			ctx->opt[k] = argv[++i];
		else {
			xasprintf(cause, "--%s needs a value (%s)",
			    cmd->opts[k].name, cmd->opts[k].arg);
			return EXIT_USAGE;
		}
	}
	if (help)
		return 1;
	if (cmd->sub == NULL && argc > 1 && ctx->argc > 0 &&
	    cmd->max_args == 0 && cli_sub_unknown(cmd->name, argv[1])) {
		xasprintf(cause,
		    "unknown subcommand '%s %s' (see noid %s "
		    "--help)",
		    cmd->name, argv[1], cmd->name);
		return EXIT_USAGE;
	}
	if (ctx->argc < cmd->min_args ||
	    (cmd->max_args >= 0 && ctx->argc > cmd->max_args)) {
		xasprintf(cause, "usage: noid %s%s%s%s%s", cmd->name,
		    cmd->sub ? " " : "", cmd->sub ? cmd->sub : "",
		    cmd->args ? " " : "", cmd->args ? cmd->args : "");
		return EXIT_USAGE;
	}
	return 0;
}

/* The value of option name, NULL when not given. */
const char *
cli_opt(const struct cli_ctx *ctx, const char *name)
{
	int k = cli_opt_index(ctx->cmd, name, strlen(name));

	return k < 0 ? NULL : ctx->opt[k];
}

/* Hand output to the context's writer. */
void
cli_write(struct cli_ctx *ctx, const void *p, size_t len)
{
	ctx->write(ctx, 1, p, len);
}

/* printf to the command's stdout. */
void
cli_printf(struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = xvasprintf(&s, fmt, ap);
	va_end(ap);
	ctx->write(ctx, 1, s, (size_t)n);
	free(s);
}

/* An error message on the command's stderr; returns EXIT_USER. */
int
cli_fail(struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *s, *line;
	int n;

	va_start(ap, fmt);
	xvasprintf(&s, fmt, ap);
	va_end(ap);
	n = xasprintf(&line, "noid: %s\n", s);
	ctx->write(ctx, 2, line, (size_t)n);
	free(line);
	free(s);
	return EXIT_USER;
}

/* Finish the command with code (once). */
void
cli_finish(struct cli_ctx *ctx, int code)
{
	if (ctx->finished)
		return;
	ctx->finished = 1;
	ctx->code = code;
	if (ctx->done != NULL)
		ctx->done(ctx, code);
}

/* Run the parsed command. */
void
cli_run(struct cli_ctx *ctx)
{
	int code = ctx->cmd->exec(ctx);

	if (code != CLI_PENDING)
		cli_finish(ctx, code);
}
