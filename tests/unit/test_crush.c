/*
 * test_crush.c -- placement (common/crush.c): object -> PG -> OSD set.
 *
 * Every test builds real maps and checks what the contract in crush.h
 * promises: determinism (pinned by golden vectors, since any change moves
 * data), distinct hosts, the fallback when hosts are few, what out, down and
 * weight-0 OSDs receive, indep stability, bounded retries, stable_mod, host
 * ids that do not depend on array order, and weight-proportional balance.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crush.h"
#include "hash.h"
#include "map.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define POOL_ID 1

/* A map of hosts x per_host OSDs named "node<h>", OSD id h * per_host + j,
 * weights cycled over the ids, all up and in, and one pool. */
static void make_map(struct store_map *m, uint32_t hosts, uint32_t per_host,
		     const double *w, uint32_t nw, uint8_t k, uint8_t mm,
		     uint8_t domain, uint32_t pg_num)
{
	struct map_pool p = {
		.id = POOL_ID, .k = k, .m = mm, .min_size = k,
		.domain = domain, .pg_num = pg_num, .object_size = 4u << 20,
	};

	map_init(m);
	m->epoch = 1;
	for (uint32_t h = 0; h < hosts; h++) {
		for (uint32_t j = 0; j < per_host; j++) {
			uint32_t id = h * per_host + j;
			struct map_osd *o = map_add_osd(m, id);

			assert_non_null(o);
			o->up = o->in = 1;
			o->weight = w[id % nw];
			snprintf(o->host, sizeof(o->host), "node%u", h);
		}
	}
	assert_non_null(map_add_pool(m, &p));
}

static struct crush_tree *build(const struct store_map *m)
{
	struct crush_tree *t = NULL;

	assert_int_equal(crush_build(m, &t), 0);
	assert_non_null(t);
	assert_int_equal(crush_check(t), 0);
	return t;
}

static const char *host_of(const struct store_map *m, uint32_t osd)
{
	assert_true(osd < m->n_osds && m->osds[osd].exists);
	return m->osds[osd].host;
}

/* How many positions of set share a host with an earlier position. */
static uint32_t shared_hosts(const struct store_map *m, const uint32_t *set,
			     uint32_t n)
{
	uint32_t shared = 0;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < i; j++)
			if (set[i] != CRUSH_NONE && set[j] != CRUSH_NONE &&
			    !strcmp(host_of(m, set[i]), host_of(m, set[j]))) {
				shared++;
				break;
			}
	return shared;
}

static void assert_distinct_osds(const uint32_t *set, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < i; j++)
			if (set[i] != CRUSH_NONE)
				assert_int_not_equal(set[i], set[j]);
}

/* ---- object -> PG ------------------------------------------------------- */

static void test_pg_mask(void **state)
{
	(void)state;
	assert_int_equal(crush_pg_mask(0), 0);
	assert_int_equal(crush_pg_mask(1), 0);
	assert_int_equal(crush_pg_mask(2), 1);
	assert_int_equal(crush_pg_mask(3), 3);
	assert_int_equal(crush_pg_mask(4), 3);
	assert_int_equal(crush_pg_mask(5), 7);
	assert_int_equal(crush_pg_mask(1000), 1023);
	assert_int_equal(crush_pg_mask(1024), 1023);
	assert_int_equal(crush_pg_mask(1u << 31), (1u << 31) - 1);
	assert_int_equal(crush_pg_mask((1u << 31) + 1), UINT32_MAX);
	assert_int_equal(crush_pg_mask(UINT32_MAX), UINT32_MAX);
}

static void test_stable_mod(void **state)
{
	(void)state;
	for (uint32_t b = 1; b <= 300; b++) {
		uint32_t mask = crush_pg_mask(b), mask1 = crush_pg_mask(b + 1);

		for (uint32_t i = 0; i < 2000; i++) {
			uint32_t x = hash32_2(i, b);
			uint32_t r = crush_stable_mod(x, b, mask);
			uint32_t r1 = crush_stable_mod(x, b + 1, mask1);

			assert_true(r < b);
			/* Growing pg_num by one moves only inputs that land
			 * on the new PG: that is the point of stable_mod. */
			assert_true(r1 == r || r1 == b);
			if (!(b & (b - 1)))
				assert_int_equal(r, x & (b - 1));
		}
	}
}

