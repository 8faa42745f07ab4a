/*
 * io.c -- the OSD's io_uring engine: see io.h.
 */
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

/* Completions taken from the ring per batch: enough to drain a busy ring
 * in a few passes without a large stack frame. */
#define IO_CQE_BATCH 64
/* The private ring's depth: one synchronous operation at a time, with a
 * little room to spare. */
#define IO_SYNC_DEPTH 4

struct io_ring {
	struct io_uring ring;
	struct io_uring sync;
	unsigned inflight;    /* queued or in the kernel, main ring */
	struct io_req *forced_head, *forced_tail; /* failed by the hook */
	io_fault_fn fault;
	void *fault_arg;
};

int io_ring_open(unsigned depth, struct io_ring **out)
{
	struct io_uring_params p;
	struct io_ring *r;
	int rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(&p, 0, sizeof(p));
	/* A completion queue four times the submission queue: polls and
	 * disk operations in flight at once never overflow it. */
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN;
	p.cq_entries = depth * 4;
	rc = io_uring_queue_init_params(depth, &r->ring, &p);
	if (rc == -EINVAL) {
		/* Kernels before 5.19 lack COOP_TASKRUN. */
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = depth * 4;
		rc = io_uring_queue_init_params(depth, &r->ring, &p);
	}
	if (rc < 0) {
		free(r);
		return rc;
	}
	rc = io_uring_queue_init(IO_SYNC_DEPTH, &r->sync, 0);
	if (rc < 0) {
		io_uring_queue_exit(&r->ring);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* user_data of the cancel request io_ring_close() sends. */
#define IO_CANCEL_TAG ((void *)(uintptr_t)1)
/* How long io_ring_close() waits for disk operations to finish. */
#define IO_CLOSE_WAIT_MS 30000

void io_ring_close(struct io_ring *r)
{
	struct io_uring_sqe *sqe;
	unsigned waited_ms = 0;

	if (!r)
		return;
	while (r->forced_head) {
		r->forced_head = r->forced_head->fnext;
		r->inflight--;
	}
	/* Polls never finish on their own: cancel everything cancellable.
	 * Disk operations in the kernel may still write into buffers the
	 * caller is about to free, so wait for them (callbacks not run). */
	sqe = io_uring_get_sqe(&r->ring);
	if (!sqe) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	if (sqe) {
		io_uring_prep_cancel(sqe, NULL, IORING_ASYNC_CANCEL_ANY);
		io_uring_sqe_set_data(sqe, IO_CANCEL_TAG);
	}
	io_uring_submit(&r->ring);
	while (r->inflight > 0 && waited_ms < IO_CLOSE_WAIT_MS) {
		struct __kernel_timespec ts = { .tv_sec = 0,
						.tv_nsec = 100000000 };
		struct io_uring_cqe *cqe;
		int rc = io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);

		if (rc == -ETIME) {
			waited_ms += 100;
			continue;
		}
		if (rc < 0 && rc != -EINTR)
			break;
		while (io_uring_peek_cqe(&r->ring, &cqe) == 0) {
			if (io_uring_cqe_get_data(cqe) != IO_CANCEL_TAG &&
			    r->inflight > 0)
				r->inflight--;
			io_uring_cqe_seen(&r->ring, cqe);
		}
	}
	io_uring_queue_exit(&r->sync);
	io_uring_queue_exit(&r->ring);
	free(r);
}

void io_set_fault(struct io_ring *r, io_fault_fn fn, void *arg)
{
	r->fault = fn;
	r->fault_arg = arg;
}

/* An SQE of the main ring for q, or NULL if the fault hook failed the
 * operation (q is then queued for completion with the injected error). */
static struct io_uring_sqe *get_sqe(struct io_ring *r, struct io_req *q,
				    enum io_op op, int fd, const char *path,
				    uint64_t off, uint64_t len)
{
	struct io_uring_sqe *sqe;

	r->inflight++;
	q->forced = 0;
	q->fnext = NULL;
	if (r->fault) {
		int rc = r->fault(r->fault_arg, op, fd, path, off, len);

		if (rc) {
			q->forced = 1;
			q->forced_res = rc;
			if (r->forced_tail)
				r->forced_tail->fnext = q;
			else
				r->forced_head = q;
			r->forced_tail = q;
			return NULL;
		}
	}
	sqe = io_uring_get_sqe(&r->ring);
	while (!sqe) {
		/* The submission queue is full: hand it to the kernel, which
		 * consumes every entry it is given. */
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	io_uring_sqe_set_data(sqe, q);
	return sqe;
}

void io_read(struct io_ring *r, struct io_req *q, int fd, void *buf,
	     uint32_t len, uint64_t off)
{
	struct io_uring_sqe *sqe = get_sqe(r, q, IO_READ, fd, NULL, off, len);

	if (sqe) {
		io_uring_prep_read(sqe, fd, buf, len, off);
		io_uring_sqe_set_data(sqe, q);
	}
}

void io_write(struct io_ring *r, struct io_req *q, int fd, const void *buf,
	      uint32_t len, uint64_t off)
{
	struct io_uring_sqe *sqe = get_sqe(r, q, IO_WRITE, fd, NULL, off, len);

	if (sqe) {
		io_uring_prep_write(sqe, fd, buf, len, off);
		io_uring_sqe_set_data(sqe, q);
	}
}

void io_fdatasync(struct io_ring *r, struct io_req *q, int fd)
{
	struct io_uring_sqe *sqe = get_sqe(r, q, IO_FDATASYNC, fd, NULL, 0, 0);

	if (sqe) {
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		io_uring_sqe_set_data(sqe, q);
	}
}

void io_fsync(struct io_ring *r, struct io_req *q, int fd)
{
	struct io_uring_sqe *sqe = get_sqe(r, q, IO_FSYNC, fd, NULL, 0, 0);

	if (sqe) {
		io_uring_prep_fsync(sqe, fd, 0);
		io_uring_sqe_set_data(sqe, q);
	}
}

void io_fallocate(struct io_ring *r, struct io_req *q, int fd, int mode,
		  uint64_t off, uint64_t len)
{
	struct io_uring_sqe *sqe =
		get_sqe(r, q, IO_FALLOCATE, fd, NULL, off, len);

	if (sqe) {
		io_uring_prep_fallocate(sqe, fd, mode, (off_t)off, (off_t)len);
		io_uring_sqe_set_data(sqe, q);
	}
}

void io_openat(struct io_ring *r, struct io_req *q, int dfd, const char *path,
	       int flags, unsigned mode)
{
	struct io_uring_sqe *sqe = get_sqe(r, q, IO_OPENAT, -1, path, 0, 0);

	if (sqe) {
		io_uring_prep_openat(sqe, dfd, path, flags, mode);
		io_uring_sqe_set_data(sqe, q);
	}
}

void io_unlinkat(struct io_ring *r, struct io_req *q, int dfd,
		 const char *path, int flags)
{
	struct io_uring_sqe *sqe = get_sqe(r, q, IO_UNLINKAT, -1, path, 0, 0);

	if (sqe) {
		io_uring_prep_unlinkat(sqe, dfd, path, flags);
		io_uring_sqe_set_data(sqe, q);
	}
}

void io_renameat(struct io_ring *r, struct io_req *q, int olddfd,
		 const char *oldpath, int newdfd, const char *newpath)
{
	struct io_uring_sqe *sqe =
		get_sqe(r, q, IO_RENAMEAT, -1, oldpath, 0, 0);

	if (sqe) {
		io_uring_prep_renameat(sqe, olddfd, oldpath, newdfd, newpath,
				       0);
		io_uring_sqe_set_data(sqe, q);
	}
}

void io_poll(struct io_ring *r, struct io_req *q, int fd, unsigned events)
{
	struct io_uring_sqe *sqe = get_sqe(r, q, IO_POLL, fd, NULL, 0, 0);

	if (sqe) {
		io_uring_prep_poll_add(sqe, fd, events);
		io_uring_sqe_set_data(sqe, q);
	}
}

unsigned io_inflight(const struct io_ring *r)
{
	return r->inflight;
}

/* Run the callbacks of operations the fault hook failed. */
static int run_forced(struct io_ring *r)
{
	struct io_req *q = r->forced_head;
	int n = 0;

	r->forced_head = r->forced_tail = NULL;
	while (q) {
		struct io_req *next = q->fnext;

		r->inflight--;
		n++;
		q->cb(q, q->forced_res);
		q = next;
	}
	return n;
}

/* Take every completion available and run its callback. */
static int reap(struct io_ring *r)
{
	struct io_uring_cqe *cqes[IO_CQE_BATCH];
	int total = 0;

	for (;;) {
		struct io_req *reqs[IO_CQE_BATCH];
		int res[IO_CQE_BATCH];
		unsigned n = io_uring_peek_batch_cqe(&r->ring, cqes,
						     IO_CQE_BATCH);

		if (n == 0)
			break;
		/* Copy out and release the entries first: callbacks submit
		 * new operations, whose completions need the room. */
		for (unsigned i = 0; i < n; i++) {
			reqs[i] = io_uring_cqe_get_data(cqes[i]);
			res[i] = cqes[i]->res;
		}
		io_uring_cq_advance(&r->ring, n);
		for (unsigned i = 0; i < n; i++) {
			r->inflight--;
			total++;
			if (reqs[i])
				reqs[i]->cb(reqs[i], res[i]);
		}
	}
	return total;
}

int io_run(struct io_ring *r, int timeout_ms)
{
	struct io_uring_cqe *cqe = NULL;
	int n, rc;

	n = run_forced(r);
	if (n > 0 || timeout_ms == 0) {
		rc = io_uring_submit(&r->ring);
	} else if (timeout_ms < 0) {
		rc = io_uring_submit_and_wait(&r->ring, 1);
	} else {
		struct __kernel_timespec ts = {
			.tv_sec = timeout_ms / 1000,
			.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
		};

		rc = io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, &ts,
						      NULL);
	}
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN &&
	    rc != -EBUSY)
		return rc;
	n += reap(r);
	n += run_forced(r);
	return n;
}

