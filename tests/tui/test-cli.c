/*
 * Tests for the `noid` command line (tui/main.c, tui/cli-*.c, app-run.c)
 * against the real binary: every command's usage and errors, the exit
 * codes of CLI.md (0, 1, 2, 3), separate data dirs per test, passwords
 * from NOID_PASSWORD with the fast test KDF, and a real noid-relay for
 * the commands that reach the network.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../integration/test-client-fix.h"

/* A data dir with one profile "alice", password "pw". */
static char *
tmp_init(void)
{
	return tmp_init_named("alice");
}

Test(cli, help_lists_commands_and_each_command_has_help)
{
	static const char *const cmds[] = {"init", "profiles", "relays",
	    "invite", "connect", "requests", "accept", "reject", "contacts",
	    "send", "read", "search", "verify", "rekey", "rotate", "passwd",
	    "export", "import", "daemon"};
	struct run r = noid(NULL, NULL, NULL, "--help", NULL);
	size_t i;

	cr_assert_eq(r.code, 0);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		cr_assert_not_null(
		    strstr(r.out, cmds[i]), "%s missing", cmds[i]);
	run_free(&r);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		r = noid(NULL, NULL, NULL, cmds[i], "--help", NULL);
		cr_assert_eq(r.code, 0, "%s --help", cmds[i]);
		cr_assert(strncmp(r.out, "usage: noid ", 12) == 0);
		cr_assert_not_null(strstr(r.out, cmds[i]));
		run_free(&r);
	}
}

Test(cli, usage_errors_exit_2_with_a_message)
{
	char *d = tmp_data();
	struct run r;

	r = noid(d, NULL, NULL, "frobnicate", NULL);
	cr_assert_eq(r.code, 2);
	cr_assert_not_null(strstr(r.err, "unknown command"));
	run_free(&r);
	r = noid(d, NULL, NULL, "send", NULL);
	cr_assert_eq(r.code, 2);
	cr_assert_not_null(strstr(r.err, "usage: noid send"));
	run_free(&r);
	r = noid(d, NULL, NULL, "invite", "--bogus", NULL);
	cr_assert_eq(r.code, 2);
	run_free(&r);
	r = noid(d, NULL, NULL, "relays", "add", "--key", NULL);
	cr_assert_eq(r.code, 2);
	run_free(&r);
	r = noid(d, NULL, NULL, "profiles", "frob", NULL);
	cr_assert_eq(r.code, 2);
	run_free(&r);
	r = noid(NULL, NULL, NULL, "--nope", NULL);
	cr_assert_eq(r.code, 2);
	run_free(&r);
	tmp_free(d);
}

Test(cli, without_data_every_command_says_run_init)
{
	char *d = tmp_data();
	struct run r = noid(d, "pw", NULL, "contacts", NULL);

	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "noid init"));
	run_free(&r);
	tmp_free(d);
}

Test(cli, init_twice_wrong_password_and_no_password_source)
{
	char *d = tmp_init();
	struct run r;

	r = noid(d, "pw", NULL, "init", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "already"));
	run_free(&r);
	r = noid(d, "wrong", NULL, "profiles", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "wrong password"));
	run_free(&r);
	/* No NOID_PASSWORD and no terminal: say how to give one. */
	r = noid(d, NULL, NULL, "profiles", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "NOID_PASSWORD"));
	run_free(&r);
	r = noid(d, "pw", NULL, "profiles", NULL);
	cr_assert_eq(r.code, 0);
	cr_assert_str_eq(r.out, "* alice\n");
	run_free(&r);
	tmp_free(d);
}

Test(cli, no_password_init_is_marked_weaker_and_opens_without_one)
{
	char *d = tmp_data();
	struct run r = noid(d, NULL, NULL, "init", "--no-password", NULL);

	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "warning"));
	run_free(&r);
	r = noid(d, NULL, NULL, "profiles", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	tmp_free(d);
}

