/*
 * server.c -- the MDS event loop: see server.h.
 */
#include "server.h"
#include "mds_auth.h"
#include "mappush.h"
#include "purge.h"
#include "log.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Longest sleep between looks at the timers and the stop flag: heartbeat
 * grace is seconds, so 100 ms is precise enough and costs nothing. */
#define SERVER_POLL_MS 100

struct mds_server {
	struct mds *m;
	struct net_server *net;
	struct purger *purge;
	struct mappush *push;
	struct net_req reqs[MDS_BATCH_MAX];
	struct mds_msg msgs[MDS_BATCH_MAX];
	struct log_limit send_log;
};

int mds_server_open(struct mds *m, const char *addr, struct mds_server **out)
{
	struct mds_server *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	rc = net_server_open(addr, &s->net);
	if (rc) {
		free(s);
		return rc;
	}
	/* With keys, every request is checked and every reply signed. */
	rc = mds_auth_attach(m, s->net);
	if (rc == 0)
		rc = purger_create(m, &s->purge);
	/* New epochs go to the OSDs at once (recovery starts from them). */
	if (rc == 0) {
		rc = mappush_create(m, &s->push);
		if (rc)
			purger_free(s->purge);
	}
	if (rc) {
		net_server_close(s->net);
		free(s);
		return rc;
	}
	s->m = m;
	*out = s;
	return 0;
}

static void send_reply(void *arg, struct mds_msg *msg)
{
	struct mds_server *s = arg;
	struct net_req *req = msg->user;
	int rc = net_server_reply(s->net, req, msg->reply.p, msg->reply.len,
				  0);

	if (rc)
		log_ratelimited(&s->send_log, LOG_WARN, "could not send the "
				"reply to %s (req %llu): %s; the client will "
				"resend", wire_type_name(msg->hdr.type),
				(unsigned long long)msg->hdr.req_id,
				strerror(-rc));
}

int mds_server_run(struct mds_server *s, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		struct pollfd pfd[2] = {
			{ net_server_fd(s->net), POLLIN, 0 },
			{ purger_fd(s->purge), POLLIN, 0 },
		};
		size_t n = 0;
		int rc;

		if (poll(pfd, 2, SERVER_POLL_MS) < 0 && errno != EINTR)
			return -errno;
		while (n < MDS_BATCH_MAX) {
			rc = net_server_recv(s->net, &s->reqs[n]);
			if (rc < 0) {
				log_err("the MDS socket failed: %s",
					strerror(-rc));
				return rc;
			}
			if (rc == 0)
				break;
			memset(&s->msgs[n], 0, sizeof(s->msgs[n]));
			s->msgs[n].frame = s->reqs[n].msg;
			s->msgs[n].len = s->reqs[n].len;
			s->msgs[n].hdr = s->reqs[n].hdr;
			s->msgs[n].user = &s->reqs[n];
			s->msgs[n].auth = s->reqs[n].auth;
			n++;
		}
		if (n)
			mds_handle(s->m, s->msgs, n, send_reply, s);
		/* Timers only once the queue is drained: heartbeats still
		 * waiting behind a full batch must not count as silence. */
		if (n < MDS_BATCH_MAX)
			mds_tick(s->m);
		purger_step(s->purge);
		mappush_step(s->push);
	}
	return 0;
}

uint64_t mds_server_garbage(const struct mds_server *s)
{
	return net_server_garbage(s->net);
}

void mds_server_close(struct mds_server *s)
{
	if (!s)
		return;
	mappush_free(s->push);
	purger_free(s->purge);
	net_server_close(s->net);
	free(s);
}
