/*
 * crushsim -- placement simulator, in the spirit of `crushtool --test`.
 *
 * Builds a synthetic cluster map (H hosts of N OSDs, weights cycled over the
 * OSDs), places objects with the real placement code (common/crush.c) and
 * prints ONE JSON object: how evenly shards land relative to weight, whether
 * any object has two shards in one host, how many shards move when one OSD
 * is added (in a new host) or removed (marked out), against the ideal
 * w / W_total, and how many uncached PG -> OSD-set mappings one core
 * computes per second.  For an add or remove it also measures placement
 * with overrides (the `_upmap` fields: the MDS's rule of pg_upmap.h applied
 * to the old and new sets).  docs/placement.md quotes its figures.
 *
 *   crushsim --hosts 64 --osds-per-host 4 --weights 1,2,4 \
 *            --objects 1000000 --k 4 --m 2 --add 1
 *
 * Without --pg-num every object is its own placement input (the object's
 * hash is its PG), which measures CRUSH itself; with --pg-num P objects go
 * through stable_mod() into P PGs as in the real cluster, and balance is
 * then bounded by the PG count.
 */
#include "crush.h"
#include "hash.h"
#include "map.h"
#include "pg_upmap.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_WEIGHTS 64
/* Objects are held in memory with their k + m OSDs each: 20 M objects of
 * 4+2 is 480 MB, the most a simulation on a small machine should take. */
#define MAX_OBJECTS 20000000u
/* PGs: 2^24 is far past any pool's pg_num. */
#define MAX_PG_NUM (1u << 24)
/* Files of this many objects: (ino, objno) pairs like a real namespace. */
#define OBJS_PER_FILE 16
/* The timing loop runs at least this long (CPU time) for a stable rate. */
#define TIMING_NS 1000000000ull
#define TIMING_MIN 100000u

struct opts {
	uint32_t hosts, per_host, objects, pg_num, add, remove;
	uint8_t k, m, domain;
	uint32_t n_weights;
	double weights[MAX_WEIGHTS];
};

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "crushsim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: crushsim [options]\n"
		"  --hosts H          hosts in the map (default 64)\n"
		"  --osds-per-host N  OSDs per host (default 4)\n"
		"  --weights W,...    OSD weights, cycled over the OSDs\n"
		"                     (default 1)\n"
		"  --objects X        objects to place (default 100000)\n"
		"  --k K --m M        erasure profile (default 4 and 2)\n"
		"  --pg-num P         place objects through P PGs (default:\n"
		"                     every object is its own placement\n"
		"                     input)\n"
		"  --domain host|osd  failure domain (default host)\n"
		"  --add N            also measure adding N OSDs of the\n"
		"                     median weight, each in a new host\n"
		"  --remove N         also measure marking N OSDs out\n"
		"For --add and --remove the *_upmap fields give the same\n"
		"with placement overrides (docs/placement.md).\n"
		"Prints one JSON object on stdout.\n");
}

static uint32_t parse_u32(const char *opt, const char *s, uint32_t lo,
			  uint32_t hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
		die("%s wants a whole number from %u to %u, not \"%s\"", opt,
		    lo, hi, s);
	return (uint32_t)v;
}

