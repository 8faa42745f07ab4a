/*
 * cmd_auth.c -- storectl auth: manage clients' keys (admin caps needed).
 *
 *   auth add NAME --caps CAPS [-o FILE]   new key; prints its keyring
 *   auth get NAME [-o FILE]               prints NAME's keyring
 *   auth ls                               entities and caps
 *   auth rm NAME
 *   auth caps NAME CAPS
 *
 * A keyring printed or written here is what a configuration's `keyring =`
 * names (with `name = NAME`); -o writes it with mode 0600.
 */
#include "client_auth.h"
#include "keyring.h"
#include "storectl.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	return ctl_error("usage: auth add NAME --caps CAPS [-o FILE] | "
			 "auth get NAME [-o FILE] | auth ls | auth rm NAME | "
			 "auth caps NAME CAPS  (CAPS: r or rw, optionally "
			 "path=/DIR, and/or admin)");
}

/* Print or write one entity's keyring. */
static int emit(const char *name, const uint8_t key[AUTH_KEY_LEN],
		const char *caps, const char *out)
{
	struct keyring_entry *e = calloc(1, sizeof(*e));
	char err[512];
	struct wbuf w;
	int rc = 0;

	if (!e)
		return ctl_error("out of memory");
	snprintf(e->name, sizeof(e->name), "%s", name);
	memcpy(e->key, key, AUTH_KEY_LEN);
	snprintf(e->caps, sizeof(e->caps), "%s", caps);
	if (out) {
		if (keyring_write(out, e, 1, err, sizeof(err)))
			rc = ctl_error("%s", err);
	} else {
		wbuf_init(&w);
		keyring_format(&w, e, 1);
		if (!w.err)
			fwrite(w.p, 1, w.len, stdout);
		if (w.p)
			sodium_memzero(w.p, w.cap);
		wbuf_free(&w);
	}
	sodium_memzero(e, sizeof(*e));
	free(e);
	return rc;
}

/* NAME, then --caps CAPS and/or -o FILE. */
static int parse(int argc, char **argv, const char **caps, const char **out)
{
	static const struct option opts[] = {
		{ "caps", required_argument, NULL, 'C' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			*caps = optarg;
			break;
		case 'o':
			*out = optarg;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static int print_entry(void *arg, const char *name, const char *caps)
{
	(void)arg;
	printf("%-32s %s\n", name, caps);
	return 0;
}

int cmd_auth(int argc, char **argv)
{
	uint8_t key[AUTH_KEY_LEN];
	char *caps_buf = NULL;
	const char *caps = NULL, *out = NULL, *name, *sub;
	struct store_client *c;
	int rc;

	if (argc < 2)
		return usage();
	sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "ls")) {
		if (argc != 1)
			return usage();
		rc = store_auth_ls(ctl_client(), print_entry, NULL);
		return rc ? ctl_lib_error(rc, "auth ls") : 0;
	}
	if (!strcmp(sub, "caps")) {
		size_t n = 0;

		if (argc < 3)
			return usage();
		name = argv[1];
		for (int i = 2; i < argc; i++)
			n += strlen(argv[i]) + 1;
		caps_buf = calloc(1, n + 1);
		if (!caps_buf)
			return ctl_error("out of memory");
		for (int i = 2; i < argc; i++) {
			if (i > 2)
				strcat(caps_buf, " ");
			strcat(caps_buf, argv[i]);
		}
		rc = store_auth_caps(ctl_client(), name, caps_buf);
		free(caps_buf);
		if (rc)
			return ctl_lib_error(rc, "auth caps");
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-')
		return usage();
	name = argv[1];
	argc--;
	argv++;
	optind = 1;
	if (parse(argc, argv, &caps, &out) || optind != argc)
		return usage();
	c = ctl_client();
	if (!strcmp(sub, "add")) {
		if (!caps)
			return ctl_error("auth add %s: --caps is required (e.g. "
					 "--caps rw, --caps 'r path=/data')",
					 name);
		rc = store_auth_add(c, name, caps, key);
		if (rc)
			return ctl_lib_error(rc, "auth add");
		rc = emit(name, key, caps, out);
	} else if (!strcmp(sub, "get")) {
		char *got = malloc(AUTH_CAPS_MAX + 1);

		if (!got)
			return ctl_error("out of memory");
		rc = caps ? usage() : store_auth_get(c, name, key, got);
		if (rc == 0)
			rc = emit(name, key, got, out);
		else if (!caps)
			rc = ctl_lib_error(rc, "auth get");
		free(got);
	} else if (!strcmp(sub, "rm")) {
		if (caps || out)
			return usage();
		rc = store_auth_rm(c, name);
		if (rc)
			return ctl_lib_error(rc, "auth rm");
	} else {
		return usage();
	}
	sodium_memzero(key, sizeof(key));
	return rc;
}
