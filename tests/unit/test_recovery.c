/*
 * test_recovery.c -- the recovery planner (osd/recov_plan.c): given a PG's
 * committed objects, the OSDs' inventories and the map's positions, what
 * it copies, rebuilds and deletes.  Hand-made cases for each rule, then a
 * random model: whatever the inventory, a plan never deletes the last good
 * copy of a shard or a young unreferenced one, and carrying a plan out
 * and planning again converges to a PG with nothing left to do.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crush.h"
#include "layout.h"
#include "../../osd/recov_plan.h"

#include <stdlib.h>
#include <string.h>

#define K 4
#define M 2
#define N (K + M)
#define SEC 1000000000ull
#define NOW (1000 * SEC)
#define GRACE (600 * SEC)
#define OBJ_LEN (4u << 20)

/* A PG under construction. */
struct pg {
	struct recov_obj objs[64];
	size_t n_objs;
	struct recov_shard shards[2048];
	size_t n_shards;
	uint32_t set[N];
	uint8_t target[N];
};

static void pg_init(struct pg *p)
{
	memset(p, 0, sizeof(*p));
	for (unsigned i = 0; i < N; i++) {
		p->set[i] = i; /* position i on osd.i */
		p->target[i] = RECOV_T_OK;
	}
}

static void add_obj(struct pg *p, uint64_t ino, uint64_t objno,
		    uint64_t version)
{
	struct recov_obj *o = &p->objs[p->n_objs++];

	o->ino = ino;
	o->objno = objno;
	o->version = version;
	o->length = OBJ_LEN;
}

static struct recov_shard *add_shard(struct pg *p, uint32_t osd, uint64_t ino,
				   uint64_t objno, uint64_t version,
				   unsigned index, uint64_t mtime)
{
	struct recov_shard *s = &p->shards[p->n_shards++];

	memset(s, 0, sizeof(*s));
	s->osd = osd;
	s->e.id.pool = 1;
	s->e.id.ino = ino;
	s->e.id.objno = objno;
	s->e.id.version = version;
	s->e.id.index = (uint8_t)index;
	s->e.k = K;
	s->e.m = M;
	s->e.obj_len = OBJ_LEN;
	s->e.shard_len = layout_shard_len(K, OBJ_LEN);
	s->e.mtime_ns = mtime;
	return s;
}

/* Every shard of (ino, objno, version) in place. */
static void add_whole(struct pg *p, uint64_t ino, uint64_t objno,
		      uint64_t version)
{
	for (unsigned i = 0; i < N; i++)
		add_shard(p, p->set[i], ino, objno, version, i, NOW - 3600 * SEC);
}

static void plan(struct pg *p, unsigned flags, uint64_t ino,
		 struct recov_pg_plan *out)
{
	struct recov_pg_in in;

	memset(&in, 0, sizeof(in));
	in.k = K;
	in.m = M;
	memcpy(in.set, p->set, sizeof(p->set));
	memcpy(in.target, p->target, sizeof(p->target));
	in.objs = p->objs;
	in.n_objs = p->n_objs;
	in.shards = p->shards;
	in.n_shards = p->n_shards;
	in.now_ns = NOW;
	in.grace_ns = GRACE;
	in.flags = flags;
	in.ino = ino;
	assert_int_equal(recov_plan(&in, out), 0);
}

static void test_clean(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	struct recov_pg_plan pl;

	(void)state;
	pg_init(p);
	for (uint64_t o = 0; o < 3; o++) {
		add_obj(p, 10, o, 100 + o);
		add_whole(p, 10, o, 100 + o);
	}
	plan(p, 0, 0, &pl);
	assert_int_equal(pl.n_jobs, 0);
	assert_int_equal(pl.n_dels, 0);
	assert_int_equal(pl.c.objects, 3);
	assert_int_equal(pl.c.shards, 3 * N);
	assert_int_equal(pl.c.degraded + pl.c.misplaced + pl.c.unfound, 0);
	assert_int_equal(pl.n_whole, 3);
	recov_plan_free(&pl);
	free(p);
}

