/*
 * app-loop: the client's one poll() loop (DESIGN §8).
 *
 * Everything that happens to the client arrives here: the tty, the
 * control socket and its connections, the agent's relay sockets, timers
 * and signals.  Signals only write their number into a self-pipe; the
 * callback runs later inside the loop, so no handler ever touches
 * ncurses or the model.  Timers are a small list; the nearest deadline
 * is poll()'s timeout, so an idle client sleeps in the kernel and wakes
 * for nothing.  A prepare hook runs before every poll(): the client
 * redraws there, once per pass, whatever changed during the pass.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct loop_fd {
	int fd;
	short events;
	app_loop_fd_cb cb;
	void *arg;
	int dead;
};

struct loop_timer {
	uint64_t id;
	uint64_t due_ms;
	app_loop_timer_cb cb;
	void *arg;
};

struct loop_sig {
	int sig;
	app_loop_signal_cb cb;
	void *arg;
};

struct app_loop {
	struct loop_fd *fds;
	size_t nfds, capfds;
	struct loop_timer *timers;
	size_t ntimers, captimers;
	uint64_t next_timer_id;
	struct loop_sig sigs[8];
	size_t nsigs;
	app_loop_hook_cb prepare;
	void *prepare_arg;
	app_loop_fill_cb src_fill;
	app_loop_ready_cb src_ready;
	app_loop_timeout_cb src_timeout;
	void *src_arg;
	struct pollfd *pfds;
	size_t cappfds;
};

/* The self-pipe is process-wide because signal handlers are. */
static int loop_sigpipe[2] = {-1, -1};

/* Signal handler: record the signal number, nothing else. */
static void
app_loop_handler(int sig)
{
	int saved = errno;
	unsigned char c = (unsigned char)sig;

	if (write(loop_sigpipe[1], &c, 1) < 0) {
		/* A full pipe already holds a wake-up. */
	}
	errno = saved;
}

/* Drain the self-pipe and run the callbacks of the signals seen. */
static void
app_loop_sigpipe_read(int fd, short revents, void *arg)
{
	struct app_loop *loop = arg;
	unsigned char c[64];
	ssize_t n, i;
	size_t j;

	(void)revents;
	while ((n = read(fd, c, sizeof c)) > 0) {
		for (i = 0; i < n; i++)
			for (j = 0; j < loop->nsigs; j++)
				if (loop->sigs[j].sig == c[i])
					loop->sigs[j].cb(
					    c[i], loop->sigs[j].arg);
	}
}

/* A new loop with nothing to watch. */
struct app_loop *
app_loop_new(void)
{
	struct app_loop *loop = xcalloc(1, sizeof *loop);

	loop->next_timer_id = 1;
	return loop;
}

/* Free the loop (the fds it watched belong to their owners). */
void
app_loop_free(struct app_loop *loop)
{
	size_t i;

	if (loop == NULL)
		return;
	for (i = 0; i < loop->nsigs; i++)
		signal(loop->sigs[i].sig, SIG_DFL);
	if (loop->nsigs > 0 && loop_sigpipe[0] >= 0) {
		close(loop_sigpipe[0]);
		close(loop_sigpipe[1]);
		loop_sigpipe[0] = loop_sigpipe[1] = -1;
	}
	free(loop->fds);
	free(loop->timers);
	free(loop->pfds);
	free(loop);
}

/* Find the live watch of fd. */
static struct loop_fd *
app_loop_fd_find(struct app_loop *loop, int fd)
{
	size_t i;

	for (i = 0; i < loop->nfds; i++)
		if (loop->fds[i].fd == fd && !loop->fds[i].dead)
			return &loop->fds[i];
	return NULL;
}

/* Watch fd, or change what is watched. */
void
app_loop_fd_set(
    struct app_loop *loop, int fd, short events, app_loop_fd_cb cb, void *arg)
{
	struct loop_fd *f = app_loop_fd_find(loop, fd);

	if (f == NULL) {
		if (loop->nfds == loop->capfds) {
			loop->capfds = loop->capfds ? loop->capfds * 2 : 16;
			loop->fds = xreallocarray(
			    loop->fds, loop->capfds, sizeof *loop->fds);
		}
		f = &loop->fds[loop->nfds++];
	}
	f->fd = fd;
	f->events = events;
	f->cb = cb;
	f->arg = arg;
	f->dead = 0;
}

/* Stop watching fd; safe from inside a callback. */
void
app_loop_fd_del(struct app_loop *loop, int fd)
{
	struct loop_fd *f = app_loop_fd_find(loop, fd);

	if (f != NULL)
		f->dead = 1;
}

/* Add a one-shot timer. */
uint64_t
app_loop_timer_add(
    struct app_loop *loop, uint64_t ms, app_loop_timer_cb cb, void *arg)
{
	struct loop_timer *t;

	if (loop->ntimers == loop->captimers) {
		loop->captimers = loop->captimers ? loop->captimers * 2 : 8;
		loop->timers = xreallocarray(
		    loop->timers, loop->captimers, sizeof *loop->timers);
	}
	t = &loop->timers[loop->ntimers++];
	t->id = loop->next_timer_id++;
	t->due_ms = clock_mono_ms() + ms;
	t->cb = cb;
	t->arg = arg;
	return t->id;
}

/* Cancel a timer that has not fired; unknown ids are ignored. */
void
app_loop_timer_del(struct app_loop *loop, uint64_t id)
{
	size_t i;

	for (i = 0; i < loop->ntimers; i++) {
		if (loop->timers[i].id != id)
			continue;
		loop->timers[i] = loop->timers[--loop->ntimers];
		return;
	}
}

