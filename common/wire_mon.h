/*
 * wire_mon.h -- payloads of the cluster messages: an OSD's boot and
 * heartbeats, the cluster map (fetched and pushed), cluster status and
 * operator commands on OSDs.
 */
#ifndef STORE_WIRE_MON_H
#define STORE_WIRE_MON_H

#include "buf.h"
#include "map.h"
#include "store_limits.h"

#include <stdint.h>

/* OSD id of an OSD that has none yet (first boot of a new folder). */
#define WIRE_OSD_NEW 0xffffffffu

/* OSD_BOOT request: an OSD announces itself (on every start). */
struct wire_osd_boot {
	uint8_t cluster_id[16]; /* from the folder's superblock; zero if new */
	uint8_t uuid[16];       /* the folder's OSD uuid */
	uint32_t osd_id;        /* from the superblock, or WIRE_OSD_NEW */
	double weight;          /* relative capacity, >= 0 */
	uint64_t capacity;      /* bytes */
	uint64_t used;          /* bytes */
	char host[STORE_HOST_MAX + 1];
	char addr[STORE_ADDR_MAX + 1]; /* where it serves shards */
};

/* OSD_BOOT reply: the id to keep (in the superblock) and the cluster id. */
struct wire_osd_boot_reply {
	uint32_t osd_id;
	uint8_t cluster_id[16];
};

/* HEARTBEAT request (OSD -> MDS); the reply has no payload (its header
 * carries the MDS's epoch). */
struct wire_heartbeat {
	uint32_t osd_id;
	uint64_t capacity;
	uint64_t used;
	uint64_t shards;
	uint64_t recovery_bytes;  /* recovered since boot */
	uint64_t recovery_queued; /* objects waiting for recovery here */
	/* Recovery of the PGs this OSD is primary for (docs/recovery.md):
	 * object counts as of its latest check of each PG, and the epoch its
	 * last complete pass over all of them ran at (0: none yet). */
	uint64_t pass_epoch;
	uint32_t pgs;             /* PGs it is primary for, under its map */
	uint64_t degraded;
	uint64_t misplaced;
	uint64_t unfound;
	uint64_t bytes_left;      /* shard bytes still to write */
	uint64_t shards_recovered; /* since boot: rebuilt by decoding */
	uint64_t shards_moved;     /* ... copied to their position */
	uint64_t shards_gc;        /* ... unreferenced versions deleted */
	uint64_t scrub_errors;     /* ... corrupt shards found */
	/* Its file system as df sees it: bytes in use (f_blocks -
	 * f_bfree) and bytes still available to it (f_bavail); and
	 * WIRE_HB_* flags. */
	uint64_t fs_used;
	uint64_t avail;
	uint32_t flags;
	/* Which file system that is (osd/disk_id.h; 0: unknown): OSDs
	 * reporting the same disk_id share one, whose size and free bytes
	 * the MDS counts once. */
	uint64_t disk_id;
};

/* wire_heartbeat.flags.  FULL: its store refuses new shards for lack of
 * space (it could not allocate its next log segment); reads and deletes
 * go on. */
enum { WIRE_HB_FULL = 1 };

/* MAP_GET request: send the map if newer than have_epoch; the reply (and a
 * MAP_PUSH) carries an encoded map, or nothing if have_epoch is current. */
struct wire_map_get {
	uint64_t have_epoch;
};

/* OSD_CMD request: an operator's command on one OSD. */
enum wire_osd_op {
	WIRE_OSD_OUT = 1,
	WIRE_OSD_IN = 2,
	WIRE_OSD_DOWN = 3,
	WIRE_OSD_RM = 4,
	WIRE_OSD_REWEIGHT = 5,
};
struct wire_osd_cmd {
	uint32_t op;
	uint32_t osd_id;
	double weight; /* REWEIGHT */
};

/* STATUS reply (the request has no payload). */
enum wire_health { WIRE_HEALTH_OK = 0, WIRE_HEALTH_WARN = 1,
		   WIRE_HEALTH_ERR = 2 };
