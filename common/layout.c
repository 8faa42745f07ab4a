/*
 * layout.c -- striping of objects over shards: see layout.h.
 */
#include "layout.h"
#include "util.h"

#include <string.h>

void layout_zero_tail(unsigned k, uint32_t len, uint8_t *const *shards,
		      uint32_t shard_len)
{
	uint32_t units = DIV_ROUND_UP(len, STORE_STRIPE_UNIT);
	uint32_t in_unit = len % STORE_STRIPE_UNIT;

	if (in_unit) {
		uint32_t u = units - 1;

		memset(shards[u % k] + (u / k) * STORE_STRIPE_UNIT + in_unit, 0,
		       STORE_STRIPE_UNIT - in_unit);
	}
	/* Units past the data in the last row, in every shard. */
	for (unsigned s = 0; s < k; s++) {
		uint32_t used = (units / k + (s < units % k ? 1 : 0)) *
				STORE_STRIPE_UNIT;

		if (used < shard_len)
			memset(shards[s] + used, 0, shard_len - used);
	}
}

void layout_scatter(unsigned k, const uint8_t *obj, uint32_t len,
		    uint8_t *const *shards, uint32_t shard_len)
{
	uint32_t units = DIV_ROUND_UP(len, STORE_STRIPE_UNIT);

	for (uint32_t u = 0; u < units; u++) {
		uint32_t n = MIN(STORE_STRIPE_UNIT, len - u * STORE_STRIPE_UNIT);

		memcpy(shards[u % k] + (u / k) * STORE_STRIPE_UNIT,
		       obj + (size_t)u * STORE_STRIPE_UNIT, n);
	}
	layout_zero_tail(k, len, shards, shard_len);
}

void layout_gather(unsigned k, const uint8_t *const *shards, uint32_t base,
		   uint64_t off, uint32_t len, uint8_t *dst)
{
	while (len > 0) {
		uint32_t in_unit = (uint32_t)(off % STORE_STRIPE_UNIT);
		uint32_t n = MIN(len, STORE_STRIPE_UNIT - in_unit);
		unsigned s = layout_shard_of(k, off);
		uint32_t so = layout_shard_off(k, off);

		memcpy(dst, shards[s] + (so - base), n);
		dst += n;
		off += n;
		len -= n;
	}
}
