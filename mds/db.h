/*
 * db.h -- the MDS's persistent state: one LMDB environment, its named
 * databases, and the encoding of every record in them.
 *
 * Everything the MDS knows survives a restart because it lives here, and a
 * reply is sent only after the transaction holding its change committed
 * (LMDB's default: the commit is fsync'ed).  Keys are big-endian so that
 * LMDB's byte order is numeric order: a directory's entries, a file's
 * objects and a directory's listing cookies are each one contiguous range.
 * Every value starts with a record version byte (DB_REC_V1); the layouts
 * are documented in docs/mds.md and must change only with a new version.
 *
 * Errors: functions return 0 or -errno.  LMDB's own codes are mapped by
 * db_err(): MDB_NOTFOUND -> -ENOENT, MDB_MAP_FULL / MDB_TXN_FULL ->
 * -ENOSPC, anything else LMDB-specific -> -EIO; a record that does not
 * decode is -EUCLEAN (logged: the database is damaged).
 */
#ifndef MDS_DB_H
#define MDS_DB_H

#include "buf.h"
#include "wire_ns.h"

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

/* "SMDS" as a little-endian u32, first field of the superblock. */
#define DB_MAGIC 0x53444d53u
/* Format of the whole environment: bumped when any layout changes in a
 * way an older MDS cannot read (or would not keep up to date).
 * 2: the `pgobjs` index (pgidx.h), built when a format-1 folder opens.
 * 3: the `parents` index (parents.h) and the `auth` keys (mds_auth.h);
 *    the index is built when an older folder opens.
 * 4: the map record may be DB_REC_MAP_V2 (placement overrides); a V1
 *    record still loads, so an older folder needs no conversion. */
#define DB_FORMAT 4
/* Version byte at the start of every value. */
#define DB_REC_V1 1
/* The map record's version byte since format 4: an encoded map of wire
 * format 2 (with placement overrides).  V1: wire format 1. */
#define DB_REC_MAP_V2 2

/* The root directory's inode number (as the protocol says). */
#define DB_ROOT_INO 1

/* Cookies 1 and 2 are never given to a directory entry, so a FUSE client
 * can hand out offsets 1 and 2 for "." and ".." without colliding. */
#define DB_FIRST_SEQ 3

/* Directories are linked at most this often (nlink 2 + subdirectories)
 * and files may have at most this many hard links: ext4's limit. */
#define DB_LINK_MAX 65000

struct mds_db {
	MDB_env *env;
	MDB_dbi meta;     /* "super" -> struct db_super */
	MDB_dbi map;      /* cluster map, OSD uuid -> id, per-OSD admin flags */
	MDB_dbi inodes;   /* ino -> inode */
	MDB_dbi dentries; /* parent ino + name -> dentry */
	MDB_dbi dirseq;   /* parent ino + cookie -> ino, type, name */
	MDB_dbi objects;  /* ino + objno -> version, length */
	MDB_dbi inl;      /* ino -> inline file data / symlink target */
	MDB_dbi xattrs;   /* ino + name -> value */
	MDB_dbi sessions; /* session id -> entity, open time */
	MDB_dbi orphans;  /* ino -> since (unlinked, still open: KEEP) */
	MDB_dbi purge;    /* seq -> object version nobody references */
	MDB_dbi pgobjs;   /* pool + pg + ino + objno -> version (pgidx.h) */
	MDB_dbi parents;  /* non-dir ino -> (parent, cookie) per link (dup
			   * sorted; parents.h) */
	MDB_dbi auth;     /* entity name -> its key and caps (mds/auth.h) */
	int fd_lock;      /* flock'ed DIR/mds.lock: one MDS per folder */
	/* Durability (db_sync): the last transaction known on stable
	 * storage, and when (db clock, ms) a newer one was first seen. */
	uint64_t synced_txnid;
	uint64_t unsynced_since_ms;
	/* Disk space (mds/dispatch.c, mds/health.c): a write transaction
	 * failed for lack of space and the disk has not had room again
	 * since (db_room_again); changes refused meanwhile. */
	int full;
	uint64_t refused;
	/* pg_num of every pool, for the PG index (db_set_pools). */
	uint32_t n_pools;
	struct {
		uint32_t id;
		uint32_t pg_num;
	} pools[STORE_MAX_POOLS];
};

