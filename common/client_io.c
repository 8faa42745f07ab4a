/*
 * client_io.c -- libstore's data path: writing objects as k + m shards to
 * their OSDs, reading them back (decoding from parity when shards are
 * missing or bad), and the sequential writer and reader built on them.
 *
 * Every in-flight object is a small state machine driven by the thread
 * that owns it: it builds the shard messages, submits them to the RPC
 * engine as one group, and later waits for the group.  The engine's
 * callbacks only count completions; checksums, decoding and copies happen
 * on the owning thread, so the I/O thread never stalls.
 */
#include "client_find.h"
#include "client_priv.h"
#include "crc.h"
#include "layout.h"
#include "log.h"
#include "util.h"
#include "wire_osd.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>

/* A shard read that has not been answered after this is given up for
 * parity: an OSD that died with our request in hand is noticed quickly. */
#define GET_FIRST_TIMEOUT_MS 3000
/* Fail a request that cannot even be put on a connection this fast: the
 * OSD is not running. */
#define SEND_TIMEOUT_MS 1000

static void fmt_osd(char *buf, size_t cap, uint32_t osd)
{
	if (osd == CRUSH_NONE)
		snprintf(buf, cap, "(no OSD)");
	else
		snprintf(buf, cap, "osd.%u", osd);
}

/* Block crcs of data (the last block may be short). */
static void compute_csums(const uint8_t *data, uint32_t len, uint8_t *csums)
{
	for (uint32_t off = 0, i = 0; off < len; off += WIRE_CSUM_BLOCK, i++)
		put_le32(csums + 4 * i,
			 store_crc32c(0, data + off,
				      MIN(WIRE_CSUM_BLOCK, len - off)));
}

static int verify_csums(const uint8_t *data, uint32_t len,
			const uint8_t *csums)
{
	for (uint32_t off = 0, i = 0; off < len; off += WIRE_CSUM_BLOCK, i++)
		if (get_le32(csums + 4 * i) !=
		    store_crc32c(0, data + off, MIN(WIRE_CSUM_BLOCK, len - off)))
			return -EIO;
	return 0;
}

/* ---- writing one object -----------------------------------------------*/

/* Work on this many bytes of every shard at a time: the k + m pieces
 * (6 x 64 KiB for 4+2) stay in the L2 cache between the encode that
 * writes the parity and the crcs that read every piece, instead of each
 * pass streaming whole shards from memory (measured: the crcs were 9% of
 * a put's CPU when they read whole 1 MiB shards after the encode). */
#define ENCODE_PIECE (64u << 10)

/* Compute the m parity shards of k data shards of slen bytes, and every
 * shard's block crcs into cptr[]. */
static void encode_and_sum(const struct ec_codec *ec, unsigned k, unsigned m,
			   uint32_t slen, uint8_t *const *dptr,
			   uint8_t *const *cptr)
{
	uint8_t *piece[STORE_EC_MAX_SHARDS];

	for (uint32_t off = 0; off < slen; off += ENCODE_PIECE) {
		uint32_t n = MIN(ENCODE_PIECE, slen - off);

		for (unsigned i = 0; i < k + m; i++)
			piece[i] = dptr[i] + off;
		ec_encode(ec, n, piece, piece + k);
		for (unsigned i = 0; i < k + m; i++)
			compute_csums(piece[i], n,
				      cptr[i] + 4 * (size_t)(off / WIRE_CSUM_BLOCK));
	}
}

/*
 * One object being written.  Its k + m shard messages are allocated first
 * (obj_put_alloc), sized for len bytes of object; the data shards' bytes
 * are then put into them (copied from the caller's buffer, or read from a
 * file straight into them: obj_put_readv), and obj_put_send() places the
 * object, fills in the headers, computes parity and crcs and sends.
 *
 * Invariants while msgs_len != 0: calls[i].req (i < k + m) is a nanomsg
 * buffer of msg_cap bytes whose data area starts at dptr[i] and whose crc
 * array starts at cptr[i]; the header fields before them have fixed sizes,
 * so encoding the real header later puts them at the same place.
 */
struct obj_put {
	struct store_client *c;
	uint64_t ino, objno, version;
	uint32_t obj_len;
	struct placement pl;
	struct rpc_group g;
	struct rpc_call calls[STORE_EC_MAX_SHARDS];
	uint8_t sent[STORE_EC_MAX_SHARDS];
	int started;
	unsigned k, m;
	uint32_t msgs_len; /* object bytes the messages are sized for, or 0 */
	uint32_t slen;
	size_t msg_cap;
	uint8_t *dptr[STORE_EC_MAX_SHARDS], *cptr[STORE_EC_MAX_SHARDS];
};

/* Free an object's shard messages (those not handed to the engine). */
static void obj_put_free_msgs(struct obj_put *op)
{
	if (!op->msgs_len)
		return;
	for (unsigned i = 0; i < STORE_EC_MAX_SHARDS; i++) {
		net_free(op->calls[i].req);
		op->calls[i].req = NULL;
	}
	op->msgs_len = 0;
}

/* Encode the header of shard i in front of its data area (which it must
 * not move).  Returns 0, or -ENOMEM if the buffer is too small. */
static int obj_put_header(struct obj_put *op, unsigned i,
			  const struct wire_shard_put *put, uint64_t epoch)
{
	uint8_t *d, *cs;
	struct wbuf w;

	wbuf_init_fixed(&w, op->calls[i].req, op->msg_cap);
	wire_msg_begin(&w, WIRE_SHARD_PUT, 0, 0, epoch, 0);
	d = wire_enc_shard_put_inplace(&w, put, &cs);
	if (!d || wire_msg_finish(&w, 0))
		return -ENOMEM;
	assert(op->msgs_len == 0 || (d == op->dptr[i] && cs == op->cptr[i]));
	op->dptr[i] = d;
	op->cptr[i] = cs;
	op->calls[i].req_len = w.len;
	return 0;
}

/* Allocate the k + m shard messages of an object of len bytes into op
 * (which must hold none).  Returns 0, or -ENOMEM (then op holds none). */
static int obj_put_alloc(struct obj_put *op, unsigned k, unsigned m,
			 uint32_t len)
{
	uint32_t slen = layout_shard_len(k, len);
	struct wire_shard_put put = {
		.k = (uint8_t)k, .m = (uint8_t)m, .obj_len = len,
		.data_len = slen,
	};

	op->k = k;
	op->m = m;
	op->slen = slen;
	/* Exact size up front (and room for the authenticator): one
	 * allocation, no growth, no copy when signing. */
	op->msg_cap = WIRE_HDR_LEN + 64 + wire_csum_count(slen) * 4 + slen +
		      AUTH_ROOM;
	for (unsigned i = 0; i < k + m; i++) {
		op->calls[i].req = net_alloc(op->msg_cap);
		op->calls[i].req_nn = 1;
		put.id.index = (uint8_t)i;
		/* A provisional header, to find where data and crcs go. */
		if (!op->calls[i].req || obj_put_header(op, i, &put, 0)) {
			op->msgs_len = len;
			obj_put_free_msgs(op);
			return -ENOMEM;
		}
	}
	op->msgs_len = len;
	return 0;
}

