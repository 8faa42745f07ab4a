/*
 * auth_server.c -- checking requests and signing replies: see
 * auth_server.h.
 */
#include "auth_server.h"
#include "buf.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds from now to t, both in ms, without overflow: t comes off the
 * wire and may be anything (t - now can exceed int64_t's range). */
static int64_t clock_off_s(int64_t t, int64_t now)
{
	/* The unsigned difference of the larger and the smaller is exact. */
	if (t >= now)
		return (int64_t)(((uint64_t)t - (uint64_t)now) / 1000);
	return -(int64_t)(((uint64_t)now - (uint64_t)t) / 1000);
}

/* Tickets whose windows are kept: far more clients than one daemon serves
 * at once; ~800 bytes each. */
#define TCACHE_CAP 4096
#define TCACHE_BUCKETS 1024
/* Clocks may differ this much (tickets, trailers); NTP keeps real hosts
 * within milliseconds. */
#define SKEW_DEFAULT_MS 5000
/* A request older or newer than this by its sender's clock is refused
 * whatever its window says: nothing legitimate waits five minutes. */
#define HORIZON_MS (300 * 1000)

struct tent {
	int used;
	uint8_t sealed[AUTH_TICKET_MAX];
	uint8_t len;
	struct auth_ticket t;
	struct auth_window win;
	int64_t last_time; /* highest sender clock accepted */
	uint64_t last_use; /* LRU tick */
	struct tent *next;
};

struct auth_server {
	uint8_t tkey[AUTH_KEY_LEN];
	uint8_t fkey[AUTH_KEY_LEN];
	uint32_t self;
	char name[STORE_ENTITY_MAX + 1];
	int secure;
	int64_t skew_ms;
	int64_t floor_ms;
	uint64_t tick;
	uint8_t allow[WIRE_TYPE_MAX];
	struct auth_nonce nonce;
	struct tent *ents; /* TCACHE_CAP */
	struct tent *buckets[TCACHE_BUCKETS];
	unsigned n_ents;
	struct auth_server_stats st;
	struct log_limit drop_log, refuse_log;
};

int auth_server_create(const uint8_t secret[AUTH_KEY_LEN], uint32_t self,
		       const char *name, struct auth_server **out)
{
	struct auth_server *s;

	*out = NULL;
	if (auth_init())
		return -EIO;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ents = calloc(TCACHE_CAP, sizeof(*s->ents));
	if (!s->ents) {
		free(s);
		return -ENOMEM;
	}
	auth_derive(secret, AUTH_SUB_TICKET, s->tkey);
	auth_derive(secret, AUTH_SUB_FCAP, s->fkey);
	s->skew_ms = SKEW_DEFAULT_MS;
	s->floor_ms = auth_wall_ms() - s->skew_ms;
	auth_nonce_init(&s->nonce);
	auth_server_set_self(s, self, name);
	*out = s;
	return 0;
}

void auth_server_free(struct auth_server *s)
{
	if (!s)
		return;
	sodium_memzero(s->ents, TCACHE_CAP * sizeof(*s->ents));
	free(s->ents);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

void auth_server_allow(struct auth_server *s, unsigned type)
{
	if (type < WIRE_TYPE_MAX)
		s->allow[type] = 1;
}

void auth_server_set_self(struct auth_server *s, uint32_t self,
			  const char *name)
{
	s->self = self;
	snprintf(s->name, sizeof(s->name), "%s", name ? name : "?");
}

void auth_server_set_secure(struct auth_server *s, int secure)
{
	s->secure = !!secure;
}

void auth_server_set_skew(struct auth_server *s, int64_t skew_ms)
{
	s->floor_ms += s->skew_ms - skew_ms;
	s->skew_ms = skew_ms;
}

const uint8_t *auth_server_fcap_key(const struct auth_server *s)
{
	return s->fkey;
}

void auth_server_stats(const struct auth_server *s,
		       struct auth_server_stats *st)
{
	*st = s->st;
}

/* ---- the ticket cache -------------------------------------------------*/

static unsigned bucket(const uint8_t *sealed, uint8_t len)
{
	/* The last bytes are the AEAD tag: uniformly random per ticket. */
	return get_le32(sealed + len - 4) % TCACHE_BUCKETS;
}

static struct tent *tcache_find(struct auth_server *s, const uint8_t *p,
				uint8_t len)
{
	struct tent *e;

	for (e = s->buckets[bucket(p, len)]; e; e = e->next)
		if (e->len == len && !memcmp(e->sealed, p, len))
			return e;
	return NULL;
}

static void tcache_unlink(struct auth_server *s, struct tent *e)
{
	struct tent **pp = &s->buckets[bucket(e->sealed, e->len)];

	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
}

/* A free slot, evicting the least recently used ticket if need be: its
 * window is forgotten, so the floor rises past its messages. */
static struct tent *tcache_slot(struct auth_server *s)
{
	struct tent *e = NULL;

	if (s->n_ents < TCACHE_CAP)
		return &s->ents[s->n_ents++];
	for (unsigned i = 0; i < TCACHE_CAP; i++)
		if (!e || s->ents[i].last_use < e->last_use)
			e = &s->ents[i];
	tcache_unlink(s, e);
	if (e->last_time > s->floor_ms)
		s->floor_ms = e->last_time;
	sodium_memzero(e, sizeof(*e));
	return e;
}

/* ---- checking ---------------------------------------------------------*/

static int drop(struct auth_server *s, uint64_t *counter,
		const struct wire_hdr *h, const char *who, char *why,
		size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static int drop(struct auth_server *s, uint64_t *counter,
		const struct wire_hdr *h, const char *who, char *why,
		size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	(*counter)++;
	log_ratelimited(&s->drop_log, LOG_WARN, "%s: dropped a %s request "
			"from %s: %s", s->name, wire_type_name(h->type), who,
			why);
	return AUTH_DROP;
}

static int window_seen(const struct auth_window *w, uint64_t seq)
{
	uint64_t b = seq % AUTH_WINDOW;

	if (seq == 0 || (seq <= w->max && w->max - seq >= AUTH_WINDOW))
		return -ESTALE;
	if (seq <= w->max && (w->bits[b / 64] & (1ull << (b % 64))))
		return -EALREADY;
	return 0;
}

int auth_server_check(struct auth_server *s, uint8_t *frame, size_t len,
		      const struct wire_hdr *h, struct auth_req **out,
		      int *status, char *why, size_t whylen)
{
	int64_t now = auth_wall_ms();
	struct auth_in in;
	struct auth_req *r;
	struct tent *e;
	int rc;

	*out = NULL;
	*status = 0;
	why[0] = '\0';
	if (!(h->flags & WIRE_F_AUTH)) {
		if (h->flags & WIRE_F_SEALED)
			return drop(s, &s->st.forged, h, "an unknown sender",
				    why, whylen, "an encrypted payload without "
				    "an authenticator");
		if (h->type < WIRE_TYPE_MAX && s->allow[h->type])
			return AUTH_OK;
		s->st.unauthenticated++;
		log_ratelimited(&s->refuse_log, LOG_WARN, "%s: refused an "
				"unauthenticated %s request (this cluster "
				"requires keys)", s->name,
				wire_type_name(h->type));
		*status = -EACCES;
		snprintf(why, whylen, "%s refused a %s request without "
			 "authentication: this cluster requires keys; set "
			 "'keyring = FILE' and 'name = ENTITY' in the "
			 "configuration (storectl auth get ENTITY writes such "
			 "a keyring)", s->name, wire_type_name(h->type));
		return AUTH_REFUSE;
	}
	if (auth_trailer_parse(frame, len, h, &in) || in.kind != AUTH_K_REQ)
		return drop(s, &s->st.forged, h, "an unknown sender", why,
			    whylen, "a malformed authenticator");
	e = tcache_find(s, in.ticket, in.ticket_len);
	if (!e) {
		struct auth_ticket t;

		if (in.ticket_len < 20 ||
		    auth_ticket_open(s->tkey, in.ticket, in.ticket_len, &t))
			return drop(s, &s->st.forged, h, "an unknown sender",
				    why, whylen, "its ticket does not open "
				    "with this cluster's key (forged, or "
				    "from another cluster)");
		e = tcache_slot(s);
		e->used = 1;
		memcpy(e->sealed, in.ticket, in.ticket_len);
		e->len = in.ticket_len;
		e->t = t;
		e->next = s->buckets[bucket(e->sealed, e->len)];
		s->buckets[bucket(e->sealed, e->len)] = e;
		sodium_memzero(&t, sizeof(t));
	}
	e->last_use = ++s->tick;
	if (!auth_suite_ok(e->t.suite))
		return drop(s, &s->st.forged, h, e->t.entity, why, whylen,
			    "its ticket uses %s, which this machine cannot "
			    "run (no AES-NI): set auth_cipher = xchacha20 in "
			    "the MDS configuration",
			    auth_suite_name(e->t.suite));
	if (in.dest != s->self &&
	    !(in.dest == AUTH_DEST_ANY && (e->t.caps & AUTH_CAP_DAEMON)))
		return drop(s, &s->st.misaddressed, h, e->t.entity, why, whylen,
			    "it is addressed to another daemon (%" PRIu32
			    "): replayed from elsewhere?", in.dest);
	if (in.time_ms < now - HORIZON_MS || in.time_ms > now + HORIZON_MS)
		return drop(s, &s->st.stale, h, e->t.entity, why, whylen,
			    "its sender's clock is %" PRId64 " s off ours: "
			    "stale, replayed, or a clock to fix",
			    clock_off_s(in.time_ms, now));
	if (e->win.max == 0 && in.time_ms < s->floor_ms)
		return drop(s, &s->st.replayed, h, e->t.entity, why, whylen,
			    "it predates what this daemon can check for "
			    "replays (sent before its restart?)");
	rc = window_seen(&e->win, in.seq);
	if (rc)
		return drop(s, &s->st.replayed, h, e->t.entity, why, whylen,
			    "%s (sequence number %" PRIu64 ")", rc == -EALREADY ?
			    "replayed: already seen" : "too old for the replay "
			    "window", in.seq);
	if (auth_frame_verify(frame, len, h, &in, e->t.suite, e->t.key))
		return drop(s, &s->st.forged, h, e->t.entity, why, whylen,
			    "its MAC does not verify (forged, or altered in "
			    "transit)");
	if ((e->t.flags & AUTH_T_SECURE) && !(h->flags & WIRE_F_SEALED))
		return drop(s, &s->st.forged, h, e->t.entity, why, whylen,
			    "it is not encrypted, but its ticket requires "
			    "secure mode");
	auth_window_check(&e->win, in.seq);
	if (in.time_ms > e->last_time)
		e->last_time = in.time_ms;
	r = calloc(1, sizeof(*r));
	if (!r)
		return drop(s, &s->st.stale, h, e->t.entity, why, whylen,
			    "out of memory");
	snprintf(r->entity, sizeof(r->entity), "%s", e->t.entity);
	r->caps = e->t.caps;
	r->root = e->t.root;
	r->ticket_id = e->t.id;
	r->expires_ms = e->t.expires_ms;
	r->suite = e->t.suite;
	r->sealed = !!(h->flags & WIRE_F_SEALED);
	memcpy(r->key, e->t.key, AUTH_KEY_LEN);
	r->seq = in.seq;
	if (in.fcap && auth_fcap_check(s->fkey, e->t.entity, in.fcap,
				       AUTH_FCAP_LEN, &r->fcap) == 0)
		r->has_fcap = 1;
	*out = r;
	if (e->t.expires_ms < now) {
		s->st.expired++;
		log_ratelimited(&s->refuse_log, LOG_WARN, "%s: refused a %s "
				"request from %s: its ticket expired %" PRId64
				" s ago", s->name, wire_type_name(h->type),
				e->t.entity, (now - e->t.expires_ms) / 1000);
		*status = -EKEYEXPIRED;
		snprintf(why, whylen, "%s refused a %s request: the ticket of "
			 "%s expired %" PRId64 " s ago; the client must renew "
			 "it (are the clocks of client and cluster in sync?)",
			 s->name, wire_type_name(h->type), e->t.entity,
			 (now - e->t.expires_ms) / 1000);
		return AUTH_REFUSE_SIGNED;
	}
	s->st.accepted++;
	return AUTH_OK;
}

size_t auth_reply_room(const struct auth_req *r)
{
	return AUTH_REP_FIXED + (r->reply_has_fcap ? AUTH_FCAP_LEN : 0) +
	       AUTH_TAG_LEN;
}

ssize_t auth_server_sign_reply(struct auth_server *s, const struct auth_req *r,
			       uint8_t *frame, size_t len)
{
	struct auth_out o;

	memset(&o, 0, sizeof(o));
	o.kind = AUTH_K_REP;
	o.flags = s->secure ? AUTH_TF_SECURE : 0;
	o.suite = r->suite;
	o.seal = r->sealed;
	o.seq = r->seq;
	auth_nonce_next(&s->nonce, o.nonce);
	o.key = r->key;
	o.fcap = r->reply_has_fcap ? r->reply_fcap : NULL;
	return auth_frame_sign(frame, len, &o);
}
