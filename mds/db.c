/*
 * db.c -- the LMDB environment and its records: see db.h and docs/mds.md.
 */
#include "db.h"
#include "log.h"
#include "parents.h"
#include "pgidx.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Virtual size of the map: address space only, the file grows with use.
 * 64 GiB holds ~300 M inodes at ~200 bytes each with their entries. */
#define DB_MAP_SIZE_DEFAULT (64ull << 30)
#define DB_MAXDBS 16
/* Key buffer: 8-byte prefix + a name of up to 255 bytes (LMDB's key limit
 * is 511 bytes). */
#define KEY_MAX (8 + STORE_NAME_MAX)

static struct log_limit corrupt_log;

int db_err(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL)
		return -ENOSPC;
	if (rc > 0)
		return -rc;
	if (rc < 0 && rc >= -4095)
		return rc; /* already -errno (ours) */
	return -EIO;
}

static int corrupt(const char *what, uint64_t key)
{
	log_ratelimited(&corrupt_log, LOG_ERR,
			"damaged %s record (key %llu) in the MDS database: "
			"restore the folder from a backup", what,
			(unsigned long long)key);
	return -EUCLEAN;
}

/* ---- keys ---------------------------------------------------------------*/

static void put_be32(uint8_t *d, uint32_t v)
{
	d[0] = (uint8_t)(v >> 24);
	d[1] = (uint8_t)(v >> 16);
	d[2] = (uint8_t)(v >> 8);
	d[3] = (uint8_t)v;
}

static void put_be64(uint8_t *d, uint64_t v)
{
	put_be32(d, (uint32_t)(v >> 32));
	put_be32(d + 4, (uint32_t)v);
}

static uint64_t get_be64(const uint8_t *s)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | s[i];
	return v;
}

static MDB_val key_u64(uint8_t *buf, uint64_t v)
{
	MDB_val k = { 8, buf };

	put_be64(buf, v);
	return k;
}

static MDB_val key_u64_u64(uint8_t *buf, uint64_t a, uint64_t b)
{
	MDB_val k = { 16, buf };

	put_be64(buf, a);
	put_be64(buf + 8, b);
	return k;
}

static MDB_val key_u64_name(uint8_t *buf, uint64_t a, const char *name)
{
	size_t n = strnlen(name, STORE_NAME_MAX);
	MDB_val k = { 8 + n, buf };

	put_be64(buf, a);
	memcpy(buf + 8, name, n);
	return k;
}

/* ---- the environment ----------------------------------------------------*/

/* mkdir -p: the folder and any missing parents. */
static int mkdir_p(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0750) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int open_dbi(MDB_txn *txn, const char *name, MDB_dbi *dbi)
{
	return db_err(mdb_dbi_open(txn, name, MDB_CREATE, dbi));
}

