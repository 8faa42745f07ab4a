/*
 * test_wire.c -- every message round-trips through its encoder and decoder,
 * and malformed input is refused: truncations, trailing bytes, bad names,
 * counts past their limits, a broken header.
 *
 * With $WIRE_CORPUS_DIR set, every frame built here is also written there
 * as a seed for the fuzz_wire target (tests/fuzz/corpus/fuzz_wire/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crc.h"
#include "map.h"
#include "wire.h"
#include "wire_mon.h"
#include "wire_ns.h"
#include "wire_osd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int corpus_seq;

/* Wrap a payload in a frame, check the frame decodes to what went in, and
 * save it to the seed corpus if asked. */
static void frame_check(unsigned type, unsigned flags, int32_t status,
			const struct wbuf *payload)
{
	const char *dir = getenv("WIRE_CORPUS_DIR");
	struct wire_hdr h;
	struct wbuf w;

	wbuf_init(&w);
	wire_msg_begin(&w, type, flags, 0x1122334455667788ull, 42, status);
	wbuf_raw(&w, payload->p, payload->len);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	assert_int_equal(wire_hdr_decode(w.p, w.len, &h), 0);
	assert_int_equal(h.type, type);
	assert_int_equal(h.flags, flags);
	assert_int_equal(h.status, status);
	assert_true(h.req_id == 0x1122334455667788ull);
	assert_int_equal(h.epoch, 42);
	assert_int_equal(h.payload_len, payload->len);
	assert_memory_equal(wire_payload(w.p), payload->p, payload->len);
	if (dir) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-%03d-%s%s", dir,
			 corpus_seq++, wire_type_name(type),
			 flags & WIRE_F_REPLY ? "-reply" : "");
		f = fopen(path, "wb");
		if (f) {
			fwrite(w.p, 1, w.len, f);
			fclose(f);
		}
	}
	wbuf_free(&w);
}

/* Every strict prefix of a valid payload must be refused, and so must the
 * payload with one byte appended. */
typedef int (*dec_fn)(const uint8_t *, size_t, void *);

static void check_truncations(const struct wbuf *w, dec_fn dec, void *out)
{
	uint8_t *longer = malloc(w->len + 1);

	assert_non_null(longer);
	for (size_t n = 0; n < w->len; n++)
		assert_int_not_equal(dec(w->p, n, out), 0);
	memcpy(longer, w->p, w->len);
	longer[w->len] = 0;
	assert_int_not_equal(dec(longer, w->len + 1, out), 0);
	free(longer);
}

