/*
 * cli-help: `noid --help`, `noid COMMAND --help` and noid(1), all made
 * from the command table so what the parser accepts is what is written.
 */
#include "client.h"

#include <stdio.h>
#include <string.h>

static const char cli_globals[] =
    "  --data-dir DIR       the data directory (else NOID_HOME, else\n"
    "                       $XDG_DATA_HOME/noid)\n"
    "  --profile NAME       the profile for this command (default: the\n"
    "                       last used)\n"
    "  --password-file FILE read the password from FILE (else\n"
    "                       NOID_PASSWORD, else a prompt)\n"
    "  --help               this help; COMMAND --help for a command's\n"
    "  --version            print the version\n";

static const char cli_exits[] =
    "exit status: 0 success, 1 error (the message says what to do),\n"
    "2 usage error, 3 data dir locked by a process that can't be reached.\n";

/* Print text wrapped to width columns, each line indented by indent. */
static void
cli_wrap(FILE *f, const char *text, int indent, int width)
{
	const char *p = text, *sp;
	int col = indent, wlen;

	fprintf(f, "%*s", indent, "");
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		sp = strchr(p, ' ');
		wlen = sp != NULL ? (int)(sp - p) : (int)strlen(p);
		if (wlen == 0)
			break;
		if (col > indent && col + 1 + wlen > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, (size_t)wlen, f);
		col += wlen;
		p += wlen;
	}
	fputc('\n', f);
}

/* "name sub args" of a command into buf. */
static void
cli_synopsis(const struct cli_cmd *cmd, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", cmd->name, cmd->sub ? " " : "",
	    cmd->sub ? cmd->sub : "", cmd->args ? " " : "",
	    cmd->args ? cmd->args : "");
}

/* The global usage: every command with its summary. */
void
cli_usage(void *fp)
{
	FILE *f = fp;
	char syn[128];
	size_t i;

	fprintf(f,
	    "usage: noid [--data-dir DIR] [--profile NAME] "
	    "[--password-file FILE] [COMMAND [ARGS]]\n\n"
	    "A private messenger for the terminal.  Without COMMAND, "
	    "the full-screen client.\n\ncommands:\n");
	for (i = 0; i < cli_ncmds; i++) {
		cli_synopsis(&cli_cmds[i], syn, sizeof syn);
		if (strlen(syn) >= 34)
			fprintf(f, "  %s\n  %-34s %s\n", syn, "",
			    cli_cmds[i].summary);
		else
			fprintf(f, "  %-34s %s\n", syn, cli_cmds[i].summary);
	}
	fprintf(f, "\noptions:\n%s\n%s", cli_globals, cli_exits);
}

/* One command's help. */
void
cli_help(void *fp, const struct cli_cmd *cmd)
{
	FILE *f = fp;
	char syn[128];
	size_t i;
	int k;

	cli_synopsis(cmd, syn, sizeof syn);
	fprintf(f, "usage: noid %s\n\n", syn);
	cli_wrap(f, cmd->help, 0, 72);
	if (cmd->opts[0].name != NULL) {
		fprintf(f, "\noptions:\n");
		for (k = 0; k < CLI_OPTS_MAX && cmd->opts[k].name; k++) {
			snprintf(syn, sizeof syn, "--%s%s%s", cmd->opts[k].name,
			    cmd->opts[k].arg ? " " : "",
			    cmd->opts[k].arg ? cmd->opts[k].arg : "");
			fprintf(f, "  %-20s %s\n", syn, cmd->opts[k].help);
		}
	}
	if (cmd->sub == NULL) {
		for (i = 0; i < cli_ncmds; i++) {
			if (cli_cmds[i].sub == NULL ||
			    strcmp(cli_cmds[i].name, cmd->name) != 0)
				continue;
			cli_synopsis(&cli_cmds[i], syn, sizeof syn);
			fprintf(f, "\n  noid %s\n", syn);
			cli_wrap(f, cli_cmds[i].summary, 6, 72);
		}
	}
	fprintf(f, "\nglobal options (before COMMAND):\n%s\n%s", cli_globals,
	    cli_exits);
}

