/*
 * gmac.c -- see gmac.h.
 *
 * GCM's GHASH multiplies in GF(2^128) with the bits of each byte reflected.
 * Following Gueron and Kounavis ("Intel Carry-Less Multiplication
 * Instruction and its Usage for Computing the GCM Mode", rev. 2.02), each
 * 16-byte block is byte-reversed, multiplied carry-less as a 128-bit
 * integer into 256 bits, shifted left one bit (the reflection) and reduced
 * modulo x^128 + x^7 + x^2 + x + 1.  Shift and reduction are linear, so
 *
 *     Y' = (Y ^ X1) H^n ^ X2 H^(n-1) ^ ... ^ Xn H
 *
 * needs one shift and one reduction for n blocks: the products are summed
 * unreduced.  With VPCLMULQDQ each 256-bit register holds two blocks and
 * two powers, so 16 blocks take 32 multiplies (4 per block, schoolbook:
 * Karatsuba's 3 plus its extra shuffles measured no faster here) and one
 * reduction, and the only serial chain is one reduction per 256 bytes.
 * Where the CPU has AVX-512, a 512-bit register holds four blocks and a
 * reduction covers 32 (512 bytes): on a 1 MiB frame 25 GB/s against 17
 * with 256-bit lanes (one core, measured on the Xeon this was written
 * on).
 *
 * Only the tag of associated data is computed (the message is empty): the
 * length block is (bits of AD, 0) and the tag is E_K(nonce || 1) ^ GHASH.
 */
#include "gmac.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define GMAC_X86 1
#define FAST __attribute__((target("aes,pclmul,sse4.1,avx2,vpclmulqdq")))
#define WIDE                                                                 \
	__attribute__((target("aes,pclmul,sse4.1,avx2,vpclmulqdq,avx512f,"  \
			      "avx512bw")))
#else
#define GMAC_X86 0
#endif

/* Blocks a reduction on the fast path: 16 (256 bytes) puts 32
 * independent VPCLMULQDQs between one reduction (the serial chain) and the
 * next, and needs 16 powers of H per tag (15 multiplies of setup, small
 * next to a frame of a few KiB or more). */
#define GMAC_BLOCKS 16
/* Blocks a reduction on the wide path (AVX-512: four blocks a register):
 * the reduction's latency (a multiply, the folds and the two-phase
 * reduction, about 30 cycles) is the serial chain, and 32 blocks put the
 * 32 VPCLMULQDQs of 512 bytes against it, where 16 would leave the
 * multipliers idle half the time. */
#define GMAC_WIDE_BLOCKS 32

/* Inputs the self-test compares: lengths 0..GMAC_TEST_SHORT, and a few
 * long and odd ones, so that every tail (0..15 bytes, 0..15 blocks) and
 * the main loop are seen. */
#define GMAC_TEST_SHORT 300

static int fast_on = -1; /* -1: not decided; guarded by once */
/* The CPU has AVX-512 (F and BW) as well: the bulk goes 512 bytes a
 * reduction.  Set once, by cpu_has_fast(), before any tag is made. */
static int wide_on;
static pthread_once_t once = PTHREAD_ONCE_INIT;

int gmac_tag_sodium(const uint8_t key[GMAC_KEY_LEN],
		    const uint8_t nonce[GMAC_NONCE_LEN], const uint8_t *ad,
		    size_t adlen, uint8_t tag[GMAC_TAG_LEN])
{
	unsigned long long tl;
	uint8_t none[1] = { 0 };

	if (!crypto_aead_aes256gcm_is_available())
		return -ENOTSUP;
	/* libsodium wants a non-NULL message even when it is empty. */
	return crypto_aead_aes256gcm_encrypt_detached(none, tag, &tl, none, 0,
						      ad, adlen, NULL, nonce,
						      key) ?
		       -EINVAL :
		       0;
}

#if GMAC_X86

static int cpu_has_fast(void)
{
	int fast;

	__builtin_cpu_init();
	fast = __builtin_cpu_supports("aes") &&
	       __builtin_cpu_supports("pclmul") &&
	       __builtin_cpu_supports("avx2") &&
	       __builtin_cpu_supports("vpclmulqdq");
	/* A plain store of the same value from every caller: benign. */
	wide_on = fast && __builtin_cpu_supports("avx512f") &&
		  __builtin_cpu_supports("avx512bw");
	return fast;
}

/* One step of the AES-256 key schedule: the next even round key from the
 * previous even key a and keygenassist's output t. */
