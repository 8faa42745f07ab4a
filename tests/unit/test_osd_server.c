/*
 * test_osd_server.c -- store-osd's event loop on real sockets: the OSD runs
 * in a thread (osd_run) against a small fake MDS thread that answers
 * OSD_BOOT, HEARTBEAT and MAP_GET; a client talks to the OSD through the
 * RPC engine.  Covers put/get/list/delete, checksums refused in flight,
 * malformed and unknown requests, garbage frames, many requests in flight,
 * a peer vanishing mid-request, an MDS that is late or forgets the OSD,
 * a restart that keeps data and id, and a folder of another cluster.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crc.h"
#include "crush.h"
#include "log.h"
#include "map.h"
#include "net.h"
#include "util.h"
#include "wire.h"
#include "wire_mon.h"
#include "wire_osd.h"
#include "../../osd/server.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* ---- the fake MDS --------------------------------------------------------*/

struct fake_mds {
	struct net_server *srv;
	pthread_t thread;
	volatile int stop;
	char addr[64];
	uint8_t cluster_id[16];
	pthread_mutex_t mu;
	struct store_map map;
	/* What it saw. */
	int boots, heartbeats, map_gets;
	uint32_t last_boot_id;   /* osd_id field of the last boot */
	uint8_t last_uuid[16];
	int forget;              /* answer the next heartbeat -ENOENT */
};

static int next_port(void)
{
	static int next;

	if (!next)
		next = 30000 + (getpid() % 15000);
	return next++;
}

static void mds_reply(struct fake_mds *f, struct net_req *req, int status,
		      const struct wbuf *payload)
{
	struct wbuf w;

	wbuf_init(&w);
	wire_msg_begin(&w, req->hdr.type, WIRE_F_REPLY, req->hdr.req_id,
		       f->map.epoch, status);
	if (payload)
		wbuf_raw(&w, payload->p, payload->len);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	net_server_reply(f->srv, req, w.p, w.len, 0);
	wbuf_free(&w);
}

static void mds_handle(struct fake_mds *f, struct net_req *req)
{
	const uint8_t *p = wire_payload(req->msg);
	uint32_t len = req->hdr.payload_len;
	struct wbuf w;

	wbuf_init(&w);
	pthread_mutex_lock(&f->mu);
	switch (req->hdr.type) {
	case WIRE_OSD_BOOT: {
		static const uint8_t zero[16];
		struct wire_osd_boot b;
		struct wire_osd_boot_reply br;
		struct map_osd *o = NULL;

		assert_int_equal(wire_dec_osd_boot(p, len, &b), 0);
		f->boots++;
		f->last_boot_id = b.osd_id;
		memcpy(f->last_uuid, b.uuid, 16);
		if (memcmp(b.cluster_id, zero, 16) &&
		    memcmp(b.cluster_id, f->cluster_id, 16)) {
			net_server_reply_error(f->srv, req, f->map.epoch,
					       -EXDEV, "this MDS serves "
					       "another cluster");
			goto out;
		}
		for (uint32_t i = 0; i < f->map.n_osds; i++)
			if (f->map.osds[i].exists &&
			    !memcmp(f->map.osds[i].uuid, b.uuid, 16))
				o = &f->map.osds[i];
		if (!o) {
			o = map_add_osd(&f->map, f->map.n_osds);
			assert_non_null(o);
			memcpy(o->uuid, b.uuid, 16);
		}
		o->up = o->in = 1;
		o->weight = b.weight;
		snprintf(o->host, sizeof(o->host), "%s", b.host);
		snprintf(o->addr, sizeof(o->addr), "%s", b.addr);
		f->map.epoch++;
		br.osd_id = o->id;
		memcpy(br.cluster_id, f->cluster_id, 16);
		wire_enc_osd_boot_reply(&w, &br);
		mds_reply(f, req, 0, &w);
		break;
	}
	case WIRE_HEARTBEAT: {
		struct wire_heartbeat h;

		assert_int_equal(wire_dec_heartbeat(p, len, &h), 0);
		f->heartbeats++;
		if (f->forget || !map_osd(&f->map, h.osd_id)) {
			f->forget = 0;
			net_server_reply_error(f->srv, req, f->map.epoch,
					       -ENOENT, "unknown osd");
			goto out;
		}
		mds_reply(f, req, 0, NULL);
		break;
	}
	case WIRE_MAP_GET: {
		struct wire_map_get m;

		assert_int_equal(wire_dec_map_get(p, len, &m), 0);
		f->map_gets++;
		if (m.have_epoch < f->map.epoch)
			wire_enc_map(&w, &f->map);
		mds_reply(f, req, 0, &w);
		break;
	}
	default:
		net_server_reply_error(f->srv, req, f->map.epoch, -EOPNOTSUPP,
				       "no");
	}
out:
	pthread_mutex_unlock(&f->mu);
	wbuf_free(&w);
}

