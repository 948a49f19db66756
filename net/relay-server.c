/*
 * relay-server: listeners, connections, timeouts and the pass structure
 * of the event loop (see relay-server.h).  Commands are in
 * relay-server-cmd.c.
 *
 * Per connection the relay keeps a small struct, the transport (whose
 * block buffers exist only while busy), the encoded answers not yet
 * packed into blocks, and a small cache of authenticator keys.  Output
 * is packed into as few blocks as fit, so a burst of OKs costs one
 * block.  A connection whose unsent output passes out_limit is a slow
 * reader and is dropped; one with a few blocks pending is not read
 * until it drains, so a client that never reads cannot make us buffer.
 * What all connections buffer together is summed (conn_account); past
 * max_buffered commands are refused with ERR LIMIT until it drains.
 *
 * Replies that report a change wait until the journal batch holding it
 * is durable; the fdatasync runs asynchronously (relay-journal.h), so
 * the loop goes on reading, running commands and pushing messages while
 * the disk syncs, and an ACK's next MSG never waits for a sync.
 *
 * Timeouts need no timers: connections sit on lists ordered by their
 * deadline (handshake, idle, closing) and epoll_wait's timeout is the
 * nearest head.
 */
#include "relay-server-int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RS_EVENTS 256
#define RS_ACCEPT_BURST 64
#define RS_READ_BURST 8
#define RS_REFUSED_MAX 64
#define RS_PAUSE_BYTES (4 * NOID_BLOCK)
/* Authenticator key derivations per connection: a burst (a client
 * subscribing to its queues at once), then a rate. */
#define RS_KD_BURST 512
#define RS_KD_RATE 256
#define RS_STOP_FLUSH_MS 2000

/* fds of the running server's self-pipe, for the signal handler. */
static int rs_sig_fd = -1;

#define CONN_OF(l, field)                                                      \
	((struct rs_conn *)((char *)(l)-offsetof(struct rs_conn, field)))

void
rs_list_init(struct rs_link *l)
{
	l->prev = l->next = l;
}

bool
rs_list_empty(const struct rs_link *l)
{
	return l->next == l;
}

bool
rs_list_linked(const struct rs_link *n)
{
	return n->next != NULL;
}

void
rs_list_add_tail(struct rs_link *l, struct rs_link *n)
{
	n->prev = l->prev;
	n->next = l;
	l->prev->next = n;
	l->prev = n;
}

