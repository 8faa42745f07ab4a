/*
 * cmd_scrub.c -- `storectl scrub [--deep] [--gc-now] [--parity-all] [PATH]`:
 * ask the OSDs to check (and repair) now, and print what they found.
 *
 * Without PATH every up OSD checks the placement groups it is primary for,
 * all at once (store_scrub_all); with PATH only the PGs holding that file's
 * objects are checked, restricted to it, and a folder is walked
 * recursively.  The OSDs do the work (docs/recovery.md); storectl only
 * sums their reports.
 */
#include "client_rec.h"
#include "storectl.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct scrub_walk {
	struct store_client *c;
	uint32_t flags;
	struct wire_scrub_reply sum;
	uint64_t files;
};

struct name_list {
	unsigned n, cap;
	char (*names)[STORE_NAME_MAX + 1];
};

static int collect_name(void *arg, const struct wire_dirent *d)
{
	struct name_list *l = arg;

	if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
		return 0;
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 64;
		void *p = realloc(l->names, cap * sizeof(*l->names));

		if (!p)
			return -ENOMEM;
		l->names = p;
		l->cap = cap;
	}
	memcpy(l->names[l->n++], d->name, sizeof(l->names[0]));
	return 0;
}

/* Scrub one file, or every file under a folder.  Returns 0 or -errno
 * (with a sentence). */
static int scrub_node(struct scrub_walk *w, const struct wire_attr *a)
{
	struct name_list l = { 0 };
	int rc;

	if (S_ISREG(a->mode)) {
		struct wire_scrub_reply rep;

		w->files++;
		rc = store_scrub_file(w->c, a, w->flags, 0, &rep);
		if (rc == 0)
			store_scrub_sum(&w->sum, &rep);
		return rc;
	}
	if (!S_ISDIR(a->mode))
		return 0; /* symlinks and the like have no objects */
	rc = store_readdir(w->c, a->ino, 0, 0, collect_name, &l);
	for (unsigned i = 0; rc == 0 && i < l.n; i++) {
		struct wire_attr child;

		rc = store_lookup(w->c, a->ino, l.names[i], &child);
		if (rc == -ENOENT) {
			rc = 0; /* removed meanwhile */
			continue;
		}
		if (rc == 0)
			rc = scrub_node(w, &child);
	}
	free(l.names);
	return rc;
}

static void print_report(const struct wire_scrub_reply *r, uint64_t files,
			 int deep)
{
	printf("%s scrub: %u PGs, %llu objects, %llu shards checked",
	       deep ? "deep" : "light", r->pgs,
	       (unsigned long long)r->objects, (unsigned long long)r->shards);
	if (files)
		printf(" (%llu files)", (unsigned long long)files);
	printf("\n  found: %llu missing, %llu misplaced, %llu corrupt, "
	       "%llu stale (%llu deleted)\n",
	       (unsigned long long)r->missing,
	       (unsigned long long)r->misplaced,
	       (unsigned long long)r->corrupt, (unsigned long long)r->stale,
	       (unsigned long long)r->stale_deleted);
	printf("  repaired: %llu shards; unrepairable: %llu objects\n",
	       (unsigned long long)r->repaired,
	       (unsigned long long)r->unrepairable);
}

static void print_json(const struct wire_scrub_reply *r, uint64_t files,
		       int deep)
{
	printf("{\"deep\": %s, \"epoch\": %llu, \"pgs\": %u, \"files\": %llu, "
	       "\"objects\": %llu, \"shards\": %llu, \"missing\": %llu, "
	       "\"misplaced\": %llu, \"corrupt\": %llu, \"stale\": %llu, "
	       "\"stale_deleted\": %llu, \"repaired\": %llu, "
	       "\"unrepairable\": %llu}\n",
	       deep ? "true" : "false", (unsigned long long)r->epoch, r->pgs,
	       (unsigned long long)files, (unsigned long long)r->objects,
	       (unsigned long long)r->shards, (unsigned long long)r->missing,
	       (unsigned long long)r->misplaced,
	       (unsigned long long)r->corrupt, (unsigned long long)r->stale,
	       (unsigned long long)r->stale_deleted,
	       (unsigned long long)r->repaired,
	       (unsigned long long)r->unrepairable);
}

int cmd_scrub(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "deep", no_argument, NULL, 'd' },
		{ "gc-now", no_argument, NULL, 'g' },
		{ "parity-all", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct scrub_walk w = { 0 };
	int opt, json = 0, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': w.flags |= WIRE_SCRUB_DEEP; break;
		case 'g': w.flags |= WIRE_SCRUB_GC_NOW; break;
		case 'p': w.flags |= WIRE_SCRUB_PARITY_ALL; break;
		case 'j': json = 1; break;
		default:
			return ctl_error("usage: scrub [--deep] [--gc-now] "
					 "[--parity-all] [--json] [PATH]");
		}
	}
	if (argc - optind > 1)
		return ctl_error("usage: scrub [--deep] [--gc-now] "
				 "[--parity-all] [--json] [PATH]");
	if ((w.flags & WIRE_SCRUB_PARITY_ALL) && !(w.flags & WIRE_SCRUB_DEEP))
		return ctl_error("--parity-all needs --deep");
	w.c = ctl_client();
	if (!w.c)
		return 1;
	if (optind < argc) {
		struct wire_attr a;

		rc = store_resolve(w.c, argv[optind], &a);
		if (rc == 0)
			rc = scrub_node(&w, &a);
	} else {
		struct store_map m;

		map_init(&m);
		rc = store_get_map(w.c, &m);
		for (uint32_t i = 0; rc == 0 && i < m.n_pools; i++) {
			struct wire_scrub_reply rep;

			rc = store_scrub_all(w.c, m.pools[i].id, w.flags, 0,
					     &rep);
			if (rc == 0)
				store_scrub_sum(&w.sum, &rep);
		}
		map_free(&m);
	}
	if (rc)
		return ctl_lib_error(rc, "scrub");
	if (json)
		print_json(&w.sum, w.files, !!(w.flags & WIRE_SCRUB_DEEP));
	else
		print_report(&w.sum, w.files, !!(w.flags & WIRE_SCRUB_DEEP));
	return w.sum.unrepairable ? 2 : 0;
}