static void *mds_main(void *arg)
{
	struct fake_mds *f = arg;

	while (!f->stop) {
		struct pollfd pfd = { net_server_fd(f->srv), POLLIN, 0 };
		struct net_req req;

		poll(&pfd, 1, 20);
		while (net_server_recv(f->srv, &req) == 1)
			mds_handle(f, &req);
	}
	return NULL;
}

/* Start (or restart, keeping its state) the fake MDS. */
static void mds_start(struct fake_mds *f)
{
	int rc = -1;

	f->stop = 0;
	if (!f->addr[0]) {
		struct map_pool pool;

		pthread_mutex_init(&f->mu, NULL);
		map_init(&f->map);
		memset(&pool, 0, sizeof(pool));
		pool.id = 1;
		pool.k = 4;
		pool.m = 2;
		pool.min_size = 5;
		pool.pg_num = 16;
		pool.object_size = 4 << 20;
		snprintf(pool.name, sizeof(pool.name), "data");
		assert_non_null(map_add_pool(&f->map, &pool));
		memcpy(f->map.cluster_id, f->cluster_id, 16);
		f->map.epoch = 1;
		for (int tries = 0; tries < 50 && rc; tries++) {
			snprintf(f->addr, sizeof(f->addr), "tcp://127.0.0.1:%d",
				 next_port());
			rc = net_server_open(f->addr, &f->srv);
		}
	} else {
		for (int tries = 0; tries < 50 && rc; tries++) {
			rc = net_server_open(f->addr, &f->srv);
			if (rc)
				usleep(50000);
		}
	}
	assert_int_equal(rc, 0);
	assert_int_equal(pthread_create(&f->thread, NULL, mds_main, f), 0);
}

static void mds_stop(struct fake_mds *f)
{
	f->stop = 1;
	pthread_join(f->thread, NULL);
	net_server_close(f->srv);
	f->srv = NULL;
}

static void mds_free(struct fake_mds *f)
{
	map_free(&f->map);
	pthread_mutex_destroy(&f->mu);
}

/* ---- the OSD in a thread -------------------------------------------------*/

struct osd_thread {
	struct osd_config cfg;
	char dir[160], addr[64];
	pthread_t thread;
	int rc;
	int running;
};

static void *osd_main(void *arg)
{
	struct osd_thread *t = arg;

	t->rc = osd_run(&t->cfg);
	return NULL;
}

static void osd_start(struct osd_thread *t, const char *mds_addr)
{
	t->cfg.data_dir = t->dir;
	t->cfg.mds_addr = mds_addr;
	t->cfg.addr = t->addr;
	t->cfg.host = "testhost";
	t->cfg.weight = 1.0;
	t->cfg.heartbeat_ms = 100;
	t->cfg.segment_size = 8 << 20;
	t->cfg.stop_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(t->cfg.stop_fd >= 0);
	t->rc = 1;
	assert_int_equal(pthread_create(&t->thread, NULL, osd_main, t), 0);
	t->running = 1;
}

static int osd_stop(struct osd_thread *t)
{
	uint64_t one = 1;

	if (!t->running)
		return t->rc;
	assert_int_equal(write(t->cfg.stop_fd, &one, sizeof(one)), 8);
	pthread_join(t->thread, NULL);
	close(t->cfg.stop_fd);
	t->running = 0;
	return t->rc;
}

/* ---- the client ----------------------------------------------------------*/

