/*
 * wire_ns.h -- payloads of the namespace messages the MDS serves (lookup,
 * create, readdir, rename, commit of object versions, ...).
 *
 * The namespace messages share two structures, struct wire_ns_req and
 * struct wire_ns_reply.  Each message type uses a fixed subset of their
 * fields, listed in one table in wire_ns.c; the encoders write exactly that
 * subset in a fixed order and the decoders read it back, so every type is
 * encoded explicitly and field by field while the rules live in one place.
 *
 * Lists (directory entries, object versions) are walked with iterators over
 * the received bytes, which the decoders have validated in full first:
 * decoding allocates nothing and iterating cannot fail.
 */
#ifndef STORE_WIRE_NS_H
#define STORE_WIRE_NS_H

#include "buf.h"
#include "wire.h"
#include "store_limits.h"

#include <stdint.h>

/* Inode attributes as the MDS holds them. */
struct wire_attr {
	uint64_t ino;
	uint32_t mode; /* type and permission bits, as st_mode */
	uint32_t uid, gid;
	uint32_t nlink;
	uint32_t flags; /* WIRE_ATTR_* */
	uint64_t size;
	int64_t atime_ns, mtime_ns, ctime_ns; /* since the epoch */
	uint64_t gen;    /* bumped by every change: cache validator */
	uint32_t pool;   /* where the file's objects live */
	uint32_t object_size;
	uint32_t rdev;
};
enum {
	WIRE_ATTR_INLINE = 1 << 0, /* data kept in the MDS (small file) */
};

/* One object of a file: object number, committed version, and how many
 * bytes of it hold file data (the rest, up to the file size, reads as
 * zeros: so truncating needs no data rewrite). */
struct wire_obj {
	uint64_t objno;
	uint64_t version;
	uint32_t length;
};

/* One directory entry of a READDIR reply; attr is filled when the request
 * asked for WIRE_READDIR_PLUS. */
struct wire_dirent {
	uint64_t cookie; /* resume position after this entry */
	uint64_t ino;
	uint32_t type; /* mode & S_IFMT */
	char name[STORE_NAME_MAX + 1];
	struct wire_attr attr;
};

/* CREATE_AT (ino: the directory, ino2: a number from INO_RESERVE, name,
 * mode, uid, gid; flags WIRE_CREATE_EXCL, WIRE_CREATE_AT_COMMIT): the
 * client chose the new file's inode number, so it could answer its
 * application at once and send the create with the file's first commit
 * at close (docs/fuse.md, "Creates at close").  Always exclusive.
 * INO_RESERVE (max: how many, at most WIRE_INO_RESERVE_MAX): numbers no
 * other client will get; the reply's attr.ino is the first, attr.size the
 * count. */
#define WIRE_INO_RESERVE_MAX 4096

/* Flags, by request type. */
enum {
	WIRE_CREATE_EXCL = 1 << 0,    /* CREATE: fail if it exists */
	WIRE_CREATE_TRUNC = 1 << 1,   /* CREATE/OPEN: truncate to 0 */
	WIRE_CREATE_AT_COMMIT = 1 << 2, /* CREATE_AT: data is the whole file,
					 * valid/atime/mtime its times */
	WIRE_READDIR_PLUS = 1 << 0,   /* READDIR: attrs with entries */
	WIRE_RENAME_NOREPLACE = 1 << 0,
	WIRE_RENAME_EXCHANGE = 1 << 1,
	WIRE_RENAME_KEEP = 1 << 2,    /* RENAME: keep a replaced file as an
				       * orphan, still open by this client */
	WIRE_UNLINK_KEEP = 1 << 0,    /* UNLINK: keep the inode as an orphan,
				       * still open by this client */
	WIRE_COMMIT_TRUNC = 1 << 0,   /* COMMIT: size is exact, may shrink */
	WIRE_COMMIT_INLINE = 1 << 1,  /* COMMIT: data is the whole file */
	WIRE_COMMIT_MTIME = 1 << 2,   /* COMMIT: set mtime (and ctime) */
	WIRE_COMMIT_RELEASE = 1 << 3, /* COMMIT: last close of an orphan */
	WIRE_XATTR_CREATE = 1 << 0,
	WIRE_XATTR_REPLACE = 1 << 1,
};

