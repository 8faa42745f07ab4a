/*
 * server.c -- store-osd's event loop: see server.h.
 *
 * Requests: a POLL on the nanomsg server's fd wakes the loop; up to
 * OSD_RECV_BATCH requests are taken, each decoded and handed to the store
 * (which copies a PUT's data into its aligned record at once, so the
 * request buffer is released early) with a callback that sends the reply.
 * A reply carries the OSD's map epoch.  A decoder failure on a valid frame
 * is answered -EBADMSG and serving goes on; garbage frames never get here
 * (net_server_recv() drops them).  While the PUT data held in flight is
 * above OSD_INFLIGHT_BYTES the fd is not polled: nanomsg's buffers and
 * then TCP push back on the senders.
 *
 * The MDS: calls go through the RPC engine (its own thread); their
 * completions are queued under a mutex and an eventfd wakes the loop,
 * which handles them here.  Boot is retried every OSD_RETRY_MS until the
 * MDS answers; the OSD serves once it has an id and a map, and keeps
 * serving (and retrying, logging once) while the MDS is unreachable.
 */
#include "server.h"
#include "crush.h"
#include "disk_id.h"
#include "io.h"
#include "log.h"
#include "map.h"
#include "net.h"
#include "osd_auth.h"
#include "recovery.h"
#include "store.h"
#include "util.h"
#include "wire.h"
#include "wire_mon.h"
#include "wire_osd.h"
#include "wire_rec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Submission queue depth: requests, their disk I/O and the polls. */
#define OSD_RING_DEPTH 512
/* PUT data held by requests in flight before the OSD stops taking more:
 * a few hundred 1 MiB shards keep the disk busy, and memory bounded. */
#define OSD_INFLIGHT_BYTES (512ull << 20)
#define OSD_INFLIGHT_REQS 4096
/* Requests taken per wakeup, so that disk completions are not starved
 * by a flood of small requests. */
#define OSD_RECV_BATCH 64
/* Connections to the MDS: a heartbeat and a boot or map fetch at once. */
#define OSD_MDS_CONNS 2
/* Deadline of an MDS call; retry pace while it does not answer. */
#define OSD_MDS_TIMEOUT_MS 5000
#define OSD_RETRY_MS 1000
/* How long a stop waits for requests in flight. */
#define OSD_STOP_WAIT_MS 10000
/* The smallest weight an OSD announces (a tiny test folder still gets
 * some data; 16.16 fixed point resolves 1/65536). */
#define OSD_WEIGHT_MIN (1.0 / 1024)

#define container_of(ptr, type, member)                                        \
	((type *)((char *)(ptr) - offsetof(type, member)))

enum { MC_BOOT, MC_HB, MC_MAP };

struct osd;

struct mds_call {
	struct rpc_call call;
	struct osd *o;
	int kind;
	struct mds_call *next;
};

struct osd {
	const struct osd_config *cfg;
	struct io_ring *ring;
	struct store *store;
	struct net_server *srv;
	struct rpc_engine *rpc;
	struct rpc_peer *mds;
	char addr[STORE_ADDR_MAX + 1];
	char host[STORE_HOST_MAX + 1];
	char name[24];
	double weight;
	uint64_t disk_id; /* its data folder's file system (disk_id.h) */
	uint64_t hb_ms;
	struct store_map map;
	uint32_t osd_id;
	int need_boot, booted, map_wanted, have_map, serving;
	int boot_inflight, hb_inflight, map_inflight;
	uint64_t next_boot_ms, next_hb_ms, next_map_ms;
	int mds_down_logged, boot_refused_logged;
	int fatal;
	int stopping;
	unsigned reqs;
	uint64_t bytes;
	struct io_req net_poll, rpc_poll, stop_poll;
	int net_armed, rpc_armed, stop_armed;
	int rpc_efd;
	pthread_mutex_t mu;
	struct mds_call *done_head, *done_tail;
	struct log_limit bad_log, err_log;
	struct recov *rec; /* recovery, scrub, GC (recovery.h) */
	struct osd_auth *auth; /* keys and permissions (osd_auth.h) */
};

/* A client request in flight. */
struct oreq {
	struct osd *o;
	struct net_req req;
	struct wire_shard_id id;
	uint32_t bytes;
	uint32_t off;
	uint32_t flags; /* of a SHARD_GET */
};

static void fmt_shard(char *out, size_t len, const struct wire_shard_id *id)
{
	snprintf(out, len,
		 "pool %" PRIu32 " ino %" PRIu64 " obj %" PRIu64 " index %u "
		 "version %" PRIx64, id->pool, id->ino, id->objno, id->index,
		 id->version);
}

static void fmt_uuid(char *out, const uint8_t *u)
{
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", u[i]);
}

/* ---- replies -------------------------------------------------------------*/

static void req_done(struct oreq *r)
{
	struct osd *o = r->o;

	o->reqs--;
	o->bytes -= r->bytes;
	free(r);
}

