/*
 * fsprobe -- exact POSIX probes for the mount tests: each subcommand makes
 * a few system calls and prints "ok" or the errno name it got, so a test
 * can assert the precise error (bash and coreutils cannot ask for
 * O_EXCL, RENAME_NOREPLACE or an unlinked-but-open file).
 *
 *   fsprobe excl PATH              open(O_CREAT|O_EXCL)
 *   fsprobe append PATH TEXT       open(O_APPEND), write TEXT
 *   fsprobe rename2 A B noreplace|exchange
 *   fsprobe unlink-open PATH       write, unlink, write and read on
 *   fsprobe sparse PATH            a hole between two writes reads zeros
 *   fsprobe readdir-stable DIR N   list N entries, change DIR, list on
 *   fsprobe sync-writer PATH MB    write MB MiB, fsync, print "synced",
 *                                  then keep writing until killed
 *   fsprobe check-pattern PATH MB  the first MB MiB hold sync-writer's bytes
 *   fsprobe fsync PATH             open (a folder too) and fsync
 *   fsprobe create-open PATH       create(O_EXCL) and, while it is open:
 *                                  stat by name, list its folder, rename
 *                                  it to PATH.r, write, fsync, write;
 *                                  then close: PATH.r holds "hello world!"
 *   fsprobe create-race P1 P2      create(O_EXCL) P1, then P2 (the same
 *                                  name on another mount), write both,
 *                                  close both: prints both results
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int result(int rc)
{
	if (rc == 0) {
		printf("ok\n");
		return 0;
	}
	switch (rc) {
#define E(x) case x: printf(#x "\n"); break
	E(EEXIST); E(ENOENT); E(ENOTEMPTY); E(EISDIR); E(ENOTDIR);
	E(EINVAL); E(EPERM); E(EACCES); E(EROFS); E(ENODATA); E(ENOTSUP);
	E(EIO); E(EBADF); E(ENOSPC); E(EXDEV); E(ENAMETOOLONG); E(ERANGE);
	E(EBUSY); E(E2BIG);
#undef E
	default:
		printf("errno %d (%s)\n", rc, strerror(rc));
	}
	return 1;
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)((i * 2654435761u) >> 13);
}

static int fail(const char *what)
{
	fprintf(stderr, "fsprobe: %s: %s\n", what, strerror(errno));
	return result(errno);
}

static int probe_unlink_open(const char *path)
{
	char buf[64] = "";
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return fail("open");
	if (write(fd, "before ", 7) != 7)
		return fail("write");
	if (unlink(path) < 0)
		return fail("unlink");
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "fsprobe: still visible after unlink\n");
		return result(EEXIST);
	}
	if (write(fd, "after", 5) != 5)
		return fail("write after unlink");
	if (fsync(fd) < 0)
		return fail("fsync after unlink");
	if (pread(fd, buf, sizeof(buf) - 1, 0) != 12)
		return fail("read after unlink");
	if (strcmp(buf, "before after")) {
		fprintf(stderr, "fsprobe: read back '%s'\n", buf);
		return result(EIO);
	}
	if (fstat(fd, &st) < 0)
		return fail("fstat");
	if (st.st_nlink != 0 || st.st_size != 12) {
		fprintf(stderr, "fsprobe: nlink %lu size %lld\n",
			(unsigned long)st.st_nlink, (long long)st.st_size);
		return result(EIO);
	}
	if (close(fd) < 0)
		return fail("close");
	return result(0);
}

static int probe_sparse(const char *path)
{
	static uint8_t buf[1 << 16];
	off_t far = 100ll << 20;
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return fail("open");
	if (pwrite(fd, "head", 4, 0) != 4 || pwrite(fd, "tail", 4, far) != 4)
		return fail("write");
	close(fd);
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0)
		return fail("reopen");
	if (st.st_size != far + 4) {
		fprintf(stderr, "fsprobe: size %lld\n", (long long)st.st_size);
		return result(EIO);
	}
	/* Reads across the hole, including object boundaries. */
	for (off_t o = 4096; o < far; o += (off_t)(7 << 20) + 12345) {
		ssize_t n = pread(fd, buf, sizeof(buf), o);

		if (n != (ssize_t)sizeof(buf))
			return fail("read hole");
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i]) {
				fprintf(stderr, "fsprobe: byte %lld of the hole "
					"is %d\n", (long long)(o + (off_t)i),
					buf[i]);
				return result(EIO);
			}
	}
	if (pread(fd, buf, 4, far) != 4 || memcmp(buf, "tail", 4) ||
	    pread(fd, buf, 4, 0) != 4 || memcmp(buf, "head", 4))
		return fail("read ends");
	close(fd);
	return result(0);
}

