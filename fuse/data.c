/*
 * data.c -- storefs's file data: write-back buffering into whole objects,
 * write-behind of full objects, read-modify-write of partial ones at flush,
 * commits, truncation, and read-ahead.  See sfs.h for the model.
 */
#include "sfs.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Threads that write full objects (write-behind) and read objects ahead:
 * each has one object's k+m requests in flight, so this bounds both the
 * parallelism and the memory in flight (threads x object size). */
#define SFS_WORKERS 8
/* Jobs queued beyond the running ones before writers block. */
#define SFS_QUEUE_MAX 8
/* Objects read ahead of a sequential reader (each an object-size buffer
 * of the open file, 32 MiB with 4 MiB objects).  With 4, a cold 1 GiB read
 * left the CPU idle 14% of the time waiting for shards and ran at 530-570
 * MB/s on the 2-core VM; with 8 (and 8 workers), 700-800 MB/s. */
#define SFS_READAHEAD 8

enum job_kind { JOB_WRITE, JOB_FETCH };

/* An object fetched ahead, kept per open file. */
struct sfs_ra {
	uint64_t objno, version;
	uint32_t len;
	uint8_t *buf;
	int state; /* 0 free, 1 loading, 2 ready, 3 failed */
};

struct sfs_wjob {
	enum job_kind kind;
	struct sfs_inode *in; /* pinned */
	struct wire_attr attr;
	uint64_t objno;
	uint8_t *buf;
	uint32_t len;
	uint64_t seq;          /* JOB_WRITE: f->wseq when issued */
	struct wire_obj obj;   /* JOB_FETCH */
	struct sfs_ra *ra;     /* JOB_FETCH */
	struct sfs_wjob *next;
};

/* Read-ahead state lives beside the file (allocated on first use). */
struct sfs_ra_set {
	struct sfs_ra slot[SFS_READAHEAD];
	unsigned busy; /* jobs in flight using slots */
	pthread_cond_t cv;
};

static struct sfs_ra_set *ra_of(struct sfs_file *f);
static int inline_to_objects(struct sfs_file *f);
static int add_pending(struct sfs_file *f, const struct wire_obj *o,
		       uint64_t seq);

/* ---- the worker pool ---------------------------------------------------*/

static void job_run(struct sfs *fs, struct sfs_wjob *j)
{
	struct sfs_inode *in = j->in;
	struct sfs_file *f;
	uint64_t version = 0;
	int rc;

	if (j->kind == JOB_WRITE) {
		rc = store_object_write(fs->c, &j->attr, j->objno, j->buf,
					j->len, &version);
		if (rc)
			log_warn("inode %llu: writing object %llu failed: %s",
				 (unsigned long long)j->attr.ino,
				 (unsigned long long)j->objno,
				 store_last_error());
		pthread_mutex_lock(&in->mu);
		f = in->f;
		if (rc == 0) {
			struct wire_obj o = { j->objno, version, j->len };

			rc = add_pending(f, &o, j->seq);
		}
		if (rc && !f->err)
			f->err = rc;
		f->inflight--;
		pthread_cond_broadcast(&f->inflight_cv);
		pthread_mutex_unlock(&in->mu);
		free(j->buf);
	} else {
		struct sfs_ra *ra = j->ra;

		rc = store_object_read(fs->c, &j->attr, &j->obj, 0,
				       j->obj.length, ra->buf);
		pthread_mutex_lock(&in->mu);
		ra->state = rc ? 3 : 2;
		f = in->f;
		ra_of(f)->busy--;
		pthread_cond_broadcast(&ra_of(f)->cv);
		pthread_mutex_unlock(&in->mu);
	}
	sfs_inode_put(fs, in);
	free(j);
}

static void *worker_main(void *arg)
{
	struct sfs *fs = arg;

	for (;;) {
		struct sfs_wjob *j;

		pthread_mutex_lock(&fs->wq_mu);
		while (!fs->wq_head && !fs->wq_stop)
			pthread_cond_wait(&fs->wq_cv, &fs->wq_mu);
		if (!fs->wq_head) {
			pthread_mutex_unlock(&fs->wq_mu);
			return NULL;
		}
		j = fs->wq_head;
		fs->wq_head = j->next;
		if (!fs->wq_head)
			fs->wq_tail = NULL;
		fs->wq_len--;
		pthread_cond_signal(&fs->wq_space);
		pthread_mutex_unlock(&fs->wq_mu);
		job_run(fs, j);
	}
}

/* Queue a job; blocks while the queue is full (back-pressure on writers).
 * Must be called without any inode lock held when wait is set. */
static void job_queue(struct sfs *fs, struct sfs_wjob *j, int wait)
{
	pthread_mutex_lock(&fs->wq_mu);
	while (wait && fs->wq_len >= SFS_QUEUE_MAX && !fs->wq_stop)
		pthread_cond_wait(&fs->wq_space, &fs->wq_mu);
	j->next = NULL;
	if (fs->wq_tail)
		fs->wq_tail->next = j;
	else
		fs->wq_head = j;
	fs->wq_tail = j;
	fs->wq_len++;
	pthread_cond_signal(&fs->wq_cv);
	pthread_mutex_unlock(&fs->wq_mu);
}