struct env {
	struct fake_mds mds;
	struct osd_thread osd;
	struct rpc_engine *rpc;
	struct rpc_peer *peer;
	char tmp[128];
};

static int rm_cb(const char *path, const struct stat *st, int flag,
		 struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Send a request (payload in w, consumed) and wait. */
static int call(struct env *e, unsigned type, struct wbuf *payload,
		struct rpc_call *c, uint32_t timeout_ms)
{
	struct wbuf w;

	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, type, 0, 0, 0, 0);
	if (payload) {
		wbuf_raw(&w, payload->p, payload->len);
		wbuf_free(payload);
	}
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	memset(c, 0, sizeof(*c));
	c->peer = e->peer;
	c->req = w.p;
	c->req_len = w.len;
	c->req_nn = 1;
	c->timeout_ms = timeout_ms;
	return rpc_call_wait(e->rpc, c);
}

static int ping(struct env *e)
{
	struct rpc_call c;
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wbuf_raw(&w, "hi", 2);
	rc = call(e, WIRE_PING, &w, &c, 500);
	if (rc == 0)
		rc = c.rhdr.status;
	if (rc == 0) {
		assert_int_equal(c.rhdr.payload_len, 2);
		assert_memory_equal(rpc_reply_payload(&c), "hi", 2);
	}
	rpc_call_release(&c);
	return rc;
}

