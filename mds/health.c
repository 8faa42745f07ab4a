/*
 * health.c -- degraded / misplaced / unfound objects and health, from the
 * map and from what each PG's primary reports: see status.h and
 * docs/recovery.md ("How health is computed").
 *
 * The map alone tells which objects cannot be whole right now (a position
 * on a down OSD or on no OSD at all), and it tells this at once, before
 * any OSD has looked.  Only the primaries know what is actually where
 * (a shard missing on an up OSD, a shard waiting to move, garbage), and
 * only as of their last check.  So, per primary OSD p:
 *
 *     degraded(p) = max(map's degraded objects of p's PGs, p's report)
 *     unfound(p)  = max(map's unfound objects of p's PGs, p's report)
 *
 * and misplaced and bytes left are p's reports.  Objects of PGs with no
 * up OSD at all count from the map.  p's report is trusted to cover the
 * current map only once p has completed a pass at this epoch; until then
 * p counts as "checking" and health cannot be OK.
 *
 * Disks come from the heartbeats too: an up OSD whose store refuses new
 * shards (WIRE_HB_FULL) is full, HEALTH_ERR, and one whose file system is
 * HEALTH_NEARFULL_PCT used is nearly full, HEALTH_WARN; the summary names
 * them.
 */
#include "status.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append "; text" (or "text" first) to the summary. */
static void health_add(struct wire_status *st, const char *fmt, unsigned long long v)
{
	size_t n = strlen(st->summary);
	char part[160];

	snprintf(part, sizeof(part), fmt, v);
	snprintf(st->summary + n, sizeof(st->summary) - n, "%s%s",
		 n ? "; " : "", part);
}

/* Is a file system with used bytes in use and avail still available at
 * least HEALTH_NEARFULL_PCT full, as df counts (used / (used + avail):
 * blocks only root may use count as neither)?  0 when nothing is known. */
static int health_nearfull(uint64_t used, uint64_t avail)
{
	if (!used)
		return 0;
	/* Divided first: no overflow for any disk below 2^57 bytes. */
	return used / 128 * 100 >= (used / 128 + avail / 128) *
					   HEALTH_NEARFULL_PCT;
}

/* Append "N osd(s) WHAT (osd.A, osd.B, ...): WHY" for the entries of
 * stats[0..n) with flag set: the first few ids, then "...". */
static void health_add_osds(struct wire_status *st,
			    const struct wire_osd_stat *stats, uint32_t n,
			    uint8_t flag, uint64_t count, const char *what,
			    const char *why)
{
	char ids[96] = "";
	size_t len = 0;
	unsigned shown = 0;
	size_t sl = strlen(st->summary);

	for (uint32_t i = 0; i < n && shown < 4; i++) {
		if (!(stats[i].flags & flag))
			continue;
		len += (size_t)snprintf(ids + len, sizeof(ids) - len, "%sosd.%u",
					shown ? ", " : "", stats[i].id);
		if (len >= sizeof(ids))
			len = sizeof(ids) - 1;
		shown++;
	}
	snprintf(st->summary + sl, sizeof(st->summary) - sl,
		 "%s%llu osd%s %s (%s%s): %s", sl ? "; " : "",
		 (unsigned long long)count, count == 1 ? "" : "s", what, ids,
		 count > shown ? ", ..." : "", why);
}

static void health_fill_stat(const struct status_cache *sc, const struct osdmap *om,
		      uint32_t i, struct wire_osd_stat *e)
{
	const struct map_osd *o = &om->map.osds[i];
	const struct osd_rt *rt = &om->rt[i];

	memset(e, 0, sizeof(*e));
	e->id = i;
	e->flags = (o->up ? WIRE_OSD_STAT_UP : 0) |
		   (o->in ? WIRE_OSD_STAT_IN : 0);
	if (o->up && rt->hb_seen) {
		if (rt->hb_flags & WIRE_HB_FULL)
			e->flags |= WIRE_OSD_STAT_FULL;
		else if (health_nearfull(rt->fs_used, rt->avail))
			e->flags |= WIRE_OSD_STAT_NEARFULL;
	}
	e->pgs = sc->pgs_by[i];
	e->shards = rt->shards;
	e->used = o->used;
	e->recovery_bytes = rt->recovery_bytes;
	if (!rt->hb_seen)
		return;
	e->pass_epoch = rt->pass_epoch;
	e->degraded = rt->degraded;
	e->misplaced = rt->misplaced;
	e->unfound = rt->unfound;
	e->bytes_left = rt->bytes_left;
	e->shards_recovered = rt->shards_recovered;
	e->shards_moved = rt->shards_moved;
	e->shards_gc = rt->shards_gc;
	e->scrub_errors = rt->scrub_errors;
}

/* Is the file system of the MDS's database nearly full?  0 if it cannot
 * tell. */
static int health_mds_nearfull(const struct mds_db *db)
{
	uint64_t used, avail;

	return db && db_disk_space(db, &used, &avail) == 0 &&
	       health_nearfull(used, avail);
}

