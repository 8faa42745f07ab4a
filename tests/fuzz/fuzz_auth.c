/*
 * fuzz_auth.c -- hostile bytes into every decoder of the security layer:
 * the authenticator (trailer), sealed tickets, file caps, the handshake's
 * and key management's payloads, caps text, and the whole server-side
 * check (auth_server_check) that every request of a daemon with keys
 * goes through.
 *
 * The first byte chooses the mode:
 *   0  the rest is a frame (header crc patched, as fuzz_wire does) fed to
 *      the trailer parser, the tag check and the server check;
 *   1  a VALID signed request is built (payload, seq and flags from the
 *      input) and then one byte of it flipped at a position the input
 *      picks: the server must not accept it (oracle), and the unflipped
 *      frame must be accepted exactly once;
 *   2  the rest goes to the ticket opener, the file-cap checker, every
 *      wire_auth decoder, and the caps parser.
 */
#include "auth.h"
#include "auth_server.h"
#include "crc.h"
#include "wire.h"
#include "wire_auth.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t secret[AUTH_KEY_LEN] = { 7, 1, 2, 3 };
static struct auth_server *srv;
static struct auth_cred *cred;

static void init(void)
{
	if (srv)
		return;
	if (auth_server_create(secret, AUTH_DEST_OSD(1), "osd.1", &srv) ||
	    auth_cred_daemon(secret, "osd.2", 3600000, &cred))
		abort();
	auth_server_allow(srv, WIRE_PING);
}

static void check_frame(uint8_t *f, size_t len, int must_fail)
{
	char why[STORE_ERRMSG_MAX + 1];
	struct auth_req *r = NULL;
	struct wire_hdr h;
	struct auth_in in;
	uint8_t key[AUTH_KEY_LEN] = { 0 };
	int status, v;

	if (wire_hdr_decode(f, len, &h))
		return;
	if (auth_trailer_parse(f, len, &h, &in) == 0) {
		/* On a copy: a sealed frame is opened in place, and a failed
		 * open zeroes its payload (libsodium), which would hand the
		 * server check below another frame than the one made (a
		 * flipped ciphertext byte zeroed back to its original 0 went
		 * through: a false alarm of this harness, 1 in 256). */
		uint8_t *c = malloc(len ? len : 1);

		if (!c)
			return;
		for (int s = 0; s < 2; s++) {
			memcpy(c, f, len);
			if (auth_trailer_parse(c, len, &h, &in) == 0)
				auth_frame_verify(c, len, &h, &in,
						  s ? AUTH_SUITE_AES256GCM :
						      AUTH_SUITE_XCHACHA20,
						  key);
		}
		free(c);
	}
	v = auth_server_check(srv, f, len, &h, &r, &status, why, sizeof(why));
	if (must_fail && v == AUTH_OK && (h.flags & WIRE_F_AUTH))
		abort(); /* an altered frame went through */
	if (v == AUTH_OK && r && auth_reply_room(r) > AUTH_ROOM)
		abort();
	free(r);
}

static void mode_frame(const uint8_t *p, size_t n)
{
	uint8_t *f = malloc(n ? n : 1);

	if (!f)
		return;
	memcpy(f, p, n);
	if (n >= WIRE_HDR_LEN)
		put_le32(f + 36, store_crc32c(0, f, 36));
	check_frame(f, n, 0);
	free(f);
}

