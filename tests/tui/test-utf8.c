/*
 * Tests for tui/utf8.c: decoding, clusters, widths, words and wrapping,
 * with CJK, emoji (ZWJ, VS16, flags, skin tones), combining marks and
 * invalid bytes.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "utf8.h"

static void
utf8_setup(void)
{
	cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"));
}

TestSuite(utf8, .init = utf8_setup);

#define FAMILY                                                                 \
	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"             \
	"\xf0\x9f\x91\xa7" /* 👨‍👩‍👧 */
#define HEART_VS16 "\xe2\x9d\xa4\xef\xb8\x8f" /* ❤️ */
#define HEART "\xe2\x9d\xa4" /* ❤ */
#define FLAG_DE "\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa" /* 🇩🇪 */
#define FLAG_FR "\xf0\x9f\x87\xab\xf0\x9f\x87\xb7" /* 🇫🇷 */
#define RI_F "\xf0\x9f\x87\xab" /* lone 🇫 */
#define THUMB_TONE "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd" /* 👍🏽 */
#define TONE "\xf0\x9f\x8f\xbd" /* 🏽 */
#define E_ACUTE "e\xcc\x81" /* e + U+0301 */
#define CJK "\xe4\xb8\xad\xe6\x96\x87" /* 中文 */

/* Count clusters and check each has the width the caller expects. */
static size_t
clusters(const char *s, size_t len, int *widths, size_t max)
{
	size_t off = 0, n = 0;
	int w;

	while (off < len) {
		size_t next = utf8_next(s, len, off, &w);
		cr_assert_gt(next, off);
		if (n < max)
			widths[n] = w;
		n++;
		off = next;
	}
	return n;
}

Test(utf8, decode_accepts_valid_and_rejects_invalid)
{
	uint32_t cp;

	cr_assert_eq(utf8_decode("A", 1, &cp), 1);
	cr_assert_eq(cp, 'A');
	cr_assert_eq(utf8_decode("\xc3\xa9", 2, &cp), 2);
	cr_assert_eq(cp, 0xe9);
	cr_assert_eq(utf8_decode("\xe4\xb8\xad", 3, &cp), 3);
	cr_assert_eq(cp, 0x4e2d);
	cr_assert_eq(utf8_decode("\xf0\x9f\x91\x8d", 4, &cp), 4);
	cr_assert_eq(cp, 0x1f44d);
	const char *bad[] = {"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80",
	    "\xed\xa0\x80", "\xf0\x80\x80\x80", "\xf4\x90\x80\x80",
	    "\xf5\x80\x80\x80", "\xff", "\x80", "\xe4\xb8", "\xe4\x41\x41"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(
		    utf8_decode(bad[i], strlen(bad[i]), &cp), 1, "case %zu", i);
		cr_assert_eq(cp, UTF8_REPLACEMENT, "case %zu", i);
		cr_assert_not(
		    utf8_valid(bad[i], strlen(bad[i])), "case %zu", i);
	}
	/* A truncated buffer never reads past len. */
	cr_assert_eq(utf8_decode("\xe4\xb8\xad", 2, &cp), 1);
	cr_assert_eq(utf8_decode("", 0, &cp), 0);
}

Test(utf8, encode_decode_round_trip_every_scalar)
{
	char out[4];
	uint32_t cp, back;
	size_t n;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = utf8_encode(cp, out);
		if (cp >= 0xd800 && cp <= 0xdfff) {
			cr_assert_eq(n, 0);
			continue;
		}
		cr_assert_gt(n, 0);
		if (utf8_decode(out, n, &back) != n || back != cp)
			cr_assert_fail("round trip of U+%04X", (unsigned)cp);
	}
	cr_assert_eq(utf8_encode(0x110000, out), 0);
}

