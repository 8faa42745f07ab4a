/*
 * test_pg_upmap.c -- placement overrides (common/pg_upmap.c) and the one
 * placement function that applies them (pg_set, common/pg.c).
 *
 * Real maps and trees: adding a host moves one position per PG that CRUSH
 * gives the new OSD and nothing else, and the new OSD gets about its
 * share; an OSD going out moves only its own positions, and overrides
 * naming it are recomputed; a down OSD keeps its positions; E == CRUSH
 * stores nothing; and, over random sequences of changes, every set stays
 * on distinct OSDs and hosts and every map passes map_check().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crush.h"
#include "hash.h"
#include "map.h"
#include "pg.h"
#include "pg_upmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_ID 1
#define N 6 /* k + m of every pool here: 4 + 2 */

/* hosts x per_host OSDs on hosts "node<h>", weight 1, up and in. */
static void make_map(struct store_map *m, uint32_t hosts, uint32_t per_host,
		     uint32_t pg_num)
{
	struct map_pool p = {
		.id = POOL_ID, .k = 4, .m = 2, .min_size = 5,
		.domain = MAP_DOMAIN_HOST, .pg_num = pg_num,
		.object_size = 4u << 20,
	};

	map_init(m);
	m->epoch = 1;
	for (uint32_t h = 0; h < hosts; h++) {
		for (uint32_t j = 0; j < per_host; j++) {
			struct map_osd *o = map_add_osd(m, h * per_host + j);

			assert_non_null(o);
			o->up = o->in = 1;
			o->weight = 1;
			snprintf(o->host, sizeof(o->host), "node%u", h);
		}
	}
	assert_non_null(map_add_pool(m, &p));
	assert_int_equal(map_check(m), 0);
}

static struct map_osd *add_osd(struct store_map *m, uint32_t id,
			       const char *host)
{
	struct map_osd *o = map_add_osd(m, id);

	assert_non_null(o);
	o->up = o->in = 1;
	o->weight = 1;
	snprintf(o->host, sizeof(o->host), "%s", host);
	return o;
}

static struct crush_tree *build(const struct store_map *m)
{
	struct crush_tree *t = NULL;

	assert_int_equal(crush_build(m, &t), 0);
	return t;
}

/* Every PG's effective set under m, into sets[pg * N ..]. */
static void sets_of(const struct store_map *m, uint32_t *sets)
{
	const struct map_pool *p = map_pool(m, POOL_ID);
	struct crush_tree *t = build(m);

	for (uint32_t pg = 0; pg < p->pg_num; pg++)
		assert_true(pg_set(t, m, p, pg, sets + pg * N) >= 0);
	crush_free(t);
}

/* The epoch change the MDS makes: overrides of next from prev. */
static void update(const struct store_map *prev, struct store_map *next)
{
	struct crush_tree *t = build(prev);

	next->epoch = prev->epoch + 1;
	assert_int_equal(pg_upmap_update(t, prev, next), 0);
	assert_int_equal(map_check(next), 0);
	crush_free(t);
}

/* Usable hosts of m (a host with an OSD that is in and weighs > 0). */
static uint32_t usable_hosts(const struct store_map *m)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m->n_osds; i++) {
		const struct map_osd *o = &m->osds[i];
		int first = 1;

		if (!o->exists || !o->in || !(o->weight > 0))
			continue;
		for (uint32_t j = 0; j < i && first; j++)
			first = !(m->osds[j].exists && m->osds[j].in &&
				  m->osds[j].weight > 0 &&
				  !strcmp(m->osds[j].host, o->host));
		n += first;
	}
	return n;
}

/* Every set: distinct OSDs, every OSD usable, and distinct hosts while the
 * map has k + m usable hosts. */
