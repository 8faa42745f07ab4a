/*
 * net.c -- servers and the RPC engine over nanomsg: see net.h.
 *
 * Engine invariants (checked by rpc_engine_check() in debug builds):
 *   - a call is in exactly one place: the submit list, its peer's wait
 *     queue, or one connection (conn->call), until it completes;
 *   - a connection carries at most one call; conn->sent says whether that
 *     call was handed to nanomsg (then only its reply or its deadline can
 *     complete it);
 *   - everything but the submit list is touched only by the I/O thread.
 */
#include "net.h"
#include "auth_server.h"
#include "crc.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <nanomsg/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Kernel socket buffers: large enough that a 1 MiB shard goes out in a few
 * syscalls instead of dozens (nanomsg's default is 128 KiB). */
#define NET_SOCKBUF (4 << 20)
/* Reconnect quickly after a daemon restart, but without hammering a dead
 * one: 100 ms, backing off to 1 s. */
#define NET_RECONNECT_MS 100
#define NET_RECONNECT_MAX_MS 1000

enum { CALL_SUBMITTED, CALL_QUEUED, CALL_ON_CONN, CALL_DONE };

/* ---- buffers ----------------------------------------------------------*/

void *net_alloc(size_t len)
{
	return nn_allocmsg(len ? len : 1, 0);
}

void net_free(void *msg)
{
	if (msg)
		nn_freemsg(msg);
}

static void *nn_wbuf_realloc(void *p, size_t n)
{
	return p ? nn_reallocmsg(p, n) : nn_allocmsg(n, 0);
}

const struct wbuf_alloc net_wbuf_alloc = {
	.realloc = nn_wbuf_realloc,
	.free = net_free,
};

int net_setup_socket(int sock)
{
	int maxsz = (int)STORE_MSG_MAX, buf = NET_SOCKBUF, one = 1;
	int ivl = NET_RECONNECT_MS, ivl_max = NET_RECONNECT_MAX_MS;

	if (nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsz,
			  sizeof(maxsz)) < 0 ||
	    nn_setsockopt(sock, NN_SOL_SOCKET, NN_SNDBUF, &buf, sizeof(buf)) <
		    0 ||
	    nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVBUF, &buf, sizeof(buf)) <
		    0 ||
	    nn_setsockopt(sock, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ivl,
			  sizeof(ivl)) < 0 ||
	    nn_setsockopt(sock, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX, &ivl_max,
			  sizeof(ivl_max)) < 0 ||
	    nn_setsockopt(sock, NN_TCP, NN_TCP_NODELAY, &one, sizeof(one)) < 0)
		return -nn_errno();
	return 0;
}

int net_addr_ok(const char *addr)
{
	const char *colon;
	char *end;
	long port;

	if (!addr || strncmp(addr, "tcp://", 6) || strlen(addr) > STORE_ADDR_MAX)
		return 0;
	colon = strrchr(addr + 6, ':');
	if (!colon || colon == addr + 6)
		return 0;
	port = strtol(colon + 1, &end, 10);
	return *end == '\0' && port > 0 && port < 65536;
}

/* Patch the req_id of a finished frame and re-seal its header crc. */
static void frame_set_req_id(uint8_t *msg, uint64_t id)
{
	put_le64(msg + 8, id);
	put_le32(msg + 36, store_crc32c(0, msg, 36));
}

/* ---- servers ----------------------------------------------------------*/

struct net_server {
	int sock;
	int rcvfd;
	uint64_t garbage;
	struct auth_server *auth;
	struct log_limit garbage_log, noauth_log;
	char addr[STORE_ADDR_MAX + 1];
};

