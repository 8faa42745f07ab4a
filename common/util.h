/*
 * util.h -- small helpers every module uses: array sizes, min/max, rounding,
 * clocks.  Header-only; nothing here can fail.
 */
#ifndef STORE_UTIL_H
#define STORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
/* Round n up to a multiple of a, which must be a power of two. */
#define ALIGN_UP(n, a) (((n) + (a) - 1) & ~((__typeof__(n))(a) - 1))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* A file system as df counts it, from its statvfs: bytes in use (blocks
 * not free) and bytes still available to an unprivileged writer. */
static inline uint64_t statvfs_used_bytes(const struct statvfs *sv)
{
	return (uint64_t)(sv->f_blocks - MIN(sv->f_bfree, sv->f_blocks)) *
	       sv->f_frsize;
}

static inline uint64_t statvfs_avail_bytes(const struct statvfs *sv)
{
	return (uint64_t)sv->f_bavail * sv->f_frsize;
}

/* Monotonic clock in nanoseconds: for timeouts and rates, never for dates. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Monotonic clock in milliseconds. */
static inline uint64_t now_ms(void)
{
	return now_ns() / 1000000ull;
}

/* Wall-clock time in nanoseconds since the epoch: for inode times. */
static inline uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