static void wait_serving(struct env *e)
{
	for (int i = 0; i < 200; i++) {
		if (ping(e) == 0)
			return;
		usleep(20000);
	}
	fail_msg("the OSD never started serving");
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	snprintf(e->tmp, sizeof(e->tmp), "/tmp/osdsrv.XXXXXX");
	assert_non_null(mkdtemp(e->tmp));
	snprintf(e->osd.dir, sizeof(e->osd.dir), "%.128s/osd", e->tmp);
	snprintf(e->osd.addr, sizeof(e->osd.addr), "tcp://127.0.0.1:%d",
		 next_port());
	memset(e->mds.cluster_id, 0xc1, 16);
	mds_start(&e->mds);
	assert_int_equal(rpc_engine_create(&e->rpc), 0);
	assert_int_equal(rpc_peer_get(e->rpc, e->osd.addr, 8, &e->peer), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	osd_stop(&e->osd);
	rpc_engine_destroy(e->rpc);
	if (e->mds.srv)
		mds_stop(&e->mds);
	mds_free(&e->mds);
	nftw(e->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(e);
	return 0;
}

static void fill(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 7;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static struct wire_shard_id sid(uint64_t ino, uint64_t objno, uint8_t idx,
				uint64_t v)
{
	struct wire_shard_id id = { 1, ino, objno, v, idx };

	return id;
}

/* Build a SHARD_PUT payload for len bytes of fill(seed). */
static void put_payload(struct wbuf *w, struct wire_shard_id id, uint32_t len,
			uint64_t seed, int corrupt)
{
	struct wire_shard_put m;
	uint8_t *data, *csums;

	memset(&m, 0, sizeof(m));
	m.id = id;
	m.k = 4;
	m.m = 2;
	m.obj_len = len * 4;
	m.data_len = len;
	wbuf_init(w);
	data = wire_enc_shard_put_inplace(w, &m, &csums);
	assert_non_null(data);
	fill(data, len, seed);
	for (uint32_t b = 0; b < wire_csum_count(len); b++)
		put_le32(csums + 4 * b,
			 store_crc32c(0, data + b * WIRE_CSUM_BLOCK,
				      MIN(WIRE_CSUM_BLOCK,
					  len - b * WIRE_CSUM_BLOCK)));
	if (corrupt && len)
		data[len / 2] ^= 1;
}

static int put(struct env *e, struct wire_shard_id id, uint32_t len,
	       uint64_t seed)
{
	struct rpc_call c;
	struct wbuf w;
	int rc;

	put_payload(&w, id, len, seed, 0);
	rc = call(e, WIRE_SHARD_PUT, &w, &c, 10000);
	if (!rc)
		rc = c.rhdr.status;
	rpc_call_release(&c);
	return rc;
}

/* GET the whole shard and compare with fill(seed). */
static int get_check(struct env *e, struct wire_shard_id id, uint32_t len,
		     uint64_t seed)
{
	struct wire_shard_get g = { id, 0, 0, 0 };
	struct wire_shard_get_reply r;
	struct rpc_call c;
	struct wbuf w;
	uint8_t *want;
	int rc;

	wbuf_init(&w);
	wire_enc_shard_get(&w, &g);
	rc = call(e, WIRE_SHARD_GET, &w, &c, 10000);
	if (!rc)
		rc = c.rhdr.status;
	if (rc) {
		rpc_call_release(&c);
		return rc;
	}
	assert_int_equal(wire_dec_shard_get_reply(rpc_reply_payload(&c),
						  c.rhdr.payload_len, &r),
			 0);
	assert_int_equal(r.shard_len, len);
	assert_int_equal(r.data_len, len);
	assert_int_equal(r.k, 4);
	want = malloc(len ? len : 1);
	fill(want, len, seed);
	assert_memory_equal(r.data, want, len);
	for (uint32_t b = 0; b < wire_csum_count(len); b++)
		assert_int_equal(get_le32(r.csums + 4 * b),
				 store_crc32c(0, r.data + b * WIRE_CSUM_BLOCK,
					      MIN(WIRE_CSUM_BLOCK,
						  len - b * WIRE_CSUM_BLOCK)));
	free(want);
	assert_int_equal(c.rhdr.epoch, e->mds.map.epoch);
	rpc_call_release(&c);
	return 0;
}

static int del(struct env *e, struct wire_shard_id id, uint32_t flags)
{
	struct wire_shard_delete d = { id, flags };
	struct rpc_call c;
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wire_enc_shard_delete(&w, &d);
	rc = call(e, WIRE_SHARD_DELETE, &w, &c, 10000);
	if (!rc)
		rc = c.rhdr.status;
	rpc_call_release(&c);
	return rc;
}

/* LIST into ids[]; returns the count or -errno. */
static int list(struct env *e, uint32_t pool, uint32_t pg,
		struct wire_shard_id *ids, uint32_t max, int *more)
{
	struct wire_shard_list l;
	struct wire_shard_list_reply r;
	struct wire_shard_entry ent;
	struct rpc_call c;
	struct wbuf w;
	int rc, n = 0;

	memset(&l, 0, sizeof(l));
	l.pool = pool;
	l.pg = pg;
	l.max = max;
	wbuf_init(&w);
	wire_enc_shard_list(&w, &l);
	rc = call(e, WIRE_SHARD_LIST, &w, &c, 10000);
	if (!rc)
		rc = c.rhdr.status;
	if (rc) {
		rpc_call_release(&c);
		return rc;
	}
	assert_int_equal(wire_dec_shard_list_reply(rpc_reply_payload(&c),
						   c.rhdr.payload_len, &r),
			 0);
	while (wire_shard_list_next(&r, &ent))
		ids[n++] = ent.id;
	*more = r.more;
	rpc_call_release(&c);
	return n;
}

static char *err_text(struct rpc_call *c, char *buf, size_t len)
{
	assert_int_equal(wire_dec_error(rpc_reply_payload(c),
					c->rhdr.payload_len, buf, len),
			 0);
	return buf;
}

/* ---- tests ---------------------------------------------------------------*/

static void test_serve(void **state)
{
	static const uint32_t sizes[] = { 0, 1, 4095, 4096, 100000, 1 << 20,
					  (4 << 20) + 5 };
	struct env *e = *state;
	struct wire_shard_id ids[64];
	struct rpc_call c;
	struct wbuf w;
	char text[1100];
	int more, n;

	osd_start(&e->osd, e->mds.addr);
	wait_serving(e);
	assert_int_equal(e->mds.boots, 1);
	assert_int_equal(e->mds.last_boot_id, WIRE_OSD_NEW);
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		assert_int_equal(put(e, sid(2, i, 1, 5), sizes[i], i), 0);
		assert_int_equal(get_check(e, sid(2, i, 1, 5), sizes[i], i), 0);
		assert_int_equal(get_check(e, sid(2, i, 1, 0), sizes[i], i), 0);
	}
	/* A checksum that does not match: refused, nothing stored. */
	put_payload(&w, sid(3, 0, 0, 1), 10000, 1, 1);
	assert_int_equal(call(e, WIRE_SHARD_PUT, &w, &c, 5000), 0);
	assert_int_equal(c.rhdr.status, -EBADMSG);
	assert_non_null(strstr(err_text(&c, text, sizeof(text)),
			       "checksum mismatch"));
	rpc_call_release(&c);
	assert_int_equal(get_check(e, sid(3, 0, 0, 1), 10000, 1), -ENOENT);
	/* Missing shard: ENOENT with a sentence naming it. */
	{
		struct wire_shard_get g = { sid(9, 9, 9, 9), 0, 0, 0 };

		wbuf_init(&w);
		wire_enc_shard_get(&w, &g);
		assert_int_equal(call(e, WIRE_SHARD_GET, &w, &c, 5000), 0);
		assert_int_equal(c.rhdr.status, -ENOENT);
		assert_non_null(strstr(err_text(&c, text, sizeof(text)),
				       "ino 9"));
		rpc_call_release(&c);
		g.id = sid(2, 4, 1, 5);
		g.offset = 200000;
		wbuf_init(&w);
		wire_enc_shard_get(&w, &g);
		assert_int_equal(call(e, WIRE_SHARD_GET, &w, &c, 5000), 0);
		assert_int_equal(c.rhdr.status, -ERANGE);
		rpc_call_release(&c);
	}
	/* A malformed payload gets EBADMSG; an unknown type EOPNOTSUPP. */
	wbuf_init(&w);
	wbuf_raw(&w, "nonsense", 8);
	assert_int_equal(call(e, WIRE_SHARD_PUT, &w, &c, 5000), 0);
	assert_int_equal(c.rhdr.status, -EBADMSG);
	rpc_call_release(&c);
	assert_int_equal(call(e, WIRE_LOOKUP, NULL, &c, 5000), 0);
	assert_int_equal(c.rhdr.status, -EOPNOTSUPP);
	assert_non_null(strstr(err_text(&c, text, sizeof(text)), "LOOKUP"));
	rpc_call_release(&c);
	/* List everything, then by PG. */
	n = list(e, 1, WIRE_PG_ALL, ids, 64, &more);
	assert_int_equal(n, (int)ARRAY_SIZE(sizes));
	assert_int_equal(more, 0);
	{
		const struct map_pool *pool = map_pool(&e->mds.map, 1);
		unsigned total = 0;

		for (uint32_t pg = 0; pg < pool->pg_num; pg++) {
			n = list(e, 1, pg, ids, 64, &more);
			assert_true(n >= 0);
			for (int i = 0; i < n; i++)
				assert_int_equal(crush_object_pg(pool,
								 ids[i].ino,
								 ids[i].objno),
						 pg);
			total += (unsigned)n;
		}
		assert_int_equal(total, ARRAY_SIZE(sizes));
	}
	assert_int_equal(list(e, 7, 0, ids, 64, &more), -ENOENT);
	assert_int_equal(list(e, 7, WIRE_PG_ALL, ids, 64, &more), 0);
	n = list(e, 1, WIRE_PG_ALL, ids, 3, &more);
	assert_int_equal(n, 3);
	assert_int_equal(more, 1);
	/* Delete, and delete older. */
	assert_int_equal(del(e, sid(2, 0, 1, 5), 0), 0);
	assert_int_equal(get_check(e, sid(2, 0, 1, 5), 0, 0), -ENOENT);
	assert_int_equal(del(e, sid(2, 0, 1, 5), 0), 0);
	assert_int_equal(put(e, sid(2, 1, 1, 6), 10, 77), 0);
	assert_int_equal(del(e, sid(2, 1, 1, 6), WIRE_DEL_OLDER), 0);
	assert_int_equal(get_check(e, sid(2, 1, 1, 5), 1, 1), -ENOENT);
	assert_int_equal(get_check(e, sid(2, 1, 1, 0), 10, 77), 0);
	/* Heartbeats flow. */
	usleep(300000);
	assert_true(e->mds.heartbeats >= 2);
	assert_int_equal(osd_stop(&e->osd), 0);
}

static void test_garbage(void **state)
{
	struct env *e = *state;
	int s, to = 1000;

	osd_start(&e->osd, e->mds.addr);
	wait_serving(e);
	s = nn_socket(AF_SP, NN_REQ);
	assert_true(s >= 0);
	nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &to, sizeof(to));
	nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &to, sizeof(to));
	assert_true(nn_connect(s, e->osd.addr) >= 0);
	for (int i = 0; i < 20; i++) {
		uint8_t junk[200];

		for (size_t j = 0; j < sizeof(junk); j++)
			junk[j] = (uint8_t)rand();
		if (i % 2) {
			/* A real header over junk: a valid frame with a
			 * payload no decoder accepts. */
			struct wbuf w;

			wbuf_init_fixed(&w, junk, sizeof(junk));
			wire_msg_begin(&w, WIRE_SHARD_PUT + (unsigned)(i % 4),
				       0, 0, 0, 0);
			w.len = sizeof(junk);
			assert_int_equal(wire_msg_finish(&w, 0), 0);
		}
		assert_true(nn_send(s, junk, sizeof(junk), 0) >= 0);
		if (i % 2) {
			/* The valid frame is answered: EBADMSG. */
			struct wire_hdr h;
			void *buf = NULL;
			int n;

			n = nn_recv(s, &buf, NN_MSG, 0);
			assert_true(n > 0);
			assert_int_equal(wire_hdr_decode(buf, (size_t)n, &h),
					 0);
			assert_int_equal(h.status, -EBADMSG);
			assert_int_equal(h.type,
					 WIRE_SHARD_PUT + (unsigned)(i % 4));
			nn_freemsg(buf);
		} else {
			usleep(10000);
		}
	}
	nn_close(s);
	assert_int_equal(ping(e), 0);
	assert_int_equal(put(e, sid(4, 0, 0, 1), 5000, 4), 0);
	assert_int_equal(get_check(e, sid(4, 0, 0, 1), 5000, 4), 0);
}

