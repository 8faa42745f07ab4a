/*
 * test_mds_pgidx.c -- the MDS's index of committed objects by placement
 * group (mds/pgidx.c) and PG_OBJECTS, driven through the dispatcher:
 * commits, overwrites, truncation, unlink and inline conversion keep the
 * index equal to the objects table (checked against an independent
 * computation of each object's PG, and by mds_fsck); PG_OBJECTS pages
 * through a PG with its cursor; a format-1 database (no index) is
 * upgraded when opened; damage to the index is caught by fsck.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../mds/fsck.h"
#include "../../mds/mds.h"
#include "../../mds/pgidx.h"
#include "crush.h"
#include "wire.h"
#include "wire_ns.h"
#include "wire_rec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PG_NUM 16
#define OS 65536 /* object size */

static char dir[64];
static struct mds *M;
static struct wire_hdr H;
static uint8_t *P;

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
	static uint64_t req = 1;
	struct mds_msg msg;
	struct wbuf w;

	wbuf_init(&w);
	wire_msg_begin(&w, type, 0, req++, 0, 0);
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

static void open_mds(void)
{
	struct mds_opts o;
	char err[1024];

	mds_opts_default(&o);
	o.dir = dir;
	o.nosync = 1;
	o.map_size = 1ull << 30;
	assert_int_equal(mds_open(&o, &M, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	struct mds_cluster_opts co;
	struct mds_opts o;
	uint8_t id[16];
	char err[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_mds_pgidx.XXXXXX");
	assert_non_null(mkdtemp(dir));
	mds_opts_default(&o);
	o.dir = dir;
	o.nosync = 1;
	o.map_size = 1ull << 30;
	mds_cluster_opts_default(&co);
	co.pg_num = PG_NUM;
	co.object_size = OS;
	assert_int_equal(mds_create(&o, &co, id, err, sizeof(err)), 0);
	open_mds();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	mds_close(M);
	M = NULL;
	free(P);
	P = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* ---- namespace helpers ---------------------------------------------------*/

static uint64_t create(const char *name)
{
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wire_ns_reply r;
	struct wbuf w;

	q->ino = 1;
	q->mode = S_IFREG | 0644;
	snprintf(q->name, sizeof(q->name), "%s", name);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_CREATE, q);
	assert_int_equal(call(WIRE_CREATE, &w), 0);
	wbuf_free(&w);
	free(q);
	assert_int_equal(wire_dec_ns_reply(WIRE_CREATE, wire_payload(P),
					   H.payload_len, &r), 0);
	return r.attr.ino;
}

/* Commit objects first .. first+n-1 of ino at version v (full objects),
 * with flags and, with WIRE_SET_SIZE in valid, a size. */
static void commit(uint64_t ino, uint64_t first, unsigned n, uint64_t v,
		   uint32_t flags, uint32_t valid, uint64_t size)
{
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wbuf w, objs;

	wbuf_init(&objs);
	for (unsigned i = 0; i < n; i++) {
		struct wire_obj o = { first + i, v, OS };

		wire_enc_obj(&objs, &o);
	}
	q->ino = ino;
	q->flags = flags;
	q->valid = valid;
	q->size = size;
	q->n_objs = n;
	wire_ns_set_list(&q->objs, &objs);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_COMMIT, q);
	assert_int_equal(call(WIRE_COMMIT, &w), 0);
	wbuf_free(&w);
	wbuf_free(&objs);
	free(q);
}

static void unlink_name(const char *name)
{
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wbuf w;

	q->ino = 1;
	snprintf(q->name, sizeof(q->name), "%s", name);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_UNLINK, q);
	assert_int_equal(call(WIRE_UNLINK, &w), 0);
	wbuf_free(&w);
	free(q);
}

static void truncate_to(uint64_t ino, uint64_t size)
{
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wbuf w;

	q->ino = ino;
	q->valid = WIRE_SET_SIZE;
	q->size = size;
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_SETATTR, q);
	assert_int_equal(call(WIRE_SETATTR, &w), 0);
	wbuf_free(&w);
	free(q);
}

/* PG_OBJECTS through the dispatcher, all pages of max entries: fills
 * out (cap entries), returns the count and the number of pages. */
static size_t pg_list(uint32_t pg, uint32_t max, struct wire_pg_obj *out,
		      size_t cap, unsigned *pages)
{
	struct wire_pg_objects q = { 1, pg, max, 0, 0, 0 };
	size_t n = 0;
	int more = 1;

	*pages = 0;
	while (more) {
		struct wire_pg_objects_reply rep;
		struct wire_pg_obj e;
		struct wbuf w;

		wbuf_init(&w);
		wire_enc_pg_objects(&w, &q);
		assert_int_equal(call(WIRE_PG_OBJECTS, &w), 0);
		wbuf_free(&w);
		assert_int_equal(wire_dec_pg_objects_reply(wire_payload(P),
							   H.payload_len,
							   &rep), 0);
		assert_true(max == 0 || rep.count <= max);
		(*pages)++;
		more = rep.more;
		while (wire_pg_objects_next(&rep, &e)) {
			assert_true(n < cap);
			out[n++] = e;
			q.has_after = 1;
			q.after_ino = e.ino;
			q.after_objno = e.objno;
		}
	}
	return n;
}

