/*
 * ops.c -- storefs's FUSE low-level operations.  Each one is a thin
 * translation onto libstore, plus the inode table's reference counting
 * (see sfs.h) and the open-file state of data.c.
 */
#include "sfs.h"
#include "client_auth.h"
#include "log.h"
#include "util.h"
#include "wire_mon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

struct sfs *sfs_g;

/* Files open in this mount: when none is, an unlink needs no lookup to
 * find out whether it removes an open file. */
static int open_files;

static void reply_err(fuse_req_t req, int rc)
{
	fuse_reply_err(req, rc < 0 ? -rc : rc);
}

static void fill_entry(struct fuse_entry_param *e, const struct wire_attr *a)
{
	memset(e, 0, sizeof(*e));
	e->ino = a->ino;
	e->generation = 1;
	sfs_attr_to_stat(a, &e->attr);
	e->attr_timeout = sfs_g->attr_timeout;
	e->entry_timeout = sfs_g->entry_timeout;
}

/* Reply with an entry and count the kernel's new reference. */
static void reply_entry(fuse_req_t req, struct wire_attr *a)
{
	struct fuse_entry_param e;
	struct sfs_inode *in = sfs_inode_get(sfs_g, a->ino, 0);

	if (in) {
		pthread_mutex_lock(&in->mu);
		sfs_file_patch_attr(in, a);
		pthread_mutex_unlock(&in->mu);
		sfs_inode_put(sfs_g, in);
	}
	sfs_inode_ref(sfs_g, a);
	fill_entry(&e, a);
	if (fuse_reply_entry(req, &e))
		sfs_inode_forget(sfs_g, a->ino, 1); /* the kernel never got it */
}

static void sfs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct sfs *fs = userdata;

	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	if (fs->writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* Whole-MiB requests: a 1 MiB write arrives as one call. */
	conn->max_write = 1 << 20;
	conn->max_readahead = 1 << 20;
	conn->max_background = 64;
}

static void sfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct wire_attr a;
	int rc;

	/* In a folder this mount just made, a name it did not add is not
	 * there (fresh.c): no need to ask, nor to order anything. */
	rc = sfs_fresh_absent(sfs_g, parent, name) ? -ENOENT : 0;
	if (rc == 0) {
		sfs_drain(sfs_g, 0); /* order (create.c) */
		rc = store_lookup(sfs_g->c, parent, name, &a);
	}
	if (rc == -ENOENT) {
		/* A negative entry the kernel may cache. */
		struct fuse_entry_param e;

		memset(&e, 0, sizeof(e));
		e.entry_timeout = sfs_g->entry_timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (rc) {
		reply_err(req, rc);
		return;
	}
	reply_entry(req, &a);
}

static void sfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
	sfs_inode_forget(sfs_g, ino, n);
	fuse_reply_none(req);
}

static void sfs_forget_multi(fuse_req_t req, size_t count,
			     struct fuse_forget_data *f)
{
	for (size_t i = 0; i < count; i++)
		sfs_inode_forget(sfs_g, f[i].ino, f[i].nlookup);
	fuse_reply_none(req);
}

/* The attributes of a file this mount has open for writing, from what it
 * holds, while they are younger than the attribute timeout: its size and
 * times are this mount's own until the closing commit (close-to-open), and
 * an untar would otherwise pay an MDS round trip per file for them.
 * Returns 1 with *a filled, or 0 when the MDS must be asked. */
static int local_attr(struct sfs_inode *in, struct wire_attr *a)
{
	uint64_t ttl = (uint64_t)(sfs_g->attr_timeout * 1e9);
	int ok;

	pthread_mutex_lock(&in->mu);
	ok = in->f && in->attr.ino == in->ino &&
	     (in->f->pending_create ||
	      (in->writers > 0 && now_ns() - in->attr_ns < ttl));
	if (ok) {
		*a = in->attr;
		sfs_file_patch_attr(in, a);
	}
	pthread_mutex_unlock(&in->mu);
	return ok;
}

/* Forget the attributes this mount holds for a file whose links another
 * operation changed, so that the next getattr asks the MDS. */
