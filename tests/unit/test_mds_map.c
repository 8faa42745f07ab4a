/*
 * test_mds_map.c -- the MDS as monitor, driven through its dispatcher
 * (frames in, frames out) with a fake clock: OSD boot, id reuse by uuid,
 * cluster id mismatch, heartbeats, marking down and out after their
 * intervals and back up, operator commands, map epochs and MAP_GET,
 * persistence, and the status computation checked against placement
 * computed independently.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../mds/mds.h"
#include "crush.h"
#include "log.h"
#include "pg.h"
#include "util.h"
#include "wire.h"
#include "wire_mon.h"
#include "wire_ns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64];
static struct mds *M;
/* The last reply. */
static struct wire_hdr H;
static uint8_t *P;
static char E[STORE_ERRMSG_MAX + 1];

static void reply_cb(void *arg, struct mds_msg *msg)
{
	(void)arg;
	assert_int_equal(wire_hdr_decode(msg->reply.p, msg->reply.len, &H), 0);
	free(P);
	P = malloc(msg->reply.len);
	memcpy(P, msg->reply.p, msg->reply.len);
	E[0] = '\0';
	if (H.status)
		wire_dec_error(wire_payload(P), H.payload_len, E, sizeof(E));
}

/* Send one request (type, payload) through the dispatcher; returns the
 * reply's status. */
static int call(unsigned type, const struct wbuf *pl)
{
	struct mds_msg msg;
	struct wbuf w;

	wbuf_init(&w);
	wire_msg_begin(&w, type, 0, 1, 0, 0);
	if (pl)
		wbuf_raw(&w, pl->p, pl->len);
	assert_int_equal(wire_msg_finish(&w, 0), 0);
	memset(&msg, 0, sizeof(msg));
	msg.frame = w.p;
	msg.len = w.len;
	assert_int_equal(wire_hdr_decode(w.p, w.len, &msg.hdr), 0);
	mds_handle(M, &msg, 1, reply_cb, NULL);
	wbuf_free(&w);
	assert_int_equal(H.epoch, mds_epoch(M));
	return H.status;
}

static void uuid_of(int n, uint8_t uuid[16])
{
	memset(uuid, 0, 16);
	uuid[0] = 0xab;
	uuid[15] = (uint8_t)n;
}

static int boot(int n, const char *host, const uint8_t *cluster,
		uint32_t *id)
{
	struct wire_osd_boot b;
	struct wire_osd_boot_reply r;
	struct wbuf w;
	int rc;

	memset(&b, 0, sizeof(b));
	if (cluster)
		memcpy(b.cluster_id, cluster, 16);
	uuid_of(n, b.uuid);
	b.osd_id = WIRE_OSD_NEW;
	b.weight = 1.0;
	b.capacity = 1000ull << 30;
	b.used = 10ull << 30;
	snprintf(b.host, sizeof(b.host), "%s", host);
	snprintf(b.addr, sizeof(b.addr), "tcp://127.0.0.1:%d", 7000 + n);
	wbuf_init(&w);
	wire_enc_osd_boot(&w, &b);
	rc = call(WIRE_OSD_BOOT, &w);
	wbuf_free(&w);
	if (rc == 0) {
		assert_int_equal(wire_dec_osd_boot_reply(wire_payload(P),
							 H.payload_len, &r), 0);
		assert_memory_equal(r.cluster_id, M->cluster_id, 16);
		if (id)
			*id = r.osd_id;
	}
	return rc;
}

/* Send hb as osd.id's HEARTBEAT; returns the call's result. */
static int send_hb(const struct wire_heartbeat *hb)
{
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wire_enc_heartbeat(&w, hb);
	rc = call(WIRE_HEARTBEAT, &w);
	wbuf_free(&w);
	return rc;
}

/* A heartbeat of osd.id with a 1000 GiB disk of which used is taken. */
static void hb_init(struct wire_heartbeat *hb, uint32_t id, uint64_t used)
{
	memset(hb, 0, sizeof(*hb));
	hb->osd_id = id;
	hb->capacity = 1000ull << 30;
	hb->used = used;
	hb->fs_used = used;
	hb->avail = hb->capacity - used;
}

static int heartbeat(uint32_t id, uint64_t used, uint64_t queued)
{
	struct wire_heartbeat hb;

	hb_init(&hb, id, used);
	hb.recovery_queued = queued;
	return send_hb(&hb);
}

