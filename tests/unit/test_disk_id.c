/*
 * test_disk_id.c -- osd/disk_id.c on real folders: two folders on one file
 * system get one id, a folder on another file system (a tmpfs) another,
 * the id is stable, and a missing folder is an error, not an id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "../../osd/disk_id.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64], a[80], b[80];

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/var/tmp/test_disk_id.XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(a, sizeof(a), "%s/osd.0", base);
	snprintf(b, sizeof(b), "%s/osd.1", base);
	return mkdir(a, 0700) || mkdir(b, 0700);
}

static int teardown(void **state)
{
	(void)state;
	rmdir(a);
	rmdir(b);
	return rmdir(base);
}

static void test_same_and_other_fs(void **state)
{
	uint64_t ia, ib, again, shm;
	struct stat sa, ss;

	(void)state;
	assert_int_equal(disk_id_of(a, &ia), 0);
	assert_int_equal(disk_id_of(b, &ib), 0);
	assert_int_equal(disk_id_of(a, &again), 0);
	assert_true(ia != 0);
	assert_true(ia == ib);
	assert_true(ia == again);
	/* /dev/shm is a tmpfs of its own wherever it exists: another disk. */
	if (stat("/dev/shm", &ss) == 0 && stat(a, &sa) == 0 &&
	    ss.st_dev != sa.st_dev) {
		assert_int_equal(disk_id_of("/dev/shm", &shm), 0);
		assert_true(shm != 0);
		assert_true(shm != ia);
	}
}

static void test_missing_folder(void **state)
{
	char gone[96];
	uint64_t id = 42;

	(void)state;
	snprintf(gone, sizeof(gone), "%s/not-there", base);
	assert_int_equal(disk_id_of(gone, &id), -ENOENT);
	assert_true(id == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_and_other_fs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_folder, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
