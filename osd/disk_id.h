/*
 * disk_id.h -- which file system an OSD's data folder lives on, as one
 * 64-bit number the MDS can compare.
 *
 * Several OSDs may share one file system: every OSD of a vcluster does,
 * and an operator may put two data folders on one disk.  Each of them
 * reports the file system's size and free bytes, and a sum over OSDs
 * would count that disk once per OSD (six times over in a 6-OSD
 * vcluster).  The heartbeat therefore carries this id; the MDS counts the
 * space of the OSDs that report the same id once (docs/mds.md, "Space").
 *
 * The id hashes the machine's identity (/etc/machine-id, else the boot id,
 * else the host name) with the folder's device number and the file
 * system's f_fsid, so two file systems on one machine differ by device
 * and the same device number on two machines differs by machine.
 */
#ifndef STORE_OSD_DISK_ID_H
#define STORE_OSD_DISK_ID_H

#include <stdint.h>

/* Compute the id of the file system holding dir into *id: never 0, which
 * the wire keeps for "unknown" (an OSD that could not tell).  Returns 0,
 * or -errno when dir cannot be examined (*id is then 0). */
int disk_id_of(const char *dir, uint64_t *id);

#endif