static void test_header(void **state)
{
	struct wire_hdr h;
	struct wbuf w;
	uint8_t *p;

	(void)state;
	wbuf_init(&w);
	wire_msg_begin(&w, WIRE_PING, 0, 7, 9, 0);
	wbuf_u32(&w, 0xdeadbeef);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	assert_int_equal(w.len, WIRE_HDR_LEN + 4);
	p = w.p;
	assert_int_equal(wire_hdr_decode(p, w.len, &h), 0);
	/* Lengths must match exactly. */
	assert_int_equal(wire_hdr_decode(p, w.len - 1, &h), -EBADMSG);
	assert_int_equal(wire_hdr_decode(p, 10, &h), -EBADMSG);
	/* Any flipped bit in the header is caught by its crc or checks. */
	for (int i = 0; i < WIRE_HDR_LEN * 8; i++) {
		p[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_not_equal(wire_hdr_decode(p, w.len, &h), 0);
		p[i / 8] ^= (uint8_t)(1 << (i % 8));
	}
	/* Another version with a valid crc: refused as such. */
	p[4] = WIRE_VERSION + 1;
	put_le32(p + 36, store_crc32c(0, p, 36));
	assert_int_equal(wire_hdr_decode(p, w.len, &h), -EPROTONOSUPPORT);
	p[4] = WIRE_VERSION;
	/* A request may not carry a status; unknown flags are refused. */
	put_le32(p + 24, (uint32_t)-5);
	put_le32(p + 36, store_crc32c(0, p, 36));
	assert_int_equal(wire_hdr_decode(p, w.len, &h), -EBADMSG);
	put_le32(p + 24, 0);
	put_le16(p + 6, 0x100);
	put_le32(p + 36, store_crc32c(0, p, 36));
	assert_int_equal(wire_hdr_decode(p, w.len, &h), -EBADMSG);
	wbuf_free(&w);
	assert_string_equal(wire_type_name(WIRE_SHARD_PUT), "SHARD_PUT");
	assert_string_equal(wire_type_name(200), "UNKNOWN");
}

static void test_error(void **state)
{
	char text[STORE_ERRMSG_MAX + 1];
	char big[3000];
	struct wire_hdr req = { .type = WIRE_LOOKUP, .req_id = 5 };
	struct wire_hdr h;
	struct wbuf w;

	(void)state;
	wbuf_init(&w);
	assert_int_equal(wire_build_error(&w, &req, 3, -ENOENT,
					  "no such file: /a/b"), 0);
	assert_int_equal(wire_hdr_decode(w.p, w.len, &h), 0);
	assert_int_equal(h.status, -ENOENT);
	assert_true(h.flags & WIRE_F_REPLY);
	assert_int_equal(h.req_id, 5);
	assert_int_equal(wire_dec_error(wire_payload(w.p), h.payload_len, text,
					sizeof(text)), 0);
	assert_string_equal(text, "no such file: /a/b");
	wbuf_free(&w);
	/* Too long a text is truncated, never refused. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	wbuf_init(&w);
	wire_enc_error(&w, big);
	assert_int_equal(w.err, 0);
	assert_int_equal(wire_dec_error(w.p, w.len, text, sizeof(text)), 0);
	assert_int_equal(strlen(text), STORE_ERRMSG_MAX);
	wbuf_free(&w);
}

static int dec_put(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_shard_put(p, n, o);
}

static void test_shard_put(void **state)
{
	uint8_t data[5000], csums[8];
	struct wire_shard_put m = {
		.id = { 3, 0x1000000001ull, 7, 0x500000002ull, 5 },
		.k = 4, .m = 2, .obj_len = 20000, .flags = WIRE_PUT_RECOVERY,
		.data_len = sizeof(data), .csums = csums, .data = data,
	}, back;
	uint8_t *d, *c;
	struct wbuf w, w2;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	put_le32(csums, store_crc32c(0, data, 4096));
	put_le32(csums + 4, store_crc32c(0, data + 4096, sizeof(data) - 4096));
	wbuf_init(&w);
	wire_enc_shard_put(&w, &m);
	assert_int_equal(w.err, 0);
	assert_int_equal(wire_dec_shard_put(w.p, w.len, &back), 0);
	assert_int_equal(wire_shard_id_cmp(&m.id, &back.id), 0);
	assert_int_equal(back.k, 4);
	assert_int_equal(back.m, 2);
	assert_int_equal(back.obj_len, 20000);
	assert_int_equal(back.flags, WIRE_PUT_RECOVERY);
	assert_int_equal(back.data_len, sizeof(data));
	assert_memory_equal(back.data, data, sizeof(data));
	assert_memory_equal(back.csums, csums, sizeof(csums));
	frame_check(WIRE_SHARD_PUT, 0, 0, &w);
	check_truncations(&w, dec_put, &back);

	/* The in-place encoder produces the same bytes. */
	wbuf_init(&w2);
	d = wire_enc_shard_put_inplace(&w2, &m, &c);
	assert_non_null(d);
	memcpy(d, data, sizeof(data));
	memcpy(c, csums, sizeof(csums));
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	wbuf_free(&w2);

	/* A shard index past the limit, or a bad profile, is refused. */
	w.p[4 + 8 + 8 + 8] = STORE_EC_MAX_SHARDS;
	assert_int_equal(wire_dec_shard_put(w.p, w.len, &back), -EBADMSG);
	w.p[4 + 8 + 8 + 8] = 5;
	w.p[4 + 8 + 8 + 8 + 1 + 1] = 9; /* m = 9 */
	assert_int_equal(wire_dec_shard_put(w.p, w.len, &back), -EBADMSG);
	wbuf_free(&w);

	/* A fixed buffer too small latches -EMSGSIZE. */
	{
		uint8_t small[64];

		wbuf_init_fixed(&w, small, sizeof(small));
		wire_enc_shard_put(&w, &m);
		assert_int_equal(w.err, -EMSGSIZE);
	}
}

static int dec_get(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_shard_get(p, n, o);
}

static int dec_get_reply(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_shard_get_reply(p, n, o);
}

static void test_shard_get(void **state)
{
	struct wire_shard_get m = { { 1, 2, 3, 4, 5 }, 8192, 4096, 0 }, back;
	uint8_t data[4096] = { 1, 2, 3 }, csums[4] = { 9, 9, 9, 9 };
	struct wire_shard_get_reply r = {
		.version = 4, .k = 8, .m = 3, .obj_len = 1 << 20,
		.shard_len = 131072, .offset = 8192, .data_len = 4096,
		.csums = csums, .data = data,
	}, rback;
	struct wbuf w;

	(void)state;
	wbuf_init(&w);
	wire_enc_shard_get(&w, &m);
	assert_int_equal(wire_dec_shard_get(w.p, w.len, &back), 0);
	assert_int_equal(wire_shard_id_cmp(&m.id, &back.id), 0);
	assert_int_equal(back.offset, 8192);
	assert_int_equal(back.len, 4096);
	frame_check(WIRE_SHARD_GET, 0, 0, &w);
	check_truncations(&w, dec_get, &back);
	wbuf_free(&w);

	wbuf_init(&w);
	wire_enc_shard_get_reply(&w, &r);
	assert_int_equal(wire_dec_shard_get_reply(w.p, w.len, &rback), 0);
	assert_int_equal(rback.version, 4);
	assert_int_equal(rback.shard_len, 131072);
	assert_int_equal(rback.offset, 8192);
	assert_memory_equal(rback.data, data, sizeof(data));
	assert_memory_equal(rback.csums, csums, sizeof(csums));
	frame_check(WIRE_SHARD_GET, WIRE_F_REPLY, 0, &w);
	check_truncations(&w, dec_get_reply, &rback);
	wbuf_free(&w);

	/* A range outside the shard, or not on a block, is refused. */
	r.offset = 131072 - 4096 + 512;
	wbuf_init(&w);
	wire_enc_shard_get_reply(&w, &r);
	assert_int_equal(wire_dec_shard_get_reply(w.p, w.len, &rback),
			 -EBADMSG);
	wbuf_free(&w);
	r.offset = 131072;
	wbuf_init(&w);
	wire_enc_shard_get_reply(&w, &r);
	assert_int_equal(wire_dec_shard_get_reply(w.p, w.len, &rback),
			 -EBADMSG);
	wbuf_free(&w);
}

static int dec_list_reply(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_shard_list_reply(p, n, o);
}

static void test_shard_list(void **state)
{
	struct wire_shard_list m = { 2, 17, 100, 1, { 2, 9, 8, 7, 1 } }, back;
	struct wire_shard_list_reply r;
	struct wire_shard_entry e;
	struct wbuf w;
	size_t at;

	(void)state;
	wbuf_init(&w);
	wire_enc_shard_list(&w, &m);
	assert_int_equal(wire_dec_shard_list(w.p, w.len, &back), 0);
	assert_int_equal(back.pg, 17);
	assert_int_equal(back.has_after, 1);
	assert_int_equal(wire_shard_id_cmp(&back.after, &m.after), 0);
	frame_check(WIRE_SHARD_LIST, 0, 0, &w);
	wbuf_free(&w);

	wbuf_init(&w);
	at = wire_enc_shard_list_begin(&w);
	for (uint32_t i = 0; i < 10; i++) {
		struct wire_shard_entry x = {
			{ 1, 100 + i, i, 1000 + i, (uint8_t)(i % 6) },
			4, 2, 4096 * i, 1024 * i, 77 + i,
		};
		wire_enc_shard_entry(&w, &x);
	}
	wire_enc_shard_list_end(&w, at, 10, 1);
	assert_int_equal(wire_dec_shard_list_reply(w.p, w.len, &r), 0);
	assert_int_equal(r.count, 10);
	assert_int_equal(r.more, 1);
	for (uint32_t i = 0; i < 10; i++) {
		assert_int_equal(wire_shard_list_next(&r, &e), 1);
		assert_int_equal(e.id.ino, 100 + i);
		assert_int_equal(e.shard_len, 1024 * i);
		assert_int_equal(e.mtime_ns, 77 + i);
	}
	assert_int_equal(wire_shard_list_next(&r, &e), 0);
	frame_check(WIRE_SHARD_LIST, WIRE_F_REPLY, 0, &w);
	check_truncations(&w, dec_list_reply, &r);
	/* A count that does not match the entries is refused. */
	put_le32(w.p, 11);
	assert_int_equal(wire_dec_shard_list_reply(w.p, w.len, &r), -EBADMSG);
	put_le32(w.p, STORE_LIST_MAX + 1);
	assert_int_equal(wire_dec_shard_list_reply(w.p, w.len, &r), -EBADMSG);
	wbuf_free(&w);
}

static void test_shard_delete(void **state)
{
	struct wire_shard_delete m = { { 1, 2, 3, 4, 0 }, WIRE_DEL_OLDER };
	struct wire_shard_delete back;
	struct wbuf w;

	(void)state;
	wbuf_init(&w);
	wire_enc_shard_delete(&w, &m);
	assert_int_equal(wire_dec_shard_delete(w.p, w.len, &back), 0);
	assert_int_equal(back.flags, WIRE_DEL_OLDER);
	assert_int_equal(back.id.version, 4);
	frame_check(WIRE_SHARD_DELETE, 0, 0, &w);
	wbuf_free(&w);
	m.flags = 0x80;
	wbuf_init(&w);
	wire_enc_shard_delete(&w, &m);
	assert_int_equal(wire_dec_shard_delete(w.p, w.len, &back), -EBADMSG);
	wbuf_free(&w);
}

static void test_shard_id_order(void **state)
{
	struct wire_shard_id a = { 1, 5, 2, 9, 0 }, b = a;

	(void)state;
	assert_int_equal(wire_shard_id_cmp(&a, &b), 0);
	b.version = 10;
	assert_true(wire_shard_id_cmp(&a, &b) < 0);
	b.index = 1;
	b.version = 1;
	assert_true(wire_shard_id_cmp(&a, &b) < 0);
	b.ino = 4;
	assert_true(wire_shard_id_cmp(&a, &b) > 0);
}

static int dec_boot(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_osd_boot(p, n, o);
}

static void test_boot_heartbeat(void **state)
{
	struct wire_osd_boot b = { .osd_id = WIRE_OSD_NEW, .weight = 0.25,
				   .capacity = 1ull << 40, .used = 12345 },
			     bb;
	struct wire_osd_boot_reply br = { .osd_id = 12 }, brb;
	struct wire_heartbeat hb = { .osd_id = 3, .capacity = 100,
				     .used = 50, .shards = 7,
				     .recovery_bytes = 1,
				     .recovery_queued = 2, .fs_used = 8,
				     .avail = 9,
				     .flags = WIRE_HB_FULL,
				     .disk_id = 0x8877665544332211ull },
			     hbb;
	struct wbuf w;

	(void)state;
	memset(b.cluster_id, 0xab, 16);
	memset(b.uuid, 0xcd, 16);
	strcpy(b.host, "host-3");
	strcpy(b.addr, "tcp://127.0.0.1:40001");
	wbuf_init(&w);
	wire_enc_osd_boot(&w, &b);
	assert_int_equal(wire_dec_osd_boot(w.p, w.len, &bb), 0);
	assert_memory_equal(bb.cluster_id, b.cluster_id, 16);
	assert_memory_equal(bb.uuid, b.uuid, 16);
	assert_int_equal(bb.osd_id, WIRE_OSD_NEW);
	assert_true(bb.weight == 0.25);
	assert_string_equal(bb.host, "host-3");
	assert_string_equal(bb.addr, "tcp://127.0.0.1:40001");
	frame_check(WIRE_OSD_BOOT, 0, 0, &w);
	check_truncations(&w, dec_boot, &bb);
	wbuf_free(&w);

	/* NaN and negative weights are refused. */
	b.weight = -1;
	wbuf_init(&w);
	wire_enc_osd_boot(&w, &b);
	assert_int_equal(wire_dec_osd_boot(w.p, w.len, &bb), -EBADMSG);
	wbuf_free(&w);
	b.weight = __builtin_nan("");
	wbuf_init(&w);
	wire_enc_osd_boot(&w, &b);
	assert_int_equal(wire_dec_osd_boot(w.p, w.len, &bb), -EBADMSG);
	wbuf_free(&w);
	/* A host name past its limit is refused by the encoder. */
	b.weight = 1;
	memset(b.host, 'h', sizeof(b.host) - 1);
	b.host[sizeof(b.host) - 1] = 0;
	wbuf_init(&w);
	wire_enc_osd_boot(&w, &b);
	assert_int_equal(w.err, 0); /* 63 bytes: exactly the limit */
	wbuf_free(&w);

	memset(br.cluster_id, 0x11, 16);
	wbuf_init(&w);
	wire_enc_osd_boot_reply(&w, &br);
	assert_int_equal(wire_dec_osd_boot_reply(w.p, w.len, &brb), 0);
	assert_int_equal(brb.osd_id, 12);
	frame_check(WIRE_OSD_BOOT, WIRE_F_REPLY, 0, &w);
	wbuf_free(&w);

	wbuf_init(&w);
	wire_enc_heartbeat(&w, &hb);
	assert_int_equal(wire_dec_heartbeat(w.p, w.len, &hbb), 0);
	assert_int_equal(hbb.osd_id, 3);
	assert_int_equal(hbb.capacity, 100);
	assert_int_equal(hbb.used, 50);
	assert_int_equal(hbb.shards, 7);
	assert_int_equal(hbb.recovery_bytes, 1);
	assert_int_equal(hbb.recovery_queued, 2);
	assert_int_equal(hbb.fs_used, 8);
	assert_int_equal(hbb.avail, 9);
	assert_int_equal(hbb.flags, WIRE_HB_FULL);
	assert_true(hbb.disk_id == 0x8877665544332211ull);
	frame_check(WIRE_HEARTBEAT, 0, 0, &w);
	wbuf_free(&w);

	/* A flag this build does not know is refused, not ignored. */
	hb.flags = 2;
	wbuf_init(&w);
	wire_enc_heartbeat(&w, &hb);
	assert_int_equal(wire_dec_heartbeat(w.p, w.len, &hbb), -EBADMSG);
	wbuf_free(&w);
}

static void make_map(struct store_map *m)
{
	struct map_pool p = { .id = 1, .k = 4, .m = 2, .min_size = 5,
			      .domain = MAP_DOMAIN_HOST, .pg_num = 256,
			      .object_size = 4 << 20 };

	map_init(m);
	m->epoch = 77;
	memset(m->cluster_id, 0x5a, 16);
	for (uint32_t id = 0; id < 8; id++) {
		struct map_osd *o;

		if (id == 3)
			continue; /* a hole in the ids */
		o = map_add_osd(m, id);
		assert_non_null(o);
		o->up = id % 2;
		o->in = id != 5;
		o->weight = 1.5 * id;
		o->capacity = 1000 * id;
		o->used = 10 * id;
		memset(o->uuid, (int)id, 16);
		snprintf(o->host, sizeof(o->host), "h%u", id / 2);
		snprintf(o->addr, sizeof(o->addr), "tcp://127.0.0.1:%u",
			 7000 + id);
	}
	strcpy(p.name, "data");
	assert_non_null(map_add_pool(m, &p));
	assert_int_equal(map_check(m), 0);
}

static void test_map(void **state)
{
	struct store_map m, back;
	struct wbuf w, w2;

	(void)state;
	make_map(&m);
	map_init(&back);
	wbuf_init(&w);
	wire_enc_map(&w, &m);
	assert_int_equal(w.err, 0);
	assert_int_equal(wire_dec_map(w.p, w.len, &back), 0);
	assert_int_equal(back.epoch, 77);
	assert_int_equal(back.n_osds, 8);
	assert_null(map_osd(&back, 3));
	assert_non_null(map_osd(&back, 7));
	assert_true(map_osd(&back, 7)->weight == 10.5);
	assert_string_equal(map_osd(&back, 6)->host, "h3");
	assert_int_equal(map_osd(&back, 5)->in, 0);
	assert_int_equal(map_osd(&back, 5)->up, 1);
	assert_int_equal(back.n_pools, 1);
	assert_int_equal(map_pool(&back, 1)->pg_num, 256);
	assert_string_equal(map_pool(&back, 1)->name, "data");
	/* Up: odd ids except the hole at 3, so 1, 5 and 7. */
	assert_int_equal(map_count_osds(&back, 1, -1), 3);
	assert_int_equal(map_count_osds(&back, -1, 0), 1);
	/* Re-encoding gives the same bytes. */
	wbuf_init(&w2);
	wire_enc_map(&w2, &back);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	wbuf_free(&w2);
	frame_check(WIRE_MAP_PUSH, 0, 0, &w);
	/* Every truncation is refused and leaves the output map alone. */
	for (size_t n = 0; n < w.len; n++) {
		assert_int_not_equal(wire_dec_map(w.p, n, &back), 0);
		assert_int_equal(back.epoch, 77);
	}
	/* A count of OSDs larger than the bytes allow is refused before any
	 * allocation. */
	put_le32(w.p + 8 + 16, STORE_MAX_OSDS);
	assert_int_equal(wire_dec_map(w.p, w.len, &back), -EBADMSG);
	wbuf_free(&w);
	/* Pools that break the invariants are refused. */
	m.pools[0].m = 0;
	wbuf_init(&w);
	wire_enc_map(&w, &m);
	assert_int_equal(wire_dec_map(w.p, w.len, &back), -EBADMSG);
	wbuf_free(&w);
	map_free(&m);
	map_free(&back);
}

/* Decode must refuse the map in w after one little-endian u32 at off is
 * set to v (the bytes are restored afterwards). */
static void refuse_u32(struct wbuf *w, size_t off, uint32_t v)
{
	struct store_map back;
	uint8_t save[4];

	map_init(&back);
	memcpy(save, w->p + off, 4);
	put_le32(w->p + off, v);
	assert_int_equal(wire_dec_map(w->p, w->len, &back), -EBADMSG);
	memcpy(w->p + off, save, 4);
}

/* Overrides: round trip, format 1 (stored before overrides existed) still
 * readable with wire_dec_map_v1 and only with it, and every malformed
 * entry refused. */
static void test_map_upmaps(void **state)
{
	const struct map_upmap u[2] = {
		{ .pool = 1, .pg = 5, .osds = { 0, 1, 2, 4, 6, 7 } },
		{ .pool = 1, .pg = 200, .osds = { 7, 6, 5, 4, 2, 1 } },
	};
	/* Trailer: format byte, count, then 33 bytes per entry (pool, pg,
	 * n, 6 OSD ids). */
	enum { ENTRY = 4 + 4 + 1 + 6 * 4 };
	struct store_map m, back;
	struct wbuf w, w2;
	size_t v1, e1;

	(void)state;
	make_map(&m);
	m.upmaps = malloc(sizeof(u));
	assert_non_null(m.upmaps);
	memcpy(m.upmaps, u, sizeof(u));
	m.n_upmaps = 2;
	assert_int_equal(map_check(&m), 0);
	map_init(&back);
	wbuf_init(&w);
	wire_enc_map(&w, &m);
	assert_int_equal(w.err, 0);
	assert_int_equal(wire_dec_map(w.p, w.len, &back), 0);
	assert_int_equal(back.n_upmaps, 2);
	assert_memory_equal(back.upmaps, u, sizeof(u));
	wbuf_init(&w2);
	wire_enc_map(&w2, &back);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	wbuf_free(&w2);
	frame_check(WIRE_MAP_PUSH, 0, 0, &w);
	for (size_t n = 0; n < w.len; n++) {
		assert_int_not_equal(wire_dec_map(w.p, n, &back), 0);
		assert_int_equal(back.n_upmaps, 2);
	}
	/* Format 1 ends after the pools. */
	v1 = w.len - 1 - 4 - 2 * ENTRY;
	e1 = v1 + 5; /* the first entry */
	assert_int_equal(w.p[v1], 2);
	assert_int_equal(wire_dec_map(w.p, v1, &back), -EBADMSG);
	assert_int_equal(wire_dec_map_v1(w.p, w.len, &back), -EBADMSG);
	assert_int_equal(wire_dec_map_v1(w.p, v1, &back), 0);
	assert_int_equal(back.n_upmaps, 0);
	assert_null(back.upmaps);
	assert_int_equal(back.n_osds, 8);
	/* An unknown format. */
	w.p[v1] = 3;
	assert_int_equal(wire_dec_map(w.p, w.len, &back), -EBADMSG);
	w.p[v1] = 2;
	/* Counts: more than the pools' PGs, more than the bytes. */
	refuse_u32(&w, v1 + 1, 257);
	refuse_u32(&w, v1 + 1, 3);
	refuse_u32(&w, v1 + 1, UINT32_MAX);
	/* Entries: unknown pool, pg past pg_num, unsorted / duplicate,
	 * unknown OSD. */
	refuse_u32(&w, e1, 2);
	refuse_u32(&w, e1 + 4, 256);
	refuse_u32(&w, e1 + 4, 200);
	refuse_u32(&w, e1 + 4, 201);
	refuse_u32(&w, e1 + 9, 3);
	refuse_u32(&w, e1 + 9, UINT32_MAX);
	{
		/* An OSD three times (more than m = 2) is refused; twice is
		 * allowed (fewer OSDs than k + m, crush.c). */
		uint8_t save[8];

		memcpy(save, w.p + e1 + 9, 8);
		memcpy(w.p + e1 + 9, w.p + e1 + 17, 4);
		memcpy(w.p + e1 + 13, w.p + e1 + 17, 4);
		assert_int_equal(wire_dec_map(w.p, w.len, &back), -EBADMSG);
		memcpy(w.p + e1 + 9, save, 8);
		memcpy(w.p + e1 + 9, w.p + e1 + 13, 4);
		assert_int_equal(wire_dec_map(w.p, w.len, &back), 0);
		memcpy(w.p + e1 + 9, save, 8);
	}
	/* n must be the pool's k + m. */
	w.p[e1 + 8] = 5;
	assert_int_equal(wire_dec_map(w.p, w.len, &back), -EBADMSG);
	w.p[e1 + 8] = 6;
	assert_int_equal(wire_dec_map(w.p, w.len, &back), 0);
	wbuf_free(&w);
	map_free(&m);
	map_free(&back);
}

static void test_status_cmd(void **state)
{
	struct wire_status s = { .health = WIRE_HEALTH_WARN, .epoch = 9,
				 .osds_total = 6, .osds_up = 5, .osds_in = 6,
				 .objects_total = 100, .objects_degraded = 7 },
			   sb;
	struct wire_osd_cmd c = { WIRE_OSD_OUT, 4, 0 }, cb;
	struct wire_map_get g = { 5 }, gb;
	struct wbuf w;

	(void)state;
	strcpy(s.summary, "1 osds down");
	wbuf_init(&w);
	wire_enc_status(&w, &s);
	assert_int_equal(wire_dec_status(w.p, w.len, &sb), 0);
	assert_int_equal(sb.health, WIRE_HEALTH_WARN);
	assert_int_equal(sb.objects_degraded, 7);
	assert_string_equal(sb.summary, "1 osds down");
	frame_check(WIRE_STATUS, WIRE_F_REPLY, 0, &w);
	wbuf_free(&w);

	wbuf_init(&w);
	wire_enc_osd_cmd(&w, &c);
	assert_int_equal(wire_dec_osd_cmd(w.p, w.len, &cb), 0);
	assert_int_equal(cb.op, WIRE_OSD_OUT);
	assert_int_equal(cb.osd_id, 4);
	frame_check(WIRE_OSD_CMD, 0, 0, &w);
	wbuf_free(&w);
	c.op = 99;
	wbuf_init(&w);
	wire_enc_osd_cmd(&w, &c);
	assert_int_equal(wire_dec_osd_cmd(w.p, w.len, &cb), -EBADMSG);
	wbuf_free(&w);

	wbuf_init(&w);
	wire_enc_map_get(&w, &g);
	assert_int_equal(wire_dec_map_get(w.p, w.len, &gb), 0);
	assert_int_equal(gb.have_epoch, 5);
	frame_check(WIRE_MAP_GET, 0, 0, &w);
	wbuf_free(&w);
}

/* Round-trip one namespace request and return the decoded copy. */
static void ns_req_roundtrip(unsigned type, const struct wire_ns_req *m,
			     struct wire_ns_req *back, struct wbuf *w)
{
	wbuf_init(w);
	wire_enc_ns_req(w, type, m);
	assert_int_equal(w->err, 0);
	assert_int_equal(wire_dec_ns_req(type, w->p, w->len, back), 0);
	frame_check(type, 0, 0, w);
	for (size_t n = 0; n < w->len; n++) {
		struct wire_ns_req tmp;

		assert_int_not_equal(wire_dec_ns_req(type, w->p, n, &tmp), 0);
	}
}

static void test_ns_requests(void **state)
{
	static struct wire_ns_req m, back;
	struct wbuf w, objs;
	struct wire_obj o;
	const char data[] = "inline file contents";

	(void)state;
	for (unsigned t = WIRE_NS_FIRST; t <= WIRE_NS_LAST; t++) {
		memset(&m, 0, sizeof(m));
		m.ino = 1000 + t;
		m.ino2 = 2000 + t;
		m.mode = 0100644;
		m.uid = 1000;
		m.gid = 100;
		m.flags = 1;
		m.valid = WIRE_SET_SIZE | WIRE_SET_MTIME;
		m.size = 123456789;
		m.atime_ns = -5;
		m.mtime_ns = 1700000000123456789ll;
		m.cookie = 99;
		m.max = 1000;
		strcpy(m.name, t == WIRE_SESSION_OPEN ? "client.admin" :
			       "file.txt");
		strcpy(m.name2, "other");
		strcpy(m.target, "../a/b/c");
		if (t == WIRE_COMMIT || t == WIRE_XATTR_SET ||
		    t == WIRE_CREATE_AT) {
			m.data = (const uint8_t *)data;
			m.data_len = sizeof(data);
		}
		wbuf_init(&objs);
		if (t == WIRE_COMMIT) {
			for (uint64_t i = 0; i < 5; i++) {
				o = (struct wire_obj){ i * 3, 1000 + i,
						       4096 * (uint32_t)i };
				wire_enc_obj(&objs, &o);
			}
			m.n_objs = 5;
			wire_ns_set_list(&m.objs, &objs);
		}
		ns_req_roundtrip(t, &m, &back, &w);
		switch (t) {
		case WIRE_RENAME:
			assert_int_equal(back.ino, m.ino);
			assert_int_equal(back.ino2, m.ino2);
			assert_string_equal(back.name, "file.txt");
			assert_string_equal(back.name2, "other");
			assert_int_equal(back.flags, 1);
			break;
		case WIRE_SYMLINK:
			assert_string_equal(back.target, "../a/b/c");
			assert_int_equal(back.uid, 1000);
			break;
		case WIRE_SETATTR:
			assert_int_equal(back.valid, m.valid);
			assert_int_equal(back.size, m.size);
			assert_true(back.atime_ns == -5);
			assert_true(back.mtime_ns == m.mtime_ns);
			assert_int_equal(back.mode, 0100644);
			break;
		case WIRE_COMMIT:
			assert_int_equal(back.n_objs, 5);
			assert_int_equal(back.data_len, sizeof(data));
			assert_memory_equal(back.data, data, sizeof(data));
			for (uint64_t i = 0; i < 5; i++) {
				assert_int_equal(wire_next_obj(&back.objs, &o),
						 1);
				assert_int_equal(o.objno, i * 3);
				assert_int_equal(o.version, 1000 + i);
				assert_int_equal(o.length, 4096 * i);
			}
			assert_int_equal(wire_next_obj(&back.objs, &o), 0);
			break;
		case WIRE_READDIR:
			assert_int_equal(back.cookie, 99);
			assert_int_equal(back.max, 1000);
			break;
		case WIRE_SESSION_OPEN:
			assert_string_equal(back.name, "client.admin");
			break;
		case WIRE_STATFS:
			assert_int_equal(back.ino, 0);
			break;
		case WIRE_INO_RESERVE:
			assert_int_equal(back.ino, 0);
			assert_int_equal(back.max, 1000);
			break;
		case WIRE_CREATE_AT:
			assert_int_equal(back.ino, m.ino);
			assert_int_equal(back.ino2, m.ino2);
			assert_string_equal(back.name, "file.txt");
			assert_int_equal(back.mode, 0100644);
			assert_int_equal(back.uid, 1000);
			assert_int_equal(back.flags, 1);
			assert_int_equal(back.valid, m.valid);
			assert_true(back.mtime_ns == m.mtime_ns);
			assert_int_equal(back.data_len, sizeof(data));
			assert_memory_equal(back.data, data, sizeof(data));
			break;
		default:
			assert_int_equal(back.ino, m.ino);
			break;
		}
		wbuf_free(&w);
		wbuf_free(&objs);
	}
}

static void test_ns_bad_names(void **state)
{
	static struct wire_ns_req m, back;
	static const char *bad[] = { "", ".", "..", "a/b", "/" };
	struct wbuf w;

	(void)state;
	assert_true(wire_name_ok("a"));
	assert_true(wire_name_ok("..."));
	assert_true(wire_name_ok(".hidden"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(wire_name_ok(bad[i]));
		memset(&m, 0, sizeof(m));
		m.ino = 1;
		strcpy(m.name, bad[i]);
		wbuf_init(&w);
		wire_enc_ns_req(&w, WIRE_LOOKUP, &m);
		assert_int_equal(wire_dec_ns_req(WIRE_LOOKUP, w.p, w.len,
						 &back), -EBADMSG);
		wbuf_free(&w);
	}
	/* 256 bytes: one past NAME_MAX; the encoder refuses too. */
	memset(&m, 0, sizeof(m));
	memset(m.name, 'a', 256);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_LOOKUP, &m);
	assert_int_equal(w.err, -ENAMETOOLONG);
	wbuf_free(&w);
	/* Built by hand, the decoder refuses it. */
	wbuf_init(&w);
	wbuf_u64(&w, 1);
	wbuf_u16(&w, 256);
	for (int i = 0; i < 256; i++)
		wbuf_u8(&w, 'a');
	assert_int_equal(wire_dec_ns_req(WIRE_LOOKUP, w.p, w.len, &back),
			 -EBADMSG);
	wbuf_free(&w);
	/* A NUL inside a name is refused. */
	wbuf_init(&w);
	wbuf_u64(&w, 1);
	wbuf_u16(&w, 3);
	wbuf_raw(&w, "a\0b", 3);
	assert_int_equal(wire_dec_ns_req(WIRE_LOOKUP, w.p, w.len, &back),
			 -EBADMSG);
	wbuf_free(&w);
	/* Not a namespace type. */
	assert_int_equal(wire_dec_ns_req(WIRE_SHARD_PUT, w.p, 0, &back),
			 -EBADMSG);
	/* Inline data past its limit. */
	memset(&m, 0, sizeof(m));
	m.data_len = STORE_INLINE_MAX + 1;
	m.data = calloc(1, m.data_len);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_COMMIT, &m);
	assert_int_equal(w.err, -EMSGSIZE);
	free((void *)m.data);
	wbuf_free(&w);
}

