/*
 * cmd_files.c -- storectl put, get and cat.
 *
 * A recursive copy first walks the source tree and makes every folder (in
 * order, parents first), then copies the files with a pool of threads:
 * one big file is already parallel inside (several objects in flight to
 * many OSDs), but many small files need many requests in flight to keep
 * the MDS and OSDs busy.
 */
#include "storectl.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

/* Threads copying files of a recursive copy: enough requests in flight
 * to cover the MDS and OSD round trips of small files. */
#define COPY_THREADS 8
/* Bytes per read(2)/write(2) of local files. */
#define COPY_CHUNK (4u << 20)

enum item_kind { ITEM_FILE, ITEM_DIR, ITEM_LINK };

struct item {
	enum item_kind kind;
	char *local;
	char *remote;    /* put: the remote name; get: the remote path */
	uint64_t parent; /* put: remote parent ino */
	char name[STORE_NAME_MAX + 1];
	struct wire_attr attr; /* get: the remote file */
	mode_t mode;
	uint64_t size;
};

struct job {
	struct item *items;
	size_t n, cap;
	size_t next; /* next file to copy (under mu) */
	pthread_mutex_t mu;
	struct progress prog;
	int errors;
	int put; /* direction */
	/* A put failed for lack of space (-ENOSPC): every later file would
	 * fail the same way, so the copy stops (under mu). */
	int full;
};

static int job_add(struct job *j, const struct item *it)
{
	if (j->n == j->cap) {
		size_t nc = j->cap ? j->cap * 2 : 256;
		struct item *ni = realloc(j->items, nc * sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		j->items = ni;
		j->cap = nc;
	}
	j->items[j->n++] = *it;
	return 0;
}

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->items[i].local);
		free(j->items[i].remote);
	}
	free(j->items);
}

static void job_error(struct job *j, const char *fmt, const char *arg)
{
	pthread_mutex_lock(&j->mu);
	j->errors++;
	if (j->prog.on)
		fputc('\n', stderr);
	if (arg)
		ctl_error(fmt, arg);
	else
		ctl_error("%s", fmt);
	pthread_mutex_unlock(&j->mu);
}

/* ---- put ---------------------------------------------------------------*/

