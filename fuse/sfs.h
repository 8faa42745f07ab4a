/*
 * sfs.h -- storefs, the FUSE client: what its files share.
 *
 * storefs maps FUSE's low-level operations onto libstore.  FUSE inode
 * numbers are the cluster's inode numbers (the root is 1 on both sides).
 *
 * The inode table holds what the kernel has looked up (nlookup) or has
 * open, with the last attributes seen.  An open regular file also gets a
 * struct sfs_file, shared by every handle on that inode in this mount:
 * its size as this mount sees it, its committed object map, and its dirty
 * data:
 *   - an inline file (at most inline_max bytes) is held whole in ibuf;
 *   - otherwise dirty data lives in whole-object buffers (struct sfs_dobj)
 *     with the byte extents written; an object written end to end is sent
 *     to its OSDs at once by a writer thread (write-behind), and its new
 *     version waits in `pending` for the next commit;
 *   - flush (close), fsync and release write the partial objects (reading
 *     the old object first where the extents leave holes in it), wait for
 *     the writer threads, and COMMIT every pending version and the size to
 *     the MDS in one request: close-to-open consistency.
 * Locking: the table lock protects the hash chains and nlookup/refs;
 * each inode's lock protects everything else of it.  No RPC is made with a
 * table lock held; an inode's lock is held across the RPCs of its own
 * flush (so that two flushes of one file never interleave).
 */
#ifndef SFS_H
#define SFS_H

#define FUSE_USE_VERSION 34
#include <fuse_lowlevel.h>

#include "client.h"

#include <pthread.h>
#include <stdint.h>

struct sfs_extent {
	uint32_t start, end; /* [start, end) of the object written */
};

/* A dirty object: a whole-object buffer and the extents written to it. */
struct sfs_dobj {
	uint64_t objno;
	uint8_t *buf;             /* object_size bytes */
	struct sfs_extent *ext;   /* sorted, disjoint, not touching */
	unsigned n_ext, cap_ext;
	int based;                /* buf also holds the old object's bytes */
	struct sfs_dobj *next;
};

struct sfs_file {
	uint64_t size;           /* as this mount sees it */
	uint32_t object_size;
	int is_inline;           /* content kept inline at the MDS */
	uint8_t *ibuf;           /* inline content (inline_max bytes) */
	uint32_t ilen;
	int idirty;
	struct wire_obj *objs;   /* committed object map, sorted by objno */
	uint32_t n_objs, cap_objs;
	uint64_t objs_gen;       /* attr gen the map was read at */
	struct sfs_dobj *dirty;  /* partial dirty objects */
	struct wire_obj *pending; /* written, to commit: one per objno */
	uint64_t *pending_seq;    /* write order of each pending version */
	uint32_t n_pending, cap_pending;
	uint64_t wseq;            /* numbers object writes in issue order */
	struct wire_obj *discard; /* superseded before commit: to delete */
	uint32_t n_discard, cap_discard;
	unsigned inflight;       /* objects with the writer threads */
	pthread_cond_t inflight_cv;
	int meta_dirty;          /* size, times or attributes to commit */
	uint32_t set_valid;      /* buffered chmod/chown/atime: WIRE_SET_* */
	struct wire_attr set;    /* their values */
	int64_t mtime_ns;
	int err;                 /* a write-behind failure, for flush */
	/* Created here, not yet at the MDS (create.c): the name it gets. */
	int pending_create;
	uint64_t pc_parent;
	char pc_name[STORE_NAME_MAX + 1];
	int create_err;          /* its create failed: every flush says so */
	/* Sequential-read detection and read-ahead. */
	uint64_t next_read;
	unsigned seq_reads;
};

struct sfs_inode {
	uint64_t ino;
	uint64_t nlookup;   /* kernel references (table lock) */
	unsigned refs;      /* our own pins (table lock) */
	struct sfs_inode *hnext;
	pthread_mutex_t mu;
	struct wire_attr attr;
	uint64_t attr_ns;   /* when attr was fetched */
	int opens;
	int writers;        /* opens with write access (in->mu) */
	int around;         /* read-arounds between their read and their
			     * push into the page cache (in->mu) */
	pthread_cond_t around_cv;
	int unlinked;       /* an orphan at the MDS, until last release */
	struct sfs_file *f;
};