/* A heartbeat carrying a recovery report (docs/recovery.md). */
static int report(uint32_t id, uint64_t pass_epoch, uint64_t degraded,
		  uint64_t misplaced, uint64_t unfound, uint64_t left,
		  uint64_t shards)
{
	struct wire_heartbeat hb;

	hb_init(&hb, id, 10ull << 30);
	hb.shards = shards;
	hb.pass_epoch = pass_epoch;
	hb.degraded = degraded;
	hb.misplaced = misplaced;
	hb.unfound = unfound;
	hb.bytes_left = left;
	hb.shards_moved = 3;
	return send_hb(&hb);
}

/* A clean report from osd.id whose disk has avail bytes left of its
 * 1000 GiB, with heartbeat flags (WIRE_HB_FULL), from a data folder on
 * file system disk (0: it could not tell). */
static int disk_report(uint32_t id, uint64_t avail, uint32_t flags,
		       uint64_t disk)
{
	struct wire_heartbeat hb;

	hb_init(&hb, id, 10ull << 30);
	hb.fs_used = hb.capacity - avail;
	hb.avail = avail;
	hb.flags = flags;
	hb.disk_id = disk;
	hb.shards = 9;
	hb.pass_epoch = mds_epoch(M);
	hb.shards_moved = 3;
	return send_hb(&hb);
}

/* disk_report from an OSD that could not tell its file system. */
static int space_report(uint32_t id, uint64_t avail, uint32_t flags)
{
	return disk_report(id, avail, flags, 0);
}

/* Every up OSD reports a clean pass at the current epoch. */
static void all_clean(void)
{
	for (uint32_t i = 0; i < M->om.map.n_osds; i++)
		if (M->om.map.osds[i].exists && M->om.map.osds[i].up)
			assert_int_equal(report(i, mds_epoch(M), 0, 0, 0, 0, 9),
					 0);
}

static int osd_cmd(uint32_t op, uint32_t id, double weight)
{
	struct wire_osd_cmd c = { op, id, weight };
	struct wbuf w;
	int rc;

	wbuf_init(&w);
	wire_enc_osd_cmd(&w, &c);
	rc = call(WIRE_OSD_CMD, &w);
	wbuf_free(&w);
	return rc;
}

static void status(struct wire_status *st)
{
	assert_int_equal(call(WIRE_STATUS, NULL), 0);
	assert_int_equal(wire_dec_status(wire_payload(P), H.payload_len, st),
			 0);
	assert_int_equal(st->epoch, mds_epoch(M));
}

/* The flags of osd.id in the per-OSD entries of the last STATUS reply. */
static uint8_t stat_flags(uint32_t id)
{
	static struct wire_osd_stat stats[STORE_MAX_OSDS];
	uint32_t n = 0;

	assert_int_equal(wire_dec_status_osds(wire_payload(P), H.payload_len,
					      stats, STORE_MAX_OSDS, &n), 0);
	for (uint32_t i = 0; i < n; i++)
		if (stats[i].id == id)
			return stats[i].flags;
	fail_msg("osd.%u has no entry in STATUS", id);
	return 0;
}

static const struct map_osd *osd(uint32_t id)
{
	const struct map_osd *o = map_osd(&M->om.map, id);

	assert_non_null(o);
	return o;
}

