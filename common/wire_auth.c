/*
 * wire_auth.c -- authentication payloads and handshake steps: see
 * wire_auth.h.
 */
#include "wire_auth.h"
#include "keyring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_VERSION 1

/* Entity names on the wire obey the keyring's rule (no spaces, no
 * brackets), so a name always round-trips through a keyring file. */
static void dec_entity(struct rbuf *r, char *name)
{
	rbuf_str(r, name, STORE_ENTITY_MAX + 1, STORE_ENTITY_MAX);
	if (!r->err && !keyring_name_ok(name)) {
		r->err = -EBADMSG;
		name[0] = '\0';
	}
}

void wire_enc_auth_hello(struct wbuf *w, const struct wire_auth_hello *m)
{
	wbuf_u8(w, HELLO_VERSION);
	wbuf_str(w, m->entity, STORE_ENTITY_MAX);
	wbuf_raw(w, m->nonce, AUTH_NC_LEN);
	wbuf_u8(w, m->suites);
}

int wire_dec_auth_hello(const uint8_t *p, size_t len,
			struct wire_auth_hello *m)
{
	struct rbuf r;

	memset(m, 0, sizeof(*m));
	rbuf_init(&r, p, len);
	if (rbuf_u8(&r) != HELLO_VERSION)
		return -EBADMSG;
	dec_entity(&r, m->entity);
	rbuf_raw(&r, m->nonce, AUTH_NC_LEN);
	m->suites = rbuf_u8(&r);
	return rbuf_done(&r) ? -EBADMSG : 0;
}

void wire_enc_auth_challenge(struct wbuf *w,
			     const struct wire_auth_challenge *m)
{
	wbuf_raw(w, m->challenge, AUTH_CHALLENGE_LEN);
}

int wire_dec_auth_challenge(const uint8_t *p, size_t len,
			    struct wire_auth_challenge *m)
{
	struct rbuf r;

	rbuf_init(&r, p, len);
	rbuf_raw(&r, m->challenge, AUTH_CHALLENGE_LEN);
	return rbuf_done(&r) ? -EBADMSG : 0;
}

void wire_enc_auth_prove(struct wbuf *w, const struct wire_auth_prove *m)
{
	wbuf_str(w, m->entity, STORE_ENTITY_MAX);
	wbuf_raw(w, m->nonce, AUTH_NC_LEN);
	wbuf_raw(w, m->challenge, AUTH_CHALLENGE_LEN);
	wbuf_raw(w, m->proof, AUTH_PROOF_LEN);
	wbuf_u8(w, m->suites);
}

int wire_dec_auth_prove(const uint8_t *p, size_t len,
			struct wire_auth_prove *m)
{
	struct rbuf r;

	memset(m, 0, sizeof(*m));
	rbuf_init(&r, p, len);
	dec_entity(&r, m->entity);
	rbuf_raw(&r, m->nonce, AUTH_NC_LEN);
	rbuf_raw(&r, m->challenge, AUTH_CHALLENGE_LEN);
	rbuf_raw(&r, m->proof, AUTH_PROOF_LEN);
	m->suites = rbuf_u8(&r);
	return rbuf_done(&r) ? -EBADMSG : 0;
}

void wire_enc_auth_granted(struct wbuf *w, const struct wire_auth_granted *m)
{
	wbuf_u8(w, m->suite);
	wbuf_u8(w, m->flags);
	wbuf_u8(w, m->caps);
	wbuf_u8(w, m->restricted);
	wbuf_i64(w, m->expires_ms);
	wbuf_i64(w, m->ttl_ms);
	wbuf_str(w, m->caps_text, AUTH_CAPS_MAX);
	wbuf_u8(w, m->ticket_len);
	wbuf_raw(w, m->ticket, m->ticket_len);
	wbuf_raw(w, m->sealed_key, AUTH_SEALED_KEY_LEN);
}

int wire_dec_auth_granted(const uint8_t *p, size_t len,
			  struct wire_auth_granted *m)
{
	struct rbuf r;

