/*
 * dispatch.c -- one batch of requests: decode, answer what changes nothing
 * from a read transaction, run every change in one write transaction with
 * a nested transaction per request, commit once, then reply (group
 * commit).  See mds.h.
 */
#include "mds.h"
#include "log.h"
#include "mds_auth.h"
#include "ns.h"
#include "pgidx.h"
#include "space.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* K_HELD: answered, the reply waiting for the batch's db_sync (a request
 * flagged WIRE_F_SYNC). */
enum { K_DONE = 0, K_READ, K_WRITE, K_DUP, K_HELD };

static struct log_limit bad_log, sync_log;

/* ---- replies --------------------------------------------------------------*/

static void reply_begin(struct mds_msg *msg, int32_t status)
{
	msg->reply.len = 0;
	msg->reply.err = 0;
	wire_msg_begin(&msg->reply, msg->hdr.type, WIRE_F_REPLY,
		       msg->hdr.req_id, 0, status);
}

static void reply_error(struct mds_msg *msg, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void reply_error(struct mds_msg *msg, int status, const char *fmt, ...)
{
	char text[STORE_ERRMSG_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (status >= 0 || status < -4095)
		status = -EIO;
	reply_begin(msg, status);
	wire_enc_error(&msg->reply, text);
}

/* Finish the reply frame: the epoch it carries is the one current now. */
static void reply_seal(struct mds *m, struct mds_msg *msg)
{
	if (!msg->reply.err && msg->reply.len < WIRE_HDR_LEN)
		msg->reply.err = -EINVAL;
	if (msg->reply.err) {
		int e = msg->reply.err;

		reply_error(msg, e == -ENOMEM ? -ENOMEM : -EMSGSIZE,
			    "the MDS could not build its reply to %s: %s",
			    wire_type_name(msg->hdr.type), strerror(-e));
	}
	put_le64(msg->reply.p + 16, mds_epoch(m));
	if (wire_msg_finish(&msg->reply, 0)) {
		reply_error(msg, -EMSGSIZE, "the reply to %s is too large",
			    wire_type_name(msg->hdr.type));
		put_le64(msg->reply.p + 16, mds_epoch(m));
		wire_msg_finish(&msg->reply, 0);
	}
}

static void deliver(struct mds *m, struct mds_msg *msg, mds_reply_fn fn,
		    void *arg)
{
	if ((msg->hdr.flags & WIRE_F_SYNC) && msg->kind != K_HELD) {
		msg->kind = K_HELD; /* sent by deliver_held() */
		return;
	}
	fn(arg, msg);
	wbuf_free(&msg->reply);
	free(msg->ns);
	msg->ns = NULL;
	msg->kind = K_DONE;
	(void)m;
}

/* Only ids that carry a session the MDS gave out are unique across
 * clients (libstore: session << 32 | counter); the RPC engine's own ids
 * start from the clock, far above any session number. */
static int cacheable(const struct mds *m, uint64_t req_id, uint64_t sessions)
{
	uint64_t s = req_id >> 32;

	(void)m;
	return s != 0 && s < sessions;
}

/* ---- decoding -------------------------------------------------------------*/

static void bad(struct mds_msg *msg, int rc)
{
	log_ratelimited(&bad_log, LOG_WARN, "malformed %s request (req %llu, "
			"%u payload bytes): answered %s",
			wire_type_name(msg->hdr.type),
			(unsigned long long)msg->hdr.req_id,
			msg->hdr.payload_len, strerror(-rc));
	reply_error(msg, rc, "the MDS could not decode this %s request "
		    "(%u payload bytes): is the client the same version?",
		    wire_type_name(msg->hdr.type), msg->hdr.payload_len);
}

static void classify(struct mds *m, struct mds_msg *msg, uint64_t now)
{
	const uint8_t *p = wire_payload(msg->frame);
	uint32_t len = msg->hdr.payload_len;
	unsigned type = msg->hdr.type;
	char err[STORE_ERRMSG_MAX + 1];
	int rc;

	msg->kind = K_DONE;
	if (msg->len < WIRE_HDR_LEN || WIRE_HDR_LEN + (size_t)len > msg->len ||
	    (msg->hdr.flags & WIRE_F_REPLY))
		return bad(msg, -EBADMSG);
	/* A sealed payload reaches us decrypted, with its sender. */
	if ((msg->hdr.flags & WIRE_F_SEALED) && !msg->auth)
		return reply_error(msg, -EPROTONOSUPPORT, "an encrypted "
				   "request without an authenticator");
	rc = mds_auth_gate(m, msg, err, sizeof(err));
	if (rc)
		return reply_error(msg, rc, "%s", err);
	if (mds_auth_is_auth_type(type)) {
		msg->kind = mds_auth_is_write(msg) ? K_WRITE : K_READ;
		return;
	}
	if (wire_is_ns(type)) {
		msg->ns = malloc(sizeof(*msg->ns));
		if (!msg->ns)
			return reply_error(msg, -ENOMEM, "the MDS is out of "
					   "memory");
		rc = wire_dec_ns_req(type, p, len, msg->ns);
		if (rc)
			return bad(msg, -EBADMSG);
		msg->kind = ns_is_write(type, msg->ns) ? K_WRITE : K_READ;
		return;
	}
	switch (type) {
	case WIRE_PING:
		reply_begin(msg, 0);
		wbuf_raw(&msg->reply, p, len);
		return;
	case WIRE_MAP_GET:
		if (wire_dec_map_get(p, len, &msg->u.mg))
			return bad(msg, -EBADMSG);
		reply_begin(msg, 0);
		if (msg->u.mg.have_epoch < mds_epoch(m))
			osdmap_encode(&m->om, &msg->reply);
		return;
	case WIRE_MAP_PUSH:
		return reply_error(msg, -EOPNOTSUPP, "the MDS is the source of "
				   "the cluster map: it takes no MAP_PUSH");
	case WIRE_STATUS:
		if (len)
			return bad(msg, -EBADMSG);
		msg->kind = K_READ;
		return;
	case WIRE_PG_OBJECTS:
		if (wire_dec_pg_objects(p, len, &msg->u.pgq))
			return bad(msg, -EBADMSG);
		msg->kind = K_READ;
		return;
	case WIRE_HEARTBEAT:
		if (wire_dec_heartbeat(p, len, &msg->u.hb))
			return bad(msg, -EBADMSG);
		rc = osdmap_heartbeat(&m->om, &msg->u.hb, now, err,
				      sizeof(err));
		if (rc < 0)
			return reply_error(msg, rc, "%s", err);
		if (rc > 0)
			msg->kind = K_WRITE;
		else
			reply_begin(msg, 0);
		return;
	case WIRE_OSD_BOOT:
		if (wire_dec_osd_boot(p, len, &msg->u.boot))
			return bad(msg, -EBADMSG);
		msg->kind = K_WRITE;
		return;
	case WIRE_OSD_CMD:
		if (wire_dec_osd_cmd(p, len, &msg->u.cmd))
			return bad(msg, -EBADMSG);
		msg->kind = K_WRITE;
		return;
	case WIRE_SHARD_PUT:
	case WIRE_SHARD_GET:
	case WIRE_SHARD_LIST:
	case WIRE_SHARD_DELETE:
	case WIRE_SCRUB:
		return reply_error(msg, -EOPNOTSUPP, "%s goes to an OSD, not "
				   "to the MDS", wire_type_name(type));
	default:
		return reply_error(msg, -EOPNOTSUPP, "the MDS does not serve "
				   "message type %u", type);
	}
}

/* ---- execution ----------------------------------------------------------*/

/* Usable capacity for STATFS: the raw space of the OSDs that are in
 * (space.h: each shared file system once, room bounded by free bytes),
 * scaled by the default pool's k / (k + m), so that `df` shows what files
 * can still take. */
static void usable_space(const struct mds *m, uint64_t *total, uint64_t *avail)
{
	const struct map_pool *p = map_pool(&m->om.map, 1);
	unsigned __int128 t, f;
	struct space_sum s;

	space_sum(&m->om, &s);
	t = s.total;
	f = s.room;
	if (p) {
		t = t * p->k / (p->k + p->m);
		f = f * p->k / (p->k + p->m);
	}
	*total = (uint64_t)t;
	*avail = (uint64_t)f;
}

static int exec_ns(struct mds *m, MDB_txn *txn, struct mds_msg *msg,
		   uint64_t *sessions)
{
	const struct map_pool *pool = map_pool(&m->om.map, 1);
	struct wire_ns_reply *r;
	struct ns_ctx c;
	int rc;

	r = malloc(sizeof(*r));
	if (!r) {
		reply_error(msg, -ENOMEM, "the MDS is out of memory");
		return -ENOMEM;
	}
	ns_ctx_init(&c, &m->db, txn);
	c.inline_max = MIN(m->o.inline_max, STORE_INLINE_MAX);
	if (pool) {
		c.pool = pool->id;
		c.object_size = pool->object_size;
	}
	if (msg->hdr.type == WIRE_STATFS)
		usable_space(m, &c.bytes_total, &c.bytes_free);
	rc = mds_auth_ns_before(m, txn, msg, c.err, sizeof(c.err));
	if (rc == 0)
		rc = ns_exec(&c, msg->hdr.type, msg->ns, r);
	if (rc == 0)
		mds_auth_ns_after(m, txn, msg, r);
	if (rc) {
		reply_error(msg, rc, "%s", c.err[0] ? c.err : strerror(-rc));
	} else {
		reply_begin(msg, 0);
		wire_enc_ns_reply(&msg->reply, msg->hdr.type, r);
		if (msg->hdr.type == WIRE_SESSION_OPEN &&
		    r->session_id >= *sessions)
			*sessions = r->session_id + 1;
	}
	ns_ctx_free(&c);
	free(r);
	return rc;
}

/* PG_OBJECTS: one page of a PG's committed objects (pgidx.h). */
static void exec_pg_objects(struct mds *m, MDB_txn *txn, struct mds_msg *msg)
{
	const struct wire_pg_objects *q = &msg->u.pgq;
	const struct map_pool *p = map_pool(&m->om.map, q->pool);
	uint32_t max = q->max ? q->max : STORE_LIST_MAX;
	struct wire_pg_obj *ents;
	size_t at;
	int more = 0, n;

	if (!p || q->pg >= p->pg_num)
		return reply_error(msg, -ENOENT, "no placement group %u.%u in "
				   "the cluster map (epoch %llu)", q->pool,
				   q->pg, (unsigned long long)mds_epoch(m));
	ents = malloc(max * sizeof(*ents));
	if (!ents)
		return reply_error(msg, -ENOMEM, "the MDS is out of memory");
	n = pgidx_list(&m->db, txn, q, ents, max, &more);
	if (n < 0) {
		free(ents);
		return reply_error(msg, n, "the MDS could not list placement "
				   "group %u.%u: %s", q->pool, q->pg,
				   strerror(-n));
	}
	reply_begin(msg, 0);
	at = wire_enc_pg_objects_begin(&msg->reply);
	for (int i = 0; i < n; i++)
		wire_enc_pg_obj(&msg->reply, &ents[i]);
	wire_enc_pg_objects_end(&msg->reply, at, (uint32_t)n, more);
	free(ents);
}

static void exec_read(struct mds *m, MDB_txn *txn, struct mds_msg *msg,
		      uint64_t *sessions)
{
	if (mds_auth_is_auth_type(msg->hdr.type)) {
		mds_auth_exec(m, txn, msg);
		return;
	}
	if (msg->hdr.type == WIRE_PG_OBJECTS)
		return exec_pg_objects(m, txn, msg);
	if (msg->hdr.type == WIRE_STATUS) {
		struct wire_status st;
		int rc = status_compute(&m->sc, &m->om, &m->db, txn, &st);

		if (rc)
			return reply_error(msg, rc, "the MDS could not compute "
					   "the cluster status: %s",
					   strerror(-rc));
		reply_begin(msg, 0);
		wire_enc_status(&msg->reply, &st);
		return;
	}
	exec_ns(m, txn, msg, sessions);
}

static void exec_write(struct mds *m, MDB_txn *parent, struct mds_msg *msg,
		       uint64_t now, uint64_t *sessions)
{
	char err[STORE_ERRMSG_MAX + 1] = "";
	struct wire_osd_boot_reply br;
	MDB_txn *txn;
	int rc = db_begin(&m->db, parent, 0, &txn);

	if (rc)
		return reply_error(msg, rc, "the MDS could not start a "
				   "transaction: %s", strerror(-rc));
	switch (msg->hdr.type) {
	case WIRE_OSD_BOOT:
		rc = osdmap_boot(&m->om, &m->db, txn, &msg->u.boot, now, &br,
				 err, sizeof(err));
		if (rc == 0) {
			reply_begin(msg, 0);
			wire_enc_osd_boot_reply(&msg->reply, &br);
		}
		break;
	case WIRE_OSD_CMD:
		/* rm must not drop the last copies of anything. */
		rc = msg->u.cmd.op != WIRE_OSD_RM ? 0 :
		     status_rm_safe(&m->sc, &m->om, &m->db, txn,
				    msg->u.cmd.osd_id, err, sizeof(err));
		if (rc == 0)
			rc = osdmap_cmd(&m->om, &m->db, txn, &msg->u.cmd, now,
					err, sizeof(err));
		if (rc == 0)
			reply_begin(msg, 0);
		break;
	case WIRE_HEARTBEAT:
		rc = osdmap_mark_up(&m->om, &m->db, txn, msg->u.hb.osd_id,
				    now);
		if (rc)
			snprintf(err, sizeof(err), "the MDS could not mark "
				 "osd.%u up: %s", msg->u.hb.osd_id,
				 strerror(-rc));
		else
			reply_begin(msg, 0);
		break;
	case WIRE_AUTH_ADMIN:
		rc = mds_auth_exec(m, txn, msg);
		err[0] = '\0';
		break;
	default:
		rc = exec_ns(m, txn, msg, sessions);
		err[0] = '\0';
		break;
	}
	if (rc) {
		mdb_txn_abort(txn);
		if (err[0])
			reply_error(msg, rc, "%s", err);
		return;
	}
	rc = db_commit(txn);
	if (rc)
		reply_error(msg, rc, "the MDS could not apply %s: %s",
			    wire_type_name(msg->hdr.type), strerror(-rc));
}

/* Answer resent requests from the reply cache, and mark a request that
 * appears twice in the batch as a duplicate of its first copy. */
static void find_repeats(struct mds *m, struct mds_msg *msgs, size_t n,
			 uint64_t sessions, mds_reply_fn fn, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		struct mds_msg *msg = &msgs[i];
		struct rcache_hit hit;

		if (msg->kind != K_WRITE ||
		    !cacheable(m, msg->hdr.req_id, sessions))
			continue;
		/* Cache ids include the sender (mds_auth_cache_id): nobody
		 * gets another entity's reply by reusing its req_id. */
		if (rcache_get(m->rc, mds_auth_cache_id(m, msg),
			       msg->hdr.type, &hit)) {
			reply_begin(msg, hit.status);
			wbuf_raw(&msg->reply, hit.payload, hit.len);
			m->n_cache_hits++;
			reply_seal(m, msg);
			deliver(m, msg, fn, arg);
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (msgs[j].kind == K_WRITE &&
			    mds_auth_cache_id(m, &msgs[j]) ==
				    mds_auth_cache_id(m, msg) &&
			    msgs[j].hdr.type == msg->hdr.type) {
				msg->kind = K_DUP;
				msg->dup_of = (int)j;
				break;
			}
		}
	}
}

/* Commit failures other than a full disk, at most a few lines per 10 s. */
static struct log_limit commit_log;

static void write_phase(struct mds *m, struct mds_msg *msgs, size_t n,
			uint64_t now, uint64_t *sessions, mds_reply_fn fn,
			void *arg)
{
	MDB_txn *txn = NULL;
	size_t writes = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		writes += msgs[i].kind == K_WRITE;
	if (!writes)
		return;
	osdmap_begin(&m->om);
	rc = db_begin(&m->db, NULL, 0, &txn);
	if (rc == 0) {
		for (size_t i = 0; i < n; i++)
			if (msgs[i].kind == K_WRITE)
				exec_write(m, txn, &msgs[i], now, sessions);
		rc = osdmap_prepare(&m->om, &m->db, txn);
		if (rc == 0)
			rc = db_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	if (rc) {
		osdmap_rollback(&m->om);
		if (db_out_of_space(&m->db, rc))
			rc = -ENOSPC;
		if (rc == -ENOSPC && !m->db.full)
			log_err("the MDS's disk is full: changes are refused "
				"(%s) until space is freed; reads go on",
				strerror(-rc));
		else if (rc != -ENOSPC)
			log_ratelimited(&commit_log, LOG_ERR,
					"the MDS could not commit a batch of "
					"%zu changes: %s", writes,
					strerror(-rc));
		if (rc == -ENOSPC) {
			m->db.full = 1;
			m->db.refused += writes;
		}
		for (size_t i = 0; i < n; i++) {
			if (msgs[i].kind != K_WRITE && msgs[i].kind != K_DUP)
				continue;
			reply_error(&msgs[i], rc == -ENOSPC ? rc : -EIO,
				    "the MDS could not commit the change to "
				    "its database (%s): nothing was changed",
				    strerror(-rc));
			reply_seal(m, &msgs[i]);
		}
	} else {
		if (m->db.full && db_room_again(&m->db)) {
			log_info("the MDS's disk has room again (%llu changes "
				 "refused while it was full)",
				 (unsigned long long)m->db.refused);
			m->db.full = 0;
			m->db.refused = 0;
		}
		osdmap_committed(&m->om);
		m->n_commits++;
		for (size_t i = 0; i < n; i++) {
			struct mds_msg *msg = &msgs[i];

			if (msg->kind != K_WRITE)
				continue;
			reply_seal(m, msg);
			if (cacheable(m, msg->hdr.req_id, *sessions))
				rcache_put(m->rc, mds_auth_cache_id(m, msg),
					   msg->hdr.type,
					   (int32_t)get_le32(msg->reply.p + 24),
					   msg->reply.p + WIRE_HDR_LEN,
					   msg->reply.len - WIRE_HDR_LEN);
		}
		/* A duplicate gets a copy of its first copy's reply. */
		for (size_t i = 0; i < n; i++) {
			struct mds_msg *msg = &msgs[i], *orig;

			if (msg->kind != K_DUP)
				continue;
			orig = &msgs[msg->dup_of];
			msg->reply.len = 0;
			wbuf_raw(&msg->reply, orig->reply.p, orig->reply.len);
			if (msg->reply.err) {
				reply_error(msg, -ENOMEM, "the MDS is out of "
					    "memory");
				reply_seal(m, msg);
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (msgs[i].kind == K_WRITE || msgs[i].kind == K_DUP)
			deliver(m, &msgs[i], fn, arg);
}

/* Answer the requests flagged WIRE_F_SYNC, once everything committed so
 * far (this batch's changes too) is on stable storage.  If the sync
 * fails, they get an error: their changes are applied but not known
 * durable. */
static void deliver_held(struct mds *m, struct mds_msg *msgs, size_t n,
			 mds_reply_fn fn, void *arg)
{
	size_t held = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		held += msgs[i].kind == K_HELD;
	if (!held)
		return;
	rc = db_sync(&m->db);
	if (rc)
		log_err("the MDS could not sync its database: %s",
			strerror(-rc));
	for (size_t i = 0; i < n; i++) {
		if (msgs[i].kind != K_HELD)
			continue;
		if (rc) {
			reply_error(&msgs[i], -EIO, "the MDS applied the "
				    "change but could not make it durable: %s",
				    strerror(-rc));
			reply_seal(m, &msgs[i]);
		}
		deliver(m, &msgs[i], fn, arg);
	}
}

/* The session ids given out so far (from the superblock): request ids
 * are cacheable only below it. */
static uint64_t sessions_known(struct mds *m, MDB_txn *txn)
{
	struct db_super s;

	if (db_super_get(&m->db, txn, &s))
		return 0;
	return s.next_session;
}

void mds_handle(struct mds *m, struct mds_msg *msgs, size_t n,
		mds_reply_fn fn, void *arg)
{
	uint64_t now = mds_now_ms(m), sessions = 0;
	size_t reads = 0;
	int rc;

	m->n_batches++;
	m->n_requests += n;
	for (size_t i = 0; i < n; i++) {
		wbuf_init(&msgs[i].reply);
		msgs[i].ns = NULL;
		msgs[i].dup_of = -1;
		classify(m, &msgs[i], now);
		if (msgs[i].kind == K_DONE) {
			reply_seal(m, &msgs[i]);
			deliver(m, &msgs[i], fn, arg);
		}
		reads += msgs[i].kind == K_READ;
	}
	/* What changes nothing is answered now, from the committed state:
	 * whatever it depends on was acknowledged, so committed, before
	 * its request was sent. */
	rc = db_err(mdb_txn_renew(m->rtxn));
	if (rc == 0) {
		sessions = sessions_known(m, m->rtxn);
		for (size_t i = 0; i < n; i++) {
			if (msgs[i].kind != K_READ)
				continue;
			exec_read(m, m->rtxn, &msgs[i], &sessions);
			reply_seal(m, &msgs[i]);
			deliver(m, &msgs[i], fn, arg);
		}
		mdb_txn_reset(m->rtxn);
	} else if (reads) {
		for (size_t i = 0; i < n; i++) {
			if (msgs[i].kind != K_READ)
				continue;
			reply_error(&msgs[i], rc, "the MDS could not read its "
				    "database: %s", strerror(-rc));
			reply_seal(m, &msgs[i]);
			deliver(m, &msgs[i], fn, arg);
		}
	}
	find_repeats(m, msgs, n, sessions, fn, arg);
	write_phase(m, msgs, n, now, &sessions, fn, arg);
	deliver_held(m, msgs, n, fn, arg);
}

int mds_tick(struct mds *m)
{
	uint64_t now = mds_now_ms(m);
	MDB_txn *txn;
	int rc;

	if (db_unsynced_ms(&m->db, now) >= MDS_SYNC_DELAY_MS) {
		rc = db_sync(&m->db);
		if (rc)
			log_ratelimited(&sync_log, LOG_ERR, "the MDS could not "
					"sync its database: %s", strerror(-rc));
	}
	if (!osdmap_tick_due(&m->om, now))
		return 0;
	osdmap_begin(&m->om);
	rc = db_begin(&m->db, NULL, 0, &txn);
	if (rc)
		return rc;
	rc = osdmap_tick(&m->om, &m->db, txn, now);
	if (rc == 0)
		rc = osdmap_prepare(&m->om, &m->db, txn);
	if (rc == 0) {
		rc = db_commit(txn);
	} else {
		mdb_txn_abort(txn);
	}
	if (rc) {
		osdmap_rollback(&m->om);
		log_err("the MDS could not record OSD state changes: %s",
			strerror(-rc));
		return rc;
	}
	osdmap_committed(&m->om);
	m->n_commits++;
	return 0;
}
