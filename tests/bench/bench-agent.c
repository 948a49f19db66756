/*
 * bench-agent: end-to-end latency (p50/p99, one message at a time) and
 * one connection's throughput between two agents through one real
 * noid-relay on 127.0.0.1, each beside the relay-only figure (two
 * relay clients: SEND -> OK and MSG -> ACK of the same 16000-byte
 * bodies, one in flight, as the agent sends) and the raw
 * XChaCha20-Poly1305 cost of one body, all measured in the same run.
 * Relay-only latency is given to the MSG at the recipient (what the
 * target compares with: the agent's figure ends at the receiver's
 * event too) and to the OK (the relay's fsync done).  Both latency
 * figures follow WARM_N unmeasured messages, so stores and journal are
 * past their first growth (a long-running client).  The receiving
 * agent runs in a process of its own, as a contact's device does: it
 * writes the CLOCK_MONOTONIC time of each message event to a pipe, so
 * latency is the sender's agent_send() call to the receiver's event.
 * The agent adds per message: the ratchet and the box both ways and
 * the sender's store commit (WAL, one fsync) before its SEND; the
 * receiver commits after the event (PROTOCOL.md §11.7).  The
 * one-commit figure is the p50 of one commit of the sender's real
 * state blob.  Target: agent latency <= 1.3 x relay-only.
 */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "relay-client.h"
#include "store.h"
#include "testrelay.h"

#define WARM_N 150 /* unmeasured first: past the WAL's first growth */
#define LAT_N 300
#define TPUT_N 500

/* ---- relay only ---------------------------------------------------- */

struct rel {
	struct relay_client *snd, *rcv;
	struct relay_queue_keys k;
	struct relay_queue q;
	int got; /* MSGs seen */
	int acked;
	uint64_t got_at, acked_at; /* when the last MSG, OK arrived */
};

/* The recipient's push: count and ACK. */
static void
rel_push(struct relay_client *c, const struct proto_tx *tx, void *arg)
{
	struct rel *r = arg;
	struct proto_tx ack;

	if (tx->tag != PROTO_MSG)
		return;
	r->got++;
	r->got_at = clock_mono_us();
	memset(&ack, 0, sizeof ack);
	ack.tag = PROTO_ACK;
	ack.entity_len = NOID_ID_LEN;
	memcpy(ack.entity, r->q.rid, NOID_ID_LEN);
	memcpy(ack.u.ack.msg_id, tx->u.msg.msg_id, NOID_ID_LEN);
	if (relay_client_request(c, &ack, &r->k.rcpt_auth, NULL, NULL, NULL))
		abort();
}

/* A SEND's OK. */
static void
rel_ok(struct relay_client *c, int err, const struct proto_tx *tx, void *arg)
{
	(void)c;
	(void)tx;
	if (err != 0)
		abort();
	((struct rel *)arg)->acked++;
	((struct rel *)arg)->acked_at = clock_mono_us();
}

/* Poll both relay clients once. */
static void
rel_step(struct rel *r)
{
	struct pollfd fds[2];
	struct relay_client *cs[2] = {r->snd, r->rcv};
	int i;

	for (i = 0; i < 2; i++) {
		fds[i].fd = relay_client_fd(cs[i]);
		fds[i].events = relay_client_events(cs[i]);
	}
	if (poll(fds, 2, 1000) < 0)
		abort();
	for (i = 0; i < 2; i++) {
		if ((fds[i].revents & (POLLIN | POLLERR | POLLHUP)) &&
		    relay_client_on_readable(cs[i]) < 0)
			abort();
		if ((fds[i].revents & POLLOUT) &&
		    relay_client_on_writable(cs[i]) < 0)
			abort();
	}
}

/* Send one body; returns once the OK came back. */
static void
rel_send(struct rel *r, const uint8_t *body)
{
	struct proto_tx tx;
	int want = r->acked + 1;

	memset(&tx, 0, sizeof tx);
	tx.tag = PROTO_SEND;
	tx.entity_len = NOID_ID_LEN;
	memcpy(tx.entity, r->q.sid, NOID_ID_LEN);
	tx.u.send.body = body;
	tx.u.send.body_len = NOID_MSG_MAX;
	if (relay_client_request(
	        r->snd, &tx, &r->k.sender_auth, rel_ok, r, NULL) != 0)
		abort();
	while (r->acked < want)
		rel_step(r);
}

/* ---- agents --------------------------------------------------------- */

struct side {
	int evfd; /* >= 0: write message event times here */
	char dir[64];
	struct store *st;
	uint8_t profile[AGENT_ID_LEN];
	struct agent *a;
	size_t msgs, delivered;
};

