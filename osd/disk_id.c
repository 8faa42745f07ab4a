/*
 * disk_id.c -- the id of the file system under a data folder (disk_id.h).
 */
#include "disk_id.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* What names this machine: the first line of the first of these files
 * that has one, else the host name.  machine-id outlives reboots; the
 * boot id stands in where a container has no machine-id.  Fills buf (a
 * NUL-terminated string, possibly empty). */
static void machine_identity(char *buf, size_t len)
{
	static const char *const files[] = { "/etc/machine-id",
					     "/proc/sys/kernel/random/boot_id" };

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "re");

		if (!f)
			continue;
		if (!fgets(buf, (int)len, f))
			buf[0] = '\0';
		fclose(f);
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0])
			return;
	}
	if (gethostname(buf, len) < 0)
		buf[0] = '\0';
	buf[len - 1] = '\0';
}

int disk_id_of(const char *dir, uint64_t *id)
{
	crypto_generichash_state h;
	uint8_t out[crypto_generichash_BYTES_MIN];
	char machine[256];
	struct statvfs sv;
	struct stat st;
	uint64_t dev, fsid;

	*id = 0;
	if (stat(dir, &st) < 0 || statvfs(dir, &sv) < 0)
		return -errno;
	machine_identity(machine, sizeof(machine));
	dev = (uint64_t)st.st_dev;
	fsid = (uint64_t)sv.f_fsid;
	crypto_generichash_init(&h, NULL, 0, sizeof(out));
	crypto_generichash_update(&h, (const uint8_t *)machine,
				  strlen(machine) + 1);
	crypto_generichash_update(&h, (const uint8_t *)&dev, sizeof(dev));
	crypto_generichash_update(&h, (const uint8_t *)&fsid, sizeof(fsid));
	crypto_generichash_final(&h, out, sizeof(out));
	memcpy(id, out, sizeof(*id));
	if (*id == 0) /* 0 means unknown on the wire */
		*id = 1;
	return 0;
}
