/*
 * test_ec.c -- the erasure code: parity is the documented Cauchy code
 * (checked against a slow GF(2^8) reference written here, so the on-disk
 * bytes cannot drift), every erasure pattern of up to m shards decodes back
 * to the original bytes, more than m lost is an error and writes nothing,
 * bad arguments are refused, the decode-table cache hits, stays bounded and
 * serves many threads at once.
 *
 * Every shard buffer is followed by a guard zone that is checked after each
 * call: ISA-L is assembly that ASan does not see, so an overrun would
 * otherwise go unnoticed.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ec.h"

#define GUARD 64
#define GUARD_BYTE 0xEE
#define LOST_BYTE 0xA5

/* The profiles the brief names, small to wide. */
static const unsigned profiles[][2] = { { 2, 1 }, { 4, 2 }, { 8, 3 },
					{ 10, 4 } };

/* Lengths: one byte, just under / at / over a SIMD step, a page plus one. */
static const size_t odd_lens[] = { 1, 63, 4097 };

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* --- GF(2^8) reference: polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D) --- */

static uint8_t ref_mul(uint8_t a, uint8_t b)
{
	uint8_t p = 0;

	while (b) {
		if (b & 1)
			p ^= a;
		a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1D : 0));
		b >>= 1;
	}
	return p;
}

static uint8_t ref_inv(uint8_t a)
{
	unsigned x;

	for (x = 1; x < 256; x++)
		if (ref_mul(a, (uint8_t)x) == 1)
			return (uint8_t)x;
	fail_msg("no inverse of %u", a);
	return 0;
}

/* Parity shard p of the code ec.h documents: coefficient 1 / ((k+p) ^ j)
 * for data shard j, addition being XOR. */
static void ref_parity(unsigned k, unsigned p, size_t len,
		       uint8_t *const *data, uint8_t *out)
{
	uint8_t coef[STORE_EC_MAX_K];
	unsigned j;
	size_t i;

	for (j = 0; j < k; j++)
		coef[j] = ref_inv((uint8_t)((k + p) ^ j));
	memset(out, 0, len);
	for (j = 0; j < k; j++)
		for (i = 0; i < len; i++)
			out[i] ^= ref_mul(coef[j], data[j][i]);
}

/* --- a stripe: originals and working copies, all with guards --- */

struct stripe {
	unsigned k, m, n;
	size_t len;
	uint8_t *orig[STORE_EC_MAX_SHARDS];
	uint8_t *work[STORE_EC_MAX_SHARDS];
};

static uint8_t *guarded_alloc(size_t len)
{
	uint8_t *p = malloc(len + GUARD);

	assert_non_null(p);
	memset(p + len, GUARD_BYTE, GUARD);
	return p;
}

static void check_guards(const struct stripe *s)
{
	unsigned i, j;

	for (i = 0; i < s->n; i++)
		for (j = 0; j < GUARD; j++) {
			assert_int_equal(s->orig[i][s->len + j], GUARD_BYTE);
			assert_int_equal(s->work[i][s->len + j], GUARD_BYTE);
		}
}

/* Random data shards, parity by ec_encode(). */
static void stripe_init(struct stripe *s, struct ec_codec *ec, size_t len,
			uint64_t seed)
{
	uint64_t x = seed | 1;
	unsigned i;
	size_t b;

	memset(s, 0, sizeof(*s));
	s->k = ec_k(ec);
	s->m = ec_m(ec);
	s->n = s->k + s->m;
	s->len = len;
	for (i = 0; i < s->n; i++) {
		s->orig[i] = guarded_alloc(len);
		s->work[i] = guarded_alloc(len);
		memset(s->orig[i], 0, len);
	}
	for (i = 0; i < s->k; i++)
		for (b = 0; b < len; b++)
			s->orig[i][b] = (uint8_t)xorshift(&x);
	ec_encode(ec, len, s->orig, s->orig + s->k);
	check_guards(s);
}

static void stripe_free(struct stripe *s)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		free(s->orig[i]);
		free(s->work[i]);
	}
}

