/*
 * recovery.h -- an OSD's recovery, scrub and garbage collection agent
 * (docs/recovery.md).
 *
 * Every OSD checks the placement groups it is primary for (the first up
 * OSD of a PG's CRUSH set, pg.h): it asks the MDS for the PG's committed
 * objects (PG_OBJECTS), asks every up OSD what it holds of the PG
 * (SHARD_LIST), plans (recov_plan.h), and carries the plan out: copies
 * misplaced shards home, rebuilds missing ones from any k others, deletes
 * surplus copies once their home holds the shard and garbage once it is
 * older than gc_grace.  A pass over all its PGs starts on every new map
 * epoch, at start, and every scrub_interval; deep passes (every shard's
 * crcs read where it lives, the parity of a sample of objects) every
 * deep_scrub_interval; SCRUB requests run passes on demand.
 *
 * The agent runs beside the OSD's event loop, never in it: one
 * coordinator thread (PG checks and planning) and recovery_max_active
 * worker threads (one object each: reads, decoding, writes), all talking
 * to the OSDs -- this one included -- and the MDS through their own RPC
 * engine, exactly like a client.  So recovery I/O is served by the OSDs'
 * loops like any client request, is throttled here (objects in flight and
 * recovery_max_bytes_per_sec), and decoding never stalls a loop.
 *
 * The loop feeds it maps (recov_set_map), hands it SCRUB requests
 * (recov_scrub) and sends their replies when recov_poll() reports them done
 * (the agent writes to wake_fd when it has something), and puts its
 * counters into every heartbeat (recov_report).
 */
#ifndef STORE_OSD_RECOVERY_H
#define STORE_OSD_RECOVERY_H

#include "map.h"
#include "wire_mon.h"
#include "wire_rec.h"

#include <stdint.h>

struct conf;

/* Settings (conf keys of the same names; docs/recovery.md). */
struct recov_config {
	unsigned max_active;        /* recovery_max_active: objects in flight */
	uint64_t max_bps;           /* recovery_max_bytes_per_sec (0: none) */
	uint64_t gc_grace_ms;       /* gc_grace */
	uint64_t scrub_interval_ms; /* scrub_interval: light passes */
	uint64_t deep_interval_ms;  /* deep_scrub_interval (0: never) */
	unsigned parity_pct;        /* deep_scrub_parity_pct: sample */
	uint32_t timeout_ms;        /* per shard request (not a key) */
};

#define RECOV_MAX_ACTIVE_DEFAULT 3
#define RECOV_MAX_ACTIVE_MAX 64
#define RECOV_GC_GRACE_MS_DEFAULT (10 * 60 * 1000ull)
#define RECOV_SCRUB_INTERVAL_MS_DEFAULT (60 * 1000ull)
#define RECOV_DEEP_INTERVAL_MS_DEFAULT (7 * 24 * 3600 * 1000ull)
#define RECOV_PARITY_PCT_DEFAULT 5

void recov_config_default(struct recov_config *c);

/* Read the keys above from conf over the defaults.  Returns 0, or
 * -EINVAL with a sentence naming the key in err. */
int recov_config_load(const struct conf *conf, struct recov_config *c, char *err,
		    size_t errlen);

struct recov;

struct recov_params {
	uint32_t osd_id;
	const char *mds_addr;
	int wake_fd;                 /* an eventfd the loop polls */
	const struct recov_config *cfg;
};

/* Start the agent's threads.  Returns 0 and *out, or -errno. */
int recov_start(const struct recov_params *p, struct recov **out);

/* A (newer) map: copied; the agent switches to it between PG checks. */
void recov_set_map(struct recov *r, const struct store_map *m);

/* Queue a SCRUB request; cookie comes back through recov_poll().  Returns 0,
 * -EAGAIN (no map yet), -ENOENT (no such pool or pg), -ESHUTDOWN, or
 * -ENOMEM. */
int recov_scrub(struct recov *r, const struct wire_scrub *q, void *cookie);

/* Called by recov_poll() for each finished SCRUB: rc 0 and the report, or
 * -errno (-ESHUTDOWN when the OSD stops first). */
typedef void (*recov_scrub_fn)(void *arg, void *cookie, int rc,
			     const struct wire_scrub_reply *rep);

/* From the loop: report finished scrubs.  Returns RECOV_POLL_HB if a pass
 * completed since the last call (send a heartbeat now), else 0. */
enum { RECOV_POLL_HB = 1 };
int recov_poll(struct recov *r, recov_scrub_fn fn, void *arg);

/* The newest map epoch any peer's reply carried (fetch the map if it is
 * newer than the loop's). */
uint64_t recov_seen_epoch(struct recov *r);

/* Fill the recovery fields of a heartbeat. */
void recov_report(struct recov *r, struct wire_heartbeat *hb);

/* Stop: cancel what is in flight, join the threads; scrubs not finished
 * complete with -ESHUTDOWN at the next recov_poll().  Idempotent. */
void recov_stop(struct recov *r);

/* Stop (if not yet) and free.  NULL is ignored. */
void recov_free(struct recov *r);

#endif
