/*
 * ctl-server: a running instance (TUI or daemon) serving other `noid`
 * processes on DIR/noid.sock.
 *
 * Only the holder of the data dir's lock opens the database, so commands
 * typed in another shell come here and run on the open store and agent,
 * inside the one poll loop.  The socket is mode 0600 in a 0700 directory
 * and the peer's uid is checked as well.  Each connection carries one
 * request; the command's output is framed back as it is produced (so
 * `read --follow` streams) and the connection closes after the EXIT
 * frame.  A caller that goes away cancels its pending command.
 */
#include "client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct ctl_conn {
	struct ctl_server *srv;
	int fd;
	struct buf in;
	struct buf out;
	struct ctl_request req;
	struct cli_ctx ctx;
	int running; /* the request was read and handed over */
	int closing; /* EXIT queued: close once out is flushed */
	struct ctl_conn *next;
};

struct ctl_server {
	struct app_loop *loop;
	int fd;
	char *path;
	ctl_server_exec_cb exec;
	void *arg;
	struct ctl_conn *conns;
};

static void ctl_server_conn_io(int fd, short revents, void *arg);

/* Unlink c from the server and free it, cancelling its command. */
static void
ctl_server_conn_free(struct ctl_conn *c)
{
	struct ctl_conn **pp;

	for (pp = &c->srv->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->running && !c->ctx.finished && c->ctx.cancel != NULL)
		c->ctx.cancel(&c->ctx);
	app_loop_fd_del(c->srv->loop, c->fd);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c->ctx.argv);
	ctl_request_clear(&c->req);
	free(c);
}

/* Queue bytes for the caller and ask to be told when writable. */
static void
ctl_server_queue(struct ctl_conn *c)
{
	app_loop_fd_set(c->srv->loop, c->fd,
	    POLLIN | (c->out.len ? POLLOUT : 0), ctl_server_conn_io, c);
}

/* cli_ctx writer: frame the command's output. */
static void
ctl_server_write(struct cli_ctx *ctx, int fd, const void *p, size_t len)
{
	struct ctl_conn *c = ctx->arg;
	const uint8_t *q = p;
	size_t chunk;

	while (len > 0) {
		chunk = len > CTL_FRAME_MAX ? CTL_FRAME_MAX : len;
		ctl_frame_put(
		    &c->out, fd == 2 ? CTL_FRAME_ERR : CTL_FRAME_OUT, q, chunk);
		q += chunk;
		len -= chunk;
	}
	ctl_server_queue(c);
}

/* cli_ctx done: the EXIT frame, then close when flushed. */
static void
ctl_server_done(struct cli_ctx *ctx, int code)
{
	struct ctl_conn *c = ctx->arg;
	uint8_t v[4];

	be32_put(v, (uint32_t)code);
	ctl_frame_put(&c->out, CTL_FRAME_EXIT, v, 4);
	c->closing = 1;
	ctl_server_queue(c);
}

/* Have we a whole request?  Then run it. */
static int
ctl_server_try_request(struct ctl_conn *c)
{
	uint32_t len;
	int rc;

	if (c->in.len < 4)
		return 0;
	len = be32_get(c->in.data);
	if (len > CTL_REQUEST_MAX)
		return NOID_ERR_TOOBIG;
	if (c->in.len - 4 < len)
		return 0;
	if ((rc = ctl_request_decode(c->in.data + 4, len, &c->req)) != 0)
		return rc;
	c->running = 1;
	c->ctx.write = ctl_server_write;
	c->ctx.done = ctl_server_done;
	c->ctx.arg = c;
	c->srv->exec(c->srv->arg, &c->req, &c->ctx);
	return 0;
}

/* Readable or writable connection. */
static void
ctl_server_conn_io(int fd, short revents, void *arg)
{
	struct ctl_conn *c = arg;
	ssize_t n;

	if (revents & POLLOUT) {
		n = write(fd, c->out.data, c->out.len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			ctl_server_conn_free(c);
			return;
		}
		if (n > 0)
			buf_consume(&c->out, (size_t)n);
		if (c->out.len == 0 && c->closing) {
			ctl_server_conn_free(c);
			return;
		}
		ctl_server_queue(c);
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	buf_reserve(&c->in, 65536);
	n = read(fd, c->in.data + c->in.len, c->in.cap - c->in.len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The caller went away (^C on `read --follow`). */
		ctl_server_conn_free(c);
		return;
	}
	if (c->running)
		return; /* one request per connection; extra bytes ignored */
	c->in.len += (size_t)n;
	if (ctl_server_try_request(c) != 0)
		ctl_server_conn_free(c);
}

/* A new caller. */
static void
ctl_server_accept(int fd, short revents, void *arg)
{
	struct ctl_server *srv = arg;
	struct ctl_conn *c;
	struct ucred cred;
	socklen_t clen = sizeof cred;
	int cfd;

	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != getuid()) {
		close(cfd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->fd = cfd;
	buf_init(&c->in);
	buf_init(&c->out);
	c->next = srv->conns;
	srv->conns = c;
	app_loop_fd_set(srv->loop, cfd, POLLIN, ctl_server_conn_io, c);
}

/* Listen on DIR/noid.sock. */
int
ctl_server_start(struct app_loop *loop, const char *dir,
    ctl_server_exec_cb exec, void *arg, struct ctl_server **out)
{
	struct ctl_server *srv;
	struct sockaddr_un sun;
	mode_t old;
	int fd, rc;

	*out = NULL;
	if ((rc = ctl_socket_addr(dir, &sun)) != 0)
		return rc;
	if ((fd = socket(
	         AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return NOID_ERR_IO;
	/* We hold the data dir's lock: a socket file left there is stale. */
	unlink(sun.sun_path);
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (rc != 0 || listen(fd, 16) != 0) {
		close(fd);
		return NOID_ERR_IO;
	}
	srv = xcalloc(1, sizeof *srv);
	srv->loop = loop;
	srv->fd = fd;
	srv->path = xstrdup(sun.sun_path);
	srv->exec = exec;
	srv->arg = arg;
	app_loop_fd_set(loop, fd, POLLIN, ctl_server_accept, srv);
	*out = srv;
	return 0;
}

/* Close every connection, remove the socket, free. */
void
ctl_server_stop(struct ctl_server *srv)
{
	if (srv == NULL)
		return;
	while (srv->conns != NULL)
		ctl_server_conn_free(srv->conns);
	app_loop_fd_del(srv->loop, srv->fd);
	close(srv->fd);
	unlink(srv->path);
	free(srv->path);
	free(srv);
}
