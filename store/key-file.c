/*
 * noid — store: reading, writing and re-wrapping the key file.
 *
 * The format and the password rules are in key.h.  Every operation reads
 * and checks the whole file first and writes only through
 * file_write_atomic, so a failure never leaves a changed file.  The data
 * key and the KEK only ever live in secret_alloc memory.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base.h"
#include "key.h"

#define KEY_MAGIC "noid-key"
#define KEY_MAGIC_LEN 8
#define KEY_FLAG_PASSWORD 0x01
#define KEY_KDF_ARGON2ID13 1

#define OFF_VERSION 8
#define OFF_FLAGS 9
#define OFF_KDF 10
#define OFF_ZERO 11
#define OFF_OPS 12
#define OFF_MEM 20
#define OFF_SALT 28
#define OFF_NONCE 44
#define OFF_WRAPPED 68
#define SALT_LEN 16
#define KEY_FILE_LEN                                                           \
	(OFF_WRAPPED + KEY_DATA_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)

#define KEK_LEN 32
#define OPS_DEFAULT 3
#define MEM_DEFAULT (64ULL << 20)
#define OPS_MAX 64
#define MEM_MAX (1ULL << 30)
/* Below this cost an unlocked file is re-wrapped at the default. */
#define OPS_FLOOR crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEM_FLOOR crypto_pwhash_MEMLIMIT_INTERACTIVE

_Static_assert(SALT_LEN == crypto_pwhash_SALTBYTES, "salt");
_Static_assert(
    OFF_WRAPPED - OFF_NONCE == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
    "nonce");

/* A parsed key file. */
struct key_file {
	uint8_t raw[KEY_FILE_LEN];
	int has_password;
	uint64_t ops;
	uint64_t mem;
};

/* Check a password argument: NULL is fine (none), "" and too long not. */
static int
key_check_password(const char *pw)
{
	if (pw == NULL)
		return NOID_OK;
	if (*pw == '\0')
		return NOID_ERR_INVAL;
	if (strnlen(pw, KEY_PASSWORD_MAX + 1) > KEY_PASSWORD_MAX)
		return NOID_ERR_TOOBIG;
	return NOID_OK;
}

/* Read and check a key file, up to (not including) unwrapping. */
static int
key_read(const char *path, struct key_file *kf)
{
	uint8_t *data = NULL;
	size_t len;
	int rc;

	rc = file_read_all(path, 4 * KEY_FILE_LEN, &data, &len);
	if (rc == NOID_ERR_TOOBIG)
		return NOID_ERR_INVAL;
	if (rc != NOID_OK)
		return rc;
	rc = NOID_ERR_INVAL;
	if (len < KEY_MAGIC_LEN || memcmp(data, KEY_MAGIC, KEY_MAGIC_LEN) != 0)
		goto out;
	rc = NOID_ERR_CORRUPT;
	if (len <= OFF_VERSION || data[OFF_VERSION] == 0)
		goto out;
	if (data[OFF_VERSION] > KEY_FILE_VERSION) {
		rc = NOID_ERR_VERSION;
		goto out;
	}
	if (len != KEY_FILE_LEN)
		goto out;
	memcpy(kf->raw, data, KEY_FILE_LEN);
	kf->has_password = (data[OFF_FLAGS] & KEY_FLAG_PASSWORD) != 0;
	kf->ops = be64_get(data + OFF_OPS);
	kf->mem = be64_get(data + OFF_MEM);
	if ((data[OFF_FLAGS] & ~KEY_FLAG_PASSWORD) != 0 || data[OFF_ZERO] != 0)
		goto out;
	if (kf->has_password) {
		if (data[OFF_KDF] != KEY_KDF_ARGON2ID13 ||
		    kf->ops < crypto_pwhash_OPSLIMIT_MIN || kf->ops > OPS_MAX ||
		    kf->mem < crypto_pwhash_MEMLIMIT_MIN || kf->mem > MEM_MAX)
			goto out;
	} else if (data[OFF_KDF] != 0 || kf->ops != 0 || kf->mem != 0)
		goto out;
	rc = NOID_OK;
out:
	free(data);
	return rc;
}

/* Derive the KEK for a parsed file into kek (KEK_LEN, secret memory). */
static int
key_derive(const struct key_file *kf, const char *pw, uint8_t *kek)
{
	if (!kf->has_password) {
		sodium_memzero(kek, KEK_LEN);
		return NOID_OK;
	}
	if (crypto_pwhash(kek, KEK_LEN, pw, strlen(pw), kf->raw + OFF_SALT,
	        kf->ops, (size_t)kf->mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return NOID_ERR_INTERNAL; /* out of memory */
	return NOID_OK;
}

/* Unwrap the data key of a parsed file; *dk is secret memory. */
static int
key_unwrap(const struct key_file *kf, const char *pw, uint8_t **dk)
{
	uint8_t *kek = NULL, *out = NULL;
	int rc;

	*dk = NULL;
	if (kf->has_password) {
		if (pw == NULL || *pw == '\0')
			return NOID_ERR_PASSWORD;
		if ((rc = key_check_password(pw)) != NOID_OK)
			return rc;
	}
	kek = secret_alloc(KEK_LEN);
	out = secret_alloc(KEY_DATA_LEN);
	if ((rc = key_derive(kf, pw, kek)) != NOID_OK)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL,
	        kf->raw + OFF_WRAPPED, KEY_FILE_LEN - OFF_WRAPPED, kf->raw,
	        OFF_WRAPPED, kf->raw + OFF_NONCE, kek) != 0) {
		rc = kf->has_password ? NOID_ERR_PASSWORD : NOID_ERR_CORRUPT;
		goto out;
	}
	*dk = out;
	out = NULL;
out:
	secret_free(kek);
	secret_free(out);
	return rc;
}

