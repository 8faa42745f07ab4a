/*
 * list.h -- `store-osd --list DIR`: print where every shard version of a
 * stopped OSD's folder lives on disk, one line per shard.  For operators
 * who want to know what a disk holds, and for the tests that damage one
 * shard's bytes on disk on purpose (scrub must find and repair them).
 */
#ifndef STORE_OSD_LIST_H
#define STORE_OSD_LIST_H

/*
 * Open the store in dir (refused while an OSD has it open), and print for
 * every shard version of every pool up to 64:
 *   POOL INO OBJNO INDEX VERSION SHARD_LEN SEGMENT DATA_OFFSET
 * where DATA_OFFSET is the byte offset of the shard's first data byte in
 * the segment file.  Returns 0, or -errno after one line on stderr.
 */
int osd_list_main(const char *dir);

#endif