/* Read from fd into the data shards of op's messages, at object offset
 * off (< op->msgs_len) and up to msgs_len: the file's bytes land where the
 * stripe layout puts them, with no copy through a staging buffer.  One
 * readv() call; returns what it returns (-1 and errno on error).
 *
 * Measured here (1 GiB from tmpfs): the kernel's copy runs at the same
 * speed into these cold 1 MiB shards as into a 64 KiB buffer that stays
 * in the cache, except when the destination sits 8-24 bytes past a page
 * boundary (4K aliasing of the source's loads with the destination's
 * stores: 3x slower), which a shard's data area hits by chance only
 * (its offset depends on the message's header and crc array). */
static ssize_t obj_put_readv(struct obj_put *op, int fd, uint32_t off)
{
	/* 1024 (IOV_MAX) units of 4 KiB: a whole 4 MiB object per call. */
	struct iovec iov[1024];
	uint64_t b = off;
	int n = 0;
	ssize_t got;

	while (b < op->msgs_len && n < (int)ARRAY_SIZE(iov)) {
		uint32_t in_unit = (uint32_t)(b % STORE_STRIPE_UNIT);
		uint32_t take = (uint32_t)MIN(STORE_STRIPE_UNIT - in_unit,
					      op->msgs_len - b);

		iov[n].iov_base = op->dptr[layout_shard_of(op->k, b)] +
				  layout_shard_off(op->k, b);
		iov[n].iov_len = take;
		n++;
		b += take;
	}
	do
		got = readv(fd, iov, n);
	while (got < 0 && errno == EINTR);
	return got;
}

/* Place op's object (objno of file, len bytes, whose data shards hold the
 * data), fill in the headers, compute parity and crcs, and send the
 * shards whose OSD is up.  Returns 0, or -errno with a sentence (then
 * nothing was sent and op still holds its messages). */
static int obj_put_send(struct store_client *c, const struct wire_attr *file,
			uint64_t objno, uint32_t len, uint64_t version,
			struct obj_put *op)
{
	unsigned k = op->k, m = op->m, n_up = 0;
	struct ec_codec *ec;
	int rc;

	assert(op->msgs_len && layout_shard_len(k, len) == op->slen);
	op->c = c;
	op->ino = file->ino;
	op->objno = objno;
	op->version = version;
	op->obj_len = len;
	rc = client_place(c, file->pool, file->ino, objno, &op->pl);
	if (rc)
		return rc;
	if (op->pl.pool.k != k || op->pl.pool.m != m)
		return store_fail(-EIO, "cannot write object %llu of inode "
				  "%llu: the erasure code of pool %u changed "
				  "from %u+%u to %u+%u while it was written",
				  (unsigned long long)objno,
				  (unsigned long long)file->ino, file->pool, k,
				  m, op->pl.pool.k, op->pl.pool.m);
	/* A path-limited key needs the file's write cap: fail here, with
	 * one sentence, rather than once per shard. */
	rc = client_auth_refresh(c, 0);
	if (rc == 0)
		rc = client_auth_shard(c, &op->calls[0], 0, file->ino, 1);
	if (rc)
		return rc;
	for (unsigned i = 0; i < k + m; i++)
		if (op->pl.osd[i] != CRUSH_NONE && op->pl.up[i])
			n_up++;
	if (n_up < op->pl.pool.min_size)
		return store_fail(-EIO, "cannot write object %llu of inode "
				  "%llu: only %u of the %u OSDs of its "
				  "placement group are up, and a write needs "
				  "%u (min_size); wait for the OSDs to come "
				  "back or be replaced",
				  (unsigned long long)objno,
				  (unsigned long long)file->ino, n_up, k + m,
				  op->pl.pool.min_size);
	ec = client_codec(c, k, m);
	if (!ec)
		return store_fail(-ENOMEM, "cannot set up erasure code %u+%u",
				  k, m);
	/* Every shard's message is built, even for a down OSD: parity needs
	 * all data shards.  Messages for down OSDs are dropped unsent. */
	for (unsigned i = 0; i < k + m; i++) {
		struct wire_shard_put put = {
			.id = { file->pool, file->ino, objno, version,
				(uint8_t)i },
			.k = (uint8_t)k, .m = (uint8_t)m, .obj_len = len,
			.data_len = op->slen,
		};

		if (obj_put_header(op, i, &put, op->pl.epoch))
			return store_fail(-ENOMEM, "out of memory building "
					  "object %llu",
					  (unsigned long long)objno);
	}
	layout_zero_tail(k, len, op->dptr, op->slen);
	encode_and_sum(ec, k, m, op->slen, op->dptr, op->cptr);
	op->msgs_len = 0; /* the messages are the engine's from here on */
	rpc_group_init(&op->g);
	op->started = 1;
	for (unsigned i = 0; i < k + m; i++) {
		struct rpc_call *call = &op->calls[i];

		if (op->pl.osd[i] == CRUSH_NONE || !op->pl.up[i]) {
			net_free(call->req);
			call->req = NULL;
			continue;
		}
		call->peer = op->pl.peer[i];
		call->timeout_ms = c->osd_timeout_ms;
		call->send_timeout_ms = SEND_TIMEOUT_MS;
		client_auth_shard(c, call, op->pl.osd[i], file->ino, 1);
		op->sent[i] = 1;
		rpc_group_submit(c->eng, &op->g, call);
	}
	return 0;
}

/* Write len bytes of data as object objno of file: build the k + m shard
 * messages and send those whose OSD is up.  Returns 0, or -errno with a
 * sentence (then nothing was sent and op holds nothing). */
static int obj_put_start(struct store_client *c, const struct wire_attr *file,
			 uint64_t objno, const void *data, uint32_t len,
			 uint64_t version, struct obj_put *op)
{
	int rc;

	memset(op, 0, sizeof(*op));
	rc = client_place(c, file->pool, file->ino, objno, &op->pl);
	if (rc)
		return rc;
	if (obj_put_alloc(op, op->pl.pool.k, op->pl.pool.m, len))
		return store_fail(-ENOMEM, "out of memory building object %llu",
				  (unsigned long long)objno);
	layout_scatter(op->k, data, len, op->dptr, op->slen);
	rc = obj_put_send(c, file, objno, len, version, op);
	if (rc)
		obj_put_free_msgs(op);
	return rc;
}

/* Wait for an object's shards.  Returns 0 if at least min_size were
 * stored, else -EIO with a sentence naming the OSDs that failed. */
