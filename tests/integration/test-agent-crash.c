/*
 * kill -9 of a running agent (a child process) at each step of
 * receiving and sending, through a real noid-relay: nothing lost,
 * nothing shown twice, and no message key ever used for two bodies
 * that can leave the process, across crashes and restarts.  The ratchet
 * picks a random nonce per body, so a reused key would not repeat a
 * (key, nonce) pair: the check is on body keys.  A key is logged once
 * the body it sealed is saved (after that it may be sent); keys of
 * bodies sealed but lost in a crash before the commit never left and
 * are not logged.  The check is shown able to fail: restoring an old
 * copy of the sender's state (a reused ratchet) makes it report repeats.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e.h"
#include "test-agent-fix.h"

#define NMSG 24
#define KEYREC (E2E_KEY_SIZE + E2E_NONCE_SIZE)

static struct testrelay *relay;
static struct peer A, B;
static uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];
static char keylog[96];
static int keyfd = -1;
static unsigned observed;
static uint8_t pend[64][KEYREC];
static size_t npend;
static int is_child;

/* Keep every body (key, nonce) until its state is saved: the ratchet
 * reports a header's pair, then the body's, for each message. */
static void
observe(const uint8_t key[E2E_KEY_SIZE], const uint8_t nonce[E2E_NONCE_SIZE],
    void *arg)
{
	(void)arg;
	if (observed++ % 2 == 0)
		return;
	if (npend == 64)
		abort();
	memcpy(pend[npend], key, E2E_KEY_SIZE);
	memcpy(pend[npend] + E2E_KEY_SIZE, nonce, E2E_NONCE_SIZE);
	npend++;
}

static int kill_step, kill_at, step_hits;

/*
 * A saved state may now be sent: log the keys it used.  In a child,
 * kill -9 ourselves at the chosen hit of the chosen step.
 */
static void
crash_hook(int step, void *arg)
{
	(void)arg;
	if (step == AGENT_STEP_SEND_AFTER_COMMIT && npend > 0) {
		if (write(keyfd, pend, npend * KEYREC) !=
		    (ssize_t)(npend * KEYREC))
			abort();
		npend = 0;
	}
	if (is_child && step == kill_step && ++step_hits == kill_at)
		raise(SIGKILL);
}

static void
setup(void)
{
	relay = testrelay_start(NULL);
	cr_assert_not_null(relay, "relay did not start");
	peer_new(&A, "alice", testrelay_address(relay), NULL);
	peer_new(&B, "bob", testrelay_address(relay), NULL);
	snprintf(keylog, sizeof keylog, "%s/keys.log", B.dir);
	keyfd = open(keylog, O_WRONLY | O_CREAT | O_APPEND, 0600);
	cr_assert_geq(keyfd, 0);
	observed = 0;
	npend = 0;
	is_child = 0;
	e2e_set_send_observer(observe, NULL);
	agent_set_step_hook(crash_hook, NULL);
	connect_pair(&A, &B, ca, cb);
}

static void
teardown(void)
{
	e2e_set_send_observer(NULL, NULL);
	agent_set_step_hook(NULL, NULL);
	if (keyfd >= 0)
		close(keyfd);
	peer_free(&A);
	peer_free(&B);
	testrelay_free(relay);
}

TestSuite(agent_crash, .init = setup, .fini = teardown, .timeout = 600);

/* Child: how many incoming messages the store holds for conv. */
static uint64_t
incoming(struct peer *p, const uint8_t *conv)
{
	uint64_t n = 0;

	if (store_unread_count(p->st, p->profile, conv, &n) != 0)
		_exit(3);
	return n;
}

/* Child: whether p's outbox is empty (every text accepted by a relay). */
static int
outbox_empty(struct peer *p)
{
	struct store_msg *m = NULL;
	size_t n = 0;

	if (store_outbox_queued(p->st, p->profile, &m, &n) != 0)
		_exit(3);
	store_msgs_free(m, n);
	return n == 0;
}

/* Not an agent step: the receiver's MESSAGE event, which the agent
 * delivers before the commit of the pass that stored the message. */
#define KILL_ON_MESSAGE 100

