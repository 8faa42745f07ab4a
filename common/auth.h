/*
 * auth.h -- the cryptography of the cluster: capabilities, tickets, per-file
 * capabilities, and the authenticator every message carries (libsodium for
 * every step; docs/security.md explains the model).
 *
 * Keys.  Every daemon holds the cluster's daemon secret (32 bytes).  From it
 * derive (crypto_kdf) the ticket key, which seals tickets, and the file-cap
 * key, which MACs per-file capabilities.  A client holds its own 32-byte
 * key, known to the MDS; it proves it by challenge and response
 * (wire_auth.h) and receives a ticket and a fresh session key.
 *
 * A ticket is sealed (XChaCha20-Poly1305, random nonce) with the ticket key:
 * the entity's name, its capability bits, the root inode it is confined to,
 * an expiry, a random ticket id, the cipher suite and the session key.  Any
 * daemon opens it without asking the MDS.  Daemons mint tickets for
 * themselves (entity "osd.3", "mds") with the same key.
 *
 * The authenticator (trailer) follows the payload of a frame whose header
 * has WIRE_F_AUTH; all integers little-endian:
 *
 *   request (kind 1)                      reply (kind 2)
 *    0  1 version (1)                      0  1 version (1)
 *    1  1 kind                             1  1 kind
 *    2  1 flags (AUTH_TF_*)                2  1 flags (AUTH_TF_*)
 *    3  1 ticket length T                  3  1 zero
 *    4  4 destination (AUTH_DEST_*)        4  8 seq of the request
 *    8  8 seq                             12 12 nonce
 *   16  8 sender's wall clock, ms         24  . file cap (if AUTH_TF_FCAP)
 *   24 12 nonce                            .  16 tag
 *   36  T ticket
 *    .  . file cap (if AUTH_TF_FCAP)
 *    . 16 tag
 *
 * The tag is the AEAD tag (AES-256-GCM where the CPU has AES-NI, else
 * XChaCha20-Poly1305) under the session key over the whole frame but the
 * tag: header (with its flags, lengths and crc), payload and trailer.  In
 * secure mode (WIRE_F_SEALED) the payload is the ciphertext and header +
 * trailer are the associated data.  Nonces are 8 random bytes per sender
 * instance and a 32-bit counter, so they never repeat under one key.
 */
#ifndef STORE_AUTH_H
#define STORE_AUTH_H

#include "store_limits.h"
#include "wire.h"

#include <pthread.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_KEY_LEN 32
#define AUTH_NONCE_LEN 12
#define AUTH_TAG_LEN 16
#define AUTH_TRAILER_VERSION 1
/* A sealed ticket: 24 nonce + at most 132 plaintext + 16 tag; the trailer
 * gives it one byte of length. */
#define AUTH_TICKET_MAX 255
/* A file capability on the wire: access, ino, expiry, 16-byte MAC. */
#define AUTH_FCAP_LEN 33
#define AUTH_REQ_FIXED 36
#define AUTH_REP_FIXED 24
#define AUTH_TRAILER_MAX                                                       \
	(AUTH_REQ_FIXED + AUTH_TICKET_MAX + AUTH_FCAP_LEN + AUTH_TAG_LEN)
/* Room a frame builder leaves after a frame so that signing it needs no
 * copy (net.h: frames grow into it). */
#define AUTH_ROOM 384
/* Caps text ("rw path=/projects/a"): a keyword or two and a path. */
#define AUTH_CAPS_MAX (STORE_PATH_MAX + 32)
/* Replay window per ticket: sequence numbers this far behind the highest
 * seen are still accepted once.  A client keeps at most a few hundred
 * requests queued (objects in flight x shards, delete batches). */
#define AUTH_WINDOW 2048

enum auth_suite {
	AUTH_SUITE_AES256GCM = 1,
	AUTH_SUITE_XCHACHA20 = 2,
};

/* Capability bits, in tickets and keys. */
enum {
	AUTH_CAP_R = 1 << 0,
	AUTH_CAP_W = 1 << 1,
	AUTH_CAP_ADMIN = 1 << 2,  /* cluster and key management commands */
	AUTH_CAP_DAEMON = 1 << 3, /* a daemon: everything */
};

/* Ticket flags. */
enum {
	AUTH_T_SECURE = 1 << 0, /* requests and replies are encrypted */
};

/* Trailer flags. */
enum {
	AUTH_TF_FCAP = 1 << 0,   /* a file capability follows the ticket */
	AUTH_TF_SECURE = 1 << 1, /* replies of the MDS: the cluster runs in
				  * secure mode (daemons adopt it) */
};
#define AUTH_TF_ALL (AUTH_TF_FCAP | AUTH_TF_SECURE)

enum { AUTH_K_REQ = 1, AUTH_K_REP = 2 };

/* Where a request is going: the receiver checks it, so a request captured
 * on its way to one daemon cannot be replayed to another. */
#define AUTH_DEST_ANY 0u /* daemons' own tickets only */
#define AUTH_DEST_MDS 1u
#define AUTH_DEST_OSD(id) ((uint32_t)(id) + 2u)

