/*
 * store.c -- the shard store: see store.h, and docs/osd.md for the on-disk
 * layout.
 *
 * THE LOG.  Every change is a record appended to the head segment at a
 * REC_BLOCK-aligned offset with ONE O_DIRECT write: PUT (a shard version
 * and its data), DELETE (a tombstone), SEAL (the segment is complete).
 * Every record gets an lsn, strictly increasing in the order records are
 * placed, so along a segment offsets and lsns grow together.  A record
 * also carries a seq: the lsn it was first written with, which a
 * compaction copy keeps.  Between two records about the same shard, the
 * higher seq is the newer operation, whatever order the log is read in.
 *
 * DURABILITY AND ORDER.  A record is acknowledged (its callback runs with
 * 0, and the index changes) only when
 *   (a) its write has returned in full,
 *   (b) an fdatasync of its segment, issued after (a), has returned, and
 *   (c) every record placed before it (lower lsn) has been acknowledged or
 *       has failed and been moved out of its segment.
 * All records written since the last fdatasync share the next one (group
 * commit: store_poll() issues one fdatasync per segment with written
 * records, at most one batch at a time).  (c) makes acknowledgements come
 * in log order.  Why it matters: writes in flight complete in any order,
 * so a crash can leave a torn record with intact records after it.  By
 * (c), everything at or after the first torn record of a segment is
 * unacknowledged, so the startup scan may stop at the first record whose
 * header does not check out and lose nothing that was acknowledged.  A
 * write that fails leaves a hole the same way: the records placed after
 * it in that segment are rewritten elsewhere (new lsn, same seq) before
 * they can be acknowledged, and the segment is never written again.  A
 * segment found at startup is never appended to either (its tail may hold
 * torn bytes), so new records always go to a fresh segment.
 *
 * The index changes only when a record is acknowledged, through the same
 * functions (apply_put(), apply_delete()) the startup scan uses: the index
 * is always what a restart would rebuild from the durable log.  Those
 * functions give the same result whatever order records are applied in:
 * for each shard version, the PUT with the highest seq that no tombstone
 * with a higher seq covers (the highest lsn among equal seqs).
 *
 * SEALS.  When a segment stops being the head and all its records are
 * acknowledged, a SEAL record is appended to it.  At startup, a segment
 * that ends with a SEAL has only durable records and is read header by
 * header; one without (the head at a crash) also has its records' data
 * checked against their crcs, and a record whose data does not match is
 * skipped (a torn write, unacknowledged by (c)).
 *
 * TOMBSTONES AND COMPACTION.  Space is reclaimed by compacting a segment
 * whose live bytes fell below compact_pct: its live records are copied to
 * the head (store_compact.c), and once the copies are acknowledged the
 * file is unlinked and the log folder fsynced.  A dead PUT record never
 * needs keeping, because something newer covers it: the live entry of the
 * same id (its seg or shadows name the segment) or a tombstone (its deps
 * name the segment).  A tombstone must stay while any segment in its deps
 * exists, or the PUTs it deleted would come back at the next start; it is
 * live (counted, copied by compaction) while its deps name a segment other
 * than its own, and forgotten when its own segment goes.
 *
 * INVARIANTS (checked by store_check()):
 *   I1  index and tombs are valid ordered trees; every entry's and every
 *       tombstone's segment is in the table and not removed, its record
 *       lies within [REC_BLOCK, seg->end) and no two live records overlap;
 *   I2  entry->rec_len == rec_len(entry->shard_len), seq <= lsn;
 *   I3  no tombstone covers an entry (same version, or an older one for
 *       REC_F_OLDER, with a higher seq);
 *   I4  seg->live == the rec_len of its entries + REC_BLOCK per counted
 *       tombstone recorded in it; a tombstone is counted iff its deps name
 *       a segment other than its own;
 *   I5  for every tombstone t and id d in t->deps, if segment d exists, t
 *       is in d->rdeps, and every tombstone in d->rdeps has d in its deps;
 *       a tombstone is in its segment's tombs list and no other;
 *   I6  the queue is in strictly increasing lsn order, each record's
 *       segment counts it in pending, and no segment has pending records
 *       that are not in the queue;
 *   I7  (on disk) every live record reads back with the header the index
 *       holds, and every PUT record of every segment is live or covered
 *       as described above.
 */
#include "store_int.h"
#include "crc.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Free buffers kept for reuse: a few dozen 1 MiB records in flight. */
#define STORE_POOL_KEEP (64u << 20)
/* Bytes of every segment only DELETE records may use (at most; 1/16 of a
 * small segment): with the disk full, 8 MiB still takes 2,048 deletes, and
 * deletes are what frees space. */
#define STORE_DEL_RESERVE_MAX (8ull << 20)
/* How often a full disk is re-tried for a new segment when nothing was
 * freed in between. */
#define STORE_FULL_RETRY_MS 1000
/* Longest store_close() waits for operations in flight (a hung disk must
 * not hang a shutdown forever). */
#define STORE_CLOSE_WAIT_MS 60000

static int key_cmp(const struct wire_shard_id *a, const struct wire_shard_id *b)
{
#define CMP(f)                                                                 \
	if (a->f != b->f)                                                      \
		return a->f < b->f ? -1 : 1
	CMP(pool);
	CMP(ino);
	CMP(objno);
	CMP(index);
#undef CMP
	return 0;
}

/* ---- segment id sets -----------------------------------------------------*/

int segset_has(const struct segset *ss, uint64_t id)
{
	for (uint32_t i = 0; i < ss->n; i++)
		if (ss->v[i] == id)
			return 1;
	return 0;
}

