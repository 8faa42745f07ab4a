/*
 * wire.h -- the frame every message travels in, and the catalogue of message
 * types.  The payload encodings live beside it: wire_osd.h (shard store),
 * wire_mon.h (cluster map, OSD boot, heartbeat, status), wire_ns.h
 * (namespace).
 *
 * A message is one nanomsg message:
 *
 *     offset  size  field
 *          0     4  magic        WIRE_MAGIC
 *          4     1  version      WIRE_VERSION
 *          5     1  type         enum wire_type
 *          6     2  flags        WIRE_F_*
 *          8     8  req_id       chosen by the requester, echoed in the reply
 *         16     8  epoch        the sender's cluster map epoch
 *         24     4  status       replies: 0 or -errno (Linux numbering)
 *         28     4  payload_len  bytes of payload after the header
 *         32     2  auth_len     bytes of authenticator after the payload
 *         34     2  reserved     zero
 *         36     4  hdr_crc      crc32c of bytes 0..35
 *         40     .  payload      per type (and per status for replies)
 *          .     .  auth         authenticator (wire_auth.h), auth_len bytes
 *
 * All integers are little-endian.  A frame is valid only if its length is
 * exactly 40 + payload_len + auth_len, the magic, version and header crc
 * match and reserved is zero; anything else is garbage and is dropped.
 * Every map epoch rides in every header, so whoever sees a newer epoch than
 * its own fetches the map: no map change goes unnoticed for long.
 *
 * A reply carries the request's type with WIRE_F_REPLY set.  A reply whose
 * status is non-zero carries, as payload, one string: a sentence for the
 * user (wire_enc_error / wire_dec_error).
 */
#ifndef STORE_WIRE_H
#define STORE_WIRE_H

#include "buf.h"
#include "store_limits.h"

#include <stdint.h>

/* "STR1" read as a little-endian u32: identifies our frames in a capture
 * and rejects most garbage in the first four bytes. */
#define WIRE_MAGIC 0x31525453u
/* Bumped on any incompatible change of a frame or payload encoding. */
#define WIRE_VERSION 1
#define WIRE_HDR_LEN 40

enum wire_flags {
	WIRE_F_REPLY = 1 << 0,  /* a reply to req_id */
	WIRE_F_SEALED = 1 << 1, /* payload encrypted (secure mode) */
	WIRE_F_AUTH = 1 << 2,   /* an authenticator follows the payload */
	/* To the MDS: reply only once this request's change, and every
	 * change acknowledged before it, is on stable storage.  Without it
	 * a change is visible and survives the MDS's death as soon as it is
	 * acknowledged, and survives a power failure within
	 * MDS_SYNC_DELAY_MS (docs/protocol.md, "Durability"). */
	WIRE_F_SYNC = 1 << 3,
};
#define WIRE_F_ALL (WIRE_F_REPLY | WIRE_F_SEALED | WIRE_F_AUTH | WIRE_F_SYNC)

enum wire_type {
	/* Shard store (OSD), wire_osd.h. */
	WIRE_SHARD_PUT = 1,
	WIRE_SHARD_GET = 2,
	WIRE_SHARD_LIST = 3,
	WIRE_SHARD_DELETE = 4,
	WIRE_SCRUB = 5, /* check and repair PGs (wire_rec.h) */
	/* Cluster (MDS as monitor), wire_mon.h. */
	WIRE_OSD_BOOT = 16,
	WIRE_HEARTBEAT = 17,
	WIRE_MAP_GET = 18,
	WIRE_MAP_PUSH = 19,
	WIRE_STATUS = 20,
	WIRE_OSD_CMD = 21,
	WIRE_PING = 22,
	WIRE_PG_OBJECTS = 23, /* a PG's committed objects (wire_rec.h) */
	/* Namespace (MDS), wire_ns.h. */
	WIRE_NS_FIRST = 32,
	WIRE_SESSION_OPEN = 32,
	WIRE_LOOKUP = 33,
	WIRE_GETATTR = 34,
	WIRE_SETATTR = 35,
	WIRE_MKDIR = 36,
	WIRE_CREATE = 37,
	WIRE_READDIR = 38,
	WIRE_UNLINK = 39,
	WIRE_RMDIR = 40,
	WIRE_RENAME = 41,
	WIRE_SYMLINK = 42,
	WIRE_READLINK = 43,
	WIRE_LINK = 44,
	WIRE_OPEN = 45,
	WIRE_COMMIT = 46,
	WIRE_OBJMAP = 47,
	WIRE_STATFS = 48,
	WIRE_XATTR_GET = 49,
	WIRE_XATTR_SET = 50,
	WIRE_XATTR_LIST = 51,
	WIRE_XATTR_REMOVE = 52,
	WIRE_CREATE_AT = 53,   /* create as a reserved inode (wire_ns.h) */
	WIRE_INO_RESERVE = 54, /* reserve inode numbers for CREATE_AT */
	WIRE_NS_LAST = 54,
	/* Authentication (MDS), wire_auth.h: 56..63 are kept for it. */
	WIRE_AUTH_FIRST = 56,
	WIRE_TYPE_MAX = 64,
};

struct wire_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint64_t req_id;
	uint64_t epoch;
	int32_t status;
	uint32_t payload_len;
	uint16_t auth_len;
};

/* Name of a message type for logs ("SHARD_PUT"), or "UNKNOWN". */
const char *wire_type_name(unsigned type);

/* Start a message in w: writes a header whose lengths and crc are filled in
 * by wire_msg_finish().  The payload is then appended to w. */
void wire_msg_begin(struct wbuf *w, unsigned type, unsigned flags,
		    uint64_t req_id, uint64_t epoch, int32_t status);

/* Close a message begun with wire_msg_begin(): sets payload_len (everything
 * written after the header, less auth_len bytes the caller has appended
 * as authenticator) and the header crc.  Returns 0, or w->err, or -EMSGSIZE
 * if the message exceeds STORE_MSG_MAX. */
int wire_msg_finish(struct wbuf *w, uint16_t auth_len);

/* Parse and validate the header of a received message of len bytes.
 * Returns 0 and fills *h; -EBADMSG for garbage (bad magic, crc, lengths,
 * reserved bits, unknown flags); -EPROTONOSUPPORT for another version. */
int wire_hdr_decode(const void *msg, size_t len, struct wire_hdr *h);

/* The payload of a message whose header decoded into h. */
static inline const uint8_t *wire_payload(const void *msg)
{
	return (const uint8_t *)msg + WIRE_HDR_LEN;
}

/* Encode the payload of an error reply: one sentence for the user. */
void wire_enc_error(struct wbuf *w, const char *text);

/* Decode the payload of an error reply into text (cap bytes).  Returns 0 or
 * -EBADMSG (text is then ""). */
int wire_dec_error(const uint8_t *p, size_t len, char *text, size_t cap);

/* Build a whole error reply to a request.  Returns 0 or -errno. */
int wire_build_error(struct wbuf *w, const struct wire_hdr *req,
		     uint64_t epoch, int32_t status, const char *text);

#endif