/* Working copy: present shards hold the originals, the rest garbage. */
static void stripe_reset(struct stripe *s, uint32_t present)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		if (present & (1u << i))
			memcpy(s->work[i], s->orig[i], s->len);
		else
			memset(s->work[i], LOST_BYTE, s->len);
	}
}

static int is_filled(const uint8_t *p, size_t len, uint8_t c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

static unsigned binom(unsigned n, unsigned r)
{
	unsigned long c = 1, i;

	for (i = 1; i <= r; i++)
		c = c * (n - r + i) / i;
	return (unsigned)c;
}

static uint32_t all_shards(unsigned n)
{
	return n >= 32 ? UINT32_MAX : (1u << n) - 1;
}

/*
 * Lose `lost`, rebuild all of it, and compare every shard with the original;
 * then rebuild only its lowest shard and check the other lost ones are left
 * alone.
 */
static void decode_pattern(struct ec_codec *ec, struct stripe *s,
			   uint32_t lost)
{
	uint32_t present = all_shards(s->n) & ~lost, one = lost & -lost;
	unsigned i;

	stripe_reset(s, present);
	assert_int_equal(ec_decode(ec, s->len, s->work, present, lost), 0);
	for (i = 0; i < s->n; i++)
		assert_memory_equal(s->work[i], s->orig[i], s->len);

	stripe_reset(s, present);
	assert_int_equal(ec_decode(ec, s->len, s->work, present, one), 0);
	for (i = 0; i < s->n; i++) {
		if (lost & ~one & (1u << i))
			assert_true(is_filled(s->work[i], s->len, LOST_BYTE));
		else
			assert_memory_equal(s->work[i], s->orig[i], s->len);
	}
	check_guards(s);
}

/* --- tests --- */

static void test_create_invalid(void **state)
{
	struct ec_codec *ec = (struct ec_codec *)&ec;

	(void)state;
	assert_int_equal(ec_create(0, 2, &ec), -EINVAL);
	assert_int_equal(ec_create(4, 0, &ec), -EINVAL);
	assert_int_equal(ec_create(4, STORE_EC_MAX_M + 1, &ec), -EINVAL);
	assert_int_equal(ec_create(STORE_EC_MAX_K + 1, 1, &ec), -EINVAL);
	assert_int_equal(ec_create(STORE_EC_MAX_SHARDS, 1, &ec), -EINVAL);
	assert_int_equal(ec_create(-1u, 1, &ec), -EINVAL);
	assert_int_equal(ec_create(4, -1u, &ec), -EINVAL);
	/* Untouched on error. */
	assert_ptr_equal(ec, (struct ec_codec *)&ec);
	ec_destroy(NULL);
}

/* Every valid profile creates, checks, and decodes a worst-case pattern:
 * the last m shards, so the highest shard index (31 for 28+4) is rebuilt. */
static void test_create_all_profiles(void **state)
{
	unsigned k, m;

	(void)state;
	for (k = 1; k <= STORE_EC_MAX_K; k++) {
		for (m = 1; m <= STORE_EC_MAX_M; m++) {
			struct ec_codec *ec = NULL;
			struct stripe s;
			uint32_t lost;

			if (k + m > STORE_EC_MAX_SHARDS)
				continue;
			assert_int_equal(ec_create(k, m, &ec), 0);
			assert_int_equal(ec_k(ec), k);
			assert_int_equal(ec_m(ec), m);
			assert_int_equal(ec_check(ec), 0);
			stripe_init(&s, ec, 128, k * 31 + m);
			lost = all_shards(k + m) & ~all_shards(k);
			decode_pattern(ec, &s, lost);
			/* And the first min(k, m): data shards only. */
			decode_pattern(ec, &s, all_shards(m < k ? m : k));
			stripe_free(&s);
			assert_int_equal(ec_check(ec), 0);
			ec_destroy(ec);
		}
	}
}

static void test_shard_len(void **state)
{
	size_t k, len;

	(void)state;
	assert_int_equal(ec_shard_len(4, 0), 0);
	assert_int_equal(ec_shard_len(4, 1), 64);
	assert_int_equal(ec_shard_len(4, 4u << 20), 1u << 20);
	assert_int_equal(ec_shard_len(8, 4u << 20), 512u << 10);
	assert_int_equal(ec_shard_len(1, 64), 64);
	assert_int_equal(ec_shard_len(1, 65), 128);
	assert_int_equal(ec_shard_len(3, 192), 64);
	assert_int_equal(ec_shard_len(3, 193), 128);
	/* 4 MiB / 10 = 419430.4 -> 419431 -> next multiple of 64. */
	assert_int_equal(ec_shard_len(10, 4u << 20), 419456);
	assert_int_equal(ec_shard_len(28, STORE_SHARD_MAX * 28ul),
			 STORE_SHARD_MAX);
	for (k = 1; k <= STORE_EC_MAX_K; k++) {
		for (len = 1; len < 5000; len += 37) {
			size_t sl = ec_shard_len((unsigned)k, len);

			assert_int_equal(sl % EC_SHARD_ALIGN, 0);
			assert_true(sl * k >= len);
			/* The smallest such: one step less would not do. */
			assert_true((sl - EC_SHARD_ALIGN) * k < len);
		}
	}
}

/* Parity equals the slow reference of the documented code. */
static void test_encode_matches_reference(void **state)
{
	static const size_t lens[] = { 1, 63, 64, 65, 4097 };
	uint8_t *ref = malloc(4097);
	size_t pi, li;
	unsigned p;

	(void)state;
	assert_non_null(ref);
	for (pi = 0; pi < sizeof(profiles) / sizeof(profiles[0]); pi++) {
		struct ec_codec *ec;

		assert_int_equal(ec_create(profiles[pi][0], profiles[pi][1],
					   &ec), 0);
		for (li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
			struct stripe s;

			stripe_init(&s, ec, lens[li], 1000 + pi * 10 + li);
			for (p = 0; p < s.m; p++) {
				ref_parity(s.k, p, s.len, s.orig, ref);
				assert_memory_equal(s.orig[s.k + p], ref,
						    s.len);
			}
			stripe_free(&s);
		}
		ec_destroy(ec);
	}
	free(ref);
}

/* Every pattern of 1..m lost shards, data and parity, at every odd length. */
static void test_all_patterns(void **state)
{
	size_t pi, li;

	(void)state;
	for (pi = 0; pi < sizeof(profiles) / sizeof(profiles[0]); pi++) {
		unsigned k = profiles[pi][0], m = profiles[pi][1];
		struct ec_codec *ec;
		struct ec_stats st;

		assert_int_equal(ec_create(k, m, &ec), 0);
		for (li = 0; li < sizeof(odd_lens) / sizeof(odd_lens[0]);
		     li++) {
			unsigned npat = 0, want_npat = 0, i;
			struct stripe s;
			uint32_t lost;

			stripe_init(&s, ec, odd_lens[li], 7 + pi * 100 + li);
			for (lost = 1; lost <= all_shards(k + m); lost++) {
				if ((unsigned)__builtin_popcount(lost) > m)
					continue;
				decode_pattern(ec, &s, lost);
				npat++;
			}
			stripe_free(&s);
			assert_int_equal(ec_check(ec), 0);
			/* 3, 21, 231, 1470 patterns. */
			for (i = 1; i <= m; i++)
				want_npat += binom(k + m, i);
			assert_int_equal(npat, want_npat);
		}
		/* Single thread, so every miss was inserted: what is not
		 * cached was evicted, and the cache stayed bounded. */
		ec_get_stats(ec, &st);
		assert_int_equal(st.misses, st.cached + st.evictions);
		assert_true(st.hits > 0);
		if (k + m > 6)
			assert_true(st.evictions > 0);
		assert_true(st.cached <= 64);
		ec_destroy(ec);
	}
}

/* More than m lost: -EIO, and not one wanted byte written. */
static void test_too_many_lost(void **state)
{
	size_t pi;

	(void)state;
	for (pi = 0; pi < sizeof(profiles) / sizeof(profiles[0]); pi++) {
		unsigned k = profiles[pi][0], m = profiles[pi][1], i;
		struct ec_codec *ec;
		struct stripe s;
		uint32_t lost, present;

		assert_int_equal(ec_create(k, m, &ec), 0);
		stripe_init(&s, ec, 4097, 99 + pi);
		for (lost = 1; lost <= all_shards(k + m); lost++) {
			if ((unsigned)__builtin_popcount(lost) <= m)
				continue;
			present = all_shards(k + m) & ~lost;
			stripe_reset(&s, present);
			assert_int_equal(ec_decode(ec, s.len, s.work, present,
						   lost), -EIO);
			assert_int_equal(ec_decode(ec, s.len, s.work, present,
						   lost & -lost), -EIO);
			for (i = 0; i < k + m; i++)
				if (lost & (1u << i))
					assert_true(is_filled(s.work[i], s.len,
							      LOST_BYTE));
			/* Asking for nothing is not an error. */
			assert_int_equal(ec_decode(ec, s.len, s.work, present,
						   0), 0);
		}
		check_guards(&s);
		stripe_free(&s);
		ec_destroy(ec);
	}
}

static void test_bad_arguments(void **state)
{
	struct ec_codec *ec;
	struct stripe s;
	uint8_t *keep;

	(void)state;
	assert_int_equal(ec_create(4, 2, &ec), 0);
	stripe_init(&s, ec, 256, 5);
	stripe_reset(&s, 0x3c);
	/* want overlaps present */
	assert_int_equal(ec_decode(ec, s.len, s.work, 0x3c, 0x07), -EINVAL);
	/* bits past shard k+m-1 */
	assert_int_equal(ec_decode(ec, s.len, s.work, 0x3c | 0x40, 0x03),
			 -EINVAL);
	assert_int_equal(ec_decode(ec, s.len, s.work, 0x3c, 0x80000003u),
			 -EINVAL);
	/* a named pointer is NULL: wanted, then present */
	keep = s.work[1];
	s.work[1] = NULL;
	assert_int_equal(ec_decode(ec, s.len, s.work, 0x3c, 0x03), -EINVAL);
	s.work[1] = keep;
	keep = s.work[4];
	s.work[4] = NULL;
	assert_int_equal(ec_decode(ec, s.len, s.work, 0x3c, 0x03), -EINVAL);
	s.work[4] = keep;
	assert_true(is_filled(s.work[0], s.len, LOST_BYTE));
	assert_true(is_filled(s.work[1], s.len, LOST_BYTE));
	/* Unnamed pointers may be NULL: shard 1 lost and not wanted. */
	keep = s.work[1];
	s.work[1] = NULL;
	assert_int_equal(ec_decode(ec, s.len, s.work, 0x3c, 0x01), 0);
	s.work[1] = keep;
	assert_memory_equal(s.work[0], s.orig[0], s.len);
	stripe_free(&s);
	ec_destroy(ec);
}

static void test_zero_length(void **state)
{
	struct ec_codec *ec;
	uint8_t b[6] = { 1, 2, 3, 4, 5, 6 };
	uint8_t *p[6] = { b, b + 1, b + 2, b + 3, b + 4, b + 5 };

	(void)state;
	assert_int_equal(ec_create(4, 2, &ec), 0);
	ec_encode(ec, 0, p, p + 4);
	assert_int_equal(ec_decode(ec, 0, p, 0x3c, 0x03), 0);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[4], 5);
	ec_destroy(ec);
}