int sfs_data_init(struct sfs *fs)
{
	pthread_mutex_init(&fs->wq_mu, NULL);
	pthread_cond_init(&fs->wq_cv, NULL);
	pthread_cond_init(&fs->wq_space, NULL);
	for (unsigned i = 0; i < SFS_WORKERS && i < ARRAY_SIZE(fs->writers);
	     i++) {
		if (pthread_create(&fs->writers[i], NULL, worker_main, fs))
			return -EAGAIN;
		fs->n_writers++;
	}
	return 0;
}

void sfs_data_destroy(struct sfs *fs)
{
	pthread_mutex_lock(&fs->wq_mu);
	fs->wq_stop = 1;
	pthread_cond_broadcast(&fs->wq_cv);
	pthread_cond_broadcast(&fs->wq_space);
	pthread_mutex_unlock(&fs->wq_mu);
	for (unsigned i = 0; i < fs->n_writers; i++)
		pthread_join(fs->writers[i], NULL);
}

/* ---- open files ----------------------------------------------------------*/

static struct sfs_ra_set *ra_sets_get(struct sfs_file *f, int create);

static struct sfs_ra_set *ra_of(struct sfs_file *f)
{
	return ra_sets_get(f, 0);
}

/* The read-ahead set hangs off the file through the pointer below; kept
 * out of sfs.h because only this file uses it. */
struct sfs_file_ext {
	struct sfs_ra_set *ra;
};

static struct sfs_ra_set *ra_sets_get(struct sfs_file *f, int create)
{
	struct sfs_file_ext *x = (struct sfs_file_ext *)(f + 1);

	if (!x->ra && create) {
		x->ra = calloc(1, sizeof(*x->ra));
		if (x->ra)
			pthread_cond_init(&x->ra->cv, NULL);
	}
	return x->ra;
}

/* Read a file's whole committed object map. */
static int load_objmap(struct sfs *fs, uint64_t ino, struct wire_obj **objs,
		       uint32_t *n_objs, uint32_t *cap_objs)
{
	struct wire_obj *v = NULL;
	uint32_t n_total = 0;
	int more = 1, rc = 0;

	while (more) {
		uint64_t first = n_total ? v[n_total - 1].objno + 1 : 0;
		struct wire_obj *nv;
		uint32_t n = 0;

		nv = realloc(v, (n_total + STORE_LIST_MAX) * sizeof(*nv));
		if (!nv) {
			rc = -ENOMEM;
			break;
		}
		v = nv;
		rc = store_objmap(fs->c, ino, first, STORE_LIST_MAX, v + n_total,
				  &n, &more);
		if (rc)
			break;
		n_total += n;
		if (n == 0)
			break;
	}
	if (rc) {
		free(v);
		return rc;
	}
	*objs = v;
	*n_objs = n_total;
	*cap_objs = n_total + (v ? STORE_LIST_MAX : 0);
	return 0;
}

/* Set a file's content state from the MDS's view (attributes, inline
 * data, object map).  On error f is unchanged. */
static int file_load(struct sfs *fs, struct sfs_file *f,
		     const struct wire_attr *a, const void *idata,
		     uint32_t ilen)
{
	struct wire_obj *objs = NULL;
	uint32_t n = 0, cap = 0;
	int is_inline = (a->flags & WIRE_ATTR_INLINE) || a->size == 0;
	int rc;

	if (!is_inline) {
		rc = load_objmap(fs, a->ino, &objs, &n, &cap);
		if (rc)
			return rc;
	}
	free(f->objs);
	f->objs = objs;
	f->n_objs = n;
	f->cap_objs = cap;
	f->size = a->size;
	f->object_size = a->object_size ? a->object_size : (4u << 20);
	f->objs_gen = a->gen;
	f->mtime_ns = a->mtime_ns;
	f->is_inline = is_inline;
	f->ilen = 0;
	if (is_inline) {
		if (!f->ibuf) {
			f->ibuf = calloc(1, MAX(fs->inline_max, 1));
			if (!f->ibuf)
				return -ENOMEM;
		}
		memset(f->ibuf, 0, MAX(fs->inline_max, 1));
		f->ilen = MIN(ilen, fs->inline_max);
		if (f->ilen)
			memcpy(f->ibuf, idata, f->ilen);
		/* Inline data may be shorter than the size (a truncate up):
		 * the rest is zeros, which ibuf already holds. */
		if (f->size > fs->inline_max) {
			uint64_t size = f->size;

			if (inline_to_objects(f))
				return -ENOMEM;
			f->size = size;
		} else {
			f->ilen = (uint32_t)f->size;
		}
	}
	return 0;
}

