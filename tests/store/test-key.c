/*
 * Tests for store/key-*: the key file.  Round trips with and without a
 * password, password changes, and every bad input leaving the file as it
 * was (hashed before and after).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "key.h"

static char dir[64];
static char path[128];

static void
setup(void)
{
	cr_assert_eq(sodium_init() >= 0, 1);
	snprintf(dir, sizeof dir, "/tmp/noid-key-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/key", dir);
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(key, .init = setup, .fini = teardown);

/* Hash of the key file's bytes (all zero if it does not exist). */
static void
hash_file(uint8_t out[32])
{
	uint8_t *data;
	size_t len;

	memset(out, 0, 32);
	if (file_read_all(path, 1 << 20, &data, &len) != 0)
		return;
	crypto_generichash(out, 32, data, len, NULL, 0);
	free(data);
}

/* Create a key file and return a copy of its data key. */
static void
create_ok(const char *pw, uint8_t dk[KEY_DATA_LEN])
{
	uint8_t *k;

	cr_assert_eq(key_create(path, pw, 1, &k), 0);
	cr_assert_not_null(k);
	memcpy(dk, k, KEY_DATA_LEN);
	secret_free(k);
}

/* Unlock (as a test: no re-wrap) and compare with the expected key. */
static void
unlock_ok(const char *pw, const uint8_t want[KEY_DATA_LEN])
{
	uint8_t *k;

	cr_assert_eq(key_unlock_flags(path, pw, 1, &k), 0);
	cr_assert_eq(memcmp(k, want, KEY_DATA_LEN), 0);
	secret_free(k);
}

/* An unlock that must fail with err and leave the file unchanged. */
static void
unlock_fails(const char *pw, int err)
{
	uint8_t before[32], after[32], *k = (uint8_t *)1;

	hash_file(before);
	cr_assert_eq(key_unlock(path, pw, &k), err);
	cr_assert_null(k);
	hash_file(after);
	cr_assert_eq(memcmp(before, after, 32), 0);
}

/* Replace the key file's bytes. */
static void
write_raw(const void *p, size_t len)
{
	cr_assert_eq(file_write_atomic(path, p, len, 0600), 0);
}

Test(key, password_round_trip)
{
	uint8_t dk[KEY_DATA_LEN], zero[KEY_DATA_LEN] = {0};
	struct stat sb;
	int yes;

	create_ok("correct horse battery staple", dk);
	cr_assert_neq(memcmp(dk, zero, sizeof dk), 0);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	cr_assert_eq(sb.st_size, 116);
	unlock_ok("correct horse battery staple", dk);
	cr_assert_eq(key_has_password(path, &yes), 0);
	cr_assert_eq(yes, 1);
}

Test(key, wrong_missing_and_empty_password)
{
	uint8_t dk[KEY_DATA_LEN];

	create_ok("secret", dk);
	unlock_fails("Secret", NOID_ERR_PASSWORD);
	unlock_fails("secret ", NOID_ERR_PASSWORD);
	unlock_fails(NULL, NOID_ERR_PASSWORD);
	unlock_fails("", NOID_ERR_PASSWORD);
	unlock_ok("secret", dk);
}

Test(key, no_password_mode)
{
	uint8_t dk[KEY_DATA_LEN];
	int yes = 1;

	create_ok(NULL, dk);
	cr_assert_eq(key_has_password(path, &yes), 0);
	cr_assert_eq(yes, 0);
	unlock_ok(NULL, dk);
	/* Documented: the password argument is ignored here. */
	unlock_ok("anything", dk);
}

Test(key, empty_password_is_refused_at_create)
{
	uint8_t *k = (uint8_t *)1;

	cr_assert_eq(key_create(path, "", 1, &k), NOID_ERR_INVAL);
	cr_assert_null(k);
	cr_assert_neq(access(path, F_OK), 0);
}

Test(key, existing_file_is_never_overwritten)
{
	uint8_t dk[KEY_DATA_LEN], before[32], after[32], *k;

	create_ok("one", dk);
	hash_file(before);
	cr_assert_eq(key_create(path, "two", 1, &k), NOID_ERR_EXISTS);
	cr_assert_eq(key_create(path, NULL, 1, &k), NOID_ERR_EXISTS);
	hash_file(after);
	cr_assert_eq(memcmp(before, after, 32), 0);
	unlock_ok("one", dk);
}

