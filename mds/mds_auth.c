/*
 * mds_auth.c -- keys, tickets and caps at the MDS: see mds_auth.h.
 */
#include "mds_auth.h"
#include "auth_server.h"
#include "keyring.h"
#include "log.h"
#include "mds.h"
#include "net.h"
#include "ns.h"
#include "parents.h"
#include "util.h"
#include "wire_auth.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AUTH_META_KEY "auth"
#define AUTH_REC_V1 1
/* A file cap lives as long as the ticket it was given under, at most. */

struct mds_auth {
	int on;
	uint8_t secret[AUTH_KEY_LEN];
	uint8_t tkey[AUTH_KEY_LEN];
	uint8_t fkey[AUTH_KEY_LEN];
	uint8_t ckey[AUTH_KEY_LEN];   /* challenges: random per run */
	uint8_t tagkey[AUTH_KEY_LEN]; /* reply cache owner tags */
	uint8_t suite;
	int secure;
	int64_t ttl_ms;
	struct auth_server *srv;
	struct auth_cred *cred;
	struct log_limit fail_log;
};

/* A key record of the auth database. */
struct keyrec {
	uint8_t key[AUTH_KEY_LEN];
	char caps[AUTH_CAPS_MAX + 1];
	int64_t created_ns;
};

/* ---- records -------------------------------------------------------------*/

static int secret_put(struct mds_db *db, MDB_txn *txn,
		      const uint8_t secret[AUTH_KEY_LEN])
{
	uint8_t buf[1 + 4 + AUTH_KEY_LEN];
	MDB_val k = { strlen(AUTH_META_KEY), (void *)AUTH_META_KEY };
	MDB_val v = { sizeof(buf), buf };
	int rc;

	buf[0] = AUTH_REC_V1;
	put_le32(buf + 1, 0);
	memcpy(buf + 5, secret, AUTH_KEY_LEN);
	rc = db_err(mdb_put(txn, db->meta, &k, &v, 0));
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/* 0 and the secret, -ENOENT (an open cluster) or -EUCLEAN. */
static int secret_get(struct mds_db *db, MDB_txn *txn,
		      uint8_t secret[AUTH_KEY_LEN])
{
	MDB_val k = { strlen(AUTH_META_KEY), (void *)AUTH_META_KEY }, v;
	int rc = db_err(mdb_get(txn, db->meta, &k, &v));
	const uint8_t *p = v.mv_data;

	if (rc)
		return rc;
	if (v.mv_size != 1 + 4 + AUTH_KEY_LEN || p[0] != AUTH_REC_V1) {
		log_err("damaged 'auth' record in the MDS database: restore "
			"the folder from a backup");
		return -EUCLEAN;
	}
	memcpy(secret, p + 5, AUTH_KEY_LEN);
	return 0;
}

static int key_put(struct mds_db *db, MDB_txn *txn, const char *name,
		   const struct keyrec *r, unsigned flags)
{
	uint8_t buf[1 + AUTH_KEY_LEN + 2 + AUTH_CAPS_MAX + 8];
	MDB_val k = { strlen(name), (void *)name }, v;
	struct wbuf w;
	int rc;

	wbuf_init_fixed(&w, buf, sizeof(buf));
	wbuf_u8(&w, AUTH_REC_V1);
	wbuf_raw(&w, r->key, AUTH_KEY_LEN);
	wbuf_str(&w, r->caps, AUTH_CAPS_MAX);
	wbuf_i64(&w, r->created_ns);
	if (w.err)
		return w.err;
	v.mv_size = w.len;
	v.mv_data = buf;
	rc = mdb_put(txn, db->auth, &k, &v, flags);
	sodium_memzero(buf, sizeof(buf));
	return rc == MDB_KEYEXIST ? -EEXIST : db_err(rc);
}

static int key_dec(const uint8_t *p, size_t len, struct keyrec *r)
{
	struct rbuf rb;

	rbuf_init(&rb, p, len);
	if (rbuf_u8(&rb) != AUTH_REC_V1)
		return -EUCLEAN;
	rbuf_raw(&rb, r->key, AUTH_KEY_LEN);
	rbuf_str(&rb, r->caps, sizeof(r->caps), AUTH_CAPS_MAX);
	r->created_ns = rbuf_i64(&rb);
	return rbuf_done(&rb) ? -EUCLEAN : 0;
}

/* 0, -ENOENT, or -EUCLEAN. */
static int key_get(struct mds_db *db, MDB_txn *txn, const char *name,
		   struct keyrec *r)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	int rc;

	if (!name[0] || strlen(name) > STORE_ENTITY_MAX)
		return -ENOENT;
	rc = db_err(mdb_get(txn, db->auth, &k, &v));
	if (rc)
		return rc;
	rc = key_dec(v.mv_data, v.mv_size, r);
	if (rc)
		log_err("damaged key record of %s in the MDS database", name);
	return rc;
}