static void reply_err(struct oreq *r, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_err(struct oreq *r, int rc, const char *fmt, ...)
{
	char text[STORE_ERRMSG_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	net_server_reply_error(r->o->srv, &r->req, r->o->map.epoch, rc, "%s",
			       text);
	req_done(r);
}

/* A reply whose payload is given (or empty). */
static void reply_ok(struct oreq *r, const void *payload, size_t len)
{
	struct wbuf w;
	int rc;

	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, r->req.hdr.type, WIRE_F_REPLY, r->req.hdr.req_id,
		       r->o->map.epoch, 0);
	wbuf_raw(&w, payload, len);
	rc = wire_msg_finish(&w, 0);
	if (rc) {
		wbuf_free(&w);
		reply_err(r, -ENOMEM, "%s: out of memory building a reply",
			  r->o->name);
		return;
	}
	net_server_reply(r->o->srv, &r->req, w.p, w.len, 1);
	req_done(r);
}

/* ---- shard requests ------------------------------------------------------*/

static void put_done(void *arg, int rc)
{
	struct oreq *r = arg;
	char id[160];

	if (!rc) {
		reply_ok(r, NULL, 0);
		return;
	}
	fmt_shard(id, sizeof(id), &r->id);
	if (rc == -ENOSPC)
		reply_err(r, rc, "%s: disk full in %s: shard %s not stored",
			  r->o->name, r->o->cfg->data_dir, id);
	else
		reply_err(r, rc, "%s: storing shard %s failed: %s",
			  r->o->name, id, strerror(-rc));
}

static void handle_put(struct oreq *r)
{
	struct osd *o = r->o;
	struct wire_shard_put m;
	struct store_put_args a;
	uint32_t bad = 0;
	char id[160];
	int rc;

	if (wire_dec_shard_put(wire_payload(r->req.msg), r->req.hdr.payload_len,
			       &m)) {
		reply_err(r, -EBADMSG, "%s: malformed SHARD_PUT request; "
			  "nothing stored", o->name);
		return;
	}
	r->id = m.id;
	memset(&a, 0, sizeof(a));
	a.id = m.id;
	a.k = m.k;
	a.m = m.m;
	a.obj_len = m.obj_len;
	a.len = m.data_len;
	a.data = m.data;
	a.csums = m.csums;
	rc = store_put(o->store, &a, put_done, r, &bad);
	fmt_shard(id, sizeof(id), &m.id);
	switch (rc) {
	case 0:
		/* The data is in the store's record now. */
		net_free(r->req.msg);
		r->req.msg = NULL;
		r->bytes = m.data_len;
		o->bytes += m.data_len;
		return;
	case -EBADMSG:
		log_ratelimited(&o->bad_log, LOG_WARN,
				"%s: shard %s arrived with a bad checksum in "
				"block %u (corrupted in flight); refused",
				o->name, id, bad);
		reply_err(r, rc, "%s: checksum mismatch in block %u of shard "
			  "%s as received: the data was corrupted in flight; "
			  "nothing stored", o->name, bad, id);
		return;
	case -ENOSPC:
		reply_err(r, rc, "%s: disk full in %s: shard %s not stored",
			  o->name, o->cfg->data_dir, id);
		return;
	case -EINVAL:
		reply_err(r, rc, "%s: shard %s: version 0 is reserved; "
			  "nothing stored", o->name, id);
		return;
	case -EFBIG:
		reply_err(r, rc, "%s: shard %s: %u bytes do not fit a log "
			  "segment; nothing stored", o->name, id, m.data_len);
		return;
	case -EIO:
		reply_err(r, rc, "%s: the disk under %s failed; this OSD "
			  "stores nothing until it is restarted", o->name,
			  o->cfg->data_dir);
		return;
	default:
		reply_err(r, rc, "%s: storing shard %s failed: %s", o->name,
			  id, strerror(-rc));
	}
}

static void get_done(void *arg, int rc, const struct store_read *rd)
{
	struct oreq *r = arg;
	struct osd *o = r->o;
	struct wire_shard_get_reply gr;
	struct store_read vr;
	char id[160];
	size_t len;
	struct wbuf w;
	void *msg;

	if (rc) {
		fmt_shard(id, sizeof(id), &r->id);
		reply_err(r, rc, "%s: checksum mismatch in shard %s: the copy "
			  "on this OSD is corrupt (read another shard)",
			  o->name, id);
		return;
	}
	/* The reply is built in one nanomsg chunk of the exact size: the
	 * data is copied once, from the verified read buffer.  A VERIFY
	 * read (deep scrub) sends no data: the crcs were checked here. */
	if (r->flags & WIRE_GET_VERIFY) {
		vr = *rd;
		vr.data_len = 0;
		rd = &vr;
	}
	len = WIRE_HDR_LEN + 26 + 4 * (size_t)wire_csum_count(rd->data_len) +
	      rd->data_len;
	/* Room for the authenticator, so that signing copies nothing. */
	msg = net_alloc(len + AUTH_ROOM);
	if (!msg) {
		reply_err(r, -ENOMEM, "%s: out of memory for a %zu byte reply",
			  o->name, len);
		return;
	}
	memset(&gr, 0, sizeof(gr));
	gr.version = rd->version;
	gr.k = rd->k;
	gr.m = rd->m;
	gr.obj_len = rd->obj_len;
	gr.shard_len = rd->shard_len;
	gr.offset = rd->offset;
	gr.data_len = rd->data_len;
	gr.csums = rd->csums;
	gr.data = rd->data;
	wbuf_init_fixed(&w, msg, len);
	wire_msg_begin(&w, WIRE_SHARD_GET, WIRE_F_REPLY, r->req.hdr.req_id,
		       o->map.epoch, 0);
	wire_enc_shard_get_reply(&w, &gr);
	if (wire_msg_finish(&w, 0) || w.len != len) {
		net_free(msg);
		reply_err(r, -EIO, "%s: cannot encode a read reply", o->name);
		return;
	}
	net_server_reply(o->srv, &r->req, msg, len, 1);
	req_done(r);
}

static void handle_get(struct oreq *r)
{
	struct osd *o = r->o;
	struct wire_shard_get m;
	char id[160];
	int rc;

	if (wire_dec_shard_get(wire_payload(r->req.msg), r->req.hdr.payload_len,
			       &m)) {
		reply_err(r, -EBADMSG, "%s: malformed SHARD_GET request",
			  o->name);
		return;
	}
	r->id = m.id;
	r->off = m.offset;
	r->flags = m.flags;
	rc = store_get(o->store, &m.id, m.offset, m.len, get_done, r);
	if (!rc)
		return;
	fmt_shard(id, sizeof(id), &m.id);
	if (rc == -ENOENT)
		reply_err(r, rc, "%s: no shard %s%s", o->name, id,
			  m.id.version ? "" : " (any version)");
	else if (rc == -ERANGE)
		reply_err(r, rc, "%s: offset %u is past the end of shard %s",
			  o->name, m.offset, id);
	else
		reply_err(r, rc, "%s: reading shard %s failed: %s", o->name,
			  id, strerror(-rc));
}

struct pg_filter {
	const struct map_pool *pool;
	uint32_t pg;
};

static int pg_keep(void *arg, const struct wire_shard_id *id)
{
	const struct pg_filter *f = arg;

	return crush_object_pg(f->pool, id->ino, id->objno) == f->pg;
}

static void handle_list(struct oreq *r)
{
	struct osd *o = r->o;
	struct wire_shard_list m;
	struct store_entry *ents;
	struct pg_filter f;
	struct wbuf w;
	uint32_t max, n;
	size_t at;
	int more = 0;

	if (wire_dec_shard_list(wire_payload(r->req.msg),
				r->req.hdr.payload_len, &m)) {
		reply_err(r, -EBADMSG, "%s: malformed SHARD_LIST request",
			  o->name);
		return;
	}
	f.pool = NULL;
	f.pg = m.pg;
	if (m.pg != WIRE_PG_ALL) {
		f.pool = map_pool(&o->map, m.pool);
		if (!f.pool) {
			reply_err(r, -ENOENT, "%s: pool %u is not in the "
				  "cluster map (epoch %" PRIu64 ")", o->name,
				  m.pool, o->map.epoch);
			return;
		}
	}
	max = m.max ? MIN(m.max, (uint32_t)STORE_LIST_MAX) : 1024;
	ents = malloc(max * sizeof(*ents));
	if (!ents) {
		reply_err(r, -ENOMEM, "%s: out of memory listing", o->name);
		return;
	}
	n = store_list(o->store, m.pool, m.has_after ? &m.after : NULL,
		       f.pool ? pg_keep : NULL, &f, ents, max, &more);
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, WIRE_SHARD_LIST, WIRE_F_REPLY, r->req.hdr.req_id,
		       o->map.epoch, 0);
	at = wire_enc_shard_list_begin(&w);
	for (uint32_t i = 0; i < n; i++) {
		struct wire_shard_entry e;

		e.id = ents[i].id;
		e.k = ents[i].k;
		e.m = ents[i].m;
		e.obj_len = ents[i].obj_len;
		e.shard_len = ents[i].shard_len;
		e.mtime_ns = ents[i].mtime_ns;
		wire_enc_shard_entry(&w, &e);
	}
	wire_enc_shard_list_end(&w, at, n, more);
	free(ents);
	if (wire_msg_finish(&w, 0)) {
		wbuf_free(&w);
		reply_err(r, -ENOMEM, "%s: out of memory listing", o->name);
		return;
	}
	net_server_reply(o->srv, &r->req, w.p, w.len, 1);
	req_done(r);
}