struct sfs {
	struct store_client *c;
	double attr_timeout, entry_timeout;
	int writeback;       /* kernel writeback cache */
	int ro;
	uint32_t inline_max;
	/* The inode table. */
	pthread_mutex_t tbl_mu;
	struct sfs_inode **buckets;
	unsigned n_buckets;
	/* Write-behind: full objects queued for the writer threads. */
	pthread_mutex_t wq_mu;
	pthread_cond_t wq_cv, wq_space;
	struct sfs_wjob *wq_head, *wq_tail;
	unsigned wq_len;
	int wq_stop;
	pthread_t writers[8];
	unsigned n_writers;
	/* Clean object cache for sequential reads. */
	struct sfs_cache *cache;
	/* For pushing read-around data into the kernel's page cache. */
	struct fuse_session *se;
	int noreadaround;
	/* Unlinks answered before the MDS has them (async.c). */
	struct sfs_async *async;
	/* Creates sent with their first commit (create.c). */
	struct sfs_pc *pc;
	/* Folders this mount just made (fresh.c). */
	struct sfs_fresh *fresh;
	int noasync;
};

extern struct sfs *sfs_g;

/* ---- unlinks in the background (async.c) ------------------------------*/

/* Start the sender threads.  Returns 0 or -errno (then every unlink is
 * made synchronously). */
int sfs_async_init(struct sfs *fs);
/* Send what is queued, then stop the senders. */
void sfs_async_destroy(struct sfs *fs);
/* Queue the unlink of name in parent; the caller answers the kernel at
 * once.  Returns 0, or -errno when it was not queued (the caller unlinks
 * synchronously). */
int sfs_async_unlink(struct sfs *fs, uint64_t parent, const char *name);
/* Wait until every unlink queued before this call is answered by the
 * MDS. */
void sfs_async_drain(struct sfs *fs);

/* ---- negative lookups in fresh folders (fresh.c) ----------------------*/

int sfs_fresh_init(struct sfs *fs);
void sfs_fresh_destroy(struct sfs *fs);
/* This mount made folder ino (empty): track it for entry_timeout. */
void sfs_fresh_mkdir(struct sfs *fs, uint64_t ino);
/* This mount is about to add name to parent (create, mkdir, symlink,
 * link, mknod, rename into it): called before the request goes out. */
void sfs_fresh_added(struct sfs *fs, uint64_t parent, const char *name);
/* Is name surely absent from parent (a fresh folder, a name this mount
 * has not added)?  1: answer "no such name" without asking the MDS. */
int sfs_fresh_absent(struct sfs *fs, uint64_t parent, const char *name);

/* ---- creates at close (create.c) -------------------------------------*/

int sfs_pc_init(struct sfs *fs);
void sfs_pc_destroy(struct sfs *fs);
/* A reserved inode number for a create made here.  Returns 0 or -errno
 * (then the create goes to the MDS at once). */
int sfs_pc_take_ino(struct sfs *fs, uint64_t *ino);
/* Note in as created here and not yet at the MDS (in->mu held; in->f set
 * up): its create goes with its first commit (sfs_pc_commit), or sooner
 * when something else needs it there (sfs_pc_settle). */
void sfs_pc_add(struct sfs *fs, struct sfs_inode *in, uint64_t parent,
		const char *name);
/* in->mu held.  Create in at the MDS now if it is pending, without its
 * data.  Returns 0 or -errno (the create failed: in->f->create_err). */
int sfs_pc_settle(struct sfs *fs, struct sfs_inode *in);
/* in->mu held, in pending and inline: create it with its data and times
 * in one request.  Returns 0 or -errno. */
int sfs_pc_commit(struct sfs *fs, struct sfs_inode *in);

