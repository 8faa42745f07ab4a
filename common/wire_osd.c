/*
 * wire_osd.c -- shard-store payloads: see wire_osd.h.
 */
#include "wire_osd.h"

#include <errno.h>
#include <string.h>

/* Bytes of one encoded shard id and one list entry, for the bounds check
 * that precedes walking a list. */
#define SHARD_ID_LEN (4 + 8 + 8 + 8 + 1)
#define SHARD_ENTRY_LEN (SHARD_ID_LEN + 1 + 1 + 4 + 4 + 8)

static void enc_id(struct wbuf *w, const struct wire_shard_id *id)
{
	wbuf_u32(w, id->pool);
	wbuf_u64(w, id->ino);
	wbuf_u64(w, id->objno);
	wbuf_u64(w, id->version);
	wbuf_u8(w, id->index);
}

static void dec_id(struct rbuf *r, struct wire_shard_id *id)
{
	id->pool = rbuf_u32(r);
	id->ino = rbuf_u64(r);
	id->objno = rbuf_u64(r);
	id->version = rbuf_u64(r);
	id->index = rbuf_u8(r);
	if (id->index >= STORE_EC_MAX_SHARDS && !r->err)
		r->err = -EBADMSG;
}

/* k, m as a profile: both present or both zero (unknown). */
static int profile_ok(uint8_t k, uint8_t m)
{
	if (k == 0 && m == 0)
		return 1;
	return k >= 1 && k <= STORE_EC_MAX_K && m >= 1 &&
	       m <= STORE_EC_MAX_M && k + m <= STORE_EC_MAX_SHARDS;
}

static void enc_put_fields(struct wbuf *w, const struct wire_shard_put *m)
{
	enc_id(w, &m->id);
	wbuf_u8(w, m->k);
	wbuf_u8(w, m->m);
	wbuf_u32(w, m->obj_len);
	wbuf_u32(w, m->flags);
	wbuf_u32(w, m->data_len);
}

void wire_enc_shard_put(struct wbuf *w, const struct wire_shard_put *m)
{
	enc_put_fields(w, m);
	wbuf_raw(w, m->csums, (size_t)wire_csum_count(m->data_len) * 4);
	wbuf_raw(w, m->data, m->data_len);
}

uint8_t *wire_enc_shard_put_inplace(struct wbuf *w,
				    const struct wire_shard_put *m,
				    uint8_t **csums)
{
	size_t clen = (size_t)wire_csum_count(m->data_len) * 4;
	uint8_t *c;

	enc_put_fields(w, m);
	/* One reservation for both: a second could move the first. */
	c = wbuf_reserve(w, clen + m->data_len);
	if (!c)
		return NULL;
	*csums = c;
	return c + clen;
}

int wire_dec_shard_put(const uint8_t *p, size_t len, struct wire_shard_put *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	dec_id(&r, &m->id);
	m->k = rbuf_u8(&r);
	m->m = rbuf_u8(&r);
	m->obj_len = rbuf_u32(&r);
	m->flags = rbuf_u32(&r);
	m->data_len = rbuf_u32(&r);
	if (!r.err && (m->data_len > STORE_SHARD_MAX || !profile_ok(m->k, m->m)))
		return -EBADMSG;
	m->csums = rbuf_take(&r, (size_t)wire_csum_count(m->data_len) * 4);
	m->data = rbuf_take(&r, m->data_len);
	return rbuf_done(&r);
}

void wire_enc_shard_get(struct wbuf *w, const struct wire_shard_get *m)
{
	enc_id(w, &m->id);
	wbuf_u32(w, m->offset);
	wbuf_u32(w, m->len);
	wbuf_u32(w, m->flags);
}

int wire_dec_shard_get(const uint8_t *p, size_t len, struct wire_shard_get *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	dec_id(&r, &m->id);
	m->offset = rbuf_u32(&r);
	m->len = rbuf_u32(&r);
	m->flags = rbuf_u32(&r);
	if (!r.err && (m->offset > STORE_SHARD_MAX || m->len > STORE_SHARD_MAX))
		return -EBADMSG;
	return rbuf_done(&r);
}

void wire_enc_shard_get_reply(struct wbuf *w,
			      const struct wire_shard_get_reply *m)
{
	wbuf_u64(w, m->version);
	wbuf_u8(w, m->k);
	wbuf_u8(w, m->m);
	wbuf_u32(w, m->obj_len);
	wbuf_u32(w, m->shard_len);
	wbuf_u32(w, m->offset);
	wbuf_u32(w, m->data_len);
	wbuf_raw(w, m->csums, (size_t)wire_csum_count(m->data_len) * 4);
	wbuf_raw(w, m->data, m->data_len);
}

