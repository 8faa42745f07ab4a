/*
 * test_auth.c -- the cryptographic framing: caps, tickets (sealed and
 * opened, with wrong keys), file caps, frame signatures in both suites and
 * in secure mode (every byte of a frame flipped is caught), the replay
 * window, the server-side checks (replay, alteration, misaddressing,
 * expiry, unauthenticated requests, secure tickets, the floor after
 * evictions) and reply signatures, the handshake's steps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "auth.h"
#include "auth_server.h"
#include "crc.h"
#include "wire.h"
#include "wire_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t secret[AUTH_KEY_LEN];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(auth_init(), 0);
	randombytes_buf(secret, sizeof(secret));
	return 0;
}

/* A frame of type with payload_len bytes of pattern, with room to sign. */
static uint8_t *make_frame(unsigned type, unsigned flags, size_t payload_len,
			   size_t *len)
{
	uint8_t *buf = malloc(WIRE_HDR_LEN + payload_len + AUTH_ROOM);
	struct wbuf w;

	assert_non_null(buf);
	wbuf_init_fixed(&w, buf, WIRE_HDR_LEN + payload_len + AUTH_ROOM);
	wire_msg_begin(&w, type, flags, 77, 5, 0);
	for (size_t i = 0; i < payload_len; i++)
		wbuf_u8(&w, (uint8_t)(i * 7 + 3));
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	*len = w.len;
	return buf;
}

