/*
 * recov_int.h -- what the files of the recovery agent share: recovery.c
 * (threads, passes, scheduling, counters), recov_pg.c (checking one PG),
 * recov_job.c (the work of one object), recov_io.c (requests and throttling).
 *
 * Locking: r->mu guards everything mutable that more than one thread
 * touches (queues, passes, per-PG counters, the counters of the
 * heartbeat), except the map, which only the coordinator changes (under
 * r->map_lock taken for writing; workers read addresses under it taken
 * for reading), and the RPC engine, whose pointer r->eng_lock guards so
 * that recov_stop() can destroy it (cancelling every call in flight) while
 * other threads may be about to submit.
 */
#ifndef STORE_OSD_RECOV_INT_H
#define STORE_OSD_RECOV_INT_H

#include "crush.h"
#include "ec.h"
#include "log.h"
#include "net.h"
#include "recov_plan.h"
#include "recovery.h"

#include <pthread.h>

/* Re-checks of a PG after its repairs within one pass. */
#define RECOV_RECHECKS 3
/* A pass that left something unsettled (a failed request) is retried
 * this soon rather than after scrub_interval. */
#define RECOV_RETRY_MS 5000
/* Connections per peer: requests in flight to one OSD from this agent. */
#define RECOV_PEER_CONNS 8
/* Deadlines.  A shard request may move 64 MiB through a busy OSD; a list
 * or a delete is answered at once by a live OSD, and one that does not
 * answer (it is stopping, or gone) should hold a PG check up briefly. */
#define RECOV_SHARD_TIMEOUT_MS 30000
#define RECOV_SMALL_TIMEOUT_MS 3000
#define RECOV_SEND_TIMEOUT_MS 1000
/* Requests in flight for one PG's inventory, deletes and verifies. */
#define RECOV_WINDOW 16

enum { PASS_BG = 1, PASS_SCRUB = 2 };

struct recov_pass;

/* One check of one PG and the jobs it started. */
struct recov_run {
	struct recov_pass *pass;
	uint32_t pool, pg;
	unsigned attempt;
	unsigned pending;   /* jobs not finished, +1 while planning */
	int actions;        /* wrote or moved something: check again */
	int failed;         /* a request failed: not settled */
	int incomplete;     /* something could not be asked */
	struct recov_counts c;
	uint64_t repaired;  /* shards written */
	uint64_t gc_deleted;
	uint64_t corrupt;   /* found by verification and parity */
	uint64_t parity_bad; /* parity mismatches nobody could repair */
	struct recov_run *next;
};

/* A job in the queue. */
struct recov_jobq {
	struct recov_job job;
	struct recov_run *run;
	uint32_t pool;
	uint64_t epoch; /* planned at; a job of an older epoch is dropped */
	struct recov_jobq *next;
};

struct recov_todo {
	uint32_t pool, pg;
	unsigned attempt;
};

/* A pass: the PGs to check, with their flags. */
struct recov_pass {
	int kind;            /* PASS_* */
	unsigned flags;      /* WIRE_SCRUB_* */
	uint64_t ino;        /* only this inode (0: all) */
	uint64_t epoch;      /* PASS_BG: the map epoch it covers */
	uint64_t seq;        /* pass number (the parity sample) */
	struct recov_todo *todo;
	size_t n_todo, cap_todo, next_todo;
	unsigned inflight;   /* runs not finished */
	int superseded;      /* a newer epoch started another pass */
	int unsettled;       /* some PG ended unverified */
	uint64_t started_ms;
	struct wire_scrub_reply rep;
	void *cookie;
	int rc;
	struct recov_pass *next;
};

/* Per-PG state as of its latest check. */
struct recov_pgstat {
	uint8_t mine;        /* primary under the current map */
	uint64_t degraded, misplaced, unfound, bytes_left;
};

struct recov_pool {
	uint32_t id;
	uint32_t pg_num;
	struct recov_pgstat *pgs;
};

struct recov {
	struct recov_config cfg;
	uint32_t osd_id;
	char name[24];
	char mds_addr[STORE_ADDR_MAX + 1];
	int wake_fd;

	pthread_mutex_t mu;
	pthread_cond_t cv;   /* the coordinator's wake-up */
	pthread_cond_t jcv;  /* jobs queued */
	pthread_cond_t qcv;  /* room in the job queue */
	int stopping;

	/* The map: the coordinator's, read by workers under map_lock. */
	pthread_rwlock_t map_lock;
	struct store_map map;
	struct crush_tree *crush;
	uint64_t epoch;      /* of map (atomic reads) */
	struct store_map next_map;
	int have_next;
	uint64_t seen_epoch; /* newest epoch in any reply (atomic) */

	/* The RPC engine, destroyed by recov_stop. */
	pthread_rwlock_t eng_lock;
	struct rpc_engine *eng;

	/* Jobs. */
	struct recov_jobq *jq_head, *jq_tail;
	unsigned jq_len, jobs_active;

