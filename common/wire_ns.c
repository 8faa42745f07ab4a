/*
 * wire_ns.c -- namespace payloads: see wire_ns.h.
 *
 * Each request and reply type names the fields it carries (the tables
 * below); the encoders and decoders go through the fields in one fixed
 * order and touch only those named.
 */
#include "wire_ns.h"
#include "wire.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Request fields, in encoding order. */
enum {
	Q_INO = 1 << 0,    /* u64 ino */
	Q_INO2 = 1 << 1,   /* u64 ino2 */
	Q_MODE = 1 << 2,   /* u32 mode, u32 uid, u32 gid */
	Q_FLAGS = 1 << 3,  /* u32 flags */
	Q_ATTRS = 1 << 4,  /* u32 valid, u64 size, i64 atime, i64 mtime */
	Q_COOKIE = 1 << 5, /* u64 cookie, u32 max */
	Q_NAME = 1 << 6,   /* str name: a path component */
	Q_XNAME = 1 << 7,  /* str name: an xattr name */
	Q_ENTITY = 1 << 8, /* str name: an entity ("client.admin") */
	Q_NAME2 = 1 << 9,  /* str name2: a path component */
	Q_TARGET = 1 << 10, /* str target */
	Q_DATA = 1 << 11,  /* blob data */
	Q_OBJS = 1 << 12,  /* u32 n, n x obj */
};

/* Reply fields, in encoding order. */
enum {
	R_ATTR = 1 << 0,    /* attr */
	R_SESSION = 1 << 1, /* u64 session_id, u64 root_ino, u32 inline_max */
	R_TARGET = 1 << 2,  /* str target */
	R_DATA = 1 << 3,    /* blob data */
	R_OBJS = 1 << 4,    /* u32 count, u8 more, count x obj */
	R_DIRENTS = 1 << 5, /* u32 count, u8 more, u8 plus, count x dirent */
	R_STATFS = 1 << 6,  /* 4 x u64 */
};

struct ns_layout {
	uint16_t req;
	uint16_t reply;
	uint32_t data_max; /* bound of the request's data blob */
};

static const struct ns_layout ns_layouts[WIRE_NS_LAST - WIRE_NS_FIRST + 1] = {
	[WIRE_SESSION_OPEN - 32] = { Q_FLAGS | Q_ENTITY, R_ATTR | R_SESSION, 0 },
	[WIRE_LOOKUP - 32] = { Q_INO | Q_NAME, R_ATTR, 0 },
	[WIRE_GETATTR - 32] = { Q_INO, R_ATTR, 0 },
	[WIRE_SETATTR - 32] = { Q_INO | Q_MODE | Q_ATTRS, R_ATTR, 0 },
	[WIRE_MKDIR - 32] = { Q_INO | Q_MODE | Q_NAME, R_ATTR, 0 },
	[WIRE_CREATE - 32] = { Q_INO | Q_MODE | Q_FLAGS | Q_NAME, R_ATTR, 0 },
	[WIRE_READDIR - 32] = { Q_INO | Q_FLAGS | Q_COOKIE, R_DIRENTS, 0 },
	[WIRE_UNLINK - 32] = { Q_INO | Q_FLAGS | Q_NAME, R_ATTR, 0 },
	[WIRE_RMDIR - 32] = { Q_INO | Q_NAME, R_ATTR, 0 },
	[WIRE_RENAME - 32] = { Q_INO | Q_INO2 | Q_FLAGS | Q_NAME | Q_NAME2,
			       R_ATTR, 0 },
	[WIRE_SYMLINK - 32] = { Q_INO | Q_MODE | Q_NAME | Q_TARGET, R_ATTR,
				0 },
	[WIRE_READLINK - 32] = { Q_INO, R_TARGET, 0 },
	[WIRE_LINK - 32] = { Q_INO | Q_INO2 | Q_NAME2, R_ATTR, 0 },
	[WIRE_OPEN - 32] = { Q_INO | Q_FLAGS, R_ATTR | R_DATA, 0 },
	[WIRE_COMMIT - 32] = { Q_INO | Q_MODE | Q_FLAGS | Q_ATTRS | Q_DATA |
				       Q_OBJS,
			       R_ATTR | R_OBJS, STORE_INLINE_MAX },
	[WIRE_OBJMAP - 32] = { Q_INO | Q_COOKIE, R_OBJS, 0 },
	[WIRE_STATFS - 32] = { 0, R_STATFS, 0 },
	[WIRE_XATTR_GET - 32] = { Q_INO | Q_XNAME, R_DATA, 0 },
	[WIRE_XATTR_SET - 32] = { Q_INO | Q_FLAGS | Q_XNAME | Q_DATA, 0,
				  STORE_XATTR_VALUE_MAX },
	[WIRE_XATTR_LIST - 32] = { Q_INO, R_DATA, 0 },
	[WIRE_XATTR_REMOVE - 32] = { Q_INO | Q_XNAME, 0, 0 },
	[WIRE_CREATE_AT - 32] = { Q_INO | Q_INO2 | Q_MODE | Q_FLAGS | Q_ATTRS |
					  Q_NAME | Q_DATA,
				  R_ATTR, STORE_INLINE_MAX },
	[WIRE_INO_RESERVE - 32] = { Q_COOKIE, R_ATTR, 0 },
};

