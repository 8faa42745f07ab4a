/*
 * pg.c -- a placement group's set and primary: see pg.h.
 */
#include "pg.h"

#include <errno.h>

int pg_acting(const struct crush_tree *t, const struct store_map *m,
	      const struct map_pool *p, uint32_t pg, uint32_t *set,
	      uint32_t *primary)
{
	unsigned n = (unsigned)p->k + p->m;
	int rc = crush_map_pg(t, p, pg, 0, set);

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
