/*
 * auth_server.h -- the checking side of authentication, for daemons: every
 * request frame that reaches a server is checked here before anything
 * decodes its payload, and every reply to an authenticated request is
 * signed here (net.c calls both).
 *
 * A request is served only if its ticket opens with the cluster's ticket
 * key, it is addressed to this daemon, its tag verifies under the ticket's
 * session key (decrypting a sealed payload), its sequence number was not
 * seen before (a window per ticket), and its sender's clock is plausible.
 * Forged, altered, misaddressed and replayed frames are dropped and logged
 * (rate-limited, one line each); a request without an authenticator is
 * answered -EACCES with a sentence saying what to configure, except the
 * types the server lets in unauthenticated (the handshake, PING).  An
 * expired ticket gets a signed -EKEYEXPIRED, so the client renews.
 *
 * Opened tickets are cached (by their tag) with their replay windows.
 * When a window must be forgotten (the cache is full, or the daemon
 * restarted), a floor on the sender's clock keeps the old messages of that
 * ticket out: an unknown ticket's first message must be newer than the
 * floor, which starts at the daemon's start time less the allowed skew
 * and rises with every eviction.
 *
 * One auth_server is used by one thread (the server loop).
 */
#ifndef STORE_AUTH_SERVER_H
#define STORE_AUTH_SERVER_H

#include "auth.h"

#include <stddef.h>
#include <stdint.h>

/* What a checked request proved, kept with the request until its reply
 * is signed (freed by net_req_free). */
struct auth_req {
	char entity[STORE_ENTITY_MAX + 1];
	uint8_t caps;      /* AUTH_CAP_* */
	uint64_t root;     /* confined to this inode's subtree (1: none) */
	uint64_t ticket_id;
	int64_t expires_ms;
	uint8_t suite;
	uint8_t sealed;    /* the request was encrypted: so is the reply */
	uint8_t key[AUTH_KEY_LEN];
	uint64_t seq;
	int has_fcap;      /* the request carried a file cap for entity */
	struct auth_fcap fcap;
	/* Set by the server before replying. */
	int reply_has_fcap;
	uint8_t reply_fcap[AUTH_FCAP_LEN];
};

enum auth_verdict {
	AUTH_OK = 0,            /* serve it (*out: identity, NULL when the
				 * type is let in unauthenticated) */
	AUTH_REFUSE = 1,        /* answer *status with the sentence, unsigned */
	AUTH_REFUSE_SIGNED = 2, /* answer *status, signed with *out */
	AUTH_DROP = 3,          /* drop it (logged) */
};

struct auth_server;

/* A checker for a daemon holding the daemon secret.  self is its
 * AUTH_DEST_*; name is for log lines ("mds", "osd.3").  Returns 0 and
 * *out, or -errno. */
int auth_server_create(const uint8_t secret[AUTH_KEY_LEN], uint32_t self,
		       const char *name, struct auth_server **out);
void auth_server_free(struct auth_server *s);

/* Let type in without an authenticator (the handshake, PING). */
void auth_server_allow(struct auth_server *s, unsigned type);
/* The daemon's identity changed (an OSD learns its id at boot). */
void auth_server_set_self(struct auth_server *s, uint32_t self,
			  const char *name);
/* Say in every reply that the cluster runs in secure mode (the MDS). */
void auth_server_set_secure(struct auth_server *s, int secure);
/* The tolerated difference between clocks (default 5 s). */
void auth_server_set_skew(struct auth_server *s, int64_t skew_ms);

/* The file-cap key (for checking file caps and, at the MDS, making them). */
const uint8_t *auth_server_fcap_key(const struct auth_server *s);

/* Check a request frame (its header already validated into h).  May
 * decrypt the payload in place.  Returns an enum auth_verdict; *out is
 * set for AUTH_OK (or NULL) and AUTH_REFUSE_SIGNED; *status and why (a
 * sentence for the requester) for the refusals. */
int auth_server_check(struct auth_server *s, uint8_t *frame, size_t len,
		      const struct wire_hdr *h, struct auth_req **out,
		      int *status, char *why, size_t whylen);

/* Bytes a reply to r grows by when signed. */
size_t auth_reply_room(const struct auth_req *r);

/* Sign a finished reply frame of len bytes (room for auth_reply_room(r)
 * more) to the request r.  Returns the new length or -errno. */
ssize_t auth_server_sign_reply(struct auth_server *s, const struct auth_req *r,
			       uint8_t *frame, size_t len);

/* Counters (tests, logs). */
struct auth_server_stats {
	uint64_t accepted, unauthenticated, forged, replayed, expired,
		misaddressed, stale;
};
void auth_server_stats(const struct auth_server *s,
		       struct auth_server_stats *st);

#endif
