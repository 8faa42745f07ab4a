/*
 * recov_job.c -- the work of one object, on a worker thread: copy misplaced
 * shards home, rebuild missing ones from any k others, delete the copies
 * that were away from home once the shard is in place, and (deep scrub)
 * check that the parity matches the data.  See recov_int.h and
 * docs/recovery.md.
 *
 * Every shard read is a whole shard (EC is byte-wise across shards, so
 * whole shards decode into whole shards) whose block crcs are checked
 * here again; every write is a SHARD_PUT with WIRE_PUT_RECOVERY whose
 * acknowledgement means the shard is durable at its home.
 */
#include "recov_int.h"
#include "crc.h"
#include "util.h"
#include "wire.h"
#include "wire_osd.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void compute_csums(const uint8_t *data, uint32_t len, uint8_t *csums)
{
	for (uint32_t off = 0, i = 0; off < len; off += WIRE_CSUM_BLOCK, i++)
		put_le32(csums + 4 * i,
			 store_crc32c(0, data + off,
				      MIN(WIRE_CSUM_BLOCK, len - off)));
}

static int csums_ok(const uint8_t *data, uint32_t len, const uint8_t *csums)
{
	for (uint32_t off = 0, i = 0; off < len; off += WIRE_CSUM_BLOCK, i++)
		if (get_le32(csums + 4 * i) !=
		    store_crc32c(0, data + off, MIN(WIRE_CSUM_BLOCK, len - off)))
			return 0;
	return 1;
}

static struct wire_shard_id shard_id(uint32_t pool, const struct recov_job *j,
				     unsigned index)
{
	struct wire_shard_id id = { pool, j->ino, j->objno, j->version,
				    (uint8_t)index };

	return id;
}

/* Start reading shard index of j, whole, from osd. */
static void get_start(struct recov *r, struct rpc_group *g, struct rpc_call *c,
		      uint32_t pool, const struct recov_job *j, unsigned index,
		      uint32_t osd)
{
	struct wire_shard_get q;
	struct wbuf w;

	memset(&q, 0, sizeof(q));
	q.id = shard_id(pool, j, index);
	wbuf_init(&w);
	wire_enc_shard_get(&w, &q);
	if (recov_frame(r, c, WIRE_SHARD_GET, &w)) {
		memset(c, 0, sizeof(*c));
		c->status = -ENOMEM;
	} else {
		recov_send(r, g, c, osd, RECOV_SHARD_TIMEOUT_MS);
	}
	wbuf_free(&w);
}

/* Check a finished read: the whole shard of the right version, lengths
 * and crcs.  Returns the data (inside c's reply) and its crcs, or NULL. */
static const uint8_t *get_finish(struct recov *r, struct rpc_call *c,
				 const struct recov_job *j, const uint8_t **csums)
{
	struct wire_shard_get_reply rep;

	if (recov_done(r, c) ||
	    wire_dec_shard_get_reply(rpc_reply_payload(c), c->rhdr.payload_len,
				     &rep) ||
	    rep.version != j->version || rep.k != j->k || rep.m != j->m ||
	    rep.obj_len != j->obj_len || rep.shard_len != j->shard_len ||
	    rep.offset != 0 || rep.data_len != j->shard_len ||
	    !csums_ok(rep.data, rep.data_len, rep.csums))
		return NULL;
	*csums = rep.csums;
	return rep.data ? rep.data : (const uint8_t *)"";
}

/* Build a SHARD_PUT (RECOVERY) frame into c, reserving the data (and crc)
 * room in place: *data and *csums point into the message.  Returns 0 or
 * -ENOMEM. */
static int put_frame(struct recov *r, struct rpc_call *c, uint32_t pool,
		     const struct recov_job *j, unsigned index, uint8_t **data,
		     uint8_t **csums)
{
	struct wire_shard_put put = {
		.id = shard_id(pool, j, index),
		.k = j->k, .m = j->m, .obj_len = j->obj_len,
		.flags = WIRE_PUT_RECOVERY, .data_len = j->shard_len,
	};
	struct wbuf w;

	memset(c, 0, sizeof(*c));
	wbuf_init_alloc(&w, &net_wbuf_alloc);
	if (!wbuf_reserve(&w, WIRE_HDR_LEN + 64 +
				      (size_t)wire_csum_count(j->shard_len) * 4 +
				      j->shard_len))
		return -ENOMEM;
	w.len = 0;
	wire_msg_begin(&w, WIRE_SHARD_PUT, 0, 0,
		       __atomic_load_n(&r->epoch, __ATOMIC_RELAXED), 0);
	*data = wire_enc_shard_put_inplace(&w, &put, csums);
	if (!*data || wire_msg_finish(&w, 0)) {
		wbuf_free(&w);
		return -ENOMEM;
	}
	c->req = w.p;
	c->req_len = w.len;
	c->req_nn = 1;
	return 0;
}