int sfs_file_open(struct sfs *fs, struct sfs_inode *in,
		  const struct wire_attr *a, const void *idata, uint32_t ilen)
{
	struct sfs_file *f;
	struct sfs_ra_set *ra;
	int rc;

	/* The caller has counted this open already, so no release frees
	 * in->f while we wait below; in->f is read afresh after a wait. */
	for (;;) {
		f = in->f;
		if (!f)
			break;
		/* Another handle is (or was just) open here: keep our view if
		 * it holds changes; else take the MDS's newer one, in place,
		 * since other handles and read-ahead jobs point at f. */
		if (f->dirty || f->n_pending || f->inflight || f->idirty ||
		    f->meta_dirty || a->gen == f->objs_gen)
			return 0;
		ra = ra_of(f);
		if (ra && ra->busy) {
			pthread_cond_wait(&ra->cv, &in->mu);
			continue;
		}
		if (ra)
			for (unsigned i = 0; i < SFS_READAHEAD; i++)
				ra->slot[i].state = 0;
		return file_load(fs, f, a, idata, ilen);
	}
	f = calloc(1, sizeof(*f) + sizeof(struct sfs_file_ext));
	if (!f)
		return -ENOMEM;
	pthread_cond_init(&f->inflight_cv, NULL);
	rc = file_load(fs, f, a, idata, ilen);
	if (rc) {
		sfs_file_free(f);
		return rc;
	}
	in->f = f;
	return 0;
}

void sfs_file_release_wait(struct sfs_inode *in)
{
	struct sfs_ra_set *ra;

	/* The wait drops in->mu, and meanwhile another handle's release may
	 * free in->f and its read-ahead set (it waits for the same jobs, and
	 * the broadcast wakes both): so in->f and its set are looked up
	 * afresh after every wake, never kept across the wait (ASan caught
	 * the kept pointer read after the free, in storefsx's reopens). */
	while (in->f && (ra = ra_of(in->f)) && ra->busy)
		pthread_cond_wait(&ra->cv, &in->mu);
}

void sfs_file_free(struct sfs_file *f)
{
	struct sfs_ra_set *ra;

	if (!f)
		return;
	while (f->dirty) {
		struct sfs_dobj *d = f->dirty;

		f->dirty = d->next;
		free(d->buf);
		free(d->ext);
		free(d);
	}
	ra = ra_of(f);
	if (ra) {
		for (unsigned i = 0; i < SFS_READAHEAD; i++)
			free(ra->slot[i].buf);
		pthread_cond_destroy(&ra->cv);
		free(ra);
	}
	pthread_cond_destroy(&f->inflight_cv);
	free(f->ibuf);
	free(f->objs);
	free(f->pending);
	free(f->pending_seq);
	free(f->discard);
	free(f);
}

void sfs_file_patch_attr(const struct sfs_inode *in, struct wire_attr *a)
{
	const struct sfs_file *f = in->f;

	if (!f || !S_ISREG(a->mode))
		return;
	a->size = f->size;
	if (f->meta_dirty || f->idirty)
		a->mtime_ns = f->mtime_ns;
	if (f->set_valid & WIRE_SET_MODE)
		a->mode = (a->mode & S_IFMT) | (f->set.mode & 07777);
	if (f->set_valid & WIRE_SET_UID)
		a->uid = f->set.uid;
	if (f->set_valid & WIRE_SET_GID)
		a->gid = f->set.gid;
	if (f->set_valid & WIRE_SET_ATIME)
		a->atime_ns = f->set.atime_ns;
}

int sfs_file_buffer_attrs(struct sfs_inode *in, uint32_t valid,
			  const struct wire_attr *want)
{
	struct sfs_file *f = in->f;

	if (!f || !S_ISREG(in->attr.mode) || (valid & WIRE_SET_SIZE) ||
	    (valid & ~(uint32_t)(WIRE_SET_MODE | WIRE_SET_UID | WIRE_SET_GID |
				 WIRE_SET_ATIME | WIRE_SET_ATIME_NOW |
				 WIRE_SET_MTIME | WIRE_SET_MTIME_NOW)))
		return 0;
	if (valid & WIRE_SET_MODE)
		f->set.mode = want->mode;
	if (valid & WIRE_SET_UID)
		f->set.uid = want->uid;
	if (valid & WIRE_SET_GID)
		f->set.gid = want->gid;
	/* "Now" is this client's clock, taken now, not at the commit. */
	if (valid & WIRE_SET_ATIME_NOW)
		f->set.atime_ns = (int64_t)wall_ns();
	else if (valid & WIRE_SET_ATIME)
		f->set.atime_ns = want->atime_ns;
	if (valid & (WIRE_SET_ATIME | WIRE_SET_ATIME_NOW))
		f->set_valid |= WIRE_SET_ATIME;
	f->set_valid |= valid & (WIRE_SET_MODE | WIRE_SET_UID | WIRE_SET_GID);
	if (valid & WIRE_SET_MTIME_NOW)
		f->mtime_ns = (int64_t)wall_ns();
	else if (valid & WIRE_SET_MTIME)
		f->mtime_ns = want->mtime_ns;
	f->meta_dirty = 1;
	return 1;
}

/* ---- helpers ----------------------------------------------------------*/

static const struct wire_obj *find_obj(const struct wire_obj *v, uint32_t n,
				       uint64_t objno)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v[mid].objno == objno)
			return &v[mid];
		if (v[mid].objno < objno)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The newest known version of an object: pending (written, uncommitted)
 * beats committed.  Pending is unsorted and small. */
