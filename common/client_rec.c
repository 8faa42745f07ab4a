/*
 * client_rec.c -- recovery and scrub calls of libstore: see client_rec.h.
 */
#include "client_rec.h"
#include "client_priv.h"
#include "pg.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_status_osds(struct store_client *c, struct wire_status *st,
		      struct wire_osd_stat *out, uint32_t cap, uint32_t *n)
{
	struct rpc_call call;
	struct wbuf w;
	int rc;

	*n = 0;
	wbuf_init(&w);
	rc = client_mds_call(c, WIRE_STATUS, &w, &call, NULL);
	if (rc)
		return rc;
	rc = wire_dec_status(rpc_reply_payload(&call), call.rhdr.payload_len,
			     st);
	if (rc == 0)
		rc = wire_dec_status_osds(rpc_reply_payload(&call),
					  call.rhdr.payload_len, out, cap, n);
	rpc_call_release(&call);
	if (rc)
		return store_fail(rc, "malformed status reply from the MDS");
	return 0;
}

int store_object_pg(struct store_client *c, uint32_t pool, uint64_t ino,
		    uint64_t objno, uint32_t *pg)
{
	const struct map_pool *p;
	int rc = 0;

	pthread_rwlock_rdlock(&c->map_lock);
	p = map_pool(&c->map, pool);
	if (p)
		*pg = crush_object_pg(p, ino, objno);
	else
		rc = -ENOENT;
	pthread_rwlock_unlock(&c->map_lock);
	if (rc)
		return store_fail(rc, "pool %u is not in the cluster map", pool);
	return 0;
}

/* Start a SCRUB of (pool, pg) on osd (its address from the map) into
 * call, in group g. */
static int scrub_send(struct store_client *c, struct rpc_group *g,
		      struct rpc_call *call, uint32_t osd,
		      const struct wire_scrub *q, uint32_t timeout_ms)
{
	char addr[STORE_ADDR_MAX + 1] = "";
	struct rpc_peer *peer;
	const struct map_osd *o;
	uint64_t epoch;
	struct wbuf w;
	int rc;

	pthread_rwlock_rdlock(&c->map_lock);
	o = map_osd(&c->map, osd);
	if (o)
		snprintf(addr, sizeof(addr), "%s", o->addr);
	epoch = c->map.epoch;
	pthread_rwlock_unlock(&c->map_lock);
	if (!o)
		return store_fail(-ENOENT, "osd.%u is not in the cluster map",
				  osd);
	rc = rpc_peer_get(c->eng, addr, CLIENT_OSD_CONNS, &peer);
	if (rc)
		return store_fail(rc, "osd.%u: bad address '%s'", osd, addr);
	memset(call, 0, sizeof(*call));
	wbuf_init(&w);
	wire_enc_scrub(&w, q);
	rc = w.err ? w.err : client_frame(call, WIRE_SCRUB, epoch, w.p, w.len);
	wbuf_free(&w);
	if (rc)
		return store_fail(rc, "out of memory");
	call->peer = peer;
	call->auth_dest = AUTH_DEST_OSD(osd);
	call->timeout_ms = timeout_ms ? timeout_ms : STORE_SCRUB_TIMEOUT_MS;
	call->send_timeout_ms = 2000;
	rpc_group_submit(c->eng, g, call);
	return 0;
}

/* The report of a finished SCRUB call.  Returns 0 or -errno with a
 * sentence naming the OSD. */
static int scrub_result(struct store_client *c, struct rpc_call *call,
			uint32_t osd, struct wire_scrub_reply *rep)
{
	char err[STORE_ERRMSG_MAX + 1];
	int rc = rpc_result(call);

	if (call->status == 0)
		client_saw_epoch(c, call->rhdr.epoch);
	if (rc) {
		client_reply_error(call, err, sizeof(err));
		rc = store_fail(rc, "scrub on osd.%u failed: %s", osd,
				call->status == -ETIMEDOUT ? "no answer in time" :
				call->status == -ENOTCONN ? "not reachable" : err);
	} else if (wire_dec_scrub_reply(rpc_reply_payload(call),
					call->rhdr.payload_len, rep)) {
		rc = store_fail(-EBADMSG, "osd.%u sent a malformed scrub "
				"report", osd);
	}
	rpc_call_release(call);
	return rc;
}

void store_scrub_sum(struct wire_scrub_reply *a,
		     const struct wire_scrub_reply *b)
{
	a->epoch = MAX(a->epoch, b->epoch);
	a->pgs += b->pgs;
	a->objects += b->objects;
	a->shards += b->shards;
	a->missing += b->missing;
	a->misplaced += b->misplaced;
	a->stale += b->stale;
	a->stale_deleted += b->stale_deleted;
	a->corrupt += b->corrupt;
	a->repaired += b->repaired;
	a->unrepairable += b->unrepairable;
}

