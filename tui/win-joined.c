/*
 * win-joined: ZWJ sequences written past curses.
 *
 * ncursesw gives every element of a ZWJ sequence (a family, a flag with
 * a profession) its own cells, while tmux and most terminals draw the
 * sequence as one glyph as wide as its first element (utf8.h).  So the
 * drawers hand curses only the first element, a placeholder of the
 * right width, and note here where the whole sequence goes; after each
 * doupdate() the notes are written straight to the terminal with the
 * terminal's own cursor addressing, between save and restore cursor so
 * curses' idea of the cursor (and attributes) stays true.  Every redraw
 * starts afresh, so a placeholder curses repaints is covered again.
 */
#include "client.h"

#include <curses.h>
#include <string.h>
#include <term.h>
#include <unistd.h>

/* This pass's sequences: cursor moves and the text, ready to write. */
static struct buf win_joined;

/* Forget the sequences of the last pass (a redraw starts). */
void
win_joined_reset(void)
{
	buf_reset(&win_joined);
}

/* Note that the ZWJ sequence s (len bytes) goes at (y, x). */
void
win_joined_add(int y, int x, const char *s, size_t len)
{
	const char *cup;

	if (cursor_address == NULL || save_cursor == NULL ||
	    restore_cursor == NULL)
		return; /* the placeholder stays: still the right width */
	if ((cup = tiparm(cursor_address, y, x)) == NULL)
		return;
	buf_put(&win_joined, cup, strlen(cup));
	buf_put(&win_joined, s, len);
}

/* Write the noted sequences over their placeholders (after doupdate). */
void
win_joined_flush(void)
{
	struct buf b;
	ssize_t n;
	size_t off = 0;

	if (win_joined.len == 0)
		return;
	buf_init(&b);
	buf_put(&b, save_cursor, strlen(save_cursor));
	buf_put(&b, win_joined.data, win_joined.len);
	buf_put(&b, restore_cursor, strlen(restore_cursor));
	while (off < b.len) {
		n = write(STDOUT_FILENO, b.data + off, b.len - off);
		if (n <= 0)
			break; /* best effort: the placeholders are drawn */
		off += (size_t)n;
	}
	buf_free(&b);
}