/* The superblock: identity and counters. */
struct db_super {
	uint32_t magic;
	uint32_t format;
	uint8_t cluster_id[16];
	uint64_t next_ino;
	uint64_t next_session;
	uint32_t next_osd;
	uint64_t next_purge;
	int64_t created_ns;
};

/* An inode: the attributes the protocol shows, plus what only the MDS
 * needs.  Invariants: a directory has nlink = 2 + its subdirectories,
 * size = its number of entries, parent = the directory holding it (the
 * root is its own parent); next_seq > every cookie used in it. */
struct db_inode {
	struct wire_attr a;
	uint64_t parent;   /* directories only, else 0 */
	uint64_t next_seq; /* directories only: next listing cookie */
};

/* A directory entry (both the name index and the listing). */
struct db_dentry {
	uint64_t ino;
	uint32_t type; /* mode & S_IFMT */
	uint64_t seq;  /* listing cookie */
};

/* Options of db_open(). */
struct db_opts {
	size_t map_size; /* virtual size of the map (0: 64 GiB) */
	int nosync;      /* tests only: no fsync at commit */
	int create;      /* create the files if missing */
};

/* Map an LMDB (or errno) return value to -errno. */
int db_err(int mdb_rc);

/* Open (and with o->create, create) the environment in dir, take the
 * folder's lock and open every database.  Returns 0, -EBUSY if another
 * MDS holds the folder, or -errno; err gets a sentence. */
int db_open(struct mds_db *db, const char *dir, const struct db_opts *o,
	    char *err, size_t errlen);
void db_close(struct mds_db *db);

/* Begin a transaction (write unless rdonly; parent for nested). */
int db_begin(struct mds_db *db, MDB_txn *parent, int rdonly, MDB_txn **txn);
int db_commit(MDB_txn *txn);

/* Put every committed transaction on stable storage.  Commits are made
 * with MDB_NOMETASYNC: one fdatasync of the data pages each, the meta
 * page written but not synced, so a power failure may undo the last
 * commits (never corrupt the database: LMDB keeps atomicity and
 * consistency); the next commit's sync, or this, makes them durable.
 * Returns 0 (also when there was nothing to sync) or -errno. */
int db_sync(struct mds_db *db);

/* The file system holding the database, as df counts it: bytes in use
 * and bytes still available to the MDS.  Returns 0 or -errno. */
int db_disk_space(const struct mds_db *db, uint64_t *used, uint64_t *avail);

/* Did a commit that failed with err fail for lack of space?  -ENOSPC is;
 * so is -EIO when the disk has (almost) nothing left, because LMDB
 * reports a short write, the usual way a full disk shows, as EIO. */
int db_out_of_space(const struct mds_db *db, int err);

/* After a commit, has a full disk room again?  While full, small commits
 * may still succeed in pages LMDB freed earlier; the state ends only when
 * the file system has room for more than that again. */
int db_room_again(const struct mds_db *db);

/* Has a commit happened that db_sync has not covered?  Returns the ms
 * (on now_ms's clock) since it was first seen, or -1 if none. */
int64_t db_unsynced_ms(struct mds_db *db, uint64_t now_ms);

/* Superblock.  get returns -ENOENT on a folder that holds no cluster. */
int db_super_get(struct mds_db *db, MDB_txn *txn, struct db_super *s);
int db_super_put(struct mds_db *db, MDB_txn *txn, const struct db_super *s);

/* Take the next inode number / session id / purge sequence (persisted in
 * txn).  Returns 0 or -errno (-ENOSPC when session ids run out: they must
 * stay below 2^31 because versions are session << 32 | counter). */
