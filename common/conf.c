/*
 * conf.c -- see conf.h.  A small array of key/value pairs: configurations
 * have tens of keys, so a linear search is the simplest right choice.
 */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A configuration file is a few hundred bytes; refuse anything absurd
 * rather than read a wrong path's gigabytes into memory. */
#define CONF_FILE_MAX (1 << 20)

struct conf_item {
	char *key;
	char *value;
};

struct conf {
	struct conf_item *items;
	size_t n, cap;
};

struct conf *conf_new(void)
{
	return calloc(1, sizeof(struct conf));
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].key);
		free(c->items[i].value);
	}
	free(c->items);
	free(c);
}

static int key_ok(const char *k, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)k[i];

		if (!(islower(ch) || isdigit(ch) || ch == '_' || ch == '.' ||
		      ch == '-'))
			return 0;
	}
	return 1;
}

static int conf_setn(struct conf *c, const char *key, size_t klen,
		     const char *value, size_t vlen)
{
	char *k, *v;

	if (!key_ok(key, klen))
		return -EINVAL;
	v = strndup(value, vlen);
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++) {
		if (strlen(c->items[i].key) == klen &&
		    !memcmp(c->items[i].key, key, klen)) {
			free(c->items[i].value);
			c->items[i].value = v;
			return 0;
		}
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		struct conf_item *ni = realloc(c->items, ncap * sizeof(*ni));

		if (!ni) {
			free(v);
			return -ENOMEM;
		}
		c->items = ni;
		c->cap = ncap;
	}
	k = strndup(key, klen);
	if (!k) {
		free(v);
		return -ENOMEM;
	}
	c->items[c->n].key = k;
	c->items[c->n].value = v;
	c->n++;
	return 0;
}

int conf_set(struct conf *c, const char *key, const char *value)
{
	return conf_setn(c, key, strlen(key), value, strlen(value));
}

int conf_parse(struct conf *c, const char *text, const char *what, char *err,
	       size_t errlen)
{
	const char *line = text;
	int lineno = 0;

	while (*line) {
		const char *end = strchr(line, '\n');
		const char *hash, *eq, *ks, *ke, *vs, *ve;
		int rc;

		if (!end)
			end = line + strlen(line);
		lineno++;
		hash = memchr(line, '#', (size_t)(end - line));
		ve = hash ? hash : end;
		ks = line;
		while (ks < ve && isspace((unsigned char)*ks))
			ks++;
		if (ks == ve)
			goto next;
		eq = memchr(ks, '=', (size_t)(ve - ks));
		if (!eq) {
			snprintf(err, errlen,
				 "%s, line %d: expected 'key = value'", what,
				 lineno);
			return -EINVAL;
		}
		ke = eq;
		while (ke > ks && isspace((unsigned char)ke[-1]))
			ke--;
		vs = eq + 1;
		while (vs < ve && isspace((unsigned char)*vs))
			vs++;
		while (ve > vs && isspace((unsigned char)ve[-1]))
			ve--;
		rc = conf_setn(c, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs));
		if (rc == -EINVAL) {
			snprintf(err, errlen,
				 "%s, line %d: bad key '%.*s' (use "
				 "lower-case letters, digits, '_', '.', '-')",
				 what, lineno, (int)((ke - ks) < 64 ? (ke - ks) : 64), ks);
			return rc;
		}
		if (rc)
			return rc;
next:
		line = *end ? end + 1 : end;
	}
	return 0;
}

int conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	struct conf *c = NULL;
	char *text = NULL;
	size_t n = 0;
	FILE *f;
	int rc;

	*out = NULL;
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot read configuration %s: %s", path,
			 strerror(errno));
		return rc;
	}
	text = malloc(CONF_FILE_MAX + 1);
	if (!text) {
		rc = -ENOMEM;
		goto out;
	}
	n = fread(text, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f) || n > CONF_FILE_MAX) {
		rc = ferror(f) ? -EIO : -EFBIG;
		snprintf(err, errlen, "cannot read configuration %s: %s", path,
			 rc == -EIO ? "read error" : "file too large");
		goto out;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n)) {
		rc = -EINVAL;
		snprintf(err, errlen,
			 "configuration %s is not a text file", path);
		goto out;
	}
	c = conf_new();
	if (!c) {
		rc = -ENOMEM;
		goto out;
	}
	rc = conf_parse(c, text, path, err, errlen);
	if (rc == 0) {
		*out = c;
		c = NULL;
	}
out:
	conf_free(c);
	free(text);
	fclose(f);
	return rc;
}

const char *conf_get(const struct conf *c, const char *key)
{
	if (!c)
		return NULL;
	for (size_t i = c->n; i-- > 0;)
		if (!strcmp(c->items[i].key, key))
			return c->items[i].value;
	return NULL;
}

const char *conf_get_str(const struct conf *c, const char *key,
			 const char *def)
{
	const char *v = conf_get(c, key);

	return v ? v : def;
}

int conf_get_u64(const struct conf *c, const char *key, uint64_t def,
		 uint64_t *out)
{
	const char *v = conf_get(c, key);
	unsigned long long x;
	char *end;

	*out = def;
	if (!v)
		return 0;
	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end)
		return -EINVAL;
	*out = x;
	return 0;
}

int conf_parse_size(const char *s, uint64_t *out)
{
	unsigned long long x;
	unsigned shift = 0;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || (shift && x > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)x << shift;
	return 0;
}

int conf_parse_ms(const char *s, uint64_t *out)
{
	double x;
	char *end;

	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s || !isfinite(x) || x < 0)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		;
	else if (!strcmp(end, "s") || !*end)
		x *= 1000;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		x *= 60000;
	else if (!strcmp(end, "h"))
		x *= 3600000;
	else
		return -EINVAL;
	if (x > 1e15)
		return -EINVAL;
	*out = (uint64_t)(x + 0.5);
	return 0;
}

int conf_get_size(const struct conf *c, const char *key, uint64_t def,
		  uint64_t *out)
{
	const char *v = conf_get(c, key);

	*out = def;
	if (!v)
		return 0;
	if (conf_parse_size(v, out)) {
		*out = def;
		return -EINVAL;
	}
	return 0;
}

int conf_get_ms(const struct conf *c, const char *key, uint64_t def,
		uint64_t *out)
{
	const char *v = conf_get(c, key);

	*out = def;
	if (!v)
		return 0;
	if (conf_parse_ms(v, out)) {
		*out = def;
		return -EINVAL;
	}
	return 0;
}

int conf_get_bool(const struct conf *c, const char *key, int def, int *out)
{
	const char *v = conf_get(c, key);

	*out = def;
	if (!v)
		return 0;
	if (!strcmp(v, "1") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "true") || !strcasecmp(v, "on"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcasecmp(v, "no") ||
		 !strcasecmp(v, "false") || !strcasecmp(v, "off"))
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

int conf_get_double(const struct conf *c, const char *key, double def,
		    double *out)
{
	const char *v = conf_get(c, key);
	char *end;
	double x;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(x))
		return -EINVAL;
	*out = x;
	return 0;
}
