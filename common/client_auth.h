/*
 * client_auth.h -- libstore's key management calls (storectl auth): add,
 * get, list, remove clients' keys and change their caps.  They need a
 * key with admin caps.  A key travels only sealed under the session key
 * of the administrator who asked for it.
 *
 * How a client authenticates is not here: store_connect() does it when
 * the configuration names a keyring (`keyring = FILE`, `name = ENTITY`),
 * renews the ticket before it expires, and signs every request.
 */
#ifndef STORE_CLIENT_AUTH_H
#define STORE_CLIENT_AUTH_H

#include "auth.h"
#include "client.h"

/* Create name with caps; its new key in key.  -EEXIST if it exists,
 * -EINVAL (caps), -EACCES (not admin). */
int store_auth_add(struct store_client *c, const char *name, const char *caps,
		   uint8_t key[AUTH_KEY_LEN]);

/* The key and caps of name.  -ENOENT if unknown. */
int store_auth_get(struct store_client *c, const char *name,
		   uint8_t key[AUTH_KEY_LEN], char caps[AUTH_CAPS_MAX + 1]);

/* Replace the caps of name (tickets already given keep theirs until they
 * expire). */
int store_auth_caps(struct store_client *c, const char *name,
		    const char *caps);

int store_auth_rm(struct store_client *c, const char *name);

/* Every entity and its caps; fn returns non-zero to stop. */
typedef int (*store_auth_ls_fn)(void *arg, const char *name, const char *caps);
int store_auth_ls(struct store_client *c, store_auth_ls_fn fn, void *arg);

/* This client's entity, caps text ("" without a key), and whether its
 * traffic is encrypted. */
const char *store_auth_entity(const struct store_client *c);
const char *store_auth_caps_text(const struct store_client *c);
int store_auth_secure(const struct store_client *c);
/* May this client change anything anywhere (a key with w caps and no path
 * limit, or no key at all)?  Then the MDS refuses none of its changes for
 * permissions: a change may be acknowledged before it is sent. */
int store_auth_writes_anywhere(const struct store_client *c);

#endif
