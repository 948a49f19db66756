/*
 * noid — store: the key file and the key hierarchy (DESIGN §7).
 *
 * A random 32-byte data key encrypts the database (store/vfs.h).  The key
 * file keeps it wrapped with XChaCha20-Poly1305 under a key-encryption key
 * derived from the password with Argon2id (crypto_pwhash, ARGON2ID13);
 * changing the password re-wraps the same data key, so it is fast and the
 * database is untouched.
 *
 * File format, version 1 (116 bytes, integers big-endian):
 *
 *	0   8  magic "noid-key"
 *	8   1  version (1)
 *	9   1  flags: bit 0 = password set
 *	10  1  KDF: 1 = Argon2id v1.3; 0 without a password
 *	11  1  zero
 *	12  8  opslimit		(0 without a password)
 *	20  8  memlimit (bytes)	(0 without a password)
 *	28  16 salt		(zeros without a password)
 *	44  24 nonce
 *	68  48 wrapped data key: ciphertext (32) and tag (16)
 *
 * Bytes 0..67 are the associated data: the parameters and flags cannot be
 * changed without the unwrap failing.
 *
 * Without a password the KEK is 32 zero bytes: the wrapping then only
 * detects damage, and anyone who can read the key file can read the
 * database.  That mode is for users who rely on full-disk encryption, and
 * the UI must say plainly that it is weaker.
 *
 * Passwords: NULL means no password.  "" is refused (NOID_ERR_INVAL): an
 * empty password would look protected and protect nothing.  Longer than
 * KEY_PASSWORD_MAX bytes is NOID_ERR_TOOBIG.  A wrong password and a
 * tampered password-protected file are indistinguishable: both give
 * NOID_ERR_PASSWORD.  When the file has no password, the password argument
 * of key_unlock is ignored.
 *
 * KDF cost: moderate defaults (opslimit 3, 64 MiB).  The fast_kdf
 * argument picks libsodium's minimum (opslimit 1, 8 KiB) and exists for
 * tests only; no environment variable changes the cost.  The one switch
 * that lets the product pass it is the client's NOID_TEST_FAST_KDF=1
 * (tui/), for its end-to-end tests: never set it for real use.  A file
 * that cheap stays readable, but a password unlock without fast_kdf
 * re-wraps it at the default cost on the spot (the floor is libsodium's
 * INTERACTIVE: opslimit 2, 64 MiB), and a password change always uses
 * the default unless fast_kdf: test data cannot lock anyone out, and a
 * weak wrapping does not outlive its first real use.  Parameters read
 * from a file are bounded (opslimit <= 64, memlimit <= 1 GiB) so a
 * damaged file cannot make unlocking allocate without limit.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_KEY_H
#define NOID_KEY_H

#include <stdint.h>

#define KEY_DATA_LEN 32
#define KEY_PASSWORD_MAX 4096
#define KEY_FILE_VERSION 1

/*
 * Create a key file at path with a fresh random data key, wrapped under
 * password (NULL: no password).  NOID_ERR_EXISTS if path exists.  On
 * success *data_key is the data key in secret memory (KEY_DATA_LEN bytes;
 * caller secret_frees).
 */
int key_create(
    const char *path, const char *password, int fast_kdf, uint8_t **data_key);

/*
 * Unwrap the data key.  NOID_ERR_PASSWORD on a wrong (or missing)
 * password, NOID_ERR_CORRUPT on a damaged file, NOID_ERR_INVAL on a file
 * that is not a key file, NOID_ERR_VERSION on a newer format, NOID_ERR_NOENT
 * if there is no file.  *data_key as for key_create.
 */
int key_unlock(const char *path, const char *password, uint8_t **data_key);

/*
 * key_unlock, saying whether the caller is a test (fast_kdf): only then
 * is a file below the KDF floor left as it is.  Otherwise it is re-wrapped
 * at the default cost after a successful unlock; should that write fail
 * the unlock still succeeds and the next one tries again.
 */
int key_unlock_flags(
    const char *path, const char *password, int fast_kdf, uint8_t **data_key);

/*
 * Re-wrap the data key under new_pw (NULL: remove the password) with a
 * fresh salt and nonce; the file is replaced atomically.  The new
 * wrapping has the default KDF cost whatever the old one had; fast_kdf
 * (tests only) picks the minimum.
 * Errors as key_unlock for old_pw; nothing changes on error.
 */
int key_change_password(
    const char *path, const char *old_pw, const char *new_pw, int fast_kdf);

/* Whether the key file is protected by a password (*yes = 0 or 1). */
int key_has_password(const char *path, int *yes);

#endif
