/*
 * app-cmds: the slash commands of the full-screen client.
 *
 * tui/cmd-table.c lists them (name, synopsis, help, completion); the
 * handlers here attach to it.  Most of them run the CLI command of the
 * same meaning on the engine and show its output, so the screen and the
 * command line can't disagree about what an action does.
 */
#include "client.h"
#include "cmd.h"
#include "input-line.h"
#include "qr.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Output of a CLI command run for the screen. */
static void
client_cli_write(struct cli_ctx *ctx, int fd, const void *p, size_t len)
{
	(void)fd;
	buf_put(ctx->arg, p, len);
}

/* Run a CLI command (NULL-terminated words); *out its output. */
static int
client_cli(struct client *c, char **out, ...)
{
	const struct cli_cmd *cmd;
	struct cli_ctx ctx;
	struct buf b;
	char *argv[16], *cause = NULL;
	va_list ap;
	int argc = 0, rc;

	va_start(ap, out);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	buf_init(&b);
	memset(&ctx, 0, sizeof ctx);
	ctx.app = c->app;
	ctx.write = client_cli_write;
	ctx.arg = &b;
	rc = cli_parse(argc, argv, &ctx, &cmd, &cause);
	if (rc == 0) {
		cli_run(&ctx);
		rc = ctx.finished ? ctx.code : 0;
	} else if (cause != NULL)
		buf_put(&b, cause, strlen(cause));
	buf_put_u8(&b, 0);
	/* Messages start "noid: "; on the screen that is noise. */
	if (strncmp((char *)b.data, "noid: ", 6) == 0)
		memmove(b.data, b.data + 6, b.len - 6);
	*out = (char *)b.data;
	free(ctx.argv);
	free(cause);
	c->model = 1;
	c->dirty = 1;
	return rc;
}

/* Show a CLI command's output as a note (first line). */
static int
client_cli_note(struct client *c, char *out, int rc)
{
	out[strcspn(out, "\n")] = '\0';
	client_set_note(c, "%s", out);
	free(out);
	return rc == 0 ? 0 : NOID_ERR_INVAL;
}

/* Close the overlay and free what it showed. */
void
client_overlay_close(struct client *c)
{
	c->overlay = OVERLAY_NONE;
	free(c->ov_title);
	free(c->ov_text);
	free(c->ov_link);
	qr_free(c->ov_qr);
	c->ov_title = c->ov_text = c->ov_link = NULL;
	c->ov_qr = NULL;
	c->ov_scroll = 0;
	c->ov_link_shown = 0;
	c->ov_yes = NULL;
	c->dirty = 1;
}

/* The invitation screen: a new link as a QR code with its purpose. */
void
client_invite_open(struct client *c, const char *note)
{
	char *link = NULL, *title;
	int rc;

	if (c->app->agent == NULL) {
		client_set_note(c, "the network is not running");
		return;
	}
	rc = agent_invite(c->app->agent, AGENT_TRUST_QR, &link, c->ov_conn);
	if (rc != 0) {
		client_set_note(
		    c, "can't make an invitation: %s", noid_strerror(rc));
		return;
	}
	client_overlay_close(c);
	xasprintf(&title, "Invitation%s%s from %s — one use; scan it with noid",
	    note ? " for " : "", note ? note : "", c->app->profile_name);
	c->overlay = OVERLAY_INVITE;
	c->ov_title = title;
	c->ov_link = link;
	if (qr_encode_fit(link, c->cols, c->lay.status.y, &c->ov_qr) != 0) {
		c->ov_qr = NULL;
		c->ov_text = xstrdup("The terminal is too small for the QR "
		                     "code.  Press t to show the link text "
		                     "(shared as text: a lower trust level), "
		                     "or enlarge the terminal and try again.");
	} else
		c->ov_text = xstrdup("t: show the link text to copy (marks it "
		                     "shared over another channel) · Esc: "
		                     "close");
	c->dirty = 1;
}

/* Copying the link: show it, put it on the clipboard, mark it shared. */
void
client_invite_share(struct client *c)
{
	char *b64, *seq;
	int n;

	if (c->ov_link == NULL || c->ov_link_shown)
		return;
	c->ov_link_shown = 1;
	store_conn_set_trust(
	    c->app->st, c->app->profile, c->ov_conn, STORE_TRUST_TEXT);
	free(c->ov_text);
	xasprintf(
	    &c->ov_text, "Link (shared as text: lower trust):\n%s", c->ov_link);
	/* The terminal's clipboard (OSC 52), where it allows it. */
	b64 = b64url_encode(c->ov_link, strlen(c->ov_link));
	n = xasprintf(&seq, "\033]52;c;%s\007", b64);
	if (write(1, seq, (size_t)n) < 0) {
		/* Best effort: the link is on the screen anyway. */
	}
	free(seq);
	free(b64);
	c->dirty = 1;
}