/* Bounds of a reply's data blob: inline file data, an xattr value, or a
 * NUL-separated list of xattr names (Linux's XATTR_LIST_MAX). */
#define REPLY_DATA_MAX                                                         \
	(STORE_INLINE_MAX > STORE_XATTR_VALUE_MAX ? STORE_INLINE_MAX             \
						  : STORE_XATTR_VALUE_MAX)

#define OBJ_LEN (8 + 8 + 4)

static const struct ns_layout *layout(unsigned type)
{
	if (!wire_is_ns(type))
		return NULL;
	return &ns_layouts[type - WIRE_NS_FIRST];
}

int wire_name_ok(const char *name)
{
	size_t n = strnlen(name, STORE_NAME_MAX + 1);

	if (n == 0 || n > STORE_NAME_MAX || memchr(name, '/', n))
		return 0;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	return 1;
}

void wire_enc_attr(struct wbuf *w, const struct wire_attr *a)
{
	wbuf_u64(w, a->ino);
	wbuf_u32(w, a->mode);
	wbuf_u32(w, a->uid);
	wbuf_u32(w, a->gid);
	wbuf_u32(w, a->nlink);
	wbuf_u32(w, a->flags);
	wbuf_u64(w, a->size);
	wbuf_i64(w, a->atime_ns);
	wbuf_i64(w, a->mtime_ns);
	wbuf_i64(w, a->ctime_ns);
	wbuf_u64(w, a->gen);
	wbuf_u32(w, a->pool);
	wbuf_u32(w, a->object_size);
	wbuf_u32(w, a->rdev);
}

void wire_dec_attr(struct rbuf *r, struct wire_attr *a)
{
	a->ino = rbuf_u64(r);
	a->mode = rbuf_u32(r);
	a->uid = rbuf_u32(r);
	a->gid = rbuf_u32(r);
	a->nlink = rbuf_u32(r);
	a->flags = rbuf_u32(r);
	a->size = rbuf_u64(r);
	a->atime_ns = rbuf_i64(r);
	a->mtime_ns = rbuf_i64(r);
	a->ctime_ns = rbuf_i64(r);
	a->gen = rbuf_u64(r);
	a->pool = rbuf_u32(r);
	a->object_size = rbuf_u32(r);
	a->rdev = rbuf_u32(r);
	/* Sizes are kept below 2^63 so that off_t arithmetic never wraps. */
	if (!r->err && (a->size > INT64_MAX || (a->flags & ~WIRE_ATTR_INLINE)))
		r->err = -EBADMSG;
}

void wire_enc_obj(struct wbuf *w, const struct wire_obj *o)
{
	wbuf_u64(w, o->objno);
	wbuf_u64(w, o->version);
	wbuf_u32(w, o->length);
}

static void dec_obj(struct rbuf *r, struct wire_obj *o)
{
	o->objno = rbuf_u64(r);
	o->version = rbuf_u64(r);
	o->length = rbuf_u32(r);
}

int wire_next_obj(struct rbuf *list, struct wire_obj *o)
{
	if (list->err || rbuf_left(list) == 0)
		return 0;
	dec_obj(list, o);
	return list->err ? 0 : 1;
}

void wire_enc_dirent(struct wbuf *w, const struct wire_dirent *d, int plus)
{
	wbuf_u64(w, d->cookie);
	wbuf_u64(w, d->ino);
	wbuf_u32(w, d->type);
	wbuf_str(w, d->name, STORE_NAME_MAX);
	if (plus)
		wire_enc_attr(w, &d->attr);
}