int wire_dec_shard_get_reply(const uint8_t *p, size_t len,
			     struct wire_shard_get_reply *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->version = rbuf_u64(&r);
	m->k = rbuf_u8(&r);
	m->m = rbuf_u8(&r);
	m->obj_len = rbuf_u32(&r);
	m->shard_len = rbuf_u32(&r);
	m->offset = rbuf_u32(&r);
	m->data_len = rbuf_u32(&r);
	if (r.err)
		return r.err;
	/* The range must lie inside the shard and start on a block. */
	if (!profile_ok(m->k, m->m) || m->shard_len > STORE_SHARD_MAX ||
	    m->offset % WIRE_CSUM_BLOCK || m->offset > m->shard_len ||
	    m->data_len > m->shard_len - m->offset)
		return -EBADMSG;
	m->csums = rbuf_take(&r, (size_t)wire_csum_count(m->data_len) * 4);
	m->data = rbuf_take(&r, m->data_len);
	return rbuf_done(&r);
}

void wire_enc_shard_list(struct wbuf *w, const struct wire_shard_list *m)
{
	wbuf_u32(w, m->pool);
	wbuf_u32(w, m->pg);
	wbuf_u32(w, m->max);
	wbuf_u8(w, m->has_after);
	enc_id(w, &m->after);
}

int wire_dec_shard_list(const uint8_t *p, size_t len,
			struct wire_shard_list *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->pool = rbuf_u32(&r);
	m->pg = rbuf_u32(&r);
	m->max = rbuf_u32(&r);
	m->has_after = rbuf_u8(&r);
	dec_id(&r, &m->after);
	if (!r.err && (m->has_after > 1 || m->max > STORE_LIST_MAX))
		return -EBADMSG;
	return rbuf_done(&r);
}

size_t wire_enc_shard_list_begin(struct wbuf *w)
{
	size_t at = w->len;

	wbuf_u32(w, 0); /* count, patched by _end */
	wbuf_u8(w, 0);  /* more */
	return at;
}

void wire_enc_shard_entry(struct wbuf *w, const struct wire_shard_entry *e)
{
	enc_id(w, &e->id);
	wbuf_u8(w, e->k);
	wbuf_u8(w, e->m);
	wbuf_u32(w, e->obj_len);
	wbuf_u32(w, e->shard_len);
	wbuf_u64(w, e->mtime_ns);
}

void wire_enc_shard_list_end(struct wbuf *w, size_t at, uint32_t count,
			     int more)
{
	if (w->err || at + 5 > w->len)
		return;
	put_le32(w->p + at, count);
	w->p[at + 4] = more ? 1 : 0;
}

static void dec_entry(struct rbuf *r, struct wire_shard_entry *e)
{
	dec_id(r, &e->id);
	e->k = rbuf_u8(r);
	e->m = rbuf_u8(r);
	e->obj_len = rbuf_u32(r);
	e->shard_len = rbuf_u32(r);
	e->mtime_ns = rbuf_u64(r);
	if (!r->err && (!profile_ok(e->k, e->m) ||
			e->shard_len > STORE_SHARD_MAX))
		r->err = -EBADMSG;
}

int wire_dec_shard_list_reply(const uint8_t *p, size_t len,
			      struct wire_shard_list_reply *m)
{
	struct wire_shard_entry e;
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->count = rbuf_u32(&r);
	m->more = rbuf_u8(&r);
	if (r.err)
		return r.err;
	if (m->count > STORE_LIST_MAX || m->more > 1 ||
	    rbuf_left(&r) != (size_t)m->count * SHARD_ENTRY_LEN)
		return -EBADMSG;
	rbuf_init(&m->entries, p + r.off, rbuf_left(&r));
	/* Validate every entry now, so that iterating cannot fail. */
	for (uint32_t i = 0; i < m->count; i++)
		dec_entry(&r, &e);
	return rbuf_done(&r);
}

int wire_shard_list_next(struct wire_shard_list_reply *m,
			 struct wire_shard_entry *e)
{
	if (rbuf_left(&m->entries) == 0 || m->entries.err)
		return 0;
	dec_entry(&m->entries, e);
	return m->entries.err ? 0 : 1;
}

void wire_enc_shard_delete(struct wbuf *w, const struct wire_shard_delete *m)
{
	enc_id(w, &m->id);
	wbuf_u32(w, m->flags);
}

int wire_dec_shard_delete(const uint8_t *p, size_t len,
			  struct wire_shard_delete *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	dec_id(&r, &m->id);
	m->flags = rbuf_u32(&r);
	if (!r.err && (m->flags & ~(uint32_t)WIRE_DEL_OLDER))
		return -EBADMSG;
	return rbuf_done(&r);
}

int wire_shard_id_cmp(const struct wire_shard_id *a,
		      const struct wire_shard_id *b)
{
#define CMP(f)                                                                 \
	if (a->f != b->f)                                                      \
		return a->f < b->f ? -1 : 1
	CMP(pool);
	CMP(ino);
	CMP(objno);
	CMP(index);
	CMP(version);
#undef CMP
	return 0;
}