/* An OSD was marked out: its position moved to osd.9, which holds
 * nothing, and no copy exists anywhere: rebuild. */
static void test_rebuild(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	struct recov_pg_plan pl;

	(void)state;
	pg_init(p);
	add_obj(p, 10, 0, 100);
	add_whole(p, 10, 0, 100);
	/* osd.2 is gone (not listed): drop its shard, move the position. */
	for (size_t i = 0; i < p->n_shards; i++)
		if (p->shards[i].osd == 2)
			p->shards[i] = p->shards[--p->n_shards];
	p->set[2] = 9;
	plan(p, 0, 0, &pl);
	assert_int_equal(pl.n_jobs, 1);
	assert_int_equal(pl.n_dels, 0);
	assert_int_equal(pl.jobs[0].act[2], RECOV_REBUILD);
	for (unsigned i = 0; i < N; i++)
		if (i != 2) {
			assert_int_equal(pl.jobs[0].act[i], RECOV_NONE);
			assert_int_equal(pl.jobs[0].src[i], i);
		}
	assert_int_equal(pl.jobs[0].dst[2], 9);
	assert_int_equal(pl.jobs[0].src[2], CRUSH_NONE);
	assert_int_equal(pl.jobs[0].n_drops, 0);
	assert_int_equal(pl.jobs[0].state, RECOV_S_DEGRADED);
	assert_int_equal(pl.c.degraded, 1);
	assert_int_equal(pl.c.missing, 1);
	assert_int_equal(pl.c.bytes_left, layout_shard_len(K, OBJ_LEN));
	recov_plan_free(&pl);
	free(p);
}

/* An OSD was added and took position 4: copy from the old home, delete
 * the old copy only afterwards.  Another object already moved: its old
 * copy goes at once. */
static void test_move(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	struct recov_pg_plan pl;

	(void)state;
	pg_init(p);
	add_obj(p, 10, 0, 100);
	add_whole(p, 10, 0, 100);
	add_obj(p, 10, 1, 101);
	add_whole(p, 10, 1, 101);
	p->set[4] = 7;
	add_shard(p, 7, 10, 1, 101, 4, NOW);
	plan(p, 0, 0, &pl);
	assert_int_equal(pl.n_jobs, 1);
	assert_int_equal(pl.jobs[0].objno, 0);
	assert_int_equal(pl.jobs[0].act[4], RECOV_COPY);
	assert_int_equal(pl.jobs[0].src[4], 4);
	assert_int_equal(pl.jobs[0].dst[4], 7);
	assert_int_equal(pl.jobs[0].n_drops, 1);
	assert_int_equal(pl.jobs[0].drops[0].osd, 4);
	assert_int_equal(pl.jobs[0].drops[0].index, 4);
	assert_int_equal(pl.jobs[0].state, RECOV_S_MISPLACED);
	assert_int_equal(pl.n_dels, 1);
	assert_int_equal(pl.dels[0].osd, 4);
	assert_int_equal(pl.dels[0].id.objno, 1);
	assert_int_equal(pl.dels[0].id.index, 4);
	assert_int_equal(pl.dels[0].garbage, 0);
	assert_int_equal(pl.c.misplaced, 2);
	assert_int_equal(pl.c.degraded, 0);
	assert_int_equal(pl.c.moved, 1);
	recov_plan_free(&pl);
	free(p);
}

