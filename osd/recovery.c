/*
 * recovery.c -- the recovery agent's threads, passes and counters: see
 * recovery.h, recov_int.h and docs/recovery.md.
 *
 * The coordinator thread owns the map and the passes.  Each turn it
 * adopts a newer map if the loop handed one over (a new epoch supersedes
 * the background pass and starts another over the PGs this OSD is now
 * primary for), collects the runs whose jobs have finished (a PG that had
 * anything to do is checked again, up to RECOV_RECHECKS times, so that what
 * a pass reports is what it verified, not what it hoped), notices passes
 * that are complete, and checks the next PG: requested scrubs first, then
 * the background pass, which also starts by itself every scrub_interval.
 * Workers take jobs (one object each) from a bounded queue.
 */
#include "recov_int.h"
#include "conf.h"
#include "pg.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void recov_config_default(struct recov_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_active = RECOV_MAX_ACTIVE_DEFAULT;
	c->max_bps = 0;
	c->gc_grace_ms = RECOV_GC_GRACE_MS_DEFAULT;
	c->scrub_interval_ms = RECOV_SCRUB_INTERVAL_MS_DEFAULT;
	c->deep_interval_ms = RECOV_DEEP_INTERVAL_MS_DEFAULT;
	c->parity_pct = RECOV_PARITY_PCT_DEFAULT;
	c->timeout_ms = RECOV_SHARD_TIMEOUT_MS;
}

int recov_config_load(const struct conf *conf, struct recov_config *c, char *err,
		    size_t errlen)
{
	uint64_t v;

	recov_config_default(c);
	if (conf_get_u64(conf, "recovery_max_active", c->max_active, &v) ||
	    v < 1 || v > RECOV_MAX_ACTIVE_MAX) {
		snprintf(err, errlen, "recovery_max_active wants a number of "
			 "objects from 1 to %d", RECOV_MAX_ACTIVE_MAX);
		return -EINVAL;
	}
	c->max_active = (unsigned)v;
	if (conf_get_size(conf, "recovery_max_bytes_per_sec", 0, &c->max_bps)) {
		snprintf(err, errlen, "recovery_max_bytes_per_sec wants a size "
			 "(100M; 0 for no limit)");
		return -EINVAL;
	}
	if (conf_get_ms(conf, "gc_grace", c->gc_grace_ms, &c->gc_grace_ms) ||
	    conf_get_ms(conf, "scrub_interval", c->scrub_interval_ms,
			&c->scrub_interval_ms) ||
	    conf_get_ms(conf, "deep_scrub_interval", c->deep_interval_ms,
			&c->deep_interval_ms)) {
		snprintf(err, errlen, "gc_grace, scrub_interval and "
			 "deep_scrub_interval want durations (10m, 60s, 168h; "
			 "deep_scrub_interval 0 turns deep scrubs off)");
		return -EINVAL;
	}
	if (c->scrub_interval_ms < 1000)
		c->scrub_interval_ms = 1000;
	if (conf_get_u64(conf, "deep_scrub_parity_pct", c->parity_pct, &v) ||
	    v > 100) {
		snprintf(err, errlen, "deep_scrub_parity_pct wants a percentage "
			 "(0 to 100)");
		return -EINVAL;
	}
	c->parity_pct = (unsigned)v;
	return 0;
}

static void wake_loop(struct recov *r)
{
	uint64_t one = 1;

	if (r->wake_fd >= 0 && write(r->wake_fd, &one, sizeof(one)) < 0)
		return; /* saturated: the loop wakes anyway */
}

/* ---- per-PG state --------------------------------------------------------*/

struct recov_pgstat *recov_pgstat(struct recov *r, uint32_t pool, uint32_t pg)
{
	for (uint32_t i = 0; i < r->n_pools; i++)
		if (r->pools[i].id == pool)
			return pg < r->pools[i].pg_num ? &r->pools[i].pgs[pg] :
							 NULL;
	return NULL;
}

/* Recompute which PGs are ours under the (new) map; keep the state of
 * PGs that stay ours.  With r->mu held. */