static void parse_weights(struct opts *o, const char *s)
{
	const char *p = s;
	int positive = 0;

	o->n_weights = 0;
	for (;;) {
		char *end;
		double w;

		errno = 0;
		w = strtod(p, &end);
		if (errno || end == p || !isfinite(w) || w < 0 || w >= 65536)
			die("--weights wants numbers from 0 to 65535 "
			    "separated by commas, not \"%s\"", s);
		if (o->n_weights == MAX_WEIGHTS)
			die("--weights takes at most %d values", MAX_WEIGHTS);
		o->weights[o->n_weights++] = w;
		positive |= w > 0;
		if (!*end)
			break;
		if (*end != ',')
			die("--weights wants numbers separated by commas, not "
			    "\"%s\"", s);
		p = end + 1;
	}
	if (!positive)
		die("--weights needs at least one weight above 0");
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "hosts", required_argument, NULL, 'H' },
		{ "osds-per-host", required_argument, NULL, 'N' },
		{ "weights", required_argument, NULL, 'w' },
		{ "objects", required_argument, NULL, 'x' },
		{ "k", required_argument, NULL, 'k' },
		{ "m", required_argument, NULL, 'm' },
		{ "pg-num", required_argument, NULL, 'p' },
		{ "domain", required_argument, NULL, 'd' },
		{ "add", required_argument, NULL, 'a' },
		{ "remove", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .hosts = 64, .per_host = 4, .objects = 100000,
			    .k = 4, .m = 2, .domain = MAP_DOMAIN_HOST,
			    .n_weights = 1, .weights = { 1 } };
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'H':
			o->hosts = parse_u32("--hosts", optarg, 1,
					     STORE_MAX_OSDS);
			break;
		case 'N':
			o->per_host = parse_u32("--osds-per-host", optarg, 1,
						STORE_MAX_OSDS);
			break;
		case 'w':
			parse_weights(o, optarg);
			break;
		case 'x':
			o->objects = parse_u32("--objects", optarg, 1,
					       MAX_OBJECTS);
			break;
		case 'k':
			o->k = (uint8_t)parse_u32("--k", optarg, 1,
						  STORE_EC_MAX_K);
			break;
		case 'm':
			o->m = (uint8_t)parse_u32("--m", optarg, 1,
						  STORE_EC_MAX_M);
			break;
		case 'p':
			o->pg_num = parse_u32("--pg-num", optarg, 1,
					      MAX_PG_NUM);
			break;
		case 'd':
			if (!strcmp(optarg, "host"))
				o->domain = MAP_DOMAIN_HOST;
			else if (!strcmp(optarg, "osd"))
				o->domain = MAP_DOMAIN_OSD;
			else
				die("--domain is host or osd, not \"%s\"",
				    optarg);
			break;
		case 'a':
			o->add = parse_u32("--add", optarg, 0, STORE_MAX_OSDS);
			break;
		case 'r':
			o->remove = parse_u32("--remove", optarg, 0,
					      STORE_MAX_OSDS);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			die("option %s is unknown or lacks its value (see "
			    "--help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die("unexpected argument \"%s\" (see --help)", argv[optind]);
	if (o->k + o->m > STORE_EC_MAX_SHARDS)
		die("--k plus --m is at most %d", STORE_EC_MAX_SHARDS);
	if ((uint64_t)o->hosts * o->per_host + o->add > STORE_MAX_OSDS)
		die("hosts x osds-per-host + add is at most %d OSDs",
		    STORE_MAX_OSDS);
	{
		uint32_t n = o->hosts * o->per_host, holding = 0;

		for (uint32_t id = 0; id < n; id++)
			holding += o->weights[id % o->n_weights] > 0;
		if (o->remove >= holding)
			die("--remove %u would leave no OSD with a weight "
			    "above 0 (there are %u)", o->remove, holding);
	}
}

/* ---- the synthetic map --------------------------------------------------- */

static void fail_errno(const char *what, int err)
{
	die("%s failed: %s", what, strerror(err < 0 ? -err : err));
}

static struct map_osd *add_osd(struct store_map *m, uint32_t id,
			       const char *host, double w)
{
	struct map_osd *o = map_add_osd(m, id);

	if (!o)
		fail_errno("adding an OSD to the map", errno);
	o->up = o->in = 1;
	o->weight = w;
	snprintf(o->host, sizeof(o->host), "%s", host);
	snprintf(o->addr, sizeof(o->addr), "tcp://127.0.0.1:%u", 7000 + id);
	o->capacity = (uint64_t)(w * 1e12);
	return o;
}

