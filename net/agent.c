/*
 * noid — agent: open/close, the poll loop, events, and the small
 * commands (code, verify, delete, profile, info).
 *
 * The loop: agent_pollfds() lists one socket per relay session;
 * agent_on_ready() opens one store transaction and corks every session,
 * lets the relay clients read (replies and pushed messages are handled
 * from there), delivers the events that raised, runs the timers
 * (connect and reconnect, invitation expiry, scheduled rotation, send
 * retries), kicks every connection so whatever its saved state still
 * needs is issued, delivers again, commits, and uncorks: one fsync per
 * pass, and nothing leaves before the commit that covers it.  Events
 * are never delivered from inside a relay callback, so the callback may
 * call any command, including agent_delete.
 */
#include <errno.h>
#include <stdlib.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "agent-core.h"

static void dial_own(struct agent *a);

static agent_step_hook step_hook;
static void *step_hook_arg;
/* Steps that happen at the pass's commit or uncork, held until then. */
static int step_batch;
static unsigned step_held[AGENT_STEP_SEND_AFTER_SEND + 1];

/* Set the crash-test hook. */
void
agent_set_step_hook(agent_step_hook cb, void *arg)
{
	step_hook = cb;
	step_hook_arg = arg;
}

/* Tell the crash-test hook where we are. */
void
agent_step(int step)
{
	if (step_hook == NULL)
		return;
	/* Inside a pass "committed" and "handed over" come true only
	 * at the pass's commit and uncork: report them there. */
	if (step_batch && step != AGENT_STEP_RECV_BEFORE_COMMIT &&
	    step != AGENT_STEP_SEND_BEFORE_COMMIT) {
		step_held[step]++;
		return;
	}
	step_hook(step, step_hook_arg);
}

/* Report the held steps of one kind. */
static void
step_release(int step)
{
	while (step_held[step] > 0) {
		step_held[step]--;
		if (step_hook != NULL)
			step_hook(step, step_hook_arg);
	}
}

/* The connection with this id, or NULL. */
struct agent_c *
agent_find(struct agent *a, const uint8_t id[AGENT_ID_LEN])
{
	struct agent_c *c;

	for (c = a->conns; c != NULL; c = c->next)
		if (memcmp(c->id, id, AGENT_ID_LEN) == 0)
			return c;
	return NULL;
}

/* Queue an event about c (may be NULL); the caller fills the rest. */
struct agent_evq *
agent_event_new(struct agent *a, int type, const struct agent_c *c)
{
	struct agent_evq *e = xcalloc(1, sizeof *e);

	e->ev.type = type;
	if (c != NULL) {
		memcpy(e->ev.conn, c->id, AGENT_ID_LEN);
		memcpy(e->ev.contact, c->contact, AGENT_ID_LEN);
	}
	*a->evq_tail = e;
	a->evq_tail = &e->next;
	return e;
}

/* Queue an ERROR event. */
void
agent_event_error(
    struct agent *a, const struct agent_c *c, int err, const char *detail)
{
	struct agent_evq *e = agent_event_new(a, AGENT_EV_ERROR, c);

	e->ev.err = err;
	e->detail = xstrdup(detail);
}

/* The store failed: the agent stops (the caller closes it). */
void
agent_fatal(struct agent *a, int err)
{
	if (a->fatal == 0)
		a->fatal = err;
}

/* Free one queued event. */
static void
evq_free(struct agent_evq *e)
{
	free(e->name);
	free(e->status);
	if (e->text != NULL)
		sodium_memzero(e->text, e->ev.text_len);
	free(e->text);
	free(e->detail);
	free(e);
}

/* Deliver queued events (never re-entered). */
static void
deliver(struct agent *a)
{
	struct agent_evq *e;

	if (a->delivering)
		return;
	a->delivering = 1;
	while ((e = a->evq) != NULL) {
		a->evq = e->next;
		if (a->evq == NULL)
			a->evq_tail = &a->evq;
		e->ev.name = e->name;
		e->ev.status = e->status;
		e->ev.text = e->text;
		e->ev.detail = e->detail;
		if (a->cb != NULL)
			a->cb(&e->ev, a->cb_arg);
		evq_free(e);
	}
	a->delivering = 0;
}

