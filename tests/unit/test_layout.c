/*
 * test_layout.c -- striping of objects over shards: every byte lands where
 * layout_shard_of/off say, scatter then gather gives the bytes back for
 * every range, padding is zero, geometry does not depend on length, and
 * placing an object byte by byte and zeroing its tail gives the same
 * shards as one scatter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "layout.h"

#include <stdlib.h>
#include <string.h>

#define MIN_U32(a, b) ((a) < (b) ? (a) : (b))

static void roundtrip(unsigned k, uint32_t len)
{
	uint32_t slen = layout_shard_len(k, len);
	uint8_t *obj = malloc(len + 1), *back = malloc(len + 1);
	uint8_t *shards[32];

	assert_non_null(obj);
	assert_non_null(back);
	for (uint32_t i = 0; i < len; i++)
		obj[i] = (uint8_t)(i * 131 + i / 4096);
	for (unsigned s = 0; s < k; s++) {
		shards[s] = malloc(slen + 1);
		assert_non_null(shards[s]);
		memset(shards[s], 0xee, slen + 1);
	}
	layout_scatter(k, obj, len, shards, slen);
	/* Every byte where the geometry says, padding zero, nothing past. */
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(shards[layout_shard_of(k, i)]
				       [layout_shard_off(k, i)], obj[i]);
	for (unsigned s = 0; s < k; s++) {
		uint64_t data_bytes = 0;

		for (uint32_t o = 0; o < slen; o++) {
			/* Which object byte would live here? */
			uint64_t row = o / STORE_STRIPE_UNIT;
			uint64_t b = (row * k + s) * STORE_STRIPE_UNIT +
				     o % STORE_STRIPE_UNIT;

			if (b >= len)
				assert_int_equal(shards[s][o], 0);
			else
				data_bytes++;
		}
		(void)data_bytes;
		assert_int_equal(shards[s][slen], 0xee);
	}
	/* Gather of assorted ranges. */
	for (uint32_t off = 0; off < len; off += 1 + off / 3) {
		uint32_t n = MIN_U32(len - off, 1 + (off * 7919) % 20000);

		memset(back, 0, n);
		layout_gather(k, (const uint8_t *const *)shards, 0, off, n, back);
		assert_memory_equal(back, obj + off, n);
	}
	layout_gather(k, (const uint8_t *const *)shards, 0, 0, len, back);
	assert_memory_equal(back, obj, len);
	for (unsigned s = 0; s < k; s++)
		free(shards[s]);
	free(obj);
	free(back);
}

static void test_roundtrip(void **state)
{
	static const unsigned ks[] = { 1, 2, 3, 4, 8, 10 };
	static const uint32_t lens[] = { 1, 100, 4095, 4096, 4097, 16384,
					 16385, 100000, 1 << 20, (4 << 20) - 1,
					 4 << 20 };

	(void)state;
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			roundtrip(ks[i], lens[j]);
}

static void test_geometry(void **state)
{
	(void)state;
	/* 4 MiB over 4 shards: 1 MiB each, exactly. */
	assert_int_equal(layout_shard_len(4, 4 << 20), 1 << 20);
	assert_int_equal(layout_shard_len(4, 1), 4096);
	assert_int_equal(layout_shard_len(4, 16384), 4096);
	assert_int_equal(layout_shard_len(4, 16385), 8192);
	assert_int_equal(layout_shard_len(3, 0), 0);
	/* Byte positions never depend on the object's length. */
	assert_int_equal(layout_shard_of(4, 0), 0);
	assert_int_equal(layout_shard_of(4, 4096), 1);
	assert_int_equal(layout_shard_of(4, 4 * 4096), 0);
	assert_int_equal(layout_shard_off(4, 4 * 4096 + 5), 4096 + 5);
	assert_int_equal(layout_shard_off(4, 3 * 4096 + 7), 7);
}

/* An object read into its shards in pieces of odd sizes, each byte where
 * layout_shard_of/off say (what a writer reading a file with readv()
 * does), then its tail zeroed, is byte for byte what one layout_scatter()
 * makes, over dirty buffers. */
static void test_put_pieces(void **state)
{
	static const unsigned ks[] = { 1, 3, 4, 8 };
	static const uint32_t lens[] = { 1, 4095, 4097, 100000, (4 << 20) - 1,
					 4 << 20 };

	(void)state;
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			unsigned k = ks[i];
			uint32_t len = lens[j], slen = layout_shard_len(k, len);
			uint8_t *obj = malloc(len), *a[8], *b[8];

			assert_non_null(obj);
			for (uint32_t x = 0; x < len; x++)
				obj[x] = (uint8_t)(x * 7 + x / 5000);
			for (unsigned s = 0; s < k; s++) {
				a[s] = malloc(slen);
				b[s] = malloc(slen);
				assert_true(a[s] && b[s]);
				memset(a[s], 0x5a, slen);
				memset(b[s], 0xa5, slen);
			}
			layout_scatter(k, obj, len, a, slen);
			for (uint32_t x = 0; x < len; x++)
				b[layout_shard_of(k, x)][layout_shard_off(k, x)] =
					obj[x];
			layout_zero_tail(k, len, b, slen);
			for (unsigned s = 0; s < k; s++) {
				assert_memory_equal(a[s], b[s], slen);
				free(a[s]);
				free(b[s]);
			}
			free(obj);
		}
	}
}

/* Gather from buffers that hold only a window of each shard. */
static void test_window(void **state)
{
	enum { K = 4, LEN = 1 << 20 };
	uint32_t slen = layout_shard_len(K, LEN);
	uint8_t *obj = malloc(LEN), *shards[K], *win[K], back[30000];
	uint32_t base = 8192;

	(void)state;
	for (uint32_t i = 0; i < LEN; i++)
		obj[i] = (uint8_t)(i ^ (i >> 9));
	for (unsigned s = 0; s < K; s++)
		shards[s] = malloc(slen);
	layout_scatter(K, obj, LEN, shards, slen);
	for (unsigned s = 0; s < K; s++)
		win[s] = shards[s] + base;
	/* Bytes of rows 2..: object offset 2 * 4 * 4096 onwards. */
	layout_gather(K, (const uint8_t *const *)win, base, 32768 + 100,
		      sizeof(back), back);
	assert_memory_equal(back, obj + 32768 + 100, sizeof(back));
	for (unsigned s = 0; s < K; s++)
		free(shards[s]);
	free(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_put_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
