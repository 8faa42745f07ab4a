/*
 * storeauthprobe -- hostile and borderline requests for the security tests
 * (tests/cluster/20_security.bats): frames built, signed, captured,
 * replayed and altered by hand, sent on a raw nanomsg socket, with the
 * outcome printed as one line:
 *
 *     result: ok                      the daemon answered 0
 *     result: error -13 <sentence>    it answered an error
 *     result: dropped                 no answer within 3 s (dropped)
 *     result: bad-signature           an answer whose MAC fails
 *
 *   storeauthprobe [-c CONF] COMMAND ARGS
 *     mkdir NAME                a signed MKDIR of NAME in the root
 *     replay-mkdir NAME         the same captured frame sent twice: two
 *                               result lines
 *     alter-mkdir NAME          one byte of a signed MKDIR flipped
 *     getattr INO               GETATTR of an inode number (signed)
 *     stale-getattr SECONDS INO sign with the ticket held now, wait, send
 *                               (an expired ticket, when SECONDS > TTL)
 *     forged-ticket INO         GETATTR with a random "ticket"
 *     noauth-getattr INO        GETATTR without an authenticator
 *     shard get|put|delete INO [--fcap-of INO2]
 *                               a shard request for object 0 of INO to the
 *                               OSD holding its shard 0, with the file
 *                               cap the MDS gives for INO2 (if any)
 *     replay-shard-get INO      a captured SHARD_GET sent twice
 *     noauth-shard INO          SHARD_GET without an authenticator
 *     secure-mkdir NAME         a signed MKDIR: prints whether the frame
 *                               went out sealed (name not in the bytes)
 *                               and the reply came back sealed
 *     unsealed-mkdir NAME       a MKDIR signed but not encrypted, under a
 *                               ticket that requires encryption
 *
 * With $STORE_PROBE_WAIT=SECONDS, every frame is sent that long after it
 * was signed (a ticket that expires in between: an expired ticket).
 *
 * It uses libstore's internals (client_priv.h): it is a test tool.
 */
#include "auth.h"
#include "client_priv.h"
#include "crc.h"
#include "log.h"
#include "util.h"
#include "wire_ns.h"
#include "wire_osd.h"

#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/reqrep.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 3000

static struct store_client *C;
static unsigned probe_wait;
static int last_reply_sealed;

static void die(const char *msg)
{
	fprintf(stderr, "storeauthprobe: %s\n", msg);
	exit(2);
}

/* A frame of type with the payload, with room to sign. */
static uint8_t *frame(unsigned type, const struct wbuf *pl, size_t *len)
{
	uint8_t *buf = malloc(WIRE_HDR_LEN + pl->len + AUTH_ROOM);
	struct wbuf w;

	if (!buf || pl->err)
		die("cannot build a frame");
	wbuf_init_fixed(&w, buf, WIRE_HDR_LEN + pl->len + AUTH_ROOM);
	wire_msg_begin(&w, type, 0, ((uint64_t)getpid() << 20) ^ now_ns(),
		       client_epoch(C), 0);
	wbuf_raw(&w, pl->p, pl->len);
	if (wire_msg_finish(&w, 0))
		die("cannot build a frame");
	*len = w.len;
	return buf;
}

static void sign(uint8_t *f, size_t *len, uint32_t dest, const uint8_t *fcap,
		 struct auth_snap *snap)
{
	struct auth_cred *cred = client_auth_cred(C);
	ssize_t n;

	if (!cred)
		die("the configuration names no keyring: nothing to sign with");
	if (auth_cred_take(cred, snap))
		die("no ticket");
	n = auth_sign_request(f, *len, snap, dest, fcap);
	if (n < 0)
		die("signing failed");
	*len = (size_t)n;
}

