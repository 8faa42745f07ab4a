/*
 * store_limits.h -- every size a peer or a user can send us, with why it has its
 * value.  Decoders check these before allocating or copying anything.
 */
#ifndef STORE_LIMITS_H
#define STORE_LIMITS_H

/* A file name component: the POSIX NAME_MAX of Linux file systems. */
#define STORE_NAME_MAX 255
/* A path or symlink target: Linux PATH_MAX less its NUL. */
#define STORE_PATH_MAX 4095
/* Host (failure domain) names: a DNS label. */
#define STORE_HOST_MAX 63
/* A nanomsg address such as "tcp://127.0.0.1:65535": room for IPv6 too. */
#define STORE_ADDR_MAX 127
/* Entity names such as "client.admin" or "osd.12". */
#define STORE_ENTITY_MAX 63
/* Pool names. */
#define STORE_POOL_NAME_MAX 63
/* OSDs in one map: ids are dense from 0, so this bounds the map's arrays.
 * 4096 is past the largest clusters CRUSH-style maps serve without a
 * hierarchy deeper than root -> host -> osd. */
#define STORE_MAX_OSDS 4096
/* Pools in one map. */
#define STORE_MAX_POOLS 64
/* Erasure code: ISA-L's Cauchy construction is MDS for k + m <= 32 over
 * GF(2^8) with these bounds; m <= 4 covers every profile users ask for. */
#define STORE_EC_MAX_K 28
#define STORE_EC_MAX_M 4
#define STORE_EC_MAX_SHARDS 32
/* One shard's payload: a 4 MiB object over k = 1 is the largest; leave room
 * for larger objects (64 MiB) on small k. */
#define STORE_SHARD_MAX (64u << 20)
/* One message on the wire: the largest shard plus headers and trailer.
 * nanomsg's NN_RCVMAXSIZE is set to this so that a larger length is
 * refused before anything is allocated. */
#define STORE_MSG_MAX (STORE_SHARD_MAX + (1u << 20))
/* Entries in one list/readdir/object-map reply: bounded so that a reply
 * stays far below STORE_MSG_MAX even with names of STORE_NAME_MAX. */
#define STORE_LIST_MAX 4096
/* Extended attributes: Linux's XATTR_SIZE_MAX and XATTR_NAME_MAX. */
#define STORE_XATTR_NAME_MAX 255
#define STORE_XATTR_VALUE_MAX 65536
/* Inline file data kept in the MDS (small-file path): see docs. */
#define STORE_INLINE_MAX (64u << 10)
/* Free-form error text in an error reply. */
#define STORE_ERRMSG_MAX 1023

#endif
