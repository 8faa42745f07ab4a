/*
 * crush.c -- see crush.h and docs/placement.md.
 */
#include "crush.h"
#include "hash.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* leaf_ok bits: the OSD may receive a shard without / with
 * CRUSH_SKIP_DOWN (in and weight > 0; and up).  Precomputed so the hot
 * loop tests one byte instead of three fields. */
#define OK_IN 0x1u
#define OK_IN_UP 0x2u

struct crush_tree {
	uint64_t epoch;

	/* Root bucket: one item per host, sorted by id. */
	uint32_t n_hosts;
	uint32_t *host_id;
	uint64_t *host_w;      /* 16.16 sum of the host's OSD weights */
	uint32_t *host_first;  /* [n_hosts + 1]: host h owns leaves
				* host_first[h] .. host_first[h + 1] */
	char (*host_name)[STORE_HOST_MAX + 1];

	/* Host buckets, concatenated: OSD ids sorted within each host. */
	uint32_t n_leaves;
	uint32_t *leaf_id;
	uint64_t *leaf_w;      /* 16.16 */
	uint8_t *leaf_ok;      /* OK_IN | OK_IN_UP */

	/* Per mode (0: in, 1: in and up) and per set size n = k + m: the most
	 * positions one host may hold in a MAP_DOMAIN_HOST pool (1 while
	 * there are >= n usable hosts), and how many positions can be filled
	 * at all.  Precomputed so a mapping never scans the whole map. */
	uint8_t host_cap[2][STORE_EC_MAX_SHARDS + 1];
	uint8_t fillable[2][STORE_EC_MAX_SHARDS + 1];
	/* Per mode: usable OSDs in the whole map. */
	uint32_t usable_osds[2];
};

/*
 * -ln((u + 0.5) / 65536) for every 16-bit draw u, in Q59 fixed point.
 * u + 0.5 centres each of the 65536 buckets so the table is an unbiased
 * exponential variate (no u gives ln(0)).  It is computed with integers
 * only (below), never with libm: log() may differ in its last bit between
 * C libraries, and one differing entry would make two parties disagree on
 * placement.  512 KiB, each entry computed the first time a draw needs it
 * (nln()): building all of it up front took 17 ms, half the run time of a
 * `storectl ls` that places nothing.
 */
static uint64_t nln_table[65536];

/* Items hashed per hash32_3_many() call: enough to fill the vector lanes
 * many times over, small enough for the stack. */
#define STRAW2_BATCH 64

/* ln(2) in Q64, rounded down: 0.693147180559945309417232121458... */
#define LN2_Q64 0xB17217F7D1CF79ABull

/*
 * log2(v) in Q56 for 1 <= v < 2^17, by the bit-by-bit squaring method:
 * normalise v into [1, 2), square; each time the square reaches 2 the next
 * fractional bit is 1.  Truncating integer arithmetic: the same bits on
 * every machine, and accurate to about 2^-50, far finer than the 2^-16
 * steps of the draws it ranks.
 */
static uint64_t log2_q56(uint32_t v)
{
	int e = 31 - __builtin_clz(v);
	uint64_t mant = (uint64_t)v << (62 - e); /* Q62, in [1, 2) */
	uint64_t res = (uint64_t)e << 56;

	for (int bit = 55; bit >= 0; bit--) {
		mant = (uint64_t)(((unsigned __int128)mant * mant) >> 62);
		if (mant >= (1ull << 63)) {
			mant >>= 1;
			res |= 1ull << bit;
		}
	}
	return res;
}

/* -ln((u + 0.5) / 2^16) in Q59, from the table, computing the entry if
 * this is its first use.  Entries are never 0 (the smallest, u = 65535,
 * is about 2^42), so 0 means "not yet".  Threads racing on an entry store
 * the same value; relaxed atomics keep each 64-bit access whole. */