int db_open(struct mds_db *db, const char *dir, const struct db_opts *o,
	    char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	MDB_txn *txn = NULL;
	unsigned flags = MDB_NOTLS;
	int rc;

	memset(db, 0, sizeof(*db));
	db->fd_lock = -1;
	if (stat(dir, &st) < 0) {
		if (errno != ENOENT || !o->create) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return rc;
		}
		rc = mkdir_p(dir);
		if (rc) {
			snprintf(err, errlen, "cannot create %s: %s", dir,
				 strerror(-rc));
			return rc;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (!o->create && access(path, F_OK) < 0) {
		snprintf(err, errlen, "%s holds no cluster", dir);
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/mds.lock", dir);
	db->fd_lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (db->fd_lock < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(errno));
		return rc;
	}
	if (flock(db->fd_lock, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(err, errlen, "%s is in use by another store-mds "
			 "(lock %s held)", dir, path);
		goto fail;
	}
	rc = db_err(mdb_env_create(&db->env));
	if (rc == 0)
		rc = db_err(mdb_env_set_maxdbs(db->env, DB_MAXDBS));
	if (rc == 0)
		rc = db_err(mdb_env_set_mapsize(db->env, o->map_size ?
					o->map_size : DB_MAP_SIZE_DEFAULT));
	/* NOMETASYNC: a commit pays one fdatasync, not two; the meta page
	 * reaches the disk with the next commit or db_sync (db.h). */
	flags |= o->nosync ? MDB_NOSYNC : MDB_NOMETASYNC;
	if (rc == 0)
		rc = db_err(mdb_env_open(db->env, dir, flags, 0600));
	if (rc) {
		snprintf(err, errlen, "cannot open the database in %s: %s",
			 dir, strerror(-rc));
		goto fail;
	}
	rc = db_begin(db, NULL, 0, &txn);
	if (rc == 0)
		rc = open_dbi(txn, "meta", &db->meta);
	if (rc == 0)
		rc = open_dbi(txn, "map", &db->map);
	if (rc == 0)
		rc = open_dbi(txn, "inodes", &db->inodes);
	if (rc == 0)
		rc = open_dbi(txn, "dentries", &db->dentries);
	if (rc == 0)
		rc = open_dbi(txn, "dirseq", &db->dirseq);
	if (rc == 0)
		rc = open_dbi(txn, "objects", &db->objects);
	if (rc == 0)
		rc = open_dbi(txn, "inline", &db->inl);
	if (rc == 0)
		rc = open_dbi(txn, "xattrs", &db->xattrs);
	if (rc == 0)
		rc = open_dbi(txn, "sessions", &db->sessions);
	if (rc == 0)
		rc = open_dbi(txn, "orphans", &db->orphans);
	if (rc == 0)
		rc = open_dbi(txn, "purge", &db->purge);
	if (rc == 0)
		rc = open_dbi(txn, "pgobjs", &db->pgobjs);
	if (rc == 0)
		rc = db_err(mdb_dbi_open(txn, "parents", MDB_CREATE |
					 MDB_DUPSORT | MDB_DUPFIXED,
					 &db->parents));
	if (rc == 0)
		rc = open_dbi(txn, "auth", &db->auth);
	if (rc == 0)
		rc = db_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc) {
		snprintf(err, errlen, "cannot open the databases in %s: %s",
			 dir, strerror(-rc));
		goto fail;
	}
	return 0;
fail:
	if (db->env)
		mdb_env_close(db->env);
	db->env = NULL;
	close(db->fd_lock);
	db->fd_lock = -1;
	return rc;
}

void db_close(struct mds_db *db)
{
	int rc = db->env ? db_sync(db) : 0;

	/* What was committed is durable once the database is closed. */
	if (rc)
		log_err("the MDS could not sync its database at close: %s",
			strerror(-rc));
	if (db->env)
		mdb_env_close(db->env);
	db->env = NULL;
	if (db->fd_lock >= 0)
		close(db->fd_lock);
	db->fd_lock = -1;
}

int db_begin(struct mds_db *db, MDB_txn *parent, int rdonly, MDB_txn **txn)
{
	return db_err(mdb_txn_begin(db->env, parent, rdonly ? MDB_RDONLY : 0,
				    txn));
}

int db_commit(MDB_txn *txn)
{
	return db_err(mdb_txn_commit(txn));
}

static uint64_t last_txnid(struct mds_db *db)
{
	MDB_envinfo info;

	if (mdb_env_info(db->env, &info))
		return 0;
	return (uint64_t)info.me_last_txnid;
}

/* A disk with less than this available after a failed write is full:
 * LMDB writes whole pages (4 KiB) in runs, so a write cut short by a full
 * disk leaves at most a few blocks behind. */
#define DB_FULL_SLACK (64u << 10)

int db_disk_space(const struct mds_db *db, uint64_t *used, uint64_t *avail)
{
	const char *path = NULL;
	struct statvfs sv;

	if (!db->env || mdb_env_get_path(db->env, &path) || !path)
		return -ENOENT;
	if (statvfs(path, &sv))
		return -errno;
	*used = statvfs_used_bytes(&sv);
	*avail = statvfs_avail_bytes(&sv);
	return 0;
}

int db_out_of_space(const struct mds_db *db, int err)
{
	uint64_t used, avail;

	if (err == -ENOSPC)
		return 1;
	return err == -EIO && db_disk_space(db, &used, &avail) == 0 &&
	       avail < DB_FULL_SLACK;
}

/* Room the disk must have again before a full MDS says so: four times
 * the slack, so that one commit's page run does not end it at once. */
#define DB_ROOM_AGAIN (4 * DB_FULL_SLACK)

int db_room_again(const struct mds_db *db)
{
	uint64_t used, avail;

	return db_disk_space(db, &used, &avail) == 0 &&
	       avail >= DB_ROOM_AGAIN;
}

int db_sync(struct mds_db *db)
{
	uint64_t id = last_txnid(db);
	int rc;

	if (id == db->synced_txnid)
		return 0;
	rc = db_err(mdb_env_sync(db->env, 1));
	if (rc == 0) {
		/* Atomic: tests read it from another thread. */
		__atomic_store_n(&db->synced_txnid, id, __ATOMIC_RELEASE);
		db->unsynced_since_ms = 0;
	}
	return rc;
}

int64_t db_unsynced_ms(struct mds_db *db, uint64_t now_ms)
{
	if (last_txnid(db) == db->synced_txnid)
		return -1;
	if (!db->unsynced_since_ms)
		db->unsynced_since_ms = now_ms ? now_ms : 1;
	return (int64_t)(now_ms - db->unsynced_since_ms);
}

/* ---- generic helpers ----------------------------------------------------*/

static int put_val(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, const struct wbuf *w)
{
	MDB_val v = { w->len, w->p };

	if (w->err)
		return w->err;
	return db_err(mdb_put(txn, dbi, k, &v, 0));
}

/* Delete a key; a missing key is not an error. */
static int del_key(MDB_txn *txn, MDB_dbi dbi, MDB_val *k)
{
	int rc = mdb_del(txn, dbi, k, NULL);

	return rc == MDB_NOTFOUND ? 0 : db_err(rc);
}

static int count_entries(MDB_txn *txn, MDB_dbi dbi, uint64_t *n)
{
	MDB_stat st;
	int rc = db_err(mdb_stat(txn, dbi, &st));

	*n = rc ? 0 : st.ms_entries;
	return rc;
}

/* ---- superblock ---------------------------------------------------------*/

void db_enc_super(struct wbuf *w, const struct db_super *s)
{
	wbuf_u8(w, DB_REC_V1);
	wbuf_u32(w, s->magic);
	wbuf_u32(w, s->format);
	wbuf_raw(w, s->cluster_id, 16);
	wbuf_u64(w, s->next_ino);
	wbuf_u64(w, s->next_session);
	wbuf_u32(w, s->next_osd);
	wbuf_u64(w, s->next_purge);
	wbuf_i64(w, s->created_ns);
}

int db_dec_super(const uint8_t *p, size_t len, struct db_super *s)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	if (rbuf_u8(&r) != DB_REC_V1)
		return -EUCLEAN;
	s->magic = rbuf_u32(&r);
	s->format = rbuf_u32(&r);
	rbuf_raw(&r, s->cluster_id, 16);
	s->next_ino = rbuf_u64(&r);
	s->next_session = rbuf_u64(&r);
	s->next_osd = rbuf_u32(&r);
	s->next_purge = rbuf_u64(&r);
	s->created_ns = rbuf_i64(&r);
	if (rbuf_done(&r) || s->magic != DB_MAGIC)
		return -EUCLEAN;
	return 0;
}

