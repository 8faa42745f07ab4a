/*
 * test_mds_purge.c -- the purge queue: shards of an unlinked file are
 * deleted from the OSDs that hold them (fake OSDs on real sockets record
 * every SHARD_DELETE), each position at the OSD CRUSH gives it; an entry
 * with an OSD down waits until the OSD is back; failed deletes are
 * retried.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../mds/mds.h"
#include "../../mds/purge.h"
#include "crush.h"
#include "log.h"
#include "net.h"
#include "util.h"
#include "wire.h"
#include "wire_mon.h"
#include "wire_ns.h"
#include "wire_osd.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_OSDS 6
#define MAX_SEEN 256

/* Fake OSDs: answer SHARD_DELETE and remember what was asked where. */
static struct {
	struct net_server *srv[N_OSDS];
	char addr[N_OSDS][64];
	pthread_t thread;
	volatile int stop;
	volatile int fail_osd; /* answer -EIO on this one (-1: none) */
	pthread_mutex_t mu;
	int n_seen;
	struct {
		int osd;
		struct wire_shard_id id;
	} seen[MAX_SEEN];
} F;

static char dir[64];
static struct mds *M;
static struct wire_hdr H;
static uint8_t *P;

static void ok_reply(struct net_server *s, struct net_req *req)
{
	struct wbuf w;

	wbuf_init(&w);
	wire_msg_begin(&w, req->hdr.type, WIRE_F_REPLY, req->hdr.req_id, 0,
		       0);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	net_server_reply(s, req, w.p, w.len, 0);
	wbuf_free(&w);
}

static void *fake_main(void *arg)
{
	(void)arg;
	while (!F.stop) {
		struct pollfd pfd[N_OSDS];

		for (int i = 0; i < N_OSDS; i++) {
			pfd[i].fd = net_server_fd(F.srv[i]);
			pfd[i].events = POLLIN;
		}
		poll(pfd, N_OSDS, 20);
		for (int i = 0; i < N_OSDS; i++) {
			struct net_req req;

			while (net_server_recv(F.srv[i], &req) == 1) {
				struct wire_shard_delete d;
				int ok = req.hdr.type == WIRE_SHARD_DELETE &&
					 wire_dec_shard_delete(
						 wire_payload(req.msg),
						 req.hdr.payload_len, &d) == 0;

				if (!ok || F.fail_osd == i) {
					net_server_reply_error(F.srv[i], &req, 0,
							       -EIO, "no");
					continue;
				}
				pthread_mutex_lock(&F.mu);
				if (F.n_seen < MAX_SEEN) {
					F.seen[F.n_seen].osd = i;
					F.seen[F.n_seen].id = d.id;
					F.n_seen++;
				}
				pthread_mutex_unlock(&F.mu);
				ok_reply(F.srv[i], &req);
			}
		}
	}
	return NULL;
}

static void reply_cb(void *arg, struct mds_msg *msg)
{
	(void)arg;
	assert_int_equal(wire_hdr_decode(msg->reply.p, msg->reply.len, &H), 0);
	free(P);
	P = malloc(msg->reply.len);
	memcpy(P, msg->reply.p, msg->reply.len);
}

static int call(unsigned type, const struct wbuf *pl)
{
	struct mds_msg msg;
	struct wbuf w;

	wbuf_init(&w);
	wire_msg_begin(&w, type, 0, 1, 0, 0);
	if (pl)
		wbuf_raw(&w, pl->p, pl->len);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	memset(&msg, 0, sizeof(msg));
	msg.frame = w.p;
	msg.len = w.len;
	assert_int_equal(wire_hdr_decode(w.p, w.len, &msg.hdr), 0);
	mds_handle(M, &msg, 1, reply_cb, NULL);
	wbuf_free(&w);
	return H.status;
}

static int ns(unsigned type, const struct wire_ns_req *q,
	      struct wire_ns_reply *r)
{
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wire_enc_ns_req(&w, type, q);
	rc = call(type, &w);
	wbuf_free(&w);
	if (rc == 0 && r)
		assert_int_equal(wire_dec_ns_reply(type, wire_payload(P),
						   H.payload_len, r), 0);
	return rc;
}