/* Count the events the bench waits on. */
static void
side_event(const struct agent_event *ev, void *arg)
{
	struct side *s = arg;

	uint64_t now;

	if (ev->type == AGENT_EV_MESSAGE) {
		s->msgs++;
		now = clock_mono_us();
		if (s->evfd >= 0 &&
		    write(s->evfd, &now, sizeof now) != (ssize_t)sizeof now)
			abort();
	} else if (ev->type == AGENT_EV_DELIVERED)
		s->delivered++;
}

/* s's agent on relay addr, on its open store. */
static void
side_agent(struct side *s, const char *addr)
{
	struct agent_relay r = {addr, NULL};
	struct agent_config cfg;

	memset(&cfg, 0, sizeof cfg);
	cfg.relays = &r;
	cfg.nrelays = 1;
	cfg.rotate_ms = UINT64_MAX;
	cfg.cb = side_event;
	cfg.cb_arg = s;
	if (agent_open(s->st, s->profile, &cfg, &s->a) != 0)
		abort();
}

/* A store with a profile and an agent on relay addr. */
static void
side_open(struct side *s, const char *name, const char *addr)
{
	memset(s, 0, sizeof *s);
	s->evfd = -1;
	snprintf(s->dir, sizeof s->dir, "/tmp/noid-bench-XXXXXX");
	if (mkdtemp(s->dir) == NULL ||
	    store_open(s->dir, NULL, STORE_CREATE | STORE_FAST_KDF, &s->st) ||
	    store_profile_create(s->st, name, "bench", s->profile))
		abort();
	side_agent(s, addr);
}

/*
 * Move s into a child process of its own: close it here, reopen it
 * there and run it until stopp reads end of file, writing each
 * message event's time to evp.  Returns the child's pid.
 */
static pid_t
side_fork(
    struct side *s, const char *addr, const int evp[2], const int stopp[2])
{
	int evfd = evp[1], stopfd = stopp[0];
	struct pollfd fds[5];
	pid_t pid;
	size_t n;
	int t;

	agent_close(s->a);
	store_close(s->st);
	if ((pid = fork()) != 0)
		return pid;
	close(evp[0]);
	close(stopp[1]);
	s->evfd = evfd;
	if (store_open(s->dir, NULL, STORE_FAST_KDF, &s->st) != 0)
		_exit(1);
	side_agent(s, addr);
	for (;;) {
		n = agent_pollfds(s->a, fds, 4);
		fds[n].fd = stopfd;
		fds[n].events = POLLIN;
		t = agent_timeout_ms(s->a);
		if (poll(fds, n + 1, t < 0 ? 1000 : t) < 0)
			_exit(1);
		if (fds[n].revents != 0)
			break;
		if (agent_on_ready(s->a, fds, n) != 0)
			_exit(1);
	}
	agent_close(s->a);
	store_close(s->st);
	_exit(0);
}

/* Run x once, and count the receiver's events read from evfd. */
static void
sender_step(struct side *x, int evfd, uint64_t *last, size_t *got)
{
	struct pollfd fds[5];
	size_t n;
	int t;

	n = agent_pollfds(x->a, fds, 4);
	fds[n].fd = evfd;
	fds[n].events = POLLIN;
	t = agent_timeout_ms(x->a);
	if (poll(fds, n + 1, t < 0 ? 1000 : t) < 0)
		abort();
	if (agent_on_ready(x->a, fds, n) != 0)
		abort();
	if (fds[n].revents != 0) {
		if (read(evfd, last, sizeof *last) != (ssize_t)sizeof *last)
			abort();
		(*got)++;
	}
}

/* Run both agents once. */
static void
agents_step(struct side *x, struct side *y)
{
	struct pollfd fds[8];
	size_t nx, ny;
	int t = 1000, u;

	nx = agent_pollfds(x->a, fds, 4);
	ny = agent_pollfds(y->a, fds + nx, 4);
	if ((u = agent_timeout_ms(x->a)) >= 0 && u < t)
		t = u;
	if ((u = agent_timeout_ms(y->a)) >= 0 && u < t)
		t = u;
	if (poll(fds, nx + ny, t) < 0)
		abort();
	if (agent_on_ready(x->a, fds, nx) || agent_on_ready(y->a, fds + nx, ny))
		abort();
}

