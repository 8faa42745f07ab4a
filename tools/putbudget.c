/*
 * putbudget.c -- what this machine's CPUs allow a put to reach, measured
 * stage by stage in the same run as the put itself.
 *
 * On a vcluster the client and all the OSDs share the machine's cores, so
 * a put of S bytes of file can go no faster than the cores can do the
 * work that every erasure-coded, networked put must do for S bytes, each
 * step at its cheapest:
 *
 *   read     the file's S bytes into memory (from the bench's file in RAM),
 *            4 MiB at a time into a page-aligned buffer
 *   encode   S bytes of 4+2 (ISA-L), 1 MiB shards
 *   crc      crc32c of the 1.5 S bytes of shards, twice: the client
 *            computes them, the OSDs check them (cache-hot: the cheapest)
 *   network  1.5 S bytes from one process to six over loopback TCP
 *            (one thread per connection, receivers in their own processes)
 *   disk     1.5 S bytes written O_DIRECT through io_uring, 1 MiB blocks at
 *            depth 16 (fio's pattern), into a file allocated beforehand (as
 *            the OSD allocates its log segments), on the cluster's disk
 *   mac      with keys only: AES-256-GCM tags (gmac.c) of the 1.5 S bytes,
 *            twice (the client signs every shard, the OSD verifies it;
 *            cache-hot)
 *
 * Each stage runs alone and is charged the whole machine's busy time (from
 * /proc/stat: user, system, irq and softirq of every core, so kernel work
 * done in interrupts and kernel threads counts), the median of three runs.
 * The ceiling is cores x S / (sum of the stages' CPU-seconds): a put that
 * kept every core busy with nothing but these stages.  No real put reaches
 * it (this design also copies every shard once inside the OSD, and waits,
 * schedules and signals), so it is an upper bound: a put target above it
 * cannot be met on this machine.
 *
 * Usage: putbudget [-s MiB] [-f FILE] [-d DIR]
 *   -s  the put's size S (default 1024)
 *   -f  a file of at least S bytes to read (default: one made in /dev/shm)
 *   -d  a folder on the cluster's disk for the disk stage (default .)
 * Output: human-readable lines, then one JSON line with every figure.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crc.h"
#include "ec.h"
#include "gmac.h"
#include "util.h"

#define MIB (1ul << 20)
#define SHARD MIB          /* 4 MiB objects of 4+2: 1 MiB shards */
#define K 4
#define M 2
#define RECEIVERS (K + M)  /* one per OSD of the object's set */
#define RUNS 3             /* median of three: a small VM is noisy */
#define DISK_DEPTH 16      /* fio's pattern in make bench */
/* Streaming working set for encode: bigger than the last-level cache, as
 * a put's objects are (they come fresh from the file). */
#define ENCODE_SET (64 * MIB)
/* Read size of the read stage: an object per call, as the client reads. */
#define READ_CHUNK (4u << 20)

static size_t opt_bytes = 1024 * MIB;
static const char *opt_file;
static const char *opt_dir = ".";

/* Busy jiffies of the whole machine (user, nice, system, irq, softirq;
 * not idle, iowait or steal), and the number of cores. */
static int machine_busy(uint64_t *busy)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 7)
		return -EIO;
	*busy = v[0] + v[1] + v[2] + v[5] + v[6];
	return 0;
}

typedef int (*stage_fn)(void);

/* CPU-seconds the machine spent running fn once, the median of RUNS runs;
 * negative on error. */
static double stage_cpu(stage_fn fn)
{
	double v[RUNS], t;
	long hz = sysconf(_SC_CLK_TCK);

	for (int r = 0; r < RUNS; r++) {
		uint64_t b0, b1;

		uint64_t t0 = now_ns();

		if (machine_busy(&b0) || fn() || machine_busy(&b1))
			return -1;
		v[r] = (double)(b1 - b0) / (double)hz;
		if (getenv("PUTBUDGET_VERBOSE"))
			fprintf(stderr, "  run %d: %.3f CPU-s in %.3f s\n", r,
				v[r], (double)(now_ns() - t0) / 1e9);
	}
	for (int i = 0; i < RUNS; i++)
		for (int j = i + 1; j < RUNS; j++)
			if (v[j] < v[i]) {
				t = v[i];
				v[i] = v[j];
				v[j] = t;
			}
	return v[RUNS / 2];
}

static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
}

static size_t shard_bytes(void) { return opt_bytes / K * (K + M); }

/* ---- stages --------------------------------------------------------------*/