/* Child's event callback: kill -9 at the chosen message event. */
static void
child_event(const struct agent_event *ev, void *arg)
{
	if (ev->type == AGENT_EV_MESSAGE && kill_step == KILL_ON_MESSAGE &&
	    ++step_hits == kill_at)
		raise(SIGKILL);
	peer_event(ev, arg);
}

/*
 * Child body: run p's agent until done (receiver: NMSG messages stored;
 * sender: outbox empty) unless the hook kills us first.  No criterion
 * asserts here: exit codes only.
 */
static void
child_run(struct peer *p, const uint8_t *conn, int sender)
{
	struct agent_conn_info ci;
	uint64_t deadline = clock_mono_ms() + 60000;

	observed = 0;
	npend = 0;
	is_child = 1;
	p->cfg.cb = child_event;
	if (store_open(p->dir, NULL, STORE_FAST_KDF, &p->st) != 0 ||
	    agent_open(p->st, p->profile, &p->cfg, &p->a) != 0 ||
	    agent_conn_info(p->a, conn, &ci) != 0)
		_exit(2);
	while (clock_mono_ms() < deadline) {
		if (sender ? outbox_empty(p) : incoming(p, ci.contact) >= NMSG)
			_exit(0);
		if (agent_run(p->a, 100, 0) != NOID_ERR_TIMEOUT)
			_exit(4);
	}
	_exit(5);
}

/* Condition for the parent's peer: the child exited. */
struct waitc {
	pid_t pid;
	int status;
	int done;
};

static int
child_done(void *arg)
{
	struct waitc *w = arg;

	if (waitpid(w->pid, &w->status, WNOHANG) == w->pid)
		w->done = 1;
	return w->done;
}

/*
 * Run `child` (A if sender, else B) in child processes killed at step
 * (on a hit that varies per round) until one finishes; the other peer
 * runs here meanwhile.  snap (may be NULL): restore the child's data
 * dir from it before every round (the mutation; then max rounds, not
 * expected to finish).  Returns the kills.
 */
static int
crash_rounds(int sender, int step, const char *snap, int max)
{
	struct peer *ch = sender ? &A : &B, *me = sender ? &B : &A;
	const uint8_t *conn = sender ? ca : cb;
	struct peer *ps[1] = {me};
	struct waitc w;
	char cmd[256];
	int kills = 0, round;

	peer_stop(ch);
	for (round = 0; round < max; round++) {
		if (snap != NULL) {
			snprintf(cmd, sizeof cmd,
			    "rm -rf '%s'/* && cp -a '%s'/. '%s'", ch->dir, snap,
			    ch->dir);
			cr_assert_eq(system(cmd), 0);
		}
		kill_step = step;
		kill_at = 1 + round % 3;
		step_hits = 0;
		memset(&w, 0, sizeof w);
		w.pid = fork();
		cr_assert_geq(w.pid, 0);
		if (w.pid == 0)
			child_run(ch, conn, sender);
		pump(ps, 1, child_done, &w, 120000);
		if (WIFSIGNALED(w.status) && WTERMSIG(w.status) == SIGKILL) {
			kills++;
			continue;
		}
		cr_assert(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0,
		    "child failed: status %d", w.status);
		break;
	}
	cr_assert(snap != NULL || round < max, "never finished");
	peer_start(ch);
	return kills;
}

/* Queue NMSG texts from A. */
static void
queue_texts(void)
{
	uint8_t id[AGENT_ID_LEN];
	char text[32];
	size_t i;

	for (i = 0; i < NMSG; i++) {
		snprintf(text, sizeof text, "m%zu", i);
		cr_assert_eq(agent_send(A.a, ca, text, strlen(text), id), 0);
	}
}

/* B's store holds m0..m(NMSG-1), each once, in sequence order. */
static void
check_receiver_store(void)
{
	struct agent_conn_info ci;
	struct store_msg *m = NULL;
	char text[32];
	size_t n = 0, i;

	cr_assert_eq(agent_conn_info(B.a, cb, &ci), 0);
	cr_assert_eq(
	    store_msgs_page(B.st, B.profile, ci.contact, NULL, 1000, &m, &n),
	    0);
	agent_conn_info_clear(&ci);
	cr_assert_eq(n, NMSG, "stored %zu messages", n);
	for (i = 0; i < n; i++) {
		/* Newest first. */
		snprintf(text, sizeof text, "m%zu", NMSG - 1 - i);
		cr_assert_str_eq(m[i].text, text);
		cr_assert_eq(m[i].seq, NMSG - i);
		cr_assert_eq(m[i].dir, STORE_DIR_IN);
	}
	store_msgs_free(m, n);
}