static void del_done(void *arg, int rc)
{
	struct oreq *r = arg;
	char id[160];

	if (!rc) {
		reply_ok(r, NULL, 0);
		return;
	}
	fmt_shard(id, sizeof(id), &r->id);
	reply_err(r, rc, "%s: deleting shard %s failed: %s%s", r->o->name, id,
		  strerror(-rc),
		  rc == -ENOSPC ? " (the disk is full)" : "");
}

static void handle_delete(struct oreq *r)
{
	struct osd *o = r->o;
	struct wire_shard_delete m;
	char id[160];
	int rc;

	if (wire_dec_shard_delete(wire_payload(r->req.msg),
				  r->req.hdr.payload_len, &m)) {
		reply_err(r, -EBADMSG, "%s: malformed SHARD_DELETE request",
			  o->name);
		return;
	}
	r->id = m.id;
	rc = store_delete(o->store, &m.id,
			  (m.flags & WIRE_DEL_OLDER) ? STORE_DEL_OLDER : 0,
			  del_done, r);
	if (rc) {
		fmt_shard(id, sizeof(id), &m.id);
		reply_err(r, rc, "%s: deleting shard %s failed: %s", o->name,
			  id, strerror(-rc));
	}
}

/* SCRUB: handed to the recovery agent; answered by scrub_done(). */
static void handle_scrub(struct oreq *r)
{
	struct osd *o = r->o;
	struct wire_scrub m;
	int rc;

	if (wire_dec_scrub(wire_payload(r->req.msg), r->req.hdr.payload_len,
			   &m)) {
		reply_err(r, -EBADMSG, "%s: malformed SCRUB request", o->name);
		return;
	}
	rc = o->rec ? recov_scrub(o->rec, &m, r) : -EAGAIN;
	if (rc == 0)
		return;
	reply_err(r, rc, "%s: cannot scrub pg %u.%u: %s", o->name, m.pool,
		  m.pg, rc == -EAGAIN ? "the OSD has no cluster map yet" :
		  rc == -ENOENT ? "no such pool or placement group" :
		  strerror(-rc));
}