/* A down position cannot be written: degraded, the others still work. */
static void test_down_and_unknown(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	struct recov_pg_plan pl;

	(void)state;
	pg_init(p);
	add_obj(p, 10, 0, 100);
	for (unsigned i = 0; i < N; i++)
		if (i != 1 && i != 3)
			add_shard(p, i, 10, 0, 100, i, NOW);
	/* The down OSD's shard is elsewhere: kept, not moved. */
	add_shard(p, 8, 10, 0, 100, 1, NOW);
	p->target[1] = RECOV_T_DOWN;
	p->target[5] = RECOV_T_UNKNOWN;
	plan(p, 0, 0, &pl);
	assert_int_equal(pl.n_jobs, 1);
	assert_int_equal(pl.jobs[0].act[1], RECOV_NONE);
	assert_int_equal(pl.jobs[0].act[3], RECOV_REBUILD);
	assert_int_equal(pl.jobs[0].act[5], RECOV_NONE);
	assert_int_equal(pl.jobs[0].n_drops, 0);
	assert_int_equal(pl.n_dels, 0);
	assert_int_equal(pl.c.unknown, 1);
	assert_int_equal(pl.c.degraded, 1);
	recov_plan_free(&pl);
	free(p);
}

/* Fewer than k good shards: unfound, and nothing at all is touched. */
static void test_unfound(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	struct recov_pg_plan pl;

	(void)state;
	pg_init(p);
	add_obj(p, 10, 0, 100);
	add_shard(p, 0, 10, 0, 100, 0, NOW);
	add_shard(p, 1, 10, 0, 100, 1, NOW);
	add_shard(p, 9, 10, 0, 100, 1, NOW); /* surplus, but kept */
	add_shard(p, 5, 10, 0, 100, 5, NOW);
	plan(p, 0, 0, &pl);
	assert_int_equal(pl.n_jobs, 0);
	assert_int_equal(pl.n_dels, 0);
	assert_int_equal(pl.c.unfound, 1);
	assert_int_equal(pl.n_unfound, 1);
	assert_int_equal(pl.unfound[0].ino, 10);
	recov_plan_free(&pl);
	/* With an OSD that could not be asked, it is only unknown. */
	{
		struct recov_pg_in in;

		memset(&in, 0, sizeof(in));
		in.k = K;
		in.m = M;
		memcpy(in.set, p->set, sizeof(p->set));
		in.objs = p->objs;
		in.n_objs = p->n_objs;
		in.shards = p->shards;
		in.n_shards = p->n_shards;
		in.partial = 1;
		assert_int_equal(recov_plan(&in, &pl), 0);
		assert_int_equal(pl.c.unfound, 0);
		assert_int_equal(pl.c.unknown, 1);
		assert_int_equal(pl.n_jobs + pl.n_dels, 0);
		recov_plan_free(&pl);
	}
	free(p);
}

/* Unreferenced versions: deleted past the grace, kept within it, all
 * deleted with GC_NOW; the committed version is never touched. */
static void test_garbage(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	struct recov_pg_plan pl;

	(void)state;
	pg_init(p);
	add_obj(p, 10, 0, 100);
	add_whole(p, 10, 0, 100);
	add_shard(p, 0, 10, 0, 99, 0, NOW - GRACE - SEC);  /* old version */
	add_shard(p, 1, 10, 0, 200, 1, NOW - SEC);         /* a writer's */
	add_shard(p, 2, 5, 3, 7, 2, NOW - 2 * GRACE);     /* deleted file */
	add_shard(p, 3, 11, 0, 7, 3, NOW);                /* uncommitted */
	plan(p, 0, 0, &pl);
	assert_int_equal(pl.n_jobs, 0);
	assert_int_equal(pl.c.stale, 4);
	assert_int_equal(pl.c.stale_old, 2);
	assert_int_equal(pl.n_dels, 2);
	for (size_t i = 0; i < pl.n_dels; i++) {
		assert_int_equal(pl.dels[i].garbage, 1);
		assert_true(pl.dels[i].id.version == 99 ||
			    pl.dels[i].id.version == 7);
		assert_true(pl.dels[i].id.ino != 11);
	}
	recov_plan_free(&pl);
	plan(p, RECOV_GC_NOW, 0, &pl);
	assert_int_equal(pl.n_dels, 4);
	assert_int_equal(pl.c.stale_old, 4);
	for (size_t i = 0; i < pl.n_dels; i++)
		assert_int_not_equal(pl.dels[i].id.version, 100);
	recov_plan_free(&pl);
	/* An inode filter leaves other inodes' garbage alone. */
	plan(p, RECOV_GC_NOW, 11, &pl);
	assert_int_equal(pl.n_dels, 1);
	assert_int_equal(pl.dels[0].id.ino, 11);
	assert_int_equal(pl.c.objects, 0);
	recov_plan_free(&pl);
	free(p);
}