static MDB_val super_key(void)
{
	MDB_val k = { 5, (void *)"super" };

	return k;
}

int db_super_get(struct mds_db *db, MDB_txn *txn, struct db_super *s)
{
	MDB_val k = super_key(), v;
	int rc = db_err(mdb_get(txn, db->meta, &k, &v));

	if (rc)
		return rc;
	if (db_dec_super(v.mv_data, v.mv_size, s))
		return corrupt("superblock", 0);
	return 0;
}

int db_super_put(struct mds_db *db, MDB_txn *txn, const struct db_super *s)
{
	uint8_t buf[96];
	MDB_val k = super_key();
	struct wbuf w;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	db_enc_super(&w, s);
	return put_val(txn, db->meta, &k, &w);
}

int db_alloc_ino(struct mds_db *db, MDB_txn *txn, uint64_t *ino)
{
	struct db_super s;
	int rc = db_super_get(db, txn, &s);

	if (rc)
		return rc;
	if (s.next_ino >= (1ull << 62))
		return -ENOSPC;
	*ino = s.next_ino++;
	return db_super_put(db, txn, &s);
}

int db_alloc_session(struct mds_db *db, MDB_txn *txn, uint64_t *id)
{
	struct db_super s;
	int rc = db_super_get(db, txn, &s);

	if (rc)
		return rc;
	if (s.next_session >= (1ull << 31))
		return -ENOSPC;
	*id = s.next_session++;
	return db_super_put(db, txn, &s);
}

/* ---- inodes -------------------------------------------------------------*/

void db_enc_inode(struct wbuf *w, const struct db_inode *in)
{
	const struct wire_attr *a = &in->a;

	wbuf_u8(w, DB_REC_V1);
	wbuf_u32(w, a->mode);
	wbuf_u32(w, a->uid);
	wbuf_u32(w, a->gid);
	wbuf_u32(w, a->nlink);
	wbuf_u32(w, a->flags);
	wbuf_u64(w, a->size);
	wbuf_i64(w, a->atime_ns);
	wbuf_i64(w, a->mtime_ns);
	wbuf_i64(w, a->ctime_ns);
	wbuf_u64(w, a->gen);
	wbuf_u32(w, a->pool);
	wbuf_u32(w, a->object_size);
	wbuf_u32(w, a->rdev);
	wbuf_u64(w, in->parent);
	wbuf_u64(w, in->next_seq);
}

int db_dec_inode(const uint8_t *p, size_t len, uint64_t ino,
		 struct db_inode *in)
{
	struct wire_attr *a = &in->a;
	struct rbuf r;