/* Free a frame that was built but never sent. */
static void unsent(struct rpc_call *c)
{
	if (c->req && c->req_nn)
		net_free(c->req);
	c->req = NULL;
}

/* Copy shard index from j->src[index] to j->dst[index].  Returns 0 once
 * the copy is durable, else -errno. */
static int copy_one(struct recov *r, uint32_t pool, const struct recov_job *j,
		    unsigned index)
{
	struct rpc_call get, put;
	const uint8_t *data, *csums = NULL;
	uint8_t *pd, *pc;
	struct rpc_group g;
	int rc;

	if (recov_throttle(r, j->shard_len))
		return -ESHUTDOWN;
	rpc_group_init(&g);
	get_start(r, &g, &get, pool, j, index, j->src[index]);
	rpc_group_wait(&g);
	data = get_finish(r, &get, j, &csums);
	if (!data) {
		rpc_call_release(&get);
		rpc_group_destroy(&g);
		return -EIO;
	}
	rc = put_frame(r, &put, pool, j, index, &pd, &pc);
	if (rc == 0 && j->shard_len) {
		memcpy(pd, data, j->shard_len);
		memcpy(pc, csums, (size_t)wire_csum_count(j->shard_len) * 4);
	}
	rpc_call_release(&get);
	if (rc == 0 && recov_throttle(r, j->shard_len)) {
		unsent(&put);
		rc = -ESHUTDOWN;
	}
	if (rc == 0) {
		recov_send(r, &g, &put, j->dst[index], RECOV_SHARD_TIMEOUT_MS);
		rpc_group_wait(&g);
		rc = recov_done(r, &put);
		if (rc) {
			char why[160];

			recov_errtext(&put, why, sizeof(why));
			log_ratelimited(&r->err_log, LOG_WARN,
					"%s: moving shard %u of object %" PRIu64
					" of inode %" PRIu64 " to osd.%u "
					"failed: %s", r->name, index,
					j->objno, j->ino, j->dst[index], why);
		}
		rpc_call_release(&put);
	}
	rpc_group_destroy(&g);
	return rc;
}

/* The shards read for a rebuild or a parity check. */
struct reads {
	struct rpc_call calls[STORE_EC_MAX_SHARDS];
	const uint8_t *data[STORE_EC_MAX_SHARDS];
	uint32_t have; /* bits: data[i] holds good bytes */
	uint32_t used; /* bits: calls[i] holds a reply */
};

static void reads_release(struct reads *rd)
{
	for (unsigned i = 0; i < STORE_EC_MAX_SHARDS; i++)
		if (rd->used & (1u << i))
			rpc_call_release(&rd->calls[i]);
	rd->used = rd->have = 0;
}

/* Read whole shards until `want` good ones are in hand, trying the
 * indexes of `cand` (bits) in order.  Returns how many were read. */
static unsigned read_shards(struct recov *r, uint32_t pool,
			    const struct recov_job *j, uint32_t cand,
			    unsigned want, struct reads *rd)
{
	unsigned n = (unsigned)j->k + j->m, have = 0;

	while (have < want && cand) {
		struct rpc_group g;
		uint32_t asked = 0;

		rpc_group_init(&g);
		for (unsigned i = 0; i < n && have + __builtin_popcount(asked) <
						      want; i++) {
			if (!(cand & (1u << i)))
				continue;
			cand &= ~(1u << i);
			if (recov_throttle(r, j->shard_len))
				break;
			get_start(r, &g, &rd->calls[i], pool, j, i, j->src[i]);
			asked |= 1u << i;
		}
		rpc_group_wait(&g);
		rpc_group_destroy(&g);
		if (!asked)
			break;
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *cs;

			if (!(asked & (1u << i)))
				continue;
			rd->used |= 1u << i;
			rd->data[i] = get_finish(r, &rd->calls[i], j, &cs);
			if (rd->data[i]) {
				rd->have |= 1u << i;
				have++;
			}
		}
		if (recov_stopping(r))
			break;
	}
	return have;
}

/* Rebuild the shards of `need` (bits) from any k others and write each to
 * its home; bits of the shards now durable are set in *written. */
