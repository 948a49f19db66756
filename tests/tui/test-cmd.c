/*
 * Tests for tui/cmd.c and tui/cmd-table.c: the table, parsing with
 * quotes and rest-of-line arguments, prefix lookup and its errors,
 * argument counts, handlers, /help and completion.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "cmd.h"
#include "input-line.h"

static const char *required[] = {"invite", "connect", "requests", "accept",
    "reject", "profile", "contact", "relays", "devices", "search", "help",
    "quit", "rename", "verify", "rekey", "rotate", "delete"};

#define NREQUIRED (sizeof required / sizeof required[0])

Test(cmd, table_has_every_command_with_help)
{
	for (size_t i = 0; i < NREQUIRED; i++) {
		char *cause;
		const struct cmd_entry *e = cmd_find(required[i], &cause);
		cr_assert_not_null(e, "missing /%s", required[i]);
		cr_assert_str_eq(e->name, required[i]);
	}
	for (size_t i = 0; i < cmd_count(); i++) {
		const struct cmd_entry *e = cmd_get(i);
		cr_assert_not_null(e->help);
		cr_assert_not_null(e->long_help);
		cr_assert(e->max_args < 0 || e->min_args <= e->max_args);
		cr_assert(!e->rest || e->max_args > 0);
		cr_assert(
		    (e->args == NULL) == (e->max_args == 0), "/%s", e->name);
		for (size_t j = i + 1; j < cmd_count(); j++)
			cr_assert_str_neq(e->name, cmd_get(j)->name);
	}
	cr_assert_null(cmd_get(cmd_count()));
}

Test(cmd, commands_and_messages)
{
	const char *text;

	cr_assert(cmd_is_command("/quit", &text));
	cr_assert_null(text);
	cr_assert_not(cmd_is_command("//quit is a command", &text));
	cr_assert_str_eq(text, "/quit is a command");
	cr_assert_not(cmd_is_command("hello /quit", &text));
	cr_assert_str_eq(text, "hello /quit");
	cr_assert_not(cmd_is_command("", &text));
	cr_assert_str_eq(text, "");
}

Test(cmd, find_by_exact_name_and_unique_prefix)
{
	char *cause;

	cr_assert_str_eq(cmd_find("conn", &cause)->name, "connect");
	cr_assert_null(cause);
	cr_assert_str_eq(cmd_find("/q", &cause)->name, "quit");
	cr_assert_str_eq(cmd_find("rek", &cause)->name, "rekey");
	cr_assert_str_eq(cmd_find("help", &cause)->name, "help");
}

Test(cmd, ambiguous_and_unknown_names_say_why)
{
	char *cause;

	cr_assert_null(cmd_find("con", &cause));
	cr_assert_not_null(strstr(cause, "ambiguous"));
	cr_assert_not_null(strstr(cause, "/connect"));
	cr_assert_not_null(strstr(cause, "/contact"));
	free(cause);
	cr_assert_null(cmd_find("re", &cause));
	for (const char *n = "/requests\0/reject\0/rename\0/rekey\0/relays\0";
	     *n; n += strlen(n) + 1)
		cr_assert_not_null(strstr(cause, n), "%s not in %s", n, cause);
	free(cause);
	cr_assert_null(cmd_find("/frobnicate", &cause));
	cr_assert_not_null(strstr(cause, "unknown command /frobnicate"));
	free(cause);
	cr_assert_null(cmd_find("/", &cause));
	cr_assert_not_null(cause);
	free(cause);
}

Test(cmd, parse_rest_of_line_keeps_a_pasted_link)
{
	const struct cmd_entry *e;
	char **argv, *cause;
	int argc;

	cr_assert_eq(cmd_parse("  /conn  NOID:ABC DEF\n GHI \n", &e, &argc,
	                 &argv, &cause),
	    0);
	cr_assert_str_eq(e->name, "connect");
	cr_assert_eq(argc, 2);
	cr_assert_str_eq(argv[0], "connect");
	cr_assert_str_eq(argv[1], "NOID:ABC DEF\n GHI");
	cr_assert_null(argv[2]);
	cmd_free_argv(argc, argv);

	cr_assert_eq(
	    cmd_parse("/search  two words ", &e, &argc, &argv, &cause), 0);
	cr_assert_eq(argc, 2);
	cr_assert_str_eq(argv[1], "two words");
	cmd_free_argv(argc, argv);
}

Test(cmd, parse_quotes_and_escapes)
{
	const struct cmd_entry *e;
	char **argv, *cause;
	int argc;

	cr_assert_eq(cmd_parse("/relays add 'relay one' \"k\\\"e y\"", &e,
	                 &argc, &argv, &cause),
	    0);
	cr_assert_eq(argc, 4);
	cr_assert_str_eq(argv[1], "add");
	cr_assert_str_eq(argv[2], "relay one");
	cr_assert_str_eq(argv[3], "k\"e y");
	cmd_free_argv(argc, argv);

	cr_assert_eq(
	    cmd_parse("/relays a\\ b ''", &e, &argc, &argv, &cause), 0);
	cr_assert_eq(argc, 3);
	cr_assert_str_eq(argv[1], "a b");
	cr_assert_str_eq(argv[2], "");
	cmd_free_argv(argc, argv);

	cr_assert_eq(cmd_parse("/relays add \"open", &e, &argc, &argv, &cause),
	    NOID_ERR_INVAL);
	cr_assert_not_null(strstr(cause, "unterminated quote"));
	cr_assert_null(argv);
	cr_assert_null(e);
	free(cause);
}

Test(cmd, parse_checks_argument_counts)
{
	const struct cmd_entry *e;
	char **argv, *cause;
	int argc;

	cr_assert_eq(
	    cmd_parse("/accept", &e, &argc, &argv, &cause), NOID_ERR_INVAL);
	cr_assert_str_eq(cause, "missing argument; usage: /accept REQUEST");
	free(cause);
	cr_assert_eq(
	    cmd_parse("/quit now", &e, &argc, &argv, &cause), NOID_ERR_INVAL);
	cr_assert_str_eq(cause, "too many arguments; usage: /quit");
	free(cause);
	cr_assert_eq(cmd_parse("/relays a b c d", &e, &argc, &argv, &cause),
	    NOID_ERR_INVAL);
	free(cause);
	cr_assert_eq(
	    cmd_parse("hello", &e, &argc, &argv, &cause), NOID_ERR_INVAL);
	free(cause);
	cr_assert_eq(cmd_parse("/x", &e, &argc, &argv, &cause), NOID_ERR_INVAL);
	cr_assert_not_null(strstr(cause, "unknown"));
	free(cause);
	cr_assert_eq(cmd_parse("/profile", &e, &argc, &argv, &cause), 0);
	cr_assert_eq(argc, 1);
	cmd_free_argv(argc, argv);
}

static int seen_argc;
static char seen[256];

static int
record(struct client *c, int argc, char **argv)
{
	(void)c;
	seen_argc = argc;
	snprintf(seen, sizeof seen, "%s|%s", argv[0], argc > 1 ? argv[1] : "");
	return NOID_ERR_NOENT;
}

Test(cmd, execute_runs_the_registered_handler)
{
	char *cause = NULL;

	cr_assert_eq(
	    cmd_execute(NULL, "/search hello world", &cause), NOID_ERR_STATE);
	cr_assert_not_null(strstr(cause, "/search"));
	free(cause);
	cr_assert_eq(cmd_set_handler("search", record), 0);
	cr_assert_eq(cmd_set_handler("nosuch", record), NOID_ERR_NOENT);
	cr_assert_eq(cmd_execute(NULL, "/sea hello world", &cause),
	    NOID_ERR_NOENT, "the handler's result comes back");
	cr_assert_eq(seen_argc, 2);
	cr_assert_str_eq(seen, "search|hello world");
	cr_assert_eq(cmd_execute(NULL, "/search", &cause), NOID_ERR_INVAL);
	free(cause);
}

Test(cmd, help_lists_every_command)
{
	char *text, *cause, *usage;

	cr_assert_eq(cmd_help(NULL, &text, &cause), 0);
	for (size_t i = 0; i < cmd_count(); i++) {
		const struct cmd_entry *e = cmd_get(i);
		usage = cmd_usage(e);
		cr_assert_not_null(strstr(text, usage), "%s missing", usage);
		cr_assert_not_null(strstr(text, e->help));
		free(usage);
	}
	free(text);
	cr_assert_eq(cmd_help("conn", &text, &cause), 0);
	cr_assert_not_null(strstr(text, "usage: /connect [LINK]"));
	cr_assert_not_null(
	    strstr(text, cmd_find("connect", &cause)->long_help));
	free(text);
	cr_assert_eq(cmd_help("co", &text, &cause), NOID_ERR_NOENT);
	cr_assert_null(text);
	cr_assert_not_null(strstr(cause, "ambiguous"));
	free(cause);
}

/* A completer for /accept: two pending requests. */
static void
complete_requests(struct client *c, int argi, const char *prefix,
    struct input_completion *out)
{
	(void)c;
	cr_assert_eq(argi, 1);
	if (strncmp("alice", prefix, strlen(prefix)) == 0)
		input_completion_add(out, "alice");
	if (strncmp("albert", prefix, strlen(prefix)) == 0)
		input_completion_add(out, "albert");
}

