/*
 * fsck.c -- whole-database consistency check: see fsck.h.
 */
#include "fsck.h"
#include "parents.h"
#include "pgidx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct fino {
	uint64_t ino; /* 0: empty slot */
	struct db_inode in;
	uint32_t links;   /* entries naming it */
	uint32_t subdirs; /* directories: entries that are directories */
	uint64_t entries; /* directories: entries */
	uint8_t orphan;
	uint8_t has_inline;
};

struct fsck {
	struct mds_db *db;
	MDB_txn *txn;
	struct fino *tab;
	size_t cap, n;
	uint64_t dentries, dirseqs;
	char *err;
	size_t errlen;
};

static int fk_bad(struct fsck *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fk_bad(struct fsck *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->err, f->errlen, fmt, ap);
	va_end(ap);
	return -EUCLEAN;
}

static unsigned long long fk_u(uint64_t v)
{
	return (unsigned long long)v;
}

static size_t fk_slot(const struct fsck *f, uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 7) & (f->cap - 1);
}

static struct fino *fk_get(struct fsck *f, uint64_t ino)
{
	for (size_t i = fk_slot(f, ino);; i = (i + 1) & (f->cap - 1)) {
		if (f->tab[i].ino == ino)
			return &f->tab[i];
		if (f->tab[i].ino == 0)
			return NULL;
	}
}

static int fk_add(struct fsck *f, const struct db_inode *in)
{
	size_t i;

	if (2 * (f->n + 1) > f->cap) {
		struct fino *old = f->tab;
		size_t ocap = f->cap;

		f->cap = f->cap ? 2 * f->cap : 1024;
		f->tab = calloc(f->cap, sizeof(*f->tab));
		if (!f->tab) {
			f->tab = old;
			f->cap = ocap;
			return -ENOMEM;
		}
		for (size_t j = 0; j < ocap; j++) {
			if (!old[j].ino)
				continue;
			for (i = fk_slot(f, old[j].ino); f->tab[i].ino;
			     i = (i + 1) & (f->cap - 1))
				;
			f->tab[i] = old[j];
		}
		free(old);
	}
	for (i = fk_slot(f, in->a.ino); f->tab[i].ino; i = (i + 1) & (f->cap - 1))
		;
	memset(&f->tab[i], 0, sizeof(f->tab[i]));
	f->tab[i].ino = in->a.ino;
	f->tab[i].in = *in;
	f->n++;
	return 0;
}

static int scan_inode(void *arg, const uint8_t *k, size_t klen,
		      const uint8_t *v, size_t vlen)
{
	struct fsck *f = arg;
	struct db_inode in;
	uint64_t ino;

	if (klen != 8)
		return fk_bad(f, "an inode key of %zu bytes", klen);
	ino = db_key_u64(k);
	if (ino == 0 || db_dec_inode(v, vlen, ino, &in))
		return fk_bad(f, "inode %llu does not decode", fk_u(ino));
	return fk_add(f, &in);
}

