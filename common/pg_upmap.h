/*
 * pg_upmap.h -- placement overrides ("upmap"): when the map changes, keep
 * every PG's shards where they are unless CRUSH gives one of its positions
 * to an OSD that gained (new, back in, reweighted up) or the OSD holding it
 * can no longer hold data.  docs/placement.md, "Overrides (upmap)", says
 * why: on small maps (hosts close to k + m) straw2 "indep" moves far more
 * than the ideal when a host is added, because collisions between
 * positions cascade.
 *
 * The MDS runs pg_upmap_update() on every new epoch; crushsim runs
 * pg_upmap_compute() on its simulated sets, so the rule lives here once.
 * The result is stored in the map (map.h, struct map_upmap) and applied by
 * pg_set() (pg.h).
 */
#ifndef STORE_PG_UPMAP_H
#define STORE_PG_UPMAP_H

#include "crush.h"
#include "map.h"

#include <stdint.h>

/* What the rule needs to know about the new map for one pool, computed
 * once per pool (pg_upmap_init) and read-only afterwards. */
struct pg_upmap_ctx {
	const struct store_map *m; /* the new map */
	unsigned n;                /* k + m */
	unsigned host_cap;         /* most positions one host may hold */
	unsigned osd_cap;          /* most positions one OSD may hold: 1,
				    * or more with fewer usable OSDs than
				    * k + m, as in CRUSH (crush.c) */
	uint32_t *host;            /* [m->n_osds]: host index of each OSD */
	uint8_t *usable;           /* [m->n_osds]: exists, in, weight > 0 */
	uint8_t *gained;           /* [m->n_osds]: usable, and new, newly
				    * usable, heavier or moved to another
				    * host since the previous map */
};

/*
 * Prepare the rule for pool p under the new map m, coming from the map
 * old (NULL: unknown, every usable OSD counts as gained).  m must outlive
 * c.  host_cap mirrors CRUSH's (crush.h, MAP_DOMAIN_HOST): 1 while at
 * least k + m hosts have a usable OSD, else the smallest cap that lets
 * k + m positions fill; k + m for MAP_DOMAIN_OSD.  Returns 0, or -EINVAL
 * for a bad pool, -ENOMEM.
 */
int pg_upmap_init(struct pg_upmap_ctx *c, const struct store_map *old,
		  const struct store_map *m, const struct map_pool *p);

/* Free what pg_upmap_init() allocated.  Safe on a zeroed ctx. */
void pg_upmap_free(struct pg_upmap_ctx *c);

/*
 * The rule for one PG.  old: its effective set under the previous map
 * (override or CRUSH; CRUSH_NONE allowed); old_crush: its CRUSH set under
 * the previous map; crush: its CRUSH set under the new map.  Into
 * out[0 .. n):
 *   E = old, with holes where old's OSD is no longer usable;
 *   gainers = OSDs of crush that gained (c->gained: a new OSD, one back
 *   in, reweighted up) and are neither in E nor in old_crush, i.e. that
 *   CRUSH brought to this PG in this change.  An OSD CRUSH brings only
 *   because another position's draw changed (the cascade) did not gain,
 *   so it does not move in; an OSD an earlier override kept out of the
 *   PG is in old_crush, so the moves an override saved are not made
 *   later, at some unrelated epoch;
 *   each position p whose crush[p] is a gainer takes it (hole or not) if
 *   the host cap still holds;
 *   each hole p takes crush[p] if that OSD is not in E and fits the cap,
 *   else the first OSD of crush (gainer or not) that is not in E and
 *   fits.
 * Returns 1 if E is complete and differs from crush (store E as the
 * override), 0 if CRUSH's own set is to be used (out is then a copy of
 * crush).  Never places one OSD twice or more than host_cap positions on
 * one host.
 */
int pg_upmap_compute(const struct pg_upmap_ctx *c, const uint32_t *old,
		     const uint32_t *old_crush, const uint32_t *crush,
		     uint32_t *out);

/*
 * Recompute every override of map next from the previous map old (whose
 * tree is old_t; NULL: no previous placement, so no overrides): for each
 * pool of next that old has with the same k, m, domain and pg_num, and
 * each PG, old set = pg_set(old_t, old, ...), old CRUSH set =
 * crush_map_pg(old_t, ...), new set = CRUSH under next.
 * next's override array is replaced (sorted by pool id then pg); its old
 * entries are dropped first, so next may name OSDs that no longer exist.
 * Returns 0, or -ENOMEM / the error of crush_build(next) with next's
 * overrides emptied.
 */
int pg_upmap_update(const struct crush_tree *old_t,
		    const struct store_map *old, struct store_map *next);

#endif
