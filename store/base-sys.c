/*
 * base-sys: files, directories, clocks and process settings shared by
 * both programs.  Writes that matter are atomic (temp + fsync + rename +
 * directory fsync) so a crash leaves the old or the new file, never half.
 */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Join two path parts with one slash (caller frees). */
char *
path_join(const char *a, const char *b)
{
	char *out;
	size_t la = strlen(a);

	if (la > 0 && a[la - 1] == '/')
		xasprintf(&out, "%s%s", a, b);
	else
		xasprintf(&out, "%s/%s", a, b);
	return out;
}

/* Create dir and parents; the leaf gets mode 0700. */
int
dir_make_private(const char *dir)
{
	char *tmp = xstrdup(dir), *p;
	int rc = 0;

	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
			rc = NOID_ERR_IO;
			goto out;
		}
		*p = '/';
	}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		rc = NOID_ERR_IO;
out:
	free(tmp);
	return rc;
}

/* fsync the directory holding path, so a rename is durable. */
int
fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = NOID_ERR_IO;
	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

/* Write a whole file atomically with the given mode. */
int
file_write_atomic(const char *path, const void *p, size_t len, int mode)
{
	char *tmp;
	const uint8_t *q = p;
	ssize_t n;
	int fd, rc = NOID_ERR_IO;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		goto out;
	while (len > 0) {
		if ((n = write(fd, q, len)) < 0) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		q += n;
		len -= (size_t)n;
	}
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	rc = fsync_dir_of(path);
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Read a whole file of at most max bytes (caller frees *out). */
int
file_read_all(const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct buf b;
	ssize_t n;
	int fd, rc = 0;

	buf_init(&b);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? NOID_ERR_NOENT : NOID_ERR_IO;
	for (;;) {
		buf_reserve(&b, 4096);
		n = read(fd, b.data + b.len, b.cap - b.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = NOID_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > max) {
			rc = NOID_ERR_TOOBIG;
			goto out;
		}
	}
	buf_put_u8(&b, 0); /* NUL for text callers; not counted */
	*out = b.data;
	*len = b.len - 1;
	b.data = NULL;
out:
	close(fd);
	buf_free(&b);
	return rc;
}

/* An XDG base directory for app (caller frees). */
char *
xdg_dir(const char *env, const char *fallback, const char *app)
{
	const char *base = getenv(env), *home;
	char *root, *out;

	if (base != NULL && base[0] == '/')
		return path_join(base, app);
	if ((home = getenv("HOME")) == NULL || home[0] == '\0')
		home = "/tmp";
	root = path_join(home, fallback);
	out = path_join(root, app);
	free(root);
	return out;
}

/* Milliseconds on the monotonic clock. */
uint64_t
clock_mono_ms(void)
{
	return clock_mono_us() / 1000;
}

/* Microseconds on the monotonic clock. */
uint64_t
clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Milliseconds since the epoch. */
uint64_t
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Make fd non-blocking and close-on-exec. */
int
fd_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return NOID_ERR_IO;
	return fd_set_cloexec(fd);
}

/* Make fd close-on-exec. */
int
fd_set_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return NOID_ERR_IO;
	return 0;
}

/* No core dumps and no ptrace by other users' tools: keys live here. */
void
process_no_core(void)
{
	struct rlimit rl = {0, 0};

	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
