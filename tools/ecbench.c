/*
 * ecbench.c -- how fast the erasure code runs on this machine, as a ratio to
 * memcpy measured in the same run on buffers of the same size.
 *
 * For 4+2 and 8+3 with 1 MiB shards it times, on one core:
 *  - encode (k data shards in, m parity out),
 *  - decode of m lost data shards from the k survivors (2 for 4+2, 3 for
 *    8+3: the read path's worst case), and of one lost data shard,
 *  - memcpy of the k data shards of a stripe to another buffer,
 * in two settings: streaming, cycling through enough stripes that the
 * working set is at least twice the last-level cache (what the client and
 * the OSDs see: every stripe is fresh from the network or the disk), and hot,
 * one stripe over and over.
 *
 * GB/s is DATA bytes (k x shard length) per second, 10^9 bytes, for encode
 * and decode alike; memcpy GB/s is bytes copied per second, and it copies
 * the same k x shard length per stripe, so the ratios compare equal work.
 * The operations interleave (memcpy, encode, decode, pass after pass) and
 * each figure is the median over the passes, because a small VM is noisy.
 *
 * Usage: ecbench [-s streaming-MiB] [-r passes] [-l shard-KiB]
 * Output: human-readable lines, then one JSON line with every figure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ec.h"
#include "util.h"

/* Targets the design asks for, printed beside the figures (never asserted:
 * a benchmark reports; the VM's noise is not a test failure). */
#define TARGET_ENCODE_RATIO 0.50
#define TARGET_DECODE_RATIO 0.40

#define MIB (1ul << 20)
#define MAX_PASSES 101

/* The call must happen even though nobody reads the copy. */
static void *(*volatile memcpy_fn)(void *, const void *, size_t) = memcpy;

struct bench {
	struct ec_codec *ec;
	unsigned k, m, n;
	size_t shard;    /* bytes per shard */
	size_t nstripes;
	uint8_t *shards; /* nstripes x n x shard, stripe-major */
	uint8_t *copy;   /* nstripes x k x shard: memcpy destination */
	uint32_t lost;   /* data shards the multi-loss decode rebuilds */
};

struct figures {
	double memcpy, encode, decode, decode1; /* GB/s, medians */
};

static uint8_t *shard_ptr(const struct bench *b, size_t stripe, unsigned i)
{
	return b->shards + (stripe * b->n + i) * b->shard;
}