/*
 * The same pattern twice: a miss then a hit, same bytes.  The key is the
 * survivors actually read, so losing one more unread shard still hits.
 */
static void test_cache_hit(void **state)
{
	struct ec_codec *ec;
	struct ec_stats st;
	struct stripe s;
	uint32_t all = all_shards(11);

	(void)state;
	assert_int_equal(ec_create(8, 3, &ec), 0);
	stripe_init(&s, ec, 65536 + 17, 3);

	stripe_reset(&s, all & ~0x1u);
	assert_int_equal(ec_decode(ec, s.len, s.work, all & ~0x1u, 0x1), 0);
	assert_memory_equal(s.work[0], s.orig[0], s.len);
	ec_get_stats(ec, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.cached, 1);

	stripe_reset(&s, all & ~0x1u);
	assert_int_equal(ec_decode(ec, s.len, s.work, all & ~0x1u, 0x1), 0);
	assert_memory_equal(s.work[0], s.orig[0], s.len);
	ec_get_stats(ec, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 1);

	/* Shard 10 (parity, unread since 1..8 suffice) also gone: a hit. */
	stripe_reset(&s, all & ~0x401u);
	assert_int_equal(ec_decode(ec, s.len, s.work, all & ~0x401u, 0x1),
			 0);
	assert_memory_equal(s.work[0], s.orig[0], s.len);
	ec_get_stats(ec, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 2);

	/* Wanting shard 10 as well is another table: a miss. */
	stripe_reset(&s, all & ~0x401u);
	assert_int_equal(ec_decode(ec, s.len, s.work, all & ~0x401u, 0x401),
			 0);
	assert_memory_equal(s.work[0], s.orig[0], s.len);
	assert_memory_equal(s.work[10], s.orig[10], s.len);
	ec_get_stats(ec, &st);
	assert_int_equal(st.misses, 2);
	assert_int_equal(st.cached, 2);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(ec_check(ec), 0);
	check_guards(&s);
	stripe_free(&s);
	ec_destroy(ec);
}

