/*
 * fresh.c -- negative lookups in folders this mount has just made.
 *
 * Before every create the kernel looks the name up, and in a folder being
 * filled (an untar, cp -r) the answer is always "no such name": one MDS
 * round trip per file for nothing.  A folder this mount created a moment
 * ago holds only what this mount has put in it since, unless another mount
 * adds a name meanwhile.  So for entry_timeout seconds after its mkdir, a
 * lookup in such a folder of a name this mount has not added there is
 * answered "no such name" here.  That is the staleness the kernel's own
 * negative-entry cache (entry_timeout) already allows: a name another
 * mount adds to the folder in that window may be seen up to that much
 * later.
 *
 * Names are kept as 64-bit hashes; a name whose hash is in the set (added
 * here, or colliding with one) is asked of the MDS, so a collision costs
 * only a round trip.  A folder whose set fills up is dropped from the
 * table, as is one whose window has passed.
 *
 * Invariant: while a folder is in the table, every name this mount added
 * to it since its mkdir has its hash in the folder's set.
 */
#include "sfs.h"
#include "hash.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Folders tracked at once: an untar fills one folder at a time; a few
 * dozen cover cp -r of wide trees too. */
#define FRESH_DIRS 32
/* Names per folder before it is dropped (an 8 KiB set). */
#define FRESH_NAMES 1024

struct fresh_dir {
	uint64_t ino;       /* 0: free slot */
	uint64_t until_ns;  /* the window's end (now_ns clock) */
	unsigned n;
	uint64_t names[FRESH_NAMES]; /* open addressing; 0 = empty */
};

struct sfs_fresh {
	pthread_mutex_t mu;
	struct fresh_dir dirs[FRESH_DIRS];
};

static uint64_t name_hash(const char *name)
{
	uint64_t h = hash64(name, strlen(name), 0x66726573682e63ull);

	return h ? h : 1; /* 0 marks an empty slot */
}

static struct fresh_dir *find(struct sfs_fresh *t, uint64_t ino,
			      uint64_t now)
{
	for (unsigned i = 0; i < FRESH_DIRS; i++) {
		struct fresh_dir *d = &t->dirs[i];

		if (d->ino == ino) {
			if (now < d->until_ns)
				return d;
			d->ino = 0; /* its window has passed */
			return NULL;
		}
	}
	return NULL;
}

/* Is h in d's set?  Adds it when add is set.  Returns 1 if present (or
 * added), 0 if absent, -1 if the set is full (when adding). */
static int set_op(struct fresh_dir *d, uint64_t h, int add)
{
	unsigned i = (unsigned)(h % FRESH_NAMES);

	for (unsigned probe = 0; probe < FRESH_NAMES; probe++) {
		uint64_t *s = &d->names[(i + probe) % FRESH_NAMES];

		if (*s == h)
			return 1;
		if (!*s) {
			/* Keep the set at most 3/4 full: probes stay short. */
			if (!add)
				return 0;
			if (d->n >= FRESH_NAMES * 3 / 4)
				return -1;
			*s = h;
			d->n++;
			return 1;
		}
	}
	return add ? -1 : 0;
}

int sfs_fresh_init(struct sfs *fs)
{
	struct sfs_fresh *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->mu, NULL);
	fs->fresh = t;
	return 0;
}

void sfs_fresh_destroy(struct sfs *fs)
{
	if (!fs->fresh)
		return;
	pthread_mutex_destroy(&fs->fresh->mu);
	free(fs->fresh);
	fs->fresh = NULL;
}

void sfs_fresh_mkdir(struct sfs *fs, uint64_t ino)
{
	struct sfs_fresh *t = fs->fresh;
	uint64_t now = now_ns(), oldest = UINT64_MAX;
	struct fresh_dir *slot = NULL;

	if (!t || fs->entry_timeout <= 0)
		return;
	pthread_mutex_lock(&t->mu);
	/* A free or expired slot, else the one whose window ends first. */
	for (unsigned i = 0; i < FRESH_DIRS; i++) {
		struct fresh_dir *d = &t->dirs[i];

		if (!d->ino || now >= d->until_ns) {
			slot = d;
			break;
		}
		if (d->until_ns < oldest) {
			oldest = d->until_ns;
			slot = d;
		}
	}
	memset(slot, 0, sizeof(*slot));
	slot->ino = ino;
	slot->until_ns = now + (uint64_t)(fs->entry_timeout * 1e9);
	pthread_mutex_unlock(&t->mu);
}

void sfs_fresh_added(struct sfs *fs, uint64_t parent, const char *name)
{
	struct sfs_fresh *t = fs->fresh;
	struct fresh_dir *d;

	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	d = find(t, parent, now_ns());
	if (d && set_op(d, name_hash(name), 1) < 0)
		d->ino = 0; /* full: this folder goes back to the MDS */
	pthread_mutex_unlock(&t->mu);
}

int sfs_fresh_absent(struct sfs *fs, uint64_t parent, const char *name)
{
	struct sfs_fresh *t = fs->fresh;
	struct fresh_dir *d;
	int absent = 0;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->mu);
	d = find(t, parent, now_ns());
	if (d)
		absent = set_op(d, name_hash(name), 0) == 0;
	pthread_mutex_unlock(&t->mu);
	return absent;
}
