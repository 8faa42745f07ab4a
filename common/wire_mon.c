/*
 * wire_mon.c -- cluster payloads: see wire_mon.h.
 */
#include "wire_mon.h"
#include "wire_rec.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Smallest encodings of one OSD and one pool in a map, used to check a
 * count against the bytes present before allocating for it. */
#define MAP_OSD_MIN_LEN (4 + 1 + 16 + 8 + 8 + 8 + 2 + 2)
#define MAP_POOL_MIN_LEN (4 + 4 + 4 + 4 + 4 + 2)
/* Smallest override: pool, pg, n and at least two OSDs (k, m >= 1). */
#define MAP_UPMAP_MIN_LEN (4 + 4 + 1 + 2 * 4)
/*
 * Format of an encoded map.  Format 1 (no byte for it) ended after the
 * pools; later formats append their format byte and their sections after
 * them.  wire_dec_map() wants the current format; wire_dec_map_v1()
 * reads a format-1 map the MDS stored before (as a map without
 * overrides).  An older decoder refuses a newer map (it wants the payload
 * to end after the pools): daemons and clients upgrade together.
 *   2: placement overrides (u32 count, then per entry u32 pool, u32 pg,
 *      u8 n, n x u32 OSD ids).
 */
#define MAP_FMT_UPMAP 2
/* Flags of an OSD in an encoded map. */
#define MAP_OSD_UP 1
#define MAP_OSD_IN 2

void wire_enc_weight(struct wbuf *w, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	wbuf_u64(w, bits);
}

double wire_dec_weight(struct rbuf *r)
{
	uint64_t bits = rbuf_u64(r);
	double v;

	memcpy(&v, &bits, sizeof(v));
	if (!isfinite(v) || v < 0 || v > 1e12) {
		if (!r->err)
			r->err = -EBADMSG;
		return 0;
	}
	return v;
}

void wire_enc_osd_boot(struct wbuf *w, const struct wire_osd_boot *m)
{
	wbuf_raw(w, m->cluster_id, 16);
	wbuf_raw(w, m->uuid, 16);
	wbuf_u32(w, m->osd_id);
	wire_enc_weight(w, m->weight);
	wbuf_u64(w, m->capacity);
	wbuf_u64(w, m->used);
	wbuf_str(w, m->host, STORE_HOST_MAX);
	wbuf_str(w, m->addr, STORE_ADDR_MAX);
}

int wire_dec_osd_boot(const uint8_t *p, size_t len, struct wire_osd_boot *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	rbuf_raw(&r, m->cluster_id, 16);
	rbuf_raw(&r, m->uuid, 16);
	m->osd_id = rbuf_u32(&r);
	m->weight = wire_dec_weight(&r);
	m->capacity = rbuf_u64(&r);
	m->used = rbuf_u64(&r);
	rbuf_str(&r, m->host, sizeof(m->host), STORE_HOST_MAX);
	rbuf_str(&r, m->addr, sizeof(m->addr), STORE_ADDR_MAX);
	if (!r.err && m->osd_id != WIRE_OSD_NEW && m->osd_id >= STORE_MAX_OSDS)
		return -EBADMSG;
	return rbuf_done(&r);
}

void wire_enc_osd_boot_reply(struct wbuf *w,
			     const struct wire_osd_boot_reply *m)
{
	wbuf_u32(w, m->osd_id);
	wbuf_raw(w, m->cluster_id, 16);
}

int wire_dec_osd_boot_reply(const uint8_t *p, size_t len,
			    struct wire_osd_boot_reply *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->osd_id = rbuf_u32(&r);
	rbuf_raw(&r, m->cluster_id, 16);
	if (!r.err && m->osd_id >= STORE_MAX_OSDS)
		return -EBADMSG;
	return rbuf_done(&r);
}

void wire_enc_heartbeat(struct wbuf *w, const struct wire_heartbeat *m)
{
	wbuf_u32(w, m->osd_id);
	wbuf_u64(w, m->capacity);
	wbuf_u64(w, m->used);
	wbuf_u64(w, m->shards);
	wbuf_u64(w, m->recovery_bytes);
	wbuf_u64(w, m->recovery_queued);
	wbuf_u64(w, m->pass_epoch);
	wbuf_u32(w, m->pgs);
	wbuf_u64(w, m->degraded);
	wbuf_u64(w, m->misplaced);
	wbuf_u64(w, m->unfound);
	wbuf_u64(w, m->bytes_left);
	wbuf_u64(w, m->shards_recovered);
	wbuf_u64(w, m->shards_moved);
	wbuf_u64(w, m->shards_gc);
	wbuf_u64(w, m->scrub_errors);
	wbuf_u64(w, m->fs_used);
	wbuf_u64(w, m->avail);
	wbuf_u32(w, m->flags);
	wbuf_u64(w, m->disk_id);
}