static int stage_read(void)
{
	static uint8_t *buf;
	size_t left = opt_bytes;
	int fd = open(opt_file, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	/* Page-aligned: 16 bytes in, where glibc's mmap'd blocks start, the
	 * kernel's copy runs 3x slower here (4K aliasing). */
	if (!buf && posix_memalign((void **)&buf, 4096, READ_CHUNK))
		rc = -ENOMEM;
	while (!rc && left) {
		ssize_t n = read(fd, buf, MIN(left, READ_CHUNK));

		if (n <= 0)
			rc = n < 0 ? -errno : -EIO;
		else
			left -= (size_t)n;
	}
	close(fd);
	return rc;
}

static struct ec_codec *codec;
static uint8_t *stripes; /* ENCODE_SET / (K * SHARD) stripes of K + M */

static int stage_encode(void)
{
	size_t nstripe = ENCODE_SET / (K * SHARD);
	uint8_t *p[K + M];

	for (size_t done = 0, s = 0; done < opt_bytes;
	     done += K * SHARD, s = (s + 1) % nstripe) {
		for (unsigned i = 0; i < K + M; i++)
			p[i] = stripes + (s * (K + M) + i) * SHARD;
		ec_encode(codec, SHARD, p, p + K);
	}
	return 0;
}

static uint8_t *hot; /* one shard, cache-hot */
static volatile uint32_t sink;

static int stage_crc(void)
{
	uint32_t c = 0;

	for (size_t done = 0; done < 2 * shard_bytes(); done += SHARD)
		for (size_t off = 0; off < SHARD; off += 4096)
			c ^= store_crc32c(0, hot + off, 4096);
	sink = c;
	return 0;
}

static int stage_mac(void)
{
	uint8_t key[32] = { 1 }, nonce[12] = { 0 }, tag[16];

	/* gmac_tag(): the very path auth.c signs and checks frames with. */
	for (size_t done = 0; done < 2 * shard_bytes(); done += SHARD) {
		nonce[0]++;
		if (gmac_tag(key, nonce, hot, SHARD, tag))
			return -EIO;
	}
	sink = tag[0];
	return 0;
}

struct sender {
	int fd;
	size_t bytes;
};

static void *send_all(void *arg)
{
	struct sender *s = arg;

	for (size_t done = 0; done < s->bytes;) {
		ssize_t n = send(s->fd, hot + done % SHARD,
				 MIN(SHARD - done % SHARD, s->bytes - done),
				 MSG_NOSIGNAL);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	shutdown(s->fd, SHUT_WR);
	return NULL;
}

/* A receiver process: drain the connection into a 1 MiB buffer (the
 * cheapest: reused, so mostly in the cache). */
static void receive_all(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	char *buf = NULL;

	/* Page-aligned, like the read stage's buffer (4K aliasing). */
	if (posix_memalign((void **)&buf, 4096, SHARD))
		buf = NULL;

	while (fd >= 0 && buf && recv(fd, buf, SHARD, MSG_WAITALL) > 0)
		;
	_exit(0);
}

static int stage_network(void)
{
	int lfd[RECEIVERS], one = 1, rc = 0;
	pid_t pid[RECEIVERS];
	struct sender snd[RECEIVERS];
	pthread_t th[RECEIVERS];
	int bufsz = 4 << 20; /* what the daemons ask for (NET_SOCKBUF) */

	for (int i = 0; i < RECEIVERS; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(0x7f000001) };
		socklen_t al = sizeof(a);

		lfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (lfd[i] < 0 || bind(lfd[i], (void *)&a, sizeof(a)) ||
		    listen(lfd[i], 1) ||
		    getsockname(lfd[i], (void *)&a, &al))
			return -errno;
		setsockopt(lfd[i], SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
		pid[i] = fork();
		if (pid[i] == 0)
			receive_all(lfd[i]);
		snd[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(snd[i].fd, SOL_SOCKET, SO_SNDBUF, &bufsz,
			   sizeof(bufsz));
		setsockopt(snd[i].fd, IPPROTO_TCP, TCP_NODELAY, &one,
			   sizeof(one));
		if (connect(snd[i].fd, (void *)&a, sizeof(a)))
			rc = -errno;
		snd[i].bytes = shard_bytes() / RECEIVERS;
		close(lfd[i]);
	}
	for (int i = 0; i < RECEIVERS && !rc; i++)
		pthread_create(&th[i], NULL, send_all, &snd[i]);
	for (int i = 0; i < RECEIVERS; i++) {
		if (!rc)
			pthread_join(th[i], NULL);
		close(snd[i].fd);
		waitpid(pid[i], NULL, 0);
	}
	return rc;
}

static uint8_t *dbuf; /* DISK_DEPTH aligned 1 MiB buffers */

static int stage_disk(void)
{
	struct io_uring ring;
	char path[4096];
	size_t total = shard_bytes(), sub = 0, done = 0;
	unsigned inflight = 0;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/putbudget.%d", opt_dir, getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (fallocate(fd, 0, 0, (off_t)total)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = io_uring_queue_init(DISK_DEPTH, &ring, 0);
	if (rc) {
		close(fd);
		return rc;
	}
	while (done < total && !rc) {
		struct io_uring_cqe *cqe;

		while (inflight < DISK_DEPTH && sub < total) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			io_uring_prep_write(sqe, fd,
					    dbuf + (sub / SHARD % DISK_DEPTH) *
							   SHARD,
					    SHARD, sub);
			sub += SHARD;
			inflight++;
		}
		io_uring_submit(&ring);
		rc = io_uring_wait_cqe(&ring, &cqe);
		if (rc)
			break;
		if (cqe->res != (int)SHARD)
			rc = cqe->res < 0 ? cqe->res : -EIO;
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
		done += SHARD;
	}
	if (!rc && fdatasync(fd))
		rc = -errno;
	io_uring_queue_exit(&ring);
	close(fd);
	return rc;
}

/* ---- main ------------------------------------------------------------------*/

static int make_file(char *path, size_t cap)
{
	uint8_t *buf = malloc(K * SHARD);
	int fd, rc = 0;

	snprintf(path, cap, "/dev/shm/putbudget.%d", getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !buf) {
		free(buf);
		return fd < 0 ? -errno : -ENOMEM;
	}
	fill(buf, K * SHARD, 7);
	for (size_t done = 0; done < opt_bytes && !rc; done += K * SHARD)
		if (write(fd, buf, MIN(K * SHARD, opt_bytes - done)) < 0)
			rc = -errno;
	close(fd);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		stage_fn fn;
	} stages[] = {
		{ "read", stage_read },       { "encode", stage_encode },
		{ "crc", stage_crc },         { "network", stage_network },
		{ "disk", stage_disk },       { "mac", stage_mac },
	};
	enum { N_STAGES = sizeof(stages) / sizeof(stages[0]) };
	double cpu[N_STAGES], plain = 0, keys, gib;
	char made[64] = "";
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "s:f:d:")) != -1) {
		switch (opt) {
		case 's':
			opt_bytes = strtoul(optarg, NULL, 10) * MIB;
			break;
		case 'f':
			opt_file = optarg;
			break;
		case 'd':
			opt_dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: putbudget [-s MiB] [-f FILE] "
					"[-d DIR]\n");
			return 2;
		}
	}
	opt_bytes -= opt_bytes % (K * SHARD);
	if (opt_bytes < RECEIVERS * SHARD || sodium_init() < 0 ||
	    !crypto_aead_aes256gcm_is_available()) {
		fprintf(stderr, "putbudget: needs -s of at least %u MiB and a "
				"CPU with AES-NI\n", RECEIVERS);
		return 2;
	}
	if (!opt_file) {
		if (make_file(made, sizeof(made))) {
			fprintf(stderr, "putbudget: cannot make a file in "
					"/dev/shm: %s\n", strerror(errno));
			goto out;
		}
		opt_file = made;
	}
	stripes = malloc(ENCODE_SET / K * (K + M));
	hot = malloc(SHARD);
	if (ec_create(K, M, &codec) || !stripes || !hot ||
	    posix_memalign((void **)&dbuf, 4096, DISK_DEPTH * SHARD)) {
		fprintf(stderr, "putbudget: out of memory\n");
		goto out;
	}
	fill(stripes, ENCODE_SET / K * (K + M), 1);
	fill(hot, SHARD, 2);
	fill(dbuf, DISK_DEPTH * SHARD, 3);
	gib = (double)opt_bytes / (double)(1ul << 30);
	printf("putbudget: CPU-seconds per GiB of file, each stage alone, "
	       "median of %d (%ld cores)\n", RUNS, cores);
	for (int i = 0; i < N_STAGES; i++) {
		cpu[i] = stage_cpu(stages[i].fn);
		if (cpu[i] < 0) {
			fprintf(stderr, "putbudget: the %s stage failed: %s\n",
				stages[i].name, strerror(errno));
			goto out;
		}
		cpu[i] /= gib;
		if (strcmp(stages[i].name, "mac"))
			plain += cpu[i];
		printf("  %-8s %6.3f\n", stages[i].name, cpu[i]);
	}
	keys = plain + cpu[N_STAGES - 1];
	printf("  sum      %6.3f without keys, %6.3f with keys\n", plain, keys);
	printf("ceiling: %.0f MB/s without keys, %.0f MB/s with keys "
	       "(%ld cores doing nothing else)\n",
	       (double)cores * 1073.741824 / plain,
	       (double)cores * 1073.741824 / keys, cores);
	printf("{");
	for (int i = 0; i < N_STAGES; i++)
		printf("\"%s_cpu_s_per_gib\": %.3f, ", stages[i].name, cpu[i]);
	printf("\"cores\": %ld, \"ceiling_mbps_none\": %.1f, "
	       "\"ceiling_mbps_keys\": %.1f}\n",
	       cores, (double)cores * 1073.741824 / plain,
	       (double)cores * 1073.741824 / keys);
	rc = 0;
out:
	if (made[0])
		unlink(made);
	return rc;
}