static int obj_put_finish(struct obj_put *op)
{
	unsigned k = op->pl.pool.k, m = op->pl.pool.m, ok = 0;
	char why[512] = "";
	size_t wl = 0;
	uint64_t max_epoch = 0;

	if (!op->started)
		return 0;
	rpc_group_wait(&op->g);
	rpc_group_destroy(&op->g);
	op->started = 0;
	for (unsigned i = 0; i < k + m; i++) {
		struct rpc_call *call = &op->calls[i];
		char osd[32], err[160];

		if (!op->sent[i]) {
			fmt_osd(osd, sizeof(osd), op->pl.osd[i]);
			if (wl < sizeof(why))
				wl += (size_t)snprintf(why + wl, sizeof(why) - wl,
						       "%s%s down", wl ? "; " : "",
						       osd);
			continue;
		}
		if (rpc_result(call) == 0) {
			ok++;
		} else {
			fmt_osd(osd, sizeof(osd), op->pl.osd[i]);
			client_reply_error(call, err, sizeof(err));
			if (wl < sizeof(why))
				wl += (size_t)snprintf(why + wl, sizeof(why) - wl,
						       "%s%s: %s", wl ? "; " : "",
						       osd, err);
		}
		if (call->status == 0 && call->rhdr.epoch > max_epoch)
			max_epoch = call->rhdr.epoch;
		rpc_call_release(call);
	}
	if (max_epoch)
		client_saw_epoch(op->c, max_epoch);
	if (ok >= op->pl.pool.min_size) {
		if (ok < k + m)
			log_debug("object %llu of inode %llu written degraded "
				  "(%u of %u shards): %s",
				  (unsigned long long)op->objno,
				  (unsigned long long)op->ino, ok, k + m, why);
		return 0;
	}
	return store_fail(-EIO, "cannot write object %llu of inode %llu: "
			  "only %u of %u shards were stored, %u needed (%s)",
			  (unsigned long long)op->objno,
			  (unsigned long long)op->ino, ok, k + m,
			  op->pl.pool.min_size, why);
}

int store_object_write(struct store_client *c, const struct wire_attr *file,
		       uint64_t objno, const void *data, uint32_t len,
		       uint64_t *version)
{
	struct obj_put *op = malloc(sizeof(*op));
	int rc;

	if (!op)
		return store_fail(-ENOMEM, "out of memory");
	*version = store_new_version(c);
	rc = obj_put_start(c, file, objno, data, len, *version, op);
	if (rc == 0)
		rc = obj_put_finish(op);
	free(op);
	return rc;
}

/* ---- reading one object ----------------------------------------------*/

enum { SH_NONE, SH_ASKED, SH_OK, SH_BAD };

struct obj_get {
	struct store_client *c;
	uint64_t ino;
	struct wire_obj obj;
	struct placement pl;
	unsigned k, m;
	uint64_t off; /* object bytes wanted */
	uint32_t len;
	/* The in-shard range fetched from each position. */
	uint32_t base[STORE_EC_MAX_SHARDS];
	uint32_t blen[STORE_EC_MAX_SHARDS];
	uint8_t state[STORE_EC_MAX_SHARDS];
	char why[STORE_EC_MAX_SHARDS][96];
	struct rpc_call calls[STORE_EC_MAX_SHARDS];
	const uint8_t *data[STORE_EC_MAX_SHARDS]; /* fetched or decoded */
	uint8_t *decoded[STORE_EC_MAX_SHARDS];
	struct rpc_group g;
	int pending; /* a group is in flight */
	int phase;   /* 1: direct, 2: degraded */
	int error;
	uint32_t rbase; /* phase 2: the common in-shard range */
};

static void obj_get_ask(struct obj_get *og, unsigned i, uint32_t base,
			uint32_t blen, uint32_t timeout_ms)
{
	struct wire_shard_get get = {
		.id = { og->pl.pool.id, og->ino, og->obj.objno, og->obj.version,
			(uint8_t)i },
		.offset = base, .len = blen,
	};
	struct rpc_call *call = &og->calls[i];
	struct wbuf w;

	og->base[i] = base;
	og->blen[i] = blen;
	if (og->pl.osd[i] == CRUSH_NONE || !og->pl.up[i]) {
		og->state[i] = SH_BAD;
		fmt_osd(og->why[i], sizeof(og->why[i]), og->pl.osd[i]);
		strncat(og->why[i], " is down",
			sizeof(og->why[i]) - strlen(og->why[i]) - 1);
		return;
	}
	memset(call, 0, sizeof(*call));
	wbuf_init(&w);
	wire_enc_shard_get(&w, &get);
	if (w.err || client_frame(call, WIRE_SHARD_GET, og->pl.epoch, w.p,
				  w.len)) {
		wbuf_free(&w);
		og->state[i] = SH_BAD;
		snprintf(og->why[i], sizeof(og->why[i]), "out of memory");
		return;
	}
	wbuf_free(&w);
	if (client_auth_shard(og->c, call, og->pl.osd[i], og->ino, 0)) {
		net_free(call->req);
		call->req = NULL;
		og->state[i] = SH_BAD;
		snprintf(og->why[i], sizeof(og->why[i]), "%s",
			 store_last_error());
		return;
	}
	call->peer = og->pl.peer[i];
	call->timeout_ms = timeout_ms;
	call->send_timeout_ms = SEND_TIMEOUT_MS;
	og->state[i] = SH_ASKED;
	if (!og->pending) {
		rpc_group_init(&og->g);
		og->pending = 1;
	}
	rpc_group_submit(og->c->eng, &og->g, call);
}

/* Check the answers of the shards asked: SH_OK with data, or SH_BAD with a
 * reason. */
static void obj_get_collect(struct obj_get *og)
{
	uint64_t max_epoch = 0;

	if (!og->pending)
		return;
	rpc_group_wait(&og->g);
	rpc_group_destroy(&og->g);
	og->pending = 0;
	for (unsigned i = 0; i < og->k + og->m; i++) {
		struct rpc_call *call = &og->calls[i];
		struct wire_shard_get_reply r;
		char osd[32], err[96];
		const char *e = err;
		size_t ol;

		if (og->state[i] != SH_ASKED)
			continue;
		fmt_osd(osd, sizeof(osd), og->pl.osd[i]);
		if (rpc_result(call) != 0) {
			client_reply_error(call, err, sizeof(err));
			/* An OSD's sentence starts with its own name: say it
			 * once. */
			ol = strlen(osd);
			if (!strncmp(e, osd, ol) && e[ol] == ':' &&
			    e[ol + 1] == ' ')
				e += ol + 2;
			snprintf(og->why[i], sizeof(og->why[i]), "%s: %.60s",
				 osd,
				 call->status == -ETIMEDOUT ? "no answer" :
				 call->status == -ENOTCONN ? "not reachable" :
							     e);
			og->state[i] = SH_BAD;
			continue;
		}
		if (call->rhdr.epoch > max_epoch)
			max_epoch = call->rhdr.epoch;
		if (wire_dec_shard_get_reply(rpc_reply_payload(call),
					     call->rhdr.payload_len, &r) ||
		    r.version != og->obj.version || r.offset != og->base[i] ||
		    r.data_len != og->blen[i]) {
			snprintf(og->why[i], sizeof(og->why[i]),
				 "%s: unexpected reply", osd);
			og->state[i] = SH_BAD;
			continue;
		}
		/* The OSD checked these crcs when it read the blocks (it
		 * answers an error, not data, when one fails); a verified
		 * tag then vouches for every byte since.  Without keys, the
		 * crcs are what catches damage on the way. */
		if (!call->reply_verified &&
		    verify_csums(r.data, r.data_len, r.csums)) {
			snprintf(og->why[i], sizeof(og->why[i]),
				 "%s: checksum mismatch", osd);
			og->state[i] = SH_BAD;
			continue;
		}
		og->data[i] = r.data; /* inside call->reply, kept */
		og->state[i] = SH_OK;
	}
	if (max_epoch)
		client_saw_epoch(og->c, max_epoch);
}

/* Start reading object bytes [off, off + len): ask the data shards that
 * hold them for just those units. */
