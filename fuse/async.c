/*
 * async.c -- unlinks answered before the MDS has them (async dirops).
 *
 * `rm -rf` removes one name after the other, each an MDS transaction with
 * its fdatasync: one at a time, the disk's sync latency bounds it.  When
 * no file of this mount is open (so no unlinked file has to become an
 * orphan), an unlink the kernel already checked (the name exists and is
 * not a directory; permissions) is answered at once and queued here; a
 * few threads send the queued unlinks, so that the MDS commits many of
 * them in one transaction (group commit).
 *
 * Order: every other operation of this mount first waits for the unlinks
 * queued before it (sfs_async_drain): rmdir sees an empty folder, a
 * create of the same name finds it free, readdir and lookup do not see
 * what was removed.  Other mounts see an unlink once the MDS has applied
 * it, milliseconds later.  fsync of a folder, and unmounting, wait for
 * the queue and then sync the MDS.  An unlink that fails at the MDS (it
 * can only be the MDS being unreachable for longer than the client's
 * timeout: a name already gone counts as done) is logged; the name stays.
 *
 * Invariant: every queued job has a ticket from `issued`; a ticket is in
 * `pending` from the moment it is queued until its request is answered,
 * so min(pending) bounds what is still in flight.
 */
#include "sfs.h"
#include "log.h"
#include "store_limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Unlinks queued at most: the caller of one more waits.  Enough to keep
 * the senders busy across an fdatasync; small enough that a drain (an
 * rmdir after them) waits for no more than a few transactions. */
#define ASYNC_QUEUE_MAX 128
/* Sender threads: each has one request at the MDS at a time, so this is
 * how many unlinks one MDS transaction can gather from this mount. */
#define ASYNC_SENDERS 8

struct async_job {
	uint64_t ticket;
	uint64_t parent;
	char name[STORE_NAME_MAX + 1];
};

struct sfs_async {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;  /* a job was queued, or stop */
	pthread_cond_t done_cv;  /* a job finished, or room in the queue */
	struct async_job *queue[ASYNC_QUEUE_MAX];
	unsigned head, len;      /* ring of queued jobs, not yet taken */
	uint64_t pending[ASYNC_QUEUE_MAX + ASYNC_SENDERS]; /* 0 = free */
	unsigned n_pending;
	uint64_t issued;
	int stop;
	pthread_t senders[ASYNC_SENDERS];
	unsigned n_senders;
	struct sfs *fs;
};

static void pending_add(struct sfs_async *a, uint64_t ticket)
{
	for (size_t i = 0; i < sizeof(a->pending) / sizeof(a->pending[0]); i++)
		if (!a->pending[i]) {
			a->pending[i] = ticket;
			__atomic_add_fetch(&a->n_pending, 1, __ATOMIC_RELEASE);
			return;
		}
	/* Unreachable: queued + sending <= the array's size. */
	abort();
}

static void pending_del(struct sfs_async *a, uint64_t ticket)
{
	for (size_t i = 0; i < sizeof(a->pending) / sizeof(a->pending[0]); i++)
		if (a->pending[i] == ticket) {
			a->pending[i] = 0;
			__atomic_sub_fetch(&a->n_pending, 1, __ATOMIC_RELEASE);
			return;
		}
}

/* Is any ticket <= upto still queued or in flight?  (a->mu held) */
static int pending_upto(const struct sfs_async *a, uint64_t upto)
{
	for (size_t i = 0; i < sizeof(a->pending) / sizeof(a->pending[0]); i++)
		if (a->pending[i] && a->pending[i] <= upto)
			return 1;
	return 0;
}

static void *sender_main(void *arg)
{
	struct sfs_async *a = arg;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		struct async_job *j;
		int rc;

		while (!a->len && !a->stop)
			pthread_cond_wait(&a->work_cv, &a->mu);
		if (!a->len)
			break; /* stop, and nothing left */
		j = a->queue[a->head];
		a->head = (a->head + 1) % ASYNC_QUEUE_MAX;
		a->len--;
		pthread_cond_broadcast(&a->done_cv); /* room in the queue */
		pthread_mutex_unlock(&a->mu);
		rc = store_unlink(a->fs->c, j->parent, j->name, 0, NULL);
		if (rc && rc != -ENOENT)
			log_err("unlink of '%s' (folder inode %llu), already "
				"acknowledged, failed: %s; the name stays",
				j->name, (unsigned long long)j->parent,
				store_last_error());
		pthread_mutex_lock(&a->mu);
		pending_del(a, j->ticket);
		pthread_cond_broadcast(&a->done_cv);
		free(j);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int sfs_async_init(struct sfs *fs)
{
	struct sfs_async *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->fs = fs;
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->work_cv, NULL);
	pthread_cond_init(&a->done_cv, NULL);
	for (unsigned i = 0; i < ASYNC_SENDERS; i++) {
		if (pthread_create(&a->senders[i], NULL, sender_main, a))
			break;
		a->n_senders++;
	}
	if (!a->n_senders) {
		pthread_cond_destroy(&a->done_cv);
		pthread_cond_destroy(&a->work_cv);
		pthread_mutex_destroy(&a->mu);
		free(a);
		return -EAGAIN;
	}
	fs->async = a;
	return 0;
}

void sfs_async_destroy(struct sfs *fs)
{
	struct sfs_async *a = fs->async;

	if (!a)
		return;
	/* The senders finish the queue before they stop. */
	pthread_mutex_lock(&a->mu);
	a->stop = 1;
	pthread_cond_broadcast(&a->work_cv);
	pthread_mutex_unlock(&a->mu);
	for (unsigned i = 0; i < a->n_senders; i++)
		pthread_join(a->senders[i], NULL);
	pthread_cond_destroy(&a->done_cv);
	pthread_cond_destroy(&a->work_cv);
	pthread_mutex_destroy(&a->mu);
	free(a);
	fs->async = NULL;
}

int sfs_async_unlink(struct sfs *fs, uint64_t parent, const char *name)
{
	struct sfs_async *a = fs->async;
	struct async_job *j;

	if (!a || strlen(name) > STORE_NAME_MAX)
		return -EAGAIN;
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->parent = parent;
	strcpy(j->name, name);
	pthread_mutex_lock(&a->mu);
	while (a->len == ASYNC_QUEUE_MAX && !a->stop)
		pthread_cond_wait(&a->done_cv, &a->mu);
	if (a->stop) {
		pthread_mutex_unlock(&a->mu);
		free(j);
		return -EAGAIN;
	}
	j->ticket = ++a->issued;
	pending_add(a, j->ticket);
	a->queue[(a->head + a->len) % ASYNC_QUEUE_MAX] = j;
	a->len++;
	pthread_cond_signal(&a->work_cv);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

void sfs_async_drain(struct sfs *fs)
{
	struct sfs_async *a = fs->async;
	uint64_t upto;

	/* Unlocked peek first: nearly every operation finds nothing to
	 * wait for, and must not serialise on the lock for it. */
	if (!a || !__atomic_load_n(&a->n_pending, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&a->mu);
	/* Only what was queued before us: later unlinks cannot starve us. */
	upto = a->issued;
	while (pending_upto(a, upto))
		pthread_cond_wait(&a->done_cv, &a->mu);
	pthread_mutex_unlock(&a->mu);
}
