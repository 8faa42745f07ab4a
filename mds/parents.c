/*
 * parents.c -- the parents index and subtree membership: see parents.h.
 */
#include "parents.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Bound on walks up the tree: far beyond any real depth, and a damaged
 * parent chain cannot loop forever. */
#define PARENTS_DEPTH_MAX 100000

static void be64(uint8_t *d, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		d[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *s)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | s[i];
	return v;
}

/* Delete the orphan markers (seq 0) of ino. */
static int drop_markers(struct mds_db *db, MDB_txn *txn, uint64_t ino)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	MDB_cursor *c;
	int rc;

	be64(kb, ino);
	rc = db_err(mdb_cursor_open(txn, db->parents, &c));
	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0) {
		if (v.mv_size == 16 && get_be((const uint8_t *)v.mv_data + 8) == 0)
			rc = mdb_cursor_del(c, 0);
		if (rc == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : db_err(rc);
}

int parents_add(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t parent,
		uint64_t seq)
{
	uint8_t kb[8], vb[16];
	MDB_val k = { 8, kb }, v = { 16, vb };
	int rc = drop_markers(db, txn, ino);

	if (rc)
		return rc;
	be64(kb, ino);
	be64(vb, parent);
	be64(vb + 8, seq);
	return db_err(mdb_put(txn, db->parents, &k, &v, 0));
}

int parents_del(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t parent,
		uint64_t seq)
{
	uint8_t kb[8], vb[16];
	MDB_val k = { 8, kb }, v = { 16, vb };
	int rc;

	be64(kb, ino);
	be64(vb, parent);
	be64(vb + 8, seq);
	rc = mdb_del(txn, db->parents, &k, &v);
	if (rc && rc != MDB_NOTFOUND)
		return db_err(rc);
	/* The last link: remember where it was (an orphan keeps it until the
	 * inode goes; a destroyed inode drops it at once). */
	rc = mdb_get(txn, db->parents, &k, &v);
	if (rc == MDB_NOTFOUND) {
		v.mv_size = 16;
		v.mv_data = vb;
		be64(vb + 8, 0);
		return db_err(mdb_put(txn, db->parents, &k, &v, 0));
	}
	return db_err(rc);
}

int parents_drop(struct mds_db *db, MDB_txn *txn, uint64_t ino)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	int rc;

	be64(kb, ino);
	rc = mdb_del(txn, db->parents, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : db_err(rc);
}

/* Is directory dir inside root?  Walks the parent pointers up. */
static int dir_inside(struct mds_db *db, MDB_txn *txn, uint64_t dir,
		      uint64_t root)
{
	for (int depth = 0; depth < PARENTS_DEPTH_MAX; depth++) {
		struct db_inode in;
		int rc;

		if (dir == root)
			return 1;
		if (dir == DB_ROOT_INO || dir == 0)
			return 0;
		rc = db_inode_get(db, txn, dir, &in);
		if (rc)
			return rc == -ENOENT ? 0 : rc;
		dir = in.parent;
	}
	return -EUCLEAN;
}

int parents_inside(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		   uint64_t root)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	MDB_cursor *c;
	struct db_inode in;
	int rc, found = 0;

	if (root == DB_ROOT_INO || ino == root)
		return 1;
	rc = db_inode_get(db, txn, ino, &in);
	if (rc)
		return rc;
	if (S_ISDIR(in.a.mode))
		return dir_inside(db, txn, in.parent, root);
	be64(kb, ino);
	rc = db_err(mdb_cursor_open(txn, db->parents, &c));
	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (rc == 0 && !found) {
		if (v.mv_size != 16) {
			rc = -EUCLEAN;
			break;
		}
		rc = dir_inside(db, txn, get_be(v.mv_data), root);
		if (rc < 0)
			break;
		found = rc;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	if (found)
		return 1;
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : db_err(rc);
}

int parents_resolve(struct mds_db *db, MDB_txn *txn, const char *path,
		    uint64_t *ino)
{
	char name[STORE_NAME_MAX + 1];
	const char *p = path;
	uint64_t cur = DB_ROOT_INO;

	while (*p) {
		struct db_dentry d;
		size_t n;
		int rc;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0)
			break;
		if (n > STORE_NAME_MAX)
			return -ENOENT;
		memcpy(name, p, n);
		name[n] = '\0';
		p += n;
		rc = db_dentry_get(db, txn, cur, name, &d);
		if (rc)
			return rc;
		if (d.type != S_IFDIR)
			return -ENOTDIR;
		cur = d.ino;
	}
	*ino = cur;
	return 0;
}