static int obj_get_start(struct store_client *c, const struct wire_attr *file,
			 const struct wire_obj *obj, uint64_t off, uint32_t len,
			 struct obj_get *og)
{
	uint32_t lo[STORE_EC_MAX_SHARDS], hi[STORE_EC_MAX_SHARDS];
	uint64_t u0, u1;
	int rc;

	memset(og, 0, sizeof(*og));
	og->c = c;
	og->ino = file->ino;
	og->obj = *obj;
	og->off = off;
	og->len = len;
	og->phase = 1;
	rc = client_place(c, file->pool, file->ino, obj->objno, &og->pl);
	if (rc)
		return rc;
	og->k = og->pl.pool.k;
	og->m = og->pl.pool.m;
	if (len == 0)
		return 0;
	for (unsigned s = 0; s < og->k; s++) {
		lo[s] = UINT32_MAX;
		hi[s] = 0;
	}
	/* The units touched, per shard: a contiguous in-shard range each. */
	u0 = off / STORE_STRIPE_UNIT;
	u1 = (off + len - 1) / STORE_STRIPE_UNIT;
	for (uint64_t u = u0; u <= u1; u++) {
		unsigned s = (unsigned)(u % og->k);
		uint32_t so = (uint32_t)(u / og->k) * STORE_STRIPE_UNIT;

		lo[s] = MIN(lo[s], so);
		hi[s] = MAX(hi[s], so + STORE_STRIPE_UNIT);
		if (u - u0 >= og->k && u1 - u >= og->k) {
			/* Middle rows touch every shard: jump ahead. */
			u = u1 - og->k;
		}
	}
	for (unsigned s = 0; s < og->k; s++)
		if (hi[s] > lo[s])
			obj_get_ask(og, s, lo[s], hi[s] - lo[s],
				    MIN(GET_FIRST_TIMEOUT_MS,
					c->osd_timeout_ms));
	return 0;
}

/* Too few shards at their positions: look for the missing ones on the
 * other OSDs (they may not have reached new homes after a map change,
 * client_find.h).  Adds the shards found to og (and to *present while it
 * has fewer than k); returns how many were found. */
static unsigned find_moved(struct obj_get *og, uint32_t rlen,
			   uint32_t *present, unsigned good)
{
	const uint8_t *fdata[STORE_EC_MAX_SHARDS];
	struct rpc_call *fcalls = calloc(STORE_EC_MAX_SHARDS, sizeof(*fcalls));
	uint32_t missing = 0, found;
	unsigned n = 0;

	if (!fcalls)
		return 0;
	for (unsigned i = 0; i < og->k + og->m; i++)
		if (og->state[i] != SH_OK)
			missing |= 1u << i;
	found = client_find_shards(og->c, &og->pl, og->ino, &og->obj, missing,
				   og->rbase, rlen, og->c->osd_timeout_ms,
				   fcalls, fdata);
	for (unsigned i = 0; i < og->k + og->m; i++) {
		if (!(found & (1u << i)))
			continue;
		rpc_call_release(&og->calls[i]);
		og->calls[i] = fcalls[i];
		og->data[i] = fdata[i];
		og->state[i] = SH_OK;
		og->base[i] = og->rbase;
		og->blen[i] = rlen;
		if (good + n < og->k)
			*present |= 1u << i;
		n++;
	}
	free(fcalls);
	if (n)
		log_debug("object %llu of inode %llu: %u shards found away "
			  "from their positions", (unsigned long long)og->obj.objno,
			  (unsigned long long)og->ino, n);
	return n;
}

/* Finish a read: wait for the shards; if any data shard that is needed
 * failed, fetch the same rows from the other positions and decode.  On 0,
 * obj_get_copy() gives the bytes. */
static int obj_get_finish(struct obj_get *og)
{
	unsigned k = og->k, m = og->m, good = 0;
	uint32_t present = 0, want = 0, r0, r1, rlen;
	uint8_t *ptrs[STORE_EC_MAX_SHARDS];
	struct ec_codec *ec;
	char why[600];
	size_t wl = 0;
	int need_decode = 0;

	if (og->error)
		return og->error;
	obj_get_collect(og);
	for (unsigned s = 0; s < k; s++)
		if (og->state[s] == SH_BAD)
			need_decode = 1;
	if (!need_decode || og->len == 0)
		return 0;

	/* Degraded: the rows covering the range, from any k positions. */
	og->phase = 2;
	r0 = (uint32_t)(og->off / ((uint64_t)k * STORE_STRIPE_UNIT));
	r1 = (uint32_t)((og->off + og->len - 1) /
			((uint64_t)k * STORE_STRIPE_UNIT)) + 1;
	og->rbase = r0 * STORE_STRIPE_UNIT;
	rlen = (r1 - r0) * STORE_STRIPE_UNIT;
	for (unsigned i = 0; i < k + m; i++) {
		if (og->state[i] == SH_BAD)
			continue;
		if (og->state[i] == SH_OK && og->base[i] == og->rbase &&
		    og->blen[i] == rlen)
			continue; /* already holds the rows */
		if (og->state[i] == SH_OK)
			rpc_call_release(&og->calls[i]);
		og->state[i] = SH_NONE;
		og->data[i] = NULL;
		obj_get_ask(og, i, og->rbase, rlen, og->c->osd_timeout_ms);
	}
	obj_get_collect(og);
	for (unsigned i = 0; i < k + m; i++) {
		if (og->state[i] == SH_OK) {
			if (good < k)
				present |= 1u << i;
			good++;
		} else if (wl < sizeof(why)) {
			wl += (size_t)snprintf(why + wl, sizeof(why) - wl,
					       "%s%s", wl ? "; " : "",
					       og->why[i]);
		}
	}
	if (good < k)
		good += find_moved(og, rlen, &present, good);
	if (good < k) {
		og->error = store_fail(-EIO, "object %llu of inode %llu "
				       "(version %016llx) cannot be read: only "
				       "%u of its %u shards are available and "
				       "%u are needed (%s)",
				       (unsigned long long)og->obj.objno,
				       (unsigned long long)og->ino,
				       (unsigned long long)og->obj.version,
				       good, k + m, k, why);
		return og->error;
	}
	ec = client_codec(og->c, k, m);
	if (!ec)
		return og->error = store_fail(-ENOMEM, "out of memory");
	for (unsigned i = 0; i < k + m; i++) {
		ptrs[i] = (uint8_t *)og->data[i];
		if (present & (1u << i))
			continue;
		ptrs[i] = NULL;
		if (i < k) {
			og->decoded[i] = malloc(rlen);
			if (!og->decoded[i])
				return og->error = store_fail(-ENOMEM,
							      "out of memory");
			ptrs[i] = og->decoded[i];
			want |= 1u << i;
		}
	}
	if (ec_decode(ec, rlen, ptrs, present, want))
		return og->error = store_fail(-EIO, "object %llu of inode %llu: "
					      "decoding failed",
					      (unsigned long long)og->obj.objno,
					      (unsigned long long)og->ino);
	for (unsigned s = 0; s < k; s++) {
		og->data[s] = ptrs[s];
		og->base[s] = og->rbase;
	}
	log_debug("object %llu of inode %llu read degraded: %s",
		  (unsigned long long)og->obj.objno,
		  (unsigned long long)og->ino, why);
	return 0;
}

