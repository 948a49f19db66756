/*
 * Tests for tui/input-line.c: every editing key, kill ring, history,
 * multi-line, completion and the view, with CJK, emoji and combining
 * marks; the cursor and deletion must never split a character.
 */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "input-line.h"
#include "utf8.h"

#define FAMILY                                                                 \
	"\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"             \
	"\xf0\x9f\x91\xa7"
#define E_ACUTE "e\xcc\x81"
#define NI_HAO "\xe4\xbd\xa0\xe5\xa5\xbd" /* 你好 */
#define SHI_JIE "\xe4\xb8\x96\xe7\x95\x8c" /* 世界 */
#define FLAG_DE "\xf0\x9f\x87\xa9\xf0\x9f\x87\xaa"
#define HEART_VS16 "\xe2\x9d\xa4\xef\xb8\x8f"

static struct input_line *il;

static void
setup(void)
{
	cr_assert_not_null(setlocale(LC_CTYPE, "C.UTF-8"));
	il = input_line_create();
}

static void
teardown(void)
{
	input_line_free(il);
}

TestSuite(input, .init = setup, .fini = teardown);

static void
type(const char *s)
{
	cr_assert_eq(input_line_insert(il, s, strlen(s)), 0);
}

static void
expect(const char *text, size_t cursor)
{
	size_t len;
	const char *t = input_line_text(il, &len);

	cr_assert_eq(len, strlen(text), "text \"%s\", want \"%s\"", t, text);
	cr_assert_str_eq(t, text);
	cr_assert_eq(input_line_cursor(il), cursor, "cursor %zu, want %zu",
	    input_line_cursor(il), cursor);
}

static enum input_result
op(enum input_op o)
{
	return input_line_op(il, o);
}

static int
is_boundary(const char *s, size_t len, size_t off)
{
	return off == 0 || off == len ||
	    utf8_next(s, len, utf8_prev(s, len, off), NULL) == off;
}

Test(input, insert_cleans_text)
{
	static const char raw[] = "a\0b\x1b"
	                          "c\r\nd\re\tf\xff";

	cr_assert_eq(input_line_insert(il, raw, sizeof raw - 1), 0);
	expect("abc\nd\ne\tf\xef\xbf\xbd", 12);
	cr_assert_eq(input_line_rows(il), 3);
}

Test(input, left_right_step_over_whole_clusters)
{
	const char *s = "a" NI_HAO E_ACUTE FAMILY FLAG_DE HEART_VS16 "z";
	size_t len = strlen(s), want[16], n = 0, off = 0;

	type(s);
	while (off < len) {
		want[n++] = off;
		off = utf8_next(s, len, off, NULL);
	}
	want[n++] = len;
	for (size_t i = n; i-- > 0;) {
		cr_assert_eq(input_line_cursor(il), want[i]);
		cr_assert_eq(op(INPUT_OP_LEFT),
		    i == 0 ? INPUT_UNCHANGED : INPUT_CHANGED);
	}
	for (size_t i = 1; i < n; i++) {
		op(INPUT_OP_RIGHT);
		cr_assert_eq(input_line_cursor(il), want[i]);
	}
	cr_assert_eq(op(INPUT_OP_RIGHT), INPUT_UNCHANGED);
}

Test(input, backspace_and_delete_remove_whole_clusters)
{
	type("x" FAMILY E_ACUTE NI_HAO);
	op(INPUT_OP_BACKSPACE);
	expect("x" FAMILY E_ACUTE "\xe4\xbd\xa0", 1 + strlen(FAMILY) + 3 + 3);
	op(INPUT_OP_BACKSPACE);
	op(INPUT_OP_BACKSPACE);
	expect("x" FAMILY, 1 + strlen(FAMILY));
	op(INPUT_OP_HOME);
	op(INPUT_OP_RIGHT);
	cr_assert_eq(op(INPUT_OP_DELETE), INPUT_CHANGED);
	expect("x", 1);
	cr_assert_eq(op(INPUT_OP_DELETE), INPUT_UNCHANGED);
	op(INPUT_OP_HOME);
	cr_assert_eq(op(INPUT_OP_BACKSPACE), INPUT_UNCHANGED);
	expect("x", 0);
}

Test(input, inserting_a_base_before_a_lone_mark_keeps_cursor_outside)
{
	type("\xcc\x81"); /* a lone combining mark */
	op(INPUT_OP_HOME);
	type("e");
	/* "e" and the mark are now one character; the cursor is after it. */
	expect(E_ACUTE, 3);
}

Test(input, home_end_on_multi_line_text)
{
	type("first");
	op(INPUT_OP_NEWLINE);
	type("second");
	op(INPUT_OP_HOME);
	expect("first\nsecond", 6);
	op(INPUT_OP_END);
	cr_assert_eq(input_line_cursor(il), 12);
	cr_assert_eq(input_line_rows(il), 2);
}

