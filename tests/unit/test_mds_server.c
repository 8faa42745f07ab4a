/*
 * test_mds_server.c -- the MDS on a real socket: its event loop in a
 * thread on a free 127.0.0.1 port, driven with the RPC engine.  Requests
 * and replies, garbage frames (dropped, service goes on), many concurrent
 * changes committed in few transactions (group commit, with real fsyncs),
 * and a restart on the same folder and address with the data still there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../mds/mds.h"
#include "../../mds/server.h"
#include "log.h"
#include "net.h"
#include "util.h"
#include "wire.h"
#include "wire_mon.h"
#include "wire_ns.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct srv {
	char dir[64];
	char addr[64];
	struct mds *m;
	struct mds_server *s;
	pthread_t thread;
	volatile sig_atomic_t stop;
	int rc;
};

static void *serve(void *arg)
{
	struct srv *v = arg;

	v->rc = mds_server_run(v->s, &v->stop);
	return NULL;
}

static int free_port(void)
{
	static int next;

	if (!next)
		next = 21000 + (getpid() % 19000);
	return next++;
}

static void srv_start(struct srv *v, int nosync)
{
	struct mds_opts o;
	char err[1024];

	mds_opts_default(&o);
	o.dir = v->dir;
	o.nosync = nosync;
	o.map_size = 1ull << 30;
	assert_int_equal(mds_open(&o, &v->m, err, sizeof(err)), 0);
	if (!v->addr[0]) {
		for (int i = 0; i < 50; i++) {
			snprintf(v->addr, sizeof(v->addr),
				 "tcp://127.0.0.1:%d", free_port());
			if (mds_server_open(v->m, v->addr, &v->s) == 0)
				break;
		}
	} else {
		/* The old socket may linger a moment after close. */
		for (int i = 0; i < 100; i++) {
			if (mds_server_open(v->m, v->addr, &v->s) == 0)
				break;
			usleep(20000);
		}
	}
	assert_non_null(v->s);
	v->stop = 0;
	assert_int_equal(pthread_create(&v->thread, NULL, serve, v), 0);
}

static void srv_stop(struct srv *v)
{
	v->stop = 1;
	pthread_join(v->thread, NULL);
	assert_int_equal(v->rc, 0);
	mds_server_close(v->s);
	v->s = NULL;
	mds_close(v->m);
	v->m = NULL;
}

static int setup(void **state)
{
	struct srv *v = calloc(1, sizeof(*v));
	struct mds_cluster_opts co;
	struct mds_opts o;
	uint8_t id[16];
	char err[1024];

	snprintf(v->dir, sizeof(v->dir), "/tmp/test_mds_server.XXXXXX");
	assert_non_null(mkdtemp(v->dir));
	mds_opts_default(&o);
	o.dir = v->dir;
	o.map_size = 1ull << 30;
	mds_cluster_opts_default(&co);
	assert_int_equal(mds_create(&o, &co, id, err, sizeof(err)), 0);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct srv *v = *state;
	char cmd[128];

	if (v->m)
		srv_stop(v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
	assert_int_equal(system(cmd), 0);
	free(v);
	return 0;
}

/* Build a call of type with header flags and the payload in pl (may be
 * NULL). */
static void make_call_flags(struct rpc_call *c, struct rpc_peer *p,
			    unsigned type, unsigned flags, uint64_t req_id,
			    const struct wbuf *pl)
{
	struct wbuf w;

	memset(c, 0, sizeof(*c));
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, type, flags, 0, 0, 0);
	if (pl)
		wbuf_raw(&w, pl->p, pl->len);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	c->peer = p;
	c->req = w.p;
	c->req_len = w.len;
	c->req_nn = 1;
	c->req_id = req_id;
	c->timeout_ms = 10000;
}

static void make_call(struct rpc_call *c, struct rpc_peer *p, unsigned type,
		      uint64_t req_id, const struct wbuf *pl)
{
	make_call_flags(c, p, type, 0, req_id, pl);
}

static int ns_call(struct rpc_engine *e, struct rpc_peer *p, unsigned type,
		   uint64_t req_id, const struct wire_ns_req *q,
		   struct wire_ns_reply *r, struct rpc_call *c)
{
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wire_enc_ns_req(&w, type, q);
	make_call(c, p, type, req_id, &w);
	wbuf_free(&w);
	assert_int_equal(rpc_call_wait(e, c), 0);
	assert_true(c->rhdr.flags & WIRE_F_REPLY);
	assert_int_equal(c->rhdr.type, type);
	rc = c->rhdr.status;
	if (rc == 0 && r)
		assert_int_equal(wire_dec_ns_reply(type, rpc_reply_payload(c),
						   c->rhdr.payload_len, r), 0);
	return rc;
}