	rbuf_init(&r, p, len);
	if (rbuf_u8(&r) != DB_REC_V1)
		return -EUCLEAN;
	a->ino = ino;
	a->mode = rbuf_u32(&r);
	a->uid = rbuf_u32(&r);
	a->gid = rbuf_u32(&r);
	a->nlink = rbuf_u32(&r);
	a->flags = rbuf_u32(&r);
	a->size = rbuf_u64(&r);
	a->atime_ns = rbuf_i64(&r);
	a->mtime_ns = rbuf_i64(&r);
	a->ctime_ns = rbuf_i64(&r);
	a->gen = rbuf_u64(&r);
	a->pool = rbuf_u32(&r);
	a->object_size = rbuf_u32(&r);
	a->rdev = rbuf_u32(&r);
	in->parent = rbuf_u64(&r);
	in->next_seq = rbuf_u64(&r);
	if (rbuf_done(&r) || a->size > INT64_MAX ||
	    (a->flags & ~WIRE_ATTR_INLINE))
		return -EUCLEAN;
	return 0;
}

int db_inode_get(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		 struct db_inode *in)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, ino), v;
	int rc = db_err(mdb_get(txn, db->inodes, &k, &v));

	if (rc)
		return rc;
	if (db_dec_inode(v.mv_data, v.mv_size, ino, in))
		return corrupt("inode", ino);
	return 0;
}

int db_inode_put(struct mds_db *db, MDB_txn *txn, const struct db_inode *in)
{
	uint8_t kb[8], buf[128];
	MDB_val k = key_u64(kb, in->a.ino);
	struct wbuf w;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	db_enc_inode(&w, in);
	return put_val(txn, db->inodes, &k, &w);
}

int db_inode_del(struct mds_db *db, MDB_txn *txn, uint64_t ino)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, ino);
	int rc = del_key(txn, db->inodes, &k);

	return rc ? rc : parents_drop(db, txn, ino);
}

int db_inode_count(struct mds_db *db, MDB_txn *txn, uint64_t *n)
{
	return count_entries(txn, db->inodes, n);
}

/* ---- directory entries --------------------------------------------------*/

int db_dentry_get(struct mds_db *db, MDB_txn *txn, uint64_t parent,
		  const char *name, struct db_dentry *d)
{
	uint8_t kb[KEY_MAX];
	MDB_val k = key_u64_name(kb, parent, name), v;
	int rc = db_err(mdb_get(txn, db->dentries, &k, &v));

	if (rc)
		return rc;
	if (db_dec_dentry(v.mv_data, v.mv_size, d))
		return corrupt("directory entry", parent);
	return 0;
}

int db_dec_dentry(const uint8_t *v, size_t len, struct db_dentry *d)
{
	struct rbuf r;

	rbuf_init(&r, v, len);
	if (rbuf_u8(&r) != DB_REC_V1)
		return -EUCLEAN;
	d->ino = rbuf_u64(&r);
	d->type = rbuf_u32(&r);
	d->seq = rbuf_u64(&r);
	return rbuf_done(&r) ? -EUCLEAN : 0;
}

int db_dec_dirseq(const uint8_t *v, size_t len, uint64_t *ino, uint32_t *type,
		  char name[STORE_NAME_MAX + 1])
{
	struct rbuf r;

	rbuf_init(&r, v, len);
	if (rbuf_u8(&r) != DB_REC_V1)
		return -EUCLEAN;
	*ino = rbuf_u64(&r);
	*type = rbuf_u32(&r);
	rbuf_str(&r, name, STORE_NAME_MAX + 1, STORE_NAME_MAX);
	if (rbuf_done(&r) || !wire_name_ok(name))
		return -EUCLEAN;
	return 0;
}

uint64_t db_key_u64(const uint8_t *p)
{
	return get_be64(p);
}

int db_scan(struct mds_db *db, MDB_txn *txn, MDB_dbi dbi, db_scan_fn fn,
	    void *arg)
{
	MDB_val k, v;
	MDB_cursor *c;
	int rc = db_err(mdb_cursor_open(txn, dbi, &c));

	(void)db;
	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		rc = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (rc)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : db_err(rc);
}

