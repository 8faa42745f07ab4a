/*
 * keyring.c -- keyring files: see keyring.h.
 */
#include "keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* base64 of 32 bytes: 44 characters with padding. */
#define KEY_B64_LEN sodium_base64_ENCODED_LEN(AUTH_KEY_LEN, \
				sodium_base64_VARIANT_ORIGINAL)

int keyring_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_ENTITY_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '-'))
			return 0;
	}
	return 1;
}

void keyring_free(struct keyring *kr)
{
	if (kr->e)
		sodium_memzero(kr->e, kr->n * sizeof(*kr->e));
	free(kr->e);
	kr->e = NULL;
	kr->n = kr->cap = 0;
}

const struct keyring_entry *keyring_find(const struct keyring *kr,
					 const char *name)
{
	for (unsigned i = 0; i < kr->n; i++)
		if (!strcmp(kr->e[i].name, name))
			return &kr->e[i];
	return NULL;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Parse one line into the keyring; cur is the section being filled. */
static int parse_line(char *line, struct keyring *kr, struct keyring_entry **cur,
		      const char *what, unsigned lineno, char *err,
		      size_t errlen)
{
	char *s = trim(line), *eq, *key, *val;

	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '[') {
		char *end = strchr(s, ']');
		struct keyring_entry *ne;

		if (!end || trim(end + 1)[0]) {
			snprintf(err, errlen, "%s:%u: a section is [NAME]",
				 what, lineno);
			return -EINVAL;
		}
		*end = '\0';
		if (!keyring_name_ok(s + 1)) {
			snprintf(err, errlen, "%s:%u: '%s' is not an entity "
				 "name (letters, digits, '.', '_', '-')", what,
				 lineno, s + 1);
			return -EINVAL;
		}
		if (keyring_find(kr, s + 1)) {
			snprintf(err, errlen, "%s:%u: [%s] appears twice",
				 what, lineno, s + 1);
			return -EINVAL;
		}
		if (kr->n >= KEYRING_ENTRIES_MAX) {
			snprintf(err, errlen, "%s: more than %u entities",
				 what, KEYRING_ENTRIES_MAX);
			return -EINVAL;
		}
		if (kr->n == kr->cap) {
			unsigned nc = kr->cap ? kr->cap * 2 : 4;

			ne = realloc(kr->e, nc * sizeof(*ne));
			if (!ne) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			kr->e = ne;
			kr->cap = nc;
		}
		*cur = &kr->e[kr->n++];
		memset(*cur, 0, sizeof(**cur));
		snprintf((*cur)->name, sizeof((*cur)->name), "%s", s + 1);
		return 0;
	}
	eq = strchr(s, '=');
	if (!eq || !*cur) {
		snprintf(err, errlen, "%s:%u: expected [NAME] or KEY = VALUE "
			 "inside a section", what, lineno);
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!strcmp(key, "key")) {
		size_t bin_len = 0;
		const char *end = NULL;

		if (sodium_base642bin((*cur)->key, AUTH_KEY_LEN, val,
				      strlen(val), NULL, &bin_len, &end,
				      sodium_base64_VARIANT_ORIGINAL) ||
		    bin_len != AUTH_KEY_LEN || *end) {
			snprintf(err, errlen, "%s:%u: the key of [%s] is not "
				 "32 bytes of base64", what, lineno,
				 (*cur)->name);
			return -EINVAL;
		}
		(*cur)->has_key = 1;
		return 0;
	}
	if (!strcmp(key, "caps")) {
		if (strlen(val) > AUTH_CAPS_MAX) {
			snprintf(err, errlen, "%s:%u: caps too long", what,
				 lineno);
			return -EINVAL;
		}
		snprintf((*cur)->caps, sizeof((*cur)->caps), "%s", val);
		return 0;
	}
	snprintf(err, errlen, "%s:%u: unknown key '%s' (expected key or caps)",
		 what, lineno, key);
	return -EINVAL;
}

