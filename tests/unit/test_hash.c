/*
 * test_hash.c -- the placement hashes are part of the on-disk contract, so
 * they are pinned to outside references, not to our own output:
 *
 *  - hash64() is XXH64: the vectors of xxHash's own self-test (xxhsum's
 *    sanity check over its generated buffer) plus values computed with the
 *    reference library libxxhash 0.8.1 (Debian's libxxhash0);
 *  - hash32_2/3() are Ceph's CRUSH rjenkins1: values computed from a
 *    transcription of Linux's net/ceph/crush/hash.c;
 *
 * and then checked for what placement needs of them: every input bit
 * matters, and every argument matters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"

#define PRIME32 2654435761u
#define PRIME64 11400714785074694797ull

/* xxHash's test buffer (xxhsum.c, fillTestBuffer / BMK_fillTestBuffer). */
static void fill_sanity(uint8_t *p, size_t len)
{
	uint64_t gen = PRIME32;
	size_t i;

	for (i = 0; i < len; i++) {
		p[i] = (uint8_t)(gen >> 56);
		gen *= PRIME64;
	}
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_xxh64_strings(void **state)
{
	uint8_t r100[100];
	int i;

	(void)state;
	assert_true(hash64("", 0, 0) == 0xEF46DB3751D8E999ull);
	assert_true(hash64("a", 1, 0) == 0xD24EC4F1A98C6E5Bull);
	assert_true(hash64("abc", 3, 0) == 0x44BC2CF5AD770999ull);
	assert_true(hash64("message digest", 14, 0) == 0x066ED728FCEEB3BEull);
	assert_true(hash64("abcdefghijklmnopqrstuvwxyz", 26, 0) ==
		    0xCFE1F278FA89835Cull);
	assert_true(hash64("The quick brown fox jumps over the lazy dog", 43,
			   0) == 0x0B242D361FDA71BCull);
	/* 100 bytes: three rounds of the 32-byte stripe loop, then the 8-,
	 * 4- and 1-byte tails. */
	for (i = 0; i < 100; i++)
		r100[i] = (uint8_t)i;
	assert_true(hash64(r100, 100, 0) == 0x6AC1E58032166597ull);
	assert_true(hash64(r100, 100, 0x123456789ABCDEF0ull) ==
		    0x31DA36536B451675ull);
}

static void test_xxh64_sanity_buffer(void **state)
{
	static const struct {
		size_t len;
		uint64_t seed, want;
	} v[] = {
		/* xxhsum's own self-test. */
		{ 0, 0, 0xEF46DB3751D8E999ull },
		{ 0, PRIME32, 0xAC75FDA2929B17EFull },
		{ 1, 0, 0xE934A84ADB052768ull },
		{ 1, PRIME32, 0x5014607643A9B4C3ull },
		{ 14, 0, 0x8282DCC4994E35C8ull },
		{ 14, PRIME32, 0xC3BD6BF63DEB6DF0ull },
		{ 222, 0, 0xB641AE8CB691C174ull },
		{ 222, PRIME32, 0x20CB8AB7AE10C14Aull },
		/* libxxhash 0.8.1, around the 32-byte stripe boundary. */
		{ 31, 0, 0x299B39A290E6D783ull },
		{ 32, 0, 0x18B216492BB44B70ull },
		{ 33, 0, 0x55C8DC3E578F5B59ull },
		{ 63, PRIME32, 0x6C911FADB05B6FC2ull },
		{ 64, 0, 0xEF558F8ACAC2B5CDull },
		{ 65, PRIME32, 0xD3F6FF3941E310CAull },
		{ 100, 0, 0x4BFE019CD91D9EA4ull },
		{ 1000, PRIME32, 0x72751A2408017E26ull },
	};
	uint8_t buf[1000 + 8], *moved = buf + 3;
	size_t i;

	(void)state;
	fill_sanity(buf, 1000);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_true(hash64(buf, v[i].len, v[i].seed) == v[i].want);
		/* Unaligned input reads the same bytes the same way. */
		memmove(moved, buf, v[i].len);
		assert_true(hash64(moved, v[i].len, v[i].seed) == v[i].want);
		fill_sanity(buf, 1000);
	}
}

/* hash_object() is XXH64 of (ino, objno) as 16 little-endian bytes. */
static void test_hash_object(void **state)
{
	uint8_t key[16];
	uint64_t ino = 0x123456789ABCDEF0ull, objno = 42;
	int i;

	(void)state;
	assert_true(hash_object(0, 0) == 0xAF09F71516247C32ull);
	assert_true(hash_object(1, 0) == 0x6C1CFF0459C8BB10ull);
	assert_true(hash_object(0, 1) == 0x5522E3E91134A8FBull);
	assert_true(hash_object(1, 2) == 0x4B180FEC3EF3D4ACull);
	assert_true(hash_object(2, 1) == 0x41525B709A47B22Bull);
	assert_true(hash_object(ino, objno) == 0xE1F9789E59877D20ull);
	for (i = 0; i < 8; i++) {
		key[i] = (uint8_t)(ino >> (8 * i));
		key[8 + i] = (uint8_t)(objno >> (8 * i));
	}
	assert_true(hash_object(ino, objno) == hash64(key, 16, 0));
}

/* Both arguments move the result, and swapping them does too. */
static void test_hash_object_uses_both(void **state)
{
	uint64_t x = 99, a, b, h;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		a = xorshift(&x);
		b = xorshift(&x);
		h = hash_object(a, b);
		assert_true(h == hash_object(a, b));
		assert_true(h != hash_object(a ^ 1, b));
		assert_true(h != hash_object(a, b ^ 1));
		assert_true(h != hash_object(b, a));
		assert_true(h != hash_object(a, b + (1ull << 63)));
		assert_true(h != hash_object(a + (1ull << 63), b));
	}
}

