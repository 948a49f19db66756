/*
 * noid tests — agent fixture shared by tests/integration/test-agent-*.c:
 * a "peer" is a store in a temp dir, a profile and an agent on it, with
 * every event recorded; pump() runs several agents in one poll() loop
 * until a condition holds.  Header-only (static functions) because each
 * test file is its own binary.
 */
#ifndef NOID_TEST_AGENT_FIX_H
#define NOID_TEST_AGENT_FIX_H

#include <criterion/criterion.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "store.h"
#include "testrelay.h"

#define PEER_MAX_EV 8192

struct pev {
	int type;
	uint8_t conn[AGENT_ID_LEN];
	uint8_t msg[AGENT_ID_LEN];
	char *text; /* MESSAGE text or the name (REQUEST/CONNECTED/PROFILE) */
	uint64_t seq, seq_to;
	int integrity, security, err;
};

struct peer {
	char dir[64];
	char name[32];
	struct store *st;
	uint8_t profile[AGENT_ID_LEN];
	struct agent *a;
	struct agent_relay relays[2];
	size_t nrelays;
	struct agent_config cfg;
	struct pev *ev;
	size_t nev;
};

/* Record one event. */
static inline void
peer_event(const struct agent_event *ev, void *arg)
{
	struct peer *p = arg;
	struct pev *e;

	cr_assert_lt(p->nev, PEER_MAX_EV, "too many events");
	e = &p->ev[p->nev++];
	memset(e, 0, sizeof *e);
	e->type = ev->type;
	memcpy(e->conn, ev->conn, AGENT_ID_LEN);
	memcpy(e->msg, ev->msg, AGENT_ID_LEN);
	if (ev->text != NULL)
		e->text = strndup(ev->text, ev->text_len);
	else if (ev->name != NULL)
		e->text = strdup(ev->name);
	e->seq = ev->seq;
	e->seq_to = ev->seq_to;
	e->integrity = ev->integrity;
	e->security = ev->security;
	e->err = ev->err;
}

/* Open the store and agent of a peer (dir already made). */
static inline void
peer_start(struct peer *p)
{
	int rc;

	cr_assert_eq(
	    store_open(p->dir, NULL, STORE_CREATE | STORE_FAST_KDF, &p->st), 0);
	p->cfg.relays = p->relays;
	p->cfg.nrelays = p->nrelays;
	p->cfg.cb = peer_event;
	p->cfg.cb_arg = p;
	rc = agent_open(p->st, p->profile, &p->cfg, &p->a);
	cr_assert_eq(rc, 0, "agent_open: %s", noid_errname(rc));
}

/* Close the agent and the store (state stays on disk). */
static inline void
peer_stop(struct peer *p)
{
	agent_close(p->a);
	p->a = NULL;
	store_close(p->st);
	p->st = NULL;
}

/* A new peer named name using relay addresses r1 (and r2 or NULL). */
static inline void
peer_new(struct peer *p, const char *name, const char *r1, const char *r2)
{
	memset(p, 0, sizeof *p);
	snprintf(p->dir, sizeof p->dir, "/tmp/noid-agent-XXXXXX");
	cr_assert_not_null(mkdtemp(p->dir));
	snprintf(p->name, sizeof p->name, "%s", name);
	p->ev = calloc(PEER_MAX_EV, sizeof *p->ev);
	p->relays[0].address = r1;
	p->nrelays = 1;
	if (r2 != NULL) {
		p->relays[1].address = r2;
		p->nrelays = 2;
	}
	cr_assert_eq(
	    store_open(p->dir, NULL, STORE_CREATE | STORE_FAST_KDF, &p->st), 0);
	cr_assert_eq(store_profile_create(p->st, name, "test", p->profile), 0);
	store_close(p->st);
	p->st = NULL;
	peer_start(p);
}

/* Stop and remove a peer. */
static inline void
peer_free(struct peer *p)
{
	size_t i;

	if (p->a != NULL || p->st != NULL)
		peer_stop(p);
	if (p->dir[0] != '\0')
		testrelay_rmtree(p->dir);
	for (i = 0; i < p->nev; i++)
		free(p->ev[i].text);
	free(p->ev);
	memset(p, 0, sizeof *p);
}

/* Number of events of a type about conn (NULL: any connection). */
static inline size_t
peer_count(const struct peer *p, int type, const uint8_t *conn)
{
	size_t i, n = 0;

	for (i = 0; i < p->nev; i++)
		if (p->ev[i].type == type &&
		    (conn == NULL ||
		        memcmp(p->ev[i].conn, conn, AGENT_ID_LEN) == 0))
			n++;
	return n;
}