static void attr_stale(uint64_t ino)
{
	struct sfs_inode *in = ino ? sfs_inode_get(sfs_g, ino, 0) : NULL;

	if (!in)
		return;
	pthread_mutex_lock(&in->mu);
	in->attr_ns = 0;
	pthread_mutex_unlock(&in->mu);
	sfs_inode_put(sfs_g, in);
}

static void sfs_getattr(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct sfs_inode *in;
	struct wire_attr a;
	struct stat st;
	int rc;

	sfs_drain(sfs_g, ino); /* order (create.c); ino served here */
	(void)fi;
	in = sfs_inode_get(sfs_g, ino, 0);
	if (in && local_attr(in, &a)) {
		sfs_inode_put(sfs_g, in);
		goto reply;
	}
	rc = store_getattr(sfs_g->c, ino, &a);
	if (rc) {
		if (in)
			sfs_inode_put(sfs_g, in);
		reply_err(req, rc);
		return;
	}
	if (in) {
		pthread_mutex_lock(&in->mu);
		in->attr = a;
		in->attr_ns = now_ns();
		sfs_file_patch_attr(in, &a);
		pthread_mutex_unlock(&in->mu);
		sfs_inode_put(sfs_g, in);
	}
reply:
	sfs_attr_to_stat(&a, &st);
	fuse_reply_attr(req, &st, sfs_g->attr_timeout);
}

static void sfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
			int to_set, struct fuse_file_info *fi)
{
	struct sfs_inode *in = sfs_inode_get(sfs_g, ino, 0);
	struct wire_attr want, a;
	uint32_t valid = 0;
	struct stat st;
	int rc = 0;

	sfs_drain(sfs_g, ino); /* order (create.c); ino served here */
	(void)fi;
	memset(&want, 0, sizeof(want));
	if (to_set & FUSE_SET_ATTR_MODE) {
		valid |= WIRE_SET_MODE;
		want.mode = attr->st_mode;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		valid |= WIRE_SET_UID;
		want.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		valid |= WIRE_SET_GID;
		want.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		valid |= WIRE_SET_ATIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_ATIME) {
		valid |= WIRE_SET_ATIME;
		want.atime_ns = (int64_t)attr->st_atim.tv_sec * 1000000000 +
				attr->st_atim.tv_nsec;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		valid |= WIRE_SET_MTIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_MTIME) {
		valid |= WIRE_SET_MTIME;
		want.mtime_ns = (int64_t)attr->st_mtim.tv_sec * 1000000000 +
				attr->st_mtim.tv_nsec;
	}
	if (in)
		pthread_mutex_lock(&in->mu);
	/* A truncate waits out read-arounds in flight (their push could
	 * bring back bytes, and a size, the truncate removed). */
	while (in && (to_set & FUSE_SET_ATTR_SIZE) && in->around)
		pthread_cond_wait(&in->around_cv, &in->mu);
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			rc = -EINVAL;
		} else if (in && in->f) {
			rc = sfs_file_truncate(sfs_g, in, (uint64_t)attr->st_size,
					       &a);
		} else {
			struct wire_attr sz;

			memset(&sz, 0, sizeof(sz));
			sz.size = (uint64_t)attr->st_size;
			rc = store_setattr(sfs_g->c, ino,
					   WIRE_SET_SIZE | WIRE_SET_MTIME, &sz,
					   &a);
		}
	}
	if (rc == 0 && valid) {
		if (in && sfs_file_buffer_attrs(in, valid, &want)) {
			/* An open file's chmod/chown/utimes go with its next
			 * commit: one MDS transaction per closed file. */
			a = in->attr;
			valid = 0;
			to_set &= ~FUSE_SET_ATTR_SIZE;
			sfs_file_patch_attr(in, &a);
			goto reply;
		}
		/* What goes to the MDS needs the file there. */
		rc = in ? sfs_pc_settle(sfs_g, in) : 0;
		if (rc == 0)
			rc = store_setattr(sfs_g->c, ino, valid, &want, &a);
	}
	if (rc == 0 && !valid && !(to_set & FUSE_SET_ATTR_SIZE)) {
		rc = in ? sfs_pc_settle(sfs_g, in) : 0;
		if (rc == 0)
			rc = store_getattr(sfs_g->c, ino, &a);
	}
	if (in) {
		if (rc == 0) {
			in->attr = a;
			in->attr_ns = now_ns();
			sfs_file_patch_attr(in, &a);
		}
reply:
		pthread_mutex_unlock(&in->mu);
		sfs_inode_put(sfs_g, in);
	}
	if (rc) {
		reply_err(req, rc);
		return;
	}
	sfs_attr_to_stat(&a, &st);
	fuse_reply_attr(req, &st, sfs_g->attr_timeout);
}

