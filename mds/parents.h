/*
 * parents.h -- where every non-directory inode is linked from, so that the
 * MDS can tell whether an inode lies inside a path-limited client's
 * subtree (auth caps "rw path=/projects/a").
 *
 * Directories know their parent (the inode's `parent` field, one link
 * each); files may have many links, in many directories, so the `parents`
 * database (dup-sorted) holds, for each non-directory inode, one value per
 * link: be64 parent directory + be64 the entry's listing cookie (its seq,
 * unique in that directory, so two names of one file in one directory are
 * two values).  When the last link goes but the inode lives on as an
 * orphan (unlinked while open), the value (parent, 0) remembers where it
 * was, so the client that still has it open may finish with it; the value
 * goes with the inode, or with its next link.
 *
 * db.c keeps the index in step: db_dentry_put / db_dentry_del /
 * db_inode_del call parents_add / parents_del / parents_drop in the same
 * transaction.  An MDS database of an older format gets the index built
 * once at open (parents_rebuild).
 */
#ifndef MDS_PARENTS_H
#define MDS_PARENTS_H

#include "db.h"

#include <stdint.h>

/* A link of ino in parent (cookie seq) was made.  Returns 0 or -errno. */
int parents_add(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t parent,
		uint64_t seq);

/* A link of ino in parent (cookie seq) is gone.  Returns 0 or -errno. */
int parents_del(struct mds_db *db, MDB_txn *txn, uint64_t ino, uint64_t parent,
		uint64_t seq);

/* The inode is gone: forget every value of it.  Returns 0 or -errno. */
int parents_drop(struct mds_db *db, MDB_txn *txn, uint64_t ino);

/* Does ino lie in the subtree of directory root (root itself included)?
 * Returns 1, 0, -ENOENT (no such inode) or -errno.  Root 1 holds
 * everything. */
int parents_inside(struct mds_db *db, MDB_txn *txn, uint64_t ino,
		   uint64_t root);

/* Resolve an absolute path ("/projects/a", "" for "/") to the inode of a
 * directory, following no symlinks.  Returns 0 and *ino, -ENOENT, or
 * -ENOTDIR. */
int parents_resolve(struct mds_db *db, MDB_txn *txn, const char *path,
		    uint64_t *ino);

/* Build the index from the directory entries (a database of an older
 * format).  Returns 0 and the number of values written, or -errno. */
int parents_rebuild(struct mds_db *db, MDB_txn *txn, uint64_t *n);

/* fsck: every non-directory entry has its value and every value names an
 * entry (or is the marker of an orphan).  Returns 0, or -EUCLEAN with a
 * sentence in err. */
int parents_check(struct mds_db *db, MDB_txn *txn, char *err, size_t errlen);

#endif