static void scrub_done(void *arg, void *cookie, int rc,
		       const struct wire_scrub_reply *rep)
{
	struct oreq *r = cookie;
	struct wbuf w;

	(void)arg;
	if (rc) {
		reply_err(r, rc, "%s: the scrub did not finish: %s", r->o->name,
			  rc == -ESHUTDOWN ? "the OSD is stopping" :
			  strerror(-rc));
		return;
	}
	wbuf_init(&w);
	wire_enc_scrub_reply(&w, rep);
	if (w.err)
		reply_err(r, -ENOMEM, "%s: out of memory", r->o->name);
	else
		reply_ok(r, w.p, w.len);
	wbuf_free(&w);
}

static void adopt_map(struct osd *o, const uint8_t *p, size_t len,
		      const char *how)
{
	struct store_map m;

	map_init(&m);
	if (wire_dec_map(p, len, &m)) {
		log_ratelimited(&o->err_log, LOG_WARN,
				"%s: %s: a malformed cluster map; ignored",
				o->name, how);
		return;
	}
	if (o->booted && memcmp(m.cluster_id, store_super(o->store)->cluster_id,
				16)) {
		log_ratelimited(&o->err_log, LOG_WARN,
				"%s: %s: a cluster map of another cluster; "
				"ignored", o->name, how);
		map_free(&m);
		return;
	}
	if (m.epoch > o->map.epoch || !o->have_map) {
		map_free(&o->map);
		o->map = m;
		o->have_map = 1;
		log_debug("%s: cluster map epoch %" PRIu64 " (%s)", o->name,
			  m.epoch, how);
		if (o->rec)
			recov_set_map(o->rec, &o->map);
	} else {
		map_free(&m);
	}
}

static void handle_request(struct osd *o, struct net_req *req)
{
	struct oreq *r = calloc(1, sizeof(*r));

	if (!r) {
		net_server_reply_error(o->srv, req, o->map.epoch, -ENOMEM,
				       "%s: out of memory", o->name);
		return;
	}
	r->o = o;
	r->req = *req;
	o->reqs++;
	/* A peer with a newer map: fetch it too. */
	if (req->hdr.epoch > o->map.epoch && o->booted)
		o->map_wanted = 1;
	/* Authenticated requests reach us checked (and decrypted); what
	 * their sender may do here is osd_auth's to say. */
	if (o->auth) {
		char why[STORE_ERRMSG_MAX + 1];
		int rc = osd_auth_allowed(o->auth, &r->req, o->name, why,
					  sizeof(why));

		if (rc) {
			reply_err(r, rc, "%s", why);
			return;
		}
	}
	switch (req->hdr.type) {
	case WIRE_SHARD_PUT:
		handle_put(r);
		break;
	case WIRE_SHARD_GET:
		handle_get(r);
		break;
	case WIRE_SHARD_LIST:
		handle_list(r);
		break;
	case WIRE_SHARD_DELETE:
		handle_delete(r);
		break;
	case WIRE_SCRUB:
		handle_scrub(r);
		break;
	case WIRE_PING:
		reply_ok(r, wire_payload(r->req.msg), r->req.hdr.payload_len);
		break;
	case WIRE_MAP_PUSH:
		adopt_map(o, wire_payload(r->req.msg), r->req.hdr.payload_len,
			  "pushed");
		reply_ok(r, NULL, 0);
		break;
	default:
		reply_err(r, -EOPNOTSUPP, "%s does not serve %s requests",
			  o->name, wire_type_name(req->hdr.type));
	}
}

/* ---- polls ---------------------------------------------------------------*/

static void net_ready(struct io_req *q, int res)
{
	struct osd *o = container_of(q, struct osd, net_poll);
	struct net_req req;
	int n = 0, rc;

	o->net_armed = 0;
	if (o->stopping || res < 0)
		return;
	while (n < OSD_RECV_BATCH && o->bytes < OSD_INFLIGHT_BYTES &&
	       (rc = net_server_recv(o->srv, &req)) != 0) {
		if (rc < 0) {
			log_ratelimited(&o->err_log, LOG_WARN,
					"%s: receiving a request failed: %s",
					o->name, strerror(-rc));
			break;
		}
		handle_request(o, &req);
		n++;
	}
}