/* All work a connection has to do now. */
void
agent_kick(struct agent *a, struct agent_c *c)
{
	if (a->fatal)
		return;
	agent_kick_recv(a, c);
	agent_kick_hs(a, c);
	agent_kick_rotate(a, c);
	if (!a->hold_sends)
		agent_kick_send(a, c);
}

/* Kick every connection. */
static void
kick_all(struct agent *a)
{
	struct agent_c *c, *next;

	for (c = a->conns; c != NULL; c = next) {
		next = c->next;
		agent_kick(a, c);
	}
}

/* Load one connection of contact from the store. */
static int
load_conn(struct agent *a, const struct store_conn *sc)
{
	struct agent_c *c;
	uint8_t *blob = NULL;
	size_t len = 0;
	int rc;

	rc = store_conn_state_get(a->st, a->profile, sc->id, &blob, &len);
	if (rc == NOID_ERR_NOENT)
		return 0; /* not run on this device */
	if (rc != 0)
		return rc;
	c = agent_c_new();
	rc = agent_state_load(blob, len, c);
	sodium_memzero(blob, len);
	free(blob);
	if (rc != 0) {
		agent_c_free(c);
		return rc;
	}
	memcpy(c->id, sc->id, AGENT_ID_LEN);
	memcpy(c->contact, sc->contact, AGENT_ID_LEN);
	c->next = a->conns;
	a->conns = c;
	return 0;
}

