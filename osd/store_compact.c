/*
 * store_compact.c -- reclaim the space of dead records.
 *
 * One segment at a time: the closed segment with the most reclaimable
 * bytes among those less than compact_pct live is walked header by
 * header; each record still live (the index or the tombstone table points
 * at it) is read whole and appended to the head as a copy (same seq, new
 * lsn) through the ordinary write path, so copies are group-committed and
 * acknowledged in log order like everything else.  When every copy is
 * acknowledged and the segment's live bytes are 0, its file is unlinked,
 * the log folder fsynced, and only then are the tombstones that depended
 * on it told (seg_remove()): a tombstone must never be dropped while the
 * PUTs it deleted could still be read back at a restart.
 *
 * Races are harmless by construction: liveness is decided when a copy is
 * placed, and the copy is applied with apply_put()/apply_delete() like any
 * record, so a copy of something deleted or replaced in the meantime is
 * simply dead on arrival (and covered by whatever killed it).  If the
 * segment is still not empty after a walk (a tombstone gained a
 * dependency meanwhile), it is walked again.
 */
#include "store_int.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of copies in flight at once: enough to keep the disk busy, little
 * enough that client writes are not queued behind a compaction burst. */
#define CPT_INFLIGHT_MAX (16u << 20)
/* Walks of one segment before giving up on it for a while. */
#define CPT_PASSES 3
/* How long a segment that could not be compacted is left alone. */
#define CPT_RETRY_MS 10000
/* How often an idle store looks for a segment to compact. */
#define CPT_PICK_MS 100

enum { C_HDR, C_REC, C_WAIT, C_UNLINK, C_DIRSYNC };

static void advance(struct store *s);

int compact_idle(const struct store *s)
{
	return !s->cpt_active;
}

static struct seg *pick(struct store *s)
{
	struct seg *best = NULL;
	uint64_t now = now_ms();

	if (s->compact_pct > 100)
		return NULL;
	for (uint32_t i = 0; i < s->n_segs; i++) {
		struct seg *g = s->segs[i];

		if (g->state != SEG_CLOSED || g->pending || g->compacting ||
		    g->need_seal || (g->seal_sent && !g->sealed) ||
		    now < g->cpt_retry_ms)
			continue;
		if (g->live * 100 >= g->size * s->compact_pct)
			continue;
		if (!best || g->size - g->live > best->size - best->live)
			best = g;
	}
	return best;
}

static void finish(struct store *s, int done)
{
	struct compaction *c = &s->cpt;
	struct seg *g = c->seg;

	bufpool_put(s->pool, c->rbuf, c->rbuf_cap);
	c->rbuf = NULL;
	c->rbuf_cap = 0;
	c->seg = NULL;
	s->cpt_active = 0;
	if (done) {
		log_debug("%s: compacted log segment %s", s->dir, g->name);
		s->compactions++;
		/* Space was freed: a full disk may take a segment again. */
		s->full_retry_ms = 0;
		seg_remove(s, g);
	} else {
		g->compacting = 0;
		g->cpt_retry_ms = now_ms() + CPT_RETRY_MS;
	}
}

static int rec_is_live(struct store *s, const struct rec_hdr *h,
		       struct seg *g, uint64_t off)
{
	if (h->type == REC_PUT) {
		struct sentry *e = index_find(s, &h->id);

		return e && e->seg == g && e->off == off;
	}
	if (h->type == REC_DELETE) {
		struct stomb *t = tomb_find(s, &h->id, h->seq);

		return t && t->seg == g && t->off == off && t->counted;
	}
	return 0;
}

/* Append a copy of the record in buf (ownership passes to the copy). */
static void copy_submit(struct store *s, const struct rec_hdr *h, uint8_t *buf,
			size_t cap)
{
	struct compaction *c = &s->cpt;
	struct srec *r = calloc(1, sizeof(*r));
	int rc;

	if (!r) {
		bufpool_put(s->pool, buf, cap);
		c->failed = 1;
		return;
	}
	r->s = s;
	r->kind = RK_COPY;
	r->hdr = *h;
	r->buf = buf;
	r->buf_cap = cap;
	c->copies++;
	c->copy_bytes += h->rec_len;
	rc = rec_submit(s, r);
	if (rc) {
		c->copies--;
		c->copy_bytes -= h->rec_len;
		c->failed = 1;
		rec_free(s, r);
	}
}

void compact_copy_done(struct store *s, struct srec *r, int rc)
{
	struct compaction *c = &s->cpt;

	c->copies--;
	c->copy_bytes -= r->hdr.rec_len;
	if (rc)
		c->failed = 1;
	advance(s);
}

