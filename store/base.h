/*
 * noid — base: the bottom of the stack, shared by every program.
 *
 * The project's one error enum, the x*alloc family (allocation failure
 * aborts), secret memory (sodium_malloc, wiped on free), a growable byte
 * buffer and a bounds-checked reader for wire formats, base32/hex, and
 * small file-system helpers.  It lives in store/ because store/ is the
 * lowest layer (DESIGN §2: arrows point down only) and the top level of
 * the tree is fixed; net/, sync/ and tui/ all build on it.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_BASE_H
#define NOID_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every function that can fail returns 0 or one of these (negative).
 * noid_strerror() gives a sentence a user can act on.
 */
enum noid_err {
	NOID_OK = 0,
	NOID_ERR_INTERNAL = -1, /* a bug: an invariant did not hold */
	NOID_ERR_IO = -2, /* read/write/fsync failed; errno kept */
	NOID_ERR_INVAL = -3, /* bad argument or malformed input */
	NOID_ERR_PROTO = -4, /* peer broke the protocol */
	NOID_ERR_AUTH = -5, /* authentication failed (or no such queue) */
	NOID_ERR_NOENT = -6, /* no such thing */
	NOID_ERR_EXISTS = -7, /* already exists */
	NOID_ERR_QUOTA = -8, /* queue full: wait for the resume signal */
	NOID_ERR_TOOBIG = -9, /* length over a limit */
	NOID_ERR_CRYPTO = -10, /* decryption or verification failed */
	NOID_ERR_AGAIN = -11, /* would block: try when the fd is ready */
	NOID_ERR_CLOSED = -12, /* connection closed by the peer */
	NOID_ERR_TIMEOUT = -13, /* peer too slow */
	NOID_ERR_VERSION = -14, /* no common protocol / schema version */
	NOID_ERR_LOCKED = -15, /* data dir locked by another process */
	NOID_ERR_PASSWORD = -16, /* wrong password */
	NOID_ERR_CORRUPT = -17, /* stored data damaged or tampered with */
	NOID_ERR_LIMIT = -18, /* server limit reached (connections, ...) */
	NOID_ERR_BLOCKED = -19, /* refused by policy (access key, ...) */
	NOID_ERR_DUPLICATE = -20, /* already seen; dropped */
	NOID_ERR_EXPIRED = -21, /* invitation or secret expired/used */
	NOID_ERR_KEY = -22, /* relay key mismatch in handshake */
	NOID_ERR_STATE = -23, /* operation not valid in this state */
	NOID_ERR_LAST = -24
};

/* A sentence for an error code, for users; never NULL. */
const char *noid_strerror(int err);

/* Short upper-case name of an error code ("QUOTA"), never NULL. */
const char *noid_errname(int err);

/* Allocation: these abort with a message when memory runs out. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
void *xmemdup(const void *p, size_t len);
int xasprintf(char **ret, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int xvasprintf(char **ret, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Secret memory: guarded sodium_malloc pages, locked where possible,
 * wiped on free.  secret_free(NULL) is a no-op.
 */
void *secret_alloc(size_t size);
void secret_free(void *p);

/* Print "noid: <message>" to stderr and abort(); for impossible states. */
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));

/*
 * A growable byte buffer (caller owns; buf_free releases).  Appends
 * never fail (x*alloc).  buf_free_secret wipes before freeing.
 */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_free_secret(struct buf *b);
void buf_reset(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
uint8_t *buf_append_space(struct buf *b, size_t len);
void buf_put(struct buf *b, const void *p, size_t len);
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u16(struct buf *b, uint16_t v);
void buf_put_u32(struct buf *b, uint32_t v);
void buf_put_u64(struct buf *b, uint64_t v);
/* One length byte then the bytes; len must be <= 255. */
void buf_put_short(struct buf *b, const void *p, size_t len);
/* Two length bytes (big-endian) then the bytes; len must be <= 65535. */
void buf_put_long(struct buf *b, const void *p, size_t len);
/* Remove the first n bytes. */
void buf_consume(struct buf *b, size_t n);

/*
 * A bounds-checked reader over borrowed bytes.  Every get checks the
 * remaining length first; after the first failure the reader is sticky
 * (err set, every later get fails) so parsers can check once at the end.
 */
struct reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

void reader_init(struct reader *r, const void *p, size_t len);
size_t reader_left(const struct reader *r);
int reader_u8(struct reader *r, uint8_t *v);
int reader_u16(struct reader *r, uint16_t *v);
int reader_u32(struct reader *r, uint32_t *v);
int reader_u64(struct reader *r, uint64_t *v);
/* Copy exactly len bytes out. */
int reader_bytes(struct reader *r, void *out, size_t len);
/* Borrow len bytes (pointer into the input). */
int reader_ref(struct reader *r, const uint8_t **out, size_t len);
/* Short (1-byte length) and long (2-byte length) strings, borrowed. */
int reader_short(struct reader *r, const uint8_t **out, size_t *len);
int reader_long(struct reader *r, const uint8_t **out, size_t *len);
/* NOID_OK when everything was consumed and no get failed. */
int reader_done(const struct reader *r);

/* Big-endian load/store. */
void be16_put(uint8_t *p, uint16_t v);
void be32_put(uint8_t *p, uint32_t v);
void be64_put(uint8_t *p, uint64_t v);
uint16_t be16_get(const uint8_t *p);
uint32_t be32_get(const uint8_t *p);
uint64_t be64_get(const uint8_t *p);

/*
 * RFC 4648 base32, upper case, no padding (stays in the QR alphanumeric
 * set).  base32_encode returns a NUL-terminated string (caller frees).
 * base32_decode accepts upper or lower case, rejects anything else,
 * and returns the number of bytes written or a negative error.
 */
char *base32_encode(const void *p, size_t len);
size_t base32_encoded_len(size_t len);
int base32_decode(
    const char *s, size_t slen, uint8_t *out, size_t outcap, size_t *outlen);

/* Lower-case hex; hex_encode returns a string the caller frees. */
char *hex_encode(const void *p, size_t len);
int hex_decode(const char *s, uint8_t *out, size_t outlen);

/* Base64url without padding (for fingerprints and config files). */
char *b64url_encode(const void *p, size_t len);
int b64url_decode(const char *s, uint8_t *out, size_t outcap, size_t *outlen);

/*
 * Files and directories.
 * path_join returns a new string (caller frees).
 * dir_make_private creates DIR and its parents; DIR itself gets mode 0700.
 * file_write_atomic writes via a temp file + fsync + rename + dir fsync.
 * file_read_all reads a whole file up to max bytes (caller frees *out).
 */
char *path_join(const char *a, const char *b);
int dir_make_private(const char *dir);
int file_write_atomic(const char *path, const void *p, size_t len, int mode);
int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len);
int fsync_dir_of(const char *path);

/*
 * XDG base directories: xdg_dir("XDG_DATA_HOME", ".local/share", "noid")
 * gives $XDG_DATA_HOME/noid or $HOME/.local/share/noid (caller frees).
 */
char *xdg_dir(const char *env, const char *fallback, const char *app);

/* Monotonic and wall clocks. */
uint64_t clock_mono_ms(void);
uint64_t clock_mono_us(void);
uint64_t clock_wall_ms(void);

/* Set O_NONBLOCK and FD_CLOEXEC. */
int fd_set_nonblock(int fd);
int fd_set_cloexec(int fd);

/* Disable core dumps (the client holds keys in memory). */
void process_no_core(void);

/* Constant-time compare; 0 when equal. */
int ct_memcmp(const void *a, const void *b, size_t len);

#endif
