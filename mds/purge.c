/*
 * purge.c -- deleting unreferenced shards from the OSDs: see purge.h.
 *
 * Threads: the RPC engine completes calls on its I/O thread; the callback
 * only counts, under a mutex, and signals an eventfd.  Everything else
 * (database, map, starting calls) happens on the server loop's thread.
 */
#include "purge.h"
#include "crush.h"
#include "log.h"
#include "mds_auth.h"
#include "net.h"
#include "pg.h"
#include "util.h"
#include "wire_osd.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Connections per OSD for deletes: background work, kept modest. */
#define PURGE_CONNS 2
/* While the table is empty, look at it at most this often. */
#define PURGE_IDLE_MS 1000

struct job {
	int used;
	struct db_purge e;
	unsigned pending; /* calls not completed (under mu) */
	int failed;       /* a delete failed or an OSD was down */
	int started;      /* calls submitted */
	struct purger *p;
	struct rpc_call calls[STORE_EC_MAX_SHARDS];
};

struct purger {
	struct mds *m;
	struct rpc_engine *eng;
	int efd;
	pthread_mutex_t mu;
	struct job jobs[PURGE_JOBS];
	unsigned busy;
	uint64_t next_seq;  /* where the next pass reads from */
	uint64_t wait_until; /* no new pass before (monotonic ms) */
	int pass_failed;    /* some entry of this pass must be retried */
	uint64_t done;
	struct log_limit fail_log;
};

static void call_done(struct rpc_call *c)
{
	struct job *j = c->arg;
	struct purger *p = j->p;
	uint64_t one = 1;

	pthread_mutex_lock(&p->mu);
	if (rpc_result(c))
		j->failed = 1;
	j->pending--;
	pthread_mutex_unlock(&p->mu);
	if (write(p->efd, &one, sizeof(one)) < 0) {
		/* The counter is only a wake-up: a full one wakes too. */
	}
}

int purger_create(struct mds *m, struct purger **out)
{
	struct purger *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->m = m;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		rc = -errno;
		free(p);
		return rc;
	}
	rc = rpc_engine_create(&p->eng);
	if (rc) {
		close(p->efd);
		free(p);
		return rc;
	}
	/* Deletes are signed with the MDS's own daemon ticket. */
	if (mds_auth_cred(m))
		rpc_engine_set_cred(p->eng, mds_auth_cred(m));
	pthread_mutex_init(&p->mu, NULL);
	*out = p;
	return 0;
}

void purger_free(struct purger *p)
{
	if (!p)
		return;
	/* Pending calls complete with -ECANCELED before this returns. */
	rpc_engine_destroy(p->eng);
	for (unsigned i = 0; i < PURGE_JOBS; i++)
		for (int k = 0; k < p->jobs[i].started; k++)
			rpc_call_release(&p->jobs[i].calls[k]);
	pthread_mutex_destroy(&p->mu);
	close(p->efd);
	free(p);
}

int purger_fd(const struct purger *p)
{
	return p->efd;
}

unsigned purger_busy(const struct purger *p)
{
	return p->busy;
}

uint64_t purger_done(const struct purger *p)
{
	return p->done;
}

static int in_flight(const struct purger *p, uint64_t seq)
{
	for (unsigned i = 0; i < PURGE_JOBS; i++)
		if (p->jobs[i].used && p->jobs[i].e.seq == seq)
			return 1;
	return 0;
}

/* One SHARD_DELETE call for position idx of job j to osd. */
static int submit(struct purger *p, struct job *j, unsigned idx,
		  const struct map_osd *o)
{
	struct wire_shard_delete d;
	struct rpc_call *c = &j->calls[j->started];
	struct rpc_peer *peer;
	struct wbuf w;
	int rc = rpc_peer_get(p->eng, o->addr, PURGE_CONNS, &peer);

	if (rc)
		return rc;
	memset(&d, 0, sizeof(d));
	d.id.pool = j->e.pool;
	d.id.ino = j->e.ino;
	d.id.objno = j->e.objno;
	d.id.version = j->e.version;
	d.id.index = (uint8_t)idx;
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, WIRE_SHARD_DELETE, 0, 0, mds_epoch(p->m), 0);
	wire_enc_shard_delete(&w, &d);
	rc = wire_msg_finish(&w, 0);
	if (rc) {
		wbuf_free(&w);
		return rc;
	}
	memset(c, 0, sizeof(*c));
	c->peer = peer;
	c->req = w.p;
	c->req_len = w.len;
	c->req_nn = 1;
	c->timeout_ms = PURGE_TIMEOUT_MS;
	c->done = call_done;
	c->arg = j;
	pthread_mutex_lock(&p->mu);
	j->pending++;
	pthread_mutex_unlock(&p->mu);
	j->started++;
	rpc_submit(p->eng, c);
	return 0;
}