Test(utf8, cluster_widths)
{
	struct {
		const char *s;
		size_t n;
		int w[4];
	} cases[] = {
	    {"abc", 3, {1, 1, 1}}, {CJK, 2, {2, 2}}, {E_ACUTE "x", 2, {1, 1}},
	    {FAMILY, 1, {2}}, /* one glyph, as wide as its first */
	    {HEART_VS16, 1, {1}}, /* VS16 adds nothing */
	    {HEART, 1, {1}}, {FLAG_DE, 1, {2}}, {FLAG_DE FLAG_FR, 2, {2, 2}},
	    {FLAG_DE RI_F, 2, {2, 1}}, {THUMB_TONE, 1, {4}},
	    {"a" TONE, 2, {1, 2}}, {"\xff\xfe", 2, {1, 1}},
	    {"\xe4\xb8", 2, {1, 1}},
	    {"\xcc\x81"
	     "a",
	        2, {1, 1}}, /* lone mark */
	    {"a\n\xcc\x81", 3, {1, 1, 1}}, /* no mark on '\n' */
	    {"1\xef\xb8\x8f\xe2\x83\xa3", 1, {1}}, /* keycap 1️⃣ */
	    {FAMILY "x", 2, {2, 1}},
	    {"x\xe2\x80\x8d"
	     "y",
	        2, {1, 1}}, /* ZWJ joining nothing */
	    {"\xf0\x9f\xab\xa8", 1, {1}}, /* unknown to libc: U+FFFD */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int w[8];
		size_t len = strlen(cases[i].s);
		size_t n = clusters(cases[i].s, len, w, 8);
		size_t total = 0;

		cr_assert_eq(n, cases[i].n, "case %zu: %zu clusters", i, n);
		for (size_t j = 0; j < n; j++) {
			cr_assert_eq(w[j], cases[i].w[j], "case %zu/%zu", i, j);
			total += (size_t)w[j];
		}
		cr_assert_eq(utf8_width(cases[i].s, len), total, "case %zu", i);
	}
}

/* Every boundary found going forward is found going backward. */
static void
check_prev_matches_next(const char *s, size_t len)
{
	size_t *b = malloc((len + 1) * sizeof *b), n = 0, off = 0;

	cr_assert_not_null(b);
	b[n++] = 0;
	while (off < len) {
		off = utf8_next(s, len, off, NULL);
		b[n++] = off;
	}
	for (size_t i = n - 1; i > 0; i--)
		cr_assert_eq(utf8_prev(s, len, b[i]), b[i - 1],
		    "prev of %zu gave %zu, want %zu", b[i],
		    utf8_prev(s, len, b[i]), b[i - 1]);
	cr_assert_eq(utf8_prev(s, len, 0), 0);
	free(b);
}

Test(utf8, prev_agrees_with_next)
{
	const char *s[] = {"abc", CJK, E_ACUTE E_ACUTE, FAMILY FAMILY,
	    HEART_VS16 HEART, FLAG_DE FLAG_FR RI_F FLAG_DE, THUMB_TONE TONE,
	    "a" TONE TONE, "\xff\x80\xe4\xb8\xad\xe4\xb8", "\n\xcc\x81\n",
	    "x\xe2\x80\x8d"
	    "y",
	    FAMILY "\xe2\x80\x8d" CJK};

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		check_prev_matches_next(s[i], strlen(s[i]));
}

/*
 * The cells ncursesw advances over d: the sum of wcwidth() of its code
 * points, zero-width ones joining the cell before.  d must hold nothing
 * ncursesw would draw otherwise (controls, invalid or unknown).
 */
static size_t
curses_width(const char *d, size_t n)
{
	size_t off = 0, total = 0, k;
	uint32_t cp;
	int w;

	while (off < n) {
		k = utf8_decode(d + off, n - off, &cp);
		cr_assert(!(cp == UTF8_REPLACEMENT && k == 1), "invalid byte");
		w = wcwidth((wchar_t)cp);
		cr_assert_geq(w, 0, "U+%04X can't be drawn", (unsigned)cp);
		cr_assert(cp >= 0x20 && (cp < 0x7f || cp >= 0xa0),
		    "control U+%04X", (unsigned)cp);
		cr_assert(total > 0 || w > 0, "a mark with no base");
		total += (size_t)w;
		off += k;
	}
	return total;
}

/* What utf8_display gives takes exactly utf8_width cells in curses. */
static void
check_display(const char *s, size_t len)
{
	char *d = malloc(UTF8_DISPLAY_MAX(len));
	size_t n;

	cr_assert_not_null(d);
	n = utf8_display(s, len, d);
	cr_assert_leq(n, UTF8_DISPLAY_MAX(len));
	cr_assert_eq(curses_width(d, n), utf8_width(s, len));
	free(d);
}

