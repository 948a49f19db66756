/*
 * cli-msgs: messages — send, read [--follow] [--json], search.
 *
 * `read` prints oldest first (what a person reads top to bottom) and
 * marks what it printed as read; with --follow it stays, printing each
 * message the agent delivers, until the caller goes away.  --json is
 * one object per line so scripts can use jq.
 */
#include "client.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CLI_READ_DEFAULT 50
#define CLI_SEARCH_MAX 100

/* `noid send CONTACT [TEXT...]`. */
int
cli_exec_send(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct agent_conn_info ci;
	uint8_t msg[AGENT_ID_LEN];
	struct buf b;
	int i, rc, code = EXIT_USER;

	buf_init(&b);
	if (ctx->argc > 1) {
		for (i = 1; i < ctx->argc; i++) {
			if (i > 1)
				buf_put_u8(&b, ' ');
			buf_put(&b, ctx->argv[i], strlen(ctx->argv[i]));
		}
	} else if (ctx->has_in) {
		buf_put(&b, ctx->in, ctx->inlen);
		/* `echo hi | noid send x` sends "hi", not "hi\n". */
		if (b.len > 0 && b.data[b.len - 1] == '\n')
			b.len--;
	}
	if (b.len == 0) {
		cli_fail(ctx, "nothing to send: give TEXT or pipe it in");
		goto out;
	}
	if (b.len > AGENT_TEXT_MAX) {
		cli_fail(ctx, "the message is %zu bytes; the limit is %d",
		    b.len, AGENT_TEXT_MAX);
		goto out;
	}
	if (!utf8_valid((char *)b.data, b.len) ||
	    memchr(b.data, '\0', b.len) != NULL) {
		cli_fail(ctx, "the message is not valid UTF-8 text");
		goto out;
	}
	if (app->agent == NULL) {
		cli_fail(ctx, "the network is not running for this profile");
		goto out;
	}
	rc = app_conn_find(app, ctx->argv[0], 1u << AGENT_CONN_READY, &ci);
	if (rc == NOID_ERR_NOENT) {
		cli_fail(ctx, "no connected contact '%s' (see 'noid contacts')",
		    ctx->argv[0]);
		goto out;
	}
	if (rc == NOID_ERR_EXISTS) {
		cli_fail(
		    ctx, "'%s' matches more than one contact", ctx->argv[0]);
		goto out;
	}
	if (rc != 0) {
		cli_fail(ctx, "%s", noid_strerror(rc));
		goto out;
	}
	rc = agent_send(app->agent, ci.conn, (char *)b.data, b.len, msg);
	agent_conn_info_clear(&ci);
	if (rc != 0) {
		cli_fail(ctx, "can't send: %s", noid_strerror(rc));
		goto out;
	}
	code = 0;
out:
	buf_free(&b);
	return code;
}

/* Append s as a JSON string. */
static void
cli_json_str(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c;
	size_t i;

	buf_put_u8(b, '"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			buf_put_u8(b, '\\');
			buf_put_u8(b, c);
		} else if (c == '\n')
			buf_put(b, "\\n", 2);
		else if (c == '\t')
			buf_put(b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f) {
			buf_put(b, "\\u00", 4);
			buf_put_u8(b, (uint8_t)hex[c >> 4]);
			buf_put_u8(b, (uint8_t)hex[c & 15]);
		} else
			buf_put_u8(b, c);
	}
	buf_put_u8(b, '"');
}

/* A status word for an outgoing message. */
static const char *
cli_status_word(int status)
{
	switch (status) {
	case STORE_STATUS_QUEUED:
		return "queued";
	case STORE_STATUS_SENT:
		return "sent";
	case STORE_STATUS_DELIVERED:
		return "delivered";
	}
	return "";
}

