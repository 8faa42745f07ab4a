/*
 * record.c -- the OSD's on-disk formats: see record.h.
 *
 * This file depends on nothing but common/ headers and store_crc32c(), so
 * that tests/fuzz/fuzz_osd_record.c can #include it whole.
 */
#include "record.h"
#include "buf.h"
#include "crc.h"

#include <errno.h>
#include <string.h>

/* ---- superblock ----------------------------------------------------------*/
/*
 *     offset  size  field
 *          0     4  magic       SUPER_MAGIC
 *          4     4  version     SUPER_VERSION
 *          8    16  cluster_id
 *         24    16  uuid
 *         40     4  osd_id      SUPER_NO_ID if none yet
 *         44     4  reserved    zero
 *         48     8  ctime_ns
 *         56     4  reserved    zero
 *         60     4  crc         crc32c of bytes 0..59
 */
#define SUPER_CRC_OFF 60

void super_encode(const struct osd_super *sb, uint8_t *out)
{
	memset(out, 0, SUPER_LEN);
	put_le32(out, SUPER_MAGIC);
	put_le32(out + 4, SUPER_VERSION);
	memcpy(out + 8, sb->cluster_id, 16);
	memcpy(out + 24, sb->uuid, 16);
	put_le32(out + 40, sb->osd_id);
	put_le64(out + 48, sb->ctime_ns);
	put_le32(out + SUPER_CRC_OFF, store_crc32c(0, out, SUPER_CRC_OFF));
}

int super_decode(const uint8_t *p, size_t len, struct osd_super *sb)
{
	memset(sb, 0, sizeof(*sb));
	if (len != SUPER_LEN || get_le32(p) != SUPER_MAGIC)
		return -EBADMSG;
	if (get_le32(p + SUPER_CRC_OFF) != store_crc32c(0, p, SUPER_CRC_OFF))
		return -EBADMSG;
	sb->version = get_le32(p + 4);
	if (sb->version > SUPER_VERSION)
		return -EPROTONOSUPPORT;
	if (sb->version == 0 || get_le32(p + 44) || get_le32(p + 56))
		return -EBADMSG;
	memcpy(sb->cluster_id, p + 8, 16);
	memcpy(sb->uuid, p + 24, 16);
	sb->osd_id = get_le32(p + 40);
	sb->ctime_ns = get_le64(p + 48);
	if (sb->osd_id != SUPER_NO_ID && sb->osd_id >= STORE_MAX_OSDS)
		return -EBADMSG;
	return 0;
}

/* ---- segment header ------------------------------------------------------*/
/*
 *     offset  size  field
 *          0     4  magic       SEG_MAGIC
 *          4     2  version     SUPER_VERSION
 *          6     2  reserved    zero
 *          8     8  id
 *         16    16  uuid        the OSD's
 *         32     8  ctime_ns
 *         40     8  base_lsn
 *         48     8  size
 *         56     4  reserved    zero
 *         60     4  crc         crc32c of bytes 0..59
 */
#define SEG_CRC_OFF 60

void seg_hdr_encode(const struct seg_hdr *h, uint8_t *out)
{
	memset(out, 0, SEG_HDR_LEN);
	put_le32(out, SEG_MAGIC);
	put_le16(out + 4, SUPER_VERSION);
	put_le64(out + 8, h->id);
	memcpy(out + 16, h->uuid, 16);
	put_le64(out + 32, h->ctime_ns);
	put_le64(out + 40, h->base_lsn);
	put_le64(out + 48, h->size);
	put_le32(out + SEG_CRC_OFF, store_crc32c(0, out, SEG_CRC_OFF));
}

int seg_hdr_decode(const uint8_t *p, size_t len, struct seg_hdr *h)
{
	unsigned v;

	memset(h, 0, sizeof(*h));
	if (len < SEG_HDR_LEN || get_le32(p) != SEG_MAGIC)
		return -EBADMSG;
	if (get_le32(p + SEG_CRC_OFF) != store_crc32c(0, p, SEG_CRC_OFF))
		return -EBADMSG;
	v = get_le16(p + 4);
	if (v > SUPER_VERSION)
		return -EPROTONOSUPPORT;
	if (v == 0 || get_le16(p + 6) || get_le32(p + 56))
		return -EBADMSG;
	h->id = get_le64(p + 8);
	memcpy(h->uuid, p + 16, 16);
	h->ctime_ns = get_le64(p + 32);
	h->base_lsn = get_le64(p + 40);
	h->size = get_le64(p + 48);
	if (h->size < 2 * REC_BLOCK || h->size % REC_BLOCK)
		return -EBADMSG;
	return 0;
}

/* ---- records -------------------------------------------------------------*/
/*
 *     offset  size  field
 *          0     4  magic       REC_MAGIC
 *          4     2  version     SUPER_VERSION
 *          6     1  type        enum rec_type
 *          7     1  flags       REC_F_*
 *          8     8  lsn
 *         16     8  seq
 *         24     4  pool
 *         28     8  ino
 *         36     8  objno
 *         44     8  version     (the shard's)
 *         52     1  index
 *         53     1  k
 *         54     1  m
 *         55     1  reserved    zero
 *         56     4  obj_len
 *         60     4  shard_len
 *         64     8  mtime_ns
 *         72     4  rec_len
 *         76     4  csum_crc    crc32c of the crc array
 *         80     4  hdr_crc     crc32c of bytes 0..79
 *         84   4*n  crc array   n = rec_ncsums(shard_len), one per block
 */
#define REC_CRC_OFF 80

