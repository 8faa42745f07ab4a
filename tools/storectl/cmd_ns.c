/*
 * cmd_ns.c -- storectl ls, stat, mkdir, rm and mv.
 */
#include "storectl.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void mode_string(uint32_t mode, char *s)
{
	static const char *rwx = "rwxrwxrwx";

	s[0] = S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : S_ISFIFO(mode) ? 'p' :
	       S_ISSOCK(mode) ? 's' : S_ISCHR(mode) ? 'c' : S_ISBLK(mode) ? 'b' :
	       '-';
	for (int i = 0; i < 9; i++)
		s[i + 1] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
	s[10] = '\0';
}

static void fmt_time(int64_t ns, char *buf, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M", &tm);
}

struct ls_ent {
	struct wire_dirent d;
};

struct ls_ctx {
	struct ls_ent *ents;
	size_t n, cap;
	int err;
};

static int ls_collect(void *arg, const struct wire_dirent *d)
{
	struct ls_ctx *x = arg;

	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 256;
		struct ls_ent *ne = realloc(x->ents, nc * sizeof(*ne));

		if (!ne) {
			x->err = -ENOMEM;
			return 1;
		}
		x->ents = ne;
		x->cap = nc;
	}
	x->ents[x->n++].d = *d;
	return 0;
}

static int ls_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ls_ent *)a)->d.name,
		      ((const struct ls_ent *)b)->d.name);
}

static void ls_print(const char *name, const struct wire_attr *a, int longfmt,
		     uint64_t dir_ino)
{
	char mode[11], when[32], target[STORE_PATH_MAX + 1] = "";

	if (!longfmt) {
		printf("%s%s\n", name, S_ISDIR(a->mode) ? "/" : "");
		return;
	}
	mode_string(a->mode, mode);
	fmt_time(a->mtime_ns, when, sizeof(when));
	if (S_ISLNK(a->mode))
		store_readlink(ctl_client(), a->ino, target);
	(void)dir_ino;
	printf("%s %3u %5u %5u %12llu %s %s%s%s\n", mode, a->nlink, a->uid,
	       a->gid, (unsigned long long)a->size, when, name,
	       target[0] ? " -> " : "", target);
}

int cmd_ls(int argc, char **argv)
{
	struct ls_ctx x = { 0 };
	const char *path = "/";
	struct wire_attr attr;
	int longfmt = 0, opt, rc;

	while ((opt = getopt(argc, argv, "l")) != -1) {
		if (opt != 'l')
			return ctl_error("usage: ls [-l] [PATH]");
		longfmt = 1;
	}
	if (argc - optind > 1)
		return ctl_error("usage: ls [-l] [PATH]");
	if (optind < argc)
		path = argv[optind];
	rc = store_resolve(ctl_client(), path, &attr);
	if (rc)
		return ctl_lib_error(rc, path);
	if (!S_ISDIR(attr.mode)) {
		char name[STORE_NAME_MAX + 1];

		ls_print(path_base(path, name, sizeof(name)), &attr, longfmt, 0);
		return 0;
	}
	rc = store_readdir(ctl_client(), attr.ino, 0, longfmt, ls_collect, &x);
	if (rc || x.err) {
		free(x.ents);
		return ctl_lib_error(rc ? rc : x.err, path);
	}
	qsort(x.ents, x.n, sizeof(*x.ents), ls_cmp);
	for (size_t i = 0; i < x.n; i++) {
		struct wire_attr a = x.ents[i].d.attr;

		if (!longfmt)
			a.mode = x.ents[i].d.type;
		ls_print(x.ents[i].d.name, &a, longfmt, attr.ino);
	}
	free(x.ents);
	return 0;
}

