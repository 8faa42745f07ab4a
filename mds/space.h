/*
 * space.h -- the cluster's raw space, as STATUS, STATFS (a mount's df)
 * and storectl df and osd df count it.
 *
 * Every OSD that exists and is in contributes its disk's size (capacity),
 * what its store takes (used) and the room it has left: capacity - used,
 * bounded by its file system's free bytes once a heartbeat has reported
 * them (other files share the disk).
 *
 * OSDs whose heartbeats carry the same disk_id share one file system
 * (osd/disk_id.h): all the OSDs of a vcluster, or two data folders an
 * operator put on one disk.  Such a group counts that file system once:
 * its size is the largest any member reported, and its room the smallest
 * free-byte figure any member reported (they are samples of one number
 * taken at different times; the smaller never promises room that is not
 * there), bounded by the members' summed capacity - used.  Their used
 * bytes still add up, each store's own.  An OSD without a heartbeat since
 * it booted or the MDS started, or with disk_id 0, counts alone.
 */
#ifndef MDS_SPACE_H
#define MDS_SPACE_H

#include "osdmap.h"

#include <stdint.h>

struct space_sum {
	uint64_t total; /* bytes of the distinct disks under in OSDs */
	uint64_t used;  /* bytes their stores take */
	uint64_t room;  /* bytes they can still take, raw (parity counted) */
	uint32_t disks; /* distinct file systems counted */
};

/* Sum the raw space of om's in OSDs into *s as above.  Cannot fail. */
void space_sum(const struct osdmap *om, struct space_sum *s);

#endif