static void rpc_ready(struct io_req *q, int res)
{
	struct osd *o = container_of(q, struct osd, rpc_poll);
	uint64_t v;

	o->rpc_armed = 0;
	(void)res;
	if (read(o->rpc_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("reading the MDS eventfd: %s", strerror(errno));
}

static void stop_ready(struct io_req *q, int res)
{
	struct osd *o = container_of(q, struct osd, stop_poll);

	(void)res;
	o->stop_armed = 0;
	if (!o->stopping)
		log_info("%s: stopping: finishing the requests in flight",
			 o->name);
	o->stopping = 1;
}

static void arm_polls(struct osd *o)
{
	if (!o->stop_armed && !o->stopping) {
		o->stop_armed = 1;
		o->stop_poll.cb = stop_ready;
		io_poll(o->ring, &o->stop_poll, o->cfg->stop_fd, POLLIN);
	}
	if (!o->rpc_armed) {
		o->rpc_armed = 1;
		o->rpc_poll.cb = rpc_ready;
		io_poll(o->ring, &o->rpc_poll, o->rpc_efd, POLLIN);
	}
	if (!o->net_armed && o->serving && !o->stopping &&
	    o->bytes < OSD_INFLIGHT_BYTES && o->reqs < OSD_INFLIGHT_REQS) {
		o->net_armed = 1;
		o->net_poll.cb = net_ready;
		io_poll(o->ring, &o->net_poll, net_server_fd(o->srv), POLLIN);
	}
}

/* ---- the MDS -------------------------------------------------------------*/

static void mds_done(struct rpc_call *c)
{
	struct mds_call *mc = container_of(c, struct mds_call, call);
	struct osd *o = mc->o;
	uint64_t one = 1;

	pthread_mutex_lock(&o->mu);
	mc->next = NULL;
	if (o->done_tail)
		o->done_tail->next = mc;
	else
		o->done_head = mc;
	o->done_tail = mc;
	pthread_mutex_unlock(&o->mu);
	if (write(o->rpc_efd, &one, sizeof(one)) < 0)
		return; /* the counter is saturated: the loop wakes anyway */
}

static int mds_send(struct osd *o, int kind, struct wbuf *w)
{
	struct mds_call *mc;
	int rc = wire_msg_finish(w, 0);

	if (rc) {
		wbuf_free(w);
		return rc;
	}
	mc = calloc(1, sizeof(*mc));
	if (!mc) {
		wbuf_free(w);
		return -ENOMEM;
	}
	mc->o = o;
	mc->kind = kind;
	mc->call.peer = o->mds;
	mc->call.req = w->p;
	mc->call.req_len = w->len;
	mc->call.req_nn = 1;
	mc->call.timeout_ms = OSD_MDS_TIMEOUT_MS;
	mc->call.done = mds_done;
	rpc_submit(o->rpc, &mc->call);
	return 0;
}

/* What the MDS is told of this OSD's disk: its size, what the store
 * takes of it, the store's shard count, the file system's bytes in use
 * and still available to us (as df counts them) and whether the store
 * refuses new shards (full). */
static void space(struct osd *o, uint64_t *capacity, uint64_t *used,
		  uint64_t *shards, uint64_t *fs_used, uint64_t *avail,
		  int *full)
{
	struct store_stats st;
	struct statvfs sv;

	store_get_stats(o->store, &st);
	*used = st.bytes_disk;
	*shards = st.shards;
	*full = st.full;
	*capacity = 0;
	*fs_used = 0;
	*avail = 0;
	if (statvfs(o->cfg->data_dir, &sv) == 0) {
		*capacity = (uint64_t)sv.f_blocks * sv.f_frsize;
		*fs_used = statvfs_used_bytes(&sv);
		*avail = statvfs_avail_bytes(&sv);
	}
}

static void send_boot(struct osd *o)
{
	const struct osd_super *sb = store_super(o->store);
	struct wire_osd_boot b;
	uint64_t shards, fs_used, avail;
	struct wbuf w;
	int full;

	memset(&b, 0, sizeof(b));
	memcpy(b.cluster_id, sb->cluster_id, 16);
	memcpy(b.uuid, sb->uuid, 16);
	b.osd_id = sb->osd_id == SUPER_NO_ID ? WIRE_OSD_NEW : sb->osd_id;
	b.weight = o->weight;
	space(o, &b.capacity, &b.used, &shards, &fs_used, &avail, &full);
	snprintf(b.host, sizeof(b.host), "%s", o->host);
	snprintf(b.addr, sizeof(b.addr), "%s", o->addr);
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, WIRE_OSD_BOOT, 0, 0, o->map.epoch, 0);
	wire_enc_osd_boot(&w, &b);
	if (mds_send(o, MC_BOOT, &w) == 0)
		o->boot_inflight = 1;
	else
		o->next_boot_ms = now_ms() + OSD_RETRY_MS;
}

static void send_heartbeat(struct osd *o)
{
	struct wire_heartbeat h;
	struct wbuf w;
	int full;

	memset(&h, 0, sizeof(h));
	h.osd_id = o->osd_id;
	space(o, &h.capacity, &h.used, &h.shards, &h.fs_used, &h.avail,
	      &full);
	h.flags = full ? WIRE_HB_FULL : 0;
	h.disk_id = o->disk_id;
	if (o->rec)
		recov_report(o->rec, &h);
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, WIRE_HEARTBEAT, 0, 0, o->map.epoch, 0);
	wire_enc_heartbeat(&w, &h);
	if (mds_send(o, MC_HB, &w) == 0)
		o->hb_inflight = 1;
}

static void send_map_get(struct osd *o)
{
	struct wire_map_get m;
	struct wbuf w;

	m.have_epoch = o->have_map ? o->map.epoch : 0;
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, WIRE_MAP_GET, 0, 0, o->map.epoch, 0);
	wire_enc_map_get(&w, &m);
	if (mds_send(o, MC_MAP, &w) == 0)
		o->map_inflight = 1;
	else
		o->next_map_ms = now_ms() + OSD_RETRY_MS;
}

static void mds_lost(struct osd *o, int rc)
{
	if (o->mds_down_logged)
		return;
	o->mds_down_logged = 1;
	log_warn("%s: cannot reach the MDS at %s (%s); %s, retrying every "
		 "%d s", o->name, o->cfg->mds_addr, strerror(-rc),
		 o->serving ? "still serving clients" : "waiting for it",
		 OSD_RETRY_MS / 1000);
}

