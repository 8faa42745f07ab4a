/*
 * client.c -- libstore: connecting, the session, following the map, and
 * talking to the MDS.  See client.h.
 */
#include "client_priv.h"
#include "log.h"
#include "pg.h"
#include "util.h"
#include "wire_mon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

/* Defaults: an MDS that does not answer within 10 s is reported as down;
 * one shard request gets 8 s (a 1 MiB put on a loaded disk takes tens of
 * ms; 8 s only trips on a dead or wedged OSD). */
#define DEFAULT_MDS_TIMEOUT_MS 10000
#define DEFAULT_OSD_TIMEOUT_MS 8000
/* Objects in flight per writer/reader: measured on a 6-OSD 4+2 vcluster,
 * 4 -> 8 -> 16 took a 1 GiB put from 1.36 s to 1.07 s and a get from
 * 1.48 s to 1.03 s; 24 gained nothing.  Memory: 16 x (k+m) shards. */
#define DEFAULT_OBJECTS_IN_FLIGHT 16
/* One attempt at an MDS request: a reply lost with a broken connection
 * (MDS restart) is retried after this, until the total timeout. */
#define MDS_ATTEMPT_MS 3000

static __thread char last_error[512];

const char *store_last_error(void)
{
	return last_error;
}

int store_fail(int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return rc;
}

uint64_t client_epoch(struct store_client *c)
{
	uint64_t e;

	pthread_rwlock_rdlock(&c->map_lock);
	e = c->map.epoch;
	pthread_rwlock_unlock(&c->map_lock);
	return e;
}

int client_frame(struct rpc_call *call, unsigned type, uint64_t epoch,
		 const void *payload, size_t len)
{
	return client_frame_flags(call, type, 0, epoch, payload, len);
}

int client_frame_flags(struct rpc_call *call, unsigned type, unsigned flags,
		       uint64_t epoch, const void *payload, size_t len)
{
	struct wbuf w;
	int rc;

	wbuf_init_alloc(&w, &net_wbuf_alloc);
	/* AUTH_ROOM: signing appends the authenticator without a copy. */
	if (!wbuf_reserve(&w, WIRE_HDR_LEN + len + AUTH_ROOM))
		return -ENOMEM;
	w.len = 0;
	wire_msg_begin(&w, type, flags, 0, epoch, 0);
	wbuf_raw(&w, payload, len);
	rc = wire_msg_finish(&w, 0);
	if (rc) {
		wbuf_free(&w);
		return rc;
	}
	call->req = w.p;
	call->req_len = w.len;
	call->req_nn = 1;
	return 0;
}

void client_reply_error(const struct rpc_call *call, char *buf, size_t cap)
{
	char text[STORE_ERRMSG_MAX + 1] = "";

	if (call->status) {
		snprintf(buf, cap, "%s", strerror(-call->status));
		return;
	}
	if (call->reply &&
	    wire_dec_error(rpc_reply_payload(call), call->rhdr.payload_len,
			   text, sizeof(text)) == 0 &&
	    text[0])
		snprintf(buf, cap, "%s", text);
	else
		snprintf(buf, cap, "%s", strerror(-call->rhdr.status));
}

/* Install a decoded map (and its CRUSH tree) if newer than ours. */
static int install_map(struct store_client *c, struct store_map *m)
{
	struct crush_tree *t = NULL;
	int rc;

	rc = crush_build(m, &t);
	if (rc)
		return rc;
	pthread_rwlock_wrlock(&c->map_lock);
	if (m->epoch > c->map.epoch) {
		struct store_map old = c->map;
		struct crush_tree *ot = c->crush;

		c->map = *m;
		c->crush = t;
		map_init(m);
		map_free(&old);
		t = ot;
	}
	pthread_rwlock_unlock(&c->map_lock);
	crush_free(t);
	return 0;
}

static int fetch_map(struct store_client *c, uint32_t timeout_ms)
{
	struct wire_map_get g = { client_epoch(c) };
	struct rpc_call call;
	struct store_map m;
	struct wbuf w;
	int rc;

	memset(&call, 0, sizeof(call));
	wbuf_init(&w);
	wire_enc_map_get(&w, &g);
	rc = w.err ? w.err : client_frame(&call, WIRE_MAP_GET, g.have_epoch,
					 w.p, w.len);
	wbuf_free(&w);
	if (rc)
		return rc;
	call.peer = c->mds;
	call.auth_dest = AUTH_DEST_MDS;
	call.timeout_ms = timeout_ms;
	rc = rpc_call_wait(c->eng, &call);
	if (rc == 0)
		rc = call.rhdr.status;
	if (rc == 0 && call.rhdr.payload_len > 0) {
		map_init(&m);
		rc = wire_dec_map(rpc_reply_payload(&call),
				  call.rhdr.payload_len, &m);
		if (rc == 0)
			rc = install_map(c, &m);
		map_free(&m);
	}
	rpc_call_release(&call);
	return rc;
}