/* Send and report.  snap: what it was signed with (NULL: unsigned). */
static int send_report(int sock, const uint8_t *f, size_t len,
		       const struct auth_snap *snap)
{
	char text[STORE_ERRMSG_MAX + 1] = "";
	struct wire_hdr h;
	struct auth_in in;
	void *buf = NULL;
	int n;

	if (probe_wait) {
		sleep(probe_wait);
		probe_wait = 0;
	}
	if (nn_send(sock, f, len, 0) < 0)
		die("send failed");
	n = nn_recv(sock, &buf, NN_MSG, 0);
	if (n < 0) {
		printf("result: dropped\n");
		fflush(stdout);
		return -ETIMEDOUT;
	}
	if (wire_hdr_decode(buf, (size_t)n, &h)) {
		printf("result: malformed-reply\n");
		nn_freemsg(buf);
		return -EBADMSG;
	}
	last_reply_sealed = !!(h.flags & WIRE_F_SEALED);
	if (snap && (h.flags & WIRE_F_AUTH) &&
	    auth_check_reply(buf, (size_t)n, &h, snap->suite, snap->key,
			     snap->seq, &in)) {
		printf("result: bad-signature\n");
		nn_freemsg(buf);
		return -EBADMSG;
	}
	if (h.status) {
		wire_dec_error(wire_payload(buf), h.payload_len, text,
			       sizeof(text));
		printf("result: error %d %s\n", h.status, text);
	} else {
		printf("result: ok\n");
	}
	fflush(stdout);
	nn_freemsg(buf);
	return h.status;
}

/* A fresh REQ socket to addr.  Never closed: nanomsg 1.1.5 asserts when
 * a REQ socket with an unanswered request is closed, and the process
 * ends soon anyway. */
static int sock_to(const char *addr)
{
	int s = nn_socket(AF_SP, NN_REQ), to = PROBE_TIMEOUT_MS;
	int resend = 600000;

	if (s < 0 || net_setup_socket(s) ||
	    nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &to, sizeof(to)) ||
	    nn_setsockopt(s, NN_REQ, NN_REQ_RESEND_IVL, &resend,
			  sizeof(resend)) ||
	    nn_connect(s, addr) < 0)
		die("cannot open a socket");
	return s;
}

static uint8_t *ns_frame(unsigned type, uint64_t ino, const char *name,
			 size_t *len)
{
	struct wire_ns_req *r = calloc(1, sizeof(*r));
	struct wbuf w;
	uint8_t *f;

	if (!r)
		die("out of memory");
	r->ino = ino;
	r->mode = 040755;
	if (name)
		snprintf(r->name, sizeof(r->name), "%s", name);
	wbuf_init(&w);
	wire_enc_ns_req(&w, type, r);
	f = frame(type, &w, len);
	wbuf_free(&w);
	free(r);
	return f;
}

static int cmd_mkdir(const char *name, int mode)
{
	struct auth_snap snap;
	size_t len;
	uint8_t *f = ns_frame(WIRE_MKDIR, 1, name, &len), *copy;
	int s = sock_to(C->mds_addr);

	sign(f, &len, AUTH_DEST_MDS, NULL, &snap);
	if (mode == 2) {
		/* One byte of the name, inside the MAC'd payload. */
		int rc;

		f[len - AUTH_TAG_LEN - AUTH_REQ_FIXED - snap.ticket_len - 1] ^= 1;
		rc = send_report(s, f, len, &snap) == 0 ? 0 : 1;
		free(f);
		return rc;
	}
	copy = malloc(len);
	if (!copy)
		die("out of memory");
	memcpy(copy, f, len); /* the capture */
	send_report(s, f, len, &snap);
	if (mode == 1)
		send_report(sock_to(C->mds_addr), copy, len, &snap);
	free(f);
	free(copy);
	return 0;
}

/* A MKDIR under the current ticket: sealed as it says (mode 0), or
 * forcibly unsealed (mode 1). */
