/*
 * fuzz_wire.c -- random bytes into every message decoder.
 *
 * The input is a frame.  Its header crc is patched before decoding so that
 * the fuzzer gets past the crc check and into the payload decoders; then
 * the payload goes to the decoder of its type (request or reply, error
 * replies included), and every list the decoder accepted is walked to its
 * end.  A decoder that accepts input must also survive re-encoding it.
 */
#include "crc.h"
#include "map.h"
#include "wire.h"
#include "wire_mon.h"
#include "wire_ns.h"
#include "wire_osd.h"
#include "wire_rec.h"

#include <stdlib.h>
#include <string.h>

static void ns_roundtrip_req(unsigned type, const struct wire_ns_req *m)
{
	struct wire_ns_req back;
	struct wbuf w;

	wbuf_init(&w);
	wire_enc_ns_req(&w, type, m);
	if (!w.err && wire_dec_ns_req(type, w.p, w.len, &back) != 0)
		abort();
	wbuf_free(&w);
}

static void decode_payload(const struct wire_hdr *h, const uint8_t *p,
			   size_t len)
{
	int reply = h->flags & WIRE_F_REPLY;

	if (reply && h->status != 0) {
		char text[STORE_ERRMSG_MAX + 1];

		wire_dec_error(p, len, text, sizeof(text));
		return;
	}
	if (wire_is_ns(h->type)) {
		if (reply) {
			struct wire_ns_reply m;
			struct wire_dirent d;
			struct wire_obj o;

			if (wire_dec_ns_reply(h->type, p, len, &m))
				return;
			while (wire_next_dirent(&m.entries, m.plus, &d))
				;
			rbuf_init(&m.entries, m.entries.p, m.entries.len);
			while (wire_next_obj(&m.entries, &o))
				;
		} else {
			struct wire_ns_req *m = malloc(sizeof(*m));
			struct wire_obj o;

			if (!m)
				return;
			if (wire_dec_ns_req(h->type, p, len, m) == 0) {
				ns_roundtrip_req(h->type, m);
				while (wire_next_obj(&m->objs, &o))
					;
			}
			free(m);
		}
		return;
	}
	switch (h->type) {
	case WIRE_SHARD_PUT:
		if (!reply) {
			struct wire_shard_put m;

			if (wire_dec_shard_put(p, len, &m) == 0 && m.data_len &&
			    (!m.data || !m.csums))
				abort();
		}
		break;
	case WIRE_SHARD_GET:
		if (reply) {
			struct wire_shard_get_reply m;

			wire_dec_shard_get_reply(p, len, &m);
		} else {
			struct wire_shard_get m;

			wire_dec_shard_get(p, len, &m);
		}
		break;
	case WIRE_SHARD_LIST:
		if (reply) {
			struct wire_shard_list_reply m;
			struct wire_shard_entry e;
			uint32_t n = 0;

			if (wire_dec_shard_list_reply(p, len, &m) == 0) {
				while (wire_shard_list_next(&m, &e))
					n++;
				if (n != m.count)
					abort();
			}
		} else {
			struct wire_shard_list m;

			wire_dec_shard_list(p, len, &m);
		}
		break;
	case WIRE_SHARD_DELETE:
		if (!reply) {
			struct wire_shard_delete m;

			wire_dec_shard_delete(p, len, &m);
		}
		break;
	case WIRE_OSD_BOOT:
		if (reply) {
			struct wire_osd_boot_reply m;

			wire_dec_osd_boot_reply(p, len, &m);
		} else {
			struct wire_osd_boot m;

			wire_dec_osd_boot(p, len, &m);
		}
		break;
	case WIRE_HEARTBEAT:
		if (!reply) {
			struct wire_heartbeat m;

			wire_dec_heartbeat(p, len, &m);
		}
		break;
	case WIRE_MAP_GET:
	case WIRE_MAP_PUSH:
		if (reply || h->type == WIRE_MAP_PUSH) {
			struct store_map map;

			map_init(&map);
			if (wire_dec_map(p, len, &map) == 0 && map_check(&map))
				abort();
			map_free(&map);
		} else {
			struct wire_map_get m;

			wire_dec_map_get(p, len, &m);
		}
		break;
	case WIRE_STATUS:
		if (reply) {
			struct wire_osd_stat st[4];
			struct wire_status m;
			uint32_t n;

			memset(&m, 0, sizeof(m));
			if (wire_dec_status(p, len, &m) == 0 &&
			    (wire_dec_status_osds(p, len, st, 4, &n) != 0 ||
			     n != m.n_osd_stats))
				abort();
		}
		break;
	case WIRE_SCRUB:
		if (reply) {
			struct wire_scrub_reply m;

			wire_dec_scrub_reply(p, len, &m);
		} else {
			struct wire_scrub m;

			wire_dec_scrub(p, len, &m);
		}
		break;
	case WIRE_PG_OBJECTS:
		if (reply) {
			struct wire_pg_objects_reply m;
			struct wire_pg_obj e;
			uint32_t n = 0;

			if (wire_dec_pg_objects_reply(p, len, &m) == 0) {
				while (wire_pg_objects_next(&m, &e))
					n++;
				if (n != m.count)
					abort();
			}
		} else {
			struct wire_pg_objects m;

			wire_dec_pg_objects(p, len, &m);
		}
		break;
	case WIRE_OSD_CMD:
		if (!reply) {
			struct wire_osd_cmd m;

			wire_dec_osd_cmd(p, len, &m);
		}
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_hdr h;
	uint8_t *msg;

	/* Copy so that the frame sits in a buffer of exactly its size: ASan
	 * then catches any read past the end. */
	msg = malloc(size ? size : 1);
	if (!msg)
		return 0;
	memcpy(msg, data, size);
	if (size >= WIRE_HDR_LEN)
		put_le32(msg + 36, store_crc32c(0, msg, 36));
	if (wire_hdr_decode(msg, size, &h) == 0)
		decode_payload(&h, wire_payload(msg), h.payload_len);
	free(msg);
	return 0;
}
