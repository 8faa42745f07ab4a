/*
 * auth.c -- caps, tickets, file caps, frame signatures, replay windows and
 * nonces: see auth.h.  Every cryptographic step is a libsodium call but
 * one: the AES-256-GCM tag of an unsealed frame, which gmac.c computes
 * (the same tag, five times faster).
 */
#include "auth.h"
#include "buf.h"
#include "crc.h"
#include "gmac.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Associated data binding a sealed ticket to its purpose: a ticket cannot
 * be mistaken for any other blob sealed with a key of the cluster. */
static const uint8_t ticket_ad[8] = { 'S', 'T', 'R', 't', 'k', 't', '1', 0 };
static const char kdf_ctx[crypto_kdf_CONTEXTBYTES] = { 'S', 'T', 'R', 'a',
							'u', 't', 'h', '1' };
#define TICKET_VERSION 1
#define TICKET_PLAIN_MAX (4 + 8 * 4 + AUTH_KEY_LEN + 1 + STORE_ENTITY_MAX)
#define XNONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_Static_assert(AUTH_KEY_LEN == GMAC_KEY_LEN &&
		       AUTH_NONCE_LEN == GMAC_NONCE_LEN &&
		       AUTH_TAG_LEN == GMAC_TAG_LEN,
	       "gmac.c computes AES-256-GCM tags with auth.h's sizes");

int auth_init(void)
{
	if (sodium_init() < 0)
		return -EIO;
	gmac_init();
	return 0;
}

uint8_t auth_suite_default(void)
{
	auth_init();
	return crypto_aead_aes256gcm_is_available() ? AUTH_SUITE_AES256GCM :
						      AUTH_SUITE_XCHACHA20;
}

int auth_suite_ok(uint8_t suite)
{
	if (suite == AUTH_SUITE_XCHACHA20)
		return 1;
	return suite == AUTH_SUITE_AES256GCM &&
	       crypto_aead_aes256gcm_is_available();
}

const char *auth_suite_name(uint8_t suite)
{
	return suite == AUTH_SUITE_AES256GCM ? "AES-256-GCM" :
	       suite == AUTH_SUITE_XCHACHA20 ? "XChaCha20-Poly1305" : "unknown";
}

void auth_derive(const uint8_t secret[AUTH_KEY_LEN], uint64_t id,
		 uint8_t out[AUTH_KEY_LEN])
{
	crypto_kdf_derive_from_key(out, AUTH_KEY_LEN, id, kdf_ctx, secret);
}

int64_t auth_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- capabilities -----------------------------------------------------*/

/* Normalise an absolute path: single slashes, no trailing slash, no "."
 * or ".." components.  Returns 0 or -EINVAL. */