/* The last event of a type about conn, or NULL. */
static inline const struct pev *
peer_last(const struct peer *p, int type, const uint8_t *conn)
{
	size_t i;

	for (i = p->nev; i-- > 0;)
		if (p->ev[i].type == type &&
		    (conn == NULL ||
		        memcmp(p->ev[i].conn, conn, AGENT_ID_LEN) == 0))
			return &p->ev[i];
	return NULL;
}

typedef int (*pump_cond)(void *arg);

/*
 * Run the agents of peers[0..n) in one poll loop until cond(arg) is
 * true; fails the test after timeout_ms.
 */
static inline void
pump(struct peer **peers, size_t n, pump_cond cond, void *arg, int timeout_ms)
{
	struct pollfd fds[64];
	size_t cnt[8], i, off;
	uint64_t deadline = clock_mono_ms() + (uint64_t)timeout_ms;
	int t, u;

	while (!cond(arg)) {
		if (clock_mono_ms() >= deadline && getenv("DBG")) {
			for (i = 0; i < n; i++) {
				size_t j, c[16] = {0};

				for (j = 0; j < peers[i]->nev; j++)
					c[peers[i]->ev[j].type & 15]++;
				fprintf(stderr,
				    "%s: req %zu conn %zu msg %zu sent %zu dlv "
				    "%zu err %zu sec %zu\n",
				    peers[i]->name, c[1], c[2], c[3], c[4],
				    c[5], c[11], c[8]);
				for (j = 0; j < peers[i]->nev; j++)
					if (peers[i]->ev[j].type ==
					    AGENT_EV_ERROR)
						fprintf(stderr, "  err %s %s\n",
						    noid_errname(
						        peers[i]->ev[j].err),
						    "");
			}
		}
		cr_assert_lt(clock_mono_ms(), deadline, "pump timed out");
		off = 0;
		t = 100;
		for (i = 0; i < n; i++) {
			cnt[i] =
			    agent_pollfds(peers[i]->a, fds + off, 64 - off);
			cr_assert_leq(off + cnt[i], 64);
			off += cnt[i];
			u = agent_timeout_ms(peers[i]->a);
			if (u >= 0 && u < t)
				t = u;
		}
		cr_assert_geq(poll(fds, off, t), 0);
		off = 0;
		for (i = 0; i < n; i++) {
			cr_assert_eq(
			    agent_on_ready(peers[i]->a, fds + off, cnt[i]), 0);
			off += cnt[i];
		}
	}
}

/* pump() for two peers. */
static inline void
pump2(struct peer *a, struct peer *b, pump_cond cond, void *arg, int ms)
{
	struct peer *ps[2] = {a, b};

	pump(ps, 2, cond, arg, ms);
}

/* A condition: peer has at least n events of type. */
struct want {
	struct peer *p;
	int type;
	size_t n;
	struct peer *p2;
	int type2;
	size_t n2;
};

static inline int
want_events(void *arg)
{
	struct want *w = arg;

	return peer_count(w->p, w->type, NULL) >= w->n &&
	    (w->p2 == NULL || peer_count(w->p2, w->type2, NULL) >= w->n2);
}

/* Connect a (inviter) and b (joiner); their connection ids out. */
static inline void
connect_pair(struct peer *a, struct peer *b, uint8_t ca[AGENT_ID_LEN],
    uint8_t cb[AGENT_ID_LEN])
{
	struct want w = {a, AGENT_EV_REQUEST, 1, NULL, 0, 0};
	char *link = NULL;
	size_t ra = peer_count(a, AGENT_EV_REQUEST, NULL);
	size_t na = peer_count(a, AGENT_EV_CONNECTED, NULL);
	size_t nb = peer_count(b, AGENT_EV_CONNECTED, NULL);
	int rc;

	rc = agent_invite(a->a, AGENT_TRUST_QR, &link, ca);
	cr_assert_eq(rc, 0, "invite: %s", noid_errname(rc));
	rc = agent_join(b->a, link, AGENT_TRUST_QR, cb);
	cr_assert_eq(rc, 0, "join: %s", noid_errname(rc));
	free(link);
	w.n = ra + 1;
	pump2(a, b, want_events, &w, 20000);
	cr_assert_eq(agent_accept(a->a, ca), 0);
	w = (struct want){
	    a, AGENT_EV_CONNECTED, na + 1, b, AGENT_EV_CONNECTED, nb + 1};
	pump2(a, b, want_events, &w, 20000);
}

#endif