static void open_mds(void)
{
	struct mds_opts o;
	char err[1024];

	mds_opts_default(&o);
	o.dir = dir;
	o.nosync = 1;
	o.map_size = 1ull << 30;
	assert_int_equal(mds_open(&o, &M, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	struct mds_cluster_opts co;
	struct mds_opts o;
	uint8_t id[16];
	char err[1024];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_mds_map.XXXXXX");
	assert_non_null(mkdtemp(dir));
	mds_opts_default(&o);
	o.dir = dir;
	o.nosync = 1;
	o.map_size = 1ull << 30;
	mds_cluster_opts_default(&co);
	co.pg_num = 64;
	co.object_size = 65536;
	assert_int_equal(mds_create(&o, &co, id, err, sizeof(err)), 0);
	open_mds();
	assert_memory_equal(M->cluster_id, id, 16);
	M->fake_now_ms = 1000000;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	mds_close(M);
	M = NULL;
	free(P);
	P = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_boot_and_ids(void **state)
{
	uint8_t other[16];
	uint32_t id;
	char hex[33];

	(void)state;
	assert_int_equal(mds_epoch(M), 1);
	assert_int_equal(boot(1, "h1", NULL, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(mds_epoch(M), 2);
	assert_true(osd(0)->up && osd(0)->in);
	assert_string_equal(osd(0)->host, "h1");
	assert_string_equal(osd(0)->addr, "tcp://127.0.0.1:7001");
	assert_int_equal(boot(2, "h2", M->cluster_id, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(mds_epoch(M), 3);
	/* A known uuid gets its id back, whatever cluster id it sends
	 * (zero: a folder that lost its superblock's id). */
	assert_int_equal(boot(1, "h1", M->cluster_id, &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(mds_epoch(M), 4);
	assert_int_equal(M->om.map.n_osds, 2);
	/* Another cluster's folder is refused, naming both ids. */
	memset(other, 0x5a, sizeof(other));
	assert_int_equal(boot(3, "h3", other, NULL), -EXDEV);
	osdmap_id_hex(other, hex);
	assert_non_null(strstr(E, hex));
	osdmap_id_hex(M->cluster_id, hex);
	assert_non_null(strstr(E, hex));
	assert_int_equal(mds_epoch(M), 4);
	/* Bad host or address. */
	assert_int_equal(boot(4, "", NULL, NULL), -EINVAL);
	/* Garbage payload: -EBADMSG, and the MDS goes on. */
	{
		struct wbuf w;

		wbuf_init(&w);
		wbuf_u32(&w, 7);
		assert_int_equal(call(WIRE_OSD_BOOT, &w), -EBADMSG);
		wbuf_free(&w);
	}
	assert_int_equal(boot(4, "h4", NULL, &id), 0);
	assert_int_equal(id, 2);
}

static void test_heartbeats_down_out(void **state)
{
	uint64_t t0 = M->fake_now_ms, e;
	uint32_t id;

	(void)state;
	assert_int_equal(boot(1, "h1", NULL, &id), 0);
	e = mds_epoch(M);
	assert_int_equal(heartbeat(99, 0, 0), -ENOENT);
	assert_non_null(strstr(E, "osd.99"));
	/* Heartbeats change no epoch, but record usage. */
	M->fake_now_ms = t0 + 4000;
	assert_int_equal(heartbeat(id, 123, 0), 0);
	assert_int_equal(osd(id)->used, 123);
	assert_int_equal(mds_epoch(M), e);
	/* Silent for less than the grace: still up. */
	M->fake_now_ms = t0 + 8900;
	assert_int_equal(mds_tick(M), 0);
	assert_true(osd(id)->up);
	assert_int_equal(mds_epoch(M), e);
	/* Past the grace: down, new epoch. */
	M->fake_now_ms = t0 + 9100;
	assert_int_equal(mds_tick(M), 0);
	assert_false(osd(id)->up);
	assert_true(osd(id)->in);
	assert_int_equal(mds_epoch(M), e + 1);
	/* A heartbeat from a down OSD marks it up. */
	assert_int_equal(heartbeat(id, 0, 0), 0);
	assert_true(osd(id)->up);
	assert_int_equal(mds_epoch(M), e + 2);
	assert_int_equal(H.epoch, e + 2);
	/* Down for down_out_interval: out, and back in when it returns. */
	M->fake_now_ms = t0 + 20000;
	assert_int_equal(mds_tick(M), 0);
	assert_false(osd(id)->up);
	M->fake_now_ms = t0 + 20000 + 59000;
	assert_int_equal(mds_tick(M), 0);
	assert_true(osd(id)->in);
	M->fake_now_ms = t0 + 20000 + 60000;
	assert_int_equal(mds_tick(M), 0);
	assert_false(osd(id)->in);
	assert_int_equal(mds_epoch(M), e + 4);
	assert_true(M->om.rt[id].flags & MDS_OSD_F_AUTO_OUT);
	assert_int_equal(heartbeat(id, 0, 0), 0);
	assert_true(osd(id)->up && osd(id)->in);
	assert_int_equal(mds_epoch(M), e + 5);
	/* Nothing due: no epoch. */
	assert_int_equal(mds_tick(M), 0);
	assert_int_equal(mds_epoch(M), e + 5);
}

static void test_osd_cmds(void **state)
{
	uint32_t a, b;
	uint64_t e;

	(void)state;
	assert_int_equal(boot(1, "h1", NULL, &a), 0);
	assert_int_equal(boot(2, "h2", NULL, &b), 0);
	e = mds_epoch(M);
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 7, 0), -ENOENT);
	assert_int_equal(osd_cmd(WIRE_OSD_RM, a, 0), -EBUSY);
	assert_non_null(strstr(E, "osd.0"));
	/* Out by an operator: a reboot leaves it out. */
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, a, 0), 0);
	assert_false(osd(a)->in);
	assert_int_equal(mds_epoch(M), e + 1);
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, a, 0), 0); /* no change */
	assert_int_equal(mds_epoch(M), e + 1);
	assert_int_equal(boot(1, "h1", NULL, NULL), 0);
	assert_false(osd(a)->in);
	assert_int_equal(osd_cmd(WIRE_OSD_IN, a, 0), 0);
	assert_true(osd(a)->in);
	/* Reweight sticks across a reboot. */
	assert_int_equal(osd_cmd(WIRE_OSD_REWEIGHT, b, 2.5), 0);
	assert_true(osd(b)->weight == 2.5);
	assert_int_equal(boot(2, "h2", NULL, NULL), 0);
	assert_true(osd(b)->weight == 2.5);
	assert_int_equal(osd_cmd(WIRE_OSD_REWEIGHT, b, 70000.0), -EINVAL);
	/* Remove: only when down and out; the uuid keeps its id. */
	assert_int_equal(report(b, 0, 0, 0, 0, 0, 5), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_DOWN, b, 0), 0);
	assert_false(osd(b)->up);
	assert_int_equal(osd_cmd(WIRE_OSD_RM, b, 0), -EBUSY);
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, b, 0), 0);
	/* It held shards and nobody has checked yet: they may be the only
	 * copies.  Once the others report a clean pass at this epoch (or it
	 * reports holding nothing), it may go. */
	assert_int_equal(osd_cmd(WIRE_OSD_RM, b, 0), -EBUSY);
	assert_non_null(strstr(E, "only copies"));
	assert_int_equal(report(a, mds_epoch(M), 0, 0, 0, 1 << 20, 9), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_RM, b, 0), -EBUSY);
	assert_non_null(strstr(E, "recovering"));
	all_clean();
	e = mds_epoch(M);
	assert_int_equal(osd_cmd(WIRE_OSD_RM, b, 0), 0);
	assert_int_equal(mds_epoch(M), e + 1);
	assert_null(map_osd(&M->om.map, b));
	assert_int_equal(M->om.map.n_osds, 1);
	assert_int_equal(map_check(&M->om.map), 0);
	assert_int_equal(heartbeat(b, 0, 0), -ENOENT);
	assert_int_equal(boot(2, "h2", NULL, &b), 0);
	assert_int_equal(b, 1);
	assert_true(osd(b)->in);
	assert_true(osd(b)->weight == 1.0); /* operator settings went */
	/* A new uuid never gets a removed OSD's id. */
	assert_int_equal(boot(3, "h3", NULL, &b), 0);
	assert_int_equal(b, 2);
}

