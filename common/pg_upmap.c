/*
 * pg_upmap.c -- placement overrides: see pg_upmap.h.
 */
#include "pg_upmap.h"
#include "pg.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* No host: a hole, or an OSD the new map does not have. */
#define NO_HOST UINT32_MAX

/* qsort_r order of OSD ids (arg: the map) by host name, then id. */
static int cmp_host(const void *a, const void *b, void *arg)
{
	const struct store_map *m = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(m->osds[x].host, m->osds[y].host);

	return c ? c : (x > y) - (x < y);
}

void pg_upmap_free(struct pg_upmap_ctx *c)
{
	free(c->host);
	free(c->usable);
	free(c->gained);
	memset(c, 0, sizeof(*c));
}

/* CRUSH's host cap (crush.c compute_caps): the smallest c for which
 * sum over hosts of min(usable OSDs, c) >= n; n if none is. */
static unsigned host_cap(const uint32_t *per_host, uint32_t n_hosts,
			 unsigned n)
{
	for (unsigned cap = 1; cap < n; cap++) {
		uint32_t s = 0;

		for (uint32_t h = 0; h < n_hosts && s < n; h++)
			s += MIN(per_host[h], cap);
		if (s >= n)
			return cap;
	}
	return n;
}

/* Did OSD id of m gain since old: new, newly usable, heavier, or on
 * another host (all of which make CRUSH give it PGs it did not have)? */
static int gained(const struct store_map *old, const struct store_map *m,
		  uint32_t id)
{
	const struct map_osd *o = map_osd(old, id), *n = &m->osds[id];

	return !o || !o->in || !(o->weight > 0) || n->weight > o->weight ||
	       strcmp(o->host, n->host);
}

int pg_upmap_init(struct pg_upmap_ctx *c, const struct store_map *old,
		  const struct store_map *m, const struct map_pool *p)
{
	uint32_t *ids = NULL, *per_host = NULL, n_ids = 0, n_hosts = 0;
	uint32_t n_usable = 0;
	size_t slots = m->n_osds ? m->n_osds : 1;
	int rc = -ENOMEM;

	memset(c, 0, sizeof(*c));
	c->m = m;
	c->n = (unsigned)p->k + p->m;
	if (c->n < 1 || c->n > STORE_EC_MAX_SHARDS ||
	    p->domain > MAP_DOMAIN_OSD)
		return -EINVAL;
	c->host = malloc(slots * sizeof(*c->host));
	c->usable = calloc(slots, 1);
	c->gained = calloc(slots, 1);
	ids = malloc(slots * sizeof(*ids));
	per_host = calloc(slots, sizeof(*per_host));
	if (!c->host || !c->usable || !c->gained || !ids || !per_host)
		goto out;
	for (uint32_t i = 0; i < m->n_osds; i++) {
		const struct map_osd *o = &m->osds[i];

		c->host[i] = NO_HOST;
		if (!o->exists)
			continue;
		c->usable[i] = o->in && o->weight > 0;
		c->gained[i] = c->usable[i] && (!old || gained(old, m, i));
		ids[n_ids++] = i;
	}
	/* Hosts are named, not numbered: number them by name.  The MDS
	 * runs this once per pool and epoch, never per PG. */
	qsort_r(ids, n_ids, sizeof(*ids), cmp_host, (void *)m);
	for (uint32_t i = 0; i < n_ids; i++) {
		if (i > 0 && strcmp(m->osds[ids[i]].host,
				    m->osds[ids[i - 1]].host))
			n_hosts++;
		c->host[ids[i]] = n_hosts;
		per_host[n_hosts] += c->usable[ids[i]];
	}
	n_hosts += n_ids > 0;
	c->host_cap = p->domain == MAP_DOMAIN_HOST
			      ? host_cap(per_host, n_hosts, c->n)
			      : c->n;
	/* CRUSH's rule (crush_map_input): with fewer usable OSDs than
	 * positions, an OSD holds up to ceil(n / usable) shards while that
	 * is at most m, and hosts are not capped. */
	c->osd_cap = 1;
	for (uint32_t i = 0; i < m->n_osds; i++)
		n_usable += c->usable[i];
	if (n_usable && n_usable < c->n &&
	    (c->n + n_usable - 1) / n_usable <= p->m) {
		c->osd_cap = (c->n + n_usable - 1) / n_usable;
		c->host_cap = c->n;
	}
	rc = 0;
out:
	free(ids);
	free(per_host);
	if (rc)
		pg_upmap_free(c);
	return rc;
}

