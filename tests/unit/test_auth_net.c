/*
 * test_auth_net.c -- authentication through the messaging layer on real
 * sockets: a server with keys and an engine signing with a credential
 * (plain and secure, small and 4 MiB frames, many calls in flight); an
 * engine without a credential refused with a sentence; a server without
 * keys refusing signed calls; and a hostile server whose replies are
 * altered, unsigned, or answer another request: the engine drops them or
 * fails the call, never delivering them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "auth.h"
#include "auth_server.h"
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

static uint8_t secret[AUTH_KEY_LEN];

enum { MODE_ECHO, MODE_FLIP, MODE_UNSIGNED, MODE_OTHER_SEQ };

/* Echoes PING payloads; with keys, a request that passed the checks has
 * req.auth set, and its payload must be clear text again. */
struct server {
	struct net_server *srv;
	struct auth_server *auth;
	pthread_t thread;
	volatile int stop;
	int mode;
	char addr[64];
	int served, authed;
};

static void *server_main(void *arg)
{
	struct server *s = arg;

	while (!s->stop) {
		struct pollfd pfd = { net_server_fd(s->srv), POLLIN, 0 };
		struct net_req req;

		poll(&pfd, 1, 20);
		while (net_server_recv(s->srv, &req) == 1) {
			const uint8_t *p = wire_payload(req.msg);
			uint32_t n = req.hdr.payload_len;
			struct wbuf w;
			size_t len;

			s->authed += req.auth != NULL;
			wbuf_init_alloc(&w, &net_wbuf_alloc);
			wire_msg_begin(&w, req.hdr.type, WIRE_F_REPLY,
				       req.hdr.req_id, 1, 0);
			wbuf_raw(&w, p, n);
			assert_int_equal(wire_msg_finish(&w, 0), 0);
			len = w.len;
			if (s->mode == MODE_ECHO || !req.auth) {
				net_server_reply(s->srv, &req, w.p, len, 1);
			} else {
				/* Hostile: sign, then spoil. */
				uint8_t *f = nn_reallocmsg(w.p, len + 128);
				ssize_t sl;

				if (s->mode == MODE_OTHER_SEQ)
					req.auth->seq++;
				sl = auth_server_sign_reply(s->auth, req.auth,
							    f, len);
				assert_true(sl > 0);
				if (s->mode == MODE_FLIP)
					f[WIRE_HDR_LEN] ^= 1;
				if (s->mode == MODE_UNSIGNED)
					sl = (ssize_t)len; /* unsigned */
				/* Send as is: no signing by the layer. */
				free(req.auth);
				req.auth = NULL;
				if (s->mode == MODE_UNSIGNED) {
					uint8_t *g = nn_allocmsg(len, 0);
					struct wbuf w2;

					wbuf_init_fixed(&w2, g, len);
					wire_msg_begin(&w2, req.hdr.type,
						       WIRE_F_REPLY,
						       req.hdr.req_id, 1, 0);
					wbuf_raw(&w2, p, n);
					wire_msg_finish(&w2, 0);
					nn_freemsg(f);
					f = g;
				}
				net_server_reply(s->srv, &req, f, (size_t)sl,
						 1);
			}
			s->served++;
		}
	}
	return NULL;
}

static int next_port;

static void server_start(struct server *s, int with_keys, int mode)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	if (!next_port)
		next_port = 20000 + (getpid() * 7) % 30000;
	for (int tries = 0; tries < 50; tries++) {
		snprintf(s->addr, sizeof(s->addr), "tcp://127.0.0.1:%d",
			 next_port++);
		if (net_server_open(s->addr, &s->srv) == 0)
			break;
	}
	assert_non_null(s->srv);
	if (with_keys) {
		assert_int_equal(auth_server_create(secret, AUTH_DEST_OSD(7),
						    "osd.7", &s->auth), 0);
		net_server_set_auth(s->srv, s->auth);
	}
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	s->stop = 1;
	pthread_join(s->thread, NULL);
	net_server_close(s->srv);
	auth_server_free(s->auth);
}

static void make_call(struct rpc_call *c, struct rpc_peer *p, size_t len,
		      uint32_t timeout_ms)
{
	struct wbuf w;

	memset(c, 0, sizeof(*c));
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	assert_non_null(wbuf_reserve(&w, WIRE_HDR_LEN + len + AUTH_ROOM));
	w.len = 0;
	wire_msg_begin(&w, WIRE_PING, 0, 0, 1, 0);
	for (size_t i = 0; i < len; i++)
		wbuf_u8(&w, (uint8_t)(i * 13 + 1));
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	c->req = w.p;
	c->req_len = w.len;
	c->req_nn = 1;
	c->peer = p;
	c->timeout_ms = timeout_ms;
	c->auth_dest = AUTH_DEST_OSD(7);
}

static void check_echo(const struct rpc_call *c, size_t len)
{
	const uint8_t *p = rpc_reply_payload(c);

	assert_int_equal(rpc_result(c), 0);
	assert_int_equal(c->rhdr.payload_len, len);
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(i * 13 + 1))
			fail_msg("reply byte %zu differs", i);
}

