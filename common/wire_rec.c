/*
 * wire_rec.c -- recovery and scrub payloads: see wire_rec.h.
 */
#include "wire_rec.h"
#include "wire_osd.h"

#include <errno.h>
#include <string.h>

/* Bytes of one PG_OBJECTS entry, for the bounds check before walking. */
#define PG_OBJ_LEN (8 + 8 + 8 + 4)

void wire_enc_pg_objects(struct wbuf *w, const struct wire_pg_objects *m)
{
	wbuf_u32(w, m->pool);
	wbuf_u32(w, m->pg);
	wbuf_u32(w, m->max);
	wbuf_u8(w, m->has_after);
	wbuf_u64(w, m->after_ino);
	wbuf_u64(w, m->after_objno);
}

int wire_dec_pg_objects(const uint8_t *p, size_t len,
			struct wire_pg_objects *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->pool = rbuf_u32(&r);
	m->pg = rbuf_u32(&r);
	m->max = rbuf_u32(&r);
	m->has_after = rbuf_u8(&r);
	m->after_ino = rbuf_u64(&r);
	m->after_objno = rbuf_u64(&r);
	if (!r.err && (m->has_after > 1 || m->max > STORE_LIST_MAX))
		return -EBADMSG;
	return rbuf_done(&r);
}

/* A PG_OBJECTS page has SHARD_LIST's page header (count, more): the same
 * begin/end writes it. */
size_t wire_enc_pg_objects_begin(struct wbuf *w)
{
	return wire_enc_shard_list_begin(w);
}

void wire_enc_pg_obj(struct wbuf *w, const struct wire_pg_obj *e)
{
	wbuf_u64(w, e->ino);
	wbuf_u64(w, e->objno);
	wbuf_u64(w, e->version);
	wbuf_u32(w, e->length);
}

void wire_enc_pg_objects_end(struct wbuf *w, size_t at, uint32_t count,
			     int more)
{
	wire_enc_shard_list_end(w, at, count, more);
}

int wire_dec_pg_objects_reply(const uint8_t *p, size_t len,
			      struct wire_pg_objects_reply *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->count = rbuf_u32(&r);
	m->more = rbuf_u8(&r);
	if (r.err)
		return r.err;
	if (m->count > STORE_LIST_MAX || m->more > 1 ||
	    rbuf_left(&r) != (size_t)m->count * PG_OBJ_LEN)
		return -EBADMSG;
	rbuf_init(&m->entries, p + r.off, rbuf_left(&r));
	return 0;
}

int wire_pg_objects_next(struct wire_pg_objects_reply *m,
			 struct wire_pg_obj *e)
{
	struct rbuf *r = &m->entries;

	if (r->err || rbuf_left(r) < PG_OBJ_LEN)
		return 0;
	e->ino = rbuf_u64(r);
	e->objno = rbuf_u64(r);
	e->version = rbuf_u64(r);
	e->length = rbuf_u32(r);
	return r->err ? 0 : 1;
}

void wire_enc_scrub(struct wbuf *w, const struct wire_scrub *m)
{
	wbuf_u32(w, m->pool);
	wbuf_u32(w, m->pg);
	wbuf_u32(w, m->flags);
	wbuf_u64(w, m->ino);
}

int wire_dec_scrub(const uint8_t *p, size_t len, struct wire_scrub *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->pool = rbuf_u32(&r);
	m->pg = rbuf_u32(&r);
	m->flags = rbuf_u32(&r);
	m->ino = rbuf_u64(&r);
	if (!r.err && (m->flags & ~(uint32_t)WIRE_SCRUB_FLAGS))
		return -EBADMSG;
	return rbuf_done(&r);
}

void wire_enc_scrub_reply(struct wbuf *w, const struct wire_scrub_reply *m)
{
	wbuf_u64(w, m->epoch);
	wbuf_u32(w, m->pgs);
	wbuf_u64(w, m->objects);
	wbuf_u64(w, m->shards);
	wbuf_u64(w, m->missing);
	wbuf_u64(w, m->misplaced);
	wbuf_u64(w, m->stale);
	wbuf_u64(w, m->stale_deleted);
	wbuf_u64(w, m->corrupt);
	wbuf_u64(w, m->repaired);
	wbuf_u64(w, m->unrepairable);
}

int wire_dec_scrub_reply(const uint8_t *p, size_t len,
			 struct wire_scrub_reply *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->epoch = rbuf_u64(&r);
	m->pgs = rbuf_u32(&r);
	m->objects = rbuf_u64(&r);
	m->shards = rbuf_u64(&r);
	m->missing = rbuf_u64(&r);
	m->misplaced = rbuf_u64(&r);
	m->stale = rbuf_u64(&r);
	m->stale_deleted = rbuf_u64(&r);
	m->corrupt = rbuf_u64(&r);
	m->repaired = rbuf_u64(&r);
	m->unrepairable = rbuf_u64(&r);
	if (!r.err && m->stale_deleted > m->stale)
		return -EBADMSG;
	return rbuf_done(&r);
}

void wire_enc_osd_stat(struct wbuf *w, const struct wire_osd_stat *s)
{
	wbuf_u32(w, s->id);
	wbuf_u8(w, s->flags);
	wbuf_u32(w, s->pgs);
	wbuf_u64(w, s->shards);
	wbuf_u64(w, s->used);
	wbuf_u64(w, s->pass_epoch);
	wbuf_u64(w, s->degraded);
	wbuf_u64(w, s->misplaced);
	wbuf_u64(w, s->unfound);
	wbuf_u64(w, s->bytes_left);
	wbuf_u64(w, s->recovery_bytes);
	wbuf_u64(w, s->shards_recovered);
	wbuf_u64(w, s->shards_moved);
	wbuf_u64(w, s->shards_gc);
	wbuf_u64(w, s->scrub_errors);
}

void wire_dec_osd_stat(struct rbuf *r, struct wire_osd_stat *s)
{
	s->id = rbuf_u32(r);
	s->flags = rbuf_u8(r);
	s->pgs = rbuf_u32(r);
	s->shards = rbuf_u64(r);
	s->used = rbuf_u64(r);
	s->pass_epoch = rbuf_u64(r);
	s->degraded = rbuf_u64(r);
	s->misplaced = rbuf_u64(r);
	s->unfound = rbuf_u64(r);
	s->bytes_left = rbuf_u64(r);
	s->recovery_bytes = rbuf_u64(r);
	s->shards_recovered = rbuf_u64(r);
	s->shards_moved = rbuf_u64(r);
	s->shards_gc = rbuf_u64(r);
	s->scrub_errors = rbuf_u64(r);
	if (!r->err && (s->id >= STORE_MAX_OSDS ||
			(s->flags & ~WIRE_OSD_STAT_ALL)))
		r->err = -EBADMSG;
}
