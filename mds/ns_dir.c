/*
 * ns_dir.c -- directory operations: mkdir, create, symlink, link, unlink,
 * rmdir, rename, readdir.  See ns.h.
 *
 * A directory's inode counts its entries in `size` and its subdirectories
 * in `nlink` (2 + subdirectories); every entry has a listing cookie taken
 * from the directory's `next_seq`, which only grows, so a cookie handed to
 * a client stays meaningful however the directory changes.
 */
#include "ns_priv.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bound on the walk up from a directory to the root (rename's loop check):
 * far beyond any real tree, and it stops a damaged parent chain. */
#define NS_DEPTH_MAX 100000

static int no_entry(struct ns_ctx *c, const char *name, uint64_t dir)
{
	return ns_fail(c, -ENOENT, "no such file or directory: '%s' in "
		       "directory ino %llu", name, ns_ull(dir));
}

/* Look up name in dir: 0, -ENOENT (no sentence), or -errno with one. */
static int find_entry(struct ns_ctx *c, uint64_t dir, const char *name,
		struct db_dentry *d)
{
	int rc = db_dentry_get(c->db, c->txn, dir, name, d);

	if (rc && rc != -ENOENT)
		return ns_dberr(c, rc, "looking up a name", dir);
	return rc;
}

/* Add entry name -> in to dir (which the caller stores afterwards). */
static int add_entry(struct ns_ctx *c, struct db_inode *dir, const char *name,
		     const struct db_inode *in)
{
	struct db_dentry d = { in->a.ino, in->a.mode & S_IFMT,
			       dir->next_seq++ };
	int rc = db_dentry_put(c->db, c->txn, dir->a.ino, name, &d);

	if (rc)
		return ns_dberr(c, rc, "adding a directory entry", dir->a.ino);
	dir->a.size++;
	if (S_ISDIR(in->a.mode))
		dir->a.nlink++;
	ns_dir_changed(c, dir);
	return 0;
}

/* Remove entry name (found as d, of an inode of type d->type) from dir. */
static int del_entry(struct ns_ctx *c, struct db_inode *dir, const char *name,
		     const struct db_dentry *d)
{
	int rc = db_dentry_del(c->db, c->txn, dir->a.ino, name, d);

	if (rc)
		return ns_dberr(c, rc, "removing a directory entry",
				dir->a.ino);
	if (dir->a.size > 0)
		dir->a.size--;
	if (S_ISDIR(d->type) && dir->a.nlink > 2)
		dir->a.nlink--;
	ns_dir_changed(c, dir);
	return 0;
}

/* Create a new inode named name in dir (checked to be free).  mode holds
 * the type; ino is the new inode's number, or 0 for the next free one.
 * The new inode is stored, with the entry and the directory. */
static int make_node(struct ns_ctx *c, const struct wire_ns_req *q,
		     uint32_t mode, uint64_t ino, struct db_inode *in)
{
	struct db_inode dir;
	struct db_dentry d;
	int rc = ns_get_dir(c, q->ino, &dir);

	if (rc)
		return rc;
	rc = find_entry(c, q->ino, q->name, &d);
	if (rc == 0)
		return ns_fail(c, -EEXIST, "'%s' already exists in directory "
			       "ino %llu", q->name, ns_ull(q->ino));
	if (rc != -ENOENT)
		return rc;
	memset(in, 0, sizeof(*in));
	in->a.ino = ino;
	rc = ino ? 0 : db_alloc_ino(c->db, c->txn, &in->a.ino);
	if (rc)
		return ns_dberr(c, rc, "allocating an inode", q->ino);
	in->a.mode = mode;
	in->a.uid = q->uid;
	in->a.gid = q->gid;
	/* BSD group semantics on a set-group-ID directory, as Linux does. */
	if (dir.a.mode & S_ISGID) {
		in->a.gid = dir.a.gid;
		if (S_ISDIR(mode))
			in->a.mode |= S_ISGID;
	}
	in->a.nlink = S_ISDIR(mode) ? 2 : 1;
	in->a.atime_ns = in->a.mtime_ns = in->a.ctime_ns = c->now;
	in->a.gen = 1;
	if (S_ISDIR(mode)) {
		in->parent = dir.a.ino;
		in->next_seq = DB_FIRST_SEQ;
	}
	rc = add_entry(c, &dir, q->name, in);
	if (rc == 0)
		rc = ns_put(c, &dir);
	if (rc == 0)
		rc = ns_put(c, in);
	return rc;
}