static void round_trips(int secure)
{
	struct server s;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct auth_cred *cred;
	static struct rpc_call calls[40];
	struct rpc_group g;
	size_t sizes[] = { 0, 100, 4u << 20 };

	server_start(&s, 1, MODE_ECHO);
	assert_int_equal(auth_cred_daemon(secret, "osd.1", 60000, &cred), 0);
	auth_cred_set_secure(cred, secure);
	assert_int_equal(rpc_engine_create(&e), 0);
	rpc_engine_set_cred(e, cred);
	assert_int_equal(rpc_peer_get(e, s.addr, 8, &p), 0);
	for (size_t i = 0; i < 3; i++) {
		make_call(&calls[0], p, sizes[i], 5000);
		assert_int_equal(rpc_call_wait(e, &calls[0]), 0);
		check_echo(&calls[0], sizes[i]);
		assert_int_equal(!!(calls[0].rhdr.flags & WIRE_F_SEALED),
				 secure);
		rpc_call_release(&calls[0]);
	}
	/* Many in flight, over many connections, out of order. */
	rpc_group_init(&g);
	for (int i = 0; i < 40; i++) {
		make_call(&calls[i], p, 1000 + (size_t)i, 5000);
		rpc_group_submit(e, &g, &calls[i]);
	}
	rpc_group_wait(&g);
	rpc_group_destroy(&g);
	for (int i = 0; i < 40; i++) {
		check_echo(&calls[i], 1000 + (size_t)i);
		rpc_call_release(&calls[i]);
	}
	assert_int_equal(s.authed, 43);
	rpc_engine_destroy(e);
	auth_cred_free(cred);
	server_stop(&s);
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trips(0);
	round_trips(1);
}

static void test_refusals(void **state)
{
	struct server keyed, open;
	struct rpc_engine *plain, *signer;
	struct rpc_peer *p;
	struct auth_cred *cred;
	struct rpc_call c;
	char text[512];

	(void)state;
	server_start(&keyed, 1, MODE_ECHO);
	server_start(&open, 0, MODE_ECHO);
	assert_int_equal(rpc_engine_create(&plain), 0);
	assert_int_equal(rpc_engine_create(&signer), 0);
	assert_int_equal(auth_cred_daemon(secret, "osd.1", 60000, &cred), 0);
	rpc_engine_set_cred(signer, cred);
	/* No credential, server with keys: -EACCES and a sentence. */
	assert_int_equal(rpc_peer_get(plain, keyed.addr, 2, &p), 0);
	make_call(&c, p, 10, 5000);
	assert_int_equal(rpc_call_wait(plain, &c), 0);
	assert_int_equal(c.rhdr.status, -EACCES);
	assert_int_equal(wire_dec_error(rpc_reply_payload(&c),
					c.rhdr.payload_len, text,
					sizeof(text)), 0);
	assert_non_null(strstr(text, "requires keys"));
	rpc_call_release(&c);
	/* A signed call to a server without keys: refused, the unsigned
	 * error reaches the caller. */
	assert_int_equal(rpc_peer_get(signer, open.addr, 2, &p), 0);
	make_call(&c, p, 10, 5000);
	assert_int_equal(rpc_call_wait(signer, &c), 0);
	assert_int_equal(c.rhdr.status, -EPROTONOSUPPORT);
	rpc_call_release(&c);
	/* A signed call to the wrong daemon: dropped (times out). */
	assert_int_equal(rpc_peer_get(signer, keyed.addr, 2, &p), 0);
	make_call(&c, p, 10, 600);
	c.auth_dest = AUTH_DEST_OSD(8);
	assert_int_equal(rpc_call_wait(signer, &c), -ETIMEDOUT);
	rpc_engine_destroy(plain);
	rpc_engine_destroy(signer);
	auth_cred_free(cred);
	server_stop(&keyed);
	server_stop(&open);
}

static void hostile(int mode, int expect)
{
	struct server s;
	struct rpc_engine *e;
	struct rpc_peer *p;
	struct auth_cred *cred;
	struct rpc_call c;

	server_start(&s, 1, mode);
	assert_int_equal(auth_cred_daemon(secret, "osd.1", 60000, &cred), 0);
	assert_int_equal(rpc_engine_create(&e), 0);
	rpc_engine_set_cred(e, cred);
	assert_int_equal(rpc_peer_get(e, s.addr, 2, &p), 0);
	make_call(&c, p, 64, 700);
	assert_int_equal(rpc_call_wait(e, &c), expect);
	assert_null(c.reply);
	rpc_engine_destroy(e);
	auth_cred_free(cred);
	server_stop(&s);
}

static void test_hostile_replies(void **state)
{
	(void)state;
	/* An altered reply, or one for another request: dropped, so the
	 * call runs into its deadline. */
	hostile(MODE_FLIP, -ETIMEDOUT);
	hostile(MODE_OTHER_SEQ, -ETIMEDOUT);
	/* A success without a signature: the call fails at once. */
	hostile(MODE_UNSIGNED, -EPROTO);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(auth_init(), 0);
	randombytes_buf(secret, sizeof(secret));
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_hostile_replies),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
