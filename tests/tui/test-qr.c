/*
 * Tests for tui/qr.c: mode and version choice, sizes on screen, the fit
 * check, rendering; and end to end, codes shown in a real tmux pane read
 * back by a real decoder (zbar through qr-from-screen).
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"
#include "qr.h"
#include "utf8.h"

static void
qr_setup(void)
{
	cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"));
}

TestSuite(qr, .init = qr_setup);

/* An invitation-shaped link: "NOID:" and base32 of n fixed bytes. */
static char *
link_text(size_t n)
{
	uint8_t *raw = xmalloc(n);
	char *b32, *s;

	for (size_t i = 0; i < n; i++)
		raw[i] = (uint8_t)(i * 37 + 11);
	b32 = base32_encode(raw, n);
	xasprintf(&s, "NOID:%s", b32);
	free(b32);
	free(raw);
	return s;
}

Test(qr, alnum_set)
{
	cr_assert(qr_text_is_alnum("NOID://ABC-123.X:Y", 18));
	cr_assert(qr_text_is_alnum(" $%*+-./:", 9));
	cr_assert_not(qr_text_is_alnum("noid:abc", 8));
	cr_assert_not(qr_text_is_alnum("A_B", 3));
	cr_assert_not(qr_text_is_alnum("A\0B", 3));
}

Test(qr, version5_link_fits_80x24_with_a_title)
{
	char *text = link_text(72); /* 5 + 116 characters */
	struct qr *q;

	cr_assert_eq(strlen(text), 121);
	cr_assert_eq(qr_encode(text, QR_LEVEL_M, &q), 0);
	cr_assert(qr_is_alnum(q));
	cr_assert_eq(qr_version(q), 5);
	cr_assert_eq(qr_side(q), 37);
	cr_assert_eq(qr_cols(q), 41);
	cr_assert_eq(qr_rows(q), 21);
	cr_assert(qr_fits(q, 80, 24));
	cr_assert(qr_fits(q, 41, 22));
	cr_assert_not(qr_fits(q, 40, 24));
	cr_assert_not(qr_fits(q, 80, 21), "no room for the title line");
	qr_free(q);
	free(text);
}

Test(qr, byte_mode_for_other_text)
{
	struct qr *q;

	cr_assert_eq(qr_encode("noid:lowercase", QR_LEVEL_M, &q), 0);
	cr_assert_not(qr_is_alnum(q));
	cr_assert_eq(qr_version(q), 1);
	qr_free(q);
}

Test(qr, long_links_do_not_fit_80x24)
{
	char text[301];
	struct qr *q;

	memset(text, 'x', 300);
	text[300] = '\0';
	cr_assert_eq(qr_encode_fit(text, 80, 24, &q), NOID_ERR_TOOBIG);
	cr_assert_null(q);
	cr_assert_eq(qr_encode_fit(text, 100, 40, &q), 0);
	cr_assert(qr_fits(q, 100, 40));
	cr_assert_geq(qr_version(q), 10);
	qr_free(q);
}

Test(qr, fit_prefers_level_m_then_falls_back_to_l)
{
	char *text = link_text(100);
	struct qr *m, *l, *q;

	cr_assert_eq(qr_encode(text, QR_LEVEL_M, &m), 0);
	cr_assert_eq(qr_encode(text, QR_LEVEL_L, &l), 0);
	cr_assert_gt(qr_version(m), qr_version(l));
	/* Room for M: M is used. */
	cr_assert_eq(qr_encode_fit(text, qr_cols(m), qr_rows(m) + 1, &q), 0);
	cr_assert_eq(qr_version(q), qr_version(m));
	qr_free(q);
	/* Room only for L. */
	cr_assert_eq(qr_encode_fit(text, qr_cols(l), qr_rows(l) + 1, &q), 0);
	cr_assert_eq(qr_version(q), qr_version(l));
	qr_free(q);
	qr_free(m);
	qr_free(l);
	free(text);
}

Test(qr, bad_input)
{
	struct qr *q;
	char *big = xmalloc(8000);

	cr_assert_eq(qr_encode("", QR_LEVEL_M, &q), NOID_ERR_INVAL);
	cr_assert_null(q);
	memset(big, 'a', 7999);
	big[7999] = '\0';
	cr_assert_eq(qr_encode(big, QR_LEVEL_L, &q), NOID_ERR_TOOBIG);
	big[3000] = '\0'; /* under the absolute limit, over 40-L bytes */
	cr_assert_eq(qr_encode(big, QR_LEVEL_L, &q), NOID_ERR_TOOBIG);
	cr_assert_null(q);
	free(big);
}

/* The half-block glyph for (top, bottom) in the DARK_FG style. */
static const char *
glyph(int top, int bottom)
{
	static const char *g[4] = {
	    " ", "\xe2\x96\x84", "\xe2\x96\x80", "\xe2\x96\x88"};
	return g[top * 2 + bottom];
}

