/*
 * list.c -- see list.h.
 */
#include "list.h"
#include "io.h"
#include "record.h"
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Pool ids the listing walks: the MDS numbers pools from 1 and creates
 * few; the store keeps no list of them, so ask for each. */
#define LIST_POOLS_MAX 64u
/* Entries per store_list() call. */
#define LIST_BATCH 1024u

static int list_pool(struct store *s, uint32_t pool,
		     struct store_entry *ents)
{
	struct wire_shard_id after;
	int more = 1, first = 1;

	while (more) {
		uint32_t n = store_list(s, pool, first ? NULL : &after, NULL,
					NULL, ents, LIST_BATCH, &more);

		for (uint32_t i = 0; i < n; i++) {
			const struct wire_shard_id *id = &ents[i].id;
			char path[4096];
			uint64_t off;
			uint32_t len;

			if (store_locate(s, id, path, sizeof(path), &off,
					 &len))
				continue; /* gone since listed: none here */
			printf("%" PRIu32 " %" PRIu64 " %" PRIu64 " %u %" PRIu64
			       " %" PRIu32 " %s %" PRIu64 "\n",
			       id->pool, id->ino, id->objno,
			       (unsigned)id->index, id->version,
			       ents[i].shard_len, path,
			       off + rec_meta_len(ents[i].shard_len));
		}
		if (!n)
			break;
		after = ents[n - 1].id;
		first = 0;
	}
	return 0;
}

int osd_list_main(const char *dir)
{
	static struct store_entry ents[LIST_BATCH];
	struct store_opts so;
	struct io_ring *ring = NULL;
	struct store *s = NULL;
	char err[512];
	int rc;

	/* store_open() formats an empty folder: a listing must not. */
	snprintf(err, sizeof(err), "%s/superblock", dir);
	if (access(err, F_OK) < 0) {
		rc = -errno;
		fprintf(stderr, "store-osd: %s is not an OSD folder (no "
			"superblock): %s\n", dir, strerror(-rc));
		return rc;
	}
	rc = io_ring_open(64, &ring);
	if (rc) {
		fprintf(stderr, "store-osd: io_uring: %s\n", strerror(-rc));
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.dir = dir;
	so.ring = ring;
	so.compact_pct = 101; /* a listing must not move records */
	rc = store_open(&so, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "store-osd: %s\n", err);
		goto out;
	}
	for (uint32_t pool = 0; pool <= LIST_POOLS_MAX; pool++)
		list_pool(s, pool, ents);
out:
	store_close(s);
	if (ring)
		io_ring_close(ring);
	return rc;
}