FAST static __m128i key_even(__m128i a, __m128i t)
{
	t = _mm_shuffle_epi32(t, 0xff);
	a = _mm_xor_si128(a, _mm_slli_si128(a, 4));
	a = _mm_xor_si128(a, _mm_slli_si128(a, 4));
	a = _mm_xor_si128(a, _mm_slli_si128(a, 4));
	return _mm_xor_si128(a, t);
}

/* The next odd round key from the previous odd key b and the even key a
 * just made (SubWord without RotWord, no round constant). */
FAST static __m128i key_odd(__m128i a, __m128i b)
{
	__m128i t = _mm_shuffle_epi32(_mm_aeskeygenassist_si128(a, 0), 0xaa);

	b = _mm_xor_si128(b, _mm_slli_si128(b, 4));
	b = _mm_xor_si128(b, _mm_slli_si128(b, 4));
	b = _mm_xor_si128(b, _mm_slli_si128(b, 4));
	return _mm_xor_si128(b, t);
}

/* Expand a 256-bit key into AES-256's 15 round keys. */
FAST static void aes256_expand(const uint8_t key[32], __m128i rk[15])
{
	rk[0] = _mm_loadu_si128((const __m128i *)key);
	rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
	/* keygenassist takes its round constant as an immediate: unrolled. */
#define EXPAND(i, rcon)                                                      \
	do {                                                                 \
		rk[i] = key_even(rk[i - 2],                                  \
				 _mm_aeskeygenassist_si128(rk[i - 1], rcon)); \
		if (i + 1 < 15)                                              \
			rk[i + 1] = key_odd(rk[i], rk[i - 1]);               \
	} while (0)
	EXPAND(2, 0x01);
	EXPAND(4, 0x02);
	EXPAND(6, 0x04);
	EXPAND(8, 0x08);
	EXPAND(10, 0x10);
	EXPAND(12, 0x20);
	EXPAND(14, 0x40);
#undef EXPAND
}

FAST static __m128i aes256_block(const __m128i rk[15], __m128i x)
{
	x = _mm_xor_si128(x, rk[0]);
	for (int i = 1; i < 14; i++)
		x = _mm_aesenc_si128(x, rk[i]);
	return _mm_aesenclast_si128(x, rk[14]);
}

/* Shift the 256-bit product (hi:lo, the middle terms already folded in)
 * left one bit and reduce it modulo the GCM polynomial: Gueron and
 * Kounavis, algorithm 5.  Inputs and result are byte-reversed blocks. */
FAST static __m128i ghash_reduce(__m128i lo, __m128i hi)
{
	__m128i t7, t8, t9, t2, t4, t5;

	/* hi:lo <<= 1, carrying across the 32-bit lanes and the halves. */
	t7 = _mm_srli_epi32(lo, 31);
	t8 = _mm_srli_epi32(hi, 31);
	lo = _mm_slli_epi32(lo, 1);
	hi = _mm_slli_epi32(hi, 1);
	t9 = _mm_srli_si128(t7, 12);
	t8 = _mm_slli_si128(t8, 4);
	t7 = _mm_slli_si128(t7, 4);
	lo = _mm_or_si128(lo, t7);
	hi = _mm_or_si128(hi, t8);
	hi = _mm_or_si128(hi, t9);
	/* First phase: the parts of the low half's multiples by the
	 * polynomial's x, x^2 and x^7 terms that cross 32-bit words (hence
	 * left shifts by 32 - 1, 32 - 2 and 32 - 7). */
	t7 = _mm_slli_epi32(lo, 31);
	t8 = _mm_slli_epi32(lo, 30);
	t9 = _mm_slli_epi32(lo, 25);
	t7 = _mm_xor_si128(t7, t8);
	t7 = _mm_xor_si128(t7, t9);
	t8 = _mm_srli_si128(t7, 4);
	t7 = _mm_slli_si128(t7, 12);
	lo = _mm_xor_si128(lo, t7);
	/* Second phase: the in-word parts of the same terms (right shifts
	 * by 1, 2 and 7), plus what the first phase carried out. */
	t2 = _mm_srli_epi32(lo, 1);
	t4 = _mm_srli_epi32(lo, 2);
	t5 = _mm_srli_epi32(lo, 7);
	t2 = _mm_xor_si128(t2, t4);
	t2 = _mm_xor_si128(t2, t5);
	t2 = _mm_xor_si128(t2, t8);
	lo = _mm_xor_si128(lo, t2);
	return _mm_xor_si128(hi, lo);
}

/* a * b, both byte-reversed, reduced. */
FAST static __m128i gf_mul(__m128i a, __m128i b)
{
	__m128i lo = _mm_clmulepi64_si128(a, b, 0x00);
	__m128i hi = _mm_clmulepi64_si128(a, b, 0x11);
	__m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10),
				    _mm_clmulepi64_si128(a, b, 0x01));

	lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
	hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
	return ghash_reduce(lo, hi);
}