/* Print one message, as text or JSON. */
static void
cli_print_msg(struct cli_ctx *ctx, const char *who, const uint8_t id[16],
    int dir, int status, uint64_t ts_ms, const char *text, size_t len, int json)
{
	struct buf b;
	char when[32], *hex;
	time_t t = (time_t)(ts_ms / 1000);
	struct tm tm;

	buf_init(&b);
	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
	if (json) {
		hex = hex_encode(id, STORE_ID_LEN);
		buf_put(&b, "{\"contact\":", 11);
		cli_json_str(&b, who, strlen(who));
		cli_printf(ctx,
		    "%.*s,\"id\":\"%s\",\"dir\":\"%s\",\"ts\":%llu,"
		    "\"status\":\"%s\",\"text\":",
		    (int)b.len, (char *)b.data, hex,
		    dir == STORE_DIR_IN ? "in" : "out",
		    (unsigned long long)ts_ms,
		    dir == STORE_DIR_IN ? "received" : cli_status_word(status));
		buf_reset(&b);
		cli_json_str(&b, text, len);
		buf_put(&b, "}\n", 2);
		cli_write(ctx, b.data, b.len);
		free(hex);
	} else {
		cli_printf(ctx, "%s  %s%s %.*s%s\n", when,
		    dir == STORE_DIR_IN ? who : "me",
		    dir == STORE_DIR_IN ? ">" : ">", (int)len, text,
		    dir == STORE_DIR_OUT && status == STORE_STATUS_DELIVERED
		        ? "  ✓✓"
		        : dir == STORE_DIR_OUT && status == STORE_STATUS_SENT
		        ? "  ✓"
		        : "");
	}
	buf_free(&b);
}

/* Print the last limit messages of one conversation; mark them read. */
static int
cli_read_conv(struct cli_ctx *ctx, const uint8_t contact[STORE_ID_LEN],
    const char *who, size_t limit, int json)
{
	struct app *app = ctx->app;
	struct store_msg *m = NULL;
	size_t n = 0, i;
	int rc;

	rc = store_msgs_page(
	    app->st, app->profile, contact, NULL, limit, &m, &n);
	if (rc != 0)
		return rc;
	for (i = n; i > 0; i--) {
		if (m[i - 1].deleted)
			continue;
		cli_print_msg(ctx, who, m[i - 1].id, m[i - 1].dir,
		    m[i - 1].status, m[i - 1].ts_ms, m[i - 1].text,
		    m[i - 1].text_len, json);
	}
	if (n > 0)
		store_read_mark(app->st, app->profile, contact, m[0].id);
	store_msgs_free(m, n);
	return 0;
}

/* What a following `read` is waiting for. */
struct cli_follow {
	struct cli_ctx *ctx;
	int one; /* only one contact */
	uint8_t contact[STORE_ID_LEN];
	int json;
};

/* A message arrived while following. */
static void
cli_follow_event(const struct agent_event *ev, void *arg)
{
	struct cli_follow *f = arg;
	struct app *app = f->ctx->app;
	char *who;

	if (ev->type != AGENT_EV_MESSAGE)
		return;
	if (f->one && memcmp(ev->contact, f->contact, STORE_ID_LEN) != 0)
		return;
	who = cli_contact_name(app, ev->contact, ev->name);
	cli_print_msg(f->ctx, who, ev->msg, STORE_DIR_IN, 0, ev->ts_ms,
	    ev->text, ev->text_len, f->json);
	store_read_mark(app->st, app->profile, ev->contact, ev->msg);
	free(who);
}

/* The caller of a following `read` went away. */
static void
cli_follow_cancel(struct cli_ctx *ctx)
{
	struct cli_follow *f = ctx->state;

	app_unlisten(ctx->app, cli_follow_event, f);
	free(f);
	ctx->state = NULL;
}

