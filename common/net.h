/*
 * net.h -- messages over nanomsg: servers that hold many requests at once,
 * and an RPC engine that keeps many requests in flight to many servers,
 * each with a deadline.
 *
 * Servers use a raw-mode REP socket (AF_SP_RAW): a request is received with
 * its routing header, may be answered later and out of order, and the
 * answer is routed back with that header.
 *
 * Clients use raw-mode REQ sockets, which never resend on their own (a
 * plain REQ socket silently resends a request when a connection breaks,
 * which would replay a non-idempotent request to a restarted MDS).  Each
 * client connection carries at most ONE request at a time: nanomsg's raw
 * REP drops, without any error, a reply for a connection that is still
 * busy sending the previous reply (measured: two 8 MiB replies queued on
 * one connection, the second vanished).  So a peer is a small pool of
 * connections, and parallelism to one server is the pool's size.
 *
 * The engine runs one I/O thread that owns every client socket.  Any thread
 * submits calls; the I/O thread sends them, matches replies by the frame's
 * req_id (which it assigns), and completes each call exactly once: with a
 * reply, or -ETIMEDOUT when its deadline passes (-ENOTCONN if it never got
 * onto a connection, e.g. the server is not running).  A call's `done`
 * callback runs on the I/O thread and must not block.
 */
#ifndef STORE_NET_H
#define STORE_NET_H

#include "auth.h"
#include "wire.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ---- message buffers ---------------------------------------------------*/

/* A message buffer from nanomsg's allocator: sent without a copy.  NULL on
 * ENOMEM. */
void *net_alloc(size_t len);
void net_free(void *msg);

/* Allocation hooks for a growable wbuf backed by nanomsg chunks: build a
 * message with wbuf_init_alloc(&w, &net_wbuf_alloc) and hand w.p/w.len to
 * a call with req_nn = 1. */
extern const struct wbuf_alloc net_wbuf_alloc;

/* Socket options every socket gets: NN_RCVMAXSIZE = STORE_MSG_MAX (larger
 * frames are refused before allocation), TCP_NODELAY, 4 MiB socket
 * buffers, reconnect every 100 ms (at most 1 s). */
int net_setup_socket(int sock);

/* Is addr a valid "tcp://HOST:PORT" address?  1 or 0. */
int net_addr_ok(const char *addr);

/* ---- servers ----------------------------------------------------------*/

struct net_server;

/* A request received by a server: the frame (validated header in hdr) and
 * the routing header to answer it with. */
struct net_req {
	void *msg; /* nanomsg chunk, whole frame */
	size_t len;
	void *ctl; /* routing header (nanomsg control chunk) */
	struct wire_hdr hdr;
	uint64_t recv_ns; /* when received (monotonic) */
	/* Who sent it, as its authenticator proved (auth_server.h); NULL if
	 * the server checks nothing or the type is let in unauthenticated.
	 * Replies to it are signed with it. */
	struct auth_req *auth;
};

/* Bind a server to addr ("tcp://127.0.0.1:PORT").  Returns 0 and *out, or
 * -errno (-EADDRINUSE, -EINVAL for a bad address, ...). */
int net_server_open(const char *addr, struct net_server **out);

/* A file descriptor that is readable while requests may be waiting (for
 * poll(2) or io_uring's POLL_ADD; never read it). */
int net_server_fd(const struct net_server *s);

/* Check every request's authenticator with a (auth_server.h; not owned):
 * from then on, requests that fail are dropped or refused inside
 * net_server_recv(), and replies are signed.  A server without one
 * refuses authenticated requests (it cannot check them). */
struct auth_server;
void net_server_set_auth(struct net_server *s, struct auth_server *a);

/* Take one request without blocking.  Returns 1 and *req, 0 if none is
 * waiting, or -errno.  Frames whose header does not validate are logged
 * (rate-limited), dropped and skipped: the caller only sees valid frames.
 * With authentication on, only requests that passed it come out (the
 * payload decrypted if it was sealed). */
int net_server_recv(struct net_server *s, struct net_req *req);

/* Send a reply (msg/len, from net_alloc when msg_nn is 1, else copied) to
 * req, then release req.  Returns 0 or -errno; the reply may still be lost
 * if the client has gone (it will time out and retry). */
int net_server_reply(struct net_server *s, struct net_req *req, void *msg,
		     size_t len, int msg_nn);

