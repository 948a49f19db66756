/*
 * Tests for tui/layout.c: every size from 1x1 to 300x100 gives rectangles
 * inside the screen that do not overlap and, when the screen is big
 * enough, cover it; plus the sizes people actually use.
 */
#include <criterion/criterion.h>

#include "layout.h"

static long
area(const struct layout_rect *r)
{
	return (long)r->w * r->h;
}

/* Cells two rectangles share. */
static long
overlap(const struct layout_rect *a, const struct layout_rect *b)
{
	int x0 = a->x > b->x ? a->x : b->x;
	int y0 = a->y > b->y ? a->y : b->y;
	int x1 = a->x + a->w < b->x + b->w ? a->x + a->w : b->x + b->w;
	int y1 = a->y + a->h < b->y + b->h ? a->y + a->h : b->y + b->h;

	if (x1 <= x0 || y1 <= y0)
		return 0;
	return (long)(x1 - x0) * (y1 - y0);
}

static void
check(int cols, int rows, int show_list, int input_rows)
{
	struct layout l;
	const struct layout_rect *r[5];
	long total = 0;

	layout_compute(cols, rows, show_list, input_rows, &l);
	r[0] = &l.list;
	r[1] = &l.sep;
	r[2] = &l.chat;
	r[3] = &l.status;
	r[4] = &l.input;
	for (int i = 0; i < 5; i++) {
		if (r[i]->x < 0 || r[i]->y < 0 || r[i]->w < 0 || r[i]->h < 0 ||
		    r[i]->x + r[i]->w > cols || r[i]->y + r[i]->h > rows)
			cr_assert_fail(
			    "%dx%d list=%d in=%d: rect %d (%d,%d %dx%d)"
			    " outside",
			    cols, rows, show_list, input_rows, i, r[i]->x,
			    r[i]->y, r[i]->w, r[i]->h);
		for (int j = i + 1; j < 5; j++)
			if (overlap(r[i], r[j]) != 0)
				cr_assert_fail("%dx%d: rects %d and %d overlap",
				    cols, rows, i, j);
		total += area(r[i]);
	}
	if (cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS) {
		if (!l.too_small || total != 0)
			cr_assert_fail("%dx%d should be too small", cols, rows);
		return;
	}
	if (l.too_small || total != (long)cols * rows)
		cr_assert_fail("%dx%d list=%d in=%d: %ld of %ld cells covered",
		    cols, rows, show_list, input_rows, total,
		    (long)cols * rows);
	if (l.chat.h < LAYOUT_CHAT_MIN_ROWS || l.chat.w < 1 ||
	    l.status.h != 1 || l.status.w != cols || l.input.h < 1 ||
	    l.input.h > LAYOUT_INPUT_MAX_ROWS ||
	    (input_rows >= 1 && l.input.h > input_rows))
		cr_assert_fail("%dx%d list=%d in=%d: chat %dx%d input %d", cols,
		    rows, show_list, input_rows, l.chat.w, l.chat.h, l.input.h);
	/* Bottom to top: input at the bottom, status right above it. */
	if (l.input.y + l.input.h != rows || l.status.y + 1 != l.input.y)
		cr_assert_fail("%dx%d: input/status misplaced", cols, rows);
	if ((l.list.w > 0) != (show_list && cols >= LAYOUT_LIST_MIN_COLS))
		cr_assert_fail("%dx%d list=%d: list width %d", cols, rows,
		    show_list, l.list.w);
}

Test(layout, every_size_is_sane)
{
	static const int inputs[] = {0, 1, 2, 5, 100};

	for (int cols = 1; cols <= 300; cols++)
		for (int rows = 1; rows <= 100; rows++)
			for (int s = 0; s < 2; s++)
				for (int i = 0; i < 5; i++)
					check(cols, rows, s, inputs[i]);
}

Test(layout, negative_and_zero_sizes_are_too_small)
{
	struct layout l;

	layout_compute(0, 0, 1, 1, &l);
	cr_assert(l.too_small);
	layout_compute(-5, 40, 1, 1, &l);
	cr_assert(l.too_small);
	cr_assert_eq(l.chat.w, 0);
	layout_compute(10, 4, 1, 1, &l);
	cr_assert(l.too_small);
}

Test(layout, classic_80x24)
{
	struct layout l;

	layout_compute(80, 24, 1, 1, &l);
	cr_assert_not(l.too_small);
	cr_assert_eq(l.list.w, 20);
	cr_assert_eq(l.sep.x, 20);
	cr_assert_eq(l.chat.x, 21);
	cr_assert_eq(l.chat.w, 59);
	cr_assert_eq(l.chat.h, 22);
	cr_assert_eq(l.status.y, 22);
	cr_assert_eq(l.input.y, 23);
	/* Three lines of input take three rows from the chat pane. */
	layout_compute(80, 24, 1, 3, &l);
	cr_assert_eq(l.input.h, 3);
	cr_assert_eq(l.chat.h, 20);
	/* A huge paste is capped. */
	layout_compute(80, 24, 1, 500, &l);
	cr_assert_eq(l.input.h, LAYOUT_INPUT_MAX_ROWS);
}

Test(layout, narrow_and_small_screens)
{
	struct layout l;

	layout_compute(50, 24, 1, 1, &l);
	cr_assert_eq(
	    l.list.w, 0, "list hides below %d columns", LAYOUT_LIST_MIN_COLS);
	cr_assert_eq(l.chat.w, 50);
	layout_compute(LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS, 1, 4, &l);
	cr_assert_not(l.too_small);
	cr_assert_eq(l.input.h, 1);
	cr_assert_eq(l.chat.h, LAYOUT_CHAT_MIN_ROWS);
	layout_compute(300, 100, 1, 2, &l);
	cr_assert_eq(l.list.w, LAYOUT_LIST_MAX_WIDTH);
	cr_assert_eq(l.chat.w, 300 - LAYOUT_LIST_MAX_WIDTH - 1);
}
