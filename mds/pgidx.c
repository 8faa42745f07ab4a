/*
 * pgidx.c -- the PG index of committed objects: see pgidx.h.
 */
#include "pgidx.h"
#include "crush.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define KEY_LEN 24

static struct log_limit pgx_corrupt_log;

static void pgx_put_be32(uint8_t *d, uint32_t v)
{
	d[0] = (uint8_t)(v >> 24);
	d[1] = (uint8_t)(v >> 16);
	d[2] = (uint8_t)(v >> 8);
	d[3] = (uint8_t)v;
}

static uint32_t pgx_get_be32(const uint8_t *s)
{
	return (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
	       (uint32_t)s[2] << 8 | s[3];
}

static void pgx_put_be64(uint8_t *d, uint64_t v)
{
	pgx_put_be32(d, (uint32_t)(v >> 32));
	pgx_put_be32(d + 4, (uint32_t)v);
}

static MDB_val pgx_key(uint8_t *kb, uint32_t pool, uint32_t pg, uint64_t ino,
			uint64_t objno)
{
	MDB_val k = { KEY_LEN, kb };

	pgx_put_be32(kb, pool);
	pgx_put_be32(kb + 4, pg);
	pgx_put_be64(kb + 8, ino);
	pgx_put_be64(kb + 16, objno);
	return k;
}

static int pgx_corrupt(uint32_t pool, uint32_t pg)
{
	log_ratelimited(&pgx_corrupt_log, LOG_ERR,
			"damaged PG index record (pool %u pg %u) in the MDS "
			"database: restore the folder from a backup", pool, pg);
	return -EUCLEAN;
}

int db_set_pools(struct mds_db *db, const struct store_map *m)
{
	if (m->n_pools > STORE_MAX_POOLS)
		return -E2BIG;
	for (uint32_t i = 0; i < m->n_pools; i++) {
		db->pools[i].id = m->pools[i].id;
		db->pools[i].pg_num = m->pools[i].pg_num;
	}
	db->n_pools = m->n_pools;
	return 0;
}

int pgidx_pg(const struct mds_db *db, uint32_t pool, uint64_t ino,
	     uint64_t objno, uint32_t *pg)
{
	for (uint32_t i = 0; i < db->n_pools; i++) {
		struct map_pool p;

		if (db->pools[i].id != pool)
			continue;
		memset(&p, 0, sizeof(p));
		p.id = pool;
		p.pg_num = db->pools[i].pg_num;
		*pg = crush_object_pg(&p, ino, objno);
		return 0;
	}
	return -ENOENT;
}

int pgidx_put(struct mds_db *db, MDB_txn *txn, uint32_t pool, uint64_t ino,
	      const struct wire_obj *o)
{
	uint8_t kb[KEY_LEN], vb[13];
	MDB_val k, v = { sizeof(vb), vb };
	uint32_t pg;
	int rc = pgidx_pg(db, pool, ino, o->objno, &pg);

	if (rc)
		return rc;
	k = pgx_key(kb, pool, pg, ino, o->objno);
	vb[0] = DB_REC_V1;
	put_le64(vb + 1, o->version);
	put_le32(vb + 9, o->length);
	return db_err(mdb_put(txn, db->pgobjs, &k, &v, 0));
}

int pgidx_del(struct mds_db *db, MDB_txn *txn, uint32_t pool, uint64_t ino,
	      uint64_t objno)
{
	uint8_t kb[KEY_LEN];
	MDB_val k;
	uint32_t pg;
	int rc = pgidx_pg(db, pool, ino, objno, &pg);

	if (rc)
		return rc;
	k = pgx_key(kb, pool, pg, ino, objno);
	rc = mdb_del(txn, db->pgobjs, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : db_err(rc);
}

static int pgx_dec_val(const MDB_val *v, struct wire_pg_obj *e)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != 13 || p[0] != DB_REC_V1)
		return -EUCLEAN;
	e->version = get_le64(p + 1);
	e->length = get_le32(p + 9);
	return 0;
}

