/*
 * heap.c -- see heap.h.
 */
#include "heap.h"

#include <malloc.h>

/* glibc's largest mmap threshold on 64-bit (HEAP_MAX_SIZE / 2): anything
 * bigger than a shard message and its authenticator stays in the heap. */
#define HEAP_MMAP_MAX (32 << 20)
/* Free memory the heap may keep rather than give back: the buffers of
 * the objects a client keeps in flight (6 shards x 1 MiB x a few dozen
 * objects), so that a steady stream of puts never faults pages in. */
#define HEAP_TRIM_KEEP (256 << 20)

void heap_tune(void)
{
	/* Setting either also turns off glibc's sliding threshold, which
	 * would otherwise raise the mmap threshold only after the first
	 * free and trim the heap back between objects. */
	mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_MAX);
	mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_KEEP);
}