int keyring_parse(const char *text, size_t len, const char *what,
		  struct keyring *kr, char *err, size_t errlen)
{
	struct keyring_entry *cur = NULL;
	unsigned lineno = 0;
	char *buf, *line, *next;
	int rc = 0;

	kr->n = kr->cap = 0;
	kr->e = NULL;
	if (len > KEYRING_FILE_MAX) {
		snprintf(err, errlen, "%s is too large for a keyring", what);
		return -EINVAL;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errlen, "%s is not a text file", what);
		return -EINVAL;
	}
	buf = malloc(len + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (line = buf; line && rc == 0; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		rc = parse_line(line, kr, &cur, what, lineno, err, errlen);
	}
	for (unsigned i = 0; rc == 0 && i < kr->n; i++) {
		if (!kr->e[i].has_key) {
			snprintf(err, errlen, "%s: [%s] has no key", what,
				 kr->e[i].name);
			rc = -EINVAL;
		}
	}
	sodium_memzero(buf, len + 1);
	free(buf);
	if (rc < 0) {
		keyring_free(kr);
		return rc;
	}
	return 0;
}

int keyring_load(const char *path, struct keyring *kr, char *err,
		 size_t errlen)
{
	struct stat st;
	char *text;
	ssize_t n;
	size_t got = 0;
	int fd, rc;

	kr->n = kr->cap = 0;
	kr->e = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the keyring %s: %s", path,
			 strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot read the keyring %s: %s", path,
			 strerror(errno));
		close(fd);
		return rc;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "refusing the keyring %s: it is "
			 "accessible by group or others (mode %04o); run "
			 "'chmod 600 %s'", path, (unsigned)(st.st_mode & 07777),
			 path);
		close(fd);
		return -EPERM;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KEYRING_FILE_MAX) {
		snprintf(err, errlen, "%s is not a keyring file", path);
		close(fd);
		return -EINVAL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size &&
	       (n = read(fd, text + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)n;
	close(fd);
	rc = keyring_parse(text, got, path, kr, err, errlen);
	sodium_memzero(text, (size_t)st.st_size + 1);
	free(text);
	return rc;
}

void keyring_format(struct wbuf *w, const struct keyring_entry *e, size_t n)
{
	char b64[KEY_B64_LEN], line[AUTH_CAPS_MAX + 128];

	for (size_t i = 0; i < n; i++) {
		sodium_bin2base64(b64, sizeof(b64), e[i].key, AUTH_KEY_LEN,
				  sodium_base64_VARIANT_ORIGINAL);
		snprintf(line, sizeof(line), "[%s]\n\tkey = %s\n", e[i].name,
			 b64);
		wbuf_raw(w, line, strlen(line));
		if (e[i].caps[0]) {
			snprintf(line, sizeof(line), "\tcaps = %s\n",
				 e[i].caps);
			wbuf_raw(w, line, strlen(line));
		}
	}
	sodium_memzero(b64, sizeof(b64));
	sodium_memzero(line, sizeof(line));
}

int keyring_write(const char *path, const struct keyring_entry *e, size_t n,
		  char *err, size_t errlen)
{
	struct wbuf w;
	size_t off = 0;
	int fd, rc = 0;

	wbuf_init(&w);
	keyring_format(&w, e, n);
	if (w.err) {
		wbuf_free(&w);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	/* An existing file keeps its mode through O_CREAT: force 0600. */
	if (fd < 0 || fchmod(fd, 0600) < 0)
		rc = -errno;
	while (rc == 0 && off < w.len) {
		ssize_t k = write(fd, w.p + off, w.len - off);

		if (k < 0)
			rc = -errno;
		else
			off += (size_t)k;
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = -errno;
	if (w.p)
		sodium_memzero(w.p, w.cap);
	wbuf_free(&w);
	if (rc)
		snprintf(err, errlen, "cannot write the keyring %s: %s", path,
			 strerror(-rc));
	return rc;
}
