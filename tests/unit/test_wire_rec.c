/*
 * test_wire_rec.c -- the recovery and scrub messages round-trip through
 * their encoders and decoders (PG_OBJECTS, SCRUB, the heartbeat's
 * recovery report, STATUS with its per-OSD entries, SHARD_GET's VERIFY
 * flag), and malformed input is refused: truncations, trailing bytes,
 * counts that disagree with the bytes, unknown flags.
 *
 * With $WIRE_CORPUS_DIR set, every frame built here is also written there
 * as a seed for the fuzz_wire target.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "wire.h"
#include "wire_mon.h"
#include "wire_osd.h"
#include "wire_rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int corpus_seq;

static void save(unsigned type, unsigned flags, const struct wbuf *payload)
{
	const char *dir = getenv("WIRE_CORPUS_DIR");
	struct wire_hdr h;
	struct wbuf w;

	wbuf_init(&w);
	wire_msg_begin(&w, type, flags, 7, 42, 0);
	wbuf_raw(&w, payload->p, payload->len);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	assert_int_equal(wire_hdr_decode(w.p, w.len, &h), 0);
	assert_int_equal(h.type, type);
	if (dir) {
		char path[4096];
		FILE *f;

		snprintf(path, sizeof(path), "%s/seed-rec-%03d-%s%s", dir,
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

typedef int (*dec_fn)(const uint8_t *, size_t, void *);

/* Every strict prefix, and the payload with a byte appended, refused. */
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

static int dec_pgq(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_pg_objects(p, n, o);
}

static int dec_pgr(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_pg_objects_reply(p, n, o);
}

static int dec_scrub(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_scrub(p, n, o);
}

static int dec_scrub_reply(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_scrub_reply(p, n, o);
}

static int dec_hb(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_heartbeat(p, n, o);
}

static int dec_status(const uint8_t *p, size_t n, void *o)
{
	return wire_dec_status(p, n, o);
}

static void test_pg_objects(void **state)
{
	struct wire_pg_objects q = { 1, 77, 100, 1, 12, 3 }, qb;
	struct wire_pg_objects_reply rep;
	struct wire_pg_obj e;
	struct wbuf w;
	size_t at;
	int n = 0;

	(void)state;
	wbuf_init(&w);
	wire_enc_pg_objects(&w, &q);
	assert_int_equal(wire_dec_pg_objects(w.p, w.len, &qb), 0);
	assert_int_equal(qb.pool, 1);
	assert_int_equal(qb.pg, 77);
	assert_int_equal(qb.max, 100);
	assert_int_equal(qb.has_after, 1);
	assert_int_equal(qb.after_ino, 12);
	assert_int_equal(qb.after_objno, 3);
	save(WIRE_PG_OBJECTS, 0, &w);
	check_truncations(&w, dec_pgq, &qb);
	wbuf_free(&w);
	/* A page larger than a list may be, a bad cursor flag: refused. */
	q.max = STORE_LIST_MAX + 1;
	wbuf_init(&w);
	wire_enc_pg_objects(&w, &q);
	assert_int_equal(wire_dec_pg_objects(w.p, w.len, &qb), -EBADMSG);
	wbuf_free(&w);
	q.max = 0;
	q.has_after = 2;
	wbuf_init(&w);
	wire_enc_pg_objects(&w, &q);
	assert_int_equal(wire_dec_pg_objects(w.p, w.len, &qb), -EBADMSG);
	wbuf_free(&w);

	wbuf_init(&w);
	at = wire_enc_pg_objects_begin(&w);
	for (int i = 0; i < 5; i++) {
		struct wire_pg_obj o = { 10 + i, i, 0xabc0 + i, 4096u * i };

		wire_enc_pg_obj(&w, &o);
	}
	wire_enc_pg_objects_end(&w, at, 5, 1);
	assert_int_equal(wire_dec_pg_objects_reply(w.p, w.len, &rep), 0);
	assert_int_equal(rep.count, 5);
	assert_int_equal(rep.more, 1);
	while (wire_pg_objects_next(&rep, &e)) {
		assert_int_equal(e.ino, 10 + n);
		assert_int_equal(e.objno, n);
		assert_int_equal(e.version, 0xabc0 + n);
		assert_int_equal(e.length, 4096u * n);
		n++;
	}
	assert_int_equal(n, 5);
	save(WIRE_PG_OBJECTS, WIRE_F_REPLY, &w);
	check_truncations(&w, dec_pgr, &rep);
	/* A count that disagrees with the entries present. */
	put_le32(w.p, 6);
	assert_int_equal(wire_dec_pg_objects_reply(w.p, w.len, &rep), -EBADMSG);
	put_le32(w.p, 5);
	w.p[4] = 2; /* more must be 0 or 1 */
	assert_int_equal(wire_dec_pg_objects_reply(w.p, w.len, &rep), -EBADMSG);
	wbuf_free(&w);
	/* An empty page. */
	wbuf_init(&w);
	at = wire_enc_pg_objects_begin(&w);
	wire_enc_pg_objects_end(&w, at, 0, 0);
	assert_int_equal(wire_dec_pg_objects_reply(w.p, w.len, &rep), 0);
	assert_int_equal(rep.count, 0);
	assert_int_equal(wire_pg_objects_next(&rep, &e), 0);
	wbuf_free(&w);
}