	memset(m, 0, sizeof(*m));
	rbuf_init(&r, p, len);
	m->suite = rbuf_u8(&r);
	m->flags = rbuf_u8(&r);
	m->caps = rbuf_u8(&r);
	m->restricted = rbuf_u8(&r);
	m->expires_ms = rbuf_i64(&r);
	m->ttl_ms = rbuf_i64(&r);
	rbuf_str(&r, m->caps_text, sizeof(m->caps_text), AUTH_CAPS_MAX);
	m->ticket_len = rbuf_u8(&r);
	rbuf_raw(&r, m->ticket, m->ticket_len);
	rbuf_raw(&r, m->sealed_key, AUTH_SEALED_KEY_LEN);
	if (rbuf_done(&r) || m->ticket_len == 0 || m->restricted > 1 ||
	    (m->suite != AUTH_SUITE_AES256GCM &&
	     m->suite != AUTH_SUITE_XCHACHA20) || m->ttl_ms <= 0)
		return -EBADMSG;
	return 0;
}

void wire_enc_auth_admin(struct wbuf *w, const struct wire_auth_admin *m)
{
	wbuf_u8(w, m->op);
	wbuf_str(w, m->name, STORE_ENTITY_MAX);
	wbuf_str(w, m->caps, AUTH_CAPS_MAX);
}

int wire_dec_auth_admin(const uint8_t *p, size_t len,
			struct wire_auth_admin *m)
{
	struct rbuf r;

	memset(m, 0, sizeof(*m));
	rbuf_init(&r, p, len);
	m->op = rbuf_u8(&r);
	rbuf_str(&r, m->name, sizeof(m->name), STORE_ENTITY_MAX);
	rbuf_str(&r, m->caps, sizeof(m->caps), AUTH_CAPS_MAX);
	if (rbuf_done(&r) || m->op < WIRE_AUTH_ADD || m->op > WIRE_AUTH_CAPS ||
	    (m->op != WIRE_AUTH_LS && !keyring_name_ok(m->name)))
		return -EBADMSG;
	return 0;
}

void wire_enc_auth_entry(struct wbuf *w, const char *name, const char *caps)
{
	wbuf_str(w, name, STORE_ENTITY_MAX);
	wbuf_str(w, caps, AUTH_CAPS_MAX);
}

void wire_enc_auth_admin_reply(struct wbuf *w,
			       const struct wire_auth_admin_reply *m)
{
	wbuf_u8(w, m->op);
	switch (m->op) {
	case WIRE_AUTH_ADD:
	case WIRE_AUTH_GET:
		wbuf_str(w, m->name, STORE_ENTITY_MAX);
		wbuf_str(w, m->caps, AUTH_CAPS_MAX);
		wbuf_raw(w, m->sealed_key, AUTH_SEALED_KEY_LEN);
		break;
	case WIRE_AUTH_LS:
		wbuf_u32(w, m->count);
		wbuf_raw(w, m->entries.p, m->entries.len);
		break;
	default:
		break;
	}
}

int wire_next_auth_entry(struct rbuf *r, char name[STORE_ENTITY_MAX + 1],
			 char caps[AUTH_CAPS_MAX + 1])
{
	if (rbuf_left(r) == 0 || r->err)
		return 0;
	rbuf_str(r, name, STORE_ENTITY_MAX + 1, STORE_ENTITY_MAX);
	rbuf_str(r, caps, AUTH_CAPS_MAX + 1, AUTH_CAPS_MAX);
	return r->err ? 0 : 1;
}

int wire_dec_auth_admin_reply(const uint8_t *p, size_t len,
			      struct wire_auth_admin_reply *m)
{
	char name[STORE_ENTITY_MAX + 1];
	char *caps;
	struct rbuf r, walk;
	uint32_t n = 0;

	memset(m, 0, sizeof(*m));
	rbuf_init(&r, p, len);
	m->op = rbuf_u8(&r);
	switch (m->op) {
	case WIRE_AUTH_ADD:
	case WIRE_AUTH_GET:
		rbuf_str(&r, m->name, sizeof(m->name), STORE_ENTITY_MAX);
		rbuf_str(&r, m->caps, sizeof(m->caps), AUTH_CAPS_MAX);
		rbuf_raw(&r, m->sealed_key, AUTH_SEALED_KEY_LEN);
		break;
	case WIRE_AUTH_LS:
		m->count = rbuf_u32(&r);
		if (r.err || m->count > AUTH_LIST_MAX)
			return -EBADMSG;
		/* Validate every entry now, so iterating cannot fail. */
		rbuf_init(&m->entries, p + r.off, len - r.off);
		walk = m->entries;
		caps = malloc(AUTH_CAPS_MAX + 1);
		if (!caps)
			return -ENOMEM;
		while (wire_next_auth_entry(&walk, name, caps))
			n++;
		free(caps);
		if (walk.err || n != m->count)
			return -EBADMSG;
		return 0;
	case WIRE_AUTH_RM:
	case WIRE_AUTH_CAPS:
		break;
	default:
		return -EBADMSG;
	}
	return rbuf_done(&r) ? -EBADMSG : 0;
}