/* Key derivation ids (crypto_kdf subkeys of the daemon secret). */
enum { AUTH_SUB_TICKET = 1, AUTH_SUB_FCAP = 2 };

/* Call once before anything else here (idempotent).  Returns 0 or -EIO. */
int auth_init(void);

/* The suite this machine prefers: AES-256-GCM if the CPU has AES-NI and
 * PCLMUL, else XChaCha20-Poly1305. */
uint8_t auth_suite_default(void);
/* Can this machine use the suite?  1 or 0. */
int auth_suite_ok(uint8_t suite);
const char *auth_suite_name(uint8_t suite);

/* Derive a subkey (AUTH_SUB_*) of the daemon secret. */
void auth_derive(const uint8_t secret[AUTH_KEY_LEN], uint64_t id,
		 uint8_t out[AUTH_KEY_LEN]);

/* ---- capabilities -----------------------------------------------------*/

/* Parsed caps text: "r", "rw", optionally "path=/a/b", and "admin", in
 * any order, separated by spaces ("admin rw", "rw path=/projects/a"). */
struct auth_caps {
	uint8_t bits; /* AUTH_CAP_R/W/ADMIN */
	char path[STORE_PATH_MAX + 1]; /* "" or "/": the whole namespace */
};

/* Parse caps text.  Returns 0, or -EINVAL with a sentence in err. */
int auth_caps_parse(const char *text, struct auth_caps *caps, char *err,
		    size_t errlen);

/* ---- tickets ----------------------------------------------------------*/

struct auth_ticket {
	uint8_t suite;
	uint8_t flags; /* AUTH_T_* */
	uint8_t caps;  /* AUTH_CAP_* */
	uint64_t id;   /* random; the replay window's key */
	int64_t issued_ms, expires_ms; /* wall clock */
	uint64_t root; /* the inode the entity is confined to (1: none) */
	uint8_t key[AUTH_KEY_LEN]; /* the session key */
	char entity[STORE_ENTITY_MAX + 1];
};

/* Seal a ticket with the ticket key into out (AUTH_TICKET_MAX bytes).
 * Returns its length or -EINVAL (bad fields). */
int auth_ticket_seal(const uint8_t tkey[AUTH_KEY_LEN],
		     const struct auth_ticket *t, uint8_t *out);

/* Open a sealed ticket.  Returns 0, or -EBADMSG (not a ticket sealed with
 * this key: forged, altered, or another cluster's). */
int auth_ticket_open(const uint8_t tkey[AUTH_KEY_LEN], const uint8_t *p,
		     size_t len, struct auth_ticket *t);

/* ---- file capabilities ------------------------------------------------*/

/* A per-file capability the MDS gives a path-limited client: access
 * (AUTH_CAP_R, | AUTH_CAP_W) to the shards of one inode until expires,
 * MAC'd under the file-cap key together with the entity's name. */
struct auth_fcap {
	uint8_t access;
	uint64_t ino;
	int64_t expires_ms;
};

void auth_fcap_make(const uint8_t fkey[AUTH_KEY_LEN], const char *entity,
		    const struct auth_fcap *f, uint8_t out[AUTH_FCAP_LEN]);
/* Decode and check a file cap for entity.  Returns 0 and *f, -EBADMSG
 * (malformed), or -EACCES (MAC does not match: forged or another
 * entity's).  Expiry is the caller's to check. */
int auth_fcap_check(const uint8_t fkey[AUTH_KEY_LEN], const char *entity,
		    const uint8_t *p, size_t len, struct auth_fcap *f);

/* ---- signing and checking frames --------------------------------------*/

/* Everything one signature needs. */
struct auth_out {
	uint8_t kind;  /* AUTH_K_REQ or AUTH_K_REP */
	uint8_t flags; /* AUTH_TF_* (FCAP is set from fcap) */
	uint8_t suite;
	uint8_t seal;  /* encrypt the payload (WIRE_F_SEALED) */
	uint32_t dest;
	uint64_t seq;
	int64_t time_ms;
	uint8_t nonce[AUTH_NONCE_LEN];
	const uint8_t *key;    /* AUTH_KEY_LEN */
	const uint8_t *ticket; /* requests */
	uint8_t ticket_len;
	const uint8_t *fcap;   /* AUTH_FCAP_LEN bytes, or NULL */
};

/* Bytes the trailer of o takes. */
size_t auth_trailer_len(const struct auth_out *o);

/* Sign a finished frame of len bytes (auth_len 0) in a buffer of at least
 * len + auth_trailer_len(o) bytes: appends the trailer, sets WIRE_F_AUTH
 * (and WIRE_F_SEALED, encrypting the payload in place), auth_len and the
 * header crc, and computes the tag.  Returns the new length or -errno
 * (-EINVAL: not a valid frame, or already signed). */
ssize_t auth_frame_sign(uint8_t *frame, size_t len, const struct auth_out *o);

