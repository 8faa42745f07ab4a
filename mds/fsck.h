/*
 * fsck.h -- check the namespace's invariants across the whole database:
 * the oracle of the unit tests and the fuzz target, and a tool for an
 * operator who suspects damage.
 *
 * Checked: every entry names an existing inode of the entry's type, and
 * the name index (`dentries`) and the listing (`dirseq`) hold the same
 * entries with cookies below the directory's next_seq; a directory is
 * linked once (the root never), its parent pointer is the directory
 * holding it, nlink = 2 + subdirectories and size = entries; a
 * non-directory's nlink = the entries naming it, and 0 only if it is an
 * orphan; objects belong to regular files and lie within the size (start
 * + length <= size); inline records belong to inline files or symlinks
 * and an inline file has one; xattrs and orphans belong to inodes; the
 * PG index (pgidx.h) holds exactly the objects, each under its PG; the
 * parents index (parents.h) holds exactly the links of non-directories.
 *
 * The whole inode table is held in memory while checking: O(inodes).
 */
#ifndef MDS_FSCK_H
#define MDS_FSCK_H

#include "db.h"

#include <stddef.h>

/* Returns 0 if consistent, -EUCLEAN with the first problem found in err
 * (a sentence naming the inode), or another -errno if the check itself
 * failed (database error, -ENOMEM). */
int mds_fsck(struct mds_db *db, MDB_txn *txn, char *err, size_t errlen);

#endif