static int usable(const struct pg_upmap_ctx *c, uint32_t osd)
{
	return osd < c->m->n_osds && c->usable[osd];
}

static int member(const uint32_t *set, unsigned n, uint32_t osd)
{
	for (unsigned i = 0; i < n; i++)
		if (set[i] == osd)
			return 1;
	return 0;
}

/* May osd take one more position of e (at most osd_cap of them)? */
static int below_osd_cap(const struct pg_upmap_ctx *c, const uint32_t *e,
			 uint32_t osd)
{
	unsigned k = 0;

	for (unsigned i = 0; i < c->n; i++)
		k += e[i] == osd;
	return k < c->osd_cap;
}

/* Positions of e other than pos on osd's host. */
static unsigned on_host(const struct pg_upmap_ctx *c, const uint32_t *e,
			unsigned pos, uint32_t osd)
{
	uint32_t h = c->host[osd];
	unsigned same = 0;

	for (unsigned i = 0; i < c->n; i++)
		same += i != pos && e[i] != CRUSH_NONE && c->host[e[i]] == h;
	return same;
}

/* May position pos of e take osd (usable, not yet in e)? */
static int fits(const struct pg_upmap_ctx *c, const uint32_t *e,
		unsigned pos, uint32_t osd)
{
	return on_host(c, e, pos, osd) < c->host_cap;
}

/* May e[i] stay, given the copies of it in e[0 .. i)? */
static int below_osd_cap_prefix(const struct pg_upmap_ctx *c,
				const uint32_t *e, unsigned i)
{
	unsigned k = 0;

	for (unsigned j = 0; j < i; j++)
		k += e[j] == e[i];
	return k < c->osd_cap;
}

/* E = old, with holes where the OSD is unusable, repeated, or over the
 * host cap (possible after the cap shrank: hosts came back).  Over the
 * cap, positions CRUSH does not agree with become holes first. */
static void keep_old(const struct pg_upmap_ctx *c, const uint32_t *old,
		     const uint32_t *crush, uint32_t *e)
{
	for (unsigned i = 0; i < c->n; i++) {
		e[i] = old[i];
		if (e[i] != CRUSH_NONE &&
		    (!usable(c, e[i]) ||
		     (member(e, i, e[i]) && !below_osd_cap_prefix(c, e, i))))
			e[i] = CRUSH_NONE;
	}
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < c->n; i++)
			if (e[i] != CRUSH_NONE &&
			    (pass || e[i] != crush[i]) &&
			    on_host(c, e, i, e[i]) >= c->host_cap)
				e[i] = CRUSH_NONE;
}

int pg_upmap_compute(const struct pg_upmap_ctx *c, const uint32_t *old,
		     const uint32_t *old_crush, const uint32_t *crush,
		     uint32_t *out)
{
	uint32_t e[STORE_EC_MAX_SHARDS];
	uint8_t gainer[STORE_EC_MAX_SHARDS] = { 0 };
	unsigned n = c->n;

	keep_old(c, old, crush, e);
	/* Gainers, by their position in crush.  Decided against the E
	 * above, before any of them is placed. */
	for (unsigned p = 0; p < n; p++)
		gainer[p] = crush[p] != CRUSH_NONE && usable(c, crush[p]) &&
			    c->gained[crush[p]] && !member(e, n, crush[p]) &&
			    !member(old_crush, n, crush[p]);
	for (unsigned p = 0; p < n; p++) {
		if (gainer[p] && fits(c, e, p, crush[p])) {
			e[p] = crush[p];
			gainer[p] = 0;
		}
	}
	/* Holes: CRUSH's own OSD for the position, else the first of its
	 * OSDs E lacks (gainers that did not fit their own position among
	 * them), so a lost shard goes where CRUSH would put it whenever it
	 * can. */
	for (unsigned p = 0; p < n; p++) {
		if (e[p] != CRUSH_NONE)
			continue;
		if (crush[p] != CRUSH_NONE && usable(c, crush[p]) &&
		    below_osd_cap(c, e, crush[p]) && fits(c, e, p, crush[p])) {
			e[p] = crush[p];
			continue;
		}
		for (unsigned q = 0; q < n; q++) {
			if (crush[q] != CRUSH_NONE && usable(c, crush[q]) &&
			    below_osd_cap(c, e, crush[q]) &&
			    fits(c, e, p, crush[q])) {
				e[p] = crush[q];
				break;
			}
		}
	}
	for (unsigned p = 0; p < n; p++)
		if (e[p] == CRUSH_NONE)
			goto crush;
	if (!memcmp(e, crush, n * sizeof(*e)))
		goto crush;
	memcpy(out, e, n * sizeof(*e));
	return 1;
crush:
	memcpy(out, crush, n * sizeof(*out));
	return 0;
}

