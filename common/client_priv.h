/*
 * client_priv.h -- what the files of libstore share and nobody else sees:
 * the client structure and the helpers for MDS and OSD calls.
 */
#ifndef STORE_CLIENT_PRIV_H
#define STORE_CLIENT_PRIV_H

#include "auth.h"
#include "client.h"
#include "crush.h"
#include "ec.h"
#include "map.h"
#include "net.h"

#include <pthread.h>

/* Connections per OSD and to the MDS: the number of requests in flight to
 * one server from one client (net.h: one per connection). */
#define CLIENT_OSD_CONNS 8
#define CLIENT_MDS_CONNS 16

struct store_client {
	char mds_addr[STORE_ADDR_MAX + 1];
	char name[STORE_ENTITY_MAX + 1];
	uint32_t mds_timeout_ms;
	uint32_t osd_timeout_ms;
	unsigned objects_in_flight;

	struct rpc_engine *eng;
	struct rpc_peer *mds;

	uint64_t session_id;
	uint64_t root_ino;
	uint32_t inline_max;
	uint32_t version_seq; /* atomic */
	uint32_t req_seq;     /* atomic */
	/* MDS changes acknowledged, and how many of them a sync covered
	 * (atomics; store_sync). */
	uint64_t mds_changes, mds_synced;

	/* The map and its CRUSH tree: readers take the lock shared. */
	pthread_rwlock_t map_lock;
	struct store_map map;
	struct crush_tree *crush;
	pthread_mutex_t refresh_mu; /* one map fetch at a time */

	/* OSD peers by id, created on first use (addresses come from the
	 * map; a changed address gets a new peer). */
	pthread_mutex_t peers_mu;
	struct rpc_peer *osd_peer[STORE_MAX_OSDS];

	/* One codec per (k, m) in use. */
	pthread_mutex_t codec_mu;
	struct ec_codec *codecs[STORE_EC_MAX_K + 1][STORE_EC_MAX_M + 1];

	/* Authentication (client_auth.c): the key from the keyring, the
	 * credential the engine signs with, when to renew, and the file
	 * caps of a path-limited key. */
	struct client_auth *auth;
};

/* The placement of one object: its pool and the OSD at every position
 * (CRUSH_NONE where CRUSH found none), with each OSD's up state and peer. */
struct placement {
	struct map_pool pool;
	uint32_t pg;
	unsigned n; /* k + m */
	uint32_t osd[STORE_EC_MAX_SHARDS];
	uint8_t up[STORE_EC_MAX_SHARDS];
	struct rpc_peer *peer[STORE_EC_MAX_SHARDS];
	uint64_t epoch;
};

/* Place object objno of file (pool from its attrs).  Returns 0, or -errno
 * with a sentence (unknown pool, no OSDs). */
int client_place(struct store_client *c, uint32_t pool, uint64_t ino,
		 uint64_t objno, struct placement *pl);

/* The codec for k+m (created on first use).  NULL on error. */
struct ec_codec *client_codec(struct store_client *c, unsigned k, unsigned m);

/* Send a namespace request (payload in req, type) to the MDS and wait for
 * the reply: retried on lost connections until the MDS timeout.  On 0 the
 * call holds the reply (rpc_call_release it); on error the thread's error
 * sentence is set, using `what` (a path or name) for context. */
int client_mds_call(struct store_client *c, unsigned type,
		    const struct wbuf *payload, struct rpc_call *call,
		    const char *what);

/* Note a peer's map epoch; fetch the map if it is newer than ours. */
void client_saw_epoch(struct store_client *c, uint64_t epoch);

/* Build a request frame of the given type into an nn chunk: payload bytes
 * copied after the header.  Returns 0 or -ENOMEM; fills call->req/len. */
/* client_frame with header flags (WIRE_F_SYNC). */
int client_frame_flags(struct rpc_call *call, unsigned type, unsigned flags,
		       uint64_t epoch, const void *payload, size_t len);
int client_frame(struct rpc_call *call, unsigned type, uint64_t epoch,
		 const void *payload, size_t len);

/* Current map epoch. */
uint64_t client_epoch(struct store_client *c);

/* Error text of a failed reply (its sentence, or strerror). */
void client_reply_error(const struct rpc_call *call, char *buf, size_t cap);

/* ---- authentication (client_auth.c) ----------------------------------*/

/* Read the keyring the configuration names (none, or a missing file: the
 * client does not authenticate).  Returns 0 or -errno with a sentence (a
 * keyring open to group or others, no section for the entity). */
int client_auth_setup(struct store_client *c, const struct conf *conf);

/* With a key: authenticate to the MDS and make the engine sign with the
 * ticket.  Returns 0 or -errno with a sentence. */
int client_auth_login(struct store_client *c);

/* Renew the ticket if it expires soon (force: now).  0 or -errno. */
int client_auth_refresh(struct store_client *c, int force);

/* A hint to append to an error of an unauthenticated client ("" if
 * none): e.g. the keyring named in the configuration does not exist. */
const char *client_auth_hint(const struct store_client *c);

/* Remember the file cap a reply of the MDS carries. */
void client_fcap_note(struct store_client *c, const struct rpc_call *call);

/* Prepare a shard request for ino to an OSD: its destination and, for a
 * path-limited key, the file cap (fetched from the MDS if missing).
 * Returns 0, or -errno with a sentence (no cap could be had). */
int client_auth_shard(struct store_client *c, struct rpc_call *call,
		      uint32_t osd, uint64_t ino, int write);

void client_auth_free(struct store_client *c);

/* The credential requests are signed with (NULL without a key): for
 * tools/storeauthprobe, which builds frames by hand. */
struct auth_cred *client_auth_cred(struct store_client *c);

/* Delete the shards of replaced object versions (best effort; waits). */
void client_delete_versions(struct store_client *c, uint32_t pool,
			    uint64_t ino, const struct wire_obj *objs,
			    uint32_t n);

#endif
