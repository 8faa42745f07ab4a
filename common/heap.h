/*
 * heap.h -- how this program's heap treats big buffers.
 *
 * Shard messages are about a MiB each, and a put or a recovery allocates
 * and frees six of them per object.  glibc serves allocations that big
 * with a fresh mmap and unmaps them on free, so every object's buffers
 * were page-faulted, zeroed and charged to the cgroup again: a third of
 * storectl put's CPU time on a 2-core VM.  Even kept in the heap, the
 * buffers of the objects in flight (60-70 MiB for a put or a get) are
 * touched once per run: 15,000 faults of 4 KiB pages, a quarter of a
 * short-lived storectl's CPU time on this VM, where a fault is expensive.
 * So the heap is one arena whose first HEAP_HUGE_RESERVE bytes use
 * transparent huge pages (a few dozen faults).  Every daemon and tool
 * calls heap_tune() first thing in main(), before any thread starts.
 */
#ifndef STORE_HEAP_H
#define STORE_HEAP_H

/* Keep buffers up to HEAP_MMAP_MAX in the heap and let the heap keep up to
 * HEAP_TRIM_KEEP of free memory at its top, so that freed buffers are
 * reused as they are; serve every thread from the one main arena; advise
 * the first HEAP_HUGE_RESERVE bytes of it to use huge pages.  Cannot fail
 * (a refused setting or advice leaves glibc's and the kernel's default). */
void heap_tune(void);

#endif