int db_alloc_ino(struct mds_db *db, MDB_txn *txn, uint64_t *ino);
int db_alloc_session(struct mds_db *db, MDB_txn *txn, uint64_t *id);

/* Inodes.  get: 0, -ENOENT, -EUCLEAN. */
int db_inode_get(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		 struct db_inode *in);
int db_inode_put(struct mds_db *db, MDB_txn *txn, const struct db_inode *in);
int db_inode_del(struct mds_db *db, MDB_txn *txn, uint64_t ino);
/* Number of inodes (O(1)). */
int db_inode_count(struct mds_db *db, MDB_txn *txn, uint64_t *n);

/* Directory entries: the name index and the listing are kept together by
 * these.  get: 0 or -ENOENT.  put adds both records (seq must be new). */
int db_dentry_get(struct mds_db *db, MDB_txn *txn, uint64_t parent,
		  const char *name, struct db_dentry *d);
int db_dentry_put(struct mds_db *db, MDB_txn *txn, uint64_t parent,
		  const char *name, const struct db_dentry *d);
int db_dentry_del(struct mds_db *db, MDB_txn *txn, uint64_t parent,
		  const char *name, const struct db_dentry *d);
/* Is the directory empty?  1, 0 or -errno. */
int db_dir_empty(struct mds_db *db, MDB_txn *txn, uint64_t dir);

/* Walk a directory's listing from cookie after+1 on: fn gets each entry
 * with its cookie and returns 0 to go on, 1 to stop (entry not taken),
 * or -errno.  Returns 1 if it stopped early, 0 at the end, or -errno. */
typedef int (*db_dir_fn)(void *arg, uint64_t cookie, uint64_t ino,
			 uint32_t type, const char *name);
int db_dir_walk(struct mds_db *db, MDB_txn *txn, uint64_t dir,
		uint64_t after, db_dir_fn fn, void *arg);

/* Objects of a file.  put and del also keep the PG index (pgidx.h) in
 * step, in the same transaction; it needs the object's pool, read from
 * its inode, which must exist (objects change only while their inode
 * lives) and be in a pool db_set_pools() named (else -ENOENT). */
int db_obj_get(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t objno,
	       struct wire_obj *o);
int db_obj_put(struct mds_db *db, MDB_txn *txn, uint64_t ino,
	       const struct wire_obj *o);
int db_obj_del(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t objno);
/* Call fn for every object of ino with objno >= first (in order) until it
 * returns non-zero (1: stop, <0: error).  Returns 1, 0 at the end, -errno.
 * fn may delete the object it is given (and only that one). */
typedef int (*db_obj_fn)(void *arg, const struct wire_obj *o);
int db_obj_walk(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t first,
		db_obj_fn fn, void *arg);

/* Every object of every file, in (ino, objno) order: for status.  fn
 * returns 0 to go on, else stops the scan with that value. */
typedef int (*db_obj_scan_fn)(void *arg, uint64_t ino, uint64_t objno);
int db_obj_scan(struct mds_db *db, MDB_txn *txn, db_obj_scan_fn fn, void *arg);
int db_obj_count(struct mds_db *db, MDB_txn *txn, uint64_t *n);

/* Inline data (file content or symlink target).  get: *p points into the
 * map (valid until txn writes or ends), -ENOENT if none. */
int db_inline_get(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		  const uint8_t **p, uint32_t *len);
int db_inline_put(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		  const void *p, uint32_t len);
int db_inline_del(struct mds_db *db, MDB_txn *txn, uint64_t ino);

/* Extended attributes.  get: -ENODATA if missing.  Walk calls fn with
 * each name of ino in order. */
int db_xattr_get(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		 const char *name, const uint8_t **p, uint32_t *len);
int db_xattr_put(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		 const char *name, const void *p, uint32_t len);
int db_xattr_del(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		 const char *name);
typedef int (*db_xattr_fn)(void *arg, const char *name, size_t len);
int db_xattr_walk(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		  db_xattr_fn fn, void *arg);
/* Remove every xattr of ino. */
int db_xattr_clear(struct mds_db *db, MDB_txn *txn, uint64_t ino);

