/*
 * recov_io.c -- the recovery agent's requests (addressing, sending under the
 * engine guard, results), its bandwidth throttle and its codecs: see
 * recov_int.h.
 */
#include "recov_int.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int recov_stopping(struct recov *r)
{
	return __atomic_load_n(&r->stopping, __ATOMIC_ACQUIRE);
}

int recov_map_waiting(struct recov *r)
{
	return __atomic_load_n(&r->have_next, __ATOMIC_RELAXED);
}

int recov_frame(struct recov *r, struct rpc_call *c, unsigned type,
	      const struct wbuf *w)
{
	struct wbuf f;

	memset(c, 0, sizeof(*c));
	wbuf_init_alloc(&f, &net_wbuf_alloc);
	if (!wbuf_reserve(&f, WIRE_HDR_LEN + w->len))
		return -ENOMEM;
	f.len = 0;
	wire_msg_begin(&f, type, 0, 0, __atomic_load_n(&r->epoch,
						       __ATOMIC_RELAXED), 0);
	wbuf_raw(&f, w->p, w->len);
	if (w->err || wire_msg_finish(&f, 0)) {
		wbuf_free(&f);
		return w->err ? w->err : -ENOMEM;
	}
	c->req = f.p;
	c->req_len = f.len;
	c->req_nn = 1;
	return 0;
}

/* Address c to osd (CRUSH_NONE: the MDS) and submit it with its done
 * and arg as set.  Returns 0, or -errno when it could not be submitted
 * (c->status is then set and the caller completes it). */
static int submit(struct recov *r, struct rpc_call *c, uint32_t osd,
		  uint32_t timeout_ms)
{
	char addr[STORE_ADDR_MAX + 1];
	struct rpc_peer *peer = NULL;
	int rc = 0;

	if (osd == CRUSH_NONE) {
		snprintf(addr, sizeof(addr), "%s", r->mds_addr);
	} else {
		const struct map_osd *o;

		pthread_rwlock_rdlock(&r->map_lock);
		o = map_osd(&r->map, osd);
		if (o)
			snprintf(addr, sizeof(addr), "%s", o->addr);
		pthread_rwlock_unlock(&r->map_lock);
		if (!o)
			rc = -ENOENT;
	}
	pthread_rwlock_rdlock(&r->eng_lock);
	if (!r->eng)
		rc = -ECANCELED;
	if (rc == 0)
		rc = rpc_peer_get(r->eng, addr, RECOV_PEER_CONNS, &peer);
	if (rc == 0) {
		c->peer = peer;
		/* Signed for that daemon when the engine has a credential. */
		c->auth_dest = osd == CRUSH_NONE ? AUTH_DEST_MDS :
						   AUTH_DEST_OSD(osd);
		c->timeout_ms = timeout_ms;
		c->send_timeout_ms = MIN(RECOV_SEND_TIMEOUT_MS, timeout_ms);
		rpc_submit(r->eng, c);
	}
	pthread_rwlock_unlock(&r->eng_lock);
	if (rc) {
		if (c->req && c->req_nn)
			net_free(c->req);
		c->req = NULL;
		c->reply = NULL;
		memset(&c->rhdr, 0, sizeof(c->rhdr));
		c->status = rc == -ECANCELED ? rc : -ENOTCONN;
	}
	return rc;
}

void recov_send(struct recov *r, struct rpc_group *g, struct rpc_call *c,
		uint32_t osd, uint32_t timeout_ms)
{
	pthread_mutex_lock(&g->mu);
	g->pending++;
	pthread_mutex_unlock(&g->mu);
	c->done = rpc_group_done;
	c->arg = g;
	if (submit(r, c, osd, timeout_ms))
		rpc_group_done(c);
}

struct recov_batch *recov_batch_new(unsigned n)
{
	struct recov_batch *b = calloc(1, sizeof(*b) + n * sizeof(b->calls[0]));

	if (!b)
		return NULL;
	b->done = calloc(n ? n : 1, 1);
	if (!b->done) {
		free(b);
		return NULL;
	}
	b->n = n;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	return b;
}

static void batch_destroy(struct recov_batch *b)
{
	for (unsigned i = 0; i < b->n; i++)
		if (b->done[i])
			rpc_call_release(&b->calls[i]);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b->done);
	free(b);
}