static int probe_readdir_stable(const char *dir, long n)
{
	char path[4096], **seen;
	struct dirent *e;
	long count = 0, second = 0;
	DIR *d;

	/* Fill: n files named f0..f(n-1). */
	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		fd = open(path, O_CREAT | O_WRONLY, 0644);
		if (fd < 0)
			return fail("create");
		close(fd);
	}
	seen = calloc((size_t)n, sizeof(*seen));
	d = opendir(dir);
	if (!seen || !d)
		return fail("opendir");
	/* Read half, then add and remove entries behind the cursor. */
	while (count < n / 2 && (e = readdir(d))) {
		long i;

		if (e->d_name[0] != 'f')
			continue;
		i = atol(e->d_name + 1);
		if (i < 0 || i >= n || seen[i]) {
			fprintf(stderr, "fsprobe: %s listed twice\n", e->d_name);
			return result(EIO);
		}
		seen[i] = (char *)1;
		count++;
	}
	for (long i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "%s/new%ld", dir, i);
		close(open(path, O_CREAT | O_WRONLY, 0644));
	}
	for (long i = 0; i < n; i++) {
		if (!seen[i])
			continue;
		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		unlink(path);
	}
	while ((e = readdir(d))) {
		long i;

		if (e->d_name[0] != 'f')
			continue;
		i = atol(e->d_name + 1);
		if (i < 0 || i >= n || seen[i]) {
			fprintf(stderr, "fsprobe: %s listed twice\n", e->d_name);
			return result(EIO);
		}
		seen[i] = (char *)1;
		second++;
	}
	closedir(d);
	/* Every file that was never removed showed up exactly once. */
	if (count + second != n) {
		fprintf(stderr, "fsprobe: listed %ld + %ld of %ld\n", count,
			second, n);
		return result(EIO);
	}
	free(seen);
	return result(0);
}

static int sync_writer(const char *path, long mb)
{
	static uint8_t buf[1 << 20];
	uint64_t off = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return fail("open");
	for (;;) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(off + i);
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return fail("write");
		off += sizeof(buf);
		if (off == (uint64_t)mb << 20) {
			if (fsync(fd) < 0)
				return fail("fsync");
			printf("synced\n");
			fflush(stdout);
		}
	}
}

static int check_pattern(const char *path, long mb)
{
	static uint8_t buf[1 << 20];
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return fail("open");
	for (uint64_t off = 0; off < (uint64_t)mb << 20; off += sizeof(buf)) {
		if (pread(fd, buf, sizeof(buf), (off_t)off) != (ssize_t)sizeof(buf))
			return fail("read");
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != pattern(off + i)) {
				fprintf(stderr, "fsprobe: byte %llu differs\n",
					(unsigned long long)(off + i));
				return result(EIO);
			}
	}
	return result(0);
}