int store_refresh_map(struct store_client *c)
{
	int rc;

	pthread_mutex_lock(&c->refresh_mu);
	rc = fetch_map(c, c->mds_timeout_ms);
	pthread_mutex_unlock(&c->refresh_mu);
	return rc;
}

void client_saw_epoch(struct store_client *c, uint64_t epoch)
{
	if (epoch <= client_epoch(c))
		return;
	pthread_mutex_lock(&c->refresh_mu);
	/* Another thread may have fetched it while we waited. */
	if (epoch > client_epoch(c)) {
		int rc = fetch_map(c, c->mds_timeout_ms);

		if (rc)
			log_debug("map refresh to epoch %llu failed: %s",
				  (unsigned long long)epoch, strerror(-rc));
	}
	pthread_mutex_unlock(&c->refresh_mu);
}

int store_get_map(struct store_client *c, struct store_map *out)
{
	int rc;

	pthread_rwlock_rdlock(&c->map_lock);
	rc = map_copy(out, &c->map);
	pthread_rwlock_unlock(&c->map_lock);
	return rc;
}

/* Does a request of this type leave the MDS's state as it was? */
static int mds_type_reads(unsigned type)
{
	switch (type) {
	case WIRE_LOOKUP: case WIRE_GETATTR: case WIRE_READDIR:
	case WIRE_READLINK: case WIRE_OBJMAP: case WIRE_STATFS:
	case WIRE_XATTR_GET: case WIRE_XATTR_LIST: case WIRE_MAP_GET:
	case WIRE_STATUS: case WIRE_PG_OBJECTS: case WIRE_PING:
		return 1;
	default:
		return 0;
	}
}

static int mds_call(struct store_client *c, unsigned type, unsigned flags,
		    const struct wbuf *payload, struct rpc_call *call,
		    const char *what);

int client_mds_call(struct store_client *c, unsigned type,
		    const struct wbuf *payload, struct rpc_call *call,
		    const char *what)
{
	return mds_call(c, type, 0, payload, call, what);
}

static int mds_call(struct store_client *c, unsigned type, unsigned flags,
		    const struct wbuf *payload, struct rpc_call *call,
		    const char *what)
{
	uint64_t deadline = now_ms() + c->mds_timeout_ms;
	uint64_t req_id = 0;
	char text[STORE_ERRMSG_MAX + 1];
	int rc, renewed = 0;

	if (payload->err)
		return store_fail(payload->err, "%s: cannot encode the request: "
				  "%s", what ? what : wire_type_name(type),
				  strerror(-payload->err));
	rc = client_auth_refresh(c, 0);
	if (rc)
		return rc;
	/* The same logical request keeps one id across retries. */
	if (c->session_id)
		req_id = c->session_id << 32 |
			 __atomic_add_fetch(&c->req_seq, 1, __ATOMIC_RELAXED);
	for (;;) {
		uint64_t now = now_ms();

		memset(call, 0, sizeof(*call));
		rc = client_frame_flags(call, type, flags, client_epoch(c),
					payload->p, payload->len);
		if (rc)
			return store_fail(rc, "out of memory");
		call->peer = c->mds;
		call->auth_dest = AUTH_DEST_MDS;
		call->req_id = req_id;
		call->timeout_ms = (uint32_t)MIN(deadline > now ?
						 deadline - now : 1,
						 MDS_ATTEMPT_MS);
		rc = rpc_call_wait(c->eng, call);
		if (rc == 0 && call->rhdr.status == -EKEYEXPIRED && !renewed) {
			/* Our ticket ran out (a clock jumped?): renew, once. */
			rpc_call_release(call);
			renewed = 1;
			rc = client_auth_refresh(c, 1);
			if (rc)
				return rc;
			continue;
		}
		if (rc == 0)
			break;
		if ((rc != -ETIMEDOUT && rc != -ENOTCONN) ||
		    now_ms() >= deadline)
			return store_fail(rc, "cannot reach the MDS at %s (%s); "
					  "is it running?", c->mds_addr,
					  rc == -ENOTCONN ? "no connection" :
							    "no answer");
	}
	client_saw_epoch(c, call->rhdr.epoch);
	if (call->rhdr.status) {
		rc = call->rhdr.status;
		client_reply_error(call, text, sizeof(text));
		rpc_call_release(call);
		if (what && !strstr(text, what))
			return store_fail(rc, "%s: %s%s", what, text,
					  rc == -EACCES ? client_auth_hint(c) :
							  "");
		return store_fail(rc, "%s%s", text, rc == -EACCES ?
				  client_auth_hint(c) : "");
	}
	client_fcap_note(c, call);
	if (!mds_type_reads(type))
		__atomic_add_fetch(&c->mds_changes, 1, __ATOMIC_RELEASE);
	return 0;
}