/* A peer that sends a large request and vanishes before the reply. */
static void test_peer_dies(void **state)
{
	struct env *e = *state;
	struct wbuf w, body;

	osd_start(&e->osd, e->mds.addr);
	wait_serving(e);
	for (int i = 0; i < 5; i++) {
		int s = nn_socket(AF_SP, NN_REQ), to = 2000;

		assert_true(s >= 0);
		nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &to, sizeof(to));
		{
			int max = -1;

			nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max,
				      sizeof(max));
		}
		assert_true(nn_connect(s, e->osd.addr) >= 0);
		put_payload(&body, sid(5, (uint64_t)i, 0, 1), 2 << 20,
			    (uint64_t)i, 0);
		wbuf_init(&w);
		wire_msg_begin(&w, WIRE_SHARD_PUT, 0, 1, 0, 0);
		wbuf_raw(&w, body.p, body.len);
		assert_int_equal(wire_msg_finish(&w, 0), 0);
		wbuf_free(&body);
		assert_true(nn_send(s, w.p, w.len, 0) >= 0);
		wbuf_free(&w);
		nn_close(s); /* gone before the reply */
	}
	usleep(200000);
	assert_int_equal(ping(e), 0);
	assert_int_equal(put(e, sid(5, 100, 0, 1), 3000, 9), 0);
	assert_int_equal(get_check(e, sid(5, 100, 0, 1), 3000, 9), 0);
}