/* SETATTR: which fields to change. */
enum {
	WIRE_SET_MODE = 1 << 0,
	WIRE_SET_UID = 1 << 1,
	WIRE_SET_GID = 1 << 2,
	WIRE_SET_SIZE = 1 << 3,
	WIRE_SET_ATIME = 1 << 4,
	WIRE_SET_MTIME = 1 << 5,
	WIRE_SET_ATIME_NOW = 1 << 6,
	WIRE_SET_MTIME_NOW = 1 << 7,
	WIRE_SET_CTIME = 1 << 8,
};
#define WIRE_SET_ALL 0x1ffu

struct wire_ns_req {
	uint64_t ino;  /* the inode, or the parent directory of name */
	uint64_t ino2; /* RENAME, LINK: the new parent */
	uint32_t mode, uid, gid;
	uint32_t flags;
	uint32_t valid; /* SETATTR: WIRE_SET_* */
	uint64_t size;
	int64_t atime_ns, mtime_ns;
	uint64_t cookie; /* READDIR: resume position; OBJMAP: first objno */
	uint32_t max;    /* READDIR, OBJMAP: entries wanted */
	char name[STORE_NAME_MAX + 1];
	char name2[STORE_NAME_MAX + 1];
	char target[STORE_PATH_MAX + 1]; /* SYMLINK target */
	uint32_t data_len;
	const uint8_t *data; /* XATTR_SET value, COMMIT inline data */
	uint32_t n_objs;     /* COMMIT: object versions */
	struct rbuf objs;
};

struct wire_ns_reply {
	struct wire_attr attr;
	uint64_t session_id; /* SESSION_OPEN: this client's id */
	uint64_t root_ino;
	uint32_t inline_max; /* SESSION_OPEN: largest inline file */
	char target[STORE_PATH_MAX + 1]; /* READLINK */
	uint32_t data_len;
	const uint8_t *data; /* OPEN: inline data; XATTR_GET/LIST */
	uint32_t count;      /* READDIR, OBJMAP, COMMIT: entries */
	uint8_t more;        /* READDIR, OBJMAP: more after these */
	uint8_t plus;        /* READDIR: entries carry attrs */
	struct rbuf entries;
	uint64_t f_blocks, f_bfree, f_files, f_ffree; /* STATFS, 4 KiB blocks */
};

/* Does this type belong to the namespace family? */
static inline int wire_is_ns(unsigned type)
{
	return type >= WIRE_NS_FIRST && type <= WIRE_NS_LAST;
}

/* Encode a request or reply payload of the given namespace type.  Requests
 * with objs/entries take them pre-encoded (see the *_add helpers below).
 * Errors latch in w->err (-EINVAL for a type that is not a namespace
 * type, -ENAMETOOLONG for a name past its limit). */
void wire_enc_ns_req(struct wbuf *w, unsigned type,
		     const struct wire_ns_req *m);
void wire_enc_ns_reply(struct wbuf *w, unsigned type,
		       const struct wire_ns_reply *m);

/* Decode a request or reply payload of the given type into *m.  Returns 0,
 * or -EBADMSG for anything malformed (unknown type, bad lengths, a name
 * with '/' or NUL or "." / "..", counts past STORE_LIST_MAX, trailing
 * bytes). */
int wire_dec_ns_req(unsigned type, const uint8_t *p, size_t len,
		    struct wire_ns_req *m);
int wire_dec_ns_reply(unsigned type, const uint8_t *p, size_t len,
		      struct wire_ns_reply *m);

/* Object lists (COMMIT requests, OBJMAP and COMMIT replies) and directory
 * listings are built in a separate wbuf with these, then handed to the
 * encoder as (count, bytes). */
void wire_enc_obj(struct wbuf *w, const struct wire_obj *o);
void wire_enc_dirent(struct wbuf *w, const struct wire_dirent *d, int plus);
/* Set the list of a request/reply from a wbuf built with the helpers. */
static inline void wire_ns_set_list(struct rbuf *list, const struct wbuf *b)
{
	rbuf_init(list, b->p, b->len);
}

/* Iterate: 1 and *o / *d filled, or 0 at the end. */
int wire_next_obj(struct rbuf *list, struct wire_obj *o);
int wire_next_dirent(struct rbuf *list, int plus, struct wire_dirent *d);

void wire_enc_attr(struct wbuf *w, const struct wire_attr *a);
void wire_dec_attr(struct rbuf *r, struct wire_attr *a);

/* Is name a valid single path component (1..255 bytes, no '/', not "." or
 * "..")?  Returns 1 or 0. */
int wire_name_ok(const char *name);

#endif
