/*
 * bench.c -- see bench.h.
 *
 * Four phases over `total` bytes each, `depth` operations in flight:
 *   raw write  sequential O_DIRECT writes of `shard` bytes into a
 *              preallocated file through io_uring, one fdatasync at the
 *              end (what fio --direct=1 --ioengine=io_uring measures: the
 *              disk's limit);
 *   raw read   the same file read back the same way;
 *   store put  shards of `shard` bytes through store_put() (copy, crc,
 *              one write per record, group-committed fdatasyncs);
 *   store get  every shard read back and verified through store_get().
 */
#include "bench.h"
#include "io.h"
#include "log.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Raw transfers in flight at most (the ring's depth bounds it too). */
#define BENCH_MAX_DEPTH 128

struct raw {
	struct io_req io;
	int *inflight;
	int *err;
};

static void raw_done(struct io_req *q, int res)
{
	struct raw *r = (struct raw *)q;

	(*r->inflight)--;
	if (res < 0 && !*r->err)
		*r->err = res;
}

/* Sequential O_DIRECT transfers over the file: MB/s or -errno. */
static double raw_pass(struct io_ring *ring, int fd, uint8_t *buf,
		       const struct osd_bench_opts *o, int write)
{
	struct raw slots[BENCH_MAX_DEPTH];
	uint64_t off = 0, t0 = now_ns();
	int inflight = 0, err = 0;
	unsigned next = 0;

	while ((off < o->total || inflight) && !err) {
		while (off < o->total && inflight < (int)o->depth) {
			struct raw *r = &slots[next++ % o->depth];

			r->io.cb = raw_done;
			r->inflight = &inflight;
			r->err = &err;
			inflight++;
			if (write)
				io_write(ring, &r->io, fd, buf, o->shard, off);
			else
				io_read(ring, &r->io, fd, buf, o->shard, off);
			off += o->shard;
		}
		io_run(ring, 1000);
	}
	if (!err && write)
		err = io_sync_fsync(ring, fd, 1);
	if (err)
		return err;
	return (double)o->total / ((double)(now_ns() - t0) / 1e9) / 1e6;
}

struct sop {
	int *inflight;
	int *err;
};

static void put_done(void *arg, int rc)
{
	struct sop *p = arg;

	(*p->inflight)--;
	if (rc && !*p->err)
		*p->err = rc;
}

static void get_done(void *arg, int rc, const struct store_read *r)
{
	struct sop *p = arg;

	(void)r;
	(*p->inflight)--;
	if (rc && !*p->err)
		*p->err = rc;
}

static int rm_cb(const char *path, const struct stat *st, int flag,
		 struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void print_rate(const char *what, double mbs, double base)
{
	if (base > 0)
		printf("%-10s %8.0f MB/s   %5.1f%% of raw\n", what, mbs,
		       100.0 * mbs / base);
	else
		printf("%-10s %8.0f MB/s\n", what, mbs);
}

int osd_bench(const struct osd_bench_opts *o)
{
	char raw_path[4200], store_dir[4200], err[1024];
	struct store_opts so;
	struct store_stats st;
	struct io_ring *ring = NULL;
	struct store *s = NULL;
	double w_raw, r_raw, w_store, r_store, secs;
	uint64_t n = o->total / o->shard, t0;
	uint8_t *buf = NULL;
	int fd = -1, rc, inflight = 0, e = 0;
	struct sop op = { &inflight, &e };

	if (!o->shard || o->shard % 4096 || o->depth < 1 ||
	    o->depth > BENCH_MAX_DEPTH || n == 0) {
		fprintf(stderr, "store-osd: --bench wants a shard size that "
			"is a multiple of 4 KiB, a depth from 1 to %d, and a "
			"total of at least one shard\n", BENCH_MAX_DEPTH);
		return -EINVAL;
	}
	if (mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		fprintf(stderr, "store-osd: cannot create %s: %s\n", o->dir,
			strerror(-rc));
		return rc;
	}
	snprintf(raw_path, sizeof(raw_path), "%s/bench.raw", o->dir);
	snprintf(store_dir, sizeof(store_dir), "%s/bench.store", o->dir);
	nftw(store_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	rc = io_ring_open(256, &ring);
	if (rc)
		goto out;
	if (posix_memalign((void **)&buf, 4096, o->shard)) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < o->shard; i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	printf("%" PRIu64 " MiB in %u KiB shards, %u in flight, in %s\n",
	       o->total >> 20, o->shard >> 10, o->depth, o->dir);
	fd = open(raw_path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC,
		  0600);
	if (fd < 0 || fallocate(fd, 0, 0, (off_t)o->total) < 0) {
		rc = -errno;
		fprintf(stderr, "store-osd: %s: %s\n", raw_path, strerror(-rc));
		goto out;
	}
	w_raw = raw_pass(ring, fd, buf, o, 1);
	r_raw = w_raw > 0 ? raw_pass(ring, fd, buf, o, 0) : w_raw;
	close(fd);
	fd = -1;
	unlink(raw_path);
	if (w_raw < 0 || r_raw < 0) {
		rc = (int)(w_raw < 0 ? w_raw : r_raw);
		fprintf(stderr, "store-osd: raw I/O failed: %s\n",
			strerror(-rc));
		goto out;
	}
	print_rate("raw write", w_raw, 0);
	print_rate("raw read", r_raw, 0);

	memset(&so, 0, sizeof(so));
	so.dir = store_dir;
	so.ring = ring;
	rc = store_open(&so, &s, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "store-osd: %s\n", err);
		goto out;
	}
	t0 = now_ns();
	for (uint64_t i = 0; i < n && !e; i++) {
		struct store_put_args a;

		memset(&a, 0, sizeof(a));
		a.id.pool = 1;
		a.id.ino = i;
		a.id.version = 1;
		a.len = o->shard;
		a.data = buf;
		while (inflight >= (int)o->depth)
			store_run(s, 1000);
		rc = store_put(s, &a, put_done, &op, NULL);
		if (rc) {
			e = rc;
			break;
		}
		inflight++;
	}
	while (inflight)
		store_run(s, 1000);
	secs = (double)(now_ns() - t0) / 1e9;
	w_store = (double)(n * o->shard) / secs / 1e6;
	store_get_stats(s, &st);
	if (e) {
		rc = e;
		fprintf(stderr, "store-osd: store put failed: %s\n",
			strerror(-rc));
		goto out;
	}
	print_rate("store put", w_store, w_raw);
	printf("           %.0f shards/s, %.1f shards per fdatasync\n",
	       (double)n / secs,
	       st.syncs ? (double)n / (double)st.syncs : 0.0);
	t0 = now_ns();
	for (uint64_t i = 0; i < n && !e; i++) {
		struct wire_shard_id id = { 1, i, 0, 1, 0 };

		while (inflight >= (int)o->depth)
			store_run(s, 1000);
		rc = store_get(s, &id, 0, 0, get_done, &op);
		if (rc) {
			e = rc;
			break;
		}
		inflight++;
	}
	while (inflight)
		store_run(s, 1000);
	r_store = (double)(n * o->shard) / ((double)(now_ns() - t0) / 1e9) /
		  1e6;
	if (e) {
		rc = e;
		fprintf(stderr, "store-osd: store get failed: %s\n",
			strerror(-rc));
		goto out;
	}
	print_rate("store get", r_store, r_raw);
	rc = 0;
out:
	if (s)
		store_close(s);
	if (fd >= 0)
		close(fd);
	unlink(raw_path);
	nftw(store_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(o->dir);
	free(buf);
	io_ring_close(ring);
	return rc;
}
