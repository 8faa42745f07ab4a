/*
 * client_rec.h -- libstore's calls for recovery and scrub
 * (docs/recovery.md): the per-OSD counters behind STATUS, and SCRUB sent
 * to the OSDs that answer for placement groups.  storectl's `status
 * --json`, `scrub` and the cluster tests use them.
 */
#ifndef STORE_CLIENT_REC_H
#define STORE_CLIENT_REC_H

#include "client.h"
#include "wire_mon.h"
#include "wire_ns.h"
#include "wire_osd.h"
#include "wire_rec.h"

#include <stdint.h>

/* A scrub waits for its checks and repairs: allow this long by default. */
#define STORE_SCRUB_TIMEOUT_MS (30u * 60 * 1000)

/* STATUS, with the per-OSD entries: up to cap into out (*n gets how many
 * the reply holds; size out with STORE_MAX_OSDS to get them all).
 * Returns 0 or -errno with a sentence (store_last_error). */
int store_status_osds(struct store_client *c, struct wire_status *st,
		      struct wire_osd_stat *out, uint32_t cap, uint32_t *n);

/* The placement group of object objno of a file in pool. */
int store_object_pg(struct store_client *c, uint32_t pool, uint64_t ino,
		    uint64_t objno, uint32_t *pg);

/* Scrub PG pg of pool on its primary (the first up OSD of its set under
 * the client's map), with flags WIRE_SCRUB_*, restricted to inode ino
 * unless 0; wait at most timeout_ms (0: STORE_SCRUB_TIMEOUT_MS) for the
 * report.  Returns 0, or -errno with a sentence. */
int store_scrub_pg(struct store_client *c, uint32_t pool, uint32_t pg,
		   uint32_t flags, uint64_t ino, uint32_t timeout_ms,
		   struct wire_scrub_reply *rep);

/* Scrub every PG of pool: each up OSD checks the PGs it is primary for,
 * all at once; the reports are summed into *rep (epoch: the highest).
 * Returns 0, or the first error with a sentence (the others still ran). */
int store_scrub_all(struct store_client *c, uint32_t pool, uint32_t flags,
		    uint32_t timeout_ms, struct wire_scrub_reply *rep);

/* Scrub the PGs holding a file's objects, restricted to that file: one
 * SCRUB per PG, on its primary, in turn.  Summed into *rep. */
int store_scrub_file(struct store_client *c, const struct wire_attr *file,
		     uint32_t flags, uint32_t timeout_ms,
		     struct wire_scrub_reply *rep);

/* Add report b into a. */
void store_scrub_sum(struct wire_scrub_reply *a,
		     const struct wire_scrub_reply *b);

#endif