static void sfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char target[STORE_PATH_MAX + 1];
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	rc = store_readlink(sfs_g->c, ino, target);
	if (rc)
		reply_err(req, rc);
	else
		fuse_reply_readlink(req, target);
}

static void sfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, dev_t rdev)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct wire_attr a;
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	(void)rdev;
	if (!S_ISREG(mode) && !S_ISFIFO(mode) && !S_ISSOCK(mode)) {
		reply_err(req, -EPERM);
		return;
	}
	sfs_fresh_added(sfs_g, parent, name);
	rc = store_create(sfs_g->c, parent, name, mode, ctx->uid, ctx->gid,
			  WIRE_CREATE_EXCL, &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

static void sfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct wire_attr a;
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	sfs_fresh_added(sfs_g, parent, name);
	rc = store_mkdir(sfs_g->c, parent, name, S_IFDIR | (mode & 07777),
			 ctx->uid, ctx->gid, &a);
	if (rc == 0)
		sfs_fresh_mkdir(sfs_g, a.ino);
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

/* Is the file this name points to open in this mount?  Returns its inode
 * number, or 0. */
static uint64_t open_target(fuse_ino_t parent, const char *name)
{
	struct sfs_inode *in;
	struct wire_attr a;
	uint64_t ino = 0;

	if (!__atomic_load_n(&open_files, __ATOMIC_RELAXED))
		return 0;
	if (store_lookup(sfs_g->c, parent, name, &a) || !S_ISREG(a.mode))
		return 0;
	in = sfs_inode_get(sfs_g, a.ino, 0);
	if (!in)
		return 0;
	pthread_mutex_lock(&in->mu);
	if (in->opens > 0 && a.nlink <= 1)
		ino = a.ino;
	pthread_mutex_unlock(&in->mu);
	sfs_inode_put(sfs_g, in);
	return ino;
}

static void mark_orphan(uint64_t ino)
{
	struct sfs_inode *in = sfs_inode_get(sfs_g, ino, 0);

	if (!in)
		return;
	pthread_mutex_lock(&in->mu);
	in->unlinked = 1;
	pthread_mutex_unlock(&in->mu);
	sfs_inode_put(sfs_g, in);
}

static void sfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	uint64_t open_ino;
	struct wire_attr a;
	int rc;

	/* With no file open here, no unlink has to keep an orphan, and with
	 * a key that may write anywhere the MDS refuses none: it can be
	 * answered now and sent in the background (async.c).  The kernel
	 * has checked that the name exists and is no folder. */
	if (!__atomic_load_n(&open_files, __ATOMIC_ACQUIRE) &&
	    store_auth_writes_anywhere(sfs_g->c) &&
	    sfs_async_unlink(sfs_g, parent, name) == 0) {
		fuse_reply_err(req, 0);
		return;
	}
	sfs_drain(sfs_g, 0);
	open_ino = open_target(parent, name);

	/* An open file stays readable and writable until its last close:
	 * the MDS keeps it as an orphan until we release it. */
	rc = store_unlink(sfs_g->c, parent, name,
			  open_ino ? WIRE_UNLINK_KEEP : 0, &a);
	if (rc == 0 && open_ino)
		mark_orphan(open_ino);
	if (rc == 0)
		attr_stale(a.ino);
	reply_err(req, rc);
}

static void sfs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	sfs_drain(sfs_g, 0); /* order (create.c) */
	reply_err(req, store_rmdir(sfs_g->c, parent, name));
}

