/*
 * ns_file.c -- file data and attributes: setattr (truncation), open,
 * commit of new object versions or inline data, the object map, and
 * extended attributes.  See ns.h and the COMMIT section of
 * docs/protocol.md.
 *
 * A regular file's data is either inline (WIRE_ATTR_INLINE: the bytes are
 * in the `inline` table; bytes past them up to the size read as zeros) or
 * a set of objects, each with a committed version and the number of bytes
 * of file data it holds.
 */
#include "ns_priv.h"
#include "util.h"

#include <errno.h>
#include <string.h>

static int need_file(struct ns_ctx *c, const struct db_inode *in,
		     const char *what)
{
	if (S_ISREG(in->a.mode))
		return 0;
	if (S_ISDIR(in->a.mode))
		return ns_fail(c, -EISDIR, "cannot %s inode %llu: it is a "
			       "directory", what, ns_ull(in->a.ino));
	return ns_fail(c, -EINVAL, "cannot %s inode %llu: not a regular "
		       "file (mode 0%o)", what, ns_ull(in->a.ino), in->a.mode);
}

int ns_setattr(struct ns_ctx *c, const struct wire_ns_req *q,
	       struct wire_ns_reply *r)
{
	struct db_inode in;
	uint32_t v = q->valid;
	int rc = ns_get(c, q->ino, &in);

	if (rc)
		return rc;
	if (v & WIRE_SET_SIZE) {
		rc = need_file(c, &in, "truncate");
		if (rc)
			return rc;
		if (q->size != in.a.size) {
			rc = ns_truncate(c, &in, q->size, NULL);
			if (rc)
				return rc;
			/* truncate(2) sets mtime unless told otherwise. */
			if (!(v & (WIRE_SET_MTIME | WIRE_SET_MTIME_NOW)))
				in.a.mtime_ns = c->now;
		}
	}
	if (v & WIRE_SET_MODE)
		in.a.mode = (in.a.mode & S_IFMT) | (q->mode & 07777);
	if (v & WIRE_SET_UID)
		in.a.uid = q->uid;
	if (v & WIRE_SET_GID)
		in.a.gid = q->gid;
	if (v & WIRE_SET_ATIME_NOW)
		in.a.atime_ns = c->now;
	else if (v & WIRE_SET_ATIME)
		in.a.atime_ns = q->atime_ns;
	if (v & WIRE_SET_MTIME_NOW)
		in.a.mtime_ns = c->now;
	else if (v & WIRE_SET_MTIME)
		in.a.mtime_ns = q->mtime_ns;
	ns_changed(c, &in);
	rc = ns_put(c, &in);
	if (rc == 0)
		r->attr = in.a;
	return rc;
}

int ns_open(struct ns_ctx *c, const struct wire_ns_req *q,
	    struct wire_ns_reply *r)
{
	struct db_inode in;
	int rc;

	if (q->flags & ~(uint32_t)WIRE_CREATE_TRUNC)
		return ns_fail(c, -EINVAL, "OPEN of inode %llu: unknown flags "
			       "0x%x", ns_ull(q->ino), q->flags);
	rc = ns_get(c, q->ino, &in);
	if (rc)
		return rc;
	if (S_ISDIR(in.a.mode))
		return ns_fail(c, -EISDIR, "cannot open inode %llu for data: "
			       "it is a directory", ns_ull(q->ino));
	if (S_ISLNK(in.a.mode))
		return ns_fail(c, -ELOOP, "cannot open inode %llu for data: "
			       "it is a symbolic link", ns_ull(q->ino));
	if ((q->flags & WIRE_CREATE_TRUNC) && S_ISREG(in.a.mode)) {
		rc = ns_truncate(c, &in, 0, NULL);
		if (rc)
			return rc;
		in.a.mtime_ns = c->now;
		ns_changed(c, &in);
		rc = ns_put(c, &in);
		if (rc)
			return rc;
	}
	if (in.a.flags & WIRE_ATTR_INLINE) {
		rc = db_inline_get(c->db, c->txn, in.a.ino, &r->data,
				   &r->data_len);
		if (rc == -ENOENT)
			rc = 0;
		if (rc == 0 && r->data_len > STORE_INLINE_MAX)
			rc = -EUCLEAN;
		if (rc)
			return ns_dberr(c, rc, "reading inline data", q->ino);
	}
	r->attr = in.a;
	return 0;
}