int db_dentry_put(struct mds_db *db, MDB_txn *txn, uint64_t parent,
		  const char *name, const struct db_dentry *d)
{
	uint8_t kb[KEY_MAX], buf[64 + STORE_NAME_MAX];
	MDB_val k = key_u64_name(kb, parent, name);
	struct wbuf w;
	int rc;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, DB_REC_V1);
	wbuf_u64(&w, d->ino);
	wbuf_u32(&w, d->type);
	wbuf_u64(&w, d->seq);
	rc = put_val(txn, db->dentries, &k, &w);
	if (rc)
		return rc;
	k = key_u64_u64(kb, parent, d->seq);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, DB_REC_V1);
	wbuf_u64(&w, d->ino);
	wbuf_u32(&w, d->type);
	wbuf_str(&w, name, STORE_NAME_MAX);
	rc = put_val(txn, db->dirseq, &k, &w);
	if (rc == 0 && d->type != S_IFDIR)
		rc = parents_add(db, txn, d->ino, parent, d->seq);
	return rc;
}

int db_dentry_del(struct mds_db *db, MDB_txn *txn, uint64_t parent,
		  const char *name, const struct db_dentry *d)
{
	uint8_t kb[KEY_MAX];
	MDB_val k = key_u64_name(kb, parent, name);
	int rc = del_key(txn, db->dentries, &k);

	if (rc)
		return rc;
	k = key_u64_u64(kb, parent, d->seq);
	rc = del_key(txn, db->dirseq, &k);
	if (rc == 0 && d->type != S_IFDIR)
		rc = parents_del(db, txn, d->ino, parent, d->seq);
	return rc;
}

int db_dir_empty(struct mds_db *db, MDB_txn *txn, uint64_t dir)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, dir), v;
	MDB_cursor *c;
	int rc = db_err(mdb_cursor_open(txn, db->dentries, &c));

	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = 1;
	else if (rc == 0)
		rc = k.mv_size < 8 || get_be64(k.mv_data) != dir;
	else
		rc = db_err(rc);
	mdb_cursor_close(c);
	return rc;
}

int db_dir_walk(struct mds_db *db, MDB_txn *txn, uint64_t dir,
		uint64_t after, db_dir_fn fn, void *arg)
{
	uint8_t kb[16];
	MDB_val k, v;
	MDB_cursor *c;
	MDB_cursor_op op = MDB_SET_RANGE;
	int rc;

	if (after == UINT64_MAX)
		return 0;
	k = key_u64_u64(kb, dir, after + 1);
	rc = db_err(mdb_cursor_open(txn, db->dirseq, &c));
	if (rc)
		return rc;
	for (;;) {
		char name[STORE_NAME_MAX + 1];
		uint64_t ino;
		uint32_t type;

		rc = mdb_cursor_get(c, &k, &v, op);
		op = MDB_NEXT;
		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = db_err(rc);
			break;
		}
		if (k.mv_size != 16 || get_be64(k.mv_data) != dir)
			break;
		if (db_dec_dirseq(v.mv_data, v.mv_size, &ino, &type, name)) {
			rc = corrupt("directory listing", dir);
			break;
		}
		rc = fn(arg, get_be64((const uint8_t *)k.mv_data + 8), ino,
			type, name);
		if (rc)
			break;
	}
	mdb_cursor_close(c);
	return rc;
}

/* ---- objects ------------------------------------------------------------*/

static int dec_obj(const MDB_val *v, uint64_t ino, struct wire_obj *o)
{
	struct rbuf r;

	rbuf_init(&r, v->mv_data, v->mv_size);
	if (rbuf_u8(&r) != DB_REC_V1)
		return corrupt("object", ino);
	o->version = rbuf_u64(&r);
	o->length = rbuf_u32(&r);
	if (rbuf_done(&r))
		return corrupt("object", ino);
	return 0;
}

int db_obj_get(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t objno,
	       struct wire_obj *o)
{
	uint8_t kb[16];
	MDB_val k = key_u64_u64(kb, ino, objno), v;
	int rc = db_err(mdb_get(txn, db->objects, &k, &v));

	if (rc)
		return rc;
	o->objno = objno;
	return dec_obj(&v, ino, o);
}

int db_obj_put(struct mds_db *db, MDB_txn *txn, uint64_t ino,
	       const struct wire_obj *o)
{
	uint8_t kb[16], buf[32];
	MDB_val k = key_u64_u64(kb, ino, o->objno);
	struct wbuf w;

	struct db_inode in;
	int rc;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, DB_REC_V1);
	wbuf_u64(&w, o->version);
	wbuf_u32(&w, o->length);
	rc = put_val(txn, db->objects, &k, &w);
	if (rc == 0)
		rc = db_inode_get(db, txn, ino, &in);
	if (rc == 0)
		rc = pgidx_put(db, txn, in.a.pool, ino, o);
	return rc;
}

int db_obj_del(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t objno)
{
	uint8_t kb[16];
	MDB_val k = key_u64_u64(kb, ino, objno);
	struct db_inode in;
	int rc = del_key(txn, db->objects, &k);

	if (rc == 0)
		rc = db_inode_get(db, txn, ino, &in);
	if (rc == 0)
		rc = pgidx_del(db, txn, in.a.pool, ino, objno);
	return rc;
}