int net_server_open(const char *addr, struct net_server **out)
{
	struct net_server *s;
	size_t sz = sizeof(int);
	int rc;

	*out = NULL;
	if (!net_addr_ok(addr))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->sock = nn_socket(AF_SP_RAW, NN_REP);
	if (s->sock < 0) {
		rc = -nn_errno();
		free(s);
		return rc;
	}
	rc = net_setup_socket(s->sock);
	if (rc == 0 && nn_bind(s->sock, addr) < 0)
		rc = -nn_errno();
	if (rc == 0 &&
	    nn_getsockopt(s->sock, NN_SOL_SOCKET, NN_RCVFD, &s->rcvfd, &sz) < 0)
		rc = -nn_errno();
	if (rc) {
		nn_close(s->sock);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int net_server_fd(const struct net_server *s)
{
	return s->rcvfd;
}

uint64_t net_server_garbage(const struct net_server *s)
{
	return s->garbage;
}

void net_server_set_auth(struct net_server *s, struct auth_server *a)
{
	s->auth = a;
}

/* Authentication of a request (auth_server.h).  Returns 0 to serve it
 * (req->auth set), or 1 if it was dropped or answered here. */
static int server_auth(struct net_server *s, void *body, void *ctl, int n,
		       struct net_req *req)
{
	char why[STORE_ERRMSG_MAX + 1];
	struct auth_req *ar = NULL;
	int status = 0, v;

	if (s->auth) {
		v = auth_server_check(s->auth, body, (size_t)n, &req->hdr, &ar,
				      &status, why, sizeof(why));
	} else {
		/* Without keys nothing can be checked, so nothing signed is
		 * served: the sender must not believe it was. */
		v = AUTH_REFUSE;
		status = -EPROTONOSUPPORT;
		snprintf(why, sizeof(why), "the daemon at %s runs without "
			 "keys and cannot check authenticated requests: give "
			 "it the cluster's keyring, or remove 'keyring' from "
			 "the client's configuration", s->addr);
		log_ratelimited(&s->noauth_log, LOG_WARN, "%s: refused an "
				"authenticated %s request: this daemon has no "
				"keyring", s->addr,
				wire_type_name(req->hdr.type));
	}
	if (v == AUTH_OK) {
		req->auth = ar;
		return 0;
	}
	req->msg = body;
	req->len = (size_t)n;
	req->ctl = ctl;
	req->auth = v == AUTH_REFUSE_SIGNED ? ar : NULL;
	if (v == AUTH_DROP) {
		net_req_free(req);
		return 1;
	}
	net_server_reply_error(s, req, 0, status, "%s", why);
	return 1;
}

int net_server_recv(struct net_server *s, struct net_req *req)
{
	for (;;) {
		struct nn_msghdr h;
		struct nn_iovec iov;
		void *body = NULL, *ctl = NULL;
		int n, rc;

		memset(&h, 0, sizeof(h));
		iov.iov_base = &body;
		iov.iov_len = NN_MSG;
		h.msg_iov = &iov;
		h.msg_iovlen = 1;
		h.msg_control = &ctl;
		h.msg_controllen = NN_MSG;
		n = nn_recvmsg(s->sock, &h, NN_DONTWAIT);
		if (n < 0) {
			rc = nn_errno();
			if (rc == EAGAIN || rc == EINTR)
				return 0;
			return -rc;
		}
		rc = wire_hdr_decode(body, (size_t)n, &req->hdr);
		if (rc == 0 && (req->hdr.flags & WIRE_F_REPLY))
			rc = -EBADMSG; /* servers take requests only */
		if (rc) {
			s->garbage++;
			log_ratelimited(&s->garbage_log, LOG_WARN,
					"%s: dropped a malformed message of %d "
					"bytes (%s); still serving", s->addr, n,
					rc == -EPROTONOSUPPORT ?
						"unsupported protocol version" :
						"not a valid frame");
			nn_freemsg(body);
			if (ctl)
				nn_freemsg(ctl);
			continue;
		}
		req->auth = NULL;
		if ((s->auth || (req->hdr.flags &
				 (WIRE_F_AUTH | WIRE_F_SEALED))) &&
		    server_auth(s, body, ctl, n, req))
			continue;
		req->msg = body;
		req->len = (size_t)n;
		req->ctl = ctl;
		req->recv_ns = now_ns();
		return 1;
	}
}

void net_req_free(struct net_req *req)
{
	if (req->msg)
		nn_freemsg(req->msg);
	if (req->ctl)
		nn_freemsg(req->ctl);
	req->msg = req->ctl = NULL;
	if (req->auth) {
		sodium_memzero(req->auth, sizeof(*req->auth));
		free(req->auth);
		req->auth = NULL;
	}
}

/* Sign a reply to an authenticated request: the frame grows by its
 * trailer (in place when the chunk has room) and becomes a chunk. */
static int sign_reply(struct net_server *s, struct net_req *req, void **msg,
		      size_t *len, int *msg_nn)
{
	size_t need = *len + auth_reply_room(req->auth);
	ssize_t n;
	void *p;

	if (*msg_nn) {
		p = nn_reallocmsg(*msg, need);
	} else {
		p = nn_allocmsg(need, 0);
		if (p)
			memcpy(p, *msg, *len);
	}
	if (!p)
		return -ENOMEM;
	*msg = p;
	*msg_nn = 1;
	n = auth_server_sign_reply(s->auth, req->auth, p, *len);
	if (n < 0)
		return (int)n;
	*len = (size_t)n;
	return 0;
}

int net_server_reply(struct net_server *s, struct net_req *req, void *msg,
		     size_t len, int msg_nn)
{
	struct nn_msghdr h;
	struct nn_iovec iov;
	int rc = 0;

	if (req->auth && s->auth) {
		void *orig = msg;

		rc = sign_reply(s, req, &msg, &len, &msg_nn);
		if (rc) {
			/* A chunk that could not grow is still ours. */
			if (msg == orig && msg_nn)
				nn_freemsg(msg);
			else if (msg != orig)
				nn_freemsg(msg);
			net_req_free(req);
			return rc;
		}
	}
	memset(&h, 0, sizeof(h));
	if (msg_nn) {
		iov.iov_base = &msg;
		iov.iov_len = NN_MSG;
		/* nanomsg sends a chunk's whole size: trim it to the frame. */
		if (len != 0) {
			void *p = nn_reallocmsg(msg, len);

			if (!p) {
				nn_freemsg(msg);
				net_req_free(req);
				return -ENOMEM;
			}
			msg = p;
		}
	} else {
		iov.iov_base = msg;
		iov.iov_len = len;
	}
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = &req->ctl;
	h.msg_controllen = NN_MSG;
	if (nn_sendmsg(s->sock, &h, NN_DONTWAIT) < 0) {
		rc = -nn_errno();
		if (msg_nn)
			nn_freemsg(msg);
	} else {
		req->ctl = NULL; /* now nanomsg's */
	}
	net_req_free(req);
	return rc;
}

int net_server_reply_error(struct net_server *s, struct net_req *req,
			   uint64_t epoch, int status, const char *fmt, ...)
{
	char text[STORE_ERRMSG_MAX + 1];
	struct wbuf w;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	wbuf_init(&w);
	rc = wire_build_error(&w, &req->hdr, epoch, status, text);
	if (rc) {
		wbuf_free(&w);
		net_req_free(req);
		return rc;
	}
	rc = net_server_reply(s, req, w.p, w.len, 0);
	wbuf_free(&w);
	return rc;
}

void net_server_close(struct net_server *s)
{
	if (!s)
		return;
	nn_close(s->sock);
	free(s);
}

/* ---- the RPC engine ---------------------------------------------------*/

struct rpc_conn {
	int sock; /* raw REQ socket, or -1 until first used */
	int sndfd, rcvfd;
	struct rpc_call *call; /* in flight on this connection, or NULL */
	int sent;
	uint32_t sp_id; /* nanomsg's routing id of the last request */
};

struct rpc_peer {
	char addr[STORE_ADDR_MAX + 1];
	unsigned max_conns;
	struct rpc_conn *conns;
	struct rpc_call *wait_head, *wait_tail; /* waiting for a connection */
	struct rpc_peer *next;
};

struct rpc_engine {
	pthread_t thread;
	int wake_fd;
	pthread_mutex_t mu; /* submit list, peer list, stop */
	struct rpc_call *submit_head, *submit_tail;
	struct rpc_peer *peers;
	int stop;
	uint64_t next_req_id; /* atomic */
	struct auth_cred *cred;
	struct log_limit auth_log;
	uint32_t next_sp_id;
	struct pollfd *pfds;
	struct rpc_conn **pconns;
	size_t pcap;
	struct log_limit stray_log;
};

/* rpc_engine_default_cred(): what new engines sign with. */
static struct auth_cred *default_cred;

static void conn_close(struct rpc_conn *c)
{
	if (c->sock >= 0)
		nn_close(c->sock);
	c->sock = -1;
	c->sent = 0;
}

static int conn_open(struct rpc_conn *c, const char *addr)
{
	size_t sz = sizeof(int);
	int rc;

	c->sock = nn_socket(AF_SP_RAW, NN_REQ);
	if (c->sock < 0)
		return -nn_errno();
	rc = net_setup_socket(c->sock);
	if (rc == 0 && nn_connect(c->sock, addr) < 0)
		rc = -nn_errno();
	if (rc == 0 && (nn_getsockopt(c->sock, NN_SOL_SOCKET, NN_SNDFD,
				      &c->sndfd, &sz) < 0 ||
			nn_getsockopt(c->sock, NN_SOL_SOCKET, NN_RCVFD,
				      &c->rcvfd, &sz) < 0))
		rc = -nn_errno();
	if (rc)
		conn_close(c);
	return rc;
}

/* The peer list as the I/O thread reads it: peers are only ever pushed at
 * the head (with a release store), never removed until the engine dies. */
static struct rpc_peer *peers_head(struct rpc_engine *e)
{
	return __atomic_load_n(&e->peers, __ATOMIC_ACQUIRE);
}

static void call_complete(struct rpc_call *c, int status)
{
	c->status = status;
	c->state = CALL_DONE;
	c->conn = NULL;
	if (c->req) {
		if (c->req_nn)
			nn_freemsg(c->req);
		else
			free(c->req);
		c->req = NULL;
	}
	if (c->done) {
		c->done(c);
	} else {
		pthread_mutex_lock(c->sync_mu);
		c->sync_done = 1;
		pthread_cond_signal(c->sync_cv);
		pthread_mutex_unlock(c->sync_mu);
	}
}

/* Hand a call to nanomsg on its connection.  Returns 1 if sent, 0 if the
 * connection cannot take it yet (not connected), -errno on failure. */
static int conn_try_send(struct rpc_engine *e, struct rpc_conn *c)
{
	uint8_t ctl[NN_CMSG_SPACE(sizeof(size_t) + 4)];
	struct rpc_call *call = c->call;
	struct nn_cmsghdr *cm;
	struct nn_msghdr h;
	struct nn_iovec iov;
	size_t four = 4;
	uint8_t *d;
	void *chunk;
	int rc;

	if (c->sock < 0) {
		rc = conn_open(c, call->peer->addr);
		if (rc)
			return rc;
	}
	/* Raw REQ needs the routing header REP expects: a 32-bit id with the
	 * top bit set.  nanomsg's SP_HDR control data is the header's length
	 * as a size_t, then the header bytes. */
	memset(ctl, 0, sizeof(ctl));
	memset(&h, 0, sizeof(h));
	h.msg_control = ctl;
	h.msg_controllen = sizeof(ctl);
	cm = NN_CMSG_FIRSTHDR(&h);
	cm->cmsg_len = NN_CMSG_LEN(sizeof(size_t) + 4);
	cm->cmsg_level = PROTO_SP;
	cm->cmsg_type = SP_HDR;
	d = NN_CMSG_DATA(cm);
	memcpy(d, &four, sizeof(four));
	c->sp_id = 0x80000000u | (e->next_sp_id++ & 0x7fffffffu);
	d[sizeof(size_t)] = (uint8_t)(c->sp_id >> 24);
	d[sizeof(size_t) + 1] = (uint8_t)(c->sp_id >> 16);
	d[sizeof(size_t) + 2] = (uint8_t)(c->sp_id >> 8);
	d[sizeof(size_t) + 3] = (uint8_t)c->sp_id;
	if (call->req_nn) {
		chunk = call->req;
		iov.iov_base = &chunk;
		iov.iov_len = NN_MSG;
	} else {
		iov.iov_base = call->req;
		iov.iov_len = call->req_len;
	}
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	if (nn_sendmsg(c->sock, &h, NN_DONTWAIT) < 0) {
		rc = nn_errno();
		if (rc == EAGAIN || rc == EINTR)
			return 0;
		return -rc;
	}
	if (call->req_nn)
		call->req = NULL; /* nanomsg owns and frees the chunk */
	c->sent = 1;
	return 1;
}

/* Complete every call waiting in p's queue with status: a call on one of
 * its connections just failed with it (not connected, or no answer in
 * time), so the peer is not serving, and the calls behind it would only
 * wait out the same deadline one pool-full at a time. */
static void peer_fail_queue(struct rpc_peer *p, int status)
{
	while (p->wait_head) {
		struct rpc_call *call = p->wait_head;

		p->wait_head = call->next;
		call->next = NULL;
		call_complete(call, status);
	}
	p->wait_tail = NULL;
}

/* A call leaves the queue for connection c: its deadlines start now, so the
 * time it waited behind the calls ahead of it (the peer was serving them)
 * is not held against it.  Counting from submission failed whole queues
 * at once on a slow but live OSD: a call dispatched after more than its
 * send timeout in the queue found the connection still reconnecting and
 * was failed "not reachable" at once, which closed the connection for
 * the next one, and so on down the queue. */
static void call_dispatch(struct rpc_call *call, struct rpc_conn *c)
{
	uint64_t now = now_ns();

	call->next = NULL;
	call->state = CALL_ON_CONN;
	call->conn = c;
	call->deadline_ns = now + (uint64_t)call->timeout_ms * 1000000ull;
	call->send_deadline_ns =
		call->send_timeout_ms && call->send_timeout_ms < call->timeout_ms ?
			now + (uint64_t)call->send_timeout_ms * 1000000ull :
			call->deadline_ns;
	c->call = call;
	c->sent = 0;
}

/* Move waiting calls onto idle connections and push unsent ones out. */
static void peer_dispatch(struct rpc_engine *e, struct rpc_peer *p)
{
	for (unsigned i = 0; i < p->max_conns; i++) {
		struct rpc_conn *c = &p->conns[i];
		int rc;

		if (!c->call && p->wait_head) {
			struct rpc_call *call = p->wait_head;

			p->wait_head = call->next;
			if (!p->wait_head)
				p->wait_tail = NULL;
			call_dispatch(call, c);
		}
		if (!c->call || c->sent)
			continue;
		rc = conn_try_send(e, c);
		if (rc < 0) {
			struct rpc_call *call = c->call;

			c->call = NULL;
			conn_close(c);
			call_complete(call, rc == -ENOMEM ? -ENOMEM : -ENOTCONN);
			if (rc != -ENOMEM)
				peer_fail_queue(p, -ENOTCONN);
			i--; /* this connection is free again: refill it */
		}
	}
}

/* Check the reply to a signed call.  Returns 0 to take it (*verified set
 * if its tag verified, clear for an unsigned error sentence), 1 to drop it
 * (forged or altered: the call goes on waiting), or -EPROTO (the server
 * answered a signed request without signing: it has no keys, or is not
 * who it claims to be). */
static int reply_auth(struct rpc_engine *e, struct rpc_call *call,
		      void *body, size_t n, const struct wire_hdr *wh,
		      uint8_t *verified)
{
	struct auth_in in;
	int rc = auth_check_reply(body, n, wh, call->auth_suite,
				  call->auth_key, call->auth_seq, &in);

	*verified = rc == 0;
	if (rc == 0)
		return 0;
	if (rc == -ENOMSG && wh->status < 0)
		return 0; /* an error sentence: it can only deny service */
	log_ratelimited(&e->auth_log, LOG_WARN, "dropped a %s reply from %s: "
			"%s", wire_type_name(wh->type), call->peer->addr,
			rc == -ENOMSG ? "it is not signed, though the request "
			"was (the daemon has no keyring, or is an impostor)" :
			"it does not verify (forged, altered in transit, or "
			"meant for another request)");
	return rc == -ENOMSG ? -EPROTO : 1;
}

/* Receive every reply waiting on a connection. */
static void conn_receive(struct rpc_engine *e, struct rpc_conn *c)
{
	for (;;) {
		struct nn_msghdr h;
		struct nn_iovec iov;
		struct wire_hdr wh;
		void *body = NULL, *ctl = NULL;
		struct rpc_call *call;
		uint8_t verified;
		int n;

		memset(&h, 0, sizeof(h));
		iov.iov_base = &body;
		iov.iov_len = NN_MSG;
		h.msg_iov = &iov;
		h.msg_iovlen = 1;
		h.msg_control = &ctl;
		h.msg_controllen = NN_MSG;
		n = nn_recvmsg(c->sock, &h, NN_DONTWAIT);
		if (n < 0)
			return;
		if (ctl)
			nn_freemsg(ctl);
		call = c->call;
		if (wire_hdr_decode(body, (size_t)n, &wh) != 0 ||
		    !(wh.flags & WIRE_F_REPLY) || !call || !c->sent ||
		    wh.req_id != call->req_id) {
			log_ratelimited(&e->stray_log, LOG_DEBUG,
					"dropped a stray or malformed reply "
					"from %s", call ? call->peer->addr : "?");
			nn_freemsg(body);
			continue;
		}
		verified = 0;
		if (call->auth_on) {
			int arc = reply_auth(e, call, body, (size_t)n, &wh,
					     &verified);

			if (arc > 0) {
				nn_freemsg(body);
				continue;
			}
			if (arc < 0) {
				nn_freemsg(body);
				c->call = NULL;
				c->sent = 0;
				call_complete(call, arc);
				continue;
			}
		}
		c->call = NULL;
		c->sent = 0;
		call->reply = body;
		call->reply_len = (size_t)n;
		call->rhdr = wh;
		call->reply_verified = verified;
		call_complete(call, 0);
	}
}

static void engine_take_submits(struct rpc_engine *e, int *stop)
{
	struct rpc_call *list;

	pthread_mutex_lock(&e->mu);
	list = e->submit_head;
	e->submit_head = e->submit_tail = NULL;
	*stop = e->stop;
	pthread_mutex_unlock(&e->mu);
	while (list) {
		struct rpc_call *c = list;
		struct rpc_peer *p = c->peer;

		list = c->next;
		c->next = NULL;
		/* No deadline while queued: see call_dispatch(). */
		c->state = CALL_QUEUED;
		if (p->wait_tail)
			p->wait_tail->next = c;
		else
			p->wait_head = c;
		p->wait_tail = c;
	}
}

/* Complete every call whose deadline has passed; returns the time to the
 * next deadline in ms (-1: none). */
static int engine_expire(struct rpc_engine *e, int cancel_all)
{
	uint64_t now = now_ns(), next = UINT64_MAX;
	struct rpc_peer *p;

	for (p = peers_head(e); p; p = p->next) {
		for (unsigned i = 0; i < p->max_conns; i++) {
			struct rpc_conn *c = &p->conns[i];
			struct rpc_call *call = c->call;

			if (!call)
				continue;
			if (cancel_all || call->deadline_ns <= now ||
			    (!c->sent && call->send_deadline_ns <= now)) {
				int sent = c->sent;

				c->call = NULL;
				/* A late reply must not reach the next call on
				 * this connection, and a half-sent request must
				 * not block it: start the connection afresh. */
				conn_close(c);
				call_complete(call, cancel_all ? -ECANCELED :
						    sent ? -ETIMEDOUT : -ENOTCONN);
				if (!cancel_all)
					peer_fail_queue(p, sent ? -ETIMEDOUT :
								  -ENOTCONN);
			} else {
				uint64_t d = c->sent ? call->deadline_ns :
					     call->send_deadline_ns;

				if (d < next)
					next = d;
			}
		}
		/* Queued calls have no deadline of their own: each waits for
		 * a call ahead of it, which has one, and a failure of any of
		 * those fails the queue (peer_fail_queue()). */
		if (cancel_all)
			peer_fail_queue(p, -ECANCELED);
	}
	if (next == UINT64_MAX)
		return -1;
	return (int)MIN((next - now + 999999) / 1000000, 60000);
}

static int engine_grow_poll(struct rpc_engine *e, size_t n)
{
	struct pollfd *np;
	struct rpc_conn **nc;

	if (n <= e->pcap)
		return 0;
	n = MAX(n, e->pcap * 2);
	np = realloc(e->pfds, n * sizeof(*np));
	if (!np)
		return -ENOMEM;
	e->pfds = np;
	nc = realloc(e->pconns, n * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	e->pconns = nc;
	e->pcap = n;
	return 0;
}

static void *engine_main(void *arg)
{
	struct rpc_engine *e = arg;
	int stop = 0;

	for (;;) {
		struct rpc_peer *p;
		size_t n = 1, want = 1;
		int timeout;

		engine_take_submits(e, &stop);
		if (stop)
			break;
		for (p = peers_head(e); p; p = p->next)
			peer_dispatch(e, p);
		timeout = engine_expire(e, 0);

		for (p = peers_head(e); p; p = p->next)
			want += p->max_conns;
		if (engine_grow_poll(e, want)) {
			/* Out of memory for the poll set: back off. */
			usleep(1000);
			continue;
		}
		e->pfds[0].fd = e->wake_fd;
		e->pfds[0].events = POLLIN;
		e->pconns[0] = NULL;
		for (p = peers_head(e); p; p = p->next) {
			for (unsigned i = 0; i < p->max_conns; i++) {
				struct rpc_conn *c = &p->conns[i];

				if (!c->call || c->sock < 0)
					continue;
				e->pfds[n].fd = c->sent ? c->rcvfd : c->sndfd;
				e->pfds[n].events = POLLIN;
				e->pconns[n] = c;
				n++;
			}
		}
		if (poll(e->pfds, n, timeout) < 0 && errno != EINTR) {
			log_err("rpc: poll failed: %s", strerror(errno));
			usleep(1000);
			continue;
		}
		if (e->pfds[0].revents) {
			uint64_t v;

			if (read(e->wake_fd, &v, sizeof(v)) < 0 &&
			    errno != EAGAIN)
				log_err("rpc: wake read: %s", strerror(errno));
		}
		for (size_t i = 1; i < n; i++) {
			struct rpc_conn *c = e->pconns[i];

			if (e->pfds[i].revents && c->sent && c->call)
				conn_receive(e, c);
		}
	}
	engine_expire(e, 1);
	/* Calls submitted during shutdown are cancelled too. */
	engine_take_submits(e, &stop);
	engine_expire(e, 1);
	return NULL;
}

int rpc_engine_create(struct rpc_engine **out)
{
	struct rpc_engine *e = calloc(1, sizeof(*e));
	int rc;

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0) {
		rc = -errno;
		free(e);
		return rc;
	}
	pthread_mutex_init(&e->mu, NULL);
	/* Request ids start from the clock so that a restarted client does
	 * not reuse the ids of its previous life within a server's memory. */
	e->next_req_id = wall_ns();
	e->cred = __atomic_load_n(&default_cred, __ATOMIC_ACQUIRE);
	rc = pthread_create(&e->thread, NULL, engine_main, e);
	if (rc) {
		close(e->wake_fd);
		pthread_mutex_destroy(&e->mu);
		free(e);
		return -rc;
	}
	*out = e;
	return 0;
}

static void engine_wake(struct rpc_engine *e)
{
	uint64_t one = 1;

	if (write(e->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_err("rpc: wake write: %s", strerror(errno));
}

void rpc_engine_destroy(struct rpc_engine *e)
{
	struct rpc_peer *p, *next;

	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop = 1;
	pthread_mutex_unlock(&e->mu);
	engine_wake(e);
	pthread_join(e->thread, NULL);
	for (p = e->peers; p; p = next) {
		next = p->next;
		for (unsigned i = 0; i < p->max_conns; i++)
			conn_close(&p->conns[i]);
		free(p->conns);
		free(p);
	}
	close(e->wake_fd);
	pthread_mutex_destroy(&e->mu);
	free(e->pfds);
	free(e->pconns);
	free(e);
}

int rpc_peer_get(struct rpc_engine *e, const char *addr, unsigned max_conns,
		 struct rpc_peer **out)
{
	struct rpc_peer *p;

	*out = NULL;
	if (!net_addr_ok(addr) || max_conns == 0 || max_conns > 256)
		return -EINVAL;
	pthread_mutex_lock(&e->mu);
	for (p = peers_head(e); p; p = p->next) {
		if (!strcmp(p->addr, addr)) {
			pthread_mutex_unlock(&e->mu);
			*out = p;
			return 0;
		}
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->conns = calloc(max_conns, sizeof(*p->conns));
	if (!p || !p->conns) {
		pthread_mutex_unlock(&e->mu);
		free(p);
		return -ENOMEM;
	}
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->max_conns = max_conns;
	for (unsigned i = 0; i < max_conns; i++)
		p->conns[i].sock = -1;
	/* Published last: the I/O thread walks the list without the lock,
	 * and only ever sees fully built peers at the head. */
	p->next = e->peers;
	__atomic_store_n(&e->peers, p, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&e->mu);
	*out = p;
	return 0;
}

const char *rpc_peer_addr(const struct rpc_peer *p)
{
	return p->addr;
}

void rpc_engine_set_cred(struct rpc_engine *e, struct auth_cred *cred)
{
	__atomic_store_n(&e->cred, cred, __ATOMIC_RELEASE);
}

void rpc_engine_default_cred(struct auth_cred *cred)
{
	__atomic_store_n(&default_cred, cred, __ATOMIC_RELEASE);
}

/* Sign a call's frame (its req_id set): it grows by the trailer, in place
 * if the builder left room.  Returns 0 or -errno. */
static int sign_call(struct auth_cred *cred, struct rpc_call *c)
{
	struct auth_snap snap;
	size_t need;
	ssize_t n;
	void *p;
	int rc = auth_cred_take(cred, &snap);

	if (rc)
		return rc;
	need = c->req_len + auth_req_room(&snap, c->fcap_len != 0);
	p = c->req_nn ? nn_reallocmsg(c->req, need) : realloc(c->req, need);
	if (!p) {
		rc = -ENOMEM;
		goto out;
	}
	c->req = p;
	n = auth_sign_request(p, c->req_len, &snap, c->auth_dest,
			      c->fcap_len ? c->fcap : NULL);
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	c->req_len = (size_t)n;
	c->auth_on = 1;
	c->auth_suite = snap.suite;
	memcpy(c->auth_key, snap.key, AUTH_KEY_LEN);
	c->auth_seq = snap.seq;
out:
	sodium_memzero(&snap, sizeof(snap));
	return rc;
}

void rpc_submit(struct rpc_engine *e, struct rpc_call *c)
{
	struct auth_cred *cred;

	c->status = 0;
	c->reply = NULL;
	c->reply_len = 0;
	c->reply_verified = 0;
	c->next = NULL;
	c->conn = NULL;
	c->state = CALL_SUBMITTED;
	memset(&c->rhdr, 0, sizeof(c->rhdr));
	c->auth_on = 0;
	if (c->req_len < WIRE_HDR_LEN) {
		call_complete(c, -EINVAL);
		return;
	}
	/* A caller may pin the id (the same logical request retried on a
	 * new connection keeps its id, so that a server can recognise it);
	 * otherwise the engine numbers calls.  The id is set before signing:
	 * the MAC covers it. */
	if (!c->req_id)
		c->req_id = __atomic_add_fetch(&e->next_req_id, 1,
					       __ATOMIC_RELAXED);
	frame_set_req_id(c->req, c->req_id);
	cred = __atomic_load_n(&e->cred, __ATOMIC_ACQUIRE);
	if (cred && !c->no_auth) {
		int rc = sign_call(cred, c);

		if (rc) {
			call_complete(c, rc);
			return;
		}
	} else if (c->req_nn) {
		/* nanomsg sends a chunk's whole size: trim it to the frame
		 * (a growable wbuf leaves spare capacity at the end). */
		void *p = nn_reallocmsg(c->req, c->req_len);

		if (!p) {
			call_complete(c, -ENOMEM);
			return;
		}
		c->req = p;
	}
	pthread_mutex_lock(&e->mu);
	if (e->stop) {
		pthread_mutex_unlock(&e->mu);
		call_complete(c, -ECANCELED);
		return;
	}
	if (e->submit_tail)
		e->submit_tail->next = c;
	else
		e->submit_head = c;
	e->submit_tail = c;
	pthread_mutex_unlock(&e->mu);
	engine_wake(e);
}

int rpc_call_wait(struct rpc_engine *e, struct rpc_call *c)
{
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

	c->done = NULL;
	c->sync_done = 0;
	c->sync_mu = &mu;
	c->sync_cv = &cv;
	rpc_submit(e, c);
	pthread_mutex_lock(&mu);
	while (!c->sync_done)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	pthread_cond_destroy(&cv);
	pthread_mutex_destroy(&mu);
	return c->status;
}

void rpc_call_release(struct rpc_call *c)
{
	if (c->reply)
		nn_freemsg(c->reply);
	c->reply = NULL;
	c->reply_len = 0;
}

void rpc_group_init(struct rpc_group *g)
{
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	g->pending = 0;
}

void rpc_group_destroy(struct rpc_group *g)
{
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
}

void rpc_group_done(struct rpc_call *c)
{
	struct rpc_group *g = c->arg;

	pthread_mutex_lock(&g->mu);
	g->pending--;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void rpc_group_submit(struct rpc_engine *e, struct rpc_group *g,
		      struct rpc_call *c)
{
	pthread_mutex_lock(&g->mu);
	g->pending++;
	pthread_mutex_unlock(&g->mu);
	c->done = rpc_group_done;
	c->arg = g;
	rpc_submit(e, c);
}

void rpc_group_wait(struct rpc_group *g)
{
	rpc_group_wait_below(g, 1);
}

void rpc_group_wait_below(struct rpc_group *g, unsigned n)
{
	pthread_mutex_lock(&g->mu);
	while (g->pending >= n)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}
