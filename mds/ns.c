/*
 * ns.c -- the namespace layer's entry point and shared helpers: request
 * routing, inode loading, truncation and inode destruction, sessions,
 * statfs.  Directory operations are in ns_dir.c, file data and xattrs in
 * ns_file.c.  See ns.h.
 */
#include "ns_priv.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ns_ctx_init(struct ns_ctx *c, struct mds_db *db, MDB_txn *txn)
{
	memset(c, 0, sizeof(*c));
	c->db = db;
	c->txn = txn;
	c->now = (int64_t)wall_ns();
	c->inline_max = STORE_INLINE_MAX;
	c->pool = 1;
	c->object_size = 4u << 20;
	wbuf_init(&c->list);
}

void ns_ctx_free(struct ns_ctx *c)
{
	wbuf_free(&c->list);
}

int ns_fail(struct ns_ctx *c, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return rc;
}

int ns_dberr(struct ns_ctx *c, int rc, const char *what, uint64_t ino)
{
	if (rc == -ENOSPC)
		return ns_fail(c, rc, "the MDS database is full while %s "
			       "(ino %llu): raise its map size", what,
			       (unsigned long long)ino);
	if (rc == -EUCLEAN)
		return ns_fail(c, rc, "the MDS database is damaged (%s, ino "
			       "%llu): see the MDS log", what,
			       (unsigned long long)ino);
	return ns_fail(c, rc, "MDS database error while %s (ino %llu): %s",
		       what, (unsigned long long)ino, strerror(-rc));
}

int ns_get(struct ns_ctx *c, uint64_t ino, struct db_inode *in)
{
	int rc = db_inode_get(c->db, c->txn, ino, in);

	if (rc == -ENOENT)
		return ns_fail(c, rc, "no such inode %llu (deleted?)",
			       (unsigned long long)ino);
	if (rc)
		return ns_dberr(c, rc, "reading an inode", ino);
	return 0;
}

int ns_get_dir(struct ns_ctx *c, uint64_t ino, struct db_inode *in)
{
	int rc = db_inode_get(c->db, c->txn, ino, in);

	if (rc == -ENOENT)
		return ns_fail(c, rc, "no such directory: inode %llu "
			       "(deleted?)", (unsigned long long)ino);
	if (rc)
		return ns_dberr(c, rc, "reading a directory", ino);
	if (!S_ISDIR(in->a.mode))
		return ns_fail(c, -ENOTDIR, "inode %llu is not a directory",
			       (unsigned long long)ino);
	return 0;
}

int ns_put(struct ns_ctx *c, const struct db_inode *in)
{
	int rc = db_inode_put(c->db, c->txn, in);

	if (rc)
		return ns_dberr(c, rc, "writing an inode", in->a.ino);
	return 0;
}

void ns_changed(struct ns_ctx *c, struct db_inode *in)
{
	in->a.ctime_ns = c->now;
	in->a.gen++;
}

void ns_dir_changed(struct ns_ctx *c, struct db_inode *dir)
{
	dir->a.mtime_ns = c->now;
	ns_changed(c, dir);
}

int ns_sink_add(struct ns_ctx *c, struct ns_sink *s, uint64_t ino,
		const struct wire_obj *o)
{
	int rc;

	if (s->count < s->max) {
		wire_enc_obj(&c->list, o);
		if (c->list.err)
			return ns_fail(c, c->list.err, "out of memory");
		s->count++;
		return 0;
	}
	rc = db_purge_add(c->db, c->txn, s->pool, ino, o);
	if (rc)
		return ns_dberr(c, rc, "queueing an object for purge", ino);
	return 0;
}

/* ---- truncation and destruction -----------------------------------------*/

struct trunc_walk {
	struct ns_ctx *c;
	struct ns_sink *sink;
	uint64_t ino;
	uint64_t size;
	uint32_t object_size;
};

static int trunc_one(void *arg, const struct wire_obj *o)
{
	struct trunc_walk *t = arg;
	struct ns_ctx *c = t->c;
	uint64_t start = o->objno * (uint64_t)t->object_size;
	int rc;

	if (o->objno > UINT64_MAX / t->object_size || start >= t->size) {
		rc = db_obj_del(c->db, c->txn, t->ino, o->objno);
		if (rc)
			return ns_dberr(c, rc, "dropping an object", t->ino);
		return ns_sink_add(c, t->sink, t->ino, o);
	}
	if (start + o->length > t->size) {
		struct wire_obj trimmed = *o;

		trimmed.length = (uint32_t)(t->size - start);
		rc = db_obj_put(c->db, c->txn, t->ino, &trimmed);
		if (rc)
			return ns_dberr(c, rc, "trimming an object", t->ino);
	}
	return 0;
}

