/*
 * store_check.c -- store_check(): the invariants listed in store.c,
 * verified against the structures and, with STORE_CHECK_DISK, against the
 * log on disk.  Slow (it walks everything); for tests and assert().
 */
#include "store_int.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct extent {
	uint64_t seg, off, len;
};

static int extent_cmp(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return 0;
}

static int entry_node_cmp(const struct avl_node *a, const struct avl_node *b)
{
	return wire_shard_id_cmp(&avl_entry(a, struct sentry, node)->id,
				 &avl_entry(b, struct sentry, node)->id);
}

static int tomb_node_cmp(const struct avl_node *a, const struct avl_node *b)
{
	const struct stomb *x = avl_entry(a, struct stomb, node);
	const struct stomb *y = avl_entry(b, struct stomb, node);
	struct wire_shard_id i = x->id, j = y->id;
	int c = wire_shard_id_cmp(&i, &j);

	if (c)
		return c;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

struct ck {
	char *why;
	size_t len;
	int bad;
};

static int fail(struct ck *ck, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct ck *ck, const char *fmt, ...)
{
	va_list ap;

	if (!ck->bad) {
		va_start(ap, fmt);
		vsnprintf(ck->why, ck->len, fmt, ap);
		va_end(ap);
	}
	ck->bad = 1;
	return -EUCLEAN;
}

static uint32_t seg_index(const struct store *s, const struct seg *g)
{
	for (uint32_t i = 0; i < s->n_segs; i++)
		if (s->segs[i] == g)
			return i;
	return UINT32_MAX;
}

/* Is a dead PUT record covered by something that will outlive it? */
static int covered(struct store *s, const struct rec_hdr *h, struct seg *g)
{
	struct sentry *e = index_find(s, &h->id);
	struct avl_node *n;
	struct {
		struct wire_shard_id id;
		uint64_t seq;
	} k;

	if (e && e->seq >= h->seq &&
	    (e->seg == g || segset_has(&e->shadows, g->id)))
		return 1;
	k.id = h->id;
	k.seq = 0;
	for (n = avl_lower_bound(&s->tombs, &k); n; n = avl_next(n)) {
		struct stomb *t = avl_entry(n, struct stomb, node);

		if (t->id.pool != h->id.pool || t->id.ino != h->id.ino ||
		    t->id.objno != h->id.objno || t->id.index != h->id.index)
			break;
		if (t->seq > h->seq &&
		    (t->older ? h->id.version < t->id.version :
				h->id.version == t->id.version) &&
		    segset_has(&t->deps, g->id))
			return 1;
	}
	return 0;
}

/* Would the startup scan skip this record?  It skips one with a bad crc
 * array, and in an unsealed segment one with bad data. */
static int scan_skips(struct store *s, struct seg *g, const struct rec_hdr *h,
		      uint64_t off, uint8_t *buf)
{
	uint32_t meta = rec_meta_len(h->shard_len), bad;

	if (io_sync_pread_full(s->ring, g->fd, buf, h->rec_len, off) ||
	    rec_csums_check(h, buf, meta))
		return 1;
	return !g->sealed && rec_data_check(h, buf, buf + meta, 0,
					    rec_ncsums(h->shard_len), &bad);
}

static int check_disk(struct store *s, struct ck *ck)
{
	size_t cap = 0;
	uint8_t *buf = NULL;
	struct avl_node *n;
	int rc = 0;

	buf = bufpool_get(s->pool, REC_MAX_LEN, &cap);
	if (!buf)
		return fail(ck, "out of memory");
	/* Every live record reads back as the index says. */
	for (n = avl_first(&s->index); n && !rc; n = avl_next(n)) {
		struct sentry *e = avl_entry(n, struct sentry, node);
		uint32_t meta = rec_meta_len(e->shard_len);
		struct rec_hdr h;

		if (io_sync_pread_full(s->ring, e->seg->fd, buf, meta,
				       e->off) ||
		    rec_hdr_decode(buf, meta, &h) || h.type != REC_PUT ||
		    wire_shard_id_cmp(&h.id, &e->id) || h.seq != e->seq ||
		    h.lsn != e->lsn || h.shard_len != e->shard_len ||
		    h.k != e->k || h.m != e->m || h.obj_len != e->obj_len ||
		    rec_csums_check(&h, buf, meta))
			rc = fail(ck, "I7: the record of shard %" PRIu64 "/%"
				  PRIu64 "/%u v%" PRIx64 " at %s:%" PRIu64
				  " does not match the index", e->id.ino,
				  e->id.objno, e->id.index, e->id.version,
				  e->seg->name, e->off);
	}
	for (n = avl_first(&s->tombs); n && !rc; n = avl_next(n)) {
		struct stomb *t = avl_entry(n, struct stomb, node);
		struct rec_hdr h;

		if (io_sync_pread_full(s->ring, t->seg->fd, buf, REC_BLOCK,
				       t->off) ||
		    rec_hdr_decode(buf, REC_BLOCK, &h) ||
		    h.type != REC_DELETE || h.seq != t->seq ||
		    wire_shard_id_cmp(&h.id, &t->id) ||
		    !(h.flags & REC_F_OLDER) != !t->older)
			rc = fail(ck, "I7: the tombstone at %s:%" PRIu64
				  " does not match its record", t->seg->name,
				  t->off);
	}
	/* Every PUT in every segment is live or covered. */
	for (uint32_t i = 0; i < s->n_segs && !rc; i++) {
		struct seg *g = s->segs[i];
		uint64_t limit = g->end, off = REC_BLOCK;

		for (struct srec *r = s->q_head; r; r = r->next)
			if (r->seg == g && r->off < limit)
				limit = r->off;
		if (g->state == SEG_HEAD && s->w_head)
			continue;
		while (off + REC_BLOCK <= limit && !rc) {
			struct rec_hdr h;

			if (io_sync_pread_full(s->ring, g->fd, buf, REC_BLOCK,
					       off) ||
			    rec_hdr_decode(buf, REC_BLOCK, &h)) {
				rc = fail(ck, "I7: no valid record at %s:%"
					  PRIu64 " (end %" PRIu64 ")", g->name,
					  off, g->end);
				break;
			}
			if (h.type == REC_SEAL)
				break;
			if (h.type == REC_PUT) {
				struct sentry *e = index_find(s, &h.id);
				int live = e && e->seg == g && e->off == off;

				/* The scan skips some damaged records: so
				 * may we. */
				if (!live && !covered(s, &h, g) &&
				    !scan_skips(s, g, &h, off, buf))
					rc = fail(ck, "I7: the PUT at %s:%"
						  PRIu64 " (ino %" PRIu64
						  " v%" PRIx64 ") is neither "
						  "live nor covered", g->name,
						  off, h.id.ino, h.id.version);
			} else if (!tomb_find(s, &h.id, h.seq)) {
				rc = fail(ck, "I7: the DELETE at %s:%" PRIu64
					  " has no tombstone in memory",
					  g->name, off);
			}
			off += h.rec_len;
		}
	}
	bufpool_put(s->pool, buf, cap);
	return rc;
}

int store_check(struct store *s, unsigned flags, char *why, size_t whylen)
{
	struct ck ck = { why, whylen, 0 };
	struct extent *ext = NULL;
	uint64_t *acc = NULL;
	unsigned *pend = NULL;
	size_t n_ext = 0, n_tombs = 0;
	unsigned n_written = 0;
	struct avl_node *n;
	uint64_t last_lsn = 0;

	why[0] = '\0';
	if (avl_check(&s->index, entry_node_cmp))
		return fail(&ck, "I1: the index tree is malformed");
	if (avl_check(&s->tombs, tomb_node_cmp))
		return fail(&ck, "I1: the tombstone tree is malformed");
	acc = calloc(s->n_segs + 1, sizeof(*acc));
	pend = calloc(s->n_segs + 1, sizeof(*pend));
	ext = calloc(s->index.count + s->tombs.count + 1, sizeof(*ext));
	if (!acc || !pend || !ext) {
		fail(&ck, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < s->n_segs; i++) {
		struct seg *g = s->segs[i];

		if (i && s->segs[i - 1]->id >= g->id)
			fail(&ck, "I1: the segment table is not sorted");
		if (g->removed || g->end < REC_BLOCK || g->end > g->size ||
		    g->end % REC_BLOCK)
			fail(&ck, "I1: segment %s: end %" PRIu64
			     " size %" PRIu64 " removed %d", g->name, g->end,
			     g->size, g->removed);
		if ((g->state == SEG_HEAD) != (g == s->head) ||
		    (g->state == SEG_NEXT) != (g == s->next))
			fail(&ck, "segment %s has state %d", g->name, g->state);
	}
	for (n = avl_first(&s->index); n; n = avl_next(n)) {
		struct sentry *e = avl_entry(n, struct sentry, node);
		uint32_t i = seg_index(s, e->seg);

		if (i == UINT32_MAX) {
			fail(&ck, "I1: an entry points to a segment not in the "
			     "table");
			goto out;
		}
		if (e->off < REC_BLOCK || e->off % REC_BLOCK ||
		    e->off + e->rec_len > e->seg->end)
			fail(&ck, "I1: entry at %s:%" PRIu64 " len %u lies "
			     "outside [4096, %" PRIu64 ")", e->seg->name,
			     e->off, e->rec_len, e->seg->end);
		if (e->rec_len != rec_len(e->shard_len) || !e->seq ||
		    e->seq > e->lsn || !e->id.version)
			fail(&ck, "I2: entry at %s:%" PRIu64 " is inconsistent",
			     e->seg->name, e->off);
		if (tomb_covering(s, &e->id, e->seq))
			fail(&ck, "I3: a tombstone covers the live shard "
			     "at %s:%" PRIu64, e->seg->name, e->off);
		acc[i] += e->rec_len;
		ext[n_ext].seg = e->seg->id;
		ext[n_ext].off = e->off;
		ext[n_ext].len = e->rec_len;
		n_ext++;
	}
	for (uint32_t i = 0; i < s->n_segs; i++) {
		struct seg *g = s->segs[i];

		for (struct stomb *t = g->tombs; t; t = t->snext) {
			int foreign = 0;

			n_tombs++;
			if (t->seg != g || (t->snext && t->snext->sprev != t) ||
			    (!t->sprev && g->tombs != t) ||
			    tomb_find(s, &t->id, t->seq) != t)
				fail(&ck, "I5: tombstone list of %s is broken",
				     g->name);
			if (t->off < REC_BLOCK || t->off % REC_BLOCK ||
			    t->off + REC_BLOCK > g->end)
				fail(&ck, "I1: tombstone at %s:%" PRIu64
				     " lies outside the segment", g->name,
				     t->off);
			for (uint32_t d = 0; d < t->deps.n; d++) {
				struct seg *dg = seg_find(s, t->deps.v[d]);
				int found = 0;

				if (d && t->deps.v[d - 1] >= t->deps.v[d])
					fail(&ck, "I5: deps not sorted");
				if (t->deps.v[d] != g->id)
					foreign = 1;
				if (!dg)
					continue;
				for (uint32_t j = 0; j < dg->n_rdeps; j++)
					if (dg->rdeps[j] == t)
						found = 1;
				if (!found)
					fail(&ck, "I5: tombstone at %s:%" PRIu64
					     " depends on %s but is not in its "
					     "rdeps", g->name, t->off,
					     dg->name);
			}
			if (foreign != t->counted)
				fail(&ck, "I4: tombstone at %s:%" PRIu64
				     " counted %d, foreign deps %d", g->name,
				     t->off, t->counted, foreign);
			if (t->counted)
				acc[i] += REC_BLOCK;
			ext[n_ext].seg = g->id;
			ext[n_ext].off = t->off;
			ext[n_ext].len = REC_BLOCK;
			n_ext++;
			if (n_ext > s->index.count + s->tombs.count) {
				fail(&ck, "I5: more tombstones in lists than "
				     "in the tree");
				goto out;
			}
		}
		for (uint32_t j = 0; j < g->n_rdeps; j++) {
			struct stomb *t = g->rdeps[j];

			if (tomb_find(s, &t->id, t->seq) != t ||
			    !segset_has(&t->deps, g->id))
				fail(&ck, "I5: %s lists a tombstone that does "
				     "not depend on it", g->name);
		}
	}
	if (n_tombs != s->tombs.count)
		fail(&ck, "I5: %zu tombstones in segment lists, %zu in the "
		     "tree", n_tombs, s->tombs.count);
	for (uint32_t i = 0; i < s->n_segs; i++)
		if (acc[i] != s->segs[i]->live)
			fail(&ck, "I4: segment %s: live %" PRIu64 ", records "
			     "say %" PRIu64, s->segs[i]->name,
			     s->segs[i]->live, acc[i]);
	qsort(ext, n_ext, sizeof(*ext), extent_cmp);
	for (size_t i = 1; i < n_ext; i++)
		if (ext[i].seg == ext[i - 1].seg &&
		    ext[i - 1].off + ext[i - 1].len > ext[i].off)
			fail(&ck, "I1: two live records overlap in segment %016"
			     PRIx64 " at %" PRIu64, ext[i].seg, ext[i].off);
	for (struct srec *r = s->q_head; r; r = r->next) {
		uint32_t i = seg_index(s, r->seg);

		if (r->hdr.lsn <= last_lsn)
			fail(&ck, "I6: the queue is not in lsn order");
		last_lsn = r->hdr.lsn;
		if (i == UINT32_MAX) {
			fail(&ck, "I6: a queued record's segment is not in the "
			     "table");
			goto out;
		}
		pend[i]++;
		if (r->state == RS_WRITTEN)
			n_written++;
	}
	for (uint32_t i = 0; i < s->n_segs; i++)
		if (pend[i] != s->segs[i]->pending)
			fail(&ck, "I6: segment %s: pending %u, queue has %u",
			     s->segs[i]->name, s->segs[i]->pending, pend[i]);
	if (n_written != s->n_written)
		fail(&ck, "I6: %u records written, counter says %u", n_written,
		     s->n_written);
	if (!ck.bad && (flags & STORE_CHECK_DISK))
		check_disk(s, &ck);
out:
	free(acc);
	free(pend);
	free(ext);
	return ck.bad ? -EUCLEAN : 0;
}
