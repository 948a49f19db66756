/*
 * base-alloc: the x*alloc family (abort on exhaustion, so callers never
 * handle NULL) and secret memory in sodium_malloc pages.
 */
#include "base.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Allocate size bytes or abort. */
void *
xmalloc(size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		fatalx("out of memory (%zu bytes)", size);
	return p;
}

/* Allocate a zeroed array or abort; overflow-checked. */
void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	if ((p = calloc(nmemb, size)) == NULL)
		fatalx("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

/* Resize or abort. */
void *
xrealloc(void *ptr, size_t size)
{
	void *p;

	if (size == 0)
		size = 1;
	if ((p = realloc(ptr, size)) == NULL)
		fatalx("out of memory (%zu bytes)", size);
	return p;
}

/* Resize an array or abort; overflow-checked. */
void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		fatalx("allocation overflow (%zu x %zu)", nmemb, size);
	return xrealloc(ptr, nmemb * size);
}

/* Duplicate a string or abort. */
char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

/* Duplicate bytes or abort. */
void *
xmemdup(const void *p, size_t len)
{
	void *q = xmalloc(len);

	if (len != 0)
		memcpy(q, p, len);
	return q;
}

/* Format into a new string (caller frees); returns its length. */
int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int n;

	if ((n = vasprintf(ret, fmt, ap)) < 0 || *ret == NULL)
		fatalx("out of memory (vasprintf)");
	return n;
}

/* Format into a new string (caller frees); returns its length. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return n;
}

/* Allocate guarded, locked memory for secrets, or abort. */
void *
secret_alloc(size_t size)
{
	void *p;

	if (sodium_init() < 0)
		fatalx("libsodium failed to initialise");
	if ((p = sodium_malloc(size == 0 ? 1 : size)) == NULL)
		fatalx("out of secure memory (%zu bytes)", size);
	sodium_memzero(p, size == 0 ? 1 : size);
	return p;
}

/* Wipe and free secret memory. */
void
secret_free(void *p)
{
	if (p != NULL)
		sodium_free(p);
}

/* Constant-time comparison; 0 when equal. */
int
ct_memcmp(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0 ? 0 : 1;
}