static void test_object_pg(void **state)
{
	struct map_pool p = { .id = 3, .pg_num = 100 };
	uint32_t hits[100] = { 0 };

	(void)state;
	for (uint64_t ino = 1; ino < 200; ino++) {
		for (uint64_t objno = 0; objno < 50; objno++) {
			uint32_t pg = crush_object_pg(&p, ino, objno);
			uint32_t x = (uint32_t)hash_object(ino, objno);

			assert_true(pg < p.pg_num);
			assert_int_equal(pg, crush_stable_mod(x, 100, 127));
			hits[pg]++;
		}
	}
	for (uint32_t pg = 0; pg < 100; pg++)
		assert_true(hits[pg] > 0);
	p.pg_num = 1;
	assert_int_equal(crush_object_pg(&p, 7, 7), 0);
}

/* ---- PG -> OSDs --------------------------------------------------------- */

/*
 * Golden vectors: the placement of a fixed map.  Placement is a contract
 * between every party holding a map; if this test fails, a change to the
 * hashes, the ln table, the weights' fixed point or the draw order would
 * move every shard of an existing cluster.  Do not update the vectors
 * unless that is intended (and the on-disk format version changes).
 */
static void test_golden(void **state)
{
	static const double w[] = { 1, 2, 3 };
	static const uint32_t want[8][6] = {
		{ 11, 12, 3, 8, 17, 20 },
		{ 22, 12, 0, 10, 19, 8 },
		{ 12, 23, 4, 9, 8, 2 },
		{ 8, 1, 22, 4, 19, 14 },
		{ 11, 20, 16, 14, 4, 8 },
		{ 2, 10, 23, 16, 19, 7 },
		{ 22, 17, 13, 9, 2, 8 },
		{ 11, 6, 17, 12, 2, 19 },
	};
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[6];

	(void)state;
	make_map(&m, 8, 3, w, 3, 4, 2, MAP_DOMAIN_HOST, 64);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t pg = 0; pg < 8; pg++) {
		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 6);
		for (uint32_t i = 0; i < 6; i++)
			assert_int_equal(set[i], want[pg][i]);
	}
	crush_free(t);
	map_free(&m);
}

static void test_determinism(void **state)
{
	static const double w[] = { 1, 2, 4 };
	struct store_map m, c;
	struct map_pool *p;
	struct crush_tree *a, *b;
	uint32_t sa[6], sb[6];

	(void)state;
	make_map(&m, 12, 4, w, 3, 4, 2, MAP_DOMAIN_HOST, 512);
	map_init(&c);
	assert_int_equal(map_copy(&c, &m), 0);
	p = map_pool(&m, POOL_ID);
	a = build(&m);
	b = build(&c);
	assert_int_equal(crush_epoch(a), 1);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		assert_int_equal(crush_map_pg(a, p, pg, 0, sa), 6);
		assert_int_equal(crush_map_pg(b, p, pg, 0, sb), 6);
		assert_memory_equal(sa, sb, sizeof(sa));
		assert_int_equal(crush_map_pg(a, p, pg, 0, sb), 6);
		assert_memory_equal(sa, sb, sizeof(sa));
		assert_int_equal(crush_map_input(a, p, crush_pg_input(p, pg),
						 0, sb), 6);
		assert_memory_equal(sa, sb, sizeof(sa));
	}
	/* PG n of another pool lands elsewhere. */
	{
		struct map_pool q = *p;
		uint32_t same = 0;

		q.id = POOL_ID + 1;
		for (uint32_t pg = 0; pg < p->pg_num; pg++) {
			crush_map_pg(a, p, pg, 0, sa);
			crush_map_pg(a, &q, pg, 0, sb);
			same += !memcmp(sa, sb, sizeof(sa));
		}
		assert_true(same < p->pg_num / 50);
	}
	crush_free(a);
	crush_free(b);
	map_free(&c);
	map_free(&m);
}