/* /invite [NOTE] */
static int
cmd_invite(struct client *c, int argc, char **argv)
{
	client_invite_open(c, argc > 1 ? argv[1] : NULL);
	return 0;
}

/* /connect LINK */
static int
cmd_connect(struct client *c, int argc, char **argv)
{
	char *out;
	int rc;

	(void)argc;
	rc = client_cli(c, &out, "connect", argv[1], (char *)NULL);
	return client_cli_note(c, out, rc);
}

/* /requests */
static int
cmd_requests(struct client *c, int argc, char **argv)
{
	char *out, *text;

	(void)argc;
	(void)argv;
	client_cli(c, &out, "requests", (char *)NULL);
	xasprintf(&text,
	    "%s\nThe names are what people claim to be.  Answer "
	    "with /accept NAME or /reject NAME.",
	    *out ? out : "No pending requests.\n");
	client_overlay_text(c, "Connection requests", text);
	free(text);
	free(out);
	return 0;
}

/* The n-th (1-based) request, when arg is a small number. */
static const char *
cmd_request_name(struct client *c, const char *arg, char *id, size_t idlen)
{
	size_t i, k = 0, want;
	char *hex;

	if (strspn(arg, "0123456789") != strlen(arg) || strlen(arg) > 3)
		return arg;
	want = (size_t)atoi(arg);
	for (i = 0; i < c->nconvs; i++) {
		if (c->convs[i].state != AGENT_CONN_REQUESTED || ++k != want)
			continue;
		hex = hex_encode(c->convs[i].conn, STORE_ID_LEN);
		snprintf(id, idlen, "%s", hex);
		free(hex);
		return id;
	}
	return arg;
}

/* /accept and /reject */
static int
cmd_answer(struct client *c, int argc, char **argv)
{
	char id[64], *out;
	int rc;

	(void)argc;
	rc = client_cli(c, &out,
	    strcmp(argv[0], "accept") == 0 ? "accept" : "reject",
	    (char *)cmd_request_name(c, argv[1], id, sizeof id), (char *)NULL);
	client_overlay_close(c);
	return client_cli_note(c, out, rc);
}

/* /profile [NAME | new NAME | rename NAME | delete NAME] */
static int
cmd_profile(struct client *c, int argc, char **argv)
{
	uint8_t id[STORE_ID_LEN];
	char *out, *text;
	int rc;

	if (argc < 2) {
		client_cli(c, &out, "profiles", (char *)NULL);
		xasprintf(&text,
		    "%s\n/profile NAME switches · /profile new NAME "
		    "creates · /profile rename NEW renames this one",
		    out);
		client_overlay_text(c, "Profiles", text);
		free(text);
		free(out);
		return 0;
	}
	if (strncmp(argv[1], "new ", 4) == 0) {
		rc = client_cli(
		    c, &out, "profiles", "add", argv[1] + 4, (char *)NULL);
		return client_cli_note(c, out, rc);
	}
	if (strncmp(argv[1], "rename ", 7) == 0) {
		rc = client_cli(c, &out, "profiles", "rename",
		    c->app->profile_name, argv[1] + 7, (char *)NULL);
		return client_cli_note(c, out, rc);
	}
	if (cli_profile_find(c->app, argv[1], id) != 0) {
		client_set_note(c, "no profile named '%s'", argv[1]);
		return NOID_ERR_NOENT;
	}
	app_profile_switch(c->app, id);
	if ((rc = app_agent_start(c->app)) != 0)
		client_set_note(
		    c, "can't start the network: %s", noid_strerror(rc));
	client_msgs_free(c);
	c->sel = 0;
	c->nconvs = 0;
	client_overlay_close(c);
	c->model = 1;
	return 0;
}

/* The current contact's name (borrowed), or NULL with a note. */
static const char *
cmd_current_name(struct client *c)
{
	const struct client_conv *cv = client_current(c);

	if (cv == NULL || cv->state == AGENT_CONN_REQUESTED) {
		client_set_note(c, "select a contact first (Alt-Up/Down)");
		return NULL;
	}
	return cv->name;
}

