/*
 * fuzz_mds.c -- batches of requests, well-formed and not, into the whole
 * MDS dispatcher (namespace, monitor, group commit, reply cache) on a
 * temporary database, with the namespace checked by mds_fsck() as it goes.
 *
 * The input is a list of requests.  Each starts with a byte choosing how
 * it is built: raw (a type and payload bytes as given: exercises every
 * decoder and error path) or structured (fields drawn from the input and
 * encoded properly, with inode numbers taken from earlier replies and
 * names from a small set, so that requests hit existing objects and the
 * namespace logic itself is explored).  Up to 8 requests form a batch.
 * Every request must get exactly one well-formed reply of its type and
 * id; a successful reply must decode.
 *
 * The cluster has keys, and each request comes from an identity the
 * input picks (none, a daemon, an administrator, a read-only key, or a
 * key limited to a directory seen earlier): the caps checks run on every
 * request, and a successful reply to a path-limited sender must be about
 * an inode inside its directory (checked with the parents index).
 *
 * Fuzz targets link common/ only, so the MDS sources are compiled in
 * here.
 */
#include "../../mds/db.c"
#include "../../mds/dispatch.c"
#include "../../mds/fsck.c"
#include "../../mds/health.c"
#include "../../mds/mds.c"
#include "../../mds/mds_auth.c"
#include "../../mds/ns.c"
#include "../../mds/ns_dir.c"
#include "../../mds/ns_file.c"
#include "../../mds/osdmap.c"
#include "../../mds/parents.c"
#include "../../mds/pgidx.c"
#include "../../mds/rcache.c"
#include "../../mds/space.c"
#include "../../mds/status.c"

#include <stdlib.h>
#include <unistd.h>

#define BATCH 8
#define RESET_EVERY 4000
#define FSCK_EVERY 64

static struct mds *M;
static char dir[64];
static uint64_t inos[64] = { 1 };
static struct mds_auth_keys fuzz_keys; /* all zero: a fixed cluster */
static size_t batch_n;
static unsigned n_inos = 1;
static unsigned long runs;

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint32_t u16(struct in *in)
{
	uint32_t v = byte(in);

	return v | (uint32_t)byte(in) << 8;
}

static void cleanup(void)
{
	char cmd[128];

	mds_close(M);
	M = NULL;
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			abort();
	}
}