static void done_ignore(struct rpc_call *c)
{
	(void)c;
}

/* Many requests in flight from many connections, answered out of order. */
static void test_parallel(void **state)
{
	enum { N = 120 };
	struct env *e = *state;
	static struct rpc_call calls[N];
	struct rpc_group g;

	(void)done_ignore;
	osd_start(&e->osd, e->mds.addr);
	wait_serving(e);
	rpc_group_init(&g);
	for (int i = 0; i < N; i++) {
		struct wbuf p, w;

		put_payload(&p, sid(6, (uint64_t)i, 0, 1),
			    (uint32_t)(i * 7919) % (600 * 1024), (uint64_t)i,
			    0);
		wbuf_init_alloc(&w, &net_wbuf_alloc);
		wire_msg_begin(&w, WIRE_SHARD_PUT, 0, 0, 0, 0);
		wbuf_raw(&w, p.p, p.len);
		wbuf_free(&p);
		assert_int_equal(wire_msg_finish(&w, 0), 0);
		memset(&calls[i], 0, sizeof(calls[i]));
		calls[i].peer = e->peer;
		calls[i].req = w.p;
		calls[i].req_len = w.len;
		calls[i].req_nn = 1;
		calls[i].timeout_ms = 20000;
		rpc_group_submit(e->rpc, &g, &calls[i]);
	}
	rpc_group_wait(&g);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rpc_result(&calls[i]), 0);
		rpc_call_release(&calls[i]);
	}
	rpc_group_destroy(&g);
	for (int i = 0; i < N; i++)
		assert_int_equal(get_check(e, sid(6, (uint64_t)i, 0, 1),
					   (uint32_t)(i * 7919) % (600 * 1024),
					   (uint64_t)i),
				 0);
}

