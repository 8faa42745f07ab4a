/*
 * test_mds_ns.c -- the MDS namespace on a temporary LMDB, without sockets:
 * every operation and its errors, directory listing cookies, a directory
 * of 100,000 entries, rename edge cases, hard links, truncation and
 * commits of object versions, persistence across close/reopen, and a
 * batch of requests in one transaction where one of them fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../mds/mds.h"
#include "../../mds/fsck.h"
#include "../../mds/ns.h"
#include "log.h"
#include "util.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Small objects keep the arithmetic readable: 4 objects = 16 KiB. */
#define OS 4096u

struct T {
	char dir[64];
	struct mds *m;
	uint32_t inline_max;
	uint8_t data[STORE_INLINE_MAX];
	struct wbuf list;
	char err[STORE_ERRMSG_MAX + 1];
};

static struct T *T;
static struct wire_ns_req Qbuf;
static struct wire_ns_reply R;

static struct wire_ns_req *Q(void)
{
	memset(&Qbuf, 0, sizeof(Qbuf));
	return &Qbuf;
}

static void rm_rf(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void open_mds(struct T *t)
{
	struct mds_opts o;
	char err[1024];

	mds_opts_default(&o);
	o.dir = t->dir;
	o.nosync = 1;
	o.map_size = 1ull << 30;
	assert_int_equal(mds_open(&o, &t->m, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	struct mds_cluster_opts co;
	struct mds_opts o;
	uint8_t id[16];
	char err[1024];
	struct T *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_mds_ns.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	mds_opts_default(&o);
	o.dir = t->dir;
	o.nosync = 1;
	o.map_size = 1ull << 30;
	mds_cluster_opts_default(&co);
	co.object_size = OS;
	co.uid = 1000;
	co.gid = 100;
	assert_int_equal(mds_create(&o, &co, id, err, sizeof(err)), 0);
	/* A second --init is refused. */
	assert_int_equal(mds_create(&o, &co, id, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "already holds cluster"));
	open_mds(t);
	t->inline_max = STORE_INLINE_MAX;
	wbuf_init(&t->list);
	T = t;
	*state = t;
	return 0;
}

/* Every test must leave a consistent database behind. */
static void fsck(struct T *t)
{
	char err[1024];
	MDB_txn *txn;
	int rc;

	assert_int_equal(db_begin(&t->m->db, NULL, 1, &txn), 0);
	rc = mds_fsck(&t->m->db, txn, err, sizeof(err));
	if (rc)
		print_error("fsck: %s\n", err);
	assert_int_equal(rc, 0);
	mdb_txn_abort(txn);
}

static int teardown(void **state)
{
	struct T *t = *state;

	fsck(t);
	mds_close(t->m);
	rm_rf(t->dir);
	wbuf_free(&t->list);
	free(t);
	return 0;
}

static void ctx(struct ns_ctx *c, MDB_txn *txn)
{
	ns_ctx_init(c, &T->m->db, txn);
	c->object_size = OS;
	c->inline_max = T->inline_max;
	c->bytes_total = 1ull << 40;
	c->bytes_free = 1ull << 39;
}

/* Run one request in its own transaction; the reply's data and list are
 * copied into T so that they outlive it. */
static int run(unsigned type, struct wire_ns_req *q)
{
	struct ns_ctx c;
	MDB_txn *txn;
	int rc;

	assert_int_equal(db_begin(&T->m->db, NULL, 0, &txn), 0);
	ctx(&c, txn);
	rc = ns_exec(&c, type, q, &R);
	snprintf(T->err, sizeof(T->err), "%s", c.err);
	if (rc == 0) {
		assert_true(R.data_len <= sizeof(T->data));
		if (R.data_len)
			memcpy(T->data, R.data, R.data_len);
		R.data = T->data;
		T->list.len = 0;
		wbuf_raw(&T->list, c.list.p, c.list.len);
		wire_ns_set_list(&R.entries, &T->list);
		assert_int_equal(db_commit(txn), 0);
	} else {
		assert_true(c.err[0] != '\0'); /* every error has a sentence */
		mdb_txn_abort(txn);
	}
	ns_ctx_free(&c);
	return rc;
}

/* ---- helpers ------------------------------------------------------------*/

static int mkdir_(uint64_t parent, const char *name, struct wire_attr *a)
{
	struct wire_ns_req *q = Q();
	int rc;

	q->ino = parent;
	q->mode = 0755;
	q->uid = 1;
	q->gid = 2;
	snprintf(q->name, sizeof(q->name), "%s", name);
	rc = run(WIRE_MKDIR, q);
	if (rc == 0 && a)
		*a = R.attr;
	return rc;
}

static uint64_t mkd(uint64_t parent, const char *name)
{
	struct wire_attr a;

	assert_int_equal(mkdir_(parent, name, &a), 0);
	return a.ino;
}

static int create_(uint64_t parent, const char *name, uint32_t flags,
		   struct wire_attr *a)
{
	struct wire_ns_req *q = Q();
	int rc;

	q->ino = parent;
	q->mode = S_IFREG | 0644;
	q->uid = 1;
	q->gid = 2;
	q->flags = flags;
	snprintf(q->name, sizeof(q->name), "%s", name);
	rc = run(WIRE_CREATE, q);
	if (rc == 0 && a)
		*a = R.attr;
	return rc;
}

static uint64_t mkf(uint64_t parent, const char *name)
{
	struct wire_attr a;

	assert_int_equal(create_(parent, name, WIRE_CREATE_EXCL, &a), 0);
	return a.ino;
}

static int lookup(uint64_t parent, const char *name, struct wire_attr *a)
{
	struct wire_ns_req *q = Q();
	int rc;

	q->ino = parent;
	snprintf(q->name, sizeof(q->name), "%s", name);
	rc = run(WIRE_LOOKUP, q);
	if (rc == 0 && a)
		*a = R.attr;
	return rc;
}

static int getattr(uint64_t ino, struct wire_attr *a)
{
	struct wire_ns_req *q = Q();
	int rc;

	q->ino = ino;
	rc = run(WIRE_GETATTR, q);
	if (rc == 0 && a)
		*a = R.attr;
	return rc;
}

static struct wire_attr attr_of(uint64_t ino)
{
	struct wire_attr a;

	assert_int_equal(getattr(ino, &a), 0);
	return a;
}

static int unlink_(uint64_t parent, const char *name, uint32_t flags)
{
	struct wire_ns_req *q = Q();

	q->ino = parent;
	q->flags = flags;
	snprintf(q->name, sizeof(q->name), "%s", name);
	return run(WIRE_UNLINK, q);
}

static int rmdir_(uint64_t parent, const char *name)
{
	struct wire_ns_req *q = Q();

	q->ino = parent;
	snprintf(q->name, sizeof(q->name), "%s", name);
	return run(WIRE_RMDIR, q);
}

static int rename_(uint64_t p1, const char *n1, uint64_t p2, const char *n2,
		   uint32_t flags)
{
	struct wire_ns_req *q = Q();

	q->ino = p1;
	q->ino2 = p2;
	q->flags = flags;
	snprintf(q->name, sizeof(q->name), "%s", n1);
	snprintf(q->name2, sizeof(q->name2), "%s", n2);
	return run(WIRE_RENAME, q);
}

static int link_(uint64_t ino, uint64_t parent, const char *name)
{
	struct wire_ns_req *q = Q();

	q->ino = ino;
	q->ino2 = parent;
	snprintf(q->name2, sizeof(q->name2), "%s", name);
	return run(WIRE_LINK, q);
}

static uint64_t ino_of(uint64_t parent, const char *name)
{
	struct wire_attr a;

	assert_int_equal(lookup(parent, name, &a), 0);
	return a.ino;
}

/* Commit object versions: objs as (objno, version, length) triples. */
static int commit_objs(uint64_t ino, uint32_t flags, uint32_t valid,
		       uint64_t size, const struct wire_obj *objs, uint32_t n)
{
	struct wire_ns_req *q = Q();
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	for (uint32_t i = 0; i < n; i++)
		wire_enc_obj(&w, &objs[i]);
	q->ino = ino;
	q->flags = flags;
	q->valid = valid;
	q->size = size;
	q->n_objs = n;
	wire_ns_set_list(&q->objs, &w);
	rc = run(WIRE_COMMIT, q);
	wbuf_free(&w);
	return rc;
}

static int commit_inline(uint64_t ino, const void *data, uint32_t len)
{
	struct wire_ns_req *q = Q();

	q->ino = ino;
	q->flags = WIRE_COMMIT_INLINE;
	q->data = data;
	q->data_len = len;
	return run(WIRE_COMMIT, q);
}

/* The replaced versions of the last COMMIT reply, as a set of versions. */
static int replaced_has(uint64_t version)
{
	struct rbuf l = R.entries;
	struct wire_obj o;

	while (wire_next_obj(&l, &o))
		if (o.version == version)
			return 1;
	return 0;
}

/* The object map of a file, into objs (at most max). */
static uint32_t objmap(uint64_t ino, struct wire_obj *objs, uint32_t max)
{
	struct wire_ns_req *q = Q();
	struct wire_obj o;
	uint32_t n = 0;

	q->ino = ino;
	assert_int_equal(run(WIRE_OBJMAP, q), 0);
	while (wire_next_obj(&R.entries, &o) && n < max)
		objs[n++] = o;
	assert_int_equal(n, R.count);
	return n;
}

static uint64_t purge_count(void)
{
	MDB_txn *txn;
	uint64_t n;

	assert_int_equal(db_begin(&T->m->db, NULL, 1, &txn), 0);
	assert_int_equal(db_purge_count(&T->m->db, txn, &n), 0);
	mdb_txn_abort(txn);
	return n;
}

/* ---- tests --------------------------------------------------------------*/

static void test_session_and_root(void **state)
{
	struct wire_ns_req *q = Q();
	struct wire_attr a;

	(void)state;
	snprintf(q->name, sizeof(q->name), "client.test");
	assert_int_equal(run(WIRE_SESSION_OPEN, q), 0);
	assert_int_equal(R.session_id, 1);
	assert_int_equal(R.root_ino, DB_ROOT_INO);
	assert_int_equal(R.inline_max, STORE_INLINE_MAX);
	assert_int_equal(R.attr.ino, 1);
	assert_int_equal(R.attr.mode, S_IFDIR | 0755);
	assert_int_equal(R.attr.uid, 1000);
	assert_int_equal(R.attr.gid, 100);
	assert_int_equal(R.attr.nlink, 2);
	assert_int_equal(run(WIRE_SESSION_OPEN, Q()), 0);
	assert_int_equal(R.session_id, 2);
	a = attr_of(1);
	assert_int_equal(a.size, 0);
	assert_int_equal(getattr(999, &a), -ENOENT);
	assert_non_null(strstr(T->err, "999"));
}

static void test_mkdir_create_lookup(void **state)
{
	struct wire_attr a, d, root0 = attr_of(1);
	uint64_t f;

	(void)state;
	assert_int_equal(mkdir_(1, "dir", &d), 0);
	assert_true(S_ISDIR(d.mode));
	assert_int_equal(d.mode & 07777, 0755);
	assert_int_equal(d.nlink, 2);
	assert_int_equal(d.uid, 1);
	a = attr_of(1);
	assert_int_equal(a.nlink, 3);
	assert_int_equal(a.size, 1);
	assert_true(a.gen > root0.gen);
	assert_true(a.mtime_ns >= root0.mtime_ns);
	assert_int_equal(mkdir_(1, "dir", NULL), -EEXIST);
	assert_non_null(strstr(T->err, "'dir'"));
	assert_int_equal(mkdir_(12345, "x", NULL), -ENOENT);
	/* Files. */
	f = mkf(d.ino, "file");
	a = attr_of(f);
	assert_true(S_ISREG(a.mode));
	assert_int_equal(a.nlink, 1);
	assert_int_equal(a.pool, 1);
	assert_int_equal(a.object_size, OS);
	assert_int_equal(a.size, 0);
	assert_true(a.flags & WIRE_ATTR_INLINE);
	assert_int_equal(attr_of(d.ino).nlink, 2); /* files do not count */
	assert_int_equal(create_(d.ino, "file", WIRE_CREATE_EXCL, NULL),
			 -EEXIST);
	assert_int_equal(create_(d.ino, "file", 0, &a), 0);
	assert_int_equal(a.ino, f);
	assert_int_equal(create_(1, "dir", 0, NULL), -EISDIR);
	assert_int_equal(mkdir_(f, "sub", NULL), -ENOTDIR);
	assert_int_equal(create_(f, "sub", 0, NULL), -ENOTDIR);
	/* Lookups. */
	assert_int_equal(lookup(d.ino, "file", &a), 0);
	assert_int_equal(a.ino, f);
	assert_int_equal(lookup(d.ino, "nope", NULL), -ENOENT);
	assert_non_null(strstr(T->err, "no such file or directory: 'nope'"));
	assert_int_equal(lookup(f, "x", NULL), -ENOTDIR);
	/* FIFOs are allowed, devices are not (no rdev in CREATE). */
	{
		struct wire_ns_req *q = Q();

		q->ino = 1;
		q->mode = S_IFIFO | 0600;
		strcpy(q->name, "fifo");
		assert_int_equal(run(WIRE_CREATE, q), 0);
		assert_true(S_ISFIFO(R.attr.mode));
		q = Q();
		q->ino = 1;
		q->mode = S_IFBLK | 0600;
		strcpy(q->name, "blk");
		assert_int_equal(run(WIRE_CREATE, q), -EINVAL);
	}
	/* Set-group-ID directories pass on their group. */
	{
		struct wire_ns_req *q = Q();
		uint64_t g = mkd(1, "sgid");

		q->ino = g;
		q->valid = WIRE_SET_MODE | WIRE_SET_GID;
		q->mode = 02775;
		q->gid = 77;
		assert_int_equal(run(WIRE_SETATTR, q), 0);
		assert_int_equal(mkdir_(g, "child", &a), 0);
		assert_int_equal(a.gid, 77);
		assert_true(a.mode & S_ISGID);
	}
}

static void test_unlink_rmdir(void **state)
{
	struct wire_ns_req *q;
	uint64_t d = mkd(1, "d"), sub = mkd(d, "sub"), f = mkf(d, "f");
	struct wire_attr a;

	(void)state;
	q = Q();
	q->ino = f;
	strcpy(q->name, "user.x");
	q->data = (const uint8_t *)"v";
	q->data_len = 1;
	assert_int_equal(run(WIRE_XATTR_SET, q), 0);
	assert_int_equal(attr_of(d).nlink, 3);
	assert_int_equal(unlink_(d, "sub", 0), -EISDIR);
	assert_int_equal(rmdir_(d, "f"), -ENOTDIR);
	assert_int_equal(rmdir_(1, "d"), -ENOTEMPTY);
	assert_non_null(strstr(T->err, "not empty"));
	assert_int_equal(unlink_(d, "f", 0), 0);
	assert_int_equal(R.attr.ino, f);
	assert_int_equal(R.attr.nlink, 0);
	assert_int_equal(getattr(f, NULL), -ENOENT);
	assert_int_equal(unlink_(d, "f", 0), -ENOENT);
	q = Q();
	q->ino = f;
	strcpy(q->name, "user.x");
	assert_int_equal(run(WIRE_XATTR_GET, q), -ENOENT);
	assert_int_equal(rmdir_(d, "sub"), 0);
	assert_int_equal(getattr(sub, NULL), -ENOENT);
	a = attr_of(d);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(a.size, 0);
	assert_int_equal(rmdir_(1, "d"), 0);
	assert_int_equal(attr_of(1).nlink, 2);
	assert_int_equal(rmdir_(1, "d"), -ENOENT);
	assert_int_equal(unlink_(1, "x", 0x80), -EINVAL);
}

static void test_hard_links(void **state)
{
	uint64_t d = mkd(1, "d"), f = mkf(1, "f");
	struct wire_attr a;

	(void)state;
	assert_int_equal(link_(f, d, "g"), 0);
	assert_int_equal(R.attr.nlink, 2);
	assert_int_equal(ino_of(d, "g"), f);
	assert_int_equal(link_(f, d, "g"), -EEXIST);
	assert_int_equal(link_(d, 1, "dlink"), -EPERM);
	assert_int_equal(link_(f, f, "x"), -ENOTDIR);
	assert_int_equal(link_(4242, d, "x"), -ENOENT);
	assert_int_equal(unlink_(1, "f", 0), 0);
	assert_int_equal(R.attr.nlink, 1);
	a = attr_of(f);
	assert_int_equal(a.nlink, 1);
	assert_int_equal(unlink_(d, "g", 0), 0);
	assert_int_equal(getattr(f, NULL), -ENOENT);
	/* An orphan (unlinked, kept) cannot be linked again. */
	f = mkf(1, "o");
	assert_int_equal(unlink_(1, "o", WIRE_UNLINK_KEEP), 0);
	assert_int_equal(attr_of(f).nlink, 0);
	assert_int_equal(link_(f, 1, "again"), -ENOENT);
}

static void test_rename(void **state)
{
	uint64_t a = mkd(1, "a"), b = mkd(1, "b"), f, g, sub, e, deep;
	struct wire_attr at;

	(void)state;
	/* Plain rename in one directory, then across directories. */
	f = mkf(a, "f");
	assert_int_equal(rename_(a, "f", a, "f2", 0), 0);
	assert_int_equal(R.attr.ino, 0);
	assert_int_equal(ino_of(a, "f2"), f);
	assert_int_equal(lookup(a, "f", NULL), -ENOENT);
	assert_int_equal(rename_(a, "f2", b, "f", 0), 0);
	assert_int_equal(ino_of(b, "f"), f);
	assert_int_equal(attr_of(a).size, 0);
	assert_int_equal(attr_of(b).size, 1);
	assert_int_equal(rename_(a, "missing", b, "x", 0), -ENOENT);
	/* A directory moving updates both parents' link counts. */
	sub = mkd(a, "sub");
	assert_int_equal(attr_of(a).nlink, 3);
	assert_int_equal(rename_(a, "sub", b, "sub", 0), 0);
	assert_int_equal(attr_of(a).nlink, 2);
	assert_int_equal(attr_of(b).nlink, 3);
	/* Into its own subtree: refused. */
	deep = mkd(sub, "deep");
	assert_int_equal(rename_(b, "sub", deep, "x", 0), -EINVAL);
	assert_int_equal(rename_(b, "sub", sub, "x", 0), -EINVAL);
	assert_int_equal(ino_of(b, "sub"), sub);
	/* Over a file: the replaced inode is returned and gone. */
	g = mkf(b, "g");
	assert_int_equal(rename_(b, "f", b, "g", 0), 0);
	assert_int_equal(R.attr.ino, g);
	assert_int_equal(R.attr.nlink, 0);
	assert_int_equal(getattr(g, NULL), -ENOENT);
	assert_int_equal(ino_of(b, "g"), f);
	assert_int_equal(attr_of(b).size, 2); /* g, sub */
	/* NOREPLACE. */
	mkf(b, "h");
	assert_int_equal(rename_(b, "g", b, "h", WIRE_RENAME_NOREPLACE),
			 -EEXIST);
	assert_int_equal(rename_(b, "g", b, "new", WIRE_RENAME_NOREPLACE), 0);
	/* Types: file over dir, dir over file, dir over non-empty dir. */
	e = mkd(b, "empty");
	assert_int_equal(rename_(b, "new", b, "empty", 0), -EISDIR);
	assert_int_equal(rename_(b, "empty", b, "new", 0), -ENOTDIR);
	assert_int_equal(rename_(b, "empty", b, "sub", 0), -ENOTEMPTY);
	/* Dir over an empty dir. */
	assert_int_equal(rename_(b, "sub", b, "empty", 0), 0);
	assert_int_equal(R.attr.ino, e);
	assert_int_equal(getattr(e, NULL), -ENOENT);
	assert_int_equal(ino_of(b, "empty"), sub);
	at = attr_of(b);
	assert_int_equal(at.nlink, 3); /* only "empty" (the old sub) */
	/* Same inode (two hard links): nothing happens. */
	assert_int_equal(link_(f, b, "hl"), 0);
	assert_int_equal(rename_(b, "new", b, "hl", 0), 0);
	assert_int_equal(R.attr.ino, 0);
	assert_int_equal(ino_of(b, "new"), f);
	assert_int_equal(ino_of(b, "hl"), f);
	assert_int_equal(attr_of(f).nlink, 2);
	/* Same name: nothing happens. */
	assert_int_equal(rename_(b, "new", b, "new", 0), 0);
	/* Exchange a file and a directory across parents. */
	assert_int_equal(rename_(b, "hl", a, "x", WIRE_RENAME_EXCHANGE),
			 -ENOENT);
	assert_int_equal(rename_(b, "new", b, "h", WIRE_RENAME_EXCHANGE |
				 WIRE_RENAME_NOREPLACE), -EINVAL);
	mkd(a, "xd");
	assert_int_equal(attr_of(a).nlink, 3);
	assert_int_equal(rename_(b, "h", a, "xd", WIRE_RENAME_EXCHANGE), 0);
	assert_true(S_ISREG(R.attr.mode) == 0); /* the dir's attrs */
	assert_true(S_ISDIR(attr_of(ino_of(b, "h")).mode));
	assert_true(S_ISREG(attr_of(ino_of(a, "xd")).mode));
	assert_int_equal(attr_of(a).nlink, 2);
	assert_int_equal(attr_of(b).nlink, 4);
	assert_int_equal(attr_of(ino_of(b, "h")).nlink, 2);
	/* Exchange a directory with its own descendant's parent: refused. */
	assert_int_equal(rename_(b, "empty", deep, "nothere",
				 WIRE_RENAME_EXCHANGE), -ENOENT);
	mkf(deep, "leaf");
	assert_int_equal(rename_(b, "empty", deep, "leaf",
				 WIRE_RENAME_EXCHANGE), -EINVAL);
	/* Rename over an open file with KEEP: the replaced one is an
	 * orphan, still readable by inode. */
	{
		uint64_t victim = mkf(a, "victim");

		mkf(a, "winner");
		assert_int_equal(rename_(a, "winner", a, "victim", 1u << 2),
				 0);
		assert_int_equal(R.attr.ino, victim);
		assert_int_equal(attr_of(victim).nlink, 0);
	}
	assert_int_equal(rename_(a, "x", a, "y", 0x100), -EINVAL);
	assert_int_equal(rename_(f, "x", a, "y", 0), -ENOTDIR);
}

static void test_symlink(void **state)
{
	struct wire_ns_req *q = Q();
	uint64_t f = mkf(1, "f");

	(void)state;
	q->ino = 1;
	q->mode = 0120777;
	q->uid = 5;
	strcpy(q->name, "ln");
	strcpy(q->target, "../some/where");
	assert_int_equal(run(WIRE_SYMLINK, q), 0);
	assert_true(S_ISLNK(R.attr.mode));
	assert_int_equal(R.attr.size, strlen("../some/where"));
	assert_int_equal(R.attr.uid, 5);
	q = Q();
	q->ino = ino_of(1, "ln");
	assert_int_equal(run(WIRE_READLINK, q), 0);
	assert_string_equal(R.target, "../some/where");
	q = Q();
	q->ino = f;
	assert_int_equal(run(WIRE_READLINK, q), -EINVAL);
	q = Q();
	q->ino = 1;
	strcpy(q->name, "ln");
	strcpy(q->target, "x");
	assert_int_equal(run(WIRE_SYMLINK, q), -EEXIST);
	q = Q();
	q->ino = ino_of(1, "ln");
	assert_int_equal(run(WIRE_OPEN, q), -ELOOP);
	assert_int_equal(unlink_(1, "ln", 0), 0);
}

/* Read a whole directory from cookie on, max per call; names in out. */
static int list_dir(uint64_t dir, uint64_t cookie, uint32_t max, int plus,
		    char (*names)[16], uint64_t *cookies, int cap)
{
	int n = 0, more = 1;

	while (more) {
		struct wire_ns_req *q = Q();
		struct wire_dirent d;

		q->ino = dir;
		q->cookie = cookie;
		q->max = max;
		q->flags = plus ? WIRE_READDIR_PLUS : 0;
		assert_int_equal(run(WIRE_READDIR, q), 0);
		more = R.more;
		assert_true(R.count <= max);
		assert_int_equal(R.plus, !!plus);
		while (wire_next_dirent(&R.entries, plus, &d)) {
			assert_true(n < cap);
			if (plus) {
				assert_int_equal(d.attr.ino, d.ino);
				assert_int_equal(d.attr.mode & S_IFMT, d.type);
			}
			assert_true(strlen(d.name) < 16);
			memcpy(names[n], d.name, strlen(d.name) + 1);
			cookies[n++] = d.cookie;
			assert_true(d.cookie > cookie);
			assert_true(d.cookie >= 3);
			cookie = d.cookie;
		}
	}
	return n;
}

static int has(char (*names)[16], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

static void test_readdir_cookies(void **state)
{
	static char names[64][16];
	static uint64_t cookies[64];
	uint64_t d = mkd(1, "d"), resume;
	char name[16];
	int n;

	(void)state;
	n = list_dir(d, 0, 10, 0, names, cookies, 64);
	assert_int_equal(n, 0);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		if (i % 3 == 0)
			mkd(d, name);
		else
			mkf(d, name);
	}
	n = list_dir(d, 0, 3, 1, names, cookies, 64);
	assert_int_equal(n, 10);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "e%02d", i);
		assert_true(has(names, n, name));
	}
	/* Resume in the middle after the directory changed: entries not
	 * touched are seen exactly once, new ones after it are seen. */
	resume = cookies[4];
	assert_int_equal(unlink_(d, "e01", 0), 0);  /* before the cookie */
	assert_int_equal(unlink_(d, "e05", 0), 0);  /* right after it */
	assert_int_equal(rmdir_(d, "e09"), 0);
	mkf(d, "late1");
	mkf(d, "late2");
	n = list_dir(d, resume, 2, 0, names, cookies, 64);
	assert_int_equal(n, 5); /* e06 e07 e08 late1 late2 */
	assert_true(has(names, n, "e06"));
	assert_true(has(names, n, "e08"));
	assert_true(has(names, n, "late1"));
	assert_true(has(names, n, "late2"));
	assert_false(has(names, n, "e05"));
	assert_false(has(names, n, "e04"));
	assert_false(has(names, n, "e01"));
	/* Cookies 1 and 2 ("." and ".." in FUSE) start from the beginning. */
	assert_int_equal(list_dir(d, 2, 100, 0, names, cookies, 64), 9);
	{
		struct wire_ns_req *q = Q();

		q->ino = mkf(1, "plain");
		assert_int_equal(run(WIRE_READDIR, q), -ENOTDIR);
	}
}

static void test_big_directory(void **state)
{
	enum { N = 100000, BATCH = 1000 };
	uint64_t d = mkd(1, "big"), t0, t_create, t_lookup, t_list;
	struct wire_ns_req *q = malloc(sizeof(*q));
	struct wire_ns_reply *r = malloc(sizeof(*r));
	uint64_t cookie = 0, seen = 0;
	int more = 1;

	(void)state;
	assert_non_null(q);
	assert_non_null(r);
	t0 = now_ns();
	for (int i = 0; i < N; i += BATCH) {
		struct ns_ctx c;
		MDB_txn *txn;

		assert_int_equal(db_begin(&T->m->db, NULL, 0, &txn), 0);
		ctx(&c, txn);
		for (int j = i; j < i + BATCH; j++) {
			memset(q, 0, sizeof(*q));
			q->ino = d;
			q->mode = S_IFREG | 0644;
			snprintf(q->name, sizeof(q->name), "file-%07d", j);
			assert_int_equal(ns_exec(&c, WIRE_CREATE, q, r), 0);
		}
		ns_ctx_free(&c);
		assert_int_equal(db_commit(txn), 0);
	}
	t_create = now_ns() - t0;
	assert_int_equal(attr_of(d).size, N);
	t0 = now_ns();
	for (int i = 0; i < 1000; i++) {
		char name[32];

		snprintf(name, sizeof(name), "file-%07d", (i * 7919) % N);
		assert_int_equal(lookup(d, name, NULL), 0);
	}
	t_lookup = now_ns() - t0;
	t0 = now_ns();
	while (more) {
		struct wire_dirent de;

		memset(q, 0, sizeof(*q));
		q->ino = d;
		q->cookie = cookie;
		q->max = STORE_LIST_MAX;
		assert_int_equal(run(WIRE_READDIR, q), 0);
		more = R.more;
		while (wire_next_dirent(&R.entries, 0, &de)) {
			cookie = de.cookie;
			seen++;
		}
	}
	t_list = now_ns() - t0;
	assert_int_equal(seen, N);
	/* Removing entries from the middle keeps listing correct. */
	assert_int_equal(unlink_(d, "file-0050000", 0), 0);
	print_message("100,000 entries: create %.2f s (%.1f us each), "
		      "1000 lookups %.1f ms, full listing %.1f ms\n",
		      (double)t_create / 1e9, (double)t_create / N / 1e3,
		      (double)t_lookup / 1e6, (double)t_list / 1e6);
	free(q);
	free(r);
}

static void test_setattr_truncate(void **state)
{
	struct wire_obj objs[8] = {
		{ 0, 100, OS }, { 1, 101, OS }, { 2, 102, OS }, { 3, 103, 100 },
	};
	uint64_t f = mkf(1, "f"), d = mkd(1, "dd"), purged;
	struct wire_ns_req *q;
	struct wire_attr a;

	(void)state;
	assert_int_equal(commit_objs(f, 0, 0, 0, objs, 4), 0);
	a = attr_of(f);
	assert_int_equal(a.size, 3 * OS + 100);
	assert_false(a.flags & WIRE_ATTR_INLINE);
	purged = purge_count();
	/* Down into object 1: objects 2 and 3 go, object 1 is trimmed. */
	q = Q();
	q->ino = f;
	q->valid = WIRE_SET_SIZE;
	q->size = OS + 10;
	assert_int_equal(run(WIRE_SETATTR, q), 0);
	assert_int_equal(R.attr.size, OS + 10);
	assert_true(R.attr.gen > a.gen);
	assert_true(R.attr.mtime_ns >= a.mtime_ns);
	assert_int_equal(objmap(f, objs, 8), 2);
	assert_int_equal(objs[0].length, OS);
	assert_int_equal(objs[1].objno, 1);
	assert_int_equal(objs[1].length, 10);
	assert_int_equal(objs[1].version, 101);
	assert_int_equal(purge_count(), purged + 2);
	/* Up: the size grows, the objects stay. */
	q = Q();
	q->ino = f;
	q->valid = WIRE_SET_SIZE;
	q->size = 100 * OS;
	assert_int_equal(run(WIRE_SETATTR, q), 0);
	assert_int_equal(R.attr.size, 100 * OS);
	assert_int_equal(objmap(f, objs, 8), 2);
	/* Exactly at an object boundary. */
	q = Q();
	q->ino = f;
	q->valid = WIRE_SET_SIZE;
	q->size = OS;
	assert_int_equal(run(WIRE_SETATTR, q), 0);
	assert_int_equal(objmap(f, objs, 8), 1);
	assert_int_equal(objs[0].length, OS);
	/* To zero: nothing left, the file is an empty inline file. */
	q = Q();
	q->ino = f;
	q->valid = WIRE_SET_SIZE;
	assert_int_equal(run(WIRE_SETATTR, q), 0);
	assert_int_equal(R.attr.size, 0);
	assert_true(R.attr.flags & WIRE_ATTR_INLINE);
	assert_int_equal(objmap(f, objs, 8), 0);
	assert_int_equal(purge_count(), purged + 4);
	/* chmod keeps the type, chown, utimes. */
	q = Q();
	q->ino = f;
	q->valid = WIRE_SET_MODE | WIRE_SET_UID | WIRE_SET_GID |
		   WIRE_SET_ATIME | WIRE_SET_MTIME;
	q->mode = S_IFDIR | 04711;
	q->uid = 42;
	q->gid = 43;
	q->atime_ns = 1000;
	q->mtime_ns = 2000;
	assert_int_equal(run(WIRE_SETATTR, q), 0);
	assert_int_equal(R.attr.mode, S_IFREG | 04711);
	assert_int_equal(R.attr.uid, 42);
	assert_int_equal(R.attr.gid, 43);
	assert_int_equal(R.attr.atime_ns, 1000);
	assert_int_equal(R.attr.mtime_ns, 2000);
	assert_true(R.attr.ctime_ns > 2000);
	q = Q();
	q->ino = f;
	q->valid = WIRE_SET_MTIME_NOW;
	assert_int_equal(run(WIRE_SETATTR, q), 0);
	assert_true(R.attr.mtime_ns > 2000);
	/* Inline data is trimmed too. */
	assert_int_equal(commit_inline(f, "hello world", 11), 0);
	q = Q();
	q->ino = f;
	q->valid = WIRE_SET_SIZE;
	q->size = 5;
	assert_int_equal(run(WIRE_SETATTR, q), 0);
	q = Q();
	q->ino = f;
	assert_int_equal(run(WIRE_OPEN, q), 0);
	assert_int_equal(R.data_len, 5);
	assert_memory_equal(R.data, "hello", 5);
	/* Errors. */
	q = Q();
	q->ino = d;
	q->valid = WIRE_SET_SIZE;
	assert_int_equal(run(WIRE_SETATTR, q), -EISDIR);
	q->ino = 9999;
	assert_int_equal(run(WIRE_SETATTR, q), -ENOENT);
}

static void test_commit(void **state)
{
	struct wire_obj objs[8], v1[3] = {
		{ 0, 0x100000001ull, OS }, { 1, 0x100000002ull, OS },
		{ 2, 0x100000003ull, 50 },
	};
	uint64_t f = mkf(1, "f"), d = mkd(1, "d");
	uint8_t big[STORE_INLINE_MAX];
	struct wire_ns_req *q;
	struct wire_attr a;

	(void)state;
	/* Inline: the whole file. */
	assert_int_equal(commit_inline(f, "abc", 3), 0);
	assert_int_equal(R.attr.size, 3);
	assert_true(R.attr.flags & WIRE_ATTR_INLINE);
	assert_int_equal(R.count, 0);
	q = Q();
	q->ino = f;
	assert_int_equal(run(WIRE_OPEN, q), 0);
	assert_int_equal(R.data_len, 3);
	assert_memory_equal(R.data, "abc", 3);
	memset(big, 'z', sizeof(big));
	T->inline_max = 1000;
	assert_int_equal(commit_inline(f, big, 1001), -EFBIG);
	T->inline_max = STORE_INLINE_MAX;
	assert_int_equal(commit_inline(f, big, sizeof(big)), 0);
	assert_int_equal(R.attr.size, sizeof(big));
	assert_int_equal(commit_inline(f, "abc", 3), 0);
	assert_int_equal(R.attr.size, 3);
	/* Objects: inline data goes, size covers them. */
	assert_int_equal(commit_objs(f, 0, 0, 0, v1, 3), 0);
	assert_false(R.attr.flags & WIRE_ATTR_INLINE);
	assert_int_equal(R.attr.size, 2 * OS + 50);
	assert_int_equal(R.count, 0);
	q = Q();
	q->ino = f;
	assert_int_equal(run(WIRE_OPEN, q), 0);
	assert_int_equal(R.data_len, 0);
	/* A new version of object 1 replaces the old one, which is listed;
	 * a re-commit of the same version (a retry) replaces nothing. */
	objs[0] = (struct wire_obj){ 1, 0x200000001ull, OS };
	objs[1] = (struct wire_obj){ 2, 0x100000003ull, 50 };
	assert_int_equal(commit_objs(f, 0, 0, 0, objs, 2), 0);
	assert_int_equal(R.count, 1);
	assert_true(replaced_has(0x100000002ull));
	assert_int_equal(objmap(f, objs, 8), 3);
	assert_int_equal(objs[1].version, 0x200000001ull);
	/* SIZE without TRUNC: at least; with TRUNC: exactly. */
	assert_int_equal(commit_objs(f, 0, WIRE_SET_SIZE, 10, NULL, 0), 0);
	assert_int_equal(R.attr.size, 2 * OS + 50);
	assert_int_equal(commit_objs(f, 0, WIRE_SET_SIZE, 10 * OS, NULL, 0),
			 0);
	assert_int_equal(R.attr.size, 10 * OS);
	assert_int_equal(commit_objs(f, WIRE_COMMIT_TRUNC, WIRE_SET_SIZE,
				     OS + 1, NULL, 0), 0);
	assert_int_equal(R.attr.size, OS + 1);
	assert_int_equal(R.count, 1); /* object 2 dropped, reported */
	assert_true(replaced_has(0x100000003ull));
	assert_int_equal(objmap(f, objs, 8), 2);
	assert_int_equal(objs[1].length, 1);
	/* mtime. */
	q = Q();
	q->ino = f;
	q->flags = WIRE_COMMIT_MTIME;
	q->mtime_ns = 123456789;
	assert_int_equal(run(WIRE_COMMIT, q), 0);
	assert_int_equal(R.attr.mtime_ns, 123456789);
	a = R.attr;
	/* Inline over objects: they are all reported replaced. */
	assert_int_equal(commit_inline(f, "xy", 2), 0);
	assert_int_equal(R.count, 2);
	assert_true(replaced_has(0x100000001ull));
	assert_true(replaced_has(0x200000001ull));
	assert_true(R.attr.gen > a.gen);
	assert_int_equal(objmap(f, objs, 8), 0);
	/* Errors. */
	objs[0] = (struct wire_obj){ 0, 1, OS + 1 };
	assert_int_equal(commit_objs(f, 0, 0, 0, objs, 1), -EINVAL);
	objs[0] = (struct wire_obj){ UINT64_MAX / 2, 1, 10 };
	assert_int_equal(commit_objs(f, 0, 0, 0, objs, 1), -EFBIG);
	objs[0] = (struct wire_obj){ 0, 1, 1 };
	q = Q();
	q->ino = f;
	q->flags = WIRE_COMMIT_INLINE;
	q->data = (const uint8_t *)"x";
	q->data_len = 1;
	{
		struct wbuf w;

		wbuf_init(&w);
		wire_enc_obj(&w, &objs[0]);
		q->n_objs = 1;
		wire_ns_set_list(&q->objs, &w);
		assert_int_equal(run(WIRE_COMMIT, q), -EINVAL);
		wbuf_free(&w);
	}
	assert_int_equal(commit_objs(d, 0, 0, 0, objs, 1), -EISDIR);
	assert_int_equal(commit_objs(777777, 0, 0, 0, objs, 1), -ENOENT);
	assert_int_equal(commit_objs(f, 0x100, 0, 0, objs, 1), -EINVAL);
	/* Failed commits changed nothing. */
	q = Q();
	q->ino = f;
	assert_int_equal(run(WIRE_OPEN, q), 0);
	assert_int_equal(R.data_len, 2);
	assert_memory_equal(R.data, "xy", 2);
}

/* INO_RESERVE hands out numbers nobody else gets; CREATE_AT creates a
 * file as one of them, with its data and times in the same transaction,
 * and refuses numbers never handed out, numbers in use, and taken names. */
static void test_create_at(void **state)
{
	uint64_t d = mkd(1, "d"), first, other;
	struct wire_ns_req *q;

	(void)state;
	q = Q();
	q->max = 0;
	assert_int_equal(run(WIRE_INO_RESERVE, q), -EINVAL);
	q->max = WIRE_INO_RESERVE_MAX + 1;
	assert_int_equal(run(WIRE_INO_RESERVE, q), -EINVAL);
	q->max = 16;
	assert_int_equal(run(WIRE_INO_RESERVE, q), 0);
	first = R.attr.ino;
	assert_int_equal(R.attr.size, 16);
	/* A plain create after it takes a number past the reserved ones. */
	other = mkf(d, "plain");
	assert_true(other >= first + 16);
	/* Create with data and times, in one request. */
	q = Q();
	q->ino = d;
	q->ino2 = first + 3;
	q->mode = S_IFREG | 0640;
	q->uid = 7;
	q->gid = 8;
	q->flags = WIRE_CREATE_EXCL | WIRE_CREATE_AT_COMMIT;
	q->valid = WIRE_SET_MTIME;
	q->mtime_ns = 1234567890123ll;
	q->data = (const uint8_t *)"hello";
	q->data_len = 5;
	strcpy(q->name, "small");
	assert_int_equal(run(WIRE_CREATE_AT, q), 0);
	assert_int_equal(R.attr.ino, first + 3);
	assert_int_equal(R.attr.size, 5);
	assert_int_equal(R.attr.mode, S_IFREG | 0640);
	assert_int_equal(R.attr.uid, 7);
	assert_int_equal(R.attr.mtime_ns, 1234567890123ll);
	q = Q();
	q->ino = d;
	strcpy(q->name, "small");
	assert_int_equal(run(WIRE_LOOKUP, q), 0);
	assert_int_equal(R.attr.ino, first + 3);
	q = Q();
	q->ino = first + 3;
	assert_int_equal(run(WIRE_OPEN, q), 0);
	assert_int_equal(R.data_len, 5);
	assert_memory_equal(R.data, "hello", 5);
	/* Without data: an empty file. */
	q = Q();
	q->ino = d;
	q->ino2 = first;
	q->mode = S_IFREG | 0600;
	q->flags = WIRE_CREATE_EXCL;
	strcpy(q->name, "empty");
	assert_int_equal(run(WIRE_CREATE_AT, q), 0);
	assert_int_equal(R.attr.size, 0);
	/* The name taken; the number in use; never handed out; bad type. */
	q->ino2 = first + 4;
	assert_int_equal(run(WIRE_CREATE_AT, q), -EEXIST);
	strcpy(q->name, "other");
	q->ino2 = first + 3;
	assert_int_equal(run(WIRE_CREATE_AT, q), -EEXIST);
	q->ino2 = other + 1000000;
	assert_int_equal(run(WIRE_CREATE_AT, q), -EINVAL);
	q->ino2 = 1;
	assert_int_equal(run(WIRE_CREATE_AT, q), -EINVAL);
	q->ino2 = first + 5;
	q->mode = S_IFDIR | 0755;
	assert_int_equal(run(WIRE_CREATE_AT, q), -EINVAL);
	/* Nothing was left behind by the refusals. */
	q = Q();
	q->ino = d;
	strcpy(q->name, "other");
	assert_int_equal(run(WIRE_LOOKUP, q), -ENOENT);
}

static void test_open_trunc_and_orphans(void **state)
{
	struct wire_obj objs[4] = { { 0, 7, OS }, { 1, 8, 10 } };
	uint64_t f = mkf(1, "f"), d = mkd(1, "d"), purged;
	struct wire_ns_req *q;

	(void)state;
	assert_int_equal(commit_objs(f, 0, 0, 0, objs, 2), 0);
	purged = purge_count();
	q = Q();
	q->ino = f;
	q->flags = WIRE_CREATE_TRUNC;
	assert_int_equal(run(WIRE_OPEN, q), 0);
	assert_int_equal(R.attr.size, 0);
	assert_true(R.attr.flags & WIRE_ATTR_INLINE);
	assert_int_equal(purge_count(), purged + 2);
	q = Q();
	q->ino = d;
	assert_int_equal(run(WIRE_OPEN, q), -EISDIR);
	q->ino = 5555;
	assert_int_equal(run(WIRE_OPEN, q), -ENOENT);
	/* CREATE with TRUNC on an existing file truncates it. */
	assert_int_equal(commit_inline(f, "data", 4), 0);
	assert_int_equal(create_(1, "f", WIRE_CREATE_TRUNC, NULL), 0);
	assert_int_equal(R.attr.size, 0);
	/* An orphan lives until its RELEASE, whose reply lists its objects
	 * for the writer to delete. */
	assert_int_equal(commit_objs(f, 0, 0, 0, objs, 2), 0);
	assert_int_equal(unlink_(1, "f", WIRE_UNLINK_KEEP), 0);
	assert_int_equal(R.attr.nlink, 0);
	assert_int_equal(lookup(1, "f", NULL), -ENOENT);
	assert_int_equal(attr_of(f).size, OS + 10);
	q = Q();
	q->ino = f;
	assert_int_equal(run(WIRE_OPEN, q), 0);
	objs[2] = (struct wire_obj){ 2, 9, 5 };
	assert_int_equal(commit_objs(f, 0, 0, 0, &objs[2], 1), 0);
	assert_int_equal(commit_objs(f, WIRE_COMMIT_RELEASE, 0, 0, NULL, 0),
			 0);
	assert_int_equal(R.count, 3);
	assert_true(replaced_has(7) && replaced_has(8) && replaced_has(9));
	assert_int_equal(getattr(f, NULL), -ENOENT);
	/* RELEASE of a linked file changes nothing. */
	f = mkf(1, "g");
	assert_int_equal(commit_objs(f, WIRE_COMMIT_RELEASE, 0, 0, NULL, 0),
			 0);
	assert_int_equal(getattr(f, NULL), 0);
}

static void test_objmap_paging(void **state)
{
	struct wire_obj objs[10];
	uint64_t f = mkf(1, "f"), next = 0;
	int total = 0, more = 1;

	(void)state;
	for (int i = 0; i < 10; i++)
		objs[i] = (struct wire_obj){ (uint64_t)i * 3, 1000 + i, OS };
	assert_int_equal(commit_objs(f, 0, 0, 0, objs, 10), 0);
	while (more) {
		struct wire_ns_req *q = Q();
		struct wire_obj o;

		q->ino = f;
		q->cookie = next;
		q->max = 4;
		assert_int_equal(run(WIRE_OBJMAP, q), 0);
		more = R.more;
		while (wire_next_obj(&R.entries, &o)) {
			assert_int_equal(o.objno, (uint64_t)total * 3);
			assert_int_equal(o.version, 1000 + total);
			total++;
			next = o.objno + 1;
		}
	}
	assert_int_equal(total, 10);
}

static void test_xattrs(void **state)
{
	uint64_t f = mkf(1, "f");
	struct wire_ns_req *q;
	struct wire_attr a0 = attr_of(f);

	(void)state;
	q = Q();
	q->ino = f;
	strcpy(q->name, "user.a");
	assert_int_equal(run(WIRE_XATTR_GET, q), -ENODATA);
	q->data = (const uint8_t *)"1";
	q->data_len = 1;
	q->flags = WIRE_XATTR_REPLACE;
	assert_int_equal(run(WIRE_XATTR_SET, q), -ENODATA);
	q->flags = WIRE_XATTR_CREATE;
	assert_int_equal(run(WIRE_XATTR_SET, q), 0);
	assert_int_equal(run(WIRE_XATTR_SET, q), -EEXIST);
	q->flags = WIRE_XATTR_REPLACE;
	q->data = (const uint8_t *)"22";
	q->data_len = 2;
	assert_int_equal(run(WIRE_XATTR_SET, q), 0);
	assert_true(attr_of(f).gen > a0.gen);
	q = Q();
	q->ino = f;
	strcpy(q->name, "user.b");
	q->data_len = 0; /* empty values are values */
	assert_int_equal(run(WIRE_XATTR_SET, q), 0);
	q = Q();
	q->ino = f;
	strcpy(q->name, "user.a");
	assert_int_equal(run(WIRE_XATTR_GET, q), 0);
	assert_int_equal(R.data_len, 2);
	assert_memory_equal(R.data, "22", 2);
	q = Q();
	q->ino = f;
	assert_int_equal(run(WIRE_XATTR_LIST, q), 0);
	assert_int_equal(R.data_len, 14);
	assert_memory_equal(R.data, "user.a\0user.b\0", 14);
	q = Q();
	q->ino = f;
	strcpy(q->name, "user.a");
	assert_int_equal(run(WIRE_XATTR_REMOVE, q), 0);
	assert_int_equal(run(WIRE_XATTR_REMOVE, q), -ENODATA);
	assert_non_null(strstr(T->err, "user.a"));
	q = Q();
	q->ino = f;
	assert_int_equal(run(WIRE_XATTR_LIST, q), 0);
	assert_int_equal(R.data_len, 7);
	q->ino = 31337;
	assert_int_equal(run(WIRE_XATTR_LIST, q), -ENOENT);
}

static void test_statfs(void **state)
{
	(void)state;
	mkf(1, "a");
	mkd(1, "b");
	assert_int_equal(run(WIRE_STATFS, Q()), 0);
	assert_int_equal(R.f_files, 3);
	assert_int_equal(R.f_blocks, (1ull << 40) / 4096);
	assert_int_equal(R.f_bfree, (1ull << 39) / 4096);
}

static void test_persistence(void **state)
{
	struct wire_obj objs[2] = { { 0, 11, OS }, { 1, 12, 3 } };
	uint64_t d = mkd(1, "keep"), f = mkf(d, "file"), g;
	struct wire_ns_req *q;

	(void)state;
	assert_int_equal(commit_objs(f, 0, 0, 0, objs, 2), 0);
	assert_int_equal(run(WIRE_SESSION_OPEN, Q()), 0);
	assert_int_equal(R.session_id, 1);
	q = Q();
	q->ino = d;
	strcpy(q->name, "user.k");
	q->data = (const uint8_t *)"v";
	q->data_len = 1;
	assert_int_equal(run(WIRE_XATTR_SET, q), 0);
	mds_close(T->m);
	open_mds(T);
	assert_int_equal(ino_of(1, "keep"), d);
	assert_int_equal(ino_of(d, "file"), f);
	assert_int_equal(attr_of(f).size, OS + 3);
	assert_int_equal(objmap(f, objs, 2), 2);
	assert_int_equal(objs[1].version, 12);
	q = Q();
	q->ino = d;
	strcpy(q->name, "user.k");
	assert_int_equal(run(WIRE_XATTR_GET, q), 0);
	/* Counters continue: no inode or session id is reused. */
	g = mkf(1, "new");
	assert_true(g > f);
	assert_int_equal(run(WIRE_SESSION_OPEN, Q()), 0);
	assert_int_equal(R.session_id, 2);
}

/* ---- batches through the dispatcher -------------------------------------*/

struct got {
	int n;
	struct wire_hdr hdr[16];
	uint8_t *frame[16];
};

static void collect(void *arg, struct mds_msg *msg)
{
	struct got *g = arg;
	int i = (int)(intptr_t)msg->user;

	assert_true(i >= 0 && i < 16);
	assert_null(g->frame[i]); /* exactly one reply per request */
	assert_int_equal(wire_hdr_decode(msg->reply.p, msg->reply.len,
					 &g->hdr[i]), 0);
	g->frame[i] = malloc(msg->reply.len);
	memcpy(g->frame[i], msg->reply.p, msg->reply.len);
	g->n++;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < 16; i++)
		free(g->frame[i]);
	memset(g, 0, sizeof(*g));
}