static void dec_dirent(struct rbuf *r, int plus, struct wire_dirent *d)
{
	d->cookie = rbuf_u64(r);
	d->ino = rbuf_u64(r);
	d->type = rbuf_u32(r);
	rbuf_str(r, d->name, sizeof(d->name), STORE_NAME_MAX);
	if (plus)
		wire_dec_attr(r, &d->attr);
	else
		memset(&d->attr, 0, sizeof(d->attr));
	if (!r->err && ((d->type & ~(uint32_t)S_IFMT) || !wire_name_ok(d->name)))
		r->err = -EBADMSG;
}

int wire_next_dirent(struct rbuf *list, int plus, struct wire_dirent *d)
{
	if (list->err || rbuf_left(list) == 0)
		return 0;
	dec_dirent(list, plus, d);
	return list->err ? 0 : 1;
}

/* Encode a list given as (count, bytes): the bytes were built with the
 * wire_enc_obj/dirent helpers. */
static void enc_list(struct wbuf *w, uint32_t count, const struct rbuf *l)
{
	wbuf_u32(w, count);
	wbuf_raw(w, l->p, l->len);
}

void wire_enc_ns_req(struct wbuf *w, unsigned type,
		     const struct wire_ns_req *m)
{
	const struct ns_layout *l = layout(type);
	unsigned f;

	if (!l) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	f = l->req;
	if (f & Q_INO)
		wbuf_u64(w, m->ino);
	if (f & Q_INO2)
		wbuf_u64(w, m->ino2);
	if (f & Q_MODE) {
		wbuf_u32(w, m->mode);
		wbuf_u32(w, m->uid);
		wbuf_u32(w, m->gid);
	}
	if (f & Q_FLAGS)
		wbuf_u32(w, m->flags);
	if (f & Q_ATTRS) {
		wbuf_u32(w, m->valid);
		wbuf_u64(w, m->size);
		wbuf_i64(w, m->atime_ns);
		wbuf_i64(w, m->mtime_ns);
	}
	if (f & Q_COOKIE) {
		wbuf_u64(w, m->cookie);
		wbuf_u32(w, m->max);
	}
	if (f & (Q_NAME | Q_XNAME))
		wbuf_str(w, m->name, STORE_NAME_MAX);
	if (f & Q_ENTITY)
		wbuf_str(w, m->name, STORE_ENTITY_MAX);
	if (f & Q_NAME2)
		wbuf_str(w, m->name2, STORE_NAME_MAX);
	if (f & Q_TARGET)
		wbuf_str(w, m->target, STORE_PATH_MAX);
	if (f & Q_DATA) {
		if (m->data_len > l->data_max && !w->err)
			w->err = -EMSGSIZE;
		wbuf_blob(w, m->data, m->data_len);
	}
	if (f & Q_OBJS)
		enc_list(w, m->n_objs, &m->objs);
}

int wire_dec_ns_req(unsigned type, const uint8_t *p, size_t len,
		    struct wire_ns_req *m)
{
	const struct ns_layout *l = layout(type);
	struct rbuf r;
	unsigned f;

	memset(m, 0, sizeof(*m));
	if (!l)
		return -EBADMSG;
	f = l->req;
	rbuf_init(&r, p, len);
	if (f & Q_INO)
		m->ino = rbuf_u64(&r);
	if (f & Q_INO2)
		m->ino2 = rbuf_u64(&r);
	if (f & Q_MODE) {
		m->mode = rbuf_u32(&r);
		m->uid = rbuf_u32(&r);
		m->gid = rbuf_u32(&r);
	}
	if (f & Q_FLAGS)
		m->flags = rbuf_u32(&r);
	if (f & Q_ATTRS) {
		m->valid = rbuf_u32(&r);
		m->size = rbuf_u64(&r);
		m->atime_ns = rbuf_i64(&r);
		m->mtime_ns = rbuf_i64(&r);
		if (!r.err && ((m->valid & ~WIRE_SET_ALL) || m->size > INT64_MAX))
			return -EBADMSG;
	}
	if (f & Q_COOKIE) {
		m->cookie = rbuf_u64(&r);
		m->max = rbuf_u32(&r);
		if (!r.err && m->max > STORE_LIST_MAX)
			return -EBADMSG;
	}
	if (f & (Q_NAME | Q_XNAME)) {
		rbuf_str(&r, m->name, sizeof(m->name), STORE_NAME_MAX);
		if (!r.err && (f & Q_NAME) && !wire_name_ok(m->name))
			return -EBADMSG;
		if (!r.err && (f & Q_XNAME) && m->name[0] == '\0')
			return -EBADMSG;
	}
	if (f & Q_ENTITY)
		rbuf_str(&r, m->name, sizeof(m->name), STORE_ENTITY_MAX);
	if (f & Q_NAME2) {
		rbuf_str(&r, m->name2, sizeof(m->name2), STORE_NAME_MAX);
		if (!r.err && !wire_name_ok(m->name2))
			return -EBADMSG;
	}
	if (f & Q_TARGET) {
		rbuf_str(&r, m->target, sizeof(m->target), STORE_PATH_MAX);
		if (!r.err && m->target[0] == '\0')
			return -EBADMSG;
	}
	if (f & Q_DATA)
		m->data = rbuf_blob(&r, &m->data_len, l->data_max);
	if (f & Q_OBJS) {
		m->n_objs = rbuf_u32(&r);
		if (r.err || m->n_objs > STORE_LIST_MAX ||
		    rbuf_left(&r) < (size_t)m->n_objs * OBJ_LEN)
			return -EBADMSG;
		rbuf_init(&m->objs, rbuf_take(&r, (size_t)m->n_objs * OBJ_LEN),
			  (size_t)m->n_objs * OBJ_LEN);
	}
	return rbuf_done(&r);
}