static uint32_t pg_of(uint64_t ino, uint64_t objno)
{
	return crush_object_pg(map_pool(&M->om.map, 1), ino, objno);
}

/* The model: committed objects as (ino, objno) -> version, 0 if none. */
#define MAXI 8
#define MAXO 40
static uint64_t model[MAXI][MAXO];
static uint64_t inos[MAXI];

/* Every PG's listing equals the model's objects of that PG, in order. */
static void check_all(void)
{
	static struct wire_pg_obj got[MAXI * MAXO];
	char err[1024];
	MDB_txn *txn;

	for (uint32_t pg = 0; pg < PG_NUM; pg++) {
		unsigned pages;
		size_t n = pg_list(pg, 3, got, MAXI * MAXO, &pages), k = 0;

		for (size_t i = 1; i < n; i++)
			assert_true(got[i - 1].ino < got[i].ino ||
				    (got[i - 1].ino == got[i].ino &&
				     got[i - 1].objno < got[i].objno));
		for (int f = 0; f < MAXI; f++)
			for (int o = 0; o < MAXO; o++) {
				if (!inos[f] || !model[f][o] ||
				    pg_of(inos[f], o) != pg)
					continue;
				k++;
			}
		assert_int_equal(n, k);
		for (size_t i = 0; i < n; i++) {
			int f;

			for (f = 0; f < MAXI && inos[f] != got[i].ino; f++)
				;
			assert_true(f < MAXI);
			assert_int_equal(pg_of(got[i].ino, got[i].objno), pg);
			assert_int_equal(model[f][got[i].objno],
					 got[i].version);
		}
	}
	assert_int_equal(db_begin(&M->db, NULL, 1, &txn), 0);
	assert_int_equal(mds_fsck(&M->db, txn, err, sizeof(err)), 0);
	mdb_txn_abort(txn);
}

static void test_maintained(void **state)
{
	char name[16];

	(void)state;
	memset(model, 0, sizeof(model));
	memset(inos, 0, sizeof(inos));
	for (int f = 0; f < 4; f++) {
		snprintf(name, sizeof(name), "f%d", f);
		inos[f] = create(name);
		commit(inos[f], 0, 30, 100 + f, 0, 0, 0);
		for (int o = 0; o < 30; o++)
			model[f][o] = 100 + f;
	}
	check_all();
	/* Overwrite some objects: same keys, new versions. */
	commit(inos[1], 5, 10, 200, 0, 0, 0);
	for (int o = 5; o < 15; o++)
		model[1][o] = 200;
	check_all();
	/* Truncate: objects past the size go. */
	truncate_to(inos[2], 7 * (uint64_t)OS + 10);
	for (int o = 8; o < 30; o++)
		model[2][o] = 0;
	check_all();
	/* COMMIT with TRUNC and a size cuts too. */
	commit(inos[3], 0, 1, 300, WIRE_COMMIT_TRUNC, WIRE_SET_SIZE, OS);
	model[3][0] = 300;
	for (int o = 1; o < 30; o++)
		model[3][o] = 0;
	check_all();
	/* Unlink of the last link: every object goes. */
	unlink_name("f0");
	memset(model[0], 0, sizeof(model[0]));
	check_all();
	/* Truncate to 0: an empty (inline) file again, no objects. */
	truncate_to(inos[1], 0);
	memset(model[1], 0, sizeof(model[1]));
	check_all();
	/* Survives a restart. */
	mds_close(M);
	open_mds();
	check_all();
}

static void test_paging_and_errors(void **state)
{
	static struct wire_pg_obj got[512];
	struct wire_pg_objects q = { 1, 0, 0, 0, 0, 0 };
	uint64_t ino = create("big");
	size_t all = 0;
	unsigned pages;
	struct wbuf w;

	(void)state;
	commit(ino, 0, 300, 7, 0, 0, 0);
	for (uint32_t pg = 0; pg < PG_NUM; pg++) {
		size_t want = 0, n1, n2;

		for (uint64_t o = 0; o < 300; o++)
			want += pg_of(ino, o) == pg;
		n1 = pg_list(pg, 0, got, 512, &pages);
		assert_int_equal(pages, 1); /* max 0: STORE_LIST_MAX */
		n2 = pg_list(pg, 4, got, 512, &pages);
		assert_int_equal(n1, want);
		assert_int_equal(n2, want);
		/* A full last page knows nothing follows. */
		assert_int_equal(pages, want ? (want + 3) / 4 : 1);
		all += n2;
	}
	assert_int_equal(all, 300);
	/* A PG or pool that does not exist. */
	q.pg = PG_NUM;
	wbuf_init(&w);
	wire_enc_pg_objects(&w, &q);
	assert_int_equal(call(WIRE_PG_OBJECTS, &w), -ENOENT);
	wbuf_free(&w);
	q.pg = 0;
	q.pool = 9;
	wbuf_init(&w);
	wire_enc_pg_objects(&w, &q);
	assert_int_equal(call(WIRE_PG_OBJECTS, &w), -ENOENT);
	wbuf_free(&w);
	/* Garbage payload. */
	wbuf_init(&w);
	wbuf_u32(&w, 1);
	assert_int_equal(call(WIRE_PG_OBJECTS, &w), -EBADMSG);
	wbuf_free(&w);
}

