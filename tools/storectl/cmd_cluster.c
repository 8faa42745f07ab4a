/*
 * cmd_cluster.c -- storectl df, status and osd.
 */
#include "client_rec.h"
#include "storectl.h"
#include "util.h"
#include "wire_mon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *health_name(unsigned h)
{
	return h == WIRE_HEALTH_OK ? "HEALTH_OK" :
	       h == WIRE_HEALTH_WARN ? "HEALTH_WARN" : "HEALTH_ERR";
}

/* One row of df: SIZE `total`, USED `stored` (the store's own bytes),
 * AVAIL `avail` and USE% how full the disks are, (total - avail) / total,
 * as Ceph's df counts raw use: whatever the cluster cannot write to
 * (other files on the disks, root's reserve) counts there. */
static void df_row(const char *label, uint64_t total, uint64_t stored,
		   uint64_t avail, uint64_t files)
{
	char size[32], used[32], room[32];

	avail = MIN(avail, total);
	printf("%-14s %12s %12s %12s %4.0f%% %10llu\n", label,
	       fmt_bytes(total, size, sizeof(size)),
	       fmt_bytes(stored, used, sizeof(used)),
	       fmt_bytes(avail, room, sizeof(room)),
	       total ? 100.0 * (double)(total - avail) / (double)total : 0.0,
	       (unsigned long long)files);
}

/* k / (k + m) of x, without overflow. */
static uint64_t df_scale(uint64_t x, unsigned k, unsigned n)
{
	return (uint64_t)((unsigned __int128)x * k / n);
}

/* df: two rows.  "raw" is the in OSDs' disks with parity counted: SIZE
 * and USED as STATUS and osd df count them.  "usable K+M" is what files
 * can take, as the MDS's STATFS reports it (what a mount's df shows):
 * raw scaled by k / (k + m), each OSD's room bounded by its file system's
 * free bytes.  The raw row's AVAIL is that room at its raw cost.  Without
 * STATUS (refused, say) only the usable row prints, with USED unknown
 * shown as SIZE - AVAIL. */
int cmd_df(int argc, char **argv)
{
	uint64_t total, avail, stored;
	struct store_statfs st;
	struct wire_status s;
	struct store_map m;
	char label[32] = "usable";
	unsigned k = 1, n = 1;
	int have_status, rc;

	(void)argv;
	if (argc != 1)
		return ctl_error("usage: df");
	rc = store_statfs(ctl_client(), &st);
	if (rc)
		return ctl_lib_error(rc, "df");
	map_init(&m);
	if (store_get_map(ctl_client(), &m) == 0) {
		const struct map_pool *p = map_pool(&m, 1);

		if (p) {
			snprintf(label, sizeof(label), "usable %u+%u", p->k,
				 p->m);
			k = p->k;
			n = p->k + p->m;
		}
	}
	map_free(&m);
	total = st.blocks * 4096;
	avail = MIN(st.bfree * 4096, total);
	have_status = store_status(ctl_client(), &s) == 0;
	printf("%-14s %12s %12s %12s %5s %10s\n", "CLUSTER", "SIZE", "USED",
	       "AVAIL", "USE%", "FILES");
	if (have_status) {
		df_row("raw", s.bytes_total, s.bytes_used,
		       df_scale(avail, n, k), s.files);
		stored = df_scale(s.bytes_used, k, n);
	} else {
		stored = total - avail;
	}
	df_row(label, total, stored, avail, st.files);
	return 0;
}

/* Print a JSON string (for the one free-form field, the summary). */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* status --json: the summary, the recovery counters and one entry per
 * OSD (what its last heartbeat said), for scripts and the tests. */