int ns_mkdir(struct ns_ctx *c, const struct wire_ns_req *q,
	     struct wire_ns_reply *r)
{
	struct db_inode in;
	int rc = make_node(c, q, S_IFDIR | (q->mode & 07777), 0, &in);

	if (rc == 0)
		r->attr = in.a;
	return rc;
}

/* A new regular file starts as an empty inline file when the small-file
 * path is on, so that opening it needs no object lookups. */
static int init_file(struct ns_ctx *c, struct db_inode *in)
{
	int rc;

	in->a.pool = c->pool;
	in->a.object_size = c->object_size;
	if (!c->inline_max)
		return 0;
	in->a.flags |= WIRE_ATTR_INLINE;
	rc = db_inline_put(c->db, c->txn, in->a.ino, NULL, 0);
	if (rc)
		return ns_dberr(c, rc, "creating a file", in->a.ino);
	return ns_put(c, in);
}

int ns_create(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r)
{
	uint32_t type = q->mode & S_IFMT;
	struct db_inode dir, in;
	struct db_dentry d;
	int rc;

	if (q->flags & ~(uint32_t)(WIRE_CREATE_EXCL | WIRE_CREATE_TRUNC))
		return ns_fail(c, -EINVAL, "CREATE of '%s': unknown flags "
			       "0x%x", q->name, q->flags);
	if (type == 0)
		type = S_IFREG;
	if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK)
		return ns_fail(c, -EINVAL, "cannot create '%s': CREATE makes "
			       "regular files, FIFOs and sockets only "
			       "(mode 0%o)", q->name, q->mode);
	rc = ns_get_dir(c, q->ino, &dir);
	if (rc)
		return rc;
	rc = find_entry(c, q->ino, q->name, &d);
	if (rc == 0) {
		if (q->flags & WIRE_CREATE_EXCL)
			return ns_fail(c, -EEXIST, "'%s' already exists in "
				       "directory ino %llu", q->name,
				       ns_ull(q->ino));
		rc = ns_get(c, d.ino, &in);
		if (rc)
			return rc;
		if (S_ISDIR(in.a.mode))
			return ns_fail(c, -EISDIR, "'%s' in directory ino %llu "
				       "is a directory", q->name, ns_ull(q->ino));
		if ((q->flags & WIRE_CREATE_TRUNC) && S_ISREG(in.a.mode) &&
		    in.a.size > 0) {
			rc = ns_truncate(c, &in, 0, NULL);
			if (rc)
				return rc;
			in.a.mtime_ns = c->now;
			ns_changed(c, &in);
			rc = ns_put(c, &in);
			if (rc)
				return rc;
		}
		r->attr = in.a;
		return 0;
	}
	if (rc != -ENOENT)
		return rc;
	rc = make_node(c, q, type | (q->mode & 07777), 0, &in);
	if (rc == 0 && type == S_IFREG)
		rc = init_file(c, &in);
	if (rc == 0)
		r->attr = in.a;
	return rc;
}

int ns_create_at(struct ns_ctx *c, const struct wire_ns_req *q,
		 struct wire_ns_reply *r)
{
	const uint32_t known = WIRE_CREATE_EXCL | WIRE_CREATE_AT_COMMIT;
	struct wire_ns_req *cq;
	struct db_super s;
	struct db_inode in;
	int rc;

