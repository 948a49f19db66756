/*
 * app-core: the client engine shared by the TUI, the daemon and one-shot
 * commands: the open store, the current profile, its relays and its
 * agent, and the fan-out of agent events to whoever listens (the screen,
 * `read --follow` callers, commands waiting for a result).
 *
 * The agent runs either inside the app loop (an instance: TUI or daemon,
 * where the other profiles' agents run too, app-others.c) or, for a
 * one-shot command, through agent_run() around the command:
 * first take in what waits, then act, then run until idle so what the
 * command queued has left before the process exits.
 */
#include "client.h"
#include "addr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define APP_LAST_PROFILE "last-profile"
#define APP_RELAYS_SETTING "relays"

static int app_agent_start_current(struct app *app);

/* A new engine for data dir dir (nothing opened yet). */
struct app *
app_new(const char *dir)
{
	struct app *app = xcalloc(1, sizeof *app);

	app->dir = xstrdup(dir);
	if (getenv("NOID_TEST_FAST_KDF") != NULL)
		app->store_flags |= STORE_FAST_KDF;
	return app;
}

/* Close everything and free. */
void
app_free(struct app *app)
{
	struct app_listener *l;

	if (app == NULL)
		return;
	app_agent_stop(app);
	ctl_server_stop(app->ctl);
	app_loop_free(app->loop);
	/* The relay keeps our queues while noid is not running. */
	relay_embed_release(app->relay);
	store_close(app->st);
	secret_free(app->password);
	while ((l = app->listeners) != NULL) {
		app->listeners = l->next;
		free(l);
	}
	free(app->profile_name);
	free(app->dir);
	free(app);
}

/* Open the store with password (NULL: none). */
int
app_open_store(struct app *app, const char *password, int create)
{
	int rc = store_open(app->dir, password,
	    app->store_flags | (create ? STORE_CREATE : 0), &app->st);

	/* Kept for export and passwd, in secret memory. */
	if (rc == 0 && password != NULL) {
		app->password = secret_alloc(strlen(password) + 1);
		memcpy(app->password, password, strlen(password) + 1);
	}
	return rc;
}

/* Remember the current profile for the next run. */
static void
app_profile_save_last(struct app *app)
{
	char *path = path_join(app->dir, APP_LAST_PROFILE);
	char *hex = hex_encode(app->profile, STORE_ID_LEN);

	file_write_atomic(path, hex, strlen(hex), 0600);
	free(hex);
	free(path);
}

/* Make p the current profile. */
static void
app_profile_use(struct app *app, const struct store_profile *p, int save)
{
	memcpy(app->profile, p->id, STORE_ID_LEN);
	free(app->profile_name);
	app->profile_name = xstrdup(p->name != NULL ? p->name : "");
	app->has_profile = 1;
	if (save)
		app_profile_save_last(app);
}

/*
 * Pick the current profile: name when given (NOID_ERR_NOENT if none
 * matches), else the last used, else the first.  NOID_ERR_NOENT when the
 * store has no profile at all.
 */
int
app_profile_select(struct app *app, const char *name)
{
	struct store_profile *ps = NULL;
	uint8_t last[STORE_ID_LEN];
	uint8_t *data = NULL;
	char *path;
	size_t n = 0, len, i;
	int rc, have_last = 0;

	if ((rc = store_profiles_list(app->st, &ps, &n)) != 0)
		return rc;
	rc = NOID_ERR_NOENT;
	if (name != NULL) {
		for (i = 0; i < n; i++) {
			if (ps[i].name != NULL &&
			    strcmp(ps[i].name, name) == 0) {
				app_profile_use(app, &ps[i], 0);
				rc = 0;
				break;
			}
		}
		goto out;
	}
	if (n == 0)
		goto out;
	path = path_join(app->dir, APP_LAST_PROFILE);
	if (file_read_all(path, 64, &data, &len) == 0 &&
	    len == 2 * STORE_ID_LEN &&
	    hex_decode((char *)data, last, STORE_ID_LEN) == 0)
		have_last = 1;
	free(path);
	free(data);
	app_profile_use(app, &ps[0], 0);
	for (i = 0; have_last && i < n; i++)
		if (memcmp(ps[i].id, last, STORE_ID_LEN) == 0)
			app_profile_use(app, &ps[i], 0);
	rc = 0;
out:
	store_profiles_free(ps, n);
	return rc;
}