/* Request/accept until both are connected. */
static void
agents_connect(struct side *x, struct side *y, uint8_t cx[AGENT_ID_LEN])
{
	struct agent_conn_info ci;
	uint8_t cy[AGENT_ID_LEN];
	char *link;
	int state;

	if (agent_invite(x->a, AGENT_TRUST_QR, &link, cx) ||
	    agent_join(y->a, link, AGENT_TRUST_QR, cy))
		abort();
	free(link);
	for (state = 0; state != AGENT_CONN_READY;) {
		agents_step(x, y);
		if (agent_conn_info(x->a, cx, &ci) != 0)
			abort();
		state = ci.state;
		agent_conn_info_clear(&ci);
		if (state == AGENT_CONN_REQUESTED && agent_accept(x->a, cx))
			abort();
	}
	while (agent_conn_info(y->a, cy, &ci) == 0 &&
	    ci.state != AGENT_CONN_READY) {
		agent_conn_info_clear(&ci);
		agents_step(x, y);
	}
	agent_conn_info_clear(&ci);
}

/* ---- figures -------------------------------------------------------- */

static void pct(uint64_t *v, size_t n, double *p50, double *p99);

/*
 * p50 of one store commit of conn's real state blob with one sealed
 * body in it (as the sender's and the receiver's commits carry), in us.
 * A byte changes every time: SQLite skips a row that did not change.
 */
static double
commit_floor(struct side *s, const uint8_t conn[AGENT_ID_LEN], size_t *size)
{
	static uint64_t t[LAT_N];
	uint8_t *blob, *big;
	double p50, p99;
	size_t i;
	uint64_t t0;

	if (store_conn_state_get(s->st, s->profile, conn, &blob, size) != 0)
		abort();
	big = xmalloc(*size + NOID_MSG_MAX);
	memcpy(big, blob, *size);
	randombytes_buf(big + *size, NOID_MSG_MAX);
	for (i = 0; i < LAT_N; i++) {
		big[*size] ^= 1;
		t0 = clock_mono_us();
		if (store_conn_state_put(
		        s->st, s->profile, conn, big, *size + NOID_MSG_MAX))
			abort();
		t[i] = clock_mono_us() - t0;
	}
	if (store_conn_state_put(s->st, s->profile, conn, blob, *size))
		abort();
	*size += NOID_MSG_MAX;
	free(big);
	free(blob);
	pct(t, LAT_N, &p50, &p99);
	return p50;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort and return p50 and p99 (us). */
static void
pct(uint64_t *v, size_t n, double *p50, double *p99)
{
	qsort(v, n, sizeof *v, cmp_u64);
	*p50 = (double)v[n / 2];
	*p99 = (double)v[(n * 99) / 100];
}

/* Raw XChaCha20-Poly1305 seal+open of one body (us). */
static double
raw_aead(void)
{
	uint8_t key[32], nonce[24], *m = xmalloc(NOID_MSG_MAX),
	                            *c = xmalloc(NOID_MSG_MAX + 16);
	uint64_t t0;
	int i;

	randombytes_buf(key, sizeof key);
	randombytes_buf(m, NOID_MSG_MAX);
	t0 = clock_mono_us();
	for (i = 0; i < 2000; i++) {
		randombytes_buf(nonce, sizeof nonce);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    c, NULL, m, NOID_MSG_MAX, NULL, 0, NULL, nonce, key);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, NULL, NULL, c,
		        NOID_MSG_MAX + 16, NULL, 0, nonce, key) != 0)
			abort();
	}
	free(m);
	free(c);
	return (double)(clock_mono_us() - t0) / 2000;
}

