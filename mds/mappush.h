/*
 * mappush.h -- telling the OSDs about a new map epoch at once.
 *
 * Every party learns of a new epoch from the headers of the messages it
 * exchanges, so an OSD would notice within a heartbeat (1 s).  Recovery
 * and health wait on that: each PG's primary re-checks its PGs on every
 * new epoch and HEALTH_OK needs every primary to have checked at the
 * current one (docs/recovery.md).  So when the MDS publishes an epoch it
 * also sends the map (MAP_PUSH) to every OSD that is up, best effort,
 * through its own RPC engine: one push in flight per OSD, a newer epoch
 * pushed after it; a push that fails is not retried (the heartbeat path
 * still delivers the epoch).
 *
 * Runs in the server loop: mappush_step() after each batch and tick.
 */
#ifndef MDS_MAPPUSH_H
#define MDS_MAPPUSH_H

#include "mds.h"

/* How long a push may take (it is a small message to a live OSD). */
#define MAPPUSH_TIMEOUT_MS 2000

struct mappush;

/* A pusher for m (which must outlive it).  Returns 0 and *out, or -errno. */
int mappush_create(struct mds *m, struct mappush **out);

/* Push the current map to every up OSD that has not been sent it yet. */
void mappush_step(struct mappush *p);

/* Pushes completed so far (for tests). */
uint64_t mappush_done(struct mappush *p);

/* Cancel the pushes in flight and free. */
void mappush_free(struct mappush *p);

#endif