static int object_of(const struct sfs_file *f, uint64_t objno,
		     struct wire_obj *out)
{
	const struct wire_obj *o;

	for (uint32_t i = f->n_pending; i-- > 0;) {
		if (f->pending[i].objno == objno) {
			*out = f->pending[i];
			return 1;
		}
	}
	o = find_obj(f->objs, f->n_objs, objno);
	if (!o)
		return 0;
	*out = *o;
	return 1;
}

static struct sfs_dobj *dobj_find(struct sfs_file *f, uint64_t objno,
				  struct sfs_dobj ***prevp)
{
	struct sfs_dobj **pp = &f->dirty;

	while (*pp && (*pp)->objno != objno)
		pp = &(*pp)->next;
	if (prevp)
		*prevp = pp;
	return *pp;
}

static struct sfs_dobj *dobj_get(struct sfs_file *f, uint64_t objno)
{
	struct sfs_dobj *d = dobj_find(f, objno, NULL);

	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->buf = calloc(1, f->object_size);
	if (!d->buf) {
		free(d);
		return NULL;
	}
	d->objno = objno;
	d->next = f->dirty;
	f->dirty = d;
	return d;
}

static void dobj_free(struct sfs_dobj *d)
{
	free(d->buf);
	free(d->ext);
	free(d);
}

/* Add [s, e) to the sorted, disjoint extents, merging neighbours. */
static int ext_add(struct sfs_dobj *d, uint32_t s, uint32_t e)
{
	unsigned i = 0, j;

	while (i < d->n_ext && d->ext[i].end < s)
		i++;
	j = i;
	while (j < d->n_ext && d->ext[j].start <= e) {
		s = MIN(s, d->ext[j].start);
		e = MAX(e, d->ext[j].end);
		j++;
	}
	if (j == i) {
		if (d->n_ext == d->cap_ext) {
			unsigned nc = d->cap_ext ? d->cap_ext * 2 : 4;
			struct sfs_extent *ne = realloc(d->ext, nc * sizeof(*ne));

			if (!ne)
				return -ENOMEM;
			d->ext = ne;
			d->cap_ext = nc;
		}
		memmove(d->ext + i + 1, d->ext + i,
			(d->n_ext - i) * sizeof(*d->ext));
		d->n_ext++;
	} else if (j > i + 1) {
		memmove(d->ext + i + 1, d->ext + j,
			(d->n_ext - j) * sizeof(*d->ext));
		d->n_ext -= j - i - 1;
	}
	d->ext[i].start = s;
	d->ext[i].end = e;
	return 0;
}

static int ext_covers(const struct sfs_dobj *d, uint32_t s, uint32_t e)
{
	if (s >= e)
		return 1;
	for (unsigned i = 0; i < d->n_ext; i++)
		if (d->ext[i].start <= s && d->ext[i].end >= e)
			return 1;
	return 0;
}

/* Make a dirty object whole: read the bytes of its old version that the
 * extents leave uncovered (in->mu held).  Bytes past the old object's
 * length stay zero. */
static int dobj_fill_base(struct sfs *fs, struct sfs_inode *in,
			  struct sfs_dobj *d)
{
	struct sfs_file *f = in->f;
	struct wire_obj old;
	uint8_t *tmp;
	uint32_t len, pos = 0;
	int rc;

	if (d->based)
		return 0;
	if (!object_of(f, d->objno, &old) || old.length == 0) {
		d->based = 1;
		return 0;
	}
	len = MIN(old.length, f->object_size);
	log_debug("fill_base obj %llu old v %llx len %u", (unsigned long long)d->objno,
		  (unsigned long long)old.version, old.length);
	if (ext_covers(d, 0, len)) {
		d->based = 1;
		return 0;
	}
	tmp = malloc(len);
	if (!tmp)
		return -ENOMEM;
	rc = store_object_read(fs->c, &in->attr, &old, 0, len, tmp);
	if (rc) {
		free(tmp);
		return rc;
	}
	/* Copy the old bytes into the gaps between extents. */
	for (unsigned i = 0; i <= d->n_ext && pos < len; i++) {
		uint32_t gap_end = i < d->n_ext ? MIN(d->ext[i].start, len) : len;

		if (gap_end > pos)
			memcpy(d->buf + pos, tmp + pos, gap_end - pos);
		if (i < d->n_ext)
			pos = MAX(pos, d->ext[i].end);
	}
	free(tmp);
	d->based = 1;
	return ext_add(d, 0, len);
}

/* Length an object will have when written: up to the file's size. */
static uint32_t object_len(const struct sfs_file *f, uint64_t objno)
{
	uint64_t start = objno * f->object_size;

	if (f->size <= start)
		return 0;
	return (uint32_t)MIN((uint64_t)f->object_size, f->size - start);
}

/* ---- write -----------------------------------------------------------*/

/* Leave inline mode: the inline bytes become dirty object 0. */
static int inline_to_objects(struct sfs_file *f)
{
	struct sfs_dobj *d;

	if (!f->is_inline)
		return 0;
	if (f->ilen) {
		d = dobj_get(f, 0);
		if (!d)
			return -ENOMEM;
		memcpy(d->buf, f->ibuf, f->ilen);
		if (ext_add(d, 0, f->ilen))
			return -ENOMEM;
		d->based = 1;
	}
	f->is_inline = 0;
	f->idirty = 0;
	f->meta_dirty = 1;
	return 0;
}

