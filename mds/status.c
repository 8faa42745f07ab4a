/*
 * status.c -- health computation: see status.h.
 */
#include "status.h"
#include "pg.h"
#include "space.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void status_init(struct status_cache *sc)
{
	memset(sc, 0, sizeof(*sc));
}

static void free_pools(struct status_cache *sc)
{
	for (uint32_t i = 0; i < sc->n_pools; i++) {
		free(sc->pools[i].pg_state);
		free(sc->pools[i].primary);
	}
	free(sc->pools);
	sc->pools = NULL;
	sc->n_pools = 0;
	sc->pg_epoch = 0;
}

void status_free(struct status_cache *sc)
{
	free_pools(sc);
	sc->counted = 0;
	free(sc->pgs_by);
	free(sc->deg_by);
	free(sc->unf_by);
	free(sc->stats);
	sc->pgs_by = NULL;
	sc->deg_by = sc->unf_by = NULL;
	sc->stats = NULL;
	sc->n_stats = 0;
}

int status_pgs(struct status_cache *sc, const struct osdmap *om)
{
	const struct store_map *m = &om->map;

	if (sc->pg_epoch == m->epoch && sc->pools)
		return 0;
	free_pools(sc);
	sc->counted = 0;
	if (!om->crush)
		return -EINVAL;
	if (!sc->pgs_by) {
		sc->pgs_by = calloc(STORE_MAX_OSDS, sizeof(*sc->pgs_by));
		sc->deg_by = calloc(STORE_MAX_OSDS, sizeof(*sc->deg_by));
		sc->unf_by = calloc(STORE_MAX_OSDS, sizeof(*sc->unf_by));
		if (!sc->pgs_by || !sc->deg_by || !sc->unf_by) {
			status_free(sc);
			return -ENOMEM;
		}
	}
	memset(sc->pgs_by, 0, STORE_MAX_OSDS * sizeof(*sc->pgs_by));
	sc->pools = calloc(m->n_pools ? m->n_pools : 1, sizeof(*sc->pools));
	if (!sc->pools)
		return -ENOMEM;
	for (uint32_t i = 0; i < m->n_pools; i++) {
		const struct map_pool *p = &m->pools[i];
		struct status_pool *sp = &sc->pools[i];
		unsigned n = p->k + p->m;

		sp->id = p->id;
		sp->pg_num = p->pg_num;
		sp->pg_state = calloc(p->pg_num, 1);
		sp->primary = calloc(p->pg_num, sizeof(*sp->primary));
		sc->n_pools = i + 1;
		if (!sp->pg_state || !sp->primary) {
			free_pools(sc);
			return -ENOMEM;
		}
		for (uint32_t pg = 0; pg < p->pg_num; pg++) {
			uint32_t set[STORE_EC_MAX_SHARDS], pri;
			unsigned up = 0;
			int rc = pg_acting(om->crush, m, p, pg, set, &pri);

			if (rc < 0) {
				free_pools(sc);
				return rc;
			}
			sp->primary[pg] = pri;
			if (pri != CRUSH_NONE)
				sc->pgs_by[pri]++;
			for (unsigned j = 0; j < n; j++) {
				const struct map_osd *o;

				if (set[j] == CRUSH_NONE)
					continue;
				o = map_osd(m, set[j]);
				if (o && o->up)
					up++;
			}
			if (up < n)
				sp->pg_state[pg] |= STATUS_PG_DEGRADED;
			if (up < p->k)
				sp->pg_state[pg] |= STATUS_PG_UNFOUND;
		}
	}
	sc->pg_epoch = m->epoch;
	return 0;
}

static const struct status_pool *find_pool(const struct status_cache *sc,
					   uint32_t id)
{
	for (uint32_t i = 0; i < sc->n_pools; i++)
		if (sc->pools[i].id == id)
			return &sc->pools[i];
	return NULL;
}

unsigned status_object_state(const struct status_cache *sc, uint32_t pool_id,
			     uint64_t ino, uint64_t objno)
{
	const struct status_pool *sp = find_pool(sc, pool_id);
	struct map_pool p;

	if (!sp)
		return STATUS_PG_DEGRADED | STATUS_PG_UNFOUND;
	memset(&p, 0, sizeof(p));
	p.id = sp->id;
	p.pg_num = sp->pg_num;
	return sp->pg_state[crush_object_pg(&p, ino, objno)];
}

