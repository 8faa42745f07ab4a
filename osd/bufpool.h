/*
 * bufpool.h -- aligned buffers for O_DIRECT I/O, recycled.
 *
 * Every disk transfer of the shard store goes through a REC_BLOCK-aligned
 * buffer.  Large buffers fresh from the allocator cost a page fault per
 * 4 KiB on first touch (a 1 MiB shard: 256 faults, more than the copy),
 * so freed buffers are kept for reuse, up to a byte budget.  A buffer is
 * reused for a request of at most its size and at least 3/4 of it, so a
 * 4 KiB tombstone never pins a 64 MiB buffer.
 *
 * Not thread-safe: one pool per event loop.
 */
#ifndef STORE_OSD_BUFPOOL_H
#define STORE_OSD_BUFPOOL_H

#include <stddef.h>
#include <stdint.h>

struct bufpool;

/* A pool keeping at most `keep_bytes` of free buffers.  NULL on ENOMEM. */
struct bufpool *bufpool_new(size_t keep_bytes);
void bufpool_free(struct bufpool *p);

/* A buffer of at least len bytes (rounded up to 4 KiB), 4 KiB-aligned;
 * *cap gets its real size.  NULL on ENOMEM. */
void *bufpool_get(struct bufpool *p, size_t len, size_t *cap);

/* Return a buffer from bufpool_get() (cap as returned).  NULL is ignored. */
void bufpool_put(struct bufpool *p, void *buf, size_t cap);

/* Bytes handed out and not yet returned (for tests and stats). */
size_t bufpool_outstanding(const struct bufpool *p);

#endif