int wire_dec_heartbeat(const uint8_t *p, size_t len, struct wire_heartbeat *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->osd_id = rbuf_u32(&r);
	m->capacity = rbuf_u64(&r);
	m->used = rbuf_u64(&r);
	m->shards = rbuf_u64(&r);
	m->recovery_bytes = rbuf_u64(&r);
	m->recovery_queued = rbuf_u64(&r);
	m->pass_epoch = rbuf_u64(&r);
	m->pgs = rbuf_u32(&r);
	m->degraded = rbuf_u64(&r);
	m->misplaced = rbuf_u64(&r);
	m->unfound = rbuf_u64(&r);
	m->bytes_left = rbuf_u64(&r);
	m->shards_recovered = rbuf_u64(&r);
	m->shards_moved = rbuf_u64(&r);
	m->shards_gc = rbuf_u64(&r);
	m->scrub_errors = rbuf_u64(&r);
	m->fs_used = rbuf_u64(&r);
	m->avail = rbuf_u64(&r);
	m->flags = rbuf_u32(&r);
	m->disk_id = rbuf_u64(&r);
	if (!r.err && (m->osd_id >= STORE_MAX_OSDS ||
		       (m->flags & ~(uint32_t)WIRE_HB_FULL)))
		return -EBADMSG;
	return rbuf_done(&r);
}

void wire_enc_map_get(struct wbuf *w, const struct wire_map_get *m)
{
	wbuf_u64(w, m->have_epoch);
}

int wire_dec_map_get(const uint8_t *p, size_t len, struct wire_map_get *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->have_epoch = rbuf_u64(&r);
	return rbuf_done(&r);
}

void wire_enc_map(struct wbuf *w, const struct store_map *m)
{
	uint32_t n = map_count_osds(m, -1, -1);

	wbuf_u64(w, m->epoch);
	wbuf_raw(w, m->cluster_id, 16);
	wbuf_u32(w, n);
	for (uint32_t i = 0; i < m->n_osds; i++) {
		const struct map_osd *o = &m->osds[i];

		if (!o->exists)
			continue;
		wbuf_u32(w, o->id);
		wbuf_u8(w, (o->up ? MAP_OSD_UP : 0) | (o->in ? MAP_OSD_IN : 0));
		wbuf_raw(w, o->uuid, 16);
		wire_enc_weight(w, o->weight);
		wbuf_u64(w, o->capacity);
		wbuf_u64(w, o->used);
		wbuf_str(w, o->host, STORE_HOST_MAX);
		wbuf_str(w, o->addr, STORE_ADDR_MAX);
	}
	wbuf_u32(w, m->n_pools);
	for (uint32_t i = 0; i < m->n_pools; i++) {
		const struct map_pool *p = &m->pools[i];

		wbuf_u32(w, p->id);
		wbuf_u8(w, p->k);
		wbuf_u8(w, p->m);
		wbuf_u8(w, p->min_size);
		wbuf_u8(w, p->domain);
		wbuf_u32(w, p->pg_num);
		wbuf_u32(w, p->object_size);
		wbuf_str(w, p->name, STORE_POOL_NAME_MAX);
	}
	wbuf_u8(w, MAP_FMT_UPMAP);
	wbuf_u32(w, m->n_upmaps);
	for (uint32_t i = 0; i < m->n_upmaps; i++) {
		const struct map_upmap *u = &m->upmaps[i];
		const struct map_pool *p = map_pool(m, u->pool);
		unsigned k = p ? (unsigned)p->k + p->m : 0;

		wbuf_u32(w, u->pool);
		wbuf_u32(w, u->pg);
		wbuf_u8(w, (uint8_t)k);
		for (unsigned j = 0; j < k; j++)
			wbuf_u32(w, u->osds[j]);
	}
}

/* The overrides section of a map (format MAP_FMT_UPMAP), after the pools
 * are decoded into m.  The count is checked against the PGs of the pools
 * and against the bytes present before anything is allocated; map_check()
 * checks the entries themselves.  Returns 0 or -EBADMSG / -ENOMEM. */