int store_sync(struct store_client *c)
{
	uint64_t changes = __atomic_load_n(&c->mds_changes, __ATOMIC_ACQUIRE);
	struct rpc_call call;
	struct wbuf w;
	int rc;

	/* An empty PING flagged WIRE_F_SYNC: the MDS answers it once all
	 * it acknowledged before is on stable storage. */
	wbuf_init(&w);
	rc = mds_call(c, WIRE_PING, WIRE_F_SYNC, &w, &call,
		      "syncing the MDS");
	wbuf_free(&w);
	if (rc)
		return rc;
	rpc_call_release(&call);
	/* Changes acknowledged after we read the count may be newer than
	 * the sync: they stay counted as unsynced. */
	__atomic_store_n(&c->mds_synced, changes, __ATOMIC_RELEASE);
	return 0;
}

int store_unsynced(const struct store_client *c)
{
	return __atomic_load_n(&c->mds_changes, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&c->mds_synced, __ATOMIC_ACQUIRE);
}

static int open_session(struct store_client *c)
{
	static struct wire_ns_req req;
	struct wire_ns_reply rep;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	memset(&req, 0, sizeof(req));
	snprintf(req.name, sizeof(req.name), "%s", c->name);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_SESSION_OPEN, &req);
	rc = client_mds_call(c, WIRE_SESSION_OPEN, &w, &call, NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_ns_reply(WIRE_SESSION_OPEN, rpc_reply_payload(&call),
			       call.rhdr.payload_len, &rep);
	if (rc == 0) {
		c->session_id = rep.session_id;
		c->root_ino = rep.root_ino;
		c->inline_max = MIN(rep.inline_max, STORE_INLINE_MAX);
	}
	rpc_call_release(&call);
	if (rc)
		return store_fail(rc, "the MDS at %s sent a malformed session "
				  "reply", c->mds_addr);
	if (c->session_id == 0 || c->session_id >= (1ull << 31))
		return store_fail(-EPROTO, "the MDS at %s gave an invalid "
				  "session id", c->mds_addr);
	return 0;
}

int store_connect(const struct conf *conf, const struct store_client_opts *o,
		  struct store_client **out)
{
	struct store_client_opts none = { 0 };
	struct store_client *c;
	const char *mds, *name;
	int rc;

	*out = NULL;
	if (!o)
		o = &none;
	mds = o->mds_addr ? o->mds_addr : conf_get(conf, "mds");
	name = o->name ? o->name : conf_get_str(conf, "name", "client.admin");
	if (!mds || !mds[0])
		return store_fail(-EINVAL, "no MDS address: set 'mds = "
				  "tcp://HOST:PORT' in the configuration "
				  "(or $STORE_CONF)");
	if (!net_addr_ok(mds))
		return store_fail(-EINVAL, "bad MDS address '%s': expected "
				  "tcp://HOST:PORT", mds);
	c = calloc(1, sizeof(*c));
	if (!c)
		return store_fail(-ENOMEM, "out of memory");
	snprintf(c->mds_addr, sizeof(c->mds_addr), "%s", mds);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->mds_timeout_ms = o->mds_timeout_ms ? o->mds_timeout_ms :
						DEFAULT_MDS_TIMEOUT_MS;
	c->osd_timeout_ms = o->osd_timeout_ms ? o->osd_timeout_ms :
						DEFAULT_OSD_TIMEOUT_MS;
	c->objects_in_flight = o->objects_in_flight ? o->objects_in_flight :
						      DEFAULT_OBJECTS_IN_FLIGHT;
	if (!o->objects_in_flight) {
		uint64_t v;

		/* `objects_in_flight = N` in the configuration. */
		if (conf_get_u64(conf, "objects_in_flight", c->objects_in_flight,
				 &v) == 0 && v >= 1 && v <= 64)
			c->objects_in_flight = (unsigned)v;
	}
	pthread_rwlock_init(&c->map_lock, NULL);
	pthread_mutex_init(&c->refresh_mu, NULL);
	pthread_mutex_init(&c->peers_mu, NULL);
	pthread_mutex_init(&c->codec_mu, NULL);
	map_init(&c->map);
	rc = client_auth_setup(c, conf);
	if (rc)
		goto fail;
	rc = rpc_engine_create(&c->eng);
	if (rc) {
		store_fail(rc, "cannot start the network engine: %s",
			   strerror(-rc));
		goto fail;
	}
	rc = rpc_peer_get(c->eng, c->mds_addr, CLIENT_MDS_CONNS, &c->mds);
	if (rc) {
		store_fail(rc, "bad MDS address '%s'", c->mds_addr);
		goto fail;
	}
	/* Never a credential inherited from the process (a daemon's). */
	rpc_engine_set_cred(c->eng, NULL);
	rc = client_auth_login(c);
	if (rc)
		goto fail;
	rc = open_session(c);
	if (rc)
		goto fail;
	rc = store_refresh_map(c);
	if (rc) {
		store_fail(rc, "cannot fetch the cluster map from the MDS at "
			   "%s: %s", c->mds_addr, strerror(-rc));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	store_disconnect(c);
	return rc;
}

void store_disconnect(struct store_client *c)
{
	if (!c)
		return;
	rpc_engine_destroy(c->eng);
	client_auth_free(c);
	crush_free(c->crush);
	map_free(&c->map);
	for (unsigned k = 0; k <= STORE_EC_MAX_K; k++)
		for (unsigned m = 0; m <= STORE_EC_MAX_M; m++)
			ec_destroy(c->codecs[k][m]);
	pthread_rwlock_destroy(&c->map_lock);
	pthread_mutex_destroy(&c->refresh_mu);
	pthread_mutex_destroy(&c->peers_mu);
	pthread_mutex_destroy(&c->codec_mu);
	free(c);
}

uint64_t store_root_ino(const struct store_client *c)
{
	return c->root_ino;
}

uint32_t store_inline_max(const struct store_client *c)
{
	return c->inline_max;
}

uint64_t store_new_version(struct store_client *c)
{
	uint32_t seq = __atomic_add_fetch(&c->version_seq, 1, __ATOMIC_RELAXED);

	return c->session_id << 32 | seq;
}

struct ec_codec *client_codec(struct store_client *c, unsigned k, unsigned m)
{
	struct ec_codec *ec;

