/*
 * storefsx -- a random-operation file verifier, in the spirit of fsx.
 *
 *     storefsx [-n OPS] [-S SEED] [-m MAXSIZE] [-w MAXWRITE] [-i OP] FILE
 *
 * Runs OPS (default 10000) random operations on FILE: writes, truncates
 * (down and up), reads at random offsets and sizes, fsyncs, and closes and
 * reopens (close-to-open); every read and a final full read are checked
 * byte by byte against an in-memory model of the file.  On a mismatch it
 * prints the operation, the first bad offset and the last operations, and
 * exits 1.
 *
 * -i OP plants a fault: after operation OP it changes one byte of FILE
 * behind the model's back (through a second descriptor).  A run with -i
 * must fail: that is how a test shows this verifier catches errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OP_WRITE, OP_TRUNC, OP_READ, OP_FSYNC, OP_REOPEN };
static const char *op_names[] = { "write", "truncate", "read", "fsync",
				  "reopen" };

struct oplog {
	int op;
	uint64_t off, len;
};

#define LOG_KEEP 32

static struct oplog ops_log[LOG_KEEP];
/* Every operation, to tell on a mismatch which ones touched the byte. */
static struct oplog *history;
static uint64_t bad_byte = UINT64_MAX;
static uint64_t n_ops;
static const char *path;
static int fd = -1;

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: fast, seedable, good enough to pick offsets. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static void log_op(int op, uint64_t off, uint64_t len)
{
	ops_log[n_ops % LOG_KEEP] = (struct oplog){ op, off, len };
	if (history)
		history[n_ops] = (struct oplog){ op, off, len };
}

static void dump_history(void)
{
	if (!history || bad_byte == UINT64_MAX)
		return;
	fprintf(stderr, "operations that touched byte %llu:\n",
		(unsigned long long)bad_byte);
	for (uint64_t i = 0; i <= n_ops; i++) {
		struct oplog *l = &history[i];
		uint64_t obj = 4ull << 20, bo = bad_byte / obj;
		int hit = (l->op == OP_WRITE && l->off / obj <= bo &&
			   bo <= (l->off + l->len - 1) / obj) ||
			  (l->op == OP_TRUNC) || l->op == OP_REOPEN ||
			  l->op == OP_FSYNC;

		if (hit)
			fprintf(stderr, "  %6llu %-8s off %llu len %llu\n",
				(unsigned long long)i, op_names[l->op],
				(unsigned long long)l->off,
				(unsigned long long)l->len);
	}
}

static void dump_log(void)
{
	uint64_t first = n_ops >= LOG_KEEP ? n_ops - LOG_KEEP + 1 : 0;

	fprintf(stderr, "last operations:\n");
	for (uint64_t i = first; i <= n_ops; i++) {
		struct oplog *l = &ops_log[i % LOG_KEEP];

		fprintf(stderr, "  %6llu %-8s off %llu len %llu\n",
			(unsigned long long)i, op_names[l->op],
			(unsigned long long)l->off, (unsigned long long)l->len);
	}
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						      noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "storefsx: op %llu: ", (unsigned long long)n_ops);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	dump_log();
	if (getenv("STOREFSX_HISTORY"))
		dump_history();
	exit(1);
}

static void do_open(void)
{
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		fail("open %s: %s", path, strerror(errno));
}

static void check_range(const uint8_t *model, uint64_t size, uint64_t off,
			uint64_t len, uint8_t *buf)
{
	uint64_t want = off < size ? (len < size - off ? len : size - off) : 0;
	uint64_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail("read at %llu: %s", (unsigned long long)(off + got),
			     strerror(errno));
		}
		if (n == 0)
			break;
		got += (uint64_t)n;
	}
	if (got != want)
		fail("read at %llu of %llu bytes returned %llu, expected %llu "
		     "(file size %llu)", (unsigned long long)off,
		     (unsigned long long)len, (unsigned long long)got,
		     (unsigned long long)want, (unsigned long long)size);
	for (uint64_t i = 0; i < got; i++)
		if (buf[i] != model[off + i] && (bad_byte = off + i, 1))
			fail("byte %llu is 0x%02x, expected 0x%02x",
			     (unsigned long long)(off + i), buf[i],
			     model[off + i]);
}