Test(input, kill_and_yank)
{
	type("hello world");
	for (int i = 0; i < 6; i++)
		op(INPUT_OP_LEFT);
	op(INPUT_OP_KILL_END);
	expect("hello", 5);
	op(INPUT_OP_YANK);
	expect("hello world", 11);
	op(INPUT_OP_KILL_START);
	expect("", 0);
	op(INPUT_OP_YANK);
	expect("hello world", 11);
	cr_assert_eq(op(INPUT_OP_KILL_END), INPUT_UNCHANGED);
}

Test(input, consecutive_kills_accumulate)
{
	type("one two three");
	op(INPUT_OP_KILL_WORD_BACK);
	op(INPUT_OP_KILL_WORD_BACK);
	expect("one ", 4);
	op(INPUT_OP_YANK);
	expect("one two three", 13);
}

Test(input, yank_pop_cycles_older_kills)
{
	type("aaa bbb");
	op(INPUT_OP_KILL_WORD_BACK); /* "bbb" */
	op(INPUT_OP_LEFT); /* breaks the kill sequence */
	op(INPUT_OP_KILL_WORD_BACK); /* "aaa" */
	expect(" ", 0);
	op(INPUT_OP_END);
	op(INPUT_OP_YANK);
	expect(" aaa", 4);
	op(INPUT_OP_YANK_POP);
	expect(" bbb", 4);
	op(INPUT_OP_YANK_POP);
	expect(" aaa", 4);
	op(INPUT_OP_LEFT);
	cr_assert_eq(op(INPUT_OP_YANK_POP), INPUT_UNCHANGED);
}

Test(input, word_keys)
{
	type("foo bar baz");
	op(INPUT_OP_WORD_LEFT);
	cr_assert_eq(input_line_cursor(il), 8);
	op(INPUT_OP_WORD_LEFT);
	cr_assert_eq(input_line_cursor(il), 4);
	op(INPUT_OP_KILL_WORD_FWD);
	expect("foo  baz", 4);
	op(INPUT_OP_WORD_RIGHT);
	cr_assert_eq(input_line_cursor(il), 8);
	op(INPUT_OP_YANK);
	expect("foo  bazbar", 11);
}

Test(input, word_keys_with_wide_text)
{
	type(NI_HAO " " SHI_JIE " caf" E_ACUTE);
	op(INPUT_OP_KILL_WORD_BACK);
	expect(NI_HAO " " SHI_JIE " ", 14);
	op(INPUT_OP_WORD_LEFT);
	cr_assert_eq(input_line_cursor(il), 7);
	op(INPUT_OP_KILL_WORD_FWD);
	expect(NI_HAO "  ", 7);
}

Test(input, history_keeps_the_line_being_edited)
{
	type("first");
	cr_assert_eq(op(INPUT_OP_SUBMIT), INPUT_SUBMIT);
	free(input_line_submit(il));
	type("second");
	free(input_line_submit(il));
	type("second"); /* a repeat is not stored twice */
	free(input_line_submit(il));
	type("   "); /* nor is a blank line */
	free(input_line_submit(il));
	type("draft");
	op(INPUT_OP_UP);
	expect("second", 6);
	op(INPUT_OP_UP);
	expect("first", 5);
	cr_assert_eq(op(INPUT_OP_UP), INPUT_UNCHANGED);
	op(INPUT_OP_DOWN);
	expect("second", 6);
	op(INPUT_OP_DOWN);
	expect("draft", 5);
	cr_assert_eq(op(INPUT_OP_DOWN), INPUT_UNCHANGED);
}

Test(input, submit_returns_text_and_clears)
{
	type("a");
	op(INPUT_OP_NEWLINE);
	type(NI_HAO);
	char *s = input_line_submit(il);
	cr_assert_str_eq(s, "a\n" NI_HAO);
	free(s);
	expect("", 0);
}

Test(input, up_down_move_between_lines_first)
{
	type("abcdef");
	free(input_line_submit(il));
	type(NI_HAO NI_HAO); /* 8 columns */
	op(INPUT_OP_NEWLINE);
	type("xyz");
	op(INPUT_OP_LEFT); /* column 2 */
	op(INPUT_OP_UP);
	/* Column 2 in the line above is after the first CJK character. */
	expect(NI_HAO NI_HAO "\nxyz", 3);
	op(INPUT_OP_DOWN);
	cr_assert_eq(input_line_cursor(il), 12 + 1 + 2);
	op(INPUT_OP_UP);
	op(INPUT_OP_UP); /* from the first line: history */
	expect("abcdef", 6);
}