	if (k < 1 || k > STORE_EC_MAX_K || m < 1 || m > STORE_EC_MAX_M)
		return NULL;
	pthread_mutex_lock(&c->codec_mu);
	ec = c->codecs[k][m];
	if (!ec && ec_create(k, m, &ec) == 0)
		c->codecs[k][m] = ec;
	pthread_mutex_unlock(&c->codec_mu);
	return ec;
}

/* The peer for an OSD, (re)created when its address changes. */
static struct rpc_peer *osd_peer(struct store_client *c,
				 const struct map_osd *o)
{
	struct rpc_peer *p;

	pthread_mutex_lock(&c->peers_mu);
	p = c->osd_peer[o->id];
	if (!p || strcmp(rpc_peer_addr(p), o->addr)) {
		if (rpc_peer_get(c->eng, o->addr, CLIENT_OSD_CONNS, &p))
			p = NULL;
		c->osd_peer[o->id] = p;
	}
	pthread_mutex_unlock(&c->peers_mu);
	return p;
}

int client_place(struct store_client *c, uint32_t pool, uint64_t ino,
		 uint64_t objno, struct placement *pl)
{
	const struct map_pool *p;
	int n;

	memset(pl, 0, sizeof(*pl));
	pthread_rwlock_rdlock(&c->map_lock);
	p = map_pool(&c->map, pool);
	if (!p || !c->crush) {
		pthread_rwlock_unlock(&c->map_lock);
		return store_fail(-ENOENT, "pool %u is not in the cluster map "
				  "(epoch %llu)", pool,
				  (unsigned long long)c->map.epoch);
	}
	pl->pool = *p;
	pl->n = p->k + p->m;
	pl->epoch = c->map.epoch;
	pl->pg = crush_object_pg(p, ino, objno);
	n = pg_set(c->crush, &c->map, p, pl->pg, pl->osd);
	if (n < 0) {
		pthread_rwlock_unlock(&c->map_lock);
		return store_fail(n, "cannot place object %llu of inode %llu: "
				  "%s", (unsigned long long)objno,
				  (unsigned long long)ino, strerror(-n));
	}
	for (unsigned i = 0; i < pl->n; i++) {
		const struct map_osd *o;

		if (pl->osd[i] == CRUSH_NONE)
			continue;
		o = map_osd(&c->map, pl->osd[i]);
		if (!o)
			continue;
		pl->up[i] = o->up;
		pl->peer[i] = osd_peer(c, o);
		if (!pl->peer[i])
			pl->up[i] = 0;
	}
	pthread_rwlock_unlock(&c->map_lock);
	return 0;
}

/* ---- namespace ---------------------------------------------------------*/

/* Run a namespace request whose reply carries attrs. */
static int ns_attr_call(struct store_client *c, unsigned type,
			const struct wire_ns_req *req, struct wire_attr *attr,
			const char *what)
{
	struct wire_ns_reply rep;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wire_enc_ns_req(&w, type, req);
	rc = client_mds_call(c, type, &w, &call, what);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_ns_reply(type, rpc_reply_payload(&call),
			       call.rhdr.payload_len, &rep);
	rpc_call_release(&call);
	if (rc)
		return store_fail(rc, "%s: malformed reply from the MDS",
				  what ? what : wire_type_name(type));
	if (attr)
		*attr = rep.attr;
	return 0;
}

/* Requests are big (a symlink target is 4 KiB): keep them off small
 * thread stacks. */
static struct wire_ns_req *req_new(void)
{
	struct wire_ns_req *r = calloc(1, sizeof(*r));

