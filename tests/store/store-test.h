/*
 * Helpers shared by the store tests: temp data dirs under /tmp, removal,
 * file hashes (to prove "no change"), a store with one profile, contact
 * and connection.  Static so each test binary carries its own copy.
 */
#ifndef NOID_STORE_TEST_H
#define NOID_STORE_TEST_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "store.h"

/* Every test store: encrypted, cheap KDF. */
#define TEST_FLAGS (STORE_CREATE | STORE_FAST_KDF)
#define TEST_PW "correct horse"

static inline char *
test_dir(void)
{
	char tmpl[] = "/tmp/noid-store-XXXXXX";

	cr_assert_not_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static inline int
test_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf dir and free the string. */
static inline void
test_dir_remove(char *dir)
{
	nftw(dir, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

/* BLAKE2b of a file's bytes (all zero when it does not exist). */
static inline void
test_file_hash(const char *dir, const char *name, uint8_t out[32])
{
	char *path = path_join(dir, name);
	uint8_t *data = NULL;
	size_t len = 0;

	memset(out, 0, 32);
	if (file_read_all(path, 1 << 30, &data, &len) == 0)
		crypto_generichash(out, 32, data, len, NULL, 0);
	free(data);
	free(path);
}

/* Whether dir/name exists. */
static inline int
test_file_exists(const char *dir, const char *name)
{
	char *path = path_join(dir, name);
	int yes = access(path, F_OK) == 0;

	free(path);
	return yes;
}

/* A new store with a profile, one contact and one connection. */
struct fixture {
	char *dir;
	struct store *st;
	uint8_t profile[STORE_ID_LEN];
	uint8_t contact[STORE_ID_LEN];
	uint8_t conn[STORE_ID_LEN];
};

static inline void
fixture_open(struct fixture *f, int flags)
{
	f->dir = test_dir();
	cr_assert_eq(
	    store_open(f->dir, TEST_PW, TEST_FLAGS | flags, &f->st), 0);
	cr_assert_eq(
	    store_profile_create(f->st, "alice", "laptop", f->profile), 0);
	cr_assert_eq(
	    store_contact_add(f->st, f->profile, "bob", f->contact), 0);
	cr_assert_eq(store_conn_add(f->st, f->profile, f->contact,
	                 STORE_TRUST_QR, (const uint8_t *)"queue", 5, f->conn),
	    0);
}

static inline void
fixture_close(struct fixture *f)
{
	store_close(f->st);
	test_dir_remove(f->dir);
}

#endif