/* Route sig through the self-pipe to cb. */
int
app_loop_signal_set(
    struct app_loop *loop, int sig, app_loop_signal_cb cb, void *arg)
{
	struct sigaction sa;

	if (loop->nsigs == sizeof loop->sigs / sizeof loop->sigs[0])
		return NOID_ERR_LIMIT;
	if (loop_sigpipe[0] < 0) {
		if (pipe(loop_sigpipe) != 0)
			return NOID_ERR_IO;
		fd_set_nonblock(loop_sigpipe[0]);
		fd_set_nonblock(loop_sigpipe[1]);
		app_loop_fd_set(
		    loop, loop_sigpipe[0], POLLIN, app_loop_sigpipe_read, loop);
	}
	loop->sigs[loop->nsigs].sig = sig;
	loop->sigs[loop->nsigs].cb = cb;
	loop->sigs[loop->nsigs].arg = arg;
	loop->nsigs++;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = app_loop_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(sig, &sa, NULL) != 0)
		return NOID_ERR_IO;
	return 0;
}

/* Set (or with fill NULL, remove) the external source. */
void
app_loop_source_set(struct app_loop *loop, app_loop_fill_cb fill,
    app_loop_ready_cb ready, app_loop_timeout_cb timeout, void *arg)
{
	loop->src_fill = fill;
	loop->src_ready = ready;
	loop->src_timeout = timeout;
	loop->src_arg = arg;
}

/* Set the hook run before each poll(). */
void
app_loop_set_prepare(struct app_loop *loop, app_loop_hook_cb cb, void *arg)
{
	loop->prepare = cb;
	loop->prepare_arg = arg;
}

/* Run every timer that is due. */
static void
app_loop_timers_run(struct app_loop *loop)
{
	uint64_t now = clock_mono_ms();
	struct loop_timer t;
	size_t i;

	for (i = 0; i < loop->ntimers;) {
		if (loop->timers[i].due_ms > now) {
			i++;
			continue;
		}
		/* Remove before the call: the callback may add timers. */
		t = loop->timers[i];
		loop->timers[i] = loop->timers[--loop->ntimers];
		t.cb(t.arg);
		i = 0;
		now = clock_mono_ms();
	}
}

/* Milliseconds until the nearest timer (-1: none). */
static int
app_loop_timers_next(struct app_loop *loop)
{
	uint64_t now = clock_mono_ms(), next = UINT64_MAX;
	size_t i;

	for (i = 0; i < loop->ntimers; i++)
		if (loop->timers[i].due_ms < next)
			next = loop->timers[i].due_ms;
	if (next == UINT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return next - now > 86400000 ? 86400000 : (int)(next - now);
}

/* Drop watches removed during the last pass. */
static void
app_loop_fds_compact(struct app_loop *loop)
{
	size_t i, j;

	for (i = j = 0; i < loop->nfds; i++)
		if (!loop->fds[i].dead)
			loop->fds[j++] = loop->fds[i];
	loop->nfds = j;
}

/* Make room for at least n pollfds. */
static void
app_loop_pfds_reserve(struct app_loop *loop, size_t n)
{
	if (loop->cappfds >= n)
		return;
	loop->cappfds = n < 16 ? 16 : n;
	loop->pfds =
	    xreallocarray(loop->pfds, loop->cappfds, sizeof *loop->pfds);
}

/* One pass of the loop. */
int
app_loop_once(struct app_loop *loop)
{
	struct loop_fd *f;
	size_t i, n, nsrc = 0;
	int timeout, stimeout, rc;

	if (loop->prepare != NULL)
		loop->prepare(loop->prepare_arg);
	timeout = app_loop_timers_next(loop);
	app_loop_fds_compact(loop);
	n = loop->nfds;
	app_loop_pfds_reserve(loop, n);
	/* Our own watches go first, the source's after them. */
	if (loop->src_fill != NULL) {
		while ((nsrc = loop->src_fill(loop->src_arg, loop->pfds + n,
		            loop->cappfds - n)) > loop->cappfds - n)
			app_loop_pfds_reserve(loop, n + nsrc);
		stimeout = loop->src_timeout(loop->src_arg);
		if (stimeout >= 0 && (timeout < 0 || stimeout < timeout))
			timeout = stimeout;
	}
	for (i = 0; i < n; i++) {
		loop->pfds[i].fd = loop->fds[i].events ? loop->fds[i].fd : -1;
		loop->pfds[i].events = loop->fds[i].events;
		loop->pfds[i].revents = 0;
	}
	rc = poll(loop->pfds, n + nsrc, timeout);
	if (rc < 0)
		return errno == EINTR ? 0 : NOID_ERR_IO;
	if (loop->src_fill != NULL)
		loop->src_ready(loop->src_arg, loop->pfds + n, nsrc);
	for (i = 0; i < n; i++) {
		if (loop->pfds[i].revents == 0)
			continue;
		/* fds[] may grow (and move) inside a callback. */
		f = &loop->fds[i];
		if (f->dead || f->fd != loop->pfds[i].fd)
			continue;
		f->cb(f->fd, loop->pfds[i].revents, f->arg);
	}
	app_loop_timers_run(loop);
	return 0;
}

/* Run until *done. */
int
app_loop_run(struct app_loop *loop, const int *done)
{
	int rc;

	while (!*done)
		if ((rc = app_loop_once(loop)) != 0)
			return rc;
	return 0;
}
