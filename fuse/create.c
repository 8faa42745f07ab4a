/*
 * create.c -- creates sent with their first commit ("creates at close").
 *
 * An untar makes each file with create(O_EXCL), writes it, sets its owner,
 * mode and times, and closes it.  Sent as they come, the create and the
 * closing commit are two MDS transactions, each with its fdatasync: they
 * bound the rate.  Instead this mount takes inode numbers from a range the
 * MDS reserved for it (INO_RESERVE), answers create(O_EXCL) of a regular
 * file at once with one of them, keeps the file's data (inline, small),
 * attributes and times here, and sends the create with the whole file at
 * the close: one CREATE_AT, one transaction.
 *
 * A file stays pending only while nothing else needs it at the MDS: every
 * operation of this mount other than read, write, forget and the ones on
 * the pending file that are answered from what this mount holds (getattr,
 * setattr of owner, mode and times, flush, fsync, release) first creates
 * every pending file at the MDS (sfs_drain -> settle_all), as does a
 * write that takes the file past the inline size (its objects need the
 * file's pool and number at the OSDs).  So this mount's own view never
 * differs from the MDS's; other mounts see the file at its close, as they
 * see its data (close-to-open).  If the create fails when it is sent (the
 * name was taken meanwhile by another mount: EEXIST), the file's data is
 * lost and the close (or the next flush) reports the error: the price,
 * like CephFS's asynchronous creates, of not waiting for the MDS.
 *
 * Only create(O_EXCL) of regular files is deferred (tar, cp and rsync use
 * it for new files; a plain O_CREAT must open an existing file), and only
 * with a key that may write anywhere (the MDS would refuse nothing).
 *
 * Invariant: an inode is in `inos` exactly while its sfs_file has
 * pending_create set; both change under the inode's lock, the list under
 * pc->mu (taken after an inode's lock, never before one).
 */
#include "sfs.h"
#include "client_auth.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Numbers reserved per INO_RESERVE: one MDS transaction per this many
 * creates; what is left of a range when the mount ends is never used
 * (2^62 numbers make that free). */
#define PC_RESERVE 512
/* Files pending at once; one more is created at the MDS at once. */
#define PC_MAX 256

struct sfs_pc {
	pthread_mutex_t mu;
	uint64_t next, end;   /* reserved numbers not handed out yet */
	uint64_t inos[PC_MAX];
	unsigned n;
};

int sfs_pc_init(struct sfs *fs)
{
	struct sfs_pc *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return -ENOMEM;
	pthread_mutex_init(&pc->mu, NULL);
	fs->pc = pc;
	return 0;
}

void sfs_pc_destroy(struct sfs *fs)
{
	if (!fs->pc)
		return;
	pthread_mutex_destroy(&fs->pc->mu);
	free(fs->pc);
	fs->pc = NULL;
}

int sfs_pc_take_ino(struct sfs *fs, uint64_t *ino)
{
	struct sfs_pc *pc = fs->pc;
	int rc = 0;

	if (!pc || !fs->inline_max || !store_auth_writes_anywhere(fs->c))
		return -EAGAIN;
	pthread_mutex_lock(&pc->mu);
	if (pc->n == PC_MAX) {
		rc = -EAGAIN;
	} else if (pc->next == pc->end) {
		uint64_t first;
		uint32_t got;

		/* Rare (once per PC_RESERVE creates): hold the lock across
		 * the request rather than reserve twice. */
		rc = store_ino_reserve(fs->c, PC_RESERVE, &first, &got);
		if (rc == 0) {
			pc->next = first;
			pc->end = first + got;
		}
	}
	if (rc == 0)
		*ino = pc->next++;
	pthread_mutex_unlock(&pc->mu);
	return rc;
}

