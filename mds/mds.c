/*
 * mds.c -- creating, opening and closing a metadata server: see mds.h.
 * The handling of requests is in dispatch.c.
 */
#include "mds.h"
#include "log.h"
#include "mds_auth.h"
#include "ns.h"
#include "parents.h"
#include "pgidx.h"
#include "util.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Replies kept for resent requests: a few seconds of a busy MDS (clients
 * resend after 3 s), at a few hundred bytes each. */
#define MDS_RCACHE_ENTRIES 16384
#define MDS_RCACHE_REPLY_MAX (256u << 10)

void mds_opts_default(struct mds_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->heartbeat_grace_ms = 5000;
	o->down_out_ms = 60000;
	o->inline_max = STORE_INLINE_MAX;
}

void mds_cluster_opts_default(struct mds_cluster_opts *c)
{
	memset(c, 0, sizeof(*c));
	c->k = 4;
	c->m = 2;
	c->pg_num = 256;
	c->object_size = 4u << 20;
	c->domain = MAP_DOMAIN_HOST;
}

uint64_t mds_now_ms(const struct mds *m)
{
	return m->fake_now_ms ? m->fake_now_ms : now_ms();
}

static int check_cluster_opts(const struct mds_cluster_opts *c, char *err,
			      size_t errlen)
{
	if (c->k < 1 || c->k > STORE_EC_MAX_K || c->m < 1 ||
	    c->m > STORE_EC_MAX_M || c->k + c->m > STORE_EC_MAX_SHARDS) {
		snprintf(err, errlen, "erasure profile %u+%u is not supported: "
			 "k 1..%d, m 1..%d, k+m at most %d", c->k, c->m,
			 STORE_EC_MAX_K, STORE_EC_MAX_M, STORE_EC_MAX_SHARDS);
		return -EINVAL;
	}
	if (c->pg_num < 1 || c->pg_num > MDS_PG_NUM_MAX) {
		snprintf(err, errlen, "pg_num %u: must be 1..%d (a power of "
			 "two balances best)", c->pg_num, MDS_PG_NUM_MAX);
		return -EINVAL;
	}
	if (c->object_size < 4096 || c->object_size % 4096 ||
	    DIV_ROUND_UP(c->object_size, c->k) > STORE_SHARD_MAX) {
		snprintf(err, errlen, "object size %u: must be a multiple of "
			 "4 KiB whose shards (object size / k) are at most "
			 "%u MiB", c->object_size, STORE_SHARD_MAX >> 20);
		return -EINVAL;
	}
	if (c->domain > MAP_DOMAIN_OSD) {
		snprintf(err, errlen, "unknown failure domain %u", c->domain);
		return -EINVAL;
	}
	return 0;
}

int mds_create(const struct mds_opts *o, const struct mds_cluster_opts *c,
	       uint8_t cluster_id[16], char *err, size_t errlen)
{
	struct db_opts dbo = { o->map_size, o->nosync, 1 };
	struct store_map map;
	struct map_pool pool;
	struct mds_db db;
	struct osdmap *om = NULL;
	struct db_super s;
	struct ns_ctx nc;
	MDB_txn *txn = NULL;
	char hex[33];
	int rc;

	rc = check_cluster_opts(c, err, errlen);
	if (rc)
		return rc;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	rc = db_open(&db, o->dir, &dbo, err, errlen);
	if (rc)
		return rc;
	map_init(&map);
	rc = db_begin(&db, NULL, 0, &txn);
	if (rc)
		goto dberr;
	rc = db_super_get(&db, txn, &s);
	if (rc == 0) {
		osdmap_id_hex(s.cluster_id, hex);
		snprintf(err, errlen, "%s already holds cluster %s: start "
			 "store-mds without --init to serve it", o->dir, hex);
		rc = -EEXIST;
		goto out;
	}
	if (rc != -ENOENT)
		goto dberr;
	memset(&s, 0, sizeof(s));
	s.magic = DB_MAGIC;
	s.format = DB_FORMAT;
	randombytes_buf(s.cluster_id, sizeof(s.cluster_id));
	s.next_ino = DB_ROOT_INO + 1;
	s.next_session = 1;
	s.next_osd = 0;
	s.next_purge = 1;
	s.created_ns = (int64_t)wall_ns();
	rc = db_super_put(&db, txn, &s);
	if (rc)
		goto dberr;
	ns_ctx_init(&nc, &db, txn);
	rc = ns_make_root(&nc, c->uid, c->gid);
	ns_ctx_free(&nc);
	if (rc)
		goto dberr;
	map.epoch = 1;
	memcpy(map.cluster_id, s.cluster_id, 16);
	memset(&pool, 0, sizeof(pool));
	pool.id = 1;
	pool.k = c->k;
	pool.m = c->m;
	pool.min_size = (uint8_t)MIN(c->k + 1, c->k + c->m);
	pool.domain = c->domain;
	pool.pg_num = c->pg_num;
	pool.object_size = c->object_size;
	snprintf(pool.name, sizeof(pool.name), "data");
	if (!map_add_pool(&map, &pool)) {
		rc = -ENOMEM;
		goto dberr;
	}
	rc = db_set_pools(&db, &map);
	if (rc)
		goto dberr;
	om = calloc(1, sizeof(*om));
	if (!om) {
		rc = -ENOMEM;
		goto dberr;
	}
	rc = osdmap_create(om, &db, txn, &map);
	if (rc)
		goto dberr;
	if (c->keys) {
		rc = mds_auth_create(&db, txn, c->keys);
		if (rc)
			goto dberr;
	}
	rc = db_commit(txn);
	txn = NULL;
	if (rc)
		goto dberr;
	memcpy(cluster_id, s.cluster_id, 16);
	goto out;
dberr:
	snprintf(err, errlen, "cannot create the cluster in %s: %s", o->dir,
		 strerror(-rc));
out:
	if (txn)
		mdb_txn_abort(txn);
	if (om) {
		osdmap_free(om);
		free(om);
	}
	map_free(&map);
	db_close(&db);
	return rc;
}