static void mds_back(struct osd *o)
{
	if (!o->mds_down_logged)
		return;
	o->mds_down_logged = 0;
	log_info("%s: the MDS at %s answers again", o->name, o->cfg->mds_addr);
}

static void mds_error_text(const struct rpc_call *c, char *text, size_t len)
{
	if (wire_dec_error(rpc_reply_payload(c), c->rhdr.payload_len, text,
			   len) ||
	    !text[0])
		snprintf(text, len, "%s", strerror(-c->rhdr.status));
}

static void boot_reply(struct osd *o, struct rpc_call *c)
{
	const struct osd_super *sb = store_super(o->store);
	static const uint8_t zero[16];
	struct wire_osd_boot_reply br;
	char text[STORE_ERRMSG_MAX + 1], ours[33], theirs[33];
	int rc;

	o->boot_inflight = 0;
	if (c->status) {
		mds_lost(o, c->status);
		o->next_boot_ms = now_ms() + OSD_RETRY_MS;
		return;
	}
	mds_back(o);
	if (c->rhdr.status == -EXDEV) {
		mds_error_text(c, text, sizeof(text));
		fmt_uuid(ours, sb->cluster_id);
		log_err("the MDS at %s refused this OSD: %s", o->cfg->mds_addr,
			text);
		log_err("store-osd: %s belongs to cluster %s but the MDS at %s "
			"serves another cluster; refusing to start",
			o->cfg->data_dir, ours, o->cfg->mds_addr);
		o->fatal = -EXDEV;
		return;
	}
	if (c->rhdr.status == -EACCES) {
		/* Keys are not something waiting fixes. */
		mds_error_text(c, text, sizeof(text));
		log_err("the MDS at %s refused this OSD: %s", o->cfg->mds_addr,
			text);
		log_err("store-osd: the cluster requires authentication: start "
			"this OSD with the cluster's daemon keyring (--keyring "
			"FILE, or daemon_keyring = FILE in the configuration)");
		o->fatal = -EACCES;
		return;
	}
	if (c->rhdr.status) {
		mds_error_text(c, text, sizeof(text));
		if (!o->boot_refused_logged)
			log_warn("%s: the MDS at %s refused the boot: %s; "
				 "retrying", o->name, o->cfg->mds_addr, text);
		o->boot_refused_logged = 1;
		o->next_boot_ms = now_ms() + OSD_RETRY_MS;
		return;
	}
	o->boot_refused_logged = 0;
	if (wire_dec_osd_boot_reply(rpc_reply_payload(c), c->rhdr.payload_len,
				    &br)) {
		log_warn("%s: the MDS at %s sent a malformed boot reply; "
			 "retrying", o->name, o->cfg->mds_addr);
		o->next_boot_ms = now_ms() + OSD_RETRY_MS;
		return;
	}
	fmt_uuid(ours, sb->cluster_id);
	fmt_uuid(theirs, br.cluster_id);
	if (memcmp(sb->cluster_id, zero, 16) &&
	    memcmp(sb->cluster_id, br.cluster_id, 16)) {
		log_err("store-osd: %s belongs to cluster %s but the MDS at %s "
			"serves cluster %s; refusing to start",
			o->cfg->data_dir, ours, o->cfg->mds_addr, theirs);
		o->fatal = -EXDEV;
		return;
	}
	if (sb->osd_id != br.osd_id ||
	    memcmp(sb->cluster_id, br.cluster_id, 16)) {
		if (sb->osd_id != SUPER_NO_ID)
			log_warn("%s: the MDS now calls this folder osd.%u "
				 "(it was osd.%u)", o->name, br.osd_id,
				 sb->osd_id);
		rc = store_set_identity(o->store, br.cluster_id, br.osd_id);
		if (rc) {
			log_err("store-osd: cannot record the OSD id in %s/"
				"superblock: %s", o->cfg->data_dir,
				strerror(-rc));
			o->fatal = rc;
			return;
		}
	}
	o->osd_id = br.osd_id;
	osd_auth_set_id(o->auth, o->osd_id);
	snprintf(o->name, sizeof(o->name), "osd.%u", o->osd_id);
	o->booted = 1;
	o->need_boot = 0;
	o->map_wanted = 1;
	o->next_map_ms = 0;
	o->next_hb_ms = now_ms() + o->hb_ms;
	log_info("%s: booted with the MDS at %s (cluster %s), serving on %s "
		 "from %s", o->name, o->cfg->mds_addr, theirs, o->addr,
		 o->cfg->data_dir);
}

static void hb_reply(struct osd *o, struct rpc_call *c)
{
	char text[STORE_ERRMSG_MAX + 1];

	o->hb_inflight = 0;
	if (c->status) {
		mds_lost(o, c->status);
		return;
	}
	mds_back(o);
	if (c->rhdr.status == -ENOENT) {
		log_warn("%s: the MDS at %s does not know this OSD any more; "
			 "booting again", o->name, o->cfg->mds_addr);
		o->need_boot = 1;
		o->next_boot_ms = 0;
		return;
	}
	if (c->rhdr.status) {
		mds_error_text(c, text, sizeof(text));
		log_ratelimited(&o->err_log, LOG_WARN,
				"%s: the MDS refused a heartbeat: %s", o->name,
				text);
		return;
	}
	if (c->rhdr.epoch > o->map.epoch)
		o->map_wanted = 1;
}