/* Open a database as a format-1 MDS left it: no index, format 1. */
static void make_format1(void)
{
	struct db_super s;
	MDB_txn *txn;

	assert_int_equal(db_begin(&M->db, NULL, 0, &txn), 0);
	assert_int_equal(mdb_drop(txn, M->db.pgobjs, 0), 0);
	assert_int_equal(db_super_get(&M->db, txn, &s), 0);
	s.format = 1;
	assert_int_equal(db_super_put(&M->db, txn, &s), 0);
	assert_int_equal(db_commit(txn), 0);
}

static void test_upgrade(void **state)
{
	char name[16];
	struct db_super s;
	char err[1024];
	MDB_txn *txn;

	(void)state;
	memset(model, 0, sizeof(model));
	memset(inos, 0, sizeof(inos));
	for (int f = 0; f < 3; f++) {
		snprintf(name, sizeof(name), "u%d", f);
		inos[f] = create(name);
		commit(inos[f], 0, 20, 50 + f, 0, 0, 0);
		for (int o = 0; o < 20; o++)
			model[f][o] = 50 + f;
	}
	make_format1();
	/* Without the index, fsck sees the difference. */
	assert_int_equal(db_begin(&M->db, NULL, 1, &txn), 0);
	assert_int_equal(mds_fsck(&M->db, txn, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "PG index"));
	mdb_txn_abort(txn);
	mds_close(M);
	open_mds(); /* upgrades */
	assert_int_equal(db_begin(&M->db, NULL, 1, &txn), 0);
	assert_int_equal(db_super_get(&M->db, txn, &s), 0);
	assert_int_equal(s.format, DB_FORMAT);
	mdb_txn_abort(txn);
	check_all();
	/* A format this MDS does not know is refused. */
	{
		struct mds_opts o;

		assert_int_equal(db_begin(&M->db, NULL, 0, &txn), 0);
		assert_int_equal(db_super_get(&M->db, txn, &s), 0);
		s.format = DB_FORMAT + 1;
		assert_int_equal(db_super_put(&M->db, txn, &s), 0);
		assert_int_equal(db_commit(txn), 0);
		mds_close(M);
		M = NULL;
		mds_opts_default(&o);
		o.dir = dir;
		o.nosync = 1;
		o.map_size = 1ull << 30;
		assert_int_equal(mds_open(&o, &M, err, sizeof(err)),
				 -EPROTONOSUPPORT);
		assert_non_null(strstr(err, "format"));
	}
}

/* fsck catches an index entry that disagrees with the objects. */
static void test_fsck_catches(void **state)
{
	uint64_t ino = create("x");
	struct wire_obj o = { 3, 999, OS };
	char err[1024];
	MDB_txn *txn;

	(void)state;
	commit(ino, 0, 5, 1, 0, 0, 0);
	assert_int_equal(db_begin(&M->db, NULL, 0, &txn), 0);
	assert_int_equal(mds_fsck(&M->db, txn, err, sizeof(err)), 0);
	assert_int_equal(pgidx_put(&M->db, txn, 1, ino, &o), 0);
	assert_int_equal(mds_fsck(&M->db, txn, err, sizeof(err)), -EUCLEAN);
	assert_non_null(strstr(err, "PG index"));
	mdb_txn_abort(txn);
	assert_int_equal(db_begin(&M->db, NULL, 0, &txn), 0);
	assert_int_equal(pgidx_del(&M->db, txn, 1, ino, 2), 0);
	assert_int_equal(mds_fsck(&M->db, txn, err, sizeof(err)), -EUCLEAN);
	mdb_txn_abort(txn);
	/* An unknown pool cannot be indexed. */
	assert_int_equal(db_begin(&M->db, NULL, 0, &txn), 0);
	assert_int_equal(pgidx_put(&M->db, txn, 77, ino, &o), -ENOENT);
	mdb_txn_abort(txn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_maintained, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_paging_and_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsck_catches, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
