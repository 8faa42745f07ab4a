/*
 * recov_plan.c -- the recovery planner: see recov_plan.h.
 */
#include "recov_plan.h"
#include "crush.h"
#include "layout.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int recov_shard_cmp(const void *a, const void *b)
{
	const struct recov_shard *x = a, *y = b;

#define CMP(f)                                                                 \
	if (x->f != y->f)                                                      \
		return x->f < y->f ? -1 : 1
	CMP(e.id.ino);
	CMP(e.id.objno);
	CMP(e.id.version);
	CMP(e.id.index);
	CMP(osd);
#undef CMP
	return 0;
}

/* (ino, objno) of a shard against an object: <0, 0, >0. */
static int cmp_obj(const struct recov_shard *s, const struct recov_obj *o)
{
	if (s->e.id.ino != o->ino)
		return s->e.id.ino < o->ino ? -1 : 1;
	if (s->e.id.objno != o->objno)
		return s->e.id.objno < o->objno ? -1 : 1;
	return 0;
}

/* Growable arrays of the plan. */
static int push_job(struct recov_pg_plan *p, size_t *cap, const struct recov_job *j)
{
	if (p->n_jobs == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct recov_job *n = realloc(p->jobs, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->jobs = n;
		*cap = nc;
	}
	p->jobs[p->n_jobs++] = *j;
	return 0;
}

static int push_del(struct recov_pg_plan *p, size_t *cap, uint32_t osd,
		    const struct wire_shard_id *id, int garbage)
{
	if (p->n_dels == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct recov_del *n = realloc(p->dels, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->dels = n;
		*cap = nc;
	}
	p->dels[p->n_dels].osd = osd;
	p->dels[p->n_dels].id = *id;
	p->dels[p->n_dels].garbage = garbage;
	p->n_dels++;
	if (!garbage)
		p->c.surplus++;
	return 0;
}

static int push_whole(struct recov_pg_plan *p, size_t *cap,
		      const struct recov_job *j)
{
	if (p->n_whole == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct recov_job *n = realloc(p->whole, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->whole = n;
		*cap = nc;
	}
	p->whole[p->n_whole++] = *j;
	return 0;
}

struct caps {
	size_t jobs, dels, whole;
};

/* A shard version nobody references: garbage once past the grace. */
static int garbage(const struct recov_pg_in *in, struct recov_pg_plan *p,
		   struct caps *caps, const struct recov_shard *s)
{
	int old = (in->flags & RECOV_GC_NOW) ||
		  s->e.mtime_ns + in->grace_ns <= in->now_ns;

	if (in->ino && s->e.id.ino != in->ino)
		return 0;
	p->c.stale++;
	if (!old)
		return 0;
	p->c.stale_old++;
	return push_del(p, &caps->dels, s->osd, &s->e.id, 1);
}

/*
 * Mark the copies of the committed version that disagree with the rest:
 * wrong profile, a shard length that does not fit the object length, an
 * object length shorter than what was committed, or (by majority among
 * the others) a different object length.
 */
static void vote(const struct recov_pg_in *in, const struct recov_obj *o,
		 struct recov_shard *s, size_t n)
{
	uint32_t best_len = 0, best_votes = 0;

	for (size_t i = 0; i < n; i++) {
		const struct wire_shard_entry *e = &s[i].e;

		if (e->k != in->k || e->m != in->m || e->obj_len < o->length ||
		    e->shard_len != layout_shard_len(in->k, e->obj_len))
			s[i].bad = 1;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t votes = 0;

		if (s[i].bad)
			continue;
		for (size_t j = 0; j < n; j++)
			votes += !s[j].bad && s[j].e.obj_len == s[i].e.obj_len;
		if (votes > best_votes ||
		    (votes == best_votes && s[i].e.obj_len > best_len)) {
			best_votes = votes;
			best_len = s[i].e.obj_len;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!s[i].bad && s[i].e.obj_len != best_len)
			s[i].bad = 1;
}

static int add_drop(struct recov_job *j, uint32_t osd, uint8_t index)
{
	if (j->n_drops == RECOV_DROPS_MAX)
		return 0; /* the rest waits for the next check */
	j->drops[j->n_drops].osd = osd;
	j->drops[j->n_drops].index = index;
	j->n_drops++;
	return 0;
}

/* Plan one committed object whose copies of the committed version are
 * s[0 .. n) (sorted by index, then OSD). */
static int plan_object(const struct recov_pg_in *in, struct recov_pg_plan *p,
		       struct caps *caps, const struct recov_obj *o,
		       struct recov_shard *s, size_t n)
{
	unsigned nn = (unsigned)in->k + in->m, avail = 0, state = 0;
	size_t first[STORE_EC_MAX_SHARDS + 1];
	struct recov_job j;
	int rc, work = 0;

	memset(&j, 0, sizeof(j));
	j.ino = o->ino;
	j.objno = o->objno;
	j.version = o->version;
	j.k = in->k;
	j.m = in->m;
	p->c.objects++;
	p->c.shards += n;
	vote(in, o, s, n);
	for (size_t i = 0; i < n; i++) {
		if (s[i].bad) {
			p->c.corrupt++;
		} else if (!j.obj_len) {
			j.obj_len = s[i].e.obj_len;
			j.shard_len = s[i].e.shard_len;
		}
	}
	/* first[i]: where index i's copies start in s. */
	for (unsigned i = 0, at = 0; i <= nn; i++) {
		while (at < n && s[at].e.id.index < i)
			at++;
		first[i] = at;
	}
	for (unsigned i = 0; i < nn; i++) {
		uint32_t t = in->set[i];
		int in_place = 0;

		j.dst[i] = t;
		j.src[i] = CRUSH_NONE;
		for (size_t x = first[i]; x < first[i + 1]; x++) {
			if (s[x].bad)
				continue;
			if (s[x].osd == t && in->target[i] == RECOV_T_OK)
				in_place = 1;
			if (j.src[i] == CRUSH_NONE || s[x].osd == t)
				j.src[i] = s[x].osd;
		}
		avail += j.src[i] != CRUSH_NONE;
		if (in->target[i] == RECOV_T_UNKNOWN) {
			p->c.unknown++;
			continue;
		}
		if (in->target[i] != RECOV_T_OK) {
			state |= RECOV_S_DEGRADED;
			continue;
		}
		if (!in_place) {
			if (j.src[i] != CRUSH_NONE) {
				j.act[i] = RECOV_COPY;
				state |= RECOV_S_MISPLACED;
			} else {
				j.act[i] = RECOV_REBUILD;
				state |= RECOV_S_DEGRADED;
			}
			work = 1;
		}
		/* Every other copy of index i (good or bad) goes once shard
		 * i is in place: now if it already is, else after the job. */
		for (size_t x = first[i]; x < first[i + 1]; x++) {
			if (s[x].osd == t && !s[x].bad)
				continue;
			if (in_place) {
				state |= RECOV_S_MISPLACED;
				rc = push_del(p, &caps->dels, s[x].osd,
					      &s[x].e.id, 0);
				if (rc)
					return rc;
			} else if (s[x].osd != t) {
				add_drop(&j, s[x].osd, (uint8_t)i);
			}
		}
	}
	/* Indexes past k + m: not shards of this profile at all. */
	for (size_t x = first[nn]; x < n; x++) {
		rc = push_del(p, &caps->dels, s[x].osd, &s[x].e.id, 0);
		if (rc)
			return rc;
	}
	if (avail < in->k) {
		/* Unfound: nothing can be rebuilt, and nothing is deleted
		 * (the surplus deletes queued above are taken back).  With
		 * an OSD that could not be asked, it may only look so. */
		while (p->n_dels && !p->dels[p->n_dels - 1].garbage &&
		       p->dels[p->n_dels - 1].id.ino == o->ino &&
		       p->dels[p->n_dels - 1].id.objno == o->objno) {
			p->n_dels--;
			p->c.surplus--;
		}
		if (in->partial) {
			p->c.unknown++;
			return 0;
		}
		p->c.unfound++;
		if (p->n_unfound < ARRAY_SIZE(p->unfound))
			p->unfound[p->n_unfound++] = *o;
		return 0;
	}
	if (state & RECOV_S_DEGRADED)
		p->c.degraded++;
	if (state & RECOV_S_MISPLACED)
		p->c.misplaced++;
	j.state = state;
	if (!work)
		return state ? 0 : push_whole(p, &caps->whole, &j);
	for (unsigned i = 0; i < nn; i++) {
		if (j.act[i] == RECOV_NONE)
			continue;
		j.bytes += j.shard_len;
		if (j.act[i] == RECOV_COPY)
			p->c.moved++;
		else
			p->c.missing++;
	}
	p->c.bytes_left += j.bytes;
	return push_job(p, &caps->jobs, &j);
}

int recov_plan(struct recov_pg_in *in, struct recov_pg_plan *out)
{
	unsigned nn = (unsigned)in->k + in->m;
	struct caps caps = { 0, 0, 0 };
	size_t si = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (in->k < 1 || in->m < 1 || nn > STORE_EC_MAX_SHARDS)
		return -EINVAL;
	for (size_t i = 1; i < in->n_objs; i++)
		if (in->objs[i - 1].ino > in->objs[i].ino ||
		    (in->objs[i - 1].ino == in->objs[i].ino &&
		     in->objs[i - 1].objno >= in->objs[i].objno))
			return -EINVAL;
	if (in->n_shards)
		qsort(in->shards, in->n_shards, sizeof(*in->shards),
		      recov_shard_cmp);
	for (size_t oi = 0; oi <= in->n_objs && rc == 0; oi++) {
		const struct recov_obj *o = oi < in->n_objs ? &in->objs[oi] : NULL;
		size_t v0, v1;

		/* Shards of objects before o are unreferenced. */
		while (si < in->n_shards && rc == 0 &&
		       (!o || cmp_obj(&in->shards[si], o) < 0))
			rc = garbage(in, out, &caps, &in->shards[si++]);
		if (!o || rc)
			break;
		/* o's shards: versions before, the committed one, after. */
		while (si < in->n_shards && rc == 0 &&
		       cmp_obj(&in->shards[si], o) == 0 &&
		       in->shards[si].e.id.version < o->version)
			rc = garbage(in, out, &caps, &in->shards[si++]);
		v0 = si;
		while (si < in->n_shards && cmp_obj(&in->shards[si], o) == 0 &&
		       in->shards[si].e.id.version == o->version)
			si++;
		v1 = si;
		if (rc == 0 && (!in->ino || o->ino == in->ino))
			rc = plan_object(in, out, &caps, o, in->shards + v0,
					 v1 - v0);
		while (si < in->n_shards && rc == 0 &&
		       cmp_obj(&in->shards[si], o) == 0)
			rc = garbage(in, out, &caps, &in->shards[si++]);
	}
	if (rc)
		recov_plan_free(out);
	return rc;
}

void recov_plan_free(struct recov_pg_plan *p)
{
	free(p->jobs);
	free(p->dels);
	free(p->whole);
	memset(p, 0, sizeof(*p));
}