/* /contact [NAME] */
static int
cmd_contact(struct client *c, int argc, char **argv)
{
	const struct client_conv *cv = client_current(c);
	struct agent_conn_info ci;
	struct agent_code code;
	const char *name = argc > 1 ? argv[1] : cmd_current_name(c);
	char *text, *title;

	if (name == NULL)
		return 0;
	(void)cv;
	if (c->app->agent == NULL ||
	    app_conn_find(c->app, name, APP_CONN_CONTACT, &ci) != 0) {
		client_set_note(c, "no contact '%s'", name);
		return NOID_ERR_NOENT;
	}
	memset(&code, 0, sizeof code);
	agent_code(c->app->agent, ci.conn, &code);
	xasprintf(&text,
	    "Trust: %s (%s)\nState: %s\n\nSecurity code — compare "
	    "it with theirs in person:\n%s\n\n/verify CODE · "
	    "/rekey · /rotate · /rename NAME · /delete",
	    cli_trust_word(ci.trust),
	    ci.trust == AGENT_TRUST_VERIFIED ? "code verified in person"
	        : ci.trust == AGENT_TRUST_QR
	        ? "invitation scanned from a screen"
	        : "invitation sent as text",
	    cli_state_word(ci.state), code.text);
	xasprintf(&title, "Contact: %s", name);
	client_overlay_text(c, title, text);
	if (code.qr[0] != '\0' &&
	    qr_encode_fit(
	        code.qr, c->lay.chat.w, c->lay.chat.h - 8, &c->ov_qr) != 0)
		c->ov_qr = NULL;
	free(title);
	free(text);
	agent_conn_info_clear(&ci);
	return 0;
}

/* /verify, /rename, /rekey, /rotate on the current contact. */
static int
cmd_on_contact(struct client *c, int argc, char **argv)
{
	const char *name = cmd_current_name(c);
	char *out;
	int rc;

	if (name == NULL)
		return 0;
	if (strcmp(argv[0], "rename") == 0)
		rc = client_cli(c, &out, "contacts", "rename", (char *)name,
		    argv[1], (char *)NULL);
	else
		rc = client_cli(c, &out, argv[0], (char *)name,
		    argc > 1 ? argv[1] : (char *)NULL, (char *)NULL);
	if (strcmp(argv[0], "verify") == 0 && argc == 1) {
		client_overlay_text(c, "Security code", out);
		free(out);
		return 0;
	}
	return client_cli_note(c, out, rc);
}

/* Confirmed /delete. */
static void
cmd_delete_yes(struct client *c)
{
	const char *name = cmd_current_name(c);
	char *out;
	int rc;

	if (name == NULL)
		return;
	rc = client_cli(c, &out, "contacts", "rm", (char *)name, (char *)NULL);
	client_cli_note(c, out, rc);
	client_msgs_free(c);
}

/* /delete: asks first. */
static int
cmd_delete(struct client *c, int argc, char **argv)
{
	const char *name = cmd_current_name(c);
	char *q;

	(void)argc;
	(void)argv;
	if (name == NULL)
		return 0;
	xasprintf(&q,
	    "Delete %s and the whole conversation?  This can't be "
	    "undone.  y: delete · n: keep",
	    name);
	client_overlay_text(c, "Delete contact", q);
	c->overlay = OVERLAY_CONFIRM;
	c->ov_yes = cmd_delete_yes;
	free(q);
	return 0;
}

/* /relays [add ADDRESS [KEY] | rm ADDRESS | test | trust ADDRESS] */
static int
cmd_relays(struct client *c, int argc, char **argv)
{
	char *out;

	if (argc < 2)
		client_cli(c, &out, "relays", (char *)NULL);
	else if (strcmp(argv[1], "add") == 0 && argc > 2)
		client_cli(c, &out, "relays", "add", argv[2],
		    argc > 3 ? "--key" : (char *)NULL, argv[3], (char *)NULL);
	else if (strcmp(argv[1], "rm") == 0 && argc > 2)
		client_cli(c, &out, "relays", "rm", argv[2], (char *)NULL);
	else if (strcmp(argv[1], "trust") == 0 && argc > 2)
		client_cli(c, &out, "relays", "add", argv[2], "--trusted",
		    (char *)NULL);
	else if (strcmp(argv[1], "test") == 0)
		client_cli(c, &out, "relays", "test", (char *)NULL);
	else {
		client_set_note(c,
		    "usage: /relays [add ADDRESS [KEY] | rm "
		    "ADDRESS | test | trust ADDRESS]");
		return NOID_ERR_INVAL;
	}
	client_overlay_text(c, "Relays", out);
	free(out);
	return 0;
}