/* Sessions and orphans. */
int db_session_put(struct mds_db *db, MDB_txn *txn, uint64_t id,
		   const char *entity, int64_t now_ns);
int db_orphan_put(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		  int64_t since_ns);
int db_orphan_del(struct mds_db *db, MDB_txn *txn, uint64_t ino);
int db_orphan_count(struct mds_db *db, MDB_txn *txn, uint64_t *n);

/* The purge queue: object versions no inode references any more and no
 * reply reported to a client, whose shards must still be deleted. */
struct db_purge {
	uint64_t seq;
	uint32_t pool;
	uint64_t ino;
	uint64_t objno;
	uint64_t version;
};
int db_purge_add(struct mds_db *db, MDB_txn *txn, uint32_t pool, uint64_t ino,
		 const struct wire_obj *o);
/* Up to max entries with seq >= first, in order.  Returns the count. */
int db_purge_list(struct mds_db *db, MDB_txn *txn, uint64_t first,
		  struct db_purge *out, int max);
int db_purge_del(struct mds_db *db, MDB_txn *txn, uint64_t seq);
int db_purge_count(struct mds_db *db, MDB_txn *txn, uint64_t *n);

/* Cluster map records (in the `map` database). */
/* The encoded map (wire_enc_map bytes, put as DB_REC_MAP_V2); get: the
 * record's version (DB_REC_V1 or DB_REC_MAP_V2) in *ver, -ENOENT if none. */
int db_map_get(struct mds_db *db, MDB_txn *txn, const uint8_t **p,
	       size_t *len, uint8_t *ver);
int db_map_put(struct mds_db *db, MDB_txn *txn, const void *p, size_t len);
/* OSD uuid -> id (kept after the OSD is removed: ids are never reused
 * for another uuid).  get: -ENOENT if unknown. */
int db_osd_uuid_get(struct mds_db *db, MDB_txn *txn, const uint8_t uuid[16],
		    uint32_t *id);
int db_osd_uuid_put(struct mds_db *db, MDB_txn *txn, const uint8_t uuid[16],
		    uint32_t id);
/* Per-OSD operator flags (MDS_OSD_F_* of osdmap.h); 0 if none stored. */
int db_osd_flags_get(struct mds_db *db, MDB_txn *txn, uint32_t id,
		     uint32_t *flags);
int db_osd_flags_put(struct mds_db *db, MDB_txn *txn, uint32_t id,
		     uint32_t flags);

/* Walk every record of one database in key order (fsck): fn returns 0
 * to go on or -errno to stop with it. */
typedef int (*db_scan_fn)(void *arg, const uint8_t *k, size_t klen,
			  const uint8_t *v, size_t vlen);
int db_scan(struct mds_db *db, MDB_txn *txn, MDB_dbi dbi, db_scan_fn fn,
	    void *arg);
/* A big-endian u64 of a key. */
uint64_t db_key_u64(const uint8_t *p);
/* Values of `dentries` and `dirseq`: 0 or -EUCLEAN. */
int db_dec_dentry(const uint8_t *v, size_t len, struct db_dentry *d);
int db_dec_dirseq(const uint8_t *v, size_t len, uint64_t *ino, uint32_t *type,
		  char name[STORE_NAME_MAX + 1]);

/* Encodings, exposed for the fuzz target and tests.  dec returns 0 or
 * -EUCLEAN. */
void db_enc_inode(struct wbuf *w, const struct db_inode *in);
int db_dec_inode(const uint8_t *p, size_t len, uint64_t ino,
		 struct db_inode *in);
void db_enc_super(struct wbuf *w, const struct db_super *s);
int db_dec_super(const uint8_t *p, size_t len, struct db_super *s);

#endif