/* Copy one local file into the cluster as name in parent. */
static int put_file(struct job *j, struct item *it)
{
	struct store_client *c = ctl_client();
	struct store_writer *w = NULL;
	struct wire_attr attr;
	int fd, rc;

	fd = open(it->local, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return store_fail(-errno, "cannot read %s: %s", it->local,
				  strerror(errno));
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = store_create(c, it->parent, it->name, S_IFREG | (it->mode & 07777),
			  getuid(), getgid(), 0, &attr);
	if (rc)
		goto out;
	if (!S_ISREG(attr.mode)) {
		rc = store_fail(-EISDIR, "cannot overwrite %s: it is not a "
				"regular file", it->remote);
		goto out;
	}
	rc = store_writer_open(c, &attr, &w);
	if (rc)
		goto out;
	for (;;) {
		/* Read straight into the object buffer: one copy less. */
		ssize_t n = store_writer_read_fd(w, fd, it->local);

		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		pthread_mutex_lock(&j->mu);
		progress_add(&j->prog, (uint64_t)n);
		pthread_mutex_unlock(&j->mu);
	}
	rc = store_writer_close(w, NULL);
	w = NULL;
out:
	store_writer_abort(w);
	close(fd);
	return rc;
}

static int put_link(struct item *it)
{
	char target[PATH_MAX + 1];
	struct wire_attr attr;
	ssize_t n;
	int rc;

	n = readlink(it->local, target, sizeof(target) - 1);
	if (n < 0)
		return store_fail(-errno, "cannot read link %s: %s", it->local,
				  strerror(errno));
	target[n] = '\0';
	rc = store_symlink(ctl_client(), it->parent, it->name, target,
			   getuid(), getgid(), &attr);
	if (rc == -EEXIST) {
		/* Replace an existing link, like cp does. */
		rc = store_unlink(ctl_client(), it->parent, it->name, 0, NULL);
		if (rc == 0)
			rc = store_symlink(ctl_client(), it->parent, it->name,
					   target, getuid(), getgid(), &attr);
	}
	return rc;
}

static void *copy_worker(void *arg)
{
	struct job *j = arg;

	for (;;) {
		struct item *it;
		int rc;

		pthread_mutex_lock(&j->mu);
		while (j->next < j->n && j->items[j->next].kind == ITEM_DIR)
			j->next++;
		if (j->next >= j->n || j->full) {
			pthread_mutex_unlock(&j->mu);
			return NULL;
		}
		it = &j->items[j->next++];
		pthread_mutex_unlock(&j->mu);
		if (j->put)
			rc = it->kind == ITEM_LINK ? put_link(it) :
						    put_file(j, it);
		else
			rc = 0; /* get items are handled by get_worker */
		if (rc) {
			const char *e = store_last_error();

			/* After the first "no space", only the one error: the
			 * others are the same sentence again. */
			pthread_mutex_lock(&j->mu);
			rc = rc == -ENOSPC && j->full ? 0 : rc;
			if (rc == -ENOSPC)
				j->full = 1;
			pthread_mutex_unlock(&j->mu);
			if (rc)
				job_error(j, e[0] ? e : "copy failed", NULL);
		} else {
			pthread_mutex_lock(&j->mu);
			j->prog.files++;
			pthread_mutex_unlock(&j->mu);
		}
	}
}

static void run_workers(struct job *j, void *(*fn)(void *), size_t n_files)
{
	pthread_t t[COPY_THREADS];
	unsigned n = (unsigned)MIN((size_t)COPY_THREADS, MAX(n_files, 1));

	if (n <= 1) {
		fn(j);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn, j))
			n = i;
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* Walk a local tree, making remote folders as we go (parents first) and
 * queueing the files and links. */
static int put_walk(struct job *j, const char *local, uint64_t parent,
		    const char *name, const char *remote, int recursive,
		    uint64_t *total)
{
	struct store_client *c = ctl_client();
	struct item it;
	struct stat st;

	if (lstat(local, &st) < 0)
		return ctl_error("cannot read %s: %s", local, strerror(errno));
	memset(&it, 0, sizeof(it));
	it.parent = parent;
	snprintf(it.name, sizeof(it.name), "%s", name);
	it.mode = st.st_mode;
	it.size = (uint64_t)st.st_size;
	if (S_ISDIR(st.st_mode)) {
		struct wire_attr attr;
		struct dirent **ents;
		int n, rc, errs = 0;

		if (!recursive)
			return ctl_error("omitting folder %s (use put -r)",
					 local);
		rc = store_mkdir(c, parent, name, S_IFDIR | (st.st_mode & 07777),
				 getuid(), getgid(), &attr);
		if (rc == -EEXIST)
			rc = store_lookup(c, parent, name, &attr);
		if (rc == 0 && !S_ISDIR(attr.mode))
			rc = store_fail(-ENOTDIR, "%s exists and is not a "
					"folder", remote);
		if (rc == -ENOSPC)
			j->full = 1;
		if (rc)
			return ctl_lib_error(rc, remote);
		n = scandir(local, &ents, NULL, alphasort);
		if (n < 0)
			return ctl_error("cannot list %s: %s", local,
					 strerror(errno));
		for (int i = 0; i < n; i++) {
			const char *e = ents[i]->d_name;
			char lp[PATH_MAX], rp[STORE_PATH_MAX + 1];

			if (!j->full && strcmp(e, ".") && strcmp(e, "..")) {
				snprintf(lp, sizeof(lp), "%s/%s", local, e);
				if (path_join(rp, remote, e))
					errs += ctl_error("path too long: %s/%s",
							  remote, e);
				else
					errs += put_walk(j, lp, attr.ino, e, rp,
							 1, total);
			}
			free(ents[i]);
		}
		free(ents);
		return errs ? 1 : 0;
	}
	if (S_ISLNK(st.st_mode))
		it.kind = ITEM_LINK;
	else if (S_ISREG(st.st_mode))
		it.kind = ITEM_FILE;
	else
		return ctl_error("skipping %s: not a regular file, folder or "
				 "link", local);
	it.local = strdup(local);
	it.remote = strdup(remote);
	if (!it.local || !it.remote || job_add(j, &it)) {
		free(it.local);
		free(it.remote);
		return ctl_error("out of memory");
	}
	if (it.kind == ITEM_FILE)
		*total += it.size;
	return 0;
}

int cmd_put(int argc, char **argv)
{
	char rbase[STORE_PATH_MAX + 1], name[STORE_NAME_MAX + 1];
	struct store_client *c;
	struct wire_attr dst;
	uint64_t total = 0;
	int recursive = 0, opt, into_dir, rc, errs = 0;
	const char *remote;
	struct job j;

	while ((opt = getopt(argc, argv, "r")) != -1) {
		if (opt != 'r')
			return ctl_error("usage: put [-r] LOCAL... REMOTE");
		recursive = 1;
	}
	if (argc - optind < 2)
		return ctl_error("usage: put [-r] LOCAL... REMOTE");
	remote = argv[argc - 1];
	c = ctl_client();
	rc = store_resolve(c, remote, &dst);
	into_dir = rc == 0 && S_ISDIR(dst.mode);
	if (rc && rc != -ENOENT)
		return ctl_lib_error(rc, remote);
	if (argc - optind > 2 && !into_dir)
		return ctl_error("%s: must be an existing folder to copy "
				 "several files into", remote);
	memset(&j, 0, sizeof(j));
	j.put = 1;
	pthread_mutex_init(&j.mu, NULL);
	for (int i = optind; i < argc - 1; i++) {
		const char *local = argv[i];
		uint64_t parent;

		if (into_dir) {
			path_base(local, name, sizeof(name));
			if (!name[0] || !strcmp(name, ".") ||
			    !strcmp(name, "..")) {
				errs += ctl_error("cannot copy %s: no file name",
						  local);
				continue;
			}
			parent = dst.ino;
			if (path_join(rbase, remote, name)) {
				errs += ctl_error("path too long: %s/%s",
						  remote, name);
				continue;
			}
		} else {
			rc = store_resolve_parent(c, remote, &parent, name);
			if (rc) {
				errs += ctl_lib_error(rc, remote);
				continue;
			}
			snprintf(rbase, sizeof(rbase), "%s", remote);
		}
		if (!j.full)
			errs += put_walk(&j, local, parent, name, rbase,
					 recursive, &total);
	}
	progress_start(&j.prog, "put", total);
	if (!j.full)
		run_workers(&j, copy_worker, j.n);
	progress_end(&j.prog);
	/* With one file the error already said it all. */
	if (j.full && j.n > 1)
		errs += ctl_error("the cluster has no room for more: stopped "
				  "copying after %llu files",
				  (unsigned long long)j.prog.files);
	errs += j.errors;
	job_free(&j);
	pthread_mutex_destroy(&j.mu);
	return errs ? 1 : 0;
}

/* ---- the get's writer thread --------------------------------------------
 *
 * A get writes the file straight from the reader's buffers (writev of the
 * pieces store_reader_next() describes: no copy in this process).  A file
 * larger than one object is written by a thread of its own, from two
 * batches in turn: while it writes one (for a file in tmpfs or the page
 * cache the kernel allocates and fills pages, often the slowest step of a
 * get), the reader waits for and verifies the next object into the other.
 * Invariant: a batch is either the reader's (full == 0) or the writer's
 * (full == 1); each side touches only its own, and hands it over under
 * mu.  Only the reader's thread calls the store_reader (the release of a
 * written batch's pieces included), so the reader needs no lock.  After a
 * write error the writer keeps emptying batches without writing, so the
 * reader never waits for ever; it sees err and stops. */

/* Pieces in one batch: IOV_MAX, which covers a 4 MiB object of 4 KiB
 * stripe units in one writev. */
#define GET_IOV_MAX 1024

struct get_batch {
	struct iovec iov[GET_IOV_MAX];
	int n_iov;
	unsigned ticket;
	int held; /* ticket is still to be released */
};

struct sink {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	struct get_batch *b[2];
	int full[2];
	int done; /* the reader has no more */
	int err;  /* errno of the first failed write, or 0 */
};

/* Write every byte the n pieces of iov describe to fd (iov is consumed);
 * 0 or an errno. */
static int writev_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t m = writev(fd, iov, n);

		if (m < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		while (n > 0 && (size_t)m >= iov->iov_len) {
			m -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + m;
			iov->iov_len -= (size_t)m;
		}
	}
	return 0;
}