static void check_sets(const struct store_map *m, const uint32_t *sets)
{
	const struct map_pool *p = map_pool(m, POOL_ID);
	int distinct = usable_hosts(m) >= N;

	for (uint32_t pg = 0; pg < p->pg_num; pg++) {
		const uint32_t *s = sets + pg * N;

		for (int i = 0; i < N; i++) {
			const struct map_osd *o;

			if (s[i] == CRUSH_NONE)
				continue;
			o = map_osd(m, s[i]);
			assert_non_null(o);
			assert_true(o->in && o->weight > 0);
			for (int j = 0; j < i; j++) {
				assert_int_not_equal(s[i], s[j]);
				if (distinct && s[j] != CRUSH_NONE)
					assert_string_not_equal(
						o->host, m->osds[s[j]].host);
			}
		}
	}
}

/* 6 OSDs for 4 + 2 and one goes out: CRUSH doubles shards up on the
 * five left (crush.c) and reshuffles many positions; the overrides move
 * only the lost OSD's positions, each to an OSD then holding 2 at most. */
static void test_out_of_k_plus_m(void **state)
{
	enum { PGS = 256 };
	struct store_map a, b;
	uint32_t *sa = malloc(PGS * N * 4), *sb = malloc(PGS * N * 4);

	(void)state;
	make_map(&a, 6, 1, PGS);
	map_init(&b);
	sets_of(&a, sa);
	assert_int_equal(map_copy(&b, &a), 0);
	b.osds[2].in = 0;
	update(&a, &b);
	assert_int_equal(map_check(&b), 0);
	sets_of(&b, sb);
	for (uint32_t pg = 0; pg < PGS; pg++) {
		for (int i = 0; i < N; i++) {
			uint32_t o = sb[pg * N + i], same = 0;

			assert_int_not_equal(o, CRUSH_NONE);
			assert_int_not_equal(o, 2);
			if (sa[pg * N + i] != 2)
				assert_int_equal(o, sa[pg * N + i]);
			for (int j = 0; j < N; j++)
				same += sb[pg * N + j] == o;
			assert_true(same <= 2);
		}
	}
	map_free(&a);
	map_free(&b);
	free(sa);
	free(sb);
}

/* A 7th host joins 6 (4 + 2): every PG changes at most one position, only
 * to the new OSD, exactly where CRUSH gives it the PG; it gets ~1/7. */
static void test_add_host(void **state)
{
	enum { PGS = 1024 };
	struct store_map a, b;
	uint32_t *sa = malloc(PGS * N * 4), *sb = malloc(PGS * N * 4);
	uint32_t crush[N], moved = 0, on_new = 0;
	struct crush_tree *t;

	(void)state;
	make_map(&a, 6, 1, PGS);
	map_init(&b);
	assert_int_equal(map_copy(&b, &a), 0);
	add_osd(&b, 6, "newhost");
	update(&a, &b);
	assert_true(b.n_upmaps > 0);
	sets_of(&a, sa);
	sets_of(&b, sb);
	check_sets(&b, sb);
	t = build(&b);
	for (uint32_t pg = 0; pg < PGS; pg++) {
		uint32_t changed = 0;

		assert_true(crush_map_pg(t, map_pool(&b, POOL_ID), pg, 0,
					 crush) == N);
		for (int i = 0; i < N; i++) {
			if (sa[pg * N + i] == sb[pg * N + i])
				continue;
			changed++;
			assert_int_equal(sb[pg * N + i], 6);
			/* Where CRUSH puts it, not elsewhere. */
			assert_int_equal(crush[i], 6);
		}
		assert_true(changed <= 1);
		moved += changed;
		for (int i = 0; i < N; i++)
			on_new += sb[pg * N + i] == 6;
		/* An override only where CRUSH's set differs. */
		if (map_upmap(&b, POOL_ID, pg))
			assert_memory_not_equal(crush, sb + pg * N,
						sizeof(crush));
		else
			assert_memory_equal(crush, sb + pg * N, sizeof(crush));
	}
	crush_free(t);
	/* Moved = what the new OSD received; ideal 1/7 of 6144 shards is
	 * 878 (binomial sigma ~11). */
	assert_int_equal(moved, on_new);
	assert_true(on_new > 820 && on_new < 940);
	free(sa);
	free(sb);
	map_free(&a);
	map_free(&b);
}

