/*
 * test_net.c -- the messaging layer on real sockets: a server thread
 * answering out of order, many calls in flight, large frames, deadlines,
 * a server that is not there, and garbage frames that must be dropped
 * while service goes on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net.h"
#include "util.h"
#include "wire.h"

#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The server echoes the payload of WIRE_PING back; a payload starting with
 * "sleep" is answered only after every other request in hand (out of
 * order); "drop" is never answered; "pause" is answered after 100 ms. */
struct echo_server {
	struct net_server *srv;
	pthread_t thread;
	volatile int stop;
	char addr[64];
	int served;
};

static void *echo_main(void *arg)
{
	struct echo_server *es = arg;
	struct net_req held[64];
	int n_held = 0;

	while (!es->stop) {
		struct pollfd pfd = { net_server_fd(es->srv), POLLIN, 0 };
		struct net_req req;

		poll(&pfd, 1, 20);
		while (net_server_recv(es->srv, &req) == 1) {
			const uint8_t *p = wire_payload(req.msg);
			uint32_t n = req.hdr.payload_len;
			struct wbuf w;

			if (n >= 4 && !memcmp(p, "drop", 4)) {
				net_req_free(&req);
				continue;
			}
			if (n >= 5 && !memcmp(p, "pause", 5))
				usleep(100 * 1000); /* a slow server */
			if (n >= 5 && !memcmp(p, "sleep", 5) && n_held < 64) {
				held[n_held++] = req;
				continue;
			}
			wbuf_init_alloc(&w, &net_wbuf_alloc);
			wire_msg_begin(&w, req.hdr.type, WIRE_F_REPLY,
				       req.hdr.req_id, 1, 0);
			wbuf_raw(&w, p, n);
			assert_int_equal(wire_msg_finish(&w, 0), 0);
			assert_int_equal(net_server_reply(es->srv, &req, w.p,
							  w.len, 1), 0);
			es->served++;
		}
		/* Held requests are answered after the others: out of order. */
		while (n_held > 0) {
			struct net_req *r = &held[--n_held];

			net_server_reply_error(es->srv, r, 1, -EAGAIN,
					       "late answer %d", n_held);
		}
	}
	return NULL;
}

static int free_port(void)
{
	static int next = 0;

	if (!next)
		next = 20000 + (getpid() % 20000);
	return next++;
}

static void echo_start(struct echo_server *es)
{
	memset(es, 0, sizeof(*es));
	for (int tries = 0; tries < 50; tries++) {
		snprintf(es->addr, sizeof(es->addr), "tcp://127.0.0.1:%d",
			 free_port());
		if (net_server_open(es->addr, &es->srv) == 0)
			break;
	}
	assert_non_null(es->srv);
	assert_int_equal(pthread_create(&es->thread, NULL, echo_main, es), 0);
}

static void echo_stop(struct echo_server *es)
{
	es->stop = 1;
	pthread_join(es->thread, NULL);
	net_server_close(es->srv);
}

static void make_ping(struct rpc_call *c, struct rpc_peer *p, const void *data,
		      size_t len, uint32_t timeout_ms)
{
	struct wbuf w;

	memset(c, 0, sizeof(*c));
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	wire_msg_begin(&w, WIRE_PING, 0, 0, 0, 0);
	wbuf_raw(&w, data, len);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	c->peer = p;
	c->req = w.p;
	c->req_len = w.len;
	c->req_nn = 1;
	c->timeout_ms = timeout_ms;
}

static void test_call(void **state)
{
	struct echo_server es;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct rpc_call c;

	(void)state;
	echo_start(&es);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, es.addr, 4, &p), 0);
	make_ping(&c, p, "hello", 5, 5000);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	assert_int_equal(rpc_result(&c), 0);
	assert_int_equal(c.rhdr.payload_len, 5);
	assert_memory_equal(rpc_reply_payload(&c), "hello", 5);
	assert_true(c.rhdr.flags & WIRE_F_REPLY);
	rpc_call_release(&c);
	/* A non-nanomsg request buffer is copied and freed by the engine. */
	{
		struct wbuf w;

		memset(&c, 0, sizeof(c));
		wbuf_init(&w);
		wire_msg_begin(&w, WIRE_PING, 0, 0, 0, 0);
		wbuf_raw(&w, "abc", 3);
		assert_int_equal(wire_msg_finish(&w, 0), 0);
		c.peer = p;
		c.req = w.p;
		c.req_len = w.len;
		c.timeout_ms = 5000;
		assert_int_equal(rpc_call_wait(e, &c), 0);
		assert_memory_equal(rpc_reply_payload(&c), "abc", 3);
		rpc_call_release(&c);
	}
	rpc_engine_destroy(e);
	echo_stop(&es);
}

