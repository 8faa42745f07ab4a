/*
 * wire_auth.h -- payloads of the authentication messages (served by the
 * MDS) and the cryptographic steps of the handshake.
 *
 * The handshake (docs/security.md):
 *
 *   client -> MDS  AUTH_HELLO   entity, client nonce Nc, suites it runs
 *   MDS -> client               challenge C = time, random, MAC (stateless:
 *                               the MDS keeps nothing per hello)
 *   client -> MDS  AUTH_PROVE   entity, Nc, C, proof = BLAKE2b keyed with
 *                               the client's key over (entity, Nc, C)
 *   MDS -> client               ticket, its expiry, caps, and the session
 *                               key sealed (XChaCha20-Poly1305) under a key
 *                               derived from the client's key, Nc and C
 *
 * The client's key never travels; a replayed PROVE gets a ticket whose
 * session key only the key's holder can open.  Both messages travel
 * without an authenticator (there is no session key yet); every other
 * message needs one.
 *
 * AUTH_ADMIN manages keys (admin caps): add, get, ls, rm, caps.  A key in
 * a reply is sealed under the requester's session key.
 */
#ifndef STORE_WIRE_AUTH_H
#define STORE_WIRE_AUTH_H

#include "auth.h"
#include "buf.h"

#include <stdint.h>

/* Message types (wire.h's catalogue keeps 56..63 for these). */
#define WIRE_AUTH_HELLO 56
#define WIRE_AUTH_PROVE 57
#define WIRE_AUTH_ADMIN 58

#define AUTH_NC_LEN 16
#define AUTH_CHALLENGE_LEN 40 /* i64 time, 16 random, 16 MAC */
#define AUTH_PROOF_LEN 32
#define AUTH_SEALED_KEY_LEN (24 + AUTH_KEY_LEN + AUTH_TAG_LEN)
/* Entries of one AUTH_ADMIN ls reply. */
#define AUTH_LIST_MAX 4096
/* A challenge is good for this long after the MDS made it. */
#define AUTH_CHALLENGE_MS 60000

/* Suites a client can run, as bits (1 << AUTH_SUITE_*). */
#define AUTH_SUITES_BIT(s) (1u << (s))

struct wire_auth_hello {
	char entity[STORE_ENTITY_MAX + 1];
	uint8_t nonce[AUTH_NC_LEN];
	uint8_t suites;
};

struct wire_auth_challenge {
	uint8_t challenge[AUTH_CHALLENGE_LEN];
};

struct wire_auth_prove {
	char entity[STORE_ENTITY_MAX + 1];
	uint8_t nonce[AUTH_NC_LEN];
	uint8_t challenge[AUTH_CHALLENGE_LEN];
	uint8_t proof[AUTH_PROOF_LEN];
	uint8_t suites;
};

/* The reply to AUTH_PROVE. */
struct wire_auth_granted {
	uint8_t suite;
	uint8_t flags;      /* AUTH_T_* */
	uint8_t caps;       /* AUTH_CAP_* */
	uint8_t restricted; /* path-limited: shard requests need file caps */
	int64_t expires_ms;
	int64_t ttl_ms;
	char caps_text[AUTH_CAPS_MAX + 1];
	uint8_t ticket_len;
	uint8_t ticket[AUTH_TICKET_MAX];
	uint8_t sealed_key[AUTH_SEALED_KEY_LEN];
};

enum wire_auth_op {
	WIRE_AUTH_ADD = 1,  /* name, caps -> key (refused if it exists) */
	WIRE_AUTH_GET = 2,  /* name -> key, caps */
	WIRE_AUTH_LS = 3,   /* -> names and caps */
	WIRE_AUTH_RM = 4,   /* name */
	WIRE_AUTH_CAPS = 5, /* name, caps: replace its caps */
};

struct wire_auth_admin {
	uint8_t op;
	char name[STORE_ENTITY_MAX + 1];
	char caps[AUTH_CAPS_MAX + 1];
};