/* Start the recovery agent once the OSD has its id and a map. */
static void rec_begin(struct osd *o)
{
	struct recov_config def;
	struct recov_params p;
	int rc;

	recov_config_default(&def);
	p.osd_id = o->osd_id;
	p.mds_addr = o->cfg->mds_addr;
	p.wake_fd = o->rpc_efd;
	p.cfg = o->cfg->rec ? o->cfg->rec : &def;
	rc = recov_start(&p, &o->rec);
	if (rc) {
		log_warn("%s: cannot start recovery: %s; serving without it",
			 o->name, strerror(-rc));
		return;
	}
	recov_set_map(o->rec, &o->map);
}

/* What the recovery agent has for the loop. */
static void rec_tick(struct osd *o)
{
	if (!o->rec)
		return;
	if (recov_poll(o->rec, scrub_done, o) & RECOV_POLL_HB)
		o->next_hb_ms = 0; /* a pass completed: tell the MDS now */
	if (o->booted && recov_seen_epoch(o->rec) > o->map.epoch)
		o->map_wanted = 1;
}

static void map_reply(struct osd *o, struct rpc_call *c)
{
	char text[STORE_ERRMSG_MAX + 1];

	o->map_inflight = 0;
	if (c->status) {
		mds_lost(o, c->status);
		o->next_map_ms = now_ms() + OSD_RETRY_MS;
		return;
	}
	mds_back(o);
	if (c->rhdr.status) {
		mds_error_text(c, text, sizeof(text));
		log_ratelimited(&o->err_log, LOG_WARN,
				"%s: fetching the map failed: %s", o->name,
				text);
		o->next_map_ms = now_ms() + OSD_RETRY_MS;
		return;
	}
	if (c->rhdr.payload_len)
		adopt_map(o, rpc_reply_payload(c), c->rhdr.payload_len,
			  "fetched");
	else if (!o->have_map)
		o->have_map = o->map.epoch > 0;
	if (!o->have_map) {
		o->next_map_ms = now_ms() + OSD_RETRY_MS;
		return;
	}
	o->map_wanted = 0;
	if (!o->serving) {
		o->serving = 1;
		log_info("%s: serving (cluster map epoch %" PRIu64 ")",
			 o->name, o->map.epoch);
		rec_begin(o);
	}
}

static void mds_completions(struct osd *o)
{
	struct mds_call *mc;

	pthread_mutex_lock(&o->mu);
	mc = o->done_head;
	o->done_head = o->done_tail = NULL;
	pthread_mutex_unlock(&o->mu);
	while (mc) {
		struct mds_call *next = mc->next;

		if (mc->call.status == 0 &&
		    mc->call.rhdr.epoch > o->map.epoch && o->booted)
			o->map_wanted = 1;
		osd_auth_saw_reply(o->auth, &mc->call);
		switch (mc->kind) {
		case MC_BOOT:
			boot_reply(o, &mc->call);
			break;
		case MC_HB:
			hb_reply(o, &mc->call);
			break;
		case MC_MAP:
			map_reply(o, &mc->call);
			break;
		}
		rpc_call_release(&mc->call);
		free(mc);
		mc = next;
	}
}

/* Start what is due; returns the milliseconds until the next timer. */
static int timers(struct osd *o)
{
	uint64_t now = now_ms(), next = now + 1000;

	if (o->stopping || o->fatal)
		return 100;
	if (o->need_boot && !o->boot_inflight) {
		if (now >= o->next_boot_ms)
			send_boot(o);
		else
			next = MIN(next, o->next_boot_ms);
	}
	if (o->booted && o->map_wanted && !o->map_inflight) {
		if (now >= o->next_map_ms)
			send_map_get(o);
		else
			next = MIN(next, o->next_map_ms);
	}
	if (o->booted && !o->need_boot && !o->hb_inflight) {
		if (now >= o->next_hb_ms) {
			send_heartbeat(o);
			o->next_hb_ms = now + o->hb_ms;
		}
		next = MIN(next, o->next_hb_ms);
	}
	return next > now ? (int)(next - now) : 0;
}

/* ---- setup ---------------------------------------------------------------*/

/* A free TCP port on 127.0.0.1, from the kernel. */
static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int open_server(struct osd *o)
{
	int rc = -EADDRINUSE;

	if (o->cfg->addr) {
		snprintf(o->addr, sizeof(o->addr), "%s", o->cfg->addr);
		rc = net_server_open(o->addr, &o->srv);
		if (rc)
			log_err("store-osd: cannot serve on %s: %s", o->addr,
				rc == -EINVAL ?
					"not a tcp://HOST:PORT address" :
					strerror(-rc));
		return rc;
	}
	for (int tries = 0; tries < 20 && rc; tries++) {
		int port = free_port();

		if (port <= 0)
			continue;
		snprintf(o->addr, sizeof(o->addr), "tcp://127.0.0.1:%d", port);
		rc = net_server_open(o->addr, &o->srv);
	}
	if (rc)
		log_err("store-osd: cannot find a free port on 127.0.0.1: %s",
			strerror(-rc));
	else
		log_info("no --addr given: serving on %s", o->addr);
	return rc;
}

static double default_weight(const char *dir)
{
	struct statvfs sv;
	double w = OSD_WEIGHT_MIN;

	if (statvfs(dir, &sv) == 0)
		w = (double)sv.f_blocks * sv.f_frsize / (double)(1ull << 40);
	return w < OSD_WEIGHT_MIN ? OSD_WEIGHT_MIN : w;
}

