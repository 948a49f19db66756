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
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* How long /relays test waits for one relay. */
#define TUI_RELAY_TEST_MS 2000

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
	c->connect_wait = 0;
	free(c->hits);
	free(c->hits_query);
	c->hits = NULL;
	c->hits_query = NULL;
	c->nhits = c->hit_sel = 0;
	c->dirty = 1;
}

/* Say what a blocking step is doing, drawn now: the agent's invite and
 * join wait for the relay (up to its timeout) before they return. */
void
client_busy(struct client *c, const char *what)
{
	client_set_note(c, "%s", what);
	win_draw(c);
	c->dirty = 1;
}

/*
 * The invitation's QR code, made once for the link: the smallest that
 * fits the screen now, else the smallest at all (the screen may grow;
 * win_invite decides at each draw whether it fits).
 */
static void
client_invite_qr(struct client *c)
{
	qr_free(c->ov_qr);
	c->ov_qr = NULL;
	if (qr_encode_fit(c->ov_link, c->cols, c->rows - 2, &c->ov_qr) != 0 &&
	    qr_encode(c->ov_link, QR_LEVEL_L, &c->ov_qr) != 0)
		c->ov_qr = NULL;
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
	client_busy(c, "making an invitation: asking the relay for a queue…");
	rc = agent_invite(c->app->agent, AGENT_TRUST_QR, &link, c->ov_conn);
	if (rc != 0) {
		client_set_note(
		    c, "can't make an invitation: %s", noid_strerror(rc));
		return;
	}
	client_set_note(c, "invitation ready");
	client_overlay_close(c);
	xasprintf(&title, "Invitation%s%s from %s — one use; scan it with noid",
	    note ? " for " : "", note ? note : "", c->app->profile_name);
	c->overlay = OVERLAY_INVITE;
	c->ov_title = title;
	c->ov_link = link;
	client_invite_qr(c);
	c->dirty = 1;
}

/*
 * Showing the link text: it can leave the screen, so whoever uses it may
 * not be the person in front of it.  The invitation stays the same link
 * (the code on screen and the text agree) but counts as shared as text.
 */
void
client_invite_share(struct client *c)
{
	char *b64, *seq;
	size_t len;
	int n, rc;

	if (c->ov_link == NULL || c->ov_link_shown || c->app->agent == NULL)
		return;
	rc = agent_invite_shared(c->app->agent, c->ov_conn);
	if (rc != 0) {
		client_set_note(c, "can't show the link: %s%s",
		    noid_strerror(rc),
		    rc == NOID_ERR_STATE ? " (the invitation was used)" : "");
		return;
	}
	c->ov_link_shown = 1;
	client_set_note(c,
	    "link copied to the clipboard where the "
	    "terminal allows it");
	/* The terminal's clipboard (OSC 52), where it allows it. */
	len = strlen(c->ov_link);
	b64 = xmalloc(
	    sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL));
	sodium_bin2base64(b64,
	    sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL),
	    (const unsigned char *)c->ov_link, len,
	    sodium_base64_VARIANT_ORIGINAL);
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

/* Connect with a link (white space anywhere is dropped by the CLI). */
void
client_connect_link(struct client *c, const char *link)
{
	char *out;
	int rc;

	client_overlay_close(c);
	client_busy(c, "connecting: sending the request through the relay…");
	rc = client_cli(c, &out, "connect", (char *)link, (char *)NULL);
	client_cli_note(c, out, rc);
}

/* The connect screen: the next line typed (or pasted) is the link. */
void
client_connect_open(struct client *c)
{
	client_overlay_text(c, "Connect",
	    "Paste the invitation link you were given and press Enter.\n"
	    "Spaces and line breaks in it do not matter.\n\n"
	    "The other person sees your profile name and accepts or "
	    "rejects.\nEsc: cancel");
	c->connect_wait = 1;
}