struct wire_auth_admin_reply {
	uint8_t op;
	char name[STORE_ENTITY_MAX + 1];
	char caps[AUTH_CAPS_MAX + 1];
	uint8_t sealed_key[AUTH_SEALED_KEY_LEN]; /* ADD, GET */
	uint32_t count;      /* LS */
	struct rbuf entries; /* LS: (str name, str caps) each */
};

void wire_enc_auth_hello(struct wbuf *w, const struct wire_auth_hello *m);
int wire_dec_auth_hello(const uint8_t *p, size_t len,
			struct wire_auth_hello *m);
void wire_enc_auth_challenge(struct wbuf *w,
			     const struct wire_auth_challenge *m);
int wire_dec_auth_challenge(const uint8_t *p, size_t len,
			    struct wire_auth_challenge *m);
void wire_enc_auth_prove(struct wbuf *w, const struct wire_auth_prove *m);
int wire_dec_auth_prove(const uint8_t *p, size_t len,
			struct wire_auth_prove *m);
void wire_enc_auth_granted(struct wbuf *w, const struct wire_auth_granted *m);
int wire_dec_auth_granted(const uint8_t *p, size_t len,
			  struct wire_auth_granted *m);
void wire_enc_auth_admin(struct wbuf *w, const struct wire_auth_admin *m);
int wire_dec_auth_admin(const uint8_t *p, size_t len,
			struct wire_auth_admin *m);
/* An ls reply is built with the entries pre-encoded (wire_enc_auth_entry
 * into a separate wbuf) and handed over in m->entries. */
void wire_enc_auth_entry(struct wbuf *w, const char *name, const char *caps);
void wire_enc_auth_admin_reply(struct wbuf *w,
			       const struct wire_auth_admin_reply *m);
int wire_dec_auth_admin_reply(const uint8_t *p, size_t len,
			      struct wire_auth_admin_reply *m);
/* Next entry of a decoded ls reply: 1, or 0 at the end. */
int wire_next_auth_entry(struct rbuf *r, char name[STORE_ENTITY_MAX + 1],
			 char caps[AUTH_CAPS_MAX + 1]);

/* ---- the handshake's steps (libsodium) --------------------------------*/

/* The MDS: a stateless challenge for (entity, nonce), MAC'd under ckey (a
 * random key of the running MDS). */
void auth_hs_challenge(const uint8_t ckey[AUTH_KEY_LEN], const char *entity,
		       const uint8_t nonce[AUTH_NC_LEN], int64_t now_ms,
		       uint8_t out[AUTH_CHALLENGE_LEN]);
/* Is the challenge ours, for (entity, nonce), and recent?  0, or -EACCES
 * (not ours) / -ETIMEDOUT (too old). */
int auth_hs_challenge_check(const uint8_t ckey[AUTH_KEY_LEN],
			    const char *entity,
			    const uint8_t nonce[AUTH_NC_LEN],
			    const uint8_t ch[AUTH_CHALLENGE_LEN],
			    int64_t now_ms);

/* The client's proof of its key, and the key sealing its session key. */
void auth_hs_proof(const uint8_t key[AUTH_KEY_LEN], const char *entity,
		   const uint8_t nonce[AUTH_NC_LEN],
		   const uint8_t ch[AUTH_CHALLENGE_LEN],
		   uint8_t out[AUTH_PROOF_LEN]);
void auth_hs_wrap_key(const uint8_t key[AUTH_KEY_LEN], const char *entity,
		      const uint8_t nonce[AUTH_NC_LEN],
		      const uint8_t ch[AUTH_CHALLENGE_LEN],
		      uint8_t out[AUTH_KEY_LEN]);

/* Seal a 32-byte key under wrap (XChaCha20-Poly1305, random nonce), bound
 * to label; open it back: 0 or -EBADMSG. */
void auth_seal_key(const uint8_t wrap[AUTH_KEY_LEN], const char *label,
		   const uint8_t key[AUTH_KEY_LEN],
		   uint8_t out[AUTH_SEALED_KEY_LEN]);
int auth_open_key(const uint8_t wrap[AUTH_KEY_LEN], const char *label,
		  const uint8_t in[AUTH_SEALED_KEY_LEN],
		  uint8_t key[AUTH_KEY_LEN]);

#endif