int mds_auth_create(struct mds_db *db, MDB_txn *txn,
		    const struct mds_auth_keys *k)
{
	struct keyrec r;
	int rc = secret_put(db, txn, k->secret);

	if (rc)
		return rc;
	memset(&r, 0, sizeof(r));
	memcpy(r.key, k->admin, AUTH_KEY_LEN);
	snprintf(r.caps, sizeof(r.caps), "%s", MDS_ADMIN_CAPS);
	r.created_ns = (int64_t)wall_ns();
	rc = key_put(db, txn, MDS_ADMIN_ENTITY, &r, 0);
	sodium_memzero(&r, sizeof(r));
	return rc;
}

/* ---- lifetime -------------------------------------------------------------*/

int mds_auth_load(struct mds *m, char *err, size_t errlen)
{
	struct mds_auth *a;
	MDB_txn *txn;
	int rc;

	if (auth_init()) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->auth = a;
	rc = db_begin(&m->db, NULL, 1, &txn);
	if (rc == 0) {
		rc = secret_get(&m->db, txn, a->secret);
		mdb_txn_abort(txn);
	}
	if (rc == -ENOENT)
		return 0; /* no keys: an open cluster */
	if (rc) {
		snprintf(err, errlen, "cannot read the cluster's keys in %s: "
			 "%s", m->o.dir, strerror(-rc));
		return rc;
	}
	a->on = 1;
	auth_derive(a->secret, AUTH_SUB_TICKET, a->tkey);
	auth_derive(a->secret, AUTH_SUB_FCAP, a->fkey);
	randombytes_buf(a->ckey, sizeof(a->ckey));
	randombytes_buf(a->tagkey, sizeof(a->tagkey));
	a->secure = m->o.secure;
	a->ttl_ms = m->o.ticket_ttl_ms ? (int64_t)m->o.ticket_ttl_ms :
					 3600 * 1000;
	a->suite = m->o.cipher ? m->o.cipher : auth_suite_default();
	if (!auth_suite_ok(a->suite)) {
		snprintf(err, errlen, "auth_cipher %s is not available on this "
			 "machine (no AES-NI): use xchacha20",
			 auth_suite_name(a->suite));
		return -EINVAL;
	}
	rc = auth_cred_daemon(a->secret, "mds", a->ttl_ms, &a->cred);
	if (rc == 0)
		auth_cred_set_secure(a->cred, a->secure);
	if (rc) {
		snprintf(err, errlen, "cannot set up the MDS's credential: %s",
			 strerror(-rc));
		return rc;
	}
	return 0;
}

void mds_auth_free(struct mds *m)
{
	struct mds_auth *a = m->auth;

	if (!a)
		return;
	auth_server_free(a->srv);
	auth_cred_free(a->cred);
	sodium_memzero(a, sizeof(*a));
	free(a);
	m->auth = NULL;
}

int mds_auth_on(const struct mds *m)
{
	return m->auth && m->auth->on;
}