/* Replace the objects named in a COMMIT; *end gets the furthest byte of
 * file data they hold. */
static int commit_objects(struct ns_ctx *c, struct db_inode *in,
			  const struct wire_ns_req *q, struct ns_sink *sink,
			  uint64_t *end)
{
	struct rbuf list = q->objs;
	uint64_t os = in->a.object_size ? in->a.object_size : 1;
	struct wire_obj o;
	int rc;

	*end = 0;
	/* Validate all first: a bad entry must not leave half a commit. */
	while (wire_next_obj(&list, &o)) {
		if (o.length > os)
			return ns_fail(c, -EINVAL, "COMMIT of inode %llu: "
				       "object %llu holds %u bytes, more than "
				       "the file's object size %llu",
				       ns_ull(in->a.ino), ns_ull(o.objno), o.length,
				       ns_ull(os));
		if (o.objno > (uint64_t)(INT64_MAX - o.length) / os)
			return ns_fail(c, -EFBIG, "COMMIT of inode %llu: "
				       "object %llu lies past the largest file "
				       "size", ns_ull(in->a.ino), ns_ull(o.objno));
	}
	list = q->objs;
	while (wire_next_obj(&list, &o)) {
		struct wire_obj old;

		rc = db_obj_get(c->db, c->txn, in->a.ino, o.objno, &old);
		if (rc == 0 && old.version != o.version) {
			rc = ns_sink_add(c, sink, in->a.ino, &old);
			if (rc)
				return rc;
		} else if (rc && rc != -ENOENT) {
			return ns_dberr(c, rc, "reading an object", in->a.ino);
		}
		rc = db_obj_put(c->db, c->txn, in->a.ino, &o);
		if (rc)
			return ns_dberr(c, rc, "committing an object",
					in->a.ino);
		*end = MAX(*end, o.objno * os + o.length);
	}
	return 0;
}

