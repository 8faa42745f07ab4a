/*
 * hash.c -- see hash.h.
 */
#include "hash.h"
#include "buf.h"

#include <string.h>

#define XXH_P1 0x9E3779B185EBCA87ull
#define XXH_P2 0xC2B2AE3D27D4EB4Full
#define XXH_P3 0x165667B19E3779F9ull
#define XXH_P4 0x85EBCA77C2B2AE63ull
#define XXH_P5 0x27D4EB2F165667C5ull

static inline uint64_t rotl64(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t xxh_round(uint64_t acc, uint64_t in)
{
	acc += in * XXH_P2;
	acc = rotl64(acc, 31);
	return acc * XXH_P1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t v)
{
	acc ^= xxh_round(0, v);
	return acc * XXH_P1 + XXH_P4;
}

uint64_t hash64(const void *data, size_t len, uint64_t seed)
{
	const uint8_t *p = data, *end = p + len;
	uint64_t h;

	if (len >= 32) {
		uint64_t v1 = seed + XXH_P1 + XXH_P2, v2 = seed + XXH_P2;
		uint64_t v3 = seed, v4 = seed - XXH_P1;

		do {
			v1 = xxh_round(v1, get_le64(p));
			v2 = xxh_round(v2, get_le64(p + 8));
			v3 = xxh_round(v3, get_le64(p + 16));
			v4 = xxh_round(v4, get_le64(p + 24));
			p += 32;
		} while (end - p >= 32);
		h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) +
		    rotl64(v4, 18);
		h = xxh_merge(h, v1);
		h = xxh_merge(h, v2);
		h = xxh_merge(h, v3);
		h = xxh_merge(h, v4);
	} else {
		h = seed + XXH_P5;
	}
	h += (uint64_t)len;
	while (end - p >= 8) {
		h ^= xxh_round(0, get_le64(p));
		h = rotl64(h, 27) * XXH_P1 + XXH_P4;
		p += 8;
	}
	if (end - p >= 4) {
		h ^= (uint64_t)get_le32(p) * XXH_P1;
		h = rotl64(h, 23) * XXH_P2 + XXH_P3;
		p += 4;
	}
	while (p < end) {
		h ^= (*p++) * XXH_P5;
		h = rotl64(h, 11) * XXH_P1;
	}
	h ^= h >> 33;
	h *= XXH_P2;
	h ^= h >> 29;
	h *= XXH_P3;
	h ^= h >> 32;
	return h;
}

uint64_t hash_object(uint64_t ino, uint64_t objno)
{
	uint8_t key[16];

	put_le64(key, ino);
	put_le64(key + 8, objno);
	return hash64(key, sizeof(key), 0);
}

/* Robert Jenkins' 96-bit mix (public domain, 1996). */
#define JENKINS_MIX(a, b, c)                                                   \
	do {                                                                   \
		a -= b; a -= c; a ^= (c >> 13);                                \
		b -= c; b -= a; b ^= (a << 8);                                 \
		c -= a; c -= b; c ^= (b >> 13);                                \
		a -= b; a -= c; a ^= (c >> 12);                                \
		b -= c; b -= a; b ^= (a << 16);                                \
		c -= a; c -= b; c ^= (b >> 5);                                 \
		a -= b; a -= c; a ^= (c >> 3);                                 \
		b -= c; b -= a; b ^= (a << 10);                                \
		c -= a; c -= b; c ^= (b >> 15);                                \
	} while (0)

/* Seed of Ceph's rjenkins1, kept so the mix starts from a fixed odd value. */
#define JENKINS_SEED 1315423911u

uint32_t hash32_2(uint32_t a, uint32_t b)
{
	uint32_t hash = JENKINS_SEED ^ a ^ b;
	uint32_t x = 231232, y = 1232;

	JENKINS_MIX(a, b, hash);
	JENKINS_MIX(x, a, hash);
	JENKINS_MIX(b, y, hash);
	return hash;
}

uint32_t hash32_3(uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t hash = JENKINS_SEED ^ a ^ b ^ c;
	uint32_t x = 231232, y = 1232;

	JENKINS_MIX(a, b, hash);
	JENKINS_MIX(c, x, hash);
	JENKINS_MIX(y, a, hash);
	JENKINS_MIX(b, x, hash);
	JENKINS_MIX(y, c, hash);
	return hash;
}

/* Eight lanes: GCC lowers this to the widest vectors the target has (two
 * SSE2 registers on baseline x86-64), with identical results everywhere. */
typedef uint32_t hash_v8 __attribute__((vector_size(32)));

void hash32_3_many(uint32_t a, const uint32_t *b, uint32_t c, uint32_t *out,
		   size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		size_t lanes = n - i < 8 ? n - i : 8;
		hash_v8 va = (hash_v8){ 0 } + a, vb = { 0 };
		hash_v8 vc = (hash_v8){ 0 } + c, hash;
		hash_v8 x = (hash_v8){ 0 } + 231232, y = (hash_v8){ 0 } + 1232;

		memcpy(&vb, b + i, lanes * sizeof(*b));
		hash = JENKINS_SEED ^ va ^ vb ^ vc;
		JENKINS_MIX(va, vb, hash);
		JENKINS_MIX(vc, x, hash);
		JENKINS_MIX(y, va, hash);
		JENKINS_MIX(vb, x, hash);
		JENKINS_MIX(y, vc, hash);
		memcpy(out + i, &hash, lanes * sizeof(*out));
	}
}

uint32_t hash32_str(const char *s)
{
	return (uint32_t)hash64(s, strlen(s), 0x686f7374 /* "host" */);
}
