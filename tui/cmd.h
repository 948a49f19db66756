/*
 * noid — cmd: the slash-command table and everything it drives.
 *
 * One table (tui/cmd-table.c) lists every command with its argument
 * synopsis, argument counts, one-line and long help.  From it come the
 * parser's checks, /help, Tab completion of names, and the man page.
 * Handlers and argument completers live in tui/cmd-*.c and are attached
 * at start-up with cmd_set_handler()/cmd_set_completer(), so the table
 * is plain data and builds before any handler exists.
 *
 * A typed line that starts with '/' is a command; "//text" sends
 * "/text" as a message.  Words split on blanks with "double" and
 * 'single' quotes and backslash escapes; a command marked rest takes the
 * remainder of the line as its last argument, as typed (a pasted link may
 * hold spaces and line breaks; the handler cleans it).  Names match on
 * any unique prefix; an exact name always wins.
 *
 * Errors for people follow tmux: functions return a negative enum
 * noid_err and set *cause to a sentence (caller frees).
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_CMD_H
#define NOID_CMD_H

#include <stddef.h>

#include "input-line.h"

struct client; /* the running client, defined by tui/client code */

/* Run a command; argv[0] is its full name.  0 or a negative noid_err. */
typedef int (*cmd_handler)(struct client *c, int argc, char **argv);

/*
 * Add to out the values argument argi (1-based) could take that start
 * with prefix (contacts, profiles, ...); out->start is set by the caller.
 */
typedef void (*cmd_completer)(struct client *c, int argi, const char *prefix,
    struct input_completion *out);

struct cmd_entry {
	const char *name; /* without the '/' */
	const char *args; /* synopsis: "LINK", "[NAME]" */
	int min_args;
	int max_args; /* -1: no limit */
	int rest; /* the last argument is the rest of the line */
	const char *help; /* one line */
	const char *long_help;
	cmd_handler handler; /* NULL until registered */
	cmd_completer completer;
};

/* The table, in /help order. */
size_t cmd_count(void);
const struct cmd_entry *cmd_get(size_t i);

/* Attach a handler/completer; NOID_ERR_NOENT for an unknown name. */
int cmd_set_handler(const char *name, cmd_handler fn);
int cmd_set_completer(const char *name, cmd_completer fn);

/*
 * Whether line is a command.  When it is a message, *text (if not NULL)
 * points at what to send: line itself, or line + 1 for "//...".
 */
int cmd_is_command(const char *line, const char **text);

/*
 * Find a command by name or unique prefix (a leading '/' is allowed).
 * NULL with *cause "unknown command" or "ambiguous: /re could be ...".
 */
const struct cmd_entry *cmd_find(const char *name, char **cause);

/*
 * Split a command line into *argv (argv[0] is the full command name,
 * NULL-terminated; free with cmd_free_argv) after finding the command
 * and checking the argument count.  *entry gets the command.
 */
int cmd_parse(const char *line, const struct cmd_entry **entry, int *argc,
    char ***argv, char **cause);
void cmd_free_argv(int argc, char **argv);

/*
 * Parse and run line through its handler.  NOID_ERR_STATE with a cause
 * when the command has no handler yet; else the handler's result.
 */
int cmd_execute(struct client *c, const char *line, char **cause);

/*
 * /help text (caller frees): with name NULL, every command with its
 * synopsis and one-line help; with a name, its usage and long help.
 */
int cmd_help(const char *name, char **text, char **cause);

/* "/connect LINK": a command's usage line (caller frees). */
char *cmd_usage(const struct cmd_entry *e);

/* A cmd_completer for command names (for /help's argument). */
void cmd_complete_name(struct client *c, int argi, const char *prefix,
    struct input_completion *out);

/*
 * An input_complete_cb: completes command names in the first word and,
 * through the command's completer, its arguments.  arg is the struct
 * client passed to completers.
 */
void cmd_complete(void *arg, const char *buf, size_t len, size_t cursor,
    struct input_completion *out);

#endif