static void *sink_main(void *arg)
{
	struct sink *k = arg;
	unsigned b = 0;

	pthread_mutex_lock(&k->mu);
	for (;;) {
		while (!k->full[b] && !k->done)
			pthread_cond_wait(&k->cv, &k->mu);
		if (!k->full[b])
			break; /* done, and nothing left */
		pthread_mutex_unlock(&k->mu);
		int e = k->err ? 0 : writev_all(k->fd, k->b[b]->iov,
						 k->b[b]->n_iov);
		pthread_mutex_lock(&k->mu);
		if (e && !k->err)
			k->err = e;
		k->full[b] = 0;
		pthread_cond_broadcast(&k->cv);
		b ^= 1;
	}
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

/* Start a writer to fd with two batches.  0 or -errno. */
static int sink_start(struct sink *k, int fd)
{
	int rc;

	memset(k, 0, sizeof(*k));
	k->fd = fd;
	k->b[0] = calloc(1, sizeof(*k->b[0]));
	k->b[1] = calloc(1, sizeof(*k->b[1]));
	if (!k->b[0] || !k->b[1]) {
		free(k->b[0]);
		free(k->b[1]);
		return -ENOMEM;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	rc = pthread_create(&k->th, NULL, sink_main, k);
	if (rc) {
		pthread_mutex_destroy(&k->mu);
		pthread_cond_destroy(&k->cv);
		free(k->b[0]);
		free(k->b[1]);
		return -rc;
	}
	return 0;
}

/* The reader's next empty batch (b alternates 0, 1), once the writer has
 * written it, its pieces released back to r; NULL if a write failed
 * (sink_finish() says why). */
static struct get_batch *sink_take(struct sink *k, unsigned b,
				   struct store_reader *r)
{
	struct get_batch *p;

	pthread_mutex_lock(&k->mu);
	while (k->full[b] && !k->err)
		pthread_cond_wait(&k->cv, &k->mu);
	p = k->err ? NULL : k->b[b];
	pthread_mutex_unlock(&k->mu);
	if (p && p->held) {
		store_reader_release(r, p->ticket);
		p->held = 0;
	}
	return p;
}

/* Hand batch b, filled, to the writer. */
static void sink_give(struct sink *k, unsigned b)
{
	pthread_mutex_lock(&k->mu);
	k->full[b] = 1;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

/* Wait for every batch given to be written and stop the writer; release
 * what the batches still hold.  Returns 0 or the errno of the first
 * failed write. */
static int sink_finish(struct sink *k, struct store_reader *r)
{
	pthread_mutex_lock(&k->mu);
	k->done = 1;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->th, NULL);
	pthread_mutex_destroy(&k->mu);
	pthread_cond_destroy(&k->cv);
	for (unsigned b = 0; b < 2; b++) {
		if (k->b[b]->held)
			store_reader_release(r, k->b[b]->ticket);
		free(k->b[b]);
	}
	return k->err;
}

/* Count n more bytes copied on the job's progress bar, if there is one. */
static void get_progress(struct job *j, ssize_t n)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->mu);
	progress_add(&j->prog, (uint64_t)n);
	pthread_mutex_unlock(&j->mu);
}

