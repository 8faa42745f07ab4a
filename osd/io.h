/*
 * io.h -- the OSD's I/O engine: one io_uring that carries every disk
 * operation of the shard store (read, write, fdatasync, fsync, openat,
 * fallocate, unlinkat, renameat) together with the daemon's readiness polls
 * (the nanomsg server fd, eventfds, the signal fd), so that one thread
 * drives everything from one loop.
 *
 * An operation is described by a struct io_req embedded in the caller's
 * own state; its callback runs from io_run() with the kernel's result (a
 * byte count, an fd, 0, or -errno).  Buffers, paths and the io_req must
 * stay valid until the callback.  Callbacks may submit more operations.
 *
 * A second, private ring serves the synchronous helpers (io_sync_*): the
 * superblock, startup and store_check() use them without disturbing the
 * operations in flight on the main ring.
 *
 * Fault injection for tests: a hook sees every operation before it reaches
 * the kernel and may fail it with any -errno (ENOSPC on fallocate, EIO on a
 * write, ...); the operation then completes with that result without
 * touching the disk, through the same callback path as a real failure.
 */
#ifndef STORE_OSD_IO_H
#define STORE_OSD_IO_H

#include <stddef.h>
#include <stdint.h>

struct io_ring;
struct io_req;

typedef void (*io_cb)(struct io_req *r, int res);

struct io_req {
	io_cb cb;
	/* Private. */
	int forced; /* completed by the fault hook with forced_res */
	int forced_res;
	struct io_req *fnext;
};

enum io_op {
	IO_READ,
	IO_WRITE,
	IO_FDATASYNC,
	IO_FSYNC,
	IO_FALLOCATE,
	IO_OPENAT,
	IO_UNLINKAT,
	IO_RENAMEAT,
	IO_POLL,
};

/* The fault hook: return 0 to let the operation through, or -errno to
 * complete it with that error instead.  fd is -1 and path set for the
 * path operations. */
typedef int (*io_fault_fn)(void *arg, enum io_op op, int fd, const char *path,
			   uint64_t off, uint64_t len);

/* Create an engine whose main ring has room for `depth` submissions at
 * once (more wait in a backlog of their own).  Returns 0 and *out, or
 * -errno (-ENOMEM, -ENOSYS without io_uring). */
int io_ring_open(unsigned depth, struct io_ring **out);

/* Destroy an engine.  Operations still in flight are waited for (their
 * callbacks are NOT run). */
void io_ring_close(struct io_ring *r);

void io_set_fault(struct io_ring *r, io_fault_fn fn, void *arg);

/* Queue operations (submitted to the kernel by the next io_run()). */
void io_read(struct io_ring *r, struct io_req *q, int fd, void *buf,
	     uint32_t len, uint64_t off);
void io_write(struct io_ring *r, struct io_req *q, int fd, const void *buf,
	      uint32_t len, uint64_t off);
void io_fdatasync(struct io_ring *r, struct io_req *q, int fd);
void io_fsync(struct io_ring *r, struct io_req *q, int fd);
void io_fallocate(struct io_ring *r, struct io_req *q, int fd, int mode,
		  uint64_t off, uint64_t len);
void io_openat(struct io_ring *r, struct io_req *q, int dfd, const char *path,
	       int flags, unsigned mode);
void io_unlinkat(struct io_ring *r, struct io_req *q, int dfd,
		 const char *path, int flags);
void io_renameat(struct io_ring *r, struct io_req *q, int olddfd,
		 const char *oldpath, int newdfd, const char *newpath);
/* One-shot readiness poll (POLLIN etc.); res is the revents mask. */
void io_poll(struct io_ring *r, struct io_req *q, int fd, unsigned events);

/*
 * Submit what is queued, wait up to timeout_ms (0: do not wait; -1:
 * forever) for at least one completion, and run the callbacks of every
 * completion available.  Returns the number of callbacks run, or -errno
 * (never -ETIME/-EINTR: a timeout or a signal just returns 0).
 */
int io_run(struct io_ring *r, int timeout_ms);

/* Operations queued or in flight on the main ring. */
unsigned io_inflight(const struct io_ring *r);

/* Synchronous operations on the private ring: each returns the kernel's
 * result (bytes, fd, 0 or -errno).  The fault hook applies to them too. */
int io_sync_read(struct io_ring *r, int fd, void *buf, uint32_t len,
		 uint64_t off);
int io_sync_write(struct io_ring *r, int fd, const void *buf, uint32_t len,
		  uint64_t off);
int io_sync_fsync(struct io_ring *r, int fd, int datasync);
int io_sync_fallocate(struct io_ring *r, int fd, int mode, uint64_t off,
		      uint64_t len);
int io_sync_openat(struct io_ring *r, int dfd, const char *path, int flags,
		   unsigned mode);
int io_sync_unlinkat(struct io_ring *r, int dfd, const char *path, int flags);
int io_sync_renameat(struct io_ring *r, int olddfd, const char *oldpath,
		     int newdfd, const char *newpath);

/* Read exactly len bytes (retrying short reads); -EIO at end of file. */
int io_sync_pread_full(struct io_ring *r, int fd, void *buf, uint32_t len,
		       uint64_t off);

#endif
