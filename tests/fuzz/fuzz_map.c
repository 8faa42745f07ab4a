/*
 * fuzz_map.c -- random bytes into the cluster map decoder.  A map that
 * decodes must satisfy map_check() and survive a round trip: encoding it
 * and decoding again gives the same bytes.
 */
#include "map.h"
#include "wire_mon.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_map m, m2;
	struct wbuf w1, w2;
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	map_init(&m);
	map_init(&m2);
	if (wire_dec_map(copy, size, &m) == 0) {
		if (map_check(&m))
			abort();
		wbuf_init(&w1);
		wbuf_init(&w2);
		wire_enc_map(&w1, &m);
		if (w1.err || wire_dec_map(w1.p, w1.len, &m2))
			abort();
		wire_enc_map(&w2, &m2);
		if (w2.err || w1.len != w2.len || memcmp(w1.p, w2.p, w1.len))
			abort();
		wbuf_free(&w1);
		wbuf_free(&w2);
	}
	map_free(&m);
	map_free(&m2);
	free(copy);
	return 0;
}