/* Order queued messages by their reserved sequence number. */
static int
cmp_seq(const void *x, const void *y)
{
	const struct store_msg *a = x, *b = y;

	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Where the next text of c goes: its list's end, found once per load. */
struct load_tail {
	struct agent_c *c;
	struct agent_text **pp;
};

/* c's entry in tails (n of them, room for one more), added if new. */
static struct agent_text ***
load_tail_of(struct load_tail *tails, size_t *n, struct agent_c *c)
{
	struct agent_text **pp;
	size_t i;

	for (i = 0; i < *n; i++)
		if (tails[i].c == c)
			return &tails[i].pp;
	for (pp = &c->texts; *pp != NULL; pp = &(*pp)->next)
		;
	tails[*n].c = c;
	tails[*n].pp = pp;
	return &tails[(*n)++].pp;
}

/*
 * Queue the store's unsent texts on their connections, each appended at
 * a remembered tail: walking the list for every text made loading 50,000
 * queued messages quadratic (seconds before the first paint).
 */
static int
load_outbox(struct agent *a)
{
	struct store_msg *m = NULL;
	struct agent_text *t, ***tail;
	struct load_tail *tails = NULL;
	struct agent_out *o;
	struct agent_c *c;
	size_t n = 0, i, ntails = 0, nconns = 0;
	int rc;

	if ((rc = store_outbox_queued(a->st, a->profile, &m, &n)) != 0)
		return rc;
	/* The store lists by time, which ties within a millisecond. */
	if (n > 1)
		qsort(m, n, sizeof *m, cmp_seq);
	for (c = a->conns; c != NULL; c = c->next)
		nconns++;
	if (nconns > 0)
		tails = xcalloc(nconns, sizeof *tails);
	for (i = 0; i < n; i++) {
		if ((c = agent_find(a, m[i].conn)) == NULL)
			continue;
		for (o = c->out; o != NULL; o = o->next)
			if (o->has_msg && memcmp(o->msg, m[i].id, 16) == 0)
				break;
		if (o != NULL)
			continue; /* sealed already: resent as it is */
		t = xcalloc(1, sizeof *t);
		memcpy(t->msg, m[i].id, AGENT_ID_LEN);
		t->text = xmemdup(m[i].text, m[i].text_len);
		t->len = m[i].text_len;
		tail = load_tail_of(tails, &ntails, c);
		**tail = t;
		*tail = &t->next;
	}
	free(tails);
	store_msgs_free(m, n);
	return 0;
}

/* Load the profile's name, connections and outbox. */
static int
load(struct agent *a)
{
	struct store_profile *p = NULL;
	struct store_contact *ct = NULL;
	struct store_conn *sc = NULL;
	size_t np = 0, nct = 0, nsc = 0, i, j;
	int rc, found = 0;

	if ((rc = store_profiles_list(a->st, &p, &np)) != 0)
		return rc;
	for (i = 0; i < np; i++) {
		if (memcmp(p[i].id, a->profile, AGENT_ID_LEN) != 0)
			continue;
		found = 1;
		snprintf(
		    a->name, sizeof a->name, "%s", p[i].name ? p[i].name : "");
		snprintf(a->status, sizeof a->status, "%s",
		    p[i].status ? p[i].status : "");
	}
	store_profiles_free(p, np);
	if (!found)
		return NOID_ERR_NOENT;
	if ((rc = store_contacts_list(a->st, a->profile, &ct, &nct)) != 0)
		return rc;
	for (i = 0; i < nct && rc == 0; i++) {
		if ((rc = store_conns_list(
		         a->st, a->profile, ct[i].id, &sc, &nsc)) != 0)
			break;
		for (j = 0; j < nsc && rc == 0; j++)
			rc = load_conn(a, &sc[j]);
		store_conns_free(sc, nsc);
	}
	store_contacts_free(ct, nct);
	if (rc != 0)
		return rc;
	return load_outbox(a);
}

/* Open the agent for a profile. */
int
agent_open(struct store *st, const uint8_t profile[AGENT_ID_LEN],
    const struct agent_config *cfg, struct agent **out)
{
	struct relay_addr addr;
	struct agent *a;
	size_t i;
	int rc;

	*out = NULL;
	if (cfg->nrelays == 0 || cfg->relays == NULL)
		return NOID_ERR_INVAL;
	for (i = 0; i < cfg->nrelays; i++)
		if (addr_parse(cfg->relays[i].address, &addr, NULL) != 0)
			return NOID_ERR_INVAL;
	a = xcalloc(1, sizeof *a);
	a->st = st;
	memcpy(a->profile, profile, AGENT_ID_LEN);
	a->relays = xcalloc(cfg->nrelays, sizeof *a->relays);
	for (i = 0; i < cfg->nrelays; i++) {
		a->relays[i].address = xstrdup(cfg->relays[i].address);
		if (cfg->relays[i].access_key != NULL)
			a->relays[i].access_key =
			    xstrdup(cfg->relays[i].access_key);
	}
	a->nrelays = cfg->nrelays;
	a->invite_ttl_ms =
	    cfg->invite_ttl_ms ? cfg->invite_ttl_ms : AGENT_INVITE_TTL_MS;
	a->rotate_ms = cfg->rotate_ms ? cfg->rotate_ms : AGENT_ROTATE_MS;
	a->no_receipts = cfg->no_receipts;
	a->cb = cfg->cb;
	a->cb_arg = cfg->cb_arg;
	a->evq_tail = &a->evq;
	if ((rc = load(a)) != 0) {
		agent_close(a);
		return rc;
	}
	if (cfg->dial_own)
		dial_own(a);
	kick_all(a);
	*out = a;
	return 0;
}

/* Close everything; unsent work stays in the store. */
void
agent_close(struct agent *a)
{
	struct agent_session *s;
	struct agent_c *c;
	struct agent_evq *e;
	size_t i;

	if (a == NULL)
		return;
	for (c = a->conns; c != NULL && !a->fatal; c = c->next)
		if (c->dirty)
			(void)agent_persist(a, c); /* a failure loses nothing */
	agent_fatal(a, NOID_ERR_CLOSED); /* callbacks from here do nothing */
	while ((s = a->sessions) != NULL) {
		a->sessions = s->next;
		agent_session_free(s);
	}
	while ((c = a->conns) != NULL) {
		a->conns = c->next;
		agent_c_free(c);
	}
	while ((e = a->evq) != NULL) {
		a->evq = e->next;
		evq_free(e);
	}
	for (i = 0; i < a->nrelays; i++) {
		free((char *)a->relays[i].address);
		free((char *)a->relays[i].access_key);
	}
	free(a->relays);
	free(a);
}

/* The fds to poll. */
size_t
agent_pollfds(struct agent *a, struct pollfd *fds, size_t max)
{
	struct agent_session *s;
	size_t n = 0;

	for (s = a->sessions; s != NULL; s = s->next) {
		if (s->rc == NULL)
			continue;
		if (n < max) {
			fds[n].fd = relay_client_fd(s->rc);
			fds[n].events = relay_client_events(s->rc);
			fds[n].revents = 0;
		}
		n++;
	}
	return n;
}

/* Clamp a 64-bit delay into a poll timeout. */
static int
clamp_ms(uint64_t due, uint64_t now)
{
	if (due <= now)
		return 0;
	return due - now > INT32_MAX ? INT32_MAX : (int)(due - now);
}

/* The earlier of two timeouts (-1: none). */
static int
min_timeout(int t, int u)
{
	if (t < 0)
		return u;
	if (u < 0)
		return t;
	return t < u ? t : u;
}

/* When c's rotation is due (wall ms; 0: not scheduled). */
static uint64_t
rotate_due(const struct agent *a, const struct agent_c *c)
{
	if (c->state != AGENT_CONN_READY || c->deleting ||
	    c->rot_r != AGENT_ROT_R_IDLE || a->rotate_ms == UINT64_MAX ||
	    c->rotated_ms > UINT64_MAX - a->rotate_ms)
		return 0;
	return c->rotated_ms + a->rotate_ms;
}

/* Milliseconds until the next timer. */
int
agent_timeout_ms(struct agent *a)
{
	struct agent_session *s;
	struct agent_c *c;
	uint64_t now = clock_mono_ms(), wall = clock_wall_ms(), due;
	int t = -1;

	if (a->evq != NULL || a->fatal)
		return 0;
	for (s = a->sessions; s != NULL; s = s->next)
		t = min_timeout(t, agent_session_timeout(s, now));
	for (c = a->conns; c != NULL; c = c->next) {
		if ((c->state == AGENT_CONN_INVITED ||
		        c->state == AGENT_CONN_JOINING) &&
		    c->expires_ms != 0)
			t = min_timeout(t, clamp_ms(c->expires_ms, wall));
		if ((due = rotate_due(a, c)) != 0)
			t = min_timeout(t, clamp_ms(due, wall));
		if (c->send_retry_at != 0 && c->out != NULL)
			t = min_timeout(t, clamp_ms(c->send_retry_at, now));
	}
	return t;
}

/* Count the own relays whose session is up (sessions are keyed by the
 * canonical address, so the configured text is canonicalised first). */
void
agent_relays_connected(struct agent *a, size_t *up, size_t *total)
{
	struct agent_session *s;
	struct relay_addr addr;
	char *text;
	size_t i;

	*up = 0;
	*total = a->nrelays;
	for (i = 0; i < a->nrelays; i++) {
		if (addr_parse(a->relays[i].address, &addr, NULL) != 0)
			continue;
		text = addr_format(&addr);
		for (s = a->sessions; s != NULL; s = s->next)
			if (s->up && strcmp(s->text, text) == 0)
				break;
		*up += s != NULL;
		free(text);
	}
}

/* Open a session to each of our own relays (agent_config.dial_own). */
static void
dial_own(struct agent *a)
{
	struct relay_addr addr;
	char *text;
	size_t i;

	for (i = 0; i < a->nrelays; i++) {
		if (addr_parse(a->relays[i].address, &addr, NULL) != 0)
			continue;
		text = addr_format(&addr);
		(void)agent_session_get(a, text);
		free(text);
	}
}

/* Run what is due. */
static void
timers(struct agent *a)
{
	struct agent_session *s;
	struct agent_c *c, *next;
	uint64_t now = clock_mono_ms(), wall = clock_wall_ms(), due;

	for (s = a->sessions; s != NULL; s = s->next)
		agent_session_timers(s, now);
	for (c = a->conns; c != NULL && !a->fatal; c = next) {
		next = c->next;
		if (agent_hs_timers(a, c, wall) == 0)
			continue; /* expired and forgotten */
		if ((due = rotate_due(a, c)) != 0 && wall >= due)
			agent_rotate_start(a, c);
	}
}

/*
 * Finish the DH steps this pass's receives left pending, after its
 * events are out: the next send is then quick.  Saved in the pass's
 * commit.
 */
static void
prepare_all(struct agent *a)
{
	struct agent_c *c;

	for (c = a->conns; c != NULL && !a->fatal; c = c->next)
		if (c->core != NULL && agent_conn_prepare(c->core))
			(void)agent_persist(a, c);
}

/* Cork (on) or uncork every session; a failed one goes down. */
static void
cork_all(struct agent *a, int on)
{
	struct agent_session *s;

	for (s = a->sessions; s != NULL; s = s->next)
		if (s->rc != NULL && relay_client_set_cork(s->rc, on) != 0)
			agent_session_down(s, relay_client_error(s->rc));
}

/*
 * Open the pass's commit: every store write of the pass nests in it,
 * and every session is corked so that nothing the commit covers (an
 * ACK of a stored message, a body sealed under an advanced ratchet)
 * can leave before it is durable.
 */
static void
batch_open(struct agent *a)
{
	int rc;

	/* Inside someone's transaction our commit would not be durable
	 * and uncorking would let ACKs out early: refuse (a bug). */
	if (store_tx_depth(a->st) != 0) {
		agent_fatal(a, NOID_ERR_STATE);
		return;
	}
	if ((rc = store_tx_begin(a->st)) != 0) {
		agent_fatal(a, rc);
		return;
	}
	memset(step_held, 0, sizeof step_held);
	step_batch = 1;
	a->batch = 1;
	cork_all(a, 1);
}

/*
 * Commit the pass (one fsync for all it did), then uncork.  After a
 * failure nothing is uncorked: the agent is stopped.
 */
static void
batch_close(struct agent *a)
{
	int rc;

	if (!a->batch)
		return;
	a->batch = 0;
	step_batch = 0;
	if (a->fatal) {
		store_tx_rollback(a->st);
		return;
	}
	if ((rc = store_tx_commit(a->st)) != 0) {
		agent_fatal(a, rc);
		return;
	}
	step_release(AGENT_STEP_RECV_AFTER_COMMIT);
	step_release(AGENT_STEP_SEND_AFTER_COMMIT);
	cork_all(a, 0);
	step_release(AGENT_STEP_SEND_AFTER_SEND);
	step_release(AGENT_STEP_RECV_AFTER_ACK);
}

/*
 * Handle poll results, timers, work; deliver events.  The events of the
 * reads are delivered first, before anything is sealed (a receipt
 * costs a ratchet step) and before the pass's commit: the caller reads
 * the new rows through the same store handle, so a message shows
 * without waiting for the fsync.  If the process dies before the
 * commit nothing was acked: the relay delivers the message again.
 */
int
agent_on_ready(struct agent *a, const struct pollfd *fds, size_t n)
{
	struct agent_session *s;
	size_t i;
	int rc;

	if (!a->fatal)
		batch_open(a);
	a->hold_sends = 1;
	for (i = 0; i < n && !a->fatal; i++) {
		if (fds[i].revents == 0)
			continue;
		for (s = a->sessions; s != NULL; s = s->next)
			if (s->rc != NULL &&
			    relay_client_fd(s->rc) == fds[i].fd)
				break;
		if (s == NULL)
			continue;
		rc = 0;
		if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
			rc = relay_client_on_readable(s->rc);
		if (rc >= 0 && s->rc != NULL && (fds[i].revents & POLLOUT))
			rc = relay_client_on_writable(s->rc);
		if (rc < 0 && s->rc != NULL)
			agent_session_down(s, rc);
	}
	a->hold_sends = 0;
	deliver(a);
	if (!a->fatal) {
		timers(a);
		kick_all(a);
		prepare_all(a);
	}
	deliver(a);
	batch_close(a);
	/* What found its output full while corked goes now. */
	if (!a->fatal)
		kick_all(a);
	deliver(a);
	return a->fatal;
}

/* Whether nothing is left to do and the relays hold nothing for us. */
static int
agent_idle(struct agent *a)
{
	struct agent_session *s;
	struct agent_c *c;

	if (a->evq != NULL)
		return 0;
	for (s = a->sessions; s != NULL; s = s->next)
		if (!s->up || relay_client_pending(s->rc) > (size_t)s->ping)
			return 0;
	for (c = a->conns; c != NULL; c = c->next) {
		if (c->out != NULL || c->ctl != NULL || c->send_busy ||
		    c->need_key || c->key_busy || c->new_busy ||
		    c->rot_r == AGENT_ROT_R_NEW || c->rot_r == AGENT_ROT_R_KEY)
			return 0;
		if (c->texts != NULL && c->state == AGENT_CONN_READY)
			return 0;
		if (c->rq.present && (c->rq.sub == 0 || c->rq.sub == 1))
			return 0;
		if (c->rq.ack_owed || c->rq.ack_busy || c->rq_old.present)
			return 0;
	}
	return agent_barrier(a);
}

/* Run the loop on its own. */
int
agent_run(struct agent *a, int timeout_ms, int flags)
{
	struct pollfd *fds = NULL;
	size_t cap = 0, n;
	uint64_t deadline = 0, now;
	int t, rc = 0;

	if (timeout_ms >= 0)
		deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	a->stop = 0;
	for (;;) {
		deliver(a);
		if (a->fatal) {
			rc = a->fatal;
			break;
		}
		if (a->stop)
			break;
		if ((flags & AGENT_RUN_IDLE) && agent_idle(a))
			break;
		while ((n = agent_pollfds(a, fds, cap)) > cap) {
			cap = n;
			fds = xreallocarray(fds, cap, sizeof *fds);
		}
		t = agent_timeout_ms(a);
		if (deadline != 0) {
			now = clock_mono_ms();
			if (now >= deadline) {
				rc = NOID_ERR_TIMEOUT;
				break;
			}
			t = min_timeout(t, clamp_ms(deadline, now));
		}
		if (poll(fds, n, t) < 0 && errno != EINTR) {
			rc = NOID_ERR_IO;
			break;
		}
		if ((rc = agent_on_ready(a, fds, n)) != 0)
			break;
	}
	free(fds);
	return rc;
}

/* Make agent_run return. */
void
agent_stop(struct agent *a)
{
	a->stop = 1;
}

/* The security code of a connection. */
int
agent_code(
    struct agent *a, const uint8_t conn[AGENT_ID_LEN], struct agent_code *code)
{
	struct agent_c *c = agent_find(a, conn);
	struct e2e_code ec;
	int rc;

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (c->core == NULL || c->state != AGENT_CONN_READY)
		return NOID_ERR_STATE;
	if ((rc = agent_conn_code(c->core, &ec)) != 0)
		return rc;
	snprintf(code->digits, sizeof code->digits, "%s", ec.digits);
	snprintf(code->text, sizeof code->text, "%s", ec.text);
	snprintf(code->qr, sizeof code->qr, "%s", ec.qr);
	return 0;
}

/* Compare the contact's code with ours; equal: verified. */
int
agent_verify(
    struct agent *a, const uint8_t conn[AGENT_ID_LEN], const char *input)
{
	struct agent_c *c = agent_find(a, conn);
	struct agent_evq *e;
	struct e2e_code ec;
	int rc;

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (c->core == NULL || c->state != AGENT_CONN_READY)
		return NOID_ERR_STATE;
	if ((rc = agent_conn_code(c->core, &ec)) != 0 ||
	    (rc = e2e_code_check(&ec, input)) != 0)
		return rc;
	if ((rc = store_conn_set_trust(
	         a->st, a->profile, c->id, AGENT_TRUST_VERIFIED)) != 0)
		return rc;
	c->trust = AGENT_TRUST_VERIFIED;
	if ((rc = agent_persist(a, c)) != 0)
		return rc;
	e = agent_event_new(a, AGENT_EV_SECURITY, c);
	e->ev.security = AGENT_SECURITY_VERIFIED;
	return 0;
}

/*
 * Our unused invitation's link leaves the screen as text: whoever uses it
 * may not be the person in front of it, so it counts as shared as text.
 * The link stays the same (the QR code on screen and the text agree).
 */
int
agent_invite_shared(struct agent *a, const uint8_t conn[AGENT_ID_LEN])
{
	struct agent_c *c = agent_find(a, conn);
	int rc;

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (c->state != AGENT_CONN_INVITED)
		return NOID_ERR_STATE;
	if (c->trust == AGENT_TRUST_TEXT)
		return 0;
	if ((rc = store_conn_set_trust(
	         a->st, a->profile, c->id, AGENT_TRUST_TEXT)) != 0)
		return rc;
	c->trust = c->trust_base = AGENT_TRUST_TEXT;
	return agent_persist(a, c);
}

/* Delete a connection: tell the contact first when connected. */
int
agent_delete(struct agent *a, const uint8_t conn[AGENT_ID_LEN])
{
	struct agent_c *c = agent_find(a, conn);
	struct agent_msg m;
	int rc;

	if (c == NULL)
		return NOID_ERR_NOENT;
	if (c->state != AGENT_CONN_READY) {
		agent_forget(a, c, 0);
		return a->fatal;
	}
	if (c->deleting)
		return 0;
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_DELETE;
	agent_ctl_push(c, &m);
	c->deleting = 1;
	if ((rc = agent_persist(a, c)) != 0)
		return rc;
	agent_kick(a, c);
	return 0;
}

/* Set our profile and push it to every connected contact. */
int
agent_set_profile(struct agent *a, const char *name, const char *status)
{
	struct agent_c *c;
	struct agent_msg m;
	int rc;

	if (name == NULL || *name == '\0' || strlen(name) > AGENT_NAME_MAX ||
	    (status != NULL && strlen(status) > AGENT_STATUS_MAX))
		return NOID_ERR_INVAL;
	if ((rc = store_tx_begin(a->st)) != 0)
		return rc;
	if ((rc = store_profile_set(a->st, a->profile, "name", name)) != 0 ||
	    (rc = store_profile_set(a->st, a->profile, "status", status)) !=
	        0) {
		store_tx_rollback(a->st);
		return rc;
	}
	snprintf(a->name, sizeof a->name, "%s", name);
	snprintf(a->status, sizeof a->status, "%s", status ? status : "");
	memset(&m, 0, sizeof m);
	m.type = AGENT_MSG_PROFILE;
	snprintf(m.name, sizeof m.name, "%s", a->name);
	snprintf(m.status, sizeof m.status, "%s", a->status);
	for (c = a->conns; c != NULL && rc == 0; c = c->next) {
		if (c->state != AGENT_CONN_READY || c->deleting)
			continue;
		agent_ctl_push(c, &m);
		rc = agent_persist(a, c);
	}
	if (rc == 0)
		rc = store_tx_commit(a->st);
	if (rc != 0) {
		agent_fatal(a, rc);
		return rc;
	}
	kick_all(a);
	return 0;
}

/* Fill one info record. */
static void
fill_info(const struct agent_c *c, struct agent_conn_info *ci)
{
	memset(ci, 0, sizeof *ci);
	memcpy(ci->conn, c->id, AGENT_ID_LEN);
	memcpy(ci->contact, c->contact, AGENT_ID_LEN);
	ci->state = c->deleting ? AGENT_CONN_CLOSED : c->state;
	ci->trust = c->trust;
	ci->incoming = c->incoming;
	ci->name = xstrdup(c->name);
	ci->status = c->status[0] ? xstrdup(c->status) : NULL;
	ci->expires_ms =
	    c->state == AGENT_CONN_INVITED || c->state == AGENT_CONN_JOINING
	    ? c->expires_ms
	    : 0;
	ci->rotated_ms = c->rotated_ms;
}

/* One connection's info. */
int
agent_conn_info(struct agent *a, const uint8_t conn[AGENT_ID_LEN],
    struct agent_conn_info *out)
{
	struct agent_c *c = agent_find(a, conn);

	if (c == NULL)
		return NOID_ERR_NOENT;
	fill_info(c, out);
	return 0;
}

/* Free an info record's strings. */
void
agent_conn_info_clear(struct agent_conn_info *ci)
{
	free(ci->name);
	free(ci->status);
	memset(ci, 0, sizeof *ci);
}

/* All connections. */
int
agent_conns(struct agent *a, struct agent_conn_info **out, size_t *n)
{
	struct agent_c *c;
	size_t i = 0;

	for (c = a->conns; c != NULL; c = c->next)
		i++;
	*out = i ? xcalloc(i, sizeof **out) : NULL;
	*n = i;
	for (i = 0, c = a->conns; c != NULL; c = c->next)
		fill_info(c, &(*out)[i++]);
	return 0;
}

/* Free agent_conns' array. */
void
agent_conns_free(struct agent_conn_info *ci, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		agent_conn_info_clear(&ci[i]);
	free(ci);
}
