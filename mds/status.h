/*
 * status.h -- cluster health, as STATUS reports it: OSD counts, capacity,
 * and how many objects are degraded or unfound under the current map.
 *
 * An object's state is its PG's: with the map's CRUSH tree (down OSDs keep
 * their positions), a PG whose set has a position that is CRUSH_NONE or
 * held by a down OSD is degraded, and one with fewer than k positions on
 * up OSDs is unfound (its objects cannot be read).  PG states are computed
 * once per map epoch; the object counts come from one scan of the objects
 * table, cached until the epoch or the database changes.  Misplaced
 * objects are what the OSDs report as queued for recovery.
 *
 * Health: ERR if no OSD is up or an object is unfound; WARN if an OSD is
 * down or out, or objects are degraded or misplaced; else OK, with a
 * one-line summary of why when not OK.
 */
#ifndef MDS_STATUS_H
#define MDS_STATUS_H

#include "db.h"
#include "osdmap.h"
#include "wire_mon.h"

struct status_pool {
	uint32_t id;
	uint32_t pg_num;
	uint8_t *pg_state; /* STATUS_PG_* per PG */
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

#endif