/* Then an OSD goes out: only its positions move; overrides that named it
 * are recomputed without it.  Down (not out) moves nothing. */
static void test_out_and_down(void **state)
{
	enum { PGS = 512 };
	struct store_map a, b, c, d;
	uint32_t *sb = malloc(PGS * N * 4), *sc = malloc(PGS * N * 4);
	uint32_t named = 0;

	(void)state;
	make_map(&a, 6, 2, PGS);
	map_init(&b);
	map_init(&c);
	map_init(&d);
	assert_int_equal(map_copy(&b, &a), 0);
	add_osd(&b, 12, "newhost");
	add_osd(&b, 13, "newhost2");
	update(&a, &b);
	assert_true(b.n_upmaps > 0);
	for (uint32_t i = 0; i < b.n_upmaps; i++)
		for (int j = 0; j < N; j++)
			named += b.upmaps[i].osds[j] == 4;
	assert_true(named > 0);
	sets_of(&b, sb);
	/* Down but in: nothing moves, the overrides carry over. */
	assert_int_equal(map_copy(&d, &b), 0);
	d.osds[4].up = 0;
	update(&b, &d);
	sets_of(&d, sc);
	assert_memory_equal(sb, sc, PGS * N * 4);
	assert_int_equal(d.n_upmaps, b.n_upmaps);
	/* Out: only osd.4's positions move. */
	assert_int_equal(map_copy(&c, &b), 0);
	c.osds[4].in = 0;
	update(&b, &c);
	sets_of(&c, sc);
	check_sets(&c, sc);
	for (uint32_t i = 0; i < PGS * N; i++) {
		if (sb[i] == 4)
			assert_int_not_equal(sc[i], 4);
		else
			assert_int_equal(sb[i], sc[i]);
	}
	for (uint32_t i = 0; i < c.n_upmaps; i++)
		for (int j = 0; j < N; j++)
			assert_int_not_equal(c.upmaps[i].osds[j], 4);
	/* A stale override naming an out OSD is not applied (CRUSH is). */
	{
		struct crush_tree *t;
		const struct map_upmap *u = NULL;
		uint32_t set[N], crush[N];

		d.osds[4].in = 0;
		for (uint32_t i = 0; i < d.n_upmaps && !u; i++)
			for (int j = 0; j < N; j++)
				if (d.upmaps[i].osds[j] == 4)
					u = &d.upmaps[i];
		assert_non_null(u);
		t = build(&d);
		assert_int_equal(pg_set(t, &d, map_pool(&d, POOL_ID), u->pg,
					set), N);
		assert_int_equal(crush_map_pg(t, map_pool(&d, POOL_ID), u->pg,
					      0, crush), N);
		assert_memory_equal(set, crush, sizeof(set));
		crush_free(t);
	}
	free(sb);
	free(sc);
	map_free(&a);
	map_free(&b);
	map_free(&c);
	map_free(&d);
}

/* The rule on hand-made sets: E == CRUSH stores nothing; a lost position
 * takes CRUSH's OSD; a gainer never lands on a host already used; nothing
 * unusable is kept. */