int mds_auth_attach(struct mds *m, struct net_server *net)
{
	struct mds_auth *a = m->auth;
	int rc;

	if (!mds_auth_on(m))
		return 0;
	if (!a->srv) {
		rc = auth_server_create(a->secret, AUTH_DEST_MDS, "mds",
					&a->srv);
		if (rc)
			return rc;
		auth_server_allow(a->srv, WIRE_AUTH_HELLO);
		auth_server_allow(a->srv, WIRE_AUTH_PROVE);
		auth_server_allow(a->srv, WIRE_PING);
		auth_server_set_secure(a->srv, a->secure);
	}
	net_server_set_auth(net, a->srv);
	return 0;
}

struct auth_cred *mds_auth_cred(struct mds *m)
{
	return mds_auth_on(m) ? m->auth->cred : NULL;
}

int mds_auth_export(const char *dir, const char *path, char *err,
		    size_t errlen)
{
	struct db_opts dbo = { 0, 0, 0 };
	struct keyring_entry e[2];
	struct keyrec r;
	struct mds_db db;
	MDB_txn *txn;
	size_t n = 0;
	int rc;

	memset(e, 0, sizeof(e));
	rc = db_open(&db, dir, &dbo, err, errlen);
	if (rc)
		return rc;
	rc = db_begin(&db, NULL, 1, &txn);
	if (rc == 0) {
		rc = secret_get(&db, txn, e[0].key);
		if (rc == -ENOENT)
			snprintf(err, errlen, "%s holds a cluster without keys "
				 "(created with --no-auth)", dir);
		if (rc == 0) {
			snprintf(e[0].name, sizeof(e[0].name), "%s",
				 KEYRING_DAEMON);
			n = 1;
			if (key_get(&db, txn, MDS_ADMIN_ENTITY, &r) == 0) {
				snprintf(e[1].name, sizeof(e[1].name), "%s",
					 MDS_ADMIN_ENTITY);
				memcpy(e[1].key, r.key, AUTH_KEY_LEN);
				snprintf(e[1].caps, sizeof(e[1].caps), "%s",
					 r.caps);
				n = 2;
			}
		}
		mdb_txn_abort(txn);
	}
	db_close(&db);
	if (rc == 0)
		rc = keyring_write(path, e, n, err, errlen);
	else if (!err[0])
		snprintf(err, errlen, "cannot read the keys in %s: %s", dir,
			 strerror(-rc));
	sodium_memzero(e, sizeof(e));
	sodium_memzero(&r, sizeof(r));
	return rc;
}

/* ---- replies ----------------------------------------------------------*/

static void ar_begin(struct mds_msg *msg, int32_t status)
{
	msg->reply.len = 0;
	msg->reply.err = 0;
	wire_msg_begin(&msg->reply, msg->hdr.type, WIRE_F_REPLY,
		       msg->hdr.req_id, 0, status);
}