int cmd_stat(int argc, char **argv)
{
	char mode[11], at[32], mt[32], ct[32];
	struct wire_attr a;
	int rc;

	if (argc != 2)
		return ctl_error("usage: stat PATH");
	rc = store_resolve(ctl_client(), argv[1], &a);
	if (rc)
		return ctl_lib_error(rc, argv[1]);
	mode_string(a.mode, mode);
	fmt_time(a.atime_ns, at, sizeof(at));
	fmt_time(a.mtime_ns, mt, sizeof(mt));
	fmt_time(a.ctime_ns, ct, sizeof(ct));
	printf("  path: %s\n", argv[1]);
	printf("  type: %s\n", S_ISDIR(a.mode) ? "folder" :
			       S_ISLNK(a.mode) ? "symbolic link" :
			       S_ISREG(a.mode) ? "regular file" : "special file");
	printf("  size: %llu\n", (unsigned long long)a.size);
	printf(" inode: %llu\n", (unsigned long long)a.ino);
	printf("  mode: %04o (%s)\n", a.mode & 07777, mode);
	printf(" links: %u\n", a.nlink);
	printf("   uid: %u\n   gid: %u\n", a.uid, a.gid);
	printf(" atime: %s\n mtime: %s\n ctime: %s\n", at, mt, ct);
	if (S_ISREG(a.mode)) {
		printf("  data: %s\n", a.flags & WIRE_ATTR_INLINE ?
			       "inline in the MDS" : "erasure-coded objects");
		printf("  pool: %u\n object size: %u\n", a.pool, a.object_size);
	}
	if (S_ISLNK(a.mode)) {
		char target[STORE_PATH_MAX + 1];

		if (store_readlink(ctl_client(), a.ino, target) == 0)
			printf("target: %s\n", target);
	}
	return 0;
}

static int mkdir_one(const char *path, int parents)
{
	struct store_client *c = ctl_client();
	char name[STORE_NAME_MAX + 1];
	struct wire_attr attr;
	uint64_t parent;
	int rc;

	rc = store_resolve_parent(c, path, &parent, name);
	if (rc == -ENOENT && parents) {
		char up[STORE_PATH_MAX + 1];
		size_t n = strlen(path);

		snprintf(up, sizeof(up), "%s", path);
		while (n > 1 && up[n - 1] == '/')
			up[--n] = '\0';
		while (n > 1 && up[n - 1] != '/')
			up[--n] = '\0';
		rc = mkdir_one(up, 1);
		if (rc)
			return rc;
		rc = store_resolve_parent(c, path, &parent, name);
	}
	if (rc == -EINVAL && parents && strspn(path, "/") == strlen(path))
		return 0; /* the root */
	if (rc)
		return rc;
	rc = store_mkdir(c, parent, name, S_IFDIR | 0755, getuid(), getgid(),
			 &attr);
	if (rc == -EEXIST && parents) {
		rc = store_lookup(c, parent, name, &attr);
		if (rc == 0 && !S_ISDIR(attr.mode))
			rc = store_fail(-ENOTDIR, "%s exists and is not a "
					"folder", path);
	} else if (rc == -EEXIST) {
		rc = store_fail(rc, "%s already exists", path);
	}
	return rc;
}

int cmd_mkdir(int argc, char **argv)
{
	int parents = 0, opt, errs = 0;

	while ((opt = getopt(argc, argv, "p")) != -1) {
		if (opt != 'p')
			return ctl_error("usage: mkdir [-p] PATH...");
		parents = 1;
	}
	if (optind >= argc)
		return ctl_error("usage: mkdir [-p] PATH...");
	for (int i = optind; i < argc; i++) {
		int rc = mkdir_one(argv[i], parents);

		if (rc)
			errs += ctl_lib_error(rc, argv[i]);
	}
	return errs ? 1 : 0;
}

struct rm_ctx {
	char names[64][STORE_NAME_MAX + 1];
	unsigned n;
};

static int rm_collect(void *arg, const struct wire_dirent *d)
{
	struct rm_ctx *x = arg;

	if (x->n >= 64)
		return 1;
	snprintf(x->names[x->n++], STORE_NAME_MAX + 1, "%s", d->name);
	return 0;
}

/* Remove everything inside a folder, a batch of names at a time (the
 * listing restarts after every batch, since removal moves nothing but we
 * never hold a cookie across our own changes). */
