/*
 * noid — input-line: the message/command editor as a pure model.
 *
 * The buffer is always valid UTF-8 without NUL bytes, and the cursor is
 * always a byte offset on a cluster boundary (utf8.h), so no key can
 * split a character.  Keys are semantic operations; the ncurses layer
 * maps KEY_* codes to them and input_op_from_char() maps control and
 * Alt- characters the way readline does (with ncurses in nonl() mode,
 * so Enter is '\r' and Ctrl-J '\n').  Edits to a recalled history entry
 * are dropped when moving away from it; the line being typed is kept.
 * Nothing here draws:
 * input_line_view() says which bytes are visible and where the cursor
 * is, given the width and rows the layout gives the input line.
 *
 * Copyright (C) 2026 the noid authors.  AGPL-3.0-or-later.
 */
#ifndef NOID_INPUT_LINE_H
#define NOID_INPUT_LINE_H

#include <stddef.h>
#include <stdint.h>

/* Longest text the line holds; inserts past it are cut (TOOBIG). */
#define INPUT_LINE_MAX (64 * 1024)
/* History entries kept; the oldest goes first. */
#define INPUT_HISTORY_MAX 500
/* Most rows input_line_view() describes. */
#define INPUT_VIEW_MAX_ROWS 16

enum input_op {
	INPUT_OP_NONE,
	INPUT_OP_HOME, /* Ctrl-A, Home: start of the line */
	INPUT_OP_END, /* Ctrl-E, End: end of the line */
	INPUT_OP_LEFT, /* Ctrl-B, Left: one character back */
	INPUT_OP_RIGHT, /* Ctrl-F, Right: one character forward */
	INPUT_OP_WORD_LEFT, /* Alt-B */
	INPUT_OP_WORD_RIGHT, /* Alt-F */
	INPUT_OP_BACKSPACE, /* Backspace, Ctrl-H */
	INPUT_OP_DELETE, /* Delete, Ctrl-D */
	INPUT_OP_KILL_END, /* Ctrl-K: kill to the end of the line */
	INPUT_OP_KILL_START, /* Ctrl-U: kill to the start of the line */
	INPUT_OP_KILL_WORD_BACK, /* Ctrl-W: kill the blank-delimited word */
	INPUT_OP_KILL_WORD_FWD, /* Alt-D: kill to the end of the word */
	INPUT_OP_YANK, /* Ctrl-Y: insert the last kill */
	INPUT_OP_YANK_POP, /* Alt-Y after a yank: an older kill */
	INPUT_OP_UP, /* Up, Ctrl-P: line above, else history */
	INPUT_OP_DOWN, /* Down, Ctrl-N: line below, else history */
	INPUT_OP_NEWLINE, /* Alt-Enter, Ctrl-J: insert a line break */
	INPUT_OP_COMPLETE, /* Tab */
	INPUT_OP_SUBMIT /* Enter */
};

/* What an operation did, so the caller can redraw, beep or send. */
enum input_result {
	INPUT_UNCHANGED, /* nothing to do (the caller may beep) */
	INPUT_CHANGED, /* text, cursor or view changed */
	INPUT_SUBMIT /* Enter: call input_line_submit() */
};

/*
 * Completion candidates: words that replace the buffer's bytes
 * [start, cursor).  A completer fills it with input_completion_add.
 */
struct input_completion {
	size_t start;
	char **words;
	size_t n;
};

/* Gives candidates for the text before cursor; arg is the caller's. */
typedef void (*input_complete_cb)(void *arg, const char *buf, size_t len,
    size_t cursor, struct input_completion *out);

/* One visible row: bytes [off, off + len) drawn from column 0. */
struct input_row {
	size_t off;
	size_t len;
};

struct input_view {
	int nrows; /* rows used, 1..max_rows */
	struct input_row rows[INPUT_VIEW_MAX_ROWS];
	int cursor_row; /* 0..nrows-1 */
	int cursor_col; /* 0..width-1 */
	int more_left; /* the cursor's row is scrolled right */
	int more_right; /* the cursor's row goes on past the width */
	int more_above; /* lines above the first row are hidden */
	int more_below; /* lines below the last row are hidden */
};

struct input_line;

/* Add a copy of word to c. */
void input_completion_add(struct input_completion *c, const char *word);
/* Free c's words and empty it. */
void input_completion_free(struct input_completion *c);

/* A new empty line (caller frees with input_line_free). */
struct input_line *input_line_create(void);
void input_line_free(struct input_line *il);

/* The text (NUL-terminated, owned by il) and its length. */
const char *input_line_text(const struct input_line *il, size_t *len);
/* The cursor's byte offset. */
size_t input_line_cursor(const struct input_line *il);
/* Number of lines the text has (1 + newlines), for the layout. */
int input_line_rows(const struct input_line *il);

/*
 * Insert typed or pasted text at the cursor.  CR LF and CR become LF,
 * tabs and newlines stay, other controls and NUL go, invalid UTF-8
 * becomes U+FFFD.  Returns NOID_ERR_TOOBIG when the text was cut at
 * INPUT_LINE_MAX (what fitted is inserted), else 0.
 */
int input_line_insert(struct input_line *il, const char *s, size_t len);

/* Replace the text (cursor to its end); same rules as insert. */
int input_line_set_text(struct input_line *il, const char *s, size_t len);

/* Apply one editing operation. */
enum input_result input_line_op(struct input_line *il, enum input_op op);

/*
 * Take the text for sending: returns it (caller frees), adds it to the
 * history when not blank or a repeat of the last entry, and clears the
 * line.
 */
char *input_line_submit(struct input_line *il);

/* Set the Tab completer (NULL for none). */
void input_line_set_completer(
    struct input_line *il, input_complete_cb cb, void *arg);
/* The candidates of the last Tab that had several; NULL when none. */
const struct input_completion *input_line_candidates(
    const struct input_line *il);

/*
 * What to draw in a box of width columns and up to max_rows rows: keeps
 * the cursor visible, scrolling its row sideways and the rows
 * vertically, with stable scroll positions between calls.
 */
void input_line_view(
    struct input_line *il, int width, int max_rows, struct input_view *v);

/*
 * The operation readline gives a character: a control character, or
 * any character typed with Alt (Escape prefix) when alt is set.
 * INPUT_OP_NONE for plain text.
 */
enum input_op input_op_from_char(uint32_t ch, int alt);

#endif