int main(int argc, char **argv)
{
	uint64_t nops = 10000, seed = 1, maxsize = 64ull << 20;
	uint64_t maxwrite = 1 << 20, size = 0, inject = UINT64_MAX;
	uint8_t *model, *buf;
	int opt;

	while ((opt = getopt(argc, argv, "n:S:m:w:i:")) != -1) {
		switch (opt) {
		case 'n': nops = strtoull(optarg, NULL, 0); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'm': maxsize = strtoull(optarg, NULL, 0); break;
		case 'w': maxwrite = strtoull(optarg, NULL, 0); break;
		case 'i': inject = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: storefsx [-n OPS] [-S SEED] "
				"[-m MAXSIZE] [-w MAXWRITE] [-i OP] FILE\n");
			return 2;
		}
	}
	if (optind != argc - 1 || maxsize == 0 || maxwrite == 0) {
		fprintf(stderr, "usage: storefsx [-n OPS] [-S SEED] [-m MAXSIZE] "
			"[-w MAXWRITE] [-i OP] FILE\n");
		return 2;
	}
	path = argv[optind];
	rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
	model = calloc(1, maxsize);
	buf = malloc(maxsize > maxwrite ? maxsize : maxwrite);
	if (!model || !buf) {
		fprintf(stderr, "storefsx: out of memory\n");
		return 1;
	}
	history = calloc(nops + 1, sizeof(*history));
	unlink(path);
	do_open();
	for (n_ops = 0; n_ops < nops; n_ops++) {
		uint64_t r = rnd() % 100, off, len;

		if (r < 45) {
			/* Writes: mostly small, some large, some appends. */
			len = 1 + rnd() % (rnd() % 4 ? 65536 : maxwrite);
			off = rnd() % 8 ? rnd() % maxsize : size;
			if (off + len > maxsize)
				len = maxsize - off;
			if (len == 0)
				continue;
			for (uint64_t i = 0; i < len; i++)
				buf[i] = (uint8_t)(rnd() >> 56);
			log_op(OP_WRITE, off, len);
			if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
				fail("write at %llu: %s", (unsigned long long)off,
				     strerror(errno));
			memcpy(model + off, buf, len);
			if (off + len > size)
				size = off + len;
		} else if (r < 55) {
			/* Truncates, down and up. */
			off = rnd() % 3 ? rnd() % (size + 1) : rnd() % maxsize;
			log_op(OP_TRUNC, off, 0);
			if (ftruncate(fd, (off_t)off) < 0)
				fail("truncate to %llu: %s",
				     (unsigned long long)off, strerror(errno));
			if (off < size)
				memset(model + off, 0, size - off);
			size = off;
		} else if (r < 92) {
			off = size ? rnd() % (size + 1024) : rnd() % 4096;
			if (off >= maxsize)
				off = maxsize - 1;
			len = 1 + rnd() % (rnd() % 4 ? 65536 : maxwrite);
			if (off + len > maxsize)
				len = maxsize - off;
			log_op(OP_READ, off, len);
			check_range(model, size, off, len, buf);
		} else if (r < 96) {
			log_op(OP_FSYNC, 0, 0);
			if (fsync(fd) < 0)
				fail("fsync: %s", strerror(errno));
		} else {
			/* Close and reopen: what was written must be there. */
			log_op(OP_REOPEN, 0, 0);
			if (close(fd) < 0)
				fail("close: %s", strerror(errno));
			do_open();
		}
		if (n_ops == inject && size > 0) {
			int fd2 = open(path, O_RDWR);
			uint64_t at = rnd() % size;
			uint8_t b = (uint8_t)(model[at] ^ 0x5a);

			if (fd2 < 0 || pwrite(fd2, &b, 1, (off_t)at) != 1)
				fail("planting the fault: %s", strerror(errno));
			close(fd2);
			fprintf(stderr, "storefsx: planted a wrong byte at %llu "
				"after op %llu\n", (unsigned long long)at,
				(unsigned long long)n_ops);
		}
	}
	/* Everything, after a last reopen. */
	close(fd);
	do_open();
	check_range(model, size, 0, size + 1, buf);
	if (lseek(fd, 0, SEEK_END) != (off_t)size)
		fail("file size is %lld, expected %llu",
		     (long long)lseek(fd, 0, SEEK_END), (unsigned long long)size);
	close(fd);
	printf("storefsx: %llu operations, final size %llu: all reads matched\n",
	       (unsigned long long)nops, (unsigned long long)size);
	free(model);
	free(buf);
	return 0;
}
