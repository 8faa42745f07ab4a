/*
 * keyring.h -- keyring files: the secret keys of entities, as text.
 *
 *     # written by store-mds --init
 *     [daemon]
 *             key = 3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
 *     [client.admin]
 *             key = q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=
 *             caps = admin rw
 *
 * A section names an entity ([daemon] is the cluster's daemon secret);
 * `key` is 32 bytes in base64 (RFC 4648, padded); `caps` is informative
 * (the MDS holds the authoritative caps).  `#` and `;` start comments.
 *
 * A keyring file must not be readable or writable by group or others:
 * keyring_load() refuses one that is (-EPERM, with a sentence saying what
 * to chmod), and keyring_write() creates files of mode 0600.
 */
#ifndef STORE_KEYRING_H
#define STORE_KEYRING_H

#include "auth.h"
#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* A keyring file larger than this is not a keyring. */
#define KEYRING_FILE_MAX (1u << 20)
/* Entities in one file: a keyring names one or two; storectl auth get
 * writes one. */
#define KEYRING_ENTRIES_MAX 256
#define KEYRING_DAEMON "daemon"

struct keyring_entry {
	char name[STORE_ENTITY_MAX + 1];
	uint8_t key[AUTH_KEY_LEN];
	char caps[AUTH_CAPS_MAX + 1]; /* "" if none */
	uint8_t has_key; /* parsing: the section gave its key */
};

struct keyring {
	unsigned n, cap;
	struct keyring_entry *e;
};

/* Is name a valid entity name ([A-Za-z0-9._-], 1..63 bytes)?  1 or 0. */
int keyring_name_ok(const char *name);

/* Parse keyring text.  Returns 0 and *kr (keyring_free it), or -EINVAL /
 * -ENOMEM with a sentence naming the line. */
int keyring_parse(const char *text, size_t len, const char *what,
		  struct keyring *kr, char *err, size_t errlen);

/* Read a keyring file (checking its mode first).  Returns 0 and *kr, or
 * -errno with a sentence: -EPERM (readable by group or others), -ENOENT,
 * -EINVAL (syntax). */
int keyring_load(const char *path, struct keyring *kr, char *err,
		 size_t errlen);

/* The entry for name, or NULL. */
const struct keyring_entry *keyring_find(const struct keyring *kr,
					 const char *name);

void keyring_free(struct keyring *kr);

/* Append the text of entries to w. */
void keyring_format(struct wbuf *w, const struct keyring_entry *e, size_t n);

/* Write entries to path as a new file of mode 0600 (replacing one that
 * exists), fsync'ed.  Returns 0 or -errno with a sentence. */
int keyring_write(const char *path, const struct keyring_entry *e, size_t n,
		  char *err, size_t errlen);

#endif