static int status_json(void)
{
	static struct wire_osd_stat osds[STORE_MAX_OSDS];
	struct wire_status s;
	uint32_t n = 0, full = 0, nearfull = 0;
	int rc;

	rc = store_status_osds(ctl_client(), &s, osds, STORE_MAX_OSDS, &n);
	if (rc)
		return ctl_lib_error(rc, "status");
	for (uint32_t i = 0; i < n && i < STORE_MAX_OSDS; i++) {
		full += !!(osds[i].flags & WIRE_OSD_STAT_FULL);
		nearfull += !!(osds[i].flags & WIRE_OSD_STAT_NEARFULL);
	}
	printf("{\"health\": \"%s\", \"epoch\": %llu, "
	       "\"osds\": {\"total\": %u, \"up\": %u, \"in\": %u, "
	       "\"down_in\": %u, \"checking\": %u, \"full\": %u, "
	       "\"nearfull\": %u}, "
	       "\"objects\": {\"total\": %llu, \"degraded\": %llu, "
	       "\"misplaced\": %llu, \"unfound\": %llu}, "
	       "\"bytes\": {\"total\": %llu, \"used\": %llu}, "
	       "\"files\": %llu, "
	       "\"recovery\": {\"bytes_per_s\": %llu, \"bytes_left\": %llu, "
	       "\"shards_recovered\": %llu, \"shards_moved\": %llu, "
	       "\"shards_gc\": %llu, \"scrub_errors\": %llu}, ",
	       health_name(s.health), (unsigned long long)s.epoch,
	       s.osds_total, s.osds_up, s.osds_in, s.osds_down_in,
	       s.osds_checking, full, nearfull,
	       (unsigned long long)s.objects_total,
	       (unsigned long long)s.objects_degraded,
	       (unsigned long long)s.objects_misplaced,
	       (unsigned long long)s.objects_unfound,
	       (unsigned long long)s.bytes_total,
	       (unsigned long long)s.bytes_used,
	       (unsigned long long)s.files,
	       (unsigned long long)s.recovery_bps,
	       (unsigned long long)s.recovery_left,
	       (unsigned long long)s.shards_recovered,
	       (unsigned long long)s.shards_moved,
	       (unsigned long long)s.shards_gc,
	       (unsigned long long)s.scrub_errors);
	printf("\"osd_stats\": [");
	for (uint32_t i = 0; i < n && i < STORE_MAX_OSDS; i++) {
		const struct wire_osd_stat *o = &osds[i];

		printf("%s{\"id\": %u, \"up\": %s, \"in\": %s, "
		       "\"full\": %s, \"nearfull\": %s, \"pgs\": %u, \"shards\": %llu, \"used\": %llu, "
		       "\"pass_epoch\": %llu, \"degraded\": %llu, "
		       "\"misplaced\": %llu, \"unfound\": %llu, "
		       "\"bytes_left\": %llu, \"recovery_bytes\": %llu, "
		       "\"shards_recovered\": %llu, \"shards_moved\": %llu, "
		       "\"shards_gc\": %llu, \"scrub_errors\": %llu}",
		       i ? ", " : "", o->id,
		       (o->flags & WIRE_OSD_STAT_UP) ? "true" : "false",
		       (o->flags & WIRE_OSD_STAT_IN) ? "true" : "false",
		       (o->flags & WIRE_OSD_STAT_FULL) ? "true" : "false",
		       (o->flags & WIRE_OSD_STAT_NEARFULL) ? "true" : "false",
		       o->pgs, (unsigned long long)o->shards,
		       (unsigned long long)o->used,
		       (unsigned long long)o->pass_epoch,
		       (unsigned long long)o->degraded,
		       (unsigned long long)o->misplaced,
		       (unsigned long long)o->unfound,
		       (unsigned long long)o->bytes_left,
		       (unsigned long long)o->recovery_bytes,
		       (unsigned long long)o->shards_recovered,
		       (unsigned long long)o->shards_moved,
		       (unsigned long long)o->shards_gc,
		       (unsigned long long)o->scrub_errors);
	}
	printf("], \"summary\": ");
	json_str(s.summary);
	printf("}\n");
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct wire_status s;
	char used[32], total[32];
	int json = 0, rc;

	if (argc == 2 && !strcmp(argv[1], "--json"))
		json = 1;
	else if (argc != 1)
		return ctl_error("usage: status [--json]");
	if (json)
		return status_json();
	rc = store_status(ctl_client(), &s);
	if (rc)
		return ctl_lib_error(rc, "status");
	printf("  health:  %s%s%s\n", health_name(s.health),
	       s.summary[0] ? ": " : "", s.summary);
	printf("  map:     epoch %llu\n", (unsigned long long)s.epoch);
	printf("  osds:    %u total, %u up, %u in\n", s.osds_total, s.osds_up,
	       s.osds_in);
	printf("  objects: %llu total, %llu degraded, %llu misplaced, "
	       "%llu unfound\n",
	       (unsigned long long)s.objects_total,
	       (unsigned long long)s.objects_degraded,
	       (unsigned long long)s.objects_misplaced,
	       (unsigned long long)s.objects_unfound);
	printf("  files:   %llu\n", (unsigned long long)s.files);
	printf("  usage:   %s used of %s\n",
	       fmt_bytes(s.bytes_used, used, sizeof(used)),
	       fmt_bytes(s.bytes_total, total, sizeof(total)));
	if (s.recovery_left || s.recovery_bps) {
		double eta = s.recovery_bps ? (double)s.recovery_left /
						      (double)s.recovery_bps :
					      0;

		printf("  recovery: %.1f MB/s, %s left, ETA %d:%02d\n",
		       (double)s.recovery_bps / 1e6,
		       fmt_bytes(s.recovery_left, used, sizeof(used)),
		       (int)eta / 60, (int)eta % 60);
	}
	return 0;
}

