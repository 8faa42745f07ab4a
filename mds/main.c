/*
 * main.c -- store-mds, the metadata server: command line, configuration,
 * signals.  Everything else is in libstore-mds (mds.h, server.h).
 */
#include "heap.h"
#include "conf.h"
#include "keyring.h"
#include "log.h"
#include "mds.h"
#include "mds_auth.h"
#include "net.h"
#include "server.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: store-mds --data DIR --addr tcp://HOST:PORT [options]\n"
"\n"
"  --data DIR               the MDS's folder (LMDB database)\n"
"  --addr ADDR              where to serve, e.g. tcp://127.0.0.1:7100\n"
"  --init                   create a new cluster in DIR (empty or missing),\n"
"                           then serve\n"
"  --init-only              with --init: exit after creating it\n"
"  --ec K+M                 erasure profile of the default pool (4+2)\n"
"  --pg-num N               placement groups of the default pool (256)\n"
"  --object-size SIZE       bytes of file data per object (4M)\n"
"  --domain host|osd        failure domain of the default pool (host)\n"
"  --inline-max SIZE        files up to SIZE stay in the MDS (64K, at most\n"
"                           64K; 0 turns the small-file path off)\n"
"  --heartbeat-grace TIME   silence before an OSD is marked down (5s)\n"
"  --down-out-interval TIME time down before an OSD is marked out (60s)\n"
"  --no-auth                with --init: a cluster without keys (anyone who\n"
"                           reaches it may do anything; tests only)\n"
"  --keyring FILE           with --init: where to write the new keyring\n"
"                           ([daemon] and [client.admin]; DIR/keyring)\n"
"  --daemon-keyring FILE    with --init: also write [daemon] alone (OSDs)\n"
"  --admin-keyring FILE     with --init: also write [client.admin] alone\n"
"  --export-keyring FILE    write [daemon] and [client.admin] from DIR to\n"
"                           FILE and exit (the MDS must not be running)\n"
"  --secure                 encrypt all traffic (conf: secure = true)\n"
"  -c, --conf FILE          configuration file (keys heartbeat_grace,\n"
"                           down_out_interval, inline_max, secure,\n"
"                           auth_ticket_ttl, auth_cipher, auth = keys|none;\n"
"                           flags win)\n"
"  -h, --help               this text\n"
"\n"
"--ec, --pg-num, --object-size and --domain apply at --init only.\n");
}

