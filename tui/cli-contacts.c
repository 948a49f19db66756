/*
 * cli-contacts: invitations, requests and contacts — invite, connect,
 * requests, accept, reject, contacts (rename, rm), verify, rekey, rotate.
 *
 * Each is one agent command; the runner (app-run.c) takes in what waits
 * before and flushes after, so `noid accept` typed in a shell does the
 * whole exchange with the relay.  Names a user types match contacts
 * case-insensitively, or an id prefix as `noid requests` prints it.
 */
#include "client.h"
#include "qr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Trust level as a word. */
const char *
cli_trust_word(int trust)
{
	switch (trust) {
	case AGENT_TRUST_VERIFIED:
		return "verified";
	case AGENT_TRUST_QR:
		return "qr";
	case AGENT_TRUST_TEXT:
		return "text";
	}
	return "unknown";
}

/* Connection state as a word. */
const char *
cli_state_word(int state)
{
	switch (state) {
	case AGENT_CONN_INVITED:
		return "invited";
	case AGENT_CONN_REQUESTED:
		return "requested";
	case AGENT_CONN_JOINING:
		return "waiting for them to accept";
	case AGENT_CONN_ACCEPTING:
		return "accepting";
	case AGENT_CONN_READY:
		return "connected";
	case AGENT_CONN_CLOSED:
		return "closed";
	}
	return "unknown";
}

/* The agent, or a message saying it isn't there. */
static int
cli_need_agent(struct cli_ctx *ctx)
{
	if (ctx->app->agent != NULL)
		return 0;
	return cli_fail(ctx, "the network is not running for this profile");
}

/* Find a contact or request; prints why not and returns EXIT_USER. */
static int
cli_find(struct cli_ctx *ctx, const char *what, unsigned mask,
    struct agent_conn_info *ci)
{
	int rc;