ssize_t sfs_file_write(struct sfs *fs, struct sfs_inode *in, const char *buf,
		       size_t len, off_t off)
{
	struct sfs_wjob *jobs = NULL, **tail = &jobs;
	uint64_t pos = (uint64_t)off, end = pos + len;
	struct sfs_file *f;
	ssize_t rc = (ssize_t)len;

	if (off < 0 || end > (uint64_t)INT64_MAX)
		return -EFBIG;
	pthread_mutex_lock(&in->mu);
	f = in->f;
	if (!f) {
		pthread_mutex_unlock(&in->mu);
		return -EBADF;
	}
	if (f->is_inline && end <= fs->inline_max) {
		if (pos > f->ilen)
			memset(f->ibuf + f->ilen, 0, pos - f->ilen);
		memcpy(f->ibuf + pos, buf, len);
		f->ilen = (uint32_t)MAX((uint64_t)f->ilen, end);
		f->size = MAX(f->size, end);
		f->idirty = 1;
		f->mtime_ns = (int64_t)wall_ns();
		pthread_mutex_unlock(&in->mu);
		return (ssize_t)len;
	}
	log_debug("write ino %llu off %llu len %zu", (unsigned long long)in->ino,
		  (unsigned long long)pos, len);
	/* Objects are placed by the file's pool and number: a file created
	 * here goes to the MDS before its first object (create.c). */
	if (f->pending_create) {
		int err = sfs_pc_settle(fs, in);

		if (err) {
			pthread_mutex_unlock(&in->mu);
			return err;
		}
	}
	if (f->is_inline && inline_to_objects(f)) {
		pthread_mutex_unlock(&in->mu);
		return -ENOMEM;
	}
	while (pos < end) {
		uint64_t objno = pos / f->object_size;
		uint32_t o = (uint32_t)(pos % f->object_size);
		uint32_t n = (uint32_t)MIN(end - pos, (uint64_t)(f->object_size - o));
		struct sfs_dobj *d = dobj_get(f, objno), **pp;

		if (!d || ext_add(d, o, o + n)) {
			rc = -ENOMEM;
			break;
		}
		memcpy(d->buf + o, buf + (pos - (uint64_t)off), n);
		pos += n;
		if (ext_covers(d, 0, f->object_size)) {
			/* A whole object: write it behind, now. */
			struct sfs_wjob *j = calloc(1, sizeof(*j));

			if (!j) {
				rc = -ENOMEM;
				break;
			}
			dobj_find(f, objno, &pp);
			*pp = d->next;
			j->kind = JOB_WRITE;
			j->attr = in->attr;
			j->objno = objno;
			j->seq = ++f->wseq;
			j->buf = d->buf;
			j->len = f->object_size;
			d->buf = NULL;
			dobj_free(d);
			f->inflight++;
			*tail = j;
			tail = &j->next;
		}
	}
	f->size = MAX(f->size, pos);
	f->meta_dirty = 1;
	f->mtime_ns = (int64_t)wall_ns();
	pthread_mutex_unlock(&in->mu);
	while (jobs) {
		struct sfs_wjob *j = jobs;

		jobs = j->next;
		j->in = sfs_inode_get(fs, in->ino, 0);
		job_queue(fs, j, 1);
	}
	return rc;
}

/* ---- flush -----------------------------------------------------------*/

static int push_obj(struct wire_obj **v, uint32_t *n, uint32_t *cap,
		    const struct wire_obj *o)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 64;
		struct wire_obj *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *o;
	return 0;
}

/* Record a written version for the next commit (in->mu held).  Two
 * versions of one object can be in flight at once (a write-behind and a
 * later partial write): the one issued last wins, whatever order they
 * finish in, and the other is deleted after the commit. */
static int add_pending(struct sfs_file *f, const struct wire_obj *o,
		       uint64_t seq)
{
	for (uint32_t i = 0; i < f->n_pending; i++) {
		if (f->pending[i].objno != o->objno)
			continue;
		if (seq > f->pending_seq[i]) {
			if (push_obj(&f->discard, &f->n_discard,
				     &f->cap_discard, &f->pending[i]))
				return -ENOMEM;
			f->pending[i] = *o;
			f->pending_seq[i] = seq;
			return 0;
		}
		return push_obj(&f->discard, &f->n_discard, &f->cap_discard, o);
	}
	if (f->n_pending == f->cap_pending) {
		uint32_t nc = f->cap_pending ? f->cap_pending * 2 : 64;
		uint64_t *ns = realloc(f->pending_seq, nc * sizeof(*ns));
		struct wire_obj *np;

		if (!ns)
			return -ENOMEM;
		f->pending_seq = ns;
		np = realloc(f->pending, nc * sizeof(*np));
		if (!np)
			return -ENOMEM;
		f->pending = np;
		f->cap_pending = nc;
	}
	f->pending_seq[f->n_pending] = seq;
	f->pending[f->n_pending++] = *o;
	return 0;
}

