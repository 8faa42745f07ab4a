/*
 * pgidx.h -- the MDS's index of committed objects by placement group.
 *
 * Recovery is driven by each PG's primary OSD, which needs the
 * authoritative list of the PG's committed objects (PG_OBJECTS,
 * docs/recovery.md).  The `objects` table is keyed by (ino, objno), so a
 * PG's objects are scattered over all of it; `pgobjs` holds the same
 * entries keyed by
 *
 *     be32 pool, be32 pg, be64 ino, be64 objno  ->  u8 1, u64 version,
 *                                                  u32 length
 *
 * so that one PG is one contiguous key range.  It is maintained by
 * db_obj_put() and db_obj_del() in the transaction that changes
 * `objects`, so the two never disagree (mds_fsck checks it), and rebuilt
 * once when a format-1 database (which had no index) is opened.
 *
 * pg = crush_object_pg(pool, ino, objno) needs the pool's pg_num, which
 * never changes once the pool exists: the database keeps a copy of every
 * pool's pg_num (db_set_pools), set from the map when the MDS opens.
 */
#ifndef MDS_PGIDX_H
#define MDS_PGIDX_H

#include "db.h"
#include "map.h"
#include "wire_rec.h"

#include <stdint.h>

/* Record the pg_num of every pool of m (db keeps a copy).  Returns 0 or
 * -E2BIG (more pools than the table holds). */
int db_set_pools(struct mds_db *db, const struct store_map *m);

/* The PG of object (ino, objno) of pool.  Returns 0, or -ENOENT for a pool
 * the database does not know. */
int pgidx_pg(const struct mds_db *db, uint32_t pool, uint64_t ino,
	     uint64_t objno, uint32_t *pg);

/* Add or replace / remove the index entry of one object (db_obj_put and
 * db_obj_del call these; nobody else needs to).  Returns 0 or -errno. */
int pgidx_put(struct mds_db *db, MDB_txn *txn, uint32_t pool, uint64_t ino,
	      const struct wire_obj *o);
int pgidx_del(struct mds_db *db, MDB_txn *txn, uint32_t pool, uint64_t ino,
	      uint64_t objno);

/* The objects of PG q->pg of pool q->pool after q's cursor, in (ino,
 * objno) order: at most max into out, *more set if more follow.  Returns
 * the count or -errno (-EUCLEAN for a record that does not decode). */
int pgidx_list(struct mds_db *db, MDB_txn *txn,
	       const struct wire_pg_objects *q, struct wire_pg_obj *out,
	       uint32_t max, int *more);

/* Empty the index and rebuild it from `objects` (each object's pool from
 * its inode).  *n gets the number of entries.  Returns 0 or -errno. */
int pgidx_rebuild(struct mds_db *db, MDB_txn *txn, uint64_t *n);

/* Check that the index holds exactly the objects of `objects`, each under
 * its PG, with the same version and length.  Returns 0, or -EUCLEAN with a
 * sentence in err. */
int pgidx_check(struct mds_db *db, MDB_txn *txn, char *err, size_t errlen);

#endif
