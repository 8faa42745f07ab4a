/*
 * bufpool.c -- see bufpool.h.
 *
 * Two kinds of buffer:
 *
 * SMALL (under BUF_ARENA_MIN): posix_memalign(), and up to BUF_SLOTS of
 * them kept on free for reuse within the byte budget.
 *
 * LARGE: carved, in 4 KiB units, out of arenas: 2 MiB-aligned anonymous
 * mappings advised MADV_HUGEPAGE, so that the kernel backs them with
 * transparent huge pages where it can.  Why it matters: a 1 MiB O_DIRECT
 * transfer from scattered 4 KiB pages is 256 physical segments, and a
 * virtio disk without indirect descriptors spends one ring slot per
 * segment; with a 256-slot ring, one such request fills the ring and the
 * disk serves requests one at a time (measured on this project's VM: a
 * read of a 1 GiB file ran at one request in flight at the device, the
 * rest waiting in the scheduler; from huge pages the same reads went
 * 10+ deep and were not split).  From a huge page a buffer is one
 * segment, or two or three where it straddles a 2 MiB boundary.  Arena
 * pages stay mapped, so reuse costs no page faults either.
 *
 * Arena invariants (arena_check(), inside assert()):
 *   - base is 2 MiB-aligned and len a multiple of 2 MiB;
 *   - bit u of map is set iff 4 KiB unit u is inside a buffer handed out;
 *   - used == the number of set bits;
 *   - every arena is in the pool's list exactly once, and arena_bytes is
 *     the sum of their lengths.
 * Where THP is off the arenas still work, on 4 KiB pages.
 */
#include "bufpool.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Alignment of every buffer: the O_DIRECT unit (REC_BLOCK). */
#define BUF_ALIGN 4096u
/* Free small buffers remembered: a handful per size in use is all a loop
 * with a few dozen requests in flight needs. */
#define BUF_SLOTS 64
/* Buffers from this size up come from the arenas: a shard's data (up to a
 * few MiB), not a 4 KiB tombstone or header. */
#define BUF_ARENA_MIN (64u << 10)
/* The huge page size of x86-64 and arm64 (4 KiB base pages). */
#define BUF_HUGE (2u << 20)
/* An arena: 16 huge pages, room for a dozen 1 MiB shard reads in flight
 * before a second arena is mapped; larger buffers get an arena of their
 * own size. */
#define BUF_ARENA_BYTES (32u << 20)

struct slot {
	void *p;
	size_t cap;
};

struct arena {
	struct arena *next;
	unsigned char *base;
	size_t len;    /* bytes mapped */
	size_t units;  /* len / BUF_ALIGN */
	size_t used;   /* units handed out */
	uint64_t *map; /* one bit per unit */
};

struct bufpool {
	size_t keep, kept, out;
	unsigned n;
	struct slot s[BUF_SLOTS];
	struct arena *arenas;
	size_t arena_bytes, arena_used; /* bytes mapped; bytes handed out */
};

static int unit_set(const struct arena *a, size_t u)
{
	return (int)((a->map[u / 64] >> (u % 64)) & 1);
}

static void units_mark(struct arena *a, size_t u0, size_t n, int on)
{
	for (size_t u = u0; u < u0 + n; u++) {
		if (on)
			a->map[u / 64] |= 1ull << (u % 64);
		else
			a->map[u / 64] &= ~(1ull << (u % 64));
	}
}

/* The arena invariants above (for assert()). */
static int arena_check(const struct arena *a)
{
	size_t set = 0;

	if ((uintptr_t)a->base % BUF_HUGE || a->len % BUF_HUGE ||
	    a->units != a->len / BUF_ALIGN)
		return 0;
	for (size_t w = 0; w < (a->units + 63) / 64; w++)
		set += (size_t)__builtin_popcountll(a->map[w]);
	return set == a->used;
}

/* Map an arena of at least len bytes.  NULL on ENOMEM (nothing mapped). */
static struct arena *arena_new(size_t len)
{
	struct arena *a = calloc(1, sizeof(*a));
	unsigned char *p, *base;
	size_t span;

	if (!a)
		return NULL;
	len = (len + BUF_HUGE - 1) & ~(size_t)(BUF_HUGE - 1);
	a->units = len / BUF_ALIGN;
	a->map = calloc((a->units + 63) / 64, sizeof(*a->map));
	if (!a->map)
		goto fail;
	/* Map one huge page more than needed and trim it to the 2 MiB
	 * boundary: mmap() promises only 4 KiB alignment, and a huge page
	 * can back only an aligned 2 MiB of the mapping. */
	span = len + BUF_HUGE;
	p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		goto fail;
	base = (unsigned char *)(((uintptr_t)p + BUF_HUGE - 1) &
				 ~(uintptr_t)(BUF_HUGE - 1));
	if (base > p)
		munmap(p, (size_t)(base - p));
	if (p + span > base + len)
		munmap(base + len, (size_t)(p + span - (base + len)));
	/* Advice only: without THP the arena works on 4 KiB pages. */
	(void)madvise(base, len, MADV_HUGEPAGE);
	a->base = base;
	a->len = len;
	return a;
fail:
	free(a->map);
	free(a);
	return NULL;
}