FAST static __m128i bswap128(__m128i x)
{
	const __m128i rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
					 12, 13, 14, 15);

	return _mm_shuffle_epi8(x, rev);
}

/* Fold n (1..16) byte-reversed blocks x[] into y: y = (y ^ x0) H^n ^ ...
 * ^ x(n-1) H, with pw[i] = H^(i+1). */
FAST static __m128i ghash_few(__m128i y, const __m128i *x, int n,
			      const __m128i *pw)
{
	__m128i lo = _mm_setzero_si128(), hi = lo, mid = lo;

	for (int i = 0; i < n; i++) {
		__m128i a = i ? x[i] : _mm_xor_si128(x[0], y);
		__m128i b = pw[n - 1 - i];

		lo = _mm_xor_si128(lo, _mm_clmulepi64_si128(a, b, 0x00));
		hi = _mm_xor_si128(hi, _mm_clmulepi64_si128(a, b, 0x11));
		mid = _mm_xor_si128(mid, _mm_clmulepi64_si128(a, b, 0x10));
		mid = _mm_xor_si128(mid, _mm_clmulepi64_si128(a, b, 0x01));
	}
	lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
	hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
	return ghash_reduce(lo, hi);
}

/* The main loop: y over nblk (a multiple of GMAC_BLOCKS) blocks at p.
 * pp[j] holds, in its low lane, the power for the first block of the
 * j-th pair and in its high lane the one for the second. */