static int host_cmp(const void *a, const void *b)
{
	const struct map_osd *x = *(const struct map_osd *const *)a;
	const struct map_osd *y = *(const struct map_osd *const *)b;
	int c = strcmp(x->host, y->host);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

static int osd_tree(const struct store_map *m)
{
	const struct map_osd **v = calloc(m->n_osds + 1, sizeof(*v));
	size_t n = 0;
	double total = 0;

	if (!v)
		return ctl_error("out of memory");
	for (uint32_t i = 0; i < m->n_osds; i++)
		if (m->osds[i].exists) {
			v[n++] = &m->osds[i];
			total += m->osds[i].weight;
		}
	qsort(v, n, sizeof(*v), host_cmp);
	printf("%-6s %-10s %-28s %-6s %-4s %s\n", "ID", "WEIGHT", "NAME",
	       "STATUS", "IN", "ADDRESS");
	printf("%-6s %-10.4f %-28s\n", "-", total, "root default");
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || strcmp(v[i]->host, v[i - 1]->host)) {
			double hw = 0;

			for (size_t j = i; j < n && !strcmp(v[j]->host,
							    v[i]->host); j++)
				hw += v[j]->weight;
			printf("%-6s %-10.4f     host %s\n", "-", hw,
			       v[i]->host);
		}
		printf("%-6u %-10.4f         osd.%-18u %-6s %-4s %s\n",
		       v[i]->id, v[i]->weight, v[i]->id,
		       v[i]->up ? "up" : "down", v[i]->in ? "in" : "out",
		       v[i]->addr);
	}
	free(v);
	return 0;
}

/* osd df: size and use from the map, and from STATUS whether each up OSD
 * is full or nearly full (left out if STATUS fails: the table still
 * prints). */