static void test_many_in_flight(void **state)
{
	enum { N = 200 };
	static struct rpc_call calls[N];
	struct echo_server es;
	struct rpc_group g;
	struct rpc_engine *e;
	struct rpc_peer *p;

	(void)state;
	echo_start(&es);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, es.addr, 8, &p), 0);
	rpc_group_init(&g);
	for (int i = 0; i < N; i++) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%s%d",
				 i % 10 == 0 ? "sleep" : "x", i);

		make_ping(&calls[i], p, buf, (size_t)n, 10000);
		rpc_group_submit(e, &g, &calls[i]);
	}
	rpc_group_wait(&g);
	for (int i = 0; i < N; i++) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "x%d", i);

		assert_int_equal(calls[i].status, 0);
		if (i % 10 == 0) {
			/* Answered late, out of order, with an error. */
			char text[256];

			assert_int_equal(calls[i].rhdr.status, -EAGAIN);
			assert_int_equal(wire_dec_error(
				rpc_reply_payload(&calls[i]),
				calls[i].rhdr.payload_len, text, sizeof(text)),
				0);
			assert_non_null(strstr(text, "late answer"));
		} else {
			assert_int_equal(calls[i].rhdr.status, 0);
			assert_int_equal(calls[i].rhdr.payload_len, n);
			assert_memory_equal(rpc_reply_payload(&calls[i]), buf,
					    (size_t)n);
		}
		rpc_call_release(&calls[i]);
	}
	rpc_group_destroy(&g);
	rpc_engine_destroy(e);
	echo_stop(&es);
}

static void test_large(void **state)
{
	enum { N = 6, LEN = 8 << 20 };
	static struct rpc_call calls[N];
	struct echo_server es;
	struct rpc_group g;
	struct rpc_engine *e;
	struct rpc_peer *p;
	uint8_t *data = malloc(LEN);

	(void)state;
	assert_non_null(data);
	echo_start(&es);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, es.addr, 3, &p), 0);
	rpc_group_init(&g);
	for (int i = 0; i < N; i++) {
		memset(data, 'a' + i, LEN);
		make_ping(&calls[i], p, data, LEN, 20000);
		rpc_group_submit(e, &g, &calls[i]);
	}
	rpc_group_wait(&g);
	for (int i = 0; i < N; i++) {
		const uint8_t *r = rpc_reply_payload(&calls[i]);

		assert_int_equal(rpc_result(&calls[i]), 0);
		assert_int_equal(calls[i].rhdr.payload_len, LEN);
		assert_int_equal(r[0], 'a' + i);
		assert_int_equal(r[LEN - 1], 'a' + i);
		rpc_call_release(&calls[i]);
	}
	rpc_group_destroy(&g);
	rpc_engine_destroy(e);
	echo_stop(&es);
	free(data);
}

static void test_timeouts(void **state)
{
	struct echo_server es;
	struct rpc_engine *e;
	struct rpc_peer *p, *nobody;
	struct rpc_call c;
	uint64_t t0;
	char addr[64];

	(void)state;
	echo_start(&es);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, es.addr, 2, &p), 0);
	/* Never answered: times out near its deadline. */
	make_ping(&c, p, "drop", 4, 300);
	t0 = now_ms();
	assert_int_equal(rpc_call_wait(e, &c), -ETIMEDOUT);
	assert_true(now_ms() - t0 >= 290);
	assert_true(now_ms() - t0 < 3000);
	/* The connection still works for the next call. */
	make_ping(&c, p, "after", 5, 5000);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	assert_memory_equal(rpc_reply_payload(&c), "after", 5);
	rpc_call_release(&c);
	/* Nobody listening: -ENOTCONN at the deadline, never a hang. */
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", free_port());
	assert_int_equal(rpc_peer_get(e, addr, 2, &nobody), 0);
	make_ping(&c, nobody, "anyone", 6, 300);
	t0 = now_ms();
	assert_int_equal(rpc_call_wait(e, &c), -ENOTCONN);
	assert_true(now_ms() - t0 < 3000);
	/* Bad addresses are refused up front. */
	assert_int_equal(rpc_peer_get(e, "udp://x", 2, &nobody), -EINVAL);
	assert_int_equal(rpc_peer_get(e, "tcp://127.0.0.1:0", 2, &nobody),
			 -EINVAL);
	rpc_engine_destroy(e);
	echo_stop(&es);
}

/* A call's deadline counts from when it gets a connection: ten calls of
 * 300 ms each through ONE connection to a server that takes 100 ms per
 * answer all succeed (the last waits 900 ms in the queue).  And a peer
 * that does not answer fails its whole queue after one timeout, not one
 * timeout per call. */