static void stripe_ptrs(const struct bench *b, size_t stripe, uint8_t **p)
{
	unsigned i;

	for (i = 0; i < b->n; i++)
		p[i] = shard_ptr(b, stripe, i);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Fill with cheap pseudo-random words: touches every page before timing and
 * keeps the GF tables from seeing only zeros. */
static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t x = seed | 1, *w = (uint64_t *)p;
	size_t i;

	for (i = 0; i < len / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
}

enum op { OP_MEMCPY, OP_ENCODE, OP_DECODE, OP_DECODE1, OP_COUNT };

/*
 * One pass of `op` over stripes [0, nstripes), or nstripes times over stripe
 * 0 when hot.  Returns GB/s of data bytes, or a negative value if a decode
 * failed (it never should; a benchmark of a failing decode is meaningless).
 */
static double run_pass(const struct bench *b, enum op op, int hot)
{
	uint8_t *p[STORE_EC_MAX_SHARDS];
	size_t s, stripe, data = b->k * b->shard;
	uint32_t all = (1u << b->n) - 1;
	uint32_t want = op == OP_DECODE ? b->lost : 1u;
	uint64_t t0, t1;

	t0 = now_ns();
	for (s = 0; s < b->nstripes; s++) {
		stripe = hot ? 0 : s;
		switch (op) {
		case OP_MEMCPY:
			memcpy_fn(b->copy + stripe * data,
				  shard_ptr(b, stripe, 0), data);
			break;
		case OP_ENCODE:
			stripe_ptrs(b, stripe, p);
			ec_encode(b->ec, b->shard, p, p + b->k);
			break;
		case OP_DECODE:
		case OP_DECODE1:
			stripe_ptrs(b, stripe, p);
			if (ec_decode(b->ec, b->shard, p, all & ~want, want))
				return -1;
			break;
		default:
			return -1;
		}
	}
	t1 = now_ns();
	return (double)(b->nstripes * data) / (double)(t1 - t0);
}

/*
 * Interleave the operations pass after pass and keep the medians.  Decoding
 * rewrites the lost data shards in place with the same bytes, so the stripes
 * stay a valid code throughout; verify() checks that afterwards.
 */
static int measure(const struct bench *b, int hot, unsigned passes,
		   struct figures *f)
{
	static double v[OP_COUNT][MAX_PASSES];
	unsigned r, op;

	/* Warm up: fault in the copy buffer, cache the decode tables. */
	for (op = 0; op < OP_COUNT; op++)
		if (run_pass(b, op, hot) < 0)
			return -EIO;
	for (r = 0; r < passes; r++) {
		for (op = 0; op < OP_COUNT; op++) {
			v[op][r] = run_pass(b, op, hot);
			if (v[op][r] < 0)
				return -EIO;
		}
	}
	f->memcpy = median(v[OP_MEMCPY], passes);
	f->encode = median(v[OP_ENCODE], passes);
	f->decode = median(v[OP_DECODE], passes);
	f->decode1 = median(v[OP_DECODE1], passes);
	return 0;
}

/*
 * The figures are only worth reading if decode rebuilt the right bytes: lose
 * and rebuild a stripe's data shards, compare with a copy, and check that
 * re-encoding its data gives the parity it holds.
 */
static int verify(const struct bench *b)
{
	uint8_t *p[STORE_EC_MAX_SHARDS], *keep, *par[STORE_EC_MAX_M];
	uint32_t all = (1u << b->n) - 1;
	size_t s = b->nstripes / 2, bytes = b->n * b->shard;
	unsigned i;
	int err = 0;

	keep = malloc(bytes);
	if (!keep)
		return -ENOMEM;
	stripe_ptrs(b, s, p);
	memcpy(keep, p[0], bytes);
	for (i = 0; i < b->k; i++)
		if (b->lost & (1u << i))
			memset(p[i], 0x5A, b->shard);
	if (ec_decode(b->ec, b->shard, p, all & ~b->lost, b->lost) ||
	    memcmp(keep, p[0], bytes))
		err = -EIO;
	for (i = 0; i < b->m; i++)
		par[i] = keep + (b->k + i) * b->shard;
	ec_encode(b->ec, b->shard, p, par);
	if (memcmp(keep, p[0], bytes))
		err = -EIO;
	free(keep);
	return err;
}

static int bench_setup(struct bench *b, unsigned k, unsigned m, size_t shard,
		       size_t stream_bytes)
{
	uint8_t *p[STORE_EC_MAX_SHARDS];
	size_t s, stripe_bytes;
	int err;

	memset(b, 0, sizeof(*b));
	b->k = k;
	b->m = m;
	b->n = k + m;
	b->shard = shard;
	b->lost = (1u << m) - 1; /* data shards 0..m-1 */
	stripe_bytes = b->n * shard;
	b->nstripes = MAX(DIV_ROUND_UP(stream_bytes, stripe_bytes), 2ul);
	err = ec_create(k, m, &b->ec);
	if (err)
		return err;
	if (posix_memalign((void **)&b->shards, 4096,
			   b->nstripes * stripe_bytes) ||
	    posix_memalign((void **)&b->copy, 4096, b->nstripes * k * shard))
		return -ENOMEM;
	fill(b->shards, b->nstripes * stripe_bytes, k * 1000 + m);
	memset(b->copy, 0, b->nstripes * k * shard);
	for (s = 0; s < b->nstripes; s++) {
		stripe_ptrs(b, s, p);
		ec_encode(b->ec, shard, p, p + k);
	}
	return 0;
}

static void bench_free(struct bench *b)
{
	free(b->shards);
	free(b->copy);
	ec_destroy(b->ec);
}

static void print_line(unsigned k, unsigned m, const char *mode,
		       size_t stripes, double mib, const struct figures *f)
{
	printf("%u+%u %-9s (%4zu stripe%s %6.1f MiB): memcpy %6.2f GB/s | encode %6.2f GB/s (%.2fx memcpy) | decode %u lost data %6.2f GB/s (%.2fx) | decode 1 lost %6.2f GB/s (%.2fx)\n",
	       k, m, mode, stripes, stripes == 1 ? ", " : "s,", mib, f->memcpy,
	       f->encode, f->encode / f->memcpy,
	       m, f->decode, f->decode / f->memcpy,
	       f->decode1, f->decode1 / f->memcpy);
}

static void print_json(unsigned k, unsigned m, const char *mode,
		       size_t stripes, size_t bytes, const struct figures *f,
		       int first)
{
	printf("%s{\"profile\":\"%u+%u\",\"mode\":\"%s\",\"stripes\":%zu,\"working_set_bytes\":%zu,\"lost_data\":%u,",
	       first ? "" : ",", k, m, mode, stripes, bytes, m);
	printf("\"memcpy_gbps\":%.3f,\"encode_gbps\":%.3f,\"decode_gbps\":%.3f,\"decode1_gbps\":%.3f,",
	       f->memcpy, f->encode, f->decode, f->decode1);
	printf("\"encode_ratio\":%.3f,\"decode_ratio\":%.3f,\"decode1_ratio\":%.3f}",
	       f->encode / f->memcpy, f->decode / f->memcpy,
	       f->decode1 / f->memcpy);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ecbench [-s streaming-MiB] [-r passes] [-l shard-KiB]\n"
		"  -s  streaming working set per profile (default: twice the\n"
		"      last-level cache, at least 256 MiB)\n"
		"  -r  timed passes per figure, median reported (default 15)\n"
		"  -l  shard length in KiB (default 1024)\n");
}