static int scan_dentry(void *arg, const uint8_t *k, size_t klen,
		       const uint8_t *v, size_t vlen)
{
	struct fsck *f = arg;
	char name[STORE_NAME_MAX + 1], sname[STORE_NAME_MAX + 1];
	struct fino *dir, *child;
	struct db_dentry d, s;
	uint64_t parent;
	int rc;

	f->dentries++;
	if (klen < 9 || klen > 8 + STORE_NAME_MAX)
		return fk_bad(f, "a directory entry key of %zu bytes", klen);
	parent = db_key_u64(k);
	memcpy(name, k + 8, klen - 8);
	name[klen - 8] = '\0';
	if (!wire_name_ok(name) || db_dec_dentry(v, vlen, &d))
		return fk_bad(f, "entry '%s' in directory %llu does not decode",
			   name, fk_u(parent));
	dir = fk_get(f, parent);
	if (!dir || !S_ISDIR(dir->in.a.mode))
		return fk_bad(f, "entry '%s' is in inode %llu, which is not a "
			   "directory", name, fk_u(parent));
	child = fk_get(f, d.ino);
	if (!child)
		return fk_bad(f, "entry '%s' in directory %llu names missing "
			   "inode %llu", name, fk_u(parent), fk_u(d.ino));
	if ((child->in.a.mode & S_IFMT) != d.type)
		return fk_bad(f, "entry '%s' in directory %llu has type 0%o, "
			   "inode %llu has mode 0%o", name, fk_u(parent), d.type,
			   fk_u(d.ino), child->in.a.mode);
	if (d.seq < DB_FIRST_SEQ || d.seq >= dir->in.next_seq)
		return fk_bad(f, "entry '%s' in directory %llu has cookie %llu, "
			   "outside 3..%llu", name, fk_u(parent), fk_u(d.seq),
			   fk_u(dir->in.next_seq));
	/* The listing must hold the same entry under its cookie. */
	{
		struct {
			uint8_t k[16];
		} key;
		MDB_val mk = { 16, key.k }, mv;

		for (int i = 0; i < 8; i++) {
			key.k[i] = (uint8_t)(parent >> (56 - 8 * i));
			key.k[8 + i] = (uint8_t)(d.seq >> (56 - 8 * i));
		}
		rc = mdb_get(f->txn, f->db->dirseq, &mk, &mv);
		if (rc)
			return fk_bad(f, "entry '%s' in directory %llu is missing "
				   "from the listing", name, fk_u(parent));
		if (db_dec_dirseq(mv.mv_data, mv.mv_size, &s.ino, &s.type,
				  sname) || s.ino != d.ino ||
		    s.type != d.type || strcmp(sname, name))
			return fk_bad(f, "entry '%s' in directory %llu differs in "
				   "the listing", name, fk_u(parent));
	}
	child->links++;
	dir->entries++;
	if (S_ISDIR(child->in.a.mode)) {
		dir->subdirs++;
		if (child->in.parent != parent)
			return fk_bad(f, "directory %llu is in directory %llu but "
				   "its parent says %llu", fk_u(d.ino),
				   fk_u(parent), fk_u(child->in.parent));
	}
	return 0;
}

static int scan_dirseq(void *arg, const uint8_t *k, size_t klen,
		       const uint8_t *v, size_t vlen)
{
	struct fsck *f = arg;

	(void)k;
	(void)v;
	(void)vlen;
	if (klen != 16)
		return fk_bad(f, "a listing key of %zu bytes", klen);
	f->dirseqs++;
	return 0;
}

static int scan_object(void *arg, const uint8_t *k, size_t klen,
		       const uint8_t *v, size_t vlen)
{
	struct fsck *f = arg;
	struct wire_obj o;
	struct fino *fi;
	uint64_t ino;
	int rc;

	if (klen != 16)
		return fk_bad(f, "an object key of %zu bytes", klen);
	ino = db_key_u64(k);
	fi = fk_get(f, ino);
	if (!fi || !S_ISREG(fi->in.a.mode))
		return fk_bad(f, "an object of inode %llu, which is not a "
			   "regular file", fk_u(ino));
	rc = db_obj_get(f->db, f->txn, ino, db_key_u64(k + 8), &o);
	(void)v;
	(void)vlen;
	if (rc)
		return fk_bad(f, "object %llu of inode %llu does not decode",
			   fk_u(db_key_u64(k + 8)), fk_u(ino));
	if (fi->in.a.flags & WIRE_ATTR_INLINE)
		return fk_bad(f, "inline file %llu has object %llu", fk_u(ino),
			   fk_u(o.objno));
	if (o.length > fi->in.a.object_size ||
	    (unsigned __int128)o.objno * fi->in.a.object_size + o.length >
		    fi->in.a.size)
		return fk_bad(f, "object %llu (%u bytes) of inode %llu lies past "
			   "its size %llu", fk_u(o.objno), o.length, fk_u(ino),
			   fk_u(fi->in.a.size));
	return 0;
}

static int scan_inline(void *arg, const uint8_t *k, size_t klen,
		       const uint8_t *v, size_t vlen)
{
	struct fsck *f = arg;
	struct fino *fi;
	uint64_t ino;

	if (klen != 8 || vlen < 1)
		return fk_bad(f, "an inline record of %zu bytes", klen);
	ino = db_key_u64(k);
	fi = fk_get(f, ino);
	(void)v;
	if (!fi || !(S_ISLNK(fi->in.a.mode) ||
		     (S_ISREG(fi->in.a.mode) &&
		      (fi->in.a.flags & WIRE_ATTR_INLINE))))
		return fk_bad(f, "inline data of inode %llu, which is neither "
			   "an inline file nor a symlink", fk_u(ino));
	if (vlen - 1 > fi->in.a.size)
		return fk_bad(f, "inline data of inode %llu (%zu bytes) exceeds "
			   "its size %llu", fk_u(ino), vlen - 1,
			   fk_u(fi->in.a.size));
	fi->has_inline = 1;
	return 0;
}

