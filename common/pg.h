/*
 * pg.h -- who answers for a placement group: its CRUSH set (down OSDs keep
 * their positions) and its primary, the first OSD of that set that is up.
 *
 * The primary checks and repairs its PGs (docs/recovery.md); the MDS counts
 * a PG's state against the primary's reports, and `storectl scrub` sends a
 * PG's scrub to it.  All of them use this one function so that they agree
 * whenever they hold the same map epoch.
 */
#ifndef STORE_PG_H
#define STORE_PG_H

#include "crush.h"
#include "map.h"

#include <stdint.h>

/*
 * The set of PG pg of pool p under tree t (built from map m) into
 * set[0 .. k+m) (CRUSH_NONE where no OSD fits) and, in *primary, the first
 * position's OSD that is up in m (CRUSH_NONE if none is).
 * Returns 0, or -EINVAL for a pg past pg_num or a bad pool.
 */
int pg_acting(const struct crush_tree *t, const struct store_map *m,
	      const struct map_pool *p, uint32_t pg, uint32_t *set,
	      uint32_t *primary);

#endif
