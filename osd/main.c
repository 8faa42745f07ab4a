/*
 * main.c -- store-osd: an object storage daemon serving one data folder.
 *
 *   store-osd --data DIR --mds ADDR [--addr tcp://HOST:PORT] [--host NAME]
 *             [--weight W] [--keyring FILE] [-c CONF]
 *   store-osd --list DIR   (where each shard of a stopped OSD lies on disk)
 *   store-osd --bench DIR [--bench-size SIZE] [--bench-shard SIZE]
 *             [--bench-depth N]
 *
 * Command-line flags override the configuration file's keys (mds,
 * daemon_keyring, osd_heartbeat_interval, osd_segment_size).  Runs in the foreground and
 * logs to stderr; SIGTERM or SIGINT stops it cleanly (exit 0).  docs/osd.md
 * describes what it does.
 */
#include "heap.h"
#include "bench.h"
#include "list.h"
#include "conf.h"
#include "log.h"
#include "net.h"
#include "recovery.h"
#include "server.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: store-osd --data DIR --mds ADDR "
		"[--addr tcp://HOST:PORT]\n"
		"                 [--host NAME] [--weight W] [-c CONF]\n"
		"\n"
		"  --data DIR     the folder holding this OSD's shards "
		"(formatted if empty)\n"
		"  --mds ADDR     the MDS, tcp://HOST:PORT (conf: mds)\n"
		"  --addr ADDR    where to serve shards (default: a free "
		"port on 127.0.0.1)\n"
		"  --host NAME    failure domain (default: this machine's "
		"hostname)\n"
		"  --weight W     share of data (default: the folder's "
		"capacity in TiB)\n"
		"  --keyring FILE the cluster's daemon keyring ([daemon], mode "
		"0600; conf: daemon_keyring);\n"
		"                 without one the OSD checks no keys (an open "
		"cluster)\n"
		"  -c CONF        configuration file (key = value): mds, "
		"daemon_keyring, osd_heartbeat_interval,\n"
		"                 osd_segment_size, recovery_max_active,\n"
		"                 recovery_max_bytes_per_sec, gc_grace, "
		"scrub_interval,\n"
		"                 deep_scrub_interval, deep_scrub_parity_pct\n"
		"\n"
		"       store-osd --list DIR   (a stopped OSD's shards: pool ino "
		"objno index version length segment data-offset)\n"
		"       store-osd --bench DIR [--bench-size 1G] "
		"[--bench-shard 1M] [--bench-depth 16]\n"
		"  measure the shard store against raw O_DIRECT I/O in DIR "
		"(a scratch folder)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "mds", required_argument, NULL, 'm' },
		{ "addr", required_argument, NULL, 'a' },
		{ "host", required_argument, NULL, 'H' },
		{ "weight", required_argument, NULL, 'w' },
		{ "conf", required_argument, NULL, 'c' },
		{ "keyring", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "bench", required_argument, NULL, 'B' },
		{ "bench-size", required_argument, NULL, 'S' },
		{ "bench-shard", required_argument, NULL, 'K' },
		{ "bench-depth", required_argument, NULL, 'D' },
		{ "list", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *mds = NULL, *addr = NULL, *host = NULL;
	const char *conf_path = NULL, *weight_s = NULL, *keyring = NULL;
	struct osd_bench_opts bench = { NULL, 1ull << 30, 1u << 20, 16 };
	struct osd_config cfg;
	struct recov_config rec;
	struct conf *conf = NULL;
	char err[512];
	sigset_t set;
	int c, rc, sfd;

	heap_tune();
	log_init("store-osd", LOG_INFO);
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			data = optarg;
			break;
		case 'm':
			mds = optarg;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'w':
			weight_s = optarg;
			break;
		case 'c':
			conf_path = optarg;
			break;
		case 'k':
			keyring = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'B':
			bench.dir = optarg;
			break;
		case 'L':
			return osd_list_main(optarg) ? 1 : 0;
		case 'S':
		case 'K': {
			uint64_t v;

			if (conf_parse_size(optarg, &v) || !v ||
			    (c == 'K' && v > (64u << 20))) {
				fprintf(stderr, "store-osd: bad size '%s'\n",
					optarg);
				return 2;
			}
			if (c == 'S')
				bench.total = v;
			else
				bench.shard = (uint32_t)v;
			break;
		}
		case 'D':
			bench.depth = (unsigned)atoi(optarg);
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "store-osd: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (bench.dir) {
		log_init("store-osd", LOG_WARN);
		return osd_bench(&bench) ? 1 : 0;
	}
	if (conf_path) {
		rc = conf_load(conf_path, &conf, err, sizeof(err));
		if (rc) {
			fprintf(stderr, "store-osd: %s\n", err);
			return 1;
		}
	} else {
		conf = conf_new();
		if (!conf) {
			fprintf(stderr, "store-osd: out of memory\n");
			return 1;
		}
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.weight = -1;
	if (!mds)
		mds = conf_get(conf, "mds");
	if (!data || !mds) {
		fprintf(stderr, "store-osd: %s is required\n",
			!data ? "--data DIR" :
				"--mds ADDR (or mds in -c CONF)");
		usage(stderr);
		conf_free(conf);
		return 2;
	}
	if (!net_addr_ok(mds) || (addr && !net_addr_ok(addr))) {
		fprintf(stderr, "store-osd: '%s' is not a tcp://HOST:PORT "
			"address\n", !net_addr_ok(mds) ? mds : addr);
		conf_free(conf);
		return 2;
	}
	if (weight_s) {
		char *end;

		cfg.weight = strtod(weight_s, &end);
		if (*end || !(cfg.weight >= 0) || cfg.weight > 60000) {
			fprintf(stderr, "store-osd: --weight wants a number "
				"from 0 to 60000, not '%s'\n", weight_s);
			conf_free(conf);
			return 2;
		}
	}
	if (conf_get_ms(conf, "osd_heartbeat_interval",
			OSD_HEARTBEAT_MS_DEFAULT, &cfg.heartbeat_ms) ||
	    cfg.heartbeat_ms == 0 ||
	    conf_get_size(conf, "osd_segment_size", 0, &cfg.segment_size)) {
		fprintf(stderr, "store-osd: %s: osd_heartbeat_interval wants "
			"a duration (1s, 500ms), osd_segment_size a size "
			"(256M)\n", conf_path ? conf_path : "configuration");
		conf_free(conf);
		return 2;
	}
	if (recov_config_load(conf, &rec, err, sizeof(err))) {
		fprintf(stderr, "store-osd: %s: %s\n",
			conf_path ? conf_path : "configuration", err);
		conf_free(conf);
		return 2;
	}
	cfg.rec = &rec;
	cfg.data_dir = data;
	cfg.mds_addr = mds;
	/* Not "keyring": a shared configuration names the clients' there. */
	cfg.keyring = keyring ? keyring : conf_get(conf, "daemon_keyring");
	cfg.addr = addr;
	cfg.host = host;
	/* Signals arrive through a file descriptor the loop polls; blocked
	 * before any thread starts, so no other thread takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		fprintf(stderr, "store-osd: signalfd: %s\n", strerror(errno));
		conf_free(conf);
		return 1;
	}
	cfg.stop_fd = sfd;
	rc = osd_run(&cfg);
	close(sfd);
	conf_free(conf);
	return rc ? 1 : 0;
}