FAST static __m128i ghash_bulk(__m128i y, const uint8_t *p, size_t nblk,
			       const __m256i pp[GMAC_BLOCKS / 2])
{
	const __m256i rev = _mm256_set_epi8(
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2,
		3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

	for (size_t b = 0; b < nblk; b += GMAC_BLOCKS, p += 16 * GMAC_BLOCKS) {
		__m256i lo = _mm256_setzero_si256(), hi = lo, mid = lo;
		__m128i l, h;

		for (int j = 0; j < GMAC_BLOCKS / 2; j++) {
			__m256i a = _mm256_shuffle_epi8(
				_mm256_loadu_si256((const __m256i *)(p + 32 * j)),
				rev);

			/* The running hash joins the first block only. */
			if (j == 0)
				a = _mm256_xor_si256(
					a, _mm256_zextsi128_si256(y));
			lo = _mm256_xor_si256(
				lo, _mm256_clmulepi64_epi128(a, pp[j], 0x00));
			hi = _mm256_xor_si256(
				hi, _mm256_clmulepi64_epi128(a, pp[j], 0x11));
			mid = _mm256_xor_si256(
				mid, _mm256_clmulepi64_epi128(a, pp[j], 0x10));
			mid = _mm256_xor_si256(
				mid, _mm256_clmulepi64_epi128(a, pp[j], 0x01));
		}
		lo = _mm256_xor_si256(lo, _mm256_slli_si256(mid, 8));
		hi = _mm256_xor_si256(hi, _mm256_srli_si256(mid, 8));
		/* The two lanes' sums are one sum: fold them. */
		l = _mm_xor_si128(_mm256_castsi256_si128(lo),
				  _mm256_extracti128_si256(lo, 1));
		h = _mm_xor_si128(_mm256_castsi256_si128(hi),
				  _mm256_extracti128_si256(hi, 1));
		y = ghash_reduce(l, h);
	}
	return y;
}

/* The wide main loop: y over nblk (a multiple of GMAC_WIDE_BLOCKS)
 * blocks at p, with pw[i] = H^(i+1) for i < GMAC_WIDE_BLOCKS.  Register j
 * of a turn holds blocks 4j..4j+3, and lane l of pp[j] the power for
 * block 4j+l: H^(32-4j-l). */
WIDE static __m128i ghash_bulk_wide(__m128i y, const uint8_t *p, size_t nblk,
				    const __m128i pw[GMAC_WIDE_BLOCKS])
{
	const __m512i rev = _mm512_broadcast_i32x4(_mm_set_epi8(
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
	__m512i pp[GMAC_WIDE_BLOCKS / 4];

	for (int j = 0; j < GMAC_WIDE_BLOCKS / 4; j++) {
		__m512i v = _mm512_castsi128_si512(pw[GMAC_WIDE_BLOCKS - 1 - 4 * j]);

		v = _mm512_inserti32x4(v, pw[GMAC_WIDE_BLOCKS - 2 - 4 * j], 1);
		v = _mm512_inserti32x4(v, pw[GMAC_WIDE_BLOCKS - 3 - 4 * j], 2);
		pp[j] = _mm512_inserti32x4(v, pw[GMAC_WIDE_BLOCKS - 4 - 4 * j],
					   3);
	}
	for (size_t b = 0; b < nblk;
	     b += GMAC_WIDE_BLOCKS, p += 16 * GMAC_WIDE_BLOCKS) {
		__m512i lo = _mm512_setzero_si512(), hi = lo, mid = lo;
		__m256i l2, h2;
		__m128i l, h;

		for (int j = 0; j < GMAC_WIDE_BLOCKS / 4; j++) {
			__m512i a = _mm512_shuffle_epi8(
				_mm512_loadu_si512((const void *)(p + 64 * j)),
				rev);

			/* The running hash joins the first block only. */
			if (j == 0)
				a = _mm512_xor_si512(
					a, _mm512_zextsi128_si512(y));
			lo = _mm512_xor_si512(
				lo, _mm512_clmulepi64_epi128(a, pp[j], 0x00));
			hi = _mm512_xor_si512(
				hi, _mm512_clmulepi64_epi128(a, pp[j], 0x11));
			/* mid ^= both cross products, one three-way XOR
			 * (truth table 0x96). */
			mid = _mm512_ternarylogic_epi64(
				mid, _mm512_clmulepi64_epi128(a, pp[j], 0x10),
				_mm512_clmulepi64_epi128(a, pp[j], 0x01), 0x96);
		}
		lo = _mm512_xor_si512(lo, _mm512_bslli_epi128(mid, 8));
		hi = _mm512_xor_si512(hi, _mm512_bsrli_epi128(mid, 8));
		/* The four lanes' sums are one sum: fold them. */
		l2 = _mm256_xor_si256(_mm512_castsi512_si256(lo),
				      _mm512_extracti64x4_epi64(lo, 1));
		h2 = _mm256_xor_si256(_mm512_castsi512_si256(hi),
				      _mm512_extracti64x4_epi64(hi, 1));
		l = _mm_xor_si128(_mm256_castsi256_si128(l2),
				  _mm256_extracti128_si256(l2, 1));
		h = _mm_xor_si128(_mm256_castsi256_si128(h2),
				  _mm256_extracti128_si256(h2, 1));
		y = ghash_reduce(l, h);
	}
	return y;
}

FAST static void tag_fast(const uint8_t key[32], const uint8_t nonce[12],
			  const uint8_t *ad, size_t adlen, uint8_t tag[16])
{
	__m128i rk[15], pw[GMAC_WIDE_BLOCKS], x[GMAC_BLOCKS + 1], y, j0, h;
	__m256i pp[GMAC_BLOCKS / 2];
	size_t nblk = adlen / 16, bulk, rest, npw;
	/* Blocks for the wide loop, then for the 256-bit one: what is
	 * left is less than GMAC_BLOCKS blocks.  Below 4 KiB (eight wide
	 * turns) the 16 more powers of H the wide loop needs cost more than
	 * it saves. */
	size_t wide = wide_on && nblk >= 8 * GMAC_WIDE_BLOCKS ?
			      nblk / GMAC_WIDE_BLOCKS * GMAC_WIDE_BLOCKS :
			      0;
	uint8_t j0b[16], lenb[16] = { 0 }, last[16 * GMAC_BLOCKS + 16];
	int n = 0;

	bulk = wide + (nblk - wide) / GMAC_BLOCKS * GMAC_BLOCKS;
	rest = adlen - bulk * 16;
	aes256_expand(key, rk);
	h = bswap128(aes256_block(rk, _mm_setzero_si128()));
	memcpy(j0b, nonce, 12);
	j0b[12] = j0b[13] = j0b[14] = 0;
	j0b[15] = 1;
	j0 = aes256_block(rk, _mm_loadu_si128((const __m128i *)j0b));

	/* The tail, zero-padded to whole blocks, then the length block
	 * (bits of AD big-endian, then 64 zero bits for the empty message):
	 * up to GMAC_BLOCKS + 1 blocks, folded in one or two steps. */
	memset(last, 0, sizeof(last));
	if (rest)
		memcpy(last, ad + bulk * 16, rest);
	n = (int)((rest + 15) / 16);
	for (int i = 0; i < 8; i++)
		lenb[i] = (uint8_t)(((uint64_t)adlen * 8) >> (56 - 8 * i));
	memcpy(last + 16 * n, lenb, 16);
	n++;
	for (int i = 0; i < n; i++)
		x[i] = bswap128(_mm_loadu_si128((const __m128i *)(last + 16 * i)));
	/* Powers: all of them for the bulk loop, else as many as the tail
	 * needs. */
	npw = wide ? GMAC_WIDE_BLOCKS :
	      bulk || n > GMAC_BLOCKS ? GMAC_BLOCKS : (size_t)n;
	/* By doubling, H^(have+1..2have) = H^(1..have) * H^have: the
	 * multiplies of a round are independent, so the chain is log2(npw)
	 * multiplies long rather than npw - 1. */
	pw[0] = h;
	for (size_t have = 1; have < npw; have *= 2)
		for (size_t i = 0; i < have && have + i < npw; i++)
			pw[have + i] = gf_mul(pw[i], pw[have - 1]);
	y = _mm_setzero_si128();
	if (wide)
		y = ghash_bulk_wide(y, ad, wide, pw);
	if (bulk > wide) {
		for (int j = 0; j < GMAC_BLOCKS / 2; j++)
			pp[j] = _mm256_set_m128i(pw[GMAC_BLOCKS - 2 - 2 * j],
						 pw[GMAC_BLOCKS - 1 - 2 * j]);
		y = ghash_bulk(y, ad + 16 * wide, bulk - wide, pp);
	}
	if (n > GMAC_BLOCKS) {
		y = ghash_few(y, x, GMAC_BLOCKS, pw);
		y = ghash_few(y, x + GMAC_BLOCKS, n - GMAC_BLOCKS, pw);
	} else {
		y = ghash_few(y, x, n, pw);
	}
	_mm_storeu_si128((__m128i *)tag, _mm_xor_si128(bswap128(y), j0));
	sodium_memzero(rk, sizeof(rk));
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(pp, sizeof(pp));
	sodium_memzero(&h, sizeof(h));
}

#else /* !GMAC_X86 */

static int cpu_has_fast(void)
{
	return 0;
}

static void tag_fast(const uint8_t key[32], const uint8_t nonce[12],
		     const uint8_t *ad, size_t adlen, uint8_t tag[16])
{
	(void)key, (void)nonce, (void)ad, (void)adlen;
	memset(tag, 0, 16);
}

#endif

int gmac_tag_fast(const uint8_t key[GMAC_KEY_LEN],
		  const uint8_t nonce[GMAC_NONCE_LEN], const uint8_t *ad,
		  size_t adlen, uint8_t tag[GMAC_TAG_LEN])
{
	if (!cpu_has_fast())
		return -ENOTSUP;
	tag_fast(key, nonce, ad, adlen, tag);
	return 0;
}

/* Does the fast path give libsodium's tag for every tail length, the
 * bulk loop and unaligned inputs?  Returns 1 if so. */
static int self_test(void)
{
	enum { LONG = 4096 + 3 * 256 + 17 };
	static const size_t longs[] = { 256, 512, 4096, 4096 + 255, LONG };
	uint8_t key[32], nonce[12], a[16], b[16];
	uint8_t *buf = malloc(LONG + 1);
	int ok = 1;

	if (!buf)
		return 0;
	randombytes_buf(key, sizeof(key));
	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(buf, LONG + 1);
	for (size_t n = 0; ok && n <= GMAC_TEST_SHORT; n++) {
		tag_fast(key, nonce, buf + (n & 1), n, a);
		ok = !gmac_tag_sodium(key, nonce, buf + (n & 1), n, b) &&
		     !memcmp(a, b, 16);
	}
	for (size_t i = 0; ok && i < sizeof(longs) / sizeof(longs[0]); i++) {
		tag_fast(key, nonce, buf + 1, longs[i], a);
		ok = !gmac_tag_sodium(key, nonce, buf + 1, longs[i], b) &&
		     !memcmp(a, b, 16);
	}
	free(buf);
	return ok;
}

static void decide(void)
{
	/* libsodium detects the CPU's AES-NI in sodium_init(): before it,
	 * crypto_aead_aes256gcm_is_available() says no (and the self-test
	 * needs libsodium's tag).  It is idempotent and thread-safe. */
	fast_on = sodium_init() >= 0 && cpu_has_fast() &&
		  crypto_aead_aes256gcm_is_available() && self_test();
}

int gmac_init(void)
{
	pthread_once(&once, decide);
	return fast_on;
}

int gmac_tag(const uint8_t key[GMAC_KEY_LEN],
	     const uint8_t nonce[GMAC_NONCE_LEN], const uint8_t *ad,
	     size_t adlen, uint8_t tag[GMAC_TAG_LEN])
{
	if (gmac_init()) {
		tag_fast(key, nonce, ad, adlen, tag);
		return 0;
	}
	return gmac_tag_sodium(key, nonce, ad, adlen, tag);
}