static void rebuild(struct recov *r, uint32_t pool, const struct recov_job *j,
		    uint32_t need, uint32_t *written)
{
	unsigned k = j->k, n = (unsigned)j->k + j->m;
	struct rpc_call puts[STORE_EC_MAX_SHARDS];
	uint8_t *ptrs[STORE_EC_MAX_SHARDS], *pcs[STORE_EC_MAX_SHARDS];
	struct ec_codec *ec = recov_codec(r, k, j->m);
	struct reads *rd = calloc(1, sizeof(*rd));
	uint32_t cand = 0, built = 0;
	struct rpc_group g;

	if (!rd || !ec) {
		free(rd);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (!(need & (1u << i)) && j->src[i] != CRUSH_NONE)
			cand |= 1u << i;
	if (j->shard_len && read_shards(r, pool, j, cand, k, rd) < k) {
		log_ratelimited(&r->err_log, LOG_WARN,
				"%s: cannot rebuild object %" PRIu64 " of inode "
				"%" PRIu64 " (version %" PRIx64 "): fewer than "
				"%u of its shards could be read; will retry",
				r->name, j->objno, j->ino, j->version, k);
		goto out;
	}
	memset(ptrs, 0, sizeof(ptrs));
	for (unsigned i = 0; i < n; i++) {
		if (rd->have & (1u << i))
			ptrs[i] = (uint8_t *)rd->data[i];
		if (!(need & (1u << i)))
			continue;
		if (put_frame(r, &puts[i], pool, j, i, &ptrs[i], &pcs[i])) {
			ptrs[i] = NULL;
			continue;
		}
		built |= 1u << i;
	}
	if (built != need || (j->shard_len &&
			      ec_decode(ec, j->shard_len, ptrs, rd->have,
					need))) {
		for (unsigned i = 0; i < n; i++)
			if (built & (1u << i))
				unsent(&puts[i]);
		goto out;
	}
	/* The sources are no longer needed: free their replies before the
	 * writes go out. */
	reads_release(rd);
	rpc_group_init(&g);
	for (unsigned i = 0; i < n; i++) {
		if (!(built & (1u << i)))
			continue;
		compute_csums(ptrs[i], j->shard_len, pcs[i]);
		if (recov_throttle(r, j->shard_len)) {
			unsent(&puts[i]);
			built &= ~(1u << i);
			continue;
		}
		recov_send(r, &g, &puts[i], j->dst[i], RECOV_SHARD_TIMEOUT_MS);
	}
	rpc_group_wait(&g);
	rpc_group_destroy(&g);
	for (unsigned i = 0; i < n; i++) {
		char why[160];

		if (!(built & (1u << i)))
			continue;
		if (recov_done(r, &puts[i]) == 0) {
			*written |= 1u << i;
		} else {
			recov_errtext(&puts[i], why, sizeof(why));
			log_ratelimited(&r->err_log, LOG_WARN,
					"%s: writing rebuilt shard %u of object "
					"%" PRIu64 " of inode %" PRIu64 " to "
					"osd.%u failed: %s", r->name, i,
					j->objno, j->ino, j->dst[i], why);
		}
		rpc_call_release(&puts[i]);
	}
out:
	reads_release(rd);
	free(rd);
}

/* Delete the copies that were away from home, for the indexes now in
 * place.  Returns the number that failed. */
static unsigned drop_copies(struct recov *r, uint32_t pool,
			    const struct recov_job *j, uint32_t written)
{
	struct rpc_call *calls = calloc(RECOV_DROPS_MAX, sizeof(*calls));
	unsigned failed = 0, used = 0;
	struct rpc_group g;

	if (!calls)
		return j->n_drops;
	rpc_group_init(&g);
	for (uint32_t d = 0; d < j->n_drops; d++) {
		struct wire_shard_delete del;
		struct wbuf w;

		if (!(written & (1u << j->drops[d].index)))
			continue;
		del.id = shard_id(pool, j, j->drops[d].index);
		del.flags = 0;
		wbuf_init(&w);
		wire_enc_shard_delete(&w, &del);
		if (recov_frame(r, &calls[used], WIRE_SHARD_DELETE, &w) == 0)
			recov_send(r, &g, &calls[used++], j->drops[d].osd,
				 RECOV_SMALL_TIMEOUT_MS);
		else
			failed++;
		wbuf_free(&w);
	}
	rpc_group_wait(&g);
	rpc_group_destroy(&g);
	for (unsigned i = 0; i < used; i++) {
		failed += recov_done(r, &calls[i]) != 0;
		rpc_call_release(&calls[i]);
	}
	free(calls);
	return failed;
}

/* Deep scrub: read every shard, recompute the parity from the data and
 * compare.  A mismatch is pinned on the one shard whose exclusion makes
 * the rest consistent, which is then rewritten. */
static void parity_check(struct recov *r, uint32_t pool, const struct recov_job *j,
			 struct recov_job_result *res)
{
	unsigned k = j->k, m = j->m, n = k + m, suspects = 0, bad = 0;
	uint32_t len = j->shard_len, all = (1u << n) - 1;
	struct ec_codec *ec = recov_codec(r, k, m);
	uint8_t *tmp[STORE_EC_MAX_SHARDS], *ptrs[STORE_EC_MAX_SHARDS];
	struct reads *rd = calloc(1, sizeof(*rd));
	int mismatch = 0;

	memset(tmp, 0, sizeof(tmp));
	if (!rd || !ec || !len)
		goto out;
	if (read_shards(r, pool, j, all, n, rd) < n)
		goto out; /* cannot tell; the light check covers the rest */
	for (unsigned i = 0; i < n; i++) {
		tmp[i] = malloc(len);
		if (!tmp[i])
			goto out;
		ptrs[i] = (uint8_t *)rd->data[i];
	}
	ec_encode(ec, len, ptrs, tmp + k);
	for (unsigned p = 0; p < m; p++)
		mismatch |= memcmp(tmp[k + p], rd->data[k + p], len) != 0;
	if (!mismatch)
		goto out;
	/* Which shard?  Exclude each in turn, decode the others from k of
	 * the rest, and see whether they all agree with what was read. */
	for (unsigned c = 0; c < n; c++) {
		uint32_t present = 0, want;
		int ok = 1;

		for (unsigned i = 0; i < n && __builtin_popcount(present) < (int)k;
		     i++)
			if (i != c)
				present |= 1u << i;
		want = all & ~present;
		for (unsigned i = 0; i < n; i++)
			ptrs[i] = (present & (1u << i)) ?
					  (uint8_t *)rd->data[i] : tmp[i];
		if (ec_decode(ec, len, ptrs, present, want))
			goto out;
		for (unsigned i = 0; i < n && ok; i++)
			if ((want & (1u << i)) && i != c &&
			    memcmp(tmp[i], rd->data[i], len))
				ok = 0;
		if (ok) {
			suspects++;
			bad = c;
		}
	}
	res->corrupt++;
	if (suspects != 1) {
		res->parity_bad++;
		log_ratelimited(&r->corrupt_log, LOG_ERR,
				"%s: deep scrub: object %" PRIu64 " of inode "
				"%" PRIu64 " (version %" PRIx64 "): parity does "
				"not match the data and no single shard "
				"explains it; left as is", r->name, j->objno,
				j->ino, j->version);
		goto out;
	}
	log_ratelimited(&r->corrupt_log, LOG_WARN,
			"%s: deep scrub: shard %u of object %" PRIu64 " of "
			"inode %" PRIu64 " on osd.%u does not match the "
			"others (its crcs are valid); rewriting it", r->name,
			bad, j->objno, j->ino, j->src[bad]);
	{
		struct recov_job fix = *j;
		uint32_t written = 0;

		fix.src[bad] = CRUSH_NONE;
		reads_release(rd);
		rebuild(r, pool, &fix, 1u << bad, &written);
		if (written) {
			res->written++;
			res->rebuilt++;
			res->bytes += len;
		} else {
			res->ok = 0;
		}
	}
out:
	for (unsigned i = 0; i < n; i++)
		free(tmp[i]);
	if (rd)
		reads_release(rd);
	free(rd);
}

void recov_run_job(struct recov *r, const struct recov_jobq *q,
		 struct recov_job_result *res)
{
	struct recov_job j = q->job;
	unsigned n = (unsigned)j.k + j.m;
	uint32_t written = 0, need = 0, rebuilt;

	memset(res, 0, sizeof(*res));
	res->ok = 1;
	if (q->epoch != __atomic_load_n(&r->epoch, __ATOMIC_RELAXED)) {
		res->ok = 0; /* planned under an older map: check again */
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		if (j.act[i] != RECOV_COPY)
			continue;
		if (copy_one(r, q->pool, &j, i) == 0) {
			written |= 1u << i;
		} else if (!recov_stopping(r)) {
			/* The copy could not be read: rebuild it instead,
			 * without reading that holder's copy again. */
			j.act[i] = RECOV_REBUILD;
			j.src[i] = CRUSH_NONE;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (j.act[i] == RECOV_REBUILD)
			need |= 1u << i;
	rebuilt = written;
	if (need && !recov_stopping(r))
		rebuild(r, q->pool, &j, need, &written);
	rebuilt = written & ~rebuilt;
	for (unsigned i = 0; i < n; i++) {
		if (!(written & (1u << i))) {
			if (j.act[i] != RECOV_NONE)
				res->ok = 0;
			continue;
		}
		res->written++;
		res->rebuilt += !!(rebuilt & (1u << i));
		res->bytes += j.shard_len;
	}
	if (j.n_drops && drop_copies(r, q->pool, &j, written))
		res->ok = 0;
	if (j.parity_check && !recov_stopping(r))
		parity_check(r, q->pool, &j, res);
}
