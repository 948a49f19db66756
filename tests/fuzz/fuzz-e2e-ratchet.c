/*
 * libFuzzer harness for the ratchet's decoders of untrusted bytes:
 * e2e_ratchet_load (raw, and with a valid checksum so the parser behind
 * it is reached) and e2e_ratchet_decrypt (raw messages, and headers
 * encrypted under the real header key so the number checks and the
 * skip logic are reached).  Whenever decrypt fails the saved state must
 * be byte-identical; a loaded blob must save back to the same bytes.
 *
 * The RNG is replaced by a seeded generator so every input replays.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state;

/* The generator behind randombytes: splitmix64. */
static uint32_t
fuzz_random(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)(z ^ (z >> 31));
}

/* Fill a buffer from the seeded generator. */
static void
fuzz_buf(void *p, size_t n)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)fuzz_random();
}

/* The implementation's name for libsodium. */
static const char *
fuzz_name(void)
{
	return "fuzz";
}

static struct randombytes_implementation fuzz_rng = {
    .implementation_name = fuzz_name,
    .random = fuzz_random,
    .buf = fuzz_buf,
};

/* Install the seeded RNG before libsodium starts. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	randombytes_set_implementation(&fuzz_rng);
	if (sodium_init() < 0)
		abort();
	return 0;
}

/* Abort unless r saves to exactly the bytes in want. */
static void
fuzz_same(const struct e2e_ratchet *r, const struct buf *want)
{
	struct buf now;

	buf_init(&now);
	e2e_ratchet_save(r, &now);
	if (now.len != want->len || memcmp(now.data, want->data, now.len) != 0)
		abort();
	buf_free(&now);
}

/* Decrypt msg at r; on failure the state must not have moved. */
static void
fuzz_decrypt(struct e2e_ratchet *r, const uint8_t *msg, size_t len)
{
	struct buf before, pt;

	buf_init(&before);
	buf_init(&pt);
	e2e_ratchet_save(r, &before);
	if (e2e_ratchet_decrypt(r, msg, len % 3, msg, len, &pt) != 0) {
		if (pt.len != 0)
			abort();
		fuzz_same(r, &before);
	}
	buf_free(&before);
	buf_free(&pt);
}

/* Load p; if it loads, it must save back to the same bytes. */
static void
fuzz_load(const uint8_t *p, size_t len)
{
	struct e2e_ratchet *r;
	struct buf in;

	if (e2e_ratchet_load(p, len, &r) != 0)
		return;
	in.data = (uint8_t *)p;
	in.len = in.cap = len;
	fuzz_same(r, &in);
	e2e_ratchet_free(r);
}

/* One input: its first byte picks load, checksummed load, or decrypt. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t k[5][E2E_KEY_SIZE], bpub[E2E_KEY_SIZE], hdr[E2E_HEADER_SIZE];
	uint8_t had[1 + E2E_AD_SIZE], adh[E2E_HEADER_SIZE];
	struct e2e_ratchet *a, *b;
	struct buf m, in;
	size_t i;

	if (size < 1)
		return 0;
	rng_state = 1;
	buf_init(&in);
	switch (data[0] % 4) {
	case 0:
		fuzz_load(data + 1, size - 1);
		return 0;
	case 1:
		buf_put(&in, data + 1, size - 1);
		buf_append_space(&in, 16);
		if (in.len > 16)
			crypto_generichash(in.data + in.len - 16, 16, in.data,
			    in.len - 16, NULL, 0);
		fuzz_load(in.data, in.len);
		buf_free(&in);
		return 0;
	}

	/* A pair where b has opened one message of a's and can reply. */
	randombytes_buf(k, sizeof k);
	crypto_scalarmult_base(bpub, k[4]);
	if (e2e_ratchet_init_initiator(k[0], k[1], k[2], k[3], bpub, &a) != 0 ||
	    e2e_ratchet_init_responder(k[0], k[1], k[2], k[3], k[4], &b) != 0)
		abort();
	buf_init(&m);
	if (e2e_ratchet_encrypt(a, NULL, 0, (const uint8_t *)"x", 1, &m) != 0 ||
	    e2e_ratchet_decrypt(b, NULL, 0, m.data, m.len, &in) != 0)
		abort();

	/* a's ratchet key, from the header of the message b just opened. */
	had[0] = E2E_VERSION;
	memcpy(had + 1, k[3], E2E_AD_SIZE);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(adh, NULL, NULL,
	        m.data + 25, E2E_HEADER_SIZE + 16, had, sizeof had, m.data + 1,
	        k[1]) != 0)
		abort();

	/* The message: the input, repeated to the fixed size. */
	memset(m.data, 0, m.len);
	for (i = 0; size > 1 && i < E2E_MSG_SIZE; i++)
		m.data[i] = data[1 + i % (size - 1)];
	if (data[0] % 4 == 3 && size >= 1 + E2E_HEADER_SIZE) {
		/* A chosen header under b's real header key. */
		memcpy(hdr, data + 1, E2E_HEADER_SIZE);
		if (data[0] & 0x80)
			memcpy(hdr, adh, E2E_KEY_SIZE);
		m.data[0] = E2E_VERSION;
		crypto_aead_xchacha20poly1305_ietf_encrypt(m.data + 25, NULL,
		    hdr, sizeof hdr, had, sizeof had, NULL, m.data + 1, k[1]);
	}
	fuzz_decrypt(b, m.data, m.len);
	fuzz_decrypt(a, m.data, size - 1 < m.len ? size - 1 : m.len);

	buf_free(&m);
	buf_free(&in);
	e2e_ratchet_free(a);
	e2e_ratchet_free(b);
	return 0;
}