/* ---- the private ring ----------------------------------------------------*/

static int sync_fault(struct io_ring *r, enum io_op op, int fd,
		      const char *path, uint64_t off, uint64_t len)
{
	return r->fault ? r->fault(r->fault_arg, op, fd, path, off, len) : 0;
}

static int sync_run(struct io_ring *r, struct io_uring_sqe *sqe)
{
	struct io_uring_cqe *cqe;
	int rc;

	io_uring_sqe_set_data(sqe, NULL);
	rc = io_uring_submit_and_wait(&r->sync, 1);
	if (rc < 0)
		return rc;
	do {
		rc = io_uring_wait_cqe(&r->sync, &cqe);
	} while (rc == -EINTR);
	if (rc < 0)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(&r->sync, cqe);
	return rc;
}

/* The private ring is used one operation at a time, so it always has a
 * free entry. */
#define SYNC_SQE(r) io_uring_get_sqe(&(r)->sync)

int io_sync_read(struct io_ring *r, int fd, void *buf, uint32_t len,
		 uint64_t off)
{
	struct io_uring_sqe *sqe;
	int rc = sync_fault(r, IO_READ, fd, NULL, off, len);

	if (rc)
		return rc;
	sqe = SYNC_SQE(r);
	io_uring_prep_read(sqe, fd, buf, len, off);
	return sync_run(r, sqe);
}