static int cmp_upmap(const void *a, const void *b)
{
	const struct map_upmap *x = a, *y = b;

	if (x->pool != y->pool)
		return x->pool < y->pool ? -1 : 1;
	return (x->pg > y->pg) - (x->pg < y->pg);
}

/* May the overrides of pool p of the old map carry over to pool q of the
 * new one?  Only if the PGs and their sets mean the same thing. */
static int same_pool(const struct map_pool *p, const struct map_pool *q)
{
	return p && p->k == q->k && p->m == q->m && p->domain == q->domain &&
	       p->pg_num == q->pg_num;
}

/* The overrides of one pool q of next, appended to *ups (room for every
 * PG of next was allocated). */
static int update_pool(const struct crush_tree *old_t,
		       const struct store_map *old,
		       const struct crush_tree *new_t,
		       const struct store_map *next,
		       const struct map_pool *q, struct map_upmap *ups,
		       uint32_t *n_ups)
{
	const struct map_pool *op = map_pool(old, q->id);
	uint32_t o[STORE_EC_MAX_SHARDS], oc[STORE_EC_MAX_SHARDS];
	uint32_t nc[STORE_EC_MAX_SHARDS], e[STORE_EC_MAX_SHARDS];
	struct pg_upmap_ctx c;
	unsigned n = (unsigned)q->k + q->m;
	int rc;

	if (!same_pool(op, q))
		return 0;
	rc = pg_upmap_init(&c, old, next, q);
	if (rc)
		return rc;
	for (uint32_t pg = 0; pg < q->pg_num; pg++) {
		if (pg_set(old_t, old, op, pg, o) < 0 ||
		    crush_map_pg(new_t, q, pg, 0, nc) < 0) {
			rc = -EINVAL;
			break;
		}
		/* Without an old override the old set is CRUSH's. */
		if (!map_upmap(old, op->id, pg))
			memcpy(oc, o, n * sizeof(*oc));
		else if (crush_map_pg(old_t, op, pg, 0, oc) < 0) {
			rc = -EINVAL;
			break;
		}
		if (pg_upmap_compute(&c, o, oc, nc, e) == 1) {
			struct map_upmap *u = &ups[(*n_ups)++];

			memset(u, 0, sizeof(*u));
			u->pool = q->id;
			u->pg = pg;
			memcpy(u->osds, e, n * sizeof(*e));
		}
	}
	pg_upmap_free(&c);
	return rc;
}

int pg_upmap_update(const struct crush_tree *old_t,
		    const struct store_map *old, struct store_map *next)
{
	struct crush_tree *new_t = NULL;
	struct map_upmap *ups = NULL;
	uint64_t total = map_total_pgs(next);
	uint32_t n_ups = 0;
	int rc;

	/* Drop the carried-over entries first: they may name OSDs the new
	 * map no longer has, which crush_build()'s map_check() refuses. */
	free(next->upmaps);
	next->upmaps = NULL;
	next->n_upmaps = 0;
	if (!old_t || !total)
		return 0;
	rc = crush_build(next, &new_t);
	if (rc)
		return rc;
	ups = malloc(total * sizeof(*ups));
	if (!ups) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < next->n_pools && rc == 0; i++)
		rc = update_pool(old_t, old, new_t, next, &next->pools[i], ups,
				 &n_ups);
	if (rc || !n_ups)
		goto out;
	qsort(ups, n_ups, sizeof(*ups), cmp_upmap);
	/* Shrink to what is used: the map is copied every epoch. */
	next->upmaps = realloc(ups, n_ups * sizeof(*ups));
	if (!next->upmaps)
		next->upmaps = ups;
	next->n_upmaps = n_ups;
	ups = NULL;
out:
	free(ups);
	crush_free(new_t);
	return rc;
}