static int scan_xattr(void *arg, const uint8_t *k, size_t klen,
		      const uint8_t *v, size_t vlen)
{
	struct fsck *f = arg;

	(void)v;
	(void)vlen;
	if (klen < 9 || !fk_get(f, db_key_u64(k)))
		return fk_bad(f, "an xattr of missing inode %llu",
			   klen >= 8 ? fk_u(db_key_u64(k)) : 0);
	return 0;
}

static int scan_orphan(void *arg, const uint8_t *k, size_t klen,
		       const uint8_t *v, size_t vlen)
{
	struct fsck *f = arg;
	struct fino *fi;

	(void)v;
	(void)vlen;
	if (klen != 8)
		return fk_bad(f, "an orphan key of %zu bytes", klen);
	fi = fk_get(f, db_key_u64(k));
	if (!fi || fi->in.a.nlink != 0)
		return fk_bad(f, "orphan record of inode %llu, which is missing "
			   "or still linked", fk_u(db_key_u64(k)));
	fi->orphan = 1;
	return 0;
}

static int check_inode(struct fsck *f, const struct fino *fi)
{
	const struct wire_attr *a = &fi->in.a;

	if (S_ISDIR(a->mode)) {
		if (a->ino == DB_ROOT_INO ? fi->links != 0 : fi->links != 1)
			return fk_bad(f, "directory %llu has %u entries naming it",
				   fk_u(a->ino), fi->links);
		if (a->nlink != 2 + fi->subdirs)
			return fk_bad(f, "directory %llu has nlink %u but %u "
				   "subdirectories", fk_u(a->ino), a->nlink,
				   fi->subdirs);
		if (a->size != fi->entries)
			return fk_bad(f, "directory %llu has size %llu but %llu "
				   "entries", fk_u(a->ino), fk_u(a->size),
				   fk_u(fi->entries));
		return 0;
	}
	if (a->nlink != fi->links)
		return fk_bad(f, "inode %llu has nlink %u but %u entries name it",
			   fk_u(a->ino), a->nlink, fi->links);
	if (a->nlink == 0 && !fi->orphan)
		return fk_bad(f, "inode %llu has no links and is no orphan",
			   fk_u(a->ino));
	if (S_ISREG(a->mode) && (a->flags & WIRE_ATTR_INLINE) &&
	    !fi->has_inline)
		return fk_bad(f, "inline file %llu has no inline record",
			   fk_u(a->ino));
	if (S_ISLNK(a->mode) && !fi->has_inline)
		return fk_bad(f, "symlink %llu has no target", fk_u(a->ino));
	return 0;
}

int mds_fsck(struct mds_db *db, MDB_txn *txn, char *err, size_t errlen)
{
	struct fsck f;
	struct fino *root;
	int rc;

	memset(&f, 0, sizeof(f));
	f.db = db;
	f.txn = txn;
	f.err = err;
	f.errlen = errlen;
	err[0] = '\0';
	rc = db_scan(db, txn, db->inodes, scan_inode, &f);
	if (rc == 0 && (!(root = fk_get(&f, DB_ROOT_INO)) ||
			!S_ISDIR(root->in.a.mode)))
		rc = fk_bad(&f, "the root directory (inode 1) is missing");
	if (rc == 0)
		rc = db_scan(db, txn, db->dentries, scan_dentry, &f);
	if (rc == 0)
		rc = db_scan(db, txn, db->dirseq, scan_dirseq, &f);
	if (rc == 0 && f.dirseqs != f.dentries)
		rc = fk_bad(&f, "the listing holds %llu entries, the name index "
			 "%llu", fk_u(f.dirseqs), fk_u(f.dentries));
	if (rc == 0)
		rc = db_scan(db, txn, db->objects, scan_object, &f);
	if (rc == 0)
		rc = db_scan(db, txn, db->inl, scan_inline, &f);
	if (rc == 0)
		rc = db_scan(db, txn, db->xattrs, scan_xattr, &f);
	if (rc == 0)
		rc = db_scan(db, txn, db->orphans, scan_orphan, &f);
	if (rc == 0)
		rc = pgidx_check(db, txn, err, errlen);
	if (rc == 0)
		rc = parents_check(db, txn, err, errlen);
	for (size_t i = 0; rc == 0 && i < f.cap; i++)
		if (f.tab[i].ino)
			rc = check_inode(&f, &f.tab[i]);
	if (rc && rc != -EUCLEAN && !err[0])
		snprintf(err, errlen, "the check failed: %s", strerror(-rc));
	free(f.tab);
	return rc;
}
