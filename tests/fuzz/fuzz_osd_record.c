/*
 * fuzz_osd_record.c -- random bytes into the decoders of the OSD's on-disk
 * formats (osd/record.c, compiled in whole: fuzz targets link common/ but
 * not osd/): the superblock, the segment header, and a record with its crc
 * array and data, as the startup scan, the compactor and the read path see
 * them.  Whatever decodes must keep the format's invariants and survive a
 * round trip: encoding the decoded fields gives bytes that decode to the
 * same fields.
 *
 * The first byte picks the decoder; with the second byte's low bit set the
 * header crc is recomputed first, so that the fuzzer gets past the crc and
 * into the field checks.
 */
#include "../../osd/record.c"

#include <stdlib.h>
#include <string.h>

static void fix_crc(uint8_t *p, size_t len, size_t crc_off)
{
	if (len >= crc_off + 4)
		put_le32(p + crc_off, store_crc32c(0, p, crc_off));
}

static void fuzz_super(uint8_t *p, size_t len, int fix)
{
	struct osd_super sb, sb2;
	uint8_t out[SUPER_LEN];

	if (fix)
		fix_crc(p, len, SUPER_CRC_OFF);
	if (super_decode(p, len, &sb))
		return;
	if (sb.osd_id != SUPER_NO_ID && sb.osd_id >= STORE_MAX_OSDS)
		abort();
	super_encode(&sb, out);
	if (super_decode(out, sizeof(out), &sb2) ||
	    memcmp(&sb, &sb2, sizeof(sb)) != 0)
		abort();
}

static void fuzz_seg(uint8_t *p, size_t len, int fix)
{
	struct seg_hdr h, h2;
	uint8_t out[SEG_HDR_LEN];

	if (fix)
		fix_crc(p, len, SEG_CRC_OFF);
	if (seg_hdr_decode(p, len, &h))
		return;
	if (h.size < 2 * REC_BLOCK || h.size % REC_BLOCK)
		abort();
	seg_hdr_encode(&h, out);
	if (seg_hdr_decode(out, sizeof(out), &h2) ||
	    memcmp(&h, &h2, sizeof(h)) != 0)
		abort();
}

static void fuzz_rec(uint8_t *p, size_t len, int fix)
{
	struct rec_hdr h, h2;
	uint8_t out[REC_HDR_LEN];
	uint32_t meta, bad = 0;

	if (fix)
		fix_crc(p, len, REC_CRC_OFF);
	if (rec_hdr_decode(p, len, &h))
		return;
	/* What every user of a decoded header relies on. */
	if (h.rec_len % REC_BLOCK || h.shard_len > STORE_SHARD_MAX ||
	    h.rec_len != (h.type == REC_PUT ? rec_len(h.shard_len) :
					      REC_BLOCK) ||
	    h.id.index >= STORE_EC_MAX_SHARDS || h.seq == 0 ||
	    h.seq > h.lsn || h.rec_len > REC_MAX_LEN)
		abort();
	meta = rec_meta_len(h.shard_len);
	if (meta < REC_HDR_LEN + 4 * rec_ncsums(h.shard_len) ||
	    meta % REC_BLOCK)
		abort();
	/* The crc array and the data, as far as the input goes. */
	if (rec_csums_check(&h, p, len) == 0 && len >= meta) {
		uint32_t have = (uint32_t)((len - meta) / WIRE_CSUM_BLOCK);
		uint32_t n = rec_ncsums(h.shard_len);

		if (len >= h.rec_len)
			rec_data_check(&h, p, p + meta, 0, n, &bad);
		else if (have && n)
			rec_data_check(&h, p, p + meta, 0,
				       have < n ? have : n, &bad);
		if (bad >= n && n)
			abort();
	}
	rec_hdr_encode(&h, out);
	if (rec_hdr_decode(out, sizeof(out), &h2) ||
	    memcmp(&h, &h2, sizeof(h)) != 0)
		abort();
	/* A copy gets a higher lsn and keeps its seq (a SEAL has no copy). */
	if (h.type != REC_SEAL && h.lsn < UINT64_MAX) {
		rec_set_lsn(out, h.lsn + 1);
		if (rec_hdr_decode(out, sizeof(out), &h2) ||
		    h2.lsn != h.lsn + 1 || h2.seq != h.seq)
			abort();
	}
	(void)rec_type_name(h.type);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p;
	size_t len;

	if (size < 2)
		return 0;
	len = size - 2;
	/* A private, writable copy of exactly the input (ASan catches any
	 * read past it). */
	p = malloc(len ? len : 1);
	if (!p)
		return 0;
	memcpy(p, data + 2, len);
	switch (data[0] % 3) {
	case 0:
		fuzz_super(p, len, data[1] & 1);
		break;
	case 1:
		fuzz_seg(p, len, data[1] & 1);
		break;
	default:
		fuzz_rec(p, len, data[1] & 1);
		break;
	}
	free(p);
	return 0;
}
