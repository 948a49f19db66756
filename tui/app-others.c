/*
 * app-others: an instance (TUI or daemon) keeps every profile receiving,
 * not only the one on screen.  Each other profile gets its own agent
 * (agents are per store and profile, agent.h) in the same poll loop;
 * their events go to app->other_cb instead of the listeners, which only
 * ever hear about the current profile.  What they take in is in the
 * store, so unread counts per profile come from there.
 *
 * Switching profile stops them all with the current agent and starts
 * them again around the new one (app-core.c): never two agents on one
 * profile.
 */
#include "client.h"

#include <stdlib.h>
#include <string.h>

/* One other profile's agent. */
struct app_other {
	struct app *app;
	uint8_t profile[STORE_ID_LEN];
	struct agent *agent;
	size_t nfds; /* its share of the loop's pollfds */
	struct app_other *next;
};

/* An other profile's agent event: to the instance's hook. */
static void
app_other_on_event(const struct agent_event *ev, void *arg)
{
	struct app_other *o = arg;
	struct app *app = o->app;

	if (app->other_cb != NULL)
		app->other_cb(o->profile, ev, app->other_arg);
}

/* Whether profile already has an agent (current or other). */
static int
app_others_has(struct app *app, const uint8_t profile[STORE_ID_LEN])
{
	struct app_other *o;

	if (app->has_profile &&
	    memcmp(app->profile, profile, STORE_ID_LEN) == 0)
		return 1;
	for (o = app->others; o != NULL; o = o->next)
		if (memcmp(o->profile, profile, STORE_ID_LEN) == 0)
			return 1;
	return 0;
}

/* Open an agent for every profile that has none; one that fails (an
 * unreachable relay list, say) stays without, the rest still run. */
void
app_others_start(struct app *app)
{
	struct store_profile *ps = NULL;
	struct app_other *o;
	size_t n = 0, i;

	if (store_profiles_list(app->st, &ps, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (app_others_has(app, ps[i].id))
			continue;
		o = xcalloc(1, sizeof *o);
		o->app = app;
		memcpy(o->profile, ps[i].id, STORE_ID_LEN);
		if (app_agent_open(app, o->profile, app_other_on_event, o, NULL,
		        &o->agent) != 0) {
			free(o);
			continue;
		}
		o->next = app->others;
		app->others = o;
		app->agents_gen++;
	}
	store_profiles_free(ps, n);
}

/* Close every other profile's agent. */
void
app_others_stop(struct app *app)
{
	struct app_other *o;

	while ((o = app->others) != NULL) {
		app->others = o->next;
		agent_close(o->agent);
		free(o);
		app->agents_gen++;
	}
}

/* Fill fds with every agent's descriptors, current first; returns how
 * many they need (more than max: call again with room). */
size_t
app_agents_pollfds(struct app *app, struct pollfd *fds, size_t max)
{
	struct app_other *o;
	size_t used = 0;

	if (app->agent != NULL) {
		app->agent_nfds = agent_pollfds(app->agent, fds, max);
		used = app->agent_nfds;
	}
	for (o = app->others; o != NULL; o = o->next) {
		o->nfds =
		    agent_pollfds(o->agent, used < max ? fds + used : NULL,
		        used < max ? max - used : 0);
		used += o->nfds;
	}
	return used;
}

/*
 * Hand each agent its share of what poll() reported.  An agent that hits
 * a store error is closed (agent.h): the current one says so through
 * agent_failed.  If an event handler opened or closed agents, the shares
 * no longer match: the rest waits for the next pass.
 */
void
app_agents_on_ready(struct app *app, const struct pollfd *fds, size_t n)
{
	struct app_other *o, **pp;
	uint64_t gen = app->agents_gen;
	size_t off = 0;
	int rc;

	if (app->agent != NULL && app->agent_nfds <= n) {
		rc = agent_on_ready(app->agent, fds, app->agent_nfds);
		if (gen != app->agents_gen)
			return;
		if (rc != 0) {
			agent_close(app->agent);
			app->agent = NULL;
			app->agent_failed = 1;
			app->agents_gen++;
			return;
		}
		off = app->agent_nfds;
	}
	for (pp = &app->others; (o = *pp) != NULL && off + o->nfds <= n;) {
		rc = agent_on_ready(o->agent, fds + off, o->nfds);
		if (gen != app->agents_gen)
			return;
		if (rc != 0) {
			*pp = o->next;
			agent_close(o->agent);
			free(o);
			app->agents_gen++;
			return;
		}
		off += o->nfds;
		pp = &o->next;
	}
}

/* Milliseconds until the nearest agent timer (-1: none). */
int
app_agents_timeout_ms(struct app *app)
{
	struct app_other *o;
	int t = app->agent != NULL ? agent_timeout_ms(app->agent) : -1, ot;

	for (o = app->others; o != NULL; o = o->next) {
		ot = agent_timeout_ms(o->agent);
		if (ot >= 0 && (t < 0 || ot < t))
			t = ot;
	}
	return t;
}