int db_obj_walk(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t first,
		db_obj_fn fn, void *arg)
{
	uint8_t kb[16];
	MDB_val k = key_u64_u64(kb, ino, first), v;
	MDB_cursor *c;
	int rc = db_err(mdb_cursor_open(txn, db->objects, &c));

	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	for (;;) {
		struct wire_obj o;

		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = db_err(rc);
			break;
		}
		if (k.mv_size != 16 || get_be64(k.mv_data) != ino)
			break;
		o.objno = get_be64((const uint8_t *)k.mv_data + 8);
		rc = dec_obj(&v, ino, &o);
		if (rc)
			break;
		/* fn may delete this object: the next key is found by
		 * position after it, which LMDB keeps valid across a
		 * delete through another handle only by re-seeking. */
		rc = fn(arg, &o);
		if (rc)
			break;
		if (o.objno == UINT64_MAX) {
			rc = 0;
			break;
		}
		k = key_u64_u64(kb, ino, o.objno + 1);
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	return rc;
}

int db_obj_scan(struct mds_db *db, MDB_txn *txn, db_obj_scan_fn fn, void *arg)
{
	MDB_val k, v;
	MDB_cursor *c;
	int rc = db_err(mdb_cursor_open(txn, db->objects, &c));

	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		if (k.mv_size != 16) {
			rc = corrupt("object", 0);
			break;
		}
		rc = fn(arg, get_be64(k.mv_data),
			get_be64((const uint8_t *)k.mv_data + 8));
		if (rc)
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : db_err(rc);
}

int db_obj_count(struct mds_db *db, MDB_txn *txn, uint64_t *n)
{
	return count_entries(txn, db->objects, n);
}

/* ---- inline data --------------------------------------------------------*/

int db_inline_get(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		  const uint8_t **p, uint32_t *len)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, ino), v;
	int rc = db_err(mdb_get(txn, db->inl, &k, &v));

	*p = NULL;
	*len = 0;
	if (rc)
		return rc;
	if (v.mv_size < 1 || ((uint8_t *)v.mv_data)[0] != DB_REC_V1 ||
	    v.mv_size - 1 > UINT32_MAX)
		return corrupt("inline data", ino);
	*p = (const uint8_t *)v.mv_data + 1;
	*len = (uint32_t)(v.mv_size - 1);
	return 0;
}

int db_inline_put(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		  const void *p, uint32_t len)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, ino), v = { (size_t)len + 1, NULL };
	int rc;

	/* Reserve and fill in place: one copy of the data, not two. */
	rc = db_err(mdb_put(txn, db->inl, &k, &v, MDB_RESERVE));
	if (rc)
		return rc;
	((uint8_t *)v.mv_data)[0] = DB_REC_V1;
	if (len)
		memcpy((uint8_t *)v.mv_data + 1, p, len);
	return 0;
}

int db_inline_del(struct mds_db *db, MDB_txn *txn, uint64_t ino)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, ino);

	return del_key(txn, db->inl, &k);
}

/* ---- extended attributes ------------------------------------------------*/

static MDB_val xattr_key(uint8_t *buf, uint64_t ino, const char *name)
{
	return key_u64_name(buf, ino, name);
}

int db_xattr_get(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		 const char *name, const uint8_t **p, uint32_t *len)
{
	uint8_t kb[KEY_MAX];
	MDB_val k = xattr_key(kb, ino, name), v;
	int rc = mdb_get(txn, db->xattrs, &k, &v);

	*p = NULL;
	*len = 0;
	if (rc == MDB_NOTFOUND)
		return -ENODATA;
	if (rc)
		return db_err(rc);
	if (v.mv_size < 1 || ((uint8_t *)v.mv_data)[0] != DB_REC_V1 ||
	    v.mv_size - 1 > STORE_XATTR_VALUE_MAX)
		return corrupt("xattr", ino);
	*p = (const uint8_t *)v.mv_data + 1;
	*len = (uint32_t)(v.mv_size - 1);
	return 0;
}

int db_xattr_put(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		 const char *name, const void *p, uint32_t len)
{
	uint8_t kb[KEY_MAX];
	MDB_val k = xattr_key(kb, ino, name), v = { (size_t)len + 1, NULL };
	int rc = db_err(mdb_put(txn, db->xattrs, &k, &v, MDB_RESERVE));

	if (rc)
		return rc;
	((uint8_t *)v.mv_data)[0] = DB_REC_V1;
	if (len)
		memcpy((uint8_t *)v.mv_data + 1, p, len);
	return 0;
}

