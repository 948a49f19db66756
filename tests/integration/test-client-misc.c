/*
 * The `noid` command line, the points no other test reaches (issue 5,
 * point 11): `--version`; `invite --qr`, whose drawing a real decoder
 * (tests/tools/qr-from-screen, zbar) turns back into a link another
 * user's `noid connect` accepts; NOID_HOME choosing the data dir when
 * --data-dir is absent, and --data-dir winning over it; the bash
 * completion in contrib/; and progress shown while a 2,000-message
 * history is exported and imported.
 *
 * Everything runs the real binaries, with a real noid-relay on
 * 127.0.0.1.  Temp dirs, relays and any embedded relay a data dir
 * started are tracked in globals so the suite's fini removes them even
 * when an assertion fails half way.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test-client-fix.h"
#include "tmuxfix.h"

#define QR_TOOL NOID_SRC_DIR "/tests/tools/qr-from-screen"
#define COMPLETION NOID_SRC_DIR "/contrib/completion/noid.bash"
#define HISTORY_N 2000
#define PW TMUXFIX_PASSWORD

#define DIRS_MAX 4

static struct testrelay *relay;
static char *dirs[DIRS_MAX]; /* data dirs from tmp_data(), freed in fini */
static size_t ndirs;

static void
misc_setup(void)
{
	relay = NULL;
	ndirs = 0;
}

static void
misc_teardown(void)
{
	size_t i;

	for (i = 0; i < ndirs; i++)
		tmp_free(dirs[i]);
	ndirs = 0;
	testrelay_free(relay);
	relay = NULL;
}

TestSuite(
    client_misc, .init = misc_setup, .fini = misc_teardown, .timeout = 180);

/* A fresh data dir path the fini removes. */
static const char *
misc_dir(void)
{
	cr_assert_lt(ndirs, DIRS_MAX);
	dirs[ndirs] = tmp_data();
	return dirs[ndirs++];
}

/* The temp dir holding a data dir (what tmp_free removes). */
static char *
misc_parent(const char *data)
{
	char *p = xstrdup(data);

	*strrchr(p, '/') = '\0';
	return p;
}

/* A data dir with profile name on the suite's relay (started once). */
static const char *
misc_user(const char *name)
{
	const char *d = misc_dir();
	struct run r;

	if (relay == NULL) {
		relay = testrelay_start(NULL);
		cr_assert_not_null(relay, "noid-relay did not start");
	}
	r = noid(d, PW, NULL, "init", "--name", name, NULL);
	cr_assert_eq(r.code, 0, "init: %s", r.err);
	run_free(&r);
	r = noid(d, PW, NULL, "relays", "add", testrelay_address(relay), NULL);
	cr_assert_eq(r.code, 0, "relays add: %s", r.err);
	run_free(&r);
	return d;
}

/* a invites (--text), b connects, a accepts, b takes the answer in. */
static void
misc_connect(const char *a, const char *b, const char *b_name)
{
	struct run r;
	char *link;

	r = noid(a, PW, NULL, "invite", "--text", NULL);
	cr_assert_eq(r.code, 0, "invite: %s", r.err);
	link = first_line(r.out);
	run_free(&r);
	r = noid(b, PW, NULL, "connect", link, NULL);
	cr_assert_eq(r.code, 0, "connect: %s", r.err);
	run_free(&r);
	r = noid(a, PW, NULL, "accept", b_name, NULL);
	cr_assert_eq(r.code, 0, "accept: %s", r.err);
	run_free(&r);
	r = noid(b, PW, NULL, "contacts", NULL);
	cr_assert_eq(r.code, 0, "contacts: %s", r.err);
	cr_assert_not_null(strstr(r.out, "connected"), "%s", r.out);
	run_free(&r);
	free(link);
}

/* Whether path exists. */
static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