Test(utf8, display_is_what_ncursesw_measures)
{
	const char *s[] = {"abc", CJK, E_ACUTE, FAMILY, HEART_VS16,
	    FLAG_DE RI_F, THUMB_TONE, "a" TONE, "\xcc\x81x", "\t\x1b[31m",
	    "\xff\xe4\xb8", "\xf0\x9f\xab\xa8 new emoji",
	    "thumbs " THUMB_TONE " heart " HEART_VS16 " family " FAMILY};
	char d[128];
	size_t n;

	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		check_display(s[i], strlen(s[i]));
	/* Exactly what replaces what. */
	n = utf8_display("a\tb\x07\xcc\x81", 6, d);
	cr_assert_eq(n, 10);
	cr_assert(memcmp(d, "a b\xef\xbf\xbd\xc2\xa0\xcc\x81", n) == 0);
	/* A ZWJ sequence: its first element stands in (same width), the
	 * drawer writes the rest past curses; other emoji stay whole. */
	n = utf8_display(FAMILY, strlen(FAMILY), d);
	cr_assert_eq(n, 4);
	cr_assert(memcmp(d, FAMILY, n) == 0);
	cr_assert(utf8_joined(FAMILY, strlen(FAMILY)));
	cr_assert(!utf8_joined(THUMB_TONE, strlen(THUMB_TONE)));
	cr_assert(!utf8_joined("x\xe2\x80\x8d", 4));
	n = utf8_display(THUMB_TONE HEART_VS16, 14, d);
	cr_assert_eq(n, 14);
	cr_assert(memcmp(d, THUMB_TONE HEART_VS16, n) == 0);
	/* A ZWJ joining nothing goes: tmux would fold 'y' into x's cell. */
	n = utf8_display("x\xe2\x80\x8dy", 5, d);
	cr_assert_eq(n, 2);
	cr_assert(memcmp(d, "xy", 2) == 0);
}

Test(utf8, random_bytes_never_break_anything)
{
	/* Bytes biased toward UTF-8 lead/continuation and emoji parts. */
	static const unsigned char pool[] = {'a', ' ', '\n', 0x80, 0xbf, 0xc3,
	    0xcc, 0x81, 0xe2, 0x80, 0x8d, 0xef, 0xb8, 0x8f, 0xf0, 0x9f, 0x87,
	    0xa9, 0x91, 0xa8, 0x8f, 0xbd, 0xe4, 0xb8, 0xad, 0xff};
	char s[512];

	srand(12345);
	for (int round = 0; round < 300; round++) {
		size_t len = (size_t)(rand() % (int)sizeof s);
		for (size_t i = 0; i < len; i++)
			s[i] = (char)pool[rand() % (int)sizeof pool];
		check_prev_matches_next(s, len);
		size_t off = 0;
		int w;
		while (off < len) {
			off = utf8_next(s, len, off, &w);
			cr_assert_geq(w, 1);
		}
		check_display(s, len);
		struct utf8_line *l;
		size_t n = utf8_wrap(s, len, 1 + round % 7, &l);
		cr_assert_geq(n, 1);
		free(l);
	}
}

Test(utf8, cut_never_splits_a_cluster)
{
	const char *s = CJK E_ACUTE FAMILY "x";
	size_t len = strlen(s), w;

	cr_assert_eq(utf8_cut(s, len, 0, &w), 0);
	cr_assert_eq(w, 0);
	cr_assert_eq(utf8_cut(s, len, 1, &w), 0);
	cr_assert_eq(utf8_cut(s, len, 3, &w), 3);
	cr_assert_eq(w, 2);
	cr_assert_eq(utf8_cut(s, len, 5, &w), 9);
	cr_assert_eq(w, 5);
	/* The family is 2 wide: at 6 it does not fit and is not split. */
	cr_assert_eq(utf8_cut(s, len, 6, &w), 9);
	cr_assert_eq(utf8_cut(s, len, 7, &w), 9 + strlen(FAMILY));
	cr_assert_eq(w, 7);
	cr_assert_eq(utf8_cut(s, len, 100, &w), len);
	cr_assert_eq(w, 8);
}

Test(utf8, word_motion)
{
	const char *s = "hello, world  foo";
	size_t len = strlen(s);

	cr_assert_eq(utf8_word_next(s, len, 0), 5);
	cr_assert_eq(utf8_word_next(s, len, 5), 12);
	cr_assert_eq(utf8_word_next(s, len, 12), len);
	cr_assert_eq(utf8_word_next(s, len, len), len);
	cr_assert_eq(utf8_word_prev(s, len, len), 14);
	cr_assert_eq(utf8_word_prev(s, len, 14), 7);
	cr_assert_eq(utf8_word_prev(s, len, 7), 0);
	cr_assert_eq(utf8_word_prev(s, len, 0), 0);

	const char *t = "foo bar-baz  ";
	cr_assert_eq(utf8_space_prev(t, strlen(t), strlen(t)), 4);
	cr_assert_eq(utf8_space_prev(t, strlen(t), 4), 0);
	/* Word motion through CJK and accented letters keeps clusters. */
	const char *u = CJK " caf" E_ACUTE "!";
	size_t ulen = strlen(u);
	cr_assert_eq(utf8_word_next(u, ulen, 0), 6);
	cr_assert_eq(utf8_word_next(u, ulen, 6), ulen - 1);
	cr_assert_eq(utf8_word_prev(u, ulen, ulen), 7);
}

