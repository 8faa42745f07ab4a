/*
 * client_find.h -- finding shards away from their positions (libstore
 * internal).
 *
 * When the map changes, CRUSH may move several positions of a PG at once
 * (a host leaving a map that has barely k + m hosts, an OSD joining), and
 * until the PG's primary has copied the shards to their new homes
 * (docs/recovery.md) a reader that asks only the positions may find fewer
 * than k.  The shards are still there, on the OSDs that held them: this
 * asks every other up OSD for the missing ones.  It runs only on the read
 * path's last resort, when an object would otherwise be unreadable.
 */
#ifndef STORE_CLIENT_FIND_H
#define STORE_CLIENT_FIND_H

#include "client_priv.h"

/* Ask at most this many OSDs per missing shard: a broadcast is fine for
 * the clusters this store targets, and bounded for larger ones. */
#define CLIENT_FIND_MAX_OSDS 256

/*
 * Look for the shards of `missing` (bits: shard indexes) of version
 * obj->version of object obj->objno of inode ino, in-shard bytes
 * [base, base + len), on every up OSD but the one at the shard's position
 * in pl.  For each shard found, its bit is set in the returned mask,
 * calls[i] holds the reply (release it with rpc_call_release) and data[i]
 * points at the verified bytes inside it; calls[i] of a shard not found
 * is left untouched.  Never fails: what is not found is not found.
 */
uint32_t client_find_shards(struct store_client *c, const struct placement *pl,
			    uint64_t ino, const struct wire_obj *obj,
			    uint32_t missing, uint32_t base, uint32_t len,
			    uint32_t timeout_ms, struct rpc_call *calls,
			    const uint8_t **data);

#endif