/* ---- the handshake ----------------------------------------------------*/

static void keyed_hash(const uint8_t key[AUTH_KEY_LEN], const char *label,
		       const char *entity, const uint8_t *a, size_t alen,
		       const uint8_t *b, size_t blen, uint8_t *out,
		       size_t outlen)
{
	crypto_generichash_state st;
	uint8_t el = (uint8_t)strlen(entity);

	crypto_generichash_init(&st, key, AUTH_KEY_LEN, outlen);
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_update(&st, &el, 1);
	crypto_generichash_update(&st, (const uint8_t *)entity, el);
	crypto_generichash_update(&st, a, alen);
	if (b)
		crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, outlen);
}

void auth_hs_challenge(const uint8_t ckey[AUTH_KEY_LEN], const char *entity,
		       const uint8_t nonce[AUTH_NC_LEN], int64_t now_ms,
		       uint8_t out[AUTH_CHALLENGE_LEN])
{
	put_le64(out, (uint64_t)now_ms);
	randombytes_buf(out + 8, 16);
	keyed_hash(ckey, "STRchal1", entity, nonce, AUTH_NC_LEN, out, 24,
		   out + 24, 16);
}

int auth_hs_challenge_check(const uint8_t ckey[AUTH_KEY_LEN],
			    const char *entity,
			    const uint8_t nonce[AUTH_NC_LEN],
			    const uint8_t ch[AUTH_CHALLENGE_LEN],
			    int64_t now_ms)
{
	uint8_t mac[16];
	int64_t t = (int64_t)get_le64(ch);

	keyed_hash(ckey, "STRchal1", entity, nonce, AUTH_NC_LEN, ch, 24, mac,
		   16);
	if (crypto_verify_16(mac, ch + 24))
		return -EACCES;
	if (now_ms - t > AUTH_CHALLENGE_MS || t - now_ms > 1000)
		return -ETIMEDOUT;
	return 0;
}

void auth_hs_proof(const uint8_t key[AUTH_KEY_LEN], const char *entity,
		   const uint8_t nonce[AUTH_NC_LEN],
		   const uint8_t ch[AUTH_CHALLENGE_LEN],
		   uint8_t out[AUTH_PROOF_LEN])
{
	keyed_hash(key, "STRprove1", entity, nonce, AUTH_NC_LEN, ch,
		   AUTH_CHALLENGE_LEN, out, AUTH_PROOF_LEN);
}

void auth_hs_wrap_key(const uint8_t key[AUTH_KEY_LEN], const char *entity,
		      const uint8_t nonce[AUTH_NC_LEN],
		      const uint8_t ch[AUTH_CHALLENGE_LEN],
		      uint8_t out[AUTH_KEY_LEN])
{
	keyed_hash(key, "STRwrap1", entity, nonce, AUTH_NC_LEN, ch,
		   AUTH_CHALLENGE_LEN, out, AUTH_KEY_LEN);
}

void auth_seal_key(const uint8_t wrap[AUTH_KEY_LEN], const char *label,
		   const uint8_t key[AUTH_KEY_LEN],
		   uint8_t out[AUTH_SEALED_KEY_LEN])
{
	unsigned long long clen;

	randombytes_buf(out, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		out + 24, &clen, key, AUTH_KEY_LEN, (const uint8_t *)label,
		strlen(label), NULL, out, wrap);
}

int auth_open_key(const uint8_t wrap[AUTH_KEY_LEN], const char *label,
		  const uint8_t in[AUTH_SEALED_KEY_LEN],
		  uint8_t key[AUTH_KEY_LEN])
{
	unsigned long long mlen;

	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    key, &mlen, NULL, in + 24, AUTH_SEALED_KEY_LEN - 24,
		    (const uint8_t *)label, strlen(label), in, wrap) ||
	    mlen != AUTH_KEY_LEN)
		return -EBADMSG;
	return 0;
}
