/*
 * client_auth.c -- libstore's authentication: the keyring, the handshake
 * with the MDS (wire_auth.h), ticket renewal, the file caps of a
 * path-limited key, and key management.  See client_auth.h.
 */
#include "client_auth.h"
#include "client_priv.h"
#include "keyring.h"
#include "log.h"
#include "util.h"
#include "wire_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* File caps remembered (by inode, direct-mapped): the files a client has
 * open at once, with room. */
#define FCAP_SLOTS 1024
/* A file cap this close to its expiry is fetched again. */
#define FCAP_MARGIN_MS 5000
/* One attempt of a handshake step. */
#define AUTH_ATTEMPT_MS 3000

struct fcap_slot {
	uint64_t ino;
	int64_t expires_ms;
	uint8_t access;
	uint8_t cap[AUTH_FCAP_LEN];
};

struct client_auth {
	int has_key;
	uint8_t key[AUTH_KEY_LEN];
	char keyring[STORE_PATH_MAX + 1];
	char hint[STORE_PATH_MAX + 128];
	struct auth_cred *cred;
	pthread_mutex_t mu;       /* one login at a time */
	int64_t expires_ms;       /* atomic: of the current ticket */
	int64_t ttl_ms;
	uint8_t restricted;       /* path-limited: shard requests need caps */
	uint8_t may_write;        /* the ticket's caps hold w */
	uint8_t secure;
	char caps[AUTH_CAPS_MAX + 1];
	pthread_mutex_t fcap_mu;
	struct fcap_slot *fcaps;  /* FCAP_SLOTS */
};

int client_auth_setup(struct store_client *c, const struct conf *conf)
{
	const char *path = conf_get(conf, "keyring");
	const struct keyring_entry *e;
	struct client_auth *a;
	struct keyring kr;
	char err[512];
	int rc;

	a = calloc(1, sizeof(*a));
	if (!a)
		return store_fail(-ENOMEM, "out of memory");
	pthread_mutex_init(&a->mu, NULL);
	pthread_mutex_init(&a->fcap_mu, NULL);
	c->auth = a;
	if (auth_init())
		return store_fail(-EIO, "libsodium failed to initialise");
	if (!path || !path[0])
		return 0;
	snprintf(a->keyring, sizeof(a->keyring), "%s", path);
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		/* No keyring: an open cluster, or a refusal to explain. */
		snprintf(a->hint, sizeof(a->hint), " (the keyring %s named in "
			 "the configuration does not exist)", path);
		return 0;
	}
	rc = keyring_load(path, &kr, err, sizeof(err));
	if (rc)
		return store_fail(rc, "%s", err);
	e = keyring_find(&kr, c->name);
	if (!e) {
		keyring_free(&kr);
		return store_fail(-ENOKEY, "the keyring %s holds no key for %s "
				  "(set 'name' in the configuration to the "
				  "entity of the keyring)", path, c->name);
	}
	memcpy(a->key, e->key, AUTH_KEY_LEN);
	a->has_key = 1;
	keyring_free(&kr);
	rc = auth_cred_client(&a->cred);
	if (rc)
		return store_fail(rc, "out of memory");
	return 0;
}

void client_auth_free(struct store_client *c)
{
	struct client_auth *a = c->auth;

	if (!a)
		return;
	auth_cred_free(a->cred);
	free(a->fcaps);
	pthread_mutex_destroy(&a->mu);
	pthread_mutex_destroy(&a->fcap_mu);
	sodium_memzero(a, sizeof(*a));
	free(a);
	c->auth = NULL;
}

struct auth_cred *client_auth_cred(struct store_client *c)
{
	return c->auth ? c->auth->cred : NULL;
}

const char *client_auth_hint(const struct store_client *c)
{
	return c->auth ? c->auth->hint : "";
}

const char *store_auth_entity(const struct store_client *c)
{
	return c->name;
}

const char *store_auth_caps_text(const struct store_client *c)
{
	return c->auth ? c->auth->caps : "";
}

int store_auth_writes_anywhere(const struct store_client *c)
{
	const struct client_auth *a = c->auth;

	/* Without a key the MDS checks nothing. */
	if (!a || !a->has_key)
		return 1;
	return a->may_write && !a->restricted;
}

int store_auth_secure(const struct store_client *c)
{
	return c->auth && c->auth->secure;
}

/* ---- the handshake ----------------------------------------------------*/

/* An unauthenticated call to the MDS, retried on lost connections until
 * the MDS timeout. */
