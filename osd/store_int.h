/*
 * store_int.h -- what the shard store's files (store.c, store_scan.c,
 * store_compact.c, store_check.c, super.c) share.  Not a public API: the
 * daemon and tests use store.h.  The invariants of these structures are
 * stated in store.c's block comment and checked by store_check().
 */
#ifndef STORE_OSD_STORE_INT_H
#define STORE_OSD_STORE_INT_H

#include "avl.h"
#include "bufpool.h"
#include "io.h"
#include "log.h"
#include "record.h"
#include "store.h"

#include <stdint.h>

/* Segments one group commit covers at once: the head, and a previous
 * head or two finishing their last records (more wait for the next
 * batch). */
#define STORE_SYNC_SEGS 8

/* Group commits in flight at once: the next batch's fdatasync is queued
 * right behind the running one (the file system starts its journal commit
 * as soon as the first ends) instead of after the loop has seen it end. */
#define STORE_SYNC_BATCHES 2

struct store;
struct sync_batch;

struct sync_op {
	struct io_req io;
	struct sync_batch *b;
};

/* One group commit: an fdatasync per segment with records written since
 * the previous batch was issued. */
struct sync_batch {
	struct store *s;
	uint64_t gen;     /* records with this sync_gen are in it */
	unsigned pending; /* fdatasyncs not yet returned; 0: slot free */
	int err;
	struct sync_op ops[STORE_SYNC_SEGS];
};

/* A set of segment ids (sorted, distinct), small: usually empty. */
struct segset {
	uint64_t *v;
	uint32_t n, cap;
};

enum seg_state {
	SEG_PREP,   /* being created */
	SEG_NEXT,   /* created, waiting to become the head */
	SEG_HEAD,   /* records are appended here */
	SEG_CLOSED, /* no more appends (but its SEAL) */
};

struct stomb;

struct seg {
	uint64_t id;
	int fd;
	char name[32];     /* file name in DIR/log */
	uint64_t size;     /* bytes preallocated */
	uint64_t end;      /* head: next append offset; else end of records */
	uint64_t base_lsn;
	uint64_t live;     /* bytes of live records (entries, counted tombs) */
	unsigned pending;  /* records placed here, not yet completed */
	unsigned refs;     /* reads in flight */
	uint8_t state;     /* enum seg_state */
	uint8_t sealed;    /* ends with a SEAL: its records need no check */
	uint8_t need_seal; /* head in this run: SEAL it when pending is 0 */
	uint8_t seal_sent;
	uint8_t broken;    /* a write failed here: never written again */
	uint8_t removed;   /* unlinked; freed when refs drops to 0 */
	uint8_t compacting;
	uint8_t old;       /* found at open (opened read-only) */
	uint64_t cpt_retry_ms; /* not compacted before this time */
	struct stomb **rdeps; /* tombstones with this id in their deps */
	uint32_t n_rdeps, cap_rdeps;
	struct stomb *tombs;  /* tombstones whose record is here */
};

/* A live shard version: the newest PUT record of its id not covered by a
 * tombstone. */
struct sentry {
	struct avl_node node; /* s->index, by wire_shard_id_cmp */
	struct wire_shard_id id;
	uint8_t k, m;
	uint32_t obj_len;
	uint32_t shard_len;
	uint64_t mtime_ns;
	uint64_t seq, lsn;
	struct seg *seg;
	uint64_t off;
	uint32_t rec_len;
	/* Segments that may hold older (dead) PUT records of this id: if the
	 * entry dies, whatever kills it must cover them too. */
	struct segset shadows;
};

/* A DELETE record still in a segment. */
struct stomb {
	struct avl_node node; /* s->tombs, by (shard key, version, seq) */
	struct wire_shard_id id;
	uint8_t older;        /* REC_F_OLDER */
	uint8_t counted;      /* counted in seg->live (has a foreign dep) */
	uint64_t seq, lsn, mtime_ns;
	struct seg *seg;
	uint64_t off;
	struct stomb *snext, *sprev; /* seg->tombs */
	/* Segments that hold PUT records this tombstone deletes: it must
	 * outlive them, or those records would come back at the next
	 * start. */
	struct segset deps;
};

enum rec_kind { RK_PUT, RK_DELETE, RK_COPY, RK_SEAL };
enum rec_state {
	RS_WAIT,    /* waiting for room in a segment */
	RS_WRITING, /* write in flight */
	RS_WRITTEN, /* written, not yet covered by an fdatasync */
	RS_SYNCING, /* an fdatasync covering it is in flight */
	RS_DURABLE, /* on disk, waiting for its turn to complete */
};

struct compaction;

/* A record on its way to the log. */
struct srec {
	struct io_req io;
	struct store *s;
	struct srec *next; /* queue or wait list */
	uint8_t kind;      /* enum rec_kind */
	uint8_t state;     /* enum rec_state */
	uint8_t reappend;  /* rewrite elsewhere once the write returns */
	struct rec_hdr hdr;
	struct seg *seg;
	uint64_t off;
	uint8_t *buf;
	size_t buf_cap;
	uint64_t sync_gen;
	store_done_fn done;
	void *arg;
};

