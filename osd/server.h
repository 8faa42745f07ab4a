/*
 * server.h -- store-osd's daemon: one event loop that serves the shard
 * protocol (SHARD_PUT/GET/LIST/DELETE, PING) from the shard store, boots
 * and heartbeats with the MDS, and follows the cluster map.
 *
 * Everything runs on one thread around one io_uring: the nanomsg server's
 * fd, the MDS replies (an eventfd the RPC engine's thread signals) and the
 * stop fd are polled through the ring together with the store's disk
 * I/O, so a request never waits for another one's disk write and replies
 * go out in whatever order their data becomes durable or readable.
 * main.c parses the command line and hands a struct osd_config to
 * osd_run(); tests run osd_run() in a thread.
 */
#ifndef STORE_OSD_SERVER_H
#define STORE_OSD_SERVER_H

#include <stdint.h>

struct recov_config;

/* How often the OSD heartbeats by default (conf osd_heartbeat_interval):
 * the MDS marks an OSD down after a few missed ones (its grace is 5 s). */
#define OSD_HEARTBEAT_MS_DEFAULT 1000

struct osd_config {
	const char *data_dir;   /* the shard store's folder */
	const char *mds_addr;   /* tcp://HOST:PORT of the MDS */
	const char *addr;       /* where to serve; NULL: a free port on
				   127.0.0.1, logged */
	const char *host;       /* failure domain; NULL: gethostname() */
	double weight;          /* < 0: the folder's capacity in TiB */
	uint64_t heartbeat_ms;  /* 0: OSD_HEARTBEAT_MS_DEFAULT */
	uint64_t segment_size;  /* 0: the store's default */
	int stop_fd;            /* readable: stop (a signalfd, an eventfd) */
	const char *keyring;    /* holds the daemon secret; NULL: an open
				   cluster (no authentication) */
	const struct recov_config *rec; /* recovery (recovery.h); NULL:
				       * defaults */
};

/*
 * Run the OSD: open (or format) the store, boot with the MDS (retrying
 * until it answers), fetch the map, serve until stop_fd is readable, then
 * finish the requests in flight and close everything.  Returns 0 after a
 * clean stop, or -errno after logging one sentence on why it could not
 * run (-EXDEV: the folder belongs to another cluster; -EADDRINUSE; the
 * store's errors).
 */
int osd_run(const struct osd_config *cfg);

#endif