/* Write s with roff's special characters escaped. */
static void
cli_roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static const char *const cli_man_head[] = {
    ".TH NOID 1 \"2026\" \"noid\" \"User Commands\"", ".SH NAME",
    "noid \\- a private messenger for the terminal", ".SH SYNOPSIS", ".B noid",
    "[\\fB\\-\\-data\\-dir\\fR \\fIDIR\\fR] [\\fB\\-\\-profile\\fR "
    "\\fINAME\\fR] [\\fB\\-\\-password\\-file\\fR \\fIFILE\\fR] "
    "[\\fICOMMAND\\fR [\\fIARGS\\fR]]",
    ".SH DESCRIPTION",
    "noid has no user identifiers of any kind.  People connect by showing "
    "a one-time invitation as a QR code on their screen, or by sending "
    "its text over another channel; every connection has its own keys and "
    "its own queues on relays, so no relay learns who talks to whom.",
    ".PP",
    "Without a \\fICOMMAND\\fR, noid opens the full-screen client; press "
    "\\fBF1\\fR or type \\fB/help\\fR there for every key and command.  "
    "With a \\fICOMMAND\\fR it runs the same engine without a screen, for "
    "scripts.  When a noid (the full-screen client or \\fBnoid daemon\\fR) "
    "already runs on the same data directory, the command is handed to it "
    "over its control socket instead of opening the database twice.",
    ".PP",
    "With no relay configured, noid starts a private \\fBnoid-relay\\fR on "
    "127.0.0.1 (its data under the client's data directory) and uses it, "
    "so profiles and users of one host can chat at once.",
    ".SH OPTIONS", ".TP", "\\fB\\-\\-data\\-dir\\fR \\fIDIR\\fR",
    "The data directory.  Default: \\fB$NOID_HOME\\fR, else "
    "\\fB$XDG_DATA_HOME/noid\\fR (\\fI~/.local/share/noid\\fR).",
    ".TP", "\\fB\\-\\-profile\\fR \\fINAME\\fR",
    "The profile for this command.  Default: the last used.", ".TP",
    "\\fB\\-\\-password\\-file\\fR \\fIFILE\\fR",
    "Read the password from the first line of \\fIFILE\\fR.  Else "
    "\\fB$NOID_PASSWORD\\fR, else a prompt (on the terminal, without "
    "echo).",
    ".TP", "\\fB\\-\\-help\\fR",
    "Print the list of commands; after a command, that command's help.",
    ".SH COMMANDS", NULL};

static const char *const cli_man_tail[] = {".SH ENVIRONMENT", ".TP",
    "\\fBNOID_HOME\\fR",
    "The data directory, when \\fB\\-\\-data\\-dir\\fR is not given.", ".TP",
    "\\fBNOID_PASSWORD\\fR",
    "The password, when \\fB\\-\\-password\\-file\\fR is not given.", ".TP",
    "\\fBNOID_NEW_PASSWORD\\fR, \\fBNOID_EXPORT_PASSWORD\\fR",
    "The new password for \\fBpasswd\\fR; the archive password for "
    "\\fBexport\\fR and \\fBimport\\fR.",
    ".TP", "\\fBNOID_RELAY\\fR",
    "The noid-relay binary for the embedded relay (default: beside "
    "\\fBnoid\\fR, else in \\fBPATH\\fR).",
    ".TP", "\\fBNO_COLOR\\fR",
    "When set, the full-screen client uses no colours.", ".SH FILES", ".TP",
    "\\fIDIR/noid.db\\fR, \\fIDIR/key\\fR",
    "The encrypted database and its wrapped data key.", ".TP",
    "\\fIDIR/noid.sock\\fR",
    "The control socket of a running instance (mode 0600).", ".TP",
    "\\fIDIR/relay/\\fR", "The embedded relay's data.", ".TP",
    "\\fIDIR/config\\fR",
    "Keys, colours and behaviour of the full-screen client; written with "
    "its defaults, and commented, on first run.",
    ".SH EXIT STATUS",
    "0 success; 1 an error (the message on stderr says what to do); 2 a "
    "usage error; 3 the data directory is locked by a process that can't "
    "be reached.",
    ".SH SEE ALSO", ".BR noid-relay (8)", NULL};

/* The manual page, its COMMANDS section from the table. */
void
cli_man(void *fp)
{
	FILE *f = fp;
	char syn[128];
	size_t i;
	int k;

	for (i = 0; cli_man_head[i] != NULL; i++)
		fprintf(f, "%s\n", cli_man_head[i]);
	for (i = 0; i < cli_ncmds; i++) {
		cli_synopsis(&cli_cmds[i], syn, sizeof syn);
		fprintf(f, ".TP\n\\fBnoid ");
		cli_roff(f, syn);
		fprintf(f, "\\fR\n");
		cli_roff(f, cli_cmds[i].help);
		fputc('\n', f);
		for (k = 0; k < CLI_OPTS_MAX && cli_cmds[i].opts[k].name; k++) {
			fprintf(f, ".RS\n.TP\n\\fB\\-\\-");
			cli_roff(f, cli_cmds[i].opts[k].name);
			fprintf(f, "\\fR");
			if (cli_cmds[i].opts[k].arg != NULL) {
				fprintf(f, " \\fI");
				cli_roff(f, cli_cmds[i].opts[k].arg);
				fprintf(f, "\\fR");
			}
			fputc('\n', f);
			cli_roff(f, cli_cmds[i].opts[k].help);
			fprintf(f, "\n.RE\n");
		}
	}
	for (i = 0; cli_man_tail[i] != NULL; i++)
		fprintf(f, "%s\n", cli_man_tail[i]);
}