Test(key, very_long_password)
{
	size_t big = 1 << 20;
	char *pw = xmalloc(big + 1);
	uint8_t dk[KEY_DATA_LEN], before[32], after[32], *k;

	memset(pw, 'p', big);
	pw[big] = '\0';
	cr_assert_eq(key_create(path, pw, 1, &k), NOID_ERR_TOOBIG);
	cr_assert_neq(access(path, F_OK), 0);
	create_ok("short", dk);
	unlock_fails(pw, NOID_ERR_TOOBIG);
	hash_file(before);
	cr_assert_eq(
	    key_change_password(path, "short", pw, 0), NOID_ERR_TOOBIG);
	cr_assert_eq(key_change_password(path, pw, "new", 0), NOID_ERR_TOOBIG);
	hash_file(after);
	cr_assert_eq(memcmp(before, after, 32), 0);
	/* The longest allowed password works. */
	pw[KEY_PASSWORD_MAX] = '\0';
	cr_assert_eq(key_change_password(path, "short", pw, 1), 0);
	unlock_ok(pw, dk);
	free(pw);
}

Test(key, non_key_files)
{
	uint8_t junk[116];

	unlock_fails("pw", NOID_ERR_NOENT);
	write_raw("", 0);
	unlock_fails("pw", NOID_ERR_INVAL);
	write_raw("hello, this is a text file\n", 27);
	unlock_fails("pw", NOID_ERR_INVAL);
	randombytes_buf(junk, sizeof junk);
	write_raw(junk, sizeof junk);
	unlock_fails("pw", NOID_ERR_INVAL);
	unlock_fails(NULL, NOID_ERR_INVAL);
	int yes;
	cr_assert_eq(key_has_password(path, &yes), NOID_ERR_INVAL);
	cr_assert_eq(key_change_password(path, "pw", "new", 0), NOID_ERR_INVAL);
}

Test(key, newer_version_is_refused)
{
	uint8_t dk[KEY_DATA_LEN], *data, *big;
	size_t len;

	create_ok("pw", dk);
	cr_assert_eq(file_read_all(path, 1024, &data, &len), 0);
	data[8] = KEY_FILE_VERSION + 1;
	write_raw(data, len);
	unlock_fails("pw", NOID_ERR_VERSION);
	cr_assert_eq(key_change_password(path, "pw", "x", 0), NOID_ERR_VERSION);
	/* A newer format may also be longer. */
	big = xcalloc(1, len + 64);
	memcpy(big, data, len);
	write_raw(big, len + 64);
	unlock_fails("pw", NOID_ERR_VERSION);
	free(big);
	free(data);
}

/* Every single flipped bit of the file fails: never the wrong key. */
static void
flip_every_byte(const char *pw, const uint8_t dk[KEY_DATA_LEN])
{
	uint8_t *data, *k;
	size_t len, i;
	int rc;

	cr_assert_eq(file_read_all(path, 1024, &data, &len), 0);
	for (i = 0; i < len; i++) {
		data[i] ^= 0x01;
		write_raw(data, len);
		rc = key_unlock(path, pw, &k);
		cr_assert(rc == NOID_ERR_PASSWORD || rc == NOID_ERR_CORRUPT ||
		        rc == NOID_ERR_INVAL || rc == NOID_ERR_VERSION,
		    "byte %zu: %d", i, rc);
		cr_assert_null(k);
		data[i] ^= 0x01;
	}
	write_raw(data, len);
	unlock_ok(pw, dk);
	/* Cut short. */
	write_raw(data, len - 1);
	unlock_fails(pw, NOID_ERR_CORRUPT);
	free(data);
}

Test(key, damaged_file_with_password)
{
	uint8_t dk[KEY_DATA_LEN];

	create_ok("pw", dk);
	flip_every_byte("pw", dk);
}

Test(key, damaged_file_without_password)
{
	uint8_t dk[KEY_DATA_LEN];

	create_ok(NULL, dk);
	flip_every_byte(NULL, dk);
}

Test(key, change_password_rewraps_same_key)
{
	uint8_t dk[KEY_DATA_LEN], before[32], after[32];
	int yes;

	create_ok("old", dk);
	hash_file(before);
	cr_assert_eq(
	    key_change_password(path, "wrong", "new", 0), NOID_ERR_PASSWORD);
	cr_assert_eq(key_change_password(path, "old", "", 0), NOID_ERR_INVAL);
	hash_file(after);
	cr_assert_eq(memcmp(before, after, 32), 0);

	cr_assert_eq(key_change_password(path, "old", "new", 1), 0);
	unlock_fails("old", NOID_ERR_PASSWORD);
	unlock_ok("new", dk);

	/* Remove the password, then set one again. */
	cr_assert_eq(key_change_password(path, "new", NULL, 0), 0);
	cr_assert_eq(key_has_password(path, &yes), 0);
	cr_assert_eq(yes, 0);
	unlock_ok(NULL, dk);
	cr_assert_eq(key_change_password(path, NULL, "again", 1), 0);
	cr_assert_eq(key_has_password(path, &yes), 0);
	cr_assert_eq(yes, 1);
	unlock_fails(NULL, NOID_ERR_PASSWORD);
	unlock_ok("again", dk);
}