/* Copy object bytes [off, off + len) (inside the range read) to dst. */
static void obj_get_copy(const struct obj_get *og, uint64_t off, uint32_t len,
			 uint8_t *dst)
{
	while (len > 0) {
		uint32_t in_unit = (uint32_t)(off % STORE_STRIPE_UNIT);
		uint32_t n = MIN(len, STORE_STRIPE_UNIT - in_unit);
		unsigned s = layout_shard_of(og->k, off);
		uint32_t so = layout_shard_off(og->k, off);

		memcpy(dst, og->data[s] + (so - og->base[s]), n);
		dst += n;
		off += n;
		len -= n;
	}
}

static void obj_get_free(struct obj_get *og)
{
	if (og->pending) {
		rpc_group_wait(&og->g);
		rpc_group_destroy(&og->g);
		og->pending = 0;
	}
	for (unsigned i = 0; i < STORE_EC_MAX_SHARDS; i++) {
		if (og->state[i] == SH_OK || og->state[i] == SH_BAD ||
		    og->state[i] == SH_ASKED)
			rpc_call_release(&og->calls[i]);
		free(og->decoded[i]);
		og->decoded[i] = NULL;
		og->state[i] = SH_NONE;
	}
}

int store_object_read(struct store_client *c, const struct wire_attr *file,
		      const struct wire_obj *obj, uint32_t off, uint32_t len,
		      void *buf)
{
	struct obj_get *og = malloc(sizeof(*og));
	uint32_t have;
	int rc;

	if (!og)
		return store_fail(-ENOMEM, "out of memory");
	/* Bytes past the object's valid length read as zeros. */
	have = off < obj->length ? MIN(len, obj->length - off) : 0;
	if (have < len)
		memset((uint8_t *)buf + have, 0, len - have);
	rc = obj_get_start(c, file, obj, off, have, og);
	if (rc == 0)
		rc = obj_get_finish(og);
	if (rc == 0 && have)
		obj_get_copy(og, off, have, buf);
	obj_get_free(og);
	free(og);
	return rc;
}

/* ---- MDS calls of the data path ---------------------------------------*/

int store_open(struct store_client *c, uint64_t ino, uint32_t flags,
	       struct wire_attr *attr, void *buf, size_t cap,
	       uint32_t *data_len)
{
	struct wire_ns_req *r = calloc(1, sizeof(*r));
	struct wire_ns_reply rep;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	if (!r)
		return store_fail(-ENOMEM, "out of memory");
	r->ino = ino;
	r->flags = flags;
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_OPEN, r);
	free(r);
	rc = client_mds_call(c, WIRE_OPEN, &w, &call, NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_ns_reply(WIRE_OPEN, rpc_reply_payload(&call),
			       call.rhdr.payload_len, &rep);
	if (rc == 0) {
		*attr = rep.attr;
		if (data_len)
			*data_len = rep.data_len;
		if (buf && rep.data_len)
			memcpy(buf, rep.data, MIN(cap, rep.data_len));
	} else {
		store_fail(rc, "malformed open reply");
	}
	rpc_call_release(&call);
	return rc;
}

int store_objmap(struct store_client *c, uint64_t ino, uint64_t first,
		 uint32_t max, struct wire_obj *objs, uint32_t *n, int *more)
{
	struct wire_ns_req *r = calloc(1, sizeof(*r));
	struct wire_ns_reply rep;
	struct rpc_call call;
	struct wbuf w;
	int rc;

	if (!r)
		return store_fail(-ENOMEM, "out of memory");
	r->ino = ino;
	r->cookie = first;
	r->max = MIN(max, STORE_LIST_MAX);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_OBJMAP, r);
	free(r);
	rc = client_mds_call(c, WIRE_OBJMAP, &w, &call, NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_ns_reply(WIRE_OBJMAP, rpc_reply_payload(&call),
			       call.rhdr.payload_len, &rep);
	*n = 0;
	if (rc == 0) {
		*more = rep.more;
		while (*n < max && wire_next_obj(&rep.entries, &objs[*n]))
			(*n)++;
	} else {
		store_fail(rc, "malformed object map reply");
	}
	rpc_call_release(&call);
	return rc;
}

void client_delete_versions(struct store_client *c, uint32_t pool,
			    uint64_t ino, const struct wire_obj *objs,
			    uint32_t n)
{
	/* Bounded batches: a few hundred small requests in flight. */
	enum { BATCH = 32 };
	struct rpc_call *calls;
	struct rpc_group g;

	calls = calloc(BATCH * STORE_EC_MAX_SHARDS, sizeof(*calls));
	if (!calls)
		return;
	for (uint32_t b = 0; b < n; b += BATCH) {
		unsigned used = 0;

		rpc_group_init(&g);
		for (uint32_t j = b; j < n && j < b + BATCH; j++) {
			struct placement pl;

			if (client_place(c, pool, ino, objs[j].objno, &pl))
				continue;
			for (unsigned i = 0; i < pl.n; i++) {
				struct wire_shard_delete d = {
					{ pool, ino, objs[j].objno,
					  objs[j].version, (uint8_t)i }, 0 };
				struct rpc_call *call = &calls[used];
				struct wbuf w;

				if (pl.osd[i] == CRUSH_NONE || !pl.up[i])
					continue;
				memset(call, 0, sizeof(*call));
				wbuf_init(&w);
				wire_enc_shard_delete(&w, &d);
				if (!w.err && !client_frame(call,
							    WIRE_SHARD_DELETE,
							    pl.epoch, w.p,
							    w.len) &&
				    !client_auth_shard(c, call, pl.osd[i], ino,
						       1)) {
					call->peer = pl.peer[i];
					call->timeout_ms = c->osd_timeout_ms;
					call->send_timeout_ms = SEND_TIMEOUT_MS;
					rpc_group_submit(c->eng, &g, call);
					used++;
				}
				wbuf_free(&w);
			}
		}
		rpc_group_wait(&g);
		rpc_group_destroy(&g);
		for (unsigned i = 0; i < used; i++)
			rpc_call_release(&calls[i]);
	}
	free(calls);
}

void store_discard_objects(struct store_client *c, uint32_t pool,
			   uint64_t ino, const struct wire_obj *objs,
			   uint32_t n)
{
	client_delete_versions(c, pool, ino, objs, n);
}

int store_commit(struct store_client *c, uint64_t ino, uint32_t flags,
		 uint32_t valid, uint64_t size, int64_t mtime_ns,
		 const struct wire_obj *objs, uint32_t n, const void *data,
		 uint32_t data_len, struct wire_attr *attr)
{
	return store_commit_attrs(c, ino, flags, valid, size, mtime_ns, NULL,
				  objs, n, data, data_len, attr);
}

int store_commit_attrs(struct store_client *c, uint64_t ino, uint32_t flags,
		       uint32_t valid, uint64_t size, int64_t mtime_ns,
		       const struct wire_attr *set, const struct wire_obj *objs,
		       uint32_t n, const void *data, uint32_t data_len,
		       struct wire_attr *attr)
{
	struct wire_ns_req *r = calloc(1, sizeof(*r));
	struct wire_ns_reply rep;
	struct wire_obj *old = NULL;
	struct rpc_call call;
	struct wbuf w, list;
	uint32_t n_old = 0;
	int rc;

