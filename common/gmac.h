/*
 * gmac.h -- the AES-256-GCM tag of associated data alone (GMAC), fast.
 *
 * Every signed frame that is not sealed carries the tag AES-256-GCM gives
 * the whole frame as associated data with an empty message: that is GMAC,
 * GHASH over the frame masked by one AES block.  libsodium computes it at
 * about 5.6 GB/s on the machines we run on (one PCLMULQDQ a lane, four
 * blocks a reduction), and a put of 1 GiB at 4+2 signs 1.5 GB on the client
 * and verifies the same 1.5 GB on the OSDs: a fifth of a put's CPU.  This
 * module computes the very same tag with VPCLMULQDQ on 256-bit lanes and
 * sixteen blocks a reduction where the CPU has it (512-bit lanes and 32
 * blocks a reduction on frames of 4 KiB or more where it also has AVX-512
 * F and BW), and falls back to libsodium where it does not, so the wire
 * format does not change and either side may use either path.
 *
 * gmac_init() checks the fast path against libsodium on a few hundred
 * inputs before it is ever used (a wrong tag would make every peer refuse
 * every frame); a mismatch turns it off for the life of the process.
 */
#ifndef STORE_GMAC_H
#define STORE_GMAC_H

#include <stddef.h>
#include <stdint.h>

#define GMAC_KEY_LEN 32
#define GMAC_NONCE_LEN 12
#define GMAC_TAG_LEN 16

/* Decide which path gmac_tag() takes: the fast one if the CPU has AES-NI,
 * PCLMULQDQ, AVX2 and VPCLMULQDQ and its self-test against libsodium
 * passes, else libsodium.  Idempotent and thread-safe (it calls
 * sodium_init() itself).  Returns 1 if the fast path is on, 0 if not. */
int gmac_init(void);

/* Compute into tag the AES-256-GCM tag of ad (adlen bytes) with an empty
 * message, under key and nonce: bit for bit what
 * crypto_aead_aes256gcm_encrypt_detached() gives for mlen 0.  Returns 0, or
 * -ENOTSUP if neither path exists (no AES-NI: libsodium has no portable
 * AES-GCM). */
int gmac_tag(const uint8_t key[GMAC_KEY_LEN],
	     const uint8_t nonce[GMAC_NONCE_LEN], const uint8_t *ad,
	     size_t adlen, uint8_t tag[GMAC_TAG_LEN]);

/* Like gmac_tag(), but always through libsodium (tests, the self-test). */
int gmac_tag_sodium(const uint8_t key[GMAC_KEY_LEN],
		    const uint8_t nonce[GMAC_NONCE_LEN], const uint8_t *ad,
		    size_t adlen, uint8_t tag[GMAC_TAG_LEN]);

/* Like gmac_tag(), but always through the fast path.  Returns -ENOTSUP if
 * the CPU lacks it (whatever the self-test said: tests compare the two). */
int gmac_tag_fast(const uint8_t key[GMAC_KEY_LEN],
		  const uint8_t nonce[GMAC_NONCE_LEN], const uint8_t *ad,
		  size_t adlen, uint8_t tag[GMAC_TAG_LEN]);

#endif
