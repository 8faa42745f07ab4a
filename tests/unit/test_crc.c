/*
 * test_crc.c -- store_crc32c() is the standard CRC-32C: the published
 * vectors (RFC 3720 appendix B.4, the "123456789" check value), agreement
 * with a bit-at-a-time reference at every length and alignment, chaining,
 * and buffers past ISA-L's int length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "crc.h"

/* The CRC-32C definition, one bit at a time: reflected polynomial
 * 0x82F63B78, initial ~0, final inversion.  Slow and obviously right. */
static uint32_t ref_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	int i;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (i = 0; i < 8; i++)
			crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
	}
	return ~crc;
}

/* Deterministic filler (xorshift64), so a failure reproduces. */
static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 32);
	}
}

static void test_check_value(void **state)
{
	(void)state;
	assert_int_equal(store_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(store_crc32c(0, "a", 1), 0xC1D04330u);
}

/* RFC 3720 (iSCSI), appendix B.4, "CRC Examples". */
static void test_rfc3720_vectors(void **state)
{
	static const uint8_t read10[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	uint8_t buf[32];
	int i;

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(store_crc32c(0, buf, 32), 0x8A9136AAu);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(store_crc32c(0, buf, 32), 0x62A8AB43u);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(store_crc32c(0, buf, 32), 0x46DD794Eu);
	for (i = 0; i < 32; i++)
		buf[i] = (uint8_t)(31 - i);
	assert_int_equal(store_crc32c(0, buf, 32), 0x113FDB5Cu);
	assert_int_equal(store_crc32c(0, read10, sizeof(read10)), 0xD9963A56u);
}

static void test_empty(void **state)
{
	uint8_t b = 0x55;

	(void)state;
	assert_int_equal(store_crc32c(0, NULL, 0), 0);
	assert_int_equal(store_crc32c(0, &b, 0), 0);
	/* An empty piece leaves a running checksum as it was. */
	assert_int_equal(store_crc32c(0xE3069283u, &b, 0), 0xE3069283u);
}

/* Every length 0..600 at every offset 0..15: the SIMD paths have different
 * head/tail handling by alignment and size; all must match the definition. */
static void test_matches_reference(void **state)
{
	enum { MAXLEN = 600, MAXOFF = 16 };
	uint8_t *buf = malloc(MAXLEN + MAXOFF);
	size_t len, off;

	(void)state;
	assert_non_null(buf);
	fill(buf, MAXLEN + MAXOFF, 42);
	for (off = 0; off < MAXOFF; off++)
		for (len = 0; len <= MAXLEN; len++)
			assert_int_equal(store_crc32c(0, buf + off, len),
					 ref_crc32c(0, buf + off, len));
	free(buf);
}

/* crc(a || b) == crc(crc(a), b), at every split point and in many pieces. */
static void test_chaining(void **state)
{
	enum { LEN = 1000 };
	uint8_t buf[LEN];
	uint32_t whole, crc;
	size_t split, off, step;

	(void)state;
	fill(buf, LEN, 7);
	whole = store_crc32c(0, buf, LEN);
	assert_int_equal(whole, ref_crc32c(0, buf, LEN));
	for (split = 0; split <= LEN; split++) {
		crc = store_crc32c(0, buf, split);
		crc = store_crc32c(crc, buf + split, LEN - split);
		assert_int_equal(crc, whole);
	}
	for (step = 1; step < 80; step += 7) {
		crc = 0;
		for (off = 0; off < LEN; off += step) {
			size_t n = LEN - off < step ? LEN - off : step;

			crc = store_crc32c(crc, buf + off, n);
		}
		assert_int_equal(crc, whole);
	}
}

/*
 * A buffer longer than 1 GiB goes to ISA-L (int length) in steps: one call
 * must equal the same bytes in 1 MiB pieces.  Untouched anonymous memory
 * reads as the shared zero page, so this costs time, not RAM.
 */
static void test_longer_than_isal_step(void **state)
{
	const size_t len = (1ul << 30) + 4099, piece = 1ul << 20;
	uint32_t one, many = 0;
	uint8_t *p;
	size_t off;

	(void)state;
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
		 MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		skip();
	one = store_crc32c(0, p, len);
	for (off = 0; off < len; off += piece)
		many = store_crc32c(many, p + off,
				    len - off < piece ? len - off : piece);
	munmap(p, len);
	assert_int_equal(one, many);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_value),
		cmocka_unit_test(test_rfc3720_vectors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_chaining),
		cmocka_unit_test(test_longer_than_isal_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