	if (!r)
		return store_fail(-ENOMEM, "out of memory");
	wbuf_init(&list);
	for (uint32_t i = 0; i < n; i++)
		wire_enc_obj(&list, &objs[i]);
	r->ino = ino;
	r->flags = flags;
	r->valid = valid;
	r->size = size;
	r->mtime_ns = mtime_ns;
	if (set) {
		r->mode = set->mode;
		r->uid = set->uid;
		r->gid = set->gid;
		r->atime_ns = set->atime_ns;
	}
	r->data = data;
	r->data_len = data_len;
	r->n_objs = n;
	wire_ns_set_list(&r->objs, &list);
	wbuf_init(&w);
	wire_enc_ns_req(&w, WIRE_COMMIT, r);
	free(r);
	wbuf_free(&list);
	rc = client_mds_call(c, WIRE_COMMIT, &w, &call, NULL);
	wbuf_free(&w);
	if (rc)
		return rc;
	rc = wire_dec_ns_reply(WIRE_COMMIT, rpc_reply_payload(&call),
			       call.rhdr.payload_len, &rep);
	if (rc == 0) {
		if (attr)
			*attr = rep.attr;
		if (rep.count) {
			old = calloc(rep.count, sizeof(*old));
			while (old && n_old < rep.count &&
			       wire_next_obj(&rep.entries, &old[n_old]))
				n_old++;
		}
	} else {
		store_fail(rc, "malformed commit reply");
	}
	rpc_call_release(&call);
	if (rc == 0 && n_old)
		client_delete_versions(c, rep.attr.pool, ino, old, n_old);
	free(old);
	return rc;
}

/* ---- the sequential writer --------------------------------------------*/

struct store_writer {
	struct store_client *c;
	struct wire_attr file;
	uint32_t object_size;
	uint8_t *buf; /* the object being filled */
	uint32_t fill;
	uint64_t objno;
	uint64_t total;
	unsigned max_inflight;
	struct obj_put *ring; /* objects in flight, oldest at head */
	unsigned head, count;
	struct wire_obj *objs; /* written, to commit */
	size_t n_objs, cap_objs;
	int err;
	/* The object being filled has its shard messages allocated in the
	 * ring's next slot, and its bytes are in them, not in buf: set by
	 * store_writer_read_fd() from the second object on. */
	int staged;
};

int store_writer_open(struct store_client *c, const struct wire_attr *file,
		      struct store_writer **out)
{
	struct store_writer *w;
	struct store_map m;
	struct map_pool *p;

	*out = NULL;
	if (!S_ISREG(file->mode))
		return store_fail(-EISDIR, "inode %llu is not a regular file",
				  (unsigned long long)file->ino);
	w = calloc(1, sizeof(*w));
	if (!w)
		return store_fail(-ENOMEM, "out of memory");
	w->c = c;
	w->file = *file;
	w->object_size = file->object_size;
	if (!w->object_size) {
		map_init(&m);
		if (store_get_map(c, &m) == 0 && (p = map_pool(&m, file->pool)))
			w->object_size = p->object_size;
		map_free(&m);
	}
	if (!w->object_size || w->object_size > STORE_SHARD_MAX) {
		free(w);
		return store_fail(-EINVAL, "inode %llu has an invalid object "
				  "size", (unsigned long long)file->ino);
	}
	w->max_inflight = c->objects_in_flight;
	/* Page-aligned: reads into it copy from page-aligned page-cache
	 * pages, and a destination 8-24 bytes past a page boundary (where
	 * glibc's mmap'd blocks start, 16 bytes in) makes the kernel's copy
	 * 3x slower on this project's VM (4K aliasing). */
	if (posix_memalign((void **)&w->buf, 4096, w->object_size))
		w->buf = NULL;
	w->ring = calloc(w->max_inflight, sizeof(*w->ring));
	if (!w->buf || !w->ring) {
		free(w->buf);
		free(w->ring);
		free(w);
		return store_fail(-ENOMEM, "out of memory");
	}
	*out = w;
	return 0;
}

/* Retire the oldest object in flight. */
static int writer_retire(struct store_writer *w)
{
	struct obj_put *op = &w->ring[w->head];
	int rc = obj_put_finish(op);

	w->head = (w->head + 1) % w->max_inflight;
	w->count--;
	if (rc == 0) {
		if (w->n_objs == w->cap_objs) {
			size_t nc = w->cap_objs ? w->cap_objs * 2 : 64;
			struct wire_obj *no = realloc(w->objs,
						      nc * sizeof(*no));

			if (!no)
				return store_fail(-ENOMEM, "out of memory");
			w->objs = no;
			w->cap_objs = nc;
		}
		w->objs[w->n_objs++] = (struct wire_obj){ op->objno,
							  op->version,
							  op->obj_len };
	}
	return rc;
}

/* The ring's slot for the next object, once there is room (retiring the
 * oldest object in flight if the ring is full). */
static int writer_slot(struct store_writer *w, struct obj_put **out)
{
	int rc;

	if (w->count == w->max_inflight) {
		rc = writer_retire(w);
		if (rc)
			return rc;
	}
	*out = &w->ring[(w->head + w->count) % w->max_inflight];
	return 0;
}

/* Allocate the next object's shard messages, so that its bytes can be
 * read straight into them.  Returns 0 or -errno with a sentence. */
static int writer_stage(struct store_writer *w)
{
	struct obj_put *op;
	int rc = writer_slot(w, &op);

	if (rc)
		return rc;
	memset(op, 0, sizeof(*op));
	rc = client_place(w->c, w->file.pool, w->file.ino, w->objno, &op->pl);
	if (rc)
		return rc;
	if (obj_put_alloc(op, op->pl.pool.k, op->pl.pool.m, w->object_size))
		return store_fail(-ENOMEM, "out of memory building object %llu",
				  (unsigned long long)w->objno);
	w->staged = 1;
	return 0;
}

/* Move a staged object's bytes back into buf and free its messages (the
 * object is partial, or is written some other way now).  Cannot fail. */
static void writer_unstage(struct store_writer *w)
{
	struct obj_put *op = &w->ring[(w->head + w->count) % w->max_inflight];

	if (!w->staged)
		return;
	layout_gather(op->k, (const uint8_t *const *)op->dptr, 0, 0, w->fill,
		      w->buf);
	obj_put_free_msgs(op);
	w->staged = 0;
}

static int writer_submit(struct store_writer *w)
{
	struct obj_put *op;
	uint64_t version = store_new_version(w->c);
	int rc;

	if (w->staged) {
		op = &w->ring[(w->head + w->count) % w->max_inflight];
		if (layout_shard_len(op->k, w->fill) != op->slen)
			writer_unstage(w); /* shorter shards: rebuild below */
	}
	if (w->staged) {
		rc = obj_put_send(w->c, &w->file, w->objno, w->fill, version,
				  op);
		if (rc)
			return rc;
		w->staged = 0;
	} else {
		rc = writer_slot(w, &op);
		if (rc)
			return rc;
		rc = obj_put_start(w->c, &w->file, w->objno, w->buf, w->fill,
				   version, op);
		if (rc)
			return rc;
	}
	w->count++;
	w->objno++;
	w->fill = 0;
	return 0;
}

