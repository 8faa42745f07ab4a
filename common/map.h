/*
 * map.h -- the cluster map: which OSDs exist, where they are, how much they
 * weigh, whether they are up and in, and which pools exist with which
 * erasure profile.  The MDS is its source; every daemon and client holds a
 * copy and computes placement from it (crush.h), so two parties holding the
 * same epoch always agree on where every shard lives.
 *
 * Invariants of a struct store_map (checked by map_check()):
 *   - epoch only grows; a change of any field makes a new epoch;
 *   - osds[] is indexed by OSD id: osds[i].id == i for every slot with
 *     exists set; ids are never reused for another uuid;
 *   - n_osds <= STORE_MAX_OSDS, n_pools <= STORE_MAX_POOLS;
 *   - weights are finite and >= 0; an OSD of weight 0 receives nothing;
 *   - every pool has 1 <= k, 1 <= m <= STORE_EC_MAX_M,
 *     k + m <= STORE_EC_MAX_SHARDS, pg_num >= 1, and distinct ids;
 *   - upmaps[] (placement overrides, docs/placement.md "Overrides
 *     (upmap)") is sorted by (pool, pg) with at most one entry per PG, each
 *     of an existing pool and a pg < its pg_num, naming k + m
 *     existing OSDs, none more than m times (never CRUSH_NONE) in osds[0 .. k+m), zeros after; so
 *     there are at most as many entries as PGs in all pools.
 */
#ifndef STORE_MAP_H
#define STORE_MAP_H

#include "store_limits.h"

#include <stdint.h>

/* Failure domain of a pool: distinct hosts (default) or just distinct OSDs. */
enum map_domain { MAP_DOMAIN_HOST = 0, MAP_DOMAIN_OSD = 1 };

struct map_osd {
	uint32_t id;
	uint8_t exists; /* slot in use (ids are dense but may have holes) */
	uint8_t up;     /* heartbeating */
	uint8_t in;     /* receives data; out OSDs are skipped by CRUSH */
	uint8_t uuid[16];
	double weight;     /* relative capacity (TiB by convention), >= 0 */
	uint64_t capacity; /* bytes, as last reported */
	uint64_t used;     /* bytes, as last reported */
	char host[STORE_HOST_MAX + 1];
	char addr[STORE_ADDR_MAX + 1];
};

struct map_pool {
	uint32_t id;
	uint8_t k, m;
	uint8_t min_size;     /* shards a write needs (default k + 1) */
	uint8_t domain;       /* enum map_domain */
	uint32_t pg_num;      /* placement groups: objects -> pg -> OSD set */
	uint32_t object_size; /* bytes of file data per object */
	char name[STORE_POOL_NAME_MAX + 1];
};

/* A placement override: PG pg of pool `pool` lives on osds[0 .. k+m)
 * instead of where CRUSH puts it (as long as those OSDs stay usable; see
 * pg_set() in pg.h).  The MDS computes them (pg_upmap.h). */
struct map_upmap {
	uint32_t pool, pg;
	uint32_t osds[STORE_EC_MAX_SHARDS];
};

struct store_map {
	uint64_t epoch;
	uint8_t cluster_id[16];
	uint32_t n_osds; /* slots in osds[]: highest id + 1 */
	struct map_osd *osds;
	uint32_t n_pools;
	struct map_pool *pools;
	uint32_t n_upmaps; /* entries of upmaps[], sorted by (pool, pg) */
	struct map_upmap *upmaps;
};

/* Initialise an empty map (epoch 0, no OSDs, no pools). */
void map_init(struct store_map *m);

/* Free the arrays of a map; the map is empty afterwards. */
void map_free(struct store_map *m);

/* Deep copy src into dst (dst is freed first).  Returns 0 or -ENOMEM, in
 * which case dst is left empty. */
int map_copy(struct store_map *dst, const struct store_map *src);

/* Add an OSD slot with the given id (growing the array).  Returns a pointer
 * to the zeroed slot with id and exists set, or NULL with errno set
 * (EINVAL for an id past STORE_MAX_OSDS or already in use, ENOMEM). */
struct map_osd *map_add_osd(struct store_map *m, uint32_t id);

/* The OSD with this id, or NULL if there is none. */
struct map_osd *map_osd(const struct store_map *m, uint32_t id);

/* Add a pool.  Returns the slot (copied from *p) or NULL with errno set. */
struct map_pool *map_add_pool(struct store_map *m, const struct map_pool *p);

/* The pool with this id, or NULL. */
struct map_pool *map_pool(const struct store_map *m, uint32_t id);

/* The override of PG pg of pool `pool` (binary search), or NULL. */
const struct map_upmap *map_upmap(const struct store_map *m, uint32_t pool,
				  uint32_t pg);

/* Sum of pg_num over the pools: the most overrides a valid map holds. */
uint64_t map_total_pgs(const struct store_map *m);

/* Check the invariants above.  Returns 0 or -EINVAL. */
int map_check(const struct store_map *m);

/* Counts over existing OSDs. */
uint32_t map_count_osds(const struct store_map *m, int want_up, int want_in);

#endif
