/*
 * crush.h -- placement: where every shard lives, computed from the cluster
 * map alone, with no lookup table.  Two steps, both pure functions of the
 * map and the object's name, so every client, OSD and the MDS holding the
 * same epoch agree:
 *
 *   object -> PG:   pg = stable_mod(XXH64(ino, objno), pg_num)
 *   PG -> OSD set:  CRUSH straw2 over root -> host -> osd, "indep" mode,
 *                   k + m positions, shard i lives on set[i].
 *
 * A crush_tree is built once per map epoch and is read-only afterwards, so
 * any number of threads may map with it concurrently without locks.
 * docs/placement.md explains the algorithm, its fixed-point arithmetic and
 * its measured balance and movement; the hashes are in hash.h.  Everything
 * here is part of the placement contract: changing a constant, a hash input
 * or the order of draws moves data.
 *
 * Invariants of a crush_tree (checked by crush_check()):
 *   - hosts are sorted by strictly increasing id; a host's id is derived
 *     from its name (hash32_str), never from the order of the map's arrays,
 *     so adding or removing a host leaves the other hosts' draws unchanged;
 *   - each host's OSDs are sorted by id and each existing OSD of the map
 *     is in exactly one host;
 *   - a host's weight is the sum of its OSDs' 16.16 weights, out and down
 *     OSDs included (they are rejected at the leaf instead, so that an OSD
 *     going out moves only the shards it held).
 */
#ifndef STORE_CRUSH_H
#define STORE_CRUSH_H

#include "map.h"

#include <stdint.h>

/* A position no OSD could be found for (never a duplicate instead). */
#define CRUSH_NONE UINT32_MAX

/* crush_map_*() flag: treat OSDs that are down like OSDs that are out.
 * Without it, down-but-in OSDs keep their positions (the PG is degraded
 * until they return or are marked out), which is what the data path wants;
 * with it, the caller gets a set it can write to right now. */
#define CRUSH_SKIP_DOWN 0x1u

/* Rounds of random draws per position: Ceph's choose_total_tries default.
 * A position is retried only after a collision or a refused OSD, so the
 * rounds run out only on a map that is barely big enough (k + m hosts) or
 * mostly out; the positions still empty then get one last draw restricted
 * to the OSDs that fit, so the work per mapping stays bounded and a
 * position is left empty only if nothing at all fits it. */
#define CRUSH_TOTAL_TRIES 50

struct crush_tree;

/*
 * Build the placement tree of map m.  The tree copies what it needs (hosts,
 * OSD ids, weights, up/in), so m may change or be freed afterwards.
 * Weights are converted to 16.16 fixed point; a positive weight below
 * 2^-16 counts as 2^-16, never as 0.
 * Returns 0 and sets *out, or -EINVAL if m fails map_check(), -ERANGE if a
 * weight is 65536 or more (it would not fit 16.16), -ENOMEM.  *out is
 * untouched on error.
 */
int crush_build(const struct store_map *m, struct crush_tree **out);

/* Free a tree from crush_build().  NULL is ignored. */
void crush_free(struct crush_tree *t);

/* The epoch of the map the tree was built from. */
uint64_t crush_epoch(const struct crush_tree *t);

/*
 * Check the invariants listed at the top of this file.  Returns 0, or
 * -EINVAL for a tree that violates one (a bug, or memory corruption).
 */
int crush_check(const struct crush_tree *t);

/*
 * The stable id of host name in t, in *id.  Returns 0, or -ENOENT if no
 * OSD of the map names that host.  Ids come from hash32_str(name); an id
 * that equals an earlier (by name) host's or falls below STORE_MAX_OSDS is
 * rehashed until it does neither.
 */
int crush_host_id(const struct crush_tree *t, const char *host, uint32_t *id);

/*
 * The mask stable_mod() uses for pg_num: the next power of two at or above
 * pg_num, minus one (0 for pg_num <= 1).
 */
uint32_t crush_pg_mask(uint32_t pg_num);

/*
 * Ceph's stable_mod: x reduced into [0, b) so that growing b by one moves
 * only the inputs that land on the new value b.  bmask must be
 * crush_pg_mask(b).  Returns a value < b for any b >= 1.
 */
uint32_t crush_stable_mod(uint32_t x, uint32_t b, uint32_t bmask);

/*
 * The PG of object (ino, objno) in pool p:
 * stable_mod(low 32 bits of hash_object(ino, objno), pg_num).  Always
 * < p->pg_num (p->pg_num must be >= 1, as map_check() requires).
 */
uint32_t crush_object_pg(const struct map_pool *p, uint64_t ino,
			 uint64_t objno);

/*
 * The placement input of PG pg in pool p: hash32_2(pg, pool id), so that
 * PG n of two pools lands on unrelated OSD sets.
 */
uint32_t crush_pg_input(const struct map_pool *p, uint32_t pg);

/*
 * Map placement input x to p->k + p->m OSDs, one per position, into
 * osds[0 .. k+m).  Positions are filled "indep": each keeps its OSD unless
 * that OSD becomes unusable.  With p->domain MAP_DOMAIN_HOST the positions
 * are on distinct hosts while there are at least k + m hosts with a usable
 * OSD; with fewer, on distinct OSDs spread as evenly over the hosts as the
 * hosts allow.  With MAP_DOMAIN_OSD only distinct OSDs are required.  An
 * OSD is usable if it is in, has a weight above 0 and, with
 * CRUSH_SKIP_DOWN in flags, is up.  A position is CRUSH_NONE only when no
 * usable OSD fits it (fewer usable OSDs than k + m); it is never filled
 * with a duplicate.
 * Returns the number of positions filled (0 .. k+m), or -EINVAL (osds
 * untouched) for a pool whose k + m is 0 or above STORE_EC_MAX_SHARDS, an
 * unknown domain, or unknown flags.
 * Safe to call from many threads on one tree.
 */
int crush_map_input(const struct crush_tree *t, const struct map_pool *p,
		    uint32_t x, unsigned flags, uint32_t *osds);

/*
 * crush_map_input() of PG pg of pool p: x = crush_pg_input(p, pg).
 * Returns what crush_map_input() returns, or -EINVAL if pg >= p->pg_num.
 */
int crush_map_pg(const struct crush_tree *t, const struct map_pool *p,
		 uint32_t pg, unsigned flags, uint32_t *osds);

#endif
