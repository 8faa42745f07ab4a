/*
 * fuzz_keyring.c -- keyring files as an attacker or a careless operator
 * might write them: the parser must refuse or accept without reading out
 * of bounds, and what it accepts must survive formatting and parsing
 * again unchanged (names, keys, caps).
 */
#include "keyring.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyring kr, back;
	char err[512];
	struct wbuf w;

	if (auth_init())
		abort();
	if (keyring_parse((const char *)data, size, "fuzz", &kr, err,
			  sizeof(err)))
		return 0;
	wbuf_init(&w);
	keyring_format(&w, kr.e, kr.n);
	if (w.err)
		abort();
	if (keyring_parse((const char *)w.p, w.len, "again", &back, err,
			  sizeof(err)) ||
	    back.n != kr.n)
		abort();
	for (unsigned i = 0; i < kr.n; i++) {
		if (strcmp(kr.e[i].name, back.e[i].name) ||
		    memcmp(kr.e[i].key, back.e[i].key, AUTH_KEY_LEN) ||
		    strcmp(kr.e[i].caps, back.e[i].caps))
			abort();
		if (keyring_find(&kr, kr.e[i].name) != &kr.e[i])
			abort();
	}
	keyring_free(&back);
	keyring_free(&kr);
	wbuf_free(&w);
	return 0;
}
