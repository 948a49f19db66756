/*
 * ctl-client: `noid COMMAND` handing its command to the running instance.
 *
 * When a TUI or daemon holds the data dir, a second process must not
 * open the database; it sends its argument vector (and stdin, when the
 * command reads it) over DIR/noid.sock and copies the answer's frames to
 * its own stdout and stderr.  This side is a short-lived process that
 * does nothing else, so it simply blocks on the socket.
 */
#include "client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fill a sockaddr_un for DIR/noid.sock; NOID_ERR_TOOBIG if it won't fit. */
int
ctl_socket_addr(const char *dir, struct sockaddr_un *sun)
{
	char *path = path_join(dir, CTL_SOCKET_NAME);
	int rc = 0;

	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path)
		rc = NOID_ERR_TOOBIG;
	else
		memcpy(sun->sun_path, path, strlen(path) + 1);
	free(path);
	return rc;
}

/* Write all of p to fd. */
static int
ctl_write_all(int fd, const void *p, size_t len)
{
	const uint8_t *q = p;
	ssize_t n;

	while (len > 0) {
		n = write(fd, q, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NOID_ERR_IO;
		q += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Connect to the instance on dir; -1 when nobody answers. */
static int
ctl_client_connect(const char *dir)
{
	struct sockaddr_un sun;
	struct ucred cred;
	socklen_t clen = sizeof cred;
	int fd;

	if (ctl_socket_addr(dir, &sun) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) != 0)
		goto fail;
	/* Only talk to an instance run by our own user. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 ||
	    cred.uid != getuid())
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Whether an instance of our user answers on dir's control socket. */
int
ctl_instance_alive(const char *dir)
{
	int fd = ctl_client_connect(dir);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Run req on the running instance. */
int
ctl_client_run(const char *dir, const struct ctl_request *req, int *exit_code)
{
	struct buf b;
	const uint8_t *body;
	size_t bodylen, used;
	ssize_t n;
	int fd, type, r, rc = NOID_ERR_NOENT;

	*exit_code = EXIT_USER;
	buf_init(&b);
	if ((fd = ctl_client_connect(dir)) < 0)
		goto out;
	ctl_request_encode(&b, req);
	if (ctl_write_all(fd, b.data, b.len) != 0)
		goto out;
	/* From here on the instance has the command: never run it twice. */
	rc = 0;
	buf_reset(&b);
	for (;;) {
		while ((r = ctl_frame_get(b.data, b.len, &type, &body, &bodylen,
		            &used)) == 1) {
			if (type == CTL_FRAME_EXIT) {
				*exit_code = (int)be32_get(body);
				goto out;
			}
			ctl_write_all(
			    type == CTL_FRAME_OUT ? 1 : 2, body, bodylen);
			buf_consume(&b, used);
		}
		if (r < 0)
			break;
		buf_reserve(&b, 65536);
		n = read(fd, b.data + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b.len += (size_t)n;
	}
	fprintf(stderr,
	    "noid: the running noid instance closed the control "
	    "connection before the command finished\n");
out:
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	return rc;
}