static void test_queue_deadlines(void **state)
{
	enum { N = 10 };
	static struct rpc_call calls[N];
	struct echo_server es;
	struct rpc_engine *e;
	struct rpc_peer *p, *nobody;
	struct rpc_group g;
	uint64_t t0;
	char addr[64];

	(void)state;
	echo_start(&es);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, es.addr, 1, &p), 0);
	rpc_group_init(&g);
	for (int i = 0; i < N; i++) {
		make_ping(&calls[i], p, "pause", 5, 300);
		rpc_group_submit(e, &g, &calls[i]);
	}
	rpc_group_wait(&g);
	for (int i = 0; i < N; i++) {
		assert_int_equal(rpc_result(&calls[i]), 0);
		rpc_call_release(&calls[i]);
	}
	rpc_group_destroy(&g);

	/* Never answered: the first call times out, the queue with it. */
	rpc_group_init(&g);
	t0 = now_ms();
	for (int i = 0; i < N; i++) {
		make_ping(&calls[i], p, "drop", 4, 300);
		rpc_group_submit(e, &g, &calls[i]);
	}
	rpc_group_wait(&g);
	assert_true(now_ms() - t0 < 1500);
	for (int i = 0; i < N; i++) {
		assert_int_equal(calls[i].status, -ETIMEDOUT);
		rpc_call_release(&calls[i]);
	}
	rpc_group_destroy(&g);

	/* Nobody listening: every call -ENOTCONN after about one timeout. */
	snprintf(addr, sizeof(addr), "tcp://127.0.0.1:%d", free_port());
	assert_int_equal(rpc_peer_get(e, addr, 2, &nobody), 0);
	rpc_group_init(&g);
	t0 = now_ms();
	for (int i = 0; i < N; i++) {
		make_ping(&calls[i], nobody, "anyone", 6, 300);
		rpc_group_submit(e, &g, &calls[i]);
	}
	rpc_group_wait(&g);
	assert_true(now_ms() - t0 < 1500);
	for (int i = 0; i < N; i++) {
		assert_int_equal(calls[i].status, -ENOTCONN);
		rpc_call_release(&calls[i]);
	}
	rpc_group_destroy(&g);

	/* The connection to the live server still works. */
	make_ping(&calls[0], p, "after", 5, 5000);
	assert_int_equal(rpc_call_wait(e, &calls[0]), 0);
	rpc_call_release(&calls[0]);
	rpc_engine_destroy(e);
	echo_stop(&es);
}

/* Garbage frames (valid nanomsg framing, junk inside) are dropped and
 * counted; the server keeps answering everyone else. */
static void test_garbage(void **state)
{
	struct echo_server es;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct rpc_call c;
	int s, to = 1000;

	(void)state;
	echo_start(&es);
	s = nn_socket(AF_SP, NN_REQ);
	assert_true(s >= 0);
	nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDTIMEO, &to, sizeof(to));
	assert_true(nn_connect(s, es.addr) >= 0);
	for (int i = 0; i < 20; i++) {
		uint8_t junk[100];

		for (size_t j = 0; j < sizeof(junk); j++)
			junk[j] = (uint8_t)(rand() & 0xff);
		assert_true(nn_send(s, junk, (size_t)(i * 5), 0) >= 0);
		/* A REQ socket replaces an unsent request with the next one:
		 * give each time to leave. */
		usleep(20000);
	}
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, es.addr, 2, &p), 0);
	make_ping(&c, p, "still", 5, 5000);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	assert_memory_equal(rpc_reply_payload(&c), "still", 5);
	rpc_call_release(&c);
	for (int i = 0; i < 100 && net_server_garbage(es.srv) < 20; i++)
		usleep(10000);
	assert_int_equal(net_server_garbage(es.srv), 20);
	nn_close(s);
	rpc_engine_destroy(e);
	echo_stop(&es);
}

/* A server restarted on the same address is reached again. */
static void test_restart(void **state)
{
	struct echo_server es;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct rpc_call c;
	char addr[64];
	int ok = 0;

	(void)state;
	echo_start(&es);
	snprintf(addr, sizeof(addr), "%s", es.addr);
	assert_int_equal(rpc_engine_create(&e), 0);
	assert_int_equal(rpc_peer_get(e, addr, 2, &p), 0);
	make_ping(&c, p, "one", 3, 5000);
	assert_int_equal(rpc_call_wait(e, &c), 0);
	rpc_call_release(&c);
	echo_stop(&es);
	make_ping(&c, p, "gone", 4, 300);
	assert_int_not_equal(rpc_call_wait(e, &c), 0);
	memset(&es, 0, sizeof(es));
	snprintf(es.addr, sizeof(es.addr), "%s", addr);
	assert_int_equal(net_server_open(es.addr, &es.srv), 0);
	assert_int_equal(pthread_create(&es.thread, NULL, echo_main, &es), 0);
	for (int i = 0; i < 20 && !ok; i++) {
		make_ping(&c, p, "two", 3, 1000);
		ok = rpc_call_wait(e, &c) == 0;
		if (ok)
			assert_memory_equal(rpc_reply_payload(&c), "two", 3);
		rpc_call_release(&c);
	}
	assert_true(ok);
	rpc_engine_destroy(e);
	echo_stop(&es);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_many_in_flight),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_queue_deadlines),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