/* The primary of the PG of an object (CRUSH_NONE: none up, or no pool). */
static uint32_t object_primary(const struct status_cache *sc, uint32_t pool_id,
			       uint64_t ino, uint64_t objno)
{
	const struct status_pool *sp = find_pool(sc, pool_id);
	struct map_pool p;

	if (!sp)
		return CRUSH_NONE;
	memset(&p, 0, sizeof(p));
	p.id = sp->id;
	p.pg_num = sp->pg_num;
	return sp->primary[crush_object_pg(&p, ino, objno)];
}

struct scan {
	struct status_cache *sc;
	struct mds_db *db;
	MDB_txn *txn;
	uint64_t ino;  /* inode whose pool is cached */
	uint32_t pool;
	uint64_t total, degraded, unfound;
};

static int scan_one(void *arg, uint64_t ino, uint64_t objno)
{
	struct scan *s = arg;
	unsigned st;

	if (ino != s->ino) {
		struct db_inode in;
		int rc = db_inode_get(s->db, s->txn, ino, &in);

		if (rc && rc != -ENOENT)
			return rc;
		s->ino = ino;
		s->pool = rc ? 0 : in.a.pool;
	}
	st = status_object_state(s->sc, s->pool, ino, objno);
	s->total++;
	if (st & STATUS_PG_DEGRADED)
		s->degraded++;
	if (st & STATUS_PG_UNFOUND)
		s->unfound++;
	if (st & (STATUS_PG_DEGRADED | STATUS_PG_UNFOUND)) {
		uint32_t pri = object_primary(s->sc, s->pool, ino, objno);
		int deg = !!(st & STATUS_PG_DEGRADED);
		int unf = !!(st & STATUS_PG_UNFOUND);

		if (pri == CRUSH_NONE) {
			s->sc->deg_nopri += deg;
			s->sc->unf_nopri += unf;
		} else {
			s->sc->deg_by[pri] += deg;
			s->sc->unf_by[pri] += unf;
		}
	}
	return 0;
}

static int count_objects(struct status_cache *sc, const struct osdmap *om,
			 struct mds_db *db, MDB_txn *txn)
{
	size_t txnid = mdb_txn_id(txn);
	struct scan s = { sc, db, txn, 0, 0, 0, 0, 0 };
	int rc;

	if (sc->counted && sc->cnt_epoch == om->map.epoch &&
	    sc->cnt_txnid == txnid)
		return 0;
	memset(sc->deg_by, 0, STORE_MAX_OSDS * sizeof(*sc->deg_by));
	memset(sc->unf_by, 0, STORE_MAX_OSDS * sizeof(*sc->unf_by));
	sc->deg_nopri = sc->unf_nopri = 0;
	sc->counted = 0;
	rc = db_obj_scan(db, txn, scan_one, &s);
	if (rc)
		return rc;
	sc->total = s.total;
	sc->degraded = s.degraded;
	sc->unfound = s.unfound;
	sc->cnt_epoch = om->map.epoch;
	sc->cnt_txnid = txnid;
	sc->counted = 1;
	return 0;
}

int status_compute(struct status_cache *sc, const struct osdmap *om,
		   struct mds_db *db, MDB_txn *txn, struct wire_status *st)
{
	const struct store_map *m = &om->map;
	struct space_sum space;
	int rc;

	memset(st, 0, sizeof(*st));
	st->epoch = m->epoch;
	st->osds_total = map_count_osds(m, -1, -1);
	st->osds_up = map_count_osds(m, 1, -1);
	st->osds_in = map_count_osds(m, -1, 1);
	space_sum(om, &space);
	st->bytes_total = space.total;
	st->bytes_used = space.used;
	rc = db_inode_count(db, txn, &st->files);
	if (rc == 0)
		rc = status_pgs(sc, om);
	if (rc == 0)
		rc = count_objects(sc, om, db, txn);
	if (rc)
		return rc;
	st->objects_total = sc->total;
	return health_compute(sc, om, db, st);
}
