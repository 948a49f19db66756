/*
 * base-buf: a growable byte buffer for building messages, and a sticky,
 * bounds-checked reader for parsing untrusted bytes without ever reading
 * past the end.
 */
#include "base.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Start an empty buffer. */
void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Release a buffer's memory. */
void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Wipe and release a buffer that held secrets. */
void
buf_free_secret(struct buf *b)
{
	if (b->data != NULL)
		sodium_memzero(b->data, b->cap);
	buf_free(b);
}

/* Empty a buffer, keeping its memory. */
void
buf_reset(struct buf *b)
{
	b->len = 0;
}

/* Make room for extra more bytes. */
void
buf_reserve(struct buf *b, size_t extra)
{
	size_t want;

	if (extra > SIZE_MAX - b->len)
		fatalx("buffer overflow");
	want = b->len + extra;
	if (want <= b->cap)
		return;
	if (b->cap < 64)
		b->cap = 64;
	while (b->cap < want)
		b->cap = b->cap > SIZE_MAX / 2 ? want : b->cap * 2;
	b->data = xrealloc(b->data, b->cap);
}

/* Append len uninitialised bytes and return where they start. */
uint8_t *
buf_append_space(struct buf *b, size_t len)
{
	uint8_t *p;

	buf_reserve(b, len);
	p = b->data + b->len;
	b->len += len;
	return p;
}

/* Append bytes. */
void
buf_put(struct buf *b, const void *p, size_t len)
{
	if (len != 0)
		memcpy(buf_append_space(b, len), p, len);
}

/* Append one byte. */
void
buf_put_u8(struct buf *b, uint8_t v)
{
	*buf_append_space(b, 1) = v;
}

/* Append a big-endian 16-bit integer. */
void
buf_put_u16(struct buf *b, uint16_t v)
{
	be16_put(buf_append_space(b, 2), v);
}

/* Append a big-endian 32-bit integer. */
void
buf_put_u32(struct buf *b, uint32_t v)
{
	be32_put(buf_append_space(b, 4), v);
}

/* Append a big-endian 64-bit integer. */
void
buf_put_u64(struct buf *b, uint64_t v)
{
	be64_put(buf_append_space(b, 8), v);
}

/* Append a 1-byte length and the bytes. */
void
buf_put_short(struct buf *b, const void *p, size_t len)
{
	if (len > 255)
		fatalx("short string too long (%zu)", len);
	buf_put_u8(b, (uint8_t)len);
	buf_put(b, p, len);
}

/* Append a 2-byte length and the bytes. */
void
buf_put_long(struct buf *b, const void *p, size_t len)
{
	if (len > 65535)
		fatalx("long string too long (%zu)", len);
	buf_put_u16(b, (uint16_t)len);
	buf_put(b, p, len);
}

/* Drop the first n bytes. */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

/* Start reading len borrowed bytes. */
void
reader_init(struct reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

/* Bytes not yet read. */
size_t
reader_left(const struct reader *r)
{
	return r->err != 0 ? 0 : r->len - r->off;
}

/* Take n bytes if they are there; sticky failure otherwise. */
static const uint8_t *
reader_take(struct reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err != 0)
		return NULL;
	if (n > r->len - r->off) {
		r->err = NOID_ERR_PROTO;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

/* Read one byte. */
int
reader_u8(struct reader *r, uint8_t *v)
{
	const uint8_t *p = reader_take(r, 1);

	if (p == NULL)
		return NOID_ERR_PROTO;
	*v = p[0];
	return 0;
}

/* Read a big-endian 16-bit integer. */
int
reader_u16(struct reader *r, uint16_t *v)
{
	const uint8_t *p = reader_take(r, 2);

	if (p == NULL)
		return NOID_ERR_PROTO;
	*v = be16_get(p);
	return 0;
}

/* Read a big-endian 32-bit integer. */
int
reader_u32(struct reader *r, uint32_t *v)
{
	const uint8_t *p = reader_take(r, 4);

	if (p == NULL)
		return NOID_ERR_PROTO;
	*v = be32_get(p);
	return 0;
}

/* Read a big-endian 64-bit integer. */
int
reader_u64(struct reader *r, uint64_t *v)
{
	const uint8_t *p = reader_take(r, 8);

	if (p == NULL)
		return NOID_ERR_PROTO;
	*v = be64_get(p);
	return 0;
}

/* Copy exactly len bytes. */
int
reader_bytes(struct reader *r, void *out, size_t len)
{
	const uint8_t *p = reader_take(r, len);

	if (p == NULL)
		return NOID_ERR_PROTO;
	if (len != 0)
		memcpy(out, p, len);
	return 0;
}

/* Borrow exactly len bytes. */
int
reader_ref(struct reader *r, const uint8_t **out, size_t len)
{
	const uint8_t *p = reader_take(r, len);

	if (p == NULL)
		return NOID_ERR_PROTO;
	*out = p;
	return 0;
}

/* Borrow a string with a 1-byte length. */
int
reader_short(struct reader *r, const uint8_t **out, size_t *len)
{
	uint8_t n;

	if (reader_u8(r, &n) != 0)
		return NOID_ERR_PROTO;
	*len = n;
	return reader_ref(r, out, n);
}

/* Borrow a string with a 2-byte length. */
int
reader_long(struct reader *r, const uint8_t **out, size_t *len)
{
	uint16_t n;

	if (reader_u16(r, &n) != 0)
		return NOID_ERR_PROTO;
	*len = n;
	return reader_ref(r, out, n);
}

/* Succeed only if every byte was read and nothing failed. */
int
reader_done(const struct reader *r)
{
	if (r->err != 0 || r->off != r->len)
		return NOID_ERR_PROTO;
	return 0;
}

/* Store 16 bits big-endian. */
void
be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Store 32 bits big-endian. */
void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Store 64 bits big-endian. */
void
be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

/* Load 16 bits big-endian. */
uint16_t
be16_get(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* Load 32 bits big-endian. */
uint32_t
be32_get(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

/* Load 64 bits big-endian. */
uint64_t
be64_get(const uint8_t *p)
{
	return ((uint64_t)be32_get(p) << 32) | be32_get(p + 4);
}