static int norm_path(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = in;

	if (in[0] != '/')
		return -EINVAL;
	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		s = p;
		n = strcspn(p, "/");
		p += n;
		if (n == 0)
			break;
		if ((n == 1 && s[0] == '.') || (n == 2 && !memcmp(s, "..", 2)) ||
		    n > STORE_NAME_MAX)
			return -EINVAL;
		if (o + 1 + n + 1 > cap)
			return -EINVAL;
		out[o++] = '/';
		memcpy(out + o, s, n);
		o += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

int auth_caps_parse(const char *text, struct auth_caps *caps, char *err,
		    size_t errlen)
{
	char buf[AUTH_CAPS_MAX + 1];
	char *save = NULL, *tok;
	int access = 0, any = 0;

	memset(caps, 0, sizeof(*caps));
	if (!text || strlen(text) > AUTH_CAPS_MAX) {
		snprintf(err, errlen, "caps are missing or too long");
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		any = 1;
		if (!strcmp(tok, "r") || !strcmp(tok, "rw")) {
			if (access) {
				snprintf(err, errlen, "caps '%s': give r or rw "
					 "once", text);
				return -EINVAL;
			}
			access = 1;
			caps->bits |= AUTH_CAP_R;
			if (tok[1] == 'w')
				caps->bits |= AUTH_CAP_W;
		} else if (!strcmp(tok, "admin")) {
			caps->bits |= AUTH_CAP_ADMIN;
		} else if (!strncmp(tok, "path=", 5)) {
			if (caps->path[0] ||
			    norm_path(tok + 5, caps->path, sizeof(caps->path))) {
				snprintf(err, errlen, "caps '%s': path= wants "
					 "one absolute path without '.' or "
					 "'..' components", text);
				return -EINVAL;
			}
		} else {
			snprintf(err, errlen, "caps '%s': unknown word '%s' "
				 "(expected r, rw, admin, path=/PATH)", text,
				 tok);
			return -EINVAL;
		}
	}
	if (!any) {
		snprintf(err, errlen, "caps are empty (expected r, rw, admin, "
			 "path=/PATH)");
		return -EINVAL;
	}
	if (caps->path[0] && !access) {
		snprintf(err, errlen, "caps '%s': path= limits r or rw, which "
			 "are missing", text);
		return -EINVAL;
	}
	if (!strcmp(caps->path, "/"))
		caps->path[0] = '\0';
	return 0;
}

/* ---- tickets ----------------------------------------------------------*/

int auth_ticket_seal(const uint8_t tkey[AUTH_KEY_LEN],
		     const struct auth_ticket *t, uint8_t *out)
{
	uint8_t plain[TICKET_PLAIN_MAX];
	unsigned long long clen;
	size_t elen = strlen(t->entity);
	struct wbuf w;

	if (elen == 0 || elen > STORE_ENTITY_MAX || !auth_suite_ok(t->suite) ||
	    t->suite > AUTH_SUITE_XCHACHA20)
		return -EINVAL;
	wbuf_init_fixed(&w, plain, sizeof(plain));
	wbuf_u8(&w, TICKET_VERSION);
	wbuf_u8(&w, t->suite);
	wbuf_u8(&w, t->flags);
	wbuf_u8(&w, t->caps);
	wbuf_u64(&w, t->id);
	wbuf_i64(&w, t->issued_ms);
	wbuf_i64(&w, t->expires_ms);
	wbuf_u64(&w, t->root);
	wbuf_raw(&w, t->key, AUTH_KEY_LEN);
	wbuf_u8(&w, (uint8_t)elen);
	wbuf_raw(&w, t->entity, elen);
	if (w.err)
		return -EINVAL;
	randombytes_buf(out, XNONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + XNONCE_LEN, &clen,
						   plain, w.len, ticket_ad,
						   sizeof(ticket_ad), NULL,
						   out, tkey);
	sodium_memzero(plain, sizeof(plain));
	return (int)(XNONCE_LEN + clen);
}

int auth_ticket_open(const uint8_t tkey[AUTH_KEY_LEN], const uint8_t *p,
		     size_t len, struct auth_ticket *t)
{
	uint8_t plain[AUTH_TICKET_MAX];
	unsigned long long plen;
	struct rbuf r;
	uint8_t elen;
	int rc = -EBADMSG;

	memset(t, 0, sizeof(*t));
	if (len < XNONCE_LEN + AUTH_TAG_LEN || len > AUTH_TICKET_MAX)
		return -EBADMSG;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    plain, &plen, NULL, p + XNONCE_LEN, len - XNONCE_LEN,
		    ticket_ad, sizeof(ticket_ad), p, tkey) != 0)
		return -EBADMSG;
	rbuf_init(&r, plain, (size_t)plen);
	if (rbuf_u8(&r) != TICKET_VERSION)
		goto out;
	t->suite = rbuf_u8(&r);
	t->flags = rbuf_u8(&r);
	t->caps = rbuf_u8(&r);
	t->id = rbuf_u64(&r);
	t->issued_ms = rbuf_i64(&r);
	t->expires_ms = rbuf_i64(&r);
	t->root = rbuf_u64(&r);
	rbuf_raw(&r, t->key, AUTH_KEY_LEN);
	elen = rbuf_u8(&r);
	if (r.err || elen == 0 || elen > STORE_ENTITY_MAX)
		goto out;
	rbuf_raw(&r, t->entity, elen);
	t->entity[elen] = '\0';
	/* A ticket sealed with our key is ours, but check it anyway: a bug
	 * elsewhere must not become a confused deputy here. */
	if (rbuf_done(&r) || memchr(t->entity, '\0', elen) ||
	    (t->suite != AUTH_SUITE_AES256GCM &&
	     t->suite != AUTH_SUITE_XCHACHA20) ||
	    (t->flags & ~AUTH_T_SECURE) || t->caps > 15 || t->root == 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(plain, sizeof(plain));
	if (rc)
		sodium_memzero(t, sizeof(*t));
	return rc;
}

