/*
 * cmd: parsing, lookup, /help and completion over the command table
 * (see cmd.h; the table itself is in cmd-table.c).
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "utf8.h"

/* Blanks between words; a pasted link may bring line breaks. */
static int
cmd_is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* A NUL-terminated copy of n bytes (caller frees). */
static char *
cmd_strndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int
cmd_is_command(const char *line, const char **text)
{
	int cmd = line[0] == '/' && line[1] != '/';

	if (text != NULL)
		*text = cmd ? NULL : line + (line[0] == '/');
	return cmd;
}

const struct cmd_entry *
cmd_find(const char *name, char **cause)
{
	const struct cmd_entry *e, *found = NULL;
	struct buf list;
	size_t len, n = 0;

	*cause = NULL;
	if (name[0] == '/')
		name++;
	len = strlen(name);
	if (len == 0) {
		*cause = xstrdup("no command name; /help lists the commands");
		return NULL;
	}
	for (size_t i = 0; i < cmd_count(); i++) {
		e = cmd_get(i);
		if (strcmp(e->name, name) == 0)
			return e;
		if (strncmp(e->name, name, len) == 0) {
			found = e;
			n++;
		}
	}
	if (n == 1)
		return found;
	if (n == 0) {
		xasprintf(cause,
		    "unknown command /%s; /help lists the commands", name);
		return NULL;
	}
	buf_init(&list);
	for (size_t i = 0; i < cmd_count(); i++) {
		e = cmd_get(i);
		if (strncmp(e->name, name, len) != 0)
			continue;
		buf_put(
		    &list, list.len == 0 ? "/" : ", /", list.len == 0 ? 1 : 3);
		buf_put(&list, e->name, strlen(e->name));
	}
	buf_put_u8(&list, '\0');
	xasprintf(cause, "ambiguous command /%s: could be %s", name,
	    (char *)list.data);
	buf_free(&list);
	return NULL;
}

/*
 * Read one word at *pp into out (quotes and backslashes as in cmd.h);
 * *pp ends after it.  NOID_ERR_INVAL for an unterminated quote.
 */
static int
cmd_word(const char **pp, struct buf *out)
{
	const char *p = *pp;
	char quote = 0;

	for (; *p != '\0'; p++) {
		if (quote == '\'') {
			if (*p == '\'')
				quote = 0;
			else
				buf_put_u8(out, (uint8_t)*p);
		} else if (*p == '\\' && p[1] != '\0' &&
		    (quote == 0 || p[1] == '"' || p[1] == '\\')) {
			buf_put_u8(out, (uint8_t) * ++p);
		} else if (quote == '"') {
			if (*p == '"')
				quote = 0;
			else
				buf_put_u8(out, (uint8_t)*p);
		} else if (*p == '"' || *p == '\'')
			quote = *p;
		else if (cmd_is_blank(*p))
			break;
		else
			buf_put_u8(out, (uint8_t)*p);
	}
	*pp = p;
	return quote != 0 ? NOID_ERR_INVAL : 0;
}

/* Append a copy of s (n bytes) to the argument vector. */
static void
cmd_add_arg(int *argc, char ***argv, const char *s, size_t n)
{
	*argv = xreallocarray(*argv, (size_t)*argc + 2, sizeof **argv);
	(*argv)[(*argc)++] = cmd_strndup(s, n);
	(*argv)[*argc] = NULL;
}