static void sfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
			const char *name)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct wire_attr a;
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	sfs_fresh_added(sfs_g, parent, name);
	rc = store_symlink(sfs_g->c, parent, name, link, ctx->uid, ctx->gid,
			   &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

static void sfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		       fuse_ino_t newparent, const char *newname,
		       unsigned int flags)
{
	struct wire_attr replaced;
	uint32_t wflags = 0;
	uint64_t open_ino = 0;
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	sfs_fresh_added(sfs_g, newparent, newname);
	sfs_fresh_added(sfs_g, parent, name); /* EXCHANGE puts one there */
	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		reply_err(req, -EINVAL);
		return;
	}
	if (flags & RENAME_NOREPLACE)
		wflags |= WIRE_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		wflags |= WIRE_RENAME_EXCHANGE;
	if (!flags)
		open_ino = open_target(newparent, newname);
	if (open_ino)
		wflags |= WIRE_RENAME_KEEP; /* the file replaced is open here */
	memset(&replaced, 0, sizeof(replaced));
	rc = store_rename(sfs_g->c, parent, name, newparent, newname, wflags,
			  &replaced);
	if (rc == 0 && open_ino)
		mark_orphan(open_ino);
	if (rc == 0)
		attr_stale(replaced.ino);
	reply_err(req, rc);
}

static void sfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		     const char *newname)
{
	struct wire_attr a;
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	sfs_fresh_added(sfs_g, newparent, newname);
	rc = store_link(sfs_g->c, ino, newparent, newname, &a);
	if (rc)
		reply_err(req, rc);
	else
		reply_entry(req, &a);
}

/* Common to open and create: attach the open-file state. */
static int attach_open(struct sfs_inode *in, const struct wire_attr *a,
		       const void *idata, uint32_t ilen,
		       struct fuse_file_info *fi)
{
	uint64_t old_gen = in->attr.gen;
	int64_t old_mtime = in->attr.mtime_ns;
	int had_f = in->f != NULL, rc;

	pthread_mutex_lock(&in->mu);
	/* A writer waits out read-arounds in flight: their bytes, pushed
	 * into the page cache after its write, would be stale. */
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		while (in->around)
			pthread_cond_wait(&in->around_cv, &in->mu);
		in->writers++;
	}
	/* Counted first: a release running meanwhile must not free the
	 * state this open is about to use. */
	in->opens++;
	rc = sfs_file_open(sfs_g, in, a, idata, ilen);
	if (rc == 0) {
		if (!had_f || !in->f->meta_dirty)
			in->attr = *a;
		__atomic_add_fetch(&open_files, 1, __ATOMIC_RELAXED);
	} else {
		in->opens--;
		if ((fi->flags & O_ACCMODE) != O_RDONLY)
			in->writers--;
	}
	pthread_mutex_unlock(&in->mu);
	/* Keep the kernel's page cache only if nobody changed the file since
	 * we last saw it (close-to-open). */
	fi->keep_cache = old_gen && old_gen == a->gen &&
			 old_mtime == a->mtime_ns;
	return rc;
}

static void sfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct sfs_inode *in;
	struct wire_attr a;
	uint8_t *idata;
	uint32_t ilen = 0;
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	if (sfs_g->ro && (fi->flags & O_ACCMODE) != O_RDONLY) {
		reply_err(req, -EROFS);
		return;
	}
	idata = malloc(STORE_INLINE_MAX);
	in = sfs_inode_get(sfs_g, ino, 1);
	if (!idata || !in) {
		free(idata);
		sfs_inode_put(sfs_g, in);
		reply_err(req, -ENOMEM);
		return;
	}
	/* With another handle open and dirty here, O_TRUNC goes through
	 * our own truncate so the local view follows. */
	pthread_mutex_lock(&in->mu);
	if ((fi->flags & O_TRUNC) && in->f) {
		rc = sfs_file_truncate(sfs_g, in, 0, &a);
		pthread_mutex_unlock(&in->mu);
		if (rc == 0)
			rc = store_open(sfs_g->c, ino, 0, &a, idata,
					STORE_INLINE_MAX, &ilen);
	} else {
		pthread_mutex_unlock(&in->mu);
		rc = store_open(sfs_g->c, ino,
				(fi->flags & O_TRUNC) ? WIRE_CREATE_TRUNC : 0, &a,
				idata, STORE_INLINE_MAX, &ilen);
	}
	if (rc == 0 && S_ISDIR(a.mode))
		rc = -EISDIR;
	if (rc == 0)
		rc = attach_open(in, &a, idata, ilen, fi);
	free(idata);
	if (rc) {
		sfs_inode_put(sfs_g, in);
		reply_err(req, rc);
		return;
	}
	fi->fh = 0;
	/* The pin taken above is the open's; release drops it. */
	if (fuse_reply_open(req, fi))
		log_warn("inode %lu: open reply lost", (unsigned long)ino);
}