static void batch_done(struct rpc_call *c)
{
	struct recov_batch *b = c->arg;
	int gone;

	pthread_mutex_lock(&b->mu);
	b->done[c - b->calls] = 1;
	b->pending--;
	gone = b->abandoned && b->pending == 0;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (gone)
		batch_destroy(b);
}

void recov_batch_send(struct recov *r, struct recov_batch *b, unsigned i,
		      uint32_t osd, uint32_t timeout_ms)
{
	struct rpc_call *c = &b->calls[i];

	pthread_mutex_lock(&b->mu);
	b->pending++;
	pthread_mutex_unlock(&b->mu);
	c->done = batch_done;
	c->arg = b;
	if (submit(r, c, osd, timeout_ms))
		batch_done(c);
}

int recov_batch_wait(struct recov *r, struct recov_batch *b)
{
	pthread_mutex_lock(&b->mu);
	while (b->pending) {
		struct timespec ts;

		if (recov_map_waiting(r) || recov_stopping(r)) {
			b->abandoned = 1;
			pthread_mutex_unlock(&b->mu);
			return -ECANCELED;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
	}
	pthread_mutex_unlock(&b->mu);
	return 0;
}

void recov_batch_free(struct recov_batch *b)
{
	if (b)
		batch_destroy(b);
}

int recov_done(struct recov *r, struct rpc_call *c)
{
	if (c->status == 0) {
		uint64_t e = c->rhdr.epoch,
			 seen = __atomic_load_n(&r->seen_epoch,
						__ATOMIC_RELAXED);

		while (e > seen &&
		       !__atomic_compare_exchange_n(&r->seen_epoch, &seen, e, 0,
						    __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED))
			;
	}
	return rpc_result(c);
}

void recov_errtext(const struct rpc_call *c, char *buf, size_t cap)
{
	if (c->status) {
		snprintf(buf, cap, "%s", c->status == -ETIMEDOUT ? "no answer" :
			 c->status == -ENOTCONN ? "not reachable" :
			 strerror(-c->status));
		return;
	}
	if (wire_dec_error(rpc_reply_payload(c), c->rhdr.payload_len, buf,
			   cap) || !buf[0])
		snprintf(buf, cap, "%s", strerror(-c->rhdr.status));
}

/* The bucket holds at most this much time's worth of bytes (and at least
 * one 64 MiB shard, so that any request can pass). */
#define TB_BURST_NS (250 * 1000000ull)

int recov_throttle(struct recov *r, uint64_t bytes)
{
	double cap;

	if (!r->cfg.max_bps)
		return recov_stopping(r) ? -ESHUTDOWN : 0;
	cap = MAX((double)r->cfg.max_bps * TB_BURST_NS / 1e9,
		  (double)STORE_SHARD_MAX);
	for (;;) {
		uint64_t now = now_ns();
		double wait_s;
		struct timespec ts;

		if (recov_stopping(r))
			return -ESHUTDOWN;
		pthread_mutex_lock(&r->tb_mu);
		r->tokens += (double)(now - r->tb_ns) * r->cfg.max_bps / 1e9;
		if (r->tokens > cap)
			r->tokens = cap;
		r->tb_ns = now;
		if (r->tokens >= (double)bytes || r->tokens >= cap) {
			/* Debt is allowed: a request larger than the bucket
			 * passes once it is full, and repays later. */
			r->tokens -= (double)bytes;
			pthread_mutex_unlock(&r->tb_mu);
			return 0;
		}
		wait_s = ((double)bytes - r->tokens) / r->cfg.max_bps;
		pthread_mutex_unlock(&r->tb_mu);
		/* Sleep in slices so that a stop is noticed. */
		wait_s = MIN(wait_s, 0.1);
		ts.tv_sec = (time_t)wait_s;
		ts.tv_nsec = (long)((wait_s - (double)ts.tv_sec) * 1e9) + 1;
		nanosleep(&ts, NULL);
	}
}

struct ec_codec *recov_codec(struct recov *r, unsigned k, unsigned m)
{
	struct ec_codec *ec;

	if (k < 1 || k > STORE_EC_MAX_K || m < 1 || m > STORE_EC_MAX_M)
		return NULL;
	pthread_mutex_lock(&r->codec_mu);
	ec = r->codecs[k][m];
	if (!ec && ec_create(k, m, &ec) == 0)
		r->codecs[k][m] = ec;
	pthread_mutex_unlock(&r->codec_mu);
	return ec;
}