static int rm_tree(uint64_t dir, const char *path)
{
	struct store_client *c = ctl_client();
	struct rm_ctx *x = malloc(sizeof(*x));
	int rc = 0;

	if (!x)
		return store_fail(-ENOMEM, "out of memory");
	for (;;) {
		int more = 0;

		x->n = 0;
		rc = store_readdir_batch(c, dir, 0, 64, 0, rm_collect, x, &more);
		if (rc || x->n == 0)
			break;
		for (unsigned i = 0; i < x->n && rc == 0; i++) {
			char child[STORE_PATH_MAX + 1];
			struct wire_attr a;

			rc = store_lookup(c, dir, x->names[i], &a);
			if (rc == -ENOENT) {
				rc = 0;
				continue;
			}
			if (rc)
				break;
			if (path_join(child, path, x->names[i])) {
				rc = store_fail(-ENAMETOOLONG, "path too long "
						"under %s", path);
				break;
			}
			if (S_ISDIR(a.mode)) {
				rc = rm_tree(a.ino, child);
				if (rc == 0)
					rc = store_rmdir(c, dir, x->names[i]);
			} else {
				rc = store_unlink(c, dir, x->names[i], 0, NULL);
			}
			if (rc == -ENOENT)
				rc = 0;
		}
		if (rc)
			break;
	}
	free(x);
	return rc;
}

int cmd_rm(int argc, char **argv)
{
	struct store_client *c;
	int recursive = 0, opt, errs = 0;

	while ((opt = getopt(argc, argv, "rf")) != -1) {
		if (opt == 'r')
			recursive = 1;
		else if (opt != 'f')
			return ctl_error("usage: rm [-r] PATH...");
	}
	if (optind >= argc)
		return ctl_error("usage: rm [-r] PATH...");
	c = ctl_client();
	for (int i = optind; i < argc; i++) {
		char name[STORE_NAME_MAX + 1];
		struct wire_attr a;
		uint64_t parent;
		int rc;

		rc = store_resolve(c, argv[i], &a);
		if (rc == 0)
			rc = store_resolve_parent(c, argv[i], &parent, name);
		if (rc) {
			errs += ctl_lib_error(rc, argv[i]);
			continue;
		}
		if (S_ISDIR(a.mode)) {
			if (!recursive) {
				errs += ctl_error("%s is a folder (use rm -r)",
						  argv[i]);
				continue;
			}
			rc = rm_tree(a.ino, argv[i]);
			if (rc == 0)
				rc = store_rmdir(c, parent, name);
		} else {
			rc = store_unlink(c, parent, name, 0, NULL);
		}
		if (rc)
			errs += ctl_lib_error(rc, argv[i]);
	}
	return errs ? 1 : 0;
}

int cmd_mv(int argc, char **argv)
{
	struct store_client *c;
	char sname[STORE_NAME_MAX + 1], dname[STORE_NAME_MAX + 1];
	uint64_t sparent, dparent;
	struct wire_attr src, dst;
	int rc;

	if (argc != 3)
		return ctl_error("usage: mv SRC DST");
	c = ctl_client();
	rc = store_resolve(c, argv[1], &src);
	if (rc == 0)
		rc = store_resolve_parent(c, argv[1], &sparent, sname);
	if (rc)
		return ctl_lib_error(rc, argv[1]);
	rc = store_resolve(c, argv[2], &dst);
	if (rc == 0 && S_ISDIR(dst.mode) && dst.ino != src.ino) {
		/* Into an existing folder, like mv(1). */
		dparent = dst.ino;
		snprintf(dname, sizeof(dname), "%s", sname);
	} else if (rc == 0 || rc == -ENOENT) {
		rc = store_resolve_parent(c, argv[2], &dparent, dname);
		if (rc)
			return ctl_lib_error(rc, argv[2]);
	} else {
		return ctl_lib_error(rc, argv[2]);
	}
	rc = store_rename(c, sparent, sname, dparent, dname, 0, NULL);
	if (rc)
		return ctl_lib_error(rc, argv[1]);
	return 0;
}
