/*
 * ns_priv.h -- what the files of the namespace layer share: inode helpers,
 * error sentences and the handlers of each request type (ns.c, ns_dir.c,
 * ns_file.c).  Nobody outside mds/ns*.c includes this.
 */
#ifndef MDS_NS_PRIV_H
#define MDS_NS_PRIV_H

#include "ns.h"

#include <sys/stat.h>

/* For printing inode numbers with %llu. */
static inline unsigned long long ns_ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* Set c->err from a format and return rc. */
int ns_fail(struct ns_ctx *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A database failure that is not the user's doing, as a sentence. */
int ns_dberr(struct ns_ctx *c, int rc, const char *what, uint64_t ino);

/* Load an inode: -ENOENT ("no such inode N") when missing. */
int ns_get(struct ns_ctx *c, uint64_t ino, struct db_inode *in);
/* Load a directory: -ENOENT or -ENOTDIR with a sentence. */
int ns_get_dir(struct ns_ctx *c, uint64_t ino, struct db_inode *in);
/* Store an inode (bumping nothing). */
int ns_put(struct ns_ctx *c, const struct db_inode *in);
/* Record a change: ctime = now, gen + 1. */
void ns_changed(struct ns_ctx *c, struct db_inode *in);
/* A directory's entries changed: mtime = ctime = now, gen + 1. */
void ns_dir_changed(struct ns_ctx *c, struct db_inode *dir);

/* Where object versions that are no longer referenced go: into the
 * reply's list while it has room (count < max), else the purge queue. */
struct ns_sink {
	uint32_t pool;
	uint32_t count;
	uint32_t max;
};
int ns_sink_add(struct ns_ctx *c, struct ns_sink *s, uint64_t ino,
		const struct wire_obj *o);

/* Drop (into sink) every object of ino that starts at or past size and
 * trim the length of the one that straddles it. */
int ns_drop_objects(struct ns_ctx *c, uint64_t ino, uint32_t object_size,
		    uint64_t size, struct ns_sink *sink);

/* Cut a regular file to size bytes: objects wholly past it are dropped
 * (into sink, or the purge queue if sink is NULL), the last one's length
 * trimmed, inline data trimmed.  Sets
 * in->a.size; the caller stores the inode. */
int ns_truncate(struct ns_ctx *c, struct db_inode *in, uint64_t size,
		struct ns_sink *sink);

/* Remove an inode whose last link is gone: its objects (purged), inline
 * data, xattrs, orphan record and the inode itself. */
int ns_destroy(struct ns_ctx *c, const struct db_inode *in);

/* Drop one link of a non-directory inode (in is updated and stored, or
 * destroyed at nlink 0; with keep it becomes an orphan instead). */
int ns_drop_link(struct ns_ctx *c, struct db_inode *in, int keep);

/* Handlers, one per request type. */
int ns_lookup(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r);
int ns_mkdir(struct ns_ctx *c, const struct wire_ns_req *q,
	     struct wire_ns_reply *r);
/* CREATE_AT: create a regular file as an inode number the client
 * reserved (INO_RESERVE), with its data and times when asked. */
int ns_create_at(struct ns_ctx *c, const struct wire_ns_req *q,
		 struct wire_ns_reply *r);
/* INO_RESERVE: hand out q->max inode numbers (attr.ino, attr.size). */
int ns_ino_reserve(struct ns_ctx *c, const struct wire_ns_req *q,
		   struct wire_ns_reply *r);
int ns_create(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r);
int ns_symlink(struct ns_ctx *c, const struct wire_ns_req *q,
	       struct wire_ns_reply *r);
int ns_link(struct ns_ctx *c, const struct wire_ns_req *q,
	    struct wire_ns_reply *r);
int ns_unlink(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r);
int ns_rmdir(struct ns_ctx *c, const struct wire_ns_req *q,
	     struct wire_ns_reply *r);
int ns_rename(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r);
int ns_readdir(struct ns_ctx *c, const struct wire_ns_req *q,
	       struct wire_ns_reply *r);
int ns_setattr(struct ns_ctx *c, const struct wire_ns_req *q,
	       struct wire_ns_reply *r);
int ns_open(struct ns_ctx *c, const struct wire_ns_req *q,
	    struct wire_ns_reply *r);
int ns_commit(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r);
int ns_objmap(struct ns_ctx *c, const struct wire_ns_req *q,
	      struct wire_ns_reply *r);
int ns_readlink(struct ns_ctx *c, const struct wire_ns_req *q,
		struct wire_ns_reply *r);
int ns_xattr_get(struct ns_ctx *c, const struct wire_ns_req *q,
		 struct wire_ns_reply *r);
int ns_xattr_set(struct ns_ctx *c, const struct wire_ns_req *q,
		 struct wire_ns_reply *r);
int ns_xattr_list(struct ns_ctx *c, const struct wire_ns_req *q,
		  struct wire_ns_reply *r);
int ns_xattr_remove(struct ns_ctx *c, const struct wire_ns_req *q,
		    struct wire_ns_reply *r);

/* RENAME flag (not yet in wire_ns.h): keep the replaced inode as an
 * orphan, like UNLINK's KEEP (whose bit RENAME_NOREPLACE already uses). */
#define NS_RENAME_KEEP (1u << 2)

#endif