static void test_scrub(void **state)
{
	struct wire_scrub q = { 1, WIRE_PG_ALL,
				WIRE_SCRUB_DEEP | WIRE_SCRUB_GC_NOW, 99 },
			  qb;
	struct wire_scrub_reply r, rb;
	struct wbuf w;

	(void)state;
	/* memset: the struct is compared whole, padding after pgs too (an
	 * initializer leaves it undefined: it differed under SAN=1). */
	memset(&r, 0, sizeof(r));
	r.epoch = 12;
	r.pgs = 3;
	r.objects = 100;
	r.shards = 600;
	r.missing = 4;
	r.misplaced = 5;
	r.stale = 6;
	r.stale_deleted = 2;
	r.corrupt = 1;
	r.repaired = 9;
	r.unrepairable = 0;
	wbuf_init(&w);
	wire_enc_scrub(&w, &q);
	assert_int_equal(wire_dec_scrub(w.p, w.len, &qb), 0);
	assert_int_equal(qb.pool, 1);
	assert_int_equal(qb.pg, WIRE_PG_ALL);
	assert_int_equal(qb.flags, WIRE_SCRUB_DEEP | WIRE_SCRUB_GC_NOW);
	assert_int_equal(qb.ino, 99);
	save(WIRE_SCRUB, 0, &w);
	check_truncations(&w, dec_scrub, &qb);
	wbuf_free(&w);
	q.flags = 1u << 7;
	wbuf_init(&w);
	wire_enc_scrub(&w, &q);
	assert_int_equal(wire_dec_scrub(w.p, w.len, &qb), -EBADMSG);
	wbuf_free(&w);

	memset(&rb, 0, sizeof(rb));
	wbuf_init(&w);
	wire_enc_scrub_reply(&w, &r);
	assert_int_equal(wire_dec_scrub_reply(w.p, w.len, &rb), 0);
	assert_memory_equal(&r, &rb, sizeof(r));
	save(WIRE_SCRUB, WIRE_F_REPLY, &w);
	check_truncations(&w, dec_scrub_reply, &rb);
	wbuf_free(&w);
	/* More deleted than found is nonsense. */
	r.stale_deleted = r.stale + 1;
	wbuf_init(&w);
	wire_enc_scrub_reply(&w, &r);
	assert_int_equal(wire_dec_scrub_reply(w.p, w.len, &rb), -EBADMSG);
	wbuf_free(&w);
}

static void test_heartbeat_report(void **state)
{
	struct wire_heartbeat hb, hbb;
	struct wbuf w;

	(void)state;
	memset(&hb, 0, sizeof(hb));
	hb.osd_id = 4;
	hb.shards = 1000;
	hb.recovery_bytes = 1ull << 33;
	hb.recovery_queued = 3;
	hb.pass_epoch = 17;
	hb.pgs = 43;
	hb.degraded = 5;
	hb.misplaced = 6;
	hb.unfound = 1;
	hb.bytes_left = 1ull << 30;
	hb.shards_recovered = 11;
	hb.shards_moved = 12;
	hb.shards_gc = 13;
	hb.scrub_errors = 2;
	memset(&hbb, 0, sizeof(hbb)); /* padding, for the comparison */
	wbuf_init(&w);
	wire_enc_heartbeat(&w, &hb);
	assert_int_equal(wire_dec_heartbeat(w.p, w.len, &hbb), 0);
	assert_memory_equal(&hb, &hbb, sizeof(hb));
	save(WIRE_HEARTBEAT, 0, &w);
	check_truncations(&w, dec_hb, &hbb);
	wbuf_free(&w);
}