/* create(O_EXCL) answered here, as inode a->ino (reserved): the file
 * goes to the MDS with its first commit (create.c). */
static void create_here(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, struct fuse_file_info *fi,
			struct wire_attr *a)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int64_t now = (int64_t)wall_ns();
	struct fuse_entry_param e;
	struct sfs_inode *in;
	uint64_t ino = a->ino;
	int rc;

	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->mode = S_IFREG | (mode & 07777);
	a->uid = ctx->uid;
	a->gid = ctx->gid;
	a->nlink = 1;
	a->flags = WIRE_ATTR_INLINE;
	a->size = 0;
	a->atime_ns = a->mtime_ns = a->ctime_ns = now;
	a->gen = 1;
	in = sfs_inode_get(sfs_g, a->ino, 1);
	if (!in) {
		reply_err(req, -ENOMEM);
		return;
	}
	rc = attach_open(in, a, NULL, 0, fi);
	if (rc) {
		sfs_inode_put(sfs_g, in);
		reply_err(req, rc);
		return;
	}
	pthread_mutex_lock(&in->mu);
	sfs_pc_add(sfs_g, in, parent, name);
	in->attr_ns = now_ns();
	pthread_mutex_unlock(&in->mu);
	sfs_inode_ref(sfs_g, a);
	fill_entry(&e, a);
	fi->fh = 0;
	if (fuse_reply_create(req, &e, fi))
		sfs_inode_forget(sfs_g, a->ino, 1);
}

static void sfs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode, struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct sfs_inode *in;
	struct wire_attr a;
	uint32_t flags = 0;
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	/* Before the name can exist anywhere (fresh.c). */
	sfs_fresh_added(sfs_g, parent, name);
	if ((fi->flags & O_EXCL) && (S_ISREG(mode) || !(mode & S_IFMT)) &&
	    strlen(name) <= STORE_NAME_MAX && wire_name_ok(name) &&
	    sfs_pc_take_ino(sfs_g, &a.ino) == 0) {
		create_here(req, parent, name, mode, fi, &a);
		return;
	}
	if (fi->flags & O_EXCL)
		flags |= WIRE_CREATE_EXCL;
	if (fi->flags & O_TRUNC)
		flags |= WIRE_CREATE_TRUNC;
	rc = store_create(sfs_g->c, parent, name, S_IFREG | (mode & 07777),
			  ctx->uid, ctx->gid, flags, &a);
	if (rc) {
		reply_err(req, rc);
		return;
	}
	if (!S_ISREG(a.mode)) {
		reply_err(req, -EISDIR);
		return;
	}
	in = sfs_inode_get(sfs_g, a.ino, 1);
	if (!in) {
		reply_err(req, -ENOMEM);
		return;
	}
	if (a.size) {
		/* An existing file (no O_EXCL): its inline data or object map
		 * comes with OPEN. */
		uint8_t *idata = malloc(STORE_INLINE_MAX);
		uint32_t ilen = 0;

		rc = idata ? store_open(sfs_g->c, a.ino, 0, &a, idata,
					STORE_INLINE_MAX, &ilen) : -ENOMEM;
		if (rc == 0)
			rc = attach_open(in, &a, idata, ilen, fi);
		free(idata);
	} else {
		rc = attach_open(in, &a, NULL, 0, fi);
	}
	if (rc) {
		sfs_inode_put(sfs_g, in);
		reply_err(req, rc);
		return;
	}
	sfs_inode_ref(sfs_g, &a);
	fill_entry(&e, &a);
	fi->fh = 0;
	if (fuse_reply_create(req, &e, fi))
		sfs_inode_forget(sfs_g, a.ino, 1);
}