	if (cli_need_agent(ctx) != 0)
		return EXIT_USER;
	rc = app_conn_find(ctx->app, what, mask, ci);
	if (rc == NOID_ERR_NOENT)
		return cli_fail(ctx, "no %s '%s' (see 'noid %s')",
		    mask == APP_CONN_REQUEST ? "request from" : "contact", what,
		    mask == APP_CONN_REQUEST ? "requests" : "contacts");
	if (rc == NOID_ERR_EXISTS)
		return cli_fail(
		    ctx, "'%s' matches more than one; use the id", what);
	if (rc != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	return 0;
}

/* `noid invite [--text | --qr]`. */
int
cli_exec_invite(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	int text = cli_opt(ctx, "text") != NULL, rc;
	uint8_t conn[AGENT_ID_LEN];
	struct qr *q = NULL;
	char *link = NULL, *img;

	if (text && cli_opt(ctx, "qr") != NULL)
		return cli_fail(ctx, "--text or --qr, not both");
	if (cli_need_agent(ctx) != 0)
		return EXIT_USER;
	rc = agent_invite(
	    app->agent, text ? AGENT_TRUST_TEXT : AGENT_TRUST_QR, &link, conn);
	if (rc != 0)
		return cli_fail(
		    ctx, "can't make an invitation: %s", noid_strerror(rc));
	if (text) {
		cli_printf(ctx, "%s\n", link);
		free(link);
		return 0;
	}
	if ((rc = qr_encode(link, QR_LEVEL_M, &q)) != 0) {
		free(link);
		return cli_fail(
		    ctx, "can't draw the QR code: %s", noid_strerror(rc));
	}
	img = qr_render(q, isatty(1) ? QR_STYLE_ANSI : QR_STYLE_DARK_FG);
	cli_printf(ctx,
	    "One-time invitation to connect to '%s' — scan it:\n"
	    "%s",
	    app->profile_name, img);
	free(img);
	qr_free(q);
	free(link);
	return 0;
}

/* The link from the arguments or stdin, all white space removed. */
static char *
cli_link_text(struct cli_ctx *ctx)
{
	struct buf b;
	const char *p;
	size_t len;
	int i;

	buf_init(&b);
	for (i = 0; i <= ctx->argc; i++) {
		if (i < ctx->argc) {
			p = ctx->argv[i];
			len = strlen(p);
		} else if (ctx->argc == 0 && ctx->has_in) {
			p = (const char *)ctx->in;
			len = ctx->inlen;
		} else
			break;
		for (; len > 0; p++, len--)
			if (!isspace((unsigned char)*p))
				buf_put_u8(&b, (uint8_t)*p);
	}
	buf_put_u8(&b, 0);
	return (char *)b.data;
}

/* `noid connect LINK`. */
int
cli_exec_connect(struct cli_ctx *ctx)
{
	struct agent_invite inv;
	uint8_t conn[AGENT_ID_LEN];
	const char *why = NULL;
	char *link = cli_link_text(ctx);
	int rc, code = EXIT_USER;

	if (*link == '\0') {
		cli_fail(ctx, "no invitation link given");
		goto out;
	}
	if ((rc = agent_invite_parse(link, strlen(link), &inv, &why)) != 0) {
		cli_fail(ctx, "invalid invitation link: %s",
		    why != NULL ? why : noid_strerror(rc));
		goto out;
	}
	if (cli_need_agent(ctx) != 0)
		goto out;
	rc = agent_join(ctx->app->agent, link, AGENT_TRUST_TEXT, conn);
	if (rc == NOID_ERR_EXPIRED)
		cli_fail(ctx,
		    "this invitation was already used or has expired; "
		    "ask for a new one");
	else if (rc != 0)
		cli_fail(ctx, "can't connect: %s", noid_strerror(rc));
	else {
		cli_printf(ctx,
		    "request sent; the contact appears once they "
		    "accept\n");
		code = 0;
	}
out:
	free(link);
	return code;
}

/* The first 8 hex digits of an id. */
static void
cli_short_id(const uint8_t id[AGENT_ID_LEN], char out[9])
{
	char *hex = hex_encode(id, AGENT_ID_LEN);

	memcpy(out, hex, 8);
	out[8] = '\0';
	free(hex);
}

/* `noid requests`. */
int
cli_exec_requests(struct cli_ctx *ctx)
{
	struct agent_conn_info *ci = NULL;
	size_t n = 0, i;
	char id[9];
	int rc;

	if (cli_need_agent(ctx) != 0)
		return EXIT_USER;
	if ((rc = agent_conns(ctx->app->agent, &ci, &n)) != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	for (i = 0; i < n; i++) {
		if (ci[i].state != AGENT_CONN_REQUESTED)
			continue;
		cli_short_id(ci[i].conn, id);
		cli_printf(ctx,
		    "%s  %s  (claims to be; invitation shared as %s)"
		    "\n",
		    id, ci[i].name != NULL ? ci[i].name : "?",
		    cli_trust_word(ci[i].trust));
	}
	agent_conns_free(ci, n);
	return 0;
}

/* accept or reject. */
static int
cli_answer(struct cli_ctx *ctx, int accept)
{
	struct agent_conn_info ci;
	int rc;

	if ((rc = cli_find(ctx, ctx->argv[0], APP_CONN_REQUEST, &ci)) != 0)
		return rc;
	rc = accept ? agent_accept(ctx->app->agent, ci.conn)
	            : agent_reject(ctx->app->agent, ci.conn);
	if (rc != 0)
		cli_fail(ctx, "%s", noid_strerror(rc));
	else
		cli_printf(ctx, "%s %s\n", accept ? "accepted" : "rejected",
		    ci.name != NULL ? ci.name : ctx->argv[0]);
	agent_conn_info_clear(&ci);
	return rc != 0 ? EXIT_USER : 0;
}

int
cli_exec_accept(struct cli_ctx *ctx)
{
	return cli_answer(ctx, 1);
}

int
cli_exec_reject(struct cli_ctx *ctx)
{
	return cli_answer(ctx, 0);
}

/* The setting key holding a contact's local name (caller frees). */
static char *
cli_local_name_key(const uint8_t contact[STORE_ID_LEN])
{
	char *hex = hex_encode(contact, STORE_ID_LEN), *key;

	xasprintf(&key, "%s%s", CLI_LOCAL_NAME_PREFIX, hex);
	free(hex);
	return key;
}

/* The name the user gave a contact, or NULL (caller frees). */
char *
cli_contact_local_name(struct app *app, const uint8_t contact[STORE_ID_LEN])
{
	char *key = cli_local_name_key(contact), *val = NULL;

	if (store_setting_get(app->st, app->profile, key, &val) != 0)
		val = NULL;
	free(key);
	return val;
}

/* Set (NULL: clear) the name the user gives a contact. */
int
cli_contact_set_local_name(
    struct app *app, const uint8_t contact[STORE_ID_LEN], const char *name)
{
	char *key = cli_local_name_key(contact);
	int rc = store_setting_set(app->st, app->profile, key, name);

	free(key);
	return rc;
}

/*
 * What to call a contact: the name the user gave it, else the name it
 * gives itself (fallback: the agent's, claimed while a request), else
 * the store's alias, which the agent keeps equal to that name.  Kept
 * apart from the alias so a contact's profile change does not undo a
 * local rename.  Caller frees.
 */
char *
cli_contact_name(
    struct app *app, const uint8_t contact[STORE_ID_LEN], const char *fallback)
{
	struct store_contact *cs = NULL;
	size_t n = 0, i;
	char *name = cli_contact_local_name(app, contact);

	if (name != NULL)
		return name;
	if (fallback != NULL && *fallback != '\0')
		return xstrdup(fallback);
	if (store_contacts_list(app->st, app->profile, &cs, &n) == 0)
		for (i = 0; i < n && name == NULL; i++)
			if (memcmp(cs[i].id, contact, STORE_ID_LEN) == 0 &&
			    cs[i].alias != NULL)
				name = xstrdup(cs[i].alias);
	store_contacts_free(cs, n);
	return name != NULL ? name : xstrdup("?");
}

/* `noid contacts`. */
int
cli_exec_contacts(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct agent_conn_info *ci = NULL;
	uint64_t unread;
	size_t n = 0, i;
	char *name;
	int rc;

	if (cli_need_agent(ctx) != 0)
		return EXIT_USER;
	if ((rc = agent_conns(app->agent, &ci, &n)) != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	for (i = 0; i < n; i++) {
		if (!(APP_CONN_CONTACT & (1u << ci[i].state)))
			continue;
		name = cli_contact_name(app, ci[i].contact, ci[i].name);
		unread = 0;
		store_unread_count(
		    app->st, app->profile, ci[i].contact, &unread);
		cli_printf(ctx, "%s\t%s\t%s", name, cli_trust_word(ci[i].trust),
		    cli_state_word(ci[i].state));
		if (unread > STORE_UNREAD_MAX)
			cli_printf(ctx, "\t%d+ unread", STORE_UNREAD_MAX);
		else if (unread > 0)
			cli_printf(
			    ctx, "\t%llu unread", (unsigned long long)unread);
		cli_printf(ctx, "\n");
		free(name);
	}
	agent_conns_free(ci, n);
	return 0;
}

/* `noid contacts rename CONTACT NAME`. */
int
cli_exec_contacts_rename(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct agent_conn_info ci;
	int rc;

	if (*ctx->argv[1] == '\0' || strlen(ctx->argv[1]) > AGENT_NAME_MAX)
		return cli_fail(
		    ctx, "a name has 1 to %d bytes", AGENT_NAME_MAX);
	if ((rc = cli_find(ctx, ctx->argv[0], APP_CONN_CONTACT, &ci)) != 0)
		return rc;
	rc = cli_contact_set_local_name(app, ci.contact, ctx->argv[1]);
	agent_conn_info_clear(&ci);
	if (rc != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	return 0;
}

/* `noid contacts rm CONTACT`. */
int
cli_exec_contacts_rm(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct agent_conn_info ci;
	int rc;

	if ((rc = cli_find(ctx, ctx->argv[0], APP_CONN_CONTACT, &ci)) != 0)
		return rc;
	rc = agent_delete(app->agent, ci.conn);
	if (rc == 0)
		rc = store_contact_delete(app->st, app->profile, ci.contact);
	agent_conn_info_clear(&ci);
	if (rc != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	cli_printf(ctx, "deleted %s\n", ctx->argv[0]);
	return 0;
}

/* `noid verify CONTACT [CODE]`. */
int
cli_exec_verify(struct cli_ctx *ctx)
{
	struct agent_conn_info ci;
	struct agent_code code;
	struct buf b;
	int i, rc;

	if ((rc = cli_find(ctx, ctx->argv[0], APP_CONN_CONTACT, &ci)) != 0)
		return rc;
	if (ctx->argc == 1) {
		rc = agent_code(ctx->app->agent, ci.conn, &code);
		agent_conn_info_clear(&ci);
		if (rc != 0)
			return cli_fail(ctx, "%s", noid_strerror(rc));
		cli_printf(ctx, "%s\n", code.text);
		return 0;
	}
	buf_init(&b);
	for (i = 1; i < ctx->argc; i++)
		buf_put(&b, ctx->argv[i], strlen(ctx->argv[i]));
	buf_put_u8(&b, 0);
	rc = agent_verify(ctx->app->agent, ci.conn, (char *)b.data);
	buf_free(&b);
	agent_conn_info_clear(&ci);
	if (rc == NOID_ERR_INVAL)
		return cli_fail(ctx,
		    "a security code has %d digits (as 'noid verify %s' "
		    "shows on the other side)",
		    AGENT_CODE_DIGITS, ctx->argv[0]);
	if (rc == NOID_ERR_AUTH)
		return cli_fail(ctx,
		    "the codes differ: this is not the same "
		    "connection (someone may be in between)");
	if (rc != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	cli_printf(ctx, "verified: %s\n", ctx->argv[0]);
	return 0;
}

/* rekey or rotate. */
static int
cli_keys(struct cli_ctx *ctx, int rekey)
{
	struct agent_conn_info ci;
	int rc;

	if ((rc = cli_find(ctx, ctx->argv[0], APP_CONN_CONTACT, &ci)) != 0)
		return rc;
	rc = rekey ? agent_rekey(ctx->app->agent, ci.conn)
	           : agent_rotate(ctx->app->agent, ci.conn);
	agent_conn_info_clear(&ci);
	if (rc != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	cli_printf(ctx, "%s with %s started\n",
	    rekey ? "re-keying" : "queue rotation", ctx->argv[0]);
	return 0;
}

int
cli_exec_rekey(struct cli_ctx *ctx)
{
	return cli_keys(ctx, 1);
}

int
cli_exec_rotate(struct cli_ctx *ctx)
{
	return cli_keys(ctx, 0);
}