int io_sync_write(struct io_ring *r, int fd, const void *buf, uint32_t len,
		  uint64_t off)
{
	struct io_uring_sqe *sqe;
	int rc = sync_fault(r, IO_WRITE, fd, NULL, off, len);

	if (rc)
		return rc;
	sqe = SYNC_SQE(r);
	io_uring_prep_write(sqe, fd, buf, len, off);
	return sync_run(r, sqe);
}

int io_sync_fsync(struct io_ring *r, int fd, int datasync)
{
	struct io_uring_sqe *sqe;
	int rc = sync_fault(r, datasync ? IO_FDATASYNC : IO_FSYNC, fd, NULL, 0,
			    0);

	if (rc)
		return rc;
	sqe = SYNC_SQE(r);
	io_uring_prep_fsync(sqe, fd, datasync ? IORING_FSYNC_DATASYNC : 0);
	return sync_run(r, sqe);
}

int io_sync_fallocate(struct io_ring *r, int fd, int mode, uint64_t off,
		      uint64_t len)
{
	struct io_uring_sqe *sqe;
	int rc = sync_fault(r, IO_FALLOCATE, fd, NULL, off, len);

	if (rc)
		return rc;
	sqe = SYNC_SQE(r);
	io_uring_prep_fallocate(sqe, fd, mode, (off_t)off, (off_t)len);
	return sync_run(r, sqe);
}

int io_sync_openat(struct io_ring *r, int dfd, const char *path, int flags,
		   unsigned mode)
{
	struct io_uring_sqe *sqe;
	int rc = sync_fault(r, IO_OPENAT, -1, path, 0, 0);

	if (rc)
		return rc;
	sqe = SYNC_SQE(r);
	io_uring_prep_openat(sqe, dfd, path, flags, mode);
	return sync_run(r, sqe);
}

int io_sync_unlinkat(struct io_ring *r, int dfd, const char *path, int flags)
{
	struct io_uring_sqe *sqe;
	int rc = sync_fault(r, IO_UNLINKAT, -1, path, 0, 0);

	if (rc)
		return rc;
	sqe = SYNC_SQE(r);
	io_uring_prep_unlinkat(sqe, dfd, path, flags);
	return sync_run(r, sqe);
}

int io_sync_renameat(struct io_ring *r, int olddfd, const char *oldpath,
		     int newdfd, const char *newpath)
{
	struct io_uring_sqe *sqe;
	int rc = sync_fault(r, IO_RENAMEAT, -1, oldpath, 0, 0);

	if (rc)
		return rc;
	sqe = SYNC_SQE(r);
	io_uring_prep_renameat(sqe, olddfd, oldpath, newdfd, newpath, 0);
	return sync_run(r, sqe);
}

int io_sync_pread_full(struct io_ring *r, int fd, void *buf, uint32_t len,
		       uint64_t off)
{
	uint32_t done = 0;

	while (done < len) {
		int n = io_sync_read(r, fd, (uint8_t *)buf + done, len - done,
				     off + done);

		if (n < 0)
			return n;
		if (n == 0)
			return -EIO;
		done += (uint32_t)n;
	}
	return 0;
}