static void sfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct sfs_inode *in = sfs_inode_get(sfs_g, ino, 0);
	struct sfs_around w = { 0 };
	char *buf;
	ssize_t n;

	(void)fi;
	buf = malloc(size ? size : 1);
	if (!in)
		log_err("read: inode %lu not in the table", (unsigned long)ino);
	if (!in || !buf) {
		free(buf);
		sfs_inode_put(sfs_g, in);
		reply_err(req, in ? -ENOMEM : -EBADF);
		return;
	}
	if (sfs_file_read_around(sfs_g, in, buf, size, off, &w) == 1) {
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(w.len);
		int rc;

		fuse_reply_buf(req, buf, size);
		/* After the reply: the pages of this read are unlocked by
		 * then, and the push locks each page it fills. */
		bv.buf[0].mem = w.buf;
		rc = fuse_lowlevel_notify_store(sfs_g->se, ino, w.off, &bv, 0);
		if (rc && rc != -ENOENT)
			log_debug("inode %lu: read-around not kept: %s",
				  (unsigned long)ino, strerror(-rc));
		sfs_read_around_done(in, &w);
		sfs_inode_put(sfs_g, in);
		free(buf);
		return;
	}
	n = sfs_file_read(sfs_g, in, buf, size, off);
	sfs_inode_put(sfs_g, in);
	if (n < 0)
		reply_err(req, (int)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void sfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		      size_t size, off_t off, struct fuse_file_info *fi)
{
	struct sfs_inode *in = sfs_inode_get(sfs_g, ino, 0);
	ssize_t n;

	if (!in) {
		reply_err(req, -EBADF);
		return;
	}
	if (fi->flags & O_APPEND) {
		pthread_mutex_lock(&in->mu);
		if (in->f)
			off = (off_t)in->f->size;
		pthread_mutex_unlock(&in->mu);
	}
	n = sfs_file_write(sfs_g, in, buf, size, off);
	sfs_inode_put(sfs_g, in);
	if (n < 0)
		reply_err(req, (int)n);
	else
		fuse_reply_write(req, (size_t)n);
}

static int flush_inode(fuse_ino_t ino)
{
	struct sfs_inode *in = sfs_inode_get(sfs_g, ino, 0);
	int rc;

	if (!in)
		return 0;
	pthread_mutex_lock(&in->mu);
	rc = sfs_file_flush(sfs_g, in);
	pthread_mutex_unlock(&in->mu);
	sfs_inode_put(sfs_g, in);
	if (rc)
		log_warn("inode %lu: flush failed: %s", (unsigned long)ino,
			 store_last_error());
	return rc;
}

static void sfs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	sfs_drain(sfs_g, ino); /* order (create.c); ino served here */
	(void)fi;
	reply_err(req, flush_inode(ino));
}

static void sfs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		      struct fuse_file_info *fi)
{
	int rc;

	sfs_drain(sfs_g, ino); /* order (create.c); ino served here */
	(void)datasync;
	(void)fi;
	/* Written objects are durable on their OSDs once acknowledged; the
	 * commit is durable once the MDS has synced it. */
	rc = flush_inode(ino);
	if (rc == 0)
		rc = store_sync(sfs_g->c);
	reply_err(req, rc);
}

/* fsync of a folder: its entries (and every other change of this mount)
 * on stable storage, the unlinks still queued included. */
static void sfs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			 struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	sfs_drain(sfs_g, 0);
	reply_err(req, store_sync(sfs_g->c));
}

static void sfs_release(fuse_req_t req, fuse_ino_t ino,
			struct fuse_file_info *fi)
{
	struct sfs_inode *in = sfs_inode_get(sfs_g, ino, 0);
	int rc = 0;

