/*
 * wire_osd.h -- payloads of the shard-store messages an OSD serves.
 *
 * A shard is named by (pool, ino, objno, version, index): shard `index` of
 * erasure-coded object `objno` of file `ino`, written as `version`.  Shard
 * data is protected end to end by one crc32c per WIRE_CSUM_BLOCK bytes: the
 * writer computes them, the OSD checks them before storing and stores them,
 * and a read returns them with the data so the reader checks them again.
 * Blocks let a small read be verified without reading the whole shard.
 *
 * Bulk data is never copied by the decoders: `data` and `csums` point into
 * the received message, and are valid as long as it is.
 */
#ifndef STORE_WIRE_OSD_H
#define STORE_WIRE_OSD_H

#include "buf.h"
#include "store_limits.h"

#include <stdint.h>

/* Checksum granularity: the page size, so a 4 KiB random read verifies
 * exactly what it reads (BlueStore's default for the same reason). */
#define WIRE_CSUM_BLOCK 4096u
#define WIRE_CSUMS_MAX (STORE_SHARD_MAX / WIRE_CSUM_BLOCK)

struct wire_shard_id {
	uint32_t pool;
	uint64_t ino;
	uint64_t objno;
	uint64_t version;
	uint8_t index;
};

/* Flags of SHARD_PUT. */
enum {
	WIRE_PUT_RECOVERY = 1 << 0, /* written by recovery, not a client */
};

/* SHARD_PUT request; the reply has no payload. */
struct wire_shard_put {
	struct wire_shard_id id;
	uint8_t k, m;         /* the object's erasure profile */
	uint32_t obj_len;     /* bytes of file data in the whole object */
	uint32_t flags;       /* WIRE_PUT_* */
	uint32_t data_len;    /* shard bytes */
	const uint8_t *csums; /* DIV_ROUND_UP(data_len, WIRE_CSUM_BLOCK) LE u32 */
	const uint8_t *data;
};

/* Flags of SHARD_GET. */
enum {
	/* Read and check the range's block crcs on the OSD, but send no data
	 * back (the reply has data_len 0): deep scrub verifies a shard where
	 * it lives.  -EIO if a block fails its crc. */
	WIRE_GET_VERIFY = 1 << 0,
};

/* SHARD_GET request: bytes [offset, offset + len) of a shard (len 0: to the
 * end).  version 0 asks for the newest version held. */
struct wire_shard_get {
	struct wire_shard_id id;
	uint32_t offset;
	uint32_t len;
	uint32_t flags;
};

/* SHARD_GET reply: the requested range widened to whole checksum blocks
 * (offset is a multiple of WIRE_CSUM_BLOCK), with those blocks' crcs. */
struct wire_shard_get_reply {
	uint64_t version;
	uint8_t k, m;
	uint32_t obj_len;
	uint32_t shard_len; /* whole shard */
	uint32_t offset;    /* of data within the shard */
	uint32_t data_len;
	const uint8_t *csums;
	const uint8_t *data;
};

/* SHARD_LIST request: shards of one pool (and one PG, or WIRE_PG_ALL) that
 * sort after `after` (all of them if has_after is 0), at most max. */
#define WIRE_PG_ALL 0xffffffffu
struct wire_shard_list {
	uint32_t pool;
	uint32_t pg;
	uint32_t max;
	uint8_t has_after;
	struct wire_shard_id after;
};

/* One entry of a SHARD_LIST reply. */
struct wire_shard_entry {
	struct wire_shard_id id;
	uint8_t k, m;
	uint32_t obj_len;
	uint32_t shard_len;
	uint64_t mtime_ns; /* when stored, for garbage collection grace */
};

/* SHARD_LIST reply: entries are walked with wire_shard_list_next(). */
struct wire_shard_list_reply {
	uint32_t count;
	uint8_t more; /* more entries after the last one */
	struct rbuf entries;
};

/* Flags of SHARD_DELETE. */
enum {
	WIRE_DEL_OLDER = 1 << 0, /* every version < id.version, not id itself */
};

/* SHARD_DELETE request; the reply has no payload. */
struct wire_shard_delete {
	struct wire_shard_id id;
	uint32_t flags;
};

/* Number of checksum blocks for len bytes of shard. */
static inline uint32_t wire_csum_count(uint32_t len)
{
	return (len + WIRE_CSUM_BLOCK - 1) / WIRE_CSUM_BLOCK;
}

/* Encoders append a payload to w (errors latch in w->err).  The decoders
 * take a payload, fill *out, and return 0 or -EBADMSG; nothing is read
 * outside [p, p + len) and nothing is allocated. */
void wire_enc_shard_put(struct wbuf *w, const struct wire_shard_put *m);
int wire_dec_shard_put(const uint8_t *p, size_t len, struct wire_shard_put *m);

/* Append a SHARD_PUT payload without its data, reserving data_len bytes
 * whose address is returned (NULL on error) for the caller to fill in
 * place: the encoder writes parity straight into the message.  csums are
 * reserved too and returned in *csums, to fill after the data. */
uint8_t *wire_enc_shard_put_inplace(struct wbuf *w,
				    const struct wire_shard_put *m,
				    uint8_t **csums);

void wire_enc_shard_get(struct wbuf *w, const struct wire_shard_get *m);
int wire_dec_shard_get(const uint8_t *p, size_t len, struct wire_shard_get *m);
void wire_enc_shard_get_reply(struct wbuf *w,
			      const struct wire_shard_get_reply *m);
int wire_dec_shard_get_reply(const uint8_t *p, size_t len,
			     struct wire_shard_get_reply *m);

void wire_enc_shard_list(struct wbuf *w, const struct wire_shard_list *m);
int wire_dec_shard_list(const uint8_t *p, size_t len,
			struct wire_shard_list *m);
/* A list reply is written as: wire_enc_shard_list_begin(), one
 * wire_enc_shard_entry() per entry, wire_enc_shard_list_end(), which
 * patches the count; begin returns the offset end needs. */
size_t wire_enc_shard_list_begin(struct wbuf *w);
void wire_enc_shard_entry(struct wbuf *w, const struct wire_shard_entry *e);
void wire_enc_shard_list_end(struct wbuf *w, size_t at, uint32_t count,
			     int more);
int wire_dec_shard_list_reply(const uint8_t *p, size_t len,
			      struct wire_shard_list_reply *m);
/* Next entry of a decoded list reply: 1 and *e filled, or 0 at the end. */
int wire_shard_list_next(struct wire_shard_list_reply *m,
			 struct wire_shard_entry *e);

void wire_enc_shard_delete(struct wbuf *w, const struct wire_shard_delete *m);
int wire_dec_shard_delete(const uint8_t *p, size_t len,
			  struct wire_shard_delete *m);

/* Total order of shard ids (pool, ino, objno, index, version): the order of
 * SHARD_LIST.  Returns <0, 0, >0. */
int wire_shard_id_cmp(const struct wire_shard_id *a,
		      const struct wire_shard_id *b);

#endif