static void test_caps(void **state)
{
	struct auth_caps c;
	char err[256];

	(void)state;
	assert_int_equal(auth_caps_parse("admin rw", &c, err, sizeof(err)), 0);
	assert_int_equal(c.bits, AUTH_CAP_ADMIN | AUTH_CAP_R | AUTH_CAP_W);
	assert_string_equal(c.path, "");
	assert_int_equal(auth_caps_parse("r", &c, err, sizeof(err)), 0);
	assert_int_equal(c.bits, AUTH_CAP_R);
	assert_int_equal(auth_caps_parse("rw path=//projects//a/", &c, err,
					 sizeof(err)), 0);
	assert_string_equal(c.path, "/projects/a");
	assert_int_equal(auth_caps_parse("r path=/", &c, err, sizeof(err)), 0);
	assert_string_equal(c.path, "");
	assert_int_equal(auth_caps_parse("admin", &c, err, sizeof(err)), 0);
	assert_int_equal(c.bits, AUTH_CAP_ADMIN);
	assert_int_equal(auth_caps_parse("", &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(auth_caps_parse("w", &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(auth_caps_parse("r rw", &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(auth_caps_parse("rw path=a/b", &c, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(auth_caps_parse("rw path=/a/../b", &c, err,
					 sizeof(err)), -EINVAL);
	assert_int_equal(auth_caps_parse("path=/a", &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "path="));
}

static void fill_ticket(struct auth_ticket *t, int64_t expires)
{
	memset(t, 0, sizeof(*t));
	t->suite = auth_suite_default();
	t->caps = AUTH_CAP_R | AUTH_CAP_W;
	t->id = 0x1234;
	t->issued_ms = auth_wall_ms();
	t->expires_ms = expires;
	t->root = 7;
	randombytes_buf(t->key, AUTH_KEY_LEN);
	snprintf(t->entity, sizeof(t->entity), "client.test");
}

static void test_ticket(void **state)
{
	uint8_t tkey[AUTH_KEY_LEN], other[AUTH_KEY_LEN], sealed[AUTH_TICKET_MAX];
	struct auth_ticket t, back;
	int n;

	(void)state;
	auth_derive(secret, AUTH_SUB_TICKET, tkey);
	auth_derive(secret, AUTH_SUB_FCAP, other);
	assert_memory_not_equal(tkey, other, AUTH_KEY_LEN);
	fill_ticket(&t, auth_wall_ms() + 60000);
	n = auth_ticket_seal(tkey, &t, sealed);
	assert_true(n > 0 && n <= AUTH_TICKET_MAX);
	assert_int_equal(auth_ticket_open(tkey, sealed, (size_t)n, &back), 0);
	assert_string_equal(back.entity, "client.test");
	assert_memory_equal(back.key, t.key, AUTH_KEY_LEN);
	assert_int_equal(back.root, 7);
	assert_int_equal(back.expires_ms, t.expires_ms);
	/* Another key (the fcap key, another cluster's): refused. */
	assert_int_equal(auth_ticket_open(other, sealed, (size_t)n, &back),
			 -EBADMSG);
	/* Every byte flipped, and every truncation: refused. */
	for (int i = 0; i < n; i++) {
		sealed[i] ^= 0x40;
		assert_int_equal(auth_ticket_open(tkey, sealed, (size_t)n,
						  &back), -EBADMSG);
		sealed[i] ^= 0x40;
	}
	for (int i = 0; i < n; i++)
		assert_int_equal(auth_ticket_open(tkey, sealed, (size_t)i,
						  &back), -EBADMSG);
	/* Bad fields are refused at sealing. */
	t.entity[0] = '\0';
	assert_int_equal(auth_ticket_seal(tkey, &t, sealed), -EINVAL);
}

static void test_fcap(void **state)
{
	uint8_t fkey[AUTH_KEY_LEN], wire[AUTH_FCAP_LEN];
	struct auth_fcap f = { AUTH_CAP_R | AUTH_CAP_W, 42, 123456 }, back;

	(void)state;
	auth_derive(secret, AUTH_SUB_FCAP, fkey);
	auth_fcap_make(fkey, "client.a", &f, wire);
	assert_int_equal(auth_fcap_check(fkey, "client.a", wire, sizeof(wire),
					 &back), 0);
	assert_int_equal(back.ino, 42);
	assert_int_equal(back.access, AUTH_CAP_R | AUTH_CAP_W);
	assert_int_equal(back.expires_ms, 123456);
	/* Another entity cannot use it. */
	assert_int_equal(auth_fcap_check(fkey, "client.b", wire, sizeof(wire),
					 &back), -EACCES);
	/* Upgrading r to rw or changing the inode breaks the MAC. */
	f.access = AUTH_CAP_R;
	auth_fcap_make(fkey, "client.a", &f, wire);
	wire[0] |= AUTH_CAP_W;
	assert_int_equal(auth_fcap_check(fkey, "client.a", wire, sizeof(wire),
					 &back), -EACCES);
	wire[0] = AUTH_CAP_R;
	wire[1] ^= 1;
	assert_int_equal(auth_fcap_check(fkey, "client.a", wire, sizeof(wire),
					 &back), -EACCES);
	wire[1] ^= 1;
	assert_int_equal(auth_fcap_check(fkey, "client.a", wire,
					 sizeof(wire) - 1, &back), -EBADMSG);
	wire[0] = 0x80;
	assert_int_equal(auth_fcap_check(fkey, "client.a", wire, sizeof(wire),
					 &back), -EBADMSG);
}

/* Sign a request frame with suite/seal, verify it, then flip every byte
 * and check that each flip is caught. */
static void sign_verify(uint8_t suite, int seal, size_t payload_len)
{
	uint8_t key[AUTH_KEY_LEN], ticket[40], fcap[AUTH_FCAP_LEN];
	struct auth_out o;
	struct auth_in in;
	struct wire_hdr h;
	uint8_t *f, *copy;
	size_t len;
	ssize_t n;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(ticket, sizeof(ticket));
	randombytes_buf(fcap, sizeof(fcap));
	f = make_frame(WIRE_SHARD_PUT, 0, payload_len, &len);
	memset(&o, 0, sizeof(o));
	o.kind = AUTH_K_REQ;
	o.suite = suite;
	o.seal = (uint8_t)seal;
	o.dest = AUTH_DEST_OSD(3);
	o.seq = 99;
	o.time_ms = 1234;
	randombytes_buf(o.nonce, sizeof(o.nonce));
	o.key = key;
	o.ticket = ticket;
	o.ticket_len = sizeof(ticket);
	o.fcap = fcap;
	n = auth_frame_sign(f, len, &o);
	assert_int_equal(n, (ssize_t)(len + auth_trailer_len(&o)));
	/* Signing twice is refused. */
	assert_int_equal(auth_frame_sign(f, (size_t)n, &o), -EINVAL);
	copy = malloc((size_t)n);
	memcpy(copy, f, (size_t)n);
	assert_int_equal(wire_hdr_decode(f, (size_t)n, &h), 0);
	assert_true(h.flags & WIRE_F_AUTH);
	assert_int_equal(!!(h.flags & WIRE_F_SEALED), seal);
	if (seal && payload_len >= 16) {
		int same = 1;

		for (size_t i = 0; i < 16; i++)
			same &= wire_payload(f)[i] == (uint8_t)(i * 7 + 3);
		assert_false(same); /* the payload travels encrypted */
	}
	assert_int_equal(auth_trailer_parse(f, (size_t)n, &h, &in), 0);
	assert_int_equal(in.kind, AUTH_K_REQ);
	assert_int_equal(in.seq, 99);
	assert_int_equal(in.dest, AUTH_DEST_OSD(3));
	assert_int_equal(in.time_ms, 1234);
	assert_int_equal(in.ticket_len, sizeof(ticket));
	assert_memory_equal(in.fcap, fcap, sizeof(fcap));
	assert_int_equal(auth_frame_verify(f, (size_t)n, &h, &in, suite, key),
			 0);
	for (size_t i = 0; i < payload_len; i++)
		assert_int_equal(wire_payload(f)[i], (uint8_t)(i * 7 + 3));
	/* Another key fails. */
	memcpy(f, copy, (size_t)n);
	key[0] ^= 1;
	assert_int_equal(auth_frame_verify(f, (size_t)n, &h, &in, suite, key),
			 -EBADMSG);
	key[0] ^= 1;
	/* Every byte: the header crc, the trailer parser or the tag must
	 * catch the flip. */
	for (size_t i = 0; i < (size_t)n; i++) {
		int caught;

		memcpy(f, copy, (size_t)n);
		f[i] ^= 0x01;
		caught = wire_hdr_decode(f, (size_t)n, &h) != 0 ||
			 !(h.flags & WIRE_F_AUTH) ||
			 auth_trailer_parse(f, (size_t)n, &h, &in) != 0 ||
			 auth_frame_verify(f, (size_t)n, &h, &in, suite,
					   key) != 0;
		if (!caught)
			fail_msg("a flip of byte %zu of %zd (suite %u, seal "
				 "%d) went unnoticed", i, n, suite, seal);
	}
	free(copy);
	free(f);
}

static void test_sign_verify(void **state)
{
	size_t sizes[] = { 0, 1, 100, 4096, 1u << 20 };

	(void)state;
	for (int seal = 0; seal <= 1; seal++)
		for (size_t i = 0; i < 4; i++) {
			sign_verify(AUTH_SUITE_XCHACHA20, seal, sizes[i]);
			if (auth_suite_ok(AUTH_SUITE_AES256GCM))
				sign_verify(AUTH_SUITE_AES256GCM, seal,
					    sizes[i]);
		}
}

/* A 1 MiB secure round trip in both suites, content checked. */
static void test_secure_round_trip(void **state)
{
	uint8_t key[AUTH_KEY_LEN];
	struct auth_out o;
	struct auth_in in;
	struct wire_hdr h;
	uint8_t suites[2] = { AUTH_SUITE_XCHACHA20, AUTH_SUITE_AES256GCM };

	(void)state;
	for (int s = 0; s < 2; s++) {
		size_t len;
		uint8_t *f;
		ssize_t n;
		int same = 1;

		if (!auth_suite_ok(suites[s]))
			continue;
		f = make_frame(WIRE_SHARD_GET, WIRE_F_REPLY, 1u << 20, &len);
		randombytes_buf(key, sizeof(key));
		memset(&o, 0, sizeof(o));
		o.kind = AUTH_K_REP;
		o.suite = suites[s];
		o.seal = 1;
		o.seq = 5;
		o.key = key;
		auth_nonce_next(&(struct auth_nonce){ { 1 }, 0 }, o.nonce);
		n = auth_frame_sign(f, len, &o);
		assert_true(n > 0);
		for (size_t i = 0; i < 64; i++)
			same &= wire_payload(f)[i] == (uint8_t)(i * 7 + 3);
		assert_false(same); /* encrypted */
		assert_int_equal(wire_hdr_decode(f, (size_t)n, &h), 0);
		assert_int_equal(auth_check_reply(f, (size_t)n, &h, suites[s],
						  key, 6, &in), -EBADMSG);
		assert_int_equal(auth_check_reply(f, (size_t)n, &h, suites[s],
						  key, 5, &in), 0);
		for (size_t i = 0; i < (1u << 20); i++)
			if (wire_payload(f)[i] != (uint8_t)(i * 7 + 3))
				fail_msg("byte %zu differs after decryption",
					 i);
		free(f);
	}
}

static void test_window(void **state)
{
	struct auth_window w;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(auth_window_check(&w, 0), -ESTALE);
	assert_int_equal(auth_window_check(&w, 10), 0);
	assert_int_equal(auth_window_check(&w, 10), -EALREADY);
	assert_int_equal(auth_window_check(&w, 5), 0);   /* out of order */
	assert_int_equal(auth_window_check(&w, 5), -EALREADY);
	assert_int_equal(auth_window_check(&w, 11), 0);
	assert_int_equal(auth_window_check(&w, 11 + AUTH_WINDOW), 0);
	assert_int_equal(auth_window_check(&w, 11), -ESTALE); /* too old */
	assert_int_equal(auth_window_check(&w, 12), 0);   /* just inside */
	assert_int_equal(auth_window_check(&w, 12), -EALREADY);
	/* A jump past the window forgets everything before it. */
	assert_int_equal(auth_window_check(&w, 100000), 0);
	assert_int_equal(auth_window_check(&w, 100000 - AUTH_WINDOW + 1), 0);
	assert_int_equal(auth_window_check(&w, 100000 - AUTH_WINDOW), -ESTALE);
	/* The top of the sequence space neither wraps nor loops (found by
	 * fuzz_auth: corpus window-wrap-uint64max). */
	assert_int_equal(auth_window_check(&w, UINT64_MAX - 3), 0);
	assert_int_equal(auth_window_check(&w, UINT64_MAX), 0);
	assert_int_equal(auth_window_check(&w, UINT64_MAX), -EALREADY);
	assert_int_equal(auth_window_check(&w, UINT64_MAX - 1), 0);
	memset(&w, 0, sizeof(w));
	/* Random order within the window: each accepted exactly once. */
	for (uint64_t base = 200000, i = 0; i < 3 * AUTH_WINDOW; i++) {
		uint64_t s = base + (i * 7919) % AUTH_WINDOW;

		assert_int_equal(auth_window_check(&w, s),
				 i < AUTH_WINDOW ? 0 : -EALREADY);
	}
}

/* A request signed by cred for dest, of type with a small payload. */
static uint8_t *signed_request(struct auth_cred *cred, unsigned type,
			       uint32_t dest, size_t *len, uint64_t *seq)
{
	struct auth_snap snap;
	uint8_t *f = make_frame(type, 0, 24, len);
	ssize_t n;

	assert_int_equal(auth_cred_take(cred, &snap), 0);
	n = auth_sign_request(f, *len, &snap, dest, NULL);
	assert_true(n > 0);
	*len = (size_t)n;
	if (seq)
		*seq = snap.seq;
	return f;
}

static int check(struct auth_server *s, uint8_t *f, size_t len,
		 struct auth_req **r, int *status)
{
	char why[512];
	struct wire_hdr h;

	assert_int_equal(wire_hdr_decode(f, len, &h), 0);
	return auth_server_check(s, f, len, &h, r, status, why, sizeof(why));
}

static void test_server(void **state)
{
	struct auth_server *srv;
	struct auth_cred *osd, *cli;
	struct auth_server_stats st;
	struct auth_req *r;
	struct auth_ticket t;
	uint8_t tkey[AUTH_KEY_LEN], sealed[AUTH_TICKET_MAX], *f, *f2;
	size_t len;
	uint64_t seq;
	int status, n;

	(void)state;
	assert_int_equal(auth_server_create(secret, AUTH_DEST_OSD(1), "osd.1",
					    &srv), 0);
	auth_server_allow(srv, WIRE_PING);
	assert_int_equal(auth_cred_daemon(secret, "osd.2", 3600000, &osd), 0);

	/* A good request, then the same bytes again: a replay. */
	f = signed_request(osd, WIRE_SHARD_GET, AUTH_DEST_OSD(1), &len, &seq);
	f2 = malloc(len);
	memcpy(f2, f, len);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_OK);
	assert_non_null(r);
	assert_string_equal(r->entity, "osd.2");
	assert_true(r->caps & AUTH_CAP_DAEMON);
	assert_int_equal(r->seq, seq);
	{
		/* The reply, signed for r, checks at the sender. */
		size_t rl;
		uint8_t *rep = make_frame(WIRE_SHARD_GET, WIRE_F_REPLY, 10,
					  &rl);
		struct auth_in in;
		struct wire_hdr h;
		ssize_t rn = auth_server_sign_reply(srv, r, rep, rl);

		assert_true(rn > 0);
		assert_int_equal(wire_hdr_decode(rep, (size_t)rn, &h), 0);
		assert_int_equal(auth_check_reply(rep, (size_t)rn, &h, r->suite,
						  r->key, seq + 1, &in),
				 -EBADMSG);
		assert_int_equal(auth_check_reply(rep, (size_t)rn, &h, r->suite,
						  r->key, seq, &in), 0);
		free(rep);
	}
	free(r);
	assert_int_equal(check(srv, f2, len, &r, &status), AUTH_DROP);
	assert_null(r);
	free(f);
	free(f2);

	/* Altered in one byte of the payload: dropped. */
	f = signed_request(osd, WIRE_SHARD_GET, AUTH_DEST_OSD(1), &len, NULL);
	f[WIRE_HDR_LEN + 3] ^= 0x20;
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_DROP);
	free(f);
	/* Misaddressed (meant for osd.4): dropped. */
	f = signed_request(osd, WIRE_SHARD_GET, AUTH_DEST_OSD(4), &len, NULL);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_DROP);
	free(f);
	/* Daemons may address "any"; clients may not. */
	f = signed_request(osd, WIRE_SHARD_GET, AUTH_DEST_ANY, &len, NULL);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_OK);
	free(r);
	free(f);

	/* Unauthenticated: refused with a sentence; PING is let in. */
	f = make_frame(WIRE_SHARD_GET, 0, 8, &len);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_REFUSE);
	assert_int_equal(status, -EACCES);
	free(f);
	f = make_frame(WIRE_PING, 0, 8, &len);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_OK);
	assert_null(r);
	free(f);

	/* A client ticket: expired, from another cluster, secure. */
	auth_derive(secret, AUTH_SUB_TICKET, tkey);
	assert_int_equal(auth_cred_client(&cli), 0);
	fill_ticket(&t, auth_wall_ms() - 1000);
	n = auth_ticket_seal(tkey, &t, sealed);
	auth_cred_install(cli, sealed, (size_t)n, &t);
	f = signed_request(cli, WIRE_SHARD_GET, AUTH_DEST_OSD(1), &len, NULL);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_REFUSE_SIGNED);
	assert_int_equal(status, -EKEYEXPIRED);
	assert_non_null(r);
	free(r);
	free(f);
	f = signed_request(cli, WIRE_SHARD_GET, AUTH_DEST_ANY, &len, NULL);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_DROP);
	free(f);

	fill_ticket(&t, auth_wall_ms() + 60000);
	randombytes_buf(tkey, sizeof(tkey)); /* another cluster's key */
	n = auth_ticket_seal(tkey, &t, sealed);
	auth_cred_install(cli, sealed, (size_t)n, &t);
	f = signed_request(cli, WIRE_SHARD_GET, AUTH_DEST_OSD(1), &len, NULL);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_DROP);
	free(f);

	auth_derive(secret, AUTH_SUB_TICKET, tkey);
	t.flags = AUTH_T_SECURE;
	n = auth_ticket_seal(tkey, &t, sealed);
	auth_cred_install(cli, sealed, (size_t)n, &t);
	f = signed_request(cli, WIRE_SHARD_GET, AUTH_DEST_OSD(1), &len, NULL);
	assert_true(get_le16(f + 6) & WIRE_F_SEALED);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_OK);
	assert_int_equal(r->sealed, 1);
	for (int i = 0; i < 24; i++)
		assert_int_equal(wire_payload(f)[i], (uint8_t)(i * 7 + 3));
	free(r);
	free(f);
	{
		/* The same secure ticket on an unsealed frame: dropped. */
		struct auth_snap snap;
		ssize_t sn;

		f = make_frame(WIRE_SHARD_GET, 0, 24, &len);
		assert_int_equal(auth_cred_take(cli, &snap), 0);
		snap.secure = 0;
		sn = auth_sign_request(f, len, &snap, AUTH_DEST_OSD(1), NULL);
		assert_int_equal(check(srv, f, (size_t)sn, &r, &status),
				 AUTH_DROP);
		free(f);
	}

	auth_server_stats(srv, &st);
	assert_true(st.replayed >= 1 && st.forged >= 3 &&
		    st.misaddressed >= 2 && st.expired == 1 &&
		    st.unauthenticated == 1);
	auth_cred_free(cli);
	auth_cred_free(osd);
	auth_server_free(srv);
}