struct thread_arg {
	const struct crush_tree *t;
	const struct map_pool *p;
	uint32_t (*sets)[6];
	int err;
};

static void *map_all(void *v)
{
	struct thread_arg *a = v;

	for (uint32_t pg = 0; pg < a->p->pg_num; pg++)
		if (crush_map_pg(a->t, a->p, pg, 0, a->sets[pg]) != 6)
			a->err = 1;
	return NULL;
}

/* The tree is read-only: threads mapping at once get the serial answer. */
static void test_threads(void **state)
{
	static const double w[] = { 1, 3 };
	static uint32_t serial[1024][6], par[4][1024][6];
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	pthread_t th[4];
	struct thread_arg args[4];

	(void)state;
	make_map(&m, 10, 3, w, 2, 4, 2, MAP_DOMAIN_HOST, 1024);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++)
		assert_int_equal(crush_map_pg(t, p, pg, 0, serial[pg]), 6);
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ t, p, par[i], 0 };
		assert_int_equal(pthread_create(&th[i], NULL, map_all,
						&args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].err, 0);
		assert_memory_equal(par[i], serial, sizeof(serial));
	}
	crush_free(t);
	map_free(&m);
}

static void test_distinct_hosts(void **state)
{
	static const double w[] = { 1, 2, 4 };
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[12];

	(void)state;
	/* 12 hosts for 8+4: every host in every PG, the tightest case. */
	make_map(&m, 12, 3, w, 3, 8, 4, MAP_DOMAIN_HOST, 2048);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 12);
		assert_int_equal(shared_hosts(&m, set, 12), 0);
	}
	crush_free(t);
	map_free(&m);
}

/* Fewer hosts than k + m: distinct OSDs, spread as evenly as possible. */
static void test_fallback(void **state)
{
	static const double w[] = { 1, 2 };
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[6];

	(void)state;
	make_map(&m, 3, 4, w, 2, 4, 2, MAP_DOMAIN_HOST, 1024);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		uint32_t per_host[3] = { 0 };

		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 6);
		assert_distinct_osds(set, 6);
		for (uint32_t i = 0; i < 6; i++)
			per_host[set[i] / 4]++;
		/* 3 hosts, 6 shards: 2 each, so a host loss costs 2 = m. */
		for (uint32_t h = 0; h < 3; h++)
			assert_int_equal(per_host[h], 2);
	}
	crush_free(t);

	/* Uneven hosts (1, 4 and 4 usable OSDs): a cap of 3 per host. */
	for (uint32_t id = 1; id < 4; id++)
		m.osds[id].in = 0;
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		uint32_t per_host[3] = { 0 };

		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 6);
		assert_distinct_osds(set, 6);
		for (uint32_t i = 0; i < 6; i++) {
			assert_true(m.osds[set[i]].in);
			per_host[set[i] / 4]++;
		}
		for (uint32_t h = 0; h < 3; h++)
			assert_true(per_host[h] <= 3);
	}
	crush_free(t);
	map_free(&m);

	/* One host, domain osd: six distinct OSDs of eight. */
	make_map(&m, 1, 8, w, 2, 4, 2, MAP_DOMAIN_OSD, 256);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 6);
		assert_distinct_osds(set, 6);
	}
	crush_free(t);
	map_free(&m);
}

/* Domain osd on many hosts: distinct OSDs, hosts may repeat. */
static void test_domain_osd(void **state)
{
	static const double w[] = { 1 };
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[6], shared = 0;

	(void)state;
	make_map(&m, 8, 4, w, 1, 4, 2, MAP_DOMAIN_OSD, 1024);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 6);
		assert_distinct_osds(set, 6);
		shared += shared_hosts(&m, set, 6) > 0;
	}
	/* With 8 hosts, 6 independent picks share a host most of the time;
	 * if the host rule leaked into domain osd this would be 0. */
	assert_true(shared > p->pg_num / 2);
	crush_free(t);
	map_free(&m);
}