int segset_add(struct segset *ss, uint64_t id)
{
	uint32_t i;

	if (segset_has(ss, id))
		return 0;
	if (ss->n == ss->cap) {
		uint32_t ncap = ss->cap ? ss->cap * 2 : 2;
		uint64_t *nv = realloc(ss->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		ss->v = nv;
		ss->cap = ncap;
	}
	for (i = ss->n; i > 0 && ss->v[i - 1] > id; i--)
		ss->v[i] = ss->v[i - 1];
	ss->v[i] = id;
	ss->n++;
	return 0;
}

void segset_del(struct segset *ss, uint64_t id)
{
	for (uint32_t i = 0; i < ss->n; i++) {
		if (ss->v[i] == id) {
			memmove(&ss->v[i], &ss->v[i + 1],
				(ss->n - i - 1) * sizeof(*ss->v));
			ss->n--;
			return;
		}
	}
}

void segset_free(struct segset *ss)
{
	free(ss->v);
	ss->v = NULL;
	ss->n = ss->cap = 0;
}

/* ---- trees ---------------------------------------------------------------*/

/* Index key: a shard id, or (bound = 1) a key sorting after every version
 * of that shard. */
struct ikey {
	struct wire_shard_id id;
	int bound;
};

static int index_cmp(const void *key, const struct avl_node *n)
{
	const struct ikey *k = key;
	const struct sentry *e = avl_entry(n, struct sentry, node);
	int c = key_cmp(&k->id, &e->id);

	if (c)
		return c;
	if (k->bound)
		return k->bound;
	if (k->id.version != e->id.version)
		return k->id.version < e->id.version ? -1 : 1;
	return 0;
}

/* Tombstone key: shard key, version, seq. */
struct tkey {
	struct wire_shard_id id;
	uint64_t seq;
};

static int tomb_cmp(const void *key, const struct avl_node *n)
{
	const struct tkey *k = key;
	const struct stomb *t = avl_entry(n, struct stomb, node);
	int c = key_cmp(&k->id, &t->id);

	if (c)
		return c;
	if (k->id.version != t->id.version)
		return k->id.version < t->id.version ? -1 : 1;
	if (k->seq != t->seq)
		return k->seq < t->seq ? -1 : 1;
	return 0;
}

struct sentry *index_find(const struct store *s, const struct wire_shard_id *id)
{
	struct ikey k = { *id, 0 };
	struct avl_node *n = avl_find(&s->index, &k);

	return n ? avl_entry(n, struct sentry, node) : NULL;
}

/* The newest version of a shard, or NULL. */
static struct sentry *index_newest(const struct store *s,
				   const struct wire_shard_id *id)
{
	struct ikey k = { *id, 1 };
	struct avl_node *n = avl_before(&s->index, &k);
	struct sentry *e;

	if (!n)
		return NULL;
	e = avl_entry(n, struct sentry, node);
	return key_cmp(&e->id, id) == 0 ? e : NULL;
}

struct stomb *tomb_find(const struct store *s, const struct wire_shard_id *id,
			uint64_t seq)
{
	struct tkey k = { *id, seq };
	struct avl_node *n = avl_find(&s->tombs, &k);

	return n ? avl_entry(n, struct stomb, node) : NULL;
}

static int tomb_covers(const struct stomb *t, uint64_t version)
{
	return t->older ? version < t->id.version : version == t->id.version;
}

struct stomb *tomb_covering(const struct store *s,
			    const struct wire_shard_id *id, uint64_t seq)
{
	struct tkey k = { *id, 0 };
	struct avl_node *n;
	struct stomb *best = NULL;

	/* Tombstones of this shard with version >= id->version: exact ones
	 * for this version, REC_F_OLDER ones for any higher version. */
	for (n = avl_lower_bound(&s->tombs, &k); n; n = avl_next(n)) {
		struct stomb *t = avl_entry(n, struct stomb, node);

		if (key_cmp(&t->id, id))
			break;
		if (t->seq > seq && tomb_covers(t, id->version) &&
		    (!best || t->seq > best->seq))
			best = t;
	}
	return best;
}

/* ---- segments ------------------------------------------------------------*/

void seg_format_name(char *name, size_t len, uint64_t id)
{
	snprintf(name, len, "%016" PRIx64 ".seg", id);
}

static uint32_t seg_pos(const struct store *s, uint64_t id)
{
	uint32_t lo = 0, hi = s->n_segs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->segs[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct seg *seg_find(const struct store *s, uint64_t id)
{
	uint32_t i = seg_pos(s, id);

	return i < s->n_segs && s->segs[i]->id == id ? s->segs[i] : NULL;
}

int seg_add(struct store *s, struct seg *g)
{
	uint32_t i;

	if (s->n_segs == s->cap_segs) {
		uint32_t ncap = s->cap_segs ? s->cap_segs * 2 : 16;
		struct seg **nv = realloc(s->segs, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->segs = nv;
		s->cap_segs = ncap;
	}
	i = seg_pos(s, g->id);
	memmove(&s->segs[i + 1], &s->segs[i],
		(s->n_segs - i) * sizeof(*s->segs));
	s->segs[i] = g;
	s->n_segs++;
	return 0;
}

static void seg_free(struct seg *g)
{
	if (g->fd >= 0)
		close(g->fd);
	free(g->rdeps);
	free(g);
}

void seg_put_ref(struct store *s, struct seg *g)
{
	(void)s;
	if (--g->refs == 0 && g->removed)
		seg_free(g);
}

static int rdeps_add(struct seg *g, struct stomb *t)
{
	for (uint32_t i = 0; i < g->n_rdeps; i++)
		if (g->rdeps[i] == t)
			return 0;
	if (g->n_rdeps == g->cap_rdeps) {
		uint32_t ncap = g->cap_rdeps ? g->cap_rdeps * 2 : 8;
		struct stomb **nv = realloc(g->rdeps, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		g->rdeps = nv;
		g->cap_rdeps = ncap;
	}
	g->rdeps[g->n_rdeps++] = t;
	return 0;
}

static void rdeps_del(struct seg *g, struct stomb *t)
{
	for (uint32_t i = 0; i < g->n_rdeps; i++) {
		if (g->rdeps[i] == t) {
			g->rdeps[i] = g->rdeps[--g->n_rdeps];
			return;
		}
	}
}

/* ---- tombstones ----------------------------------------------------------*/

static void tomb_update_counted(struct store *s, struct stomb *t)
{
	uint8_t c = 0;

	(void)s;
	for (uint32_t i = 0; i < t->deps.n; i++)
		if (t->deps.v[i] != t->seg->id)
			c = 1;
	if (c == t->counted)
		return;
	if (c)
		t->seg->live += REC_BLOCK;
	else
		t->seg->live -= REC_BLOCK;
	t->counted = c;
}

static void tomb_add_dep(struct store *s, struct stomb *t, uint64_t segid)
{
	struct seg *g;

	if (segset_has(&t->deps, segid))
		return;
	if (segset_add(&t->deps, segid)) {
		/* Without memory the tombstone cannot track this dependency:
		 * keep it counted for good rather than risk losing it. */
		log_err("out of memory tracking a tombstone; it will be kept");
	}
	if (!s->replaying) {
		g = seg_find(s, segid);
		if (g && rdeps_add(g, t))
			log_err("out of memory tracking a tombstone");
	}
	tomb_update_counted(s, t);
}

static void tomb_link(struct stomb *t, struct seg *g)
{
	t->seg = g;
	t->sprev = NULL;
	t->snext = g->tombs;
	if (g->tombs)
		g->tombs->sprev = t;
	g->tombs = t;
}

static void tomb_unlink(struct stomb *t)
{
	if (t->sprev)
		t->sprev->snext = t->snext;
	else
		t->seg->tombs = t->snext;
	if (t->snext)
		t->snext->sprev = t->sprev;
	t->snext = t->sprev = NULL;
}

/* Move a tombstone's record (a compaction copy, or a duplicate read at
 * startup with a higher lsn). */
static void tomb_move(struct store *s, struct stomb *t, struct seg *g,
		      uint64_t off, uint64_t lsn)
{
	if (t->counted)
		t->seg->live -= REC_BLOCK;
	t->counted = 0;
	tomb_unlink(t);
	tomb_link(t, g);
	t->off = off;
	t->lsn = lsn;
	tomb_update_counted(s, t);
}

static void tomb_free(struct store *s, struct stomb *t)
{
	for (uint32_t i = 0; i < t->deps.n; i++) {
		struct seg *g = seg_find(s, t->deps.v[i]);

		if (g)
			rdeps_del(g, t);
	}
	if (t->counted)
		t->seg->live -= REC_BLOCK;
	tomb_unlink(t);
	avl_remove(&s->tombs, &t->node);
	segset_free(&t->deps);
	free(t);
}

void seg_remove(struct store *s, struct seg *g)
{
	uint32_t i = seg_pos(s, g->id);

	if (i < s->n_segs && s->segs[i] == g) {
		memmove(&s->segs[i], &s->segs[i + 1],
			(s->n_segs - i - 1) * sizeof(*s->segs));
		s->n_segs--;
	}
	/* The PUTs these tombstones deleted in g are gone with it. */
	for (i = 0; i < g->n_rdeps; i++) {
		struct stomb *t = g->rdeps[i];

		segset_del(&t->deps, g->id);
		tomb_update_counted(s, t);
	}
	g->n_rdeps = 0;
	while (g->tombs)
		tomb_free(s, g->tombs);
	g->removed = 1;
	if (g->refs == 0)
		seg_free(g);
}

/* ---- applying records ----------------------------------------------------*/

static void entry_fill(struct sentry *e, const struct rec_hdr *h,
		       struct seg *g, uint64_t off)
{
	e->id = h->id;
	e->k = h->k;
	e->m = h->m;
	e->obj_len = h->obj_len;
	e->shard_len = h->shard_len;
	e->mtime_ns = h->mtime_ns;
	e->seq = h->seq;
	e->lsn = h->lsn;
	e->seg = g;
	e->off = off;
	e->rec_len = h->rec_len;
}

void apply_put(struct store *s, const struct rec_hdr *h, struct seg *g,
	       uint64_t off)
{
	struct stomb *t = tomb_covering(s, &h->id, h->seq);
	struct sentry *e;
	struct ikey k;

	if (t) {
		/* Deleted by a newer operation: dead, and t must now also
		 * outlive this record's segment. */
		tomb_add_dep(s, t, g->id);
		return;
	}
	e = index_find(s, &h->id);
	if (e) {
		if (e->seq > h->seq || (e->seq == h->seq && e->lsn >= h->lsn)) {
			if (e->seg != g && segset_add(&e->shadows, g->id))
				log_err("out of memory tracking an old shard "
					"record");
			return;
		}
		if (e->seg != g && segset_add(&e->shadows, e->seg->id))
			log_err("out of memory tracking an old shard record");
		e->seg->live -= e->rec_len;
		entry_fill(e, h, g, off);
		g->live += e->rec_len;
		return;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		/* The record is on disk; the next start will index it. */
		log_err("out of memory indexing a shard; restart the OSD");
		return;
	}
	entry_fill(e, h, g, off);
	k.id = h->id;
	k.bound = 0;
	avl_insert(&s->index, &e->node, &k);
	g->live += e->rec_len;
}

static void entry_kill(struct store *s, struct sentry *e, struct stomb *t)
{
	tomb_add_dep(s, t, e->seg->id);
	for (uint32_t i = 0; i < e->shadows.n; i++)
		if (seg_find(s, e->shadows.v[i]))
			tomb_add_dep(s, t, e->shadows.v[i]);
	e->seg->live -= e->rec_len;
	avl_remove(&s->index, &e->node);
	segset_free(&e->shadows);
	free(e);
}

void apply_delete(struct store *s, const struct rec_hdr *h, struct seg *g,
		  uint64_t off)
{
	struct stomb *t = tomb_find(s, &h->id, h->seq);
	struct tkey tk;

	if (t) {
		/* The same tombstone twice (a compaction copy): the copy with
		 * the higher lsn is the one that stays. */
		if (h->lsn > t->lsn)
			tomb_move(s, t, g, off, h->lsn);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		log_err("out of memory recording a delete; restart the OSD");
		return;
	}
	t->id = h->id;
	t->older = (h->flags & REC_F_OLDER) != 0;
	t->seq = h->seq;
	t->lsn = h->lsn;
	t->mtime_ns = h->mtime_ns;
	t->off = off;
	tomb_link(t, g);
	tk.id = h->id;
	tk.seq = h->seq;
	avl_insert(&s->tombs, &t->node, &tk);
	if (t->older) {
		struct wire_shard_id first = h->id;
		struct ikey k;
		struct avl_node *n;

		first.version = 0;
		k.id = first;
		k.bound = 0;
		n = avl_lower_bound(&s->index, &k);
		while (n) {
			struct sentry *e = avl_entry(n, struct sentry, node);

			n = avl_next(n);
			if (key_cmp(&e->id, &h->id) ||
			    e->id.version >= h->id.version)
				break;
			if (e->seq < h->seq)
				entry_kill(s, e, t);
		}
	} else {
		struct sentry *e = index_find(s, &h->id);

		if (e && e->seq < h->seq)
			entry_kill(s, e, t);
	}
}

/* After the startup scan: every tombstone joins the rdeps of the segments
 * it depends on (deps naming segments that are not there are dropped). */
void store_finish_replay(struct store *s)
{
	struct avl_node *n;

	for (n = avl_first(&s->tombs); n; n = avl_next(n)) {
		struct stomb *t = avl_entry(n, struct stomb, node);

		for (uint32_t i = 0; i < t->deps.n;) {
			struct seg *g = seg_find(s, t->deps.v[i]);

			if (!g) {
				segset_del(&t->deps, t->deps.v[i]);
				continue;
			}
			if (rdeps_add(g, t))
				log_err("out of memory tracking a tombstone");
			i++;
		}
		tomb_update_counted(s, t);
	}
	s->replaying = 0;
}

/* ---- deferred completions ------------------------------------------------*/

static void defer(struct store *s, store_done_fn done, void *arg, int rc)
{
	struct sdefer *d = malloc(sizeof(*d));

	if (!d) {
		/* Never lose a completion: run it now (callers allow it as a
		 * last resort; it only happens without memory). */
		s->client_ops--;
		done(arg, rc);
		return;
	}
	d->next = NULL;
	d->done = done;
	d->arg = arg;
	d->rc = rc;
	if (s->d_tail)
		s->d_tail->next = d;
	else
		s->d_head = d;
	s->d_tail = d;
}

static void run_deferred(struct store *s)
{
	while (s->d_head) {
		struct sdefer *d = s->d_head;

		s->d_head = d->next;
		if (!s->d_head)
			s->d_tail = NULL;
		s->client_ops--;
		d->done(d->arg, d->rc);
		free(d);
	}
}

/* ---- records in flight ---------------------------------------------------*/

static void rec_write_done(struct io_req *q, int res);
static void prep_start(struct store *s);

void rec_free(struct store *s, struct srec *r)
{
	bufpool_put(s->pool, r->buf, r->buf_cap);
	free(r);
}

/* A record that will not be written: tell whoever is waiting. */
static void rec_fail(struct store *s, struct srec *r, int err)
{
	switch (r->kind) {
	case RK_PUT:
	case RK_DELETE:
		defer(s, r->done, r->arg, err);
		break;
	case RK_COPY:
		compact_copy_done(s, r, err);
		break;
	case RK_SEAL:
		break;
	}
	rec_free(s, r);
}

static void q_push(struct store *s, struct srec *r)
{
	r->next = NULL;
	if (s->q_tail)
		s->q_tail->next = r;
	else
		s->q_head = r;
	s->q_tail = r;
}

static void q_remove(struct store *s, struct srec *r)
{
	struct srec *p = NULL, *c = s->q_head;

	while (c && c != r) {
		p = c;
		c = c->next;
	}
	if (!c)
		return;
	if (p)
		p->next = r->next;
	else
		s->q_head = r->next;
	if (s->q_tail == r)
		s->q_tail = p;
	r->next = NULL;
}

static void w_push(struct store *s, struct srec *r)
{
	r->state = RS_WAIT;
	r->next = NULL;
	if (s->w_tail)
		s->w_tail->next = r;
	else
		s->w_head = r;
	s->w_tail = r;
}

static void w_push_front(struct store *s, struct srec *r)
{
	r->state = RS_WAIT;
	r->next = s->w_head;
	s->w_head = r;
	if (!s->w_tail)
		s->w_tail = r;
}

static struct srec *w_pop(struct store *s)
{
	struct srec *r = s->w_head;

	if (r) {
		s->w_head = r->next;
		if (!s->w_head)
			s->w_tail = NULL;
		r->next = NULL;
	}
	return r;
}

/* The highest end offset a record of this kind may reach in a segment:
 * the last block is for the SEAL, and PUTs (and, less so, compaction
 * copies) leave the delete reserve alone. */
static uint64_t seg_limit(const struct store *s, const struct seg *g, int kind)
{
	uint64_t lim = g->size - REC_BLOCK;

	if (kind == RK_PUT)
		lim -= s->del_reserve;
	else if (kind == RK_COPY)
		lim -= s->del_reserve / 2;
	return lim;
}

static void place(struct store *s, struct srec *r, struct seg *g)
{
	r->seg = g;
	r->off = g->end;
	g->end += r->hdr.rec_len;
	g->pending++;
	r->hdr.lsn = s->next_lsn++;
	if (r->hdr.seq == 0 || r->kind == RK_SEAL)
		r->hdr.seq = r->hdr.lsn;
	rec_hdr_encode(&r->hdr, r->buf);
	r->state = RS_WRITING;
	r->reappend = 0;
	r->io.cb = rec_write_done;
	q_push(s, r);
	s->io_pending++;
	s->records++;
	io_write(s->ring, &r->io, g->fd, r->buf, r->hdr.rec_len, r->off);
}

/* A segment that stopped being the head gets a SEAL once its records are
 * all acknowledged. */
static void seg_want_seal(struct store *s, struct seg *g)
{
	if (g->broken || g->need_seal || g->seal_sent)
		return;
	g->need_seal = 1;
	s->n_need_seal++;
}

static void switch_head(struct store *s)
{
	struct seg *old = s->head;

	if (old) {
		old->state = SEG_CLOSED;
		seg_want_seal(s, old);
	}
	s->head = s->next;
	s->head->state = SEG_HEAD;
	s->next = NULL;
}

/* Place r if there is room now: 1 placed, 0 must wait (a segment is
 * being prepared), -ENOSPC or -EIO never here. */
static int try_place(struct store *s, struct srec *r)
{
	for (;;) {
		struct seg *h = s->head;

		if (s->broken)
			return -EIO;
		if (h && h->end + r->hdr.rec_len <= seg_limit(s, h, r->kind)) {
			place(s, r, h);
			return 1;
		}
		if (s->next) {
			switch_head(s);
			continue;
		}
		if (s->preparing)
			return 0;
		if (s->closing)
			return -ESHUTDOWN;
		if (s->full && now_ms() < s->full_retry_ms)
			return -ENOSPC;
		prep_start(s);
		return s->preparing ? 0 : -ENOSPC;
	}
}

int rec_submit(struct store *s, struct srec *r)
{
	int rc;

	if (r->kind == RK_SEAL) {
		place(s, r, r->seg);
		return 0;
	}
	if (s->w_head) {
		/* Others are waiting for room: keep the order. */
		w_push(s, r);
		return 0;
	}
	rc = try_place(s, r);
	if (rc == 1)
		return 0;
	if (rc == 0) {
		w_push(s, r);
		return 0;
	}
	return rc;
}

/* Place the records waiting for room, in order, as far as room allows. */
static void wait_kick(struct store *s)
{
	struct srec *r;

	while ((r = w_pop(s))) {
		int rc = try_place(s, r);

		if (rc == 0) {
			w_push_front(s, r);
			return;
		}
		if (rc < 0)
			rec_fail(s, r, rc);
	}
}

/* Write r again elsewhere (its segment has a hole before it). */
static void reappend(struct store *s, struct srec *r)
{
	int rc;

	r->seg = NULL;
	rc = rec_submit(s, r);
	if (rc)
		rec_fail(s, r, rc);
}

static void rec_write_failed(struct store *s, struct srec *r, int err)
{
	struct seg *g = r->seg;
	uint64_t at = r->off;
	struct srec *p, *next;

	log_ratelimited(&s->werr_log, LOG_ERR,
			"%s: writing a %s record to log segment %s at offset "
			"%" PRIu64 " failed: %s%s", s->dir,
			rec_type_name(r->hdr.type), g->name, at,
			strerror(-err),
			err == -ENOSPC ? " (the disk is full)" :
					 "; the segment is retired");
	g->broken = 1;
	if (g->need_seal && !g->seal_sent)
		s->n_need_seal--;
	g->need_seal = 0;
	if (s->head == g) {
		g->state = SEG_CLOSED;
		s->head = NULL;
	}
	if (g->end > at)
		g->end = at;
	q_remove(s, r);
	g->pending--;
	rec_fail(s, r, err);
	/* Records after the hole would be unreachable at the next start:
	 * write them again in a good segment before acknowledging them. */
	for (p = s->q_head; p; p = next) {
		next = p->next;
		if (p->seg != g || p->off < at)
			continue;
		q_remove(s, p);
		g->pending--;
		if (p->state == RS_WRITTEN)
			s->n_written--;
		if (p->state == RS_WRITING)
			p->reappend = 1;
		else
			reappend(s, p);
	}
}

static void rec_write_done(struct io_req *q, int res)
{
	struct srec *r = avl_entry(q, struct srec, io);
	struct store *s = r->s;

	s->io_pending--;
	if (r->reappend) {
		reappend(s, r);
		return;
	}
	if (res != (int)r->hdr.rec_len) {
		rec_write_failed(s, r, res < 0 ? res : -EIO);
		return;
	}
	r->state = RS_WRITTEN;
	s->n_written++;
}

/* ---- group commit --------------------------------------------------------*/

static void commit_ready(struct store *s);

/* After an fdatasync error nothing not yet acknowledged can be trusted to
 * be on disk, and a record written after a lost one could end up behind a
 * hole: acknowledge the durable prefix of the queue and fail the rest. */
static void fail_unsynced(struct store *s)
{
	struct srec *r;

	commit_ready(s);
	while ((r = s->q_head)) {
		s->q_head = r->next;
		if (!s->q_head)
			s->q_tail = NULL;
		r->next = NULL;
		r->seg->pending--;
		if (r->state == RS_WRITTEN)
			s->n_written--;
		if (r->state == RS_WRITING) {
			/* Its buffer is the kernel's until the write returns;
			 * it fails then (nothing can be placed any more). */
			r->reappend = 1;
			continue;
		}
		rec_fail(s, r, -EIO);
	}
}

static void sync_done(struct io_req *q, int res)
{
	struct sync_op *op = avl_entry(q, struct sync_op, io);
	struct sync_batch *b = op->b;
	struct store *s = b->s;

	s->io_pending--;
	if (res < 0 && !b->err)
		b->err = res;
	if (--b->pending)
		return;
	if (b->err) {
		if (!s->broken)
			log_err("%s: fdatasync of the log failed (%s): the "
				"disk may have lost writes; the store refuses "
				"all writes from now on (reads go on); restart "
				"the OSD to recover what is on disk", s->dir,
				strerror(-b->err));
		s->broken = b->err;
		return;
	}
	for (struct srec *r = s->q_head; r; r = r->next)
		if (r->state == RS_SYNCING && r->sync_gen == b->gen)
			r->state = RS_DURABLE;
}

static void sync_start(struct store *s)
{
	struct seg *segs[STORE_SYNC_SEGS];
	struct sync_batch *b = NULL;
	unsigned n = 0;

	if (!s->n_written || s->broken)
		return;
	for (unsigned i = 0; i < STORE_SYNC_BATCHES && !b; i++)
		if (!s->batches[i].pending)
			b = &s->batches[i];
	if (!b)
		return; /* the records wait for the next free batch */
	b->s = s;
	b->gen = ++s->sync_gen;
	b->err = 0;
	for (struct srec *r = s->q_head; r; r = r->next) {
		unsigned i;

		if (r->state != RS_WRITTEN)
			continue;
		for (i = 0; i < n && segs[i] != r->seg; i++)
			;
		if (i == n) {
			if (n == STORE_SYNC_SEGS)
				continue; /* the next batch takes it */
			segs[n++] = r->seg;
		}
		r->state = RS_SYNCING;
		r->sync_gen = b->gen;
		s->n_written--;
	}
	for (unsigned i = 0; i < n; i++) {
		struct sync_op *op = &b->ops[i];

		op->b = b;
		op->io.cb = sync_done;
		b->pending++;
		s->io_pending++;
		io_fdatasync(s->ring, &op->io, segs[i]->fd);
	}
	s->syncs++;
}

/* Acknowledge durable records at the head of the queue, in log order. */
static void commit_ready(struct store *s)
{
	while (s->q_head && s->q_head->state == RS_DURABLE) {
		struct srec *r = s->q_head;

		s->q_head = r->next;
		if (!s->q_head)
			s->q_tail = NULL;
		r->next = NULL;
		r->seg->pending--;
		switch (r->kind) {
		case RK_PUT:
			apply_put(s, &r->hdr, r->seg, r->off);
			s->client_ops--;
			r->done(r->arg, 0);
			break;
		case RK_DELETE:
			apply_delete(s, &r->hdr, r->seg, r->off);
			s->client_ops--;
			r->done(r->arg, 0);
			break;
		case RK_COPY:
			if (r->hdr.type == REC_PUT)
				apply_put(s, &r->hdr, r->seg, r->off);
			else
				apply_delete(s, &r->hdr, r->seg, r->off);
			compact_copy_done(s, r, 0);
			break;
		case RK_SEAL:
			r->seg->sealed = 1;
			break;
		}
		rec_free(s, r);
	}
}

/* Seal segments that stopped being the head once their records are all
 * acknowledged. */
static void seal_ready(struct store *s)
{
	if (s->broken)
		return;
	for (uint32_t i = 0; i < s->n_segs && s->n_need_seal; i++) {
		struct seg *g = s->segs[i];
		struct srec *r;

		if (!g->need_seal || g->seal_sent || g->pending || g->broken)
			continue;
		r = calloc(1, sizeof(*r));
		if (r)
			r->buf = bufpool_get(s->pool, REC_BLOCK, &r->buf_cap);
		if (!r || !r->buf) {
			free(r);
			return; /* try again later */
		}
		memset(r->buf, 0, REC_BLOCK);
		r->s = s;
		r->kind = RK_SEAL;
		r->hdr.type = REC_SEAL;
		r->hdr.rec_len = REC_BLOCK;
		r->seg = g;
		g->seal_sent = 1;
		g->need_seal = 0;
		s->n_need_seal--;
		rec_submit(s, r);
	}
}

/* ---- segment preparation -------------------------------------------------*/

enum { PREP_OPEN, PREP_FALLOC, PREP_HDR, PREP_SYNC, PREP_DIRSYNC, PREP_UNLINK };

struct prep {
	struct io_req io;
	struct store *s;
	struct seg *g;
	int step;
	int err;
	uint8_t *buf;
	size_t cap;
};

static void prep_step(struct io_req *q, int res);

static void prep_finish(struct prep *p, int err)
{
	struct store *s = p->s;
	struct seg *g = p->g;

	s->preparing = 0;
	bufpool_put(s->pool, p->buf, p->cap);
	free(p);
	if (err) {
		if (g->fd >= 0)
			close(g->fd);
		free(g);
		s->full = 1;
		s->full_retry_ms = now_ms() + STORE_FULL_RETRY_MS;
		if (!s->full_logged) {
			if (err == -ENOSPC)
				log_err("%s: disk full: cannot allocate a new "
					"log segment of %" PRIu64 " MiB; new "
					"shards are refused (ENOSPC) until "
					"space is freed; reads and deletes go "
					"on", s->dir, s->seg_size >> 20);
			else
				log_err("%s: cannot create a new log segment: "
					"%s; new shards are refused until this "
					"is fixed; reads and deletes go on",
					s->dir, strerror(-err));
			s->full_logged = 1;
		}
	} else {
		if (s->full_logged)
			log_info("%s: space for new shards is available again",
				 s->dir);
		s->full = 0;
		s->full_logged = 0;
		if (seg_add(s, g)) {
			close(g->fd);
			free(g);
			s->full = 1;
			s->full_retry_ms = now_ms() + STORE_FULL_RETRY_MS;
		} else {
			g->state = SEG_NEXT;
			s->next = g;
		}
	}
	wait_kick(s);
}

static void prep_step(struct io_req *q, int res)
{
	struct prep *p = avl_entry(q, struct prep, io);
	struct store *s = p->s;
	struct seg *g = p->g;

	s->io_pending--;
	if (p->step == PREP_UNLINK) {
		prep_finish(p, p->err);
		return;
	}
	if (res < 0 || (p->step == PREP_HDR && res != (int)REC_BLOCK)) {
		p->err = res < 0 ? res : -EIO;
		if (p->step == PREP_OPEN) {
			prep_finish(p, p->err);
			return;
		}
		/* Take the partial file away again. */
		close(g->fd);
		g->fd = -1;
		p->step = PREP_UNLINK;
		s->io_pending++;
		io_unlinkat(s->ring, &p->io, s->logfd, g->name, 0);
		return;
	}
	s->io_pending++;
	switch (p->step) {
	case PREP_OPEN:
		g->fd = res;
		p->step = PREP_FALLOC;
		/* Mode 0 sets the file size too, so later O_DIRECT writes
		 * never extend the file (ext4 makes those synchronous). */
		io_fallocate(s->ring, &p->io, g->fd, 0, 0, g->size);
		break;
	case PREP_FALLOC: {
		struct seg_hdr h;

		memset(&h, 0, sizeof(h));
		h.id = g->id;
		memcpy(h.uuid, s->sb.uuid, 16);
		h.ctime_ns = wall_ns();
		h.base_lsn = g->base_lsn;
		h.size = g->size;
		memset(p->buf, 0, REC_BLOCK);
		seg_hdr_encode(&h, p->buf);
		p->step = PREP_HDR;
		io_write(s->ring, &p->io, g->fd, p->buf, REC_BLOCK, 0);
		break;
	}
	case PREP_HDR:
		p->step = PREP_SYNC;
		io_fdatasync(s->ring, &p->io, g->fd);
		break;
	case PREP_SYNC:
		/* The new name must survive a crash before any record in the
		 * file is acknowledged. */
		p->step = PREP_DIRSYNC;
		io_fsync(s->ring, &p->io, s->logfd);
		break;
	case PREP_DIRSYNC:
		s->io_pending--;
		prep_finish(p, 0);
		break;
	}
}

static void prep_start(struct store *s)
{
	struct prep *p;
	struct seg *g;

	if (s->preparing || s->next || s->closing || s->broken)
		return;
	p = calloc(1, sizeof(*p));
	g = calloc(1, sizeof(*g));
	if (p)
		p->buf = bufpool_get(s->pool, REC_BLOCK, &p->cap);
	if (!p || !g || !p->buf) {
		if (p)
			bufpool_put(s->pool, p->buf, p->cap);
		free(p);
		free(g);
		return;
	}
	g->id = s->next_seg_id++;
	g->fd = -1;
	seg_format_name(g->name, sizeof(g->name), g->id);
	g->size = s->seg_size;
	g->end = REC_BLOCK;
	g->base_lsn = s->next_lsn - 1;
	g->state = SEG_PREP;
	p->s = s;
	p->g = g;
	p->step = PREP_OPEN;
	p->io.cb = prep_step;
	s->preparing = 1;
	s->io_pending++;
	io_openat(s->ring, &p->io, s->logfd, g->name,
		  O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
			  (s->odirect ? O_DIRECT : 0),
		  0644);
}

static void prep_maybe(struct store *s)
{
	struct seg *h = s->head;

	if (s->preparing || s->next || s->closing || s->broken)
		return;
	if (h && h->end < h->size / 2)
		return;
	if (s->full && now_ms() < s->full_retry_ms)
		return;
	prep_start(s);
}

/* ---- reads ---------------------------------------------------------------*/

struct sread {
	struct io_req io_meta, io_data;
	struct store *s;
	struct seg *g;
	int pending;
	int err;
	uint64_t off;
	uint32_t meta_len;
	uint32_t b0, nb;       /* blocks read */
	uint32_t meta_want, data_want;
	struct rec_hdr want;   /* what the index said */
	uint8_t *buf;
	size_t cap;
	store_read_fn done;
	void *arg;
};

static void fmt_id(char *out, size_t len, const struct wire_shard_id *id)
{
	snprintf(out, len,
		 "pool %" PRIu32 " ino %" PRIu64 " obj %" PRIu64 " idx %u "
		 "v %" PRIx64, id->pool, id->ino, id->objno, id->index,
		 id->version);
}

static void read_finish(struct sread *rd)
{
	struct store *s = rd->s;
	struct store_read out;
	struct rec_hdr h;
	char name[160];
	uint32_t bad = 0;
	int rc = 0;

	fmt_id(name, sizeof(name), &rd->want.id);
	if (rd->err) {
		log_ratelimited(&s->eio_log, LOG_ERR,
				"%s: shard %s: reading log segment %s failed: "
				"%s", s->dir, name, rd->g->name,
				strerror(-rd->err));
		rc = -EIO;
	} else if (rec_hdr_decode(rd->buf, rd->meta_len, &h) ||
		   h.type != REC_PUT ||
		   wire_shard_id_cmp(&h.id, &rd->want.id) ||
		   h.seq != rd->want.seq ||
		   h.shard_len != rd->want.shard_len ||
		   rec_csums_check(&h, rd->buf, rd->meta_len)) {
		log_ratelimited(&s->eio_log, LOG_ERR,
				"%s: shard %s: the record header in log "
				"segment %s at offset %" PRIu64 " is damaged: "
				"the shard is unreadable here (EIO)", s->dir,
				name, rd->g->name, rd->off);
		rc = -EIO;
	} else if (rec_data_check(&h, rd->buf, rd->buf + rd->meta_len,
				  rd->b0, rd->nb, &bad)) {
		log_ratelimited(&s->eio_log, LOG_ERR,
				"%s: shard %s: checksum mismatch in block %u "
				"(log segment %s, record at offset %" PRIu64
				"): the stored data is corrupt; reads of it "
				"fail with EIO", s->dir, name, bad,
				rd->g->name, rd->off);
		rc = -EIO;
	}
	seg_put_ref(s, rd->g);
	s->client_ops--;
	if (rc) {
		rd->done(rd->arg, rc, NULL);
	} else {
		uint64_t start = (uint64_t)rd->b0 * WIRE_CSUM_BLOCK;

		memset(&out, 0, sizeof(out));
		out.version = h.id.version;
		out.k = h.k;
		out.m = h.m;
		out.obj_len = h.obj_len;
		out.shard_len = h.shard_len;
		out.mtime_ns = h.mtime_ns;
		out.offset = (uint32_t)start;
		out.data_len = (uint32_t)MIN((uint64_t)rd->nb * WIRE_CSUM_BLOCK,
					     h.shard_len - start);
		out.csums = rd->buf + REC_HDR_LEN + 4 * (size_t)rd->b0;
		out.data = rd->buf + rd->meta_len;
		rd->done(rd->arg, 0, &out);
	}
	bufpool_put(s->pool, rd->buf, rd->cap);
	free(rd);
}

static void read_done(struct io_req *q, int res, int is_meta)
{
	struct sread *rd = is_meta ? avl_entry(q, struct sread, io_meta) :
				     avl_entry(q, struct sread, io_data);
	uint32_t want = is_meta ? rd->meta_want : rd->data_want;

	rd->s->io_pending--;
	if (res != (int)want && !rd->err)
		rd->err = res < 0 ? res : -EIO;
	if (--rd->pending == 0)
		read_finish(rd);
}

static void read_meta_done(struct io_req *q, int res)
{
	read_done(q, res, 1);
}

static void read_data_done(struct io_req *q, int res)
{
	read_done(q, res, 0);
}

int store_get(struct store *s, const struct wire_shard_id *id,
	      uint32_t offset, uint32_t len, store_read_fn done, void *arg)
{
	struct sentry *e;
	struct sread *rd;
	uint64_t end;
	uint32_t b1;

	if (s->closing)
		return -ESHUTDOWN;
	e = id->version ? index_find(s, id) : index_newest(s, id);
	if (!e)
		return -ENOENT;
	if (offset > e->shard_len)
		return -ERANGE;
	end = len ? MIN((uint64_t)offset + len, e->shard_len) : e->shard_len;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->s = s;
	rd->g = e->seg;
	rd->off = e->off;
	rd->meta_len = rec_meta_len(e->shard_len);
	rd->b0 = offset / WIRE_CSUM_BLOCK;
	b1 = (uint32_t)DIV_ROUND_UP(end, WIRE_CSUM_BLOCK);
	rd->nb = b1 > rd->b0 ? b1 - rd->b0 : 0;
	rd->want.id = e->id;
	rd->want.seq = e->seq;
	rd->want.shard_len = e->shard_len;
	rd->buf = bufpool_get(s->pool,
			      rd->meta_len + (size_t)rd->nb * WIRE_CSUM_BLOCK,
			      &rd->cap);
	if (!rd->buf) {
		free(rd);
		return -ENOMEM;
	}
	rd->done = done;
	rd->arg = arg;
	rd->g->refs++;
	s->client_ops++;
	rd->io_meta.cb = read_meta_done;
	rd->io_data.cb = read_data_done;
	if (rd->b0 == 0 || rd->nb == 0) {
		/* Metadata and data are contiguous on disk: one read. */
		rd->meta_want = rd->meta_len + rd->nb * WIRE_CSUM_BLOCK;
		rd->pending = 1;
		s->io_pending++;
		io_read(s->ring, &rd->io_meta, rd->g->fd, rd->buf,
			rd->meta_want, rd->off);
	} else {
		rd->meta_want = rd->meta_len;
		rd->data_want = rd->nb * WIRE_CSUM_BLOCK;
		rd->pending = 2;
		s->io_pending += 2;
		io_read(s->ring, &rd->io_meta, rd->g->fd, rd->buf,
			rd->meta_want, rd->off);
		io_read(s->ring, &rd->io_data, rd->g->fd,
			rd->buf + rd->meta_len, rd->data_want,
			rd->off + rd->meta_len +
				(uint64_t)rd->b0 * WIRE_CSUM_BLOCK);
	}
	return 0;
}

/* ---- writes --------------------------------------------------------------*/

static struct srec *rec_new(struct store *s, uint32_t len)
{
	struct srec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->buf = bufpool_get(s->pool, len, &r->buf_cap);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	r->s = s;
	return r;
}

/* Bytes copied into a PUT's record per step before their crcs are
 * computed: a multiple of WIRE_CSUM_BLOCK that fits the L1/L2 cache. */
#define STORE_PUT_PIECE (32u << 10)

/* Can a PUT of rl bytes be placed now or once a segment is ready? */
static int put_room(struct store *s, uint32_t rl)
{
	struct seg *h = s->head;

	if (h && h->end + rl <= seg_limit(s, h, RK_PUT))
		return 1;
	if (s->next || s->preparing || s->w_head)
		return 1;
	return !(s->full && now_ms() < s->full_retry_ms);
}

int store_put(struct store *s, const struct store_put_args *a,
	      store_done_fn done, void *arg, uint32_t *bad_block)
{
	uint32_t n = rec_ncsums(a->len), meta, rl;
	struct srec *r;
	uint8_t *csum, *data;
	int rc;

	if (s->closing)
		return -ESHUTDOWN;
	if (s->broken)
		return -EIO;
	if (a->id.version == 0 || a->id.index >= STORE_EC_MAX_SHARDS)
		return -EINVAL;
	if (a->len > STORE_SHARD_MAX)
		return -EFBIG;
	meta = rec_meta_len(a->len);
	rl = rec_len(a->len);
	if (REC_BLOCK + (uint64_t)rl > s->seg_size - REC_BLOCK - s->del_reserve)
		return -EFBIG;
	if (!put_room(s, rl))
		return -ENOSPC;
	r = rec_new(s, rl);
	if (!r)
		return -ENOMEM;
	csum = r->buf + REC_HDR_LEN;
	data = r->buf + meta;
	/* The one copy of the data, a piece at a time, each piece's crcs
	 * computed right after its copy while it is still in the L1/L2
	 * cache (a whole-shard copy followed by whole-shard crcs read the
	 * shard from memory twice).  Pieces are big enough for glibc's
	 * memcpy to stream (a constant 4 KiB copy compiled to a slow inline
	 * `rep movsq` that cost 11% of a put's CPU). */
	for (uint32_t po = 0; po < a->len; po += STORE_PUT_PIECE) {
		uint32_t plen = MIN(STORE_PUT_PIECE, a->len - po);

		memcpy(data + po, a->data + po, plen);
		for (uint32_t b = po / WIRE_CSUM_BLOCK;
		     b < n && b * WIRE_CSUM_BLOCK < po + plen; b++) {
			uint32_t off = b * WIRE_CSUM_BLOCK;
			uint32_t blen = MIN(WIRE_CSUM_BLOCK, a->len - off);
			uint32_t c;

			c = store_crc32c(0, data + off, blen);
			if (a->csums &&
			    c != get_le32(a->csums + 4 * (size_t)b)) {
				if (bad_block)
					*bad_block = b;
				rec_free(s, r);
				return -EBADMSG;
			}
			put_le32(csum + 4 * (size_t)b, c);
		}
	}
	memset(csum + 4 * (size_t)n, 0, meta - REC_HDR_LEN - 4 * (size_t)n);
	memset(data + a->len, 0, rl - meta - a->len);
	r->kind = RK_PUT;
	r->hdr.type = REC_PUT;
	r->hdr.id = a->id;
	r->hdr.k = a->k;
	r->hdr.m = a->m;
	r->hdr.obj_len = a->obj_len;
	r->hdr.shard_len = a->len;
	r->hdr.mtime_ns = wall_ns();
	r->hdr.rec_len = rl;
	r->hdr.csum_crc = store_crc32c(0, csum, 4 * (size_t)n);
	r->done = done;
	r->arg = arg;
	s->client_ops++;
	rc = rec_submit(s, r);
	if (rc) {
		s->client_ops--;
		rec_free(s, r);
		return rc;
	}
	return 0;
}

/* Is there anything a delete of (id, flags) could delete: an entry, or a
 * PUT on its way to the log? */
static int delete_matches(struct store *s, const struct wire_shard_id *id,
			  unsigned flags)
{
	const struct srec *lists[2] = { s->q_head, s->w_head };

	if (flags & STORE_DEL_OLDER) {
		struct ikey k = { *id, 0 };
		struct avl_node *n;

		k.id.version = 0;
		n = avl_lower_bound(&s->index, &k);
		if (n) {
			struct sentry *e = avl_entry(n, struct sentry, node);

			if (!key_cmp(&e->id, id) && e->id.version < id->version)
				return 1;
		}
	} else if (index_find(s, id)) {
		return 1;
	}
	for (int l = 0; l < 2; l++) {
		for (const struct srec *r = lists[l]; r; r = r->next) {
			if (r->hdr.type != REC_PUT || key_cmp(&r->hdr.id, id))
				continue;
			if ((flags & STORE_DEL_OLDER) ?
				    r->hdr.id.version < id->version :
				    r->hdr.id.version == id->version)
				return 1;
		}
	}
	return 0;
}

int store_delete(struct store *s, const struct wire_shard_id *id,
		 unsigned flags, store_done_fn done, void *arg)
{
	struct srec *r;
	int rc;

	if (s->closing)
		return -ESHUTDOWN;
	if (s->broken)
		return -EIO;
	if (id->index >= STORE_EC_MAX_SHARDS)
		return -EINVAL;
	if (!delete_matches(s, id, flags)) {
		/* Nothing to delete, now or by the time it would apply. */
		s->client_ops++;
		defer(s, done, arg, 0);
		return 0;
	}
	r = rec_new(s, REC_BLOCK);
	if (!r)
		return -ENOMEM;
	memset(r->buf, 0, REC_BLOCK);
	r->kind = RK_DELETE;
	r->hdr.type = REC_DELETE;
	r->hdr.flags = (flags & STORE_DEL_OLDER) ? REC_F_OLDER : 0;
	r->hdr.id = *id;
	r->hdr.mtime_ns = wall_ns();
	r->hdr.rec_len = REC_BLOCK;
	r->done = done;
	r->arg = arg;
	s->client_ops++;
	rc = rec_submit(s, r);
	if (rc) {
		s->client_ops--;
		rec_free(s, r);
		return rc;
	}
	return 0;
}

uint32_t store_list(struct store *s, uint32_t pool,
		    const struct wire_shard_id *after, store_filter_fn filter,
		    void *farg, struct store_entry *out, uint32_t max,
		    int *more)
{
	struct avl_node *n;
	struct ikey k;
	uint32_t count = 0;

	*more = 0;
	memset(&k, 0, sizeof(k));
	if (after && after->pool == pool) {
		k.id = *after;
		n = avl_upper_bound(&s->index, &k);
	} else if (after && after->pool > pool) {
		return 0;
	} else {
		k.id.pool = pool;
		n = avl_lower_bound(&s->index, &k);
	}
	for (; n; n = avl_next(n)) {
		struct sentry *e = avl_entry(n, struct sentry, node);

		if (e->id.pool != pool)
			break;
		if (filter && !filter(farg, &e->id))
			continue;
		if (count == max) {
			*more = 1;
			break;
		}
		out[count].id = e->id;
		out[count].k = e->k;
		out[count].m = e->m;
		out[count].obj_len = e->obj_len;
		out[count].shard_len = e->shard_len;
		out[count].mtime_ns = e->mtime_ns;
		count++;
	}
	return count;
}

/* ---- driving -------------------------------------------------------------*/

void store_poll(struct store *s)
{
	run_deferred(s);
	if (s->broken)
		fail_unsynced(s);
	commit_ready(s);
	seal_ready(s);
	sync_start(s);
	prep_maybe(s);
	if (s->w_head && (s->next || (s->head && !s->preparing)))
		wait_kick(s);
	compact_poll(s);
	/* Callbacks above may have queued more completions: never leave
	 * one behind for a loop that is about to sleep. */
	run_deferred(s);
}

int store_run(struct store *s, int timeout_ms)
{
	int rc;

	unsigned before = s->client_ops;

	/* Deferred completions and a group commit due must not wait for
	 * the ring's timeout; nor must a caller whose operation just
	 * completed. */
	store_poll(s);
	if (s->client_ops != before)
		timeout_ms = 0;
	rc = io_run(s->ring, timeout_ms);
	store_poll(s);
	return rc;
}

unsigned store_busy(const struct store *s)
{
	return s->client_ops;
}

int store_drain(struct store *s)
{
	store_poll(s);
	while (s->client_ops || s->q_head || s->d_head || s->preparing ||
	       !compact_idle(s)) {
		io_run(s->ring, 100);
		store_poll(s);
	}
	return 0;
}

void store_set_compact_pct(struct store *s, unsigned pct)
{
	s->compact_pct = pct;
}

const struct osd_super *store_super(const struct store *s)
{
	return &s->sb;
}

int store_set_identity(struct store *s, const uint8_t cluster_id[16],
		       uint32_t osd_id)
{
	struct osd_super old = s->sb;
	int rc;

	memcpy(s->sb.cluster_id, cluster_id, 16);
	s->sb.osd_id = osd_id;
	rc = super_write(s);
	if (rc)
		s->sb = old;
	return rc;
}

void store_get_stats(const struct store *s, struct store_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->shards = s->index.count;
	st->tombstones = s->tombs.count;
	st->segments = s->n_segs;
	for (uint32_t i = 0; i < s->n_segs; i++) {
		st->bytes_disk += s->segs[i]->size;
		st->bytes_live += s->segs[i]->live;
	}
	st->compactions = s->compactions;
	st->syncs = s->syncs;
	st->records = s->records;
	st->full = s->full;
	st->failed = s->broken != 0;
}

int store_locate(struct store *s, const struct wire_shard_id *id, char *path,
		 size_t pathlen, uint64_t *off, uint32_t *len)
{
	struct sentry *e = id->version ? index_find(s, id) :
					 index_newest(s, id);

	if (!e)
		return -ENOENT;
	snprintf(path, pathlen, "%s/log/%s", s->dir, e->seg->name);
	*off = e->off;
	*len = e->rec_len;
	return 0;
}

/* Does O_DIRECT work in the log folder?  (tmpfs refuses it: the store then
 * runs buffered, still durable through fdatasync.) */
static int probe_odirect(struct store *s)
{
	static const char probe[] = "odirect.probe";
	int fd = io_sync_openat(s->ring, s->logfd, probe,
				O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);

	if (fd >= 0) {
		close(fd);
		io_sync_unlinkat(s->ring, s->logfd, probe, 0);
		return 1;
	}
	if (fd == -EINVAL) {
		log_warn("%s does not support O_DIRECT: the shard store runs "
			 "through the page cache (slower)", s->dir);
		return 0;
	}
	return fd;
}

int store_open(const struct store_opts *o, struct store **out, char *err,
	       size_t errlen)
{
	struct store *s;
	int rc;

	*out = NULL;
	err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", o->dir);
	s->ring = o->ring;
	s->dirfd = s->logfd = -1;
	s->seg_size = o->segment_size ? o->segment_size :
					STORE_SEG_SIZE_DEFAULT;
	s->compact_pct = o->compact_pct ? o->compact_pct :
					  STORE_COMPACT_PCT_DEFAULT;
	if (s->seg_size < STORE_SEG_SIZE_MIN || s->seg_size % REC_BLOCK ||
	    s->seg_size > (1ull << 40)) {
		snprintf(err, errlen, "segment size %" PRIu64 " is not a "
			 "multiple of 4 KiB between 256 KiB and 1 TiB",
			 s->seg_size);
		free(s);
		return -EINVAL;
	}
	s->del_reserve = MIN(STORE_DEL_RESERVE_MAX, s->seg_size / 16) &
			 ~(uint64_t)(REC_BLOCK - 1);
	s->odirect = 1;
	s->next_lsn = 1;
	s->next_seg_id = 1;
	avl_init(&s->index, index_cmp);
	avl_init(&s->tombs, tomb_cmp);
	s->pool = bufpool_new(STORE_POOL_KEEP);
	if (!s->pool) {
		snprintf(err, errlen, "out of memory");
		free(s);
		return -ENOMEM;
	}
	s->cpt.s = s;
	rc = super_open(s, err, errlen);
	if (rc)
		goto fail;
	rc = probe_odirect(s);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create files in %s/log: %s",
			 s->dir, strerror(-rc));
		goto fail;
	}
	s->odirect = rc;
	s->replaying = 1;
	rc = store_scan(s, err, errlen);
	if (rc)
		goto fail;
	store_finish_replay(s);
	/* The first head, before anything is accepted (the loop is not
	 * running yet: run the ring here). */
	prep_start(s);
	while (s->preparing)
		io_run(s->ring, -1);
	if (s->next)
		switch_head(s);
	*out = s;
	return 0;
fail:
	s->closing = 1;
	store_close(s);
	return rc;
}

static void free_index(struct store *s)
{
	struct avl_node *n;

	while ((n = avl_first(&s->index))) {
		struct sentry *e = avl_entry(n, struct sentry, node);

		avl_remove(&s->index, n);
		segset_free(&e->shadows);
		free(e);
	}
	while ((n = avl_first(&s->tombs))) {
		struct stomb *t = avl_entry(n, struct stomb, node);

		avl_remove(&s->tombs, n);
		segset_free(&t->deps);
		free(t);
	}
}

void store_close(struct store *s)
{
	uint64_t t0 = now_ms();
	struct srec *r;

	if (!s)
		return;
	s->closing = 1;
	if (s->head) {
		s->head->state = SEG_CLOSED;
		seg_want_seal(s, s->head);
		s->head = NULL;
	}
	while ((r = w_pop(s)))
		rec_fail(s, r, -ESHUTDOWN);
	store_poll(s);
	while ((s->q_head || s->d_head || s->io_pending || s->client_ops ||
		!compact_idle(s)) &&
	       now_ms() - t0 < STORE_CLOSE_WAIT_MS) {
		io_run(s->ring, 100);
		store_poll(s);
		while ((r = w_pop(s)))
			rec_fail(s, r, -ESHUTDOWN);
	}
	if (s->io_pending)
		log_err("%s: %u disk operations still in flight after %d s; "
			"closing anyway", s->dir, s->io_pending,
			STORE_CLOSE_WAIT_MS / 1000);
	if (s->next && s->next->pending == 0) {
		/* Prepared but never used: nothing in it. */
		struct seg *g = s->next;

		s->next = NULL;
		if (io_sync_unlinkat(s->ring, s->logfd, g->name, 0) == 0)
			io_sync_fsync(s->ring, s->logfd, 0);
		seg_remove(s, g);
	}
	free_index(s);
	for (uint32_t i = 0; i < s->n_segs; i++) {
		s->segs[i]->tombs = NULL;
		seg_free(s->segs[i]);
	}
	free(s->segs);
	bufpool_put(s->pool, s->cpt.hbuf, s->cpt.hbuf_cap);
	bufpool_put(s->pool, s->cpt.rbuf, s->cpt.rbuf_cap);
	bufpool_free(s->pool);
	if (s->logfd >= 0)
		close(s->logfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s);
}