/* Copy every byte of r into fd (named what in errors).  A file of one
 * chunk or less is read and written in turn; a larger one through the
 * writer thread, so the write of one object overlaps the wait for the
 * next.  Returns 0, or -errno with store_last_error() set. */
static int get_copy(struct job *j, struct store_reader *r, int fd,
		    uint64_t size, const char *what)
{
	struct get_batch *p;
	struct sink sink;
	unsigned b = 0;
	ssize_t n;
	int rc = 0, e = 0;

	if (size <= COPY_CHUNK) {
		p = malloc(sizeof(*p));
		if (!p)
			return store_fail(-ENOMEM, "out of memory");
		while ((n = store_reader_next(r, p->iov, GET_IOV_MAX,
					      COPY_CHUNK, &p->n_iov,
					      &p->ticket)) > 0) {
			e = writev_all(fd, p->iov, p->n_iov);
			store_reader_release(r, p->ticket);
			if (e)
				break;
			get_progress(j, n);
		}
		free(p);
		if (n < 0 && !e)
			return (int)n;
		goto out;
	}
	rc = sink_start(&sink, fd);
	if (rc)
		return store_fail(rc, "cannot start a writer: %s",
				  strerror(-rc));
	for (;;) {
		p = sink_take(&sink, b, r);
		if (!p)
			break; /* a write failed: sink_finish() says why */
		n = store_reader_next(r, p->iov, GET_IOV_MAX, COPY_CHUNK,
				      &p->n_iov, &p->ticket);
		if (n <= 0) {
			rc = (int)n;
			break;
		}
		p->held = 1;
		sink_give(&sink, b);
		b ^= 1;
		get_progress(j, n);
	}
	e = sink_finish(&sink, r);
	if (rc)
		return rc;
out:
	if (e)
		return store_fail(-e, "cannot write %s: %s", what, strerror(e));
	return 0;
}

