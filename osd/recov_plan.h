/*
 * recov_plan.h -- the recovery planner: given what one placement group
 * should hold (its committed objects, from the MDS), what the OSDs hold
 * (their inventories of the PG) and where each position lives under the
 * current map, decide what to copy, what to rebuild and what to delete.
 *
 * Pure logic, no I/O: recovery.c gathers the inputs and carries out the
 * plan; tests/unit/test_recovery.c drives it with made-up inventories.
 * docs/recovery.md describes the rules; in short, for each committed
 * object and each position i whose OSD is up and was inventoried:
 *
 *   - the OSD holds a good shard i of the committed version: fine, and any
 *     other copy of shard i elsewhere is surplus (deleted now: the copy in
 *     place is durable, the inventory only lists acknowledged shards);
 *   - else some OSD holds a good shard i: COPY it (misplaced), and delete
 *     the copies away from home once the new one is acknowledged;
 *   - else REBUILD it from any k good shards (degraded);
 *
 * a position with no OSD or a down OSD leaves the object degraded (nothing
 * to write to until the map changes); fewer than k good shards anywhere
 * make it unfound (nothing is done, nothing deleted).  A shard is good when
 * its holder did not fail its crc check (deep scrub) and its profile and
 * lengths agree with the other copies of its version (a majority vote)
 * and with the object's committed length.  Shard versions the MDS does not
 * reference are garbage, deleted once older than the grace (a writer's
 * shards exist before its commit), or at once with RECOV_GC_NOW.
 */
#ifndef STORE_OSD_RECOV_PLAN_H
#define STORE_OSD_RECOV_PLAN_H

#include "store_limits.h"
#include "wire_osd.h"

#include <stddef.h>
#include <stdint.h>

/* A committed object of the PG (from PG_OBJECTS). */
struct recov_obj {
	uint64_t ino;
	uint64_t objno;
	uint64_t version;
	uint32_t length; /* bytes of file data, as committed */
};

/* One shard version an OSD holds (from its SHARD_LIST). */
struct recov_shard {
	uint32_t osd;
	struct wire_shard_entry e;
	uint8_t bad; /* its holder failed its block crcs (deep scrub) */
};

/* What a position's OSD can do for the plan. */
enum recov_target {
	RECOV_T_OK = 0,   /* up and inventoried: can receive shards */
	RECOV_T_NONE,     /* CRUSH found no OSD for the position */
	RECOV_T_DOWN,     /* the OSD is down (until it is marked out) */
	RECOV_T_UNKNOWN,  /* up but its inventory failed: nothing is known */
};

/* Planner flags. */
enum {
	RECOV_GC_NOW = 1 << 0, /* garbage of any age is deleted */
};

struct recov_pg_in {
	uint8_t k, m;                          /* the pool's profile */
	uint32_t set[STORE_EC_MAX_SHARDS];     /* position -> OSD */
	uint8_t target[STORE_EC_MAX_SHARDS];   /* enum recov_target */
	const struct recov_obj *objs;            /* sorted by (ino, objno) */
	size_t n_objs;
	struct recov_shard *shards;              /* any order: sorted here */
	size_t n_shards;
	uint64_t now_ns;                       /* wall clock (shard mtimes) */
	uint64_t grace_ns;                     /* gc_grace */
	unsigned flags;                        /* RECOV_GC_NOW */
	uint64_t ino;                          /* only this inode (0: all) */
	int partial;  /* some up OSD could not be inventoried: an object
		       * with too few shards in sight is unknown, not
		       * unfound */
};

/* What to do at one position of an object. */
enum recov_act { RECOV_NONE = 0, RECOV_COPY, RECOV_REBUILD };

/* Object states, as counted for status. */
enum { RECOV_S_DEGRADED = 1, RECOV_S_MISPLACED = 2, RECOV_S_UNFOUND = 4 };

/* A copy to delete (once the object's shard `index` is in place). */
struct recov_drop {
	uint32_t osd;
	uint8_t index;
};
#define RECOV_DROPS_MAX 64

/* The work of one object. */
struct recov_job {
	uint64_t ino, objno, version;
	uint8_t k, m;
	uint32_t obj_len;   /* of the shards (as written) */
	uint32_t shard_len;
	uint8_t act[STORE_EC_MAX_SHARDS];  /* enum recov_act per position */
	uint32_t dst[STORE_EC_MAX_SHARDS]; /* the position's OSD */
	/* A good holder of each index (CRUSH_NONE: none), preferring the
	 * OSD in place: the source of a COPY and of a REBUILD's reads. */
	uint32_t src[STORE_EC_MAX_SHARDS];
	uint32_t n_drops;
	struct recov_drop drops[RECOV_DROPS_MAX];
	unsigned state;     /* RECOV_S_* */
	uint64_t bytes;     /* shard bytes to write */
	int parity_check;   /* set by the caller: check parity (deep) */
};

/* A shard version to delete now. */
struct recov_del {
	uint32_t osd;
	struct wire_shard_id id;
	int garbage; /* unreferenced (else a surplus or corrupt copy) */
};

struct recov_counts {
	uint64_t objects;    /* committed objects checked */
	uint64_t shards;     /* copies of committed versions seen */
	uint64_t degraded;   /* objects */
	uint64_t misplaced;  /* objects */
	uint64_t unfound;    /* objects */
	uint64_t missing;    /* shards to rebuild */
	uint64_t moved;      /* shards to copy */
	uint64_t stale;      /* unreferenced shard versions seen */
	uint64_t stale_old;  /* ... of which deletable now */
	uint64_t corrupt;    /* copies found bad */
	uint64_t unknown;    /* positions whose OSD could not be asked */
	uint64_t surplus;    /* extra or bad copies to delete */
	uint64_t bytes_left; /* shard bytes to write */
};

struct recov_pg_plan {
	struct recov_job *jobs;
	size_t n_jobs;
	struct recov_del *dels;
	size_t n_dels;
	struct recov_counts c;
	/* Every committed object that is whole, every shard in place (a job
	 * with no action, src = the positions' OSDs), for the deep scrub's
	 * parity sample. */
	struct recov_job *whole;
	size_t n_whole;
	/* The first unfound objects, for the log. */
	struct recov_obj unfound[8];
	size_t n_unfound;
};

/*
 * Plan the PG described by in (whose shards it sorts in place) into *out.
 * Returns 0, -EINVAL (a bad profile or an object list out of order), or
 * -ENOMEM (then *out is empty).  Free with recov_plan_free().
 */
int recov_plan(struct recov_pg_in *in, struct recov_pg_plan *out);

void recov_plan_free(struct recov_pg_plan *p);

/* Order of shards in a plan: (ino, objno, version, index, osd). */
int recov_shard_cmp(const void *a, const void *b);

#endif