/* A restarted daemon (a new auth_server) refuses what predates it, and an
 * evicted ticket's old messages stay out. */
static void test_server_floor(void **state)
{
	struct auth_server *srv;
	struct auth_cred *c;
	struct auth_req *r;
	struct auth_snap snap;
	uint8_t *f, *old;
	size_t len, oldlen;
	int status;
	ssize_t n;

	(void)state;
	assert_int_equal(auth_cred_daemon(secret, "osd.9", 3600000, &c), 0);
	/* A message signed "10 s ago", captured before the restart. */
	old = make_frame(WIRE_SHARD_DELETE, 0, 24, &oldlen);
	assert_int_equal(auth_cred_take(c, &snap), 0);
	{
		struct auth_out o;

		memset(&o, 0, sizeof(o));
		o.kind = AUTH_K_REQ;
		o.suite = snap.suite;
		o.dest = AUTH_DEST_MDS;
		o.seq = snap.seq;
		o.time_ms = auth_wall_ms() - 10000;
		memcpy(o.nonce, snap.nonce, AUTH_NONCE_LEN);
		o.key = snap.key;
		o.ticket = snap.ticket;
		o.ticket_len = snap.ticket_len;
		n = auth_frame_sign(old, oldlen, &o);
		assert_true(n > 0);
		oldlen = (size_t)n;
	}
	assert_int_equal(auth_server_create(secret, AUTH_DEST_MDS, "mds",
					    &srv), 0);
	assert_int_equal(check(srv, old, oldlen, &r, &status), AUTH_DROP);
	/* A fresh message of the same ticket is served. */
	f = signed_request(c, WIRE_SHARD_DELETE, AUTH_DEST_MDS, &len, NULL);
	assert_int_equal(check(srv, f, len, &r, &status), AUTH_OK);
	free(r);
	free(f);
	free(old);
	auth_server_free(srv);
	auth_cred_free(c);
}

