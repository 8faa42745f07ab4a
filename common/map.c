/*
 * map.c -- see map.h.
 */
#include "map.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void map_init(struct store_map *m)
{
	memset(m, 0, sizeof(*m));
}

void map_free(struct store_map *m)
{
	free(m->osds);
	free(m->pools);
	free(m->upmaps);
	map_init(m);
}

int map_copy(struct store_map *dst, const struct store_map *src)
{
	struct store_map tmp = *src;

	tmp.osds = NULL;
	tmp.pools = NULL;
	tmp.upmaps = NULL;
	if (src->n_osds) {
		tmp.osds = calloc(src->n_osds, sizeof(*tmp.osds));
		if (!tmp.osds)
			goto nomem;
		memcpy(tmp.osds, src->osds, src->n_osds * sizeof(*tmp.osds));
	}
	if (src->n_pools) {
		tmp.pools = calloc(src->n_pools, sizeof(*tmp.pools));
		if (!tmp.pools)
			goto nomem;
		memcpy(tmp.pools, src->pools,
		       src->n_pools * sizeof(*tmp.pools));
	}
	if (src->n_upmaps) {
		tmp.upmaps = calloc(src->n_upmaps, sizeof(*tmp.upmaps));
		if (!tmp.upmaps)
			goto nomem;
		memcpy(tmp.upmaps, src->upmaps,
		       src->n_upmaps * sizeof(*tmp.upmaps));
	}
	map_free(dst);
	*dst = tmp;
	return 0;
nomem:
	free(tmp.osds);
	free(tmp.pools);
	map_free(dst);
	return -ENOMEM;
}

struct map_osd *map_add_osd(struct store_map *m, uint32_t id)
{
	struct map_osd *o;

	if (id >= STORE_MAX_OSDS || (id < m->n_osds && m->osds[id].exists)) {
		errno = EINVAL;
		return NULL;
	}
	if (id >= m->n_osds) {
		o = realloc(m->osds, (id + 1) * sizeof(*o));
		if (!o) {
			errno = ENOMEM;
			return NULL;
		}
		memset(o + m->n_osds, 0, (id + 1 - m->n_osds) * sizeof(*o));
		m->osds = o;
		m->n_osds = id + 1;
	}
	o = &m->osds[id];
	memset(o, 0, sizeof(*o));
	o->id = id;
	o->exists = 1;
	return o;
}

struct map_osd *map_osd(const struct store_map *m, uint32_t id)
{
	if (id >= m->n_osds || !m->osds[id].exists)
		return NULL;
	return &m->osds[id];
}

struct map_pool *map_add_pool(struct store_map *m, const struct map_pool *p)
{
	struct map_pool *np;

	if (m->n_pools >= STORE_MAX_POOLS || map_pool(m, p->id)) {
		errno = EINVAL;
		return NULL;
	}
	np = realloc(m->pools, (m->n_pools + 1) * sizeof(*np));
	if (!np) {
		errno = ENOMEM;
		return NULL;
	}
	m->pools = np;
	np[m->n_pools] = *p;
	return &np[m->n_pools++];
}

struct map_pool *map_pool(const struct store_map *m, uint32_t id)
{
	for (uint32_t i = 0; i < m->n_pools; i++)
		if (m->pools[i].id == id)
			return &m->pools[i];
	return NULL;
}

/* (pool, pg) order of overrides: -1, 0 or 1. */
static int upmap_cmp(const struct map_upmap *u, uint32_t pool, uint32_t pg)
{
	if (u->pool != pool)
		return u->pool < pool ? -1 : 1;
	if (u->pg != pg)
		return u->pg < pg ? -1 : 1;
	return 0;
}

const struct map_upmap *map_upmap(const struct store_map *m, uint32_t pool,
				  uint32_t pg)
{
	uint32_t lo = 0, hi = m->n_upmaps;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = upmap_cmp(&m->upmaps[mid], pool, pg);

		if (c == 0)
			return &m->upmaps[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint64_t map_total_pgs(const struct store_map *m)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < m->n_pools; i++)
		n += m->pools[i].pg_num;
	return n;
}

/* One override against the map: see the invariants in map.h.  prev is the
 * entry before it (NULL for the first). */
static int check_upmap(const struct store_map *m, const struct map_upmap *u,
		       const struct map_upmap *prev)
{
	const struct map_pool *p = map_pool(m, u->pool);
	unsigned n, same;

	if (!p || u->pg >= p->pg_num)
		return -EINVAL;
	if (prev && upmap_cmp(prev, u->pool, u->pg) >= 0)
		return -EINVAL;
	n = (unsigned)p->k + p->m;
	for (unsigned i = 0; i < STORE_EC_MAX_SHARDS; i++) {
		if (i >= n) {
			if (u->osds[i])
				return -EINVAL;
			continue;
		}
		if (!map_osd(m, u->osds[i]))
			return -EINVAL;
		/* An OSD may hold several positions (fewer OSDs than k + m,
		 * see crush.c), but never more than m: losing it must
		 * leave k. */
		same = 0;
		for (unsigned j = 0; j < i; j++)
			same += u->osds[j] == u->osds[i];
		if (same >= p->m)
			return -EINVAL;
	}
	return 0;
}

int map_check(const struct store_map *m)
{
	if (m->n_osds > STORE_MAX_OSDS || m->n_pools > STORE_MAX_POOLS)
		return -EINVAL;
	if ((m->n_osds && !m->osds) || (m->n_pools && !m->pools) ||
	    (m->n_upmaps && !m->upmaps))
		return -EINVAL;
	for (uint32_t i = 0; i < m->n_osds; i++) {
		const struct map_osd *o = &m->osds[i];

		if (!o->exists)
			continue;
		if (o->id != i || !isfinite(o->weight) || o->weight < 0)
			return -EINVAL;
		if (!memchr(o->host, '\0', sizeof(o->host)) ||
		    !memchr(o->addr, '\0', sizeof(o->addr)))
			return -EINVAL;
	}
	for (uint32_t i = 0; i < m->n_pools; i++) {
		const struct map_pool *p = &m->pools[i];

		if (p->k < 1 || p->m < 1 || p->m > STORE_EC_MAX_M ||
		    p->k > STORE_EC_MAX_K ||
		    p->k + p->m > STORE_EC_MAX_SHARDS || p->pg_num < 1 ||
		    p->object_size < 1 || p->min_size < p->k ||
		    p->min_size > p->k + p->m || p->domain > MAP_DOMAIN_OSD)
			return -EINVAL;
		for (uint32_t j = 0; j < i; j++)
			if (m->pools[j].id == p->id)
				return -EINVAL;
	}
	if (m->n_upmaps > map_total_pgs(m))
		return -EINVAL;
	for (uint32_t i = 0; i < m->n_upmaps; i++)
		if (check_upmap(m, &m->upmaps[i], i ? &m->upmaps[i - 1] : NULL))
			return -EINVAL;
	return 0;
}

uint32_t map_count_osds(const struct store_map *m, int want_up, int want_in)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->n_osds; i++) {
		const struct map_osd *o = &m->osds[i];

		if (!o->exists)
			continue;
		if (want_up >= 0 && !!o->up != !!want_up)
			continue;
		if (want_in >= 0 && !!o->in != !!want_in)
			continue;
		n++;
	}
	return n;
}