void
rs_list_del(struct rs_link *n)
{
	if (n->next == NULL)
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

/* Signal handler: note the signal in the self-pipe. */
static void
rs_on_signal(int sig)
{
	int saved = errno;
	char ch = sig == SIGUSR1 ? 'U' : 'T';

	if (rs_sig_fd >= 0)
		(void)!write(rs_sig_fd, &ch, 1);
	errno = saved;
}

/* Route SIGTERM, SIGINT and SIGUSR1 through s's pipe; ignore SIGPIPE. */
static void
signals_on(struct relay_server *s)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = rs_on_signal;
	sa.sa_flags = SA_RESTART;
	rs_sig_fd = s->sigpipe[1];
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/* Split "host:port" / "[v6]:port" / "host" into parts (caller frees). */
static int
split_hostport(const char *in, char **host, char **port)
{
	const char *colon, *end;

	if (in[0] == '[') {
		if ((end = strchr(in, ']')) == NULL)
			return NOID_ERR_INVAL;
		*host = xmemdup(in + 1, (size_t)(end - in));
		(*host)[end - in - 1] = '\0';
		if (end[1] == '\0')
			*port = NULL;
		else if (end[1] == ':' && end[2] != '\0')
			*port = xstrdup(end + 2);
		else {
			free(*host);
			return NOID_ERR_INVAL;
		}
	} else {
		colon = strrchr(in, ':');
		if (colon != NULL && strchr(in, ':') != colon)
			return NOID_ERR_INVAL; /* bare IPv6 needs brackets */
		if (colon == NULL) {
			*host = xstrdup(in);
			*port = NULL;
		} else {
			*host = xmemdup(in, (size_t)(colon - in) + 1);
			(*host)[colon - in] = '\0';
			*port = xstrdup(colon + 1);
		}
	}
	if (*port == NULL)
		xasprintf(port, "%d", RELAY_DEFAULT_PORT);
	return 0;
}

/* Bind and listen on one configured address. */
static int
listen_one(const char *spec, int *out, char **why)
{
	struct addrinfo hints, *res = NULL;
	char *host = NULL, *port = NULL;
	int fd = -1, one = 1, rc = 0, gai;

	if (split_hostport(spec, &host, &port) != 0) {
		xasprintf(why,
		    "bad listen address '%s' (want HOST:PORT, "
		    "IPv6 as [ADDR]:PORT)",
		    spec);
		return NOID_ERR_INVAL;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((gai = getaddrinfo(
	         *host != '\0' ? host : NULL, port, &hints, &res)) != 0) {
		xasprintf(why, "cannot resolve listen address '%s': %s", spec,
		    gai_strerror(gai));
		rc = NOID_ERR_INVAL;
		goto out;
	}
	fd = socket(
	    res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (res->ai_family == AF_INET6)
		(void)setsockopt(
		    fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, SOMAXCONN) != 0)
		goto fail;
	*out = fd;
	fd = -1;
	goto out;
fail:
	xasprintf(why, "cannot listen on '%s': %s", spec, strerror(errno));
	rc = NOID_ERR_IO;
out:
	if (fd >= 0)
		close(fd);
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	free(port);
	return rc;
}

/* Bind the configured listeners. */
int
relay_server_new(const struct relay_config *cfg, const uint8_t *priv,
    const uint8_t *pub, struct relay_queues *qs, struct relay_journal *j,
    struct relay_server **out, char **why)
{
	static const char *defaults[] = {"0.0.0.0:5223", "[::]:5223"};
	struct relay_server *s = xcalloc(1, sizeof *s);
	struct epoll_event ev;
	size_t i, n = cfg->nlisten;
	int rc = 0;

	*why = NULL;
	s->cfg = cfg;
	s->priv = priv;
	s->pub = pub;
	s->qs = qs;
	s->j = j;
	s->sigpipe[0] = s->sigpipe[1] = -1;
	s->jfd = -1;
	rs_list_init(&s->hs_line);
	rs_list_init(&s->idle_line);
	rs_list_init(&s->dirty);
	rs_list_init(&s->ready);
	rs_list_init(&s->closing);
	rs_list_init(&s->waiting);
	rs_list_init(&s->throttled);
	randombytes_buf(s->dummy_hash, sizeof s->dummy_hash);
	s->next_serial = 1;

	if ((s->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    pipe2(s->sigpipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		xasprintf(
		    why, "cannot create the event loop: %s", strerror(errno));
		rc = NOID_ERR_IO;
		goto out;
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.fd = s->sigpipe[0];
	(void)epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sigpipe[0], &ev);
	/* From here a signal waits in the pipe for the loop: one sent
	 * as soon as the address is printed must not kill us. */
	signals_on(s);
	if ((s->jfd = relay_journal_event_fd(j)) >= 0) {
		ev.data.fd = s->jfd;
		(void)epoll_ctl(s->ep, EPOLL_CTL_ADD, s->jfd, &ev);
	}

	for (i = 0; i < (n > 0 ? n : 2); i++) {
		const char *spec = n > 0 ? cfg->listen[i] : defaults[i];
		int fd = -1;

		rc = listen_one(spec, &fd, why);
		if (rc != 0 && n == 0 && i == 1 && s->nlisten > 0) {
			/* No IPv6 on this host: the IPv4 default will do. */
			free(*why);
			*why = NULL;
			rc = 0;
			continue;
		}
		if (rc != 0)
			goto out;
		s->lfd[s->nlisten++] = fd;
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		(void)epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
	}
out:
	if (rc != 0) {
		relay_server_free(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

size_t
relay_server_nlisten(const struct relay_server *s)
{
	return s->nlisten;
}

/* The i-th bound address. */
int
relay_server_listen_addr(const struct relay_server *s, size_t i, char *host,
    size_t hostlen, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char serv[16];

	if (i >= s->nlisten ||
	    getsockname(s->lfd[i], (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, (socklen_t)hostlen,
	        serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		return NOID_ERR_IO;
	*port = (uint16_t)atoi(serv);
	return 0;
}

/* A token naming c for a later QCONT (fd and serial; never 0). */
uint64_t
rs_conn_token(const struct rs_conn *c)
{
	return ((uint64_t)c->serial << 32) | (uint32_t)c->fd;
}

/* Find a live connection from a token. */
struct rs_conn *
rs_conn_from_token(struct relay_server *s, uint64_t token)
{
	size_t fd = (uint32_t)token;
	struct rs_conn *c;

	if (fd >= s->byfd_len || (c = s->byfd[fd]) == NULL ||
	    c->serial != (uint32_t)(token >> 32) || c->state == RS_CLOSING)
		return NULL;
	return c;
}

/* Set c's epoll interest from its state. */
static void
conn_update_events(struct relay_server *s, struct rs_conn *c)
{
	struct epoll_event ev;
	uint32_t want = 0;

	if (c->state != RS_CLOSING && !c->paused && !c->throttled)
		want |= EPOLLIN;
	if (transport_wants_write(c->t))
		want |= EPOLLOUT;
	if (want == c->events)
		return;
	memset(&ev, 0, sizeof ev);
	ev.events = want;
	ev.data.fd = c->fd;
	(void)epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->events = want;
}

/* Resume accepting once a descriptor is free again. */
static void
listen_resume(struct relay_server *s)
{
	struct epoll_event ev;
	size_t i;

	if (!s->listen_paused)
		return;
	s->listen_paused = false;
	for (i = 0; i < s->nlisten; i++) {
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.fd = s->lfd[i];
		(void)epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd[i], &ev);
	}
}

/* Stop accepting: out of descriptors (level-triggered would spin). */
static void
listen_pause(struct relay_server *s)
{
	struct epoll_event ev;
	size_t i;

	if (s->listen_paused)
		return;
	s->listen_paused = true;
	for (i = 0; i < s->nlisten; i++) {
		memset(&ev, 0, sizeof ev);
		ev.data.fd = s->lfd[i];
		(void)epoll_ctl(s->ep, EPOLL_CTL_MOD, s->lfd[i], &ev);
	}
}

/* Recount what c buffers (answers and the transport's frames) into
 * the server's total, which max_buffered caps. */
static void
conn_account(struct relay_server *s, struct rs_conn *c)
{
	size_t now = c->out.len + c->held.len + transport_mem(c->t);

	s->buffered = s->buffered - c->buffered + now;
	c->buffered = now;
}

/* Close and free c now. */
static void
conn_free(struct relay_server *s, struct rs_conn *c)
{
	s->buffered -= c->buffered;
	rs_cmd_conn_gone(s, c);
	rs_list_del(&c->timeline);
	rs_list_del(&c->dirty);
	rs_list_del(&c->ready);
	rs_list_del(&c->waiting);
	rs_list_del(&c->throttle);
	(void)epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	s->byfd[c->fd] = NULL;
	transport_free(c->t);
	if (c->refused)
		s->nrefused--;
	else
		s->nconns--;
	buf_free(&c->out);
	buf_free(&c->held);
	free(c->hold);
	if (c->kc != NULL) {
		sodium_memzero(c->kc, c->kc_cap * sizeof *c->kc);
		free(c->kc);
	}
	free(c);
	listen_resume(s);
}

/*
 * Mark c for closing once its output is written.  c stays on whatever
 * ready list holds it: pass() may be walking that list, and the walk
 * unlinks each entry itself (conn_read skips closing ones); conn_free
 * unlinks what is left.
 */
void
rs_conn_close_later(struct relay_server *s, struct rs_conn *c)
{
	if (c->state == RS_CLOSING)
		return;
	c->state = RS_CLOSING;
	c->deadline_base = clock_mono_ms();
	rs_list_del(&c->timeline);
	rs_list_add_tail(&s->closing, &c->timeline);
}

/* Discard c at the end of this pass without writing what it has pending. */
static void
conn_discard(struct relay_server *s, struct rs_conn *c)
{
	rs_conn_close_later(s, c);
	buf_free(&c->out);
	buf_free(&c->held);
	c->nhold = 0;
	rs_list_del(&c->waiting);
	c->deadline_base = 0; /* reaped at once */
	conn_account(s, c);
}

/* Drop c (slow, idle or misbehaving) and count it. */
static void
conn_drop(struct relay_server *s, struct rs_conn *c)
{
	if (!c->refused)
		s->st.conns_dropped++;
	conn_discard(s, c);
}

/* Encode tx onto b (c's out or held). */
static void
conn_queue(struct relay_server *s, struct rs_conn *c, struct buf *b,
    const struct proto_tx *tx)
{
	size_t size = proto_tx_size(tx, 0), len;
	uint8_t *p;

	if (c->state == RS_CLOSING && c->deadline_base == 0)
		return;
	if (c->out.len + c->held.len + size + 2 > s->cfg->out_limit) {
		/* A reader this slow would make us buffer without bound. */
		conn_drop(s, c);
		return;
	}
	p = buf_append_space(b, size + 2);
	if (proto_tx_encode(tx, NULL, p + 2, size, &len) != 0 || len != size)
		fatalx("relay: cannot encode a response (tag %u)", tx->tag);
	be16_put(p, (uint16_t)len);
	if (!rs_list_linked(&c->dirty))
		rs_list_add_tail(&s->dirty, &c->dirty);
	conn_account(s, c);
}

/* Queue a reply: held until its batch is durable (see the header). */
void
rs_conn_reply(struct relay_server *s, struct rs_conn *c,
    const struct proto_tx *tx, bool durable)
{
	uint64_t batch = durable ? relay_journal_batch(s->j) : 0;
	struct rs_hold *h;

	if (c->nhold > 0 && c->hold[c->nhold - 1].batch > batch)
		batch = c->hold[c->nhold - 1].batch;
	if (c->nhold == 0 && batch <= relay_journal_durable(s->j)) {
		conn_queue(s, c, &c->out, tx);
		return;
	}
	conn_queue(s, c, &c->held, tx);
	if (c->held.len == 0 ||
	    (c->state == RS_CLOSING && c->deadline_base == 0))
		return; /* dropped */
	if (c->nhold > 0 && c->hold[c->nhold - 1].batch == batch) {
		c->hold[c->nhold - 1].end = c->held.len;
		return;
	}
	if (c->nhold == c->hold_cap) {
		c->hold_cap = c->hold_cap == 0 ? 4 : c->hold_cap * 2;
		c->hold = xreallocarray(c->hold, c->hold_cap, sizeof *c->hold);
	}
	h = &c->hold[c->nhold++];
	h->end = c->held.len;
	h->batch = batch;
	if (!rs_list_linked(&c->waiting))
		rs_list_add_tail(&s->waiting, &c->waiting);
}

/* Queue a push: free to leave before the commit. */
void
rs_conn_push(
    struct relay_server *s, struct rs_conn *c, const struct proto_tx *tx)
{
	conn_queue(s, c, &c->out, tx);
}

/* Whether c has RS_PAUSE_BYTES or more of output not yet packed. */
bool
rs_conn_backlogged(const struct rs_conn *c)
{
	return c->out.len + c->held.len >= RS_PAUSE_BYTES;
}

/* Charge c one key derivation, after refilling its budget. */
void
rs_conn_kd_spend(struct rs_conn *c)
{
	uint64_t now = clock_mono_ms(), add;

	add = (now - c->kd_at) * RS_KD_RATE / 1000;
	if (add > 0) {
		if (add > RS_KD_BURST)
			add = RS_KD_BURST;
		c->kd_tokens += (int32_t)add;
		if (c->kd_tokens > RS_KD_BURST)
			c->kd_tokens = RS_KD_BURST;
		c->kd_at = now;
	}
	c->kd_tokens--;
}

/* c overspent its key derivations: stop reading it until repaid. */
static void
conn_throttle(struct relay_server *s, struct rs_conn *c)
{
	uint64_t debt = (uint64_t)(1 - (int64_t)c->kd_tokens);

	c->throttled = true;
	c->throttle_until = clock_mono_ms() + debt * 1000 / RS_KD_RATE + 1;
	rs_list_add_tail(&s->throttled, &c->throttle);
	s->st.conns_throttled++;
}

/* Read again the throttled connections whose time has come. */
static void
unthrottle(struct relay_server *s, uint64_t now)
{
	struct rs_link *l, *next;
	struct rs_conn *c;

	for (l = s->throttled.next; l != &s->throttled; l = next) {
		next = l->next;
		c = CONN_OF(l, throttle);
		if (c->throttle_until > now)
			continue;
		rs_list_del(&c->throttle);
		c->throttled = false;
		if (!rs_list_linked(&c->ready))
			rs_list_add_tail(&s->ready, &c->ready);
		conn_update_events(s, c);
	}
}

/* Pack c's pending answers into blocks while the transport has room;
 * then make the pushes that waited for c to read (rs_cmd_push). */
static void
conn_flush(struct relay_server *s, struct rs_conn *c)
{
	size_t off, l;
	int rc;

	for (;;) {
		while (c->out.len > 0 && transport_can_queue(c->t, 1)) {
			proto_block_init(&s->blk);
			for (off = 0; off < c->out.len; off += 2 + l) {
				l = be16_get(c->out.data + off);
				if (proto_block_add(
				        &s->blk, c->out.data + off + 2, l) != 0)
					break;
			}
			proto_block_finish(&s->blk);
			rc = transport_queue_block(c->t, s->blk.data);
			if (rc == NOID_ERR_AGAIN)
				break;
			if (rc != 0) {
				conn_drop(s, c);
				return;
			}
			buf_consume(&c->out, off);
		}
		/* Room downstream and little left here: the owed pushes. */
		if (c->nowed == 0 || c->state != RS_OPEN ||
		    c->out.len + c->held.len >= RS_PAUSE_BYTES / 2 ||
		    !transport_can_queue(c->t, 1))
			break;
		rs_cmd_push_owed(s, c);
		if (c->out.len == 0)
			break;
	}
	if (c->out.len == 0)
		buf_free(&c->out); /* idle connections hold no buffer */
	if (c->paused && c->out.len < RS_PAUSE_BYTES / 2 &&
	    c->state != RS_CLOSING) {
		c->paused = false;
		if (!rs_list_linked(&c->ready))
			rs_list_add_tail(&s->ready, &c->ready);
	}
	conn_update_events(s, c);
	conn_account(s, c);
}

/* Accept what the listener has. */
static void
on_accept(struct relay_server *s, int lfd)
{
	struct epoll_event ev;
	struct rs_conn *c;
	size_t i, nlen;
	bool full;
	int fd, one = 1;

	for (i = 0; i < RS_ACCEPT_BURST; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				listen_pause(s);
			return;
		}
		full = s->nconns >= s->cfg->max_conns;
		if (full && s->nrefused >= RS_REFUSED_MAX) {
			/* Even a polite refusal costs too much now. */
			close(fd);
			s->st.conns_refused++;
			continue;
		}
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if ((size_t)fd >= s->byfd_len) {
			nlen = s->byfd_len == 0 ? 1024 : s->byfd_len * 2;
			while (nlen <= (size_t)fd)
				nlen *= 2;
			s->byfd = xreallocarray(s->byfd, nlen, sizeof *s->byfd);
			memset(s->byfd + s->byfd_len, 0,
			    (nlen - s->byfd_len) * sizeof *s->byfd);
			s->byfd_len = nlen;
		}
		c = xcalloc(1, sizeof *c);
		c->fd = fd;
		c->t = transport_new_server(fd, s->priv, s->pub,
		    NOID_PROTO_VERSION_MIN, NOID_PROTO_VERSION_MAX);
		c->serial = s->next_serial++;
		if (s->next_serial == 0)
			s->next_serial = 1;
		c->state = RS_HANDSHAKE;
		c->deadline_base = clock_mono_ms();
		c->kd_tokens = RS_KD_BURST;
		c->kd_at = c->deadline_base;
		buf_init(&c->out);
		buf_init(&c->held);
		if (full) {
			transport_refuse(c->t, TRANSPORT_STATUS_FULL);
			c->refused = true;
			s->nrefused++;
			s->st.conns_refused++;
		} else {
			s->nconns++;
			s->st.conns_total++;
		}
		s->byfd[fd] = c;
		rs_list_add_tail(&s->hs_line, &c->timeline);
		memset(&ev, 0, sizeof ev);
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		c->events = EPOLLIN;
		(void)epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
	}
}

/* Read and run what c has, a few blocks at a time for fairness.  Takes
 * c off any ready list first. */
static void
conn_read_burst(struct relay_server *s, struct rs_conn *c)
{
	enum transport_event ev;
	const uint8_t *block;
	size_t i;
	int rc;

	rs_list_del(&c->ready);
	if (c->state == RS_CLOSING || c->paused || c->throttled)
		return;
	for (i = 0; i < RS_READ_BURST; i++) {
		rc = transport_on_readable(c->t, &ev, &block);
		if (rc != 0 && c->state == RS_OPEN &&
		    (rc == NOID_ERR_CRYPTO || rc == NOID_ERR_PROTO)) {
			/* A frame that does not decrypt (wrong size, bits
			 * flipped): say so, then close. */
			rs_cmd_session_error(s, c);
			return;
		}
		if (rc == NOID_ERR_CLOSED) {
			/* The client hung up: not a drop. */
			conn_discard(s, c);
			return;
		}
		if (rc != 0) {
			conn_drop(s, c);
			return;
		}
		if (ev == TRANSPORT_EV_NONE)
			break;
		if (ev == TRANSPORT_EV_HANDSHAKE) {
			if (c->refused) {
				rs_conn_close_later(s, c);
				return;
			}
			c->state = RS_OPEN;
		}
		c->deadline_base = clock_mono_ms();
		rs_list_del(&c->timeline);
		rs_list_add_tail(&s->idle_line, &c->timeline);
		if (ev == TRANSPORT_EV_BLOCK) {
			rs_cmd_block(s, c, block);
			if (c->state == RS_CLOSING)
				return;
			if (c->out.len + c->held.len >= RS_PAUSE_BYTES) {
				c->paused = true;
				break;
			}
			if (c->kd_tokens < 0) {
				conn_throttle(s, c);
				break;
			}
		}
	}
	if (i == RS_READ_BURST && !c->throttled && !rs_list_linked(&c->ready))
		rs_list_add_tail(&s->ready, &c->ready);
	/* The handshake's msg2 (or a refusal) may be waiting to go. */
	conn_update_events(s, c);
}

/* conn_read_burst, then recount what c buffers (its read buffer). */
static void
conn_read(struct relay_server *s, struct rs_conn *c)
{
	conn_read_burst(s, c);
	conn_account(s, c);
}

/* Writable: push queued blocks, then pack more. */
static void
conn_write(struct relay_server *s, struct rs_conn *c)
{
	if (transport_on_writable(c->t) != 0) {
		conn_drop(s, c);
		return;
	}
	conn_flush(s, c);
}

/* Print the counters as one line to stderr. */
void
relay_server_print_stats(struct relay_server *s)
{
	struct relay_server_stats st;

	relay_server_stats(s, &st);
	fprintf(stderr,
	    "noid-relay: stats conns=%llu conns_total=%llu refused=%llu "
	    "dropped=%llu throttled=%llu queues=%llu pending=%llu "
	    "msgs_in=%llu msgs_out=%llu acked=%llu expired=%llu\n",
	    (unsigned long long)st.conns_now,
	    (unsigned long long)st.conns_total,
	    (unsigned long long)st.conns_refused,
	    (unsigned long long)st.conns_dropped,
	    (unsigned long long)st.conns_throttled,
	    (unsigned long long)st.queues, (unsigned long long)st.msgs_pending,
	    (unsigned long long)st.msgs_in, (unsigned long long)st.msgs_out,
	    (unsigned long long)st.msgs_acked,
	    (unsigned long long)st.msgs_expired);
}

/* Drain the self-pipe: stop or print stats. */
static void
on_signal_pipe(struct relay_server *s)
{
	char ch[64];
	ssize_t n, i;

	while ((n = read(s->sigpipe[0], ch, sizeof ch)) > 0) {
		for (i = 0; i < n; i++) {
			if (ch[i] == 'U')
				relay_server_print_stats(s);
			else
				s->stop = true;
		}
	}
}

/* Milliseconds until the nearest deadline (-1: none). */
static int
next_timeout(struct relay_server *s, uint64_t now)
{
	uint64_t d = UINT64_MAX, t, wall = clock_wall_ms();
	struct rs_link *l;
	struct rs_conn *c;

	if (!rs_list_empty(&s->hs_line)) {
		c = CONN_OF(s->hs_line.next, timeline);
		d = c->deadline_base + s->cfg->handshake_timeout_s * 1000ull;
	}
	if (!rs_list_empty(&s->idle_line)) {
		c = CONN_OF(s->idle_line.next, timeline);
		t = c->deadline_base + s->cfg->idle_timeout_s * 1000ull;
		d = t < d ? t : d;
	}
	if (!rs_list_empty(&s->closing)) {
		c = CONN_OF(s->closing.next, timeline);
		t = c->deadline_base + s->cfg->handshake_timeout_s * 1000ull;
		d = t < d ? t : d;
	}
	t = now + (s->next_sweep_ms > wall ? s->next_sweep_ms - wall : 0);
	d = t < d ? t : d;
	for (l = s->throttled.next; l != &s->throttled; l = l->next) {
		c = CONN_OF(l, throttle);
		d = c->throttle_until < d ? c->throttle_until : d;
	}
	if (d <= now)
		return 0;
	return d - now > 3600000 ? 3600000 : (int)(d - now);
}

/* Close connections whose handshake or idle time ran out. */
static void
expire_conns(struct relay_server *s, uint64_t now)
{
	struct rs_conn *c;

	while (!rs_list_empty(&s->hs_line)) {
		c = CONN_OF(s->hs_line.next, timeline);
		if (c->deadline_base + s->cfg->handshake_timeout_s * 1000ull >
		    now)
			break;
		conn_drop(s, c);
	}
	while (!rs_list_empty(&s->idle_line)) {
		c = CONN_OF(s->idle_line.next, timeline);
		if (c->deadline_base + s->cfg->idle_timeout_s * 1000ull > now)
			break;
		conn_drop(s, c);
	}
}

/* Free closing connections that are done or out of time. */
static void
reap(struct relay_server *s, uint64_t now)
{
	struct rs_link *l, *next;
	struct rs_conn *c;

	for (l = s->closing.next; l != &s->closing; l = next) {
		next = l->next;
		c = CONN_OF(l, timeline);
		/* Done means nothing held for the journal either: an OK
		 * earned before a bad block, and the ERR SESSION queued
		 * behind it, still go. */
		if (c->deadline_base == 0 ||
		    (c->out.len == 0 && c->nhold == 0 &&
		        !transport_wants_write(c->t)) ||
		    c->deadline_base + s->cfg->handshake_timeout_s * 1000ull <=
		        now)
			conn_free(s, c);
	}
}

/* Sweep step: expire one queue's messages, push the next if any. */
static void
sweep_queue(void *ctx, struct relay_queue *q)
{
	struct relay_server *s = ctx;

	(void)relay_queue_msg_head(
	    s->qs, q, clock_wall_ms(), rs_cmd_expired, s);
	/* Expired delivered messages free window slots. */
	rs_cmd_push(s, q);
}

/* Expire old messages everywhere when the sweep is due. */
static void
sweep(struct relay_server *s)
{
	uint64_t wall = clock_wall_ms(), every = s->cfg->ttl_s * 1000 / 8;

	if (wall < s->next_sweep_ms)
		return;
	relay_queue_foreach(s->qs, sweep_queue, s);
	every = every < 1000 ? 1000 : every > 3600000 ? 3600000 : every;
	s->next_sweep_ms = wall + every;
}

/* Move c's held replies whose batch is durable to its output. */
static void
conn_release(struct relay_server *s, struct rs_conn *c)
{
	uint64_t durable = relay_journal_durable(s->j);
	size_t i = 0, len;

	while (i < c->nhold && c->hold[i].batch <= durable)
		i++;
	if (i == 0)
		return;
	len = c->hold[i - 1].end;
	buf_put(&c->out, c->held.data, len);
	buf_consume(&c->held, len);
	memmove(c->hold, c->hold + i, (c->nhold - i) * sizeof *c->hold);
	c->nhold -= i;
	for (i = 0; i < c->nhold; i++)
		c->hold[i].end -= len;
	if (c->nhold == 0) {
		/* Idle connections hold no buffers. */
		buf_free(&c->held);
		free(c->hold);
		c->hold = NULL;
		c->hold_cap = 0;
		rs_list_del(&c->waiting);
	}
	conn_flush(s, c);
}

/* Release what the journal's durable batches allow, everywhere. */
static void
release_held(struct relay_server *s)
{
	struct rs_link *l, *next;

	for (l = s->waiting.next; l != &s->waiting; l = next) {
		next = l->next;
		conn_release(s, CONN_OF(l, waiting));
	}
}

/*
 * End of a pass: send what may go now (pushes, replies that wait for
 * nothing), write this pass's journal records as one batch, start an
 * fdatasync if none is running, and release the replies whose batch
 * is durable.  false on failure.
 */
static bool
flush_and_sync(struct relay_server *s)
{
	struct rs_conn *c;

	while (!rs_list_empty(&s->dirty)) {
		c = CONN_OF(s->dirty.next, dirty);
		rs_list_del(&c->dirty);
		if (c->out.len > 0)
			conn_flush(s, c);
	}
	if (relay_journal_write(s->j) != 0 || relay_journal_sync(s->j) != 0)
		goto fail;
	release_held(s);
	/* Compaction stalls the loop: only after the replies are out. */
	if (relay_journal_maybe_compact(s->j, s->qs) != 0)
		goto fail;
	/* Its commit may have made more batches durable, with no wakeup
	 * left to say so. */
	release_held(s);
	return true;
fail:
	fprintf(stderr, "noid-relay: cannot write the journal: %s; stopping\n",
	    strerror(errno));
	s->failed = true;
	return false;
}

/* One pass of the loop. */
static void
pass(struct relay_server *s, struct epoll_event *evs, int n)
{
	struct rs_link ready;
	struct rs_conn *c;
	uint64_t now;
	size_t k;
	int i, fd;

	/*
	 * Blocks left unread last pass go first, then the new events.
	 * The walk always takes the head (conn_read unlinks it): a
	 * command may close any other connection, so no saved pointer
	 * into the list is safe.
	 */
	unthrottle(s, clock_mono_ms());
	rs_list_init(&ready);
	if (!rs_list_empty(&s->ready)) {
		ready = s->ready;
		ready.next->prev = &ready;
		ready.prev->next = &ready;
		rs_list_init(&s->ready);
		while (!rs_list_empty(&ready))
			conn_read(s, CONN_OF(ready.next, ready));
	}
	for (i = 0; i < n; i++) {
		fd = evs[i].data.fd;
		if (fd == s->sigpipe[0]) {
			on_signal_pipe(s);
			continue;
		}
		if (fd == s->jfd) {
			if (relay_journal_on_event(s->j) != 0) {
				fprintf(stderr,
				    "noid-relay: cannot sync the journal; "
				    "stopping\n");
				s->failed = true;
				return;
			}
			continue;
		}
		for (k = 0; k < s->nlisten; k++)
			if (fd == s->lfd[k])
				break;
		if (k < s->nlisten) {
			on_accept(s, fd);
			continue;
		}
		if ((size_t)fd >= s->byfd_len || (c = s->byfd[fd]) == NULL)
			continue;
		if (evs[i].events & EPOLLOUT)
			conn_write(s, c);
		if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			conn_read(s, c);
	}
	now = clock_mono_ms();
	expire_conns(s, now);
	sweep(s);
	if (!flush_and_sync(s))
		return;
	reap(s, now);
}

/* Run until SIGTERM or SIGINT. */
int
relay_server_run(struct relay_server *s)
{
	struct epoll_event evs[RS_EVENTS];
	uint64_t until;
	int n;

	s->next_sweep_ms = 0;

	while (!s->stop && !s->failed) {
		n = epoll_wait(s->ep, evs, RS_EVENTS,
		    rs_list_empty(&s->ready) ? next_timeout(s, clock_mono_ms())
		                             : 0);
		if (n < 0 && errno != EINTR)
			break;
		pass(s, evs, n < 0 ? 0 : n);
	}
	if (s->failed)
		return NOID_ERR_IO;

	/* Graceful stop: make everything durable, release the last
	 * answers, give them a moment to leave, then close. */
	if (relay_journal_commit(s->j) != 0)
		return NOID_ERR_IO;
	release_held(s);
	until = clock_mono_ms() + RS_STOP_FLUSH_MS;
	while (clock_mono_ms() < until) {
		bool busy = false;
		int i;

		for (n = 0; (size_t)n < s->byfd_len; n++) {
			struct rs_conn *c = s->byfd[n];

			if (c != NULL && c->state != RS_CLOSING &&
			    transport_wants_write(c->t))
				busy = true;
		}
		if (!busy)
			break;
		n = epoll_wait(s->ep, evs, RS_EVENTS, 100);
		for (i = 0; i < n; i++) {
			struct rs_conn *c;

			if ((size_t)evs[i].data.fd < s->byfd_len &&
			    (c = s->byfd[evs[i].data.fd]) != NULL &&
			    (evs[i].events & EPOLLOUT))
				conn_write(s, c);
		}
	}
	return relay_journal_commit(s->j) == 0 ? 0 : NOID_ERR_IO;
}

/* Current counters. */
void
relay_server_stats(struct relay_server *s, struct relay_server_stats *st)
{
	*st = s->st;
	st->conns_now = s->nconns;
	st->queues = relay_queue_count(s->qs);
	st->msgs_pending = relay_queue_msg_count(s->qs);
}

/* Close every connection and listener. */
void
relay_server_free(struct relay_server *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->byfd_len; i++)
		if (s->byfd[i] != NULL)
			conn_free(s, s->byfd[i]);
	free(s->byfd);
	for (i = 0; i < s->nlisten; i++)
		close(s->lfd[i]);
	if (s->ep >= 0)
		close(s->ep);
	if (s->sigpipe[0] >= 0) {
		close(s->sigpipe[0]);
		close(s->sigpipe[1]);
	}
	if (rs_sig_fd == s->sigpipe[1])
		rs_sig_fd = -1;
	free(s);
}