int store_scrub_pg(struct store_client *c, uint32_t pool, uint32_t pg,
		   uint32_t flags, uint64_t ino, uint32_t timeout_ms,
		   struct wire_scrub_reply *rep)
{
	uint32_t set[STORE_EC_MAX_SHARDS], primary = CRUSH_NONE;
	struct wire_scrub q = { pool, pg, flags, ino };
	const struct map_pool *p;
	struct rpc_call call;
	struct rpc_group g;
	int rc = -ENOENT;

	memset(rep, 0, sizeof(*rep));
	pthread_rwlock_rdlock(&c->map_lock);
	p = map_pool(&c->map, pool);
	if (p && c->crush && pg < p->pg_num)
		rc = pg_acting(c->crush, &c->map, p, pg, set, &primary);
	pthread_rwlock_unlock(&c->map_lock);
	if (rc)
		return store_fail(rc, "no placement group %u.%u in the cluster "
				  "map", pool, pg);
	if (primary == CRUSH_NONE)
		return store_fail(-EIO, "placement group %u.%u has no OSD up: "
				  "nothing can check it", pool, pg);
	rpc_group_init(&g);
	rc = scrub_send(c, &g, &call, primary, &q, timeout_ms);
	if (rc == 0) {
		rpc_group_wait(&g);
		rc = scrub_result(c, &call, primary, rep);
	}
	rpc_group_destroy(&g);
	return rc;
}

int store_scrub_all(struct store_client *c, uint32_t pool, uint32_t flags,
		    uint32_t timeout_ms, struct wire_scrub_reply *rep)
{
	struct wire_scrub q = { pool, WIRE_PG_ALL, flags, 0 };
	struct rpc_call *calls;
	uint32_t *ids, n = 0;
	struct rpc_group g;
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	calls = calloc(STORE_MAX_OSDS, sizeof(*calls));
	ids = calloc(STORE_MAX_OSDS, sizeof(*ids));
	if (!calls || !ids) {
		free(calls);
		free(ids);
		return store_fail(-ENOMEM, "out of memory");
	}
	pthread_rwlock_rdlock(&c->map_lock);
	for (uint32_t i = 0; i < c->map.n_osds; i++)
		if (c->map.osds[i].exists && c->map.osds[i].up)
			ids[n++] = i;
	pthread_rwlock_unlock(&c->map_lock);
	rpc_group_init(&g);
	for (uint32_t i = 0; i < n; i++)
		if (scrub_send(c, &g, &calls[i], ids[i], &q, timeout_ms))
			ids[i] = CRUSH_NONE;
	rpc_group_wait(&g);
	rpc_group_destroy(&g);
	for (uint32_t i = 0; i < n; i++) {
		struct wire_scrub_reply one;
		int r;

		if (ids[i] == CRUSH_NONE) {
			rc = rc ? rc : -ENOTCONN;
			continue;
		}
		r = scrub_result(c, &calls[i], ids[i], &one);
		if (r == 0)
			store_scrub_sum(rep, &one);
		else if (!rc)
			rc = r;
	}
	free(calls);
	free(ids);
	if (n == 0)
		return store_fail(-EIO, "no OSD is up to scrub");
	return rc;
}

int store_scrub_file(struct store_client *c, const struct wire_attr *file,
		     uint32_t flags, uint32_t timeout_ms,
		     struct wire_scrub_reply *rep)
{
	struct wire_obj *objs = malloc(STORE_LIST_MAX * sizeof(*objs));
	uint8_t *seen = NULL;
	uint32_t pg_num = 0;
	uint64_t first = 0;
	int more = 1, rc = 0;

	memset(rep, 0, sizeof(*rep));
	pthread_rwlock_rdlock(&c->map_lock);
	if (map_pool(&c->map, file->pool))
		pg_num = map_pool(&c->map, file->pool)->pg_num;
	pthread_rwlock_unlock(&c->map_lock);
	if (pg_num)
		seen = calloc(pg_num, 1);
	if (!objs || !seen) {
		free(objs);
		free(seen);
		return pg_num ? store_fail(-ENOMEM, "out of memory") :
				store_fail(-ENOENT, "pool %u is not in the "
					   "cluster map", file->pool);
	}
	/* Each PG once, in the order of the file's objects. */
	while (more && rc == 0) {
		uint32_t n = 0;

		rc = store_objmap(c, file->ino, first, STORE_LIST_MAX, objs, &n,
				  &more);
		for (uint32_t i = 0; rc == 0 && i < n; i++) {
			struct wire_scrub_reply one;
			uint32_t pg;

			first = objs[i].objno + 1;
			rc = store_object_pg(c, file->pool, file->ino,
					     objs[i].objno, &pg);
			if (rc || seen[pg])
				continue;
			seen[pg] = 1;
			rc = store_scrub_pg(c, file->pool, pg, flags, file->ino,
					    timeout_ms, &one);
			if (rc == 0)
				store_scrub_sum(rep, &one);
		}
		if (n == 0)
			break;
	}
	free(objs);
	free(seen);
	return rc;
}