/* Switch to profile id (and remember it). */
int
app_profile_switch(struct app *app, const uint8_t id[STORE_ID_LEN])
{
	struct store_profile *ps = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = store_profiles_list(app->st, &ps, &n)) != 0)
		return rc;
	rc = NOID_ERR_NOENT;
	for (i = 0; i < n; i++) {
		if (memcmp(ps[i].id, id, STORE_ID_LEN) != 0)
			continue;
		app_agent_stop(app);
		app_profile_use(app, &ps[i], 1);
		rc = 0;
	}
	store_profiles_free(ps, n);
	return rc;
}

/*
 * Delete profile id on this device.  Its contacts are told first (every
 * connection deleted through an agent on that profile, waiting up to
 * wait_ms for the relays) so their side closes too.  The current
 * profile stays current unless it is the one deleted; then the last
 * used or first remaining one is (has_profile 0 when none is left).
 * A running agent is restarted on whichever is current.
 */
int
app_profile_delete(struct app *app, const uint8_t id[STORE_ID_LEN], int wait_ms)
{
	struct store_profile *ps = NULL, *keep = NULL, *gone = NULL;
	struct agent_conn_info *ci = NULL;
	size_t n = 0, nc = 0, i, told;
	int had_agent = app->agent != NULL, rc;

	if ((rc = store_profiles_list(app->st, &ps, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (memcmp(ps[i].id, id, STORE_ID_LEN) == 0)
			gone = &ps[i];
		else if (app->has_profile &&
		    memcmp(ps[i].id, app->profile, STORE_ID_LEN) == 0)
			keep = &ps[i];
	}
	if (gone == NULL) {
		rc = NOID_ERR_NOENT;
		goto out;
	}
	app_agent_stop(app);
	app_profile_use(app, gone, 0);
	if (app_agent_start_current(app) == 0) {
		/* Up to date first, as a one-shot command is. */
		app_agent_settle(app, wait_ms);
		told = 0;
		if (agent_conns(app->agent, &ci, &nc) == 0)
			for (i = 0; i < nc; i++)
				if (ci[i].state != AGENT_CONN_CLOSED &&
				    agent_delete(app->agent, ci[i].conn) == 0)
					told++;
		agent_conns_free(ci, nc);
		/* Best effort: an unreachable relay must not keep the
		 * profile alive.  (Not app_agent_settle: the connections
		 * are gone already, their goodbyes not yet.) */
		if (told > 0)
			agent_run(app->agent, wait_ms, AGENT_RUN_IDLE);
		app_agent_stop(app);
	}
	if ((rc = store_profile_delete(app->st, id)) != 0)
		goto out;
	app->has_profile = 0;
	if (keep != NULL)
		app_profile_use(app, keep, 0);
	else if (app_profile_select(app, NULL) == 0)
		app_profile_save_last(app);
out:
	if (rc != 0 && keep != NULL)
		app_profile_use(app, keep, 0);
	if (had_agent && app->has_profile)
		app_agent_start(app);
	store_profiles_free(ps, n);
	return rc;
}

/* ---- relays ---------------------------------------------------------- */

/* Free a relay list. */
void
app_relays_free(struct app_relay *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(r[i].address);
		free(r[i].key);
	}
	free(r);
}

/* The current profile's relays. */
int
app_relays_get(struct app *app, struct app_relay **out, size_t *n)
{
	return app_relays_get_of(app, app->profile, out, n);
}

/* Profile's relays, from its synced setting (one per line). */
int
app_relays_get_of(struct app *app, const uint8_t profile[STORE_ID_LEN],
    struct app_relay **out, size_t *n)
{
	char *val = NULL, *line, *save = NULL, addr[1024], key[1024];
	struct app_relay *r = NULL;
	size_t cnt = 0;
	int trusted, rc;

	*out = NULL;
	*n = 0;
	rc = store_setting_get(app->st, profile, APP_RELAYS_SETTING, &val);
	if (rc == NOID_ERR_NOENT)
		return 0;
	if (rc != 0)
		return rc;
	for (line = strtok_r(val, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%1023s %1023s %d", addr, key, &trusted) != 3)
			continue;
		r = xreallocarray(r, cnt + 1, sizeof *r);
		r[cnt].address = xstrdup(addr);
		r[cnt].key = strcmp(key, "-") == 0 ? NULL : xstrdup(key);
		r[cnt].trusted = trusted;
		cnt++;
	}
	free(val);
	*out = r;
	*n = cnt;
	return 0;
}

/* Store the profile's relay list. */
int
app_relays_put(struct app *app, const struct app_relay *r, size_t n)
{
	struct buf b;
	char *line;
	size_t i;
	int len, rc;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		len = xasprintf(&line, "%s %s %d\n", r[i].address,
		    r[i].key != NULL ? r[i].key : "-", r[i].trusted);
		buf_put(&b, line, (size_t)len);
		free(line);
	}
	buf_put_u8(&b, 0);
	rc = store_setting_set(app->st, app->profile, APP_RELAYS_SETTING,
	    n > 0 ? (char *)b.data : NULL);
	buf_free(&b);
	return rc;
}

/* Check a relay address; *canon gets its canonical form (caller frees). */
int
app_relay_address_check(const char *address, const char **why, char **canon)
{
	struct relay_addr a;
	int rc;

	if ((rc = addr_parse(address, &a, why)) != 0)
		return rc;
	*canon = addr_format(&a);
	return 0;
}

/* ---- the agent --------------------------------------------------------- */

/* Agent callback: fan out to every listener. */
static void
app_on_event(const struct agent_event *ev, void *arg)
{
	struct app *app = arg;
	struct app_listener *l, *next;

	for (l = app->listeners; l != NULL; l = next) {
		next = l->next; /* a listener may remove itself */
		l->cb(ev, l->arg);
	}
}

/*
 * Open an agent on profile (its relays, else the embedded one), events
 * to cb; *embedded (may be NULL): whether it uses the embedded relay.
 * *out: agent_close.
 */
int
app_agent_open(struct app *app, const uint8_t profile[STORE_ID_LEN],
    agent_event_cb cb, void *arg, int *embedded, struct agent **out)
{
	struct agent_config cfg;
	struct agent_relay *ar = NULL;
	struct app_relay *r = NULL;
	size_t n = 0, i;
	int rc;

	*out = NULL;
	if ((rc = app_relays_get_of(app, profile, &r, &n)) != 0)
		return rc;
	memset(&cfg, 0, sizeof cfg);
	if (n == 0) {
		if (app->relay == NULL &&
		    (rc = relay_embed_start(app->dir, &app->relay)) != 0) {
			app->relay_err = rc;
			goto out;
		}
		ar = xcalloc(1, sizeof *ar);
		ar[0].address = relay_embed_address(app->relay);
		cfg.nrelays = 1;
	} else {
		ar = xcalloc(n, sizeof *ar);
		for (i = 0; i < n; i++) {
			ar[i].address = r[i].address;
			ar[i].access_key = r[i].key;
		}
		cfg.nrelays = n;
	}
	if (embedded != NULL)
		*embedded = n == 0;
	cfg.relays = ar;
	/* An instance shows whether its relays are up; a one-shot
	 * command dials only what it needs. */
	cfg.dial_own = app->loop != NULL;
	cfg.cb = cb;
	cfg.cb_arg = arg;
	rc = agent_open(app->st, profile, &cfg, out);
out:
	free(ar);
	app_relays_free(r, n);
	return rc;
}

/* Open the agent on the current profile only. */
static int
app_agent_start_current(struct app *app)
{
	if (app->agent != NULL)
		return 0;
	app->on_embedded = 0;
	app->agents_gen++;
	return app_agent_open(app, app->profile, app_on_event, app,
	    &app->on_embedded, &app->agent);
}

/*
 * Open the agent on the current profile; an instance (a loop to run
 * them in) also keeps the other profiles receiving (app-others.c).
 */
int
app_agent_start(struct app *app)
{
	int rc;

	if ((rc = app_agent_start_current(app)) != 0)
		return rc;
	if (app->loop != NULL)
		app_others_start(app);
	return 0;
}

/*
 * Run the agent on its own until idle, up to ms.  A profile without
 * connections has nothing to take in or flush, and the agent, holding
 * no relay session, would only wait out the time: return at once.
 */
int
app_agent_settle(struct app *app, int ms)
{
	struct agent_conn_info *ci = NULL;
	size_t n = 0;

	if (agent_conns(app->agent, &ci, &n) == 0 && n == 0)
		return 0;
	agent_conns_free(ci, n);
	return agent_run(app->agent, ms, AGENT_RUN_IDLE);
}

/* Close the agent and those of the other profiles (nothing is lost:
 * the outbox stays in the store). */
void
app_agent_stop(struct app *app)
{
	app_others_stop(app);
	agent_close(app->agent);
	app->agent = NULL;
	app->agents_gen++;
}

/* Apply the current profile's changed relay list: reopen its agent. */
int
app_agent_restart(struct app *app)
{
	if (app->agent == NULL)
		return 0;
	agent_close(app->agent);
	app->agent = NULL;
	app->agents_gen++;
	return app_agent_start_current(app);
}

/* Listen to agent events. */
void
app_listen(struct app *app, agent_event_cb cb, void *arg)
{
	struct app_listener *l = xcalloc(1, sizeof *l);

	l->cb = cb;
	l->arg = arg;
	l->next = app->listeners;
	app->listeners = l;
}

/* Stop listening (cb and arg as given to app_listen). */
void
app_unlisten(struct app *app, agent_event_cb cb, void *arg)
{
	struct app_listener **pp, *l;

	for (pp = &app->listeners; (l = *pp) != NULL; pp = &l->next) {
		if (l->cb == cb && l->arg == arg) {
			*pp = l->next;
			free(l);
			return;
		}
	}
}

/* ---- contacts ---------------------------------------------------------- */

/* Whether what names s (case-insensitive); s may be NULL. */
static int
app_name_is(const char *s, const char *what)
{
	return s != NULL && *s != '\0' && strcasecmp(s, what) == 0;
}

/*
 * Find a contact by name (case-insensitive: the local name, the name it
 * gives itself, or its alias) or by a prefix of at least 4 hex digits of
 * its connection id, among the connections the agent knows (states in
 * mask, bit 1 << state).  *ci: agent_conn_info_clear.  NOID_ERR_NOENT
 * none; NOID_ERR_EXISTS ambiguous.
 */
int
app_conn_find(struct app *app, const char *what, unsigned mask,
    struct agent_conn_info *ci)
{
	struct agent_conn_info *all = NULL;
	struct store_contact *cs = NULL;
	size_t n = 0, nc = 0, i, j, found = 0, pick = 0;
	const char *alias;
	char *hex, *local;
	int rc, hit;

	memset(ci, 0, sizeof *ci);
	if ((rc = agent_conns(app->agent, &all, &n)) != 0)
		return rc;
	if ((rc = store_contacts_list(app->st, app->profile, &cs, &nc)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!(mask & (1u << all[i].state)))
			continue;
		alias = NULL;
		for (j = 0; j < nc; j++)
			if (memcmp(cs[j].id, all[i].contact, STORE_ID_LEN) == 0)
				alias = cs[j].alias;
		local = cli_contact_local_name(app, all[i].contact);
		hex = hex_encode(all[i].conn, STORE_ID_LEN);
		hit = app_name_is(local, what) ||
		    app_name_is(all[i].name, what) ||
		    app_name_is(alias, what) ||
		    (strlen(what) >= 4 &&
		        strncasecmp(hex, what, strlen(what)) == 0);
		if (hit) {
			found++;
			pick = i;
		}
		free(hex);
		free(local);
	}
	if (found == 0) {
		rc = NOID_ERR_NOENT;
		goto out;
	}
	if (found > 1) {
		rc = NOID_ERR_EXISTS;
		goto out;
	}
	rc = agent_conn_info(app->agent, all[pick].conn, ci);
out:
	store_contacts_free(cs, nc);
	agent_conns_free(all, n);
	return rc;
}