/* ---- file capabilities ------------------------------------------------*/

static void fcap_mac(const uint8_t fkey[AUTH_KEY_LEN], const char *entity,
		     const uint8_t *body, uint8_t mac[16])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, fkey, AUTH_KEY_LEN, 16);
	crypto_generichash_update(&st, (const uint8_t *)"STRfcap1", 8);
	crypto_generichash_update(&st, body, AUTH_FCAP_LEN - 16);
	crypto_generichash_update(&st, (const uint8_t *)entity,
				  strlen(entity));
	crypto_generichash_final(&st, mac, 16);
}

void auth_fcap_make(const uint8_t fkey[AUTH_KEY_LEN], const char *entity,
		    const struct auth_fcap *f, uint8_t out[AUTH_FCAP_LEN])
{
	out[0] = f->access;
	put_le64(out + 1, f->ino);
	put_le64(out + 9, (uint64_t)f->expires_ms);
	fcap_mac(fkey, entity, out, out + AUTH_FCAP_LEN - 16);
}

int auth_fcap_check(const uint8_t fkey[AUTH_KEY_LEN], const char *entity,
		    const uint8_t *p, size_t len, struct auth_fcap *f)
{
	uint8_t mac[16];

	memset(f, 0, sizeof(*f));
	if (len != AUTH_FCAP_LEN || !(p[0] & AUTH_CAP_R) ||
	    (p[0] & ~(AUTH_CAP_R | AUTH_CAP_W)))
		return -EBADMSG;
	fcap_mac(fkey, entity, p, mac);
	if (crypto_verify_16(mac, p + AUTH_FCAP_LEN - 16) != 0)
		return -EACCES;
	f->access = p[0];
	f->ino = get_le64(p + 1);
	f->expires_ms = (int64_t)get_le64(p + 9);
	return 0;
}

/* ---- AEAD -------------------------------------------------------------*/

/* Seal (enc) or open msg in place with ad, under key and a 96-bit nonce.
 * XChaCha20's 192-bit nonce is the same nonce zero-extended: unique nonces
 * stay unique.  Returns 0 or -EBADMSG (open: the tag does not match). */
static int aead(int enc, uint8_t suite, const uint8_t *key,
		const uint8_t *nonce, const uint8_t *ad, size_t adlen,
		uint8_t *msg, size_t mlen, uint8_t *tag)
{
	uint8_t xn[XNONCE_LEN], none[1] = { 0 };
	uint8_t *m = mlen ? msg : none; /* libsodium wants non-NULL */
	unsigned long long tl;

	if (suite == AUTH_SUITE_AES256GCM) {
		if (!crypto_aead_aes256gcm_is_available())
			return -EBADMSG;
		if (!mlen) {
			/* An unsealed frame: GMAC, the bulk of all signing. */
			uint8_t t[GMAC_TAG_LEN];
			int bad;

			if (gmac_tag(key, nonce, ad, adlen, enc ? tag : t))
				return -EBADMSG;
			if (enc)
				return 0;
			bad = crypto_verify_16(t, tag);
			sodium_memzero(t, sizeof(t));
			return bad ? -EBADMSG : 0;
		}
		if (enc)
			return crypto_aead_aes256gcm_encrypt_detached(
				       m, tag, &tl, m, mlen, ad, adlen, NULL,
				       nonce, key) ? -EBADMSG : 0;
		return crypto_aead_aes256gcm_decrypt_detached(
			       m, NULL, m, mlen, tag, ad, adlen, nonce, key) ?
			       -EBADMSG : 0;
	}
	if (suite != AUTH_SUITE_XCHACHA20)
		return -EBADMSG;
	memset(xn, 0, sizeof(xn));
	memcpy(xn, nonce, AUTH_NONCE_LEN);
	if (enc)
		return crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
			       m, tag, &tl, m, mlen, ad, adlen, NULL, xn, key) ?
			       -EBADMSG : 0;
	return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
		       m, NULL, m, mlen, tag, ad, adlen, xn, key) ? -EBADMSG : 0;
}