static int pools_update(struct recov *r)
{
	const struct store_map *m = &r->map;

	for (uint32_t i = 0; i < m->n_pools; i++) {
		const struct map_pool *p = &m->pools[i];
		struct recov_pool *rp = NULL;

		for (uint32_t j = 0; j < r->n_pools; j++)
			if (r->pools[j].id == p->id)
				rp = &r->pools[j];
		if (rp && rp->pg_num != p->pg_num) {
			free(rp->pgs);
			rp->pgs = NULL;
		}
		if (!rp) {
			if (r->n_pools == STORE_MAX_POOLS)
				return -E2BIG;
			rp = &r->pools[r->n_pools++];
			memset(rp, 0, sizeof(*rp));
			rp->id = p->id;
		}
		if (!rp->pgs) {
			rp->pgs = calloc(p->pg_num ? p->pg_num : 1,
					 sizeof(*rp->pgs));
			if (!rp->pgs)
				return -ENOMEM;
			rp->pg_num = p->pg_num;
		}
		for (uint32_t pg = 0; pg < p->pg_num; pg++) {
			uint32_t set[STORE_EC_MAX_SHARDS], pri = CRUSH_NONE;
			struct recov_pgstat *st = &rp->pgs[pg];

			pg_acting(r->crush, m, p, pg, set, &pri);
			/* A PG that changes hands starts from nothing. */
			if (st->mine != (pri == r->osd_id) ||
			    pri != r->osd_id)
				memset(st, 0, sizeof(*st));
			st->mine = pri == r->osd_id;
		}
	}
	return 0;
}

/* ---- passes --------------------------------------------------------------*/

static int todo_push(struct recov_pass *p, uint32_t pool, uint32_t pg,
		     unsigned attempt)
{
	if (p->n_todo == p->cap_todo) {
		size_t nc = p->cap_todo ? p->cap_todo * 2 : 64;
		struct recov_todo *n = realloc(p->todo, nc * sizeof(*n));

		if (!n)
			return -ENOMEM;
		p->todo = n;
		p->cap_todo = nc;
	}
	p->todo[p->n_todo].pool = pool;
	p->todo[p->n_todo].pg = pg;
	p->todo[p->n_todo].attempt = attempt;
	p->n_todo++;
	return 0;
}

static void pass_free(struct recov_pass *p)
{
	if (p) {
		free(p->todo);
		free(p);
	}
}

/* A new pass over the PGs this OSD is primary for (pool 0: every pool),
 * or over one PG.  With r->mu held. */
static struct recov_pass *pass_new(struct recov *r, int kind, unsigned flags,
				 uint32_t pool, uint32_t pg, uint64_t ino)
{
	struct recov_pass *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->kind = kind;
	p->flags = flags;
	p->ino = ino;
	p->epoch = r->epoch;
	p->seq = ++r->pass_seq;
	p->started_ms = now_ms();
	if (pg != WIRE_PG_ALL)
		return todo_push(p, pool, pg, 0) ? (pass_free(p), NULL) : p;
	for (uint32_t i = 0; i < r->n_pools; i++) {
		const struct recov_pool *rp = &r->pools[i];

		if (pool && rp->id != pool)
			continue;
		for (uint32_t g = 0; g < rp->pg_num; g++)
			if (rp->pgs[g].mine && todo_push(p, rp->id, g, 0)) {
				pass_free(p);
				return NULL;
			}
	}
	return p;
}

static void start_bg(struct recov *r)
{
	unsigned flags = 0;
	uint64_t now = now_ms();

	if (r->cfg.deep_interval_ms &&
	    now - r->last_deep_ms >= r->cfg.deep_interval_ms) {
		flags |= WIRE_SCRUB_DEEP;
		r->last_deep_ms = now;
	}
	r->bg = pass_new(r, PASS_BG, flags, 0, WIRE_PG_ALL, 0);
	if (!r->bg)
		r->next_bg_ms = now + RECOV_RETRY_MS;
}

/* A newer map handed over by the loop: adopt it.  With r->mu held (it is
 * dropped while the placement tree is built). */
static void adopt_map(struct recov *r)
{
	struct store_map m = r->next_map;
	struct crush_tree *t = NULL;

	map_init(&r->next_map);
	__atomic_store_n(&r->have_next, 0, __ATOMIC_RELAXED);
	if (m.epoch <= r->epoch) {
		map_free(&m);
		return;
	}
	pthread_mutex_unlock(&r->mu);
	if (crush_build(&m, &t)) {
		log_warn("%s: cannot build the placement tree of map epoch "
			 "%" PRIu64 "; recovery keeps epoch %" PRIu64,
			 r->name, m.epoch, r->epoch);
		map_free(&m);
		pthread_mutex_lock(&r->mu);
		return;
	}
	pthread_rwlock_wrlock(&r->map_lock);
	map_free(&r->map);
	r->map = m;
	crush_free(r->crush);
	r->crush = t;
	pthread_rwlock_unlock(&r->map_lock);
	pthread_mutex_lock(&r->mu);
	__atomic_store_n(&r->epoch, m.epoch, __ATOMIC_RELAXED);
	if (pools_update(r))
		log_warn("%s: out of memory tracking placement groups",
			 r->name);
	/* The background pass restarts at the new epoch. */
	if (r->bg) {
		r->bg->superseded = 1;
		r->bg->next = r->dead;
		r->dead = r->bg;
		r->bg = NULL;
	}
	start_bg(r);
}

