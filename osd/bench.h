/*
 * bench.h -- `store-osd --bench DIR`: the shard store's throughput against
 * the same disk's raw O_DIRECT rate, both measured in the same run on the
 * same folder, printed as ratios (docs/osd.md quotes the figures).
 */
#ifndef STORE_OSD_BENCH_H
#define STORE_OSD_BENCH_H

#include <stdint.h>

struct osd_bench_opts {
	const char *dir;  /* scratch folder (created, removed after) */
	uint64_t total;   /* bytes per phase */
	uint32_t shard;   /* bytes per shard (and per raw write) */
	unsigned depth;   /* operations in flight */
};

/* Run the benchmark, printing one line per phase to stdout.  Returns 0 or
 * -errno (with a sentence on stderr). */
int osd_bench(const struct osd_bench_opts *o);

#endif
