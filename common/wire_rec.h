/*
 * wire_rec.h -- payloads of the recovery and scrub messages (docs/recovery.md):
 *
 *   PG_OBJECTS (MDS)  the authoritative list of one placement group's
 *                     committed objects, which a PG's primary OSD compares
 *                     with what the OSDs hold;
 *   SCRUB (OSD)       check (and repair) one placement group, or every PG
 *                     the OSD is primary for, and report what was found;
 *   and the per-OSD recovery counters that ride at the end of a STATUS
 *   reply (wire_osd_stat).
 *
 * Lists are encoded like the other list replies: a count, a `more` byte,
 * then fixed-size entries, validated as a whole by the decoder so that
 * walking them cannot fail.  Entries point into the received message.
 */
#ifndef STORE_WIRE_REC_H
#define STORE_WIRE_REC_H

#include "buf.h"
#include "store_limits.h"

#include <stdint.h>

/* ---- PG_OBJECTS ----------------------------------------------------------*/

/* Request: the committed objects of PG pg of pool, in (ino, objno) order,
 * strictly after (after_ino, after_objno) when has_after is 1, at most max
 * (0: STORE_LIST_MAX). */
struct wire_pg_objects {
	uint32_t pool;
	uint32_t pg;
	uint32_t max;
	uint8_t has_after;
	uint64_t after_ino;
	uint64_t after_objno;
};

/* One committed object: its version and the bytes of file data in it. */
struct wire_pg_obj {
	uint64_t ino;
	uint64_t objno;
	uint64_t version;
	uint32_t length;
};

/* Reply: walk the entries with wire_pg_objects_next(). */
struct wire_pg_objects_reply {
	uint32_t count;
	uint8_t more; /* more objects follow the last one */
	struct rbuf entries;
};

void wire_enc_pg_objects(struct wbuf *w, const struct wire_pg_objects *m);
int wire_dec_pg_objects(const uint8_t *p, size_t len,
			struct wire_pg_objects *m);
/* A reply is written as _begin, one _entry per object, _end (which patches
 * the count); begin returns the offset end needs. */
size_t wire_enc_pg_objects_begin(struct wbuf *w);
void wire_enc_pg_obj(struct wbuf *w, const struct wire_pg_obj *e);
void wire_enc_pg_objects_end(struct wbuf *w, size_t at, uint32_t count,
			     int more);
int wire_dec_pg_objects_reply(const uint8_t *p, size_t len,
			      struct wire_pg_objects_reply *m);
/* Next entry: 1 and *e filled, or 0 at the end. */
int wire_pg_objects_next(struct wire_pg_objects_reply *m,
			 struct wire_pg_obj *e);

/* ---- SCRUB ---------------------------------------------------------------*/

/* Flags of SCRUB. */
enum {
	/* Also read every shard (its holder checks the block crcs) and check
	 * the parity of a sample of objects. */
	WIRE_SCRUB_DEEP = 1 << 0,
	/* Delete unreferenced shard versions whatever their age.  Unsafe
	 * while writes are in flight: a writer's shards exist before its
	 * commit.  For tests and operators who know the cluster is idle. */
	WIRE_SCRUB_GC_NOW = 1 << 1,
	/* With DEEP: check the parity of every object, not a sample. */
	WIRE_SCRUB_PARITY_ALL = 1 << 2,
};
#define WIRE_SCRUB_FLAGS                                                       \
	(WIRE_SCRUB_DEEP | WIRE_SCRUB_GC_NOW | WIRE_SCRUB_PARITY_ALL)

/* Request: check PG pg of pool (WIRE_PG_ALL: every PG the OSD is primary
 * for under its map), restricted to the objects of inode ino when it is
 * not 0.  The reply comes once every check and repair is done. */
struct wire_scrub {
	uint32_t pool;
	uint32_t pg;
	uint32_t flags;
	uint64_t ino;
};

/* Reply: what was found and what was done about it.  Counts are of the
 * first check of each PG (a PG is checked again after repairs, and
 * `unrepairable` is what that last check still found). */
struct wire_scrub_reply {
	uint64_t epoch;        /* map epoch of the last check */
	uint32_t pgs;          /* placement groups checked */
	uint64_t objects;      /* committed objects checked */
	uint64_t shards;       /* shard copies of committed versions seen */
	uint64_t missing;      /* shards absent everywhere: rebuilt */
	uint64_t misplaced;    /* shards held only off their position: moved */
	uint64_t stale;        /* shard versions nobody references */
	uint64_t stale_deleted;/* ... of which deleted (older than the grace) */
	uint64_t corrupt;      /* bad crc, wrong size, or parity mismatch */
	uint64_t repaired;     /* shards written (copied or rebuilt) */
	uint64_t unrepairable; /* objects still not whole at the end */
};

void wire_enc_scrub(struct wbuf *w, const struct wire_scrub *m);
int wire_dec_scrub(const uint8_t *p, size_t len, struct wire_scrub *m);
void wire_enc_scrub_reply(struct wbuf *w, const struct wire_scrub_reply *m);
int wire_dec_scrub_reply(const uint8_t *p, size_t len,
			 struct wire_scrub_reply *m);

/* ---- per-OSD counters in STATUS -----------------------------------------*/

/* Flags of an OSD in a wire_osd_stat.  FULL: its store refuses new
 * shards (no room for another log segment); NEARFULL: its file system is
 * at least HEALTH_NEARFULL_PCT used (mds/status.h). */
enum {
	WIRE_OSD_STAT_UP = 1,
	WIRE_OSD_STAT_IN = 2,
	WIRE_OSD_STAT_FULL = 4,
	WIRE_OSD_STAT_NEARFULL = 8,
};
#define WIRE_OSD_STAT_ALL                                                   \
	(WIRE_OSD_STAT_UP | WIRE_OSD_STAT_IN | WIRE_OSD_STAT_FULL |         \
	 WIRE_OSD_STAT_NEARFULL)

/* What the MDS knows of one OSD's data and recovery work (from its last
 * heartbeat; counters "since boot" restart at 0 with the OSD). */
struct wire_osd_stat {
	uint32_t id;
	uint8_t flags;             /* WIRE_OSD_STAT_* */
	uint32_t pgs;              /* PGs it is primary for (MDS's map) */
	uint64_t shards;           /* shard versions it holds */
	uint64_t used;             /* bytes of its store on disk */
	uint64_t pass_epoch;       /* epoch of its last complete pass */
	uint64_t degraded;         /* objects, in its primary PGs */
	uint64_t misplaced;
	uint64_t unfound;
	uint64_t bytes_left;       /* shard bytes still to write */
	uint64_t recovery_bytes;   /* shard bytes written by recovery */
	uint64_t shards_recovered; /* rebuilt by decoding, since boot */
	uint64_t shards_moved;     /* copied to their position, since boot */
	uint64_t shards_gc;        /* garbage deleted, since boot */
	uint64_t scrub_errors;     /* corrupt shards found, since boot */
};

void wire_enc_osd_stat(struct wbuf *w, const struct wire_osd_stat *s);
/* Decode one; a malformed entry latches -EBADMSG in r. */
void wire_dec_osd_stat(struct rbuf *r, struct wire_osd_stat *s);
/* Encoded size of one wire_osd_stat. */
#define WIRE_OSD_STAT_LEN (4 + 1 + 4 + 12 * 8)

#endif