/* A copy that failed its crc at its home is rewritten there; a bad copy
 * away from home is deleted; a copy whose length disagrees is bad. */
static void test_corrupt(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	struct recov_pg_plan pl;

	(void)state;
	pg_init(p);
	add_obj(p, 10, 0, 100);
	add_whole(p, 10, 0, 100);
	p->shards[2].bad = 1;                          /* index 2 on osd.2 */
	add_shard(p, 9, 10, 0, 100, 0, NOW)->bad = 1;  /* index 0 elsewhere */
	p->shards[4].e.obj_len = OBJ_LEN - 4096;       /* index 4: odd size */
	p->shards[4].e.shard_len = layout_shard_len(K, OBJ_LEN - 4096);
	plan(p, 0, 0, &pl);
	assert_int_equal(pl.c.corrupt, 3);
	assert_int_equal(pl.n_jobs, 1);
	assert_int_equal(pl.jobs[0].act[2], RECOV_REBUILD);
	assert_int_equal(pl.jobs[0].act[4], RECOV_REBUILD);
	assert_int_equal(pl.jobs[0].act[0], RECOV_NONE);
	assert_int_equal(pl.jobs[0].obj_len, OBJ_LEN);
	assert_int_equal(pl.jobs[0].n_drops, 0);
	assert_int_equal(pl.n_dels, 1);
	assert_int_equal(pl.dels[0].osd, 9);
	assert_int_equal(pl.dels[0].garbage, 0);
	recov_plan_free(&pl);
	free(p);
}

static void test_bad_input(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	struct recov_pg_plan pl;
	struct recov_pg_in in;

	(void)state;
	pg_init(p);
	add_obj(p, 10, 1, 100);
	add_obj(p, 10, 0, 100);
	memset(&in, 0, sizeof(in));
	in.k = K;
	in.m = M;
	in.objs = p->objs;
	in.n_objs = p->n_objs;
	assert_int_equal(recov_plan(&in, &pl), -EINVAL);
	in.n_objs = 0;
	in.k = 0;
	assert_int_equal(recov_plan(&in, &pl), -EINVAL);
	/* An empty PG: no objects, no shards, nothing to do. */
	in.k = K;
	in.objs = NULL;
	in.shards = NULL;
	assert_int_equal(recov_plan(&in, &pl), 0);
	assert_int_equal(pl.n_jobs + pl.n_dels + pl.c.objects, 0);
	recov_plan_free(&pl);
	/* Objects the OSDs know nothing of: all unfound. */
	in.objs = p->objs + 1;
	in.n_objs = 1;
	assert_int_equal(recov_plan(&in, &pl), 0);
	assert_int_equal(pl.c.unfound, 1);
	recov_plan_free(&pl);
	free(p);
}

/* ---- the random model ---------------------------------------------------*/

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/* Carry out a plan on the inventory as if every write and delete
 * succeeded. */