static uint8_t *frame(unsigned type, uint64_t req_id,
		      const struct wire_ns_req *q, size_t *len)
{
	struct wbuf w;

	wbuf_init(&w);
	wire_msg_begin(&w, type, 0, req_id, 0, 0);
	if (q)
		wire_enc_ns_req(&w, type, q);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	*len = w.len;
	return w.p;
}

static void batch(struct mds_msg *msgs, uint8_t **frames, int n,
		  struct got *g)
{
	for (int i = 0; i < n; i++) {
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].frame = frames[i];
		msgs[i].len = (size_t)get_le32(frames[i] + 28) + WIRE_HDR_LEN;
		assert_int_equal(wire_hdr_decode(frames[i], msgs[i].len,
						 &msgs[i].hdr), 0);
		msgs[i].user = (void *)(intptr_t)i;
	}
	memset(g, 0, sizeof(*g));
	mds_handle(T->m, msgs, (size_t)n, collect, g);
	assert_int_equal(g->n, n);
}

static void test_batch_one_fails(void **state)
{
	struct mds_msg msgs[6];
	uint8_t *frames[6];
	struct wire_ns_req *q;
	struct got g;
	uint64_t commits, sid;
	size_t len;

	(void)state;
	assert_int_equal(run(WIRE_SESSION_OPEN, Q()), 0);
	sid = R.session_id;
	q = Q();
	q->ino = 1;
	q->mode = 0755;
	strcpy(q->name, "a");
	frames[0] = frame(WIRE_MKDIR, sid << 32 | 1, q, &len);
	frames[1] = frame(WIRE_MKDIR, sid << 32 | 2, q, &len); /* EEXIST */
	strcpy(q->name, "b");
	q->mode = S_IFREG | 0644;
	frames[2] = frame(WIRE_CREATE, sid << 32 | 3, q, &len);
	q = Q();
	q->ino = 1;
	strcpy(q->name, "zzz");
	frames[3] = frame(WIRE_LOOKUP, 77, q, &len); /* read: ENOENT */
	/* A frame whose payload does not decode. */
	frames[4] = frame(WIRE_GETATTR, 78, NULL, &len);
	/* A type the MDS does not serve. */
	frames[5] = frame(WIRE_SHARD_GET, 79, NULL, &len);
	commits = T->m->n_commits;
	batch(msgs, frames, 6, &g);
	assert_int_equal(T->m->n_commits, commits + 1); /* one commit */
	assert_int_equal(g.hdr[0].status, 0);
	assert_int_equal(g.hdr[1].status, -EEXIST);
	assert_int_equal(g.hdr[2].status, 0);
	assert_int_equal(g.hdr[3].status, -ENOENT);
	assert_int_equal(g.hdr[4].status, -EBADMSG);
	assert_int_equal(g.hdr[5].status, -EOPNOTSUPP);
	for (int i = 0; i < 6; i++) {
		assert_true(g.hdr[i].flags & WIRE_F_REPLY);
		assert_int_equal(g.hdr[i].epoch, 1);
		assert_int_equal(g.hdr[i].type, frames[i][5]);
	}
	{
		char text[STORE_ERRMSG_MAX + 1];

		assert_int_equal(wire_dec_error(wire_payload(g.frame[1]),
						g.hdr[1].payload_len, text,
						sizeof(text)), 0);
		assert_non_null(strstr(text, "'a' already exists"));
	}
	assert_true(S_ISDIR(attr_of(ino_of(1, "a")).mode));
	assert_true(S_ISREG(attr_of(ino_of(1, "b")).mode));
	got_free(&g);

	/* Resent requests get their first answer (the reply cache), also
	 * when both copies are in one batch, and change nothing again. */
	{
		uint8_t *again[3] = { frames[0], frames[2], frames[2] };
		struct wire_ns_reply rep;

		batch(msgs, again, 3, &g);
		assert_int_equal(g.hdr[0].status, 0);
		assert_int_equal(g.hdr[1].status, 0);
		assert_int_equal(g.hdr[2].status, 0);
		assert_int_equal(wire_dec_ns_reply(WIRE_CREATE,
				 wire_payload(g.frame[1]),
				 g.hdr[1].payload_len, &rep), 0);
		assert_int_equal(rep.attr.ino, ino_of(1, "b"));
		got_free(&g);
		q = Q();
		q->ino = 1;
		q->flags = WIRE_CREATE_EXCL;
		q->mode = S_IFREG | 0644;
		strcpy(q->name, "c");
		again[0] = frame(WIRE_CREATE, sid << 32 | 9, q, &len);
		again[1] = again[0];
		batch(msgs, again, 2, &g);
		assert_int_equal(g.hdr[0].status, 0);
		assert_int_equal(g.hdr[1].status, 0);
		got_free(&g);
		free(again[0]);
		assert_true(T->m->n_cache_hits >= 2);
	}
	for (int i = 0; i < 6; i++)
		free(frames[i]);
}