Test(input, paste_keeps_newlines_and_cuts_at_the_limit)
{
	size_t n = 10 * 1024, len;
	char *big = xmalloc(INPUT_LINE_MAX + 16);

	for (size_t i = 0; i < n; i++)
		big[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	cr_assert_eq(input_line_insert(il, big, n), 0);
	cr_assert_eq(memcmp(input_line_text(il, &len), big, n), 0);
	cr_assert_eq(len, n);
	cr_assert_eq(input_line_rows(il), (int)(n / 64) + 1);
	input_line_set_text(il, "", 0);
	/* Emoji up to past the limit: cut on a character boundary. */
	for (size_t i = 0; i + 4 <= INPUT_LINE_MAX + 16; i += 4)
		memcpy(big + i, "\xf0\x9f\x91\x8d", 4);
	cr_assert_eq(input_line_insert(il, "x", 1), 0);
	cr_assert_eq(
	    input_line_insert(il, big, INPUT_LINE_MAX + 16), NOID_ERR_TOOBIG);
	const char *t = input_line_text(il, &len);
	cr_assert_leq(len, INPUT_LINE_MAX);
	cr_assert_gt(len, INPUT_LINE_MAX - 8);
	cr_assert(utf8_valid(t, len));
	free(big);
}

/* Candidates: command names starting with the word before the cursor. */
static void
complete_cmds(void *arg, const char *buf, size_t len, size_t cursor,
    struct input_completion *out)
{
	const char **names = arg;

	(void)len;
	out->start = 0;
	for (size_t i = 0; names[i] != NULL; i++)
		if (strncmp(names[i], buf, cursor) == 0)
			input_completion_add(out, names[i]);
}

Test(input, completion_prefix_then_cycle)
{
	static const char *names[] = {
	    "/connect", "/contact", "/help", "/h\xc3\xa9", "/h\xc3\xa8", NULL};

	input_line_set_completer(il, complete_cmds, names);
	type("/co");
	cr_assert_eq(op(INPUT_OP_COMPLETE), INPUT_CHANGED);
	expect("/con", 4);
	cr_assert_eq(input_line_candidates(il)->n, 2);
	op(INPUT_OP_COMPLETE);
	expect("/connect", 8);
	cr_assert_eq(input_line_candidates(il)->n, 2);
	op(INPUT_OP_COMPLETE);
	expect("/contact", 8);
	op(INPUT_OP_COMPLETE);
	expect("/connect", 8);
	op(INPUT_OP_END);
	cr_assert_null(input_line_candidates(il));

	input_line_set_text(il, "/hel", 4);
	op(INPUT_OP_COMPLETE);
	expect("/help ", 6);

	input_line_set_text(il, "/x", 2);
	cr_assert_eq(op(INPUT_OP_COMPLETE), INPUT_UNCHANGED);
	expect("/x", 2);

	/* The common prefix of "/hé" and "/hè" stops before the accent. */
	input_line_set_text(il, "/h", 2);
	names[2] = "/zzz";
	op(INPUT_OP_COMPLETE);
	expect("/h\xc3\xa9", 4);
}

Test(input, view_scrolls_sideways_to_keep_the_cursor)
{
	struct input_view v;

	type("0123456789abcdefghij");
	input_line_view(il, 10, 3, &v);
	cr_assert_eq(v.nrows, 1);
	cr_assert_eq(v.cursor_col, 9);
	cr_assert_eq(v.rows[0].off, 11);
	cr_assert_eq(v.rows[0].len, 9);
	cr_assert(v.more_left);
	cr_assert_not(v.more_right);
	op(INPUT_OP_HOME);
	input_line_view(il, 10, 3, &v);
	cr_assert_eq(v.cursor_col, 0);
	cr_assert_eq(v.rows[0].off, 0);
	cr_assert_eq(v.rows[0].len, 10);
	cr_assert(v.more_right);
	/* Moving right inside the view does not scroll. */
	op(INPUT_OP_RIGHT);
	input_line_view(il, 10, 3, &v);
	cr_assert_eq(v.rows[0].off, 0);
	cr_assert_eq(v.cursor_col, 1);
}

Test(input, view_with_wide_characters)
{
	struct input_view v;
	const char *t;
	size_t len;

	type(NI_HAO NI_HAO NI_HAO FAMILY);
	for (int width = 1; width <= 12; width++) {
		op(INPUT_OP_END);
		for (int step = 0; step < 9; step++) {
			input_line_view(il, width, 1, &v);
			t = input_line_text(il, &len);
			cr_assert_lt(v.cursor_col, width > 1 ? width : 2);
			cr_assert(is_boundary(t, len, v.rows[0].off));
			cr_assert(
			    is_boundary(t, len, v.rows[0].off + v.rows[0].len));
			cr_assert_leq(
			    utf8_width(t + v.rows[0].off, v.rows[0].len),
			    (size_t)width);
			cr_assert_eq(utf8_width(t + v.rows[0].off,
			                 input_line_cursor(il) - v.rows[0].off),
			    (size_t)v.cursor_col);
			op(INPUT_OP_LEFT);
		}
	}
}

Test(input, view_scrolls_rows)
{
	struct input_view v;

	type("l0\nl1\nl2\nl3\nl4");
	input_line_view(il, 20, 2, &v);
	cr_assert_eq(v.nrows, 2);
	cr_assert_eq(v.cursor_row, 1);
	cr_assert_eq(v.rows[0].off, 9);
	cr_assert_eq(v.rows[1].off, 12);
	cr_assert(v.more_above);
	cr_assert_not(v.more_below);
	for (int i = 0; i < 4; i++)
		op(INPUT_OP_UP);
	input_line_view(il, 20, 2, &v);
	cr_assert_eq(v.cursor_row, 0);
	cr_assert_eq(v.rows[0].off, 0);
	cr_assert_eq(v.rows[1].len, 2);
	cr_assert(v.more_below);
	cr_assert_not(v.more_above);
}

Test(input, random_editing_keeps_invariants)
{
	static const char *bits[] = {"a", " ", NI_HAO, E_ACUTE, FAMILY, FLAG_DE,
	    HEART_VS16, "\xcc\x81", "\xf0\x9f\x87\xa9", "\n", "\xff", "word "};
	struct input_view v;
	const char *t;
	size_t len;

	srand(99);
	for (int i = 0; i < 5000; i++) {
		if (rand() % 3 == 0)
			type(bits[rand() % 12]);
		else
			op((enum input_op)(1 + rand() % INPUT_OP_COMPLETE));
		if (rand() % 200 == 0)
			free(input_line_submit(il));
		t = input_line_text(il, &len);
		cr_assert_eq(strlen(t), len);
		cr_assert(utf8_valid(t, len));
		cr_assert(is_boundary(t, len, input_line_cursor(il)),
		    "step %d: cursor %zu inside a character", i,
		    input_line_cursor(il));
		int width = 1 + rand() % 12;
		input_line_view(il, width, 1 + rand() % 4, &v);
		struct input_row *r = &v.rows[v.cursor_row];
		cr_assert_leq(r->off, input_line_cursor(il));
		cr_assert_leq(input_line_cursor(il), r->off + r->len);
		cr_assert_eq(
		    utf8_width(t + r->off, input_line_cursor(il) - r->off),
		    (size_t)v.cursor_col);
		cr_assert_lt(v.cursor_col, width > 1 ? width : 1);
		for (int k = 0; k < v.nrows; k++)
			cr_assert_leq(
			    utf8_width(t + v.rows[k].off, v.rows[k].len),
			    (size_t)width);
	}
}

Test(input, readline_key_map)
{
	cr_assert_eq(input_op_from_char(0x01, 0), INPUT_OP_HOME);
	cr_assert_eq(input_op_from_char(0x05, 0), INPUT_OP_END);
	cr_assert_eq(input_op_from_char(0x02, 0), INPUT_OP_LEFT);
	cr_assert_eq(input_op_from_char(0x06, 0), INPUT_OP_RIGHT);
	cr_assert_eq(input_op_from_char(0x0b, 0), INPUT_OP_KILL_END);
	cr_assert_eq(input_op_from_char(0x15, 0), INPUT_OP_KILL_START);
	cr_assert_eq(input_op_from_char(0x17, 0), INPUT_OP_KILL_WORD_BACK);
	cr_assert_eq(input_op_from_char(0x19, 0), INPUT_OP_YANK);
	cr_assert_eq(input_op_from_char(0x7f, 0), INPUT_OP_BACKSPACE);
	cr_assert_eq(input_op_from_char('\r', 0), INPUT_OP_SUBMIT);
	cr_assert_eq(input_op_from_char('\n', 0), INPUT_OP_NEWLINE);
	cr_assert_eq(input_op_from_char('\t', 0), INPUT_OP_COMPLETE);
	cr_assert_eq(input_op_from_char('b', 1), INPUT_OP_WORD_LEFT);
	cr_assert_eq(input_op_from_char('f', 1), INPUT_OP_WORD_RIGHT);
	cr_assert_eq(input_op_from_char('d', 1), INPUT_OP_KILL_WORD_FWD);
	cr_assert_eq(input_op_from_char('\r', 1), INPUT_OP_NEWLINE);
	cr_assert_eq(input_op_from_char('x', 0), INPUT_OP_NONE);
	cr_assert_eq(input_op_from_char('x', 1), INPUT_OP_NONE);
}