static int cmd_secure_mkdir(const char *name, int unsealed)
{
	struct auth_snap snap;
	size_t len;
	uint8_t *f = ns_frame(WIRE_MKDIR, 1, name, &len);
	struct auth_cred *cred = client_auth_cred(C);
	ssize_t n;

	if (!cred || auth_cred_take(cred, &snap))
		die("no ticket");
	if (unsealed)
		snap.secure = 0;
	n = auth_sign_request(f, len, &snap, AUTH_DEST_MDS, NULL);
	if (n < 0)
		die("signing failed");
	len = (size_t)n;
	printf("sealed=%d name-visible=%d\n", !!(get_le16(f + 6) &
						 WIRE_F_SEALED),
	       memmem(f, len, name, strlen(name)) != NULL);
	send_report(sock_to(C->mds_addr), f, len, &snap);
	printf("reply-sealed=%d\n", last_reply_sealed);
	free(f);
	return 0;
}

static int cmd_getattr(uint64_t ino, int how, unsigned wait_s)
{
	struct auth_snap snap;
	size_t len;
	uint8_t *f = ns_frame(WIRE_GETATTR, ino, NULL, &len);
	int s = sock_to(C->mds_addr);

	if (how == 1) { /* no authenticator */
		send_report(s, f, len, NULL);
		free(f);
		return 0;
	}
	sign(f, &len, AUTH_DEST_MDS, NULL, &snap);
	if (how == 2) {
		/* A "ticket" of random bytes, re-signed under our key: only
		 * the ticket is wrong. */
		struct auth_snap fake = snap;
		size_t l0;
		uint8_t *g = ns_frame(WIRE_GETATTR, ino, NULL, &l0);

		randombytes_buf(fake.ticket, fake.ticket_len);
		len = (size_t)auth_sign_request(g, l0, &fake, AUTH_DEST_MDS,
						NULL);
		free(f);
		f = g;
	}
	if (wait_s)
		sleep(wait_s);
	send_report(s, f, len, &snap);
	free(f);
	return 0;
}

static int cmd_shard(const char *op, uint64_t ino, uint64_t fcap_ino,
		     int twice, int unsigned_)
{
	struct rpc_call scratch;
	struct placement pl;
	struct auth_snap snap;
	unsigned type;
	struct wbuf w;
	uint8_t *f, *copy;
	size_t len;
	int s;

	if (client_place(C, 1, ino, 0, &pl) || pl.osd[0] == CRUSH_NONE ||
	    !pl.peer[0])
		die("cannot place object 0 of the inode");
	memset(&scratch, 0, sizeof(scratch));
	if (fcap_ino &&
	    client_auth_shard(C, &scratch, pl.osd[0], fcap_ino,
			      strcmp(op, "get") != 0))
		fprintf(stderr, "storeauthprobe: no file cap for %llu: %s\n",
			(unsigned long long)fcap_ino, store_last_error());
	wbuf_init(&w);
	if (!strcmp(op, "get")) {
		struct wire_shard_get g = { { 1, ino, 0, 0, 0 }, 0, 0, 0 };

		type = WIRE_SHARD_GET;
		wire_enc_shard_get(&w, &g);
	} else if (!strcmp(op, "delete")) {
		struct wire_shard_delete d = { { 1, ino, 0, UINT64_MAX, 0 },
					       WIRE_DEL_OLDER };

		type = WIRE_SHARD_DELETE;
		wire_enc_shard_delete(&w, &d);
	} else if (!strcmp(op, "put")) {
		static uint8_t data[4096];
		uint8_t csum[4];
		struct wire_shard_put p = {
			.id = { 1, ino, 0, store_new_version(C), 0 },
			.k = pl.pool.k, .m = pl.pool.m, .obj_len = 4096,
			.data_len = sizeof(data), .csums = csum, .data = data,
		};

		memset(data, 'X', sizeof(data));
		put_le32(csum, store_crc32c(0, data, sizeof(data)));
		type = WIRE_SHARD_PUT;
		wire_enc_shard_put(&w, &p);
	} else {
		die("shard get|put|delete INO [--fcap-of INO2]");
	}
	f = frame(type, &w, &len);
	wbuf_free(&w);
	if (unsigned_) {
		send_report(sock_to(rpc_peer_addr(pl.peer[0])), f, len, NULL);
		free(f);
		return 0;
	}
	sign(f, &len, AUTH_DEST_OSD(pl.osd[0]),
	     scratch.fcap_len ? scratch.fcap : NULL, &snap);
	copy = malloc(len);
	if (!copy)
		die("out of memory");
	memcpy(copy, f, len);
	s = sock_to(rpc_peer_addr(pl.peer[0]));
	send_report(s, f, len, &snap);
	if (twice)
		send_report(sock_to(rpc_peer_addr(pl.peer[0])), copy, len,
			    &snap);
	free(f);
	free(copy);
	return 0;
}