static void mode_flip(const uint8_t *p, size_t n)
{
	struct auth_snap snap;
	size_t plen = n > 4 ? n - 4 : 0, pos, len;
	uint8_t *f, *copy, flags;
	struct wbuf w;
	ssize_t sn;

	if (n < 4)
		return;
	pos = get_le16(p);
	flags = p[2];
	f = malloc(WIRE_HDR_LEN + plen + AUTH_ROOM);
	copy = malloc(WIRE_HDR_LEN + plen + AUTH_ROOM);
	if (!f || !copy)
		goto out;
	wbuf_init_fixed(&w, f, WIRE_HDR_LEN + plen + AUTH_ROOM);
	wire_msg_begin(&w, p[3] % WIRE_TYPE_MAX, 0, 1, 1, 0);
	wbuf_raw(&w, p + 4, plen);
	if (wire_msg_finish(&w, 0) || auth_cred_take(cred, &snap))
		goto out;
	snap.secure = flags & 1;
	sn = auth_sign_request(f, w.len, &snap,
			       flags & 2 ? AUTH_DEST_ANY : AUTH_DEST_OSD(1),
			       NULL);
	if (sn < 0)
		goto out;
	len = (size_t)sn;
	memcpy(copy, f, len);
	/* Flipped anywhere: refused. */
	f[pos % len] ^= (uint8_t)(1u << (flags >> 5));
	check_frame(f, len, 1);
	/* Intact: accepted, then refused as a replay. */
	memcpy(f, copy, len);
	{
		char why[STORE_ERRMSG_MAX + 1];
		struct auth_req *r = NULL;
		struct wire_hdr h;
		int status;

		if (wire_hdr_decode(f, len, &h) ||
		    auth_server_check(srv, f, len, &h, &r, &status, why,
				      sizeof(why)) != AUTH_OK)
			abort();
		free(r);
		memcpy(f, copy, len);
		r = NULL;
		if (auth_server_check(srv, f, len, &h, &r, &status, why,
				      sizeof(why)) == AUTH_OK)
			abort();
		free(r);
	}
out:
	free(f);
	free(copy);
}

static void mode_decoders(const uint8_t *p, size_t n)
{
	uint8_t tkey[AUTH_KEY_LEN] = { 0 };
	struct auth_ticket t;
	struct auth_fcap fc;
	struct wire_auth_hello h;
	struct wire_auth_challenge ch;
	struct wire_auth_prove *pr = malloc(sizeof(*pr));
	struct wire_auth_granted *g = malloc(sizeof(*g));
	struct wire_auth_admin *a = malloc(sizeof(*a));
	struct wire_auth_admin_reply *ar = malloc(sizeof(*ar));
	struct auth_caps *caps = malloc(sizeof(*caps));
	char *text = malloc(n + 1), err[256];
	char name[STORE_ENTITY_MAX + 1], *ec = malloc(AUTH_CAPS_MAX + 1);
	struct auth_window win;

	if (!pr || !g || !a || !ar || !caps || !text || !ec)
		goto out;
	auth_ticket_open(tkey, p, n, &t);
	auth_fcap_check(tkey, "client.x", p, n, &fc);
	wire_dec_auth_hello(p, n, &h);
	wire_dec_auth_challenge(p, n, &ch);
	wire_dec_auth_prove(p, n, pr);
	wire_dec_auth_granted(p, n, g);
	wire_dec_auth_admin(p, n, a);
	if (wire_dec_auth_admin_reply(p, n, ar) == 0 &&
	    ar->op == WIRE_AUTH_LS) {
		uint32_t k = 0;

		while (wire_next_auth_entry(&ar->entries, name, ec))
			k++;
		if (k != ar->count)
			abort();
	}
	memcpy(text, p, n);
	text[n] = '\0';
	auth_caps_parse(text, caps, err, sizeof(err));
	/* The window against a sequence the input draws. */
	memset(&win, 0, sizeof(win));
	for (size_t i = 0; i + 8 <= n; i += 8)
		auth_window_check(&win, get_le64(p + i));
out:
	free(pr);
	free(g);
	free(a);
	free(ar);
	free(caps);
	free(text);
	free(ec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		mode_frame(data + 1, size - 1);
		break;
	case 1:
		mode_flip(data + 1, size - 1);
		break;
	case 2:
		mode_decoders(data + 1, size - 1);
		break;
	}
	return 0;
}