	if (!r)
		store_fail(-ENOMEM, "out of memory");
	return r;
}

static int set_name(char *dst, const char *name)
{
	if (strlen(name) > STORE_NAME_MAX)
		return store_fail(-ENAMETOOLONG, "name too long (%zu bytes, "
				  "at most %d): %.40s...", strlen(name),
				  STORE_NAME_MAX, name);
	if (!wire_name_ok(name))
		return store_fail(-EINVAL, "invalid file name '%s'", name);
	strcpy(dst, name);
	return 0;
}

int store_lookup(struct store_client *c, uint64_t parent, const char *name,
		 struct wire_attr *attr)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = parent;
	rc = set_name(r->name, name);
	if (rc == 0)
		rc = ns_attr_call(c, WIRE_LOOKUP, r, attr, name);
	free(r);
	return rc;
}

int store_ino_reserve(struct store_client *c, uint32_t count,
		      uint64_t *first, uint32_t *got)
{
	struct wire_ns_req *r = req_new();
	struct wire_attr a;
	int rc;

	if (!r)
		return -ENOMEM;
	r->max = count;
	rc = ns_attr_call(c, WIRE_INO_RESERVE, r, &a, "reserving inodes");
	free(r);
	if (rc)
		return rc;
	if (a.size == 0 || a.size > count)
		return store_fail(-EIO, "reserving inodes: the MDS gave %llu of "
				  "%u", (unsigned long long)a.size, count);
	*first = a.ino;
	*got = (uint32_t)a.size;
	return 0;
}

int store_create_at(struct store_client *c, uint64_t parent, const char *name,
		    uint64_t ino, const struct wire_attr *want, uint32_t valid,
		    const void *data, uint32_t data_len, int with_data,
		    struct wire_attr *attr)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = parent;
	r->ino2 = ino;
	r->mode = want->mode;
	r->uid = want->uid;
	r->gid = want->gid;
	r->flags = WIRE_CREATE_EXCL |
		   (with_data ? WIRE_CREATE_AT_COMMIT : 0);
	r->valid = valid;
	r->atime_ns = want->atime_ns;
	r->mtime_ns = want->mtime_ns;
	r->data = data;
	r->data_len = data_len;
	rc = set_name(r->name, name);
	if (rc == 0)
		rc = ns_attr_call(c, WIRE_CREATE_AT, r, attr, name);
	free(r);
	return rc;
}

int store_getattr(struct store_client *c, uint64_t ino, struct wire_attr *attr)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = ino;
	rc = ns_attr_call(c, WIRE_GETATTR, r, attr, NULL);
	free(r);
	return rc;
}

int store_setattr(struct store_client *c, uint64_t ino, uint32_t valid,
		  const struct wire_attr *want, struct wire_attr *attr)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = ino;
	r->valid = valid;
	r->mode = want->mode;
	r->uid = want->uid;
	r->gid = want->gid;
	r->size = want->size;
	r->atime_ns = want->atime_ns;
	r->mtime_ns = want->mtime_ns;
	rc = ns_attr_call(c, WIRE_SETATTR, r, attr, NULL);
	free(r);
	return rc;
}

static int make_entry(struct store_client *c, unsigned type, uint64_t parent,
		      const char *name, uint32_t mode, uint32_t uid,
		      uint32_t gid, uint32_t flags, const char *target,
		      struct wire_attr *attr)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = parent;
	r->mode = mode;
	r->uid = uid;
	r->gid = gid;
	r->flags = flags;
	rc = set_name(r->name, name);
	if (rc == 0 && target) {
		if (strlen(target) > STORE_PATH_MAX || !target[0])
			rc = store_fail(-ENAMETOOLONG, "symlink target of '%s' "
					"is empty or too long", name);
		else
			strcpy(r->target, target);
	}
	if (rc == 0)
		rc = ns_attr_call(c, type, r, attr, name);
	free(r);
	return rc;
}