int ns_drop_objects(struct ns_ctx *c, uint64_t ino, uint32_t object_size,
		    uint64_t size, struct ns_sink *sink)
{
	struct trunc_walk t = { c, sink, ino, size, object_size };
	uint64_t first;
	int rc;

	if (!t.object_size)
		t.object_size = 1;
	/* The object holding byte size - 1 may need trimming. */
	first = size ? (size - 1) / t.object_size : 0;
	rc = db_obj_walk(c->db, c->txn, ino, first, trunc_one, &t);
	if (rc < 0)
		return c->err[0] ? rc : ns_dberr(c, rc, "truncating", ino);
	return 0;
}

int ns_truncate(struct ns_ctx *c, struct db_inode *in, uint64_t size,
		struct ns_sink *sink)
{
	struct ns_sink purge = { in->a.pool, 0, 0 };
	uint64_t ino = in->a.ino;
	int rc;

	if (!sink)
		sink = &purge;

	if (size < in->a.size) {
		const uint8_t *p;
		uint32_t len;

		rc = ns_drop_objects(c, ino, in->a.object_size, size, sink);
		if (rc)
			return rc;
		rc = db_inline_get(c->db, c->txn, ino, &p, &len);
		if (rc == 0 && len > size) {
			/* p points into the map: copy before rewriting. */
			uint8_t keep[STORE_INLINE_MAX];

			len = (uint32_t)MIN(size, sizeof(keep));
			memcpy(keep, p, len);
			rc = db_inline_put(c->db, c->txn, ino, keep, len);
		} else if (rc == -ENOENT) {
			rc = 0;
		}
		if (rc)
			return ns_dberr(c, rc, "truncating inline data", ino);
	}
	in->a.size = size;
	/* An empty file with no objects left is an (empty) inline file. */
	if (size == 0 && c->inline_max > 0 &&
	    !(in->a.flags & WIRE_ATTR_INLINE)) {
		in->a.flags |= WIRE_ATTR_INLINE;
		rc = db_inline_put(c->db, c->txn, ino, NULL, 0);
		if (rc)
			return ns_dberr(c, rc, "truncating", ino);
	}
	return 0;
}

int ns_destroy(struct ns_ctx *c, const struct db_inode *in)
{
	struct ns_sink purge = { in->a.pool, 0, 0 };
	uint64_t ino = in->a.ino;
	int rc = 0;

	if (S_ISREG(in->a.mode)) {
		rc = ns_drop_objects(c, ino, in->a.object_size, 0, &purge);
		if (rc)
			return rc;
	}
	rc = db_inline_del(c->db, c->txn, ino);
	if (rc == 0)
		rc = db_xattr_clear(c->db, c->txn, ino);
	if (rc == 0)
		rc = db_orphan_del(c->db, c->txn, ino);
	if (rc == 0)
		rc = db_inode_del(c->db, c->txn, ino);
	if (rc)
		return ns_dberr(c, rc, "removing an inode", ino);
	return 0;
}

int ns_drop_link(struct ns_ctx *c, struct db_inode *in, int keep)
{
	int rc;

	if (in->a.nlink > 0)
		in->a.nlink--;
	ns_changed(c, in);
	if (in->a.nlink > 0)
		return ns_put(c, in);
	if (!keep)
		return ns_destroy(c, in);
	rc = db_orphan_put(c->db, c->txn, in->a.ino, c->now);
	if (rc)
		return ns_dberr(c, rc, "recording an orphan", in->a.ino);
	return ns_put(c, in);
}

/* ---- requests served here -----------------------------------------------*/

int ns_lookup(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r)
{
	struct db_inode dir, in;
	struct db_dentry d;
	int rc = ns_get_dir(c, q->ino, &dir);

	if (rc)
		return rc;
	rc = db_dentry_get(c->db, c->txn, q->ino, q->name, &d);
	if (rc == -ENOENT)
		return ns_fail(c, rc, "no such file or directory: '%s' in "
			       "directory ino %llu", q->name,
			       (unsigned long long)q->ino);
	if (rc)
		return ns_dberr(c, rc, "looking up a name", q->ino);
	rc = ns_get(c, d.ino, &in);
	if (rc)
		return rc;
	r->attr = in.a;
	return 0;
}

static int ns_getattr(struct ns_ctx *c, const struct wire_ns_req *q,
		      struct wire_ns_reply *r)
{
	struct db_inode in;
	int rc = ns_get(c, q->ino, &in);

	if (rc)
		return rc;
	r->attr = in.a;
	return 0;
}

static int ns_session_open(struct ns_ctx *c, const struct wire_ns_req *q,
			   struct wire_ns_reply *r)
{
	struct db_inode root;
	uint64_t id;
	int rc = db_alloc_session(c->db, c->txn, &id);

