/*
 * auth_cred.c -- the signing side: a credential (ticket + session key) that
 * every thread of a client or daemon signs its requests with.  See auth.h.
 */
#include "auth.h"
#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct auth_cred {
	pthread_mutex_t mu;
	int daemon;                /* mints its own tickets */
	uint8_t tkey[AUTH_KEY_LEN]; /* daemons: the ticket key */
	int64_t ttl_ms;
	int secure;
	int dirty;                 /* daemons: re-mint before the next use */
	int have;
	struct auth_ticket t;
	uint8_t sealed[AUTH_TICKET_MAX];
	uint8_t sealed_len;
	uint64_t seq;
	struct auth_nonce nonce;
};

static struct auth_cred *cred_new(void)
{
	struct auth_cred *c;

	if (auth_init())
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_init(&c->mu, NULL);
	auth_nonce_init(&c->nonce);
	/* Sequence numbers start from the clock: a restarted sender is past
	 * everything its previous life sent under a ticket it may reuse. */
	c->seq = (uint64_t)auth_wall_ms() << 20;
	return c;
}

int auth_cred_client(struct auth_cred **out)
{
	*out = cred_new();
	return *out ? 0 : -ENOMEM;
}

int auth_cred_daemon(const uint8_t secret[AUTH_KEY_LEN], const char *entity,
		     int64_t ttl_ms, struct auth_cred **out)
{
	struct auth_cred *c;

	*out = NULL;
	if (!entity[0] || strlen(entity) > STORE_ENTITY_MAX || ttl_ms <= 0)
		return -EINVAL;
	c = cred_new();
	if (!c)
		return -ENOMEM;
	c->daemon = 1;
	c->dirty = 1;
	c->ttl_ms = ttl_ms;
	auth_derive(secret, AUTH_SUB_TICKET, c->tkey);
	snprintf(c->t.entity, sizeof(c->t.entity), "%s", entity);
	*out = c;
	return 0;
}

/* Daemons: a fresh ticket and session key.  Called with mu held. */
static int mint(struct auth_cred *c, int64_t now)
{
	int n;

	c->t.suite = auth_suite_default();
	c->t.flags = c->secure ? AUTH_T_SECURE : 0;
	c->t.caps = AUTH_CAP_DAEMON | AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W;
	randombytes_buf(&c->t.id, sizeof(c->t.id));
	c->t.issued_ms = now;
	c->t.expires_ms = now + c->ttl_ms;
	c->t.root = 1;
	randombytes_buf(c->t.key, AUTH_KEY_LEN);
	n = auth_ticket_seal(c->tkey, &c->t, c->sealed);
	if (n < 0)
		return n;
	c->sealed_len = (uint8_t)n;
	c->have = 1;
	c->dirty = 0;
	return 0;
}

void auth_cred_install(struct auth_cred *c, const uint8_t *sealed,
		       size_t len, const struct auth_ticket *t)
{
	if (len > AUTH_TICKET_MAX)
		return;
	pthread_mutex_lock(&c->mu);
	c->t = *t;
	memcpy(c->sealed, sealed, len);
	c->sealed_len = (uint8_t)len;
	c->secure = !!(t->flags & AUTH_T_SECURE);
	c->have = 1;
	pthread_mutex_unlock(&c->mu);
}

void auth_cred_set_secure(struct auth_cred *c, int secure)
{
	pthread_mutex_lock(&c->mu);
	if (c->daemon && c->secure != !!secure) {
		c->secure = !!secure;
		c->dirty = 1;
	}
	pthread_mutex_unlock(&c->mu);
}

void auth_cred_set_entity(struct auth_cred *c, const char *entity)
{
	pthread_mutex_lock(&c->mu);
	if (c->daemon && entity[0] && strlen(entity) <= STORE_ENTITY_MAX &&
	    strcmp(c->t.entity, entity)) {
		snprintf(c->t.entity, sizeof(c->t.entity), "%s", entity);
		c->dirty = 1;
	}
	pthread_mutex_unlock(&c->mu);
}

int auth_cred_take(struct auth_cred *c, struct auth_snap *s)
{
	int64_t now = auth_wall_ms();
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	/* Daemons re-mint with a quarter of the lifetime left, so a ticket
	 * never expires in flight. */
	if (c->daemon && (c->dirty || !c->have ||
			  c->t.expires_ms - now < c->ttl_ms / 4))
		rc = mint(c, now);
	if (rc == 0 && !c->have)
		rc = -ENOKEY;
	if (rc == 0) {
		s->suite = c->t.suite;
		s->secure = !!(c->t.flags & AUTH_T_SECURE);
		memcpy(s->key, c->t.key, AUTH_KEY_LEN);
		memcpy(s->ticket, c->sealed, c->sealed_len);
		s->ticket_len = c->sealed_len;
		s->seq = ++c->seq;
		s->expires_ms = c->t.expires_ms;
		auth_nonce_next(&c->nonce, s->nonce);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

int64_t auth_cred_expires(struct auth_cred *c)
{
	int64_t e;

	pthread_mutex_lock(&c->mu);
	e = c->have ? c->t.expires_ms : 0;
	pthread_mutex_unlock(&c->mu);
	return e;
}

int auth_cred_secure(struct auth_cred *c)
{
	int s;

	pthread_mutex_lock(&c->mu);
	s = c->secure;
	pthread_mutex_unlock(&c->mu);
	return s;
}

void auth_cred_free(struct auth_cred *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->mu);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

size_t auth_req_room(const struct auth_snap *s, int with_fcap)
{
	return AUTH_REQ_FIXED + s->ticket_len +
	       (with_fcap ? AUTH_FCAP_LEN : 0) + AUTH_TAG_LEN;
}

ssize_t auth_sign_request(uint8_t *buf, size_t len, const struct auth_snap *s,
			  uint32_t dest, const uint8_t *fcap)
{
	struct auth_out o;

	memset(&o, 0, sizeof(o));
	o.kind = AUTH_K_REQ;
	o.suite = s->suite;
	o.seal = s->secure;
	o.dest = dest;
	o.seq = s->seq;
	o.time_ms = auth_wall_ms();
	memcpy(o.nonce, s->nonce, AUTH_NONCE_LEN);
	o.key = s->key;
	o.ticket = s->ticket;
	o.ticket_len = s->ticket_len;
	o.fcap = fcap;
	return auth_frame_sign(buf, len, &o);
}