static int plain_call(struct store_client *c, unsigned type,
		      const struct wbuf *payload, struct rpc_call *call)
{
	uint64_t deadline = now_ms() + c->mds_timeout_ms;
	char text[STORE_ERRMSG_MAX + 1];
	int rc;

	if (payload->err)
		return store_fail(payload->err, "cannot encode %s",
				  wire_type_name(type));
	for (;;) {
		uint64_t now = now_ms();

		memset(call, 0, sizeof(*call));
		rc = client_frame(call, type, 0, payload->p, payload->len);
		if (rc)
			return store_fail(rc, "out of memory");
		call->peer = c->mds;
		call->no_auth = 1;
		call->timeout_ms = (uint32_t)MIN(deadline > now ?
						 deadline - now : 1,
						 AUTH_ATTEMPT_MS);
		rc = rpc_call_wait(c->eng, call);
		if (rc == 0)
			break;
		if ((rc != -ETIMEDOUT && rc != -ENOTCONN) ||
		    now_ms() >= deadline)
			return store_fail(rc, "cannot reach the MDS at %s (%s); "
					  "is it running?", c->mds_addr,
					  rc == -ENOTCONN ? "no connection" :
							    "no answer");
	}
	if (call->rhdr.status) {
		rc = call->rhdr.status;
		client_reply_error(call, text, sizeof(text));
		rpc_call_release(call);
		return store_fail(rc, "%s", text);
	}
	return 0;
}

static uint8_t suites_here(void)
{
	return (uint8_t)(AUTH_SUITES_BIT(AUTH_SUITE_XCHACHA20) |
			 (auth_suite_ok(AUTH_SUITE_AES256GCM) ?
				  AUTH_SUITES_BIT(AUTH_SUITE_AES256GCM) : 0));
}

int client_auth_login(struct store_client *c)
{
	struct client_auth *a = c->auth;
	struct wire_auth_hello h;
	struct wire_auth_challenge ch;
	struct wire_auth_prove *p = NULL;
	struct wire_auth_granted *g = NULL;
	struct auth_ticket t;
	struct rpc_call call;
	uint8_t wrap[AUTH_KEY_LEN];
	char label[16 + STORE_ENTITY_MAX];
	struct wbuf w;
	int rc;

	if (!a || !a->has_key)
		return 0;
	memset(&h, 0, sizeof(h));
	memset(&t, 0, sizeof(t));
	snprintf(h.entity, sizeof(h.entity), "%s", c->name);
	randombytes_buf(h.nonce, sizeof(h.nonce));
	h.suites = suites_here();
	wbuf_init(&w);
	wire_enc_auth_hello(&w, &h);
	rc = plain_call(c, WIRE_AUTH_HELLO, &w, &call);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_auth_challenge(rpc_reply_payload(&call),
				     call.rhdr.payload_len, &ch);
	rpc_call_release(&call);
	if (rc)
		return store_fail(rc, "the MDS at %s sent a malformed "
				  "challenge", c->mds_addr);
	p = calloc(1, sizeof(*p));
	g = calloc(1, sizeof(*g));
	if (!p || !g) {
		rc = store_fail(-ENOMEM, "out of memory");
		goto out;
	}
	snprintf(p->entity, sizeof(p->entity), "%s", c->name);
	memcpy(p->nonce, h.nonce, sizeof(p->nonce));
	memcpy(p->challenge, ch.challenge, sizeof(p->challenge));
	auth_hs_proof(a->key, c->name, h.nonce, ch.challenge, p->proof);
	p->suites = h.suites;
	wbuf_init(&w);
	wire_enc_auth_prove(&w, p);
	rc = plain_call(c, WIRE_AUTH_PROVE, &w, &call);
	wbuf_free(&w);
	if (rc)
		goto out;
	rc = wire_dec_auth_granted(rpc_reply_payload(&call),
				   call.rhdr.payload_len, g);
	rpc_call_release(&call);
	if (rc) {
		rc = store_fail(rc, "the MDS at %s sent a malformed ticket",
				c->mds_addr);
		goto out;
	}
	auth_hs_wrap_key(a->key, c->name, h.nonce, ch.challenge, wrap);
	snprintf(label, sizeof(label), "session:%s", c->name);
	if (auth_open_key(wrap, label, g->sealed_key, t.key)) {
		/* Only the holder of our key could have sealed it: the
		 * answer is not the MDS's. */
		rc = store_fail(-EACCES, "the ticket from %s does not open "
				"with %s's key: not our MDS?", c->mds_addr,
				c->name);
		goto out;
	}
	if (!auth_suite_ok(g->suite)) {
		rc = store_fail(-EPROTONOSUPPORT, "the MDS chose %s, which "
				"this machine cannot run",
				auth_suite_name(g->suite));
		goto out;
	}
	t.suite = g->suite;
	t.flags = g->flags;
	t.caps = g->caps;
	t.expires_ms = g->expires_ms;
	t.root = 1;
	snprintf(t.entity, sizeof(t.entity), "%s", c->name);
	auth_cred_install(a->cred, g->ticket, g->ticket_len, &t);
	a->ttl_ms = g->ttl_ms;
	a->restricted = g->restricted;
	a->may_write = !!(g->caps & AUTH_CAP_W);
	a->secure = !!(g->flags & AUTH_T_SECURE);
	snprintf(a->caps, sizeof(a->caps), "%s", g->caps_text);
	if (a->restricted && !a->fcaps) {
		a->fcaps = calloc(FCAP_SLOTS, sizeof(*a->fcaps));
		if (!a->fcaps) {
			rc = store_fail(-ENOMEM, "out of memory");
			goto out;
		}
	}
	/* Renewal is judged by our clock, against the MDS's lifetime. */
	__atomic_store_n(&a->expires_ms, auth_wall_ms() + g->ttl_ms,
			 __ATOMIC_RELEASE);
	rpc_engine_set_cred(c->eng, a->cred);
	rc = 0;
out:
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(wrap, sizeof(wrap));
	if (p)
		sodium_memzero(p, sizeof(*p));
	if (g)
		sodium_memzero(g, sizeof(*g));
	free(p);
	free(g);
	return rc;
}

