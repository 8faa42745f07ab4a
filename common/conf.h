/*
 * conf.h -- the configuration file every program reads the same way.
 *
 * Format: one `key = value` per line; `#` starts a comment (to the end of
 * the line); blank lines are ignored; whitespace around keys and values is
 * dropped.  Keys are [a-z0-9_.-]+.  A key given twice keeps the last value,
 * so a later line (or a command-line override via conf_set) wins.
 *
 * Example (what vcluster writes):
 *     mds = tcp://127.0.0.1:7100
 *     name = client.admin
 *     keyring = /path/to/keyring
 */
#ifndef STORE_CONF_H
#define STORE_CONF_H

#include <stddef.h>
#include <stdint.h>

struct conf;

/* An empty configuration.  Returns NULL on ENOMEM. */
struct conf *conf_new(void);

/* Read a file.  Returns 0 and *out, or -errno (-ENOENT, -EACCES, ... for the
 * file; -EINVAL for a syntax error) with a sentence in err naming the file
 * and line. */
int conf_load(const char *path, struct conf **out, char *err, size_t errlen);

/* Parse text (as conf_load does with a file's contents). */
int conf_parse(struct conf *c, const char *text, const char *what, char *err,
	       size_t errlen);

void conf_free(struct conf *c);

/* Set or replace a key.  Returns 0, -EINVAL for a bad key, -ENOMEM. */
int conf_set(struct conf *c, const char *key, const char *value);

/* The value of a key, or NULL if unset. */
const char *conf_get(const struct conf *c, const char *key);

/* The value, or def if unset. */
const char *conf_get_str(const struct conf *c, const char *key,
			 const char *def);

/* Typed getters: 0 and *out (def if unset), or -EINVAL if the value does
 * not parse (with *out = def).  Sizes accept K, M, G, T suffixes (powers of
 * 1024); durations accept ms, s, m, h (result in milliseconds); booleans
 * accept 1/0, yes/no, true/false, on/off. */
int conf_get_u64(const struct conf *c, const char *key, uint64_t def,
		 uint64_t *out);
int conf_get_size(const struct conf *c, const char *key, uint64_t def,
		  uint64_t *out);
int conf_get_ms(const struct conf *c, const char *key, uint64_t def,
		uint64_t *out);
int conf_get_bool(const struct conf *c, const char *key, int def, int *out);
int conf_get_double(const struct conf *c, const char *key, double def,
		    double *out);

/* Parse helpers shared with command-line options. */
int conf_parse_size(const char *s, uint64_t *out);
int conf_parse_ms(const char *s, uint64_t *out);

#endif