	/* Passes. */
	struct recov_pass *scrubs;   /* requested, in order */
	struct recov_pass *bg;       /* the background pass, if running */
	struct recov_pass *dead;     /* superseded, waiting for their runs */
	struct recov_pass *done;     /* finished scrubs for recov_poll */
	struct recov_run *finished;  /* runs whose jobs are all done */
	uint64_t pass_seq;
	uint64_t next_bg_ms, last_deep_ms;
	uint64_t last_unwhole; /* objects not whole after the last pass */

	/* Per-PG state. */
	uint32_t n_pools;
	struct recov_pool pools[STORE_MAX_POOLS];

	/* Counters for the heartbeat. */
	uint64_t pass_epoch;
	uint64_t recovery_bytes, shards_recovered, shards_moved, shards_gc,
		scrub_errors;
	int hb_due;

	/* Throttle: a token bucket of bytes. */
	pthread_mutex_t tb_mu;
	double tokens;
	uint64_t tb_ns;

	pthread_mutex_t codec_mu;
	struct ec_codec *codecs[STORE_EC_MAX_K + 1][STORE_EC_MAX_M + 1];

	pthread_t coord;
	pthread_t *workers;
	unsigned n_workers;
	int threads_started;

	struct log_limit unfound_log, corrupt_log, err_log;
};

/* ---- recov_io.c ------------------------------------------------------------*/

/* Build a request frame of type with payload w into c (a nanomsg chunk
 * carrying the agent's map epoch).  Returns 0 or -ENOMEM. */
int recov_frame(struct recov *r, struct rpc_call *c, unsigned type,
	      const struct wbuf *w);
/* Address c to osd (its address in the map) or, with osd CRUSH_NONE, to
 * the MDS, with the given deadline, and submit it in group g.  A call that
 * cannot be sent completes at once with -ENOTCONN / -ECANCELED. */
void recov_send(struct recov *r, struct rpc_group *g, struct rpc_call *c,
	      uint32_t osd, uint32_t timeout_ms);
/* Calls the coordinator waits for together, and may abandon: when a newer
 * map arrives (or the agent stops) while they are in flight, the wait
 * returns at once instead of sitting out their deadlines, and the batch
 * then belongs to its calls (the last to complete frees it). */
struct recov_batch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned pending;
	int abandoned;
	unsigned n;
	uint8_t *done;         /* per call: completed */
	struct rpc_call calls[]; /* zeroed */
};
/* A batch of n calls, or NULL. */
struct recov_batch *recov_batch_new(unsigned n);
/* Send calls[i] (built with recov_frame) to osd (CRUSH_NONE: the MDS). */
void recov_batch_send(struct recov *r, struct recov_batch *b, unsigned i,
		      uint32_t osd, uint32_t timeout_ms);
/* Wait for every call sent.  Returns 0, or -ECANCELED when abandoned
 * (the batch must not be touched again). */
int recov_batch_wait(struct recov *r, struct recov_batch *b);
/* Release the replies and free (after recov_batch_wait returned 0). */
void recov_batch_free(struct recov_batch *b);

/* The result of a finished call (noting the epoch of its reply): 0, the
 * reply's status, or the call's error. */
int recov_done(struct recov *r, struct rpc_call *c);
/* Error text of a failed call. */
void recov_errtext(const struct rpc_call *c, char *buf, size_t cap);
/* Wait for the throttle to allow bytes more.  Returns 0, or -ESHUTDOWN. */
int recov_throttle(struct recov *r, uint64_t bytes);
/* The codec for k+m.  NULL on error. */
struct ec_codec *recov_codec(struct recov *r, unsigned k, unsigned m);
/* Is the agent stopping? */
int recov_stopping(struct recov *r);
/* Is a newer map waiting (a check in progress is then moot)? */
int recov_map_waiting(struct recov *r);

/* ---- recov_pg.c ------------------------------------------------------------*/

/* Check PG todo of pass p (coordinator thread, no lock held): gather,
 * plan, delete, queue the jobs.  The run is handed to the finished list
 * once its jobs are done. */
void recov_check_pg(struct recov *r, struct recov_pass *p,
		  const struct recov_todo *todo);

/* ---- recov_job.c -----------------------------------------------------------*/

/* Carry out one object's job (worker thread, no lock held).  Returns the
 * shards written; *ok is 1 when everything planned was done. */
struct recov_job_result {
	int ok;
	uint64_t written;   /* shards */
	uint64_t rebuilt;   /* ... of which by decoding */
	uint64_t bytes;
	uint64_t corrupt;   /* parity check: bad shards found */
	uint64_t parity_bad; /* inconsistent, could not be repaired */
};
void recov_run_job(struct recov *r, const struct recov_jobq *q,
		 struct recov_job_result *res);

/* ---- recovery.c ----------------------------------------------------------*/

/* The per-PG state of (pool, pg), or NULL.  With r->mu held. */
struct recov_pgstat *recov_pgstat(struct recov *r, uint32_t pool, uint32_t pg);
/* Queue a job (blocks while the queue is full).  Returns 0, or
 * -ESHUTDOWN (the job is not queued). */
int recov_queue_job(struct recov *r, struct recov_run *run, uint32_t pool,
		  const struct recov_job *job);
/* Drop the planning reference of a run (with r->mu not held). */
void recov_run_planned(struct recov *r, struct recov_run *run);

#endif