/* Start the deletes of one entry.  Positions on down OSDs cannot be
 * deleted now: the entry is then retried later. */
static void start_job(struct purger *p, struct job *j)
{
	const struct store_map *map = &p->m->om.map;
	const struct map_pool *pool = map_pool(map, j->e.pool);
	uint32_t set[STORE_EC_MAX_SHARDS];
	unsigned n;
	int rc;

	j->pending = 0;
	j->failed = 0;
	j->started = 0;
	if (!pool || !p->m->om.crush)
		return; /* pool gone: nothing left to delete */
	n = pool->k + pool->m;
	rc = pg_set(p->m->om.crush, map, pool,
		    crush_object_pg(pool, j->e.ino, j->e.objno), set);
	if (rc < 0) {
		j->failed = 1;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct map_osd *o;

		if (set[i] == CRUSH_NONE)
			continue;
		o = map_osd(map, set[i]);
		if (!o || !o->up) {
			j->failed = 1;
			continue;
		}
		if (submit(p, j, i, o))
			j->failed = 1;
	}
}

/* Entries whose calls all completed: the successful ones leave the table
 * in one transaction. */
static int finish_jobs(struct purger *p)
{
	uint64_t seqs[PURGE_JOBS];
	unsigned n = 0;
	MDB_txn *txn;
	int rc = 0;

	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < PURGE_JOBS; i++) {
		struct job *j = &p->jobs[i];

		if (!j->used || j->pending)
			continue;
		if (j->failed)
			p->pass_failed = 1;
		else
			seqs[n++] = j->e.seq;
		for (int k = 0; k < j->started; k++)
			rpc_call_release(&j->calls[k]);
		j->used = 0;
		j->started = 0;
		p->busy--;
	}
	pthread_mutex_unlock(&p->mu);
	if (!n)
		return 0;
	rc = db_begin(&p->m->db, NULL, 0, &txn);
	for (unsigned i = 0; rc == 0 && i < n; i++)
		rc = db_purge_del(&p->m->db, txn, seqs[i]);
	if (rc == 0)
		rc = db_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc) {
		/* They stay queued; deleting again is harmless. */
		p->pass_failed = 1;
		return rc;
	}
	p->done += n;
	return 0;
}

/* Read the next entries of this pass and start them. */
static int start_jobs(struct purger *p, uint64_t now)
{
	struct db_purge e[PURGE_JOBS];
	unsigned want = PURGE_JOBS - p->busy, k = 0;
	MDB_txn *txn;
	int n, rc;

	if (!want || now < p->wait_until)
		return 0;
	rc = db_begin(&p->m->db, NULL, 1, &txn);
	if (rc)
		return rc;
	n = db_purge_list(&p->m->db, txn, p->next_seq, e, (int)want);
	mdb_txn_abort(txn);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct job *j;

		p->next_seq = e[i].seq + 1;
		if (in_flight(p, e[i].seq))
			continue;
		while (p->jobs[k].used)
			k++;
		j = &p->jobs[k];
		j->used = 1;
		j->p = p;
		j->e = e[i];
		p->busy++;
		start_job(p, j);
	}
	if ((unsigned)n < want) {
		/* The end of the table: the next pass starts over, soon if
		 * all went well, after a pause if something must wait. */
		p->next_seq = 0;
		p->wait_until = now + (p->pass_failed ? PURGE_RETRY_MS :
						       PURGE_IDLE_MS);
		p->pass_failed = 0;
	}
	return 0;
}

int purger_step(struct purger *p)
{
	uint64_t v;
	int rc;

	while (read(p->efd, &v, sizeof(v)) > 0)
		;
	rc = finish_jobs(p);
	if (rc == 0)
		rc = start_jobs(p, mds_now_ms(p->m));
	/* Jobs that started nothing (all positions down or empty) are
	 * complete already. */
	if (rc == 0)
		rc = finish_jobs(p);
	if (rc)
		log_ratelimited(&p->fail_log, LOG_WARN, "purge queue: %s; "
				"will retry", strerror(-rc));
	return rc;
}