/* Weight-0, out and (with CRUSH_SKIP_DOWN) down OSDs receive nothing. */
static void test_unusable_osds(void **state)
{
	static const double w[] = { 1, 2, 0, 4 };
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[6], on_down = 0;

	(void)state;
	make_map(&m, 10, 4, w, 4, 4, 2, MAP_DOMAIN_HOST, 4096);
	p = map_pool(&m, POOL_ID);
	m.osds[5].in = 0;            /* one OSD out */
	m.osds[13].up = 0;           /* one OSD down (but in) */
	for (uint32_t id = 36; id < 40; id++)
		m.osds[id].in = 0;   /* a whole host out */
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 6);
		assert_int_equal(shared_hosts(&m, set, 6), 0);
		for (uint32_t i = 0; i < 6; i++) {
			assert_true(m.osds[set[i]].weight > 0);
			assert_int_not_equal(set[i], 5);
			assert_true(set[i] < 36);
			on_down += set[i] == 13;
		}
		assert_int_equal(crush_map_pg(t, p, pg, CRUSH_SKIP_DOWN, set),
				 6);
		for (uint32_t i = 0; i < 6; i++)
			assert_int_not_equal(set[i], 13);
	}
	/* Without the flag a down OSD keeps its positions. */
	assert_true(on_down > 0);
	crush_free(t);
	map_free(&m);
}

/* Marking one OSD out moves only the positions that held it. */
static void test_indep_stability(void **state)
{
	static const double w[] = { 1, 2, 4 };
	static uint32_t before[4096][6];
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[6], held = 0, others = 0;
	const uint32_t victim = 21;

	(void)state;
	make_map(&m, 16, 4, w, 3, 4, 2, MAP_DOMAIN_HOST, 4096);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++)
		assert_int_equal(crush_map_pg(t, p, pg, 0, before[pg]), 6);
	crush_free(t);
	m.osds[victim].in = 0;
	m.epoch++;
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		int had = 0, moved_other = 0;

		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 6);
		assert_int_equal(shared_hosts(&m, set, 6), 0);
		for (uint32_t i = 0; i < 6; i++) {
			if (before[pg][i] == victim) {
				had = 1;
				assert_int_not_equal(set[i], victim);
			} else if (set[i] != before[pg][i]) {
				moved_other = 1;
			}
		}
		/* A PG that never drew the victim cannot change at all. */
		if (!had)
			assert_memory_equal(set, before[pg], sizeof(set));
		held += had;
		others += moved_other;
	}
	/* The victim (weight 1 of 148) held ~4096 * 6 / 148 = 166 PGs.
	 * Among those, only rare indep cascades (a position that had
	 * collided with the victim's host in a later round) may move a
	 * second position: ~6% here, ~17% without claims (crush.c). */
	assert_true(held > 100);
	assert_true(others <= held / 10);
	crush_free(t);
	map_free(&m);
}

/* Host ids come from names: adding a host (one whose name sorts first,
 * and whose OSDs would shift any index-derived id) moves only about its
 * share of the data, and the other hosts keep their ids. */
static void test_host_ids_stable(void **state)
{
	static const double w[] = { 1, 2 };
	static uint32_t before[4096][6];
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t ids[16], id, set[6], moved = 0, moved_to_new = 0;
	double total = 0, ideal;
	struct map_osd *o;

	(void)state;
	make_map(&m, 16, 2, w, 2, 4, 2, MAP_DOMAIN_HOST, 4096);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t h = 0; h < 16; h++) {
		char name[16];

		snprintf(name, sizeof(name), "node%u", h);
		assert_int_equal(crush_host_id(t, name, &ids[h]), 0);
		assert_int_equal(ids[h], hash32_str(name));
	}
	assert_int_equal(crush_host_id(t, "nosuchhost", &id), -ENOENT);
	for (uint32_t pg = 0; pg < p->pg_num; pg++)
		crush_map_pg(t, p, pg, 0, before[pg]);
	crush_free(t);
	for (uint32_t i = 0; i < m.n_osds; i++)
		total += m.osds[i].weight;

	o = map_add_osd(&m, 32);
	assert_non_null(o);
	o->up = o->in = 1;
	o->weight = 1.5;
	snprintf(o->host, sizeof(o->host), "aaa-new");
	m.epoch++;
	t = build(&m);
	for (uint32_t h = 0; h < 16; h++) {
		char name[16];

		snprintf(name, sizeof(name), "node%u", h);
		assert_int_equal(crush_host_id(t, name, &id), 0);
		assert_int_equal(id, ids[h]);
	}
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		crush_map_pg(t, p, pg, 0, set);
		for (uint32_t i = 0; i < 6; i++) {
			moved += set[i] != before[pg][i];
			moved_to_new += set[i] == 32;
		}
	}
	ideal = 1.5 / (total + 1.5) * 6 * p->pg_num;
	assert_true(moved_to_new > ideal * 0.7);
	assert_true(moved < ideal * 1.3);
	crush_free(t);
	map_free(&m);
}