int pgidx_list(struct mds_db *db, MDB_txn *txn,
	       const struct wire_pg_objects *q, struct wire_pg_obj *out,
	       uint32_t max, int *more)
{
	uint8_t kb[KEY_LEN];
	MDB_val k, v;
	MDB_cursor *c;
	uint32_t n = 0;
	int rc;

	*more = 0;
	k = pgx_key(kb, q->pool, q->pg, q->has_after ? q->after_ino : 0,
		     q->has_after ? q->after_objno : 0);
	rc = db_err(mdb_cursor_open(txn, db->pgobjs, &c));
	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	/* The cursor is strictly after: skip the key itself. */
	if (rc == 0 && q->has_after && k.mv_size == KEY_LEN &&
	    !memcmp(k.mv_data, kb, KEY_LEN))
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	while (rc == 0) {
		const uint8_t *kp = k.mv_data;
		struct wire_pg_obj e;

		if (k.mv_size != KEY_LEN) {
			rc = pgx_corrupt(q->pool, q->pg);
			break;
		}
		if (pgx_get_be32(kp) != q->pool || pgx_get_be32(kp + 4) != q->pg)
			break;
		if (n == max) {
			*more = 1;
			break;
		}
		e.ino = db_key_u64(kp + 8);
		e.objno = db_key_u64(kp + 16);
		if (pgx_dec_val(&v, &e)) {
			rc = pgx_corrupt(q->pool, q->pg);
			break;
		}
		out[n++] = e;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	return rc ? db_err(rc) : (int)n;
}

struct pgx_rebuild {
	struct mds_db *db;
	MDB_txn *txn;
	uint64_t ino; /* inode whose pool is cached */
	uint32_t pool;
	int have_pool;
	uint64_t n;
};

static int pgx_rebuild_one(void *arg, uint64_t ino, uint64_t objno)
{
	struct pgx_rebuild *b = arg;
	struct wire_obj o;
	int rc;

	if (ino != b->ino || !b->have_pool) {
		struct db_inode in;

		rc = db_inode_get(b->db, b->txn, ino, &in);
		if (rc)
			return rc;
		b->ino = ino;
		b->pool = in.a.pool;
		b->have_pool = 1;
	}
	rc = db_obj_get(b->db, b->txn, ino, objno, &o);
	if (rc == 0)
		rc = pgidx_put(b->db, b->txn, b->pool, ino, &o);
	if (rc == 0)
		b->n++;
	return rc;
}

int pgidx_rebuild(struct mds_db *db, MDB_txn *txn, uint64_t *n)
{
	struct pgx_rebuild b = { db, txn, 0, 0, 0, 0 };
	int rc = db_err(mdb_drop(txn, db->pgobjs, 0));

	if (rc == 0)
		rc = db_obj_scan(db, txn, pgx_rebuild_one, &b);
	*n = b.n;
	return rc;
}

/* ---- checking ----------------------------------------------------------*/

struct pgx_check {
	struct mds_db *db;
	MDB_txn *txn;
	char *err;
	size_t errlen;
	uint64_t n;
};

static int pgx_bad(struct pgx_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int pgx_bad(struct pgx_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -EUCLEAN;
}

static int pgx_check_one(void *arg, const uint8_t *k, size_t klen,
		     const uint8_t *v, size_t vlen)
{
	struct pgx_check *c = arg;
	MDB_val mv = { vlen, (void *)v };
	struct wire_pg_obj e;
	struct db_inode in;
	struct wire_obj o;
	uint32_t pool, pg, want;

	if (klen != KEY_LEN || pgx_dec_val(&mv, &e))
		return pgx_bad(c, "a PG index record that does not decode");
	pool = pgx_get_be32(k);
	pg = pgx_get_be32(k + 4);
	e.ino = db_key_u64(k + 8);
	e.objno = db_key_u64(k + 16);
	if (db_obj_get(c->db, c->txn, e.ino, e.objno, &o) ||
	    o.version != e.version || o.length != e.length)
		return pgx_bad(c, "the PG index names object %llu of inode %llu "
			   "(version %llx), which the objects table does not "
			   "hold", (unsigned long long)e.objno,
			   (unsigned long long)e.ino,
			   (unsigned long long)e.version);
	if (db_inode_get(c->db, c->txn, e.ino, &in) || in.a.pool != pool ||
	    pgidx_pg(c->db, pool, e.ino, e.objno, &want) || want != pg)
		return pgx_bad(c, "the PG index files object %llu of inode %llu "
			   "under pool %u pg %u, which is not its PG",
			   (unsigned long long)e.objno,
			   (unsigned long long)e.ino, pool, pg);
	c->n++;
	return 0;
}

int pgidx_check(struct mds_db *db, MDB_txn *txn, char *err, size_t errlen)
{
	struct pgx_check c = { db, txn, err, errlen, 0 };
	uint64_t objs;
	int rc = db_scan(db, txn, db->pgobjs, pgx_check_one, &c);

	if (rc)
		return rc;
	rc = db_obj_count(db, txn, &objs);
	if (rc)
		return rc;
	if (objs != c.n)
		return pgx_bad(&c, "the objects table holds %llu objects but the "
			   "PG index %llu", (unsigned long long)objs,
			   (unsigned long long)c.n);
	return 0;
}
