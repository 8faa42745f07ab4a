/*
 * bufpool.c -- see bufpool.h.
 */
#include "bufpool.h"

#include <stdlib.h>

/* Alignment of every buffer: the O_DIRECT unit (REC_BLOCK). */
#define BUF_ALIGN 4096u
/* Free buffers remembered: a handful per size in use is all a loop with a
 * few dozen requests in flight needs. */
#define BUF_SLOTS 64

struct slot {
	void *p;
	size_t cap;
};

struct bufpool {
	size_t keep, kept, out;
	unsigned n;
	struct slot s[BUF_SLOTS];
};

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
	free(p);
}

void *bufpool_get(struct bufpool *p, size_t len, size_t *cap)
{
	size_t want = (len + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
	unsigned best = BUF_SLOTS;
	void *buf;

	if (want == 0)
		want = BUF_ALIGN;
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
