/*
 * main: `noid` — the full-screen client, or one command of CLI.md.
 *
 * The global options come first; then either nothing (the TUI) or a
 * command from the table in cli-table.c.  A command goes to the running
 * instance of its data dir when there is one (control socket), else it
 * runs here on the same engine: open the store, pick the profile, and
 * for network commands take in what waits, act, and flush (app-run.c).
 */
#include "client.h"

#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOID_VERSION "0.1"

/* Match "--name VALUE" / "--name=VALUE" at argv[*i]; advances *i. */
static int
main_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t len = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, len) != 0)
		return 0;
	if (a[len] == '=') {
		*val = a + len + 1;
		return 1;
	}
	if (a[len] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "noid: %s needs a value\n", name);
		exit(EXIT_USAGE);
	}
	*val = argv[++*i];
	return 1;
}

int
main(int argc, char **argv)
{
	struct app_globals g;
	char *xdg = NULL;
	const char *env;
	int i;

	setlocale(LC_ALL, "");
	/* Messages are UTF-8 whatever the environment says: without a
	 * UTF-8 locale ncursesw would draw CJK and emoji as escapes. */
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	process_no_core();
	memset(&g, 0, sizeof g);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			cli_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("noid %s\n", NOID_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (main_opt(argc, argv, &i, "--data-dir", &g.dir) ||
		    main_opt(argc, argv, &i, "--profile", &g.profile) ||
		    main_opt(
		        argc, argv, &i, "--password-file", &g.password_file))
			continue;
		fprintf(stderr, "noid: unknown option '%s' (see noid --help)\n",
		    argv[i]);
		return EXIT_USAGE;
	}
	/* The command line wins over the environment. */
	if (g.dir == NULL && (env = getenv("NOID_HOME")) != NULL && *env)
		g.dir = env;
	if (g.dir == NULL)
		g.dir = xdg = xdg_dir("XDG_DATA_HOME", ".local/share", "noid");
	if (g.dir[0] == '\0') {
		fprintf(stderr, "noid: --data-dir is empty\n");
		return EXIT_USAGE;
	}
	if (i == argc)
		i = app_tui_main(&g);
	else
		i = app_run_command(&g, argc - i, argv + i);
	free(xdg);
	return i;
}