/* The tag over a frame: everything but the tag as associated data, or, in
 * secure mode, header + trailer as associated data and the payload as the
 * message.  tag_off is where the tag sits. */
static int frame_aead(int enc, uint8_t *frame, size_t payload_len,
		      size_t tag_off, int sealed, uint8_t suite,
		      const uint8_t *key, const uint8_t *nonce)
{
	uint8_t ad[WIRE_HDR_LEN + AUTH_TRAILER_MAX];
	size_t tl = tag_off - WIRE_HDR_LEN - payload_len;

	if (!sealed)
		return aead(enc, suite, key, nonce, frame, tag_off, NULL, 0,
			    frame + tag_off);
	if (tl > AUTH_TRAILER_MAX)
		return -EBADMSG;
	memcpy(ad, frame, WIRE_HDR_LEN);
	memcpy(ad + WIRE_HDR_LEN, frame + WIRE_HDR_LEN + payload_len, tl);
	return aead(enc, suite, key, nonce, ad, WIRE_HDR_LEN + tl,
		    frame + WIRE_HDR_LEN, payload_len, frame + tag_off);
}

/* ---- frames -----------------------------------------------------------*/

size_t auth_trailer_len(const struct auth_out *o)
{
	size_t n = o->kind == AUTH_K_REQ ? AUTH_REQ_FIXED + o->ticket_len :
					   AUTH_REP_FIXED;

	return n + (o->fcap ? AUTH_FCAP_LEN : 0) + AUTH_TAG_LEN;
}

ssize_t auth_frame_sign(uint8_t *frame, size_t len, const struct auth_out *o)
{
	size_t tl = auth_trailer_len(o), off;
	struct wire_hdr h;
	uint8_t *t;
	uint16_t flags;

	if (wire_hdr_decode(frame, len, &h) || h.auth_len ||
	    (h.flags & (WIRE_F_AUTH | WIRE_F_SEALED)) ||
	    (o->kind != AUTH_K_REQ && o->kind != AUTH_K_REP) ||
	    (o->kind == AUTH_K_REP && o->ticket_len))
		return -EINVAL;
	if (len + tl > STORE_MSG_MAX)
		return -EMSGSIZE;
	t = frame + len;
	t[0] = AUTH_TRAILER_VERSION;
	t[1] = o->kind;
	t[2] = (uint8_t)((o->flags & ~AUTH_TF_FCAP) |
			 (o->fcap ? AUTH_TF_FCAP : 0));
	if (o->kind == AUTH_K_REQ) {
		t[3] = o->ticket_len;
		put_le32(t + 4, o->dest);
		put_le64(t + 8, o->seq);
		put_le64(t + 16, (uint64_t)o->time_ms);
		memcpy(t + 24, o->nonce, AUTH_NONCE_LEN);
		memcpy(t + AUTH_REQ_FIXED, o->ticket, o->ticket_len);
		off = AUTH_REQ_FIXED + o->ticket_len;
	} else {
		t[3] = 0;
		put_le64(t + 4, o->seq);
		memcpy(t + 12, o->nonce, AUTH_NONCE_LEN);
		off = AUTH_REP_FIXED;
	}
	if (o->fcap)
		memcpy(t + off, o->fcap, AUTH_FCAP_LEN);
	flags = (uint16_t)(h.flags | WIRE_F_AUTH | (o->seal ? WIRE_F_SEALED : 0));
	put_le16(frame + 6, flags);
	put_le16(frame + 32, (uint16_t)tl);
	put_le32(frame + 36, store_crc32c(0, frame, 36));
	if (frame_aead(1, frame, h.payload_len, len + tl - AUTH_TAG_LEN,
		       o->seal, o->suite, o->key, o->nonce))
		return -EINVAL;
	return (ssize_t)(len + tl);
}