static void test_requests(void **state)
{
	struct srv *v = *state;
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wire_ns_reply r;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct rpc_call c;
	struct wire_status st;
	uint64_t sid, dir;

	srv_start(v, 1);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, v->addr, 4, &p), 0);
	strcpy(q->name, "client.test");
	assert_int_equal(ns_call(e, p, WIRE_SESSION_OPEN, 0, q, &r, &c), 0);
	sid = r.session_id;
	assert_int_equal(sid, 1);
	assert_int_equal(r.root_ino, 1);
	assert_int_equal(c.rhdr.epoch, 1);
	rpc_call_release(&c);
	memset(q, 0, sizeof(*q));
	q->ino = 1;
	q->mode = 0755;
	strcpy(q->name, "dir");
	assert_int_equal(ns_call(e, p, WIRE_MKDIR, sid << 32 | 1, q, &r, &c),
			 0);
	dir = r.attr.ino;
	rpc_call_release(&c);
	assert_int_equal(ns_call(e, p, WIRE_LOOKUP, 0, q, &r, &c), 0);
	assert_int_equal(r.attr.ino, dir);
	rpc_call_release(&c);
	/* The same MKDIR resent (same id): the first answer again. */
	assert_int_equal(ns_call(e, p, WIRE_MKDIR, sid << 32 | 1, q, &r, &c),
			 0);
	assert_int_equal(r.attr.ino, dir);
	rpc_call_release(&c);
	/* A new MKDIR of the same name: -EEXIST with a sentence. */
	assert_int_equal(ns_call(e, p, WIRE_MKDIR, sid << 32 | 2, q, NULL, &c),
			 -EEXIST);
	{
		char text[STORE_ERRMSG_MAX + 1];

		assert_int_equal(wire_dec_error(rpc_reply_payload(&c),
						c.rhdr.payload_len, text,
						sizeof(text)), 0);
		assert_non_null(strstr(text, "'dir' already exists"));
	}
	rpc_call_release(&c);
	/* STATUS and PING. */
	make_call(&c, p, WIRE_STATUS, 0, NULL);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	assert_int_equal(c.rhdr.status, 0);
	assert_int_equal(wire_dec_status(rpc_reply_payload(&c),
					 c.rhdr.payload_len, &st), 0);
	assert_int_equal(st.health, WIRE_HEALTH_ERR); /* no OSDs */
	assert_int_equal(st.files, 2);
	rpc_call_release(&c);
	{
		struct wbuf w;

		wbuf_init(&w);
		wbuf_raw(&w, "ping!", 5);
		make_call(&c, p, WIRE_PING, 0, &w);
		wbuf_free(&w);
		assert_int_equal(rpc_call_wait(e, &c), 0);
		assert_int_equal(c.rhdr.payload_len, 5);
		assert_memory_equal(rpc_reply_payload(&c), "ping!", 5);
		rpc_call_release(&c);
	}
	rpc_engine_destroy(e);
	free(q);
}

static void test_garbage(void **state)
{
	struct srv *v = *state;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct rpc_call c;
	struct wbuf w;
	int s, to = 1000;

	srv_start(v, 1);
	s = nn_socket(AF_SP, NN_REQ);
	assert_true(s >= 0);
	nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &to, sizeof(to));
	assert_true(nn_connect(s, v->addr) >= 0);
	for (int i = 0; i < 10; i++) {
		uint8_t junk[64];

		for (size_t j = 0; j < sizeof(junk); j++)
			junk[j] = (uint8_t)(rand() & 0xff);
		assert_true(nn_send(s, junk, (size_t)(i * 6 + 1), 0) >= 0);
		usleep(20000);
	}
	for (int i = 0; i < 100 && mds_server_garbage(v->s) < 10; i++)
		usleep(10000);
	assert_int_equal(mds_server_garbage(v->s), 10);
	nn_close(s);
	/* A valid frame with a payload that does not decode: -EBADMSG. */
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, v->addr, 2, &p), 0);
	wbuf_init(&w);
	wbuf_raw(&w, "\x01\x02\x03", 3);
	make_call(&c, p, WIRE_LOOKUP, 0, &w);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	assert_int_equal(c.rhdr.status, -EBADMSG);
	rpc_call_release(&c);
	make_call(&c, p, WIRE_HEARTBEAT, 0, &w);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	assert_int_equal(c.rhdr.status, -EBADMSG);
	rpc_call_release(&c);
	wbuf_free(&w);
	/* And still serving. */
	make_call(&c, p, WIRE_PING, 0, NULL);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	assert_int_equal(c.rhdr.status, 0);
	rpc_call_release(&c);
	rpc_engine_destroy(e);
}