void wire_enc_ns_reply(struct wbuf *w, unsigned type,
		       const struct wire_ns_reply *m)
{
	const struct ns_layout *l = layout(type);
	unsigned f;

	if (!l) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	f = l->reply;
	if (f & R_ATTR)
		wire_enc_attr(w, &m->attr);
	if (f & R_SESSION) {
		wbuf_u64(w, m->session_id);
		wbuf_u64(w, m->root_ino);
		wbuf_u32(w, m->inline_max);
	}
	if (f & R_TARGET)
		wbuf_str(w, m->target, STORE_PATH_MAX);
	if (f & R_DATA) {
		if (m->data_len > REPLY_DATA_MAX && !w->err)
			w->err = -EMSGSIZE;
		wbuf_blob(w, m->data, m->data_len);
	}
	if (f & (R_OBJS | R_DIRENTS)) {
		wbuf_u32(w, m->count);
		wbuf_u8(w, m->more ? 1 : 0);
		if (f & R_DIRENTS)
			wbuf_u8(w, m->plus ? 1 : 0);
		wbuf_raw(w, m->entries.p, m->entries.len);
	}
	if (f & R_STATFS) {
		wbuf_u64(w, m->f_blocks);
		wbuf_u64(w, m->f_bfree);
		wbuf_u64(w, m->f_files);
		wbuf_u64(w, m->f_ffree);
	}
}

int wire_dec_ns_reply(unsigned type, const uint8_t *p, size_t len,
		      struct wire_ns_reply *m)
{
	const struct ns_layout *l = layout(type);
	struct rbuf r;
	unsigned f;

	memset(m, 0, sizeof(*m));
	if (!l)
		return -EBADMSG;
	f = l->reply;
	rbuf_init(&r, p, len);
	if (f & R_ATTR)
		wire_dec_attr(&r, &m->attr);
	if (f & R_SESSION) {
		m->session_id = rbuf_u64(&r);
		m->root_ino = rbuf_u64(&r);
		m->inline_max = rbuf_u32(&r);
	}
	if (f & R_TARGET)
		rbuf_str(&r, m->target, sizeof(m->target), STORE_PATH_MAX);
	if (f & R_DATA)
		m->data = rbuf_blob(&r, &m->data_len, REPLY_DATA_MAX);
	if (f & (R_OBJS | R_DIRENTS)) {
		size_t start;

		m->count = rbuf_u32(&r);
		m->more = rbuf_u8(&r);
		if (f & R_DIRENTS)
			m->plus = rbuf_u8(&r);
		if (r.err || m->count > STORE_LIST_MAX || m->more > 1 ||
		    m->plus > 1)
			return -EBADMSG;
		/* Walk every entry now so that iterating cannot fail. */
		start = r.off;
		for (uint32_t i = 0; i < m->count && !r.err; i++) {
			if (f & R_OBJS) {
				struct wire_obj o;

				dec_obj(&r, &o);
			} else {
				struct wire_dirent d;

				dec_dirent(&r, m->plus, &d);
			}
		}
		if (r.err)
			return r.err;
		rbuf_init(&m->entries, p + start, r.off - start);
	}
	if (f & R_STATFS) {
		m->f_blocks = rbuf_u64(&r);
		m->f_bfree = rbuf_u64(&r);
		m->f_files = rbuf_u64(&r);
		m->f_ffree = rbuf_u64(&r);
	}
	return rbuf_done(&r);
}