int ns_commit(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r)
{
	const uint32_t known = WIRE_COMMIT_TRUNC | WIRE_COMMIT_INLINE |
			       WIRE_COMMIT_MTIME | WIRE_COMMIT_RELEASE;
	struct db_inode in;
	struct ns_sink sink;
	uint64_t size;
	int rc;

	if (q->flags & ~known)
		return ns_fail(c, -EINVAL, "COMMIT of inode %llu: unknown flags "
			       "0x%x", ns_ull(q->ino), q->flags);
	if ((q->flags & WIRE_COMMIT_INLINE) && q->n_objs)
		return ns_fail(c, -EINVAL, "COMMIT of inode %llu: inline data "
			       "and object versions in one request",
			       ns_ull(q->ino));
	if (!(q->flags & WIRE_COMMIT_INLINE) && q->data_len)
		return ns_fail(c, -EINVAL, "COMMIT of inode %llu: data without "
			       "the INLINE flag", ns_ull(q->ino));
	rc = ns_get(c, q->ino, &in);
	if (rc)
		return rc;
	rc = need_file(c, &in, "commit data to");
	if (rc)
		return rc;
	sink.pool = in.a.pool;
	sink.count = 0;
	sink.max = STORE_LIST_MAX;
	size = in.a.size;
	if (q->flags & WIRE_COMMIT_INLINE) {
		if (q->data_len > c->inline_max)
			return ns_fail(c, -EFBIG, "COMMIT of inode %llu: %u bytes "
				       "of inline data, more than this MDS's "
				       "inline_max of %u", ns_ull(q->ino),
				       q->data_len, c->inline_max);
		rc = ns_drop_objects(c, in.a.ino, in.a.object_size, 0, &sink);
		if (rc)
			return rc;
		rc = db_inline_put(c->db, c->txn, in.a.ino, q->data,
				   q->data_len);
		if (rc)
			return ns_dberr(c, rc, "storing inline data", q->ino);
		in.a.flags |= WIRE_ATTR_INLINE;
		size = q->data_len;
	} else if (q->n_objs) {
		uint64_t end;

		rc = commit_objects(c, &in, q, &sink, &end);
		if (rc)
			return rc;
		if (in.a.flags & WIRE_ATTR_INLINE) {
			rc = db_inline_del(c->db, c->txn, in.a.ino);
			if (rc)
				return ns_dberr(c, rc, "dropping inline data",
						q->ino);
			in.a.flags &= ~(uint32_t)WIRE_ATTR_INLINE;
		}
		size = MAX(size, end);
	}
	in.a.size = size;
	if (q->valid & WIRE_SET_SIZE) {
		if ((q->flags & WIRE_COMMIT_TRUNC) && q->size < size) {
			rc = ns_truncate(c, &in, q->size, &sink);
			if (rc)
				return rc;
		} else if ((q->flags & WIRE_COMMIT_TRUNC) || q->size > size) {
			in.a.size = q->size;
		}
	}
	if (q->valid & WIRE_SET_MTIME_NOW)
		in.a.mtime_ns = c->now;
	else if ((q->flags & WIRE_COMMIT_MTIME) || (q->valid & WIRE_SET_MTIME))
		in.a.mtime_ns = q->mtime_ns ? q->mtime_ns : c->now;
	if (q->valid & WIRE_SET_ATIME_NOW)
		in.a.atime_ns = c->now;
	else if (q->valid & WIRE_SET_ATIME)
		in.a.atime_ns = q->atime_ns;
	/* Attribute changes a client buffered for an open file ride with
	 * its data (one transaction per closed file, not one per chmod). */
	if (q->valid & WIRE_SET_MODE)
		in.a.mode = (in.a.mode & S_IFMT) | (q->mode & 07777);
	if (q->valid & WIRE_SET_UID)
		in.a.uid = q->uid;
	if (q->valid & WIRE_SET_GID)
		in.a.gid = q->gid;
	ns_changed(c, &in);
	if ((q->flags & WIRE_COMMIT_RELEASE) && in.a.nlink == 0) {
		/* The last close of an orphan: its objects go to the writer
		 * for deletion while the reply has room, the rest to the
		 * purge queue. */
		rc = ns_drop_objects(c, in.a.ino, in.a.object_size, 0, &sink);
		if (rc == 0)
			rc = ns_destroy(c, &in);
	} else {
		rc = ns_put(c, &in);
	}
	if (rc)
		return rc;
	r->attr = in.a;
	r->count = sink.count;
	wire_ns_set_list(&r->entries, &c->list);
	return 0;
}

struct objmap_walk {
	struct ns_ctx *c;
	uint32_t max, count;
	int more;
};

static int objmap_one(void *arg, const struct wire_obj *o)
{
	struct objmap_walk *w = arg;

	if (w->count >= w->max) {
		w->more = 1;
		return 1;
	}
	wire_enc_obj(&w->c->list, o);
	if (w->c->list.err)
		return ns_fail(w->c, w->c->list.err, "out of memory");
	w->count++;
	return 0;
}

int ns_objmap(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r)
{
	struct objmap_walk w = { c, q->max ? q->max : STORE_LIST_MAX, 0, 0 };
	struct db_inode in;
	int rc = ns_get(c, q->ino, &in);

	if (rc)
		return rc;
	if (S_ISREG(in.a.mode)) {
		rc = db_obj_walk(c->db, c->txn, q->ino, q->cookie, objmap_one,
				 &w);
		if (rc < 0)
			return c->err[0] ? rc :
				ns_dberr(c, rc, "listing objects", q->ino);
	}
	r->count = w.count;
	r->more = (uint8_t)w.more;
	wire_ns_set_list(&r->entries, &c->list);
	return 0;
}

/* ---- extended attributes ------------------------------------------------*/

/* Bytes a listxattr reply may hold: Linux's XATTR_LIST_MAX, which is also
 * the bound of a reply's data blob. */
#define NS_XATTR_LIST_MAX 65536

static int no_xattr(struct ns_ctx *c, const char *name, uint64_t ino)
{
	return ns_fail(c, -ENODATA, "no extended attribute '%s' on inode %llu",
		       name, ns_ull(ino));
}