/* ---- get ---------------------------------------------------------------*/

/* Copy one cluster file to a local path, through a temporary file renamed
 * into place only when every byte was read and verified: a failed read
 * leaves no wrong bytes behind.  A device or FIFO already at the path is
 * written into instead (its reader sees the bytes as they come).  Returns
 * 0, or -errno with store_last_error() set. */
static int get_file(struct job *j, const struct item *it, int to_stdout)
{
	struct store_client *c = ctl_client();
	struct store_reader *r = NULL;
	char tmp[PATH_MAX];
	int fd = -1, into_node = 0, rc;
	struct stat st;

	tmp[0] = '\0';
	rc = store_reader_open(c, &it->attr, &r);
	if (rc)
		return rc;
	if (to_stdout) {
		fd = STDOUT_FILENO;
	} else if (stat(it->local, &st) == 0 && !S_ISREG(st.st_mode) &&
		   !S_ISDIR(st.st_mode)) {
		/* A device or a FIFO (/dev/null, a pipe): written into, as cp
		 * does.  A temporary renamed over it would replace the device
		 * node itself. */
		if (S_ISSOCK(st.st_mode)) {
			rc = store_fail(-EINVAL, "cannot write %s: it is a "
					"socket", it->local);
			goto out;
		}
		fd = open(it->local, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = store_fail(-errno, "cannot write %s: %s",
					it->local, strerror(errno));
			goto out;
		}
		into_node = 1;
	} else {
		int n = snprintf(tmp, sizeof(tmp), "%s.storectl-XXXXXX",
				 it->local);

		if (n < 0 || (size_t)n >= sizeof(tmp)) {
			rc = store_fail(-ENAMETOOLONG, "path too long: %s",
					it->local);
			goto out;
		}
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			rc = store_fail(-errno, "cannot write %s: %s",
					it->local, strerror(errno));
			goto out;
		}
	}
	rc = get_copy(j, r, fd, it->attr.size,
		      to_stdout ? "stdout" : it->local);
	if (rc)
		goto out;
	if (into_node) {
		rc = close(fd) < 0 ? store_fail(-errno, "cannot write %s: %s",
						it->local, strerror(errno)) : 0;
		fd = -1;
	} else if (!to_stdout) {
		struct timespec ts[2] = {
			{ it->attr.atime_ns / 1000000000,
			  it->attr.atime_ns % 1000000000 },
			{ it->attr.mtime_ns / 1000000000,
			  it->attr.mtime_ns % 1000000000 },
		};

		if (fchmod(fd, it->attr.mode & 07777) < 0 ||
		    futimens(fd, ts) < 0 || close(fd) < 0) {
			rc = store_fail(-errno, "cannot write %s: %s", it->local,
					strerror(errno));
			fd = -1;
			goto out;
		}
		fd = -1;
		if (rename(tmp, it->local) < 0) {
			rc = store_fail(-errno, "cannot write %s: %s", it->local,
					strerror(errno));
			goto out;
		}
		tmp[0] = '\0';
	}