static void test_handshake(void **state)
{
	uint8_t ckey[AUTH_KEY_LEN], key[AUTH_KEY_LEN], nonce[AUTH_NC_LEN];
	uint8_t ch[AUTH_CHALLENGE_LEN], p1[AUTH_PROOF_LEN], p2[AUTH_PROOF_LEN];
	uint8_t wrap[AUTH_KEY_LEN], sk[AUTH_KEY_LEN], back[AUTH_KEY_LEN];
	uint8_t sealed[AUTH_SEALED_KEY_LEN];
	int64_t now = auth_wall_ms();

	(void)state;
	randombytes_buf(ckey, sizeof(ckey));
	randombytes_buf(key, sizeof(key));
	randombytes_buf(nonce, sizeof(nonce));
	auth_hs_challenge(ckey, "client.x", nonce, now, ch);
	assert_int_equal(auth_hs_challenge_check(ckey, "client.x", nonce, ch,
						 now + 1000), 0);
	assert_int_equal(auth_hs_challenge_check(ckey, "client.y", nonce, ch,
						 now), -EACCES);
	assert_int_equal(auth_hs_challenge_check(ckey, "client.x", nonce, ch,
						 now + AUTH_CHALLENGE_MS + 1),
			 -ETIMEDOUT);
	nonce[0] ^= 1;
	assert_int_equal(auth_hs_challenge_check(ckey, "client.x", nonce, ch,
						 now), -EACCES);
	nonce[0] ^= 1;
	auth_hs_proof(key, "client.x", nonce, ch, p1);
	auth_hs_proof(key, "client.x", nonce, ch, p2);
	assert_memory_equal(p1, p2, sizeof(p1));
	key[5] ^= 1; /* the wrong key proves nothing */
	auth_hs_proof(key, "client.x", nonce, ch, p2);
	assert_memory_not_equal(p1, p2, sizeof(p1));
	key[5] ^= 1;
	auth_hs_wrap_key(key, "client.x", nonce, ch, wrap);
	randombytes_buf(sk, sizeof(sk));
	auth_seal_key(wrap, "session:client.x", sk, sealed);
	assert_int_equal(auth_open_key(wrap, "session:client.x", sealed, back),
			 0);
	assert_memory_equal(sk, back, sizeof(sk));
	assert_int_equal(auth_open_key(wrap, "session:client.y", sealed, back),
			 -EBADMSG);
	wrap[0] ^= 1;
	assert_int_equal(auth_open_key(wrap, "session:client.x", sealed, back),
			 -EBADMSG);
}