static void test_group_commit(void **state)
{
	enum { N = 300 };
	static struct rpc_call calls[N];
	struct srv *v = *state;
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct rpc_group g;
	uint64_t commits, t0, dt;

	srv_start(v, 0); /* real fsyncs */
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, v->addr, 32, &p), 0);
	commits = v->m->n_commits;
	rpc_group_init(&g);
	t0 = now_ns();
	for (int i = 0; i < N; i++) {
		struct wbuf w;

		memset(q, 0, sizeof(*q));
		q->ino = 1;
		q->mode = S_IFREG | 0644;
		q->flags = WIRE_CREATE_EXCL;
		snprintf(q->name, sizeof(q->name), "f%03d", i);
		wbuf_init(&w);
		wire_enc_ns_req(&w, WIRE_CREATE, q);
		make_call(&calls[i], p, WIRE_CREATE, 0, &w);
		wbuf_free(&w);
		rpc_group_submit(e, &g, &calls[i]);
	}
	rpc_group_wait(&g);
	dt = now_ns() - t0;
	for (int i = 0; i < N; i++) {
		assert_int_equal(rpc_result(&calls[i]), 0);
		rpc_call_release(&calls[i]);
	}
	rpc_group_destroy(&g);
	print_message("%d concurrent creates (32 connections): %llu commits, "
		      "%.0f creates/s\n", N,
		      (unsigned long long)(v->m->n_commits - commits),
		      N / ((double)dt / 1e9));
	/* Several requests shared each commit. */
	assert_true(v->m->n_commits - commits < N / 2);
	rpc_engine_destroy(e);
	free(q);
}

/* The last committed transaction's id, read from the environment. */
static uint64_t last_txnid(struct mds *m)
{
	MDB_envinfo info;

	assert_int_equal(mdb_env_info(m->db.env, &info), 0);
	return (uint64_t)info.me_last_txnid;
}

/* Commits reach stable storage when a WIRE_F_SYNC request asks, and by
 * themselves within MDS_SYNC_DELAY_MS (plus the loop's poll) when none
 * does. */
static void test_sync(void **state)
{
	struct srv *v = *state;
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wire_ns_reply r;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct rpc_call c;
	uint64_t txn;
	int synced = 0;

	srv_start(v, 0);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, v->addr, 2, &p), 0);
	q->ino = 1;
	q->mode = S_IFREG | 0600;
	strcpy(q->name, "synced");
	assert_int_equal(ns_call(e, p, WIRE_CREATE, 0, q, &r, &c), 0);
	rpc_call_release(&c);
	txn = last_txnid(v->m);
	/* The reply to a synced PING comes after the sync. */
	make_call_flags(&c, p, WIRE_PING, WIRE_F_SYNC, 0, NULL);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	assert_int_equal(c.rhdr.status, 0);
	rpc_call_release(&c);
	assert_true(__atomic_load_n(&v->m->db.synced_txnid,
				    __ATOMIC_ACQUIRE) >= txn);
	/* Unasked: the MDS syncs a commit by itself. */
	strcpy(q->name, "unasked");
	assert_int_equal(ns_call(e, p, WIRE_CREATE, 0, q, &r, &c), 0);
	rpc_call_release(&c);
	txn = last_txnid(v->m);
	for (int i = 0; i < 100 && !synced; i++) {
		usleep(10000);
		synced = __atomic_load_n(&v->m->db.synced_txnid,
					 __ATOMIC_ACQUIRE) >= txn;
	}
	assert_true(synced);
	rpc_engine_destroy(e);
	free(q);
}

static void test_restart(void **state)
{
	struct srv *v = *state;
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wire_ns_reply r;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct rpc_call c;
	uint64_t ino;
	int ok = 0;

	srv_start(v, 0);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, v->addr, 2, &p), 0);
	q->ino = 1;
	q->mode = S_IFREG | 0600;
	strcpy(q->name, "survivor");
	assert_int_equal(ns_call(e, p, WIRE_CREATE, 0, q, &r, &c), 0);
	ino = r.attr.ino;
	rpc_call_release(&c);
	srv_stop(v);
	srv_start(v, 0);
	for (int i = 0; i < 50 && !ok; i++) {
		struct wbuf w;

		wbuf_init(&w);
		wire_enc_ns_req(&w, WIRE_LOOKUP, q);
		make_call(&c, p, WIRE_LOOKUP, 0, &w);
		c.timeout_ms = 1000;
		wbuf_free(&w);
		if (rpc_call_wait(e, &c) == 0) {
			ok = 1;
			assert_int_equal(c.rhdr.status, 0);
			assert_int_equal(wire_dec_ns_reply(WIRE_LOOKUP,
					 rpc_reply_payload(&c),
					 c.rhdr.payload_len, &r), 0);
			assert_int_equal(r.attr.ino, ino);
		}
		rpc_call_release(&c);
	}
	assert_true(ok);
	rpc_engine_destroy(e);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
	};

	log_init("test_mds_server", LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