int db_xattr_del(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		 const char *name)
{
	uint8_t kb[KEY_MAX];
	MDB_val k = xattr_key(kb, ino, name);
	int rc = mdb_del(txn, db->xattrs, &k, NULL);

	if (rc == MDB_NOTFOUND)
		return -ENODATA;
	return db_err(rc);
}

/* Walk the xattr keys of ino; with del, delete each after fn. */
static int xattr_iter(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		      db_xattr_fn fn, void *arg, int del)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, ino), v;
	MDB_cursor *c;
	int rc = db_err(mdb_cursor_open(txn, db->xattrs, &c));

	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	for (;;) {
		char name[STORE_XATTR_NAME_MAX + 1];
		size_t n;

		if (rc == MDB_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc) {
			rc = db_err(rc);
			break;
		}
		if (k.mv_size < 9 || get_be64(k.mv_data) != ino)
			break;
		n = k.mv_size - 8;
		if (n > STORE_XATTR_NAME_MAX) {
			rc = corrupt("xattr", ino);
			break;
		}
		memcpy(name, (const uint8_t *)k.mv_data + 8, n);
		name[n] = '\0';
		if (fn) {
			rc = fn(arg, name, n);
			if (rc)
				break;
		}
		if (del) {
			rc = mdb_cursor_del(c, 0);
			if (rc) {
				rc = db_err(rc);
				break;
			}
			/* Seek again rather than trust the cursor's position
			 * after a delete. */
			k = key_u64(kb, ino);
			rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
			continue;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	return rc;
}

int db_xattr_walk(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		  db_xattr_fn fn, void *arg)
{
	return xattr_iter(db, txn, ino, fn, arg, 0);
}

int db_xattr_clear(struct mds_db *db, MDB_txn *txn, uint64_t ino)
{
	return xattr_iter(db, txn, ino, NULL, NULL, 1);
}

/* ---- sessions, orphans --------------------------------------------------*/

int db_session_put(struct mds_db *db, MDB_txn *txn, uint64_t id,
		   const char *entity, int64_t now)
{
	uint8_t kb[8], buf[16 + STORE_ENTITY_MAX];
	MDB_val k = key_u64(kb, id);
	struct wbuf w;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, DB_REC_V1);
	wbuf_i64(&w, now);
	wbuf_str(&w, entity, STORE_ENTITY_MAX);
	return put_val(txn, db->sessions, &k, &w);
}

int db_orphan_put(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		  int64_t since)
{
	uint8_t kb[8], buf[16];
	MDB_val k = key_u64(kb, ino);
	struct wbuf w;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, DB_REC_V1);
	wbuf_i64(&w, since);
	return put_val(txn, db->orphans, &k, &w);
}

int db_orphan_del(struct mds_db *db, MDB_txn *txn, uint64_t ino)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, ino);

	return del_key(txn, db->orphans, &k);
}

int db_orphan_count(struct mds_db *db, MDB_txn *txn, uint64_t *n)
{
	return count_entries(txn, db->orphans, n);
}

/* ---- purge queue --------------------------------------------------------*/

int db_purge_add(struct mds_db *db, MDB_txn *txn, uint32_t pool, uint64_t ino,
		 const struct wire_obj *o)
{
	uint8_t kb[8], buf[40];
	struct db_super s;
	struct wbuf w;
	MDB_val k;
	int rc = db_super_get(db, txn, &s);

	if (rc)
		return rc;
	k = key_u64(kb, s.next_purge++);
	rc = db_super_put(db, txn, &s);
	if (rc)
		return rc;
	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, DB_REC_V1);
	wbuf_u32(&w, pool);
	wbuf_u64(&w, ino);
	wbuf_u64(&w, o->objno);
	wbuf_u64(&w, o->version);
	return put_val(txn, db->purge, &k, &w);
}

int db_purge_list(struct mds_db *db, MDB_txn *txn, uint64_t first,
		  struct db_purge *out, int max)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, first), v;
	MDB_cursor *c;
	int n = 0, rc = db_err(mdb_cursor_open(txn, db->purge, &c));

	if (rc)
		return rc;
	rc = db_err(mdb_cursor_get(c, &k, &v, MDB_SET_RANGE));
	while (rc == 0 && n < max) {
		struct db_purge *p = &out[n];
		struct rbuf r;

		if (k.mv_size != 8) {
			rc = corrupt("purge", 0);
			break;
		}
		p->seq = get_be64(k.mv_data);
		rbuf_init(&r, v.mv_data, v.mv_size);
		if (rbuf_u8(&r) != DB_REC_V1) {
			rc = corrupt("purge", p->seq);
			break;
		}
		p->pool = rbuf_u32(&r);
		p->ino = rbuf_u64(&r);
		p->objno = rbuf_u64(&r);
		p->version = rbuf_u64(&r);
		if (rbuf_done(&r)) {
			rc = corrupt("purge", p->seq);
			break;
		}
		n++;
		rc = db_err(mdb_cursor_get(c, &k, &v, MDB_NEXT));
	}
	mdb_cursor_close(c);
	if (rc && rc != -ENOENT)
		return rc;
	return n;
}

