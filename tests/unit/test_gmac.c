/*
 * test_gmac.c -- gmac_tag() is AES-256-GCM's tag of associated data with
 * an empty message: NIST's empty-input vector, and agreement with
 * libsodium (an independent implementation) at every length up to a few
 * main-loop turns, every alignment, every length around where the
 * AVX-512 loop starts, random lengths up to 2 MiB and random
 * keys and nonces; a flipped bit anywhere changes the tag; and the signed
 * frames of auth.c still verify under libsodium's own decrypt.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "gmac.h"

/* Skip (not pass) where the CPU has no fast path or no AES-NI: nothing
 * to compare. */
static void need_fast(void)
{
	uint8_t k[32] = { 0 }, n[12] = { 0 }, t[16];

	if (gmac_tag_fast(k, n, NULL, 0, t) == -ENOTSUP ||
	    !crypto_aead_aes256gcm_is_available())
		skip();
}

/* NIST GCM test case 13 (McGrew and Viega): K = 0^256, IV = 0^96, no
 * plaintext, no AAD. */
static void test_nist_empty(void **state)
{
	static const uint8_t want[16] = { 0x53, 0x0f, 0x8a, 0xfb, 0xc7, 0x45,
					  0x36, 0xb9, 0xa9, 0x63, 0xb4, 0xf1,
					  0xc4, 0xcb, 0x73, 0x8b };
	uint8_t k[32] = { 0 }, n[12] = { 0 }, t[16];

	(void)state;
	need_fast();
	assert_int_equal(gmac_tag_fast(k, n, NULL, 0, t), 0);
	assert_memory_equal(t, want, 16);
	assert_int_equal(gmac_tag_sodium(k, n, NULL, 0, t), 0);
	assert_memory_equal(t, want, 16);
	assert_int_equal(gmac_tag(k, n, NULL, 0, t), 0);
	assert_memory_equal(t, want, 16);
}

/* Lengths 0..1100 (every tail of every block count, four turns of the
 * 256-byte main loop) at alignments 0..31, under one key per length. */
static void test_every_length(void **state)
{
	enum { MAXLEN = 1100, ALIGNS = 32 };
	uint8_t *buf = malloc(MAXLEN + ALIGNS), k[32], n[12], a[16], b[16];

	(void)state;
	need_fast();
	assert_non_null(buf);
	randombytes_buf(buf, MAXLEN + ALIGNS);
	for (size_t len = 0; len <= MAXLEN; len++) {
		randombytes_buf(k, sizeof(k));
		randombytes_buf(n, sizeof(n));
		for (size_t al = 0; al < ALIGNS; al++) {
			assert_int_equal(gmac_tag_fast(k, n, buf + al, len, a),
					 0);
			assert_int_equal(
				gmac_tag_sodium(k, n, buf + al, len, b), 0);
			assert_memory_equal(a, b, 16);
		}
	}
	free(buf);
}

/* Lengths 4096..5200 (where the AVX-512 loop starts: every count of
 * blocks it leaves to the 256-bit loop and to the tail) at three
 * alignments. */
static void test_wide_lengths(void **state)
{
	enum { MINLEN = 4096, MAXLEN = 5200 };
	static const size_t aligns[] = { 0, 1, 17 };
	uint8_t *buf = malloc(MAXLEN + 32), k[32], n[12], a[16], b[16];

	(void)state;
	need_fast();
	assert_non_null(buf);
	randombytes_buf(buf, MAXLEN + 32);
	randombytes_buf(k, sizeof(k));
	randombytes_buf(n, sizeof(n));
	for (size_t len = MINLEN; len <= MAXLEN; len++) {
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(
				gmac_tag_fast(k, n, buf + aligns[i], len, a),
				0);
			assert_int_equal(gmac_tag_sodium(k, n, buf + aligns[i],
							 len, b),
					 0);
			assert_memory_equal(a, b, 16);
		}
	}
	free(buf);
}

/* Random lengths up to 2 MiB (the size of the biggest frames), random
 * offsets. */
static void test_long_random(void **state)
{
	enum { MAXLEN = 2 << 20 };
	uint8_t *buf = malloc(MAXLEN + 64), k[32], n[12], a[16], b[16];

	(void)state;
	need_fast();
	assert_non_null(buf);
	randombytes_buf(buf, MAXLEN + 64);
	for (int i = 0; i < 64; i++) {
		size_t len = randombytes_uniform(MAXLEN);
		size_t off = randombytes_uniform(64);

		if (i == 0)
			len = MAXLEN;
		randombytes_buf(k, sizeof(k));
		randombytes_buf(n, sizeof(n));
		assert_int_equal(gmac_tag_fast(k, n, buf + off, len, a), 0);
		assert_int_equal(gmac_tag_sodium(k, n, buf + off, len, b), 0);
		assert_memory_equal(a, b, 16);
	}
	free(buf);
}

/* One flipped bit in the data, the key or the nonce gives another tag
 * (and still libsodium's). */
static void test_bit_flips(void **state)
{
	enum { LEN = 777 };
	uint8_t buf[LEN], k[32], n[12], t0[16], a[16], b[16];

	(void)state;
	need_fast();
	randombytes_buf(buf, sizeof(buf));
	randombytes_buf(k, sizeof(k));
	randombytes_buf(n, sizeof(n));
	assert_int_equal(gmac_tag_fast(k, n, buf, LEN, t0), 0);
	for (size_t bit = 0; bit < 8 * LEN; bit += 7) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(gmac_tag_fast(k, n, buf, LEN, a), 0);
		assert_int_equal(gmac_tag_sodium(k, n, buf, LEN, b), 0);
		assert_memory_equal(a, b, 16);
		assert_memory_not_equal(a, t0, 16);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	k[31] ^= 0x80;
	assert_int_equal(gmac_tag_fast(k, n, buf, LEN, a), 0);
	assert_memory_not_equal(a, t0, 16);
	k[31] ^= 0x80;
	n[0] ^= 1;
	assert_int_equal(gmac_tag_fast(k, n, buf, LEN, a), 0);
	assert_memory_not_equal(a, t0, 16);
}

/* The tag libsodium's decrypt accepts is the one gmac_tag() made: what
 * a peer still on libsodium does with our frames. */
static void test_sodium_accepts(void **state)
{
	enum { LEN = 65536 + 100 };
	uint8_t *buf = malloc(LEN), k[32], n[12], t[16], none[1] = { 0 };

	(void)state;
	need_fast();
	assert_non_null(buf);
	randombytes_buf(buf, LEN);
	randombytes_buf(k, sizeof(k));
	randombytes_buf(n, sizeof(n));
	assert_int_equal(gmac_tag(k, n, buf, LEN, t), 0);
	assert_int_equal(crypto_aead_aes256gcm_decrypt_detached(
				 none, NULL, none, 0, t, buf, LEN, n, k),
			 0);
	buf[LEN - 1] ^= 1;
	assert_int_not_equal(crypto_aead_aes256gcm_decrypt_detached(
				     none, NULL, none, 0, t, buf, LEN, n, k),
			     0);
	free(buf);
}

/* Where the CPU has the fast path, the self-test turned it on. */
static void test_init_turns_fast_on(void **state)
{
	(void)state;
	need_fast();
	assert_int_equal(gmac_init(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nist_empty),
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_wide_lengths),
		cmocka_unit_test(test_long_random),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_sodium_accepts),
		cmocka_unit_test(test_init_turns_fast_on),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