/* Run cmd_complete on line with the cursor at its end. */
static void
complete(const char *line, struct input_completion *out)
{
	memset(out, 0, sizeof *out);
	cmd_complete(NULL, line, strlen(line), strlen(line), out);
}

Test(cmd, completion_of_names_and_arguments)
{
	struct input_completion c;

	complete("/re", &c);
	cr_assert_eq(c.n, 5);
	cr_assert_eq(c.start, 0);
	cr_assert_str_eq(c.words[0], "/requests");
	input_completion_free(&c);
	complete("/", &c);
	cr_assert_eq(c.n, cmd_count());
	input_completion_free(&c);
	complete("hello", &c);
	cr_assert_eq(c.n, 0);
	complete("//he", &c);
	cr_assert_eq(c.n, 0);
	complete("/help con", &c);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.start, 6);
	cr_assert_str_eq(c.words[0], "connect");
	input_completion_free(&c);
	complete("/search al", &c);
	cr_assert_eq(c.n, 0, "no completer, no candidates");
	cr_assert_eq(cmd_set_completer("accept", complete_requests), 0);
	complete("/acc al", &c);
	cr_assert_eq(c.n, 2);
	cr_assert_eq(c.start, 5);
	input_completion_free(&c);
	complete("/accept ali", &c);
	cr_assert_eq(c.n, 1);
	cr_assert_str_eq(c.words[0], "alice");
	input_completion_free(&c);
}

Test(cmd, completion_drives_the_input_line)
{
	struct input_line *il = input_line_create();
	size_t len;

	input_line_set_completer(il, cmd_complete, NULL);
	input_line_insert(il, "/conn", 5);
	cr_assert_eq(input_line_op(il, INPUT_OP_COMPLETE), INPUT_CHANGED);
	cr_assert_str_eq(input_line_text(il, &len), "/connect ");
	input_line_free(il);
}
