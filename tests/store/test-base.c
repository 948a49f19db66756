/*
 * Tests for store/base-*: buffers, the sticky reader, encodings, files.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

Test(base, reader_is_sticky_and_bounds_checked)
{
	const uint8_t in[] = {0x01, 0x02, 0x03};
	struct reader r;
	uint16_t v16;
	uint32_t v32;
	uint8_t v8;

	reader_init(&r, in, sizeof in);
	cr_assert_eq(reader_u16(&r, &v16), 0);
	cr_assert_eq(v16, 0x0102);
	cr_assert_neq(reader_u32(&r, &v32), 0);
	/* After a failure every read fails, even one that would fit. */
	cr_assert_neq(reader_u8(&r, &v8), 0);
	cr_assert_neq(reader_done(&r), 0);
}

Test(base, short_and_long_strings_round_trip)
{
	struct buf b;
	struct reader r;
	const uint8_t *p;
	size_t len;

	buf_init(&b);
	buf_put_short(&b, "abc", 3);
	buf_put_long(&b, "hello", 5);
	buf_put_u64(&b, 0x1122334455667788ull);
	reader_init(&r, b.data, b.len);
	cr_assert_eq(reader_short(&r, &p, &len), 0);
	cr_assert_eq(len, 3);
	cr_assert(memcmp(p, "abc", 3) == 0);
	cr_assert_eq(reader_long(&r, &p, &len), 0);
	cr_assert_eq(len, 5);
	uint64_t v;
	cr_assert_eq(reader_u64(&r, &v), 0);
	cr_assert_eq(v, 0x1122334455667788ull);
	cr_assert_eq(reader_done(&r), 0);
	buf_free(&b);
}

Test(base, long_string_length_past_end_is_rejected)
{
	const uint8_t in[] = {0x00, 0x09, 'a', 'b'};
	struct reader r;
	const uint8_t *p;
	size_t len;

	reader_init(&r, in, sizeof in);
	cr_assert_eq(reader_long(&r, &p, &len), NOID_ERR_PROTO);
}

Test(base, base32_rfc4648_vectors)
{
	static const char *plain[] = {
	    "", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *enc[] = {
	    "", "MY", "MZXQ", "MZXW6", "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI"};
	uint8_t out[16];
	size_t n, i;

	for (i = 0; i < 7; i++) {
		char *e = base32_encode(plain[i], strlen(plain[i]));
		cr_assert_str_eq(e, enc[i]);
		cr_assert_eq(
		    base32_decode(e, strlen(e), out, sizeof out, &n), 0);
		cr_assert_eq(n, strlen(plain[i]));
		cr_assert(memcmp(out, plain[i], n) == 0);
		free(e);
	}
}

Test(base, base32_rejects_bad_text)
{
	uint8_t out[16];
	size_t n;

	cr_assert_eq(
	    base32_decode("MY1", 3, out, sizeof out, &n), NOID_ERR_INVAL);
	cr_assert_eq(base32_decode("MZ", 2, out, sizeof out, &n),
	    NOID_ERR_INVAL); /* non-zero trailing bits */
	cr_assert_eq(
	    base32_decode("MZXW6YTBOI", 10, out, 2, &n), NOID_ERR_TOOBIG);
}

Test(base, hex_and_b64url_round_trip)
{
	const uint8_t in[5] = {0, 1, 0xfe, 0xff, 0x80};
	uint8_t out[8];
	size_t n;
	char *h = hex_encode(in, sizeof in), *b = b64url_encode(in, sizeof in);

	cr_assert_str_eq(h, "0001feff80");
	cr_assert_eq(hex_decode(h, out, 5), 0);
	cr_assert(memcmp(in, out, 5) == 0);
	cr_assert_neq(hex_decode("0g", out, 1), 0);
	cr_assert_eq(b64url_decode(b, out, sizeof out, &n), 0);
	cr_assert_eq(n, 5);
	cr_assert(memcmp(in, out, 5) == 0);
	cr_assert_neq(b64url_decode("@@", out, sizeof out, &n), 0);
	free(h);
	free(b);
}

Test(base, atomic_write_then_read)
{
	char dir[] = "/tmp/noid-test-XXXXXX";
	uint8_t *data;
	size_t len;
	char *sub, *path;

	cr_assert_not_null(mkdtemp(dir));
	sub = path_join(dir, "a/b/c");
	cr_assert_eq(dir_make_private(sub), 0);
	path = path_join(sub, "f");
	cr_assert_eq(file_write_atomic(path, "hello", 5, 0600), 0);
	cr_assert_eq(file_read_all(path, 100, &data, &len), 0);
	cr_assert_eq(len, 5);
	cr_assert_str_eq((char *)data, "hello");
	free(data);
	cr_assert_eq(file_read_all(path, 3, &data, &len), NOID_ERR_TOOBIG);
	unlink(path);
	cr_assert_eq(file_read_all(path, 3, &data, &len), NOID_ERR_NOENT);
	free(path);
	free(sub);
}

Test(base, every_error_has_words)
{
	int e;

	for (e = NOID_OK; e > NOID_ERR_LAST; e--) {
		cr_assert_str_neq(
		    noid_strerror(e), "unknown error", "code %d", e);
		cr_assert_str_neq(noid_errname(e), "UNKNOWN", "code %d", e);
	}
}