static int objcmp(const void *a, const void *b)
{
	const struct wire_obj *x = a, *y = b;

	return (x->objno > y->objno) - (x->objno < y->objno);
}

/* Fold committed versions into the sorted object map. */
static int merge_committed(struct sfs_file *f, const struct wire_obj *v,
			   uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct wire_obj *o = (struct wire_obj *)find_obj(f->objs,
								 f->n_objs,
								 v[i].objno);

		if (o) {
			*o = v[i];
			continue;
		}
		if (f->n_objs == f->cap_objs) {
			uint32_t nc = f->cap_objs ? f->cap_objs * 2 : 64;
			struct wire_obj *no = realloc(f->objs, nc * sizeof(*no));

			if (!no)
				return -ENOMEM;
			f->objs = no;
			f->cap_objs = nc;
		}
		f->objs[f->n_objs++] = v[i];
		qsort(f->objs, f->n_objs, sizeof(*f->objs), objcmp);
	}
	return 0;
}

int sfs_file_flush(struct sfs *fs, struct sfs_inode *in)
{
	struct sfs_file *f = in->f;
	struct wire_attr attr;
	int rc = 0;

	if (!f)
		return 0;
	if (f->create_err)
		return f->create_err;
	/* Created here: the create goes with the whole file (create.c). */
	if (f->pending_create && f->is_inline)
		return sfs_pc_commit(fs, in);
	rc = sfs_pc_settle(fs, in);
	if (rc)
		return rc;
	if (f->is_inline) {
		if (!f->idirty && !f->meta_dirty)
			return 0;
		rc = store_commit_attrs(fs->c, in->ino,
					WIRE_COMMIT_INLINE | WIRE_COMMIT_TRUNC,
					WIRE_SET_SIZE | WIRE_SET_MTIME |
						f->set_valid,
					f->ilen, f->mtime_ns, &f->set, NULL, 0,
					f->ibuf, f->ilen, &attr);
		if (rc == 0) {
			f->idirty = 0;
			f->meta_dirty = 0;
			f->set_valid = 0;
			in->attr = attr;
			f->objs_gen = attr.gen;
		}
		return rc;
	}
	/* Full objects written behind land first: a partial object may be
	 * based on one of them (the wait drops in->mu). */
	while (f->inflight)
		pthread_cond_wait(&f->inflight_cv, &in->mu);
	/* Partial objects: complete them from their old versions, write. */
	while (f->dirty) {
		struct sfs_dobj *d = f->dirty;
		struct wire_obj o = { d->objno, 0, object_len(f, d->objno) };

		if (o.length == 0) {
			/* Entirely past the end (truncated away). */
			f->dirty = d->next;
			dobj_free(d);
			continue;
		}
		rc = dobj_fill_base(fs, in, d);
		if (rc == 0)
			rc = store_object_write(fs->c, &in->attr, d->objno,
						d->buf, o.length, &o.version);
		if (log_enabled(LOG_DEBUG)) {
			char ext[256] = "";
			size_t el = 0;

			for (unsigned i = 0; i < d->n_ext && el < 200; i++)
				el += (size_t)snprintf(ext + el, sizeof(ext) - el,
						       " [%u,%u)", d->ext[i].start,
						       d->ext[i].end);
			log_debug("flush ino %llu obj %llu len %u -> v %llx rc %d:%s",
				  (unsigned long long)in->ino,
				  (unsigned long long)d->objno, o.length,
				  (unsigned long long)o.version, rc, ext);
		}
		if (rc)
			return rc;
		if (add_pending(f, &o, ++f->wseq))
			return -ENOMEM;
		f->dirty = d->next;
		dobj_free(d);
	}
	while (f->inflight)
		pthread_cond_wait(&f->inflight_cv, &in->mu);
	if (f->err) {
		rc = f->err;
		f->err = 0;
		return rc;
	}
	if (!f->n_pending && !f->meta_dirty)
		return 0;
	/* One commit per STORE_LIST_MAX objects; the size with the last. */
	for (uint32_t i = 0; i < f->n_pending || i == 0; i += STORE_LIST_MAX) {
		uint32_t n = MIN(f->n_pending - i, STORE_LIST_MAX);
		int last = i + n >= f->n_pending;

		rc = store_commit_attrs(fs->c, in->ino, 0,
					last ? WIRE_SET_SIZE | WIRE_SET_MTIME |
						       f->set_valid : 0,
					f->size, f->mtime_ns, &f->set,
					f->pending + i, n, NULL, 0, &attr);
		if (rc)
			return rc;
		if (merge_committed(f, f->pending + i, n))
			return -ENOMEM;
		if (last)
			break;
	}
	f->n_pending = 0;
	f->meta_dirty = 0;
	f->set_valid = 0;
	in->attr = attr;
	f->objs_gen = attr.gen;
	if (f->n_discard) {
		store_discard_objects(fs->c, in->attr.pool, in->ino, f->discard,
				      f->n_discard);
		f->n_discard = 0;
	}
	return 0;
}

