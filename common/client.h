/*
 * client.h -- libstore, the client library storectl and storefs are built
 * on: a session with the MDS, a copy of the cluster map that follows its
 * epochs, the namespace calls, and the data path (erasure-coded objects
 * written to and read from the OSDs in parallel, several objects in
 * flight, degraded reads that decode from parity).
 *
 * Errors: every call returns 0 (or a count) or -errno, and leaves one
 * sentence for the user in a per-thread buffer, store_last_error(): what
 * failed, on which path, object or OSD, and what to do.  Data is never
 * returned wrong: a read that cannot be satisfied from verified shards
 * fails with -EIO and names the object and the OSDs that are missing.
 *
 * A struct store_client may be used from many threads at once; a writer or
 * reader handle belongs to one thread at a time.
 */
#ifndef STORE_CLIENT_H
#define STORE_CLIENT_H

#include "conf.h"
#include "map.h"
#include "wire_ns.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct store_client;

/* Connection settings; zero fields take their defaults. */
struct store_client_opts {
	const char *mds_addr;     /* default: conf "mds" */
	const char *name;         /* entity, default: conf "name" or
				     "client.admin" */
	uint32_t mds_timeout_ms;  /* give up on the MDS after this (10 s) */
	uint32_t osd_timeout_ms;  /* one shard request (8 s) */
	unsigned objects_in_flight; /* per writer/reader (8) */
};

/* The last error sentence of the calling thread ("" if none). */
const char *store_last_error(void);

/* Set the calling thread's error sentence; returns rc (for one-line
 * `return store_fail(rc, ...)`). */