int db_purge_del(struct mds_db *db, MDB_txn *txn, uint64_t seq)
{
	uint8_t kb[8];
	MDB_val k = key_u64(kb, seq);

	return del_key(txn, db->purge, &k);
}

int db_purge_count(struct mds_db *db, MDB_txn *txn, uint64_t *n)
{
	return count_entries(txn, db->purge, n);
}

/* ---- cluster map --------------------------------------------------------*/

int db_map_get(struct mds_db *db, MDB_txn *txn, const uint8_t **p,
	       size_t *len, uint8_t *ver)
{
	MDB_val k = { 3, (void *)"map" }, v;
	int rc = db_err(mdb_get(txn, db->map, &k, &v));

	*p = NULL;
	*len = 0;
	if (rc)
		return rc;
	if (v.mv_size < 1 || (((uint8_t *)v.mv_data)[0] != DB_REC_V1 &&
			      ((uint8_t *)v.mv_data)[0] != DB_REC_MAP_V2))
		return corrupt("cluster map", 0);
	*ver = ((uint8_t *)v.mv_data)[0];
	*p = (const uint8_t *)v.mv_data + 1;
	*len = v.mv_size - 1;
	return 0;
}

int db_map_put(struct mds_db *db, MDB_txn *txn, const void *p, size_t len)
{
	MDB_val k = { 3, (void *)"map" }, v = { len + 1, NULL };
	int rc = db_err(mdb_put(txn, db->map, &k, &v, MDB_RESERVE));

	if (rc)
		return rc;
	((uint8_t *)v.mv_data)[0] = DB_REC_MAP_V2;
	memcpy((uint8_t *)v.mv_data + 1, p, len);
	return 0;
}

int db_osd_uuid_get(struct mds_db *db, MDB_txn *txn, const uint8_t uuid[16],
		    uint32_t *id)
{
	uint8_t kb[17];
	MDB_val k = { 17, kb }, v;
	struct rbuf r;
	int rc;

	kb[0] = 'u';
	memcpy(kb + 1, uuid, 16);
	rc = db_err(mdb_get(txn, db->map, &k, &v));
	if (rc)
		return rc;
	rbuf_init(&r, v.mv_data, v.mv_size);
	if (rbuf_u8(&r) != DB_REC_V1)
		return corrupt("OSD uuid", 0);
	*id = rbuf_u32(&r);
	if (rbuf_done(&r) || *id >= STORE_MAX_OSDS)
		return corrupt("OSD uuid", 0);
	return 0;
}

int db_osd_uuid_put(struct mds_db *db, MDB_txn *txn, const uint8_t uuid[16],
		    uint32_t id)
{
	uint8_t kb[17], buf[8];
	MDB_val k = { 17, kb };
	struct wbuf w;

	kb[0] = 'u';
	memcpy(kb + 1, uuid, 16);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, DB_REC_V1);
	wbuf_u32(&w, id);
	return put_val(txn, db->map, &k, &w);
}

int db_osd_flags_get(struct mds_db *db, MDB_txn *txn, uint32_t id,
		     uint32_t *flags)
{
	uint8_t kb[5];
	MDB_val k = { 5, kb }, v;
	struct rbuf r;
	int rc;

	kb[0] = 'x';
	put_be32(kb + 1, id);
	*flags = 0;
	rc = mdb_get(txn, db->map, &k, &v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return db_err(rc);
	rbuf_init(&r, v.mv_data, v.mv_size);
	if (rbuf_u8(&r) != DB_REC_V1)
		return corrupt("OSD flags", id);
	*flags = rbuf_u32(&r);
	if (rbuf_done(&r))
		return corrupt("OSD flags", id);
	return 0;
}

int db_osd_flags_put(struct mds_db *db, MDB_txn *txn, uint32_t id,
		     uint32_t flags)
{
	uint8_t kb[5], buf[8];
	MDB_val k = { 5, kb };
	struct wbuf w;

	kb[0] = 'x';
	put_be32(kb + 1, id);
	if (!flags)
		return del_key(txn, db->map, &k);
	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, DB_REC_V1);
	wbuf_u32(&w, flags);
	return put_val(txn, db->map, &k, &w);
}