static int ar_fail(struct mds_msg *msg, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ar_fail(struct mds_msg *msg, int rc, const char *fmt, ...)
{
	char text[STORE_ERRMSG_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ar_begin(msg, rc);
	wire_enc_error(&msg->reply, text);
	return rc;
}

/* ---- the gate ---------------------------------------------------------*/

int mds_auth_is_auth_type(unsigned type)
{
	return type == WIRE_AUTH_HELLO || type == WIRE_AUTH_PROVE ||
	       type == WIRE_AUTH_ADMIN;
}

static const char *who(const struct mds_msg *msg)
{
	return msg->auth ? msg->auth->entity : "an unauthenticated client";
}

int mds_auth_gate(struct mds *m, const struct mds_msg *msg, char *err,
		  size_t errlen)
{
	unsigned type = msg->hdr.type;
	uint8_t caps;

	if (!mds_auth_on(m)) {
		if (mds_auth_is_auth_type(type)) {
			snprintf(err, errlen, "this cluster runs without keys "
				 "(created with store-mds --init --no-auth): "
				 "remove 'keyring' from the client's "
				 "configuration");
			return -EOPNOTSUPP;
		}
		return 0;
	}
	if (!msg->auth) {
		if (type == WIRE_AUTH_HELLO || type == WIRE_AUTH_PROVE ||
		    type == WIRE_PING)
			return 0;
		snprintf(err, errlen, "%s refused: this cluster requires "
			 "authentication", wire_type_name(type));
		return -EACCES;
	}
	caps = msg->auth->caps;
	if (caps & AUTH_CAP_DAEMON)
		return 0;
	if (wire_is_ns(type) || type == WIRE_STATUS || type == WIRE_MAP_GET ||
	    type == WIRE_PING || type == WIRE_AUTH_HELLO ||
	    type == WIRE_AUTH_PROVE)
		return 0; /* namespace caps: mds_auth_ns_before */
	if (type == WIRE_OSD_CMD || type == WIRE_AUTH_ADMIN) {
		if (caps & AUTH_CAP_ADMIN)
			return 0;
		snprintf(err, errlen, "permission denied: %s is not an "
			 "administrator (its caps lack 'admin'); %s refused",
			 who(msg), type == WIRE_OSD_CMD ? "the OSD command was" :
			 "key management is");
		return -EACCES;
	}
	snprintf(err, errlen, "permission denied: %s is not a daemon; %s "
		 "refused", who(msg), wire_type_name(type));
	return -EACCES;
}

/* ---- the handshake ----------------------------------------------------*/

static uint8_t pick_suite(const struct mds_auth *a, uint8_t suites)
{
	if (suites & AUTH_SUITES_BIT(a->suite))
		return a->suite;
	if (suites & AUTH_SUITES_BIT(AUTH_SUITE_XCHACHA20))
		return AUTH_SUITE_XCHACHA20;
	return 0;
}

static int exec_hello(struct mds *m, struct mds_msg *msg)
{
	struct wire_auth_hello h;
	struct wire_auth_challenge c;

	if (wire_dec_auth_hello(wire_payload(msg->frame), msg->hdr.payload_len,
				&h))
		return ar_fail(msg, -EBADMSG, "malformed AUTH_HELLO "
				  "request");
	if (!pick_suite(m->auth, h.suites))
		return ar_fail(msg, -EPROTONOSUPPORT, "%s runs none of the "
				  "ciphers this cluster uses", h.entity);
	auth_hs_challenge(m->auth->ckey, h.entity, h.nonce, auth_wall_ms(),
			  c.challenge);
	ar_begin(msg, 0);
	wire_enc_auth_challenge(&msg->reply, &c);
	return 0;
}

/* Refuse an authentication, logging it (rate-limited) for the operator. */
static int refuse_auth(struct mds *m, struct mds_msg *msg, const char *entity,
		       const char *why)
{
	log_ratelimited(&m->auth->fail_log, LOG_WARN, "refused to "
			"authenticate %s: %s", entity, why);
	return ar_fail(msg, -EACCES, "authentication of %s failed: %s",
			  entity, why);
}

static int exec_prove(struct mds *m, MDB_txn *txn, struct mds_msg *msg)
{
	struct mds_auth *a = m->auth;
	struct wire_auth_granted *g = NULL;
	struct wire_auth_prove p;
	uint8_t proof[AUTH_PROOF_LEN], wrap[AUTH_KEY_LEN];
	struct auth_caps *caps = NULL;
	struct auth_ticket t;
	struct keyrec r;
	char label[16 + STORE_ENTITY_MAX];
	uint64_t root = DB_ROOT_INO;
	int64_t now = auth_wall_ms();
	int rc, n;

	memset(&t, 0, sizeof(t));
	memset(&r, 0, sizeof(r));
	if (wire_dec_auth_prove(wire_payload(msg->frame), msg->hdr.payload_len,
				&p))
		return ar_fail(msg, -EBADMSG, "malformed AUTH_PROVE "
				  "request");
	rc = auth_hs_challenge_check(a->ckey, p.entity, p.nonce, p.challenge,
				     now);
	if (rc)
		return refuse_auth(m, msg, p.entity, rc == -ETIMEDOUT ?
				   "the challenge expired (retry)" :
				   "the challenge was not this MDS's (did it "
				   "restart? retry)");
	rc = key_get(&m->db, txn, p.entity, &r);
	if (rc == 0) {
		auth_hs_proof(r.key, p.entity, p.nonce, p.challenge, proof);
		if (crypto_verify_32(proof, p.proof))
			rc = -EACCES;
	}
	if (rc) {
		sodium_memzero(&r, sizeof(r));
		return refuse_auth(m, msg, p.entity, "unknown entity or wrong "
				   "key; check 'name' and 'keyring' in the "
				   "configuration");
	}
	caps = malloc(sizeof(*caps));
	g = calloc(1, sizeof(*g));
	if (!caps || !g) {
		rc = ar_fail(msg, -ENOMEM, "the MDS is out of memory");
		goto out;
	}
	{
		char cerr[256];

		if (auth_caps_parse(r.caps, caps, cerr, sizeof(cerr))) {
			rc = ar_fail(msg, -EACCES, "the caps of %s do not "
					"parse (%s); fix them with storectl "
					"auth caps", p.entity, cerr);
			goto out;
		}
	}
	if (caps->path[0]) {
		rc = parents_resolve(&m->db, txn, caps->path, &root);
		if (rc) {
			rc = ar_fail(msg, -ENOENT, "the caps of %s limit it "
					"to %s, which %s", p.entity, caps->path,
					rc == -ENOTDIR ? "is not a directory" :
					"does not exist");
			goto out;
		}
	}
	t.suite = pick_suite(a, p.suites);
	if (!t.suite) {
		rc = ar_fail(msg, -EPROTONOSUPPORT, "%s runs none of the "
				"ciphers this cluster uses", p.entity);
		goto out;
	}
	t.flags = a->secure ? AUTH_T_SECURE : 0;
	t.caps = caps->bits;
	randombytes_buf(&t.id, sizeof(t.id));
	t.issued_ms = now;
	t.expires_ms = now + a->ttl_ms;
	t.root = root;
	randombytes_buf(t.key, AUTH_KEY_LEN);
	snprintf(t.entity, sizeof(t.entity), "%s", p.entity);
	n = auth_ticket_seal(a->tkey, &t, g->ticket);
	if (n < 0) {
		rc = ar_fail(msg, -EIO, "cannot seal a ticket for %s",
				p.entity);
		goto out;
	}
	g->ticket_len = (uint8_t)n;
	g->suite = t.suite;
	g->flags = t.flags;
	g->caps = t.caps;
	g->restricted = root != DB_ROOT_INO;
	g->expires_ms = t.expires_ms;
	g->ttl_ms = a->ttl_ms;
	snprintf(g->caps_text, sizeof(g->caps_text), "%s", r.caps);
	auth_hs_wrap_key(r.key, p.entity, p.nonce, p.challenge, wrap);
	snprintf(label, sizeof(label), "session:%s", p.entity);
	auth_seal_key(wrap, label, t.key, g->sealed_key);
	ar_begin(msg, 0);
	wire_enc_auth_granted(&msg->reply, g);
	log_debug("authenticated %s (caps '%s', ticket %016" PRIx64 ")",
		  p.entity, r.caps, t.id);
	rc = 0;
out:
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(&r, sizeof(r));
	sodium_memzero(wrap, sizeof(wrap));
	free(caps);
	if (g)
		sodium_memzero(g, sizeof(*g));
	free(g);
	return rc;
}

/* ---- key management ---------------------------------------------------*/

int mds_auth_is_write(const struct mds_msg *msg)
{
	const uint8_t *p = wire_payload(msg->frame);

	if (msg->hdr.type != WIRE_AUTH_ADMIN || msg->hdr.payload_len < 1)
		return 0;
	return p[0] == WIRE_AUTH_ADD || p[0] == WIRE_AUTH_RM ||
	       p[0] == WIRE_AUTH_CAPS;
}

/* A key in a reply, sealed under the requester's session key. */
static void seal_for(const struct mds_msg *msg, const char *name,
		     const uint8_t key[AUTH_KEY_LEN],
		     uint8_t out[AUTH_SEALED_KEY_LEN])
{
	char label[16 + STORE_ENTITY_MAX];

	snprintf(label, sizeof(label), "key:%s", name);
	auth_seal_key(msg->auth->key, label, key, out);
}

static int exec_ls(struct mds *m, MDB_txn *txn, struct mds_msg *msg)
{
	struct wire_auth_admin_reply rep;
	struct keyrec *r = malloc(sizeof(*r));
	char name[STORE_ENTITY_MAX + 1];
	MDB_cursor *c;
	MDB_val k, v;
	struct wbuf list;
	int rc;

	if (!r)
		return ar_fail(msg, -ENOMEM, "the MDS is out of memory");
	memset(&rep, 0, sizeof(rep));
	rep.op = WIRE_AUTH_LS;
	wbuf_init(&list);
	rc = db_err(mdb_cursor_open(txn, m->db.auth, &c));
	if (rc == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		while (rc == 0 && rep.count < AUTH_LIST_MAX) {
			if (k.mv_size <= STORE_ENTITY_MAX &&
			    key_dec(v.mv_data, v.mv_size, r) == 0) {
				memcpy(name, k.mv_data, k.mv_size);
				name[k.mv_size] = '\0';
				wire_enc_auth_entry(&list, name, r->caps);
				rep.count++;
			}
			rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
		}
		mdb_cursor_close(c);
		rc = rc == MDB_NOTFOUND || rc == 0 ? 0 : db_err(rc);
	}
	sodium_memzero(r, sizeof(*r));
	free(r);
	if (rc || list.err) {
		wbuf_free(&list);
		return ar_fail(msg, rc ? rc : list.err, "the MDS could not "
				  "list the keys: %s",
				  strerror(-(rc ? rc : list.err)));
	}
	rbuf_init(&rep.entries, list.p, list.len);
	ar_begin(msg, 0);
	wire_enc_auth_admin_reply(&msg->reply, &rep);
	wbuf_free(&list);
	return 0;
}

static int exec_admin(struct mds *m, MDB_txn *txn, struct mds_msg *msg)
{
	struct wire_auth_admin *q = malloc(sizeof(*q));
	struct wire_auth_admin_reply *rep = calloc(1, sizeof(*rep));
	struct auth_caps *caps = malloc(sizeof(*caps));
	struct keyrec *r = calloc(1, sizeof(*r));
	char cerr[256];
	int rc;

	if (!q || !rep || !caps || !r) {
		rc = ar_fail(msg, -ENOMEM, "the MDS is out of memory");
		goto out;
	}
	if (wire_dec_auth_admin(wire_payload(msg->frame), msg->hdr.payload_len,
				q)) {
		rc = ar_fail(msg, -EBADMSG, "malformed AUTH_ADMIN request");
		goto out;
	}
	if (q->op == WIRE_AUTH_LS) {
		rc = exec_ls(m, txn, msg);
		goto out;
	}
	if (!strcmp(q->name, KEYRING_DAEMON)) {
		rc = ar_fail(msg, -EPERM, "'%s' names the daemons' secret, "
				"not a client key", q->name);
		goto out;
	}
	if ((q->op == WIRE_AUTH_ADD || q->op == WIRE_AUTH_CAPS) &&
	    auth_caps_parse(q->caps, caps, cerr, sizeof(cerr))) {
		rc = ar_fail(msg, -EINVAL, "%s", cerr);
		goto out;
	}
	rep->op = q->op;
	snprintf(rep->name, sizeof(rep->name), "%s", q->name);
	switch (q->op) {
	case WIRE_AUTH_ADD:
		randombytes_buf(r->key, AUTH_KEY_LEN);
		snprintf(r->caps, sizeof(r->caps), "%s", q->caps);
		r->created_ns = (int64_t)wall_ns();
		rc = key_put(&m->db, txn, q->name, r, MDB_NOOVERWRITE);
		if (rc == -EEXIST) {
			rc = ar_fail(msg, rc, "%s already exists (storectl "
					"auth get %s prints its keyring; auth "
					"caps changes its caps)", q->name,
					q->name);
			goto out;
		}
		break;
	case WIRE_AUTH_GET:
	case WIRE_AUTH_CAPS:
	case WIRE_AUTH_RM:
		rc = key_get(&m->db, txn, q->name, r);
		if (rc == -ENOENT) {
			rc = ar_fail(msg, rc, "no such entity: %s (storectl "
					"auth ls lists them)", q->name);
			goto out;
		}
		if (rc == 0 && q->op == WIRE_AUTH_CAPS) {
			snprintf(r->caps, sizeof(r->caps), "%s", q->caps);
			rc = key_put(&m->db, txn, q->name, r, 0);
		}
		if (rc == 0 && q->op == WIRE_AUTH_RM) {
			MDB_val k = { strlen(q->name), q->name };

			rc = db_err(mdb_del(txn, m->db.auth, &k, NULL));
		}
		break;
	default:
		rc = -EINVAL;
	}
	if (rc) {
		rc = ar_fail(msg, rc, "key management failed for %s: %s",
				q->name, strerror(-rc));
		goto out;
	}
	snprintf(rep->caps, sizeof(rep->caps), "%s", r->caps);
	if (q->op == WIRE_AUTH_ADD || q->op == WIRE_AUTH_GET)
		seal_for(msg, q->name, r->key, rep->sealed_key);
	if (q->op != WIRE_AUTH_GET)
		log_info("%s: auth %s %s%s%s", msg->auth->entity,
			 q->op == WIRE_AUTH_ADD ? "add" :
			 q->op == WIRE_AUTH_RM ? "rm" : "caps", q->name,
			 q->op == WIRE_AUTH_RM ? "" : " caps ",
			 q->op == WIRE_AUTH_RM ? "" : r->caps);
	ar_begin(msg, 0);
	wire_enc_auth_admin_reply(&msg->reply, rep);
out:
	if (r)
		sodium_memzero(r, sizeof(*r));
	if (rep)
		sodium_memzero(rep, sizeof(*rep));
	free(q);
	free(rep);
	free(caps);
	free(r);
	return rc;
}

int mds_auth_exec(struct mds *m, MDB_txn *txn, struct mds_msg *msg)
{
	switch (msg->hdr.type) {
	case WIRE_AUTH_HELLO:
		return exec_hello(m, msg);
	case WIRE_AUTH_PROVE:
		return exec_prove(m, txn, msg);
	case WIRE_AUTH_ADMIN:
		return exec_admin(m, txn, msg);
	}
	return ar_fail(msg, -EOPNOTSUPP, "not an authentication message");
}

/* ---- namespace caps ---------------------------------------------------*/

static int outside(struct mds *m, MDB_txn *txn, const struct mds_msg *msg,
		   uint64_t ino, char *err, size_t errlen)
{
	int rc = parents_inside(&m->db, txn, ino, msg->auth->root);

	if (rc == 1)
		return 0;
	if (rc == -ENOENT) {
		snprintf(err, errlen, "no such inode %llu",
			 (unsigned long long)ino);
		return rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "the MDS could not check the path of "
			 "inode %llu: %s", (unsigned long long)ino,
			 strerror(-rc));
		return rc;
	}
	log_ratelimited(&m->auth->fail_log, LOG_WARN, "refused %s %s on inode "
			"%llu: outside its path", msg->auth->entity,
			wire_type_name(msg->hdr.type),
			(unsigned long long)ino);
	snprintf(err, errlen, "permission denied: inode %llu is outside the "
		 "path %s's caps allow", (unsigned long long)ino,
		 msg->auth->entity);
	return -EACCES;
}

int mds_auth_ns_before(struct mds *m, MDB_txn *txn, struct mds_msg *msg,
		       char *err, size_t errlen)
{
	const struct auth_req *a = msg->auth;
	struct wire_ns_req *q = msg->ns;
	unsigned type = msg->hdr.type;
	int rc;

	if (!a || (a->caps & AUTH_CAP_DAEMON))
		return 0;
	if (type == WIRE_SESSION_OPEN) {
		/* The session is the ticket's entity's, whatever it says. */
		snprintf(q->name, sizeof(q->name), "%s", a->entity);
		return 0;
	}
	if (!(a->caps & AUTH_CAP_R)) {
		snprintf(err, errlen, "permission denied: %s has no access to "
			 "files (its caps lack r and rw); %s refused",
			 a->entity, wire_type_name(type));
		return -EACCES;
	}
	if (ns_is_write(type, q) && !(a->caps & AUTH_CAP_W)) {
		snprintf(err, errlen, "permission denied: %s may only read "
			 "(caps without rw); %s refused", a->entity,
			 wire_type_name(type));
		return -EROFS;
	}
	/* INO_RESERVE names no inode: numbers are no one's until used. */
	if (a->root == DB_ROOT_INO || type == WIRE_STATFS ||
	    type == WIRE_INO_RESERVE)
		return 0;
	/* The directory of a path-limited key is its inode 1. */
	if (q->ino == DB_ROOT_INO)
		q->ino = a->root;
	if ((type == WIRE_RENAME || type == WIRE_LINK) &&
	    q->ino2 == DB_ROOT_INO)
		q->ino2 = a->root;
	rc = outside(m, txn, msg, q->ino, err, errlen);
	if (rc == 0 && (type == WIRE_RENAME || type == WIRE_LINK))
		rc = outside(m, txn, msg, q->ino2, err, errlen);
	return rc;
}

void mds_auth_ns_after(struct mds *m, MDB_txn *txn, struct mds_msg *msg,
		       struct wire_ns_reply *r)
{
	struct auth_req *a = msg->auth;
	unsigned type = msg->hdr.type;
	struct auth_fcap f;
	uint64_t file = 0;

	if (!a || (a->caps & AUTH_CAP_DAEMON) || a->root == DB_ROOT_INO)
		return;
	if (type == WIRE_SESSION_OPEN) {
		struct db_inode in;

		if (db_inode_get(&m->db, txn, a->root, &in) == 0)
			r->attr = in.a;
	}
	switch (type) {
	case WIRE_OPEN:
	case WIRE_CREATE:
	case WIRE_CREATE_AT:
	case WIRE_LOOKUP:
	case WIRE_GETATTR:
	case WIRE_SETATTR:
	case WIRE_COMMIT:
		if (S_ISREG(r->attr.mode))
			file = r->attr.ino;
		break;
	case WIRE_OBJMAP:
		file = msg->ns->ino;
		break;
	}
	if (r->attr.ino == a->root)
		r->attr.ino = DB_ROOT_INO;
	if (type == WIRE_SESSION_OPEN)
		r->root_ino = DB_ROOT_INO;
	if (!file)
		return;
	f.access = a->caps & (AUTH_CAP_R | AUTH_CAP_W);
	f.ino = file;
	f.expires_ms = a->expires_ms;
	auth_fcap_make(m->auth->fkey, a->entity, &f, a->reply_fcap);
	a->reply_has_fcap = 1;
}

uint64_t mds_auth_cache_id(const struct mds *m, const struct mds_msg *msg)
{
	uint8_t tag[8];

	if (!msg->auth || !mds_auth_on(m))
		return msg->hdr.req_id;
	crypto_generichash(tag, sizeof(tag), (const uint8_t *)msg->auth->entity,
			   strlen(msg->auth->entity), m->auth->tagkey,
			   sizeof(m->auth->tagkey));
	/* Keep the session bits: the cache only keeps session-scoped ids. */
	return msg->hdr.req_id ^ (get_le64(tag) & 0xffffffffull);
}
