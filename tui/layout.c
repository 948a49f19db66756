/*
 * layout: pane rectangles from the screen size (see layout.h).
 */
#include "layout.h"

#include <string.h>

/* Set a rectangle. */
static void
layout_set(struct layout_rect *r, int x, int y, int w, int h)
{
	r->x = x;
	r->y = y;
	r->w = w;
	r->h = h;
}

void
layout_compute(
    int cols, int rows, int show_list, int input_rows, struct layout *l)
{
	int input_h, cap, top_h, list_w;

	memset(l, 0, sizeof *l);
	if (cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS) {
		l->too_small = 1;
		return;
	}
	/* The input grows to a third of the screen, never past the cap. */
	cap = rows / 3;
	if (cap > LAYOUT_INPUT_MAX_ROWS)
		cap = LAYOUT_INPUT_MAX_ROWS;
	if (cap > rows - 1 - LAYOUT_CHAT_MIN_ROWS)
		cap = rows - 1 - LAYOUT_CHAT_MIN_ROWS;
	input_h = input_rows;
	if (input_h > cap)
		input_h = cap;
	if (input_h < 1)
		input_h = 1;
	top_h = rows - 1 - input_h;
	layout_set(&l->input, 0, rows - input_h, cols, input_h);
	layout_set(&l->status, 0, top_h, cols, 1);

	if (!show_list || cols < LAYOUT_LIST_MIN_COLS) {
		layout_set(&l->chat, 0, 0, cols, top_h);
		return;
	}
	list_w = cols / 4;
	if (list_w < LAYOUT_LIST_MIN_WIDTH)
		list_w = LAYOUT_LIST_MIN_WIDTH;
	if (list_w > LAYOUT_LIST_MAX_WIDTH)
		list_w = LAYOUT_LIST_MAX_WIDTH;
	layout_set(&l->list, 0, 0, list_w, top_h);
	layout_set(&l->sep, list_w, 0, 1, top_h);
	layout_set(&l->chat, list_w + 1, 0, cols - list_w - 1, top_h);
}
