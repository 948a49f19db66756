/*
 * cli-pass: where the password comes from.
 *
 * Scripts and tests never see a prompt: --password-file or NOID_PASSWORD
 * win.  Otherwise the user is asked on the controlling terminal with
 * echo off (restored on every path, including a signal).  Passwords live
 * in secret memory, wiped when freed.
 */
#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Copy s (len bytes) into new secret memory as a C string. */
static char *
cli_secret_dup(const char *s, size_t len)
{
	char *out = secret_alloc(len + 1);

	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

/* Read one line from fd (no stdio buffering of secrets). */
static int
cli_read_line(int fd, char **out)
{
	char *buf = secret_alloc(CLI_PASSWORD_MAX + 2);
	size_t len = 0;
	ssize_t n;
	char c;
	int rc = 0;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = NOID_ERR_IO;
			goto out;
		}
		if (n == 0 || c == '\n')
			break;
		if (len > CLI_PASSWORD_MAX) {
			rc = NOID_ERR_TOOBIG;
			goto out;
		}
		buf[len++] = c;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	*out = cli_secret_dup(buf, len);
out:
	secret_free(buf);
	return rc;
}

/* Prompt on the terminal; echo off for secrets.  NOENT without a tty. */
int
cli_prompt(const char *prompt, int secret, char **out)
{
	struct termios old, raw;
	int fd, rc, restore = 0;

	*out = NULL;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return NOID_ERR_NOENT;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		rc = NOID_ERR_IO;
		goto out;
	}
	if (secret && tcgetattr(fd, &old) == 0) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		raw.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &raw) == 0)
			restore = 1;
	}
	rc = cli_read_line(fd, out);
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0)
			rc = rc ? rc : NOID_ERR_IO;
	}
out:
	close(fd);
	return rc;
}

/* The password: from file, NOID_PASSWORD, or a prompt. */
int
cli_password(const char *file, const char *prompt, char **out)
{
	const char *env;
	int fd, rc;

	*out = NULL;
	if (file != NULL) {
		if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
			return NOID_ERR_NOENT;
		rc = cli_read_line(fd, out);
		close(fd);
		return rc;
	}
	if ((env = getenv("NOID_PASSWORD")) != NULL) {
		if (strlen(env) > CLI_PASSWORD_MAX)
			return NOID_ERR_TOOBIG;
		*out = cli_secret_dup(env, strlen(env));
		return 0;
	}
	return cli_prompt(prompt, 1, out);
}

/* A new password: env var, else prompted twice.  Empty means none. */
int
cli_password_new(const char *env_name, char **out)
{
	const char *env = getenv(env_name);
	char *again = NULL;
	int rc;

	*out = NULL;
	if (env != NULL) {
		if (strlen(env) > CLI_PASSWORD_MAX)
			return NOID_ERR_TOOBIG;
		*out = cli_secret_dup(env, strlen(env));
		return 0;
	}
	if ((rc = cli_prompt("New password: ", 1, out)) != 0)
		return rc;
	if ((rc = cli_prompt("Repeat it: ", 1, &again)) != 0)
		goto out;
	if (strcmp(*out, again) != 0)
		rc = NOID_ERR_AUTH;
out:
	secret_free(again);
	if (rc != 0) {
		secret_free(*out);
		*out = NULL;
	}
	return rc;
}