/* A parsed trailer (pointers into the frame). */
struct auth_in {
	uint8_t kind, flags;
	uint32_t dest;
	uint64_t seq;
	int64_t time_ms;
	const uint8_t *nonce;
	const uint8_t *ticket;
	uint8_t ticket_len;
	const uint8_t *fcap; /* or NULL */
	const uint8_t *tag;
};

/* Parse the trailer of a frame whose header decoded into h (which must
 * have WIRE_F_AUTH).  Returns 0 or -EBADMSG.  Nothing is trusted yet. */
int auth_trailer_parse(const uint8_t *frame, size_t len,
		       const struct wire_hdr *h, struct auth_in *in);

/* Check the tag of a parsed frame under key (and decrypt the payload in
 * place if WIRE_F_SEALED).  Returns 0, or -EBADMSG (forged or altered:
 * the payload is then unusable). */
int auth_frame_verify(uint8_t *frame, size_t len, const struct wire_hdr *h,
		      const struct auth_in *in, uint8_t suite,
		      const uint8_t key[AUTH_KEY_LEN]);

/* ---- the replay window ------------------------------------------------*/

struct auth_window {
	uint64_t max; /* highest sequence number accepted (0: none) */
	uint64_t bits[AUTH_WINDOW / 64]; /* bit (seq % AUTH_WINDOW) */
};

/* Accept seq once.  Returns 0 (fresh: now recorded), -EALREADY (seen:
 * a replay), or -ESTALE (older than the window, or 0). */
int auth_window_check(struct auth_window *w, uint64_t seq);

/* ---- nonces -----------------------------------------------------------*/

/* A sender's nonce source: 8 random bytes, redrawn when the 32-bit counter
 * wraps.  Not thread-safe: callers serialise. */
struct auth_nonce {
	uint8_t instance[8];
	uint32_t counter;
};
void auth_nonce_init(struct auth_nonce *n);
void auth_nonce_next(struct auth_nonce *n, uint8_t out[AUTH_NONCE_LEN]);

/* Wall clock in milliseconds (tickets and trailers use it). */
int64_t auth_wall_ms(void);

/* ---- credentials (the signing side) -----------------------------------*/

/* What a client or daemon signs its requests with: its current sealed
 * ticket and session key, a sequence counter and a nonce source.  Shared
 * by every thread of a process; a client's ticket is replaced on renewal,
 * a daemon's (self-minted) is re-minted near its expiry. */
struct auth_cred;

/* A snapshot for one signature (auth_cred_take). */
struct auth_snap {
	uint8_t suite;
	uint8_t secure;
	uint8_t key[AUTH_KEY_LEN];
	uint8_t ticket[AUTH_TICKET_MAX];
	uint8_t ticket_len;
	uint64_t seq;
	uint8_t nonce[AUTH_NONCE_LEN];
	int64_t expires_ms;
};

/* A daemon's credential: tickets minted with the daemon secret for entity
 * (caps DAEMON), valid ttl_ms each.  Returns 0 and *out, or -errno. */
int auth_cred_daemon(const uint8_t secret[AUTH_KEY_LEN], const char *entity,
		     int64_t ttl_ms, struct auth_cred **out);

/* An empty client credential, to be filled by auth_cred_install(). */
int auth_cred_client(struct auth_cred **out);

/* Install a ticket (client renewal).  t holds what the client knows of it
 * (suite, flags, caps, expiry, key; entity and id may be empty). */
void auth_cred_install(struct auth_cred *c, const uint8_t *sealed,
		       size_t len, const struct auth_ticket *t);

/* Daemons: switch secure mode (re-mints the ticket). */
void auth_cred_set_secure(struct auth_cred *c, int secure);
/* Daemons: the entity name for the next tickets (e.g. after boot). */
void auth_cred_set_entity(struct auth_cred *c, const char *entity);

/* Take a snapshot for one request: a new seq and nonce.  Returns 0, or
 * -ENOKEY (no ticket installed). */
int auth_cred_take(struct auth_cred *c, struct auth_snap *s);

/* Expiry of the current ticket (0: none). */
int64_t auth_cred_expires(struct auth_cred *c);
int auth_cred_secure(struct auth_cred *c);

void auth_cred_free(struct auth_cred *c);

/* Sign a request frame with a snapshot.  buf holds len bytes of frame
 * and has room for len + auth_req_room(s, fcap != NULL).  Returns the new
 * length or -errno. */
size_t auth_req_room(const struct auth_snap *s, int with_fcap);
ssize_t auth_sign_request(uint8_t *buf, size_t len, const struct auth_snap *s,
			  uint32_t dest, const uint8_t *fcap);

/* Check a reply to a request signed with (suite, key, seq): trailer, seq
 * echo and tag (decrypting a sealed payload).  Returns 0, -EBADMSG
 * (forged, altered, or a reply to another request), or -ENOMSG (the reply
 * carries no authenticator). */
int auth_check_reply(uint8_t *frame, size_t len, const struct wire_hdr *h,
		     uint8_t suite, const uint8_t key[AUTH_KEY_LEN],
		     uint64_t seq, struct auth_in *in);

#endif