static void build_map(const struct opts *o, struct store_map *m,
		      struct map_pool *pool)
{
	struct map_pool p = {
		.id = 1, .k = o->k, .m = o->m, .min_size = o->k,
		.domain = o->domain, .object_size = 4u << 20,
		/* Object mode maps inputs directly, pg_num is not used. */
		.pg_num = o->pg_num ? o->pg_num : 1,
	};

	map_init(m);
	m->epoch = 1;
	snprintf(p.name, sizeof(p.name), "sim");
	for (uint32_t h = 0; h < o->hosts; h++) {
		char name[32];

		snprintf(name, sizeof(name), "host%04u", h);
		for (uint32_t j = 0; j < o->per_host; j++) {
			uint32_t id = h * o->per_host + j;

			add_osd(m, id, name, o->weights[id % o->n_weights]);
		}
	}
	if (!map_add_pool(m, &p))
		fail_errno("adding the pool", errno);
	*pool = p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median OSD weight of the map (the weight an added OSD gets). */
static double median_weight(const struct store_map *m)
{
	double *w = calloc(m->n_osds, sizeof(*w)), med;

	if (!w)
		fail_errno("allocating", ENOMEM);
	for (uint32_t i = 0; i < m->n_osds; i++)
		w[i] = m->osds[i].weight;
	qsort(w, m->n_osds, sizeof(*w), cmp_double);
	med = w[m->n_osds / 2];
	free(w);
	return med;
}

/* Weight of the OSDs that receive data (in, weight > 0). */
static double usable_weight(const struct store_map *m)
{
	double w = 0;

	for (uint32_t i = 0; i < m->n_osds; i++)
		if (m->osds[i].exists && m->osds[i].in)
			w += m->osds[i].weight;
	return w;
}

/* ---- placing every object ------------------------------------------------ */

/* Where every object's shards are under one map. */
struct placement {
	uint32_t *sets;     /* objects x n OSDs (object mode) or pgs x n */
	uint32_t n_sets;
};

static struct crush_tree *tree_of(const struct store_map *m)
{
	struct crush_tree *t;
	int err = crush_build(m, &t);

	if (err)
		fail_errno("crush_build", err);
	return t;
}

/* The placement input of object i in object mode: its hash is its PG. */
static uint32_t object_input(const struct map_pool *p, uint32_t i)
{
	uint64_t ino = 0x1000 + i / OBJS_PER_FILE, objno = i % OBJS_PER_FILE;

	return crush_pg_input(p, (uint32_t)hash_object(ino, objno));
}

static uint32_t object_pg(const struct map_pool *p, uint32_t i)
{
	return crush_object_pg(p, 0x1000 + i / OBJS_PER_FILE,
			       i % OBJS_PER_FILE);
}

static void place(const struct opts *o, const struct store_map *m,
		  const struct map_pool *p, struct placement *pl)
{
	struct crush_tree *t = tree_of(m);
	uint32_t n = o->k + o->m;

	pl->n_sets = o->pg_num ? o->pg_num : o->objects;
	pl->sets = malloc((size_t)pl->n_sets * n * sizeof(*pl->sets));
	if (!pl->sets)
		fail_errno("allocating the placement", ENOMEM);
	for (uint32_t i = 0; i < pl->n_sets; i++) {
		uint32_t x = o->pg_num ? crush_pg_input(p, i)
				       : object_input(p, i);
		int r = crush_map_input(t, p, x, 0, pl->sets + (size_t)i * n);

		if (r < 0)
			fail_errno("crush_map_input", r);
	}
	crush_free(t);
}

/* Placement with overrides after a change: the MDS's rule (pg_upmap.h)
 * for every set, from the effective sets before the change (old), the
 * CRUSH sets before it (old_crush) and CRUSH's under the new map (crush).
 * Returns the number of sets that carry an override. */
static uint64_t place_upmap(const struct opts *o,
			    const struct store_map *before,
			    const struct store_map *m,
			    const struct map_pool *p,
			    const struct placement *old,
			    const struct placement *old_crush,
			    const struct placement *crush,
			    struct placement *out)
{
	struct pg_upmap_ctx c;
	uint32_t n = o->k + o->m;
	uint64_t overrides = 0;
	int err = pg_upmap_init(&c, before, m, p);