/* The KDF cost written in the key file. */
static void
file_cost(uint64_t *ops, uint64_t *mem)
{
	uint8_t *data;
	size_t len;

	cr_assert_eq(file_read_all(path, 1024, &data, &len), 0);
	*ops = be64_get(data + 12);
	*mem = be64_get(data + 20);
	free(data);
}

/*
 * The KDF cost is in the file: the defaults, or the minimum when the
 * caller asks for it; no environment variable weakens it.
 */
Test(key, kdf_parameters)
{
	uint64_t ops, mem;
	uint8_t *k;

	setenv("NOID_KDF_FAST", "1", 1);
	setenv("NOID_TEST_FAST_KDF", "1", 1);
	cr_assert_eq(key_create(path, "pw", 0, &k), 0);
	secret_free(k);
	file_cost(&ops, &mem);
	cr_assert_eq(ops, 3);
	cr_assert_eq(mem, 64ULL << 20);
	unlink(path);

	cr_assert_eq(key_create(path, "pw", 1, &k), 0);
	secret_free(k);
	file_cost(&ops, &mem);
	cr_assert_eq(ops, crypto_pwhash_OPSLIMIT_MIN);
	cr_assert_eq(mem, crypto_pwhash_MEMLIMIT_MIN);
}

/* A cheap file opens, and a real unlock re-wraps it at the default. */
Test(key, weak_file_is_rewrapped_on_unlock)
{
	uint8_t dk[KEY_DATA_LEN], before[32], after[32], *k;
	uint64_t ops, mem;

	create_ok("pw", dk);
	hash_file(before);
	unlock_ok("pw", dk); /* a test unlock leaves it */
	hash_file(after);
	cr_assert_eq(memcmp(before, after, 32), 0);
	unlock_fails("wrong", NOID_ERR_PASSWORD);

	cr_assert_eq(key_unlock(path, "pw", &k), 0);
	cr_assert_eq(memcmp(k, dk, KEY_DATA_LEN), 0);
	secret_free(k);
	file_cost(&ops, &mem);
	cr_assert_eq(ops, 3);
	cr_assert_eq(mem, 64ULL << 20);
	unlock_ok("pw", dk);
	/* Now at the default: a real unlock changes nothing more. */
	hash_file(before);
	cr_assert_eq(key_unlock(path, "pw", &k), 0);
	secret_free(k);
	hash_file(after);
	cr_assert_eq(memcmp(before, after, 32), 0);
}

/* No password: nothing to strengthen, the file stays as it is. */
Test(key, no_password_file_is_not_rewrapped)
{
	uint8_t dk[KEY_DATA_LEN], before[32], after[32], *k;

	create_ok(NULL, dk);
	hash_file(before);
	cr_assert_eq(key_unlock(path, NULL, &k), 0);
	secret_free(k);
	hash_file(after);
	cr_assert_eq(memcmp(before, after, 32), 0);
}

/* A password change does not carry a cheap cost over. */
Test(key, change_password_uses_the_default_cost)
{
	uint8_t dk[KEY_DATA_LEN];
	uint64_t ops, mem;

	create_ok("old", dk);
	cr_assert_eq(key_change_password(path, "old", "new", 0), 0);
	file_cost(&ops, &mem);
	cr_assert_eq(ops, 3);
	cr_assert_eq(mem, 64ULL << 20);
	cr_assert_eq(key_change_password(path, "new", "newer", 1), 0);
	file_cost(&ops, &mem);
	cr_assert_eq(ops, crypto_pwhash_OPSLIMIT_MIN);
	unlock_ok("newer", dk);
}

/* Two files never share a data key, a salt or a nonce. */
Test(key, fresh_randomness_per_file)
{
	uint8_t a[KEY_DATA_LEN], b[KEY_DATA_LEN], *fa, *fb;
	size_t la, lb;

	create_ok("pw", a);
	cr_assert_eq(file_read_all(path, 1024, &fa, &la), 0);
	unlink(path);
	create_ok("pw", b);
	cr_assert_eq(file_read_all(path, 1024, &fb, &lb), 0);
	cr_assert_neq(memcmp(a, b, KEY_DATA_LEN), 0);
	cr_assert_neq(memcmp(fa + 28, fb + 28, 16), 0);
	cr_assert_neq(memcmp(fa + 44, fb + 44, 24), 0);
	free(fa);
	free(fb);
}
