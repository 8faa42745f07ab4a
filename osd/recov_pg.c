/*
 * recov_pg.c -- checking one placement group: the MDS's list of its
 * committed objects, every up OSD's inventory of it, (deep) each holder's
 * verification of its copies, the plan, the deletes it calls for, and its
 * jobs queued for the workers.  Runs on the coordinator thread; see
 * recov_int.h and docs/recovery.md.
 */
#include "recov_int.h"
#include "hash.h"
#include "pg.h"
#include "util.h"
#include "wire.h"
#include "wire_osd.h"
#include "wire_rec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Growable arrays. */
static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t nc;
	void *n;

	if (need <= *cap)
		return 0;
	nc = MAX(need, *cap ? *cap * 2 : 256);
	n = realloc(*p, nc * size);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = nc;
	return 0;
}

/* The committed objects of the PG, from the MDS, in pages.  Returns 0,
 * -ECANCELED (a newer map arrived) or another -errno. */
static int list_objects(struct recov *r, uint32_t pool, uint32_t pg,
			struct recov_obj **objs, size_t *n)
{
	struct wire_pg_objects q = { pool, pg, STORE_LIST_MAX, 0, 0, 0 };
	size_t cap = 0;
	int more = 1, rc = 0;

	*objs = NULL;
	*n = 0;
	while (more && rc == 0) {
		struct recov_batch *b = recov_batch_new(1);
		struct wire_pg_objects_reply rep;
		struct wire_pg_obj e;
		struct rpc_call *c;
		struct wbuf w;

		if (!b) {
			rc = -ENOMEM;
			break;
		}
		c = &b->calls[0];
		wbuf_init(&w);
		wire_enc_pg_objects(&w, &q);
		rc = recov_frame(r, c, WIRE_PG_OBJECTS, &w);
		wbuf_free(&w);
		if (rc) {
			recov_batch_free(b);
			break;
		}
		recov_batch_send(r, b, 0, CRUSH_NONE, RECOV_SMALL_TIMEOUT_MS);
		rc = recov_batch_wait(r, b);
		if (rc)
			break; /* abandoned: b is the call's now */
		rc = recov_done(r, c);
		if (rc == 0 && wire_dec_pg_objects_reply(rpc_reply_payload(c),
							 c->rhdr.payload_len,
							 &rep))
			rc = -EBADMSG;
		if (rc) {
			char why[128];

			recov_errtext(c, why, sizeof(why));
			log_ratelimited(&r->err_log, LOG_WARN,
					"%s: cannot list pg %u.%u at the MDS: "
					"%s; will retry", r->name, pool, pg,
					rc == -EBADMSG ? "malformed reply" :
							 why);
			recov_batch_free(b);
			break;
		}
		more = rep.more;
		rc = grow((void **)objs, &cap, *n + rep.count, sizeof(**objs));
		while (rc == 0 && wire_pg_objects_next(&rep, &e)) {
			struct recov_obj *o = &(*objs)[(*n)++];

			o->ino = e.ino;
			o->objno = e.objno;
			o->version = e.version;
			o->length = e.length;
			q.has_after = 1;
			q.after_ino = e.ino;
			q.after_objno = e.objno;
		}
		if (rep.count == 0)
			more = 0;
		recov_batch_free(b);
	}
	if (rc) {
		free(*objs);
		*objs = NULL;
		*n = 0;
	}
	return rc;
}

/* One OSD's inventory in progress. */
struct lister {
	uint32_t osd;
	int done, failed;
	struct wire_shard_list q;
};

/* Take one SHARD_LIST reply of lister l into the inventory. */
static int take_list(struct recov *r, struct lister *l, struct rpc_call *c,
		     struct recov_shard **out, size_t *n, size_t *cap)
{
	struct wire_shard_list_reply rep;
	struct wire_shard_entry e;
	int rc;

	if (recov_done(r, c) ||
	    wire_dec_shard_list_reply(rpc_reply_payload(c), c->rhdr.payload_len,
				      &rep)) {
		l->done = l->failed = 1;
		return 0;
	}
	rc = grow((void **)out, cap, *n + rep.count, sizeof(**out));
	while (rc == 0 && wire_shard_list_next(&rep, &e)) {
		struct recov_shard *s = &(*out)[(*n)++];

		s->osd = l->osd;
		s->e = e;
		s->bad = 0;
		l->q.has_after = 1;
		l->q.after = e.id;
	}
	l->done = !rep.more || rep.count == 0;
	return rc;
}

/* What every up OSD holds of the PG.  listed[osd] is set for the OSDs
 * that answered completely; returns 0, -ECANCELED (a newer map arrived),
 * -ENOMEM or -ESHUTDOWN. */
