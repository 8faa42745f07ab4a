/*
 * osd_auth.c -- keys and permissions at an OSD: see osd_auth.h.
 */
#include "osd_auth.h"
#include "auth_server.h"
#include "keyring.h"
#include "log.h"
#include "wire_osd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lifetime of the OSD's own tickets: re-minted at three quarters. */
#define OSD_TICKET_TTL_MS (3600 * 1000)
/* wire_rec.h's SCRUB: an operator's command. */
#define OSD_WIRE_SCRUB 5

struct osd_auth {
	uint8_t secret[AUTH_KEY_LEN];
	struct auth_server *srv;
	struct auth_cred *cred;
	struct log_limit deny_log;
};

int osd_auth_open(const char *keyring, struct osd_auth **out, char *err,
		  size_t errlen)
{
	const struct keyring_entry *e;
	struct osd_auth *a;
	struct keyring kr;
	int rc;

	*out = NULL;
	if (auth_init()) {
		snprintf(err, errlen, "libsodium failed to initialise");
		return -EIO;
	}
	rc = keyring_load(keyring, &kr, err, errlen);
	if (rc)
		return rc;
	e = keyring_find(&kr, KEYRING_DAEMON);
	if (!e) {
		snprintf(err, errlen, "the keyring %s holds no [%s] section "
			 "(the cluster's daemon secret: vcluster writes it to "
			 "daemon.keyring)", keyring, KEYRING_DAEMON);
		keyring_free(&kr);
		return -ENOKEY;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		keyring_free(&kr);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(a->secret, e->key, AUTH_KEY_LEN);
	keyring_free(&kr);
	rc = auth_cred_daemon(a->secret, "osd", OSD_TICKET_TTL_MS, &a->cred);
	if (rc) {
		snprintf(err, errlen, "cannot set up the OSD's credential: %s",
			 strerror(-rc));
		osd_auth_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

int osd_auth_attach(struct osd_auth *a, struct net_server *srv, uint32_t id)
{
	int rc;

	if (!a->srv) {
		rc = auth_server_create(a->secret, AUTH_DEST_ANY, "osd.?",
					&a->srv);
		if (rc)
			return rc;
		auth_server_allow(a->srv, WIRE_PING);
	}
	osd_auth_set_id(a, id);
	net_server_set_auth(srv, a->srv);
	rpc_engine_default_cred(a->cred);
	return 0;
}

struct auth_cred *osd_auth_cred(struct osd_auth *a)
{
	return a ? a->cred : NULL;
}

void osd_auth_set_id(struct osd_auth *a, uint32_t id)
{
	char name[32];

	if (!a || !a->srv || id == UINT32_MAX)
		return;
	snprintf(name, sizeof(name), "osd.%" PRIu32, id);
	auth_server_set_self(a->srv, AUTH_DEST_OSD(id), name);
	auth_cred_set_entity(a->cred, name);
}

void osd_auth_saw_reply(struct osd_auth *a, const struct rpc_call *c)
{
	struct auth_in in;
	struct wire_hdr h;

	if (!a || c->status || !c->reply || !(c->rhdr.flags & WIRE_F_AUTH))
		return;
	h = c->rhdr;
	if (auth_trailer_parse(c->reply, c->reply_len, &h, &in) == 0)
		auth_cred_set_secure(a->cred, !!(in.flags & AUTH_TF_SECURE));
}

/* The shard a request names (0), or -EBADMSG. */
static int shard_of(const struct net_req *req, struct wire_shard_id *id)
{
	const uint8_t *p = wire_payload(req->msg);
	size_t len = req->hdr.payload_len;
	union {
		struct wire_shard_put put;
		struct wire_shard_get get;
		struct wire_shard_delete del;
	} u;

	switch (req->hdr.type) {
	case WIRE_SHARD_PUT:
		if (wire_dec_shard_put(p, len, &u.put))
			return -EBADMSG;
		*id = u.put.id;
		return 0;
	case WIRE_SHARD_GET:
		if (wire_dec_shard_get(p, len, &u.get))
			return -EBADMSG;
		*id = u.get.id;
		return 0;
	case WIRE_SHARD_DELETE:
		if (wire_dec_shard_delete(p, len, &u.del))
			return -EBADMSG;
		*id = u.del.id;
		return 0;
	}
	return -EBADMSG;
}

static int deny(struct osd_auth *a, const struct net_req *req,
		const char *osd_name, char *why, size_t whylen,
		const char *what)
{
	log_ratelimited(&a->deny_log, LOG_WARN,
			"%s: refused %s from %s: %s", osd_name,
			wire_type_name(req->hdr.type), req->auth->entity, what);
	snprintf(why, whylen, "permission denied: %s refused %s from %s: %s",
		 osd_name, wire_type_name(req->hdr.type), req->auth->entity,
		 what);
	return -EACCES;
}

int osd_auth_allowed(struct osd_auth *a, const struct net_req *req,
		     const char *osd_name, char *why, size_t whylen)
{
	const struct auth_req *ar = req->auth;
	struct wire_shard_id id;
	unsigned type = req->hdr.type;
	int write;

	if (!a || !ar || (ar->caps & AUTH_CAP_DAEMON))
		return 0;
	switch (type) {
	case WIRE_PING:
		return 0;
	case OSD_WIRE_SCRUB:
		if (ar->caps & AUTH_CAP_ADMIN)
			return 0;
		return deny(a, req, osd_name, why, whylen,
			    "scrubbing needs admin caps");
	case WIRE_SHARD_LIST:
		if ((ar->caps & AUTH_CAP_R) && ar->root == 1)
			return 0;
		return deny(a, req, osd_name, why, whylen,
			    "listing shards needs read caps over the whole "
			    "namespace");
	case WIRE_SHARD_GET:
	case WIRE_SHARD_PUT:
	case WIRE_SHARD_DELETE:
		break;
	default:
		return deny(a, req, osd_name, why, whylen, "only daemons send "
			    "this");
	}
	write = type != WIRE_SHARD_GET;
	if (!(ar->caps & AUTH_CAP_R) || (write && !(ar->caps & AUTH_CAP_W)))
		return deny(a, req, osd_name, why, whylen, write ?
			    "its caps do not allow writing" :
			    "its caps do not allow reading");
	if (ar->root == 1)
		return 0;
	/* A path-limited client: only the files the MDS vouched for. */
	if (shard_of(req, &id))
		return 0;
	if (!ar->has_fcap || ar->fcap.ino != id.ino)
		return deny(a, req, osd_name, why, whylen, "no valid file "
			    "capability for this inode (path-limited keys "
			    "reach only the files the MDS hands them)");
	if (ar->fcap.expires_ms < auth_wall_ms())
		return deny(a, req, osd_name, why, whylen, "its file "
			    "capability expired");
	if (write && !(ar->fcap.access & AUTH_CAP_W))
		return deny(a, req, osd_name, why, whylen, "its file "
			    "capability is read-only");
	return 0;
}

void osd_auth_free(struct osd_auth *a)
{
	if (!a)
		return;
	rpc_engine_default_cred(NULL);
	auth_server_free(a->srv);
	auth_cred_free(a->cred);
	sodium_memzero(a, sizeof(*a));
	free(a);
}
