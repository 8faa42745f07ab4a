/*
 * store.h -- the shard store: every shard an OSD holds, in a log of
 * preallocated segment files written with O_DIRECT through io_uring, with
 * an in-memory index rebuilt from the log at startup (BlueStore/Haystack
 * style; docs/osd.md explains the format and the reasoning).
 *
 * The store is driven by the caller's event loop: operations are submitted
 * with a completion callback, the loop runs the shared io_ring
 * (io_run()) and then store_poll(), which issues the group fdatasync,
 * acknowledges durable records in log order, and moves compaction and
 * segment preparation along.  Callbacks run from io_run() or store_poll(),
 * never from inside the call that submitted the operation; they may submit
 * more operations but must not close the store.
 *
 * Guarantees:
 *   - a PUT or DELETE completes with 0 only when its record is on disk and
 *     an fdatasync covering it has returned; completions come in log order;
 *   - after a crash, every operation that completed with 0 is there after
 *     reopening, byte for byte; an operation that did not complete may or
 *     may not be;
 *   - reads and lists see exactly the completed operations;
 *   - a GET never returns data whose crc32c does not match: -EIO instead,
 *     and one log line naming the shard;
 *   - with the disk full, PUTs fail with -ENOSPC (one log line) while GETs,
 *     LISTs and DELETEs keep working.
 *
 * Not thread-safe: one store belongs to one event loop.
 */
#ifndef STORE_OSD_STORE_H
#define STORE_OSD_STORE_H

#include "record.h"
#include "wire_osd.h"

#include <stddef.h>
#include <stdint.h>

struct store;
struct io_ring;

/* Segment file size: large enough that a STORE_SHARD_MAX shard fits with
 * room to spare and that the per-segment overhead (a header block, a seal
 * block, one file) is noise; small enough that compacting one copies at
 * most a few hundred MiB and that the unused tail of the newest segment
 * is a small part of a small disk. */
#define STORE_SEG_SIZE_DEFAULT (256ull << 20)
/* The smallest segment size accepted (tests use tiny segments to exercise
 * compaction and segment switches). */
#define STORE_SEG_SIZE_MIN (256ull << 10)
/* Compact a segment once less than this percentage of it is live: the
 * copying then costs at most as much as the space it frees. */
#define STORE_COMPACT_PCT_DEFAULT 50

struct store_opts {
	const char *dir;         /* the OSD's data folder */
	struct io_ring *ring;    /* the loop's ring, used for all disk I/O */
	uint64_t segment_size;   /* 0: STORE_SEG_SIZE_DEFAULT */
	unsigned compact_pct;    /* 0: STORE_COMPACT_PCT_DEFAULT; >100 off */
};

/*
 * Open the store in opts->dir: format an empty (or missing) folder with a
 * new superblock (fresh uuid, no cluster, no OSD id), or load an existing
 * one and rebuild the index by scanning its log.  A folder that is not
 * empty but has no valid superblock is refused, as is a folder another
 * process has open.  Returns 0 and *out, or -errno with one sentence in err
 * (naming the folder and what to do).
 */
int store_open(const struct store_opts *opts, struct store **out, char *err,
	       size_t errlen);

/*
 * Finish every operation in flight (running its callback), write a seal
 * record to the newest segment, and free the store.  Operations submitted
 * during the close fail with -ESHUTDOWN.  NULL is ignored.
 */
void store_close(struct store *s);

/* The folder's superblock. */
const struct osd_super *store_super(const struct store *s);

/* Record the cluster id and OSD id the MDS gave this folder, atomically in
 * the superblock (synchronously: called once per boot at most).  Returns
 * 0 or -errno. */
int store_set_identity(struct store *s, const uint8_t cluster_id[16],
		       uint32_t osd_id);

/* ---- operations ----------------------------------------------------------*/

typedef void (*store_done_fn)(void *arg, int rc);

struct store_put_args {
	struct wire_shard_id id; /* version must not be 0 */
	uint8_t k, m;
	uint32_t obj_len;
	uint32_t len;            /* bytes of data */
	const uint8_t *data;
	const uint8_t *csums;    /* wire_csum_count(len) LE u32, or NULL to
				    have the store compute them */
};

/*
 * Store a shard version (replacing the same id if present).  The data is
 * copied (once, into the aligned record) and every block's crc checked
 * against csums on the way, so the caller's buffers may be released as
 * soon as this returns.  Returns 0 (done(arg, rc) will be called with 0 or
 * -ENOSPC, -EIO, -ESHUTDOWN) or, without calling done: -EBADMSG (block
 * *bad_block does not match its crc; nothing stored), -EINVAL (version 0),
 * -EFBIG (larger than a segment can hold), -ENOSPC (disk full), -EIO (the
 * store has failed), -ESHUTDOWN, -ENOMEM.
 */
int store_put(struct store *s, const struct store_put_args *a,
	      store_done_fn done, void *arg, uint32_t *bad_block);