static void apply(struct pg *p, const struct recov_pg_plan *pl)
{
	for (size_t d = 0; d < pl->n_dels; d++)
		for (size_t i = 0; i < p->n_shards; i++)
			if (p->shards[i].osd == pl->dels[d].osd &&
			    !wire_shard_id_cmp(&p->shards[i].e.id,
					       &pl->dels[d].id)) {
				p->shards[i] = p->shards[--p->n_shards];
				break;
			}
	for (size_t j = 0; j < pl->n_jobs; j++) {
		const struct recov_job *jb = &pl->jobs[j];

		for (unsigned i = 0; i < N; i++) {
			struct recov_shard *s = NULL;

			if (jb->act[i] == RECOV_NONE)
				continue;
			for (size_t x = 0; x < p->n_shards; x++)
				if (p->shards[x].osd == jb->dst[i] &&
				    p->shards[x].e.id.ino == jb->ino &&
				    p->shards[x].e.id.objno == jb->objno &&
				    p->shards[x].e.id.version == jb->version &&
				    p->shards[x].e.id.index == i)
					s = &p->shards[x]; /* replaced */
			if (!s)
				s = add_shard(p, jb->dst[i], jb->ino, jb->objno,
					      jb->version, i, NOW);
			s->bad = 0;
			s->e.obj_len = jb->obj_len;
			s->e.shard_len = jb->shard_len;
		}
		for (uint32_t d = 0; d < jb->n_drops; d++)
			for (size_t x = 0; x < p->n_shards; x++)
				if (p->shards[x].osd == jb->drops[d].osd &&
				    p->shards[x].e.id.ino == jb->ino &&
				    p->shards[x].e.id.objno == jb->objno &&
				    p->shards[x].e.id.version == jb->version &&
				    p->shards[x].e.id.index ==
					    jb->drops[d].index) {
					p->shards[x] = p->shards[--p->n_shards];
					break;
				}
	}
	for (size_t i = 0; i < p->n_shards; i++)
		p->shards[i].bad = 0; /* the deep scrub's view is gone */
}

static int good_copies(const struct pg *p, const struct recov_obj *o,
		       unsigned index)
{
	int n = 0;

	for (size_t i = 0; i < p->n_shards; i++)
		n += p->shards[i].e.id.ino == o->ino &&
		     p->shards[i].e.id.objno == o->objno &&
		     p->shards[i].e.id.version == o->version &&
		     p->shards[i].e.id.index == index && !p->shards[i].bad;
	return n;
}

static void check_safe(const struct pg *p, const struct recov_pg_plan *pl)
{
	/* Deleting a committed version's shard happens only while another
	 * good copy of that index stays (the one in place). */
	for (size_t d = 0; d < pl->n_dels; d++) {
		const struct recov_del *dl = &pl->dels[d];

		for (size_t o = 0; o < p->n_objs; o++) {
			const struct recov_obj *ob = &p->objs[o];
			unsigned i = dl->id.index;

			if (dl->id.ino != ob->ino || dl->id.objno != ob->objno)
				continue;
			if (dl->id.version != ob->version)
				continue;
			assert_false(dl->garbage);
			if (i >= N)
				continue;
			assert_int_equal(p->target[i], RECOV_T_OK);
			assert_true(good_copies(p, ob, i) >= 1);
			assert_int_not_equal(dl->osd, p->set[i]);
		}
		if (dl->garbage)
			for (size_t i = 0; i < p->n_shards; i++)
				if (!wire_shard_id_cmp(&p->shards[i].e.id,
						       &dl->id) &&
				    p->shards[i].osd == dl->osd)
					assert_true(p->shards[i].e.mtime_ns +
							    GRACE <= NOW);
	}
	for (size_t j = 0; j < pl->n_jobs; j++) {
		const struct recov_job *jb = &pl->jobs[j];
		unsigned srcs = 0;

		for (unsigned i = 0; i < N; i++) {
			srcs += jb->src[i] != CRUSH_NONE;
			if (jb->act[i] != RECOV_NONE)
				assert_int_equal(p->target[i], RECOV_T_OK);
			if (jb->act[i] == RECOV_COPY)
				assert_int_not_equal(jb->src[i], CRUSH_NONE);
			if (jb->act[i] == RECOV_REBUILD)
				assert_int_equal(jb->src[i], CRUSH_NONE);
		}
		assert_true(srcs >= K);
		for (uint32_t d = 0; d < jb->n_drops; d++) {
			assert_int_not_equal(jb->drops[d].osd,
					     jb->dst[jb->drops[d].index]);
			assert_int_not_equal(jb->act[jb->drops[d].index],
					     RECOV_NONE);
		}
	}
}