	if (q->flags & ~known)
		return ns_fail(c, -EINVAL, "CREATE_AT of '%s': unknown flags "
			       "0x%x", q->name, q->flags);
	if ((q->mode & S_IFMT) && (q->mode & S_IFMT) != S_IFREG)
		return ns_fail(c, -EINVAL, "CREATE_AT of '%s' makes regular "
			       "files only (mode 0%o)", q->name, q->mode);
	/* Only a number INO_RESERVE handed out, and no inode has now. */
	rc = db_super_get(c->db, c->txn, &s);
	if (rc)
		return ns_dberr(c, rc, "reading the superblock", q->ino);
	if (q->ino2 <= DB_ROOT_INO || q->ino2 >= s.next_ino)
		return ns_fail(c, -EINVAL, "CREATE_AT of '%s': inode %llu was "
			       "never reserved", q->name, ns_ull(q->ino2));
	rc = ns_get(c, q->ino2, &in);
	if (rc == 0)
		return ns_fail(c, -EEXIST, "CREATE_AT of '%s': inode %llu "
			       "exists", q->name, ns_ull(q->ino2));
	if (rc != -ENOENT)
		return rc;
	c->err[0] = '\0';
	rc = make_node(c, q, S_IFREG | (q->mode & 07777), q->ino2, &in);
	if (rc == 0)
		rc = init_file(c, &in);
	if (rc)
		return rc;
	r->attr = in.a;
	if (!(q->flags & WIRE_CREATE_AT_COMMIT))
		return 0;
	/* The file's whole data and times, as its first COMMIT: a small
	 * file costs one transaction from create to close. */
	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return ns_fail(c, -ENOMEM, "out of memory");
	cq->ino = in.a.ino;
	cq->flags = WIRE_COMMIT_INLINE;
	cq->valid = q->valid & (WIRE_SET_ATIME | WIRE_SET_MTIME |
				WIRE_SET_ATIME_NOW | WIRE_SET_MTIME_NOW);
	cq->atime_ns = q->atime_ns;
	cq->mtime_ns = q->mtime_ns;
	cq->data = q->data;
	cq->data_len = q->data_len;
	rc = ns_commit(c, cq, r);
	free(cq);
	return rc;
}

int ns_ino_reserve(struct ns_ctx *c, const struct wire_ns_req *q,
		   struct wire_ns_reply *r)
{
	struct db_super s;
	int rc;

	if (q->max == 0 || q->max > WIRE_INO_RESERVE_MAX)
		return ns_fail(c, -EINVAL, "INO_RESERVE of %u inodes: from 1 "
			       "to %u at a time", q->max,
			       WIRE_INO_RESERVE_MAX);
	rc = db_super_get(c->db, c->txn, &s);
	if (rc)
		return ns_dberr(c, rc, "reading the superblock", q->ino);
	if (s.next_ino + q->max >= (1ull << 62))
		return ns_fail(c, -ENOSPC, "no inode numbers left");
	r->attr.ino = s.next_ino;
	r->attr.size = q->max;
	s.next_ino += q->max;
	rc = db_super_put(c->db, c->txn, &s);
	if (rc)
		return ns_dberr(c, rc, "reserving inodes", q->ino);
	return 0;
}

int ns_symlink(struct ns_ctx *c, const struct wire_ns_req *q,
	       struct wire_ns_reply *r)
{
	size_t len = strlen(q->target);
	struct db_inode in;
	int rc = make_node(c, q, S_IFLNK | 0777, 0, &in);

	if (rc)
		return rc;
	in.a.size = len;
	rc = db_inline_put(c->db, c->txn, in.a.ino, q->target, (uint32_t)len);
	if (rc)
		return ns_dberr(c, rc, "storing a symlink target", in.a.ino);
	rc = ns_put(c, &in);
	if (rc == 0)
		r->attr = in.a;
	return rc;
}

int ns_readlink(struct ns_ctx *c, const struct wire_ns_req *q,
		struct wire_ns_reply *r)
{
	struct db_inode in;
	const uint8_t *p;
	uint32_t len;
	int rc = ns_get(c, q->ino, &in);

	if (rc)
		return rc;
	if (!S_ISLNK(in.a.mode))
		return ns_fail(c, -EINVAL, "inode %llu is not a symbolic link",
			       ns_ull(q->ino));
	rc = db_inline_get(c->db, c->txn, q->ino, &p, &len);
	if (rc == 0 && (len == 0 || len > STORE_PATH_MAX ||
			memchr(p, '\0', len)))
		rc = -EUCLEAN;
	if (rc)
		return ns_dberr(c, rc, "reading a symlink target", q->ino);
	memcpy(r->target, p, len);
	r->target[len] = '\0';
	return 0;
}

int ns_link(struct ns_ctx *c, const struct wire_ns_req *q,
	    struct wire_ns_reply *r)
{
	struct db_inode in, dir;
	struct db_dentry d;
	int rc = ns_get(c, q->ino, &in);