int health_compute(struct status_cache *sc, const struct osdmap *om,
		   const struct mds_db *db, struct wire_status *st)
{
	int mds_full = db && db->full, mds_nearfull = 0;
	const struct store_map *m = &om->map;
	uint64_t deg = sc->deg_nopri, unf = sc->unf_nopri, mis = 0;
	uint64_t full = 0, nearfull = 0;

	if (!sc->stats) {
		sc->stats = calloc(STORE_MAX_OSDS, sizeof(*sc->stats));
		if (!sc->stats)
			return -ENOMEM;
	}
	sc->n_stats = 0;
	for (uint32_t i = 0; i < m->n_osds; i++) {
		const struct map_osd *o = &m->osds[i];
		const struct osd_rt *rt = &om->rt[i];
		int current;

		if (!o->exists)
			continue;
		health_fill_stat(sc, om, i, &sc->stats[sc->n_stats]);
		full += !!(sc->stats[sc->n_stats].flags & WIRE_OSD_STAT_FULL);
		nearfull += !!(sc->stats[sc->n_stats].flags &
			       WIRE_OSD_STAT_NEARFULL);
		sc->n_stats++;
		if (!o->up) {
			st->osds_down_in += o->in;
			continue;
		}
		current = rt->hb_seen && rt->pass_epoch >= m->epoch;
		if (!current && sc->pgs_by[i])
			st->osds_checking++;
		deg += MAX(sc->deg_by[i], rt->hb_seen ? rt->degraded : 0);
		unf += MAX(sc->unf_by[i], rt->hb_seen ? rt->unfound : 0);
		if (!rt->hb_seen)
			continue;
		mis += rt->misplaced;
		st->recovery_left += rt->bytes_left;
		st->recovery_bps += rt->recovery_bps;
		st->shards_recovered += rt->shards_recovered;
		st->shards_moved += rt->shards_moved;
		st->shards_gc += rt->shards_gc;
		st->scrub_errors += rt->scrub_errors;
	}
	st->objects_degraded = MIN(deg, st->objects_total);
	st->objects_unfound = MIN(unf, st->objects_total);
	st->objects_misplaced = MIN(mis, st->objects_total);
	st->n_osd_stats = sc->n_stats;
	st->osd_stats = sc->stats;

	if (st->osds_up == 0)
		health_add(st, st->osds_total ? "no OSDs up (%llu in the map)" :
					 "no OSDs (%llu): start one",
		    st->osds_total);
	else if (st->osds_down_in)
		health_add(st, "%llu osds down", st->osds_down_in);
	if (mds_full)
		health_add(st, "the MDS's disk is full: changes that do not "
			   "fit are refused (%llu so far); free space on it",
			   db->refused);
	else if ((mds_nearfull = health_mds_nearfull(db)))
		health_add(st, "the MDS's disk is nearly full: %llu%% or more "
			   "used", HEALTH_NEARFULL_PCT);
	if (full)
		health_add_osds(st, sc->stats, sc->n_stats, WIRE_OSD_STAT_FULL,
				full, "full", "no room for new shards, so "
				"objects placed there are written degraded; "
				"free space or add disks");
	if (nearfull) {
		char why[64];

		snprintf(why, sizeof(why), "%d%% or more of the disk used",
			 HEALTH_NEARFULL_PCT);
		health_add_osds(st, sc->stats, sc->n_stats,
				WIRE_OSD_STAT_NEARFULL, nearfull, "nearly full",
				why);
	}
	if (st->objects_unfound)
		health_add(st, "%llu objects unfound (fewer than k shards on up OSDs)",
		    st->objects_unfound);
	if (st->objects_degraded)
		health_add(st, "%llu objects degraded", st->objects_degraded);
	if (st->objects_misplaced)
		health_add(st, "%llu objects misplaced", st->objects_misplaced);
	if (st->recovery_left)
		health_add(st, "recovering, %llu MiB left",
		    DIV_ROUND_UP(st->recovery_left, 1ull << 20));
	if (st->osds_checking)
		health_add(st, "%llu osds still checking their placement groups at "
		    "this epoch", st->osds_checking);
	if (st->osds_up == 0 || st->objects_unfound || full || mds_full)
		st->health = WIRE_HEALTH_ERR;
	else if (st->osds_down_in || st->objects_degraded || nearfull ||
		 mds_nearfull ||
		 st->objects_misplaced || st->recovery_left ||
		 st->osds_checking)
		st->health = WIRE_HEALTH_WARN;
	else
		st->health = WIRE_HEALTH_OK;
	return 0;
}

int status_rm_safe(struct status_cache *sc, const struct osdmap *om,
		   struct mds_db *db, MDB_txn *txn, uint32_t id, char *err,
		   size_t errlen)
{
	const struct map_osd *o = map_osd(&om->map, id);
	struct wire_status *st;
	int rc;

	if (!o || o->up || o->in)
		return 0; /* osdmap_cmd() refuses these with its sentence */
	if (om->rt[id].hb_seen && om->rt[id].shards == 0)
		return 0;
	st = malloc(sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = status_compute(sc, om, db, txn, st);
	if (rc) {
		snprintf(err, errlen, "cannot tell whether osd.%u still holds "
			 "data others lack: %s", id, strerror(-rc));
	} else if (st->osds_checking || st->objects_degraded ||
		   st->objects_misplaced || st->objects_unfound ||
		   st->recovery_left) {
		snprintf(err, errlen, "osd.%u may still hold the only copies "
			 "of some data (%s): wait until recovery has finished "
			 "(storectl status shows nothing degraded, misplaced "
			 "or unfound and no OSD still checking), or bring it "
			 "back up, then remove it", id, st->summary);
		rc = -EBUSY;
	}
	free(st);
	return rc;
}