Test(cli, profiles_add_rename_and_select)
{
	char *d = tmp_init();
	struct run r;

	r = noid(d, "pw", NULL, "profiles", "add", "work", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(d, "pw", NULL, "profiles", "add", "work", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	r = noid(d, "pw", NULL, "profiles", "rename", "work", "job", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(d, "pw", NULL, "--profile", "job", "profiles", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "  alice\n* job\n");
	run_free(&r);
	r = noid(d, "pw", NULL, "profiles", NULL);
	cr_assert_str_eq(r.out, "* alice\n  job\n");
	run_free(&r);
	r = noid(d, "pw", NULL, "profiles", "rename", "nobody", "x", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	tmp_free(d);
}

Test(cli, unknown_profile_is_a_clear_error)
{
	char *d = tmp_init(), *pf;
	struct run r;

	pf = path_join(d, "../pw");
	cr_assert_eq(file_write_atomic(pf, "pw\n", 3, 0600), 0);
	r = noid(NULL, NULL, NULL, "--data-dir", d, "--password-file", pf,
	    "--profile", "ghost", "profiles", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "ghost"));
	run_free(&r);
	r = noid(NULL, NULL, NULL, "--data-dir", d, "--password-file", pf,
	    "profiles", NULL);
	cr_assert_eq(r.code, 0, "password file: %s", r.err);
	run_free(&r);
	free(pf);
	tmp_free(d);
}

Test(cli, a_locked_data_dir_exits_3_naming_the_holder)
{
	char *d = tmp_init(), *lock = path_join(d, "lock");
	int fd = open(lock, O_RDWR);
	struct run r;

	cr_assert_geq(fd, 0);
	cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	r = noid(d, "pw", NULL, "profiles", NULL);
	cr_assert_eq(r.code, 3, "%s", r.err);
	cr_assert_not_null(strstr(r.err, "process"));
	run_free(&r);
	close(fd);
	r = noid(d, "pw", NULL, "profiles", NULL);
	cr_assert_eq(r.code, 0);
	run_free(&r);
	free(lock);
	tmp_free(d);
}

Test(cli, relays_add_checks_the_address_and_rm_removes_it)
{
	char *d = tmp_init();
	struct testrelay *rel = testrelay_start(NULL);
	struct run r;

	cr_assert_not_null(rel);
	r = noid(d, "pw", NULL, "relays", "add", "noid://nope", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "invalid relay address"));
	run_free(&r);
	r = noid(d, "pw", NULL, "relays", "add", testrelay_address(rel),
	    "--trusted", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(d, "pw", NULL, "relays", NULL);
	cr_assert_not_null(strstr(r.out, testrelay_address(rel)));
	cr_assert_not_null(strstr(r.out, "trusted"));
	run_free(&r);
	r = noid(d, "pw", NULL, "relays", "test", NULL);
	cr_assert_eq(r.code, 0, "%s%s", r.out, r.err);
	cr_assert(strncmp(r.out, "ok", 2) == 0);
	run_free(&r);
	r = noid(d, "pw", NULL, "relays", "rm", testrelay_address(rel), NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(d, "pw", NULL, "relays", "rm", testrelay_address(rel), NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	testrelay_free(rel);
	tmp_free(d);
}

Test(cli, passwd_changes_the_password)
{
	char *d = tmp_init();
	struct run r;

	setenv("NOID_NEW_PASSWORD", "new secret", 1);
	r = noid(d, "pw", NULL, "passwd", NULL);
	unsetenv("NOID_NEW_PASSWORD");
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(d, "pw", NULL, "profiles", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	r = noid(d, "new secret", NULL, "profiles", NULL);
	cr_assert_eq(r.code, 0);
	run_free(&r);
	tmp_free(d);
}

Test(cli, export_and_import_round_trip_and_a_wrong_archive_password)
{
	char *a = tmp_init(), *b = tmp_data(), *file = path_join(a, "../arch");
	struct run r;

	setenv("NOID_EXPORT_PASSWORD", "arch pw", 1);
	r = noid(a, "pw", NULL, "export", file, NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(b, "pw2", NULL, "init", "--name", "bob", NULL);
	run_free(&r);
	r = noid(b, "pw2", NULL, "import", file, NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(b, "pw2", NULL, "profiles", NULL);
	cr_assert_not_null(strstr(r.out, "alice"));
	run_free(&r);
	setenv("NOID_EXPORT_PASSWORD", "not it", 1);
	r = noid(b, "pw2", NULL, "import", file, NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "wrong password"));
	run_free(&r);
	unsetenv("NOID_EXPORT_PASSWORD");
	free(file);
	tmp_free(a);
	tmp_free(b);
}

Test(cli, the_man_page_is_the_one_the_table_generates)
{
	char *path = path_join(NOID_SRC_DIR, "contrib/noid.1");
	struct run r = noid(NULL, NULL, NULL, "help", "--man", NULL);
	uint8_t *page;
	size_t len;

	cr_assert_eq(r.code, 0);
	cr_assert_eq(file_read_all(path, 1 << 20, &page, &len), 0);
	cr_assert_str_eq((char *)page, r.out,
	    "contrib/noid.1 is stale: regenerate with noid help --man");
	free(page);
	free(path);
	run_free(&r);
}

/* Two users on one relay: invite, connect, accept, chat (needs net/agent). */
Test(cli, two_users_connect_and_chat_through_a_relay, .timeout = 120)
{
	char *a = tmp_init(), *b = tmp_data(), *link;
	struct testrelay *rel = testrelay_start(NULL);
	struct run r;

	cr_assert_not_null(rel);
	r = noid(b, "pw", NULL, "init", "--name", "bob", NULL);
	run_free(&r);
	r = noid(a, "pw", NULL, "relays", "add", testrelay_address(rel), NULL);
	run_free(&r);
	r = noid(b, "pw", NULL, "relays", "add", testrelay_address(rel), NULL);
	run_free(&r);
	r = noid(b, "pw", NULL, "connect", "NOID:NOT-A-LINK", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "invalid invitation link"));
	run_free(&r);
	r = noid(a, "pw", NULL, "invite", "--text", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	link = xstrdup(r.out);
	link[strcspn(link, "\n")] = '\0';
	run_free(&r);
	/* A link pasted with a line break in it still works. */
	r = noid(b, "pw", link, "connect", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(a, "pw", NULL, "requests", NULL);
	cr_assert_not_null(strstr(r.out, "bob"), "requests: %s", r.out);
	run_free(&r);
	r = noid(a, "pw", NULL, "accept", "nobody", NULL);
	cr_assert_eq(r.code, 1);
	run_free(&r);
	r = noid(a, "pw", NULL, "accept", "bob", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(b, "pw", NULL, "contacts", NULL);
	cr_assert_not_null(strstr(r.out, "alice"));
	run_free(&r);
	r = noid(b, "pw", NULL, "send", "alice", "hello", "世界", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(a, "pw", "from stdin 🎉\n", "send", "bob", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(a, "pw", NULL, "read", "bob", "--json", NULL);
	cr_assert_not_null(
	    strstr(r.out, "\"text\":\"hello 世界\""), "%s", r.out);
	run_free(&r);
	r = noid(a, "pw", NULL, "send", "carol", "hi", NULL);
	cr_assert_eq(r.code, 1);
	cr_assert_not_null(strstr(r.err, "carol"));
	run_free(&r);
	r = noid(a, "pw", NULL, "search", "世界", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	free(link);
	testrelay_free(rel);
	tmp_free(a);
	tmp_free(b);
}
