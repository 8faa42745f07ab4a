/*
 * purge.h -- the purge queue's worker: deletes from the OSDs the shards of
 * object versions that no inode references any more and that no reply
 * handed to a client for deletion (unlinked files, truncation, overflow
 * of a COMMIT's replaced list).  Those versions wait in the `purge` table
 * (db.h), so nothing is forgotten across a restart.
 *
 * For each entry the current map gives the object's OSD set; one
 * SHARD_DELETE per position goes to its OSD, up to PURGE_JOBS entries at
 * once, through the MDS's own RPC engine.  An entry leaves the table (in
 * one transaction per step) once every position was deleted; an entry
 * with a position on a down OSD, or a delete that failed, stays and is
 * tried again on a later pass (at most every PURGE_RETRY_MS).  A position
 * CRUSH leaves empty has nothing to delete.
 *
 * Runs in the server loop: purger_fd() is readable when deletes have
 * completed, and purger_step() does the work, never blocking.
 */
#ifndef MDS_PURGE_H
#define MDS_PURGE_H

#include "mds.h"

/* Entries being deleted at once: k + m calls each. */
#define PURGE_JOBS 64
/* Pause before another pass over entries that could not be finished. */
#define PURGE_RETRY_MS 5000
/* How long one shard delete may take. */
#define PURGE_TIMEOUT_MS 10000

struct purger;

/* A worker for m (which must outlive it).  Returns 0 and *out, or -errno
 * (the RPC engine or an eventfd could not be made). */
int purger_create(struct mds *m, struct purger **out);

/* Stop: deletes in flight are cancelled (their entries stay queued). */
void purger_free(struct purger *p);

/* Readable when deletes completed (poll it with the server's socket). */
int purger_fd(const struct purger *p);

/* Finish completed entries and start new ones.  Returns 0 or -errno (a
 * database error: logged, retried next step). */
int purger_step(struct purger *p);

/* Entries in flight and entries removed so far (for tests and logs). */
unsigned purger_busy(const struct purger *p);
uint64_t purger_done(const struct purger *p);

#endif
