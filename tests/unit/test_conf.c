/*
 * test_conf.c -- the configuration format: parsing, comments, overrides,
 * typed getters and clear errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_parse(void **state)
{
	struct conf *c = conf_new();
	char err[256] = "";
	const char *text =
		"# a comment\n"
		"mds = tcp://127.0.0.1:7100   # trailing comment\n"
		"\n"
		"  name=client.admin\n"
		"keyring = /tmp/x y\n"
		"empty =\n"
		"mds = tcp://127.0.0.1:7200\n";
	uint64_t u;
	int b;
	double d;

	(void)state;
	assert_non_null(c);
	assert_int_equal(conf_parse(c, text, "test", err, sizeof(err)), 0);
	assert_string_equal(conf_get(c, "mds"), "tcp://127.0.0.1:7200");
	assert_string_equal(conf_get(c, "name"), "client.admin");
	assert_string_equal(conf_get(c, "keyring"), "/tmp/x y");
	assert_string_equal(conf_get(c, "empty"), "");
	assert_null(conf_get(c, "missing"));
	assert_string_equal(conf_get_str(c, "missing", "dflt"), "dflt");
	assert_int_equal(conf_set(c, "name", "client.bob"), 0);
	assert_string_equal(conf_get(c, "name"), "client.bob");
	assert_int_equal(conf_set(c, "Bad Key", "x"), -EINVAL);

	assert_int_equal(conf_set(c, "n", "42"), 0);
	assert_int_equal(conf_get_u64(c, "n", 1, &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(conf_get_u64(c, "nope", 7, &u), 0);
	assert_int_equal(u, 7);
	assert_int_equal(conf_set(c, "n", "4x"), 0);
	assert_int_equal(conf_get_u64(c, "n", 1, &u), -EINVAL);
	assert_int_equal(u, 1);

	assert_int_equal(conf_set(c, "sz", "4M"), 0);
	assert_int_equal(conf_get_size(c, "sz", 0, &u), 0);
	assert_int_equal(u, 4 << 20);
	assert_int_equal(conf_set(c, "sz", "2GiB"), 0);
	assert_int_equal(conf_get_size(c, "sz", 0, &u), 0);
	assert_true(u == 2ull << 30);
	assert_int_equal(conf_set(c, "sz", "-1"), 0);
	assert_int_equal(conf_get_size(c, "sz", 0, &u), -EINVAL);

	assert_int_equal(conf_set(c, "t", "5s"), 0);
	assert_int_equal(conf_get_ms(c, "t", 0, &u), 0);
	assert_int_equal(u, 5000);
	assert_int_equal(conf_set(c, "t", "250ms"), 0);
	assert_int_equal(conf_get_ms(c, "t", 0, &u), 0);
	assert_int_equal(u, 250);
	assert_int_equal(conf_set(c, "t", "1m"), 0);
	assert_int_equal(conf_get_ms(c, "t", 0, &u), 0);
	assert_int_equal(u, 60000);
	assert_int_equal(conf_set(c, "t", "3"), 0);
	assert_int_equal(conf_get_ms(c, "t", 0, &u), 0);
	assert_int_equal(u, 3000);
	assert_int_equal(conf_set(c, "t", "soon"), 0);
	assert_int_equal(conf_get_ms(c, "t", 0, &u), -EINVAL);

	assert_int_equal(conf_set(c, "b", "yes"), 0);
	assert_int_equal(conf_get_bool(c, "b", 0, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(conf_set(c, "b", "off"), 0);
	assert_int_equal(conf_get_bool(c, "b", 1, &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(conf_set(c, "b", "maybe"), 0);
	assert_int_equal(conf_get_bool(c, "b", 1, &b), -EINVAL);

	assert_int_equal(conf_set(c, "w", "1.5"), 0);
	assert_int_equal(conf_get_double(c, "w", 0, &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(conf_set(c, "w", "nan"), 0);
	assert_int_equal(conf_get_double(c, "w", 0, &d), -EINVAL);
	conf_free(c);
}

static void test_errors(void **state)
{
	struct conf *c = conf_new();
	char err[256] = "";

	(void)state;
	assert_int_equal(conf_parse(c, "a = 1\njust words\n", "f.conf", err,
				    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "f.conf, line 2"));
	assert_int_equal(conf_parse(c, "BAD = 1\n", "f.conf", err,
				    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad key"));
	conf_free(c);
}

static void test_load(void **state)
{
	char path[] = "/tmp/test_conf.XXXXXX";
	struct conf *c = NULL;
	char err[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "mds = x\n", 8), 8);
	close(fd);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(conf_get(c, "mds"), "x");
	conf_free(c);
	unlink(path);
	assert_int_equal(conf_load(path, &c, err, sizeof(err)), -ENOENT);
	assert_null(c);
	assert_non_null(strstr(err, path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