/* Two host names whose hash32_str() collide (found by search): the one
 * sorting later is rehashed, and both hosts receive their share. */
static void test_host_id_collision(void **state)
{
	static const char *const names[4] = {
		"rack1-node90767", "rack1-node176042", "alpha", "beta",
	};
	struct map_pool pool = {
		.id = POOL_ID, .k = 2, .m = 1, .min_size = 2,
		.domain = MAP_DOMAIN_HOST, .pg_num = 4096,
		.object_size = 1u << 20,
	};
	struct store_map m;
	struct crush_tree *t;
	uint32_t a, b, set[3], count[8] = { 0 };

	(void)state;
	assert_int_equal(hash32_str(names[0]), hash32_str(names[1]));
	map_init(&m);
	for (uint32_t id = 0; id < 8; id++) {
		struct map_osd *o = map_add_osd(&m, id);

		assert_non_null(o);
		o->up = o->in = 1;
		o->weight = 1;
		snprintf(o->host, sizeof(o->host), "%s", names[id / 2]);
	}
	assert_non_null(map_add_pool(&m, &pool));
	t = build(&m);
	assert_int_equal(crush_host_id(t, names[1], &a), 0);
	assert_int_equal(crush_host_id(t, names[0], &b), 0);
	assert_int_equal(a, hash32_str(names[1]));
	assert_int_equal(b, hash32_2(a, 1));
	for (uint32_t pg = 0; pg < pool.pg_num; pg++) {
		assert_int_equal(crush_map_pg(t, &pool, pg, 0, set), 3);
		assert_int_equal(shared_hosts(&m, set, 3), 0);
		for (uint32_t i = 0; i < 3; i++)
			count[set[i] / 2]++;
	}
	/* 4096 * 3 / 4 = 3072 each; identical draws would starve one. */
	for (uint32_t h = 0; h < 4; h++)
		assert_true(count[h] > 2800 && count[h] < 3350);
	crush_free(t);
	map_free(&m);
}

/* Fewer usable OSDs than k + m (a 6-OSD 4+2 cluster that lost one or
 * two): every position filled, no OSD holding more than m shards of an
 * object, the load spread; with too few OSDs for that, distinct OSDs. */
static void test_fewer_osds_than_shards(void **state)
{
	static const double w[] = { 1 };
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[6], load[6];

	(void)state;
	make_map(&m, 6, 1, w, 1, 4, 2, MAP_DOMAIN_HOST, 512);
	p = map_pool(&m, POOL_ID);
	for (uint32_t out = 1; out <= 4; out++) {
		uint32_t usable = 6 - out, worst = 0;

		m.osds[out].in = 0; /* 1 .. out are out */
		t = build(&m);
		memset(load, 0, sizeof(load));
		for (uint32_t pg = 0; pg < p->pg_num; pg++) {
			int r = crush_map_pg(t, p, pg, 0, set);
			uint32_t filled = 0;

			for (uint32_t i = 0; i < 6; i++) {
				uint32_t c = 0;

				if (set[i] == CRUSH_NONE)
					continue;
				filled++;
				assert_true(set[i] == 0 || set[i] > out);
				load[set[i]]++;
				for (uint32_t j = 0; j < 6; j++)
					c += set[j] == set[i];
				assert_true(c <= p->m);
				worst = c > worst ? c : worst;
			}
			assert_int_equal((uint32_t)r, filled);
			if ((6 + usable - 1) / usable <= p->m)
				assert_int_equal(filled, 6);
			else
				assert_int_equal(filled, usable);
		}
		if ((6 + usable - 1) / usable <= p->m) {
			/* Each usable OSD carries about 6 / usable shards per
			 * PG: within 20% of the mean. */
			double mean = 6.0 * p->pg_num / usable;

			assert_int_equal(worst, 2);
			for (uint32_t o = 0; o < 6; o++)
				if (o == 0 || o > out)
					assert_true(fabs(load[o] - mean) <
						    0.2 * mean);
		}
		crush_free(t);
	}
	map_free(&m);
}