	if (rc)
		return rc;
	if (S_ISDIR(in.a.mode))
		return ns_fail(c, -EPERM, "cannot hard-link directory ino %llu",
			       ns_ull(q->ino));
	if (in.a.nlink == 0)
		return ns_fail(c, -ENOENT, "inode %llu has been unlinked: it "
			       "cannot be linked again", ns_ull(q->ino));
	if (in.a.nlink >= DB_LINK_MAX)
		return ns_fail(c, -EMLINK, "inode %llu already has %u links",
			       ns_ull(q->ino), in.a.nlink);
	rc = ns_get_dir(c, q->ino2, &dir);
	if (rc)
		return rc;
	rc = find_entry(c, q->ino2, q->name2, &d);
	if (rc == 0)
		return ns_fail(c, -EEXIST, "'%s' already exists in directory "
			       "ino %llu", q->name2, ns_ull(q->ino2));
	if (rc != -ENOENT)
		return rc;
	rc = add_entry(c, &dir, q->name2, &in);
	if (rc == 0)
		rc = ns_put(c, &dir);
	if (rc)
		return rc;
	in.a.nlink++;
	ns_changed(c, &in);
	rc = ns_put(c, &in);
	if (rc == 0)
		r->attr = in.a;
	return rc;
}

int ns_unlink(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r)
{
	struct db_inode dir, in;
	struct db_dentry d;
	int rc;

	if (q->flags & ~(uint32_t)WIRE_UNLINK_KEEP)
		return ns_fail(c, -EINVAL, "UNLINK of '%s': unknown flags 0x%x",
			       q->name, q->flags);
	rc = ns_get_dir(c, q->ino, &dir);
	if (rc)
		return rc;
	rc = find_entry(c, q->ino, q->name, &d);
	if (rc == -ENOENT)
		return no_entry(c, q->name, q->ino);
	if (rc)
		return rc;
	rc = ns_get(c, d.ino, &in);
	if (rc)
		return rc;
	if (S_ISDIR(in.a.mode))
		return ns_fail(c, -EISDIR, "'%s' in directory ino %llu is a "
			       "directory: use rmdir", q->name, ns_ull(q->ino));
	rc = del_entry(c, &dir, q->name, &d);
	if (rc == 0)
		rc = ns_put(c, &dir);
	if (rc == 0)
		rc = ns_drop_link(c, &in, q->flags & WIRE_UNLINK_KEEP);
	if (rc == 0)
		r->attr = in.a;
	return rc;
}

int ns_rmdir(struct ns_ctx *c, const struct wire_ns_req *q,
	     struct wire_ns_reply *r)
{
	struct db_inode dir, in;
	struct db_dentry d;
	int rc = ns_get_dir(c, q->ino, &dir);

	if (rc)
		return rc;
	rc = find_entry(c, q->ino, q->name, &d);
	if (rc == -ENOENT)
		return no_entry(c, q->name, q->ino);
	if (rc)
		return rc;
	rc = ns_get(c, d.ino, &in);
	if (rc)
		return rc;
	if (!S_ISDIR(in.a.mode))
		return ns_fail(c, -ENOTDIR, "'%s' in directory ino %llu is not "
			       "a directory", q->name, ns_ull(q->ino));
	rc = db_dir_empty(c->db, c->txn, in.a.ino);
	if (rc < 0)
		return ns_dberr(c, rc, "checking a directory", in.a.ino);
	if (rc == 0)
		return ns_fail(c, -ENOTEMPTY, "directory '%s' (ino %llu) is "
			       "not empty", q->name, ns_ull(in.a.ino));
	rc = del_entry(c, &dir, q->name, &d);
	if (rc == 0)
		rc = ns_put(c, &dir);
	if (rc == 0)
		rc = ns_destroy(c, &in);
	if (rc)
		return rc;
	in.a.nlink = 0;
	ns_changed(c, &in);
	r->attr = in.a;
	return 0;
}

/* ---- rename -------------------------------------------------------------*/

/* Is directory `anc` the directory `dir` or one of its ancestors?  1, 0
 * or -errno. */
static int is_ancestor(struct ns_ctx *c, uint64_t anc, uint64_t dir)
{
	for (int depth = 0; depth < NS_DEPTH_MAX; depth++) {
		struct db_inode in;
		int rc;

		if (dir == anc)
			return 1;
		if (dir == DB_ROOT_INO)
			return 0;
		rc = ns_get(c, dir, &in);
		if (rc)
			return rc;
		dir = in.parent;
	}
	return ns_fail(c, -ELOOP, "directory tree deeper than %d levels "
		       "above ino %llu", NS_DEPTH_MAX, ns_ull(dir));
}

