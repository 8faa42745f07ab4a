/*
 * heap.h -- how this program's heap treats big buffers.
 *
 * Shard messages are about a MiB each, and a put or a recovery allocates
 * and frees six of them per object.  glibc serves allocations that big
 * with a fresh mmap and unmaps them on free, so every object's buffers
 * were page-faulted, zeroed and charged to the cgroup again: a third of
 * storectl put's CPU time on a 2-core VM.  Every daemon and tool calls
 * heap_tune() first thing in main().
 */
#ifndef STORE_HEAP_H
#define STORE_HEAP_H

/* Keep buffers up to HEAP_MMAP_MAX in the heap and let the heap keep up to
 * HEAP_TRIM_KEEP of free memory at its top, so that freed buffers are
 * reused as they are.  Cannot fail (a refused setting leaves glibc's). */
void heap_tune(void);

#endif