static void teardown(struct osd *o)
{
	struct mds_call *mc;

	recov_free(o->rec);
	o->rec = NULL;
	if (o->store)
		store_close(o->store);
	o->store = NULL;
	if (o->srv)
		net_server_close(o->srv);
	if (o->rpc)
		rpc_engine_destroy(o->rpc); /* completes calls in flight */
	mc = o->done_head;
	while (mc) {
		struct mds_call *next = mc->next;

		rpc_call_release(&mc->call);
		free(mc);
		mc = next;
	}
	if (o->ring)
		io_ring_close(o->ring);
	if (o->rpc_efd >= 0)
		close(o->rpc_efd);
	map_free(&o->map);
	pthread_mutex_destroy(&o->mu);
	osd_auth_free(o->auth); /* after every engine signing with it */
}

int osd_run(const struct osd_config *cfg)
{
	struct store_opts so;
	struct osd *o;
	char err[1024];
	uint64_t stop_t0 = 0;
	int rc;

	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->cfg = cfg;
	o->rpc_efd = -1;
	o->osd_id = SUPER_NO_ID;
	o->hb_ms = cfg->heartbeat_ms ? cfg->heartbeat_ms :
				       OSD_HEARTBEAT_MS_DEFAULT;
	snprintf(o->name, sizeof(o->name), "osd.?");
	map_init(&o->map);
	pthread_mutex_init(&o->mu, NULL);
	if (cfg->keyring) {
		rc = osd_auth_open(cfg->keyring, &o->auth, err, sizeof(err));
		if (rc) {
			log_err("store-osd: %s", err);
			goto out;
		}
	}
	rc = io_ring_open(OSD_RING_DEPTH, &o->ring);
	if (rc) {
		log_err("store-osd: cannot set up io_uring: %s", strerror(-rc));
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.dir = cfg->data_dir;
	so.ring = o->ring;
	so.segment_size = cfg->segment_size;
	rc = store_open(&so, &o->store, err, sizeof(err));
	if (rc) {
		log_err("store-osd: %s", err);
		goto out;
	}
	if (store_super(o->store)->osd_id != SUPER_NO_ID)
		snprintf(o->name, sizeof(o->name), "osd.%u",
			 store_super(o->store)->osd_id);
	if (cfg->host && cfg->host[0]) {
		snprintf(o->host, sizeof(o->host), "%s", cfg->host);
	} else if (gethostname(o->host, sizeof(o->host)) < 0 || !o->host[0]) {
		snprintf(o->host, sizeof(o->host), "localhost");
	}
	o->host[sizeof(o->host) - 1] = '\0';
	o->weight = cfg->weight >= 0 ? cfg->weight :
				       default_weight(cfg->data_dir);
	/* Unknown (0) if it fails: the MDS then counts this disk alone. */
	rc = disk_id_of(cfg->data_dir, &o->disk_id);
	if (rc < 0)
		log_warn("cannot tell which file system %s is on (%s): its "
			 "space counts as a disk of its own", cfg->data_dir,
			 strerror(-rc));
	rc = open_server(o);
	if (rc)
		goto out;
	/* Before any engine exists: every engine of this OSD signs. */
	if (o->auth) {
		uint32_t id = store_super(o->store)->osd_id;

		rc = osd_auth_attach(o->auth, o->srv,
				     id == SUPER_NO_ID ? UINT32_MAX : id);
		if (rc) {
			log_err("store-osd: cannot set up authentication: %s",
				strerror(-rc));
			goto out;
		}
	}
	rc = rpc_engine_create(&o->rpc);
	if (!rc)
		rc = rpc_peer_get(o->rpc, cfg->mds_addr, OSD_MDS_CONNS,
				  &o->mds);
	if (rc) {
		log_err("store-osd: cannot talk to the MDS at %s: %s",
			cfg->mds_addr,
			rc == -EINVAL ? "not a tcp://HOST:PORT address" :
					strerror(-rc));
		goto out;
	}
	o->rpc_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (o->rpc_efd < 0) {
		rc = -errno;
		log_err("store-osd: eventfd: %s", strerror(-rc));
		goto out;
	}
	o->need_boot = 1;
	for (;;) {
		int timeout;

		mds_completions(o);
		rec_tick(o);
		if (o->fatal) {
			rc = o->fatal;
			break;
		}
		timeout = timers(o);
		arm_polls(o);
		store_poll(o->store);
		if (o->stopping) {
			if (!stop_t0) {
				stop_t0 = now_ms();
				/* Recovery stops first: its scrubs are
				 * answered before the requests drain. */
				if (o->rec)
					recov_stop(o->rec);
				rec_tick(o);
			}
			if (o->reqs == 0 && store_busy(o->store) == 0) {
				rc = 0;
				break;
			}
			if (now_ms() - stop_t0 > OSD_STOP_WAIT_MS) {
				log_warn("%s: %u requests still in flight "
					 "after %d s; stopping anyway",
					 o->name, o->reqs,
					 OSD_STOP_WAIT_MS / 1000);
				rc = 0;
				break;
			}
		}
		rc = io_run(o->ring, timeout);
		if (rc < 0) {
			log_err("store-osd: io_uring failed: %s",
				strerror(-rc));
			break;
		}
		store_poll(o->store);
	}
	o->stopping = 1;
	if (rc == 0)
		log_info("%s: stopped cleanly", o->name);
out:
	teardown(o);
	free(o);
	return rc;
}
