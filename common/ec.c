/*
 * ec.c -- see ec.h.
 *
 * Invariants of a struct ec_codec (checked by ec_check()):
 *  - 1 <= k <= STORE_EC_MAX_K, 1 <= m <= STORE_EC_MAX_M,
 *    k + m <= STORE_EC_MAX_SHARDS;
 *  - matrix holds (k + m) rows of k coefficients; the first k rows are the
 *    identity, the last m are gf_gen_cauchy1_matrix's Cauchy rows, and
 *    enc_tbls are ec_init_tables() of those m rows;
 *  - under lock: ncached <= EC_CACHE_MAX; cache[0..ncached-1] are distinct
 *    keys; every cached entry reads exactly k shards (popcount(used) == k),
 *    rebuilds 1..m shards none of which it reads, and holds a reference
 *    (refs >= 1) on behalf of the cache.
 *
 * A cached entry is immutable once published, except for its lru stamp
 * (under lock) and refs (atomic).  A decoding thread takes a reference under
 * the lock and drops it without the lock when done, so the data pass runs
 * unlocked and an entry evicted meanwhile is freed by its last user.
 */
#include "ec.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/erasure_code.h>

/*
 * Erasure patterns cached per codec.  The patterns alive at once are few --
 * those of the OSDs down right now, times the shard subsets readers ask for
 * -- and a miss costs one k x k inversion (a few microseconds, next to
 * ~100 us of decoding a 1 MiB shard), so a small cache serves well.  At most
 * 64 * 3.6 KiB of tables per codec for 28+4.
 */
#define EC_CACHE_MAX 64

/* ISA-L expands every coefficient into a 32-byte multiply table. */
#define EC_TBL_BYTES 32

/* ISA-L takes int lengths: feed it in 1 GiB steps. */
#define EC_MAX_STEP (1u << 30)

struct ec_tables {
	uint64_t key;  /* (uint64_t)used << 32 | want */
	uint64_t lru;  /* codec tick of last use; under the codec lock */
	unsigned refs; /* atomic: the cache's, plus one per decoder using it */
	unsigned nwant;
	uint8_t src[STORE_EC_MAX_K];  /* shards read, ascending */
	uint8_t dst[STORE_EC_MAX_M];  /* shards written, ascending */
	uint8_t gftbls[];             /* EC_TBL_BYTES * k * nwant */
};

struct ec_codec {
	unsigned k, m;
	/* (k + m) x k generator, row-major; identity on top. */
	uint8_t matrix[STORE_EC_MAX_SHARDS * STORE_EC_MAX_K];
	uint8_t enc_tbls[EC_TBL_BYTES * STORE_EC_MAX_K * STORE_EC_MAX_M];

	pthread_mutex_t lock; /* guards everything below */
	struct ec_tables *cache[EC_CACHE_MAX];
	unsigned ncached;
	uint64_t tick;
	uint64_t hits, misses, evictions;
};

static uint32_t shard_mask(unsigned n)
{
	return n >= 32 ? UINT32_MAX : (1u << n) - 1;
}

/*
 * Run ISA-L's dot products over len bytes, in steps it can take (its length
 * is an int).  src and dst are the caller's scratch arrays and are advanced.
 */
static void ec_run(size_t len, unsigned nsrc, unsigned ndst, uint8_t *tbls,
		   uint8_t **src, uint8_t **dst)
{
	while (len > 0) {
		size_t step = MIN(len, (size_t)EC_MAX_STEP);
		unsigned i;

		ec_encode_data((int)step, (int)nsrc, (int)ndst, tbls, src, dst);
		len -= step;
		if (len == 0)
			break;
		for (i = 0; i < nsrc; i++)
			src[i] += step;
		for (i = 0; i < ndst; i++)
			dst[i] += step;
	}
}

int ec_create(unsigned k, unsigned m, struct ec_codec **out)
{
	struct ec_codec *ec;
	void *p;
	int err;

	if (k < 1 || k > STORE_EC_MAX_K || m < 1 || m > STORE_EC_MAX_M ||
	    k + m > STORE_EC_MAX_SHARDS)
		return -EINVAL;
	/* Cache-line aligned: the encode tables are read on every stripe. */
	if (posix_memalign(&p, 64, sizeof(*ec)))
		return -ENOMEM;
	ec = p;
	memset(ec, 0, sizeof(*ec));
	ec->k = k;
	ec->m = m;
	gf_gen_cauchy1_matrix(ec->matrix, (int)(k + m), (int)k);
	ec_init_tables((int)k, (int)m, ec->matrix + k * k, ec->enc_tbls);
	err = pthread_mutex_init(&ec->lock, NULL);
	if (err) {
		free(ec);
		return -err;
	}
	*out = ec;
	return 0;
}