static int dec_upmaps(struct rbuf *r, struct store_map *m)
{
	uint32_t n = rbuf_u32(r);

	if (r->err || n > map_total_pgs(m) ||
	    rbuf_left(r) < (size_t)n * MAP_UPMAP_MIN_LEN)
		return -EBADMSG;
	if (!n)
		return 0;
	m->upmaps = calloc(n, sizeof(*m->upmaps));
	if (!m->upmaps)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct map_upmap *u = &m->upmaps[i];
		const struct map_pool *p;
		uint8_t k;

		u->pool = rbuf_u32(r);
		u->pg = rbuf_u32(r);
		k = rbuf_u8(r);
		p = map_pool(m, u->pool);
		/* The pools are not checked yet (map_check() runs after the
		 * whole map is decoded): bound k by the array first. */
		if (r->err || !p || k != p->k + p->m ||
		    k > STORE_EC_MAX_SHARDS)
			return -EBADMSG;
		for (unsigned j = 0; j < k; j++)
			u->osds[j] = rbuf_u32(r);
		if (r->err)
			return -EBADMSG;
	}
	m->n_upmaps = n;
	return 0;
}

/* Decode a map of format fmt (1 or MAP_FMT_UPMAP): see wire_dec_map(). */
static int dec_map(const uint8_t *p, size_t len, int fmt,
		   struct store_map *out)
{
	struct store_map m;
	struct rbuf r;
	uint32_t n;
	int rc = -EBADMSG;

	map_init(&m);
	rbuf_init(&r, p, len);
	m.epoch = rbuf_u64(&r);
	rbuf_raw(&r, m.cluster_id, 16);
	n = rbuf_u32(&r);
	if (r.err || n > STORE_MAX_OSDS ||
	    rbuf_left(&r) < (size_t)n * MAP_OSD_MIN_LEN)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		struct map_osd tmp, *o;
		uint8_t flags;

		memset(&tmp, 0, sizeof(tmp));
		tmp.id = rbuf_u32(&r);
		flags = rbuf_u8(&r);
		rbuf_raw(&r, tmp.uuid, 16);
		tmp.weight = wire_dec_weight(&r);
		tmp.capacity = rbuf_u64(&r);
		tmp.used = rbuf_u64(&r);
		rbuf_str(&r, tmp.host, sizeof(tmp.host), STORE_HOST_MAX);
		rbuf_str(&r, tmp.addr, sizeof(tmp.addr), STORE_ADDR_MAX);
		if (r.err || (flags & ~(MAP_OSD_UP | MAP_OSD_IN)))
			goto out;
		/* Ids must ascend: bounds the array by what was sent. */
		if (i > 0 && tmp.id <= m.osds[m.n_osds - 1].id)
			goto out;
		o = map_add_osd(&m, tmp.id);
		if (!o) {
			rc = errno == ENOMEM ? -ENOMEM : -EBADMSG;
			goto out;
		}
		tmp.exists = 1;
		tmp.up = !!(flags & MAP_OSD_UP);
		tmp.in = !!(flags & MAP_OSD_IN);
		*o = tmp;
	}
	n = rbuf_u32(&r);
	if (r.err || n > STORE_MAX_POOLS ||
	    rbuf_left(&r) < (size_t)n * MAP_POOL_MIN_LEN)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		struct map_pool pool;

		memset(&pool, 0, sizeof(pool));
		pool.id = rbuf_u32(&r);
		pool.k = rbuf_u8(&r);
		pool.m = rbuf_u8(&r);
		pool.min_size = rbuf_u8(&r);
		pool.domain = rbuf_u8(&r);
		pool.pg_num = rbuf_u32(&r);
		pool.object_size = rbuf_u32(&r);
		rbuf_str(&r, pool.name, sizeof(pool.name), STORE_POOL_NAME_MAX);
		if (r.err)
			goto out;
		if (!map_add_pool(&m, &pool)) {
			rc = errno == ENOMEM ? -ENOMEM : -EBADMSG;
			goto out;
		}
	}
	/* A map of format 1 ends here. */
	if (fmt > 1) {
		if (rbuf_u8(&r) != MAP_FMT_UPMAP || r.err)
			goto out;
		rc = dec_upmaps(&r, &m);
		if (rc)
			goto out;
		rc = -EBADMSG;
	}
	rc = rbuf_done(&r);
	if (rc == 0 && map_check(&m) != 0)
		rc = -EBADMSG;
	if (rc == 0) {
		map_free(out);
		*out = m;
		return 0;
	}
out:
	map_free(&m);
	return rc;
}

int wire_dec_map(const uint8_t *p, size_t len, struct store_map *out)
{
	return dec_map(p, len, MAP_FMT_UPMAP, out);
}

int wire_dec_map_v1(const uint8_t *p, size_t len, struct store_map *out)
{
	return dec_map(p, len, 1, out);
}

void wire_enc_osd_cmd(struct wbuf *w, const struct wire_osd_cmd *m)
{
	wbuf_u32(w, m->op);
	wbuf_u32(w, m->osd_id);
	wire_enc_weight(w, m->weight);
}