static int die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "store-mds: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int parse_ec(const char *s, struct mds_cluster_opts *c)
{
	unsigned k, m;
	char tail;

	if (sscanf(s, "%u+%u%c", &k, &m, &tail) != 2 || k > 255 || m > 255)
		return -EINVAL;
	c->k = (uint8_t)k;
	c->m = (uint8_t)m;
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* The security keys of the configuration into o.  0, or 1 after saying
 * what is wrong. */
static int auth_conf(const struct conf *conf, struct mds_opts *o)
{
	const char *cipher = conf_get_str(conf, "auth_cipher", "auto");
	int secure;

	if (conf_get_bool(conf, "secure", 0, &secure)) {
		die("secure '%s': expected true or false",
		    conf_get(conf, "secure"));
		return 1;
	}
	o->secure = secure;
	if (conf_get_ms(conf, "auth_ticket_ttl", 3600 * 1000,
			&o->ticket_ttl_ms) || o->ticket_ttl_ms < 1000 ||
	    o->ticket_ttl_ms > 7 * 24 * 3600 * 1000ull) {
		die("auth_ticket_ttl '%s': expected a duration from 1s to 7d "
		    "(1h by default)", conf_get(conf, "auth_ticket_ttl"));
		return 1;
	}
	if (!strcmp(cipher, "auto"))
		o->cipher = 0;
	else if (!strcmp(cipher, "aes-256-gcm") || !strcmp(cipher, "aes"))
		o->cipher = AUTH_SUITE_AES256GCM;
	else if (!strcmp(cipher, "xchacha20-poly1305") ||
		 !strcmp(cipher, "xchacha20"))
		o->cipher = AUTH_SUITE_XCHACHA20;
	else {
		die("auth_cipher '%s': expected auto, aes-256-gcm or "
		    "xchacha20-poly1305", cipher);
		return 1;
	}
	return 0;
}

/* The keyrings of a new cluster: all keys (default DIR/keyring), and the
 * daemons' and the admin's alone if asked.  0, or 1 after saying what
 * failed (the cluster exists: --export-keyring writes them again). */
static int write_keyrings(const char *dir, const char *all, const char *dk,
			  const char *ak, const struct mds_auth_keys *k)
{
	struct keyring_entry e[2];
	char path[4096], err[512];
	int rc;

	memset(e, 0, sizeof(e));
	snprintf(e[0].name, sizeof(e[0].name), "%s", KEYRING_DAEMON);
	memcpy(e[0].key, k->secret, AUTH_KEY_LEN);
	snprintf(e[1].name, sizeof(e[1].name), "%s", MDS_ADMIN_ENTITY);
	memcpy(e[1].key, k->admin, AUTH_KEY_LEN);
	snprintf(e[1].caps, sizeof(e[1].caps), "%s", MDS_ADMIN_CAPS);
	if (!all) {
		snprintf(path, sizeof(path), "%s/keyring", dir);
		all = path;
	}
	rc = keyring_write(all, e, 2, err, sizeof(err));
	if (rc == 0 && dk)
		rc = keyring_write(dk, e, 1, err, sizeof(err));
	if (rc == 0 && ak)
		rc = keyring_write(ak, e + 1, 1, err, sizeof(err));
	sodium_memzero(e, sizeof(e));
	if (rc) {
		die("%s; the cluster was created: run store-mds --data %s "
		    "--export-keyring FILE to write its keys again", err, dir);
		return 1;
	}
	log_info("wrote the cluster's keys to %s%s%s%s%s", all,
		 dk ? ", the daemons' to " : "", dk ? dk : "",
		 ak ? ", client.admin's to " : "", ak ? ak : "");
	return 0;
}

enum {
	OPT_DATA = 256, OPT_ADDR, OPT_INIT, OPT_INIT_ONLY, OPT_EC, OPT_PG_NUM,
	OPT_OBJECT_SIZE, OPT_DOMAIN, OPT_INLINE_MAX, OPT_GRACE, OPT_DOWN_OUT,
	OPT_NO_AUTH, OPT_KEYRING, OPT_DAEMON_KEYRING, OPT_ADMIN_KEYRING,
	OPT_EXPORT_KEYRING, OPT_SECURE,
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, OPT_DATA },
		{ "addr", required_argument, NULL, OPT_ADDR },
		{ "init", no_argument, NULL, OPT_INIT },
		{ "init-only", no_argument, NULL, OPT_INIT_ONLY },
		{ "ec", required_argument, NULL, OPT_EC },
		{ "pg-num", required_argument, NULL, OPT_PG_NUM },
		{ "object-size", required_argument, NULL, OPT_OBJECT_SIZE },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "inline-max", required_argument, NULL, OPT_INLINE_MAX },
		{ "heartbeat-grace", required_argument, NULL, OPT_GRACE },
		{ "down-out-interval", required_argument, NULL, OPT_DOWN_OUT },
		{ "no-auth", no_argument, NULL, OPT_NO_AUTH },
		{ "keyring", required_argument, NULL, OPT_KEYRING },
		{ "daemon-keyring", required_argument, NULL,
		  OPT_DAEMON_KEYRING },
		{ "admin-keyring", required_argument, NULL, OPT_ADMIN_KEYRING },
		{ "export-keyring", required_argument, NULL,
		  OPT_EXPORT_KEYRING },
		{ "secure", no_argument, NULL, OPT_SECURE },
		{ "conf", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *addr = NULL, *conf_path = NULL;
	const char *inline_arg = NULL, *grace_arg = NULL, *out_arg = NULL;
	const char *keyring = NULL, *daemon_keyring = NULL;
	const char *admin_keyring = NULL, *export_keyring = NULL;
	int no_auth = 0, secure_arg = 0;
	struct mds_auth_keys keys;
	int init = 0, init_only = 0, cluster_flags = 0, opt, rc;
	struct mds_cluster_opts co;
	struct mds_server *srv = NULL;
	struct conf *conf = NULL;
	struct mds_opts o;
	struct mds *m = NULL;
	struct sigaction sa;
	uint8_t id[16];
	char err[1024], hex[33];
	uint64_t v;

	heap_tune();
	mds_opts_default(&o);
	mds_cluster_opts_default(&co);
	co.uid = (uint32_t)getuid();
	co.gid = (uint32_t)getgid();
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_DATA:
			dir = optarg;
			break;
		case OPT_ADDR:
			addr = optarg;
			break;
		case OPT_INIT:
			init = 1;
			break;
		case OPT_INIT_ONLY:
			init = init_only = 1;
			break;
		case OPT_EC:
			if (parse_ec(optarg, &co))
				return die("--ec %s: expected K+M, e.g. 4+2",
					   optarg);
			cluster_flags = 1;
			break;
		case OPT_PG_NUM:
			if (parse_u32(optarg, &co.pg_num))
				return die("--pg-num %s: expected a number",
					   optarg);
			cluster_flags = 1;
			break;
		case OPT_OBJECT_SIZE:
			if (conf_parse_size(optarg, &v) || v > UINT32_MAX)
				return die("--object-size %s: expected a size "
					   "such as 4M", optarg);
			co.object_size = (uint32_t)v;
			cluster_flags = 1;
			break;
		case OPT_DOMAIN:
			if (!strcmp(optarg, "host"))
				co.domain = MAP_DOMAIN_HOST;
			else if (!strcmp(optarg, "osd"))
				co.domain = MAP_DOMAIN_OSD;
			else
				return die("--domain %s: expected host or osd",
					   optarg);
			cluster_flags = 1;
			break;
		case OPT_INLINE_MAX:
			inline_arg = optarg;
			break;
		case OPT_GRACE:
			grace_arg = optarg;
			break;
		case OPT_DOWN_OUT:
			out_arg = optarg;
			break;
		case OPT_NO_AUTH:
			no_auth = 1;
			break;
		case OPT_KEYRING:
			keyring = optarg;
			break;
		case OPT_DAEMON_KEYRING:
			daemon_keyring = optarg;
			break;
		case OPT_ADMIN_KEYRING:
			admin_keyring = optarg;
			break;
		case OPT_EXPORT_KEYRING:
			export_keyring = optarg;
			break;
		case OPT_SECURE:
			secure_arg = 1;
			break;
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
	if (optind < argc) {
		usage(stderr);
		return die("unexpected argument '%s'", argv[optind]);
	}
	if (!dir)
		return die("--data DIR is required (the MDS's folder)");
	if (!addr && !init_only && !export_keyring)
		return die("--addr tcp://HOST:PORT is required (where to "
			   "serve)");
	log_init("store-mds", LOG_INFO);

	if (conf_path) {
		rc = conf_load(conf_path, &conf, err, sizeof(err));
		if (rc)
			return die("%s", err);
	} else {
		conf = conf_new();
		if (!conf)
			return die("out of memory");
	}
	/* Flags override the file: they are set into the same table. */
	if ((inline_arg && conf_set(conf, "inline_max", inline_arg)) ||
	    (grace_arg && conf_set(conf, "heartbeat_grace", grace_arg)) ||
	    (out_arg && conf_set(conf, "down_out_interval", out_arg)))
		return die("out of memory");
	if (conf_get_ms(conf, "heartbeat_grace", o.heartbeat_grace_ms,
			&o.heartbeat_grace_ms) || o.heartbeat_grace_ms == 0)
		return die("heartbeat_grace '%s': expected a duration such as "
			   "5s", conf_get(conf, "heartbeat_grace"));
	if (conf_get_ms(conf, "down_out_interval", o.down_out_ms,
			&o.down_out_ms))
		return die("down_out_interval '%s': expected a duration such "
			   "as 60s", conf_get(conf, "down_out_interval"));
	if (conf_get_size(conf, "inline_max", o.inline_max, &v) ||
	    v > STORE_INLINE_MAX)
		return die("inline_max '%s': expected a size of at most 64K "
			   "(the protocol's limit)",
			   conf_get(conf, "inline_max"));
	o.inline_max = (uint32_t)v;
	if (secure_arg && conf_set(conf, "secure", "true"))
		return die("out of memory");
	/* "auth = none" in the configuration: --no-auth (at --init). */
	if (!strcmp(conf_get_str(conf, "auth", "keys"), "none"))
		no_auth = 1;
	else if (strcmp(conf_get_str(conf, "auth", "keys"), "keys"))
		return die("auth '%s': expected keys or none",
			   conf_get(conf, "auth"));
	if (auth_conf(conf, &o))
		return 1;
	conf_free(conf);
	o.dir = dir;
	if (export_keyring) {
		rc = mds_auth_export(dir, export_keyring, err, sizeof(err));
		if (rc)
			return die("%s", err);
		log_info("wrote the keys of %s to %s", dir, export_keyring);
		return 0;
	}

	if (init) {
		if (!no_auth) {
			randombytes_buf(keys.secret, sizeof(keys.secret));
			randombytes_buf(keys.admin, sizeof(keys.admin));
			co.keys = &keys;
		}
		rc = mds_create(&o, &co, id, err, sizeof(err));
		if (rc)
			return die("%s", err);
		if (!no_auth && write_keyrings(dir, keyring, daemon_keyring,
					       admin_keyring, &keys))
			return 1;
		sodium_memzero(&keys, sizeof(keys));
		osdmap_id_hex(id, hex);
		log_info("created cluster %s in %s: pool 1 'data' %u+%u, "
			 "pg_num %u, objects of %u bytes, failure domain %s",
			 hex, dir, co.k, co.m, co.pg_num, co.object_size,
			 co.domain == MAP_DOMAIN_HOST ? "host" : "osd");
		if (init_only)
			return 0;
	} else if (cluster_flags) {
		log_warn("--ec, --pg-num, --object-size and --domain apply at "
			 "--init only: ignored");
	}

	rc = mds_open(&o, &m, err, sizeof(err));
	if (rc)
		return die("%s", err);
	/* Every engine of the MDS signs with its own daemon ticket. */
	rpc_engine_default_cred(mds_auth_cred(m));
	if (mds_auth_on(m))
		log_info("authentication on: %s, tickets for %llu s%s",
			 auth_suite_name(o.cipher ? o.cipher :
					 auth_suite_default()),
			 (unsigned long long)(o.ticket_ttl_ms / 1000),
			 o.secure ? ", secure mode (all traffic encrypted)" :
				    "");
	else
		log_warn("this cluster has no keys (created with --no-auth): "
			 "anyone who reaches it may do anything");
	rc = mds_server_open(m, addr, &srv);
	if (rc) {
		mds_close(m);
		return die("cannot serve at %s: %s", addr,
			   rc == -EINVAL ? "not a valid tcp://HOST:PORT address"
					 : strerror(-rc));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	osdmap_id_hex(m->cluster_id, hex);
	log_info("serving cluster %s at %s, epoch %llu", hex, addr,
		 (unsigned long long)mds_epoch(m));
	rc = mds_server_run(srv, &stop);
	mds_server_close(srv);
	mds_close(m);
	if (rc)
		return die("stopped: %s", strerror(-rc));
	log_info("stopped");
	return 0;
}