int store_writer_write(struct store_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (w->err)
		return w->err;
	writer_unstage(w);
	while (len > 0) {
		size_t n = MIN(len, (size_t)(w->object_size - w->fill));

		memcpy(w->buf + w->fill, p, n);
		w->fill += (uint32_t)n;
		w->total += n;
		p += n;
		len -= n;
		if (w->fill == w->object_size) {
			int rc = writer_submit(w);

			if (rc)
				return w->err = rc;
		}
	}
	return 0;
}

ssize_t store_writer_read_fd(struct store_writer *w, int fd, const char *what)
{
	ssize_t n;
	int rc;

	if (w->err)
		return w->err;
	/* From the second object on the file is big: read each object
	 * straight into its shard messages (one copy less per byte than
	 * reading into buf and dealing it out).  The first object goes
	 * through buf, so a small file never allocates shard messages. */
	if (!w->staged && w->fill == 0 && w->objno > 0) {
		rc = writer_stage(w);
		if (rc)
			return w->err = rc;
	}
	if (w->staged) {
		n = obj_put_readv(&w->ring[(w->head + w->count) %
					   w->max_inflight],
				  fd, w->fill);
	} else {
		do
			n = read(fd, w->buf + w->fill,
				 w->object_size - w->fill);
		while (n < 0 && errno == EINTR);
	}
	if (n < 0)
		return store_fail(-errno, "cannot read %s: %s", what,
				  strerror(errno));
	if (n == 0)
		return 0;
	w->fill += (uint32_t)n;
	w->total += (uint64_t)n;
	if (w->fill == w->object_size) {
		rc = writer_submit(w);
		if (rc)
			return w->err = rc;
	}
	return n;
}

static void writer_free(struct store_writer *w)
{
	if (w->staged)
		obj_put_free_msgs(&w->ring[(w->head + w->count) %
					   w->max_inflight]);
	while (w->count) {
		obj_put_finish(&w->ring[w->head]);
		w->head = (w->head + 1) % w->max_inflight;
		w->count--;
	}
	free(w->buf);
	free(w->ring);
	free(w->objs);
	free(w);
}

void store_writer_abort(struct store_writer *w)
{
	if (w)
		writer_free(w);
}

int store_writer_close(struct store_writer *w, struct wire_attr *attr)
{
	struct store_client *c = w->c;
	int64_t now = (int64_t)wall_ns();
	int rc = w->err;

	if (rc)
		goto out;
	if (w->staged && w->fill == 0) {
		/* Staged at the end of the file: nothing went in. */
		obj_put_free_msgs(&w->ring[(w->head + w->count) %
					   w->max_inflight]);
		w->staged = 0;
	}
	if (w->objno == 0 && w->total <= c->inline_max) {
		/* Small file: the whole content goes inline to the MDS. */
		rc = store_commit(c, w->file.ino,
				  WIRE_COMMIT_INLINE | WIRE_COMMIT_TRUNC,
				  WIRE_SET_SIZE | WIRE_SET_MTIME, w->total, now,
				  NULL, 0, w->buf, (uint32_t)w->total, attr);
		goto out;
	}
	if (w->fill) {
		rc = writer_submit(w);
		if (rc)
			goto out;
	}
	while (w->count) {
		rc = writer_retire(w);
		if (rc)
			goto out;
	}
	/* Commit in pieces of at most STORE_LIST_MAX objects; the size goes
	 * with the last piece, so a reader sees the new size only with all
	 * of its objects. */
	for (size_t i = 0; i < w->n_objs || i == 0; i += STORE_LIST_MAX) {
		uint32_t n = (uint32_t)MIN(w->n_objs - i, STORE_LIST_MAX);
		int last = i + n >= w->n_objs;

		rc = store_commit(c, w->file.ino,
				  last ? WIRE_COMMIT_TRUNC : 0,
				  last ? WIRE_SET_SIZE | WIRE_SET_MTIME : 0,
				  w->total, now, w->objs + i, n, NULL, 0,
				  attr);
		if (rc)
			goto out;
		if (last)
			break;
	}
out:
	writer_free(w);
	return rc;
}

/* ---- the sequential reader --------------------------------------------*/

/*
 * The ring holds the objects read ahead, oldest first from head: the first
 * cur of its count slots are consumed (described in full by
 * store_reader_next()) but may still be held by the caller (refs > 0);
 * the rest are in flight or ready.  Invariants: cur <= count <= ring_cap;
 * count - cur <= max_inflight (read-ahead is not cut by what the caller
 * holds, up to STORE_READER_HOLD objects); the head slot is popped (its
 * buffers freed) only once consumed and released.
 */
struct reader_slot {
	uint64_t objno;
	int hole;
	struct wire_obj obj;
	struct obj_get og;
	int started;
	int finished; /* obj_get_finish() ran; its result is in rc */
	int rc;
	unsigned refs; /* pieces handed out and not yet released */
};

struct store_reader {
	struct store_client *c;
	struct wire_attr file;
	uint64_t size, pos;
	uint32_t object_size;
	uint8_t *inline_data; /* inline files: their data */
	uint32_t inline_len;
	struct wire_obj *objs; /* sorted by objno */
	size_t n_objs;
	size_t next_obj;    /* index into objs of the next object to start */
	uint64_t next_objno; /* next object number to start */
	unsigned max_inflight;
	unsigned ring_cap; /* max_inflight + STORE_READER_HOLD */
	struct reader_slot *ring;
	unsigned head, count, cur;
};

