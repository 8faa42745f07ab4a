/*
 * test_auth_mds.c -- the MDS's side of security, through its dispatcher
 * (frames in, frames out) on a cluster created with keys: the handshake
 * (right key, wrong key, unknown entity, path-limited caps), key
 * management, the refusal of unauthenticated requests, r versus rw, admin
 * commands, and every way out of a path-limited subtree (inode numbers
 * from elsewhere, rename out, hard links in and out, symlinks, moved
 * files, orphans), with file caps on replies about files, the parents
 * index kept consistent (fsck) and rebuilt by an upgrade.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../mds/mds.h"
#include "../../mds/mds_auth.h"
#include "../../mds/fsck.h"
#include "../../mds/parents.h"
#include "auth_server.h"
#include "wire.h"
#include "wire_auth.h"
#include "wire_ns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64];
static struct mds *M;
static struct mds_auth_keys K;
static struct wire_hdr H;
static uint8_t *P;
static char E[STORE_ERRMSG_MAX + 1];
static struct auth_req *last_auth;

static void reply_cb(void *arg, struct mds_msg *msg)
{
	(void)arg;
	assert_int_equal(wire_hdr_decode(msg->reply.p, msg->reply.len, &H), 0);
	free(P);
	P = malloc(msg->reply.len);
	memcpy(P, msg->reply.p, msg->reply.len);
	E[0] = '\0';
	if (H.status)
		wire_dec_error(wire_payload(P), H.payload_len, E, sizeof(E));
}

/* Who is asking: an auth_req as the net layer would have made it (kept
 * for the whole run: a test's few identities). */
static struct auth_req *whos[64];
static unsigned n_whos;

static struct auth_req *who(const char *entity, uint8_t caps, uint64_t root)
{
	struct auth_req *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_true(n_whos < 64);
	whos[n_whos++] = r;
	snprintf(r->entity, sizeof(r->entity), "%s", entity);
	r->caps = caps;
	r->root = root;
	r->expires_ms = auth_wall_ms() + 60000;
	r->suite = AUTH_SUITE_XCHACHA20;
	randombytes_buf(r->key, sizeof(r->key));
	return r;
}

static struct auth_req *ADMIN, *DAEMON;

static int call(unsigned type, const struct wbuf *pl, struct auth_req *a)
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
	msg.auth = a;
	if (a)
		a->reply_has_fcap = 0;
	assert_int_equal(wire_hdr_decode(w.p, w.len, &msg.hdr), 0);
	mds_handle(M, &msg, 1, reply_cb, NULL);
	wbuf_free(&w);
	last_auth = a;
	return H.status;
}

/* A namespace request; the reply's attrs in *attr. */
static int ns(unsigned type, struct auth_req *a, uint64_t ino,
	      const char *name, uint64_t ino2, const char *name2,
	      uint32_t flags, struct wire_attr *attr)
{
	struct wire_ns_req *q = calloc(1, sizeof(*q));
	struct wire_ns_reply r;
	struct wbuf w;
	int rc;

	q->ino = ino;
	q->ino2 = ino2;
	q->flags = flags;
	q->mode = type == WIRE_MKDIR ? 040755 : 0100644;
	if (name)
		snprintf(q->name, sizeof(q->name), "%s", name);
	if (name2)
		snprintf(q->name2, sizeof(q->name2), "%s", name2);
	if (type == WIRE_SYMLINK)
		snprintf(q->target, sizeof(q->target), "/");
	if (type == WIRE_SESSION_OPEN)
		snprintf(q->name, sizeof(q->name), "liar");
	wbuf_init(&w);
	wire_enc_ns_req(&w, type, q);
	rc = call(type, &w, a);
	wbuf_free(&w);
	free(q);
	if (rc == 0 && attr &&
	    wire_dec_ns_reply(type, wire_payload(P), H.payload_len, &r) == 0)
		*attr = r.attr;
	return rc;
}

static uint64_t mk(struct auth_req *a, uint64_t parent, const char *name,
		   int is_dir)
{
	struct wire_attr at;

	assert_int_equal(ns(is_dir ? WIRE_MKDIR : WIRE_CREATE, a, parent, name,
			    0, NULL, 0, &at), 0);
	return at.ino;
}