int main(int argc, char **argv)
{
	struct store_client_opts o = { .mds_timeout_ms = 5000 };
	const char *conf_path = getenv("STORE_CONF");
	struct conf *conf;
	char err[512];
	int i = 1, rc = 2;

	log_init("storeauthprobe", LOG_WARN);
	if (getenv("STORE_PROBE_WAIT"))
		probe_wait = (unsigned)atoi(getenv("STORE_PROBE_WAIT"));
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		conf_path = argv[2];
		i = 3;
	}
	if (i >= argc || !conf_path)
		die("usage: storeauthprobe [-c CONF] COMMAND ARGS (see the "
		    "source's head comment)");
	if (conf_load(conf_path, &conf, err, sizeof(err)))
		die(err);
	if (store_connect(conf, &o, &C)) {
		fprintf(stderr, "storeauthprobe: %s\n", store_last_error());
		conf_free(conf);
		return 1;
	}
	argc -= i;
	argv += i;
	if (!strcmp(argv[0], "mkdir") && argc == 2)
		rc = cmd_mkdir(argv[1], 0);
	else if (!strcmp(argv[0], "replay-mkdir") && argc == 2)
		rc = cmd_mkdir(argv[1], 1);
	else if (!strcmp(argv[0], "alter-mkdir") && argc == 2)
		rc = cmd_mkdir(argv[1], 2);
	else if (!strcmp(argv[0], "getattr") && argc == 2)
		rc = cmd_getattr(strtoull(argv[1], NULL, 0), 0, 0);
	else if (!strcmp(argv[0], "noauth-getattr") && argc == 2)
		rc = cmd_getattr(strtoull(argv[1], NULL, 0), 1, 0);
	else if (!strcmp(argv[0], "forged-ticket") && argc == 2)
		rc = cmd_getattr(strtoull(argv[1], NULL, 0), 2, 0);
	else if (!strcmp(argv[0], "stale-getattr") && argc == 3)
		rc = cmd_getattr(strtoull(argv[2], NULL, 0), 0,
				   (unsigned)atoi(argv[1]));
	else if (!strcmp(argv[0], "shard") && (argc == 3 || argc == 5))
		rc = cmd_shard(argv[1], strtoull(argv[2], NULL, 0),
				 argc == 5 && !strcmp(argv[3], "--fcap-of") ?
					 strtoull(argv[4], NULL, 0) : 0, 0, 0);
	else if (!strcmp(argv[0], "replay-shard-get") && argc == 2)
		rc = cmd_shard("get", strtoull(argv[1], NULL, 0), 0, 1, 0);
	else if (!strcmp(argv[0], "noauth-shard") && argc == 2)
		rc = cmd_shard("get", strtoull(argv[1], NULL, 0), 0, 0, 1);
	else if (!strcmp(argv[0], "secure-mkdir") && argc == 2)
		rc = cmd_secure_mkdir(argv[1], 0);
	else if (!strcmp(argv[0], "unsealed-mkdir") && argc == 2)
		rc = cmd_secure_mkdir(argv[1], 1);
	else
		die("unknown command (see the source's head comment)");
	store_disconnect(C);
	conf_free(conf);
	return rc;
}