/* One side of a rename: a directory and an entry in it. */
struct side {
	struct db_inode *dir; /* may be the other side's dir */
	const char *name;
	int found;
	struct db_dentry d;
	struct db_inode in;
};

/* Move entry `from` (its inode from->in) into `to` under to->name; the
 * entry there, if any, must have been removed already. */
static int move_entry(struct ns_ctx *c, struct side *from, struct side *to)
{
	int rc = del_entry(c, from->dir, from->name, &from->d);

	if (rc)
		return rc;
	rc = add_entry(c, to->dir, to->name, &from->in);
	if (rc)
		return rc;
	if (S_ISDIR(from->in.a.mode))
		from->in.parent = to->dir->a.ino;
	ns_changed(c, &from->in);
	return ns_put(c, &from->in);
}

static int check_loop(struct ns_ctx *c, const struct side *mover,
		      const struct side *to)
{
	int rc;

	if (!S_ISDIR(mover->in.a.mode) || mover->dir == to->dir)
		return 0;
	rc = is_ancestor(c, mover->in.a.ino, to->dir->a.ino);
	if (rc < 0)
		return rc;
	if (rc)
		return ns_fail(c, -EINVAL, "cannot move directory '%s' (ino "
			       "%llu) into itself or its own subdirectory",
			       mover->name, ns_ull(mover->in.a.ino));
	return 0;
}

static int rename_exchange(struct ns_ctx *c, struct side *a, struct side *b)
{
	int rc = check_loop(c, a, b);

	if (rc == 0)
		rc = check_loop(c, b, a);
	if (rc)
		return rc;
	/* Remove both entries first so that re-adding cannot collide. */
	rc = del_entry(c, a->dir, a->name, &a->d);
	if (rc == 0)
		rc = del_entry(c, b->dir, b->name, &b->d);
	if (rc == 0)
		rc = add_entry(c, b->dir, b->name, &a->in);
	if (rc == 0)
		rc = add_entry(c, a->dir, a->name, &b->in);
	if (rc)
		return rc;
	if (S_ISDIR(a->in.a.mode))
		a->in.parent = b->dir->a.ino;
	if (S_ISDIR(b->in.a.mode))
		b->in.parent = a->dir->a.ino;
	ns_changed(c, &a->in);
	ns_changed(c, &b->in);
	rc = ns_put(c, &a->in);
	if (rc == 0)
		rc = ns_put(c, &b->in);
	return rc;
}

