/*
 * ec.h -- Reed-Solomon erasure coding of objects into k data + m parity
 * shards, with ISA-L doing the GF(2^8) arithmetic.
 *
 * An object is cut into k equal data shards (the last one zero-padded, see
 * ec_shard_len()); ec_encode() computes m parity shards from them.  Any k of
 * the k + m shards, data or parity, are enough to rebuild any of the others:
 * ec_decode() is used on the read path (a data shard is missing, slow or
 * fails its checksum) and by recovery (rebuild a lost shard, data or parity,
 * onto its new OSD).
 *
 * The generator is ISA-L's Cauchy matrix (gf_gen_cauchy1_matrix) under a k x k
 * identity: the code is systematic (data shards are the object's bytes) and
 * every k x k submatrix of a Cauchy-extended identity is invertible, so any k
 * survivors decode -- unlike ISA-L's Vandermonde gf_gen_rs_matrix, which is
 * not MDS for all k + m.  The matrix is part of the on-disk contract: parity
 * written today must decode with the code of tomorrow.
 *
 * Decoding needs the inverse of the survivors' submatrix, expanded into
 * ISA-L's lookup tables.  That costs O(k^3) plus 32 bytes per coefficient, so
 * a codec keeps the tables of recently used erasure patterns in a small,
 * bounded, mutex-protected cache.  A codec may be shared by any number of
 * threads: ec_encode() only reads it, ec_decode() locks the cache for a
 * lookup and never while it crunches data.
 */
#ifndef STORE_EC_H
#define STORE_EC_H

#include <stddef.h>
#include <stdint.h>

#include "store_limits.h"

/*
 * Shard lengths are rounded up to this: ISA-L's AVX-512 kernels move 64 bytes
 * per step, and a length that is a multiple of it runs without the unaligned
 * tail pass.  It is also the cache line size, so shards packed back to back in
 * one buffer start on a line of their own.
 */
#define EC_SHARD_ALIGN 64

struct ec_codec;

/* Counters of one codec's decode-table cache, for tests and for operators. */
struct ec_stats {
	uint64_t hits;      /* decodes that found their tables cached */
	uint64_t misses;    /* decodes that had to invert a matrix */
	uint64_t evictions; /* cached patterns dropped to stay in bounds */
	unsigned cached;    /* patterns cached now */
};

/*
 * Create a codec for k data + m parity shards: 1 <= k <= STORE_EC_MAX_K,
 * 1 <= m <= STORE_EC_MAX_M, k + m <= STORE_EC_MAX_SHARDS.
 * Returns 0 and sets *out, or -EINVAL for a bad k or m, or -ENOMEM.  *out is
 * untouched on error.  Free it with ec_destroy().
 */
int ec_create(unsigned k, unsigned m, struct ec_codec **out);

/*
 * Free a codec and its cached tables.  No other thread may be using it.
 * NULL is a no-op.
 */
void ec_destroy(struct ec_codec *ec);

/* The codec's k and m. */
unsigned ec_k(const struct ec_codec *ec);
unsigned ec_m(const struct ec_codec *ec);

/*
 * Length of each shard for an object of obj_len bytes cut into k data
 * shards: ceil(obj_len / k) rounded up to EC_SHARD_ALIGN, so the k data
 * shards cover the object and the tail of the last one (and any shard past
 * the object's end) is zero padding the reader trims using the object size.
 * Returns 0 for an empty object, and for k == 0 (no such codec).  Exact
 * for any obj_len up to SIZE_MAX - EC_SHARD_ALIGN; callers keep objects far
 * smaller (STORE_SHARD_MAX per shard).
 */
size_t ec_shard_len(unsigned k, size_t obj_len);

/*
 * Compute the m parity shards of one stripe: data[0..k-1] are the data
 * shards, parity[0..m-1] receive the parity, all len bytes long (any len,
 * though a multiple of EC_SHARD_ALIGN is fastest).  Parity buffers must not
 * overlap the data.  Cannot fail; safe to call from many threads at once.
 */
void ec_encode(const struct ec_codec *ec, size_t len, uint8_t *const *data,
	       uint8_t *const *parity);

/*
 * Rebuild shards of one stripe from any k survivors.
 *
 * shards[0..k+m-1] point at the stripe's shards, data first then parity, each
 * len bytes.  Bit i of present says shards[i] holds good bytes; bit i of want
 * says shards[i] is a buffer to fill with the rebuilt shard i.  Other
 * pointers are ignored and may be NULL.  The first k present shards in index
 * order are read (so data shards are preferred); want may name data and
 * parity shards alike.
 *
 * Returns 0 when every wanted shard was written (trivially when want is 0),
 * -EIO when fewer than k shards are present (nothing is written: the stripe
 * is lost, never guessed at), -EINVAL when want and present overlap, a bit
 * is set past shard k+m-1, or a pointer named by either mask is NULL, or
 * -ENOMEM when building the decode tables failed (nothing is written).
 * Safe to call from many threads at once on the same codec.
 */
int ec_decode(struct ec_codec *ec, size_t len, uint8_t *const *shards,
	      uint32_t present, uint32_t want);

/* Snapshot of the codec's cache counters. */
void ec_get_stats(struct ec_codec *ec, struct ec_stats *st);

/*
 * Verify the codec's invariants (listed in ec.c): the generator's shape and
 * the cache's bounds and entries.  Returns 0, or -EUCLEAN if any is broken.
 * For tests and assert(); takes the cache lock.
 */
int ec_check(struct ec_codec *ec);

#endif
