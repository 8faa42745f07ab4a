/*
 * space.c -- the cluster's raw space, each shared file system counted
 * once (space.h).
 */
#include "space.h"
#include "util.h"

#include <stdlib.h>

/* Order OSD ids by their heartbeat's disk_id, then by id (so that a
 * group's members are adjacent, and the order does not depend on qsort's
 * choices). */
static int by_disk(const void *a, const void *b, void *arg)
{
	const struct osdmap *om = arg;
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	uint64_t dx = om->rt[x].disk_id, dy = om->rt[y].disk_id;

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return (x > y) - (x < y);
}

/* capacity - used of an OSD, the room its own figures leave. */
static uint64_t own_room(const struct map_osd *o)
{
	return o->capacity > o->used ? o->capacity - o->used : 0;
}

void space_sum(const struct osdmap *om, struct space_sum *s)
{
	/* OSD ids fit in 16 bits (STORE_MAX_OSDS is 4096): 8 KiB of stack
	 * and no allocation, so that STATFS and STATUS cannot fail here. */
	_Static_assert(STORE_MAX_OSDS <= 65536, "ids must fit uint16_t");
	uint16_t shared[STORE_MAX_OSDS];
	const struct store_map *map = &om->map;
	uint32_t n = 0;

	s->total = s->used = s->room = 0;
	s->disks = 0;
	for (uint32_t i = 0; i < map->n_osds && i < STORE_MAX_OSDS; i++) {
		const struct map_osd *o = &map->osds[i];
		const struct osd_rt *rt = &om->rt[i];

		if (!o->exists || !o->in)
			continue;
		s->used += o->used;
		if (rt->hb_seen && rt->disk_id) {
			shared[n++] = (uint16_t)i;
			continue;
		}
		s->total += o->capacity;
		s->room += rt->hb_seen ? MIN(own_room(o), rt->avail)
				       : own_room(o);
		s->disks++;
	}
	qsort_r(shared, n, sizeof(shared[0]), by_disk, (void *)om);
	for (uint32_t g = 0; g < n;) {
		uint64_t disk = om->rt[shared[g]].disk_id;
		uint64_t size = 0, avail = UINT64_MAX, rooms = 0;
		uint32_t e = g;

		for (; e < n && om->rt[shared[e]].disk_id == disk; e++) {
			const struct map_osd *o = &map->osds[shared[e]];

			size = MAX(size, o->capacity);
			avail = MIN(avail, om->rt[shared[e]].avail);
			rooms += own_room(o);
		}
		s->total += size;
		s->room += MIN(avail, rooms);
		s->disks++;
		g = e;
	}
}