	if (err)
		fail_errno("pg_upmap_init", err);
	out->n_sets = crush->n_sets;
	out->sets = malloc((size_t)out->n_sets * n * sizeof(*out->sets));
	if (!out->sets)
		fail_errno("allocating the placement", ENOMEM);
	for (uint32_t i = 0; i < out->n_sets; i++) {
		size_t at = (size_t)i * n;

		overrides += pg_upmap_compute(&c, old->sets + at,
					      old_crush->sets + at,
					      crush->sets + at,
					      out->sets + at) == 1;
	}
	pg_upmap_free(&c);
	return overrides;
}

/* The k + m OSDs of object i. */
static const uint32_t *object_set(const struct opts *o,
				  const struct placement *pl,
				  const uint32_t *obj_pg, uint32_t i)
{
	uint32_t set = o->pg_num ? obj_pg[i] : i;

	return pl->sets + (size_t)set * (o->k + o->m);
}

/* ---- balance ------------------------------------------------------------- */

struct balance {
	uint64_t shards, unfilled, host_violations, zero_weight_shards;
	uint32_t max_per_host;
	double max_over_mean, min_over_mean, stddev, noise_sigma;
	uint32_t worst_osd;
};

/* One line of a per-class table: shards / expected over a class. */
struct klass {
	double weight, shards, expected, min, max;
	uint32_t members;
};

static struct klass *klass_of(struct klass *k, uint32_t *n, double w)
{
	for (uint32_t i = 0; i < *n; i++)
		if (k[i].weight == w)
			return &k[i];
	k[*n] = (struct klass){ .weight = w, .min = INFINITY,
				.max = -INFINITY };
	return &k[(*n)++];
}

static int cmp_klass(const void *a, const void *b)
{
	return cmp_double(&((const struct klass *)a)->weight,
			  &((const struct klass *)b)->weight);
}

static void print_klasses(const char *name, const char *members,
			  struct klass *k, uint32_t n)
{
	qsort(k, n, sizeof(*k), cmp_klass);
	printf("\"%s\":[", name);
	for (uint32_t i = 0; i < n; i++)
		printf("%s{\"weight\":%g,\"%s\":%u,\"mean\":%.4f,"
		       "\"min\":%.4f,\"max\":%.4f}",
		       i ? "," : "", k[i].weight, members, k[i].members,
		       k[i].shards / k[i].expected, k[i].min, k[i].max);
	printf("],");
}

static const char *host_of(const struct store_map *m, uint32_t osd)
{
	return m->osds[osd].host;
}

/* Counts shards per OSD and per host; prints the per-class tables when
 * print is set. */
static void balance(const struct opts *o, const struct store_map *m,
		    const struct placement *pl, const uint32_t *obj_pg,
		    struct balance *b, int print)
{
	uint32_t n = o->k + o->m, usable_hosts = 0;
	uint64_t *count = calloc(m->n_osds, sizeof(*count));
	double total_w = usable_weight(m), sum2 = 0;
	uint32_t n_ratio = 0;
	int distinct = o->domain == MAP_DOMAIN_HOST;
	struct klass *wk = calloc(m->n_osds + 1, sizeof(*wk));
	struct klass *hk = calloc(m->n_osds + 1, sizeof(*hk));
	uint32_t n_wk = 0, n_hk = 0;

