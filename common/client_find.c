/*
 * client_find.c -- finding shards away from their positions: see
 * client_find.h.
 */
#include "client_find.h"
#include "crc.h"
#include "util.h"
#include "wire_osd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A request to give up on if it is not on the wire by then. */
#define FIND_SEND_TIMEOUT_MS 1000

struct probe {
	struct rpc_call call;
	unsigned index;
	uint32_t osd;
	int sent;
};

static int csums_ok(const uint8_t *data, uint32_t len, const uint8_t *csums)
{
	for (uint32_t off = 0, i = 0; off < len; off += WIRE_CSUM_BLOCK, i++)
		if (get_le32(csums + 4 * i) !=
		    store_crc32c(0, data + off, MIN(WIRE_CSUM_BLOCK, len - off)))
			return 0;
	return 1;
}

uint32_t client_find_shards(struct store_client *c, const struct placement *pl,
			    uint64_t ino, const struct wire_obj *obj,
			    uint32_t missing, uint32_t base, uint32_t len,
			    uint32_t timeout_ms, struct rpc_call *calls,
			    const uint8_t **data)
{
	uint32_t *osds = NULL, n_osds = 0, found = 0;
	char (*addrs)[STORE_ADDR_MAX + 1] = NULL;
	struct probe *pr = NULL;
	struct rpc_group g;
	size_t np = 0;

	osds = calloc(CLIENT_FIND_MAX_OSDS, sizeof(*osds));
	addrs = calloc(CLIENT_FIND_MAX_OSDS, sizeof(*addrs));
	if (!osds || !addrs)
		goto out;
	pthread_rwlock_rdlock(&c->map_lock);
	for (uint32_t i = 0; i < c->map.n_osds && n_osds < CLIENT_FIND_MAX_OSDS;
	     i++) {
		if (!c->map.osds[i].exists || !c->map.osds[i].up)
			continue;
		snprintf(addrs[n_osds], sizeof(addrs[0]), "%s",
			 c->map.osds[i].addr);
		osds[n_osds++] = i;
	}
	pthread_rwlock_unlock(&c->map_lock);
	pr = calloc((size_t)n_osds * __builtin_popcount(missing) + 1,
		    sizeof(*pr));
	if (!pr)
		goto out;
	rpc_group_init(&g);
	for (unsigned i = 0; i < pl->n; i++) {
		if (!(missing & (1u << i)))
			continue;
		for (uint32_t o = 0; o < n_osds; o++) {
			struct wire_shard_get q;
			struct probe *p = &pr[np];
			struct rpc_peer *peer;
			struct wbuf w;

			if (osds[o] == pl->osd[i] ||
			    rpc_peer_get(c->eng, addrs[o], CLIENT_OSD_CONNS,
					 &peer))
				continue;
			memset(&q, 0, sizeof(q));
			q.id.pool = pl->pool.id;
			q.id.ino = ino;
			q.id.objno = obj->objno;
			q.id.version = obj->version;
			q.id.index = (uint8_t)i;
			q.offset = base;
			q.len = len;
			wbuf_init(&w);
			wire_enc_shard_get(&w, &q);
			if (w.err || client_frame(&p->call, WIRE_SHARD_GET,
						  pl->epoch, w.p, w.len) ||
			    client_auth_shard(c, &p->call, osds[o], ino, 0)) {
				wbuf_free(&w);
				if (p->call.req)
					net_free(p->call.req);
				memset(p, 0, sizeof(*p));
				continue;
			}
			wbuf_free(&w);
			p->index = i;
			p->osd = osds[o];
			p->call.peer = peer;
			p->call.timeout_ms = timeout_ms;
			p->call.send_timeout_ms = FIND_SEND_TIMEOUT_MS;
			p->sent = 1;
			rpc_group_submit(c->eng, &g, &p->call);
			np++;
		}
	}
	rpc_group_wait(&g);
	rpc_group_destroy(&g);
	for (size_t k = 0; k < np; k++) {
		struct probe *p = &pr[k];
		struct wire_shard_get_reply r;

		if (!p->sent)
			continue;
		if (!(found & (1u << p->index)) && rpc_result(&p->call) == 0 &&
		    wire_dec_shard_get_reply(rpc_reply_payload(&p->call),
					     p->call.rhdr.payload_len, &r) == 0 &&
		    r.version == obj->version && r.offset == base &&
		    r.data_len == len && csums_ok(r.data, r.data_len, r.csums)) {
			found |= 1u << p->index;
			calls[p->index] = p->call;
			data[p->index] = r.data;
			continue; /* the reply now belongs to calls[] */
		}
		rpc_call_release(&p->call);
	}
out:
	free(pr);
	free(osds);
	free(addrs);
	return found;
}