out:
	if (!to_stdout && fd >= 0)
		close(fd);
	if (!to_stdout && rc && tmp[0])
		unlink(tmp);
	store_reader_close(r);
	return rc;
}

static void *get_worker(void *arg)
{
	struct job *j = arg;

	for (;;) {
		struct item *it;
		int rc;

		pthread_mutex_lock(&j->mu);
		while (j->next < j->n && j->items[j->next].kind == ITEM_DIR)
			j->next++;
		if (j->next >= j->n) {
			pthread_mutex_unlock(&j->mu);
			return NULL;
		}
		it = &j->items[j->next++];
		pthread_mutex_unlock(&j->mu);
		if (it->kind == ITEM_LINK) {
			char target[STORE_PATH_MAX + 1];

			struct stat st;

			rc = store_readlink(ctl_client(), it->attr.ino, target);
			if (rc == 0 && lstat(it->local, &st) == 0 &&
			    !S_ISLNK(st.st_mode) && !S_ISREG(st.st_mode))
				/* Never unlink a device, FIFO or folder to
				 * put a link in its place. */
				rc = store_fail(-EEXIST, "cannot make link %s: "
						"something that is not a file "
						"is there", it->local);
			else if (rc == 0) {
				unlink(it->local);
				if (symlink(target, it->local) < 0)
					rc = store_fail(-errno, "cannot make "
							"link %s: %s",
							it->local,
							strerror(errno));
			}
		} else {
			rc = get_file(j, it, 0);
		}
		if (rc) {
			const char *e = store_last_error();

			job_error(j, e[0] ? e : "copy failed", NULL);
		}
	}
}

struct get_walk_ctx {
	struct job *j;
	const char *local;
	const char *remote;
	int errs;
};

static int get_walk(struct job *j, const struct wire_attr *attr,
		    const char *remote, const char *local, int recursive,
		    uint64_t *total);

static int get_walk_entry(void *arg, const struct wire_dirent *d)
{
	struct get_walk_ctx *x = arg;
	char lp[PATH_MAX], rp[STORE_PATH_MAX + 1];

	if ((size_t)snprintf(lp, sizeof(lp), "%s/%s", x->local, d->name) >=
		    sizeof(lp) ||
	    path_join(rp, x->remote, d->name)) {
		x->errs += ctl_error("path too long: %s/%s", x->remote,
				     d->name);
		return 0;
	}
	x->errs += get_walk(x->j, &d->attr, rp, lp, 1, NULL);
	return 0;
}

static uint64_t get_total;