	if (!count || !wk || !hk)
		fail_errno("allocating", ENOMEM);
	memset(b, 0, sizeof(*b));
	b->min_over_mean = INFINITY;
	/* Hosts of the synthetic map are runs of consecutive ids. */
	for (uint32_t i = 0, j; i < m->n_osds; i = j) {
		int usable = 0;

		for (j = i; j < m->n_osds &&
			    !strcmp(host_of(m, j), host_of(m, i)); j++)
			usable |= m->osds[j].exists && m->osds[j].in &&
				  m->osds[j].weight > 0;
		usable_hosts += usable;
	}
	distinct = distinct && usable_hosts >= n;
	for (uint32_t i = 0; i < o->objects; i++) {
		const uint32_t *set = object_set(o, pl, obj_pg, i);
		uint32_t worst = 1;

		for (uint32_t s = 0; s < n; s++) {
			uint32_t same = 1;

			if (set[s] == CRUSH_NONE) {
				b->unfilled++;
				continue;
			}
			count[set[s]]++;
			b->shards++;
			for (uint32_t q = 0; q < s; q++)
				same += set[q] != CRUSH_NONE &&
					!strcmp(host_of(m, set[q]),
						host_of(m, set[s]));
			worst = MAX(worst, same);
		}
		b->max_per_host = MAX(b->max_per_host, worst);
		if (distinct && worst > 1)
			b->host_violations++;
	}
	b->max_over_mean = 0;
	for (uint32_t i = 0; i < m->n_osds; i++) {
		const struct map_osd *d = &m->osds[i];
		double expect, ratio, noise;
		struct klass *k;

		if (!d->exists)
			continue;
		if (!d->in || d->weight <= 0) {
			if (d->weight <= 0)
				b->zero_weight_shards += count[i];
			continue;
		}
		expect = (double)b->shards * d->weight / total_w;
		ratio = count[i] / expect;
		/* Sampling noise: independent placements are PGs, not
		 * objects, when objects go through PGs. */
		noise = 1 / sqrt((double)pl->n_sets * n * d->weight / total_w);
		b->noise_sigma = MAX(b->noise_sigma, noise);
		if (ratio > b->max_over_mean) {
			b->max_over_mean = ratio;
			b->worst_osd = i;
		}
		b->min_over_mean = MIN(b->min_over_mean, ratio);
		sum2 += (ratio - 1) * (ratio - 1);
		n_ratio++;
		k = klass_of(wk, &n_wk, d->weight);
		k->members++;
		k->shards += count[i];
		k->expected += expect;
		k->min = MIN(k->min, ratio);
		k->max = MAX(k->max, ratio);
	}
	b->stddev = n_ratio ? sqrt(sum2 / n_ratio) : 0;
	/* Per host weight: where straw2 under the distinct-host rule leaves
	 * heavy hosts short (docs/placement.md). */
	for (uint32_t i = 0; i < m->n_osds;) {
		double hw = 0, hs = 0, he;
		uint32_t j = i;
		struct klass *k;

		for (; j < m->n_osds && !strcmp(host_of(m, j), host_of(m, i));
		     j++) {
			if (m->osds[j].exists && m->osds[j].in) {
				hw += m->osds[j].weight;
				hs += count[j];
			}
		}
		i = j;
		if (hw <= 0)
			continue;
		he = (double)b->shards * hw / total_w;
		k = klass_of(hk, &n_hk, hw);
		k->members++;
		k->shards += hs;
		k->expected += he;
		k->min = MIN(k->min, hs / he);
		k->max = MAX(k->max, hs / he);
	}
	if (print) {
		print_klasses("by_weight", "osds", wk, n_wk);
		print_klasses("by_host_weight", "hosts", hk, n_hk);
	}
	free(hk);
	free(wk);
	free(count);
}

/* ---- movement ------------------------------------------------------------ */

struct movement {
	uint64_t moved, total, moved_elsewhere;
};

/* Shards whose OSD differs between two placements of the same objects.
 * moved_elsewhere counts the moves not explained by the change itself:
 * for an add, moves to an OSD that is not new; for a remove, moves of
 * shards that were not on a removed OSD. */
static void movement(const struct opts *o, const struct placement *a,
		     const struct placement *b, const uint32_t *obj_pg,
		     const uint8_t *changed, struct movement *mv)
{
	uint32_t n = o->k + o->m;

	memset(mv, 0, sizeof(*mv));
	for (uint32_t i = 0; i < o->objects; i++) {
		const uint32_t *sa = object_set(o, a, obj_pg, i);
		const uint32_t *sb = object_set(o, b, obj_pg, i);

		for (uint32_t s = 0; s < n; s++) {
			mv->total++;
			if (sa[s] == sb[s])
				continue;
			mv->moved++;
			if (!((sa[s] != CRUSH_NONE && changed[sa[s]]) ||
			      (sb[s] != CRUSH_NONE && changed[sb[s]])))
				mv->moved_elsewhere++;
		}
	}
}

static void print_balance(const struct balance *b)
{
	if (!isfinite(b->min_over_mean)) {
		printf("\"max_over_mean\":null,\"min_over_mean\":null,"
		       "\"unfilled_positions\":%llu",
		       (unsigned long long)b->unfilled);
		return;
	}
	printf("\"max_over_mean\":%.4f,\"min_over_mean\":%.4f,"
	       "\"stddev\":%.4f,\"unfilled_positions\":%llu,"
	       "\"host_violations\":%llu",
	       b->max_over_mean, b->min_over_mean, b->stddev,
	       (unsigned long long)b->unfilled,
	       (unsigned long long)b->host_violations);
}

static void print_movement(const struct movement *mv, double ideal)
{
	double f = (double)mv->moved / mv->total;

	printf("\"moved_fraction\":%.6f,\"ideal_fraction\":%.6f,", f, ideal);
	if (ideal > 0)
		printf("\"moved_over_ideal\":%.4f,", f / ideal);
	else
		printf("\"moved_over_ideal\":null,");
	printf("\"moved_elsewhere_fraction\":%.6f",
	       (double)mv->moved_elsewhere / mv->total);
}

/* The _upmap fields of one change: movement against the placement before
 * it, balance, and how many sets carry an override. */
static void print_upmap(const struct movement *mv, double ideal,
			const struct balance *b, uint64_t overrides,
			uint32_t n_sets)
{
	double f = (double)mv->moved / mv->total;

	printf("\"moved_fraction_upmap\":%.6f,", f);
	if (ideal > 0)
		printf("\"moved_over_ideal_upmap\":%.4f,", f / ideal);
	else
		printf("\"moved_over_ideal_upmap\":null,");
	printf("\"moved_elsewhere_fraction_upmap\":%.6f,",
	       (double)mv->moved_elsewhere / mv->total);
	if (isfinite(b->min_over_mean))
		printf("\"max_over_mean_upmap\":%.4f,"
		       "\"min_over_mean_upmap\":%.4f,",
		       b->max_over_mean, b->min_over_mean);
	else
		printf("\"max_over_mean_upmap\":null,"
		       "\"min_over_mean_upmap\":null,");
	printf("\"unfilled_positions_upmap\":%llu,"
	       "\"host_violations_upmap\":%llu,"
	       "\"overrides\":%llu,\"override_fraction\":%.4f",
	       (unsigned long long)b->unfilled,
	       (unsigned long long)b->host_violations,
	       (unsigned long long)overrides, (double)overrides / n_sets);
}

/* The top-level _upmap fields (one change only): movement. */
static void print_upmap_top(const struct movement *mv, double ideal)
{
	double f = (double)mv->moved / mv->total;

	printf(",\"moved_fraction_upmap\":%.6f,", f);
	if (ideal > 0)
		printf("\"moved_over_ideal_upmap\":%.4f", f / ideal);
	else
		printf("\"moved_over_ideal_upmap\":null");
}

/* ---- timing -------------------------------------------------------------- */

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Uncached PG -> OSD-set mappings per second of this thread's CPU time
 * (the process is single-threaded: one core), over distinct PGs so no
 * cache could help. */
static double mapping_rate(const struct store_map *m,
			   const struct map_pool *p)
{
	struct crush_tree *t = tree_of(m);
	uint32_t set[STORE_EC_MAX_SHARDS], done = 0;
	uint64_t t0 = cpu_ns(), dt;
	volatile uint32_t sink = 0;

	do {
		for (uint32_t i = 0; i < 10000; i++, done++) {
			if (crush_map_input(t, p, crush_pg_input(p, done), 0,
					    set) < 0)
				fail_errno("crush_map_input", EINVAL);
			sink += set[0];
		}
		dt = cpu_ns() - t0;
	} while (dt < TIMING_NS || done < TIMING_MIN);
	crush_free(t);
	(void)sink;
	return done / (dt / 1e9);
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct opts o;
	struct store_map base, next, mid;
	struct map_pool pool;
	struct placement pb, pn, pu;
	struct balance b, bu;
	struct movement mv, mu;
	uint64_t ovr;
	uint32_t *obj_pg = NULL, n_osds;
	uint8_t *changed;
	double rate, total_w;
	int one_change;

	parse_args(&o, argc, argv);
	build_map(&o, &base, &pool);
	n_osds = base.n_osds;
	total_w = usable_weight(&base);
	changed = calloc(STORE_MAX_OSDS, 1);
	if (!changed)
		fail_errno("allocating", ENOMEM);
	if (o.pg_num) {
		obj_pg = malloc((size_t)o.objects * sizeof(*obj_pg));
		if (!obj_pg)
			fail_errno("allocating", ENOMEM);
		for (uint32_t i = 0; i < o.objects; i++)
			obj_pg[i] = object_pg(&pool, i);
	}
	place(&o, &base, &pool, &pb);
	rate = mapping_rate(&base, &pool);

	printf("{\"hosts\":%u,\"osds_per_host\":%u,\"osds\":%u,\"weights\":[",
	       o.hosts, o.per_host, n_osds);
	for (uint32_t i = 0; i < o.n_weights; i++)
		printf("%s%g", i ? "," : "", o.weights[i]);
	printf("],\"total_weight\":%.4f,\"objects\":%u,\"k\":%u,\"m\":%u,",
	       total_w, o.objects, o.k, o.m);
	if (o.pg_num)
		printf("\"pg_num\":%u,", o.pg_num);
	else
		printf("\"pg_num\":null,");
	printf("\"domain\":\"%s\",", o.domain == MAP_DOMAIN_HOST ? "host"
								 : "osd");
	balance(&o, &base, &pb, obj_pg, &b, 1);
	printf("\"shards\":%llu,", (unsigned long long)b.shards);
	print_balance(&b);
	printf(",\"max_shards_per_host\":%u,\"zero_weight_shards\":%llu,"
	       "\"worst_osd\":%u,\"noise_sigma\":%.4f,"
	       "\"mappings_per_s\":%.0f",
	       b.max_per_host, (unsigned long long)b.zero_weight_shards,
	       b.worst_osd, b.noise_sigma, rate);

	one_change = !!o.add + !!o.remove == 1;
	if (o.add) {
		double w = median_weight(&base), ideal;

		map_init(&next);
		if (map_copy(&next, &base))
			fail_errno("copying the map", ENOMEM);
		next.epoch++;
		for (uint32_t i = 0; i < o.add; i++) {
			char name[32];

			snprintf(name, sizeof(name), "newhost%04u", i);
			add_osd(&next, n_osds + i, name, w);
			changed[n_osds + i] = 1;
		}
		ideal = w * o.add / (total_w + w * o.add);
		place(&o, &next, &pool, &pn);
		movement(&o, &pb, &pn, obj_pg, changed, &mv);
		printf(",\"add\":{\"osds\":%u,\"weight\":%g,", o.add, w);
		print_movement(&mv, ideal);
		printf(",");
		balance(&o, &next, &pn, obj_pg, &b, 0);
		print_balance(&b);
		/* With overrides: before the add nothing had one. */
		ovr = place_upmap(&o, &base, &next, &pool, &pb, &pb, &pn, &pu);
		movement(&o, &pb, &pu, obj_pg, changed, &mu);
		balance(&o, &next, &pu, obj_pg, &bu, 0);
		printf(",");
		print_upmap(&mu, ideal, &bu, ovr, pu.n_sets);
		printf("}");
		if (one_change) {
			printf(",");
			print_movement(&mv, ideal);
			print_upmap_top(&mu, ideal);
		}
		free(pu.sets);
		free(pn.sets);
		map_free(&next);
		memset(changed, 0, STORE_MAX_OSDS);
	}
	if (o.remove) {
		struct placement pp;
		struct movement mp;
		double w = 0, ideal;

		map_init(&next);
		if (map_copy(&next, &base))
			fail_errno("copying the map", ENOMEM);
		next.epoch++;
		printf(",\"remove\":{\"osd_ids\":[");
		for (uint32_t i = 0; i < o.remove; i++) {
			/* Evenly spread, starting mid-map; the next OSD
			 * that holds data (weight > 0, not yet picked). */
			uint32_t id = (uint32_t)((2ull * i + 1) * n_osds /
						 (2ull * o.remove));

			for (uint32_t tries = 0;
			     tries < n_osds && (!next.osds[id].in ||
						next.osds[id].weight <= 0);
			     tries++)
				id = (id + 1) % n_osds;
			if (!next.osds[id].in || next.osds[id].weight <= 0)
				die("--remove %u: not enough OSDs with a "
				    "weight above 0", o.remove);
			next.osds[id].in = 0;
			changed[id] = 1;
			w += next.osds[id].weight;
			printf("%s%u", i ? "," : "", id);
		}
		ideal = w / total_w;
		place(&o, &next, &pool, &pn);
		movement(&o, &pb, &pn, obj_pg, changed, &mv);
		printf("],\"weight\":%g,", w);
		print_movement(&mv, ideal);
		printf(",");
		balance(&o, &next, &pn, obj_pg, &b, 0);
		print_balance(&b);
		ovr = place_upmap(&o, &base, &next, &pool, &pb, &pb, &pn, &pu);
		movement(&o, &pb, &pu, obj_pg, changed, &mu);
		balance(&o, &next, &pu, obj_pg, &bu, 0);
		printf(",");
		print_upmap(&mu, ideal, &bu, ovr, pu.n_sets);

		/* Then deleting the out OSDs from the map: their weight
		 * leaves their hosts, which moves data between hosts a
		 * second time (ideal: nothing). */
		map_init(&mid);
		if (map_copy(&mid, &next))
			fail_errno("copying the map", ENOMEM);
		next.epoch++;
		for (uint32_t i = 0; i < next.n_osds; i++)
			if (changed[i])
				next.osds[i].exists = 0;
		place(&o, &next, &pool, &pp);
		movement(&o, &pn, &pp, obj_pg, changed, &mp);
		printf(",\"purge_moved_fraction\":%.6f",
		       (double)mp.moved / mp.total);
		/* The purge with overrides carried forward from the out. */
		{
			struct placement pq;

			place_upmap(&o, &mid, &next, &pool, &pu, &pn, &pp,
				    &pq);
			movement(&o, &pu, &pq, obj_pg, changed, &mp);
			free(pq.sets);
		}
		printf(",\"purge_moved_fraction_upmap\":%.6f}",
		       (double)mp.moved / mp.total);
		if (one_change) {
			printf(",");
			print_movement(&mv, ideal);
			print_upmap_top(&mu, ideal);
		}
		free(pu.sets);
		free(pp.sets);
		map_free(&mid);
		free(pn.sets);
		map_free(&next);
	}
	printf("}\n");
	free(pb.sets);
	free(obj_pg);
	free(changed);
	map_free(&base);
	return 0;
}