/* Build and send an error reply (status < 0, a sentence) to req. */
int net_server_reply_error(struct net_server *s, struct net_req *req,
			   uint64_t epoch, int status, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Release a request without replying. */
void net_req_free(struct net_req *req);

/* Frames dropped as garbage since open (for tests and status). */
uint64_t net_server_garbage(const struct net_server *s);

void net_server_close(struct net_server *s);

/* ---- the RPC engine ---------------------------------------------------*/

struct rpc_engine;
struct rpc_peer;
struct rpc_call;

typedef void (*rpc_done_fn)(struct rpc_call *c);

struct rpc_call {
	/* Set by the caller before rpc_submit(). */
	struct rpc_peer *peer;
	void *req;        /* a whole frame (wire_msg_begin ... finish) */
	size_t req_len;
	int req_nn;       /* req is a nanomsg chunk: sent without copy */
	uint32_t timeout_ms;
	rpc_done_fn done; /* on the I/O thread; may be NULL with rpc_wait */
	void *arg;
	uint64_t req_id;  /* 0: the engine assigns one; else kept (retries) */
	uint32_t send_timeout_ms; /* fail with -ENOTCONN if not on the wire
				   * this long after it got a connection
				   * (0: timeout_ms) */
	/* Authentication, when the engine has a credential: the daemon the
	 * request is for (AUTH_DEST_*), a file capability to attach, or
	 * no_auth for the handshake's own unauthenticated calls. */
	uint32_t auth_dest;
	uint8_t no_auth;
	uint8_t fcap_len; /* 0 or AUTH_FCAP_LEN */
	uint8_t fcap[AUTH_FCAP_LEN];

	/* Results, valid once done.  status is 0 when a reply arrived (its
	 * own status is in rhdr.status), else -ETIMEDOUT, -ENOTCONN,
	 * -ENOMEM or -ECANCELED (engine shutting down). */
	int status;
	void *reply; /* the reply frame, a nanomsg chunk: rpc_call_release() */
	size_t reply_len;
	struct wire_hdr rhdr;
	/* The reply carried a tag that verified under the session key: every
	 * byte of it is what the daemon sent (0 without keys, and for an
	 * unsigned error sentence). */
	uint8_t reply_verified;

	/* Private to the engine. */
	uint8_t auth_on, auth_suite;
	uint8_t auth_key[AUTH_KEY_LEN];
	uint64_t auth_seq;
	uint64_t deadline_ns;
	uint64_t send_deadline_ns;
	struct rpc_conn *conn;
	struct rpc_call *next;
	int state;
	int sync_done;
	pthread_mutex_t *sync_mu;
	pthread_cond_t *sync_cv;
};

/* Start an engine and its I/O thread.  Returns 0 and *out, or -errno. */
int rpc_engine_create(struct rpc_engine **out);

/* Stop the I/O thread (pending calls complete with -ECANCELED), close
 * every socket and free the engine. */
void rpc_engine_destroy(struct rpc_engine *e);

/* Sign every call with cred (auth.h; not owned, must outlive the
 * engine) from now on, and accept only replies signed by their server.
 * A call is signed when submitted, on the submitting thread. */
void rpc_engine_set_cred(struct rpc_engine *e, struct auth_cred *cred);

/* The credential every engine created from now on starts with (daemons
 * set their own once, before any engine exists, so that every module's
 * engine signs).  NULL: none. */
void rpc_engine_default_cred(struct auth_cred *cred);

/* The peer for addr, created on first use (connections are opened lazily
 * and re-opened by themselves).  At most max_conns requests are in flight
 * to it at once; more wait in a queue, in order.  A call's timeouts count
 * from when it leaves the queue for a connection; while queued it waits
 * for the calls ahead, and when one of those fails (-ENOTCONN, or
 * -ETIMEDOUT: no answer in time) every queued call fails with it at once.
 * Returns 0 and *out, or -EINVAL (bad address) / -ENOMEM.  Peers live as
 * long as the engine. */
int rpc_peer_get(struct rpc_engine *e, const char *addr, unsigned max_conns,
		 struct rpc_peer **out);

/* The address of a peer. */
const char *rpc_peer_addr(const struct rpc_peer *p);

/* Submit a call (the engine takes req and frees it).  The call completes
 * exactly once, through c->done; c must stay valid until then.  The
 * frame's req_id is set here (and, with a credential, the frame signed:
 * a frame built with AUTH_ROOM spare bytes after it is signed in place). */
void rpc_submit(struct rpc_engine *e, struct rpc_call *c);

/* Submit a call and wait for it (c->done must be NULL).  Returns
 * c->status. */
int rpc_call_wait(struct rpc_engine *e, struct rpc_call *c);

/* Release a finished call's reply. */
void rpc_call_release(struct rpc_call *c);

/* Reply status as a single error: c->status if the call failed, else the
 * reply's status (0 on success). */
static inline int rpc_result(const struct rpc_call *c)
{
	return c->status ? c->status : c->rhdr.status;
}

/* Payload of a finished call's reply. */
static inline const uint8_t *rpc_reply_payload(const struct rpc_call *c)
{
	return (const uint8_t *)c->reply + WIRE_HDR_LEN;
}

/* A group of calls to wait for together: init, set each call's done to
 * rpc_group_done and arg to the group (rpc_group_submit does both), then
 * wait. */
struct rpc_group {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned pending;
};
void rpc_group_init(struct rpc_group *g);
void rpc_group_destroy(struct rpc_group *g);
void rpc_group_submit(struct rpc_engine *e, struct rpc_group *g,
		      struct rpc_call *c);
/* Wait until every call submitted to the group has completed. */
void rpc_group_wait(struct rpc_group *g);
/* Wait until fewer than n calls are pending. */
void rpc_group_wait_below(struct rpc_group *g, unsigned n);
void rpc_group_done(struct rpc_call *c);

#endif
