/*
 * pg.h -- who answers for a placement group: its set (the map's override
 * for the PG if it has a valid one, else CRUSH's; down OSDs keep their
 * positions) and its primary, the first OSD of that set that is up.
 *
 * The client places its I/O with pg_set(); the primary checks and repairs
 * its PGs (docs/recovery.md); the MDS counts a PG's state against the
 * primary's reports and purges deleted objects; `storectl scrub` sends a
 * PG's scrub to the primary.  All of them use these functions so that
 * they agree whenever they hold the same map epoch.
 */
#ifndef STORE_PG_H
#define STORE_PG_H

#include "crush.h"
#include "map.h"

#include <stdint.h>

/*
 * The OSD set of PG pg of pool p under map m (t built from m) into
 * set[0 .. k+m): m's override for (p->id, pg) if it has one and every OSD
 * of it still exists, is in and weighs more than 0 (down OSDs keep their
 * positions, as under CRUSH), else crush_map_pg(t, p, pg, 0, set), with
 * CRUSH_NONE where no OSD fits.  The one placement function: every party
 * that reads or writes shards uses it (directly or via pg_acting()).
 * Returns the positions filled (k + m for an override), or -EINVAL for a
 * pg past pg_num or a bad pool.
 */
int pg_set(const struct crush_tree *t, const struct store_map *m,
	   const struct map_pool *p, uint32_t pg, uint32_t *set);

/*
 * pg_set() of PG pg of pool p into set[0 .. k+m) and, in *primary, the first
 * position's OSD that is up in m (CRUSH_NONE if none is).
 * Returns 0, or -EINVAL for a pg past pg_num or a bad pool.
 */
int pg_acting(const struct crush_tree *t, const struct store_map *m,
	      const struct map_pool *p, uint32_t pg, uint32_t *set,
	      uint32_t *primary);

#endif
