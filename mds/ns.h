/*
 * ns.h -- the namespace: every namespace request of docs/protocol.md
 * (lookup, create, rename, commit of object versions, xattrs, ...) carried
 * out inside one LMDB transaction, with nothing about sockets or frames.
 *
 * The dispatcher (dispatch.c) decodes a request, opens the transaction,
 * calls ns_exec() and encodes the reply; the unit tests call ns_exec()
 * directly on a temporary database.  ns_exec() either makes the whole
 * change in the transaction and returns 0, or returns -errno with a
 * sentence in ctx->err naming the object ("no such file or directory:
 * 'x' in directory ino 12"); on error the transaction may hold a partial
 * change, so the caller runs each request in its own nested transaction
 * and aborts it on failure.
 *
 * Object versions that stop being referenced (truncation, unlink of the
 * last link, a COMMIT replacing them) are either listed in the reply (a
 * COMMIT's replaced versions, at most STORE_LIST_MAX) so that the writer
 * deletes their shards, or queued in the purge table (db.h) for the MDS.
 */
#ifndef MDS_NS_H
#define MDS_NS_H

#include "db.h"
#include "wire.h"
#include "wire_ns.h"

#include <stdint.h>

struct ns_ctx {
	/* Set by the caller. */
	struct mds_db *db;
	MDB_txn *txn;
	int64_t now;          /* wall clock for the times this sets */
	uint32_t inline_max;  /* largest file kept inline */
	uint32_t pool;        /* pool of new files */
	uint32_t object_size; /* object size of new files */
	uint64_t bytes_total; /* STATFS: usable capacity, bytes */
	uint64_t bytes_free;  /* STATFS: usable free space, bytes */

	/* Results.  list holds the entries of a READDIR / OBJMAP / COMMIT
	 * reply (the reply's `entries` point into it); err the sentence of
	 * a failure. */
	struct wbuf list;
	char err[STORE_ERRMSG_MAX + 1];
};

/* Prepare a context (list empty); release its list with ns_ctx_free. */
void ns_ctx_init(struct ns_ctx *c, struct mds_db *db, MDB_txn *txn);
void ns_ctx_free(struct ns_ctx *c);

/* Does this request change anything?  (OPEN without TRUNC, LOOKUP,
 * GETATTR, READDIR, READLINK, OBJMAP, STATFS, XATTR_GET/LIST do not.) */
int ns_is_write(unsigned type, const struct wire_ns_req *q);

/* Carry out request q of the given type in c->txn and fill *r (whose
 * data and entries point into the database, q or c->list: encode it
 * before the transaction changes again).  Returns 0 or -errno with
 * c->err set. */
int ns_exec(struct ns_ctx *c, unsigned type, const struct wire_ns_req *q,
	    struct wire_ns_reply *r);

/* Create the root directory (ino 1) of a new file system. */
int ns_make_root(struct ns_ctx *c, uint32_t uid, uint32_t gid);

#endif