/*
 * Fill kf with a fresh wrapping of dk under pw (NULL: none) at the given
 * KDF cost; new salt and nonce.
 */
static int
key_wrap(struct key_file *kf, const char *pw, uint64_t ops, uint64_t mem,
    const uint8_t *dk)
{
	uint8_t *kek;
	int rc;

	memset(kf, 0, sizeof *kf);
	memcpy(kf->raw, KEY_MAGIC, KEY_MAGIC_LEN);
	kf->raw[OFF_VERSION] = KEY_FILE_VERSION;
	kf->has_password = pw != NULL;
	if (pw != NULL) {
		kf->raw[OFF_FLAGS] = KEY_FLAG_PASSWORD;
		kf->raw[OFF_KDF] = KEY_KDF_ARGON2ID13;
		kf->ops = ops;
		kf->mem = mem;
		be64_put(kf->raw + OFF_OPS, ops);
		be64_put(kf->raw + OFF_MEM, mem);
		randombytes_buf(kf->raw + OFF_SALT, SALT_LEN);
	}
	randombytes_buf(kf->raw + OFF_NONCE, OFF_WRAPPED - OFF_NONCE);
	kek = secret_alloc(KEK_LEN);
	if ((rc = key_derive(kf, pw, kek)) == NOID_OK)
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    kf->raw + OFF_WRAPPED, NULL, dk, KEY_DATA_LEN, kf->raw,
		    OFF_WRAPPED, NULL, kf->raw + OFF_NONCE, kek);
	secret_free(kek);
	return rc;
}

/* The KDF cost for new wrappings: the environment plays no part. */
static void
key_cost(int fast_kdf, uint64_t *ops, uint64_t *mem)
{
	*ops = fast_kdf ? crypto_pwhash_OPSLIMIT_MIN : OPS_DEFAULT;
	*mem = fast_kdf ? crypto_pwhash_MEMLIMIT_MIN : MEM_DEFAULT;
}

int
key_create(
    const char *path, const char *password, int fast_kdf, uint8_t **data_key)
{
	struct key_file kf;
	uint64_t ops, mem;
	uint8_t *dk;
	int rc;

	*data_key = NULL;
	if ((rc = key_check_password(password)) != NOID_OK)
		return rc;
	if (sodium_init() < 0)
		return NOID_ERR_INTERNAL;
	if (access(path, F_OK) == 0)
		return NOID_ERR_EXISTS;
	dk = secret_alloc(KEY_DATA_LEN);
	randombytes_buf(dk, KEY_DATA_LEN);
	key_cost(fast_kdf, &ops, &mem);
	if ((rc = key_wrap(&kf, password, ops, mem, dk)) == NOID_OK)
		rc = file_write_atomic(path, kf.raw, KEY_FILE_LEN, 0600);
	if (rc != NOID_OK) {
		secret_free(dk);
		return rc;
	}
	*data_key = dk;
	return NOID_OK;
}

int
key_unlock(const char *path, const char *password, uint8_t **data_key)
{
	return key_unlock_flags(path, password, 0, data_key);
}

int
key_unlock_flags(
    const char *path, const char *password, int fast_kdf, uint8_t **data_key)
{
	struct key_file kf;
	int rc;

	*data_key = NULL;
	if (sodium_init() < 0)
		return NOID_ERR_INTERNAL;
	if ((rc = key_read(path, &kf)) != NOID_OK)
		return rc;
	if ((rc = key_unwrap(&kf, password, data_key)) != NOID_OK)
		return rc;
	/* Best effort: a failed write leaves the old file for next time. */
	if (kf.has_password && !fast_kdf &&
	    (kf.ops < OPS_FLOOR || kf.mem < MEM_FLOOR) &&
	    key_wrap(&kf, password, OPS_DEFAULT, MEM_DEFAULT, *data_key) ==
	        NOID_OK)
		(void)file_write_atomic(path, kf.raw, KEY_FILE_LEN, 0600);
	return NOID_OK;
}

int
key_change_password(
    const char *path, const char *old_pw, const char *new_pw, int fast_kdf)
{
	struct key_file kf;
	uint64_t ops, mem;
	uint8_t *dk = NULL;
	int rc;

	if ((rc = key_check_password(new_pw)) != NOID_OK)
		return rc;
	if (sodium_init() < 0)
		return NOID_ERR_INTERNAL;
	if ((rc = key_read(path, &kf)) != NOID_OK)
		return rc;
	if ((rc = key_unwrap(&kf, old_pw, &dk)) != NOID_OK)
		return rc;
	key_cost(fast_kdf, &ops, &mem);
	if ((rc = key_wrap(&kf, new_pw, ops, mem, dk)) == NOID_OK)
		rc = file_write_atomic(path, kf.raw, KEY_FILE_LEN, 0600);
	secret_free(dk);
	return rc;
}

int
key_has_password(const char *path, int *yes)
{
	struct key_file kf;
	int rc;

	*yes = 0;
	if ((rc = key_read(path, &kf)) != NOID_OK)
		return rc;
	*yes = kf.has_password;
	return NOID_OK;
}