static void test_map_get_and_persistence(void **state)
{
	struct wire_map_get g = { 0 };
	struct store_map m;
	struct wbuf w;
	uint32_t id;
	uint64_t e, t;

	(void)state;
	assert_int_equal(boot(1, "h1", NULL, &id), 0);
	assert_int_equal(boot(2, "h2", NULL, NULL), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_DOWN, 1, 0), 0);
	e = mds_epoch(M);
	wbuf_init(&w);
	wire_enc_map_get(&w, &g);
	assert_int_equal(call(WIRE_MAP_GET, &w), 0);
	map_init(&m);
	assert_int_equal(wire_dec_map(wire_payload(P), H.payload_len, &m), 0);
	assert_int_equal(m.epoch, e);
	assert_memory_equal(m.cluster_id, M->cluster_id, 16);
	assert_int_equal(map_count_osds(&m, -1, -1), 2);
	assert_int_equal(m.n_pools, 1);
	assert_int_equal(m.pools[0].k, 4);
	assert_int_equal(m.pools[0].m, 2);
	assert_int_equal(m.pools[0].min_size, 5);
	assert_int_equal(m.pools[0].pg_num, 64);
	assert_string_equal(m.pools[0].name, "data");
	map_free(&m);
	wbuf_free(&w);
	/* Current: empty payload. */
	g.have_epoch = e;
	wbuf_init(&w);
	wire_enc_map_get(&w, &g);
	assert_int_equal(call(WIRE_MAP_GET, &w), 0);
	assert_int_equal(H.payload_len, 0);
	wbuf_free(&w);
	/* Restart: same map and epoch; OSDs marked up get a fresh grace. */
	mds_close(M);
	open_mds();
	assert_int_equal(mds_epoch(M), e);
	assert_true(osd(0)->up);
	assert_false(osd(1)->up);
	t = now_ms();
	M->fake_now_ms = t + 4000;
	assert_int_equal(mds_tick(M), 0);
	assert_true(osd(0)->up);
	assert_int_equal(mds_epoch(M), e);
	assert_int_equal(heartbeat(0, 0, 0), 0);
	M->fake_now_ms = t + 8000;
	assert_int_equal(mds_tick(M), 0);
	assert_true(osd(0)->up);
	M->fake_now_ms = t + 9100;
	assert_int_equal(mds_tick(M), 0);
	assert_false(osd(0)->up);
	/* A stored operator flag survives too. */
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 0, 0), 0);
	mds_close(M);
	open_mds();
	assert_true(M->om.rt[0].flags & MDS_OSD_F_ADMIN_OUT);
	assert_int_equal(boot(1, "h1", NULL, NULL), 0);
	assert_false(osd(0)->in);
}

