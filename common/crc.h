/*
 * crc.h -- CRC-32C (Castagnoli), the checksum on every shard and on-disk
 * record, computed by ISA-L's crc32_iscsi (SSE4.2/PCLMUL when present).
 *
 * Standard convention (as in iSCSI, ext4, Ceph): initial value ~0, final
 * inversion, so crc32c("123456789") == 0xE3069283.  Pass the previous result
 * as `crc` to checksum a buffer in pieces; start with 0.
 */
#ifndef STORE_CRC_H
#define STORE_CRC_H

#include <stddef.h>
#include <stdint.h>

uint32_t store_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