static void osd_cmd(uint32_t op, uint32_t id)
{
	struct wire_osd_cmd c = { op, id, 0 };
	struct wbuf w;

	wbuf_init(&w);
	wire_enc_osd_cmd(&w, &c);
	assert_int_equal(call(WIRE_OSD_CMD, &w), 0);
	wbuf_free(&w);
}

/* A file with objects 0..n-1 at the given versions, then unlinked. */
static uint64_t file_gone(const char *name, int n, uint64_t version)
{
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wire_ns_reply r;
	struct wbuf objs;
	uint64_t ino;

	q->ino = 1;
	q->mode = S_IFREG | 0644;
	snprintf(q->name, sizeof(q->name), "%s", name);
	assert_int_equal(ns(WIRE_CREATE, q, &r), 0);
	ino = r.attr.ino;
	memset(q, 0, sizeof(*q));
	q->ino = ino;
	wbuf_init(&objs);
	for (int i = 0; i < n; i++) {
		struct wire_obj o = { (uint64_t)i, version + (uint64_t)i, 100 };

		wire_enc_obj(&objs, &o);
	}
	q->n_objs = (uint32_t)n;
	wire_ns_set_list(&q->objs, &objs);
	assert_int_equal(ns(WIRE_COMMIT, q, NULL), 0);
	wbuf_free(&objs);
	memset(q, 0, sizeof(*q));
	q->ino = 1;
	snprintf(q->name, sizeof(q->name), "%s", name);
	assert_int_equal(ns(WIRE_UNLINK, q, NULL), 0);
	free(q);
	return ino;
}

static uint64_t queued(void)
{
	MDB_txn *txn;
	uint64_t n;

	assert_int_equal(db_begin(&M->db, NULL, 1, &txn), 0);
	assert_int_equal(db_purge_count(&M->db, txn, &n), 0);
	mdb_txn_abort(txn);
	return n;
}

/* Step the purger until the queue holds `left` entries (or time out). */
static void drain(struct purger *p, uint64_t left, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (now_ms() < end) {
		struct pollfd pfd = { purger_fd(p), POLLIN, 0 };

		assert_int_equal(purger_step(p), 0);
		if (queued() == left && purger_busy(p) == 0)
			return;
		poll(&pfd, 1, 20);
	}
}