/* The map MAP_GET returns. */
static void map_get(struct store_map *m)
{
	struct wire_map_get g = { 0 };
	struct wbuf w;

	wbuf_init(&w);
	wire_enc_map_get(&w, &g);
	assert_int_equal(call(WIRE_MAP_GET, &w), 0);
	wbuf_free(&w);
	map_init(m);
	assert_int_equal(wire_dec_map(wire_payload(P), H.payload_len, m), 0);
}

/* Placement overrides through the MDS: a 7th host on 6 (4 + 2) makes
 * them, they are published and persist across a restart; out and rm of
 * the new OSD recompute them without it and every epoch's map is valid. */
static void test_upmaps(void **state)
{
	struct store_map m;
	char host[16];
	uint32_t n;

	(void)state;
	for (int i = 0; i < 6; i++) {
		snprintf(host, sizeof(host), "host%d", i);
		assert_int_equal(boot(i, host, NULL, NULL), 0);
	}
	/* (The 6th OSD filled the empty position of every PG and kept the
	 * other five where they were: some overrides already.) */
	assert_int_equal(map_check(&M->om.map), 0);
	assert_int_equal(boot(6, "host6", NULL, NULL), 0);
	n = M->om.map.n_upmaps;
	assert_true(n > 0 && n <= 64);
	assert_int_equal(map_check(&M->om.map), 0);
	/* Published: MAP_GET carries them. */
	map_get(&m);
	assert_int_equal(m.n_upmaps, n);
	assert_memory_equal(m.upmaps, M->om.map.upmaps,
			    n * sizeof(*m.upmaps));
	map_free(&m);
	/* An epoch that changes no placement (down) keeps them. */
	assert_int_equal(osd_cmd(WIRE_OSD_DOWN, 2, 0), 0);
	assert_int_equal(M->om.map.n_upmaps, n);
	/* Persisted. */
	mds_close(M);
	open_mds();
	assert_int_equal(M->om.map.n_upmaps, n);
	map_get(&m);
	assert_memory_equal(m.upmaps, M->om.map.upmaps,
			    n * sizeof(*m.upmaps));
	map_free(&m);
	/* osd.6 out, down, removed (once the others report clean): no
	 * override names it any more. */
	assert_int_equal(heartbeat(2, 0, 0), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 6, 0), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_DOWN, 6, 0), 0);
	all_clean();
	assert_int_equal(osd_cmd(WIRE_OSD_RM, 6, 0), 0);
	assert_null(map_osd(&M->om.map, 6));
	assert_int_equal(map_check(&M->om.map), 0);
	for (uint32_t i = 0; i < M->om.map.n_upmaps; i++)
		for (int j = 0; j < 6; j++)
			assert_int_not_equal(M->om.map.upmaps[i].osds[j], 6);
	mds_close(M);
	open_mds();
	assert_int_equal(map_check(&M->om.map), 0);
}

/* Objects: files with n objects each, committed through the dispatcher. */
static void make_objects(int files, int per_file)
{
	for (int f = 0; f < files; f++) {
		struct wire_ns_req *q = calloc(1, sizeof(*q));
		struct wire_ns_reply r;
		struct wbuf w, objs;

		q->ino = 1;
		q->mode = S_IFREG | 0644;
		snprintf(q->name, sizeof(q->name), "f%d", f);
		wbuf_init(&w);
		wire_enc_ns_req(&w, WIRE_CREATE, q);
		assert_int_equal(call(WIRE_CREATE, &w), 0);
		wbuf_free(&w);
		assert_int_equal(wire_dec_ns_reply(WIRE_CREATE, wire_payload(P),
						   H.payload_len, &r), 0);
		memset(q, 0, sizeof(*q));
		q->ino = r.attr.ino;
		wbuf_init(&objs);
		for (int i = 0; i < per_file; i++) {
			struct wire_obj o = { (uint64_t)i, 1, 100 };

			wire_enc_obj(&objs, &o);
		}
		q->n_objs = (uint32_t)per_file;
		wire_ns_set_list(&q->objs, &objs);
		wbuf_init(&w);
		wire_enc_ns_req(&w, WIRE_COMMIT, q);
		assert_int_equal(call(WIRE_COMMIT, &w), 0);
		wbuf_free(&w);
		wbuf_free(&objs);
		free(q);
	}
}

