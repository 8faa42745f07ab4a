/*
 * record.h -- the OSD's on-disk formats: the folder's superblock, the
 * header of a log segment, and the records appended to segments.  Pure
 * encode/decode with bounds and crc checks, no I/O, so that the decoders
 * can be fuzzed on their own (tests/fuzz/fuzz_osd_record.c includes
 * record.c) and so that the startup scan, the compactor and the read path
 * all judge bytes read from disk by the same rules.
 *
 * All integers are little-endian.  docs/osd.md draws the layouts; the
 * offsets are also spelled out beside each encoder in record.c.
 *
 * Superblock (DIR/superblock, SUPER_LEN bytes, replaced atomically):
 *     magic, version, cluster id, OSD uuid, OSD id, creation time, crc.
 * Segment (DIR/log/<16 hex digits>.seg, preallocated):
 *     block 0: segment header (magic, version, id, OSD uuid, creation
 *     time, base lsn, size, crc); records from REC_BLOCK on.
 * Record (at a REC_BLOCK-aligned offset of a segment):
 *     REC_HDR_LEN bytes of header (with its own crc), one crc32c per
 *     WIRE_CSUM_BLOCK of data (covered by csum_crc), zero padding up to
 *     rec_meta_len(), the data, zero padding up to rec_len (a multiple of
 *     REC_BLOCK).  The data of a record therefore starts on a block, so a
 *     4 KiB read of a shard is one aligned 4 KiB disk read.
 */
#ifndef STORE_OSD_RECORD_H
#define STORE_OSD_RECORD_H

#include "wire_osd.h"

#include <stddef.h>
#include <stdint.h>

/* The unit of every disk I/O of the shard store: O_DIRECT needs offsets,
 * lengths and buffers aligned to the logical block size (512 B or 4 KiB on
 * today's disks), and 4 KiB is also WIRE_CSUM_BLOCK, so one checksummed
 * block of a shard is exactly one disk block. */
#define REC_BLOCK 4096u

/* ---- superblock ----------------------------------------------------------*/

/* "OSB1" as a little-endian u32. */
#define SUPER_MAGIC 0x3142534fu
/* Bumped on an incompatible change of the superblock, segment or record
 * formats: an OSD refuses a folder of a newer version. */
#define SUPER_VERSION 1u
/* Bytes in the superblock file: the fields below and their crc. */
#define SUPER_LEN 64u
/* osd_id of a folder that has not been given an id by the MDS yet. */
#define SUPER_NO_ID 0xffffffffu

struct osd_super {
	uint32_t version;
	uint8_t cluster_id[16]; /* all zero until the first boot */
	uint8_t uuid[16];       /* this folder's identity, never changes */
	uint32_t osd_id;        /* SUPER_NO_ID until the first boot */
	uint64_t ctime_ns;      /* when formatted (wall clock) */
};

/* Encode sb into out[SUPER_LEN] (the version written is SUPER_VERSION). */
void super_encode(const struct osd_super *sb, uint8_t *out);

/* Decode a superblock of len bytes.  Returns 0, -EBADMSG (wrong length,
 * magic, crc or reserved bits) or -EPROTONOSUPPORT (a newer version). */
int super_decode(const uint8_t *p, size_t len, struct osd_super *sb);

/* ---- segment header ------------------------------------------------------*/

/* "OSG1". */
#define SEG_MAGIC 0x3147534fu
/* Bytes of the segment header proper; it occupies the whole first block. */
#define SEG_HDR_LEN 64u

struct seg_hdr {
	uint64_t id;        /* equals the number in the file name */
	uint8_t uuid[16];   /* the OSD's: a segment copied from another
			       folder is refused */
	uint64_t ctime_ns;
	uint64_t base_lsn;  /* every record of the segment has lsn > this */
	uint64_t size;      /* bytes preallocated */
};

/* Encode h into out[SEG_HDR_LEN]. */
void seg_hdr_encode(const struct seg_hdr *h, uint8_t *out);

/* Decode.  Returns 0, -EBADMSG or -EPROTONOSUPPORT. */
int seg_hdr_decode(const uint8_t *p, size_t len, struct seg_hdr *h);

/* ---- records -------------------------------------------------------------*/

/* "ORC1". */
#define REC_MAGIC 0x3143524fu
/* Bytes of the fixed record header; the crc array follows at once. */
#define REC_HDR_LEN 84u

enum rec_type {
	REC_PUT = 1,    /* a shard version and its data */
	REC_DELETE = 2, /* a tombstone: versions of a shard are gone */
	REC_SEAL = 3,   /* end of a segment whose records are all durable */
};