/* Bring an older database to DB_FORMAT in one transaction: build the PG
 * index (pgidx.h, format 2) from the objects table and the parents index
 * (parents.h, format 3) from the directory entries, and record the new
 * format.  Format 4 (placement overrides in the map record) needs nothing:
 * a V1 map record loads as a map without overrides. */
static int upgrade(struct mds *m, const char *dir, char *err, size_t errlen)
{
	struct db_super s;
	MDB_txn *txn;
	uint64_t n = 0, np = 0;
	int rc = db_begin(&m->db, NULL, 0, &txn);

	if (rc == 0)
		rc = db_super_get(&m->db, txn, &s);
	if (rc == 0 && s.format < 2)
		rc = pgidx_rebuild(&m->db, txn, &n);
	if (rc == 0 && s.format < 3)
		rc = parents_rebuild(&m->db, txn, &np);
	if (rc == 0) {
		s.format = DB_FORMAT;
		rc = db_super_put(&m->db, txn, &s);
	}
	if (rc == 0)
		rc = db_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc) {
		snprintf(err, errlen, "cannot bring the MDS database in %s to "
			 "format %u (building its PG index): %s", dir,
			 DB_FORMAT, strerror(-rc));
		return rc;
	}
	log_info("upgraded the MDS database in %s to format %u: indexed %llu "
		 "objects by placement group and %llu links of files", dir,
		 DB_FORMAT, (unsigned long long)n, (unsigned long long)np);
	return 0;
}

int mds_open(const struct mds_opts *o, struct mds **out, char *err,
	     size_t errlen)
{
	struct db_opts dbo = { o->map_size, o->nosync, 0 };
	struct db_super s;
	MDB_txn *txn = NULL;
	struct mds *m;
	int rc;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->o = *o;
	status_init(&m->sc);
	rc = db_open(&m->db, o->dir, &dbo, err, errlen);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "%s holds no cluster; run store-mds "
			 "--init --data %s --addr ADDR to create one", o->dir,
			 o->dir);
		free(m);
		return rc;
	}
	if (rc) {
		free(m);
		return rc;
	}
	rc = db_begin(&m->db, NULL, 1, &txn);
	if (rc == 0)
		rc = db_super_get(&m->db, txn, &s);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "%s holds no cluster; run store-mds "
			 "--init --data %s --addr ADDR to create one", o->dir,
			 o->dir);
		goto fail;
	}
	/* Older formats lack only indexes, built below. */
	if (rc == 0 && (s.format > DB_FORMAT || s.format < 1)) {
		snprintf(err, errlen, "%s holds an MDS database of format %u; "
			 "this store-mds reads format %u", o->dir, s.format,
			 DB_FORMAT);
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	if (rc == 0) {
		memcpy(m->cluster_id, s.cluster_id, 16);
		rc = osdmap_load(&m->om, &m->db, txn, mds_now_ms(m));
	}
	if (rc == 0 && memcmp(m->om.map.cluster_id, s.cluster_id, 16))
		rc = -EUCLEAN;
	if (rc == 0)
		rc = db_set_pools(&m->db, &m->om.map);
	if (rc) {
		snprintf(err, errlen, "cannot load the cluster in %s: %s%s",
			 o->dir, strerror(-rc), rc == -EUCLEAN ?
			 " (the database is damaged)" : "");
		goto fail;
	}
	m->om.grace_ms = o->heartbeat_grace_ms;
	m->om.down_out_ms = o->down_out_ms;
	/* Keep the read transaction's handle: renewing it is cheap. */
	mdb_txn_reset(txn);
	m->rtxn = txn;
	if (s.format < DB_FORMAT) {
		rc = upgrade(m, o->dir, err, errlen);
		if (rc) {
			mds_close(m);
			return rc;
		}
	}
	rc = rcache_create(MDS_RCACHE_ENTRIES, MDS_RCACHE_REPLY_MAX, &m->rc);
	if (rc) {
		snprintf(err, errlen, "out of memory");
		mds_close(m);
		return rc;
	}
	rc = mds_auth_load(m, err, errlen);
	if (rc) {
		mds_close(m);
		return rc;
	}
	*out = m;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	osdmap_free(&m->om);
	db_close(&m->db);
	free(m);
	return rc;
}

void mds_close(struct mds *m)
{
	if (!m)
		return;
	if (m->rtxn)
		mdb_txn_abort(m->rtxn);
	rcache_free(m->rc);
	mds_auth_free(m);
	status_free(&m->sc);
	osdmap_free(&m->om);
	db_close(&m->db);
	free(m);
}
