/*
 * hash.h -- the hashes placement depends on.  Every party computes the same
 * placement from the same map, so these functions are part of the on-disk
 * and wire contract: changing one moves data.
 *
 * hash64() is XXH64 (Yann Collet's xxHash, 64-bit variant), used for
 * object -> PG.  hash32_2/3() are Robert Jenkins' 96-bit mix as used by
 * Ceph's CRUSH ("rjenkins1"), used for the straw2 draws, where three small
 * integers (input, item, attempt) must be mixed cheaply and well.
 */
#ifndef STORE_HASH_H
#define STORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* XXH64 of len bytes at p with the given seed. */
uint64_t hash64(const void *p, size_t len, uint64_t seed);

/* XXH64 of the 16 little-endian bytes (ino, objno): an object's identity. */
uint64_t hash_object(uint64_t ino, uint64_t objno);

/* Jenkins mix of two / three 32-bit words. */
uint32_t hash32_2(uint32_t a, uint32_t b);
uint32_t hash32_3(uint32_t a, uint32_t b, uint32_t c);

/* out[i] = hash32_3(a, b[i], c) for i < n: the same values, computed
 * several lanes at a time (straw2 draws one hash per bucket item, and this
 * mix is a long serial chain that a single call cannot overlap). */
void hash32_3_many(uint32_t a, const uint32_t *b, uint32_t c, uint32_t *out,
		   size_t n);

/* Jenkins mix over a string (for host names -> stable bucket ids). */
uint32_t hash32_str(const char *s);

#endif
