/*
 * Integrity events through a real noid-relay.  A message lost on the
 * way (the sender's sealed body dropped before it reaches the relay,
 * through the step hook and the driver's internals) shows a gap on the
 * receiver, and the next message is still shown.  A message the relay
 * delivers twice (the receiver was killed after its commit, before its
 * ACK) is dropped silently: shown once, no integrity event.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent-core.h"
#include "test-agent-fix.h"

static struct testrelay *relay;
static struct peer A, B;
static uint8_t ca[AGENT_ID_LEN], cb[AGENT_ID_LEN];
static int drop_armed, kill_armed;

/* Drop A's freshly saved text body (armed), or die after B's commit. */
static void
hook(int step, void *arg)
{
	struct agent_c *c;

	(void)arg;
	if (step == AGENT_STEP_RECV_AFTER_COMMIT && kill_armed)
		raise(SIGKILL);
	if (step != AGENT_STEP_SEND_AFTER_COMMIT || !drop_armed || A.a == NULL)
		return;
	for (c = A.a->conns; c != NULL; c = c->next) {
		if (c->out != NULL && c->out->type == AGENT_MSG_TEXT) {
			agent_out_pop(c);
			drop_armed = 0;
		}
	}
}

static void
setup(void)
{
	relay = testrelay_start(NULL);
	cr_assert_not_null(relay, "relay did not start");
	peer_new(&A, "alice", testrelay_address(relay), NULL);
	peer_new(&B, "bob", testrelay_address(relay), NULL);
	drop_armed = kill_armed = 0;
	agent_set_step_hook(hook, NULL);
	connect_pair(&A, &B, ca, cb);
}

static void
teardown(void)
{
	agent_set_step_hook(NULL, NULL);
	peer_free(&A);
	peer_free(&B);
	testrelay_free(relay);
}

TestSuite(agent_integrity, .init = setup, .fini = teardown, .timeout = 120);

static void
send_text(const char *text)
{
	uint8_t id[AGENT_ID_LEN];

	cr_assert_eq(agent_send(A.a, ca, text, strlen(text), id), 0);
}

/* Pump until B has shown n messages. */
static void
b_shows(size_t n)
{
	struct want w = {&B, AGENT_EV_MESSAGE, n, NULL, 0, 0};

	pump2(&A, &B, want_events, &w, 20000);
}

Test(agent_integrity, lost_message_shows_a_gap)
{
	struct want w = {&A, AGENT_EV_SENT, 1, NULL, 0, 0};
	const struct pev *e;

	send_text("one");
	pump2(&A, &B, want_events, &w, 20000);
	drop_armed = 1;
	send_text("two"); /* sealed, saved, then lost before the relay */
	cr_assert_eq(drop_armed, 0, "the hook dropped nothing");
	send_text("three");
	b_shows(2);
	cr_assert_str_eq(peer_last(&B, AGENT_EV_MESSAGE, cb)->text, "three");
	cr_assert_eq(peer_last(&B, AGENT_EV_MESSAGE, cb)->seq, 3);
	cr_assert_eq(peer_count(&B, AGENT_EV_INTEGRITY, cb), 1);
	e = peer_last(&B, AGENT_EV_INTEGRITY, cb);
	cr_assert_eq(e->integrity, AGENT_INTEGRITY_SKIPPED);
	cr_assert_eq(e->seq, 2);
	cr_assert_eq(e->seq_to, 2);
}

/* Child: run B until the hook kills it after its first commit. */
static void
child_run(void)
{
	kill_armed = 1;
	if (store_open(B.dir, NULL, STORE_FAST_KDF, &B.st) != 0 ||
	    agent_open(B.st, B.profile, &B.cfg, &B.a) != 0)
		_exit(2);
	(void)agent_run(B.a, 10000, 0);
	_exit(5);
}

static int
child_done(void *arg)
{
	int *st = arg;
	pid_t pid = (pid_t)st[0];

	return waitpid(pid, &st[1], WNOHANG) == pid;
}

Test(agent_integrity, redelivered_message_is_dropped_silently)
{
	struct want w = {&A, AGENT_EV_DELIVERED, 2, NULL, 0, 0};
	struct peer *ps[1] = {&A};
	struct agent_conn_info ci;
	struct store_msg *m = NULL;
	size_t n = 0;
	int st[2];

	peer_stop(&B);
	send_text("once");
	st[0] = fork();
	cr_assert_geq(st[0], 0);
	if (st[0] == 0)
		child_run();
	pump(ps, 1, child_done, st, 20000);
	cr_assert(WIFSIGNALED(st[1]) && WTERMSIG(st[1]) == SIGKILL,
	    "B was not killed between its commit and its ACK");
	/* B restarts: the relay delivers "once" again (never acked). */
	peer_start(&B);
	send_text("twice");
	b_shows(1);
	pump2(&A, &B, want_events, &w, 20000);
	cr_assert_eq(peer_count(&B, AGENT_EV_MESSAGE, cb), 1);
	cr_assert_str_eq(peer_last(&B, AGENT_EV_MESSAGE, cb)->text, "twice");
	cr_assert_eq(peer_last(&B, AGENT_EV_MESSAGE, cb)->seq, 2);
	cr_assert_eq(peer_count(&B, AGENT_EV_INTEGRITY, NULL), 0);
	cr_assert_eq(peer_count(&B, AGENT_EV_SECURITY, NULL), 0);
	cr_assert_eq(peer_count(&B, AGENT_EV_ERROR, NULL), 0);
	cr_assert_eq(agent_conn_info(B.a, cb, &ci), 0);
	cr_assert_eq(
	    store_msgs_page(B.st, B.profile, ci.contact, NULL, 100, &m, &n), 0);
	agent_conn_info_clear(&ci);
	cr_assert_eq(n, 2, "stored once each");
	cr_assert_str_eq(m[1].text, "once");
	store_msgs_free(m, n);
}
