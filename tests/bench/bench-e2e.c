/*
 * bench-e2e: cost of the ratchet per message, beside the raw
 * XChaCha20-Poly1305 cost of the same sizes measured in the same run.
 * Every ratchet message is padded to E2E_PAD, so the floor for any
 * payload is one padded body plus a 40-byte header, each sealed and
 * opened once; a direction change adds two X25519 operations per side.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "e2e.h"

#define ITERS 3000

/* Microseconds per op of sealing and opening len bytes, raw. */
static double
bench_raw(size_t len)
{
	uint8_t key[32], nonce[24], *m = xmalloc(len), *c = xmalloc(len + 16);
	uint64_t t0;
	int i;

	randombytes_buf(key, sizeof key);
	randombytes_buf(m, len);
	t0 = clock_mono_us();
	for (i = 0; i < ITERS; i++) {
		randombytes_buf(nonce, sizeof nonce);
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    c, NULL, m, len, NULL, 0, NULL, nonce, key);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		        m, NULL, NULL, c, len + 16, NULL, 0, nonce, key) != 0)
			abort();
	}
	free(m);
	free(c);
	return (double)(clock_mono_us() - t0) / ITERS;
}

/*
 * Microseconds per encrypt+decrypt of a len-byte payload; with turn
 * set the direction changes every message (a DH step each time).
 */
static double
bench_ratchet(size_t len, int turn)
{
	uint8_t k[5][32], bpub[32], *p = xmalloc(len);
	struct e2e_ratchet *r[2];
	struct buf ct, pt;
	uint64_t t0;
	int i, from;

	randombytes_buf(k, sizeof k);
	randombytes_buf(p, len);
	crypto_scalarmult_base(bpub, k[4]);
	if (e2e_ratchet_init_initiator(k[0], k[1], k[2], k[3], bpub, &r[0]) ||
	    e2e_ratchet_init_responder(k[0], k[1], k[2], k[3], k[4], &r[1]))
		abort();
	buf_init(&ct);
	buf_init(&pt);
	t0 = clock_mono_us();
	for (i = 0; i < ITERS; i++) {
		from = turn ? i % 2 : 0;
		buf_reset(&ct);
		buf_reset(&pt);
		if (e2e_ratchet_encrypt(r[from], NULL, 0, p, len, &ct) != 0 ||
		    e2e_ratchet_decrypt(
		        r[!from], NULL, 0, ct.data, ct.len, &pt) != 0 ||
		    pt.len != len)
			abort();
	}
	t0 = clock_mono_us() - t0;
	buf_free(&ct);
	buf_free(&pt);
	free(p);
	e2e_ratchet_free(r[0]);
	e2e_ratchet_free(r[1]);
	return (double)t0 / ITERS;
}

/* Print the figures; exit status 0. */
int
main(void)
{
	double raw_small, raw_pad, raw_hdr, small, full, steps;

	if (sodium_init() < 0)
		return 1;
	/* Warm caches and the allocator so the first figure is fair. */
	(void)bench_ratchet(256, 0);
	raw_small = bench_raw(256);
	raw_pad = bench_raw(E2E_PAD);
	raw_hdr = bench_raw(E2E_HEADER_SIZE);
	small = bench_ratchet(256, 0);
	full = bench_ratchet(E2E_MAX_PAYLOAD, 0);
	steps = bench_ratchet(256, 1);
	printf("e2e: raw xchacha20poly1305 seal+open 256 B      %8.2f us/op\n",
	    raw_small);
	printf("e2e: raw xchacha20poly1305 seal+open %5d B    %8.2f us/op\n",
	    E2E_PAD, raw_pad);
	printf("e2e: floor (padded body + header), per message  %8.2f us/op\n",
	    raw_pad + raw_hdr);
	printf("e2e: ratchet enc+dec 256 B payload, same chain  %8.2f us/op\n",
	    small);
	printf("e2e: ratchet enc+dec %5d B payload (max)      %8.2f us/op\n",
	    E2E_MAX_PAYLOAD, full);
	printf("e2e: ratchet enc+dec 256 B, DH step every msg   %8.2f us/op\n",
	    steps);
	return 0;
}