/* No usable OSD, or only a few: CRUSH_NONE, never a duplicate, no hang. */
static void test_bounded(void **state)
{
	static const double w[] = { 1 };
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[6], filled = 0, empty = 0;

	(void)state;
	make_map(&m, 8, 4, w, 1, 4, 2, MAP_DOMAIN_HOST, 256);
	p = map_pool(&m, POOL_ID);
	for (uint32_t i = 0; i < m.n_osds; i++)
		m.osds[i].in = 0;
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 0);
		for (uint32_t i = 0; i < 6; i++)
			assert_int_equal(set[i], CRUSH_NONE);
	}
	crush_free(t);

	/* Two OSDs in: two positions, the rest CRUSH_NONE. */
	m.osds[3].in = m.osds[17].in = 1;
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		int r = crush_map_pg(t, p, pg, 0, set), n = 0;

		assert_true(r >= 0 && r <= 2);
		for (uint32_t i = 0; i < 6; i++) {
			if (set[i] == CRUSH_NONE)
				continue;
			assert_true(set[i] == 3 || set[i] == 17);
			n++;
		}
		assert_int_equal(n, r);
		assert_distinct_osds(set, 6);
		filled += r;
	}
	/* The out OSDs keep their weight in the tree, so each round hits
	 * an in OSD with probability 1/16; most PGs still find both. */
	assert_true(filled > p->pg_num);
	crush_free(t);
	map_free(&m);

	/* One in OSD among 200 of equal weight: a position hits it with
	 * probability 1/200 per round, so many PGs exhaust all
	 * CRUSH_TOTAL_TRIES rounds; the restricted last draw must still
	 * place exactly one shard there, and nothing else. */
	make_map(&m, 50, 4, w, 1, 4, 2, MAP_DOMAIN_HOST, 256);
	p = map_pool(&m, POOL_ID);
	for (uint32_t i = 1; i < m.n_osds; i++)
		m.osds[i].in = 0;
	t = build(&m);
	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		uint32_t on0 = 0;

		assert_int_equal(crush_map_pg(t, p, pg, 0, set), 1);
		for (uint32_t i = 0; i < 6; i++) {
			assert_true(set[i] == CRUSH_NONE || set[i] == 0);
			on0 += set[i] == 0;
		}
		assert_int_equal(on0, 1);
		empty += set[0] == CRUSH_NONE;
	}
	/* Not always position 0: the position is the one that found it. */
	assert_true(empty > 0);
	crush_free(t);
	map_free(&m);

	/* All weights 0, and an empty map. */
	{
		static const double zero[] = { 0 };

		make_map(&m, 4, 2, zero, 1, 4, 2, MAP_DOMAIN_HOST, 16);
		p = map_pool(&m, POOL_ID);
		t = build(&m);
		assert_int_equal(crush_map_pg(t, p, 3, 0, set), 0);
		assert_int_equal(set[5], CRUSH_NONE);
		crush_free(t);
		map_free(&m);
		make_map(&m, 0, 0, zero, 1, 4, 2, MAP_DOMAIN_HOST, 16);
		p = map_pool(&m, POOL_ID);
		t = build(&m);
		assert_int_equal(crush_map_pg(t, p, 3, 0, set), 0);
		crush_free(t);
		map_free(&m);
	}
}