/* Flags of store_delete(). */
#define STORE_DEL_OLDER 0x1u /* every version < id->version instead */

/*
 * Delete a shard version (or, with STORE_DEL_OLDER, every older version).
 * Deleting what is not there succeeds.  Returns 0 (done(arg, rc) follows:
 * 0 once the delete is durable, or -ENOSPC, -EIO, -ESHUTDOWN) or -EIO,
 * -ESHUTDOWN, -ENOMEM without calling done.
 */
int store_delete(struct store *s, const struct wire_shard_id *id,
		 unsigned flags, store_done_fn done, void *arg);

/* The result of a read, valid only during the callback. */
struct store_read {
	uint64_t version;
	uint8_t k, m;
	uint32_t obj_len;
	uint32_t shard_len;
	uint64_t mtime_ns;
	uint32_t offset;       /* of data in the shard: a block multiple */
	uint32_t data_len;
	const uint8_t *csums;  /* wire_csum_count(data_len) LE u32 */
	const uint8_t *data;
};

typedef void (*store_read_fn)(void *arg, int rc, const struct store_read *r);

/*
 * Read bytes [offset, offset + len) of a shard (len 0: to its end),
 * widened to whole checksum blocks, every block verified.  id->version 0
 * reads the newest version held.  Returns 0 (done(arg, rc, r) follows:
 * rc 0 with r, or -EIO for data that fails its crc or a disk error) or,
 * without calling done: -ENOENT, -ERANGE (offset past the end), -ENOMEM,
 * -ESHUTDOWN.
 */
int store_get(struct store *s, const struct wire_shard_id *id,
	      uint32_t offset, uint32_t len, store_read_fn done, void *arg);

/* One shard version, as listed. */
struct store_entry {
	struct wire_shard_id id;
	uint8_t k, m;
	uint32_t obj_len;
	uint32_t shard_len;
	uint64_t mtime_ns;
};

/* A filter for store_list(): non-zero to keep an entry. */
typedef int (*store_filter_fn)(void *arg, const struct wire_shard_id *id);

/*
 * List the shard versions of pool in (pool, ino, objno, index, version)
 * order, strictly after *after (from the start if NULL), keeping those
 * filter accepts (all if NULL), at most max of them into out.  *more is set
 * if more would follow.  Returns the number listed.
 */
uint32_t store_list(struct store *s, uint32_t pool,
		    const struct wire_shard_id *after, store_filter_fn filter,
		    void *farg, struct store_entry *out, uint32_t max,
		    int *more);

/* ---- driving -------------------------------------------------------------*/

/* Move everything along after io_run(): issue the group fdatasync for the
 * records written since the last one, complete durable records in log
 * order, run deferred callbacks, prepare segments, compact. */
void store_poll(struct store *s);

/* io_run(ring, timeout_ms) then store_poll(): a loop for tests and tools
 * that own the ring.  Returns what io_run() returned. */
int store_run(struct store *s, int timeout_ms);

/* Client operations (put, delete, get) not yet completed. */
unsigned store_busy(const struct store *s);

/* Run the ring until no client operation is in flight and no compaction
 * step is pending (for tests; the daemon never blocks).  Returns 0. */
int store_drain(struct store *s);

struct store_stats {
	uint64_t shards;       /* shard versions held */
	uint64_t tombstones;   /* delete records still needed */
	uint64_t segments;
	uint64_t bytes_disk;   /* segment files */
	uint64_t bytes_live;   /* records that are live */
	uint64_t compactions;  /* segments compacted away since open */
	uint64_t syncs;        /* fdatasync batches since open */
	uint64_t records;      /* records written since open */
	int full;              /* PUTs are refused for lack of space */
	int failed;            /* a disk error stopped all writes */
};

void store_get_stats(const struct store *s, struct store_stats *st);

/* ---- checking and testing ------------------------------------------------*/

/* store_check() flag: also read every live record's header back from disk
 * and walk every segment's records to check that each one is live or
 * covered by a newer record (slow). */
#define STORE_CHECK_DISK 0x1u

/*
 * Check the store's invariants (store.c's block comment): index and
 * tombstones against the segments, space accounting, the queue of records
 * in flight; with STORE_CHECK_DISK, against the log on disk.  Returns 0,
 * or -EUCLEAN with a description of the first violation in why.
 */
int store_check(struct store *s, unsigned flags, char *why, size_t whylen);

/* Where the record of a shard version (version 0: newest) lives: the
 * segment file's path and the record's offset and length.  Returns 0 or
 * -ENOENT.  For tests that damage records on purpose. */
int store_locate(struct store *s, const struct wire_shard_id *id, char *path,
		 size_t pathlen, uint64_t *off, uint32_t *len);

/* Change the compaction threshold (percent live; >100 disables). */
void store_set_compact_pct(struct store *s, unsigned pct);

#endif
