/*
 * inode.c -- storefs's inode table: see sfs.h.
 */
#include "sfs.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Buckets of the inode table: a mount that has seen a million files keeps
 * chains around 16 long; a power of two for a cheap index. */
#define SFS_BUCKETS (1u << 16)

int sfs_table_init(struct sfs *fs)
{
	pthread_mutex_init(&fs->tbl_mu, NULL);
	fs->n_buckets = SFS_BUCKETS;
	fs->buckets = calloc(fs->n_buckets, sizeof(*fs->buckets));
	return fs->buckets ? 0 : -ENOMEM;
}

static void inode_free(struct sfs_inode *in)
{
	if (in->f)
		sfs_file_free(in->f);
	pthread_mutex_destroy(&in->mu);
	pthread_cond_destroy(&in->around_cv);
	free(in);
}

void sfs_table_destroy(struct sfs *fs)
{
	for (unsigned b = 0; b < fs->n_buckets; b++) {
		struct sfs_inode *in = fs->buckets[b], *next;

		for (; in; in = next) {
			next = in->hnext;
			inode_free(in);
		}
	}
	free(fs->buckets);
	pthread_mutex_destroy(&fs->tbl_mu);
}

static unsigned bucket_of(const struct sfs *fs, uint64_t ino)
{
	return (unsigned)((ino * 0x9E3779B97F4A7C15ull) >> 48) &
	       (fs->n_buckets - 1);
}

/* Find (table lock held). */
static struct sfs_inode *find(struct sfs *fs, uint64_t ino)
{
	struct sfs_inode *in = fs->buckets[bucket_of(fs, ino)];

	while (in && in->ino != ino)
		in = in->hnext;
	return in;
}

struct sfs_inode *sfs_inode_get(struct sfs *fs, uint64_t ino, int create)
{
	struct sfs_inode *in;

	pthread_mutex_lock(&fs->tbl_mu);
	in = find(fs, ino);
	if (!in && create) {
		in = calloc(1, sizeof(*in));
		if (in) {
			unsigned b = bucket_of(fs, ino);

			in->ino = ino;
			pthread_mutex_init(&in->mu, NULL);
			pthread_cond_init(&in->around_cv, NULL);
			in->hnext = fs->buckets[b];
			fs->buckets[b] = in;
		}
	}
	if (in)
		in->refs++;
	pthread_mutex_unlock(&fs->tbl_mu);
	return in;
}

/* Unlink from the table and free if nothing holds it (table lock held).
 * An inode with an open file is held by its opens (refs). */
static void maybe_drop(struct sfs *fs, struct sfs_inode *in)
{
	struct sfs_inode **pp;

	if (in->nlookup || in->refs || in->ino == 1)
		return;
	pp = &fs->buckets[bucket_of(fs, in->ino)];
	while (*pp != in)
		pp = &(*pp)->hnext;
	*pp = in->hnext;
	inode_free(in);
}

void sfs_inode_put(struct sfs *fs, struct sfs_inode *in)
{
	if (!in)
		return;
	pthread_mutex_lock(&fs->tbl_mu);
	in->refs--;
	maybe_drop(fs, in);
	pthread_mutex_unlock(&fs->tbl_mu);
}

void sfs_inode_ref(struct sfs *fs, const struct wire_attr *attr)
{
	struct sfs_inode *in = sfs_inode_get(fs, attr->ino, 1);

	if (!in)
		return;
	pthread_mutex_lock(&fs->tbl_mu);
	in->nlookup++;
	pthread_mutex_unlock(&fs->tbl_mu);
	pthread_mutex_lock(&in->mu);
	/* Never let an older answer overwrite newer attributes. */
	if (attr->gen >= in->attr.gen || !in->attr.ino) {
		in->attr = *attr;
		in->attr_ns = now_ns();
	}
	pthread_mutex_unlock(&in->mu);
	sfs_inode_put(fs, in);
}

void sfs_inode_forget(struct sfs *fs, uint64_t ino, uint64_t n)
{
	struct sfs_inode *in;

	pthread_mutex_lock(&fs->tbl_mu);
	in = find(fs, ino);
	if (in) {
		in->nlookup = in->nlookup > n ? in->nlookup - n : 0;
		maybe_drop(fs, in);
	}
	pthread_mutex_unlock(&fs->tbl_mu);
}

void sfs_attr_to_stat(const struct wire_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	st->st_atim.tv_sec = a->atime_ns / 1000000000;
	st->st_atim.tv_nsec = a->atime_ns % 1000000000;
	st->st_mtim.tv_sec = a->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = a->mtime_ns % 1000000000;
	st->st_ctim.tv_sec = a->ctime_ns / 1000000000;
	st->st_ctim.tv_nsec = a->ctime_ns % 1000000000;
	if (st->st_atim.tv_nsec < 0) {
		st->st_atim.tv_sec--;
		st->st_atim.tv_nsec += 1000000000;
	}
	if (st->st_mtim.tv_nsec < 0) {
		st->st_mtim.tv_sec--;
		st->st_mtim.tv_nsec += 1000000000;
	}
	if (st->st_ctim.tv_nsec < 0) {
		st->st_ctim.tv_sec--;
		st->st_ctim.tv_nsec += 1000000000;
	}
}