int store_mkdir(struct store_client *c, uint64_t parent, const char *name,
		uint32_t mode, uint32_t uid, uint32_t gid,
		struct wire_attr *attr)
{
	return make_entry(c, WIRE_MKDIR, parent, name, mode, uid, gid, 0, NULL,
			  attr);
}

int store_create(struct store_client *c, uint64_t parent, const char *name,
		 uint32_t mode, uint32_t uid, uint32_t gid, uint32_t flags,
		 struct wire_attr *attr)
{
	return make_entry(c, WIRE_CREATE, parent, name, mode, uid, gid, flags,
			  NULL, attr);
}

int store_symlink(struct store_client *c, uint64_t parent, const char *name,
		  const char *target, uint32_t uid, uint32_t gid,
		  struct wire_attr *attr)
{
	return make_entry(c, WIRE_SYMLINK, parent, name, 0120777, uid, gid, 0,
			  target, attr);
}

int store_unlink(struct store_client *c, uint64_t parent, const char *name,
		 uint32_t flags, struct wire_attr *attr)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = parent;
	r->flags = flags;
	rc = set_name(r->name, name);
	if (rc == 0)
		rc = ns_attr_call(c, WIRE_UNLINK, r, attr, name);
	free(r);
	return rc;
}

int store_rmdir(struct store_client *c, uint64_t parent, const char *name)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = parent;
	rc = set_name(r->name, name);
	if (rc == 0)
		rc = ns_attr_call(c, WIRE_RMDIR, r, NULL, name);
	free(r);
	return rc;
}

int store_rename(struct store_client *c, uint64_t parent, const char *name,
		 uint64_t newparent, const char *newname, uint32_t flags,
		 struct wire_attr *replaced)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = parent;
	r->ino2 = newparent;
	r->flags = flags;
	rc = set_name(r->name, name);
	if (rc == 0)
		rc = set_name(r->name2, newname);
	if (rc == 0)
		rc = ns_attr_call(c, WIRE_RENAME, r, replaced, name);
	free(r);
	return rc;
}

int store_link(struct store_client *c, uint64_t ino, uint64_t newparent,
	       const char *newname, struct wire_attr *attr)
{
	struct wire_ns_req *r = req_new();
	int rc;

	if (!r)
		return -ENOMEM;
	r->ino = ino;
	r->ino2 = newparent;
	rc = set_name(r->name2, newname);
	if (rc == 0)
		rc = ns_attr_call(c, WIRE_LINK, r, attr, newname);
	free(r);
	return rc;
}

int store_readlink(struct store_client *c, uint64_t ino, char *target)
{
	struct wire_ns_req *r = req_new();
	struct wire_ns_reply *rep;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	if (!r)
		return -ENOMEM;
	rep = malloc(sizeof(*rep));
	if (!rep) {
		free(r);
		return store_fail(-ENOMEM, "out of memory");
	}
	r->ino = ino;
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_READLINK, r);
	rc = client_mds_call(c, WIRE_READLINK, &w, &call, NULL);
	wbuf_free(&w);
	if (rc == 0) {
		rc = wire_dec_ns_reply(WIRE_READLINK, rpc_reply_payload(&call),
				       call.rhdr.payload_len, rep);
		if (rc == 0)
			strcpy(target, rep->target);
		else
			store_fail(rc, "malformed readlink reply");
		rpc_call_release(&call);
	}
	free(rep);
	free(r);
	return rc;
}

int store_statfs(struct store_client *c, struct store_statfs *st)
{
	struct wire_ns_req *r = req_new();
	struct wire_ns_reply rep;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	if (!r)
		return -ENOMEM;
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_STATFS, r);
	free(r);
	rc = client_mds_call(c, WIRE_STATFS, &w, &call, NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_ns_reply(WIRE_STATFS, rpc_reply_payload(&call),
			       call.rhdr.payload_len, &rep);
	rpc_call_release(&call);
	if (rc)
		return store_fail(rc, "malformed statfs reply");
	st->blocks = rep.f_blocks;
	st->bfree = rep.f_bfree;
	st->files = rep.f_files;
	st->ffree = rep.f_ffree;
	return 0;
}

/* Shared by the xattr get/list: copy the reply's data blob out. */
static ssize_t xattr_data_call(struct store_client *c, unsigned type,
			       struct wire_ns_req *r, void *buf, size_t cap)
{
	struct wire_ns_reply rep;
	struct rpc_call call;
	struct wbuf w;
	ssize_t rc;