int client_auth_refresh(struct store_client *c, int force)
{
	struct client_auth *a = c->auth;
	int64_t exp;
	int rc = 0;

	if (!a || !a->has_key)
		return 0;
	exp = __atomic_load_n(&a->expires_ms, __ATOMIC_ACQUIRE);
	/* Renew with a third of the lifetime left: well before any daemon
	 * could see it expire, even with clocks a little apart. */
	if (!force && exp - auth_wall_ms() > a->ttl_ms / 3)
		return 0;
	pthread_mutex_lock(&a->mu);
	if (force || __atomic_load_n(&a->expires_ms, __ATOMIC_ACQUIRE) == exp)
		rc = client_auth_login(c);
	pthread_mutex_unlock(&a->mu);
	if (rc)
		log_warn("renewing the ticket of %s failed: %s", c->name,
			 store_last_error());
	return rc;
}

/* ---- file caps --------------------------------------------------------*/

void client_fcap_note(struct store_client *c, const struct rpc_call *call)
{
	struct client_auth *a = c->auth;
	struct fcap_slot *s;
	struct wire_hdr h = call->rhdr;
	struct auth_in in;
	uint64_t ino;

	if (!a || !a->restricted || !a->fcaps || !call->reply ||
	    !(h.flags & WIRE_F_AUTH) ||
	    auth_trailer_parse(call->reply, call->reply_len, &h, &in) ||
	    !in.fcap)
		return;
	/* The cap was checked with the reply's MAC; its meaning is the
	 * OSDs' to check. */
	ino = get_le64(in.fcap + 1);
	pthread_mutex_lock(&a->fcap_mu);
	s = &a->fcaps[ino % FCAP_SLOTS];
	s->ino = ino;
	s->access = in.fcap[0];
	s->expires_ms = (int64_t)get_le64(in.fcap + 9);
	memcpy(s->cap, in.fcap, AUTH_FCAP_LEN);
	pthread_mutex_unlock(&a->fcap_mu);
}

/* Copy a usable cap for ino into out: 1, or 0 if none is held. */
static int fcap_lookup(struct client_auth *a, uint64_t ino, int write,
		       uint8_t out[AUTH_FCAP_LEN])
{
	struct fcap_slot *s;
	int ok;
	/* Short tickets (tests) get a proportionally short margin. */
	int64_t margin = MIN(FCAP_MARGIN_MS, a->ttl_ms / 4);

	pthread_mutex_lock(&a->fcap_mu);
	s = &a->fcaps[ino % FCAP_SLOTS];
	ok = s->ino == ino && s->expires_ms - margin > auth_wall_ms() &&
	     (!write || (s->access & AUTH_CAP_W));
	if (ok)
		memcpy(out, s->cap, AUTH_FCAP_LEN);
	pthread_mutex_unlock(&a->fcap_mu);
	return ok;
}

int client_auth_shard(struct store_client *c, struct rpc_call *call,
		      uint32_t osd, uint64_t ino, int write)
{
	struct client_auth *a = c->auth;
	struct wire_attr attr;
	int rc;

	call->auth_dest = AUTH_DEST_OSD(osd);
	call->fcap_len = 0;
	if (!a || !a->has_key || !a->restricted)
		return 0;
	if (!fcap_lookup(a, ino, write, call->fcap)) {
		/* The MDS hands a cap with every reply about the file. */
		rc = store_getattr(c, ino, &attr);
		if (rc)
			return rc;
		if (!fcap_lookup(a, ino, write, call->fcap))
			return store_fail(write ? -EROFS : -EACCES,
					  "permission denied: the MDS gives "
					  "%s no %s capability for inode %llu",
					  c->name, write ? "write" : "read",
					  (unsigned long long)ino);
	}
	call->fcap_len = AUTH_FCAP_LEN;
	return 0;
}