static void start(void)
{
	struct mds_cluster_opts co;
	struct mds_opts o;
	uint8_t id[16];
	char err[1024];

	if (M)
		cleanup();
	snprintf(dir, sizeof(dir), "/tmp/fuzz_mds.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	mds_opts_default(&o);
	o.dir = dir;
	o.nosync = 1;
	o.map_size = 256ull << 20;
	mds_cluster_opts_default(&co);
	co.pg_num = 16;
	co.object_size = 8192;
	co.keys = &fuzz_keys;
	if (mds_create(&o, &co, id, err, sizeof(err)) ||
	    mds_open(&o, &M, err, sizeof(err))) {
		fprintf(stderr, "fuzz_mds: %s\n", err);
		abort();
	}
	M->fake_now_ms = 1000000;
	inos[0] = 1;
	n_inos = 1;
}

/* Who sends a request: picked per request from the input. */
static struct auth_req idents[BATCH];

static struct auth_req *pick_ident(struct in *in, unsigned i)
{
	static const uint8_t caps[] = {
		0, AUTH_CAP_DAEMON, AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W,
		AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W, AUTH_CAP_R,
		AUTH_CAP_ADMIN, AUTH_CAP_R | AUTH_CAP_W, AUTH_CAP_R,
	};
	struct auth_req *a = &idents[i];
	uint8_t b = byte(in), k = b % 8;

	if (k == 0)
		return NULL;
	memset(a, 0, sizeof(*a));
	snprintf(a->entity, sizeof(a->entity), "client.f%u", k);
	a->caps = caps[k];
	a->root = 1;
	a->expires_ms = auth_wall_ms() + 60000;
	a->suite = AUTH_SUITE_XCHACHA20;
	if (k >= 6) { /* path-limited, to an inode seen so far */
		a->root = inos[(b >> 3) % n_inos];
		/* One entity, one root: as keys are. */
		snprintf(a->entity, sizeof(a->entity), "client.f%u.%llu", k,
			 (unsigned long long)a->root);
	}
	return a;
}

static const char *const names[] = { "a", "b", "c", "dir", "file", "x.y" };

static void pick_name(struct in *in, char *dst)
{
	strcpy(dst, names[byte(in) % (sizeof(names) / sizeof(names[0]))]);
}

static uint64_t pick_ino(struct in *in)
{
	uint8_t b = byte(in);

	if (b == 0xff)
		return (uint64_t)u16(in); /* anything */
	return inos[b % n_inos];
}

static const uint8_t ns_types[] = {
	WIRE_SESSION_OPEN, WIRE_LOOKUP, WIRE_GETATTR, WIRE_SETATTR,
	WIRE_MKDIR, WIRE_CREATE, WIRE_READDIR, WIRE_UNLINK, WIRE_RMDIR,
	WIRE_RENAME, WIRE_SYMLINK, WIRE_READLINK, WIRE_LINK, WIRE_OPEN,
	WIRE_COMMIT, WIRE_OBJMAP, WIRE_STATFS, WIRE_XATTR_GET, WIRE_XATTR_SET,
	WIRE_XATTR_LIST, WIRE_XATTR_REMOVE, WIRE_STATUS, WIRE_OSD_BOOT,
	WIRE_HEARTBEAT, WIRE_OSD_CMD, WIRE_MAP_GET, WIRE_PING,
	WIRE_PG_OBJECTS, WIRE_CREATE_AT, WIRE_INO_RESERVE,
};

/* A structured request of a type picked from the input, into w. */
static unsigned structured(struct in *in, struct wbuf *w)
{
	static struct wire_ns_req q;
	static uint8_t data[512];
	unsigned type = ns_types[byte(in) % sizeof(ns_types)];
	struct wbuf objs;

	memset(&q, 0, sizeof(q));
	if (type == WIRE_OSD_BOOT) {
		struct wire_osd_boot b;

		memset(&b, 0, sizeof(b));
		b.uuid[0] = byte(in) % 8;
		if (byte(in) & 1)
			memcpy(b.cluster_id, M->cluster_id, 16);
		b.osd_id = WIRE_OSD_NEW;
		b.weight = byte(in) / 16.0;
		b.capacity = 1ull << 30;
		snprintf(b.host, sizeof(b.host), "h%u", byte(in) % 6);
		snprintf(b.addr, sizeof(b.addr), "tcp://127.0.0.1:%u",
			 7000 + byte(in));
		wire_enc_osd_boot(w, &b);
		return type;
	}
	if (type == WIRE_HEARTBEAT) {
		struct wire_heartbeat hb;

		memset(&hb, 0, sizeof(hb));
		hb.osd_id = byte(in) % 10;
		hb.capacity = 1ull << 30;
		hb.recovery_queued = byte(in);
		hb.shards = byte(in) % 3;
		hb.pass_epoch = mds_epoch(M) - byte(in) % 2;
		hb.degraded = byte(in) % 3;
		hb.misplaced = byte(in) % 3;
		hb.unfound = byte(in) % 2;
		hb.bytes_left = byte(in) % 2;
		/* Space: OSDs sharing a file system (space.c) or not. */
		hb.avail = (uint64_t)(byte(in) % 5) << 28;
		hb.fs_used = hb.capacity - MIN(hb.avail, hb.capacity);
		hb.disk_id = byte(in) % 3;
		wire_enc_heartbeat(w, &hb);
		return type;
	}
	if (type == WIRE_OSD_CMD) {
		struct wire_osd_cmd c = { 1 + byte(in) % 5, byte(in) % 10,
					  byte(in) / 8.0 };

		wire_enc_osd_cmd(w, &c);
		return type;
	}
	if (type == WIRE_MAP_GET) {
		struct wire_map_get g = { byte(in) % 4 };

		wire_enc_map_get(w, &g);
		return type;
	}
	if (type == WIRE_STATUS)
		return type;
	if (type == WIRE_PG_OBJECTS) {
		struct wire_pg_objects g;

		memset(&g, 0, sizeof(g));
		g.pool = byte(in) % 3;
		g.pg = byte(in) + (byte(in) & 1 ? 256 : 0);
		g.max = byte(in) % 4;
		g.has_after = byte(in) & 1;
		g.after_ino = pick_ino(in);
		g.after_objno = byte(in) % 4;
		wire_enc_pg_objects(w, &g);
		return type;
	}
	if (type == WIRE_PING) {
		wbuf_raw(w, "p", 1);
		return type;
	}
	q.ino = pick_ino(in);
	q.ino2 = pick_ino(in);
	/* CREATE_AT: now and then a number just past a known one (maybe
	 * reserved, maybe not). */
	if (type == WIRE_CREATE_AT)
		q.ino2 += byte(in) % 4;
	q.mode = (uint32_t)u16(in) | ((byte(in) & 1) ? S_IFREG : 0);
	q.uid = byte(in);
	q.gid = byte(in);
	q.flags = byte(in) & 0x0f;
	q.valid = u16(in) & WIRE_SET_ALL;
	q.size = (uint64_t)u16(in) * (byte(in) % 8 + 1);
	q.atime_ns = byte(in);
	q.mtime_ns = byte(in);
	q.cookie = byte(in);
	q.max = byte(in) % 5;
	pick_name(in, q.name);
	pick_name(in, q.name2);
	if (type == WIRE_XATTR_SET || type == WIRE_XATTR_GET ||
	    type == WIRE_XATTR_REMOVE)
		snprintf(q.name, sizeof(q.name), "user.%c", 'a' + byte(in) % 3);
	strcpy(q.target, "../t");
	q.data_len = type == WIRE_COMMIT && !(q.flags & WIRE_COMMIT_INLINE) ?
			     0 : byte(in) * 2;
	memset(data, byte(in), sizeof(data));
	q.data = data;
	wbuf_init(&objs);
	if (type == WIRE_COMMIT && !(q.flags & WIRE_COMMIT_INLINE)) {
		q.n_objs = byte(in) % 4;
		for (uint32_t i = 0; i < q.n_objs; i++) {
			struct wire_obj o = { byte(in) % 8, byte(in),
					      u16(in) % 9000 };

			wire_enc_obj(&objs, &o);
		}
	}
	wire_ns_set_list(&q.objs, &objs);
	wire_enc_ns_req(w, type, &q);
	wbuf_free(&objs);
	return type;
}

static unsigned replies;

static void check(void *arg, struct mds_msg *msg)
{
	static uint64_t seen_hits;
	struct wire_ns_reply r;
	struct wire_hdr h;
	int hit;

	(void)arg;
	replies++;
	hit = M->n_cache_hits != seen_hits;
	seen_hits = M->n_cache_hits;
	if (wire_hdr_decode(msg->reply.p, msg->reply.len, &h) ||
	    !(h.flags & WIRE_F_REPLY) || h.type != msg->hdr.type ||
	    h.req_id != msg->hdr.req_id || h.epoch != mds_epoch(M))
		abort();
	if (h.status) {
		char text[STORE_ERRMSG_MAX + 1];

		if (wire_dec_error(wire_payload(msg->reply.p), h.payload_len,
				   text, sizeof(text)) || !text[0])
			abort();
		return;
	}
	if (h.type == WIRE_PG_OBJECTS) {
		struct wire_pg_objects_reply pr;
		struct wire_pg_obj e;
		uint32_t n = 0;

		if (wire_dec_pg_objects_reply(wire_payload(msg->reply.p),
					      h.payload_len, &pr))
			abort();
		while (wire_pg_objects_next(&pr, &e))
			n++;
		if (n != pr.count)
			abort();
		return;
	}
	if (h.type == WIRE_STATUS) {
		struct wire_status st;

		if (wire_dec_status(wire_payload(msg->reply.p), h.payload_len,
				    &st))
			abort();
		return;
	}
	if (!wire_is_ns(h.type))
		return;
	if (wire_dec_ns_reply(h.type, wire_payload(msg->reply.p),
			      h.payload_len, &r))
		abort();
	/* Nothing outside a path-limited sender's directory is shown to it
	 * (its directory itself shows as inode 1).  UNLINK and RENAME reply
	 * with an inode the sender may just have unlinked from its tree.
	 * The tree is looked at as the reply was made: reads see the state
	 * before the batch's changes, changes after all of them (so only a
	 * change alone in its batch is checked). */
	/* A cached reply is what the first copy of the request got. */
	if (!hit && msg->auth && msg->auth->root != 1 && r.attr.ino > 1 &&
	    r.attr.nlink && h.type != WIRE_UNLINK && h.type != WIRE_RENAME &&
	    msg->ns && (batch_n == 1 || !ns_is_write(h.type, msg->ns))) {
		MDB_txn *txn;
		int in_tree;

		if (db_begin(&M->db, NULL, 1, &txn))
			abort();
		in_tree = parents_inside(&M->db, txn, r.attr.ino,
					 msg->auth->root);
		mdb_txn_abort(txn);
		if (in_tree == 0) {
			fprintf(stderr, "fuzz_mds: %s showed inode %llu to a "
				"client limited to %llu\n",
				wire_type_name(h.type),
				(unsigned long long)r.attr.ino,
				(unsigned long long)msg->auth->root);
			abort();
		}
	}
	if (r.attr.ino && r.attr.nlink && n_inos < 64) {
		int seen = 0;

		for (unsigned i = 0; i < n_inos; i++)
			seen |= inos[i] == r.attr.ino;
		if (!seen)
			inos[n_inos++] = r.attr.ino;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mds_msg msgs[BATCH];
	struct wbuf frames[BATCH];
	struct in in = { data, size };
	size_t n = 0;

	if (!M || runs % RESET_EVERY == 0) {
		if (!M)
			log_init("fuzz_mds", LOG_ERR + 0);
		start();
		if (runs == 0)
			atexit(cleanup);
	}
	runs++;
	while (in.n && n < BATCH) {
		uint8_t how = byte(&in);
		unsigned type;
		uint64_t req_id = byte(&in);

		/* Session-scoped ids (session 1 exists after the first
		 * SESSION_OPEN) collide on purpose: the reply cache. */
		if (how & 0x10)
			req_id |= 1ull << 32;
		wbuf_init(&frames[n]);
		wire_msg_begin(&frames[n], 0, 0, req_id, 0, 0);
		if (how % 4 == 0) {
			uint32_t len = u16(&in) % 600;

			type = byte(&in) % WIRE_TYPE_MAX;
			len = (uint32_t)MIN(len, in.n);
			wbuf_raw(&frames[n], in.p, len);
			in.p += len;
			in.n -= len;
		} else {
			type = structured(&in, &frames[n]);
		}
		frames[n].p[5] = (uint8_t)type;
		if (wire_msg_finish(&frames[n], 0)) {
			wbuf_free(&frames[n]);
			continue;
		}
		memset(&msgs[n], 0, sizeof(msgs[n]));
		msgs[n].auth = pick_ident(&in, (unsigned)n);
		msgs[n].frame = frames[n].p;
		msgs[n].len = frames[n].len;
		if (wire_hdr_decode(frames[n].p, frames[n].len, &msgs[n].hdr))
			abort();
		n++;
	}
	replies = 0;
	batch_n = n;
	if (n)
		mds_handle(M, msgs, n, check, NULL);
	if (replies != n)
		abort();
	for (size_t i = 0; i < n; i++)
		wbuf_free(&frames[i]);
	M->fake_now_ms += 700;
	if (mds_tick(M))
		abort();
	if (runs % FSCK_EVERY == 0) {
		char err[1024];
		MDB_txn *txn;

		if (db_begin(&M->db, NULL, 1, &txn))
			abort();
		if (mds_fsck(&M->db, txn, err, sizeof(err))) {
			fprintf(stderr, "fuzz_mds: fsck: %s\n", err);
			abort();
		}
		mdb_txn_abort(txn);
	}
	return 0;
}
