/*
 * Tests for net/relay-config.c: the config file, values, the template.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "relay-config.h"

Test(relay_config, template_loads_to_the_defaults)
{
	char dir[] = "/tmp/noid-config-test-XXXXXX", *p;
	struct relay_config a, b;
	const char *why;
	unsigned line;

	cr_assert_not_null(mkdtemp(dir));
	p = path_join(dir, "noid-relay.conf");
	cr_assert_eq(relay_config_write_default(p), 0);
	relay_config_init(&a);
	relay_config_init(&b);
	cr_assert_eq(relay_config_load(&a, p, false, &line, &why), 0);
	cr_assert_eq(a.quota, b.quota);
	cr_assert_eq(a.ttl_s, b.ttl_s);
	cr_assert_eq(a.max_queues, b.max_queues);
	cr_assert_eq(a.max_queues_per_conn, b.max_queues_per_conn);
	cr_assert_eq(a.max_stored, b.max_stored);
	cr_assert_eq(a.max_buffered, b.max_buffered);
	cr_assert_eq(a.nlisten, 0);
	cr_assert(a.fsync);
	relay_config_free(&a);
	relay_config_free(&b);
	unlink(p);
	rmdir(dir);
	free(p);
}

Test(relay_config, values_and_errors)
{
	char path[] = "/tmp/noid-config-test-XXXXXX";
	const char text[] = "# c\n listen = 127.0.0.1:1 \nlisten=[::1]:2\n"
	                    "quota = 10\naccess_key = k\nfsync = no\n"
	                    "bogus = 1\n";
	struct relay_config c;
	const char *why;
	unsigned line;
	int fd;

	cr_assert_geq(fd = mkstemp(path), 0);
	cr_assert_eq(
	    write(fd, text, sizeof text - 1), (ssize_t)sizeof text - 1);
	close(fd);
	relay_config_init(&c);
	cr_assert_eq(
	    relay_config_load(&c, path, false, &line, &why), NOID_ERR_INVAL);
	cr_assert_eq(line, 7);
	cr_assert_str_eq(why, "unknown setting");
	cr_assert_eq(c.nlisten, 2);
	cr_assert_str_eq(c.listen[1], "[::1]:2");
	cr_assert_eq(c.quota, 10);
	cr_assert_str_eq(c.access_key, "k");
	cr_assert(!c.fsync);
	cr_assert_neq(relay_config_set(&c, "quota", "1", &why), 0);
	cr_assert_neq(relay_config_set(&c, "ttl", "12x", &why), 0);
	cr_assert_neq(relay_config_set(&c, "max_conns", "-1", &why), 0);
	cr_assert_neq(relay_config_set(&c, "access_key",
	                  "0123456789012345678901234567890123456789012345678901"
	                  "234567890123"
	                  "4",
	                  &why),
	    0);
	relay_config_free(&c);
	unlink(path);
}

Test(relay_config, global_limits)
{
	struct relay_config c;
	const char *why;

	relay_config_init(&c);
	cr_assert_eq(relay_config_set(&c, "max_queues", "5", &why), 0);
	cr_assert_eq(c.max_queues, 5);
	cr_assert_eq(relay_config_set(&c, "max_queues_per_conn", "2", &why), 0);
	cr_assert_eq(c.max_queues_per_conn, 2);
	cr_assert_eq(relay_config_set(&c, "max_stored", "2097152", &why), 0);
	cr_assert_eq(c.max_stored, 2097152);
	cr_assert_eq(relay_config_set(&c, "max_buffered", "1048576", &why), 0);
	cr_assert_eq(c.max_buffered, 1048576);
	cr_assert_neq(relay_config_set(&c, "max_queues", "0", &why), 0);
	cr_assert_neq(
	    relay_config_set(&c, "max_queues_per_conn", "x", &why), 0);
	cr_assert_neq(relay_config_set(&c, "max_stored", "1000", &why), 0);
	cr_assert_neq(relay_config_set(&c, "max_buffered", "1000", &why), 0);
	relay_config_free(&c);
}