/* ---- key management ---------------------------------------------------*/

static int admin_call(struct store_client *c, const struct wire_auth_admin *q,
		      struct wire_auth_admin_reply *rep, struct rpc_call *call)
{
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wire_enc_auth_admin(&w, q);
	rc = client_mds_call(c, WIRE_AUTH_ADMIN, &w, call,
			     q->name[0] ? q->name : NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_auth_admin_reply(rpc_reply_payload(call),
				       call->rhdr.payload_len, rep);
	if (rc || rep->op != q->op) {
		rpc_call_release(call);
		return store_fail(-EBADMSG, "malformed key management reply "
				  "from the MDS");
	}
	return 0;
}

static int open_reply_key(struct store_client *c, const struct rpc_call *call,
			  const struct wire_auth_admin_reply *rep,
			  const char *name, uint8_t key[AUTH_KEY_LEN])
{
	char label[16 + STORE_ENTITY_MAX];

	snprintf(label, sizeof(label), "key:%s", name);
	if (!call->auth_on ||
	    auth_open_key(call->auth_key, label, rep->sealed_key, key))
		return store_fail(-EACCES, "the key of %s in the MDS's reply "
				  "does not open with our session key", name);
	(void)c;
	return 0;
}

static struct wire_auth_admin *admin_req(uint8_t op, const char *name,
					 const char *caps)
{
	struct wire_auth_admin *q = calloc(1, sizeof(*q));

	if (!q) {
		store_fail(-ENOMEM, "out of memory");
		return NULL;
	}
	q->op = op;
	if (name)
		snprintf(q->name, sizeof(q->name), "%s", name);
	if (caps)
		snprintf(q->caps, sizeof(q->caps), "%s", caps);
	return q;
}

static int check_name(const char *name)
{
	if (!keyring_name_ok(name))
		return store_fail(-EINVAL, "'%s' is not an entity name (up to "
				  "%d letters, digits, '.', '_', '-', e.g. "
				  "client.alice)", name, STORE_ENTITY_MAX);
	return 0;
}

static int admin_key_op(struct store_client *c, uint8_t op, const char *name,
			const char *caps, uint8_t key[AUTH_KEY_LEN],
			char *caps_out)
{
	struct wire_auth_admin_reply *rep = malloc(sizeof(*rep));
	struct wire_auth_admin *q = admin_req(op, name, caps);
	struct rpc_call call;
	int rc = check_name(name);

	if (!rep || !q) {
		rc = store_fail(-ENOMEM, "out of memory");
		goto out;
	}
	if (rc)
		goto out;
	rc = admin_call(c, q, rep, &call);
	if (rc)
		goto out;
	if (key)
		rc = open_reply_key(c, &call, rep, name, key);
	if (caps_out)
		snprintf(caps_out, AUTH_CAPS_MAX + 1, "%s", rep->caps);
	rpc_call_release(&call);
out:
	if (rep)
		sodium_memzero(rep, sizeof(*rep));
	free(rep);
	free(q);
	return rc;
}

int store_auth_add(struct store_client *c, const char *name, const char *caps,
		   uint8_t key[AUTH_KEY_LEN])
{
	return admin_key_op(c, WIRE_AUTH_ADD, name, caps, key, NULL);
}

int store_auth_get(struct store_client *c, const char *name,
		   uint8_t key[AUTH_KEY_LEN], char caps[AUTH_CAPS_MAX + 1])
{
	return admin_key_op(c, WIRE_AUTH_GET, name, NULL, key, caps);
}

int store_auth_caps(struct store_client *c, const char *name,
		    const char *caps)
{
	return admin_key_op(c, WIRE_AUTH_CAPS, name, caps, NULL, NULL);
}

int store_auth_rm(struct store_client *c, const char *name)
{
	return admin_key_op(c, WIRE_AUTH_RM, name, NULL, NULL, NULL);
}

int store_auth_ls(struct store_client *c, store_auth_ls_fn fn, void *arg)
{
	struct wire_auth_admin_reply *rep = malloc(sizeof(*rep));
	struct wire_auth_admin *q = admin_req(WIRE_AUTH_LS, NULL, NULL);
	char name[STORE_ENTITY_MAX + 1], *caps = malloc(AUTH_CAPS_MAX + 1);
	struct rpc_call call;
	int rc;

	if (!rep || !q || !caps) {
		rc = store_fail(-ENOMEM, "out of memory");
		goto out;
	}
	rc = admin_call(c, q, rep, &call);
	if (rc)
		goto out;
	while (wire_next_auth_entry(&rep->entries, name, caps))
		if (fn(arg, name, caps))
			break;
	rpc_call_release(&call);
out:
	free(rep);
	free(q);
	free(caps);
	return rc;
}