	sfs_drain(sfs_g, ino); /* order (create.c); ino served here */
	if (!in) {
		fuse_reply_err(req, 0);
		return;
	}
	pthread_mutex_lock(&in->mu);
	rc = sfs_file_flush(sfs_g, in);
	if (rc)
		log_err("inode %lu: data not saved at close: %s",
			(unsigned long)ino, store_last_error());
	in->opens--;
	if ((fi->flags & O_ACCMODE) != O_RDONLY && in->writers > 0)
		in->writers--;
	__atomic_sub_fetch(&open_files, 1, __ATOMIC_RELAXED);
	if (in->opens == 0) {
		if (in->unlinked) {
			int r = store_commit(sfs_g->c, ino, WIRE_COMMIT_RELEASE,
					     0, 0, 0, NULL, 0, NULL, 0, NULL);

			if (r)
				log_warn("inode %lu: releasing the orphan "
					 "failed: %s", (unsigned long)ino,
					 store_last_error());
			in->unlinked = 0;
		}
		/* The wait drops in->mu: a new open may come in meanwhile,
		 * and then the state stays. */
		sfs_file_release_wait(in);
		if (rc == 0 && in->opens == 0) {
			sfs_file_free(in->f);
			in->f = NULL;
		}
	}
	pthread_mutex_unlock(&in->mu);
	sfs_inode_put(sfs_g, in); /* the pin of this open */
	sfs_inode_put(sfs_g, in);
	fuse_reply_err(req, 0);
}

struct dir_fill {
	fuse_req_t req;
	char *buf;
	size_t size, used;
	int plus;
	int full;
	uint64_t last_cookie;
};

/* FUSE offsets: 1 and 2 are "." and "..", then the MDS's cookies + 2. */
#define DIR_OFF_BASE 2

static int dir_add(void *arg, const struct wire_dirent *d)
{
	struct dir_fill *x = arg;
	size_t n;

	if (x->plus) {
		struct fuse_entry_param e;

		fill_entry(&e, &d->attr);
		n = fuse_add_direntry_plus(x->req, x->buf + x->used,
					   x->size - x->used, d->name, &e,
					   (off_t)(d->cookie + DIR_OFF_BASE));
		if (n > x->size - x->used) {
			x->full = 1;
			return 1;
		}
		sfs_inode_ref(sfs_g, &d->attr);
	} else {
		struct stat st;

		memset(&st, 0, sizeof(st));
		st.st_ino = d->ino;
		st.st_mode = d->type;
		n = fuse_add_direntry(x->req, x->buf + x->used,
				      x->size - x->used, d->name, &st,
				      (off_t)(d->cookie + DIR_OFF_BASE));
		if (n > x->size - x->used) {
			x->full = 1;
			return 1;
		}
	}
	x->used += n;
	x->last_cookie = d->cookie;
	return 0;
}

static int dir_add_dot(struct dir_fill *x, const char *name, fuse_ino_t ino,
		       off_t next)
{
	struct stat st;
	size_t n;

	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	st.st_mode = S_IFDIR;
	if (x->plus) {
		struct fuse_entry_param e;

		/* "." and ".." carry no lookup reference (ino 0 entry). */
		memset(&e, 0, sizeof(e));
		e.attr = st;
		n = fuse_add_direntry_plus(x->req, x->buf + x->used,
					   x->size - x->used, name, &e, next);
	} else {
		n = fuse_add_direntry(x->req, x->buf + x->used,
				      x->size - x->used, name, &st, next);
	}
	if (n > x->size - x->used)
		return 1;
	x->used += n;
	return 0;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       int plus)
{
	struct dir_fill x = { req, NULL, size, 0, plus, 0, 0 };
	uint64_t cookie;
	int more = 1, rc = 0;

	x.buf = malloc(size);
	if (!x.buf) {
		reply_err(req, -ENOMEM);
		return;
	}
	if (off < 1 && dir_add_dot(&x, ".", ino, 1))
		goto out;
	if (off < 2 && dir_add_dot(&x, "..", ino, 2))
		goto out;
	cookie = off > DIR_OFF_BASE ? (uint64_t)off - DIR_OFF_BASE : 0;
	while (more && !x.full) {
		uint32_t want = (uint32_t)MAX(16, (size - x.used) / 48);

		x.last_cookie = cookie;
		rc = store_readdir_batch(sfs_g->c, ino, cookie,
					 MIN(want, STORE_LIST_MAX), plus, dir_add,
					 &x, &more);
		if (rc)
			break;
		if (x.last_cookie == cookie)
			break;
		cookie = x.last_cookie;
	}
out:
	if (rc && x.used == 0)
		reply_err(req, rc);
	else
		fuse_reply_buf(req, x.buf, x.used);
	free(x.buf);
}

