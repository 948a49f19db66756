/*
 * base-err: the project's error codes as words a user can act on.
 */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

struct err_entry {
	int code;
	const char *name;
	const char *text;
};

static const struct err_entry err_table[] = {
    {NOID_OK, "OK", "success"},
    {NOID_ERR_INTERNAL, "INTERNAL",
        "internal error (a bug in noid; please report it)"},
    {NOID_ERR_IO, "IO",
        "input/output error (check disk space and "
        "permissions)"},
    {NOID_ERR_INVAL, "INVAL", "invalid input"},
    {NOID_ERR_PROTO, "PROTO", "the peer broke the protocol"},
    {NOID_ERR_AUTH, "AUTH", "authentication failed"},
    {NOID_ERR_NOENT, "NOENT", "not found"},
    {NOID_ERR_EXISTS, "EXISTS", "already exists"},
    {NOID_ERR_QUOTA, "QUOTA",
        "the queue is full; the message will go when the recipient "
        "catches up"},
    {NOID_ERR_TOOBIG, "TOOBIG", "too large"},
    {NOID_ERR_CRYPTO, "CRYPTO", "decryption or verification failed"},
    {NOID_ERR_AGAIN, "AGAIN", "try again later"},
    {NOID_ERR_CLOSED, "CLOSED", "connection closed"},
    {NOID_ERR_TIMEOUT, "TIMEOUT", "timed out"},
    {NOID_ERR_VERSION, "VERSION",
        "no common version (upgrade noid on one side)"},
    {NOID_ERR_LOCKED, "LOCKED",
        "the data directory is in use by another noid process"},
    {NOID_ERR_PASSWORD, "PASSWORD", "wrong password"},
    {NOID_ERR_CORRUPT, "CORRUPT",
        "stored data is damaged or was tampered with"},
    {NOID_ERR_LIMIT, "LIMIT", "the server is at its limit; try again later"},
    {NOID_ERR_BLOCKED, "BLOCKED", "refused: a valid access key is needed"},
    {NOID_ERR_DUPLICATE, "DUPLICATE", "duplicate; ignored"},
    {NOID_ERR_EXPIRED, "EXPIRED", "expired or already used"},
    {NOID_ERR_KEY, "KEY",
        "the relay's key does not match its address (wrong address, "
        "or someone is intercepting the connection)"},
    {NOID_ERR_STATE, "STATE", "not possible in the current state"},
};

static const struct err_entry *
err_find(int err)
{
	size_t i;

	for (i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
		if (err_table[i].code == err)
			return &err_table[i];
	return NULL;
}

/* A sentence for an error code, for users. */
const char *
noid_strerror(int err)
{
	const struct err_entry *e = err_find(err);

	return e != NULL ? e->text : "unknown error";
}

/* The short name of an error code. */
const char *
noid_errname(int err)
{
	const struct err_entry *e = err_find(err);

	return e != NULL ? e->name : "UNKNOWN";
}

/* Report an impossible state and abort. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	fputs("noid: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