int store_reader_open(struct store_client *c, const struct wire_attr *file,
		      struct store_reader **out)
{
	struct store_reader *r;
	struct wire_attr a;
	uint32_t inl = 0;
	int more = 1, rc;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return store_fail(-ENOMEM, "out of memory");
	r->c = c;
	r->inline_data = malloc(STORE_INLINE_MAX);
	if (!r->inline_data) {
		free(r);
		return store_fail(-ENOMEM, "out of memory");
	}
	rc = store_open(c, file->ino, 0, &a, r->inline_data, STORE_INLINE_MAX,
			&inl);
	if (rc)
		goto fail;
	if (!S_ISREG(a.mode)) {
		rc = store_fail(-EISDIR, "inode %llu is not a regular file",
				(unsigned long long)a.ino);
		goto fail;
	}
	r->file = a;
	r->size = a.size;
	r->object_size = a.object_size;
	if (a.flags & WIRE_ATTR_INLINE) {
		/* Inline data may be shorter than the size (a truncate up):
		 * the rest reads as zeros. */
		r->inline_len = MIN(inl, STORE_INLINE_MAX);
		*out = r;
		return 0;
	}
	free(r->inline_data);
	r->inline_data = NULL;
	if (!r->object_size) {
		rc = store_fail(-EINVAL, "inode %llu has no object size",
				(unsigned long long)a.ino);
		goto fail;
	}
	while (more) {
		uint64_t first = r->n_objs ? r->objs[r->n_objs - 1].objno + 1 : 0;
		struct wire_obj *no = realloc(r->objs, (r->n_objs +
					      STORE_LIST_MAX) * sizeof(*no));
		uint32_t n = 0;

		if (!no) {
			rc = store_fail(-ENOMEM, "out of memory");
			goto fail;
		}
		r->objs = no;
		rc = store_objmap(c, a.ino, first, STORE_LIST_MAX,
				  r->objs + r->n_objs, &n, &more);
		if (rc)
			goto fail;
		r->n_objs += n;
		if (n == 0)
			break;
	}
	r->max_inflight = c->objects_in_flight;
	r->ring_cap = r->max_inflight + STORE_READER_HOLD;
	r->ring = calloc(r->ring_cap, sizeof(*r->ring));
	if (!r->ring) {
		rc = store_fail(-ENOMEM, "out of memory");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	free(r->inline_data);
	free(r->objs);
	free(r);
	return rc;
}

/* Start reading ahead until max_inflight objects are in flight (or ready,
 * not consumed), the ring is full, or the file ends. */
static void reader_fill(struct store_reader *r)
{
	while (r->count - r->cur < r->max_inflight &&
	       r->count < r->ring_cap &&
	       r->next_objno * r->object_size < r->size) {
		struct reader_slot *s =
			&r->ring[(r->head + r->count) % r->ring_cap];

		memset(s, 0, sizeof(*s));
		s->objno = r->next_objno++;
		while (r->next_obj < r->n_objs &&
		       r->objs[r->next_obj].objno < s->objno)
			r->next_obj++;
		if (r->next_obj < r->n_objs &&
		    r->objs[r->next_obj].objno == s->objno) {
			uint64_t left = r->size - s->objno * r->object_size;

			s->obj = r->objs[r->next_obj];
			/* Never read past the file's end, even if the object
			 * holds more. */
			if (s->obj.length > left)
				s->obj.length = (uint32_t)left;
			if (obj_get_start(r->c, &r->file, &s->obj, 0,
					  s->obj.length, &s->og))
				s->og.error = -EIO;
			s->started = 1;
		} else {
			s->hole = 1;
		}
		r->count++;
	}
}

/* Free the consumed, released slots at the head of the ring. */
static void reader_pop(struct store_reader *r)
{
	while (r->cur > 0 && r->ring[r->head].refs == 0) {
		struct reader_slot *s = &r->ring[r->head];

		if (s->started)
			obj_get_free(&s->og);
		s->started = 0;
		r->head = (r->head + 1) % r->ring_cap;
		r->count--;
		r->cur--;
	}
}

/* Zeros for holes and for bytes past an object's length. */
static const uint8_t reader_zeros[16 * STORE_STRIPE_UNIT];

/* Describe the inline file's bytes from pos, as store_reader_next(). */
static ssize_t reader_next_inline(struct store_reader *r, struct iovec *iov,
				  int max_iov, size_t max_len, int *n_iov)
{
	size_t n = r->pos < r->size ? MIN(max_len, r->size - r->pos) : 0;
	size_t done = 0;
	int ni = 0;

	while (done < n && ni < max_iov) {
		uint64_t at = r->pos + done;
		size_t piece;

		if (at < r->inline_len) {
			piece = MIN(n - done, r->inline_len - at);
			iov[ni].iov_base = r->inline_data + at;
		} else {
			piece = MIN(n - done, sizeof(reader_zeros));
			iov[ni].iov_base = (void *)reader_zeros;
		}
		iov[ni++].iov_len = piece;
		done += piece;
	}
	r->pos += done;
	*n_iov = ni;
	return (ssize_t)done;
}

ssize_t store_reader_next(struct store_reader *r, struct iovec *iov,
			  int max_iov, size_t max_len, int *n_iov,
			  unsigned *ticket)
{
	struct reader_slot *s;
	struct obj_get *og;
	uint64_t in_obj, n, done = 0;
	unsigned idx;
	int ni = 0;

	*n_iov = 0;
	*ticket = UINT_MAX;
	if (max_iov < 1 || max_len == 0)
		return -EINVAL;
	if (r->inline_data)
		return reader_next_inline(r, iov, max_iov, max_len, n_iov);
	if (r->pos >= r->size)
		return 0;
	reader_pop(r);
	reader_fill(r);
	if (r->cur == r->count)
		return r->count == r->ring_cap ? -EBUSY : 0;
	idx = (r->head + r->cur) % r->ring_cap;
	s = &r->ring[idx];
	og = &s->og;
	if (!s->hole && !s->finished) {
		s->rc = og->error ? og->error : obj_get_finish(og);
		s->finished = 1;
	}
	if (!s->hole && s->rc) {
		if (!store_last_error()[0])
			store_fail(s->rc, "read error in inode %llu",
				   (unsigned long long)r->file.ino);
		return s->rc;
	}
	in_obj = r->pos - s->objno * r->object_size;
	n = MIN((uint64_t)r->object_size - in_obj, r->size - r->pos);
	n = MIN(n, (uint64_t)max_len);
	while (done < n && ni < max_iov) {
		uint64_t off = in_obj + done;
		uint64_t piece;

		if (s->hole || off >= s->obj.length) {
			piece = MIN(n - done, sizeof(reader_zeros));
			iov[ni].iov_base = (void *)reader_zeros;
		} else {
			/* One stripe unit at most: the next lies in the next
			 * shard. */
			unsigned sh = layout_shard_of(og->k, off);
			uint32_t so = layout_shard_off(og->k, off);

			piece = MIN(n - done, STORE_STRIPE_UNIT -
					      off % STORE_STRIPE_UNIT);
			piece = MIN(piece, s->obj.length - off);
			iov[ni].iov_base = (void *)(og->data[sh] +
						    (so - og->base[sh]));
		}
		iov[ni++].iov_len = (size_t)piece;
		done += piece;
	}
	r->pos += done;
	s->refs++;
	*ticket = idx;
	if (r->pos - s->objno * r->object_size >= r->object_size ||
	    r->pos >= r->size)
		r->cur++; /* consumed: popped once every piece is released */
	*n_iov = ni;
	return (ssize_t)done;
}

void store_reader_release(struct store_reader *r, unsigned ticket)
{
	if (ticket >= r->ring_cap || !r->ring || r->ring[ticket].refs == 0)
		return;
	r->ring[ticket].refs--;
	reader_pop(r);
}

ssize_t store_reader_read(struct store_reader *r, void *buf, size_t len)
{
	struct iovec iov[64];
	uint8_t *dst = buf;
	size_t done = 0;

	while (done < len) {
		unsigned ticket;
		int n_iov;
		ssize_t n = store_reader_next(r, iov, 64, len - done, &n_iov,
					      &ticket);

		if (n < 0)
			return n;
		if (n == 0)
			break;
		for (int i = 0; i < n_iov; i++) {
			memcpy(dst + done, iov[i].iov_base, iov[i].iov_len);
			done += iov[i].iov_len;
		}
		store_reader_release(r, ticket);
	}
	return (ssize_t)done;
}

void store_reader_close(struct store_reader *r)
{
	if (!r)
		return;
	while (r->count) {
		struct reader_slot *s = &r->ring[r->head];

		if (s->started)
			obj_get_free(&s->og);
		r->head = (r->head + 1) % r->ring_cap;
		r->count--;
	}
	free(r->ring);
	free(r->inline_data);
	free(r->objs);
	free(r);
}
