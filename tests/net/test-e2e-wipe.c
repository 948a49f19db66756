/*
 * Message keys are gone once used (issue 4, point 4): the send observer
 * hook reveals every message key a sender uses, and the saved ratchet
 * state (all the state there is: e2e_ratchet_save writes every key the
 * ratchet holds) must not contain a key whose message was sent or
 * decrypted.  Skipped keys are the positive control: they must be in the
 * state until their message arrives, and leave it then.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "e2e.h"

#define NMSG 6

/* Keys the observer saw, in order: header key, then message key. */
struct seen {
	int n;
	uint8_t key[4 * NMSG][E2E_KEY_SIZE];
};

static void
observe(const uint8_t key[E2E_KEY_SIZE], const uint8_t nonce[E2E_NONCE_SIZE],
    void *arg)
{
	struct seen *s = arg;

	(void)nonce;
	cr_assert_lt(s->n, 4 * NMSG);
	memcpy(s->key[s->n++], key, E2E_KEY_SIZE);
}

/* Message i's key among the observed ones (the second of its pair). */
static const uint8_t *
mk_of(const struct seen *s, int first, int i)
{
	return s->key[2 * (first + i) + 1];
}

/* Whether r's saved state holds key. */
static bool
state_holds(const struct e2e_ratchet *r, const uint8_t *key)
{
	struct buf b;
	bool yes;

	buf_init(&b);
	e2e_ratchet_save(r, &b);
	yes = memmem(b.data, b.len, key, E2E_KEY_SIZE) != NULL;
	buf_free_secret(&b);
	return yes;
}

/* Start an initiator a and a responder b from fresh random secrets. */
static void
pair_new(struct e2e_ratchet **a, struct e2e_ratchet **b)
{
	uint8_t sk[E2E_KEY_SIZE], hka[E2E_KEY_SIZE], nhkb[E2E_KEY_SIZE];
	uint8_t ad[E2E_AD_SIZE], bpriv[E2E_KEY_SIZE], bpub[E2E_KEY_SIZE];

	randombytes_buf(sk, sizeof sk);
	randombytes_buf(hka, sizeof hka);
	randombytes_buf(nhkb, sizeof nhkb);
	randombytes_buf(ad, sizeof ad);
	randombytes_buf(bpriv, sizeof bpriv);
	crypto_scalarmult_base(bpub, bpriv);
	cr_assert_eq(e2e_ratchet_init_initiator(sk, hka, nhkb, ad, bpub, a), 0);
	cr_assert_eq(
	    e2e_ratchet_init_responder(sk, hka, nhkb, ad, bpriv, b), 0);
}

/* Decrypt m with r and check the payload is the byte tag. */
static void
open_ok(struct e2e_ratchet *r, const struct buf *m, uint8_t tag)
{
	struct buf pt;

	buf_init(&pt);
	cr_assert_eq(e2e_ratchet_decrypt(r, NULL, 0, m->data, m->len, &pt), 0);
	cr_assert_eq(pt.len, 1);
	cr_assert_eq(pt.data[0], tag);
	buf_free_secret(&pt);
}

static void
setup(void)
{
	cr_assert_geq(sodium_init(), 0);
}

static void
teardown(void)
{
	e2e_set_send_observer(NULL, NULL);
}

TestSuite(e2e_wipe, .init = setup, .fini = teardown);

Test(e2e_wipe, used_message_keys_leave_the_state)
{
	static struct seen seen;
	struct e2e_ratchet *a, *b;
	struct buf m[NMSG], reply;
	static const int order[] = {2, 0, 4, 1, 3};
	uint8_t tag;
	int i, j;

	pair_new(&a, &b);
	e2e_set_send_observer(observe, &seen);
	for (i = 0; i < NMSG; i++) {
		tag = (uint8_t)i;
		buf_init(&m[i]);
		cr_assert_eq(
		    e2e_ratchet_encrypt(a, NULL, 0, &tag, 1, &m[i]), 0);
		cr_assert_eq(seen.n, 2 * (i + 1), "observer missed a key");
		/* The sender keeps no key it has used. */
		for (j = 0; j <= i; j++)
			cr_assert_not(state_holds(a, mk_of(&seen, 0, j)),
			    "sender state holds message key %d after send %d",
			    j, i);
	}

	/* The last first: the five before it are skipped and kept. */
	open_ok(b, &m[NMSG - 1], NMSG - 1);
	cr_assert_eq(e2e_ratchet_skipped(b), NMSG - 1);
	cr_assert_not(state_holds(b, mk_of(&seen, 0, NMSG - 1)),
	    "receiver state holds the key it just used");
	for (j = 0; j < NMSG - 1; j++)
		cr_assert(state_holds(b, mk_of(&seen, 0, j)),
		    "skipped key %d is not in the state", j);

	/* Each late message takes its key out of the state. */
	for (i = 0; i < NMSG - 1; i++) {
		open_ok(b, &m[order[i]], (uint8_t)order[i]);
		cr_assert_eq(e2e_ratchet_skipped(b), (size_t)(NMSG - 2 - i));
		for (j = 0; j <= i; j++)
			cr_assert_not(state_holds(b, mk_of(&seen, 0, order[j])),
			    "skipped key %d still kept after its message",
			    order[j]);
		for (j = i + 1; j < NMSG - 1; j++)
			cr_assert(state_holds(b, mk_of(&seen, 0, order[j])),
			    "skipped key %d lost before its message", order[j]);
	}

	/* A reply (a DH step the other way): nobody keeps its key. */
	tag = 0x55;
	buf_init(&reply);
	cr_assert_eq(e2e_ratchet_encrypt(b, NULL, 0, &tag, 1, &reply), 0);
	cr_assert_not(state_holds(b, mk_of(&seen, NMSG, 0)));
	open_ok(a, &reply, 0x55);
	cr_assert_not(state_holds(a, mk_of(&seen, NMSG, 0)));
	cr_assert_eq(e2e_ratchet_skipped(a), 0);

	for (i = 0; i < NMSG; i++)
		buf_free(&m[i]);
	buf_free(&reply);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
}