int sfs_file_truncate(struct sfs *fs, struct sfs_inode *in, uint64_t size,
		      struct wire_attr *attr)
{
	struct sfs_file *f = in->f;
	struct wire_attr want;
	int rc;

	memset(&want, 0, sizeof(want));
	want.size = size;
	if (f && f->is_inline && size <= fs->inline_max) {
		if (size > f->ilen)
			memset(f->ibuf + f->ilen, 0, size - f->ilen);
		f->ilen = (uint32_t)size;
		f->size = size;
		f->idirty = 1;
		f->mtime_ns = (int64_t)wall_ns();
		rc = sfs_file_flush(fs, in);
		if (rc == 0 && attr)
			*attr = in->attr;
		return rc;
	}
	if (f) {
		/* Everything written so far goes first, so the MDS truncates
		 * what we wrote too; then nothing local is dirty. */
		rc = sfs_file_flush(fs, in);
		if (rc)
			return rc;
	}
	rc = store_setattr(fs->c, in->ino, WIRE_SET_SIZE | WIRE_SET_MTIME, &want,
			   attr);
	if (rc)
		return rc;
	in->attr = *attr;
	if (f) {
		uint32_t keep = 0;

		/* Mirror the MDS: objects past the end go, the last one is
		 * trimmed, and a truncated-down inline-sized file stays an
		 * object file (its data lives in objects). */
		for (uint32_t i = 0; i < f->n_objs; i++) {
			uint64_t start = f->objs[i].objno * f->object_size;

			if (start >= size)
				continue;
			f->objs[keep] = f->objs[i];
			f->objs[keep].length = (uint32_t)MIN(
				(uint64_t)f->objs[keep].length, size - start);
			keep++;
		}
		f->n_objs = keep;
		f->size = size;
		f->objs_gen = attr->gen;
		if (attr->flags & WIRE_ATTR_INLINE) {
			f->is_inline = 1;
			if (!f->ibuf)
				f->ibuf = calloc(1, MAX(fs->inline_max, 1));
			f->ilen = (uint32_t)MIN(size, fs->inline_max);
		}
	}
	return 0;
}

/* ---- read ------------------------------------------------------------*/

/* Read-ahead: make sure objects [objno, objno + SFS_READAHEAD) are
 * loading (in->mu held). */
static void sfs_readahead(struct sfs *fs, struct sfs_inode *in, uint64_t objno)
{
	struct sfs_file *f = in->f;
	struct sfs_ra_set *ra = ra_sets_get(f, 1);

	if (!ra)
		return;
	for (uint64_t n = objno; n < objno + SFS_READAHEAD; n++) {
		struct sfs_ra *slot = NULL, *victim = NULL;
		struct wire_obj o;
		struct sfs_wjob *j;

		if (n * f->object_size >= f->size || !object_of(f, n, &o) ||
		    dobj_find(f, n, NULL))
			continue;
		for (unsigned i = 0; i < SFS_READAHEAD; i++) {
			struct sfs_ra *s = &ra->slot[i];

			if (s->state && s->objno == n && s->version == o.version)
				slot = s;
			/* Reuse a slot behind the reader, never one loading. */
			if (s->state != 1 && (!s->state || s->objno < objno) &&
			    !victim)
				victim = s;
		}
		if (slot || !victim)
			continue;
		if (!victim->buf) {
			victim->buf = malloc(f->object_size);
			if (!victim->buf)
				return;
		}
		j = calloc(1, sizeof(*j));
		if (!j)
			return;
		victim->objno = n;
		victim->version = o.version;
		victim->len = MIN(o.length, f->object_size);
		victim->state = 1;
		ra->busy++;
		j->kind = JOB_FETCH;
		j->attr = in->attr;
		j->obj = o;
		j->obj.length = victim->len;
		j->ra = victim;
		j->in = sfs_inode_get(fs, in->ino, 0);
		job_queue(fs, j, 0);
	}
}

/* Copy object bytes [o, o + n) from a read-ahead slot if one holds (or is
 * loading) that version; 1 if served, 0 if not there, -errno. */
static int read_from_ra(struct sfs_inode *in, const struct wire_obj *obj,
			uint32_t o, uint32_t n, char *dst)
{
	struct sfs_ra_set *ra = ra_of(in->f);

	if (!ra)
		return 0;
	for (unsigned i = 0; i < SFS_READAHEAD; i++) {
		struct sfs_ra *s = &ra->slot[i];

		if (!s->state || s->objno != obj->objno ||
		    s->version != obj->version)
			continue;
		while (s->state == 1)
			pthread_cond_wait(&ra->cv, &in->mu);
		if (s->state != 2 || s->objno != obj->objno ||
		    s->version != obj->version)
			return 0; /* failed: read it directly for the error */
		if (o < s->len) {
			uint32_t have = MIN(n, s->len - o);

			memcpy(dst, s->buf + o, have);
			memset(dst + have, 0, n - have);
		} else {
			memset(dst, 0, n);
		}
		return 1;
	}
	return 0;
}