static void test_compute(void **state)
{
	struct store_map old, m;
	struct pg_upmap_ctx c;
	uint32_t out[N];
	const uint32_t o[N] = { 0, 1, 2, 3, 4, 5 };

	(void)state;
	/* Hosts node0..node6, one OSD each, plus osd.7 in node0. */
	make_map(&old, 7, 1, 64);
	map_init(&m);
	assert_int_equal(map_copy(&m, &old), 0);
	add_osd(&m, 7, "node0");
	assert_int_equal(pg_upmap_init(&c, &old, &m, map_pool(&m, POOL_ID)),
			 0);
	assert_int_equal(c.host_cap, 1);
	/* Same as CRUSH: nothing to store. */
	assert_int_equal(pg_upmap_compute(&c, o, o, o, out), 0);
	assert_memory_equal(out, o, sizeof(o));
	/* CRUSH reshuffles without a gainer: keep the old set. */
	{
		const uint32_t n[N] = { 1, 0, 2, 3, 4, 5 };

		assert_int_equal(pg_upmap_compute(&c, o, o, n, out), 1);
		assert_memory_equal(out, o, sizeof(o));
	}
	/* A cascade brings osd.6 (it did not gain): not moved in. */
	{
		const uint32_t n[N] = { 0, 1, 2, 6, 4, 3 };

		assert_int_equal(pg_upmap_compute(&c, o, o, n, out), 1);
		assert_memory_equal(out, o, sizeof(o));
	}
	/* osd.7 (new, on node0) at position 2: node0 is held by position
	 * 0, so it may not go there (and there is no hole). */
	{
		const uint32_t n[N] = { 6, 1, 7, 3, 4, 5 };

		assert_int_equal(pg_upmap_compute(&c, o, o, n, out), 1);
		assert_memory_equal(out, o, sizeof(o));
	}
	/* osd.7 where CRUSH also moves node0's position to it. */
	{
		const uint32_t n[N] = { 7, 1, 2, 3, 4, 6 };
		const uint32_t e[N] = { 7, 1, 2, 3, 4, 5 };

		assert_int_equal(pg_upmap_compute(&c, o, o, n, out), 1);
		assert_memory_equal(out, e, sizeof(e));
	}
	pg_upmap_free(&c);
	/* osd.3 out: its position takes CRUSH's OSD for it, and if that
	 * makes E == CRUSH nothing is stored. */
	m.osds[3].in = 0;
	assert_int_equal(pg_upmap_init(&c, &old, &m, map_pool(&m, POOL_ID)),
			 0);
	{
		const uint32_t n[N] = { 0, 1, 2, 6, 4, 5 };
		const uint32_t n2[N] = { 0, 2, 1, 6, 4, 5 };
		const uint32_t e2[N] = { 0, 1, 2, 6, 4, 5 };

		assert_int_equal(pg_upmap_compute(&c, o, o, n, out), 0);
		assert_memory_equal(out, n, sizeof(n));
		/* With a reshuffle too: the hole takes CRUSH's OSD for
		 * it, the rest stays. */
		assert_int_equal(pg_upmap_compute(&c, o, o, n2, out), 1);
		assert_memory_equal(out, e2, sizeof(e2));
	}
	/* A hole nothing fits: CRUSH decides. */
	{
		const uint32_t n[N] = { 0, 1, 2, CRUSH_NONE, 4, 5 };

		assert_int_equal(pg_upmap_compute(&c, o, o, n, out), 0);
		assert_memory_equal(out, n, sizeof(n));
	}
	pg_upmap_free(&c);
	map_free(&old);
	map_free(&m);
}

/* Random sequences of changes (add an OSD to a new or an existing host,
 * out, in, down, reweight, rm of an out OSD), each followed by the MDS's
 * update: every map passes map_check(), every set has distinct OSDs, all
 * usable, and distinct hosts while there are k + m usable hosts. */