static void test_jenkins_vectors(void **state)
{
	(void)state;
	assert_int_equal(hash32_2(0, 0), 0x19AD4CE9u);
	assert_int_equal(hash32_2(1, 2), 0xB78DEE9Cu);
	assert_int_equal(hash32_2(2, 1), 0xE38EFE44u);
	assert_int_equal(hash32_2(0xFFFFFFFFu, 0), 0xB31959E2u);
	assert_int_equal(hash32_2(12345, 67890), 0x0F534D46u);
	assert_int_equal(hash32_2(0x9E3779B9u, 0x7F4A7C15u), 0x92A82EF2u);
	assert_int_equal(hash32_2(0x80000000u, 0xFFFFFFFFu), 0xA80C89EAu);
	assert_int_equal(hash32_3(0, 0, 0), 0x7A3BF3B2u);
	assert_int_equal(hash32_3(1, 2, 3), 0x735AD42Bu);
	assert_int_equal(hash32_3(3, 2, 1), 0x02BD2515u);
	assert_int_equal(hash32_3(0xDEADBEEFu, 7, 0), 0x94A9B583u);
	assert_int_equal(hash32_3(100, 200, 300), 0xC6A676FFu);
	/* Every word with high bits set, so no shift or mask can hide. */
	assert_int_equal(hash32_3(0xDEADBEEFu, 0xCAFEBABEu, 0x8BADF00Du),
			 0x05B7427Eu);
	assert_int_equal(hash32_3(0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu),
			 0xB98771C7u);
	assert_int_equal(hash32_3(0x12345678u, 0xFFFFFFFEu, 0x80000001u),
			 0x3E2E09BCu);
	/* hash32_str: XXH64 seeded "host", low 32 bits (libxxhash). */
	assert_int_equal(hash32_str("host-a"), 0x8A95A25Fu);
	assert_int_equal(hash32_str("host-a"), hash32_str("host-a"));
	assert_int_not_equal(hash32_str("host-a"), hash32_str("host-b"));
}

/*
 * Flip each input bit of many random inputs: each input bit should flip about
 * half the output bits (an ignored or weakly mixed bit shows up here, even
 * when the overall mean looks fine), and each output bit should flip about
 * half the time (none stuck, none mirroring an input).  Measured: every
 * figure within 0.5 +- 0.003; the bounds below are loose enough for any
 * sample, tight enough that a mix which dropped an argument or a round fails.
 */
#define SAMPLES 4000

static void avalanche(int nin, int nout, uint64_t (*fn)(const uint32_t *in))
{
	unsigned long per_out[64] = { 0 }, per_in[128] = { 0 };
	uint32_t in[4];
	uint64_t x = 12345, h0, d;
	int s, w, bit, o;

	for (s = 0; s < SAMPLES; s++) {
		for (w = 0; w < nin; w++)
			in[w] = (uint32_t)xorshift(&x);
		h0 = fn(in);
		for (w = 0; w < nin; w++) {
			for (bit = 0; bit < 32; bit++) {
				in[w] ^= 1u << bit;
				d = h0 ^ fn(in);
				in[w] ^= 1u << bit;
				for (o = 0; o < nout; o++)
					per_out[o] += (d >> o) & 1;
				per_in[w * 32 + bit] +=
					(unsigned long)__builtin_popcountll(d);
			}
		}
	}
	for (o = 0; o < nout; o++) {
		double p = (double)per_out[o] / (SAMPLES * nin * 32);

		assert_true(p >= 0.45 && p <= 0.55);
	}
	for (bit = 0; bit < nin * 32; bit++) {
		double p = (double)per_in[bit] / ((double)SAMPLES * nout);

		assert_true(p >= 0.45 && p <= 0.55);
	}
}

static uint64_t fn_h2(const uint32_t *in)
{
	return hash32_2(in[0], in[1]);
}

static uint64_t fn_h3(const uint32_t *in)
{
	return hash32_3(in[0], in[1], in[2]);
}

static uint64_t fn_obj(const uint32_t *in)
{
	return hash_object((uint64_t)in[0] << 32 | in[1],
			   (uint64_t)in[2] << 32 | in[3]);
}

static void test_avalanche(void **state)
{
	(void)state;
	avalanche(2, 32, fn_h2);
	avalanche(3, 32, fn_h3);
	avalanche(4, 64, fn_obj);
}

/* Determinism, and every argument position matters. */
static void test_jenkins_arguments(void **state)
{
	uint64_t x = 777;
	uint32_t a, b, c;
	unsigned same2 = 0, same3 = 0;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		a = (uint32_t)xorshift(&x);
		b = (uint32_t)xorshift(&x);
		c = (uint32_t)xorshift(&x);
		assert_int_equal(hash32_2(a, b), hash32_2(a, b));
		assert_int_equal(hash32_3(a, b, c), hash32_3(a, b, c));
		same2 += hash32_2(a, b) == hash32_2(b, a);
		same3 += hash32_3(a, b, c) == hash32_3(a, c, b);
		same3 += hash32_3(a, b, c) == hash32_3(c, b, a);
		same3 += hash32_3(a, b, c) == hash32_3(a, b, c + 1);
	}
	/* A 32-bit hash collides by chance about once in 4e9. */
	assert_true(same2 <= 1);
	assert_true(same3 <= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xxh64_strings),
		cmocka_unit_test(test_xxh64_sanity_buffer),
		cmocka_unit_test(test_hash_object),
		cmocka_unit_test(test_hash_object_uses_both),
		cmocka_unit_test(test_jenkins_vectors),
		cmocka_unit_test(test_avalanche),
		cmocka_unit_test(test_jenkins_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