Test(qr, render_matches_modules_in_both_polarities)
{
	char *text = link_text(40);
	struct qr *q;

	cr_assert_eq(qr_encode(text, QR_LEVEL_M, &q), 0);
	for (int row = 0; row < qr_rows(q); row++) {
		char *dark = qr_render_line(q, row, QR_STYLE_DARK_FG);
		char *light = qr_render_line(q, row, QR_STYLE_LIGHT_FG);
		const char *d = dark, *l = light;

		cr_assert_eq(
		    utf8_width(dark, strlen(dark)), (size_t)qr_cols(q));
		for (int x = 0; x < qr_cols(q); x++) {
			int t = qr_dark(q, x, 2 * row);
			int b = qr_dark(q, x, 2 * row + 1);
			const char *gd = glyph(t, b), *gl = glyph(!t, !b);
			cr_assert(strncmp(d, gd, strlen(gd)) == 0,
			    "row %d col %d", row, x);
			cr_assert(strncmp(l, gl, strlen(gl)) == 0);
			d += strlen(gd);
			l += strlen(gl);
		}
		cr_assert_eq(*d, '\0');
		cr_assert_eq(*l, '\0');
		free(dark);
		free(light);
	}
	/* The quiet zone is light: two blank module rows and columns. */
	for (int i = 0; i < qr_cols(q); i++) {
		cr_assert_not(qr_dark(q, i, 0));
		cr_assert_not(qr_dark(q, i, 1));
		cr_assert_not(qr_dark(q, 0, i));
		cr_assert_not(qr_dark(q, qr_cols(q) - 1, i));
	}
	/* The finder pattern's corner is dark. */
	cr_assert(qr_dark(q, QR_QUIET, QR_QUIET));
	char *all = qr_render(q, QR_STYLE_ANSI);
	cr_assert_not_null(strstr(all, "\033[30;47m"));
	int lines = 0;
	for (char *p = all; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, qr_rows(q));
	free(all);
	qr_free(q);
	free(text);
}

/* Where qr-from-screen is: $NOID_QR_FROM_SCREEN, else the copy in tests/tools. */
static const char *
decoder_path(void)
{
	static char path[1024];
	const char *env = getenv("NOID_QR_FROM_SCREEN");

	if (env != NULL && access(env, X_OK) == 0)
		return env;
	snprintf(path, sizeof path, "%s/tests/tools/qr-from-screen",
	    NOID_SRC_DIR);
	return access(path, X_OK) == 0 ? path : NULL;
}

/* Run a shell command; return its stdout (caller frees) and status. */
static char *
run(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	struct buf b;
	char chunk[4096];
	size_t n;

	cr_assert_not_null(f, "popen %s", cmd);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(&b, chunk, n);
	buf_put_u8(&b, '\0');
	*status = pclose(f);
	return (char *)b.data;
}

/* The test's temp dir; the tmux socket and the page live in it. */
static char tmp_dir[] = "/tmp/noid-qr-XXXXXX";
static char tmux_socket[64];
static char page_file[64];

/* Stop the tmux server and remove the temp dir, whatever happened. */
static void
tmux_cleanup(void)
{
	char *cmd;
	int st;

	if (tmux_socket[0] == '\0')
		return;
	xasprintf(&cmd, "tmux -S %s kill-server 2>/dev/null", tmux_socket);
	free(run(cmd, &st));
	free(cmd);
	unlink(tmux_socket);
	unlink(page_file);
	rmdir(tmp_dir);
}

/* Show file in a new 100x40 pane and return the decoded text. */
static char *
show_and_decode(const char *file, int idx, const char *decoder)
{
	char *cmd, *out = NULL;
	int st;

	xasprintf(&cmd,
	    "tmux -u -S %s -f /dev/null new-session -d -s s%d -x 100 -y 40 "
	    "\"cat %s; sleep 60\"",
	    tmux_socket, idx, file);
	free(run(cmd, &st));
	free(cmd);
	cr_assert_eq(st, 0, "tmux new-session failed");
	/* Wait for the pane to show the end marker. */
	xasprintf(&cmd, "tmux -S %s capture-pane -p -t s%d", tmux_socket, idx);
	for (int tries = 0; tries < 200; tries++) {
		out = run(cmd, &st);
		if (strstr(out, "END-OF-CODE") != NULL)
			break;
		free(out);
		out = NULL;
		usleep(25 * 1000);
	}
	free(cmd);
	cr_assert_not_null(out, "the pane never showed the code");
	free(out);
	xasprintf(&cmd, "tmux -S %s capture-pane -p -e -N -t s%d | %s",
	    tmux_socket, idx, decoder);
	out = run(cmd, &st);
	free(cmd);
	return out;
}

Test(qr, decoded_from_a_real_tmux_pane, .fini = tmux_cleanup)
{
	static const struct {
		enum qr_style style;
		const char *pre, *post;
	} cases[] = {
	    {QR_STYLE_DARK_FG, "", ""}, {QR_STYLE_LIGHT_FG, "", ""},
	    {QR_STYLE_ANSI, "", ""},
	    {QR_STYLE_LIGHT_FG, "\033[7m", "\033[0m"}, /* reverse video */
	};
	const char *decoder = decoder_path();
	char *text = link_text(72);

	cr_assert_not_null(decoder,
	    "qr-from-screen not found (tests/tools or NOID_QR_FROM_SCREEN)");
	setenv("LC_ALL", "C.UTF-8", 1);
	cr_assert_not_null(mkdtemp(tmp_dir));
	snprintf(tmux_socket, sizeof tmux_socket, "%s/tmux", tmp_dir);
	snprintf(page_file, sizeof page_file, "%s/page", tmp_dir);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct qr *q;
		cr_assert_eq(qr_encode_fit(text, 80, 24, &q), 0);
		cr_assert_eq(qr_version(q), 5);
		char *body = qr_render(q, cases[i].style), *page;
		xasprintf(&page,
		    "Invitation for a test (style %zu)\n%s%s%s"
		    "END-OF-CODE",
		    i, cases[i].pre, body, cases[i].post);
		cr_assert_eq(
		    file_write_atomic(page_file, page, strlen(page), 0600), 0);
		char *got = show_and_decode(page_file, (int)i, decoder);
		size_t n = strlen(got);
		while (n > 0 && got[n - 1] == '\n')
			got[--n] = '\0';
		cr_assert_str_eq(got, text, "style %zu decoded \"%s\"", i, got);
		free(got);
		free(page);
		free(body);
		qr_free(q);
	}
	free(text);
}