static void test_model(void **state)
{
	struct pg *p = malloc(sizeof(*p));
	uint64_t copies = 0, rebuilds = 0, unfound = 0, surplus = 0, gc = 0;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct recov_pg_plan pl;
		unsigned downs = 0;

		pg_init(p);
		/* Positions on OSDs 0..11, distinct. */
		for (unsigned i = 0; i < N; i++) {
			uint32_t o;
			int dup;

			do {
				o = rnd(12);
				dup = 0;
				for (unsigned j = 0; j < i; j++)
					dup |= p->set[j] == o;
			} while (dup);
			p->set[i] = o;
			if (rnd(8) == 0 && downs < 2) {
				p->target[i] = RECOV_T_DOWN;
				downs++;
			}
		}
		for (unsigned o = 0, n = 1 + rnd(6); o < n; o++) {
			uint64_t ino = 2 + rnd(3), objno = o, v = 100 + rnd(3);

			if (p->n_objs &&
			    p->objs[p->n_objs - 1].ino >= ino)
				ino = p->objs[p->n_objs - 1].ino + 1;
			add_obj(p, ino, objno, v);
			/* Shards of this and other versions, anywhere. */
			for (unsigned s = 0, ns = rnd(14); s < ns; s++) {
				uint64_t ver = rnd(4) ? v : 100 + rnd(4);
				uint32_t osd = rnd(12);
				unsigned idx = rnd(N);
				struct recov_shard *sh;
				int dup = 0;

				for (size_t x = 0; x < p->n_shards; x++)
					dup |= p->shards[x].osd == osd &&
					       p->shards[x].e.id.ino == ino &&
					       p->shards[x].e.id.version ==
						       ver &&
					       p->shards[x].e.id.index == idx;
				for (unsigned i = 0; i < N; i++)
					dup |= p->set[i] == osd &&
					       p->target[i] == RECOV_T_DOWN;
				if (dup)
					continue;
				sh = add_shard(p, osd, ino, objno, ver, idx,
					       rnd(2) ? NOW - 2 * GRACE : NOW);
				sh->bad = rnd(20) == 0;
			}
		}
		plan(p, 0, 0, &pl);
		check_safe(p, &pl);
		unfound += pl.c.unfound;
		for (size_t j = 0; j < pl.n_jobs; j++)
			for (unsigned i = 0; i < N; i++) {
				copies += pl.jobs[j].act[i] == RECOV_COPY;
				rebuilds += pl.jobs[j].act[i] == RECOV_REBUILD;
			}
		for (size_t d = 0; d < pl.n_dels; d++) {
			gc += pl.dels[d].garbage;
			surplus += !pl.dels[d].garbage;
		}
		/* Converges: apply, plan again, at most three times. */
		for (int it = 0; it < 3 && (pl.n_jobs || pl.n_dels); it++) {
			apply(p, &pl);
			recov_plan_free(&pl);
			plan(p, 0, 0, &pl);
			check_safe(p, &pl);
		}
		assert_int_equal(pl.n_jobs, 0);
		assert_int_equal(pl.c.misplaced, 0);
		for (size_t d = 0; d < pl.n_dels; d++)
			assert_true(pl.dels[d].garbage);
		if (!downs) {
			assert_int_equal(pl.c.degraded, 0);
			assert_int_equal(pl.c.objects,
					 pl.n_whole + pl.c.unfound);
		}
		recov_plan_free(&pl);
	}
	/* The model reached every rule. */
	print_message("copies %llu rebuilds %llu unfound %llu surplus %llu "
		      "garbage %llu\n", (unsigned long long)copies,
		      (unsigned long long)rebuilds, (unsigned long long)unfound,
		      (unsigned long long)surplus, (unsigned long long)gc);
	assert_true(copies > 100 && rebuilds > 100 && unfound > 100 &&
		    surplus > 100 && gc > 100);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_rebuild),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_down_and_unknown),
		cmocka_unit_test(test_unfound),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