static int setup(void **state)
{
	struct mds_cluster_opts co;
	struct mds_opts o;
	uint8_t id[16];
	char err[1024];
	int port = 23000 + getpid() % 15000;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_mds_purge.XXXXXX");
	assert_non_null(mkdtemp(dir));
	mds_opts_default(&o);
	o.dir = dir;
	o.nosync = 1;
	o.map_size = 1ull << 30;
	mds_cluster_opts_default(&co);
	co.pg_num = 16;
	co.object_size = 8192;
	assert_int_equal(mds_create(&o, &co, id, err, sizeof(err)), 0);
	assert_int_equal(mds_open(&o, &M, err, sizeof(err)), 0);
	memset(&F, 0, sizeof(F));
	F.fail_osd = -1;
	pthread_mutex_init(&F.mu, NULL);
	for (int i = 0; i < N_OSDS; i++) {
		for (int t = 0; t < 50; t++) {
			snprintf(F.addr[i], sizeof(F.addr[i]),
				 "tcp://127.0.0.1:%d", port++);
			if (net_server_open(F.addr[i], &F.srv[i]) == 0)
				break;
		}
		assert_non_null(F.srv[i]);
	}
	assert_int_equal(pthread_create(&F.thread, NULL, fake_main, NULL), 0);
	for (int i = 0; i < N_OSDS; i++) {
		struct wire_osd_boot b;
		struct wbuf w;

		memset(&b, 0, sizeof(b));
		b.uuid[0] = (uint8_t)(i + 1);
		b.osd_id = WIRE_OSD_NEW;
		b.weight = 1;
		snprintf(b.host, sizeof(b.host), "host%d", i);
		snprintf(b.addr, sizeof(b.addr), "%s", F.addr[i]);
		wbuf_init(&w);
		wire_enc_osd_boot(&w, &b);
		assert_int_equal(call(WIRE_OSD_BOOT, &w), 0);
		wbuf_free(&w);
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	F.stop = 1;
	pthread_join(F.thread, NULL);
	for (int i = 0; i < N_OSDS; i++)
		net_server_close(F.srv[i]);
	mds_close(M);
	free(P);
	P = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Was shard (ino, objno, version, idx) deleted at the OSD of position
 * idx? */
static int seen_at(uint64_t ino, uint64_t objno, uint64_t version,
		   unsigned idx, uint32_t osd)
{
	int hit = 0;

	pthread_mutex_lock(&F.mu);
	for (int i = 0; i < F.n_seen; i++) {
		const struct wire_shard_id *s = &F.seen[i].id;

		if (s->pool == 1 && s->ino == ino && s->objno == objno &&
		    s->version == version && s->index == idx &&
		    (uint32_t)F.seen[i].osd == osd)
			hit = 1;
	}
	pthread_mutex_unlock(&F.mu);
	return hit;
}

static void test_purge_unlinked(void **state)
{
	const struct map_pool *pool;
	struct purger *p;
	uint64_t ino;

	(void)state;
	ino = file_gone("f", 3, 100);
	assert_int_equal(queued(), 3);
	assert_int_equal(purger_create(M, &p), 0);
	drain(p, 0, 5000);
	assert_int_equal(queued(), 0);
	assert_int_equal(purger_done(p), 3);
	assert_int_equal(F.n_seen, 3 * 6);
	pool = map_pool(&M->om.map, 1);
	for (uint64_t objno = 0; objno < 3; objno++) {
		uint32_t set[STORE_EC_MAX_SHARDS];
		uint32_t pg = crush_object_pg(pool, ino, objno);

		assert_int_equal(crush_map_pg(M->om.crush, pool, pg, 0, set),
				 6);
		for (unsigned i = 0; i < 6; i++)
			assert_true(seen_at(ino, objno, 100 + objno, i,
					    set[i]));
	}
	purger_free(p);
}

static void test_purge_waits_for_down_osd(void **state)
{
	struct purger *p;
	struct wire_heartbeat hb;
	struct wbuf w;

	(void)state;
	assert_int_equal(purger_create(M, &p), 0);
	osd_cmd(WIRE_OSD_DOWN, 2);
	file_gone("g", 2, 500);
	assert_int_equal(queued(), 2);
	/* Every set holds osd.2 (6 OSDs, 6 positions): nothing finishes,
	 * but the OSDs that are up got their deletes. */
	drain(p, 0, 500);
	assert_int_equal(queued(), 2);
	assert_int_equal(F.n_seen, 2 * 5);
	/* Back up (heartbeat); after the retry pause the entries finish. */
	memset(&hb, 0, sizeof(hb));
	hb.osd_id = 2;
	wbuf_init(&w);
	wire_enc_heartbeat(&w, &hb);
	assert_int_equal(call(WIRE_HEARTBEAT, &w), 0);
	wbuf_free(&w);
	M->fake_now_ms = now_ms() + PURGE_RETRY_MS + 1000;
	drain(p, 0, 5000);
	assert_int_equal(queued(), 0);
	/* A failing OSD: retried until it answers. */
	F.fail_osd = 4;
	file_gone("h", 1, 900);
	drain(p, 0, 500);
	assert_int_equal(queued(), 1);
	F.fail_osd = -1;
	M->fake_now_ms += PURGE_RETRY_MS + 1000;
	drain(p, 0, 5000);
	assert_int_equal(queued(), 0);
	purger_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_purge_unlinked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_purge_waits_for_down_osd,
						setup, teardown),
	};

	log_init("test_mds_purge", LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
