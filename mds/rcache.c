/*
 * rcache.c -- the reply cache: see rcache.h.  A ring of entries (the
 * oldest is overwritten) indexed by a chained hash table of ring slots.
 */
#include "rcache.h"
#include "hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct rc_ent {
	uint64_t req_id;
	uint8_t used;
	uint8_t type;
	int32_t status;
	uint32_t next; /* hash chain */
	size_t len;
	uint8_t *payload;
};

struct rcache {
	uint32_t cap, n_buckets, head, count;
	size_t max_len;
	struct rc_ent *ents;
	uint32_t *buckets;
};

int rcache_create(uint32_t cap, size_t max_len, struct rcache **out)
{
	struct rcache *rc = calloc(1, sizeof(*rc));

	*out = NULL;
	if (!rc || !cap)
		goto fail;
	rc->cap = cap;
	rc->max_len = max_len;
	rc->n_buckets = 1;
	while (rc->n_buckets < 2 * cap)
		rc->n_buckets <<= 1;
	rc->ents = calloc(cap, sizeof(*rc->ents));
	rc->buckets = malloc(rc->n_buckets * sizeof(*rc->buckets));
	if (!rc->ents || !rc->buckets)
		goto fail;
	for (uint32_t i = 0; i < rc->n_buckets; i++)
		rc->buckets[i] = NIL;
	*out = rc;
	return 0;
fail:
	rcache_free(rc);
	return -ENOMEM;
}

void rcache_free(struct rcache *rc)
{
	if (!rc)
		return;
	if (rc->ents)
		for (uint32_t i = 0; i < rc->cap; i++)
			free(rc->ents[i].payload);
	free(rc->ents);
	free(rc->buckets);
	free(rc);
}

static uint32_t bucket(const struct rcache *rc, uint64_t req_id)
{
	return (uint32_t)hash64(&req_id, sizeof(req_id), 0) &
	       (rc->n_buckets - 1);
}

static uint32_t find(const struct rcache *rc, uint64_t req_id)
{
	for (uint32_t i = rc->buckets[bucket(rc, req_id)]; i != NIL;
	     i = rc->ents[i].next)
		if (rc->ents[i].req_id == req_id)
			return i;
	return NIL;
}

static void unlink_slot(struct rcache *rc, uint32_t slot)
{
	uint32_t *p = &rc->buckets[bucket(rc, rc->ents[slot].req_id)];

	while (*p != NIL && *p != slot)
		p = &rc->ents[*p].next;
	if (*p == slot)
		*p = rc->ents[slot].next;
	free(rc->ents[slot].payload);
	memset(&rc->ents[slot], 0, sizeof(rc->ents[slot]));
	rc->count--;
}

int rcache_get(const struct rcache *rc, uint64_t req_id, unsigned type,
	       struct rcache_hit *hit)
{
	uint32_t i = find(rc, req_id);

	if (i == NIL || rc->ents[i].type != type)
		return 0;
	hit->status = rc->ents[i].status;
	hit->payload = rc->ents[i].payload;
	hit->len = rc->ents[i].len;
	return 1;
}

int rcache_put(struct rcache *rc, uint64_t req_id, unsigned type,
	       int32_t status, const uint8_t *payload, size_t len)
{
	uint32_t slot = find(rc, req_id);
	struct rc_ent *e;
	uint8_t *copy = NULL;

	if (len > rc->max_len)
		return 0;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, payload, len);
	}
	if (slot != NIL)
		unlink_slot(rc, slot);
	slot = rc->head;
	rc->head = (rc->head + 1) % rc->cap;
	if (rc->ents[slot].used)
		unlink_slot(rc, slot);
	e = &rc->ents[slot];
	e->req_id = req_id;
	e->used = 1;
	e->type = (uint8_t)type;
	e->status = status;
	e->len = len;
	e->payload = copy;
	e->next = rc->buckets[bucket(rc, req_id)];
	rc->buckets[bucket(rc, req_id)] = slot;
	rc->count++;
	return 0;
}

uint32_t rcache_count(const struct rcache *rc)
{
	return rc->count;
}