static int inventory(struct recov *r, uint32_t pool, uint32_t pg,
		     struct recov_shard **out, size_t *n, uint8_t *listed)
{
	struct lister *ls;
	size_t nl = 0, cap = 0;
	int rc = 0, busy = 1;

	*out = NULL;
	*n = 0;
	ls = calloc(r->map.n_osds ? r->map.n_osds : 1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->map.n_osds; i++) {
		if (!r->map.osds[i].exists || !r->map.osds[i].up)
			continue;
		ls[nl].osd = i;
		ls[nl].q.pool = pool;
		ls[nl].q.pg = pg;
		ls[nl].q.max = STORE_LIST_MAX;
		nl++;
	}
	/* Rounds: every OSD with more to list gets one request per round,
	 * at most RECOV_WINDOW at once. */
	while (busy && rc == 0) {
		busy = 0;
		for (size_t base = 0; base < nl && rc == 0;
		     base += RECOV_WINDOW) {
			size_t end = MIN(nl, base + RECOV_WINDOW);
			struct recov_batch *b = recov_batch_new(RECOV_WINDOW);

			if (!b) {
				rc = -ENOMEM;
				break;
			}
			for (size_t i = base; i < end; i++) {
				struct lister *l = &ls[i];
				struct wbuf w;

				if (l->done)
					continue;
				wbuf_init(&w);
				wire_enc_shard_list(&w, &l->q);
				if (recov_frame(r, &b->calls[i - base],
						WIRE_SHARD_LIST, &w))
					l->done = l->failed = 1;
				else
					recov_batch_send(r, b, (unsigned)(i - base),
							 l->osd,
							 RECOV_SMALL_TIMEOUT_MS);
				wbuf_free(&w);
			}
			rc = recov_batch_wait(r, b);
			if (rc)
				break; /* abandoned */
			for (size_t i = base; i < end; i++) {
				if (ls[i].done || !b->done[i - base])
					continue;
				if (rc == 0)
					rc = take_list(r, &ls[i],
						       &b->calls[i - base], out,
						       n, &cap);
				busy |= !ls[i].done;
			}
			recov_batch_free(b);
		}
	}
	for (size_t i = 0; i < nl; i++)
		if (!ls[i].failed && ls[i].done)
			listed[ls[i].osd] = 1;
	free(ls);
	return rc;
}

/* Is shard s a copy of a committed version (objs sorted)? */
static int committed(const struct recov_obj *objs, size_t n,
		     const struct recov_shard *s)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct recov_obj *o = &objs[mid];

		if (o->ino < s->e.id.ino ||
		    (o->ino == s->e.id.ino && o->objno < s->e.id.objno))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && objs[lo].ino == s->e.id.ino &&
	       objs[lo].objno == s->e.id.objno &&
	       objs[lo].version == s->e.id.version;
}

/* Deep: every holder reads its copies of committed versions and checks
 * their crcs (WIRE_GET_VERIFY: no data travels).  Bad copies are marked,
 * copies gone since the inventory removed.  Returns 0, 1 if some holder
 * could not answer, or -ECANCELED (a newer map arrived). */
static int verify(struct recov *r, const struct recov_obj *objs,
		  size_t n_objs, struct recov_shard *sh, size_t *n, uint64_t ino)
{
	size_t idx[RECOV_WINDOW];
	int unknown = 0;

	for (size_t base = 0; base < *n && !unknown;) {
		struct recov_batch *b = recov_batch_new(RECOV_WINDOW);
		unsigned used = 0;

		if (!b)
			return 1;
		while (base < *n && used < RECOV_WINDOW) {
			struct recov_shard *s = &sh[base];
			struct wire_shard_get q;
			struct wbuf w;

			if ((ino && s->e.id.ino != ino) ||
			    !committed(objs, n_objs, s)) {
				base++;
				continue;
			}
			if (recov_throttle(r, s->e.shard_len)) {
				unknown = 1;
				break;
			}
			memset(&q, 0, sizeof(q));
			q.id = s->e.id;
			q.flags = WIRE_GET_VERIFY;
			wbuf_init(&w);
			wire_enc_shard_get(&w, &q);
			if (recov_frame(r, &b->calls[used], WIRE_SHARD_GET,
					&w)) {
				unknown = 1;
			} else {
				recov_batch_send(r, b, used, s->osd,
						 RECOV_SHARD_TIMEOUT_MS);
				idx[used++] = base;
			}
			wbuf_free(&w);
			base++;
		}
		if (recov_batch_wait(r, b))
			return -ECANCELED;
		for (unsigned i = 0; i < used; i++) {
			struct recov_shard *s = &sh[idx[i]];
			int rc = recov_done(r, &b->calls[i]);

			if (rc == -EIO) {
				s->bad = 1; /* counted by the plan */
				pthread_mutex_lock(&r->mu);
				r->scrub_errors++;
				pthread_mutex_unlock(&r->mu);
				log_ratelimited(&r->corrupt_log, LOG_WARN,
						"%s: deep scrub: osd.%u holds a "
						"corrupt copy of shard %u of "
						"object %" PRIu64 " of inode "
						"%" PRIu64 " (version %" PRIx64
						"): it will be rewritten",
						r->name, s->osd, s->e.id.index,
						s->e.id.objno, s->e.id.ino,
						s->e.id.version);
			} else if (rc == -ENOENT) {
				s->osd = CRUSH_NONE; /* gone: dropped below */
			} else if (rc) {
				unknown = 1;
			}
		}
		recov_batch_free(b);
	}
	/* Drop the copies that vanished meanwhile. */
	for (size_t i = 0; i < *n;)
		if (sh[i].osd == CRUSH_NONE)
			sh[i] = sh[--*n];
		else
			i++;
	return unknown;
}