	wbuf_init(&w);
	wire_enc_ns_req(&w, type, r);
	rc = client_mds_call(c, type, &w, &call, r->name[0] ? r->name : NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_ns_reply(type, rpc_reply_payload(&call),
			       call.rhdr.payload_len, &rep);
	if (rc == 0) {
		if (cap && rep.data_len > cap)
			rc = store_fail(-ERANGE, "attribute value larger than "
					"the buffer (%u > %zu)", rep.data_len,
					cap);
		else {
			if (cap && rep.data_len)
				memcpy(buf, rep.data, rep.data_len);
			rc = rep.data_len;
		}
	} else {
		store_fail((int)rc, "malformed xattr reply");
	}
	rpc_call_release(&call);
	return rc;
}

ssize_t store_getxattr(struct store_client *c, uint64_t ino, const char *name,
		       void *buf, size_t cap)
{
	struct wire_ns_req *r = req_new();
	ssize_t rc;

	if (!r)
		return -ENOMEM;
	if (!name[0] || strlen(name) > STORE_XATTR_NAME_MAX) {
		free(r);
		return store_fail(-ERANGE, "bad attribute name");
	}
	r->ino = ino;
	strcpy(r->name, name);
	rc = xattr_data_call(c, WIRE_XATTR_GET, r, buf, cap);
	free(r);
	return rc;
}

ssize_t store_listxattr(struct store_client *c, uint64_t ino, void *buf,
			size_t cap)
{
	struct wire_ns_req *r = req_new();
	ssize_t rc;

	if (!r)
		return -ENOMEM;
	r->ino = ino;
	rc = xattr_data_call(c, WIRE_XATTR_LIST, r, buf, cap);
	free(r);
	return rc;
}

int store_setxattr(struct store_client *c, uint64_t ino, const char *name,
		   const void *value, size_t len, uint32_t flags)
{
	struct wire_ns_req *r;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	if (!name[0] || strlen(name) > STORE_XATTR_NAME_MAX)
		return store_fail(-ERANGE, "bad attribute name");
	if (len > STORE_XATTR_VALUE_MAX)
		return store_fail(-E2BIG, "attribute value too large (%zu "
				  "bytes, at most %d)", len,
				  STORE_XATTR_VALUE_MAX);
	r = req_new();
	if (!r)
		return -ENOMEM;
	r->ino = ino;
	r->flags = flags;
	strcpy(r->name, name);
	r->data = value;
	r->data_len = (uint32_t)len;
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_XATTR_SET, r);
	rc = client_mds_call(c, WIRE_XATTR_SET, &w, &call, name);
	wbuf_free(&w);
	free(r);
	if (rc == 0)
		rpc_call_release(&call);
	return rc;
}

int store_removexattr(struct store_client *c, uint64_t ino, const char *name)
{
	struct wire_ns_req *r;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	if (!name[0] || strlen(name) > STORE_XATTR_NAME_MAX)
		return store_fail(-ERANGE, "bad attribute name");
	r = req_new();
	if (!r)
		return -ENOMEM;
	r->ino = ino;
	strcpy(r->name, name);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_XATTR_REMOVE, r);
	rc = client_mds_call(c, WIRE_XATTR_REMOVE, &w, &call, name);
	wbuf_free(&w);
	free(r);
	if (rc == 0)
		rpc_call_release(&call);
	return rc;
}

int store_readdir_batch(struct store_client *c, uint64_t ino, uint64_t cookie,
			uint32_t max, int plus, store_dirent_fn fn, void *arg,
			int *more)
{
	struct wire_ns_req *r = req_new();
	struct wire_ns_reply rep;
	struct wire_dirent *d;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	if (!r)
		return -ENOMEM;
	d = malloc(sizeof(*d));
	if (!d) {
		free(r);
		return store_fail(-ENOMEM, "out of memory");
	}
	r->ino = ino;
	r->cookie = cookie;
	r->max = max;
	r->flags = plus ? WIRE_READDIR_PLUS : 0;
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_READDIR, r);
	rc = client_mds_call(c, WIRE_READDIR, &w, &call, NULL);
	wbuf_free(&w);
	if (rc)
		goto out;
	rc = wire_dec_ns_reply(WIRE_READDIR, rpc_reply_payload(&call),
			       call.rhdr.payload_len, &rep);
	if (rc) {
		store_fail(rc, "malformed readdir reply");
	} else {
		*more = rep.more;
		while (wire_next_dirent(&rep.entries, rep.plus, d))
			if (fn(arg, d)) {
				*more = 0;
				break;
			}
	}
	rpc_call_release(&call);
out:
	free(d);
	free(r);
	return rc;
}

struct readdir_ctx {
	store_dirent_fn fn;
	void *arg;
	uint64_t cookie;
	int stop;
};

