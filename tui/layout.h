/*
 * noid — layout: where each pane goes, as a pure function of the size.
 *
 * SIGWINCH only sets a flag; the next loop pass calls layout_compute()
 * with the new size and redraws every pane in the rectangles it gives.
 * Nothing here touches the terminal, so every size can be tested.
 *
 *   +------+-+--------------------+
 *   | list |sep| chat             |   list hidden when narrow or off
 *   +------+-+--------------------+
 *   | status bar                  |
 *   | input (1..LAYOUT_INPUT_MAX_ROWS rows, grows with the text)
 *   +-----------------------------+
 *
 * Below LAYOUT_MIN_COLS x LAYOUT_MIN_ROWS the result is "too small" and
 * every rectangle is empty: the caller shows a "terminal too small"
 * screen instead.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_LAYOUT_H
#define NOID_LAYOUT_H

#define LAYOUT_MIN_COLS 20
#define LAYOUT_MIN_ROWS 5
#define LAYOUT_CHAT_MIN_ROWS 3 /* the input line never squeezes more */
#define LAYOUT_LIST_MIN_COLS 60 /* narrower: the list pane hides */
#define LAYOUT_LIST_MIN_WIDTH 16
#define LAYOUT_LIST_MAX_WIDTH 32
#define LAYOUT_INPUT_MAX_ROWS 8

/* A rectangle of cells; w == 0 or h == 0 means "not shown". */
struct layout_rect {
	int x;
	int y;
	int w;
	int h;
};

struct layout {
	int too_small;
	struct layout_rect list; /* conversations and requests */
	struct layout_rect sep; /* one column between list and chat */
	struct layout_rect chat;
	struct layout_rect status;
	struct layout_rect input;
};

/*
 * Compute the layout for a cols x rows screen.  show_list asks for the
 * conversation list; input_rows is how many rows the input text wants
 * (input_line_rows()), capped to leave the chat pane room.
 */
void layout_compute(
    int cols, int rows, int show_list, int input_rows, struct layout *l);

#endif