int ns_xattr_get(struct ns_ctx *c, const struct wire_ns_req *q,
		 struct wire_ns_reply *r)
{
	struct db_inode in;
	int rc = ns_get(c, q->ino, &in);

	if (rc)
		return rc;
	rc = db_xattr_get(c->db, c->txn, q->ino, q->name, &r->data,
			  &r->data_len);
	if (rc == -ENODATA)
		return no_xattr(c, q->name, q->ino);
	if (rc)
		return ns_dberr(c, rc, "reading an xattr", q->ino);
	return 0;
}

static int list_size_one(void *arg, const char *name, size_t len)
{
	size_t *total = arg;

	(void)name;
	*total += len + 1;
	return 0;
}

int ns_xattr_set(struct ns_ctx *c, const struct wire_ns_req *q,
		 struct wire_ns_reply *r)
{
	const uint32_t known = WIRE_XATTR_CREATE | WIRE_XATTR_REPLACE;
	struct db_inode in;
	const uint8_t *p;
	uint32_t len;
	int rc;

	(void)r;
	if (q->flags & ~known)
		return ns_fail(c, -EINVAL, "XATTR_SET '%s': unknown flags 0x%x",
			       q->name, q->flags);
	rc = ns_get(c, q->ino, &in);
	if (rc)
		return rc;
	rc = db_xattr_get(c->db, c->txn, q->ino, q->name, &p, &len);
	if (rc == 0 && (q->flags & WIRE_XATTR_CREATE))
		return ns_fail(c, -EEXIST, "extended attribute '%s' already "
			       "exists on inode %llu", q->name, ns_ull(q->ino));
	if (rc == -ENODATA) {
		size_t total = strlen(q->name) + 1;

		if (q->flags & WIRE_XATTR_REPLACE)
			return no_xattr(c, q->name, q->ino);
		rc = db_xattr_walk(c->db, c->txn, q->ino, list_size_one,
				   &total);
		if (rc == 0 && total > NS_XATTR_LIST_MAX)
			return ns_fail(c, -ENOSPC, "inode %llu has no room for "
				       "another extended attribute name (the "
				       "list is limited to %d bytes)",
				       ns_ull(q->ino), NS_XATTR_LIST_MAX);
	}
	if (rc)
		return ns_dberr(c, rc, "reading an xattr", q->ino);
	rc = db_xattr_put(c->db, c->txn, q->ino, q->name, q->data,
			  q->data_len);
	if (rc)
		return ns_dberr(c, rc, "storing an xattr", q->ino);
	ns_changed(c, &in);
	return ns_put(c, &in);
}

static int list_one(void *arg, const char *name, size_t len)
{
	struct ns_ctx *c = arg;

	if (c->list.len + len + 1 > NS_XATTR_LIST_MAX)
		return -E2BIG;
	wbuf_raw(&c->list, name, len + 1); /* with its NUL */
	return c->list.err;
}

int ns_xattr_list(struct ns_ctx *c, const struct wire_ns_req *q,
		  struct wire_ns_reply *r)
{
	struct db_inode in;
	int rc = ns_get(c, q->ino, &in);

	if (rc)
		return rc;
	rc = db_xattr_walk(c->db, c->txn, q->ino, list_one, c);
	if (rc == -E2BIG)
		return ns_fail(c, rc, "the extended attribute names of inode "
			       "%llu exceed %d bytes", ns_ull(q->ino),
			       NS_XATTR_LIST_MAX);
	if (rc)
		return ns_dberr(c, rc, "listing xattrs", q->ino);
	r->data = c->list.p;
	r->data_len = (uint32_t)c->list.len;
	return 0;
}

int ns_xattr_remove(struct ns_ctx *c, const struct wire_ns_req *q,
		    struct wire_ns_reply *r)
{
	struct db_inode in;
	int rc = ns_get(c, q->ino, &in);

	(void)r;
	if (rc)
		return rc;
	rc = db_xattr_del(c->db, c->txn, q->ino, q->name);
	if (rc == -ENODATA)
		return no_xattr(c, q->name, q->ino);
	if (rc)
		return ns_dberr(c, rc, "removing an xattr", q->ino);
	ns_changed(c, &in);
	return ns_put(c, &in);
}