/* Carry out the plan's immediate deletes.  Returns the number that
 * failed (all of them if a newer map arrived meanwhile). */
static unsigned delete_now(struct recov *r, struct recov_run *run,
			   const struct recov_pg_plan *pl)
{
	unsigned failed = 0;

	for (size_t base = 0; base < pl->n_dels; base += RECOV_WINDOW) {
		size_t end = MIN(pl->n_dels, base + RECOV_WINDOW);
		struct recov_batch *b = recov_batch_new(RECOV_WINDOW);
		uint64_t gc = 0;

		if (!b)
			return (unsigned)(pl->n_dels - base);
		for (size_t i = base; i < end; i++) {
			struct wire_shard_delete d = { pl->dels[i].id, 0 };
			struct wbuf w;

			wbuf_init(&w);
			wire_enc_shard_delete(&w, &d);
			if (recov_frame(r, &b->calls[i - base],
					WIRE_SHARD_DELETE, &w))
				failed++;
			else
				recov_batch_send(r, b, (unsigned)(i - base),
						 pl->dels[i].osd,
						 RECOV_SMALL_TIMEOUT_MS);
			wbuf_free(&w);
		}
		if (recov_batch_wait(r, b))
			return failed + (unsigned)(pl->n_dels - base);
		for (size_t i = base; i < end; i++) {
			if (!b->done[i - base])
				continue;
			if (recov_done(r, &b->calls[i - base]))
				failed++;
			else if (pl->dels[i].garbage)
				gc++;
		}
		recov_batch_free(b);
		run->gc_deleted += gc;
		pthread_mutex_lock(&r->mu);
		r->shards_gc += gc;
		pthread_mutex_unlock(&r->mu);
	}
	return failed;
}

/* Is object (ino, objno) in the deep scrub's parity sample of pass p? */
static int sampled(const struct recov *r, const struct recov_pass *p,
		   const struct recov_job *j)
{
	if (p->flags & WIRE_SCRUB_PARITY_ALL)
		return 1;
	return (hash_object(j->ino, j->objno) ^ (p->seq * 0x9e3779b97f4a7c15ull))
		       % 100 < r->cfg.parity_pct;
}

static void log_unfound(struct recov *r, uint32_t pool, uint32_t pg,
			const struct recov_pg_plan *pl, unsigned k, unsigned n)
{
	for (size_t i = 0; i < pl->n_unfound; i++)
		log_ratelimited(&r->unfound_log, LOG_ERR,
				"%s: object %" PRIu64 " of inode %" PRIu64
				" (version %" PRIx64 ", pg %u.%u) is unfound: "
				"fewer than %u of its %u shards are on up OSDs; "
				"it cannot be read until its OSDs return",
				r->name, pl->unfound[i].objno,
				pl->unfound[i].ino, pl->unfound[i].version,
				pool, pg, k, n);
	if (pl->c.unfound > pl->n_unfound)
		log_ratelimited(&r->unfound_log, LOG_ERR,
				"%s: pg %u.%u: %" PRIu64 " objects unfound in "
				"all", r->name, pool, pg, pl->c.unfound);
}