static uint64_t nln(uint32_t u)
{
	uint64_t v = __atomic_load_n(&nln_table[u], __ATOMIC_RELAXED);

	if (!v) {
		/* (u + 0.5) / 2^16 = (2u + 1) / 2^17, so
		 * -ln(...) = ln2 * (17 - log2(2u + 1)). */
		uint64_t nl2 = (17ull << 56) - log2_q56(2 * u + 1); /* Q56 */

		v = (uint64_t)(((unsigned __int128)nl2 * LN2_Q64) >>
			       61); /* Q56 * Q64 >> 61 = Q59 */
		__atomic_store_n(&nln_table[u], v, __ATOMIC_RELAXED);
	}
	return v;
}

/*
 * straw2: every item draws u = hash32_3(x, id, r) & 0xffff and scores
 * -ln(u') / weight, an exponential variate of rate weight; the smallest
 * score wins, so item i wins with probability w_i / sum(w), and changing
 * one item's weight only moves inputs to or from that item.  Weight-0
 * items never win.  Ties go to the earlier item (items are in id order,
 * so that too is a function of the map, not of array order).  Returns the
 * index of the winner, or n if every weight is 0.
 */
static uint32_t straw2(const uint32_t *ids, const uint64_t *w, uint32_t n,
		       uint32_t x, uint32_t r)
{
	uint64_t best = UINT64_MAX;
	uint32_t pick = n, u[STRAW2_BATCH];

	for (uint32_t base = 0; base < n; base += STRAW2_BATCH) {
		uint32_t cnt = MIN(STRAW2_BATCH, n - base);

		hash32_3_many(x, ids + base, r, u, cnt);
		for (uint32_t i = 0; i < cnt; i++) {
			uint64_t s;

			if (!w[base + i])
				continue;
			s = nln(u[i] & 0xffff) / w[base + i];
			if (s < best) {
				best = s;
				pick = base + i;
			}
		}
	}
	return pick;
}

/* Positions other than pos whose host (filled, or claimed) is h. */
static uint32_t host_count(const uint32_t *hold, uint32_t n, uint32_t pos,
			   uint32_t h)
{
	uint32_t same = 0;

	for (uint32_t i = 0; i < n; i++)
		same += i != pos && hold[i] == h;
	return same;
}

/* Positions of the set that hold this OSD. */
static uint32_t osd_count(const uint32_t *osds, uint32_t n, uint32_t osd)
{
	uint32_t c = 0;

	for (uint32_t i = 0; i < n; i++)
		c += osds[i] == osd;
	return c;
}

/*
 * The last resort after CRUSH_TOTAL_TRIES rounds: a straw2 draw restricted
 * to what fits position pos -- hosts under the cap with a usable OSD not yet
 * in the set, then such an OSD.  Random retries find a fitting OSD with
 * probability about its share of the weight, so a PG on a map that is
 * barely big enough (12 hosts for 8+4) or mostly out would otherwise keep
 * positions empty that it could fill.  Reached rarely, so plain scalar
 * hashes.  Returns the leaf index and sets *host, or returns t->n_leaves
 * if nothing fits (which `want' rules out).
 */
static uint32_t restricted_draw(const struct crush_tree *t, uint32_t x,
				uint32_t r, uint8_t okbit, uint32_t cap,
				uint32_t ocap, const uint32_t *osds,
				const uint32_t *hold, uint32_t n, uint32_t *host)
{
	uint64_t best = UINT64_MAX;
	uint32_t pick = t->n_hosts, leaf = t->n_leaves;

	for (uint32_t h = 0; h < t->n_hosts; h++) {
		uint32_t filled_here = 0, fits = 0;
		uint64_t s;

		for (uint32_t i = 0; i < n; i++)
			filled_here += osds[i] != CRUSH_NONE && hold[i] == h;
		if (!t->host_w[h] || filled_here >= cap)
			continue;
		for (uint32_t l = t->host_first[h];
		     l < t->host_first[h + 1] && !fits; l++)
			fits = (t->leaf_ok[l] & okbit) &&
			       osd_count(osds, n, t->leaf_id[l]) < ocap;
		if (!fits)
			continue;
		s = nln(hash32_3(x, t->host_id[h], r) & 0xffff) /
		    t->host_w[h];
		if (s < best) {
			best = s;
			pick = h;
		}
	}
	if (pick == t->n_hosts)
		return leaf;
	*host = pick;
	best = UINT64_MAX;
	for (uint32_t l = t->host_first[pick]; l < t->host_first[pick + 1];
	     l++) {
		uint64_t s;

		if (!(t->leaf_ok[l] & okbit) ||
		    osd_count(osds, n, t->leaf_id[l]) >= ocap)
			continue;
		s = nln(hash32_3(x, t->leaf_id[l], r) & 0xffff) /
		    t->leaf_w[l];
		if (s < best) {
			best = s;
			leaf = l;
		}
	}
	return leaf;
}