void rec_hdr_encode(const struct rec_hdr *h, uint8_t *p)
{
	put_le32(p, REC_MAGIC);
	put_le16(p + 4, SUPER_VERSION);
	p[6] = h->type;
	p[7] = h->flags;
	put_le64(p + 8, h->lsn);
	put_le64(p + 16, h->seq);
	put_le32(p + 24, h->id.pool);
	put_le64(p + 28, h->id.ino);
	put_le64(p + 36, h->id.objno);
	put_le64(p + 44, h->id.version);
	p[52] = h->id.index;
	p[53] = h->k;
	p[54] = h->m;
	p[55] = 0;
	put_le32(p + 56, h->obj_len);
	put_le32(p + 60, h->shard_len);
	put_le64(p + 64, h->mtime_ns);
	put_le32(p + 72, h->rec_len);
	put_le32(p + 76, h->csum_crc);
	put_le32(p + REC_CRC_OFF, store_crc32c(0, p, REC_CRC_OFF));
}

void rec_set_lsn(uint8_t *p, uint64_t lsn)
{
	put_le64(p + 8, lsn);
	put_le32(p + REC_CRC_OFF, store_crc32c(0, p, REC_CRC_OFF));
}

/* k, m as the wire protocol takes them: both zero (unknown) or a profile
 * the erasure code supports. */
static int profile_ok(uint8_t k, uint8_t m)
{
	if (k == 0 && m == 0)
		return 1;
	return k >= 1 && k <= STORE_EC_MAX_K && m >= 1 &&
	       m <= STORE_EC_MAX_M && k + m <= STORE_EC_MAX_SHARDS;
}

int rec_hdr_decode(const uint8_t *p, size_t len, struct rec_hdr *h)
{
	unsigned v;

	memset(h, 0, sizeof(*h));
	if (len < REC_HDR_LEN || get_le32(p) != REC_MAGIC)
		return -EBADMSG;
	if (get_le32(p + REC_CRC_OFF) != store_crc32c(0, p, REC_CRC_OFF))
		return -EBADMSG;
	v = get_le16(p + 4);
	if (v > SUPER_VERSION)
		return -EPROTONOSUPPORT;
	if (v == 0 || p[55] != 0)
		return -EBADMSG;
	h->type = p[6];
	h->flags = p[7];
	h->lsn = get_le64(p + 8);
	h->seq = get_le64(p + 16);
	h->id.pool = get_le32(p + 24);
	h->id.ino = get_le64(p + 28);
	h->id.objno = get_le64(p + 36);
	h->id.version = get_le64(p + 44);
	h->id.index = p[52];
	h->k = p[53];
	h->m = p[54];
	h->obj_len = get_le32(p + 56);
	h->shard_len = get_le32(p + 60);
	h->mtime_ns = get_le64(p + 64);
	h->rec_len = get_le32(p + 72);
	h->csum_crc = get_le32(p + 76);
	/* A copy keeps its seq and gets a new lsn, never a smaller one. */
	if (h->lsn == 0 || h->seq == 0 || h->seq > h->lsn)
		return -EBADMSG;
	switch (h->type) {
	case REC_PUT:
		if (h->flags || h->id.index >= STORE_EC_MAX_SHARDS ||
		    !profile_ok(h->k, h->m) || h->shard_len > STORE_SHARD_MAX ||
		    h->rec_len != rec_len(h->shard_len))
			return -EBADMSG;
		if (h->shard_len == 0 && h->csum_crc != 0)
			return -EBADMSG;
		return 0;
	case REC_DELETE:
		if ((h->flags & ~REC_F_OLDER) ||
		    h->id.index >= STORE_EC_MAX_SHARDS)
			return -EBADMSG;
		break;
	case REC_SEAL:
		if (h->flags || h->seq != h->lsn || h->id.pool || h->id.ino ||
		    h->id.objno || h->id.version || h->id.index)
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	/* DELETE and SEAL: one block, no shard fields. */
	if (h->k || h->m || h->obj_len || h->shard_len || h->csum_crc ||
	    h->rec_len != REC_BLOCK)
		return -EBADMSG;
	return 0;
}

int rec_csums_check(const struct rec_hdr *h, const uint8_t *meta, size_t len)
{
	size_t n = 4 * (size_t)rec_ncsums(h->shard_len);

	if (len < REC_HDR_LEN + n)
		return -EBADMSG;
	if (store_crc32c(0, meta + REC_HDR_LEN, n) != h->csum_crc)
		return -EBADMSG;
	return 0;
}

int rec_data_check(const struct rec_hdr *h, const uint8_t *meta,
		   const uint8_t *data, uint32_t first, uint32_t n,
		   uint32_t *bad)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t b = first + i;
		uint64_t start = (uint64_t)b * WIRE_CSUM_BLOCK;
		uint32_t blen;

		if (start >= h->shard_len)
			break;
		blen = h->shard_len - start > WIRE_CSUM_BLOCK ?
			       WIRE_CSUM_BLOCK :
			       (uint32_t)(h->shard_len - start);
		if (store_crc32c(0, data + (size_t)i * WIRE_CSUM_BLOCK, blen) !=
		    rec_csum(meta, b)) {
			*bad = b;
			return -EIO;
		}
	}
	return 0;
}

const char *rec_type_name(unsigned type)
{
	switch (type) {
	case REC_PUT:
		return "PUT";
	case REC_DELETE:
		return "DELETE";
	case REC_SEAL:
		return "SEAL";
	}
	return "UNKNOWN";
}