Test(client_misc, version_prints_one_line_and_touches_no_data_dir)
{
	const char *d = misc_dir();
	const char *argv[] = {TMUXFIX_NOID, "--version", NULL};
	struct tmuxfix_result tr;
	struct run r;
	const char *p;

	r = noid(d, NULL, NULL, "--version", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_str_empty(r.err);
	cr_assert(strncmp(r.out, "noid ", 5) == 0, "'%s'", r.out);
	/* "noid" and a dotted version number, one line. */
	p = r.out + 5;
	cr_assert(isdigit((unsigned char)*p), "no version number: '%s'", r.out);
	while (isdigit((unsigned char)*p) || *p == '.')
		p++;
	cr_assert_str_eq(p, "\n", "more than a version: '%s'", r.out);
	cr_assert(!exists(d), "--version created the data dir %s", d);
	run_free(&r);

	/* Without any data dir option, and with NOID_HOME pointing nowhere. */
	setenv("NOID_HOME", d, 1);
	cr_assert_eq(tmuxfix_run(argv, NULL, 0, TMUXFIX_WAIT_MS, &tr), 0);
	unsetenv("NOID_HOME");
	cr_assert_eq(tr.code, 0, "%s", tr.err);
	cr_assert(strncmp(tr.out, "noid ", 5) == 0, "'%s'", tr.out);
	cr_assert(!exists(d), "--version created NOID_HOME %s", d);
	tmuxfix_result_free(&tr);
}

Test(client_misc, invite_qr_decodes_to_a_link_another_user_connects_with)
{
	const char *a = misc_user("alice"), *b = misc_user("bob");
	const char *qr_argv[] = {QR_TOOL, NULL};
	struct tmuxfix_result tr;
	struct run r;
	char *link, *text_link, *nl;

	r = noid(a, PW, NULL, "invite", "--qr", NULL);
	cr_assert_eq(r.code, 0, "invite --qr: %s", r.err);
	/* Drawn, not printed: the link text is not on stdout. */
	cr_assert_null(strstr(r.out, "NOID:"),
	    "invite --qr printed the link text:\n%s", r.out);
	cr_assert_eq(
	    tmuxfix_run(qr_argv, r.out, strlen(r.out), TMUXFIX_WAIT_MS, &tr),
	    0);
	cr_assert_eq(
	    tr.code, 0, "no QR code decodes from:\n%s\n%s", r.out, tr.err);
	run_free(&r);
	if ((nl = strchr(tr.out, '\n')) != NULL)
		*nl = '\0';
	link = xstrdup(tr.out);
	tmuxfix_result_free(&tr);
	cr_assert(strncmp(link, "NOID:", 5) == 0, "decoded '%s'", link);

	/* The same kind of link --text prints: same prefix up to the
	 * relay address and the same length. */
	r = noid(a, PW, NULL, "invite", "--text", NULL);
	cr_assert_eq(r.code, 0, "invite --text: %s", r.err);
	text_link = first_line(r.out);
	run_free(&r);
	cr_expect_eq(strlen(text_link), strlen(link), "qr '%s' text '%s'", link,
	    text_link);
	cr_expect(strncmp(text_link, link, 5) == 0);

	/* Bob connects with what the decoder read; Alice accepts. */
	r = noid(b, PW, NULL, "connect", link, NULL);
	cr_assert_eq(r.code, 0, "connect with the decoded link: %s", r.err);
	run_free(&r);
	r = noid(a, PW, NULL, "requests", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "bob"), "no request: %s", r.out);
	run_free(&r);
	r = noid(a, PW, NULL, "accept", "bob", NULL);
	cr_assert_eq(r.code, 0, "accept: %s", r.err);
	run_free(&r);
	/* A code shown on screen is the "qr" trust level, not "text". */
	r = noid(a, PW, NULL, "contacts", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	cr_expect_not_null(
	    strstr(r.out, "bob\tqr\t"), "bob not at trust 'qr':\n%s", r.out);
	run_free(&r);
	r = noid(b, PW, NULL, "contacts", NULL);
	cr_assert_not_null(strstr(r.out, "alice"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "connected"), "%s", r.out);
	run_free(&r);
	free(text_link);
	free(link);
}

/* Run build/noid ARGS... with NOID_HOME=home (NULL: unset) and
 * XDG_DATA_HOME=xdg; no --data-dir unless in the words. */
static struct tmuxfix_result
noid_home(const char *home, const char *xdg, const char *const *words)
{
	const char *argv[16];
	struct tmuxfix_result tr;
	size_t n = 0;

	argv[n++] = TMUXFIX_NOID;
	for (; *words != NULL && n < 15; words++)
		argv[n++] = *words;
	argv[n] = NULL;
	if (home != NULL)
		setenv("NOID_HOME", home, 1);
	else
		unsetenv("NOID_HOME");
	setenv("XDG_DATA_HOME", xdg, 1);
	setenv("NOID_PASSWORD", PW, 1);
	setenv("NOID_TEST_FAST_KDF", "1", 1);
	cr_assert_eq(tmuxfix_run(argv, NULL, 0, TMUXFIX_WAIT_MS, &tr), 0);
	unsetenv("NOID_HOME");
	return tr;
}

Test(client_misc, noid_home_selects_the_data_dir_and_data_dir_wins)
{
	const char *home = misc_dir(), *other = misc_dir();
	char *parent = misc_parent(home), *xdg = path_join(parent, "xdg");
	char *xdg_noid = path_join(xdg, "noid");
	const char *init_h[] = {"init", "--name", "homer", NULL};
	const char *list[] = {"profiles", NULL};
	const char *init_o[] = {
	    "--data-dir", other, "init", "--name", "otto", NULL};
	const char *list_o[] = {"--data-dir", other, "profiles", NULL};
	struct tmuxfix_result tr;

	/* NOID_HOME alone: init creates it there, not under XDG. */
	tr = noid_home(home, xdg, init_h);
	cr_assert_eq(tr.code, 0, "init with NOID_HOME: %s", tr.err);
	tmuxfix_result_free(&tr);
	cr_assert(exists(home), "NOID_HOME %s was not created", home);
	cr_assert(!exists(xdg_noid), "init went to XDG (%s)", xdg_noid);
	tr = noid_home(home, xdg, list);
	cr_assert_eq(tr.code, 0, "%s", tr.err);
	cr_assert_not_null(strstr(tr.out, "homer"), "%s", tr.out);
	tmuxfix_result_free(&tr);

	/* --data-dir wins over NOID_HOME, for init and for reading. */
	tr = noid_home(home, xdg, init_o);
	cr_assert_eq(tr.code, 0, "init --data-dir: %s", tr.err);
	tmuxfix_result_free(&tr);
	tr = noid_home(home, xdg, list_o);
	cr_assert_eq(tr.code, 0, "%s", tr.err);
	cr_assert_not_null(strstr(tr.out, "otto"), "%s", tr.out);
	cr_assert_null(strstr(tr.out, "homer"), "NOID_HOME won:\n%s", tr.out);
	tmuxfix_result_free(&tr);
	tr = noid_home(home, xdg, list);
	cr_assert_not_null(strstr(tr.out, "homer"), "%s", tr.out);
	cr_assert_null(strstr(tr.out, "otto"), "%s", tr.out);
	tmuxfix_result_free(&tr);

	/* Neither: the XDG default, which holds no data yet. */
	tr = noid_home(NULL, xdg, list);
	cr_assert_neq(tr.code, 0, "profiles found data in an empty XDG dir");
	cr_assert_null(strstr(tr.out, "homer"), "%s", tr.out);
	tmuxfix_result_free(&tr);
	free(xdg_noid);
	free(xdg);
	free(parent);
}

/* Complete `noid WORDS...` at the last word in a plain bash that has
 * sourced the completion script after prelude; the candidates, one a
 * line (caller frees the result). */
static struct tmuxfix_result
complete_words(const char *prelude, const char *words)
{
	char *script;
	const char *argv[] = {
	    "/bin/bash", "--norc", "--noprofile", "-c", NULL, NULL};
	struct tmuxfix_result tr;

	xasprintf(&script,
	    "%s\n"
	    "source '%s' || exit 9\n"
	    "COMP_WORDS=(noid %s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
	    "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n"
	    "fn=$(complete -p noid | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')\n"
	    "[ -n \"$fn\" ] || exit 8\n"
	    "\"$fn\" noid \"${COMP_WORDS[COMP_CWORD]}\" "
	    "\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
	    "printf '%%s\\n' \"${COMPREPLY[@]}\"\n",
	    prelude, COMPLETION, words);
	argv[4] = script;
	cr_assert_eq(tmuxfix_run(argv, NULL, 0, TMUXFIX_WAIT_MS, &tr), 0);
	free(script);
	return tr;
}

/* Whether word is one line of list. */
static int
has_line(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

/* bash-completion's _init_completion, reduced to what _noid uses: a
 * stand-in so the script's own logic is tested where that package is
 * not installed. */
static const char stub_init[] =
    "_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; "
    "prev=${COMP_WORDS[COMP_CWORD-1]}; words=(\"${COMP_WORDS[@]}\"); "
    "cword=$COMP_CWORD; }\n"
    "_filedir() { :; }\n";

Test(client_misc, completion_offers_the_subcommands)
{
	static const char *const re[] = {"relays", "requests", "read", "rekey"};
	struct tmuxfix_result tr;
	struct run help;
	char *p, *e, word[32];
	size_t i;

	tr = complete_words(stub_init, "re");
	cr_assert_eq(tr.code, 0, "completion failed: %s", tr.err);
	for (i = 0; i < sizeof re / sizeof re[0]; i++)
		cr_expect(has_line(tr.out, re[i]),
		    "'noid re<Tab>' lacks %s:\n%s", re[i], tr.out);
	cr_expect(!has_line(tr.out, "send"), "%s", tr.out);
	tmuxfix_result_free(&tr);

	/* Every command `noid --help` lists is offered for an empty word. */
	tr = complete_words(stub_init, "''");
	cr_assert_eq(tr.code, 0, "completion failed: %s", tr.err);
	help = noid(NULL, NULL, NULL, "--help", NULL);
	p = strstr(help.out, "commands:\n");
	cr_assert_not_null(p);
	for (p = strchr(p, '\n') + 1; strncmp(p, "  ", 2) == 0;
	     p = strchr(p, '\n') + 1) {
		if (sscanf(p, " %31[a-z]", word) == 1 && p[2] != ' ')
			cr_expect(has_line(tr.out, word),
			    "'%s' (in noid --help) is not completed", word);
		if ((e = strchr(p, '\n')) == NULL)
			break;
	}
	run_free(&help);
	tmuxfix_result_free(&tr);

	/* Subcommands of a command. */
	tr = complete_words(stub_init, "relays ''");
	cr_assert_eq(tr.code, 0, "%s", tr.err);
	cr_expect(has_line(tr.out, "add") && has_line(tr.out, "rm") &&
	        has_line(tr.out, "test"),
	    "relays <Tab>:\n%s", tr.out);
	tmuxfix_result_free(&tr);
}

Test(client_misc, completion_works_when_sourced_in_a_plain_bash)
{
	static const char *const re[] = {"relays", "requests", "read", "rekey"};
	struct tmuxfix_result tr;
	size_t i;

	/* What its header says: "Source it" — in a bash without the
	 * bash-completion package's helpers. */
	tr = complete_words("unset -f _init_completion _filedir", "re");
	cr_assert_eq(tr.code, 0, "completion failed: %s", tr.err);
	cr_expect_str_empty(tr.err, "the script fails in a plain bash");
	for (i = 0; i < sizeof re / sizeof re[0]; i++)
		cr_expect(has_line(tr.out, re[i]),
		    "'noid re<Tab>' lacks %s in a plain bash:\n%s\nstderr: %s",
		    re[i], tr.out, tr.err);
	tmuxfix_result_free(&tr);
}

/* Whether text shows progress: a number with '%', or "N/M", or "N of M". */
static int
shows_progress(const char *text)
{
	const char *p;

	for (p = text; *p; p++) {
		if (!isdigit((unsigned char)*p))
			continue;
		while (isdigit((unsigned char)p[1]) || p[1] == ',')
			p++;
		if (p[1] == '%' || (p[1] == ' ' && p[2] == '%') ||
		    (p[1] == '/' && isdigit((unsigned char)p[2])) ||
		    strncmp(p + 1, " of ", 4) == 0)
			return 1;
	}
	return 0;
}

Test(client_misc, export_and_import_show_progress_for_a_long_history)
{
	const char *a = misc_user("alice"), *b = misc_user("bob");
	const char *c = misc_dir();
	char *parent = misc_parent(a), *file = path_join(parent, "alice.noid");
	struct run r;

	misc_connect(a, b, "bob");
	cr_assert_eq(tmuxfix_history(a, HISTORY_N), 0);

	r = noid(a, PW, NULL, "export", file, NULL);
	cr_assert_eq(r.code, 0, "export: %s", r.err);
	cr_assert(exists(file));
	cr_expect(shows_progress(r.err),
	    "noid export of %d messages shows no progress on stderr:\n"
	    "stdout: %s\nstderr: %s",
	    HISTORY_N, r.out, r.err);
	run_free(&r);

	r = noid(c, PW, NULL, "init", "--name", "carol", NULL);
	cr_assert_eq(r.code, 0, "%s", r.err);
	run_free(&r);
	r = noid(c, PW, NULL, "import", file, NULL);
	cr_assert_eq(r.code, 0, "import: %s", r.err);
	cr_expect(shows_progress(r.err),
	    "noid import of %d messages shows no progress on stderr:\n"
	    "stdout: %s\nstderr: %s",
	    HISTORY_N, r.out, r.err);
	run_free(&r);

	/* The history came across: its marked messages are found. */
	r = noid(c, PW, NULL, "--profile", "alice", "search",
	    TMUXFIX_HIST_NEEDLE, NULL);
	cr_assert_eq(r.code, 0, "search: %s", r.err);
	cr_expect_not_null(strstr(r.out, TMUXFIX_HIST_NEEDLE), "%s", r.out);
	run_free(&r);
	r = noid(c, PW, NULL, "--profile", "alice", "search", TMUXFIX_HIST_LAST,
	    NULL);
	cr_expect_not_null(strstr(r.out, TMUXFIX_HIST_LAST), "%s", r.out);
	run_free(&r);
	free(file);
	free(parent);
}
