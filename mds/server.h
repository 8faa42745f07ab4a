/*
 * server.h -- the MDS on a socket: one event loop that takes every request
 * waiting (up to MDS_BATCH_MAX), hands them to mds_handle() as one batch
 * (one commit for all the changes among them), sends the replies, and
 * runs the OSD timers between batches.
 */
#ifndef MDS_SERVER_H
#define MDS_SERVER_H

#include "mds.h"

#include <signal.h>

struct mds_server;

/* Bind the MDS m to addr ("tcp://HOST:PORT").  Returns 0 and *out, or
 * -errno (-EADDRINUSE, -EINVAL for a bad address). */
int mds_server_open(struct mds *m, const char *addr, struct mds_server **out);

/* Serve until *stop becomes non-zero (checked between batches and at
 * least every 100 ms); the batch in hand is finished first.  Returns 0,
 * or -errno if the socket fails. */
int mds_server_run(struct mds_server *s, volatile sig_atomic_t *stop);

/* Frames dropped as garbage so far. */
uint64_t mds_server_garbage(const struct mds_server *s);

void mds_server_close(struct mds_server *s);

#endif
