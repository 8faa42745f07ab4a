/*
 * mds.h -- the metadata server without its transport: the database, the
 * cluster map, and the handling of batches of request frames (group
 * commit).  server.h puts it on a socket; tests drive it directly.
 *
 * A batch (mds_handle) is every request the server had waiting.  Requests
 * that change nothing are answered first, from one read transaction on
 * the committed state, without waiting for any fsync.  Requests that
 * change something run one after the other in ONE write transaction, each
 * in its own nested transaction (a failing request is rolled back alone
 * and answered with its error); the transaction is committed once, and
 * only then are their replies handed out: nothing is acknowledged before
 * it is durable, and one fsync serves the whole batch.
 *
 * Every reply carries the current map epoch.  A request the MDS cannot
 * decode is answered -EBADMSG; one it does not serve -EOPNOTSUPP.
 */
#ifndef MDS_MDS_H
#define MDS_MDS_H

#include "db.h"
#include "osdmap.h"
#include "rcache.h"
#include "status.h"
#include "wire.h"
#include "wire_mon.h"
#include "wire_ns.h"
#include "wire_rec.h"

#include <stddef.h>
#include <stdint.h>

struct auth_req;
struct mds_auth;
struct mds_auth_keys;

/* Runtime settings (mds_opts_default() fills the defaults). */
struct mds_opts {
	const char *dir;
	uint64_t heartbeat_grace_ms; /* silence before an OSD is down (5 s) */
	uint64_t down_out_ms;        /* down time before it is out (60 s) */
	uint32_t inline_max;         /* largest inline file (64 KiB) */
	size_t map_size;             /* LMDB map size (0: 64 GiB) */
	int nosync;                  /* tests only: commits without fsync */
	/* Security (docs/security.md); they matter only with keys. */
	int secure;                  /* encrypt all traffic (conf secure) */
	uint64_t ticket_ttl_ms;      /* ticket lifetime (1 h) */
	uint8_t cipher;              /* AUTH_SUITE_*, 0: the best here */
};
void mds_opts_default(struct mds_opts *o);

/* What --init creates. */
struct mds_cluster_opts {
	uint8_t k, m;         /* erasure profile of the default pool (4+2) */
	uint32_t pg_num;      /* 256 */
	uint32_t object_size; /* 4 MiB */
	uint8_t domain;       /* MAP_DOMAIN_HOST */
	uint32_t uid, gid;    /* owner of the root directory */
	/* The cluster's first keys (mds_auth.h), or NULL for a cluster
	 * without authentication. */
	const struct mds_auth_keys *keys;
};
void mds_cluster_opts_default(struct mds_cluster_opts *c);

/* Largest --pg-num: a PG table per pool is computed per map epoch. */
#define MDS_PG_NUM_MAX 65536
/* How long a commit may stay off stable storage (its meta page written,
 * not synced: db.h) before the MDS syncs it unasked.  A journal's commit
 * interval (ext4's is 5 s): one fdatasync of one page per 50 ms costs
 * nothing, and a power failure loses at most this much acknowledged but
 * unsynced work (WIRE_F_SYNC asks for a sync before the reply). */
#define MDS_SYNC_DELAY_MS 50
/* Requests taken into one batch. */
#define MDS_BATCH_MAX 512

struct mds {
	struct mds_opts o;
	struct mds_db db;
	uint8_t cluster_id[16];
	struct osdmap om;
	struct status_cache sc;
	struct rcache *rc;
	MDB_txn *rtxn;        /* the read transaction, reset when idle */
	uint64_t fake_now_ms; /* tests: the monotonic clock, if non-zero */
	/* Counters, for tests and the log. */
	uint64_t n_batches, n_requests, n_commits, n_cache_hits;
	struct mds_auth *auth; /* keys and caps (mds_auth.h) */
};

/* Create a new cluster in o->dir (created if missing): a random cluster
 * id, the root directory, the default pool (id 1, "data") and map epoch
 * 1.  Returns 0 and the id in cluster_id, or -errno with a sentence:
 * -EEXIST if the folder already holds a cluster. */
int mds_create(const struct mds_opts *o, const struct mds_cluster_opts *c,
	       uint8_t cluster_id[16], char *err, size_t errlen);

/* Open the cluster in o->dir.  Returns 0 and *out, or -errno with a
 * sentence: -ENOENT ("DIR holds no cluster; run store-mds --init ..."),
 * -EBUSY (another MDS serves it), -EUCLEAN (damaged), ... */
int mds_open(const struct mds_opts *o, struct mds **out, char *err,
	     size_t errlen);

/* Close the database (after the last batch).  NULL is ignored. */
void mds_close(struct mds *m);

/* The MDS's clock (monotonic ms; fake_now_ms in tests). */
uint64_t mds_now_ms(const struct mds *m);

/* Current map epoch. */
static inline uint64_t mds_epoch(const struct mds *m)
{
	return m->om.map.epoch;
}

/* ---- batches ------------------------------------------------------------*/

struct mds_msg {
	/* In: a whole request frame whose header decoded into hdr. */
	const uint8_t *frame;
	size_t len;
	struct wire_hdr hdr;
	void *user; /* the caller's (the server keeps its net_req here) */
	/* Who sent it (net.h), or NULL: unauthenticated.  The dispatcher
	 * may attach a file cap for the reply to it. */
	struct auth_req *auth;
	/* Out: the whole reply frame, valid during the reply callback. */
	struct wbuf reply;
	/* Private to the dispatcher. */
	int kind;
	int dup_of;
	struct wire_ns_req *ns;
	union {
		struct wire_osd_boot boot;
		struct wire_heartbeat hb;
		struct wire_osd_cmd cmd;
		struct wire_map_get mg;
		struct wire_pg_objects pgq;
	} u;
};

/* Called once per message when its reply is ready (and durable); the
 * reply buffer is freed when it returns. */
typedef void (*mds_reply_fn)(void *arg, struct mds_msg *msg);

/* Handle a batch of n requests (see the top of this file).  Every message
 * gets exactly one call of fn.  Messages must be zeroed apart from the
 * input fields. */
void mds_handle(struct mds *m, struct mds_msg *msgs, size_t n,
		mds_reply_fn fn, void *arg);

/* Run the timers (mark silent OSDs down, long-down OSDs out), in a write
 * transaction of its own when something is due.  Returns 0 or -errno. */
int mds_tick(struct mds *m);

#endif
