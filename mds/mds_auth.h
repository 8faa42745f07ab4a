/*
 * mds_auth.h -- the MDS's side of security: the cluster's keys (the daemon
 * secret and every client's key and caps, in LMDB), the handshake that
 * hands out tickets, key management (AUTH_ADMIN), and the checks of every
 * request against the caps of whoever sent it (docs/security.md).
 *
 * Records: meta "auth" -> v1, u32 flags (0), the 32-byte daemon secret;
 * auth: entity name -> v1, 32-byte key, str caps text, i64 created (ns).
 * A cluster made without keys (store-mds --init --no-auth) has no meta
 * "auth" record and serves everyone, as before this module existed.
 *
 * Enforcement at the MDS (mds_auth_gate and mds_auth_ns_before):
 *   - without a ticket only AUTH_HELLO, AUTH_PROVE and PING are served;
 *   - namespace requests need r (reads) or rw (changes: -EROFS for an r
 *     key); a path-limited key sees its directory as inode 1 and every
 *     inode a request names must lie inside it (parents.h), so no '..',
 *     symlink, rename or hard link leads out;
 *   - OSD_CMD and AUTH_ADMIN need admin; OSD_BOOT, HEARTBEAT and every
 *     other type a client has no business sending need a daemon ticket;
 *     STATUS, MAP_GET and PING any valid ticket.
 * Replies to a path-limited client about a regular file carry a file cap
 * (auth.h) in their trailer, which the OSDs check on shard requests.
 */
#ifndef MDS_MDS_AUTH_H
#define MDS_MDS_AUTH_H

#include "auth.h"
#include "db.h"
#include "wire_auth.h"

#include <stdint.h>

struct mds;
struct mds_msg;
struct net_server;
struct wire_ns_reply;

/* Keys a new cluster starts with (made by the caller of mds_create). */
struct mds_auth_keys {
	uint8_t secret[AUTH_KEY_LEN]; /* the daemons' */
	uint8_t admin[AUTH_KEY_LEN];  /* client.admin's, caps "admin rw" */
};

#define MDS_ADMIN_ENTITY "client.admin"
#define MDS_ADMIN_CAPS "admin rw"

/* Store a new cluster's keys (in mds_create's transaction). */
int mds_auth_create(struct mds_db *db, MDB_txn *txn,
		    const struct mds_auth_keys *k);

/* Load the keys at open (none: an open cluster).  Returns 0 or -errno
 * with a sentence. */
int mds_auth_load(struct mds *m, char *err, size_t errlen);
void mds_auth_free(struct mds *m);

/* Does the cluster have keys? */
int mds_auth_on(const struct mds *m);

/* Check requests on the MDS's socket and sign its replies. */
int mds_auth_attach(struct mds *m, struct net_server *net);

/* The MDS's own credential (for its purge worker's requests), or NULL. */
struct auth_cred *mds_auth_cred(struct mds *m);

/* Write the daemon secret and client.admin's key from the MDS folder dir
 * (the MDS must not be running) to a keyring file.  0 or -errno. */
int mds_auth_export(const char *dir, const char *path, char *err,
		    size_t errlen);

/* ---- the dispatcher's hooks ------------------------------------------*/

/* May msg's sender send this type at all?  0, or -errno with a sentence
 * in err (the request is then answered with it). */
int mds_auth_gate(struct mds *m, const struct mds_msg *msg, char *err,
		  size_t errlen);

/* Is type one of the AUTH_* messages (served by mds_auth_exec)? */
int mds_auth_is_auth_type(unsigned type);
/* For an AUTH_* message: 1 if it changes the database (write phase). */
int mds_auth_is_write(const struct mds_msg *msg);

/* Serve an AUTH_* message in txn, building msg->reply (error replies
 * included).  Returns 0 or the error (the caller aborts a write). */
int mds_auth_exec(struct mds *m, MDB_txn *txn, struct mds_msg *msg);

/* Before a namespace request runs: check the sender's caps and map a
 * path-limited sender's inode 1 to its directory.  0, or -errno with a
 * sentence in err. */
int mds_auth_ns_before(struct mds *m, MDB_txn *txn, struct mds_msg *msg,
		       char *err, size_t errlen);

/* After it succeeded: show a path-limited sender its directory as inode
 * 1, and attach a file cap to replies about a regular file. */
void mds_auth_ns_after(struct mds *m, MDB_txn *txn, struct mds_msg *msg,
		       struct wire_ns_reply *r);

/* The reply cache's key for msg: its req_id, mixed with a keyed hash of
 * the sender's entity so that nobody is given another entity's cached
 * reply by reusing its req_id. */
uint64_t mds_auth_cache_id(const struct mds *m, const struct mds_msg *msg);

#endif