static void tables_put(struct ec_tables *t)
{
	if (__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(t);
}

void ec_destroy(struct ec_codec *ec)
{
	unsigned i;

	if (!ec)
		return;
	/* No decoder runs any more, so the cache's reference is the last. */
	for (i = 0; i < ec->ncached; i++)
		tables_put(ec->cache[i]);
	pthread_mutex_destroy(&ec->lock);
	free(ec);
}

unsigned ec_k(const struct ec_codec *ec)
{
	return ec->k;
}

unsigned ec_m(const struct ec_codec *ec)
{
	return ec->m;
}

size_t ec_shard_len(unsigned k, size_t obj_len)
{
	size_t per;

	if (k == 0 || obj_len == 0)
		return 0;
	/* Divide first: obj_len + k - 1 could wrap. */
	per = obj_len / k + (obj_len % k != 0);
	return ALIGN_UP(per, (size_t)EC_SHARD_ALIGN);
}

void ec_encode(const struct ec_codec *ec, size_t len, uint8_t *const *data,
	       uint8_t *const *parity)
{
	uint8_t *src[STORE_EC_MAX_K], *dst[STORE_EC_MAX_M];

	if (len == 0)
		return;
	memcpy(src, data, ec->k * sizeof(*src));
	memcpy(dst, parity, ec->m * sizeof(*dst));
	/* ISA-L only reads the tables; its prototype just lacks the const. */
	ec_run(len, ec->k, ec->m, (uint8_t *)ec->enc_tbls, src, dst);
}

/*
 * Build the tables that turn the k shards in `used` into the shards in
 * `want`.  With B the rows of the generator for the used shards,
 * data = B^-1 * used, so wanted data shard w is row w of B^-1 and wanted
 * parity shard w is generator row w times B^-1.  Returns 0 and an entry
 * holding one reference, -ENOMEM, or -EIO if B is singular (impossible for a
 * Cauchy code; reported rather than decoding garbage).
 */
static int tables_build(const struct ec_codec *ec, uint32_t used,
			uint32_t want, struct ec_tables **out)
{
	uint8_t b[STORE_EC_MAX_K * STORE_EC_MAX_K];
	uint8_t inv[STORE_EC_MAX_K * STORE_EC_MAX_K];
	uint8_t rows[STORE_EC_MAX_M * STORE_EC_MAX_K];
	unsigned k = ec->k, n = ec->k + ec->m, nsrc = 0, nwant = 0, i, j, l;
	size_t tbl_bytes = (size_t)EC_TBL_BYTES * k * __builtin_popcount(want);
	struct ec_tables *t;

	t = malloc(sizeof(*t) + tbl_bytes);
	if (!t)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!(used & (1u << i)))
			continue;
		memcpy(b + nsrc * k, ec->matrix + i * k, k);
		t->src[nsrc++] = (uint8_t)i;
	}
	if (gf_invert_matrix(b, inv, (int)k)) {
		free(t);
		return -EIO;
	}
	for (i = 0; i < n; i++) {
		uint8_t *row = rows + nwant * k;

		if (!(want & (1u << i)))
			continue;
		if (i < k) {
			memcpy(row, inv + i * k, k);
		} else {
			const uint8_t *g = ec->matrix + i * k;

			for (j = 0; j < k; j++) {
				uint8_t c = 0;

				for (l = 0; l < k; l++)
					c ^= gf_mul(g[l], inv[l * k + j]);
				row[j] = c;
			}
		}
		t->dst[nwant++] = (uint8_t)i;
	}
	ec_init_tables((int)k, (int)nwant, rows, t->gftbls);
	t->key = (uint64_t)used << 32 | want;
	t->lru = 0;
	t->refs = 1;
	t->nwant = nwant;
	*out = t;
	return 0;
}

/* Under lock. */
static struct ec_tables *cache_find(struct ec_codec *ec, uint64_t key)
{
	unsigned i;

	for (i = 0; i < ec->ncached; i++)
		if (ec->cache[i]->key == key)
			return ec->cache[i];
	return NULL;
}

/* Under lock: take a reference for the caller and mark the entry used. */
static void cache_ref(struct ec_codec *ec, struct ec_tables *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	t->lru = ++ec->tick;
}

/*
 * Under lock: publish t (the cache takes a reference) and return the entry
 * it displaced, if any, whose cache reference the caller must drop after
 * unlocking.
 */
static struct ec_tables *cache_insert(struct ec_codec *ec,
				      struct ec_tables *t)
{
	struct ec_tables *victim = NULL;
	unsigned i, slot = ec->ncached;

	if (ec->ncached == EC_CACHE_MAX) {
		slot = 0;
		for (i = 1; i < ec->ncached; i++)
			if (ec->cache[i]->lru < ec->cache[slot]->lru)
				slot = i;
		victim = ec->cache[slot];
		ec->evictions++;
	} else {
		ec->ncached++;
	}
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	t->lru = ++ec->tick;
	ec->cache[slot] = t;
	return victim;
}

/*
 * Find or build the tables for (used, want) and return them with a
 * reference the caller drops with tables_put().  The inversion runs
 * unlocked; if two threads build the same pattern, the first published wins.
 */
