/*
 * buf.h -- explicit little-endian encoding and bounds-checked decoding.
 *
 * Every byte that crosses the network or lands in an on-disk format goes
 * through these helpers; no struct is ever copied onto the wire.
 *
 * A struct wbuf is an output cursor over either a caller's fixed buffer or a
 * growable heap buffer.  Writers never fail individually: the first failure
 * (-EMSGSIZE for a fixed buffer that is too small, -ENOMEM) is latched in
 * ->err and later writes are ignored, so an encoder writes all its fields and
 * checks ->err once at the end.
 *
 * A struct rbuf is an input cursor.  Every read checks the remaining length
 * first; a read past the end latches -EBADMSG in ->err, returns zero, and
 * moves the cursor to the end, so a decoder reads all its fields and checks
 * ->err once.  Nothing is ever read out of bounds, whatever the input.
 */
#ifndef STORE_BUF_H
#define STORE_BUF_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Where a growable wbuf gets its memory: libc by default, or another
 * allocator (nanomsg's, so that a message is sent without a copy). */
struct wbuf_alloc {
	void *(*realloc)(void *p, size_t n); /* p may be NULL */
	void (*free)(void *p);
};

struct wbuf {
	uint8_t *p;
	size_t len;   /* bytes written so far */
	size_t cap;   /* bytes available at p */
	int err;      /* first error, or 0 */
	int growable; /* p is ours, and may be reallocated */
	const struct wbuf_alloc *alloc; /* NULL: malloc/realloc/free */
};

struct rbuf {
	const uint8_t *p;
	size_t len; /* total bytes */
	size_t off; /* bytes consumed */
	int err;    /* first error, or 0 */
};

/* Start writing into a caller-owned buffer of cap bytes. */
static inline void wbuf_init_fixed(struct wbuf *w, void *p, size_t cap)
{
	w->p = p;
	w->len = 0;
	w->cap = cap;
	w->err = 0;
	w->growable = 0;
	w->alloc = NULL;
}

/* Start writing into a heap buffer that grows as needed; free with
 * wbuf_free() (or take ->p and free() it). */
static inline void wbuf_init(struct wbuf *w)
{
	w->p = NULL;
	w->len = 0;
	w->cap = 0;
	w->err = 0;
	w->growable = 1;
	w->alloc = NULL;
}

/* Like wbuf_init(), with memory from another allocator. */
static inline void wbuf_init_alloc(struct wbuf *w, const struct wbuf_alloc *a)
{
	wbuf_init(w);
	w->alloc = a;
}

static inline void wbuf_free(struct wbuf *w)
{
	if (w->growable && w->p) {
		if (w->alloc)
			w->alloc->free(w->p);
		else
			free(w->p);
	}
	w->p = NULL;
	w->len = w->cap = 0;
}

/* Make room for n more bytes.  Returns a pointer to them, or NULL (and
 * latches the error) if they cannot be had. */
static inline uint8_t *wbuf_reserve(struct wbuf *w, size_t n)
{
	if (w->err)
		return NULL;
	if (w->cap - w->len < n) {
		size_t ncap;
		uint8_t *np;

		if (!w->growable || n > SIZE_MAX / 2 - w->len) {
			w->err = -EMSGSIZE;
			return NULL;
		}
		ncap = w->cap ? w->cap : 256;
		while (ncap - w->len < n)
			ncap *= 2;
		np = w->alloc ? w->alloc->realloc(w->p, ncap)
			      : realloc(w->p, ncap);
		if (!np) {
			w->err = -ENOMEM;
			return NULL;
		}
		w->p = np;
		w->cap = ncap;
	}
	w->len += n;
	return w->p + w->len - n;
}

static inline void wbuf_u8(struct wbuf *w, uint8_t v)
{
	uint8_t *d = wbuf_reserve(w, 1);

	if (d)
		d[0] = v;
}

static inline void put_le16(uint8_t *d, uint16_t v)
{
	d[0] = (uint8_t)v;
	d[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *d, uint32_t v)
{
	d[0] = (uint8_t)v;
	d[1] = (uint8_t)(v >> 8);
	d[2] = (uint8_t)(v >> 16);
	d[3] = (uint8_t)(v >> 24);
}

static inline void put_le64(uint8_t *d, uint64_t v)
{
	put_le32(d, (uint32_t)v);
	put_le32(d + 4, (uint32_t)(v >> 32));
}

static inline uint16_t get_le16(const uint8_t *s)
{
	return (uint16_t)(s[0] | (uint16_t)s[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *s)
{
	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 |
	       (uint32_t)s[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *s)
{
	return (uint64_t)get_le32(s) | (uint64_t)get_le32(s + 4) << 32;
}

static inline void wbuf_u16(struct wbuf *w, uint16_t v)
{
	uint8_t *d = wbuf_reserve(w, 2);

	if (d)
		put_le16(d, v);
}

static inline void wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint8_t *d = wbuf_reserve(w, 4);

	if (d)
		put_le32(d, v);
}

static inline void wbuf_u64(struct wbuf *w, uint64_t v)
{
	uint8_t *d = wbuf_reserve(w, 8);

	if (d)
		put_le64(d, v);
}

static inline void wbuf_i64(struct wbuf *w, int64_t v)
{
	wbuf_u64(w, (uint64_t)v);
}

/* Raw bytes, no length prefix (fixed-size fields such as uuids). */
static inline void wbuf_raw(struct wbuf *w, const void *s, size_t n)
{
	uint8_t *d = wbuf_reserve(w, n);

	if (d && n)
		memcpy(d, s, n);
}

/* A string: u16 length, then the bytes, no NUL.  A string longer than max
 * latches -ENAMETOOLONG: encoders enforce the same limits decoders do. */
static inline void wbuf_str(struct wbuf *w, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n > max || n > UINT16_MAX) {
		if (!w->err)
			w->err = -ENAMETOOLONG;
		return;
	}
	wbuf_u16(w, (uint16_t)n);
	wbuf_raw(w, s, n);
}

/* A blob: u32 length, then the bytes. */
static inline void wbuf_blob(struct wbuf *w, const void *s, uint32_t n)
{
	wbuf_u32(w, n);
	wbuf_raw(w, s, n);
}

static inline void rbuf_init(struct rbuf *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

static inline size_t rbuf_left(const struct rbuf *r)
{
	return r->len - r->off;
}

/* Consume n bytes; returns a pointer to them inside the input, or NULL (and
 * latches -EBADMSG) if fewer than n remain. */
static inline const uint8_t *rbuf_take(struct rbuf *r, size_t n)
{
	const uint8_t *s;

	if (r->err || r->len - r->off < n) {
		if (!r->err)
			r->err = -EBADMSG;
		r->off = r->len;
		return NULL;
	}
	s = r->p + r->off;
	r->off += n;
	return s;
}

static inline uint8_t rbuf_u8(struct rbuf *r)
{
	const uint8_t *s = rbuf_take(r, 1);

	return s ? s[0] : 0;
}

static inline uint16_t rbuf_u16(struct rbuf *r)
{
	const uint8_t *s = rbuf_take(r, 2);

	return s ? get_le16(s) : 0;
}

static inline uint32_t rbuf_u32(struct rbuf *r)
{
	const uint8_t *s = rbuf_take(r, 4);

	return s ? get_le32(s) : 0;
}

static inline uint64_t rbuf_u64(struct rbuf *r)
{
	const uint8_t *s = rbuf_take(r, 8);

	return s ? get_le64(s) : 0;
}

static inline int64_t rbuf_i64(struct rbuf *r)
{
	return (int64_t)rbuf_u64(r);
}

static inline void rbuf_raw(struct rbuf *r, void *d, size_t n)
{
	const uint8_t *s = rbuf_take(r, n);

	if (s)
		memcpy(d, s, n);
	else
		memset(d, 0, n);
}

/* Read a string into d (cap bytes, NUL-terminated).  Longer than max or than
 * cap - 1, or containing a NUL byte: -EBADMSG, and d is set to "".  Returns
 * the length. */
static inline size_t rbuf_str(struct rbuf *r, char *d, size_t cap, size_t max)
{
	uint16_t n = rbuf_u16(r);
	const uint8_t *s;

	d[0] = '\0';
	if (r->err)
		return 0;
	if (n > max || (size_t)n >= cap) {
		r->err = -EBADMSG;
		r->off = r->len;
		return 0;
	}
	s = rbuf_take(r, n);
	if (!s)
		return 0;
	if (memchr(s, '\0', n)) {
		r->err = -EBADMSG;
		return 0;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return n;
}

/* Read a blob without copying: *len gets its length (at most max), and the
 * return value points inside the input (NULL on error or length 0). */
static inline const uint8_t *rbuf_blob(struct rbuf *r, uint32_t *len,
				       uint32_t max)
{
	uint32_t n = rbuf_u32(r);

	*len = 0;
	if (r->err)
		return NULL;
	if (n > max) {
		r->err = -EBADMSG;
		r->off = r->len;
		return NULL;
	}
	*len = n;
	return n ? rbuf_take(r, n) : NULL;
}

/* A decoder's final check: all fields read, nothing left over. */
static inline int rbuf_done(const struct rbuf *r)
{
	if (r->err)
		return r->err;
	return r->off == r->len ? 0 : -EBADMSG;
}

#endif