int
main(void)
{
	static uint64_t lat[LAT_N], latok[LAT_N];
	struct testrelay *relay;
	const struct relay_addr *addr;
	struct side x, y;
	struct rel r;
	uint8_t cx[AGENT_ID_LEN], id[AGENT_ID_LEN], *body;
	double rp50, rp99, op50, op99, ap50, ap99, rtput, atput, cp50, floor;
	size_t blob_len;
	uint64_t t0, t1 = 0;
	size_t i, got = 0;
	int evp[2], stopp[2], status;
	pid_t child;

	if (sodium_init() < 0 || (relay = testrelay_start(NULL)) == NULL)
		return 1;
	addr = testrelay_addr(relay);

	/* Relay only. */
	memset(&r, 0, sizeof r);
	if (relay_client_connect_blocking(addr, 5000, NULL, NULL, &r.snd) ||
	    relay_client_connect_blocking(addr, 5000, rel_push, &r, &r.rcv))
		return 1;
	relay_queue_keys_new(&r.k);
	if (relay_client_create_queue(r.rcv, &r.k, NULL, 5000, &r.q) ||
	    relay_client_secure(
	        r.rcv, &r.k.rcpt_auth, r.q.rid, r.k.sender_auth.pub, 5000) ||
	    relay_client_subscribe(r.rcv, &r.k.rcpt_auth, r.q.rid, 5000))
		return 1;
	body = xmalloc(NOID_MSG_MAX);
	randombytes_buf(body, NOID_MSG_MAX);
	for (i = 0; i < WARM_N + LAT_N; i++) {
		int want = r.got + 1;

		t0 = clock_mono_us();
		rel_send(&r, body);
		while (r.got < want)
			rel_step(&r);
		if (i >= WARM_N) {
			lat[i - WARM_N] = r.got_at - t0;
			latok[i - WARM_N] = r.acked_at - t0;
		}
	}
	pct(lat, LAT_N, &rp50, &rp99);
	pct(latok, LAT_N, &op50, &op99);
	t0 = clock_mono_us();
	for (i = 0; i < TPUT_N; i++)
		rel_send(&r, body);
	while (r.got < WARM_N + LAT_N + TPUT_N)
		rel_step(&r);
	rtput = TPUT_N * 1e6 / (double)(clock_mono_us() - t0);
	relay_client_free(r.snd);
	relay_client_free(r.rcv);

	/* Agents. */
	side_open(&x, "x", testrelay_address(relay));
	side_open(&y, "y", testrelay_address(relay));
	agents_connect(&x, &y, cx);
	if (pipe(evp) != 0 || pipe(stopp) != 0)
		abort();
	child = side_fork(&y, testrelay_address(relay), evp, stopp);
	if (child < 0)
		abort();
	close(evp[1]);
	close(stopp[0]);
	for (i = 0; i < WARM_N + LAT_N; i++) {
		size_t want = got + 1, dl = x.delivered + 1;

		t0 = clock_mono_us();
		if (agent_send(x.a, cx, "hello, latency", 14, id) != 0)
			abort();
		while (got < want)
			sender_step(&x, evp[0], &t1, &got);
		if (i >= WARM_N)
			lat[i - WARM_N] = t1 - t0;
		/* Light load: the receipt comes back before the next one. */
		while (x.delivered < dl)
			sender_step(&x, evp[0], &t1, &got);
	}
	pct(lat, LAT_N, &ap50, &ap99);
	t0 = clock_mono_us();
	for (i = 0; i < TPUT_N; i++)
		if (agent_send(x.a, cx, "hello, throughput", 17, id) != 0)
			abort();
	while (got < WARM_N + LAT_N + TPUT_N)
		sender_step(&x, evp[0], &t1, &got);
	atput = TPUT_N * 1e6 / (double)(t1 - t0);
	close(stopp[1]);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		abort();
	close(evp[0]);
	cp50 = commit_floor(&x, cx, &blob_len);
	/* The receiver's commit follows the event: one commit is in the way. */
	floor = rp50 + cp50;

	printf("agent: raw xchacha20poly1305 seal+open 16000 B  %9.1f us\n",
	    raw_aead());
	printf("agent: relay-only SEND->MSG latency  p50 %8.1f us  p99 %8.1f "
	       "us  (to the recipient)\n",
	    rp50, rp99);
	printf("agent: relay-only SEND->OK latency   p50 %8.1f us  p99 %8.1f "
	       "us  (durable at the relay)\n",
	    op50, op99);
	printf("agent: one store commit (%zu B state, fsync)   p50 %8.1f us\n",
	    blob_len, cp50);
	printf("agent: floor = relay-only SEND->MSG + 1 commit p50 %8.1f us\n",
	    floor);
	printf("agent: agent->agent latency          p50 %8.1f us  p99 %8.1f "
	       "us  (x%.2f of relay-only SEND->MSG p50, target <= 1.30 %s; "
	       "x%.2f of SEND->OK; x%.2f of floor)\n",
	    ap50, ap99, ap50 / rp50, ap50 <= 1.3 * rp50 ? "met" : "MISSED",
	    ap50 / op50, ap50 / floor);
	printf("agent: relay-only throughput, 1 queue, 1 in flight %8.0f "
	       "msg/s\n",
	    rtput);
	printf("agent: agent throughput, 1 connection            %8.0f "
	       "msg/s  (x%.2f of relay-only)\n",
	    atput, atput / rtput);

	agent_close(x.a);
	store_close(x.st);
	testrelay_rmtree(x.dir);
	testrelay_rmtree(y.dir);
	testrelay_free(relay);
	free(body);
	return 0;
}