int ns_rename(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r)
{
	const uint32_t known = WIRE_RENAME_NOREPLACE | WIRE_RENAME_EXCHANGE |
			       NS_RENAME_KEEP;
	struct db_inode dir1, dir2;
	struct side src = { &dir1, q->name, 0, { 0, 0, 0 }, { { 0 }, 0, 0 } };
	struct side dst = { &dir2, q->name2, 0, { 0, 0, 0 }, { { 0 }, 0, 0 } };
	int same_dir = q->ino == q->ino2;
	int rc;

	if ((q->flags & ~known) ||
	    ((q->flags & WIRE_RENAME_NOREPLACE) &&
	     (q->flags & WIRE_RENAME_EXCHANGE)))
		return ns_fail(c, -EINVAL, "RENAME of '%s': invalid flags 0x%x",
			       q->name, q->flags);
	rc = ns_get_dir(c, q->ino, &dir1);
	if (rc)
		return rc;
	if (same_dir)
		dst.dir = &dir1;
	else if ((rc = ns_get_dir(c, q->ino2, &dir2)))
		return rc;
	rc = find_entry(c, q->ino, q->name, &src.d);
	if (rc == -ENOENT)
		return no_entry(c, q->name, q->ino);
	if (rc)
		return rc;
	rc = ns_get(c, src.d.ino, &src.in);
	if (rc)
		return rc;
	rc = find_entry(c, q->ino2, q->name2, &dst.d);
	if (rc && rc != -ENOENT)
		return rc;
	dst.found = rc == 0;
	if (dst.found && (q->flags & WIRE_RENAME_NOREPLACE))
		return ns_fail(c, -EEXIST, "'%s' already exists in directory "
			       "ino %llu", q->name2, ns_ull(q->ino2));
	if (dst.found && dst.d.ino == src.d.ino)
		return 0; /* the same inode (or the same name): nothing to do */
	if (dst.found) {
		rc = ns_get(c, dst.d.ino, &dst.in);
		if (rc)
			return rc;
	}
	if (q->flags & WIRE_RENAME_EXCHANGE) {
		if (!dst.found)
			return no_entry(c, q->name2, q->ino2);
		rc = rename_exchange(c, &src, &dst);
		goto store;
	}
	rc = check_loop(c, &src, &dst);
	if (rc)
		return rc;
	if (dst.found) {
		int sdir = S_ISDIR(src.in.a.mode), ddir = S_ISDIR(dst.in.a.mode);

		if (sdir && !ddir)
			return ns_fail(c, -ENOTDIR, "cannot replace '%s' in "
				       "directory ino %llu, not a directory, "
				       "with directory '%s'", q->name2,
				       ns_ull(q->ino2), q->name);
		if (!sdir && ddir)
			return ns_fail(c, -EISDIR, "cannot replace directory "
				       "'%s' in directory ino %llu with '%s', "
				       "not a directory", q->name2,
				       ns_ull(q->ino2), q->name);
		if (ddir) {
			rc = db_dir_empty(c->db, c->txn, dst.in.a.ino);
			if (rc < 0)
				return ns_dberr(c, rc, "checking a directory",
						dst.in.a.ino);
			if (rc == 0)
				return ns_fail(c, -ENOTEMPTY, "directory '%s' "
					       "(ino %llu) is not empty",
					       q->name2, ns_ull(dst.in.a.ino));
		}
		rc = del_entry(c, dst.dir, dst.name, &dst.d);
		if (rc)
			return rc;
		if (ddir) {
			rc = ns_destroy(c, &dst.in);
			dst.in.a.nlink = 0;
			ns_changed(c, &dst.in);
		} else {
			rc = ns_drop_link(c, &dst.in,
					  q->flags & NS_RENAME_KEEP);
		}
		if (rc)
			return rc;
		r->attr = dst.in.a;
	}
	rc = move_entry(c, &src, &dst);
store:
	if (rc == 0)
		rc = ns_put(c, &dir1);
	if (rc == 0 && !same_dir)
		rc = ns_put(c, &dir2);
	if (rc == 0 && (q->flags & WIRE_RENAME_EXCHANGE))
		r->attr = dst.in.a;
	return rc;
}

/* ---- readdir ------------------------------------------------------------*/

struct readdir_walk {
	struct ns_ctx *c;
	uint32_t max;
	uint32_t count;
	int plus;
	int more;
};

static int readdir_one(void *arg, uint64_t cookie, uint64_t ino,
		       uint32_t type, const char *name)
{
	struct readdir_walk *w = arg;
	struct wire_dirent d;
	struct db_inode in;
	int rc;

	if (w->count >= w->max) {
		w->more = 1;
		return 1;
	}
	memset(&d, 0, sizeof(d));
	d.cookie = cookie;
	d.ino = ino;
	d.type = type;
	memcpy(d.name, name, strlen(name) + 1);
	if (w->plus) {
		rc = ns_get(w->c, ino, &in);
		if (rc)
			return rc;
		d.attr = in.a;
	}
	wire_enc_dirent(&w->c->list, &d, w->plus);
	if (w->c->list.err)
		return ns_fail(w->c, w->c->list.err, "out of memory listing "
			       "a directory");
	w->count++;
	return 0;
}

int ns_readdir(struct ns_ctx *c, const struct wire_ns_req *q,
	       struct wire_ns_reply *r)
{
	struct readdir_walk w = { c, q->max ? q->max : STORE_LIST_MAX, 0,
				  !!(q->flags & WIRE_READDIR_PLUS), 0 };
	struct db_inode dir;
	int rc = ns_get_dir(c, q->ino, &dir);

	if (rc)
		return rc;
	rc = db_dir_walk(c->db, c->txn, q->ino, q->cookie, readdir_one, &w);
	if (rc < 0)
		return c->err[0] ? rc :
				   ns_dberr(c, rc, "listing a directory", q->ino);
	r->count = w.count;
	r->more = (uint8_t)w.more;
	r->plus = (uint8_t)w.plus;
	wire_ns_set_list(&r->entries, &c->list);
	return 0;
}
