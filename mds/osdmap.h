/*
 * osdmap.h -- the MDS as monitor: the cluster map it is the source of,
 * the OSDs that boot and heartbeat into it, and the epochs it publishes.
 *
 * The current map lives in memory (with its CRUSH tree) and in LMDB (the
 * `map` database: the encoded map, OSD uuid -> id, per-OSD operator
 * flags).  Changes are made inside the dispatcher's write transaction:
 *
 *     osdmap_begin()                  before the first change of a batch
 *     osdmap_boot/_mark_up/_cmd/_tick changes, each validated before it
 *                                     touches anything
 *     osdmap_prepare(txn)             if anything changed: the placement
 *                                     overrides recomputed (pg_upmap.h),
 *                                     epoch + 1, the new map written into
 *                                     txn
 *     commit the transaction, then
 *     osdmap_committed() or osdmap_rollback()
 *
 * so one batch of changes is one new epoch, published (and logged) only
 * once it is durable.  Heartbeats update an OSD's liveness and usage in
 * memory only (no epoch, no disk write) unless they bring a down OSD back.
 *
 * State machine of one OSD (times on the monotonic clock):
 *   boot                 -> exists, up, in (unless an operator marked it
 *                           out), new epoch
 *   up, silent > grace   -> down (new epoch), logged
 *   down for down_out    -> out (new epoch), flagged AUTO_OUT
 *   heartbeat while down -> up (new epoch); in again if AUTO_OUT
 *   OSD_CMD out/in/down/reweight/rm  (rm only when down and out)
 * After an MDS restart every OSD marked up gets a fresh grace period and
 * every OSD marked down a fresh down_out period.
 */
#ifndef MDS_OSDMAP_H
#define MDS_OSDMAP_H

#include "crush.h"
#include "db.h"
#include "map.h"
#include "wire_mon.h"

#include <stdint.h>

/* Operator flags of an OSD, persisted (db_osd_flags_*). */
enum {
	MDS_OSD_F_ADMIN_OUT = 1 << 0,    /* an operator marked it out: a boot
					  * leaves it out */
	MDS_OSD_F_ADMIN_WEIGHT = 1 << 1, /* an operator set its weight: a
					  * boot keeps it */
	MDS_OSD_F_AUTO_OUT = 1 << 2,     /* marked out for being down too
					  * long: back in when it returns */
};

/* What the MDS knows of an OSD beyond the map (in memory only, except
 * flags). */
struct osd_rt {
	uint64_t last_seen_ms;  /* last boot or heartbeat */
	uint64_t down_since_ms; /* when marked down (0: up) */
	uint32_t flags;         /* MDS_OSD_F_* */
	uint64_t shards;
	uint64_t recovery_bytes;
	uint64_t recovery_queued;
	uint64_t recovery_bps;  /* smoothed rate of recovery_bytes */
	uint64_t rate_ms;       /* when recovery_bytes was last sampled */
	/* Its recovery report (wire_heartbeat, docs/recovery.md), valid
	 * when hb_seen: a heartbeat came since it booted or the MDS
	 * started. */
	uint8_t hb_seen;
	uint32_t pgs;
	uint64_t pass_epoch;
	uint64_t degraded, misplaced, unfound;
	uint64_t bytes_left;
	uint64_t shards_recovered, shards_moved, shards_gc, scrub_errors;
	uint64_t fs_used, avail; /* its file system, as df counts */
	uint64_t disk_id;       /* which file system (space.h; 0: unknown) */
	uint32_t hb_flags;      /* WIRE_HB_* (FULL: it refuses new shards) */
};

#define OSDMAP_LOG_MAX 32

struct osdmap {
	struct store_map map;     /* current (epoch = what replies carry) */
	struct crush_tree *crush; /* of map */
	struct osd_rt rt[STORE_MAX_OSDS];
	uint64_t grace_ms;        /* heartbeat_grace */
	uint64_t down_out_ms;     /* down_out_interval */

	/* Changes of the open batch. */
	int dirty;
	int saved;
	struct store_map backup;
	struct osd_rt *rt_backup;
	int n_log;
	char log[OSDMAP_LOG_MAX][160];
};

/* Load the map from LMDB (txn may be read-only) and start every OSD's
 * timers at now_ms.  Returns 0, -ENOENT (no map stored) or -errno. */
int osdmap_load(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		uint64_t now_ms);

/* Install m as the map of a new cluster (epoch as given) in txn. */
int osdmap_create(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		  const struct store_map *m);

void osdmap_free(struct osdmap *om);

void osdmap_begin(struct osdmap *om);
int osdmap_prepare(struct osdmap *om, struct mds_db *db, MDB_txn *txn);
void osdmap_committed(struct osdmap *om);
void osdmap_rollback(struct osdmap *om);

/* OSD_BOOT.  Returns 0 and fills *rep, or -errno with a sentence in err:
 * -EXDEV (the OSD belongs to another cluster), -EINVAL (bad host, address
 * or weight), -ENOSPC (no OSD ids left). */
int osdmap_boot(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		const struct wire_osd_boot *b, uint64_t now_ms,
		struct wire_osd_boot_reply *rep, char *err, size_t errlen);

/* HEARTBEAT, the part that needs no transaction: record liveness and
 * usage.  Returns 1 if the OSD is marked down (osdmap_mark_up must then
 * run in a write transaction), 0, or -ENOENT (unknown id: sentence in
 * err). */
int osdmap_heartbeat(struct osdmap *om, const struct wire_heartbeat *hb,
		     uint64_t now_ms, char *err, size_t errlen);
/* Mark an OSD that heartbeats up again (and in, if it was AUTO_OUT). */
int osdmap_mark_up(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		   uint32_t id, uint64_t now_ms);

/* OSD_CMD.  Returns 0 or -errno with a sentence: -ENOENT (no such OSD),
 * -EBUSY (rm of an OSD that is up or in), -EINVAL. */
int osdmap_cmd(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
	       const struct wire_osd_cmd *c, uint64_t now_ms, char *err,
	       size_t errlen);

/* Timers: does some OSD need marking down or out at now_ms?  1 or 0. */
int osdmap_tick_due(const struct osdmap *om, uint64_t now_ms);
/* Mark down (silent past grace) and out (down past down_out) OSDs. */
int osdmap_tick(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		uint64_t now_ms);

/* Encode the current map (MAP_GET reply). */
void osdmap_encode(const struct osdmap *om, struct wbuf *w);

/* Format a cluster id as 32 hex digits (buf of 33 bytes). */
void osdmap_id_hex(const uint8_t id[16], char *buf);

#endif