static void io_done(struct io_req *q, int res)
{
	struct compaction *c = avl_entry(q, struct compaction, io);
	struct store *s = c->s;
	struct seg *g = c->seg;
	struct rec_hdr h;

	s->io_pending--;
	c->busy = 0;
	switch (c->state) {
	case C_HDR:
		if (res != (int)REC_BLOCK ||
		    rec_hdr_decode(c->hbuf, REC_BLOCK, &h) ||
		    c->off + h.rec_len > g->end) {
			if (res < 0)
				log_err("%s: compaction: reading log segment "
					"%s failed: %s", s->dir, g->name,
					strerror(-res));
			c->failed = 1;
			c->state = C_WAIT;
			break;
		}
		if (!rec_is_live(s, &h, g, c->off)) {
			c->off += h.rec_len;
			break;
		}
		if (h.rec_len == REC_BLOCK) {
			size_t cap;
			uint8_t *b = bufpool_get(s->pool, REC_BLOCK, &cap);

			if (!b) {
				c->failed = 1;
				c->state = C_WAIT;
				break;
			}
			memcpy(b, c->hbuf, REC_BLOCK);
			copy_submit(s, &h, b, cap);
			c->off += REC_BLOCK;
			break;
		}
		c->rbuf = bufpool_get(s->pool, h.rec_len, &c->rbuf_cap);
		if (!c->rbuf) {
			c->failed = 1;
			c->state = C_WAIT;
			break;
		}
		c->hdr = h;
		c->state = C_REC;
		s->io_pending++;
		io_read(s->ring, &c->io, g->fd, c->rbuf, h.rec_len, c->off);
		return;
	case C_REC:
		if (res != (int)c->hdr.rec_len ||
		    rec_hdr_decode(c->rbuf, REC_BLOCK, &h) ||
		    h.lsn != c->hdr.lsn) {
			if (res < 0)
				log_err("%s: compaction: reading log segment "
					"%s failed: %s", s->dir, g->name,
					strerror(-res));
			c->failed = 1;
			c->state = C_WAIT;
			break;
		}
		/* Copied as it is, crcs and all: damaged data stays
		 * detectable (EIO), never silently "repaired". */
		copy_submit(s, &c->hdr, c->rbuf, c->rbuf_cap);
		c->rbuf = NULL;
		c->rbuf_cap = 0;
		c->off += c->hdr.rec_len;
		c->state = C_HDR;
		break;
	case C_UNLINK:
		if (res < 0 && res != -ENOENT) {
			log_err("%s: compaction: cannot remove log segment %s: "
				"%s", s->dir, g->name, strerror(-res));
			finish(s, 0);
			return;
		}
		c->state = C_DIRSYNC;
		s->io_pending++;
		io_fsync(s->ring, &c->io, s->logfd);
		return;
	case C_DIRSYNC:
		if (res < 0) {
			/* Not known to be gone for good: keep everything that
			 * depends on it, try again later. */
			log_err("%s: compaction: fsync of %s/log failed: %s",
				s->dir, s->dir, strerror(-res));
			finish(s, 0);
			return;
		}
		finish(s, 1);
		return;
	}
	advance(s);
}

/* Issue the next step if nothing of the compaction is in the kernel. */
static void advance(struct store *s)
{
	struct compaction *c = &s->cpt;
	struct seg *g = c->seg;

	if (!s->cpt_active || c->state == C_REC || c->state == C_UNLINK ||
	    c->state == C_DIRSYNC || c->busy)
		return;
	if (c->state == C_HDR) {
		if (c->failed || s->closing || c->off >= g->end) {
			c->state = C_WAIT;
		} else {
			if (c->copy_bytes >= CPT_INFLIGHT_MAX)
				return; /* copies first */
			c->busy = 1;
			s->io_pending++;
			io_read(s->ring, &c->io, g->fd, c->hbuf, REC_BLOCK,
				c->off);
			return;
		}
	}
	/* C_WAIT: every copy must be acknowledged first. */
	if (c->copies)
		return;
	if (c->failed || s->closing || s->broken) {
		finish(s, 0);
		return;
	}
	if (g->live) {
		if (++c->passes < CPT_PASSES) {
			c->off = REC_BLOCK;
			c->state = C_HDR;
			advance(s);
		} else {
			finish(s, 0);
		}
		return;
	}
	c->state = C_UNLINK;
	s->io_pending++;
	io_unlinkat(s->ring, &c->io, s->logfd, g->name, 0);
}

void compact_poll(struct store *s)
{
	struct compaction *c = &s->cpt;
	struct seg *g;

	if (s->cpt_active) {
		advance(s);
		return;
	}
	if (s->closing || s->broken || now_ms() < s->cpt_next_pick_ms)
		return;
	g = pick(s);
	if (!g) {
		s->cpt_next_pick_ms = now_ms() + CPT_PICK_MS;
		return;
	}
	if (!c->hbuf) {
		c->hbuf = bufpool_get(s->pool, REC_BLOCK, &c->hbuf_cap);
		if (!c->hbuf)
			return;
	}
	g->compacting = 1;
	c->seg = g;
	c->off = REC_BLOCK;
	c->state = g->live ? C_HDR : C_WAIT;
	c->failed = 0;
	c->passes = 0;
	c->busy = 0;
	c->io.cb = io_done;
	s->cpt_active = 1;
	advance(s);
}