static void list_add(struct sfs_pc *pc, uint64_t ino)
{
	pthread_mutex_lock(&pc->mu);
	if (pc->n < PC_MAX) {
		pc->inos[pc->n] = ino;
		/* Atomic: settle_all peeks at it without the lock. */
		__atomic_store_n(&pc->n, pc->n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&pc->mu);
}

static void list_del(struct sfs_pc *pc, uint64_t ino)
{
	pthread_mutex_lock(&pc->mu);
	for (unsigned i = 0; i < pc->n; i++)
		if (pc->inos[i] == ino) {
			pc->inos[i] = pc->inos[pc->n - 1];
			__atomic_store_n(&pc->n, pc->n - 1, __ATOMIC_RELEASE);
			break;
		}
	pthread_mutex_unlock(&pc->mu);
}

void sfs_pc_add(struct sfs *fs, struct sfs_inode *in, uint64_t parent,
		const char *name)
{
	struct sfs_file *f = in->f;

	f->pending_create = 1;
	f->pc_parent = parent;
	snprintf(f->pc_name, sizeof(f->pc_name), "%s", name);
	list_add(fs->pc, in->ino);
}

/* The create is at the MDS (attr) or failed (rc): in->mu held. */
static void settled(struct sfs *fs, struct sfs_inode *in,
		    const struct wire_attr *attr, int rc)
{
	struct sfs_file *f = in->f;

	f->pending_create = 0;
	list_del(fs->pc, in->ino);
	if (rc) {
		log_err("creating '%s' (inode %llu) at the MDS failed: %s; "
			"its data is lost", f->pc_name,
			(unsigned long long)in->ino, store_last_error());
		f->create_err = rc;
		f->idirty = 0;
		f->meta_dirty = 0;
		f->set_valid = 0;
		return;
	}
	in->attr = *attr;
	in->attr_ns = now_ns();
	f->objs_gen = attr->gen;
	if (attr->object_size)
		f->object_size = attr->object_size;
}

int sfs_pc_settle(struct sfs *fs, struct sfs_inode *in)
{
	struct sfs_file *f = in->f;
	struct wire_attr attr;
	int rc;

	if (!f || !f->pending_create)
		return 0;
	rc = store_create_at(fs->c, f->pc_parent, f->pc_name, in->ino,
			     &in->attr, 0, NULL, 0, 0, &attr);
	settled(fs, in, &attr, rc);
	/* The data and the buffered attributes stay dirty: the next flush
	 * commits them as for any file. */
	return rc;
}

int sfs_pc_commit(struct sfs *fs, struct sfs_inode *in)
{
	struct sfs_file *f = in->f;
	struct wire_attr want = in->attr, attr;
	uint32_t valid = WIRE_SET_MTIME;
	int rc;

	if (f->set_valid & WIRE_SET_MODE)
		want.mode = (want.mode & S_IFMT) | (f->set.mode & 07777);
	if (f->set_valid & WIRE_SET_UID)
		want.uid = f->set.uid;
	if (f->set_valid & WIRE_SET_GID)
		want.gid = f->set.gid;
	want.mtime_ns = f->mtime_ns;
	if (f->set_valid & WIRE_SET_ATIME) {
		valid |= WIRE_SET_ATIME;
		want.atime_ns = f->set.atime_ns;
	}
	rc = store_create_at(fs->c, f->pc_parent, f->pc_name, in->ino, &want,
			     valid, f->ibuf, f->ilen, 1, &attr);
	settled(fs, in, &attr, rc);
	if (rc == 0) {
		f->idirty = 0;
		f->meta_dirty = 0;
		f->set_valid = 0;
	}
	return rc;
}

/* Create every pending file but `except` at the MDS. */
static void settle_all(struct sfs *fs, uint64_t except)
{
	struct sfs_pc *pc = fs->pc;
	uint64_t inos[PC_MAX];
	unsigned n = 0;

	if (!pc || !__atomic_load_n(&pc->n, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&pc->mu);
	for (unsigned i = 0; i < pc->n; i++)
		if (pc->inos[i] != except)
			inos[n++] = pc->inos[i];
	pthread_mutex_unlock(&pc->mu);
	for (unsigned i = 0; i < n; i++) {
		struct sfs_inode *in = sfs_inode_get(fs, inos[i], 0);

		if (!in)
			continue;
		pthread_mutex_lock(&in->mu);
		sfs_pc_settle(fs, in);
		pthread_mutex_unlock(&in->mu);
		sfs_inode_put(fs, in);
	}
}

void sfs_drain(struct sfs *fs, uint64_t except)
{
	sfs_async_drain(fs);
	settle_all(fs, except);
}