static int tables_get(struct ec_codec *ec, uint32_t used, uint32_t want,
		      struct ec_tables **out)
{
	uint64_t key = (uint64_t)used << 32 | want;
	struct ec_tables *t, *mine, *victim = NULL;
	int err;

	pthread_mutex_lock(&ec->lock);
	t = cache_find(ec, key);
	if (t) {
		cache_ref(ec, t);
		ec->hits++;
		pthread_mutex_unlock(&ec->lock);
		*out = t;
		return 0;
	}
	ec->misses++;
	pthread_mutex_unlock(&ec->lock);

	err = tables_build(ec, used, want, &mine);
	if (err)
		return err;

	pthread_mutex_lock(&ec->lock);
	t = cache_find(ec, key);
	if (t)
		cache_ref(ec, t);
	else
		victim = cache_insert(ec, mine);
	pthread_mutex_unlock(&ec->lock);
	if (t) {
		free(mine);
		*out = t;
	} else {
		*out = mine;
	}
	if (victim)
		tables_put(victim);
	return 0;
}

int ec_decode(struct ec_codec *ec, size_t len, uint8_t *const *shards,
	      uint32_t present, uint32_t want)
{
	uint8_t *src[STORE_EC_MAX_K], *dst[STORE_EC_MAX_M];
	unsigned n = ec->k + ec->m, i, nused = 0;
	uint32_t used = 0, named = present | want;
	struct ec_tables *t;
	int err;

	if ((named & ~shard_mask(n)) || (present & want))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if ((named & (1u << i)) && !shards[i])
			return -EINVAL;
	if (!want)
		return 0;
	if ((unsigned)__builtin_popcount(present) < ec->k)
		return -EIO;
	/* The first k present: data shards before parity, and the same
	 * survivors give the same key, whatever else is present. */
	for (i = 0; i < n && nused < ec->k; i++) {
		if (present & (1u << i)) {
			used |= 1u << i;
			nused++;
		}
	}

	err = tables_get(ec, used, want, &t);
	if (err)
		return err;
	for (i = 0; i < ec->k; i++)
		src[i] = shards[t->src[i]];
	for (i = 0; i < t->nwant; i++)
		dst[i] = shards[t->dst[i]];
	if (len > 0)
		ec_run(len, ec->k, t->nwant, t->gftbls, src, dst);
	tables_put(t);
	return 0;
}

void ec_get_stats(struct ec_codec *ec, struct ec_stats *st)
{
	pthread_mutex_lock(&ec->lock);
	st->hits = ec->hits;
	st->misses = ec->misses;
	st->evictions = ec->evictions;
	st->cached = ec->ncached;
	pthread_mutex_unlock(&ec->lock);
}

/* The part of ec_check() that needs the lock. */
static int cache_check(const struct ec_codec *ec)
{
	unsigned i, j, n = ec->k + ec->m;

	if (ec->ncached > EC_CACHE_MAX)
		return -EUCLEAN;
	for (i = 0; i < ec->ncached; i++) {
		const struct ec_tables *t = ec->cache[i];
		uint32_t used = (uint32_t)(t->key >> 32);
		uint32_t want = (uint32_t)t->key;

		if ((unsigned)__builtin_popcount(used) != ec->k ||
		    (used & want) || ((used | want) & ~shard_mask(n)) ||
		    t->nwant < 1 || t->nwant > ec->m ||
		    (unsigned)__builtin_popcount(want) != t->nwant ||
		    __atomic_load_n(&t->refs, __ATOMIC_RELAXED) < 1 ||
		    t->lru > ec->tick)
			return -EUCLEAN;
		for (j = 0; j < ec->k; j++)
			if (!(used & (1u << t->src[j])) ||
			    (j > 0 && t->src[j] <= t->src[j - 1]))
				return -EUCLEAN;
		for (j = 0; j < t->nwant; j++)
			if (!(want & (1u << t->dst[j])))
				return -EUCLEAN;
		for (j = 0; j < i; j++)
			if (ec->cache[j]->key == t->key)
				return -EUCLEAN;
	}
	return 0;
}

int ec_check(struct ec_codec *ec)
{
	unsigned k = ec->k, m = ec->m, i, j;
	int err;

	if (k < 1 || k > STORE_EC_MAX_K || m < 1 || m > STORE_EC_MAX_M ||
	    k + m > STORE_EC_MAX_SHARDS)
		return -EUCLEAN;
	for (i = 0; i < k; i++)
		for (j = 0; j < k; j++)
			if (ec->matrix[i * k + j] != (i == j))
				return -EUCLEAN;
	/* Cauchy rows: no zero coefficient, or some data byte would not
	 * reach that parity. */
	for (i = k * k; i < (k + m) * k; i++)
		if (ec->matrix[i] == 0)
			return -EUCLEAN;
	pthread_mutex_lock(&ec->lock);
	err = cache_check(ec);
	pthread_mutex_unlock(&ec->lock);
	return err;
}
