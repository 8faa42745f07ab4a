/*
 * osdmap.c -- the OSD registry, map epochs and heartbeat timers: see
 * osdmap.h.
 */
#include "osdmap.h"
#include "log.h"
#include "net.h"
#include "pg_upmap.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CRUSH holds weights as 16.16 fixed point: 65536 would not fit. */
#define OSD_WEIGHT_MAX 65535.0

void osdmap_id_hex(const uint8_t id[16], char *buf)
{
	for (int i = 0; i < 16; i++)
		sprintf(buf + 2 * i, "%02x", id[i]);
	buf[32] = '\0';
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Queue a line for the log, printed once the change is committed. */
static void note(struct osdmap *om, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct osdmap *om, const char *fmt, ...)
{
	va_list ap;

	if (om->n_log >= OSDMAP_LOG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(om->log[om->n_log++], sizeof(om->log[0]), fmt, ap);
	va_end(ap);
}

static int rebuild_crush(struct osdmap *om)
{
	struct crush_tree *t = NULL;
	int rc = crush_build(&om->map, &t);

	if (rc) {
		log_err("cannot build the placement tree of map epoch %llu: "
			"%s", (unsigned long long)om->map.epoch, strerror(-rc));
		return rc;
	}
	crush_free(om->crush);
	om->crush = t;
	return 0;
}

int osdmap_load(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		uint64_t now_ms)
{
	const uint8_t *p;
	uint8_t ver;
	size_t len;
	int rc;

	om->crush = NULL;
	map_init(&om->map);
	map_init(&om->backup);
	memset(om->rt, 0, sizeof(om->rt));
	rc = db_map_get(db, txn, &p, &len, &ver);
	if (rc)
		return rc;
	/* A map stored before overrides existed loads without them; the
	 * next epoch stores it in the current format. */
	rc = ver == DB_REC_V1 ? wire_dec_map_v1(p, len, &om->map)
			      : wire_dec_map(p, len, &om->map);
	if (rc) {
		log_err("the cluster map stored in the MDS database does not "
			"decode: %s", strerror(-rc));
		return -EUCLEAN;
	}
	for (uint32_t i = 0; i < om->map.n_osds; i++) {
		struct map_osd *o = &om->map.osds[i];

		if (!o->exists)
			continue;
		rc = db_osd_flags_get(db, txn, i, &om->rt[i].flags);
		if (rc)
			return rc;
		om->rt[i].last_seen_ms = now_ms;
		om->rt[i].down_since_ms = o->up ? 0 : now_ms;
		om->rt[i].rate_ms = now_ms;
	}
	return rebuild_crush(om);
}

static int store_map(struct osdmap *om, struct mds_db *db, MDB_txn *txn)
{
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wire_enc_map(&w, &om->map);
	rc = w.err ? w.err : db_map_put(db, txn, w.p, w.len);
	wbuf_free(&w);
	return rc;
}

int osdmap_create(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		  const struct store_map *m)
{
	int rc;

	om->crush = NULL;
	map_init(&om->map);
	map_init(&om->backup);
	memset(om->rt, 0, sizeof(om->rt));
	rc = map_copy(&om->map, m);
	if (rc == 0)
		rc = map_check(&om->map);
	if (rc == 0)
		rc = store_map(om, db, txn);
	if (rc == 0)
		rc = rebuild_crush(om);
	return rc;
}

void osdmap_free(struct osdmap *om)
{
	crush_free(om->crush);
	om->crush = NULL;
	map_free(&om->map);
	map_free(&om->backup);
	free(om->rt_backup);
	om->rt_backup = NULL;
}

void osdmap_begin(struct osdmap *om)
{
	om->dirty = 0;
	om->saved = 0;
	om->n_log = 0;
}

/* Before the first change of a batch: keep what a rollback restores. */
static int save(struct osdmap *om)
{
	if (om->saved)
		return 0;
	if (!om->rt_backup) {
		om->rt_backup = malloc(sizeof(om->rt));
		if (!om->rt_backup)
			return -ENOMEM;
	}
	if (map_copy(&om->backup, &om->map))
		return -ENOMEM;
	memcpy(om->rt_backup, om->rt, sizeof(om->rt));
	om->saved = 1;
	return 0;
}

/*
 * The placement overrides of the new epoch (pg_upmap.h): every PG keeps
 * its shards where the committed map put them, except positions CRUSH now
 * gives to an OSD that gained and positions whose OSD left.  The old
 * placement is the committed map (om->backup, saved before the batch's
 * first change) with its tree om->crush; without them (never expected:
 * every change saves first) the overrides are dropped and CRUSH decides.
 * Every change of the map goes through osdmap_prepare(), so this runs on
 * every epoch.
 */
static int update_overrides(struct osdmap *om)
{
	const struct crush_tree *old_t = NULL;
	uint32_t before = om->backup.n_upmaps;
	int rc;

	if (om->saved && om->crush &&
	    crush_epoch(om->crush) == om->backup.epoch)
		old_t = om->crush;
	rc = pg_upmap_update(old_t, &om->backup, &om->map);
	if (rc) {
		log_err("cannot compute the placement overrides of map epoch "
			"%llu: %s", (unsigned long long)om->map.epoch + 1,
			strerror(-rc));
		return rc;
	}
	if (om->map.n_upmaps != before)
		note(om, "placement overrides: %u PGs (were %u)",
		     om->map.n_upmaps, before);
	return 0;
}

int osdmap_prepare(struct osdmap *om, struct mds_db *db, MDB_txn *txn)
{
	int rc;

	if (!om->dirty)
		return 0;
	rc = update_overrides(om);
	if (rc)
		return rc;
	om->map.epoch++;
	return store_map(om, db, txn);
}

void osdmap_committed(struct osdmap *om)
{
	if (om->dirty) {
		if (rebuild_crush(om) == 0)
			note(om, "published map epoch %llu",
			     (unsigned long long)om->map.epoch);
	}
	for (int i = 0; i < om->n_log; i++)
		log_info("%s", om->log[i]);
	om->dirty = 0;
	om->saved = 0;
	om->n_log = 0;
}

void osdmap_rollback(struct osdmap *om)
{
	if (om->saved) {
		struct store_map t = om->map;

		om->map = om->backup;
		om->backup = t;
		/* Keep the liveness seen meanwhile; restore the rest. */
		for (uint32_t i = 0; i < STORE_MAX_OSDS; i++) {
			uint64_t seen = om->rt[i].last_seen_ms;

			om->rt[i] = om->rt_backup[i];
			om->rt[i].last_seen_ms = MAX(seen,
					om->rt_backup[i].last_seen_ms);
		}
	}
	om->dirty = 0;
	om->saved = 0;
	om->n_log = 0;
}

static int set_flags(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		     uint32_t id, uint32_t flags)
{
	int rc;

	if (om->rt[id].flags == flags)
		return 0;
	rc = db_osd_flags_put(db, txn, id, flags);
	if (rc == 0)
		om->rt[id].flags = flags;
	return rc;
}

/* ---- boot ---------------------------------------------------------------*/

static int zero_id(const uint8_t id[16])
{
	for (int i = 0; i < 16; i++)
		if (id[i])
			return 0;
	return 1;
}

int osdmap_boot(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		const struct wire_osd_boot *b, uint64_t now_ms,
		struct wire_osd_boot_reply *rep, char *err, size_t errlen)
{
	char ours[33], theirs[33];
	struct map_osd *o;
	struct db_super s;
	uint32_t id;
	int rc, known;

	if (!zero_id(b->cluster_id) &&
	    memcmp(b->cluster_id, om->map.cluster_id, 16)) {
		osdmap_id_hex(om->map.cluster_id, ours);
		osdmap_id_hex(b->cluster_id, theirs);
		return fail(err, errlen, -EXDEV, "this OSD's folder belongs to "
			    "cluster %s, but this MDS serves cluster %s: "
			    "point it at its own cluster's MDS or give it an "
			    "empty folder", theirs, ours);
	}
	if (!b->host[0])
		return fail(err, errlen, -EINVAL, "OSD boot without a host "
			    "name (the failure domain)");
	if (!net_addr_ok(b->addr))
		return fail(err, errlen, -EINVAL, "OSD boot with a bad address "
			    "'%s': expected tcp://HOST:PORT", b->addr);
	if (!(b->weight <= OSD_WEIGHT_MAX))
		return fail(err, errlen, -EINVAL, "OSD boot with weight %g: at "
			    "most %g", b->weight, OSD_WEIGHT_MAX);
	rc = db_osd_uuid_get(db, txn, b->uuid, &id);
	known = rc == 0;
	if (rc && rc != -ENOENT)
		return fail(err, errlen, rc, "MDS database error: %s",
			    strerror(-rc));
	if (!known) {
		rc = db_super_get(db, txn, &s);
		if (rc)
			return fail(err, errlen, rc, "MDS database error: %s",
				    strerror(-rc));
		if (s.next_osd >= STORE_MAX_OSDS)
			return fail(err, errlen, -ENOSPC, "the cluster has "
				    "given out all %d OSD ids",
				    STORE_MAX_OSDS);
		id = s.next_osd++;
		rc = db_super_put(db, txn, &s);
		if (rc == 0)
			rc = db_osd_uuid_put(db, txn, b->uuid, id);
		if (rc)
			return fail(err, errlen, rc, "MDS database error: %s",
				    strerror(-rc));
	} else if (b->osd_id != WIRE_OSD_NEW && b->osd_id != id) {
		log_warn("an OSD booting as osd.%u has the uuid of osd.%u: it "
			 "is osd.%u", b->osd_id, id, id);
	}
	rc = save(om);
	if (rc)
		return fail(err, errlen, rc, "out of memory");
	o = map_osd(&om->map, id);
	if (!o) {
		o = map_add_osd(&om->map, id);
		if (!o)
			return fail(err, errlen, -ENOMEM, "out of memory");
		om->rt[id].flags = 0;
	}
	memcpy(o->uuid, b->uuid, 16);
	snprintf(o->host, sizeof(o->host), "%s", b->host);
	snprintf(o->addr, sizeof(o->addr), "%s", b->addr);
	if (!(om->rt[id].flags & MDS_OSD_F_ADMIN_WEIGHT))
		o->weight = b->weight;
	o->capacity = b->capacity;
	o->used = b->used;
	o->up = 1;
	o->in = !(om->rt[id].flags & MDS_OSD_F_ADMIN_OUT);
	rc = set_flags(om, db, txn, id,
		       om->rt[id].flags & ~(uint32_t)MDS_OSD_F_AUTO_OUT);
	if (rc)
		return fail(err, errlen, rc, "MDS database error: %s",
			    strerror(-rc));
	om->rt[id].last_seen_ms = now_ms;
	om->rt[id].down_since_ms = 0;
	om->rt[id].rate_ms = now_ms;
	om->rt[id].recovery_bytes = 0;
	/* A new life: no pass yet, counters from 0. */
	om->rt[id].hb_seen = 0;
	om->rt[id].pass_epoch = 0;
	om->rt[id].recovery_bps = 0;
	om->dirty = 1;
	note(om, "osd.%u booted (%s, host %s, weight %g)%s%s", id, b->addr,
	     b->host, o->weight, known ? "" : ", new",
	     o->in ? "" : ", stays out (marked out by an operator)");
	rep->osd_id = id;
	memcpy(rep->cluster_id, om->map.cluster_id, 16);
	return 0;
}

/* ---- heartbeats ---------------------------------------------------------*/

int osdmap_heartbeat(struct osdmap *om, const struct wire_heartbeat *hb,
		     uint64_t now_ms, char *err, size_t errlen)
{
	struct map_osd *o = map_osd(&om->map, hb->osd_id);
	struct osd_rt *rt;

	if (!o)
		return fail(err, errlen, -ENOENT, "osd.%u is not in the "
			    "cluster map: boot again", hb->osd_id);
	rt = &om->rt[hb->osd_id];
	/* Recovery rate: an exponential average over heartbeats. */
	if (now_ms > rt->rate_ms && hb->recovery_bytes >= rt->recovery_bytes) {
		uint64_t bps = (hb->recovery_bytes - rt->recovery_bytes) *
			       1000 / (now_ms - rt->rate_ms);

		rt->recovery_bps = (rt->recovery_bps * 3 + bps) / 4;
	}
	rt->rate_ms = now_ms;
	rt->recovery_bytes = hb->recovery_bytes;
	rt->recovery_queued = hb->recovery_queued;
	rt->shards = hb->shards;
	rt->hb_seen = 1;
	rt->pgs = hb->pgs;
	rt->pass_epoch = hb->pass_epoch;
	rt->degraded = hb->degraded;
	rt->misplaced = hb->misplaced;
	rt->unfound = hb->unfound;
	rt->bytes_left = hb->bytes_left;
	rt->shards_recovered = hb->shards_recovered;
	rt->shards_moved = hb->shards_moved;
	rt->shards_gc = hb->shards_gc;
	rt->scrub_errors = hb->scrub_errors;
	rt->fs_used = hb->fs_used;
	rt->avail = hb->avail;
	rt->disk_id = hb->disk_id;
	rt->hb_flags = hb->flags;
	rt->last_seen_ms = now_ms;
	o->capacity = hb->capacity;
	o->used = hb->used;
	return o->up ? 0 : 1;
}

int osdmap_mark_up(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		   uint32_t id, uint64_t now_ms)
{
	struct map_osd *o = map_osd(&om->map, id);
	uint32_t flags;
	int rc;

	if (!o || o->up)
		return 0;
	rc = save(om);
	if (rc)
		return rc;
	flags = om->rt[id].flags;
	if (flags & MDS_OSD_F_AUTO_OUT) {
		rc = set_flags(om, db, txn, id,
			       flags & ~(uint32_t)MDS_OSD_F_AUTO_OUT);
		if (rc)
			return rc;
		o->in = 1;
	}
	o->up = 1;
	om->rt[id].down_since_ms = 0;
	om->rt[id].last_seen_ms = now_ms;
	om->dirty = 1;
	note(om, "osd.%u up (heartbeats again)%s", id,
	     (flags & MDS_OSD_F_AUTO_OUT) ? " and back in" : "");
	return 0;
}

/* ---- operator commands --------------------------------------------------*/

static void remove_osd(struct osdmap *om, uint32_t id)
{
	memset(&om->map.osds[id], 0, sizeof(om->map.osds[id]));
	memset(&om->rt[id], 0, sizeof(om->rt[id]));
	/* n_osds is the highest existing id + 1. */
	while (om->map.n_osds > 0 && !om->map.osds[om->map.n_osds - 1].exists)
		om->map.n_osds--;
}

int osdmap_cmd(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
	       const struct wire_osd_cmd *c, uint64_t now_ms, char *err,
	       size_t errlen)
{
	struct map_osd *o = map_osd(&om->map, c->osd_id);
	uint32_t id = c->osd_id, flags;
	int rc = 0;

	if (!o)
		return fail(err, errlen, -ENOENT, "there is no osd.%u in the "
			    "cluster map", id);
	if (c->op == WIRE_OSD_REWEIGHT && !(c->weight <= OSD_WEIGHT_MAX))
		return fail(err, errlen, -EINVAL, "weight %g for osd.%u: at "
			    "most %g", c->weight, id, OSD_WEIGHT_MAX);
	if (c->op == WIRE_OSD_RM && (o->up || o->in))
		return fail(err, errlen, -EBUSY, "osd.%u is %s%s%s: mark it "
			    "down and out (and stop it) before removing it",
			    id, o->up ? "up" : "", o->up && o->in ? " and " : "",
			    o->in ? "in" : "");
	if (save(om))
		return fail(err, errlen, -ENOMEM, "out of memory");
	flags = om->rt[id].flags;
	switch (c->op) {
	case WIRE_OSD_OUT:
		rc = set_flags(om, db, txn, id,
			       (flags | MDS_OSD_F_ADMIN_OUT) &
				       ~(uint32_t)MDS_OSD_F_AUTO_OUT);
		if (rc == 0 && o->in) {
			o->in = 0;
			om->dirty = 1;
			note(om, "osd.%u marked out by an operator", id);
		}
		break;
	case WIRE_OSD_IN:
		rc = set_flags(om, db, txn, id,
			       flags & ~(uint32_t)(MDS_OSD_F_ADMIN_OUT |
						   MDS_OSD_F_AUTO_OUT));
		if (rc == 0 && !o->in) {
			o->in = 1;
			om->dirty = 1;
			note(om, "osd.%u marked in by an operator", id);
		}
		break;
	case WIRE_OSD_DOWN:
		if (o->up) {
			o->up = 0;
			om->rt[id].down_since_ms = now_ms;
			om->dirty = 1;
			note(om, "osd.%u marked down by an operator", id);
		}
		break;
	case WIRE_OSD_RM:
		rc = db_osd_flags_put(db, txn, id, 0);
		if (rc == 0) {
			remove_osd(om, id);
			om->dirty = 1;
			note(om, "osd.%u removed from the cluster map", id);
		}
		break;
	case WIRE_OSD_REWEIGHT:
		rc = set_flags(om, db, txn, id, flags | MDS_OSD_F_ADMIN_WEIGHT);
		if (rc == 0 && o->weight != c->weight) {
			note(om, "osd.%u reweighted from %g to %g", id,
			     o->weight, c->weight);
			o->weight = c->weight;
			om->dirty = 1;
		}
		break;
	default:
		return fail(err, errlen, -EINVAL, "unknown OSD command %u",
			    c->op);
	}
	if (rc)
		return fail(err, errlen, rc, "MDS database error: %s",
			    strerror(-rc));
	return 0;
}

/* ---- timers -------------------------------------------------------------*/

static int down_due(const struct osdmap *om, uint32_t i, uint64_t now_ms)
{
	const struct map_osd *o = &om->map.osds[i];

	return o->exists && o->up &&
	       now_ms > om->rt[i].last_seen_ms + om->grace_ms;
}

static int out_due(const struct osdmap *om, uint32_t i, uint64_t now_ms)
{
	const struct map_osd *o = &om->map.osds[i];

	return o->exists && !o->up && o->in && om->rt[i].down_since_ms &&
	       now_ms >= om->rt[i].down_since_ms + om->down_out_ms;
}

int osdmap_tick_due(const struct osdmap *om, uint64_t now_ms)
{
	for (uint32_t i = 0; i < om->map.n_osds; i++)
		if (down_due(om, i, now_ms) || out_due(om, i, now_ms))
			return 1;
	return 0;
}

int osdmap_tick(struct osdmap *om, struct mds_db *db, MDB_txn *txn,
		uint64_t now_ms)
{
	int rc;

	for (uint32_t i = 0; i < om->map.n_osds; i++) {
		struct map_osd *o = &om->map.osds[i];
		struct osd_rt *rt = &om->rt[i];

		if (down_due(om, i, now_ms)) {
			rc = save(om);
			if (rc)
				return rc;
			o->up = 0;
			rt->down_since_ms = now_ms;
			om->dirty = 1;
			note(om, "osd.%u down (no heartbeat for %.1f s)", i,
			     (double)(now_ms - rt->last_seen_ms) / 1000.0);
		} else if (out_due(om, i, now_ms)) {
			rc = save(om);
			if (rc == 0)
				rc = set_flags(om, db, txn, i,
					       rt->flags | MDS_OSD_F_AUTO_OUT);
			if (rc)
				return rc;
			o->in = 0;
			om->dirty = 1;
			note(om, "osd.%u out (down for %.0f s): its data will "
			     "be rebuilt elsewhere", i,
			     (double)(now_ms - rt->down_since_ms) / 1000.0);
		}
	}
	return 0;
}

void osdmap_encode(const struct osdmap *om, struct wbuf *w)
{
	wire_enc_map(w, &om->map);
}