static void test_ns_replies(void **state)
{
	static struct wire_ns_reply m, back;
	struct wire_attr a = { 5, 0100600, 1, 2, 3, WIRE_ATTR_INLINE, 4096,
			       -1, 2, 3, 17, 1, 4 << 20, 0 };
	struct wire_dirent d;
	struct wire_obj o;
	struct wbuf w, list;
	const char data[] = "user.a\0user.b";

	(void)state;
	for (unsigned t = WIRE_NS_FIRST; t <= WIRE_NS_LAST; t++) {
		for (int plus = 0; plus < 2; plus++) {
			memset(&m, 0, sizeof(m));
			m.attr = a;
			m.session_id = 77;
			m.root_ino = 1;
			m.inline_max = 65536;
			strcpy(m.target, "/x/y");
			m.data = (const uint8_t *)data;
			m.data_len = sizeof(data);
			m.f_blocks = 1000;
			m.f_bfree = 400;
			m.f_files = 10;
			m.f_ffree = 1 << 20;
			wbuf_init(&list);
			if (t == WIRE_READDIR) {
				m.plus = (uint8_t)plus;
				for (uint32_t i = 0; i < 20; i++) {
					d = (struct wire_dirent){
						.cookie = i + 1, .ino = 100 + i,
						.type = 0100000, .attr = a };
					snprintf(d.name, sizeof(d.name), "f%u",
						 i);
					wire_enc_dirent(&list, &d, plus);
				}
				m.count = 20;
				m.more = 1;
			} else if (t == WIRE_OBJMAP || t == WIRE_COMMIT) {
				for (uint32_t i = 0; i < 20; i++) {
					o = (struct wire_obj){ i, 50 + i, i };
					wire_enc_obj(&list, &o);
				}
				m.count = 20;
			}
			wire_ns_set_list(&m.entries, &list);
			wbuf_init(&w);
			wire_enc_ns_reply(&w, t, &m);
			assert_int_equal(w.err, 0);
			assert_int_equal(wire_dec_ns_reply(t, w.p, w.len,
							   &back), 0);
			frame_check(t, WIRE_F_REPLY, 0, &w);
			for (size_t n = 0; n < w.len; n++) {
				static struct wire_ns_reply tmp;

				assert_int_not_equal(
					wire_dec_ns_reply(t, w.p, n, &tmp), 0);
			}
			if (t == WIRE_READDIR) {
				assert_int_equal(back.count, 20);
				assert_int_equal(back.more, 1);
				for (uint32_t i = 0; i < 20; i++) {
					assert_int_equal(wire_next_dirent(
						&back.entries, back.plus, &d), 1);
					assert_int_equal(d.ino, 100 + i);
					assert_int_equal(d.cookie, i + 1);
					assert_int_equal(d.attr.size,
							 plus ? 4096 : 0);
				}
				assert_int_equal(wire_next_dirent(
					&back.entries, back.plus, &d), 0);
			}
			if (t == WIRE_OBJMAP) {
				for (uint32_t i = 0; i < 20; i++) {
					assert_int_equal(wire_next_obj(
						&back.entries, &o), 1);
					assert_int_equal(o.version, 50 + i);
				}
				assert_int_equal(wire_next_obj(&back.entries,
							       &o), 0);
			}
			if (t == WIRE_SESSION_OPEN) {
				assert_int_equal(back.session_id, 77);
				assert_int_equal(back.inline_max, 65536);
			}
			if (t == WIRE_READLINK)
				assert_string_equal(back.target, "/x/y");
			if (t == WIRE_STATFS)
				assert_int_equal(back.f_bfree, 400);
			if (t == WIRE_GETATTR) {
				assert_int_equal(back.attr.ino, 5);
				assert_true(back.attr.atime_ns == -1);
				assert_int_equal(back.attr.gen, 17);
				assert_int_equal(back.attr.flags,
						 WIRE_ATTR_INLINE);
			}
			if (t == WIRE_XATTR_LIST) {
				assert_int_equal(back.data_len, sizeof(data));
				assert_memory_equal(back.data, data,
						    sizeof(data));
			}
			wbuf_free(&w);
			wbuf_free(&list);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_shard_put),
		cmocka_unit_test(test_shard_get),
		cmocka_unit_test(test_shard_list),
		cmocka_unit_test(test_shard_delete),
		cmocka_unit_test(test_shard_id_order),
		cmocka_unit_test(test_boot_heartbeat),
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_map_upmaps),
		cmocka_unit_test(test_status_cmd),
		cmocka_unit_test(test_ns_requests),
		cmocka_unit_test(test_ns_bad_names),
		cmocka_unit_test(test_ns_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