/*
 * Threads decode different patterns of one shared codec at once.  There are
 * more patterns (231 for 8+3) than the cache holds, so entries are evicted
 * while other threads still decode with them.
 */
#define NTHREADS 4
#define ROUNDS 3

struct worker {
	struct ec_codec *ec;
	unsigned id;
	unsigned decodes;
	int failed;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint32_t pats[512], all;
	unsigned npat = 0, r, i, j, n;
	struct stripe s;
	uint32_t lost;

	/* No cmocka asserts here: they longjmp, which a thread must not. */
	memset(&s, 0, sizeof(s));
	s.k = ec_k(w->ec);
	s.m = ec_m(w->ec);
	s.n = n = s.k + s.m;
	s.len = 16384 + 27 + w->id;
	all = all_shards(n);
	for (lost = 1; lost <= all; lost++)
		if ((unsigned)__builtin_popcount(lost) <= s.m && npat < 512)
			pats[npat++] = lost;
	for (i = 0; i < n; i++) {
		s.orig[i] = malloc(s.len);
		s.work[i] = malloc(s.len);
		if (!s.orig[i] || !s.work[i]) {
			w->failed = 1;
			goto out;
		}
	}
	for (i = 0; i < s.k; i++)
		for (j = 0; j < s.len; j++)
			s.orig[i][j] = (uint8_t)(i * 131 + j * 7 + w->id);
	ec_encode(w->ec, s.len, s.orig, s.orig + s.k);

	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < npat; i++) {
			lost = pats[(i + w->id * 57) % npat];
			stripe_reset(&s, all & ~lost);
			if (ec_decode(w->ec, s.len, s.work, all & ~lost,
				      lost)) {
				w->failed = 1;
				goto out;
			}
			w->decodes++;
			for (j = 0; j < n; j++)
				if (memcmp(s.work[j], s.orig[j], s.len)) {
					w->failed = 1;
					goto out;
				}
		}
	}
out:
	for (i = 0; i < n; i++) {
		free(s.orig[i]);
		free(s.work[i]);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct worker w[NTHREADS];
	pthread_t tid[NTHREADS];
	struct ec_codec *ec;
	struct ec_stats st;
	unsigned i, total = 0;

	(void)state;
	assert_int_equal(ec_create(8, 3, &ec), 0);
	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .ec = ec, .id = i };
		assert_int_equal(pthread_create(&tid[i], NULL, worker_main,
						&w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_false(w[i].failed);
		total += w[i].decodes;
	}
	assert_int_equal(total, NTHREADS * ROUNDS * 231);
	ec_get_stats(ec, &st);
	assert_int_equal(st.hits + st.misses, total);
	assert_true(st.evictions > 0);
	/* A pattern two threads built at once is inserted only once. */
	assert_true(st.misses >= st.cached + st.evictions);
	assert_int_equal(ec_check(ec), 0);
	ec_destroy(ec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_invalid),
		cmocka_unit_test(test_create_all_profiles),
		cmocka_unit_test(test_shard_len),
		cmocka_unit_test(test_encode_matches_reference),
		cmocka_unit_test(test_all_patterns),
		cmocka_unit_test(test_too_many_lost),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_cache_hit),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
