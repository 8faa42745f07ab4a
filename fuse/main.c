/*
 * storefs -- mount the cluster as one file system (FUSE, low-level API,
 * multi-threaded).
 *
 *     storefs [-c CONF] [-f] [-o OPTIONS] MOUNTPOINT
 *
 * CONF defaults to $STORE_CONF.  Options besides FUSE's own (ro,
 * allow_other, default_permissions, ...):
 *   attr_timeout=S, entry_timeout=S   kernel cache timeouts (default 1 s)
 *   writeback                         the kernel's writeback cache
 *   noreadaround                      no read-around of small random reads
 *   noasync                           every create, unlink and lookup
 *                                     asks the MDS (no async.c, create.c,
 *                                     fresh.c)
 * `fusermount3 -u MOUNTPOINT` unmounts: every open file is flushed first.
 */
#include "heap.h"
#include "sfs.h"
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const struct fuse_lowlevel_ops sfs_ops;

/* The MDS may restart under a mounted file system: operations wait for it
 * this long before an error reaches the application. */
#define SFS_MDS_TIMEOUT_MS 60000

struct sfs_opts {
	char *conf;
	double attr_timeout;
	double entry_timeout;
	int writeback;
	int noreadaround;
	int noasync;
	int ro;
	int help;
};

#define SFS_OPT(t, p) { t, offsetof(struct sfs_opts, p), 1 }
static const struct fuse_opt sfs_opt_spec[] = {
	SFS_OPT("-c %s", conf),
	SFS_OPT("--conf=%s", conf),
	SFS_OPT("attr_timeout=%lf", attr_timeout),
	SFS_OPT("entry_timeout=%lf", entry_timeout),
	SFS_OPT("writeback", writeback),
	SFS_OPT("noreadaround", noreadaround),
	SFS_OPT("noasync", noasync),
	SFS_OPT("-h", help),
	SFS_OPT("--help", help),
	FUSE_OPT_KEY("ro", FUSE_OPT_KEY_KEEP),
	FUSE_OPT_END
};

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *out)
{
	struct sfs_opts *o = data;

	(void)out;
	if (key == FUSE_OPT_KEY_KEEP && !strcmp(arg, "ro"))
		o->ro = 1;
	return 1;
}

static void usage(const char *prog)
{
	printf("usage: %s [-c CONF] [-f] [-o OPTIONS] MOUNTPOINT\n\n"
	       "  -c CONF                 cluster configuration (default "
	       "$STORE_CONF)\n"
	       "  -o attr_timeout=S       attribute cache timeout (1 s)\n"
	       "  -o entry_timeout=S      name cache timeout (1 s)\n"
	       "  -o writeback            use the kernel's writeback cache\n"
	       "  -o noreadaround         small random reads fetch only what\n"
	       "                          they ask (default: the 64 KiB around\n"
	       "                          them, kept in the page cache)\n"
	       "  -o noasync              every create and unlink waits for the\n"
	       "                          MDS (default: an unlink is answered\n"
	       "                          at once while no file is open, a new\n"
	       "                          small file is created at its close)\n"
	       "  -o ro, allow_other, default_permissions, ...  as for any "
	       "FUSE mount\n\n", prog);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct sfs_opts o = { .attr_timeout = 1.0, .entry_timeout = 1.0 };
	struct store_client_opts copts = { .mds_timeout_ms = SFS_MDS_TIMEOUT_MS };
	struct fuse_cmdline_opts fopts;
	struct fuse_loop_config loop;
	struct fuse_session *se = NULL;
	struct conf *conf = NULL;
	struct sfs fs;
	char err[512];
	int rc = 1;

	heap_tune();
	log_init("storefs", LOG_WARN);
	memset(&fs, 0, sizeof(fs));
	memset(&fopts, 0, sizeof(fopts));
	if (fuse_opt_parse(&args, &o, sfs_opt_spec, opt_proc) == -1)
		return 1;
	if (o.help) {
		usage(argv[0]);
		fuse_opt_free_args(&args);
		return 0;
	}
	if (fuse_parse_cmdline(&args, &fopts) != 0)
		return 1;
	if (fopts.show_help || !fopts.mountpoint) {
		if (!fopts.mountpoint && !fopts.show_help)
			fprintf(stderr, "storefs: no mount point given\n");
		usage(argv[0]);
		rc = fopts.show_help ? 0 : 1;
		goto out;
	}
	if (!o.conf)
		o.conf = getenv("STORE_CONF") ? strdup(getenv("STORE_CONF")) : NULL;
	if (!o.conf) {
		fprintf(stderr, "storefs: no configuration: pass -c CONF or set "
			"STORE_CONF\n");
		goto out;
	}
	if (conf_load(o.conf, &conf, err, sizeof(err))) {
		fprintf(stderr, "storefs: %s\n", err);
		goto out;
	}
	/* Connect now so that a wrong address or key is said on the
	 * terminal.  fuse_daemonize() forks, and a fork keeps only the
	 * calling thread: in the background, the client (with its threads)
	 * and every thread of ours start again after it. */
	if (store_connect(conf, &copts, &fs.c)) {
		fprintf(stderr, "storefs: %s\n", store_last_error());
		goto out;
	}
	if (!fopts.foreground) {
		store_disconnect(fs.c);
		fs.c = NULL;
	}
	fs.attr_timeout = o.attr_timeout;
	fs.entry_timeout = o.entry_timeout;
	fs.writeback = o.writeback;
	/* The writeback cache holds dirty pages a push could overwrite. */
	fs.noreadaround = o.noreadaround || o.writeback;
	fs.ro = o.ro;
	sfs_g = &fs;
	se = fuse_session_new(&args, &sfs_ops, sizeof(sfs_ops), &fs);
	fs.se = se;
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, fopts.mountpoint) != 0) {
		fprintf(stderr, "storefs: cannot mount %s\n", fopts.mountpoint);
		goto out_signals;
	}
	fuse_daemonize(fopts.foreground);
	if (!fs.c && store_connect(conf, &copts, &fs.c)) {
		log_err("%s", store_last_error());
		goto out_unmount;
	}
	fs.inline_max = store_inline_max(fs.c);
	if (sfs_table_init(&fs) || sfs_data_init(&fs)) {
		log_err("out of memory");
		goto out_unmount;
	}
	if (!o.noasync && !o.ro &&
	    (sfs_async_init(&fs) || sfs_pc_init(&fs) || sfs_fresh_init(&fs))) {
		log_err("cannot start threads");
		goto out_unmount;
	}
	if (fopts.singlethread) {
		rc = fuse_session_loop(se);
	} else {
		memset(&loop, 0, sizeof(loop));
		loop.clone_fd = fopts.clone_fd;
		loop.max_idle_threads = fopts.max_idle_threads ?
						fopts.max_idle_threads : 16;
		rc = fuse_session_loop_mt(se, &loop);
	}
	rc = rc ? 1 : 0;
out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	sfs_async_destroy(&fs);
	sfs_pc_destroy(&fs);
	sfs_fresh_destroy(&fs);
	if (fs.buckets) {
		sfs_data_destroy(&fs);
		sfs_table_destroy(&fs);
	}
	/* Unmounted: what this mount changed is made durable before we go
	 * (the MDS syncs by itself within MDS_SYNC_DELAY_MS anyway). */
	if (fs.c && store_unsynced(fs.c) && store_sync(fs.c))
		fprintf(stderr, "storefs: %s\n", store_last_error());
	store_disconnect(fs.c);
	conf_free(conf);
	free(fopts.mountpoint);
	free(o.conf);
	fuse_opt_free_args(&args);
	return rc;
}