static void test_status_osds(void **state)
{
	struct wire_osd_stat stats[3], back[3];
	struct wire_status s, sb;
	struct wbuf w;
	uint32_t n;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(stats, 0, sizeof(stats));
	for (uint32_t i = 0; i < 3; i++) {
		stats[i].id = i * 2;
		stats[i].flags = i ? WIRE_OSD_STAT_UP | WIRE_OSD_STAT_IN : 0;
		stats[i].pgs = 40 + i;
		stats[i].shards = 1000 + i;
		stats[i].pass_epoch = 9;
		stats[i].shards_moved = i;
		stats[i].scrub_errors = 7;
	}
	s.health = WIRE_HEALTH_WARN;
	s.epoch = 9;
	s.osds_total = 3;
	s.osds_checking = 1;
	s.osds_down_in = 1;
	s.shards_recovered = 4;
	s.shards_gc = 5;
	strcpy(s.summary, "1 osds down");
	s.n_osd_stats = 3;
	s.osd_stats = stats;
	wbuf_init(&w);
	wire_enc_status(&w, &s);
	assert_int_equal(wire_dec_status(w.p, w.len, &sb), 0);
	assert_int_equal(sb.n_osd_stats, 3);
	assert_null(sb.osd_stats);
	assert_int_equal(sb.osds_checking, 1);
	assert_int_equal(sb.osds_down_in, 1);
	assert_int_equal(sb.shards_recovered, 4);
	assert_int_equal(sb.shards_gc, 5);
	assert_string_equal(sb.summary, "1 osds down");
	memset(back, 0, sizeof(back));
	assert_int_equal(wire_dec_status_osds(w.p, w.len, back, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(back, stats, sizeof(stats));
	/* A smaller buffer gets the first ones and the count. */
	memset(back, 0, sizeof(back));
	assert_int_equal(wire_dec_status_osds(w.p, w.len, back, 1, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(&back[0], &stats[0], sizeof(stats[0]));
	assert_int_equal(back[1].id, 0);
	save(WIRE_STATUS, WIRE_F_REPLY, &w);
	check_truncations(&w, dec_status, &sb);
	wbuf_free(&w);
	/* An entry with unknown flags or an id past the limit. */
	stats[1].flags = 0x80;
	wbuf_init(&w);
	wire_enc_status(&w, &s);
	assert_int_equal(wire_dec_status(w.p, w.len, &sb), -EBADMSG);
	assert_int_equal(wire_dec_status_osds(w.p, w.len, back, 3, &n),
			 -EBADMSG);
	wbuf_free(&w);
	stats[1].flags = 0;
	stats[1].id = STORE_MAX_OSDS;
	wbuf_init(&w);
	wire_enc_status(&w, &s);
	assert_int_equal(wire_dec_status(w.p, w.len, &sb), -EBADMSG);
	wbuf_free(&w);
	/* No entries at all. */
	s.osd_stats = NULL;
	wbuf_init(&w);
	wire_enc_status(&w, &s);
	assert_int_equal(wire_dec_status(w.p, w.len, &sb), 0);
	assert_int_equal(sb.n_osd_stats, 0);
	wbuf_free(&w);
}

static void test_get_verify(void **state)
{
	struct wire_shard_get g = { { 1, 2, 3, 4, 5 }, 0, 0, WIRE_GET_VERIFY },
			      gb;
	struct wire_shard_get_reply r = { 4, 4, 2, 100, 4096, 0, 0, NULL,
					  NULL },
				    rb;
	struct wbuf w;

	(void)state;
	wbuf_init(&w);
	wire_enc_shard_get(&w, &g);
	assert_int_equal(wire_dec_shard_get(w.p, w.len, &gb), 0);
	assert_int_equal(gb.flags, WIRE_GET_VERIFY);
	save(WIRE_SHARD_GET, 0, &w);
	wbuf_free(&w);
	/* The reply of a verify: the shard's header, no data. */
	wbuf_init(&w);
	wire_enc_shard_get_reply(&w, &r);
	assert_int_equal(wire_dec_shard_get_reply(w.p, w.len, &rb), 0);
	assert_int_equal(rb.shard_len, 4096);
	assert_int_equal(rb.data_len, 0);
	save(WIRE_SHARD_GET, WIRE_F_REPLY, &w);
	wbuf_free(&w);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(wire_type_name(WIRE_SCRUB), "SCRUB");
	assert_string_equal(wire_type_name(WIRE_PG_OBJECTS), "PG_OBJECTS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_objects),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_heartbeat_report),
		cmocka_unit_test(test_status_osds),
		cmocka_unit_test(test_get_verify),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