/* /connect [LINK] */
static int
cmd_connect(struct client *c, int argc, char **argv)
{
	if (argc < 2)
		client_connect_open(c);
	else
		client_connect_link(c, argv[1]);
	return 0;
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

/* The profile changed under the screen: start over on the current one. */
static void
client_profile_reset(struct client *c)
{
	int rc;

	/* Notes and relay errors were about the profile left behind. */
	free(c->relay_err);
	c->relay_err = NULL;
	free(c->note);
	c->note = NULL;
	if (c->app->has_profile && (rc = app_agent_start(c->app)) != 0)
		client_set_note(
		    c, "can't start the network: %s", noid_strerror(rc));
	client_msgs_free(c);
	c->sel = 0;
	c->nconvs = 0;
	client_overlay_close(c);
	c->model = 1;
}

/* Confirmed /profile delete. */
static void
cmd_profile_delete_yes(struct client *c)
{
	int rc;

	client_busy(c, "deleting the profile: telling its contacts…");
	rc = app_profile_delete(c->app, c->ov_profile, 10000);
	client_profile_reset(c);
	if (rc != 0)
		client_set_note(c, "not deleted: %s", noid_strerror(rc));
	else if (!c->app->has_profile)
		c->quit = 1; /* nothing left to show; run noid again */
	else
		client_set_note(
		    c, "profile deleted; now on %s", c->app->profile_name);
}

/* /profile [NAME | new NAME | rename NEW | delete NAME] */
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
		    "creates · /profile rename NEW renames this one · "
		    "/profile delete NAME deletes one (asks first)",
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
	if (strncmp(argv[1], "delete ", 7) == 0) {
		if (cli_profile_find(c->app, argv[1] + 7, id) != 0) {
			client_set_note(
			    c, "no profile named '%s'", argv[1] + 7);
			return NOID_ERR_NOENT;
		}
		xasprintf(&text,
		    "Delete profile '%s', its contacts and its whole "
		    "history from this device?  Its contacts are told "
		    "the connections are gone.  This can't be undone "
		    "(noid export keeps a copy).\n\ny: delete · n: keep",
		    argv[1] + 7);
		client_overlay_text(c, "Delete profile", text);
		free(text);
		c->overlay = OVERLAY_CONFIRM;
		c->ov_yes = cmd_profile_delete_yes;
		memcpy(c->ov_profile, id, STORE_ID_LEN);
		return 0;
	}
	if (cli_profile_find(c->app, argv[1], id) != 0) {
		client_set_note(c, "no profile named '%s'", argv[1]);
		return NOID_ERR_NOENT;
	}
	app_profile_switch(c->app, id);
	client_profile_reset(c);
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
	struct agent_conn_info ci;
	struct agent_code code;
	const char *name = argc > 1 ? argv[1] : cmd_current_name(c);
	char *text, *title;

	if (name == NULL)
		return 0;
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

/*
 * Test every relay, saying which one is being tried: a relay that does
 * not answer holds the screen for TUI_RELAY_TEST_MS at most.  Returns
 * the report (caller frees).
 */
static char *
client_relays_test(struct client *c)
{
	struct app_relay *r = NULL;
	const char *addr, *why;
	struct buf b;
	uint64_t ms = 0;
	size_t n = 0, i, total;
	char *line;
	int rc, len;

	buf_init(&b);
	if (app_relays_get(c->app, &r, &n) != 0)
		n = 0;
	total = n > 0 ? n : c->app->relay != NULL;
	for (i = 0; i < total; i++) {
		addr =
		    n > 0 ? r[i].address : relay_embed_address(c->app->relay);
		xasprintf(&line, "testing relay %zu of %zu…", i + 1, total);
		client_busy(c, line);
		free(line);
		rc = cli_relay_probe(addr, TUI_RELAY_TEST_MS, &ms, &why);
		if (rc == 0)
			len = xasprintf(&line, "ok    %s  (%llu ms)\n", addr,
			    (unsigned long long)ms);
		else
			len = xasprintf(&line, "FAIL  %s  %s\n", addr,
			    why != NULL ? why : noid_strerror(rc));
		buf_put(&b, line, (size_t)len);
		free(line);
	}
	if (total == 0)
		buf_put(&b, "no relay to test\n", 17);
	buf_put_u8(&b, 0);
	app_relays_free(r, n);
	client_set_note(c, "relay test done");
	return (char *)b.data;
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
		out = client_relays_test(c);
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

/* This device's id in the current profile; 0 when found. */
static int
cmd_self_device(struct client *c, uint8_t id[STORE_ID_LEN])
{
	struct store_profile *ps = NULL;
	size_t n = 0, i;
	int rc = NOID_ERR_NOENT;

	if (store_profiles_list(c->app->st, &ps, &n) != 0)
		return NOID_ERR_IO;
	for (i = 0; i < n; i++)
		if (memcmp(ps[i].id, c->app->profile, STORE_ID_LEN) == 0) {
			memcpy(id, ps[i].device, STORE_ID_LEN);
			rc = 0;
		}
	store_profiles_free(ps, n);
	return rc;
}

/* /devices: the devices this profile lives on. */
static int
cmd_devices(struct client *c, int argc, char **argv)
{
	struct store_device *ds = NULL;
	uint8_t self[STORE_ID_LEN];
	size_t n = 0, i;
	struct buf b;
	char *fp;
	int have_self;

	(void)argc;
	(void)argv;
	if (store_devices_list(c->app->st, c->app->profile, &ds, &n) != 0) {
		client_set_note(c, "could not read this profile's devices");
		return NOID_ERR_IO;
	}
	have_self = cmd_self_device(c, self) == 0;
	buf_init(&b);
	for (i = 0; i < n; i++) {
		fp = hex_encode(ds[i].id, 6);
		buf_put(&b, fp, strlen(fp));
		buf_put(&b, "  ", 2);
		buf_put(&b, ds[i].name, strlen(ds[i].name));
		if (have_self && memcmp(ds[i].id, self, STORE_ID_LEN) == 0)
			buf_put(&b, "  (this device)", 15);
		if (ds[i].removed)
			buf_put(&b, "  (removed)", 11);
		buf_put_u8(&b, '\n');
		free(fp);
	}
	store_devices_free(ds, n);
	static const char later[] =
	    "\nLinking another device (a laptop and a server shell, say)\n"
	    "comes with multi-device sync, which is not in this build:\n"
	    "until then this profile lives on this device only.";
	buf_put(&b, later, sizeof later);
	client_overlay_text(c, "Devices", (const char *)b.data);
	buf_free(&b);
	return 0;
}

/* The setting key of a conversation's mute flag (caller frees). */
static char *
client_mute_key(const uint8_t contact[STORE_ID_LEN])
{
	char *hex = hex_encode(contact, STORE_ID_LEN), *key;

	xasprintf(&key, "mute/%s", hex);
	free(hex);
	return key;
}

/* Whether a conversation of profile has its notifications off. */
int
client_muted_in(struct client *c, const uint8_t profile[STORE_ID_LEN],
    const uint8_t contact[STORE_ID_LEN])
{
	char *key = client_mute_key(contact), *val = NULL;
	int yes = store_setting_get(c->app->st, profile, key, &val) == 0;

	free(val);
	free(key);
	return yes;
}

/* Whether a conversation's notifications are off. */
int
client_muted(struct client *c, const uint8_t contact[STORE_ID_LEN])
{
	return client_muted_in(c, c->app->profile, contact);
}

/* /mute: notifications off (or back on) for the current conversation. */
static int
cmd_mute(struct client *c, int argc, char **argv)
{
	const struct client_conv *cv = client_current(c);
	char *key;
	int on, rc;

	(void)argc;
	(void)argv;
	if (cv == NULL) {
		client_set_note(c, "select a conversation first");
		return 0;
	}
	on = !client_muted(c, cv->contact);
	key = client_mute_key(cv->contact);
	rc = store_setting_set(
	    c->app->st, c->app->profile, key, on ? "1" : NULL);
	free(key);
	if (rc != 0)
		client_set_note(c, "%s", noid_strerror(rc));
	else
		client_set_note(
		    c, "notifications %s for %s", on ? "off" : "on", cv->name);
	c->model = 1;
	return 0;
}

/* The search overlay's text, with the selected hit marked. */
static void
client_search_draw(struct client *c)
{
	const struct client_conv *cv = client_current(c);
	struct store_msg m;
	struct buf b;
	char when[32], *who, *line;
	time_t t;
	struct tm tm;
	size_t i;
	int n;

	buf_init(&b);
	if (c->nhits == 0)
		buf_put(&b, "No message matches.", 19);
	for (i = 0; i < c->nhits; i++) {
		if (store_msg_get(
		        c->app->st, c->app->profile, c->hits[i].msg, &m) != 0)
			continue;
		t = (time_t)(m.ts_ms / 1000);
		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
		who = m.dir == STORE_DIR_OUT
		    ? xstrdup("me")
		    : cli_contact_name(c->app, c->hits[i].conv, NULL);
		n = xasprintf(&line, "%s %s%s %s: %.*s\n",
		    i == c->hit_sel ? "▶" : " ", when,
		    cv != NULL &&
		            memcmp(
		                cv->contact, c->hits[i].conv, STORE_ID_LEN) == 0
		        ? " (here)"
		        : "",
		    who, (int)strcspn(m.text, "\n"), m.text);
		buf_put(&b, line, (size_t)n);
		free(line);
		free(who);
		store_msg_clear(&m);
	}
	buf_put(&b, "\nUp/Down: choose · Enter: go to the message · Esc: close",
	    56);
	buf_put_u8(&b, 0);
	free(c->ov_text);
	c->ov_text = (char *)b.data;
	/* Keep the selection on screen. */
	c->ov_scroll = c->hit_sel > 3 ? (int)c->hit_sel - 3 : 0;
	c->dirty = 1;
}

/* Move the search selection. */
void
client_search_move(struct client *c, int delta)
{
	if (c->nhits == 0)
		return;
	if (delta < 0 && c->hit_sel > 0)
		c->hit_sel--;
	else if (delta > 0 && c->hit_sel + 1 < c->nhits)
		c->hit_sel++;
	client_search_draw(c);
}

/* Open the selected hit's conversation scrolled to it. */
void
client_search_jump(struct client *c)
{
	struct store_hit h;
	size_t i;

	if (c->nhits == 0)
		return;
	h = c->hits[c->hit_sel];
	client_overlay_close(c);
	for (i = 0; i < c->nconvs; i++)
		if (memcmp(c->convs[i].contact, h.conv, STORE_ID_LEN) == 0)
			break;
	if (i == c->nconvs) {
		client_set_note(c, "that conversation is gone");
		return;
	}
	if (i != c->sel) {
		c->sel = i;
		client_chat_open(c);
	}
	memcpy(c->jump, h.msg, STORE_ID_LEN);
	memcpy(c->mark, h.msg, STORE_ID_LEN);
	c->has_jump = c->has_mark = 1;
	c->dirty = 1;
}

/*
 * /search TEXT: every conversation, newest first, the current one's
 * hits first; choose one to jump to it.
 */
static int
cmd_search(struct client *c, int argc, char **argv)
{
	const struct client_conv *cv = client_current(c);
	struct store_hit *hits = NULL, tmp;
	size_t n = 0, i, k = 0;
	char *title;
	int rc;

	(void)argc;
	rc = store_search(
	    c->app->st, c->app->profile, NULL, argv[1], 200, &hits, &n);
	if (rc == NOID_ERR_INVAL) {
		client_set_note(c,
		    "can't search for that (quote special "
		    "characters)");
		return rc;
	}
	if (rc != 0) {
		client_set_note(c, "search failed: %s", noid_strerror(rc));
		return rc;
	}
	/* Stable: the current conversation's hits move to the front. */
	for (i = 0; cv != NULL && i < n; i++) {
		if (memcmp(hits[i].conv, cv->contact, STORE_ID_LEN) != 0)
			continue;
		tmp = hits[i];
		memmove(hits + k + 1, hits + k, (i - k) * sizeof *hits);
		hits[k++] = tmp;
	}
	xasprintf(&title, "Search: %s (%zu)", argv[1], n);
	client_overlay_text(c, title, "");
	free(title);
	c->hits = hits;
	c->nhits = n;
	c->hit_sel = 0;
	c->hits_query = xstrdup(argv[1]);
	client_search_draw(c);
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
    "  mouse (mouse = yes in the config): click a conversation, wheel\n"
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
	cmd_set_handler("mute", cmd_mute);
	cmd_set_handler("help", cmd_helpscreen);
	cmd_set_handler("quit", cmd_quit);
	cmd_set_completer("contact", cmd_complete_contact);
	cmd_set_completer("accept", cmd_complete_contact);
	cmd_set_completer("reject", cmd_complete_contact);
}