/* A deferred completion (a delete with nothing to delete, a failure). */
struct sdefer {
	struct sdefer *next;
	store_done_fn done;
	void *arg;
	int rc;
};

struct compaction {
	struct io_req io;
	struct store *s;
	struct seg *seg;
	uint64_t off;
	int state;
	int busy;             /* a header read is in flight */
	int failed;
	int passes;
	unsigned copies;      /* copy records in flight */
	uint64_t copy_bytes;
	uint8_t *hbuf;        /* one block: a record header */
	size_t hbuf_cap;
	uint8_t *rbuf;        /* a whole record being read */
	size_t rbuf_cap;
	struct rec_hdr hdr;
};

struct store {
	char dir[4096];
	int dirfd, logfd;
	struct io_ring *ring;
	struct bufpool *pool;
	struct osd_super sb;
	int odirect;            /* O_DIRECT works on this file system */
	uint64_t seg_size;
	uint64_t del_reserve;   /* bytes of a segment only DELETEs may use */
	unsigned compact_pct;

	struct avl_tree index;  /* struct sentry */
	struct avl_tree tombs;  /* struct stomb */

	struct seg **segs;      /* sorted by id */
	uint32_t n_segs, cap_segs;
	struct seg *head, *next;
	uint64_t next_seg_id;
	uint64_t next_lsn;

	/* Records placed in the log, in lsn order, and records waiting for
	 * room. */
	struct srec *q_head, *q_tail;
	struct srec *w_head, *w_tail;
	unsigned n_written;     /* records in RS_WRITTEN */
	unsigned n_need_seal;   /* segments with need_seal set */
	struct sync_batch batches[STORE_SYNC_BATCHES];
	uint64_t sync_gen;      /* of the last batch issued */

	struct sdefer *d_head, *d_tail;

	/* Segment preparation. */
	int preparing;
	int full;               /* the last preparation failed: ENOSPC */
	uint64_t full_retry_ms;
	int full_logged;

	struct compaction cpt;
	int cpt_active;
	uint64_t cpt_next_pick_ms;

	unsigned client_ops;    /* puts, deletes, gets not completed */
	unsigned io_pending;    /* store-owned I/O in flight on the ring */
	int broken;             /* an fdatasync failed: writes refused */
	int closing;
	int replaying;

	uint64_t compactions, syncs, records;
	struct log_limit eio_log, werr_log;
};

/* ---- store.c -------------------------------------------------------------*/

/* Segment table. */
struct seg *seg_find(const struct store *s, uint64_t id);
int seg_add(struct store *s, struct seg *g);
void seg_format_name(char *name, size_t len, uint64_t id);
/* Forget a segment whose file is gone: drop it from tombstones' deps and
 * free the tombstones recorded in it.  Its live bytes must be 0. */
void seg_remove(struct store *s, struct seg *g);
void seg_put_ref(struct store *s, struct seg *g);

/* Apply a durable record (at its commit, or at startup) to the index. */
void apply_put(struct store *s, const struct rec_hdr *h, struct seg *g,
	       uint64_t off);
void apply_delete(struct store *s, const struct rec_hdr *h, struct seg *g,
		  uint64_t off);
void store_finish_replay(struct store *s);

struct sentry *index_find(const struct store *s,
			  const struct wire_shard_id *id);
struct stomb *tomb_find(const struct store *s, const struct wire_shard_id *id,
			uint64_t seq);
/* The tombstone with the highest seq covering version id->version of its
 * shard with seq > seq, or NULL. */
struct stomb *tomb_covering(const struct store *s,
			    const struct wire_shard_id *id, uint64_t seq);

/* Place a record in the log (or the wait list).  Returns 0, or -ENOSPC /
 * -EFBIG if it can never be placed now (nothing done). */
int rec_submit(struct store *s, struct srec *r);
void rec_free(struct store *s, struct srec *r);

int segset_add(struct segset *ss, uint64_t id);
int segset_has(const struct segset *ss, uint64_t id);
void segset_del(struct segset *ss, uint64_t id);
void segset_free(struct segset *ss);

/* ---- store_scan.c --------------------------------------------------------*/

/* Scan DIR/log and rebuild the index.  Returns 0 or -errno with err. */
int store_scan(struct store *s, char *err, size_t errlen);

/* ---- store_compact.c -----------------------------------------------------*/

/* Start or advance compaction (from store_poll). */
void compact_poll(struct store *s);
/* A copy record completed (rc 0) or failed. */
void compact_copy_done(struct store *s, struct srec *r, int rc);
/* Is compaction idle (nothing in flight)? */
int compact_idle(const struct store *s);

/* ---- super.c -------------------------------------------------------------*/

/* Open (and lock) the folder, loading or creating its superblock and log
 * directory.  Fills s->dirfd, s->logfd, s->sb.  Returns 0 or -errno with
 * err. */
int super_open(struct store *s, char *err, size_t errlen);
/* Replace the superblock atomically with s->sb. */
int super_write(struct store *s);

#endif