int wire_dec_osd_cmd(const uint8_t *p, size_t len, struct wire_osd_cmd *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	m->op = rbuf_u32(&r);
	m->osd_id = rbuf_u32(&r);
	m->weight = wire_dec_weight(&r);
	if (!r.err && (m->op < WIRE_OSD_OUT || m->op > WIRE_OSD_REWEIGHT ||
		       m->osd_id >= STORE_MAX_OSDS))
		return -EBADMSG;
	return rbuf_done(&r);
}

void wire_enc_status(struct wbuf *w, const struct wire_status *m)
{
	wbuf_u8(w, m->health);
	wbuf_u64(w, m->epoch);
	wbuf_u32(w, m->osds_total);
	wbuf_u32(w, m->osds_up);
	wbuf_u32(w, m->osds_in);
	wbuf_u64(w, m->objects_total);
	wbuf_u64(w, m->objects_degraded);
	wbuf_u64(w, m->objects_misplaced);
	wbuf_u64(w, m->objects_unfound);
	wbuf_u64(w, m->bytes_total);
	wbuf_u64(w, m->bytes_used);
	wbuf_u64(w, m->files);
	wbuf_u64(w, m->recovery_bps);
	wbuf_u64(w, m->recovery_left);
	wbuf_str(w, m->summary, STORE_ERRMSG_MAX);
	wbuf_u32(w, m->osds_down_in);
	wbuf_u32(w, m->osds_checking);
	wbuf_u64(w, m->shards_recovered);
	wbuf_u64(w, m->shards_moved);
	wbuf_u64(w, m->shards_gc);
	wbuf_u64(w, m->scrub_errors);
	wbuf_u32(w, m->osd_stats ? m->n_osd_stats : 0);
	for (uint32_t i = 0; m->osd_stats && i < m->n_osd_stats; i++)
		wire_enc_osd_stat(w, &m->osd_stats[i]);
}

/* The fields of a STATUS reply up to its per-OSD list; r is left at the
 * list's first entry. */
static void dec_status_head(struct rbuf *r, struct wire_status *m)
{
	m->health = rbuf_u8(r);
	m->epoch = rbuf_u64(r);
	m->osds_total = rbuf_u32(r);
	m->osds_up = rbuf_u32(r);
	m->osds_in = rbuf_u32(r);
	m->objects_total = rbuf_u64(r);
	m->objects_degraded = rbuf_u64(r);
	m->objects_misplaced = rbuf_u64(r);
	m->objects_unfound = rbuf_u64(r);
	m->bytes_total = rbuf_u64(r);
	m->bytes_used = rbuf_u64(r);
	m->files = rbuf_u64(r);
	m->recovery_bps = rbuf_u64(r);
	m->recovery_left = rbuf_u64(r);
	rbuf_str(r, m->summary, sizeof(m->summary), STORE_ERRMSG_MAX);
	m->osds_down_in = rbuf_u32(r);
	m->osds_checking = rbuf_u32(r);
	m->shards_recovered = rbuf_u64(r);
	m->shards_moved = rbuf_u64(r);
	m->shards_gc = rbuf_u64(r);
	m->scrub_errors = rbuf_u64(r);
	m->n_osd_stats = rbuf_u32(r);
	m->osd_stats = NULL;
	if (!r->err && (m->health > WIRE_HEALTH_ERR ||
			m->n_osd_stats > STORE_MAX_OSDS ||
			rbuf_left(r) != (size_t)m->n_osd_stats *
						 WIRE_OSD_STAT_LEN))
		r->err = -EBADMSG;
}

int wire_dec_status(const uint8_t *p, size_t len, struct wire_status *m)
{
	struct wire_osd_stat e;
	struct rbuf r;

	rbuf_init(&r, p, len);
	dec_status_head(&r, m);
	for (uint32_t i = 0; !r.err && i < m->n_osd_stats; i++)
		wire_dec_osd_stat(&r, &e);
	return rbuf_done(&r);
}

int wire_dec_status_osds(const uint8_t *p, size_t len,
			 struct wire_osd_stat *out, uint32_t cap, uint32_t *n)
{
	struct wire_status *m = malloc(sizeof(*m));
	struct wire_osd_stat e;
	struct rbuf r;
	int rc;

	*n = 0;
	if (!m)
		return -ENOMEM;
	rbuf_init(&r, p, len);
	dec_status_head(&r, m);
	for (uint32_t i = 0; !r.err && i < m->n_osd_stats; i++) {
		memset(&e, 0, sizeof(e));
		wire_dec_osd_stat(&r, &e);
		if (!r.err && i < cap)
			out[i] = e;
	}
	rc = rbuf_done(&r);
	if (rc == 0)
		*n = m->n_osd_stats;
	free(m);
	return rc;
}