/* A file created with O_EXCL is usable by name while still open. */
static int create_open(const char *path)
{
	char dir[4096], renamed[4200], *slash;
	const char *base;
	struct dirent *e;
	struct stat st;
	int fd, seen = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return result(EINVAL);
	*slash = '\0';
	base = slash + 1;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0640);
	if (fd < 0)
		return result(errno);
	if (write(fd, "hello", 5) != 5)
		return fail("write");
	if (stat(path, &st) < 0)
		return fail("stat by name");
	if (st.st_size != 5 || (st.st_mode & 07777) != 0640) {
		fprintf(stderr, "fsprobe: size %lld mode %o\n",
			(long long)st.st_size, st.st_mode & 07777);
		return result(EIO);
	}
	d = opendir(dir);
	if (!d)
		return fail("opendir");
	while ((e = readdir(d)))
		seen |= !strcmp(e->d_name, base);
	closedir(d);
	if (!seen) {
		fprintf(stderr, "fsprobe: %s not listed\n", base);
		return result(ENOENT);
	}
	snprintf(renamed, sizeof(renamed), "%s.r", path);
	if (rename(path, renamed) < 0)
		return fail("rename");
	if (write(fd, " world", 6) != 6)
		return fail("write after rename");
	if (fsync(fd) < 0)
		return fail("fsync");
	if (write(fd, "!", 1) != 1)
		return fail("write after fsync");
	if (close(fd) < 0)
		return result(errno);
	if (stat(renamed, &st) < 0 || st.st_size != 12)
		return result(EIO);
	return result(stat(path, &st) < 0 && errno == ENOENT ? 0 : EEXIST);
}

static int create_race(const char *p1, const char *p2)
{
	int fd1 = open(p1, O_CREAT | O_EXCL | O_WRONLY, 0644), fd2;
	int r1 = 0, r2 = 0;

	if (fd1 < 0)
		return result(errno);
	fd2 = open(p2, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd2 < 0) {
		r2 = errno;
	} else {
		if (write(fd2, "two", 3) != 3)
			r2 = errno;
	}
	if (write(fd1, "one", 3) != 3)
		r1 = errno;
	if (close(fd1) < 0 && !r1)
		r1 = errno;
	if (fd2 >= 0 && close(fd2) < 0 && !r2)
		r2 = errno;
	result(r1);
	return result(r2);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int fd;

	if (!strcmp(cmd, "excl") && argc == 3) {
		fd = open(argv[2], O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0)
			return result(errno);
		close(fd);
		return result(0);
	}
	if (!strcmp(cmd, "append") && argc == 4) {
		fd = open(argv[2], O_WRONLY | O_APPEND);
		if (fd < 0)
			return result(errno);
		if (write(fd, argv[3], strlen(argv[3])) < 0)
			return result(errno);
		return result(close(fd) < 0 ? errno : 0);
	}
	if (!strcmp(cmd, "rename2") && argc == 5) {
		unsigned flags = !strcmp(argv[4], "exchange") ? RENAME_EXCHANGE :
							       RENAME_NOREPLACE;

		if (renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags) < 0)
			return result(errno);
		return result(0);
	}
	if (!strcmp(cmd, "fsync") && argc == 3) {
		/* A folder too: O_RDONLY, then fsync (FUSE's fsyncdir). */
		fd = open(argv[2], O_RDONLY);
		if (fd < 0)
			return result(errno);
		if (fsync(fd) < 0)
			return result(errno);
		return result(close(fd) < 0 ? errno : 0);
	}
	if (!strcmp(cmd, "unlink-open") && argc == 3)
		return probe_unlink_open(argv[2]);
	if (!strcmp(cmd, "create-open") && argc == 3)
		return create_open(argv[2]);
	if (!strcmp(cmd, "create-race") && argc == 4)
		return create_race(argv[2], argv[3]);
	if (!strcmp(cmd, "sparse") && argc == 3)
		return probe_sparse(argv[2]);
	if (!strcmp(cmd, "readdir-stable") && argc == 4)
		return probe_readdir_stable(argv[2], atol(argv[3]));
	if (!strcmp(cmd, "sync-writer") && argc == 4)
		return sync_writer(argv[2], atol(argv[3]));
	if (!strcmp(cmd, "check-pattern") && argc == 4)
		return check_pattern(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: fsprobe excl|append|rename2|fsync|unlink-open|"
		"create-open|create-race|sparse|"
		"readdir-stable|sync-writer|check-pattern ...\n");
	return 2;
}