void recov_check_pg(struct recov *r, struct recov_pass *p,
		  const struct recov_todo *todo)
{
	uint32_t set[STORE_EC_MAX_SHARDS], primary;
	const struct map_pool *pool = map_pool(&r->map, todo->pool);
	struct recov_run *run = calloc(1, sizeof(*run));
	struct recov_shard *shards = NULL;
	struct recov_obj *objs = NULL;
	uint8_t *listed = NULL;
	struct recov_pg_plan pl;
	struct recov_pg_in in;
	size_t n_objs = 0, n_shards = 0;
	int deep = (p->flags & WIRE_SCRUB_DEEP) && todo->attempt == 0;

	memset(&pl, 0, sizeof(pl));
	if (!run) {
		log_warn("%s: out of memory checking pg %u.%u", r->name,
			 todo->pool, todo->pg);
		return; /* the pass counts it as never started */
	}
	run->pass = p;
	run->pool = todo->pool;
	run->pg = todo->pg;
	run->attempt = todo->attempt;
	run->pending = 1;
	if (!pool || todo->pg >= pool->pg_num ||
	    pg_acting(r->crush, &r->map, pool, todo->pg, set, &primary)) {
		goto out; /* the pool went away: nothing to check */
	}
	/* A background pass checks only what is ours under this map. */
	if (p->kind == PASS_BG && primary != r->osd_id)
		goto out;
	listed = calloc(r->map.n_osds ? r->map.n_osds : 1, 1);
	if (!listed || list_objects(r, todo->pool, todo->pg, &objs, &n_objs) ||
	    inventory(r, todo->pool, todo->pg, &shards, &n_shards, listed)) {
		run->incomplete = 1;
		goto out;
	}
	/* A newer map makes this check moot: the PG is checked again under
	 * it (a background pass restarts; a scrub re-checks). */
	if (recov_map_waiting(r)) {
		run->incomplete = 1;
		goto out;
	}
	if (deep && verify(r, objs, n_objs, shards, &n_shards, p->ino)) {
		run->incomplete = 1;
		if (recov_map_waiting(r) || recov_stopping(r))
			goto out;
	}
	memset(&in, 0, sizeof(in));
	in.k = pool->k;
	in.m = pool->m;
	for (unsigned i = 0; i < (unsigned)pool->k + pool->m; i++) {
		const struct map_osd *o = set[i] == CRUSH_NONE ? NULL :
					  map_osd(&r->map, set[i]);

		in.set[i] = set[i];
		in.target[i] = !o ? RECOV_T_NONE : !o->up ? RECOV_T_DOWN :
			       listed[set[i]] ? RECOV_T_OK : RECOV_T_UNKNOWN;
	}
	for (uint32_t i = 0; i < r->map.n_osds; i++)
		if (r->map.osds[i].exists && r->map.osds[i].up && !listed[i])
			run->incomplete = in.partial = 1;
	in.objs = objs;
	in.n_objs = n_objs;
	in.shards = shards;
	in.n_shards = n_shards;
	in.now_ns = wall_ns();
	in.grace_ns = r->cfg.gc_grace_ms * 1000000ull;
	in.flags = (p->flags & WIRE_SCRUB_GC_NOW) ? RECOV_GC_NOW : 0;
	in.ino = p->ino;
	if (recov_plan(&in, &pl)) {
		run->incomplete = 1;
		goto out;
	}
	run->c = pl.c;
	run->corrupt += pl.c.corrupt;
	if (pl.c.unfound)
		log_unfound(r, todo->pool, todo->pg, &pl, pool->k,
			    (unsigned)pool->k + pool->m);
	pthread_mutex_lock(&r->mu);
	{
		struct recov_pgstat *st = recov_pgstat(r, todo->pool, todo->pg);

		if (st) {
			st->degraded = pl.c.degraded;
			st->misplaced = pl.c.misplaced;
			st->unfound = pl.c.unfound;
			st->bytes_left = pl.c.bytes_left;
		}
	}
	pthread_mutex_unlock(&r->mu);
	if (pl.c.surplus || pl.n_jobs)
		run->actions = 1;
	if (delete_now(r, run, &pl))
		run->failed = 1;
	for (size_t i = 0; i < pl.n_jobs; i++)
		if (recov_queue_job(r, run, todo->pool, &pl.jobs[i]))
			run->failed = 1;
	if (deep)
		for (size_t i = 0; i < pl.n_whole; i++) {
			if (!sampled(r, p, &pl.whole[i]) ||
			    (p->ino && pl.whole[i].ino != p->ino))
				continue;
			pl.whole[i].parity_check = 1;
			if (recov_queue_job(r, run, todo->pool, &pl.whole[i]))
				run->failed = 1;
		}
out:
	recov_plan_free(&pl);
	free(objs);
	free(shards);
	free(listed);
	recov_run_planned(r, run);
}
