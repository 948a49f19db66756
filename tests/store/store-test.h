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

/* Ops collected from store_ops_since (op_collect), owned copies. */
struct oplist {
	uint8_t **op;
	size_t *len;
	size_t n;
};

/* store_ops_since callback: keep a copy of each op in the oplist. */
static inline int
op_collect(const uint8_t *op, size_t len, void *arg)
{
	struct oplist *l = arg;

	l->op = xreallocarray(l->op, l->n + 1, sizeof *l->op);
	l->len = xreallocarray(l->len, l->n + 1, sizeof *l->len);
	l->op[l->n] = xmemdup(op, len);
	l->len[l->n] = len;
	l->n++;
	return 0;
}

/* Free the copies. */
static inline void
oplist_free(struct oplist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->op[i]);
	free(l->op);
	free(l->len);
	memset(l, 0, sizeof *l);
}

/* Ship what `to` lacks from `from`; every op must apply. */
static inline void
sync_once(struct store *from, struct store *to, const uint8_t *profile)
{
	struct store_vv vv;
	struct oplist l = {0};
	size_t i;

	cr_assert_eq(store_version_vector(to, profile, &vv), 0);
	cr_assert_eq(store_ops_since(from, profile, &vv, op_collect, &l), 0);
	for (i = 0; i < l.n; i++)
		cr_assert_eq(store_op_apply_remote(to, l.op[i], l.len[i]), 0,
		    "op %zu of %zu", i, l.n);
	store_vv_free(&vv);
	oplist_free(&l);
}

/* One device: a plain store of its own, for op-log tests. */
struct dev {
	char *dir;
	struct store *st;
	uint8_t id[STORE_ID_LEN];
	uint8_t pk[32];
};

/* A fresh store in a temp dir. */
static inline void
dev_open(struct dev *d)
{
	d->dir = test_dir();
	cr_assert_eq(
	    store_open(d->dir, TEST_PW, TEST_FLAGS | STORE_PLAIN, &d->st), 0);
}

/* Close it and remove its dir. */
static inline void
dev_close(struct dev *d)
{
	store_close(d->st);
	test_dir_remove(d->dir);
}

/* d joins profile and `by` (a member) adds it. */
static inline void
dev_link(
    struct store *by, const uint8_t *profile, struct dev *d, const char *name)
{
	cr_assert_eq(store_profile_join(d->st, profile, d->id, d->pk), 0);
	cr_assert_eq(store_device_add(by, profile, d->id, d->pk, name), 0);
}

#endif