int crush_map_input(const struct crush_tree *t, const struct map_pool *p,
		    uint32_t x, unsigned flags, uint32_t *osds)
{
	uint32_t n = (uint32_t)p->k + p->m;
	uint32_t hold[STORE_EC_MAX_SHARDS];
	unsigned mode = flags & CRUSH_SKIP_DOWN;
	uint8_t okbit = mode ? OK_IN_UP : OK_IN;
	uint32_t cap, want, ocap = 1, usable, filled = 0;

	if (n < 1 || n > STORE_EC_MAX_SHARDS || p->domain > MAP_DOMAIN_OSD ||
	    (flags & ~CRUSH_SKIP_DOWN))
		return -EINVAL;
	cap = p->domain == MAP_DOMAIN_HOST ? t->host_cap[mode][n] : n;
	want = t->fillable[mode][n];
	/*
	 * Fewer usable OSDs than positions (6 OSDs for 4+2, one lost): an
	 * OSD may hold several shards of an object, at most ceil(n / usable)
	 * of them, but only while that is at most m -- losing that one OSD
	 * then loses at most m shards and the object stays readable.  So a
	 * cluster of exactly k + m OSDs rebuilds what a lost OSD held and
	 * returns to health, instead of staying degraded until a disk is
	 * added; a cluster with even fewer OSDs fills what it safely can.
	 */
	usable = t->usable_osds[mode];
	if (usable && usable < n && (n + usable - 1) / usable <= p->m) {
		ocap = (n + usable - 1) / usable;
		cap = n;
		want = n;
	}
	for (uint32_t pos = 0; pos < n; pos++) {
		osds[pos] = CRUSH_NONE;
		hold[pos] = UINT32_MAX;
	}

	/*
	 * Ceph's crush_choose_indep: in each round, every empty position
	 * draws a host and then one OSD in it with r = pos + n * round.
	 * Position pos's first-round draw does not depend on the others, so
	 * an OSD that leaves empties only its own positions, which retry in
	 * later rounds with fresh r.  A rejected OSD sends the position back
	 * to the root (Ceph's chooseleaf_descend_once): its shards spread
	 * over the whole cluster, not onto its host's siblings.
	 *
	 * One refinement over Ceph: a position that wins a host keeps it
	 * (hold[]) for the collision test even when the OSD it then draws
	 * is refused, until it draws again.  Without that, marking an OSD
	 * out frees its host for a later position that had collided with
	 * it, and that position moves too (~17% of the affected PGs on 16
	 * hosts); with it, the later position collides exactly as before.
	 *
	 * Stopping at `want' changes nothing: no further position could be
	 * filled.
	 */
	for (uint32_t round = 0; filled < want && round < CRUSH_TOTAL_TRIES;
	     round++) {
		for (uint32_t pos = 0; pos < n && filled < want; pos++) {
			uint32_t r = pos + n * round, h, l, same;

			if (osds[pos] != CRUSH_NONE)
				continue;
			h = straw2(t->host_id, t->host_w, t->n_hosts, x, r);
			if (h == t->n_hosts)
				return (int)filled; /* no weight anywhere */
			same = host_count(hold, n, pos, h);
			if (same >= cap)
				continue;
			hold[pos] = h;
			l = t->host_first[h];
			l += straw2(t->leaf_id + l, t->leaf_w + l,
				    t->host_first[h + 1] - l, x, r);
			if (!(t->leaf_ok[l] & okbit))
				continue;
			/* cap > 1: the OSD itself may be taken. */
			if (same && osd_count(osds, n, t->leaf_id[l]) >= ocap)
				continue;
			osds[pos] = t->leaf_id[l];
			filled++;
		}
	}
	for (uint32_t pos = 0; pos < n && filled < want; pos++) {
		uint32_t l, h = 0;

		if (osds[pos] != CRUSH_NONE)
			continue;
		l = restricted_draw(t, x, pos + n * CRUSH_TOTAL_TRIES, okbit,
				    cap, ocap, osds, hold, n, &h);
		if (l == t->n_leaves)
			break;
		osds[pos] = t->leaf_id[l];
		hold[pos] = h;
		filled++;
	}
	return (int)filled;
}