static int get_walk(struct job *j, const struct wire_attr *attr,
		    const char *remote, const char *local, int recursive,
		    uint64_t *total)
{
	struct item it;

	if (!total)
		total = &get_total;
	memset(&it, 0, sizeof(it));
	it.attr = *attr;
	if (S_ISDIR(attr->mode)) {
		struct get_walk_ctx x = { j, local, remote, 0 };
		int rc;

		if (!recursive)
			return ctl_error("omitting folder %s (use get -r)",
					 remote);
		if (mkdir(local, 0700) < 0 && errno != EEXIST)
			return ctl_error("cannot make folder %s: %s", local,
					 strerror(errno));
		rc = store_readdir(ctl_client(), attr->ino, 0, 1,
				   get_walk_entry, &x);
		if (rc)
			return ctl_lib_error(rc, remote);
		chmod(local, attr->mode & 07777);
		return x.errs ? 1 : 0;
	}
	if (S_ISLNK(attr->mode))
		it.kind = ITEM_LINK;
	else if (S_ISREG(attr->mode))
		it.kind = ITEM_FILE;
	else
		return ctl_error("skipping %s: not a regular file, folder or "
				 "link", remote);
	it.local = strdup(local);
	it.remote = strdup(remote);
	if (!it.local || !it.remote || job_add(j, &it)) {
		free(it.local);
		free(it.remote);
		return ctl_error("out of memory");
	}
	if (it.kind == ITEM_FILE)
		*total += attr->size;
	return 0;
}

int cmd_get(int argc, char **argv)
{
	int recursive = 0, opt, into_dir, errs = 0;
	char lp[PATH_MAX], name[STORE_NAME_MAX + 1];
	const char *local;
	struct stat st;
	struct job j;

	while ((opt = getopt(argc, argv, "r")) != -1) {
		if (opt != 'r')
			return ctl_error("usage: get [-r] REMOTE... LOCAL");
		recursive = 1;
	}
	if (argc - optind < 2)
		return ctl_error("usage: get [-r] REMOTE... LOCAL");
	local = argv[argc - 1];
	into_dir = stat(local, &st) == 0 && S_ISDIR(st.st_mode);
	if (argc - optind > 2 && !into_dir)
		return ctl_error("%s: must be an existing folder to copy "
				 "several files into", local);
	memset(&j, 0, sizeof(j));
	pthread_mutex_init(&j.mu, NULL);
	get_total = 0;
	for (int i = optind; i < argc - 1; i++) {
		struct wire_attr attr;
		int rc = store_resolve(ctl_client(), argv[i], &attr);

		if (rc) {
			errs += ctl_lib_error(rc, argv[i]);
			continue;
		}
		if (into_dir) {
			path_base(argv[i], name, sizeof(name));
			if (!name[0])
				snprintf(name, sizeof(name), "root");
			if ((size_t)snprintf(lp, sizeof(lp), "%s/%s", local,
					     name) >= sizeof(lp)) {
				errs += ctl_error("path too long: %s/%s", local,
						  name);
				continue;
			}
		} else {
			snprintf(lp, sizeof(lp), "%s", local);
		}
		errs += get_walk(&j, &attr, argv[i], lp, recursive, &get_total);
	}
	progress_start(&j.prog, "get", get_total);
	run_workers(&j, get_worker, j.n);
	progress_end(&j.prog);
	errs += j.errors;
	job_free(&j);
	pthread_mutex_destroy(&j.mu);
	return errs ? 1 : 0;
}

int cmd_cat(int argc, char **argv)
{
	struct wire_attr attr;
	struct item it;
	int rc;

	if (argc != 2)
		return ctl_error("usage: cat PATH");
	rc = store_resolve(ctl_client(), argv[1], &attr);
	if (rc)
		return ctl_lib_error(rc, argv[1]);
	if (S_ISDIR(attr.mode))
		return ctl_error("%s: is a folder", argv[1]);
	memset(&it, 0, sizeof(it));
	it.attr = attr;
	rc = get_file(NULL, &it, 1);
	if (rc)
		return ctl_lib_error(rc, argv[1]);
	return 0;
}
