/*
 * crc.c -- see crc.h.
 */
#include "crc.h"

#include <isa-l/crc.h>
#include <limits.h>

uint32_t store_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* ISA-L computes the raw register; the standard CRC-32C inverts it on
	 * the way in and out.  Its length is an int: feed it in 1 GiB steps. */
	crc = ~crc;
	while (len > 0) {
		int n = len > (1u << 30) ? (1 << 30) : (int)len;

		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p += n;
		len -= (size_t)n;
	}
	return ~crc;
}