uint32_t crush_pg_input(const struct map_pool *p, uint32_t pg)
{
	return hash32_2(pg, p->id);
}

int crush_map_pg(const struct crush_tree *t, const struct map_pool *p,
		 uint32_t pg, unsigned flags, uint32_t *osds)
{
	if (pg >= p->pg_num)
		return -EINVAL;
	return crush_map_input(t, p, crush_pg_input(p, pg), flags, osds);
}

uint32_t crush_pg_mask(uint32_t pg_num)
{
	if (pg_num <= 1)
		return 0;
	return (uint32_t)((1ull << (32 - __builtin_clz(pg_num - 1))) - 1);
}

uint32_t crush_stable_mod(uint32_t x, uint32_t b, uint32_t bmask)
{
	if ((x & bmask) < b)
		return x & bmask;
	return x & (bmask >> 1);
}

uint32_t crush_object_pg(const struct map_pool *p, uint64_t ino,
			 uint64_t objno)
{
	uint32_t x = (uint32_t)hash_object(ino, objno);

	return crush_stable_mod(x, p->pg_num, crush_pg_mask(p->pg_num));
}

uint64_t crush_epoch(const struct crush_tree *t)
{
	return t->epoch;
}

int crush_host_id(const struct crush_tree *t, const char *host, uint32_t *id)
{
	for (uint32_t h = 0; h < t->n_hosts; h++) {
		if (!strcmp(t->host_name[h], host)) {
			*id = t->host_id[h];
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- building ---------------------------------------------------------- */

/* One existing OSD while building: sorted by host name, then id. */
struct build_osd {
	const struct map_osd *o;
	uint64_t w;
	uint32_t host;   /* index into the build_host array */
};

struct build_host {
	const char *name;
	uint32_t id;
	uint32_t first, n; /* its OSDs in the sorted build_osd array */
	uint64_t w;
};

static int cmp_osd_by_host(const void *a, const void *b)
{
	const struct build_osd *x = a, *y = b;
	int c = strcmp(x->o->host, y->o->host);

	if (c)
		return c;
	return x->o->id < y->o->id ? -1 : x->o->id > y->o->id;
}

static int cmp_host_by_id(const void *a, const void *b)
{
	const struct build_host *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Give every host its id: hash32_str(name).  An id must differ from every
 * other host's, or two hosts would draw identically, and from every OSD id
 * (< STORE_MAX_OSDS), or a host's draw and its OSDs' draws in the same
 * (x, r) would be correlated.  Both are rare (two of 4096 names collide
 * with probability ~0.2%, a name lands below 4096 with ~1e-6) and are
 * resolved deterministically: in name order, such a host is rehashed with
 * hash32_2(id, attempt) until its id is free.  Only that host's id then
 * depends on the other names.  hosts[] is in name order on entry.
 */
static int id_bad(const struct build_host *hosts, uint32_t h)
{
	if (hosts[h].id < STORE_MAX_OSDS)
		return 1;
	for (uint32_t j = 0; j < h; j++)
		if (hosts[j].id == hosts[h].id)
			return 1;
	return 0;
}

static int assign_host_ids(struct build_host *hosts, uint32_t n)
{
	uint32_t *ids;
	int bad = 0;

	for (uint32_t h = 0; h < n; h++)
		hosts[h].id = hash32_str(hosts[h].name);
	ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (uint32_t h = 0; h < n; h++) {
		ids[h] = hosts[h].id;
		bad |= ids[h] < STORE_MAX_OSDS;
	}
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (uint32_t h = 1; h < n; h++)
		bad |= ids[h] == ids[h - 1];
	free(ids);
	if (!bad)
		return 0;
	/* Quadratic, but only on maps that have a collision. */
	for (uint32_t h = 0; h < n; h++)
		for (uint32_t attempt = 1; id_bad(hosts, h); attempt++)
			hosts[h].id = hash32_2(hosts[h].id, attempt);
	return 0;
}

/* Fill host_cap[][] and fillable[][] from the usable OSDs per host.
 * Returns 0 or -ENOMEM. */
static int compute_caps(struct crush_tree *t)
{
	uint32_t *usable = calloc(t->n_hosts ? t->n_hosts : 1,
				  sizeof(*usable));

	if (!usable)
		return -ENOMEM;
	for (unsigned mode = 0; mode < 2; mode++) {
		uint8_t okbit = mode ? OK_IN_UP : OK_IN;
		uint32_t total = 0;

		for (uint32_t h = 0; h < t->n_hosts; h++) {
			usable[h] = 0;
			for (uint32_t l = t->host_first[h];
			     l < t->host_first[h + 1]; l++)
				usable[h] += !!(t->leaf_ok[l] & okbit);
			total += usable[h];
		}
		for (uint32_t n = 1; n <= STORE_EC_MAX_SHARDS; n++) {
			uint32_t cap = n;

			/* The smallest per-host cap that still lets n
			 * positions fill: 1 when >= n hosts are usable, so
			 * the hosts are distinct; otherwise shards double
			 * up as evenly as the hosts' OSD counts allow.  If
			 * fewer than n OSDs are usable at all, no cap
			 * beyond distinct OSDs. */
			for (uint32_t c = 1; c < n; c++) {
				uint32_t s = 0;

				for (uint32_t h = 0; h < t->n_hosts && s < n;
				     h++)
					s += MIN(usable[h], c);
				if (s >= n) {
					cap = c;
					break;
				}
			}
			t->host_cap[mode][n] = (uint8_t)cap;
			t->fillable[mode][n] = (uint8_t)MIN(n, total);
		}
		t->usable_osds[mode] = total;
	}
	free(usable);
	return 0;
}

/* 16.16 weight of an OSD: rounded to nearest, a positive weight never 0. */
static int weight_fixed(double weight, uint64_t *w)
{
	if (weight >= 65536.0)
		return -ERANGE;
	*w = (uint64_t)(weight * 65536.0 + 0.5);
	if (!*w && weight > 0)
		*w = 1;
	return 0;
}

int crush_build(const struct store_map *m, struct crush_tree **out)
{
	struct build_osd *bo = NULL;
	struct build_host *bh = NULL;
	struct crush_tree *t = NULL;
	uint32_t n = 0, nh = 0, l = 0;
	int err;

	err = map_check(m);
	if (err)
		return err;
	err = -ENOMEM;
	bo = calloc(m->n_osds ? m->n_osds : 1, sizeof(*bo));
	bh = calloc(m->n_osds ? m->n_osds : 1, sizeof(*bh));
	t = calloc(1, sizeof(*t));
	if (!bo || !bh || !t)
		goto out;
	for (uint32_t i = 0; i < m->n_osds; i++) {
		if (!m->osds[i].exists)
			continue;
		bo[n].o = &m->osds[i];
		err = weight_fixed(m->osds[i].weight, &bo[n].w);
		if (err)
			goto out;
		n++;
	}
	qsort(bo, n, sizeof(*bo), cmp_osd_by_host);
	for (uint32_t i = 0; i < n; i++) {
		if (!i || strcmp(bo[i].o->host, bo[i - 1].o->host)) {
			bh[nh].name = bo[i].o->host;
			bh[nh].first = i;
			nh++;
		}
		bo[i].host = nh - 1;
		bh[nh - 1].n++;
		bh[nh - 1].w += bo[i].w;
	}
	err = assign_host_ids(bh, nh);
	if (err)
		goto out;
	qsort(bh, nh, sizeof(*bh), cmp_host_by_id);

	err = -ENOMEM;
	t->epoch = m->epoch;
	t->n_hosts = nh;
	t->n_leaves = n;
	t->host_id = calloc(nh ? nh : 1, sizeof(*t->host_id));
	t->host_w = calloc(nh ? nh : 1, sizeof(*t->host_w));
	t->host_first = calloc(nh + 1, sizeof(*t->host_first));
	t->host_name = calloc(nh ? nh : 1, sizeof(*t->host_name));
	t->leaf_id = calloc(n ? n : 1, sizeof(*t->leaf_id));
	t->leaf_w = calloc(n ? n : 1, sizeof(*t->leaf_w));
	t->leaf_ok = calloc(n ? n : 1, sizeof(*t->leaf_ok));
	if (!t->host_id || !t->host_w || !t->host_first || !t->host_name ||
	    !t->leaf_id || !t->leaf_w || !t->leaf_ok)
		goto out;
	for (uint32_t h = 0; h < nh; h++) {
		t->host_id[h] = bh[h].id;
		t->host_w[h] = bh[h].w;
		t->host_first[h] = l;
		strcpy(t->host_name[h], bh[h].name);
		for (uint32_t i = bh[h].first; i < bh[h].first + bh[h].n;
		     i++, l++) {
			const struct map_osd *o = bo[i].o;

			t->leaf_id[l] = o->id;
			t->leaf_w[l] = bo[i].w;
			if (o->in && bo[i].w)
				t->leaf_ok[l] = OK_IN | (o->up ? OK_IN_UP : 0);
		}
	}
	t->host_first[nh] = l;
	err = compute_caps(t);
	if (err)
		goto out;
	*out = t;
	t = NULL;
	err = 0;
out:
	crush_free(t);
	free(bh);
	free(bo);
	return err;
}

void crush_free(struct crush_tree *t)
{
	if (!t)
		return;
	free(t->host_id);
	free(t->host_w);
	free(t->host_first);
	free(t->host_name);
	free(t->leaf_id);
	free(t->leaf_w);
	free(t->leaf_ok);
	free(t);
}

int crush_check(const struct crush_tree *t)
{
	uint64_t seen[STORE_MAX_OSDS / 64] = { 0 };

	if (t->host_first[0] != 0 || t->host_first[t->n_hosts] != t->n_leaves)
		return -EINVAL;
	for (uint32_t h = 0; h < t->n_hosts; h++) {
		uint32_t a = t->host_first[h], b = t->host_first[h + 1];
		uint64_t w = 0;

		if (h && t->host_id[h] <= t->host_id[h - 1])
			return -EINVAL;
		if (a >= b || !memchr(t->host_name[h], '\0',
				      sizeof(t->host_name[h])))
			return -EINVAL;
		for (uint32_t l = a; l < b; l++) {
			if (l > a && t->leaf_id[l] <= t->leaf_id[l - 1])
				return -EINVAL;
			if (t->leaf_ok[l] & ~(OK_IN | OK_IN_UP) ||
			    (t->leaf_ok[l] && !t->leaf_w[l]) ||
			    (t->leaf_ok[l] & OK_IN_UP &&
			     !(t->leaf_ok[l] & OK_IN)))
				return -EINVAL;
			w += t->leaf_w[l];
		}
		if (w != t->host_w[h])
			return -EINVAL;
	}
	/* Every OSD in exactly one host: ids are unique across leaves. */
	for (uint32_t l = 0; l < t->n_leaves; l++) {
		uint32_t id = t->leaf_id[l];

		if (id >= STORE_MAX_OSDS || seen[id / 64] & (1ull << (id % 64)))
			return -EINVAL;
		seen[id / 64] |= 1ull << (id % 64);
	}
	for (unsigned mode = 0; mode < 2; mode++)
		for (uint32_t n = 1; n <= STORE_EC_MAX_SHARDS; n++)
			if (t->host_cap[mode][n] < 1 ||
			    t->host_cap[mode][n] > n ||
			    t->fillable[mode][n] > n)
				return -EINVAL;
	return 0;
}