struct wire_status {
	uint8_t health;
	uint64_t epoch;
	uint32_t osds_total, osds_up, osds_in;
	uint64_t objects_total;
	uint64_t objects_degraded;
	uint64_t objects_misplaced;
	uint64_t objects_unfound;
	uint64_t bytes_total; /* capacity of in OSDs */
	uint64_t bytes_used;
	uint64_t files;
	uint64_t recovery_bps;    /* bytes/s recovered, recent average */
	uint64_t recovery_left;   /* bytes still to recover */
	char summary[STORE_ERRMSG_MAX + 1]; /* why not HEALTH_OK, or "" */
	/* Recovery (docs/recovery.md). */
	uint32_t osds_down_in;    /* down but still in: data unavailable */
	uint32_t osds_checking;   /* up primaries whose last complete pass
				   * is older than this epoch */
	uint64_t shards_recovered; /* sums over the up OSDs, since boot */
	uint64_t shards_moved;
	uint64_t shards_gc;
	uint64_t scrub_errors;
	/* One wire_osd_stat (wire_rec.h) per OSD of the map.  The encoder
	 * writes osd_stats[0 .. n_osd_stats); the decoder validates them,
	 * sets n_osd_stats and leaves osd_stats NULL: read them with
	 * wire_dec_status_osds(). */
	uint32_t n_osd_stats;
	const struct wire_osd_stat *osd_stats;
};

void wire_enc_osd_boot(struct wbuf *w, const struct wire_osd_boot *m);
int wire_dec_osd_boot(const uint8_t *p, size_t len, struct wire_osd_boot *m);
void wire_enc_osd_boot_reply(struct wbuf *w,
			     const struct wire_osd_boot_reply *m);
int wire_dec_osd_boot_reply(const uint8_t *p, size_t len,
			    struct wire_osd_boot_reply *m);

void wire_enc_heartbeat(struct wbuf *w, const struct wire_heartbeat *m);
int wire_dec_heartbeat(const uint8_t *p, size_t len, struct wire_heartbeat *m);

void wire_enc_map_get(struct wbuf *w, const struct wire_map_get *m);
int wire_dec_map_get(const uint8_t *p, size_t len, struct wire_map_get *m);

/* Encode a whole cluster map (MAP_GET reply, MAP_PUSH, and the MDS's copy
 * on disk), overrides included (format 2, wire_mon.c). */
void wire_enc_map(struct wbuf *w, const struct store_map *m);
/* Decode a map into *m (which must be initialised; its old contents are
 * freed on success).  Counts are bounded (overrides: by the PGs of the
 * map's pools) and checked against the bytes present before anything is
 * allocated; the result must pass map_check().  Returns 0, -EBADMSG (map
 * left unchanged) or -ENOMEM. */
int wire_dec_map(const uint8_t *p, size_t len, struct store_map *m);
/* The same for a map of format 1 (before overrides existed), as an MDS
 * of DB_FORMAT <= 3 stored it: the result has no overrides. */
int wire_dec_map_v1(const uint8_t *p, size_t len, struct store_map *m);

void wire_enc_osd_cmd(struct wbuf *w, const struct wire_osd_cmd *m);
int wire_dec_osd_cmd(const uint8_t *p, size_t len, struct wire_osd_cmd *m);

void wire_enc_status(struct wbuf *w, const struct wire_status *m);
int wire_dec_status(const uint8_t *p, size_t len, struct wire_status *m);
/* The per-OSD entries of a STATUS reply payload: up to cap into out, the
 * number present in *n.  Returns 0 or -EBADMSG. */
struct wire_osd_stat;
int wire_dec_status_osds(const uint8_t *p, size_t len,
			 struct wire_osd_stat *out, uint32_t cap, uint32_t *n);

/* A weight on the wire: the IEEE-754 bits of the double, so that every
 * party holds the exact same value.  Decoding rejects NaN, infinities and
 * negative numbers. */
void wire_enc_weight(struct wbuf *w, double v);
double wire_dec_weight(struct rbuf *r);

#endif