static int readdir_step(void *arg, const struct wire_dirent *d)
{
	struct readdir_ctx *x = arg;

	x->cookie = d->cookie;
	if (x->fn(x->arg, d)) {
		x->stop = 1;
		return 1;
	}
	return 0;
}

int store_readdir(struct store_client *c, uint64_t ino, uint64_t cookie,
		  int plus, store_dirent_fn fn, void *arg)
{
	struct readdir_ctx x = { fn, arg, cookie, 0 };
	int more = 1, rc;

	while (more && !x.stop) {
		rc = store_readdir_batch(c, ino, x.cookie, 1024, plus,
					 readdir_step, &x, &more);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- paths ------------------------------------------------------------*/

/* Split the next component off *p: returns its length (0 at the end). */
static size_t next_component(const char **p, const char **start)
{
	const char *s = *p;
	size_t n;

	while (*s == '/')
		s++;
	*start = s;
	n = strcspn(s, "/");
	*p = s + n;
	return n;
}

static int walk(struct store_client *c, const char *path, int to_parent,
		struct wire_attr *attr, uint64_t *parent, char *last)
{
	char name[STORE_NAME_MAX + 1];
	struct wire_attr cur;
	const char *p = path, *s;
	size_t n;
	int rc;

	if (!path || path[0] != '/')
		return store_fail(-EINVAL, "'%s': cluster paths are absolute "
				  "(start with '/')", path ? path : "");
	if (strlen(path) > STORE_PATH_MAX)
		return store_fail(-ENAMETOOLONG, "path too long (%zu bytes, at "
				  "most %d)", strlen(path), STORE_PATH_MAX);
	memset(&cur, 0, sizeof(cur));
	cur.ino = c->root_ino;
	cur.mode = 040755;
	if (!to_parent) {
		rc = store_getattr(c, c->root_ino, &cur);
		if (rc)
			return rc;
	}
	for (;;) {
		const char *after;
		size_t rest;

		n = next_component(&p, &s);
		if (n == 0)
			break;
		if (n > STORE_NAME_MAX)
			return store_fail(-ENAMETOOLONG, "%s: a name in the "
					  "path is too long (%zu bytes, at most "
					  "%d)", path, n, STORE_NAME_MAX);
		memcpy(name, s, n);
		name[n] = '\0';
		if (!strcmp(name, "."))
			continue;
		if (!strcmp(name, ".."))
			return store_fail(-EINVAL, "%s: '..' is not allowed in "
					  "cluster paths", path);
		after = p;
		rest = next_component(&after, &s);
		while (rest == 1 && *s == '.')
			rest = next_component(&after, &s);
		if (to_parent && rest == 0) {
			*parent = cur.ino;
			strcpy(last, name);
			return 0;
		}
		if (!S_ISDIR(cur.mode))
			return store_fail(-ENOTDIR, "%s: not a directory "
					  "before '%s'", path, name);
		rc = store_lookup(c, cur.ino, name, &cur);
		if (rc == -ENOENT)
			return store_fail(rc, "%s: no such file or directory",
					  path);
		if (rc)
			return rc;
	}
	if (to_parent)
		return store_fail(-EINVAL, "'%s' names the root, which has no "
				  "parent", path);
	if (attr)
		*attr = cur;
	return 0;
}

int store_resolve(struct store_client *c, const char *path,
		  struct wire_attr *attr)
{
	return walk(c, path, 0, attr, NULL, NULL);
}

int store_resolve_parent(struct store_client *c, const char *path,
			 uint64_t *parent, char *name)
{
	return walk(c, path, 1, NULL, parent, name);
}

/* ---- cluster ----------------------------------------------------------*/

int store_status(struct store_client *c, struct wire_status *st)
{
	struct rpc_call call;
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	rc = client_mds_call(c, WIRE_STATUS, &w, &call, NULL);
	if (rc)
		return rc;
	rc = wire_dec_status(rpc_reply_payload(&call), call.rhdr.payload_len,
			     st);
	rpc_call_release(&call);
	if (rc)
		return store_fail(rc, "malformed status reply from the MDS");
	return 0;
}

int store_osd_cmd(struct store_client *c, uint32_t op, uint32_t osd_id,
		  double weight)
{
	struct wire_osd_cmd cmd = { op, osd_id, weight };
	struct rpc_call call;
	char what[32];
	struct wbuf w;
	int rc;

	snprintf(what, sizeof(what), "osd.%u", osd_id);
	wbuf_init(&w);
	wire_enc_osd_cmd(&w, &cmd);
	rc = client_mds_call(c, WIRE_OSD_CMD, &w, &call, what);
	wbuf_free(&w);
	if (rc == 0) {
		rpc_call_release(&call);
		store_refresh_map(c);
	}
	return rc;
}