static void test_random_changes(void **state)
{
	enum { PGS = 128, STEPS = 60 };
	uint32_t *s = malloc(PGS * N * 4);
	uint64_t rnd = 12345;

	(void)state;
	for (int run = 0; run < 4; run++) {
		struct store_map cur, next;
		uint32_t next_id = 8, next_host = 8;

		make_map(&cur, 8, 1, PGS);
		map_init(&next);
		for (int step = 0; step < STEPS; step++) {
			uint32_t id, op;
			struct map_osd *o;

			assert_int_equal(map_copy(&next, &cur), 0);
			rnd = hash32_2((uint32_t)rnd, (uint32_t)step) |
			      (rnd << 32);
			op = (uint32_t)rnd % 7;
			id = (uint32_t)(rnd >> 8) % next.n_osds;
			o = map_osd(&next, id);
			if (op == 0 && next_id < 40) {
				char h[16];

				snprintf(h, sizeof(h), "node%u", next_host++);
				add_osd(&next, next_id++, h);
			} else if (op == 1 && next_id < 40) {
				char h[16];

				snprintf(h, sizeof(h), "node%u",
					 (uint32_t)(rnd >> 16) % next_host);
				add_osd(&next, next_id++, h);
			} else if (op == 2 && o && usable_hosts(&next) > N) {
				o->in = 0;
			} else if (op == 3 && o) {
				o->in = 1;
			} else if (op == 4 && o) {
				o->up = !o->up;
			} else if (op == 5 && o) {
				o->weight = 0.5 + (double)((rnd >> 20) % 4);
			} else if (op == 6 && o && !o->in) {
				memset(o, 0, sizeof(*o));
				while (next.n_osds &&
				       !next.osds[next.n_osds - 1].exists)
					next.n_osds--;
			}
			update(&cur, &next);
			sets_of(&next, s);
			check_sets(&next, s);
			map_free(&cur);
			cur = next;
			map_init(&next);
		}
		map_free(&cur);
	}
	free(s);
}

/* map_check() on overrides: sorted, unique, known pool, pg < pg_num,
 * existing and distinct OSDs, zeros past k + m. */
static void test_map_check(void **state)
{
	struct store_map m;
	struct map_upmap u[2] = {
		{ .pool = POOL_ID, .pg = 3, .osds = { 0, 1, 2, 3, 4, 5 } },
		{ .pool = POOL_ID, .pg = 9, .osds = { 5, 4, 3, 2, 1, 0 } },
	};

	(void)state;
	make_map(&m, 6, 1, 16);
	m.upmaps = malloc(sizeof(u));
	m.n_upmaps = 2;
	memcpy(m.upmaps, u, sizeof(u));
	assert_int_equal(map_check(&m), 0);
	assert_non_null(map_upmap(&m, POOL_ID, 9));
	assert_null(map_upmap(&m, POOL_ID, 4));
	assert_null(map_upmap(&m, 2, 3));
	m.upmaps[1].pg = 3; /* duplicate */
	assert_int_equal(map_check(&m), -EINVAL);
	m.upmaps[1].pg = 2; /* unsorted */
	assert_int_equal(map_check(&m), -EINVAL);
	m.upmaps[1].pg = 16; /* past pg_num */
	assert_int_equal(map_check(&m), -EINVAL);
	m.upmaps[1].pg = 9;
	m.upmaps[1].pool = 2; /* no such pool */
	assert_int_equal(map_check(&m), -EINVAL);
	m.upmaps[1].pool = POOL_ID;
	m.upmaps[1].osds[0] = 6; /* no such OSD */
	assert_int_equal(map_check(&m), -EINVAL);
	m.upmaps[1].osds[0] = 4; /* twice: allowed (at most m = 2) */
	assert_int_equal(map_check(&m), 0);
	m.upmaps[1].osds[2] = 4; /* three times: more than m */
	assert_int_equal(map_check(&m), -EINVAL);
	m.upmaps[1].osds[2] = 3;
	m.upmaps[1].osds[0] = 5;
	m.upmaps[1].osds[6] = 1; /* past k + m */
	assert_int_equal(map_check(&m), -EINVAL);
	m.upmaps[1].osds[6] = 0;
	assert_int_equal(map_check(&m), 0);
	map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_host),
		cmocka_unit_test(test_out_and_down),
		cmocka_unit_test(test_out_of_k_plus_m),
		cmocka_unit_test(test_compute),
		cmocka_unit_test(test_random_changes),
		cmocka_unit_test(test_map_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