/* Check wrapped lines: widths within cols, clusters whole, gaps blank. */
static void
check_wrap(const char *s, size_t len, int cols, struct utf8_line *l, size_t n)
{
	size_t end = 0;

	for (size_t i = 0; i < n; i++) {
		cr_assert_geq(l[i].off, end);
		for (size_t k = end; k < l[i].off; k++)
			cr_assert(s[k] == ' ' || s[k] == '\n' || s[k] == '\t',
			    "dropped byte %zu is %02x", k, (unsigned char)s[k]);
		cr_assert_eq(
		    utf8_width(s + l[i].off, l[i].len), (size_t)l[i].width);
		if (l[i].width > cols) {
			cr_assert_eq(utf8_next(s, len, l[i].off, NULL),
			    l[i].off + l[i].len,
			    "only a lone cluster may be wider");
		}
		/* The line ends on a cluster boundary. */
		size_t e = l[i].off + l[i].len;
		cr_assert(e == len ||
		    utf8_prev(s, len, utf8_next(s, len, e, NULL)) == e);
		end = e;
	}
	cr_assert_eq(end, len);
}

Test(utf8, wrap_breaks_at_spaces)
{
	const char *s = "the quick brown fox";
	struct utf8_line *l;
	size_t n = utf8_wrap(s, strlen(s), 10, &l);

	cr_assert_eq(n, 2);
	cr_assert_eq(l[0].len, 9);
	cr_assert(memcmp(s + l[1].off, "brown fox", 9) == 0);
	check_wrap(s, strlen(s), 10, l, n);
	free(l);
}

Test(utf8, wrap_cuts_long_words_and_honours_newlines)
{
	const char *s = "aaaaaaaaaaaaaaaaaaaa\nb\n";
	struct utf8_line *l;
	size_t n = utf8_wrap(s, strlen(s), 8, &l);

	cr_assert_eq(n, 5);
	cr_assert_eq(l[0].width, 8);
	cr_assert_eq(l[1].width, 8);
	cr_assert_eq(l[2].width, 4);
	cr_assert_eq(l[3].len, 1);
	cr_assert_eq(l[4].len, 0);
	check_wrap(s, strlen(s), 8, l, n);
	free(l);

	n = utf8_wrap("", 0, 8, &l);
	cr_assert_eq(n, 1);
	cr_assert_eq(l[0].len, 0);
	free(l);
}

Test(utf8, wrap_wide_text)
{
	const char *s = CJK CJK CJK FAMILY HEART_VS16 FLAG_DE E_ACUTE;
	size_t len = strlen(s);
	struct utf8_line *l;

	for (int cols = 1; cols <= 12; cols++) {
		size_t n = utf8_wrap(s, len, cols, &l);
		check_wrap(s, len, cols, l, n);
		/* Only a lone cluster wider than the line may exceed it. */
		for (size_t i = 0; i < n; i++)
			if (utf8_next(s + l[i].off, l[i].len, 0, NULL) !=
			    l[i].len)
				cr_assert_leq(l[i].width, cols);
		free(l);
	}
	/* 5 columns hold two CJK characters, not two and a half. */
	size_t n = utf8_wrap(CJK CJK, 12, 5, &l);
	cr_assert_eq(n, 2);
	cr_assert_eq(l[0].width, 4);
	free(l);
}

Test(utf8, wrap_very_long_line)
{
	static const char *parts[] = {"word ", CJK, FAMILY, " ", E_ACUTE,
	    HEART_VS16, "\n", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
	size_t cap = 1 << 20, len = 0;
	char *s = malloc(cap);
	struct utf8_line *l;

	cr_assert_not_null(s);
	srand(7);
	while (len + 64 < cap) {
		const char *p = parts[rand() % 8];
		memcpy(s + len, p, strlen(p));
		len += strlen(p);
	}
	size_t n = utf8_wrap(s, len, 80, &l);
	cr_assert_gt(n, len / 80 / 4);
	check_wrap(s, len, 80, l, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_leq(l[i].width, 80);
	free(l);
	cr_assert_eq(utf8_width(s, utf8_cut(s, len, 1000, NULL)) <= 1000, 1);
	free(s);
}