int main(int argc, char **argv)
{
	static const unsigned prof[][2] = { { 4, 2 }, { 8, 3 } };
	struct figures fs[2], fh[2];
	size_t shard = MIB, stream, nstr[2];
	long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
	unsigned passes = 15, i;
	int opt, err, enc_ok, dec_ok;

	stream = MAX(l3 > 0 ? 2 * (size_t)l3 : 0, 256 * MIB);
	while ((opt = getopt(argc, argv, "s:r:l:h")) != -1) {
		switch (opt) {
		case 's':
			stream = strtoul(optarg, NULL, 10) * MIB;
			break;
		case 'r':
			passes = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			shard = strtoul(optarg, NULL, 10) << 10;
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (passes < 1 || passes > MAX_PASSES || shard == 0 ||
	    shard > STORE_SHARD_MAX || stream == 0) {
		usage();
		return 2;
	}

	printf("ecbench: ISA-L Cauchy RS, one thread, shard %zu KiB, median of %u passes\n",
	       shard >> 10, passes);
	printf("GB/s = DATA bytes (k x shard length) per second, 1e9 bytes; memcpy GB/s = bytes copied per second (k x shard per stripe)\n");
	printf("streaming: >= %zu MiB per profile (last-level cache %ld MiB); hot: one stripe again and again\n",
	       stream / MIB, l3 > 0 ? l3 >> 20 : -1);

	for (i = 0; i < 2; i++) {
		unsigned k = prof[i][0], m = prof[i][1];
		size_t stripe_bytes = (k + m) * shard;
		struct bench b;

		err = bench_setup(&b, k, m, shard, stream);
		if (err) {
			bench_free(&b);
			fprintf(stderr, "ecbench: %u+%u: setup failed: %s\n",
				k, m, strerror(-err));
			return 1;
		}
		nstr[i] = b.nstripes;
		err = measure(&b, 0, passes, &fs[i]);
		if (!err)
			err = measure(&b, 1, passes, &fh[i]);
		if (!err)
			err = verify(&b);
		bench_free(&b);
		if (err) {
			fprintf(stderr, "ecbench: %u+%u: decode failed or rebuilt wrong bytes: %s\n",
				k, m, strerror(-err));
			return 1;
		}
		print_line(k, m, "streaming", nstr[i],
			   (double)(nstr[i] * stripe_bytes) / MIB, &fs[i]);
		print_line(k, m, "hot", 1, (double)stripe_bytes / MIB,
			   &fh[i]);
	}
	enc_ok = fs[0].encode / fs[0].memcpy >= TARGET_ENCODE_RATIO;
	dec_ok = fs[0].decode / fs[0].memcpy >= TARGET_DECODE_RATIO;
	printf("targets (streaming 4+2): encode >= %.2fx memcpy: %s; decode 2 lost >= %.2fx memcpy: %s\n",
	       TARGET_ENCODE_RATIO, enc_ok ? "met" : "MISSED",
	       TARGET_DECODE_RATIO, dec_ok ? "met" : "MISSED");

	printf("{\"bench\":\"ecbench\",\"gbps\":\"data bytes (k x shard_len) per second / 1e9; memcpy: bytes copied per second / 1e9\",\"shard_len\":%zu,\"passes\":%u,\"llc_bytes\":%ld,\"results\":[",
	       shard, passes, l3);
	for (i = 0; i < 2; i++) {
		unsigned k = prof[i][0], m = prof[i][1];
		size_t stripe_bytes = (k + m) * shard;

		print_json(k, m, "streaming", nstr[i], nstr[i] * stripe_bytes,
			   &fs[i], i == 0);
		print_json(k, m, "hot", 1, stripe_bytes, &fh[i], 0);
	}
	printf("],\"targets\":{\"encode_ratio_4_2\":%.2f,\"decode_ratio_4_2\":%.2f,\"met\":%s}}\n",
	       TARGET_ENCODE_RATIO, TARGET_DECODE_RATIO,
	       enc_ok && dec_ok ? "true" : "false");
	return 0;
}
