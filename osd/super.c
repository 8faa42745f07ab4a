/*
 * super.c -- the OSD folder and its superblock: format a new folder, load
 * an existing one, replace the superblock atomically.
 *
 * The superblock is written to DIR/superblock.tmp, fsynced, renamed over
 * DIR/superblock and the folder fsynced: a crash leaves either the old or
 * the new superblock, never a mix.  A leftover superblock.tmp is garbage
 * (its rename never happened) and is ignored.
 */
#include "store_int.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUPER_NAME "superblock"
#define SUPER_TMP "superblock.tmp"
#define LOG_DIR "log"

int super_write(struct store *s)
{
	uint8_t buf[SUPER_LEN];
	int fd, rc;

	super_encode(&s->sb, buf);
	fd = io_sync_openat(s->ring, s->dirfd, SUPER_TMP,
			    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fd;
	rc = io_sync_write(s->ring, fd, buf, SUPER_LEN, 0);
	if (rc >= 0 && rc != (int)SUPER_LEN)
		rc = -EIO;
	if (rc >= 0)
		rc = io_sync_fsync(s->ring, fd, 0);
	close(fd);
	if (rc >= 0)
		rc = io_sync_renameat(s->ring, s->dirfd, SUPER_TMP, s->dirfd,
				      SUPER_NAME);
	if (rc >= 0)
		rc = io_sync_fsync(s->ring, s->dirfd, 0);
	return rc < 0 ? rc : 0;
}

/* Is the folder empty but for a leftover superblock.tmp?  1, 0, -errno. */
static int folder_empty(int dirfd)
{
	int fd = dup(dirfd);
	struct dirent *d;
	DIR *dir;
	int empty = 1;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    !strcmp(d->d_name, SUPER_TMP))
			continue;
		empty = 0;
		break;
	}
	closedir(dir);
	return empty;
}

static int format(struct store *s, char *err, size_t errlen)
{
	int rc;

	memset(&s->sb, 0, sizeof(s->sb));
	s->sb.version = SUPER_VERSION;
	s->sb.osd_id = SUPER_NO_ID;
	s->sb.ctime_ns = wall_ns();
	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium to make "
			 "the OSD's uuid");
		return -EIO;
	}
	randombytes_buf(s->sb.uuid, sizeof(s->sb.uuid));
	/* An RFC 4122 version 4 uuid, so tools print it as one. */
	s->sb.uuid[6] = (uint8_t)((s->sb.uuid[6] & 0x0f) | 0x40);
	s->sb.uuid[8] = (uint8_t)((s->sb.uuid[8] & 0x3f) | 0x80);
	/* The superblock first: a crash before the log folder exists
	 * leaves a valid OSD folder (the folder is created below), never a
	 * non-empty folder without a superblock. */
	rc = super_write(s);
	if (rc) {
		snprintf(err, errlen, "cannot write %s/%s: %s", s->dir,
			 SUPER_NAME, strerror(-rc));
		return rc;
	}
	log_info("formatted %s as a new OSD folder", s->dir);
	return 0;
}

int super_open(struct store *s, char *err, size_t errlen)
{
	uint8_t buf[REC_BLOCK];
	int fd, rc, n;

	s->dirfd = s->logfd = -1;
	if (mkdir(s->dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the data folder %s: %s",
			 s->dir, strerror(-rc));
		return rc;
	}
	rc = io_sync_openat(s->ring, AT_FDCWD, s->dir,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open the data folder %s: %s",
			 s->dir, strerror(-rc));
		return rc;
	}
	s->dirfd = rc;
	if (flock(s->dirfd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s is in use by another store-osd "
			 "(or cannot be locked: %s)", s->dir, strerror(-rc));
		return rc == -EWOULDBLOCK ? -EBUSY : rc;
	}
	fd = io_sync_openat(s->ring, s->dirfd, SUPER_NAME,
			    O_RDONLY | O_CLOEXEC, 0);
	if (fd == -ENOENT) {
		rc = folder_empty(s->dirfd);
		if (rc < 0) {
			snprintf(err, errlen, "cannot list %s: %s", s->dir,
				 strerror(-rc));
			return rc;
		}
		if (!rc) {
			snprintf(err, errlen,
				 "%s is not empty and holds no OSD superblock: "
				 "refusing to format it (give --data an empty "
				 "folder, or an OSD's folder)", s->dir);
			return -ENOTEMPTY;
		}
		rc = format(s, err, errlen);
		if (rc)
			return rc;
	} else if (fd < 0) {
		snprintf(err, errlen, "cannot open %s/%s: %s", s->dir,
			 SUPER_NAME, strerror(-fd));
		return fd;
	} else {
		n = io_sync_read(s->ring, fd, buf, sizeof(buf), 0);
		close(fd);
		if (n < 0) {
			snprintf(err, errlen, "cannot read %s/%s: %s", s->dir,
				 SUPER_NAME, strerror(-n));
			return n;
		}
		rc = super_decode(buf, (size_t)n, &s->sb);
		if (rc == -EPROTONOSUPPORT) {
			snprintf(err, errlen,
				 "%s/%s was written by a newer store-osd "
				 "(format version %u, this one reads up to "
				 "%u): run the newer version", s->dir,
				 SUPER_NAME, s->sb.version, SUPER_VERSION);
			return rc;
		}
		if (rc) {
			snprintf(err, errlen,
				 "%s/%s is damaged (wrong size, magic or "
				 "checksum): refusing to start; restore it, or "
				 "retire this OSD and format a new folder",
				 s->dir, SUPER_NAME);
			return -EUCLEAN;
		}
	}
	if (mkdirat(s->dirfd, LOG_DIR, 0755) == 0) {
		rc = io_sync_fsync(s->ring, s->dirfd, 0);
		if (rc < 0) {
			snprintf(err, errlen, "cannot sync %s: %s", s->dir,
				 strerror(-rc));
			return rc;
		}
	} else if (errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s/%s: %s", s->dir,
			 LOG_DIR, strerror(-rc));
		return rc;
	}
	rc = io_sync_openat(s->ring, s->dirfd, LOG_DIR,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open %s/%s: %s", s->dir, LOG_DIR,
			 strerror(-rc));
		return rc;
	}
	s->logfd = rc;
	return 0;
}