/* Shards per OSD follow weight on a small map. */
static void test_balance(void **state)
{
	static const double w[] = { 1, 2, 0, 3 };
	struct store_map m;
	struct map_pool *p;
	struct crush_tree *t;
	uint32_t set[6], count[64] = { 0 }, inputs = 60000;
	double total = 0;

	(void)state;
	make_map(&m, 16, 4, w, 4, 4, 2, MAP_DOMAIN_HOST, 1);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	for (uint32_t i = 0; i < m.n_osds; i++)
		total += m.osds[i].weight;
	for (uint32_t i = 0; i < inputs; i++) {
		assert_int_equal(crush_map_input(t, p, hash32_2(i, 99), 0,
						 set), 6);
		for (uint32_t s = 0; s < 6; s++)
			count[set[s]]++;
	}
	for (uint32_t i = 0; i < m.n_osds; i++) {
		double expect = 6.0 * inputs * m.osds[i].weight / total;

		if (!expect) {
			assert_int_equal(count[i], 0);
			continue;
		}
		/* Noise is 1/sqrt(expect) < 2.5% here; 12% fails only on a
		 * real bias (e.g. weights ignored: 1 vs 3 is 50%). */
		assert_true(fabs(count[i] / expect - 1) < 0.12);
	}
	crush_free(t);
	map_free(&m);
}

static void test_bad_args(void **state)
{
	static const double w[] = { 1 };
	struct store_map m;
	struct map_pool *p, q;
	struct crush_tree *t = NULL;
	uint32_t set[STORE_EC_MAX_SHARDS + 1];

	(void)state;
	make_map(&m, 4, 2, w, 1, 2, 1, MAP_DOMAIN_HOST, 16);
	p = map_pool(&m, POOL_ID);
	t = build(&m);
	set[0] = 12345;
	assert_int_equal(crush_map_pg(t, p, 16, 0, set), -EINVAL);
	assert_int_equal(set[0], 12345);
	assert_int_equal(crush_map_pg(t, p, 0, 0x80, set), -EINVAL);
	q = *p;
	q.domain = 7;
	assert_int_equal(crush_map_pg(t, &q, 0, 0, set), -EINVAL);
	q = *p;
	q.k = 30;
	q.m = 3;
	assert_int_equal(crush_map_pg(t, &q, 0, 0, set), -EINVAL);
	q.k = 0;
	q.m = 0;
	assert_int_equal(crush_map_pg(t, &q, 0, 0, set), -EINVAL);
	assert_int_equal(set[0], 12345);
	assert_int_equal(crush_map_pg(t, p, 15, 0, set), 3);
	crush_free(t);
	crush_free(NULL);

	t = NULL;
	m.osds[2].weight = NAN;
	assert_int_equal(crush_build(&m, &t), -EINVAL);
	m.osds[2].weight = 70000;
	assert_int_equal(crush_build(&m, &t), -ERANGE);
	assert_null(t);
	/* A tiny positive weight is not silently 0. */
	m.osds[2].weight = 1e-9;
	t = build(&m);
	crush_free(t);
	map_free(&m);
}

/* The vector hash straw2 uses must equal hash32_3 bit for bit. */
static void test_hash_many(void **state)
{
	uint32_t ids[77], out[77];

	(void)state;
	for (uint32_t i = 0; i < 77; i++)
		ids[i] = hash32_2(i, 5) ^ (i << 28);
	for (uint32_t n = 0; n <= 77; n++) {
		memset(out, 0, sizeof(out));
		hash32_3_many(0xdeadbeef, ids, n * 31, out, n);
		for (uint32_t i = 0; i < n; i++)
			assert_int_equal(out[i],
					 hash32_3(0xdeadbeef, ids[i], n * 31));
		for (uint32_t i = n; i < 77; i++)
			assert_int_equal(out[i], 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_mask),
		cmocka_unit_test(test_stable_mod),
		cmocka_unit_test(test_object_pg),
		cmocka_unit_test(test_hash_many),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_distinct_hosts),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_domain_osd),
		cmocka_unit_test(test_unusable_osds),
		cmocka_unit_test(test_indep_stability),
		cmocka_unit_test(test_host_ids_stable),
		cmocka_unit_test(test_host_id_collision),
		cmocka_unit_test(test_fewer_osds_than_shards),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