/* /devices */
static int
cmd_devices(struct client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	client_set_note(c, "multi-device sync is not in this build yet");
	return 0;
}

/* /search TEXT: current conversation first, then all. */
static int
cmd_search(struct client *c, int argc, char **argv)
{
	const struct client_conv *cv = client_current(c);
	char *out = NULL, *all = NULL, *text;

	(void)argc;
	if (cv != NULL)
		client_cli(c, &out, "search", "--contact", cv->name, argv[1],
		    (char *)NULL);
	client_cli(c, &all, "search", argv[1], (char *)NULL);
	xasprintf(&text, "In this conversation:\n%s\nEverywhere:\n%s",
	    out ? out : "", all);
	client_overlay_text(c, "Search", text);
	free(text);
	free(out);
	free(all);
	return 0;
}

static const char client_keys_help[] =
    "\nKeys:\n"
    "  Enter            send the line (or run /command)\n"
    "  Alt-Enter, C-j   new line in the message\n"
    "  C-a C-e C-b C-f  start, end, back, forward;  Alt-b Alt-f: words\n"
    "  C-k C-u C-w      kill to end, to start, word back;  Alt-d word fwd\n"
    "  C-y Alt-y        yank, yank older;  Up/Down (C-p C-n): history\n"
    "  Tab              complete commands, contacts, profiles\n"
    "  Alt-Up Alt-Down  previous/next conversation;  Alt-1..9 jump to one\n"
    "  PgUp PgDn        scroll;  Alt-g oldest message;  Alt-G newest\n"
    "  F1 help  F2 invite  F3 requests  F4 contact  F5 profiles  F6 relays\n"
    "  Esc              close this pane;  C-l redraw;  C-c quit\n";

/* /help [COMMAND] */
static int
cmd_helpscreen(struct client *c, int argc, char **argv)
{
	char *text = NULL, *cause = NULL, *all;
	int rc;

	rc = cmd_help(argc > 1 ? argv[1] : NULL, &text, &cause);
	if (rc != 0) {
		client_set_note(c, "%s", cause ? cause : "no such command");
		free(cause);
		return rc;
	}
	xasprintf(&all, "%s%s", text, argc > 1 ? "" : client_keys_help);
	client_overlay_text(c, "Help", all);
	free(all);
	free(text);
	return 0;
}

/* /quit */
static int
cmd_quit(struct client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	c->quit = 1;
	return 0;
}

/* Contact names for Tab after /contact. */
static void
cmd_complete_contact(struct client *c, int argi, const char *prefix,
    struct input_completion *out)
{
	size_t i;

	(void)argi;
	for (i = 0; i < c->nconvs; i++)
		if (strncasecmp(c->convs[i].name, prefix, strlen(prefix)) == 0)
			input_completion_add(out, c->convs[i].name);
}

/* Attach the handlers to tui-core's command table. */
void
client_cmds_init(void)
{
	cmd_set_handler("invite", cmd_invite);
	cmd_set_handler("connect", cmd_connect);
	cmd_set_handler("requests", cmd_requests);
	cmd_set_handler("accept", cmd_answer);
	cmd_set_handler("reject", cmd_answer);
	cmd_set_handler("profile", cmd_profile);
	cmd_set_handler("contact", cmd_contact);
	cmd_set_handler("verify", cmd_on_contact);
	cmd_set_handler("rename", cmd_on_contact);
	cmd_set_handler("rekey", cmd_on_contact);
	cmd_set_handler("rotate", cmd_on_contact);
	cmd_set_handler("delete", cmd_delete);
	cmd_set_handler("relays", cmd_relays);
	cmd_set_handler("devices", cmd_devices);
	cmd_set_handler("search", cmd_search);
	cmd_set_handler("help", cmd_helpscreen);
	cmd_set_handler("quit", cmd_quit);
	cmd_set_completer("contact", cmd_complete_contact);
	cmd_set_completer("accept", cmd_complete_contact);
	cmd_set_completer("reject", cmd_complete_contact);
}
