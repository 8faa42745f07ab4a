/*
 * layout.h -- how an object's bytes are striped over its k data shards.
 *
 * An object is cut into stripe units of STORE_STRIPE_UNIT bytes dealt
 * round-robin over the k data shards: unit u goes to shard u % k at offset
 * (u / k) * unit.  Row r is units r*k .. r*k + k-1; each parity shard holds
 * the code of every row at the same offset.  A shard is rows * unit bytes,
 * zero-padded: rows = ceil(len / (k * unit)).
 *
 * Why units rather than k contiguous chunks: where a byte lives depends
 * only on k and the unit, never on the object's length, so an object whose
 * valid length shrinks (truncate) still reads correctly, and a 4 KiB read
 * touches exactly one unit of one shard, which is also one checksum block.
 */
#ifndef STORE_LAYOUT_H
#define STORE_LAYOUT_H

#include "wire_osd.h"

#include <stdint.h>

/* One checksum block: a unit is verified by exactly one crc. */
#define STORE_STRIPE_UNIT WIRE_CSUM_BLOCK

/* Bytes of every shard (data and parity) of an object of len bytes. */
static inline uint32_t layout_shard_len(unsigned k, uint32_t len)
{
	uint32_t row = k * STORE_STRIPE_UNIT;

	return (uint32_t)(((uint64_t)len + row - 1) / row) * STORE_STRIPE_UNIT;
}

/* Shard and in-shard offset of byte b of an object. */
static inline unsigned layout_shard_of(unsigned k, uint64_t b)
{
	return (unsigned)((b / STORE_STRIPE_UNIT) % k);
}

static inline uint32_t layout_shard_off(unsigned k, uint64_t b)
{
	return (uint32_t)((b / STORE_STRIPE_UNIT / k) * STORE_STRIPE_UNIT +
			  b % STORE_STRIPE_UNIT);
}

/* Deal len bytes of an object over k shard buffers of shard_len bytes
 * each (zero-padding the rest). */
void layout_scatter(unsigned k, const uint8_t *obj, uint32_t len,
		    uint8_t *const *shards, uint32_t shard_len);

/* Zero what follows an object of len bytes in its k data shards of
 * shard_len bytes each: the rest of the unit it ends in and the units
 * after it. */
void layout_zero_tail(unsigned k, uint32_t len, uint8_t *const *shards,
		      uint32_t shard_len);

/* Copy object bytes [off, off + len) out of shard buffers holding in-shard
 * bytes [base, base + shard_bytes) each (shards[s] may be NULL for a shard
 * the range does not touch). */
void layout_gather(unsigned k, const uint8_t *const *shards, uint32_t base,
		   uint64_t off, uint32_t len, uint8_t *dst);

#endif