/* Degraded / unfound counts computed here from the map and its placement
 * (CRUSH and the map's overrides: pg_set()). */
static void expect(int files, int per_file, uint64_t *degraded,
		   uint64_t *unfound)
{
	const struct map_pool *p = map_pool(&M->om.map, 1);
	struct crush_tree *t;

	*degraded = *unfound = 0;
	assert_int_equal(crush_build(&M->om.map, &t), 0);
	for (int f = 0; f < files; f++) {
		char name[16];
		uint64_t ino;

		/* Inodes are given out in order from 2. */
		snprintf(name, sizeof(name), "f%d", f);
		ino = 2 + (uint64_t)f;
		for (int i = 0; i < per_file; i++) {
			uint32_t set[STORE_EC_MAX_SHARDS], pg;
			int up = 0;

			pg = crush_object_pg(p, ino, (uint64_t)i);
			assert_true(pg_set(t, &M->om.map, p, pg, set) >= 0);
			for (int j = 0; j < p->k + p->m; j++)
				up += set[j] != CRUSH_NONE &&
				      map_osd(&M->om.map, set[j])->up;
			*degraded += up < p->k + p->m;
			*unfound += up < p->k;
		}
	}
	crush_free(t);
}

static void test_status(void **state)
{
	enum { FILES = 20, PER = 10, OSDS = 8 };
	struct wire_status st;
	uint64_t deg, unf;
	char host[16];

	(void)state;
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_ERR);
	assert_non_null(strstr(st.summary, "no OSDs"));
	assert_int_equal(st.files, 1);
	for (int i = 0; i < OSDS; i++) {
		snprintf(host, sizeof(host), "host%d", i);
		assert_int_equal(boot(i, host, NULL, NULL), 0);
	}
	make_objects(FILES, PER);
	/* Nobody has checked its PGs at this epoch yet. */
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_WARN);
	assert_true(st.osds_checking > 0);
	assert_non_null(strstr(st.summary, "checking"));
	/* A pass at an older epoch does not count. */
	for (int i = 0; i < OSDS; i++)
		assert_int_equal(report(i, mds_epoch(M) - 1, 0, 0, 0, 0, 9), 0);
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_WARN);
	all_clean();
	status(&st);
	assert_int_equal(st.osds_checking, 0);
	assert_int_equal(st.n_osd_stats, OSDS);
	assert_int_equal(st.shards_moved, 3 * OSDS);
	assert_int_equal(st.health, WIRE_HEALTH_OK);
	assert_string_equal(st.summary, "");
	assert_int_equal(st.osds_total, OSDS);
	assert_int_equal(st.osds_up, OSDS);
	assert_int_equal(st.osds_in, OSDS);
	assert_int_equal(st.objects_total, FILES * PER);
	assert_int_equal(st.objects_degraded, 0);
	assert_int_equal(st.files, 1 + FILES);
	assert_int_equal(st.bytes_total, OSDS * (1000ull << 30));
	assert_int_equal(st.bytes_used, OSDS * (10ull << 30));
	/* One OSD down: the objects of its PGs are degraded. */
	assert_int_equal(osd_cmd(WIRE_OSD_DOWN, 3, 0), 0);
	status(&st);
	expect(FILES, PER, &deg, &unf);
	assert_int_equal(st.health, WIRE_HEALTH_WARN);
	assert_true(deg > 0 && deg < FILES * PER);
	assert_int_equal(st.objects_degraded, deg);
	assert_int_equal(st.objects_unfound, 0);
	assert_int_equal(st.osds_up, OSDS - 1);
	assert_non_null(strstr(st.summary, "1 osds down"));
	assert_non_null(strstr(st.summary, "degraded"));
	/* Three down (m = 2): PGs holding all three are unfound. */
	assert_int_equal(osd_cmd(WIRE_OSD_DOWN, 5, 0), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_DOWN, 6, 0), 0);
	status(&st);
	expect(FILES, PER, &deg, &unf);
	assert_int_equal(st.objects_degraded, deg);
	assert_int_equal(st.objects_unfound, unf);
	assert_true(unf > 0);
	assert_int_equal(st.health, WIRE_HEALTH_ERR);
	assert_non_null(strstr(st.summary, "unfound"));
	/* Marked out, their positions move to up OSDs: with 5 hosts left
	 * for 6 positions every PG keeps one empty position (degraded) but
	 * none is unfound. */
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 3, 0), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 5, 0), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 6, 0), 0);
	status(&st);
	expect(FILES, PER, &deg, &unf);
	assert_int_equal(st.objects_degraded, deg);
	assert_int_equal(st.objects_unfound, 0);
	assert_int_equal(st.health, WIRE_HEALTH_WARN);
	assert_int_equal(st.bytes_total, (OSDS - 3) * (1000ull << 30));
	/* Back up and in: OK again once the primaries have checked.  What
	 * they report shows: misplaced objects, bytes left, unfound. */
	for (uint32_t i = 3; i <= 6; i++) {
		if (i == 4)
			continue;
		assert_int_equal(osd_cmd(WIRE_OSD_IN, i, 0), 0);
		assert_int_equal(heartbeat(i, 10ull << 30, 0), 0);
	}
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_WARN);
	all_clean();
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_OK);
	assert_int_equal(report(0, mds_epoch(M), 0, 17, 0, 5ull << 20, 9), 0);
	status(&st);
	assert_int_equal(st.objects_misplaced, 17);
	assert_int_equal(st.recovery_left, 5ull << 20);
	assert_int_equal(st.health, WIRE_HEALTH_WARN);
	assert_non_null(strstr(st.summary, "misplaced"));
	assert_int_equal(report(0, mds_epoch(M), 0, 0, 1, 0, 9), 0);
	status(&st);
	assert_int_equal(st.objects_unfound, 1);
	assert_int_equal(st.health, WIRE_HEALTH_ERR);
	all_clean();
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_OK);
	/* Down but out, with its data rebuilt elsewhere: OK. */
	assert_int_equal(osd_cmd(WIRE_OSD_DOWN, 7, 0), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 7, 0), 0);
	status(&st);
	assert_int_equal(st.osds_down_in, 0);
	assert_int_equal(st.health, WIRE_HEALTH_WARN); /* not checked yet */
	all_clean();
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_OK);
	assert_int_equal(st.osds_up, OSDS - 1);
	/* A disk at 85% is nearly full (WARN), at 84.9% not; a store that
	 * cannot allocate its next segment is full (ERR), whatever the
	 * ratio; both name the OSD and show in its per-OSD flags. */
	assert_int_equal(space_report(2, 150ull << 30, 0), 0);
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_WARN);
	assert_non_null(strstr(st.summary, "1 osd nearly full (osd.2)"));
	assert_int_equal(stat_flags(2) & WIRE_OSD_STAT_NEARFULL,
			 WIRE_OSD_STAT_NEARFULL);
	assert_int_equal(space_report(2, 151ull << 30, 0), 0);
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_OK);
	assert_int_equal(space_report(1, 400ull << 30, WIRE_HB_FULL), 0);
	assert_int_equal(space_report(2, 1ull << 30, 0), 0);
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_ERR);
	assert_non_null(strstr(st.summary, "1 osd full (osd.1)"));
	assert_non_null(strstr(st.summary, "1 osd nearly full (osd.2)"));
	assert_int_equal(stat_flags(1) & WIRE_OSD_STAT_FULL,
			 WIRE_OSD_STAT_FULL);
	assert_int_equal(stat_flags(1) & WIRE_OSD_STAT_NEARFULL, 0);
	/* Space freed: OK again. */
	assert_int_equal(space_report(1, 400ull << 30, 0), 0);
	assert_int_equal(space_report(2, 400ull << 30, 0), 0);
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_OK);
	assert_string_equal(st.summary, "");
	/* The MDS's own disk full (what write_phase records): ERR. */
	M->db.full = 1;
	M->db.refused = 3;
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_ERR);
	assert_non_null(strstr(st.summary, "the MDS's disk is full"));
	assert_non_null(strstr(st.summary, "(3 so far)"));
	M->db.full = 0;
	status(&st);
	assert_int_equal(st.health, WIRE_HEALTH_OK);
}