	if (rc == -ENOSPC)
		return ns_fail(c, rc, "the cluster has given out every session "
			       "id (2^31)");
	if (rc)
		return ns_dberr(c, rc, "opening a session", 0);
	rc = db_session_put(c->db, c->txn, id,
			    q->name[0] ? q->name : "unknown", c->now);
	if (rc)
		return ns_dberr(c, rc, "opening a session", 0);
	rc = ns_get(c, DB_ROOT_INO, &root);
	if (rc)
		return rc;
	r->session_id = id;
	r->root_ino = DB_ROOT_INO;
	r->inline_max = c->inline_max;
	r->attr = root.a;
	return 0;
}

/* STATFS: capacity in 4 KiB blocks from the caller's figures; inodes in
 * use as f_files and "unlimited" free inodes (metadata space is not a
 * fixed table here), as CephFS reports them. */
static int ns_statfs(struct ns_ctx *c, const struct wire_ns_req *q,
		     struct wire_ns_reply *r)
{
	uint64_t n;
	int rc = db_inode_count(c->db, c->txn, &n);

	(void)q;
	if (rc)
		return ns_dberr(c, rc, "counting inodes", 0);
	r->f_blocks = c->bytes_total / 4096;
	r->f_bfree = MIN(c->bytes_free, c->bytes_total) / 4096;
	r->f_files = n;
	r->f_ffree = UINT64_MAX;
	return 0;
}

int ns_make_root(struct ns_ctx *c, uint32_t uid, uint32_t gid)
{
	struct db_inode root;

	memset(&root, 0, sizeof(root));
	root.a.ino = DB_ROOT_INO;
	root.a.mode = S_IFDIR | 0755;
	root.a.uid = uid;
	root.a.gid = gid;
	root.a.nlink = 2;
	root.a.atime_ns = root.a.mtime_ns = root.a.ctime_ns = c->now;
	root.a.gen = 1;
	root.parent = DB_ROOT_INO;
	root.next_seq = DB_FIRST_SEQ;
	return ns_put(c, &root);
}

int ns_is_write(unsigned type, const struct wire_ns_req *q)
{
	switch (type) {
	case WIRE_LOOKUP:
	case WIRE_GETATTR:
	case WIRE_READDIR:
	case WIRE_READLINK:
	case WIRE_OBJMAP:
	case WIRE_STATFS:
	case WIRE_XATTR_GET:
	case WIRE_XATTR_LIST:
		return 0;
	case WIRE_OPEN:
		return !!(q->flags & WIRE_CREATE_TRUNC);
	default:
		return 1;
	}
}

int ns_exec(struct ns_ctx *c, unsigned type, const struct wire_ns_req *q,
	    struct wire_ns_reply *r)
{
	memset(r, 0, sizeof(*r));
	c->err[0] = '\0';
	c->list.len = 0;
	c->list.err = 0;
	switch (type) {
	case WIRE_SESSION_OPEN:
		return ns_session_open(c, q, r);
	case WIRE_LOOKUP:
		return ns_lookup(c, q, r);
	case WIRE_GETATTR:
		return ns_getattr(c, q, r);
	case WIRE_SETATTR:
		return ns_setattr(c, q, r);
	case WIRE_MKDIR:
		return ns_mkdir(c, q, r);
	case WIRE_CREATE:
		return ns_create(c, q, r);
	case WIRE_CREATE_AT:
		return ns_create_at(c, q, r);
	case WIRE_INO_RESERVE:
		return ns_ino_reserve(c, q, r);
	case WIRE_READDIR:
		return ns_readdir(c, q, r);
	case WIRE_UNLINK:
		return ns_unlink(c, q, r);
	case WIRE_RMDIR:
		return ns_rmdir(c, q, r);
	case WIRE_RENAME:
		return ns_rename(c, q, r);
	case WIRE_SYMLINK:
		return ns_symlink(c, q, r);
	case WIRE_READLINK:
		return ns_readlink(c, q, r);
	case WIRE_LINK:
		return ns_link(c, q, r);
	case WIRE_OPEN:
		return ns_open(c, q, r);
	case WIRE_COMMIT:
		return ns_commit(c, q, r);
	case WIRE_OBJMAP:
		return ns_objmap(c, q, r);
	case WIRE_STATFS:
		return ns_statfs(c, q, r);
	case WIRE_XATTR_GET:
		return ns_xattr_get(c, q, r);
	case WIRE_XATTR_SET:
		return ns_xattr_set(c, q, r);
	case WIRE_XATTR_LIST:
		return ns_xattr_list(c, q, r);
	case WIRE_XATTR_REMOVE:
		return ns_xattr_remove(c, q, r);
	default:
		return ns_fail(c, -EOPNOTSUPP, "%s is not a namespace request",
			       wire_type_name(type));
	}
}