/* fsck finds damage: a wrong link count, an entry without its listing
 * record, an object past the end of its file. */
static void test_fsck_detects(void **state)
{
	struct wire_obj o = { 5, 1, 10 };
	uint64_t d = mkd(1, "d"), f = mkf(d, "f");
	struct db_inode in;
	struct db_dentry de;
	char err[1024];
	MDB_txn *txn;

	(void)state;
	assert_int_equal(db_begin(&T->m->db, NULL, 0, &txn), 0);
	assert_int_equal(mds_fsck(&T->m->db, txn, err, sizeof(err)), 0);
	assert_int_equal(db_inode_get(&T->m->db, txn, d, &in), 0);
	in.a.nlink = 3;
	assert_int_equal(db_inode_put(&T->m->db, txn, &in), 0);
	assert_int_equal(mds_fsck(&T->m->db, txn, err, sizeof(err)),
			 -EUCLEAN);
	assert_non_null(strstr(err, "nlink 3"));
	mdb_txn_abort(txn);

	assert_int_equal(db_begin(&T->m->db, NULL, 0, &txn), 0);
	assert_int_equal(db_obj_put(&T->m->db, txn, f, &o), 0);
	assert_int_equal(mds_fsck(&T->m->db, txn, err, sizeof(err)),
			 -EUCLEAN);
	assert_non_null(strstr(err, "object 5"));
	mdb_txn_abort(txn);

	assert_int_equal(db_begin(&T->m->db, NULL, 0, &txn), 0);
	assert_int_equal(db_dentry_get(&T->m->db, txn, d, "f", &de), 0);
	de.seq = 1000;
	assert_int_equal(db_dentry_put(&T->m->db, txn, d, "g", &de), 0);
	assert_int_equal(mds_fsck(&T->m->db, txn, err, sizeof(err)),
			 -EUCLEAN);
	mdb_txn_abort(txn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_at, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_session_and_root, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_create_lookup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unlink_rmdir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hard_links, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readdir_cookies, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_big_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_setattr_truncate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_trunc_and_orphans,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_objmap_paging, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_xattrs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batch_one_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fsck_detects, setup,
						teardown),
	};

	log_init("test_mds_ns", LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