int auth_trailer_parse(const uint8_t *frame, size_t len,
		       const struct wire_hdr *h, struct auth_in *in)
{
	const uint8_t *t;
	size_t n, off;

	memset(in, 0, sizeof(*in));
	if (!(h->flags & WIRE_F_AUTH) || h->auth_len < AUTH_REP_FIXED +
							       AUTH_TAG_LEN ||
	    (size_t)WIRE_HDR_LEN + h->payload_len + h->auth_len != len)
		return -EBADMSG;
	t = frame + WIRE_HDR_LEN + h->payload_len;
	n = h->auth_len;
	if (t[0] != AUTH_TRAILER_VERSION || (t[2] & ~AUTH_TF_ALL))
		return -EBADMSG;
	in->kind = t[1];
	in->flags = t[2];
	if (in->kind == AUTH_K_REQ) {
		if (n < AUTH_REQ_FIXED + AUTH_TAG_LEN)
			return -EBADMSG;
		in->ticket_len = t[3];
		in->dest = get_le32(t + 4);
		in->seq = get_le64(t + 8);
		in->time_ms = (int64_t)get_le64(t + 16);
		in->nonce = t + 24;
		in->ticket = t + AUTH_REQ_FIXED;
		off = AUTH_REQ_FIXED + in->ticket_len;
	} else if (in->kind == AUTH_K_REP) {
		if (t[3] != 0)
			return -EBADMSG;
		in->seq = get_le64(t + 4);
		in->nonce = t + 12;
		off = AUTH_REP_FIXED;
	} else {
		return -EBADMSG;
	}
	if (in->flags & AUTH_TF_FCAP) {
		in->fcap = t + off;
		off += AUTH_FCAP_LEN;
	}
	if (off + AUTH_TAG_LEN != n)
		return -EBADMSG;
	in->tag = t + off;
	return 0;
}

int auth_frame_verify(uint8_t *frame, size_t len, const struct wire_hdr *h,
		      const struct auth_in *in, uint8_t suite,
		      const uint8_t key[AUTH_KEY_LEN])
{
	size_t tag_off = (size_t)(in->tag - frame);

	if (tag_off + AUTH_TAG_LEN != len)
		return -EBADMSG;
	return frame_aead(0, frame, h->payload_len, tag_off,
			  !!(h->flags & WIRE_F_SEALED), suite, key, in->nonce);
}

int auth_check_reply(uint8_t *frame, size_t len, const struct wire_hdr *h,
		     uint8_t suite, const uint8_t key[AUTH_KEY_LEN],
		     uint64_t seq, struct auth_in *in)
{
	if (!(h->flags & WIRE_F_AUTH))
		return -ENOMSG;
	if (auth_trailer_parse(frame, len, h, in) || in->kind != AUTH_K_REP ||
	    in->seq != seq)
		return -EBADMSG;
	return auth_frame_verify(frame, len, h, in, suite, key);
}

/* ---- replay windows ---------------------------------------------------*/

#define WBIT(s) ((s) % AUTH_WINDOW)

int auth_window_check(struct auth_window *w, uint64_t seq)
{
	uint64_t b;

	if (seq == 0)
		return -ESTALE;
	if (seq > w->max) {
		if (seq - w->max >= AUTH_WINDOW) {
			memset(w->bits, 0, sizeof(w->bits));
		} else {
			/* Slots of (max, seq] held values now out of the
			 * window: clear them. */
			uint64_t n = seq - w->max; /* < AUTH_WINDOW */

			for (uint64_t d = 1; d <= n; d++) {
				b = WBIT(w->max + d);
				w->bits[b / 64] &= ~(1ull << (b % 64));
			}
		}
		w->max = seq;
	} else if (w->max - seq >= AUTH_WINDOW) {
		return -ESTALE;
	}
	b = WBIT(seq);
	if (w->bits[b / 64] & (1ull << (b % 64)))
		return -EALREADY;
	w->bits[b / 64] |= 1ull << (b % 64);
	return 0;
}

/* ---- nonces -----------------------------------------------------------*/

void auth_nonce_init(struct auth_nonce *n)
{
	randombytes_buf(n->instance, sizeof(n->instance));
	n->counter = 0;
}

void auth_nonce_next(struct auth_nonce *n, uint8_t out[AUTH_NONCE_LEN])
{
	if (++n->counter == 0) {
		/* 2^32 messages from this instance: never reuse a nonce. */
		randombytes_buf(n->instance, sizeof(n->instance));
		n->counter = 1;
	}
	memcpy(out, n->instance, 8);
	put_le32(out + 8, n->counter);
}