/* Boot osd.0 .. osd.n-1, each on a host of its own (h0, h1, ...). */
static void boot_hosts(int n)
{
	for (int i = 0; i < n; i++) {
		char host[8];

		snprintf(host, sizeof(host), "h%d", i);
		assert_int_equal(boot(i, host, NULL, NULL), 0);
	}
}

/* The MDS's STATFS reply, into *r. */
static void statfs_of(struct wire_ns_reply *r)
{
	assert_int_equal(call(WIRE_STATFS, NULL), 0);
	assert_int_equal(wire_dec_ns_reply(WIRE_STATFS, wire_payload(P),
					   H.payload_len, r), 0);
}

static void test_statfs_and_ping(void **state)
{
	struct wire_ns_reply r;
	struct wbuf w;

	(void)state;
	boot_hosts(3);
	statfs_of(&r);
	/* Usable space: raw x k / (k + m). */
	assert_int_equal(r.f_blocks, 3 * (1000ull << 30) * 4 / 6 / 4096);
	assert_int_equal(r.f_bfree, 3 * (990ull << 30) * 4 / 6 / 4096);
	assert_int_equal(r.f_files, 1);
	/* osd.1's disk holds other files too: its file system has 100 GiB
	 * left, less than capacity - used, and that bounds its room. */
	assert_int_equal(space_report(1, 100ull << 30, 0), 0);
	statfs_of(&r);
	assert_int_equal(r.f_blocks, 3 * (1000ull << 30) * 4 / 6 / 4096);
	assert_int_equal(r.f_bfree,
			 (2 * (990ull << 30) + (100ull << 30)) * 4 / 6 / 4096);
	wbuf_init(&w);
	wbuf_raw(&w, "echo me", 7);
	assert_int_equal(call(WIRE_PING, &w), 0);
	assert_int_equal(H.payload_len, 7);
	assert_memory_equal(wire_payload(P), "echo me", 7);
	wbuf_free(&w);
	assert_int_equal(call(WIRE_MAP_PUSH, NULL), -EOPNOTSUPP);
	assert_int_equal(call(60, NULL), -EOPNOTSUPP);
}