ssize_t sfs_file_read(struct sfs *fs, struct sfs_inode *in, char *buf,
		      size_t len, off_t off)
{
	uint64_t pos = (uint64_t)off, end;
	struct sfs_file *f;
	int seq, rc = 0;

	pthread_mutex_lock(&in->mu);
	f = in->f;
	if (!f) {
		log_err("read: inode %llu has no open state (opens %d)",
			(unsigned long long)in->ino, in->opens);
		pthread_mutex_unlock(&in->mu);
		return -EBADF;
	}
	/* Objects being written behind must land before they can be read
	 * (the wait drops in->mu, so everything is read after it). */
	while (f->inflight)
		pthread_cond_wait(&f->inflight_cv, &in->mu);
	if (off < 0 || pos >= f->size) {
		pthread_mutex_unlock(&in->mu);
		return 0;
	}
	end = MIN(pos + len, f->size);
	if (f->is_inline) {
		size_t n = (size_t)(end - pos);
		size_t have = pos < f->ilen ? MIN(n, f->ilen - pos) : 0;

		memcpy(buf, f->ibuf + pos, have);
		memset(buf + have, 0, n - have);
		pthread_mutex_unlock(&in->mu);
		return (ssize_t)n;
	}
	seq = pos == f->next_read || pos == 0;
	f->seq_reads = seq ? f->seq_reads + 1 : 0;
	f->next_read = end;
	if (f->seq_reads >= 2)
		sfs_readahead(fs, in, pos / f->object_size);
	while (pos < end && rc == 0) {
		uint64_t objno = pos / f->object_size;
		uint32_t o = (uint32_t)(pos % f->object_size);
		uint32_t n = (uint32_t)MIN(end - pos, (uint64_t)(f->object_size - o));
		char *dst = buf + (pos - (uint64_t)off);
		struct sfs_dobj *d = dobj_find(f, objno, NULL);
		struct wire_obj obj;

		if (d) {
			if (!ext_covers(d, o, o + n))
				rc = dobj_fill_base(fs, in, d);
			if (rc == 0)
				memcpy(dst, d->buf + o, n);
		} else if (!object_of(f, objno, &obj) || o >= obj.length) {
			memset(dst, 0, n); /* a hole, or past its data */
		} else {
			rc = read_from_ra(in, &obj, o, n, dst);
			if (rc == 0) {
				struct wire_attr a = in->attr;

				/* Not read ahead: fetch just this range,
				 * without holding the file. */
				pthread_mutex_unlock(&in->mu);
				rc = store_object_read(fs->c, &a, &obj, o, n, dst);
				pthread_mutex_lock(&in->mu);
				f = in->f;
			} else if (rc == 1) {
				rc = 0;
			}
		}
		pos += n;
	}
	pthread_mutex_unlock(&in->mu);
	if (rc) {
		log_warn("inode %llu: read failed: %s",
			 (unsigned long long)in->ino, store_last_error());
		return rc;
	}
	return (ssize_t)(end - (uint64_t)off);
}

int sfs_file_read_around(struct sfs *fs, struct sfs_inode *in, char *buf,
			 size_t len, off_t off, struct sfs_around *w)
{
	uint64_t pos = (uint64_t)off, objno, base;
	uint32_t o, wo, wend;
	struct sfs_file *f;
	struct wire_obj obj;
	struct wire_attr a;
	char *wbuf;
	int rc;

	if (fs->noreadaround || !fs->se || off < 0 || !len ||
	    len > SFS_AROUND / 2)
		return 0;
	pthread_mutex_lock(&in->mu);
	f = in->f;
	if (!f || in->writers || f->inflight || f->is_inline ||
	    f->dirty || f->n_pending || pos >= f->size ||
	    pos == f->next_read || pos == 0)
		goto no;
	objno = pos / f->object_size;
	o = (uint32_t)(pos % f->object_size);
	if (!object_of(f, objno, &obj) || o >= obj.length)
		goto no;
	base = objno * f->object_size;
	wo = o & ~(SFS_AROUND - 1);
	wend = (uint32_t)MIN((uint64_t)wo + SFS_AROUND,
			     MIN((uint64_t)obj.length, f->size - base));
	if ((uint64_t)o + len > wend)
		goto no;
	wbuf = malloc(wend - wo);
	if (!wbuf)
		goto no;
	in->around++;
	f->next_read = pos + len;
	f->seq_reads = 0;
	a = in->attr;
	pthread_mutex_unlock(&in->mu);
	rc = store_object_read(fs->c, &a, &obj, wo, wend - wo, wbuf);
	if (rc) {
		free(wbuf);
		sfs_read_around_done(in, NULL);
		return 0; /* read just the range: it reports the error */
	}
	memcpy(buf, wbuf + (o - wo), len);
	w->buf = wbuf;
	w->off = base + wo;
	w->len = wend - wo;
	return 1;
no:
	pthread_mutex_unlock(&in->mu);
	return 0;
}

void sfs_read_around_done(struct sfs_inode *in, struct sfs_around *w)
{
	if (w) {
		free(w->buf);
		w->buf = NULL;
	}
	pthread_mutex_lock(&in->mu);
	if (--in->around == 0)
		pthread_cond_broadcast(&in->around_cv);
	pthread_mutex_unlock(&in->mu);
}