/* Order this mount's operations: wait for the unlinks queued before, and
 * create at the MDS every file still pending except `except` (an inode
 * the caller serves from what it holds).  Every operation other than
 * forget, read and write calls it first. */
void sfs_drain(struct sfs *fs, uint64_t except);

/* ---- inode table (inode.c) -------------------------------------------*/

int sfs_table_init(struct sfs *fs);
void sfs_table_destroy(struct sfs *fs);

/* The inode for ino, created if asked; the result is pinned (refs + 1):
 * sfs_inode_put() it.  NULL if absent (or ENOMEM). */
struct sfs_inode *sfs_inode_get(struct sfs *fs, uint64_t ino, int create);
void sfs_inode_put(struct sfs *fs, struct sfs_inode *in);

/* The kernel got a reference (lookup, create, readdirplus): nlookup + 1,
 * and remember attr. */
void sfs_inode_ref(struct sfs *fs, const struct wire_attr *attr);

/* FORGET: nlookup - n; the inode goes when nothing holds it. */
void sfs_inode_forget(struct sfs *fs, uint64_t ino, uint64_t n);

/* Attributes to a struct stat. */
void sfs_attr_to_stat(const struct wire_attr *a, struct stat *st);

/* ---- file data (data.c) ----------------------------------------------*/

int sfs_data_init(struct sfs *fs);
void sfs_data_destroy(struct sfs *fs);

/* Make in->f for an open (attributes and inline data from OPEN).
 * Called with in->mu held. */
int sfs_file_open(struct sfs *fs, struct sfs_inode *in,
		  const struct wire_attr *a, const void *idata,
		  uint32_t ilen);

/* Wait until no read-ahead of in->f is in flight (in->mu held; dropped
 * while waiting, so in->f may be another file or NULL on return). */
void sfs_file_release_wait(struct sfs_inode *in);

/* Drop in->f after the last release (in->mu held, nothing dirty). */
void sfs_file_free(struct sfs_file *f);

ssize_t sfs_file_read(struct sfs *fs, struct sfs_inode *in, char *buf,
		      size_t len, off_t off);

/*
 * Read-around (data.c): a small read that is not sequential fetches the
 * aligned SFS_AROUND bytes around it from the OSDs in one go, so that the
 * caller, after replying, pushes the rest into the kernel's page cache
 * (fuse_lowlevel_notify_store) and the neighbouring reads never reach us.
 * Only while no handle of this mount may write the file (in->writers),
 * which opens for writing and truncates wait out (in->around): pushing
 * bytes read before a local write would put stale data in the cache.
 * Other mounts' writes are seen at the next open (close-to-open).
 * Returns 1 with buf filled and *w set (the caller pushes w, then calls
 * sfs_read_around_done()), 0 if not applicable (read normally), -errno.
 */
#define SFS_AROUND (64u << 10)
struct sfs_around {
	char *buf;
	uint64_t off;
	uint32_t len;
};
int sfs_file_read_around(struct sfs *fs, struct sfs_inode *in, char *buf,
			 size_t len, off_t off, struct sfs_around *w);
void sfs_read_around_done(struct sfs_inode *in, struct sfs_around *w);
ssize_t sfs_file_write(struct sfs *fs, struct sfs_inode *in, const char *buf,
		       size_t len, off_t off);
/* Write everything dirty and commit it (in->mu held).  Returns 0 or
 * -errno. */
int sfs_file_flush(struct sfs *fs, struct sfs_inode *in);
/* Truncate (in->mu held): local state and the MDS. */
int sfs_file_truncate(struct sfs *fs, struct sfs_inode *in, uint64_t size,
		      struct wire_attr *attr);

/* Size, times and buffered attributes as this mount sees them, for
 * getattr of an open file. */
void sfs_file_patch_attr(const struct sfs_inode *in, struct wire_attr *a);

/* Buffer attribute changes of an open regular file (in->mu held): they
 * go to the MDS with the file's next commit.  Returns 1 if buffered, 0 if
 * they must be sent now. */
int sfs_file_buffer_attrs(struct sfs_inode *in, uint32_t valid,
			  const struct wire_attr *want);

#endif