void
cmd_free_argv(int argc, char **argv)
{
	if (argv == NULL)
		return;
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

char *
cmd_usage(const struct cmd_entry *e)
{
	char *s;

	if (e->args != NULL)
		xasprintf(&s, "/%s %s", e->name, e->args);
	else
		xasprintf(&s, "/%s", e->name);
	return s;
}

int
cmd_parse(const char *line, const struct cmd_entry **entry, int *argc,
    char ***argv, char **cause)
{
	const struct cmd_entry *e;
	const char *p = line, *end;
	char **v = NULL, *usage = NULL;
	struct buf w;
	int n = 0, r = NOID_ERR_INVAL;

	*entry = NULL;
	*argc = 0;
	*argv = NULL;
	*cause = NULL;
	buf_init(&w);
	while (cmd_is_blank(*p))
		p++;
	if (!cmd_is_command(p, NULL)) {
		*cause = xstrdup("not a command (commands start with /)");
		goto out;
	}
	end = ++p;
	while (*end != '\0' && !cmd_is_blank(*end))
		end++;
	cmd_add_arg(&n, &v, p, (size_t)(end - p));
	if ((e = cmd_find(v[0], cause)) == NULL)
		goto out;
	free(v[0]);
	v[0] = xstrdup(e->name);
	for (p = end;;) {
		while (cmd_is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		if (e->rest && n == e->max_args) {
			/* The rest of the line, as typed, without edge blanks. */
			end = p + strlen(p);
			while (end > p && cmd_is_blank(end[-1]))
				end--;
			cmd_add_arg(&n, &v, p, (size_t)(end - p));
			break;
		}
		buf_reset(&w);
		if (cmd_word(&p, &w) != 0) {
			xasprintf(cause, "unterminated quote in /%s", e->name);
			goto out;
		}
		cmd_add_arg(&n, &v, (char *)w.data, w.len);
	}
	if (n - 1 < e->min_args || (e->max_args >= 0 && n - 1 > e->max_args)) {
		usage = cmd_usage(e);
		xasprintf(cause, "%s; usage: %s",
		    n - 1 < e->min_args ? "missing argument"
		                        : "too many arguments",
		    usage);
		goto out;
	}
	*entry = e;
	*argc = n;
	*argv = v;
	v = NULL;
	r = 0;
out:
	cmd_free_argv(n, v);
	free(usage);
	buf_free(&w);
	return r;
}

int
cmd_execute(struct client *c, const char *line, char **cause)
{
	const struct cmd_entry *e;
	char **argv;
	int argc, r;

	if ((r = cmd_parse(line, &e, &argc, &argv, cause)) != 0)
		return r;
	if (e->handler == NULL) {
		xasprintf(cause, "/%s is not available in this build", e->name);
		r = NOID_ERR_STATE;
	} else
		r = e->handler(c, argc, argv);
	cmd_free_argv(argc, argv);
	return r;
}

int
cmd_help(const char *name, char **text, char **cause)
{
	const struct cmd_entry *e;
	static const char head[] =
	    "Commands (Tab completes; a unique prefix is enough):\n";
	static const char foot[] = "/help COMMAND explains one.  Start a line "
	                           "with // to send text that begins with /.\n";
	struct buf b;
	char *usage, *line;
	size_t width = 0, w;

	*text = NULL;
	*cause = NULL;
	if (name != NULL) {
		if ((e = cmd_find(name, cause)) == NULL)
			return NOID_ERR_NOENT;
		usage = cmd_usage(e);
		xasprintf(text, "usage: %s\n\n%s\n", usage, e->long_help);
		free(usage);
		return 0;
	}
	for (size_t i = 0; i < cmd_count(); i++) {
		usage = cmd_usage(cmd_get(i));
		w = utf8_width(usage, strlen(usage));
		if (w > width)
			width = w;
		free(usage);
	}
	if (width > 28)
		width = 28; /* a long synopsis gets its own line instead */
	buf_init(&b);
	buf_put(&b, head, strlen(head));
	for (size_t i = 0; i < cmd_count(); i++) {
		e = cmd_get(i);
		usage = cmd_usage(e);
		w = utf8_width(usage, strlen(usage));
		if (w > width)
			xasprintf(&line, "  %s\n  %*s  %s\n", usage, (int)width,
			    "", e->help);
		else
			xasprintf(&line, "  %s%*s  %s\n", usage,
			    (int)(width - w), "", e->help);
		buf_put(&b, line, strlen(line));
		free(line);
		free(usage);
	}
	buf_put(&b, foot, strlen(foot) + 1);
	*text = (char *)b.data;
	return 0;
}

/* Add the command names starting with prefix, each after lead. */
static void
cmd_add_names(const char *prefix, size_t len, const char *lead,
    struct input_completion *out)
{
	const struct cmd_entry *e;
	char *name;

	for (size_t i = 0; i < cmd_count(); i++) {
		e = cmd_get(i);
		if (strncmp(e->name, prefix, len) != 0)
			continue;
		xasprintf(&name, "%s%s", lead, e->name);
		input_completion_add(out, name);
		free(name);
	}
}

void
cmd_complete_name(struct client *c, int argi, const char *prefix,
    struct input_completion *out)
{
	(void)c;
	if (argi == 1)
		cmd_add_names(prefix, strlen(prefix), "", out);
}

void
cmd_complete(void *arg, const char *buf, size_t len, size_t cursor,
    struct input_completion *out)
{
	const struct cmd_entry *e;
	size_t ws = cursor, name_end = 1;
	char *name, *prefix, *cause;
	int argi = 0;

	if (cursor > len || !cmd_is_command(buf, NULL))
		return;
	while (ws > 0 && !cmd_is_blank(buf[ws - 1]))
		ws--;
	if (ws == 0) {
		out->start = 0;
		cmd_add_names(buf + 1, cursor - 1, "/", out);
		return;
	}
	while (name_end < len && !cmd_is_blank(buf[name_end]))
		name_end++;
	name = cmd_strndup(buf + 1, name_end - 1);
	e = cmd_find(name, &cause);
	free(name);
	free(cause);
	if (e == NULL || e->completer == NULL)
		return;
	/* Count the words between the command name and this one. */
	for (size_t i = name_end; i < ws; i++)
		if (!cmd_is_blank(buf[i]) && cmd_is_blank(buf[i - 1]))
			argi++;
	prefix = cmd_strndup(buf + ws, cursor - ws);
	out->start = ws;
	e->completer(arg, argi + 1, prefix, out);
	free(prefix);
}