static void arena_free(struct arena *a)
{
	munmap(a->base, a->len);
	free(a->map);
	free(a);
}

/* First fit of n free units in a; returns the first unit, or a->units if
 * there is no such run. */
static size_t arena_find(const struct arena *a, size_t n)
{
	size_t u = 0;

	if (a->units - a->used < n)
		return a->units;
	while (u + n <= a->units) {
		size_t run = 0;

		if (u % 64 == 0 && a->map[u / 64] == ~0ull) {
			u += 64; /* a full word: skip it whole */
			continue;
		}
		while (run < n && !unit_set(a, u + run))
			run++;
		if (run == n)
			return u;
		u += run + 1; /* past the used unit that ended the run */
	}
	return a->units;
}

static void *arena_get(struct bufpool *p, size_t want)
{
	size_t n = want / BUF_ALIGN, u;
	struct arena *a;

	for (a = p->arenas; a; a = a->next) {
		u = arena_find(a, n);
		if (u < a->units)
			goto found;
	}
	a = arena_new(want > BUF_ARENA_BYTES ? want : BUF_ARENA_BYTES);
	if (!a)
		return NULL;
	a->next = p->arenas;
	p->arenas = a;
	p->arena_bytes += a->len;
	u = 0;
found:
	units_mark(a, u, n, 1);
	a->used += n;
	p->arena_used += want;
	assert(arena_check(a));
	return a->base + u * BUF_ALIGN;
}

/* Return an arena buffer; 0 if buf is in no arena. */
static int arena_put(struct bufpool *p, void *buf, size_t cap)
{
	unsigned char *b = buf;
	struct arena **pa, *a;

	for (pa = &p->arenas; (a = *pa); pa = &a->next)
		if (b >= a->base && b < a->base + a->len)
			break;
	if (!a)
		return 0;
	assert(b + cap <= a->base + a->len);
	units_mark(a, (size_t)(b - a->base) / BUF_ALIGN, cap / BUF_ALIGN, 0);
	a->used -= cap / BUF_ALIGN;
	p->arena_used -= cap;
	assert(arena_check(a));
	/* An empty arena goes back to the kernel once the free arena bytes
	 * exceed the budget: a burst of large requests does not pin its
	 * peak for ever, and a steady load keeps its arenas. */
	if (a->used == 0 && p->arena_bytes - p->arena_used > p->keep) {
		*pa = a->next;
		p->arena_bytes -= a->len;
		arena_free(a);
	}
	return 1;
}

struct bufpool *bufpool_new(size_t keep_bytes)
{
	struct bufpool *p = calloc(1, sizeof(*p));

	if (p)
		p->keep = keep_bytes;
	return p;
}

void bufpool_free(struct bufpool *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n; i++)
		free(p->s[i].p);
	while (p->arenas) {
		struct arena *a = p->arenas;

		p->arenas = a->next;
		arena_free(a);
	}
	free(p);
}

void *bufpool_get(struct bufpool *p, size_t len, size_t *cap)
{
	size_t want = (len + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
	unsigned best = BUF_SLOTS;
	void *buf;

	if (want == 0)
		want = BUF_ALIGN;
	if (want >= BUF_ARENA_MIN) {
		buf = arena_get(p, want);
		if (!buf)
			return NULL;
		*cap = want;
		p->out += want;
		return buf;
	}
	for (unsigned i = 0; i < p->n; i++) {
		size_t c = p->s[i].cap;

		if (c >= want && c - c / 4 <= want &&
		    (best == BUF_SLOTS || c < p->s[best].cap))
			best = i;
	}
	if (best != BUF_SLOTS) {
		buf = p->s[best].p;
		*cap = p->s[best].cap;
		p->kept -= *cap;
		p->s[best] = p->s[--p->n];
		p->out += *cap;
		return buf;
	}
	if (posix_memalign(&buf, BUF_ALIGN, want))
		return NULL;
	*cap = want;
	p->out += want;
	return buf;
}

void bufpool_put(struct bufpool *p, void *buf, size_t cap)
{
	if (!buf)
		return;
	p->out -= cap;
	if (cap >= BUF_ARENA_MIN && arena_put(p, buf, cap))
		return;
	if (p->kept + cap > p->keep || p->n == BUF_SLOTS) {
		/* Over budget: drop the largest kept buffer if this one is
		 * smaller (small buffers are the ones reused most), else
		 * this one. */
		unsigned big = 0;

		for (unsigned i = 1; i < p->n; i++)
			if (p->s[i].cap > p->s[big].cap)
				big = i;
		if (p->n == 0 || p->s[big].cap <= cap ||
		    p->kept - p->s[big].cap + cap > p->keep) {
			free(buf);
			return;
		}
		p->kept -= p->s[big].cap;
		free(p->s[big].p);
		p->s[big] = p->s[--p->n];
	}
	p->s[p->n].p = buf;
	p->s[p->n].cap = cap;
	p->n++;
	p->kept += cap;
}

size_t bufpool_outstanding(const struct bufpool *p)
{
	return p->out;
}

size_t bufpool_mapped(const struct bufpool *p)
{
	return p->arena_bytes;
}