static void check_fsck(void)
{
	char err[512] = "";
	MDB_txn *txn;

	assert_int_equal(db_begin(&M->db, NULL, 1, &txn), 0);
	if (mds_fsck(&M->db, txn, err, sizeof(err)))
		fail_msg("fsck: %s", err);
	mdb_txn_abort(txn);
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
	assert_int_equal(auth_init(), 0);
	snprintf(dir, sizeof(dir), "/tmp/test_auth_mds.XXXXXX");
	assert_non_null(mkdtemp(dir));
	mds_opts_default(&o);
	o.dir = dir;
	o.nosync = 1;
	o.map_size = 1ull << 30;
	mds_cluster_opts_default(&co);
	co.pg_num = 16;
	randombytes_buf(K.secret, sizeof(K.secret));
	randombytes_buf(K.admin, sizeof(K.admin));
	co.keys = &K;
	assert_int_equal(mds_create(&o, &co, id, err, sizeof(err)), 0);
	open_mds();
	assert_true(mds_auth_on(M));
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
	while (n_whos)
		free(whos[--n_whos]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* The whole handshake through the dispatcher, as a client does it. */
static int handshake(const char *entity, const uint8_t key[AUTH_KEY_LEN],
		     struct wire_auth_granted *g, struct auth_ticket *t)
{
	struct wire_auth_hello h;
	struct wire_auth_challenge ch;
	struct wire_auth_prove p;
	uint8_t wrap[AUTH_KEY_LEN], tkey[AUTH_KEY_LEN], sk[AUTH_KEY_LEN];
	char label[80];
	struct wbuf w;
	int rc;

	memset(&h, 0, sizeof(h));
	snprintf(h.entity, sizeof(h.entity), "%s", entity);
	randombytes_buf(h.nonce, sizeof(h.nonce));
	h.suites = AUTH_SUITES_BIT(AUTH_SUITE_XCHACHA20) |
		   AUTH_SUITES_BIT(AUTH_SUITE_AES256GCM);
	wbuf_init(&w);
	wire_enc_auth_hello(&w, &h);
	rc = call(WIRE_AUTH_HELLO, &w, NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	assert_int_equal(wire_dec_auth_challenge(wire_payload(P), H.payload_len,
						 &ch), 0);
	memset(&p, 0, sizeof(p));
	snprintf(p.entity, sizeof(p.entity), "%s", entity);
	memcpy(p.nonce, h.nonce, sizeof(p.nonce));
	memcpy(p.challenge, ch.challenge, sizeof(p.challenge));
	auth_hs_proof(key, entity, p.nonce, p.challenge, p.proof);
	p.suites = h.suites;
	wbuf_init(&w);
	wire_enc_auth_prove(&w, &p);
	rc = call(WIRE_AUTH_PROVE, &w, NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	assert_int_equal(wire_dec_auth_granted(wire_payload(P), H.payload_len,
					       g), 0);
	auth_hs_wrap_key(key, entity, p.nonce, p.challenge, wrap);
	snprintf(label, sizeof(label), "session:%s", entity);
	assert_int_equal(auth_open_key(wrap, label, g->sealed_key, sk), 0);
	auth_derive(K.secret, AUTH_SUB_TICKET, tkey);
	assert_int_equal(auth_ticket_open(tkey, g->ticket, g->ticket_len, t),
			 0);
	assert_memory_equal(t->key, sk, AUTH_KEY_LEN);
	assert_string_equal(t->entity, entity);
	return 0;
}

static void test_handshake_and_keys(void **state)
{
	struct wire_auth_granted g;
	struct wire_auth_admin a;
	struct wire_auth_admin_reply rep;
	struct auth_ticket t;
	uint8_t wrong[AUTH_KEY_LEN], bob[AUTH_KEY_LEN];
	struct wbuf w;
	uint64_t proj;

	(void)state;
	ADMIN = who("client.admin", AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W,
		    1);
	assert_int_equal(handshake("client.admin", K.admin, &g, &t), 0);
	assert_int_equal(t.caps, AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W);
	assert_int_equal(t.root, 1);
	assert_int_equal(g.restricted, 0);
	assert_string_equal(g.caps_text, "admin rw");
	/* A wrong key and an unknown entity get the same refusal. */
	randombytes_buf(wrong, sizeof(wrong));
	assert_int_equal(handshake("client.admin", wrong, &g, &t), -EACCES);
	assert_non_null(strstr(E, "wrong key"));
	assert_int_equal(handshake("client.nobody", wrong, &g, &t), -EACCES);
	/* Without a ticket nothing but the handshake is served. */
	assert_int_equal(ns(WIRE_GETATTR, NULL, 1, NULL, 0, NULL, 0, NULL),
			 -EACCES);
	assert_int_equal(call(WIRE_STATUS, NULL, NULL), -EACCES);
	/* Key management: admin only. */
	memset(&a, 0, sizeof(a));
	a.op = WIRE_AUTH_ADD;
	snprintf(a.name, sizeof(a.name), "client.bob");
	snprintf(a.caps, sizeof(a.caps), "rw path=/proj");
	wbuf_init(&w);
	wire_enc_auth_admin(&w, &a);
	assert_int_equal(call(WIRE_AUTH_ADMIN, &w,
			      who("client.x", AUTH_CAP_R | AUTH_CAP_W, 1)),
			 -EACCES);
	assert_non_null(strstr(E, "permission denied"));
	ADMIN = who("client.admin", AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W,
		    1);
	assert_int_equal(call(WIRE_AUTH_ADMIN, &w, ADMIN), 0);
	assert_int_equal(wire_dec_auth_admin_reply(wire_payload(P),
						   H.payload_len, &rep), 0);
	assert_int_equal(auth_open_key(ADMIN->key, "key:client.bob",
				       rep.sealed_key, bob), 0);
	assert_int_equal(call(WIRE_AUTH_ADMIN, &w, ADMIN), -EEXIST);
	wbuf_free(&w);
	/* Its path does not exist yet: no ticket. */
	assert_int_equal(handshake("client.bob", bob, &g, &t), -ENOENT);
	proj = mk(ADMIN, 1, "proj", 1);
	assert_int_equal(handshake("client.bob", bob, &g, &t), 0);
	assert_int_equal(g.restricted, 1);
	assert_int_equal(t.root, proj);
	/* caps and rm. */
	a.op = WIRE_AUTH_CAPS;
	snprintf(a.caps, sizeof(a.caps), "bogus");
	wbuf_init(&w);
	wire_enc_auth_admin(&w, &a);
	assert_int_equal(call(WIRE_AUTH_ADMIN, &w, ADMIN), -EINVAL);
	wbuf_free(&w);
	a.op = WIRE_AUTH_RM;
	wbuf_init(&w);
	wire_enc_auth_admin(&w, &a);
	assert_int_equal(call(WIRE_AUTH_ADMIN, &w, ADMIN), 0);
	assert_int_equal(call(WIRE_AUTH_ADMIN, &w, ADMIN), -ENOENT);
	wbuf_free(&w);
	assert_int_equal(handshake("client.bob", bob, &g, &t), -EACCES);
	/* The daemons' secret is not a client key. */
	a.op = WIRE_AUTH_GET;
	snprintf(a.name, sizeof(a.name), "daemon");
	wbuf_init(&w);
	wire_enc_auth_admin(&w, &a);
	assert_int_equal(call(WIRE_AUTH_ADMIN, &w, ADMIN), -EPERM);
	wbuf_free(&w);
}

static void test_caps_and_types(void **state)
{
	struct auth_req *ro;
	struct wire_osd_cmd cmd = { WIRE_OSD_OUT, 0, 0 };
	struct wbuf w;

	(void)state;
	ADMIN = who("client.admin", AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W,
		    1);
	mk(ADMIN, 1, "f", 0);
	ro = who("client.ro", AUTH_CAP_R, 1);
	assert_int_equal(ns(WIRE_LOOKUP, ro, 1, "f", 0, NULL, 0, NULL), 0);
	assert_int_equal(ns(WIRE_CREATE, ro, 1, "g", 0, NULL, 0, NULL),
			 -EROFS);
	assert_non_null(strstr(E, "permission denied"));
	assert_int_equal(ns(WIRE_MKDIR, ro, 1, "d", 0, NULL, 0, NULL), -EROFS);
	assert_int_equal(ns(WIRE_UNLINK, ro, 1, "f", 0, NULL, 0, NULL),
			 -EROFS);
	/* No file caps at all (admin only). */
	assert_int_equal(ns(WIRE_GETATTR, who("client.op", AUTH_CAP_ADMIN, 1),
			    1, NULL, 0, NULL, 0, NULL), -EACCES);
	/* OSD commands: admin; OSD boot and heartbeats: daemons. */
	wbuf_init(&w);
	wire_enc_osd_cmd(&w, &cmd);
	assert_int_equal(call(WIRE_OSD_CMD, &w, ro), -EACCES);
	assert_int_not_equal(call(WIRE_OSD_CMD, &w, ADMIN), -EACCES);
	wbuf_free(&w);
	assert_int_equal(call(WIRE_STATUS, NULL, ro), 0);
	DAEMON = who("osd.1", AUTH_CAP_DAEMON, 1);
	{
		struct wire_heartbeat hb = { 0 };

		wbuf_init(&w);
		wire_enc_heartbeat(&w, &hb);
		assert_int_equal(call(WIRE_HEARTBEAT, &w, ro), -EACCES);
		assert_int_not_equal(call(WIRE_HEARTBEAT, &w, DAEMON),
				     -EACCES);
		wbuf_free(&w);
	}
	/* A session is its ticket's entity's, whatever the request says. */
	assert_int_equal(ns(WIRE_SESSION_OPEN, ro, 0, NULL, 0, NULL, 0, NULL),
			 0);
	check_fsck();
}

static void test_subtree(void **state)
{
	uint64_t a, b, f, sub, secret, shared, moved, outside_link;
	struct wire_attr at;
	struct auth_req *r;

	(void)state;
	ADMIN = who("client.admin", AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W,
		    1);
	a = mk(ADMIN, 1, "a", 1);
	b = mk(ADMIN, 1, "b", 1);
	f = mk(ADMIN, a, "f", 0);
	sub = mk(ADMIN, a, "sub", 1);
	secret = mk(ADMIN, b, "secret", 0);
	shared = mk(ADMIN, b, "shared", 0);
	moved = mk(ADMIN, a, "moved", 0);
	/* shared is linked from a too (by an administrator). */
	assert_int_equal(ns(WIRE_LINK, ADMIN, shared, NULL, a, "shared", 0,
			    NULL), 0);

	r = who("client.a", AUTH_CAP_R | AUTH_CAP_W, a);
	/* Its directory is its inode 1. */
	assert_int_equal(ns(WIRE_GETATTR, r, 1, NULL, 0, NULL, 0, &at), 0);
	assert_int_equal(at.ino, 1);
	assert_true(S_ISDIR(at.mode));
	assert_int_equal(ns(WIRE_SESSION_OPEN, r, 0, NULL, 0, NULL, 0, &at), 0);
	assert_int_equal(at.ino, 1);
	/* Lookups inside work and carry a file cap for files. */
	assert_int_equal(ns(WIRE_LOOKUP, r, 1, "f", 0, NULL, 0, &at), 0);
	assert_int_equal(at.ino, f);
	assert_true(last_auth->reply_has_fcap);
	{
		struct auth_fcap fc;
		uint8_t fkey[AUTH_KEY_LEN];

		auth_derive(K.secret, AUTH_SUB_FCAP, fkey);
		assert_int_equal(auth_fcap_check(fkey, "client.a",
						 last_auth->reply_fcap,
						 AUTH_FCAP_LEN, &fc), 0);
		assert_int_equal(fc.ino, f);
		assert_int_equal(fc.access, AUTH_CAP_R | AUTH_CAP_W);
	}
	assert_int_equal(ns(WIRE_LOOKUP, r, 1, "sub", 0, NULL, 0, &at), 0);
	assert_false(last_auth->reply_has_fcap); /* a directory */
	/* Inode numbers from elsewhere: refused, whatever the request. */
	assert_int_equal(ns(WIRE_GETATTR, r, secret, NULL, 0, NULL, 0, NULL),
			 -EACCES);
	assert_non_null(strstr(E, "permission denied"));
	assert_int_equal(ns(WIRE_OPEN, r, secret, NULL, 0, NULL, 0, NULL),
			 -EACCES);
	assert_int_equal(ns(WIRE_LOOKUP, r, b, "secret", 0, NULL, 0, NULL),
			 -EACCES);
	assert_int_equal(ns(WIRE_READDIR, r, b, NULL, 0, NULL, 0, NULL),
			 -EACCES);
	assert_int_equal(ns(WIRE_CREATE, r, b, "planted", 0, NULL, 0, NULL),
			 -EACCES);
	/* The real root, by its number (the alias only maps 1 to a). */
	assert_int_equal(ns(WIRE_GETATTR, r, a, NULL, 0, NULL, 0, &at), 0);
	assert_int_equal(ns(WIRE_LOOKUP, r, 1, "b", 0, NULL, 0, NULL), -ENOENT);
	/* Rename out, and in from outside. */
	assert_int_equal(ns(WIRE_RENAME, r, 1, "f", b, "f", 0, NULL), -EACCES);
	assert_int_equal(ns(WIRE_RENAME, r, b, "secret", 1, "got", 0, NULL),
			 -EACCES);
	assert_int_equal(ns(WIRE_RENAME, r, 1, "f", sub, "f2", 0, NULL), 0);
	assert_int_equal(ns(WIRE_RENAME, r, sub, "f2", 1, "f", 0, NULL), 0);
	/* Hard links: an outside file in, an inside file out. */
	assert_int_equal(ns(WIRE_LINK, r, secret, NULL, 1, "stolen", 0, NULL),
			 -EACCES);
	assert_int_equal(ns(WIRE_LINK, r, f, NULL, b, "leak", 0, NULL),
			 -EACCES);
	assert_int_equal(ns(WIRE_LINK, r, f, NULL, sub, "f-again", 0, NULL),
			 0);
	/* A symlink to "/" is only text: it resolves inside the client. */
	assert_int_equal(ns(WIRE_SYMLINK, r, 1, "l", 0, NULL, 0, NULL), 0);
	/* A file linked from inside and outside is reachable. */
	assert_int_equal(ns(WIRE_GETATTR, r, shared, NULL, 0, NULL, 0, NULL),
			 0);
	/* Moved out by someone else: gone from the client's reach. */
	assert_int_equal(ns(WIRE_GETATTR, r, moved, NULL, 0, NULL, 0, NULL), 0);
	assert_int_equal(ns(WIRE_RENAME, ADMIN, a, "moved", b, "moved", 0,
			    NULL), 0);
	assert_int_equal(ns(WIRE_GETATTR, r, moved, NULL, 0, NULL, 0, NULL),
			 -EACCES);
	/* Unlinked while open (KEEP): still its own, until released. */
	outside_link = mk(r, 1, "o", 0);
	assert_int_equal(ns(WIRE_UNLINK, r, 1, "o", 0, NULL, WIRE_UNLINK_KEEP,
			    NULL), 0);
	assert_int_equal(ns(WIRE_GETATTR, r, outside_link, NULL, 0, NULL, 0,
			    NULL), 0);
	check_fsck();
	assert_int_equal(ns(WIRE_COMMIT, r, outside_link, NULL, 0, NULL,
			    WIRE_COMMIT_RELEASE, NULL), 0);
	/* The root itself cannot be removed or renamed by its client. */
	assert_int_equal(ns(WIRE_RMDIR, r, a, "sub", 0, NULL, 0, NULL),
			 -ENOTEMPTY);
	check_fsck();
}

/* A database of the previous format gets its parents index built. */
static void test_upgrade(void **state)
{
	struct db_super s;
	MDB_txn *txn;

	(void)state;
	ADMIN = who("client.admin", AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W,
		    1);
	mk(ADMIN, 1, "x1", 0);
	mk(ADMIN, 1, "x2", 0);
	assert_int_equal(db_begin(&M->db, NULL, 0, &txn), 0);
	assert_int_equal(db_super_get(&M->db, txn, &s), 0);
	s.format = 2;
	assert_int_equal(db_super_put(&M->db, txn, &s), 0);
	assert_int_equal(mdb_drop(txn, M->db.parents, 0), 0);
	assert_int_equal(db_commit(txn), 0);
	mds_close(M);
	open_mds();
	check_fsck();
	assert_int_equal(db_begin(&M->db, NULL, 1, &txn), 0);
	assert_int_equal(db_super_get(&M->db, txn, &s), 0);
	assert_int_equal(s.format, DB_FORMAT);
	mdb_txn_abort(txn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_and_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_caps_and_types, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_subtree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
