/*
 * pg.c -- a placement group's set and primary: see pg.h.
 */
#include "pg.h"

#include <errno.h>
#include <string.h>

/* An override stays valid while every OSD of it could receive data: it
 * exists, is in and weighs more than 0.  Up or down does not matter, so a
 * down OSD keeps its positions exactly as under CRUSH. */
static int upmap_valid(const struct store_map *m, const struct map_upmap *u,
		       unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct map_osd *o = map_osd(m, u->osds[i]);

		if (!o || !o->in || !(o->weight > 0))
			return 0;
	}
	return 1;
}

int pg_set(const struct crush_tree *t, const struct store_map *m,
	   const struct map_pool *p, uint32_t pg, uint32_t *set)
{
	unsigned n = (unsigned)p->k + p->m;
	const struct map_upmap *u;

	if (pg >= p->pg_num || n < 1 || n > STORE_EC_MAX_SHARDS)
		return -EINVAL;
	u = map_upmap(m, p->id, pg);
	if (u && upmap_valid(m, u, n)) {
		memcpy(set, u->osds, n * sizeof(*set));
		return (int)n;
	}
	return crush_map_pg(t, p, pg, 0, set);
}

int pg_acting(const struct crush_tree *t, const struct store_map *m,
	      const struct map_pool *p, uint32_t pg, uint32_t *set,
	      uint32_t *primary)
{
	unsigned n = (unsigned)p->k + p->m;
	int rc = pg_set(t, m, p, pg, set);

	*primary = CRUSH_NONE;
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		const struct map_osd *o;

		if (set[i] == CRUSH_NONE)
			continue;
		o = map_osd(m, set[i]);
		if (o && o->up) {
			*primary = set[i];
			break;
		}
	}
	return 0;
}