/* Sort key records. */
static int
cmp_rec(const void *x, const void *y)
{
	return memcmp(x, y, KEYREC);
}

/* How many body keys of the log were used more than once. */
static size_t
key_repeats(size_t *total)
{
	uint8_t *recs = NULL;
	size_t len = 0, n, i, rep = 0;

	cr_assert_eq(file_read_all(keylog, 64 << 20, &recs, &len), 0);
	cr_assert_eq(len % KEYREC, 0);
	n = len / KEYREC;
	qsort(recs, n, KEYREC, cmp_rec);
	for (i = 1; i < n; i++)
		if (memcmp(recs + (i - 1) * KEYREC, recs + i * KEYREC,
		        E2E_KEY_SIZE) == 0)
			rep++;
	free(recs);
	*total = n;
	return rep;
}

/* Receive side: every step, then all delivered. */
static void
receive_crash(int step)
{
	struct want w = {&A, AGENT_EV_DELIVERED, NMSG, NULL, 0, 0};
	size_t total;

	queue_texts();
	cr_assert_gt(
	    crash_rounds(0, step, NULL, 200), 0, "the hook never fired");
	check_receiver_store();
	pump2(&A, &B, want_events, &w, 60000);
	cr_assert_eq(key_repeats(&total), 0);
}

Test(agent_crash, receiver_killed_before_commit)
{
	receive_crash(AGENT_STEP_RECV_BEFORE_COMMIT);
}

Test(agent_crash, receiver_killed_after_commit_before_ack)
{
	receive_crash(AGENT_STEP_RECV_AFTER_COMMIT);
}

Test(agent_crash, receiver_killed_after_ack)
{
	receive_crash(AGENT_STEP_RECV_AFTER_ACK);
}

/* Shown but not yet committed: shown again after the restart, once. */
Test(agent_crash, receiver_killed_while_showing)
{
	receive_crash(KILL_ON_MESSAGE);
}

/* Condition: B has n messages. */
static int
b_has(void *arg)
{
	return peer_count(&B, AGENT_EV_MESSAGE, NULL) >= *(size_t *)arg;
}

Test(agent_crash, sender_killed_at_every_step_never_reuses_a_key)
{
	static const int steps[] = {AGENT_STEP_SEND_BEFORE_COMMIT,
	    AGENT_STEP_SEND_AFTER_COMMIT, AGENT_STEP_SEND_AFTER_SEND};
	size_t i, total, n = NMSG;
	int kills = 0;

	queue_texts();
	for (i = 0; i < 3; i++)
		kills += crash_rounds(1, steps[i], NULL, 200);
	cr_assert_gt(kills, 0);
	pump2(&A, &B, b_has, &n, 60000);
	check_receiver_store();
	cr_assert_eq(
	    peer_count(&B, AGENT_EV_MESSAGE, NULL), NMSG, "shown exactly once");
	cr_assert_eq(key_repeats(&total), 0, "a body key was used twice");
	cr_assert_gt(total, NMSG, "the observer saw the sends");
}

Test(agent_crash, reused_state_is_caught_by_the_key_check)
{
	char snap[96], cmd[256];
	size_t total;

	/* Without receipts A never takes a DH ratchet step (whose fresh
	 * random key would change its next chain), so every round seals
	 * the same messages with the same keys. */
	peer_stop(&B);
	B.cfg.no_receipts = 1;
	peer_start(&B);
	queue_texts();
	peer_stop(&A);
	snprintf(snap, sizeof snap, "%s-snap", B.dir);
	snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", A.dir, snap);
	cr_assert_eq(system(cmd), 0);
	peer_start(&A);
	/* Every round starts from the same saved ratchet: keys repeat. */
	cr_assert_gt(crash_rounds(1, AGENT_STEP_SEND_AFTER_SEND, snap, 4), 0);
	testrelay_rmtree(snap);
	cr_assert_gt(
	    key_repeats(&total), 0, "the check missed reuse (%zu keys)", total);
}