static int osd_df(const struct store_map *m)
{
	static struct wire_osd_stat stats[STORE_MAX_OSDS];
	uint8_t flags[STORE_MAX_OSDS] = { 0 };
	char cap[32], used[32];
	uint64_t tc = 0, tu = 0;
	struct wire_status s;
	uint32_t n = 0;
	int have_status;

	have_status = store_status_osds(ctl_client(), &s, stats,
					STORE_MAX_OSDS, &n) == 0;
	if (have_status)
		for (uint32_t i = 0; i < n && i < STORE_MAX_OSDS; i++)
			if (stats[i].id < STORE_MAX_OSDS)
				flags[stats[i].id] = stats[i].flags;
	printf("%-6s %-10s %12s %12s %6s %-11s %s\n", "ID", "WEIGHT", "SIZE",
	       "USED", "USE%", "STATUS", "HOST");
	for (uint32_t i = 0; i < m->n_osds; i++) {
		const struct map_osd *o = &m->osds[i];
		const char *state = o->up ? "up" : "down";

		if (!o->exists)
			continue;
		if (o->up && o->id < STORE_MAX_OSDS &&
		    (flags[o->id] & WIRE_OSD_STAT_FULL))
			state = "up,full";
		else if (o->up && o->id < STORE_MAX_OSDS &&
			 (flags[o->id] & WIRE_OSD_STAT_NEARFULL))
			state = "up,nearfull";
		tc += o->capacity;
		tu += o->used;
		printf("%-6u %-10.4f %12s %12s %5.1f%% %-11s %s\n", o->id,
		       o->weight, fmt_bytes(o->capacity, cap, sizeof(cap)),
		       fmt_bytes(o->used, used, sizeof(used)),
		       o->capacity ? 100.0 * (double)o->used /
					     (double)o->capacity : 0.0,
		       state, o->host);
	}
	/* TOTAL as status and df count it: the in OSDs, a file system that
	 * several of them share counted once (mds/space.h).  Only without
	 * STATUS, the sum of the rows. */
	if (have_status) {
		tc = s.bytes_total;
		tu = s.bytes_used;
	}
	printf("%-6s %-10s %12s %12s %5.1f%%\n", "TOTAL", "",
	       fmt_bytes(tc, cap, sizeof(cap)), fmt_bytes(tu, used, sizeof(used)),
	       tc ? 100.0 * (double)tu / (double)tc : 0.0);
	return 0;
}

static int parse_osd_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	if (!strncmp(s, "osd.", 4))
		s += 4;
	v = strtoul(s, &end, 10);
	if (!*s || *end || v >= STORE_MAX_OSDS)
		return -EINVAL;
	*id = (uint32_t)v;
	return 0;
}

int cmd_osd(int argc, char **argv)
{
	static const struct { const char *name; uint32_t op; } ops[] = {
		{ "out", WIRE_OSD_OUT }, { "in", WIRE_OSD_IN },
		{ "down", WIRE_OSD_DOWN }, { "rm", WIRE_OSD_RM },
	};
	struct store_map m;
	uint32_t id;
	int rc;

	if (argc < 2)
		return ctl_error("usage: osd tree|df|out ID|in ID|down ID|rm ID|"
				 "reweight ID WEIGHT");
	if (!strcmp(argv[1], "tree") || !strcmp(argv[1], "df")) {
		map_init(&m);
		rc = store_refresh_map(ctl_client());
		if (rc == 0)
			rc = store_get_map(ctl_client(), &m);
		if (rc)
			return ctl_lib_error(rc, "osd");
		rc = !strcmp(argv[1], "tree") ? osd_tree(&m) : osd_df(&m);
		map_free(&m);
		return rc;
	}
	if (!strcmp(argv[1], "reweight")) {
		char *end;
		double w;

		if (argc != 4 || parse_osd_id(argv[2], &id))
			return ctl_error("usage: osd reweight ID WEIGHT");
		w = strtod(argv[3], &end);
		if (*end || w < 0 || w > 65535)
			return ctl_error("bad weight '%s'", argv[3]);
		rc = store_osd_cmd(ctl_client(), WIRE_OSD_REWEIGHT, id, w);
		return rc ? ctl_lib_error(rc, argv[2]) : 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		if (strcmp(argv[1], ops[i].name))
			continue;
		if (argc != 3 || parse_osd_id(argv[2], &id))
			return ctl_error("usage: osd %s ID", ops[i].name);
		rc = store_osd_cmd(ctl_client(), ops[i].op, id, 0);
		if (rc)
			return ctl_lib_error(rc, argv[2]);
		printf("osd.%u marked %s\n", id, ops[i].name);
		return 0;
	}
	return ctl_error("unknown osd command '%s'", argv[1]);
}