static void log_pass(struct recov *r, const struct recov_pass *p,
		     const struct wire_scrub_reply *s)
{
	double secs = (double)(now_ms() - p->started_ms) / 1000.0;

	if (p->kind == PASS_SCRUB) {
		log_info("%s: scrub%s of %u pgs done in %.1f s: %" PRIu64
			 " objects, %" PRIu64 " shards checked; %" PRIu64
			 " missing, %" PRIu64 " misplaced, %" PRIu64 " stale (%"
			 PRIu64 " deleted), %" PRIu64 " corrupt; %" PRIu64
			 " repaired, %" PRIu64 " unrepairable", r->name,
			 (p->flags & WIRE_SCRUB_DEEP) ? " (deep)" : "", s->pgs,
			 secs, s->objects, s->shards, s->missing, s->misplaced,
			 s->stale, s->stale_deleted, s->corrupt, s->repaired,
			 s->unrepairable);
		return;
	}
	/* A background pass speaks when it did something, found damage, or
	 * left a different number of objects not whole than the last one:
	 * a degraded cluster is not re-announced every scrub_interval. */
	if (s->missing || s->misplaced || s->stale_deleted || s->corrupt ||
	    s->unrepairable != r->last_unwhole ||
	    (p->flags & WIRE_SCRUB_DEEP))
		log_info("%s: %s pass at epoch %" PRIu64 " done in %.1f s: %u "
			 "pgs, %" PRIu64 " objects; %" PRIu64 " shards "
			 "rebuilt or moved, %" PRIu64 " garbage deleted, %"
			 PRIu64 " corrupt, %" PRIu64 " objects not whole",
			 r->name, (p->flags & WIRE_SCRUB_DEEP) ? "deep" :
			 "recovery", p->epoch, secs, s->pgs, s->objects,
			 s->repaired, s->stale_deleted, s->corrupt,
			 s->unrepairable);
	r->last_unwhole = s->unrepairable;
}

/* A run's jobs are done: account for it, check the PG again if it did
 * anything, else close it.  With r->mu held. */
static void run_finished(struct recov *r, struct recov_run *run)
{
	struct recov_pass *p = run->pass;
	struct wire_scrub_reply *s = &p->rep;
	int again = (run->actions || run->failed || run->incomplete) &&
		    run->attempt < RECOV_RECHECKS && !p->superseded &&
		    !r->stopping;

	if (run->attempt == 0) {
		s->pgs++;
		s->objects += run->c.objects;
		s->shards += run->c.shards;
		s->missing += run->c.missing;
		s->misplaced += run->c.moved + run->c.surplus;
		s->stale += run->c.stale;
	}
	s->corrupt += run->corrupt;
	s->repaired += run->repaired;
	s->stale_deleted += run->gc_deleted;
	if (s->stale_deleted > s->stale)
		s->stale = s->stale_deleted;
	p->inflight--;
	if (again && todo_push(p, run->pool, run->pg, run->attempt + 1) == 0) {
		free(run);
		return;
	}
	/* Final: what this check found is what is left. */
	s->unrepairable += run->c.unfound + run->c.degraded +
			   run->parity_bad +
			   (run->actions ? run->c.misplaced : 0);
	if (run->failed || run->incomplete || run->actions)
		p->unsettled = 1;
	free(run);
}

/* Is pass p finished?  Then close it.  With r->mu held. */
static int pass_done(struct recov_pass *p)
{
	return p->next_todo == p->n_todo && p->inflight == 0;
}