int store_fail(int rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Connect to the cluster described by conf (and opts): open a session with
 * the MDS and fetch the map.  Returns 0 and *out, or -errno with a
 * sentence (e.g. -ENOTCONN: "cannot reach the MDS at tcp://...: is it
 * running?") within opts->mds_timeout_ms. */
int store_connect(const struct conf *conf, const struct store_client_opts *opts,
		  struct store_client **out);

void store_disconnect(struct store_client *c);

/* Make every change the MDS acknowledged to this client durable: returns
 * once the MDS has them on stable storage (an MDS change is visible, and
 * survives the MDS's own death, as soon as it is acknowledged; this is
 * what makes it survive a power failure too).  Returns 0 or -errno with a
 * sentence. */
int store_sync(struct store_client *c);

/* Did this client change anything at the MDS since its last store_sync? */
int store_unsynced(const struct store_client *c);

/* The session: root inode and largest inline file. */
uint64_t store_root_ino(const struct store_client *c);
uint32_t store_inline_max(const struct store_client *c);

/* A copy of the current map (free with map_free).  Returns 0 or -ENOMEM. */
int store_get_map(struct store_client *c, struct store_map *out);

/* Fetch the map from the MDS now if it is newer than ours. */
int store_refresh_map(struct store_client *c);

/* ---- namespace (by inode) ---------------------------------------------*/

int store_lookup(struct store_client *c, uint64_t parent, const char *name,
		 struct wire_attr *attr);
int store_getattr(struct store_client *c, uint64_t ino, struct wire_attr *attr);
/* Change the fields named in valid (WIRE_SET_*) to those of *want. */
int store_setattr(struct store_client *c, uint64_t ino, uint32_t valid,
		  const struct wire_attr *want, struct wire_attr *attr);
int store_mkdir(struct store_client *c, uint64_t parent, const char *name,
		uint32_t mode, uint32_t uid, uint32_t gid,
		struct wire_attr *attr);
/* Reserve up to count inode numbers for store_create_at: [*first, *first
 * + *got).  Returns 0 or -errno with a sentence. */
int store_ino_reserve(struct store_client *c, uint32_t count,
		      uint64_t *first, uint32_t *got);
/* Create regular file name in parent as inode ino (from store_ino_reserve),
 * exclusively, with want's mode, uid and gid; with_data: data is the whole
 * file (at most the inline maximum) and valid (WIRE_SET_ATIME/MTIME and
 * their _NOW) picks want's times to set, all in one MDS transaction.
 * Returns 0 and the new attributes, or -errno with a sentence (-EEXIST:
 * the name, or the inode, exists). */
int store_create_at(struct store_client *c, uint64_t parent, const char *name,
		    uint64_t ino, const struct wire_attr *want, uint32_t valid,
		    const void *data, uint32_t data_len, int with_data,
		    struct wire_attr *attr);
int store_create(struct store_client *c, uint64_t parent, const char *name,
		 uint32_t mode, uint32_t uid, uint32_t gid, uint32_t flags,
		 struct wire_attr *attr);
int store_unlink(struct store_client *c, uint64_t parent, const char *name,
		 uint32_t flags, struct wire_attr *attr);
int store_rmdir(struct store_client *c, uint64_t parent, const char *name);
/* attr (may be NULL) receives the replaced inode's attributes (ino 0 if
 * none was replaced). */
int store_rename(struct store_client *c, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, uint32_t flags,
		 struct wire_attr *replaced);
int store_symlink(struct store_client *c, uint64_t parent, const char *name,
		  const char *target, uint32_t uid, uint32_t gid,
		  struct wire_attr *attr);
/* target must hold STORE_PATH_MAX + 1 bytes. */
int store_readlink(struct store_client *c, uint64_t ino, char *target);
int store_link(struct store_client *c, uint64_t ino, uint64_t newparent,
	       const char *newname, struct wire_attr *attr);

struct store_statfs {
	uint64_t blocks, bfree, files, ffree; /* 4 KiB blocks */
};
int store_statfs(struct store_client *c, struct store_statfs *st);

/* Extended attributes.  get/list copy at most cap bytes into buf and
 * return the full size (so cap 0 asks for the size). */
ssize_t store_getxattr(struct store_client *c, uint64_t ino, const char *name,
		       void *buf, size_t cap);
int store_setxattr(struct store_client *c, uint64_t ino, const char *name,
		   const void *value, size_t len, uint32_t flags);
ssize_t store_listxattr(struct store_client *c, uint64_t ino, void *buf,
			size_t cap);
int store_removexattr(struct store_client *c, uint64_t ino, const char *name);

/* Directory listing: calls fn for every entry from cookie on (fn returns
 * non-zero to stop early).  Returns 0 or -errno. */
typedef int (*store_dirent_fn)(void *arg, const struct wire_dirent *d);
int store_readdir(struct store_client *c, uint64_t ino, uint64_t cookie,
		  int plus, store_dirent_fn fn, void *arg);

/* One batch of a listing (for FUSE): up to max entries from cookie;
 * *more tells whether the directory has more. */
int store_readdir_batch(struct store_client *c, uint64_t ino, uint64_t cookie,
			uint32_t max, int plus, store_dirent_fn fn, void *arg,
			int *more);

/* ---- paths (storectl) -------------------------------------------------*/

/* Resolve an absolute cluster path ("/a/b").  "." and empty components are
 * skipped; ".." is refused (-EINVAL); symlinks are not followed.  Fills
 * attr of the last component and, if parent/name are given, the parent's
 * ino and the last name (for create/unlink).  Errors name the path. */
int store_resolve(struct store_client *c, const char *path,
		  struct wire_attr *attr);
int store_resolve_parent(struct store_client *c, const char *path,
			 uint64_t *parent, char *name /* NAME_MAX + 1 */);

/* ---- data -------------------------------------------------------------*/

/* An object of a file, as the MDS lists it. */
int store_objmap(struct store_client *c, uint64_t ino, uint64_t first,
		 uint32_t max, struct wire_obj *objs, uint32_t *n, int *more);

/* A sequential writer: replaces the whole content of a regular file.
 * Data is gathered into whole objects, each encoded and sent to its k+m
 * OSDs while later objects are still being filled; close waits for every
 * object, then commits them (and the size) to the MDS in one request per
 * STORE_LIST_MAX objects, and deletes the versions they replaced.  Files
 * no larger than the session's inline_max go inline to the MDS instead.
 * Nothing is visible to readers until close commits. */
struct store_writer;
int store_writer_open(struct store_client *c, const struct wire_attr *file,
		      struct store_writer **out);
int store_writer_write(struct store_writer *w, const void *buf, size_t len);
/* Append what one read(2) of fd (named `what` in errors) gives, read
 * straight into the object being filled (no copy in between; up to the
 * rest of that object).  Returns the bytes read, 0 at the end of fd, or
 * -errno with a sentence. */
ssize_t store_writer_read_fd(struct store_writer *w, int fd, const char *what);
/* Commit and free.  Returns 0 or -errno (then nothing new is visible). */
int store_writer_close(struct store_writer *w, struct wire_attr *attr);
/* Free without committing. */
void store_writer_abort(struct store_writer *w);

/* A sequential reader with read-ahead of whole objects.  Objects that are
 * missing from the map (holes) and bytes past an object's length read as
 * zeros.  Degraded objects are decoded from parity; an object with more
 * than m shards lost fails the read with -EIO and a sentence naming the
 * object and the OSDs missing. */
struct store_reader;
int store_reader_open(struct store_client *c, const struct wire_attr *file,
		      struct store_reader **out);
/* Read up to len bytes; returns the count (0 at the end) or -errno. */
ssize_t store_reader_read(struct store_reader *r, void *buf, size_t len);
/* Objects a caller of store_reader_next() may hold at once without
 * cutting the read-ahead. */
#define STORE_READER_HOLD 2
/* Like store_reader_read() without the copy: describe the next bytes, at
 * most max_len and never past the end of one object, as up to max_iov
 * pieces of the reader's own buffers (and of read-only zeros) in iov[], for
 * writev(), and move past them.  The pieces stay valid until
 * store_reader_release(r, *ticket), which must follow every call that
 * returned more than 0; holding the pieces of more than STORE_READER_HOLD
 * objects makes the next call fail with -EBUSY.  Returns the count of
 * bytes described (0 at the end), or -errno as store_reader_read(). */
ssize_t store_reader_next(struct store_reader *r, struct iovec *iov,
			  int max_iov, size_t max_len, int *n_iov,
			  unsigned *ticket);
void store_reader_release(struct store_reader *r, unsigned ticket);
void store_reader_close(struct store_reader *r);

/* Whole-object operations, for clients with their own caching (FUSE). */

/* Encode and write one object of `len` bytes (at most the file's object
 * size) as a new version; on success *version is what to commit. */
int store_object_write(struct store_client *c, const struct wire_attr *file,
		       uint64_t objno, const void *data, uint32_t len,
		       uint64_t *version);

/* Read bytes [off, off + len) of a committed object into buf (bytes past
 * obj->length read as zeros).  Returns 0 or -errno. */
int store_object_read(struct store_client *c, const struct wire_attr *file,
		      const struct wire_obj *obj, uint32_t off, uint32_t len,
		      void *buf);

/* Commit object versions and/or inline data and size (see COMMIT in
 * docs/protocol.md); deletes the shards of replaced versions in the
 * background.  objs may be NULL when n is 0. */
int store_commit(struct store_client *c, uint64_t ino, uint32_t flags,
		 uint32_t valid, uint64_t size, int64_t mtime_ns,
		 const struct wire_obj *objs, uint32_t n, const void *data,
		 uint32_t data_len, struct wire_attr *attr);

/* The same, also setting the attributes that `valid` names among
 * WIRE_SET_MODE/UID/GID/ATIME(_NOW)/MTIME_NOW from *set (a client that
 * buffers chmod/chown/utimes of an open file sends them with its data). */
int store_commit_attrs(struct store_client *c, uint64_t ino, uint32_t flags,
		       uint32_t valid, uint64_t size, int64_t mtime_ns,
		       const struct wire_attr *set, const struct wire_obj *objs,
		       uint32_t n, const void *data, uint32_t data_len,
		       struct wire_attr *attr);

/* Open: attributes and, for an inline file, its data (copied into buf, at
 * most cap bytes; *data_len gets the inline size). */
int store_open(struct store_client *c, uint64_t ino, uint32_t flags,
	       struct wire_attr *attr, void *buf, size_t cap,
	       uint32_t *data_len);

/* Delete the shards of object versions nobody will commit (superseded
 * before their commit).  Best effort: what fails is collected later. */
void store_discard_objects(struct store_client *c, uint32_t pool,
			   uint64_t ino, const struct wire_obj *objs,
			   uint32_t n);

/* A new, unique object version for this session. */
uint64_t store_new_version(struct store_client *c);

/* ---- cluster ----------------------------------------------------------*/

struct wire_status;
int store_status(struct store_client *c, struct wire_status *st);
int store_osd_cmd(struct store_client *c, uint32_t op, uint32_t osd_id,
		  double weight);

#endif