/* Flags of a REC_DELETE: like WIRE_DEL_OLDER, every version < id.version
 * instead of id.version itself. */
#define REC_F_OLDER 0x01u

struct rec_hdr {
	uint8_t type;   /* enum rec_type */
	uint8_t flags;  /* REC_F_* (DELETE only) */
	uint64_t lsn;   /* log sequence number: strictly increasing along a
			   segment, and from one segment to the next */
	uint64_t seq;   /* the operation's place in time: the lsn it was
			   first written with; kept when compaction copies
			   the record, so newer beats older whatever the
			   order the log is read in */
	struct wire_shard_id id;
	uint8_t k, m;        /* PUT: the object's profile (or 0, 0) */
	uint32_t obj_len;    /* PUT: bytes of file data in the object */
	uint32_t shard_len;  /* PUT: bytes of data in this record */
	uint64_t mtime_ns;   /* when the operation was first written */
	uint32_t rec_len;    /* whole record with padding: rec_len() */
	uint32_t csum_crc;   /* crc32c of the crc array */
};

/* Number of crcs in a record of shard_len data bytes. */
static inline uint32_t rec_ncsums(uint32_t shard_len)
{
	return wire_csum_count(shard_len);
}

/* Offset of the data inside a record: header and crc array, rounded up to
 * REC_BLOCK.  Also the bytes to read to check a record's metadata. */
static inline uint32_t rec_meta_len(uint32_t shard_len)
{
	uint32_t n = REC_HDR_LEN + 4 * rec_ncsums(shard_len);

	return (n + REC_BLOCK - 1) & ~(REC_BLOCK - 1);
}

/* Bytes of a whole record holding shard_len bytes of data. */
static inline uint32_t rec_len(uint32_t shard_len)
{
	return rec_meta_len(shard_len) +
	       ((shard_len + REC_BLOCK - 1) & ~(REC_BLOCK - 1));
}

/* The largest record (a STORE_SHARD_MAX shard). */
#define REC_MAX_LEN                                                            \
	(((REC_HDR_LEN + 4 * WIRE_CSUMS_MAX + REC_BLOCK - 1) &                 \
	  ~(REC_BLOCK - 1)) +                                                  \
	 STORE_SHARD_MAX)

/* Encode h into p[0 .. REC_HDR_LEN), computing the header crc (h->rec_len
 * and h->csum_crc must be set: rec_len(h->shard_len) and the crc of the
 * array that follows). */
void rec_hdr_encode(const struct rec_hdr *h, uint8_t *p);

/*
 * Decode and validate a record header from p (len bytes, at least
 * REC_HDR_LEN).  Checks magic, version, header crc, type, flags per type,
 * reserved bytes, the shard index and profile, shard_len <= STORE_SHARD_MAX
 * and rec_len == rec_len(shard_len) (REC_BLOCK for DELETE and SEAL, whose
 * shard fields are zero as the type requires).  The crc array is not
 * checked here (rec_csums_check()).  Returns 0, -EBADMSG, or
 * -EPROTONOSUPPORT for a record of a newer version.
 */
int rec_hdr_decode(const uint8_t *p, size_t len, struct rec_hdr *h);

/* Check the crc array of a decoded record against h->csum_crc.  meta holds
 * the record's first len bytes (at least rec_meta_len(h->shard_len)).
 * Returns 0 or -EBADMSG. */
int rec_csums_check(const struct rec_hdr *h, const uint8_t *meta, size_t len);

/* The crc of data block b of a record, from its metadata (meta must hold
 * the crc array; b < rec_ncsums()). */
static inline uint32_t rec_csum(const uint8_t *meta, uint32_t b)
{
	const uint8_t *c = meta + REC_HDR_LEN + 4 * (size_t)b;

	return (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
	       (uint32_t)c[3] << 24;
}

/*
 * Verify data blocks [first, first + n) of a record: data points at block
 * `first` and holds the bytes of those blocks (the last block of the shard
 * may be short).  Returns 0, or -EIO with *bad set to the first block
 * whose crc does not match.
 */
int rec_data_check(const struct rec_hdr *h, const uint8_t *meta,
		   const uint8_t *data, uint32_t first, uint32_t n,
		   uint32_t *bad);

/* Give an encoded record a new lsn (compaction copies and rewrites after
 * a failed write), re-sealing its header crc. */
void rec_set_lsn(uint8_t *p, uint64_t lsn);

/* Name of a record type for logs. */
const char *rec_type_name(unsigned type);

#endif
