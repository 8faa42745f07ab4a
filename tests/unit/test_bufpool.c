/*
 * test_bufpool.c -- the OSD's buffer pool: alignment, no overlap between
 * buffers handed out at once (each filled with its own pattern and checked
 * after the others were written), reuse of freed arena space, the budget
 * that returns empty arenas, and, where the kernel gives transparent huge
 * pages and /proc/self/pagemap shows frame numbers (root), that a 1 MiB
 * buffer is physically contiguous in at most two pieces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../osd/bufpool.h"

#define MiB (1u << 20)

static void test_small_and_large(void **state)
{
	struct bufpool *p = bufpool_new(64 * MiB);
	size_t cap;
	void *a, *b;

	(void)state;
	assert_non_null(p);
	a = bufpool_get(p, 1, &cap);
	assert_non_null(a);
	assert_int_equal(cap, 4096);
	assert_int_equal((uintptr_t)a % 4096, 0);
	b = bufpool_get(p, MiB + 12288 - 5, &cap);
	assert_non_null(b);
	assert_int_equal(cap, MiB + 12288);
	assert_int_equal((uintptr_t)b % 4096, 0);
	assert_int_equal(bufpool_outstanding(p), 4096 + MiB + 12288);
	memset(b, 0xab, cap);
	bufpool_put(p, a, 4096);
	bufpool_put(p, b, MiB + 12288);
	assert_int_equal(bufpool_outstanding(p), 0);
	bufpool_free(p);
}

/* Many buffers of mixed sizes at once: none overlaps another. */
static void test_no_overlap(void **state)
{
	enum { N = 80 };
	struct bufpool *p = bufpool_new(64 * MiB);
	uint8_t *buf[N];
	size_t cap[N];

	(void)state;
	assert_non_null(p);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			size_t len = (size_t)(64 << 10) * (1 + (i * 7 + round) % 40);

			buf[i] = bufpool_get(p, len, &cap[i]);
			assert_non_null(buf[i]);
			assert_true(cap[i] >= len);
			memset(buf[i], i + 1, cap[i]);
		}
		for (int i = 0; i < N; i++)
			for (size_t j = 0; j < cap[i]; j += 4096)
				assert_int_equal(buf[i][j], i + 1);
		/* Free every other one, then the rest: holes get reused. */
		for (int i = 0; i < N; i += 2)
			bufpool_put(p, buf[i], cap[i]);
		for (int i = 1; i < N; i += 2)
			bufpool_put(p, buf[i], cap[i]);
		assert_int_equal(bufpool_outstanding(p), 0);
	}
	bufpool_free(p);
}

/* Freed arena space is reused, and arenas beyond the budget go back. */
static void test_reuse_and_budget(void **state)
{
	struct bufpool *p = bufpool_new(32 * MiB);
	uint8_t *b[64];
	size_t cap[64], peak;
	void *again;

	(void)state;
	assert_non_null(p);
	b[0] = bufpool_get(p, MiB, &cap[0]);
	assert_non_null(b[0]);
	bufpool_put(p, b[0], cap[0]);
	again = bufpool_get(p, MiB, &cap[0]);
	assert_ptr_equal(again, b[0]);
	bufpool_put(p, again, cap[0]);
	/* 64 MiB at once: more than one arena. */
	for (int i = 0; i < 64; i++) {
		b[i] = bufpool_get(p, MiB, &cap[i]);
		assert_non_null(b[i]);
	}
	peak = bufpool_mapped(p);
	assert_true(peak >= 64 * MiB);
	for (int i = 0; i < 64; i++)
		bufpool_put(p, b[i], cap[i]);
	/* Only the budget's worth of empty arenas stays mapped. */
	assert_true(bufpool_mapped(p) <= 32 * MiB + 32 * MiB);
	assert_true(bufpool_mapped(p) < peak);
	/* A buffer larger than an arena gets its own. */
	b[0] = bufpool_get(p, 40 * MiB, &cap[0]);
	assert_non_null(b[0]);
	memset(b[0], 1, cap[0]);
	bufpool_put(p, b[0], cap[0]);
	bufpool_free(p);
}

/* The physical frame of virtual page v, or 0 if pagemap does not say. */
static uint64_t frame_of(int fd, const void *v)
{
	uint64_t e;
	off_t off = (off_t)((uintptr_t)v / 4096) * 8;

	if (pread(fd, &e, sizeof(e), off) != (ssize_t)sizeof(e))
		return 0;
	if (!(e & (1ull << 63)))
		return 0; /* not present */
	return e & ((1ull << 55) - 1);
}

static int thp_enabled(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return strstr(line, "[always]") || strstr(line, "[madvise]");
}

/* With THP, a 1 MiB buffer is at most two physically contiguous runs. */
static void test_contiguous(void **state)
{
	struct bufpool *p;
	uint8_t *b;
	size_t cap;
	unsigned runs = 1;
	uint64_t prev;
	int fd;

	(void)state;
	if (!thp_enabled())
		skip();
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		skip();
	p = bufpool_new(64 * MiB);
	assert_non_null(p);
	b = bufpool_get(p, MiB + 8192, &cap);
	assert_non_null(b);
	memset(b, 7, cap);
	prev = frame_of(fd, b);
	if (prev == 0) {
		/* Frame numbers are hidden without CAP_SYS_ADMIN. */
		close(fd);
		bufpool_put(p, b, cap);
		bufpool_free(p);
		skip();
	}
	for (size_t off = 4096; off < cap; off += 4096) {
		uint64_t f = frame_of(fd, b + off);

		assert_int_not_equal(f, 0);
		if (f != prev + 1)
			runs++;
		prev = f;
	}
	close(fd);
	print_message("a %zu byte buffer is %u physical run(s)\n", cap, runs);
	assert_true(runs <= 2);
	bufpool_put(p, b, cap);
	bufpool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_and_large),
		cmocka_unit_test(test_no_overlap),
		cmocka_unit_test(test_reuse_and_budget),
		cmocka_unit_test(test_contiguous),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