struct rebuild {
	struct mds_db *db;
	MDB_txn *txn;
	uint64_t n;
};

static int rebuild_one(void *arg, const uint8_t *k, size_t klen,
		       const uint8_t *v, size_t vlen)
{
	struct rebuild *r = arg;
	struct db_dentry d;

	if (klen < 8 || db_dec_dentry(v, vlen, &d))
		return -EUCLEAN;
	if (d.type == S_IFDIR)
		return 0;
	r->n++;
	return parents_add(r->db, r->txn, d.ino, get_be(k), d.seq);
}

int parents_rebuild(struct mds_db *db, MDB_txn *txn, uint64_t *n)
{
	struct rebuild r = { db, txn, 0 };
	int rc = db_err(mdb_drop(txn, db->parents, 0));

	if (rc == 0)
		rc = db_scan(db, txn, db->dentries, rebuild_one, &r);
	*n = r.n;
	return rc;
}

struct pcheck {
	struct mds_db *db;
	MDB_txn *txn;
	char *err;
	size_t errlen;
	uint64_t entries, values;
};

static int check_entry(void *arg, const uint8_t *k, size_t klen,
		       const uint8_t *v, size_t vlen)
{
	struct pcheck *pc = arg;
	uint8_t kb[8], vb[16];
	MDB_val pk = { 8, kb }, pv = { 16, vb };
	MDB_cursor *c;
	struct db_dentry d;
	int rc;

	if (klen < 8 || db_dec_dentry(v, vlen, &d) || d.type == S_IFDIR)
		return 0; /* fsck reports bad entries itself */
	pc->entries++;
	be64(kb, d.ino);
	be64(vb, get_be(k));
	be64(vb + 8, d.seq);
	rc = db_err(mdb_cursor_open(pc->txn, pc->db->parents, &c));
	if (rc)
		return rc;
	rc = mdb_cursor_get(c, &pk, &pv, MDB_GET_BOTH);
	mdb_cursor_close(c);
	if (rc) {
		snprintf(pc->err, pc->errlen, "parents: no value for the link "
			 "of inode %llu in directory %llu",
			 (unsigned long long)d.ino,
			 (unsigned long long)get_be(k));
		return -EUCLEAN;
	}
	return 0;
}

static int check_value(void *arg, const uint8_t *k, size_t klen,
		       const uint8_t *v, size_t vlen)
{
	struct pcheck *pc = arg;
	uint64_t ino, parent, seq;
	struct db_inode in;

	if (klen != 8 || vlen != 16) {
		snprintf(pc->err, pc->errlen, "parents: a record of %zu+%zu "
			 "bytes", klen, vlen);
		return -EUCLEAN;
	}
	ino = get_be(k);
	parent = get_be(v);
	seq = get_be(v + 8);
	if (db_inode_get(pc->db, pc->txn, ino, &in) || S_ISDIR(in.a.mode)) {
		snprintf(pc->err, pc->errlen, "parents: a value for inode "
			 "%llu, which is not a live non-directory",
			 (unsigned long long)ino);
		return -EUCLEAN;
	}
	if (seq == 0 && in.a.nlink != 0) {
		snprintf(pc->err, pc->errlen, "parents: an orphan marker for "
			 "inode %llu, which has %u links",
			 (unsigned long long)ino, in.a.nlink);
		return -EUCLEAN;
	}
	if (seq)
		pc->values++;
	(void)parent;
	return 0;
}

int parents_check(struct mds_db *db, MDB_txn *txn, char *err, size_t errlen)
{
	struct pcheck pc = { db, txn, err, errlen, 0, 0 };
	int rc = db_scan(db, txn, db->dentries, check_entry, &pc);

	if (rc == 0)
		rc = db_scan(db, txn, db->parents, check_value, &pc);
	if (rc == 0 && pc.entries != pc.values) {
		snprintf(err, errlen, "parents: %llu links of files but %llu "
			 "values", (unsigned long long)pc.entries,
			 (unsigned long long)pc.values);
		rc = -EUCLEAN;
	}
	return rc;
}