static void test_wire_auth(void **state)
{
	struct wire_auth_hello h = { "client.admin", { 1, 2, 3 }, 6 }, h2;
	struct wire_auth_admin a = { WIRE_AUTH_ADD, "client.bob",
				     "rw path=/b" }, a2;
	struct wire_auth_admin_reply ar, ar2;
	char name[STORE_ENTITY_MAX + 1], caps[AUTH_CAPS_MAX + 1];
	struct wbuf w, list;

	(void)state;
	wbuf_init(&w);
	wire_enc_auth_hello(&w, &h);
	assert_int_equal(wire_dec_auth_hello(w.p, w.len, &h2), 0);
	assert_string_equal(h2.entity, "client.admin");
	assert_int_equal(h2.suites, 6);
	assert_int_equal(wire_dec_auth_hello(w.p, w.len - 1, &h2), -EBADMSG);
	w.len = 0;
	snprintf(h.entity, sizeof(h.entity), "bad name");
	wire_enc_auth_hello(&w, &h);
	assert_int_equal(wire_dec_auth_hello(w.p, w.len, &h2), -EBADMSG);
	w.len = 0;
	wire_enc_auth_admin(&w, &a);
	assert_int_equal(wire_dec_auth_admin(w.p, w.len, &a2), 0);
	assert_string_equal(a2.caps, "rw path=/b");
	w.len = 0;
	memset(&ar, 0, sizeof(ar));
	ar.op = WIRE_AUTH_LS;
	wbuf_init(&list);
	wire_enc_auth_entry(&list, "client.a", "r");
	wire_enc_auth_entry(&list, "client.b", "admin rw");
	ar.count = 2;
	rbuf_init(&ar.entries, list.p, list.len);
	wire_enc_auth_admin_reply(&w, &ar);
	assert_int_equal(wire_dec_auth_admin_reply(w.p, w.len, &ar2), 0);
	assert_int_equal(ar2.count, 2);
	assert_int_equal(wire_next_auth_entry(&ar2.entries, name, caps), 1);
	assert_string_equal(name, "client.a");
	assert_int_equal(wire_next_auth_entry(&ar2.entries, name, caps), 1);
	assert_string_equal(caps, "admin rw");
	assert_int_equal(wire_next_auth_entry(&ar2.entries, name, caps), 0);
	/* A count that lies is refused. */
	w.p[1] = 3;
	assert_int_equal(wire_dec_auth_admin_reply(w.p, w.len, &ar2), -EBADMSG);
	wbuf_free(&list);
	wbuf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_ticket),
		cmocka_unit_test(test_fcap),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_secure_round_trip),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_server_floor),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_wire_auth),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
