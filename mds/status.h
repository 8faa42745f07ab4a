/*
 * status.h -- cluster health, as STATUS reports it: OSD counts, capacity,
 * and how many objects are degraded, misplaced or unfound.
 *
 * Two sources (docs/recovery.md explains how they combine, in health.c):
 *
 *   - the map: with the map's CRUSH tree (down OSDs keep their
 *     positions), a PG whose set has a position that is CRUSH_NONE or held
 *     by a down OSD is degraded, and one with fewer than k positions on up
 *     OSDs is unfound (its objects cannot be read).  The first up OSD of a
 *     PG's set is its primary (pg.h).  PG states and primaries are
 *     computed once per map epoch; object counts, by PG state and by
 *     primary, come from one scan of the objects table, cached until the
 *     epoch or the database changes;
 *   - the primaries' heartbeats: what each found when it last checked its
 *     PGs against the OSDs' inventories, and whether it has completed a
 *     pass over all of them at the current epoch.
 */
#ifndef MDS_STATUS_H
#define MDS_STATUS_H

#include "db.h"
#include "osdmap.h"
#include "wire_mon.h"
#include "wire_rec.h"

/* An up OSD whose file system is at least this full (percent of its
 * size, counting what only root may use) makes health WARN: Ceph's
 * nearfull ratio, 0.85, early enough to add disks or delete before its
 * store runs out of room for its next log segment (which is FULL: ERR). */
#define HEALTH_NEARFULL_PCT 85

struct status_pool {
	uint32_t id;
	uint32_t pg_num;
	uint8_t *pg_state;   /* STATUS_PG_* per PG */
	uint32_t *primary;   /* per PG: its primary, or CRUSH_NONE */
};
enum { STATUS_PG_DEGRADED = 1, STATUS_PG_UNFOUND = 2 };

struct status_cache {
	uint64_t pg_epoch; /* epoch the PG states are for (0: none) */
	uint32_t n_pools;
	struct status_pool *pools;
	/* Object counts of the last scan and what they were computed on. */
	int counted;
	uint64_t cnt_epoch;
	size_t cnt_txnid;
	uint64_t total, degraded, unfound;
	/* By primary OSD (arrays of STORE_MAX_OSDS): PGs it is primary
	 * for, and the objects of those PGs the map says are degraded or
	 * unfound; objects of PGs without a primary apart. */
	uint32_t *pgs_by;
	uint64_t *deg_by, *unf_by;
	uint64_t deg_nopri, unf_nopri;
	/* The per-OSD entries of the last status_compute (health.c). */
	struct wire_osd_stat *stats;
	uint32_t n_stats;
};

void status_init(struct status_cache *sc);
void status_free(struct status_cache *sc);

/* Fill *st from the map in om and the objects in txn.  Returns 0 or
 * -errno (database error, -ENOMEM). */
int status_compute(struct status_cache *sc, const struct osdmap *om,
		   struct mds_db *db, MDB_txn *txn, struct wire_status *st);

/* The state (STATUS_PG_* bits) of object (ino, objno) of pool_id under
 * the PG states of sc (after status_compute or status_pgs): for tests. */
int status_pgs(struct status_cache *sc, const struct osdmap *om);
unsigned status_object_state(const struct status_cache *sc, uint32_t pool_id,
			     uint64_t ino, uint64_t objno);

/* health.c: combine the map's view in sc (after the object counts) with
 * the OSDs' reports into the recovery fields, per-OSD entries, health and
 * summary of *st (whose OSD counts, capacity and totals are filled); the
 * MDS's own disk (db->full, and its folder's free space) counts too. */
int health_compute(struct status_cache *sc, const struct osdmap *om,
		   const struct mds_db *db, struct wire_status *st);

/* May osd.id be removed from the map (OSD_CMD rm) without losing data?
 * It must be down and out, and either have reported holding no shards, or
 * every object must be whole without it: every up primary has completed a
 * pass at this epoch and nothing is degraded, misplaced or unfound.
 * Returns 0, or -EBUSY / -errno with a sentence in err. */
int status_rm_safe(struct status_cache *sc, const struct osdmap *om,
		   struct mds_db *db, MDB_txn *txn, uint32_t id, char *err,
		   size_t errlen);

#endif
