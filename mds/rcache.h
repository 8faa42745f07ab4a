/*
 * rcache.h -- the reply cache: the replies of the last few thousand
 * changes, by request id, so that a client that resends a request (its
 * reply was lost with a connection, or came too late) gets the original
 * answer instead of having it carried out twice (a CREATE EXCL answered
 * -EEXIST, an UNLINK answered -ENOENT).
 *
 * Only requests whose id carries a session (req_id >> 32 != 0, as
 * libstore numbers them: session_id << 32 | counter) are cached, since
 * only those are unique across clients.  The cache is in memory: it does
 * not survive an MDS restart (docs/mds.md lists that as not done).
 * Entries are evicted oldest first.
 */
#ifndef MDS_RCACHE_H
#define MDS_RCACHE_H

#include <stddef.h>
#include <stdint.h>

struct rcache;

struct rcache_hit {
	int32_t status;
	const uint8_t *payload; /* valid until the next rcache_put */
	size_t len;
};

/* A cache of up to cap replies of at most max_len payload bytes each.
 * Returns 0 and *out, or -ENOMEM. */
int rcache_create(uint32_t cap, size_t max_len, struct rcache **out);
void rcache_free(struct rcache *rc);

/* Is req_id one the cache keeps (a session-scoped id)? */
static inline int rcache_wants(uint64_t req_id)
{
	return (req_id >> 32) != 0;
}

/* The cached reply of (req_id, type): 1 and *hit, or 0. */
int rcache_get(const struct rcache *rc, uint64_t req_id, unsigned type,
	       struct rcache_hit *hit);

/* Remember a reply (replacing an older one of the same id).  Replies
 * larger than max_len are not kept.  Returns 0 or -ENOMEM (not kept). */
int rcache_put(struct rcache *rc, uint64_t req_id, unsigned type,
	       int32_t status, const uint8_t *payload, size_t len);

/* Entries held (for tests). */
uint32_t rcache_count(const struct rcache *rc);

#endif
