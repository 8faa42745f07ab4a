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
	map_init(m);
}

int map_copy(struct store_map *dst, const struct store_map *src)
{
	struct store_map tmp = *src;

	tmp.osds = NULL;
	tmp.pools = NULL;
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
	map_free(dst);
	*dst = tmp;
	return 0;
nomem:
	free(tmp.osds);
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

int map_check(const struct store_map *m)
{
	if (m->n_osds > STORE_MAX_OSDS || m->n_pools > STORE_MAX_POOLS)
		return -EINVAL;
	if ((m->n_osds && !m->osds) || (m->n_pools && !m->pools))
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