static void close_passes(struct recov *r)
{
	struct recov_pass **pp;

	/* Superseded passes wait only for their runs. */
	for (pp = &r->dead; *pp;) {
		struct recov_pass *p = *pp;

		if (p->inflight == 0) {
			*pp = p->next;
			pass_free(p);
		} else {
			pp = &p->next;
		}
	}
	if (r->bg && pass_done(r->bg)) {
		struct recov_pass *p = r->bg;

		log_pass(r, p, &p->rep);
		if (!p->unsettled && p->epoch == r->epoch) {
			r->pass_epoch = p->epoch;
			r->hb_due = 1;
			wake_loop(r);
		}
		r->next_bg_ms = now_ms() + (p->unsettled ? RECOV_RETRY_MS :
					    r->cfg.scrub_interval_ms);
		r->bg = NULL;
		pass_free(p);
	}
	for (pp = &r->scrubs; *pp;) {
		struct recov_pass *p = *pp;

		if (!pass_done(p)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		p->rep.epoch = r->epoch;
		log_pass(r, p, &p->rep);
		p->next = r->done;
		r->done = p;
		wake_loop(r);
	}
}

/* The next PG to check, or 0. */
static int next_todo(struct recov *r, struct recov_pass **pp, struct recov_todo *t)
{
	struct recov_pass *p;

	for (p = r->scrubs; p; p = p->next)
		if (p->next_todo < p->n_todo)
			break;
	if (!p && r->bg && r->bg->next_todo < r->bg->n_todo)
		p = r->bg;
	if (!p)
		return 0;
	*t = p->todo[p->next_todo++];
	p->inflight++;
	*pp = p;
	return 1;
}

static void *coord_main(void *arg)
{
	struct recov *r = arg;

	pthread_mutex_lock(&r->mu);
	while (!r->stopping) {
		struct recov_pass *p;
		struct recov_todo t;

		if (r->have_next)
			adopt_map(r);
		while (r->finished) {
			struct recov_run *run = r->finished;

			r->finished = run->next;
			run_finished(r, run);
		}
		close_passes(r);
		if (!r->bg && r->epoch && now_ms() >= r->next_bg_ms)
			start_bg(r);
		if (next_todo(r, &p, &t)) {
			pthread_mutex_unlock(&r->mu);
			recov_check_pg(r, p, &t);
			pthread_mutex_lock(&r->mu);
			continue;
		}
		if (r->have_next || r->finished)
			continue;
		{
			uint64_t now = now_ms(), wait = 1000;
			struct timespec ts;

			if (!r->bg && r->epoch)
				wait = r->next_bg_ms > now ?
					       MIN(wait, r->next_bg_ms - now) :
					       1;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&r->cv, &r->mu, &ts);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- jobs ----------------------------------------------------------------*/

int recov_queue_job(struct recov *r, struct recov_run *run, uint32_t pool,
		  const struct recov_job *job)
{
	struct recov_jobq *q = malloc(sizeof(*q));

	if (!q)
		return -ENOMEM;
	q->job = *job;
	q->run = run;
	q->pool = pool;
	q->epoch = r->epoch;
	q->next = NULL;
	pthread_mutex_lock(&r->mu);
	while (!r->stopping && r->jq_len >= 2 * r->cfg.max_active)
		pthread_cond_wait(&r->qcv, &r->mu);
	if (r->stopping) {
		pthread_mutex_unlock(&r->mu);
		free(q);
		return -ESHUTDOWN;
	}
	run->pending++;
	if (r->jq_tail)
		r->jq_tail->next = q;
	else
		r->jq_head = q;
	r->jq_tail = q;
	r->jq_len++;
	pthread_cond_signal(&r->jcv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

/* A run lost a reference (with r->mu held). */
static void run_put(struct recov *r, struct recov_run *run)
{
	if (--run->pending)
		return;
	run->next = r->finished;
	r->finished = run;
	pthread_cond_signal(&r->cv);
}

void recov_run_planned(struct recov *r, struct recov_run *run)
{
	pthread_mutex_lock(&r->mu);
	run_put(r, run);
	pthread_mutex_unlock(&r->mu);
}

static void *worker_main(void *arg)
{
	struct recov *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct recov_job_result res;
		struct recov_jobq *q;
		struct recov_pgstat *st;

		while (!r->stopping && !r->jq_head)
			pthread_cond_wait(&r->jcv, &r->mu);
		q = r->jq_head;
		if (!q)
			break; /* stopping, queue empty */
		r->jq_head = q->next;
		if (!r->jq_head)
			r->jq_tail = NULL;
		r->jq_len--;
		r->jobs_active++;
		pthread_cond_signal(&r->qcv);
		pthread_mutex_unlock(&r->mu);
		if (!recov_stopping(r))
			recov_run_job(r, q, &res);
		else
			memset(&res, 0, sizeof(res));
		pthread_mutex_lock(&r->mu);
		r->jobs_active--;
		r->recovery_bytes += res.bytes;
		r->shards_recovered += res.rebuilt;
		r->shards_moved += res.written - res.rebuilt;
		r->scrub_errors += res.corrupt;
		q->run->repaired += res.written;
		q->run->corrupt += res.corrupt;
		q->run->parity_bad += res.parity_bad;
		if (!res.ok)
			q->run->failed = 1;
		if (res.written)
			q->run->actions = 1;
		st = recov_pgstat(r, q->pool, q->run->pg);
		if (st && res.ok && !q->job.parity_check) {
			st->degraded -= MIN(st->degraded,
					    !!(q->job.state & RECOV_S_DEGRADED));
			st->misplaced -= MIN(st->misplaced,
					     !!(q->job.state & RECOV_S_MISPLACED));
		}
		if (st)
			st->bytes_left -= MIN(st->bytes_left, res.bytes);
		run_put(r, q->run);
		free(q);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* ---- the loop's side -----------------------------------------------------*/

int recov_start(const struct recov_params *prm, struct recov **out)
{
	struct recov *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	r->cfg = *prm->cfg;
	if (!r->cfg.max_active)
		r->cfg.max_active = RECOV_MAX_ACTIVE_DEFAULT;
	r->osd_id = prm->osd_id;
	snprintf(r->name, sizeof(r->name), "osd.%u", prm->osd_id);
	snprintf(r->mds_addr, sizeof(r->mds_addr), "%s", prm->mds_addr);
	r->wake_fd = prm->wake_fd;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	pthread_cond_init(&r->jcv, NULL);
	pthread_cond_init(&r->qcv, NULL);
	pthread_rwlock_init(&r->map_lock, NULL);
	pthread_rwlock_init(&r->eng_lock, NULL);
	pthread_mutex_init(&r->tb_mu, NULL);
	pthread_mutex_init(&r->codec_mu, NULL);
	map_init(&r->map);
	map_init(&r->next_map);
	r->tb_ns = now_ns();
	r->last_deep_ms = now_ms();
	rc = rpc_engine_create(&r->eng);
	if (rc)
		goto fail;
	r->workers = calloc(r->cfg.max_active, sizeof(*r->workers));
	if (!r->workers) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = -pthread_create(&r->coord, NULL, coord_main, r);
	if (rc)
		goto fail;
	r->threads_started = 1;
	for (unsigned i = 0; i < r->cfg.max_active; i++) {
		rc = -pthread_create(&r->workers[i], NULL, worker_main, r);
		if (rc)
			break;
		r->n_workers++;
	}
	if (rc) {
		recov_free(r);
		return rc;
	}
	*out = r;
	return 0;
fail:
	rpc_engine_destroy(r->eng);
	free(r->workers);
	map_free(&r->map);
	map_free(&r->next_map);
	free(r);
	return rc;
}

void recov_set_map(struct recov *r, const struct store_map *m)
{
	pthread_mutex_lock(&r->mu);
	if (m->epoch > r->epoch &&
	    (!r->have_next || m->epoch > r->next_map.epoch) &&
	    map_copy(&r->next_map, m) == 0) {
		__atomic_store_n(&r->have_next, 1, __ATOMIC_RELAXED);
		pthread_cond_signal(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
}

int recov_scrub(struct recov *r, const struct wire_scrub *q, void *cookie)
{
	struct recov_pass *p;
	const struct map_pool *pool;
	int rc = 0;

	pthread_mutex_lock(&r->mu);
	pool = map_pool(&r->map, q->pool);
	if (r->stopping)
		rc = -ESHUTDOWN;
	else if (!r->epoch)
		rc = -EAGAIN;
	else if (!pool || (q->pg != WIRE_PG_ALL && q->pg >= pool->pg_num))
		rc = -ENOENT;
	if (rc == 0) {
		p = pass_new(r, PASS_SCRUB, q->flags, q->pool, q->pg, q->ino);
		if (!p) {
			rc = -ENOMEM;
		} else {
			struct recov_pass **pp = &r->scrubs;

			p->cookie = cookie;
			while (*pp)
				pp = &(*pp)->next;
			*pp = p;
			pthread_cond_signal(&r->cv);
		}
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

int recov_poll(struct recov *r, recov_scrub_fn fn, void *arg)
{
	struct recov_pass *done;
	int flags = 0;

	pthread_mutex_lock(&r->mu);
	done = r->done;
	r->done = NULL;
	if (r->hb_due)
		flags |= RECOV_POLL_HB;
	r->hb_due = 0;
	pthread_mutex_unlock(&r->mu);
	while (done) {
		struct recov_pass *p = done;

		done = p->next;
		fn(arg, p->cookie, p->rc, &p->rep);
		pass_free(p);
	}
	return flags;
}

uint64_t recov_seen_epoch(struct recov *r)
{
	return __atomic_load_n(&r->seen_epoch, __ATOMIC_RELAXED);
}

void recov_report(struct recov *r, struct wire_heartbeat *hb)
{
	pthread_mutex_lock(&r->mu);
	hb->pass_epoch = r->pass_epoch;
	hb->pgs = 0;
	hb->degraded = hb->misplaced = hb->unfound = hb->bytes_left = 0;
	for (uint32_t i = 0; i < r->n_pools; i++) {
		const struct recov_pool *rp = &r->pools[i];

		for (uint32_t g = 0; g < rp->pg_num; g++) {
			const struct recov_pgstat *st = &rp->pgs[g];

			if (!st->mine)
				continue;
			hb->pgs++;
			hb->degraded += st->degraded;
			hb->misplaced += st->misplaced;
			hb->unfound += st->unfound;
			hb->bytes_left += st->bytes_left;
		}
	}
	hb->recovery_bytes = r->recovery_bytes;
	hb->recovery_queued = r->jq_len + r->jobs_active;
	hb->shards_recovered = r->shards_recovered;
	hb->shards_moved = r->shards_moved;
	hb->shards_gc = r->shards_gc;
	hb->scrub_errors = r->scrub_errors;
	pthread_mutex_unlock(&r->mu);
}

void recov_stop(struct recov *r)
{
	struct recov_pass *p;

	pthread_mutex_lock(&r->mu);
	if (r->stopping) {
		pthread_mutex_unlock(&r->mu);
		return;
	}
	__atomic_store_n(&r->stopping, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&r->cv);
	pthread_cond_broadcast(&r->jcv);
	pthread_cond_broadcast(&r->qcv);
	pthread_mutex_unlock(&r->mu);
	/* Cancel every call in flight: threads waiting on one wake up. */
	pthread_rwlock_wrlock(&r->eng_lock);
	rpc_engine_destroy(r->eng);
	r->eng = NULL;
	pthread_rwlock_unlock(&r->eng_lock);
	if (r->threads_started) {
		pthread_join(r->coord, NULL);
		for (unsigned i = 0; i < r->n_workers; i++)
			pthread_join(r->workers[i], NULL);
		r->threads_started = 0;
	}
	/* Whatever is left: jobs never run, runs never collected, passes
	 * never finished.  Requested scrubs are answered -ESHUTDOWN. */
	pthread_mutex_lock(&r->mu);
	while (r->jq_head) {
		struct recov_jobq *q = r->jq_head;

		r->jq_head = q->next;
		run_put(r, q->run);
		free(q);
	}
	r->jq_tail = NULL;
	r->jq_len = 0;
	while (r->finished) {
		struct recov_run *run = r->finished;

		r->finished = run->next;
		free(run);
	}
	while ((p = r->scrubs)) {
		r->scrubs = p->next;
		p->rc = -ESHUTDOWN;
		p->next = r->done;
		r->done = p;
	}
	pthread_mutex_unlock(&r->mu);
}

void recov_free(struct recov *r)
{
	if (!r)
		return;
	recov_stop(r);
	while (r->done) {
		struct recov_pass *p = r->done;

		r->done = p->next;
		pass_free(p);
	}
	pass_free(r->bg);
	while (r->dead) {
		struct recov_pass *p = r->dead;

		r->dead = p->next;
		pass_free(p);
	}
	for (uint32_t i = 0; i < r->n_pools; i++)
		free(r->pools[i].pgs);
	for (unsigned k = 0; k <= STORE_EC_MAX_K; k++)
		for (unsigned m = 0; m <= STORE_EC_MAX_M; m++)
			ec_destroy(r->codecs[k][m]);
	crush_free(r->crush);
	map_free(&r->map);
	map_free(&r->next_map);
	free(r->workers);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	pthread_cond_destroy(&r->jcv);
	pthread_cond_destroy(&r->qcv);
	pthread_rwlock_destroy(&r->map_lock);
	pthread_rwlock_destroy(&r->eng_lock);
	pthread_mutex_destroy(&r->tb_mu);
	pthread_mutex_destroy(&r->codec_mu);
	free(r);
}