/* `noid read [CONTACT] [--follow] [--json] [--limit N]`. */
int
cli_exec_read(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct store_contact *cs = NULL;
	struct agent_conn_info ci;
	struct cli_follow *f;
	const char *lim = cli_opt(ctx, "limit");
	int json = cli_opt(ctx, "json") != NULL, rc = 0, one = 0;
	size_t n = 0, i, limit = CLI_READ_DEFAULT;
	char *end, *who;

	if (lim != NULL) {
		limit = strtoul(lim, &end, 10);
		if (*lim == '\0' || *end != '\0' || limit == 0 ||
		    limit > 1000000)
			return cli_fail(ctx, "--limit takes a number from 1");
	}
	memset(&ci, 0, sizeof ci);
	if (ctx->argc == 1) {
		if (app->agent == NULL)
			return cli_fail(ctx, "the network is not running");
		rc = app_conn_find(app, ctx->argv[0], APP_CONN_CONTACT, &ci);
		if (rc != 0)
			return cli_fail(ctx,
			    "no contact '%s' (see 'noid "
			    "contacts')",
			    ctx->argv[0]);
		one = 1;
		who = cli_contact_name(app, ci.contact, ci.name);
		rc = cli_read_conv(ctx, ci.contact, who, limit, json);
		free(who);
	} else {
		if ((rc = store_contacts_list(
		         app->st, app->profile, &cs, &n)) != 0)
			return cli_fail(ctx, "%s", noid_strerror(rc));
		for (i = 0; i < n && rc == 0; i++) {
			who = cli_contact_name(app, cs[i].id, NULL);
			rc = cli_read_conv(ctx, cs[i].id, who, limit, json);
			free(who);
		}
		store_contacts_free(cs, n);
	}
	if (rc != 0) {
		agent_conn_info_clear(&ci);
		return cli_fail(ctx, "%s", noid_strerror(rc));
	}
	if (cli_opt(ctx, "follow") == NULL || app->agent == NULL) {
		agent_conn_info_clear(&ci);
		return 0;
	}
	f = xcalloc(1, sizeof *f);
	f->ctx = ctx;
	f->one = one;
	memcpy(f->contact, ci.contact, STORE_ID_LEN);
	f->json = json;
	agent_conn_info_clear(&ci);
	ctx->state = f;
	ctx->cancel = cli_follow_cancel;
	app_listen(app, cli_follow_event, f);
	return CLI_PENDING;
}

/* `noid search TEXT [--contact CONTACT]`. */
int
cli_exec_search(struct cli_ctx *ctx)
{
	struct app *app = ctx->app;
	struct store_hit *hits = NULL;
	struct store_msg m;
	struct buf q;
	struct store_contact *cs = NULL;
	const char *only = cli_opt(ctx, "contact");
	uint8_t conv[STORE_ID_LEN];
	size_t n = 0, nc = 0, i;
	char *who;
	int k, rc, found = 0;

	if (only != NULL) {
		if ((rc = store_contacts_list(
		         app->st, app->profile, &cs, &nc)) != 0)
			return cli_fail(ctx, "%s", noid_strerror(rc));
		for (i = 0; i < nc; i++) {
			who = cli_contact_name(app, cs[i].id, NULL);
			if (strcasecmp(who, only) == 0) {
				memcpy(conv, cs[i].id, STORE_ID_LEN);
				found = 1;
			}
			free(who);
		}
		store_contacts_free(cs, nc);
		if (!found)
			return cli_fail(ctx,
			    "no contact '%s' (see 'noid "
			    "contacts')",
			    only);
	}
	buf_init(&q);
	for (k = 0; k < ctx->argc; k++) {
		if (k > 0)
			buf_put_u8(&q, ' ');
		buf_put(&q, ctx->argv[k], strlen(ctx->argv[k]));
	}
	buf_put_u8(&q, 0);
	rc = store_search(app->st, app->profile, found ? conv : NULL,
	    (char *)q.data, CLI_SEARCH_MAX, &hits, &n);
	buf_free(&q);
	if (rc == NOID_ERR_INVAL)
		return cli_fail(ctx,
		    "can't search for that (quote special "
		    "characters)");
	if (rc != 0)
		return cli_fail(ctx, "%s", noid_strerror(rc));
	for (i = 0; i < n; i++) {
		if (store_msg_get(app->st, app->profile, hits[i].msg, &m) != 0)
			continue;
		who = cli_contact_name(app, hits[i].conv, NULL);
		cli_print_msg(ctx, who, m.id, m.dir, m.status, m.ts_ms, m.text,
		    m.text_len, 0);
		free(who);
		store_msg_clear(&m);
	}
	free(hits);
	if (n == 0)
		return cli_fail(ctx, "no message matches");
	return 0;
}
