/*
 * mappush.c -- pushing new map epochs to the OSDs: see mappush.h.
 *
 * Threads: a push completes on the RPC engine's thread, whose callback
 * only clears the OSD's in-flight mark (under a mutex) and frees the
 * call.  Starting pushes happens on the server loop's thread.
 */
#include "mappush.h"
#include "mds_auth.h"
#include "net.h"
#include "wire.h"
#include "wire_mon.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* One connection per OSD: pushes are rare and small. */
#define MAPPUSH_CONNS 1

struct push {
	struct rpc_call call;
	struct mappush *p;
	uint32_t osd;
};

struct mappush {
	struct mds *m;
	struct rpc_engine *eng;
	pthread_mutex_t mu;
	uint64_t sent[STORE_MAX_OSDS]; /* epoch last pushed to each OSD */
	uint8_t busy[STORE_MAX_OSDS];  /* a push in flight */
	uint64_t epoch;                /* every up OSD was sent this one */
	uint64_t done;
};

static void push_done(struct rpc_call *c)
{
	struct push *ps = (struct push *)c;
	struct mappush *p = ps->p;

	pthread_mutex_lock(&p->mu);
	p->busy[ps->osd] = 0;
	if (rpc_result(c) == 0)
		p->done++;
	else
		p->epoch = 0; /* look again at the next step */
	pthread_mutex_unlock(&p->mu);
	rpc_call_release(c);
	free(ps);
}

int mappush_create(struct mds *m, struct mappush **out)
{
	struct mappush *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->m = m;
	pthread_mutex_init(&p->mu, NULL);
	rc = rpc_engine_create(&p->eng);
	if (rc) {
		pthread_mutex_destroy(&p->mu);
		free(p);
		return rc;
	}
	if (mds_auth_cred(m))
		rpc_engine_set_cred(p->eng, mds_auth_cred(m));
	*out = p;
	return 0;
}

/* Start a push of the encoded map to osd o. */
static void push_one(struct mappush *p, const struct map_osd *o,
		     const struct wbuf *map, uint64_t epoch)
{
	struct push *ps = calloc(1, sizeof(*ps));
	struct rpc_peer *peer;
	struct wbuf w;

	if (!ps || rpc_peer_get(p->eng, o->addr, MAPPUSH_CONNS, &peer)) {
		free(ps);
		return;
	}
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, WIRE_MAP_PUSH, 0, 0, epoch, 0);
	wbuf_raw(&w, map->p, map->len);
	if (wire_msg_finish(&w, 0)) {
		wbuf_free(&w);
		free(ps);
		return;
	}
	ps->p = p;
	ps->osd = o->id;
	ps->call.req = w.p;
	ps->call.req_len = w.len;
	ps->call.req_nn = 1;
	ps->call.peer = peer;
	ps->call.auth_dest = AUTH_DEST_OSD(o->id);
	ps->call.timeout_ms = MAPPUSH_TIMEOUT_MS;
	ps->call.done = push_done;
	pthread_mutex_lock(&p->mu);
	p->busy[o->id] = 1;
	p->sent[o->id] = epoch;
	pthread_mutex_unlock(&p->mu);
	rpc_submit(p->eng, &ps->call);
}

void mappush_step(struct mappush *p)
{
	const struct store_map *m = &p->m->om.map;
	struct wbuf map;
	int all = 1;

	pthread_mutex_lock(&p->mu);
	if (p->epoch == m->epoch) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	pthread_mutex_unlock(&p->mu);
	wbuf_init(&map);
	osdmap_encode(&p->m->om, &map);
	for (uint32_t i = 0; !map.err && i < m->n_osds; i++) {
		const struct map_osd *o = &m->osds[i];
		int busy;
		uint64_t sent;

		if (!o->exists || !o->up)
			continue;
		pthread_mutex_lock(&p->mu);
		busy = p->busy[i];
		sent = p->sent[i];
		pthread_mutex_unlock(&p->mu);
		if (sent >= m->epoch)
			continue;
		if (busy) {
			all = 0; /* after the one in flight */
			continue;
		}
		push_one(p, o, &map, m->epoch);
	}
	if (!map.err && all) {
		pthread_mutex_lock(&p->mu);
		p->epoch = m->epoch;
		pthread_mutex_unlock(&p->mu);
	}
	wbuf_free(&map);
}

uint64_t mappush_done(struct mappush *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->mu);
	n = p->done;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void mappush_free(struct mappush *p)
{
	if (!p)
		return;
	rpc_engine_destroy(p->eng); /* completes the pushes in flight */
	pthread_mutex_destroy(&p->mu);
	free(p);
}