/* A restart keeps the data, the uuid and the id. */
static void test_restart(void **state)
{
	struct env *e = *state;
	uint8_t uuid[16];

	osd_start(&e->osd, e->mds.addr);
	wait_serving(e);
	assert_int_equal(put(e, sid(7, 0, 0, 1), 70000, 70), 0);
	memcpy(uuid, e->mds.last_uuid, 16);
	assert_int_equal(osd_stop(&e->osd), 0);
	osd_start(&e->osd, e->mds.addr);
	wait_serving(e);
	assert_int_equal(e->mds.boots, 2);
	assert_int_equal(e->mds.last_boot_id, 0);
	assert_memory_equal(e->mds.last_uuid, uuid, 16);
	assert_int_equal(get_check(e, sid(7, 0, 0, 1), 70000, 70), 0);
	assert_int_equal(osd_stop(&e->osd), 0);
}

/* The MDS is not there at first; then it goes away; then it forgets the
 * OSD.  The OSD waits, keeps serving, and boots again. */
static void test_mds_late(void **state)
{
	struct env *e = *state;
	int boots;

	mds_stop(&e->mds);
	osd_start(&e->osd, e->mds.addr);
	usleep(300000);
	assert_int_not_equal(ping(e), 0); /* not serving before the boot */
	mds_start(&e->mds);
	wait_serving(e);
	assert_int_equal(put(e, sid(8, 0, 0, 1), 1000, 8), 0);
	mds_stop(&e->mds);
	usleep(500000);
	assert_int_equal(get_check(e, sid(8, 0, 0, 1), 1000, 8), 0);
	assert_int_equal(put(e, sid(8, 1, 0, 1), 1000, 9), 0);
	mds_start(&e->mds);
	pthread_mutex_lock(&e->mds.mu);
	boots = e->mds.boots;
	e->mds.forget = 1;
	pthread_mutex_unlock(&e->mds.mu);
	for (int i = 0; i < 100 && e->mds.boots == boots; i++)
		usleep(20000);
	assert_int_equal(e->mds.boots, boots + 1);
	assert_int_equal(ping(e), 0);
	assert_int_equal(osd_stop(&e->osd), 0);
}

/* A folder of another cluster is refused at once. */
static void test_other_cluster(void **state)
{
	struct env *e = *state;

	osd_start(&e->osd, e->mds.addr);
	wait_serving(e);
	assert_int_equal(osd_stop(&e->osd), 0);
	mds_stop(&e->mds);
	mds_free(&e->mds);
	memset(&e->mds, 0, sizeof(e->mds));
	memset(e->mds.cluster_id, 0xd2, 16);
	mds_start(&e->mds);
	osd_start(&e->osd, e->mds.addr);
	pthread_join(e->osd.thread, NULL);
	e->osd.running = 0;
	close(e->osd.cfg.stop_fd);
	assert_int_equal(e->osd.rc, -EXDEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_serve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_dies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parallel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mds_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_cluster, setup,
						teardown),
	};

	log_init("test_osd_server", LOG_WARN);
	/* TEST_FILTER=test_name runs one case (when chasing a failure). */
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
