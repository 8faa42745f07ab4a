/*
 * storectl -- copy files in and out of the cluster and run it.
 *
 *     storectl [-c CONF] COMMAND [ARGS...]
 *
 * CONF defaults to $STORE_CONF.  Errors are one sentence on stderr and a
 * non-zero exit status.
 */
#include "heap.h"
#include "storectl.h"
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *conf_path;
static struct conf *conf;
static struct store_client *client;

/* How long a command waits for an MDS that does not answer: long enough
 * for a busy MDS, short enough that a dead one is reported promptly. */
#define CTL_MDS_TIMEOUT_MS 5000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: storectl [-c CONF] COMMAND [ARGS...]\n"
		"\n"
		"files:\n"
		"  put [-r] LOCAL... REMOTE   copy local files (folders with -r) in\n"
		"  get [-r] REMOTE... LOCAL   copy cluster files (folders with -r) out\n"
		"  cat PATH                   write a cluster file to stdout\n"
		"  ls [-l] [PATH]             list a folder\n"
		"  stat PATH                  show a file's attributes\n"
		"  mkdir [-p] PATH            make a folder (and its parents with -p)\n"
		"  rm [-r] PATH...            remove files (folders with -r)\n"
		"  mv SRC DST                 rename or move\n"
		"cluster:\n"
		"  df                         capacity and use\n"
		"  status [--json]            health, OSDs, objects, recovery\n"
		"  osd tree                   OSDs by host, with weights and state\n"
		"  osd df                     use of every OSD\n"
		"  osd out|in|down|rm ID      take an OSD out, back in, ...\n"
		"  osd reweight ID WEIGHT     change an OSD's weight\n"
		"  scrub [--deep] [--gc-now] [--json] [PATH]  check and repair\n"
		"                             shards now (all, or PATH's)\n"
		"keys (admin caps):\n"
		"  auth add NAME --caps CAPS [-o FILE]  new key; prints its keyring\n"
		"  auth get NAME [-o FILE]    print (or write, mode 0600) a keyring\n"
		"  auth ls                    entities and their caps\n"
		"  auth rm NAME               remove a key\n"
		"  auth caps NAME CAPS        change caps: r or rw [path=/DIR], admin\n"
		"\n"
		"CONF (default $STORE_CONF) holds 'mds = tcp://HOST:PORT', "
		"'name' and 'keyring'.\n");
}

int ctl_error(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "storectl: %s\n", buf);
	return 1;
}

int ctl_lib_error(int rc, const char *what)
{
	const char *e = store_last_error();

	if (e && e[0])
		return ctl_error("%s", e);
	return ctl_error("%s: %s", what, strerror(-rc));
}

struct store_client *ctl_client(void)
{
	struct store_client_opts o = { .mds_timeout_ms = CTL_MDS_TIMEOUT_MS };
	char err[512];
	int rc;

	if (client)
		return client;
	if (!conf) {
		if (!conf_path)
			conf_path = getenv("STORE_CONF");
		if (!conf_path || !conf_path[0]) {
			ctl_error("no configuration: pass -c CONF or set "
				  "STORE_CONF (tools/vcluster start prints it)");
			exit(1);
		}
		rc = conf_load(conf_path, &conf, err, sizeof(err));
		if (rc) {
			ctl_error("%s", err);
			exit(1);
		}
	}
	rc = store_connect(conf, &o, &client);
	if (rc) {
		ctl_lib_error(rc, "connect");
		exit(1);
	}
	return client;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "put", cmd_put },     { "get", cmd_get },   { "cat", cmd_cat },
	{ "ls", cmd_ls },       { "stat", cmd_stat }, { "mkdir", cmd_mkdir },
	{ "rm", cmd_rm },       { "mv", cmd_mv },     { "df", cmd_df },
	{ "status", cmd_status }, { "osd", cmd_osd },
	{ "auth", cmd_auth },     { "scrub", cmd_scrub },
};

int main(int argc, char **argv)
{
	int opt, rc;

	heap_tune();
	log_init("storectl", LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	/* '+': stop at the command word; its options are its own. */
	while ((opt = getopt(argc, argv, "+c:h")) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "help") || !strcmp(argv[optind], "--help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		/* Commands parse their own options from a fresh getopt. */
		optind++;
		argc -= optind - 1;
		argv += optind - 1;
		optind = 1;
		rc = commands[i].fn(argc, argv);
		/* A command's changes are durable when it exits 0. */
		if (client && rc == 0 && store_unsynced(client) &&
		    store_sync(client)) {
			ctl_error("%s", store_last_error());
			rc = 1;
		}
		if (client)
			store_disconnect(client);
		conf_free(conf);
		return rc;
	}
	ctl_error("unknown command '%s' (try 'storectl help')", argv[optind]);
	return 2;
}