static void sfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	sfs_drain(sfs_g, 0); /* order (create.c) */
	(void)fi;
	do_readdir(req, ino, size, off, 0);
}

static void sfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			    off_t off, struct fuse_file_info *fi)
{
	sfs_drain(sfs_g, 0); /* order (create.c) */
	(void)fi;
	do_readdir(req, ino, size, off, 1);
}

static void sfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct store_statfs s;
	struct statvfs st;
	int rc;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	rc = store_statfs(sfs_g->c, &s);
	(void)ino;
	if (rc) {
		reply_err(req, rc);
		return;
	}
	memset(&st, 0, sizeof(st));
	st.f_bsize = 4096;
	st.f_frsize = 4096;
	st.f_blocks = s.blocks;
	st.f_bfree = s.bfree;
	st.f_bavail = s.bfree;
	st.f_files = s.files + s.ffree;
	st.f_ffree = s.ffree;
	st.f_favail = s.ffree;
	st.f_namemax = STORE_NAME_MAX;
	fuse_reply_statfs(req, &st);
}

/* Only the user namespace is kept; other names are not there. */
static int xattr_name_ok(const char *name)
{
	return !strncmp(name, "user.", 5) && name[5];
}

static void sfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 const char *value, size_t size, int flags)
{
	uint32_t wflags = 0;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	if (!xattr_name_ok(name)) {
		reply_err(req, -ENOTSUP);
		return;
	}
	if (flags & XATTR_CREATE)
		wflags |= WIRE_XATTR_CREATE;
	if (flags & XATTR_REPLACE)
		wflags |= WIRE_XATTR_REPLACE;
	reply_err(req, store_setxattr(sfs_g->c, ino, name, value, size, wflags));
}

static void sfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			 size_t size)
{
	char *buf = NULL;
	ssize_t n;

	/* Answered here (the kernel asks security.capability before every
	 * write): no need to order it after anything. */
	if (!xattr_name_ok(name)) {
		reply_err(req, -ENODATA);
		return;
	}
	sfs_drain(sfs_g, 0); /* order (create.c) */
	if (size) {
		buf = malloc(size);
		if (!buf) {
			reply_err(req, -ENOMEM);
			return;
		}
	}
	n = store_getxattr(sfs_g->c, ino, name, buf, size);
	if (n < 0)
		reply_err(req, (int)n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void sfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf = NULL;
	ssize_t n;

	sfs_drain(sfs_g, 0); /* order (create.c) */
	if (size) {
		buf = malloc(size);
		if (!buf) {
			reply_err(req, -ENOMEM);
			return;
		}
	}
	n = store_listxattr(sfs_g->c, ino, buf, size);
	if (n < 0)
		reply_err(req, (int)n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void sfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	sfs_drain(sfs_g, 0); /* order (create.c) */
	if (!xattr_name_ok(name)) {
		reply_err(req, -ENODATA);
		return;
	}
	reply_err(req, store_removexattr(sfs_g->c, ino, name));
}

const struct fuse_lowlevel_ops sfs_ops = {
	.init = sfs_init,
	.lookup = sfs_lookup,
	.forget = sfs_forget,
	.forget_multi = sfs_forget_multi,
	.getattr = sfs_getattr,
	.setattr = sfs_setattr,
	.readlink = sfs_readlink,
	.mknod = sfs_mknod,
	.mkdir = sfs_mkdir,
	.unlink = sfs_unlink,
	.rmdir = sfs_rmdir,
	.symlink = sfs_symlink,
	.rename = sfs_rename,
	.link = sfs_link,
	.open = sfs_open,
	.create = sfs_create,
	.read = sfs_read,
	.write = sfs_write,
	.flush = sfs_flush,
	.fsync = sfs_fsync,
	.fsyncdir = sfs_fsyncdir,
	.release = sfs_release,
	.readdir = sfs_readdir,
	.readdirplus = sfs_readdirplus,
	.statfs = sfs_statfs,
	.setxattr = sfs_setxattr,
	.getxattr = sfs_getxattr,
	.listxattr = sfs_listxattr,
	.removexattr = sfs_removexattr,
};