/* OSDs that share a file system (the same disk_id) count its size and
 * free bytes once in STATUS and STATFS; each store's used bytes still
 * add up; OSDs that could not tell (disk_id 0) or have not reported yet
 * count alone; an OSD taken out leaves its disk's group. */
static void test_shared_disks(void **state)
{
	struct wire_ns_reply r;
	struct wire_status st;

	(void)state;
	boot_hosts(6);
	/* osd.0-2 on disk 7: its free bytes sampled as 100, 90 and 95 GiB.
	 * osd.3 and osd.4 could not tell, 500 GiB free each.  osd.5 has not
	 * sent a heartbeat: capacity - used from its boot. */
	assert_int_equal(disk_report(0, 100ull << 30, 0, 7), 0);
	assert_int_equal(disk_report(1, 90ull << 30, 0, 7), 0);
	assert_int_equal(disk_report(2, 95ull << 30, 0, 7), 0);
	assert_int_equal(disk_report(3, 500ull << 30, 0, 0), 0);
	assert_int_equal(disk_report(4, 500ull << 30, 0, 0), 0);
	status(&st);
	assert_int_equal(st.bytes_total, 4 * (1000ull << 30));
	assert_int_equal(st.bytes_used, 6 * (10ull << 30));
	statfs_of(&r);
	assert_int_equal(r.f_blocks, 4 * (1000ull << 30) * 4 / 6 / 4096);
	assert_int_equal(r.f_bfree,
			 ((90ull << 30) + 2 * (500ull << 30) + (990ull << 30)) *
				 4 / 6 / 4096);
	/* Taken out, osd.1 and osd.2 leave the group: its free bytes are
	 * osd.0's sample, and their stores' bytes no longer count. */
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 1, 0), 0);
	assert_int_equal(osd_cmd(WIRE_OSD_OUT, 2, 0), 0);
	status(&st);
	assert_int_equal(st.bytes_total, 4 * (1000ull << 30));
	assert_int_equal(st.bytes_used, 4 * (10ull << 30));
	statfs_of(&r);
	assert_int_equal(r.f_bfree,
			 ((100ull << 30) + 2 * (500ull << 30) + (990ull << 30)) *
				 4 / 6 / 4096);
	/* Two disks, not one, once osd.3 and osd.4 tell theirs apart. */
	assert_int_equal(disk_report(3, 500ull << 30, 0, 8), 0);
	assert_int_equal(disk_report(4, 400ull << 30, 0, 9), 0);
	status(&st);
	assert_int_equal(st.bytes_total, 4 * (1000ull << 30));
	assert_int_equal(disk_report(4, 400ull << 30, 0, 8), 0);
	status(&st);
	assert_int_equal(st.bytes_total, 3 * (1000ull << 30));
	statfs_of(&r);
	assert_int_equal(r.f_bfree,
			 ((100ull << 30) + (400ull << 30) + (990ull << 30)) *
				 4 / 6 / 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_boot_and_ids, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_heartbeats_down_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_osd_cmds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_get_and_persistence,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upmaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statfs_and_ping, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shared_disks, setup,
						teardown),
	};

	log_init("test_mds_map", LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
