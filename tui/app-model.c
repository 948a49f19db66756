/*
 * app-model: what the screen shows, read from the store and the agent.
 *
 * The conversation list is small and is simply reloaded when an event
 * says it changed.  The open conversation is paged: the newest page on
 * open, older pages as the user scrolls up (a 100k-message history is
 * never read whole unless asked), and only its tail is re-read when a
 * message arrives or a status changes.  Integrity and security events
 * are not stored; they are kept as notes in the open conversation.
 */
#include "client.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODEL_PAGE 200
#define MODEL_TAIL 50

/* Free the loaded conversation. */
void
client_msgs_free(struct client *c)
{
	size_t i;

	for (i = 0; i < c->nmsgs; i++)
		store_msg_clear(&c->msgs[i].m);
	free(c->msgs);
	c->msgs = NULL;
	c->nmsgs = 0;
	c->all_loaded = 0;
	c->scroll = 0;
}

/* The selected conversation, or NULL. */
const struct client_conv *
client_current(const struct client *c)
{
	return c->sel < c->nconvs ? &c->convs[c->sel] : NULL;
}

/* Free the conversation list. */
static void
client_convs_free(struct client_conv *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].preview);
	}
	free(v);
}

/* Order: requests first, then by name. */
static int
client_conv_cmp(const void *a, const void *b)
{
	const struct client_conv *x = a, *y = b;
	int rx = x->state == AGENT_CONN_REQUESTED;
	int ry = y->state == AGENT_CONN_REQUESTED;

	if (rx != ry)
		return ry - rx;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* Total unread messages in the profiles other than the current one. */
static uint64_t
client_other_unread(struct client *c)
{
	struct store_profile *ps = NULL;
	struct store_contact *cs = NULL;
	size_t n = 0, nc, i, j;
	uint64_t total = 0;

	if (store_profiles_list(c->app->st, &ps, &n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (memcmp(ps[i].id, c->app->profile, STORE_ID_LEN) == 0)
			continue;
		nc = 0;
		if (store_contacts_list(c->app->st, ps[i].id, &cs, &nc) != 0)
			continue;
		for (j = 0; j < nc; j++)
			total += cs[j].unread;
		store_contacts_free(cs, nc);
	}
	store_profiles_free(ps, n);
	return total;
}

/* Free the conversation list. */
void
client_model_free(struct client *c)
{
	client_convs_free(c->convs, c->nconvs);
	c->convs = NULL;
	c->nconvs = 0;
}

/* Reload the conversation list, keeping the selection. */
void
client_model_reload(struct client *c)
{
	struct app *app = c->app;
	struct agent_conn_info *ci = NULL;
	struct client_conv *v = NULL;
	struct store_msg *m = NULL;
	uint8_t keep[STORE_ID_LEN];
	size_t n = 0, nv = 0, nm, i;
	int had = 0;

	if (client_current(c) != NULL) {
		memcpy(keep, client_current(c)->contact, STORE_ID_LEN);
		had = 1;
	}
	if (app->agent != NULL && agent_conns(app->agent, &ci, &n) != 0)
		n = 0;
	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++) {
		if (ci[i].state == AGENT_CONN_INVITED ||
		    ci[i].state == AGENT_CONN_CLOSED)
			continue;
		memcpy(v[nv].contact, ci[i].contact, STORE_ID_LEN);
		memcpy(v[nv].conn, ci[i].conn, STORE_ID_LEN);
		v[nv].name = cli_contact_name(app, ci[i].contact, ci[i].name);
		v[nv].state = ci[i].state;
		v[nv].trust = ci[i].trust;
		v[nv].muted = client_muted(c, ci[i].contact);
		store_unread_count(
		    app->st, app->profile, ci[i].contact, &v[nv].unread);
		nm = 0;
		if (store_msgs_page(app->st, app->profile, ci[i].contact, NULL,
		        1, &m, &nm) == 0 &&
		    nm == 1)
			v[nv].preview = xstrdup(m[0].text ? m[0].text : "");
		store_msgs_free(m, nm);
		m = NULL;
		nv++;
	}
	agent_conns_free(ci, n);
	qsort(v, nv, sizeof *v, client_conv_cmp);
	client_convs_free(c->convs, c->nconvs);
	c->convs = v;
	c->nconvs = nv;
	c->sel = 0;
	for (i = 0; had && i < nv; i++)
		if (memcmp(v[i].contact, keep, STORE_ID_LEN) == 0)
			c->sel = i;
	c->other_unread = client_other_unread(c);
	if (!had || client_current(c) == NULL ||
	    memcmp(client_current(c)->contact, keep, STORE_ID_LEN) != 0)
		client_chat_open(c);
	c->dirty = 1;
}

/* Mark the open conversation read up to its newest message. */
static void
client_chat_mark_read(struct client *c)
{
	const struct client_conv *cv = client_current(c);
	size_t i;

	if (cv == NULL)
		return;
	for (i = c->nmsgs; i > 0; i--) {
		if (c->msgs[i - 1].m.dir == STORE_DIR_IN) {
			store_read_mark(c->app->st, c->app->profile,
			    cv->contact, c->msgs[i - 1].m.id);
			break;
		}
	}
}

/* Load the newest page of the selected conversation. */
void
client_chat_open(struct client *c)
{
	const struct client_conv *cv = client_current(c);
	struct store_msg *m = NULL;
	size_t n = 0, i;

	client_msgs_free(c);
	c->has_mark = c->has_jump = 0;
	c->dirty = 1;
	if (cv == NULL ||
	    store_msgs_page(c->app->st, c->app->profile, cv->contact, NULL,
	        MODEL_PAGE, &m, &n) != 0)
		return;
	c->msgs = xcalloc(n + 1, sizeof *c->msgs);
	for (i = 0; i < n; i++) {
		c->msgs[n - 1 - i].m = m[i];
		memset(&m[i], 0, sizeof m[i]);
	}
	c->nmsgs = n;
	c->all_loaded = n < MODEL_PAGE;
	store_msgs_free(m, n);
	client_chat_mark_read(c);
}

/* Load one older page; 0 when there was nothing more. */
int
client_chat_load_older(struct client *c)
{
	const struct client_conv *cv = client_current(c);
	struct store_msg *m = NULL;
	const uint8_t *before = NULL;
	size_t n = 0, i, j;

	if (cv == NULL || c->all_loaded)
		return 0;
	for (i = 0; i < c->nmsgs && before == NULL; i++)
		if (c->msgs[i].m.dir != 0)
			before = c->msgs[i].m.id;
	if (store_msgs_page(c->app->st, c->app->profile, cv->contact, before,
	        MODEL_PAGE, &m, &n) != 0)
		return 0;
	if (n < MODEL_PAGE)
		c->all_loaded = 1;
	if (n == 0) {
		store_msgs_free(m, n);
		return 0;
	}
	c->msgs = xreallocarray(c->msgs, c->nmsgs + n + 1, sizeof *c->msgs);
	memmove(c->msgs + n, c->msgs, c->nmsgs * sizeof *c->msgs);
	for (i = 0, j = n; i < n; i++) {
		memset(&c->msgs[--j], 0, sizeof c->msgs[j]);
		c->msgs[j].m = m[i];
		memset(&m[i], 0, sizeof m[i]);
	}
	c->nmsgs += n;
	store_msgs_free(m, n);
	c->dirty = 1;
	return 1;
}

/* Re-read the newest messages: new ones appended, statuses updated. */
void
client_chat_tail(struct client *c)
{
	const struct client_conv *cv = client_current(c);
	struct store_msg *m = NULL;
	size_t n = 0, i, k, lo;
	int found;

	if (cv == NULL ||
	    store_msgs_page(c->app->st, c->app->profile, cv->contact, NULL,
	        MODEL_TAIL, &m, &n) != 0)
		return;
	lo = c->nmsgs > 4 * MODEL_TAIL ? c->nmsgs - 4 * MODEL_TAIL : 0;
	for (i = n; i > 0; i--) {
		found = 0;
		for (k = c->nmsgs; k > lo && !found; k--) {
			if (memcmp(c->msgs[k - 1].m.id, m[i - 1].id,
			        STORE_ID_LEN) != 0)
				continue;
			found = 1;
			c->msgs[k - 1].m.status = m[i - 1].status;
		}
		if (found)
			continue;
		c->msgs = xreallocarray(c->msgs, c->nmsgs + 1, sizeof *c->msgs);
		memset(&c->msgs[c->nmsgs], 0, sizeof c->msgs[c->nmsgs]);
		c->msgs[c->nmsgs++].m = m[i - 1];
		memset(&m[i - 1], 0, sizeof m[i - 1]);
	}
	store_msgs_free(m, n);
	client_chat_mark_read(c);
	c->dirty = 1;
}

/* Add an event note to the open conversation. */
void
client_chat_note(struct client *c, const char *fmt, ...)
{
	struct client_msg *cm;
	va_list ap;

	c->msgs = xreallocarray(c->msgs, c->nmsgs + 1, sizeof *c->msgs);
	cm = &c->msgs[c->nmsgs++];
	memset(cm, 0, sizeof *cm);
	va_start(ap, fmt);
	cm->m.text_len = (size_t)xvasprintf(&cm->m.text, fmt, ap);
	va_end(ap);
	cm->m.ts_ms = clock_wall_ms();
	c->dirty = 1;
}

/* A one-line note in the status bar. */
void
client_set_note(struct client *c, const char *fmt, ...)
{
	va_list ap;

	free(c->note);
	va_start(ap, fmt);
	xvasprintf(&c->note, fmt, ap);
	va_end(ap);
	c->dirty = 1;
}

/* Tell the terminal (and tmux) a message came: bell and OSC 9/777. */
static void
client_notify(struct client *c, const char *who)
{
	char *seq;
	int n;

	if (c->notify_bell)
		beep();
	if (!c->notify_osc)
		return;
	n = xasprintf(&seq,
	    "\033]9;noid: message from %s\007"
	    "\033]777;notify;noid;message from %s\007",
	    who, who);
	if (write(1, seq, (size_t)n) < 0) {
		/* A notification is best effort. */
	}
	free(seq);
}

/* Something went through a relay: forget an earlier relay error. */
static void
client_relay_ok(struct client *c)
{
	free(c->relay_err);
	c->relay_err = NULL;
}

/* Agent events: update the model; the loop redraws after. */
void
client_on_event(const struct agent_event *ev, void *arg)
{
	struct client *c = arg;
	const struct client_conv *cv = client_current(c);
	int here =
	    cv != NULL && memcmp(cv->contact, ev->contact, STORE_ID_LEN) == 0;
	char *who;

	c->dirty = 1;
	switch (ev->type) {
	case AGENT_EV_MESSAGE:
		client_relay_ok(c);
		if (here) {
			client_chat_tail(c);
			break;
		}
		if (!client_muted(c, ev->contact)) {
			who = cli_contact_name(c->app, ev->contact, ev->name);
			client_notify(c, who);
			free(who);
		}
		c->model = 1;
		break;
	case AGENT_EV_SENT:
		client_relay_ok(c);
		if (here)
			client_chat_tail(c);
		break;
	case AGENT_EV_DELIVERED:
		if (here)
			client_chat_tail(c);
		break;
	case AGENT_EV_REQUEST:
		client_set_note(c,
		    "%s (claims to be) asks to connect: "
		    "/accept or /reject",
		    ev->name ? ev->name : "someone");
		c->model = 1;
		break;
	case AGENT_EV_CONNECTED:
		client_set_note(
		    c, "connected with %s", ev->name ? ev->name : "a contact");
		c->model = 1;
		break;
	case AGENT_EV_INTEGRITY:
		if (!here)
			break;
		if (ev->integrity == AGENT_INTEGRITY_SKIPPED)
			client_chat_note(c, "⚠ messages %llu–%llu are missing",
			    (unsigned long long)ev->seq,
			    (unsigned long long)ev->seq_to);
		else
			client_chat_note(c,
			    "⚠ a message failed the integrity "
			    "check (%s)",
			    ev->integrity == AGENT_INTEGRITY_BAD_HASH
			        ? "previous-message hash differs"
			        : "number out of order");
		break;
	case AGENT_EV_SECURITY:
		if (here)
			client_chat_note(c, "🔒 %s",
			    ev->security == AGENT_SECURITY_REKEYED
			        ? "new keys agreed: the security code changed"
			        : ev->security == AGENT_SECURITY_RESYNC
			        ? "keys were re-agreed after a lost state: "
			          "verify the security code again"
			        : ev->security == AGENT_SECURITY_VERIFIED
			        ? "security code verified"
			        : "messages arrive that no key opens");
		c->model = 1;
		break;
	case AGENT_EV_PROFILE:
	case AGENT_EV_ROTATED:
	case AGENT_EV_CLOSED:
		c->model = 1;
		break;
	case AGENT_EV_ERROR:
		if (ev->conn[0] == 0 &&
		    memcmp(ev->conn, ev->conn + 1, AGENT_ID_LEN - 1) == 0) {
			free(c->relay_err);
			xasprintf(&c->relay_err, "%s%s%s",
			    noid_strerror(ev->err), ev->detail ? ": " : "",
			    ev->detail ? ev->detail : "");
		} else
			client_set_note(c, "error: %s%s%s",
			    noid_strerror(ev->err), ev->detail ? ": " : "",
			    ev->detail ? ev->detail : "");
		break;
	}
}

/* Show a titled text in the chat area. */
void
client_overlay_text(struct client *c, const char *title, const char *text)
{
	client_overlay_close(c);
	c->overlay = OVERLAY_TEXT;
	c->ov_title = xstrdup(title);
	c->ov_text = xstrdup(text);
	c->dirty = 1;
}

/*
 * An event in another profile: a message or request there changes its
 * unread count (the "unread in other profiles" mark) and notifies,
 * unless that conversation is muted.
 */
void
client_on_other_event(const uint8_t profile[STORE_ID_LEN],
    const struct agent_event *ev, void *arg)
{
	struct client *c = arg;
	char *who;

	if (ev->type != AGENT_EV_MESSAGE && ev->type != AGENT_EV_REQUEST)
		return;
	c->model = 1;
	c->dirty = 1;
	if (ev->type == AGENT_EV_MESSAGE &&
	    client_muted_in(c, profile, ev->contact))
		return;
	xasprintf(&who, "%s (another profile)",
	    ev->name != NULL ? ev->name : "someone");
	client_notify(c, who);
	free(who);
}
