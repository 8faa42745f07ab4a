/*
 * heap.c -- see heap.h.
 */
#include "heap.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* glibc's largest mmap threshold on 64-bit (HEAP_MAX_SIZE / 2): anything
 * bigger than a shard message and its authenticator stays in the heap. */
#define HEAP_MMAP_MAX (32 << 20)
/* Free memory the heap may keep rather than give back: the buffers of
 * the objects a client keeps in flight (6 shards x 1 MiB x a few dozen
 * objects), so that a steady stream of puts never faults pages in. */
#define HEAP_TRIM_KEEP (256 << 20)
/* Heap advised to use huge pages at start: twice what a put or a get keeps
 * in flight, and below HEAP_TRIM_KEEP, so that it stays in the heap (and
 * the advice with it) however often it empties. */
#define HEAP_HUGE_RESERVE (128 << 20)
/* An allocation bigger than what a heap just started has free, so that
 * taking it grows the heap (by it and the top pad); below HEAP_MMAP_MAX, so
 * that it comes from the heap. */
#define HEAP_PROBE (1 << 20)
/* glibc's default top pad (mallopt(3)), put back once the reserve is in. */
#define GLIBC_TOP_PAD (128 << 10)
/* x86-64's transparent huge page. */
#define HUGE_PAGE_SIZE ((uintptr_t)2 << 20)
/* The page of the heap's free top chunk header, written as the heap grows. */
#define TOP_HEADER_SPAN ((uintptr_t)4096)

/* Grow the heap by HEAP_HUGE_RESERVE in one step, untouched, and advise it
 * to use huge pages.  A 2 MiB span gets a huge page at its first fault only
 * if none of its small pages was touched before the advice, so the heap is
 * grown through the top pad (glibc writes one chunk header at each end of
 * what it takes, nothing in between) rather than by allocations, whose
 * headers would land in the middle.  The span costs no memory until a
 * buffer uses it.  Does nothing unless the heap grew where it was expected
 * to (a sanitizer's allocator, say): never advise memory not the heap's. */
static void heap_advise_huge(void)
{
	uintptr_t before, lo, hi;
	void *p;

	before = (uintptr_t)sbrk(0);
	mallopt(M_TOP_PAD, HEAP_HUGE_RESERVE);
	p = malloc(HEAP_PROBE);
	hi = (uintptr_t)sbrk(0);
	mallopt(M_TOP_PAD, GLIBC_TOP_PAD);
	if (!p)
		return;
	lo = (uintptr_t)p + HEAP_PROBE + TOP_HEADER_SPAN;
	free(p);
	if ((uintptr_t)p < before || lo > hi ||
	    hi - lo < HEAP_HUGE_RESERVE - HEAP_PROBE - HUGE_PAGE_SIZE)
		return;
	lo = (lo + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
	hi &= ~(HUGE_PAGE_SIZE - 1);
	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

void heap_tune(void)
{
	/* Setting either also turns off glibc's sliding threshold, which
	 * would otherwise raise the mmap threshold only after the first
	 * free and trim the heap back between objects. */
	mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_MAX);
	mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_KEEP);
	/* One arena: a buffer the messaging thread allocates lands in the
	 * heap advised below, not in a per-thread arena of small pages
	 * (whose 64 MiB heaps are also unmapped as soon as they empty). */
	mallopt(M_ARENA_MAX, 1);
	heap_advise_huge();
}
